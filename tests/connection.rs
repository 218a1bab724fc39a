//! The merchant's "Test connection" (`Ledger::connection_check`) against the Ottu sandbox
//! on loopback: a key Ottu accepts is ok and changes nothing there; a wrong key is
//! `ottu.auth`; nothing listening is `ottu.offline`; a web server that is not Ottu is
//! `ottu.not_ottu`; no key stored is the credential error before anything is sent. The
//! keyring is an in-memory store.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use common::ottu::test_runtime;
use daftar::Ledger;
use daftar::ledger::{CONNECTION_CHECK_SESSION_ID, ConnectionCheck, ConnectionCheckJob};
use daftar::ottu::{ClientConfig, Credential};
use daftar::secrets::{MemoryStore, SecretString};
use daftar::sources::{FixedClock, SequentialKeys, format_ms};
use daftar::store::Store;
use daftar_sandbox::{Config, RunningSandbox, Sandbox};

const START_MS: i64 = 1_767_323_045_678;

fn ledger(dir: &tempfile::TempDir) -> Ledger {
    let store = Store::open(&dir.path().join("ledger.sqlite3")).unwrap();
    Ledger::with_sources(
        store,
        Arc::new(FixedClock::new(START_MS)),
        Arc::new(SequentialKeys::new()),
        "test:connection",
    )
    .with_secret_store(Arc::new(MemoryStore::new()))
}

fn api_key(key: &str) -> Credential {
    Credential::ApiKey(SecretString::from(key.to_string()))
}

fn quick() -> ClientConfig {
    ClientConfig {
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(5),
    }
}

/// The profile `shop` at `base_url`, with `key` stored (none when `None`).
fn shop(ledger: &mut Ledger, base_url: &str, key: Option<&str>) {
    ledger.add_profile("shop", base_url, "KWD").unwrap();
    if let Some(key) = key {
        ledger.set_key("shop", api_key(key)).unwrap();
    }
}

fn sandbox() -> RunningSandbox {
    Sandbox::start(Config::empty()).expect("sandbox starts")
}

fn check(ledger: &mut Ledger) -> ConnectionCheck {
    let runtime = test_runtime();
    ledger
        .connection_check("shop")
        .unwrap()
        .with_client_config(quick())
        .run(runtime.handle())
}

fn code(check: &ConnectionCheck) -> Option<&str> {
    check.error.as_ref().map(|e| e.code.as_str())
}

#[test]
fn a_key_ottu_accepts_is_ok_and_changes_nothing_there() {
    let dir = tempfile::tempdir().unwrap();
    let mut ledger = ledger(&dir);
    let sandbox = sandbox();
    shop(&mut ledger, sandbox.base_url(), Some(sandbox.api_key()));
    let before = sandbox.state().unwrap();

    let result = check(&mut ledger);
    assert_eq!(
        result,
        ConnectionCheck {
            ok: true,
            error: None,
            checked_at: format_ms(START_MS),
        }
    );
    // One read, by the key Ottu accepted, and nothing written at Ottu.
    let after = sandbox.state().unwrap();
    assert_eq!(
        after.counters.payment_requests,
        before.counters.payment_requests + 1
    );
    assert_eq!(after.counters.auth_failures, before.counters.auth_failures);
    assert_eq!(after.payments, before.payments);
    assert_eq!(after.operations, before.operations);
    // The id it asks for is none the sandbox (or Ottu) can hold.
    assert!(
        before
            .payments
            .iter()
            .all(|p| p.session_id != CONNECTION_CHECK_SESSION_ID)
    );
}

#[test]
fn the_async_run_gives_the_same_answer_and_its_future_can_cross_threads() {
    fn send<T: Send + 'static>(value: T) -> T {
        value
    }
    let dir = tempfile::tempdir().unwrap();
    let mut ledger = ledger(&dir);
    let sandbox = sandbox();
    shop(&mut ledger, sandbox.base_url(), Some(sandbox.api_key()));
    let job: ConnectionCheckJob = send(ledger.connection_check("shop").unwrap());
    assert_eq!(job.profile(), "shop");
    // A desktop command awaits it on a runtime worker (a spawned task must be Send).
    let runtime = test_runtime();
    let result = runtime
        .block_on(runtime.spawn(send(job.with_client_config(quick()).run_async())))
        .unwrap();
    assert!(result.ok, "{result:?}");
    // The ledger handle was free all along: the job holds none of it.
    assert_eq!(ledger.profile("shop").unwrap().name, "shop");
}

#[test]
fn a_wrong_key_is_ottu_auth() {
    let dir = tempfile::tempdir().unwrap();
    let mut ledger = ledger(&dir);
    let sandbox = sandbox();
    shop(&mut ledger, sandbox.base_url(), Some("not-the-sandbox-key"));
    let result = check(&mut ledger);
    assert!(!result.ok);
    assert_eq!(code(&result), Some("ottu.auth"), "{result:?}");
    let error = result.error.unwrap();
    assert_eq!(error.kind, daftar::ErrorKind::Unavailable);
    assert_eq!(error.params["profile"], "shop");
    assert_eq!(error.params["status"], 401);
    assert!(!error.message.contains("not-the-sandbox-key"), "{error:?}");
    assert_eq!(sandbox.state().unwrap().counters.auth_failures, 1);
}

#[test]
fn nothing_listening_is_ottu_offline() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let mut ledger = ledger(&dir);
    shop(
        &mut ledger,
        &format!("http://127.0.0.1:{port}"),
        Some("some-api-key-0001"),
    );
    let result = check(&mut ledger);
    assert!(!result.ok);
    assert_eq!(code(&result), Some("ottu.offline"), "{result:?}");
}

/// A web server that answers every request with an HTML 404 page, as a website at the
/// base URL would.
fn html_404_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 2 {
                line.clear();
            }
            let body = "<html><body><h1>Not Found</h1></body></html>";
            let _ = write!(
                stream,
                "HTTP/1.1 404 Not Found\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    base_url
}

#[test]
fn a_web_server_that_is_not_ottu_is_ottu_not_ottu() {
    let dir = tempfile::tempdir().unwrap();
    let mut ledger = ledger(&dir);
    shop(&mut ledger, &html_404_server(), Some("some-api-key-0001"));
    let result = check(&mut ledger);
    assert!(!result.ok);
    assert_eq!(code(&result), Some("ottu.not_ottu"), "{result:?}");
}

#[test]
fn no_key_stored_is_the_credential_error_before_anything_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let mut ledger = ledger(&dir);
    let sandbox = sandbox();
    shop(&mut ledger, sandbox.base_url(), None);
    let error = ledger.connection_check("shop").err().unwrap().view();
    assert_eq!(error.code, "ottu.credential");
    assert_eq!(error.params["profile"], "shop");
    assert_eq!(sandbox.state().unwrap().counters.payment_requests, 0);

    // An unknown profile is not found, on the field `profile`.
    let error = ledger.connection_check("nope").err().unwrap().view();
    assert_eq!(error.code, "not_found");
    assert_eq!(error.field.as_deref(), Some("profile"));
}
