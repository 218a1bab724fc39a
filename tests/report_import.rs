//! Ottu report import (`ReportImportJob`, `daftar import-report`): a clean CSV, an XLSX
//! written here with rust_xlsxwriter (numbers and dates as typed cells), a BOM with CRLF,
//! Arabic headers and names, quoted commas, every kind of bad row with its exact reject,
//! the same file twice (nothing written the second time), a dry run that writes nothing,
//! conflicts that are never applied, `--map` saved on commit, the CLI's JSON and exit
//! codes, and a download by token from the sandbox (with Ottu's 429 and an unknown token).
//! The ledger is a real SQLite file in a temp dir; the keyring an in-memory store.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use common::Cli;
use daftar::Ledger;
use daftar::connect::Remote;
use daftar::import::report::{
    ColumnMapRequest, FieldChange, ReportImportJob, ReportImportRequest, ReportImportSummary,
    ReportListRequest, RowReject,
};
use daftar::ledger::{PaymentInput, PaymentLookup, QueueRequest};
use daftar::ottu::{ClientConfig, Credential};
use daftar::secrets::{MemoryStore, SecretString};
use daftar::sources::{FixedClock, SequentialKeys};
use daftar::store::Store;
use daftar::tabular::FileKind;
use daftar_sandbox::{Config, FaultConfig, Sandbox};

/// 2026-11-20T10:00:00Z
const NOW_MS: i64 = 1_795_168_800_000;

struct Fixture {
    dir: tempfile::TempDir,
    ledger: Ledger,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("ledger.sqlite3")).unwrap();
        let mut ledger = Ledger::with_sources(
            store,
            Arc::new(FixedClock::new(NOW_MS)),
            Arc::new(SequentialKeys::new()),
            "test:report",
        )
        .with_secret_store(Arc::new(MemoryStore::new()));
        ledger
            .add_profile("shop", "https://shop.ottu.net", "KWD")
            .unwrap();
        Fixture { dir, ledger }
    }

    fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    fn request(&self, path: &Path, map: &[&str], commit: bool) -> ReportImportRequest {
        ReportImportRequest {
            profile: "shop".into(),
            path: path.to_path_buf(),
            token: None,
            map: map.iter().map(|m| m.to_string()).collect(),
            commit,
            rejects_path: None,
            reopen: false,
        }
    }

    fn run(&self, request: ReportImportRequest) -> daftar::Result<ReportImportSummary> {
        ReportImportJob::new(&self.ledger, request)?.run(|_| {}, &AtomicBool::new(false))
    }

    fn import(&self, path: &Path, commit: bool) -> ReportImportSummary {
        self.run(self.request(path, &[], commit)).unwrap()
    }

    fn count(&mut self, sql: &str) -> i64 {
        self.ledger
            .store()
            .connection()
            .query_row(sql, [], |r| r.get(0))
            .unwrap()
    }

    fn events(&mut self) -> i64 {
        self.count("SELECT count(*) FROM events WHERE action = 'payment.imported_report'")
    }

    fn payments(&mut self) -> i64 {
        self.count("SELECT count(*) FROM payments")
    }

    /// Marks `[from_ms, to_ms)` of `profile` reconciled (locked), as `reconcile lock` does
    /// after a run.
    fn lock_period(&mut self, profile: &str, from_ms: i64, to_ms: i64) {
        self.ledger
            .store()
            .connection()
            .execute(
                "INSERT INTO reconciled_periods (profile_id, from_ms, to_ms, status, locked_at_ms,
                     locked_by)
                 SELECT id, ?2, ?3, 'locked', 1, 'test' FROM profiles WHERE name = ?1",
                rusqlite::params![profile, from_ms, to_ms],
            )
            .unwrap();
    }

    fn add(
        &mut self,
        session: &str,
        order: Option<&str>,
        amount: &str,
        currency: &str,
        state: &str,
    ) {
        self.ledger
            .add_payment(&PaymentInput {
                profile: "shop".into(),
                session_id: session.into(),
                order_no: order.map(str::to_string),
                amount: amount.into(),
                currency: currency.into(),
                state: state.into(),
            })
            .unwrap();
    }
}

fn rejects(s: &ReportImportSummary) -> Vec<(u64, &str, Option<&str>)> {
    s.rejected
        .iter()
        .map(|r: &RowReject| (r.line, r.code.as_str(), r.field.as_deref()))
        .collect()
}

const CLEAN: &str = "session_id,order_no,parent_session_id,operation,amount,currency_code,state,pg_code,created,modified,reference_number,customer_email
S-001,ORD-1,,purchase,12.500,KWD,paid,knet,2026-11-03T14:22:05Z,2026-11-03T14:23:00Z,REF-1,a@example.com
S-002,ORD-2,,authorize,7.250,KWD,authorized,mpgs,2026-11-04T09:00:00Z,2026-11-04T09:00:10Z,REF-2,
S-003,ORD-3,,purchase,3,KWD,failed,knet,2026-11-05T10:00:00Z,2026-11-05T10:00:00Z,,
C-001,ORD-1,S-001,refund,2.500,KWD,refunded,knet,2026-11-06T08:00:00Z,2026-11-06T08:00:00Z,REF-R1,a@example.com
";

#[test]
fn a_clean_csv_dry_run_writes_nothing_then_commits_then_imports_twice_unchanged() {
    let mut f = Fixture::new();
    let path = f.file("clean.csv", CLEAN.as_bytes());

    let dry = f.import(&path, false);
    assert!(!dry.committed);
    assert_eq!(dry.format, "csv");
    assert_eq!((dry.rows, dry.added_count, dry.updated_count), (4, 4, 0));
    assert_eq!(
        (dry.unchanged_count, dry.conflict_count, dry.rejected_count),
        (0, 0, 0)
    );
    assert_eq!(dry.added[3].parent_session_id.as_deref(), Some("S-001"));
    assert_eq!(dry.rejects_file, None);
    // The dry run wrote nothing.
    assert_eq!(f.payments(), 0);
    assert_eq!(f.events(), 0);
    assert!(!path.with_file_name("clean.csv.rejects.csv").exists());

    let done = f.import(&path, true);
    assert!(done.committed);
    assert_eq!(
        done.added, dry.added,
        "the dry run's plan is what the commit did"
    );
    assert_eq!(f.payments(), 3);
    assert_eq!(f.events(), 4);
    let totals = &done.totals[0];
    assert_eq!(
        (
            totals.currency.as_str(),
            totals.paid.as_str(),
            totals.refunded.as_str()
        ),
        ("KWD", "12.500", "2.500")
    );
    let (source, reference, modified, created): (String, String, i64, i64) = f
        .ledger
        .store()
        .connection()
        .query_row(
            "SELECT source, reference_number, remote_modified_at_ms, created_at_ms FROM payments WHERE session_id = 'S-001'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!((source.as_str(), reference.as_str()), ("report", "REF-1"));
    assert_eq!(created, 1_793_715_725_000); // 2026-11-03T14:22:05Z
    assert_eq!(modified, created + 55_000);
    let child: (String, i64, String, String) = f
        .ledger
        .store()
        .connection()
        .query_row(
            "SELECT kind, amount_minor, state, reference_number FROM children WHERE session_id = 'C-001'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(
        child,
        ("refund".into(), 2_500, "refunded".into(), "REF-R1".into())
    );

    // The same file again: everything unchanged, nothing written.
    let again = f.import(&path, true);
    assert_eq!(
        (
            again.added_count,
            again.updated_count,
            again.unchanged_count
        ),
        (0, 0, 4)
    );
    assert_eq!(f.events(), 4);
    assert_eq!(f.payments(), 3);
    let max_updated = f.count("SELECT max(updated_at_ms) FROM payments");
    assert_eq!(max_updated, NOW_MS);
}

#[test]
fn an_xlsx_with_number_and_date_cells_imports_exactly() {
    let f = Fixture::new();
    let path = f.dir.path().join("month.xlsx");
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    // The sandbox's monthly layout: Arabic labels, another column order.
    for (col, header) in [
        "رقم الطلب",
        "رقم الجلسة",
        "الحالة",
        "المبلغ",
        "العملة",
        "تاريخ الإنشاء",
    ]
    .iter()
    .enumerate()
    {
        sheet.write_string(0, col as u16, *header).unwrap();
    }
    let money = rust_xlsxwriter::Format::new().set_num_format("#,##0.000");
    let when = rust_xlsxwriter::Format::new().set_num_format("dd/mm/yyyy hh:mm");
    let rows: [(&str, &str, f64, &str); 3] = [
        ("O-1", "X-1", 12.5, "2026-11-03T14:22:00"),
        ("O-2", "X-2", 1000.0, "2026-11-04T00:00:00"),
        // What f64 arithmetic leaves: not exact in decimal, so refused, never rounded.
        ("O-3", "X-3", 0.1 + 0.2, "2026-11-05T08:30:00"),
    ];
    for (i, (order, session, amount, created)) in rows.iter().enumerate() {
        let r = i as u32 + 1;
        sheet.write_string(r, 0, *order).unwrap();
        sheet.write_string(r, 1, *session).unwrap();
        sheet.write_string(r, 2, "paid").unwrap();
        sheet
            .write_number_with_format(r, 3, *amount, &money)
            .unwrap();
        sheet.write_string(r, 4, "KWD").unwrap();
        let dt = rust_xlsxwriter::ExcelDateTime::parse_from_str(created).unwrap();
        sheet.write_datetime_with_format(r, 5, &dt, &when).unwrap();
    }
    book.save(&path).unwrap();

    let s = f.import(&path, true);
    assert_eq!(s.format, "xlsx");
    assert_eq!(s.added_count, 2);
    let amounts: Vec<(&str, &str)> = s
        .added
        .iter()
        .map(|a| (a.session_id.as_str(), a.amount.as_str()))
        .collect();
    assert_eq!(amounts, [("X-1", "12.500"), ("X-2", "1000.000")]);
    assert_eq!(rejects(&s), [(4, "row.bad_amount", Some("amount"))]);
    assert!(
        s.rejected[0].reason.contains("0.30000000000000004"),
        "{}",
        s.rejected[0].reason
    );
    let mut f = f;
    let created: i64 = f.count("SELECT created_at_ms FROM payments WHERE session_id = 'X-1'");
    assert_eq!(created, 1_793_715_720_000); // 2026-11-03T14:22:00Z
}

#[test]
fn bom_crlf_arabic_headers_and_names_and_quoted_commas() {
    let mut f = Fixture::new();
    let text = "\u{feff}رقم الجلسة,رقم الطلب,المبلغ,العملة,الحالة,اسم العميل,البريد الإلكتروني للعميل\r\n\
                A-1,\"ORD,1\",\"1,234.500\",KWD,paid,\"العتيبي، محمد\",m@example.com\r\n\
                A-2,ORD-2,١٢٫٥٠٠,KWD,paid,فاطمة,\r\n\
                A-3,ORD-3,\"12,5\",KWD,paid,\"نورة, \"\"الكويت\"\"\",\r\n";
    let path = f.file("arabic.csv", text.as_bytes());
    let s = f.import(&path, true);
    let columns: Vec<Option<&str>> = s.columns.iter().map(|c| c.field.as_deref()).collect();
    assert_eq!(
        columns,
        [
            Some("session_id"),
            Some("order_no"),
            Some("amount"),
            Some("currency"),
            Some("state"),
            None,
            Some("customer_email")
        ]
    );
    let added: Vec<(u64, &str, Option<&str>, &str)> = s
        .added
        .iter()
        .map(|a| {
            (
                a.line,
                a.session_id.as_str(),
                a.order_no.as_deref(),
                a.amount.as_str(),
            )
        })
        .collect();
    assert_eq!(
        added,
        [
            (2, "A-1", Some("ORD,1"), "1234.500"),
            (3, "A-2", Some("ORD-2"), "12.500")
        ]
    );
    assert_eq!(rejects(&s), [(4, "row.bad_amount", Some("amount"))]);
    // The rejects file keeps the row as it was, Arabic and quotes intact, with its line.
    let rejects_file = s.rejects_file.clone().unwrap();
    let written = std::fs::read_to_string(&rejects_file).unwrap();
    assert!(written.starts_with('\u{feff}'));
    let mut lines = written.trim_start_matches('\u{feff}').split("\r\n");
    assert_eq!(
        lines.next().unwrap(),
        "رقم الجلسة,رقم الطلب,المبلغ,العملة,الحالة,اسم العميل,البريد الإلكتروني للعميل,line,reason"
    );
    assert_eq!(
        lines.next().unwrap(),
        "A-3,ORD-3,\"12,5\",KWD,paid,\"نورة, \"\"الكويت\"\"\",,4,\"row.bad_amount: '12,5' is not an amount in KWD\""
    );
    let email: String = f
        .ledger
        .store()
        .connection()
        .query_row(
            "SELECT customer_email FROM payments WHERE session_id = 'A-1'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(email, "m@example.com");
    assert_eq!(f.payments(), 2);
}

#[test]
fn bad_rows_of_each_kind_are_rejected_exactly() {
    let mut f = Fixture::new();
    let csv = "Session ID,Parent Session ID,Operation,Amount,Currency,State,Created,Order No
S-1,,purchase,5.000,KWD,paid,2026-11-03 10:00,O-1
,,purchase,5.000,KWD,paid,,O-2
S-3,,purchase,five,KWD,paid,,O-3
S-4,,purchase,5.000,XXX,paid,,O-4
S-5,,purchase,5.000,KWD,settled,,O-5
S-6,,purchase,5.000,KWD,paid,31/02/2026,O-6
S-1,,purchase,5.000,KWD,paid,,O-7
S 8,,purchase,5.000,KWD,paid,,O-8
C-9,NOPE,refund,1.000,KWD,refunded,,O-9
S-10,,purchase,5.0001,KWD,paid,,O-10
C-11,S-1,refund,1.000,KWD,refunded,,O-1
";
    let path = f.file("bad.csv", csv.as_bytes());
    let s = f.import(&path, true);
    assert_eq!(
        rejects(&s),
        [
            (3, "row.missing_id", Some("session_id")),
            (4, "row.bad_amount", Some("amount")),
            (5, "row.unknown_currency", Some("currency")),
            (6, "row.bad_state", Some("state")),
            (7, "row.bad_date", Some("created")),
            (8, "row.duplicate", Some("session_id")),
            (9, "row.bad_reference", Some("session_id")),
            (11, "row.bad_amount", Some("amount")),
            (10, "row.unknown_parent", Some("parent_session_id")),
        ]
    );
    assert_eq!(s.rows, 11);
    assert_eq!((s.added_count, s.rejected_count), (2, 9));
    assert_eq!(
        s.rows,
        s.added_count + s.updated_count + s.unchanged_count + s.conflict_count + s.rejected_count
    );
    assert_eq!(f.payments(), 1);
    // The rejects file: the original columns, then the line and the reason, one per reject.
    let written = std::fs::read_to_string(s.rejects_file.as_ref().unwrap()).unwrap();
    let lines: Vec<&str> = written
        .trim_start_matches('\u{feff}')
        .trim_end()
        .split("\r\n")
        .collect();
    assert_eq!(lines.len(), 10);
    assert_eq!(
        lines[0],
        "Session ID,Parent Session ID,Operation,Amount,Currency,State,Created,Order No,line,reason"
    );
    assert!(
        lines[2].starts_with(
            "S-3,,purchase,five,KWD,paid,,O-3,4,row.bad_amount: 'five' is not an amount in KWD"
        ),
        "{}",
        lines[2]
    );
    assert!(
        lines[9].starts_with("C-9,NOPE,refund,1.000,KWD,refunded,,O-9,10,row.unknown_parent: "),
        "{}",
        lines[9]
    );
}

#[test]
fn a_child_before_its_parent_waits_for_it() {
    let mut f = Fixture::new();
    let csv = "session_id,parent_session_id,amount,currency,state
C-1,P-1,1.000,KWD,refunded
P-1,,5.000,KWD,paid
";
    let path = f.file("order.csv", csv.as_bytes());
    let s = f.import(&path, true);
    assert_eq!((s.added_count, s.rejected_count), (2, 0));
    assert_eq!(f.count("SELECT count(*) FROM children"), 1);
}

#[test]
fn updates_follow_ottu_and_conflicts_are_never_applied() {
    let mut f = Fixture::new();
    f.add("U-1", Some("O-U1"), "5.000", "KWD", "pending");
    f.add("K-1", Some("O-K1"), "5.000", "KWD", "paid");
    f.add("K-2", Some("O-K2"), "5.000", "KWD", "paid");
    f.add("K-3", Some("O-K3"), "5.000", "KWD", "paid");
    f.add("K-4", Some("O-K4"), "5.000", "KWD", "paid");
    // K-2 has a refund queued: its state and amount are the ledger's to settle.
    f.ledger
        .queue(&QueueRequest {
            kind: "refund".into(),
            payment: PaymentLookup {
                profile: Some("shop".into()),
                session_id: Some("K-2".into()),
                order_no: None,
            },
            amount: Some("1.000".into()),
            reason: None,
        })
        .unwrap();
    let events_before = f.count("SELECT count(*) FROM events");
    let csv = "session_id,order_no,amount,currency,state,customer_email,reference_number
U-1,O-U1,5.000,KWD,paid,u@example.com,R-U1
K-1,O-K1,5.000,USD,paid,,
K-2,O-K2,6.000,KWD,paid,,
K-3,O-K3,5.000,KWD,paid,,
K-9,O-K4,1.000,KWD,paid,,
";
    let path = f.file("conflicts.csv", csv.as_bytes());
    let s = f.import(&path, true);
    assert_eq!(s.updated_count, 1);
    let changes: Vec<(&str, Option<&str>, Option<&str>)> = s.updated[0]
        .changes
        .iter()
        .map(|c| (c.field.as_str(), c.ledger.as_deref(), c.report.as_deref()))
        .collect();
    assert_eq!(
        changes,
        [
            ("state", Some("pending"), Some("paid")),
            ("reference_number", None, Some("R-U1")),
            ("customer_email", None, Some("u@example.com")),
        ]
    );
    let conflicts: Vec<(u64, &str, &str)> = s
        .conflicts
        .iter()
        .map(|c| (c.line, c.session_id.as_str(), c.field.as_str()))
        .collect();
    assert_eq!(
        conflicts,
        [
            (3, "K-1", "currency"),
            (4, "K-2", "amount"),
            (6, "K-9", "order_no")
        ]
    );
    assert_eq!((s.unchanged_count, s.added_count), (1, 0));
    // Only U-1 changed: one event; the conflicting rows left the ledger as it was.
    assert_eq!(f.count("SELECT count(*) FROM events") - events_before, 1);
    assert_eq!(
        f.count("SELECT count(*) FROM payments WHERE session_id = 'K-9'"),
        0
    );
    assert_eq!(
        f.count("SELECT amount_minor FROM payments WHERE session_id = 'K-2'"),
        5_000
    );
    assert_eq!(
        f.count("SELECT count(*) FROM payments WHERE session_id = 'K-1' AND currency = 'KWD'"),
        1
    );
    let (before, after): (String, String) = f
        .ledger
        .store()
        .connection()
        .query_row(
            "SELECT before_json, after_json FROM events WHERE action = 'payment.imported_report'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert!(before.contains(r#""state":"pending""#), "{before}");
    assert!(after.contains(r#""state":"paid""#), "{after}");
}

#[test]
fn an_older_report_row_does_not_undo_a_newer_one() {
    let mut f = Fixture::new();
    let newer = f.file(
        "newer.csv",
        b"session_id,amount,currency,state,modified\nN-1,5.000,KWD,refunded,2026-11-10T10:00:00Z\n",
    );
    let older = f.file(
        "older.csv",
        b"session_id,amount,currency,state,modified\nN-1,5.000,KWD,paid,2026-11-03T10:00:00Z\n",
    );
    assert_eq!(f.import(&newer, true).added_count, 1);
    let s = f.import(&older, true);
    assert_eq!((s.updated_count, s.unchanged_count), (0, 1));
    // Left as it is, but still a row of the report: its totals count it.
    assert_eq!(
        s.totals
            .iter()
            .map(|t| (t.currency.as_str(), t.paid.as_str()))
            .collect::<Vec<_>>(),
        [("KWD", "5.000")]
    );
    assert_eq!(
        f.count("SELECT count(*) FROM payments WHERE state = 'refunded'"),
        1
    );
}

/// A parent's own Captured/Refunded/Voided Amount columns count; its child rows of a kind
/// it has a column for do not count twice; a capture of an authorization is paid.
#[test]
fn totals_use_the_amount_columns_and_the_captures_of_authorizations() {
    let f = Fixture::new();
    let csv = "session_id,parent_session_id,operation,amount,currency,state,refunded_amount,captured_amount
A-1,,authorize,10.000,KWD,authorized,,4.000
A-2,,authorize,3.000,KWD,authorized,,
P-1,,purchase,8.000,KWD,paid,2.000,
R-1,P-1,refund,2.000,KWD,refunded,,
C-2,A-2,capture,1.500,KWD,paid,,
";
    let path = f.file("totals.csv", csv.as_bytes());
    let s = f.import(&path, false);
    assert_eq!(s.rejected_count, 0, "{:?}", s.rejected);
    let t = &s.totals[0];
    assert_eq!(
        (t.paid.as_str(), t.captured.as_str(), t.refunded.as_str()),
        ("13.500", "5.500", "2.000")
    );
}

/// A row that would change what a locked (reconciled) period holds is a `period_locked`
/// conflict, unless `--reopen`: then it is applied and the period is reopened.
#[test]
fn a_locked_period_is_changed_only_with_reopen() {
    let mut f = Fixture::new();
    f.add("L-1", Some("O-L1"), "5.000", "KWD", "pending");
    // November 2026 (the payment was created on the 20th), locked after a reconciliation.
    f.lock_period("shop", 1_793_491_200_000, 1_796_083_200_000);
    let csv = "session_id,order_no,parent_session_id,operation,amount,currency,state,created
L-1,O-L1,,purchase,5.000,KWD,paid,2026-11-20T10:00:00Z
L-2,O-L2,,purchase,1.000,KWD,paid,2026-11-05T10:00:00Z
L-3,O-L3,,purchase,2.000,KWD,paid,2026-12-05T10:00:00Z
";
    let path = f.file("locked.csv", csv.as_bytes());
    let events = f.events();
    let s = f.import(&path, true);
    let conflicts: Vec<(u64, &str, &str)> = s
        .conflicts
        .iter()
        .map(|c| (c.line, c.session_id.as_str(), c.field.as_str()))
        .collect();
    assert_eq!(conflicts, [(2, "L-1", "period"), (3, "L-2", "period")]);
    assert!(
        s.conflicts[0].reason.starts_with("period_locked: "),
        "{:?}",
        s.conflicts[0]
    );
    assert!(
        s.conflicts[0]
            .reason
            .contains("2026-11-01T00:00:00Z to 2026-12-01T00:00:00Z"),
        "{}",
        s.conflicts[0].reason
    );
    assert_eq!(s.added_count, 1, "December is not locked");
    assert!(s.reopened_periods.is_empty());
    assert_eq!(f.events() - events, 1);
    assert_eq!(
        f.count("SELECT count(*) FROM payments WHERE session_id = 'L-1' AND state = 'pending'"),
        1
    );
    assert_eq!(
        f.count("SELECT count(*) FROM reconciled_periods WHERE status = 'locked'"),
        1
    );
    // A child of a payment in the period is a change of the period too.
    let child = f.file(
        "child.csv",
        b"session_id,parent_session_id,operation,amount,currency,state
LC-1,L-1,refund,1.000,KWD,refunded
",
    );
    let s = f.import(&child, true);
    assert_eq!((s.conflict_count, s.added_count), (1, 0));
    assert_eq!(s.conflicts[0].field, "period");

    // With --reopen: applied, and the period says it was reopened.
    let dry = f
        .run(ReportImportRequest {
            reopen: true,
            ..f.request(&path, &[], false)
        })
        .unwrap();
    assert_eq!(
        dry.reopened_periods.len(),
        1,
        "a dry run says what a commit would reopen"
    );
    assert_eq!(
        f.count("SELECT count(*) FROM reconciled_periods WHERE status = 'locked'"),
        1
    );
    let s = f
        .run(ReportImportRequest {
            reopen: true,
            ..f.request(&path, &[], true)
        })
        .unwrap();
    assert_eq!(
        (s.conflict_count, s.updated_count, s.added_count),
        (0, 1, 1)
    );
    assert_eq!(s.reopened_periods.len(), 1);
    assert_eq!(s.reopened_periods[0].from, "2026-11-01T00:00:00Z");
    assert_eq!(
        f.count("SELECT count(*) FROM reconciled_periods WHERE status = 'reopened'"),
        1
    );
    assert_eq!(
        f.count("SELECT count(*) FROM payments WHERE session_id = 'L-1' AND state = 'paid'"),
        1
    );
}

/// Daftar's own CSV export (English and Arabic headers) imports into a fresh ledger: its
/// closing `total` rows are skipped quietly, the `'` that neutralised hostile text is taken
/// off, and the totals are the export's.
#[test]
fn a_daftar_ledger_export_round_trips_into_a_fresh_ledger() {
    let mut f = Fixture::new();
    f.add("X-1", Some("O-1"), "12.500", "KWD", "paid");
    f.add("X-2", Some("O-2"), "7.250", "KWD", "authorized");
    f.add("X-3", Some("O-3"), "3.000", "KWD", "refunded");
    f.add("X-4", Some("O-4"), "1.00", "USD", "paid");
    // Hostile customer emails (as a sync from Ottu could bring them).
    for (session, email) in [
        ("X-1", "=HYPERLINK(\"http://evil\")"),
        ("X-2", "-2+3"),
        ("X-3", "@SUM(A1)"),
        ("X-4", "'quoted"),
    ] {
        f.ledger
            .store()
            .connection()
            .execute(
                "UPDATE payments SET customer_email = ?2 WHERE session_id = ?1",
                [session, email],
            )
            .unwrap();
    }
    for lang in ["en", "ar"] {
        let target = f.dir.path().join(format!("ledger-{lang}.csv"));
        let exported = f
            .ledger
            .export_job(daftar::export::ExportRequest {
                profile: Some("shop".into()),
                lang: Some(lang.into()),
                ..daftar::export::ExportRequest::new("ledger", "csv", &target)
            })
            .unwrap()
            .run(|_| {})
            .unwrap();
        let text = std::fs::read_to_string(&target).unwrap();
        assert!(text.contains("'=HYPERLINK"), "the export neutralised it");
        let fresh = Fixture::new();
        let s = fresh.import(&target, true);
        assert_eq!(s.rejected_count, 0, "{lang}: {:?}", s.rejected);
        assert_eq!((s.added_count, s.skipped_totals), (4, 2), "{lang}");
        assert_eq!(s.totals, exported.totals, "{lang}");
        let mut fresh = fresh;
        let emails: Vec<String> = {
            let conn = fresh.ledger.store().connection();
            let mut stmt = conn
                .prepare("SELECT customer_email FROM payments ORDER BY session_id")
                .unwrap();
            stmt.query_map([], |r| r.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        };
        assert_eq!(
            emails,
            ["=HYPERLINK(\"http://evil\")", "-2+3", "@SUM(A1)", "'quoted"],
            "{lang}"
        );
    }
}

#[test]
fn an_order_number_taken_earlier_in_the_file_conflicts_on_a_first_import_too() {
    for seeded in [false, true] {
        let mut f = Fixture::new();
        if seeded {
            f.add("OLD-1", Some("O-OLD"), "1.000", "KWD", "paid");
        }
        let csv = "session_id,order_no,amount,currency,state\nF-1,O-1,1.000,KWD,failed\nF-2,O-1,1.000,KWD,paid\nF-3,O-3,1.000,KWD,paid\n";
        let path = f.file("orders.csv", csv.as_bytes());
        let dry = f.import(&path, false);
        let s = f.import(&path, true);
        assert_eq!(dry.conflicts, s.conflicts, "seeded: {seeded}");
        assert_eq!(
            (s.added_count, s.conflict_count),
            (2, 1),
            "seeded: {seeded}"
        );
        assert_eq!(
            (s.conflicts[0].line, s.conflicts[0].field.as_str()),
            (3, "order_no"),
            "seeded: {seeded}"
        );
        assert_eq!(
            f.count("SELECT count(*) FROM payments WHERE order_no = 'O-1'"),
            1
        );
    }
}

#[test]
fn a_state_change_waits_while_an_operation_is_unfinished() {
    let mut f = Fixture::new();
    f.add("Q-1", None, "5.000", "KWD", "paid");
    f.ledger
        .queue(&QueueRequest {
            kind: "refund".into(),
            payment: PaymentLookup {
                profile: Some("shop".into()),
                session_id: Some("Q-1".into()),
                order_no: None,
            },
            amount: None,
            reason: None,
        })
        .unwrap();
    let path = f.file(
        "q.csv",
        b"session_id,amount,currency,state\nQ-1,5.000,KWD,refunded\n",
    );
    let s = f.import(&path, true);
    assert_eq!(s.conflict_count, 1);
    assert_eq!(s.conflicts[0].field, "state");
    assert_eq!(
        f.count("SELECT count(*) FROM payments WHERE state = 'paid'"),
        1
    );
}

#[test]
fn a_map_override_is_saved_only_when_the_run_commits() {
    let mut f = Fixture::new();
    let csv = "Txn Ref,Amount,Currency,State,Notes\nT-1,1.000,KWD,paid,hello\n";
    let path = f.file("custom.csv", csv.as_bytes());
    let err = f.run(f.request(&path, &[], false)).unwrap_err();
    assert_eq!(err.code(), "mapping.missing_field");
    assert_eq!(err.params()["field"], "session_id");
    assert_eq!(
        err.params()["headers"],
        serde_json::json!(["Txn Ref", "Amount", "Currency", "State", "Notes"])
    );
    let dry = f
        .run(f.request(&path, &["Txn Ref=session_id"], false))
        .unwrap();
    assert_eq!(dry.added_count, 1);
    assert!(
        f.ledger
            .column_map("shop", FileKind::Report)
            .unwrap()
            .is_empty()
    );
    f.run(f.request(&path, &["Txn Ref=session_id", "Notes=-"], true))
        .unwrap();
    let saved = f.ledger.column_map("shop", FileKind::Report).unwrap();
    let saved: Vec<(&str, Option<&str>)> = saved
        .iter()
        .map(|c| (c.header.as_str(), c.field.as_deref()))
        .collect();
    assert_eq!(saved, [("notes", None), ("txn ref", Some("session_id"))]);
    // Without --map now: the saved mapping is used.
    let again = f.import(&path, false);
    assert_eq!(again.unchanged_count, 1);
    assert_eq!(again.columns[4].field, None);
    // set_column_map checks the field names.
    let bad = f.ledger.set_column_map(&ColumnMapRequest {
        profile: "shop".into(),
        kind: FileKind::Report,
        map: vec!["Txn Ref=sesion_id".into()],
    });
    assert_eq!(bad.unwrap_err().code(), "mapping.unknown_field");
}

/// The rejects file is opened in Excel: no cell of it can start a formula.
#[test]
fn the_rejects_file_neutralises_formulas() {
    let f = Fixture::new();
    let path = f.file(
        "hostile.csv",
        "session_id,amount,currency,state,customer_email\n=cmd|' /C calc'!A0,1.000,KWD,paid,@x\nS-1,-1.000,KWD,paid,+1\n".as_bytes(),
    );
    let s = f.import(&path, true);
    assert_eq!(s.rejected_count, 2, "{:?}", s.rejected);
    let file = s.rejects_file.expect("a rejects file");
    assert!(!std::path::Path::new(&format!("{file}.partial")).exists());
    let text = std::fs::read_to_string(&file).unwrap();
    let text = text.trim_start_matches('\u{feff}');
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut cells = 0;
    for record in reader.records() {
        for cell in record.unwrap().iter() {
            cells += 1;
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{cell:?} in {text}"
            );
        }
    }
    assert!(cells >= 21, "{text}");
    assert!(text.contains("'=cmd"), "{text}");
    assert!(text.contains("'-1.000"), "{text}");
}

#[test]
fn a_cancelled_import_applies_nothing() {
    let mut f = Fixture::new();
    let mut csv = String::from("session_id,amount,currency,state\n");
    for n in 0..5_000 {
        csv.push_str(&format!("S-{n:05},1.000,KWD,paid\n"));
        if n % 1_000 == 0 {
            // A rejected row early on: the rejects file has begun when the cancel comes.
            csv.push_str(&format!("B-{n:05},abc,KWD,paid\n"));
        }
    }
    let path = f.file("big.csv", csv.as_bytes());
    let cancel = AtomicBool::new(true);
    let err = ReportImportJob::new(&f.ledger, f.request(&path, &[], true))
        .unwrap()
        .run(|_| {}, &cancel)
        .unwrap_err();
    assert_eq!(err.code(), "interrupted");
    assert_eq!(f.payments(), 0);
    let names: Vec<String> = std::fs::read_dir(f.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("rejects"))
        .collect();
    assert!(
        names.is_empty(),
        "no rejects file, whole or partial: {names:?}"
    );
    // Progress comes by rows and bytes, ending at the file's size.
    let mut seen = Vec::new();
    ReportImportJob::new(&f.ledger, f.request(&path, &[], false))
        .unwrap()
        .run(|p| seen.push(p), &AtomicBool::new(false))
        .unwrap();
    let last = seen.last().unwrap();
    assert_eq!((last.rows, last.bytes), (5_005, last.total_bytes));
    assert!(seen.len() >= 3, "{}", seen.len());
}

#[test]
fn the_cli_prints_the_summary_as_json_with_its_exit_codes() {
    let cli = Cli::new();
    cli.ok(&[
        "profile",
        "add",
        "shop",
        "--base-url",
        "https://shop.ottu.net",
        "--currency",
        "KWD",
    ]);
    let path = cli.dir.path().join("r.csv");
    std::fs::write(&path, CLEAN.replace("S-003", "S 003")).unwrap();
    let file = path.to_str().unwrap();

    let dry = cli.ok_json(&["import-report", "--profile", "shop", file]);
    assert_eq!(dry["committed"], false);
    assert_eq!(dry["added_count"], 3);
    assert_eq!(dry["rejected_count"], 1);
    assert_eq!(dry["rejected"][0]["line"], 4);
    assert_eq!(dry["rejected"][0]["code"], "row.bad_reference");
    assert_eq!(dry["columns"][5]["field"], "currency");
    assert!(!path.with_file_name("r.csv.rejects.csv").exists());

    let done = cli.ok_json(&[
        "import-report",
        "--profile",
        "shop",
        file,
        "--commit",
        "--map",
        "pg_code=-",
    ]);
    assert_eq!(done["committed"], true);
    assert_eq!(done["rejects_file"], format!("{file}.rejects.csv"));
    assert!(path.with_file_name("r.csv.rejects.csv").exists());
    let map = cli.ok_json(&["import-report", "--profile", "shop", "--show-map"]);
    assert_eq!(
        map,
        serde_json::json!([{"header": "pg code", "field": null}])
    );
    let again = cli.ok_json(&["import-report", "--profile", "shop", file, "--commit"]);
    assert_eq!(again["unchanged_count"], 3);

    // Text: the plan names the rejected line.
    let text = cli.ok(&["import-report", "--profile", "shop", file]).stdout;
    assert!(text.contains("Dry run of"), "{text}");
    assert!(
        text.contains("line 4: row.bad_reference (session_id)"),
        "{text}"
    );

    let code = |args: &[&str], exit: i32| -> String {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let run = cli.run(&all);
        assert_eq!(run.code, exit, "{args:?}: {}{}", run.stdout, run.stderr);
        run.json()["error"]["code"].as_str().unwrap().to_string()
    };
    assert_eq!(
        code(&["import-report", "--profile", "shop", "missing.csv"], 2),
        "table.unreadable"
    );
    assert_eq!(
        code(
            &[
                "import-report",
                "--profile",
                "shop",
                file,
                "--map",
                "nonsense"
            ],
            2
        ),
        "mapping.bad_override"
    );
    assert_eq!(
        code(
            &[
                "import-report",
                "--profile",
                "shop",
                file,
                "--map",
                "session_id=-"
            ],
            2
        ),
        "mapping.missing_field"
    );
    assert_eq!(
        code(&["import-report", "--profile", "nobody", file], 4),
        "not_found"
    );
    assert_eq!(
        code(&["import-report", "--profile", "shop"], 2),
        "usage.missing_argument"
    );
}

fn sandbox_ledger(f: &mut Fixture, sandbox: &daftar_sandbox::RunningSandbox) {
    f.ledger
        .add_profile("ottu", sandbox.base_url(), "KWD")
        .unwrap();
    f.ledger
        .set_key(
            "ottu",
            Credential::ApiKey(SecretString::from(sandbox.api_key().to_string())),
        )
        .unwrap();
}

fn quick() -> ClientConfig {
    ClientConfig {
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(10),
    }
}

#[test]
fn a_report_downloaded_by_token_from_the_sandbox_imports_and_429_names_the_limit() {
    let sandbox = Sandbox::start(Config {
        payments: 12,
        ..Config::empty()
    })
    .unwrap();
    let mut f = Fixture::new();
    sandbox_ledger(&mut f, &sandbox);
    let list = f
        .ledger
        .report_list(&ReportListRequest {
            profile: "ottu".into(),
            from: None,
            to: None,
        })
        .unwrap();
    // Daily CSV reports, oldest first: a refund's parent may be in an earlier day's report.
    let tokens: Vec<String> = list
        .reports
        .iter()
        .rev()
        .filter(|r| {
            r.format
                .as_deref()
                .is_some_and(|f| f.eq_ignore_ascii_case("csv"))
        })
        .filter_map(|r| r.token.clone())
        .collect();
    assert!(!tokens.is_empty(), "no CSV report listed: {list:?}");
    let rejects = f.dir.path().join("rejects.csv");
    let request = |token: &str| ReportImportRequest {
        profile: "ottu".into(),
        token: Some(token.to_string()),
        commit: true,
        rejects_path: Some(rejects.clone()),
        ..ReportImportRequest::default()
    };
    let run = |request: ReportImportRequest| {
        ReportImportJob::new(&f.ledger, request)
            .unwrap()
            .with_client_config(quick())
            .run(|_| {}, &AtomicBool::new(false))
    };
    let mut added = 0;
    for token in &tokens {
        let s = run(request(token)).unwrap();
        assert!(s.committed);
        assert_eq!(s.file, format!("report {token}"));
        assert_eq!(s.rejected_count, 0, "{:?}", s.rejected);
        added += s.added_count;
    }
    assert!(added >= 12, "{added}");
    let token = tokens[0].clone();
    // Downloaded and imported again: nothing changes.
    let again = run(request(&token)).unwrap();
    assert_eq!((again.added_count, again.updated_count), (0, 0));

    // The monthly XLSX reports (Arabic labels, amounts as number cells) of the same
    // payments, once their months have ended, into a fresh ledger: the same payments.
    sandbox
        .advance_clock(Duration::from_secs(40 * 86_400))
        .unwrap();
    let mut fresh = Fixture::new();
    sandbox_ledger(&mut fresh, &sandbox);
    let monthly: Vec<String> = fresh
        .ledger
        .report_list(&ReportListRequest {
            profile: "ottu".into(),
            ..ReportListRequest::default()
        })
        .unwrap()
        .reports
        .iter()
        .rev()
        .filter(|r| {
            r.format
                .as_deref()
                .is_some_and(|f| f.eq_ignore_ascii_case("xlsx"))
        })
        .filter_map(|r| r.token.clone())
        .collect();
    assert!(!monthly.is_empty(), "no XLSX report listed");
    let mut added_xlsx = 0;
    for token in &monthly {
        let s = ReportImportJob::new(&fresh.ledger, request(token))
            .unwrap()
            .with_client_config(quick())
            .run(|_| {}, &AtomicBool::new(false))
            .unwrap();
        assert_eq!(s.format, "xlsx");
        assert_eq!(s.rejected_count, 0, "{:?}", s.rejected);
        added_xlsx += s.added_count;
    }
    assert_eq!(added_xlsx, added);
    let sums = |f: &mut Fixture| {
        f.count("SELECT sum(amount_minor) FROM payments WHERE profile_id = (SELECT id FROM profiles WHERE name = 'ottu')")
    };
    let ledger_sum = {
        let conn = rusqlite::Connection::open(f.dir.path().join("ledger.sqlite3")).unwrap();
        conn.query_row(
            "SELECT sum(amount_minor) FROM payments WHERE profile_id = (SELECT id FROM profiles WHERE name = 'ottu')",
            [],
            |r| r.get::<_, i64>(0),
        )
        .unwrap()
    };
    assert_eq!(sums(&mut fresh), ledger_sum);

    let unknown = run(request("00000000-0000-0000-0000-000000000000")).unwrap_err();
    assert_eq!(unknown.code(), "report.token_expired");
    assert_eq!(unknown.kind(), daftar::ErrorKind::NotFound);
    assert!(
        unknown.to_string().contains("list the reports again"),
        "{unknown}"
    );

    sandbox
        .set_faults(FaultConfig::parse("429=1.0:120,scope=all").unwrap())
        .unwrap();
    let limited = run(request(&token)).unwrap_err();
    assert_eq!(limited.code(), "report.download_limit");
    assert_eq!(limited.kind(), daftar::ErrorKind::Unavailable);
    let message = limited.to_string();
    assert!(
        message.contains("about 25 report downloads an hour"),
        "{message}"
    );
    assert!(message.contains("try again after 120 s"), "{message}");
    assert_eq!(limited.params()["limit_per_hour"], 25);
}

/// A payment imported by session id is dated at its import (Ottu's retrieve reply has no
/// creation time): a report's `created` moves it to Ottu's time (a `created` change in the
/// plan and the audit event; once), and a locked period it would enter is a conflict unless
/// `--reopen`. A manual payment's time is the merchant's own: a report leaves it.
#[test]
fn a_payment_imported_by_id_takes_the_reports_creation_time_and_a_manual_one_keeps_its_own() {
    let sandbox = Sandbox::start(Config::empty()).unwrap();
    let mut f = Fixture::new();
    sandbox_ledger(&mut f, &sandbox);
    for (session, created) in [
        ("OT-1", "2026-11-03T14:22:05Z"),
        ("OT-2", "2026-11-04T09:00:00Z"),
        ("OT-3", "2026-10-15T08:30:00Z"),
    ] {
        let payment: daftar_sandbox::NewPayment = serde_json::from_value(serde_json::json!({
            "session_id": session, "order_no": format!("O-{session}"), "amount": "10.000",
            "state": "paid", "created_at": created,
        }))
        .unwrap();
        sandbox.add_payment(payment).unwrap();
    }
    let runtime = common::ottu::test_runtime();
    let remote = Remote {
        runtime: runtime.handle().clone(),
        client_config: quick(),
    };
    let ids: Vec<String> = ["OT-1", "OT-2", "OT-3"].map(String::from).to_vec();
    let imported = f
        .ledger
        .import_from_ottu(&remote, "ottu", &ids, &mut |_| {})
        .unwrap();
    assert_eq!(imported.added, 3, "{imported:?}");
    f.ledger
        .add_payment(&PaymentInput {
            profile: "ottu".into(),
            session_id: "M-1".into(),
            order_no: Some("O-M-1".into()),
            amount: "10.000".into(),
            currency: "KWD".into(),
            state: "paid".into(),
        })
        .unwrap();
    let created = |f: &mut Fixture, session: &str| {
        f.count(&format!(
            "SELECT created_at_ms FROM payments WHERE session_id = '{session}'"
        ))
    };
    for session in ["OT-1", "OT-2", "OT-3", "M-1"] {
        assert_eq!(created(&mut f, session), NOW_MS, "{session} is dated now");
    }
    // October 2026, locked after a reconciliation: OT-3's Ottu time lies in it.
    f.lock_period("ottu", 1_790_812_800_000, 1_793_491_200_000);
    // OT-2's row has no creation time: nothing to move.
    let csv = "session_id,order_no,amount,currency,state,created
OT-1,O-OT-1,10.000,KWD,paid,2026-11-03T14:22:05Z
OT-2,O-OT-2,10.000,KWD,paid,
OT-3,O-OT-3,10.000,KWD,paid,2026-10-15T08:30:00Z
M-1,O-M-1,10.000,KWD,paid,2026-11-04T09:00:00Z
";
    let path = f.file("ottu.csv", csv.as_bytes());
    let request = |commit: bool, reopen: bool| ReportImportRequest {
        profile: "ottu".into(),
        path: path.clone(),
        commit,
        reopen,
        ..ReportImportRequest::default()
    };
    let events = f.events();
    let dry = f.run(request(false, false)).unwrap();
    assert_eq!(
        (dry.updated_count, dry.unchanged_count, dry.conflict_count),
        (1, 2, 1),
        "{dry:?}"
    );
    assert_eq!(dry.updated[0].session_id, "OT-1");
    assert_eq!(
        dry.updated[0].changes,
        [FieldChange {
            field: "created".into(),
            ledger: Some("2026-11-20T10:00:00Z".into()),
            report: Some("2026-11-03T14:22:05Z".into()),
        }]
    );
    let conflict = &dry.conflicts[0];
    assert_eq!(
        (conflict.session_id.as_str(), conflict.field.as_str()),
        ("OT-3", "period")
    );
    assert!(
        conflict.reason.starts_with("period_locked: ") && conflict.reason.contains("creation time"),
        "{}",
        conflict.reason
    );
    assert_eq!(created(&mut f, "OT-1"), NOW_MS, "a dry run writes nothing");
    assert_eq!(f.events(), events);

    let s = f.run(request(true, false)).unwrap();
    assert_eq!((s.updated_count, s.conflict_count), (1, 1), "{s:?}");
    assert_eq!(created(&mut f, "OT-1"), 1_793_715_725_000);
    assert_eq!(created(&mut f, "OT-2"), NOW_MS);
    assert_eq!(
        created(&mut f, "OT-3"),
        NOW_MS,
        "a conflict is never applied"
    );
    assert_eq!(
        created(&mut f, "M-1"),
        NOW_MS,
        "a manual payment keeps its time"
    );
    assert_eq!(f.events() - events, 1);
    let (before, after): (String, String) = f
        .ledger
        .store()
        .connection()
        .query_row(
            "SELECT before_json, after_json FROM events
             WHERE action = 'payment.imported_report' ORDER BY id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let before: serde_json::Value = serde_json::from_str(&before).unwrap();
    let after: serde_json::Value = serde_json::from_str(&after).unwrap();
    assert_eq!(before["created"], "2026-11-20T10:00:00Z");
    assert_eq!(after["created"], "2026-11-03T14:22:05Z");

    // Again: OT-1 is unchanged now; OT-3 still waits for --reopen.
    let again = f.run(request(true, false)).unwrap();
    assert_eq!(
        (
            again.updated_count,
            again.unchanged_count,
            again.conflict_count
        ),
        (0, 3, 1),
        "{again:?}"
    );
    let reopened = f.run(request(true, true)).unwrap();
    assert_eq!((reopened.updated_count, reopened.conflict_count), (1, 0));
    assert_eq!(created(&mut f, "OT-3"), 1_792_053_000_000);
    assert_eq!(reopened.reopened_periods.len(), 1, "{reopened:?}");
    assert_eq!(reopened.reopened_periods[0].from, "2026-10-01T00:00:00Z");
    let reason: String = f
        .ledger
        .store()
        .connection()
        .query_row(
            "SELECT reopen_reason FROM reconciled_periods WHERE status = 'reopened'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(reason, "payment_added");
    let last = f.run(request(true, true)).unwrap();
    assert_eq!((last.updated_count, last.unchanged_count), (0, 4));
}
