//! Comparing the ledger with what Ottu (the sandbox) holds.

use daftar::ledger::PaymentDetail;
use daftar_sandbox::PaymentSnapshot;

fn minor(amount: &str) -> i64 {
    amount.replace('.', "").parse().expect("a decimal amount")
}

/// The ledger's view of a payment equals Ottu's: parent state, refunded (with queued
/// refunds), voided, captured (for authorizations) and deletion.
pub fn assert_ledger_matches(ours: &PaymentDetail, theirs: &PaymentSnapshot) {
    let session = &theirs.session_id;
    assert_eq!(
        ours.state.as_str(),
        theirs.state.to_string(),
        "{session}: parent state"
    );
    assert_eq!(
        minor(&ours.balances.refunded),
        theirs.refunded_minor,
        "{session}: refunded"
    );
    assert_eq!(
        minor(&ours.balances.voided),
        theirs.voided_minor,
        "{session}: voided"
    );
    if theirs.state.to_string() == "authorized" {
        assert_eq!(
            minor(&ours.balances.captured),
            theirs.captured_minor,
            "{session}: captured"
        );
    }
    assert_eq!(ours.hidden, theirs.deleted, "{session}: deleted");
}

/// A sandbox that takes `key` and the Basic user `user:password` (allowed to capture),
/// holding one 10.000 payment (gateway `queued-pg`) per `(session id, state)`.
pub fn basic_sandbox(
    key: &str,
    user: &str,
    password: &str,
    payments: &[(&str, &str)],
) -> daftar_sandbox::RunningSandbox {
    let sandbox = daftar_sandbox::Sandbox::start(daftar_sandbox::Config {
        api_key: key.to_string(),
        users: vec![
            format!("{user}:{password}:payment.capture")
                .parse()
                .unwrap(),
        ],
        varied_gateways: false,
        ..daftar_sandbox::Config::empty()
    })
    .unwrap();
    for (session, state) in payments {
        let payment: daftar_sandbox::NewPayment = serde_json::from_value(serde_json::json!({
            "session_id": session, "amount": "10.000", "state": state, "pg_code": "queued-pg",
        }))
        .unwrap();
        sandbox.add_payment(payment).unwrap();
    }
    sandbox
}

/// The profile `shop` (KWD) at `sandbox`, with the sandbox's API key stored.
pub fn shop_profile(ledger: &mut daftar::Ledger, sandbox: &daftar_sandbox::RunningSandbox) {
    ledger
        .add_profile("shop", sandbox.base_url(), "KWD")
        .unwrap();
    ledger
        .set_key(
            "shop",
            daftar::ottu::Credential::ApiKey(daftar::secrets::SecretString::from(
                sandbox.api_key().to_string(),
            )),
        )
        .unwrap();
}

/// The runtime the tests run jobs and syncs on: two workers, I/O and time drivers.
pub fn test_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A sandbox holding one paid 10.000 KNET payment `session` (order `O-{session}`).
pub fn sandbox_with_paid(session: &str) -> daftar_sandbox::RunningSandbox {
    let sandbox = daftar_sandbox::Sandbox::start(daftar_sandbox::Config {
        varied_gateways: false,
        ..daftar_sandbox::Config::empty()
    })
    .unwrap();
    let payment: daftar_sandbox::NewPayment = serde_json::from_value(serde_json::json!({
        "session_id": session, "order_no": format!("O-{session}"), "amount": "10.000",
        "state": "paid", "pg_code": "knet",
    }))
    .unwrap();
    sandbox.add_payment(payment).unwrap();
    sandbox
}

/// Queues a refund of `amount` on the payment `session`.
pub fn queue_refund(
    ledger: &mut daftar::Ledger,
    session: &str,
    amount: &str,
) -> daftar::ledger::QueuedView {
    ledger
        .queue(&daftar::ledger::QueueRequest {
            kind: "refund".into(),
            payment: daftar::ledger::PaymentLookup {
                session_id: Some(session.into()),
                ..daftar::ledger::PaymentLookup::default()
            },
            amount: Some(amount.into()),
            reason: None,
        })
        .unwrap()
}
