//! SQLite storage: opening a ledger file (WAL, foreign keys, busy timeout), the
//! migrations runner, and one module per table group that owns its SQL. Nothing outside
//! this folder writes SQL.
//!
//! Invariant guarded here: every write that matters runs in one `BEGIN IMMEDIATE`
//! transaction together with its audit event, so the write lock is held before any
//! balance that is about to be spent is read.
//!
//! Opening is careful about whose file it is ([`Store::open`]): a Daftar ledger carries
//! [`APPLICATION_ID`]; another program's SQLite file, a version no Daftar writes, or a
//! newer Daftar's ledger is refused before anything is written to it. Opening takes the
//! write lock only when there is something to migrate, so reading works while another
//! process writes (WAL).

pub mod children;
pub mod events;
pub mod facts;
mod file;
mod migrate;
pub mod operations;
pub mod outbox;
pub mod payments;
pub mod profiles;
pub mod stored;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};
use thiserror::Error;

pub use children::ChildInsert;
pub use events::EventInsert;
pub use file::{DISK_FULL_BELOW_BYTES, create_private_dir};
pub use migrate::{APPLICATION_ID, LATEST_VERSION, LEGACY_MAX_VERSION, MIGRATIONS};
pub use operations::{OperationFilter, OperationInsert, StatusCounts};
pub use payments::{PaymentFilter, PaymentKey, PaymentRef};

/// How long a writer waits for another process's write lock before giving up. Queueing
/// one operation holds the lock for well under a millisecond, so seconds mean a stuck peer.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// WAL pages before SQLite checkpoints inside a commit (default 1,000). The checkpoint runs
/// in whichever command happens to commit then, costing it milliseconds; 4,000 pages (about
/// 16 MB of WAL) makes that four times rarer, and a process closing its last connection
/// checkpoints anyway.
pub const WAL_AUTOCHECKPOINT_PAGES: i64 = 4_000;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("cannot open the ledger at {path}: {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    /// `store.newer_version`: the file's `user_version` is
    /// above [`LATEST_VERSION`], found by `migrate::check` before anything is written.
    #[error(
        "the ledger at {path} was written by a newer Daftar (schema version {found}; this Daftar knows up to {supported}); upgrade Daftar to open it"
    )]
    NewerSchema {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    #[error("migration {name} failed: {source}")]
    Migration {
        name: &'static str,
        source: rusqlite::Error,
    },
    #[error("the ledger holds a value this Daftar cannot read ({what}: '{value}')")]
    Corrupt { what: &'static str, value: String },
    /// Another process held the write lock longer than the busy timeout (SQLITE_BUSY or
    /// SQLITE_LOCKED): nothing was changed; the same request may work in a moment.
    #[error(
        "the ledger at {path} is busy: another process held its write lock longer than Daftar waits ({source}); nothing was changed, try again"
    )]
    Busy {
        path: PathBuf,
        source: rusqlite::Error,
    },
    /// SQLite found the file damaged (SQLITE_CORRUPT, or SQLITE_NOTADB inside an open
    /// ledger).
    #[error("the ledger at {path} is damaged ({source}): restore it from a backup")]
    Damaged {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The path is not a file on disk (`:memory:`, a `file:` URI, empty): the ledger would
    /// vanish when the command ends. Bad input, field `db`.
    #[error("db: '{value}' is {what}; a ledger must be a file: give the path of one")]
    NotAFile { value: String, what: &'static str },
    /// A file that is not a Daftar ledger (another program's, or not SQLite at all): left
    /// untouched.
    #[error(
        "the file at {path} is not a Daftar ledger ({found}); it was left untouched: open a Daftar ledger, or a path where none exists yet"
    )]
    NotALedger { path: PathBuf, found: String },
    /// SQLite names the -wal by the path used: two names for one file mean two WALs. The
    /// usual cause is a backup made with hard links (`cp -al`, `rsync --link-dest`), so the
    /// message says how to find the other names and to copy instead.
    #[error(
        "the ledger at {path} has {links} names (hard links): SQLite names its write-ahead log (the -wal and -shm files) after the path the ledger is opened by, so a process opening another name would not see the changes in the first one's log, and the two could corrupt the ledger; find the other names with `find / -xdev -samefile {path}` and remove them (a symbolic link is fine); a backup made with hard links (`cp -al`, `cp -l`, `rsync --link-dest`) is not a backup of this file anyway: make a real copy instead (`cp` without -l)"
    )]
    HardLinked { path: PathBuf, links: u64 },
    #[error(
        "the ledger at {path} cannot be written: {cause}; Daftar writes beside the ledger (its -wal and -shm files) even to read it, so move it somewhere writable or fix this"
    )]
    ReadOnly { path: PathBuf, cause: String },
    #[error(
        "the disk holding the ledger at {path} is full ({free_bytes} bytes free): free some space and try again; nothing was written"
    )]
    DiskFull { path: PathBuf, free_bytes: u64 },
    #[error("cannot open the ledger at {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What an SQLite error says about the ledger, for its code: busy, damaged, cannot be
/// opened, or anything else (`store.error`).
fn sqlite_code(source: &rusqlite::Error) -> &'static str {
    use rusqlite::ErrorCode;
    match source.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => "store.busy",
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => "store.corrupt",
        Some(ErrorCode::CannotOpen | ErrorCode::PermissionDenied) => "store.cannot_open",
        Some(ErrorCode::ReadOnly) => "store.read_only",
        Some(ErrorCode::DiskFull) => "store.disk_full",
        _ => "store.error",
    }
}

impl StoreError {
    /// The stable machine code (`--json`, the desktop app); fixed once shipped. Each is
    /// registered in `crate::error::codes`.
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::NewerSchema { .. } => "store.newer_version",
            StoreError::NotAFile { .. } => "db.not_a_file",
            StoreError::NotALedger { .. } => "store.not_a_ledger",
            StoreError::HardLinked { .. } => "store.hard_linked",
            StoreError::ReadOnly { .. } => "store.read_only",
            StoreError::DiskFull { .. } => "store.disk_full",
            StoreError::Busy { .. } => "store.busy",
            StoreError::Damaged { .. } | StoreError::Corrupt { .. } => "store.corrupt",
            StoreError::Io { .. } => "store.cannot_open",
            StoreError::Open { source, .. } => match sqlite_code(source) {
                // Opening failed in a way SQLite does not name: the file cannot be opened.
                "store.error" => "store.cannot_open",
                code => code,
            },
            StoreError::Migration { source, .. } | StoreError::Sqlite(source) => {
                sqlite_code(source)
            }
        }
    }

    /// The input field at fault, when the error is the caller's input.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            StoreError::NotAFile { .. } => Some("db"),
            _ => None,
        }
    }

    /// The values the message is made from; SQLite's or the OS's own words as `detail`.
    pub fn params(&self) -> crate::error::Params {
        use serde_json::json;
        let value = match self {
            StoreError::Open { path, source }
            | StoreError::Busy { path, source }
            | StoreError::Damaged { path, source } => {
                json!({ "path": path, "detail": source.to_string() })
            }
            StoreError::NewerSchema {
                path,
                found,
                supported,
            } => json!({ "path": path, "version": found, "supported_version": supported }),
            StoreError::Migration { name, source } => {
                json!({ "migration": name, "detail": source.to_string() })
            }
            StoreError::Corrupt { what, value } => json!({ "what": what, "value": value }),
            StoreError::Sqlite(source) => json!({ "detail": source.to_string() }),
            StoreError::NotAFile { value, what } => json!({ "value": value, "problem": what }),
            StoreError::NotALedger { path, found } => json!({ "path": path, "found": found }),
            StoreError::HardLinked { path, links } => json!({ "path": path, "links": links }),
            StoreError::ReadOnly { path, cause } => json!({ "path": path, "cause": cause }),
            StoreError::DiskFull { path, free_bytes } => {
                json!({ "path": path, "free_bytes": free_bytes })
            }
            StoreError::Io { path, source } => {
                json!({ "path": path, "detail": source.to_string() })
            }
        };
        crate::error::params(value)
    }

    pub(crate) fn corrupt(what: &'static str, value: impl Into<String>) -> StoreError {
        StoreError::Corrupt {
            what,
            value: value.into(),
        }
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// An open ledger file.
pub struct Store {
    conn: Connection,
    /// As the caller named it, for messages.
    path: PathBuf,
    /// Symlinks and `..` resolved: the file's one name, as SQLite names its -wal by it.
    real_path: PathBuf,
}

/// `PRAGMA journal_mode=WAL`, waiting as the busy timeout would. Two first opens of a new
/// file (still in rollback mode) switching at once both hold a shared lock and want an
/// exclusive one: SQLite refuses one of them with SQLITE_BUSY at once, without calling the
/// busy handler (waiting could deadlock), so that open would fail for nothing. Retried here
/// until the other has switched (then the pragma changes nothing and takes no lock).
fn switch_to_wal(conn: &Connection) -> rusqlite::Result<()> {
    let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
    loop {
        match conn.pragma_update(None, "journal_mode", "WAL") {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(WAL_SWITCH_RETRY);
            }
            other => return other,
        }
    }
}

/// How long a first open waits before trying the WAL switch again (see [`switch_to_wal`]).
const WAL_SWITCH_RETRY: Duration = Duration::from_millis(5);

impl Store {
    /// Opens (creating if needed) the ledger at `path` and brings its schema up to date.
    ///
    /// - A new ledger (a missing path, or an empty file) is created readable by its owner
    ///   only, marked with [`APPLICATION_ID`] and migrated in one transaction.
    /// - Another program's file, a schema version no Daftar writes, or a ledger from a newer
    ///   Daftar is refused before anything is written to it. A ledger of the release before
    ///   the mark is migrated and marked.
    /// - The write lock is taken only when a migration or the mark is pending (checked
    ///   again under the lock): otherwise opening only reads, and works while another
    ///   process holds the write lock.
    /// - A path that is not a file (`:memory:`, a URI) and a file with a second hard link
    ///   are refused; a read-only or full disk is named as such.
    pub fn open(path: &Path) -> Result<Store> {
        file::refuse_non_file(path)?;
        let real_path = file::prepare(path)?;
        let failed = |source| file::sqlite_problem(path, source);
        // No CREATE: `prepare` made the file, private, if it was missing.
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        // By its real path, so every process names the -wal and -shm alike. (On Windows the
        // canonical form is a `\\?\` path, which is left to the lock alone.)
        let sqlite_path = if cfg!(unix) {
            real_path.as_path()
        } else {
            path
        };
        let mut conn = Connection::open_with_flags(sqlite_path, flags).map_err(failed)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(failed)?;
        // Whose file is it? Read first, in one read transaction (no write lock): another
        // program's file or a newer Daftar's must not even get our pragmas.
        let found = {
            let tx = conn.transaction().map_err(failed)?;
            let found = migrate::inspect(&tx).map_err(failed)?;
            tx.finish().map_err(failed)?;
            found
        };
        let pending = migrate::pending(&found, path)?;
        // FULL: a queued refund the merchant was told about survives a power cut too.
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(failed)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(failed)?;
        conn.pragma_update(None, "wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES)
            .map_err(failed)?;
        if pending {
            migrate::apply(&mut conn, path).map_err(|e| match e {
                StoreError::Sqlite(source) => failed(source),
                other => other,
            })?;
        }
        // After the first migration, so a new file is either empty or a marked ledger
        // whatever the moment of a crash. On a ledger already in WAL this changes nothing
        // and takes no lock.
        switch_to_wal(&conn).map_err(failed)?;
        Ok(Store {
            conn,
            path: path.to_path_buf(),
            real_path,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The ledger file's one name (symlinks and `..` resolved): what belongs to the file
    /// rather than to a path, such as the sync lock, lives beside it.
    pub fn real_path(&self) -> &Path {
        &self.real_path
    }

    /// Runs `f` in one write transaction taken with `BEGIN IMMEDIATE`; commits if it
    /// returns `Ok`, rolls everything back otherwise.
    pub fn write<T, E>(
        &mut self,
        f: impl FnOnce(&Transaction<'_>) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E>
    where
        E: From<StoreError>,
    {
        // One span per write (crate::logs): the caller's span (an import, a sync turn) is
        // its parent, so the log says what each write was for and how long it took.
        let span = tracing::debug_span!("store_write");
        let _entered = span.enter();
        let started = std::time::Instant::now();
        let Store { conn, path, .. } = self;
        let failed = |source| {
            let error = file::sqlite_error(path, source);
            tracing::warn!("ledger write failed: {error}");
            error
        };
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(failed)?;
        let value = f(&tx).inspect_err(|_| tracing::debug!("ledger write rolled back"))?;
        tx.commit().map_err(failed)?;
        let elapsed_ms = started.elapsed().as_millis() as u64;
        tracing::debug!(elapsed_ms, "ledger write committed");
        Ok(value)
    }

    /// Runs `f` in one read transaction: a consistent snapshot across several queries.
    pub fn read<T, E>(
        &mut self,
        f: impl FnOnce(&Transaction<'_>) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E>
    where
        E: From<StoreError>,
    {
        let Store { conn, path, .. } = self;
        let failed = |source| file::sqlite_error(path, source);
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Deferred)
            .map_err(failed)?;
        let value = f(&tx)?;
        tx.finish().map_err(failed)?;
        Ok(value)
    }

    /// The schema as SQLite holds it, for the snapshot test and support.
    pub fn schema_sql(&self) -> Result<String> {
        let mut stmt = self.conn.prepare(
            "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY type, name",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(format!(
                "-- {} {}\n{};\n",
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?
            ))
        })?;
        let mut out = String::new();
        for row in rows {
            out.push_str(&row?);
        }
        Ok(out)
    }

    /// The raw connection: the crate's own (a connection setting), and tests' and
    /// benchmarks' that compare against plain SQL (the `test-support` feature); never an
    /// adapter's.
    #[cfg(feature = "test-support")]
    pub fn connection(&mut self) -> &mut Connection {
        &mut self.conn
    }

    #[cfg(not(feature = "test-support"))]
    pub(crate) fn connection(&mut self) -> &mut Connection {
        &mut self.conn
    }
}

/// Reads a text column into one of the model's word enums, naming the column if the
/// ledger holds a word this Daftar does not know.
pub(crate) fn parse_word<T: std::str::FromStr>(what: &'static str, text: String) -> Result<T> {
    text.parse().map_err(|_| StoreError::corrupt(what, text))
}
