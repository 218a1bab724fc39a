//! The worker loop. One thread (the caller's, or the sync service's) owns the ledger and
//! does every SQLite write; HTTP attempts run as tokio tasks and hand their outcome back
//! over a channel, which also carries `wake` and `stop` from a [`super::SyncHandle`]. Claims
//! and records are batched into few transactions, but an operation is always committed
//! `in_flight` before its request is built.
//!
//! Per profile: a client made for the profile's current credential generation (a key set
//! or removed makes the next request use a new one), online/offline with its own probe,
//! paused/held/resumed. In watch mode a failed store call is reported and retried.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::json;

use super::outcome::{ChildReport, ReplyFacts, SendOutcome};
use super::record::{self, RecordContext, Recorded};
use super::service::Board;
use super::{
    OperationOutcomeView, PausedProfileView, SyncEvent, SyncMode, SyncOptions, SyncSummary,
};
use crate::connect::{self, ConnectError};
use crate::error::stored::Stored;
use crate::error::{Error, Result};
use crate::ledger::Ledger;
use crate::limits::{
    SYNC_MAX_CONCURRENCY, SYNC_MAX_REPORTED_OUTCOMES, SYNC_OFFLINE_RETRY_MS, SYNC_ONCE_MAX_WAIT_MS,
    SYNC_PROFILE_CHECK_MS, SYNC_STATUS_REFRESH_MS, SYNC_STORE_RETRY_MAX_MS, SYNC_STORE_RETRY_MS,
    SYNC_TASKS_END_WAIT_MS, SYNC_WATCH_POLL_MS,
};
use crate::model::{OperationStatus, ProfileId};
use crate::ottu::{self, ClientConfig, OperationOutcome, OperationRequest, OttuClient};
use crate::sources::{Clock, Random, format_ms};
use crate::store::outbox::{self, Claimed, ClientKey};
use crate::store::{self, EventInsert, StoreError};

/// Where the worker's exclusive lock lives: beside the ledger's real file (symlinks and
/// `..` resolved, as SQLite resolves them to name the -wal), so every path to one ledger
/// finds the same lock and two `daftar sync` processes can never both think an `in_flight`
/// operation is theirs. A second hard link, which no path resolution can see, is refused
/// when the ledger is opened. The lock is not taken on the ledger file itself: closing any
/// other descriptor of that file would drop SQLite's own POSIX locks in this process.
fn lock_path(ledger: &mut Ledger) -> PathBuf {
    let mut path = ledger.store().real_path().as_os_str().to_owned();
    path.push(".sync-lock");
    PathBuf::from(path)
}

fn take_lock(path: PathBuf) -> Result<File> {
    let mut options = File::options();
    options.create(true).truncate(false).write(true);
    #[cfg(unix)]
    {
        // Empty, but private like the ledger beside it.
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options.open(&path).map_err(|e| {
        Error::Unavailable {
            code: "sync.lock",
            message: format!("cannot create the sync lock {}: {e}", path.display()),
        }
        .with("path", path.display().to_string())
    })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(_) => Err(Error::Unavailable {
            code: "sync.running",
            message: format!(
                "another sync is already running on this ledger ({}); wait for it or stop it",
                path.display()
            ),
        }
        .with("lock", path.display().to_string())),
    }
}

fn request_for(op: &Claimed) -> std::result::Result<OperationRequest, String> {
    // The session id identifies the payment uniquely; the order number is a fallback only.
    let payment = ottu::PaymentRef::Session(op.session_id.clone());
    OperationRequest::new(op.kind, payment, op.requested).map_err(|e| e.to_string())
}

/// The worker's view of the client's classification.
fn to_send_outcome(outcome: OperationOutcome) -> SendOutcome {
    match outcome {
        OperationOutcome::Succeeded { reply, raw } => SendOutcome::Succeeded {
            detail: reply.detail.clone().unwrap_or_default(),
            reference_number: reply.reference_number.clone(),
            facts: ReplyFacts {
                operation: reply.operation.clone(),
                session_id: reply.session_id.clone(),
                order_no: reply.order_no.clone(),
                amount: reply.amount.clone(),
            },
            child: reply.child.as_ref().map(|c| ChildReport {
                session_id: c.session_id.clone().unwrap_or_default(),
                amount: Some(c.amount.clone()),
                state: c.state.clone(),
                currency: Some(c.currency_code.clone()),
            }),
            raw,
        },
        OperationOutcome::Refused { reason, raw, .. } => SendOutcome::Refused { reason, raw },
        OperationOutcome::Auth {
            status,
            detail,
            permission,
        } => SendOutcome::Auth {
            status,
            detail,
            permission,
        },
        OperationOutcome::RetryLater {
            reason,
            retry_after,
            offline,
            throttled,
            raw,
        } => SendOutcome::RetryLater {
            throttled,
            reason,
            retry_after_ms: retry_after.map(|d| d.as_millis() as u64),
            offline,
            raw,
        },
        OperationOutcome::Unknown { reason, raw } => SendOutcome::Unknown { reason, raw },
        OperationOutcome::NotOttu { reason, raw, .. } => SendOutcome::NotOttu { reason, raw },
    }
}

/// What reaches the loop besides its own timer.
pub(crate) enum Signal {
    /// One attempt's answer (boxed: the other signals carry nothing).
    Done(Box<(Claimed, SendOutcome)>),
    /// New work may have been queued: look now, not at the next poll.
    Wake,
    /// Stop now (`Control::abandon` is set first): only interrupts a wait.
    Stop,
}

/// How a caller steers a run besides `SyncDeps::cancel`: the answers channel (which also
/// carries wake and stop), the abandon flag, and where status is published.
pub(crate) struct Control {
    pub(crate) tx: mpsc::Sender<Signal>,
    pub(crate) rx: mpsc::Receiver<Signal>,
    /// Leave at once, without waiting for requests in flight (they stay `in_flight`;
    /// recovery resends them with their keys on the next start).
    pub(crate) abandon: Arc<AtomicBool>,
    /// Every request task drops its request when this turns true, even while the loop is
    /// inside a store call.
    pub(crate) tasks_stop: tokio::sync::watch::Receiver<bool>,
    /// Turns `tasks_stop` true: the handle's stop, and the end of every run, whatever
    /// ended it (no request may outlive the sync lock).
    pub(crate) tasks_stop_tx: Arc<tokio::sync::watch::Sender<bool>>,
    /// The longest a watching loop waits in one go: `run` wakes every second to see the
    /// caller's cancel flag; the service is woken by its signals instead.
    pub(crate) max_wait_ms: u64,
    /// How often an idle watching worker looks for work queued by another process.
    pub(crate) poll_ms: u64,
    /// Told once recovery is done and the loop starts (the service's `start` waits for it).
    pub(crate) started: Option<mpsc::SyncSender<()>>,
    pub(crate) board: Option<Arc<Board>>,
}

impl Control {
    /// For a caller that owns the loop's thread and stops it with `SyncDeps::cancel`.
    pub(crate) fn standalone() -> Control {
        let (tx, rx) = mpsc::channel();
        let (stop_tx, tasks_stop) = tokio::sync::watch::channel(false);
        Control {
            tx,
            rx,
            abandon: Arc::new(AtomicBool::new(false)),
            tasks_stop,
            tasks_stop_tx: Arc::new(stop_tx),
            max_wait_ms: SYNC_WATCH_POLL_MS,
            poll_ms: SYNC_WATCH_POLL_MS,
            started: None,
            board: None,
        }
    }
}

/// Carries one attempt's answer back to the loop. If the task ends without answering (a
/// panic, or the runtime shutting down), dropping it reports an unknown outcome, so the
/// loop's count of attempts in flight never waits for an answer that cannot come.
struct Reply(Option<(Claimed, mpsc::Sender<Signal>)>);

impl Reply {
    fn send(mut self, outcome: SendOutcome) {
        if let Some((op, tx)) = self.0.take() {
            // The receiver outlives every task the loop waits for; after a stop nobody
            // reads it, and the operation stays in flight for recovery.
            let _ = tx.send(Signal::Done(Box::new((op, outcome))));
        }
    }

    /// The run was stopped: the request is dropped and nothing is reported.
    fn abandon(mut self) {
        self.0 = None;
    }
}

impl Drop for Reply {
    fn drop(&mut self) {
        if let Some((op, tx)) = self.0.take() {
            let _ = tx.send(Signal::Done(Box::new((
                op,
                SendOutcome::Unknown {
                    reason: "the request task stopped before an answer was read".into(),
                    raw: String::new(),
                },
            ))));
        }
    }
}

/// Everything the worker needs besides the ledger.
pub struct SyncDeps {
    pub runtime: tokio::runtime::Handle,
    pub client_config: ClientConfig,
    pub random: Arc<dyn Random>,
    /// Set to stop at the next safe point (after recording, never between send and record).
    pub cancel: Arc<AtomicBool>,
}

/// Runs the worker until the mode says stop; returns what it achieved.
pub fn run(
    ledger: &mut Ledger,
    deps: &SyncDeps,
    options: &SyncOptions,
    on_event: &mut dyn FnMut(&SyncEvent),
) -> Result<SyncSummary> {
    let mut control = Control::standalone();
    control.poll_ms = options.poll_ms;
    run_with(ledger, deps, options, &mut control, on_event)
}

/// A client made for one profile, and what it was made from.
struct Cached {
    client: OttuClient,
    key: ClientKey,
}

/// A profile Ottu could not be reached for: no claims until `until_ms`, then one probe.
struct Offline {
    until_ms: i64,
    probing: bool,
}

/// A profile left out of this run (nothing stored): name, reason, and until when (a
/// watching worker looks again then: a captive portal or a proxy can clear).
struct Held {
    id: ProfileId,
    name: String,
    reason: String,
    until_ms: i64,
}

enum Flow {
    Continue,
    Stop,
}

struct Worker<'a> {
    ledger: &'a mut Ledger,
    deps: &'a SyncDeps,
    options: &'a SyncOptions,
    control: &'a mut Control,
    on_event: &'a mut dyn FnMut(&SyncEvent),
    actor: String,
    clock: Arc<dyn Clock>,
    profile: Option<ProfileId>,
    summary: SyncSummary,
    /// Only clients that could be made: a profile that cannot be sent is looked at again
    /// when its hold ends (a key set while the worker runs is picked up).
    clients: HashMap<ProfileId, Cached>,
    /// Profiles paused by Ottu's answer in this run, until seen resumed.
    paused: HashSet<ProfileId>,
    held: Vec<Held>,
    offline: HashMap<ProfileId, Offline>,
    online: HashSet<ProfileId>,
    /// The OS keyring could not be read: nothing is stored about any profile (a condition
    /// of this machine, e.g. `daftar sync` from cron). Once, the run stops and fails;
    /// watching, it is reported as `store_error` and tried again after a backoff.
    keyring_failure: Option<ConnectError>,
    in_progress: usize,
    /// Answers received and not yet recorded: kept until the transaction recording them
    /// commits, so a failed store call loses none.
    early: Vec<(Claimed, SendOutcome)>,
    /// `due_profiles` reads every due operation, so it is not run every turn (that made a
    /// drain O(queue²)): on the first turn, after a turn that could claim but claimed
    /// nothing, after a wake, and otherwise at most every `SYNC_PROFILE_CHECK_MS`.
    profiles_checked_at_ms: Option<i64>,
    claimed_none_last_turn: bool,
    look_now: bool,
    /// The `outstanding` count: read at start and whenever something besides this
    /// worker's own outcomes may have changed it, kept exact in between.
    outstanding: u64,
    outstanding_sent: Option<u64>,
    recount: bool,
    board_read_at: Option<Instant>,
    idle: bool,
    store_failures: u32,
    /// Cloned into each request task (see `run_with`).
    alive: mpsc::Sender<()>,
}

/// Runs the worker with a caller's controls (see `run`).
pub(crate) fn run_with(
    ledger: &mut Ledger,
    deps: &SyncDeps,
    options: &SyncOptions,
    control: &mut Control,
    on_event: &mut dyn FnMut(&SyncEvent),
) -> Result<SyncSummary> {
    let concurrency = options.concurrency;
    if !(1..=SYNC_MAX_CONCURRENCY).contains(&concurrency) {
        return Err(Error::invalid(
            "concurrency",
            "sync.concurrency",
            format!(
                "concurrency {concurrency} is not allowed: give a whole number from 1 to {SYNC_MAX_CONCURRENCY}"
            ),
        ));
    }
    // The log (crate::logs): a span per run, every event as a line in it.
    let span = tracing::info_span!("sync", mode = ?options.mode, profile = ?options.profile);
    let _entered = span.enter();
    let on_event: &mut dyn FnMut(&SyncEvent) = &mut |event| {
        crate::logs::sync_event(event);
        on_event(event)
    };
    let lock = take_lock(lock_path(ledger))?;
    // Each request task holds a sender: the channel closes when the last one has ended.
    let (alive_tx, alive_rx) = mpsc::channel::<()>();
    let result = run_locked(ledger, deps, options, control, on_event, alive_tx);
    // However the run ended (a stop, an error such as `sync.stale_answer` or the keyring),
    // requests still in flight are told to drop, as a stop does, and the lock is released
    // only once their tasks have ended (or after `SYNC_TASKS_END_WAIT_MS`): a sync started
    // next never resends alongside them. Nothing is lost: they stay `in_flight`.
    control.tasks_stop_tx.send_replace(true);
    let _ = alive_rx.recv_timeout(Duration::from_millis(SYNC_TASKS_END_WAIT_MS));
    drop(lock);
    result
}

/// `run_with` once the sync lock is held.
fn run_locked(
    ledger: &mut Ledger,
    deps: &SyncDeps,
    options: &SyncOptions,
    control: &mut Control,
    on_event: &mut dyn FnMut(&SyncEvent),
    alive: mpsc::Sender<()>,
) -> Result<SyncSummary> {
    let actor = format!("sync:{}", ledger.actor());
    let clock = ledger.clock();
    let profile = match &options.profile {
        Some(name) => Some(ledger.profile_id(name)?),
        None => None,
    };
    let mut summary = SyncSummary::default();

    let now_ms = clock.now_ms();
    let recovered = ledger.store().write(|tx| {
        lift_local_pauses(tx, now_ms, &actor, profile)?;
        let ids = outbox::recover_in_flight(tx, now_ms)?;
        record::recovered_events(tx, now_ms, &actor, &ids)?;
        Ok::<_, Error>(ids.len() as u64)
    })?;
    if recovered > 0 {
        summary.recovered = recovered;
        on_event(&SyncEvent::Recovered { count: recovered });
    }
    // Pauses stored before this run: a key set while it runs is reported as `resumed`.
    let paused: HashSet<ProfileId> = ledger
        .store()
        .read(|tx| Ok::<_, Error>(outbox::paused_profiles(tx, profile)?))?
        .into_iter()
        .map(|p| p.id)
        .collect();
    if let Some(started) = control.started.take() {
        let _ = started.send(());
    }
    let worker = Worker {
        ledger,
        deps,
        options,
        control,
        on_event,
        actor,
        clock,
        profile,
        summary,
        clients: HashMap::new(),
        paused,
        held: Vec::new(),
        offline: HashMap::new(),
        online: HashSet::new(),
        keyring_failure: None,
        in_progress: 0,
        early: Vec::new(),
        profiles_checked_at_ms: None,
        claimed_none_last_turn: false,
        look_now: false,
        outstanding: 0,
        outstanding_sent: None,
        recount: true,
        board_read_at: None,
        idle: false,
        store_failures: 0,
        alive,
    };
    worker.run()
}

impl Worker<'_> {
    fn emit(&mut self, event: SyncEvent) {
        (self.on_event)(&event);
    }

    fn watching(&self) -> bool {
        self.options.mode == SyncMode::Watch
    }

    fn run(mut self) -> Result<SyncSummary> {
        if let Err(error) = self.refresh_counts(true) {
            // Once: as before, a store error ends the run. Watching: the loop retries.
            if !self.watching() || !matches!(error, Error::Store(_)) {
                return Err(error);
            }
            self.recount = true;
        }
        loop {
            match self.turn() {
                Ok(Flow::Continue) => self.store_failures = 0,
                Ok(Flow::Stop) => {
                    // Watching, an unreachable keyring is a condition of this machine like
                    // a busy store: reported and tried again, not the end of the worker
                    // (`sync` once still fails with `secrets.unavailable`).
                    let stopping = self.deps.cancel.load(Ordering::SeqCst)
                        || self.control.abandon.load(Ordering::SeqCst);
                    match self.keyring_failure.take() {
                        Some(error) if self.watching() && !stopping => {
                            if self.failed(error.code(), error.to_string(), error.params()) {
                                break;
                            }
                        }
                        failure => {
                            self.keyring_failure = failure;
                            break;
                        }
                    }
                }
                Err(Error::Store(error)) if self.watching() => {
                    if self.store_failed(&error) {
                        break;
                    }
                }
                Err(error) => return Err(error),
            }
        }
        self.finish()
    }

    /// Reports a failed store call and waits before the next try (collecting answers);
    /// true when a stop came meanwhile.
    fn store_failed(&mut self, error: &StoreError) -> bool {
        self.failed(error.code(), error.to_string(), error.params())
    }

    /// A store (the ledger, or the OS keyring) failed: reported as `store_error`, and
    /// the next turn after a backoff looks at everything again. True when a stop came.
    fn failed(&mut self, code: &str, message: String, params: crate::error::Params) -> bool {
        self.store_failures += 1;
        let wait = SYNC_STORE_RETRY_MS
            .saturating_mul(1 << self.store_failures.saturating_sub(1).min(16))
            .min(SYNC_STORE_RETRY_MAX_MS);
        if let Some(board) = &self.control.board {
            board.store_error(Some((message.clone(), code.to_string(), params.clone())));
        }
        self.emit(SyncEvent::StoreError {
            code: code.to_string(),
            message,
            params,
            retry_in_ms: wait,
        });
        self.recount = true;
        self.look_now = true;
        let deadline = Instant::now() + Duration::from_millis(wait);
        loop {
            if self.control.abandon.load(Ordering::SeqCst) {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            match self.control.rx.recv_timeout(left) {
                Ok(signal) => self.take_signal(signal),
                Err(mpsc::RecvTimeoutError::Timeout) => return false,
                Err(mpsc::RecvTimeoutError::Disconnected) => return true,
            }
        }
    }

    fn take_signal(&mut self, signal: Signal) {
        match signal {
            Signal::Done(done) => self.early.push(*done),
            Signal::Wake => {
                self.look_now = true;
                self.recount = true;
            }
            Signal::Stop => {}
        }
    }

    /// Re-reads the `outstanding` count (sending it if it changed) and, for the service's
    /// status, the per-profile queue numbers (`force`, or at most every
    /// `SYNC_STATUS_REFRESH_MS`).
    fn refresh_counts(&mut self, force: bool) -> Result<()> {
        let held = held_now(&self.held, self.clock.now_ms());
        let profile = self.profile;
        let board_due = self.control.board.is_some()
            && (force
                || self.board_read_at.is_none_or(|at| {
                    at.elapsed() >= Duration::from_millis(SYNC_STATUS_REFRESH_MS)
                }));
        if !force && !board_due {
            // A drain keeps `outstanding` exact without reading; the status numbers wait.
            return Ok(());
        }
        let (total, queues) = self.ledger.store().read(|tx| {
            let total = outbox::outstanding(tx, profile, &held)?;
            let queues = if board_due {
                Some(outbox::queue_by_profile(tx, profile)?)
            } else {
                None
            };
            Ok::<_, Error>((total, queues))
        })?;
        self.recount = false;
        self.outstanding = total;
        self.send_outstanding();
        if let (Some(board), Some(queues)) = (&self.control.board, queues) {
            board.set_queues(queues, total);
            board.store_error(None);
            self.board_read_at = Some(Instant::now());
        }
        Ok(())
    }

    fn send_outstanding(&mut self) {
        if self.outstanding_sent != Some(self.outstanding) {
            self.outstanding_sent = Some(self.outstanding);
            let total = self.outstanding;
            if let Some(board) = &self.control.board {
                board.set_outstanding(total);
            }
            self.emit(SyncEvent::Outstanding { total });
        }
    }

    fn set_connection(
        &self,
        id: ProfileId,
        name: &str,
        connection: super::Connection,
        reason: Option<(&str, &Code)>,
    ) {
        if let Some(board) = &self.control.board {
            let reason = reason.map(|(text, code)| (text.to_string(), code.clone()));
            board.set_connection(id, name, connection, reason);
        }
    }

    /// A profile paused or held before is being served again.
    fn resumed(&mut self, id: ProfileId, name: &str, now_ms: i64) {
        let was_paused = self.paused.remove(&id);
        let before = self.held.len();
        self.held.retain(|h| h.id != id || h.until_ms > now_ms);
        if was_paused || self.held.len() != before {
            self.recount = true;
            self.set_connection(id, name, super::Connection::Unknown, None);
            self.emit(SyncEvent::Resumed {
                profile: name.to_string(),
            });
        }
    }

    /// Holds a profile until `until_ms`; reports it when it was not held before.
    fn hold(&mut self, id: ProfileId, name: &str, reason: String, code: Code, until_ms: i64) {
        match self.held.iter_mut().find(|h| h.id == id) {
            Some(entry) => {
                entry.reason = reason;
                entry.until_ms = until_ms;
            }
            None => {
                self.held.push(Held {
                    id,
                    name: name.to_string(),
                    reason: reason.clone(),
                    until_ms,
                });
                self.recount = true;
                self.set_connection(id, name, super::Connection::Held, Some((&reason, &code)));
                let (code, params) = code.unzip();
                self.emit(SyncEvent::Paused {
                    profile: name.to_string(),
                    reason,
                    code,
                    params,
                });
            }
        }
    }

    /// A client for the profile as it is now: the client key is read before the keyring.
    /// `Err`: the ledger could not be read (e.g. busy): the store's condition, reported
    /// and retried like any failed store call, never held against the profile.
    fn make_client(
        &mut self,
        id: ProfileId,
    ) -> std::result::Result<std::result::Result<Cached, ConnectError>, StoreError> {
        let key = self.ledger.store().read(|tx| outbox::client_key(tx, id))?;
        let client = connect::client_or_store_error(self.ledger, self.deps.client_config, id)?;
        Ok(client.map(|client| Cached { client, key }))
    }

    /// The client to send `op` with: the cached one when nothing about the profile's
    /// credential changed since it was made, else a new one (a key set or removed, a base
    /// URL or auth change since). `Err`: what it comes to instead of a request (it is
    /// committed `in_flight`, so it must be recorded, never dropped).
    fn client_for_claim(
        &mut self,
        op: &Claimed,
    ) -> std::result::Result<OttuClient, Box<SendOutcome>> {
        let key = op.client_key();
        if let Some(cached) = self.clients.get(&op.profile_id)
            && cached.key == key
        {
            return Ok(cached.client.clone());
        }
        self.clients.remove(&op.profile_id);
        // The generation in `key` was read in the claim, before this keyring read.
        let made =
            connect::client_or_store_error(self.ledger, self.deps.client_config, op.profile_id);
        let made = match made {
            Ok(made) => made,
            Err(error) => {
                return Err(Box::new(SendOutcome::LedgerUnreadable {
                    reason: error.to_string(),
                }));
            }
        };
        match made {
            Ok(client) => {
                self.clients.insert(
                    op.profile_id,
                    Cached {
                        client: client.clone(),
                        key,
                    },
                );
                Ok(client)
            }
            Err(error) => {
                let reason = error.to_string();
                if error.is_unavailable() {
                    self.keyring_failure = Some(error);
                }
                Err(Box::new(SendOutcome::CannotSend { reason }))
            }
        }
    }

    fn turn(&mut self) -> Result<Flow> {
        while let Ok(signal) = self.control.rx.try_recv() {
            self.take_signal(signal);
        }
        if self.control.abandon.load(Ordering::SeqCst) {
            return Ok(Flow::Stop);
        }
        if self.recount {
            self.refresh_counts(true)?;
        }
        let concurrency = self.options.concurrency;
        // The answers in `early` are recorded in this turn's transaction.
        let in_progress = self.in_progress - self.early.len();
        let cancelled = self.deps.cancel.load(Ordering::SeqCst) || self.keyring_failure.is_some();
        let now_ms = self.clock.now_ms();
        let mut held_ids = held_now(&self.held, now_ms);
        let mut may_claim = !cancelled && in_progress < concurrency;
        // Before anything is claimed: a client for every profile with due work. A profile
        // that cannot be sent (no credential on this machine, a base URL the client
        // refuses) is held, and an unreachable keyring stops the run, with nothing claimed
        // or written for them: no attempt to give back, no event, whatever a crash does.
        let look_at_profiles = self.look_now
            || self.claimed_none_last_turn
            || self
                .profiles_checked_at_ms
                .is_none_or(|t| now_ms - t >= SYNC_PROFILE_CHECK_MS as i64);
        if may_claim && look_at_profiles {
            self.look_now = false;
            self.profiles_checked_at_ms = Some(now_ms);
            let profile = self.profile;
            let due = self
                .ledger
                .store()
                .read(|tx| Ok::<_, Error>(outbox::due_profiles(tx, now_ms, profile, &held_ids)?))?;
            for (id, name) in due {
                let name = name.to_string();
                if self.clients.contains_key(&id) {
                    self.resumed(id, &name, now_ms);
                    continue;
                }
                match self.make_client(id).map_err(Error::Store)? {
                    Ok(cached) => {
                        self.clients.insert(id, cached);
                        self.resumed(id, &name, now_ms);
                    }
                    Err(error) if error.is_unavailable() => {
                        self.keyring_failure = Some(error);
                        may_claim = false;
                        break;
                    }
                    Err(error) => {
                        let until = now_ms + self.options.held_retry_ms as i64;
                        let code = Some((error.code().to_string(), error.params()));
                        self.hold(id, &name, error.to_string(), code, until);
                        held_ids.push(id);
                    }
                }
            }
        }
        let cancelled = cancelled || self.keyring_failure.is_some();
        // Only profiles with a client are claimed. Work that becomes due while this turn's
        // answers are recorded (one behind a success) is of a profile served already, or
        // is checked on the next turn.
        let ready: Vec<ProfileId> = self.clients.keys().copied().collect();
        // An unreachable profile is left out of the claim; when its wait is over, one of
        // its operations is sent alone as a probe.
        let offline_ids: Vec<ProfileId> = self.offline.keys().copied().collect();
        let probes: Vec<ProfileId> = self
            .offline
            .iter()
            .filter(|(id, o)| {
                o.until_ms <= now_ms && !o.probing && ready.contains(id) && !held_ids.contains(id)
            })
            .map(|(id, _)| *id)
            .collect();
        let free = concurrency.saturating_sub(in_progress);
        let (results, claims) = if self.early.is_empty() && !may_claim {
            (Vec::new(), Vec::new())
        } else {
            let ctx = RecordContext {
                now_ms,
                actor: &self.actor,
                random: self.deps.random.as_ref(),
                max_unknown_attempts: self.options.max_unknown_attempts,
                offline_retry_ms: SYNC_OFFLINE_RETRY_MS,
            };
            let early = &self.early;
            let profile = self.profile;
            self.ledger.store().write(|tx| {
                let results = early
                    .iter()
                    .map(|(op, outcome)| record_one(tx, &ctx, op, outcome))
                    .collect::<Result<Vec<_>>>()?;
                // A paused profile is already excluded by the claim query in this
                // transaction; one held or found offline by an answer recorded just now is
                // left out here.
                let mut excluded = held_ids.clone();
                excluded.extend(
                    early
                        .iter()
                        .zip(&results)
                        .filter(|(_, r)| r.held.is_some() || r.offline)
                        .map(|((op, _), _)| op.profile_id),
                );
                let mut claims = Vec::new();
                if may_claim && free > 0 {
                    let mut skip = excluded.clone();
                    skip.extend(&offline_ids);
                    claims = outbox::claim_due(tx, now_ms, profile, &skip, Some(&ready), free)?;
                    for probe in &probes {
                        if claims.len() >= free || excluded.contains(probe) {
                            continue;
                        }
                        claims.extend(outbox::claim_due(
                            tx,
                            now_ms,
                            profile,
                            &excluded,
                            Some(&[*probe]),
                            1,
                        )?);
                    }
                }
                Ok::<_, Error>((results, claims))
            })?
        };
        // Committed: the answers are recorded.
        let finished = std::mem::take(&mut self.early);
        self.in_progress = in_progress;
        // Due work that the claim could not take must not make the loop spin. (After
        // recording answers, look again: they may have made another profile's work due.)
        let claimed_none = may_claim && claims.is_empty() && finished.is_empty();
        self.claimed_none_last_turn = may_claim && claims.is_empty();
        let recorded_any = !finished.is_empty();
        for ((op, _), recorded) in finished.iter().zip(results) {
            self.after_record(op, recorded, now_ms);
        }
        if recorded_any {
            self.send_outstanding();
        }
        if cancelled && self.in_progress == 0 && claims.is_empty() {
            return Ok(Flow::Stop);
        }

        // 2. Send each claim as its own task, with a client made for the credential the
        //    profile has now.
        if !claims.is_empty() {
            self.idle = false;
        }
        for op in claims {
            if let Some(offline) = self.offline.get_mut(&op.profile_id) {
                offline.probing = true;
            }
            self.in_progress += 1;
            self.emit(SyncEvent::Sent {
                id: op.id.0,
                attempt: op.attempt,
            });
            let done_tx = self.control.tx.clone();
            let client = self.client_for_claim(&op);
            match (client, request_for(&op)) {
                (Ok(client), Ok(request)) => {
                    let key = op.tracking_key;
                    let reply = Reply(Some((op, done_tx)));
                    let mut stop = self.control.tasks_stop.clone();
                    let alive = self.alive.clone();
                    self.deps.runtime.spawn(async move {
                        let _alive = alive;
                        let stopped = async {
                            // A closed channel is no stop: wait for the answer then.
                            if stop.wait_for(|stop| *stop).await.is_err() {
                                std::future::pending::<()>().await;
                            }
                        };
                        tokio::select! {
                            outcome = client.send_operation(key, &request) => {
                                reply.send(to_send_outcome(outcome));
                            }
                            () = stopped => reply.abandon(),
                        }
                    });
                }
                // No client for the profile's credential as it is now (a key removed,
                // none stored for a new base URL): the operation goes back unsent and the
                // profile is held. The ledger unreadable: it goes back, nothing held.
                (Err(outcome), _) => {
                    let _ = done_tx.send(Signal::Done(Box::new((op, *outcome))));
                }
                (_, Err(reason)) => {
                    let raw = String::new();
                    let _ = done_tx.send(Signal::Done(Box::new((
                        op,
                        SendOutcome::Refused { reason, raw },
                    ))));
                }
            }
        }

        // Every claim is sent (or its outcome queued for recording) before anything else
        // can fail: a read failing now is reported and retried, and the claims' answers
        // come in meanwhile. Nothing committed `in_flight` is left unsent.
        if recorded_any {
            if self.recount {
                self.refresh_counts(true)?;
            } else if self.control.board.is_some() {
                self.refresh_counts(false)?;
            }
        }

        // 3. Wait for an answer, a signal or the next due time, or stop.
        let wait_ms = if self.in_progress > 0 {
            SYNC_WATCH_POLL_MS
        } else {
            let now_ms = self.clock.now_ms();
            let mut skip = held_now(&self.held, now_ms);
            skip.extend(self.offline.keys().copied());
            let profile = self.profile;
            let next_due = self
                .ledger
                .store()
                .read(|tx| Ok::<_, Error>(outbox::next_due_at(tx, profile, &skip)?))?;
            let due_in_ms = next_due.map(|due| (due - now_ms).max(0) as u64);
            match self.options.mode {
                SyncMode::Once if cancelled || due_in_ms.is_none() => {
                    self.summary.offline |= !self.offline.is_empty();
                    return Ok(Flow::Stop);
                }
                SyncMode::Once => match due_in_ms {
                    Some(0) if claimed_none => return Ok(Flow::Stop),
                    Some(wait) if wait > SYNC_ONCE_MAX_WAIT_MS => return Ok(Flow::Stop),
                    wait => wait.unwrap_or(0),
                },
                SyncMode::Watch => {
                    let mut wait = match due_in_ms {
                        Some(0) if claimed_none => SYNC_WATCH_POLL_MS,
                        Some(due) => due.min(self.control.poll_ms),
                        None => self.control.poll_ms,
                    };
                    // The next probe of an unreachable profile, the end of a hold.
                    let wakes = self
                        .offline
                        .values()
                        .map(|o| o.until_ms)
                        .chain(self.held.iter().map(|h| h.until_ms))
                        .filter(|t| *t > now_ms);
                    if let Some(next) = wakes.min() {
                        wait = wait.min((next - now_ms) as u64);
                    }
                    if due_in_ms != Some(0) && !self.idle {
                        self.idle = true;
                        self.refresh_counts(true)?;
                        self.emit(SyncEvent::Idle {
                            next_due_in_ms: due_in_ms,
                        });
                    }
                    wait
                }
            }
        };
        if wait_ms > 0 {
            let wait = wait_ms.min(self.control.max_wait_ms);
            match self.control.rx.recv_timeout(Duration::from_millis(wait)) {
                Ok(signal) => self.take_signal(signal),
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if self.watching() && self.in_progress == 0 && wait >= self.control.poll_ms {
                        // The poll: work another process queued.
                        self.look_now = true;
                        self.recount = true;
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => return Ok(Flow::Stop),
            }
        }
        Ok(Flow::Continue)
    }

    /// What one recorded answer changes: the summary, the profile's state, the events.
    fn after_record(&mut self, op: &Claimed, recorded: Recorded, now_ms: i64) {
        let name = op.profile.to_string();
        self.summary.blocked += recorded.blocked;
        match recorded.view.status {
            OperationStatus::Succeeded => self.summary.succeeded += 1,
            OperationStatus::Failed => self.summary.failed += 1,
            OperationStatus::NeedsAttention => self.summary.needs_attention += 1,
            _ if recorded.paused.is_none()
                && recorded.held.is_none()
                && !recorded.offline
                && !recorded.local =>
            {
                self.summary.retried += 1
            }
            _ => {}
        }
        if matches!(
            recorded.view.status,
            OperationStatus::Succeeded | OperationStatus::Failed | OperationStatus::NeedsAttention
        ) {
            // The operation and those it blocked are no longer outstanding.
            self.outstanding = self.outstanding.saturating_sub(1 + recorded.blocked);
            if let Some(board) = &self.control.board {
                board.done(op.profile_id, 1 + recorded.blocked);
            }
        }
        if recorded.offline {
            let until = now_ms + SYNC_OFFLINE_RETRY_MS as i64;
            let was = self.offline.insert(
                op.profile_id,
                Offline {
                    until_ms: until,
                    probing: false,
                },
            );
            self.online.remove(&op.profile_id);
            // Once when the profile goes offline, and after each probe that failed.
            if was.is_none_or(|o| o.probing) {
                self.set_connection(op.profile_id, &name, super::Connection::Offline, None);
                self.emit(SyncEvent::Offline {
                    retry_in_ms: SYNC_OFFLINE_RETRY_MS,
                    profile: name.clone(),
                });
            }
        } else if recorded.paused.is_none() && recorded.held.is_none() && !recorded.local {
            // Ottu answered: this profile's network is back.
            let was_offline = self.offline.remove(&op.profile_id).is_some();
            if self.online.insert(op.profile_id) || was_offline {
                self.set_connection(op.profile_id, &name, super::Connection::Online, None);
                self.emit(SyncEvent::Online {
                    profile: name.clone(),
                });
            }
        }
        let until = now_ms + self.options.held_retry_ms as i64;
        if let Some(reason) = &recorded.held {
            self.clients.remove(&op.profile_id);
            let code = outcome_code(&recorded.view);
            self.hold(op.profile_id, &name, reason.clone(), code, until);
        } else if recorded.paused.is_none() && !recorded.offline && !recorded.local {
            // The profile was served after all: it is no longer held.
            self.held.retain(|h| h.id != op.profile_id);
        }
        if let Some(reason) = &recorded.paused {
            // A fixed key must get a fresh client, however often the profile paused.
            self.clients.remove(&op.profile_id);
            self.online.remove(&op.profile_id);
            self.offline.remove(&op.profile_id);
            if self.paused.insert(op.profile_id) {
                self.recount = true;
                self.set_connection(
                    op.profile_id,
                    &name,
                    super::Connection::Paused,
                    Some((reason, &outcome_code(&recorded.view))),
                );
                self.emit(SyncEvent::Paused {
                    profile: name.clone(),
                    reason: reason.clone(),
                    code: recorded.view.code.clone(),
                    params: recorded.view.params.clone(),
                });
            }
        }
        self.emit(SyncEvent::Recorded(recorded.view.clone()));
        if self.summary.outcomes.len() < SYNC_MAX_REPORTED_OUTCOMES {
            self.summary.outcomes.push(recorded.view);
        } else {
            self.summary.outcomes_truncated = true;
        }
    }

    fn finish(mut self) -> Result<SyncSummary> {
        if let Some(board) = &self.control.board {
            board.set_running(false);
        }
        if let Some(error) = self.keyring_failure.take() {
            // Exit 1 for this run, nothing stored about any profile; what was recorded
            // before stays recorded, and what was not claimed waits in the queue for the
            // next run.
            return Err(match error {
                ConnectError::Keyring(error) => Error::Secrets(error),
                other => Error::Unavailable {
                    code: "secrets.unavailable",
                    message: other.to_string(),
                },
            });
        }
        let profile = self.profile;
        let held = &self.held;
        let (remaining, stored) = self.ledger.store().read(|tx| {
            let remaining = outbox::waiting(tx, profile)?;
            let mut stored = outbox::paused_profiles(tx, profile)?;
            for h in held {
                if stored.iter().any(|p| p.id == h.id) {
                    continue;
                }
                stored.push(outbox::PausedProfile {
                    id: h.id,
                    name: h.name.clone(),
                    reason: h.reason.clone(),
                    since_ms: None,
                    waiting: outbox::waiting(tx, Some(h.id))?,
                });
            }
            Ok::<_, Error>((remaining, stored))
        })?;
        let mut summary = std::mem::take(&mut self.summary);
        summary.remaining = remaining;
        let run_only: HashSet<ProfileId> = self.held.iter().map(|h| h.id).collect();
        summary.paused_profiles = stored
            .into_iter()
            .map(|p| PausedProfileView {
                this_run_only: run_only.contains(&p.id) && p.since_ms.is_none(),
                profile: p.name,
                reason: p.reason,
                since: p.since_ms.map(format_ms),
                queued: p.waiting,
            })
            .collect();
        summary.paused = summary
            .paused_profiles
            .iter()
            .map(|p| (p.profile.clone(), p.reason.clone()))
            .collect();
        summary.offline = summary.offline || !self.offline.is_empty();
        self.emit(SyncEvent::Finished(summary.clone()));
        Ok(summary)
    }
}

/// Records one answer. A 401/403 to a request sent with a credential the merchant has
/// replaced since (the profile's generation moved on) says nothing about the new one: the
/// operation goes back to the queue, due at once, and the profile is not paused.
fn record_one(
    tx: &rusqlite::Transaction<'_>,
    ctx: &RecordContext<'_>,
    op: &Claimed,
    outcome: &SendOutcome,
) -> Result<Recorded> {
    if matches!(outcome, SendOutcome::Auth { .. })
        && outbox::credential_gen(tx, op.profile_id)? != op.credential_gen
    {
        return record_superseded(tx, ctx, op);
    }
    record::record(tx, ctx, op, outcome)
}

fn record_superseded(
    tx: &rusqlite::Transaction<'_>,
    ctx: &RecordContext<'_>,
    op: &Claimed,
) -> Result<Recorded> {
    let stored = Stored::credential_changed();
    let reason = &stored.message();
    record::requeue(tx, ctx, op, reason, &stored, None)?;
    let (code, params) = stored.event_fields();
    store::events::append(
        tx,
        &EventInsert {
            at_ms: ctx.now_ms,
            actor: ctx.actor,
            action: "operation.credential_changed",
            entity: "operation",
            entity_id: op.id.0,
            payment_id: Some(op.payment_id),
            before: Some(json!({"status": OperationStatus::InFlight, "attempt": op.attempt})),
            after: Some(json!({
                "status": OperationStatus::Queued, "reason": reason, "code": code, "params": params,
            })),
        },
    )?;
    let mut recorded = Recorded::queued(op);
    recorded.view.detail = reason.to_string();
    record::coded(&mut recorded.view, &stored);
    Ok(recorded)
}

/// A reason's code and params, when it has them.
pub(crate) type Code = Option<(String, crate::error::Params)>;

fn outcome_code(view: &OperationOutcomeView) -> Code {
    Some((view.code.clone()?, view.params.clone().unwrap_or_default()))
}

/// The profiles held at `now_ms`.
fn held_now(held: &[Held], now_ms: i64) -> Vec<ProfileId> {
    held.iter()
        .filter(|h| h.until_ms > now_ms)
        .map(|h| h.id)
        .collect()
}

/// Lifts the pauses earlier versions stored for a condition of the machine (no keyring
/// from cron, no credential in it), with an event each: see `outbox::lift_local_pauses`.
fn lift_local_pauses(
    tx: &rusqlite::Transaction<'_>,
    now_ms: i64,
    actor: &str,
    profile: Option<ProfileId>,
) -> Result<()> {
    for (id, reason) in outbox::lift_local_pauses(tx, profile)? {
        store::events::append(
            tx,
            &EventInsert {
                at_ms: now_ms,
                actor,
                action: "profile.resumed",
                entity: "profile",
                entity_id: id.0,
                payment_id: None,
                before: Some(serde_json::json!({"paused_reason": reason})),
                after: Some(serde_json::json!({
                    "paused_reason": null,
                    "why": "a pause for a condition of this machine, not Ottu's answer: it is checked again on each run",
                })),
            },
        )?;
    }
    Ok(())
}
