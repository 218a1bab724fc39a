//! Settlement files: import (clean, the same file twice adds nothing, rejects exact with
//! their line numbers and the rejects file) and matching with the ledger (lag across a
//! weekend, fees, a refund line, an unknown line, a paid payment not settled, an amount
//! that differs, the window), through the facade and the CLI's `--json`.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::Cli;
use daftar::Ledger;
use daftar::ledger::PaymentInput;
use daftar::settlement::{SettlementImportRequest, SettlementMatchRequest, SettlementReport};
use daftar::sources::{FixedClock, SequentialKeys};
use daftar::store::Store;
use rusqlite::params;
use serde_json::Value;

/// 2026-01-15T00:00:00Z: every December window has passed.
const NOW_MS: i64 = 1_768_435_200_000;

/// Unix ms of a UTC time `YYYY-MM-DDTHH:MM`.
fn at(text: &str) -> i64 {
    let t = time::PrimitiveDateTime::parse(
        text,
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]"),
    )
    .unwrap();
    t.assume_utc().unix_timestamp() * 1000
}

/// The acquirer's file of the scenario below (2025-12-04 is a Thursday).
const FILE: &str = "\
Order No,RRN,Amount,Fee,Net Amount,Currency,Settlement Date
ORD-1,RRN-1,10.000,0.150,9.850,KWD,2025-12-02
ORD-2,RRN-2,20.000,0.300,19.700,KWD,2025-12-09
ORD-3,,4.500,0.068,4.432,KWD,2025-12-03
ORD-5,RRN-5,8.000,0.120,7.880,KWD,2025-12-15
ORD-6,RRN-6,3.000,0.045,2.955,KWD,2025-12-10
ORD-1,RRN-1R,-2.000,0.000,-2.000,KWD,2025-12-04
ORD-X,RRN-X,7.250,0.109,7.141,KWD,2025-12-07
";

struct Env {
    ledger: Ledger,
    dir: tempfile::TempDir,
}

impl Env {
    /// Profile `shop` (KWD) with:
    /// - ORD-1 paid 10.000 Mon 12-01, ref RRN-1; its refund 2.000 Wed 12-03, ref RRN-1R;
    /// - ORD-2 paid 20.000 Thu 12-04, ref RRN-2 (settled Tue 12-09: 3 business days);
    /// - ORD-3 paid 5.000 Tue 12-02, no reference (settled 4.500 by order number);
    /// - ORD-4 paid 7.000 Mon 12-01, ref RRN-4 (no line: not settled);
    /// - ORD-5 paid 8.000 Mon 12-08, ref RRN-5 (settled Mon 12-15: 5 business days);
    /// - ORD-6 failed 3.000 Tue 12-02, ref RRN-6 (a line anyway: not paid).
    fn new() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("ledger.sqlite3")).unwrap();
        let mut ledger = Ledger::with_sources(
            store,
            Arc::new(FixedClock::new(NOW_MS)),
            Arc::new(SequentialKeys::new()),
            "test:settlement",
        );
        ledger
            .add_profile("shop", "https://shop.ottu.net", "KWD")
            .unwrap();
        let mut env = Env { ledger, dir };
        env.payment(
            "s1",
            "ORD-1",
            "10.000",
            "paid",
            "2025-12-01T10:00",
            Some("RRN-1"),
        );
        env.payment(
            "s2",
            "ORD-2",
            "20.000",
            "paid",
            "2025-12-04T09:00",
            Some("RRN-2"),
        );
        env.payment("s3", "ORD-3", "5.000", "paid", "2025-12-02T12:00", None);
        env.payment(
            "s4",
            "ORD-4",
            "7.000",
            "paid",
            "2025-12-01T08:00",
            Some("RRN-4"),
        );
        env.payment(
            "s5",
            "ORD-5",
            "8.000",
            "paid",
            "2025-12-08T11:00",
            Some("RRN-5"),
        );
        env.payment(
            "s6",
            "ORD-6",
            "3.000",
            "failed",
            "2025-12-02T13:00",
            Some("RRN-6"),
        );
        env.refund("s1", "s1r", 2_000, "refunded", "2025-12-03T09:00", "RRN-1R");
        env
    }

    fn conn(&mut self) -> &mut rusqlite::Connection {
        self.ledger.store().connection()
    }

    fn payment(
        &mut self,
        session: &str,
        order: &str,
        amount: &str,
        state: &str,
        created: &str,
        reference: Option<&str>,
    ) {
        self.ledger
            .add_payment(&PaymentInput {
                profile: "shop".into(),
                session_id: session.into(),
                order_no: Some(order.into()),
                amount: amount.into(),
                currency: "KWD".into(),
                state: state.into(),
            })
            .unwrap();
        self.conn()
            .execute(
                "UPDATE payments SET created_at_ms = ?1, reference_number = ?2 WHERE session_id = ?3",
                params![at(created), reference, session],
            )
            .unwrap();
    }

    fn refund(
        &mut self,
        parent: &str,
        session: &str,
        amount_minor: i64,
        state: &str,
        created: &str,
        reference: &str,
    ) {
        self.conn()
            .execute(
                "INSERT INTO children (payment_id, kind, session_id, amount_minor, currency, state,
                     created_at_ms, updated_at_ms, reference_number)
                 SELECT id, 'refund', ?2, ?3, 'KWD', ?4, ?5, ?5, ?6 FROM payments WHERE session_id = ?1",
                params![parent, session, amount_minor, state, at(created), reference],
            )
            .unwrap();
    }

    fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn import(&mut self, path: &Path, commit: bool) -> daftar::settlement::SettlementImportSummary {
        self.ledger
            .settlement_import(&SettlementImportRequest {
                profile: "shop".into(),
                path: path.to_path_buf(),
                map: Vec::new(),
                commit,
                rejects_path: None,
            })
            .unwrap()
    }

    fn lines(&mut self) -> i64 {
        self.conn()
            .query_row("SELECT COUNT(*) FROM settlement_lines", [], |r| r.get(0))
            .unwrap()
    }

    fn events(&mut self) -> i64 {
        self.conn()
            .query_row(
                "SELECT COUNT(*) FROM events WHERE action = 'settlement.imported'",
                [],
                |r| r.get(0),
            )
            .unwrap()
    }

    fn matched(&mut self, window: Option<u32>) -> SettlementReport {
        self.ledger
            .settlement_match(&SettlementMatchRequest {
                profile: "shop".into(),
                window_days: window,
                ..SettlementMatchRequest::default()
            })
            .unwrap()
    }
}

#[test]
fn import_dry_run_then_commit_then_again_adds_nothing() {
    let mut env = Env::new();
    let path = env.file("settlement.csv", FILE);

    let dry = env.import(&path, false);
    assert!(!dry.committed);
    assert_eq!((dry.rows, dry.added_count, dry.duplicate_count), (7, 7, 0));
    assert_eq!(dry.rejected_count, 0);
    assert_eq!(dry.rejects_file, None);
    assert_eq!(dry.format, "csv");
    let fields: Vec<Option<&str>> = dry.columns.iter().map(|c| c.field.as_deref()).collect();
    assert_eq!(
        fields,
        [
            Some("order_no"),
            Some("reference"),
            Some("amount"),
            Some("fee"),
            Some("net"),
            Some("currency"),
            Some("settled_on")
        ]
    );
    assert_eq!(dry.totals.len(), 1);
    let t = &dry.totals[0];
    assert_eq!(
        (
            t.currency.as_str(),
            t.settled.as_str(),
            t.refunds.as_str(),
            t.fees.as_deref(),
            t.net.as_str()
        ),
        ("KWD", "52.750", "2.000", Some("0.792"), "49.958")
    );
    assert_eq!(env.lines(), 0, "a dry run writes nothing");
    assert_eq!(env.events(), 0);

    let committed = env.import(&path, true);
    assert!(committed.committed);
    assert_eq!((committed.added_count, committed.duplicate_count), (7, 0));
    assert_eq!(env.lines(), 7);
    assert_eq!(env.events(), 1);
    let (amount, fee, net, day, line): (i64, Option<i64>, Option<i64>, String, i64) = env
        .conn()
        .query_row(
            "SELECT amount_minor, fee_minor, net_minor, settled_on, line FROM settlement_lines
             WHERE reference = 'RRN-1R'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .unwrap();
    assert_eq!(
        (amount, fee, net, day.as_str(), line),
        (-2_000, Some(0), Some(-2_000), "2025-12-04", 7)
    );

    // The same file again (and a copy under another name): nothing added, no event.
    let again = env.import(&path, true);
    assert_eq!((again.added_count, again.duplicate_count), (0, 7));
    let copy = env.file("copy.csv", FILE);
    let copied = env.import(&copy, true);
    assert_eq!((copied.added_count, copied.duplicate_count), (0, 7));
    assert_eq!(env.lines(), 7);
    assert_eq!(env.events(), 1);
}

#[test]
fn rejects_are_exact_with_line_numbers_and_a_rejects_file() {
    let mut env = Env::new();
    let path = env.file(
        "bad.csv",
        "Order No,RRN,Amount,Currency,Settlement Date\r\n\
         ORD-1,RRN-1,abc,KWD,2025-12-02\r\n\
         ORD-1,RRN-1,1.000,XYZ,2025-12-02\r\n\
         ORD-1,RRN-1,1.000,KWD,31/13/2025\r\n\
         ,,1.000,KWD,2025-12-02\r\n\
         ORD-9,RRN-9,1.000,KWD,2025-12-02\r\n\
         ORD-9,RRN-9,1.000,KWD,2025-12-02\r\n\
         ORD-8,RRN-8,1.0001,KWD,2025-12-02\r\n\
         ORD-7,RRN-7,\"1,250.500\",kwd,02/12/2025\r\n\
         ORD-0,RRN-0,0.000,KWD,2025-12-02\r\n",
    );
    let summary = env.import(&path, true);
    let rejects: Vec<(u64, &str, Option<&str>)> = summary
        .rejected
        .iter()
        .map(|r| (r.line, r.code.as_str(), r.field.as_deref()))
        .collect();
    assert_eq!(
        rejects,
        [
            (2, "row.bad_amount", Some("amount")),
            (3, "row.unknown_currency", Some("currency")),
            (4, "row.bad_date", Some("settled_on")),
            (5, "row.missing_reference", Some("reference")),
            (7, "row.duplicate", Some("reference")),
            (8, "row.bad_amount", Some("amount")),
            (10, "row.bad_amount", Some("amount")),
        ]
    );
    assert_eq!(summary.rejected_count, 7);
    assert_eq!((summary.rows, summary.added_count), (9, 2));
    assert_eq!(summary.totals[0].settled, "1251.500");
    assert_eq!(
        summary.totals[0].net, "1251.500",
        "no fee: the amount reached the account"
    );
    assert_eq!(
        summary.totals[0].fees, None,
        "no fee column: fees unknown, not zero"
    );
    // Fee and net unknown when the file has no such columns.
    let (fee, net): (Option<i64>, Option<i64>) = env
        .conn()
        .query_row(
            "SELECT fee_minor, net_minor FROM settlement_lines WHERE reference = 'RRN-7'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((fee, net), (None, None));

    let rejects_file = summary.rejects_file.clone().expect("a rejects file");
    assert_eq!(rejects_file, format!("{}.rejects.csv", path.display()));
    let text = std::fs::read_to_string(&rejects_file).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(
        reader.headers().unwrap(),
        vec![
            "Order No",
            "RRN",
            "Amount",
            "Currency",
            "Settlement Date",
            "line",
            "reason"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 7);
    assert_eq!(&rows[0][2], "abc");
    assert_eq!(&rows[0][5], "2");
    assert_eq!(&rows[0][6], summary.rejected[0].reason);
    assert_eq!(&rows[4][5], "7");
    assert!(rows[2][6].contains("31/13/2025"), "{:?}", &rows[2]);
}

/// The settlement rejects file is the shared writer's: a BOM, formulas neutralised, no
/// `.partial` left; a file that cannot be written is `settlement.rejects_unwritable` and
/// the commit stores nothing.
#[test]
fn the_rejects_file_neutralises_formulas_and_an_unwritable_one_is_named() {
    let mut env = Env::new();
    let path = env.file(
        "hostile.csv",
        "Order No,RRN,Amount,Currency,Settlement Date\r\n\
         =HYPERLINK(\"http://x\"),RRN-1,abc,KWD,2025-12-02\r\n\
         ORD-2,RRN-2,1.000,KWD,2025-12-02\r\n",
    );
    let summary = env.import(&path, true);
    assert_eq!((summary.rejected_count, summary.added_count), (1, 1));
    let rejects_file = summary.rejects_file.clone().expect("a rejects file");
    let bytes = std::fs::read(&rejects_file).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "a BOM for Excel");
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let rows: Vec<csv::StringRecord> = csv::Reader::from_reader(text.as_bytes())
        .records()
        .map(Result::unwrap)
        .collect();
    assert_eq!(&rows[0][0], "'=HYPERLINK(\"http://x\")");
    assert!(!Path::new(&format!("{rejects_file}.partial")).exists());

    let lines = env.lines();
    let error = env
        .ledger
        .settlement_import(&SettlementImportRequest {
            profile: "shop".into(),
            path: env.file(
                "again.csv",
                "Order No,RRN,Amount,Currency,Settlement Date\r\n\
                 ORD-3,RRN-3,abc,KWD,2025-12-02\r\n\
                 ORD-4,RRN-4,1.000,KWD,2025-12-02\r\n",
            ),
            map: Vec::new(),
            commit: true,
            rejects_path: Some(env.dir.path().join("no-such-dir").join("r.csv")),
        })
        .unwrap_err();
    assert_eq!(error.code(), "settlement.rejects_unwritable");
    assert!(error.to_string().contains("no-such-dir"), "{error}");
    assert_eq!(env.lines(), lines, "the commit is rolled back");
}

#[test]
fn matching_finds_lag_fees_refunds_unknown_unsettled_and_differences() {
    let mut env = Env::new();
    let path = env.file("settlement.csv", FILE);
    env.import(&path, true);
    let report = env.matched(None);
    assert_eq!(report.window_days, 3);
    assert_eq!(report.as_of, "2026-01-15");

    let matched: Vec<(&str, &str, u32, Option<&str>, &str)> = report
        .matched
        .iter()
        .map(|i| {
            (
                i.kind.as_str(),
                i.session_id.as_str(),
                i.lag_days,
                i.fee.as_deref(),
                i.matched_by.as_str(),
            )
        })
        .collect();
    assert_eq!(
        matched,
        [
            ("payment", "s1", 1, Some("0.150"), "reference"),
            // Thursday -> Tuesday: Sunday, Monday, Tuesday (the weekend does not count).
            ("refund", "s1r", 1, Some("0.000"), "reference"),
            ("payment", "s2", 3, Some("0.300"), "reference"),
        ]
    );
    assert_eq!(report.matched_count, 3);
    let refund = &report.matched[1];
    assert_eq!(
        (
            refund.expected.as_str(),
            refund.settled.as_str(),
            refund.parent_session_id.as_deref()
        ),
        ("-2.000", "-2.000", Some("s1"))
    );
    assert_eq!(report.matched[0].net.as_deref(), Some("9.850"));

    assert_eq!(report.amount_differs_count, 1);
    let differs = &report.amount_differs[0];
    assert_eq!(
        (
            differs.session_id.as_str(),
            differs.expected.as_str(),
            differs.settled.as_str(),
            differs.difference.as_str(),
            differs.matched_by.as_str()
        ),
        ("s3", "5.000", "4.500", "-0.500", "order_no")
    );

    let unsettled: Vec<(&str, &str, &str)> = report
        .not_settled
        .iter()
        .map(|i| (i.session_id.as_str(), i.amount.as_str(), i.due_by.as_str()))
        .collect();
    assert_eq!(
        unsettled,
        [("s4", "7.000", "2025-12-04"), ("s5", "8.000", "2025-12-11")]
    );
    assert_eq!(report.awaiting_count, 0);

    let unknown: Vec<(&str, &str, Option<&str>)> = report
        .unknown
        .iter()
        .map(|l| {
            (
                l.order_no.as_deref().unwrap(),
                l.reason.as_str(),
                l.session_id.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        unknown,
        [
            ("ORD-X", "no_payment", None),
            ("ORD-6", "not_paid", Some("s6")),
            ("ORD-5", "outside_window", Some("s5")),
        ]
    );

    let t = &report.totals[0];
    assert_eq!(
        (
            t.currency.as_str(),
            t.expected.as_str(),
            t.settled.as_str(),
            t.fees.as_str(),
            t.net.as_str(),
            t.not_settled.as_str(),
            t.unknown.as_str()
        ),
        (
            "KWD", "48.000", "32.500", "0.518", "31.982", "15.000", "18.250"
        )
    );

    // A wider window takes ORD-5's line (Monday to Monday: 5 business days).
    let wide = env.matched(Some(5));
    let five = wide
        .matched
        .iter()
        .find(|i| i.session_id == "s5")
        .expect("s5 matched");
    assert_eq!(five.lag_days, 5);
    assert_eq!((wide.not_settled_count, wide.unknown_count), (1, 2));

    // A period: payments created from Thursday 12-04 on.
    let period = env
        .ledger
        .settlement_match(&SettlementMatchRequest {
            profile: "shop".into(),
            from: Some("2025-12-04".into()),
            to: Some("2025-12-31".into()),
            window_days: None,
        })
        .unwrap();
    let sessions: Vec<&str> = period
        .matched
        .iter()
        .map(|i| i.session_id.as_str())
        .collect();
    assert_eq!(sessions, ["s2"]);
    assert_eq!(period.not_settled_count, 1, "s5");
    assert_eq!(period.totals[0].expected, "28.000");

    // Too wide a window is refused.
    let error = env
        .ledger
        .settlement_match(&SettlementMatchRequest {
            profile: "shop".into(),
            window_days: Some(31),
            ..SettlementMatchRequest::default()
        })
        .unwrap_err();
    assert_eq!(error.code(), "settlement.bad_window");
}

#[test]
fn a_refund_line_settles_once_and_a_second_is_already_settled() {
    let mut env = Env::new();
    let path = env.file(
        "refunds.csv",
        "Order No,Amount,Settlement Date\n\
         ORD-1,-2.000,2025-12-04\n\
         ORD-1,-2.000,2025-12-05\n\
         ORD-4,-1.000,2025-12-02\n",
    );
    let summary = env.import(&path, true);
    assert_eq!(summary.added_count, 3, "{:?}", summary.rejected);
    let report = env.matched(None);
    assert_eq!(report.matched.len(), 1);
    assert_eq!(report.matched[0].session_id, "s1r");
    assert_eq!(report.matched[0].matched_by, "order_no");
    assert_eq!(report.matched[0].fee, None);
    let reasons: Vec<&str> = report.unknown.iter().map(|l| l.reason.as_str()).collect();
    assert_eq!(reasons, ["no_refund", "already_settled"]);
}

#[test]
fn cli_json_import_and_match_with_exit_codes() {
    let cli = Cli::new();
    cli.seed(&[
        ("s1", "ORD-1", "10.000", "paid"),
        ("s4", "ORD-4", "7.000", "paid"),
    ]);
    {
        let conn = rusqlite::Connection::open(&cli.db).unwrap();
        conn.execute(
            "UPDATE payments SET created_at_ms = ?1, reference_number = 'RRN-' || substr(order_no, 5)",
            [at("2025-12-01T10:00")],
        )
        .unwrap();
    }
    let file = cli.dir.path().join("settle.csv");
    std::fs::write(
        &file,
        "Order No,RRN,Amount,Fee,Net Amount,Currency,Settlement Date\n\
         ORD-1,RRN-1,10.000,0.150,9.850,KWD,2025-12-02\n\
         ORD-X,RRN-X,1.000,0.015,0.985,KWD,2025-12-02\n",
    )
    .unwrap();
    let file = file.to_str().unwrap();

    let dry = cli.ok_json(&["settlement", "import", "--profile", "shop", file]);
    assert_eq!(dry["committed"], false);
    assert_eq!(dry["added_count"], 2);
    assert_eq!(
        dry["columns"][1],
        serde_json::json!({"header": "RRN", "field": "reference"})
    );
    let done = cli.ok_json(&[
        "settlement",
        "import",
        "--profile",
        "shop",
        file,
        "--commit",
    ]);
    assert_eq!(
        (done["committed"].clone(), done["added_count"].clone()),
        (Value::Bool(true), 2.into())
    );
    assert_eq!(done["totals"][0]["fees"], "0.165");

    let report = cli.ok_json(&[
        "settlement",
        "match",
        "--profile",
        "shop",
        "--window-days",
        "2",
    ]);
    assert_eq!(report["window_days"], 2);
    assert_eq!(report["matched_count"], 1);
    assert_eq!(report["matched"][0]["order_no"], "ORD-1");
    assert_eq!(report["matched"][0]["lag_days"], 1);
    assert_eq!(report["not_settled"][0]["order_no"], "ORD-4");
    assert_eq!(report["unknown"][0]["reason"], "no_payment");
    assert_eq!(report["totals"][0]["fees"], "0.150");

    // Human output names the counts.
    let text = cli.ok(&["settlement", "match", "--profile", "shop"]).stdout;
    assert!(text.contains("matched 1"), "{text}");
    assert!(text.contains("unknown line: ORD-X"), "{text}");

    // Exit codes: bad --map 2, missing file 2, unknown profile 4, bad window 2.
    let bad_map = cli.run(&[
        "--json",
        "settlement",
        "import",
        "--profile",
        "shop",
        file,
        "--map",
        "nonsense",
    ]);
    assert_eq!(bad_map.code, 2, "{}", bad_map.stdout);
    assert_eq!(bad_map.json()["error"]["code"], "mapping.bad_override");
    let missing = cli.run(&[
        "settlement",
        "import",
        "--profile",
        "shop",
        "/nonexistent/x.csv",
    ]);
    assert_eq!(missing.code, 2, "{}", missing.stderr);
    let nobody = cli.run(&["--json", "settlement", "match", "--profile", "nobody"]);
    assert_eq!(nobody.code, 4, "{}", nobody.stdout);
    let wide = cli.run(&[
        "--json",
        "settlement",
        "match",
        "--profile",
        "shop",
        "--window-days",
        "99",
    ]);
    assert_eq!(wide.code, 2);
    assert_eq!(wide.json()["error"]["code"], "settlement.bad_window");
}

/// An XLSX settlement file with Arabic headers, amounts as numbers and the day as a date
/// cell, imports like the CSV and matches.
#[test]
fn an_arabic_xlsx_settlement_file_imports_and_matches() {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

    let mut env = Env::new();
    let path = env.dir.path().join("تسوية.xlsx");
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    let headers = [
        "رقم الطلب",
        "الرقم المرجعي",
        "المبلغ",
        "الرسوم",
        "الصافي",
        "العملة",
        "تاريخ التسوية",
    ];
    for (col, h) in headers.iter().enumerate() {
        sheet.write_string(0, col as u16, *h).unwrap();
    }
    let money = Format::new().set_num_format("#,##0.000");
    let day = Format::new().set_num_format("dd/mm/yyyy");
    type Row<'a> = (&'a str, &'a str, f64, f64, f64, (u16, u8, u8));
    let rows: [Row; 2] = [
        ("ORD-1", "RRN-1", 10.0, 0.15, 9.85, (2025, 12, 2)),
        ("ORD-1", "RRN-1R", -2.0, 0.0, -2.0, (2025, 12, 4)),
    ];
    for (i, (order, rrn, amount, fee, net, (y, m, d))) in rows.iter().enumerate() {
        let r = i as u32 + 1;
        sheet.write_string(r, 0, *order).unwrap();
        sheet.write_string(r, 1, *rrn).unwrap();
        sheet
            .write_number_with_format(r, 2, *amount, &money)
            .unwrap();
        sheet.write_number_with_format(r, 3, *fee, &money).unwrap();
        sheet.write_number_with_format(r, 4, *net, &money).unwrap();
        sheet.write_string(r, 5, "KWD").unwrap();
        let date = ExcelDateTime::from_ymd(*y, *m, *d).unwrap();
        sheet.write_datetime_with_format(r, 6, &date, &day).unwrap();
    }
    book.save(&path).unwrap();

    let summary = env.import(&path, true);
    assert_eq!(summary.format, "xlsx");
    assert_eq!(
        (summary.added_count, summary.rejected_count),
        (2, 0),
        "{:?}",
        summary.rejected
    );
    let fields: Vec<Option<&str>> = summary.columns.iter().map(|c| c.field.as_deref()).collect();
    assert_eq!(
        fields,
        [
            Some("order_no"),
            Some("reference"),
            Some("amount"),
            Some("fee"),
            Some("net"),
            Some("currency"),
            Some("settled_on")
        ]
    );
    assert_eq!(summary.totals[0].fees.as_deref(), Some("0.150"));
    let report = env.matched(None);
    let matched: Vec<(&str, &str, u32)> = report
        .matched
        .iter()
        .map(|i| (i.session_id.as_str(), i.settled_on.as_str(), i.lag_days))
        .collect();
    assert_eq!(matched, [("s1", "2025-12-02", 1), ("s1r", "2025-12-04", 1)]);
}

/// A line in another currency than the payment it names is not taken for it.
#[test]
fn a_line_in_another_currency_is_unknown() {
    let mut env = Env::new();
    let path = env.file(
        "usd.csv",
        "Order No,RRN,Amount,Currency,Settlement Date\nORD-1,RRN-1,10.00,USD,2025-12-02\n",
    );
    env.import(&path, true);
    let report = env.matched(None);
    assert_eq!(report.matched_count, 0);
    assert_eq!(report.unknown[0].reason, "currency_differs");
    assert_eq!(report.unknown[0].session_id.as_deref(), Some("s1"));
    assert_eq!(
        report
            .totals
            .iter()
            .find(|t| t.currency == "USD")
            .unwrap()
            .unknown,
        "10.00"
    );
}

/// Ctrl-C (or Cancel) during a commit: the run stops with `settlement.cancelled` and
/// nothing is written; progress was reported on the way.
#[test]
fn a_cancelled_import_writes_nothing() {
    use std::sync::atomic::AtomicBool;

    let mut env = Env::new();
    let mut text = String::from("Order No,Amount,Settlement Date\n");
    for n in 0..600 {
        text.push_str(&format!("ORD-{n},1.000,2025-12-02\n"));
    }
    let path = env.file("big.csv", &text);
    let request = SettlementImportRequest {
        profile: "shop".into(),
        path,
        map: Vec::new(),
        commit: true,
        rejects_path: None,
    };
    let mut seen = Vec::new();
    let error = env
        .ledger
        .settlement_import_with(&request, &mut |p| seen.push(p), &AtomicBool::new(true))
        .unwrap_err();
    assert_eq!(error.code(), "settlement.cancelled");
    assert_eq!(env.lines(), 0);
    let mut seen = Vec::new();
    let done = env
        .ledger
        .settlement_import_with(&request, &mut |p| seen.push(p), &AtomicBool::new(false))
        .unwrap();
    assert_eq!(done.added_count, 600);
    assert!(seen.len() >= 2, "{seen:?}");
    let last = seen.last().unwrap();
    assert_eq!((last.rows, last.bytes), (600, last.total_bytes));
    assert!(seen.windows(2).all(|w| w[0].bytes <= w[1].bytes));
}

/// A fee written as a deduction (`-0.150`) is the same fee; without a net column the net
/// is amount − fee.
#[test]
fn a_fee_written_negative_is_the_same_fee() {
    let mut env = Env::new();
    let path = env.file(
        "deduct.csv",
        "Order No,RRN,Amount,Commission,Settlement Date\nORD-1,RRN-1,10.000,-0.150,2025-12-02\n",
    );
    let summary = env.import(&path, true);
    assert_eq!(summary.columns[3].field.as_deref(), Some("fee"));
    let report = env.matched(None);
    assert_eq!(report.matched[0].fee.as_deref(), Some("0.150"));
    assert_eq!(report.matched[0].net.as_deref(), Some("9.850"));
}

#[test]
fn a_capture_of_an_authorization_settles_and_a_paid_payment_is_not_expected_twice() {
    let mut env = Env::new();
    // An authorization (12-01) captured in part on Wed 12-03 (ref RRN-7C): the capture is
    // the money; a failed capture moved none.
    env.payment(
        "s7",
        "ORD-7",
        "9.000",
        "authorized",
        "2025-12-01T10:00",
        Some("RRN-7"),
    );
    // A paid payment with a capture child (a fully captured authorization Ottu shows as
    // paid): its amount is expected once, not plus its capture.
    env.payment(
        "s8",
        "ORD-8",
        "4.000",
        "paid",
        "2025-12-01T10:00",
        Some("RRN-8"),
    );
    for (parent, session, minor, state, reference) in [
        ("s7", "s7c", 6_000, "paid", "RRN-7C"),
        ("s7", "s7c2", 1_000, "failed", "RRN-7F"),
        ("s8", "s8c", 4_000, "paid", "RRN-8C"),
    ] {
        env.conn()
            .execute(
                "INSERT INTO children (payment_id, kind, session_id, amount_minor, currency, state,
                     created_at_ms, updated_at_ms, reference_number)
                 SELECT id, 'capture', ?2, ?3, 'KWD', ?4, ?5, ?5, ?6 FROM payments WHERE session_id = ?1",
                params![parent, session, minor, state, at("2025-12-03T10:00"), reference],
            )
            .unwrap();
    }
    let before = env.matched(None);
    let expected_before = before.totals[0].expected.clone();
    assert_eq!(
        before
            .not_settled
            .iter()
            .filter(|u| u.parent_session_id.as_deref() == Some("s7"))
            .map(|u| (u.kind.as_str(), u.session_id.as_str(), u.amount.as_str()))
            .collect::<Vec<_>>(),
        [("capture", "s7c", "6.000")],
        "the paid capture is expected, the failed one not"
    );
    assert!(
        before.not_settled.iter().all(|u| u.session_id != "s8c"),
        "a paid payment's capture is inside its amount"
    );
    let path = env.file(
        "captures.csv",
        "Order No,RRN,Amount,Fee,Currency,Settlement Date\n\
         ORD-7,RRN-7C,6.000,0.090,KWD,2025-12-04\n\
         ORD-8,RRN-8,4.000,0.060,KWD,2025-12-02\n",
    );
    env.import(&path, true);
    let report = env.matched(None);
    let matched: Vec<(&str, &str, Option<&str>, &str)> = report
        .matched
        .iter()
        .filter(|i| i.session_id == "s7c" || i.session_id == "s8")
        .map(|i| {
            (
                i.kind.as_str(),
                i.session_id.as_str(),
                i.parent_session_id.as_deref(),
                i.matched_by.as_str(),
            )
        })
        .collect();
    assert_eq!(
        matched,
        [
            ("payment", "s8", None, "reference"),
            ("capture", "s7c", Some("s7"), "reference")
        ]
    );
    assert_eq!(
        report.totals[0].expected, expected_before,
        "the same expectations"
    );
    assert!(
        report
            .unknown
            .iter()
            .all(|l| l.reference.as_deref() != Some("RRN-7C"))
    );
    // Expected: the scenario's 48.000 (paid 50.000 - refund 2.000) + s7's capture 6.000 +
    // s8's 4.000.
    assert_eq!(report.totals[0].expected, "58.000");
}
