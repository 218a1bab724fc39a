//! What the reconciliation facade hands out and takes in (`--json`, the desktop app), and
//! the reads behind them: a run's summary, its items page by page, the periods.
//!
//! Items keep both sides as JSON in minor units (`amount_minor`, `created_at_ms`: exact,
//! compact, what the run saw), except a match by session id, which keeps only the facts
//! both sides agreed on in columns (most of a month's items; see migration 0008) and is
//! read back as two sides of those facts. The views turn minor units into decimal strings
//! in the currency's decimals and times into RFC 3339 on the way out.

use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rusqlite::{OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use ts_rs::TS;

use super::Db;
use super::classify::{self, LedgerSide, MatchClass, ReportSide};
use super::input::{FieldChange, RowReject};
use crate::error::{Error, FieldContext, Result};
use crate::export::totals::CurrencyTotals;
use crate::limits::{DEFAULT_PAGE_ROWS, MAX_PAGE_ROWS};
use crate::money::{Amount, Currency};
use crate::sources::format_ms;
use crate::store::StoreError;

/// `daftar reconcile --profile P (--report FILE | --report-token T)`: the user's text as
/// given (the job checks it).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default)]
#[ts(optional_fields = nullable)]
pub struct ReconcileRequest {
    pub profile: String,
    /// A report file (CSV or XLSX); exactly one of this and `report_token`.
    pub report: Option<PathBuf>,
    /// The token of a report Ottu generated: downloaded, then read like a file.
    pub report_token: Option<String>,
    /// Payments created at or after: RFC 3339 or a UTC date (its first instant).
    pub from: Option<String>,
    /// Created before: RFC 3339, or a UTC date, which includes that whole day.
    pub to: Option<String>,
    /// Column overrides, `HEADER=field`, on top of the profile's saved mapping.
    pub map: Vec<String>,
}

/// Where a run is: reading the report into the ledger's scratch space, matching, saving.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ReconcilePhase {
    Reading,
    Matching,
    Saving,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, TS)]
pub struct ReconcileProgress {
    pub phase: ReconcilePhase,
    /// Rows handled in this phase so far.
    pub rows: u64,
    /// Rows this phase will handle, when known (not while reading: the file's size is).
    pub total: Option<u64>,
    /// Bytes of the report read so far, and its size (for a bar while reading).
    pub bytes: u64,
    pub total_bytes: u64,
}

/// One class in one currency: how many payments, and the sum of their amounts as each
/// side holds them (a side's amounts in another currency are left out of this line).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ClassTotal {
    pub class: MatchClass,
    pub currency: String,
    pub count: u64,
    pub ledger_amount: String,
    pub report_amount: String,
}

/// A reconciliation run: what it compared and what it found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct ReconcileSummary {
    /// The reconciliation's id (`reconcile show ID`).
    pub id: i64,
    pub profile: String,
    /// The period: payments created in `[from, to)`; `None` = unbounded.
    pub from: Option<String>,
    pub to: Option<String>,
    /// The report file's name, or `token:<token>`.
    pub source: String,
    pub created_at: String,
    pub actor: String,
    /// Per class and currency, classes in [`MatchClass::ALL`] order.
    pub classes: Vec<ClassTotal>,
    /// The ledger's totals over the period (as exports end with).
    pub totals: Vec<CurrencyTotals>,
    /// The same totals from the report's rows in the period.
    pub report_totals: Vec<CurrencyTotals>,
    /// Nothing but `matched` and `queued`.
    pub clean: bool,
    /// Mismatches nobody has accepted or kept yet (now, not when the run ended).
    pub undecided: u64,
    /// Valid payment (parent) rows of the report, and child rows (refunds, captures, voids).
    pub report_rows: u64,
    pub child_rows: u64,
    /// Report rows of payments created outside the period: not classified.
    pub outside_period: u64,
    /// Report rows of payments deleted in the ledger (hidden): left out, as Ottu's reports
    /// leave deleted payments out.
    pub hidden_rows: u64,
    /// Rows the report reader refused (capped list; the count is complete).
    pub rejected: Vec<RowReject>,
    pub rejected_count: u64,
}

/// One classified payment with both sides as the run saw them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct ReconcileItemView {
    pub id: i64,
    pub reconciliation: i64,
    pub class: MatchClass,
    pub session_id: Option<String>,
    pub order_no: Option<String>,
    pub currency: String,
    /// The ledger's values: amount, currency, state, created_at, reference_number,
    /// refunded/captured/voided, unfinished (an operation not final yet). A `matched`
    /// item found by session id keeps only what both sides agreed on: amount, currency,
    /// state, created_at, refunded/captured/voided.
    #[ts(type = "Record<string, unknown> | null")]
    pub ledger: Option<Value>,
    /// The report's values: the same, plus its line, how it was matched (`matched_by`),
    /// gateway code, customer email and child rows; for a `matched` item found by session
    /// id: line, matched_by, session_id, amount, currency and state.
    #[ts(type = "Record<string, unknown> | null")]
    pub report: Option<Value>,
    /// `accepted` or `kept`; `None` while undecided.
    pub decision: Option<String>,
    pub decided_at: Option<String>,
    pub decided_by: Option<String>,
    /// The fields the sides disagree on, in both sides' words.
    pub differences: Vec<FieldChange>,
}

/// `reconcile show ID [--class C] [--after CURSOR] [--limit N]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default)]
#[ts(optional_fields = nullable)]
pub struct ReconcileItemQuery {
    /// The reconciliation.
    pub id: i64,
    /// One class word, e.g. `amount_differs`.
    pub class: Option<String>,
    pub after: Option<String>,
    pub limit: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct ReconcileItemPage {
    pub items: Vec<ReconcileItemView>,
    pub next_cursor: Option<String>,
    /// Items of the reconciliation (of the class, if one was given).
    pub total: u64,
}

/// `reconcile accept|keep ITEM [--reason TEXT]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default)]
#[ts(optional_fields = nullable)]
pub struct ReconcileDecision {
    pub item: i64,
    /// `accept` (the ledger takes the report's values) or `keep` (the ledger's stay).
    pub decision: String,
    pub reason: Option<String>,
}

/// `reconcile lock --profile P --from D --to D [--reconciliation ID]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default)]
#[ts(optional_fields = nullable)]
pub struct LockPeriodRequest {
    pub profile: String,
    pub from: String,
    pub to: String,
    /// The reconciliation that covers the period; default: the newest that does.
    pub reconciliation: Option<i64>,
}

/// Why and when a locked period was reopened: the first later change to one of its
/// payments (the ledger's triggers record it, whatever wrote the change).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct ReopenView {
    pub at: String,
    /// `payment_changed` (amount, currency, state, deletion), `payment_added`,
    /// `child_added` or `child_changed`.
    pub reason: String,
    pub session_id: Option<String>,
    pub order_no: Option<String>,
}

/// A period the merchant marked reconciled.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct PeriodView {
    pub id: i64,
    pub profile: String,
    pub from: String,
    /// Exclusive: the first instant after the period.
    pub to: String,
    pub reconciliation: Option<i64>,
    /// `locked`, or `reopened` once a payment in it changed.
    pub status: String,
    pub locked_at: String,
    pub locked_by: String,
    /// Set when `status` is `reopened`.
    pub reopened: Option<ReopenView>,
}

// --- The summary as stored (`reconciliations.summary_json`) ---------------------------

/// The part of [`ReconcileSummary`] a run fixes, as `summary_json` holds it.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub(super) struct StoredSummary {
    pub classes: Vec<ClassTotal>,
    pub totals: Vec<StoredTotals>,
    pub report_totals: Vec<StoredTotals>,
    pub report_rows: u64,
    pub child_rows: u64,
    pub outside_period: u64,
    pub hidden_rows: u64,
    pub rejected: Vec<RowReject>,
    pub rejected_count: u64,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(super) struct StoredTotals {
    currency: String,
    paid: String,
    captured: String,
    refunded: String,
    voided: String,
    pending: String,
    fees: Option<String>,
}

impl From<&CurrencyTotals> for StoredTotals {
    fn from(t: &CurrencyTotals) -> Self {
        StoredTotals {
            currency: t.currency.clone(),
            paid: t.paid.clone(),
            captured: t.captured.clone(),
            refunded: t.refunded.clone(),
            voided: t.voided.clone(),
            pending: t.pending.clone(),
            fees: t.fees.clone(),
        }
    }
}

impl From<StoredTotals> for CurrencyTotals {
    fn from(t: StoredTotals) -> Self {
        CurrencyTotals {
            currency: t.currency,
            paid: t.paid,
            captured: t.captured,
            refunded: t.refunded,
            voided: t.voided,
            pending: t.pending,
            fees: t.fees,
        }
    }
}

/// Undecided mismatches of a reconciliation, through `reconciliation_items_by_class`.
pub(super) fn undecided(tx: &Transaction<'_>, reconciliation: i64) -> Result<u64> {
    let mut stmt = tx
        .prepare_cached(
            "SELECT COUNT(*) FROM reconciliation_items WHERE reconciliation_id = ?1
           AND class IN ('amount_differs', 'state_differs', 'totals_differ', 'report_only',
                         'ledger_only', 'changed_late')
           AND decision IS NULL",
        )
        .db()?;
    let n: i64 = stmt.query_row([reconciliation], |r| r.get(0)).db()?;
    Ok(n as u64)
}

const SUMMARY_SELECT: &str = "SELECT r.id, pr.name, r.from_ms, r.to_ms, r.source, r.created_at_ms,
        r.actor, r.summary_json
    FROM reconciliations r JOIN profiles pr ON pr.id = r.profile_id";

fn summary_from_row(tx: &Transaction<'_>, row: &rusqlite::Row<'_>) -> Result<ReconcileSummary> {
    let id: i64 = row.get(0).db()?;
    let json: String = row.get(7).db()?;
    let stored: StoredSummary = serde_json::from_str(&json)
        .map_err(|_| StoreError::corrupt("reconciliation summary", json.clone()))?;
    let clean = stored
        .classes
        .iter()
        .all(|c| !c.class.is_mismatch() || c.count == 0);
    Ok(ReconcileSummary {
        id,
        profile: row.get(1).db()?,
        from: row.get::<_, Option<i64>>(2).db()?.map(format_ms),
        to: row.get::<_, Option<i64>>(3).db()?.map(format_ms),
        source: row.get(4).db()?,
        created_at: format_ms(row.get(5).db()?),
        actor: row.get(6).db()?,
        classes: stored.classes,
        totals: stored.totals.into_iter().map(Into::into).collect(),
        report_totals: stored.report_totals.into_iter().map(Into::into).collect(),
        clean,
        undecided: undecided(tx, id)?,
        report_rows: stored.report_rows,
        child_rows: stored.child_rows,
        outside_period: stored.outside_period,
        hidden_rows: stored.hidden_rows,
        rejected: stored.rejected,
        rejected_count: stored.rejected_count,
    })
}

pub(super) fn summary(tx: &Transaction<'_>, id: i64) -> Result<ReconcileSummary> {
    let mut stmt = tx
        .prepare_cached(&format!("{SUMMARY_SELECT} WHERE r.id = ?1"))
        .db()?;
    let mut rows = stmt.query([id]).db()?;
    match rows.next().db()? {
        Some(row) => summary_from_row(tx, row),
        None => Err(Error::NotFound {
            what: "reconciliation",
            field: "id",
            key: id.to_string(),
        }),
    }
}

pub(super) fn summaries(
    tx: &Transaction<'_>,
    profile: Option<crate::model::ProfileId>,
) -> Result<Vec<ReconcileSummary>> {
    let mut stmt = tx
        .prepare_cached(&format!(
            "{SUMMARY_SELECT} WHERE ?1 IS NULL OR r.profile_id = ?1 ORDER BY r.id DESC"
        ))
        .db()?;
    let mut rows = stmt.query([profile.map(|p| p.0)]).db()?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().db()? {
        out.push(summary_from_row(tx, row)?);
    }
    Ok(out)
}

// --- Items ---------------------------------------------------------------------------

const ITEM_CURSOR_TAG: &str = "ri1";

fn encode_cursor(id: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{ITEM_CURSOR_TAG}:{id}"))
}

fn decode_cursor(cursor: &str) -> Result<i64> {
    let invalid = || {
        Error::invalid(
            "after",
            "cursor.invalid",
            "the cursor is not one this list gave out: start again from the first page",
        )
    };
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor.trim())
        .map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    text.strip_prefix(ITEM_CURSOR_TAG)
        .and_then(|rest| rest.strip_prefix(':'))
        .and_then(|id| id.parse().ok())
        .ok_or_else(invalid)
}

/// A stored item row, before its sides are turned into views.
pub(super) struct ItemRow {
    pub id: i64,
    pub reconciliation: i64,
    pub class: MatchClass,
    pub payment_id: Option<i64>,
    pub session_id: Option<String>,
    pub order_no: Option<String>,
    pub currency: String,
    pub ledger: Option<Value>,
    pub report: Option<Value>,
    pub decision: Option<String>,
    pub decided_at_ms: Option<i64>,
    pub decided_by: Option<String>,
}

pub(super) const ITEM_COLUMNS: &str = "id, reconciliation_id, class, payment_id, session_id,
    order_no, currency, ledger_json, report_json, decision, decided_at_ms, decided_by,
    amount_minor, state, created_at_ms, refunded_minor, captured_minor, voided_minor,
    report_line";

/// A column this build cannot read, as rusqlite's conversion error (named by the column).
fn unreadable(column: usize, e: impl std::error::Error + Send + Sync + 'static) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(column, rusqlite::types::Type::Text, Box::new(e))
}

fn parse_json(column: usize, text: Option<String>) -> rusqlite::Result<Option<Value>> {
    text.map(|t| serde_json::from_str(&t).map_err(|e| unreadable(column, e)))
        .transpose()
}

pub(super) fn item_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<ItemRow> {
    let class: String = row.get(2)?;
    let mut item = ItemRow {
        id: row.get(0)?,
        reconciliation: row.get(1)?,
        class: class.parse().map_err(|e| unreadable(2, e))?,
        payment_id: row.get(3)?,
        session_id: row.get(4)?,
        order_no: row.get(5)?,
        currency: row.get(6)?,
        ledger: parse_json(7, row.get(7)?)?,
        report: parse_json(8, row.get(8)?)?,
        decision: row.get(9)?,
        decided_at_ms: row.get(10)?,
        decided_by: row.get(11)?,
    };
    // A compact match (no JSON, the agreed facts in columns): both sides from them.
    if let (None, None, Some(amount_minor)) =
        (&item.ledger, &item.report, row.get::<_, Option<i64>>(12)?)
    {
        let state: Option<String> = row.get(13)?;
        // No `order_no` in the sides: the item's is the ledger's or, without one, the
        // report's, and a side must not claim the other's.
        item.ledger = Some(json!({
            "payment_id": item.payment_id,
            "session_id": item.session_id,
            "amount_minor": amount_minor,
            "currency": item.currency,
            "state": state,
            "created_at_ms": row.get::<_, Option<i64>>(14)?,
            "refunded_minor": row.get::<_, Option<i64>>(15)?,
            "captured_minor": row.get::<_, Option<i64>>(16)?,
            "voided_minor": row.get::<_, Option<i64>>(17)?,
            "unfinished": false,
        }));
        item.report = Some(json!({
            "line": row.get::<_, Option<i64>>(18)?,
            "matched_by": "session_id",
            "session_id": item.session_id,
            "amount_minor": amount_minor,
            "currency": item.currency,
            "state": state,
        }));
    }
    Ok(item)
}

pub(super) fn item(tx: &Transaction<'_>, id: i64) -> Result<ItemRow> {
    let mut stmt = tx
        .prepare_cached(&format!(
            "SELECT {ITEM_COLUMNS} FROM reconciliation_items WHERE id = ?1"
        ))
        .db()?;
    stmt.query_row([id], item_from_row)
        .optional()
        .db()?
        .ok_or(Error::NotFound {
            what: "reconciliation item",
            field: "item",
            key: id.to_string(),
        })
}

pub(super) fn items(tx: &Transaction<'_>, q: &ReconcileItemQuery) -> Result<ReconcileItemPage> {
    let class = q
        .class
        .as_deref()
        .map(|c| c.trim().parse::<MatchClass>())
        .transpose()
        .field("class")?;
    let limit = q.limit.unwrap_or(i64::from(DEFAULT_PAGE_ROWS));
    if !(1..=i64::from(MAX_PAGE_ROWS)).contains(&limit) {
        return Err(Error::invalid(
            "limit",
            "limit.out_of_range",
            format!("{limit} is out of range: allowed is 1 to {MAX_PAGE_ROWS}"),
        ));
    }
    let after = q
        .after
        .as_deref()
        .map(decode_cursor)
        .transpose()?
        .unwrap_or(0);
    // Checks the reconciliation exists (not found, not an empty page).
    let exists: Option<i64> = tx
        .query_row(
            "SELECT id FROM reconciliations WHERE id = ?1",
            [q.id],
            |r| r.get(0),
        )
        .optional()
        .db()?;
    if exists.is_none() {
        return Err(Error::NotFound {
            what: "reconciliation",
            field: "id",
            key: q.id.to_string(),
        });
    }
    // With a class: `reconciliation_items_by_class` in id order. Without: one run's items
    // have consecutive ids (one INSERT), so the rowid range from the cursor is read in
    // order (`+` keeps the planner from reading the class index and sorting a million rows).
    let sql = match class {
        Some(_) => format!(
            "SELECT {ITEM_COLUMNS} FROM reconciliation_items
             WHERE reconciliation_id = ?1 AND class = ?2 AND id > ?3 ORDER BY id LIMIT ?4"
        ),
        None => format!(
            "SELECT {ITEM_COLUMNS} FROM reconciliation_items
             WHERE +reconciliation_id = ?1 AND ?2 IS NULL
               AND id > max(?3, (SELECT min(id) - 1 FROM reconciliation_items
                                 WHERE reconciliation_id = ?1))
             ORDER BY id LIMIT ?4"
        ),
    };
    let class_word = class.map(MatchClass::as_str);
    let mut stmt = tx.prepare_cached(&sql).db()?;
    let rows = stmt
        .query_map(params![q.id, class_word, after, limit + 1], item_from_row)
        .db()?;
    let mut items = Vec::new();
    for row in rows {
        items.push(row.db()?);
    }
    let next_cursor = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(|i| encode_cursor(i.id))
    } else {
        None
    };
    let total: i64 = tx
        .prepare_cached(
            "SELECT COUNT(*) FROM reconciliation_items
             WHERE reconciliation_id = ?1 AND (?2 IS NULL OR class = ?2)",
        )
        .db()?
        .query_row(params![q.id, class_word], |r| r.get(0))
        .db()?;
    Ok(ReconcileItemPage {
        items: items.iter().map(item_view).collect(),
        next_cursor,
        total: total as u64,
    })
}

// --- Sides: stored JSON (minor units) to views and to the class rules' facts ----------

fn currency_of(side: &Value) -> Option<Currency> {
    side.get("currency")
        .and_then(Value::as_str)
        .and_then(|c| Currency::from_code(c).ok())
}

fn money_text(minor: i64, currency: Option<Currency>) -> Value {
    match currency {
        Some(c) => Value::String(Amount::from_minor(minor, c).to_string()),
        None => Value::from(minor),
    }
}

/// A stored side as shown: `x_minor` becomes `x` in the currency's decimals, `x_at_ms`
/// becomes `x_at` in RFC 3339; child rows likewise.
pub(super) fn side_view(side: &Value) -> Value {
    let currency = currency_of(side);
    let Some(map) = side.as_object() else {
        return side.clone();
    };
    let mut out = Map::new();
    for (key, value) in map {
        if let Some(name) = key.strip_suffix("_minor") {
            let shown = value
                .as_i64()
                .map_or(Value::Null, |m| money_text(m, currency));
            out.insert(name.to_string(), shown);
        } else if let Some(name) = key.strip_suffix("_ms") {
            let shown = value
                .as_i64()
                .map_or(Value::Null, |ms| Value::String(format_ms(ms)));
            out.insert(name.to_string(), shown);
        } else if key == "children" {
            let children = value
                .as_array()
                .map(|a| a.iter().map(side_view).collect())
                .unwrap_or_default();
            out.insert(key.clone(), Value::Array(children));
        } else {
            out.insert(key.clone(), value.clone());
        }
    }
    Value::Object(out)
}

fn text(side: &Value, key: &str) -> String {
    side.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn minor(side: &Value, key: &str) -> Option<i64> {
    side.get(key).and_then(Value::as_i64)
}

pub(super) fn ledger_side(side: &Value) -> LedgerSide {
    LedgerSide {
        amount_minor: minor(side, "amount_minor").unwrap_or_default(),
        currency: text(side, "currency"),
        state: text(side, "state"),
        refunded_minor: minor(side, "refunded_minor").unwrap_or_default(),
        captured_minor: minor(side, "captured_minor").unwrap_or_default(),
        voided_minor: minor(side, "voided_minor").unwrap_or_default(),
        unfinished: side
            .get("unfinished")
            .and_then(Value::as_bool)
            .unwrap_or_default(),
    }
}

pub(super) fn report_side(side: &Value) -> ReportSide {
    ReportSide {
        amount_minor: minor(side, "amount_minor").unwrap_or_default(),
        currency: text(side, "currency"),
        state: text(side, "state"),
        refunded_minor: minor(side, "refunded_minor"),
        captured_minor: minor(side, "captured_minor"),
        voided_minor: minor(side, "voided_minor"),
    }
}

/// The fields the sides disagree on, each side's value in its own words.
fn differences(ledger: &Value, report: &Value) -> Vec<FieldChange> {
    let (l, r) = (ledger_side(ledger), report_side(report));
    let (lc, rc) = (currency_of(ledger), currency_of(report));
    let amount = |m: Option<i64>, c: Option<Currency>| {
        m.map(|m| match money_text(m, c) {
            Value::String(s) => s,
            other => other.to_string(),
        })
    };
    classify::differences(&l, &r)
        .into_iter()
        .map(|field| {
            let (ledger, report) = match field {
                "amount" => (
                    amount(Some(l.amount_minor), lc),
                    amount(Some(r.amount_minor), rc),
                ),
                "currency" => (Some(l.currency.clone()), Some(r.currency.clone())),
                "state" => (Some(l.state.clone()), Some(r.state.clone())),
                "refunded" => (
                    amount(Some(l.refunded_minor), lc),
                    amount(r.refunded_minor, rc),
                ),
                "captured" => (
                    amount(Some(l.captured_minor), lc),
                    amount(r.captured_minor, rc),
                ),
                _ => (amount(Some(l.voided_minor), lc), amount(r.voided_minor, rc)),
            };
            FieldChange {
                field: field.to_string(),
                ledger,
                report,
            }
        })
        .collect()
}

pub(super) fn item_view(item: &ItemRow) -> ReconcileItemView {
    let differences = match (&item.ledger, &item.report) {
        (Some(l), Some(r)) => differences(l, r),
        _ => Vec::new(),
    };
    ReconcileItemView {
        id: item.id,
        reconciliation: item.reconciliation,
        class: item.class,
        session_id: item.session_id.clone(),
        order_no: item.order_no.clone(),
        currency: item.currency.clone(),
        ledger: item.ledger.as_ref().map(side_view),
        report: item.report.as_ref().map(side_view),
        decision: item.decision.clone(),
        decided_at: item.decided_at_ms.map(format_ms),
        decided_by: item.decided_by.clone(),
        differences,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cursors_round_trip_and_foreign_ones_are_refused() {
        assert_eq!(decode_cursor(&encode_cursor(42)).unwrap(), 42);
        let foreign = URL_SAFE_NO_PAD.encode("p1:1:2");
        assert_eq!(
            decode_cursor(&foreign).unwrap_err().code(),
            "cursor.invalid"
        );
        assert_eq!(decode_cursor("%%").unwrap_err().code(), "cursor.invalid");
    }

    #[test]
    fn sides_are_shown_in_the_currency_decimals() {
        let side = json!({
            "amount_minor": 12500, "currency": "KWD", "state": "paid",
            "created_at_ms": 0, "refunded_minor": null,
            "children": [{"amount_minor": 500, "currency": "KWD", "state": "refunded"}]
        });
        let view = side_view(&side);
        assert_eq!(view["amount"], "12.500");
        assert_eq!(view["created_at"], "1970-01-01T00:00:00Z");
        assert_eq!(view["refunded"], Value::Null);
        assert_eq!(view["children"][0]["amount"], "0.500");
    }

    #[test]
    fn differences_name_both_sides() {
        let ledger = json!({"amount_minor": 12500, "currency": "KWD", "state": "paid",
                            "refunded_minor": 0, "captured_minor": 0, "voided_minor": 0});
        let report = json!({"amount_minor": 12000, "currency": "KWD", "state": "paid",
                            "refunded_minor": 1000});
        let d = differences(&ledger, &report);
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].field, "amount");
        assert_eq!(d[0].ledger.as_deref(), Some("12.500"));
        assert_eq!(d[0].report.as_deref(), Some("12.000"));
        assert_eq!(d[1].field, "refunded");
        assert_eq!(d[1].report.as_deref(), Some("1.000"));
    }
}
