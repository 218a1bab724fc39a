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
//! - `fees`: the acquirer's fees where a settlement file told them: the sum of the
//!   `fee_minor` of the profile's settlement lines matched to the covered payments (by
//!   reference number, else by order number), `None` for a currency with no such line
//!   (or none with a fee): unknown, not zero.
//!
//! An Ottu report is summed with the same definitions ([`MinorTotals::add_report_payment`],
//! [`MinorTotals::add_report_child`]): a parent row's amount when `paid`/`refunded`, else
//! its captures; its `Captured/Refunded/Voided Amount` columns when the row has them, else
//! its child rows. Every sum is checked: beyond `i64` is an error
//! (`rules.balance_overflow`), never a wrapped total.
//!
//! Hidden (deleted) payments are left out, as Ottu's reports leave them out. Children
//! and operations count in the period of their payment's creation.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use rusqlite::Transaction;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::model::ProfileId;
use crate::money::{Amount, Currency};
use crate::rules::RuleError;
use crate::store::StoreError;

/// `a + b`, or the overflow named by the column being summed.
fn add(what: &'static str, a: i64, b: i64) -> Result<i64, RuleError> {
    a.checked_add(b)
        .ok_or(RuleError::BalanceOverflow { balance: what })
}

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

    /// One payment of an Ottu report (a parent row), with the same meanings as the
    /// ledger's totals. `captured`/`refunded`/`voided`: the payment's own totals as the
    /// report gives them, that is the row's amount column when it has one, else the sum of
    /// its child rows of that kind (what RECONCILE's `ReportSide` holds). A caller that
    /// streams child rows instead passes `None` here and adds each child with
    /// [`MinorTotals::add_report_child`]. Reports know nothing pending: `pending` stays.
    pub fn add_report_payment(
        &mut self,
        state: &str,
        amount_minor: i64,
        captured: Option<i64>,
        refunded: Option<i64>,
        voided: Option<i64>,
    ) -> Result<(), RuleError> {
        let captured = captured.unwrap_or(0);
        let paid = if collected(state) {
            amount_minor
        } else {
            captured
        };
        self.paid = add("paid", self.paid, paid)?;
        self.captured = add("captured", self.captured, captured)?;
        self.refunded = add("refunded", self.refunded, refunded.unwrap_or(0))?;
        self.voided = add("voided", self.voided, voided.unwrap_or(0))?;
        Ok(())
    }

    /// One child row of an Ottu report (`kind`: `capture`, `refund`, `void`; `state` a
    /// child state word), for a parent whose row has no amount column of that kind (else
    /// the column already counts it: do not add both). `parent_collected`: the parent's
    /// state is `paid` or `refunded`, so its whole amount is already in `paid` and a
    /// capture adds only to `captured`; pass `false` when the parent is an authorization
    /// (or unknown: a capture that succeeded collected money). Children that moved no
    /// money (rejected, failed, ...) add nothing.
    pub fn add_report_child(
        &mut self,
        kind: &str,
        state: &str,
        amount_minor: i64,
        parent_collected: bool,
    ) -> Result<(), RuleError> {
        match (kind, state) {
            ("capture", "paid") => {
                self.captured = add("captured", self.captured, amount_minor)?;
                if !parent_collected {
                    self.paid = add("paid", self.paid, amount_minor)?;
                }
            }
            ("refund", "refunded" | "refund_queued") => {
                self.refunded = add("refunded", self.refunded, amount_minor)?;
            }
            ("void", "voided") => self.voided = add("voided", self.voided, amount_minor)?,
            _ => {}
        }
        Ok(())
    }

    /// Adds `fee` to the fees (known from now on).
    pub fn add_fee(&mut self, fee: i64) -> Result<(), RuleError> {
        self.fees = Some(add("fees", self.fees.unwrap_or(0), fee)?);
        Ok(())
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

/// A payment state whose whole amount was collected (`paid`, or `refunded`: paid first).
pub fn collected(state: &str) -> bool {
    matches!(state, "paid" | "refunded")
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
/// statuses of `OperationStatus::reserves_balance` (`RESERVING_STATUSES_SQL`).
static TOTALS_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "
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
    WHERE o.status IN {}
)
GROUP BY currency ORDER BY currency",
        crate::store::operations::RESERVING_STATUSES_SQL
    )
});

/// The fees of the settlement lines matched to the filter's payments, per currency: a line
/// goes to the payment of its profile with its reference number, else the one with its
/// order number (a refund's line carries the order number too: its fee is the payment's).
/// `SUM` of integers fails on overflow in SQLite (an error, never a wrap); no line, or no
/// line with a fee, leaves the currency out (fees unknown).
const FEES_SQL: &str = "
SELECT p.currency, SUM(l.fee_minor) FROM settlement_lines l
JOIN payments p ON p.id = COALESCE(
    (SELECT r.id FROM payments r WHERE r.reference_number = l.reference
        AND r.profile_id = l.profile_id AND r.hidden = 0 ORDER BY r.id LIMIT 1),
    (SELECT o.id FROM payments o WHERE o.order_no = l.order_no
        AND o.profile_id = l.profile_id AND o.hidden = 0 ORDER BY o.id LIMIT 1))
WHERE (?1 IS NULL OR l.profile_id = ?1)
  AND (?2 IS NULL OR p.created_at_ms >= ?2) AND (?3 IS NULL OR p.created_at_ms < ?3)
GROUP BY p.currency HAVING SUM(l.fee_minor) IS NOT NULL";

/// The ledger's totals per currency for `filter`, in currency-code order. A currency with
/// no payment in the filter is absent. Run it in the same read transaction as the rows it
/// closes, so both see one snapshot of the ledger.
pub fn ledger_totals_minor(
    tx: &Transaction<'_>,
    filter: &TotalsFilter,
) -> Result<Vec<MinorTotals>, StoreError> {
    let mut stmt = tx.prepare_cached(&TOTALS_SQL)?;
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
    drop(rows);
    let mut stmt = tx.prepare_cached(FEES_SQL)?;
    let mut rows = stmt.query(rusqlite::params![
        filter.profile.map(|p| p.0),
        filter.from_ms,
        filter.to_ms
    ])?;
    while let Some(row) = rows.next()? {
        let code: String = row.get(0)?;
        if let Some(t) = out.iter_mut().find(|t| t.currency.code() == code) {
            t.fees = Some(row.get(1)?);
        }
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
    fn report_rows_use_the_ledger_meanings() {
        let mut t = MinorTotals::zero(Currency::KWD);
        // Paid purchase, refunded in part (column): its amount is paid.
        t.add_report_payment("paid", 10_000, None, Some(2_000), None)
            .unwrap();
        // Authorization captured in part (column): the capture is paid.
        t.add_report_payment("authorized", 5_000, Some(3_000), None, None)
            .unwrap();
        // Authorization voided; a failed one: nothing collected.
        t.add_report_payment("authorized", 4_000, None, None, Some(4_000))
            .unwrap();
        t.add_report_payment("failed", 9_999, None, None, None)
            .unwrap();
        // Child rows of parents without columns.
        t.add_report_payment("authorized", 1_000, None, None, None)
            .unwrap();
        t.add_report_child("capture", "paid", 700, false).unwrap();
        t.add_report_child("capture", "paid", 50, true).unwrap();
        t.add_report_child("refund", "refund_queued", 30, true)
            .unwrap();
        t.add_report_child("refund", "refund_rejected", 999, true)
            .unwrap();
        t.add_report_child("void", "voided", 300, false).unwrap();
        t.add_report_child("capture", "failed", 999, false).unwrap();
        assert_eq!(
            (t.paid, t.captured, t.refunded, t.voided, t.pending, t.fees),
            (13_700, 3_750, 2_030, 4_300, 0, None)
        );
    }

    #[test]
    fn report_sums_beyond_i64_are_errors_not_wraps() {
        let mut t = MinorTotals::zero(Currency::KWD);
        t.add_report_payment("paid", i64::MAX, None, None, None)
            .unwrap();
        let err = t
            .add_report_payment("paid", 1, None, None, None)
            .unwrap_err();
        assert_eq!(err.code(), "rules.balance_overflow");
        assert_eq!(t.paid, i64::MAX);
        let err = t.add_report_child("capture", "paid", 1, false).unwrap_err();
        assert_eq!(err, RuleError::BalanceOverflow { balance: "paid" });
        t.add_fee(i64::MAX).unwrap();
        assert!(t.add_fee(1).is_err());
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
