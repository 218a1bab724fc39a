//! The acquirer's settlement file for the sandbox's payments: what reached (or left) the
//! merchant's bank account, the way KNET or an MPGS acquirer sends it, so the demo and the
//! tests can play the month end's last step. Ottu has no settlement API; this file comes from
//! the bank, outside Ottu, which is why it is not an Ottu endpoint here either.
//!
//! What is in it (deterministic from the seed and the state):
//! - one line per payment that was paid (state `paid` or `refunded`, not deleted):
//!   `Order No` = the payment's order number, `RRN` = its `reference_number` (the one the
//!   reports carry), `Amount` = its amount, `Fee` = [`FEE_BASIS_POINTS`] (1.5%) of the amount
//!   rounded half up to the currency's decimals, `Net Amount` = amount − fee;
//! - one line per paid capture child of a payment not `paid`/`refunded` (an authorization
//!   captured: the capture is the money; a paid payment's line already covers its captures),
//!   with the capture's reference and its 1.5% fee;
//! - one line per succeeded refund child (`refunded`; queued and rejected ones moved no
//!   money): the amount negative, no fee (acquirers keep the purchase's fee), net = amount;
//! - settled 1 to 3 business days after the payment's (or refund's) UTC day, the count drawn
//!   from the seed and the transaction; Friday and Saturday are Kuwait's weekend, so a line
//!   never settles on them;
//! - one line that matches nothing ([`UNKNOWN_ORDER_NO`], a reference no payment has);
//! - and the newest paid payment left out: it is paid but not (yet) settled.
//!
//! Reached three ways: [`crate::RunningSandbox::settlement_file`] (the app's demo and Rust
//! tests), `GET /_sandbox/settlement` on a running sandbox, and
//! `daftar-sandbox settlement --state FILE --out FILE` on a state file.

use std::collections::HashMap;

use time::{Date, Duration, Weekday};

use crate::clock::{EpochMs, IdSpace, id_bits, mix64, parse_day, utc_day};
use crate::model::{ChildState, OperationKind, PaymentState};
use crate::money::{Currency, Minor, format_minor};
use crate::store::{Db, StoreError};

/// The file's columns: the English labels an acquirer's export uses.
pub const SETTLEMENT_CSV_HEADER: &[&str] = &[
    "Order No",
    "RRN",
    "Amount",
    "Fee",
    "Net Amount",
    "Currency",
    "Settlement Date",
];
/// The acquirer's fee on a purchase: 150 basis points = 1.5%.
pub const FEE_BASIS_POINTS: i64 = 150;
/// The order number of the one line that matches no payment.
pub const UNKNOWN_ORDER_NO: &str = "ORD-NOT-IN-OTTU";
/// The most business days between a transaction and its settlement.
pub const MAX_SETTLEMENT_LAG_DAYS: u64 = 3;

/// What a settlement line stands for (for tests; the file itself does not say).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SettledWhat {
    /// A paid payment, by session id.
    Payment(String),
    /// A refund child, by its own session id.
    Refund(String),
    /// A capture child of an authorization, by its own session id.
    Capture(String),
    /// The line that matches nothing.
    Unknown,
}

/// One line of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettlementLine {
    pub order_no: Option<String>,
    pub reference: String,
    /// Minor units; negative for a refund.
    pub amount_minor: Minor,
    pub fee_minor: Minor,
    pub net_minor: Minor,
    pub currency: String,
    /// `YYYY-MM-DD`.
    pub settled_on: String,
    /// Business days after the transaction's UTC day (1 to [`MAX_SETTLEMENT_LAG_DAYS`]).
    pub lag_days: u64,
    pub what: SettledWhat,
}

/// The settlement file: its lines, the CSV bytes, a file name, and the paid payment left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettlementFile {
    pub file_name: String,
    pub lines: Vec<SettlementLine>,
    /// The paid payment with no line (session id), if there is any paid payment.
    pub unsettled: Option<String>,
    /// UTF-8 CSV (no BOM), `\n` line ends, [`SETTLEMENT_CSV_HEADER`] first.
    pub bytes: Vec<u8>,
}

/// The fee on `amount`: [`FEE_BASIS_POINTS`] of it, rounded half up to a whole minor unit
/// (so to the currency's decimals).
pub fn fee_for(amount: Minor) -> Minor {
    (amount * FEE_BASIS_POINTS + 5_000) / 10_000
}

/// Friday and Saturday: the weekend in Kuwait.
pub fn is_weekend(day: Date) -> bool {
    matches!(day.weekday(), Weekday::Friday | Weekday::Saturday)
}

/// `days` business days after `day` (never on a Friday or Saturday).
pub fn add_business_days(day: Date, days: u64) -> Date {
    let mut at = day;
    let mut left = days;
    while left > 0 {
        at += Duration::days(1);
        if !is_weekend(at) {
            left -= 1;
        }
    }
    at
}

fn day_of(ms: EpochMs) -> Date {
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    at.date()
}

fn iso(day: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        day.year(),
        u8::from(day.month()),
        day.day()
    )
}

/// 1..=3, from the seed and the transaction's session id.
fn lag_for(seed: u64, session_id: &str) -> u64 {
    let h = session_id
        .bytes()
        .fold(0u64, |h, b| mix64(h ^ u64::from(b)));
    1 + mix64(seed ^ h) % MAX_SETTLEMENT_LAG_DAYS
}

/// Builds the file from the store.
pub fn build(db: &Db<'_>, seed: u64) -> Result<SettlementFile, StoreError> {
    let payments = db.all_payments()?;
    let children = db.all_children()?;
    let settled = |p: &&crate::store::PaymentRow| {
        !p.deleted && matches!(p.state, PaymentState::Paid | PaymentState::Refunded)
    };
    // The newest paid payment is not settled yet (ties: the larger session id).
    let unsettled = payments
        .iter()
        .filter(settled)
        .filter(|p| p.state == PaymentState::Paid)
        .max_by(|a, b| (a.created_at_ms, &a.session_id).cmp(&(b.created_at_ms, &b.session_id)))
        .map(|p| p.session_id.clone());

    let mut lines = Vec::new();
    let mut order_nos: HashMap<&str, Option<&String>> = HashMap::new();
    let mut authorizations: std::collections::HashSet<&str> = Default::default();
    for p in payments.iter().filter(|p| !p.deleted) {
        order_nos.insert(p.session_id.as_str(), p.order_no.as_ref());
        if !matches!(p.state, PaymentState::Paid | PaymentState::Refunded) {
            authorizations.insert(p.session_id.as_str());
        }
    }
    for p in payments.iter().filter(settled) {
        if unsettled.as_deref() == Some(p.session_id.as_str()) {
            continue;
        }
        let lag_days = lag_for(seed, &p.session_id);
        let fee = fee_for(p.amount);
        lines.push(SettlementLine {
            order_no: p.order_no.clone(),
            reference: p.reference_number.clone(),
            amount_minor: p.amount,
            fee_minor: fee,
            net_minor: p.amount - fee,
            currency: p.currency.code().to_owned(),
            settled_on: iso(add_business_days(day_of(p.created_at_ms), lag_days)),
            lag_days,
            what: SettledWhat::Payment(p.session_id.clone()),
        });
    }
    for c in &children {
        let Some(order_no) = order_nos.get(c.parent_session_id.as_str()) else {
            continue; // the parent was deleted
        };
        if c.operation == OperationKind::Capture
            && c.state == ChildState::Paid
            && authorizations.contains(c.parent_session_id.as_str())
        {
            let lag_days = lag_for(seed, &c.session_id);
            let fee = fee_for(c.amount);
            lines.push(SettlementLine {
                order_no: order_no.cloned(),
                reference: c.reference_number.clone(),
                amount_minor: c.amount,
                fee_minor: fee,
                net_minor: c.amount - fee,
                currency: c.currency.code().to_owned(),
                settled_on: iso(add_business_days(day_of(c.created_at_ms), lag_days)),
                lag_days,
                what: SettledWhat::Capture(c.session_id.clone()),
            });
            continue;
        }
        if c.operation != OperationKind::Refund || c.state != ChildState::Refunded {
            continue;
        }
        let lag_days = lag_for(seed, &c.session_id);
        lines.push(SettlementLine {
            order_no: order_no.cloned(),
            reference: c.reference_number.clone(),
            amount_minor: -c.amount,
            fee_minor: 0,
            net_minor: -c.amount,
            currency: c.currency.code().to_owned(),
            settled_on: iso(add_business_days(day_of(c.created_at_ms), lag_days)),
            lag_days,
            what: SettledWhat::Refund(c.session_id.clone()),
        });
    }
    lines.sort_by(|a, b| (&a.settled_on, &a.reference).cmp(&(&b.settled_on, &b.reference)));
    // The stranger: settled on the file's last day (or the seed epoch's first business day).
    let last_day = lines
        .last()
        .and_then(|l| parse_day(&l.settled_on))
        .map(day_of)
        .unwrap_or_else(|| add_business_days(day_of(crate::seed::SEED_EPOCH_MS), 1));
    let unknown_amount: Minor = 7_250;
    let unknown_fee = fee_for(unknown_amount);
    lines.push(SettlementLine {
        order_no: Some(UNKNOWN_ORDER_NO.to_owned()),
        reference: format!("RRN{:012X}", id_bits(seed, IdSpace::Settlement, 1) >> 80),
        amount_minor: unknown_amount,
        fee_minor: unknown_fee,
        net_minor: unknown_amount - unknown_fee,
        currency: Currency::KWD.code().to_owned(),
        settled_on: iso(last_day),
        lag_days: 0,
        what: SettledWhat::Unknown,
    });

    let bytes = to_csv(&lines);
    let file_name = format!(
        "settlement-{}.csv",
        lines
            .first()
            .map(|l| l.settled_on[..7].to_owned())
            .unwrap_or_else(|| utc_day(crate::seed::SEED_EPOCH_MS)[..7].to_owned())
    );
    Ok(SettlementFile {
        file_name,
        lines,
        unsettled,
        bytes,
    })
}

fn to_csv(lines: &[SettlementLine]) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let written = (|| -> Result<Vec<u8>, csv::Error> {
        writer.write_record(SETTLEMENT_CSV_HEADER)?;
        for l in lines {
            let currency = Currency::from_code(&l.currency).unwrap_or(Currency::KWD);
            writer.write_record([
                l.order_no.as_deref().unwrap_or(""),
                &l.reference,
                &format_minor(l.amount_minor, currency),
                &format_minor(l.fee_minor, currency),
                &format_minor(l.net_minor, currency),
                &l.currency,
                &l.settled_on,
            ])?;
        }
        writer.into_inner().map_err(|e| e.into_error().into())
    })();
    // Writing CSV into memory fails only on an I/O error, which a Vec never has.
    written.unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn business_days_skip_friday_and_saturday() {
        // 2025-12-04 is a Thursday.
        assert_eq!(
            add_business_days(date!(2025 - 12 - 04), 1),
            date!(2025 - 12 - 07)
        );
        assert_eq!(
            add_business_days(date!(2025 - 12 - 04), 3),
            date!(2025 - 12 - 09)
        );
        assert_eq!(
            add_business_days(date!(2025 - 12 - 05), 1),
            date!(2025 - 12 - 07)
        );
        assert_eq!(
            add_business_days(date!(2025 - 12 - 07), 2),
            date!(2025 - 12 - 09)
        );
        assert!(is_weekend(date!(2025 - 12 - 05)) && is_weekend(date!(2025 - 12 - 06)));
        assert!(!is_weekend(date!(2025 - 12 - 07)));
    }

    #[test]
    fn fees_round_half_up_to_a_minor_unit() {
        assert_eq!(fee_for(10_000), 150); // 10.000 KWD -> 0.150
        assert_eq!(fee_for(12_345), 185); // 185.175 -> 185
        assert_eq!(fee_for(100), 2); // 1.5 -> 2 (JPY 100 -> 2)
        assert_eq!(fee_for(33), 0); // 0.495 -> 0
        assert_eq!(fee_for(34), 1); // 0.51 -> 1
    }
}
