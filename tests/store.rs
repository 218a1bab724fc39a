//! The store on a real SQLite file: pragmas, migrations, the schema snapshot, the
//! newer-schema refusal, and the guarantees SQLite itself enforces with triggers.

mod common;

use std::fs;

use daftar::store::{LATEST_VERSION, MIGRATIONS, Store, StoreError};
use rusqlite::Connection;

fn temp_store() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.sqlite3");
    (dir, path)
}

#[test]
fn opens_with_wal_foreign_keys_and_the_latest_schema() {
    let (_dir, path) = temp_store();
    let mut store = Store::open(&path).unwrap();
    let conn = store.connection();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    let fk: i64 = conn
        .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
        .unwrap();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!((mode.as_str(), fk, version), ("wal", 1, LATEST_VERSION));
    drop(store);
    // Reopening applies nothing twice.
    Store::open(&path).unwrap();
}

#[test]
fn schema_matches_the_checked_in_snapshot() {
    let (_dir, path) = temp_store();
    let schema = Store::open(&path).unwrap().schema_sql().unwrap();
    let snapshot_path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/snapshots/schema.sql");
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        fs::write(snapshot_path, &schema).unwrap();
    }
    let snapshot = fs::read_to_string(snapshot_path)
        .expect("tests/snapshots/schema.sql is missing: run with UPDATE_SNAPSHOTS=1 once");
    assert_eq!(
        schema, snapshot,
        "the schema changed: released migrations are never edited; add a new numbered migration, then UPDATE_SNAPSHOTS=1"
    );
}

#[test]
fn every_migration_file_is_embedded_in_order() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");
    let mut files: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".sql"))
        .collect();
    files.sort();
    let embedded: Vec<&str> = MIGRATIONS.iter().map(|(name, _)| *name).collect();
    assert_eq!(files, embedded);
    for (i, name) in embedded.iter().enumerate() {
        assert!(
            name.starts_with(&format!("{:04}_", i + 1)),
            "{name} is out of sequence"
        );
    }
}

#[test]
fn a_ledger_from_a_newer_daftar_is_refused_and_left_untouched() {
    let (_dir, path) = temp_store();
    drop(Store::open(&path).unwrap());
    {
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", LATEST_VERSION + 1)
            .unwrap();
        conn.pragma_update(None, "journal_mode", "DELETE").unwrap();
    }
    let before = fs::read(&path).unwrap();
    let err = Store::open(&path)
        .err()
        .expect("a newer schema must be refused");
    assert!(matches!(err, StoreError::NewerSchema { found, .. } if found == LATEST_VERSION + 1));
    assert!(err.to_string().contains("newer Daftar"), "{err}");
    assert_eq!(fs::read(&path).unwrap(), before, "the file changed");
    // Still in rollback-journal mode: our pragmas never ran.
    let conn = Connection::open(&path).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "delete");
}

#[test]
fn a_file_that_is_not_a_ledger_gets_a_clear_error() {
    let (_dir, path) = temp_store();
    fs::write(&path, b"this is not a database, it is a shopping list").unwrap();
    let err = Store::open(&path).err().expect("garbage must be refused");
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "{err}"
    );
}

#[test]
fn sqlite_refuses_to_rewrite_history() {
    let cli = common::Cli::new();
    cli.seed(&[("s1", "o1", "10", "paid")]);
    cli.ok(&["queue", "refund", "--session-id", "s1", "--amount", "1"]);
    let conn = Connection::open(&cli.db).unwrap();
    for (sql, message) in [
        (
            "UPDATE events SET actor = 'mallory'",
            "events are append-only",
        ),
        ("DELETE FROM events", "events are append-only"),
        (
            "UPDATE operations SET tracking_key = 'x'",
            "tracking_key never changes",
        ),
        ("DELETE FROM operations", "never deleted"),
    ] {
        let err = conn.execute(sql, []).unwrap_err().to_string();
        assert!(err.contains(message), "{sql}: {err}");
    }
    // Status changes are allowed; only the key is frozen.
    conn.execute("UPDATE operations SET status = 'dropped'", [])
        .unwrap();
}

#[test]
fn foreign_keys_are_enforced() {
    let (_dir, path) = temp_store();
    let mut store = Store::open(&path).unwrap();
    let err = store
        .connection()
        .execute(
            "INSERT INTO operations (payment_id, kind, reserved_minor, tracking_key, status, requested_by, created_at_ms, updated_at_ms)
             VALUES (999, 'refund', 1, 'k', 'queued', 't', 0, 0)",
            [],
        )
        .unwrap_err();
    assert!(err.to_string().contains("FOREIGN KEY"), "{err}");
}

#[test]
fn a_new_ledger_is_marked_as_daftars() {
    let (_dir, path) = temp_store();
    drop(Store::open(&path).unwrap());
    let conn = Connection::open(&path).unwrap();
    let app_id: i32 = conn
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .unwrap();
    assert_eq!(app_id, daftar::store::APPLICATION_ID);
    assert_eq!(&app_id.to_be_bytes(), b"DFTR");
}

/// Opening takes the write lock only to migrate: with nothing pending it opens (pragmas
/// included) and reads while another connection holds `BEGIN IMMEDIATE` with a write.
#[test]
fn opening_a_current_ledger_needs_no_write_lock() {
    let (_dir, path) = temp_store();
    drop(Store::open(&path).unwrap());
    let writer = Connection::open(&path).unwrap();
    writer
        .execute_batch(
            "BEGIN IMMEDIATE;
             INSERT INTO profiles (name, base_url, currency, created_at_ms)
             VALUES ('held', 'https://held.ottu.net', 'KWD', 0);",
        )
        .unwrap();
    let started = std::time::Instant::now();
    let mut store = Store::open(&path).unwrap();
    let profiles: i64 = store
        .read(|tx| {
            tx.query_row("SELECT count(*) FROM profiles", [], |r| r.get(0))
                .map_err(StoreError::from)
        })
        .unwrap();
    assert_eq!(profiles, 0, "the writer's row is not committed yet");
    assert!(
        started.elapsed() < daftar::store::BUSY_TIMEOUT / 4,
        "{:?}",
        started.elapsed()
    );
    writer.execute_batch("COMMIT").unwrap();
}

/// Many openers of one new path at once: each decides again under the write lock, so the
/// migrations run once and every opener gets the same, marked ledger.
#[test]
fn concurrent_first_opens_migrate_once() {
    let (_dir, path) = temp_store();
    let openers: Vec<_> = (0..8)
        .map(|_| {
            let path = path.clone();
            std::thread::spawn(move || Store::open(&path).map(drop))
        })
        .collect();
    for opener in openers {
        opener.join().unwrap().unwrap();
    }
    let mut store = Store::open(&path).unwrap();
    let conn = store.connection();
    let (version, app_id): (i64, i32) = conn
        .query_row(
            "SELECT (SELECT user_version FROM pragma_user_version), (SELECT application_id FROM pragma_application_id)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(
        (version, app_id),
        (LATEST_VERSION, daftar::store::APPLICATION_ID)
    );
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn files_that_are_not_ledgers_are_refused_with_typed_errors() {
    let (dir, _) = temp_store();
    let path = dir.path().join("notes.db");
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE notes (body TEXT)")
            .unwrap();
    }
    let err = Store::open(&path).err().expect("another program's file");
    assert!(matches!(err, StoreError::NotALedger { .. }), "{err}");
    assert_eq!(err.code(), "store.not_a_ledger");

    let ledger = dir.path().join("ledger.sqlite3");
    drop(Store::open(&ledger).unwrap());
    let link = dir.path().join("second-name.sqlite3");
    fs::hard_link(&ledger, &link).unwrap();
    let err = Store::open(&ledger).err().expect("a hard-linked ledger");
    assert!(
        matches!(err, StoreError::HardLinked { links: 2, .. }),
        "{err}"
    );

    for text in ["", ":memory:", "file::memory:?cache=shared"] {
        let err = Store::open(std::path::Path::new(text))
            .err()
            .expect("not a file");
        let err = daftar::Error::from(err);
        assert_eq!(
            (err.code(), err.field(), err.kind()),
            ("db.not_a_file", Some("db"), daftar::ErrorKind::InvalidInput),
            "{text:?}"
        );
    }
}

/// A payment whose creation time moves reopens the locked period it leaves and the one it
/// enters, whatever wrote the change (migration 0008's trigger, beside 0007's).
#[test]
fn a_creation_time_that_moves_reopens_both_locked_periods() {
    let (_dir, path) = temp_store();
    let mut store = Store::open(&path).unwrap();
    let conn = store.connection();
    conn.execute_batch(
        "INSERT INTO profiles (id, name, base_url, currency, created_at_ms)
             VALUES (1, 'shop', 'https://shop.ottu.net', 'KWD', 0);
         INSERT INTO payments (id, profile_id, session_id, amount_minor, currency, state, source,
                 created_at_ms, updated_at_ms)
             VALUES (1, 1, 's1', 1000, 'KWD', 'paid', 'ottu', 150, 150),
                    (2, 1, 's2', 1000, 'KWD', 'paid', 'ottu', 150, 150);
         INSERT INTO reconciled_periods (profile_id, from_ms, to_ms, status, locked_at_ms, locked_by)
             VALUES (1, 0, 100, 'locked', 1, 't'), (1, 100, 200, 'locked', 1, 't'),
                    (1, 200, 300, 'locked', 1, 't'), (1, 300, 400, 'locked', 1, 't');",
    )
    .unwrap();
    let periods = |conn: &Connection| -> Vec<(i64, String, Option<i64>, Option<String>)> {
        let mut stmt = conn
            .prepare(
                "SELECT from_ms, status, reopened_by_payment_id, reopen_reason
                 FROM reconciled_periods ORDER BY from_ms",
            )
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    // s1 moves from [100, 200) to [0, 100): left `payment_changed`, entered `payment_added`.
    conn.execute(
        "UPDATE payments SET created_at_ms = 50, updated_at_ms = 500 WHERE id = 1",
        [],
    )
    .unwrap();
    let reopened =
        |reason: &str, by: i64| (String::from("reopened"), Some(by), Some(reason.into()));
    let after = periods(conn);
    assert_eq!(
        after
            .iter()
            .map(|p| (p.1.clone(), p.2, p.3.clone()))
            .collect::<Vec<_>>(),
        vec![
            reopened("payment_added", 1),
            reopened("payment_changed", 1),
            ("locked".into(), None, None),
            ("locked".into(), None, None),
        ]
    );
    // s2 moves into [300, 400) and changes state in the same write: `payment_changed`.
    conn.execute(
        "UPDATE payments SET created_at_ms = 350, state = 'refunded', updated_at_ms = 600
         WHERE id = 2",
        [],
    )
    .unwrap();
    assert_eq!(periods(conn)[3].3.as_deref(), Some("payment_changed"));
    assert_eq!(periods(conn)[2].1, "locked", "s2 never was in [200, 300)");
    // A write that leaves the creation time alone reopens nothing more.
    conn.execute("UPDATE reconciled_periods SET status = 'locked'", [])
        .unwrap();
    conn.execute(
        "UPDATE payments SET created_at_ms = 50, updated_at_ms = 700 WHERE id = 1",
        [],
    )
    .unwrap();
    assert!(periods(conn).iter().all(|p| p.1 == "locked"));
}
