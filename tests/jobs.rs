//! Import and refresh as jobs, through the library against the sandbox over loopback: a
//! job runs on its own handle on the ledger file, reports progress, stops at its cancel
//! flag within a bound keeping what it wrote consistent, can be awaited inside a tokio
//! runtime (a desktop command) without panicking, and refuses more ids than its cap.

mod common;

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::ottu::{shop_profile, test_runtime};
use daftar::Ledger;
use daftar::import::{ImportProgress, ImportRequest, RefreshRequest, StopReason};
use daftar::limits::{IMPORT_CANCEL_POLL_MS, IMPORT_MAX_IDS};
use daftar::ottu::ClientConfig;
use daftar::secrets::MemoryStore;
use daftar_sandbox::{Config, FaultConfig, FaultScope, RunningSandbox, Sandbox};

struct Env {
    sandbox: RunningSandbox,
    ledger: Ledger,
    dir: tempfile::TempDir,
}

/// The sandbox's delay per request in the timing tests: long enough that waiting for one
/// round of requests is far above any stall a loaded machine adds to local work.
const IN_FLIGHT_MS: u64 = 5_000;

fn client_config() -> ClientConfig {
    ClientConfig {
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(10),
    }
}

/// A ledger with profile `shop` (its key in an in-memory keyring) on a sandbox seeded with
/// `payments` payments, each request delayed by `latency_ms`.
fn env(payments: u32, latency_ms: u64) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = Sandbox::start(Config {
        payments,
        varied_gateways: false,
        faults: FaultConfig {
            latency_ms,
            scope: FaultScope::All,
            ..FaultConfig::default()
        },
        ..Config::default()
    })
    .expect("sandbox starts");
    // Through the facade only, as the desktop app opens it.
    let mut ledger = Ledger::open(&dir.path().join("ledger.sqlite3"), "test")
        .unwrap()
        .with_secret_store(Arc::new(MemoryStore::new()));
    shop_profile(&mut ledger, &sandbox);
    Env {
        sandbox,
        ledger,
        dir,
    }
}

impl Env {
    fn session_ids(&self) -> Vec<String> {
        let state = self.sandbox.state().unwrap();
        state.payments.into_iter().map(|p| p.session_id).collect()
    }

    fn request(&self, session_ids: Vec<String>) -> ImportRequest {
        ImportRequest {
            profile: "shop".to_string(),
            session_ids,
            from_file: None,
        }
    }

    /// Payments, and `payment.imported` events, as SQLite holds them (another connection).
    fn counts(&self) -> (u64, u64) {
        let conn = rusqlite::Connection::open(self.dir.path().join("ledger.sqlite3")).unwrap();
        let payments = conn
            .query_row("SELECT count(*) FROM payments", [], |r| r.get(0))
            .unwrap();
        let events = conn
            .query_row(
                "SELECT count(*) FROM events WHERE action = 'payment.imported'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        (payments, events)
    }
}

#[test]
fn a_cancelled_import_stops_within_a_bound_and_keeps_what_it_wrote_consistent() {
    // 300 ids at 5 s each, 4 at a time: over six minutes if not cancelled. A batch is
    // written with the first answers (at about 5 s), and the cancel comes then, with 4
    // requests in flight for about 5 s more: the import must not wait for them.
    let env = env(300, IN_FLIGHT_MS);
    let ids = env.session_ids();
    assert_eq!(ids.len(), 300);
    let job = env
        .ledger
        .import_job(env.request(ids))
        .unwrap()
        .with_client_config(client_config());
    let cancel = job.cancel_flag();
    let runtime = test_runtime();
    // The cancel comes from another thread (a Cancel button), while the job waits for
    // answers: once the first batch is written, the progress callback tells it.
    let (written, first_batch) = std::sync::mpsc::channel::<()>();
    let cancelled_at = Arc::new(Mutex::new(None::<Instant>));
    let at = Arc::clone(&cancelled_at);
    let canceller = std::thread::spawn(move || {
        if first_batch.recv_timeout(Duration::from_secs(60)).is_ok() {
            *at.lock().unwrap() = Some(Instant::now());
            cancel.store(true, Ordering::SeqCst);
        }
    });
    let mut last = ImportProgress::default();
    let summary = job
        .run(runtime.handle(), &mut |p| {
            last = *p;
            if p.imported > 0 {
                let _ = written.send(());
            }
        })
        .unwrap();
    canceller.join().unwrap();
    let stopped_in = cancelled_at
        .lock()
        .unwrap()
        .expect("the import was cancelled")
        .elapsed();
    // The wait looks at the flag every IMPORT_CANCEL_POLL_MS; writing the last batch and
    // returning take milliseconds; the requests in flight (5 s each) are abandoned. The
    // bound is half of what waiting for them would take, not a few polls: 25 polls of
    // slack for a loaded CI machine, and still a failure if the import waited.
    let bound = Duration::from_millis(IN_FLIGHT_MS / 2);
    assert!(bound > Duration::from_millis(IMPORT_CANCEL_POLL_MS * 20));
    eprintln!("stopped {stopped_in:?} after the cancel");
    assert!(
        stopped_in < bound,
        "stopped {stopped_in:?} after the cancel"
    );
    let stop = summary
        .stopped
        .as_ref()
        .expect("the summary says it stopped");
    assert_eq!(stop.reason, StopReason::Interrupted, "{stop:?}");
    assert!(summary.imported() < 300, "{summary:?}");
    assert!(summary.imported() >= last.imported);
    // What the summary reports is exactly what is in the ledger, each with its event.
    let (payments, events) = env.counts();
    assert_eq!(payments, summary.added, "{summary:?}");
    assert_eq!(events, summary.added);
    assert_eq!(summary.added, summary.imported());
    // The same import again (without the latency) picks up the rest.
    env.sandbox.set_faults(FaultConfig::default()).unwrap();
    let rest = env
        .ledger
        .import_job(env.request(env.session_ids()))
        .unwrap()
        .run(runtime.handle(), &mut |_| {})
        .unwrap();
    assert!(rest.stopped.is_none(), "{rest:?}");
    assert_eq!(rest.added + rest.unchanged, 300);
    assert_eq!(rest.unchanged, summary.added);
    assert_eq!(env.counts(), (300, 300));
}

#[test]
fn progress_reports_every_answer_and_what_was_written() {
    let env = env(120, 0);
    let ids = env.session_ids();
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&events);
    let summary = env
        .ledger
        .import_job(env.request(ids))
        .unwrap()
        .run(test_runtime().handle(), &mut |p| {
            seen.lock().unwrap().push(*p)
        })
        .unwrap();
    assert_eq!(summary.added, 120, "{summary:?}");
    let events = events.lock().unwrap();
    // A first report before anything is sent (for a bar's length), then one per answer and
    // one per batch written.
    assert_eq!(events[0].handled, 0);
    assert_eq!(events[0].ids_given, 120);
    assert!(!events[0].from_file);
    assert!(events.len() > 120, "{} reports", events.len());
    assert!(events.windows(2).all(|w| w[0].handled <= w[1].handled));
    assert!(events.windows(2).all(|w| w[0].imported <= w[1].imported));
    let last = events.last().unwrap();
    assert_eq!((last.handled, last.imported), (120, 120));
}

async fn import_inside_a_runtime() {
    let env = env(30, 0);
    let ids = env.session_ids();
    let job = env.ledger.import_job(env.request(ids)).unwrap();
    let reports = Arc::new(Mutex::new(0u64));
    let counted = Arc::clone(&reports);
    let summary = job
        .run_async(move |_| *counted.lock().unwrap() += 1)
        .await
        .expect("the import runs inside the runtime");
    assert_eq!(summary.added, 30, "{summary:?}");
    assert!(*reports.lock().unwrap() > 30);
    let report = env
        .ledger
        .refresh_job(RefreshRequest::default())
        .unwrap()
        .run_async(|_| {})
        .await
        .expect("the refresh runs inside the runtime");
    assert_eq!(report.profiles.len(), 1);
    assert!(report.error().is_none(), "{:?}", report.profiles);
}

/// As a desktop command calls it: awaited on a runtime's worker thread, where
/// `Handle::block_on` panics.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_async_api_runs_inside_a_multi_thread_runtime() {
    import_inside_a_runtime().await;
}

#[tokio::test(flavor = "current_thread")]
async fn the_async_api_runs_inside_a_current_thread_runtime() {
    import_inside_a_runtime().await;
}

#[test]
fn more_ids_than_the_cap_are_refused_before_anything_is_sent() {
    let env = env(0, 0);
    let ids: Vec<String> = (0..=IMPORT_MAX_IDS).map(|i| format!("s-{i}")).collect();
    let error = env
        .ledger
        .import_job(env.request(ids))
        .unwrap()
        .run(test_runtime().handle(), &mut |_| {})
        .unwrap_err();
    assert_eq!(error.code(), "import.too_many_ids");
    assert_eq!(error.field(), Some("ids"));
    let params = error.params();
    assert_eq!(params["given"], IMPORT_MAX_IDS + 1);
    assert_eq!(params["max"], IMPORT_MAX_IDS);
    assert_eq!(env.sandbox.state().unwrap().counters.requests, 0);
    // At the cap the request goes on to its next check (here: an unknown profile).
    let ids: Vec<String> = (0..IMPORT_MAX_IDS).map(|i| format!("s-{i}")).collect();
    let mut request = env.request(ids);
    request.profile = "nobody".to_string();
    let error = env
        .ledger
        .import_job(request)
        .unwrap()
        .run(test_runtime().handle(), &mut |_| {})
        .unwrap_err();
    assert_eq!(error.code(), "not_found", "{error}");
}

#[test]
fn refresh_all_skips_a_profile_without_a_key_and_names_it_when_asked_for() {
    let mut env = env(0, 0);
    env.ledger
        .add_profile("nokey", env.sandbox.base_url(), "KWD")
        .unwrap();
    let report = env
        .ledger
        .refresh_job(RefreshRequest::default())
        .unwrap()
        .run(test_runtime().handle(), &mut |_| {})
        .unwrap();
    let names: Vec<&str> = report.profiles.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["shop"]);
    assert!(report.error().is_none());
    let error = env
        .ledger
        .refresh_job(RefreshRequest {
            profile: Some("nokey".to_string()),
        })
        .unwrap()
        .run(test_runtime().handle(), &mut |_| {})
        .unwrap_err();
    assert_eq!(error.code(), "ottu.credential", "{error}");
}

/// The desktop app's shape: commands on the caller's `Ledger` while an import runs on its
/// own. The caller's handle is never held across the network, so its writes and reads
/// wait only for the import's short batch writes, not for Ottu.
#[test]
fn the_callers_ledger_writes_and_reads_while_an_import_runs() {
    // 40 ids at 5 s each, 4 at a time: about 50 s of import, each answer 5 s of network.
    let mut env = env(40, IN_FLIGHT_MS);
    let ids = env.session_ids();
    let job = env.ledger.import_job(env.request(ids)).unwrap();
    let cancel = job.cancel_flag();
    let handled = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let seen = Arc::clone(&handled);
    let runtime = test_runtime();
    let handle = runtime.handle().clone();
    let import = std::thread::spawn(move || {
        job.run(&handle, &mut |p| seen.store(p.handled, Ordering::SeqCst))
    });
    let mut slowest = Duration::ZERO;
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut calls = 0;
    // Until the import has written at least two batches (one per round of answers, every
    // 5 s), calling all along.
    while handled.load(Ordering::SeqCst) < 8 {
        assert!(Instant::now() < deadline, "the import does not go on");
        let i = calls;
        calls += 1;
        let started = Instant::now();
        env.ledger
            .add_payment(&daftar::ledger::PaymentInput {
                profile: "shop".to_string(),
                session_id: format!("by-hand-{i}"),
                order_no: None,
                amount: "1.000".to_string(),
                currency: "KWD".to_string(),
                state: "paid".to_string(),
            })
            .unwrap();
        env.ledger.status().unwrap();
        slowest = slowest.max(started.elapsed());
    }
    let during = handled.load(Ordering::SeqCst);
    cancel.store(true, Ordering::SeqCst);
    let summary = import.join().unwrap().unwrap();
    eprintln!(
        "slowest of {calls} writes + reads while importing: {slowest:?} ({during} of 40 ids answered)"
    );
    // The import was still running through all of it.
    assert!(during < 40, "the import ended before the writes: {during}");
    // Not an absolute "fast" bound (a loaded CI machine can stall a call for a while):
    // half of one network round. A handle held across the network would make some call
    // wait for a round of answers (5 s); the import's batch writes take milliseconds.
    assert!(
        slowest < Duration::from_millis(IN_FLIGHT_MS / 2),
        "a call waited {slowest:?} for the import"
    );
    // What was answered before the cancel is written, beside the payments added by hand.
    assert!(summary.imported() >= during, "{summary:?}");
    assert_eq!(env.counts().0, summary.imported() + calls);
}
