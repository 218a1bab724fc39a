//! Exports for the accountant: the ledger (one row per payment with its balances), its
//! operations (refunds negative), or one reconciliation, as CSV or XLSX.
//!
//! - Streaming: every source reads its rows from one SQL statement inside one read
//!   transaction (one snapshot of the ledger, so the totals close exactly the rows above
//!   them) and hands each row to a [`Sink`] cell by cell; nothing holds more than one
//!   row. XLSX uses rust_xlsxwriter's constant-memory worksheets, which flush each row
//!   to a temporary file beside the output.
//! - Atomic: the file is written under a temporary name in the output's directory and
//!   renamed over the target only when complete; an error or a cancel removes it.
//! - Deterministic: same ledger, same request, same bytes (fixed workbook properties and
//!   creation time, fixed column order, rows ordered by creation time then id), so tests
//!   pin the exact bytes of small exports.
//! - Safe to open: text cells starting with `=`, `+`, `-`, `@`, TAB or CR cannot run as
//!   formulas ([`cells`]); amounts are numbers, never prefixed.
//! - Totals: each export ends with `total` rows per currency in the same columns, from
//!   SQL sums ([`totals`]).

pub mod cells;
pub mod columns;
mod csv;
mod ledger;
mod operations;
mod reconciliation;
pub mod totals;
mod xlsx;

use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rusqlite::Transaction;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

pub use columns::{CellKind, Column, Lang};
pub use totals::{CurrencyTotals, MinorTotals, TotalsBuilder, TotalsFilter};

use crate::error::{Error, FieldContext, Result};
use crate::ledger::Ledger;
use crate::ledger::parse_bound;
use crate::model::{ProfileName, UnknownWord};
use crate::money::Currency;
use crate::store::{self, StoreError};

/// Rows between two progress reports and cancel checks: often enough for a smooth bar
/// and a cancel within milliseconds, rare enough to cost nothing per row.
pub const EXPORT_PROGRESS_ROWS: u64 = 4_096;

/// What to export: the user's text as given (the job checks it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(optional_fields = nullable)]
pub struct ExportRequest {
    /// `ledger`, `operations` or `reconciliation`.
    pub what: String,
    /// `csv` or `xlsx`.
    pub format: String,
    pub path: PathBuf,
    #[serde(default)]
    pub profile: Option<String>,
    /// Payments created from this day or instant (inclusive)...
    #[serde(default)]
    pub from: Option<String>,
    /// ...to this day (inclusive: the whole day) or instant (exclusive).
    #[serde(default)]
    pub to: Option<String>,
    /// The reconciliation to export; `None`: the newest (of `profile`, if given).
    #[serde(default)]
    pub reconciliation: Option<i64>,
    /// `en` (default) or `ar`: the headers' language.
    #[serde(default)]
    pub lang: Option<String>,
    /// A UTF-8 byte order mark at the start of a CSV, so Excel reads Arabic right.
    #[serde(default = "yes")]
    pub bom: bool,
}

fn yes() -> bool {
    true
}

impl ExportRequest {
    pub fn new(what: &str, format: &str, path: impl Into<PathBuf>) -> ExportRequest {
        ExportRequest {
            what: what.to_string(),
            format: format.to_string(),
            path: path.into(),
            profile: None,
            from: None,
            to: None,
            reconciliation: None,
            lang: None,
            bom: true,
        }
    }
}

/// How far an export is: rows written of the rows it will write.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, TS)]
pub struct ExportProgress {
    pub rows: u64,
    pub total: u64,
}

/// What an export wrote.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct ExportSummary {
    pub file: String,
    pub what: String,
    pub format: String,
    /// Data rows (without the header and the totals rows).
    pub rows: u64,
    pub totals: Vec<CurrencyTotals>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum What {
    Ledger,
    Operations,
    Reconciliation,
}

impl What {
    fn parse(text: &str) -> Result<What> {
        match text {
            "ledger" => Ok(What::Ledger),
            "operations" => Ok(What::Operations),
            "reconciliation" => Ok(What::Reconciliation),
            _ => Err(unknown(
                "export",
                text,
                "ledger, operations, reconciliation",
                "what",
            )),
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            What::Ledger => "ledger",
            What::Operations => "operations",
            What::Reconciliation => "reconciliation",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
}

impl Format {
    fn parse(text: &str) -> Result<Format> {
        match text {
            "csv" => Ok(Format::Csv),
            "xlsx" => Ok(Format::Xlsx),
            _ => Err(unknown("export format", text, "csv, xlsx", "format")),
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
        }
    }
}

fn unknown(what: &'static str, value: &str, allowed: &str, field: &'static str) -> Error {
    Error::Word {
        field,
        source: UnknownWord {
            what,
            value: value.to_string(),
            allowed: allowed.to_string(),
        },
    }
}

/// The request, checked.
#[derive(Clone, Debug)]
struct Plan {
    what: What,
    format: Format,
    lang: Lang,
    bom: bool,
    path: PathBuf,
    profile: Option<ProfileName>,
    from_ms: Option<i64>,
    to_ms: Option<i64>,
    reconciliation: Option<i64>,
}

impl Plan {
    fn check(request: &ExportRequest) -> Result<Plan> {
        let what = What::parse(&request.what)?;
        let format = Format::parse(&request.format)?;
        let lang = match request.lang.as_deref() {
            None => Lang::En,
            Some(text) => {
                Lang::parse(text).ok_or_else(|| unknown("language", text, "en, ar", "lang"))?
            }
        };
        if request.path.as_os_str().is_empty() || request.path.file_name().is_none() {
            return Err(Error::invalid(
                "path",
                "export.bad_path",
                format!("'{}' names no file to write", request.path.display()),
            ));
        }
        let profile = request
            .profile
            .as_deref()
            .map(ProfileName::parse)
            .transpose()
            .field("profile")?;
        let from_ms = request
            .from
            .as_deref()
            .map(|t| parse_bound("from", t, false))
            .transpose()?;
        let to_ms = request
            .to
            .as_deref()
            .map(|t| parse_bound("to", t, true))
            .transpose()?;
        if let (Some(from), Some(to)) = (from_ms, to_ms)
            && from >= to
        {
            return Err(Error::invalid(
                "to",
                "date.invalid",
                "the period ends before it starts: give a 'to' after 'from'",
            ));
        }
        Ok(Plan {
            what,
            format,
            lang,
            bom: request.bom,
            path: request.path.clone(),
            profile,
            from_ms,
            to_ms,
            reconciliation: request.reconciliation,
        })
    }
}

/// Writing the file failed (directory missing, permissions, disk full): nothing is left.
pub(crate) fn write_failed(path: &Path, cause: impl std::fmt::Display) -> Error {
    Error::Unavailable {
        code: "export.write_failed",
        message: format!(
            "cannot write the export to {}: {cause}; nothing was written",
            path.display()
        ),
    }
}

fn interrupted() -> Error {
    Error::Unavailable {
        code: "interrupted",
        message: "the export was stopped before it finished; no file was written".to_string(),
    }
}

/// Where the rows go, cell by cell, in the columns' order. CSV and XLSX each implement
/// it; the sources never know which they write.
pub(crate) trait Sink {
    /// The header row: the columns' headers in `lang`.
    fn header(&mut self, columns: &'static [Column], lang: Lang) -> Result<()>;
    /// A text cell: neutralised against formula injection by the sink.
    fn text(&mut self, text: &str) -> Result<()>;
    fn amount(&mut self, minor: i64, currency: Currency) -> Result<()>;
    fn instant(&mut self, ms: i64) -> Result<()>;
    fn integer(&mut self, n: i64) -> Result<()>;
    fn empty(&mut self) -> Result<()>;
    /// The `total` label of a totals row (bold in XLSX).
    fn label(&mut self, text: &str) -> Result<()>;
    fn end_row(&mut self) -> Result<()>;
    /// The totals rows follow (XLSX leaves a blank row and keeps them out of the filter).
    fn begin_totals(&mut self) -> Result<()>;

    fn opt_text(&mut self, text: Option<&str>) -> Result<()> {
        match text {
            Some(t) => self.text(t),
            None => self.empty(),
        }
    }

    fn opt_amount(&mut self, minor: Option<i64>, currency: Option<Currency>) -> Result<()> {
        match (minor, currency) {
            (Some(m), Some(c)) => self.amount(m, c),
            _ => self.empty(),
        }
    }

    fn opt_instant(&mut self, ms: Option<i64>) -> Result<()> {
        match ms {
            Some(ms) => self.instant(ms),
            None => self.empty(),
        }
    }
}

/// Counts rows, reports progress and notices a cancel, every [`EXPORT_PROGRESS_ROWS`].
pub(crate) struct Ticker<'a> {
    rows: u64,
    total: u64,
    cancel: &'a AtomicBool,
    progress: &'a mut dyn FnMut(&ExportProgress),
}

impl Ticker<'_> {
    pub(crate) fn set_total(&mut self, total: u64) {
        self.total = total;
        (self.progress)(&ExportProgress {
            rows: self.rows,
            total,
        });
    }

    /// One more row written; `Err(interrupted)` once the cancel flag is set.
    pub(crate) fn tick(&mut self) -> Result<()> {
        self.rows += 1;
        if self.rows.is_multiple_of(EXPORT_PROGRESS_ROWS) {
            if self.cancel.load(Ordering::Relaxed) {
                return Err(interrupted());
            }
            (self.progress)(&ExportProgress {
                rows: self.rows,
                total: self.total.max(self.rows),
            });
        }
        Ok(())
    }
}

/// The rows of one export, ready to write: each source implements it.
pub(crate) struct Context<'t> {
    pub tx: &'t Transaction<'t>,
    pub filter: TotalsFilter,
    pub lang: Lang,
    pub reconciliation: Option<i64>,
    pub profile: Option<ProfileName>,
}

/// What a source returns besides its rows: the totals it ended with.
pub(crate) struct Written {
    pub rows: u64,
    pub totals: Vec<CurrencyTotals>,
}

/// The output file under a temporary name in its directory; removed on drop unless
/// [`TempOutput::persist`]ed (renamed over the target).
struct TempOutput {
    temp: PathBuf,
    target: PathBuf,
    done: bool,
}

impl TempOutput {
    fn new(target: &Path) -> Result<TempOutput> {
        let dir = match target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if !dir.is_dir() {
            return Err(write_failed(target, "its directory does not exist"));
        }
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // Process id and a per-process counter: two exports to one name (two windows of
        // the app) never share a temporary file.
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let temp = dir.join(format!(".{name}.partial-{}-{n}", std::process::id()));
        Ok(TempOutput {
            temp,
            target: target.to_path_buf(),
            done: false,
        })
    }

    fn create(&self) -> Result<File> {
        OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&self.temp)
            .map_err(|e| write_failed(&self.target, e))
    }

    fn persist(mut self) -> Result<()> {
        fs::rename(&self.temp, &self.target).map_err(|e| write_failed(&self.target, e))?;
        self.done = true;
        Ok(())
    }
}

impl Drop for TempOutput {
    fn drop(&mut self) {
        if !self.done {
            // Nothing to do if it was never created; a failure here leaves a hidden
            // `.partial` file, never a truncated export under the real name.
            let _ = fs::remove_file(&self.temp);
        }
    }
}

/// An export, ready to run on its own handle on the ledger file (so the desktop app's
/// handle is not held while it writes). Made by [`Ledger::export_job`].
pub struct ExportJob {
    ledger: Ledger,
    plan: Plan,
    cancel: Arc<AtomicBool>,
}

impl ExportJob {
    /// Set it (from any thread, a Cancel button) to stop the export within
    /// [`EXPORT_PROGRESS_ROWS`] rows: the partial file is removed, the target untouched.
    pub fn cancel_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.cancel)
    }

    /// Writes the export (blocking) and returns its summary. Progress comes every
    /// [`EXPORT_PROGRESS_ROWS`] rows, first with the total.
    pub fn run(mut self, mut progress: impl FnMut(&ExportProgress)) -> Result<ExportSummary> {
        let plan = self.plan.clone();
        let span = tracing::info_span!(
            "export",
            what = plan.what.as_str(),
            format = plan.format.as_str()
        );
        let _entered = span.enter();
        refuse_ledger_as_output(&mut self.ledger, &plan.path)?;
        let output = TempOutput::new(&plan.path)?;
        let cancel = Arc::clone(&self.cancel);
        let mut ticker = Ticker {
            rows: 0,
            total: 0,
            cancel: &cancel,
            progress: &mut progress,
        };
        let written = self.ledger.store().read(|tx| -> Result<Written> {
            let profile = match &plan.profile {
                None => None,
                Some(name) => Some(store::profiles::by_name(tx, name)?.map(|p| p.id).ok_or(
                    Error::NotFound {
                        what: "profile",
                        field: "profile",
                        key: name.to_string(),
                    },
                )?),
            };
            let cx = Context {
                tx,
                filter: TotalsFilter {
                    profile,
                    from_ms: plan.from_ms,
                    to_ms: plan.to_ms,
                },
                lang: plan.lang,
                reconciliation: plan.reconciliation,
                profile: plan.profile.clone(),
            };
            match plan.format {
                Format::Csv => {
                    let file = output.create()?;
                    let mut sink = self::csv::CsvSink::new(file, plan.bom, &plan.path)?;
                    let written = write_rows(&cx, plan.what, &mut sink, &mut ticker)?;
                    sink.finish()?;
                    Ok(written)
                }
                Format::Xlsx => xlsx::write(&cx, plan.what, &output.temp, &plan.path, &mut ticker),
            }
        })?;
        if cancel.load(Ordering::Relaxed) {
            return Err(interrupted());
        }
        output.persist()?;
        (ticker.progress)(&ExportProgress {
            rows: written.rows,
            total: written.rows,
        });
        tracing::info!(rows = written.rows, "export written");
        Ok(ExportSummary {
            file: plan.path.display().to_string(),
            what: plan.what.as_str().to_string(),
            format: plan.format.as_str().to_string(),
            rows: written.rows,
            totals: written.totals,
        })
    }
}

/// The rows of `what` into `sink`, header first, totals last.
pub(crate) fn write_rows<S: Sink>(
    cx: &Context<'_>,
    what: What,
    sink: &mut S,
    ticker: &mut Ticker<'_>,
) -> Result<Written> {
    match what {
        What::Ledger => ledger::write(cx, sink, ticker),
        What::Operations => operations::write(cx, sink, ticker),
        What::Reconciliation => reconciliation::write(cx, sink, ticker),
    }
}

/// Renaming an export over the ledger file would destroy it: refused.
fn refuse_ledger_as_output(ledger: &mut Ledger, path: &Path) -> Result<()> {
    let ledger_path = ledger.store().real_path().to_path_buf();
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let resolved = fs::canonicalize(dir)
        .ok()
        .zip(path.file_name())
        .map(|(d, n)| d.join(n));
    let resolved = resolved
        .as_deref()
        .and_then(|p| fs::canonicalize(p).ok().or_else(|| Some(p.to_path_buf())));
    if resolved.as_deref() == Some(ledger_path.as_path()) {
        return Err(Error::invalid(
            "path",
            "export.bad_path",
            format!(
                "'{}' is the ledger itself: write the export to another file",
                path.display()
            ),
        ));
    }
    Ok(())
}

/// Reads a text column (NULL as `None`) without copying it.
pub(crate) fn text_at<'r>(row: &'r rusqlite::Row<'_>, i: usize) -> Result<Option<&'r str>> {
    use rusqlite::types::ValueRef;
    match row.get_ref(i).map_err(StoreError::from)? {
        ValueRef::Null => Ok(None),
        ValueRef::Text(bytes) => std::str::from_utf8(bytes)
            .map(Some)
            .map_err(|_| StoreError::corrupt("text", String::from_utf8_lossy(bytes)).into()),
        other => Err(StoreError::corrupt("text", format!("{:?}", other.data_type())).into()),
    }
}

/// A currency the ledger holds, or the ledger is damaged.
pub(crate) fn currency_of(code: &str) -> Result<Currency> {
    Ok(Currency::from_code(code).map_err(|_| StoreError::corrupt("currency", code))?)
}

impl Ledger {
    /// Checks the request and makes the job (on its own handle on the ledger file).
    pub fn export_job(&self, request: ExportRequest) -> Result<ExportJob> {
        let plan = Plan::check(&request)?;
        Ok(ExportJob {
            ledger: self.reopen()?,
            plan,
            cancel: Arc::new(AtomicBool::new(false)),
        })
    }

    /// [`Ledger::export_job`] run here, without progress.
    pub fn export(&self, request: &ExportRequest) -> Result<ExportSummary> {
        self.export_job(request.clone())?.run(|_| {})
    }
}
