//! `export ledger`: one row per payment (hidden ones left out) with its balances, oldest
//! first, then a `total` row per currency with the paid/captured/refunded/voided/pending
//! columns filled from [`super::totals`].
//!
//! Per row, `paid` is the payment's collected amount (the whole amount when `paid` or
//! `refunded`, else what was captured) and the other balances are its children's and
//! unfinished operations' sums: the same definitions as the totals, so the `total` rows
//! are exactly the sums of the columns above them. `Fees` is the fees of the settlement
//! lines that went to the payment (by reference, else order number: the rule of
//! [`super::totals`]), empty when none did; the query for it runs only when the ledger
//! holds settlement lines in the filter's profile, so a ledger without any pays nothing.

use super::columns::LEDGER;
use super::totals::{MinorTotals, ledger_totals_minor};
use super::{Context, Sink, Ticker, Written, currency_of, text_at};
use crate::error::Result;
use crate::store::StoreError;

/// The row's balances come from indexed lookups (children by payment, reserving
/// operations by payment) per payment; the order follows `payments_newest` /
/// `payments_by_profile_newest` backwards, so SQLite streams without sorting.
fn select(with_profile: bool, with_fees: bool) -> String {
    let fees = if with_fees { PAYMENT_FEES } else { "NULL" };
    let reserving = crate::store::operations::RESERVING_STATUSES_SQL;
    format!(
        "SELECT p.session_id, p.order_no, pr.name, p.created_at_ms, p.state, p.currency,
            p.amount_minor,
            (SELECT printf('%d %d %d',
                    COALESCE(SUM(CASE WHEN kind = 'capture' AND state = 'paid' THEN amount_minor END), 0),
                    COALESCE(SUM(CASE WHEN kind = 'refund'
                                     AND state IN ('refunded', 'refund_queued')
                                    THEN amount_minor END), 0),
                    COALESCE(SUM(CASE WHEN kind = 'void' AND state = 'voided' THEN amount_minor END), 0))
              FROM children c WHERE c.payment_id = p.id HAVING COUNT(*) > 0),
            (SELECT SUM(reserved_minor) FROM operations o
              WHERE o.payment_id = p.id
                AND o.status IN {reserving}),
            p.pg_code, p.reference_number, p.customer_email, p.customer_phone,
            p.customer_reference, p.source, {fees}
         FROM payments p JOIN profiles pr ON pr.id = p.profile_id
         WHERE p.hidden = 0 {}
           AND p.created_at_ms >= ?2 AND p.created_at_ms < ?3
         ORDER BY p.created_at_ms, p.id",
        if with_profile {
            "AND p.profile_id = ?1"
        } else {
            "AND ?1 IS NULL"
        }
    )
}

/// A payment's fees: the lines whose payment (by reference first, else by order number,
/// the lowest id of the profile's visible payments: `totals::FEES_SQL`'s rule) is this one.
const PAYMENT_FEES: &str = "(SELECT SUM(l.fee_minor) FROM settlement_lines l
    WHERE l.profile_id = p.profile_id
      AND (l.reference = p.reference_number OR l.order_no = p.order_no)
      AND p.id = COALESCE(
        (SELECT r.id FROM payments r WHERE r.reference_number = l.reference
            AND r.profile_id = l.profile_id AND r.hidden = 0 ORDER BY r.id LIMIT 1),
        (SELECT o.id FROM payments o WHERE o.order_no = l.order_no
            AND o.profile_id = l.profile_id AND o.hidden = 0 ORDER BY o.id LIMIT 1)))";

/// Whether any settlement line is stored for the filter's profile (or any profile).
fn has_lines(cx: &Context<'_>) -> Result<bool> {
    Ok(cx
        .tx
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM settlement_lines WHERE ?1 IS NULL OR profile_id = ?1)",
            [cx.filter.profile.map(|p| p.0)],
            |r| r.get(0),
        )
        .map_err(StoreError::from)?)
}

/// How many rows the export will write (for the progress bar's length).
fn count(cx: &Context<'_>) -> Result<u64> {
    let sql = format!(
        "SELECT COUNT(*) FROM payments p WHERE p.hidden = 0 {}
           AND p.created_at_ms >= ?2 AND p.created_at_ms < ?3",
        if cx.filter.profile.is_some() {
            "AND p.profile_id = ?1"
        } else {
            "AND ?1 IS NULL"
        }
    );
    let n: i64 = cx
        .tx
        .prepare_cached(&sql)
        .and_then(|mut s| s.query_row(params(cx), |r| r.get(0)))
        .map_err(StoreError::from)?;
    Ok(n as u64)
}

pub(crate) fn params(cx: &Context<'_>) -> [Option<i64>; 3] {
    [
        cx.filter.profile.map(|p| p.0),
        Some(cx.filter.from_ms.unwrap_or(i64::MIN)),
        Some(cx.filter.to_ms.unwrap_or(i64::MAX)),
    ]
}

/// The children's sums as one text, `"captured refunded voided"` (one index probe per
/// payment instead of three; NULL, the usual case, for a payment without children).
fn children_sums(row: &rusqlite::Row<'_>, i: usize) -> Result<[i64; 3]> {
    let mut sums = [0i64; 3];
    if let Some(text) = text_at(row, i)? {
        let mut parts = text.split(' ');
        for sum in &mut sums {
            *sum = parts
                .next()
                .and_then(|p| p.parse().ok())
                .ok_or_else(|| StoreError::corrupt("children sums", text))?;
        }
    }
    Ok(sums)
}

pub(crate) fn write<S: Sink>(
    cx: &Context<'_>,
    sink: &mut S,
    ticker: &mut Ticker<'_>,
) -> Result<Written> {
    ticker.set_total(count(cx)?);
    sink.header(LEDGER, cx.lang)?;
    let mut stmt = cx
        .tx
        .prepare_cached(&select(cx.filter.profile.is_some(), has_lines(cx)?))
        .map_err(StoreError::from)?;
    let mut rows = stmt.query(params(cx)).map_err(StoreError::from)?;
    let mut written = 0u64;
    while let Some(row) = rows.next().map_err(StoreError::from)? {
        let currency = currency_of(text_at(row, 5)?.unwrap_or_default())?;
        let state = text_at(row, 4)?.unwrap_or_default();
        let amount: i64 = row.get(6).map_err(StoreError::from)?;
        let [captured, refunded, voided] = children_sums(row, 7)?;
        let pending: Option<i64> = row.get(8).map_err(StoreError::from)?;
        let paid = if matches!(state, "paid" | "refunded") {
            amount
        } else {
            captured
        };
        sink.opt_text(text_at(row, 0)?)?;
        sink.opt_text(text_at(row, 1)?)?;
        sink.opt_text(text_at(row, 2)?)?;
        sink.instant(row.get(3).map_err(StoreError::from)?)?;
        sink.text(state)?;
        sink.text(currency.code())?;
        sink.amount(amount, currency)?;
        sink.amount(paid, currency)?;
        sink.amount(captured, currency)?;
        sink.amount(refunded, currency)?;
        sink.amount(voided, currency)?;
        sink.amount(pending.unwrap_or(0), currency)?;
        for i in 9..=14 {
            sink.opt_text(text_at(row, i)?)?;
        }
        sink.opt_amount(row.get(15).map_err(StoreError::from)?, Some(currency))?;
        sink.end_row()?;
        written += 1;
        ticker.tick()?;
    }
    let totals = ledger_totals_minor(cx.tx, &cx.filter)?;
    sink.begin_totals()?;
    for t in &totals {
        total_row(sink, cx, t)?;
    }
    Ok(Written {
        rows: written,
        totals: totals.iter().map(MinorTotals::view).collect(),
    })
}

fn total_row<S: Sink>(sink: &mut S, cx: &Context<'_>, t: &MinorTotals) -> Result<()> {
    sink.label("total")?;
    sink.empty()?;
    sink.opt_text(cx.profile.as_ref().map(|p| p.as_str()))?;
    sink.empty()?;
    sink.empty()?;
    sink.text(t.currency.code())?;
    sink.empty()?;
    sink.amount(t.paid, t.currency)?;
    sink.amount(t.captured, t.currency)?;
    sink.amount(t.refunded, t.currency)?;
    sink.amount(t.voided, t.currency)?;
    sink.amount(t.pending, t.currency)?;
    for _ in 12..=17 {
        sink.empty()?;
    }
    sink.opt_amount(t.fees, Some(t.currency))?;
    sink.end_row()
}
