//! The ledger as a file on disk, before and around SQLite: refusing paths that are not
//! files (in-memory and URI forms), creating a new ledger private to its owner, refusing a
//! file with a second hard link, and saying what is wrong with the disk when SQLite only
//! says "disk I/O error" or "unable to open database file".
//!
//! Nothing here opens the existing ledger file with a descriptor of its own: closing any
//! descriptor of a file drops every POSIX lock this process holds on it, including
//! SQLite's. Only `metadata`, `canonicalize`, `statvfs` and `access` (all by path) are used
//! on a file that exists.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::StoreError;

/// Free space under which a failed read or write is reported as a full disk. SQLite needs
/// a 32 KiB -shm file and a few pages of WAL to do anything, even to read; with less than
/// this left, the failure is the disk's.
pub const DISK_FULL_BELOW_BYTES: u64 = 1024 * 1024;

/// Refuses the names SQLite treats as something other than a file on disk: `:memory:`, a
/// `file:` URI (which can name an in-memory database) and the empty path (a temporary file
/// SQLite deletes on close). A ledger in any of them vanishes when the command ends.
pub(super) fn refuse_non_file(path: &Path) -> Result<(), StoreError> {
    let text = path.to_string_lossy();
    let what = if text.is_empty() {
        "empty: SQLite would keep the ledger in a temporary file deleted when the command ends"
    } else if text == ":memory:" {
        "an in-memory database, whose data would vanish when the command ends"
    } else if text
        .get(..5)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("file:"))
    {
        "a SQLite URI (file:...), which can name an in-memory database"
    } else {
        return Ok(());
    };
    Err(StoreError::NotAFile {
        value: text.into_owned(),
        what,
    })
}

/// Makes sure `path` is a file that may be a ledger and returns its real path (symlinks and
/// `..` resolved: the one name every process uses for it, as SQLite does for its -wal).
/// A missing file is created empty, readable and writable by its owner only; SQLite then
/// gives the -wal, -shm and -journal files the same permissions.
pub(super) fn prepare(path: &Path) -> Result<PathBuf, StoreError> {
    let meta = match fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            match create_private_file(path) {
                Ok(()) => {}
                // Another process made it meanwhile: checked below like any other file.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    let dir = path.parent().unwrap_or(Path::new("."));
                    let message = format!("its directory {} does not exist", dir.display());
                    return Err(io_problem(path, io::Error::new(e.kind(), message)));
                }
                Err(e) => return Err(io_problem(path, e)),
            }
            fs::metadata(path).map_err(|e| io_problem(path, e))?
        }
        Err(e) => return Err(io_problem(path, e)),
    };
    if meta.is_dir() {
        return Err(StoreError::NotALedger {
            path: path.to_path_buf(),
            found: "a directory".into(),
        });
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        // SQLite names the -wal by the path it was given: two names for one file would mean
        // two WALs and a corrupt ledger (SQLite itself only logs "multiple links to file").
        if meta.nlink() > 1 {
            return Err(StoreError::HardLinked {
                path: path.to_path_buf(),
                links: meta.nlink(),
            });
        }
    }
    fs::canonicalize(path).map_err(|e| io_problem(path, e))
}

fn create_private_file(path: &Path) -> io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    // Closed at once: nobody can hold SQLite locks on a file that did not exist.
    options.open(path).map(drop)
}

/// Creates the directory Daftar chose for a ledger (and its missing parents) readable by
/// its owner only. An existing directory is left as it is: the user chose its permissions.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// An `io::Error` from creating or resolving the ledger, said in terms of the disk when the
/// disk is the cause.
fn io_problem(path: &Path, source: io::Error) -> StoreError {
    let disk = matches!(
        source.kind(),
        io::ErrorKind::PermissionDenied
            | io::ErrorKind::ReadOnlyFilesystem
            | io::ErrorKind::StorageFull
            | io::ErrorKind::QuotaExceeded
    );
    let found = if disk { disk_problem(path) } else { None };
    found.unwrap_or_else(|| StoreError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Whether SQLite's error can come from the disk or the permissions around the file.
fn may_be_the_disk(source: &rusqlite::Error) -> bool {
    use rusqlite::ErrorCode;
    matches!(
        source.sqlite_error_code(),
        Some(
            ErrorCode::CannotOpen
                | ErrorCode::ReadOnly
                | ErrorCode::DiskFull
                | ErrorCode::SystemIoFailure
        )
    )
}

/// An SQLite error met while opening the ledger at `path`, said in terms of the file or
/// the disk when one of them is the cause.
pub(super) fn sqlite_problem(path: &Path, source: rusqlite::Error) -> StoreError {
    if source.sqlite_error_code() == Some(rusqlite::ErrorCode::NotADatabase) {
        return StoreError::NotALedger {
            path: path.to_path_buf(),
            found: "not an SQLite database".into(),
        };
    }
    let disk = if may_be_the_disk(&source) {
        disk_problem(path)
    } else {
        None
    };
    disk.unwrap_or_else(|| StoreError::Open {
        path: path.to_path_buf(),
        source,
    })
}

/// An SQLite error met while reading or writing an open ledger: said in terms of the disk
/// when the disk is the cause, as busy or damaged with the ledger's path when SQLite says
/// so, kept as it is otherwise.
pub(super) fn sqlite_error(path: &Path, source: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode;
    let disk = if may_be_the_disk(&source) {
        disk_problem(path)
    } else {
        None
    };
    let path = path.to_path_buf();
    disk.unwrap_or_else(|| match source.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            StoreError::Busy { path, source }
        }
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => {
            StoreError::Damaged { path, source }
        }
        _ => StoreError::Sqlite(source),
    })
}

/// Looks at the disk and the permissions around `path`: a read-only file system, a full
/// disk, or no write permission on the file or its directory. `None` when none of these
/// holds (the caller keeps SQLite's own words).
fn disk_problem(path: &Path) -> Option<StoreError> {
    let real = fs::canonicalize(path).ok();
    let file = real.as_deref().unwrap_or(path);
    let dir = match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let read_only = |cause: String| StoreError::ReadOnly {
        path: path.to_path_buf(),
        cause,
    };
    let space = sys::space(dir)?;
    if space.read_only {
        return Some(read_only(format!(
            "the file system holding {} is mounted read-only",
            dir.display()
        )));
    }
    if space.available_bytes < DISK_FULL_BELOW_BYTES {
        return Some(StoreError::DiskFull {
            path: path.to_path_buf(),
            free_bytes: space.available_bytes,
        });
    }
    if real.is_some() && !sys::writable(file) {
        return Some(read_only("you have no write permission on the file".into()));
    }
    if !sys::writable(dir) {
        return Some(read_only(format!(
            "you have no write permission on its directory {} (SQLite creates the -wal and -shm files there)",
            dir.display()
        )));
    }
    None
}

struct Space {
    read_only: bool,
    available_bytes: u64,
}

#[cfg(unix)]
mod sys {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    use std::path::Path;

    use super::Space;

    fn c_path(path: &Path) -> Option<CString> {
        CString::new(path.as_os_str().as_bytes()).ok()
    }

    /// `statvfs(2)` on the directory: its mount flags and the space left to this user.
    pub(super) fn space(dir: &Path) -> Option<Space> {
        let c_dir = c_path(dir)?;
        // SAFETY: `c_dir` is a valid NUL-terminated string and `stat` a writable,
        // properly aligned statvfs that the call fills in; both outlive the call.
        let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
        // SAFETY: as above.
        if unsafe { libc::statvfs(c_dir.as_ptr(), &mut stat) } != 0 {
            return None;
        }
        #[allow(clippy::unnecessary_cast)] // c_ulong/fsblkcnt_t differ between platforms
        let available_bytes = (stat.f_bavail as u64).saturating_mul(stat.f_frsize as u64);
        #[allow(clippy::unnecessary_cast)]
        let read_only = (stat.f_flag as u64) & (libc::ST_RDONLY as u64) != 0;
        Some(Space {
            read_only,
            available_bytes,
        })
    }

    /// `access(2)` for writing, as this process's real user (root passes unless the file
    /// system is read-only).
    pub(super) fn writable(path: &Path) -> bool {
        let Some(c_path) = c_path(path) else {
            return true;
        };
        // SAFETY: `c_path` is a valid NUL-terminated string that outlives the call.
        unsafe { libc::access(c_path.as_ptr(), libc::W_OK) == 0 }
    }
}

#[cfg(not(unix))]
mod sys {
    use std::path::Path;

    use super::Space;

    pub(super) fn space(_dir: &Path) -> Option<Space> {
        None
    }

    pub(super) fn writable(_path: &Path) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_memory_and_uri_forms_are_not_files() {
        for text in ["", ":memory:", "file::memory:", "File:x.db?mode=memory"] {
            assert!(
                matches!(
                    refuse_non_file(Path::new(text)),
                    Err(StoreError::NotAFile { .. })
                ),
                "{text:?}"
            );
        }
        for text in ["ledger.sqlite3", "./file:x", "/tmp/:memory:", "files.db"] {
            assert!(refuse_non_file(Path::new(text)).is_ok(), "{text:?}");
        }
    }
}
