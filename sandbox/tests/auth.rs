//! Authentication and permissions: 401 for missing or bad credentials, 403 naming the
//! missing permission, Basic users limited to their permissions, the Api-Key allowed all.

mod common;

use common::{Harness, basic};
use daftar_sandbox::{Config, PaymentState, UserSpec};
use serde_json::json;

fn config() -> Config {
    Config {
        users: vec![
            "capturer:cap-pw:payment.capture".parse().unwrap(),
            "everything:all-pw:*".parse().unwrap(),
        ],
        ..Config::empty()
    }
}

#[tokio::test]
async fn missing_or_bad_credentials_are_401() {
    let h = Harness::start(config());
    let p = h.add_in(PaymentState::Paid, "1.000", "knet");
    let body = json!({ "operation": "refund", "session_id": p.session_id });
    let no_header = h
        .client
        .post(h.url(common::OPERATION))
        .json(&body)
        .send()
        .await
        .unwrap();
    let no_header = Harness::answer(no_header).await;
    assert_eq!(no_header.status, 401);
    assert_eq!(
        no_header.body["detail"],
        "Authentication credentials were not provided."
    );
    for bad in [
        "Api-Key wrong-key".to_owned(),
        "Api-Key".to_owned(),
        basic("capturer", "wrong"),
        basic("nobody", "cap-pw"),
        "Basic not-base64!".to_owned(),
        "Bearer sandbox-demo-key".to_owned(),
    ] {
        let a = h.op_as(&bad, body.clone(), None).await;
        assert_eq!(a.status, 401, "{bad}: {}", a.text);
        assert!(a.body["detail"].is_string(), "{bad}: {}", a.text);
    }
    for path in [
        format!("/b/checkout/v1/pymt-txn/{}/", p.session_id),
        "/b/api/v1/reports/files/".to_owned(),
    ] {
        let a = Harness::answer(h.client.get(h.url(&path)).send().await.unwrap()).await;
        assert_eq!(a.status, 401, "{path}");
    }
    let state = h.sandbox.state().unwrap();
    assert!(state.operations.is_empty());
    assert_eq!(state.counters.auth_failures, 9);
}

#[tokio::test]
async fn users_are_limited_to_their_permissions_and_403_names_the_missing_one() {
    let h = Harness::start(config());
    let auth = h.add_in(PaymentState::Authorized, "4.000", "mpgs");
    let capturer = basic("capturer", "cap-pw");
    for (operation, permission) in [
        ("refund", "payment.refund"),
        ("void", "payment.void"),
        ("cancel", "payment.cancel"),
        ("expire", "payment.expire"),
        ("delete", "payment.delete"),
    ] {
        let a = h
            .op_as(
                &capturer,
                json!({ "operation": operation, "session_id": auth.session_id }),
                None,
            )
            .await;
        assert_eq!(a.status, 403, "{operation}: {}", a.text);
        let detail = a.body["detail"].as_str().unwrap();
        assert!(detail.contains(permission), "{operation}: {detail}");
    }
    let a = h
        .op_as(
            &capturer,
            json!({ "operation": "capture", "session_id": auth.session_id, "amount": "1" }),
            Some("by-user"),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.body["initiator"]["username"], "capturer");

    let inquiry = Harness::answer(
        h.client
            .post(h.url(common::INQUIRY))
            .header("Authorization", &capturer)
            .json(&json!({ "session_id": auth.session_id }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(inquiry.status, 403);
    assert!(
        inquiry.body["detail"]
            .as_str()
            .unwrap()
            .contains("payment.inquiry")
    );

    let reports = Harness::answer(
        h.client
            .get(h.url("/b/api/v1/reports/files/"))
            .header("Authorization", &capturer)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(reports.status, 403);
    assert!(
        reports.body["detail"]
            .as_str()
            .unwrap()
            .contains("report.can_view_report")
    );

    // Reading a payment needs no particular permission.
    let read = Harness::answer(
        h.client
            .get(h.url(&format!("/b/checkout/v1/pymt-txn/{}/", auth.session_id)))
            .header("Authorization", &capturer)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(read.status, 200);

    let everything = basic("everything", "all-pw");
    let a = h
        .op_as(
            &everything,
            json!({ "operation": "refund", "session_id": auth.session_id }),
            None,
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);

    // Users can be added at runtime, through the library or `POST /_sandbox/users`.
    h.sandbox
        .add_user(UserSpec {
            name: "late".to_owned(),
            password: "pw".to_owned(),
            permissions: vec![daftar_sandbox::Permission::PaymentVoid],
        })
        .unwrap();
    let added = h
        .client
        .post(h.url("/_sandbox/users"))
        .json(&json!({ "name": "viewer", "password": "v", "permissions": ["report.can_view_report"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(added.status().as_u16(), 201);
    let reports = Harness::answer(
        h.client
            .get(h.url("/b/api/v1/reports/files/"))
            .header("Authorization", basic("viewer", "v"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(reports.status, 200);
    let a = h
        .op_as(
            &basic("late", "pw"),
            json!({ "operation": "refund", "session_id": auth.session_id }),
            None,
        )
        .await;
    assert_eq!(a.status, 403);
}

#[tokio::test]
async fn an_unknown_operation_is_a_400_before_any_permission_check() {
    let h = Harness::start(config());
    let a = h
        .op_as(
            &basic("capturer", "cap-pw"),
            json!({ "operation": "steal", "session_id": "x" }),
            None,
        )
        .await;
    assert_eq!(a.status, 400, "{}", a.text);
    assert!(a.body["operation"].is_array());
}
