//! Payments into the ledger from outside: from Ottu's retrieve endpoint (`import`, by
//! session id or from a file read as a stream), and re-reading what Ottu has not settled
//! yet (`refresh`), each as a job that runs on its own handle on the ledger file, reports
//! progress and can be cancelled. Reports (CSV/XLSX) come later.

mod from_ottu;
mod lines;
pub mod report;
mod window;

pub use crate::connect::Remote;
pub use from_ottu::{
    ImportFailure, ImportJob, ImportProgress, ImportRequest, ImportStop, ImportSummary, RefreshJob,
    RefreshProgress, RefreshReport, RefreshRequest, RefreshSummary,
};
pub use lines::RejectedLine;
pub use window::StopReason;
