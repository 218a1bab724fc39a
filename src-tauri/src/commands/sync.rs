//! `sync_state`, `sync_now`, `sync_pause`, `sync_resume`. The merchant's pause stops the
//! worker (what is in flight is resent with its key at resume) and lasts for this run.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use tauri::State;

use super::Reply;
use crate::contract::SyncState;
use crate::state::{Shared, blocking};

#[tauri::command]
pub async fn sync_state(state: State<'_, Shared>) -> Reply<SyncState> {
    Ok(state.sync_state())
}

/// Wakes the worker, or starts one when none is alive (it ended, or never started)
/// unless the merchant paused sending. Why a start failed is the reply's `worker_error`.
#[tauri::command]
pub async fn sync_now(state: State<'_, Shared>) -> Reply<SyncState> {
    let state = Arc::clone(&state);
    let starting = Arc::clone(&state);
    let was_alive = state.worker_alive();
    let started = blocking(move || starting.sync_now()).await;
    if !was_alive {
        state.emit_sync_state();
    }
    // A start that failed is in the reply's `worker_error`; a panic is an error.
    if let Err(error) = started
        && error.code == "app.task_failed"
    {
        return Err(error);
    }
    Ok(state.sync_state())
}

#[tauri::command]
pub async fn sync_pause(state: State<'_, Shared>) -> Reply<SyncState> {
    let state = Arc::clone(&state);
    state.paused_by_merchant.store(true, Ordering::SeqCst);
    let stopping = Arc::clone(&state);
    blocking(move || {
        stopping.stop_sync();
        Ok(())
    })
    .await?;
    state.emit_sync_state();
    Ok(state.sync_state())
}

#[tauri::command]
pub async fn sync_resume(state: State<'_, Shared>) -> Reply<SyncState> {
    let state = Arc::clone(&state);
    state.paused_by_merchant.store(false, Ordering::SeqCst);
    let starting = Arc::clone(&state);
    let started = blocking(move || starting.start_sync()).await;
    state.emit_sync_state();
    started?;
    Ok(state.sync_state())
}
