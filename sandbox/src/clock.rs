//! The sandbox's clock and its deterministic identifiers. Time is the machine's clock plus an
//! offset that tests move forward (inquiry throttling, refund settlement) instead of sleeping;
//! identifiers come from the seed and a counter, so a seeded run names things the same way
//! every time.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Milliseconds since the Unix epoch, on the sandbox clock.
pub type EpochMs = i64;

/// How far the sandbox clock may be from the machine's clock, either way: 10 years (of
/// 365.25 days). Enough for any settlement, throttling or report test; far enough from the
/// `i64` limits that no sum of an offset and a wall time overflows or leaves the years
/// RFC 3339 can write.
pub const MAX_CLOCK_OFFSET_MS: i64 = 10 * 36_525 * 24 * 60 * 60 * 1_000 / 100;

/// A clock change that would put the offset out of [`MAX_CLOCK_OFFSET_MS`]; nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{field}: {value} would put the sandbox clock {offset} ms from the machine's clock; \
     the offset must stay within -{max}..={max} ms (10 years)",
    max = MAX_CLOCK_OFFSET_MS
)]
pub struct ClockError {
    /// The input that was refused (`advance_ms`, `offset_ms`, `clock_offset_ms`).
    pub field: &'static str,
    pub value: i64,
    /// The offset it would have made (saturated: the true sum may not fit in an `i64`).
    pub offset: i64,
}

/// Checks that `offset_ms` is a valid clock offset for `field`.
pub fn check_offset(field: &'static str, offset_ms: i64) -> Result<i64, ClockError> {
    if offset_ms
        .checked_abs()
        .is_some_and(|a| a <= MAX_CLOCK_OFFSET_MS)
    {
        Ok(offset_ms)
    } else {
        Err(ClockError {
            field,
            value: offset_ms,
            offset: offset_ms,
        })
    }
}

/// Wall clock plus an adjustable offset.
#[derive(Debug, Default)]
pub struct SandboxClock {
    offset_ms: AtomicI64,
}

impl SandboxClock {
    /// A clock `offset_ms` from the machine's; refused outside [`MAX_CLOCK_OFFSET_MS`].
    pub fn new(offset_ms: i64) -> Result<SandboxClock, ClockError> {
        Ok(SandboxClock {
            offset_ms: AtomicI64::new(check_offset("clock_offset_ms", offset_ms)?),
        })
    }

    pub fn now_ms(&self) -> EpochMs {
        let wall_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        wall_ms.saturating_add(self.offset_ms.load(Ordering::SeqCst))
    }

    pub fn offset_ms(&self) -> i64 {
        self.offset_ms.load(Ordering::SeqCst)
    }

    pub fn set_offset_ms(&self, offset_ms: i64) -> Result<(), ClockError> {
        self.offset_ms
            .store(check_offset("offset_ms", offset_ms)?, Ordering::SeqCst);
        Ok(())
    }

    /// Moves the clock forward (or back, for a negative value); returns the new offset.
    /// Refused, with nothing changed, when the new offset would leave [`MAX_CLOCK_OFFSET_MS`]
    /// (the sum saturates instead of wrapping, so a huge step is refused, never wrapped).
    pub fn advance_ms(&self, delta_ms: i64) -> Result<i64, ClockError> {
        let mut refused = None;
        let moved = self
            .offset_ms
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |offset| {
                let next = offset.saturating_add(delta_ms);
                match check_offset("advance_ms", next) {
                    Ok(next) => Some(next),
                    Err(_) => {
                        refused = Some(next);
                        None
                    }
                }
            });
        match moved {
            Ok(previous) => Ok(previous + delta_ms),
            Err(_) => Err(ClockError {
                field: "advance_ms",
                value: delta_ms,
                offset: refused.unwrap_or(i64::MAX),
            }),
        }
    }
}

/// RFC 3339 in UTC with millisecond precision, e.g. `2026-01-01T00:00:00.000Z`.
pub fn rfc3339(ms: EpochMs) -> String {
    let nanos = i128::from(ms) * 1_000_000;
    let Ok(at) = OffsetDateTime::from_unix_timestamp_nanos(nanos) else {
        return "invalid-time".to_owned();
    };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.millisecond()
    )
}

/// The UTC calendar day of `ms`, as `YYYY-MM-DD`.
pub fn utc_day(ms: EpochMs) -> String {
    rfc3339(ms)[..10].to_owned()
}

/// Parses an RFC 3339 timestamp into epoch milliseconds.
pub fn parse_rfc3339(text: &str) -> Option<EpochMs> {
    let at = OffsetDateTime::parse(text, &Rfc3339).ok()?;
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).ok()
}

/// Parses `YYYY-MM-DD` into the epoch milliseconds of that day's start (UTC).
pub fn parse_day(text: &str) -> Option<EpochMs> {
    if text.len() != 10 {
        return None;
    }
    parse_rfc3339(&format!("{text}T00:00:00Z"))
}

/// SplitMix64: a tiny, well-known mixing function; turns (seed, counter) into well spread bits.
pub fn mix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// What a deterministic identifier is for: keeps the id spaces of different things apart.
#[derive(Debug, Clone, Copy)]
pub enum IdSpace {
    Payment = 1,
    Child = 2,
    Reference = 3,
    Report = 4,
    MonthlyReport = 5,
    Settlement = 6,
}

/// 128 deterministic bits for the `n`-th identifier of `space` under `seed`.
pub fn id_bits(seed: u64, space: IdSpace, n: u64) -> u128 {
    let a = mix64(seed ^ mix64(((space as u64) << 56) ^ n));
    let b = mix64(a ^ 0x5EED_5EED_5EED_5EED);
    (u128::from(a) << 64) | u128::from(b)
}

/// A 32-hex-character session id, like Ottu's.
pub fn session_id(seed: u64, space: IdSpace, n: u64) -> String {
    format!("{:032x}", id_bits(seed, space, n))
}

/// A reference number like `SBX7F3A91C20B4E`.
pub fn reference_number(seed: u64, n: u64) -> String {
    format!("SBX{:012X}", id_bits(seed, IdSpace::Reference, n) >> 80)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_767_225_600_123), "2026-01-01T00:00:00.123Z");
        assert_eq!(
            parse_rfc3339("2026-01-01T00:00:00.123Z"),
            Some(1_767_225_600_123)
        );
        assert_eq!(parse_day("2026-01-01"), Some(1_767_225_600_000));
        assert_eq!(parse_day("2026-1-1"), None);
        assert_eq!(utc_day(1_767_225_600_123), "2026-01-01");
    }

    #[test]
    fn the_clock_moves_with_its_offset() {
        let clock = SandboxClock::new(0).unwrap();
        let before = clock.now_ms();
        assert_eq!(clock.advance_ms(3_600_000), Ok(3_600_000));
        assert!(clock.now_ms() >= before + 3_600_000);
        assert_eq!(clock.offset_ms(), 3_600_000);
    }

    #[test]
    fn the_offset_stays_within_ten_years_and_never_wraps() {
        let clock = SandboxClock::new(0).unwrap();
        assert_eq!(
            clock.advance_ms(MAX_CLOCK_OFFSET_MS),
            Ok(MAX_CLOCK_OFFSET_MS)
        );
        let refused = clock.advance_ms(1).unwrap_err();
        assert_eq!((refused.field, refused.value), ("advance_ms", 1));
        for huge in [i64::MAX, i64::MIN, 999_999_999_999_999] {
            assert!(clock.advance_ms(huge).is_err(), "{huge}");
            assert_eq!(clock.offset_ms(), MAX_CLOCK_OFFSET_MS, "{huge}: unchanged");
        }
        assert!(clock.set_offset_ms(-MAX_CLOCK_OFFSET_MS - 1).is_err());
        assert!(clock.set_offset_ms(i64::MIN).is_err());
        assert_eq!(clock.set_offset_ms(-MAX_CLOCK_OFFSET_MS), Ok(()));
        assert!(SandboxClock::new(i64::MAX).is_err());
        assert!(!rfc3339(clock.now_ms()).contains("invalid"));
        assert!(
            refused.to_string().contains("-315576000000..=315576000000"),
            "{refused}"
        );
    }

    #[test]
    fn ids_are_deterministic_and_distinct() {
        assert_eq!(
            session_id(42, IdSpace::Child, 7),
            session_id(42, IdSpace::Child, 7)
        );
        assert_ne!(
            session_id(42, IdSpace::Child, 7),
            session_id(42, IdSpace::Payment, 7)
        );
        assert_ne!(
            session_id(42, IdSpace::Child, 7),
            session_id(43, IdSpace::Child, 7)
        );
        let ids: std::collections::HashSet<String> = (0..10_000)
            .map(|n| session_id(1, IdSpace::Payment, n))
            .collect();
        assert_eq!(ids.len(), 10_000);
        assert_eq!(reference_number(1, 1).len(), 15);
    }
}
