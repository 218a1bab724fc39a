//! The Ottu client over real loopback, against a scripted HTTP server: what is sent
//! (headers, body) and what each transport failure becomes.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use daftar::model::{OperationKind, SessionId, TrackingKey};
use daftar::money::{Amount, Currency};
use daftar::ottu::{
    ClientConfig, Credential, FetchError, OperationOutcome, OperationRequest, OttuClient,
    PaymentRef, ReportQuery,
};
use secrecy::SecretString;

/// What the scripted server does with one connection, after reading the request.
enum Act {
    /// Writes these bytes, then closes.
    Answer(Vec<u8>),
    /// Says nothing and keeps the connection open until the client gives up.
    Silence,
    /// Closes at once.
    Hangup,
}

fn answer(status: &str, headers: &[(&str, &str)], body: &str) -> Act {
    let mut text = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("\r\n");
    text.push_str(body);
    Act::Answer(text.into_bytes())
}

fn json(status: &str, body: &str) -> Act {
    answer(status, &[("Content-Type", "application/json")], body)
}

/// One request as the server saw it; header names lowercased.
#[derive(Debug)]
struct Seen {
    method: String,
    path: String,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

/// A server that handles one connection per scripted act, in order, and reports each
/// request it read.
struct Script {
    base_url: String,
    seen: mpsc::Receiver<Seen>,
}

impl Script {
    fn start(acts: Vec<Act>) -> Script {
        Script::start_with(|_| acts)
    }

    /// `script` gets the server's own base URL, e.g. to redirect to itself.
    fn start_with(script: impl FnOnce(&str) -> Vec<Act>) -> Script {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let acts = script(&base_url);
        let (tx, seen) = mpsc::channel();
        thread::spawn(move || {
            for act in acts {
                let Ok((mut stream, _)) = listener.accept() else {
                    return;
                };
                // Bounds every read, so a broken test cannot hang the server forever.
                stream
                    .set_read_timeout(Some(Duration::from_secs(20)))
                    .unwrap();
                let Some(request) = read_request(&mut stream) else {
                    continue;
                };
                if tx.send(request).is_err() {
                    return;
                }
                match act {
                    Act::Answer(bytes) => {
                        let _ = stream.write_all(&bytes);
                        let _ = stream.shutdown(Shutdown::Both);
                    }
                    Act::Silence => {
                        let mut sink = [0_u8; 256];
                        while matches!(stream.read(&mut sink), Ok(n) if n > 0) {}
                    }
                    Act::Hangup => {
                        let _ = stream.shutdown(Shutdown::Both);
                    }
                }
            }
        });
        Script { base_url, seen }
    }

    fn next_request(&self) -> Seen {
        self.seen
            .recv_timeout(Duration::from_secs(10))
            .expect("the server saw no request")
    }
}

fn read_request(stream: &mut TcpStream) -> Option<Seen> {
    let mut data = Vec::new();
    let mut buf = [0_u8; 4096];
    let head_end = loop {
        if let Some(at) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8(data[..head_end].to_vec()).ok()?;
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let (method, path) = (first.next()?.to_string(), first.next()?.to_string());
    let headers: HashMap<String, String> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_string()))
        .collect();
    let length: usize = headers
        .get("content-length")
        .map_or(0, |v| v.parse().unwrap());
    let mut body = data[head_end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&buf[..n]);
    }
    Some(Seen {
        method,
        path,
        headers,
        body,
    })
}

fn api_key() -> Credential {
    Credential::ApiKey(SecretString::from("sk_test_51abc"))
}

fn fast() -> ClientConfig {
    ClientConfig {
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_millis(400),
    }
}

fn client(script: &Script, credential: &Credential) -> OttuClient {
    OttuClient::new(&script.base_url, credential, fast()).unwrap()
}

fn refund(amount: Option<&str>) -> OperationRequest {
    OperationRequest::new(
        OperationKind::Refund,
        PaymentRef::Session(SessionId::parse("sess_1").unwrap()),
        amount.map(|a| Amount::parse(a, Currency::KWD).unwrap()),
    )
    .unwrap()
}

const SUCCESS: &str = r#"{"result":"success","success":true,"detail":"Refunded","operation":"refund","amount":"2.500","reference_number":"R-1","txn":{"session_id":"child_1","amount":"2.500","currency_code":"KWD","state":"refunded"}}"#;

#[tokio::test]
async fn every_attempt_sends_the_tracking_key_the_credential_and_the_exact_body() {
    let script = Script::start(vec![json("200 OK", SUCCESS), json("200 OK", SUCCESS)]);
    let ottu = client(&script, &api_key());
    let key = TrackingKey::new_random();
    let request = refund(Some("2.5"));

    for _ in 0..2 {
        let outcome = ottu.send_operation(key, &request).await;
        let OperationOutcome::Succeeded { reply, .. } = outcome else {
            panic!("{outcome:?}")
        };
        assert_eq!(reply.child.unwrap().session_id.as_deref(), Some("child_1"));
        let seen = script.next_request();
        assert_eq!(
            (seen.method.as_str(), seen.path.as_str()),
            ("POST", "/b/pbl/v2/operation/")
        );
        assert_eq!(seen.header("tracking-key"), Some(key.to_string().as_str()));
        assert_eq!(seen.header("authorization"), Some("Api-Key sk_test_51abc"));
        assert_eq!(seen.header("content-type"), Some("application/json"));
        let body: serde_json::Value = serde_json::from_slice(&seen.body).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"operation": "refund", "session_id": "sess_1", "amount": "2.500"})
        );
    }
}

#[tokio::test]
async fn basic_auth_is_sent_as_basic() {
    let script = Script::start(vec![json("200 OK", SUCCESS)]);
    let clerk = Credential::Basic {
        user: "clerk".into(),
        password: SecretString::from("s3cret"),
    };
    client(&script, &clerk)
        .send_operation(TrackingKey::new_random(), &refund(None))
        .await;
    let seen = script.next_request();
    // base64("clerk:s3cret")
    assert_eq!(seen.header("authorization"), Some("Basic Y2xlcms6czNjcmV0"));
    let body: serde_json::Value = serde_json::from_slice(&seen.body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"operation": "refund", "session_id": "sess_1"})
    );
}

#[tokio::test]
async fn throttling_honours_retry_after() {
    let script = Script::start(vec![answer(
        "429 Too Many Requests",
        &[("Retry-After", "3")],
        "",
    )]);
    let outcome = client(&script, &api_key())
        .send_operation(TrackingKey::new_random(), &refund(None))
        .await;
    assert!(
        matches!(
            &outcome,
            OperationOutcome::RetryLater { retry_after: Some(wait), offline: false, .. }
                if *wait == Duration::from_secs(3)
        ),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn a_silent_server_times_out_as_an_unknown_outcome() {
    let script = Script::start(vec![Act::Silence]);
    let started = Instant::now();
    let outcome = client(&script, &api_key())
        .send_operation(TrackingKey::new_random(), &refund(None))
        .await;
    assert!(
        matches!(&outcome, OperationOutcome::RetryLater { offline: false, retry_after: None, reason, .. }
            if reason.contains("no complete answer within 0.4 s")),
        "{outcome:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    script.next_request();
}

#[tokio::test]
async fn a_connection_dropped_after_the_request_is_an_unknown_outcome() {
    let script = Script::start(vec![Act::Hangup]);
    let outcome = client(&script, &api_key())
        .send_operation(TrackingKey::new_random(), &refund(None))
        .await;
    assert!(
        matches!(outcome, OperationOutcome::RetryLater { offline: false, .. }),
        "{outcome:?}"
    );
    // It was sent: the outcome is unknown, not "offline".
    script.next_request();
}

#[tokio::test]
async fn a_connection_dropped_mid_answer_is_an_unknown_outcome() {
    let cut = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{\"result\":\"succ".to_vec();
    let script = Script::start(vec![Act::Answer(cut)]);
    let outcome = client(&script, &api_key())
        .send_operation(TrackingKey::new_random(), &refund(None))
        .await;
    assert!(
        matches!(outcome, OperationOutcome::RetryLater { offline: false, .. }),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn an_unreadable_success_is_unknown_and_a_5xx_is_retried() {
    let script = Script::start(vec![
        answer(
            "200 OK",
            &[("Content-Type", "text/html")],
            "<html>maintenance</html>",
        ),
        json("502 Bad Gateway", r#"{"detail":"upstream"}"#),
    ]);
    let ottu = client(&script, &api_key());
    let key = TrackingKey::new_random();
    let outcome = ottu.send_operation(key, &refund(None)).await;
    assert!(
        matches!(&outcome, OperationOutcome::Unknown { raw, .. } if raw == "<html>maintenance</html>"),
        "{outcome:?}"
    );
    let outcome = ottu.send_operation(key, &refund(None)).await;
    assert!(
        matches!(&outcome, OperationOutcome::RetryLater { offline: false, reason, .. } if reason.contains("502") && reason.contains("upstream")),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn refusals_and_auth_failures_are_told_apart() {
    let script = Script::start(vec![
        json(
            "200 OK",
            r#"{"result":"failed","success":false,"detail":"Declined by bank","operation":"refund"}"#,
        ),
        json(
            "400 Bad Request",
            r#"{"amount":["Ensure that there are no more than 13 digits before the decimal point."]}"#,
        ),
        json(
            "403 Forbidden",
            r#"{"detail":"You do not have permission to perform this action."}"#,
        ),
    ]);
    let ottu = client(&script, &api_key());
    let key = TrackingKey::new_random();
    assert!(matches!(
        ottu.send_operation(key, &refund(None)).await,
        OperationOutcome::Refused { reason, status: 200, .. } if reason == "Declined by bank"
    ));
    assert!(matches!(
        ottu.send_operation(key, &refund(None)).await,
        OperationOutcome::Refused { reason, status: 400, .. }
            if reason == "amount: Ensure that there are no more than 13 digits before the decimal point."
    ));
    assert_eq!(
        ottu.send_operation(key, &refund(None)).await,
        OperationOutcome::Auth {
            status: 403,
            detail: "You do not have permission to perform this action.".into(),
            permission: Some("payment.refund".into()),
        }
    );
}

/// A redirect (never followed for an operation), an HTML 404 and a text/plain 400 did not
/// come from Ottu's operation endpoint: not a refusal, not final, and the redirect's target
/// never sees the request (nor the credential).
#[tokio::test]
async fn answers_that_are_not_ottus_are_not_refusals_and_redirects_are_not_followed() {
    let script = Script::start_with(|base| {
        vec![
            answer(
                "302 Found",
                &[("Location", &format!("{base}/elsewhere/"))],
                "",
            ),
            answer(
                "404 Not Found",
                &[("Content-Type", "text/html")],
                "<h1>Not Found</h1>",
            ),
            answer(
                "400 Bad Request",
                &[("Content-Type", "text/plain")],
                "Bad Request",
            ),
        ]
    });
    let ottu = client(&script, &api_key());
    let key = TrackingKey::new_random();
    for (status, kind) in [(302, "text/plain"), (404, "text/html"), (400, "text/plain")] {
        let outcome = ottu.send_operation(key, &refund(None)).await;
        assert!(!outcome.is_final(), "{outcome:?}");
        assert!(
            matches!(&outcome, OperationOutcome::NotOttu { status: s, reason, .. }
                if *s == status && reason.contains("base URL")
                    && (status == 302 || reason.contains(kind))),
            "{outcome:?}"
        );
        let seen = script.next_request();
        assert_eq!(
            seen.path, "/b/pbl/v2/operation/",
            "only Ottu's path is asked"
        );
    }
    // Three requests for three attempts: the 302 was not followed.
    assert!(script.seen.try_recv().is_err());
}

#[tokio::test]
async fn a_closed_port_is_offline_not_a_failure() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let ottu = OttuClient::new(&format!("http://127.0.0.1:{port}"), &api_key(), fast()).unwrap();
    let outcome = ottu
        .send_operation(TrackingKey::new_random(), &refund(None))
        .await;
    assert!(
        matches!(&outcome, OperationOutcome::RetryLater { offline: true, retry_after: None, reason, .. }
            if reason.contains(&port.to_string())),
        "{outcome:?}"
    );
    let read = ottu
        .retrieve_payment(&SessionId::parse("sess_1").unwrap())
        .await
        .unwrap_err();
    assert!(matches!(read, FetchError::Offline { .. }), "{read:?}");
}

#[tokio::test]
async fn an_unknown_host_is_offline() {
    // `.invalid` never resolves (RFC 2606).
    let ottu = OttuClient::new("https://ottu.daftar-test.invalid", &api_key(), fast()).unwrap();
    let outcome = ottu
        .send_operation(TrackingKey::new_random(), &refund(None))
        .await;
    assert!(
        matches!(outcome, OperationOutcome::RetryLater { offline: true, .. }),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn reads_send_the_credential_and_map_their_failures() {
    let script = Script::start(vec![
        json(
            "200 OK",
            r#"{"session_id":"sess_1","amount":"10.000","currency_code":"KWD","state":"paid","order_no":"o-1","extra_field":[1]}"#,
        ),
        json("404 Not Found", r#"{"detail":"Not found."}"#),
        json(
            "200 OK",
            r#"{"count":1,"next":null,"previous":null,"results":[{"encrypted_id":"e1","report_name":"Nov","created_at":"2025-11-02T00:00:00Z","download_action":{"method":"GET","url":"https://x/b/api/v1/reports/files/tok-1/download/"}}]}"#,
        ),
        answer("429 Too Many Requests", &[("Retry-After", "60")], ""),
    ]);
    let ottu = client(&script, &api_key());
    let session = SessionId::parse("sess_1").unwrap();

    let payment = ottu.retrieve_payment(&session).await.unwrap();
    assert_eq!(payment.parsed_amount().unwrap().to_string(), "10.000");
    let seen = script.next_request();
    assert_eq!(
        (seen.method.as_str(), seen.path.as_str()),
        ("GET", "/b/checkout/v1/pymt-txn/sess_1/")
    );
    assert_eq!(seen.header("authorization"), Some("Api-Key sk_test_51abc"));
    assert_eq!(seen.header("tracking-key"), None);

    let missing = ottu.retrieve_payment(&session).await.unwrap_err();
    assert!(
        matches!(
            missing,
            FetchError::NotFound {
                what: "payment",
                ..
            }
        ),
        "{missing:?}"
    );
    script.next_request();

    let page = ottu.list_reports(&ReportQuery::default()).await.unwrap();
    assert_eq!(page.results[0].download_token(), Some("tok-1"));
    let seen = script.next_request();
    assert_eq!(seen.path, "/b/api/v1/reports/files/?limit=100&offset=0");

    let throttled = ottu
        .inquire(&PaymentRef::Session(session.clone()))
        .await
        .unwrap_err();
    assert_eq!(
        throttled,
        FetchError::Throttled {
            retry_after: Some(Duration::from_secs(60))
        }
    );
    let seen = script.next_request();
    assert_eq!(seen.path, "/b/pbl/v2/inquiry/");
    assert_eq!(seen.body, br#"{"session_id":"sess_1"}"#);

    // Refused before anything is sent: the retrieve path allows only [-\w].
    let dotted = ottu
        .retrieve_payment(&SessionId::parse("a.b").unwrap())
        .await
        .unwrap_err();
    assert!(matches!(dotted, FetchError::Request(_)), "{dotted:?}");
}

#[tokio::test]
async fn a_report_download_follows_the_storage_redirect_without_the_credential() {
    let script = Script::start_with(|base| {
        vec![
            answer(
                "302 Found",
                &[("Location", &format!("{base}/storage/report.csv?sig=abc"))],
                "",
            ),
            answer(
                "200 OK",
                &[("Content-Type", "text/csv")],
                "session_id,amount\nsess_1,10.000\n",
            ),
        ]
    });
    let ottu = OttuClient::new(&script.base_url, &api_key(), fast()).unwrap();
    let bytes = ottu.download_report("tok-1").await.unwrap();
    assert_eq!(bytes, b"session_id,amount\nsess_1,10.000\n");
    let first = script.next_request();
    assert_eq!(first.path, "/b/api/v1/reports/files/tok-1/download/");
    assert_eq!(first.header("authorization"), Some("Api-Key sk_test_51abc"));
    let second = script.next_request();
    assert_eq!(second.path, "/storage/report.csv?sig=abc");
    assert_eq!(
        second.header("authorization"),
        None,
        "credential sent to storage"
    );
}
