//! The sync service: the outbox worker for a long-running process (the desktop app).
//!
//! [`SyncService::start`] opens the worker's own [`Ledger`] on the ledger file (WAL lets it
//! write while the caller's `Ledger`, usually behind a `Mutex`, serves commands), takes the
//! sync lock, recovers what a stopped run left `in_flight`, and runs the worker on its own
//! thread until [`SyncHandle::stop`]. The handle wakes it when the caller queued work
//! ([`SyncHandle::wake`]: picked up at once, not at the next poll), and reads its status
//! ([`SyncHandle::status`]) from a board the worker publishes to, without touching the
//! ledger.
//!
//! Stopping abandons requests in flight: each task drops its request at once, and the
//! operations stay `in_flight` in SQLite. That is the state a crash leaves, and the next
//! start's recovery resends each with its own Tracking-Key, which Ottu answers with the
//! first attempt's result if that one had arrived: abandoning never applies anything twice.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::worker::{self, Control, Signal};
use super::{Connection, SyncDeps, SyncEvent, SyncMode, SyncOptions, SyncSummary};
use crate::error::stored::StoredCode;
use crate::error::{Error, Params, Result};
use crate::ledger::Ledger;
use crate::limits::{SYNC_SERVICE_POLL_MS, SYNC_STOP_WAIT_MS, SYNC_STORE_BUSY_TIMEOUT_MS};
use crate::ottu::ClientConfig;
use crate::secrets::{KeyringStore, SecretStore};
use crate::sources::{Clock, Random, RandomKeys, SplitMix, SystemClock};
use crate::store::Store;
use crate::store::outbox::ProfileQueue;

/// What the service needs to open its own `Ledger` and run.
pub struct SyncServiceConfig {
    /// The ledger file the caller's own `Ledger` is open on.
    pub path: PathBuf,
    /// Who the audit trail names (`sync:` is put before it), as for the caller's `Ledger`.
    pub actor: String,
    /// Where HTTP attempts run (e.g. the desktop shell's tokio runtime).
    pub runtime: tokio::runtime::Handle,
    pub client_config: ClientConfig,
    /// Where credentials live: the OS keyring unless the caller injects one (the same
    /// store its own `Ledger` uses, so a key it sets is the key the worker reads).
    pub secrets: Arc<dyn SecretStore>,
    pub clock: Arc<dyn Clock>,
    pub random: Arc<dyn Random>,
    /// Watch mode, polling every `SYNC_SERVICE_POLL_MS`, unless changed.
    pub options: SyncOptions,
    /// How long the worker's connection waits for another writer's lock before the call
    /// fails (reported as `store_error` and retried).
    pub store_busy_timeout: Duration,
}

impl SyncServiceConfig {
    pub fn new(
        path: impl Into<PathBuf>,
        actor: &str,
        runtime: tokio::runtime::Handle,
    ) -> SyncServiceConfig {
        SyncServiceConfig {
            path: path.into(),
            actor: actor.to_string(),
            runtime,
            client_config: ClientConfig::default(),
            secrets: Arc::new(KeyringStore::new()),
            clock: Arc::new(SystemClock),
            random: Arc::new(SplitMix::from_entropy()),
            options: SyncOptions {
                mode: SyncMode::Watch,
                poll_ms: SYNC_SERVICE_POLL_MS,
                ..SyncOptions::default()
            },
            store_busy_timeout: Duration::from_millis(SYNC_STORE_BUSY_TIMEOUT_MS),
        }
    }
}

/// Starts the worker in the background.
pub struct SyncService;

impl SyncService {
    /// Opens the worker's own `Ledger`, takes the sync lock and recovers interrupted
    /// attempts before returning; an error there (another sync running, a ledger that
    /// cannot be opened) is returned here and nothing runs. Events go to `on_event`, on
    /// the worker's thread: keep it short (send them on, e.g. to the UI).
    pub fn start(
        config: SyncServiceConfig,
        on_event: impl FnMut(&SyncEvent) + Send + 'static,
    ) -> Result<SyncHandle> {
        let mut ledger = Ledger::with_sources(
            Store::open(&config.path)?,
            Arc::clone(&config.clock),
            Arc::new(RandomKeys),
            &config.actor,
        )
        .with_secret_store(Arc::clone(&config.secrets));
        ledger
            .store()
            .connection()
            .busy_timeout(config.store_busy_timeout)
            .map_err(|e| Error::Store(e.into()))?;
        let (tx, rx) = mpsc::channel();
        let (stop_tx, tasks_stop) = tokio::sync::watch::channel(false);
        let stop_tx = Arc::new(stop_tx);
        let (started_tx, started_rx) = mpsc::sync_channel(1);
        let abandon = Arc::new(AtomicBool::new(false));
        let board = Arc::new(Board::new(Arc::clone(&config.clock)));
        let mut control = Control {
            tx: tx.clone(),
            rx,
            abandon: Arc::clone(&abandon),
            tasks_stop,
            tasks_stop_tx: Arc::clone(&stop_tx),
            max_wait_ms: config.options.poll_ms.max(1),
            poll_ms: config.options.poll_ms.max(1),
            started: Some(started_tx),
            board: Some(Arc::clone(&board)),
        };
        let deps = SyncDeps {
            runtime: config.runtime,
            client_config: config.client_config,
            random: config.random,
            cancel: Arc::new(AtomicBool::new(false)),
        };
        let options = config.options;
        let (done_tx, done_rx) = mpsc::sync_channel(1);
        let thread_board = Arc::clone(&board);
        let mut on_event = on_event;
        let thread = std::thread::Builder::new()
            .name("daftar-sync".into())
            .spawn(move || {
                let result =
                    worker::run_with(&mut ledger, &deps, &options, &mut control, &mut on_event);
                thread_board.set_running(false);
                let _ = done_tx.send(result);
            })
            .map_err(|e| Error::Unavailable {
                code: "sync.thread",
                message: format!("cannot start the sync worker's thread: {e}"),
            })?;
        if started_rx.recv().is_err() {
            // The worker ended before its loop started: its error says why.
            let result = done_rx.recv().unwrap_or_else(|_| {
                Err(Error::Unavailable {
                    code: "sync.thread",
                    message: "the sync worker stopped before it started".into(),
                })
            });
            let _ = thread.join();
            return Err(result.err().unwrap_or_else(|| Error::Unavailable {
                code: "sync.thread",
                message: "the sync worker stopped before it started".into(),
            }));
        }
        Ok(SyncHandle {
            tx,
            abandon,
            tasks_stop: stop_tx,
            board,
            done: done_rx,
            thread: Some(thread),
        })
    }
}

/// A running worker. Dropping it stops the worker like [`SyncHandle::stop`] without waiting.
pub struct SyncHandle {
    tx: mpsc::Sender<Signal>,
    abandon: Arc<AtomicBool>,
    tasks_stop: Arc<tokio::sync::watch::Sender<bool>>,
    board: Arc<Board>,
    done: mpsc::Receiver<Result<SyncSummary>>,
    thread: Option<JoinHandle<()>>,
}

/// How a stop ended.
#[derive(Debug)]
pub struct Stopped {
    /// The run's summary (also sent as the `finished` event) or the error that ended it;
    /// `None` when the worker was still inside a store call at the deadline: it ends right
    /// after that call, and sends nothing more.
    pub result: Option<Result<SyncSummary>>,
    /// How long `stop` took.
    pub took: Duration,
}

impl SyncHandle {
    /// New work was queued (or a key set): the worker looks at once.
    pub fn wake(&self) {
        let _ = self.tx.send(Signal::Wake);
    }

    /// What the worker is doing, from what it last published (no ledger access).
    pub fn status(&self) -> SyncStatus {
        self.board.snapshot()
    }

    /// Stops the worker at once: requests in flight are dropped (they stay `in_flight`
    /// and the next start resends them with their keys), nothing more is claimed. Returns
    /// within `SYNC_STOP_WAIT_MS`: a worker still inside a store call then (waiting out
    /// another writer's lock, at most its busy timeout) is not waited for: it ends right
    /// after that call, releasing the sync lock, and `Stopped::result` is `None`.
    pub fn stop(mut self) -> Stopped {
        let started = Instant::now();
        self.signal_stop();
        let result = self
            .done
            .recv_timeout(Duration::from_millis(SYNC_STOP_WAIT_MS))
            .ok();
        if result.is_some()
            && let Some(thread) = self.thread.take()
        {
            let _ = thread.join();
        }
        Stopped {
            result,
            took: started.elapsed(),
        }
    }

    fn signal_stop(&self) {
        self.abandon.store(true, Ordering::SeqCst);
        self.tasks_stop.send_replace(true);
        let _ = self.tx.send(Signal::Stop);
    }
}

impl Drop for SyncHandle {
    fn drop(&mut self) {
        if self.thread.is_some() {
            self.signal_stop();
        }
    }
}

/// The worker's state for a UI: running, each profile's connection and queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct SyncStatus {
    pub running: bool,
    /// As the last `outstanding` event said.
    pub outstanding: u64,
    /// The last store call failed with this (it is being retried); `null` once one works.
    pub store_error: Option<String>,
    /// `store_error`'s code (`store.busy`, …) and the values it is made from.
    pub store_error_code: Option<String>,
    pub store_error_params: Option<Params>,
    /// Every profile in the worker's scope, by name.
    pub profiles: Vec<ProfileSyncStatus>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct ProfileSyncStatus {
    pub profile: String,
    pub connection: Connection,
    /// Why the profile's queue waits, when paused (stored) or held (this run).
    pub paused_reason: Option<String>,
    /// `paused_reason`'s code and the values it is made from, for a UI's own words;
    /// `null` without one (a pause stored before codes were).
    pub paused_code: Option<String>,
    pub paused_params: Option<Params>,
    /// Operations queued or in flight.
    pub waiting: u64,
    /// How long the oldest of them has waited since it was queued.
    pub oldest_queued_age_ms: Option<u64>,
}

struct Entry {
    name: String,
    connection: Connection,
    /// Why held or paused in this run, with its code and params.
    reason: Option<(String, worker::Code)>,
    stored_pause: Option<String>,
    stored_pause_code: Option<StoredCode>,
    waiting: u64,
    oldest_queued_at_ms: Option<i64>,
}

struct BoardState {
    running: bool,
    outstanding: u64,
    /// Message, code, params.
    store_error: Option<(String, String, Params)>,
    profiles: BTreeMap<i64, Entry>,
}

/// What the worker publishes for `status()`: written by the worker thread, read by any.
pub(crate) struct Board {
    clock: Arc<dyn Clock>,
    state: Mutex<BoardState>,
}

impl Board {
    fn new(clock: Arc<dyn Clock>) -> Board {
        Board {
            clock,
            state: Mutex::new(BoardState {
                running: true,
                outstanding: 0,
                store_error: None,
                profiles: BTreeMap::new(),
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, BoardState> {
        // A panic elsewhere leaves plain numbers behind: still worth showing.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn entry<'a>(state: &'a mut BoardState, id: i64, name: &str) -> &'a mut Entry {
        state.profiles.entry(id).or_insert_with(|| Entry {
            name: name.to_string(),
            connection: Connection::Unknown,
            reason: None,
            stored_pause: None,
            stored_pause_code: None,
            waiting: 0,
            oldest_queued_at_ms: None,
        })
    }

    pub(crate) fn set_running(&self, running: bool) {
        self.state().running = running;
    }

    pub(crate) fn set_outstanding(&self, total: u64) {
        self.state().outstanding = total;
    }

    pub(crate) fn store_error(&self, error: Option<(String, String, Params)>) {
        self.state().store_error = error;
    }

    pub(crate) fn set_connection(
        &self,
        id: crate::model::ProfileId,
        name: &str,
        connection: Connection,
        reason: Option<(String, worker::Code)>,
    ) {
        let mut state = self.state();
        let entry = Board::entry(&mut state, id.0, name);
        entry.connection = connection;
        entry.reason = reason;
    }

    /// `count` of the profile's operations left the queue (an outcome recorded, and what
    /// it blocked): its waiting number follows at once; its oldest age at the next read.
    pub(crate) fn done(&self, id: crate::model::ProfileId, count: u64) {
        if let Some(entry) = self.state().profiles.get_mut(&id.0) {
            entry.waiting = entry.waiting.saturating_sub(count);
            if entry.waiting == 0 {
                entry.oldest_queued_at_ms = None;
            }
        }
    }

    pub(crate) fn set_queues(&self, queues: Vec<ProfileQueue>, outstanding: u64) {
        let mut state = self.state();
        state.outstanding = outstanding;
        for q in queues {
            let entry = Board::entry(&mut state, q.id.0, &q.name);
            entry.name = q.name;
            entry.waiting = q.waiting;
            entry.oldest_queued_at_ms = q.oldest_queued_at_ms;
            entry.stored_pause = q.paused_reason;
            entry.stored_pause_code = q.paused_code;
        }
    }

    fn snapshot(&self) -> SyncStatus {
        let now_ms = self.clock.now_ms();
        let state = self.state();
        let mut profiles: Vec<ProfileSyncStatus> = state
            .profiles
            .values()
            .map(|e| {
                let (paused_reason, code) = match (&e.stored_pause, &e.reason) {
                    (Some(text), _) => (
                        Some(text.clone()),
                        e.stored_pause_code
                            .as_ref()
                            .map(|c| (c.code.clone(), c.params.clone())),
                    ),
                    (None, Some((text, code))) => (Some(text.clone()), code.clone()),
                    (None, None) => (None, None),
                };
                let (paused_code, paused_params) = code.unzip();
                ProfileSyncStatus {
                    profile: e.name.clone(),
                    connection: if e.stored_pause.is_some() {
                        Connection::Paused
                    } else {
                        e.connection
                    },
                    paused_reason,
                    paused_code,
                    paused_params,
                    waiting: e.waiting,
                    oldest_queued_age_ms: e
                        .oldest_queued_at_ms
                        .map(|at| now_ms.saturating_sub(at).max(0) as u64),
                }
            })
            .collect();
        profiles.sort_by(|a, b| a.profile.cmp(&b.profile));
        SyncStatus {
            running: state.running,
            outstanding: state.outstanding,
            store_error: state.store_error.as_ref().map(|e| e.0.clone()),
            store_error_code: state.store_error.as_ref().map(|e| e.1.clone()),
            store_error_params: state.store_error.as_ref().map(|e| e.2.clone()),
            profiles,
        }
    }
}
