//! Helpers shared by the integration tests: run the real `daftar` binary on a real
//! SQLite file in a temp dir, and dump a ledger's content to compare before and after.

#![allow(dead_code)]

pub mod keyring;
pub mod ottu;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rusqlite::Connection;
use serde_json::Value;
use tempfile::TempDir;

pub struct Cli {
    pub dir: TempDir,
    pub db: PathBuf,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.stdout))
    }
}

impl Cli {
    pub fn new() -> Cli {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("ledger.sqlite3");
        Cli { dir, db }
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_daftar"));
        cmd.arg("--db")
            .arg(&self.db)
            .args(args)
            .env("USER", "tester")
            // The log files go beside the test's ledger, not into the user's log directory.
            .env("DAFTAR_LOG_DIR", self.dir.path().join("logs"));
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Run {
        finish(self.command(args).output().expect("run daftar"))
    }

    /// Runs and insists on exit 0.
    pub fn ok(&self, args: &[&str]) -> Run {
        let run = self.run(args);
        assert_eq!(
            run.code, 0,
            "daftar {args:?} failed: {}{}",
            run.stdout, run.stderr
        );
        run
    }

    pub fn ok_json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        self.ok(&all).json()
    }

    /// A profile `shop` in KWD and one payment per `(session_id, order_no, amount, state)`.
    pub fn seed(&self, payments: &[(&str, &str, &str, &str)]) {
        self.ok(&[
            "profile",
            "add",
            "shop",
            "--base-url",
            "https://shop.ottu.net",
            "--currency",
            "KWD",
        ]);
        for (session, order, amount, state) in payments {
            self.ok(&[
                "payment",
                "add",
                "--profile",
                "shop",
                "--session-id",
                session,
                "--order-no",
                order,
                "--amount",
                amount,
                "--currency",
                "KWD",
                "--state",
                state,
            ]);
        }
    }

    pub fn dump(&self) -> String {
        dump(&self.db)
    }
}

pub fn finish(output: Output) -> Run {
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Every row of every table, in rowid order, as text: equal dumps mean equal ledgers.
pub fn dump(db: &Path) -> String {
    let conn = Connection::open(db).expect("open for dump");
    let mut tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    tables.retain(|t| !t.starts_with("sqlite_"));
    let mut out = String::new();
    for table in tables {
        out.push_str(&format!("== {table}\n"));
        let mut stmt = conn
            .prepare(&format!("SELECT * FROM {table} ORDER BY rowid"))
            .unwrap();
        let columns = stmt.column_count();
        let rows = stmt
            .query_map([], |r| {
                let cells: Vec<String> = (0..columns)
                    .map(|i| format!("{:?}", r.get_ref(i).unwrap()))
                    .collect();
                Ok(cells.join(" | "))
            })
            .unwrap();
        for row in rows {
            out.push_str(&row.unwrap());
            out.push('\n');
        }
    }
    out
}

/// A ledger file as the previous release left it: WAL, migrations 0001 and 0002, and the
/// profile `shop`. The connection is returned to add rows of that schema.
pub fn previous_release_ledger(path: &Path) -> Connection {
    let conn = Connection::open(path).unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    for (i, (_, sql)) in daftar::store::MIGRATIONS.iter().take(2).enumerate() {
        conn.execute_batch(sql).unwrap();
        conn.pragma_update(None, "user_version", i as i64 + 1)
            .unwrap();
    }
    conn.execute(
        "INSERT INTO profiles (name, base_url, currency, created_at_ms) VALUES ('shop', 'https://shop.ottu.net', 'KWD', 0)",
        [],
    )
    .unwrap();
    conn
}
