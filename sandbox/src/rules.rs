//! Which operation is allowed from which state, and for how much: CONTRACT.md's table as a
//! pure function. The invariant it guards: what a payment has captured, voided and refunded
//! (the sums of its children) never exceeds what it authorized, captured or was paid.

use crate::model::{ChildState, OperationKind, PaymentState};
use crate::money::{Currency, Minor, format_minor};

/// The facts about a parent payment the rules look at.
#[derive(Debug, Clone, Copy)]
pub struct ParentFacts {
    pub state: PaymentState,
    pub amount: Minor,
    pub deleted: bool,
    /// The customer paid in a currency other than the merchant's: Ottu refuses external
    /// operations on such payments.
    pub foreign_currency: bool,
}

/// Sums of a parent's children, in minor units.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Balances {
    /// Capture children (state `paid`).
    pub captured: Minor,
    /// Void children.
    pub voided: Minor,
    /// Refund children that are `refunded` or still `refund_queued`.
    pub refunded: Minor,
    /// The part of `refunded` that is still `refund_queued`.
    pub refund_queued: Minor,
}

impl Balances {
    /// Adds one child to the sums.
    pub fn add_child(&mut self, operation: OperationKind, state: ChildState, amount: Minor) {
        match operation {
            OperationKind::Capture => self.captured += amount,
            OperationKind::Void => self.voided += amount,
            OperationKind::Refund if state.counts_as_refunded() => {
                self.refunded += amount;
                if state == ChildState::RefundQueued {
                    self.refund_queued += amount;
                }
            }
            _ => {}
        }
    }

    /// What can still be captured.
    pub fn capturable(&self, parent: &ParentFacts) -> Minor {
        if parent.state != PaymentState::Authorized {
            return 0;
        }
        (parent.amount - self.captured - self.voided).max(0)
    }

    /// What can still be refunded: the paid amount, or for an authorized payment what was
    /// captured, minus refunds (queued ones included).
    pub fn refundable(&self, parent: &ParentFacts) -> Minor {
        let base = match parent.state {
            PaymentState::Paid => parent.amount,
            PaymentState::Authorized => self.captured,
            _ => 0,
        };
        (base - self.refunded).max(0)
    }
}

/// What an allowed operation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Internal operation: the parent moves to this state.
    SetState(PaymentState),
    /// Delete: the payment is hidden (soft or hard, see [`PaymentState::delete_is_soft`]).
    MarkDeleted,
    /// External operation: a child transaction for this amount (its state is the gateway's).
    CreateChild { amount: Minor },
}

/// Why an operation was refused by state or amount: a final 400 in Ottu's `OperationFailure`
/// shape, stored with its Tracking-Key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Deleted,
    NotAllowedFromState {
        operation: OperationKind,
        state: PaymentState,
    },
    VoidAfterCapture {
        captured: Minor,
    },
    AlreadyVoided,
    NothingRemaining {
        operation: OperationKind,
    },
    ExceedsRemaining {
        operation: OperationKind,
        requested: Minor,
        remaining: Minor,
    },
    ForeignCurrency {
        operation: OperationKind,
    },
}

/// The states each operation is allowed from, as words for messages.
fn allowed_from(operation: OperationKind) -> &'static str {
    match operation {
        OperationKind::Cancel => "created, pending, attempted or cod",
        OperationKind::Expire => "created, pending or attempted",
        OperationKind::Delete => "any state",
        OperationKind::Capture => "authorized",
        OperationKind::Void => "authorized with nothing captured",
        OperationKind::Refund => "paid, or authorized with captures",
    }
}

impl Refusal {
    /// The human message sent as `detail`.
    pub fn detail(&self, currency: Currency) -> String {
        match *self {
            Refusal::Deleted => "This payment transaction has been deleted.".to_owned(),
            Refusal::NotAllowedFromState { operation, state } => format!(
                "Operation {operation} is not allowed for a payment in state '{state}'; it needs {}.",
                allowed_from(operation)
            ),
            Refusal::VoidAfterCapture { captured } => format!(
                "Operation void is not allowed: {} {currency} has already been captured.",
                format_minor(captured, currency)
            ),
            Refusal::AlreadyVoided => {
                "Operation void is not allowed: the payment was already voided.".to_owned()
            }
            Refusal::NothingRemaining { operation } => match operation {
                OperationKind::Capture => "Nothing left to capture on this payment.".to_owned(),
                _ => "Nothing left to refund on this payment.".to_owned(),
            },
            Refusal::ExceedsRemaining {
                operation,
                requested,
                remaining,
            } => format!(
                "The {operation} amount {} {currency} exceeds the remaining amount {} {currency}.",
                format_minor(requested, currency),
                format_minor(remaining, currency)
            ),
            Refusal::ForeignCurrency { operation } => format!(
                "Operation {operation} is not allowed on a payment made in a foreign currency."
            ),
        }
    }
}

/// Decides `operation` on a parent with the given children sums. `requested` is the amount the
/// request named (only for refund and capture; already checked positive and in the currency).
pub fn decide(
    operation: OperationKind,
    parent: &ParentFacts,
    balances: &Balances,
    requested: Option<Minor>,
) -> Result<Effect, Refusal> {
    debug_assert!(
        requested.is_none_or(|r| r > 0),
        "amounts are validated first"
    );
    debug_assert!(
        balances.captured + balances.voided <= parent.amount
            || parent.state != PaymentState::Authorized
    );
    if parent.deleted {
        return Err(Refusal::Deleted);
    }
    let not_allowed = Refusal::NotAllowedFromState {
        operation,
        state: parent.state,
    };
    use PaymentState as S;
    match operation {
        OperationKind::Cancel => match parent.state {
            S::Created | S::Pending | S::Attempted | S::Cod => Ok(Effect::SetState(S::Canceled)),
            _ => Err(not_allowed),
        },
        OperationKind::Expire => match parent.state {
            S::Created | S::Pending | S::Attempted => Ok(Effect::SetState(S::Expired)),
            _ => Err(not_allowed),
        },
        OperationKind::Delete => Ok(Effect::MarkDeleted),
        OperationKind::Capture => {
            if parent.state != S::Authorized {
                return Err(not_allowed);
            }
            if parent.foreign_currency {
                return Err(Refusal::ForeignCurrency { operation });
            }
            partial(operation, balances.capturable(parent), requested)
        }
        OperationKind::Void => {
            if parent.state != S::Authorized {
                return Err(not_allowed);
            }
            if parent.foreign_currency {
                return Err(Refusal::ForeignCurrency { operation });
            }
            if balances.captured > 0 {
                return Err(Refusal::VoidAfterCapture {
                    captured: balances.captured,
                });
            }
            if balances.voided > 0 {
                return Err(Refusal::AlreadyVoided);
            }
            Ok(Effect::CreateChild {
                amount: parent.amount,
            })
        }
        OperationKind::Refund => {
            let from_paid = parent.state == S::Paid;
            let from_captured = parent.state == S::Authorized && balances.captured > 0;
            if !(from_paid || from_captured) {
                return Err(not_allowed);
            }
            if parent.foreign_currency {
                return Err(Refusal::ForeignCurrency { operation });
            }
            partial(operation, balances.refundable(parent), requested)
        }
    }
}

/// A capture or refund of `requested` (default: everything remaining) out of `remaining`.
fn partial(
    operation: OperationKind,
    remaining: Minor,
    requested: Option<Minor>,
) -> Result<Effect, Refusal> {
    if remaining <= 0 {
        return Err(Refusal::NothingRemaining { operation });
    }
    let amount = requested.unwrap_or(remaining);
    if amount > remaining {
        return Err(Refusal::ExceedsRemaining {
            operation,
            requested: amount,
            remaining,
        });
    }
    Ok(Effect::CreateChild { amount })
}

#[cfg(test)]
mod tests {
    use super::*;
    use OperationKind as K;
    use PaymentState as S;

    fn parent(state: PaymentState) -> ParentFacts {
        ParentFacts {
            state,
            amount: 10_000,
            deleted: false,
            foreign_currency: false,
        }
    }

    /// Every state × operation with nothing captured or refunded yet: the table of CONTRACT.md.
    #[test]
    fn state_table() {
        let none = Balances::default();
        for &state in S::ALL {
            for &op in K::ALL {
                let got = decide(op, &parent(state), &none, None);
                let expected_ok = match op {
                    K::Cancel => matches!(state, S::Created | S::Pending | S::Attempted | S::Cod),
                    K::Expire => matches!(state, S::Created | S::Pending | S::Attempted),
                    K::Delete => true,
                    K::Capture | K::Void => state == S::Authorized,
                    K::Refund => state == S::Paid,
                };
                assert_eq!(got.is_ok(), expected_ok, "{op} from {state}: {got:?}");
                if let Ok(effect) = got {
                    let expected = match op {
                        K::Cancel => Effect::SetState(S::Canceled),
                        K::Expire => Effect::SetState(S::Expired),
                        K::Delete => Effect::MarkDeleted,
                        _ => Effect::CreateChild { amount: 10_000 },
                    };
                    assert_eq!(effect, expected, "{op} from {state}");
                }
            }
        }
    }

    #[test]
    fn partial_captures_up_to_the_authorized_amount() {
        let p = parent(S::Authorized);
        let mut b = Balances::default();
        assert_eq!(
            decide(K::Capture, &p, &b, Some(4_000)),
            Ok(Effect::CreateChild { amount: 4_000 })
        );
        b.add_child(K::Capture, ChildState::Paid, 4_000);
        assert_eq!(
            decide(K::Capture, &p, &b, Some(6_001)),
            Err(Refusal::ExceedsRemaining {
                operation: K::Capture,
                requested: 6_001,
                remaining: 6_000
            })
        );
        assert_eq!(
            decide(K::Capture, &p, &b, None),
            Ok(Effect::CreateChild { amount: 6_000 })
        );
        assert_eq!(
            decide(K::Void, &p, &b, None),
            Err(Refusal::VoidAfterCapture { captured: 4_000 })
        );
        b.add_child(K::Capture, ChildState::Paid, 6_000);
        assert_eq!(
            decide(K::Capture, &p, &b, None),
            Err(Refusal::NothingRemaining {
                operation: K::Capture
            })
        );
    }

    #[test]
    fn refunds_from_captures_and_queued_refunds_count() {
        let p = parent(S::Authorized);
        let mut b = Balances::default();
        assert!(decide(K::Refund, &p, &b, None).is_err());
        b.add_child(K::Capture, ChildState::Paid, 3_000);
        assert_eq!(
            decide(K::Refund, &p, &b, None),
            Ok(Effect::CreateChild { amount: 3_000 })
        );
        b.add_child(K::Refund, ChildState::RefundQueued, 2_000);
        b.add_child(K::Refund, ChildState::RefundRejected, 1_000);
        assert_eq!(b.refund_queued, 2_000);
        assert_eq!(
            decide(K::Refund, &p, &b, Some(1_001)),
            Err(Refusal::ExceedsRemaining {
                operation: K::Refund,
                requested: 1_001,
                remaining: 1_000
            })
        );
    }

    #[test]
    fn void_then_nothing_more() {
        let p = parent(S::Authorized);
        let mut b = Balances::default();
        assert_eq!(
            decide(K::Void, &p, &b, Some(5)),
            Ok(Effect::CreateChild { amount: 10_000 })
        );
        b.add_child(K::Void, ChildState::Voided, 10_000);
        assert_eq!(decide(K::Void, &p, &b, None), Err(Refusal::AlreadyVoided));
        assert!(decide(K::Capture, &p, &b, None).is_err());
        assert!(decide(K::Refund, &p, &b, None).is_err());
    }

    #[test]
    fn deleted_and_foreign_payments_refuse() {
        let mut p = parent(S::Paid);
        p.foreign_currency = true;
        assert_eq!(
            decide(K::Refund, &p, &Balances::default(), None),
            Err(Refusal::ForeignCurrency {
                operation: K::Refund
            })
        );
        assert!(decide(K::Delete, &p, &Balances::default(), None).is_ok());
        p.deleted = true;
        for &op in K::ALL {
            assert_eq!(
                decide(op, &p, &Balances::default(), None),
                Err(Refusal::Deleted)
            );
        }
    }

    #[test]
    fn refusal_details_name_the_amounts() {
        let r = Refusal::ExceedsRemaining {
            operation: K::Refund,
            requested: 15_000,
            remaining: 10_000,
        };
        assert_eq!(
            r.detail(Currency::KWD),
            "The refund amount 15.000 KWD exceeds the remaining amount 10.000 KWD."
        );
    }
}
