//! The read-only picture of the sandbox that `GET /_sandbox/state` returns and
//! [`RunningSandbox::state`](crate::RunningSandbox::state) gives Rust tests: every payment
//! with its children and balances, every definitively answered operation, and counters.
//! Tests assert exactly-once from it (one `applied` record per Tracking-Key).

use serde::{Deserialize, Serialize};

use crate::faults::FaultConfig;
use crate::model::{ChildState, Destination, OperationKind, PaymentState};

/// Everything the sandbox knows, at one instant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateSnapshot {
    /// The sandbox clock (RFC 3339, UTC) and its offset from the machine's clock.
    pub now: String,
    pub now_ms: i64,
    pub clock_offset_ms: i64,
    pub seed: u64,
    pub faults: FaultConfig,
    pub payments: Vec<PaymentSnapshot>,
    pub operations: Vec<OperationRecord>,
    pub counters: Counters,
}

/// A parent payment with its children and the sums of its children.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentSnapshot {
    pub session_id: String,
    pub order_no: Option<String>,
    /// The gateway's reference (RRN) the reports and the settlement file carry.
    #[serde(default)]
    pub reference_number: String,
    pub amount: String,
    pub amount_minor: i64,
    pub currency_code: String,
    pub state: PaymentState,
    pub pg_code: String,
    pub pg_codes: Vec<String>,
    /// The spec's `type`: `e_commerce` or `payment_request`.
    #[serde(rename = "type")]
    pub payment_type: String,
    /// Deleted through the API; soft for paid/authorized/cod/cash (still retrievable),
    /// hard otherwise (404 from the API).
    pub deleted: bool,
    pub foreign_currency: bool,
    /// What an inquiry will learn from the gateway, if anything.
    pub gateway_state: Option<PaymentState>,
    pub inquiry_count: u32,
    pub created: String,
    pub modified: String,
    pub captured_minor: i64,
    pub voided_minor: i64,
    /// Refunded plus still queued (what counts against the refundable amount).
    pub refunded_minor: i64,
    pub refund_queued_minor: i64,
    pub children: Vec<ChildSnapshot>,
}

/// A child transaction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChildSnapshot {
    pub session_id: String,
    pub parent_session_id: String,
    pub operation: OperationKind,
    pub amount: String,
    pub amount_minor: i64,
    pub currency_code: String,
    pub state: ChildState,
    pub pg_code: String,
    pub destination: Option<Destination>,
    pub reference_number: String,
    pub created: String,
    pub modified: String,
    /// For `refund_queued`: when it settles (sandbox clock) and into what.
    pub settle_at: Option<String>,
    pub settles_to: Option<ChildState>,
}

/// One operation the sandbox answered definitively (and would replay for its Tracking-Key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperationRecord {
    pub id: i64,
    pub tracking_key: Option<String>,
    pub operation: OperationKind,
    /// The parent payment.
    pub session_id: String,
    /// The amount actioned (for refund/capture/void), in the payment's currency.
    pub amount: Option<String>,
    pub amount_minor: Option<i64>,
    /// `success` or `failed`, as in the response.
    pub result: String,
    /// `applied`, `gateway_refused` (200 failed) or `refused` (400 by state or amount).
    pub outcome: String,
    pub http_status: u16,
    pub child_session_id: Option<String>,
    pub applied_at: String,
    pub applied_at_ms: i64,
}

/// Counters since this process started (they are not persisted).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    /// Requests to Ottu endpoints (everything outside `/_sandbox/`).
    pub requests: u64,
    pub operation_requests: u64,
    pub inquiry_requests: u64,
    pub payment_requests: u64,
    pub report_requests: u64,
    pub admin_requests: u64,
    pub operations_applied: u64,
    pub operations_refused: u64,
    pub operations_gateway_refused: u64,
    /// Answered from a stored Tracking-Key without performing anything.
    pub operations_replayed: u64,
    /// 400 field-error answers (nothing stored).
    pub operations_invalid: u64,
    /// 401 and 403 answers.
    pub auth_failures: u64,
    pub inquiries_throttled: u64,
    pub faults: FaultCounters,
}

/// Injected faults by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultCounters {
    pub latency: u64,
    #[serde(rename = "5xx")]
    pub server_error: u64,
    #[serde(rename = "429")]
    pub throttle: u64,
    pub drop: u64,
    pub lost: u64,
    pub malformed: u64,
}

impl StateSnapshot {
    pub fn payment(&self, session_id: &str) -> Option<&PaymentSnapshot> {
        self.payments.iter().find(|p| p.session_id == session_id)
    }

    pub fn payment_by_order_no(&self, order_no: &str) -> Option<&PaymentSnapshot> {
        self.payments
            .iter()
            .find(|p| p.order_no.as_deref() == Some(order_no))
    }

    /// The stored operation for a Tracking-Key (keys are unique, so at most one).
    pub fn operation_with_key(&self, tracking_key: &str) -> Option<&OperationRecord> {
        self.operations
            .iter()
            .find(|o| o.tracking_key.as_deref() == Some(tracking_key))
    }

    /// Operations that took effect on a payment.
    pub fn applied_on<'a>(
        &'a self,
        session_id: &'a str,
    ) -> impl Iterator<Item = &'a OperationRecord> + 'a {
        self.operations
            .iter()
            .filter(move |o| o.session_id == session_id && o.outcome == "applied")
    }

    /// Every child of every payment.
    pub fn children(&self) -> impl Iterator<Item = &ChildSnapshot> {
        self.payments.iter().flat_map(|p| p.children.iter())
    }
}
