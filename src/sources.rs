//! Time and ids are passed in: the clock and the tracking-key source are small traits
//! so tests can freeze time and replay a run exactly.

use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use crate::model::TrackingKey;

pub trait Clock: Send + Sync {
    /// Milliseconds since the Unix epoch, UTC.
    fn now_ms(&self) -> i64;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
    }
}

/// A clock that only moves when told to.
pub struct FixedClock(AtomicI64);

impl FixedClock {
    pub fn new(now_ms: i64) -> FixedClock {
        FixedClock(AtomicI64::new(now_ms))
    }

    pub fn advance_ms(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

pub trait KeySource: Send + Sync {
    /// A tracking key never handed out before.
    fn tracking_key(&self) -> TrackingKey;
}

/// Random (v4) UUIDs: unique across machines without coordination.
pub struct RandomKeys;

impl KeySource for RandomKeys {
    fn tracking_key(&self) -> TrackingKey {
        TrackingKey::new_random()
    }
}

/// Keys `00000000-0000-4000-8000-000000000001`, `...0002`, ... for reproducible tests.
pub struct SequentialKeys(Mutex<u128>);

impl SequentialKeys {
    pub fn new() -> SequentialKeys {
        SequentialKeys(Mutex::new(0))
    }
}

impl Default for SequentialKeys {
    fn default() -> Self {
        SequentialKeys::new()
    }
}

impl KeySource for SequentialKeys {
    fn tracking_key(&self) -> TrackingKey {
        // A poisoned counter only means another test thread panicked; keep counting.
        let mut n = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *n += 1;
        TrackingKey(Uuid::from_u128(
            0x0000_0000_0000_4000_8000_0000_0000_0000 | *n,
        ))
    }
}

/// RFC 3339 in UTC with milliseconds, e.g. `2026-11-25T10:00:00.123Z`.
pub fn format_ms(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| format!("@{ms}ms"))
}

/// Randomness for backoff jitter; passed in so a test can replay a schedule exactly.
pub trait Random: Send + Sync {
    fn next_u64(&self) -> u64;
}

/// SplitMix64: tiny, fast, good enough for jitter (never for keys or secrets).
pub struct SplitMix(std::sync::atomic::AtomicU64);

impl SplitMix {
    pub fn seeded(seed: u64) -> SplitMix {
        SplitMix(std::sync::atomic::AtomicU64::new(seed))
    }

    /// Seeded from the clock and the process id: different per run.
    pub fn from_entropy() -> SplitMix {
        let now = OffsetDateTime::now_utc().unix_timestamp_nanos() as u64;
        SplitMix::seeded(now ^ (u64::from(std::process::id()) << 32))
    }
}

impl Random for SplitMix {
    fn next_u64(&self) -> u64 {
        let mut z = self
            .0
            .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
            .wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc_timestamps() {
        assert_eq!(format_ms(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_ms(1_764_064_800_123), "2025-11-25T10:00:00.123Z");
    }

    #[test]
    fn sequential_keys_are_distinct_and_reproducible() {
        let keys = SequentialKeys::new();
        let a = keys.tracking_key();
        let b = keys.tracking_key();
        assert_ne!(a, b);
        assert_eq!(a.to_string(), "00000000-0000-4000-8000-000000000001");
    }
}
