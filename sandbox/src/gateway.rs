//! The simulated payment gateways, chosen by a payment's `pg_code`. Ottu passes external
//! operations on to the gateway; what the gateway then does is decided here, and only by the
//! pg_code, so a test picks a behaviour by picking a pg_code (and a crash test avoids the
//! refusing ones by not using them).

use crate::model::ChildState;

/// Refunds are final at once (`refunded`).
pub const KNET: &str = "knet";
/// Card gateway: refunds final at once; the usual choice for authorize/capture payments.
pub const MPGS: &str = "mpgs";
/// Another card gateway with immediate refunds.
pub const CREDIMAX: &str = "credimax";
/// Refunds come back `refund_queued` and settle later to `refunded`.
pub const QUEUED_PG: &str = "queued-pg";
/// Refunds come back `refund_queued` and settle later to `refund_rejected`.
pub const REJECT_PG: &str = "reject-pg";
/// The gateway refuses refunds: HTTP 200 with `result: "failed"` and no child.
pub const REFUSE_PG: &str = "refuse-pg";

/// Gateways whose refunds always end `refunded` (immediately or after queueing).
pub const CLEAN_PG_CODES: &[&str] = &[KNET, MPGS, CREDIMAX, QUEUED_PG];

/// What the gateway does with a refund.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundBehaviour {
    /// The child is `refunded` at once.
    Immediate,
    /// The child is `refund_queued`, and becomes `settles_to` after the settle delay.
    Queued { settles_to: ChildState },
    /// The gateway refuses: a final 200 `result: "failed"`.
    Refuse,
}

/// The gateway behaviour for refunds on a payment settled through `pg_code`. Unknown codes
/// behave like an immediate card gateway, so tests may invent their own codes freely.
pub fn refund_behaviour(pg_code: &str) -> RefundBehaviour {
    match pg_code {
        QUEUED_PG => RefundBehaviour::Queued {
            settles_to: ChildState::Refunded,
        },
        REJECT_PG => RefundBehaviour::Queued {
            settles_to: ChildState::RefundRejected,
        },
        REFUSE_PG => RefundBehaviour::Refuse,
        _ => RefundBehaviour::Immediate,
    }
}

/// A display name for the gateway (`gateway_name` in webhook-shaped answers).
pub fn gateway_name(pg_code: &str) -> &'static str {
    match pg_code {
        KNET => "KNET",
        MPGS => "Mastercard Payment Gateway Services",
        CREDIMAX => "Credimax",
        QUEUED_PG => "Sandbox queued-refund gateway",
        REJECT_PG => "Sandbox rejecting gateway",
        REFUSE_PG => "Sandbox refusing gateway",
        _ => "Sandbox gateway",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_gateways_never_refuse_or_reject() {
        for code in CLEAN_PG_CODES {
            assert_ne!(refund_behaviour(code), RefundBehaviour::Refuse);
            assert_ne!(
                refund_behaviour(code),
                RefundBehaviour::Queued {
                    settles_to: ChildState::RefundRejected
                }
            );
        }
        assert_eq!(refund_behaviour("made-up"), RefundBehaviour::Immediate);
    }
}
