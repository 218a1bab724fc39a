//! Settlement files from the acquirer or bank, and their matching with paid payments and
//! refunds. Ottu has no settlement API: money reaches the merchant's account through the
//! acquirer (KNET, an MPGS bank) one to three business days after the payment, and the
//! acquirer's file is the record of it.
//!
//! - [`Ledger::settlement_import`](crate::Ledger::settlement_import): reads a CSV or XLSX
//!   file ([`crate::tabular`], columns mapped with [`FileKind::Settlement`]: built-in
//!   English/Arabic labels, the profile's saved mapping, `HEADER=field` overrides), checks
//!   every line (rejects with their line number and reason, and a rejects file), and on
//!   commit stores the valid lines in `settlement_lines` in one transaction. Each line's
//!   `line_key` is its own values (reference, order number, amount, currency, day), so
//!   importing the same file again adds nothing (`duplicate_count`).
//! - [`Ledger::settlement_match`](crate::Ledger::settlement_match): matches the stored
//!   lines with the ledger (rules in [`matching`]) into a [`SettlementReport`].
//!
//! Days are UTC calendar days, as Daftar stores times and Ottu's reports write them.
//! Business days skip Friday and Saturday, the weekend in Kuwait (where Ottu and KNET
//! are); public holidays are not known, so a settlement after Eid shows as late.
//!
//! [`FileKind::Settlement`]: crate::tabular::FileKind::Settlement

mod days;
mod import;
pub mod matching;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::tabular::MappedColumn;

pub use days::{add_business_days, business_days_between, is_weekend};

use rusqlite::Transaction;

use crate::error::{Error, FieldContext, Result};
use crate::model::{Profile, ProfileName};

/// SQLite's errors as the ledger's (through [`crate::StoreError`]).
trait Sql<T> {
    fn sql(self) -> Result<T>;
}

impl<T> Sql<T> for rusqlite::Result<T> {
    fn sql(self) -> Result<T> {
        Ok(self.map_err(crate::StoreError::from)?)
    }
}

/// The profile a request names (its id and currency), or `NotFound`.
fn profile_by_name(tx: &Transaction<'_>, name: &str) -> Result<Profile> {
    let name = ProfileName::parse(name).field("profile")?;
    crate::store::profiles::by_name(tx, &name)?.ok_or(Error::NotFound {
        what: "profile",
        field: "profile",
        key: name.to_string(),
    })
}

/// `settlement import`: a file for a profile, dry run unless `commit`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(optional_fields = nullable)]
pub struct SettlementImportRequest {
    pub profile: String,
    pub path: PathBuf,
    /// `HEADER=field` overrides (saved for the profile when the import commits).
    #[serde(default)]
    pub map: Vec<String>,
    #[serde(default)]
    pub commit: bool,
    /// Where rejected lines go; default `<file>.rejects.csv` (written only when there are).
    #[serde(default)]
    pub rejects_path: Option<PathBuf>,
}

/// Progress of an import: records read, bytes of the file read so far, of how many.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, TS)]
pub struct SettlementProgress {
    pub rows: u64,
    pub bytes: u64,
    pub total_bytes: u64,
}

/// A line that was not taken, and why: `code` is stable (`row.bad_amount`,
/// `row.unknown_currency`, `row.bad_date`, `row.bad_reference`, `row.missing_reference`,
/// `row.duplicate`); `field` the settlement field at fault; `reason` is English.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(optional_fields = nullable)]
pub struct SettlementReject {
    pub line: u64,
    pub code: String,
    pub field: Option<String>,
    pub reason: String,
}

/// What an import found (dry run) or did (`committed`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
#[ts(optional_fields = nullable)]
pub struct SettlementImportSummary {
    pub profile: String,
    pub file: String,
    /// `csv` or `xlsx`.
    pub format: String,
    pub committed: bool,
    pub columns: Vec<MappedColumn>,
    /// Data records read (rejected ones included).
    pub rows: u64,
    /// Valid lines new to the ledger (added on commit; would be added on a dry run).
    pub added_count: u64,
    /// Valid lines the ledger holds already (an earlier import of the same file).
    pub duplicate_count: u64,
    /// The first [`IMPORT_MAX_LISTED`](crate::limits::IMPORT_MAX_LISTED); the count is complete.
    pub rejected: Vec<SettlementReject>,
    pub rejected_count: u64,
    pub rejects_file: Option<String>,
    /// Per currency, of the valid lines (duplicates included: what the file says).
    pub totals: Vec<SettlementFileTotals>,
}

/// A settlement file's own totals in one currency: what the lines say, before any
/// matching (decimal strings with the currency's decimals).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
#[ts(optional_fields = nullable)]
pub struct SettlementFileTotals {
    pub currency: String,
    /// The positive lines: money paid out to the merchant.
    pub settled: String,
    /// The refund (negative) lines, as a positive sum.
    pub refunds: String,
    /// The lines' fees; `None` when no line of the currency gives one (unknown, not zero).
    pub fees: Option<String>,
    /// What reached the account: each line's net, else its amount − fee, else its amount;
    /// refund lines count negative.
    pub net: String,
}

/// `settlement match`: payments (and refunds) created in `[from, to)` of a profile.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(optional_fields = nullable)]
pub struct SettlementMatchRequest {
    pub profile: String,
    /// Created at or after: a UTC date (`2025-12-01`) or an RFC 3339 instant.
    #[serde(default)]
    pub from: Option<String>,
    /// Created before: an RFC 3339 instant, or a UTC date, which includes that whole day.
    #[serde(default)]
    pub to: Option<String>,
    /// Business days a line may come after the transaction's day; default
    /// [`SETTLEMENT_WINDOW_BUSINESS_DAYS`](crate::limits::SETTLEMENT_WINDOW_BUSINESS_DAYS).
    #[serde(default)]
    pub window_days: Option<u32>,
}

/// A transaction with the settlement line that paid it out (or took a refund back).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
#[ts(optional_fields = nullable)]
pub struct SettledItem {
    /// `payment` or `refund`.
    pub kind: String,
    /// The payment's session id (a refund: its own child session id).
    pub session_id: String,
    /// For a refund, the payment's session id.
    pub parent_session_id: Option<String>,
    pub order_no: Option<String>,
    pub reference: Option<String>,
    pub currency: String,
    /// What the ledger says should settle (negative for a refund).
    pub expected: String,
    /// What the line says settled (negative for a refund).
    pub settled: String,
    /// `settled - expected`: zero when matched.
    pub difference: String,
    pub fee: Option<String>,
    pub net: Option<String>,
    /// The transaction's creation (RFC 3339, UTC).
    pub created_at: String,
    /// `YYYY-MM-DD`.
    pub settled_on: String,
    /// Business days from the transaction's day to the settlement day.
    pub lag_days: u32,
    /// `reference` or `order_no`: how the line was found.
    pub matched_by: String,
    pub line_id: i64,
    pub line: u64,
    pub source: String,
}

/// A paid payment or succeeded refund with no settlement line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
#[ts(optional_fields = nullable)]
pub struct UnsettledItem {
    pub kind: String,
    pub session_id: String,
    pub parent_session_id: Option<String>,
    pub order_no: Option<String>,
    pub reference: Option<String>,
    pub currency: String,
    /// Negative for a refund.
    pub amount: String,
    pub created_at: String,
    /// The last day of its window (`YYYY-MM-DD`).
    pub due_by: String,
}

/// A stored settlement line (one that matched nothing, in the report).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
#[ts(optional_fields = nullable)]
pub struct SettlementLineView {
    pub id: i64,
    pub source: String,
    pub line: u64,
    pub order_no: Option<String>,
    pub reference: Option<String>,
    pub currency: String,
    pub amount: String,
    pub fee: Option<String>,
    pub net: Option<String>,
    pub settled_on: String,
    /// Why it matched nothing: `no_payment` (no payment or refund has its reference or
    /// order number), `not_paid` (the payment it names is not paid), `outside_window`
    /// (the transaction it names is outside the window), `currency_differs` (it names
    /// transactions in another currency), `already_settled` (an earlier
    /// line settled that transaction), `no_refund` (a negative line for a payment with no
    /// succeeded refund to take it).
    pub reason: String,
    /// The payment the line names, when it names one.
    pub session_id: Option<String>,
}

/// Per currency: what the ledger expected to settle, what did, the fees, what did not.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct SettlementTotals {
    pub currency: String,
    /// Paid payments minus succeeded refunds of the period.
    pub expected: String,
    /// The lines matched to them (matched and amount_differs), refunds negative.
    pub settled: String,
    /// The fees of those lines.
    pub fees: String,
    /// What reached the account for them (each line's net, else amount − fee).
    pub net: String,
    /// Expected but not settled once the window passed (refunds negative).
    pub not_settled: String,
    /// Expected, window not passed yet.
    pub awaiting: String,
    /// Lines that match nothing.
    pub unknown: String,
}

/// The result of `settlement match`. Lists hold the first
/// [`IMPORT_MAX_LISTED`](crate::limits::IMPORT_MAX_LISTED) items; counts are complete.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
#[ts(optional_fields = nullable)]
pub struct SettlementReport {
    pub profile: String,
    pub from: Option<String>,
    pub to: Option<String>,
    pub window_days: u32,
    /// The day the report was made (`YYYY-MM-DD`, UTC): windows that end before it passed.
    pub as_of: String,
    pub matched: Vec<SettledItem>,
    pub matched_count: u64,
    pub amount_differs: Vec<SettledItem>,
    pub amount_differs_count: u64,
    pub not_settled: Vec<UnsettledItem>,
    pub not_settled_count: u64,
    /// Expected, but their window has not passed yet.
    pub awaiting: Vec<UnsettledItem>,
    pub awaiting_count: u64,
    pub unknown: Vec<SettlementLineView>,
    pub unknown_count: u64,
    pub totals: Vec<SettlementTotals>,
}
