//! The state file: stopping and starting again with the same file keeps payments, children,
//! applied operations (so a Tracking-Key still replays) and users; seeding is deterministic.

mod common;

use common::{Harness, basic};
use daftar_sandbox::{Config, PaymentState, Sandbox};
use serde_json::json;

#[tokio::test]
async fn restart_with_the_same_state_file_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        state_path: Some(dir.path().join("sandbox.sqlite")),
        payments: 30,
        users: vec!["ops:pw:payment.refund".parse().unwrap()],
        ..Config::default()
    };
    let h = Harness::start(config.clone());
    assert!(h.sandbox.is_fresh());
    let before = h.sandbox.state().unwrap();
    let paid = before
        .payments
        .iter()
        .find(|p| p.state == PaymentState::Paid && p.pg_code == "knet" && !p.foreign_currency)
        .expect("a seeded knet payment")
        .clone();
    let body = json!({ "operation": "refund", "session_id": paid.session_id, "amount": "1" });
    let first = h.op(body.clone(), Some("persisted-key")).await;
    assert_eq!(first.status, 200, "{}", first.text);
    let before = h.sandbox.state().unwrap();
    h.sandbox.shutdown();

    // A different seed and count are ignored: the file wins.
    let h = Harness::start(Config {
        seed: 999,
        payments: 3,
        ..config.clone()
    });
    assert!(!h.sandbox.is_fresh());
    let after = h.sandbox.state().unwrap();
    assert_eq!(after.payments, before.payments);
    assert_eq!(after.operations, before.operations);
    let replay = h.op(body.clone(), Some("persisted-key")).await;
    assert_eq!(
        (replay.status, replay.text.as_str()),
        (200, first.text.as_str())
    );
    // Users persist too.
    let a = h
        .op_as(
            &basic("ops", "pw"),
            json!({ "operation": "refund", "session_id": paid.session_id, "amount": "1" }),
            None,
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    // New children keep unique ids after a restart.
    let state = h.sandbox.state().unwrap();
    let children = &state.payment(&paid.session_id).unwrap().children;
    assert_eq!(children.len(), 2);
    assert_ne!(children[0].session_id, children[1].session_id);
}

#[test]
fn the_same_seed_gives_the_same_payments() {
    let start = |seed| {
        let sandbox = Sandbox::start(Config {
            seed,
            payments: 50,
            ..Config::default()
        })
        .unwrap();
        let state = sandbox.state().unwrap();
        sandbox.shutdown();
        state.payments
    };
    let a = start(5);
    assert_eq!(a, start(5));
    assert_ne!(a, start(6));
    assert_eq!(a.len(), 50);
    assert_eq!(a[0].order_no.as_deref(), Some("ORD-000001"));
    for state in PaymentState::ALL {
        assert!(a.iter().any(|p| p.state == *state), "no {state}");
    }
    let ids: std::collections::HashSet<_> = a.iter().map(|p| &p.session_id).collect();
    assert_eq!(ids.len(), 50);
}

#[test]
fn without_refusing_gateways_every_seeded_refund_can_succeed() {
    let sandbox = Sandbox::start(Config {
        payments: 400,
        varied_gateways: false,
        ..Config::default()
    })
    .unwrap();
    let state = sandbox.state().unwrap();
    assert!(state.payments.iter().all(|p| {
        daftar_sandbox::gateway::CLEAN_PG_CODES.contains(&p.pg_code.as_str()) && !p.foreign_currency
    }));
}
