//! Totals per currency: the block every export, import summary and reconciliation ends
//! with, summed by SQL from the ledger (exact integers, never floats).
//!
//! What each column means (merchants and their accountants read these):
//!
//! - `paid`: money collected from customers. The full amount of every payment in state
//!   `paid` or `refunded` (a refunded payment was paid first: its refunds are in
//!   `refunded`), plus, for payments in any other state (an `authorized` one), the
//!   captures that succeeded (capture children in state `paid`). It is the sum of each
//!   payment's `captured` balance ([`crate::rules::Balances`]). `cod` and `cash` payments
//!   are collected outside Ottu and are not in it.
//! - `captured`: captures that succeeded (capture children in state `paid`), whatever
//!   the parent's state; already inside `paid`, shown apart for authorizations.
//! - `refunded`: refunds Ottu accepted (refund children `refunded` or `refund_queued`: a
//!   queued refund is committed, as the rules count it). `paid - refunded` is the net.
//! - `voided`: voids that succeeded (void children `voided`): authorizations released,
//!   never collected, so not in `paid`.
//! - `pending`: what the ledger holds back for operations not final yet (queued, in
//!   flight, blocked, needs attention): their reserved amounts, any kind.
//! - `fees`: the acquirer's fees where a settlement file told them; the ledger alone
//!   does not know them (`None`).
//!
//! Hidden (deleted) payments are left out, as Ottu's reports leave them out. Children
//! and operations count in the period of their payment's creation.

use std::collections::BTreeMap;

use rusqlite::Transaction;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::model::ProfileId;
use crate::money::{Amount, Currency};
use crate::store::StoreError;

/// Totals of one currency as decimal strings with the currency's decimals (`"12.500"`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct CurrencyTotals {
    pub currency: String,
    pub paid: String,
    pub captured: String,
    pub refunded: String,
    pub voided: String,
    pub pending: String,
    /// Known only from a settlement file.
    pub fees: Option<String>,
}

/// The same totals in minor units, for code that sums its own rows (an import's valid
/// rows, a report's side of a reconciliation) and for the exports' totals rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MinorTotals {
    pub currency: Currency,
    pub paid: i64,
    pub captured: i64,
    pub refunded: i64,
    pub voided: i64,
    pub pending: i64,
    pub fees: Option<i64>,
}

impl MinorTotals {
    pub fn zero(currency: Currency) -> MinorTotals {
        MinorTotals {
            currency,
            paid: 0,
            captured: 0,
            refunded: 0,
            voided: 0,
            pending: 0,
            fees: None,
        }
    }

    pub fn view(&self) -> CurrencyTotals {
        let text = |minor: i64| Amount::from_minor(minor, self.currency).to_string();
        CurrencyTotals {
            currency: self.currency.code().to_string(),
            paid: text(self.paid),
            captured: text(self.captured),
            refunded: text(self.refunded),
            voided: text(self.voided),
            pending: text(self.pending),
            fees: self.fees.map(text),
        }
    }
}

/// Which payments the totals cover: one profile or all, created in `[from_ms, to_ms)`
/// (`None` = unbounded).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TotalsFilter {
    pub profile: Option<ProfileId>,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
}

/// One statement: the payments' own amounts, their children by kind and state, and the
/// reservations of their unfinished operations, summed per currency. The CASEs are the
/// column definitions of the module doc; `operations.status` words are the reserving
/// statuses of `OperationStatus::reserves_balance`.
const TOTALS_SQL: &str = "
WITH p AS (SELECT id, currency, amount_minor, state FROM payments
     WHERE hidden = 0 AND (?1 IS NULL OR profile_id = ?1)
       AND (?2 IS NULL OR created_at_ms >= ?2) AND (?3 IS NULL OR created_at_ms < ?3))
SELECT currency, SUM(paid), SUM(captured), SUM(refunded), SUM(voided), SUM(pending) FROM (
    SELECT currency,
           CASE WHEN state IN ('paid', 'refunded') THEN amount_minor ELSE 0 END AS paid,
           0 AS captured, 0 AS refunded, 0 AS voided, 0 AS pending
    FROM p
    UNION ALL
    SELECT p.currency,
           CASE WHEN p.state NOT IN ('paid', 'refunded') AND c.kind = 'capture' AND c.state = 'paid'
                THEN c.amount_minor ELSE 0 END,
           CASE WHEN c.kind = 'capture' AND c.state = 'paid' THEN c.amount_minor ELSE 0 END,
           CASE WHEN c.kind = 'refund' AND c.state IN ('refunded', 'refund_queued')
                THEN c.amount_minor ELSE 0 END,
           CASE WHEN c.kind = 'void' AND c.state = 'voided' THEN c.amount_minor ELSE 0 END,
           0
    FROM children c JOIN p ON p.id = c.payment_id
    UNION ALL
    SELECT p.currency, 0, 0, 0, 0, o.reserved_minor
    FROM operations o JOIN p ON p.id = o.payment_id
    WHERE o.status IN ('queued', 'in_flight', 'needs_attention', 'blocked')
)
GROUP BY currency ORDER BY currency";

/// The ledger's totals per currency for `filter`, in currency-code order. A currency with
/// no payment in the filter is absent. Run it in the same read transaction as the rows it
/// closes, so both see one snapshot of the ledger.
pub fn ledger_totals_minor(
    tx: &Transaction<'_>,
    filter: &TotalsFilter,
) -> Result<Vec<MinorTotals>, StoreError> {
    let mut stmt = tx.prepare_cached(TOTALS_SQL)?;
    let mut rows = stmt.query(rusqlite::params![
        filter.profile.map(|p| p.0),
        filter.from_ms,
        filter.to_ms
    ])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let code: String = row.get(0)?;
        let currency =
            Currency::from_code(&code).map_err(|_| StoreError::corrupt("currency", code))?;
        out.push(MinorTotals {
            currency,
            paid: row.get(1)?,
            captured: row.get(2)?,
            refunded: row.get(3)?,
            voided: row.get(4)?,
            pending: row.get(5)?,
            fees: None,
        });
    }
    Ok(out)
}

/// [`ledger_totals_minor`] as decimal strings.
pub fn ledger_totals(
    tx: &Transaction<'_>,
    filter: &TotalsFilter,
) -> Result<Vec<CurrencyTotals>, StoreError> {
    Ok(ledger_totals_minor(tx, filter)?
        .iter()
        .map(MinorTotals::view)
        .collect())
}

/// Per-currency accumulation for code that sums rows itself; currencies come out in
/// code order, like [`ledger_totals`].
#[derive(Clone, Debug, Default)]
pub struct TotalsBuilder {
    by_currency: BTreeMap<&'static str, MinorTotals>,
}

impl TotalsBuilder {
    pub fn entry(&mut self, currency: Currency) -> &mut MinorTotals {
        self.by_currency
            .entry(currency.code())
            .or_insert_with(|| MinorTotals::zero(currency))
    }

    pub fn minor(&self) -> Vec<MinorTotals> {
        self.by_currency.values().copied().collect()
    }

    pub fn views(&self) -> Vec<CurrencyTotals> {
        self.by_currency.values().map(MinorTotals::view).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_use_the_currency_decimals_and_keep_signs() {
        let mut t = MinorTotals::zero(Currency::KWD);
        t.paid = 12_500;
        t.refunded = 1;
        t.fees = Some(-250);
        let v = t.view();
        assert_eq!(v.paid, "12.500");
        assert_eq!(v.refunded, "0.001");
        assert_eq!(v.captured, "0.000");
        assert_eq!(v.fees.as_deref(), Some("-0.250"));
        let jpy = Currency::from_code("JPY").unwrap();
        assert_eq!(
            MinorTotals {
                paid: 1200,
                ..MinorTotals::zero(jpy)
            }
            .view()
            .paid,
            "1200"
        );
    }

    #[test]
    fn builder_orders_by_currency_code() {
        let mut b = TotalsBuilder::default();
        b.entry(Currency::from_code("USD").unwrap()).paid += 100;
        b.entry(Currency::KWD).paid += 1000;
        b.entry(Currency::from_code("USD").unwrap()).paid += 5;
        let v = b.views();
        assert_eq!(v[0].currency, "KWD");
        assert_eq!(v[1].currency, "USD");
        assert_eq!(v[1].paid, "1.05");
    }
}
