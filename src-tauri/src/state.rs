//! What the app holds for its whole life: the open ledger (the merchant's, or the demo's
//! while the demo runs) with the commands' `Ledger` behind a mutex, the sync
//! worker (its own `Ledger` on its own thread, `SyncService`), the merchant's pause, the
//! running jobs' cancel flags and the demo. ARCHITECTURE.md "The desktop shell".
//!
//! Locks are std mutexes held only inside blocking sections (`spawn_blocking`), never
//! across an `await`; the sync slot's lock is never held while the worker is stopped or
//! started (both wait for its thread).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use daftar::sync::{SyncEvent, SyncHandle, SyncService, SyncServiceConfig, SyncStatus};
use daftar::{Error, ErrorView, Ledger};

use crate::contract::SyncState;
use crate::demo::Demo;
use crate::events::{self, Ui};

/// Where the app's files are, decided by `main` (or a test) before the app starts.
#[derive(Clone, Debug)]
pub struct AppConfig {
    /// The ledger file, or why there is none (`db.no_home`, `db.empty`...).
    pub ledger_path: Result<PathBuf, ErrorView>,
    /// The log directory in use, if any.
    pub log_dir: Option<PathBuf>,
    /// `DAFTAR_RUN_SMOKE=1`.
    pub smoke: bool,
    /// Start the sync worker with the app (tests of a single command may leave it off).
    pub start_sync: bool,
    /// `DAFTAR_KEYRING_EPHEMERAL=1`: the keyring lives only as long as this run.
    pub keyring_ephemeral: bool,
    /// Where files the window hands over (`report_upload`) are kept for this run: the
    /// app's cache folder (`uploads/`), emptied at start. `None`: filled in by `start`.
    pub uploads_dir: Option<PathBuf>,
    /// Where exports are written: the user's Downloads folder, else the app's data
    /// folder. `None`: filled in by `start`.
    pub exports_dir: Option<PathBuf>,
}

/// A file the window handed over: where the shell keeps it and the name it had.
#[derive(Clone, Debug)]
pub struct UploadFile {
    pub path: PathBuf,
    pub name: String,
}

/// A std mutex's guard even after a panic elsewhere: the data behind these locks (a
/// `Ledger` whose transactions roll back on unwind, flags, handles) stays usable.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// The worker, or why it is not running.
#[derive(Default)]
pub struct SyncSlot {
    pub handle: Option<SyncHandle>,
    pub worker_error: Option<ErrorView>,
}

/// The ledger the commands and the worker use now: the merchant's (`config.ledger_path`)
/// or, while the demo runs, the demo's own file beside it.
pub struct OpenLedger {
    pub path: Result<PathBuf, ErrorView>,
    /// The commands' ledger (each command holds it for one short call), or why it did
    /// not open: every ledger command then returns that.
    pub ledger: Result<Arc<Mutex<Ledger>>, ErrorView>,
    /// This is the demo's ledger.
    pub demo: bool,
}

impl OpenLedger {
    fn open(path: Result<PathBuf, ErrorView>, actor: &str, demo: bool) -> OpenLedger {
        let ledger = path.clone().and_then(|path| {
            Ledger::open(&path, actor)
                .map(|l| Arc::new(Mutex::new(l)))
                .map_err(|e| e.view())
        });
        if let Err(error) = &ledger {
            tracing::error!(
                code = error.code,
                "the ledger cannot be opened: {}",
                error.message
            );
        }
        OpenLedger { path, ledger, demo }
    }
}

/// The state as commands and threads share it.
pub type Shared = Arc<AppState>;

pub struct AppState {
    pub config: AppConfig,
    pub actor: String,
    /// The ledger open now (the merchant's, or the demo's while the demo runs).
    open: Mutex<OpenLedger>,
    pub sync: Arc<Mutex<SyncSlot>>,
    pub paused_by_merchant: Arc<AtomicBool>,
    /// Held while the worker is started or stopped, so two of those never interleave
    /// (the worker's thread never takes it).
    control: Mutex<()>,
    /// Set on exit: the supervisor ([`supervise`]) ends.
    quit: (Mutex<bool>, Condvar),
    pub jobs: Mutex<HashMap<u64, Arc<AtomicBool>>>,
    next_job: AtomicU64,
    /// Files handed over by the window this run, by id (`report_upload`).
    pub uploads: Mutex<HashMap<String, UploadFile>>,
    next_upload: AtomicU64,
    pub demo: Arc<Mutex<Demo>>,
    pub ui: Ui,
    /// The runtime HTTP attempts and jobs run on (tauri's).
    pub runtime: tokio::runtime::Handle,
}

impl AppState {
    /// Opens the ledger (a failure is kept and returned by every ledger command).
    pub fn new(config: AppConfig, ui: Ui, runtime: tokio::runtime::Handle) -> AppState {
        let actor = daftar::actor::actor("app");
        // Always the merchant's ledger at launch, also when the demo ran last time.
        let open = OpenLedger::open(config.ledger_path.clone(), &actor, false);
        let demo = Demo::new(config.ledger_path.as_ref().ok());
        AppState {
            config,
            actor,
            open: Mutex::new(open),
            sync: Arc::new(Mutex::new(SyncSlot::default())),
            paused_by_merchant: Arc::new(AtomicBool::new(false)),
            control: Mutex::new(()),
            quit: (Mutex::new(false), Condvar::new()),
            jobs: Mutex::new(HashMap::new()),
            next_job: AtomicU64::new(1),
            uploads: Mutex::new(HashMap::new()),
            next_upload: AtomicU64::new(1),
            demo: Arc::new(Mutex::new(demo)),
            ui,
            runtime,
        }
    }

    pub fn ledger(&self) -> Result<Arc<Mutex<Ledger>>, ErrorView> {
        lock(&self.open).ledger.clone()
    }

    /// Why the open ledger could not be opened, if it could not.
    pub fn ledger_error(&self) -> Option<ErrorView> {
        lock(&self.open).ledger.as_ref().err().cloned()
    }

    /// The demo's ledger is the open one.
    pub fn in_demo(&self) -> bool {
        lock(&self.open).demo
    }

    /// Makes `path` the open ledger (blocking): the worker is stopped, the ledger opened,
    /// `prepare` run on it (before any worker sees it), and the worker started on it
    /// unless the merchant paused sending. When `prepare` fails the ledger that was open
    /// stays open. Commands that hold the old ledger finish their call on it.
    pub fn switch_ledger<T>(
        &self,
        path: PathBuf,
        demo: bool,
        prepare: impl FnOnce(&mut Ledger) -> Result<T, ErrorView>,
    ) -> Result<T, ErrorView> {
        let control = lock(&self.control);
        self.stop_sync_locked();
        let next = OpenLedger::open(Ok(path), &self.actor, demo);
        let prepared = next
            .ledger
            .clone()
            .and_then(|ledger| prepare(&mut lock(&ledger)));
        // Dropped outside the `open` lock: closing a ledger may wait on SQLite.
        let closed = match &prepared {
            Ok(_) => std::mem::replace(&mut *lock(&self.open), next),
            Err(_) => next,
        };
        drop(closed);
        lock(&self.sync).worker_error = None;
        let _ = self.start_sync_locked(&control);
        prepared
    }

    pub fn next_job(&self) -> u64 {
        self.next_job.fetch_add(1, Ordering::Relaxed)
    }

    pub fn next_upload(&self) -> u64 {
        self.next_upload.fetch_add(1, Ordering::Relaxed)
    }

    /// Work was queued or a key set: the worker looks at once.
    pub fn wake_sync(&self) {
        if let Some(handle) = &lock(&self.sync).handle {
            handle.wake();
        }
    }

    pub fn sync_state(&self) -> SyncState {
        let slot = lock(&self.sync);
        SyncState {
            paused_by_merchant: self.paused_by_merchant.load(Ordering::SeqCst),
            status: slot
                .handle
                .as_ref()
                .map_or_else(stopped_status, SyncHandle::status),
            worker_error: slot.worker_error.clone(),
        }
    }

    /// Starts the worker unless it runs or the merchant paused it (blocking: it opens the ledger, takes the sync
    /// lock and recovers interrupted sends). A failure is kept in the slot and returned.
    pub fn start_sync(&self) -> Result<(), ErrorView> {
        let control = lock(&self.control);
        self.start_sync_locked(&control)
    }

    /// [`AppState::start_sync`] with the control lock held.
    fn start_sync_locked(&self, _control: &MutexGuard<'_, ()>) -> Result<(), ErrorView> {
        let path = self.ledger_path()?;
        self.ledger()?;
        self.reap_locked();
        // A pause that came first wins over the start at launch.
        if self.paused_by_merchant.load(Ordering::SeqCst) || lock(&self.sync).handle.is_some() {
            return Ok(());
        }
        let ui = self.ui.clone();
        let paused = Arc::clone(&self.paused_by_merchant);
        // Weak: the worker's callback must not keep the slot (which holds the worker) alive.
        let slot = Arc::downgrade(&self.sync);
        let config = SyncServiceConfig::new(path, &self.actor, self.runtime.clone());
        let started = SyncService::start(config, move |event| {
            ui.emit(events::SYNC_EVENT, event);
            if let (SyncEvent::Finished(_), Some(slot)) = (event, slot.upgrade()) {
                // The worker is ending (stopped, or on its own): the lights go grey. Safe
                // to lock here: nobody holds the slot while waiting for this thread.
                let mut status = lock(&slot)
                    .handle
                    .as_ref()
                    .map_or_else(stopped_status, SyncHandle::status);
                status.running = false;
                let state = SyncState {
                    paused_by_merchant: paused.load(Ordering::SeqCst),
                    status,
                    worker_error: None,
                };
                ui.emit(events::SYNC_STATE, &state);
            }
        });
        let mut slot = lock(&self.sync);
        match started {
            Ok(handle) => {
                slot.handle = Some(handle);
                slot.worker_error = None;
                Ok(())
            }
            Err(error) => {
                let view = error.view();
                tracing::warn!(
                    code = view.code,
                    "sync worker not started: {}",
                    view.message
                );
                slot.worker_error = Some(view.clone());
                Err(view)
            }
        }
    }

    /// Stops the worker (blocking, at most `SYNC_STOP_WAIT_MS`): what is in flight stays
    /// `in_flight` and is resent with its key at the next start.
    pub fn stop_sync(&self) {
        let _control = lock(&self.control);
        self.stop_sync_locked();
    }

    /// [`AppState::stop_sync`] with the control lock held.
    fn stop_sync_locked(&self) {
        let handle = lock(&self.sync).handle.take();
        if let Some(handle) = handle {
            let stopped = handle.stop();
            tracing::info!(
                took_ms = stopped.took.as_millis() as u64,
                "sync worker stopped"
            );
        }
    }

    /// A worker that ended on its own (its error path) leaves the slot: the handle is
    /// taken out and the error that ended it kept. True when one was reaped. The caller
    /// holds the control lock.
    fn reap_locked(&self) -> bool {
        let dead = {
            let mut slot = lock(&self.sync);
            match &slot.handle {
                Some(handle) if !handle.status().running => slot.handle.take(),
                _ => None,
            }
        };
        let Some(handle) = dead else { return false };
        // The thread has ended (its board says so): stop returns at once with its result.
        let ended = match handle.stop().result {
            Some(Err(error)) => Some(error.view()),
            _ => None,
        };
        if let Some(error) = &ended {
            tracing::warn!(code = error.code, "sync worker ended: {}", error.message);
        }
        lock(&self.sync).worker_error = ended;
        true
    }

    /// Clears the slot of a worker that ended on its own; true when there was one.
    pub fn reap(&self) -> bool {
        let _control = lock(&self.control);
        self.reap_locked()
    }

    /// Whether a worker is running now.
    pub fn worker_alive(&self) -> bool {
        lock(&self.sync)
            .handle
            .as_ref()
            .is_some_and(|h| h.status().running)
    }

    /// `sync_now`: wakes the worker, or starts one when none is alive (unless the
    /// merchant paused sending). Blocking.
    pub fn sync_now(&self) -> Result<(), ErrorView> {
        if self.worker_alive() {
            self.wake_sync();
            return Ok(());
        }
        self.start_sync()
    }

    /// Ends the supervisor (on exit).
    pub fn quit(&self) {
        *lock(&self.quit.0) = true;
        self.quit.1.notify_all();
    }

    /// Waits up to `wait`; true once the app is quitting.
    fn quitting_after(&self, wait: Duration) -> bool {
        let guard = lock(&self.quit.0);
        let (guard, _) = self
            .quit
            .1
            .wait_timeout_while(guard, wait, |quit| !*quit)
            .unwrap_or_else(|e| e.into_inner());
        *guard
    }

    pub fn emit_sync_state(&self) {
        self.ui.emit(events::SYNC_STATE, &self.sync_state());
    }

    /// The open ledger's file.
    pub fn ledger_path(&self) -> Result<PathBuf, ErrorView> {
        lock(&self.open).path.clone()
    }
}

/// Errors that pass by themselves: another process holds the ledger's sync lock (a
/// `daftar sync` in a terminal), the keyring is not unlocked yet.
fn retryable(error: &ErrorView) -> bool {
    matches!(error.code.as_str(), "sync.running" | "secrets.unavailable")
}

/// How often the supervisor looks whether the worker ended on its own.
const SUPERVISE_TICK: Duration = Duration::from_millis(500);
/// How long it waits between two starts that met a passing error.
pub const SUPERVISE_RETRY: Duration = Duration::from_secs(5);

/// The sync worker lives for the app's life: this loop (its own thread, for the app's
/// life) clears the slot of a worker that ended on its own, and starts it again while
/// the reason it is not running is one that passes ([`retryable`]), every
/// [`SUPERVISE_RETRY`], sending `sync-state` each time. A merchant's pause is left alone.
/// Holds the state weakly: it ends with the app.
pub fn supervise(state: Weak<AppState>) {
    let mut next_try = Instant::now() + SUPERVISE_RETRY;
    loop {
        let Some(state) = state.upgrade() else { return };
        if state.quitting_after(SUPERVISE_TICK) {
            return;
        }
        if state.reap() {
            state.emit_sync_state();
            next_try = Instant::now() + SUPERVISE_RETRY;
        }
        let waiting = {
            let slot = lock(&state.sync);
            slot.handle.is_none() && slot.worker_error.as_ref().is_some_and(retryable)
        };
        if waiting && Instant::now() >= next_try && !state.paused_by_merchant.load(Ordering::SeqCst)
        {
            let _ = state.start_sync();
            state.emit_sync_state();
            next_try = Instant::now() + SUPERVISE_RETRY;
        }
    }
}

/// The board of a worker that is not running.
fn stopped_status() -> SyncStatus {
    SyncStatus {
        running: false,
        outstanding: 0,
        store_error: None,
        store_error_code: None,
        store_error_params: None,
        profiles: Vec::new(),
    }
}

/// A background task of the app stopped unexpectedly (it panicked).
pub fn task_failed(error: impl std::fmt::Display) -> ErrorView {
    Error::Unavailable {
        code: "app.task_failed",
        message: format!("a background task of the app stopped unexpectedly: {error}"),
    }
    .view()
}

/// Runs `f` on the blocking pool: ledger and keyring work never runs on the main thread
/// or an async worker.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ErrorView> + Send + 'static,
) -> Result<T, ErrorView> {
    tauri::async_runtime::spawn_blocking(f)
        .await
        .map_err(task_failed)?
}

/// One call on the commands' ledger, on the blocking pool, the lock held for that call
/// only.
pub async fn with_ledger<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&mut Ledger) -> daftar::Result<T> + Send + 'static,
) -> Result<T, ErrorView> {
    let ledger = state.ledger()?;
    blocking(move || f(&mut lock(&ledger)).map_err(|e| e.view())).await
}
