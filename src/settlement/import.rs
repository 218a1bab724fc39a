//! `settlement import`: a settlement file's lines checked one by one, streamed (memory holds
//! the line keys seen in this file, nothing else), then either counted (dry run) or stored
//! in one transaction (commit). A rerun of the same file finds every line's `line_key`
//! stored already and adds nothing.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use rusqlite::{Transaction, params};
use serde_json::json;

use super::Sql;
use super::{
    SettlementFileTotals, SettlementImportRequest, SettlementImportSummary, SettlementProgress,
    SettlementReject,
};
use crate::Ledger;
use crate::error::{Error, Result};
use crate::limits::IMPORT_MAX_LISTED;
use crate::model::{MAX_REFERENCE_CHARS, OrderNo, ProfileId};
use crate::money::{Amount, Currency};
use crate::store::events::{self, EventInsert};
use crate::tabular::mapping::{self, FileKind, Mapping};
use crate::tabular::{
    Record, RejectsFile, TableReader, parse_date, parse_override, parse_signed_amount,
};

/// Records between two progress reports.
const PROGRESS_EVERY_ROWS: u64 = 256;

/// One valid line, ready to store.
struct Line {
    line: u64,
    key: String,
    order_no: Option<String>,
    reference: Option<String>,
    amount_minor: i64,
    fee_minor: Option<i64>,
    net_minor: Option<i64>,
    currency: Currency,
    settled_on: String,
}

/// A file's totals per currency in minor units ([`SettlementFileTotals`] when done), in
/// currency-code order. Sums are checked: beyond `i64` is an error, never a wrap.
#[derive(Default)]
struct FileTotals {
    by_currency: std::collections::BTreeMap<&'static str, (Currency, Sums)>,
}

#[derive(Default)]
struct Sums {
    settled: i64,
    refunds: i64,
    fees: Option<i64>,
    net: i64,
}

fn checked(what: &'static str, a: i64, b: i64) -> Result<i64> {
    Ok(a.checked_add(b)
        .ok_or(crate::rules::RuleError::BalanceOverflow { balance: what })?)
}

impl FileTotals {
    fn add(&mut self, line: &Line) -> Result<()> {
        let (_, s) = self
            .by_currency
            .entry(line.currency.code())
            .or_insert_with(|| (line.currency, Sums::default()));
        let amount = line.amount_minor;
        if amount > 0 {
            s.settled = checked("settled", s.settled, amount)?;
        } else {
            let refund = amount
                .checked_neg()
                .ok_or(crate::rules::RuleError::BalanceOverflow { balance: "refunds" })?;
            s.refunds = checked("refunds", s.refunds, refund)?;
        }
        if let Some(fee) = line.fee_minor {
            s.fees = Some(checked("fees", s.fees.unwrap_or(0), fee)?);
        }
        let net = match (line.net_minor, line.fee_minor) {
            (Some(net), _) => net,
            (None, Some(fee)) => amount
                .checked_sub(fee)
                .ok_or(crate::rules::RuleError::BalanceOverflow { balance: "net" })?,
            (None, None) => amount,
        };
        s.net = checked("net", s.net, net)?;
        Ok(())
    }

    fn views(&self) -> Vec<SettlementFileTotals> {
        self.by_currency
            .values()
            .map(|(currency, s)| {
                let text = |minor: i64| Amount::from_minor(minor, *currency).to_string();
                SettlementFileTotals {
                    currency: currency.code().to_string(),
                    settled: text(s.settled),
                    refunds: text(s.refunds),
                    fees: s.fees.map(text),
                    net: text(s.net),
                }
            })
            .collect()
    }
}

fn reject(line: u64, code: &str, field: &str, reason: impl Into<String>) -> SettlementReject {
    SettlementReject {
        line,
        code: code.to_string(),
        field: Some(field.to_string()),
        reason: reason.into(),
    }
}

/// A reference (RRN, auth code) as stored: at most [`MAX_REFERENCE_CHARS`], no control
/// characters. Acquirers' references are digits and letters; the check only keeps out what
/// cannot be one.
fn check_reference(line: u64, text: &str) -> std::result::Result<String, SettlementReject> {
    if text.chars().count() > MAX_REFERENCE_CHARS {
        return Err(reject(
            line,
            "row.bad_reference",
            "reference",
            format!("the reference is longer than {MAX_REFERENCE_CHARS} characters"),
        ));
    }
    if let Some(c) = text.chars().find(|c| c.is_control()) {
        return Err(reject(
            line,
            "row.bad_reference",
            "reference",
            format!(
                "the reference holds a control character (U+{:04X})",
                c as u32
            ),
        ));
    }
    Ok(text.to_string())
}

/// Checks one record; `default_currency` is the profile's, for files without a currency.
fn parse_line(
    record: &Record,
    mapping: &Mapping,
    default_currency: Currency,
) -> std::result::Result<Line, SettlementReject> {
    let line = record.line;
    let order_no = mapping
        .get(record, "order_no")
        .map(|o| {
            OrderNo::parse(o)
                .map(|o| o.as_str().to_string())
                .map_err(|e| reject(line, "row.bad_reference", "order_no", e.to_string()))
        })
        .transpose()?;
    let reference = mapping
        .get(record, "reference")
        .map(|r| check_reference(line, r))
        .transpose()?;
    if order_no.is_none() && reference.is_none() {
        return Err(reject(
            line,
            "row.missing_reference",
            "reference",
            "the line has neither an order number nor a reference (RRN, auth code)",
        ));
    }
    let currency = match mapping.get(record, "currency") {
        None => default_currency,
        Some(code) => Currency::from_code(&code.to_ascii_uppercase()).map_err(|_| {
            reject(
                line,
                "row.unknown_currency",
                "currency",
                format!("'{code}' is not a currency Ottu supports"),
            )
        })?,
    };
    let amount = |field: &str| -> std::result::Result<Option<i64>, SettlementReject> {
        mapping
            .get(record, field)
            .map(|text| {
                parse_signed_amount(text, currency)
                    .map_err(|e| reject(line, "row.bad_amount", field, e.to_string()))
            })
            .transpose()
    };
    let amount_minor = match amount("amount")? {
        None => {
            return Err(reject(
                line,
                "row.bad_amount",
                "amount",
                "the amount is empty",
            ));
        }
        Some(0) => {
            return Err(reject(
                line,
                "row.bad_amount",
                "amount",
                "the amount is zero",
            ));
        }
        Some(minor) => minor,
    };
    // Acquirers write the fee on a payment as a deduction (`-0.150`) or as a charge
    // (`0.150`): either way it is what the merchant pays, stored positive.
    let fee_minor = amount("fee")?.map(|fee| if amount_minor > 0 { fee.abs() } else { fee });
    // A file without a net column: amount − fee, when the fee is known.
    let net_minor = match amount("net")? {
        Some(net) => Some(net),
        None => fee_minor.map(|fee| amount_minor - fee),
    };
    let settled_on = match mapping.get(record, "settled_on") {
        None => {
            return Err(reject(
                line,
                "row.bad_date",
                "settled_on",
                "the settlement date is empty",
            ));
        }
        Some(text) => parse_date(text)
            .map_err(|e| reject(line, "row.bad_date", "settled_on", e.to_string()))?,
    };
    let settled_on = format!(
        "{:04}-{:02}-{:02}",
        settled_on.year(),
        u8::from(settled_on.month()),
        settled_on.day()
    );
    // The line's own values: the same line in another file (or the same file again) is
    // the same money, stored once. The unit separator cannot appear in a checked value.
    let key = [
        reference.as_deref().unwrap_or(""),
        order_no.as_deref().unwrap_or(""),
        &amount_minor.to_string(),
        currency.code(),
        &settled_on,
    ]
    .join("\u{1f}");
    Ok(Line {
        line,
        key,
        order_no,
        reference,
        amount_minor,
        fee_minor,
        net_minor,
        currency,
        settled_on,
    })
}

/// A rejects file that could not be written is `settlement.rejects_unwritable` (the shared
/// writer's every error is a write failure).
fn rejects_unwritable(path: &Path) -> impl Fn(Error) -> Error + '_ {
    move |e| {
        Error::Unavailable {
            code: "settlement.rejects_unwritable",
            message: e.to_string(),
        }
        .with("file", path.display().to_string())
    }
}

fn default_rejects_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".rejects.csv");
    path.with_file_name(name)
}

impl Ledger {
    /// Imports a settlement file without progress or cancel (see
    /// [`Ledger::settlement_import_with`]).
    pub fn settlement_import(
        &mut self,
        request: &SettlementImportRequest,
    ) -> Result<SettlementImportSummary> {
        self.settlement_import_with(request, &mut |_| {}, &AtomicBool::new(false))
    }

    /// Reads the file, checks each line, and on `commit` stores the valid new ones (and the
    /// `--map` overrides as the profile's mapping) in one transaction with one audit event
    /// (`settlement.imported`). A dry run writes nothing to the ledger. Rejected lines are
    /// listed and written to the rejects file either way. Setting `cancel` stops the run
    /// (error `settlement.cancelled`, nothing written).
    pub fn settlement_import_with(
        &mut self,
        request: &SettlementImportRequest,
        progress: &mut dyn FnMut(SettlementProgress),
        cancel: &AtomicBool,
    ) -> Result<SettlementImportSummary> {
        let overrides = request
            .map
            .iter()
            .map(|m| parse_override(m))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let (profile, currency, saved) = self.store().read(|tx| -> Result<_> {
            let profile = super::profile_by_name(tx, &request.profile)?;
            let saved = mapping::load_saved(tx, profile.id, FileKind::Settlement)?;
            Ok((profile.id, profile.currency, saved))
        })?;
        let mut reader = TableReader::open(&request.path)?;
        let mapping = Mapping::resolve(FileKind::Settlement, reader.headers(), &saved, &overrides)?;
        let now_ms = self.clock().now_ms();
        let actor = self.actor().to_string();
        let file = request.path.display().to_string();
        let rejects_path = request
            .rejects_path
            .clone()
            .unwrap_or_else(|| default_rejects_path(&request.path));
        let rejects = RejectsFile::new(Some(rejects_path.clone()), reader.headers());
        let mut summary = SettlementImportSummary {
            profile: request.profile.clone(),
            file: file.clone(),
            format: reader.format().as_str().to_string(),
            committed: false,
            columns: mapping.columns(),
            rows: 0,
            added_count: 0,
            duplicate_count: 0,
            rejected: Vec::new(),
            rejected_count: 0,
            rejects_file: None,
            totals: Vec::new(),
        };
        let mut run = |tx: &Transaction<'_>,
                       summary: &mut SettlementImportSummary,
                       mut rejects: RejectsFile|
         -> Result<Option<String>> {
            let mut seen: HashSet<String> = HashSet::new();
            let mut totals = FileTotals::default();
            let mut exists = tx
                .prepare_cached(
                    "SELECT 1 FROM settlement_lines WHERE profile_id = ?1 AND line_key = ?2",
                )
                .sql()?;
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO settlement_lines (profile_id, source, line, line_key, order_no,
                     reference, amount_minor, fee_minor, net_minor, currency, settled_on,
                     imported_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                )
                .sql()?;
            while let Some(record) = reader.next_record() {
                let record = record?;
                summary.rows += 1;
                if summary.rows.is_multiple_of(PROGRESS_EVERY_ROWS) {
                    if cancel.load(Ordering::Relaxed) {
                        return Err(cancelled(summary.rows));
                    }
                    progress(SettlementProgress {
                        rows: summary.rows,
                        bytes: reader.bytes_read(),
                        total_bytes: reader.total_bytes(),
                    });
                }
                let parsed = parse_line(&record, &mapping, currency).and_then(|line| {
                    if seen.insert(line.key.clone()) {
                        Ok(line)
                    } else {
                        Err(reject(
                            line.line,
                            "row.duplicate",
                            "reference",
                            "the same line (reference, order number, amount, currency, date) is earlier in the file",
                        ))
                    }
                });
                let line = match parsed {
                    Ok(line) => line,
                    Err(rejected) => {
                        rejects
                            .write(&record.cells, record.line, &rejected.reason)
                            .map_err(rejects_unwritable(&rejects_path))?;
                        summary.rejected_count += 1;
                        if summary.rejected.len() < IMPORT_MAX_LISTED {
                            summary.rejected.push(rejected);
                        }
                        continue;
                    }
                };
                totals.add(&line)?;
                if exists.exists(params![profile.0, line.key]).sql()? {
                    summary.duplicate_count += 1;
                    continue;
                }
                summary.added_count += 1;
                if request.commit {
                    insert
                        .execute(params![
                            profile.0,
                            file,
                            line.line as i64,
                            line.key,
                            line.order_no,
                            line.reference,
                            line.amount_minor,
                            line.fee_minor,
                            line.net_minor,
                            line.currency.code(),
                            line.settled_on,
                            now_ms
                        ])
                        .sql()?;
                }
            }
            progress(SettlementProgress {
                rows: summary.rows,
                bytes: reader.total_bytes(),
                total_bytes: reader.total_bytes(),
            });
            summary.totals = totals.views();
            if request.commit {
                if !overrides.is_empty() {
                    mapping::save(tx, profile, FileKind::Settlement, &overrides, now_ms)?;
                }
                if summary.added_count > 0 {
                    audit(tx, &actor, now_ms, profile, summary)?;
                }
            }
            rejects.finish().map_err(rejects_unwritable(&rejects_path))
        };
        let rejects_file = if request.commit {
            self.store().write(|tx| run(tx, &mut summary, rejects))?
        } else {
            self.store().read(|tx| run(tx, &mut summary, rejects))?
        };
        summary.rejects_file = rejects_file;
        summary.committed = request.commit;
        Ok(summary)
    }
}

fn cancelled(rows: u64) -> Error {
    Error::Unavailable {
        code: "settlement.cancelled",
        message: format!(
            "the settlement import was stopped after {rows} lines: nothing was written"
        ),
    }
    .with("rows", rows)
}

/// One event for the file: what was added, from where.
fn audit(
    tx: &Transaction<'_>,
    actor: &str,
    now_ms: i64,
    profile: ProfileId,
    summary: &SettlementImportSummary,
) -> Result<()> {
    events::append(
        tx,
        &EventInsert {
            at_ms: now_ms,
            actor,
            action: "settlement.imported",
            entity: "profile",
            entity_id: profile.0,
            payment_id: None,
            before: None,
            after: Some(json!({
                "file": summary.file,
                "added": summary.added_count,
                "duplicates": summary.duplicate_count,
                "rejected": summary.rejected_count,
                "totals": summary.totals,
            })),
        },
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_path_sits_beside_the_file() {
        assert_eq!(
            default_rejects_path(Path::new("/tmp/x/settle.csv")),
            PathBuf::from("/tmp/x/settle.csv.rejects.csv")
        );
    }
}
