//! Daftar's desktop app: a thin Tauri 2 shell over the `daftar` core. The window's UI
//! (Svelte, `ui/`) calls the commands in [`commands`]; each calls the core's facade off
//! the main thread and returns its view or its `ErrorView`. The sync worker runs for the
//! app's whole life on its own thread and ledger ([`state`]); its events, import progress
//! and the demo's status reach the window as events ([`events`]). ARCHITECTURE.md, "The
//! desktop shell".

pub mod commands;
pub mod contract;
pub mod demo;
pub mod events;
pub mod jobs;
pub mod smoke;
pub mod state;

use std::sync::Arc;

use tauri::{Builder, Manager, RunEvent, Runtime};

use crate::events::Ui;
use crate::state::{AppConfig, AppState, Shared};

/// Every command registered, in the order of the IPC contract. `build.rs` lists the same
/// names for their permissions; a test checks the two agree.
pub const COMMANDS: &[&str] = &[
    "app_info",
    "list_payments",
    "show_payment",
    "payment_actions",
    "preview_operation",
    "queue_operation",
    "add_payment",
    "list_queue",
    "retry_operation",
    "resend_operation",
    "drop_operation",
    "status",
    "sync_state",
    "sync_now",
    "sync_pause",
    "sync_resume",
    "import_start",
    "job_cancel",
    "profiles",
    "add_profile",
    "set_profile",
    "remove_profile",
    "set_key",
    "remove_key",
    "test_connection",
    "demo_status",
    "demo_start",
    "demo_leave",
    "demo_set_online",
    "demo_settlement_file",
    "smoke_painted",
    "report_upload",
    "report_list",
    "report_import_start",
    "reconcile_start",
    "reconciliations",
    "reconciliation",
    "reconcile_items",
    "reconcile_decide",
    "lock_period",
    "periods",
    "settlement_import",
    "settlement_match",
    "export_start",
];

/// The app on any runtime: the real one in `main`, `tauri::test::mock_builder()` in tests.
/// On setup the state is made (the merchant's ledger opened, never the demo's) and the
/// sync worker started with its supervisor.
pub fn builder<R: Runtime>(builder: Builder<R>, config: AppConfig) -> Builder<R> {
    builder
        .invoke_handler(tauri::generate_handler![
            commands::app::app_info,
            commands::payments::list_payments,
            commands::payments::show_payment,
            commands::payments::payment_actions,
            commands::queue::preview_operation,
            commands::queue::queue_operation,
            commands::payments::add_payment,
            commands::queue::list_queue,
            commands::queue::retry_operation,
            commands::queue::resend_operation,
            commands::queue::drop_operation,
            commands::queue::status,
            commands::sync::sync_state,
            commands::sync::sync_now,
            commands::sync::sync_pause,
            commands::sync::sync_resume,
            commands::import::import_start,
            commands::import::job_cancel,
            commands::profiles::profiles,
            commands::profiles::add_profile,
            commands::profiles::set_profile,
            commands::profiles::remove_profile,
            commands::profiles::set_key,
            commands::profiles::remove_key,
            commands::profiles::test_connection,
            commands::demo::demo_status,
            commands::demo::demo_start,
            commands::demo::demo_leave,
            commands::demo::demo_set_online,
            commands::demo::demo_settlement_file,
            commands::app::smoke_painted,
            commands::month_end::report_upload,
            commands::month_end::report_list,
            commands::month_end::report_import_start,
            commands::month_end::reconcile_start,
            commands::month_end::reconciliations,
            commands::month_end::reconciliation,
            commands::month_end::reconcile_items,
            commands::month_end::reconcile_decide,
            commands::month_end::lock_period,
            commands::month_end::periods,
            commands::month_end::settlement_import,
            commands::month_end::settlement_match,
            commands::month_end::export_start,
        ])
        .setup(move |app| {
            start(app.handle(), config);
            Ok(())
        })
}

/// What setup does: makes the state (opens the merchant's ledger), starts the sync worker
/// off the main thread and its supervisor (`state::supervise`) on a thread of its own. Tauri runs setup when the
/// event loop starts; tests on the mock runtime (whose loop never runs) call it after
/// `build`. A second call returns the state made by the first.
pub fn start<R: Runtime>(app: &tauri::AppHandle<R>, config: AppConfig) -> Shared {
    if let Some(state) = app.try_state::<Shared>() {
        return Arc::clone(&state);
    }
    let config = with_folders(app, config);
    let ui = Ui::new(app.clone());
    let runtime = tauri::async_runtime::handle().inner().clone();
    let start_sync = config.start_sync;
    if config.smoke {
        smoke::arm_timeout();
    }
    let state: Shared = Arc::new(AppState::new(config, ui, runtime));
    app.manage(Arc::clone(&state));
    let background = Arc::clone(&state);
    // The window opens while the worker recovers.
    tauri::async_runtime::spawn_blocking(move || {
        if start_sync && background.ledger().is_ok() {
            let _ = background.start_sync();
            background.emit_sync_state();
        }
    });
    if start_sync {
        let weak = Arc::downgrade(&state);
        let spawned = std::thread::Builder::new()
            .name("daftar-sync-supervisor".into())
            .spawn(move || state::supervise(weak));
        if let Err(error) = spawned {
            tracing::warn!("the sync worker's supervisor did not start: {error}");
        }
    }
    state
}

/// Fills in the folders the config left open: uploads in the app's cache folder (emptied:
/// the ids of a past run mean nothing now), exports in Downloads, else the app's data folder.
fn with_folders<R: Runtime>(app: &tauri::AppHandle<R>, mut config: AppConfig) -> AppConfig {
    let paths = app.path();
    if config.uploads_dir.is_none() {
        config.uploads_dir = paths.app_cache_dir().ok().map(|d| d.join("uploads"));
        if let Some(dir) = &config.uploads_dir
            && dir.is_dir()
            && let Err(error) = std::fs::remove_dir_all(dir)
        {
            tracing::warn!("the last run's uploads were not removed: {error}");
        }
    }
    if config.exports_dir.is_none() {
        config.exports_dir = paths.download_dir().or_else(|_| paths.app_data_dir()).ok();
    }
    config
}

/// The context from the root `tauri.conf.json` (the window, CSP, capabilities, ui/dist).
pub fn context<R: Runtime>() -> tauri::Context<R> {
    tauri::generate_context!("../tauri.conf.json")
}

/// Stops the worker on the way out (what is in flight stays `in_flight`, resent with its
/// key at the next start) and shuts the demo's sandbox down.
pub fn on_exit<R: Runtime>(app: &tauri::AppHandle<R>, event: &RunEvent) {
    if let RunEvent::Exit = event
        && let Some(state) = app.try_state::<Shared>()
    {
        state.quit();
        state.stop_sync();
        drop(state::lock(&state.demo).take_sandbox());
    }
}

/// `DAFTAR_KEYRING_EPHEMERAL=1`: the run script started a throwaway keyring for this run.
fn keyring_ephemeral(value: Option<std::ffi::OsString>) -> bool {
    value.is_some_and(|v| v == "1")
}

/// The real app: config from the environment, logs, the window.
pub fn run() -> std::process::ExitCode {
    smoke::mark_start();
    let logging = daftar::logs::init(&daftar::logs::LogOptions::standard(
        std::env::var_os("DAFTAR_LOG_DIR").as_deref(),
        false,
    ));
    let ledger_path = daftar::paths::ledger_path(None, std::env::var_os("DAFTAR_DB").as_deref())
        .map_err(|e| e.view());
    let config = AppConfig {
        ledger_path,
        log_dir: logging.dir.clone(),
        smoke: smoke::enabled(),
        start_sync: true,
        keyring_ephemeral: keyring_ephemeral(std::env::var_os("DAFTAR_KEYRING_EPHEMERAL")),
        uploads_dir: None,
        exports_dir: None,
    };
    match builder(tauri::Builder::default(), config).build(context()) {
        Ok(app) => {
            // run_return, not run: the exit code asked for (`smoke_painted`'s 0) is this
            // function's, and on_exit has finished when it returns.
            let code = app.run_return(|handle, event| on_exit(handle, &event));
            std::process::ExitCode::from(u8::try_from(code).unwrap_or(1))
        }
        Err(error) => {
            eprintln!("daftar-app: cannot start: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_one_says_the_keyring_is_a_throwaway() {
        assert!(super::keyring_ephemeral(Some("1".into())));
        assert!(!super::keyring_ephemeral(Some("0".into())));
        assert!(!super::keyring_ephemeral(None));
    }
}
