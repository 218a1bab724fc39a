//! Ctrl-C for the CLI's long jobs (export, report import, settlement import): the job
//! blocks the main thread, so the signal is awaited on a thread of its own and only sets
//! the job's cancel flag; the job stops at its next check and leaves nothing half-written.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Sets `cancel` on Ctrl-C, from a thread of its own.
pub fn cancel_on_ctrl_c(cancel: Arc<AtomicBool>) {
    std::thread::spawn(move || {
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        runtime.block_on(async {
            if tokio::signal::ctrl_c().await.is_ok() {
                cancel.store(true, Ordering::SeqCst);
            }
        });
    });
}
