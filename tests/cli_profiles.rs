//! `profile add`, `profile set` and `profile remove` through the real binary on a real
//! ledger file: a base URL is checked by the same parser the Ottu client uses and stored
//! normalized; a profile can be corrected or removed; its history is never deleted.
//!
//! `profile remove` of a profile without payments, and `profile set` to another origin,
//! delete the profile's keyring entry, so the tests doing either need a real OS keyring
//! (run them inside `scripts/keyring-session.sh`, as `scripts/test.sh` does); the others
//! never touch the keyring.

mod common;

use common::Cli;
use common::keyring::{api_slot, keyring_required, owner_of, unique_profile};
use daftar::ottu::{ClientConfig, Credential, OttuClient};
use daftar::secrets::{KEYRING_SERVICE, KeyringStore, SecretStore};
use rusqlite::Connection;
use serde_json::Value;

fn client_accepts(url: &str) -> bool {
    OttuClient::new(
        url,
        &Credential::ApiKey("k".into()),
        ClientConfig::default(),
    )
    .is_ok()
}

fn add(cli: &Cli, name: &str, url: &str) -> common::Run {
    cli.run(&[
        "--json",
        "profile",
        "add",
        name,
        "--base-url",
        url,
        "--currency",
        "KWD",
    ])
}

/// The newest event's action, before and after.
fn last_event(cli: &Cli) -> (String, Value, Value) {
    let conn = Connection::open(&cli.db).unwrap();
    let (action, before, after): (String, Option<String>, Option<String>) = conn
        .query_row(
            "SELECT action, before_json, after_json FROM events ORDER BY id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    let parse = |j: Option<String>| j.map_or(Value::Null, |j| serde_json::from_str(&j).unwrap());
    (action, parse(before), parse(after))
}

fn paused_reason(cli: &Cli, name: &str) -> Option<String> {
    Connection::open(&cli.db)
        .unwrap()
        .query_row(
            "SELECT paused_reason FROM profiles WHERE name = ?1",
            [name],
            |r| r.get(0),
        )
        .unwrap()
}

/// Each URL the client refuses, with a word its message must contain.
const REFUSED_URLS: &[(&str, &str)] = &[
    ("https://x.ottu.net:abc", "port"),
    ("https://x.ottu.net:99999", "port"),
    ("https://x.ottu.net:0", "port 0"),
    ("https://[::1", "IP address"),
    ("https://x..net", "empty label"),
    ("https://x.ottu.net/?a=1", "query"),
    ("http://x.ottu.net", "plain http"),
];

#[test]
fn profile_add_refuses_every_base_url_the_client_refuses_and_changes_nothing() {
    let cli = Cli::new();
    cli.seed(&[]);
    let before = cli.dump();
    for (url, needle) in REFUSED_URLS {
        assert!(!client_accepts(url), "the client accepts {url}");
        let run = add(&cli, "p2", url);
        assert_eq!(run.code, 2, "{url}: {}{}", run.stdout, run.stderr);
        let error = &run.json()["error"];
        assert_eq!(error["field"], "base_url", "{url}: {error}");
        let message = error["message"].as_str().unwrap();
        assert!(message.contains(needle), "{url}: {message}");
        assert!(message.contains(url), "{url}: {message}");
        assert!(message.contains("https://example.ottu.net"), "{message}");
        assert_eq!(cli.dump(), before, "{url} changed the ledger");
    }
}

#[test]
fn profile_add_accepts_loopback_http_and_stores_the_url_normalized() {
    let cli = Cli::new();
    for (i, (given, stored)) in [
        ("http://[::1]:8787", "http://[::1]:8787"),
        ("http://LOCALHOST", "http://localhost"),
        ("http://127.0.0.1:4010/", "http://127.0.0.1:4010"),
        ("HTTPS://Pay.Ottu.NET:443/", "https://pay.ottu.net"),
        ("https://pay.ottu.net/ottu/", "https://pay.ottu.net/ottu"),
    ]
    .into_iter()
    .enumerate()
    {
        let name = format!("p{i}");
        let run = add(&cli, &name, given);
        assert_eq!(run.code, 0, "{given}: {}{}", run.stdout, run.stderr);
        assert_eq!(run.json()["base_url"], stored, "{given}");
        assert!(client_accepts(given) && client_accepts(stored), "{given}");
        let listed = cli.ok_json(&["profile", "list"]);
        let found = listed["profiles"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name.as_str())
            .unwrap();
        assert_eq!(found["base_url"], stored);
    }
}

#[test]
fn profile_set_fixes_the_base_url_lifts_the_pause_and_asks_for_the_key_again() {
    // Another origin: the old origin's key is deleted from the keyring.
    if !keyring_required() {
        return;
    }
    let cli = Cli::new();
    cli.seed(&[("s1", "o1", "10", "paid")]);
    Connection::open(&cli.db)
        .unwrap()
        .execute(
            "UPDATE profiles SET paused_reason = 'not an Ottu answer at this base URL', paused_at_ms = 5",
            [],
        )
        .unwrap();
    let changed = cli.ok_json(&[
        "profile",
        "set",
        "shop",
        "--base-url",
        "http://LOCALHOST:8787/",
    ]);
    assert_eq!(changed["name"], "shop");
    assert_eq!(changed["base_url"], "http://localhost:8787");
    assert_eq!(changed["currency"], "KWD");
    assert!(changed["created_at"].is_string());
    assert_eq!(changed["changed"], serde_json::json!(["base_url"]));
    assert_eq!(changed["set_key_again"], true);
    assert_eq!(
        changed["pause_lifted"],
        "not an Ottu answer at this base URL"
    );
    assert_eq!(paused_reason(&cli, "shop"), None);
    let (action, before, after) = last_event(&cli);
    assert_eq!(action, "profile.changed");
    assert_eq!(before["base_url"], "https://shop.ottu.net");
    assert_eq!(
        before["paused_reason"],
        "not an Ottu answer at this base URL"
    );
    assert_eq!(after["base_url"], "http://localhost:8787");
    assert_eq!(after["paused_reason"], Value::Null);
    // Text: says the key must be set again, and how.
    let text = cli
        .ok(&[
            "profile",
            "set",
            "shop",
            "--base-url",
            "https://Shop.ottu.net",
        ])
        .stdout;
    assert!(
        text.contains("https://shop.ottu.net") && text.contains("daftar profile set-key shop"),
        "{text}"
    );
    // A bad URL is refused by the same parser, and changes nothing.
    let before = cli.dump();
    for (url, _) in REFUSED_URLS {
        let run = cli.run(&["--json", "profile", "set", "shop", "--base-url", url]);
        assert_eq!(run.code, 2, "{url}: {}", run.stderr);
        assert_eq!(run.json()["error"]["field"], "base_url");
    }
    // The same URL again is no change: no event, no key to set again.
    let same = cli.ok_json(&[
        "profile",
        "set",
        "shop",
        "--base-url",
        "https://shop.ottu.net/",
    ]);
    assert_eq!(same["changed"], serde_json::json!([]));
    assert_eq!(same["set_key_again"], false);
    assert_eq!(cli.dump(), before);
}

#[test]
fn profile_set_changes_the_currency_only_of_a_profile_without_payments() {
    let cli = Cli::new();
    cli.seed(&[("s1", "o1", "10", "paid"), ("s2", "o2", "3", "paid")]);
    let before = cli.dump();
    let run = cli.run(&["--json", "profile", "set", "shop", "--currency", "SAR"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    let error = &run.json()["error"];
    assert_eq!(error["code"], "profile.in_use");
    assert_eq!(error["field"], "currency");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("holds 2 payments") && message.contains("stays KWD"),
        "{message}"
    );
    assert_eq!(cli.dump(), before);

    cli.ok(&[
        "profile",
        "add",
        "fresh",
        "--base-url",
        "https://f.ottu.net",
        "--currency",
        "KWD",
    ]);
    let changed = cli.ok_json(&["profile", "set", "fresh", "--currency", "SAR"]);
    assert_eq!(changed["currency"], "SAR");
    assert_eq!(changed["changed"], serde_json::json!(["currency"]));
    assert_eq!(changed["set_key_again"], false);
    let (action, before, after) = last_event(&cli);
    assert_eq!(action, "profile.changed");
    assert_eq!(
        (&before["currency"], &after["currency"]),
        (&"KWD".into(), &"SAR".into())
    );
    // Both at once, on the fresh profile.
    let both = cli.ok_json(&[
        "profile",
        "set",
        "fresh",
        "--currency",
        "USD",
        "--base-url",
        "https://f.ottu.net/v2",
    ]);
    assert_eq!(
        (both["currency"].as_str(), both["base_url"].as_str()),
        (Some("USD"), Some("https://f.ottu.net/v2"))
    );
}

#[test]
fn profile_set_and_remove_refuse_what_is_not_there_or_not_asked() {
    let cli = Cli::new();
    cli.seed(&[]);
    let before = cli.dump();
    let nothing = cli.run(&["--json", "profile", "set", "shop"]);
    assert_eq!(nothing.code, 2, "{}", nothing.stderr);
    assert!(nothing.stderr.contains("--base-url"), "{}", nothing.stderr);
    assert_eq!(nothing.json()["error"]["code"], "usage.missing_argument");
    for args in [
        &["--json", "profile", "set", "ghost", "--currency", "SAR"][..],
        &["--json", "profile", "remove", "ghost"][..],
    ] {
        let run = cli.run(args);
        assert_eq!(run.code, 4, "{args:?}: {}", run.stderr);
        assert_eq!(run.json()["error"]["field"], "name");
    }
    let bad = cli.run(&["--json", "profile", "set", "shop", "--currency", "XXX"]);
    assert_eq!(bad.code, 2);
    assert_eq!(bad.json()["error"]["field"], "currency");
    assert_eq!(cli.dump(), before);
}

#[test]
fn profile_remove_refuses_a_profile_that_holds_payments_before_touching_the_keyring() {
    let cli = Cli::new();
    cli.seed(&[("s1", "o1", "10", "paid")]);
    cli.ok(&["queue", "refund", "--session-id", "s1", "--amount", "1"]);
    let before = cli.dump();
    // No session bus: the refusal must come before any keyring call.
    let run = finish_without_bus(&cli, &["--json", "profile", "remove", "shop"]);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    let error = &run.json()["error"];
    assert_eq!(error["code"], "profile.in_use");
    assert_eq!(
        error["message"],
        "profile shop holds 1 payment and 1 operation; nothing is deleted from the ledger"
    );
    assert_eq!(cli.dump(), before);
}

fn finish_without_bus(cli: &Cli, args: &[&str]) -> common::Run {
    let mut command = cli.command(args);
    command.env_remove("DBUS_SESSION_BUS_ADDRESS");
    common::finish(command.output().unwrap())
}

#[test]
fn profile_remove_deletes_an_unused_profile_and_its_key() {
    if !keyring_required() {
        return;
    }
    let cli = Cli::new();
    let name = unique_profile("rm");
    assert_eq!(add(&cli, &name, "https://x..net").code, 2);
    cli.ok(&[
        "profile",
        "add",
        &name,
        "--base-url",
        "https://rm.ottu.net",
        "--currency",
        "KWD",
    ]);
    let set = cli.run_stdin(&["profile", "set-key", &name, "--stdin"], "sk_rm_key\n");
    assert_eq!(set.code, 0, "{}", set.stderr);
    assert_eq!(cli.ok_json(&["profile", "show", &name])["key_stored"], true);

    let removed = cli.ok_json(&["profile", "remove", &name]);
    assert_eq!(removed["name"], name.as_str());
    assert_eq!(removed["base_url"], "https://rm.ottu.net");
    assert!(removed["created_at"].is_string());
    assert!(
        cli.ok_json(&["profile", "list"])["profiles"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let (action, before, after) = last_event(&cli);
    assert_eq!(action, "profile.removed");
    assert_eq!(before["name"], name.as_str());
    assert_eq!(after, Value::Null);
    let actions: Vec<String> = Connection::open(&cli.db)
        .unwrap()
        .prepare("SELECT action FROM events ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(
        actions.contains(&"profile.key_removed".to_string()),
        "{actions:?}"
    );
    // Added again under the same name, it has no key: the old one went with the profile.
    cli.ok(&[
        "profile",
        "add",
        &name,
        "--base-url",
        "https://rm.ottu.net",
        "--currency",
        "KWD",
    ]);
    assert_eq!(
        cli.ok_json(&["profile", "show", &name])["key_stored"],
        false
    );
    cli.ok(&["profile", "remove", &name]);
}

/// Puts the profile's only operation in `status`, with `first_sent_at_ms` as given: the
/// state a sync leaves behind (a crash mid-request, a timeout, the attempts limit).
fn set_operation_state(cli: &Cli, status: &str, first_sent_at_ms: Option<i64>) {
    Connection::open(&cli.db)
        .unwrap()
        .execute(
            "UPDATE operations SET status = ?1, first_sent_at_ms = ?2",
            rusqlite::params![status, first_sent_at_ms],
        )
        .unwrap();
}

/// An operation that may have reached the current host, with no known outcome, keeps the
/// profile on that origin: resent elsewhere with the same Tracking-Key (which only the old
/// host knows), a refund the old host applied would be applied twice. Refused before the
/// keyring is touched (no session bus here), nothing changed; a path change on the same
/// origin is allowed.
#[test]
fn profile_set_refuses_another_origin_while_sent_operations_are_unresolved() {
    let cli = Cli::new();
    cli.seed(&[("s1", "o1", "10", "paid")]);
    cli.ok(&["queue", "refund", "--session-id", "s1", "--amount", "1"]);
    for (status, first_sent) in [
        ("queued", Some(5)),
        ("in_flight", Some(5)),
        ("in_flight", None),
        ("needs_attention", Some(5)),
        ("blocked", Some(5)),
    ] {
        set_operation_state(&cli, status, first_sent);
        let before = cli.dump();
        for url in [
            "https://other.ottu.net",
            "http://127.0.0.1:8787",
            "https://shop.ottu.net:8443",
        ] {
            let run = finish_without_bus(
                &cli,
                &["--json", "profile", "set", "shop", "--base-url", url],
            );
            assert_eq!(run.code, 3, "{status} {url}: {}{}", run.stdout, run.stderr);
            let error = &run.json()["error"];
            assert_eq!(error["code"], "profile.unresolved_sends", "{error}");
            assert_eq!(error["field"], "base_url");
            let message = error["message"].as_str().unwrap();
            for needle in [
                "holds 1 operation",
                "https://shop.ottu.net",
                url,
                "daftar sync",
                "--confirm-not-applied",
            ] {
                assert!(message.contains(needle), "{needle}: {message}");
            }
            assert_eq!(cli.dump(), before, "{status} {url} changed the ledger");
        }
        // Text mode: the same refusal, on stderr.
        let run = finish_without_bus(
            &cli,
            &[
                "profile",
                "set",
                "shop",
                "--base-url",
                "https://other.ottu.net",
            ],
        );
        assert_eq!(run.code, 3, "{}", run.stderr);
        assert!(run.stderr.contains("holds 1 operation"), "{}", run.stderr);
        // Same scheme, host and port: the operations still go where they went.
        let moved = cli.ok_json(&[
            "profile",
            "set",
            "shop",
            "--base-url",
            "https://shop.ottu.net:443/ottu/",
        ]);
        assert_eq!(moved["base_url"], "https://shop.ottu.net/ottu");
        assert_eq!(moved["set_key_again"], false);
        cli.ok(&[
            "profile",
            "set",
            "shop",
            "--base-url",
            "https://shop.ottu.net",
        ]);
    }
}

/// A key is bound to the origin of the base URL: a path change on the same origin keeps
/// it (and says no new key is needed); an origin change deletes the old origin's entry
/// from the keyring (it could never be used again) and asks for the key again; so a
/// profile holds at most one origin's key, and `profile remove` leaves none behind.
#[test]
fn profile_set_keeps_the_key_for_a_path_and_deletes_it_for_another_origin() {
    if !keyring_required() {
        return;
    }
    let cli = Cli::new();
    let name = unique_profile("mv");
    let _cleanup = common::keyring::LedgerCleanup {
        db: cli.db.clone(),
        users: Vec::new(),
        origins: vec![
            "https://mv.ottu.net:443".into(),
            "https://new.ottu.net:443".into(),
        ],
    };
    cli.ok(&[
        "profile",
        "add",
        &name,
        "--base-url",
        "https://mv.ottu.net",
        "--currency",
        "KWD",
    ]);
    let store = KeyringStore::with_service(KEYRING_SERVICE);
    let old = api_slot(&owner_of(&cli.db, &name));
    let set = cli.run_stdin(&["profile", "set-key", &name, "--stdin"], "sk_mv_old_key\n");
    assert_eq!(set.code, 0, "{}", set.stderr);
    assert!(store.get(&old).unwrap().is_some());

    let path = cli.ok_json(&[
        "profile",
        "set",
        &name,
        "--base-url",
        "https://mv.ottu.net/ottu",
    ]);
    assert_eq!(path["changed"], serde_json::json!(["base_url"]));
    assert_eq!(path["set_key_again"], false);
    assert_eq!(cli.ok_json(&["profile", "show", &name])["key_stored"], true);
    let text = cli
        .ok(&["profile", "set", &name, "--base-url", "https://mv.ottu.net"])
        .stdout;
    assert!(!text.contains("set-key"), "{text}");

    let moved = cli.ok_json(&[
        "profile",
        "set",
        &name,
        "--base-url",
        "https://new.ottu.net",
    ]);
    assert_eq!(moved["set_key_again"], true);
    assert!(
        store.get(&old).unwrap().is_none(),
        "the old origin's key was left in the keyring"
    );
    assert_eq!(
        cli.ok_json(&["profile", "show", &name])["key_stored"],
        false
    );
    let actions: Vec<String> = Connection::open(&cli.db)
        .unwrap()
        .prepare("SELECT action FROM events ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(
        actions.ends_with(&["profile.key_removed".into(), "profile.changed".into()]),
        "{actions:?}"
    );

    // The key for the new origin, then remove: nothing of the profile stays in the keyring.
    let new = api_slot(&owner_of(&cli.db, &name));
    let set = cli.run_stdin(&["profile", "set-key", &name, "--stdin"], "sk_mv_new_key\n");
    assert_eq!(set.code, 0, "{}", set.stderr);
    cli.ok(&["profile", "remove", &name]);
    for slot in [&old, &new] {
        assert!(store.get(slot).unwrap().is_none(), "{}", slot.account());
    }
}

/// Without a keyring the old origin's key cannot be deleted: the change is refused
/// (exit 1, as `profile remove` does) and changes nothing.
#[test]
fn profile_set_to_another_origin_without_a_keyring_changes_nothing() {
    let cli = Cli::new();
    cli.seed(&[]);
    let before = cli.dump();
    let run = finish_without_bus(
        &cli,
        &[
            "--json",
            "profile",
            "set",
            "shop",
            "--base-url",
            "https://new.ottu.net",
        ],
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.json()["error"]["code"], "secrets.unavailable");
    assert_eq!(cli.dump(), before);
    // A path on the same origin needs no keyring.
    let path = finish_without_bus(
        &cli,
        &[
            "--json",
            "profile",
            "set",
            "shop",
            "--base-url",
            "https://shop.ottu.net/ottu",
        ],
    );
    assert_eq!(path.code, 0, "{}", path.stderr);
    assert_eq!(path.json()["set_key_again"], false);
}
