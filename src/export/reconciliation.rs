//! `export reconciliation`: one row per payment a reconciliation classified (grouped by
//! class, then in the order the run wrote them), each side's state and amount as the run
//! saw them, the difference (report minus ledger, when both sides are in the item's
//! currency) and the merchant's decision; then `total` rows per class and currency; then
//! `total` rows per currency and measure (`paid`, `captured`, `refunded`, `voided`,
//! `pending`, `fees`: the measure's word in the class column) with the ledger's total in
//! the ledger amount column, the report's in the report amount column and their difference
//! (report minus ledger); a side that does not know a measure (the report's fees) is empty.
//!
//! The sides are read through the `reconciliation_item_sides` view, the one reading of an
//! item's two forms (both sides' JSON, or a compact match's agreed columns). The export's
//! totals are the ledger totals the run stored in `summary_json` (as the run saw the
//! ledger), or, for a run that stored none, the ledger's totals for the reconciliation's
//! profile and period now.

use rusqlite::OptionalExtension;
use serde_json::Value;

use super::columns::RECONCILIATION;
use super::totals::{CurrencyTotals, TotalsFilter, ledger_totals};
use super::{Context, Sink, Ticker, Written, currency_of, text_at};
use crate::error::{Error, Result};
use crate::model::ProfileId;
use crate::money::{Amount, Currency};
use crate::store::StoreError;

/// The reconciliation's own row.
pub(crate) struct Header {
    pub id: i64,
    pub profile_id: ProfileId,
    pub profile: String,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    pub source: String,
    pub created_at_ms: i64,
    pub summary: Value,
}

/// The reconciliation the request names, or the newest (of the profile, if one is named).
pub(crate) fn find(cx: &Context<'_>) -> Result<Header> {
    const SELECT: &str = "SELECT r.id, r.profile_id, pr.name, r.from_ms, r.to_ms, r.source,
            r.created_at_ms, r.summary_json
         FROM reconciliations r JOIN profiles pr ON pr.id = r.profile_id";
    let from_row = |r: &rusqlite::Row<'_>| -> rusqlite::Result<Header> {
        let json: String = r.get(7)?;
        Ok(Header {
            id: r.get(0)?,
            profile_id: ProfileId(r.get(1)?),
            profile: r.get(2)?,
            from_ms: r.get(3)?,
            to_ms: r.get(4)?,
            source: r.get(5)?,
            created_at_ms: r.get(6)?,
            summary: serde_json::from_str(&json).unwrap_or(Value::Null),
        })
    };
    let found = match (cx.reconciliation, cx.filter.profile) {
        (Some(id), profile) => cx
            .tx
            .query_row(
                &format!("{SELECT} WHERE r.id = ?1 AND (?2 IS NULL OR r.profile_id = ?2)"),
                rusqlite::params![id, profile.map(|p| p.0)],
                from_row,
            )
            .optional(),
        (None, profile) => cx
            .tx
            .query_row(
                &format!(
                    "{SELECT} WHERE (?1 IS NULL OR r.profile_id = ?1)
                     ORDER BY r.created_at_ms DESC, r.id DESC LIMIT 1"
                ),
                [profile.map(|p| p.0)],
                from_row,
            )
            .optional(),
    }
    .map_err(StoreError::from)?;
    found.ok_or_else(|| Error::NotFound {
        what: "reconciliation",
        field: "reconciliation",
        key: cx
            .reconciliation
            .map_or_else(|| "(none yet)".to_string(), |id| id.to_string()),
    })
}

/// Items in `reconciliation_items_by_class` order: no sort, whatever their number.
const ITEMS_SQL: &str = "SELECT id, class, session_id, order_no, currency,
        ledger_state, report_state, ledger_currency, ledger_amount_minor,
        report_currency, report_amount_minor, decision, decided_at_ms, decided_by
     FROM reconciliation_item_sides WHERE reconciliation_id = ?1 ORDER BY class, id";

/// Per class and currency: count and each side's amounts in that currency.
const CLASSES_SQL: &str = "SELECT class, currency, COUNT(*),
        SUM(CASE WHEN ledger_currency = currency THEN ledger_amount_minor END),
        SUM(CASE WHEN report_currency = currency THEN report_amount_minor END)
     FROM reconciliation_item_sides WHERE reconciliation_id = ?1
     GROUP BY class, currency ORDER BY class, currency";

/// One line of the class totals.
pub(crate) struct ClassLine {
    pub class: String,
    pub currency: Currency,
    pub count: i64,
    pub ledger_minor: Option<i64>,
    pub report_minor: Option<i64>,
}

pub(crate) fn class_lines(cx: &Context<'_>, id: i64) -> Result<Vec<ClassLine>> {
    let mut stmt = cx
        .tx
        .prepare_cached(CLASSES_SQL)
        .map_err(StoreError::from)?;
    let mut rows = stmt.query([id]).map_err(StoreError::from)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(StoreError::from)? {
        out.push(ClassLine {
            class: text_at(row, 0)?.unwrap_or_default().to_string(),
            currency: currency_of(text_at(row, 1)?.unwrap_or_default())?,
            count: row.get(2).map_err(StoreError::from)?,
            ledger_minor: row.get(3).map_err(StoreError::from)?,
            report_minor: row.get(4).map_err(StoreError::from)?,
        });
    }
    Ok(out)
}

/// Totals as the run stored them under `key` (`totals`, `report_totals`), if it did.
pub(crate) fn stored_totals(header: &Header, key: &str) -> Option<Vec<CurrencyTotals>> {
    header
        .summary
        .get(key)
        .and_then(|v| serde_json::from_value(v.clone()).ok())
}

/// The ledger's side of the totals: as stored by the run, else the ledger's now.
pub(crate) fn ledger_side_totals(cx: &Context<'_>, header: &Header) -> Result<Vec<CurrencyTotals>> {
    match stored_totals(header, "totals") {
        Some(t) => Ok(t),
        None => Ok(ledger_totals(
            cx.tx,
            &TotalsFilter {
                profile: Some(header.profile_id),
                from_ms: header.from_ms,
                to_ms: header.to_ms,
            },
        )?),
    }
}

fn side_amount(row: &rusqlite::Row<'_>, currency_at: usize) -> Result<Option<(i64, Currency)>> {
    let minor: Option<i64> = row.get(currency_at + 1).unwrap_or(None);
    match (minor, text_at(row, currency_at).ok().flatten()) {
        (Some(m), Some(code)) => Ok(Currency::from_code(code).ok().map(|c| (m, c))),
        _ => Ok(None),
    }
}

pub(crate) fn write<S: Sink>(
    cx: &Context<'_>,
    sink: &mut S,
    ticker: &mut Ticker<'_>,
) -> Result<Written> {
    let header = find(cx)?;
    let n: i64 = cx
        .tx
        .query_row(
            "SELECT COUNT(*) FROM reconciliation_items WHERE reconciliation_id = ?1",
            [header.id],
            |r| r.get(0),
        )
        .map_err(StoreError::from)?;
    ticker.set_total(n as u64);
    sink.header(RECONCILIATION, cx.lang)?;
    let mut stmt = cx.tx.prepare_cached(ITEMS_SQL).map_err(StoreError::from)?;
    let mut rows = stmt.query([header.id]).map_err(StoreError::from)?;
    let mut written = 0u64;
    while let Some(row) = rows.next().map_err(StoreError::from)? {
        let currency = currency_of(text_at(row, 4)?.unwrap_or_default())?;
        let ledger = side_amount(row, 7)?;
        let report = side_amount(row, 9)?;
        sink.integer(row.get(0).map_err(StoreError::from)?)?;
        for i in 1..=4 {
            sink.opt_text(text_at(row, i)?)?;
        }
        sink.opt_text(text_at(row, 5).ok().flatten())?;
        sink.opt_text(text_at(row, 6).ok().flatten())?;
        sink.opt_amount(ledger.map(|s| s.0), ledger.map(|s| s.1))?;
        sink.opt_amount(report.map(|s| s.0), report.map(|s| s.1))?;
        match (ledger, report) {
            (Some((l, lc)), Some((r, rc))) if lc == currency && rc == currency => {
                sink.amount(r - l, currency)?
            }
            _ => sink.empty()?,
        }
        sink.opt_text(text_at(row, 11)?)?;
        sink.opt_instant(row.get(12).map_err(StoreError::from)?)?;
        sink.opt_text(text_at(row, 13)?)?;
        sink.end_row()?;
        written += 1;
        ticker.tick()?;
    }
    sink.begin_totals()?;
    for line in class_lines(cx, header.id)? {
        sink.label("total")?;
        sink.text(&line.class)?;
        sink.empty()?;
        sink.empty()?;
        sink.text(line.currency.code())?;
        sink.empty()?;
        sink.empty()?;
        sink.opt_amount(line.ledger_minor, Some(line.currency))?;
        sink.opt_amount(line.report_minor, Some(line.currency))?;
        match (line.ledger_minor, line.report_minor) {
            (Some(l), Some(r)) => sink.amount(r - l, line.currency)?,
            _ => sink.empty()?,
        }
        for _ in 0..3 {
            sink.empty()?;
        }
        sink.end_row()?;
    }
    let ledger_totals = ledger_side_totals(cx, &header)?;
    let report_totals = stored_totals(&header, "report_totals").unwrap_or_default();
    let mut codes: Vec<&str> = ledger_totals
        .iter()
        .chain(&report_totals)
        .map(|t| t.currency.as_str())
        .collect();
    codes.sort_unstable();
    codes.dedup();
    for code in codes {
        let currency = currency_of(code)?;
        let side = |totals: &[CurrencyTotals]| {
            totals
                .iter()
                .find(|t| t.currency == code)
                .map(|t| measures(t, currency))
        };
        let (ledger, report) = (side(&ledger_totals), side(&report_totals));
        for (i, word) in MEASURES.iter().enumerate() {
            let l = ledger.and_then(|m| m[i]);
            let r = report.and_then(|m| m[i]);
            sink.label("total")?;
            sink.text(word)?;
            sink.empty()?;
            sink.empty()?;
            sink.text(code)?;
            sink.empty()?;
            sink.empty()?;
            sink.opt_amount(l, Some(currency))?;
            sink.opt_amount(r, Some(currency))?;
            match (l, r) {
                (Some(l), Some(r)) => sink.opt_amount(r.checked_sub(l), Some(currency))?,
                _ => sink.empty()?,
            }
            for _ in 0..3 {
                sink.empty()?;
            }
            sink.end_row()?;
        }
    }
    Ok(Written {
        rows: written,
        totals: ledger_totals,
    })
}

/// The measures of the per-currency totals rows, in order.
const MEASURES: [&str; 6] = ["paid", "captured", "refunded", "voided", "pending", "fees"];

/// A stored side's measures in minor units (`None`: unknown, or not readable as an amount
/// of the currency: left empty rather than guessed).
fn measures(t: &CurrencyTotals, currency: Currency) -> [Option<i64>; 6] {
    let minor = |text: &str| Amount::parse(text, currency).ok().map(Amount::minor);
    [
        minor(&t.paid),
        minor(&t.captured),
        minor(&t.refunded),
        minor(&t.voided),
        minor(&t.pending),
        t.fees.as_deref().and_then(minor),
    ]
}
