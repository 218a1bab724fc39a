//! Fault injection, each kind observable: 5xx, 429 and lost requests before any effect,
//! drop-after-effect (the operation is committed, the connection closes without a byte of
//! response), malformed bodies after the effect, latency; reproducible from the seed; set at
//! start or at runtime.

mod common;

use std::time::{Duration, Instant};

use common::{Harness, raw_request};
use daftar_sandbox::{Config, FaultConfig, FaultScope, PaymentState};
use serde_json::{Value, json};

fn refund(session_id: &str) -> Value {
    json!({ "operation": "refund", "session_id": session_id, "amount": "1" })
}

#[tokio::test]
async fn server_errors_and_throttles_happen_before_any_effect() {
    let h = Harness::start(Config {
        faults: FaultConfig::parse("5xx=1").unwrap(),
        ..Config::empty()
    });
    let p = h.add_in(PaymentState::Paid, "10.000", "knet");
    for _ in 0..8 {
        let a = h.op(refund(&p.session_id), Some("k")).await;
        assert!([500, 502, 503, 504].contains(&a.status), "{}", a.status);
        assert!(
            a.body.is_null(),
            "5xx bodies are HTML, not JSON: {}",
            a.text
        );
    }
    h.sandbox
        .set_faults(FaultConfig::parse("429=1:7").unwrap())
        .unwrap();
    let a = h.op(refund(&p.session_id), Some("k")).await;
    assert_eq!(a.status, 429);
    assert_eq!(a.retry_after.as_deref(), Some("7"));

    let state = h.sandbox.state().unwrap();
    assert!(state.operations.is_empty(), "nothing applied");
    assert_eq!(state.counters.faults.server_error, 8);
    assert_eq!(state.counters.faults.throttle, 1);

    // Other endpoints are out of the default scope.
    assert_eq!(h.payment(&p.session_id).await.status, 200);
    h.sandbox.set_faults(FaultConfig::none()).unwrap();
    let a = h.op(refund(&p.session_id), Some("k")).await;
    assert_eq!(a.status, 200, "the key was never used: {}", a.text);
}

/// Plain `#[test]`: the library works without an async runtime in the test.
#[test]
fn drop_after_effect_commits_then_closes_without_a_response() {
    let h = Harness::start(Config {
        faults: FaultConfig::parse("drop=1").unwrap(),
        ..Config::empty()
    });
    let p = h.add_in(PaymentState::Paid, "10.000", "knet");
    let auth = h.sandbox.api_key_header();
    let body = refund(&p.session_id).to_string();
    let headers = [
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
        ("Tracking-Key", "dropped-1"),
    ];
    let exchange =
        raw_request(h.sandbox.addr(), "POST", common::OPERATION, &headers, &body).unwrap();
    assert!(
        exchange.bytes.is_empty(),
        "no response at all, got {:?}",
        exchange.text()
    );

    // The effect is there, committed before the connection closed.
    let state = h.sandbox.state().unwrap();
    let record = state
        .operation_with_key("dropped-1")
        .expect("the operation was applied");
    assert_eq!(record.outcome, "applied");
    assert_eq!(state.payment(&p.session_id).unwrap().refunded_minor, 1_000);
    assert_eq!(state.counters.faults.drop, 1);

    // The retry with the same key (faults off) gets the original answer; nothing more applied.
    h.sandbox.set_faults(FaultConfig::none()).unwrap();
    let retry = raw_request(h.sandbox.addr(), "POST", common::OPERATION, &headers, &body).unwrap();
    assert_eq!(retry.status(), Some(200), "{}", retry.text());
    let answer: Value = serde_json::from_str(&retry.body()).unwrap();
    assert_eq!(
        answer["txn"]["session_id"].as_str(),
        record.child_session_id.as_deref()
    );
    let state = h.sandbox.state().unwrap();
    assert_eq!(state.applied_on(&p.session_id).count(), 1);
    assert_eq!(state.counters.operations_replayed, 1);
}

#[test]
fn a_lost_request_closes_the_connection_before_doing_anything() {
    let h = Harness::start(Config {
        faults: FaultConfig::parse("lost=1").unwrap(),
        ..Config::empty()
    });
    let p = h.add_in(PaymentState::Paid, "10.000", "knet");
    let auth = h.sandbox.api_key_header();
    let body = refund(&p.session_id).to_string();
    let headers = [
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
        ("Tracking-Key", "lost-1"),
    ];
    let exchange =
        raw_request(h.sandbox.addr(), "POST", common::OPERATION, &headers, &body).unwrap();
    assert!(
        exchange.bytes.is_empty(),
        "no response at all, got {:?}",
        exchange.text()
    );
    let state = h.sandbox.state().unwrap();
    assert!(state.operations.is_empty(), "nothing applied");
    assert_eq!(state.counters.faults.lost, 1);

    h.sandbox.set_faults(FaultConfig::none()).unwrap();
    let retry = raw_request(h.sandbox.addr(), "POST", common::OPERATION, &headers, &body).unwrap();
    assert_eq!(retry.status(), Some(200), "{}", retry.text());
    let state = h.sandbox.state().unwrap();
    assert_eq!(state.applied_on(&p.session_id).count(), 1);
    assert_eq!(
        state.counters.operations_replayed, 0,
        "the retry was the first application"
    );
}

#[tokio::test]
async fn a_dropped_connection_is_an_error_for_an_http_client() {
    let h = Harness::start(Config {
        faults: FaultConfig::parse("drop=1").unwrap(),
        ..Config::empty()
    });
    let p = h.add_in(PaymentState::Authorized, "10.000", "mpgs");
    let result = h
        .client
        .post(h.url(common::OPERATION))
        .header("Authorization", h.sandbox.api_key_header())
        .header("Tracking-Key", "drop-capture")
        .json(&json!({ "operation": "capture", "session_id": p.session_id }))
        .send()
        .await;
    let error = result.expect_err("no response");
    assert!(!error.is_status() && !error.is_timeout(), "{error:?}");
    let state = h.sandbox.state().unwrap();
    assert_eq!(state.payment(&p.session_id).unwrap().captured_minor, 10_000);
}

#[tokio::test]
async fn malformed_bodies_come_after_the_effect() {
    let h = Harness::start(Config {
        faults: FaultConfig::parse("malformed=1").unwrap(),
        ..Config::empty()
    });
    let p = h.add_in(PaymentState::Paid, "10.000", "knet");
    let a = h.op(refund(&p.session_id), Some("garbled")).await;
    assert_eq!(a.status, 200);
    assert!(
        serde_json::from_str::<Value>(&a.text).is_err(),
        "not JSON: {}",
        a.text
    );
    assert!(!a.text.is_empty());
    let state = h.sandbox.state().unwrap();
    assert_eq!(
        state.operation_with_key("garbled").unwrap().outcome,
        "applied"
    );
    assert_eq!(state.counters.faults.malformed, 1);
}

#[tokio::test]
async fn latency_delays_every_request_in_scope() {
    let h = Harness::start(Config {
        faults: FaultConfig::parse("latency=300ms").unwrap(),
        ..Config::empty()
    });
    let p = h.add_in(PaymentState::Paid, "10.000", "knet");
    let started = Instant::now();
    let a = h.op(refund(&p.session_id), None).await;
    assert_eq!(a.status, 200);
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(h.sandbox.state().unwrap().counters.faults.latency, 1);
}

async fn statuses(faults: &str, requests: usize) -> Vec<u16> {
    let h = Harness::start(Config {
        faults: FaultConfig::parse(faults).unwrap(),
        ..Config::empty()
    });
    let p = h.add_in(PaymentState::Paid, "1000.000", "knet");
    let mut out = Vec::new();
    for _ in 0..requests {
        out.push(h.op(refund(&p.session_id), None).await.status);
    }
    out
}

#[tokio::test]
async fn faults_are_reproducible_from_the_seed() {
    let spec = "5xx=0.3,429=0.2,seed=7";
    let a = statuses(spec, 60).await;
    let b = statuses(spec, 60).await;
    assert_eq!(a, b);
    assert!(a.contains(&200) && a.contains(&429) && a.iter().any(|s| *s >= 500));
    let c = statuses("5xx=0.3,429=0.2,seed=8", 60).await;
    assert_ne!(a, c);
}

#[tokio::test]
async fn faults_can_be_changed_over_http_and_scoped_to_all_endpoints() {
    let h = Harness::empty();
    let p = h.add_in(PaymentState::Paid, "10.000", "knet");
    let put = |body: Value| h.client.put(h.url("/_sandbox/faults")).json(&body).send();
    let response = put(json!("429=1:3,scope=all")).await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let config: FaultConfig = response.json().await.unwrap();
    assert_eq!(
        (config.rate_429, config.retry_after_s, config.scope),
        (1.0, 3, FaultScope::All)
    );
    assert_eq!(h.payment(&p.session_id).await.status, 429);
    assert_eq!(h.inquire(&p.session_id).await.status, 429);

    let response = put(json!({ "rate_5xx": 1.0 })).await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        h.payment(&p.session_id).await.status,
        200,
        "scope back to operations"
    );
    let current: FaultConfig = h
        .client
        .get(h.url("/_sandbox/faults"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(current.rate_5xx, 1.0);

    let bad = put(json!("drop=2")).await.unwrap();
    assert_eq!(bad.status().as_u16(), 400);
    let bad = put(json!({ "rate_drop": 0.7, "rate_5xx": 0.7 }))
        .await
        .unwrap();
    assert_eq!(bad.status().as_u16(), 400);

    // Admin endpoints are never faulted.
    put(json!("drop=1,scope=all")).await.unwrap();
    let health: Value = h
        .client
        .get(h.url("/_sandbox/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
}
