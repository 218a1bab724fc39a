//! `import_start`, `job_cancel`.

use tauri::State;

use super::{Reply, Req};
use crate::contract::{ImportStart, JobRef, JobStarted};
use crate::jobs;
use crate::state::Shared;

/// Starts an import; its progress and result come as `import-progress` and
/// `import-finished` events naming the job. Only session ids: the window cannot make the
/// app read a file.
#[tauri::command]
pub async fn import_start(
    state: State<'_, Shared>,
    request: Req<ImportStart>,
) -> Reply<JobStarted> {
    let request = request.get()?;
    let job = jobs::start_import(&state, request.into()).await?;
    Ok(JobStarted { job })
}

#[tauri::command]
pub fn job_cancel(state: State<'_, Shared>, request: Req<JobRef>) -> Reply<()> {
    let request = request.get()?;
    jobs::cancel(&state, request.job);
    Ok(())
}
