//! Reports: the paginated list (spec-shaped) and the CSV download with the real report's
//! header names; deleted payments left out.

mod common;

use common::Harness;
use daftar_sandbox::{Config, NewPayment, PaymentState, REPORT_CSV_HEADER};
use serde_json::{Value, json};

#[tokio::test]
async fn lists_daily_reports_and_downloads_csv() {
    let h = Harness::start(Config {
        payments: 60,
        ..Config::default()
    });
    let page = h.get("/b/api/v1/reports/files/?limit=5").await;
    assert_eq!(page.status, 200, "{}", page.text);
    let count = page.body["count"].as_u64().unwrap();
    assert!(count > 5, "{count}");
    let results = page.body["results"].as_array().unwrap();
    assert_eq!(results.len(), 5);
    assert!(page.body["previous"].is_null());
    let next = page.body["next"].as_str().unwrap();
    assert!(next.contains("offset=5"), "{next}");
    for report in results {
        for field in [
            "created_at",
            "download_action",
            "encrypted_id",
            "generated_at",
            "interval",
            "report_name",
            "source",
        ] {
            assert!(report.get(field).is_some(), "missing {field}: {report}");
        }
        assert_eq!(report["status"], "finished");
    }
    let second = h.get(&next.replacen(h.sandbox.base_url(), "", 1)).await;
    assert_eq!(second.body["results"].as_array().unwrap().len(), 5);
    assert_ne!(second.body["results"][0], results[0]);

    // Everything in all reports = every seeded payment and child.
    let all = h.get("/b/api/v1/reports/files/?limit=100").await;
    let mut rows = 0;
    for report in all.body["results"].as_array().unwrap() {
        let url = report["download_action"].as_str().unwrap();
        let response = h
            .client
            .get(url)
            .header("Authorization", h.sandbox.api_key_header())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/csv")
        );
        let text = response.text().await.unwrap();
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let header: Vec<String> = reader
            .headers()
            .unwrap()
            .iter()
            .map(str::to_owned)
            .collect();
        assert_eq!(header, REPORT_CSV_HEADER);
        let n = reader.records().count();
        assert_eq!(n as u64, report["records_amount"].as_u64().unwrap());
        rows += n;
    }
    let state = h.sandbox.state().unwrap();
    assert_eq!(rows, state.payments.len() + state.children().count());
}

#[tokio::test]
async fn todays_report_shows_new_payments_and_hides_deleted_ones() {
    let h = Harness::empty();
    let mut kept = NewPayment::paid("12.345");
    kept.order_no = Some("ORD-KEPT".to_owned());
    let kept = h.add(kept);
    let gone = h.add_in(PaymentState::Created, "1.000", "knet");
    h.op(
        json!({ "operation": "delete", "session_id": gone.session_id }),
        None,
    )
    .await;
    h.op(
        json!({ "operation": "refund", "session_id": kept.session_id, "amount": "2" }),
        None,
    )
    .await;

    let list = h.get("/b/api/v1/reports/files/").await;
    assert_eq!(list.body["count"], 1);
    let url = list.body["results"][0]["download_action"]
        .as_str()
        .unwrap()
        .to_owned();
    let text = h
        .client
        .get(url)
        .header("Authorization", h.sandbox.api_key_header())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    assert_eq!(rows.len(), 2, "{text}");
    assert_eq!(rows[0][0], kept.session_id);
    assert_eq!(rows[0][1], "ORD-KEPT");
    assert_eq!(rows[0][4], "12.345");
    assert_eq!(
        rows[1][2], kept.session_id,
        "the refund child names its parent"
    );
    assert_eq!(
        (
            rows[1][3].as_str(),
            rows[1][4].as_str(),
            rows[1][6].as_str()
        ),
        ("refund", "2.000", "refunded")
    );
    assert!(!text.contains(&gone.session_id));

    let bad = h
        .get("/b/api/v1/reports/files/?created_after=yesterday")
        .await;
    assert_eq!(bad.status, 400);
    assert!(bad.body["created_after"].is_array());
    let none = h.get("/b/api/v1/reports/files/?interval=monthly").await;
    assert_eq!(none.body["count"], 0);
    let missing = h
        .get("/b/api/v1/reports/files/00000000-0000-4000-8000-000000000000/download/")
        .await;
    assert_eq!(missing.status, 404);
    let _: &Value = &missing.body;
}
