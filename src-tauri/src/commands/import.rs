//! `import_start`, `job_cancel`.

use daftar::import::ImportRequest;
use tauri::State;

use super::Reply;
use crate::contract::{JobRef, JobStarted};
use crate::jobs;
use crate::state::Shared;

/// Starts an import; its progress and result come as `import-progress` and
/// `import-finished` events naming the job.
#[tauri::command]
pub async fn import_start(state: State<'_, Shared>, request: ImportRequest) -> Reply<JobStarted> {
    let job = jobs::start_import(&state, request).await?;
    Ok(JobStarted { job })
}

#[tauri::command]
pub fn job_cancel(state: State<'_, Shared>, request: JobRef) -> Reply<()> {
    jobs::cancel(&state, request.job);
    Ok(())
}
