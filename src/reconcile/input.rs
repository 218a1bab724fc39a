//! What a reconciliation reads: the report's rows as the report reader parses them
//! (`crate::import::report`), one type for import and reconciliation alike.

pub use crate::import::report::{FieldChange, ReportRow, ReportRows, RowReject};
