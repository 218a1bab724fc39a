//! Smoke mode (`DAFTAR_RUN_SMOKE=1`): the app starts, the UI draws its first screen and
//! calls `smoke_painted`; the app prints `first screen painted in <ms> ms` (from the
//! process's start) and quits with 0. If nothing is painted within [`SMOKE_TIMEOUT`], it
//! says so and quits with 1, so a broken UI cannot hang a script.

use std::io::Write;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::events::Ui;

/// The environment variable that turns smoke mode on (`1`).
pub const SMOKE_ENV: &str = "DAFTAR_RUN_SMOKE";
/// How long a smoke run may wait for the first screen.
pub const SMOKE_TIMEOUT: Duration = Duration::from_secs(60);

static STARTED: OnceLock<Instant> = OnceLock::new();

/// Notes the process's start; `main` calls it first thing.
pub fn mark_start() {
    STARTED.get_or_init(Instant::now);
}

/// Milliseconds since [`mark_start`].
pub fn elapsed_ms() -> u128 {
    STARTED.get_or_init(Instant::now).elapsed().as_millis()
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
