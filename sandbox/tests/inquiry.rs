//! Inquiry throttling on the sandbox clock (moved forward instead of waiting): the 10-minute
//! grace period, once per 30 minutes, three times per payment, 30 per minute overall; and the
//! gateway state an inquiry learns.

mod common;

use std::time::Duration;

use common::Harness;
use daftar_sandbox::{NewPayment, PaymentState};

const MINUTE: Duration = Duration::from_secs(60);

fn retry_after(a: &common::Answer) -> u64 {
    a.retry_after
        .as_deref()
        .expect("a Retry-After header")
        .parse()
        .expect("Retry-After in seconds")
}

#[tokio::test]
async fn per_payment_throttle_follows_the_documented_rules() {
    let h = Harness::empty();
    let p = h.add_in(PaymentState::Pending, "5.000", "knet");

    let a = h.inquire(&p.session_id).await;
    assert_eq!(a.status, 429, "{}", a.text);
    let wait = retry_after(&a);
    assert!(
        (590..=600).contains(&wait),
        "grace period Retry-After {wait}"
    );
    assert!(a.body["detail"].as_str().unwrap().contains("throttled"));

    h.sandbox.advance_clock(10 * MINUTE).unwrap();
    let a = h.inquire(&p.session_id).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.body["session_id"], p.session_id.as_str());
    assert_eq!(a.body["state"], "pending");
    assert_eq!(a.body["result"], "pending");
    assert!(a.body["remaining_amount"].is_number());

    let a = h.inquire(&p.session_id).await;
    assert_eq!(a.status, 429);
    let wait = retry_after(&a);
    assert!(
        (1_790..=1_800).contains(&wait),
        "30-minute Retry-After {wait}"
    );

    h.sandbox.advance_clock(30 * MINUTE).unwrap();
    assert_eq!(h.inquire(&p.session_id).await.status, 200);
    h.sandbox.advance_clock(30 * MINUTE).unwrap();
    assert_eq!(h.inquire(&p.session_id).await.status, 200);
    h.sandbox.advance_clock(30 * MINUTE).unwrap();
    let a = h.inquire(&p.session_id).await;
    assert_eq!(a.status, 429, "a fourth inquiry is denied: {}", a.text);
    assert!(
        a.retry_after.is_none(),
        "a permanent denial has no Retry-After"
    );

    let state = h.sandbox.state().unwrap();
    assert_eq!(state.payment(&p.session_id).unwrap().inquiry_count, 3);
    assert_eq!(state.counters.inquiries_throttled, 3);
}

#[tokio::test]
async fn at_most_thirty_inquiries_a_minute_overall() {
    let h = Harness::empty();
    let day_ago = rfc3339(h.sandbox.now_ms() - 24 * 3_600_000);
    let mut ids = Vec::new();
    for _ in 0..31 {
        let mut new = NewPayment::paid("1.000");
        new.created_at = Some(day_ago.clone());
        ids.push(h.add(new).session_id);
    }
    for id in &ids[..30] {
        let a = h.inquire(id).await;
        assert_eq!(a.status, 200, "{}", a.text);
    }
    let a = h.inquire(&ids[30]).await;
    assert_eq!(a.status, 429);
    assert!((1..=60).contains(&retry_after(&a)));
    h.sandbox
        .advance_clock(MINUTE + Duration::from_secs(1))
        .unwrap();
    assert_eq!(h.inquire(&ids[30]).await.status, 200);
}

#[tokio::test]
async fn an_inquiry_learns_the_gateway_state() {
    let h = Harness::empty();
    let mut new = NewPayment::paid("2.500");
    new.state = PaymentState::Attempted;
    new.gateway_state = Some(PaymentState::Paid);
    let p = h.add(new);
    assert_eq!(h.payment(&p.session_id).await.body["state"], "attempted");
    h.sandbox.advance_clock(11 * MINUTE).unwrap();
    let a = h.inquire(&p.session_id).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.body["state"], "paid");
    assert_eq!(a.body["result"], "success");
    assert_eq!(h.payment(&p.session_id).await.body["state"], "paid");

    assert_eq!(h.inquire("unknown-session").await.status, 404);
}

/// RFC 3339 for epoch milliseconds.
fn rfc3339(ms: i64) -> String {
    use time::format_description::well_known::Rfc3339;
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap()
        .format(&Rfc3339)
        .unwrap()
}
