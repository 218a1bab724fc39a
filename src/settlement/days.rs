//! Business days in Kuwait: Sunday to Thursday. Friday and Saturday are the weekend (since
//! 2007), so an acquirer never settles on them. Public holidays are not modelled.

use time::{Date, Duration, Weekday};

/// Friday or Saturday.
pub fn is_weekend(day: Date) -> bool {
    matches!(day.weekday(), Weekday::Friday | Weekday::Saturday)
}

/// The day `days` business days after `day` (`days = 0`: `day` itself).
pub fn add_business_days(day: Date, days: u32) -> Date {
    let mut at = day;
    let mut left = days;
    while left > 0 {
        match at.checked_add(Duration::days(1)) {
            Some(next) => at = next,
            None => return at,
        }
        if !is_weekend(at) {
            left -= 1;
        }
    }
    at
}

/// Business days in `(from, to]`: how many business days after `from` `to` is (0 when
/// `to <= from`). Thursday → Sunday is 1.
pub fn business_days_between(from: Date, to: Date) -> u32 {
    if to <= from {
        return 0;
    }
    let span = (to - from).whole_days();
    // Whole weeks have 5 business days each; walk the rest.
    let weeks = span / 7;
    let mut count = weeks * 5;
    let mut at = from + Duration::days(weeks * 7);
    while at < to {
        at += Duration::days(1);
        if !is_weekend(at) {
            count += 1;
        }
    }
    u32::try_from(count).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn thursday_plus_one_is_sunday() {
        // 2025-12-04 is a Thursday.
        assert_eq!(
            add_business_days(date!(2025 - 12 - 04), 1),
            date!(2025 - 12 - 07)
        );
        assert_eq!(
            add_business_days(date!(2025 - 12 - 04), 0),
            date!(2025 - 12 - 04)
        );
        assert_eq!(
            add_business_days(date!(2025 - 12 - 05), 1),
            date!(2025 - 12 - 07)
        );
        assert_eq!(
            business_days_between(date!(2025 - 12 - 04), date!(2025 - 12 - 07)),
            1
        );
        assert_eq!(
            business_days_between(date!(2025 - 12 - 04), date!(2025 - 12 - 05)),
            0
        );
        assert_eq!(
            business_days_between(date!(2025 - 12 - 07), date!(2025 - 12 - 04)),
            0
        );
    }

    #[test]
    fn between_inverts_add_over_many_days() {
        let start = date!(2025 - 11 - 01);
        for offset in 0..40 {
            let from = start + Duration::days(offset);
            for n in 0..25 {
                let to = add_business_days(from, n);
                assert!(n == 0 || !is_weekend(to));
                assert_eq!(business_days_between(from, to), n, "{from} + {n}");
            }
        }
    }
}
