//! Recording what Ottu answered: each finished attempt becomes one status change on its
//! operation, the child Ottu created, the parent's new state, and their events, all in
//! the caller's transaction.

use rusqlite::Transaction;
use serde_json::json;

use super::outcome::{ChildReport, SendOutcome};
use super::{OperationOutcomeView, backoff};
use crate::error::{Error, Result};
use crate::model::{
    ChildState, OperationId, OperationKind, OperationStatus, PaymentId, PaymentState, SessionId,
};
use crate::money::Amount;
use crate::sources::Random;
use crate::store::outbox::{self, AttemptRecord, Claimed};
use crate::store::{self, ChildInsert, EventInsert};

/// What the worker must know after recording one attempt.
pub struct Recorded {
    pub view: OperationOutcomeView,
    /// The profile was paused with this reason.
    pub paused: Option<String>,
    /// Ottu was unreachable: stop claiming for a while.
    pub offline: bool,
    pub blocked: u64,
}

pub struct RecordContext<'a> {
    pub now_ms: i64,
    pub actor: &'a str,
    pub random: &'a dyn Random,
    pub max_unknown_attempts: u32,
    pub offline_retry_ms: u64,
}

/// Appends one event about `op`'s payment: on `entity` `entity_id` (the operation itself,
/// its payment, or an operation it holds).
#[allow(clippy::too_many_arguments)]
fn append(
    tx: &Transaction<'_>,
    ctx: &RecordContext<'_>,
    op: &Claimed,
    entity: &str,
    entity_id: i64,
    action: &str,
    before: serde_json::Value,
    after: serde_json::Value,
) -> Result<()> {
    store::events::append(
        tx,
        &EventInsert {
            at_ms: ctx.now_ms,
            actor: ctx.actor,
            action,
            entity,
            entity_id,
            payment_id: Some(op.payment_id),
            before: Some(before),
            after: Some(after),
        },
    )?;
    Ok(())
}

fn event(
    tx: &Transaction<'_>,
    ctx: &RecordContext<'_>,
    op: &Claimed,
    action: &str,
    before: serde_json::Value,
    after: serde_json::Value,
) -> Result<()> {
    append(tx, ctx, op, "operation", op.id.0, action, before, after)
}

fn payment_event(
    tx: &Transaction<'_>,
    ctx: &RecordContext<'_>,
    op: &Claimed,
    action: &str,
    before: serde_json::Value,
    after: serde_json::Value,
) -> Result<()> {
    append(
        tx,
        ctx,
        op,
        "payment",
        op.payment_id.0,
        action,
        before,
        after,
    )
}

/// The child's state, or what a success of this kind means when Ottu did not say.
fn child_state(kind: OperationKind, reported: Option<&str>) -> ChildState {
    match (kind, reported.map(str::parse::<ChildState>)) {
        (_, Some(Ok(state))) => state,
        (OperationKind::Capture, _) => ChildState::Paid,
        (OperationKind::Void, _) => ChildState::Voided,
        // An unknown refund state still commits the money, like `refund_queued`.
        _ => ChildState::RefundQueued,
    }
}

fn record_child(
    tx: &Transaction<'_>,
    ctx: &RecordContext<'_>,
    op: &Claimed,
    child: Option<&ChildReport>,
) -> Result<serde_json::Value> {
    let currency = op.reserved.currency();
    // Without Ottu's child the ledger still records what was asked: otherwise the amount
    // would stop counting as spent and could be refunded twice.
    let session = child
        .and_then(|c| SessionId::parse(&c.session_id).ok())
        .unwrap_or_else(|| {
            SessionId::parse(&format!("unreported-{}", op.tracking_key))
                .expect("a UUID-based id is a valid session id")
        });
    let amount = child
        .and_then(|c| c.amount.as_deref())
        .and_then(|a| Amount::parse(a, currency).ok())
        .filter(|a| a.minor() >= 0)
        .unwrap_or(op.reserved);
    let state = child_state(op.kind, child.and_then(|c| c.state.as_deref()));
    store::children::upsert(
        tx,
        &ChildInsert {
            payment_id: op.payment_id,
            operation_id: Some(op.id),
            kind: op.kind,
            session_id: &session,
            amount,
            state,
        },
        ctx.now_ms,
    )?;
    Ok(json!({"session_id": session, "amount": amount.to_string(), "state": state}))
}

fn apply_to_parent(tx: &Transaction<'_>, ctx: &RecordContext<'_>, op: &Claimed) -> Result<()> {
    let new_state = match op.kind {
        OperationKind::Cancel => PaymentState::Canceled,
        OperationKind::Expire => PaymentState::Expired,
        OperationKind::Delete => {
            store::payments::set_hidden(tx, op.payment_id, ctx.now_ms)?;
            return payment_event(
                tx,
                ctx,
                op,
                "payment.deleted",
                json!({"hidden": false}),
                json!({"hidden": true}),
            );
        }
        _ => return Ok(()),
    };
    let old = store::payments::set_state(tx, op.payment_id, new_state, ctx.now_ms)?;
    payment_event(
        tx,
        ctx,
        op,
        "payment.state_changed",
        json!({"state": old}),
        json!({"state": new_state}),
    )
}

/// Holds the later operations of the payment behind `op`, with events.
fn block_later(
    tx: &Transaction<'_>,
    ctx: &RecordContext<'_>,
    op: &Claimed,
    why: &str,
) -> Result<u64> {
    let reason = format!(
        "held: operation #{} on this payment {why}; retry or drop it first",
        op.id
    );
    let held = outbox::block_after(tx, op.id, &reason, ctx.now_ms)?;
    for id in &held {
        append(
            tx,
            ctx,
            op,
            "operation",
            id.0,
            "operation.blocked",
            json!({"status": OperationStatus::Queued}),
            json!({"status": OperationStatus::Blocked, "held_by": op.id, "reason": reason}),
        )?;
    }
    Ok(held.len() as u64)
}

/// Gives the in-flight operation its new status and what the attempt left behind.
fn finish(
    tx: &Transaction<'_>,
    ctx: &RecordContext<'_>,
    op: &Claimed,
    to: OperationStatus,
    record: &AttemptRecord<'_>,
) -> Result<()> {
    // Only the worker holding the sync lock moves in-flight operations; if another did,
    // recording this answer too could count it twice: stop, and record nothing.
    if !outbox::finish_attempt(tx, op.id, to, record, ctx.now_ms)? {
        return Err(Error::Unavailable {
            code: "sync.stale_answer",
            message: format!(
                "operation {} was no longer in flight when its answer came (another sync?); nothing was recorded",
                op.id
            ),
        });
    }
    Ok(())
}

/// Records one finished attempt.
pub fn record(
    tx: &Transaction<'_>,
    ctx: &RecordContext<'_>,
    op: &Claimed,
    outcome: &SendOutcome,
) -> Result<Recorded> {
    let in_flight = json!({"status": OperationStatus::InFlight, "attempt": op.attempt});
    let mut recorded = Recorded {
        view: OperationOutcomeView {
            id: op.id.0,
            kind: op.kind.to_string(),
            session_id: op.session_id.to_string(),
            profile: op.profile.to_string(),
            attempt: op.attempt,
            status: OperationStatus::Queued,
            detail: String::new(),
            retry_in_ms: None,
        },
        paused: None,
        offline: false,
        blocked: 0,
    };
    match outcome {
        SendOutcome::Succeeded {
            detail,
            reference_number,
            child,
            raw,
        } => {
            finish(
                tx,
                ctx,
                op,
                OperationStatus::Succeeded,
                &AttemptRecord {
                    sent: true,
                    reply_json: Some(raw),
                    reference_number: reference_number.as_deref(),
                    ..AttemptRecord::default()
                },
            )?;
            let child = if op.kind.is_external() {
                Some(record_child(tx, ctx, op, child.as_ref())?)
            } else {
                None
            };
            apply_to_parent(tx, ctx, op)?;
            event(
                tx,
                ctx,
                op,
                "operation.succeeded",
                in_flight,
                json!({
                    "status": OperationStatus::Succeeded, "reference_number": reference_number, "child": child, "detail": detail,
                }),
            )?;
            recorded.view.status = OperationStatus::Succeeded;
            recorded.view.detail = detail.clone();
        }
        SendOutcome::Refused { reason, raw } => {
            finish(
                tx,
                ctx,
                op,
                OperationStatus::Failed,
                &AttemptRecord {
                    sent: true,
                    last_error: Some(reason),
                    reply_json: Some(raw),
                    ..AttemptRecord::default()
                },
            )?;
            event(
                tx,
                ctx,
                op,
                "operation.failed",
                in_flight,
                json!({"status": OperationStatus::Failed, "reason": reason}),
            )?;
            recorded.blocked =
                block_later(tx, ctx, op, &format!("was refused by Ottu ({reason})"))?;
            recorded.view.status = OperationStatus::Failed;
            recorded.view.detail = reason.clone();
        }
        SendOutcome::Auth { reason } => {
            // Nothing was applied: the operation waits, its attempt not counted.
            finish(
                tx,
                ctx,
                op,
                OperationStatus::Queued,
                &AttemptRecord {
                    last_error: Some(reason),
                    refund_attempt: true,
                    ..AttemptRecord::default()
                },
            )?;
            if outbox::pause_profile(tx, op.profile_id, reason, ctx.now_ms)? {
                store::events::append(
                    tx,
                    &EventInsert {
                        at_ms: ctx.now_ms,
                        actor: ctx.actor,
                        action: "profile.paused",
                        entity: "profile",
                        entity_id: op.profile_id.0,
                        payment_id: None,
                        before: Some(json!({"paused_reason": null})),
                        after: Some(json!({"paused_reason": reason})),
                    },
                )?;
            }
            recorded.paused = Some(reason.clone());
            recorded.view.detail = reason.clone();
        }
        SendOutcome::RetryLater {
            reason,
            retry_after_ms,
            offline: true,
            ..
        } => {
            let wait = retry_after_ms
                .unwrap_or(ctx.offline_retry_ms)
                .max(ctx.offline_retry_ms);
            // Due at once: the running worker paces its probes itself, and the next
            // `daftar sync` after the network is back should not wait.
            finish(
                tx,
                ctx,
                op,
                OperationStatus::Queued,
                &AttemptRecord {
                    last_error: Some(reason),
                    next_attempt_at_ms: None,
                    refund_attempt: true,
                    ..AttemptRecord::default()
                },
            )?;
            recorded.offline = true;
            recorded.view.detail = reason.clone();
            recorded.view.retry_in_ms = Some(wait);
        }
        SendOutcome::RetryLater {
            reason,
            retry_after_ms,
            throttled: true,
            ..
        } => {
            let wait = backoff::delay_ms(op.attempt, *retry_after_ms, ctx.random);
            finish(
                tx,
                ctx,
                op,
                OperationStatus::Queued,
                &AttemptRecord {
                    last_error: Some(reason),
                    next_attempt_at_ms: Some(ctx.now_ms + wait as i64),
                    refund_attempt: true,
                    ..AttemptRecord::default()
                },
            )?;
            event(
                tx,
                ctx,
                op,
                "operation.throttled",
                in_flight,
                json!({"status": OperationStatus::Queued, "reason": reason, "retry_in_ms": wait}),
            )?;
            recorded.view.detail = reason.clone();
            recorded.view.retry_in_ms = Some(wait);
        }
        SendOutcome::RetryLater {
            reason,
            retry_after_ms,
            ..
        } => {
            unknown(tx, ctx, op, reason, None, *retry_after_ms, &mut recorded)?;
        }
        SendOutcome::Unknown { reason, raw } => {
            unknown(tx, ctx, op, reason, Some(raw), None, &mut recorded)?;
        }
    }
    Ok(recorded)
}

/// An attempt whose outcome is unknown: resend with the same key after a backoff, until
/// the attempts limit makes it need the merchant's attention.
fn unknown(
    tx: &Transaction<'_>,
    ctx: &RecordContext<'_>,
    op: &Claimed,
    reason: &str,
    raw: Option<&str>,
    retry_after_ms: Option<u64>,
    recorded: &mut Recorded,
) -> Result<()> {
    let in_flight = json!({"status": OperationStatus::InFlight, "attempt": op.attempt});
    recorded.view.detail = reason.to_string();
    if op.attempt >= ctx.max_unknown_attempts {
        let why = format!(
            "outcome unknown after {} attempts (last: {reason}); `daftar queue resend` sends it again with the same key (safe), or check Ottu and `queue retry --confirm-not-applied`",
            op.attempt
        );
        finish(
            tx,
            ctx,
            op,
            OperationStatus::NeedsAttention,
            &AttemptRecord {
                sent: true,
                last_error: Some(&why),
                reply_json: raw,
                ..AttemptRecord::default()
            },
        )?;
        event(
            tx,
            ctx,
            op,
            "operation.needs_attention",
            in_flight,
            json!({"status": OperationStatus::NeedsAttention, "reason": why}),
        )?;
        recorded.blocked = block_later(tx, ctx, op, "has an unknown outcome")?;
        recorded.view.status = OperationStatus::NeedsAttention;
        recorded.view.detail = why;
        return Ok(());
    }
    let wait = backoff::delay_ms(op.attempt, retry_after_ms, ctx.random);
    finish(
        tx,
        ctx,
        op,
        OperationStatus::Queued,
        &AttemptRecord {
            sent: true,
            last_error: Some(reason),
            reply_json: raw,
            next_attempt_at_ms: Some(ctx.now_ms + wait as i64),
            ..AttemptRecord::default()
        },
    )?;
    event(
        tx,
        ctx,
        op,
        "operation.retry_scheduled",
        in_flight,
        json!({"status": OperationStatus::Queued, "reason": reason, "retry_in_ms": wait}),
    )?;
    recorded.view.retry_in_ms = Some(wait);
    Ok(())
}

/// Events for operations queued again after a stopped run.
pub fn recovered_events(
    tx: &Transaction<'_>,
    now_ms: i64,
    actor: &str,
    ids: &[(OperationId, PaymentId)],
) -> Result<()> {
    for (id, payment) in ids {
        store::events::append(
            tx,
            &EventInsert {
                at_ms: now_ms,
                actor,
                action: "operation.recovered",
                entity: "operation",
                entity_id: id.0,
                payment_id: Some(*payment),
                before: Some(json!({"status": OperationStatus::InFlight})),
                after: Some(
                    json!({"status": OperationStatus::Queued, "reason": "outcome unknown after a stopped sync; resent with the same tracking key"}),
                ),
            },
        )?;
    }
    Ok(())
}
