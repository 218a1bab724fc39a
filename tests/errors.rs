//! The error contract: one registry of codes (unique, documented, complete), every error as
//! `{code, kind, message, field, params}` both from the core (`ErrorView`) and through the
//! CLI's `--json`, with insta snapshots of one error of each kind; the store's busy code.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::Cli;
use daftar::error::codes::{self, CODES};
use daftar::error::{Error, ErrorKind};
use daftar::money::{Amount, Currency};
use daftar::rules::RuleError;
use daftar::store::{Store, StoreError};
use serde_json::{Value, json};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn every_code_is_unique_and_has_a_line() {
    let mut seen = BTreeSet::new();
    for code in CODES {
        assert!(seen.insert(code.code), "{} is registered twice", code.code);
        assert!(
            !code.about.trim().is_empty(),
            "{} has no description",
            code.code
        );
        assert!(
            code.code
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '_' || c == '.'),
            "{} is not lowercase words and dots",
            code.code
        );
    }
}

/// `docs/errors.md` lists exactly the registered codes, each with its kind.
#[test]
fn every_code_is_documented_with_its_kind() {
    let docs = std::fs::read_to_string(root().join("docs/errors.md")).unwrap();
    let mut documented = BTreeSet::new();
    for line in docs.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // | `code` | kind | meaning |
        if cells.len() < 4 || !cells[1].starts_with('`') {
            continue;
        }
        let code = cells[1].trim_matches('`');
        let registered = codes::lookup(code)
            .unwrap_or_else(|| panic!("docs/errors.md lists {code}, which is not registered"));
        assert_eq!(
            cells[2],
            registered.kind.as_str(),
            "{code}'s kind in docs/errors.md"
        );
        assert!(
            documented.insert(code.to_string()),
            "{code} is documented twice"
        );
    }
    for code in CODES {
        assert!(
            documented.contains(code.code),
            "{} is registered but not in docs/errors.md",
            code.code
        );
    }
}

/// The code literals the source hands to errors: the second argument of `Error::invalid`
/// and of `StopCause::new`, every `code: "..."`, a `(StopReason::X, "...")` pair, and the
/// arms of every `fn code(`. Test modules are left out.
fn codes_in_source() -> BTreeSet<(String, String)> {
    let mut found = BTreeSet::new();
    let mut files = Vec::new();
    collect_rs(&root().join("src"), &mut files);
    // The desktop shell returns codes of its own (`app.*`, `demo.*`).
    collect_rs(&root().join("src-tauri/src"), &mut files);
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let text = text.split("#[cfg(test)]").next().unwrap_or("");
        let name = file.strip_prefix(root()).unwrap().display().to_string();
        let mut add = |literal: &str| {
            found.insert((literal.to_string(), name.clone()));
        };
        for start in ["Error::invalid(", "StopCause::new("] {
            for (at, _) in text.match_indices(start) {
                let call = &text[at + start.len()..];
                let call = &call[..call.find(';').unwrap_or(call.len()).min(400)];
                // The code is the first literal after the first comma.
                if let Some(rest) = call.split_once(',').map(|(_, rest)| rest)
                    && let Some(literal) = first_literal(rest)
                {
                    add(literal);
                }
            }
        }
        // The closing brace of the code function being read, at its indentation.
        let mut code_fn_end: Option<String> = None;
        for line in text.lines() {
            let trimmed = line.trim_start();
            if trimmed.contains("fn code(") || trimmed.contains("fn usage_error(") {
                code_fn_end = Some(format!("{}}}", &line[..line.len() - trimmed.len()]));
            } else if code_fn_end.as_deref() == Some(line) {
                code_fn_end = None;
            }
            let in_code_fn = code_fn_end.is_some();
            for marker in ["code: \"", "(StopReason::"] {
                if let Some(at) = line.find(marker)
                    && let Some(literal) = first_literal(&line[at..])
                {
                    add(literal);
                }
            }
            if in_code_fn
                && let Some(at) = line.find("=> \"")
                && let Some(literal) = first_literal(&line[at..])
            {
                add(literal);
            }
        }
    }
    found
}

fn first_literal(text: &str) -> Option<&str> {
    let start = text.find('"')? + 1;
    let end = start + text[start..].find('"')?;
    let literal = &text[start..end];
    // Codes are dotted words; the few single words are named.
    let looks_like_a_code = (literal.contains('.')
        || ["not_found", "interrupted", "runtime"].contains(&literal))
        && literal
            .chars()
            .all(|c| c.is_ascii_lowercase() || c == '_' || c == '.');
    looks_like_a_code.then_some(literal)
}

fn collect_rs(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect_rs(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_code_the_source_returns_is_registered() {
    let found = codes_in_source();
    // The scan must see the codes it is meant to see, or it proves nothing.
    for expected in [
        "profile.exists",
        "store.busy",
        "sync.running",
        "usage.conflict",
    ] {
        assert!(
            found.iter().any(|(code, _)| code == expected),
            "the scan missed {expected}: {found:?}"
        );
    }
    let missing: Vec<_> = found
        .iter()
        .filter(|(code, _)| codes::lookup(code).is_none())
        .collect();
    assert!(missing.is_empty(), "codes not in the registry: {missing:?}");
}

/// One error of each variant that carries a fixed code: its code is registered, and its
/// kind is the registry's.
#[test]
fn every_variant_code_is_registered() {
    let kwd = |text: &str| Amount::parse(text, Currency::KWD).unwrap();
    let sqlite = |code: i32| {
        rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), Some("said".into()))
    };
    let path = PathBuf::from("/ledger.sqlite3");
    let errors: Vec<Error> = vec![
        Error::from(RuleError::PaymentDeleted),
        Error::from(RuleError::Voided),
        Error::from(RuleError::RefundExceeds {
            requested: kwd("2"),
            refundable: kwd("1"),
        }),
        Error::from(RuleError::CaptureExceeds {
            requested: kwd("2"),
            capturable: kwd("1"),
        }),
        Error::from(RuleError::BalanceOverflow { balance: "pending" }),
        Error::NotDroppable {
            id: 1,
            status: "sent".into(),
        },
        Error::NotRetryable {
            id: 1,
            status: "queued".into(),
        },
        Error::NotResendable {
            id: 1,
            status: "queued".into(),
        },
        Error::AlreadyRetried { id: 1, by: 2 },
        Error::UnresolvedSends {
            profile: "shop".into(),
            count: 1,
            from: "https://a.ottu.net".into(),
            to: "https://b.ottu.net".into(),
        },
        Error::Invariant { what: "x".into() },
        Error::from(StoreError::Sqlite(sqlite(5))),
        Error::from(StoreError::Sqlite(sqlite(6))),
        Error::from(StoreError::Sqlite(sqlite(11))),
        Error::from(StoreError::Sqlite(sqlite(14))),
        Error::from(StoreError::Sqlite(sqlite(1))),
        Error::from(StoreError::Open {
            path: path.clone(),
            source: sqlite(1),
        }),
        Error::from(StoreError::Busy {
            path: path.clone(),
            source: sqlite(5),
        }),
        Error::from(StoreError::Damaged {
            path: path.clone(),
            source: sqlite(11),
        }),
        Error::from(StoreError::NewerSchema {
            path: path.clone(),
            found: 99,
            supported: 6,
        }),
        Error::from(StoreError::Io {
            path,
            source: std::io::Error::other("x"),
        }),
    ];
    for error in errors {
        let code = error.code();
        let registered =
            codes::lookup(code).unwrap_or_else(|| panic!("{code} ({error}) is not registered"));
        assert_eq!(error.kind(), registered.kind, "{code}");
        assert!(ErrorKind::ALL.contains(&error.kind()));
    }
}

/// The split of the old `store.error`: SQLite's result codes map to their own codes.
#[test]
fn sqlite_failures_have_their_own_codes() {
    let code = |n: i32| {
        let source =
            rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(n), Some("said".into()));
        StoreError::Sqlite(source).code()
    };
    assert_eq!(code(5), "store.busy"); // SQLITE_BUSY
    assert_eq!(code(6), "store.busy"); // SQLITE_LOCKED
    assert_eq!(code(11), "store.corrupt"); // SQLITE_CORRUPT
    assert_eq!(code(26), "store.corrupt"); // SQLITE_NOTADB
    assert_eq!(code(14), "store.cannot_open"); // SQLITE_CANTOPEN
    assert_eq!(code(3), "store.cannot_open"); // SQLITE_PERM
    assert_eq!(code(1), "store.error"); // anything else
}

/// A writer that holds the write lock past the busy timeout: `store.busy`, kind
/// unavailable, naming the ledger; nothing written.
#[test]
fn a_held_write_lock_is_store_busy() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.sqlite3");
    let mut store = Store::open(&path).unwrap();
    store
        .connection()
        .busy_timeout(Duration::from_millis(50))
        .unwrap();
    let holder = rusqlite::Connection::open(&path).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let error = store
        .write(|tx| {
            tx.execute("DELETE FROM profiles", [])?;
            Ok::<_, StoreError>(())
        })
        .unwrap_err();
    assert!(matches!(error, StoreError::Busy { .. }), "{error:?}");
    let error = Error::from(error);
    let view = error.view();
    assert_eq!(view.code, "store.busy");
    assert_eq!(view.kind, ErrorKind::Unavailable);
    assert!(
        view.message.contains(&path.display().to_string()),
        "{}",
        view.message
    );
    assert_eq!(view.params["path"], json!(path));
    holder.execute_batch("ROLLBACK").unwrap();
}

/// One error of every kind, as `ErrorView` serialises it.
#[test]
fn error_view_of_every_kind() {
    let kwd = |text: &str| Amount::parse(text, Currency::KWD).unwrap();
    let too_precise = Amount::parse("1.2345", Currency::KWD).unwrap_err();
    let busy = rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(5),
        Some("database is locked".into()),
    );
    let errors = [
        (
            "invalid_input",
            Error::Money {
                field: "amount",
                source: too_precise,
            },
        ),
        (
            "refused",
            Error::from(RuleError::RefundExceeds {
                requested: kwd("6"),
                refundable: kwd("4"),
            }),
        ),
        (
            "not_found",
            Error::NotFound {
                what: "payment",
                field: "session_id",
                key: "s-404".into(),
            },
        ),
        (
            "unavailable",
            Error::from(StoreError::Busy {
                path: PathBuf::from("/home/amal/daftar.sqlite3"),
                source: busy,
            }),
        ),
        ("conflict", Error::AlreadyRetried { id: 3, by: 7 }),
        (
            "internal",
            Error::from(RuleError::BalanceOverflow { balance: "pending" }),
        ),
    ];
    for (kind, error) in errors {
        let view = serde_json::to_value(error.view()).unwrap();
        assert_eq!(view["kind"], kind, "{view}");
        insta::assert_json_snapshot!(format!("error_view_{kind}"), view);
    }
}

// ---- through the CLI ---------------------------------------------------------------------

fn error_json(cli: &Cli, args: &[&str], exit: i32) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let run = cli.run(&all);
    assert_eq!(run.code, exit, "{args:?}: {}{}", run.stdout, run.stderr);
    let mut error = run.json()["error"].clone();
    // Temp paths differ per run.
    let dir = cli.dir.path().display().to_string();
    let text = serde_json::to_string(&error)
        .unwrap()
        .replace(&dir, "[dir]");
    error = serde_json::from_str(&text).unwrap();
    // stderr carries the same message.
    let message = error["message"].as_str().unwrap().replace("[dir]", &dir);
    assert!(run.stderr.contains(&message), "{}", run.stderr);
    error
}

/// An over-refund names the amount and carries the numbers a UI needs.
#[test]
fn an_over_refund_names_the_amount_with_its_numbers() {
    let cli = Cli::new();
    cli.seed(&[("s-1", "o-1", "10", "paid")]);
    cli.ok(&["queue", "refund", "--session-id", "s-1", "--amount", "6"]);
    let error = error_json(
        &cli,
        &["queue", "refund", "--session-id", "s-1", "--amount", "5"],
        3,
    );
    assert_eq!(error["code"], "rules.refund_exceeds");
    assert_eq!(error["kind"], "refused");
    assert_eq!(error["field"], "amount");
    assert_eq!(
        error["params"],
        json!({"requested": "5.000", "refundable": "4.000", "currency": "KWD"})
    );
}

/// One error of every kind through `daftar --json`, with its exit code (unchanged from
/// before kinds existed).
#[test]
fn cli_json_error_of_every_kind() {
    let cli = Cli::new();
    cli.seed(&[
        ("s-1", "o-1", "10", "paid"),
        ("s-2", "o-2", "10", "pending"),
    ]);
    cli.ok(&["queue", "refund", "--session-id", "s-1", "--amount", "6"]);
    cli.ok(&["queue", "cancel", "--session-id", "s-2"]);
    let not_a_ledger = cli.dir.path().join("notes.txt");
    std::fs::write(&not_a_ledger, "not a ledger\n").unwrap();
    let other = Cli {
        dir: tempfile::tempdir().unwrap(),
        db: not_a_ledger,
    };
    let cases: [(&str, &Cli, &[&str], i32); 6] = [
        (
            "invalid_input",
            &cli,
            &[
                "queue",
                "refund",
                "--session-id",
                "s-1",
                "--amount",
                "1.2345",
            ],
            2,
        ),
        (
            "refused",
            &cli,
            &["queue", "refund", "--session-id", "s-1", "--amount", "5"],
            3,
        ),
        ("not_found", &cli, &["payment", "show", "s-404"], 4),
        ("unavailable", &other, &["status"], 1),
        (
            "conflict",
            &cli,
            &["queue", "expire", "--session-id", "s-2"],
            3,
        ),
        ("internal", &cli, &["payment", "list"], 1),
    ];
    for (kind, cli_for, args, exit) in cases {
        if kind == "internal" {
            damage(&cli.db);
        }
        let mut error = error_json(cli_for, args, exit);
        if kind == "unavailable" {
            // The other ledger's temp dir.
            let dir = cli.dir.path().display().to_string();
            error = serde_json::from_str(
                &serde_json::to_string(&error)
                    .unwrap()
                    .replace(&dir, "[dir]"),
            )
            .unwrap();
        }
        if kind == "internal" {
            // SQLite's own words differ between versions; the shape is what is pinned.
            error["params"]["detail"] = json!("[sqlite]");
            error["message"] = json!("[message]");
        }
        assert_eq!(error["kind"], kind, "{error}");
        insta::assert_json_snapshot!(format!("cli_error_{kind}"), error);
    }
}

/// Overwrites the ledger's payment pages with garbage, so reading payments meets
/// SQLITE_CORRUPT while the header and schema still open.
fn damage(db: &Path) {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .unwrap();
    let root: i64 = conn
        .query_row(
            "SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = 'payments'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let page_size: i64 = conn
        .query_row("PRAGMA page_size", [], |r| r.get(0))
        .unwrap();
    drop(conn);
    let mut bytes = std::fs::read(db).unwrap();
    let start = ((root - 1) * page_size) as usize;
    for b in &mut bytes[start..start + page_size as usize] {
        *b = 0xA5;
    }
    std::fs::write(db, bytes).unwrap();
}

/// Params added to an error that has none of its own keep its code, kind, field and
/// message (an import's stop: where it stopped and what was kept).
#[test]
fn params_added_to_any_error_keep_the_rest() {
    let stop = Error::Remote {
        code: "ottu.offline",
        message: "Ottu could not be reached; the import stopped at line 3".into(),
    };
    let before = stop.view();
    let stop = stop.with("line", 3).with("imported", 2);
    let view = stop.view();
    assert_eq!(
        (view.code.as_str(), view.kind, view.field, view.message),
        ("ottu.offline", ErrorKind::Unavailable, None, before.message)
    );
    assert_eq!(json!(view.params), json!({"line": 3, "imported": 2}));
    assert!(matches!(stop.inner(), Error::Remote { .. }));
    let invalid =
        Error::invalid("key", "key.empty", "the API key is empty").with("what", "the API key");
    assert_eq!(json!(invalid.view().params), json!({"what": "the API key"}));
    assert!(matches!(invalid, Error::Invalid { .. }));
}

/// Core text never names a CLI command or flag: the CLI adapter words its own hints
/// (`render::hint`). Flags of other programs in a fix (gnome-keyring-daemon, cp, rsync,
/// find) are allowed.
#[test]
fn core_text_names_no_cli_command_or_flag() {
    let mut files = Vec::new();
    collect_rs(&root().join("src"), &mut files);
    let others = ["gnome-keyring-daemon", "rsync", "find / -xdev", "`cp"];
    let mut found = Vec::new();
    for file in files {
        let name = file.strip_prefix(root()).unwrap().display().to_string();
        if name.starts_with("src/bin/") {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        let text = text.split("#[cfg(test)]").next().unwrap_or("");
        for (n, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") || !code.contains('"') {
                continue;
            }
            let flag = line.match_indices("--").any(|(at, _)| {
                line[at + 2..].starts_with(|c: char| c.is_ascii_lowercase())
                    && !line[..at].ends_with(|c: char| c.is_ascii_alphanumeric())
            });
            let command = line.contains("`daftar") || line.contains("daftar ");
            if (flag || command) && !others.iter().any(|o| line.contains(o)) {
                found.push(format!("{name}:{}: {}", n + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "core text naming the CLI:\n{}",
        found.join("\n")
    );
}

/// A command that stopped part way keeps exit 1 (kind unavailable), even with a code that
/// is bad input when met before anything ran.
#[test]
fn a_stop_is_unavailable_whatever_its_code() {
    let stop = Error::Remote {
        code: "input.unreadable",
        message: "the file could not be read after line 3".into(),
    };
    assert_eq!(stop.kind(), ErrorKind::Unavailable);
    assert_eq!(stop.with("line", 3).kind(), ErrorKind::Unavailable);
    let at_start = Error::invalid("file", "input.unreadable", "cannot open ids.txt");
    assert_eq!(at_start.kind(), ErrorKind::InvalidInput);
}

/// Every code given to `Error::invalid` is bad input in the registry: those errors always
/// exited 2, and the registry decides the exit code now.
#[test]
fn every_invalid_input_code_in_the_source_is_invalid_input() {
    let mut files = Vec::new();
    collect_rs(&root().join("src"), &mut files);
    let mut checked = 0;
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let text = text.split("#[cfg(test)]").next().unwrap_or("");
        for (at, _) in text.match_indices("Error::invalid(") {
            let call = &text[at + "Error::invalid(".len()..];
            let call = &call[..call.find(';').unwrap_or(call.len()).min(400)];
            if let Some(rest) = call.split_once(',').map(|(_, rest)| rest)
                && let Some(code) = first_literal(rest)
            {
                let registered = codes::lookup(code)
                    .unwrap_or_else(|| panic!("{code} ({}) is not registered", file.display()));
                assert_eq!(registered.kind, ErrorKind::InvalidInput, "{code}");
                checked += 1;
            }
        }
    }
    assert!(checked > 20, "the scan found only {checked} codes");
}
