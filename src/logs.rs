//! Logs a support person can read: the core emits `tracing` spans and events (a span per
//! import, refresh and sync run, one per store write transaction, events at each stop,
//! batch and failure); this module installs the process's subscriber, which writes them
//! to a file in the OS log directory ([`crate::paths::log_dir`]), rotated daily and kept
//! for [`LOG_MAX_FILES`] days, and, when asked (the CLI's `-v`), to stderr too.
//!
//! Secrets stay out by their type: credentials are `secrecy` secrets whose `Debug` prints
//! `[REDACTED]`, the `Authorization` header is marked sensitive where it is built (so
//! `http` prints `Sensitive`), and nothing in the core formats an exposed secret into an
//! event. Only this crate's events pass the filter, so no dependency's trace of a request
//! (headers included) is ever written. `tests/logs.rs` runs an import with `-v` and the
//! file log and greps both for the key and its Basic form.
//!
//! The filter can be changed with `DAFTAR_LOG` (`tracing-subscriber`'s `EnvFilter`
//! syntax, e.g. `daftar=trace`).

use std::ffi::OsStr;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use tracing_appender::rolling::{Builder, Rotation};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::limits::LOG_MAX_FILES;

/// The environment variable that replaces the default filter (`EnvFilter` syntax).
pub const LOG_FILTER_ENV: &str = "DAFTAR_LOG";
/// Log files are `daftar.<YYYY-MM-DD>.log`.
pub const LOG_FILE_PREFIX: &str = "daftar";
pub const LOG_FILE_SUFFIX: &str = "log";
/// What is written when `DAFTAR_LOG` is not set: this crate's events down to debug (every
/// write, every batch); nothing of the dependencies'.
const DEFAULT_FILTER: &str = "daftar=debug";

/// What to install.
#[derive(Clone, Debug, Default)]
pub struct LogOptions {
    /// The directory for the log files; `None`: no file (e.g. no home directory).
    pub dir: Option<PathBuf>,
    /// Also write to stderr (the CLI's `-v`).
    pub stderr: bool,
}

impl LogOptions {
    /// The file in the OS log directory (or `DAFTAR_LOG_DIR`'s value, passed in `env`), and
    /// stderr when `stderr`.
    pub fn standard(env: Option<&OsStr>, stderr: bool) -> LogOptions {
        LogOptions {
            dir: crate::paths::log_dir(env),
            stderr,
        }
    }
}

/// What was installed: where the file log goes, or why there is none.
#[derive(Debug)]
pub struct Logging {
    /// The directory the log files are written to.
    pub dir: Option<PathBuf>,
    /// Why there is no file log (the directory could not be made), if so. A command goes on
    /// without it: a log is for support, never a reason to refuse work.
    pub problem: Option<String>,
}

/// Installs the process's subscriber: once per process (a second call changes nothing and
/// says so in `problem`).
pub fn init(options: &LogOptions) -> Logging {
    let filter = || {
        EnvFilter::try_from_env(LOG_FILTER_ENV).unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER))
    };
    let mut problem = None;
    let file = match &options.dir {
        Some(dir) => match appender(dir) {
            Ok(appender) => Some(appender),
            Err(why) => {
                problem = Some(format!("no log file in {}: {why}", dir.display()));
                None
            }
        },
        None => {
            problem = Some("no log file: no home directory to keep it in".to_string());
            None
        }
    };
    let dir = file.as_ref().and(options.dir.clone());
    let file_layer = file.map(|appender| {
        tracing_subscriber::fmt::layer()
            .with_writer(appender)
            .with_ansi(false)
            .with_target(false)
            .with_filter(filter())
    });
    let stderr_layer = options.stderr.then(|| {
        tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            // Colours for a person at a terminal only, never into a file or a pipe.
            .with_ansi(std::io::stderr().is_terminal())
            .with_target(false)
            .with_filter(filter())
    });
    if let Err(error) = tracing_subscriber::registry()
        .with(file_layer)
        .with(stderr_layer)
        .try_init()
    {
        problem = Some(format!("logging was set up already: {error}"));
    }
    Logging { dir, problem }
}

use tracing_subscriber::Layer as _;

/// A daily file in `dir` (made readable by its owner only: the log names payments and
/// profiles), keeping the newest [`LOG_MAX_FILES`].
fn appender(dir: &Path) -> Result<tracing_appender::rolling::RollingFileAppender, String> {
    crate::store::create_private_dir(dir).map_err(|e| e.to_string())?;
    Builder::new()
        .rotation(Rotation::DAILY)
        .filename_prefix(LOG_FILE_PREFIX)
        .filename_suffix(LOG_FILE_SUFFIX)
        .max_log_files(LOG_MAX_FILES)
        .build(dir)
        .map_err(|e| e.to_string())
}

/// A sync event as a log line in the run's span: the event's JSON (what the app receives;
/// views only, no credential), at `warn` for what needs a look (a pause, offline, a store
/// error), `debug` for the chatty ones (each send, the outstanding count), `info` otherwise.
pub(crate) fn sync_event(event: &crate::sync::SyncEvent) {
    let json = serde_json::to_value(event).unwrap_or_default();
    let name = json["event"].as_str().unwrap_or("unknown").to_string();
    match name.as_str() {
        "paused" | "offline" | "store_error" => tracing::warn!(%json, "sync {name}"),
        "sent" | "outstanding" | "idle" => tracing::debug!(%json, "sync {name}"),
        _ => tracing::info!(%json, "sync {name}"),
    }
}
