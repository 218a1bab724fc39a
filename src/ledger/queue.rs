//! The queue: validate an operation against the rules and the current balances, then
//! queue it with a fresh tracking key, all under the write lock (`BEGIN IMMEDIATE`), so
//! two processes can never both spend the same refundable amount.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use serde::{Deserialize, Serialize};
use serde_json::json;
use ts_rs::TS;

use super::{
    Ledger, OperationActions, OperationPage, OperationView, PaymentLookup, QueuedView,
    StatusReport, balances, find_payment, ledger_facts, payment_facts,
};
use crate::error::{Error, FieldContext, Result};
use crate::limits::{DEFAULT_PAGE_ROWS, MAX_REASON_CHARS};
use crate::model::{Operation, OperationId, OperationKind, OperationStatus, Payment, PaymentId};
use crate::money::Amount;
use crate::rules;
use crate::store::{self, EventInsert, OperationFilter, OperationInsert};

/// `queue KIND ...`, as the user's text (the facade checks it).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(optional_fields = nullable)]
pub struct QueueRequest {
    /// An operation word: `refund`, `capture`, `void`, `cancel`, `expire` or `delete`.
    pub kind: String,
    pub payment: PaymentLookup,
    /// A decimal in the payment's currency; `None` = the full or remaining amount.
    pub amount: Option<String>,
    pub reason: Option<String>,
}

/// `queue list` filters and page, as the user's text (the facade checks it).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default)]
#[ts(optional_fields = nullable)]
pub struct QueueQuery {
    /// An operation status word, e.g. `queued`.
    pub status: Option<String>,
    /// The previous page's `next_cursor`: this page starts after it.
    pub after: Option<String>,
    /// Rows in the page: 1 to [`MAX_PAGE_ROWS`](crate::limits::MAX_PAGE_ROWS), default
    /// [`DEFAULT_PAGE_ROWS`]; checked by the same rule as `payment list`.
    pub limit: Option<i64>,
}

fn check_reason(reason: Option<&str>) -> Result<Option<&str>> {
    match reason {
        Some(r) if r.chars().count() > MAX_REASON_CHARS => Err(Error::invalid(
            "reason",
            "reason.too_long",
            format!(
                "the reason is {} characters long: at most {MAX_REASON_CHARS} are allowed",
                r.chars().count()
            ),
        )
        .with("length", r.chars().count())
        .with("max_length", MAX_REASON_CHARS)),
        Some(r) if r.chars().any(char::is_control) => Err(Error::invalid(
            "reason",
            "reason.bad_character",
            "the reason contains a control character: use plain text on one line",
        )),
        Some(r) if r.trim().is_empty() => Ok(None),
        other => Ok(other),
    }
}

impl Ledger {
    /// Validates and queues one operation; returns it with the payment's balances after.
    pub fn queue(&mut self, request: &QueueRequest) -> Result<QueuedView> {
        let kind = request.kind.parse::<OperationKind>().field("operation")?;
        let reason = check_reason(request.reason.as_deref())?;
        let now_ms = self.clock.now_ms();
        let tracking_key = self.keys.tracking_key();
        let actor = self.actor.clone();
        self.store.write(|tx| {
            let (payment, requested, reserved) = validate(tx, kind, request)?;
            let id = store::operations::insert(
                tx,
                &OperationInsert {
                    payment_id: payment.id,
                    kind,
                    requested,
                    reserved,
                    tracking_key,
                    reason,
                    requested_by: &actor,
                    now_ms,
                    seq: None,
                    retry_of: None,
                },
            )?;
            store::events::append(
                tx,
                &EventInsert {
                    at_ms: now_ms,
                    actor: &actor,
                    action: "operation.queued",
                    entity: "operation",
                    entity_id: id.0,
                    payment_id: Some(payment.id),
                    before: None,
                    after: Some(json!({
                        "kind": kind,
                        "amount": kind.is_external().then(|| reserved.to_string()),
                        "requested_amount": requested.map(|a| a.to_string()),
                        "tracking_key": tracking_key,
                        "status": OperationStatus::Queued,
                        "reason": reason,
                    })),
                },
            )?;
            let operation = store::operations::by_id(tx, id)?.ok_or_else(|| not_found(id))?;
            let after = balances(tx, &payment)?;
            // The reservation just written must count as pending, or the next operation
            // could spend the same money again: checked in release builds too, and the
            // whole write rolls back if the store's sums and the rules disagree. (It
            // replaces a debug_assert of `refunded + pending >= 0`, which sums of positive
            // amounts always pass.)
            if after.pending.minor() < reserved.minor() {
                return Err(Error::Invariant {
                    what: format!(
                        "operation {id} reserves {} but the payment's pending balance is {}",
                        reserved.display_with_currency(),
                        after.pending.display_with_currency()
                    ),
                });
            }
            Ok(QueuedView {
                operation: operation_view(tx, &operation, &payment, now_ms)?,
                balances: after.view(),
            })
        })
    }

    /// What queueing would do, without queueing: the amount it would reserve, or the
    /// refusal. The UI asks this instead of deciding itself.
    pub fn preview(&mut self, request: &QueueRequest) -> Result<Option<String>> {
        let kind = request.kind.parse::<OperationKind>().field("operation")?;
        self.store.read(|tx| {
            let (_, _, reserved) = validate(tx, kind, request)?;
            Ok(kind.is_external().then(|| reserved.to_string()))
        })
    }

    /// One page of operations in queue order (oldest first), by keyset on the id: the
    /// same cost at any depth, and operations queued meanwhile come after the cursor, so
    /// none is returned twice or skipped.
    pub fn queue_list(&mut self, query: &QueueQuery) -> Result<OperationPage> {
        let status = query
            .status
            .as_deref()
            .map(str::parse::<OperationStatus>)
            .transpose()
            .field("status")?;
        let limit = super::payments::check_limit(query.limit, DEFAULT_PAGE_ROWS)?;
        let after = query
            .after
            .as_deref()
            .map(|c| super::payments::decode_cursor::<1>(super::payments::OPERATION_CURSOR_TAG, c))
            .transpose()?
            .map(|[id]| OperationId(id));
        let now_ms = self.clock.now_ms();
        self.store.read(|tx| {
            let mut filter = OperationFilter {
                status,
                after,
                // One more than the page: whether there is a next page, without a count.
                limit: limit + 1,
            };
            let mut operations = store::operations::list(tx, &filter)?;
            let next_cursor = if operations.len() > limit as usize {
                operations.truncate(limit as usize);
                operations.last().map(|op| {
                    super::payments::encode_cursor(
                        super::payments::OPERATION_CURSOR_TAG,
                        &[op.id.0],
                    )
                })
            } else {
                None
            };
            filter.after = None;
            let total = store::operations::count(tx, &filter)?;
            let mut payments: HashMap<PaymentId, Payment> = HashMap::new();
            let mut views = Vec::with_capacity(operations.len());
            for op in &operations {
                let payment = match payments.entry(op.payment_id) {
                    Entry::Occupied(e) => e.into_mut(),
                    Entry::Vacant(e) => e.insert(store::payments::by_id(tx, op.payment_id)?),
                };
                views.push(operation_view(tx, op, payment, now_ms)?);
            }
            Ok(OperationPage {
                operations: views,
                next_cursor,
                total,
            })
        })
    }

    /// Drops an operation that was never sent: it stays in the ledger as `dropped`, and
    /// its reservation is released.
    pub fn drop_operation(&mut self, id: i64, reason: Option<&str>) -> Result<OperationView> {
        let reason = check_reason(reason)?;
        let id = OperationId(id);
        let now_ms = self.clock.now_ms();
        let actor = self.actor.clone();
        self.store.write(|tx| {
            let op = store::operations::by_id(tx, id)?.ok_or_else(|| not_found(id))?;
            if !op.status.is_droppable()
                || op.sent
                || !store::operations::transition(
                    tx,
                    id,
                    op.status,
                    OperationStatus::Dropped,
                    now_ms,
                )?
            {
                return Err(Error::NotDroppable {
                    id: id.0,
                    status: op.status.to_string(),
                });
            }
            store::events::append(
                tx,
                &EventInsert {
                    at_ms: now_ms,
                    actor: &actor,
                    action: "operation.dropped",
                    entity: "operation",
                    entity_id: id.0,
                    payment_id: Some(op.payment_id),
                    before: Some(json!({"status": op.status})),
                    after: Some(json!({"status": OperationStatus::Dropped, "reason": reason})),
                },
            )?;
            let op = store::operations::by_id(tx, id)?.ok_or_else(|| not_found(id))?;
            let payment = store::payments::by_id(tx, op.payment_id)?;
            operation_view(tx, &op, &payment, now_ms)
        })
    }

    /// Replaces a failed, blocked or unresolved operation with a new one (new tracking
    /// key, same place in the payment's order). For a failed or unresolved one the
    /// merchant must confirm that it did not take effect at Ottu, and say why; the
    /// replacement is checked against the rules again.
    pub fn retry_operation(&mut self, request: &RetryRequest) -> Result<QueuedView> {
        let reason = check_reason(request.reason.as_deref())?;
        let id = OperationId(request.id);
        let now_ms = self.clock.now_ms();
        let tracking_key = self.keys.tracking_key();
        let actor = self.actor.clone();
        self.store.write(|tx| {
            let original = store::operations::by_id(tx, id)?.ok_or_else(|| not_found(id))?;
            if !original.status.is_retryable() {
                return Err(Error::NotRetryable {
                    id: id.0,
                    status: original.status.to_string(),
                });
            }
            if let Some(by) = store::operations::replacement(tx, id)? {
                return Err(Error::AlreadyRetried { id: id.0, by: by.0 });
            }
            // A blocked operation may have been sent before it was held.
            let was_sent = original.sent || original.status != OperationStatus::Blocked;
            if was_sent && !request.confirm_not_applied {
                return Err(Error::invalid(
                    "confirm",
                    "retry.unconfirmed",
                    format!(
                        "operation {id} was sent to Ottu: retrying it needs your confirmation that Ottu shows it did not take effect, and a reason"
                    ),
                )
                .with("id", id.0));
            }
            if was_sent && reason.is_none() {
                return Err(Error::invalid(
                    "reason",
                    "retry.reason_missing",
                    format!("operation {id} was sent to Ottu: retrying it needs a reason (why it is safe, e.g. what Ottu's dashboard shows)"),
                )
                .with("id", id.0));
            }
            self_retry(tx, &original, reason, tracking_key, &actor, now_ms)
        })
    }

    /// Sends an unresolved (`needs_attention`) operation again with its own tracking key:
    /// whether or not it took effect, Ottu answers a repeat with the original's result, so
    /// this never acts twice. What waited behind it waits for that answer again.
    pub fn resend_operation(&mut self, id: i64) -> Result<OperationView> {
        let id = OperationId(id);
        let now_ms = self.clock.now_ms();
        let actor = self.actor.clone();
        self.store.write(|tx| {
            let op = store::operations::by_id(tx, id)?.ok_or_else(|| not_found(id))?;
            if !store::outbox::resend(tx, id, now_ms)? {
                return Err(Error::NotResendable {
                    id: id.0,
                    status: op.status.to_string(),
                });
            }
            let event = |action: &str, entity_id: i64, before, after| {
                store::events::append(
                    tx,
                    &EventInsert {
                        at_ms: now_ms,
                        actor: &actor,
                        action,
                        entity: "operation",
                        entity_id,
                        payment_id: Some(op.payment_id),
                        before: Some(before),
                        after: Some(after),
                    },
                )
            };
            event(
                "operation.resent",
                id.0,
                json!({"status": op.status}),
                json!({"status": OperationStatus::Queued, "tracking_key": op.tracking_key}),
            )?;
            // Held only because of it: they wait behind it in order again.
            for released in store::outbox::unblock_held_by(tx, id, now_ms)? {
                event(
                    "operation.released",
                    released.0,
                    json!({"status": OperationStatus::Blocked}),
                    json!({"status": OperationStatus::Queued, "after_resend_of": id}),
                )?;
            }
            let op = store::operations::by_id(tx, id)?.ok_or_else(|| not_found(id))?;
            let payment = store::payments::by_id(tx, op.payment_id)?;
            operation_view(tx, &op, &payment, now_ms)
        })
    }

    pub fn status(&mut self) -> Result<StatusReport> {
        self.store.read(|tx| {
            let (total, counts) = store::operations::status_counts(tx)?;
            let mut profiles: std::collections::BTreeMap<String, super::ProfileStatus> = counts
                .into_iter()
                .map(|(name, counts)| {
                    (
                        name,
                        super::ProfileStatus {
                            counts,
                            ..super::ProfileStatus::default()
                        },
                    )
                })
                .collect();
            let mut paused = Vec::new();
            for p in store::outbox::paused_profiles(tx, None)? {
                let since = p.since_ms.map(crate::sources::format_ms);
                profiles.entry(p.name.clone()).or_default().paused = Some(super::PauseView {
                    reason: p.reason.clone(),
                    since: since.clone(),
                });
                paused.push(crate::sync::PausedProfileView {
                    profile: p.name,
                    reason: p.reason,
                    since,
                    queued: p.waiting,
                    this_run_only: false,
                });
            }
            // Queue age: how long the oldest waiting operation of each profile has waited.
            let now_ms = self.clock.now_ms();
            let age = |at: i64| now_ms.saturating_sub(at).max(0) as u64;
            let mut oldest: Option<i64> = None;
            for q in store::outbox::queue_by_profile(tx, None)? {
                if let Some(at) = q.oldest_queued_at_ms {
                    oldest = Some(oldest.map_or(at, |o| o.min(at)));
                    let entry = profiles.entry(q.name).or_default();
                    entry.oldest_queued_at = Some(crate::sources::format_ms(at));
                    entry.oldest_queued_age_ms = Some(age(at));
                }
            }
            Ok(StatusReport {
                total,
                profiles,
                paused,
                oldest_queued_age_ms: oldest.map(age),
            })
        })
    }
}

/// The one validation `queue` and `preview` share: the payment, the amount parsed in its
/// currency, and what the rules let it reserve against the current balances.
fn validate(
    tx: &rusqlite::Transaction<'_>,
    kind: OperationKind,
    request: &QueueRequest,
) -> Result<(Payment, Option<Amount>, Amount)> {
    let payment = find_payment(tx, &request.payment)?;
    let requested = request
        .amount
        .as_deref()
        .map(|a| Amount::parse_positive(a, payment.amount.currency()))
        .transpose()
        .field("amount")?;
    let facts = ledger_facts(tx, &payment)?;
    let reserved = decide(kind, requested, &payment, &facts)?;
    Ok((payment, requested, reserved))
}

/// The rules' decision on one request against facts already read: what [`validate`] asks,
/// and what [`Ledger::payment_actions`] asks for every kind at once, so a button the app
/// offers is exactly an operation `queue` takes.
pub(super) fn decide(
    kind: OperationKind,
    requested: Option<Amount>,
    payment: &Payment,
    facts: &rules::LedgerFacts,
) -> Result<Amount> {
    Ok(rules::check(
        kind,
        requested,
        &payment_facts(payment),
        facts,
    )?)
}

/// The view of `op` with what may be done with it ([`operation_actions`]).
pub(super) fn operation_view(
    tx: &rusqlite::Transaction<'_>,
    op: &Operation,
    payment: &Payment,
    now_ms: i64,
) -> Result<OperationView> {
    Ok(OperationView::new(
        op,
        payment,
        now_ms,
        operation_actions(tx, op, payment)?,
    ))
}

/// What `retry_operation`, `resend_operation` and `drop_operation` would do with `op`,
/// by their own checks (tests/queue_actions.rs holds each to the call's result).
pub(super) fn operation_actions(
    tx: &rusqlite::Transaction<'_>,
    op: &Operation,
    payment: &Payment,
) -> Result<OperationActions> {
    // drop_operation: droppable status, never sent (the transition then succeeds).
    let drop = op.status.is_droppable() && !op.sent;
    // resend_operation: store::outbox::resend takes only an unresolved one.
    let resend = op.status == OperationStatus::NeedsAttention;
    // retry_operation: retryable, not replaced yet, and the replacement passes the rules
    // with the original retired (it stops reserving, as self_retry makes it).
    let retry =
        op.status.is_retryable() && store::operations::replacement(tx, op.id)?.is_none() && {
            let mut facts = ledger_facts(tx, payment)?;
            if op.status.reserves_balance() {
                store::operations::remove_fact(op.kind, op.reserved.minor(), &mut facts);
            }
            rules::check(op.kind, op.requested, &payment_facts(payment), &facts).is_ok()
        };
    // Same test as retry_operation's `was_sent`.
    let retry_needs_confirmation = retry && (op.sent || op.status != OperationStatus::Blocked);
    Ok(OperationActions {
        retry,
        retry_needs_confirmation,
        resend,
        drop,
    })
}

fn not_found(id: OperationId) -> Error {
    Error::NotFound {
        what: "operation",
        field: "id",
        key: id.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::check_reason;

    #[test]
    fn reasons_are_bounded_single_line_text() {
        assert_eq!(
            check_reason(Some("customer returned it")).unwrap(),
            Some("customer returned it")
        );
        assert_eq!(check_reason(Some("   ")).unwrap(), None);
        assert!(check_reason(Some("a\nb")).is_err());
        assert!(check_reason(Some(&"x".repeat(501))).is_err());
    }
}

/// `queue retry ID`, as given.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(optional_fields = nullable)]
pub struct RetryRequest {
    pub id: i64,
    /// The merchant checked at Ottu that the original did not take effect.
    pub confirm_not_applied: bool,
    pub reason: Option<String>,
}

fn self_retry(
    tx: &rusqlite::Transaction<'_>,
    original: &crate::model::Operation,
    reason: Option<&str>,
    tracking_key: crate::model::TrackingKey,
    actor: &str,
    now_ms: i64,
) -> Result<QueuedView> {
    let id = original.id;
    // The original stops counting: a blocked one was never sent (dropped), an unresolved
    // one is now known not to have taken effect (failed).
    let retired = match original.status {
        OperationStatus::Blocked => OperationStatus::Dropped,
        OperationStatus::NeedsAttention => OperationStatus::Failed,
        other => other,
    };
    if retired != original.status {
        store::operations::transition(tx, id, original.status, retired, now_ms)?;
    }
    if let Some(reason) = reason.filter(|_| original.status != OperationStatus::Blocked) {
        store::operations::set_last_error(
            tx,
            id,
            &format!("retried: the merchant confirmed it did not take effect ({reason})"),
            now_ms,
        )?;
    }
    let payment = store::payments::by_id(tx, original.payment_id)?;
    let facts = ledger_facts(tx, &payment)?;
    let reserved = rules::check(
        original.kind,
        original.requested,
        &payment_facts(&payment),
        &facts,
    )?;
    let seq = store::operations::seq(tx, id)?;
    let new_id = store::operations::insert(
        tx,
        &OperationInsert {
            payment_id: payment.id,
            kind: original.kind,
            requested: original.requested,
            reserved,
            tracking_key,
            reason: reason.or(original.reason.as_deref()),
            requested_by: actor,
            now_ms,
            seq: Some(seq),
            retry_of: Some(id),
        },
    )?;
    let event = |action: &str, entity_id: i64, before, after| {
        store::events::append(
            tx,
            &EventInsert {
                at_ms: now_ms,
                actor,
                action,
                entity: "operation",
                entity_id,
                payment_id: Some(payment.id),
                before,
                after,
            },
        )
    };
    event(
        "operation.retried",
        id.0,
        Some(json!({"status": original.status})),
        Some(json!({"status": retired, "replaced_by": new_id, "reason": reason})),
    )?;
    event(
        "operation.queued",
        new_id.0,
        None,
        Some(json!({
            "kind": original.kind,
            "amount": original.kind.is_external().then(|| reserved.to_string()),
            "tracking_key": tracking_key,
            "status": OperationStatus::Queued,
            "retry_of": id,
            "reason": reason,
        })),
    )?;
    // The hold was the original's failure: what waited behind it may go now, after the retry.
    if original.status != OperationStatus::Blocked {
        for released in store::outbox::unblock_held_by(tx, id, now_ms)? {
            event(
                "operation.released",
                released.0,
                Some(json!({"status": OperationStatus::Blocked})),
                Some(json!({"status": OperationStatus::Queued, "after_retry_of": id})),
            )?;
        }
    }
    let operation = store::operations::by_id(tx, new_id)?.ok_or_else(|| not_found(new_id))?;
    Ok(QueuedView {
        operation: operation_view(tx, &operation, &payment, now_ms)?,
        balances: balances(tx, &payment)?.view(),
    })
}
