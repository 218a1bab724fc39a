//! Reconciliation: the ledger compared with an Ottu report, every payment classified, the
//! merchant's decisions, and reconciled (locked) periods. (Being built: issue 10.)
