//! SQLite storage: opening a ledger file (WAL, foreign keys, busy timeout), the
//! migrations runner, and one module per table group that owns its SQL. Nothing outside
//! this folder writes SQL.
//!
//! Invariant guarded here: every write that matters runs in one `BEGIN IMMEDIATE`
//! transaction together with its audit event, so the write lock is held before any
//! balance that is about to be spent is read.

pub mod children;
pub mod events;
mod migrate;
pub mod operations;
pub mod outbox;
pub mod payments;
pub mod profiles;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};
use thiserror::Error;

pub use children::ChildInsert;
pub use events::EventInsert;
pub use migrate::{LATEST_VERSION, MIGRATIONS};
pub use operations::{OperationFilter, OperationInsert, StatusCounts};
pub use payments::{PaymentFilter, PaymentRef};

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
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

impl StoreError {
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
    path: PathBuf,
}

impl Store {
    /// Opens (creating if needed) the ledger at `path` and brings its schema up to date.
    /// A ledger from a newer Daftar is refused before anything is written to it.
    pub fn open(path: &Path) -> Result<Store> {
        let open_error = |source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        };
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut conn = Connection::open_with_flags(path, flags).map_err(open_error)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_error)?;
        // Read the version first: a newer file must not even get our pragmas.
        let found: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(open_error)?;
        if found > LATEST_VERSION {
            return Err(StoreError::NewerSchema {
                path: path.to_path_buf(),
                found,
                supported: LATEST_VERSION,
            });
        }
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(open_error)?;
        // FULL: a queued refund the merchant was told about survives a power cut too.
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(open_error)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(open_error)?;
        conn.pragma_update(None, "wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES)
            .map_err(open_error)?;
        migrate::apply(&mut conn, path)?;
        Ok(Store {
            conn,
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
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
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(StoreError::from)?;
        let value = f(&tx)?;
        tx.commit().map_err(StoreError::from)?;
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
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Deferred)
            .map_err(StoreError::from)?;
        let value = f(&tx)?;
        tx.finish().map_err(StoreError::from)?;
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

    /// The raw connection, for tests and benchmarks that compare against plain SQL.
    #[doc(hidden)]
    pub fn connection(&mut self) -> &mut Connection {
        &mut self.conn
    }
}

/// Reads a text column into one of the model's word enums, naming the column if the
/// ledger holds a word this Daftar does not know.
pub(crate) fn parse_word<T: std::str::FromStr>(what: &'static str, text: String) -> Result<T> {
    text.parse().map_err(|_| StoreError::corrupt(what, text))
}
