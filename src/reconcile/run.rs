//! One reconciliation run: the report's rows against the ledger's payments of one profile
//! and period, every payment classified, the result saved in one transaction.
//!
//! Built for a million rows on each side (target: under 30 s; BENCHMARKS.md, "Month end"),
//! all of it in one read snapshot of the ledger that writes only temp tables, so the
//! ledger's write lock is taken only to save:
//! 1. *Reading*: the report's rows stream into TEMP tables (payments and child rows apart)
//!    through cached statements, parsed ahead on a second thread ([`super::prefetch`]),
//!    so memory does not grow with the file. Each payment row is matched by session id as
//!    it goes in (`UNIQUE (profile_id, session_id)`).
//! 2. *Matching*: set-based SQL. What the session id left is matched by order number, then
//!    by reference number; a candidate counts only when it is the one on both sides (an
//!    order number two payments share matches neither). Child rows are summed per parent;
//!    the ledger's children and unfinished operations likewise.
//! 3. *Classifying*: one pass over the joined rows, each through [`classify`], then one
//!    pass over the ledger's payments in the period that no row matched (`ledger_only`).
//!    Items go to two TEMP tables, mismatches first, so a reconciliation lists them first.
//!    A match by session id keeps only the agreed facts in columns; every other item then
//!    gets both sides as JSON in one `UPDATE` (migration 0008: writing both sides of a
//!    million matches was most of the run's time).
//! 4. *Saving*: one write transaction copies the items with one `INSERT ... SELECT` and
//!    stores the summary (per class and currency, both sides' totals) with an audit event.
//!
//! Hidden (deleted) payments are left out like Ottu's reports leave them out: a row that
//! names one is counted in `hidden_rows` only. A report row is in the period by its
//! payment's creation time in the ledger when it matched one (the ledger is what gets
//! locked), else by its own `created` (a row without one is taken as in the period).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};

use rusqlite::{Connection, Transaction, params};
use serde_json::json;

use super::Db;
use super::classify::{LedgerSide, MatchClass, ReportSide, classify};
use super::input::{ReportRow, ReportRows, RowReject};
use super::prefetch::with_prefetch;
use super::views::{
    ClassTotal, ReconcilePhase, ReconcileProgress, ReconcileSummary, StoredSummary,
};
use crate::error::{Error, Result};
use crate::export::totals::{TotalsBuilder, TotalsFilter, ledger_totals};
use crate::ledger::Ledger;
use crate::limits::{IMPORT_MAX_LISTED, RECONCILE_TEMP_CACHE_KIB};
use crate::model::ProfileId;
use crate::money::{Amount, Currency};
use crate::store::{self, EventInsert};

/// Rows between two looks at the cancel flag and two progress calls.
const PROGRESS_EVERY_ROWS: u64 = 4_096;

/// The period, `[from_ms, to_ms)` of payments' creation; `None` = unbounded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Period {
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
}

impl Period {
    fn contains(&self, at_ms: i64) -> bool {
        self.from_ms.is_none_or(|f| at_ms >= f) && self.to_ms.is_none_or(|t| at_ms < t)
    }
}

/// A stream of report rows with how far through its file it is (for a progress bar).
/// The outer `Err` is the file itself failing part way (not UTF-8, broken quoting): the
/// run stops there and saves nothing, rather than reconcile half a report. `Send`: the run
/// reads it on a thread of its own while it writes the rows.
pub trait RowSource: Send {
    fn next_row(&mut self) -> Option<Result<std::result::Result<ReportRow, RowReject>>>;
    fn bytes_read(&self) -> u64;
    fn total_bytes(&self) -> u64;
}

impl RowSource for ReportRows {
    fn next_row(&mut self) -> Option<Result<std::result::Result<ReportRow, RowReject>>> {
        ReportRows::next_row(self)
    }
    fn bytes_read(&self) -> u64 {
        ReportRows::bytes_read(self)
    }
    fn total_bytes(&self) -> u64 {
        ReportRows::total_bytes(self)
    }
}

/// Rows already in hand (tests, callers that parsed them themselves).
pub struct VecSource(pub std::vec::IntoIter<std::result::Result<ReportRow, RowReject>>);

impl RowSource for VecSource {
    fn next_row(&mut self) -> Option<Result<std::result::Result<ReportRow, RowReject>>> {
        self.0.next().map(Ok)
    }
    fn bytes_read(&self) -> u64 {
        0
    }
    fn total_bytes(&self) -> u64 {
        0
    }
}

/// The scratch tables of one run, in the connection's own temp database: dropped first so
/// a run that stopped part way on the same connection leaves nothing behind.
const TEMP_SCHEMA: &str = "
DROP TABLE IF EXISTS temp.rc_report;
DROP TABLE IF EXISTS temp.rc_children;
DROP TABLE IF EXISTS temp.rc_cand;
DROP TABLE IF EXISTS temp.rc_kids;
DROP TABLE IF EXISTS temp.rc_lc;
DROP TABLE IF EXISTS temp.rc_lq;
DROP TABLE IF EXISTS temp.rc_items;
DROP TABLE IF EXISTS temp.rc_items_ok;
CREATE TEMP TABLE rc_report (
    line INTEGER PRIMARY KEY, session_id TEXT NOT NULL, order_no TEXT,
    amount_minor INTEGER NOT NULL, currency TEXT NOT NULL, state TEXT NOT NULL,
    pg_code TEXT, created_at_ms INTEGER, modified_at_ms INTEGER, reference_number TEXT,
    refunded_minor INTEGER, captured_minor INTEGER, voided_minor INTEGER,
    customer_email TEXT, payment_id INTEGER, matched_by TEXT);
CREATE TEMP TABLE rc_children (
    line INTEGER PRIMARY KEY, parent TEXT NOT NULL, session_id TEXT NOT NULL,
    kind TEXT NOT NULL, amount_minor INTEGER NOT NULL, currency TEXT NOT NULL,
    state TEXT NOT NULL, created_at_ms INTEGER, reference_number TEXT);
CREATE TEMP TABLE rc_cand (line INTEGER NOT NULL, payment_id INTEGER NOT NULL);
CREATE TEMP TABLE rc_items (
    class TEXT NOT NULL, payment_id INTEGER, session_id TEXT, order_no TEXT,
    currency TEXT NOT NULL, ledger_json TEXT, report_json TEXT, amount_minor INTEGER,
    state TEXT, created_at_ms INTEGER, refunded_minor INTEGER, captured_minor INTEGER,
    voided_minor INTEGER, report_line INTEGER);
CREATE TEMP TABLE rc_items_ok (
    class TEXT NOT NULL, payment_id INTEGER, session_id TEXT, order_no TEXT,
    currency TEXT NOT NULL, ledger_json TEXT, report_json TEXT, amount_minor INTEGER,
    state TEXT, created_at_ms INTEGER, refunded_minor INTEGER, captured_minor INTEGER,
    voided_minor INTEGER, report_line INTEGER);
";

const DROP_TEMP: &str = "
DROP TABLE IF EXISTS temp.rc_report;
DROP TABLE IF EXISTS temp.rc_children;
DROP TABLE IF EXISTS temp.rc_cand;
DROP TABLE IF EXISTS temp.rc_kids;
DROP TABLE IF EXISTS temp.rc_lc;
DROP TABLE IF EXISTS temp.rc_lq;
DROP TABLE IF EXISTS temp.rc_items;
DROP TABLE IF EXISTS temp.rc_items_ok;
";

/// A parent row, matched by session id as it goes in: one lookup in the profile's unique
/// index, no second pass over the rows.
const INSERT_PARENT: &str = "INSERT INTO temp.rc_report (line, session_id, order_no,
    amount_minor, currency, state, pg_code, created_at_ms, modified_at_ms, reference_number,
    refunded_minor, captured_minor, voided_minor, customer_email, payment_id, matched_by)
    SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, p.id,
        CASE WHEN p.id IS NOT NULL THEN 'session_id' END
    FROM (SELECT 1) LEFT JOIN main.payments p ON p.profile_id = ?15 AND p.session_id = ?2";

const INSERT_CHILD: &str = "INSERT INTO temp.rc_children (line, parent, session_id, kind,
    amount_minor, currency, state, created_at_ms, reference_number)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";

/// One matching pass after the session ids: report rows still unmatched whose `column`
/// equals one ledger payment's that no row matched yet, and that payment is that row's
/// only candidate and the row its only one.
///
/// `+p.profile_id` keeps SQLite off the profile's index here: through it the planner
/// walked every payment of the profile once per unmatched row (quadratic: 71 s of a
/// 200k-row run); the column's own index makes it one lookup per unmatched row.
fn match_by(tx: &Transaction<'_>, profile: ProfileId, column: &str) -> Result<usize> {
    tx.execute("DELETE FROM temp.rc_cand", []).db()?;
    tx.execute(
        &format!(
            "INSERT INTO temp.rc_cand (line, payment_id)
             SELECT r.line, p.id FROM temp.rc_report r
             JOIN main.payments p ON p.{column} = r.{column}
             WHERE r.payment_id IS NULL AND r.{column} IS NOT NULL AND p.{column} IS NOT NULL
               AND +p.profile_id = ?1
               AND NOT EXISTS (SELECT 1 FROM temp.rc_report x WHERE x.payment_id = p.id)"
        ),
        [profile.0],
    )
    .db()?;
    let n = tx
        .execute(
            &format!(
                "UPDATE temp.rc_report
                 SET payment_id = (SELECT c.payment_id FROM temp.rc_cand c
                                   WHERE c.line = rc_report.line),
                     matched_by = '{column}'
                 WHERE line IN (
                     SELECT c.line FROM temp.rc_cand c
                     WHERE (SELECT COUNT(*) FROM temp.rc_cand c2 WHERE c2.line = c.line) = 1
                       AND (SELECT COUNT(*) FROM temp.rc_cand c3
                            WHERE c3.payment_id = c.payment_id) = 1)"
            ),
            [],
        )
        .db()?;
    Ok(n)
}

/// The ledger side as JSON, from a `payments p` row with `lc` (children sums) and `lq`
/// (unfinished operations) joined.
const LEDGER_JSON: &str = "json_object('payment_id', p.id, 'session_id', p.session_id,
    'order_no', p.order_no, 'amount_minor', p.amount_minor, 'currency', p.currency,
    'state', p.state, 'created_at_ms', p.created_at_ms, 'reference_number', p.reference_number,
    'refunded_minor', COALESCE(lc.refunded, 0), 'captured_minor', COALESCE(lc.captured, 0),
    'voided_minor', COALESCE(lc.voided, 0),
    'unfinished', json(CASE WHEN lq.payment_id IS NULL THEN 'false' ELSE 'true' END))";

/// A report total: the row's own column when it has one, else (when the file has child
/// rows at all, `?1`) the sum of its child rows, else unknown.
fn report_total(column: &str) -> String {
    format!(
        "CASE WHEN r.{column}_minor IS NOT NULL THEN r.{column}_minor
              WHEN ?1 THEN COALESCE(k.{column}, 0) END"
    )
}

/// Every report row with its ledger payment (if any) and both sides' facts: what the class
/// rules need, no JSON (most rows are `matched` and are stored without it).
fn report_select() -> String {
    let (refunded, captured, voided) = (
        report_total("refunded"),
        report_total("captured"),
        report_total("voided"),
    );
    format!(
        "SELECT r.line, r.session_id, r.order_no, r.amount_minor, r.currency, r.state,
            r.created_at_ms, {refunded}, {captured}, {voided},
            p.id, p.hidden, p.created_at_ms, p.session_id, p.order_no, p.amount_minor,
            p.currency, p.state, COALESCE(lc.refunded, 0), COALESCE(lc.captured, 0),
            COALESCE(lc.voided, 0), lq.payment_id IS NOT NULL, r.matched_by
         FROM temp.rc_report r
         LEFT JOIN main.payments p ON p.id = r.payment_id
         LEFT JOIN temp.rc_kids k ON k.parent = r.session_id
         LEFT JOIN temp.rc_lc lc ON lc.payment_id = p.id
         LEFT JOIN temp.rc_lq lq ON lq.payment_id = p.id
         ORDER BY r.line"
    )
}

/// Both sides' JSON for the items of `table` kept whole (all but the compact matches),
/// from the same snapshot the rules read: the ledger's from its payment, the report's
/// from its row (`report_line`) with its child rows.
fn sides_json_update(table: &str) -> String {
    let (refunded, captured, voided) = (
        report_total("refunded"),
        report_total("captured"),
        report_total("voided"),
    );
    format!(
        "UPDATE temp.{table} SET
            ledger_json = (SELECT {LEDGER_JSON} FROM main.payments p
                           LEFT JOIN temp.rc_lc lc ON lc.payment_id = p.id
                           LEFT JOIN temp.rc_lq lq ON lq.payment_id = p.id
                           WHERE p.id = {table}.payment_id),
            report_json = (SELECT json_object('line', r.line, 'matched_by', r.matched_by,
                               'session_id', r.session_id, 'order_no', r.order_no,
                               'amount_minor', r.amount_minor, 'currency', r.currency,
                               'state', r.state, 'created_at_ms', r.created_at_ms,
                               'modified_at_ms', r.modified_at_ms,
                               'reference_number', r.reference_number, 'pg_code', r.pg_code,
                               'customer_email', r.customer_email,
                               'refunded_minor', {refunded}, 'captured_minor', {captured},
                               'voided_minor', {voided},
                               'children', json(COALESCE(k.children, '[]')))
                           FROM temp.rc_report r
                           LEFT JOIN temp.rc_kids k ON k.parent = r.session_id
                           WHERE r.line = {table}.report_line)
         WHERE amount_minor IS NULL"
    )
}

/// The profile's payments in the period that no report row matched.
const LEDGER_ONLY_SELECT: &str = "SELECT p.id, p.session_id, p.order_no, p.amount_minor, p.currency
         FROM main.payments p
         WHERE p.profile_id = ?1 AND p.hidden = 0
           AND (?2 IS NULL OR p.created_at_ms >= ?2) AND (?3 IS NULL OR p.created_at_ms < ?3)
           AND NOT EXISTS (SELECT 1 FROM temp.rc_report r WHERE r.payment_id = p.id)
         ORDER BY p.created_at_ms, p.id";

/// The kind of a child row: its operation word, else what its state implies.
fn child_kind(operation: Option<&str>, state: &str) -> &'static str {
    match operation.map(|o| o.trim().to_ascii_lowercase()).as_deref() {
        Some("refund") => "refund",
        Some("capture") => "capture",
        Some("void") => "void",
        _ => match state {
            "refunded" | "refund_queued" | "refund_rejected" => "refund",
            "voided" => "void",
            _ => "capture",
        },
    }
}

/// Count and sums of one class in one currency, as the run adds them up.
#[derive(Default)]
struct ClassSums {
    count: u64,
    ledger_minor: i64,
    report_minor: i64,
}

struct Tally {
    classes: BTreeMap<(MatchClass, &'static str), ClassSums>,
    report_totals: TotalsBuilder,
}

impl Tally {
    fn add(
        &mut self,
        class: MatchClass,
        currency: Currency,
        ledger: Option<(i64, &str)>,
        report: Option<(i64, &str)>,
    ) {
        let sums = self.classes.entry((class, currency.code())).or_default();
        sums.count += 1;
        if let Some((minor, _)) = ledger.filter(|(_, c)| *c == currency.code()) {
            sums.ledger_minor += minor;
        }
        if let Some((minor, _)) = report.filter(|(_, c)| *c == currency.code()) {
            sums.report_minor += minor;
        }
    }

    fn views(&self) -> Vec<ClassTotal> {
        let mut out = Vec::new();
        for class in MatchClass::ALL {
            for ((c, code), sums) in self.classes.range((*class, "")..) {
                if c != class {
                    break;
                }
                let currency = Currency::from_code(code).ok();
                let text = |minor: i64| match currency {
                    Some(cur) => Amount::from_minor(minor, cur).to_string(),
                    None => minor.to_string(),
                };
                out.push(ClassTotal {
                    class: *class,
                    currency: code.to_string(),
                    count: sums.count,
                    ledger_amount: text(sums.ledger_minor),
                    report_amount: text(sums.report_minor),
                });
            }
        }
        out
    }
}

/// What the reading phase found.
#[derive(Default)]
struct Read {
    report_rows: u64,
    child_rows: u64,
    rejected: Vec<RowReject>,
    rejected_count: u64,
}

fn interrupted() -> Error {
    Error::Unavailable {
        code: "interrupted",
        message: "the reconciliation was stopped before it finished: nothing was saved".into(),
    }
}

fn read_rows(
    tx: &Transaction<'_>,
    profile: ProfileId,
    rows: &mut dyn RowSource,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(&ReconcileProgress),
) -> Result<Read> {
    let mut read = Read::default();
    {
        let mut parent = tx.prepare_cached(INSERT_PARENT).db()?;
        let mut child = tx.prepare_cached(INSERT_CHILD).db()?;
        let mut seen = 0u64;
        while let Some(row) = rows.next_row() {
            let row = row?;
            seen += 1;
            if seen.is_multiple_of(PROGRESS_EVERY_ROWS) {
                if cancel.load(Ordering::Relaxed) {
                    return Err(interrupted());
                }
                progress(&ReconcileProgress {
                    phase: ReconcilePhase::Reading,
                    rows: seen,
                    total: None,
                    bytes: rows.bytes_read(),
                    total_bytes: rows.total_bytes(),
                });
            }
            let row = match row {
                Ok(row) => row,
                Err(reject) => {
                    read.rejected_count += 1;
                    if read.rejected.len() < IMPORT_MAX_LISTED {
                        read.rejected.push(reject);
                    }
                    continue;
                }
            };
            let minor = |a: Option<Amount>| a.map(Amount::minor);
            match &row.parent_session_id {
                None => {
                    read.report_rows += 1;
                    parent
                        .execute(params![
                            row.line as i64,
                            row.session_id.as_str(),
                            row.order_no.as_ref().map(|o| o.as_str()),
                            row.amount.minor(),
                            row.amount.currency().code(),
                            row.state,
                            row.pg_code,
                            row.created_at_ms,
                            row.modified_at_ms,
                            row.reference_number,
                            minor(row.refunded),
                            minor(row.captured),
                            minor(row.voided),
                            row.customer_email,
                            profile.0,
                        ])
                        .db()?;
                }
                Some(parent_id) => {
                    read.child_rows += 1;
                    child
                        .execute(params![
                            row.line as i64,
                            parent_id.as_str(),
                            row.session_id.as_str(),
                            child_kind(row.operation.as_deref(), &row.state),
                            row.amount.minor(),
                            row.amount.currency().code(),
                            row.state,
                            row.created_at_ms,
                            row.reference_number,
                        ])
                        .db()?;
                }
            }
        }
        progress(&ReconcileProgress {
            phase: ReconcilePhase::Reading,
            rows: seen,
            total: Some(seen),
            bytes: rows.total_bytes(),
            total_bytes: rows.total_bytes(),
        });
    }
    Ok(read)
}

/// Sums per child kind, the way `store::children::add_fact` counts them.
const CHILD_SUMS: &str = "
    SUM(CASE WHEN kind = 'refund' AND state IN ('refunded', 'refund_queued') THEN amount_minor ELSE 0 END) AS refunded,
    SUM(CASE WHEN kind = 'capture' AND state = 'paid' THEN amount_minor ELSE 0 END) AS captured,
    SUM(CASE WHEN kind = 'void' AND state = 'voided' THEN amount_minor ELSE 0 END) AS voided";

fn prepare_facts(tx: &Transaction<'_>, profile: ProfileId) -> Result<()> {
    tx.execute_batch(&format!(
        "CREATE TEMP TABLE rc_kids AS SELECT parent, {CHILD_SUMS},
             json_group_array(json_object('line', line, 'session_id', session_id,
                 'operation', kind, 'amount_minor', amount_minor, 'currency', currency,
                 'state', state, 'created_at_ms', created_at_ms,
                 'reference_number', reference_number)) AS children
         FROM temp.rc_children GROUP BY parent;
         CREATE UNIQUE INDEX temp.rc_kids_parent ON rc_kids (parent);"
    ))
    .db()?;
    // Children first (`CROSS JOIN` fixes the order): a profile has far fewer children than
    // payments, and the other order looked up children for every payment of the profile.
    tx.execute(
        &format!(
            "CREATE TEMP TABLE rc_lc AS SELECT payment_id, {CHILD_SUMS}
             FROM (SELECT c.payment_id, c.kind, c.state, c.amount_minor
                   FROM main.children c CROSS JOIN main.payments p ON p.id = c.payment_id
                   WHERE p.profile_id = {})
             GROUP BY payment_id",
            profile.0
        ),
        [],
    )
    .db()?;
    tx.execute_batch(&format!(
        "CREATE UNIQUE INDEX temp.rc_lc_payment ON rc_lc (payment_id);
         CREATE TEMP TABLE rc_lq AS SELECT DISTINCT payment_id FROM main.operations
             WHERE status IN {};
         CREATE UNIQUE INDEX temp.rc_lq_payment ON rc_lq (payment_id);",
        crate::store::operations::RESERVING_STATUSES_SQL
    ))
    .db()?;
    Ok(())
}

/// The result of classification, ready to save.
struct Classified {
    tally: Tally,
    outside_period: u64,
    hidden_rows: u64,
}

fn classify_all(
    tx: &Transaction<'_>,
    profile: ProfileId,
    period: Period,
    has_children: bool,
    report_rows: u64,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(&ReconcileProgress),
) -> Result<Classified> {
    let mut out = Classified {
        tally: Tally {
            classes: BTreeMap::new(),
            report_totals: TotalsBuilder::default(),
        },
        outside_period: 0,
        hidden_rows: 0,
    };
    let insert_sql = |table: &str| {
        format!(
            "INSERT INTO temp.{table} (class, payment_id, session_id, order_no, currency,
                 amount_minor, state, created_at_ms, refunded_minor, captured_minor,
                 voided_minor, report_line)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
        )
    };
    let mut bad = tx.prepare(&insert_sql("rc_items")).db()?;
    let mut ok = tx.prepare(&insert_sql("rc_items_ok")).db()?;
    let mut select = tx.prepare(&report_select()).db()?;
    let mut rows = select.query(params![has_children]).db()?;
    let mut seen = 0u64;
    while let Some(row) = rows.next().db()? {
        seen += 1;
        if seen.is_multiple_of(PROGRESS_EVERY_ROWS) {
            if cancel.load(Ordering::Relaxed) {
                return Err(interrupted());
            }
            progress(&ReconcileProgress {
                phase: ReconcilePhase::Matching,
                rows: seen,
                total: Some(report_rows),
                bytes: 0,
                total_bytes: 0,
            });
        }
        let line: i64 = row.get(0).db()?;
        let r_session: String = row.get(1).db()?;
        let r_order: Option<String> = row.get(2).db()?;
        let report = ReportSide {
            amount_minor: row.get(3).db()?,
            currency: row.get(4).db()?,
            state: row.get(5).db()?,
            refunded_minor: row.get(7).db()?,
            captured_minor: row.get(8).db()?,
            voided_minor: row.get(9).db()?,
        };
        let r_created: Option<i64> = row.get(6).db()?;
        let payment_id: Option<i64> = row.get(10).db()?;
        let (class, ledger, l_created, session_id, order_no) = match payment_id {
            None => {
                if !r_created.is_none_or(|at| period.contains(at)) {
                    out.outside_period += 1;
                    continue;
                }
                (MatchClass::ReportOnly, None, None, r_session, r_order)
            }
            Some(_) => {
                if row.get::<_, bool>(11).db()? {
                    out.hidden_rows += 1;
                    continue;
                }
                let created: i64 = row.get(12).db()?;
                if !period.contains(created) {
                    out.outside_period += 1;
                    continue;
                }
                let ledger = LedgerSide {
                    amount_minor: row.get(15).db()?,
                    currency: row.get(16).db()?,
                    state: row.get(17).db()?,
                    refunded_minor: row.get(18).db()?,
                    captured_minor: row.get(19).db()?,
                    voided_minor: row.get(20).db()?,
                    unfinished: row.get(21).db()?,
                };
                let class = classify(Some(&ledger), Some(&report));
                let l_order: Option<String> = row.get(14).db()?;
                let l_session: String = row.get(13).db()?;
                (
                    class,
                    Some(ledger),
                    Some(created),
                    l_session,
                    l_order.or(r_order),
                )
            }
        };
        // The item's currency: the ledger's when it has the payment, else the report's.
        let code = ledger.as_ref().map_or(&report.currency, |l| &l.currency);
        let currency = Currency::from_code(code)
            .map_err(|_| crate::store::StoreError::corrupt("currency", code.clone()))?;
        out.tally.add(
            class,
            currency,
            ledger
                .as_ref()
                .map(|l| (l.amount_minor, l.currency.as_str())),
            Some((report.amount_minor, report.currency.as_str())),
        );
        if let Ok(rc) = Currency::from_code(&report.currency) {
            add_report_totals(&mut out.tally.report_totals, rc, &report);
        }
        // A match by session id keeps only what both sides agreed on; anything else is
        // kept whole (its JSON is written after this pass, see `sides_json_update`).
        let matched_by: Option<String> = row.get(22).db()?;
        let compact = (class == MatchClass::Matched && matched_by.as_deref() == Some("session_id"))
            .then_some(ledger.as_ref())
            .flatten();
        let stmt = if class.is_mismatch() {
            &mut bad
        } else {
            &mut ok
        };
        stmt.execute(params![
            class.as_str(),
            payment_id,
            session_id,
            order_no,
            currency.code(),
            compact.map(|l| l.amount_minor),
            compact.map(|l| l.state.as_str()),
            compact.and(l_created),
            compact.map(|l| l.refunded_minor),
            compact.map(|l| l.captured_minor),
            compact.map(|l| l.voided_minor),
            line,
        ])
        .db()?;
    }
    drop(rows);
    let mut select = tx.prepare(LEDGER_ONLY_SELECT).db()?;
    let mut rows = select
        .query(params![profile.0, period.from_ms, period.to_ms])
        .db()?;
    while let Some(row) = rows.next().db()? {
        seen += 1;
        if seen.is_multiple_of(PROGRESS_EVERY_ROWS) && cancel.load(Ordering::Relaxed) {
            return Err(interrupted());
        }
        let payment_id: i64 = row.get(0).db()?;
        let code: String = row.get(4).db()?;
        let currency = Currency::from_code(&code)
            .map_err(|_| crate::store::StoreError::corrupt("currency", code.clone()))?;
        let amount: i64 = row.get(3).db()?;
        out.tally.add(
            MatchClass::LedgerOnly,
            currency,
            Some((amount, code.as_str())),
            None,
        );
        let none = Option::<i64>::None;
        bad.execute(params![
            MatchClass::LedgerOnly.as_str(),
            payment_id,
            row.get::<_, String>(1).db()?,
            row.get::<_, Option<String>>(2).db()?,
            code,
            none,
            Option::<String>::None,
            none,
            none,
            none,
            none,
            none,
        ])
        .db()?;
    }
    drop(rows);
    for table in ["rc_items", "rc_items_ok"] {
        tx.execute(&sides_json_update(table), params![has_children])
            .db()?;
    }
    Ok(out)
}

/// The report's side of the totals block, with the export's meanings: `paid` is what was
/// collected (the amount of a `paid`/`refunded` payment, else its captures).
fn add_report_totals(totals: &mut TotalsBuilder, currency: Currency, report: &ReportSide) {
    let t = totals.entry(currency);
    let captured = report.captured_minor.unwrap_or(0);
    t.paid += match report.state.as_str() {
        "paid" | "refunded" => report.amount_minor,
        _ => captured,
    };
    t.captured += captured;
    t.refunded += report.refunded_minor.unwrap_or(0);
    t.voided += report.voided_minor.unwrap_or(0);
}

/// Everything a run needs besides its rows.
pub(super) struct RunSpec<'a> {
    pub profile: &'a str,
    pub period: Period,
    pub source: String,
}

/// Reads `rows`, matches and classifies them against the ledger, and saves the
/// reconciliation. Nothing is saved unless the whole run succeeds.
pub(super) fn reconcile_rows(
    ledger: &mut Ledger,
    spec: &RunSpec<'_>,
    rows: &mut dyn RowSource,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(&ReconcileProgress),
) -> Result<ReconcileSummary> {
    let profile = ledger
        .store()
        .read(|tx| super::profile_by_name(tx, spec.profile))?;
    let now_ms = ledger.clock().now_ms();
    let actor = ledger.actor().to_string();
    let conn = ledger.store().connection();
    conn.execute_batch(TEMP_SCHEMA).db()?;
    let temp_cache: i64 = conn
        .query_row("PRAGMA temp.cache_size", [], |r| r.get(0))
        .db()?;
    conn.execute_batch(&format!(
        "PRAGMA temp.cache_size = -{RECONCILE_TEMP_CACHE_KIB}"
    ))
    .db()?;
    let result = run_in_temp(conn, &profile, spec, rows, cancel, progress);
    let result = match result {
        Ok((read, classified, totals)) => {
            progress(&ReconcileProgress {
                phase: ReconcilePhase::Saving,
                rows: 0,
                total: None,
                bytes: 0,
                total_bytes: 0,
            });
            let stored = StoredSummary {
                classes: classified.tally.views(),
                totals: totals.iter().map(Into::into).collect(),
                report_totals: classified
                    .tally
                    .report_totals
                    .views()
                    .iter()
                    .map(Into::into)
                    .collect(),
                report_rows: read.report_rows,
                child_rows: read.child_rows,
                outside_period: classified.outside_period,
                hidden_rows: classified.hidden_rows,
                rejected: read.rejected,
                rejected_count: read.rejected_count,
            };
            save(ledger, profile.id, spec, &stored, now_ms, &actor)
        }
        Err(e) => Err(e),
    };
    // The scratch tables and their cache go with the run (the connection may serve other
    // commands).
    let conn = ledger.store().connection();
    let _ = conn.execute_batch(DROP_TEMP);
    let _ = conn.execute_batch(&format!("PRAGMA temp.cache_size = {temp_cache}"));
    result
}

type Matched = (Read, Classified, Vec<crate::export::CurrencyTotals>);

fn run_in_temp(
    conn: &mut Connection,
    profile: &crate::model::Profile,
    spec: &RunSpec<'_>,
    rows: &mut dyn RowSource,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(&ReconcileProgress),
) -> Result<Matched> {
    // One read snapshot of the ledger for reading (the session-id match), matching,
    // classifying and its totals; the transaction writes only temp tables, so the
    // ledger's write lock is never taken.
    let tx = conn.transaction().db()?;
    let read = with_prefetch(rows, |rows| {
        read_rows(&tx, profile.id, rows, cancel, progress)
    })?;
    if cancel.load(Ordering::Relaxed) {
        return Err(interrupted());
    }
    progress(&ReconcileProgress {
        phase: ReconcilePhase::Matching,
        rows: 0,
        total: Some(read.report_rows),
        bytes: 0,
        total_bytes: 0,
    });
    tx.execute_batch(
        "CREATE INDEX temp.rc_report_payment ON rc_report (payment_id);
         CREATE INDEX temp.rc_cand_line ON rc_cand (line);
         CREATE INDEX temp.rc_cand_payment ON rc_cand (payment_id);",
    )
    .db()?;
    match_by(&tx, profile.id, "order_no")?;
    match_by(&tx, profile.id, "reference_number")?;
    prepare_facts(&tx, profile.id)?;
    let classified = classify_all(
        &tx,
        profile.id,
        spec.period,
        read.child_rows > 0,
        read.report_rows,
        cancel,
        progress,
    )?;
    let totals = ledger_totals(
        &tx,
        &TotalsFilter {
            profile: Some(profile.id),
            from_ms: spec.period.from_ms,
            to_ms: spec.period.to_ms,
        },
    )?;
    tx.commit().db()?;
    Ok((read, classified, totals))
}

fn save(
    ledger: &mut Ledger,
    profile: ProfileId,
    spec: &RunSpec<'_>,
    stored: &StoredSummary,
    now_ms: i64,
    actor: &str,
) -> Result<ReconcileSummary> {
    let summary_json = serde_json::to_string(stored).map_err(|e| Error::Invariant {
        what: format!("summary as JSON: {e}"),
    })?;
    ledger.store().write(|tx| {
        tx.execute(
            "INSERT INTO reconciliations (profile_id, from_ms, to_ms, source, created_at_ms,
                 actor, summary_json) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                profile.0,
                spec.period.from_ms,
                spec.period.to_ms,
                spec.source,
                now_ms,
                actor,
                summary_json
            ],
        )
        .db()?;
        let id = tx.last_insert_rowid();
        for table in ["rc_items", "rc_items_ok"] {
            tx.execute(
                &format!(
                    "INSERT INTO main.reconciliation_items (reconciliation_id, class, payment_id,
                         session_id, order_no, currency, ledger_json, report_json,
                         amount_minor, state, created_at_ms, refunded_minor, captured_minor,
                         voided_minor, report_line)
                     SELECT ?1, class, payment_id, session_id, order_no, currency, ledger_json,
                         report_json, amount_minor, state, created_at_ms, refunded_minor,
                         captured_minor, voided_minor, report_line
                     FROM temp.{table} ORDER BY rowid"
                ),
                [id],
            )
            .db()?;
        }
        let counts: BTreeMap<&str, u64> =
            stored.classes.iter().fold(BTreeMap::new(), |mut m, c| {
                *m.entry(c.class.as_str()).or_default() += c.count;
                m
            });
        store::events::append(
            tx,
            &EventInsert {
                at_ms: now_ms,
                actor,
                action: "reconcile.run",
                entity: "reconciliation",
                entity_id: id,
                payment_id: None,
                before: None,
                after: Some(json!({
                    "profile": spec.profile,
                    "source": spec.source,
                    "from_ms": spec.period.from_ms,
                    "to_ms": spec.period.to_ms,
                    "classes": counts,
                    "rejected": stored.rejected_count,
                })),
            },
        )?;
        super::views::summary(tx, id)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn child_kinds() {
        assert_eq!(child_kind(Some("Refund"), "paid"), "refund");
        assert_eq!(child_kind(None, "refund_queued"), "refund");
        assert_eq!(child_kind(None, "voided"), "void");
        assert_eq!(child_kind(None, "paid"), "capture");
        assert_eq!(child_kind(Some("purchase"), "paid"), "capture");
    }

    #[test]
    fn periods_are_half_open() {
        let p = Period {
            from_ms: Some(10),
            to_ms: Some(20),
        };
        assert!(!p.contains(9));
        assert!(p.contains(10));
        assert!(p.contains(19));
        assert!(!p.contains(20));
        assert!(Period::default().contains(i64::MIN));
    }
}
