//! A newcomer's whole month end through the `daftar` binary, against the bundled sandbox
//! (in-process, loopback): a profile and its key, the list of Ottu's reports, the monthly
//! XLSX report with Arabic labels imported with a dry run and then `--commit`, a
//! reconciliation of the month (from the downloaded file and by report token) and its lock,
//! the acquirer's settlement file imported and matched, and
//! the ledger exported as CSV and XLSX. Written against the CLI contract of issue 10.
//!
//! Needs the OS keyring (run it through `scripts/keyring-session.sh`).

mod common;

use std::collections::BTreeMap;

use common::Cli;
use common::keyring::{keyring_required, unique_profile};
use daftar_sandbox::settlement::{SettledWhat, UNKNOWN_ORDER_NO};
use daftar_sandbox::{Config, PaymentState, Sandbox};
use serde_json::Value;

/// Removes the test's key from the keyring when the test ends, even when it fails.
struct KeyGuard<'a> {
    cli: &'a Cli,
    profile: String,
}

impl Drop for KeyGuard<'_> {
    fn drop(&mut self) {
        let _ = self.cli.run(&["profile", "remove-key", &self.profile]);
    }
}

/// The CLI with every stdout and stderr kept, to look for the API key in them at the end.
struct Watched<'a> {
    cli: &'a Cli,
    outputs: std::cell::RefCell<Vec<String>>,
}

impl std::ops::Deref for Watched<'_> {
    type Target = Cli;
    fn deref(&self) -> &Cli {
        self.cli
    }
}

impl Watched<'_> {
    fn keep(&self, run: common::Run) -> common::Run {
        self.outputs
            .borrow_mut()
            .push(format!("{}\n{}", run.stdout, run.stderr));
        run
    }
    fn run(&self, args: &[&str]) -> common::Run {
        self.keep(self.cli.run(args))
    }
    fn ok(&self, args: &[&str]) -> common::Run {
        let run = self.run(args);
        assert_eq!(run.code, 0, "daftar {args:?}: {}{}", run.stdout, run.stderr);
        run
    }
    fn ok_json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        self.ok(&all).json()
    }
    fn run_stdin(&self, args: &[&str], stdin: &str) -> common::Run {
        self.keep(self.cli.run_stdin(args, stdin))
    }
}

/// Every file under `dir`, recursively.
fn files_under(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}"))
}

#[test]
fn a_newcomers_month_end_from_report_to_settlement_to_export() {
    if !keyring_required() {
        return;
    }
    // The demo's sandbox: seeded payments in December 2025, every refund succeeds.
    let sandbox = Sandbox::start(Config {
        payments: 60,
        varied_gateways: false,
        ..Config::default()
    })
    .unwrap();
    let state = sandbox.state().unwrap();
    let real_cli = Cli::new();
    let cli = Watched {
        cli: &real_cli,
        outputs: Default::default(),
    };
    let profile = unique_profile("month-end");
    cli.ok(&[
        "profile",
        "add",
        &profile,
        "--base-url",
        sandbox.base_url(),
        "--currency",
        "KWD",
    ]);
    let set = cli.run_stdin(
        &["profile", "set-key", &profile, "--stdin"],
        &format!("{}\n", sandbox.api_key()),
    );
    assert_eq!(set.code, 0, "set-key: {}{}", set.stdout, set.stderr);
    let guard = KeyGuard {
        cli: &real_cli,
        profile: profile.clone(),
    };
    let p = guard.profile.as_str();

    // 1. Ottu's reports: the daily CSVs and the monthly XLSX ones with Arabic labels.
    let list = cli.ok_json(&["import-report", "--profile", p, "--list"]);
    let reports = list["reports"].as_array().expect("reports listed");
    let monthly: Vec<&Value> = reports.iter().filter(|r| r["format"] == "xlsx").collect();
    assert!(!monthly.is_empty(), "{list:#}");
    assert!(reports.iter().any(|r| r["format"] == "csv"));

    // 2. Each monthly report: a dry run first (nothing written), then --commit.
    let mut added = 0;
    let mut dry_totals: BTreeMap<String, Value> = BTreeMap::new();
    for report in &monthly {
        let token = s(&report["token"]).to_string();
        let before = cli.dump();
        let dry = cli.ok_json(&["import-report", "--profile", p, "--token", &token]);
        assert_eq!(dry["committed"], false, "{dry:#}");
        assert_eq!(dry["format"], "xlsx");
        assert_eq!(dry["rejected_count"], 0, "{dry:#}");
        let columns = dry["columns"].as_array().unwrap();
        let field_of = |header: &str| {
            columns
                .iter()
                .find(|c| c["header"] == header)
                .map(|c| c["field"].clone())
        };
        assert_eq!(field_of("رقم الجلسة"), Some("session_id".into()));
        assert_eq!(field_of("المبلغ"), Some("amount".into()));
        assert_eq!(field_of("الرقم المرجعي"), Some("reference_number".into()));
        assert_eq!(cli.dump(), before, "a dry run writes nothing");
        // The text form too (its output is searched for the key below).
        cli.ok(&["import-report", "--profile", p, "--token", &token]);
        dry_totals.insert(s(&report["name"]).to_string(), dry["totals"].clone());
        let done = cli.ok_json(&[
            "import-report",
            "--profile",
            p,
            "--token",
            &token,
            "--commit",
        ]);
        assert_eq!(done["committed"], true);
        assert_eq!(done["added_count"], dry["added_count"]);
        added += done["added_count"].as_u64().unwrap();
        // The same report again changes nothing.
        let after = cli.dump();
        let again = cli.ok_json(&[
            "import-report",
            "--profile",
            p,
            "--token",
            &token,
            "--commit",
        ]);
        assert_eq!(again["added_count"], 0, "{again:#}");
        assert_eq!(again["updated_count"], 0, "{again:#}");
        assert_eq!(cli.dump(), after);
    }
    // Every payment and every child, each with the reference number the bank will show.
    let children = state.children().count();
    assert_eq!(added as usize, state.payments.len() + children);
    {
        let conn = rusqlite::Connection::open(&cli.db).unwrap();
        let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
        assert_eq!(
            count("SELECT count(*) FROM payments") as usize,
            state.payments.len()
        );
        assert_eq!(count("SELECT count(*) FROM children") as usize, children);
        assert_eq!(
            count("SELECT count(*) FROM payments WHERE reference_number LIKE 'SBX%'") as usize,
            state.payments.len()
        );
        assert_eq!(
            count("SELECT count(*) FROM children WHERE reference_number LIKE 'SBX%'") as usize,
            children
        );
    }

    // 3. Reconcile December against its report: the ledger was built from it, so clean.
    let december = monthly
        .iter()
        .find(|r| s(&r["name"]).ends_with("2025-12"))
        .expect("December's report");
    let december_token = s(&december["token"]).to_string();
    // The report file as the merchant downloads it from Ottu's dashboard.
    let december_file = cli.dir.path().join("transactions-2025-12.xlsx");
    let bytes = common::ottu::test_runtime().block_on(async {
        reqwest::Client::new()
            .get(format!(
                "{}/b/api/v1/reports/files/{december_token}/download/",
                sandbox.base_url()
            ))
            .header("Authorization", sandbox.api_key_header())
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap()
    });
    std::fs::write(&december_file, &bytes).unwrap();
    let reconciled = cli.ok_json(&[
        "reconcile",
        "--profile",
        p,
        "--report",
        december_file.to_str().unwrap(),
        "--from",
        "2025-12-01",
        "--to",
        "2025-12-31",
    ]);
    assert_eq!(reconciled["clean"], true, "{reconciled:#}");
    assert!(reconciled["id"].as_i64().is_some());
    // The same through Ottu's reports API, by token; then the month is locked.
    let by_token = cli.ok_json(&[
        "reconcile",
        "--profile",
        p,
        "--report-token",
        &december_token,
        "--from",
        "2025-12-01",
        "--to",
        "2025-12-31",
    ]);
    assert_eq!(by_token["clean"], true, "{by_token:#}");
    assert_eq!(by_token["classes"], reconciled["classes"]);
    // One definition of the totals: the import's dry run of December's report, the
    // reconciliation's report side and the export of the ledger it built agree.
    let december_export = cli.dir.path().join("december.csv");
    let exported = cli.ok_json(&[
        "export",
        "ledger",
        "--format",
        "csv",
        "--profile",
        p,
        "--from",
        "2025-12-01",
        "--to",
        "2025-12-31",
        "-o",
        december_export.to_str().unwrap(),
    ]);
    let money = |totals: &Value| -> Vec<[String; 5]> {
        totals
            .as_array()
            .unwrap_or_else(|| panic!("totals: {totals}"))
            .iter()
            .map(|t| {
                ["currency", "paid", "captured", "refunded", "voided"].map(|k| s(&t[k]).to_string())
            })
            .collect()
    };
    let dry_december = &dry_totals[s(&december["name"])];
    assert!(!money(dry_december).is_empty(), "{dry_december:#}");
    assert_eq!(
        money(dry_december),
        money(&reconciled["report_totals"]),
        "import dry run vs reconcile"
    );
    assert_eq!(
        money(dry_december),
        money(&exported["totals"]),
        "import dry run vs export"
    );
    let locked = cli.ok_json(&[
        "reconcile",
        "lock",
        "--profile",
        p,
        "--from",
        "2025-12-01",
        "--to",
        "2025-12-31",
    ]);
    assert_eq!(locked["status"], "locked", "{locked:#}");

    // 4. The acquirer's settlement file: dry run, commit, match.
    let settlement = sandbox.settlement_file().unwrap();
    let file = cli.dir.path().join(&settlement.file_name);
    std::fs::write(&file, &settlement.bytes).unwrap();
    let file = file.to_str().unwrap();
    let lines = settlement.lines.len() as u64;
    let dry = cli.ok_json(&["settlement", "import", "--profile", p, file]);
    assert_eq!(
        (
            dry["committed"].clone(),
            dry["added_count"].as_u64(),
            dry["rejected_count"].as_u64()
        ),
        (Value::Bool(false), Some(lines), Some(0)),
        "{dry:#}"
    );
    let done = cli.ok_json(&["settlement", "import", "--profile", p, file, "--commit"]);
    assert_eq!(done["added_count"].as_u64(), Some(lines));
    let again = cli.ok_json(&["settlement", "import", "--profile", p, file, "--commit"]);
    assert_eq!(
        (
            again["added_count"].as_u64(),
            again["duplicate_count"].as_u64()
        ),
        (Some(0), Some(lines))
    );

    let report = cli.ok_json(&["settlement", "match", "--profile", p]);
    let settled_lines = settlement
        .lines
        .iter()
        .filter(|l| l.what != SettledWhat::Unknown)
        .count() as u64;
    assert_eq!(
        report["matched_count"].as_u64(),
        Some(settled_lines),
        "{report:#}"
    );
    assert_eq!(report["amount_differs_count"], 0);
    assert_eq!(report["unknown_count"], 1, "{report:#}");
    assert_eq!(report["unknown"][0]["order_no"], UNKNOWN_ORDER_NO);
    assert_eq!(report["unknown"][0]["reason"], "no_payment");
    assert_eq!(report["not_settled_count"], 1, "{report:#}");
    let unsettled = settlement.unsettled.clone().unwrap();
    assert_eq!(report["not_settled"][0]["session_id"], unsettled.as_str());
    // Every lag is the sandbox's own (1 to 3 business days), the fee its 1.5%.
    for item in report["matched"].as_array().unwrap() {
        let line = settlement
            .lines
            .iter()
            .find(|l| match &l.what {
                SettledWhat::Payment(id) | SettledWhat::Refund(id) | SettledWhat::Capture(id) => {
                    id == s(&item["session_id"])
                }
                SettledWhat::Unknown => false,
            })
            .expect("a sandbox line");
        assert_eq!(item["lag_days"].as_u64(), Some(line.lag_days), "{item}");
        assert_eq!(item["settled_on"], line.settled_on.as_str());
        assert_eq!(item["matched_by"], "reference");
    }
    // Fees per currency: the sum of the sandbox's fees on the matched lines.
    let mut fees: BTreeMap<String, i64> = BTreeMap::new();
    for l in &settlement.lines {
        if l.what != SettledWhat::Unknown {
            *fees.entry(l.currency.clone()).or_default() += l.fee_minor;
        }
    }
    for t in report["totals"].as_array().unwrap() {
        let currency = s(&t["currency"]);
        let decimals = match currency {
            "JPY" => 0,
            "SAR" => 2,
            _ => 3,
        };
        let minor = fees.get(currency).copied().unwrap_or(0);
        let expected = if decimals == 0 {
            minor.to_string()
        } else {
            let scale = 10i64.pow(decimals);
            format!(
                "{}.{:0w$}",
                minor / scale,
                minor % scale,
                w = decimals as usize
            )
        };
        assert_eq!(t["fees"], expected.as_str(), "{currency}");
    }

    // Settlement lines change no payment: the month stays locked.
    let periods = cli.ok_json(&["reconcile", "periods", "--profile", p]);
    assert_eq!(periods[0]["status"], "locked", "{periods:#}");

    // 5. Exports for the accountant: CSV (BOM, Arabic headers) and XLSX.
    let csv_path = cli.dir.path().join("ledger.csv");
    let exported = cli.ok_json(&[
        "export",
        "ledger",
        "--format",
        "csv",
        "--profile",
        p,
        "--lang",
        "ar",
        "-o",
        csv_path.to_str().unwrap(),
    ]);
    assert_eq!(exported["rows"].as_u64(), Some(state.payments.len() as u64));
    let bytes = std::fs::read(&csv_path).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "a UTF-8 BOM for Excel");
    let text = String::from_utf8(bytes).unwrap();
    assert!(
        text.lines()
            .next()
            .unwrap()
            .chars()
            .any(|c| ('\u{0600}'..='\u{06FF}').contains(&c))
    );
    // The export's paid total is the sandbox's: paid and refunded payments' amounts.
    let mut paid: BTreeMap<String, i64> = BTreeMap::new();
    for payment in &state.payments {
        if matches!(payment.state, PaymentState::Paid | PaymentState::Refunded) {
            *paid.entry(payment.currency_code.clone()).or_default() += payment.amount_minor;
        } else {
            *paid.entry(payment.currency_code.clone()).or_default() += payment.captured_minor;
        }
    }
    let kwd = exported["totals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["currency"] == "KWD")
        .unwrap();
    let kwd_paid = paid["KWD"];
    assert_eq!(
        kwd["paid"],
        format!("{}.{:03}", kwd_paid / 1000, kwd_paid % 1000).as_str()
    );

    let xlsx_path = cli.dir.path().join("ledger.xlsx");
    let exported = cli.ok_json(&[
        "export",
        "ledger",
        "--format",
        "xlsx",
        "--profile",
        p,
        "-o",
        xlsx_path.to_str().unwrap(),
    ]);
    assert_eq!(exported["format"], "xlsx");
    assert_eq!(exported["rows"].as_u64(), Some(state.payments.len() as u64));
    assert!(
        std::fs::read(&xlsx_path)
            .unwrap()
            .starts_with(b"PK\x03\x04")
    );
    // A refused download's message names no key either.
    let refused = cli.run(&["import-report", "--profile", p, "--token", "no-such-token"]);
    assert_ne!(refused.code, 0);

    // The sandbox's API key is nowhere: not in any output of the run, not in any file it
    // wrote (exports, rejects, the ledger and its journal).
    let key = sandbox.api_key().to_string();
    assert!(key.len() >= 8, "a real key to look for");
    for output in cli.outputs.borrow().iter() {
        assert!(!output.contains(&key), "the API key in an output: {output}");
    }
    assert!(cli.outputs.borrow().len() >= 15);
    let mut files = Vec::new();
    files_under(cli.dir.path(), &mut files);
    assert!(files.iter().any(|f| f == &cli.db), "{files:?}");
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        assert!(
            !bytes.windows(key.len()).any(|w| w == key.as_bytes()),
            "the API key in {}",
            file.display()
        );
    }
    drop(guard);
}
