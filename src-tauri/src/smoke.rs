//! Smoke mode (`DAFTAR_RUN_SMOKE=1`): the app starts, the UI draws its first screen and
//! calls `smoke_painted`; the app prints `first screen painted in <ms> ms` (from the
//! process's start: `/proc` for the time before `main`) and quits with 0. If nothing is painted within [`SMOKE_TIMEOUT`], it
//! says so and quits with 1, so a broken UI cannot hang a script.

use std::io::Write;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::events::Ui;

/// The environment variable that turns smoke mode on (`1`).
pub const SMOKE_ENV: &str = "DAFTAR_RUN_SMOKE";
/// How long a smoke run may wait for the first screen.
pub const SMOKE_TIMEOUT: Duration = Duration::from_secs(60);

/// When `main` started, and how long the process had run before it (loading WebKitGTK's
/// libraries takes a while before `main`).
static STARTED: OnceLock<(Instant, u128)> = OnceLock::new();

/// Notes the process's start; `main` calls it first thing.
pub fn mark_start() {
    STARTED.get_or_init(|| (Instant::now(), before_main_ms().unwrap_or(0)));
}

/// Milliseconds since the process started (exec), to the kernel's 10 ms tick for the part
/// before `main`.
pub fn elapsed_ms() -> u128 {
    let (main_started, before) = STARTED.get_or_init(|| (Instant::now(), 0));
    before + main_started.elapsed().as_millis()
}

/// How long ago the process started, from `/proc`: the system's uptime minus the
/// process's start time (field 22 of `/proc/self/stat`, in clock ticks since boot).
#[cfg(target_os = "linux")]
fn before_main_ms() -> Option<u128> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: count after it.
    let after_name = &stat[stat.rfind(')')? + 2..];
    let start_ticks: u128 = after_name.split(' ').nth(19)?.parse().ok()?;
    let uptime = std::fs::read_to_string("/proc/uptime").ok()?;
    let uptime_s: f64 = uptime.split(' ').next()?.parse().ok()?;
    // USER_HZ is 100 on every Linux ABI Tauri runs on.
    let uptime_ms = (uptime_s * 1000.0) as u128;
    uptime_ms.checked_sub(start_ticks * 10)
}

#[cfg(not(target_os = "linux"))]
fn before_main_ms() -> Option<u128> {
    None
}

pub fn enabled() -> bool {
    std::env::var_os(SMOKE_ENV).is_some_and(|v| v == "1")
}

/// The first screen is drawn: print the time and quit with 0.
pub fn painted(ui: &Ui, rows: u64) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "first screen painted in {} ms ({rows} rows)",
        elapsed_ms()
    );
    let _ = out.flush();
    drop(out);
    ui.exit(0);
}

/// Quits with 1 if the first screen is not painted in time.
pub fn arm_timeout() {
    let spawned = std::thread::Builder::new()
        .name("daftar-smoke-timeout".into())
        .spawn(|| {
            std::thread::sleep(SMOKE_TIMEOUT);
            eprintln!(
                "smoke: the first screen was not painted within {} s (smoke_painted never called)",
                SMOKE_TIMEOUT.as_secs()
            );
            std::process::exit(1);
        });
    if let Err(error) = spawned {
        eprintln!("smoke: cannot start the timeout: {error}");
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_os = "linux")]
    #[test]
    fn the_time_before_main_is_read_from_proc() {
        let before = super::before_main_ms().expect("read from /proc");
        // This test process started at most a few minutes ago (the whole test run).
        assert!(before < 10 * 60 * 1000, "{before} ms");
    }
}
