//! The one registry of error codes: each stable code with its [`ErrorKind`] and one line
//! saying what it means. A code is fixed once shipped (the desktop app and scripts match
//! on it); its kind decides the CLI's exit code. `docs/errors.md` lists every code, and
//! the registry test (`tests/errors.rs`) checks the two agree, that every code is unique,
//! and that every code the source can return is here.

use super::ErrorKind;
use ErrorKind::{Conflict, Internal, InvalidInput, NotFound, Refused, Unavailable};

/// One registered code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Code {
    pub code: &'static str,
    pub kind: ErrorKind,
    pub about: &'static str,
}

const fn c(code: &'static str, kind: ErrorKind, about: &'static str) -> Code {
    Code { code, kind, about }
}

/// Every error code, grouped by what it concerns. One line each: kept out of rustfmt.
#[rustfmt::skip]
pub const CODES: &[Code] = &[
    // Amounts and currencies.
    c("amount.not_decimal", InvalidInput, "The amount is not a plain decimal number."),
    c("amount.too_precise", InvalidInput, "The amount has more decimals than its currency allows."),
    c("amount.too_many_digits", InvalidInput, "The amount has too many digits before the decimal point."),
    c("amount.not_positive", InvalidInput, "The amount must be greater than zero."),
    c("amount.currency", InvalidInput, "The amount is in another currency than the payment."),
    c("amount.overflow", InvalidInput, "Adding the amounts would overflow."),
    c("amount.not_accepted", InvalidInput, "The operation takes no amount: it applies to the whole payment."),
    c("currency.unknown", InvalidInput, "A currency Ottu does not support."),
    // References, words and other input.
    c("input.empty", InvalidInput, "A reference (session id, order number, name) is empty."),
    c("input.too_long", InvalidInput, "A reference is longer than allowed."),
    c("input.bad_character", InvalidInput, "A reference holds a character it may not."),
    c("input.unknown_word", InvalidInput, "A word (state, kind, status) that names nothing known."),
    c("input.payment_reference", InvalidInput, "A payment must be named by exactly one of session id and order number."),
    c("input.ambiguous_payment", InvalidInput, "The order number matches payments of several profiles: name the profile."),
    c("input.unreadable", InvalidInput, "The input file cannot be opened (unavailable when an import stops reading it part way)."),
    c("limit.out_of_range", InvalidInput, "A page size outside what is allowed."),
    c("cursor.invalid", InvalidInput, "A list cursor this list did not give out."),
    c("date.invalid", InvalidInput, "A date or time that cannot be read, or is out of range."),
    c("reason.too_long", InvalidInput, "The reason is longer than allowed."),
    c("reason.bad_character", InvalidInput, "The reason holds a control character."),
    c("db.not_a_file", InvalidInput, "The ledger path names no file (in-memory, a URI, empty)."),
    c("db.empty", InvalidInput, "The ledger path from the environment is empty."),
    c("db.no_home", InvalidInput, "No home directory to keep the ledger in: give a path."),
    c("db.unwritable", InvalidInput, "The default ledger directory cannot be created: give a path."),
    // Profiles and keys.
    c("base_url.invalid", InvalidInput, "The base URL cannot be used for Ottu."),
    c("base_url.insecure", InvalidInput, "The base URL is plain HTTP to a host other than this machine."),
    c("base_url.too_long", InvalidInput, "The base URL is longer than allowed."),
    c("basic_user.empty", InvalidInput, "The Basic auth user is empty."),
    c("basic_user.too_long", InvalidInput, "The Basic auth user is longer than allowed."),
    c("basic_user.bad_character", InvalidInput, "The Basic auth user holds a character it may not."),
    c("key.empty", InvalidInput, "The key or password is empty."),
    c("key.too_short", InvalidInput, "The key is shorter than any Ottu key."),
    c("key.too_long", InvalidInput, "The key or password is longer than allowed."),
    c("key.bad_character", InvalidInput, "The key or password holds a character it may not."),
    c("key.no_terminal", InvalidInput, "No terminal to ask for the key: pipe it instead."),
    c("key.unreadable", InvalidInput, "The key could not be read."),
    c("profile.exists", InvalidInput, "A profile of that name exists already."),
    c("profile.nothing_to_change", InvalidInput, "A profile change that names nothing to change."),
    c("profile.changed", InvalidInput, "The profile changed while the change (or its key) was being stored: make it again."),
    c("profile.in_use", Refused, "The profile's payments stand in the way (its currency stays; it is not deleted)."),
    c("profile.unresolved_sends", Conflict, "Operations sent to the current host have no known outcome: the host cannot change yet."),
    c("payment.exists", InvalidInput, "A payment with that session id or order number exists already."),
    // The ledger's rules.
    c("rules.payment_deleted", Refused, "The payment is deleted at Ottu: nothing more can be done with it."),
    c("rules.operation_pending", Conflict, "Another operation on the payment is queued that must go first."),
    c("rules.state", Refused, "The payment's state does not allow this operation."),
    c("rules.void_after_capture", Refused, "Something is captured: refund instead of voiding."),
    c("rules.voided", Refused, "The authorization is voided: nothing more can be captured."),
    c("rules.refund_exceeds", Refused, "The refund is more than what is left to refund."),
    c("rules.capture_exceeds", Refused, "The capture is more than what is left to capture."),
    c("rules.nothing_left", Refused, "Nothing is left to refund or capture."),
    c("rules.balance_overflow", Internal, "A payment's sums do not fit in 64 bits: the ledger holds what no payment can."),
    // The queue.
    c("not_found", NotFound, "What the request names does not exist."),
    c("queue.not_droppable", Refused, "Only an operation that never reached Ottu can be dropped."),
    c("queue.not_retryable", Refused, "Only a failed, blocked or unresolved operation can be retried."),
    c("queue.not_resendable", Refused, "Only an unresolved (needs_attention) operation can be resent."),
    c("queue.already_retried", Conflict, "The operation was retried already: retry the replacement."),
    c("retry.unconfirmed", InvalidInput, "The operation was sent: confirm at Ottu that it did not take effect first."),
    c("retry.reason_missing", InvalidInput, "Retrying a sent operation needs a reason."),
    // Sync, import and refresh.
    c("sync.concurrency", InvalidInput, "The number of requests in flight is outside what is allowed."),
    c("sync.lock", Unavailable, "The sync lock file beside the ledger cannot be opened."),
    c("sync.running", Unavailable, "Another sync is running on this ledger."),
    c("sync.thread", Internal, "The sync service's thread could not be started."),
    c("sync.stale_answer", Unavailable, "An answer came for an operation no longer in flight (another sync?): nothing recorded."),
    c("import.nothing", InvalidInput, "The import names no payment."),
    c("import.no_session_id", InvalidInput, "The id file holds no session id."),
    c("import.too_many_ids", InvalidInput, "More session ids at once than one call takes: use a file."),
    c("refresh.failed", Unavailable, "Refreshing failed for at least one profile."),
    c("interrupted", Unavailable, "Stopped by the user before it finished."),
    c("runtime", Internal, "The async runtime could not be started."),
    // Ottu.
    c("ottu.credential", Unavailable, "No credential is stored for the profile (or its Basic user is missing)."),
    c("ottu.base_url", Unavailable, "No client can be made for the profile's base URL."),
    c("ottu.auth", Unavailable, "Ottu refused the credential or a permission."),
    c("ottu.offline", Unavailable, "Ottu could not be reached."),
    c("ottu.unavailable", Unavailable, "Ottu did not answer, or answered with a server error."),
    c("ottu.not_ottu", Unavailable, "What answered is not Ottu's API (check the base URL)."),
    // Stored with an operation or a paused profile (`error::stored`), besides the above.
    c("ottu.refused", Refused, "Ottu refused the operation; its reason is the param detail."),
    c("ottu.throttled", Unavailable, "Ottu asked to slow down; the operation is tried again later."),
    c("ottu.unknown_outcome", Unavailable, "No answer from Ottu; resent later with the same key."),
    c("sync.cannot_send", Unavailable, "No request could be made for the profile in this run."),
    c("sync.credential_changed", Unavailable, "The profile's key changed while the attempt was in flight: sent again with the new one."),
    c("operation.mismatch", Conflict, "Ottu's success does not match the request: the outcome is unknown."),
    c("operation.unresolved", Unavailable, "Still no known outcome after the attempts limit: needs the merchant."),
    c("sync.interrupted", Unavailable, "A sync stopped before Ottu answered: resent with the same key."),
    c("operation.resent", Unavailable, "Resent by the merchant with the same tracking key."),
    c("operation.held", Conflict, "Held behind an earlier operation of the payment that failed or is unresolved."),
    c("ledger.corrupt", Internal, "The profile's row could not be read."),
    c("ledger.invariant", Internal, "The ledger broke one of its own rules (a bug): the write was rolled back."),
    // The OS keyring.
    c("secrets.unavailable", Unavailable, "The OS keyring cannot be reached, or is locked."),
    c("secrets.failed", Unavailable, "The OS keyring failed with one entry."),
    // The ledger file.
    c("store.busy", Unavailable, "Another process holds the ledger's write lock longer than the busy timeout."),
    c("store.corrupt", Internal, "The ledger file is damaged, or holds a value this build cannot read."),
    c("store.newer_version", Unavailable, "The ledger was written by a newer Daftar (its schema version is newer than this build's)."),
    c("store.cannot_open", Unavailable, "The ledger file cannot be opened or created (missing directory, permissions)."),
    c("store.not_a_ledger", Unavailable, "The file is not a Daftar ledger: left untouched."),
    c("store.hard_linked", Unavailable, "The ledger file has a second name (hard link)."),
    c("store.read_only", Unavailable, "The ledger, or the directory holding it, cannot be written."),
    c("store.disk_full", Unavailable, "The disk holding the ledger is full."),
    c("store.error", Internal, "Any other SQLite failure: a bug to report."),
    // REPORTS (issue 10): reading CSV/XLSX files, their values and column mappings; the
    // reasons a report row is rejected (`RowReject.code`); report downloads.
    c("table.unreadable", InvalidInput, "The CSV or XLSX file cannot be opened."),
    c("table.no_header", InvalidInput, "The file has no header row naming its columns."),
    c("table.too_wide", InvalidInput, "The file has more columns than are read."),
    c("table.encoding", InvalidInput, "A CSV line is not UTF-8 text (save as CSV UTF-8)."),
    c("table.bad_row", InvalidInput, "A CSV row cannot be read (broken quoting)."),
    c("table.bad_xlsx", InvalidInput, "The file is not a readable XLSX workbook."),
    c("value.not_amount", InvalidInput, "A cell is not an amount."),
    c("value.too_precise", InvalidInput, "An amount cell has more decimals than its currency allows."),
    c("value.negative", InvalidInput, "An amount cell is negative where it may not be."),
    c("value.not_time", InvalidInput, "A cell is not a date and time."),
    c("value.not_date", InvalidInput, "A cell is not a date."),
    c("mapping.missing_field", InvalidInput, "No column of the file holds a field the file must have."),
    c("mapping.missing_reference", InvalidInput, "A settlement file has no order number or reference column."),
    c("mapping.unknown_field", InvalidInput, "A column is mapped to a field that does not exist."),
    c("mapping.no_such_header", InvalidInput, "A column mapping names a header the file does not have."),
    c("mapping.bad_override", InvalidInput, "A column mapping is not HEADER=field."),
    c("mapping.duplicate_field", InvalidInput, "Two columns are mapped to the same field."),
    c("row.missing_id", InvalidInput, "A report row has no session id (rejected row)."),
    c("row.bad_amount", InvalidInput, "A report row's amount cannot be read (rejected row)."),
    c("row.unknown_currency", InvalidInput, "A report row's currency is not one Ottu supports (rejected row)."),
    c("row.bad_state", InvalidInput, "A report row's state or operation is not a known word (rejected row)."),
    c("row.bad_date", InvalidInput, "A report row's created or modified time cannot be read (rejected row)."),
    c("row.duplicate", InvalidInput, "A session id already seen earlier in the same file (rejected row)."),
    c("row.bad_reference", InvalidInput, "A report row's id or order number is too long or holds a bad character (rejected row)."),
    c("row.unknown_parent", InvalidInput, "A child row whose parent is neither in the file nor the ledger (rejected row)."),
    c("report.download_limit", Unavailable, "Ottu refused the report download: about 25 are allowed an hour."),
    c("report.token_expired", NotFound, "The report's download token is unknown or expired: list the reports again."),
    // Reconciliation (RECONCILE stream).
    c("reconcile.no_report", InvalidInput, "A reconciliation names no report, or both a report file and a report token."),
    c("reconcile.nothing_to_accept", Refused, "The item has no report value the ledger can take (ledger only, queued, matched, or totals without child rows)."),
    c("reconcile.nothing_to_decide", Refused, "The item is not a mismatch: there is nothing to decide."),
    c("reconcile.already_decided", Refused, "The item was accepted or kept already: a decision is final."),
    c("reconcile.currency_differs", Refused, "The report's currency differs from the payment's: the currency never changes, so the report's value cannot be accepted."),
    c("reconcile.amount_below_spent", Refused, "The report's amount is below what the ledger already counts as captured, refunded, voided or pending on the payment."),
    c("reconcile.period_changed", Conflict, "A payment in the period changed after the reconciliation covering it ran: reconcile again before locking."),
    c("reconcile.stale", Conflict, "The payment changed since the reconciliation ran: run it again before accepting."),
    c("reconcile.undecided", Refused, "The reconciliation has undecided mismatches in the period: decide them before locking it."),
    c("reconcile.period_locked", Refused, "The period overlaps a period that is locked already."),
    c("reconcile.not_covered", Refused, "No reconciliation of the profile covers the period (or the one named does not)."),
    // Exports (EXPORT stream).
    c("export.bad_path", InvalidInput, "The export's output path names no file, or names the ledger itself."),
    c("export.write_failed", Unavailable, "The export file cannot be written (missing directory, permissions, disk full): nothing was left."),
    // Settlement files (SETTLE stream).
    c("row.missing_reference", InvalidInput, "A settlement line has neither an order number nor a reference (rejected row)."),
    c("settlement.bad_window", InvalidInput, "The settlement window is wider than allowed."),
    c("settlement.rejects_unwritable", Unavailable, "The rejects file of a settlement import cannot be written."),
    c("settlement.cancelled", Unavailable, "The settlement import was stopped before it finished: nothing was written."),
    // The CLI's own usage errors (clap), kept here so `--json` users find them too.
    c("usage.invalid_value", InvalidInput, "A command-line value clap refused."),
    c("usage.unknown_argument", InvalidInput, "An unknown command-line argument."),
    c("usage.unknown_command", InvalidInput, "An unknown command."),
    c("usage.missing_argument", InvalidInput, "A required argument is missing."),
    c("usage.missing_command", InvalidInput, "A command is missing."),
    c("usage.conflict", InvalidInput, "Arguments that cannot be given together."),
    c("usage.wrong_number_of_values", InvalidInput, "An argument with too many or too few values."),
    c("usage.invalid", InvalidInput, "Any other command-line error."),
    // The desktop app's own (src-tauri/).
    c("app.task_failed", Internal, "A background task of the desktop app stopped unexpectedly: a bug to report."),
    c("app.bad_request", Internal, "The desktop app's window sent a request without the command's shape: a bug to report."),
    c("demo.start_failed", Unavailable, "The demo's Ottu sandbox cannot start (its port is taken, its state file unusable)."),
    c("demo.not_started", InvalidInput, "The demo is not running: start it first."),
    c("demo.profile_taken", InvalidInput, "A profile named demo exists for another server: the demo needs that name."),
    // APP (issue 10): files the window hands over, exports' folder.
    c("app.upload_empty", InvalidInput, "The file handed over by the window is empty."),
    c("app.upload_too_large", InvalidInput, "The file handed over by the window is larger than UPLOAD_MAX_BYTES."),
    c("app.upload_unknown", InvalidInput, "No file with this upload id was handed over in this run of the app (or none was named)."),
    c("app.upload_failed", Unavailable, "The app could not keep the handed-over file in its cache folder."),
    c("app.no_folder", Unavailable, "The app has no cache folder for uploads, or no Downloads or data folder for exports."),
    c("app.export_folder", Unavailable, "No new export file can be made in the exports folder."),
];

/// The registered code, if any.
pub fn lookup(code: &str) -> Option<&'static Code> {
    CODES.iter().find(|c| c.code == code)
}

/// The code's kind, if it is registered.
pub fn kind_of(code: &str) -> Option<ErrorKind> {
    lookup(code).map(|c| c.kind)
}
