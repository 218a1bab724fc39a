//! The Ottu-facing commands through the real binary and the real OS keyring: `import`
//! (by id and `--from-file`), `sync --json`, `queue retry` and `status` with held work.

mod common;

use common::Cli;
use common::keyring::{Cleanup, api_slot, keyring_required, unique_profile};
use daftar::secrets::KeyringStore;
use daftar_sandbox::{Config, NewPayment, Sandbox};

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
    let _cleanup = Cleanup(KeyringStore::new(), vec![api_slot(&profile)]);
    let cli = Cli::new();
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
