//! Ottu transaction reports (CSV/XLSX) into the ledger. [`read_report`] streams a file's
//! rows as [`ReportRow`]s or [`RowReject`]s (shared with reconciliation);
//! [`ReportImportJob`] plans what the rows would change (a dry run) and applies it in one
//! transaction (`--commit`); [`download`] fetches a report by its token through the Ottu
//! client. See docs/month-end/reports.md.

mod columns;
mod download;
mod job;
mod rows;

pub use columns::ColumnMapRequest;
/// Reconciliation by report token downloads through the same path.
pub(crate) use download::to_temp_file;
pub use download::{ReportFile, ReportList, ReportListRequest};
pub use job::IMPORTED_REPORT;
pub use job::{
    FieldChange, LockedPeriod, PERIOD_LOCKED, ReportImportJob, ReportImportRequest,
    ReportImportSummary, ReportProgress, RowAdd, RowConflict, RowUpdate,
};
pub use rows::{ReportRow, ReportRows, RowReject, open_report, read_report};
