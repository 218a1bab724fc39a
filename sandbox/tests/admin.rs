//! The `/_sandbox/` endpoints over HTTP: health, state (it deserialises into the library's
//! `StateSnapshot`), adding payments with exact fields, the clock, settling; and reading
//! payments and children through Ottu's retrieval endpoint.

mod common;

use common::Harness;
use daftar_sandbox::{Config, StateSnapshot};
use serde_json::{Value, json};

async fn post(h: &Harness, path: &str, body: Value) -> common::Answer {
    Harness::answer(h.client.post(h.url(path)).json(&body).send().await.unwrap()).await
}

#[tokio::test]
async fn payments_with_exact_fields() {
    let h = Harness::empty();
    let a = post(
        &h,
        "/_sandbox/payments",
        json!({
            "session_id": "test-session-1",
            "order_no": "ORD-T-1",
            "amount": "12.50",
            "currency_code": "SAR",
            "state": "authorized",
            "pg_code": "credimax",
            "type": "payment_request",
            "created_at": "2025-06-01T10:00:00Z",
            "customer_email": "amal@example.com"
        }),
    )
    .await;
    assert_eq!(a.status, 201, "{}", a.text);
    assert_eq!(a.body["session_id"], "test-session-1");
    assert_eq!(a.body["amount_minor"], 1250);

    let view = h.payment("test-session-1").await;
    assert_eq!(view.status, 200);
    for (field, value) in [
        ("session_id", json!("test-session-1")),
        ("order_no", json!("ORD-T-1")),
        ("amount", json!("12.50")),
        ("currency_code", json!("SAR")),
        ("state", json!("authorized")),
        ("pg_codes", json!(["credimax"])),
        ("settled_pg_code", json!("credimax")),
        ("type", json!("payment_request")),
        ("operation", json!("authorize")),
        ("created", json!("2025-06-01T10:00:00.000Z")),
        ("customer_email", json!("amal@example.com")),
    ] {
        assert_eq!(view.body[field], value, "{field}");
    }

    let duplicate = post(
        &h,
        "/_sandbox/payments",
        json!({ "session_id": "test-session-1", "amount": "1" }),
    )
    .await;
    assert_eq!(duplicate.status, 409);
    let duplicate = post(
        &h,
        "/_sandbox/payments",
        json!({ "order_no": "ORD-T-1", "amount": "1" }),
    )
    .await;
    assert_eq!(duplicate.status, 409);
    for (body, field) in [
        (json!({ "amount": "1.5", "currency_code": "JPY" }), "amount"),
        (
            json!({ "amount": "1", "currency_code": "XXX" }),
            "currency_code",
        ),
        (json!({ "amount": "0" }), "amount"),
        (
            json!({ "amount": "1", "session_id": "has space" }),
            "session_id",
        ),
        (
            json!({ "amount": "1", "created_at": "yesterday" }),
            "created_at",
        ),
    ] {
        let a = post(&h, "/_sandbox/payments", body.clone()).await;
        assert_eq!(a.status, 400, "{body}: {}", a.text);
        assert!(a.body[field].is_array(), "{body}: {}", a.text);
    }
    let unknown_field = post(
        &h,
        "/_sandbox/payments",
        json!({ "amount": "1", "colour": "red" }),
    )
    .await;
    assert_eq!(unknown_field.status, 400);
    let defaults = post(&h, "/_sandbox/payments", json!({ "amount": "3" })).await;
    assert_eq!(defaults.status, 201);
    assert_eq!(
        (
            defaults.body["state"].clone(),
            defaults.body["currency_code"].clone(),
            defaults.body["pg_code"].clone()
        ),
        (json!("paid"), json!("KWD"), json!("knet"))
    );
    assert_eq!(defaults.body["session_id"].as_str().unwrap().len(), 32);
}

#[tokio::test]
async fn children_are_retrievable_and_not_operable() {
    let h = Harness::empty();
    let p = h.add_in(daftar_sandbox::PaymentState::Paid, "8.000", "knet");
    let refund = h
        .op(
            json!({ "operation": "refund", "session_id": p.session_id, "amount": "3" }),
            None,
        )
        .await;
    let child = refund.body["txn"]["session_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let view = h.payment(&child).await;
    assert_eq!(view.status, 200);
    assert_eq!(view.body["state"], "refunded");
    assert_eq!(view.body["amount"], "3.000");
    assert_eq!(view.body["parent_session_id"], p.session_id.as_str());
    assert_eq!(view.body["operation"], "refund");
    let parent = h.payment(&p.session_id).await;
    assert_eq!(parent.body["transactions"][0]["session_id"], child.as_str());
    let a = h
        .op(json!({ "operation": "refund", "session_id": child }), None)
        .await;
    assert_eq!(a.status, 400);
    assert!(
        a.body["session_id"][0].as_str().unwrap().contains("child"),
        "{}",
        a.text
    );
}

#[tokio::test]
async fn health_state_clock_and_settle() {
    let h = Harness::start(Config {
        payments: 10,
        clock_offset_ms: 5_000,
        ..Config::default()
    });
    let health = h.get("/_sandbox/health").await;
    assert_eq!(health.body["status"], "ok");
    assert_eq!(health.body["base_url"], h.sandbox.base_url());

    let clock = h.get("/_sandbox/clock").await;
    assert_eq!(clock.body["offset_ms"], 5_000);
    let before = clock.body["now_ms"].as_i64().unwrap();
    let moved = post(&h, "/_sandbox/clock", json!({ "advance_ms": 3_600_000 })).await;
    assert_eq!(moved.body["offset_ms"], 3_605_000);
    assert!(moved.body["now_ms"].as_i64().unwrap() >= before + 3_600_000);
    let set = post(&h, "/_sandbox/clock", json!({ "offset_ms": 0 })).await;
    assert_eq!(set.body["offset_ms"], 0);
    assert_eq!(
        post(&h, "/_sandbox/clock", json!({ "jump": 1 }))
            .await
            .status,
        400
    );

    let settled = post(&h, "/_sandbox/settle", json!({})).await;
    assert_eq!(settled.body["settled"], 0);

    let state = h.get("/_sandbox/state").await;
    let parsed: StateSnapshot = serde_json::from_value(state.body.clone()).unwrap();
    assert_eq!(parsed.payments.len(), 10);
    assert_eq!(parsed.seed, 42);
    assert_eq!(parsed.payments, h.sandbox.state().unwrap().payments);
    assert!(state.body["counters"]["faults"]["5xx"].is_u64());
    assert!(state.body["payments"][0]["children"].is_array());

    assert_eq!(h.get("/_sandbox/nothing").await.status, 404);
    let wrong = Harness::answer(
        h.client
            .delete(h.url("/_sandbox/state"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(wrong.status, 405);
}
