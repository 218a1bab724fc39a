//! `Ledger::payment_actions`: what the app offers on a payment is exactly what `queue`
//! takes. Real ledger file, payments in many states and with pending work; for every
//! kind, `allowed` equals `queue` succeeding with no amount, `max_amount` equals what it
//! reserves, and `refusal` equals the error it returns.

use std::sync::Arc;

use daftar::Ledger;
use daftar::ledger::{ActionView, PaymentInput, PaymentLookup, QueueRequest};
use daftar::model::OperationKind;
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
            "test:actions",
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

    fn queue(&mut self, kind: &str, session: &str, amount: Option<&str>) {
        self.ledger.queue(&request(kind, session, amount)).unwrap();
    }

    fn actions(&mut self, session: &str) -> Vec<ActionView> {
        self.ledger
            .payment_actions(&PaymentLookup::session_id(session))
            .unwrap()
    }
}

fn request(kind: &str, session: &str, amount: Option<&str>) -> QueueRequest {
    QueueRequest {
        kind: kind.into(),
        payment: PaymentLookup::session_id(session),
        amount: amount.map(Into::into),
        reason: None,
    }
}

fn action(actions: &[ActionView], kind: OperationKind) -> &ActionView {
    actions.iter().find(|a| a.kind == kind).unwrap()
}

fn refusal_code(actions: &[ActionView], kind: OperationKind) -> Option<&str> {
    action(actions, kind)
        .refusal
        .as_ref()
        .map(|e| e.code.as_str())
}

/// Every payment the tests below look at, each in its own situation.
fn scenarios() -> (Env, Vec<&'static str>) {
    let mut env = Env::new();
    env.add("paid-1", "10", "paid");
    env.add("auth-1", "8", "authorized");
    env.add("refunded-1", "5", "refunded");
    // Paid, with its whole amount refunded by a queued refund.
    env.add("paid-spent", "4", "paid");
    env.queue("refund", "paid-spent", None);
    // Paid, partly refunded.
    env.add("paid-part", "10", "paid");
    env.queue("refund", "paid-part", Some("2.5"));
    // Authorized with a capture queued: refundable now, no more void.
    env.add("auth-captured", "8", "authorized");
    env.queue("capture", "auth-captured", Some("3"));
    // Authorized with a void queued.
    env.add("auth-voided", "8", "authorized");
    env.queue("void", "auth-voided", None);
    env.add("created-1", "7", "created");
    env.add("cod-1", "7", "cod");
    // A cancel queued: only a delete may follow.
    env.add("created-cancel", "7", "created");
    env.queue("cancel", "created-cancel", None);
    // A delete queued: nothing may follow.
    env.add("paid-deleting", "6", "paid");
    env.queue("delete", "paid-deleting", None);
    // Deleted at Ottu (what a synced delete leaves).
    env.add("deleted-1", "6", "paid");
    env.ledger
        .store()
        .connection()
        .execute(
            "UPDATE payments SET hidden = 1 WHERE session_id = 'deleted-1'",
            [],
        )
        .unwrap();
    env.add("failed-1", "3", "failed");
    let sessions = vec![
        "paid-1",
        "auth-1",
        "refunded-1",
        "paid-spent",
        "paid-part",
        "auth-captured",
        "auth-voided",
        "created-1",
        "cod-1",
        "created-cancel",
        "paid-deleting",
        "deleted-1",
        "failed-1",
    ];
    (env, sessions)
}

#[test]
fn one_view_per_kind_in_the_documented_order() {
    let (mut env, sessions) = scenarios();
    for session in sessions {
        let kinds: Vec<OperationKind> = env.actions(session).iter().map(|a| a.kind).collect();
        assert_eq!(
            kinds,
            [
                OperationKind::Refund,
                OperationKind::Capture,
                OperationKind::Void,
                OperationKind::Cancel,
                OperationKind::Expire,
                OperationKind::Delete,
            ],
            "{session}"
        );
    }
}

#[test]
fn a_paid_payment_offers_its_refundable_amount_and_refuses_capture() {
    let (mut env, _) = scenarios();
    let actions = env.actions("paid-1");
    let refund = action(&actions, OperationKind::Refund);
    assert!(refund.allowed);
    assert_eq!(refund.max_amount.as_deref(), Some("10.000"));
    assert_eq!(refund.refusal, None);
    let capture = action(&actions, OperationKind::Capture);
    assert!(!capture.allowed);
    assert_eq!(capture.max_amount, None);
    let refusal = capture.refusal.as_ref().unwrap();
    assert_eq!(refusal.code, "rules.state");
    assert_eq!(refusal.params["state"], "paid");
    assert_eq!(
        refusal_code(&actions, OperationKind::Void),
        Some("rules.state")
    );
    assert_eq!(
        refusal_code(&actions, OperationKind::Cancel),
        Some("rules.state")
    );
    // Delete is internal: allowed, and it reserves no amount.
    let delete = action(&actions, OperationKind::Delete);
    assert!(delete.allowed);
    assert_eq!(delete.max_amount, None);

    // What is left after a partial refund.
    let actions = env.actions("paid-part");
    assert_eq!(
        action(&actions, OperationKind::Refund)
            .max_amount
            .as_deref(),
        Some("7.500")
    );
}

#[test]
fn an_authorized_payment_offers_capture_and_void_of_the_whole_amount() {
    let (mut env, _) = scenarios();
    let actions = env.actions("auth-1");
    for kind in [OperationKind::Capture, OperationKind::Void] {
        let view = action(&actions, kind);
        assert!(view.allowed, "{kind}");
        assert_eq!(view.max_amount.as_deref(), Some("8.000"), "{kind}");
    }
    assert_eq!(
        refusal_code(&actions, OperationKind::Refund),
        Some("rules.state")
    );

    // With a capture queued: the captured part is refundable, the rest capturable, and a
    // void is refused because something is captured.
    let actions = env.actions("auth-captured");
    assert_eq!(
        action(&actions, OperationKind::Refund)
            .max_amount
            .as_deref(),
        Some("3.000")
    );
    assert_eq!(
        action(&actions, OperationKind::Capture)
            .max_amount
            .as_deref(),
        Some("5.000")
    );
    assert_eq!(
        refusal_code(&actions, OperationKind::Void),
        Some("rules.void_after_capture")
    );
}

#[test]
fn a_fully_refunded_payment_refuses_another_refund() {
    let (mut env, _) = scenarios();
    let actions = env.actions("paid-spent");
    let refund = action(&actions, OperationKind::Refund);
    assert!(!refund.allowed);
    let refusal = refund.refusal.as_ref().unwrap();
    assert_eq!(refusal.code, "rules.nothing_left");
    assert_eq!(refusal.params["left"], "0.000");
    // A payment Ottu already marked refunded: refused by its state.
    let actions = env.actions("refunded-1");
    assert_eq!(
        refusal_code(&actions, OperationKind::Refund),
        Some("rules.state")
    );
}

#[test]
fn a_deleted_payment_refuses_everything() {
    let (mut env, _) = scenarios();
    for view in env.actions("deleted-1") {
        assert!(!view.allowed, "{}", view.kind);
        assert_eq!(
            view.refusal.as_ref().map(|e| e.code.as_str()),
            Some("rules.payment_deleted"),
            "{}",
            view.kind
        );
    }
    // A delete queued: everything waits for it.
    for view in env.actions("paid-deleting") {
        assert_eq!(
            view.refusal.as_ref().map(|e| e.code.as_str()),
            Some("rules.operation_pending"),
            "{}",
            view.kind
        );
    }
}

/// The property: for every payment and every kind, the view is what `preview` and `queue`
/// say for the same request (queue's operation is dropped again, which releases what it
/// reserved, so the next kind sees the same ledger).
#[test]
fn every_view_is_what_queue_would_do() {
    let (mut env, sessions) = scenarios();
    let mut allowed = 0;
    let mut refused = 0;
    for session in sessions {
        let actions = env.actions(session);
        for view in &actions {
            let what = format!("{} on {session}", view.kind);
            let request = request(view.kind.as_str(), session, None);
            let preview = env.ledger.preview(&request);
            match (&preview, &view.refusal) {
                (Ok(amount), None) => assert_eq!(amount, &view.max_amount, "{what}"),
                (Err(error), Some(refusal)) => assert_eq!(&error.view(), refusal, "{what}"),
                _ => panic!("{what}: preview {preview:?}, view {view:?}"),
            }
            match env.ledger.queue(&request) {
                Ok(queued) => {
                    assert!(view.allowed, "{what}");
                    assert_eq!(queued.operation.amount, view.max_amount, "{what}");
                    env.ledger
                        .drop_operation(queued.operation.id, None)
                        .unwrap();
                    allowed += 1;
                }
                Err(error) => {
                    assert!(!view.allowed, "{what}");
                    assert_eq!(view.max_amount, None, "{what}");
                    assert_eq!(Some(error.view()), view.refusal, "{what}");
                    refused += 1;
                }
            }
        }
        // Dropping gave back every reservation: the views are unchanged.
        assert_eq!(env.actions(session), actions, "{session}");
    }
    // Both sides of the property were exercised.
    assert!(
        allowed >= 10 && refused >= 30,
        "{allowed} allowed, {refused} refused"
    );
}

#[test]
fn a_lookup_that_names_no_payment_is_the_error_queue_returns() {
    let (mut env, _) = scenarios();
    for lookup in [
        PaymentLookup::session_id("no-such-payment"),
        PaymentLookup::default(),
    ] {
        let got = env.ledger.payment_actions(&lookup).unwrap_err().view();
        let queued = env
            .ledger
            .queue(&QueueRequest {
                kind: "refund".into(),
                payment: lookup.clone(),
                amount: None,
                reason: None,
            })
            .unwrap_err()
            .view();
        assert_eq!(got, queued, "{lookup:?}");
    }
}

#[test]
fn amounts_typed_in_arabic_indic_digits_queue_as_their_value() {
    let mut env = Env::new();
    env.add("paid-ar", "١٠", "paid");
    // ٢٫٥ = 2.5 (Arabic-Indic digits, Arabic decimal separator); ۱ = 1 (Extended).
    let preview = env
        .ledger
        .preview(&request("refund", "paid-ar", Some("٢٫٥")))
        .unwrap();
    assert_eq!(preview.as_deref(), Some("2.500"));
    let queued = env
        .ledger
        .queue(&request("refund", "paid-ar", Some("۱")))
        .unwrap();
    assert_eq!(queued.operation.requested_amount.as_deref(), Some("1.000"));
    assert_eq!(queued.balances.refundable, "9.000");
    // Still refused beyond the balance, in any digits.
    let refused = env
        .ledger
        .preview(&request("refund", "paid-ar", Some("٩٫٥")))
        .unwrap_err();
    assert_eq!(refused.view().code, "rules.refund_exceeds");
}
