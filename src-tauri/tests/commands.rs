//! The shell's commands over the real IPC path (Tauri's mock runtime, `get_ipc_response`),
//! on a real SQLite ledger in a temp dir, against the Ottu sandbox on loopback, with the
//! real OS keyring: run under `scripts/keyring-session.sh cargo test -p daftar-app`.

mod common;

use common::App;
use std::time::{Duration, Instant};

use daftar_sandbox::{Config, FaultConfig, FaultScope, NewPayment, Sandbox};
use serde_json::{Value, json};

fn sandbox_with(payments: &[NewPayment]) -> (daftar_sandbox::RunningSandbox, Vec<String>) {
    let sandbox = Sandbox::start(Config::empty()).unwrap();
    let ids = payments
        .iter()
        .map(|p| sandbox.add_payment(p.clone()).unwrap().session_id)
        .collect();
    (sandbox, ids)
}

#[test]
fn a_profile_a_key_an_import_a_refund_synced() {
    let (sandbox, ids) = sandbox_with(&[NewPayment::paid("25.000")]);
    let app = App::new();
    let info = app.ok("app_info", Value::Null);
    assert_eq!(info["has_profiles"], false);
    assert_eq!(info["ledger_error"], Value::Null);
    assert_eq!(info["keyring_ephemeral"], false);

    let added = app.ok(
        "add_profile",
        json!({"name": "shop", "base_url": sandbox.base_url(), "currency": "KWD"}),
    );
    assert_eq!(added["key_stored"], false);
    let keyed = app.ok(
        "set_key",
        json!({"profile": "shop", "basic_user": null, "secret": sandbox.api_key()}),
    );
    assert_eq!(keyed["key_stored"], true);
    assert!(!keyed.to_string().contains(sandbox.api_key()));
    let listed = app.ok("profiles", Value::Null);
    assert_eq!(listed[0]["name"], "shop");
    assert_eq!(listed[0]["key_stored"], true);
    assert!(!listed.to_string().contains(sandbox.api_key()));

    let summary = app.import("shop", &[&ids[0]]);
    assert_eq!(summary["added"], 1, "{summary}");
    app.wait_event("import-progress", |p| p["progress"]["imported"] == 1);

    let page = app.ok("list_payments", json!({}));
    assert_eq!(page["total"], 1);
    assert_eq!(page["payments"][0]["session_id"], ids[0].as_str());
    let lookup = json!({"session_id": ids[0]});
    let detail = app.ok("show_payment", lookup.clone());
    assert_eq!(detail["balances"]["refundable"], "25.000", "{detail}");

    let actions = app.ok("payment_actions", lookup.clone());
    let kinds: Vec<&str> = actions
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["refund", "capture", "void", "cancel", "expire", "delete"]
    );
    assert_eq!(actions[0]["allowed"], true, "{actions}");
    assert_eq!(actions[0]["max_amount"], "25.000", "{actions}");
    assert_eq!(
        actions[1]["allowed"], false,
        "a paid payment has nothing to capture"
    );
    assert!(actions[1]["refusal"]["code"].is_string(), "{actions}");

    let refund = |amount: &str| json!({"kind": "refund", "payment": lookup, "amount": amount});
    assert_eq!(app.ok("preview_operation", refund("5")), "5.000");
    let over = app.err("queue_operation", refund("30"));
    assert_eq!(over["code"], "rules.refund_exceeds", "{over}");
    assert_eq!(over["kind"], "refused");
    assert_eq!(over["field"], "amount");
    assert_eq!(over["params"]["requested"], "30.000", "{over}");
    assert_eq!(over["params"]["refundable"], "25.000", "{over}");

    let queued = app.ok("queue_operation", refund("5"));
    let id = queued["id"].clone();
    let recorded = app.wait_recorded(&id, "succeeded");
    assert_eq!(recorded["profile"], "shop");
    let queue = app.ok("list_queue", json!({}));
    assert_eq!(queue["operations"][0]["status"], "succeeded", "{queue}");
    let after = app.ok("show_payment", lookup);
    assert_eq!(after["balances"]["refundable"], "20.000", "{after}");
    let status = app.ok("status", Value::Null);
    assert!(status.is_object(), "{status}");
    assert_eq!(app.ok("app_info", Value::Null)["has_profiles"], true);
}

#[test]
fn pause_holds_the_queue_a_drop_and_a_confirmed_retry() {
    let mut refused = NewPayment::paid("10.000");
    refused.pg_code = "refuse-pg".into();
    let (sandbox, ids) = sandbox_with(&[NewPayment::paid("25.000"), refused]);
    let app = App::new();
    app.profile_with_key("shop", sandbox.base_url(), sandbox.api_key());
    app.import("shop", &[&ids[0], &ids[1]]);

    let paused = app.ok("sync_pause", Value::Null);
    assert_eq!(paused["paused_by_merchant"], true);
    assert_eq!(paused["status"]["running"], false);
    app.wait_event("sync-state", |s| s["paused_by_merchant"] == true);
    // The worker's own end says so too.
    app.wait_event("sync-event", |e| e["event"] == "finished");
    let refund = |id: &str, amount: &str| json!({"kind": "refund", "payment": {"session_id": id}, "amount": amount});
    let held = app.ok("queue_operation", refund(&ids[0], "1"));
    let held_id = held["id"].clone();
    let dropped = app.ok("drop_operation", json!({"id": held_id, "reason": "typo"}));
    assert_eq!(dropped["status"], "dropped", "{dropped}");
    assert!(
        sandbox.state().unwrap().operations.is_empty(),
        "sent while paused"
    );

    let good = app.ok("queue_operation", refund(&ids[0], "2"));
    let bad = app.ok("queue_operation", refund(&ids[1], "3"));
    let resumed = app.ok("sync_resume", Value::Null);
    assert_eq!(resumed["paused_by_merchant"], false);
    assert_eq!(resumed["status"]["running"], true);
    app.wait_recorded(&good["id"], "succeeded");
    let bad_id = bad["id"].clone();
    app.wait_recorded(&bad_id, "failed");

    // A sent operation is retried only with the merchant's confirmation and a reason.
    let unconfirmed = app.err(
        "retry_operation",
        json!({"id": bad_id, "confirm_not_applied": false, "reason": null}),
    );
    assert_eq!(unconfirmed["code"], "retry.unconfirmed", "{unconfirmed}");
    assert_eq!(unconfirmed["field"], "confirm");
    let retried = app.ok(
        "retry_operation",
        json!({"id": bad_id, "confirm_not_applied": true, "reason": "the dashboard shows no refund"}),
    );
    assert_ne!(
        retried["id"], bad_id,
        "a retry is a new operation: {retried}"
    );
    assert_eq!(retried["status"], "queued", "{retried}");
    assert_eq!(retried["reason"], "the dashboard shows no refund");
    let not_droppable = app.err("drop_operation", json!({"id": good["id"]}));
    assert_eq!(
        not_droppable["code"], "queue.not_droppable",
        "{not_droppable}"
    );
}

#[test]
fn test_connection_tells_a_good_key_a_refused_one_and_no_answer() {
    let (sandbox, _) = sandbox_with(&[]);
    let app = App::with(false, None);
    app.profile_with_key("shop", sandbox.base_url(), sandbox.api_key());
    app.profile_with_key("wrong", sandbox.base_url(), "not-the-sandbox-key");
    let good = app.ok("test_connection", json!({"name": "shop"}));
    assert_eq!(good["ok"], true, "{good}");
    assert_eq!(good["error"], Value::Null);
    let refused = app.ok("test_connection", json!({"name": "wrong"}));
    assert_eq!(refused["ok"], false);
    assert_eq!(refused["error"]["code"], "ottu.auth", "{refused}");
    sandbox.shutdown();
    let offline = app.ok("test_connection", json!({"name": "shop"}));
    assert_eq!(offline["error"]["code"], "ottu.offline", "{offline}");
    let unknown = app.err("test_connection", json!({"name": "nobody"}));
    assert_eq!(unknown["code"], "not_found");
}

/// `job_cancel` stops a running import well before Ottu would have answered everything;
/// what was written is kept and the summary says where it stopped.
#[test]
fn job_cancel_stops_a_running_import() {
    let sandbox = Sandbox::start(Config {
        payments: 40,
        varied_gateways: false,
        faults: FaultConfig {
            latency_ms: 2_000,
            scope: FaultScope::All,
            ..FaultConfig::default()
        },
        ..Config::default()
    })
    .unwrap();
    let ids: Vec<String> = sandbox
        .state()
        .unwrap()
        .payments
        .into_iter()
        .map(|p| p.session_id)
        .collect();
    let app = App::with(false, None);
    app.profile_with_key("shop", sandbox.base_url(), sandbox.api_key());
    let started = app.ok(
        "import_start",
        json!({"profile": "shop", "session_ids": ids}),
    );
    let job = started["job"].clone();
    app.wait_event("import-progress", |p| p["job"] == job);
    let cancelled_at = Instant::now();
    assert_eq!(app.ok("job_cancel", json!({"job": job})), Value::Null);
    let finished = app.wait_event("import-finished", |p| p["job"] == job);
    // 40 ids, 4 at a time, 2 s each: 20 s to the end; a cancel is seen within a poll.
    assert!(
        cancelled_at.elapsed() < Duration::from_secs(5),
        "{:?}",
        cancelled_at.elapsed()
    );
    assert_eq!(
        finished["summary"]["stopped"]["code"], "interrupted",
        "{finished}"
    );
    assert_eq!(finished["error"]["code"], "interrupted", "{finished}");
}

/// The demo runs on a ledger of its own: a merchant's profile named `demo` is not in its
/// way, and nothing of the demo is left in the merchant's ledger.
#[test]
fn the_demo_leaves_the_merchant_s_ledger_alone() {
    let app = App::with(false, None);
    app.ok(
        "add_profile",
        json!({"name": "demo", "base_url": "https://api.example.com", "currency": "KWD"}),
    );
    let on = app.ok("demo_start", Value::Null);
    assert_eq!(on["active"], true, "{on}");
    let demo_profiles = app.ok("profiles", Value::Null);
    assert_eq!(
        demo_profiles[0]["base_url"], on["base_url"],
        "{demo_profiles}"
    );
    assert_eq!(app.ok("list_payments", json!({}))["total"], 40);

    let left = app.ok("demo_leave", Value::Null);
    assert_eq!(
        left,
        json!({"active": false, "online": false, "profile": null, "base_url": null})
    );
    let profiles = app.ok("profiles", Value::Null);
    assert_eq!(profiles.as_array().unwrap().len(), 1, "{profiles}");
    assert_eq!(profiles[0]["base_url"], "https://api.example.com");
    assert_eq!(app.ok("list_payments", json!({}))["total"], 0);
    // Leaving again changes nothing.
    assert_eq!(app.ok("demo_leave", Value::Null), left);
}

#[test]
fn an_import_refused_before_it_runs_is_reported_by_its_event() {
    let app = App::with(false, None);
    let started = app.ok(
        "import_start",
        json!({"profile": "nobody", "session_ids": ["0123456789abcdef0123456789abcdef"]}),
    );
    let job = started["job"].clone();
    let finished = app.wait_event("import-finished", |p| p["job"] == job);
    assert_eq!(finished["summary"], Value::Null);
    assert_eq!(finished["error"]["code"], "not_found", "{finished}");
    assert_eq!(finished["error"]["field"], "profile");
    // Cancelling a job that ended is harmless.
    assert_eq!(app.ok("job_cancel", json!({"job": job})), Value::Null);
}

#[test]
fn a_ledger_that_cannot_be_opened_is_every_command_s_error() {
    let dir = tempfile::tempdir().unwrap();
    let not_a_ledger = dir.path().join("notes.sqlite3");
    std::fs::write(&not_a_ledger, b"plain text, not SQLite").unwrap();
    let config = daftar_app::state::AppConfig {
        ledger_path: Ok(not_a_ledger),
        log_dir: None,
        smoke: false,
        start_sync: true,
        keyring_ephemeral: true,
        uploads_dir: None,
        exports_dir: None,
    };
    let app = daftar_app::builder(tauri::test::mock_builder(), config.clone())
        .build(tauri::test::mock_context(tauri::test::noop_assets()))
        .unwrap();
    daftar_app::start(app.handle(), config);
    let app = App {
        webview: tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
            .build()
            .unwrap(),
        app,
        events: Default::default(),
        dir,
    };
    let info = app.ok("app_info", Value::Null);
    assert_eq!(info["keyring_ephemeral"], true, "{info}");
    let code = info["ledger_error"]["code"].clone();
    assert!(
        code.as_str().is_some_and(|c| c.starts_with("store.")),
        "{info}"
    );
    assert_eq!(app.err("list_payments", json!({}))["code"], code);
    let state = app.ok("sync_state", Value::Null);
    assert_eq!(state["status"]["running"], false);
}

#[test]
fn the_demo_imports_its_payments_and_goes_offline_and_back() {
    let app = App::new();
    let off = app.ok("demo_status", Value::Null);
    assert_eq!(off["active"], false);
    assert_eq!(
        app.err("demo_set_online", json!({"online": false}))["code"],
        "demo.not_started"
    );
    let on = app.ok("demo_start", Value::Null);
    assert_eq!(on["active"], true, "{on}");
    assert_eq!(on["online"], true);
    assert_eq!(on["profile"], "demo");
    let page = app.ok("list_payments", json!({"limit": 100}));
    assert_eq!(page["total"], 40, "{page}");
    let profiles = app.ok("profiles", Value::Null);
    assert_eq!(profiles[0]["key_stored"], true, "{profiles}");
    assert!(app.dir.path().join("ledger.demo-sandbox.sqlite3").exists());
    let info = app.ok("app_info", Value::Null);
    let demo_ledger = app.dir.path().join("ledger.demo.sqlite3");
    assert_eq!(
        info["ledger_path"],
        demo_ledger.display().to_string(),
        "{info}"
    );
    app.wait_event("demo-status", |s| s["active"] == true);
    app.wait_event("sync-state", |s| s["status"]["running"] == true);
    // Starting again changes nothing.
    assert_eq!(app.ok("demo_start", Value::Null), on);

    let refundable = page["payments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["state"] == "paid" && p["currency"] == "KWD")
        .expect("a paid KWD payment in the demo")
        .clone();
    let offline = app.ok("demo_set_online", json!({"online": false}));
    assert_eq!(offline["online"], false);
    assert_eq!(offline["active"], true);
    let queued = app.ok(
        "queue_operation",
        json!({"kind": "refund", "payment": {"session_id": refundable["session_id"]}, "amount": "0.1"}),
    );
    app.wait_event("sync-event", |e| {
        e["event"] == "offline" && e["profile"] == "demo"
    });
    let online = app.ok("demo_set_online", json!({"online": true}));
    assert_eq!(online["online"], true);
    assert_eq!(online["base_url"], on["base_url"], "the same port");
    app.wait_recorded(&queued["id"], "succeeded");
    app.wait_event("demo-status", |s| s["online"] == false);

    // Leaving: the merchant's ledger (empty) is back with its worker; the sandbox is gone.
    let left = app.ok("demo_leave", Value::Null);
    assert_eq!(left["active"], false, "{left}");
    let info = app.ok("app_info", Value::Null);
    let ledger = app.dir.path().join("ledger.sqlite3");
    assert_eq!(info["ledger_path"], ledger.display().to_string(), "{info}");
    assert_eq!(info["has_profiles"], false);
    assert_eq!(app.ok("list_payments", json!({}))["total"], 0);
    assert_eq!(app.ok("list_queue", json!({}))["total"], 0);
    let port = on["base_url"]
        .as_str()
        .unwrap()
        .trim_start_matches("http://");
    assert!(
        std::net::TcpStream::connect(port.trim_end_matches('/')).is_err(),
        "the sandbox still answers"
    );
    app.poll("sync_state", Value::Null, |s| {
        s["status"]["running"] == true
    });
    // Back in: the same demo ledger, nothing imported twice, the refund still there.
    let again = app.ok("demo_start", Value::Null);
    assert_eq!(again["online"], true, "{again}");
    assert_eq!(app.ok("list_payments", json!({"limit": 100}))["total"], 40);
    let queue = app.ok("list_queue", json!({}));
    assert_eq!(queue["operations"][0]["status"], "succeeded", "{queue}");
}

/// A second app on the ledger: its worker cannot take the sync lock and says why; once
/// the first is paused (its worker stopped), `sync_resume` starts it. An app always starts
/// on the merchant's ledger, also after the demo; starting the demo again reopens its
/// ledger and stores its key again when the keyring lost it (a throwaway keyring).
#[test]
fn a_second_app_on_the_ledger_and_the_demo_after_a_restart() {
    let first = App::new();
    let on = first.ok("demo_start", Value::Null);
    assert_eq!(on["online"], true);
    // As if the keyring were a throwaway one: the key is gone at the next start.
    let removed = first.ok("remove_key", json!({"name": "demo"}));
    assert_eq!(removed["key_stored"], false, "{removed}");
    first.ok("demo_leave", Value::Null);
    let ledger = first.dir.path().join("ledger.sqlite3");

    let second = App::on_ledger(tempfile::tempdir().unwrap(), ledger.clone(), true, None);
    let blocked = second.poll("sync_state", Value::Null, |s| s["worker_error"].is_object());
    assert_eq!(blocked["worker_error"]["code"], "sync.running", "{blocked}");
    assert_eq!(blocked["status"]["running"], false);
    assert_eq!(second.ok("demo_status", Value::Null)["active"], false);

    first.ok("sync_pause", Value::Null);
    let resumed = second.ok("sync_resume", Value::Null);
    assert_eq!(resumed["status"]["running"], true, "{resumed}");
    assert_eq!(resumed["worker_error"], Value::Null);
    second.ok("sync_pause", Value::Null);

    let third = App::on_ledger(tempfile::tempdir().unwrap(), ledger, true, None);
    assert_eq!(third.ok("demo_status", Value::Null)["active"], false);
    assert_eq!(third.ok("list_payments", json!({}))["total"], 0);
    let back = third.ok("demo_start", Value::Null);
    assert_eq!(back["online"], true, "{back}");
    assert_eq!(back["base_url"], on["base_url"], "the same port");
    assert_eq!(third.ok("list_payments", json!({}))["total"], 40);
    assert_eq!(third.ok("profiles", Value::Null)[0]["key_stored"], true);
    third.wait_event("demo-status", |s| s["online"] == true);
    third.ok("demo_leave", Value::Null);
}

#[test]
fn the_secret_of_set_key_is_redacted_in_debug() {
    let request: daftar_app::contract::SetKeyRequest = serde_json::from_value(
        json!({"profile": "shop", "basic_user": null, "secret": "sk-live-very-secret"}),
    )
    .unwrap();
    let debug = format!("{request:?}");
    assert!(!debug.contains("very-secret"), "{debug}");
    assert!(debug.contains("REDACTED"), "{debug}");
}

/// A key too short is refused by the core before the keyring is touched, field `key`.
#[test]
fn a_bad_key_is_the_core_s_field_error() {
    let app = App::with(false, None);
    app.ok(
        "add_profile",
        json!({"name": "shop", "base_url": "http://127.0.0.1:9", "currency": "KWD"}),
    );
    let short = app.err(
        "set_key",
        json!({"profile": "shop", "basic_user": null, "secret": "abc"}),
    );
    assert_eq!(short["code"], "key.too_short", "{short}");
    assert_eq!(short["field"], "key");
    assert!(!short.to_string().contains("\"abc\""));
}

/// `sync_now` starts a worker when none is alive (here: none was started with the app).
#[test]
fn sync_now_starts_a_worker_when_none_is_alive() {
    let app = App::with(false, None);
    assert_eq!(
        app.ok("sync_state", Value::Null)["status"]["running"],
        false
    );
    let now = app.ok("sync_now", Value::Null);
    assert_eq!(now["status"]["running"], true, "{now}");
    assert_eq!(now["worker_error"], Value::Null);
    app.wait_event("sync-state", |s| s["status"]["running"] == true);
    // Alive: sync_now only wakes it; a pause then wins over sync_now.
    assert_eq!(app.ok("sync_now", Value::Null)["status"]["running"], true);
    app.ok("sync_pause", Value::Null);
    let paused = app.ok("sync_now", Value::Null);
    assert_eq!(paused["status"]["running"], false, "{paused}");
    assert_eq!(paused["paused_by_merchant"], true);
}

/// A worker kept from starting by another process's sync lock starts by itself once the
/// lock is free (the supervisor retries every 5 s), saying so with `sync-state`.
#[test]
fn a_worker_blocked_at_launch_starts_by_itself_later() {
    let first = App::new();
    let ledger = first.dir.path().join("ledger.sqlite3");
    first.poll("sync_state", Value::Null, |s| {
        s["status"]["running"] == true
    });
    let second = App::on_ledger(tempfile::tempdir().unwrap(), ledger, true, None);
    second.wait_event("sync-state", |s| {
        s["worker_error"]["code"] == "sync.running"
    });
    first.ok("sync_pause", Value::Null);
    let running = second.poll("sync_state", Value::Null, |s| {
        s["status"]["running"] == true
    });
    assert_eq!(running["worker_error"], Value::Null, "{running}");
    second.wait_event("sync-state", |s| {
        s["status"]["running"] == true && s["worker_error"].is_null()
    });
}

/// A request without the command's shape (the window's bug) is still an `ErrorView`:
/// `app.bad_request`, naming the command, not Tauri's plain text.
#[test]
fn a_request_without_the_command_s_shape_is_an_error_view() {
    let app = App::with(false, None);
    for (cmd, request) in [
        ("list_payments", Some(json!({"limit": "many"}))),
        ("import_start", Some(json!({"profile": "shop"}))),
        ("set_key", Some(json!({"profile": "shop", "secret": 42}))),
        ("demo_set_online", None),
    ] {
        let error = app.call(cmd, request).unwrap_err();
        assert_eq!(error["code"], "app.bad_request", "{cmd}: {error}");
        assert_eq!(error["kind"], "internal", "{error}");
        assert!(error["message"].as_str().unwrap().contains(cmd), "{error}");
    }
}
