//! Which operation is allowed on a payment, and for how much: Ottu's state table made
//! stricter for offline work. Pure functions over facts the store has summed; no I/O.
//!
//! The invariant guarded here: whatever is queued, in flight or unresolved is counted as
//! already spent, so no sequence of offline operations can ask Ottu for more than the
//! payment holds.

use serde::Serialize;
use thiserror::Error;

use crate::model::{OperationKind, PaymentState};
use crate::money::Amount;

/// What the rules need to know of the payment itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PaymentFacts {
    pub state: PaymentState,
    pub amount: Amount,
    pub hidden: bool,
}

/// Sums over a payment's children and not-yet-final operations, in minor units of the
/// payment's currency (exact integer sums from SQL).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LedgerFacts {
    /// Capture children in state `paid`.
    pub captured_minor: i64,
    /// Refund children `refunded` or `refund_queued` (a queued refund is committed).
    pub refunded_minor: i64,
    /// Void children in state `voided`.
    pub voided_minor: i64,
    pub pending_capture_minor: i64,
    pub pending_refund_minor: i64,
    pub pending_void_count: u32,
    pub pending_cancel_count: u32,
    pub pending_expire_count: u32,
    pub pending_delete_count: u32,
    pub pending_void_minor: i64,
}

/// A payment's derived balances, all in its currency.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Balances {
    /// Money collected: the whole amount of a `paid` payment, or what was captured.
    pub captured: Amount,
    pub refunded: Amount,
    pub voided: Amount,
    /// Held back by queued, in-flight and unresolved operations.
    pub pending: Amount,
    pub refundable: Amount,
    pub capturable: Amount,
}

/// The balances as decimal strings with the currency's decimals, for JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct BalancesView {
    pub captured: String,
    pub refunded: String,
    pub voided: String,
    pub pending: String,
    pub refundable: String,
    pub capturable: String,
}

/// `a + b` or `a - b` in minor units, or the overflow named by what was being summed. The
/// facts are exact SQL sums of amounts of at most 13 integer digits, so an overflow means
/// the ledger holds what no payment can (an edited file): reported, never wrapped.
fn add(what: &'static str, a: i64, b: i64) -> Result<i64, RuleError> {
    a.checked_add(b)
        .ok_or(RuleError::BalanceOverflow { balance: what })
}

fn sub(what: &'static str, a: i64, b: i64) -> Result<i64, RuleError> {
    a.checked_sub(b)
        .ok_or(RuleError::BalanceOverflow { balance: what })
}

impl Balances {
    /// The balances, summed with checked arithmetic: sums beyond `i64` are
    /// [`RuleError::BalanceOverflow`] (`rules.balance_overflow`, kind internal).
    pub fn derive(payment: &PaymentFacts, ledger: &LedgerFacts) -> Result<Balances, RuleError> {
        let currency = payment.amount.currency();
        let amount = |minor: i64| Amount::from_minor(minor, currency);
        let captured_minor = match payment.state {
            PaymentState::Paid | PaymentState::Refunded => payment.amount.minor(),
            _ => ledger.captured_minor,
        };
        let refund_base_minor = match payment.state {
            _ if !refund_state_allows(payment.state, ledger) => 0,
            PaymentState::Authorized => {
                add("refundable", captured_minor, ledger.pending_capture_minor)?
            }
            _ => captured_minor,
        };
        let refund_spent = add(
            "refundable",
            ledger.refunded_minor,
            ledger.pending_refund_minor,
        )?;
        let refundable_minor = sub("refundable", refund_base_minor, refund_spent)?.max(0);
        let capturable_minor = if payment.state == PaymentState::Authorized
            && ledger.voided_minor == 0
            && ledger.pending_void_count == 0
        {
            let captured = add(
                "capturable",
                ledger.captured_minor,
                ledger.pending_capture_minor,
            )?;
            sub("capturable", payment.amount.minor(), captured)?.max(0)
        } else {
            0
        };
        let pending = add(
            "pending",
            add(
                "pending",
                ledger.pending_capture_minor,
                ledger.pending_refund_minor,
            )?,
            ledger.pending_void_minor,
        )?;
        Ok(Balances {
            captured: amount(captured_minor),
            refunded: amount(ledger.refunded_minor),
            voided: amount(ledger.voided_minor),
            pending: amount(pending),
            refundable: amount(refundable_minor),
            capturable: amount(capturable_minor),
        })
    }

    pub fn view(&self) -> BalancesView {
        BalancesView {
            captured: self.captured.to_string(),
            refunded: self.refunded.to_string(),
            voided: self.voided.to_string(),
            pending: self.pending.to_string(),
            refundable: self.refundable.to_string(),
            capturable: self.capturable.to_string(),
        }
    }
}

/// Refunds need collected money: a `paid` payment, or an authorization with a capture
/// (made, or queued ahead of the refund: operations on one payment go in order, and a
/// failed capture holds the refund behind it).
fn refund_state_allows(state: PaymentState, ledger: &LedgerFacts) -> bool {
    // Saturating: only the sign matters, and both sums are never negative.
    state == PaymentState::Paid
        || (state == PaymentState::Authorized
            && ledger
                .captured_minor
                .saturating_add(ledger.pending_capture_minor)
                > 0)
}

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum RuleError {
    #[error("{kind} takes no amount: it always applies to the whole payment; give none")]
    AmountNotAccepted { kind: OperationKind },
    #[error("amount {} must be greater than zero", amount.display_with_currency())]
    AmountNotPositive { amount: Amount },
    #[error("amount is in {given} but the payment is in {expected}")]
    AmountCurrency { given: String, expected: String },
    #[error("the payment is deleted at Ottu; no further operation is possible")]
    PaymentDeleted,
    #[error(
        "a {pending} is already queued for this payment; drop it first or wait until it is synced"
    )]
    OperationPending { pending: OperationKind },
    #[error("cannot {kind} a payment in state '{state}': {kind} is allowed only from {allowed}")]
    NotAllowedInState {
        kind: OperationKind,
        state: PaymentState,
        allowed: &'static str,
    },
    #[error(
        "cannot void: {} is captured or being captured; refund it instead",
        captured.display_with_currency()
    )]
    VoidAfterCapture { captured: Amount },
    #[error("the authorization is voided or has a void queued; nothing more can be captured")]
    Voided,
    #[error(
        "refund {} exceeds the refundable {}",
        requested.display_with_currency(),
        refundable.display_with_currency()
    )]
    RefundExceeds {
        requested: Amount,
        refundable: Amount,
    },
    #[error(
        "capture {} exceeds the capturable {}",
        requested.display_with_currency(),
        capturable.display_with_currency()
    )]
    CaptureExceeds {
        requested: Amount,
        capturable: Amount,
    },
    #[error(
        "nothing left to {kind}: the {kind}able amount is {}",
        left.display_with_currency()
    )]
    NothingLeft { kind: OperationKind, left: Amount },
    /// The payment's sums do not fit in 64 bits: the ledger holds what no payment can.
    #[error(
        "the payment's {balance} balance does not fit in 64 bits: the ledger holds sums no payment can reach"
    )]
    BalanceOverflow { balance: &'static str },
}

impl RuleError {
    /// Stable machine code; part of the CLI and UI contract.
    pub fn code(&self) -> &'static str {
        match self {
            RuleError::AmountNotAccepted { .. } => "amount.not_accepted",
            RuleError::AmountNotPositive { .. } => "amount.not_positive",
            RuleError::AmountCurrency { .. } => "amount.currency",
            RuleError::PaymentDeleted => "rules.payment_deleted",
            RuleError::OperationPending { .. } => "rules.operation_pending",
            RuleError::NotAllowedInState { .. } => "rules.state",
            RuleError::VoidAfterCapture { .. } => "rules.void_after_capture",
            RuleError::Voided => "rules.voided",
            RuleError::RefundExceeds { .. } => "rules.refund_exceeds",
            RuleError::CaptureExceeds { .. } => "rules.capture_exceeds",
            RuleError::NothingLeft { .. } => "rules.nothing_left",
            RuleError::BalanceOverflow { .. } => "rules.balance_overflow",
        }
    }

    /// The request field at fault: the amount, when it is the amount that is refused.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            RuleError::AmountNotAccepted { .. }
            | RuleError::AmountNotPositive { .. }
            | RuleError::AmountCurrency { .. }
            | RuleError::RefundExceeds { .. }
            | RuleError::CaptureExceeds { .. } => Some("amount"),
            _ => None,
        }
    }

    /// The values the message is made from. Amounts are decimal strings in the currency's
    /// decimals (`"4.000"`), with the currency beside them.
    pub fn params(&self) -> crate::error::Params {
        use serde_json::json;
        let value = match self {
            RuleError::AmountNotAccepted { kind } => json!({ "operation": kind }),
            RuleError::AmountNotPositive { amount } => json!({
                "requested": amount.to_string(), "currency": amount.currency(),
            }),
            RuleError::AmountCurrency { given, expected } => {
                json!({ "currency": given, "expected_currency": expected })
            }
            RuleError::PaymentDeleted => json!({}),
            RuleError::OperationPending { pending } => json!({ "pending": pending }),
            RuleError::NotAllowedInState {
                kind,
                state,
                allowed,
            } => json!({ "operation": kind, "state": state, "allowed_states": allowed }),
            RuleError::VoidAfterCapture { captured } => json!({
                "captured": captured.to_string(), "currency": captured.currency(),
            }),
            RuleError::Voided => json!({}),
            RuleError::RefundExceeds {
                requested,
                refundable,
            } => json!({
                "requested": requested.to_string(),
                "refundable": refundable.to_string(),
                "currency": requested.currency(),
            }),
            RuleError::CaptureExceeds {
                requested,
                capturable,
            } => json!({
                "requested": requested.to_string(),
                "capturable": capturable.to_string(),
                "currency": requested.currency(),
            }),
            RuleError::NothingLeft { kind, left } => json!({
                "operation": kind, "left": left.to_string(), "currency": left.currency(),
            }),
            RuleError::BalanceOverflow { balance } => json!({ "balance": balance }),
        };
        crate::error::params(value)
    }

    /// Bad input (the request itself is malformed), as opposed to a refusal by the ledger.
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            RuleError::AmountNotAccepted { .. }
                | RuleError::AmountNotPositive { .. }
                | RuleError::AmountCurrency { .. }
        )
    }
}

const CANCEL_FROM: &[PaymentState] = &[
    PaymentState::Created,
    PaymentState::Pending,
    PaymentState::Attempted,
    PaymentState::Cod,
];
const EXPIRE_FROM: &[PaymentState] = &[
    PaymentState::Created,
    PaymentState::Pending,
    PaymentState::Attempted,
];

/// Decides whether `kind` may be queued on the payment and returns the amount it
/// reserves (zero for cancel, expire and delete). `requested` is the `--amount`, if any.
pub fn check(
    kind: OperationKind,
    requested: Option<Amount>,
    payment: &PaymentFacts,
    ledger: &LedgerFacts,
) -> Result<Amount, RuleError> {
    let currency = payment.amount.currency();
    if let Some(amount) = requested {
        if !kind.takes_amount() {
            return Err(RuleError::AmountNotAccepted { kind });
        }
        if amount.currency() != currency {
            return Err(RuleError::AmountCurrency {
                given: amount.currency().to_string(),
                expected: currency.to_string(),
            });
        }
        if !amount.is_positive() {
            return Err(RuleError::AmountNotPositive { amount });
        }
    }
    if payment.hidden || ledger.pending_delete_count > 0 {
        return Err(if payment.hidden {
            RuleError::PaymentDeleted
        } else {
            RuleError::OperationPending {
                pending: OperationKind::Delete,
            }
        });
    }
    // A queued cancel or expire will change the state; only a delete may follow it.
    if kind != OperationKind::Delete {
        if ledger.pending_cancel_count > 0 {
            return Err(RuleError::OperationPending {
                pending: OperationKind::Cancel,
            });
        }
        if ledger.pending_expire_count > 0 {
            return Err(RuleError::OperationPending {
                pending: OperationKind::Expire,
            });
        }
    }
    let balances = Balances::derive(payment, ledger)?;
    let zero = Amount::zero(currency);
    let state_refusal = |allowed: &'static str| RuleError::NotAllowedInState {
        kind,
        state: payment.state,
        allowed,
    };
    match kind {
        OperationKind::Refund => {
            if !refund_state_allows(payment.state, ledger) {
                return Err(state_refusal("paid, or authorized with a capture"));
            }
            within(kind, requested, balances.refundable)
        }
        OperationKind::Capture => {
            if payment.state != PaymentState::Authorized {
                return Err(state_refusal("authorized"));
            }
            if ledger.voided_minor > 0 || ledger.pending_void_count > 0 {
                return Err(RuleError::Voided);
            }
            within(kind, requested, balances.capturable)
        }
        OperationKind::Void => {
            if payment.state != PaymentState::Authorized {
                return Err(state_refusal("authorized, with nothing captured"));
            }
            if ledger.voided_minor > 0 || ledger.pending_void_count > 0 {
                return Err(RuleError::Voided);
            }
            let captured = add(
                "captured",
                ledger.captured_minor,
                ledger.pending_capture_minor,
            )?;
            if captured > 0 {
                return Err(RuleError::VoidAfterCapture {
                    captured: Amount::from_minor(captured, currency),
                });
            }
            Ok(payment.amount)
        }
        OperationKind::Cancel => {
            if !CANCEL_FROM.contains(&payment.state) {
                return Err(state_refusal("created, pending, attempted, cod"));
            }
            Ok(zero)
        }
        OperationKind::Expire => {
            if !EXPIRE_FROM.contains(&payment.state) {
                return Err(state_refusal("created, pending, attempted"));
            }
            Ok(zero)
        }
        OperationKind::Delete => Ok(zero),
    }
}

/// The requested amount if it fits in what is left, or everything left when none was given.
fn within(
    kind: OperationKind,
    requested: Option<Amount>,
    left: Amount,
) -> Result<Amount, RuleError> {
    match requested {
        None if left.is_positive() => Ok(left),
        None => Err(RuleError::NothingLeft { kind, left }),
        Some(amount) if amount.minor() <= left.minor() => Ok(amount),
        Some(requested) => Err(match kind {
            OperationKind::Capture => RuleError::CaptureExceeds {
                requested,
                capturable: left,
            },
            _ => RuleError::RefundExceeds {
                requested,
                refundable: left,
            },
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;
    use OperationKind::*;
    use PaymentState as S;

    fn kwd(text: &str) -> Amount {
        Amount::parse(text, Currency::KWD).unwrap()
    }

    fn payment(state: PaymentState) -> PaymentFacts {
        PaymentFacts {
            state,
            amount: kwd("10"),
            hidden: false,
        }
    }

    /// Expected outcome of each operation on a fresh 10.000 KWD payment in each state:
    /// `Ok(reserved)` or `Err(code)`.
    fn expected(state: PaymentState, kind: OperationKind) -> Result<&'static str, &'static str> {
        match (kind, state) {
            (Refund, S::Paid) => Ok("10.000"),
            (Refund, _) => Err("rules.state"),
            (Capture, S::Authorized) => Ok("10.000"),
            (Capture, _) => Err("rules.state"),
            (Void, S::Authorized) => Ok("10.000"),
            (Void, _) => Err("rules.state"),
            (Cancel, S::Created | S::Pending | S::Attempted | S::Cod) => Ok("0.000"),
            (Cancel, _) => Err("rules.state"),
            (Expire, S::Created | S::Pending | S::Attempted) => Ok("0.000"),
            (Expire, _) => Err("rules.state"),
            (Delete, _) => Ok("0.000"),
        }
    }

    #[test]
    fn every_state_times_every_operation() {
        let mut checked = 0;
        for &state in PaymentState::ALL {
            for &kind in OperationKind::ALL {
                let got = check(kind, None, &payment(state), &LedgerFacts::default());
                match (expected(state, kind), got) {
                    (Ok(reserved), Ok(amount)) => assert_eq!(amount.to_string(), reserved),
                    (Err(code), Err(err)) => {
                        assert_eq!(err.code(), code, "{kind} from {state}");
                        let message = err.to_string();
                        assert!(
                            message.contains(&format!("'{state}'"))
                                && message.contains("allowed only from"),
                            "{message}"
                        );
                    }
                    (want, got) => panic!("{kind} from {state}: expected {want:?}, got {got:?}"),
                }
                checked += 1;
            }
        }
        assert_eq!(checked, 13 * 6);
    }

    #[test]
    fn refund_counts_refunded_queued_children_and_pending_refunds() {
        let ledger = LedgerFacts {
            refunded_minor: 3_000,
            pending_refund_minor: 3_000,
            ..LedgerFacts::default()
        };
        assert_eq!(
            check(Refund, Some(kwd("4")), &payment(S::Paid), &ledger).unwrap(),
            kwd("4")
        );
        let err = check(Refund, Some(kwd("4.001")), &payment(S::Paid), &ledger).unwrap_err();
        assert_eq!(
            err.to_string(),
            "refund 4.001 KWD exceeds the refundable 4.000 KWD"
        );
        assert_eq!(err.code(), "rules.refund_exceeds");
        // No amount: everything that is left.
        assert_eq!(
            check(Refund, None, &payment(S::Paid), &ledger).unwrap(),
            kwd("4")
        );
    }

    /// Sums past `i64` (a ledger edited by hand) are an error naming the balance, never a
    /// wrapped or panicking sum. Before checked sums this panicked in debug builds and
    /// wrapped to a negative pending balance in release.
    #[test]
    fn balances_beyond_64_bits_are_an_error_not_a_wrap() {
        let huge = LedgerFacts {
            captured_minor: 1,
            pending_capture_minor: i64::MAX,
            ..LedgerFacts::default()
        };
        let err = Balances::derive(&payment(S::Authorized), &huge).unwrap_err();
        assert_eq!(err.code(), "rules.balance_overflow");
        assert_eq!(
            err,
            RuleError::BalanceOverflow {
                balance: "refundable"
            }
        );
        let err = check(Refund, Some(kwd("1")), &payment(S::Authorized), &huge).unwrap_err();
        assert_eq!(err.code(), "rules.balance_overflow");
        let pending_only = LedgerFacts {
            pending_refund_minor: i64::MAX,
            pending_void_minor: 1,
            ..LedgerFacts::default()
        };
        let err = Balances::derive(&payment(S::Paid), &pending_only).unwrap_err();
        assert_eq!(err, RuleError::BalanceOverflow { balance: "pending" });
        let refunds = LedgerFacts {
            refunded_minor: i64::MAX,
            pending_refund_minor: 1,
            ..LedgerFacts::default()
        };
        assert!(Balances::derive(&payment(S::Paid), &refunds).is_err());
    }

    #[test]
    fn two_offline_refunds_never_exceed_what_was_paid() {
        let mut ledger = LedgerFacts::default();
        let first = check(Refund, Some(kwd("6")), &payment(S::Paid), &ledger).unwrap();
        ledger.pending_refund_minor += first.minor();
        let err = check(Refund, Some(kwd("6")), &payment(S::Paid), &ledger).unwrap_err();
        assert_eq!(
            err,
            RuleError::RefundExceeds {
                requested: kwd("6"),
                refundable: kwd("4")
            }
        );
    }

    #[test]
    fn nothing_left_to_refund_when_fully_refunded() {
        let ledger = LedgerFacts {
            refunded_minor: 10_000,
            ..LedgerFacts::default()
        };
        let err = check(Refund, None, &payment(S::Paid), &ledger).unwrap_err();
        assert_eq!(err.code(), "rules.nothing_left");
        assert!(err.to_string().contains("0.000 KWD"), "{err}");
    }

    #[test]
    fn refund_of_an_authorization_needs_a_capture_and_is_bounded_by_it() {
        let none = LedgerFacts::default();
        assert_eq!(
            check(Refund, None, &payment(S::Authorized), &none)
                .unwrap_err()
                .code(),
            "rules.state"
        );
        let captured = LedgerFacts {
            captured_minor: 2_500,
            ..LedgerFacts::default()
        };
        assert_eq!(
            check(Refund, None, &payment(S::Authorized), &captured).unwrap(),
            kwd("2.5")
        );
        let err = check(
            Refund,
            Some(kwd("2.501")),
            &payment(S::Authorized),
            &captured,
        )
        .unwrap_err();
        assert_eq!(err.code(), "rules.refund_exceeds");
        // A capture queued ahead counts: it goes first, and its failure would hold the refund.
        let pending = LedgerFacts {
            captured_minor: 2_500,
            pending_capture_minor: 1_000,
            ..LedgerFacts::default()
        };
        assert_eq!(
            check(Refund, None, &payment(S::Authorized), &pending).unwrap(),
            kwd("3.5")
        );
    }

    #[test]
    fn capture_is_bounded_by_authorized_minus_captured_minus_pending() {
        let ledger = LedgerFacts {
            captured_minor: 4_000,
            pending_capture_minor: 3_000,
            ..LedgerFacts::default()
        };
        assert_eq!(
            check(Capture, Some(kwd("3")), &payment(S::Authorized), &ledger).unwrap(),
            kwd("3")
        );
        let err = check(
            Capture,
            Some(kwd("3.001")),
            &payment(S::Authorized),
            &ledger,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "capture 3.001 KWD exceeds the capturable 3.000 KWD"
        );
        let full = LedgerFacts {
            captured_minor: 10_000,
            ..LedgerFacts::default()
        };
        assert_eq!(
            check(Capture, None, &payment(S::Authorized), &full)
                .unwrap_err()
                .code(),
            "rules.nothing_left"
        );
    }

    #[test]
    fn void_needs_nothing_captured_or_pending_and_blocks_captures() {
        for ledger in [
            LedgerFacts {
                captured_minor: 1,
                ..LedgerFacts::default()
            },
            LedgerFacts {
                pending_capture_minor: 1,
                ..LedgerFacts::default()
            },
        ] {
            let err = check(Void, None, &payment(S::Authorized), &ledger).unwrap_err();
            assert_eq!(err.code(), "rules.void_after_capture");
        }
        let void_pending = LedgerFacts {
            pending_void_count: 1,
            pending_void_minor: 10_000,
            ..LedgerFacts::default()
        };
        for kind in [Void, Capture] {
            assert_eq!(
                check(kind, None, &payment(S::Authorized), &void_pending)
                    .unwrap_err()
                    .code(),
                "rules.voided"
            );
        }
        let voided = LedgerFacts {
            voided_minor: 10_000,
            ..LedgerFacts::default()
        };
        assert_eq!(
            check(Capture, None, &payment(S::Authorized), &voided)
                .unwrap_err()
                .code(),
            "rules.voided"
        );
    }

    #[test]
    fn amounts_only_for_refund_and_capture_and_always_positive() {
        for kind in [Void, Cancel, Expire, Delete] {
            let err = check(
                kind,
                Some(kwd("1")),
                &payment(S::Created),
                &LedgerFacts::default(),
            )
            .unwrap_err();
            assert_eq!(err.code(), "amount.not_accepted");
            assert!(err.is_bad_input());
        }
        let err = check(
            Refund,
            Some(kwd("0")),
            &payment(S::Paid),
            &LedgerFacts::default(),
        )
        .unwrap_err();
        assert_eq!(err.code(), "amount.not_positive");
        let sar = Amount::parse("1", Currency::from_code("SAR").unwrap()).unwrap();
        let err = check(
            Refund,
            Some(sar),
            &payment(S::Paid),
            &LedgerFacts::default(),
        )
        .unwrap_err();
        assert_eq!(err.code(), "amount.currency");
    }

    #[test]
    fn pending_cancel_expire_or_delete_hold_further_operations() {
        let cancel = LedgerFacts {
            pending_cancel_count: 1,
            ..LedgerFacts::default()
        };
        let err = check(Expire, None, &payment(S::Pending), &cancel).unwrap_err();
        assert_eq!(err.code(), "rules.operation_pending");
        // A delete may still follow a cancel: it is allowed from any state.
        assert!(check(Delete, None, &payment(S::Pending), &cancel).is_ok());
        let delete = LedgerFacts {
            pending_delete_count: 1,
            ..LedgerFacts::default()
        };
        for &kind in OperationKind::ALL {
            assert_eq!(
                check(kind, None, &payment(S::Paid), &delete)
                    .unwrap_err()
                    .code(),
                "rules.operation_pending"
            );
        }
        let hidden = PaymentFacts {
            hidden: true,
            ..payment(S::Paid)
        };
        assert_eq!(
            check(Refund, None, &hidden, &LedgerFacts::default()).unwrap_err(),
            RuleError::PaymentDeleted
        );
    }

    #[test]
    fn balances_are_derived_from_children_and_pending() {
        let ledger = LedgerFacts {
            captured_minor: 7_000,
            refunded_minor: 2_000,
            pending_refund_minor: 1_000,
            pending_capture_minor: 500,
            ..LedgerFacts::default()
        };
        let b = Balances::derive(&payment(S::Authorized), &ledger)
            .unwrap()
            .view();
        assert_eq!(
            (b.captured.as_str(), b.refunded.as_str(), b.pending.as_str()),
            ("7.000", "2.000", "1.500")
        );
        // Refundable: 7 captured + 0.5 being captured − 2 refunded − 1 being refunded.
        assert_eq!(
            (b.refundable.as_str(), b.capturable.as_str()),
            ("4.500", "2.500")
        );
        let paid = Balances::derive(&payment(S::Paid), &LedgerFacts::default()).unwrap();
        assert_eq!(paid.captured, kwd("10"));
        assert_eq!(paid.capturable, kwd("0"));
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            /// Any sequence of queued refunds that the rules accept sums to at most the paid amount.
            #[test]
            fn accepted_refunds_never_exceed_paid(paid in 1i64..1_000_000, asks in proptest::collection::vec(proptest::option::of(1i64..600_000), 1..30)) {
                let facts = PaymentFacts { state: S::Paid, amount: Amount::from_minor(paid, Currency::KWD), hidden: false };
                let mut ledger = LedgerFacts::default();
                for ask in asks {
                    let requested = ask.map(|m| Amount::from_minor(m, Currency::KWD));
                    if let Ok(reserved) = check(Refund, requested, &facts, &ledger) {
                        prop_assert!(reserved.is_positive());
                        ledger.pending_refund_minor += reserved.minor();
                    }
                    prop_assert!(ledger.pending_refund_minor <= paid);
                }
            }
        }
    }
}
