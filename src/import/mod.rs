//! Payments into the ledger from outside: from Ottu's retrieve endpoint (`import`, by
//! session id or from a file read as a stream), and re-reading what Ottu has not settled
//! yet (`refresh`). Reports (CSV/XLSX) come later.

mod from_ottu;
mod lines;
mod window;

pub use from_ottu::{
    ImportFailure, ImportProgress, ImportRequest, ImportStop, ImportSummary, RefreshSummary,
};
pub use lines::RejectedLine;
pub use window::StopReason;
