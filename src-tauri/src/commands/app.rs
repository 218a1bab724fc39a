//! `app_info`, `smoke_painted`.

use std::sync::Arc;

use tauri::State;

use super::{Reply, Req};
use crate::contract::{AppInfo, Painted};
use crate::smoke;
use crate::state::{Shared, blocking, lock};

#[tauri::command]
pub async fn app_info(state: State<'_, Shared>) -> Reply<AppInfo> {
    let state = Arc::clone(&state);
    blocking(move || {
        let has_profiles = match state.ledger() {
            Ok(ledger) => !lock(&ledger).profiles().map_err(|e| e.view())?.is_empty(),
            Err(_) => false,
        };
        Ok(AppInfo {
            version: env!("CARGO_PKG_VERSION").to_string(),
            ledger_path: state
                .ledger_path()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            log_dir: state
                .config
                .log_dir
                .as_ref()
                .map(|d| d.display().to_string()),
            smoke: state.config.smoke,
            has_profiles,
            ledger_error: state.ledger_error(),
            keyring_ephemeral: state.config.keyring_ephemeral,
        })
    })
    .await
}

/// Smoke mode: the first screen is drawn; prints the time and quits. Does nothing
/// otherwise.
#[tauri::command]
pub fn smoke_painted(state: State<'_, Shared>, request: Req<Painted>) -> Reply<()> {
    let request = request.get()?;
    if state.config.smoke {
        smoke::painted(&state.ui, request.rows);
    }
    Ok(())
}
