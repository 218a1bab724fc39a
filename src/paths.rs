//! Where Daftar keeps its files when the caller does not say: the ledger (the OS data
//! directory, unless `DAFTAR_DB` or an explicit path names one) and the log files (the OS
//! state or local data directory). Both adapters ask here, so the CLI and the desktop app
//! open the same ledger by default.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The environment variable that names the ledger file when no explicit path is given.
pub const LEDGER_ENV: &str = "DAFTAR_DB";
/// The environment variable that names the log directory (tests, support).
pub const LOG_DIR_ENV: &str = "DAFTAR_LOG_DIR";
/// The ledger's file name in the default directory.
pub const LEDGER_FILE_NAME: &str = "daftar.sqlite3";

fn project_dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("", "", "daftar")
}

/// The ledger to open: `explicit` (e.g. the CLI's `--db`) if given, else `env` (the value
/// of [`LEDGER_ENV`], which the caller reads so tests can pass their own), else
/// [`LEDGER_FILE_NAME`] in the OS data directory, created (0700) on first use.
///
/// Errors (field `db`): an empty `env` value (`db.empty`: a mistake worth naming, not a
/// reason to use the default), no home directory (`db.no_home`), a data directory that
/// cannot be created (`db.unwritable`).
pub fn ledger_path(explicit: Option<&Path>, env: Option<&OsStr>) -> Result<PathBuf> {
    if let Some(path) = explicit {
        return Ok(path.to_path_buf());
    }
    match env {
        Some(value) if value.is_empty() => Err(Error::invalid(
            "db",
            "db.empty",
            format!(
                "the ledger path is empty (from {LEDGER_ENV}): give a file path, or unset {LEDGER_ENV} to use the default"
            ),
        )),
        Some(value) => Ok(PathBuf::from(value)),
        None => default_ledger_path(),
    }
}

/// [`LEDGER_FILE_NAME`] in the OS data directory (e.g. `~/.local/share/daftar/` on Linux),
/// the directory created readable by its owner only: the ledger holds the merchant's payments.
pub fn default_ledger_path() -> Result<PathBuf> {
    let dirs = project_dirs().ok_or_else(|| {
        Error::invalid(
            "db",
            "db.no_home",
            format!(
                "no home directory to keep the ledger in: name a ledger file, or set {LEDGER_ENV}"
            ),
        )
    })?;
    let dir = dirs.data_dir();
    crate::store::create_private_dir(dir).map_err(|e| {
        Error::invalid(
            "db",
            "db.unwritable",
            format!(
                "cannot create {}: {e}; name a ledger file elsewhere, or set {LEDGER_ENV}",
                dir.display()
            ),
        )
    })?;
    Ok(dir.join(LEDGER_FILE_NAME))
}

/// Where the log files go: `env` (the value of [`LOG_DIR_ENV`]) if set and not empty, else
/// `logs` in the OS state directory (`$XDG_STATE_HOME/daftar/logs`, usually
/// `~/.local/state/daftar/logs`, on Linux) or, where the OS has none, in the local data
/// directory (`~/Library/Application Support/daftar/logs`, `%LOCALAPPDATA%\daftar\data\logs`).
/// Not created here; `None` without a home directory.
pub fn log_dir(env: Option<&OsStr>) -> Option<PathBuf> {
    if let Some(value) = env.filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(value));
    }
    let dirs = project_dirs()?;
    let base = dirs.state_dir().unwrap_or_else(|| dirs.data_local_dir());
    Some(base.join("logs"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_explicit_path_wins_over_the_environment() {
        let path = ledger_path(
            Some(Path::new("/tmp/a.sqlite3")),
            Some(OsStr::new("/tmp/b")),
        );
        assert_eq!(path.unwrap(), PathBuf::from("/tmp/a.sqlite3"));
        let path = ledger_path(None, Some(OsStr::new("/tmp/b.sqlite3")));
        assert_eq!(path.unwrap(), PathBuf::from("/tmp/b.sqlite3"));
    }

    #[test]
    fn an_empty_environment_value_is_named() {
        let error = ledger_path(None, Some(OsStr::new(""))).unwrap_err();
        assert_eq!(error.code(), "db.empty");
        assert_eq!(error.field(), Some("db"));
        assert!(error.to_string().contains("unset DAFTAR_DB"), "{error}");
    }

    #[test]
    fn the_log_directory_can_be_named() {
        assert_eq!(
            log_dir(Some(OsStr::new("/tmp/logs"))),
            Some(PathBuf::from("/tmp/logs"))
        );
        assert_ne!(log_dir(Some(OsStr::new(""))), Some(PathBuf::new()));
    }
}
