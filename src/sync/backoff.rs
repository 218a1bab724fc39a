//! When to try again: exponential backoff with jitter, honouring Ottu's `Retry-After`.
//! Pure arithmetic over an injected random source, so schedules are tested without sleeping.

use crate::limits::{BACKOFF_BASE_MS, BACKOFF_CEILING_MS};
use crate::sources::Random;

/// Delay before attempt `attempt + 1` after `attempt` attempts failed transiently:
/// `base · 2^(attempt-1)` capped at the ceiling, then "equal jitter" (a uniform pick in
/// the upper half) so many clients do not retry in lockstep. At least `retry_after_ms`.
pub fn delay_ms(attempt: u32, retry_after_ms: Option<u64>, random: &dyn Random) -> u64 {
    let exponent = attempt.saturating_sub(1).min(30);
    let full = BACKOFF_BASE_MS
        .saturating_mul(1u64 << exponent)
        .min(BACKOFF_CEILING_MS);
    let half = full / 2;
    let jittered = half + random.next_u64() % (full - half + 1);
    jittered.max(retry_after_ms.unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::SplitMix;

    struct Fixed(u64);
    impl Random for Fixed {
        fn next_u64(&self) -> u64 {
            self.0
        }
    }

    #[test]
    fn doubles_up_to_the_ceiling_with_jitter_in_the_upper_half() {
        let low = Fixed(0);
        let high = Fixed(u64::MAX);
        assert_eq!(delay_ms(1, None, &low), BACKOFF_BASE_MS / 2);
        assert_eq!(delay_ms(2, None, &low), BACKOFF_BASE_MS);
        assert_eq!(delay_ms(3, None, &low), BACKOFF_BASE_MS * 2);
        assert_eq!(delay_ms(40, None, &low), BACKOFF_CEILING_MS / 2);
        let random = SplitMix::seeded(7);
        for attempt in 1..20 {
            let full = (BACKOFF_BASE_MS << (attempt - 1)).min(BACKOFF_CEILING_MS);
            let d = delay_ms(attempt, None, &random);
            assert!(d >= full / 2 && d <= full, "attempt {attempt}: {d}");
        }
        assert!(delay_ms(1, None, &high) <= BACKOFF_BASE_MS);
    }

    #[test]
    fn retry_after_is_a_floor() {
        let low = Fixed(0);
        assert_eq!(delay_ms(1, Some(2_000), &low), 2_000);
        assert_eq!(
            delay_ms(10, Some(1), &low),
            (BACKOFF_BASE_MS << 9).min(BACKOFF_CEILING_MS) / 2
        );
    }

    #[test]
    fn the_same_seed_replays_the_same_schedule() {
        let a: Vec<u64> = (1..10)
            .map(|n| delay_ms(n, None, &SplitMix::seeded(3)))
            .collect();
        let b: Vec<u64> = (1..10)
            .map(|n| delay_ms(n, None, &SplitMix::seeded(3)))
            .collect();
        assert_eq!(a, b);
    }
}
