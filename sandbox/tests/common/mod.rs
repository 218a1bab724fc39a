//! Helpers shared by the sandbox's integration tests: a started sandbox with an HTTP client,
//! JSON shortcuts, a raw HTTP/1.1 client (to see a connection close with no response) and
//! polling with a deadline (never a fixed sleep).

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use daftar_sandbox::{Config, NewPayment, PaymentSnapshot, PaymentState, RunningSandbox, Sandbox};
use serde_json::Value;

pub const OPERATION: &str = "/b/pbl/v2/operation/";
pub const INQUIRY: &str = "/b/pbl/v2/inquiry/";

pub struct Harness {
    pub sandbox: RunningSandbox,
    pub client: reqwest::Client,
}

/// A status and a parsed JSON body (`Value::Null` when the body is not JSON).
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub text: String,
    pub retry_after: Option<String>,
}

impl Harness {
    pub fn start(config: Config) -> Harness {
        let sandbox = Sandbox::start(config).expect("sandbox starts");
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client builds");
        Harness { sandbox, client }
    }

    pub fn empty() -> Harness {
        Harness::start(Config::empty())
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sandbox.base_url())
    }

    pub fn add(&self, payment: NewPayment) -> PaymentSnapshot {
        self.sandbox.add_payment(payment).expect("payment added")
    }

    /// Adds a KWD payment in `state` through `pg_code`.
    pub fn add_in(&self, state: PaymentState, amount: &str, pg_code: &str) -> PaymentSnapshot {
        let mut p = NewPayment::paid(amount);
        p.state = state;
        p.pg_code = pg_code.to_owned();
        self.add(p)
    }

    pub async fn answer(response: reqwest::Response) -> Answer {
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let text = response.text().await.expect("body readable");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer {
            status,
            body,
            text,
            retry_after,
        }
    }

    /// POSTs an operation with the API key and an optional Tracking-Key.
    pub async fn op(&self, body: Value, tracking_key: Option<&str>) -> Answer {
        self.op_as(&self.sandbox.api_key_header(), body, tracking_key)
            .await
    }

    pub async fn op_as(
        &self,
        authorization: &str,
        body: Value,
        tracking_key: Option<&str>,
    ) -> Answer {
        let mut request = self
            .client
            .post(self.url(OPERATION))
            .header("Authorization", authorization)
            .json(&body);
        if let Some(key) = tracking_key {
            request = request.header("Tracking-Key", key);
        }
        Harness::answer(request.send().await.expect("request sent")).await
    }

    pub async fn get(&self, path: &str) -> Answer {
        let response = self
            .client
            .get(self.url(path))
            .header("Authorization", self.sandbox.api_key_header())
            .send()
            .await
            .expect("request sent");
        Harness::answer(response).await
    }

    pub async fn payment(&self, session_id: &str) -> Answer {
        self.get(&format!("/b/checkout/v1/pymt-txn/{session_id}/"))
            .await
    }

    pub async fn inquire(&self, session_id: &str) -> Answer {
        let response = self
            .client
            .post(self.url(INQUIRY))
            .header("Authorization", self.sandbox.api_key_header())
            .json(&serde_json::json!({ "session_id": session_id }))
            .send()
            .await
            .expect("request sent");
        Harness::answer(response).await
    }
}

/// `Basic` credentials.
pub fn basic(user: &str, password: &str) -> String {
    use base64::Engine as _;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

/// What a raw HTTP exchange gave: the bytes received before the server closed.
pub struct RawExchange {
    pub bytes: Vec<u8>,
}

impl RawExchange {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }

    pub fn status(&self) -> Option<u16> {
        let text = self.text();
        text.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
    }

    pub fn body(&self) -> String {
        let text = self.text();
        text.split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default()
    }
}

/// Sends one request with `Connection: close` over a fresh TCP connection and reads until
/// the server closes. A dropped connection shows as zero bytes (or a reset).
pub fn raw_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> std::io::Result<RawExchange> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(20)))?;
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes())?;
    let mut bytes = Vec::new();
    match stream.read_to_end(&mut bytes) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        Err(e) => return Err(e),
    }
    Ok(RawExchange { bytes })
}

/// Sends `request` (a whole HTTP/1.1 request, head and body, as written) over a fresh TCP
/// connection and reads until the server closes: for headers `raw_request` sets itself
/// (`Host`).
pub fn raw_send(addr: SocketAddr, request: &str) -> std::io::Result<RawExchange> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(20)))?;
    stream.write_all(request.as_bytes())?;
    let mut bytes = Vec::new();
    match stream.read_to_end(&mut bytes) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        Err(e) => return Err(e),
    }
    Ok(RawExchange { bytes })
}

/// Polls `condition` until it holds or `deadline` passes.
pub fn wait_until(deadline: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + deadline;
    loop {
        if condition() {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}
