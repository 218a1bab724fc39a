//! The crash test: 200 operations over 60 payments, `daftar sync` run as a child process
//! against the sandbox with "drop after effect" and 5xx faults on, killed with SIGKILL at
//! random instants 60 times, then restarted until the queue is drained. Ottu must have
//! applied every operation exactly once, and the ledger must agree with Ottu.
//!
//! Needs a Secret Service (the child reads its key from the OS keyring): run it through
//! `scripts/keyring-session.sh cargo test --test sync_crash`, as `make test` does.

mod common;

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use daftar::Ledger;
use daftar::connect::Remote;
use daftar::ledger::{PaymentLookup, QueueQuery, QueueRequest};
use daftar::ottu::{ClientConfig, Credential};
use daftar::secrets::{MemoryStore, SecretString};
use daftar::sources::{Random, RandomKeys, SplitMix, SystemClock};
use daftar::store::Store;
use daftar_sandbox::{Config, FaultConfig, NewPayment, Sandbox};

const KILLS: usize = 60;

fn daftar(db: &std::path::Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_daftar"));
    cmd.arg("--db").arg(db).args(args);
    cmd
}

#[test]
fn sigkill_at_random_instants_never_loses_or_doubles_an_operation() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger.sqlite3");
    let sandbox = Sandbox::start(Config {
        varied_gateways: false,
        ..Config::empty()
    })
    .unwrap();
    // A profile name no other test uses: its key lives in the session's real keyring.
    let profile = format!("crash-{}", std::process::id());

    // 40 paid payments get four refunds each; 10 authorizations two partial captures and
    // a refund; 10 authorizations a void: 200 operations over 60 payments.
    let mut sessions = Vec::new();
    for i in 0..60 {
        let session = format!("crash-pay-{i:03}");
        let state = if i < 40 { "paid" } else { "authorized" };
        let payment: NewPayment = serde_json::from_value(serde_json::json!({
            "session_id": session, "amount": "20.000", "state": state, "pg_code": "knet",
        }))
        .unwrap();
        sandbox.add_payment(payment).unwrap();
        sessions.push(session);
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    {
        let store = Store::open(&db).unwrap();
        let secrets = Arc::new(MemoryStore::new());
        let mut ledger =
            Ledger::with_sources(store, Arc::new(SystemClock), Arc::new(RandomKeys), "test")
                .with_secret_store(secrets);
        ledger
            .add_profile(&profile, sandbox.base_url(), "KWD")
            .unwrap();
        ledger
            .set_key(
                &profile,
                Credential::ApiKey(SecretString::from(sandbox.api_key().to_string())),
            )
            .unwrap();
        let remote = Remote {
            runtime: runtime.handle().clone(),
            client_config: ClientConfig::default(),
        };
        let imported = ledger
            .import_from_ottu(&remote, &profile, &sessions, &mut |_| {})
            .unwrap();
        assert_eq!(imported.added, 60);
        let mut queue = |kind: &str, session: &str, amount: Option<&str>| {
            ledger
                .queue(&QueueRequest {
                    kind: kind.into(),
                    payment: PaymentLookup {
                        session_id: Some(session.into()),
                        ..PaymentLookup::default()
                    },
                    amount: amount.map(Into::into),
                    reason: None,
                })
                .unwrap();
        };
        for (i, session) in sessions.iter().enumerate() {
            match i {
                0..40 => {
                    for amount in ["1.250", "3.000", "2.005", "4.000"] {
                        queue("refund", session, Some(amount));
                    }
                }
                40..50 => {
                    queue("capture", session, Some("5.000"));
                    queue("capture", session, Some("3.500"));
                    queue("refund", session, Some("2.000"));
                }
                _ => queue("void", session, None),
            }
        }
    }
    // The child process reads the key from the real OS keyring.
    let mut set_key = daftar(&db, &["profile", "set-key", &profile, "--stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    writeln!(set_key.stdin.take().unwrap(), "{}", sandbox.api_key()).unwrap();
    assert!(
        set_key.wait().unwrap().success(),
        "storing the key needs a Secret Service"
    );

    sandbox
        .set_faults(FaultConfig {
            latency_ms: 3,
            rate_5xx: 0.1,
            rate_drop: 0.2,
            ..FaultConfig::none()
        })
        .unwrap();

    // Kill at random instants.
    let random = SplitMix::seeded(20261125);
    let mut killed = 0;
    for _ in 0..KILLS {
        let mut child = daftar(&db, &["sync", "--once"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(5 + random.next_u64() % 120));
        if child.try_wait().unwrap().is_none() {
            killed += 1;
        }
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
    }
    assert!(
        killed >= 50,
        "only {killed} runs were still going when killed"
    );

    // Restart until drained.
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let run = daftar(&db, &["sync", "--once"]).output().unwrap();
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let status: serde_json::Value =
            serde_json::from_slice(&daftar(&db, &["--json", "status"]).output().unwrap().stdout)
                .unwrap();
        if status["queued"] == 0 && status["in_flight"] == 0 {
            assert_eq!(status["succeeded"], 200, "{status}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the queue did not drain: {status}"
        );
    }

    // Ottu's side: every operation applied exactly once, by tracking key and by amount.
    let state = sandbox.state().unwrap();
    let store = Store::open(&db).unwrap();
    let mut ledger =
        Ledger::with_sources(store, Arc::new(SystemClock), Arc::new(RandomKeys), "test");
    let ours = ledger
        .queue_list(&QueueQuery {
            limit: Some(10_000),
            ..QueueQuery::default()
        })
        .unwrap()
        .operations;
    assert_eq!(ours.len(), 200);
    let applied: Vec<_> = state
        .operations
        .iter()
        .filter(|o| o.outcome == "applied")
        .collect();
    assert_eq!(
        applied.len(),
        200,
        "Ottu applied {} operations",
        applied.len()
    );
    let mut by_key: HashMap<&str, usize> = HashMap::new();
    for op in &applied {
        *by_key
            .entry(op.tracking_key.as_deref().expect("every request had a key"))
            .or_default() += 1;
    }
    assert!(
        by_key.values().all(|&n| n == 1),
        "a tracking key was applied twice"
    );
    let our_keys: HashSet<&str> = ours.iter().map(|o| o.tracking_key.as_str()).collect();
    assert_eq!(by_key.keys().copied().collect::<HashSet<_>>(), our_keys);
    for op in &ours {
        assert_eq!(op.status.as_str(), "succeeded", "{op:?}");
        let theirs = applied
            .iter()
            .find(|a| a.tracking_key.as_deref() == Some(op.tracking_key.as_str()))
            .unwrap();
        assert_eq!(theirs.session_id, op.session_id);
        if op.kind.as_str() == "refund" || op.kind.as_str() == "capture" {
            assert_eq!(
                theirs.amount.as_deref(),
                op.requested_amount.as_deref(),
                "{op:?}"
            );
        }
    }
    // No refund sum above what was paid, and the ledger's balances equal Ottu's.
    for session in &sessions {
        let theirs = state.payment(session).unwrap();
        let paid_or_captured = if theirs.state.to_string() == "paid" {
            theirs.amount_minor
        } else {
            theirs.captured_minor
        };
        assert!(theirs.refunded_minor <= paid_or_captured, "{session}");
        let show = ledger
            .show_payment(&PaymentLookup {
                session_id: Some(session.into()),
                ..PaymentLookup::default()
            })
            .unwrap();
        common::ottu::assert_ledger_matches(&show, theirs);
    }
    // Faults really happened.
    assert!(
        state.counters.operations_replayed > 0,
        "{:?}",
        state.counters
    );

    let _ = daftar(&db, &["profile", "remove-key", &profile]).output();
}
