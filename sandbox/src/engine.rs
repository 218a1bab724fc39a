//! What the sandbox does for an operation or an inquiry, given a parsed request: find the
//! payment, honour the Tracking-Key, apply the state table and the gateway's behaviour, and
//! store the operation with the exact response, all in one committed transaction.
//!
//! Tracking-Key rules (CONTRACT.md): a key seen before on the same payment replays the stored
//! status and body; on another payment it is a 400 `operation_tracking` failure. Keys are
//! stored for definitive answers only: applied operations, gateway refusals (200 `failed`)
//! and state/amount refusals (400 `OperationFailure`). Validation errors (400 field-error
//! maps), auth errors and injected faults store nothing, so a corrected retry may reuse the
//! key.

use std::collections::VecDeque;

use serde_json::Value;

use crate::clock::{EpochMs, reference_number};
use crate::gateway::{RefundBehaviour, refund_behaviour};
use crate::model::{ChildState, Destination, OperationKind, PaymentState};
use crate::money::{Minor, WireAmount};
use crate::rules::{self, Effect, ParentFacts};
use crate::store::{ChildRow, Db, OperationRow, Outcome, PaymentRow, StoreError, child_identity};
use crate::views::{self, ExternalAnswer, FieldErrors, field_error};
use crate::writer::BatchCtx;

/// Inquiries are refused during this long after a payment is created.
pub const INQUIRY_GRACE_MS: EpochMs = 10 * 60 * 1000;
/// ... then allowed at most once per this window ...
pub const INQUIRY_INTERVAL_MS: EpochMs = 30 * 60 * 1000;
/// ... and at most this many times per payment.
pub const INQUIRY_MAX_PER_PAYMENT: u32 = 3;
/// Across all payments, at most this many inquiries ...
pub const INQUIRY_GLOBAL_LIMIT: usize = 30;
/// ... per this sliding window.
pub const INQUIRY_GLOBAL_WINDOW_MS: EpochMs = 60 * 1000;

/// Where time and naming come from for one request.
#[derive(Debug, Clone, Copy)]
pub struct Env {
    pub seed: u64,
    pub settle_after_ms: u64,
    pub now_ms: EpochMs,
}

/// How a payment is named in a request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selector {
    pub session_id: Option<String>,
    pub order_no: Option<String>,
}

/// A parsed `POST /b/pbl/v2/operation/`.
#[derive(Debug, Clone)]
pub struct OperationRequest {
    pub kind: OperationKind,
    pub selector: Selector,
    /// Checked against the wire pattern; checked against the currency here.
    pub amount: Option<WireAmount>,
    pub destination: Destination,
    pub extra: Option<Value>,
    pub tracking_key: Option<String>,
    pub initiator: Option<String>,
}

/// What the request ended as (for counters and fault handling).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyKind {
    Applied,
    GatewayRefused,
    Refused,
    Replayed,
    Invalid,
    Throttled,
    NotFound,
    Answered,
}

/// Status, JSON body and an optional Retry-After.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub body: String,
    pub retry_after_s: Option<u64>,
    pub kind: ReplyKind,
}

impl Reply {
    pub fn new(status: u16, body: String, kind: ReplyKind) -> Reply {
        Reply {
            status,
            body,
            retry_after_s: None,
            kind,
        }
    }

    pub fn invalid(errors: &FieldErrors) -> Reply {
        Reply::new(400, views::field_errors_body(errors), ReplyKind::Invalid)
    }

    pub fn not_found() -> Reply {
        Reply::new(404, views::detail_body("Not found."), ReplyKind::NotFound)
    }
}

/// Finds the parent payment a selector names (deleted ones included), or the field errors.
fn resolve(
    db: &Db<'_>,
    selector: &Selector,
) -> Result<Result<PaymentRow, FieldErrors>, StoreError> {
    let by_session = match &selector.session_id {
        Some(session_id) => match db.payment(session_id)? {
            Some(p) => Some(p),
            None => {
                if let Some(child) = db.child(session_id)? {
                    return Ok(Err(field_error(
                        "session_id",
                        format!(
                            "{session_id} is a child transaction of {}; operations apply to the parent payment.",
                            child.parent_session_id
                        ),
                    )));
                }
                return Ok(Err(field_error(
                    "session_id",
                    "Payment transaction not found.",
                )));
            }
        },
        None => None,
    };
    match (by_session, &selector.order_no) {
        (Some(p), None) => Ok(Ok(p)),
        (Some(p), Some(order_no)) => {
            if p.order_no.as_deref() == Some(order_no.as_str()) {
                Ok(Ok(p))
            } else {
                Ok(Err(field_error(
                    "order_no",
                    "Payment transaction not found: order_no does not match session_id.",
                )))
            }
        }
        (None, Some(order_no)) => match db.payment_by_order_no(order_no)? {
            Some(p) => Ok(Ok(p)),
            None => Ok(Err(field_error(
                "order_no",
                "Payment transaction not found.",
            ))),
        },
        (None, None) => Ok(Err(field_error(
            "non_field_errors",
            "Either session_id or order_no is required.",
        ))),
    }
}

/// Performs one operation request inside the writer's batch transaction (the writer answers
/// only after the batch is committed).
pub fn perform_operation(
    db: &Db<'_>,
    ctx: &mut BatchCtx<'_>,
    req: &OperationRequest,
) -> Result<Reply, StoreError> {
    let env = ctx.env;
    let parent = match resolve(db, &req.selector)? {
        Ok(p) => p,
        Err(errors) => return Ok(Reply::invalid(&errors)),
    };

    if let Some(key) = &req.tracking_key
        && let Some(previous) = db.operation_by_key(key)?
    {
        if previous.session_id == parent.session_id {
            return Ok(Reply::new(
                previous.http_status,
                previous.response_body,
                ReplyKind::Replayed,
            ));
        }
        return Ok(Reply::new(
            400,
            views::failure_body(
                "operation_tracking",
                &format!("Tracking-Key '{key}' was already used for another payment transaction."),
            ),
            ReplyKind::Invalid,
        ));
    }

    let requested: Option<Minor> = match (&req.amount, req.kind.reads_amount()) {
        (Some(amount), true) => match amount.to_positive_minor(parent.currency) {
            Ok(minor) => Some(minor),
            Err(e) => return Ok(Reply::invalid(&field_error("amount", e.to_string()))),
        },
        _ => None,
    };

    let facts = ParentFacts {
        state: parent.state,
        amount: parent.amount,
        deleted: parent.deleted,
        foreign_currency: parent.foreign_currency,
    };
    let balances = db.balances(&parent.session_id)?;
    let op_id = db.next_operation_id()?;
    let mut record = OperationRow {
        id: op_id,
        tracking_key: req.tracking_key.clone(),
        session_id: parent.session_id.clone(),
        operation: req.kind,
        amount: requested,
        outcome: Outcome::Applied,
        http_status: 200,
        response_body: String::new(),
        child_session_id: None,
        applied_at_ms: env.now_ms,
    };

    let reply = match rules::decide(req.kind, &facts, &balances, requested) {
        Err(refusal) => {
            record.outcome = Outcome::Refused;
            record.http_status = 400;
            let body = views::failure_body(req.kind.as_str(), &refusal.detail(parent.currency));
            Reply::new(400, body, ReplyKind::Refused)
        }
        Ok(Effect::SetState(state)) => {
            db.set_payment_state(&parent.session_id, state, env.now_ms)?;
            Reply::new(
                200,
                views::internal_body(req.kind, views::success_detail(req.kind, None)),
                ReplyKind::Applied,
            )
        }
        Ok(Effect::MarkDeleted) => {
            db.mark_deleted(&parent.session_id, env.now_ms)?;
            Reply::new(
                200,
                views::internal_body(req.kind, views::success_detail(req.kind, None)),
                ReplyKind::Applied,
            )
        }
        Ok(Effect::CreateChild { amount }) => {
            record.amount = Some(amount);
            let child_state = match req.kind {
                OperationKind::Capture => Some((ChildState::Paid, None)),
                OperationKind::Void => Some((ChildState::Voided, None)),
                _ if req.destination == Destination::Wallet => Some((ChildState::Refunded, None)),
                _ => match refund_behaviour(&parent.pg_code) {
                    RefundBehaviour::Immediate => Some((ChildState::Refunded, None)),
                    RefundBehaviour::Queued { settles_to } => {
                        Some((ChildState::RefundQueued, Some(settles_to)))
                    }
                    RefundBehaviour::Refuse => None,
                },
            };
            match child_state {
                None => {
                    record.outcome = Outcome::GatewayRefused;
                    let reference = reference_number(env.seed, op_id as u64);
                    let detail = format!(
                        "The payment gateway {} does not support {} for this payment.",
                        parent.pg_code, req.kind
                    );
                    let body = views::external_body(&ExternalAnswer {
                        seed: env.seed,
                        parent: &parent,
                        operation: req.kind,
                        amount,
                        child: None,
                        reference_number: &reference,
                        detail: &detail,
                        initiator: req.initiator.as_deref(),
                        extra: req.extra.as_ref(),
                        now_ms: env.now_ms,
                    });
                    Reply::new(200, body, ReplyKind::GatewayRefused)
                }
                Some((state, settles_to)) => {
                    let n = db.next_child_number()?;
                    let (child_session_id, reference) = child_identity(env.seed, n);
                    let settle_at_ms = settles_to.map(|_| {
                        env.now_ms
                            .saturating_add(i64::try_from(env.settle_after_ms).unwrap_or(i64::MAX))
                    });
                    let child = ChildRow {
                        session_id: child_session_id,
                        parent_session_id: parent.session_id.clone(),
                        operation: req.kind,
                        amount,
                        currency: parent.currency,
                        state,
                        pg_code: parent.pg_code.clone(),
                        destination: (req.kind == OperationKind::Refund).then_some(req.destination),
                        reference_number: reference,
                        settle_at_ms,
                        settles_to,
                        created_at_ms: env.now_ms,
                        modified_at_ms: env.now_ms,
                    };
                    db.insert_child(n, &child)?;
                    if let Some(at) = settle_at_ms {
                        ctx.note_queued(at);
                    }
                    record.child_session_id = Some(child.session_id.clone());
                    let body = views::external_body(&ExternalAnswer {
                        seed: env.seed,
                        parent: &parent,
                        operation: req.kind,
                        amount,
                        child: Some(&child),
                        reference_number: &child.reference_number,
                        detail: views::success_detail(req.kind, Some(state)),
                        initiator: req.initiator.as_deref(),
                        extra: req.extra.as_ref(),
                        now_ms: env.now_ms,
                    });
                    Reply::new(200, body, ReplyKind::Applied)
                }
            }
        }
    };
    record.response_body = reply.body.clone();
    db.insert_operation(&record)?;
    Ok(reply)
}

/// Allowed inquiries across all payments in the last minute (sandbox clock).
#[derive(Debug, Default)]
pub struct InquiryWindow {
    allowed_at_ms: VecDeque<EpochMs>,
}

fn throttled(retry_after_ms: Option<EpochMs>, detail: String) -> Reply {
    let retry_after_s = retry_after_ms.map(|ms| (ms.max(0) as u64).div_ceil(1000).max(1));
    let detail = match retry_after_s {
        Some(s) => format!("Request was throttled. Expected available in {s} seconds. {detail}"),
        None => format!("Request was throttled. {detail}"),
    };
    Reply {
        status: 429,
        body: views::detail_body(&detail),
        retry_after_s,
        kind: ReplyKind::Throttled,
    }
}

/// `POST /b/pbl/v2/inquiry/`: throttled per payment and overall; when allowed, a payment
/// still pending, attempted, failed or expired learns its gateway state (if the sandbox was
/// told one), and the answer is the webhook-shaped payment.
pub fn inquire(
    db: &Db<'_>,
    ctx: &mut BatchCtx<'_>,
    selector: &Selector,
) -> Result<Reply, StoreError> {
    let env = ctx.env;
    let window = &mut *ctx.window;
    let parent = match resolve(db, selector)? {
        Ok(p) if !p.is_hard_deleted() => p,
        Ok(_) => return Ok(Reply::not_found()),
        Err(errors) if errors.contains_key("non_field_errors") => {
            return Ok(Reply::invalid(&errors));
        }
        Err(_) => return Ok(Reply::not_found()),
    };
    let now = env.now_ms;
    let grace_ends = parent.created_at_ms.saturating_add(INQUIRY_GRACE_MS);
    if now < grace_ends {
        return Ok(throttled(
            Some(grace_ends - now),
            "Inquiry is not allowed in the first 10 minutes after a payment is created.".to_owned(),
        ));
    }
    if parent.inquiry_count >= INQUIRY_MAX_PER_PAYMENT {
        return Ok(throttled(
            None,
            format!("Inquiry is allowed at most {INQUIRY_MAX_PER_PAYMENT} times per payment."),
        ));
    }
    if let Some(last) = parent.last_inquiry_at_ms {
        let next = last.saturating_add(INQUIRY_INTERVAL_MS);
        if now < next {
            return Ok(throttled(
                Some(next - now),
                "Inquiry is allowed at most once per 30 minutes per payment.".to_owned(),
            ));
        }
    }
    while window
        .allowed_at_ms
        .front()
        .is_some_and(|&at| at + INQUIRY_GLOBAL_WINDOW_MS <= now)
    {
        window.allowed_at_ms.pop_front();
    }
    if window.allowed_at_ms.len() >= INQUIRY_GLOBAL_LIMIT {
        let oldest = window.allowed_at_ms.front().copied().unwrap_or(now);
        return Ok(throttled(
            Some(oldest + INQUIRY_GLOBAL_WINDOW_MS - now),
            format!("At most {INQUIRY_GLOBAL_LIMIT} inquiries per minute are allowed."),
        ));
    }
    window.allowed_at_ms.push_back(now);
    let learned: Option<PaymentState> = parent
        .gateway_state
        .filter(|_| parent.state.inquiry_asks_gateway());
    db.record_inquiry(&parent.session_id, now, learned)?;
    let updated = db.payment(&parent.session_id)?.unwrap_or(parent);
    let children = db.children_of(&updated.session_id)?;
    Ok(Reply::new(
        200,
        views::webhook_body(&updated, &children, env.seed, now),
        ReplyKind::Answered,
    ))
}

/// `GET /b/checkout/v1/pymt-txn/{session_id}/`: a parent (unless hard-deleted) or a child.
pub fn retrieve(db: &Db<'_>, session_id: &str, base_url: &str) -> Result<Reply, StoreError> {
    if let Some(p) = db.payment(session_id)? {
        if p.is_hard_deleted() {
            return Ok(Reply::not_found());
        }
        let children = db.children_of(session_id)?;
        return Ok(Reply::new(
            200,
            views::payment_body(&p, &children, base_url),
            ReplyKind::Answered,
        ));
    }
    if let Some(c) = db.child(session_id)?
        && let Some(parent) = db.payment(&c.parent_session_id)?
        && !parent.is_hard_deleted()
    {
        return Ok(Reply::new(
            200,
            views::child_payment_body(&c, &parent, base_url),
            ReplyKind::Answered,
        ));
    }
    Ok(Reply::not_found())
}
