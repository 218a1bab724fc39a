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

    // Everything in all daily reports = every seeded payment and child.
    let all = h
        .get("/b/api/v1/reports/files/?limit=100&interval=daily")
        .await;
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

/// The second layout: one XLSX report per finished month, Arabic labels in another column
/// order, amounts as numbers; the same rows as that month's daily CSVs.
#[tokio::test]
async fn monthly_xlsx_report_has_arabic_labels_and_the_daily_rows() {
    use calamine::{Data, Reader, Xlsx};

    let h = Harness::start(Config {
        payments: 60,
        ..Config::default()
    });
    let list = h.get("/b/api/v1/reports/files/?interval=monthly").await;
    assert_eq!(list.status, 200, "{}", list.text);
    // Seeded payments lie in the 30 days before 2026-01-01 (a few children a day later).
    let months = list.body["results"].as_array().unwrap();
    let report = months
        .iter()
        .find(|r| r["report_name"].as_str().unwrap().ends_with("2025-12"))
        .expect("December's report");
    assert_eq!(report["file_format"], "xlsx");
    assert_eq!(report["interval"], "monthly");
    assert_eq!(report["created_at"], "2026-01-01T00:00:00.000Z");
    // Listed beside the daily ones when no interval is asked for, newest first.
    let all = h.get("/b/api/v1/reports/files/?limit=100").await;
    let daily = h
        .get("/b/api/v1/reports/files/?limit=100&interval=daily")
        .await;
    assert_eq!(
        all.body["count"].as_u64().unwrap(),
        daily.body["count"].as_u64().unwrap() + months.len() as u64
    );
    assert_eq!(all.body["results"][0], months[0], "newest first");

    let download = |url: String| {
        let client = h.client.clone();
        let auth = h.sandbox.api_key_header();
        async move {
            let response = client
                .get(url)
                .header("Authorization", auth)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status().as_u16(), 200);
            let kind = response.headers()["content-type"]
                .to_str()
                .unwrap()
                .to_owned();
            (kind, response.bytes().await.unwrap().to_vec())
        }
    };
    let url = report["download_action"].as_str().unwrap().to_owned();
    let (kind, bytes) = download(url.clone()).await;
    assert_eq!(kind, daftar_sandbox::XLSX_CONTENT_TYPE);
    assert_eq!(
        download(url).await.1,
        bytes,
        "the same data gives the same bytes"
    );

    let mut book = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    let sheet = book.worksheet_range_at(0).unwrap().unwrap();
    let mut rows = sheet.rows();
    let header: Vec<String> = rows.next().unwrap().iter().map(|c| c.to_string()).collect();
    let labels: Vec<&str> = daftar_sandbox::REPORT_XLSX_AR_COLUMNS
        .iter()
        .map(|(label, _)| *label)
        .collect();
    assert_eq!(header, labels);
    assert_eq!(header[0], "رقم الطلب");
    assert!(header.contains(&"الرقم المرجعي".to_owned()));

    // Every daily CSV row, keyed by session id, against the XLSX's.
    let mut expected = std::collections::HashMap::new();
    for daily in daily.body["results"].as_array().unwrap() {
        if !daily["report_name"].as_str().unwrap().contains("2025-12-") {
            continue;
        }
        let (_, text) = download(daily["download_action"].as_str().unwrap().to_owned()).await;
        let mut reader = csv::Reader::from_reader(text.as_slice());
        for record in reader.records() {
            let record: Vec<String> = record.unwrap().iter().map(str::to_owned).collect();
            expected.insert(record[0].clone(), record);
        }
    }
    let column = |name: &str| {
        daftar_sandbox::REPORT_XLSX_AR_COLUMNS
            .iter()
            .position(|(label, _)| *label == name)
            .unwrap()
    };
    let mut n = 0;
    for row in rows {
        n += 1;
        let session = row[column("رقم الجلسة")].to_string();
        let csv_row = expected
            .get(&session)
            .expect("the row is in a daily report");
        for (i, (_, source)) in daftar_sandbox::REPORT_XLSX_AR_COLUMNS.iter().enumerate() {
            match &row[i] {
                // The amount is a number whose shortest text is the CSV's value.
                Data::Float(value) => {
                    assert_eq!(REPORT_CSV_HEADER[*source], "amount");
                    let decimals = match csv_row[5].as_str() {
                        "JPY" => 0,
                        "SAR" => 2,
                        _ => 3,
                    };
                    assert_eq!(format!("{value:.decimals$}"), csv_row[*source], "{session}");
                    assert_eq!(value.to_string().parse::<f64>().unwrap(), *value);
                }
                Data::String(text) => assert_eq!(text, &csv_row[*source], "{session}"),
                Data::Empty => assert_eq!(csv_row[*source], "", "{session}"),
                other => panic!("unexpected cell {other:?}"),
            }
        }
        assert!(csv_row[10].starts_with("SBX"), "reference number carried");
    }
    assert_eq!(n, expected.len());
    assert_eq!(n as u64, report["records_amount"].as_u64().unwrap());
}
