//! Exact money for the sandbox: integer minor units bound to a [`Currency`] that knows its
//! decimals. This is deliberately a second, independent implementation of Ottu's amount rules
//! (Daftar has its own): parsing follows the wire pattern `^-?\d{0,13}(?:\.\d{0,3})?$` and the
//! currency's minor units, formatting always writes exactly the currency's decimals.
//! No float ever holds an amount.

use std::fmt;

use thiserror::Error;

/// Amounts are counted in the currency's minor units (fils, halalas, yen).
pub type Minor = i64;

/// The wire pattern allows at most 13 digits before the point ...
pub const MAX_INTEGER_DIGITS: usize = 13;
/// ... and at most 3 after it, whatever the currency.
pub const MAX_WIRE_DECIMALS: usize = 3;

/// The currencies CONTRACT.md lists, with their minor units.
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

/// An ISO 4217 currency with its number of decimals.
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
    pub const SAR: Currency = Currency {
        code: "SAR",
        decimals: 2,
    };
    pub const JPY: Currency = Currency {
        code: "JPY",
        decimals: 0,
    };

    /// The currency for an ISO code (upper case), if the sandbox knows it.
    pub fn from_code(code: &str) -> Option<Currency> {
        CURRENCIES
            .iter()
            .find(|(c, _)| *c == code)
            .map(|&(code, decimals)| Currency { code, decimals })
    }

    pub fn code(self) -> &'static str {
        self.code
    }

    pub fn decimals(self) -> u32 {
        u32::from(self.decimals)
    }

    /// Every known currency code, comma separated (for error messages).
    pub fn known_codes() -> String {
        CURRENCIES
            .iter()
            .map(|(c, _)| *c)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code)
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code)
    }
}

/// Why an amount string was refused. The messages are the ones the sandbox sends in a
/// field-error map, worded like Django REST framework's (which Ottu runs on).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AmountError {
    #[error("A valid number is required.")]
    NotANumber,
    #[error(
        "Ensure that there are no more than {MAX_INTEGER_DIGITS} digits before the decimal point."
    )]
    TooManyIntegerDigits,
    #[error("Ensure that there are no more than {MAX_WIRE_DECIMALS} decimal places.")]
    TooManyWireDecimals,
    #[error("Ensure that there are no more than {decimals} decimal places for {currency}.")]
    TooPreciseForCurrency { currency: Currency, decimals: u32 },
    #[error("Ensure this value is greater than 0.")]
    NotPositive,
}

/// An amount as written on the wire, checked against the wire pattern but not yet against a
/// currency (the payment's currency is only known once the payment is found).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireAmount {
    negative: bool,
    integer_digits: String,
    fraction_digits: String,
}

impl WireAmount {
    /// Checks `text` against `^-?\d{0,13}(?:\.\d{0,3})?$` and requires at least one digit
    /// (the pattern alone would accept "" and ".", which no decimal parser does).
    pub fn parse(text: &str) -> Result<WireAmount, AmountError> {
        let (negative, unsigned) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (integer, fraction) = match unsigned.split_once('.') {
            Some((i, f)) => (i, f),
            None => (unsigned, ""),
        };
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(integer) || !all_digits(fraction) || integer.len() + fraction.len() == 0 {
            return Err(AmountError::NotANumber);
        }
        if integer.len() > MAX_INTEGER_DIGITS {
            return Err(AmountError::TooManyIntegerDigits);
        }
        if fraction.len() > MAX_WIRE_DECIMALS {
            return Err(AmountError::TooManyWireDecimals);
        }
        Ok(WireAmount {
            negative,
            integer_digits: integer.to_owned(),
            fraction_digits: fraction.to_owned(),
        })
    }

    /// The amount in `currency`'s minor units. More written decimals than the currency has is
    /// an error even when they are zeros ("12.50" for JPY): CONTRACT.md says never send them.
    pub fn to_minor(&self, currency: Currency) -> Result<Minor, AmountError> {
        let decimals = currency.decimals() as usize;
        if self.fraction_digits.len() > decimals {
            return Err(AmountError::TooPreciseForCurrency {
                currency,
                decimals: currency.decimals(),
            });
        }
        let mut digits = String::with_capacity(MAX_INTEGER_DIGITS + MAX_WIRE_DECIMALS);
        digits.push_str(&self.integer_digits);
        digits.push_str(&self.fraction_digits);
        for _ in self.fraction_digits.len()..decimals {
            digits.push('0');
        }
        // At most 13 + 3 digits: always fits an i64 (about 9.2e18).
        let magnitude: Minor = if digits.is_empty() {
            0
        } else {
            digits.parse().map_err(|_| AmountError::NotANumber)?
        };
        Ok(if self.negative { -magnitude } else { magnitude })
    }

    /// [`to_minor`](Self::to_minor) for amounts that must be strictly positive.
    pub fn to_positive_minor(&self, currency: Currency) -> Result<Minor, AmountError> {
        let minor = self.to_minor(currency)?;
        if minor <= 0 {
            return Err(AmountError::NotPositive);
        }
        Ok(minor)
    }
}

/// Writes `minor` with exactly the currency's decimals: 12500 KWD → "12.500", 1200 JPY → "1200".
pub fn format_minor(minor: Minor, currency: Currency) -> String {
    let decimals = currency.decimals();
    let sign = if minor < 0 { "-" } else { "" };
    let magnitude = minor.unsigned_abs();
    if decimals == 0 {
        return format!("{sign}{magnitude}");
    }
    let scale = 10u64.pow(decimals);
    format!(
        "{sign}{}.{:0width$}",
        magnitude / scale,
        magnitude % scale,
        width = decimals as usize
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minor(text: &str, currency: Currency) -> Result<Minor, AmountError> {
        WireAmount::parse(text)?.to_minor(currency)
    }

    #[test]
    fn parses_within_the_currency_decimals() {
        assert_eq!(minor("12.5", Currency::KWD), Ok(12_500));
        assert_eq!(minor("12.500", Currency::KWD), Ok(12_500));
        assert_eq!(minor("0.001", Currency::KWD), Ok(1));
        assert_eq!(minor(".5", Currency::SAR), Ok(50));
        assert_eq!(minor("5.", Currency::SAR), Ok(500));
        assert_eq!(minor("1200", Currency::JPY), Ok(1200));
        assert_eq!(minor("-3.25", Currency::SAR), Ok(-325));
        assert_eq!(
            minor("9999999999999.999", Currency::KWD),
            Ok(9_999_999_999_999_999)
        );
    }

    #[test]
    fn refuses_what_the_pattern_or_the_currency_forbids() {
        assert_eq!(minor("", Currency::KWD), Err(AmountError::NotANumber));
        assert_eq!(minor(".", Currency::KWD), Err(AmountError::NotANumber));
        assert_eq!(minor("1e3", Currency::KWD), Err(AmountError::NotANumber));
        assert_eq!(minor("+1", Currency::KWD), Err(AmountError::NotANumber));
        assert_eq!(minor(" 1", Currency::KWD), Err(AmountError::NotANumber));
        assert_eq!(
            minor("1.2345", Currency::KWD),
            Err(AmountError::TooManyWireDecimals)
        );
        assert_eq!(
            minor("12345678901234", Currency::KWD),
            Err(AmountError::TooManyIntegerDigits)
        );
        assert_eq!(
            minor("12.50", Currency::JPY),
            Err(AmountError::TooPreciseForCurrency {
                currency: Currency::JPY,
                decimals: 0
            })
        );
        assert_eq!(
            minor("1.000", Currency::SAR),
            Err(AmountError::TooPreciseForCurrency {
                currency: Currency::SAR,
                decimals: 2
            })
        );
        assert_eq!(
            WireAmount::parse("0.000")
                .unwrap()
                .to_positive_minor(Currency::KWD),
            Err(AmountError::NotPositive)
        );
    }

    #[test]
    fn formats_with_exactly_the_currency_decimals() {
        assert_eq!(format_minor(12_500, Currency::KWD), "12.500");
        assert_eq!(format_minor(5, Currency::KWD), "0.005");
        assert_eq!(format_minor(1_050, Currency::SAR), "10.50");
        assert_eq!(format_minor(1_200, Currency::JPY), "1200");
        assert_eq!(format_minor(-325, Currency::SAR), "-3.25");
        assert_eq!(format_minor(0, Currency::KWD), "0.000");
    }

    #[test]
    fn format_then_parse_round_trips() {
        for currency in [Currency::KWD, Currency::SAR, Currency::JPY] {
            for value in [0, 1, 9, 10, 99, 100, 12_345, 1_000_000_007] {
                assert_eq!(minor(&format_minor(value, currency), currency), Ok(value));
            }
        }
    }
}
