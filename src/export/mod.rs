//! Exports of the ledger, its operations and reconciliations as CSV or XLSX, streamed,
//! deterministic, with totals per currency.

pub mod totals;

pub use totals::{CurrencyTotals, MinorTotals, TotalsBuilder, TotalsFilter};
