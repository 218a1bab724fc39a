//! Runs tauri-build on the config at the repository root (`../tauri.conf.json`: the one
//! config both `cargo` and the bundler read, ARCHITECTURE.md "The desktop shell"), with an
//! app manifest naming every command, so `capabilities/default.json` can allow exactly
//! these and nothing else.

use std::path::Path;

/// Every `#[tauri::command]` the shell registers (src/lib.rs `generate_handler!`); each
/// gets an `allow-<name>` permission. A test checks the two lists agree.
const COMMANDS: &[&str] = &[
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

fn main() {
    // tauri's proc macro embeds ui/dist at compile time and panics with a bare path
    // message when it is missing: say how to make it instead.
    let dist = Path::new("../ui/dist");
    println!("cargo:rerun-if-changed=../ui/dist");
    println!("cargo:rerun-if-changed=../tauri.conf.json");
    println!("cargo:rerun-if-changed=capabilities");
    if !dist.join("index.html").is_file() {
        eprintln!(
            "error: ui/dist/index.html is missing: the app embeds the built UI. Build it first:\n  npm --prefix ui ci && npm --prefix ui run build"
        );
        std::process::exit(1);
    }
    let attributes = tauri_build::Attributes::new()
        .config_path("../tauri.conf.json")
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    if let Err(error) = tauri_build::try_build(attributes) {
        eprintln!("error: tauri-build failed: {error:#}");
        std::process::exit(1);
    }
}
