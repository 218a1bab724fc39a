//! Events to the window: the sync worker's `SyncEvent`s, the sync state, import progress
//! and results, the demo's status. [`Ui`] is the app handle with its runtime type erased,
//! so the state, the worker's callback and the jobs need not be generic over it.

use std::sync::Arc;

use serde::Serialize;
use tauri::{AppHandle, Emitter, Runtime};

/// The core's `SyncEvent`, as the worker sends it.
pub const SYNC_EVENT: &str = "sync-event";
/// `SyncState`, whenever the merchant pauses or resumes or the worker starts or stops.
pub const SYNC_STATE: &str = "sync-state";
/// `ImportProgressEvent`.
pub const IMPORT_PROGRESS: &str = "import-progress";
/// `ImportFinishedEvent`.
pub const IMPORT_FINISHED: &str = "import-finished";
/// `ReportProgressEvent`, `ReportFinishedEvent`.
pub const REPORT_PROGRESS: &str = "report-progress";
pub const REPORT_FINISHED: &str = "report-finished";
/// `ReconcileProgressEvent`, `ReconcileFinishedEvent`.
pub const RECONCILE_PROGRESS: &str = "reconcile-progress";
pub const RECONCILE_FINISHED: &str = "reconcile-finished";
/// `ExportProgressEvent`, `ExportFinishedEvent`.
pub const EXPORT_PROGRESS: &str = "export-progress";
pub const EXPORT_FINISHED: &str = "export-finished";
/// `DemoStatus`, whenever it changes.
pub const DEMO_STATUS: &str = "demo-status";

type EmitFn = dyn Fn(&'static str, serde_json::Value) + Send + Sync;
type ExitFn = dyn Fn(i32) + Send + Sync;

/// What the shell's state and threads may do to the app: emit an event, quit.
#[derive(Clone)]
pub struct Ui {
    emit: Arc<EmitFn>,
    exit: Arc<ExitFn>,
}

impl Ui {
    pub fn new<R: Runtime>(app: AppHandle<R>) -> Ui {
        let exit_app = app.clone();
        Ui {
            emit: Arc::new(move |name, payload| {
                if let Err(error) = app.emit(name, payload) {
                    // The window is gone (quitting): nobody to tell.
                    tracing::debug!("event {name} not sent: {error}");
                }
            }),
            exit: Arc::new(move |code| exit_app.exit(code)),
        }
    }

    pub fn emit(&self, name: &'static str, payload: &impl Serialize) {
        match serde_json::to_value(payload) {
            Ok(value) => (self.emit)(name, value),
            Err(error) => tracing::warn!("event {name} not serialisable: {error}"),
        }
    }

    pub fn exit(&self, code: i32) {
        (self.exit)(code)
    }
}
