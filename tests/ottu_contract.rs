//! Contract test: every request Daftar can send to Ottu, sent through the real client code
//! to Stoplight Prism 5 mocking Ottu's official spec (vendored from
//! `../shared/ottu/ottu-operations-openapi.yaml` into `tools/contract/`).
//! Prism flags a request the spec forbids with 400/401/415/422 and an `sl-violations` header
//! (or, for a path parameter, a problem+json body listing the violations). The test also
//! sends deliberately bad requests and asserts Prism flags them, so it is known to fail
//! when a request breaks the spec.
//!
//! Three Prisms run side by side:
//! - `strict`: the spec with `--errors`; every request with an API key;
//! - `basic`: the spec with its `ApiKeyAuth` alternative removed, with `--errors`, so Prism
//!   checks the Basic header itself (the API-key scheme accepts any `Authorization`);
//! - `lenient`: the spec without `--errors`, to read the retrieve endpoint's answer: with
//!   `--errors` Prism refuses its own generated answer there (CONTRACT.md).
//!
//! Prism is installed by `npm ci --prefix tools/contract` (scripts/test.sh does it).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use daftar::model::{OperationKind, OrderNo, SessionId, TrackingKey};
use daftar::money::{Amount, Currency};
use daftar::ottu::{
    ClientConfig, Credential, OperationOutcome, OperationRequest, OttuClient, PaymentRef,
    RawResponse, RefundDestination, ReportQuery, classify_operation,
};
use secrecy::SecretString;
use serde_json::{Value, json};

/// How long Prism may take to load the spec and listen (Node start-up on a busy machine).
const PRISM_START_DEADLINE: Duration = Duration::from_secs(120);
const PRISM_POLL_INTERVAL: Duration = Duration::from_millis(200);
/// The `security` alternative removed to make the `basic` Prism check Basic headers.
const API_KEY_ALTERNATIVE: &str = "      - ApiKeyAuth: []";

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn prism_binary() -> PathBuf {
    let bin = manifest_dir().join("tools/contract/node_modules/.bin/prism");
    assert!(
        bin.exists(),
        "Stoplight Prism is not installed at {}: run `npm ci --prefix tools/contract` \
         (scripts/test.sh does it) and run the tests again",
        bin.display()
    );
    bin
}

/// The official spec, as vendored in `tools/contract/` (a clean clone has no `../shared/`).
fn spec_path() -> PathBuf {
    let spec = manifest_dir().join("tools/contract/ottu-operations-openapi.yaml");
    assert!(
        spec.exists(),
        "Ottu's spec is missing at {}",
        spec.display()
    );
    spec
}

/// Where the shared folder sits beside the repository, the vendored copy must be the same
/// bytes: a newer official spec is copied in, never edited here.
#[test]
fn the_vendored_spec_is_the_shared_one() {
    let shared = manifest_dir().join("../shared/ottu/ottu-operations-openapi.yaml");
    if let Ok(original) = std::fs::read(&shared) {
        assert!(
            std::fs::read(spec_path()).unwrap() == original,
            "tools/contract/ottu-operations-openapi.yaml differs from {}: copy the official one in",
            shared.display()
        );
    }
}

/// One running Prism; killed when dropped, also when the test panics.
struct Prism {
    name: &'static str,
    child: Child,
    base_url: String,
    log: PathBuf,
}

impl Prism {
    fn start(name: &'static str, spec: &Path, errors: bool, logs: &Path) -> Prism {
        let port = free_port();
        let log = logs.join(format!("prism-{name}.log"));
        let out = File::create(&log).unwrap();
        let mut command = Command::new(prism_binary());
        command
            .arg("mock")
            .arg(spec)
            .args(["-h", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out);
        if errors {
            command.arg("--errors");
        }
        let child = command
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start Prism ({name}): {err}; is Node installed?"));
        Prism {
            name,
            child,
            base_url: format!("http://127.0.0.1:{port}"),
            log,
        }
    }

    /// Polls until Prism answers HTTP at all (404 for `/` is fine), within the deadline.
    async fn wait_ready(&mut self) {
        let http = reqwest::Client::new();
        let deadline = Instant::now() + PRISM_START_DEADLINE;
        loop {
            if http.get(&self.base_url).send().await.is_ok() {
                return;
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "Prism ({}) exited with {status} before listening:\n{}",
                    self.name,
                    self.log_text()
                );
            }
            assert!(
                Instant::now() < deadline,
                "Prism ({}) did not answer within {PRISM_START_DEADLINE:?}:\n{}",
                self.name,
                self.log_text()
            );
            tokio::time::sleep(PRISM_POLL_INTERVAL).await;
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Prism {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// What Prism says is wrong with the request (violations located in the response are
/// Prism judging its own generated answer, not our request).
fn request_violations(raw: &RawResponse) -> Vec<String> {
    let mut lists: Vec<Value> = Vec::new();
    if let Some(header) = raw.headers.get("sl-violations") {
        lists.push(serde_json::from_slice(header.as_bytes()).unwrap_or(Value::Null));
    }
    let problem = raw
        .headers
        .get("content-type")
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if problem && let Ok(body) = serde_json::from_slice::<Value>(&raw.body) {
        lists.push(body["validation"].clone());
    }
    lists
        .iter()
        .filter_map(Value::as_array)
        .flatten()
        .filter(|v| v["location"][0] != "response")
        .map(|v| format!("{} ({})", v["message"], v["location"]))
        .collect()
}

/// Prism's verdict that the request breaks the spec.
fn flagged(raw: &RawResponse) -> bool {
    matches!(raw.status, 400 | 401 | 415 | 422) && !request_violations(raw).is_empty()
}

/// Collects every broken expectation, so one run reports them all.
#[derive(Default)]
struct Findings(Vec<String>);

impl Findings {
    /// A request Daftar sends must not be flagged, and must get Prism's success answer.
    fn valid(&mut self, what: &str, raw: &RawResponse) {
        if flagged(raw) || !(200..300).contains(&raw.status) {
            self.0.push(format!(
                "{what}: HTTP {}, violations {:?}, body {}",
                raw.status,
                request_violations(raw),
                raw.kept_body()
            ));
        }
    }

    /// A deliberately bad request must be flagged, naming `about`.
    fn invalid(&mut self, what: &str, raw: &RawResponse, about: &str) {
        let violations = request_violations(raw);
        if !flagged(raw) || !violations.iter().any(|v| v.contains(about)) {
            self.0.push(format!(
                "{what} was not flagged for {about:?}: HTTP {}, violations {violations:?}",
                raw.status
            ));
        }
    }

    fn check(&mut self, what: &str, ok: bool, detail: impl std::fmt::Debug) {
        if !ok {
            self.0.push(format!("{what}: {detail:?}"));
        }
    }
}

fn session() -> SessionId {
    SessionId::parse("a1b2c3d4e5f6_sess-01").unwrap()
}

fn payments() -> [PaymentRef; 2] {
    [
        PaymentRef::Session(session()),
        // Order numbers may hold characters a session id may not.
        PaymentRef::Order(OrderNo::parse("ORD-2025.11/0042:a").unwrap()),
    ]
}

/// Every operation body Daftar can build: each kind, by session id and by order number,
/// with and without an amount (in currencies of 3, 2 and 0 decimals), each refund
/// destination, and `extra`.
fn every_operation() -> Vec<OperationRequest> {
    let amounts: Vec<Amount> = [("12.345", "KWD"), ("7.5", "SAR"), ("1000", "JPY")]
        .iter()
        .map(|(text, code)| Amount::parse(text, Currency::from_code(code).unwrap()).unwrap())
        .collect();
    let mut requests = Vec::new();
    for &kind in OperationKind::ALL {
        for payment in payments() {
            let mut options = vec![None];
            if kind.takes_amount() {
                options.extend(amounts.iter().copied().map(Some));
            }
            for amount in options {
                let request = OperationRequest::new(kind, payment.clone(), amount).unwrap();
                if kind == OperationKind::Refund {
                    for destination in [RefundDestination::Pg, RefundDestination::Wallet] {
                        requests.push(request.clone().with_destination(destination).unwrap());
                    }
                    let mut extra = serde_json::Map::new();
                    extra.insert(
                        "orders".into(),
                        json!([{"passengerDocumentNumber": "4862100022075", "amount": 1}]),
                    );
                    requests.push(request.clone().with_extra(extra));
                }
                requests.push(request);
            }
        }
    }
    requests
}

fn report_queries() -> [ReportQuery; 2] {
    [
        ReportQuery::default(),
        ReportQuery {
            created_after: Some(time::macros::date!(2025 - 11 - 01)),
            created_before: Some(time::macros::date!(2025 - 11 - 30)),
            limit: 20,
            offset: 40,
        },
    ]
}

/// Every request Daftar can send, with one credential, to one Prism.
async fn send_everything(ottu: &OttuClient, label: &str, findings: &mut Findings) {
    for request in every_operation() {
        let what = format!("{label} operation {}", request.to_json());
        match ottu
            .send_operation_raw(TrackingKey::new_random(), &request)
            .await
        {
            Ok(raw) => {
                findings.valid(&what, &raw);
                let outcome = classify_operation(request.kind(), &raw);
                findings.check(
                    &format!("{what} classified"),
                    matches!(outcome, OperationOutcome::Succeeded { .. }),
                    outcome,
                );
            }
            Err(err) => findings.check(&what, false, err),
        }
    }
    for payment in payments() {
        let what = format!("{label} inquiry {payment:?}");
        match ottu.inquire_raw(&payment).await {
            Ok(raw) => findings.valid(&what, &raw),
            Err(err) => findings.check(&what, false, err),
        }
        let reply = ottu.inquire(&payment).await;
        findings.check(&format!("{what} read"), reply.is_ok(), reply);
    }
    for query in report_queries() {
        let what = format!("{label} report list {query:?}");
        match ottu.list_reports_raw(&query).await {
            Ok(raw) => findings.valid(&what, &raw),
            Err(err) => findings.check(&what, false, err),
        }
        let page = ottu.list_reports(&query).await;
        findings.check(&format!("{what} read"), page.is_ok(), page);
    }
    let token = "0b6e8a52-4a7c-4f43-9a3e-7d1c2f0e9b11";
    let what = format!("{label} report download");
    match ottu.download_report_raw(token).await {
        Ok(raw) => findings.valid(&what, &raw),
        Err(err) => findings.check(&what, false, err),
    }
    let bytes = ottu.download_report(token).await;
    findings.check(&format!("{what} read"), bytes.is_ok(), bytes);
    // With --errors Prism answers 500 here for its own generated answer (CONTRACT.md); the
    // request is valid when no violation is about the request.
    let what = format!("{label} retrieve");
    match ottu.retrieve_payment_raw(&session()).await {
        Ok(raw) => findings.check(
            &what,
            !flagged(&raw) && request_violations(&raw).is_empty(),
            (raw.status, request_violations(&raw)),
        ),
        Err(err) => findings.check(&what, false, err),
    }
}

fn api_key() -> Credential {
    Credential::ApiKey(SecretString::from("sk_test_contract_0123456789"))
}

fn basic() -> Credential {
    Credential::Basic {
        user: "clerk@merchant.example".into(),
        // No ':' in it: Prism accepts a Basic token only if it decodes to exactly two
        // ':'-separated parts, stricter than RFC 7617, which lets a password hold ':'.
        password: SecretString::from("correct horse battery staple"),
    }
}

/// The spec with Basic as the only way in, written to `dir`.
fn basic_only_spec(spec: &Path, dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(spec).unwrap();
    let paths = text.lines().filter(|l| *l == "      security:").count();
    let kept: Vec<&str> = text.lines().filter(|l| *l != API_KEY_ALTERNATIVE).collect();
    let removed = text.lines().count() - kept.len();
    assert!(
        paths > 0 && removed == paths,
        "the spec's security sections changed shape ({removed} `ApiKeyAuth` lines for {paths} \
         sections): update basic_only_spec in tests/ottu_contract.rs"
    );
    let path = dir.join("ottu-basic-only.yaml");
    std::fs::write(&path, kept.join("\n")).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_daftar_sends_matches_ottus_spec() {
    let spec = spec_path();
    let version = Command::new(prism_binary())
        .arg("--version")
        .output()
        .unwrap();
    let version = String::from_utf8_lossy(&version.stdout).trim().to_string();
    assert!(
        version.starts_with("5."),
        "expected Prism 5, found {version:?}"
    );

    let dir = tempfile::tempdir().unwrap();
    let basic_spec = basic_only_spec(&spec, dir.path());
    let mut strict = Prism::start("strict", &spec, true, dir.path());
    let mut basic_prism = Prism::start("basic", &basic_spec, true, dir.path());
    let mut lenient = Prism::start("lenient", &spec, false, dir.path());
    strict.wait_ready().await;
    basic_prism.wait_ready().await;
    lenient.wait_ready().await;

    let config = ClientConfig {
        connect_timeout: Duration::from_secs(5),
        request_timeout: Duration::from_secs(30),
    };
    let by_key = OttuClient::new(&strict.base_url, &api_key(), config).unwrap();
    let by_user = by_key.for_profile(&basic_prism.base_url, &basic()).unwrap();
    let mut findings = Findings::default();

    send_everything(&by_key, "api key", &mut findings).await;
    send_everything(&by_user, "basic", &mut findings).await;

    // The retrieve answer, read through the real types (Prism without --errors).
    for credential in [api_key(), basic()] {
        let ottu = by_key.for_profile(&lenient.base_url, &credential).unwrap();
        match ottu.retrieve_payment_raw(&session()).await {
            Ok(raw) => findings.valid("lenient retrieve", &raw),
            Err(err) => findings.check("lenient retrieve", false, err),
        }
        let payment = ottu.retrieve_payment(&session()).await;
        findings.check("lenient retrieve read", payment.is_ok(), payment);
    }

    // The test can fail: requests that break the spec are flagged.
    let good = OperationRequest::new(
        OperationKind::Refund,
        PaymentRef::Session(session()),
        Some(Amount::parse("1", Currency::KWD).unwrap()),
    )
    .unwrap()
    .to_json();
    let key = TrackingKey::new_random();
    let mut too_precise = good.clone();
    too_precise["amount"] = json!("1.0001");
    let raw = by_key
        .post_operation_json_raw(key, &too_precise)
        .await
        .unwrap();
    findings.invalid("amount 1.0001", &raw, "amount");
    let mut steal = good.clone();
    steal["operation"] = json!("steal");
    let raw = by_key.post_operation_json_raw(key, &steal).await.unwrap();
    findings.invalid("operation steal", &raw, "operation");
    let mut too_long = good.clone();
    too_long["session_id"] = json!("s".repeat(129));
    let raw = by_key
        .post_operation_json_raw(key, &too_long)
        .await
        .unwrap();
    findings.invalid("session_id of 129 characters", &raw, "session_id");

    let http = reqwest::Client::new();
    let anonymous = |base: &str| {
        http.post(format!("{base}/b/pbl/v2/operation/"))
            .header("Tracking-Key", key.to_string())
            .json(&good)
    };
    let raw = raw_of(anonymous(&strict.base_url)).await;
    findings.invalid("operation without Authorization", &raw, "authorization");
    // The basic Prism really checks Basic: an API key is refused there.
    let key_on_basic = by_key
        .for_profile(&basic_prism.base_url, &api_key())
        .unwrap();
    let raw = key_on_basic
        .post_operation_json_raw(key, &good)
        .await
        .unwrap();
    findings.invalid("API key where only Basic is allowed", &raw, "security");
    // The retrieve path allows only [-\w]: Daftar refuses such ids before sending, and
    // Prism would have flagged them.
    let dotted = SessionId::parse("a1.b2").unwrap();
    let refused = by_key.retrieve_payment_raw(&dotted).await;
    findings.check(
        "client refuses a dotted session id",
        refused.is_err(),
        refused.map(|r| r.status),
    );
    let raw = raw_of(
        http.get(format!(
            "{}/b/checkout/v1/pymt-txn/a1.b2/",
            lenient.base_url
        ))
        .header("Authorization", "Api-Key x"),
    )
    .await;
    findings.invalid("retrieve of a dotted session id", &raw, "session_id");

    assert!(
        findings.0.is_empty(),
        "{} requests break Ottu's spec or were not judged as expected:\n{}",
        findings.0.len(),
        findings.0.join("\n")
    );
}

/// A plain reqwest request's answer, for requests the client refuses to make.
async fn raw_of(request: reqwest::RequestBuilder) -> RawResponse {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.bytes().await.unwrap().to_vec();
    RawResponse {
        status,
        headers,
        body,
        received_at: std::time::SystemTime::now(),
    }
}
