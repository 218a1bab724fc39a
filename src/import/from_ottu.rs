//! Import by session id, and `refresh` of refunds Ottu had queued.
//!
//! Import reads its ids as a stream (from the command line, then a file line by line), asks
//! Ottu's retrieve endpoint for each a few at a time ([`super::window`]), and writes the
//! answers in batches of at most [`IMPORT_BATCH_PAYMENTS`], each batch one transaction with
//! its events. So memory does not grow with the file; a stop (refused key, an answer that
//! is not Ottu's, no network, Ctrl-C, a write that fails) keeps every batch written before
//! and says where it stopped; and a line that is not a session id is listed with its number
//! while the others are imported. Importing twice changes nothing the second time.

use std::io::BufRead;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use serde::Serialize;
use serde_json::json;

use super::lines::{IdLine, IdLines, RejectedLine};
use super::window::{self, Next, Sink, StopCause, StopReason};
use crate::connect::{self, ConnectError, Remote};
use crate::error::{Error, FieldContext, Result};
use crate::ledger::Ledger;
use crate::limits::{IMPORT_BATCH_PAYMENTS, IMPORT_MAX_LISTED};
use crate::model::{
    ChildState, NewPayment, OrderNo, PaymentSource, PaymentState, ProfileId, ProfileName, SessionId,
};
use crate::ottu::{FetchError, OttuClient, PaymentDetails};
use crate::store::children::Unresolved;
use crate::store::payments::Upserted;
use crate::store::{self, EventInsert};

/// A payment Ottu did not give us (unknown id, an answer that is not a payment...).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ImportFailure {
    pub session_id: String,
    pub error: String,
    /// Its line in the `--from-file` file; absent for ids given on the command line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
}

/// Where and why an import stopped before the end of its input.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
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

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
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
        Some(Error::Remote {
            code: stop.code,
            message: format!(
                "{}; the import stopped{at}. {kept}: run the same import again to go on (what is already imported stays unchanged)",
                stop.message
            ),
        })
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

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RefreshSummary {
    /// Children Ottu had not settled (`refund_queued`) that were read again.
    pub checked: u64,
    /// Of those, how many have a new state now.
    pub settled: u64,
    pub failed: Vec<ImportFailure>,
}

/// How far an import is, for a progress bar: the total is unknown until the file ends, but
/// its size in bytes is known.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImportProgress {
    /// Bytes of the file read so far.
    pub bytes_read: u64,
    /// Ids answered by Ottu (or failed) and lines rejected so far.
    pub handled: u64,
    /// Payments written to the ledger so far.
    pub imported: u64,
}

/// What to import, and how to stop it.
pub struct ImportRequest<'a> {
    pub profile: &'a str,
    /// Ids from the command line: checked before anything is sent; a bad one refuses the
    /// whole command (it is a typo to fix, not a line in a long file).
    pub session_ids: &'a [String],
    /// A file of ids, one per line, read as a stream after `session_ids`.
    pub file: Option<&'a mut dyn BufRead>,
    /// Set (e.g. by Ctrl-C) to stop at the next answer, keeping what was imported.
    pub cancel: Option<&'a AtomicBool>,
}

/// The profile's client, and how a stop names the profile: `profile NAME (BASE_URL)`, as
/// the sync names a profile whose answers are not Ottu's.
fn client(
    ledger: &mut Ledger,
    remote: &Remote,
    profile: &str,
) -> Result<(crate::model::ProfileId, OttuClient, String)> {
    let name = ProfileName::parse(profile).field("profile")?;
    let profile = ledger.store().read(|tx| {
        store::profiles::by_name(tx, &name)?.ok_or_else(|| Error::NotFound {
            what: "profile",
            field: "profile",
            key: name.to_string(),
        })
    })?;
    let client =
        connect::client_for(ledger, remote.client_config, profile.id).map_err(connect_error)?;
    let label = format!("profile {} ({})", profile.name, profile.base_url);
    Ok((profile.id, client, label))
}

/// Why no client could be made, as the command's error. A keyring that cannot be reached
/// (no session bus, no Secret Service, locked) is a local condition, not the profile's: it
/// stays the keyring's own error (`secrets.unavailable`, exit 1), so `refresh` without
/// `--profile` never takes it for "no key stored" (`ottu.credential`), which it skips.
fn connect_error(error: ConnectError) -> Error {
    match error {
        ConnectError::Keyring(error) => Error::Secrets(error),
        other => Error::Remote {
            code: other.code(),
            message: other.to_string(),
        },
    }
}

/// A stop's message; one about the answers not being Ottu's names the profile and its base
/// URL, the thing to check.
fn stop_message(cause: StopCause, label: &str) -> String {
    match cause.reason {
        StopReason::NotOttu => format!("{label}: {}", cause.message),
        _ => cause.message,
    }
}

fn to_new_payment(
    details: &PaymentDetails,
    now_ms: i64,
) -> std::result::Result<NewPayment, String> {
    let amount = details
        .parsed_amount()
        .map_err(|e| format!("amount: {e}"))?;
    if !amount.is_positive() {
        return Err(format!("amount {} is not positive", details.amount));
    }
    Ok(NewPayment {
        session_id: SessionId::parse(&details.session_id).map_err(|e| e.to_string())?,
        order_no: details
            .order_no
            .as_deref()
            .filter(|o| !o.is_empty())
            .map(OrderNo::parse)
            .transpose()
            .map_err(|e| e.to_string())?,
        amount,
        state: details
            .state
            .parse::<PaymentState>()
            .map_err(|e| e.to_string())?,
        source: PaymentSource::Ottu,
        created_at_ms: now_ms,
    })
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
struct ImportRun<'a, 'r> {
    ledger: &'a mut Ledger,
    profile_id: ProfileId,
    args: std::slice::Iter<'a, SessionId>,
    lines: Option<IdLines<&'r mut dyn BufRead>>,
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
    progress: &'a mut dyn FnMut(&ImportProgress),
}

impl ImportRun<'_, '_> {
    fn report(&mut self) {
        let progress = ImportProgress {
            bytes_read: self.lines.as_ref().map_or(0, IdLines::bytes_read),
            handled: self.handled,
            imported: self.summary.imported(),
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
                .map_err(|e| e.to_string())
                .and_then(|d| to_new_payment(d, now_ms))
            {
                Ok(p) => p,
                Err(error) => {
                    written.failures.push(ImportFailure {
                        session_id: id.to_string(),
                        error,
                        line: *line,
                    });
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

impl Sink for ImportRun<'_, '_> {
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
            .map_err(|e| e.to_string())
            .and_then(|d| d.state.parse::<ChildState>().map_err(|e| e.to_string()));
        match state {
            Ok(state) => self.batch.push((child, state)),
            Err(error) => self.summary.failed.push(ImportFailure {
                session_id: child.session_id.to_string(),
                error,
                line: None,
            }),
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
            self.summary.settled += settled;
        }
        Ok(())
    }
}

impl Ledger {
    /// `daftar import --profile P (--session-id S... | --from-file FILE)`.
    ///
    /// Errors before anything is sent (unknown profile, no credential, no keyring reachable,
    /// a bad `--session-id`, nothing to import) are returned as `Err`. Once the import runs, it returns its
    /// summary even when it stopped early: `stopped` says why and where, and
    /// [`ImportSummary::error`] is the run's error.
    pub fn import(
        &mut self,
        remote: &Remote,
        request: ImportRequest<'_>,
        progress: &mut dyn FnMut(&ImportProgress),
    ) -> Result<ImportSummary> {
        let ids = request
            .session_ids
            .iter()
            .map(|s| SessionId::parse_new(s.trim()).field("session_id"))
            .collect::<Result<Vec<_>>>()?;
        let (profile_id, client, label) = client(self, remote, request.profile)?;
        let not_cancelled = AtomicBool::new(false);
        let cancel = request.cancel.unwrap_or(&not_cancelled);
        let mut run = ImportRun {
            ledger: self,
            profile_id,
            args: ids.iter(),
            lines: request.file.map(IdLines::new),
            batch: Batch::with_capacity(IMPORT_BATCH_PAYMENTS),
            lost_from: None,
            ids_seen: 0,
            handled: 0,
            summary: ImportSummary::default(),
            progress,
        };
        let stopped = window::run(remote, &client, cancel, &mut run);
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
                    "name at least one payment: --session-id S... or --from-file FILE",
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

    /// `daftar import --profile P --session-id S...` for callers with ids in hand; a run
    /// that stops early (refused key, Ottu unreachable) is an `Err`, what was imported
    /// before it is kept.
    pub fn import_from_ottu(
        &mut self,
        remote: &Remote,
        profile: &str,
        session_ids: &[String],
        progress: &mut dyn FnMut(u64),
    ) -> Result<ImportSummary> {
        let summary = self.import(
            remote,
            ImportRequest {
                profile,
                session_ids,
                file: None,
                cancel: None,
            },
            &mut |p| progress(p.handled),
        )?;
        match summary.error() {
            Some(error) => Err(error),
            None => Ok(summary),
        }
    }

    /// `daftar refresh`: re-reads every child Ottu had not settled (`refund_queued`) and
    /// records its new state (`refunded` or `refund_rejected`).
    pub fn refresh_from_ottu(
        &mut self,
        remote: &Remote,
        profile: &str,
        progress: &mut dyn FnMut(u64),
    ) -> Result<RefreshSummary> {
        self.refresh(remote, profile, None, progress)
    }

    /// [`Ledger::refresh_from_ottu`] that `cancel` (Ctrl-C) stops at the next answer. A
    /// refused key, Ottu unreachable or a cancel stop the run with an `Err`; what was
    /// recorded before is kept. `progress` gets the number of children asked about.
    pub fn refresh(
        &mut self,
        remote: &Remote,
        profile: &str,
        cancel: Option<&AtomicBool>,
        progress: &mut dyn FnMut(u64),
    ) -> Result<RefreshSummary> {
        let (profile_id, client, label) = client(self, remote, profile)?;
        let pending = self
            .store()
            .read(|tx| Ok::<_, Error>(store::children::unresolved(tx, Some(profile_id))?))?;
        let not_cancelled = AtomicBool::new(false);
        let mut run = RefreshRun {
            summary: RefreshSummary {
                checked: pending.len() as u64,
                ..RefreshSummary::default()
            },
            ledger: self,
            pending: pending.into_iter(),
            batch: Batch::with_capacity(0),
            done: 0,
            progress,
        };
        let stopped = window::run(remote, &client, cancel.unwrap_or(&not_cancelled), &mut run);
        match stopped {
            None => Ok(run.summary),
            Some((cause, at)) => Err(Error::Remote {
                code: cause.code,
                message: format!(
                    "{}; the refresh stopped{}: {} refund(s) settled before are recorded",
                    stop_message(cause, &label),
                    at.map(|c| format!(" at child {}", c.session_id))
                        .unwrap_or_default(),
                    run.summary.settled
                ),
            }),
        }
    }
}
