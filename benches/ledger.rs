//! Ledger benchmarks on a large file: bulk insert (against plain rusqlite), queueing one
//! refund, one page of `payment list`, and `payment show` of a payment with 1,000
//! operations. Prints a markdown table to stdout and progress to stderr.
//!
//! `cargo bench --bench ledger` runs it on 1,000,000 payments;
//! `DAFTAR_BENCH_PAYMENTS=10000 cargo bench --bench ledger` is a quick run.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use daftar::Ledger;
use daftar::ledger::{PaymentLookup, PaymentQuery, QueueRequest};
use daftar::limits::BULK_INSERT_BATCH_ROWS;
use daftar::model::{NewPayment, OrderNo, PaymentSource, PaymentState, SessionId};
use daftar::money::{Amount, Currency};
use daftar::store::Store;
use rusqlite::params;

const DEFAULT_PAYMENTS: usize = 1_000_000;
const PROFILE: &str = "bench";
/// Rows per transaction of the plain-rusqlite baseline ("one or few transactions").
const RAW_TX_ROWS: usize = 100_000;
/// 2025-11-25T00:00:00Z: the payments span the year before the benchmark date.
const START_MS: i64 = 1_764_028_800_000;
const YEAR_MS: i64 = 365 * 24 * 3600 * 1000;

const QUEUE_ITERATIONS: usize = 2_000;
const LIST_ITERATIONS: usize = 2_000;
const SHOW_ITERATIONS: usize = 500;
const BIG_PAYMENT_OPERATIONS: usize = 1_000;
const WARMUP: usize = 20;

/// SplitMix64: deterministic, dependency-free, good enough for test data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Payment states weighted per mille, roughly as a live merchant account looks.
const STATE_MIX: &[(PaymentState, u64)] = &[
    (PaymentState::Paid, 700),
    (PaymentState::Authorized, 80),
    (PaymentState::Created, 50),
    (PaymentState::Failed, 50),
    (PaymentState::Pending, 30),
    (PaymentState::Attempted, 30),
    (PaymentState::Canceled, 20),
    (PaymentState::Expired, 20),
    (PaymentState::Refunded, 15),
    (PaymentState::Voided, 5),
];

fn pick_state(rng: &mut Rng) -> PaymentState {
    let mut roll = rng.below(1000);
    for &(state, weight) in STATE_MIX {
        if roll < weight {
            return state;
        }
        roll -= weight;
    }
    PaymentState::Paid
}

/// `n` realistic KWD payments in roughly chronological order over one year.
fn generate(n: usize) -> Vec<NewPayment> {
    let mut rng = Rng(0x00D4_F7A2_2026_1125);
    let step = YEAR_MS / n.max(1) as i64;
    (0..n)
        .map(|i| {
            let session = format!("{:016x}{:016x}", rng.next(), rng.next());
            // 5% of payments carry no order number.
            let order_no =
                (rng.below(20) != 0).then(|| format!("ORD-{}-{:07}", 2025 + i * 2 / n, i + 1));
            // 0.250 to 250.000 KWD, any fils; one in fifty is a large ticket up to 2,500.000.
            let minor = if rng.below(50) == 0 {
                250_000 + rng.below(2_250_000)
            } else {
                250 + rng.below(249_751)
            } as i64;
            let jitter = rng.below(3_600_000) as i64;
            NewPayment {
                session_id: SessionId::parse(&session).expect("session id"),
                order_no: order_no.map(|o| OrderNo::parse(&o).expect("order no")),
                amount: Amount::from_minor(minor, Currency::KWD),
                state: pick_state(&mut rng),
                source: if rng.below(10) == 0 {
                    PaymentSource::Report
                } else {
                    PaymentSource::Ottu
                },
                created_at_ms: START_MS + i as i64 * step + jitter,
                customer_email: None,
                customer_phone: None,
            }
        })
        .collect()
}

fn payments_from_env() -> usize {
    match std::env::var("DAFTAR_BENCH_PAYMENTS") {
        Ok(text) => text
            .replace('_', "")
            .parse()
            .ok()
            .filter(|&n| n >= 1_000)
            .unwrap_or_else(|| {
                panic!("DAFTAR_BENCH_PAYMENTS must be a number >= 1000, got '{text}'")
            }),
        Err(_) => DEFAULT_PAYMENTS,
    }
}

/// Latency figures of one measured loop.
struct Latencies {
    sorted: Vec<Duration>,
}

impl Latencies {
    fn new(mut samples: Vec<Duration>) -> Latencies {
        assert!(!samples.is_empty(), "no samples");
        samples.sort();
        Latencies { sorted: samples }
    }

    /// Nearest-rank percentile.
    fn pct(&self, p: f64) -> Duration {
        let rank = ((p / 100.0) * self.sorted.len() as f64).ceil() as usize;
        self.sorted[rank.clamp(1, self.sorted.len()) - 1]
    }

    fn max(&self) -> Duration {
        *self.sorted.last().expect("samples")
    }

    fn summary_over(&self, limit: Duration) -> String {
        let over = self.sorted.iter().filter(|&&d| d >= limit).count();
        format!("{}; {over} at or over {}", self.summary(), ms(limit))
    }

    fn summary(&self) -> String {
        format!(
            "p50 {}, p99 {}, max {} (n={})",
            ms(self.pct(50.0)),
            ms(self.pct(99.0)),
            ms(self.max()),
            self.sorted.len()
        )
    }
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

fn thousands(n: f64) -> String {
    let digits = format!("{:.0}", n);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

/// Main file plus WAL, after a TRUNCATE checkpoint has folded the WAL into the main file.
fn checkpointed_size(conn: &rusqlite::Connection, path: &Path) -> u64 {
    let (busy, _log, _done): (i64, i64, i64) = conn
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .expect("checkpoint");
    assert_eq!(busy, 0, "checkpoint was blocked");
    let wal = PathBuf::from(format!("{}-wal", path.display()));
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    size(path) + size(&wal)
}

struct Row {
    metric: String,
    target: String,
    measured: String,
    /// None: informational, no target.
    pass: Option<bool>,
}

impl Row {
    fn new(metric: impl Into<String>, measured: impl Into<String>) -> Row {
        Row {
            metric: metric.into(),
            target: "—".into(),
            measured: measured.into(),
            pass: None,
        }
    }

    fn target(mut self, target: impl Into<String>, pass: bool) -> Row {
        self.target = target.into();
        self.pass = Some(pass);
        self
    }
}

/// Calls `f` once per item: the first `WARMUP` calls untimed, the rest timed.
fn measure<T>(items: &[T], mut f: impl FnMut(&T)) -> Latencies {
    let (warmup, timed) = items.split_at(WARMUP.min(items.len() / 2));
    for item in warmup {
        f(item);
    }
    let samples = timed
        .iter()
        .map(|item| {
            let start = Instant::now();
            f(item);
            start.elapsed()
        })
        .collect();
    Latencies::new(samples)
}

fn main() {
    let n = payments_from_env();
    let dir = tempfile::Builder::new()
        .prefix("daftar-bench-")
        .tempdir_in("/tmp")
        .expect("temp dir");
    let daftar_path = dir.path().join("daftar.sqlite");
    let raw_path = dir.path().join("raw.sqlite");
    eprintln!("daftar bench: {n} payments under {}", dir.path().display());

    let started = Instant::now();
    let payments = generate(n);
    eprintln!(
        "generated {n} payments in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let mut rows = Vec::new();

    // (a) Plain rusqlite first, into fresh files with the same schema and pragmas: in
    // few large transactions (the baseline), then batched like Daftar (for the diagnosis).
    let (raw_elapsed, raw_size) = raw_insert(&raw_path, &payments, RAW_TX_ROWS);
    let (raw_same_elapsed, _) = raw_insert(&raw_path, &payments, BULK_INSERT_BATCH_ROWS);

    // (a) Daftar's bulk insert into its own fresh ledger.
    let mut ledger = Ledger::open(&daftar_path, "bench:ledger").expect("open ledger");
    ledger
        .add_profile(PROFILE, "https://bench.ottu.net", "KWD")
        .expect("profile");
    let start = Instant::now();
    let inserted = ledger
        .add_payments(PROFILE, &payments, |done| {
            let secs = start.elapsed().as_secs_f64();
            eprintln!(
                "daftar insert: {done}/{n} rows, {secs:.1} s, {} rows/s",
                thousands(done as f64 / secs)
            );
        })
        .expect("add_payments");
    let daftar_elapsed = start.elapsed();
    assert_eq!(inserted, n);
    let daftar_size = checkpointed_size(ledger.store().connection(), &daftar_path);
    let count: i64 = ledger
        .store()
        .connection()
        .query_row("SELECT COUNT(*) FROM payments", [], |r| r.get(0))
        .expect("count");
    assert_eq!(count as usize, n);

    let daftar_rate = n as f64 / daftar_elapsed.as_secs_f64();
    let raw_rate = n as f64 / raw_elapsed.as_secs_f64();
    let ratio = daftar_rate / raw_rate;
    rows.push(Row::new(
        format!(
            "(a) bulk insert, `Ledger::add_payments` ({} rows/tx)",
            thousands(BULK_INSERT_BATCH_ROWS as f64)
        ),
        format!(
            "{} rows/s ({:.1} s)",
            thousands(daftar_rate),
            daftar_elapsed.as_secs_f64()
        ),
    ));
    rows.push(Row::new(
        format!(
            "(a) bulk insert, plain rusqlite ({} rows/tx)",
            thousands(RAW_TX_ROWS as f64)
        ),
        format!(
            "{} rows/s ({:.1} s)",
            thousands(raw_rate),
            raw_elapsed.as_secs_f64()
        ),
    ));
    rows.push(
        Row::new("(a) ratio Daftar / raw", format!("{ratio:.2}")).target("≥ 0.70", ratio >= 0.7),
    );
    let raw_same_rate = n as f64 / raw_same_elapsed.as_secs_f64();
    rows.push(Row::new(
        format!(
            "(a) diagnosis: plain rusqlite batched like Daftar ({} rows/tx)",
            thousands(BULK_INSERT_BATCH_ROWS as f64)
        ),
        format!(
            "{} rows/s ({:.1} s); Daftar / this = {:.2}",
            thousands(raw_same_rate),
            raw_same_elapsed.as_secs_f64(),
            daftar_rate / raw_same_rate
        ),
    ));
    let size_limit = (400_000_000.0 * n as f64 / 1e6) as u64;
    rows.push(
        Row::new(
            format!(
                "DB size after {} payments (main + WAL, checkpointed)",
                thousands(n as f64)
            ),
            format!("{} (raw baseline {})", mb(daftar_size), mb(raw_size)),
        )
        .target(
            if n == DEFAULT_PAYMENTS {
                "< 400 MB".to_string()
            } else {
                format!("< {} (400 MB per 1M)", mb(size_limit))
            },
            daftar_size < size_limit,
        ),
    );

    // Paid payments, spread over the whole file, each used once. The first one big
    // enough takes the 1,000 operations of (d); the others go to (b).
    let big = payments
        .iter()
        .position(|p| p.state == PaymentState::Paid && p.amount.minor() >= 100_000)
        .expect("a paid payment of at least 100 KWD");
    let paid: Vec<usize> = (0..n)
        .filter(|&i| i != big && payments[i].state == PaymentState::Paid)
        .collect();
    let wanted = 2 * (QUEUE_ITERATIONS + WARMUP);
    let stride = (paid.len() / wanted).max(1);
    let targets: Vec<usize> = paid.iter().copied().step_by(stride).take(wanted).collect();
    let per_run = targets.len() / 2;
    let requests: Vec<(String, String)> = targets
        .iter()
        .map(|&i| {
            let p = &payments[i];
            // A partial refund: a quarter of the amount, at least 0.001 KWD.
            let amount = Amount::from_minor((p.amount.minor() / 4).max(1), Currency::KWD);
            (p.session_id.as_str().to_string(), amount.to_string())
        })
        .collect();
    let queue_one = |ledger: &mut Ledger, (session, amount): &(String, String)| {
        let queued = ledger
            .queue(&QueueRequest {
                kind: "refund".into(),
                payment: PaymentLookup {
                    profile: None,
                    session_id: Some(session.into()),
                    order_no: None,
                },
                amount: Some(amount.into()),
                reason: Some("customer returned the item".into()),
            })
            .expect("queue refund");
        assert_eq!(
            queued.operation.status,
            daftar::model::OperationStatus::Queued
        );
    };

    // (b) validate + queue one refund, with the product's synchronous=FULL.
    let wal_path = PathBuf::from(format!("{}-wal", daftar_path.display()));
    let mut runs = requests.chunks_exact(per_run);
    let (run_full, run_normal) = (runs.next().expect("run"), runs.next().expect("run"));
    // Context: what one durable commit costs on this disk right now, without SQLite.
    let fsync = fsync_probe(&dir.path().join("fsync-probe"));
    eprintln!("queue: {per_run} refunds, synchronous=FULL");
    let full = measure_queue(run_full, &wal_path, |r| queue_one(&mut ledger, r));
    // Validation alone (the read half of queueing, no commit) on payments not yet refunded.
    eprintln!("queue: {per_run} previews");
    let preview = measure(run_normal, |(session, amount)| {
        let reserved = ledger
            .preview(&QueueRequest {
                kind: "refund".into(),
                payment: PaymentLookup {
                    profile: None,
                    session_id: Some(session.into()),
                    order_no: None,
                },
                amount: Some(amount.into()),
                reason: None,
            })
            .expect("preview");
        assert!(reserved.is_some());
    });
    // The same with synchronous=NORMAL set on this connection only (not the product default).
    eprintln!("queue: {per_run} refunds, synchronous=NORMAL");
    set_synchronous(&mut ledger, "NORMAL");
    let normal = measure_queue(run_normal, &wal_path, |r| queue_one(&mut ledger, r));
    set_synchronous(&mut ledger, "FULL");
    let one_ms = Duration::from_millis(1);
    for (name, run) in [
        ("`synchronous=FULL` (product default)", &full),
        (
            "`synchronous=NORMAL` (connection pragma, not the default)",
            &normal,
        ),
    ] {
        rows.push(
            Row::new(
                format!("(b) queue 1 partial refund, {name}"),
                run.all.summary_over(one_ms),
            )
            .target("p99 < 1 ms", run.all.pct(99.0) < one_ms),
        );
        rows.push(Row::new(
            format!(
                "(b) diagnosis: same run without the {} calls that ran the WAL auto-checkpoint",
                run.checkpoints
            ),
            run.without_checkpoint.summary_over(one_ms),
        ));
    }
    rows.push(Row::new(
        "(b) diagnosis: validate only (`Ledger::preview`, no write)",
        preview.summary(),
    ));
    rows.push(Row::new(
        "(b) context: 16 KiB write + `fdatasync` in the same directory, no SQLite",
        fsync.summary(),
    ));

    // (c) one page of `payment list`, newest first.
    for state in [Some("paid"), Some("authorized"), Some("refunded"), None] {
        let query = PaymentQuery {
            state: state.map(str::to_string),
            limit: Some(50),
            ..PaymentQuery::default()
        };
        let matching = payments
            .iter()
            .filter(|p| state.is_none_or(|s| p.state.as_str() == s))
            .count();
        let lat = measure(&[(); WARMUP + LIST_ITERATIONS], |_| {
            let page = ledger.list_payments(&query).expect("list");
            assert_eq!(page.payments.len(), matching.min(50));
            assert_eq!(page.total, matching as u64);
        });
        let name = format!(
            "(c) `payment list`, page of 50 newest, state {}",
            state.map_or("(any)".to_string(), |s| format!("`{s}`"))
        );
        rows.push(
            Row::new(name, lat.summary())
                .target("p99 < 5 ms", lat.pct(99.0) < Duration::from_millis(5)),
        );
    }

    // (d) `payment show` of one payment with 1,000 operations (setup untimed).
    let big_session = payments[big].session_id.as_str().to_string();
    eprintln!("show: queueing {BIG_PAYMENT_OPERATIONS} refunds of 0.050 KWD on {big_session}");
    let setup = Instant::now();
    for _ in 0..BIG_PAYMENT_OPERATIONS {
        queue_one(&mut ledger, &(big_session.clone(), "0.050".to_string()));
    }
    eprintln!("show: setup took {:.1} s", setup.elapsed().as_secs_f64());
    let lookup = PaymentLookup {
        profile: None,
        session_id: Some(big_session.clone()),
        order_no: None,
    };
    let show = measure(&[(); WARMUP + SHOW_ITERATIONS], |_| {
        let detail = ledger.show_payment(&lookup).expect("show");
        assert_eq!(detail.operations.len(), BIG_PAYMENT_OPERATIONS);
    });
    rows.push(
        Row::new(
            format!("(d) `payment show`, payment with {BIG_PAYMENT_OPERATIONS} operations"),
            show.summary(),
        )
        .target("p99 < 10 ms", show.pct(99.0) < Duration::from_millis(10)),
    );
    // For scale: a payment with one operation.
    let small_session = requests[0].0.clone();
    let small_lookup = PaymentLookup {
        profile: None,
        session_id: Some(small_session.clone()),
        order_no: None,
    };
    let show_small = measure(&[(); WARMUP + SHOW_ITERATIONS], |_| {
        let detail = ledger.show_payment(&small_lookup).expect("show");
        assert_eq!(detail.operations.len(), 1);
    });
    rows.push(Row::new(
        "(d) for scale: `payment show`, payment with 1 operation",
        show_small.summary(),
    ));

    let sqlite: String = ledger
        .store()
        .connection()
        .query_row("SELECT sqlite_version()", [], |r| r.get(0))
        .expect("sqlite version");
    println!(
        "Daftar ledger benchmark: {} payments, SQLite {sqlite}, WAL with `synchronous=FULL` unless noted.\n",
        thousands(n as f64)
    );
    println!("| Metric | Target | Measured | Result |");
    println!("|---|---|---|---|");
    for row in &rows {
        let result = match row.pass {
            Some(true) => "pass",
            Some(false) => "**FAIL**",
            None => "info",
        };
        println!(
            "| {} | {} | {} | {} |",
            row.metric, row.target, row.measured, result
        );
    }
    eprintln!("done in {:.1} s", started.elapsed().as_secs_f64());
}

/// Inserts `payments` with one plain prepared INSERT, `rows_per_tx` rows per transaction,
/// into a fresh ledger file at `path` (removed afterwards). Returns the time taken and the
/// checkpointed file size.
fn raw_insert(path: &Path, payments: &[NewPayment], rows_per_tx: usize) -> (Duration, u64) {
    let n = payments.len();
    let mut store = Store::open(path).expect("open raw store");
    let conn = store.connection();
    conn.execute(
        "INSERT INTO profiles (name, base_url, currency, created_at_ms) VALUES (?1, ?2, 'KWD', ?3)",
        params![PROFILE, "https://bench.ottu.net", START_MS],
    )
    .expect("raw profile");
    let profile_id = conn.last_insert_rowid();
    let now_ms = START_MS + YEAR_MS;
    let start = Instant::now();
    let mut done = 0;
    for chunk in payments.chunks(rows_per_tx) {
        let tx = conn.transaction().expect("raw tx");
        {
            let mut stmt = tx
                .prepare(
                    "INSERT INTO payments (profile_id, session_id, order_no, amount_minor, currency,
                         state, source, created_at_ms, updated_at_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                )
                .expect("raw prepare");
            for p in chunk {
                stmt.execute(params![
                    profile_id,
                    p.session_id.as_str(),
                    p.order_no.as_ref().map(OrderNo::as_str),
                    p.amount.minor(),
                    p.amount.currency().code(),
                    p.state.as_str(),
                    p.source.as_str(),
                    p.created_at_ms,
                    now_ms,
                ])
                .expect("raw insert");
            }
        }
        tx.commit().expect("raw commit");
        done += chunk.len();
        let secs = start.elapsed().as_secs_f64();
        eprintln!(
            "raw insert ({rows_per_tx} rows/tx): {done}/{n} rows, {secs:.1} s, {} rows/s",
            thousands(done as f64 / secs)
        );
    }
    let elapsed = start.elapsed();
    let size = checkpointed_size(conn, path);
    drop(store);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    (elapsed, size)
}

/// Times 16 KiB written in place into a preallocated 16 MiB file followed by
/// `fdatasync`, the shape of one WAL commit under `synchronous=FULL`.
fn fsync_probe(path: &Path) -> Latencies {
    const CHUNK: usize = 16 * 1024;
    const SLOTS: u64 = 1024;
    let mut file = std::fs::File::create(path).expect("probe file");
    file.write_all(&vec![0; CHUNK * SLOTS as usize])
        .expect("preallocate");
    file.sync_all().expect("sync");
    let chunk = vec![0xA5; CHUNK];
    let mut slot = 0;
    let samples: Vec<Duration> = (0..WARMUP + QUEUE_ITERATIONS)
        .map(|_| {
            let start = Instant::now();
            file.seek(SeekFrom::Start(slot * CHUNK as u64))
                .expect("seek");
            file.write_all(&chunk).expect("write");
            file.sync_data().expect("fdatasync");
            slot = (slot + 1) % SLOTS;
            start.elapsed()
        })
        .collect();
    drop(file);
    let _ = std::fs::remove_file(path);
    Latencies::new(samples[WARMUP..].to_vec())
}

/// The WAL header's checkpoint sequence number: SQLite bumps it when a writer restarts
/// the WAL after a complete checkpoint. 0 while the WAL is empty.
fn wal_sequence(wal: &Path) -> u32 {
    let mut header = [0u8; 16];
    match std::fs::File::open(wal).and_then(|mut f| f.read_exact(&mut header)) {
        Ok(()) => u32::from_be_bytes([header[12], header[13], header[14], header[15]]),
        Err(_) => 0,
    }
}

/// Queue latencies, also without the calls that ran SQLite's WAL auto-checkpoint.
struct QueueRun {
    all: Latencies,
    without_checkpoint: Latencies,
    checkpoints: usize,
}

/// Like [`measure`], and reads the WAL header after every call (untimed). The
/// auto-checkpoint runs at the end of the commit that crosses 1,000 WAL pages; the WAL is
/// restarted by the next write, so a sequence change after call k+1 marks call k.
fn measure_queue<T>(items: &[T], wal: &Path, mut f: impl FnMut(&T)) -> QueueRun {
    let (warmup, timed) = items.split_at(WARMUP.min(items.len() / 2));
    for item in warmup {
        f(item);
    }
    let mut samples = Vec::with_capacity(timed.len());
    let mut sequence = Vec::with_capacity(timed.len());
    for item in timed {
        let start = Instant::now();
        f(item);
        samples.push(start.elapsed());
        sequence.push(wal_sequence(wal));
    }
    let checkpointed: Vec<bool> = (0..samples.len())
        .map(|k| sequence.get(k + 1).is_some_and(|next| *next != sequence[k]))
        .collect();
    let without: Vec<Duration> = samples
        .iter()
        .zip(&checkpointed)
        .filter(|&(_, &c)| !c)
        .map(|(d, _)| *d)
        .collect();
    QueueRun {
        checkpoints: samples.len() - without.len(),
        all: Latencies::new(samples),
        without_checkpoint: Latencies::new(without),
    }
}

fn set_synchronous(ledger: &mut Ledger, mode: &str) {
    let conn = ledger.store().connection();
    conn.pragma_update(None, "synchronous", mode)
        .expect("synchronous");
    let now: i64 = conn
        .query_row("PRAGMA synchronous", [], |r| r.get(0))
        .expect("read synchronous");
    assert_eq!(now, if mode == "FULL" { 2 } else { 1 });
}
