//! `daftar-app`: the desktop app's binary (everything is in the library, so tests build
//! the same app on a mock runtime).

// No console window behind the app on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() -> std::process::ExitCode {
    daftar_app::run()
}
