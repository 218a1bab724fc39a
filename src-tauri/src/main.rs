//! `daftar-app`: the desktop app's binary (everything is in the library, so tests build
//! the same app on a mock runtime).

// No console window behind the app on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() -> std::process::ExitCode {
    #[cfg(target_os = "linux")]
    prefer_shared_memory_renderer();
    daftar_app::run()
}

/// WebKitGTK's DMA-BUF renderer wants a GPU that the shop laptop's VM or Xvfb often lacks;
/// without one it costs more than it gives. Measured by scripts/bench-app.sh (BENCHMARKS.md
/// "The desktop app"): cold start 1.8 s -> 1.3 s and about 90 MB less idle RSS with it off.
/// So it is off unless the user set WEBKIT_DISABLE_DMABUF_RENDERER themselves (e.g. `=0` to
/// keep it on a machine where it works): their value wins.
#[cfg(target_os = "linux")]
fn prefer_shared_memory_renderer() {
    const VAR: &str = "WEBKIT_DISABLE_DMABUF_RENDERER";
    if std::env::var_os(VAR).is_none() {
        // SAFETY: first thing in main, before Tauri, GTK or any other thread exists, so no
        // other thread can be reading the environment while it changes.
        unsafe { std::env::set_var(VAR, "1") };
    }
}
