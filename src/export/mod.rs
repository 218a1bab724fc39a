//! Exports of the ledger, its operations and reconciliations as CSV or XLSX, streamed,
//! deterministic, with totals per currency. (Being built: issue 10.)
