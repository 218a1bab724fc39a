//! JSON snapshots of every view the facade returns, as the CLI's `--json` prints them (pretty,
//! fields in declaration order) and the desktop app receives them: one real ledger (a SQLite file in a temp dir, a fixed clock, sequential
//! tracking keys) driven through the facade against the Ottu sandbox over loopback. A change
//! to a view's JSON shape, a field's name or an enum's spelling fails here; review the diff,
//! then accept it with `INSTA_UPDATE=always cargo test --test views` (or `cargo insta review`).

mod common;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use common::ottu::test_runtime;
use daftar::Ledger;
use daftar::connect::Remote;
use daftar::ledger::{
    OperationView, PaymentInput, PaymentLookup, PaymentQuery, ProfileChange, QueueQuery,
    QueueRequest, QueuedView, RetryRequest,
};
use daftar::ottu::{ClientConfig, Credential};
use daftar::secrets::{MemoryStore, SecretString};
use daftar::sources::{Clock, FixedClock, SequentialKeys, SplitMix, format_ms};
use daftar::store::Store;
use daftar::sync::{self, SyncDeps, SyncEvent, SyncMode, SyncOptions, SyncSummary};
use daftar_sandbox::{Config, FaultConfig, NewPayment, RunningSandbox, Sandbox};
use serde::Serialize;

/// 2026-01-02T03:04:05.678Z: every time in the ledger is this one, or a step after it.
const START_MS: i64 = 1_767_323_045_678;

struct Env {
    sandbox: RunningSandbox,
    ledger: Ledger,
    clock: Arc<FixedClock>,
    runtime: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

impl Env {
    fn start() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let sandbox = Sandbox::start(Config::empty()).expect("sandbox starts");
        let store = Store::open(&dir.path().join("ledger.sqlite3")).unwrap();
        let clock = Arc::new(FixedClock::new(START_MS));
        let ledger = Ledger::with_sources(
            store,
            clock.clone(),
            Arc::new(SequentialKeys::new()),
            "cli:tester",
        )
        .with_secret_store(Arc::new(MemoryStore::new()));
        let runtime = test_runtime();
        Env {
            sandbox,
            ledger,
            clock,
            runtime,
            _dir: dir,
        }
    }

    fn remote(&self) -> Remote {
        Remote {
            runtime: self.runtime.handle().clone(),
            client_config: ClientConfig {
                connect_timeout: Duration::from_secs(2),
                request_timeout: Duration::from_secs(5),
            },
        }
    }

    /// A payment at Ottu (the sandbox), not yet in the ledger.
    fn ottu_payment(&self, session: &str, amount: &str, pg_code: &str) {
        let payment: NewPayment = serde_json::from_value(serde_json::json!({
            "session_id": session,
            "order_no": format!("ORD-{session}"),
            "amount": amount,
            "state": "paid",
            "pg_code": pg_code,
            "customer_email": format!("{session}@example.com"),
        }))
        .unwrap();
        self.sandbox.add_payment(payment).unwrap();
    }

    fn queue(&mut self, kind: &str, session: &str, amount: Option<&str>) -> QueuedView {
        self.clock.advance_ms(1_000);
        self.ledger
            .queue(&QueueRequest {
                kind: kind.into(),
                payment: PaymentLookup::session_id(session),
                amount: amount.map(Into::into),
                reason: Some("customer returned it".into()),
            })
            .unwrap()
    }

    /// One sync run (one operation at a time, so the events come in one order) and every
    /// event it reported.
    fn sync(&mut self) -> (SyncSummary, Vec<SyncEvent>) {
        self.clock.advance_ms(1_000);
        let deps = SyncDeps {
            runtime: self.runtime.handle().clone(),
            client_config: self.remote().client_config,
            random: Arc::new(SplitMix::seeded(1)),
            cancel: Arc::new(AtomicBool::new(false)),
        };
        let options = SyncOptions {
            mode: SyncMode::Once,
            concurrency: 1,
            ..SyncOptions::default()
        };
        let mut events = Vec::new();
        let summary = sync::run(&mut self.ledger, &deps, &options, &mut |e: &SyncEvent| {
            events.push(e.clone())
        })
        .unwrap();
        (summary, events)
    }

    /// The view as `--json` prints it (pretty, fields in declaration order), with the
    /// sandbox's address (a new port each run) replaced.
    fn json(&self, view: &impl Serialize) -> String {
        let text = serde_json::to_string_pretty(view).unwrap();
        let origin = self.sandbox.base_url().trim_end_matches('/');
        text.replace(origin, "http://127.0.0.1:PORT")
    }
}

fn api_key(key: &str) -> Credential {
    Credential::ApiKey(SecretString::from(key.to_string()))
}

/// Every view, in the order a merchant would meet them. One test, because each step
/// builds on the ledger the steps before it left.
#[test]
fn every_view_keeps_its_json_shape() {
    let mut env = Env::start();
    let base_url = env.sandbox.base_url().to_string();
    let key = env.sandbox.api_key().to_string();

    // Profiles: added, with a key, changed, listed, removed.
    let added = env.ledger.add_profile("shop", &base_url, "KWD").unwrap();
    insta::assert_snapshot!("profile_view", env.json(&added));
    let detail = env.ledger.set_key("shop", api_key(&key)).unwrap();
    insta::assert_snapshot!("profile_detail", env.json(&detail));
    env.ledger.add_profile("spare", &base_url, "USD").unwrap();
    let changed = env
        .ledger
        .set_profile(&ProfileChange {
            name: "spare".into(),
            base_url: None,
            currency: Some("KWD".into()),
        })
        .unwrap();
    insta::assert_snapshot!("profile_changed", env.json(&changed));
    // A profile whose key Ottu refuses: its queue pauses.
    env.ledger
        .set_key("spare", api_key("not-the-sandbox-key"))
        .unwrap();
    let listed = env.ledger.profiles().unwrap();
    insta::assert_snapshot!("profiles", env.json(&listed));
    env.ledger.add_profile("gone", &base_url, "KWD").unwrap();
    let removed = env.ledger.remove_profile("gone").unwrap();
    insta::assert_snapshot!("profile_removed", env.json(&removed));

    // Payments: one by hand, three imported from Ottu.
    env.clock.advance_ms(1_000);
    let manual = env
        .ledger
        .add_payment(&PaymentInput {
            profile: "spare".into(),
            session_id: "manual-1".into(),
            order_no: Some("INV-1".into()),
            amount: "12.500".into(),
            currency: "KWD".into(),
            state: "paid".into(),
        })
        .unwrap();
    insta::assert_snapshot!("payment_added", env.json(&manual));
    env.ottu_payment("paid-1", "10.000", "credit-card");
    env.ottu_payment("queued-1", "9.000", "queued-pg");
    env.ottu_payment("refused-1", "5.000", "refuse-pg");
    env.clock.advance_ms(1_000);
    let imported = env
        .ledger
        .import_from_ottu(
            &env.remote(),
            "shop",
            &[
                "paid-1".to_string(),
                "queued-1".to_string(),
                "refused-1".to_string(),
                "not-at-ottu".to_string(),
            ],
            &mut |_| {},
        )
        .unwrap();
    insta::assert_snapshot!("import_summary", env.json(&imported));

    // The queue: a refund that succeeds, one Ottu queues, one refused, one dropped, one
    // held behind a paused profile.
    let queued = env.queue("refund", "paid-1", Some("4.000"));
    insta::assert_snapshot!("queued_view", env.json(&queued));
    env.queue("refund", "queued-1", None);
    env.queue("refund", "refused-1", Some("1.000"));
    env.queue("refund", "manual-1", Some("2.500"));
    let to_drop = env.queue("refund", "paid-1", Some("1.000"));
    let preview = env
        .ledger
        .preview(&QueueRequest {
            kind: "refund".into(),
            payment: PaymentLookup {
                order_no: Some("ORD-paid-1".into()),
                profile: Some("shop".into()),
                ..PaymentLookup::default()
            },
            amount: None,
            reason: None,
        })
        .unwrap();
    insta::assert_snapshot!("preview", env.json(&preview));
    env.clock.advance_ms(1_000);
    let dropped = env
        .ledger
        .drop_operation(to_drop.operation.id, Some("entered twice"))
        .unwrap();
    insta::assert_snapshot!("operation_dropped", env.json(&dropped));

    // Sync: sends the queue; `spare` pauses on its refused key.
    let (summary, events) = env.sync();
    insta::assert_snapshot!("sync_summary", env.json(&summary));
    insta::assert_snapshot!("sync_events", env.json(&events));

    // Ottu settles the refund it had queued; refresh records how it ended.
    env.sandbox.settle_now().unwrap();
    env.clock.advance_ms(1_000);
    let refreshed = env
        .ledger
        .refresh_from_ottu(&env.remote(), "shop", &mut |_| {})
        .unwrap();
    insta::assert_snapshot!("refresh_summary", env.json(&refreshed));

    // The refused refund, replaced by a new one after the merchant checked Ottu.
    let failed = env
        .ledger
        .queue_list(&QueueQuery {
            status: Some("failed".into()),
            ..QueueQuery::default()
        })
        .unwrap()
        .operations;
    env.clock.advance_ms(1_000);
    let retried = env
        .ledger
        .retry_operation(&RetryRequest {
            id: failed[0].id,
            confirm_not_applied: true,
            reason: Some("Ottu's dashboard shows no refund".into()),
        })
        .unwrap();
    insta::assert_snapshot!("retried", env.json(&retried));

    // What the merchant reads back.
    let payments = env.ledger.list_payments(&PaymentQuery::default()).unwrap();
    insta::assert_snapshot!("payment_list", env.json(&payments));
    let shown = env
        .ledger
        .show_payment(&PaymentLookup::session_id("paid-1"))
        .unwrap();
    insta::assert_snapshot!("payment_detail", env.json(&shown));
    let actions = env
        .ledger
        .payment_actions(&PaymentLookup::session_id("paid-1"))
        .unwrap();
    insta::assert_snapshot!("payment_actions", env.json(&actions));
    for (profile, name) in [
        ("shop", "connection_check"),
        ("spare", "connection_check_failed"),
    ] {
        let check = env
            .ledger
            .connection_check(profile)
            .unwrap()
            .with_client_config(env.remote().client_config)
            .run(env.runtime.handle());
        insta::assert_snapshot!(name, env.json(&check));
    }
    let shown = env
        .ledger
        .show_payment(&PaymentLookup::session_id("queued-1"))
        .unwrap();
    insta::assert_snapshot!("payment_detail_refund_settled", env.json(&shown));
    let queue = env.ledger.queue_list(&QueueQuery::default()).unwrap();
    insta::assert_snapshot!("queue_list", env.json(&queue));
    let status = env.ledger.status().unwrap();
    insta::assert_snapshot!("status", env.json(&status));
    let spare = env.ledger.profile_show("spare").unwrap();
    insta::assert_snapshot!("profile_detail_paused", env.json(&spare));
}

/// An operation's age is measured by the ledger's clock while it waits (queued, and after
/// a throttled attempt) and is gone once it succeeded; `next_attempt_at` is the time a
/// throttled one waits for. Every view of the operation says the same.
#[test]
fn an_operations_age_and_next_attempt_follow_the_ledger_clock() {
    let mut env = Env::start();
    let base_url = env.sandbox.base_url().to_string();
    let key = env.sandbox.api_key().to_string();
    env.ledger.add_profile("shop", &base_url, "KWD").unwrap();
    env.ledger.set_key("shop", api_key(&key)).unwrap();
    env.ottu_payment("paid-1", "10.000", "credit-card");
    env.ottu_payment("busy-1", "10.000", "credit-card");
    env.ledger
        .import_from_ottu(
            &env.remote(),
            "shop",
            &["paid-1".to_string(), "busy-1".to_string()],
            &mut |_| {},
        )
        .unwrap();

    // The operation as the queue list and `payment show` give it.
    fn seen(env: &mut Env, session: &str, id: i64) -> Vec<OperationView> {
        let listed = env
            .ledger
            .queue_list(&QueueQuery::default())
            .unwrap()
            .operations
            .into_iter()
            .filter(|o| o.id == id);
        let shown = env
            .ledger
            .show_payment(&PaymentLookup::session_id(session))
            .unwrap()
            .operations
            .into_iter()
            .filter(|o| o.id == id);
        let views: Vec<OperationView> = listed.chain(shown).collect();
        assert_eq!(views.len(), 2, "{views:?}");
        views
    }
    let ages = |views: &[OperationView]| views.iter().map(|o| o.age_ms).collect::<Vec<_>>();
    let next = |views: &[OperationView]| {
        views
            .iter()
            .map(|o| o.next_attempt_at.clone())
            .collect::<Vec<_>>()
    };

    let queued = env.queue("refund", "paid-1", Some("1.000")).operation;
    assert_eq!((queued.age_ms, queued.next_attempt_at), (Some(0), None));
    env.clock.advance_ms(7_500);
    let views = seen(&mut env, "paid-1", queued.id);
    assert_eq!(ages(&views), [Some(7_500); 2]);
    assert_eq!(next(&views), [None, None]);
    env.clock.advance_ms(2_500);
    assert_eq!(
        ages(&seen(&mut env, "paid-1", queued.id)),
        [Some(10_000); 2]
    );

    // Sent and succeeded: no longer waiting, so no age however late it is read.
    let (summary, _) = env.sync();
    assert_eq!(summary.succeeded, 1, "{summary:?}");
    env.clock.advance_ms(60_000);
    let views = seen(&mut env, "paid-1", queued.id);
    assert_eq!(ages(&views), [None, None], "{views:?}");
    assert_eq!(next(&views), [None, None]);

    // Ottu is busy (429, Retry-After 120 s): the operation waits again, until then.
    env.sandbox
        .set_faults(FaultConfig {
            rate_429: 1.0,
            retry_after_s: 120,
            ..FaultConfig::none()
        })
        .unwrap();
    let busy = env.queue("refund", "busy-1", Some("1.000")).operation;
    let (summary, _) = env.sync();
    assert_eq!(summary.succeeded, 0, "{summary:?}");
    let attempted_at = env.clock.now_ms();
    let views = seen(&mut env, "busy-1", busy.id);
    assert!(
        views
            .iter()
            .all(|o| o.status == daftar::model::OperationStatus::Queued
                && o.last_error_code.as_deref() == Some("ottu.throttled")),
        "{views:?}"
    );
    let due = Some(format_ms(attempted_at + 120_000));
    assert_eq!(next(&views), [due.clone(), due.clone()]);
    assert_eq!(ages(&views), [Some(1_000); 2]);
    env.clock.advance_ms(30_000);
    let views = seen(&mut env, "busy-1", busy.id);
    assert_eq!(ages(&views), [Some(31_000); 2]);
    assert_eq!(next(&views), [due.clone(), due]);
}
