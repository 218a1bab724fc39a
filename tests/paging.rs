//! Lists a UI can scroll, on a real SQLite file: keyset paging of `payment list` and
//! `queue list` (each row exactly once, in order, while another `Ledger` writes), exact
//! totals, search by each field through its index (proved with `EXPLAIN QUERY PLAN`),
//! and the CLI's `--after` round trip.

mod common;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use common::Cli;
use daftar::Ledger;
use daftar::ledger::{PaymentLookup, PaymentQuery, QueueQuery, QueueRequest};
use daftar::model::{NewPayment, PaymentSource, PaymentState, SessionId};
use daftar::money::{Amount, Currency};
use daftar::store::{PaymentFilter, Store};
use rusqlite::Connection;
use serde_json::Value;

const DEADLINE: Duration = Duration::from_secs(60);
/// 2026-01-01T00:00:00Z.
const BASE_MS: i64 = 1_767_225_600_000;

fn payment(session: &str, created_at_ms: i64) -> NewPayment {
    NewPayment {
        session_id: SessionId::parse(session).unwrap(),
        order_no: None,
        amount: Amount::from_minor(10_000, Currency::KWD),
        state: PaymentState::Paid,
        source: PaymentSource::Ottu,
        created_at_ms,
        customer_email: None,
        customer_phone: None,
    }
}

fn ledger_with_profile(path: &Path) -> Ledger {
    let mut ledger = Ledger::open(path, "test:paging").unwrap();
    ledger
        .add_profile("shop", "https://shop.ottu.net", "KWD")
        .unwrap();
    ledger
}

/// Every session id's place in list order, read straight from the file.
fn keys_by_session(path: &Path) -> HashMap<String, (i64, i64)> {
    let conn = Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare("SELECT session_id, created_at_ms, id FROM payments")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// Polls `done` until it holds or the deadline passes.
fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < DEADLINE, "timed out waiting for {what}");
        thread::yield_now();
    }
}

#[test]
fn cursor_paging_over_10000_payments_returns_each_once_in_order_while_rows_are_added() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.sqlite3");
    let mut ledger = ledger_with_profile(&path);
    // Three payments share each millisecond, so the id decides among them.
    let seeded: Vec<NewPayment> = (0..10_000)
        .map(|i| payment(&format!("seed-{i:05}"), BASE_MS + (i / 3) * 1_000))
        .collect();
    ledger.add_payments("shop", &seeded, |_| {}).unwrap();

    // A second Ledger on the same file adds payments all over the list order (older,
    // newer, and on the very milliseconds the seeded ones hold) until the reader is done.
    let stop = Arc::new(AtomicBool::new(false));
    let batches = Arc::new(AtomicUsize::new(0));
    let writer = {
        let (path, stop, batches) = (path.clone(), stop.clone(), batches.clone());
        thread::spawn(move || {
            let mut other = Ledger::open(&path, "test:writer").unwrap();
            let mut n = 0i64;
            while !stop.load(Ordering::Relaxed) {
                let batch: Vec<NewPayment> = (0..5)
                    .map(|_| {
                        n += 1;
                        let at = BASE_MS - 50_000 + (n * 7_919 % 3_500) * 1_000;
                        payment(&format!("new-{n:06}"), at)
                    })
                    .collect();
                other.add_payments("shop", &batch, |_| {}).unwrap();
                batches.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    wait_for("the writer's first batch", || {
        batches.load(Ordering::Relaxed) > 0
    });
    let batches_before = batches.load(Ordering::Relaxed);

    let mut seen: Vec<String> = Vec::new();
    let mut after = None;
    let mut pages = 0;
    let mut first_total = None;
    loop {
        let page = ledger
            .list_payments(&PaymentQuery {
                after: after.clone(),
                limit: Some(97),
                ..PaymentQuery::default()
            })
            .unwrap();
        first_total.get_or_insert(page.total);
        pages += 1;
        seen.extend(page.payments.iter().map(|p| p.session_id.clone()));
        match page.next_cursor {
            Some(cursor) => after = Some(cursor),
            None => break,
        }
    }
    let batches_during = batches.load(Ordering::Relaxed) - batches_before;
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    assert!(
        batches_during > 0,
        "the writer added nothing while {pages} pages were read: the test proves nothing"
    );

    let mut once = HashSet::new();
    for s in &seen {
        assert!(once.insert(s.as_str()), "{s} was returned twice");
    }
    for p in &seeded {
        assert!(
            once.contains(p.session_id.as_str()),
            "{} existed before paging began and was skipped",
            p.session_id
        );
    }
    let keys = keys_by_session(&path);
    for pair in seen.windows(2) {
        assert!(
            keys[&pair[0]] > keys[&pair[1]],
            "{} came before {} out of list order",
            pair[0],
            pair[1]
        );
    }
    assert!(first_total.unwrap() >= 10_000);
    let after_all = ledger.list_payments(&PaymentQuery::default()).unwrap();
    assert_eq!(after_all.total, keys.len() as u64);
    assert!(keys.len() > 10_000);
}

fn queue_refund(ledger: &mut Ledger, session: &str) -> i64 {
    ledger
        .queue(&QueueRequest {
            kind: "refund".into(),
            payment: PaymentLookup::session_id(session),
            amount: Some("1.000".into()),
            reason: None,
        })
        .unwrap()
        .operation
        .id
}

#[test]
fn queue_paging_returns_each_operation_once_in_order_while_more_are_queued() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.sqlite3");
    let mut ledger = ledger_with_profile(&path);
    let payments: Vec<NewPayment> = (0..1_200)
        .map(|i| payment(&format!("q-{i:05}"), BASE_MS + i))
        .collect();
    ledger.add_payments("shop", &payments, |_| {}).unwrap();
    let mut queued: Vec<i64> = (0..600)
        .map(|i| queue_refund(&mut ledger, &format!("q-{i:05}")))
        .collect();
    queued.sort();

    let stop = Arc::new(AtomicBool::new(false));
    let added = Arc::new(AtomicUsize::new(0));
    let writer = {
        let (path, stop, added) = (path.clone(), stop.clone(), added.clone());
        thread::spawn(move || {
            let mut other = Ledger::open(&path, "test:writer").unwrap();
            for i in 600..1_200 {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                queue_refund(&mut other, &format!("q-{i:05}"));
                added.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    wait_for("the writer's first operation", || {
        added.load(Ordering::Relaxed) > 0
    });
    let added_before = added.load(Ordering::Relaxed);

    let mut seen: Vec<i64> = Vec::new();
    let mut after = None;
    loop {
        let page = ledger
            .queue_list(&QueueQuery {
                status: Some("queued".into()),
                after: after.clone(),
                limit: Some(7),
            })
            .unwrap();
        assert!(page.total >= 600);
        seen.extend(page.operations.iter().map(|o| o.id));
        match page.next_cursor {
            Some(cursor) => after = Some(cursor),
            None => break,
        }
    }
    let added_during = added.load(Ordering::Relaxed) - added_before;
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    assert!(added_during > 0, "nothing was queued while paging");

    assert!(
        seen.windows(2).all(|w| w[0] < w[1]),
        "operations out of queue order or twice"
    );
    let seen_set: HashSet<i64> = seen.iter().copied().collect();
    for id in &queued {
        assert!(seen_set.contains(id), "operation {id} was skipped");
    }
    let all = ledger
        .queue_list(&QueueQuery {
            limit: Some(10_000),
            ..QueueQuery::default()
        })
        .unwrap();
    assert_eq!(all.total, 600 + added.load(Ordering::Relaxed) as u64);
    assert_eq!(all.operations.len() as u64, all.total);
    assert_eq!(all.next_cursor, None);
}

/// A ledger where each searchable field names exactly one payment.
fn searchable_ledger(path: &Path) -> Ledger {
    let mut ledger = ledger_with_profile(path);
    let with = |session: &str, order: Option<&str>, email: Option<&str>, phone: Option<&str>| {
        let mut p = payment(session, BASE_MS);
        p.order_no = order.map(|o| daftar::model::OrderNo::parse(o).unwrap());
        p.customer_email = email.map(str::to_string);
        p.customer_phone = phone.map(str::to_string);
        p
    };
    let mut payments = vec![
        with("sess-alpha-0001", Some("INV-2026-0042"), None, None),
        with(
            "sess-bravo-0002",
            Some("INV-2026-0043"),
            Some("Mona.Salem@Example.com"),
            None,
        ),
        with("sess-charlie-0003", None, None, Some("+965 5555 1234")),
        with("sess-delta-0004", None, None, None),
    ];
    // Noise, so that a scan and an index search are told apart by the plan, not by luck.
    payments.extend((0..500).map(|i| {
        with(
            &format!("noise-{i:04}"),
            Some(&format!("ORD-{i:04}")),
            Some(&format!("buyer{i}@shop.example")),
            Some(&format!("+1 202 555 {i:04}")),
        )
    }));
    ledger.add_payments("shop", &payments, |_| {}).unwrap();
    let op = queue_refund(&mut ledger, "sess-delta-0004");
    // Ottu's reference number arrives with the operation's answer; set it as sync would.
    Connection::open(path)
        .unwrap()
        .execute(
            "UPDATE operations SET reference_number = 'REF8837120045' WHERE id = ?1",
            [op],
        )
        .unwrap();
    ledger
}

fn search(ledger: &mut Ledger, text: &str) -> Vec<String> {
    let page = ledger
        .list_payments(&PaymentQuery {
            search: Some(text.into()),
            limit: Some(10_000),
            ..PaymentQuery::default()
        })
        .unwrap();
    assert_eq!(page.total, page.payments.len() as u64, "total of '{text}'");
    page.payments.into_iter().map(|p| p.session_id).collect()
}

fn plan(path: &Path, text: &str) -> Vec<String> {
    let mut store = Store::open(path).unwrap();
    store
        .read(|tx| {
            daftar::store::payments::list_plan(
                tx,
                &PaymentFilter {
                    search: Some(text.into()),
                    limit: 51,
                    ..PaymentFilter::default()
                },
            )
        })
        .unwrap()
}

/// A step that reads the whole payments table (or its list-order index) row by row.
fn full_scans(plan: &[String]) -> Vec<&String> {
    plan.iter()
        .filter(|line| {
            let line = line.trim();
            line.starts_with("SCAN p ") || line == "SCAN p" || line.starts_with("SCAN payments ")
        })
        .collect()
}

#[test]
fn search_finds_each_field_through_its_index() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.sqlite3");
    let mut ledger = searchable_ledger(&path);

    let cases = [
        ("a session id's start", "sess-charlie", "sess-charlie-0003"),
        (
            "a session id's start, other case",
            "SESS-CHARLIE-0",
            "sess-charlie-0003",
        ),
        (
            "an order number's start",
            "INV-2026-0042",
            "sess-alpha-0001",
        ),
        (
            "an order number, other case",
            "inv-2026-0043",
            "sess-bravo-0002",
        ),
        ("an email, other case", "mona.salem@", "sess-bravo-0002"),
        ("a phone", "+965 5555", "sess-charlie-0003"),
        ("a phone without its +", "965 5555 12", "sess-charlie-0003"),
        ("a reference number's start", "ref88371", "sess-delta-0004"),
    ];
    for (what, text, expected) in cases {
        assert_eq!(
            search(&mut ledger, text),
            [expected],
            "search by {what}: '{text}'"
        );
        let plan = plan(&path, text);
        assert!(
            full_scans(&plan).is_empty(),
            "search by {what} scans the table: {plan:#?}"
        );
        for index in [
            "payments_by_order_no_nocase",
            "payments_by_email",
            "payments_by_phone",
            "sqlite_autoindex_payments_1 (profile_id=? AND session_id>?",
            "operations_by_reference",
        ] {
            assert!(
                plan.iter().any(|l| l.contains(index)),
                "search by {what} does not use {index}: {plan:#?}"
            );
        }
    }
    // A search pages like the whole list: each match once, newest first, the same total.
    let mut after = None;
    let mut paged = Vec::new();
    loop {
        let page = ledger
            .list_payments(&PaymentQuery {
                search: Some("BUYER".into()),
                after: after.clone(),
                limit: Some(37),
                ..PaymentQuery::default()
            })
            .unwrap();
        assert_eq!(page.total, 500);
        paged.extend(page.payments.into_iter().map(|p| p.session_id));
        match page.next_cursor {
            Some(c) => after = Some(c),
            None => break,
        }
    }
    let expected: Vec<String> = (0..500).rev().map(|i| format!("noise-{i:04}")).collect();
    assert_eq!(paged, expected);

    // From 3 characters every field is matched from its start only.
    assert!(search(&mut ledger, "8837120045").is_empty());
    assert!(search(&mut ledger, "charlie").is_empty());
    assert!(search(&mut ledger, "salem@example").is_empty());
    assert!(search(&mut ledger, "2026-0042").is_empty());
    // Quotes and FTS syntax are plain text.
    assert!(search(&mut ledger, "\"OR*").is_empty());
    assert_eq!(
        search(&mut ledger, "nothing-like-this"),
        Vec::<String>::new()
    );

    // One or two characters keep the old meaning (anywhere), which reads the table: the
    // plan says so, which also shows the check above can fail.
    let short = plan(&path, "o-");
    assert!(!full_scans(&short).is_empty(), "{short:#?}");
    assert_eq!(search(&mut ledger, "o-"), ["sess-bravo-0002"]);
}

#[test]
fn totals_are_exact_for_every_filter_and_follow_state_changes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.sqlite3");
    let mut ledger = ledger_with_profile(&path);
    ledger
        .add_profile("branch", "https://branch.ottu.net", "KWD")
        .unwrap();
    let states = [
        PaymentState::Paid,
        PaymentState::Authorized,
        PaymentState::Failed,
    ];
    for (profile, n) in [("shop", 300), ("branch", 120)] {
        let batch: Vec<NewPayment> = (0..n)
            .map(|i| {
                let mut p = payment(&format!("{profile}-{i:04}"), BASE_MS + i * 3_600_000);
                p.state = states[i as usize % 3];
                p
            })
            .collect();
        ledger.add_payments(profile, &batch, |_| {}).unwrap();
    }
    let conn = Connection::open(&path).unwrap();
    let brute = |sql_where: &str| -> u64 {
        conn.query_row(
            &format!(
                "SELECT count(*) FROM payments p JOIN profiles pr ON pr.id = p.profile_id WHERE {sql_where}"
            ),
            [],
            |r| r.get(0),
        )
        .unwrap()
    };
    let total = |ledger: &mut Ledger, q: PaymentQuery| ledger.list_payments(&q).unwrap().total;
    let check = |ledger: &mut Ledger| {
        let q = |profile: Option<&str>, state: Option<&str>| PaymentQuery {
            profile: profile.map(str::to_string),
            state: state.map(str::to_string),
            limit: Some(1),
            ..PaymentQuery::default()
        };
        assert_eq!(total(ledger, q(None, None)), brute("1"));
        assert_eq!(
            total(ledger, q(Some("shop"), None)),
            brute("pr.name = 'shop'")
        );
        assert_eq!(
            total(ledger, q(None, Some("paid"))),
            brute("p.state = 'paid'")
        );
        assert_eq!(
            total(ledger, q(Some("branch"), Some("failed"))),
            brute("pr.name = 'branch' AND p.state = 'failed'")
        );
        assert_eq!(
            total(ledger, q(Some("branch"), Some("voided"))),
            brute("pr.name = 'branch' AND p.state = 'voided'")
        );
    };
    check(&mut ledger);
    // States change (as a sync or refresh changes them); the maintained counts follow.
    conn.execute(
        "UPDATE payments SET state = 'voided' WHERE session_id LIKE 'branch-00%'",
        [],
    )
    .unwrap();
    check(&mut ledger);
    assert!(brute("p.state = 'voided'") > 0);

    // A date range counts what it matches; a date as `to` includes that whole day.
    let mut day = |from: &str, to: &str| {
        total(
            &mut ledger,
            PaymentQuery {
                from: Some(from.into()),
                to: Some(to.into()),
                profile: Some("shop".into()),
                ..PaymentQuery::default()
            },
        )
    };
    assert_eq!(day("2026-01-01", "2026-01-01"), 24);
    assert_eq!(day("2026-01-01T00:00:00Z", "2026-01-01T12:00:00Z"), 12);
    assert_eq!(day("2026-01-02", "2026-01-03"), 48);
    let page = ledger
        .list_payments(&PaymentQuery {
            from: Some("2026-01-02".into()),
            to: Some("2026-01-02".into()),
            profile: Some("shop".into()),
            limit: Some(10),
            ..PaymentQuery::default()
        })
        .unwrap();
    assert_eq!(page.payments.len(), 10);
    assert_eq!(page.payments[0].created_at, "2026-01-02T23:00:00Z");
    assert!(page.next_cursor.is_some());
}

#[test]
fn a_cursor_from_another_list_or_made_up_is_refused_on_after() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.sqlite3");
    let mut ledger = ledger_with_profile(&path);
    let batch: Vec<NewPayment> = (0..3)
        .map(|i| payment(&format!("c-{i}"), BASE_MS + i))
        .collect();
    ledger.add_payments("shop", &batch, |_| {}).unwrap();
    queue_refund(&mut ledger, "c-0");
    queue_refund(&mut ledger, "c-1");
    let queue_cursor = ledger
        .queue_list(&QueueQuery {
            limit: Some(1),
            ..QueueQuery::default()
        })
        .unwrap()
        .next_cursor
        .unwrap();
    // A queue cursor, text that is not base64, and "p1:1", "p1:1:2:3", "p1:x:2".
    for bad in [
        queue_cursor.as_str(),
        "not a cursor",
        "",
        "cDE6MQ",
        "cDE6MToyOjM",
        "cDE6eDoy",
    ] {
        let error = ledger
            .list_payments(&PaymentQuery {
                after: Some(bad.into()),
                ..PaymentQuery::default()
            })
            .unwrap_err();
        assert_eq!(error.code(), "cursor.invalid", "{bad}");
        assert_eq!(error.field(), Some("after"), "{bad}");
    }
    let error = ledger
        .list_payments(&PaymentQuery {
            from: Some("yesterday".into()),
            ..PaymentQuery::default()
        })
        .unwrap_err();
    assert_eq!(
        (error.code(), error.field()),
        ("date.invalid", Some("from"))
    );
}

fn strings(v: &Value, key: &str, field: &str) -> Vec<String> {
    v[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[field].to_string())
        .collect()
}

#[test]
fn cli_pages_with_after_in_json_and_in_text() {
    let cli = Cli::new();
    cli.seed(&[
        ("s-1", "o-1", "5", "paid"),
        ("s-2", "o-2", "5", "paid"),
        ("s-3", "o-3", "5", "paid"),
        ("s-4", "o-4", "5", "paid"),
        ("s-5", "o-5", "5", "paid"),
    ]);
    let all = cli.ok_json(&["payment", "list"]);
    assert_eq!(all["total"], 5);
    assert!(all["next_cursor"].is_null(), "{all}");
    assert!(all.as_object().unwrap().contains_key("next_cursor"));

    let mut paged = Vec::new();
    let mut args = vec!["payment", "list", "--limit", "2"];
    let mut cursor: String;
    loop {
        let page = cli.ok_json(&args);
        assert_eq!(page["total"], 5);
        paged.extend(strings(&page, "payments", "session_id"));
        match page["next_cursor"].as_str() {
            Some(next) => {
                cursor = next.to_string();
                args = vec!["payment", "list", "--limit", "2", "--after", &cursor];
            }
            None => break,
        }
    }
    assert_eq!(paged, strings(&all, "payments", "session_id"));

    // Text: the "more" line carries the flag to paste.
    let first = cli.ok(&["payment", "list", "--limit", "3"]).stdout;
    let more = first
        .lines()
        .find_map(|l| l.split_once("more: --after "))
        .map(|(_, c)| c.trim().to_string())
        .unwrap_or_else(|| panic!("no 'more' line: {first}"));
    assert!(first.contains("5 in all"), "{first}");
    let rest = cli
        .ok(&["payment", "list", "--limit", "3", "--after", &more])
        .stdout;
    assert!(
        rest.contains("s-2") && rest.contains("s-1") && !rest.contains("s-3"),
        "{rest}"
    );
    assert!(!rest.contains("more:"), "{rest}");

    for s in ["s-1", "s-2", "s-3"] {
        cli.ok(&["queue", "refund", "--session-id", s, "--amount", "1"]);
    }
    let q1 = cli.ok_json(&["queue", "list", "--limit", "2"]);
    assert_eq!(q1["total"], 3);
    assert_eq!(q1["operations"].as_array().unwrap().len(), 2);
    let next = q1["next_cursor"].as_str().unwrap().to_string();
    let q2 = cli.ok_json(&["queue", "list", "--limit", "2", "--after", &next]);
    assert_eq!(q2["operations"].as_array().unwrap().len(), 1);
    assert!(q2["next_cursor"].is_null());
    assert_eq!(q2["operations"][0]["session_id"], "s-3");

    let bad = cli.run(&["--json", "payment", "list", "--after", &next]);
    assert_eq!(bad.code, 2, "{}{}", bad.stdout, bad.stderr);
    assert!(bad.stdout.contains("cursor.invalid") || bad.stderr.contains("cursor.invalid"));
}

/// A ledger written before migration 0005 gets its search index and counts built when it
/// is first opened: its old payments are counted and found.
#[test]
fn an_older_ledger_gets_its_payments_indexed_and_counted_when_opened() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.sqlite3");
    {
        // The previous release's schema (0001 and 0002), with payments in it.
        let conn = common::previous_release_ledger(&path);
        for i in 0..30 {
            conn.execute(
                "INSERT INTO payments (profile_id, session_id, order_no, amount_minor, currency,
                     state, source, created_at_ms, updated_at_ms)
                 VALUES (1, ?1, ?2, 1000, 'KWD', ?3, 'manual', ?4, ?4)",
                rusqlite::params![
                    format!("old-{i:03}"),
                    format!("LEGACY-{i:03}"),
                    if i % 3 == 0 { "failed" } else { "paid" },
                    BASE_MS + i
                ],
            )
            .unwrap();
        }
    }
    let mut ledger = Ledger::open(&path, "test:paging").unwrap();
    assert_eq!(
        ledger
            .list_payments(&PaymentQuery::default())
            .unwrap()
            .total,
        30
    );
    let failed = ledger
        .list_payments(&PaymentQuery {
            state: Some("failed".into()),
            ..PaymentQuery::default()
        })
        .unwrap();
    assert_eq!(failed.total, 10);
    assert_eq!(
        search(&mut ledger, "legacy-02"),
        (20..30)
            .rev()
            .map(|i| format!("old-{i:03}"))
            .collect::<Vec<_>>()
    );
    assert_eq!(search(&mut ledger, "old-007"), ["old-007"]);
}

/// The customer's email comes from Ottu's retrieve reply on import, and is searchable.
#[test]
fn an_imported_payment_is_found_by_its_customers_email() {
    if !common::keyring::keyring_required() {
        return;
    }
    let sandbox = daftar_sandbox::Sandbox::start(daftar_sandbox::Config::empty()).unwrap();
    for (session, email) in [("imp-1", Some("Layla.Haddad@Example.com")), ("imp-2", None)] {
        let payment: daftar_sandbox::NewPayment = serde_json::from_value(serde_json::json!({
            "session_id": session, "order_no": format!("O-{session}"), "amount": "10.000",
            "state": "paid", "pg_code": "knet", "customer_email": email,
        }))
        .unwrap();
        sandbox.add_payment(payment).unwrap();
    }
    let cli = Cli::new();
    let profile = common::keyring::unique_profile("paging");
    cli.ok(&[
        "profile",
        "add",
        &profile,
        "--base-url",
        sandbox.base_url(),
        "--currency",
        "KWD",
    ]);
    let set = cli.run_stdin(
        &["profile", "set-key", &profile, "--stdin"],
        &format!("{}\n", sandbox.api_key()),
    );
    assert_eq!(set.code, 0, "set-key: {}{}", set.stdout, set.stderr);
    let imported = cli.run(&[
        "import",
        "--profile",
        &profile,
        "--session-id",
        "imp-1",
        "imp-2",
    ]);
    let _ = cli.run(&["profile", "remove-key", &profile]);
    assert_eq!(imported.code, 0, "{}{}", imported.stdout, imported.stderr);

    let found = cli.ok_json(&["payment", "list", "--search", "layla.h"]);
    assert_eq!(found["total"], 1, "{found}");
    assert_eq!(found["payments"][0]["session_id"], "imp-1");
    let stored: Option<String> = Connection::open(&cli.db)
        .unwrap()
        .query_row(
            "SELECT customer_email FROM payments WHERE session_id = 'imp-1'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored.as_deref(), Some("Layla.Haddad@Example.com"));
}

/// A broad search (`ORD-2025-` matching every order) counts its matches only up to
/// `SEARCH_COUNT_CAP` and says so (`total_capped`), so no keystroke holds the shared
/// ledger while a million matches are counted; its pages still come in list order, each
/// match once, the non-matching payments between them skipped. Below the cap the total
/// stays exact. A 1–2 character search (anywhere in a field) is capped the same way.
#[test]
fn a_search_matching_more_than_the_cap_pages_correctly_and_says_its_total_is_capped() {
    use daftar::limits::SEARCH_COUNT_CAP;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.sqlite3");
    let mut ledger = ledger_with_profile(&path);
    let matching = SEARCH_COUNT_CAP as i64 + 50;
    // Each match also matches by its session id (lower case): one match, counted once.
    // Every third payment matches nothing and lies between matches in list order.
    let mut seeded = Vec::new();
    let mut expected = Vec::new();
    for i in 0..matching {
        let at = BASE_MS + i * 1_000;
        let mut p = payment(&format!("ord-2025-{i:05}"), at);
        p.order_no = Some(daftar::model::OrderNo::parse(&format!("ORD-2025-{i:05}")).unwrap());
        expected.push(p.session_id.as_str().to_string());
        seeded.push(p);
        if i % 3 == 0 {
            seeded.push(payment(&format!("other-{i:05}"), at));
        }
    }
    ledger.add_payments("shop", &seeded, |_| {}).unwrap();
    expected.reverse();

    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = ledger
            .list_payments(&PaymentQuery {
                search: Some("ORD-2025-".into()),
                limit: Some(1_000),
                after: after.clone(),
                ..PaymentQuery::default()
            })
            .unwrap();
        assert_eq!((page.total, page.total_capped), (SEARCH_COUNT_CAP, true));
        seen.extend(page.payments.into_iter().map(|p| p.session_id));
        match page.next_cursor {
            Some(cursor) => after = Some(cursor),
            None => break,
        }
    }
    assert_eq!(seen.len(), expected.len());
    assert!(
        seen == expected,
        "the pages are not the matches in list order"
    );
    // Past the cap the page walks the list-order index (and stops when full), rather than
    // reading every match from the prefix indexes and sorting them.
    let walk = plan(&path, "ORD-2025-");
    assert!(
        walk.iter()
            .any(|l| l.contains("SCAN p USING INDEX payments_newest")),
        "{walk:#?}"
    );
    assert!(!walk.iter().any(|l| l.contains("TEMP B-TREE")), "{walk:#?}");

    // Below the cap: exact, not capped.
    let few = ledger
        .list_payments(&PaymentQuery {
            search: Some("ORD-2025-0000".into()),
            ..PaymentQuery::default()
        })
        .unwrap();
    assert_eq!((few.total, few.total_capped), (10, false));
    assert_eq!(few.payments.len(), 10);
    // Without a search the total is exact however large.
    let all = ledger.list_payments(&PaymentQuery::default()).unwrap();
    assert_eq!((all.total, all.total_capped), (seeded.len() as u64, false));

    // Two characters: anywhere in a field, capped the same way.
    let short = ledger
        .list_payments(&PaymentQuery {
            search: Some("25".into()),
            limit: Some(5),
            ..PaymentQuery::default()
        })
        .unwrap();
    assert_eq!((short.total, short.total_capped), (SEARCH_COUNT_CAP, true));
    assert_eq!(
        short
            .payments
            .iter()
            .map(|p| &p.session_id)
            .collect::<Vec<_>>(),
        expected.iter().take(5).collect::<Vec<_>>()
    );

    // The CLI keeps `total` and adds the flag.
    let cli = Cli {
        db: path.clone(),
        dir,
    };
    let json = cli.ok_json(&["payment", "list", "--search", "ORD-2025-"]);
    assert_eq!(json["total"], SEARCH_COUNT_CAP);
    assert_eq!(json["total_capped"], true);
    assert_eq!(json["payments"][0]["session_id"], expected[0].as_str());
    let text = cli.ok(&["payment", "list", "--search", "ORD-2025-"]).stdout;
    assert!(text.contains("10000 or more in all"), "{text}");
}

/// Each row's refundable and capturable balances come from one read for the whole page,
/// through the operations' and children's payment indexes (never a scan of either table),
/// and equal what the payment's own detail says.
#[test]
fn a_pages_balances_come_from_one_indexed_read_and_match_each_payments_detail() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.sqlite3");
    let mut ledger = ledger_with_profile(&path);
    let seeded: Vec<NewPayment> = (0..300)
        .map(|i| payment(&format!("bal-{i:03}"), BASE_MS + i * 1_000))
        .collect();
    ledger.add_payments("shop", &seeded, |_| {}).unwrap();
    // Refunds on some rows, so the rows differ; many operations, so a scan would show.
    for i in (0..300).step_by(3) {
        queue_refund(&mut ledger, &format!("bal-{i:03}"));
    }
    let page = ledger
        .list_payments(&PaymentQuery {
            limit: Some(100),
            ..PaymentQuery::default()
        })
        .unwrap();
    assert_eq!(page.payments.len(), 100);
    let mut refunded = 0;
    for row in &page.payments {
        let detail = ledger
            .show_payment(&PaymentLookup::session_id(row.session_id.as_str()))
            .unwrap();
        assert_eq!(
            row.refundable, detail.balances.refundable,
            "{}",
            row.session_id
        );
        assert_eq!(
            row.capturable, detail.balances.capturable,
            "{}",
            row.session_id
        );
        refunded += usize::from(row.refundable != row.amount);
    }
    assert!(refunded > 20, "{refunded} rows with a refund");

    let ids: Vec<daftar::model::PaymentId> = (1..=100).map(daftar::model::PaymentId).collect();
    let plan = Store::open(&path)
        .unwrap()
        .read(|tx| daftar::store::facts::plan(tx, &ids))
        .unwrap();
    let scans: Vec<&String> = plan
        .iter()
        .filter(|line| {
            let line = line.trim();
            line.starts_with("SCAN operations") || line.starts_with("SCAN children")
        })
        .collect();
    assert!(scans.is_empty(), "a table is scanned: {plan:#?}");
    assert!(
        plan.iter().any(|l| l.contains("operations_by_payment")),
        "{plan:#?}"
    );
}
