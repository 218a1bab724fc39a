//! The `daftar` binary end to end on a real SQLite file: the `--json` shapes scripts rely
//! on, the exit codes, and that a refused or invalid command changes nothing.

mod common;

use common::Cli;
use serde_json::Value;

fn keys(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    keys
}

#[test]
fn payment_show_json_has_the_documented_shape() {
    let cli = Cli::new();
    cli.seed(&[("sess-1", "ord-1", "10", "paid")]);
    let queued = cli.ok_json(&[
        "queue",
        "refund",
        "--session-id",
        "sess-1",
        "--amount",
        "2.5",
        "--reason",
        "damaged",
    ]);
    let show = cli.ok_json(&["payment", "show", "sess-1"]);
    for key in [
        "session_id",
        "order_no",
        "profile",
        "currency",
        "amount",
        "state",
        "balances",
        "operations",
        "events",
    ] {
        assert!(show.get(key).is_some(), "payment show lacks {key}: {show}");
    }
    assert_eq!(show["amount"], "10.000");
    assert_eq!(show["currency"], "KWD");
    assert_eq!(show["profile"], "shop");
    assert_eq!(
        keys(&show["balances"]),
        [
            "capturable",
            "captured",
            "pending",
            "refundable",
            "refunded",
            "voided"
        ]
    );
    assert_eq!(show["balances"]["refundable"], "7.500");
    assert_eq!(show["balances"]["pending"], "2.500");
    assert_eq!(show["balances"]["captured"], "10.000");
    let op = &show["operations"][0];
    for key in [
        "id",
        "kind",
        "amount",
        "status",
        "tracking_key",
        "created_at",
    ] {
        assert!(op.get(key).is_some(), "operation lacks {key}: {op}");
    }
    assert_eq!(op["amount"], "2.500");
    assert_eq!(op["kind"], "refund");
    assert_eq!(op["status"], "queued");
    assert_eq!(op["tracking_key"], queued["tracking_key"]);
    assert_eq!(op["id"], queued["id"]);
    let actions: Vec<&str> = show["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["payment.added", "operation.queued"]);
    // The OS account (as `id -un` names it), not the USER the helper sets.
    let account = std::process::Command::new("id")
        .arg("-un")
        .output()
        .unwrap();
    let account = String::from_utf8(account.stdout).unwrap();
    assert_eq!(
        show["events"][1]["actor"],
        format!("cli:{}", account.trim())
    );
    assert_eq!(show["events"][1]["after"]["reason"], "damaged");
}

#[test]
fn queue_json_prints_the_id_and_a_fresh_uuid_tracking_key() {
    let cli = Cli::new();
    cli.seed(&[("s1", "o1", "10", "paid")]);
    let first = cli.ok_json(&["queue", "refund", "--session-id", "s1", "--amount", "1"]);
    let second = cli.ok_json(&["queue", "refund", "--order-no", "o1"]);
    assert_eq!(first["status"], "queued");
    assert_eq!(first["kind"], "refund");
    let key = first["tracking_key"].as_str().unwrap();
    assert!(uuid::Uuid::parse_str(key).is_ok(), "{key}");
    assert_ne!(first["tracking_key"], second["tracking_key"]);
    assert_ne!(first["id"], second["id"]);
    // Without an amount: what remained, and nothing is left after.
    assert_eq!(second["amount"], "9.000");
    assert_eq!(second["requested_amount"], Value::Null);
    assert_eq!(second["balances"]["refundable"], "0.000");
    // Human text names the operation id and its tracking key too.
    cli.ok(&[
        "payment",
        "add",
        "--profile",
        "shop",
        "--session-id",
        "s2",
        "--amount",
        "3",
        "--currency",
        "KWD",
        "--state",
        "paid",
    ]);
    let text = cli.ok(&["queue", "refund", "--session-id", "s2"]).stdout;
    assert!(
        text.contains("operation 3") && text.contains("tracking key"),
        "{text}"
    );
}

#[test]
fn status_json_counts_every_status_per_profile() {
    let cli = Cli::new();
    cli.seed(&[
        ("s1", "o1", "10", "paid"),
        ("s2", "o2", "5", "authorized"),
        ("s3", "o3", "1", "pending"),
    ]);
    cli.ok(&["queue", "refund", "--session-id", "s1", "--amount", "1"]);
    cli.ok(&["queue", "capture", "--session-id", "s2", "--amount", "2"]);
    let cancel = cli.ok_json(&["queue", "cancel", "--session-id", "s3"]);
    cli.ok(&["queue", "drop", &cancel["id"].to_string()]);
    let status = cli.ok_json(&["status"]);
    assert_eq!(status["queued"], 2);
    assert_eq!(status["dropped"], 1);
    for key in ["in_flight", "succeeded", "failed", "needs_attention"] {
        assert_eq!(status[key], 0, "{key}");
    }
    assert_eq!(status["profiles"]["shop"]["queued"], 2);
    cli.ok(&[
        "profile",
        "add",
        "other",
        "--base-url",
        "https://o.ottu.net",
        "--currency",
        "SAR",
    ]);
    let status = cli.ok_json(&["status"]);
    assert_eq!(status["profiles"]["other"]["queued"], 0);
}

#[test]
fn dropping_releases_the_reservation_and_is_recorded_not_deleted() {
    let cli = Cli::new();
    cli.seed(&[("s1", "o1", "10", "paid")]);
    let op = cli.ok_json(&["queue", "refund", "--session-id", "s1", "--amount", "8"]);
    let refused = cli.run(&["queue", "refund", "--session-id", "s1", "--amount", "3"]);
    assert_eq!(refused.code, 3);
    let dropped = cli.ok_json(&["queue", "drop", &op["id"].to_string(), "--reason", "typo"]);
    assert_eq!(dropped["status"], "dropped");
    cli.ok(&["queue", "refund", "--session-id", "s1", "--amount", "3"]);
    let show = cli.ok_json(&["payment", "show", "s1"]);
    assert_eq!(show["operations"].as_array().unwrap().len(), 2);
    assert_eq!(show["balances"]["refundable"], "7.000");
    let drop_event = show["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "operation.dropped")
        .expect("a drop event");
    assert_eq!(drop_event["before"]["status"], "queued");
    assert_eq!(drop_event["after"]["status"], "dropped");
    assert_eq!(drop_event["after"]["reason"], "typo");
    let list = cli.ok_json(&["queue", "list", "--status", "dropped"]);
    assert_eq!(list["operations"].as_array().unwrap().len(), 1);
}

/// Each bad command: its arguments, the exit code, and text its message must contain.
const BAD_COMMANDS: &[(&[&str], i32, &[&str])] = &[
    (
        &[
            "queue",
            "refund",
            "--session-id",
            "s1",
            "--amount",
            "1.0001",
        ],
        2,
        &["amount", "at most 3"],
    ),
    (
        &["queue", "refund", "--session-id", "s1", "--amount", "-1"],
        2,
        &["amount", "greater than zero"],
    ),
    (
        &["queue", "refund", "--session-id", "s1", "--amount", "0"],
        2,
        &["amount", "greater than zero"],
    ),
    (
        &[
            "queue",
            "refund",
            "--session-id",
            "s1",
            "--amount",
            "12345678901234",
        ],
        2,
        &["amount", "13 digits"],
    ),
    (
        &["queue", "refund", "--session-id", "s1", "--amount", "1e3"],
        2,
        &["amount", "plain decimal"],
    ),
    (
        &["queue", "refund", "--session-id", "s1", "--amount", "1,000"],
        2,
        &["amount", "plain decimal"],
    ),
    (
        &["queue", "refund", "--session-id", "s1", "--amount", " 5"],
        2,
        &["amount", "plain decimal"],
    ),
    (
        &["queue", "refund", "--session-id", "s1", "--amount", "NaN"],
        2,
        &["amount", "plain decimal"],
    ),
    (
        &["queue", "refund", "--session-id", "s1", "--amount", "6"],
        3,
        &["refund 6.000 KWD exceeds the refundable 4.000 KWD"],
    ),
    (
        &["queue", "capture", "--session-id", "s1", "--amount", "1"],
        3,
        &["capture", "'paid'", "authorized"],
    ),
    (
        &["queue", "refund", "--session-id", "created-1"],
        3,
        &["refund", "'created'"],
    ),
    (
        &["queue", "expire", "--session-id", "s1"],
        3,
        &["expire", "created, pending, attempted"],
    ),
    (
        &["queue", "void", "--session-id", "auth-1", "--amount", "5"],
        2,
        &["void takes no amount", "--amount"],
    ),
    (
        &[
            "queue",
            "capture",
            "--session-id",
            "auth-1",
            "--amount",
            "5.001",
        ],
        3,
        &["capture 5.001 KWD exceeds the capturable 5.000 KWD"],
    ),
    (
        &["queue", "refund", "--session-id", "nope"],
        4,
        &["session id nope not found"],
    ),
    (
        &["queue", "refund", "--order-no", "nope"],
        4,
        &["order number nope not found"],
    ),
    (
        &[
            "queue",
            "refund",
            "--session-id",
            "s1",
            "--profile",
            "ghost",
        ],
        4,
        &["profile ghost not found"],
    ),
    (&["queue", "refund"], 2, &["--session-id"]),
    (
        &["queue", "refund", "--session-id", "s1", "--order-no", "o1"],
        2,
        &["cannot be used with"],
    ),
    (
        &["queue", "refund", "--session-id", "a b"],
        2,
        &["session_id", "space"],
    ),
    (&["queue", "refnd", "--session-id", "s1"], 2, &["refnd"]),
    (
        &[
            "queue",
            "refund",
            "--session-id",
            "s1",
            "--reason",
            "two\nlines",
        ],
        2,
        &["reason", "one line"],
    ),
    (&["queue", "drop", "999"], 4, &["operation 999 not found"]),
    (
        &["queue", "drop", "-1"],
        2,
        &["operation id '-1'", "from 1 up"],
    ),
    (
        &["queue", "retry", "0"],
        2,
        &["operation id '0'", "from 1 up"],
    ),
    (
        &["queue", "drop", "2"],
        3,
        &["operation 2 is dropped", "queued"],
    ),
    (
        &["queue", "list", "--status", "lost"],
        2,
        &["status", "queued, in_flight"],
    ),
    (
        &[
            "payment",
            "add",
            "--profile",
            "shop",
            "--session-id",
            "x",
            "--amount",
            "1",
            "--currency",
            "KWX",
            "--state",
            "paid",
        ],
        2,
        &["currency", "'KWX'", "KWD"],
    ),
    (
        &[
            "payment",
            "add",
            "--profile",
            "shop",
            "--session-id",
            "x",
            "--amount",
            "1",
            "--currency",
            "KWD",
            "--state",
            "done",
        ],
        2,
        &["state", "'done'", "authorized"],
    ),
    (
        &[
            "payment",
            "add",
            "--profile",
            "shop",
            "--session-id",
            "x",
            "--amount",
            "1.5",
            "--currency",
            "JPY",
            "--state",
            "paid",
        ],
        2,
        &["amount", "JPY", "at most 0"],
    ),
    (
        &[
            "payment",
            "add",
            "--profile",
            "shop",
            "--session-id",
            "x",
            "--amount",
            "0",
            "--currency",
            "KWD",
            "--state",
            "paid",
        ],
        2,
        &["amount", "greater than zero"],
    ),
    (
        &[
            "payment",
            "add",
            "--profile",
            "shop",
            "--session-id",
            "s1",
            "--amount",
            "1",
            "--currency",
            "KWD",
            "--state",
            "paid",
        ],
        2,
        &["session_id", "already"],
    ),
    (
        &[
            "payment",
            "add",
            "--profile",
            "ghost",
            "--session-id",
            "x",
            "--amount",
            "1",
            "--currency",
            "KWD",
            "--state",
            "paid",
        ],
        4,
        &["profile ghost not found"],
    ),
    // One wording for every page size, the core's: the field, the value, the range.
    (
        &["payment", "list", "--limit", "0"],
        2,
        &["limit: 0 is out of range: allowed is 1 to 10000"],
    ),
    (
        &["payment", "list", "--limit", "-1"],
        2,
        &["limit: -1 is out of range: allowed is 1 to 10000"],
    ),
    (
        &["payment", "list", "--limit", "4294967296"],
        2,
        &["limit: 4294967296 is out of range: allowed is 1 to 10000"],
    ),
    (
        &["queue", "list", "--limit", "10001"],
        2,
        &["limit: 10001 is out of range: allowed is 1 to 10000"],
    ),
    (
        &["queue", "list", "--limit", "-1"],
        2,
        &["limit: -1 is out of range: allowed is 1 to 10000"],
    ),
    // Not a number at all (or past any i64): clap says so, naming the option and range.
    (
        &["queue", "list", "--limit", "ten"],
        2,
        &["--limit", "'ten'", "1 to 10000"],
    ),
    (
        &["payment", "list", "--limit", "99999999999999999999"],
        2,
        &["--limit", "1 to 10000"],
    ),
    (
        &["sync", "--concurrency", "0"],
        2,
        &["--concurrency", "'0'", "from 1 to 32"],
    ),
    (
        &["sync", "--concurrency", "100000"],
        2,
        &["--concurrency", "from 1 to 32"],
    ),
    (
        &["sync", "--concurrency", "-3"],
        2,
        &["--concurrency", "from 1 to 32"],
    ),
    (
        &["payment", "list", "--state", "gone"],
        2,
        &["state", "'gone'"],
    ),
    (&["payment", "show", "nope"], 4, &["nope"]),
    (
        &[
            "profile",
            "add",
            "shop",
            "--base-url",
            "https://x.ottu.net",
            "--currency",
            "KWD",
        ],
        2,
        &["name", "already exists"],
    ),
    (
        &[
            "profile",
            "add",
            "p2",
            "--base-url",
            "http://x.ottu.net",
            "--currency",
            "KWD",
        ],
        2,
        &["base_url", "https://"],
    ),
    (
        &[
            "profile",
            "add",
            "p2",
            "--base-url",
            "https://x.ottu.net",
            "--currency",
            "kwd",
        ],
        2,
        &["currency", "KWD"],
    ),
];

#[test]
fn bad_input_gets_its_exit_code_and_a_message_and_changes_nothing() {
    let cli = Cli::new();
    cli.seed(&[
        ("s1", "o1", "10", "paid"),
        ("created-1", "o2", "3", "created"),
        ("auth-1", "o3", "5", "authorized"),
    ]);
    cli.ok(&["queue", "refund", "--session-id", "s1", "--amount", "6"]);
    // Operation 2 is dropped, for the case that drops it again.
    let capture = cli.ok_json(&[
        "queue",
        "capture",
        "--session-id",
        "auth-1",
        "--amount",
        "1",
    ]);
    assert_eq!(capture["id"], 2);
    cli.ok(&["queue", "drop", "2"]);
    let before = cli.dump();
    for (args, code, needles) in BAD_COMMANDS {
        let run = cli.run(args);
        assert_eq!(
            run.code, *code,
            "daftar {args:?}: {}{}",
            run.stdout, run.stderr
        );
        for needle in *needles {
            assert!(
                run.stderr.contains(needle),
                "daftar {args:?}: {:?} lacks {needle:?}",
                run.stderr
            );
        }
        assert_eq!(cli.dump(), before, "daftar {args:?} changed the ledger");
    }
}

#[test]
fn json_errors_carry_code_message_and_field() {
    let cli = Cli::new();
    cli.seed(&[("s1", "o1", "10", "paid")]);
    let run = cli.run(&[
        "--json",
        "queue",
        "refund",
        "--session-id",
        "s1",
        "--amount",
        "1.0001",
    ]);
    assert_eq!(run.code, 2);
    let error = &run.json()["error"];
    assert_eq!(error["code"], "amount.too_precise");
    assert_eq!(error["field"], "amount");
    assert!(error["message"].as_str().unwrap().contains("at most 3"));
    let run = cli.run(&[
        "--json",
        "queue",
        "refund",
        "--session-id",
        "s1",
        "--amount",
        "11",
    ]);
    assert_eq!(run.code, 3);
    assert_eq!(run.json()["error"]["code"], "rules.refund_exceeds");
    let run = cli.run(&["--json", "payment", "show", "zzz"]);
    assert_eq!(run.code, 4);
    assert_eq!(run.json()["error"]["field"], "session_id");
}

/// Usage errors clap finds, with `--json` first or last: each one is the JSON error object
/// on stdout (code, message, field) and exit 2, with clap's text still on stderr.
#[test]
fn with_json_every_usage_error_is_the_json_error_object() {
    let cli = Cli::new();
    cli.seed(&[]);
    for (args, code, field, needle) in [
        (
            &["payment", "list", "--limit", "-1"][..],
            "limit.out_of_range",
            Some("limit"),
            "-1 is out of range: allowed is 1 to 10000",
        ),
        (
            &["payment", "list", "--limit", "4294967296"][..],
            "limit.out_of_range",
            Some("limit"),
            "4294967296 is out of range: allowed is 1 to 10000",
        ),
        (
            &["queue", "list", "--limit", "0"][..],
            "limit.out_of_range",
            Some("limit"),
            "0 is out of range: allowed is 1 to 10000",
        ),
        (
            &["queue", "list", "--limit", "ten"][..],
            "usage.invalid_value",
            Some("limit"),
            "1 to 10000",
        ),
        (
            &["sync", "--concurrency", "0"][..],
            "usage.invalid_value",
            Some("concurrency"),
            "from 1 to 32",
        ),
        (
            &["queue", "refund"][..],
            "usage.missing_argument",
            Some("session_id"),
            "--session-id",
        ),
        (
            &["queue", "refund", "--session-id", "s", "--order-no", "o"][..],
            "usage.conflict",
            Some("session_id"),
            "cannot be used with",
        ),
        (
            &["payment", "list", "--bogus"][..],
            "usage.unknown_argument",
            Some("bogus"),
            "--bogus",
        ),
        (
            &["refnd"][..],
            "usage.unknown_command",
            Some("command"),
            "refnd",
        ),
        (
            &["queue", "drop", "x"][..],
            "usage.invalid_value",
            Some("id"),
            "'x'",
        ),
    ] {
        for json_first in [true, false] {
            let mut all: Vec<&str> = Vec::new();
            if json_first {
                all.push("--json");
            }
            all.extend_from_slice(args);
            if !json_first {
                all.push("--json");
            }
            let run = cli.run(&all);
            assert_eq!(run.code, 2, "{all:?}: {}{}", run.stdout, run.stderr);
            let error = &run.json()["error"];
            assert_eq!(error["code"], code, "{all:?}: {error}");
            assert_eq!(error["field"].as_str(), field, "{all:?}: {error}");
            let message = error["message"].as_str().unwrap();
            assert!(message.contains(needle), "{all:?}: {message}");
            assert!(!message.starts_with("error:"), "{message}");
            assert!(run.stderr.contains(needle), "{all:?}: {}", run.stderr);
        }
    }
    // Help is not an error: text on stdout, exit 0, even with --json.
    let help = cli.run(&["--json", "profile", "--help"]);
    assert_eq!(help.code, 0);
    assert!(help.stdout.contains("set"), "{}", help.stdout);
}

#[test]
fn an_empty_daftar_db_is_named_as_such() {
    for json in [false, true] {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_daftar"));
        if json {
            cmd.arg("--json");
        }
        let run = common::finish(cmd.arg("status").env("DAFTAR_DB", "").output().unwrap());
        assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
        assert!(
            run.stderr.contains("DAFTAR_DB") && run.stderr.contains("empty"),
            "{}",
            run.stderr
        );
        if json {
            let error = &run.json()["error"];
            assert_eq!(error["field"], "db");
            assert!(
                error["message"]
                    .as_str()
                    .unwrap()
                    .contains("unset DAFTAR_DB")
            );
        }
    }
}

#[test]
fn payment_list_filters_searches_and_puts_the_newest_first() {
    let cli = Cli::new();
    cli.seed(&[
        ("alpha-1", "ord-100", "1", "paid"),
        ("beta-2", "ord-200", "2", "authorized"),
        ("gamma-3", "ord-300", "3", "paid"),
        ("delta_4", "ord-400", "4", "paid"),
    ]);
    let all = cli.ok_json(&["payment", "list"]);
    let sessions = |v: &Value| -> Vec<String> {
        v["payments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["session_id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(sessions(&all), ["delta_4", "gamma-3", "beta-2", "alpha-1"]);
    assert_eq!(
        sessions(&cli.ok_json(&["payment", "list", "--state", "paid", "--limit", "2"])),
        ["delta_4", "gamma-3"]
    );
    assert_eq!(
        sessions(&cli.ok_json(&["payment", "list", "--search", "ord-2"])),
        ["beta-2"]
    );
    // LIKE wildcards are literal: '_' matches only an underscore.
    assert_eq!(
        sessions(&cli.ok_json(&["payment", "list", "--search", "a_"])),
        ["delta_4"]
    );
    assert_eq!(all["payments"][0]["amount"], "4.000");
}

#[test]
fn an_order_number_shared_across_profiles_needs_a_profile() {
    let cli = Cli::new();
    cli.seed(&[("s1", "shared", "10", "paid")]);
    cli.ok(&[
        "profile",
        "add",
        "branch",
        "--base-url",
        "https://b.ottu.net",
        "--currency",
        "KWD",
    ]);
    cli.ok(&[
        "payment",
        "add",
        "--profile",
        "branch",
        "--session-id",
        "s9",
        "--order-no",
        "shared",
        "--amount",
        "4",
        "--currency",
        "KWD",
        "--state",
        "paid",
    ]);
    let run = cli.run(&["queue", "refund", "--order-no", "shared", "--amount", "1"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("--profile") && run.stderr.contains("branch"),
        "{}",
        run.stderr
    );
    let queued = cli.ok_json(&[
        "queue",
        "refund",
        "--order-no",
        "shared",
        "--profile",
        "branch",
        "--amount",
        "1",
    ]);
    assert_eq!(queued["session_id"], "s9");
    assert_eq!(
        cli.ok_json(&[
            "payment",
            "show",
            "--order-no",
            "shared",
            "--profile",
            "shop"
        ])["session_id"],
        "s1"
    );
}

#[test]
fn the_ledger_defaults_to_the_os_data_dir_and_honours_daftar_db() {
    let home = tempfile::tempdir().unwrap();
    let run = |envs: &[(&str, &std::path::Path)]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_daftar"));
        cmd.args([
            "profile",
            "add",
            "shop",
            "--base-url",
            "https://s.ottu.net",
            "--currency",
            "KWD",
        ])
        .env_remove("DAFTAR_DB")
        .env("HOME", home.path())
        .env("XDG_DATA_HOME", home.path().join("data"));
        for (k, v) in envs {
            cmd.env(k, v);
        }
        common::finish(cmd.output().unwrap())
    };
    assert_eq!(run(&[]).code, 0);
    assert!(home.path().join("data/daftar/daftar.sqlite3").exists());
    let custom = home.path().join("custom.sqlite3");
    assert_eq!(run(&[("DAFTAR_DB", &custom)]).code, 0);
    assert!(custom.exists());
}

#[test]
fn full_operations_follow_the_state_table_end_to_end() {
    let cli = Cli::new();
    cli.seed(&[
        ("auth", "o1", "10", "authorized"),
        ("cod", "o2", "2", "cod"),
        ("pend", "o3", "2", "pending"),
    ]);
    let capture = cli.ok_json(&["queue", "capture", "--session-id", "auth", "--amount", "4"]);
    assert_eq!(capture["balances"]["capturable"], "6.000");
    // A void after a pending capture is refused; after dropping the capture it is allowed.
    assert_eq!(cli.run(&["queue", "void", "--session-id", "auth"]).code, 3);
    cli.ok(&["queue", "drop", &capture["id"].to_string()]);
    let void = cli.ok_json(&["queue", "void", "--session-id", "auth"]);
    assert_eq!(void["amount"], "10.000");
    assert_eq!(
        cli.run(&["queue", "capture", "--session-id", "auth"]).code,
        3
    );
    assert_eq!(
        cli.ok_json(&["queue", "cancel", "--session-id", "cod"])["amount"],
        Value::Null
    );
    assert_eq!(cli.run(&["queue", "expire", "--session-id", "cod"]).code, 3);
    cli.ok(&["queue", "expire", "--session-id", "pend"]);
    cli.ok(&["queue", "delete", "--session-id", "pend"]);
    assert_eq!(
        cli.run(&["queue", "delete", "--session-id", "pend"]).code,
        3
    );
}
