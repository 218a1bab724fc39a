//! Import by session id, and `refresh` of refunds Ottu had queued, as jobs.
//!
//! A job ([`ImportJob`], [`RefreshJob`]) owns its own [`Ledger`] on the caller's file
//! ([`Ledger::reopen`]), so the caller's handle is never held across the network; it
//! reports progress through a callback, stops within `IMPORT_CANCEL_POLL_MS` of its cancel
//! flag being set, and never calls `Handle::block_on`: [`ImportJob::run`] blocks the thread it is
//! called on (a CLI's main thread) while the requests run on a runtime, and
//! [`ImportJob::run_async`] runs that on the caller's runtime's blocking pool, for an async
//! caller (a desktop command).
//!
//! Import reads its ids as a stream (from the command line, then a file line by line), asks
//! Ottu's retrieve endpoint for each a few at a time ([`super::window`]), and writes the
//! answers in batches of at most [`IMPORT_BATCH_PAYMENTS`], each batch one transaction with
//! its events. So memory does not grow with the file; a stop (refused key, an answer that
//! is not Ottu's, no network, Ctrl-C, a write that fails) keeps every batch written before
//! and says where it stopped; and a line that is not a session id is listed with its number
//! while the others are imported. Importing twice changes nothing the second time.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::runtime::Handle;

use super::lines::{IdLine, IdLines, RejectedLine};
use super::window::{self, Next, Sink, StopCause, StopReason};
use crate::connect::{self, ConnectError, Remote};
use crate::error::{Error, FieldContext, Params, Result};
use crate::ledger::Ledger;
use crate::limits::{IMPORT_BATCH_PAYMENTS, IMPORT_MAX_IDS, IMPORT_MAX_LISTED};
use crate::model::{
    ChildState, NewPayment, OrderNo, PaymentSource, PaymentState, ProfileId, ProfileName, SessionId,
};
use crate::money::MoneyError;
use crate::ottu::{ClientConfig, FetchError, OttuClient, PaymentDetails};
use crate::store::children::Unresolved;
use crate::store::payments::Upserted;
use crate::store::{self, EventInsert};

/// A payment Ottu did not give us (unknown id, an answer that is not a payment...).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct ImportFailure {
    pub session_id: String,
    /// In English, for the CLI.
    pub error: String,
    /// Its code (see docs/errors.md: `not_found` with `what: "payment"` for an id Ottu
    /// does not know, `ottu.*` for Ottu's refusals and answers, `amount.*` / `input.*` /
    /// `currency.unknown` for a payment the ledger cannot take) and the values it is made
    /// from, for a UI's own words.
    pub code: String,
    pub params: Params,
    /// Its line in the `--from-file` file; absent for ids given on the command line.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub line: Option<u64>,
}

/// Where and why an import stopped before the end of its input.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct ImportStop {
    pub reason: StopReason,
    /// The error code the run reports (`ottu.auth`, `ottu.offline`, `interrupted`...).
    pub code: &'static str,
    pub message: String,
    /// The file line the import stopped at: nothing from it on was imported.
    pub line: Option<u64>,
    /// The session id it stopped at, when it stopped at one.
    pub session_id: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct ImportSummary {
    pub added: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// The first [`IMPORT_MAX_LISTED`] failures; `failed_count` counts them all.
    pub failed: Vec<ImportFailure>,
    pub failed_count: u64,
    /// Lines of the file that are not session ids: the first [`IMPORT_MAX_LISTED`];
    /// `rejected_count` counts them all. The other lines are imported.
    pub rejected: Vec<RejectedLine>,
    pub rejected_count: u64,
    /// `None` when the whole input was read.
    pub stopped: Option<ImportStop>,
}

impl ImportSummary {
    /// Payments written to the ledger by this run (new, changed or already there).
    pub fn imported(&self) -> u64 {
        self.added + self.updated + self.unchanged
    }

    /// The run's error when it stopped early: what stopped it, where, and that what was
    /// imported before is kept.
    pub fn error(&self) -> Option<Error> {
        let stop = self.stopped.as_ref()?;
        let at = match (stop.line, &stop.session_id) {
            (Some(line), Some(id)) => format!(" at line {line} (session id {id})"),
            (Some(line), None) => format!(" at line {line}"),
            (None, Some(id)) => format!(" at session id {id}"),
            (None, None) => String::new(),
        };
        let kept = match self.imported() {
            0 => "Nothing was imported before it".to_string(),
            n => format!("The {n} payment(s) imported before it are kept in the ledger"),
        };
        let error = Error::Remote {
            code: stop.code,
            message: format!(
                "{}; the import stopped{at}. {kept}: run the same import again to go on (what is already imported stays unchanged)",
                stop.message
            ),
        };
        // What the message is made from, for a UI's own words (`detail`: what stopped it).
        Some(
            error
                .with("detail", &stop.message)
                .with("line", stop.line)
                .with(
                    "session_id",
                    stop.session_id.as_ref().map(ToString::to_string),
                )
                .with("imported", self.imported()),
        )
    }

    fn fail(&mut self, failure: ImportFailure) {
        self.failed_count += 1;
        if self.failed.len() < IMPORT_MAX_LISTED {
            self.failed.push(failure);
        }
    }

    fn reject(&mut self, line: RejectedLine) {
        self.rejected_count += 1;
        if self.rejected.len() < IMPORT_MAX_LISTED {
            self.rejected.push(line);
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct RefreshSummary {
    /// Children Ottu had not settled (`refund_queued`) that were read again.
    pub checked: u64,
    /// Of those, how many have a new state now.
    pub settled: u64,
    pub failed: Vec<ImportFailure>,
}

/// How far an import is, for a progress bar: the total is unknown until the file ends, but
/// its size in bytes is known.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct ImportProgress {
    /// Whether ids are read from a file (after the ids given in the request).
    pub from_file: bool,
    /// The file's size in bytes; `None` without a file, or for one without a size (a pipe).
    pub bytes_total: Option<u64>,
    /// Ids given in the request itself (not the file's).
    pub ids_given: u64,
    /// Bytes of the file read so far.
    pub bytes_read: u64,
    /// Ids answered by Ottu (or failed) and lines rejected so far.
    pub handled: u64,
    /// Payments written to the ledger so far.
    pub imported: u64,
}

/// What to import: the user's text as given (the job checks it). Owned and deserializable,
/// so the desktop app can send it as it is.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(optional_fields = nullable)]
pub struct ImportRequest {
    pub profile: String,
    /// Ids given in the request (the command line, a form): checked before anything is sent;
    /// a bad one refuses the whole request (it is a typo to fix, not a line in a long file).
    /// At most [`IMPORT_MAX_IDS`]; more go in a file.
    #[serde(default)]
    pub session_ids: Vec<String>,
    /// A file of ids, one per line (blank lines and `#` comments skipped), read as a stream
    /// after `session_ids`: memory does not grow with it, so it has no cap.
    #[serde(default)]
    pub from_file: Option<PathBuf>,
}

/// What to refresh: one profile, or every profile with a key stored.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(optional_fields = nullable)]
pub struct RefreshRequest {
    #[serde(default)]
    pub profile: Option<String>,
}

/// How far a refresh is: the profile being read, and its children asked about so far.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct RefreshProgress {
    pub profile: String,
    pub done: u64,
    pub total: u64,
}

/// Every profile a refresh read, each with its own outcome: one failing never keeps the
/// others from being refreshed.
#[derive(Debug, Default)]
pub struct RefreshReport {
    pub profiles: Vec<(String, Result<RefreshSummary>)>,
}

impl RefreshReport {
    /// The run's error when any profile failed (`refresh.failed`), after the others were
    /// refreshed.
    pub fn error(&self) -> Option<Error> {
        let failed: Vec<String> = self
            .profiles
            .iter()
            .filter_map(|(name, r)| r.as_ref().err().map(|e| format!("{name}: {e}")))
            .collect();
        (!failed.is_empty()).then(|| Error::Remote {
            code: "refresh.failed",
            message: format!(
                "refresh failed for {} of {} profile(s), the others were refreshed: {}",
                failed.len(),
                self.profiles.len(),
                failed.join("; ")
            ),
        })
    }
}

/// A profile found by name (`not_found`, field `profile`, when there is none).
fn find_profile(ledger: &mut Ledger, profile: &str) -> Result<crate::model::Profile> {
    let name = ProfileName::parse(profile).field("profile")?;
    ledger.store().read(|tx| {
        store::profiles::by_name(tx, &name)?.ok_or_else(|| Error::NotFound {
            what: "profile",
            field: "profile",
            key: name.to_string(),
        })
    })
}

/// How a stop names the profile: `profile NAME (BASE_URL)`, as the sync names a profile
/// whose answers are not Ottu's.
fn label(profile: &crate::model::Profile) -> String {
    format!("profile {} ({})", profile.name, profile.base_url)
}

/// The profile's client, and how a stop names the profile.
fn client(
    ledger: &mut Ledger,
    config: ClientConfig,
    profile: &str,
) -> Result<(ProfileId, OttuClient, String)> {
    let profile = find_profile(ledger, profile)?;
    let client = connect::client_for(ledger, config, profile.id).map_err(connect_error)?;
    Ok((profile.id, client, label(&profile)))
}

/// The id file, opened: its reader and its size (`None` for a pipe or a device, which have
/// none). A missing or unreadable file, or a directory, is `input.unreadable` (field
/// `from_file`) before anything is sent.
fn open_id_file(path: &Path) -> Result<(BufReader<File>, Option<u64>)> {
    let unreadable = |e: std::io::Error| {
        Error::invalid(
            "from_file",
            "input.unreadable",
            format!("cannot read {}: {e}", path.display()),
        )
    };
    let file = File::open(path).map_err(unreadable)?;
    let meta = file.metadata().map_err(unreadable)?;
    if meta.is_dir() {
        return Err(unreadable(std::io::Error::other("it is a directory")));
    }
    let size = meta.is_file().then_some(meta.len());
    Ok((BufReader::new(file), size))
}

/// Why no client could be made, as the command's error. A keyring that cannot be reached
/// (no session bus, no Secret Service, locked) is a local condition, not the profile's: it
/// stays the keyring's own error (`secrets.unavailable`, exit 1), so `refresh` without
/// `--profile` never takes it for "no key stored" (`ottu.credential`), which it skips.
fn connect_error(error: ConnectError) -> Error {
    // `Error::Connect` keeps the profile and origin as params (the CLI's hint names them).
    Error::from(error)
}

/// A stop's message; one about the answers not being Ottu's names the profile and its base
/// URL, the thing to check.
fn stop_message(cause: StopCause, label: &str) -> String {
    match cause.reason {
        StopReason::NotOttu => format!("{label}: {}", cause.message),
        _ => cause.message,
    }
}

/// Why one id was not imported: the English text (as the CLI always printed it), and the
/// code and params of the error a UI words it from.
struct Failed {
    text: String,
    code: &'static str,
    params: Params,
}

impl Failed {
    fn new(text: String, cause: &Error) -> Failed {
        Failed {
            text,
            code: cause.code(),
            params: cause.params(),
        }
    }

    /// With the error's own text.
    fn of(cause: &Error) -> Failed {
        Failed::new(cause.to_string(), cause)
    }

    fn into_failure(self, session_id: String, line: Option<u64>) -> ImportFailure {
        ImportFailure {
            session_id,
            error: self.text,
            code: self.code.to_string(),
            params: self.params,
            line,
        }
    }
}

/// A per-id answer that is not a payment, with the code the other commands give it.
fn fetch_failed(session_id: &SessionId, error: &FetchError) -> Failed {
    let text = error.to_string();
    let (code, status) = match error {
        FetchError::NotFound { what, detail } => {
            let cause = Error::NotFound {
                what,
                field: "session_id",
                key: session_id.to_string(),
            }
            .with("detail", detail);
            return Failed::new(text, &cause);
        }
        FetchError::Refused { status, .. } => ("ottu.refused", Some(*status)),
        FetchError::Request(_) => ("ottu.refused", None),
        FetchError::Auth { status, .. } => ("ottu.auth", Some(*status)),
        FetchError::Offline { .. } => ("ottu.offline", None),
        FetchError::Unavailable { .. } => ("ottu.unavailable", None),
        FetchError::Throttled { .. } => ("ottu.throttled", None),
        FetchError::NotOttu { status, .. } => ("ottu.not_ottu", Some(*status)),
        FetchError::BadBody { .. } => ("ottu.not_ottu", None),
    };
    let cause = Error::Remote {
        code,
        message: text.clone(),
    }
    .with("detail", &text)
    .with("status", status);
    Failed::new(text, &cause)
}

fn to_new_payment(
    details: &PaymentDetails,
    now_ms: i64,
) -> std::result::Result<NewPayment, Failed> {
    let amount = details.parsed_amount().map_err(|source| {
        Failed::of(&Error::Money {
            field: "amount",
            source,
        })
    })?;
    if !amount.is_positive() {
        return Err(Failed::new(
            format!("amount {} is not positive", details.amount),
            &Error::Money {
                field: "amount",
                source: MoneyError::NotPositive {
                    value: details.amount.clone(),
                },
            },
        ));
    }
    let reference = |field: &'static str| {
        move |source: crate::model::ReferenceError| {
            Failed::new(source.to_string(), &Error::Reference { field, source })
        }
    };
    Ok(NewPayment {
        session_id: SessionId::parse(&details.session_id).map_err(reference("session_id"))?,
        order_no: details
            .order_no
            .as_deref()
            .filter(|o| !o.is_empty())
            .map(OrderNo::parse)
            .transpose()
            .map_err(reference("order_no"))?,
        amount,
        state: details.state.parse::<PaymentState>().map_err(|source| {
            Failed::new(
                source.to_string(),
                &Error::Word {
                    field: "state",
                    source,
                },
            )
        })?,
        source: PaymentSource::Ottu,
        created_at_ms: now_ms,
        customer_email: contact(details.customer_email.as_deref()),
        customer_phone: contact(details.customer_phone.as_deref()),
    })
}

/// A customer email or phone worth keeping: trimmed, and none when Ottu sent it empty.
fn contact(text: Option<&str>) -> Option<String> {
    text.map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
}

/// Answers not yet written, and since when the oldest waits ([`Sink::unwritten_since`]).
struct Batch<T> {
    items: Vec<T>,
    since: Option<Instant>,
}

impl<T> Batch<T> {
    fn with_capacity(capacity: usize) -> Batch<T> {
        Batch {
            items: Vec::with_capacity(capacity),
            since: None,
        }
    }

    fn push(&mut self, item: T) {
        self.items.push(item);
        self.since.get_or_insert_with(Instant::now);
    }

    /// Writes the batch with `write` (one transaction) and empties it; `None` when it was
    /// empty. A failed write keeps the batch (to say where the lost part began) and is the
    /// run's stop.
    fn flush<R>(
        &mut self,
        write: impl FnOnce(&[T]) -> Result<R>,
    ) -> std::result::Result<Option<R>, StopCause> {
        if self.items.is_empty() {
            return Ok(None);
        }
        let written = write(&self.items).map_err(|error| {
            StopCause::new(
                StopReason::Ledger,
                error.code(),
                format!("the ledger could not be written: {error}"),
            )
        })?;
        self.items.clear();
        self.since = None;
        Ok(Some(written))
    }
}

/// What one import batch changed, added to the summary once committed.
#[derive(Default)]
struct Written {
    added: u64,
    updated: u64,
    unchanged: u64,
    failures: Vec<ImportFailure>,
}

/// One piece of import input, as the window hands it back.
enum ImportItem {
    Id { line: Option<u64>, id: SessionId },
    Rejected(RejectedLine),
}

impl ImportItem {
    fn place(&self) -> (Option<u64>, Option<String>) {
        match self {
            ImportItem::Id { line, id } => (*line, Some(id.to_string())),
            ImportItem::Rejected(rejected) => (Some(rejected.line), None),
        }
    }
}

/// An import in progress: the input, the batch not yet written, the summary so far.
struct ImportRun<'a> {
    ledger: &'a mut Ledger,
    profile_id: ProfileId,
    args: std::slice::Iter<'a, SessionId>,
    lines: Option<IdLines<BufReader<File>>>,
    batch: Batch<(
        Option<u64>,
        SessionId,
        std::result::Result<PaymentDetails, FetchError>,
    )>,
    /// Where the batch that failed to be written began.
    lost_from: Option<(Option<u64>, Option<String>)>,
    ids_seen: u64,
    handled: u64,
    summary: ImportSummary,
    /// What does not change during the run (whether there is a file, its size...).
    started: ImportProgress,
    progress: &'a mut dyn FnMut(&ImportProgress),
}

impl ImportRun<'_> {
    fn report(&mut self) {
        let progress = ImportProgress {
            bytes_read: self.lines.as_ref().map_or(0, IdLines::bytes_read),
            handled: self.handled,
            imported: self.summary.imported(),
            ..self.started
        };
        (self.progress)(&progress);
    }
}

/// An import batch in one transaction: each payment upserted with its event. Counted in the
/// summary only once committed, so the summary says what is in the ledger.
fn write_import_batch(
    ledger: &mut Ledger,
    profile_id: ProfileId,
    batch: &[(
        Option<u64>,
        SessionId,
        std::result::Result<PaymentDetails, FetchError>,
    )],
) -> Result<Written> {
    let now_ms = ledger.clock().now_ms();
    let actor = ledger.actor().to_string();
    let mut written = Written::default();
    ledger.store().write(|tx| {
        for (line, id, result) in batch {
            let payment = match result
                .as_ref()
                .map_err(|e| fetch_failed(id, e))
                .and_then(|d| to_new_payment(d, now_ms))
            {
                Ok(p) => p,
                Err(failed) => {
                    written
                        .failures
                        .push(failed.into_failure(id.to_string(), *line));
                    continue;
                }
            };
            let (action, payment_id, before) =
                match store::payments::upsert_from_ottu(tx, profile_id, &payment, now_ms)? {
                    Upserted::Unchanged(_) => {
                        written.unchanged += 1;
                        continue;
                    }
                    Upserted::Added(pid) => {
                        written.added += 1;
                        ("payment.imported", pid, None)
                    }
                    Upserted::Updated { id: pid, before } => {
                        written.updated += 1;
                        let before = json!({"amount": before.amount.to_string(), "state": before.state, "order_no": before.order_no});
                        ("payment.updated_from_ottu", pid, Some(before))
                    }
                };
            store::events::append(
                tx,
                &EventInsert {
                    at_ms: now_ms,
                    actor: &actor,
                    action,
                    entity: "payment",
                    entity_id: payment_id.0,
                    payment_id: Some(payment_id),
                    before,
                    after: Some(json!({
                        "session_id": payment.session_id,
                        "order_no": payment.order_no,
                        "amount": payment.amount.to_string(),
                        "currency": payment.amount.currency(),
                        "state": payment.state,
                    })),
                },
            )?;
        }
        Ok::<_, Error>(())
    })?;
    Ok(written)
}

impl Sink for ImportRun<'_> {
    type Item = ImportItem;

    fn next(&mut self) -> std::result::Result<Next<ImportItem>, StopCause> {
        if let Some(id) = self.args.next() {
            self.ids_seen += 1;
            return Ok(Next::Fetch {
                item: ImportItem::Id {
                    line: None,
                    id: id.clone(),
                },
                id: id.clone(),
            });
        }
        let Some(lines) = self.lines.as_mut() else {
            return Ok(Next::End);
        };
        match lines.next_line() {
            Ok(None) => Ok(Next::End),
            Ok(Some(IdLine::Id { line, id })) => {
                self.ids_seen += 1;
                Ok(Next::Fetch {
                    item: ImportItem::Id {
                        line: Some(line),
                        id: id.clone(),
                    },
                    id,
                })
            }
            Ok(Some(IdLine::Rejected(rejected))) => Ok(Next::Skip(ImportItem::Rejected(rejected))),
            Err(e) => Err(StopCause::new(
                StopReason::Unreadable,
                "input.unreadable",
                format!(
                    "the file could not be read after line {}: {e}",
                    lines.lines_read()
                ),
            )),
        }
    }

    fn skipped(&mut self, item: ImportItem) {
        if let ImportItem::Rejected(rejected) = item {
            self.summary.reject(rejected);
        }
        self.handled += 1;
        self.report();
    }

    fn fetched(
        &mut self,
        item: ImportItem,
        result: std::result::Result<PaymentDetails, FetchError>,
    ) -> std::result::Result<(), StopCause> {
        if let ImportItem::Id { line, id } = item {
            self.batch.push((line, id, result));
        }
        self.handled += 1;
        if self.batch.items.len() >= IMPORT_BATCH_PAYMENTS {
            self.flush()?;
        }
        self.report();
        Ok(())
    }

    fn unwritten_since(&self) -> Option<Instant> {
        self.batch.since
    }

    fn flush(&mut self) -> std::result::Result<(), StopCause> {
        let (ledger, profile_id) = (&mut *self.ledger, self.profile_id);
        match self
            .batch
            .flush(|batch| write_import_batch(ledger, profile_id, batch))
        {
            Ok(None) => Ok(()),
            Ok(Some(written)) => {
                tracing::debug!(
                    added = written.added,
                    updated = written.updated,
                    unchanged = written.unchanged,
                    failed = written.failures.len(),
                    "import batch written"
                );
                self.summary.added += written.added;
                self.summary.updated += written.updated;
                self.summary.unchanged += written.unchanged;
                for failure in written.failures {
                    self.summary.fail(failure);
                }
                self.report();
                Ok(())
            }
            Err(cause) => {
                self.lost_from = self
                    .batch
                    .items
                    .first()
                    .map(|(line, id, _)| (*line, Some(id.to_string())));
                Err(cause)
            }
        }
    }
}

/// A refresh in progress: the children to ask about, the answers not yet written.
struct RefreshRun<'a> {
    ledger: &'a mut Ledger,
    pending: std::vec::IntoIter<Unresolved>,
    batch: Batch<(Unresolved, ChildState)>,
    done: u64,
    summary: RefreshSummary,
    progress: &'a mut dyn FnMut(u64),
}

/// A refresh batch in one transaction: each child's new state with its event; how many
/// changed.
fn write_refresh_batch(ledger: &mut Ledger, batch: &[(Unresolved, ChildState)]) -> Result<u64> {
    let now_ms = ledger.clock().now_ms();
    let actor = ledger.actor().to_string();
    ledger.store().write(|tx| {
        let mut settled = 0;
        for (child, state) in batch {
            if store::children::set_state(tx, child.child_id, *state, now_ms)? {
                settled += 1;
                store::events::append(
                    tx,
                    &EventInsert {
                        at_ms: now_ms,
                        actor: &actor,
                        action: "child.settled",
                        entity: "child",
                        entity_id: child.child_id,
                        payment_id: Some(child.payment_id),
                        before: Some(json!({"session_id": child.session_id, "state": child.state})),
                        after: Some(json!({"session_id": child.session_id, "state": state})),
                    },
                )?;
            }
        }
        Ok::<_, Error>(settled)
    })
}

impl Sink for RefreshRun<'_> {
    type Item = Unresolved;

    fn next(&mut self) -> std::result::Result<Next<Unresolved>, StopCause> {
        Ok(match self.pending.next() {
            Some(child) => Next::Fetch {
                id: child.session_id.clone(),
                item: child,
            },
            None => Next::End,
        })
    }

    fn skipped(&mut self, _: Unresolved) {}

    fn fetched(
        &mut self,
        child: Unresolved,
        result: std::result::Result<PaymentDetails, FetchError>,
    ) -> std::result::Result<(), StopCause> {
        self.done += 1;
        (self.progress)(self.done);
        let state = result
            .map_err(|e| fetch_failed(&child.session_id, &e))
            .and_then(|d| {
                d.state.parse::<ChildState>().map_err(|source| {
                    Failed::of(&Error::Word {
                        field: "state",
                        source,
                    })
                })
            });
        match state {
            Ok(state) => self.batch.push((child, state)),
            Err(failed) => self
                .summary
                .failed
                .push(failed.into_failure(child.session_id.to_string(), None)),
        }
        Ok(())
    }

    fn unwritten_since(&self) -> Option<Instant> {
        self.batch.since
    }

    fn flush(&mut self) -> std::result::Result<(), StopCause> {
        let ledger = &mut *self.ledger;
        if let Some(settled) = self
            .batch
            .flush(|batch| write_refresh_batch(ledger, batch))?
        {
            tracing::debug!(settled, "refresh batch written");
            self.summary.settled += settled;
        }
        Ok(())
    }
}

/// The async runtime failed under a job (it panicked or was shut down).
fn job_lost(what: &str, error: tokio::task::JoinError) -> Error {
    Error::Remote {
        code: "runtime",
        message: format!("the {what} stopped unexpectedly: {error}"),
    }
}

/// The runtime of the async caller (`runtime` when there is none).
fn current_runtime() -> Result<Handle> {
    Handle::try_current().map_err(|e| Error::Remote {
        code: "runtime",
        message: format!("no async runtime to run on: {e}"),
    })
}

/// Runs a job's blocking `run` on the async caller's runtime's blocking pool (SQLite off
/// the async workers), handing it that runtime for its requests; `what` names the job
/// if the runtime loses it.
async fn on_blocking_pool<T: Send + 'static>(
    what: &str,
    run: impl FnOnce(&Handle) -> Result<T> + Send + 'static,
) -> Result<T> {
    let runtime = current_runtime()?;
    tokio::task::spawn_blocking(move || run(&runtime))
        .await
        .map_err(|e| job_lost(what, e))?
}

/// An import, ready to run on its own handle on the ledger file. Made by
/// [`Ledger::import_job`]; [`ImportJob::run`] (blocking) or [`ImportJob::run_async`].
pub struct ImportJob {
    ledger: Ledger,
    request: ImportRequest,
    client_config: ClientConfig,
    cancel: Arc<AtomicBool>,
}

impl ImportJob {
    /// The client's timeouts (tests shorten them).
    pub fn with_client_config(mut self, config: ClientConfig) -> ImportJob {
        self.client_config = config;
        self
    }

    /// Set it (from any thread, a signal handler, a Cancel button) to stop the import within
    /// [`IMPORT_CANCEL_POLL_MS`](crate::limits::IMPORT_CANCEL_POLL_MS): what was read is
    /// written, requests in flight are abandoned (a read changes nothing at Ottu), and the
    /// summary's `stopped` says where (`interrupted`).
    pub fn cancel_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.cancel)
    }

    /// Runs the import on this thread, its requests on `runtime`, and returns its summary.
    ///
    /// Blocks this thread until the import ends; this thread must not be one of `runtime`'s
    /// workers (an async caller uses [`ImportJob::run_async`]), and `runtime` must have its
    /// I/O and time drivers (`enable_all`) and be running: multi-thread, or driven by
    /// another thread (a current-thread runtime nobody drives would never send a request).
    /// Errors before anything is sent (an unreadable file, nothing to import, more than
    /// [`IMPORT_MAX_IDS`] ids, a bad session id, an unknown profile, no credential, no
    /// keyring reachable) are returned as `Err`. Once the import runs, it returns its summary even when it stopped early:
    /// `stopped` says why and where, and [`ImportSummary::error`] is the run's error.
    pub fn run(
        mut self,
        runtime: &Handle,
        progress: &mut dyn FnMut(&ImportProgress),
    ) -> Result<ImportSummary> {
        let span = tracing::info_span!(
            "import",
            profile = %self.request.profile,
            ids = self.request.session_ids.len(),
            from_file = ?self.request.from_file,
        );
        let _entered = span.enter();
        let result = import(
            &mut self.ledger,
            runtime,
            self.client_config,
            &self.request,
            &self.cancel,
            progress,
        );
        match &result {
            Ok(summary) => match &summary.stopped {
                None => tracing::info!(
                    added = summary.added,
                    updated = summary.updated,
                    unchanged = summary.unchanged,
                    failed = summary.failed_count,
                    rejected = summary.rejected_count,
                    "import finished"
                ),
                Some(stop) => tracing::warn!(
                    code = stop.code,
                    line = stop.line,
                    session_id = stop.session_id,
                    imported = summary.imported(),
                    "import stopped: {}",
                    stop.message
                ),
            },
            Err(error) => tracing::warn!(code = error.code(), "import refused: {error}"),
        }
        result
    }

    /// [`ImportJob::run`] for an async caller: the job runs on the caller's runtime's
    /// blocking pool (SQLite off the async workers), its requests on that runtime. Never
    /// blocks a worker and never calls `block_on`, so it is safe inside an async command.
    /// `progress` is called on the blocking thread.
    pub async fn run_async(
        self,
        mut progress: impl FnMut(&ImportProgress) + Send + 'static,
    ) -> Result<ImportSummary> {
        on_blocking_pool("import", move |runtime| self.run(runtime, &mut progress)).await
    }
}

/// The import itself, on the job's own ledger handle.
fn import(
    ledger: &mut Ledger,
    runtime: &Handle,
    config: ClientConfig,
    request: &ImportRequest,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(&ImportProgress),
) -> Result<ImportSummary> {
    let file = request.from_file.as_deref().map(open_id_file).transpose()?;
    if request.session_ids.is_empty() && file.is_none() {
        return Err(Error::invalid(
            "session_id",
            "import.nothing",
            "name at least one payment: a session id, or a file of them",
        ));
    }
    let given = request.session_ids.len();
    if given > IMPORT_MAX_IDS {
        return Err(Error::invalid(
            "ids",
            "import.too_many_ids",
            format!(
                "{given} session ids were given at once; at most {IMPORT_MAX_IDS} are: put them in a file of ids, one per line"
            ),
        )
        .with("given", given)
        .with("max", IMPORT_MAX_IDS));
    }
    let ids = request
        .session_ids
        .iter()
        .map(|s| SessionId::parse_new(s.trim()).field("session_id"))
        .collect::<Result<Vec<_>>>()?;
    let (profile_id, client, label) = client(ledger, config, &request.profile)?;
    let started = ImportProgress {
        from_file: file.is_some(),
        bytes_total: file.as_ref().and_then(|(_, size)| *size),
        ids_given: given as u64,
        ..ImportProgress::default()
    };
    progress(&started);
    let mut run = ImportRun {
        ledger,
        profile_id,
        args: ids.iter(),
        lines: file.map(|(reader, _)| IdLines::new(reader)),
        batch: Batch::with_capacity(IMPORT_BATCH_PAYMENTS),
        lost_from: None,
        ids_seen: 0,
        handled: 0,
        summary: ImportSummary::default(),
        started,
        progress,
    };
    let stopped = window::run(runtime, &client, cancel, &mut run);
    let lines_read = run.lines.as_ref().map_or(0, IdLines::lines_read);
    let mut summary = std::mem::take(&mut run.summary);
    if let Some((cause, item)) = stopped {
        let (line, session_id) = match (item, run.lost_from.take(), cause.reason) {
            (_, Some(lost), _) => lost,
            (Some(item), None, _) => item.place(),
            (None, None, StopReason::Unreadable) => (Some(lines_read + 1), None),
            (None, None, _) => (None, None),
        };
        summary.stopped = Some(ImportStop {
            reason: cause.reason,
            code: cause.code,
            message: stop_message(cause, &label),
            line,
            session_id,
        });
    } else if run.ids_seen == 0 {
        return Err(match summary.rejected.first() {
            None if run.lines.is_some() => Error::invalid(
                "from_file",
                "import.nothing",
                "the file holds no session id, only blank lines and # comments: put one session id per line",
            ),
            None => Error::invalid(
                "session_id",
                "import.nothing",
                "name at least one payment: a session id, or a file of them",
            ),
            Some(first) => Error::invalid(
                "from_file",
                "import.no_session_id",
                format!(
                    "none of the {} line(s) of the file that are not blank or comments is a session id; line {}: {}",
                    summary.rejected_count, first.line, first.error
                ),
            ),
        });
    }
    Ok(summary)
}

/// A refresh, ready to run on its own handle on the ledger file. Made by
/// [`Ledger::refresh_job`]; [`RefreshJob::run`] (blocking) or [`RefreshJob::run_async`].
pub struct RefreshJob {
    ledger: Ledger,
    request: RefreshRequest,
    client_config: ClientConfig,
    cancel: Arc<AtomicBool>,
}

impl RefreshJob {
    /// The client's timeouts (tests shorten them).
    pub fn with_client_config(mut self, config: ClientConfig) -> RefreshJob {
        self.client_config = config;
        self
    }

    /// Set it to stop the refresh within
    /// [`IMPORT_CANCEL_POLL_MS`](crate::limits::IMPORT_CANCEL_POLL_MS); what was recorded
    /// before is kept.
    pub fn cancel_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.cancel)
    }

    /// Re-reads every child Ottu had not settled (`refund_queued`) of the profile named, or
    /// of every profile, and records how each ended (`refunded` or `refund_rejected`).
    ///
    /// Every profile is reported on its own: one failing never keeps the others from being
    /// refreshed ([`RefreshReport::error`] is the run's error then). Without a profile named,
    /// a profile with no key stored is skipped (nothing of ours is at Ottu to refresh). An
    /// unreachable keyring is the whole run's `Err` (every profile would meet it); with a
    /// profile named, so is that profile's error. Blocks this thread, as [`ImportJob::run`].
    pub fn run(
        mut self,
        runtime: &Handle,
        progress: &mut dyn FnMut(&RefreshProgress),
    ) -> Result<RefreshReport> {
        let span = tracing::info_span!("refresh", profile = ?self.request.profile);
        let _entered = span.enter();
        let names = match &self.request.profile {
            Some(name) => vec![name.clone()],
            None => self
                .ledger
                .profiles()?
                .into_iter()
                .map(|p| p.name)
                .collect(),
        };
        let mut report = RefreshReport::default();
        for name in names {
            if self.cancel.load(Ordering::SeqCst) {
                tracing::info!("refresh cancelled");
                break;
            }
            let result = refresh_profile(
                &mut self.ledger,
                runtime,
                self.client_config,
                &name,
                &self.cancel,
                progress,
            );
            match result {
                Ok(summary) => {
                    tracing::info!(
                        profile = %name,
                        checked = summary.checked,
                        settled = summary.settled,
                        failed = summary.failed.len(),
                        "profile refreshed"
                    );
                    report.profiles.push((name, Ok(summary)));
                }
                // A profile without a key has nothing of ours at Ottu to refresh.
                Err(Refused::NoKey(error)) if self.request.profile.is_none() => {
                    tracing::debug!(profile = %name, "no key stored: skipped ({error})");
                }
                // No keyring reachable: a local condition every profile would meet, not a
                // fact about this one (nor "no key stored"): the run's error.
                Err(Refused::NoKeyring(error)) => {
                    tracing::warn!(code = error.code(), "refresh stopped: {error}");
                    return Err(error);
                }
                Err(Refused::NoKey(error) | Refused::Failed(error)) => {
                    tracing::warn!(profile = %name, code = error.code(), "refresh failed: {error}");
                    if self.request.profile.is_some() {
                        return Err(error);
                    }
                    report.profiles.push((name, Err(error)));
                }
            }
        }
        Ok(report)
    }

    /// [`RefreshJob::run`] for an async caller, as [`ImportJob::run_async`].
    pub async fn run_async(
        self,
        mut progress: impl FnMut(&RefreshProgress) + Send + 'static,
    ) -> Result<RefreshReport> {
        on_blocking_pool("refresh", move |runtime| self.run(runtime, &mut progress)).await
    }
}

/// Why one profile's refresh did not run or ended early, as refresh-all must tell them
/// apart: by type, never by an error code's text.
enum Refused {
    /// No credential stored for the profile (or Basic auth without a user).
    NoKey(Error),
    /// The OS keyring could not be reached at all.
    NoKeyring(Error),
    Failed(Error),
}

impl From<Error> for Refused {
    fn from(error: Error) -> Refused {
        Refused::Failed(error)
    }
}

/// One profile's refresh, on the job's own ledger handle.
fn refresh_profile(
    ledger: &mut Ledger,
    runtime: &Handle,
    config: ClientConfig,
    name: &str,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(&RefreshProgress),
) -> std::result::Result<RefreshSummary, Refused> {
    let profile = find_profile(ledger, name)?;
    let client = match connect::client_for(ledger, config, profile.id) {
        Ok(client) => client,
        Err(error @ (ConnectError::NoCredential { .. } | ConnectError::NoBasicUser { .. })) => {
            return Err(Refused::NoKey(connect_error(error)));
        }
        Err(error) if error.is_unavailable() => {
            return Err(Refused::NoKeyring(connect_error(error)));
        }
        Err(error) => return Err(Refused::Failed(connect_error(error))),
    };
    let label = label(&profile);
    let pending = ledger
        .store()
        .read(|tx| Ok::<_, Error>(store::children::unresolved(tx, Some(profile.id))?))?;
    let total = pending.len() as u64;
    let mut tick = |done| {
        progress(&RefreshProgress {
            profile: name.to_string(),
            done,
            total,
        })
    };
    tick(0);
    let mut run = RefreshRun {
        summary: RefreshSummary {
            checked: total,
            ..RefreshSummary::default()
        },
        ledger,
        pending: pending.into_iter(),
        batch: Batch::with_capacity(0),
        done: 0,
        progress: &mut tick,
    };
    let stopped = window::run(runtime, &client, cancel, &mut run);
    match stopped {
        None => Ok(run.summary),
        Some((cause, at)) => {
            let detail = cause.message.clone();
            let child = at.as_ref().map(|c| c.session_id.to_string());
            let error = Error::Remote {
                code: cause.code,
                message: format!(
                    "{}; the refresh stopped{}: {} refund(s) settled before are recorded",
                    stop_message(cause, &label),
                    at.map(|c| format!(" at child {}", c.session_id))
                        .unwrap_or_default(),
                    run.summary.settled
                ),
            };
            // What the message is made from, for a UI's own words.
            Err(Refused::Failed(
                error
                    .with("profile", name)
                    .with("detail", detail)
                    .with("child", child)
                    .with("settled", run.summary.settled),
            ))
        }
    }
}

impl Ledger {
    /// An import on its own handle on this ledger's file ([`Ledger::reopen`]): nothing is
    /// checked or sent until it runs, and this handle is free meanwhile.
    pub fn import_job(&self, request: ImportRequest) -> Result<ImportJob> {
        Ok(ImportJob {
            ledger: self.reopen()?,
            request,
            client_config: ClientConfig::default(),
            cancel: Arc::new(AtomicBool::new(false)),
        })
    }

    /// A refresh on its own handle on this ledger's file, as [`Ledger::import_job`].
    pub fn refresh_job(&self, request: RefreshRequest) -> Result<RefreshJob> {
        Ok(RefreshJob {
            ledger: self.reopen()?,
            request,
            client_config: ClientConfig::default(),
            cancel: Arc::new(AtomicBool::new(false)),
        })
    }

    /// Import by session ids, for callers with ids in hand and a runtime of their own that
    /// this thread is not inside (tests, scripts): an [`ImportJob`] run to its end. A run
    /// that stops early (refused key, Ottu unreachable) is an `Err`; what was imported
    /// before it is kept. `progress` gets the number of ids handled.
    pub fn import_from_ottu(
        &mut self,
        remote: &Remote,
        profile: &str,
        session_ids: &[String],
        progress: &mut dyn FnMut(u64),
    ) -> Result<ImportSummary> {
        let job = self.import_job(ImportRequest {
            profile: profile.to_string(),
            session_ids: session_ids.to_vec(),
            from_file: None,
        })?;
        let summary = job
            .with_client_config(remote.client_config)
            .run(&remote.runtime, &mut |p| progress(p.handled))?;
        match summary.error() {
            Some(error) => Err(error),
            None => Ok(summary),
        }
    }

    /// Refresh of one profile, as [`Ledger::import_from_ottu`]: a [`RefreshJob`] run to its
    /// end; a refused key, Ottu unreachable or no key stored are an `Err`. `progress` gets
    /// the number of children asked about.
    pub fn refresh_from_ottu(
        &mut self,
        remote: &Remote,
        profile: &str,
        progress: &mut dyn FnMut(u64),
    ) -> Result<RefreshSummary> {
        let job = self.refresh_job(RefreshRequest {
            profile: Some(profile.to_string()),
        })?;
        let mut report = job
            .with_client_config(remote.client_config)
            .run(&remote.runtime, &mut |p| progress(p.done))?;
        match report.profiles.pop() {
            Some((_, result)) => result,
            None => Ok(RefreshSummary::default()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn details(amount: &str, currency: &str, state: &str, session_id: &str) -> PaymentDetails {
        serde_json::from_value(json!({
            "session_id": session_id, "amount": amount, "currency_code": currency, "state": state,
        }))
        .unwrap()
    }

    fn failure(d: &PaymentDetails) -> ImportFailure {
        match to_new_payment(d, 0) {
            Ok(p) => panic!("{p:?}"),
            Err(failed) => failed.into_failure(d.session_id.clone(), Some(3)),
        }
    }

    #[test]
    fn a_payment_the_ledger_cannot_take_fails_with_its_code_and_params() {
        let f = failure(&details("0.000", "KWD", "paid", "s-1"));
        assert_eq!(
            (f.code.as_str(), f.params["value"].as_str()),
            ("amount.not_positive", Some("0.000"))
        );
        // The English text stays what the CLI always printed.
        assert_eq!(f.error, "amount 0.000 is not positive");
        assert_eq!(f.line, Some(3));
        let f = failure(&details("1.5", "XXX", "paid", "s-1"));
        assert_eq!(f.code, "currency.unknown");
        assert!(f.error.starts_with("amount: "), "{}", f.error);
        let f = failure(&details("1.0001", "KWD", "paid", "s-1"));
        assert_eq!(f.code, "amount.too_precise");
        let f = failure(&details("1.5", "KWD", "teleported", "s-1"));
        assert_eq!(
            (f.code.as_str(), f.params["value"].as_str()),
            ("input.unknown_word", Some("teleported"))
        );
        let f = failure(&details("1.5", "KWD", "paid", "bad id!"));
        assert_eq!(f.code, "input.bad_character");
        assert_eq!(f.params["value"], "bad id!");
    }

    #[test]
    fn an_answer_that_is_not_a_payment_fails_with_the_code_of_ottus_errors() {
        let id = SessionId::parse("s-2").unwrap();
        let f = fetch_failed(&id, &FetchError::Throttled { retry_after: None })
            .into_failure(id.to_string(), None);
        assert_eq!(f.code, "ottu.throttled");
        assert_eq!(f.params["detail"], f.error.as_str());
        let f = fetch_failed(
            &id,
            &FetchError::Refused {
                status: 400,
                reason: "no".into(),
                raw: String::new(),
            },
        )
        .into_failure(id.to_string(), None);
        assert_eq!(
            (f.code.as_str(), &f.params["status"]),
            ("ottu.refused", &json!(400))
        );
        for code in [
            "ottu.throttled",
            "ottu.refused",
            "ottu.unavailable",
            "ottu.not_ottu",
            "not_found",
            "input.unknown_word",
            "amount.not_positive",
        ] {
            assert!(
                crate::error::codes::kind_of(code).is_some(),
                "{code} registered"
            );
        }
    }
}
