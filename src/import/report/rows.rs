//! A report's records as typed rows: each record becomes a [`ReportRow`] or a
//! [`RowReject`] naming its line, a stable code and the field at fault. Streams: the only
//! thing that grows is the set of session ids seen (to reject a duplicate on its second
//! line), kept as 16-byte hashes.

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::Path;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::Result;
use crate::model::{
    ChildState, MAX_REFERENCE_CHARS, OperationKind, OrderNo, PaymentState, SessionId,
};
use crate::money::{Amount, Currency};
use crate::tabular::{
    Mapping, Record, TableFormat, TableReader, ValueError, parse_signed_amount, parse_timestamp,
    values::parse_amount,
};

/// One valid row of an Ottu report: a payment (parent) or, with `parent_session_id`, a
/// child (refund, capture, void).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportRow {
    pub line: u64,
    pub session_id: SessionId,
    pub order_no: Option<OrderNo>,
    /// Some = a child (refund/capture/void row).
    pub parent_session_id: Option<SessionId>,
    /// "purchase", "authorize", "refund", "capture", "void", ... (lower case).
    pub operation: Option<String>,
    /// Positive; a child's amount as a positive number even if the report signs refunds.
    pub amount: Amount,
    /// A `PaymentState` word (parents) or `ChildState` word (children), checked.
    pub state: String,
    pub pg_code: Option<String>,
    pub created_at_ms: Option<i64>,
    pub modified_at_ms: Option<i64>,
    pub reference_number: Option<String>,
    pub refunded: Option<Amount>,
    pub captured: Option<Amount>,
    pub voided: Option<Amount>,
    pub customer_email: Option<String>,
}

impl ReportRow {
    pub fn is_child(&self) -> bool {
        self.parent_session_id.is_some()
    }

    /// A parent's state (checked when the row was read).
    pub fn payment_state(&self) -> Option<PaymentState> {
        self.state.parse().ok()
    }

    /// A child's state (checked when the row was read).
    pub fn child_state(&self) -> Option<ChildState> {
        self.state.parse().ok()
    }

    /// A child's kind: its operation word, else what its state implies.
    pub fn child_kind(&self) -> Option<OperationKind> {
        child_kind(self.operation.as_deref(), self.child_state()?)
    }
}

/// A child's kind: from its operation word when the report gives one (`refund`,
/// `partial_refund`, `capture`, `void`; anything else is not a child's), else from its state.
fn child_kind(operation: Option<&str>, state: ChildState) -> Option<OperationKind> {
    match operation {
        Some(op) => [
            OperationKind::Refund,
            OperationKind::Capture,
            OperationKind::Void,
        ]
        .into_iter()
        .find(|kind| op.contains(kind.as_str())),
        None => Some(match state {
            ChildState::Refunded | ChildState::RefundQueued | ChildState::RefundRejected => {
                OperationKind::Refund
            }
            ChildState::Voided => OperationKind::Void,
            ChildState::Paid => OperationKind::Capture,
        }),
    }
}

/// A row that was not taken, and why. `code` is stable (`row.missing_id`,
/// `row.bad_amount`, `row.unknown_currency`, `row.bad_state`, `row.bad_date`,
/// `row.duplicate`, `row.bad_reference`, `row.unknown_parent`); `field` is the report
/// field at fault; `reason` is English.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct RowReject {
    pub line: u64,
    pub code: String,
    pub field: Option<String>,
    pub reason: String,
}

impl RowReject {
    pub(crate) fn new(line: u64, code: &str, field: &str, reason: impl Into<String>) -> RowReject {
        RowReject {
            line,
            code: code.to_string(),
            field: Some(field.to_string()),
            reason: reason.into(),
        }
    }
}

/// The rows of one report file, in file order.
pub struct ReportRows {
    reader: TableReader,
    mapping: Mapping,
    columns: Columns,
    seen: HashSet<u128>,
    /// Totals rows passed over (a Daftar export's closing rows).
    skipped_totals: u64,
    /// The record just read (its cells, for a rejects file).
    last: Option<Record>,
}

/// Opens a report file and streams its rows, mapped by `mapping` (resolved from this
/// file's headers: [`ReportRows::headers`] of a first open, or [`TableReader::headers`]).
pub fn read_report(path: &Path, mapping: &Mapping) -> Result<ReportRows> {
    let reader = TableReader::open(path)?;
    Ok(ReportRows::new(reader, mapping.clone()))
}

/// Opens a report file and maps its columns from its own headers: the built-in labels,
/// then `saved` (a profile's `column_maps`), then `overrides` (`HEADER=field` pairs, e.g.
/// from [`crate::tabular::parse_override`]). The mapping is [`ReportRows::mapping`].
pub fn open_report(
    path: &Path,
    saved: &[(String, String)],
    overrides: &[(String, String)],
) -> Result<ReportRows> {
    let reader = TableReader::open(path)?;
    let mapping = Mapping::resolve(
        crate::tabular::FileKind::Report,
        reader.headers(),
        saved,
        overrides,
    )?;
    Ok(ReportRows::new(reader, mapping))
}

/// Column indexes of the report's fields, looked up once.
#[derive(Clone, Copy, Default)]
struct Columns {
    session_id: Option<usize>,
    order_no: Option<usize>,
    parent_session_id: Option<usize>,
    operation: Option<usize>,
    amount: Option<usize>,
    currency: Option<usize>,
    state: Option<usize>,
    pg_code: Option<usize>,
    created: Option<usize>,
    modified: Option<usize>,
    reference_number: Option<usize>,
    refunded_amount: Option<usize>,
    captured_amount: Option<usize>,
    voided_amount: Option<usize>,
    customer_email: Option<usize>,
}

impl ReportRows {
    pub fn new(reader: TableReader, mapping: Mapping) -> ReportRows {
        let c = |f: &str| mapping.column(f);
        let columns = Columns {
            session_id: c("session_id"),
            order_no: c("order_no"),
            parent_session_id: c("parent_session_id"),
            operation: c("operation"),
            amount: c("amount"),
            currency: c("currency"),
            state: c("state"),
            pg_code: c("pg_code"),
            created: c("created"),
            modified: c("modified"),
            reference_number: c("reference_number"),
            refunded_amount: c("refunded_amount"),
            captured_amount: c("captured_amount"),
            voided_amount: c("voided_amount"),
            customer_email: c("customer_email"),
        };
        ReportRows {
            reader,
            mapping,
            columns,
            seen: HashSet::new(),
            skipped_totals: 0,
            last: None,
        }
    }

    pub fn headers(&self) -> &[String] {
        self.reader.headers()
    }

    pub fn mapping(&self) -> &Mapping {
        &self.mapping
    }

    pub fn format(&self) -> TableFormat {
        self.reader.format()
    }

    pub fn bytes_read(&self) -> u64 {
        self.reader.bytes_read()
    }

    pub fn total_bytes(&self) -> u64 {
        self.reader.total_bytes()
    }

    /// Totals rows passed over so far: the `total` rows a Daftar export ends with
    /// ([`is_totals_row`]), skipped quietly (they are sums, not payments).
    pub fn skipped_totals(&self) -> u64 {
        self.skipped_totals
    }

    /// The cells of the record last returned (for a rejects file).
    pub fn last_cells(&self) -> &[String] {
        self.last
            .as_ref()
            .map(|r| r.cells.as_slice())
            .unwrap_or(&[])
    }

    /// The next row; `Err` of the outer result is the file itself failing (a line that is
    /// not UTF-8, broken quoting): the read stops there.
    pub fn next_row(&mut self) -> Option<Result<std::result::Result<ReportRow, RowReject>>> {
        let record = loop {
            match self.reader.next_record()? {
                Ok(record) if is_totals_row(&record) => self.skipped_totals += 1,
                Ok(record) => break record,
                Err(e) => return Some(Err(e.into())),
            }
        };
        let row = parse_row(&record, &self.columns);
        let row = row.and_then(|row| {
            if self.seen.insert(id_hash(row.session_id.as_str())) {
                Ok(row)
            } else {
                Err(RowReject::new(
                    row.line,
                    "row.duplicate",
                    "session_id",
                    format!(
                        "session id {} is in the file twice: this later row is left out",
                        row.session_id
                    ),
                ))
            }
        });
        self.last = Some(record);
        Some(Ok(row))
    }
}

impl Iterator for ReportRows {
    type Item = std::result::Result<ReportRow, RowReject>;
    /// The rows; a file failure ends the iteration as a reject of its line with the code
    /// of the failure (callers that must tell use [`ReportRows::next_row`]).
    fn next(&mut self) -> Option<Self::Item> {
        match self.next_row()? {
            Ok(row) => Some(row),
            Err(e) => Some(Err(RowReject {
                line: e.params().get("line").and_then(|l| l.as_u64()).unwrap_or(0),
                code: e.code().to_string(),
                field: None,
                reason: e.to_string(),
            })),
        }
    }
}

/// 128 bits of two SipHashes: a collision between two different ids of one file is
/// practically impossible (about 1e-27 for a million ids), at 16 bytes an id.
pub(super) fn id_hash(id: &str) -> u128 {
    let half = |salt: u8| {
        let mut h = DefaultHasher::new();
        salt.hash(&mut h);
        id.hash(&mut h);
        h.finish()
    };
    (u128::from(half(0)) << 64) | u128::from(half(1))
}

/// The first cells of the totals rows of Daftar's exports (`src/export/ledger.rs` writes
/// `total` in either language; the totals block's header words as well).
const TOTALS_WORDS: &[&str] = &["total", "totals", "الإجماليات", "الإجمالي"];

/// A Daftar export's closing `total` row: its first cell is a totals word.
pub fn is_totals_row(record: &Record) -> bool {
    let first = unneutralise(record.cell(0).trim());
    TOTALS_WORDS.iter().any(|w| first.eq_ignore_ascii_case(w))
}

/// A cell as written before a Daftar export neutralised it: the `'` put before text that
/// starts with `=`, `+`, `-`, `@`, TAB or CR (`export::cells::neutralise`) is taken off;
/// any other leading `'` is the text's own.
fn unneutralise(text: &str) -> &str {
    match text.strip_prefix('\'') {
        Some(rest) if crate::export::cells::is_dangerous(rest) => rest,
        _ => text,
    }
}

fn cell(record: &Record, column: Option<usize>) -> Option<&str> {
    let text = unneutralise(record.cell(column?).trim()).trim();
    (!text.is_empty()).then_some(text)
}

/// A word as the model spells it: `Refund Queued` → `refund_queued`.
fn word(text: &str) -> String {
    text.trim()
        .to_lowercase()
        .split(|c: char| c.is_whitespace() || c == '-')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("_")
}

fn amount_reason(e: &ValueError) -> String {
    e.to_string()
}

/// Free text kept as the report gives it: at most [`MAX_REFERENCE_CHARS`] characters, no
/// control characters.
fn text_field(
    record: &Record,
    column: Option<usize>,
    field: &str,
) -> std::result::Result<Option<String>, RowReject> {
    let Some(text) = cell(record, column) else {
        return Ok(None);
    };
    if text.chars().count() > MAX_REFERENCE_CHARS || text.chars().any(char::is_control) {
        return Err(RowReject::new(
            record.line,
            "row.bad_reference",
            field,
            format!(
                "{field} is longer than {MAX_REFERENCE_CHARS} characters or holds a control character"
            ),
        ));
    }
    Ok(Some(text.to_string()))
}

fn parse_row(record: &Record, c: &Columns) -> std::result::Result<ReportRow, RowReject> {
    let line = record.line;
    let reject =
        |code: &str, field: &str, reason: String| RowReject::new(line, code, field, reason);

    let Some(session_text) = cell(record, c.session_id) else {
        return Err(reject(
            "row.missing_id",
            "session_id",
            "the row has no session id".into(),
        ));
    };
    let session_id = SessionId::parse(session_text)
        .map_err(|e| reject("row.bad_reference", "session_id", e.to_string()))?;
    let parent_session_id = cell(record, c.parent_session_id)
        .map(SessionId::parse)
        .transpose()
        .map_err(|e| reject("row.bad_reference", "parent_session_id", e.to_string()))?;
    let order_no = cell(record, c.order_no)
        .map(OrderNo::parse)
        .transpose()
        .map_err(|e| reject("row.bad_reference", "order_no", e.to_string()))?;

    let currency_text = cell(record, c.currency).unwrap_or("");
    let currency = Currency::from_code(&currency_text.to_ascii_uppercase()).map_err(|_| {
        reject(
            "row.unknown_currency",
            "currency",
            if currency_text.is_empty() {
                "the row has no currency".to_string()
            } else {
                format!("'{currency_text}' is not a currency Ottu supports")
            },
        )
    })?;

    let Some(amount_text) = cell(record, c.amount) else {
        return Err(reject(
            "row.bad_amount",
            "amount",
            "the row has no amount".into(),
        ));
    };
    let minor = parse_signed_amount(amount_text, currency)
        .map_err(|e| reject("row.bad_amount", "amount", amount_reason(&e)))?;
    // A report may sign a refund row negative; the child's amount is what moved.
    let minor = if parent_session_id.is_some() {
        minor.abs()
    } else {
        minor
    };
    if minor <= 0 {
        return Err(reject(
            "row.bad_amount",
            "amount",
            format!("'{amount_text}' must be greater than zero"),
        ));
    }
    let amount = Amount::from_minor(minor, currency);

    let operation = cell(record, c.operation).map(word);
    let Some(state_text) = cell(record, c.state) else {
        return Err(reject(
            "row.bad_state",
            "state",
            "the row has no state".into(),
        ));
    };
    let state = word(state_text);
    if parent_session_id.is_some() {
        let child_state: ChildState = state.parse().map_err(|e: crate::model::UnknownWord| {
            reject("row.bad_state", "state", e.to_string())
        })?;
        if child_kind(operation.as_deref(), child_state).is_none() {
            return Err(reject(
                "row.bad_state",
                "operation",
                format!(
                    "a child row's operation must be refund, capture or void, not '{}'",
                    operation.as_deref().unwrap_or("")
                ),
            ));
        }
    } else {
        state
            .parse::<PaymentState>()
            .map_err(|e| reject("row.bad_state", "state", e.to_string()))?;
    }

    let time = |column: Option<usize>, field: &str| {
        cell(record, column)
            .map(parse_timestamp)
            .transpose()
            .map_err(|e| reject("row.bad_date", field, e.to_string()))
    };
    let created_at_ms = time(c.created, "created")?;
    let modified_at_ms = time(c.modified, "modified")?;

    let other_amount = |column: Option<usize>, field: &str| {
        cell(record, column)
            .map(|t| parse_amount(t, currency))
            .transpose()
            .map_err(|e| reject("row.bad_amount", field, amount_reason(&e)))
    };
    let refunded = other_amount(c.refunded_amount, "refunded_amount")?;
    let captured = other_amount(c.captured_amount, "captured_amount")?;
    let voided = other_amount(c.voided_amount, "voided_amount")?;

    Ok(ReportRow {
        line,
        session_id,
        order_no,
        parent_session_id,
        operation,
        amount,
        state,
        pg_code: text_field(record, c.pg_code, "pg_code")?,
        created_at_ms,
        modified_at_ms,
        reference_number: text_field(record, c.reference_number, "reference_number")?,
        refunded,
        captured,
        voided,
        customer_email: text_field(record, c.customer_email, "customer_email")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tabular::FileKind;

    fn rows(csv: &str) -> Vec<std::result::Result<ReportRow, RowReject>> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.csv");
        std::fs::write(&path, csv).unwrap();
        let reader = TableReader::open(&path).unwrap();
        let mapping = Mapping::resolve(FileKind::Report, reader.headers(), &[], &[]).unwrap();
        ReportRows::new(reader, mapping).collect()
    }

    fn reject(r: &std::result::Result<ReportRow, RowReject>) -> (u64, &str, Option<&str>) {
        let r = r.as_ref().unwrap_err();
        (r.line, r.code.as_str(), r.field.as_deref())
    }

    #[test]
    fn good_and_bad_rows() {
        let all = rows(
            "session_id,parent_session_id,operation,amount,currency_code,state,created,refunded_amount\n\
             S1,,purchase,\"1,000.500\",kwd,Paid,2026-11-03 10:00,0\n\
             C1,S1,Refund,-0.500,KWD,refunded,,\n\
             ,,purchase,1,KWD,paid,,\n\
             S2,,purchase,abc,KWD,paid,,\n\
             S3,,purchase,1,XYZ,paid,,\n\
             S4,,purchase,1,KWD,settled,,\n\
             S5,,purchase,1,KWD,paid,yesterday,\n\
             S1,,purchase,1,KWD,paid,,\n\
             S6 x,,purchase,1,KWD,paid,,\n\
             C2,S1,purchase,1,KWD,paid,,\n\
             S7,,purchase,0,KWD,paid,,\n\
             S8,,purchase,1,KWD,paid,,1.0001\n",
        );
        let s1 = all[0].as_ref().unwrap();
        assert_eq!(s1.amount.minor(), 1_000_500);
        assert_eq!(s1.state, "paid");
        assert_eq!(s1.refunded.unwrap().minor(), 0);
        let c1 = all[1].as_ref().unwrap();
        assert_eq!(c1.amount.minor(), 500);
        assert_eq!(c1.child_kind(), Some(OperationKind::Refund));
        assert_eq!(reject(&all[2]), (4, "row.missing_id", Some("session_id")));
        assert_eq!(reject(&all[3]), (5, "row.bad_amount", Some("amount")));
        assert_eq!(
            reject(&all[4]),
            (6, "row.unknown_currency", Some("currency"))
        );
        assert_eq!(reject(&all[5]), (7, "row.bad_state", Some("state")));
        assert_eq!(reject(&all[6]), (8, "row.bad_date", Some("created")));
        assert_eq!(reject(&all[7]), (9, "row.duplicate", Some("session_id")));
        assert_eq!(
            reject(&all[8]),
            (10, "row.bad_reference", Some("session_id"))
        );
        assert_eq!(reject(&all[9]), (11, "row.bad_state", Some("operation")));
        assert_eq!(reject(&all[10]), (12, "row.bad_amount", Some("amount")));
        assert_eq!(
            reject(&all[11]),
            (13, "row.bad_amount", Some("refunded_amount"))
        );
    }
}
