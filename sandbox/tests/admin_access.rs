//! Who may use the `/_sandbox/` endpoints: a request addressed to the sandbox's own loopback
//! `Host`, or one carrying the admin token printed at start; changes (not reads) from another
//! web origin or with a body a cross-origin form can send are refused. Also the clock's bound
//! and the header read timeout that closes half-open connections.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use common::{Harness, basic, raw_send};
use daftar_sandbox::{ADMIN_TOKEN_HEADER, Config, FaultConfig, MAX_CLOCK_OFFSET_MS, Sandbox};
use serde_json::{Value, json};

/// One request with exactly these headers (`Host` included) and `Connection: close`.
fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    let exchange = raw_send(addr, &request).expect("exchange");
    (exchange.status().unwrap_or(0), exchange.body())
}

const JSON: (&str, &str) = ("Content-Type", "application/json");

fn user_body(name: &str) -> String {
    json!({ "name": name, "password": "pw", "permissions": ["payment.refund"] }).to_string()
}

/// Whether Basic user `name` (password `pw`) exists: a refund naming no payment is a 400
/// field error for a known user, a 401 for an unknown one.
async fn user_exists(h: &Harness, name: &str) -> bool {
    let a = h
        .op_as(&basic(name, "pw"), json!({ "operation": "refund" }), None)
        .await;
    a.status != 401
}

#[tokio::test]
async fn a_foreign_host_is_refused_reads_and_changes() {
    let h = Harness::start(Config {
        payments: 3,
        ..Config::default()
    });
    let addr = h.sandbox.addr();
    let port = addr.port();
    let evil = format!("evil.example:{port}");
    // DNS rebinding: a page on evil.example whose name now points at 127.0.0.1.
    for (method, path, body) in [
        ("GET", "/_sandbox/state", ""),
        ("GET", "/_sandbox/health", ""),
        ("PUT", "/_sandbox/faults", "\"5xx=1\""),
        ("POST", "/_sandbox/users", &user_body("mallory") as &str),
        ("POST", "/_sandbox/clock", "{\"advance_ms\": 1000}"),
        ("POST", "/_sandbox/settle", ""),
    ] {
        let (status, answer) = send(addr, method, path, &[("Host", &evil), JSON], body);
        assert_eq!(status, 403, "{method} {path}: {answer}");
        let detail: Value = serde_json::from_str(&answer).unwrap();
        let detail = detail["detail"].as_str().unwrap();
        assert!(
            detail.contains("evil.example") && detail.contains(ADMIN_TOKEN_HEADER),
            "{detail}"
        );
    }
    assert_eq!(h.sandbox.faults(), FaultConfig::none());
    assert!(!user_exists(&h, "mallory").await);
    assert!(h.sandbox.state().unwrap().clock_offset_ms == 0);

    // No Host at all, the right name on another port, or no port: refused too.
    for host in [
        None,
        Some(format!("127.0.0.1:{}", port.wrapping_add(1))),
        Some("localhost".to_owned()),
    ] {
        let headers: Vec<(&str, &str)> = host.iter().map(|h| ("Host", h.as_str())).collect();
        let (status, answer) = send(addr, "GET", "/_sandbox/state", &headers, "");
        assert_eq!(status, 403, "{host:?}: {answer}");
    }
    // Every loopback name of this port is the sandbox itself.
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("LocalHost:{port}"),
        format!("[::1]:{port}"),
    ] {
        let (status, answer) = send(addr, "GET", "/_sandbox/health", &[("Host", &host)], "");
        assert_eq!(status, 200, "{host}: {answer}");
    }
    // The Ottu endpoints are not admin endpoints: their own auth decides.
    let (status, _) = send(
        addr,
        "GET",
        "/b/api/v1/reports/files/",
        &[
            ("Host", &evil),
            ("Authorization", &h.sandbox.api_key_header()),
        ],
        "",
    );
    assert_eq!(status, 200);
}

#[tokio::test]
async fn the_admin_token_opens_them_from_any_host_and_a_wrong_one_never() {
    let h = Harness::empty();
    let addr = h.sandbox.addr();
    let token = h.sandbox.admin_token().to_owned();
    assert_eq!(token.len(), 32, "{token}");
    let other = Sandbox::start(Config::empty()).unwrap();
    assert_ne!(other.admin_token(), token, "a random token per start");

    let (status, answer) = send(
        addr,
        "POST",
        "/_sandbox/users",
        &[
            ("Host", "sandbox.internal:1"),
            (ADMIN_TOKEN_HEADER, &token),
            JSON,
        ],
        &user_body("ops"),
    );
    assert_eq!(status, 201, "{answer}");
    assert!(user_exists(&h, "ops").await);
    // With the token, the content type is the caller's business.
    let (status, answer) = send(
        addr,
        "PUT",
        "/_sandbox/faults",
        &[
            ("Host", "x"),
            (ADMIN_TOKEN_HEADER, &token),
            ("Content-Type", "text/plain"),
        ],
        "\"latency=1ms\"",
    );
    assert_eq!(status, 200, "{answer}");
    assert_eq!(h.sandbox.faults().latency_ms, 1);

    // A wrong token is refused even from loopback, and so is the other sandbox's.
    let loopback = addr.to_string();
    for wrong in ["", "nope", other.admin_token(), &token[..31]] {
        let (status, answer) = send(
            addr,
            "GET",
            "/_sandbox/state",
            &[("Host", &loopback), (ADMIN_TOKEN_HEADER, wrong)],
            "",
        );
        assert_eq!(status, 403, "{wrong:?}: {answer}");
        assert!(answer.contains("admin token"), "{answer}");
    }
    let fixed = Sandbox::start(Config {
        admin_token: Some("fixed-token".to_owned()),
        ..Config::empty()
    })
    .unwrap();
    assert_eq!(fixed.admin_token(), "fixed-token");
    assert!(
        Sandbox::start(Config {
            admin_token: Some(String::new()),
            ..Config::empty()
        })
        .is_err()
    );
}

#[tokio::test]
async fn changes_from_another_web_origin_or_a_form_are_refused() {
    let h = Harness::empty();
    let addr = h.sandbox.addr();
    let port = addr.port();
    let host = format!("127.0.0.1:{port}");
    // A page on another origin posting to http://127.0.0.1:PORT: the Host is loopback, but
    // the browser names the page's origin.
    for origin in [
        "https://evil.example",
        "null",
        &format!("http://127.0.0.1:{}", port.wrapping_add(1)) as &str,
    ] {
        let (status, answer) = send(
            addr,
            "POST",
            "/_sandbox/users",
            &[("Host", &host), ("Origin", origin), JSON],
            &user_body("csrf"),
        );
        assert_eq!(status, 403, "{origin}: {answer}");
        assert!(answer.contains(origin), "{answer}");
        let (status, _) = send(
            addr,
            "POST",
            "/_sandbox/settle",
            &[("Host", &host), ("Origin", origin)],
            "",
        );
        assert_eq!(status, 403, "{origin}");
    }
    // A form (or fetch without a preflight) can send only these content types.
    for content_type in [
        "text/plain",
        "text/plain;charset=UTF-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let (status, answer) = send(
            addr,
            "POST",
            "/_sandbox/users",
            &[("Host", &host), ("Content-Type", content_type)],
            &user_body("csrf"),
        );
        assert_eq!(status, 415, "{content_type}: {answer}");
        assert!(answer.contains("application/json"), "{answer}");
    }
    assert!(!user_exists(&h, "csrf").await);

    // The sandbox's own origin, or none (curl, tests), with JSON: allowed.
    for origin in [
        Some(format!("http://127.0.0.1:{port}")),
        Some(format!("http://localhost:{port}")),
        None,
    ] {
        let mut headers = vec![("Host", host.as_str()), JSON];
        if let Some(origin) = &origin {
            headers.push(("Origin", origin));
        }
        let (status, answer) = send(addr, "POST", "/_sandbox/users", &headers, &user_body("own"));
        assert_eq!(status, 201, "{origin:?}: {answer}");
    }
    // Reads from another origin are answered (a browser does not let the page read them:
    // no CORS header is ever sent).
    let (status, _) = send(
        addr,
        "GET",
        "/_sandbox/health",
        &[("Host", &host), ("Origin", "https://evil.example")],
        "",
    );
    assert_eq!(status, 200);
    let exchange = raw_send(
        addr,
        &format!(
            "OPTIONS /_sandbox/users HTTP/1.1\r\nHost: {host}\r\nOrigin: https://evil.example\r\n\
             Access-Control-Request-Method: POST\r\nConnection: close\r\n\r\n"
        ),
    )
    .unwrap();
    assert!(
        !exchange
            .text()
            .to_ascii_lowercase()
            .contains("access-control-allow"),
        "{}",
        exchange.text()
    );
}

#[tokio::test]
async fn the_clock_moves_at_most_ten_years_and_never_wraps() {
    let h = Harness::empty();
    let post = |body: Value| {
        let request = h.client.post(h.url("/_sandbox/clock")).json(&body).send();
        async move { Harness::answer(request.await.unwrap()).await }
    };
    let max = MAX_CLOCK_OFFSET_MS;
    assert_eq!(max, 315_576_000_000);
    for (body, field) in [
        (
            json!({ "advance_ms": 999_999_999_999_999_i64 }),
            "advance_ms",
        ),
        (json!({ "advance_ms": i64::MAX }), "advance_ms"),
        (json!({ "advance_ms": i64::MIN }), "advance_ms"),
        (json!({ "advance_ms": max + 1 }), "advance_ms"),
        (json!({ "offset_ms": -max - 1 }), "offset_ms"),
        (json!({ "offset_ms": max, "advance_ms": 1 }), "advance_ms"),
        (json!({ "advance_ms": 1e20 }), "advance_ms"),
        (json!({ "advance_ms": 1.5 }), "advance_ms"),
        (json!({ "advance_ms": "10" }), "advance_ms"),
        (json!({ "offset_ms": u64::MAX }), "offset_ms"),
    ] {
        let a = post(body.clone()).await;
        assert_eq!(a.status, 400, "{body}: {}", a.text);
        let message = a.body[field][0]
            .as_str()
            .unwrap_or_else(|| panic!("{body}: {}", a.text));
        assert!(
            message.contains(&format!("-{max}..={max}")) && message.contains("10 years"),
            "{body}: {message}"
        );
        assert_eq!(
            h.sandbox.state().unwrap().clock_offset_ms,
            0,
            "{body}: unchanged"
        );
    }
    let a = post(json!({ "advance_ms": max })).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.body["offset_ms"], max);
    assert!(
        a.body["now"].as_str().unwrap().starts_with("20"),
        "{}",
        a.text
    );
    // At the bound, one more millisecond is refused, and nothing wraps round.
    let a = post(json!({ "advance_ms": 1 })).await;
    assert_eq!(a.status, 400, "{}", a.text);
    let a = post(json!({ "offset_ms": -max })).await;
    assert_eq!(a.body["offset_ms"], -max);
    assert!(h.sandbox.advance_clock(Duration::MAX).is_err());
    assert_eq!(
        h.sandbox.advance_clock(Duration::from_millis(1)),
        Ok(1 - max)
    );
    // The start offset has the same bound.
    assert!(
        Sandbox::start(Config {
            clock_offset_ms: max + 1,
            ..Config::empty()
        })
        .is_err()
    );
}

/// Connects and sends `partial` (never a whole request head); returns how long the server
/// took to close the connection, or `None` if it was still open after `wait`.
fn closed_after(addr: SocketAddr, partial: &str, wait: Duration) -> Option<Duration> {
    let mut stream = TcpStream::connect(addr).unwrap();
    let start = Instant::now();
    stream.write_all(partial.as_bytes()).unwrap();
    stream.set_read_timeout(Some(wait)).unwrap();
    let mut buffer = Vec::new();
    match stream.read_to_end(&mut buffer) {
        Ok(_) => Some(start.elapsed()),
        Err(e) if e.kind() == ErrorKind::ConnectionReset => Some(start.elapsed()),
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => None,
        Err(e) => panic!("read failed: {e}"),
    }
}

#[test]
fn a_half_open_connection_is_closed_at_the_header_read_timeout() {
    let timeout = Duration::from_millis(300);
    let sandbox = Sandbox::start(Config {
        header_read_timeout: timeout,
        ..Config::empty()
    })
    .unwrap();
    let addr = sandbox.addr();
    // Many at once, as a slow-loris client would hold them: every one is closed.
    let partials = [
        "GET /_sandbox/hea",
        "POST /b/pbl/v2/operation/ HTTP/1.1\r\nHost: x\r\n",
        "",
    ];
    let handles: Vec<_> = (0..30)
        .map(|i| {
            let partial = partials[i % partials.len()];
            std::thread::spawn(move || closed_after(addr, partial, Duration::from_secs(10)))
        })
        .collect();
    for handle in handles {
        let closed = handle
            .join()
            .unwrap()
            .expect("closed by the server within 10 s");
        assert!(closed >= timeout - Duration::from_millis(50), "{closed:?}");
    }
    // A whole request on a new connection is still answered.
    let (status, _) = send(
        addr,
        "GET",
        "/_sandbox/health",
        &[("Host", &addr.to_string())],
        "",
    );
    assert_eq!(status, 200);
    assert!(
        Sandbox::start(Config {
            header_read_timeout: Duration::ZERO,
            ..Config::empty()
        })
        .is_err()
    );
}
