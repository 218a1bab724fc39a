//! Stopping a watching sync worker with 8 requests in flight: time to stop.
//!
//! Against the in-process Ottu sandbox over loopback with `LATENCY_MS` added to every
//! request, 8 refunds are queued and a worker with concurrency 8 sends them all; once the
//! 8 `sent` events are in and the requests have had `SETTLE_MS` to reach the sandbox, the
//! stop is timed:
//!
//! - `SyncHandle::stop` (the sync service): abandons the 8 requests, which stay
//!   `in_flight`; then a new start resends them with their keys (latency removed) and the
//!   sandbox must show each tracking key applied exactly once (the run fails otherwise).
//!   The sandbox applies after its latency and drops the work of a closed connection, so
//!   the abandoned requests were never applied: the run checks that (nothing applied at
//!   the stop, no replay on the resend). The resend of an already-applied key is proved in
//!   `tests/sync_service.rs` (`stop_with_requests_in_flight_…`, the sandbox's replay count);
//! - next to it, the CLI's first Ctrl-C (`SyncDeps::cancel` on `sync::run`), which waits
//!   for the answers in flight: about the latency.
//!
//! Prints a markdown table to stdout. `cargo bench --bench sync_stop` runs `RUNS` stops;
//! `DAFTAR_BENCH_STOP_RUNS=3 cargo test --bench sync_stop` is a smoke run.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use daftar::Ledger;
use daftar::ledger::{PaymentInput, PaymentLookup, QueueRequest};
use daftar::ottu::{ClientConfig, Credential};
use daftar::secrets::{MemoryStore, SecretString};
use daftar::sources::SplitMix;
use daftar::sync::{
    self, SyncDeps, SyncEvent, SyncMode, SyncOptions, SyncService, SyncServiceConfig,
};
use daftar_sandbox::{Config, FaultConfig, RunningSandbox, Sandbox};

const IN_FLIGHT: usize = 8;
const LATENCY_MS: u64 = 2_000;
/// After the 8th `sent` event, time for the requests to reach the sandbox's latency wait.
const SETTLE_MS: u64 = 200;
const RUNS: usize = 20;
const CANCEL_RUNS: usize = 3;
const PATIENCE: Duration = Duration::from_secs(30);

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

fn client_config() -> ClientConfig {
    ClientConfig {
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(10),
    }
}

/// One ledger file with a profile on the sandbox and 8 refunds queued.
struct Setup {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    secrets: Arc<MemoryStore>,
    keys: Vec<String>,
}

fn setup(sandbox: &RunningSandbox, run: usize) -> Setup {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("ledger.sqlite3");
    let secrets = Arc::new(MemoryStore::new());
    let mut ledger = Ledger::open(&path, "bench")
        .expect("ledger opens")
        .with_secret_store(secrets.clone());
    ledger
        .add_profile("shop", sandbox.base_url(), "KWD")
        .expect("profile");
    ledger
        .set_key(
            "shop",
            Credential::ApiKey(SecretString::from(sandbox.api_key().to_string())),
        )
        .expect("key");
    let mut keys = Vec::new();
    for i in 0..IN_FLIGHT {
        let session = format!("stop-{run}-{i}");
        sandbox
            .add_payment(daftar_sandbox::NewPayment {
                session_id: Some(session.clone()),
                ..daftar_sandbox::NewPayment::paid("10.000")
            })
            .expect("sandbox payment");
        ledger
            .add_payment(&PaymentInput {
                profile: "shop".into(),
                session_id: session.clone(),
                order_no: None,
                amount: "10.000".into(),
                currency: "KWD".into(),
                state: "paid".into(),
            })
            .expect("payment");
        let queued = ledger
            .queue(&QueueRequest {
                kind: "refund".into(),
                payment: PaymentLookup {
                    session_id: Some(session),
                    ..PaymentLookup::default()
                },
                amount: Some("1.000".into()),
                reason: None,
            })
            .expect("refund queued");
        keys.push(queued.operation.tracking_key);
    }
    Setup {
        _dir: dir,
        path,
        secrets,
        keys,
    }
}

fn config(setup: &Setup, runtime: &tokio::runtime::Runtime) -> SyncServiceConfig {
    let mut config = SyncServiceConfig::new(&setup.path, "bench", runtime.handle().clone());
    config.client_config = client_config();
    config.secrets = setup.secrets.clone();
    config.options.concurrency = IN_FLIGHT;
    config
}

/// Waits until `n` events match.
fn wait_for(
    rx: &mpsc::Receiver<SyncEvent>,
    n: usize,
    what: &str,
    pred: impl Fn(&SyncEvent) -> bool,
) {
    let deadline = Instant::now() + PATIENCE;
    let mut seen = 0;
    while seen < n {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(event) if pred(&event) => seen += 1,
            Ok(_) => {}
            Err(_) => panic!("timed out waiting for {what}"),
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn main() -> ExitCode {
    let runs: usize = std::env::var("DAFTAR_BENCH_STOP_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(RUNS);
    let runtime = runtime();
    let sandbox = Sandbox::start(Config {
        varied_gateways: false,
        ..Config::empty()
    })
    .expect("sandbox starts");
    let latency = |ms: u64| {
        sandbox
            .set_faults(FaultConfig {
                latency_ms: ms,
                ..FaultConfig::none()
            })
            .expect("faults");
    };

    let mut stops = Vec::new();
    let mut unfinished = 0;
    let mut failures = 0;
    for run in 0..runs {
        let setup = setup(&sandbox, run);
        latency(LATENCY_MS);
        let (tx, rx) = mpsc::channel();
        let handle = SyncService::start(config(&setup, &runtime), move |e| {
            let _ = tx.send(e.clone());
        })
        .expect("service starts");
        wait_for(&rx, IN_FLIGHT, "8 sent", |e| {
            matches!(e, SyncEvent::Sent { .. })
        });
        std::thread::sleep(Duration::from_millis(SETTLE_MS));
        let stopped = handle.stop();
        if stopped.result.is_none() {
            unfinished += 1;
        }
        stops.push(stopped.took);

        // The dropped requests never reached the sandbox's apply (it applies after its
        // latency); the resend below is their first application, not a replay.
        let at_stop = sandbox.state().expect("sandbox state");
        let applied_at_stop = at_stop
            .operations
            .iter()
            .filter(|o| {
                setup
                    .keys
                    .iter()
                    .any(|k| o.tracking_key.as_deref() == Some(k.as_str()))
            })
            .count();
        if applied_at_stop != 0 {
            eprintln!("run {run}: {applied_at_stop} abandoned requests were applied");
            failures += 1;
        }
        let replayed_before = at_stop.counters.operations_replayed;

        // The next start resends the 8 with their keys: each applied exactly once.
        latency(0);
        let (tx, rx) = mpsc::channel();
        let handle = SyncService::start(config(&setup, &runtime), move |e| {
            let _ = tx.send(e.clone());
        })
        .expect("service starts again");
        wait_for(
            &rx,
            IN_FLIGHT,
            "8 successes",
            |e| matches!(e, SyncEvent::Recorded(v) if v.status == daftar::model::OperationStatus::Succeeded),
        );
        handle.stop();
        let state = sandbox.state().expect("sandbox state");
        if state.counters.operations_replayed != replayed_before {
            eprintln!("run {run}: a resend was answered as a replay");
            failures += 1;
        }
        for key in &setup.keys {
            let applied = state
                .operations
                .iter()
                .filter(|o| o.tracking_key.as_deref() == Some(key.as_str()))
                .count();
            if applied != 1 {
                eprintln!("run {run}: key {key} applied {applied} times");
                failures += 1;
            }
        }
        eprintln!("  stop {}/{runs}: {}", run + 1, ms(stopped.took));
    }

    // The CLI's graceful stop: `cancel` waits for the answers in flight.
    let mut cancels = Vec::new();
    for run in 0..CANCEL_RUNS {
        let setup = setup(&sandbox, runs + run);
        latency(LATENCY_MS);
        let mut ledger = Ledger::open(&setup.path, "bench")
            .expect("ledger")
            .with_secret_store(setup.secrets.clone());
        let cancel = Arc::new(AtomicBool::new(false));
        let deps = SyncDeps {
            runtime: runtime.handle().clone(),
            client_config: client_config(),
            random: Arc::new(SplitMix::seeded(1)),
            cancel: Arc::clone(&cancel),
        };
        let options = SyncOptions {
            mode: SyncMode::Watch,
            concurrency: IN_FLIGHT,
            ..SyncOptions::default()
        };
        let mut sent = 0;
        let mut cancelled_at: Option<Instant> = None;
        let (settle_tx, settle_rx) = mpsc::channel::<()>();
        let flag = Arc::clone(&cancel);
        // Sets the flag SETTLE_MS after the 8th send, as a person's Ctrl-C would.
        let timer = std::thread::spawn(move || {
            if settle_rx.recv().is_ok() {
                std::thread::sleep(Duration::from_millis(SETTLE_MS));
                flag.store(true, Ordering::SeqCst);
                Some(Instant::now())
            } else {
                None
            }
        });
        sync::run(&mut ledger, &deps, &options, &mut |e| {
            if matches!(e, SyncEvent::Sent { .. }) {
                sent += 1;
                if sent == IN_FLIGHT {
                    let _ = settle_tx.send(());
                }
            }
        })
        .expect("run");
        let returned = Instant::now();
        if let Some(at) = timer.join().expect("timer") {
            cancelled_at = Some(at);
        }
        let took = returned.saturating_duration_since(cancelled_at.expect("cancelled"));
        eprintln!("  cancel {}/{CANCEL_RUNS}: {}", run + 1, ms(took));
        cancels.push(took);
    }

    stops.sort();
    cancels.sort();
    println!(
        "| Stopping a watch worker with {IN_FLIGHT} requests in flight ({LATENCY_MS} ms latency) | runs | min | median | p95 | max |"
    );
    println!("|---|---|---|---|---|---|");
    println!(
        "| `SyncHandle::stop` (abandons them; recovery resends) | {} | {} | {} | {} | {} |",
        stops.len(),
        ms(stops[0]),
        ms(percentile(&stops, 0.5)),
        ms(percentile(&stops, 0.95)),
        ms(*stops.last().expect("runs"))
    );
    println!(
        "| `sync --watch` first Ctrl-C (`cancel`: waits for their answers) | {} | {} | {} | {} | {} |",
        cancels.len(),
        ms(cancels[0]),
        ms(percentile(&cancels, 0.5)),
        ms(percentile(&cancels, 0.95)),
        ms(*cancels.last().expect("runs"))
    );
    println!(
        "\nworker thread still in a store call at the stop deadline: {unfinished} of {}; resent after the stop and applied exactly once: {} of {} keys",
        stops.len(),
        stops.len() * IN_FLIGHT - failures,
        stops.len() * IN_FLIGHT
    );
    if failures > 0 {
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
