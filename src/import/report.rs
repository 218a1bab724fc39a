//! Ottu transaction reports (CSV/XLSX) into the ledger: a dry run, then a commit in one
//! transaction. (Being built: issue 10.)
