//! The app on Tauri's mock runtime with a real ledger file in a temp dir, commands sent
//! through the real IPC path (`get_ipc_response`), and every event the app emits kept.
//! Tests touching the keyring run under `scripts/keyring-session.sh`.

#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use daftar_app::state::AppConfig;
use serde_json::{Value, json};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{
    INVOKE_KEY, MockRuntime, get_ipc_response, mock_builder, mock_context, noop_assets,
};
use tauri::webview::InvokeRequest;
use tauri::{Listener, WebviewWindow, WebviewWindowBuilder};

/// Every event name the app sends.
pub const EVENTS: &[&str] = &[
    "sync-event",
    "sync-state",
    "import-progress",
    "import-finished",
    "demo-status",
    "report-progress",
    "report-finished",
    "reconcile-progress",
    "reconcile-finished",
    "export-progress",
    "export-finished",
];

/// How long a test waits for something the app does in the background.
pub const DEADLINE: Duration = Duration::from_secs(20);

pub struct App {
    pub app: tauri::App<MockRuntime>,
    pub webview: WebviewWindow<MockRuntime>,
    pub events: Arc<Mutex<Vec<(String, Value)>>>,
    pub dir: tempfile::TempDir,
}

impl App {
    /// The app with its sync worker running, on a new ledger.
    pub fn new() -> App {
        App::with(true, None)
    }

    pub fn with(start_sync: bool, context: Option<tauri::Context<MockRuntime>>) -> App {
        let dir = tempfile::tempdir().unwrap();
        let ledger = dir.path().join("ledger.sqlite3");
        App::on_ledger(dir, ledger, start_sync, context)
    }

    /// The app on the ledger file `ledger` (another app's, to start it again).
    pub fn on_ledger(
        dir: tempfile::TempDir,
        ledger: std::path::PathBuf,
        start_sync: bool,
        context: Option<tauri::Context<MockRuntime>>,
    ) -> App {
        let config = AppConfig {
            ledger_path: Ok(ledger),
            log_dir: None,
            smoke: false,
            start_sync,
            keyring_ephemeral: false,
            uploads_dir: Some(dir.path().join("uploads")),
            exports_dir: Some(dir.path().join("Downloads")),
        };
        let context = context.unwrap_or_else(|| mock_context(noop_assets()));
        let app = daftar_app::builder(mock_builder(), config.clone())
            .build(context)
            .unwrap();
        // The mock runtime's event loop never runs, so neither does setup.
        daftar_app::start(app.handle(), config);
        let events = Arc::new(Mutex::new(Vec::new()));
        for name in EVENTS {
            let events = Arc::clone(&events);
            app.listen_any(*name, move |event| {
                let payload = serde_json::from_str(event.payload()).unwrap_or(Value::Null);
                events.lock().unwrap().push((name.to_string(), payload));
            });
        }
        let webview = WebviewWindowBuilder::new(&app, "main", Default::default())
            .build()
            .unwrap();
        App {
            app,
            webview,
            events,
            dir,
        }
    }

    /// Invokes `cmd` as the UI does (`invoke(cmd, {request})`); the reply or the ErrorView.
    pub fn call(&self, cmd: &str, request: Option<Value>) -> Result<Value, Value> {
        let body = match request {
            Some(request) => json!({ "request": request }),
            None => json!({}),
        };
        get_ipc_response(
            &self.webview,
            InvokeRequest {
                cmd: cmd.into(),
                callback: CallbackFn(0),
                error: CallbackFn(1),
                url: "tauri://localhost".parse().unwrap(),
                body: InvokeBody::Json(body),
                headers: Default::default(),
                invoke_key: INVOKE_KEY.to_string(),
            },
        )
        .map(|b| b.deserialize::<Value>().unwrap())
    }

    /// Hands a file over as the UI does: its bytes as the body, its name in a header.
    pub fn upload(&self, name: &str, bytes: &[u8]) -> Result<Value, Value> {
        let mut headers = tauri::http::HeaderMap::new();
        headers.insert(
            "x-daftar-file-name",
            tauri::http::HeaderValue::from_str(&percent(name)).unwrap(),
        );
        get_ipc_response(
            &self.webview,
            InvokeRequest {
                cmd: "report_upload".into(),
                callback: CallbackFn(0),
                error: CallbackFn(1),
                url: "tauri://localhost".parse().unwrap(),
                body: InvokeBody::Raw(bytes.to_vec()),
                headers,
                invoke_key: INVOKE_KEY.to_string(),
            },
        )
        .map(|b| b.deserialize::<Value>().unwrap())
    }

    /// `call` that must succeed.
    pub fn ok(&self, cmd: &str, request: Value) -> Value {
        let request = (!request.is_null()).then_some(request);
        self.call(cmd, request)
            .unwrap_or_else(|e| panic!("{cmd} failed: {e}"))
    }

    /// `call` that must fail; its ErrorView.
    pub fn err(&self, cmd: &str, request: Value) -> Value {
        let request = (!request.is_null()).then_some(request);
        match self.call(cmd, request) {
            Ok(v) => panic!("{cmd} succeeded: {v}"),
            Err(e) => e,
        }
    }

    /// The first event `name` whose payload `matches`, waiting up to [`DEADLINE`].
    pub fn wait_event(&self, name: &str, matches: impl Fn(&Value) -> bool) -> Value {
        let start = Instant::now();
        loop {
            if let Some((_, payload)) = self
                .events
                .lock()
                .unwrap()
                .iter()
                .find(|(n, p)| n == name && matches(p))
            {
                return payload.clone();
            }
            assert!(
                start.elapsed() < DEADLINE,
                "no {name} event in {DEADLINE:?}; events: {:?}",
                self.events.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Polls `cmd` until `done(reply)`, up to [`DEADLINE`].
    pub fn poll(&self, cmd: &str, request: Value, done: impl Fn(&Value) -> bool) -> Value {
        let start = Instant::now();
        loop {
            let reply = self.ok(cmd, request.clone());
            if done(&reply) {
                return reply;
            }
            assert!(
                start.elapsed() < DEADLINE,
                "{cmd} never reached the expected state: {reply}"
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// A profile for `base_url` with `key` stored.
    pub fn profile_with_key(&self, name: &str, base_url: &str, key: &str) {
        self.ok(
            "add_profile",
            json!({"name": name, "base_url": base_url, "currency": "KWD"}),
        );
        self.ok(
            "set_key",
            json!({"profile": name, "basic_user": null, "secret": key}),
        );
    }

    /// Imports `session_ids` into `profile` and waits for the job's end; its summary.
    pub fn import(&self, profile: &str, session_ids: &[&str]) -> Value {
        let started = self.ok(
            "import_start",
            json!({"profile": profile, "session_ids": session_ids}),
        );
        let job = started["job"].clone();
        let finished = self.wait_event("import-finished", |p| p["job"] == job);
        assert_eq!(finished["error"], Value::Null, "{finished}");
        finished["summary"].clone()
    }

    /// Waits for the sync worker to record operation `id` with `status`.
    pub fn wait_recorded(&self, id: &Value, status: &str) -> Value {
        self.wait_event("sync-event", |e| {
            e["event"] == "recorded" && &e["id"] == id && e["status"] == status
        })
    }
}

/// `encodeURIComponent` for a test's file name.
fn percent(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'_'
            | b'.'
            | b'!'
            | b'~'
            | b'*'
            | b'\''
            | b'('
            | b')' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
