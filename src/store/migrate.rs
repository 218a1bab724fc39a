//! Numbered migrations from `migrations/*.sql`, embedded at build time and applied in
//! one transaction, tracked by `PRAGMA user_version`. A released file is never edited;
//! the schema snapshot test catches an accidental edit.

use std::path::Path;

use rusqlite::{Connection, TransactionBehavior};

use super::{Result, StoreError};

/// `(name, sql)` in order; migration `i` (0-based) brings the schema to version `i + 1`.
pub const MIGRATIONS: &[(&str, &str)] = &[
    (
        "0001_ledger.sql",
        include_str!("../../migrations/0001_ledger.sql"),
    ),
    (
        "0002_sync.sql",
        include_str!("../../migrations/0002_sync.sql"),
    ),
];

pub const LATEST_VERSION: i64 = MIGRATIONS.len() as i64;

pub(super) fn apply(conn: &mut Connection, path: &Path) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Re-read under the write lock: another process may have migrated meanwhile.
    let current: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current > LATEST_VERSION {
        return Err(StoreError::NewerSchema {
            path: path.to_path_buf(),
            found: current,
            supported: LATEST_VERSION,
        });
    }
    for (index, (name, sql)) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        tx.execute_batch(sql)
            .map_err(|source| StoreError::Migration { name, source })?;
        tx.pragma_update(None, "user_version", index as i64 + 1)?;
    }
    tx.commit()?;
    Ok(())
}
