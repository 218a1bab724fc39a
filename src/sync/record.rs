//! Recording what Ottu answered: each finished attempt becomes one status change on its
//! operation, the child Ottu created, the parent's new state, and their events, all in
//! the caller's transaction.

use rusqlite::Transaction;
use serde_json::json;

use super::outcome::{ChildReport, ReplyFacts, SendOutcome};
use super::{OperationOutcomeView, backoff};
use crate::error::stored::Stored;
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
    /// The profile was paused with this reason (stored: Ottu refused the credential).
    pub paused: Option<String>,
    /// The profile cannot be served in this run (not Ottu's answer, no credential on this
    /// machine): held for the rest of the run with this reason, nothing stored.
    pub held: Option<String>,
    /// Ottu was unreachable: stop claiming for a while.
    pub offline: bool,
    pub blocked: u64,
    /// Not sent for a condition of this process (the ledger unreadable): says nothing
    /// about the profile's connection.
    pub local: bool,
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
            SessionId::parse(&format!(
                "{}{}",
                store::children::UNREPORTED_PREFIX,
                op.tracking_key
            ))
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
    refused: Option<&str>,
) -> Result<u64> {
    let stored = Stored::held(op.id.0, refused);
    let reason = stored.message();
    let held = outbox::block_after(tx, op.id, &reason, ctx.now_ms)?;
    for id in &held {
        store::stored::set_last_error(tx, *id, &stored)?;
        append(
            tx,
            ctx,
            op,
            "operation",
            id.0,
            "operation.blocked",
            json!({"status": OperationStatus::Queued}),
            with_code(
                json!({"status": OperationStatus::Blocked, "held_by": op.id, "reason": reason}),
                &stored,
            ),
        )?;
    }
    Ok(held.len() as u64)
}

/// An event's `after` with the stored failure's code and params beside its `reason` (the
/// English text stays for readers of older events).
fn with_code(mut after: serde_json::Value, stored: &Stored) -> serde_json::Value {
    if let Some(map) = after.as_object_mut() {
        let (code, params) = stored.event_fields();
        map.insert("code".into(), code);
        map.insert("params".into(), params);
    }
    after
}

/// Why a success does not match the request it answers, if it does not: another
/// operation or payment, another currency, another amount than was asked, or more than the
/// operation had reserved (which would take a balance past what was paid).
///
/// Such a reply is not recorded as a success: its outcome is unknown. It goes straight to
/// `needs_attention` (not back to the queue): Ottu answers a resend with the same
/// Tracking-Key with the original's result, so a resend would bring back the same reply,
/// and resending it ten times over hours would only delay the merchant's look at it.
fn mismatch(op: &Claimed, facts: &ReplyFacts, child: Option<&ChildReport>) -> Option<String> {
    let differs = |said: &Option<String>, ours: &str| {
        said.as_deref()
            .map(str::trim)
            .is_some_and(|said| !said.is_empty() && said != ours)
    };
    if differs(&facts.operation, op.kind.as_str()) {
        return Some(format!(
            "the success names operation '{}', but a {} was sent",
            facts.operation.as_deref().unwrap_or_default(),
            op.kind
        ));
    }
    if differs(&facts.session_id, op.session_id.as_str()) {
        return Some(format!(
            "the success names payment session_id '{}', but {} was sent",
            facts.session_id.as_deref().unwrap_or_default(),
            op.session_id
        ));
    }
    if let Some(ours) = &op.order_no
        && differs(&facts.order_no, ours.as_str())
    {
        return Some(format!(
            "the success names order_no '{}', but the payment's is {ours}",
            facts.order_no.as_deref().unwrap_or_default()
        ));
    }
    if !op.kind.is_external() {
        return None;
    }
    let currency = op.reserved.currency();
    if let Some(code) = child.and_then(|c| c.currency.as_deref())
        && code != currency.code()
    {
        return Some(format!(
            "the child transaction is in {code}, but the payment is in {currency}"
        ));
    }
    let amounts = [
        ("amount", facts.amount.as_deref()),
        ("child amount", child.and_then(|c| c.amount.as_deref())),
    ];
    for (what, said) in amounts {
        let Some(said) = said else { continue };
        let amount = match Amount::parse(said.trim(), currency) {
            Ok(amount) if amount.is_positive() => amount,
            _ => {
                return Some(format!(
                    "the success's {what} '{said}' is not a positive amount in {currency}"
                ));
            }
        };
        match op.requested {
            Some(asked) if amount != asked => {
                return Some(format!(
                    "the success's {what} is {amount} {currency}, but {asked} {currency} was asked"
                ));
            }
            _ if amount.minor() > op.reserved.minor() => {
                return Some(format!(
                    "the success's {what} is {amount} {currency}, more than the {} {currency} this {} could take",
                    op.reserved, op.kind
                ));
            }
            _ => {}
        }
    }
    None
}

impl Recorded {
    /// An attempt of `op` that left it queued, with nothing more to say yet.
    pub(super) fn queued(op: &Claimed) -> Recorded {
        Recorded {
            view: OperationOutcomeView {
                id: op.id.0,
                kind: op.kind,
                session_id: op.session_id.to_string(),
                profile: op.profile.to_string(),
                attempt: op.attempt,
                status: OperationStatus::Queued,
                detail: String::new(),
                code: None,
                params: None,
                retry_in_ms: None,
            },
            paused: None,
            held: None,
            offline: false,
            blocked: 0,
            local: false,
        }
    }
}

/// Back to the queue with the attempt given back (it reached no verdict), the reason
/// stored as its code and params, due at `next_attempt_at_ms` (at once when `None`).
pub(super) fn requeue(
    tx: &Transaction<'_>,
    ctx: &RecordContext<'_>,
    op: &Claimed,
    reason: &str,
    stored: &Stored,
    next_attempt_at_ms: Option<i64>,
) -> Result<()> {
    finish(
        tx,
        ctx,
        op,
        OperationStatus::Queued,
        &AttemptRecord {
            last_error: Some(reason),
            next_attempt_at_ms,
            refund_attempt: true,
            ..AttemptRecord::default()
        },
    )?;
    store::stored::set_last_error(tx, op.id, stored)?;
    Ok(())
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
        }
        .with("id", op.id.0));
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
    let mut recorded = Recorded::queued(op);
    let mismatched = match outcome {
        SendOutcome::Succeeded { facts, child, .. } => mismatch(op, facts, child.as_ref()),
        _ => None,
    };
    match outcome {
        SendOutcome::Succeeded { raw, .. } if mismatched.is_some() => {
            let why = Stored::mismatch(mismatched.as_deref().unwrap_or_default());
            needs_attention(tx, ctx, op, &why, Some(raw), &mut recorded)?;
        }
        SendOutcome::Succeeded {
            detail,
            reference_number,
            child,
            raw,
            ..
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
            let stored = Stored::detail("ottu.refused", reason);
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
            store::stored::set_last_error(tx, op.id, &stored)?;
            coded(&mut recorded.view, &stored);
            event(
                tx,
                ctx,
                op,
                "operation.failed",
                in_flight,
                with_code(
                    json!({"status": OperationStatus::Failed, "reason": reason}),
                    &stored,
                ),
            )?;
            recorded.blocked = block_later(tx, ctx, op, Some(reason))?;
            recorded.view.status = OperationStatus::Failed;
            recorded.view.detail = reason.clone();
        }
        SendOutcome::Auth {
            status,
            detail,
            permission,
        } => {
            let stored = Stored::auth(*status, detail, permission.as_deref());
            let reason = &stored.message();
            // Nothing was applied: the operation waits, its attempt not counted.
            requeue(tx, ctx, op, reason, &stored, None)?;
            coded(&mut recorded.view, &stored);
            if outbox::pause_profile(tx, op.profile_id, reason, ctx.now_ms)? {
                store::stored::set_pause(tx, op.profile_id, &stored)?;
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
                        after: Some(with_code(json!({"paused_reason": reason}), &stored)),
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
            let stored = Stored::detail("ottu.offline", reason);
            // Due at once: the running worker paces its probes itself, and the next
            // `daftar sync` after the network is back should not wait.
            requeue(tx, ctx, op, reason, &stored, None)?;
            coded(&mut recorded.view, &stored);
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
            let stored = Stored::detail("ottu.throttled", reason);
            requeue(tx, ctx, op, reason, &stored, Some(ctx.now_ms + wait as i64))?;
            coded(&mut recorded.view, &stored);
            event(
                tx,
                ctx,
                op,
                "operation.throttled",
                in_flight,
                with_code(
                    json!({"status": OperationStatus::Queued, "reason": reason, "retry_in_ms": wait}),
                    &stored,
                ),
            )?;
            recorded.view.detail = reason.clone();
            recorded.view.retry_in_ms = Some(wait);
        }
        SendOutcome::RetryLater {
            reason,
            retry_after_ms,
            raw,
            ..
        } => {
            let raw = Some(raw.as_str()).filter(|r| !r.is_empty());
            unknown(tx, ctx, op, reason, raw, *retry_after_ms, &mut recorded)?;
        }
        SendOutcome::Unknown { reason, raw } => {
            unknown(tx, ctx, op, reason, Some(raw), None, &mut recorded)?;
        }
        SendOutcome::NotOttu { reason, raw } => {
            let stored = Stored::not_ottu(op.profile.as_str(), &op.base_url, reason);
            not_sent(tx, ctx, op, &stored, Some(raw), &mut recorded)?;
        }
        SendOutcome::CannotSend { reason } => {
            let stored = Stored::detail("sync.cannot_send", reason);
            not_sent(tx, ctx, op, &stored, None, &mut recorded)?;
        }
        SendOutcome::LedgerUnreadable { reason } => {
            let stored = Stored::detail("sync.cannot_send", reason);
            not_sent(tx, ctx, op, &stored, None, &mut recorded)?;
            recorded.held = None;
            recorded.local = true;
        }
    }
    Ok(recorded)
}

/// Nothing reached Ottu's operation endpoint: the operation goes back to the queue, due
/// at once, its attempt given back and not marked sent; the profile is held for the rest
/// of this run. Nothing is stored about the profile: the next run looks again.
fn not_sent(
    tx: &Transaction<'_>,
    ctx: &RecordContext<'_>,
    op: &Claimed,
    stored: &Stored,
    raw: Option<&str>,
    recorded: &mut Recorded,
) -> Result<()> {
    let reason = &stored.message();
    finish(
        tx,
        ctx,
        op,
        OperationStatus::Queued,
        &AttemptRecord {
            last_error: Some(reason),
            reply_json: raw,
            next_attempt_at_ms: None,
            refund_attempt: true,
            ..AttemptRecord::default()
        },
    )?;
    store::stored::set_last_error(tx, op.id, stored)?;
    coded(&mut recorded.view, stored);
    event(
        tx,
        ctx,
        op,
        "operation.not_sent",
        json!({"status": OperationStatus::InFlight, "attempt": op.attempt}),
        with_code(
            json!({"status": OperationStatus::Queued, "reason": reason}),
            stored,
        ),
    )?;
    recorded.held = Some(reason.to_string());
    recorded.view.detail = reason.to_string();
    Ok(())
}

/// An outcome nobody can tell by resending: the merchant must look (the raw reply kept).
fn needs_attention(
    tx: &Transaction<'_>,
    ctx: &RecordContext<'_>,
    op: &Claimed,
    stored: &Stored,
    raw: Option<&str>,
    recorded: &mut Recorded,
) -> Result<()> {
    let why = &stored.message();
    finish(
        tx,
        ctx,
        op,
        OperationStatus::NeedsAttention,
        &AttemptRecord {
            sent: true,
            last_error: Some(why),
            reply_json: raw,
            ..AttemptRecord::default()
        },
    )?;
    store::stored::set_last_error(tx, op.id, stored)?;
    coded(&mut recorded.view, stored);
    event(
        tx,
        ctx,
        op,
        "operation.needs_attention",
        json!({"status": OperationStatus::InFlight, "attempt": op.attempt}),
        with_code(
            json!({"status": OperationStatus::NeedsAttention, "reason": why}),
            stored,
        ),
    )?;
    recorded.blocked = block_later(tx, ctx, op, None)?;
    recorded.view.status = OperationStatus::NeedsAttention;
    recorded.view.detail = why.to_string();
    Ok(())
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
        let why = Stored::unresolved(op.attempt, reason);
        return needs_attention(tx, ctx, op, &why, raw, recorded);
    }
    let stored = Stored::detail("ottu.unknown_outcome", reason);
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
    store::stored::set_last_error(tx, op.id, &stored)?;
    coded(&mut recorded.view, &stored);
    event(
        tx,
        ctx,
        op,
        "operation.retry_scheduled",
        in_flight,
        with_code(
            json!({"status": OperationStatus::Queued, "reason": reason, "retry_in_ms": wait}),
            &stored,
        ),
    )?;
    recorded.view.retry_in_ms = Some(wait);
    Ok(())
}

/// The view carries the code and params stored with the operation's last error.
pub(super) fn coded(view: &mut OperationOutcomeView, stored: &Stored) {
    view.code = Some(stored.code.to_string());
    view.params = Some(stored.params.clone());
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
                    json!({"status": OperationStatus::Queued, "reason": "outcome unknown after a stopped sync; resent with the same tracking key", "code": "sync.interrupted", "params": {}}),
                ),
            },
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::ottu::auth_message;
    use crate::store::outbox::OTTU_PAUSE_PREFIX;

    /// `outbox::lift_local_pauses` keeps exactly the pauses whose reason is Ottu's answer:
    /// every reason a 401/403 stores must start with the prefix it looks for.
    #[test]
    fn every_auth_pause_reason_is_recognised_as_ottus() {
        for (status, permission) in [(401, None), (403, None), (403, Some("payment.refund"))] {
            let reason = auth_message(status, "detail", permission);
            assert!(reason.starts_with(OTTU_PAUSE_PREFIX), "{reason}");
        }
    }
}
