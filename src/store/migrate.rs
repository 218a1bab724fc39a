//! Numbered migrations from `migrations/*.sql`, embedded at build time and applied in
//! one transaction, tracked by `PRAGMA user_version`; the same transaction marks the file
//! as a Daftar ledger ([`APPLICATION_ID`]). A released file is never edited; the schema
//! snapshot test catches an accidental edit.
//!
//! Before anything is written, [`inspect`] reads the mark, the version and the table names
//! and [`pending`] decides whose file it is: a Daftar ledger (marked, or unmarked from the
//! release before the mark, with the ledger's tables), a new one (nothing in it), or
//! something to refuse untouched.

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
    (
        "0003_credential_binding.sql",
        include_str!("../../migrations/0003_credential_binding.sql"),
    ),
    (
        "0004_stored_codes.sql",
        include_str!("../../migrations/0004_stored_codes.sql"),
    ),
    (
        "0005_list_search.sql",
        include_str!("../../migrations/0005_list_search.sql"),
    ),
    (
        "0006_credential_generation.sql",
        include_str!("../../migrations/0006_credential_generation.sql"),
    ),
    (
        "0007_reconciliation.sql",
        include_str!("../../migrations/0007_reconciliation.sql"),
    ),
    (
        "0008_compact_matches.sql",
        include_str!("../../migrations/0008_compact_matches.sql"),
    ),
];

pub const LATEST_VERSION: i64 = MIGRATIONS.len() as i64;

/// `PRAGMA application_id` of every Daftar ledger: "DFTR" in ASCII (0x44465452), kept at
/// byte 68 of the SQLite header, so Daftar (and tools such as `file`) can tell its ledgers
/// from other programs' SQLite files.
pub const APPLICATION_ID: i32 = i32::from_be_bytes(*b"DFTR");

/// The newest schema version released before ledgers were marked. A file without the mark,
/// at a version in `1..=LEGACY_MAX_VERSION` and holding [`LEDGER_TABLES`], is a ledger of
/// that release: it is migrated and marked when next opened.
pub const LEGACY_MAX_VERSION: i64 = 2;

/// Tables every ledger has held since 0001: what an unmarked ledger is recognised by.
const LEDGER_TABLES: &[&str] = &["children", "events", "operations", "payments", "profiles"];

/// Table names listed when refusing another program's file: enough to recognise it.
const LISTED_TABLES: usize = 5;

/// What a file's header and schema say, read before anything is written to it.
pub(super) struct Found {
    application_id: i32,
    version: i64,
    /// Every schema object (tables, indexes, views, triggers): none means nothing to convert.
    objects: usize,
    tables: Vec<String>,
}

/// Reads the mark, the version and the schema's names; the caller holds one read (or
/// write) transaction so the three agree.
pub(super) fn inspect(conn: &Connection) -> rusqlite::Result<Found> {
    let application_id = conn.query_row("PRAGMA application_id", [], |r| r.get(0))?;
    let version = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let mut stmt = conn.prepare("SELECT type, name FROM sqlite_master ORDER BY name")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    let mut objects = 0;
    let mut tables = Vec::new();
    for row in rows {
        let (kind, name) = row?;
        objects += 1;
        if kind == "table" && !name.starts_with("sqlite_") {
            tables.push(name);
        }
    }
    Ok(Found {
        application_id,
        version,
        objects,
        tables,
    })
}

/// Whose file it is; `Ok` gives the schema version to migrate from (0 for a new ledger).
/// Refuses another program's file, a version no Daftar writes, and a newer Daftar's ledger.
fn check(found: &Found, path: &Path) -> Result<i64> {
    let refuse = |found: String| {
        Err(StoreError::NotALedger {
            path: path.to_path_buf(),
            found,
        })
    };
    let version = found.version;
    if found.application_id == APPLICATION_ID {
        if version < 0 {
            return refuse(format!(
                "Daftar's mark with schema version {version}, which no Daftar writes"
            ));
        }
        if version > LATEST_VERSION {
            return Err(StoreError::NewerSchema {
                path: path.to_path_buf(),
                found: version,
                supported: LATEST_VERSION,
            });
        }
        return Ok(version);
    }
    if found.application_id != 0 {
        return refuse(format!(
            "an SQLite database of another program: application_id {:#010x}",
            found.application_id
        ));
    }
    // Nothing in it at all (an empty file, or SQLite's header alone): nothing to convert.
    if version == 0 && found.objects == 0 {
        return Ok(0);
    }
    let ours = LEDGER_TABLES
        .iter()
        .all(|table| found.tables.iter().any(|t| t == table));
    if ours && (1..=LEGACY_MAX_VERSION).contains(&version) {
        return Ok(version);
    }
    if ours {
        return refuse(format!(
            "the ledger's tables without Daftar's mark, at schema version {version}, which no Daftar writes"
        ));
    }
    let mut listed = found
        .tables
        .iter()
        .take(LISTED_TABLES)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    if found.tables.len() > LISTED_TABLES {
        listed.push_str(", ...");
    }
    if listed.is_empty() {
        listed.push_str("none");
    }
    let version = match version {
        0 => String::new(),
        v => format!("schema version {v}, "),
    };
    refuse(format!(
        "an SQLite database of another program: {version}tables: {listed}"
    ))
}

/// Whether opening must take the write lock: migrations to apply, or the mark to set.
pub(super) fn pending(found: &Found, path: &Path) -> Result<bool> {
    let version = check(found, path)?;
    Ok(version < LATEST_VERSION || found.application_id != APPLICATION_ID)
}

/// Applies the pending migrations and sets the mark, in one `BEGIN IMMEDIATE` transaction.
pub(super) fn apply(conn: &mut Connection, path: &Path) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Decide again under the write lock: another process may have migrated meanwhile.
    let found = inspect(&tx)?;
    let current = check(&found, path)?;
    // `check` keeps `current` within 0..=LATEST_VERSION: a negative version can no
    // longer wrap into "skip every migration".
    let first = usize::try_from(current).unwrap_or(usize::MAX);
    for (index, (name, sql)) in MIGRATIONS.iter().enumerate().skip(first) {
        tx.execute_batch(sql)
            .map_err(|source| StoreError::Migration { name, source })?;
        tx.pragma_update(None, "user_version", index as i64 + 1)?;
    }
    if found.application_id != APPLICATION_ID {
        tx.pragma_update(None, "application_id", APPLICATION_ID)?;
    }
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(application_id: i32, version: i64, tables: &[&str]) -> Found {
        Found {
            application_id,
            version,
            objects: tables.len(),
            tables: tables.iter().map(|t| t.to_string()).collect(),
        }
    }

    /// Every kind of file `check` meets: what opens (from which version) and what is refused.
    #[test]
    fn whose_file_it_is() {
        let path = Path::new("/tmp/x.sqlite3");
        let ledger = LEDGER_TABLES;
        let other = ["notes"];
        let cases: &[(Found, std::result::Result<i64, &str>)] = &[
            (found(0, 0, &[]), Ok(0)),
            (found(APPLICATION_ID, 0, &[]), Ok(0)),
            (
                found(APPLICATION_ID, LATEST_VERSION, ledger),
                Ok(LATEST_VERSION),
            ),
            (found(0, 1, ledger), Ok(1)),
            (found(0, LEGACY_MAX_VERSION, ledger), Ok(LEGACY_MAX_VERSION)),
            (
                found(APPLICATION_ID, LATEST_VERSION + 1, ledger),
                Err("store.newer_version"),
            ),
            (found(APPLICATION_ID, -1, ledger), Err("store.not_a_ledger")),
            (found(0, -1, ledger), Err("store.not_a_ledger")),
            (found(0, -1, &[]), Err("store.not_a_ledger")),
            (
                found(0, LEGACY_MAX_VERSION + 1, ledger),
                Err("store.not_a_ledger"),
            ),
            (found(0, 0, ledger), Err("store.not_a_ledger")),
            (found(0, 1, &other), Err("store.not_a_ledger")),
            (found(0, 0, &other), Err("store.not_a_ledger")),
            (found(1234, 0, &[]), Err("store.not_a_ledger")),
            (found(1234, 1, ledger), Err("store.not_a_ledger")),
            // One off Daftar's mark is another program's, even holding the ledger's tables.
            (
                found(APPLICATION_ID + 1, LATEST_VERSION, ledger),
                Err("store.not_a_ledger"),
            ),
        ];
        for (found, expected) in cases {
            let got = check(found, path).map_err(|e| e.code());
            assert_eq!(
                got, *expected,
                "application_id {} version {} tables {:?}",
                found.application_id, found.version, found.tables
            );
        }
    }
}
