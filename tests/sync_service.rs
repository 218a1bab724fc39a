//! The sync service as a long-running process holds it: the worker on its own thread with
//! its own `Ledger` on the same file, against the Ottu sandbox over real loopback HTTP,
//! while the test's `Ledger` (the app's commands) queues beside it. Stop with requests in
//! flight, per-profile offline, a key rotated mid-run, wake, a busy store, the outstanding
//! count and queue ages.

mod common;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::ottu::{queue_refund, shop_profile, test_runtime};
use daftar::Ledger;
use daftar::connect::Remote;
use daftar::ledger::{PaymentInput, PaymentLookup, QueuedView};
use daftar::model::{OperationKind, OperationStatus, SessionId, TrackingKey};
use daftar::money::{Amount, Currency};
use daftar::ottu::{
    ClientConfig, Credential, OperationOutcome, OperationRequest, OttuClient, PaymentRef,
};
use daftar::secrets::{MemoryStore, SecretSlot, SecretStore, SecretString, SecretsError};
use daftar::sync::{Connection, SyncEvent, SyncHandle, SyncService, SyncServiceConfig};
use daftar_sandbox::{Config, FaultConfig, NewPayment, RunningSandbox, Sandbox};

const PATIENCE: Duration = Duration::from_secs(20);

fn client_config() -> ClientConfig {
    ClientConfig {
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(10),
    }
}

/// The app's side: a ledger file, its commands' `Ledger`, the keyring both share.
struct App {
    sandbox: RunningSandbox,
    ledger: Ledger,
    path: PathBuf,
    secrets: Arc<MemoryStore>,
    runtime: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

impl App {
    fn start(config: Config) -> App {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.sqlite3");
        let sandbox = Sandbox::start(config).expect("sandbox starts");
        let secrets = Arc::new(MemoryStore::new());
        let mut ledger = Ledger::open(&path, "test")
            .unwrap()
            .with_secret_store(secrets.clone());
        shop_profile(&mut ledger, &sandbox);
        let runtime = test_runtime();
        App {
            sandbox,
            ledger,
            path,
            secrets,
            runtime,
            _dir: dir,
        }
    }

    /// Ottu knows two Basic users, `old-clerk` and `new-clerk`; the ledger holds the old one.
    fn with_old_clerk() -> App {
        let mut app = App::start(Config {
            users: vec![
                "old-clerk:old-password:payment.refund".parse().unwrap(),
                "new-clerk:new-password:payment.refund".parse().unwrap(),
            ],
            ..empty()
        });
        app.ledger
            .set_key(
                "shop",
                Credential::Basic {
                    user: "old-clerk".into(),
                    password: SecretString::from("old-password".to_string()),
                },
            )
            .unwrap();
        app
    }

    /// The merchant's rotation: the new credential stored, then the old one revoked at Ottu.
    fn rotate_to_new_clerk(&mut self) {
        self.ledger
            .set_key(
                "shop",
                Credential::Basic {
                    user: "new-clerk".into(),
                    password: SecretString::from("new-password".to_string()),
                },
            )
            .unwrap();
        self.sandbox
            .add_user("old-clerk:revoked-now:payment.refund".parse().unwrap())
            .unwrap();
    }

    fn config(&self) -> SyncServiceConfig {
        let mut config = SyncServiceConfig::new(&self.path, "test", self.runtime.handle().clone());
        config.client_config = client_config();
        config.secrets = self.secrets.clone();
        config
    }

    fn start_service(&self, config: SyncServiceConfig) -> (SyncHandle, Events) {
        let (tx, rx) = mpsc::channel();
        let handle = SyncService::start(config, move |event| {
            let _ = tx.send(event.clone());
        })
        .expect("the service starts");
        (handle, Events { rx, seen: vec![] })
    }

    /// A payment at Ottu, imported into the ledger the way a merchant would.
    fn payment(&mut self, session: &str, amount: &str) {
        let payment: NewPayment = serde_json::from_value(serde_json::json!({
            "session_id": session,
            "order_no": format!("ORD-{session}"),
            "amount": amount,
            "state": "paid",
            "pg_code": "knet",
        }))
        .unwrap();
        self.sandbox.add_payment(payment).unwrap();
        let remote = Remote {
            runtime: self.runtime.handle().clone(),
            client_config: client_config(),
        };
        let summary = self
            .ledger
            .import_from_ottu(&remote, "shop", &[session.to_string()], &mut |_| {})
            .unwrap();
        assert_eq!(summary.added, 1, "{summary:?}");
    }

    fn refund(&mut self, session: &str, amount: &str) -> QueuedView {
        queue_refund(&mut self.ledger, session, amount)
    }

    fn status_of(&mut self, session: &str) -> OperationStatus {
        let detail = self
            .ledger
            .show_payment(&PaymentLookup {
                session_id: Some(session.into()),
                ..PaymentLookup::default()
            })
            .unwrap();
        detail.operations[0].status
    }

    /// Sends a refund with `key` straight to Ottu, as an attempt the worker abandoned
    /// would have arrived.
    fn apply_directly(&self, session: &str, amount: &str, key: &str) {
        let credential = Credential::ApiKey(SecretString::from(self.sandbox.api_key().to_string()));
        let client =
            OttuClient::new(self.sandbox.base_url(), &credential, client_config()).unwrap();
        let request = OperationRequest::new(
            OperationKind::Refund,
            PaymentRef::Session(SessionId::parse(session).unwrap()),
            Some(Amount::parse(amount, Currency::KWD).unwrap()),
        )
        .unwrap();
        let key = TrackingKey(uuid::Uuid::parse_str(key).unwrap());
        let outcome = self.runtime.block_on(client.send_operation(key, &request));
        assert!(
            matches!(outcome, OperationOutcome::Succeeded { .. }),
            "{outcome:?}"
        );
    }

    /// How many times Ottu applied the operation with this tracking key.
    fn applied(&self, key: &str) -> usize {
        let state = self.sandbox.state().unwrap();
        state
            .operations
            .iter()
            .filter(|o| o.tracking_key.as_deref() == Some(key))
            .count()
    }
}

/// The events the worker sent, as they arrive.
struct Events {
    rx: mpsc::Receiver<SyncEvent>,
    seen: Vec<SyncEvent>,
}

impl Events {
    /// Waits (up to `PATIENCE`) until `done` holds for the events seen so far.
    fn until(&mut self, what: &str, done: impl Fn(&[SyncEvent]) -> bool) {
        let deadline = Instant::now() + PATIENCE;
        while !done(&self.seen) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(event) => self.seen.push(event),
                Err(_) => panic!("timed out waiting for {what}; events: {:#?}", self.seen),
            }
        }
    }

    /// Collects what arrives for `window` (to show something did NOT happen).
    fn during(&mut self, window: Duration) {
        let deadline = Instant::now() + window;
        while let Ok(event) = self
            .rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            self.seen.push(event);
        }
    }

    fn count(&self, pred: impl Fn(&SyncEvent) -> bool) -> usize {
        self.seen.iter().filter(|e| pred(e)).count()
    }
}

fn succeeded(events: &[SyncEvent]) -> usize {
    events
        .iter()
        .filter(|e| matches!(e, SyncEvent::Recorded(v) if v.status == OperationStatus::Succeeded))
        .count()
}

fn sent(events: &[SyncEvent]) -> usize {
    events
        .iter()
        .filter(|e| matches!(e, SyncEvent::Sent { .. }))
        .count()
}

fn empty() -> Config {
    Config {
        varied_gateways: false,
        ..Config::empty()
    }
}

/// A port nothing listens on: connecting is refused at once (Ottu unreachable).
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn stop_with_requests_in_flight_returns_within_a_second_and_the_next_start_resends_each_once() {
    let mut app = App::start(empty());
    let sessions = ["slow-1", "slow-2", "slow-3", "slow-4"];
    let mut keys = Vec::new();
    for session in sessions {
        app.payment(session, "10.000");
        keys.push(app.refund(session, "1.000").operation.tracking_key);
    }
    app.sandbox
        .set_faults(FaultConfig {
            latency_ms: 2_000,
            ..FaultConfig::none()
        })
        .unwrap();
    let (handle, mut events) = app.start_service(app.config());
    events.until("4 requests sent", |e| sent(e) == 4);
    let stopped = handle.stop();
    assert!(
        stopped.took < Duration::from_secs(1),
        "stop took {:?}",
        stopped.took
    );
    let summary = stopped
        .result
        .expect("the worker ended before the deadline")
        .unwrap();
    assert_eq!(summary.succeeded, 0, "{summary:?}");
    // Abandoned, not recorded: each stays in flight for recovery.
    for session in sessions {
        assert_eq!(app.status_of(session), OperationStatus::InFlight);
    }
    // The sandbox applies after its latency, so none of the dropped requests was applied.
    // Two are made to have arrived (sent with their keys straight to Ottu): their resend
    // is then a repeat of an applied key, the case recovery exists for.
    for (session, key) in sessions.iter().zip(&keys) {
        assert_eq!(app.applied(key), 0, "{session}");
    }
    app.sandbox.set_faults(FaultConfig::none()).unwrap();
    for (session, key) in sessions.iter().zip(&keys).take(2) {
        app.apply_directly(session, "1.000", key);
        assert_eq!(app.applied(key), 1, "{session}");
    }
    assert_eq!(app.sandbox.state().unwrap().counters.operations_replayed, 0);

    // The next start resends each with its own key; Ottu applies each once.
    app.sandbox.set_faults(FaultConfig::none()).unwrap();
    let (handle, mut events) = app.start_service(app.config());
    events.until("4 successes", |e| succeeded(e) == 4);
    assert_eq!(
        events.seen.first(),
        Some(&SyncEvent::Recovered { count: 4 }),
        "{:#?}",
        events.seen
    );
    handle.stop().result.unwrap().unwrap();
    for (session, key) in sessions.iter().zip(&keys) {
        assert_eq!(app.status_of(session), OperationStatus::Succeeded);
        assert_eq!(app.applied(key), 1, "{session} applied once");
        let detail = app
            .ledger
            .show_payment(&PaymentLookup {
                session_id: Some(session.to_string()),
                ..PaymentLookup::default()
            })
            .unwrap();
        assert_eq!(&detail.operations[0].tracking_key, key, "the same key");
        assert_eq!(detail.balances.refunded, "1.000");
    }
    // The two applied before were answered from their keys, nothing performed again.
    assert_eq!(app.sandbox.state().unwrap().counters.operations_replayed, 2);
}

#[test]
fn one_unreachable_profile_does_not_stall_the_other() {
    let mut app = App::start(empty());
    let dead_url = format!("http://127.0.0.1:{}", closed_port());
    app.ledger.add_profile("dead", &dead_url, "KWD").unwrap();
    app.ledger
        .set_key(
            "dead",
            Credential::ApiKey(SecretString::from("k".repeat(40))),
        )
        .unwrap();
    app.ledger
        .add_payment(&PaymentInput {
            profile: "dead".into(),
            session_id: "dead-1".into(),
            order_no: None,
            amount: "5.000".into(),
            currency: "KWD".into(),
            state: "paid".into(),
        })
        .unwrap();
    app.refund("dead-1", "1.000");
    let sessions = ["live-1", "live-2", "live-3", "live-4", "live-5", "live-6"];
    for session in sessions {
        app.payment(session, "10.000");
        app.refund(session, "1.000");
    }
    let (handle, mut events) = app.start_service(app.config());
    events.until("the live profile drained", |e| succeeded(e) == 6);
    assert!(
        events
            .seen
            .iter()
            .any(|e| matches!(e, SyncEvent::Offline { profile, .. } if profile == "dead")),
        "{:#?}",
        events.seen
    );
    assert!(
        events
            .seen
            .iter()
            .any(|e| matches!(e, SyncEvent::Online { profile } if profile == "shop")),
        "{:#?}",
        events.seen
    );
    assert!(
        !events
            .seen
            .iter()
            .any(|e| matches!(e, SyncEvent::Offline { profile, .. } if profile == "shop")),
        "{:#?}",
        events.seen
    );
    for session in sessions {
        assert_eq!(app.status_of(session), OperationStatus::Succeeded);
    }
    assert_eq!(app.status_of("dead-1"), OperationStatus::Queued);
    // Status: one light per profile, and how long the unreachable one's work has waited.
    // The per-profile numbers are re-read when the worker goes idle (and at most every
    // second while it drains).
    events.until("idle", |e| {
        e.iter().any(|e| matches!(e, SyncEvent::Idle { .. }))
    });
    let deadline = Instant::now() + PATIENCE;
    let status = loop {
        let status = handle.status();
        let dead = status.profiles.iter().find(|p| p.profile == "dead");
        if dead.is_some_and(|d| d.oldest_queued_age_ms.is_some()) && status.outstanding == 1 {
            break status;
        }
        assert!(Instant::now() < deadline, "{status:?}");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.running);
    let dead = status
        .profiles
        .iter()
        .find(|p| p.profile == "dead")
        .unwrap();
    let shop = status
        .profiles
        .iter()
        .find(|p| p.profile == "shop")
        .unwrap();
    assert_eq!((dead.connection, dead.waiting), (Connection::Offline, 1));
    assert_eq!(
        (shop.connection, shop.waiting, shop.oldest_queued_age_ms),
        (Connection::Online, 0, None)
    );
    let stopped = handle.stop();
    let summary = stopped.result.unwrap().unwrap();
    assert!(summary.offline && summary.remaining == 1, "{summary:?}");
}

#[test]
fn a_key_rotated_while_the_worker_runs_is_used_on_the_next_request_without_a_pause() {
    let mut app = App::with_old_clerk();
    app.payment("rot-1", "10.000");
    app.payment("rot-2", "10.000");
    let mut config = app.config();
    config.options.poll_ms = 600_000;
    app.refund("rot-1", "1.000");
    let (handle, mut events) = app.start_service(config);
    events.until("the first refund, with the old key", |e| succeeded(e) == 1);

    // The merchant makes a new credential, gives it to Daftar, then revokes the old one.
    app.rotate_to_new_clerk();
    let queued = app.refund("rot-2", "2.000");
    handle.wake();
    events.until("the second refund, with the new key", |e| succeeded(e) == 2);
    assert_eq!(
        events.count(|e| matches!(e, SyncEvent::Paused { .. })),
        0,
        "no pause after a rotation: {:#?}",
        events.seen
    );
    assert_eq!(app.applied(&queued.operation.tracking_key), 1);
    let profile = app.ledger.profile_show("shop").unwrap();
    assert_eq!(profile.paused_reason, None);
    handle.stop().result.unwrap().unwrap();
}

#[test]
fn an_old_keys_401_answered_after_the_rotation_sends_again_with_the_new_key_without_a_pause() {
    let mut app = App::with_old_clerk();
    app.payment("race-1", "10.000");
    let queued = app.refund("race-1", "1.000");
    // The sandbox checks the credential after its latency: the request is on its way with
    // the old key while the merchant rotates it.
    app.sandbox
        .set_faults(FaultConfig {
            latency_ms: 1_500,
            ..FaultConfig::none()
        })
        .unwrap();
    let (handle, mut events) = app.start_service(app.config());
    events.until("the refund sent with the old key", |e| sent(e) == 1);
    app.rotate_to_new_clerk();
    events.until("the refund, sent again with the new key", |e| {
        succeeded(e) == 1
    });
    assert_eq!(
        events.count(|e| matches!(e, SyncEvent::Paused { .. })),
        0,
        "{:#?}",
        events.seen
    );
    // The old key's 401 was an attempt given back, not a pause.
    assert_eq!(sent(&events.seen), 2, "{:#?}", events.seen);
    assert_eq!(app.applied(&queued.operation.tracking_key), 1);
    let detail = app
        .ledger
        .show_payment(&PaymentLookup {
            session_id: Some("race-1".into()),
            ..PaymentLookup::default()
        })
        .unwrap();
    assert_eq!(detail.operations[0].attempts, 1, "{detail:?}");
    assert_eq!(app.ledger.profile_show("shop").unwrap().paused_reason, None);
    handle.stop().result.unwrap().unwrap();
}

#[test]
fn a_wrong_key_pauses_the_profile_and_a_key_set_while_running_resumes_it() {
    let mut app = App::start(empty());
    app.payment("fix-1", "10.000");
    app.refund("fix-1", "1.000");
    app.ledger
        .set_key(
            "shop",
            Credential::ApiKey(SecretString::from("not-the-key-".repeat(4))),
        )
        .unwrap();
    let mut config = app.config();
    config.options.poll_ms = 600_000;
    let (handle, mut events) = app.start_service(config);
    events.until("paused by Ottu's 401", |e| {
        e.iter()
            .any(|e| matches!(e, SyncEvent::Paused { profile, .. } if profile == "shop"))
    });
    let deadline = Instant::now() + PATIENCE;
    while handle.status().profiles.first().map(|p| p.connection) != Some(Connection::Paused) {
        assert!(Instant::now() < deadline, "{:?}", handle.status());
        std::thread::sleep(Duration::from_millis(20));
    }
    // Beside the English, the code and params a UI words its own message from.
    let (code, params) = events
        .seen
        .iter()
        .find_map(|e| match e {
            SyncEvent::Paused { code, params, .. } => Some((code.clone(), params.clone())),
            _ => None,
        })
        .unwrap();
    assert_eq!(code.as_deref(), Some("ottu.auth"));
    assert_eq!(params.unwrap()["status"], 401);
    events.until("the 401 recorded", |e| {
        e.iter().any(|e| matches!(e, SyncEvent::Recorded(_)))
    });
    let recorded = events
        .seen
        .iter()
        .find_map(|e| match e {
            SyncEvent::Recorded(v) => Some(v.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(recorded.code.as_deref(), Some("ottu.auth"), "{recorded:?}");
    let profile = &handle.status().profiles[0];
    assert_eq!(
        profile.paused_code.as_deref(),
        Some("ottu.auth"),
        "{profile:?}"
    );
    assert_eq!(profile.paused_params.as_ref().unwrap()["status"], 401);

    app.ledger
        .set_key(
            "shop",
            Credential::ApiKey(SecretString::from(app.sandbox.api_key().to_string())),
        )
        .unwrap();
    handle.wake();
    events.until("resumed, and the refund sent with the new key", |e| {
        succeeded(e) == 1
            && e.iter()
                .any(|e| matches!(e, SyncEvent::Resumed { profile } if profile == "shop"))
    });
    assert_eq!(app.status_of("fix-1"), OperationStatus::Succeeded);
    let status = handle.status();
    assert_eq!(
        status.profiles[0].connection,
        Connection::Online,
        "{status:?}"
    );
    handle.stop().result.unwrap().unwrap();
}

#[test]
fn a_second_service_on_the_same_ledger_is_refused_while_the_first_runs() {
    let app = App::start(empty());
    let (handle, _events) = app.start_service(app.config());
    let error = SyncService::start(app.config(), |_| {})
        .err()
        .expect("refused");
    assert_eq!(error.code(), "sync.running");
    handle.stop().result.unwrap().unwrap();
    // Stopped: the lock is free again.
    let (handle, _events) = app.start_service(app.config());
    assert!(handle.status().running);
    handle.stop().result.unwrap().unwrap();
}

#[test]
fn a_key_removed_while_the_worker_runs_holds_the_profile_before_anything_is_sent() {
    let mut app = App::start(empty());
    app.payment("rm-1", "10.000");
    app.payment("rm-2", "10.000");
    app.refund("rm-1", "1.000");
    let mut config = app.config();
    config.options.poll_ms = 600_000;
    let (handle, mut events) = app.start_service(config);
    events.until("the first refund", |e| succeeded(e) == 1);
    app.ledger.remove_key("shop").unwrap();
    app.refund("rm-2", "2.000");
    handle.wake();
    events.until("the profile held", |e| {
        e.iter()
            .any(|e| matches!(e, SyncEvent::Paused { profile, .. } if profile == "shop"))
    });
    assert_eq!(app.status_of("rm-2"), OperationStatus::Queued);
    let held = events.seen.iter().find_map(|e| match e {
        SyncEvent::Paused { code, params, .. } => Some((code.clone(), params.clone())),
        _ => None,
    });
    let (code, params) = held.unwrap();
    // Its claim found no credential: given back unsent, the connect error as its detail.
    assert_eq!(code.as_deref(), Some("sync.cannot_send"));
    let detail = params.unwrap()["detail"].as_str().unwrap().to_string();
    assert!(detail.contains("no credential stored"), "{detail}");
    let profile = &handle.status().profiles[0];
    assert_eq!(
        profile.paused_code.as_deref(),
        Some("sync.cannot_send"),
        "{profile:?}"
    );
    let state = app.sandbox.state().unwrap();
    assert_eq!(state.operations.len(), 1, "the second was never sent");
    handle.stop().result.unwrap().unwrap();
}

#[test]
fn work_queued_by_another_ledger_is_picked_up_by_wake_not_by_polling() {
    let mut app = App::start(empty());
    app.payment("wake-1", "10.000");
    app.payment("wake-2", "10.000");
    let mut config = app.config();
    // Ten minutes: only a wake can explain a pick-up within the test.
    config.options.poll_ms = 600_000;
    let (handle, mut events) = app.start_service(config);
    events.until("idle", |e| {
        e.iter().any(|e| matches!(e, SyncEvent::Idle { .. }))
    });

    // Queued without a wake: nothing is sent.
    app.refund("wake-1", "1.000");
    events.during(Duration::from_millis(1_500));
    assert_eq!(sent(&events.seen), 0, "{:#?}", events.seen);

    handle.wake();
    events.until("the refund after the wake", |e| succeeded(e) == 1);
    app.refund("wake-2", "1.000");
    let woken = Instant::now();
    handle.wake();
    events.until("the second refund", |e| succeeded(e) == 2);
    assert!(
        woken.elapsed() < Duration::from_secs(5),
        "{:?}",
        woken.elapsed()
    );
    assert_eq!(app.status_of("wake-1"), OperationStatus::Succeeded);
    assert_eq!(app.status_of("wake-2"), OperationStatus::Succeeded);
    handle.stop().result.unwrap().unwrap();
}

#[test]
fn a_busy_store_is_reported_and_retried_and_the_work_goes_through_after() {
    let mut app = App::start(empty());
    app.payment("busy-1", "10.000");
    let mut config = app.config();
    config.options.poll_ms = 600_000;
    let (handle, mut events) = app.start_service(config);
    events.until("idle", |e| {
        e.iter().any(|e| matches!(e, SyncEvent::Idle { .. }))
    });
    app.sandbox
        .set_faults(FaultConfig {
            latency_ms: 1_000,
            ..FaultConfig::none()
        })
        .unwrap();
    let key = app.refund("busy-1", "1.000").operation.tracking_key;
    handle.wake();
    events.until("the refund sent", |e| sent(e) == 1);

    // Another connection holds the write lock while the request is in flight: its answer
    // comes and cannot be recorded.
    let mut blocker = rusqlite::Connection::open(&app.path).unwrap();
    let tx = blocker
        .transaction_with_behavior(rusqlite::TransactionBehavior::Exclusive)
        .unwrap();
    tx.execute_batch("UPDATE profiles SET name = name").unwrap();
    let deadline = Instant::now() + PATIENCE;
    while app.applied(&key) == 0 {
        assert!(Instant::now() < deadline, "Ottu never applied it");
        events.during(Duration::from_millis(20));
    }
    // A store error after Ottu answered: the one recording the answer failed.
    events.during(Duration::from_millis(20));
    let store_error = |e: &SyncEvent| matches!(e, SyncEvent::StoreError { .. });
    let before = events.count(store_error);
    events.until("a store error after the answer", |e| {
        e.iter().filter(|e| store_error(e)).count() > before
    });
    let status = handle.status();
    assert!(status.running && status.store_error.is_some(), "{status:?}");
    assert_eq!(
        status.store_error_code.as_deref(),
        Some("store.busy"),
        "{status:?}"
    );
    assert!(status.store_error_params.is_some(), "{status:?}");
    assert_eq!(succeeded(&events.seen), 0, "nothing recorded while locked");
    tx.commit().unwrap();

    events.until("the answer recorded after the lock is released", |e| {
        succeeded(e) == 1
    });
    assert_eq!(app.status_of("busy-1"), OperationStatus::Succeeded);
    // The answer kept across the failed call is recorded once; nothing was sent again.
    events.during(Duration::from_millis(300));
    assert_eq!(
        events.count(|e| matches!(e, SyncEvent::Recorded(_))),
        1,
        "{:#?}",
        events.seen
    );
    assert_eq!(sent(&events.seen), 1);
    assert_eq!(app.applied(&key), 1);
    assert_eq!(app.sandbox.state().unwrap().counters.operations_replayed, 0);
    assert!(handle.status().store_error.is_none());
    let error = events
        .seen
        .iter()
        .find_map(|e| match e {
            SyncEvent::StoreError {
                code, retry_in_ms, ..
            } => Some((code.clone(), *retry_in_ms)),
            _ => None,
        })
        .unwrap();
    assert!(error.0.starts_with("store."), "{error:?}");
    assert!(error.1 > 0);
    handle.stop().result.unwrap().unwrap();
}

#[test]
fn outstanding_is_sent_again_whenever_the_count_changes() {
    let mut app = App::start(empty());
    for session in ["out-1", "out-2", "out-3", "out-4", "out-5"] {
        app.payment(session, "10.000");
    }
    for session in ["out-1", "out-2", "out-3"] {
        app.refund(session, "1.000");
    }
    let mut config = app.config();
    config.options.poll_ms = 600_000;
    config.options.concurrency = 1;
    let (handle, mut events) = app.start_service(config);
    events.until("3 successes", |e| succeeded(e) == 3);
    events.until("outstanding 0", |e| {
        e.iter()
            .any(|e| matches!(e, SyncEvent::Outstanding { total: 0 }))
    });
    let totals = |events: &[SyncEvent]| -> Vec<u64> {
        events
            .iter()
            .filter_map(|e| match e {
                SyncEvent::Outstanding { total } => Some(*total),
                _ => None,
            })
            .collect()
    };
    assert_eq!(totals(&events.seen), [3, 2, 1, 0], "{:#?}", events.seen);

    app.refund("out-4", "1.000");
    app.refund("out-5", "1.000");
    handle.wake();
    events.until("5 successes", |e| succeeded(e) == 5);
    events.until("outstanding 0 again", |e| totals(e).ends_with(&[2, 1, 0]));
    let status = handle.status();
    assert_eq!(status.outstanding, 0, "{status:?}");
    handle.stop().result.unwrap().unwrap();
}

#[test]
fn a_worker_ended_by_an_error_drops_its_requests_before_the_next_one_can_start() {
    let mut app = App::start(empty());
    app.payment("stale-1", "10.000");
    app.payment("late-1", "10.000");
    let mut config = app.config();
    config.options.poll_ms = 600_000;
    let (handle, mut events) = app.start_service(config);
    events.until("idle", |e| {
        e.iter().any(|e| matches!(e, SyncEvent::Idle { .. }))
    });
    let latency = |ms| FaultConfig {
        latency_ms: ms,
        ..FaultConfig::none()
    };
    app.sandbox.set_faults(latency(1_500)).unwrap();
    let stale = app.refund("stale-1", "1.000").operation;
    handle.wake();
    events.until("the first sent", |e| sent(e) == 1);
    // Its request is in the sandbox's latency wait before the next one gets a longer one.
    let deadline = Instant::now() + PATIENCE;
    while app.sandbox.state().unwrap().counters.faults.latency == 0 {
        assert!(Instant::now() < deadline, "the first request never arrived");
        std::thread::yield_now();
    }
    app.sandbox.set_faults(latency(4_000)).unwrap();
    let late = app.refund("late-1", "1.000").operation;
    handle.wake();
    events.until("the second sent", |e| sent(e) == 2);
    // Someone else settled the first (as another sync would): its answer finds it no longer
    // in flight, and the worker ends with `sync.stale_answer` while the second request is
    // still in flight.
    rusqlite::Connection::open(&app.path)
        .unwrap()
        .execute(
            "UPDATE operations SET status = 'needs_attention' WHERE id = ?1",
            [stale.id],
        )
        .unwrap();
    let deadline = Instant::now() + PATIENCE;
    while handle.status().running {
        assert!(Instant::now() < deadline, "the worker never ended");
        events.during(Duration::from_millis(50));
    }
    let error = handle.stop().result.expect("ended").unwrap_err();
    assert_eq!(error.code(), "sync.stale_answer", "{error:?}");
    assert_eq!(app.status_of("late-1"), OperationStatus::InFlight);

    // The lock is free: the next service recovers the second and resends it at once.
    app.sandbox.set_faults(FaultConfig::none()).unwrap();
    let (handle, mut events) = app.start_service(app.config());
    events.until("the second succeeded", |e| succeeded(e) == 1);
    assert_eq!(app.status_of("late-1"), OperationStatus::Succeeded);
    // The ended worker's request was dropped with it: it never reaches Ottu after its
    // latency (it would be answered as a repeat of the resend's key).
    events.during(Duration::from_millis(4_500));
    let counters = app.sandbox.state().unwrap().counters;
    assert_eq!(
        counters.operations_replayed,
        0,
        "{counters:?} {:?}",
        app.sandbox.state().unwrap().operations
    );
    assert_eq!(app.applied(&stale.tracking_key), 1);
    assert_eq!(app.applied(&late.tracking_key), 1);
    handle.stop().result.unwrap().unwrap();
}

/// The app's keyring, which can become unreachable (a locked session, no bus) and back.
struct Flaky {
    inner: Arc<MemoryStore>,
    down: std::sync::atomic::AtomicBool,
}

impl Flaky {
    fn check(&self) -> Result<(), SecretsError> {
        if self.down.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(SecretsError::NoSessionBus {
                detail: "no DBUS_SESSION_BUS_ADDRESS".into(),
            });
        }
        Ok(())
    }
}

impl SecretStore for Flaky {
    fn set(&self, slot: &SecretSlot, secret: &SecretString) -> Result<(), SecretsError> {
        self.check()?;
        self.inner.set(slot, secret)
    }
    fn get(&self, slot: &SecretSlot) -> Result<Option<SecretString>, SecretsError> {
        self.check()?;
        self.inner.get(slot)
    }
    fn delete(&self, slot: &SecretSlot) -> Result<bool, SecretsError> {
        self.check()?;
        self.inner.delete(slot)
    }
}

#[test]
fn an_unreachable_keyring_is_reported_and_retried_not_the_end_of_the_service() {
    let mut app = App::start(empty());
    app.payment("kr-1", "10.000");
    app.refund("kr-1", "1.000");
    let keyring = Arc::new(Flaky {
        inner: app.secrets.clone(),
        down: std::sync::atomic::AtomicBool::new(true),
    });
    let mut config = app.config();
    config.secrets = keyring.clone();
    config.options.poll_ms = 600_000;
    let (handle, mut events) = app.start_service(config);
    events.until("the keyring reported", |e| {
        e.iter().any(
            |e| matches!(e, SyncEvent::StoreError { code, .. } if code == "secrets.unavailable"),
        )
    });
    let status = handle.status();
    assert!(status.running, "{status:?}");
    assert_eq!(
        status.store_error_code.as_deref(),
        Some("secrets.unavailable")
    );
    assert_eq!(sent(&events.seen), 0);
    assert_eq!(
        events.count(|e| matches!(e, SyncEvent::Paused { .. })),
        0,
        "the profile is not to blame"
    );
    assert_eq!(app.status_of("kr-1"), OperationStatus::Queued);

    // The keyring is back: the next try (after its backoff) sends the refund.
    keyring
        .down
        .store(false, std::sync::atomic::Ordering::SeqCst);
    events.until("the refund", |e| succeeded(e) == 1);
    assert_eq!(app.status_of("kr-1"), OperationStatus::Succeeded);
    handle.stop().result.unwrap().unwrap();
}
