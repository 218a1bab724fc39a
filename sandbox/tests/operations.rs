//! The operation endpoint over real loopback HTTP: the state table for every state and
//! operation, partial captures and refunds and their limits, refund_queued settlement,
//! gateway refusals, validation errors, and Tracking-Key replay.

mod common;

use std::time::Duration;

use common::Harness;
use daftar_sandbox::gateway::{QUEUED_PG, REFUSE_PG, REJECT_PG};
use daftar_sandbox::{ChildState, NewPayment, OperationKind, PaymentState};
use serde_json::{Value, json};

fn expected_allowed(op: OperationKind, state: PaymentState) -> bool {
    use PaymentState as S;
    match op {
        OperationKind::Cancel => matches!(state, S::Created | S::Pending | S::Attempted | S::Cod),
        OperationKind::Expire => matches!(state, S::Created | S::Pending | S::Attempted),
        OperationKind::Delete => true,
        OperationKind::Capture | OperationKind::Void => state == S::Authorized,
        OperationKind::Refund => state == S::Paid,
    }
}

#[tokio::test]
async fn state_table_for_every_state_and_operation() {
    let h = Harness::empty();
    for &state in PaymentState::ALL {
        for &op in OperationKind::ALL {
            let p = h.add_in(state, "10.000", "knet");
            let answer = h
                .op(
                    json!({ "operation": op.as_str(), "session_id": p.session_id }),
                    Some(&format!("table-{state}-{op}")),
                )
                .await;
            let allowed = expected_allowed(op, state);
            let after = h.sandbox.state().unwrap();
            let after = after.payment(&p.session_id).unwrap();
            if allowed {
                assert_eq!(answer.status, 200, "{op} from {state}: {}", answer.text);
                assert_eq!(answer.body["result"], "success", "{op} from {state}");
                assert_eq!(answer.body["operation"], op.as_str());
                match op {
                    OperationKind::Cancel => assert_eq!(after.state, PaymentState::Canceled),
                    OperationKind::Expire => assert_eq!(after.state, PaymentState::Expired),
                    OperationKind::Delete => {
                        assert!(after.deleted);
                        assert_eq!(after.state, state, "delete keeps the state");
                    }
                    _ => {
                        assert_eq!(
                            after.state, state,
                            "external operations keep the parent state"
                        );
                        assert_eq!(after.children.len(), 1);
                        let child = &answer.body["txn"];
                        assert_eq!(child["amount"], "10.000");
                        assert_eq!(child["currency_code"], "KWD");
                        let expected_state = match op {
                            OperationKind::Capture => "paid",
                            OperationKind::Void => "voided",
                            _ => "refunded",
                        };
                        assert_eq!(child["state"], expected_state);
                        assert_eq!(answer.body["success"], true);
                        assert_eq!(answer.body["session_id"], p.session_id.as_str());
                        assert_eq!(child["session_id"], after.children[0].session_id.as_str());
                    }
                }
            } else {
                assert_eq!(answer.status, 400, "{op} from {state}: {}", answer.text);
                assert_eq!(answer.body["result"], "failed");
                assert_eq!(answer.body["operation"], op.as_str());
                assert!(
                    answer.body["detail"]
                        .as_str()
                        .unwrap()
                        .contains(state.as_str()),
                    "{}",
                    answer.text
                );
                assert_eq!(after.state, state);
                assert!(after.children.is_empty());
                assert!(!after.deleted);
            }
        }
    }
    let state = h.sandbox.state().unwrap();
    assert_eq!(
        state.operations.len(),
        PaymentState::ALL.len() * OperationKind::ALL.len()
    );
    assert!(state.operations.iter().all(|o| o.tracking_key.is_some()));
}

#[tokio::test]
async fn partial_captures_then_refunds_up_to_what_was_captured() {
    let h = Harness::empty();
    let p = h.add_in(PaymentState::Authorized, "10.000", "mpgs");
    let sid = p.session_id.as_str();
    let op = |operation: &str, amount: Option<&str>| {
        let mut body = json!({ "operation": operation, "session_id": sid });
        if let Some(a) = amount {
            body["amount"] = json!(a);
        }
        body
    };
    let a = h.op(op("refund", None), None).await;
    assert_eq!(a.status, 400, "nothing captured yet: {}", a.text);

    let a = h.op(op("capture", Some("4")), None).await;
    assert_eq!(
        (a.status, a.body["txn"]["amount"].clone()),
        (200, json!("4.000"))
    );
    assert_eq!(a.body["txn"]["state"], "paid");

    let a = h.op(op("capture", Some("6.001")), None).await;
    assert_eq!(a.status, 400);
    assert_eq!(
        a.body["detail"],
        "The capture amount 6.001 KWD exceeds the remaining amount 6.000 KWD."
    );
    let a = h.op(op("void", None), None).await;
    assert_eq!(a.status, 400, "no void after a capture: {}", a.text);

    let a = h.op(op("refund", Some("4.001")), None).await;
    assert_eq!(
        a.status, 400,
        "refund limited to the captured amount: {}",
        a.text
    );
    let a = h.op(op("refund", Some("1.500")), None).await;
    assert_eq!((a.status, a.body["amount"].clone()), (200, json!("1.500")));

    let a = h.op(op("capture", None), None).await;
    assert_eq!(
        a.body["amount"], "6.000",
        "capture without amount takes the rest"
    );
    let a = h.op(op("capture", None), None).await;
    assert_eq!(a.status, 400);
    assert_eq!(a.body["detail"], "Nothing left to capture on this payment.");

    let a = h.op(op("refund", None), None).await;
    assert_eq!(
        a.body["amount"], "8.500",
        "refund without amount takes what remains"
    );
    let a = h.op(op("refund", Some("0.001")), None).await;
    assert_eq!(a.status, 400);

    let state = h.sandbox.state().unwrap();
    let p = state.payment(sid).unwrap();
    assert_eq!(p.state, PaymentState::Authorized);
    assert_eq!((p.captured_minor, p.refunded_minor), (10_000, 10_000));
    assert_eq!(p.children.len(), 4);
}

#[tokio::test]
async fn void_takes_the_whole_amount_and_ignores_the_requested_one() {
    let h = Harness::empty();
    let p = h.add_in(PaymentState::Authorized, "7.250", "mpgs");
    let a = h
        .op(
            json!({ "operation": "void", "session_id": p.session_id, "amount": "1.000" }),
            None,
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.body["amount"], "7.250");
    assert_eq!(a.body["txn"]["state"], "voided");
    for op in ["void", "capture", "refund"] {
        let a = h
            .op(json!({ "operation": op, "session_id": p.session_id }), None)
            .await;
        assert_eq!(a.status, 400, "{op} after void: {}", a.text);
    }
}

#[tokio::test]
async fn partial_refunds_of_a_paid_payment_in_each_currency() {
    let h = Harness::empty();
    for (currency, amount, part, too_precise, rest) in [
        ("KWD", "10.000", "2.125", "0.0001", "7.875"),
        ("SAR", "10.00", "2.50", "0.001", "7.50"),
        ("JPY", "1000", "250", "0.5", "750"),
    ] {
        let mut new = NewPayment::paid(amount);
        new.currency_code = currency.to_owned();
        let p = h.add(new);
        let body = |amount: &str| json!({ "operation": "refund", "order_no": null, "session_id": p.session_id, "amount": amount });
        let mut first = body(part);
        first.as_object_mut().unwrap().remove("order_no");
        let a = h.op(first, None).await;
        assert_eq!(
            (a.status, a.body["amount"].clone()),
            (200, json!(part)),
            "{currency}"
        );
        assert_eq!(a.body["txn"]["currency_code"], currency);

        let mut precise = body(too_precise);
        precise.as_object_mut().unwrap().remove("order_no");
        let a = h.op(precise, None).await;
        assert_eq!(a.status, 400, "{currency} {too_precise}: {}", a.text);
        assert!(a.body["amount"].is_array(), "a field error: {}", a.text);

        let a = h
            .op(
                json!({ "operation": "refund", "session_id": p.session_id }),
                None,
            )
            .await;
        assert_eq!(a.body["amount"], rest, "{currency}");
        assert_eq!(a.body["txn"]["amount"], rest);
    }
}

#[tokio::test]
async fn queued_refunds_settle_after_the_delay_or_on_demand() {
    let h = Harness::empty();
    let queued = h.add_in(PaymentState::Paid, "10.000", QUEUED_PG);
    let a = h
        .op(
            json!({ "operation": "refund", "session_id": queued.session_id, "amount": "4" }),
            Some("q-1"),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.body["result"], "success");
    assert_eq!(a.body["txn"]["state"], "refund_queued");
    let child = a.body["txn"]["session_id"].as_str().unwrap().to_owned();
    assert_eq!(h.payment(&child).await.body["state"], "refund_queued");

    // A queued refund counts against the refundable amount.
    let a = h
        .op(
            json!({ "operation": "refund", "session_id": queued.session_id, "amount": "6.001" }),
            None,
        )
        .await;
    assert_eq!(a.status, 400, "{}", a.text);

    // The default settle delay is 2 s of sandbox clock: move the clock instead of waiting.
    h.sandbox
        .advance_clock(Duration::from_millis(2_001))
        .unwrap();
    let child_view = h.payment(&child).await;
    assert_eq!(child_view.body["state"], "refunded");
    assert_eq!(
        child_view.body["parent_session_id"],
        queued.session_id.as_str()
    );
    assert_eq!(child_view.body["amount"], "4.000");
    // The replay of the original request still says what was answered then.
    let replay = h
        .op(
            json!({ "operation": "refund", "session_id": queued.session_id, "amount": "4" }),
            Some("q-1"),
        )
        .await;
    assert_eq!(replay.body["txn"]["state"], "refund_queued");

    let rejecting = h.add_in(PaymentState::Paid, "5.000", REJECT_PG);
    let a = h
        .op(
            json!({ "operation": "refund", "session_id": rejecting.session_id }),
            None,
        )
        .await;
    assert_eq!(a.body["txn"]["state"], "refund_queued");
    let child = a.body["txn"]["session_id"].as_str().unwrap().to_owned();
    let settled = h
        .client
        .post(h.url("/_sandbox/settle"))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(settled["settled"], 1);
    assert_eq!(h.payment(&child).await.body["state"], "refund_rejected");
    let state = h.sandbox.state().unwrap();
    let snapshot = state.payment(&rejecting.session_id).unwrap();
    assert_eq!(snapshot.children[0].state, ChildState::RefundRejected);
    assert_eq!(
        snapshot.refunded_minor, 0,
        "a rejected refund gives the amount back"
    );
    let again = h
        .op(
            json!({ "operation": "refund", "session_id": rejecting.session_id }),
            None,
        )
        .await;
    assert_eq!(again.body["amount"], "5.000");

    // The parent view lists the children with their states.
    let parent = h.payment(&queued.session_id).await;
    assert_eq!(parent.body["transactions"][0]["state"], "refunded");
}

#[tokio::test]
async fn a_refusing_gateway_answers_200_failed_and_changes_nothing() {
    let h = Harness::empty();
    let p = h.add_in(PaymentState::Paid, "3.000", REFUSE_PG);
    let body = json!({ "operation": "refund", "session_id": p.session_id, "amount": "1" });
    let a = h.op(body.clone(), Some("refused-1")).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.body["result"], "failed");
    assert_eq!(a.body["success"], false);
    assert!(a.body["detail"].as_str().unwrap().contains(REFUSE_PG));
    assert!(
        a.body["txn"].get("session_id").is_none(),
        "no child was created"
    );
    let replay = h.op(body, Some("refused-1")).await;
    assert_eq!(
        (replay.status, replay.text.as_str()),
        (200, a.text.as_str())
    );
    let state = h.sandbox.state().unwrap();
    assert!(state.payment(&p.session_id).unwrap().children.is_empty());
    let record = state.operation_with_key("refused-1").unwrap();
    assert_eq!(
        (record.result.as_str(), record.outcome.as_str()),
        ("failed", "gateway_refused")
    );
    // Captures and voids on that gateway work (only refunds are refused).
    let auth = h.add_in(PaymentState::Authorized, "3.000", REFUSE_PG);
    let a = h
        .op(
            json!({ "operation": "capture", "session_id": auth.session_id }),
            None,
        )
        .await;
    assert_eq!(a.body["result"], "success");
    // A wallet refund does not go through the gateway.
    let a = h
        .op(
            json!({ "operation": "refund", "session_id": p.session_id, "destination": "wallet" }),
            None,
        )
        .await;
    assert_eq!(a.body["result"], "success", "{}", a.text);
}

#[tokio::test]
async fn foreign_currency_and_deleted_payments_refuse_operations() {
    let h = Harness::empty();
    let mut foreign = NewPayment::paid("5.000");
    foreign.foreign_currency = true;
    let foreign = h.add(foreign);
    let a = h
        .op(
            json!({ "operation": "refund", "session_id": foreign.session_id }),
            None,
        )
        .await;
    assert_eq!(a.status, 400);
    assert!(
        a.body["detail"]
            .as_str()
            .unwrap()
            .contains("foreign currency")
    );

    // Delete is soft for paid: still retrievable, operations refused.
    let paid = h.add_in(PaymentState::Paid, "5.000", "knet");
    let a = h
        .op(
            json!({ "operation": "delete", "session_id": paid.session_id }),
            None,
        )
        .await;
    assert_eq!(a.body["result"], "success");
    assert_eq!(h.payment(&paid.session_id).await.status, 200);
    let a = h
        .op(
            json!({ "operation": "refund", "session_id": paid.session_id }),
            None,
        )
        .await;
    assert_eq!(a.status, 400);
    assert_eq!(
        a.body["detail"],
        "This payment transaction has been deleted."
    );

    // Delete is hard for created: gone from the API.
    let created = h.add_in(PaymentState::Created, "5.000", "knet");
    h.op(
        json!({ "operation": "delete", "session_id": created.session_id }),
        None,
    )
    .await;
    let gone = h.payment(&created.session_id).await;
    assert_eq!(
        (gone.status, gone.body.clone()),
        (404, json!({ "detail": "Not found." }))
    );
    assert!(
        h.sandbox
            .state()
            .unwrap()
            .payment(&created.session_id)
            .unwrap()
            .deleted
    );
}

#[tokio::test]
async fn order_numbers_select_payments_too() {
    let h = Harness::empty();
    let mut new = NewPayment::paid("9.000");
    new.order_no = Some("ORD-777".to_owned());
    let p = h.add(new);
    let a = h
        .op(
            json!({ "operation": "refund", "order_no": "ORD-777", "amount": "1" }),
            None,
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.body["session_id"], p.session_id.as_str());
    assert_eq!(a.body["order_no"], "ORD-777");
    assert_eq!(a.body["txn"]["order_no"], "ORD-777");
    let a = h
        .op(
            json!({ "operation": "refund", "order_no": "ORD-778", "session_id": p.session_id }),
            None,
        )
        .await;
    assert_eq!(a.status, 400, "mismatching identifiers: {}", a.text);
    let a = h
        .op(
            json!({ "operation": "refund", "order_no": "ORD-000" }),
            None,
        )
        .await;
    assert_eq!(a.status, 400);
    assert_eq!(a.body["order_no"][0], "Payment transaction not found.");
}

#[tokio::test]
async fn malformed_requests_get_field_errors() {
    let h = Harness::empty();
    let p = h.add_in(PaymentState::Paid, "10.000", "knet");
    let sid = p.session_id.as_str();
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({ "operation": "refund", "session_id": sid, "amount": "1.2345" }),
            "amount",
        ),
        (
            json!({ "operation": "refund", "session_id": sid, "amount": "12345678901234" }),
            "amount",
        ),
        (
            json!({ "operation": "refund", "session_id": sid, "amount": "1e3" }),
            "amount",
        ),
        (
            json!({ "operation": "refund", "session_id": sid, "amount": "" }),
            "amount",
        ),
        (
            json!({ "operation": "refund", "session_id": sid, "amount": 1.5 }),
            "amount",
        ),
        (
            json!({ "operation": "refund", "session_id": sid, "amount": "0" }),
            "amount",
        ),
        (
            json!({ "operation": "refund", "session_id": sid, "amount": "-1" }),
            "amount",
        ),
        (json!({ "operation": "refund" }), "non_field_errors"),
        (
            json!({ "operation": "steal", "session_id": sid }),
            "operation",
        ),
        (json!({ "session_id": sid }), "operation"),
        (
            json!({ "operation": "refund", "session_id": "x".repeat(129) }),
            "session_id",
        ),
        (
            json!({ "operation": "refund", "session_id": sid, "destination": "moon" }),
            "destination",
        ),
        (
            json!({ "operation": "capture", "session_id": sid, "destination": "wallet" }),
            "destination",
        ),
        (
            json!({ "operation": "refund", "session_id": sid, "extra": "no" }),
            "extra",
        ),
        (
            json!({ "operation": "refund", "session_id": "no-such-payment" }),
            "session_id",
        ),
    ];
    for (body, field) in cases {
        let a = h.op(body.clone(), Some("reusable-key")).await;
        assert_eq!(a.status, 400, "{body}: {}", a.text);
        assert!(
            a.body[field].is_array(),
            "{body}: expected a '{field}' error, got {}",
            a.text
        );
    }
    // Nothing was stored for validation errors, so the key is still free.
    let state = h.sandbox.state().unwrap();
    assert!(state.operations.is_empty());
    assert_eq!(state.counters.operations_invalid, 15);
    let a = h
        .op(
            json!({ "operation": "refund", "session_id": sid, "amount": "1" }),
            Some("reusable-key"),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);

    // An amount is only checked against the pattern for operations that ignore it.
    let c = h.add_in(PaymentState::Created, "1.000", "knet");
    let a = h
        .op(
            json!({ "operation": "cancel", "session_id": c.session_id, "amount": "1.50" }),
            None,
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
}

#[tokio::test]
async fn request_formats_methods_and_paths() {
    let h = Harness::empty();
    let p = h.add_in(PaymentState::Paid, "10.000", "knet");
    let auth = h.sandbox.api_key_header();
    let form = h
        .client
        .post(h.url(common::OPERATION))
        .header("Authorization", &auth)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!(
            "operation=refund&session_id={}&amount=1.250",
            p.session_id
        ))
        .send()
        .await
        .unwrap();
    let form = Harness::answer(form).await;
    assert_eq!(
        (form.status, form.body["amount"].clone()),
        (200, json!("1.250"))
    );

    let bad_json = h
        .client
        .post(h.url(common::OPERATION))
        .header("Authorization", &auth)
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    let bad_json = Harness::answer(bad_json).await;
    assert_eq!(bad_json.status, 400);
    assert!(
        bad_json.body["detail"]
            .as_str()
            .unwrap()
            .starts_with("JSON parse error")
    );

    let multipart = h
        .client
        .post(h.url(common::OPERATION))
        .header("Authorization", &auth)
        .header("Content-Type", "text/plain")
        .body("operation=refund")
        .send()
        .await
        .unwrap();
    assert_eq!(multipart.status().as_u16(), 415);

    let get = h.get(common::OPERATION).await;
    assert_eq!(get.status, 405);
    assert_eq!(h.get("/b/pbl/v2/nothing/").await.status, 404);
    assert_eq!(h.payment("no-such-session").await.status, 404);
}

#[tokio::test]
async fn tracking_key_replays_the_stored_answer_and_applies_once() {
    let h = Harness::empty();
    let p = h.add_in(PaymentState::Paid, "10.000", "knet");
    let other = h.add_in(PaymentState::Paid, "10.000", "knet");
    let body = json!({ "operation": "refund", "session_id": p.session_id, "amount": "2" });
    let first = h.op(body.clone(), Some("key-1")).await;
    assert_eq!(first.status, 200);
    let second = h.op(body.clone(), Some("key-1")).await;
    assert_eq!(
        (second.status, second.text.as_str()),
        (200, first.text.as_str())
    );
    // The same key on the same payment replays even if the body differs.
    let different = h
        .op(
            json!({ "operation": "refund", "session_id": p.session_id, "amount": "5" }),
            Some("key-1"),
        )
        .await;
    assert_eq!(different.text, first.text);
    // The same key on another payment is refused.
    let cross = h
        .op(
            json!({ "operation": "refund", "session_id": other.session_id }),
            Some("key-1"),
        )
        .await;
    assert_eq!(cross.status, 400);
    assert_eq!(cross.body["operation"], "operation_tracking");
    assert_eq!(cross.body["result"], "failed");

    // Many concurrent attempts with one key: applied exactly once.
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..24 {
        let request = h
            .client
            .post(h.url(common::OPERATION))
            .header("Authorization", h.sandbox.api_key_header())
            .header("Tracking-Key", "key-2")
            .json(&json!({ "operation": "refund", "session_id": other.session_id, "amount": "1" }));
        tasks.spawn(async move { Harness::answer(request.send().await.unwrap()).await });
    }
    let answers = tasks.join_all().await;
    assert!(
        answers
            .iter()
            .all(|a| a.status == 200 && a.text == answers[0].text)
    );

    // A refusal by state is stored too: its key replays the refusal.
    let created = h.add_in(PaymentState::Created, "1.000", "knet");
    let refused = h
        .op(
            json!({ "operation": "refund", "session_id": created.session_id }),
            Some("key-3"),
        )
        .await;
    assert_eq!(refused.status, 400);
    let again = h
        .op(
            json!({ "operation": "refund", "session_id": created.session_id }),
            Some("key-3"),
        )
        .await;
    assert_eq!(
        (again.status, again.text.as_str()),
        (400, refused.text.as_str())
    );

    let state = h.sandbox.state().unwrap();
    assert_eq!(state.applied_on(&p.session_id).count(), 1);
    assert_eq!(state.applied_on(&other.session_id).count(), 1);
    assert_eq!(state.payment(&other.session_id).unwrap().children.len(), 1);
    assert_eq!(state.counters.operations_replayed, 2 + 23 + 1);
    let record = state.operation_with_key("key-1").unwrap();
    assert_eq!(record.amount.as_deref(), Some("2.000"));
    assert_eq!(record.result, "success");
    assert_eq!(record.outcome, "applied");
    assert_eq!(
        record.child_session_id.as_deref(),
        first.body["txn"]["session_id"].as_str()
    );

    // Without a Tracking-Key there is no deduplication.
    for _ in 0..2 {
        h.op(
            json!({ "operation": "refund", "session_id": p.session_id, "amount": "1" }),
            None,
        )
        .await;
    }
    assert_eq!(
        h.sandbox.state().unwrap().applied_on(&p.session_id).count(),
        3
    );
}
