//! `preview_operation`, `queue_operation`, `list_queue`, `retry_operation`,
//! `resend_operation`, `drop_operation`, `status`. What queues work wakes the sync worker.

use daftar::ledger::{
    OperationPage, OperationView, QueueQuery, QueueRequest, QueuedView, RetryRequest, StatusReport,
};
use tauri::State;

use super::{Reply, Req};
use crate::contract::{DropRequest, OperationRef};
use crate::state::{Shared, with_ledger};

#[tauri::command]
pub async fn preview_operation(
    state: State<'_, Shared>,
    request: Req<QueueRequest>,
) -> Reply<Option<String>> {
    let request = request.get()?;
    with_ledger(&state, move |l| l.preview(&request)).await
}

#[tauri::command]
pub async fn queue_operation(
    state: State<'_, Shared>,
    request: Req<QueueRequest>,
) -> Reply<QueuedView> {
    let request = request.get()?;
    let queued = with_ledger(&state, move |l| l.queue(&request)).await?;
    state.wake_sync();
    Ok(queued)
}

#[tauri::command]
pub async fn list_queue(
    state: State<'_, Shared>,
    request: Req<QueueQuery>,
) -> Reply<OperationPage> {
    let request = request.get()?;
    with_ledger(&state, move |l| l.queue_list(&request)).await
}

#[tauri::command]
pub async fn retry_operation(
    state: State<'_, Shared>,
    request: Req<RetryRequest>,
) -> Reply<QueuedView> {
    let request = request.get()?;
    let queued = with_ledger(&state, move |l| l.retry_operation(&request)).await?;
    state.wake_sync();
    Ok(queued)
}

#[tauri::command]
pub async fn resend_operation(
    state: State<'_, Shared>,
    request: Req<OperationRef>,
) -> Reply<OperationView> {
    let request = request.get()?;
    let view = with_ledger(&state, move |l| l.resend_operation(request.id)).await?;
    state.wake_sync();
    Ok(view)
}

#[tauri::command]
pub async fn drop_operation(
    state: State<'_, Shared>,
    request: Req<DropRequest>,
) -> Reply<OperationView> {
    let request = request.get()?;
    with_ledger(&state, move |l| {
        l.drop_operation(request.id, request.reason.as_deref())
    })
    .await
}

#[tauri::command]
pub async fn status(state: State<'_, Shared>) -> Reply<StatusReport> {
    with_ledger(&state, |l| l.status()).await
}
