//! Payments into the ledger from outside: from Ottu's retrieve endpoint (`import`), and
//! re-reading what Ottu has not settled yet (`refresh`). Reports (CSV/XLSX) come later.

mod from_ottu;

pub use from_ottu::{ImportFailure, ImportSummary, RefreshSummary};
