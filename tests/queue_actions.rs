//! `OperationView.actions`: what the app offers on a queued operation is exactly what
//! `retry_operation`, `resend_operation` and `drop_operation` take. For every status, sent
//! or not, and operations of several kinds, each flag is checked against the call itself
//! on a fresh copy of the same ledger; plus a retried original and a retry the rules
//! refuse.

use std::sync::Arc;

use daftar::Ledger;
use daftar::ledger::{
    OperationActions, PaymentInput, PaymentLookup, QueueQuery, QueueRequest, RetryRequest,
};
use daftar::model::OperationStatus;
use daftar::sources::{FixedClock, SequentialKeys};
use daftar::store::Store;

const START_MS: i64 = 1_767_323_045_678;

struct Env {
    ledger: Ledger,
    _dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("ledger.sqlite3")).unwrap();
        let mut ledger = Ledger::with_sources(
            store,
            Arc::new(FixedClock::new(START_MS)),
            Arc::new(SequentialKeys::new()),
            "test:queue-actions",
        );
        ledger
            .add_profile("shop", "https://shop.ottu.net", "KWD")
            .unwrap();
        Env { ledger, _dir: dir }
    }

    fn add(&mut self, session: &str, amount: &str, state: &str) {
        self.ledger
            .add_payment(&PaymentInput {
                profile: "shop".into(),
                session_id: session.into(),
                order_no: None,
                amount: amount.into(),
                currency: "KWD".into(),
                state: state.into(),
            })
            .unwrap();
    }

    fn queue(&mut self, kind: &str, session: &str, amount: Option<&str>) -> i64 {
        self.ledger
            .queue(&QueueRequest {
                kind: kind.into(),
                payment: PaymentLookup::session_id(session),
                amount: amount.map(Into::into),
                reason: None,
            })
            .unwrap()
            .operation
            .id
    }

    /// What a sync leaves behind: `status`, and whether a request went out.
    fn set_state(&mut self, id: i64, status: OperationStatus, sent: bool) {
        self.ledger
            .store()
            .connection()
            .execute(
                "UPDATE operations SET status = ?1, first_sent_at_ms = ?2 WHERE id = ?3",
                rusqlite::params![status.as_str(), sent.then_some(START_MS), id],
            )
            .unwrap();
    }

    /// The operation's actions as the queue list and the payment detail show them (they
    /// must agree).
    fn actions(&mut self, id: i64) -> OperationActions {
        let page = self.ledger.queue_list(&QueueQuery::default()).unwrap();
        let op = page.operations.iter().find(|o| o.id == id).unwrap();
        let detail = self
            .ledger
            .show_payment(&PaymentLookup::session_id(&op.session_id))
            .unwrap();
        let in_detail = detail.operations.iter().find(|o| o.id == id).unwrap();
        assert_eq!(in_detail.actions, op.actions, "operation {id}");
        op.actions
    }
}

fn retry(env: &mut Env, id: i64, confirmed: bool) -> bool {
    env.ledger
        .retry_operation(&RetryRequest {
            id,
            confirm_not_applied: confirmed,
            reason: confirmed.then(|| "Ottu's dashboard shows no refund".into()),
        })
        .is_ok()
}

/// Holds every flag to its call, each on a fresh ledger built by `setup` (which returns
/// the operation's id).
fn check(label: &str, setup: &dyn Fn() -> (Env, i64)) -> OperationActions {
    let (mut env, id) = setup();
    let actions = env.actions(id);
    if !actions.retry {
        assert!(!actions.retry_needs_confirmation, "{label}: {actions:?}");
    }
    let (mut env, id) = setup();
    assert_eq!(
        retry(&mut env, id, true),
        actions.retry,
        "{label}: retry with confirmation: {actions:?}"
    );
    let (mut env, id) = setup();
    assert_eq!(
        retry(&mut env, id, false),
        actions.retry && !actions.retry_needs_confirmation,
        "{label}: retry without confirmation: {actions:?}"
    );
    let (mut env, id) = setup();
    assert_eq!(
        env.ledger.resend_operation(id).is_ok(),
        actions.resend,
        "{label}: resend: {actions:?}"
    );
    let (mut env, id) = setup();
    assert_eq!(
        env.ledger.drop_operation(id, None).is_ok(),
        actions.drop,
        "{label}: drop: {actions:?}"
    );
    actions
}

/// (kind, payment state, payment amount, requested amount): full amounts, so a retry of
/// a still-reserving original is allowed only if its own reservation stops counting.
const CASES: &[(&str, &str, &str, Option<&str>)] = &[
    ("refund", "paid", "10", Some("10")),
    ("refund", "paid", "10", None),
    ("capture", "authorized", "8", Some("8")),
    ("void", "authorized", "8", None),
    ("cancel", "created", "7", None),
    ("delete", "paid", "6", None),
];

#[test]
fn every_status_sent_or_not_offers_exactly_the_calls_that_succeed() {
    let mut offered = 0;
    for &(kind, state, amount, requested) in CASES {
        for &status in OperationStatus::ALL {
            for sent in [false, true] {
                let label = format!("{kind} {status} sent={sent}");
                let actions = check(&label, &|| {
                    let mut env = Env::new();
                    env.add("p", amount, state);
                    let id = env.queue(kind, "p", requested);
                    env.set_state(id, status, sent);
                    (env, id)
                });
                // The expected table, so a rule that drifted both ways is caught too.
                let retryable = matches!(
                    status,
                    OperationStatus::Failed
                        | OperationStatus::NeedsAttention
                        | OperationStatus::Blocked
                );
                assert_eq!(actions.retry, retryable, "{label}");
                assert_eq!(
                    actions.retry_needs_confirmation,
                    retryable && (sent || status != OperationStatus::Blocked),
                    "{label}"
                );
                assert_eq!(
                    actions.resend,
                    status == OperationStatus::NeedsAttention,
                    "{label}"
                );
                assert_eq!(
                    actions.drop,
                    !sent && matches!(status, OperationStatus::Queued | OperationStatus::Blocked),
                    "{label}"
                );
                offered += usize::from(actions.retry) + usize::from(actions.drop);
            }
        }
    }
    assert!(offered > 0);
}

#[test]
fn a_retried_operation_offers_no_second_retry_and_its_replacement_may_be_dropped() {
    let setup = || {
        let mut env = Env::new();
        env.add("p", "10", "paid");
        let id = env.queue("refund", "p", Some("4"));
        env.set_state(id, OperationStatus::Failed, true);
        assert!(retry(&mut env, id, true));
        (env, id)
    };
    let original = check("retried original", &setup);
    assert_eq!(original, OperationActions::default());
    let replacement = check("replacement", &|| {
        let (env, id) = setup();
        (env, id + 1)
    });
    assert!(replacement.drop && !replacement.retry);
}

#[test]
fn a_retry_the_rules_would_refuse_is_not_offered() {
    // The refund failed; meanwhile the whole amount went to another refund.
    let actions = check("refund spent elsewhere", &|| {
        let mut env = Env::new();
        env.add("p", "10", "paid");
        let id = env.queue("refund", "p", Some("6"));
        env.set_state(id, OperationStatus::Failed, true);
        env.queue("refund", "p", None);
        (env, id)
    });
    assert!(!actions.retry && !actions.retry_needs_confirmation);
    // Unresolved, while a later refund took the rest: its own reservation is released by
    // the retry, so it is offered again.
    let actions = check("unresolved with the rest refunded", &|| {
        let mut env = Env::new();
        env.add("p", "10", "paid");
        let id = env.queue("refund", "p", Some("6"));
        env.queue("refund", "p", None);
        env.set_state(id, OperationStatus::NeedsAttention, true);
        (env, id)
    });
    assert!(actions.retry && actions.retry_needs_confirmation && actions.resend);
}
