//! The month-end commands over the real IPC path (Tauri's mock runtime), on a real ledger:
//! a file handed over as bytes, a report's dry run and commit, a reconciliation with a
//! decision and a locked period, a settlement file checked, imported and matched, and an
//! export written to the Downloads folder under the shell's own name. No Ottu: everything
//! here reads files (adding the profile asks the keyring: run under
//! `scripts/keyring-session.sh cargo test -p daftar-app`).

mod common;

use common::App;
use serde_json::{Value, json};

const REPORT: &str = "session_id,order_no,amount,currency,state,created,reference_number\r
S-001,ORD-1,12.500,KWD,paid,2026-11-03T14:22:05Z,RRN-1\r
S-002,ORD-2,7.250,KWD,paid,2026-11-04T09:00:00Z,RRN-2\r
S-003,ORD-3,x12,KWD,paid,2026-11-05T10:00:00Z,\r
";

fn app_with_profile() -> App {
    let app = App::with(false, None);
    app.ok(
        "add_profile",
        json!({"name": "shop", "base_url": "https://shop.ottu.net", "currency": "KWD"}),
    );
    app
}

/// Starts a job with `cmd` and waits for its `<kind>-finished` event.
fn run_job(app: &App, cmd: &str, kind: &str, request: Value) -> Value {
    let job = app.ok(cmd, request)["job"].as_u64().unwrap();
    app.wait_event(&format!("{kind}-finished"), |e| e["job"] == job)
}

#[test]
fn a_report_handed_over_as_bytes_is_checked_then_imported_once() {
    let app = app_with_profile();
    let upload = app.upload("نوفمبر report.csv", REPORT.as_bytes()).unwrap();
    assert_eq!(upload["file_name"], "نوفمبر report.csv");
    assert_eq!(upload["bytes"], REPORT.len());
    // The shell's copy is in its uploads folder under a name of its own.
    let kept = app
        .dir
        .path()
        .join("uploads")
        .join(upload["id"].as_str().unwrap())
        .join("نوفمبر report.csv");
    assert_eq!(std::fs::read(&kept).unwrap(), REPORT.as_bytes());
    assert_eq!(
        app.upload("empty.csv", b"").unwrap_err()["code"],
        "app.upload_empty"
    );

    let request = |commit: bool| json!({"profile": "shop", "upload": upload["id"], "token": null, "map": [], "commit": commit});
    let dry = run_job(&app, "report_import_start", "report", request(false));
    assert_eq!(dry["error"], Value::Null, "{dry}");
    let plan = &dry["summary"];
    assert_eq!(plan["committed"], false);
    assert_eq!(plan["added_count"], 2);
    assert_eq!(plan["rejected_count"], 1);
    assert_eq!(plan["rejected"][0]["line"], 4);
    assert_eq!(plan["rejected"][0]["code"], "row.bad_amount");
    assert!(
        app.events
            .lock()
            .unwrap()
            .iter()
            .any(|(n, p)| n == "report-progress" && p["job"] == dry["job"]),
        "no report-progress event"
    );
    let listed = app.ok("list_payments", json!({"profile": "shop"}));
    assert_eq!(listed["total"], 0, "a dry run wrote payments");

    let done = run_job(&app, "report_import_start", "report", request(true));
    assert_eq!(done["summary"]["committed"], true, "{done}");
    assert_eq!(done["summary"]["added_count"], 2);
    // The rejected row went to a new file in Downloads, not beside the shell's copy.
    let rejects = done["summary"]["rejects_file"].as_str().unwrap();
    assert!(
        rejects.starts_with(app.dir.path().join("Downloads").to_str().unwrap()),
        "{rejects}"
    );
    assert!(std::fs::read_to_string(rejects).unwrap().contains("x12"));
    assert_eq!(
        app.ok("list_payments", json!({"profile": "shop"}))["total"],
        2
    );

    let again = run_job(&app, "report_import_start", "report", request(false));
    assert_eq!(again["summary"]["added_count"], 0);
    assert_eq!(again["summary"]["unchanged_count"], 2);

    // An id the shell never gave is refused before any job starts.
    let unknown = app.err(
        "report_import_start",
        json!({"profile": "shop", "upload": "u999", "map": [], "commit": false}),
    );
    assert_eq!(unknown["code"], "app.upload_unknown");
    assert_eq!(unknown["field"], "upload");
}

#[test]
fn a_reconciliation_is_run_decided_and_its_period_locked() {
    let app = app_with_profile();
    // The ledger: S-001 as the report has it, S-002 for another amount.
    let seed = "session_id,order_no,amount,currency,state,created\r
S-001,ORD-1,12.500,KWD,paid,2026-11-03T14:22:05Z\r
S-002,ORD-2,7.000,KWD,paid,2026-11-04T09:00:00Z\r
";
    let upload = app.upload("seed.csv", seed.as_bytes()).unwrap();
    let seeded = run_job(
        &app,
        "report_import_start",
        "report",
        json!({"profile": "shop", "upload": upload["id"], "map": [], "commit": true}),
    );
    assert_eq!(seeded["summary"]["added_count"], 2, "{seeded}");

    let report = app.upload("november.csv", REPORT.as_bytes()).unwrap();
    let run = run_job(
        &app,
        "reconcile_start",
        "reconcile",
        json!({"profile": "shop", "upload": report["id"], "from": "2026-11-01", "to": "2026-11-30", "map": []}),
    );
    assert_eq!(run["error"], Value::Null, "{run}");
    let summary = &run["summary"];
    let id = summary["id"].as_i64().unwrap();
    assert_eq!(summary["clean"], false);
    // The merchant's name for the file, not the shell's copy.
    assert_eq!(summary["source"], "november.csv");
    let classes: Vec<(&str, u64)> = summary["classes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["class"].as_str().unwrap(), c["count"].as_u64().unwrap()))
        .collect();
    assert!(classes.contains(&("matched", 1)), "{classes:?}");
    assert!(classes.contains(&("amount_differs", 1)), "{classes:?}");

    let listed = app.ok("reconciliations", json!({"profile": "shop"}));
    assert_eq!(listed[0]["id"], id);
    assert_eq!(app.ok("reconciliation", json!({"id": id}))["id"], id);
    let page = app.ok(
        "reconcile_items",
        json!({"id": id, "class": "amount_differs"}),
    );
    let item = &page["items"][0];
    assert_eq!(item["session_id"], "S-002");

    // The period cannot be locked while the mismatch is undecided.
    // As the screen does: the period as the summary gives it back.
    let lock = json!({"profile": "shop", "from": summary["from"], "to": summary["to"], "reconciliation": id});
    assert_eq!(
        app.err("lock_period", lock.clone())["code"],
        "reconcile.undecided"
    );
    let decided = app.ok(
        "reconcile_decide",
        json!({"item": item["id"], "decision": "accept", "reason": "Ottu charged 7.250"}),
    );
    assert_eq!(decided["decision"], "accepted");
    let payment = app.ok(
        "show_payment",
        json!({"profile": "shop", "session_id": "S-002"}),
    );
    assert_eq!(payment["amount"], "7.250", "{payment}");
    let again = app.err(
        "reconcile_decide",
        json!({"item": item["id"], "decision": "keep", "reason": null}),
    );
    assert_eq!(again["code"], "reconcile.already_decided");

    let locked = app.ok("lock_period", lock);
    assert_eq!(locked["status"], "locked");
    let periods = app.ok("periods", json!({"profile": null}));
    assert_eq!(periods.as_array().unwrap().len(), 1);
}

#[test]
fn a_settlement_file_is_checked_imported_and_matched() {
    let app = app_with_profile();
    let seed = "session_id,order_no,amount,currency,state,created,reference_number\r
S-001,ORD-1,100.000,KWD,paid,2026-11-03T10:00:00Z,RRN-1\r
";
    let upload = app.upload("seed.csv", seed.as_bytes()).unwrap();
    run_job(
        &app,
        "report_import_start",
        "report",
        json!({"profile": "shop", "upload": upload["id"], "map": [], "commit": true}),
    );
    let file = "Order No,RRN,Amount,Fee,Net Amount,Currency,Settlement Date\r
ORD-1,RRN-1,100.000,1.500,98.500,KWD,2026-11-04\r
ORD-X,RRN-X,8.000,0.120,7.880,KWD,2026-11-04\r
";
    let settlement = app.upload("settlement.csv", file.as_bytes()).unwrap();
    let request = |commit: bool| json!({"profile": "shop", "upload": settlement["id"], "map": [], "commit": commit});
    let checked = app.ok("settlement_import", request(false));
    assert_eq!(checked["committed"], false);
    assert_eq!(checked["added_count"], 2);
    let imported = app.ok("settlement_import", request(true));
    assert_eq!(imported["added_count"], 2, "{imported}");
    let report = app.ok(
        "settlement_match",
        json!({"profile": "shop", "from": "2026-11-01", "to": "2026-11-30"}),
    );
    assert_eq!(report["matched_count"], 1, "{report}");
    assert_eq!(report["unknown_count"], 1);
    assert_eq!(report["totals"][0]["fees"], "1.500");
}

#[test]
fn an_export_is_written_to_downloads_under_a_new_name() {
    let app = app_with_profile();
    let upload = app.upload("r.csv", REPORT.as_bytes()).unwrap();
    run_job(
        &app,
        "report_import_start",
        "report",
        json!({"profile": "shop", "upload": upload["id"], "map": [], "commit": true}),
    );
    let request =
        json!({"what": "ledger", "format": "csv", "profile": "shop", "lang": "ar", "bom": true});
    let first = run_job(&app, "export_start", "export", request.clone());
    assert_eq!(first["error"], Value::Null, "{first}");
    let file = first["summary"]["file"].as_str().unwrap().to_string();
    let downloads = app.dir.path().join("Downloads");
    assert_eq!(std::path::Path::new(&file).parent().unwrap(), downloads);
    assert!(
        file.ends_with(".csv") && file.contains("daftar-ledger-"),
        "{file}"
    );
    let bytes = std::fs::read(&file).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "no BOM");
    assert_eq!(first["summary"]["rows"], 2);

    // A second export never replaces the first.
    let second = run_job(&app, "export_start", "export", request);
    let other = second["summary"]["file"].as_str().unwrap();
    assert_ne!(other, file);
    assert_eq!(std::fs::read(&file).unwrap(), bytes);

    // A refused request leaves no reserved file behind.
    let before = std::fs::read_dir(&downloads).unwrap().count();
    let refused = app.err(
        "export_start",
        json!({"what": "nothing", "format": "csv", "bom": true}),
    );
    assert_eq!(refused["kind"], "invalid_input", "{refused}");
    assert_eq!(std::fs::read_dir(&downloads).unwrap().count(), before);
}

#[test]
fn the_demo_plays_the_month_end_against_its_sandbox() {
    let app = App::new();
    assert_eq!(
        app.err("demo_settlement_file", Value::Null)["code"],
        "demo.not_started"
    );
    let on = app.ok("demo_start", Value::Null);
    assert_eq!(on["active"], true, "{on}");
    app.wait_event("import-finished", |_| true);

    // Ottu's reports for the demo profile, from the sandbox; one reconciled by its token.
    let list = app.ok("report_list", json!({"profile": "demo"}));
    let token = list["reports"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|r| r["token"].as_str())
        .unwrap_or_else(|| panic!("the sandbox lists no report: {list}"))
        .to_string();
    let run = run_job(
        &app,
        "reconcile_start",
        "reconcile",
        json!({"profile": "demo", "token": token, "map": []}),
    );
    assert_eq!(run["error"], Value::Null, "{run}");
    assert!(run["summary"]["report_rows"].as_u64().unwrap() > 0, "{run}");
    // The same report's dry run by token: downloaded by the core, nothing written.
    let dry = run_job(
        &app,
        "report_import_start",
        "report",
        json!({"profile": "demo", "token": token, "map": [], "commit": false}),
    );
    assert_eq!(dry["error"], Value::Null, "{dry}");
    assert_eq!(dry["summary"]["committed"], false);
    assert!(dry["summary"]["rows"].as_u64().unwrap() > 0, "{dry}");

    // The demo's settlement file, kept like a picked file, checked and matched.
    let file = app.ok("demo_settlement_file", Value::Null);
    assert!(file["bytes"].as_u64().unwrap() > 0, "{file}");
    let imported = app.ok(
        "settlement_import",
        json!({"profile": "demo", "upload": file["id"], "map": [], "commit": true}),
    );
    assert!(imported["added_count"].as_u64().unwrap() > 0, "{imported}");
    let report = app.ok("settlement_match", json!({"profile": "demo"}));
    // The file's stranger matches nothing. (Its other lines match by order number, but
    // the sandbox dates them from its seed epoch while the demo's ledger holds the time of
    // the import: they fall outside the window. Reported to the lead, not asserted here.)
    let strangers = report["unknown"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["order_no"] == "ORD-NOT-IN-OTTU" && l["reason"] == "no_payment")
        .count();
    assert_eq!(strangers, 1, "{report}");
}
