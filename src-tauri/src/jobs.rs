//! Long jobs (imports): each gets a number, a cancel flag the UI can set (`job_cancel`),
//! progress and a result as events. The job runs on its own `Ledger` on the blocking pool
//! (`ImportJob::run_async`); the commands' ledger is held only to make it.

use std::sync::Arc;

use daftar::import::{ImportJob, ImportRequest};

use crate::contract::{ImportFinishedEvent, ImportProgressEvent};
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
