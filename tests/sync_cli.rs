//! The Ottu-facing commands through the real binary and the real OS keyring: `import`
//! (by id and `--from-file`), `sync --json`, `queue retry` and `status` with held work; a
//! sync without a keyring, paused profiles in every sync and `status`, and Ctrl-C.

mod common;
mod hostile;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::Cli;
use common::keyring::{LedgerCleanup, keyring_required, unique_profile};
use common::ottu::sandbox_with_paid;
use daftar_sandbox::{Config, NewPayment, RunningSandbox, Sandbox};
use serde_json::json;

#[test]
fn import_sync_retry_and_status_through_the_cli() {
    if !keyring_required() {
        return;
    }
    let sandbox = Sandbox::start(Config {
        varied_gateways: false,
        ..Config::empty()
    })
    .unwrap();
    for (session, pg) in [("cli-1", "knet"), ("cli-2", "knet"), ("cli-3", "refuse-pg")] {
        let payment: NewPayment = serde_json::from_value(serde_json::json!({
            "session_id": session, "order_no": format!("O-{session}"), "amount": "10.000",
            "state": "paid", "pg_code": pg,
        }))
        .unwrap();
        sandbox.add_payment(payment).unwrap();
    }
    let profile = unique_profile("synccli");
    let cli = Cli::new();
    let _cleanup = LedgerCleanup {
        db: cli.db.clone(),
        users: vec![],
        origins: vec![],
    };
    let p = profile.as_str();
    cli.ok(&[
        "profile",
        "add",
        p,
        "--base-url",
        sandbox.base_url(),
        "--currency",
        "KWD",
    ]);
    let no_key = cli.run(&["--json", "import", "--profile", p, "--session-id", "cli-1"]);
    assert_eq!(no_key.code, 1);
    assert_eq!(no_key.json()["error"]["code"], "ottu.credential");
    assert!(no_key.stderr.contains("set-key"), "{}", no_key.stderr);
    cli.run_stdin(
        &["profile", "set-key", p, "--stdin"],
        &format!("{}\n", sandbox.api_key()),
    );

    let ids = cli.dir.path().join("ids.txt");
    std::fs::write(&ids, "# payments to import\ncli-2\n\ncli-3\n").unwrap();
    let imported = cli.ok_json(&[
        "import",
        "--profile",
        p,
        "--session-id",
        "cli-1",
        "--from-file",
        ids.to_str().unwrap(),
    ]);
    assert_eq!(
        (imported["added"].as_u64(), imported["unchanged"].as_u64()),
        (Some(3), Some(0))
    );
    let again = cli.ok_json(&[
        "import",
        "--profile",
        p,
        "--from-file",
        ids.to_str().unwrap(),
    ]);
    assert_eq!(again["unchanged"], 2);
    assert_eq!(
        cli.run(&["import", "--profile", p, "--session-id", "a b"])
            .code,
        2
    );

    cli.ok(&[
        "queue",
        "refund",
        "--session-id",
        "cli-1",
        "--amount",
        "2.5",
    ]);
    let refused = cli.ok_json(&["queue", "refund", "--session-id", "cli-3", "--amount", "1"]);
    let held = cli.ok_json(&["queue", "refund", "--session-id", "cli-3", "--amount", "2"]);
    let summary = cli.ok_json(&["sync"]);
    assert_eq!(
        (
            summary["succeeded"].as_u64(),
            summary["failed"].as_u64(),
            summary["blocked"].as_u64()
        ),
        (Some(1), Some(1), Some(1)),
        "{summary}"
    );
    let outcome = summary["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == refused["id"])
        .unwrap();
    assert_eq!(outcome["status"], "failed");
    assert!(!outcome["detail"].as_str().unwrap().is_empty());
    let status = cli.ok_json(&["status"]);
    assert_eq!(
        (
            status["succeeded"].as_u64(),
            status["failed"].as_u64(),
            status["blocked"].as_u64()
        ),
        (Some(1), Some(1), Some(1))
    );

    let id = refused["id"].to_string();
    let unconfirmed = cli.run(&["--json", "queue", "retry", &id]);
    assert_eq!(unconfirmed.code, 2);
    assert_eq!(unconfirmed.json()["error"]["field"], "confirm");
    assert_eq!(
        cli.run(&["queue", "retry", &id, "--confirm-not-applied"])
            .code,
        2
    );
    let retried = cli.ok_json(&[
        "queue",
        "retry",
        &id,
        "--confirm-not-applied",
        "--reason",
        "not in Ottu's dashboard",
    ]);
    assert_ne!(retried["tracking_key"], refused["tracking_key"]);
    let succeeded_id = summary["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["status"] == "succeeded")
        .unwrap()["id"]
        .to_string();
    assert_eq!(cli.run(&["queue", "retry", &succeeded_id]).code, 3);
    assert_eq!(cli.run(&["queue", "retry", "999"]).code, 4);
    assert_eq!(cli.run(&["queue", "resend", "999"]).code, 4);
    let not_unresolved = cli.run(&["--json", "queue", "resend", &succeeded_id]);
    assert_eq!(not_unresolved.code, 3);
    assert_eq!(
        not_unresolved.json()["error"]["code"],
        "queue.not_resendable"
    );
    // The held refund was released by the retry and may be dropped now.
    cli.ok(&["queue", "drop", &held["id"].to_string()]);
    let text = cli.ok(&["sync"]).stdout;
    assert!(text.contains("1 failed"), "{text}");
}

/// A sandbox with one paid payment `session`, and a ledger whose profile (returned) points
/// at it with `key` stored, the payment imported and a refund of 2.000 queued.
fn ledger_with_a_queued_refund(session: &str, key: Option<&str>) -> (RunningSandbox, Cli, String) {
    let sandbox = sandbox_with_paid(session);
    let profile = unique_profile("paused");
    let cli = Cli::new();
    let p = profile.as_str();
    cli.add_profile_at(p, sandbox.base_url());
    let stored = cli.run_stdin(
        &["profile", "set-key", p, "--stdin"],
        &format!("{}\n", sandbox.api_key()),
    );
    assert_eq!(stored.code, 0, "{}", stored.stderr);
    cli.ok(&["import", "--profile", p, "--session-id", session]);
    cli.ok(&["queue", "refund", "--session-id", session, "--amount", "2"]);
    if let Some(key) = key {
        let stored = cli.run_stdin(&["profile", "set-key", p, "--stdin"], &format!("{key}\n"));
        assert_eq!(stored.code, 0, "{}", stored.stderr);
    }
    (sandbox, cli, profile)
}

fn cleanup(cli: &Cli) -> LedgerCleanup {
    LedgerCleanup {
        db: cli.db.clone(),
        users: vec![],
        origins: vec![],
    }
}

#[test]
fn a_sync_without_a_keyring_fails_and_stores_nothing_then_drains_with_it() {
    if !keyring_required() {
        return;
    }
    let (_sandbox, cli, profile) = ledger_with_a_queued_refund("nokeyring-1", None);
    let _cleanup = cleanup(&cli);
    let p = profile.as_str();
    // The ledger's rows as the run finds them: the operation (when it was last touched) and
    // how many events there are.
    let untouched = || -> (i64, i64, i64) {
        rusqlite::Connection::open(&cli.db)
            .unwrap()
            .query_row(
                "SELECT attempts, updated_at_ms, (SELECT COUNT(*) FROM events) FROM operations",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap()
    };
    let before = untouched();
    // As from cron: no session bus, so no keyring.
    let run = common::finish(
        cli.command(&["--json", "sync"])
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .output()
            .unwrap(),
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert_eq!(
        run.json()["error"]["code"],
        "secrets.unavailable",
        "{}",
        run.stdout
    );
    assert!(run.stderr.contains("keyring"), "{}", run.stderr);
    // The keyring was found unreachable before anything was claimed: the operation was
    // never marked in flight (no attempt a crash could leave counted) and no event written.
    assert_eq!(untouched(), before);
    // Nothing stored about the profile, and the refund waits untouched.
    let shown = cli.ok_json(&["profile", "show", p]);
    assert_eq!(shown["paused_reason"], serde_json::Value::Null, "{shown}");
    let ops = cli.ok_json(&["queue", "list"]);
    let op = &ops["operations"][0];
    assert_eq!(
        (
            op["status"].as_str(),
            op["attempts"].as_u64(),
            op["sent"].as_bool()
        ),
        (Some("queued"), Some(0), Some(false)),
        "{op}"
    );
    assert_eq!(cli.ok_json(&["status"])["paused"], json!([]));

    // With the keyring back, the refund goes.
    let summary = cli.ok_json(&["sync"]);
    assert_eq!(
        (summary["succeeded"].as_u64(), summary["remaining"].as_u64()),
        (Some(1), Some(0)),
        "{summary}"
    );
    assert_eq!(summary["paused"], json!([]));
}

#[test]
fn a_pause_stored_for_a_missing_keyring_by_an_earlier_version_is_lifted() {
    if !keyring_required() {
        return;
    }
    let (_sandbox, cli, profile) = ledger_with_a_queued_refund("oldpause-1", None);
    let _cleanup = cleanup(&cli);
    let p = profile.as_str();
    let reason = "cannot reach the OS keyring: no D-Bus session bus (Failed to connect to socket); install gnome-keyring";
    rusqlite::Connection::open(&cli.db)
        .unwrap()
        .execute(
            "UPDATE profiles SET paused_reason = ?1, paused_at_ms = 1700000000000 WHERE name = ?2",
            [reason, p],
        )
        .unwrap();
    // `status` shows the old pause and the work it holds ...
    let status = cli.ok_json(&["status"]);
    assert_eq!(status["paused"][0]["profile"], p, "{status}");
    assert_eq!(status["paused"][0]["queued"], 1, "{status}");
    assert_eq!(
        status["profiles"][p]["paused"]["reason"], reason,
        "{status}"
    );
    let text = cli.ok(&["status"]).stdout;
    assert!(
        text.contains(&format!("profile {p} paused since")),
        "{text}"
    );
    // ... and the next sync lifts it (a condition of the machine, not Ottu's answer).
    let summary = cli.ok_json(&["sync"]);
    assert_eq!(summary["succeeded"], 1, "{summary}");
    assert_eq!(summary["paused"], json!([]), "{summary}");
    let shown = cli.ok_json(&["profile", "show", p]);
    assert_eq!(shown["paused_reason"], serde_json::Value::Null, "{shown}");
}

#[test]
fn a_401_pause_stays_visible_in_every_later_sync_and_in_status() {
    if !keyring_required() {
        return;
    }
    let (_sandbox, cli, profile) =
        ledger_with_a_queued_refund("pause401-1", Some("not-the-right-key-123"));
    let _cleanup = cleanup(&cli);
    let p = profile.as_str();
    let first = cli.ok_json(&["sync"]);
    assert_eq!(first["paused"][0][0], p, "{first}");
    assert!(
        first["paused"][0][1].as_str().unwrap().contains("401"),
        "{first}"
    );
    for _ in 0..2 {
        let later = cli.ok_json(&["sync"]);
        assert_eq!(later["paused"], first["paused"], "{later}");
        let pause = &later["paused_profiles"][0];
        assert_eq!(
            (pause["profile"].as_str(), pause["queued"].as_u64()),
            (Some(p), Some(1)),
            "{later}"
        );
        assert!(pause["since"].is_string(), "{later}");
        assert_eq!(pause["this_run_only"], false);
        assert_eq!(later["remaining"], 1, "{later}");
    }
    let text = cli.ok(&["sync"]).stdout;
    assert!(text.contains("1 still queued"), "{text}");
    assert!(
        text.contains(&format!("profile {p} paused since"))
            && text.contains("1 operation(s) waiting"),
        "{text}"
    );
    let status = cli.ok_json(&["status"]);
    assert_eq!(status["queued"], 1, "{status}");
    assert_eq!(status["paused"][0]["profile"], p, "{status}");
    assert!(
        status["profiles"][p]["paused"]["since"].is_string(),
        "{status}"
    );
    let text = cli.ok(&["status"]).stdout;
    assert!(
        text.contains(&format!("profile {p} paused since")),
        "{text}"
    );
}

/// Sends SIGINT to a child process.
fn interrupt(child: &std::process::Child) {
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn ctrl_c_says_it_is_stopping_a_second_stops_at_once_and_the_next_sync_resends_with_the_key() {
    if !keyring_required() {
        return;
    }
    // An "Ottu" that never answers.
    let server = hostile::Hostile::start(|_| hostile::Act::Hang);
    let cli = Cli::new();
    let _cleanup = cleanup(&cli);
    let profile = unique_profile("ctrlc");
    let p = profile.as_str();
    cli.ok(&[
        "profile",
        "add",
        p,
        "--base-url",
        &server.base_url,
        "--currency",
        "KWD",
    ]);
    let stored = cli.run_stdin(&["profile", "set-key", p, "--stdin"], "hang-test-key-123\n");
    assert_eq!(stored.code, 0, "{}", stored.stderr);
    cli.ok(&[
        "payment",
        "add",
        "--profile",
        p,
        "--session-id",
        "hang-1",
        "--order-no",
        "O-hang-1",
        "--amount",
        "10.000",
        "--currency",
        "KWD",
        "--state",
        "paid",
    ]);
    let queued = cli.ok_json(&["queue", "refund", "--session-id", "hang-1", "--amount", "1"]);

    let mut child = cli
        .command(&["sync"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (lines_tx, lines) = mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    server.wait_for(1, Duration::from_secs(20));
    interrupt(&child);
    let said = lines
        .recv_timeout(Duration::from_secs(5))
        .expect("a first Ctrl-C says something");
    assert!(
        said.contains("stopping") && said.contains("Ctrl-C again"),
        "{said}"
    );
    assert!(
        child.try_wait().unwrap().is_none(),
        "still waiting for the answer in flight"
    );
    let at = Instant::now();
    interrupt(&child);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            at.elapsed() < Duration::from_secs(2),
            "a second Ctrl-C stops at once"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(130), "{status:?}");

    // The next sync resends the operation in flight with its own tracking key.
    server.set(|seen| {
        hostile::json(
            "200 OK",
            json!({"result": "success", "success": true, "operation": "refund", "amount": "1.000",
                   "session_id": "hang-1",
                   "txn": {"session_id": "child-hang-1", "amount": "1.000", "currency_code": "KWD",
                           "state": "refunded"},
                   "detail": format!("seen {}", seen.path)}),
        )
    });
    let summary = cli.ok_json(&["sync"]);
    assert_eq!(
        (summary["recovered"].as_u64(), summary["succeeded"].as_u64()),
        (Some(1), Some(1)),
        "{summary}"
    );
    let seen = server.seen();
    assert_eq!(seen.len(), 2, "{seen:?}");
    let key = queued["tracking_key"].as_str().unwrap();
    assert_eq!(seen[0].tracking_key.as_deref(), Some(key));
    assert_eq!(seen[1].tracking_key.as_deref(), Some(key));
}
