//! Every endpoint answers its path with and without the trailing slash (Ottu's own Python
//! client, `ottu-py`, retrieves `GET /b/checkout/v1/pymt-txn/{session_id}` without it), and
//! a retrieve reply carries `payment_methods` as a list, the way ottu-py reads it.

mod common;

use common::Harness;
use daftar_sandbox::{Config, NewPayment};
use serde_json::json;

/// A paid KWD payment created long ago (its first inquiry is allowed at once).
fn old_payment(h: &Harness, order_no: &str) -> String {
    let mut p = NewPayment::paid("10.000");
    p.order_no = Some(order_no.to_owned());
    p.created_at = Some("2025-06-01T10:00:00Z".to_owned());
    h.add(p).session_id
}

#[tokio::test]
async fn every_endpoint_answers_with_and_without_the_trailing_slash() {
    let h = Harness::start(Config {
        payments: 20,
        ..Config::default()
    });
    let auth = h.sandbox.api_key_header();
    for path in ["/b/pbl/v2/operation/", "/b/pbl/v2/operation"] {
        let session_id = old_payment(&h, &format!("ORD-OP{}", path.len()));
        let a = Harness::answer(
            h.client
                .post(h.url(path))
                .header("Authorization", &auth)
                .json(&json!({ "operation": "refund", "session_id": session_id, "amount": "1" }))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(a.status, 200, "{path}: {}", a.text);
        assert_eq!(a.body["result"], "success", "{path}: {}", a.text);
    }
    for path in ["/b/pbl/v2/inquiry/", "/b/pbl/v2/inquiry"] {
        let session_id = old_payment(&h, &format!("ORD-IN{}", path.len()));
        let a = Harness::answer(
            h.client
                .post(h.url(path))
                .header("Authorization", &auth)
                .json(&json!({ "session_id": session_id }))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(a.status, 200, "{path}: {}", a.text);
        assert_eq!(a.body["session_id"], session_id.as_str(), "{path}");
    }

    let session_id = old_payment(&h, "ORD-GET");
    let with = h
        .get(&format!("/b/checkout/v1/pymt-txn/{session_id}/"))
        .await;
    let without = h
        .get(&format!("/b/checkout/v1/pymt-txn/{session_id}"))
        .await;
    assert_eq!(with.status, 200, "{}", with.text);
    assert_eq!(without.status, 200, "{}", without.text);
    assert_eq!(with.body, without.body);

    let list = h.get("/b/api/v1/reports/files/").await;
    let list_bare = h.get("/b/api/v1/reports/files").await;
    assert_eq!(list.status, 200, "{}", list.text);
    assert_eq!(list_bare.status, 200, "{}", list_bare.text);
    // Today's report is generated "now": compare which reports are listed.
    let ids = |page: &serde_json::Value| -> Vec<String> {
        page["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["download_action"].to_string())
            .collect()
    };
    assert_eq!(list.body["count"], list_bare.body["count"]);
    assert_eq!(ids(&list.body), ids(&list_bare.body));
    let download = list.body["results"][0]["download_action"]
        .as_str()
        .expect("a report")
        .replacen(h.sandbox.base_url(), "", 1);
    assert!(download.ends_with("/download/"), "{download}");
    let csv = h.get(&download).await;
    let csv_bare = h.get(download.trim_end_matches('/')).await;
    assert_eq!(csv.status, 200, "{}", csv.text);
    assert_eq!(csv_bare.status, 200, "{}", csv_bare.text);
    assert_eq!(csv.text, csv_bare.text);

    for path in ["/_sandbox/health", "/_sandbox/state", "/_sandbox/clock"] {
        assert_eq!(h.get(path).await.status, 200, "{path}");
        assert_eq!(h.get(&format!("{path}/")).await.status, 200, "{path}/");
    }

    // One slash is optional, not any number of them; a wrong method is still a 405.
    assert_eq!(h.get("/b/pbl/v2/operation//").await.status, 404);
    assert_eq!(
        h.get(&format!("/b/checkout/v1/pymt-txn/{session_id}//"))
            .await
            .status,
        404
    );
    assert_eq!(h.get("/b/pbl/v2/operationx").await.status, 404);
    assert_eq!(h.get("/b/pbl/v2/operation").await.status, 405);
}

#[tokio::test]
async fn a_retrieve_reply_lists_its_payment_methods() {
    let h = Harness::empty();
    let session_id = old_payment(&h, "ORD-PM");
    let view = h.payment(&session_id).await;
    let methods = view.body["payment_methods"]
        .as_array()
        .unwrap_or_else(|| panic!("payment_methods is not a list: {}", view.text));
    assert_eq!(methods.len(), 1);
    assert_eq!(methods[0]["code"], "knet");
    assert_eq!(methods[0]["amount"], "10.000");
    assert_eq!(methods[0]["currency_code"], "KWD");
}
