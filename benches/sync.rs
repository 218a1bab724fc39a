//! Sync worker benchmarks against the Ottu sandbox (in-process, real loopback HTTP):
//!
//! (a) draining N queued refunds (one per payment, so any of them may go in parallel) with
//!     no added latency: operations per second with each outcome durably recorded (the
//!     ledger is WAL + `synchronous=FULL`), `sync::run` in `SyncMode::Once` at the default
//!     concurrency, then exactly-once checked on both sides. Two context rows: what the
//!     sandbox and loopback HTTP do alone (4 plain client loops, no DB), and one fsync;
//! (b) with 50 ms added per request: the worker at the default concurrency next to a plain
//!     sequential client that sends the same requests one at a time (no database);
//! (c) peak memory and drain wall time: in this process (which also holds the sandbox),
//!     and for the worker alone in a child process (this binary re-run in child mode).
//!
//! Prints a markdown table to stdout and progress to stderr. Exits non-zero only when an
//! exactly-once check fails (a missed speed target is reported in the table).
//!
//! `cargo bench --bench sync` runs it on 10,000 refunds (400 per side at 50 ms);
//! `DAFTAR_BENCH_SYNC_OPS=200 DAFTAR_BENCH_SYNC_LATENCY_OPS=40 cargo test --bench sync`
//! is a smoke run in the test profile. `DAFTAR_BENCH_SYNC_DIR=/some/dir` keeps the
//! ledger files there instead of in a temporary directory.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use daftar::Ledger;
use daftar::ledger::{PaymentLookup, QueueRequest};
use daftar::limits::SYNC_DEFAULT_CONCURRENCY;
use daftar::model::{
    NewPayment, OperationKind, PaymentSource, PaymentState, SessionId, TrackingKey,
};
use daftar::money::{Amount, Currency};
use daftar::ottu::{
    ClientConfig, Credential, OperationOutcome, OperationRequest, OttuClient, PaymentRef,
};
use daftar::secrets::{MemoryStore, SecretString};
use daftar::sources::{RandomKeys, SplitMix, SystemClock};
use daftar::store::Store;
use daftar::sync::{self, SyncDeps, SyncEvent, SyncMode, SyncOptions, SyncSummary};
use daftar_sandbox::{Config, FaultConfig, RunningSandbox, Sandbox, StateSnapshot};
use uuid::Uuid;

const DEFAULT_OPS: usize = 10_000;
const DEFAULT_LATENCY_OPS: usize = 400;
const LATENCY_MS: u64 = 50;
const TARGET_OPS_PER_S: f64 = 2_000.0;
const TARGET_RATIO: f64 = 3.5;
/// Payments for the sandbox-ceiling context row of (a).
const CEILING_OPS: usize = 2_000;
const FSYNC_PROBES: usize = 500;
const PROFILE: &str = "bench";
/// Every payment: a paid KWD payment through knet (refunds final at once).
const PAYMENT_MINOR: i64 = 10_000;
const PAYMENT_AMOUNT: &str = "10.000";
/// The refund queued on each payment.
const REFUND_MINOR: i64 = 4_000;
const REFUND_AMOUNT: &str = "4.000";
/// 2026-11-25T00:00:00Z.
const CREATED_AT_MS: i64 = 1_795_564_800_000;

/// Set in the child process: the worker runs alone, the sandbox stays in the parent.
const CHILD_ENV: &str = "DAFTAR_BENCH_SYNC_CHILD";
const CHILD_BASE_URL: &str = "DAFTAR_BENCH_SYNC_CHILD_BASE_URL";
const CHILD_API_KEY: &str = "DAFTAR_BENCH_SYNC_CHILD_API_KEY";
const CHILD_LEDGER: &str = "DAFTAR_BENCH_SYNC_CHILD_LEDGER";
const CHILD_TAG: &str = "DAFTAR_BENCH_SYNC_CHILD_TAG";
const CHILD_OPS: &str = "DAFTAR_BENCH_SYNC_CHILD_OPS";

/// Which run a payment belongs to: the first byte of its session id.
const TAG_DRAIN: u8 = 0xa1;
const TAG_CHILD: u8 = 0xc1;
const TAG_LATENCY_WORKER: u8 = 0xb1;
const TAG_LATENCY_PLAIN: u8 = 0xb2;
const TAG_CEILING: u8 = 0xa2;

fn count_from_env(name: &str, default: usize) -> usize {
    match std::env::var(name) {
        Ok(text) => text
            .replace('_', "")
            .parse()
            .ok()
            .filter(|&n| n >= 1)
            .unwrap_or_else(|| panic!("{name} must be a number >= 1, got '{text}'")),
        Err(_) => default,
    }
}

fn session(tag: u8, i: usize) -> String {
    format!("{tag:02x}{i:030x}")
}

fn sessions(tag: u8, n: usize) -> Vec<String> {
    (0..n).map(|i| session(tag, i)).collect()
}

fn client_config() -> ClientConfig {
    ClientConfig::default()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

// ---------------------------------------------------------------------------------------
// Memory

/// A `kB` line of /proc/self/status, in bytes.
fn proc_status_bytes(key: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    let kb: u64 = line[key.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

fn vm_rss() -> Option<u64> {
    proc_status_bytes("VmRSS:")
}

fn vm_hwm() -> Option<u64> {
    proc_status_bytes("VmHWM:")
}

/// Resets VmHWM to the current RSS (Linux ≥ 4.0); false if the kernel refused.
fn reset_hwm() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

fn opt_mb(bytes: Option<u64>) -> String {
    bytes.map_or_else(|| "n/a".to_string(), mb)
}

// ---------------------------------------------------------------------------------------
// Setup

/// Adds one paid knet payment per session to the sandbox.
fn seed_sandbox(sandbox: &RunningSandbox, sessions: &[String]) {
    for (i, s) in sessions.iter().enumerate() {
        sandbox
            .add_payment(daftar_sandbox::NewPayment {
                session_id: Some(s.clone()),
                ..daftar_sandbox::NewPayment::paid(PAYMENT_AMOUNT)
            })
            .expect("sandbox payment added");
        if (i + 1) % 5_000 == 0 {
            eprintln!("  sandbox: {} payments added", i + 1);
        }
    }
}

fn open_ledger(path: &Path) -> Ledger {
    let store = Store::open(path).expect("ledger opens");
    Ledger::with_sources(store, Arc::new(SystemClock), Arc::new(RandomKeys), "bench")
        .with_secret_store(Arc::new(MemoryStore::new()))
}

/// A ledger with the profile and its key (in memory), the payments (bulk) and one refund
/// queued per payment. Setup only: the queueing runs with `synchronous=OFF`, and FULL is
/// restored (and checked) before this returns.
fn prepare_ledger(path: &Path, base_url: &str, api_key: &str, sessions: &[String]) -> Ledger {
    let mut ledger = open_ledger(path);
    ledger
        .add_profile(PROFILE, base_url, "KWD")
        .expect("profile added");
    ledger
        .set_key(
            PROFILE,
            Credential::ApiKey(SecretString::from(api_key.to_string())),
        )
        .expect("key stored");
    let payments: Vec<NewPayment> = sessions
        .iter()
        .map(|s| NewPayment {
            session_id: SessionId::parse(s).expect("session id"),
            order_no: None,
            amount: Amount::from_minor(PAYMENT_MINOR, Currency::KWD),
            state: PaymentState::Paid,
            source: PaymentSource::Ottu,
            created_at_ms: CREATED_AT_MS,
            customer_email: None,
            customer_phone: None,
        })
        .collect();
    let added = ledger
        .add_payments(PROFILE, &payments, |_| {})
        .expect("payments added");
    assert_eq!(added, sessions.len(), "payments added to the ledger");

    set_synchronous(&mut ledger, "OFF");
    for (i, s) in sessions.iter().enumerate() {
        ledger
            .queue(&QueueRequest {
                kind: "refund".into(),
                payment: PaymentLookup {
                    session_id: Some(s.into()),
                    ..PaymentLookup::default()
                },
                amount: Some(REFUND_AMOUNT.into()),
                reason: None,
            })
            .expect("refund queued");
        if (i + 1) % 5_000 == 0 {
            eprintln!("  ledger: {} refunds queued", i + 1);
        }
    }
    set_synchronous(&mut ledger, "FULL");
    let (journal, synchronous): (String, i64) = {
        let conn = ledger.store().connection();
        let journal = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .expect("journal_mode");
        let synchronous = conn
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .expect("synchronous");
        (journal, synchronous)
    };
    assert_eq!(
        (journal.as_str(), synchronous),
        ("wal", 2),
        "the drain must run on WAL + synchronous=FULL"
    );
    ledger
}

fn set_synchronous(ledger: &mut Ledger, value: &str) {
    ledger
        .store()
        .connection()
        .pragma_update(None, "synchronous", value)
        .expect("pragma synchronous");
}

// ---------------------------------------------------------------------------------------
// Draining

struct Drain {
    summary: SyncSummary,
    wall: Duration,
}

impl Drain {
    fn rate(&self) -> f64 {
        self.summary.succeeded as f64 / self.wall.as_secs_f64()
    }
}

fn drain(ledger: &mut Ledger, runtime: &tokio::runtime::Runtime, label: &str) -> Drain {
    let deps = SyncDeps {
        runtime: runtime.handle().clone(),
        client_config: client_config(),
        random: Arc::new(SplitMix::seeded(1)),
        cancel: Arc::new(AtomicBool::new(false)),
    };
    let options = SyncOptions {
        mode: SyncMode::Once,
        concurrency: SYNC_DEFAULT_CONCURRENCY,
        ..SyncOptions::default()
    };
    let mut recorded = 0u64;
    let mut total = 0u64;
    let mut on_event = |event: &SyncEvent| match event {
        SyncEvent::Outstanding { total: t } => total = *t,
        SyncEvent::Recorded(_) => {
            recorded += 1;
            if recorded.is_multiple_of(2_000) {
                eprintln!("  {label}: {recorded}/{total} recorded");
            }
        }
        _ => {}
    };
    let start = Instant::now();
    let summary = sync::run(ledger, &deps, &options, &mut on_event).expect("sync runs");
    let wall = start.elapsed();
    Drain { summary, wall }
}

// ---------------------------------------------------------------------------------------
// Exactly-once

/// What both sides say about a set of operations.
struct Verified {
    ok: bool,
    detail: String,
}

fn parse_key(text: &str) -> Option<Uuid> {
    Uuid::parse_str(text).ok()
}

/// The ledger's tracking keys, with how many of its operations succeeded.
fn ledger_keys(ledger: &mut Ledger) -> (Vec<Uuid>, u64) {
    let conn = ledger.store().connection();
    let keys: Vec<Uuid> = conn
        .prepare("SELECT tracking_key FROM operations ORDER BY id")
        .expect("prepare")
        .query_map([], |r| r.get::<_, String>(0))
        .expect("query")
        .map(|k| parse_key(&k.expect("row")).expect("ledger key is a UUID"))
        .collect();
    let succeeded: u64 = conn
        .query_row(
            "SELECT COUNT(*) FROM operations WHERE status = 'succeeded'",
            [],
            |r| r.get(0),
        )
        .expect("count");
    (keys, succeeded)
}

/// Exactly-once for `keys`: the ledger (if given) shows every one succeeded, and the
/// sandbox holds exactly one applied record per key, refunding exactly the payments of
/// `sessions` once each.
fn verify(
    state: &StateSnapshot,
    keys: &[Uuid],
    ledger_succeeded: Option<u64>,
    sessions: &[String],
) -> Verified {
    let n = sessions.len();
    let wanted: HashSet<Uuid> = keys.iter().copied().collect();
    let ours: Vec<_> = state
        .operations
        .iter()
        .filter(|o| {
            o.tracking_key
                .as_deref()
                .and_then(parse_key)
                .is_some_and(|k| wanted.contains(&k))
        })
        .collect();
    let applied = ours.iter().filter(|o| o.outcome == "applied").count();
    let distinct: HashSet<Uuid> = ours
        .iter()
        .filter(|o| o.outcome == "applied")
        .filter_map(|o| o.tracking_key.as_deref().and_then(parse_key))
        .collect();
    let refunded_sessions: HashSet<&str> = ours
        .iter()
        .filter(|o| o.outcome == "applied" && o.amount_minor == Some(REFUND_MINOR))
        .map(|o| o.session_id.as_str())
        .collect();
    let wanted_sessions: HashSet<&str> = sessions.iter().map(String::as_str).collect();
    let payments: HashMap<&str, i64> = state
        .payments
        .iter()
        .map(|p| (p.session_id.as_str(), p.refunded_minor))
        .collect();
    let balances_ok = sessions
        .iter()
        .all(|s| payments.get(s.as_str()) == Some(&REFUND_MINOR));
    let mut ok = keys.len() == n
        && wanted.len() == n
        && ours.len() == n
        && applied == n
        && distinct.len() == n
        && refunded_sessions == wanted_sessions
        && balances_ok;
    let mut detail = format!(
        "sandbox: {applied} applied, {} distinct keys",
        distinct.len()
    );
    if let Some(succeeded) = ledger_succeeded {
        ok = ok && succeeded == n as u64;
        detail = format!("ledger: {succeeded} succeeded; {detail}");
    }
    if !balances_ok {
        detail.push_str("; a payment's refunded balance is off");
    }
    Verified { ok, detail }
}

// ---------------------------------------------------------------------------------------
// Plain clients: the sequential client of (b), and the sandbox's ceiling for (a)

struct Plain {
    wall: Duration,
    keys: Vec<Uuid>,
    succeeded: usize,
}

impl Plain {
    fn rate(&self) -> f64 {
        self.succeeded as f64 / self.wall.as_secs_f64()
    }
}

/// One refund per session with the ledger's client (`OttuClient::send_operation`, fresh
/// Tracking-Key each), no DB: `lanes` loops, each sending its share one at a time and
/// awaiting each answer. One lane is the plain sequential client.
fn plain_client(
    runtime: &tokio::runtime::Runtime,
    base_url: &str,
    api_key: &str,
    sessions: &[String],
    lanes: usize,
) -> Plain {
    let credential = Credential::ApiKey(SecretString::from(api_key.to_string()));
    let client = OttuClient::new(base_url, &credential, client_config()).expect("client");
    let refund = Amount::from_minor(REFUND_MINOR, Currency::KWD);
    let shares: Vec<Vec<SessionId>> = (0..lanes)
        .map(|lane| {
            sessions
                .iter()
                .skip(lane)
                .step_by(lanes)
                .map(|s| SessionId::parse(s).expect("session id"))
                .collect()
        })
        .collect();
    runtime.block_on(async {
        let start = Instant::now();
        let tasks: Vec<_> = shares
            .into_iter()
            .map(|share| {
                let client = client.clone();
                tokio::spawn(async move {
                    let mut keys = Vec::with_capacity(share.len());
                    let mut succeeded = 0;
                    for session in share {
                        let key = TrackingKey::new_random();
                        let request = OperationRequest::new(
                            OperationKind::Refund,
                            PaymentRef::Session(session),
                            Some(refund),
                        )
                        .expect("request");
                        let outcome = client.send_operation(key, &request).await;
                        if matches!(outcome, OperationOutcome::Succeeded { .. }) {
                            succeeded += 1;
                        }
                        keys.push(key.0);
                    }
                    (keys, succeeded)
                })
            })
            .collect();
        let mut keys = Vec::with_capacity(sessions.len());
        let mut succeeded = 0;
        for task in tasks {
            let (k, n) = task.await.expect("client task");
            keys.extend(k);
            succeeded += n;
        }
        Plain {
            wall: start.elapsed(),
            keys,
            succeeded,
        }
    })
}

// ---------------------------------------------------------------------------------------
// The disk

/// p50 and p99 of a 16 KiB write + `fdatasync` in `dir`: what one commit's WAL sync costs.
fn fsync_probe(dir: &Path) -> (Duration, Duration) {
    use std::io::Write;
    let path = dir.join("fsync-probe");
    let mut file = std::fs::File::create(&path).expect("probe file");
    let block = vec![0x5a_u8; 16 * 1024];
    let mut samples: Vec<Duration> = (0..FSYNC_PROBES)
        .map(|_| {
            let start = Instant::now();
            file.write_all(&block).expect("probe write");
            file.sync_data().expect("probe fdatasync");
            start.elapsed()
        })
        .collect();
    drop(file);
    let _ = std::fs::remove_file(&path);
    samples.sort();
    let pct = |p: f64| {
        samples[((p / 100.0 * samples.len() as f64).ceil() as usize).clamp(1, samples.len()) - 1]
    };
    (pct(50.0), pct(99.0))
}

// ---------------------------------------------------------------------------------------
// The worker alone in a child process

/// What the child reports on its one stdout line.
struct ChildReport {
    rss_before: u64,
    drain_hwm: u64,
    process_hwm: u64,
    wall: Duration,
    succeeded: u64,
}

/// Child mode: prepare the ledger, then drain it with peak RSS measured around the drain.
fn child_main() -> ExitCode {
    let var = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("{name} not set"));
    let base_url = var(CHILD_BASE_URL);
    let api_key = var(CHILD_API_KEY);
    let path = PathBuf::from(var(CHILD_LEDGER));
    let tag = u8::from_str_radix(&var(CHILD_TAG), 16).expect("tag");
    let n: usize = var(CHILD_OPS).parse().expect("ops");
    let runtime = runtime();
    let mut ledger = prepare_ledger(&path, &base_url, &api_key, &sessions(tag, n));
    let process_hwm_setup = vm_hwm().unwrap_or(0);
    let rss_before = vm_rss().unwrap_or(0);
    let reset = reset_hwm();
    let drained = drain(&mut ledger, &runtime, "child worker");
    let drain_hwm = if reset { vm_hwm().unwrap_or(0) } else { 0 };
    let process_hwm = process_hwm_setup.max(drain_hwm);
    println!(
        "CHILD {rss_before} {drain_hwm} {process_hwm} {} {}",
        drained.wall.as_nanos(),
        drained.summary.succeeded
    );
    ExitCode::SUCCESS
}

fn run_child(sandbox: &RunningSandbox, path: &Path, tag: u8, n: usize) -> ChildReport {
    let exe = std::env::current_exe().expect("current exe");
    let output = Command::new(exe)
        .env(CHILD_ENV, "1")
        .env(CHILD_BASE_URL, sandbox.base_url())
        .env(CHILD_API_KEY, sandbox.api_key())
        .env(CHILD_LEDGER, path)
        .env(CHILD_TAG, format!("{tag:02x}"))
        .env(CHILD_OPS, n.to_string())
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .expect("child runs");
    assert!(output.status.success(), "child failed: {:?}", output.status);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("CHILD "))
        .unwrap_or_else(|| panic!("no CHILD line in the child's output: {stdout}"));
    let f: Vec<u128> = line
        .split_whitespace()
        .map(|x| x.parse().expect("number"))
        .collect();
    ChildReport {
        rss_before: f[0] as u64,
        drain_hwm: f[1] as u64,
        process_hwm: f[2] as u64,
        wall: Duration::from_nanos(f[3] as u64),
        succeeded: f[4] as u64,
    }
}

// ---------------------------------------------------------------------------------------
// Report

struct Row {
    metric: String,
    target: String,
    measured: String,
    /// None: informational, no target.
    pass: Option<bool>,
}

fn row(metric: impl Into<String>, target: &str, measured: String, pass: Option<bool>) -> Row {
    Row {
        metric: metric.into(),
        target: target.to_string(),
        measured,
        pass,
    }
}

fn thousands(n: f64) -> String {
    let digits = format!("{n:.0}");
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn print_table(rows: &[Row]) {
    println!("| metric | target | measured | pass |");
    println!("|---|---|---|---|");
    for r in rows {
        let pass = match r.pass {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "—",
        };
        println!(
            "| {} | {} | {} | {} |",
            r.metric, r.target, r.measured, pass
        );
    }
}

fn main() -> ExitCode {
    if std::env::var_os(CHILD_ENV).is_some() {
        return child_main();
    }
    let ops = count_from_env("DAFTAR_BENCH_SYNC_OPS", DEFAULT_OPS);
    let latency_ops = count_from_env("DAFTAR_BENCH_SYNC_LATENCY_OPS", DEFAULT_LATENCY_OPS);
    // The ledgers go to a temporary directory, or to DAFTAR_BENCH_SYNC_DIR (kept, for a look
    // at them afterwards; it must not hold ledgers of an earlier run).
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = match std::env::var_os("DAFTAR_BENCH_SYNC_DIR") {
        Some(kept) => {
            std::fs::create_dir_all(&kept).expect("DAFTAR_BENCH_SYNC_DIR created");
            PathBuf::from(kept)
        }
        None => temp.path().to_path_buf(),
    };
    let runtime = runtime();
    let (mut rows_a, mut rows_b, mut rows_c) = (Vec::new(), Vec::new(), Vec::new());
    let mut correct = true;
    let all = |n: usize| format!("{n} succeeded, {n} applied, {n} distinct keys");

    // (a) Drain `ops` refunds, one per payment, no added latency.
    eprintln!("(a) {ops} refunds, one per payment, no added latency");
    let sandbox = Sandbox::start(Config {
        varied_gateways: false,
        ..Config::empty()
    })
    .expect("sandbox starts");
    let drain_sessions = sessions(TAG_DRAIN, ops);
    seed_sandbox(&sandbox, &drain_sessions);
    let mut ledger = prepare_ledger(
        &dir.join("drain.sqlite3"),
        sandbox.base_url(),
        sandbox.api_key(),
        &drain_sessions,
    );
    let rss_before = vm_rss();
    let reset = reset_hwm();
    let drained = drain(&mut ledger, &runtime, "drain");
    let hwm = if reset { vm_hwm() } else { None };
    let rate = drained.rate();
    eprintln!(
        "  drained {} in {} ({rate:.0}/s)",
        drained.summary.succeeded,
        secs(drained.wall)
    );
    let (keys, succeeded) = ledger_keys(&mut ledger);
    let state = sandbox.state().expect("sandbox state");
    let checked = verify(&state, &keys, Some(succeeded), &drain_sessions);
    correct &= checked.ok && drained.summary.remaining == 0;
    drop(ledger);
    rows_a.push(row(
        format!(
            "(a) drain {} queued refunds (1 per payment), no added latency, concurrency {SYNC_DEFAULT_CONCURRENCY}, each outcome committed (WAL, synchronous=FULL)",
            thousands(ops as f64)
        ),
        "≥ 2,000 ops/s",
        format!("{} ops/s", thousands(rate)),
        Some(rate >= TARGET_OPS_PER_S),
    ));
    rows_a.push(row("(a) drain wall time", "—", secs(drained.wall), None));
    rows_a.push(row(
        "(a) exactly-once",
        &all(ops),
        checked.detail,
        Some(checked.ok),
    ));

    // Context for (a): what the sandbox and loopback HTTP do without any database, and
    // what one fsync costs on this disk.
    let ceiling_ops = ops.min(CEILING_OPS);
    eprintln!(
        "(a) context: {ceiling_ops} refunds from {SYNC_DEFAULT_CONCURRENCY} plain client loops, no DB"
    );
    let ceiling_sessions = sessions(TAG_CEILING, ceiling_ops);
    seed_sandbox(&sandbox, &ceiling_sessions);
    let ceiling = plain_client(
        &runtime,
        sandbox.base_url(),
        sandbox.api_key(),
        &ceiling_sessions,
        SYNC_DEFAULT_CONCURRENCY,
    );
    let state = sandbox.state().expect("sandbox state");
    let ceiling_checked = verify(&state, &ceiling.keys, None, &ceiling_sessions);
    correct &= ceiling_checked.ok && ceiling.succeeded == ceiling_ops;
    rows_a.push(row(
        format!(
            "(a) context: sandbox + loopback HTTP alone, {SYNC_DEFAULT_CONCURRENCY} plain `send_operation` loops, {} refunds, no DB (exactly-once: {})",
            thousands(ceiling_ops as f64),
            if ceiling_checked.ok { "yes" } else { "**no**" }
        ),
        "—",
        format!("{} ops/s", thousands(ceiling.rate())),
        None,
    ));
    let (fsync_p50, fsync_p99) = fsync_probe(&dir);
    rows_a.push(row(
        "(a) context: 16 KiB write + `fdatasync` next to the ledger, no SQLite",
        "—",
        format!(
            "p50 {:.3} ms, p99 {:.3} ms (n={FSYNC_PROBES})",
            fsync_p50.as_secs_f64() * 1e3,
            fsync_p99.as_secs_f64() * 1e3
        ),
        None,
    ));
    rows_c.push(row(
        "(c) peak RSS during (a), this process: worker + ledger + sandbox (with its payments) + both runtimes",
        "—",
        format!(
            "VmHWM {} (VmRSS {} before the drain)",
            opt_mb(hwm),
            opt_mb(rss_before)
        ),
        None,
    ));

    // (c) The same drain with the worker alone in a child process.
    eprintln!("(c) {ops} refunds, worker in a child process");
    let child_sessions = sessions(TAG_CHILD, ops);
    seed_sandbox(&sandbox, &child_sessions);
    let child_path = dir.join("child.sqlite3");
    let child = run_child(&sandbox, &child_path, TAG_CHILD, ops);
    let mut child_ledger = open_ledger(&child_path);
    let (keys, succeeded) = ledger_keys(&mut child_ledger);
    drop(child_ledger);
    let state = sandbox.state().expect("sandbox state");
    let checked = verify(&state, &keys, Some(succeeded), &child_sessions);
    correct &= checked.ok && child.succeeded == ops as u64;
    let child_rate = child.succeeded as f64 / child.wall.as_secs_f64();
    eprintln!(
        "  drained {} in {} ({child_rate:.0}/s)",
        child.succeeded,
        secs(child.wall)
    );
    rows_c.push(row(
        "(c) peak RSS of the worker alone: child process with the ledger, `sync::run` and its Tokio runtime (no sandbox)",
        "—",
        format!(
            "VmHWM {} during the drain (VmRSS {} before it; {} including setup)",
            mb(child.drain_hwm),
            mb(child.rss_before),
            mb(child.process_hwm)
        ),
        None,
    ));
    rows_c.push(row(
        format!(
            "(c) drain of {} refunds in the child process: wall time, rate",
            thousands(ops as f64)
        ),
        "—",
        format!("{}, {} ops/s", secs(child.wall), thousands(child_rate)),
        None,
    ));
    rows_c.push(row(
        "(c) exactly-once",
        &all(ops),
        checked.detail,
        Some(checked.ok),
    ));
    sandbox.shutdown();

    // (b) 50 ms per request: the worker at concurrency 4 next to a sequential client.
    eprintln!("(b) {latency_ops} refunds per side, {LATENCY_MS} ms added per request");
    let sandbox = Sandbox::start(Config {
        varied_gateways: false,
        faults: FaultConfig {
            latency_ms: LATENCY_MS,
            ..FaultConfig::none()
        },
        ..Config::empty()
    })
    .expect("sandbox starts");
    let worker_sessions = sessions(TAG_LATENCY_WORKER, latency_ops);
    let plain_sessions = sessions(TAG_LATENCY_PLAIN, latency_ops);
    seed_sandbox(&sandbox, &worker_sessions);
    seed_sandbox(&sandbox, &plain_sessions);
    let mut ledger = prepare_ledger(
        &dir.join("latency.sqlite3"),
        sandbox.base_url(),
        sandbox.api_key(),
        &worker_sessions,
    );
    let plain = plain_client(
        &runtime,
        sandbox.base_url(),
        sandbox.api_key(),
        &plain_sessions,
        1,
    );
    let plain_rate = plain.rate();
    eprintln!(
        "  sequential client: {} in {} ({plain_rate:.1}/s)",
        plain.succeeded,
        secs(plain.wall)
    );
    let drained = drain(&mut ledger, &runtime, "worker at 50 ms");
    let worker_rate = drained.rate();
    eprintln!(
        "  worker: {} in {} ({worker_rate:.1}/s)",
        drained.summary.succeeded,
        secs(drained.wall)
    );
    let ratio = worker_rate / plain_rate;
    let (keys, succeeded) = ledger_keys(&mut ledger);
    drop(ledger);
    let state = sandbox.state().expect("sandbox state");
    let worker_checked = verify(&state, &keys, Some(succeeded), &worker_sessions);
    let plain_checked = verify(&state, &plain.keys, None, &plain_sessions);
    correct &= worker_checked.ok && plain_checked.ok && plain.succeeded == latency_ops;
    sandbox.shutdown();
    rows_b.push(row(
        format!(
            "(b) worker, {latency_ops} refunds, {LATENCY_MS} ms added per request, concurrency {SYNC_DEFAULT_CONCURRENCY}"
        ),
        "—",
        format!("{worker_rate:.1} ops/s ({})", secs(drained.wall)),
        None,
    ));
    rows_b.push(row(
        format!(
            "(b) sequential client (`OttuClient::send_operation`, one at a time, no DB), {latency_ops} refunds, {LATENCY_MS} ms"
        ),
        "—",
        format!("{plain_rate:.1} ops/s ({})", secs(plain.wall)),
        None,
    ));
    rows_b.push(row(
        "(b) worker / sequential",
        "≥ 3.5×",
        format!("{ratio:.2}×"),
        Some(ratio >= TARGET_RATIO),
    ));
    rows_b.push(row(
        "(b) exactly-once, worker",
        &all(latency_ops),
        worker_checked.detail,
        Some(worker_checked.ok),
    ));
    rows_b.push(row(
        "(b) exactly-once, sequential client",
        &format!("{latency_ops} applied, {latency_ops} distinct keys"),
        plain_checked.detail,
        Some(plain_checked.ok),
    ));

    let rows: Vec<Row> = rows_a.into_iter().chain(rows_b).chain(rows_c).collect();
    print_table(&rows);
    if correct {
        ExitCode::SUCCESS
    } else {
        eprintln!("exactly-once check FAILED (see the table)");
        ExitCode::FAILURE
    }
}
