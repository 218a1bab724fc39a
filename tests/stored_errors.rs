//! What the ledger stores about a failure is a code and params (migration 0004), and the
//! message shown is built from them when read; a row written before (prose only) still
//! reads as its prose. Through the real binary, the OS keyring and the Ottu sandbox: a
//! refused key pauses the profile.

mod common;

use common::Cli;
use common::keyring::{LedgerCleanup, keyring_required, unique_profile};
use common::ottu::sandbox_with_paid;
use daftar_sandbox::RunningSandbox;
use rusqlite::Connection;
use serde_json::Value;

fn paused_by_a_refused_key(session: &str) -> (RunningSandbox, Cli, String) {
    let sandbox = sandbox_with_paid(session);
    let profile = unique_profile("stored");
    let cli = Cli::new();
    let p = profile.as_str();
    cli.add_profile_at(p, sandbox.base_url());
    let set = |key: &str| {
        let run = cli.run_stdin(&["profile", "set-key", p, "--stdin"], &format!("{key}\n"));
        assert_eq!(run.code, 0, "{}", run.stderr);
    };
    set(sandbox.api_key());
    cli.ok(&["import", "--profile", p, "--session-id", session]);
    cli.ok(&["queue", "refund", "--session-id", session, "--amount", "2"]);
    set("not-the-right-key-123");
    let summary = cli.ok_json(&["sync"]);
    assert_eq!(summary["paused"][0][0], p, "{summary}");
    (sandbox, cli, profile)
}

fn one<T: rusqlite::types::FromSql>(db: &Connection, sql: &str) -> T {
    db.query_row(sql, [], |r| r.get(0)).unwrap()
}

fn params(db: &Connection, sql: &str) -> Value {
    serde_json::from_str(&one::<String>(db, sql)).unwrap()
}

#[test]
fn a_pause_and_a_last_error_are_stored_as_code_and_params_and_read_back_built_from_them() {
    if !keyring_required() {
        return;
    }
    let (_sandbox, cli, profile) = paused_by_a_refused_key("stored-1");
    let _cleanup = LedgerCleanup {
        db: cli.db.clone(),
        users: vec![],
        origins: vec![],
    };
    let p = profile.as_str();
    let db = Connection::open(&cli.db).unwrap();

    // Stored: the code and the values, Ottu's words as `detail`.
    assert_eq!(
        one::<String>(&db, "SELECT paused_code FROM profiles"),
        "ottu.auth"
    );
    let paused = params(&db, "SELECT paused_params FROM profiles");
    assert_eq!(paused["status"], 401, "{paused}");
    assert!(
        paused["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{paused}"
    );
    assert_eq!(
        one::<String>(&db, "SELECT last_error_code FROM operations"),
        "ottu.auth"
    );
    assert_eq!(
        params(&db, "SELECT last_error_params FROM operations")["status"],
        401
    );
    // The event carries them beside its English reason.
    let event = params(
        &db,
        "SELECT after_json FROM events WHERE action = 'profile.paused'",
    );
    assert_eq!(
        (event["code"].as_str(), event["params"]["status"].as_i64()),
        (Some("ottu.auth"), Some(401)),
        "{event}"
    );

    // Read: built from the code and params, not from the prose column. Changing a param
    // (and only it) changes what is shown.
    db.execute_batch(
        "UPDATE profiles SET paused_params = json_set(paused_params, '$.detail', 'from the params');
         UPDATE operations SET last_error_params = json_set(last_error_params, '$.detail', 'op from the params');",
    )
    .unwrap();
    let shown = cli.ok_json(&["profile", "show", p]);
    let reason = shown["paused_reason"].as_str().unwrap();
    assert!(
        reason.starts_with("Ottu did not accept") && reason.contains("from the params"),
        "{shown}"
    );
    let prose: String = one(&db, "SELECT paused_reason FROM profiles");
    assert!(!prose.contains("from the params"), "{prose}");
    let payment = cli.ok_json(&["payment", "show", "stored-1"]);
    let last_error = payment["operations"][0]["last_error"].as_str().unwrap();
    assert!(last_error.contains("op from the params"), "{payment}");
    // The views hand the code and params to a UI beside the English.
    assert_eq!(shown["paused_code"], "ottu.auth", "{shown}");
    assert_eq!(
        shown["paused_params"]["detail"], "from the params",
        "{shown}"
    );
    let op = &payment["operations"][0];
    assert_eq!(op["last_error_code"], "ottu.auth", "{op}");
    assert_eq!(op["last_error_params"]["status"], 401, "{op}");

    // A row written before codes were stored (prose only) reads as its prose.
    db.execute_batch(
        "UPDATE profiles SET paused_reason = 'Ottu refused: an old pause, in prose',
                             paused_code = NULL, paused_params = NULL;
         UPDATE operations SET last_error = 'an old last error, in prose',
                               last_error_code = NULL, last_error_params = NULL;",
    )
    .unwrap();
    let shown = cli.ok_json(&["profile", "show", p]);
    assert_eq!(
        shown["paused_reason"],
        "Ottu refused: an old pause, in prose"
    );
    assert!(shown.get("paused_code").is_none(), "{shown}");
    let payment = cli.ok_json(&["payment", "show", "stored-1"]);
    assert_eq!(
        payment["operations"][0]["last_error"],
        "an old last error, in prose"
    );
}

/// A statement that rewrites the prose without the code (an older code path, a pause
/// lifted) leaves no stale code behind.
#[test]
fn rewriting_the_prose_alone_drops_the_code() {
    if !keyring_required() {
        return;
    }
    let (_sandbox, cli, profile) = paused_by_a_refused_key("stored-2");
    let _cleanup = LedgerCleanup {
        db: cli.db.clone(),
        users: vec![],
        origins: vec![],
    };
    let db = Connection::open(&cli.db).unwrap();
    db.execute("UPDATE operations SET last_error = 'rewritten'", [])
        .unwrap();
    assert_eq!(
        one::<Option<String>>(&db, "SELECT last_error_code FROM operations"),
        None
    );
    let payment = cli.ok_json(&["payment", "show", "stored-2"]);
    assert_eq!(payment["operations"][0]["last_error"], "rewritten");
    // Setting the key again lifts the pause: its code goes with it.
    let run = cli.run_stdin(
        &["profile", "set-key", profile.as_str(), "--stdin"],
        "still-not-the-key-456\n",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        one::<Option<String>>(&db, "SELECT paused_code FROM profiles"),
        None
    );
}
