//! What the facade returns: plain serialisable views with amounts as decimal strings in
//! the currency's decimals and times in RFC 3339. These shapes are the `--json` contract.

use std::collections::BTreeMap;

use serde::Serialize;
use ts_rs::TS;

use crate::error::Params;
use crate::model::{
    AuthKind, Child, ChildState, Event, Operation, OperationKind, OperationStatus, Payment,
    PaymentSource, PaymentState, Profile,
};
use crate::rules::{Balances, BalancesView};
use crate::sources::format_ms;
use crate::store::StatusCounts;
use crate::store::profiles::ProfileAuth;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct ProfileView {
    pub name: String,
    pub base_url: String,
    pub currency: String,
    pub created_at: String,
}

impl From<&Profile> for ProfileView {
    fn from(p: &Profile) -> Self {
        ProfileView {
            name: p.name.to_string(),
            base_url: p.base_url.clone(),
            currency: p.currency.to_string(),
            created_at: format_ms(p.created_at_ms),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct PaymentView {
    pub session_id: String,
    pub order_no: Option<String>,
    pub profile: String,
    pub currency: String,
    pub amount: String,
    pub state: PaymentState,
    pub hidden: bool,
    pub source: PaymentSource,
    pub created_at: String,
    /// The customer's email as Ottu gave it; `null` when it gave none.
    pub customer_email: Option<String>,
    /// The customer's phone as Ottu gave it; `null` when it gave none.
    pub customer_phone: Option<String>,
    /// What can still be refunded, after what is refunded and what queued operations hold
    /// (the payment's `balances.refundable`).
    pub refundable: String,
    /// What can still be captured of an authorization (`balances.capturable`).
    pub capturable: String,
}

impl PaymentView {
    /// The row of `p`, with its balances (derived from the ledger's operations and
    /// children).
    pub fn new(p: &Payment, balances: &Balances) -> PaymentView {
        PaymentView {
            session_id: p.session_id.to_string(),
            order_no: p.order_no.as_ref().map(ToString::to_string),
            profile: p.profile.to_string(),
            currency: p.amount.currency().to_string(),
            amount: p.amount.to_string(),
            state: p.state,
            hidden: p.hidden,
            source: p.source,
            created_at: format_ms(p.created_at_ms),
            customer_email: p.customer_email.clone(),
            customer_phone: p.customer_phone.clone(),
            refundable: balances.refundable.to_string(),
            capturable: balances.capturable.to_string(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct OperationView {
    pub id: i64,
    pub kind: OperationKind,
    /// What the operation moves: the requested amount, or what remained when it was
    /// queued; `null` for cancel, expire and delete.
    pub amount: Option<String>,
    /// What is sent to Ottu as `amount`; `null` = the full or remaining amount.
    pub requested_amount: Option<String>,
    pub status: OperationStatus,
    pub tracking_key: String,
    pub created_at: String,
    pub updated_at: String,
    pub attempts: u32,
    /// Whether the request may have reached Ottu (then it can no longer be dropped).
    pub sent: bool,
    pub reason: Option<String>,
    pub requested_by: String,
    pub last_error: Option<String>,
    /// `last_error`'s code and the values it is made from (see docs/errors.md), for a UI's
    /// own words; absent for an error stored before codes were.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub last_error_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub last_error_params: Option<Params>,
    pub session_id: String,
    pub order_no: Option<String>,
    pub profile: String,
    pub currency: String,
    /// When the sync worker will try it next (RFC 3339), after a retryable failure or a
    /// busy answer; `null` when it goes at its turn, or when it is not `queued`.
    pub next_attempt_at: Option<String>,
    /// How long it has waited since it was queued, in milliseconds by the ledger's clock
    /// when the view was made, while unfinished (`queued`, `in_flight`, `blocked`,
    /// `needs_attention`); `null` once finished.
    pub age_ms: Option<u64>,
    /// What the merchant may do with it now, by the queue's own checks.
    pub actions: OperationActions,
}

/// What `queue retry`, `queue resend` and `queue drop` would do with an operation, decided
/// by the same checks they make, so a UI offers exactly the calls that succeed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, TS)]
pub struct OperationActions {
    /// `retry_operation` succeeds (with a confirmation and a reason when
    /// `retry_needs_confirmation`): failed, unresolved or blocked, not retried yet, and
    /// the rules allow the replacement against the payment's balances now.
    pub retry: bool,
    /// The retry must say `confirm_not_applied` and give a reason: the operation may
    /// have reached Ottu. `false` when `retry` is.
    pub retry_needs_confirmation: bool,
    /// `resend_operation` succeeds: the outcome is unknown (`needs_attention`).
    pub resend: bool,
    /// `drop_operation` succeeds: queued or blocked, and never sent.
    pub drop: bool,
}

impl OperationView {
    /// The view of `op` (of `payment`) as of `now_ms`, the ledger clock's time, which its
    /// age is measured against, with what may be done with it (`actions`, which needs
    /// the ledger: see `Ledger`'s queue module).
    pub fn new(
        op: &Operation,
        payment: &Payment,
        now_ms: i64,
        actions: OperationActions,
    ) -> OperationView {
        // Exhaustive, so a new status has to say whether it still waits.
        let unfinished = match op.status {
            OperationStatus::Queued
            | OperationStatus::InFlight
            | OperationStatus::Blocked
            | OperationStatus::NeedsAttention => true,
            OperationStatus::Succeeded | OperationStatus::Failed | OperationStatus::Dropped => {
                false
            }
        };
        OperationView {
            id: op.id.0,
            kind: op.kind,
            amount: op.kind.is_external().then(|| op.reserved.to_string()),
            requested_amount: op.requested.map(|a| a.to_string()),
            status: op.status,
            tracking_key: op.tracking_key.to_string(),
            created_at: format_ms(op.created_at_ms),
            updated_at: format_ms(op.updated_at_ms),
            attempts: op.attempts,
            sent: op.sent,
            reason: op.reason.clone(),
            requested_by: op.requested_by.clone(),
            last_error: op.last_error.clone(),
            last_error_code: op.last_error_stored.as_ref().map(|s| s.code.clone()),
            last_error_params: op.last_error_stored.as_ref().map(|s| s.params.clone()),
            session_id: payment.session_id.to_string(),
            order_no: payment.order_no.as_ref().map(ToString::to_string),
            profile: payment.profile.to_string(),
            currency: payment.amount.currency().to_string(),
            // Only a queued operation waits for that time; the column keeps the last one.
            next_attempt_at: op
                .next_attempt_at_ms
                .filter(|_| op.status == OperationStatus::Queued)
                .map(format_ms),
            // A clock set back before the queueing reads as no wait, not a huge one.
            age_ms: unfinished.then(|| u64::try_from(now_ms - op.created_at_ms).unwrap_or(0)),
            actions,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct ChildView {
    pub session_id: String,
    pub kind: OperationKind,
    pub amount: String,
    pub state: ChildState,
    pub operation_id: Option<i64>,
    pub created_at: String,
}

impl From<&Child> for ChildView {
    fn from(c: &Child) -> Self {
        ChildView {
            session_id: c.session_id.to_string(),
            kind: c.kind,
            amount: c.amount.to_string(),
            state: c.state,
            operation_id: c.operation_id.map(|o| o.0),
            created_at: format_ms(c.created_at_ms),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct EventView {
    pub id: i64,
    pub at: String,
    pub actor: String,
    /// What happened, e.g. `operation.queued`. A string, not an enum: the audit trail is
    /// append-only, so a ledger keeps the actions older versions wrote, and new versions
    /// add their own; a closed set would make an old or newer ledger unreadable.
    pub action: String,
    /// `payment`, `operation`, `child` or `profile` (the kind of row `entity_id` names).
    pub entity: String,
    pub entity_id: i64,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

impl From<&Event> for EventView {
    fn from(e: &Event) -> Self {
        EventView {
            id: e.id,
            at: format_ms(e.at_ms),
            actor: e.actor.clone(),
            action: e.action.clone(),
            entity: e.entity.clone(),
            entity_id: e.entity_id,
            before: e.before.clone(),
            after: e.after.clone(),
        }
    }
}

/// `payment show`: the payment, its balances and its whole timeline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct PaymentDetail {
    pub session_id: String,
    pub order_no: Option<String>,
    pub profile: String,
    pub currency: String,
    pub amount: String,
    pub state: PaymentState,
    pub hidden: bool,
    pub source: PaymentSource,
    pub created_at: String,
    pub customer_email: Option<String>,
    pub customer_phone: Option<String>,
    pub balances: BalancesView,
    pub operations: Vec<OperationView>,
    pub children: Vec<ChildView>,
    pub events: Vec<EventView>,
}

impl PaymentDetail {
    pub fn new(
        payment: &Payment,
        balances: &Balances,
        operations: Vec<OperationView>,
        children: &[Child],
        events: &[Event],
    ) -> PaymentDetail {
        let view = PaymentView::new(payment, balances);
        PaymentDetail {
            session_id: view.session_id,
            order_no: view.order_no,
            profile: view.profile,
            currency: view.currency,
            amount: view.amount,
            state: view.state,
            hidden: view.hidden,
            source: view.source,
            created_at: view.created_at,
            customer_email: view.customer_email,
            customer_phone: view.customer_phone,
            balances: balances.view(),
            operations,
            children: children.iter().map(ChildView::from).collect(),
            events: events.iter().map(EventView::from).collect(),
        }
    }
}

/// `queue ...`: the operation just queued and the payment's balances after it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct QueuedView {
    #[serde(flatten)]
    pub operation: OperationView,
    pub balances: BalancesView,
}

/// `status`: operation counts per status, in total and per profile, and every paused
/// profile with the work it holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct StatusReport {
    #[serde(flatten)]
    pub total: StatusCounts,
    pub profiles: BTreeMap<String, ProfileStatus>,
    /// Every paused profile (Ottu refused its credential), by name.
    pub paused: Vec<crate::sync::PausedProfileView>,
    /// How long the oldest operation still queued or in flight has waited since it was
    /// queued (any profile); `null` when none waits.
    pub oldest_queued_age_ms: Option<u64>,
}

/// One profile's counts, and its pause if it has one.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, TS)]
pub struct ProfileStatus {
    #[serde(flatten)]
    pub counts: StatusCounts,
    pub paused: Option<PauseView>,
    /// When the profile's oldest operation still queued or in flight was queued (RFC
    /// 3339), and how long ago; `null` when none waits.
    pub oldest_queued_at: Option<String>,
    pub oldest_queued_age_ms: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct PauseView {
    pub reason: String,
    pub since: Option<String>,
}

/// One profile with how it authenticates: whether a key is stored, never the key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct ProfileDetail {
    pub name: String,
    pub base_url: String,
    pub currency: String,
    pub created_at: String,
    pub auth: AuthKind,
    /// The dashboard user for Basic auth (a name, not a secret).
    pub basic_user: Option<String>,
    /// Whether the OS keyring holds the key (or the Basic user's password).
    pub key_stored: bool,
    /// Why the profile's queue is paused (Ottu refused the credential), if it is.
    pub paused_reason: Option<String>,
    /// `paused_reason`'s code and the values it is made from, for a UI's own words; absent
    /// for a pause stored before codes were.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub paused_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub paused_params: Option<Params>,
    pub paused_at: Option<String>,
}

impl ProfileDetail {
    pub(crate) fn new(p: &Profile, auth: &ProfileAuth, key_stored: bool) -> ProfileDetail {
        let base = ProfileView::from(p);
        ProfileDetail {
            name: base.name,
            base_url: base.base_url,
            currency: base.currency,
            created_at: base.created_at,
            auth: auth.kind,
            basic_user: auth.basic_user.clone(),
            key_stored,
            paused_reason: auth.paused_reason.clone(),
            paused_code: auth.paused_stored.as_ref().map(|s| s.code.clone()),
            paused_params: auth.paused_stored.as_ref().map(|s| s.params.clone()),
            paused_at: auth.paused_at_ms.map(format_ms),
        }
    }
}

/// `payment list`: one page in list order (newest first). `next_cursor` is passed back as
/// [`PaymentQuery::after`](super::PaymentQuery::after) for the next page; `None` on the
/// last. `total` counts every payment the filters match, on all pages: exactly, unless
/// `total_capped`, when a search matched more than [`crate::limits::SEARCH_COUNT_CAP`]
/// payments and `total` is that cap, a lower bound (counting a broad search's every match
/// would hold the ledger too long).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct PaymentPage {
    pub payments: Vec<PaymentView>,
    pub next_cursor: Option<String>,
    pub total: u64,
    pub total_capped: bool,
}

/// `queue list`: one page in queue order (oldest first), as [`PaymentPage`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct OperationPage {
    pub operations: Vec<OperationView>,
    pub next_cursor: Option<String>,
    pub total: u64,
}
