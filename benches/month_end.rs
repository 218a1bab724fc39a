//! Month end at scale, through the public CLI: on a ledger of 1,000,000 payments (mixed
//! KWD/USD, refund and void children, reference numbers, Arabic customer names, order
//! numbers), each product figure next to its baseline in one run:
//!
//! - CSV export (`daftar export ledger --format csv`) next to `sqlite3 -csv` dumping the
//!   same columns from the same file;
//! - XLSX export: time and the child process's peak RSS (`wait4` rusage);
//! - report import of an Ottu-shaped 1,000,000-row CSV (`daftar import-report --commit`)
//!   into a fresh ledger, next to a raw rusqlite insert of the same rows (the csv crate, one
//!   prepared statement per table, one transaction, same tables);
//! - reconciling the 1,000,000 ledger rows against that report (`daftar reconcile`);
//! - the round trip: export the ledger, import the export into a fresh ledger, export that
//!   again: the same totals per currency in the JSON outputs and in SQL sums of both files.
//!
//! Prints a markdown table to stdout, progress to stderr. Exits non-zero when a stage fails
//! or a check does not hold (round-trip totals, row counts); a missed speed target only
//! shows in the table.
//!
//! ```sh
//! scripts/bench-month-end.sh                   # release build, 1,000,000 payments
//! scripts/bench-month-end.sh --rows 20000      # quick
//! DAFTAR_BENCH_MONTH_END_ROWS=2000 cargo test --locked --bench month_end   # make test's smoke run
//! ```
//!
//! Flags: `--rows N`, `--daftar PATH` (default `DAFTAR_BIN`, else the binary cargo built
//! with this bench), `--repeat N` (timed runs of the export pair, interleaved; median),
//! `--only stage,stage` (gen always runs; stages: export, xlsx, import, reconcile,
//! roundtrip), `--work DIR` (keep the files there instead of a temp dir).
//! The ledger is written straight into a ledger file with plain rusqlite (one transaction)
//! after `Ledger::open` made the schema; every timed product figure is a `daftar` process.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use daftar::Ledger;
use daftar::store::Store;
use rusqlite::{Connection, params};
use serde_json::Value;

const DEFAULT_ROWS: usize = 1_000_000;
const PROFILE: &str = "bench";
const BASE_URL: &str = "https://bench.ottu.net";
/// 2026-11-01T00:00:00Z: the payments span the month being closed.
const MONTH_START_MS: i64 = 1_793_491_200_000;
const MONTH_MS: i64 = 30 * 24 * 3600 * 1000;
/// Every 1,000th payment's report row carries an amount one minor unit higher, another's a
/// different state; every 2,000th payment is missing from the report and a payment the
/// ledger does not know is there instead.
const PERTURB_EVERY: usize = 1_000;
const AMOUNT_DIFFERS_AT: usize = 7;
const STATE_DIFFERS_AT: usize = 13;
const LEDGER_ONLY_EVERY: usize = 2_000;

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

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }

    fn hex32(&mut self) -> String {
        format!("{:016x}{:016x}", self.next(), self.next())
    }

    fn rrn(&mut self) -> String {
        format!("{:012}", self.below(1_000_000_000_000))
    }
}

const STATES: &[(&str, u64)] = &[
    ("paid", 700),
    ("authorized", 80),
    ("created", 50),
    ("failed", 50),
    ("pending", 30),
    ("attempted", 30),
    ("canceled", 20),
    ("expired", 20),
    ("refunded", 15),
    ("voided", 5),
];
const FIRST_AR: &[&str] = &[
    "فاطمة",
    "محمد",
    "نورة",
    "أحمد",
    "ليلى",
    "عمر",
    "مريم",
    "خالد",
    "هدى",
    "يوسف",
    "ريم",
    "علي",
];
const LAST_AR: &[&str] = &[
    "الصباح",
    "الرشيد",
    "العنزي",
    "المطيري",
    "الحداد",
    "العازمي",
    "الخالد",
    "الشمري",
];
const FIRST: &[&str] = &[
    "fatima", "mohammed", "noura", "ahmad", "layla", "omar", "mariam", "khalid",
];
const DOMAINS: &[&str] = &["gmail.com", "outlook.com", "kuwait.example", "icloud.com"];
const GATEWAYS: &[&str] = &["knet", "mpgs", "apple-pay", "stc-pay"];

fn pick_state(rng: &mut Rng) -> &'static str {
    let mut roll = rng.below(1000);
    for &(state, weight) in STATES {
        if roll < weight {
            return state;
        }
        roll -= weight;
    }
    "paid"
}

fn decimals(currency: &str) -> u32 {
    match currency {
        "KWD" | "BHD" | "OMR" | "JOD" => 3,
        _ => 2,
    }
}

/// Minor units as the decimal text Ottu's reports use; `grouped` adds thousands commas
/// (what a spreadsheet writes for a large amount).
fn fmt_amount(minor: i64, currency: &str, grouped: bool) -> String {
    let d = decimals(currency);
    let scale = 10_i64.pow(d);
    let units = (minor / scale).to_string();
    let units = if grouped { group(&units) } else { units };
    format!("{units}.{:0width$}", minor % scale, width = d as usize)
}

fn group(digits: &str) -> String {
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn thousands(n: f64) -> String {
    group(&format!("{n:.0}"))
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Unix ms (whole seconds) as Ottu's report text, "2026-11-03 14:22:05" (UTC).
fn fmt_time(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// The raw baseline's reader of [`fmt_time`]'s text.
fn parse_time(text: &[u8]) -> Option<i64> {
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        std::str::from_utf8(text.get(r)?).ok()?.parse().ok()
    };
    if text.len() != 19 {
        return None;
    }
    let days = days_from_civil(num(0..4)?, num(5..7)?, num(8..10)?);
    Some((days * 86_400 + num(11..13)? * 3600 + num(14..16)? * 60 + num(17..19)?) * 1000)
}

/// The raw baseline's reader of [`fmt_amount`]'s text: minor units at `currency`'s scale.
fn parse_amount(text: &[u8], currency: &str) -> Option<i64> {
    let d = decimals(currency) as usize;
    let mut minor: i64 = 0;
    let mut frac: Option<usize> = None;
    for &b in text {
        match b {
            b'0'..=b'9' => {
                minor = minor * 10 + i64::from(b - b'0');
                if let Some(f) = frac.as_mut() {
                    *f += 1;
                }
            }
            b',' => {}
            b'.' if frac.is_none() => frac = Some(0),
            _ => return None,
        }
    }
    let f = frac.unwrap_or(0);
    (f <= d).then(|| minor * 10_i64.pow((d - f) as u32))
}

const REPORT_HEADERS: &[&str] = &[
    "Session ID",
    "Order No",
    "Parent Session ID",
    "Operation",
    "Amount",
    "Currency",
    "State",
    "Payment Gateway",
    "Created",
    "Modified",
    "Reference Number",
    "Refunded Amount",
    "Captured Amount",
    "Voided Amount",
    "Customer Email",
    "Customer Name",
];

/// What the generator wrote, for the checks.
#[derive(Default)]
struct Generated {
    payments: u64,
    children: u64,
    report_rows: u64,
    report_parents: u64,
    report_children: u64,
    ledger_only: u64,
    report_only: u64,
    amount_differs: u64,
    state_differs: u64,
}

struct Child {
    kind: &'static str,
    session: String,
    minor: i64,
    state: &'static str,
    created: i64,
    rrn: String,
}

/// Writes `n` payments (and their children) into the ledger at `ledger` and the Ottu-shaped
/// report of the same month to `report`, in one pass.
fn generate(ledger: &Path, report: &Path, n: usize) -> Generated {
    let mut conn = Connection::open(ledger).expect("open ledger for seeding");
    conn.pragma_update(None, "synchronous", "OFF")
        .expect("synchronous");
    let profile: i64 = conn
        .query_row("SELECT id FROM profiles WHERE name = ?1", [PROFILE], |r| {
            r.get(0)
        })
        .expect("profile");
    let mut out = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(BufWriter::with_capacity(
            1 << 20,
            File::create(report).expect("report file"),
        ));
    out.write_record(REPORT_HEADERS).expect("report header");
    let mut rng = Rng(0x3E0D_2026_1130);
    let step = MONTH_MS / n as i64;
    let mut g = Generated::default();
    let started = Instant::now();
    let tx = conn.transaction().expect("seed tx");
    {
        let mut pay = tx
            .prepare(
                "INSERT INTO payments (profile_id, session_id, order_no, amount_minor, currency,
                     state, source, pg_code, customer_reference, created_at_ms, updated_at_ms,
                     customer_email, customer_phone, reference_number, remote_modified_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'ottu', ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?10)",
            )
            .expect("prepare payments");
        let mut child = tx
            .prepare(
                "INSERT INTO children (payment_id, kind, session_id, amount_minor, currency, state,
                     created_at_ms, updated_at_ms, reference_number)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8)",
            )
            .expect("prepare children");
        for i in 0..n {
            let session = rng.hex32();
            let currency = if rng.below(5) == 0 { "USD" } else { "KWD" };
            let scale = 10_i64.pow(decimals(currency));
            // 0.250 to 250 units, one in fifty a large ticket up to 2,500.
            let minor = if rng.below(50) == 0 {
                250 * scale + rng.below(2_250 * scale as u64) as i64
            } else {
                scale / 4 + rng.below(250 * scale as u64) as i64
            };
            let state = pick_state(&mut rng);
            let order_no = (rng.below(20) != 0).then(|| format!("ORD-2026-11-{:07}", i + 1));
            let gateway = rng.pick(GATEWAYS);
            let created = (MONTH_START_MS + i as i64 * step) / 1000 * 1000;
            let modified = created + rng.below(3_600) as i64 * 1000;
            let rrn =
                matches!(state, "paid" | "authorized" | "refunded" | "voided").then(|| rng.rrn());
            let first = rng.below(FIRST.len() as u64) as usize;
            let email = (rng.below(10) < 7)
                .then(|| format!("{}{}@{}", FIRST[first], i + 1, rng.pick(DOMAINS)));
            let phone = (rng.below(10) < 6)
                .then(|| format!("+965 {}{:07}", 5 + rng.below(5), rng.below(10_000_000)));
            // Arabic names; one in twenty written "family, given" (a quoted comma).
            let name = (rng.below(10) < 8).then(|| {
                let (f, l) = (FIRST_AR[first], rng.pick(LAST_AR));
                if rng.below(20) == 0 {
                    format!("{l}, {f}")
                } else {
                    format!("{f} {l}")
                }
            });
            // Children: a full refund of a refunded payment, a void of a voided one, a
            // partial refund of 3 % of paid ones.
            let mut kids = Vec::new();
            match state {
                "refunded" => kids.push(("refund", minor, "refunded")),
                "voided" => kids.push(("void", minor, "voided")),
                "paid" if rng.below(100) < 3 => {
                    kids.push(("refund", (minor / 2).max(1), "refunded"))
                }
                _ => {}
            }
            let kids: Vec<Child> = kids
                .into_iter()
                .map(|(kind, minor, state)| Child {
                    kind,
                    session: rng.hex32(),
                    minor,
                    state,
                    created: created + rng.below(3 * 86_400) as i64 * 1000,
                    rrn: rng.rrn(),
                })
                .collect();

            if i > 0 && i % 200_000 == 0 {
                eprintln!(
                    "generate: {i}/{n} payments, {:.1} s",
                    started.elapsed().as_secs_f64()
                );
            }
            pay.execute(params![
                profile, session, order_no, minor, currency, state, gateway, name, created,
                modified, email, phone, rrn,
            ])
            .expect("insert payment");
            let payment_id = tx.last_insert_rowid();
            g.payments += 1;
            for k in &kids {
                child
                    .execute(params![
                        payment_id, k.kind, k.session, k.minor, currency, k.state, k.created, k.rrn
                    ])
                    .expect("insert child");
                g.children += 1;
            }

            // The report's rows of this payment, with the planted differences.
            if i % LEDGER_ONLY_EVERY == LEDGER_ONLY_EVERY - 1 {
                g.ledger_only += 1;
                // Instead: a payment only Ottu knows, paid, no children.
                let extra = rng.hex32();
                let extra_minor = scale + rng.below(100 * scale as u64) as i64;
                let amount = fmt_amount(extra_minor, currency, false);
                let zero = fmt_amount(0, currency, false);
                let (c, m) = (fmt_time(created), fmt_time(modified));
                let extra_order = format!("ORD-2026-11-X{:07}", i + 1);
                let extra_rrn = rng.rrn();
                out.write_record([
                    extra.as_str(),
                    &extra_order,
                    "",
                    "purchase",
                    &amount,
                    currency,
                    "paid",
                    gateway,
                    &c,
                    &m,
                    &extra_rrn,
                    &zero,
                    "",
                    &zero,
                    "",
                    "",
                ])
                .expect("report row");
                g.report_only += 1;
                g.report_rows += 1;
                g.report_parents += 1;
                continue;
            }
            let mut report_minor = minor;
            let mut report_state = state;
            if i % PERTURB_EVERY == AMOUNT_DIFFERS_AT {
                report_minor += 1;
                g.amount_differs += 1;
            } else if i % PERTURB_EVERY == STATE_DIFFERS_AT && kids.is_empty() {
                report_state = if state == "paid" {
                    "authorized"
                } else {
                    "paid"
                };
                g.state_differs += 1;
            }
            let refunded: i64 = kids
                .iter()
                .filter(|k| k.kind == "refund")
                .map(|k| k.minor)
                .sum();
            let voided: i64 = kids
                .iter()
                .filter(|k| k.kind == "void")
                .map(|k| k.minor)
                .sum();
            let operation = if state == "authorized" {
                "authorize"
            } else {
                "purchase"
            };
            // Large amounts as a spreadsheet writes them, with thousands commas.
            let amount = fmt_amount(report_minor, currency, report_minor >= 1000 * scale);
            out.write_record([
                session.as_str(),
                order_no.as_deref().unwrap_or(""),
                "",
                operation,
                &amount,
                currency,
                report_state,
                gateway,
                &fmt_time(created),
                &fmt_time(modified),
                rrn.as_deref().unwrap_or(""),
                &fmt_amount(refunded, currency, false),
                "",
                &fmt_amount(voided, currency, false),
                email.as_deref().unwrap_or(""),
                name.as_deref().unwrap_or(""),
            ])
            .expect("report row");
            g.report_rows += 1;
            g.report_parents += 1;
            for k in &kids {
                out.write_record([
                    k.session.as_str(),
                    order_no.as_deref().unwrap_or(""),
                    &session,
                    k.kind,
                    &fmt_amount(k.minor, currency, false),
                    currency,
                    k.state,
                    gateway,
                    &fmt_time(k.created),
                    &fmt_time(k.created),
                    &k.rrn,
                    "",
                    "",
                    "",
                    email.as_deref().unwrap_or(""),
                    name.as_deref().unwrap_or(""),
                ])
                .expect("report child row");
                g.report_rows += 1;
                g.report_children += 1;
            }
        }
    }
    tx.commit().expect("seed commit");
    out.flush().expect("report flush");
    conn.pragma_update(None, "synchronous", "FULL")
        .expect("synchronous");
    let _: (i64, i64, i64) = conn
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .expect("checkpoint");
    g
}

/// A fresh ledger file with the schema and the bench profile, made by the library.
fn fresh_ledger(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let mut ledger = Ledger::open(path, "bench:month-end").expect("open ledger");
    ledger
        .add_profile(PROFILE, BASE_URL, "KWD")
        .expect("add profile");
}

/// The raw baseline of the report import: the same CSV read with the csv crate, amounts
/// and times parsed, each row inserted with one prepared statement (payments or children),
/// all in one transaction, into a fresh ledger with the product's pragmas. No mapping by
/// header, no validation, no audit events, no comparison with what the ledger holds: the
/// floor the import is measured against.
fn raw_import(ledger: &Path, report: &Path) -> (Duration, u64) {
    fresh_ledger(ledger);
    let mut store = Store::open(ledger).expect("open raw store");
    let conn = store.connection();
    let profile: i64 = conn
        .query_row("SELECT id FROM profiles WHERE name = ?1", [PROFILE], |r| {
            r.get(0)
        })
        .expect("profile");
    let now_ms = MONTH_START_MS + MONTH_MS;
    let start = Instant::now();
    let mut reader = csv::ReaderBuilder::new().from_reader(BufReader::with_capacity(
        1 << 20,
        File::open(report).expect("report"),
    ));
    let mut ids: HashMap<Vec<u8>, i64> = HashMap::new();
    let mut rows = 0u64;
    let tx = conn.transaction().expect("raw tx");
    {
        let mut pay = tx
            .prepare(
                "INSERT INTO payments (profile_id, session_id, order_no, amount_minor, currency,
                     state, source, pg_code, created_at_ms, updated_at_ms, reference_number,
                     customer_email, remote_modified_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'report', ?7, ?8, ?9, ?10, ?11, ?12)",
            )
            .expect("prepare");
        let mut child = tx
            .prepare(
                "INSERT INTO children (payment_id, kind, session_id, amount_minor, currency, state,
                     created_at_ms, updated_at_ms, reference_number)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .expect("prepare");
        let mut record = csv::ByteRecord::new();
        let text = |b: &[u8]| std::str::from_utf8(b).expect("utf-8").to_string();
        let opt = |b: &[u8]| (!b.is_empty()).then(|| text(b));
        while reader.read_byte_record(&mut record).expect("read row") {
            let currency = text(&record[5]);
            let minor = parse_amount(&record[4], &currency).expect("amount");
            let created = parse_time(&record[8]).expect("created");
            let modified = parse_time(&record[9]).expect("modified");
            if record[2].is_empty() {
                pay.execute(params![
                    profile,
                    text(&record[0]),
                    opt(&record[1]),
                    minor,
                    currency,
                    text(&record[6]),
                    opt(&record[7]),
                    created,
                    now_ms,
                    opt(&record[10]),
                    opt(&record[14]),
                    modified,
                ])
                .expect("raw payment");
                ids.insert(record[0].to_vec(), tx.last_insert_rowid());
            } else {
                let parent = *ids.get(&record[2]).expect("parent before child");
                child
                    .execute(params![
                        parent,
                        text(&record[3]),
                        text(&record[0]),
                        minor,
                        currency,
                        text(&record[6]),
                        created,
                        now_ms,
                        opt(&record[10]),
                    ])
                    .expect("raw child");
            }
            rows += 1;
        }
    }
    tx.commit().expect("raw commit");
    (start.elapsed(), rows)
}

/// One finished child process: wall time, peak RSS (from `wait4`), exit code, output.
struct Run {
    wall: Duration,
    max_rss_kb: i64,
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn ok(&self) -> bool {
        self.code == 0
    }

    fn json(&self) -> Option<Value> {
        serde_json::from_str(&self.stdout).ok()
    }

    /// Why it failed, short, for the table.
    fn failure(&self) -> String {
        let detail = self
            .json()
            .and_then(|j| j.get("error").map(|e| e.to_string()))
            .or_else(|| {
                self.stderr
                    .lines()
                    .find(|l| !l.trim().is_empty())
                    .map(str::to_string)
            })
            .unwrap_or_default();
        let detail: String = detail.chars().take(160).collect();
        format!("exit {}: {}", self.code, detail.replace('|', "/"))
    }
}

/// Runs `cmd` with stdout to `out` (kept in the run unless `keep_stdout` is false: a CSV
/// dump), stderr to a file. The peak RSS is GNU time's `%M` (`/usr/bin/time` forks the
/// command from its own small process). Without it, `wait4`'s `ru_maxrss` of the child,
/// which is only an upper bound: std spawns through vfork, and Linux carries the spawning
/// process's high-water mark over the `execve` (this bench's own peak, 150 MB after the
/// raw import, showed up as the peak of a 1-second export).
// The child is reaped by wait4 (for its rusage), which clippy cannot see.
#[allow(clippy::zombie_processes)]
fn run(cmd: &mut Command, out: &Path, keep_stdout: bool) -> Run {
    let err_path = out.with_extension("stderr");
    let rss_path = out.with_extension("rss");
    let _ = std::fs::remove_file(&rss_path);
    let stdout = File::create(out).expect("stdout file");
    let stderr = File::create(&err_path).expect("stderr file");
    let gnu_time = Path::new("/usr/bin/time");
    let mut wrapped = Command::new(gnu_time);
    let cmd = if gnu_time.is_file() {
        wrapped
            .arg("-f")
            .arg("%M")
            .arg("-o")
            .arg(&rss_path)
            .arg(cmd.get_program())
            .args(cmd.get_args());
        for (key, value) in cmd.get_envs() {
            match value {
                Some(value) => wrapped.env(key, value),
                None => wrapped.env_remove(key),
            };
        }
        &mut wrapped
    } else {
        cmd
    };
    let start = Instant::now();
    let child = cmd
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain data; wait4 fills it for the child we spawned and reaps it
    // (std's Child does not wait on drop, so nothing else reaps this pid).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = start.elapsed();
    assert_eq!(reaped, pid, "wait4: {}", std::io::Error::last_os_error());
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        128 + libc::WTERMSIG(status)
    };
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    // GNU time writes "Command exited with non-zero status N" first when it did.
    let max_rss_kb = read(&rss_path)
        .lines()
        .filter_map(|l| l.trim().parse::<i64>().ok())
        .next_back()
        .unwrap_or(usage.ru_maxrss);
    Run {
        wall,
        max_rss_kb,
        code,
        stdout: if keep_stdout {
            read(out)
        } else {
            String::new()
        },
        stderr: read(&err_path),
    }
}

struct Bench {
    daftar: PathBuf,
    work: PathBuf,
}

impl Bench {
    /// `daftar --db DB --json ARGS...`, stdout kept as `<name>.json`.
    fn daftar(&self, db: &Path, name: &str, args: &[&str]) -> Run {
        eprintln!("run: daftar {}", args.join(" "));
        let mut cmd = Command::new(&self.daftar);
        cmd.arg("--db")
            .arg(db)
            .arg("--json")
            .args(args)
            .env("DAFTAR_LOG_DIR", self.work.join("logs"))
            .env_remove("DAFTAR_DB");
        let r = run(&mut cmd, &self.work.join(format!("{name}.json")), true);
        eprintln!(
            "  exit {}, {:.2} s, peak RSS {} MB",
            r.code,
            r.wall.as_secs_f64(),
            r.max_rss_kb / 1024
        );
        r
    }

    fn path(&self, name: &str) -> PathBuf {
        self.work.join(name)
    }
}

/// What `sqlite3 -csv` dumps as the baseline of `daftar export ledger --format csv`: the
/// same columns from the same file, computed the same way (one row per payment, oldest
/// first, its captured/refunded/voided/pending balances from its children and unfinished
/// operations), amounts as decimal text at the currency's scale, times as ISO 8601 UTC.
/// Only the closing totals rows are left out.
const SQLITE_EXPORT_SQL: &str = "
SELECT session_id AS \"Session ID\", order_no AS \"Order No\", profile AS \"Profile\",
  strftime('%Y-%m-%dT%H:%M:%SZ', created_at_ms / 1000, 'unixepoch') AS \"Created\",
  state AS \"State\", currency AS \"Currency\",
  printf('%.*f', d, amount_minor / sc) AS \"Amount\",
  printf('%.*f', d, (CASE WHEN state IN ('paid', 'refunded') THEN amount_minor
                          ELSE captured END) / sc) AS \"Paid\",
  printf('%.*f', d, captured / sc) AS \"Captured Amount\",
  printf('%.*f', d, refunded / sc) AS \"Refunded Amount\",
  printf('%.*f', d, voided / sc) AS \"Voided Amount\",
  printf('%.*f', d, pending / sc) AS \"Pending\",
  pg_code AS \"Payment Gateway\", reference_number AS \"Reference Number\",
  customer_email AS \"Customer Email\", customer_phone AS \"Customer Phone\",
  customer_reference AS \"Customer Reference\", source AS \"Source\",
  NULL AS \"Fees\"
FROM (
  SELECT p.*, pr.name AS profile,
    CASE p.currency WHEN 'KWD' THEN 3 WHEN 'BHD' THEN 3 WHEN 'OMR' THEN 3 WHEN 'JOD' THEN 3
      ELSE 2 END AS d,
    CASE p.currency WHEN 'KWD' THEN 1000.0 WHEN 'BHD' THEN 1000.0 WHEN 'OMR' THEN 1000.0
      WHEN 'JOD' THEN 1000.0 ELSE 100.0 END AS sc,
    COALESCE((SELECT SUM(amount_minor) FROM children c
      WHERE c.payment_id = p.id AND c.kind = 'capture' AND c.state = 'paid'), 0) AS captured,
    COALESCE((SELECT SUM(amount_minor) FROM children c
      WHERE c.payment_id = p.id AND c.kind = 'refund'
        AND c.state IN ('refunded', 'refund_queued')), 0) AS refunded,
    COALESCE((SELECT SUM(amount_minor) FROM children c
      WHERE c.payment_id = p.id AND c.kind = 'void' AND c.state = 'voided'), 0) AS voided,
    COALESCE((SELECT SUM(reserved_minor) FROM operations o
      WHERE o.payment_id = p.id
        AND o.status IN ('queued', 'in_flight', 'needs_attention', 'blocked')), 0) AS pending
  FROM payments p JOIN profiles pr ON pr.id = p.profile_id
  WHERE p.hidden = 0
  ORDER BY p.created_at_ms, p.id);";

fn sqlite3_dump(db: &Path, out: &Path) -> Option<(Run, u64)> {
    let exe = which("sqlite3")?;
    eprintln!("run: sqlite3 -csv -header (same columns)");
    let mut cmd = Command::new(exe);
    cmd.arg("-csv")
        .arg("-header")
        .arg(db)
        .arg(SQLITE_EXPORT_SQL);
    let r = run(&mut cmd, out, false);
    let rows = count_lines(out).saturating_sub(1);
    eprintln!(
        "  exit {}, {:.2} s, {rows} rows",
        r.code,
        r.wall.as_secs_f64()
    );
    Some((r, rows))
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

fn count_lines(path: &Path) -> u64 {
    let file = BufReader::with_capacity(1 << 20, File::open(path).expect("open dump"));
    file.split(b'\n').count() as u64
}

/// Per currency and state, the payments' count and sum; per currency, kind and state, the
/// children's: computed in SQL, independently of the product's totals.
fn sql_sums(db: &Path) -> Vec<String> {
    let conn = Connection::open(db).expect("open for sums");
    let mut out = Vec::new();
    for sql in [
        "SELECT 'payments', currency, state, count(*), sum(amount_minor) FROM payments
         WHERE hidden = 0 GROUP BY currency, state ORDER BY 2, 3",
        "SELECT 'children ' || c.kind, c.currency, c.state, count(*), sum(c.amount_minor)
         FROM children c JOIN payments p ON p.id = c.payment_id WHERE p.hidden = 0
         GROUP BY c.kind, c.currency, c.state ORDER BY 1, 2, 3",
    ] {
        let mut stmt = conn.prepare(sql).expect("sums");
        let rows = stmt
            .query_map([], |r| {
                Ok(format!(
                    "{} {} {}: {} rows, {} minor",
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, i64>(4)?
                ))
            })
            .expect("sums");
        out.extend(rows.map(|r| r.expect("sum row")));
    }
    out
}

/// How many rejects a summary lists (all of them when under `IMPORT_MAX_LISTED`).
fn listed(summary: &Value) -> u64 {
    summary
        .get("rejected")
        .and_then(Value::as_array)
        .map_or(0, |l| l.len() as u64)
}

fn count(db: &Path, table: &str) -> u64 {
    let conn = Connection::open(db).expect("open for count");
    conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| {
        r.get::<_, i64>(0)
    })
    .expect("count") as u64
}

/// A summary's `totals`, sorted by currency, for comparing two outputs.
fn totals(summary: &Value) -> Option<Vec<Value>> {
    let mut list = summary.get("totals")?.as_array()?.clone();
    list.sort_by_key(|t| t.get("currency").map(|c| c.to_string()).unwrap_or_default());
    Some(list)
}

fn totals_text(totals: &[Value]) -> String {
    totals
        .iter()
        .map(|t| {
            let field = |k: &str| t.get(k).and_then(Value::as_str).unwrap_or("-").to_string();
            format!(
                "{} paid {} refunded {} voided {}",
                field("currency"),
                field("paid"),
                field("refunded"),
                field("voided")
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

struct Row {
    metric: String,
    target: String,
    measured: String,
    result: String,
}

#[derive(Default)]
struct Table {
    rows: Vec<Row>,
    failures: Vec<String>,
}

impl Table {
    fn info(&mut self, metric: impl Into<String>, measured: impl Into<String>) {
        self.rows.push(Row {
            metric: metric.into(),
            target: "—".into(),
            measured: measured.into(),
            result: "info".into(),
        });
    }

    /// A speed or memory target: a miss shows as FAIL in the table, the run goes on.
    fn target(
        &mut self,
        metric: impl Into<String>,
        target: impl Into<String>,
        measured: impl Into<String>,
        pass: bool,
        aim: bool,
    ) {
        self.rows.push(Row {
            metric: metric.into(),
            target: target.into(),
            measured: measured.into(),
            result: match (pass, aim) {
                (true, true) => "pass (aim met)".into(),
                (true, false) => "pass".into(),
                (false, _) => "**FAIL**".into(),
            },
        });
    }

    /// A correctness check: a miss fails the run.
    fn check(&mut self, metric: impl Into<String>, measured: impl Into<String>, ok: bool) {
        let metric = metric.into();
        let measured = measured.into();
        if !ok {
            self.failures.push(format!("{metric}: {measured}"));
        }
        self.rows.push(Row {
            metric,
            target: "holds".into(),
            measured,
            result: if ok { "pass".into() } else { "**FAIL**".into() },
        });
    }

    fn stage_failed(&mut self, metric: impl Into<String>, run: &Run) {
        self.check(metric, run.failure(), false);
    }
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn rate(rows: u64, d: Duration) -> f64 {
    rows as f64 / d.as_secs_f64().max(1e-9)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn mb_kb(kb: i64) -> String {
    format!("{:.0} MB", kb as f64 / 1024.0)
}

fn file_mb(path: &Path) -> String {
    let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    format!("{:.1} MB", len as f64 / 1e6)
}

struct Config {
    rows: usize,
    daftar: PathBuf,
    repeat: usize,
    only: Option<Vec<String>>,
    work: Option<PathBuf>,
}

impl Config {
    fn from_args() -> Config {
        let mut rows = match std::env::var("DAFTAR_BENCH_MONTH_END_ROWS") {
            Ok(text) => Some(parse_rows(&text)),
            Err(_) => None,
        };
        let mut daftar = std::env::var_os("DAFTAR_BIN").map(PathBuf::from);
        let mut repeat = None;
        let mut only = None;
        let mut work = None;
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            let mut value = || args.next().unwrap_or_else(|| panic!("{arg} needs a value"));
            match arg.as_str() {
                "--rows" => rows = Some(parse_rows(&value())),
                "--daftar" => daftar = Some(PathBuf::from(value())),
                "--repeat" => repeat = Some(value().parse().expect("--repeat N")),
                "--only" => only = Some(value().split(',').map(str::to_string).collect::<Vec<_>>()),
                "--work" => work = Some(PathBuf::from(value())),
                // What cargo passes to a harness-less bench or test binary.
                "--bench" | "--nocapture" | "--quiet" | "-q" => {}
                other => panic!(
                    "unknown argument {other}: --rows N, --daftar PATH, --repeat N, --only STAGES, --work DIR"
                ),
            }
        }
        let rows = rows.unwrap_or(DEFAULT_ROWS);
        Config {
            rows,
            daftar: daftar.unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_daftar"))),
            repeat: repeat.unwrap_or(if rows >= 100_000 { 3 } else { 1 }),
            only,
            work,
        }
    }

    fn runs(&self, stage: &str) -> bool {
        self.only
            .as_ref()
            .is_none_or(|list| list.iter().any(|s| s == stage))
    }
}

fn parse_rows(text: &str) -> usize {
    text.replace(['_', ','], "")
        .parse()
        .ok()
        .filter(|&n| n >= 100)
        .unwrap_or_else(|| panic!("rows must be a number >= 100, got '{text}'"))
}

fn shell(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

fn main() {
    let config = Config::from_args();
    let n = config.rows;
    let temp;
    let work = match &config.work {
        Some(dir) => {
            std::fs::create_dir_all(dir).expect("work dir");
            dir.clone()
        }
        None => {
            temp = tempfile::Builder::new()
                .prefix("daftar-month-end-")
                .tempdir_in("/tmp")
                .expect("temp dir");
            temp.path().to_path_buf()
        }
    };
    assert!(
        config.daftar.is_file(),
        "no daftar binary at {} (build it, or pass --daftar / DAFTAR_BIN)",
        config.daftar.display()
    );
    let bench = Bench {
        daftar: config.daftar.clone(),
        work: work.clone(),
    };
    let load_start = loadavg();
    let started = Instant::now();
    eprintln!("month-end bench: {n} payments under {}", work.display());
    let mut table = Table::default();

    // Setup: the ledger and the report of the same month.
    let ledger = bench.path("ledger.sqlite3");
    let report = bench.path("report.csv");
    fresh_ledger(&ledger);
    let t = Instant::now();
    let g = generate(&ledger, &report, n);
    table.info(
        format!(
            "setup: ledger of {} payments + {} children, plain rusqlite, one transaction",
            thousands(g.payments as f64),
            thousands(g.children as f64)
        ),
        format!("{} ({})", secs(t.elapsed()), file_mb(&ledger)),
    );
    table.info(
        "setup: Ottu-shaped report CSV (English labels, Arabic names, CRLF)",
        format!(
            "{} rows ({} payments, {} refund/void rows; {} amount and {} state differences, {} ledger-only, {} report-only planted), {}",
            thousands(g.report_rows as f64),
            thousands(g.report_parents as f64),
            thousands(g.report_children as f64),
            g.amount_differs,
            g.state_differs,
            g.ledger_only,
            g.report_only,
            file_mb(&report)
        ),
    );

    // (b) CSV export next to sqlite3 -csv, interleaved (sqlite3 first: neither gets a
    // warmer page cache than the other after the first pair).
    let export_csv = bench.path("export.csv");
    let mut export_json: Option<Value> = None;
    if config.runs("export") {
        let mut ours = Vec::new();
        let mut theirs = Vec::new();
        let mut rows = 0;
        let mut sqlite_rows = 0;
        let mut failed = None;
        let mut sqlite_failed = None;
        let mut rss = 0;
        let sqlite_csv = bench.path("sqlite3.csv");
        for _ in 0..config.repeat {
            if let Some((s, lines)) = sqlite3_dump(&ledger, &sqlite_csv) {
                if s.ok() {
                    theirs.push(s.wall);
                    sqlite_rows = lines;
                } else {
                    sqlite_failed = Some(s.failure());
                }
            }
            if failed.is_some() {
                continue;
            }
            let r = bench.daftar(
                &ledger,
                "export-csv",
                &[
                    "export",
                    "ledger",
                    "--format",
                    "csv",
                    "-o",
                    export_csv.to_str().unwrap(),
                ],
            );
            if !r.ok() {
                failed = Some(r);
                continue;
            }
            let j = r.json().unwrap_or(Value::Null);
            rows = j.get("rows").and_then(Value::as_u64).unwrap_or(0);
            export_json = Some(j);
            ours.push(r.wall);
            rss = rss.max(r.max_rss_kb);
        }
        let our_rate = if let Some(r) = &failed {
            table.stage_failed("(b) CSV export `daftar export ledger --format csv`", r);
            None
        } else {
            let ours = median(ours);
            let our_rate = rate(rows, ours);
            table.info(
                format!(
                    "(b) CSV export, `daftar export ledger --format csv` (median of {})",
                    config.repeat
                ),
                format!(
                    "{} rows/s ({} rows in {}, {}, peak RSS {})",
                    thousands(our_rate),
                    thousands(rows as f64),
                    secs(ours),
                    file_mb(&export_csv),
                    mb_kb(rss)
                ),
            );
            table.check(
                "(b) CSV export: one row per payment",
                format!("{rows} rows, {} payments", g.payments),
                rows == g.payments,
            );
            Some(our_rate)
        };
        if let Some(why) = sqlite_failed {
            table.check("(b) `sqlite3 -csv` baseline", why, false);
        } else if theirs.is_empty() {
            table.info(
                "(b) `sqlite3 -csv` baseline",
                "sqlite3 not installed: skipped",
            );
        } else {
            let theirs = median(theirs);
            let their_rate = rate(sqlite_rows, theirs);
            table.info(
                format!(
                    "(b) `sqlite3 -csv -header`, same columns, same file (median of {})",
                    config.repeat
                ),
                format!(
                    "{} rows/s ({} rows in {}, {})",
                    thousands(their_rate),
                    thousands(sqlite_rows as f64),
                    secs(theirs),
                    file_mb(&sqlite_csv)
                ),
            );
            table.check(
                "(b) `sqlite3 -csv`: one row per payment",
                format!("{sqlite_rows} rows, {} payments", g.payments),
                sqlite_rows == g.payments,
            );
            if let Some(our_rate) = our_rate {
                let ratio = our_rate / their_rate;
                table.target(
                    "(b) ratio daftar / sqlite3 (rows/s)",
                    "≥ 1.0× (aim 2×)",
                    format!("{ratio:.2}×"),
                    ratio >= 1.0,
                    ratio >= 2.0,
                );
            }
        }
    }

    // (c) XLSX export: time and peak memory.
    if config.runs("xlsx") {
        let xlsx = bench.path("export.xlsx");
        let r = bench.daftar(
            &ledger,
            "export-xlsx",
            &[
                "export",
                "ledger",
                "--format",
                "xlsx",
                "-o",
                xlsx.to_str().unwrap(),
            ],
        );
        if r.ok() {
            let rows = r
                .json()
                .and_then(|j| j.get("rows").and_then(Value::as_u64))
                .unwrap_or(0);
            table.info(
                "(c) XLSX export, `daftar export ledger --format xlsx`",
                format!(
                    "{} ({} rows/s, {})",
                    secs(r.wall),
                    thousands(rate(rows, r.wall)),
                    file_mb(&xlsx)
                ),
            );
            let mb = r.max_rss_kb as f64 / 1024.0;
            table.target(
                "(c) XLSX export peak RSS",
                "< 300 MB (aim 100 MB)",
                mb_kb(r.max_rss_kb),
                mb < 300.0,
                mb < 100.0,
            );
            table.check(
                "(c) XLSX export: one row per payment",
                format!("{rows} rows, {} payments", g.payments),
                rows == g.payments,
            );
        } else {
            table.stage_failed("(c) XLSX export", &r);
        }
    }

    // (d) report import into a fresh ledger next to the raw insert of the same rows.
    if config.runs("import") {
        let raw_db = bench.path("raw-import.sqlite3");
        eprintln!("run: raw rusqlite import of the report");
        let (raw_wall, raw_rows) = raw_import(&raw_db, &report);
        eprintln!("  {:.2} s, {raw_rows} rows", raw_wall.as_secs_f64());
        assert_eq!(raw_rows, g.report_rows, "raw baseline rows");
        let imported_db = bench.path("imported.sqlite3");
        fresh_ledger(&imported_db);
        let r = bench.daftar(
            &imported_db,
            "import-report",
            &[
                "import-report",
                "--profile",
                PROFILE,
                report.to_str().unwrap(),
                "--commit",
            ],
        );
        let raw_rate = rate(raw_rows, raw_wall);
        if r.ok() {
            let j = r.json().unwrap_or(Value::Null);
            let num = |k: &str| j.get(k).and_then(Value::as_u64).unwrap_or(0);
            let rows = num("rows");
            let our_rate = rate(rows, r.wall);
            table.info(
                "(d) report import, `daftar import-report --commit`, fresh ledger",
                format!(
                    "{} rows/s ({} rows in {}, peak RSS {}; added {}, rejected {})",
                    thousands(our_rate),
                    thousands(rows as f64),
                    secs(r.wall),
                    mb_kb(r.max_rss_kb),
                    thousands(num("added_count") as f64),
                    num("rejected_count")
                ),
            );
            table.info(
                "(d) raw rusqlite: csv crate + prepared INSERT, one transaction, same tables",
                format!(
                    "{} rows/s ({} rows in {})",
                    thousands(raw_rate),
                    thousands(raw_rows as f64),
                    secs(raw_wall)
                ),
            );
            let ratio = our_rate / raw_rate;
            table.target(
                "(d) ratio daftar / raw (rows/s)",
                "≥ 0.5× (aim 0.8×)",
                format!("{ratio:.2}×"),
                ratio >= 0.5,
                ratio >= 0.8,
            );
            let (payments, children) = (
                count(&imported_db, "payments"),
                count(&imported_db, "children"),
            );
            table.check(
                "(d) imported: every row, none rejected (payments, children, rejects)",
                format!(
                    "{payments}/{} payments, {children}/{} children, {} rejected",
                    g.report_parents,
                    g.report_children,
                    num("rejected_count")
                ),
                rows == g.report_rows
                    && payments == g.report_parents
                    && children == g.report_children
                    && num("rejected_count") == 0,
            );
        } else {
            table.stage_failed("(d) report import", &r);
            table.info(
                "(d) raw rusqlite: csv crate + prepared INSERT, one transaction, same tables",
                format!("{} rows/s ({})", thousands(raw_rate), secs(raw_wall)),
            );
        }
    }

    // (e) reconcile the ledger against the report.
    if config.runs("reconcile") {
        let r = bench.daftar(
            &ledger,
            "reconcile",
            &[
                "reconcile",
                "--profile",
                PROFILE,
                "--report",
                report.to_str().unwrap(),
            ],
        );
        if r.ok() {
            let j = r.json().unwrap_or(Value::Null);
            let metric = format!(
                "(e) `daftar reconcile --report`, {} ledger payments vs {} report rows",
                thousands(n as f64),
                thousands(g.report_rows as f64)
            );
            let measured = format!("{} (peak RSS {})", secs(r.wall), mb_kb(r.max_rss_kb));
            if n == DEFAULT_ROWS {
                table.target(
                    metric,
                    "< 30 s",
                    measured,
                    r.wall.as_secs_f64() < 30.0,
                    false,
                );
            } else {
                // The target is for 1,000,000 rows; a smaller run is mostly process start.
                table.info(
                    metric,
                    format!("{measured}; the 30 s target is for 1,000,000"),
                );
            }
            // Counts per class over the currencies.
            let mut classes: Vec<(String, u64)> = Vec::new();
            for c in j
                .get("classes")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let name = c
                    .get("class")
                    .and_then(Value::as_str)
                    .unwrap_or("?")
                    .to_string();
                let k = c.get("count").and_then(Value::as_u64).unwrap_or(0);
                match classes.iter_mut().find(|(n, _)| *n == name) {
                    Some((_, total)) => *total += k,
                    None => classes.push((name, k)),
                }
            }
            let class = |name: &str| {
                classes
                    .iter()
                    .find(|(n, _)| n == name)
                    .map_or(0, |(_, k)| *k)
            };
            table.info(
                "(e) classes",
                classes
                    .iter()
                    .map(|(n, k)| format!("{n} {k}"))
                    .collect::<Vec<_>>()
                    .join(", "),
            );
            table.check(
                "(e) planted ledger-only / report-only / amount differences found",
                format!(
                    "ledger_only {}/{}, report_only {}/{}, amount_differs {}/{}",
                    class("ledger_only"),
                    g.ledger_only,
                    class("report_only"),
                    g.report_only,
                    class("amount_differs"),
                    g.amount_differs
                ),
                class("ledger_only") == g.ledger_only
                    && class("report_only") == g.report_only
                    && class("amount_differs") == g.amount_differs,
            );
        } else {
            table.stage_failed("(e) reconcile", &r);
        }
    }

    // (f) round trip: the ledger's CSV exports (payments with their balances, then the
    // refund and void transactions) imported into a fresh ledger, exported again.
    if config.runs("roundtrip") {
        let ops_csv = bench.path("export-operations.csv");
        let first = match export_json.take() {
            Some(j) => Some(j),
            None => {
                let r = bench.daftar(
                    &ledger,
                    "export-csv",
                    &[
                        "export",
                        "ledger",
                        "--format",
                        "csv",
                        "-o",
                        export_csv.to_str().unwrap(),
                    ],
                );
                if r.ok() {
                    r.json()
                } else {
                    table.stage_failed("(f) round trip: export ledger", &r);
                    None
                }
            }
        };
        let ops = bench.daftar(
            &ledger,
            "export-operations",
            &[
                "export",
                "operations",
                "--format",
                "csv",
                "-o",
                ops_csv.to_str().unwrap(),
            ],
        );
        if !ops.ok() {
            table.stage_failed("(f) round trip: export operations", &ops);
        }
        if let (Some(first), true) = (first, ops.ok()) {
            let ops_json = ops.json().unwrap_or(Value::Null);
            let trip_db = bench.path("roundtrip.sqlite3");
            fresh_ledger(&trip_db);
            let mut imported = Vec::new();
            for (name, file, export) in [
                ("roundtrip-import-ledger", &export_csv, &first),
                ("roundtrip-import-operations", &ops_csv, &ops_json),
            ] {
                let imp = bench.daftar(
                    &trip_db,
                    name,
                    &[
                        "import-report",
                        "--profile",
                        PROFILE,
                        file.to_str().unwrap(),
                        "--commit",
                    ],
                );
                if !imp.ok() {
                    table.stage_failed(format!("(f) round trip: {name}"), &imp);
                    break;
                }
                let j = imp.json().unwrap_or(Value::Null);
                let num = |k: &str| j.get(k).and_then(Value::as_u64).unwrap_or(0);
                // The exports end with `total` rows (one per currency), after the data
                // rows: the only rows an import may reject.
                let data_rows = export.get("rows").and_then(Value::as_u64).unwrap_or(0);
                let stray: Vec<String> = j
                    .get("rejected")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter(|r| r.get("line").and_then(Value::as_u64).unwrap_or(0) <= data_rows + 1)
                    .map(|r| r.to_string())
                    .collect();
                table.info(
                    format!(
                        "(f) round trip: `import-report --commit` of {}",
                        file.file_name().unwrap().to_string_lossy()
                    ),
                    format!(
                        "{} ({} rows/s, peak RSS {}; {} rows, added {}, updated {}, rejected {})",
                        secs(imp.wall),
                        thousands(rate(num("rows"), imp.wall)),
                        mb_kb(imp.max_rss_kb),
                        thousands(num("rows") as f64),
                        thousands(num("added_count") as f64),
                        thousands(num("updated_count") as f64),
                        num("rejected_count"),
                    ),
                );
                table.check(
                    format!(
                        "(f) round trip: no data row of {} rejected (only the totals rows)",
                        file.file_name().unwrap().to_string_lossy()
                    ),
                    if stray.is_empty() {
                        format!(
                            "{} rejected, all after the data rows",
                            num("rejected_count")
                        )
                    } else {
                        format!("{} data rows rejected, e.g. {}", stray.len(), stray[0])
                    },
                    stray.is_empty() && listed(&j) == num("rejected_count"),
                );
                imported.push(j);
            }
            if imported.len() == 2 {
                let again_csv = bench.path("roundtrip-export.csv");
                let again = bench.daftar(
                    &trip_db,
                    "roundtrip-export",
                    &[
                        "export",
                        "ledger",
                        "--format",
                        "csv",
                        "-o",
                        again_csv.to_str().unwrap(),
                    ],
                );
                if !again.ok() {
                    table.stage_failed("(f) round trip: export of the new ledger", &again);
                } else {
                    let second = again.json().unwrap_or(Value::Null);
                    let (t1, t2) = (totals(&first), totals(&second));
                    table.check(
                        "(f) round trip: totals per currency of `export ledger`, before = after",
                        match (&t1, &t2) {
                            (Some(a), Some(b)) if a == b => totals_text(a),
                            (Some(a), Some(b)) => {
                                format!("before {} / after {}", totals_text(a), totals_text(b))
                            }
                            _ => "no totals in an export's JSON".into(),
                        },
                        t1.is_some() && t1 == t2,
                    );
                    let (s1, s2) = (sql_sums(&ledger), sql_sums(&trip_db));
                    let differ: Vec<String> = s1
                        .iter()
                        .filter(|l| !s2.contains(l))
                        .map(|l| format!("ledger {l}"))
                        .chain(
                            s2.iter()
                                .filter(|l| !s1.contains(l))
                                .map(|l| format!("round trip {l}")),
                        )
                        .collect();
                    table.check(
                        "(f) round trip: SQL count and sum per currency and state (payments, refunds, voids), both files",
                        if differ.is_empty() {
                            format!("{} groups equal", s1.len())
                        } else {
                            format!(
                                "{} groups differ, e.g. {}",
                                differ.len(),
                                differ.iter().take(3).cloned().collect::<Vec<_>>().join("; ")
                            )
                        },
                        differ.is_empty(),
                    );
                    if !differ.is_empty() {
                        eprintln!("SQL sums differ:\n  {}", differ.join("\n  "));
                    }
                    // The import's own totals of the ledger export's rows are those of
                    // the payments alone (no children in that file): shown, not checked.
                    if let Some(ti) = totals(&imported[0]) {
                        table.info(
                            "(f) round trip: totals in the import's JSON (ledger file)",
                            totals_text(&ti),
                        );
                    }
                }
            }
        }
    }

    let commit = shell("git", &["rev-parse", "--short", "HEAD"]).unwrap_or_else(|| "?".into());
    let dirty = shell("git", &["status", "--porcelain", "--untracked-files=no"])
        .is_some_and(|s| !s.is_empty());
    let sqlite3 = which("sqlite3")
        .and_then(|p| shell(p.to_str()?, &["--version"]))
        .map(|v| v.split_whitespace().next().unwrap_or("").to_string())
        .unwrap_or_else(|| "not installed".into());
    println!(
        "Month-end benchmark: {} payments, commit `{commit}`{}, daftar `{}`, sqlite3 {sqlite3}, {} cores, load average {} at the start and {} at the end, {:.0} s in all.\n",
        thousands(n as f64),
        if dirty {
            " (+ uncommitted changes)"
        } else {
            ""
        },
        config.daftar.display(),
        std::thread::available_parallelism().map_or(0, |p| p.get()),
        load_start,
        loadavg(),
        started.elapsed().as_secs_f64()
    );
    println!("| Metric | Target | Measured | Result |");
    println!("|---|---|---|---|");
    for row in &table.rows {
        println!(
            "| {} | {} | {} | {} |",
            row.metric, row.target, row.measured, row.result
        );
    }
    if config.work.is_some() {
        eprintln!("files kept in {}", work.display());
    }
    if !table.failures.is_empty() {
        eprintln!("month-end bench FAILED:");
        for f in &table.failures {
            eprintln!("  {f}");
        }
        std::process::exit(1);
    }
}
