//! The `daftar-sandbox` binary: its three start lines (address, API key, admin token), serving until SIGTERM, and an outage
//! played by SIGKILL and restart on the same state file (committed operations survive).

mod common;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{raw_request, wait_until};

struct Running {
    child: Child,
    addr: SocketAddr,
    api_key: String,
    admin_token: String,
}

/// How long the binary may take to print its start lines.
const START_DEADLINE: Duration = Duration::from_secs(30);

fn start(args: &[&str]) -> Running {
    let mut child = Command::new(env!("CARGO_BIN_EXE_daftar-sandbox"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("binary starts");
    // Read stdout on a thread, so a binary that never prints fails the test at a deadline
    // instead of hanging it.
    let stdout = child.stdout.take().unwrap();
    let (lines_tx, lines_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let next_line = || {
        lines_rx
            .recv_timeout(START_DEADLINE)
            .expect("a start line before the deadline")
            .expect("stdout readable")
    };
    let first = next_line();
    let url = first
        .strip_prefix("daftar-sandbox listening on http://127.0.0.1:")
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"));
    let port: u16 = url
        .parse()
        .unwrap_or_else(|_| panic!("no port in {first:?}"));
    let second = next_line();
    let api_key = second
        .strip_prefix("api key: ")
        .unwrap_or_else(|| panic!("unexpected second line {second:?}"))
        .to_owned();
    let third = next_line();
    let admin_token = third
        .strip_prefix("admin token: ")
        .unwrap_or_else(|| panic!("unexpected third line {third:?}"))
        .to_owned();
    Running {
        child,
        addr: SocketAddr::from(([127, 0, 0, 1], port)),
        api_key,
        admin_token,
    }
}

fn get_json(addr: SocketAddr, path: &str) -> serde_json::Value {
    let exchange = raw_request(addr, "GET", path, &[], "").unwrap();
    serde_json::from_str(&exchange.body()).unwrap()
}

fn refund(r: &Running, session_id: &str, key: &str) -> common::RawExchange {
    let auth = format!("Api-Key {}", r.api_key);
    let body =
        serde_json::json!({ "operation": "refund", "session_id": session_id, "amount": "1" });
    raw_request(
        r.addr,
        "POST",
        common::OPERATION,
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/json"),
            ("Tracking-Key", key),
        ],
        &body.to_string(),
    )
    .unwrap()
}

#[test]
fn prints_its_address_and_key_and_stops_on_sigterm() {
    let mut r = start(&["--port", "0", "--payments", "5", "--api-key", "test-key-1"]);
    assert_eq!(r.api_key, "test-key-1");
    let health = get_json(r.addr, "/_sandbox/health");
    assert_eq!(health["status"], "ok");
    let state = get_json(r.addr, "/_sandbox/state");
    assert_eq!(state["payments"].as_array().unwrap().len(), 5);
    // The printed admin token opens the admin endpoints for a request not addressed to
    // 127.0.0.1 (e.g. through a proxy); without it such a request is refused.
    let foreign = |token: Option<&str>| {
        let mut request =
            "GET /_sandbox/health HTTP/1.1\r\nHost: sandbox.test\r\nConnection: close\r\n"
                .to_owned();
        if let Some(token) = token {
            request.push_str(&format!(
                "{}: {token}\r\n",
                daftar_sandbox::ADMIN_TOKEN_HEADER
            ));
        }
        request.push_str("\r\n");
        common::raw_send(r.addr, &request).unwrap().status()
    };
    assert_eq!(r.admin_token.len(), 32, "{}", r.admin_token);
    assert_eq!(foreign(Some(&r.admin_token)), Some(200));
    assert_eq!(foreign(None), Some(403));

    let status = Command::new("kill")
        .args(["-TERM", &r.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut exit = None;
    assert!(wait_until(Duration::from_secs(10), || {
        exit = r.child.try_wait().unwrap();
        exit.is_some()
    }));
    assert!(exit.unwrap().success(), "{exit:?}");
}

#[test]
fn an_outage_by_sigkill_keeps_committed_operations() {
    let dir = tempfile::tempdir().unwrap();
    let state_file = dir.path().join("outage.sqlite");
    let state_arg = state_file.to_str().unwrap();
    let args = [
        "--port",
        "0",
        "--state",
        state_arg,
        "--payments",
        "40",
        "--no-refusing-gateways",
    ];
    let mut r = start(&args);
    let state = get_json(r.addr, "/_sandbox/state");
    let paid = state["payments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["state"] == "paid" && p["pg_code"] == "knet")
        .expect("a seeded knet payment")["session_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let first = refund(&r, &paid, "outage-key");
    assert_eq!(first.status(), Some(200), "{}", first.text());

    r.child.kill().unwrap(); // SIGKILL: no graceful anything.
    r.child.wait().unwrap();

    let mut r = start(&args);
    let state = get_json(r.addr, "/_sandbox/state");
    let operations = state["operations"].as_array().unwrap();
    assert_eq!(operations.len(), 1);
    assert_eq!(operations[0]["tracking_key"], "outage-key");
    let replay = refund(&r, &paid, "outage-key");
    assert_eq!(
        replay.body(),
        first.body(),
        "the same answer after the outage"
    );
    let state = get_json(r.addr, "/_sandbox/state");
    assert_eq!(state["operations"].as_array().unwrap().len(), 1);
    assert_eq!(state["counters"]["operations_replayed"], 1);
    r.child.kill().unwrap();
    r.child.wait().unwrap();
}

#[test]
fn refuses_bad_arguments() {
    let output = Command::new(env!("CARGO_BIN_EXE_daftar-sandbox"))
        .args(["--faults", "drop=3"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("drop"));
    let output = Command::new(env!("CARGO_BIN_EXE_daftar-sandbox"))
        .args(["--user", "x:y:payment.steal"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("payment.steal"));
}
