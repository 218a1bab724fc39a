//! Long jobs (imports, report imports, reconciliations, exports): each gets a number, a cancel flag the UI can set (`job_cancel`),
//! progress and a result as events. The job runs on its own `Ledger` on the blocking pool
//! (`ImportJob::run_async`); the commands' ledger is held only to make it.

use std::sync::Arc;

use daftar::import::{ImportJob, ImportRequest};

use crate::contract::{
    ExportFinishedEvent, ExportProgressEvent, ImportFinishedEvent, ImportProgressEvent,
    ReconcileFinishedEvent, ReconcileProgressEvent, ReportFinishedEvent, ReportProgressEvent,
};
use crate::events;
use crate::state::{Shared, lock, with_ledger};

/// Makes the job (the commands' ledger held for that only) and gives it a number.
pub async fn prepare_import(
    state: &Shared,
    request: ImportRequest,
) -> Result<(u64, ImportJob), daftar::ErrorView> {
    let job = with_ledger(state, move |ledger| ledger.import_job(request)).await?;
    let id = state.next_job();
    lock(&state.jobs).insert(id, job.cancel_flag());
    Ok((id, job))
}

/// Runs the job to its end, sending `import-progress` and then `import-finished`.
pub async fn run_import(state: Shared, id: u64, job: ImportJob) -> ImportFinishedEvent {
    let ui = state.ui.clone();
    let result = job
        .run_async(move |progress| {
            ui.emit(
                events::IMPORT_PROGRESS,
                &ImportProgressEvent {
                    job: id,
                    progress: *progress,
                },
            )
        })
        .await;
    lock(&state.jobs).remove(&id);
    let finished = match result {
        Ok(summary) => ImportFinishedEvent {
            job: id,
            error: summary.error().map(|e| e.view()),
            summary: Some(summary),
        },
        Err(error) => ImportFinishedEvent {
            job: id,
            summary: None,
            error: Some(error.view()),
        },
    };
    state.ui.emit(events::IMPORT_FINISHED, &finished);
    finished
}

/// Starts the job in the background; its number is returned at once.
pub async fn start_import(
    state: &Shared,
    request: ImportRequest,
) -> Result<u64, daftar::ErrorView> {
    let (id, job) = prepare_import(state, request).await?;
    tauri::async_runtime::spawn(run_import(Arc::clone(state), id, job));
    Ok(id)
}

/// Asks job `id` to stop (within `IMPORT_CANCEL_POLL_MS`); a job that already ended is
/// left alone.
pub fn cancel(state: &Shared, id: u64) {
    if let Some(flag) = lock(&state.jobs).get(&id) {
        flag.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Starts a reconciliation on its own handle on the ledger (the blocking pool); its number
/// is returned at once, its progress and result come as `reconcile-progress` and
/// `reconcile-finished`.
pub async fn start_reconcile(
    state: &Shared,
    request: daftar::reconcile::ReconcileRequest,
) -> Result<u64, daftar::ErrorView> {
    let job = with_ledger(state, move |ledger| ledger.reconcile_job(request)).await?;
    let id = state.next_job();
    lock(&state.jobs).insert(id, job.cancel_flag());
    let state = Arc::clone(state);
    tauri::async_runtime::spawn(async move {
        let ui = state.ui.clone();
        let result = job
            .run_async(move |progress| {
                ui.emit(
                    events::RECONCILE_PROGRESS,
                    &ReconcileProgressEvent {
                        job: id,
                        progress: *progress,
                    },
                )
            })
            .await;
        lock(&state.jobs).remove(&id);
        let (summary, error) = split(result);
        state.ui.emit(
            events::RECONCILE_FINISHED,
            &ReconcileFinishedEvent {
                job: id,
                summary,
                error,
            },
        );
    });
    Ok(id)
}

/// Starts an export to `path` (reserved by the caller, removed again when the export
/// fails or is cancelled); `export-progress`, then `export-finished`.
pub async fn start_export(
    state: &Shared,
    request: daftar::export::ExportRequest,
    path: std::path::PathBuf,
) -> Result<u64, daftar::ErrorView> {
    let reserved = path.clone();
    let made = with_ledger(state, move |ledger| ledger.export_job(request)).await;
    let job = match made {
        Ok(job) => job,
        Err(error) => {
            let _ = std::fs::remove_file(&reserved);
            return Err(error);
        }
    };
    let id = state.next_job();
    lock(&state.jobs).insert(id, job.cancel_flag());
    let state = Arc::clone(state);
    tauri::async_runtime::spawn(async move {
        let ui = state.ui.clone();
        let result = crate::state::blocking(move || {
            job.run(|progress| {
                ui.emit(
                    events::EXPORT_PROGRESS,
                    &ExportProgressEvent {
                        job: id,
                        progress: *progress,
                    },
                )
            })
            .map_err(|e| e.view())
        })
        .await;
        lock(&state.jobs).remove(&id);
        if result.is_err() {
            let _ = std::fs::remove_file(&path);
        }
        let (summary, error) = match result {
            Ok(s) => (Some(s), None),
            Err(e) => (None, Some(e)),
        };
        state.ui.emit(
            events::EXPORT_FINISHED,
            &ExportFinishedEvent {
                job: id,
                summary,
                error,
            },
        );
    });
    Ok(id)
}

/// Starts a report import on its own handle on the ledger; `report-progress`, then
/// `report-finished`. `rejects`, a file reserved for the rejected rows, is removed again
/// when the import wrote none there.
pub async fn start_report_import(
    state: &Shared,
    request: daftar::import::report::ReportImportRequest,
    rejects: Option<std::path::PathBuf>,
) -> Result<u64, daftar::ErrorView> {
    let made = with_ledger(state, move |ledger| {
        daftar::import::report::ReportImportJob::new(ledger, request)
    })
    .await;
    let job = match made {
        Ok(job) => job,
        Err(error) => {
            if let Some(path) = &rejects {
                let _ = std::fs::remove_file(path);
            }
            return Err(error);
        }
    };
    let id = state.next_job();
    let cancel = Arc::new(std::sync::atomic::AtomicBool::new(false));
    lock(&state.jobs).insert(id, Arc::clone(&cancel));
    let state = Arc::clone(state);
    tauri::async_runtime::spawn(async move {
        let ui = state.ui.clone();
        let result = crate::state::blocking(move || {
            job.run(
                |progress| {
                    ui.emit(
                        events::REPORT_PROGRESS,
                        &ReportProgressEvent { job: id, progress },
                    )
                },
                &cancel,
            )
            .map_err(|e| e.view())
        })
        .await;
        lock(&state.jobs).remove(&id);
        if let Some(path) = &rejects {
            let written = result
                .as_ref()
                .ok()
                .and_then(|s| s.rejects_file.as_deref())
                .is_some_and(|f| std::path::Path::new(f) == path.as_path());
            if !written {
                let _ = std::fs::remove_file(path);
            }
        }
        let (summary, error) = match result {
            Ok(s) => (Some(s), None),
            Err(e) => (None, Some(e)),
        };
        state.ui.emit(
            events::REPORT_FINISHED,
            &ReportFinishedEvent {
                job: id,
                summary,
                error,
            },
        );
    });
    Ok(id)
}

/// A job's result as its finished event carries it.
fn split<T>(result: daftar::Result<T>) -> (Option<T>, Option<daftar::ErrorView>) {
    match result {
        Ok(value) => (Some(value), None),
        Err(error) => (None, Some(error.view())),
    }
}
