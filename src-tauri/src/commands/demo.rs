//! `demo_status`, `demo_start`, `demo_leave`, `demo_set_online`, `demo_settlement_file`
//! (the demo itself: `crate::demo`).

use tauri::State;

use super::{Reply, Req};
use crate::contract::{DemoOnline, DemoStatus};
use crate::demo;
use crate::state::Shared;

#[tauri::command]
pub async fn demo_status(state: State<'_, Shared>) -> Reply<DemoStatus> {
    demo::status(&state).await
}

#[tauri::command]
pub async fn demo_start(state: State<'_, Shared>) -> Reply<DemoStatus> {
    demo::start(&state).await
}

/// Back to the merchant's ledger (the demo's sandbox shut down).
#[tauri::command]
pub async fn demo_leave(state: State<'_, Shared>) -> Reply<DemoStatus> {
    demo::leave(&state).await
}

#[tauri::command]
pub async fn demo_set_online(
    state: State<'_, Shared>,
    request: Req<DemoOnline>,
) -> Reply<DemoStatus> {
    let request = request.get()?;
    demo::set_online(&state, request.online).await
}

/// The demo's acquirer settlement file (the in-process sandbox's, for its payments as they
/// are now), kept like a file the merchant picked: the month end can be played through
/// without a bank.
#[tauri::command]
pub async fn demo_settlement_file(state: State<'_, Shared>) -> Reply<crate::contract::Upload> {
    let file = demo::settlement_file(&state).await?;
    super::month_end::keep(&state, file.file_name, file.bytes).await
}
