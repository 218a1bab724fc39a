//! `export operations`: the money movements on the selected payments. First one row per
//! operation the merchant asked for (oldest first), with the child transaction it made
//! when there is one (its session id, state and amount); then one row per child
//! transaction no operation of this ledger made (seen at Ottu). Refunds are negative;
//! captures and voids positive; cancel/expire/delete carry no amount.
//!
//! An operation without its own amount (a full refund) shows what it reserves. The
//! closing `total` rows per currency give, in the amount column, the paid, captured,
//! refunded (negative), voided, pending and fees (when a settlement file told them)
//! totals of [`super::totals`]: what took effect, so a rejected refund listed above is
//! not in them. `paid` is the payments' collected amounts, which no operation row shows.

use super::columns::OPERATIONS;
use super::ledger::params;
use super::totals::{MinorTotals, ledger_totals_minor};
use super::{Context, Sink, Ticker, Written, currency_of, text_at};
use crate::error::Result;
use crate::store::StoreError;

/// The period's bounds are written `+p.created_at_ms` so the planner never drives these
/// statements from the payments' time index: it scans operations and children in id
/// order (the export's order, no sort whatever their number) and looks each payment up.
fn profile_clause(cx: &Context<'_>) -> &'static str {
    if cx.filter.profile.is_some() {
        "AND +p.profile_id = ?1"
    } else {
        "AND ?1 IS NULL"
    }
}

/// Operations with their child: the child is found through the children's
/// `(payment_id, session_id)` index, not a scan.
fn operations_sql(cx: &Context<'_>) -> String {
    format!(
        "SELECT c.session_id, p.session_id, p.order_no, pr.name, o.kind, c.state, o.status,
            p.currency, COALESCE(c.amount_minor, o.amount_minor, NULLIF(o.reserved_minor, 0)),
            COALESCE(c.created_at_ms, o.created_at_ms),
            COALESCE(c.reference_number, o.reference_number), o.requested_by, o.reason
         FROM operations o JOIN payments p ON p.id = o.payment_id
         JOIN profiles pr ON pr.id = p.profile_id
         LEFT JOIN children c ON c.payment_id = o.payment_id AND c.operation_id = o.id
         WHERE p.hidden = 0 {} AND +p.created_at_ms >= ?2 AND +p.created_at_ms < ?3
         ORDER BY o.id",
        profile_clause(cx)
    )
}

fn children_sql(cx: &Context<'_>) -> String {
    format!(
        "SELECT c.session_id, p.session_id, p.order_no, pr.name, c.kind, c.state, NULL,
            p.currency, c.amount_minor, c.created_at_ms, c.reference_number, NULL, NULL
         FROM children c JOIN payments p ON p.id = c.payment_id
         JOIN profiles pr ON pr.id = p.profile_id
         WHERE c.operation_id IS NULL AND p.hidden = 0 {}
           AND +p.created_at_ms >= ?2 AND +p.created_at_ms < ?3
         ORDER BY c.id",
        profile_clause(cx)
    )
}

fn count(cx: &Context<'_>) -> Result<u64> {
    let sql = format!(
        "SELECT (SELECT COUNT(*) FROM operations o JOIN payments p ON p.id = o.payment_id
                  LEFT JOIN children c ON c.payment_id = o.payment_id AND c.operation_id = o.id
                  WHERE p.hidden = 0 {0} AND +p.created_at_ms >= ?2 AND +p.created_at_ms < ?3)
              + (SELECT COUNT(*) FROM children c JOIN payments p ON p.id = c.payment_id
                  WHERE c.operation_id IS NULL AND p.hidden = 0 {0}
                    AND +p.created_at_ms >= ?2 AND +p.created_at_ms < ?3)",
        profile_clause(cx)
    );
    let n: i64 = cx
        .tx
        .prepare_cached(&sql)
        .and_then(|mut s| s.query_row(params(cx), |r| r.get(0)))
        .map_err(StoreError::from)?;
    Ok(n as u64)
}

pub(crate) fn write<S: Sink>(
    cx: &Context<'_>,
    sink: &mut S,
    ticker: &mut Ticker<'_>,
) -> Result<Written> {
    ticker.set_total(count(cx)?);
    sink.header(OPERATIONS, cx.lang)?;
    let mut written = 0u64;
    for sql in [operations_sql(cx), children_sql(cx)] {
        let mut stmt = cx.tx.prepare_cached(&sql).map_err(StoreError::from)?;
        let mut rows = stmt.query(params(cx)).map_err(StoreError::from)?;
        while let Some(row) = rows.next().map_err(StoreError::from)? {
            let kind = text_at(row, 4)?.unwrap_or_default();
            let currency = currency_of(text_at(row, 7)?.unwrap_or_default())?;
            let amount: Option<i64> = row.get(8).map_err(StoreError::from)?;
            let amount = match kind {
                "refund" => amount.map(|a| -a),
                "capture" | "void" => amount,
                // Cancel, expire, delete: the whole payment, no amount moves.
                _ => None,
            };
            for i in 0..4 {
                sink.opt_text(text_at(row, i)?)?;
            }
            sink.text(kind)?;
            sink.opt_text(text_at(row, 5)?)?;
            sink.opt_text(text_at(row, 6)?)?;
            sink.text(currency.code())?;
            sink.opt_amount(amount, Some(currency))?;
            sink.instant(row.get(9).map_err(StoreError::from)?)?;
            for i in 10..=12 {
                sink.opt_text(text_at(row, i)?)?;
            }
            sink.end_row()?;
            written += 1;
            ticker.tick()?;
        }
    }
    let totals = ledger_totals_minor(cx.tx, &cx.filter)?;
    sink.begin_totals()?;
    for t in &totals {
        for (word, minor) in [
            ("paid", Some(t.paid)),
            ("captured", Some(t.captured)),
            ("refunded", t.refunded.checked_neg()),
            ("voided", Some(t.voided)),
            ("pending", Some(t.pending)),
            ("fees", t.fees),
        ] {
            if word == "fees" && minor.is_none() {
                continue;
            }
            sink.label("total")?;
            sink.empty()?;
            sink.empty()?;
            sink.opt_text(cx.profile.as_ref().map(|p| p.as_str()))?;
            sink.text(word)?;
            sink.empty()?;
            sink.empty()?;
            sink.text(t.currency.code())?;
            sink.opt_amount(minor, Some(t.currency))?;
            for _ in 0..4 {
                sink.empty()?;
            }
            sink.end_row()?;
        }
    }
    Ok(Written {
        rows: written,
        totals: totals.iter().map(MinorTotals::view).collect(),
    })
}
