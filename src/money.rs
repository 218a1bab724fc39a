//! Exact money: an [`Amount`] is integer minor units bound to a [`Currency`] that knows
//! its own decimals. Parsing and formatting live only here, so no other module ever
//! sees a float or an over-precise amount.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Ottu's wire pattern allows at most 13 integer digits (`^-?\d{0,13}(?:\.\d{0,3})?$`).
pub const MAX_INTEGER_DIGITS: usize = 13;

/// The currencies Ottu documents, with their minor units (CONTRACT.md, "Amounts and currencies").
const CURRENCIES: &[(&str, u8)] = &[
    ("KWD", 3),
    ("BHD", 3),
    ("OMR", 3),
    ("JOD", 3),
    ("IQD", 3),
    ("LYD", 3),
    ("TND", 3),
    ("SAR", 2),
    ("AED", 2),
    ("QAR", 2),
    ("EGP", 2),
    ("USD", 2),
    ("EUR", 2),
    ("GBP", 2),
    ("JPY", 0),
];

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum MoneyError {
    #[error("unknown currency '{value}': allowed are {allowed}")]
    UnknownCurrency { value: String, allowed: String },
    #[error(
        "'{value}' is not a plain decimal amount: write digits with an optional '.' and up to {decimals} decimals, e.g. {example}"
    )]
    NotADecimal {
        value: String,
        decimals: u32,
        example: String,
    },
    #[error("'{value}' has more decimals than {currency} allows: at most {decimals}")]
    TooPrecise {
        value: String,
        currency: Currency,
        decimals: u32,
    },
    #[error("'{value}' has more than {max} digits before the decimal point")]
    TooManyDigits { value: String, max: usize },
    #[error("'{value}' must be greater than zero")]
    NotPositive { value: String },
    #[error("amounts in {left} and {right} cannot be combined")]
    CurrencyMismatch { left: Currency, right: Currency },
    #[error("amount overflow while adding {left} and {right}")]
    Overflow { left: String, right: String },
}

/// An ISO 4217 currency Ottu supports, with its number of decimals.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency {
    code: &'static str,
    decimals: u8,
}

impl Currency {
    pub const KWD: Currency = Currency {
        code: "KWD",
        decimals: 3,
    };

    /// Every supported currency, in the order of CONTRACT.md.
    pub fn all() -> impl Iterator<Item = Currency> {
        CURRENCIES
            .iter()
            .map(|&(code, decimals)| Currency { code, decimals })
    }

    pub fn from_code(text: &str) -> Result<Currency, MoneyError> {
        Currency::all()
            .find(|c| c.code == text)
            .ok_or_else(|| MoneyError::UnknownCurrency {
                value: text.to_string(),
                allowed: CURRENCIES
                    .iter()
                    .map(|(code, _)| *code)
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    pub fn code(self) -> &'static str {
        self.code
    }

    pub fn decimals(self) -> u32 {
        u32::from(self.decimals)
    }

    fn minor_per_unit(self) -> i64 {
        10_i64.pow(self.decimals())
    }

    fn example(self) -> String {
        Amount::from_minor(12 * self.minor_per_unit() + self.minor_per_unit() / 2, self).to_string()
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code)
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code)
    }
}

impl FromStr for Currency {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Currency::from_code(s)
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code)
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = String::deserialize(d)?;
        Currency::from_code(&code).map_err(serde::de::Error::custom)
    }
}

/// An exact amount: integer minor units (fils for KWD) of one currency.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Amount {
    minor: i64,
    currency: Currency,
}

impl Amount {
    pub fn from_minor(minor: i64, currency: Currency) -> Amount {
        Amount { minor, currency }
    }

    pub fn zero(currency: Currency) -> Amount {
        Amount { minor: 0, currency }
    }

    /// Parses a plain decimal (`12`, `12.5`, `-3.250`) in `currency`: at most
    /// [`MAX_INTEGER_DIGITS`] integer digits and at most the currency's decimals.
    /// Rejects exponents, separators, spaces, signs other than a leading `-`, NaN.
    pub fn parse(text: &str, currency: Currency) -> Result<Amount, MoneyError> {
        let not_decimal = || MoneyError::NotADecimal {
            value: text.to_string(),
            decimals: currency.decimals(),
            example: currency.example(),
        };
        // A merchant typing in Arabic may use Arabic-Indic digits and decimal separator;
        // errors still quote what was typed.
        let ascii = to_ascii_digits(text);
        let (negative, unsigned) = match ascii.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, &*ascii),
        };
        let (int_part, frac_part) = match unsigned.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (unsigned, None),
        };
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if int_part.is_empty() || !all_digits(int_part) {
            return Err(not_decimal());
        }
        if let Some(f) = frac_part
            && (f.is_empty() || !all_digits(f))
        {
            return Err(not_decimal());
        }
        let significant_int = int_part.trim_start_matches('0');
        if significant_int.len() > MAX_INTEGER_DIGITS {
            return Err(MoneyError::TooManyDigits {
                value: text.to_string(),
                max: MAX_INTEGER_DIGITS,
            });
        }
        let frac = frac_part.unwrap_or("");
        let decimals = currency.decimals() as usize;
        // Trailing zeros beyond the currency's decimals still claim a precision it does not have.
        if frac.len() > decimals {
            return Err(MoneyError::TooPrecise {
                value: text.to_string(),
                currency,
                decimals: currency.decimals(),
            });
        }
        // At most 13 + 3 digits: always fits in i64 (< 9.2e18).
        let mut minor: i64 = 0;
        for b in significant_int.bytes().chain(frac.bytes()) {
            minor = minor * 10 + i64::from(b - b'0');
        }
        minor *= 10_i64.pow((decimals - frac.len()) as u32);
        Ok(Amount {
            minor: if negative { -minor } else { minor },
            currency,
        })
    }

    /// Like [`Amount::parse`], and the amount must be greater than zero (what every
    /// operation amount and payment amount needs).
    pub fn parse_positive(text: &str, currency: Currency) -> Result<Amount, MoneyError> {
        let amount = Amount::parse(text, currency)?;
        if amount.minor <= 0 {
            return Err(MoneyError::NotPositive {
                value: text.to_string(),
            });
        }
        Ok(amount)
    }

    pub fn minor(self) -> i64 {
        self.minor
    }

    pub fn currency(self) -> Currency {
        self.currency
    }

    pub fn is_positive(self) -> bool {
        self.minor > 0
    }

    pub fn to_decimal(self) -> Decimal {
        Decimal::new(self.minor, self.currency.decimals())
    }

    fn same_currency(self, other: Amount) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch {
                left: self.currency,
                right: other.currency,
            })
        }
    }

    pub fn checked_add(self, other: Amount) -> Result<Amount, MoneyError> {
        self.same_currency(other)?;
        let minor = self
            .minor
            .checked_add(other.minor)
            .ok_or_else(|| MoneyError::Overflow {
                left: self.to_string(),
                right: other.to_string(),
            })?;
        Ok(Amount { minor, ..self })
    }

    pub fn checked_sub(self, other: Amount) -> Result<Amount, MoneyError> {
        self.same_currency(other)?;
        let minor = self
            .minor
            .checked_sub(other.minor)
            .ok_or_else(|| MoneyError::Overflow {
                left: self.to_string(),
                right: format!("-{other}"),
            })?;
        Ok(Amount { minor, ..self })
    }

    /// Sums amounts of one currency exactly; an empty sum is zero.
    pub fn sum<I: IntoIterator<Item = Amount>>(
        currency: Currency,
        amounts: I,
    ) -> Result<Amount, MoneyError> {
        amounts
            .into_iter()
            .try_fold(Amount::zero(currency), Amount::checked_add)
    }

    /// The amount with its currency, as people read it: `5.000 KWD`.
    pub fn display_with_currency(self) -> String {
        format!("{self} {}", self.currency)
    }
}

/// Always the currency's decimals: 5 KWD is `5.000`. Matches Ottu's wire pattern.
impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.to_decimal(), f)
    }
}

/// `text` with Arabic-Indic digits (U+0660–0669), Extended Arabic-Indic digits
/// (U+06F0–06F9) and the Arabic decimal separator (U+066B) as their ASCII equivalents;
/// borrowed unchanged when it has none.
fn to_ascii_digits(text: &str) -> Cow<'_, str> {
    let ascii = |c: char| match c {
        '\u{0660}'..='\u{0669}' => char::from_digit(c as u32 - 0x0660, 10),
        '\u{06F0}'..='\u{06F9}' => char::from_digit(c as u32 - 0x06F0, 10),
        '\u{066B}' => Some('.'),
        _ => None,
    };
    if text.chars().any(|c| ascii(c).is_some()) {
        Cow::Owned(text.chars().map(|c| ascii(c).unwrap_or(c)).collect())
    } else {
        Cow::Borrowed(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn kwd(text: &str) -> Result<Amount, MoneyError> {
        Amount::parse(text, Currency::KWD)
    }

    fn cur(code: &str) -> Currency {
        Currency::from_code(code).unwrap()
    }

    #[test]
    fn formats_with_the_currency_decimals() {
        assert_eq!(kwd("5").unwrap().to_string(), "5.000");
        assert_eq!(kwd("5.5").unwrap().to_string(), "5.500");
        assert_eq!(kwd("0.001").unwrap().to_string(), "0.001");
        assert_eq!(kwd("-2.25").unwrap().to_string(), "-2.250");
        assert_eq!(Amount::parse("7", cur("SAR")).unwrap().to_string(), "7.00");
        assert_eq!(Amount::parse("7", cur("JPY")).unwrap().to_string(), "7");
        assert_eq!(kwd("007.100").unwrap().minor(), 7100);
    }

    #[test]
    fn arabic_indic_digits_and_separator_parse_as_their_ascii_equivalents() {
        // Arabic-Indic digits with the Arabic decimal separator (U+066B).
        assert_eq!(
            kwd("\u{0662}\u{066B}\u{0665}").unwrap(),
            kwd("2.5").unwrap()
        );
        assert_eq!(
            kwd("\u{0661}\u{0662}\u{0663}\u{0664}\u{0665}\u{0666}\u{0667}\u{0668}\u{0669}\u{0660}")
                .unwrap()
                .minor(),
            1_234_567_890_000
        );
        // Extended Arabic-Indic (Persian/Urdu) digits, with an ASCII point.
        assert_eq!(
            kwd("\u{06F7}.\u{06F2}\u{06F5}").unwrap(),
            kwd("7.25").unwrap()
        );
        assert_eq!(
            Amount::parse_positive("\u{0661}\u{0660}", cur("SAR"))
                .unwrap()
                .to_string(),
            "10.00"
        );
        // The same checks as ASCII: too precise, not positive, not a decimal; the error
        // quotes what was typed.
        match kwd("\u{0661}\u{066B}\u{0660}\u{0660}\u{0660}\u{0661}") {
            Err(MoneyError::TooPrecise { value, .. }) => {
                assert_eq!(value, "\u{0661}\u{066B}\u{0660}\u{0660}\u{0660}\u{0661}")
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            Amount::parse_positive("\u{0660}", Currency::KWD),
            Err(MoneyError::NotPositive { .. })
        ));
        for text in [
            "\u{066B}\u{0665}",
            "\u{0665}\u{066B}",
            "\u{0665}\u{066C}\u{0660}\u{0660}\u{0660}",
            "\u{0665} ",
        ] {
            assert!(
                matches!(kwd(text), Err(MoneyError::NotADecimal { .. })),
                "{text:?}"
            );
        }
    }

    #[test]
    fn rejects_more_decimals_than_the_currency_has() {
        assert!(matches!(
            kwd("1.0001"),
            Err(MoneyError::TooPrecise { decimals: 3, .. })
        ));
        assert!(matches!(
            Amount::parse("1.001", cur("SAR")),
            Err(MoneyError::TooPrecise { decimals: 2, .. })
        ));
        assert!(matches!(
            Amount::parse("1.0", cur("JPY")),
            Err(MoneyError::TooPrecise { decimals: 0, .. })
        ));
    }

    #[test]
    fn rejects_anything_that_is_not_a_plain_decimal() {
        for bad in [
            "1e3", "1,000", " 5", "5 ", "NaN", "nan", "inf", "", "-", ".", "5.", ".5", "+5", "--5",
            "1.2.3", "0x10", "5.-1",
        ] {
            let err = kwd(bad).unwrap_err();
            assert!(
                matches!(err, MoneyError::NotADecimal { .. }),
                "{bad:?} gave {err:?}"
            );
            assert!(err.to_string().contains("up to 3 decimals"), "{err}");
        }
    }

    #[test]
    fn rejects_more_than_thirteen_integer_digits() {
        assert_eq!(
            kwd("9999999999999.999").unwrap().minor(),
            9_999_999_999_999_999
        );
        assert!(matches!(
            kwd("10000000000000"),
            Err(MoneyError::TooManyDigits { max: 13, .. })
        ));
        // Leading zeros are not digits of the value.
        assert!(kwd("00000000000001").is_ok());
    }

    #[test]
    fn positive_amounts_refuse_zero_and_negatives() {
        for bad in ["0", "0.000", "-1", "-0.001"] {
            assert!(
                matches!(
                    Amount::parse_positive(bad, Currency::KWD),
                    Err(MoneyError::NotPositive { .. })
                ),
                "{bad}"
            );
        }
        assert!(Amount::parse_positive("0.001", Currency::KWD).is_ok());
    }

    #[test]
    fn errors_name_the_value_and_what_is_allowed() {
        let err = kwd("1.2345").unwrap_err().to_string();
        assert_eq!(err, "'1.2345' has more decimals than KWD allows: at most 3");
        let err = Currency::from_code("XYZ").unwrap_err().to_string();
        assert!(err.contains("'XYZ'") && err.contains("KWD, BHD"), "{err}");
        let err = Amount::parse("1e3", cur("SAR")).unwrap_err().to_string();
        assert!(err.contains("'1e3'") && err.contains("e.g. 12.50"), "{err}");
    }

    #[test]
    fn arithmetic_refuses_mixed_currencies_and_overflow() {
        let a = kwd("1").unwrap();
        let b = Amount::parse("1", cur("SAR")).unwrap();
        assert!(matches!(
            a.checked_add(b),
            Err(MoneyError::CurrencyMismatch { .. })
        ));
        let big = Amount::from_minor(i64::MAX, Currency::KWD);
        assert!(matches!(
            big.checked_add(a),
            Err(MoneyError::Overflow { .. })
        ));
        assert_eq!(
            kwd("10").unwrap().checked_sub(kwd("4.5").unwrap()).unwrap(),
            kwd("5.5").unwrap()
        );
    }

    #[test]
    fn currencies_round_trip_through_serde() {
        let json = serde_json::to_string(&Currency::KWD).unwrap();
        assert_eq!(json, "\"KWD\"");
        let back: Currency = serde_json::from_str(&json).unwrap();
        assert_eq!(back, Currency::KWD);
        assert!(serde_json::from_str::<Currency>("\"kwd\"").is_err());
    }

    fn any_currency() -> impl Strategy<Value = Currency> {
        proptest::sample::select(Currency::all().collect::<Vec<_>>())
    }

    proptest! {
        #[test]
        fn format_then_parse_is_identity(minor in -9_999_999_999_999_999i64..=9_999_999_999_999_999i64, c in any_currency()) {
            // Keep within 13 integer digits for every currency's scale.
            let limit = 10_i64.pow(13) * c.minor_per_unit() - 1;
            let minor = minor.clamp(-limit, limit);
            let amount = Amount::from_minor(minor, c);
            let text = amount.to_string();
            prop_assert_eq!(Amount::parse(&text, c).unwrap(), amount);
            // Always the currency's decimals, and always Ottu's wire pattern.
            let frac = text.split_once('.').map(|(_, f)| f.len()).unwrap_or(0);
            prop_assert_eq!(frac as u32, c.decimals());
        }

        #[test]
        fn parse_matches_rust_decimal(int in 0u64..10_000_000_000_000u64, frac in 0u32..1000, digits in 0usize..=3) {
            let frac_text = format!("{frac:03}")[..digits].to_string();
            let text = if digits == 0 { int.to_string() } else { format!("{int}.{frac_text}") };
            let parsed = Amount::parse(&text, Currency::KWD).unwrap();
            let expected = Decimal::from_str(&text).unwrap();
            prop_assert_eq!(parsed.to_decimal(), expected.round_dp(3));
            prop_assert_eq!(parsed.to_decimal().normalize(), expected.normalize());
        }

        #[test]
        fn sums_are_exact(minors in proptest::collection::vec(0i64..1_000_000_000, 0..50)) {
            let amounts: Vec<Amount> = minors.iter().map(|&m| Amount::from_minor(m, Currency::KWD)).collect();
            let total = Amount::sum(Currency::KWD, amounts.iter().copied()).unwrap();
            let decimal_total: Decimal = amounts.iter().map(|a| a.to_decimal()).sum();
            prop_assert_eq!(total.to_decimal(), decimal_total);
            prop_assert_eq!(total.minor(), minors.iter().sum::<i64>());
        }

        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,20}") {
            let _ = Amount::parse(&text, Currency::KWD);
        }
    }
}
