//! The sandbox's vocabulary: payment and child states, operation kinds, refund destinations
//! and the Basic-auth permissions, each with the exact string Ottu uses on the wire.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $(#[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The wire spelling.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// Parses the wire spelling; `None` for anything else.
            pub fn parse(text: &str) -> Option<$name> {
                match text {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

wire_enum!(
    /// A parent payment's state (CONTRACT.md, "Which operation from which state").
    PaymentState {
        Created => "created",
        Pending => "pending",
        Attempted => "attempted",
        Authorized => "authorized",
        Paid => "paid",
        Failed => "failed",
        Canceled => "canceled",
        Expired => "expired",
        Invalided => "invalided",
        Cod => "cod",
        Cash => "cash",
        Refunded => "refunded",
        Voided => "voided",
    }
);

wire_enum!(
    /// A child transaction's state (the spec's `ChildPayment.state`).
    ChildState {
        Paid => "paid",
        Refunded => "refunded",
        RefundQueued => "refund_queued",
        RefundRejected => "refund_rejected",
        Voided => "voided",
    }
);

wire_enum!(
    /// What `POST /b/pbl/v2/operation/` can be asked to do.
    OperationKind {
        Refund => "refund",
        Capture => "capture",
        Void => "void",
        Cancel => "cancel",
        Expire => "expire",
        Delete => "delete",
    }
);

wire_enum!(
    /// Where a refund is credited.
    Destination {
        Pg => "pg",
        Wallet => "wallet",
    }
);

wire_enum!(
    /// A dashboard user's permission; the Api-Key carries all of them.
    Permission {
        PaymentRefund => "payment.refund",
        PaymentCapture => "payment.capture",
        PaymentVoid => "payment.void",
        PaymentCancel => "payment.cancel",
        PaymentExpire => "payment.expire",
        PaymentDelete => "payment.delete",
        PaymentInquiry => "payment.inquiry",
        ReportView => "report.can_view_report",
    }
);

impl OperationKind {
    /// External operations go on to the payment gateway and create a child transaction.
    pub fn is_external(self) -> bool {
        matches!(
            self,
            OperationKind::Refund | OperationKind::Capture | OperationKind::Void
        )
    }

    /// Only refund and capture read the request's `amount`.
    pub fn reads_amount(self) -> bool {
        matches!(self, OperationKind::Refund | OperationKind::Capture)
    }

    /// The permission a Basic-auth user needs for this operation.
    pub fn permission(self) -> Permission {
        match self {
            OperationKind::Refund => Permission::PaymentRefund,
            OperationKind::Capture => Permission::PaymentCapture,
            OperationKind::Void => Permission::PaymentVoid,
            OperationKind::Cancel => Permission::PaymentCancel,
            OperationKind::Expire => Permission::PaymentExpire,
            OperationKind::Delete => Permission::PaymentDelete,
        }
    }
}

impl PaymentState {
    /// Delete is soft for these: the payment stays retrievable (money moved or is promised).
    pub fn delete_is_soft(self) -> bool {
        matches!(
            self,
            PaymentState::Paid | PaymentState::Authorized | PaymentState::Cod | PaymentState::Cash
        )
    }

    /// The `result` field of a webhook / inquiry answer for a payment in this state.
    pub fn webhook_result(self) -> &'static str {
        match self {
            PaymentState::Created | PaymentState::Pending | PaymentState::Attempted => "pending",
            PaymentState::Authorized
            | PaymentState::Paid
            | PaymentState::Cash
            | PaymentState::Refunded
            | PaymentState::Voided => "success",
            PaymentState::Failed | PaymentState::Expired | PaymentState::Invalided => "failed",
            PaymentState::Canceled => "canceled",
            PaymentState::Cod => "cod",
        }
    }

    /// States from which an inquiry asks the gateway again (the spec's inquiry description).
    pub fn inquiry_asks_gateway(self) -> bool {
        matches!(
            self,
            PaymentState::Pending
                | PaymentState::Attempted
                | PaymentState::Failed
                | PaymentState::Expired
        )
    }
}

impl ChildState {
    /// Money that left (or is on its way out of) the merchant's account for a refund child.
    pub fn counts_as_refunded(self) -> bool {
        matches!(self, ChildState::Refunded | ChildState::RefundQueued)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_round_trip() {
        for state in PaymentState::ALL {
            assert_eq!(PaymentState::parse(state.as_str()), Some(*state));
            assert_eq!(
                serde_json::to_string(state).unwrap(),
                format!("\"{}\"", state.as_str())
            );
        }
        for kind in OperationKind::ALL {
            assert_eq!(OperationKind::parse(kind.as_str()), Some(*kind));
        }
        for perm in Permission::ALL {
            assert_eq!(Permission::parse(perm.as_str()), Some(*perm));
        }
        assert_eq!(
            ChildState::parse("refund_queued"),
            Some(ChildState::RefundQueued)
        );
        assert_eq!(OperationKind::parse("steal"), None);
    }

    #[test]
    fn every_operation_has_its_own_permission() {
        let mut seen: Vec<Permission> = OperationKind::ALL.iter().map(|k| k.permission()).collect();
        seen.dedup();
        assert_eq!(seen.len(), OperationKind::ALL.len());
    }
}
