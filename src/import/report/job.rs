//! The report import: one pass over the file inside one write transaction. Each row is
//! compared with the ledger and applied as it is read (added, updated, unchanged; a
//! conflict is never applied; a reject is listed with its line). `--commit` commits the
//! transaction; a dry run rolls it back, so the plan it shows is exactly what a commit of
//! the same file would do (rows later in the file see the rows before them), and the
//! ledger is left as it was. Memory stays flat: rows are not held, only counts, the first
//! [`IMPORT_MAX_LISTED`] of each list, the ids seen (16 bytes each) and the child rows that
//! come before their parent (rare; held until the end).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use rusqlite::TransactionBehavior;
use serde::{Deserialize, Serialize};
use serde_json::json;
use ts_rs::TS;

use super::download;
use super::rows::{ReportRow, ReportRows, RowReject, id_hash};
use crate::error::{Error, FieldContext, Result};
use crate::export::totals::{CurrencyTotals, TotalsBuilder, collected};
use crate::ledger::Ledger;
use crate::limits::IMPORT_MAX_LISTED;
use crate::model::{OperationKind, PaymentId, PaymentSource, ProfileId, ProfileName};
use crate::money::{Amount, Currency};
use crate::ottu::ClientConfig;
use crate::store::children::ChildInsert;
use crate::store::payments::ReportedPayment;
use crate::store::{self, EventInsert, StoreError};
use crate::tabular::{
    FileKind, MappedColumn, Mapping, RejectsFile, TableReader, mapping, parse_override,
};

/// Rows between two progress calls and cancel checks: often enough for a smooth bar and a
/// prompt Ctrl-C (a few milliseconds of work), rare enough to cost nothing.
const PROGRESS_EVERY_ROWS: u64 = 2_000;

/// The audit action of every change a report import makes.
pub const IMPORTED_REPORT: &str = "payment.imported_report";

/// What to import: a file, or a report Ottu holds (`token`, downloaded first).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct ReportImportRequest {
    pub profile: String,
    /// The report file (CSV or XLSX); ignored when `token` is given.
    #[ts(type = "string")]
    pub path: PathBuf,
    /// A report's download token from the report list.
    #[ts(optional, as = "Option<String>")]
    pub token: Option<String>,
    /// `HEADER=field` overrides of the column mapping; saved for the profile on commit.
    pub map: Vec<String>,
    /// Apply the plan (one transaction); `false` = a dry run that writes nothing.
    pub commit: bool,
    /// Where rejected rows go (default `<file>.rejects.csv`); written on commit, or on a
    /// dry run only when named.
    #[ts(optional, as = "Option<String>")]
    pub rejects_path: Option<PathBuf>,
    /// Apply rows that change a payment created inside a period the merchant locked (the
    /// period is reopened, as any late change reopens it); without it they are conflicts
    /// (`period_locked`).
    #[ts(optional, as = "Option<bool>")]
    pub reopen: bool,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, TS)]
pub struct ReportProgress {
    pub rows: u64,
    pub bytes: u64,
    pub total_bytes: u64,
}

/// A row that adds a payment (or a child, with `parent_session_id`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct RowAdd {
    pub line: u64,
    pub session_id: String,
    #[ts(optional, as = "Option<String>")]
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub parent_session_id: Option<String>,
    pub order_no: Option<String>,
    pub amount: String,
    pub currency: String,
    pub state: String,
}

/// One field whose value differs between the ledger and the report (decimal strings for
/// amounts, words for states, RFC 3339 for times).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct FieldChange {
    pub field: String,
    pub ledger: Option<String>,
    pub report: Option<String>,
}

/// A row that changes a payment (or child) the ledger has.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct RowUpdate {
    pub line: u64,
    pub session_id: String,
    pub changes: Vec<FieldChange>,
}

/// A row the import does not apply because the ledger's own history disagrees: the
/// reconcile screen is where the merchant decides. One per row (the first field found).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct RowConflict {
    pub line: u64,
    pub session_id: String,
    pub field: String,
    pub ledger: Option<String>,
    pub report: Option<String>,
    pub reason: String,
}

/// What an import found (a dry run) or did (`committed`). Lists hold the first
/// [`IMPORT_MAX_LISTED`] rows; counts are complete. `rows` = added + updated + unchanged
/// + conflicts + rejected.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, TS)]
pub struct ReportImportSummary {
    pub profile: String,
    pub file: String,
    /// `csv` or `xlsx`.
    pub format: String,
    pub committed: bool,
    pub columns: Vec<MappedColumn>,
    pub rows: u64,
    pub added: Vec<RowAdd>,
    pub added_count: u64,
    pub updated: Vec<RowUpdate>,
    pub updated_count: u64,
    pub unchanged_count: u64,
    pub conflicts: Vec<RowConflict>,
    pub conflict_count: u64,
    pub rejected: Vec<RowReject>,
    pub rejected_count: u64,
    /// Totals rows passed over (the `total` rows a Daftar export ends with); not in `rows`.
    #[serde(default, skip_serializing_if = "is_zero")]
    #[ts(optional, as = "Option<u64>")]
    pub skipped_totals: u64,
    /// The rejects file written, if any.
    pub rejects_file: Option<String>,
    /// Per currency, of the rows that are not rejected.
    pub totals: Vec<CurrencyTotals>,
    /// The locked periods this run reopened (only with `reopen`; on a dry run, the ones a
    /// commit would reopen).
    /// Left out when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[ts(optional, as = "Option<Vec<LockedPeriod>>")]
    pub reopened_periods: Vec<LockedPeriod>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// A period the merchant locked after reconciling it: `[from, to)`, RFC 3339.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct LockedPeriod {
    pub id: i64,
    pub from: String,
    pub to: String,
}

impl LockedPeriod {
    fn text(&self) -> String {
        format!("{} to {} (locked period {})", self.from, self.to, self.id)
    }
}

/// The reason code of a conflict with a locked period.
pub const PERIOD_LOCKED: &str = "period_locked";

/// A report import on its own handle on the ledger file.
pub struct ReportImportJob {
    ledger: Ledger,
    request: ReportImportRequest,
    client_config: ClientConfig,
}

impl ReportImportJob {
    pub fn new(ledger: &Ledger, request: ReportImportRequest) -> Result<ReportImportJob> {
        Ok(ReportImportJob {
            ledger: ledger.reopen()?,
            request,
            client_config: ClientConfig::default(),
        })
    }

    /// The Ottu client's timeouts for a download by token (tests shorten them).
    pub fn with_client_config(mut self, config: ClientConfig) -> ReportImportJob {
        self.client_config = config;
        self
    }

    /// Downloads the report when a token is given, reads the file, and plans (or with
    /// `commit`, applies) it. Errors before any row is read (unknown profile, bad `--map`,
    /// unreadable file, a required field with no column, a refused download) and a file
    /// that fails part way (not UTF-8, broken quoting: nothing is applied) are `Err`;
    /// setting `cancel` stops it with `interrupted`, nothing applied.
    pub fn run(
        mut self,
        mut progress: impl FnMut(ReportProgress),
        cancel: &AtomicBool,
    ) -> Result<ReportImportSummary> {
        let span = tracing::info_span!("report_import", profile = %self.request.profile, commit = self.request.commit);
        let _entered = span.enter();
        let request = self.request.clone();
        let overrides = request
            .map
            .iter()
            .map(|m| parse_override(m))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let name = ProfileName::parse(&request.profile).field("profile")?;
        let profile_id = self.ledger.profile_id(name.as_str())?;
        let saved = self
            .ledger
            .store()
            .read(|tx| mapping::load_saved(tx, profile_id, FileKind::Report))?;

        // A token: download to a temporary file first, removed when done.
        let downloaded = match &request.token {
            Some(token) => Some(download::to_temp_file(
                &mut self.ledger,
                self.client_config,
                profile_id,
                name.as_str(),
                token,
            )?),
            None => None,
        };
        let (path, shown) = match (&downloaded, &request.token) {
            (Some(file), Some(token)) => (file.path().to_path_buf(), format!("report {token}")),
            _ => (request.path.clone(), request.path.display().to_string()),
        };
        let reader = TableReader::open(&path)?;
        let mapping = Mapping::resolve(FileKind::Report, reader.headers(), &saved, &overrides)?;
        let rejects_path = match (&request.rejects_path, &request.token) {
            (Some(p), _) => Some(p.clone()),
            (None, _) if !request.commit => None,
            (None, Some(token)) => Some(PathBuf::from(format!("ottu-report-{token}.rejects.csv"))),
            (None, None) => Some(default_rejects_path(&request.path)),
        };
        let mut summary = ReportImportSummary {
            profile: name.to_string(),
            file: shown,
            format: reader.format().as_str().to_string(),
            committed: false,
            columns: mapping.columns(),
            ..ReportImportSummary::default()
        };
        let mut rows = ReportRows::new(reader, mapping);
        let now_ms = self.ledger.clock().now_ms();
        let actor = self.ledger.actor().to_string();
        let mut rejects = RejectsFile::new(rejects_path, rows.headers());

        let conn = self.ledger.store().connection();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(StoreError::from)?;
        // A profile with no payment yet (a first import): no row can find one in the
        // ledger except through an earlier row of the file, so the lookups by session id
        // and order number are skipped (duplicates are rejected when read; order numbers
        // are checked against the file's own).
        let fresh = !tx
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM payments WHERE profile_id = ?1)")
            .and_then(|mut s| s.query_row([profile_id.0], |r| r.get::<_, bool>(0)))
            .map_err(StoreError::from)?;
        let mut apply = Apply {
            tx: &tx,
            profile: profile_id,
            now_ms,
            actor: &actor,
            totals: TotalsBuilder::default(),
            fresh_orders: fresh.then(HashSet::new),
            parent_rows: HashMap::new(),
            locked: locked_periods(&tx, profile_id)?,
            reopen: request.reopen,
        };
        let mut deferred: Vec<(ReportRow, Vec<String>)> = Vec::new();
        let total_bytes = rows.total_bytes();
        progress(ReportProgress {
            rows: 0,
            bytes: 0,
            total_bytes,
        });
        while let Some(next) = rows.next_row() {
            let row = next?;
            summary.rows += 1;
            match row {
                Ok(row) if row.is_child() => match apply.child(&row)? {
                    Some(outcome) => {
                        record(&mut summary, outcome, &mut rejects, rows.last_cells())?
                    }
                    // Its parent may come later in the file: decided at the end.
                    None => deferred.push((row, rows.last_cells().to_vec())),
                },
                Ok(row) => {
                    let outcome = apply.parent(&row)?;
                    record(&mut summary, outcome, &mut rejects, rows.last_cells())?;
                }
                Err(reject) => record(
                    &mut summary,
                    Outcome::Rejected(reject),
                    &mut rejects,
                    rows.last_cells(),
                )?,
            }
            if summary.rows.is_multiple_of(PROGRESS_EVERY_ROWS) {
                if cancel.load(Ordering::SeqCst) {
                    tracing::info!(rows = summary.rows, "report import cancelled");
                    return Err(interrupted(summary.rows));
                }
                progress(ReportProgress {
                    rows: summary.rows,
                    bytes: rows.bytes_read(),
                    total_bytes,
                });
            }
        }
        // Children whose parent came later in the file, or never.
        for (row, cells) in deferred {
            let outcome = match apply.child(&row)? {
                Some(outcome) => outcome,
                None => Outcome::Rejected(RowReject::new(
                    row.line,
                    "row.unknown_parent",
                    "parent_session_id",
                    format!(
                        "parent session id {} is neither in the file nor in the ledger",
                        row.parent_session_id
                            .as_ref()
                            .map(|s| s.as_str())
                            .unwrap_or("")
                    ),
                )),
            };
            record(&mut summary, outcome, &mut rejects, &cells)?;
        }
        if cancel.load(Ordering::SeqCst) {
            return Err(interrupted(summary.rows));
        }
        summary.totals = apply.totals.views();
        summary.skipped_totals = rows.skipped_totals();
        summary.reopened_periods = reopened(&tx, &apply.locked)?;
        drop(apply);
        if request.commit {
            if !overrides.is_empty() {
                mapping::save(&tx, profile_id, FileKind::Report, &overrides, now_ms)?;
            }
            tx.commit().map_err(StoreError::from)?;
            summary.committed = true;
        } else {
            // The dry run: everything it did is undone.
            tx.rollback().map_err(StoreError::from)?;
        }
        summary.rejects_file = rejects.finish()?;
        progress(ReportProgress {
            rows: summary.rows,
            bytes: total_bytes,
            total_bytes,
        });
        tracing::info!(
            rows = summary.rows,
            added = summary.added_count,
            updated = summary.updated_count,
            unchanged = summary.unchanged_count,
            conflicts = summary.conflict_count,
            rejected = summary.rejected_count,
            committed = summary.committed,
            "report import finished"
        );
        Ok(summary)
    }
}

fn interrupted(rows: u64) -> Error {
    Error::Remote {
        code: "interrupted",
        message: format!("the report import was stopped after {rows} rows; nothing was applied"),
    }
    .with("rows", rows)
}

/// `report.csv` → `report.csv.rejects.csv`, beside it.
pub(crate) fn default_rejects_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".rejects.csv");
    path.with_file_name(name)
}

/// What one row did.
enum Outcome {
    Added(RowAdd),
    Updated(RowUpdate),
    Unchanged,
    Conflict(RowConflict),
    Rejected(RowReject),
}

fn record(
    summary: &mut ReportImportSummary,
    outcome: Outcome,
    rejects: &mut RejectsFile,
    cells: &[String],
) -> Result<()> {
    fn push<T>(list: &mut Vec<T>, count: &mut u64, item: T) {
        *count += 1;
        if list.len() < IMPORT_MAX_LISTED {
            list.push(item);
        }
    }
    match outcome {
        Outcome::Added(a) => push(&mut summary.added, &mut summary.added_count, a),
        Outcome::Updated(u) => push(&mut summary.updated, &mut summary.updated_count, u),
        Outcome::Unchanged => summary.unchanged_count += 1,
        Outcome::Conflict(c) => push(&mut summary.conflicts, &mut summary.conflict_count, c),
        Outcome::Rejected(r) => {
            rejects.write(cells, r.line, &format!("{}: {}", r.code, r.reason))?;
            push(&mut summary.rejected, &mut summary.rejected_count, r)
        }
    }
    Ok(())
}

/// The rows as applied inside the import's transaction.
struct Apply<'t, 'c> {
    tx: &'t rusqlite::Transaction<'c>,
    profile: ProfileId,
    now_ms: i64,
    actor: &'t str,
    totals: TotalsBuilder,
    /// `Some` when the profile had no payment when the import began: hashes of the order
    /// numbers this run added ([`Apply::parent`] then never looks a payment up).
    fresh_orders: Option<HashSet<u128>>,
    /// The parent rows read so far (id hash → bit 0 collected, bits 1..3 the row has a
    /// refunded/captured/voided column): how their child rows count in the totals. Grows
    /// with the file like the duplicate check's id set (17 bytes a row).
    parent_rows: HashMap<u128, u8>,
    /// The profile's locked periods when the run began (`from_ms`, `to_ms`, view).
    locked: Vec<(i64, i64, LockedPeriod)>,
    /// Apply changes inside them (reopening them) instead of listing conflicts.
    reopen: bool,
}

/// The profile's locked periods (a handful: one a month).
fn locked_periods(
    tx: &rusqlite::Transaction<'_>,
    profile: ProfileId,
) -> Result<Vec<(i64, i64, LockedPeriod)>> {
    let mut stmt = tx
        .prepare_cached(
            "SELECT id, from_ms, to_ms FROM reconciled_periods
             WHERE profile_id = ?1 AND status = 'locked' ORDER BY from_ms",
        )
        .map_err(StoreError::from)?;
    let rows = stmt
        .query_map([profile.0], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })
        .map_err(StoreError::from)?;
    let mut out = Vec::new();
    for row in rows {
        let (id, from_ms, to_ms) = row.map_err(StoreError::from)?;
        out.push((
            from_ms,
            to_ms,
            LockedPeriod {
                id,
                from: time_text(from_ms),
                to: time_text(to_ms),
            },
        ));
    }
    Ok(out)
}

/// Which of `locked` the run's changes reopened (the 0007 triggers did it).
fn reopened(
    tx: &rusqlite::Transaction<'_>,
    locked: &[(i64, i64, LockedPeriod)],
) -> Result<Vec<LockedPeriod>> {
    let mut out = Vec::new();
    for (_, _, period) in locked {
        let status: String = tx
            .prepare_cached("SELECT status FROM reconciled_periods WHERE id = ?1")
            .and_then(|mut s| s.query_row([period.id], |r| r.get(0)))
            .map_err(StoreError::from)?;
        if status != "locked" {
            out.push(period.clone());
        }
    }
    Ok(out)
}

fn amount_text(minor: i64, currency: &str) -> String {
    match Currency::from_code(currency) {
        Ok(c) => Amount::from_minor(minor, c).to_string(),
        Err(_) => minor.to_string(),
    }
}

fn time_text(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| ms.to_string())
}

impl Apply<'_, '_> {
    /// Adds a valid row to the totals with the ledger's meanings (`MinorTotals`, the
    /// definitions of `export::totals`, the same sums as reconcile's report side). A parent
    /// row counts whatever it did to the ledger (added, updated, unchanged, older, in
    /// conflict): its amount when `paid`/`refunded`, else its captures, and its own
    /// `Captured/Refunded/Voided Amount` columns when it has them. A child row counts only
    /// for a kind its parent's row has no column for (else the column already holds it);
    /// a child whose parent is not a row of the file takes the ledger parent's state
    /// (`ledger_collected`).
    fn count_totals(&mut self, row: &ReportRow, ledger_collected: bool) -> Result<()> {
        let minor = row.amount.minor();
        let opt = |a: Option<Amount>| a.map(|a| a.minor());
        if !row.is_child() {
            let flags = u8::from(collected(&row.state))
                | u8::from(row.refunded.is_some()) << 1
                | u8::from(row.captured.is_some()) << 2
                | u8::from(row.voided.is_some()) << 3;
            self.parent_rows
                .insert(id_hash(row.session_id.as_str()), flags);
            let t = self.totals.entry(row.amount.currency());
            t.add_report_payment(
                &row.state,
                minor,
                opt(row.captured),
                opt(row.refunded),
                opt(row.voided),
            )?;
            return Ok(());
        }
        let Some(kind) = row.child_kind() else {
            return Ok(());
        };
        let parent = row
            .parent_session_id
            .as_ref()
            .and_then(|p| self.parent_rows.get(&id_hash(p.as_str())).copied());
        let collected = match parent {
            Some(flags) => {
                let column = match kind {
                    OperationKind::Refund => 1 << 1,
                    OperationKind::Capture => 1 << 2,
                    OperationKind::Void => 1 << 3,
                    // Not a child's kind (`child_kind` gives only the three above).
                    _ => 0,
                };
                if flags & column != 0 {
                    return Ok(());
                }
                flags & 1 != 0
            }
            None => ledger_collected,
        };
        let t = self.totals.entry(row.amount.currency());
        t.add_report_child(kind.as_str(), &row.state, minor, collected)?;
        Ok(())
    }

    /// The locked period holding a payment created at `created_at_ms`, unless `--reopen`.
    fn locked_at(&self, created_at_ms: i64) -> Option<&LockedPeriod> {
        if self.reopen {
            return None;
        }
        self.locked
            .iter()
            .find(|(from, to, _)| *from <= created_at_ms && created_at_ms < *to)
            .map(|(_, _, p)| p)
    }

    /// The locked period holding payment `id` (by its creation time), unless `--reopen`.
    fn payment_locked(&self, id: PaymentId) -> Result<Option<LockedPeriod>> {
        if self.reopen || self.locked.is_empty() {
            return Ok(None);
        }
        let created: i64 = self
            .tx
            .prepare_cached("SELECT created_at_ms FROM payments WHERE id = ?1")
            .and_then(|mut s| s.query_row([id.0], |r| r.get(0)))
            .map_err(StoreError::from)?;
        Ok(self.locked_at(created).cloned())
    }

    /// The conflict of a row that would change a locked period.
    fn period_conflict(row: &ReportRow, period: &LockedPeriod, what: &str) -> Outcome {
        Outcome::Conflict(RowConflict {
            line: row.line,
            session_id: row.session_id.to_string(),
            field: "period".to_string(),
            ledger: Some(format!("locked {}", period.text())),
            report: Some(what.to_string()),
            reason: format!(
                "{PERIOD_LOCKED}: the row would {what} in the period {}, which is locked; \
                 import it allowing locked periods to reopen to apply it and reopen the period",
                period.text()
            ),
        })
    }

    fn event(
        &self,
        payment: PaymentId,
        entity: &str,
        entity_id: i64,
        before: Option<serde_json::Value>,
        after: serde_json::Value,
    ) -> Result<()> {
        store::events::append(
            self.tx,
            &EventInsert {
                at_ms: self.now_ms,
                actor: self.actor,
                action: IMPORTED_REPORT,
                entity,
                entity_id,
                payment_id: Some(payment),
                before,
                after: Some(after),
            },
        )?;
        Ok(())
    }

    fn parent(&mut self, row: &ReportRow) -> Result<Outcome> {
        self.count_totals(row, false)?;
        let tx = self.tx;
        let session = row.session_id.as_str();
        let order_no = row.order_no.as_ref().map(|o| o.as_str());
        let reported = ReportedPayment {
            session_id: session,
            order_no,
            amount: row.amount,
            state: &row.state,
            pg_code: row.pg_code.as_deref(),
            reference_number: row.reference_number.as_deref(),
            customer_email: row.customer_email.as_deref(),
            created_at_ms: row.created_at_ms.unwrap_or(self.now_ms),
            remote_modified_at_ms: row.modified_at_ms,
        };
        let conflict =
            |field: &str, ledger: Option<String>, report: Option<String>, reason: String| {
                Outcome::Conflict(RowConflict {
                    line: row.line,
                    session_id: session.to_string(),
                    field: field.to_string(),
                    ledger,
                    report,
                    reason,
                })
            };
        let order_taken = |tx| -> Result<Option<Outcome>> {
            let Some(order) = order_no else {
                return Ok(None);
            };
            Ok(
                store::payments::order_no_owner(tx, self.profile, order, session)?.map(|other| {
                    conflict(
                        "order_no",
                        Some(format!("{order} (session id {other})")),
                        Some(order.to_string()),
                        format!("order number {order} belongs to payment {other} in the ledger"),
                    )
                }),
            )
        };
        let found = match &self.fresh_orders {
            Some(_) => None,
            None => store::payments::reported_state(tx, self.profile, session)?,
        };
        let Some(ledger) = found else {
            match (&self.fresh_orders, order_no) {
                (Some(orders), Some(order)) if orders.contains(&id_hash(order)) => {
                    return Ok(conflict(
                        "order_no",
                        None,
                        Some(order.to_string()),
                        format!("order number {order} belongs to a payment earlier in this file"),
                    ));
                }
                (Some(_), _) => {}
                (None, _) => {
                    if let Some(c) = order_taken(tx)? {
                        return Ok(c);
                    }
                }
            }
            if let Some(period) = self.locked_at(reported.created_at_ms) {
                return Ok(Self::period_conflict(row, period, "add a payment"));
            }
            if let (Some(orders), Some(order)) = (&mut self.fresh_orders, order_no) {
                orders.insert(id_hash(order));
            }
            let id = store::payments::insert_reported(tx, self.profile, &reported, self.now_ms)?;
            let currency = row.amount.currency().code();
            self.event(
                id,
                "payment",
                id.0,
                None,
                json!({
                    "session_id": session, "order_no": order_no,
                    "amount": row.amount.to_string(), "currency": currency, "state": row.state,
                    "reference_number": row.reference_number, "line": row.line,
                }),
            )?;
            return Ok(Outcome::Added(RowAdd {
                line: row.line,
                session_id: session.to_string(),
                parent_session_id: None,
                order_no: order_no.map(str::to_string),
                amount: row.amount.to_string(),
                currency: currency.to_string(),
                state: row.state.clone(),
            }));
        };
        // A row older than what an earlier report told the ledger (daily reports imported
        // out of order): the ledger already holds Ottu's newer word.
        if let (Some(row_modified), Some(known)) =
            (row.modified_at_ms, ledger.remote_modified_at_ms)
            && row_modified < known
        {
            return Ok(Outcome::Unchanged);
        }
        let currency = row.amount.currency().code();
        if ledger.currency != currency {
            return Ok(conflict(
                "currency",
                Some(ledger.currency.clone()),
                Some(currency.to_string()),
                "the payment's currency never changes".to_string(),
            ));
        }
        let ledger_amount = amount_text(ledger.amount_minor, &ledger.currency);
        if ledger.amount_minor != row.amount.minor() && ledger.has_history {
            return Ok(conflict(
                "amount",
                Some(ledger_amount),
                Some(row.amount.to_string()),
                "the payment has operations or children in the ledger: a report does not change its amount".to_string(),
            ));
        }
        if ledger.state != row.state && ledger.unfinished {
            return Ok(conflict(
                "state",
                Some(ledger.state.clone()),
                Some(row.state.clone()),
                "an operation on the payment is still unfinished in Daftar: its state is expected to differ".to_string(),
            ));
        }
        if order_no.is_some()
            && ledger.order_no.as_deref() != order_no
            && let Some(c) = order_taken(tx)?
        {
            return Ok(c);
        }
        let mut changes = Vec::new();
        let mut change = |field: &str, ledger: Option<String>, report: Option<String>| {
            changes.push(FieldChange {
                field: field.to_string(),
                ledger,
                report,
            })
        };
        if ledger.amount_minor != row.amount.minor() {
            change("amount", Some(ledger_amount), Some(row.amount.to_string()));
        }
        if ledger.state != row.state {
            change("state", Some(ledger.state.clone()), Some(row.state.clone()));
        }
        let mut text = |field: &str, old: &Option<String>, new: Option<&str>| {
            if let Some(new) = new
                && old.as_deref() != Some(new)
            {
                change(field, old.clone(), Some(new.to_string()));
            }
        };
        text("order_no", &ledger.order_no, order_no);
        text("pg_code", &ledger.pg_code, row.pg_code.as_deref());
        text(
            "reference_number",
            &ledger.reference_number,
            row.reference_number.as_deref(),
        );
        text(
            "customer_email",
            &ledger.customer_email,
            row.customer_email.as_deref(),
        );
        if let Some(modified) = row.modified_at_ms
            && ledger.remote_modified_at_ms != Some(modified)
        {
            change(
                "modified",
                ledger.remote_modified_at_ms.map(time_text),
                Some(time_text(modified)),
            );
        }
        // A payment imported by session id is dated at its import (Ottu's retrieve reply
        // has no creation time): the report's time replaces it, so periods and settlement
        // windows find it. A manual payment's time is the merchant's own entry, and a
        // report's payment already has the report's time: both kept.
        let moved_created = match row.created_at_ms {
            Some(created)
                if ledger.source == PaymentSource::Ottu.as_str()
                    && created != ledger.created_at_ms =>
            {
                change(
                    "created",
                    Some(time_text(ledger.created_at_ms)),
                    Some(time_text(created)),
                );
                Some(created)
            }
            _ => None,
        };
        if changes.is_empty() {
            return Ok(Outcome::Unchanged);
        }
        // What a reconciliation counted (amount, state) changes only with --reopen.
        if changes
            .iter()
            .any(|c| c.field == "amount" || c.field == "state")
            && let Some(period) = self.payment_locked(ledger.id)?
        {
            return Ok(Self::period_conflict(row, &period, "change the payment"));
        }
        // Moving the creation time takes the payment out of one period and into another:
        // either one locked is a change of it (with `--reopen`, migration 0008's trigger
        // reopens both, as 0007's do for any other change).
        if let Some(created) = moved_created
            && let Some(period) = self
                .locked_at(ledger.created_at_ms)
                .or_else(|| self.locked_at(created))
        {
            return Ok(Self::period_conflict(
                row,
                period,
                "change the payment's creation time",
            ));
        }
        store::payments::update_reported(
            tx,
            ledger.id,
            &reported,
            moved_created.is_some(),
            self.now_ms,
        )?;
        let before: serde_json::Map<String, serde_json::Value> = changes
            .iter()
            .map(|c| (c.field.clone(), json!(c.ledger)))
            .collect();
        let mut after: serde_json::Map<String, serde_json::Value> = changes
            .iter()
            .map(|c| (c.field.clone(), json!(c.report)))
            .collect();
        after.insert("line".into(), json!(row.line));
        self.event(
            ledger.id,
            "payment",
            ledger.id.0,
            Some(before.into()),
            after.into(),
        )?;
        Ok(Outcome::Updated(RowUpdate {
            line: row.line,
            session_id: session.to_string(),
            changes,
        }))
    }

    /// A child row; `None` when its parent is not in the ledger (yet).
    fn child(&mut self, row: &ReportRow) -> Result<Option<Outcome>> {
        let tx = self.tx;
        let Some(parent_id) = &row.parent_session_id else {
            return Ok(None);
        };
        let Some(parent) = store::payments::reported_state(tx, self.profile, parent_id.as_str())?
        else {
            return Ok(None);
        };
        self.count_totals(row, collected(&parent.state))?;
        let session = row.session_id.as_str();
        let currency = row.amount.currency().code();
        if parent.currency != currency {
            return Ok(Some(Outcome::Conflict(RowConflict {
                line: row.line,
                session_id: session.to_string(),
                field: "currency".to_string(),
                ledger: Some(parent.currency.clone()),
                report: Some(currency.to_string()),
                reason: format!("the parent payment {parent_id} is in {}", parent.currency),
            })));
        }
        // Checked when the row was read.
        let (Some(kind), Some(state)) = (row.child_kind(), row.child_state()) else {
            return Err(Error::Invariant {
                what: format!(
                    "report line {}: a child row without kind or state",
                    row.line
                ),
            });
        };
        let mut existing = store::children::reported_child(tx, parent.id, session)?;
        let mut changes = Vec::new();
        // A child the ledger recorded from our own request (Ottu's answer named none) is
        // this row's child: it takes the row's session id instead of a second child.
        let unnamed = match existing {
            Some(_) => None,
            None => store::children::unnamed_child(
                tx,
                parent.id,
                kind,
                &row.session_id,
                row.amount,
                row.created_at_ms,
            )?,
        };
        if let Some(u) = &unnamed {
            changes.push(FieldChange {
                field: "session_id".to_string(),
                ledger: Some(u.session_id.clone()),
                report: Some(session.to_string()),
            });
            existing = Some(u.child.clone());
        }
        if let Some(old) = &existing {
            let mut change = |field: &str, ledger: String, report: String| {
                if ledger != report {
                    changes.push(FieldChange {
                        field: field.to_string(),
                        ledger: Some(ledger),
                        report: Some(report),
                    });
                }
            };
            change("operation", old.kind.clone(), kind.as_str().to_string());
            change(
                "amount",
                amount_text(old.amount_minor, &old.currency),
                row.amount.to_string(),
            );
            change("state", old.state.clone(), state.as_str().to_string());
            if let Some(reference) = &row.reference_number {
                change(
                    "reference_number",
                    old.reference_number.clone().unwrap_or_default(),
                    reference.clone(),
                );
            }
            if changes.is_empty() {
                return Ok(Some(Outcome::Unchanged));
            }
        }
        let counted = existing.is_none()
            || changes
                .iter()
                .any(|c| c.field == "amount" || c.field == "state");
        if counted && let Some(period) = self.payment_locked(parent.id)? {
            let what = if existing.is_none() {
                "add a child to a payment"
            } else {
                "change a child of a payment"
            };
            return Ok(Some(Self::period_conflict(row, &period, what)));
        }
        if let Some(u) = &unnamed {
            store::children::name_child(tx, u, &row.session_id, self.now_ms)?;
        }
        let id = store::children::upsert_reported(
            tx,
            &ChildInsert {
                payment_id: parent.id,
                operation_id: None,
                kind,
                session_id: &row.session_id,
                amount: row.amount,
                state,
            },
            row.reference_number.as_deref(),
            row.created_at_ms.unwrap_or(self.now_ms),
            self.now_ms,
        )?;
        let after = json!({
            "session_id": session, "parent_session_id": parent_id, "kind": kind,
            "amount": row.amount.to_string(), "currency": currency, "state": state,
            "reference_number": row.reference_number, "line": row.line,
        });
        Ok(Some(match existing {
            None => {
                self.event(parent.id, "child", id, None, after)?;
                Outcome::Added(RowAdd {
                    line: row.line,
                    session_id: session.to_string(),
                    parent_session_id: Some(parent_id.to_string()),
                    order_no: row.order_no.as_ref().map(|o| o.to_string()),
                    amount: row.amount.to_string(),
                    currency: currency.to_string(),
                    state: state.as_str().to_string(),
                })
            }
            Some(_) => {
                let before: serde_json::Map<String, serde_json::Value> = changes
                    .iter()
                    .map(|c| (c.field.clone(), json!(c.ledger)))
                    .collect();
                self.event(parent.id, "child", id, Some(before.into()), after)?;
                Outcome::Updated(RowUpdate {
                    line: row.line,
                    session_id: session.to_string(),
                    changes,
                })
            }
        }))
    }
}
