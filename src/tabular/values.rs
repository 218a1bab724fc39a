//! Lenient readers of the values spreadsheets write: amounts with thousands separators, a
//! currency code or Arabic-Indic digits; times and dates in the orders Ottu, Excel and the
//! Gulf use. Money never passes through a float: the text is cleaned, then parsed exactly
//! by [`Amount::parse`] (an XLSX number reaches here already as its shortest exact text,
//! `reader::cell_text`).

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use time::format_description::well_known::Rfc3339;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};

use super::ValueError;
use crate::money::{Amount, Currency, MoneyError};

/// Excel's day 0 (serial dates count days from 1899-12-30 in the 1900 system, the 1900
/// leap-year bug included).
const EXCEL_EPOCH_DAYS_BEFORE_UNIX: i64 = 25_569;
/// Excel serial days accepted as times: 36,526 (2000-01-01, before any Ottu payment) to
/// 2,958,465 (9999-12-31). A smaller number in a time column is a typo, not a date.
const EXCEL_SERIAL_MIN: i64 = 36_526;
const EXCEL_SERIAL_MAX: i64 = 2_958_465;
const MS_PER_DAY: i64 = 86_400_000;

/// An amount of `currency`, zero or more. Accepts `1,234.500`, ` 12.5 `, `١٢٫٥٠٠`,
/// `KWD 12.500` / `12.500 KWD`, `+5`; trailing zeros past the currency's decimals
/// (`12.5000` from a cell formatted `0.0000`) since the value is still exact. Refuses a
/// negative amount (`-1`, `(12.500)`: use [`parse_signed_amount`]), more significant
/// decimals than the currency has, an exponent, and anything else.
pub fn parse_amount(text: &str, currency: Currency) -> Result<Amount, ValueError> {
    let minor = parse_signed_amount(text, currency)?;
    if minor < 0 {
        return Err(ValueError::Negative {
            value: text.to_string(),
        });
    }
    Ok(Amount::from_minor(minor, currency))
}

/// Like [`parse_amount`], and a negative amount is allowed: `-12.5`, `(12.500)` (the
/// accountants' way), `12.5-`, `−12.5` (U+2212). Returns minor units of `currency`.
pub fn parse_signed_amount(text: &str, currency: Currency) -> Result<i64, ValueError> {
    // The common case first (a report's own `12.500`): digits with at most one point and
    // no more decimals than the currency has, parsed without cleaning.
    let plain = text.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && text.bytes().next().is_some_and(|b| b.is_ascii_digit());
    if plain && let Ok(amount) = Amount::parse(text, currency) {
        return Ok(amount.minor());
    }
    let not_amount = || ValueError::NotAnAmount {
        value: text.to_string(),
        currency: currency.code().to_string(),
    };
    let mut s: String = text
        .chars()
        .map(|c| match c {
            '\u{0660}'..='\u{0669}' => char::from_digit(c as u32 - 0x0660, 10).unwrap_or(c),
            '\u{06F0}'..='\u{06F9}' => char::from_digit(c as u32 - 0x06F0, 10).unwrap_or(c),
            '\u{066B}' => '.',
            '\u{066C}' => ',',
            '\u{2212}' => '-',
            c if is_blank(c) => ' ',
            c => c,
        })
        .collect::<String>()
        .trim()
        .to_string();
    // A currency code before or after the number, in any case.
    let code = currency.code();
    if s.len() > code.len()
        && s.is_char_boundary(code.len())
        && s[..code.len()].eq_ignore_ascii_case(code)
    {
        s = s[code.len()..].trim().to_string();
    } else if s.len() > code.len()
        && s.is_char_boundary(s.len() - code.len())
        && s[s.len() - code.len()..].eq_ignore_ascii_case(code)
    {
        s = s[..s.len() - code.len()].trim().to_string();
    }
    let mut negative = false;
    if let Some(inner) = s.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
        negative = true;
        s = inner.trim().to_string();
    }
    if let Some(rest) = s.strip_prefix('-') {
        negative = !negative;
        s = rest.trim_start().to_string();
    } else if let Some(rest) = s.strip_suffix('-') {
        negative = !negative;
        s = rest.trim_end().to_string();
    } else if let Some(rest) = s.strip_prefix('+') {
        s = rest.trim_start().to_string();
    }
    // A space inside the number groups thousands (`1 000`, French and Arabic locales).
    let s = s.replace(' ', ",");
    let (int_part, frac_part) = match s.split_once('.') {
        Some((i, f)) => (i.to_string(), Some(f)),
        None => (s.clone(), None),
    };
    let int_part = strip_grouping(&int_part).ok_or_else(not_amount)?;
    let mut plain = int_part;
    if let Some(frac) = frac_part {
        if frac.is_empty() || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return Err(not_amount());
        }
        let keep = frac.len().max(currency.decimals() as usize);
        let frac = frac.trim_end_matches('0');
        let frac = &frac[..frac.len().min(keep)];
        if !frac.is_empty() {
            plain.push('.');
            plain.push_str(frac);
        }
    }
    let amount = Amount::parse(&plain, currency).map_err(|e| match e {
        MoneyError::TooPrecise { decimals, .. } => ValueError::TooPrecise {
            value: text.to_string(),
            currency: currency.code().to_string(),
            decimals,
        },
        _ => not_amount(),
    })?;
    Ok(if negative {
        -amount.minor()
    } else {
        amount.minor()
    })
}

/// Spaces a spreadsheet or a locale puts in or around a number.
fn is_blank(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '\u{00A0}' | '\u{202F}' | '\u{2009}' | '\u{200F}' | '\u{200E}'
        )
}

/// Digits with optional `,` grouping in threes (`1,234,567`); `None` if malformed.
fn strip_grouping(int_part: &str) -> Option<String> {
    if int_part.is_empty() {
        return None;
    }
    if !int_part.contains(',') {
        return int_part
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| int_part.to_string());
    }
    let groups: Vec<&str> = int_part.split(',').collect();
    let first_ok = (1..=3).contains(&groups[0].len());
    let rest_ok = groups[1..].iter().all(|g| g.len() == 3);
    let digits = groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_digit()));
    (first_ok && rest_ok && digits).then(|| groups.concat())
}

/// `text` trimmed, with ASCII digits for Arabic-Indic ones.
fn ascii(text: &str) -> String {
    text.trim()
        .chars()
        .map(|c| match c {
            '\u{0660}'..='\u{0669}' => char::from_digit(c as u32 - 0x0660, 10).unwrap_or(c),
            '\u{06F0}'..='\u{06F9}' => char::from_digit(c as u32 - 0x06F0, 10).unwrap_or(c),
            '\u{066B}' => '.',
            '\u{00A0}' => ' ',
            _ => c,
        })
        .collect()
}

/// A point in time as Unix ms (UTC). Accepts RFC 3339 (`2026-11-03T14:22:05+03:00`,
/// `...Z`, fractions); `2026-11-03 14:22:05`, `2026-11-03T14:22`, `2026-11-03` (UTC when
/// no offset is written); `03/11/2026 14:22[:05]` and `3-11-2026` (day first, Ottu's and
/// the Gulf's order), with `AM`/`PM`; an Excel serial day (`45964.5`).
pub fn parse_timestamp(text: &str) -> Result<i64, ValueError> {
    let bad = || ValueError::NotATime {
        value: text.to_string(),
    };
    let s = ascii(text);
    if s.is_empty() {
        return Err(bad());
    }
    if let Ok(t) = OffsetDateTime::parse(&s, &Rfc3339) {
        return Ok(ms_of(t));
    }
    if let Some(ms) = excel_serial_ms(&s) {
        return Ok(ms);
    }
    let (date_text, time_text) = match s.find(['T', ' ']) {
        Some(at) => (&s[..at], s[at + 1..].trim()),
        None => (&s[..], ""),
    };
    let date = date_of(date_text).ok_or_else(bad)?;
    let (time, offset_ms) = if time_text.is_empty() {
        (Time::MIDNIGHT, 0)
    } else {
        time_of(time_text).ok_or_else(bad)?
    };
    Ok(ms_of(PrimitiveDateTime::new(date, time).assume_utc()) - offset_ms)
}

/// A calendar day: `2026-11-03`, `03/11/2026` (day first), an RFC 3339 or other time
/// [`parse_timestamp`] reads (its date as written, not moved to UTC), an Excel serial day.
pub fn parse_date(text: &str) -> Result<Date, ValueError> {
    let bad = || ValueError::NotADate {
        value: text.to_string(),
    };
    let s = ascii(text);
    if let Ok(t) = OffsetDateTime::parse(&s, &Rfc3339) {
        return Ok(t.date());
    }
    if let Some(ms) = excel_serial_ms(&s) {
        return OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
            .map(|t| t.date())
            .map_err(|_| bad());
    }
    let date_text = match s.find(['T', ' ']) {
        Some(at) => &s[..at],
        None => &s[..],
    };
    date_of(date_text).ok_or_else(bad)
}

fn ms_of(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

/// `45964` or `45964.5`: days since Excel's epoch, to the millisecond (exact decimal).
fn excel_serial_ms(s: &str) -> Option<i64> {
    if !s.bytes().all(|b| b.is_ascii_digit() || b == b'.') || s.starts_with('.') {
        return None;
    }
    let days: Decimal = s.parse().ok()?;
    let whole = days.trunc().to_i64()?;
    if !(EXCEL_SERIAL_MIN..=EXCEL_SERIAL_MAX).contains(&whole) {
        return None;
    }
    let ms = (days * Decimal::from(MS_PER_DAY)).round().to_i64()?;
    Some(ms - EXCEL_EPOCH_DAYS_BEFORE_UNIX * MS_PER_DAY)
}

/// `yyyy-mm-dd` (or `/`, `.`), else `dd/mm/yyyy` (or `-`, `.`).
fn date_of(s: &str) -> Option<Date> {
    let parts: Vec<&str> = s.split(['-', '/', '.']).collect();
    if parts.len() != 3
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let (y, m, d) = if parts[0].len() == 4 {
        (parts[0], parts[1], parts[2])
    } else if parts[2].len() == 4 {
        (parts[2], parts[1], parts[0])
    } else {
        return None;
    };
    if m.len() > 2 || d.len() > 2 {
        return None;
    }
    let month = Month::try_from(m.parse::<u8>().ok()?).ok()?;
    Date::from_calendar_date(y.parse().ok()?, month, d.parse().ok()?).ok()
}

/// `14:22`, `14:22:05`, `14:22:05.250`, `2:22 PM`, with an optional `Z` or `±hh:mm`
/// offset; returns the time and the offset in ms.
fn time_of(s: &str) -> Option<(Time, i64)> {
    let mut s = s.trim().to_string();
    let mut pm = None;
    for (suffix, is_pm) in [("PM", true), ("AM", false), ("pm", true), ("am", false)] {
        if let Some(rest) = s.strip_suffix(suffix) {
            pm = Some(is_pm);
            s = rest.trim_end().to_string();
            break;
        }
    }
    let mut offset_ms = 0i64;
    if let Some(rest) = s.strip_suffix('Z') {
        s = rest.to_string();
    } else if let Some(at) = s.rfind(['+', '-']) {
        let (clock, offset) = s.split_at(at);
        let sign = if offset.starts_with('-') { -1 } else { 1 };
        let offset = offset[1..].replace(':', "");
        if offset.len() != 4 || !offset.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let hours: i64 = offset[..2].parse().ok()?;
        let minutes: i64 = offset[2..].parse().ok()?;
        offset_ms = sign * (hours * 60 + minutes) * 60_000;
        s = clock.trim_end().to_string();
    }
    let parts: Vec<&str> = s.split(':').collect();
    if !(2..=3).contains(&parts.len()) {
        return None;
    }
    let num = |p: &str| -> Option<u8> {
        (!p.is_empty() && p.len() <= 2 && p.bytes().all(|b| b.is_ascii_digit()))
            .then(|| p.parse().ok())
            .flatten()
    };
    let mut hour = num(parts[0])?;
    let minute = num(parts[1])?;
    let (second, milli) = match parts.get(2) {
        None => (0, 0),
        Some(sec) => match sec.split_once('.') {
            None => (num(sec)?, 0),
            Some((whole, frac)) => {
                if frac.is_empty() || !frac.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                let digits: String = frac.chars().chain("000".chars()).take(3).collect();
                (num(whole)?, digits.parse::<u16>().ok()?)
            }
        },
    };
    match pm {
        Some(_) if hour == 0 || hour > 12 => return None,
        Some(true) if hour < 12 => hour += 12,
        Some(false) if hour == 12 => hour = 0,
        _ => {}
    }
    Some((
        Time::from_hms_milli(hour, minute, second, milli).ok()?,
        offset_ms,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cur(code: &str) -> Currency {
        Currency::from_code(code).unwrap()
    }

    fn kwd(text: &str) -> Result<i64, ValueError> {
        parse_amount(text, Currency::KWD).map(Amount::minor)
    }

    #[test]
    fn amounts_as_spreadsheets_write_them() {
        assert_eq!(kwd("1,234.500").unwrap(), 1_234_500);
        assert_eq!(kwd(" 12.5 ").unwrap(), 12_500);
        assert_eq!(kwd("١٢٫٥٠٠").unwrap(), 12_500);
        assert_eq!(kwd("١٬٢٣٤٫٥").unwrap(), 1_234_500);
        assert_eq!(kwd("KWD 12.500").unwrap(), 12_500);
        assert_eq!(kwd("12.5 kwd").unwrap(), 12_500);
        assert_eq!(kwd("12.5000").unwrap(), 12_500);
        assert_eq!(kwd("1\u{00A0}000").unwrap(), 1_000_000);
        assert_eq!(kwd("+7").unwrap(), 7_000);
        assert_eq!(kwd("0").unwrap(), 0);
        assert_eq!(parse_amount("1000", cur("JPY")).unwrap().minor(), 1000);
        assert_eq!(parse_amount("10.10", cur("SAR")).unwrap().minor(), 1010);
    }

    #[test]
    fn amounts_refused() {
        for bad in [
            "", "abc", "1e3", "1,23.5", "12,", ".5", "5.", "1.2.3", "USD 5", "NaN", "12 5",
        ] {
            assert!(
                matches!(kwd(bad), Err(ValueError::NotAnAmount { .. })),
                "{bad:?}: {:?}",
                kwd(bad)
            );
        }
        assert!(matches!(
            kwd("12.5001"),
            Err(ValueError::TooPrecise { decimals: 3, .. })
        ));
        assert!(matches!(
            parse_amount("1.5", cur("JPY")),
            Err(ValueError::TooPrecise { decimals: 0, .. })
        ));
        // What an f64 that is not exact in decimal becomes: refused, never rounded.
        assert!(matches!(
            kwd("0.30000000000000004"),
            Err(ValueError::TooPrecise { .. })
        ));
        for negative in ["-1", "(12.500)", "12.5-", "\u{2212}3"] {
            assert!(
                matches!(kwd(negative), Err(ValueError::Negative { .. })),
                "{negative}"
            );
        }
    }

    #[test]
    fn signed_amounts() {
        let k = Currency::KWD;
        assert_eq!(parse_signed_amount("(12.500)", k).unwrap(), -12_500);
        assert_eq!(parse_signed_amount("-1,000", k).unwrap(), -1_000_000);
        assert_eq!(parse_signed_amount("3.1-", k).unwrap(), -3_100);
        assert_eq!(parse_signed_amount("\u{2212}0.250", k).unwrap(), -250);
        assert_eq!(parse_signed_amount("KWD -2", k).unwrap(), -2_000);
        assert_eq!(parse_signed_amount("4", k).unwrap(), 4_000);
        assert!(parse_signed_amount("--4", k).is_err());
    }

    fn ms(rfc: &str) -> i64 {
        ms_of(OffsetDateTime::parse(rfc, &Rfc3339).unwrap())
    }

    #[test]
    fn timestamps() {
        let at = ms("2026-11-03T14:22:05Z");
        assert_eq!(parse_timestamp("2026-11-03T14:22:05Z").unwrap(), at);
        assert_eq!(parse_timestamp("2026-11-03T17:22:05+03:00").unwrap(), at);
        assert_eq!(parse_timestamp("2026-11-03 14:22:05").unwrap(), at);
        assert_eq!(parse_timestamp("2026-11-03T14:22:05").unwrap(), at);
        assert_eq!(parse_timestamp("2026-11-03 17:22:05 +03:00").unwrap(), at);
        assert_eq!(parse_timestamp("03/11/2026 14:22:05").unwrap(), at);
        assert_eq!(parse_timestamp("3/11/2026 2:22:05 PM").unwrap(), at);
        assert_eq!(parse_timestamp("٠٣/١١/٢٠٢٦ ١٤:٢٢:٠٥").unwrap(), at);
        assert_eq!(
            parse_timestamp("2026-11-03 14:22").unwrap(),
            ms("2026-11-03T14:22:00Z")
        );
        assert_eq!(
            parse_timestamp("03/11/2026 14:22").unwrap(),
            ms("2026-11-03T14:22:00Z")
        );
        assert_eq!(
            parse_timestamp("2026-11-03").unwrap(),
            ms("2026-11-03T00:00:00Z")
        );
        assert_eq!(
            parse_timestamp("2026-11-03T14:22:05.250Z").unwrap(),
            at + 250
        );
        // 2026-11-03 is Excel day 46329; .5 is noon.
        assert_eq!(
            parse_timestamp("46329.5").unwrap(),
            ms("2026-11-03T12:00:00Z")
        );
        assert_eq!(
            parse_timestamp("12/12/2026 12:00 AM").unwrap(),
            ms("2026-12-12T00:00:00Z")
        );
        for bad in [
            "",
            "yesterday",
            "2026-13-01",
            "31/02/2026",
            "03/11/26",
            "2026-11-03 25:00",
            "5",
            "13:00 PM",
        ] {
            assert!(
                matches!(parse_timestamp(bad), Err(ValueError::NotATime { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn dates() {
        let d = Date::from_calendar_date(2026, Month::November, 3).unwrap();
        for text in [
            "2026-11-03",
            "03/11/2026",
            "3.11.2026",
            "2026-11-03T00:00:00Z",
            "2026-11-03 09:00",
            "46329",
            "2026/11/03",
        ] {
            assert_eq!(parse_date(text).unwrap(), d, "{text}");
        }
        assert!(matches!(
            parse_date("11/2026"),
            Err(ValueError::NotADate { .. })
        ));
        assert!(matches!(
            parse_date("2026-02-30"),
            Err(ValueError::NotADate { .. })
        ));
    }
}
