//! Session ids, order numbers and profile names through the real binary: a new one must
//! be in its documented alphabet (refused otherwise, with the field and the alphabet named,
//! and the ledger unchanged), while ids an older version stored stay readable and usable.

mod common;

use common::Cli;
use rusqlite::Connection;

/// Ids no alphabet allows: quotes, `%`, `*`, a path, invisible and bidi characters, a
/// lookalike (Cyrillic `а`), blanks, shell metacharacters.
const BAD_IDS: &[&str] = &[
    "a'b",
    "a\"b",
    "50%",
    "a*",
    "../../etc/passwd",
    "a\u{200b}b",
    "abc\u{202e}fed",
    "p\u{0430}ypal",
    "a b",
    "a;b",
    "a$b",
    "a\\b",
    "é",
];

/// What each field's message must say is allowed.
const SESSION_ALPHABET: &str = "a session id is ASCII letters, digits, - and _";
const ORDER_ALPHABET: &str = "an order number is ASCII letters, digits and - _ . : /";
const PROFILE_ALPHABET: &str = "a profile name is ASCII letters, digits and - _ .";

fn payment_add<'a>(session: &'a str, order: &'a str) -> Vec<&'a str> {
    vec![
        "--json",
        "payment",
        "add",
        "--profile",
        "shop",
        "--session-id",
        session,
        "--order-no",
        order,
        "--amount",
        "1",
        "--currency",
        "KWD",
        "--state",
        "paid",
    ]
}

fn assert_refused(cli: &Cli, args: &[&str], field: &str, alphabet: &str) {
    let run = cli.run(args);
    assert_eq!(run.code, 2, "{args:?}: {}{}", run.stdout, run.stderr);
    let error = &run.json()["error"];
    assert_eq!(error["field"], field, "{args:?}: {error}");
    assert_eq!(error["code"], "input.bad_character", "{args:?}: {error}");
    let message = error["message"].as_str().unwrap();
    assert!(message.contains(alphabet), "{args:?}: {message}");
    // Shown escaped: an invisible or right-to-left character cannot hide or reorder it.
    assert!(
        !message.contains(['\u{200b}', '\u{202e}']),
        "{args:?}: {message:?}"
    );
}

#[test]
fn new_ids_outside_their_alphabet_are_refused_with_the_field_and_the_alphabet() {
    let cli = Cli::new();
    cli.seed(&[("s1", "o1", "10", "paid")]);
    let before = cli.dump();
    // (A leading '-' would be read as an option by the shell-facing parser before ours.)
    let order_only = ["..", "/etc", ".hidden", ":x", "a..b", "a b"];
    for bad in BAD_IDS {
        assert_refused(
            &cli,
            &payment_add(bad, "ok-1"),
            "session_id",
            SESSION_ALPHABET,
        );
        assert_refused(&cli, &payment_add("ok-1", bad), "order_no", ORDER_ALPHABET);
        assert_refused(
            &cli,
            &[
                "--json",
                "profile",
                "add",
                bad,
                "--base-url",
                "https://x.ottu.net",
                "--currency",
                "KWD",
            ],
            "name",
            PROFILE_ALPHABET,
        );
    }
    for bad in order_only {
        assert_refused(&cli, &payment_add("ok-1", bad), "order_no", ORDER_ALPHABET);
    }
    // Session ids follow Ottu's retrieve pattern [-\w]+: no dot, colon or slash.
    for bad in ["a.b", "a:b", "a/b"] {
        assert_refused(
            &cli,
            &payment_add(bad, "ok-1"),
            "session_id",
            SESSION_ALPHABET,
        );
    }
    for bad in ["a/b", "a:b", "_x", ".x"] {
        assert_refused(
            &cli,
            &[
                "--json",
                "profile",
                "add",
                bad,
                "--base-url",
                "https://x.ottu.net",
                "--currency",
                "KWD",
            ],
            "name",
            PROFILE_ALPHABET,
        );
    }
    assert_eq!(cli.dump(), before);
    // Too long: 128 is the most for Ottu's session_id and order_no.
    let long = "x".repeat(129);
    let run = cli.run(&payment_add(&long, "o"));
    assert_eq!(run.code, 2);
    assert_eq!(run.json()["error"]["field"], "session_id");
    assert_eq!(cli.dump(), before);
}

#[test]
fn ids_inside_their_alphabet_are_accepted() {
    let cli = Cli::new();
    cli.seed(&[]);
    let longest = "S".repeat(128);
    for (session, order) in [
        ("abc_DEF-123", "INV-2025/11:0042.a"),
        ("0a1b2c3d4e5f60718293a4b5c6d7e8f901234567", "1"),
        ("_under-score_", "o_1"),
        (longest.as_str(), "O".repeat(128).as_str()),
    ] {
        let added = cli.run(&payment_add(session, order));
        assert_eq!(added.code, 0, "{session} {order}: {}", added.stderr);
        assert_eq!(added.json()["session_id"], session);
        assert_eq!(added.json()["order_no"], order);
    }
    for name in ["shop.kw-2_b", "A", "9lives"] {
        cli.ok(&[
            "profile",
            "add",
            name,
            "--base-url",
            "https://x.ottu.net",
            "--currency",
            "KWD",
        ]);
    }
}

#[test]
fn ids_an_older_version_stored_stay_readable_and_usable() {
    let cli = Cli::new();
    cli.seed(&[("s1", "o1", "10", "paid")]);
    // What older versions accepted (anything but blanks and control characters).
    let conn = Connection::open(&cli.db).unwrap();
    conn.execute(
        "UPDATE payments SET session_id = 'old.id:1/x', order_no = 'o''1%' WHERE session_id = 's1'",
        [],
    )
    .unwrap();
    conn.execute("UPDATE profiles SET name = 'a/b}c' WHERE name = 'shop'", [])
        .unwrap();
    drop(conn);
    let list = cli.ok_json(&["payment", "list"]);
    assert_eq!(list["payments"][0]["session_id"], "old.id:1/x");
    assert_eq!(list["payments"][0]["profile"], "a/b}c");
    let shown = cli.ok_json(&["payment", "show", "--order-no", "o'1%"]);
    assert_eq!(shown["session_id"], "old.id:1/x");
    cli.ok(&[
        "queue",
        "refund",
        "--session-id",
        "old.id:1/x",
        "--amount",
        "1",
    ]);
    assert_eq!(
        cli.ok_json(&["profile", "list"])["profiles"][0]["name"],
        "a/b}c"
    );
    // An old profile can still be corrected by name (a path on the same host: no keyring
    // needed, the key stays).
    let set = cli.ok_json(&[
        "profile",
        "set",
        "a/b}c",
        "--base-url",
        "https://shop.ottu.net/n",
    ]);
    assert_eq!(set["base_url"], "https://shop.ottu.net/n");
    assert_eq!(cli.ok_json(&["status"])["queued"], 1);
}
