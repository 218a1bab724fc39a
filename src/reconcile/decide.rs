//! The merchant's decision on one mismatch. A mismatch never changes the ledger by itself:
//! `accept` makes the payment take the report's values (amount, currency and state;
//! the report's child rows upserted; a `report_only` payment added from its row), with a
//! `payment.reconciled` audit event; `keep` leaves the ledger as it is and records a
//! `reconcile.kept` event. Either is final: deciding twice is refused.
//!
//! An item is a snapshot of the run: if the payment changed since (another sync, an
//! import, an operation queued), accepting the old report values over it could undo that
//! change, so acceptance is refused (`reconcile.stale`) and a new run shows the truth.

use rusqlite::{OptionalExtension, Transaction, params};
use serde_json::{Value, json};

use super::Db;
use super::classify::MatchClass;
use super::views::{self, ItemRow, ReconcileDecision, ReconcileItemView, ledger_side, side_view};
use crate::error::{Error, FieldContext, Result};
use crate::ledger::Ledger;
use crate::limits::MAX_REASON_CHARS;
use crate::model::{
    ChildState, NewPayment, OperationKind, OrderNo, PaymentId, PaymentSource, PaymentState,
    ProfileId, SessionId, UnknownWord,
};
use crate::money::{Amount, Currency};
use crate::rules::{self, Balances, PaymentFacts};
use crate::store::{self, ChildInsert, EventInsert, StoreError};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Decision {
    Accept,
    Keep,
}

fn check_reason(reason: Option<&str>) -> Result<Option<String>> {
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
        other => Ok(other.map(|r| r.trim().to_string())),
    }
}

fn corrupt(what: &'static str, value: &Value) -> Error {
    Error::Store(StoreError::corrupt(what, value.to_string()))
}

fn str_of<'v>(side: &'v Value, key: &str) -> Option<&'v str> {
    side.get(key).and_then(Value::as_str)
}

/// The payment as it is now, in the terms of the item's ledger side.
fn current_side(tx: &Transaction<'_>, payment: PaymentId) -> Result<(Value, bool)> {
    let sql = format!(
        "SELECT json_object('amount_minor', p.amount_minor, 'currency', p.currency,
             'state', p.state,
             'refunded_minor', COALESCE((SELECT SUM(amount_minor) FROM children
                 WHERE payment_id = p.id AND kind = 'refund'
                   AND state IN ('refunded', 'refund_queued')), 0),
             'captured_minor', COALESCE((SELECT SUM(amount_minor) FROM children
                 WHERE payment_id = p.id AND kind = 'capture' AND state = 'paid'), 0),
             'voided_minor', COALESCE((SELECT SUM(amount_minor) FROM children
                 WHERE payment_id = p.id AND kind = 'void' AND state = 'voided'), 0),
             'unfinished', json(CASE WHEN EXISTS (SELECT 1 FROM operations
                 WHERE payment_id = p.id AND status IN {}) THEN 'true' ELSE 'false' END)),
             p.hidden
         FROM payments p WHERE p.id = ?1",
        store::operations::RESERVING_STATUSES_SQL
    );
    let (json, hidden): (String, bool) = tx
        .query_row(&sql, [payment.0], |r| Ok((r.get(0)?, r.get(1)?)))
        .db()?;
    let value = serde_json::from_str(&json)
        .map_err(|_| Error::Store(StoreError::corrupt("payment json", json)))?;
    Ok((value, hidden))
}

fn stale(item: &ItemRow, why: &str) -> Error {
    Error::refused(
        "item",
        "reconcile.stale",
        format!(
            "payment {} {why} since reconciliation {} ran: run the reconciliation again and decide on what it finds",
            item.session_id.as_deref().unwrap_or("?"),
            item.reconciliation
        ),
    )
    .with("item", item.id)
    .with("reconciliation", item.reconciliation)
}

/// Upserts the report's child rows of the payment; returns how many.
fn upsert_children(
    tx: &Transaction<'_>,
    payment: PaymentId,
    report: &Value,
    now_ms: i64,
) -> Result<usize> {
    let children = report
        .get("children")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for child in &children {
        let currency = Currency::from_code(str_of(child, "currency").unwrap_or_default())
            .map_err(|_| corrupt("report child currency", child))?;
        let session_id = SessionId::parse(str_of(child, "session_id").unwrap_or_default())
            .map_err(|_| corrupt("report child session id", child))?;
        let kind: OperationKind = str_of(child, "operation")
            .unwrap_or_default()
            .parse()
            .map_err(|_| corrupt("report child kind", child))?;
        let state = str_of(child, "state")
            .unwrap_or_default()
            .parse::<ChildState>()
            .field("state")?;
        let amount = child
            .get("amount_minor")
            .and_then(Value::as_i64)
            .ok_or_else(|| corrupt("report child amount", child))?;
        let amount = Amount::from_minor(amount, currency);
        // The child the ledger recorded without Ottu's id for our own request is this one:
        // named, not counted a second time.
        let made_at = child.get("created_at_ms").and_then(Value::as_i64);
        if let Some(u) =
            store::children::unnamed_child(tx, payment, kind, &session_id, amount, made_at)?
        {
            store::children::name_child(tx, &u, &session_id, now_ms)?;
        }
        store::children::upsert(
            tx,
            &ChildInsert {
                payment_id: payment,
                operation_id: None,
                kind,
                session_id: &session_id,
                amount,
                state,
            },
            now_ms,
        )?;
        if let Some(reference) = str_of(child, "reference_number") {
            tx.execute(
                "UPDATE children SET reference_number = ?3
                 WHERE payment_id = ?1 AND session_id = ?2 AND reference_number IS NOT ?3",
                params![payment.0, session_id.as_str(), reference],
            )
            .db()?;
        }
    }
    Ok(children.len())
}

struct Accepted {
    payment: PaymentId,
    before: Option<Value>,
    after: Value,
}

/// The report's parent values, checked as the ledger takes them.
fn report_values(report: &Value) -> Result<(Amount, PaymentState)> {
    let currency =
        Currency::from_code(str_of(report, "currency").unwrap_or_default()).field("currency")?;
    let minor = report
        .get("amount_minor")
        .and_then(Value::as_i64)
        .ok_or_else(|| corrupt("report amount", report))?;
    let state = str_of(report, "state")
        .unwrap_or_default()
        .parse::<PaymentState>()
        .field("state")?;
    Ok((Amount::from_minor(minor, currency), state))
}

fn accept(
    tx: &Transaction<'_>,
    item: &ItemRow,
    profile: ProfileId,
    now_ms: i64,
) -> Result<Accepted> {
    let report = item.report.as_ref().ok_or_else(|| Error::Invariant {
        what: format!("reconciliation item {} has no report side", item.id),
    })?;
    let (amount, state) = report_values(report)?;
    if item.class == MatchClass::ReportOnly {
        let session_id = SessionId::parse(str_of(report, "session_id").unwrap_or_default())
            .field("session_id")?;
        if store::payments::exists(tx, profile, &session_id)? {
            return Err(stale(item, "was added to the ledger"));
        }
        let payment = NewPayment {
            session_id,
            order_no: str_of(report, "order_no")
                .map(OrderNo::parse)
                .transpose()
                .field("order_no")?,
            amount,
            state,
            source: PaymentSource::Report,
            created_at_ms: report
                .get("created_at_ms")
                .and_then(Value::as_i64)
                .unwrap_or(now_ms),
            customer_email: str_of(report, "customer_email").map(str::to_string),
            customer_phone: None,
        };
        let id = store::payments::insert(tx, profile, &payment, now_ms)?;
        tx.execute(
            "UPDATE payments SET reference_number = ?2, pg_code = ?3, remote_modified_at_ms = ?4
             WHERE id = ?1",
            params![
                id.0,
                str_of(report, "reference_number"),
                str_of(report, "pg_code"),
                report.get("modified_at_ms").and_then(Value::as_i64),
            ],
        )
        .db()?;
        let children = upsert_children(tx, id, report, now_ms)?;
        return Ok(Accepted {
            payment: id,
            before: None,
            after: json!({
                "amount": amount.to_string(), "currency": amount.currency().code(),
                "state": state.as_str(), "children": children,
            }),
        });
    }
    let payment = PaymentId(item.payment_id.ok_or_else(|| Error::Invariant {
        what: format!("reconciliation item {} has no payment", item.id),
    })?);
    let recorded = item.ledger.as_ref().map(ledger_side).unwrap_or_default();
    let (now, hidden) = current_side(tx, payment)?;
    let now_side = ledger_side(&now);
    if hidden {
        return Err(stale(item, "was deleted"));
    }
    if now_side.unfinished {
        return Err(stale(item, "has an operation waiting"));
    }
    if LedgerFacts::of(&now_side) != LedgerFacts::of(&recorded) {
        return Err(stale(item, "changed"));
    }
    let children_given = report
        .get("children")
        .and_then(Value::as_array)
        .is_some_and(|c| !c.is_empty());
    if item.class == MatchClass::TotalsDiffer && !children_given {
        return Err(Error::refused(
            "item",
            "reconcile.nothing_to_accept",
            format!(
                "the report gives only totals for payment {}, not its refund, capture or void rows: there is nothing the ledger can record; keep the ledger's values, or refresh the payment from Ottu",
                item.session_id.as_deref().unwrap_or("?")
            ),
        )
        .with("item", item.id)
        .with("class", item.class.as_str()));
    }
    check_new_amount(tx, item, payment, &now_side, amount)?;
    tx.execute(
        "UPDATE payments SET amount_minor = ?2, currency = ?3, state = ?4, updated_at_ms = ?5,
             reference_number = COALESCE(?6, reference_number),
             remote_modified_at_ms = COALESCE(?7, remote_modified_at_ms)
         WHERE id = ?1
           AND (amount_minor, currency, state) IS NOT (?2, ?3, ?4)",
        params![
            payment.0,
            amount.minor(),
            amount.currency().code(),
            state.as_str(),
            now_ms,
            str_of(report, "reference_number"),
            report.get("modified_at_ms").and_then(Value::as_i64),
        ],
    )
    .db()?;
    let children = upsert_children(tx, payment, report, now_ms)?;
    Ok(Accepted {
        payment,
        before: item.ledger.as_ref().map(side_view),
        after: json!({
            "amount": amount.to_string(), "currency": amount.currency().code(),
            "state": state.as_str(), "children": children,
        }),
    })
}

/// The payment rules hold for the report's amount as for any other: its children are in
/// the ledger's currency, so the currency never changes (the report import refuses it
/// too), and the amount never drops below what the ledger already counts as captured,
/// voided, refunded or pending on it.
fn check_new_amount(
    tx: &Transaction<'_>,
    item: &ItemRow,
    payment: PaymentId,
    now: &super::classify::LedgerSide,
    amount: Amount,
) -> Result<()> {
    let session = item.session_id.as_deref().unwrap_or("?");
    if amount.currency().code() != now.currency {
        return Err(Error::refused(
            "item",
            "reconcile.currency_differs",
            format!(
                "the report has payment {session} in {} but the ledger in {}: the payment's currency never changes (its refunds, captures and voids are in {}); keep the ledger's value and correct the payment at Ottu",
                amount.currency().code(),
                now.currency,
                now.currency
            ),
        )
        .with("item", item.id)
        .with("currency", &now.currency)
        .with("report_currency", amount.currency().code()));
    }
    if amount.minor() == now.amount_minor {
        return Ok(());
    }
    let current = Amount::from_minor(now.amount_minor, amount.currency());
    let state = now.state.parse::<PaymentState>().field("state")?;
    let mut facts = rules::LedgerFacts::default();
    store::operations::add_facts(tx, payment, &mut facts)?;
    store::children::add_facts(tx, payment, &mut facts)?;
    let balances = Balances::derive(
        &PaymentFacts {
            state,
            amount: current,
            hidden: false,
        },
        &facts,
    )?;
    // What the payment's own amount must still cover: captured children plus voids, or
    // refunds; pending counts as spent, as everywhere in the rules.
    let pending = balances.pending.minor();
    let spent = (facts.captured_minor + balances.voided.minor() + pending)
        .max(balances.refunded.minor() + pending);
    if amount.minor() < spent {
        let spent = Amount::from_minor(spent, amount.currency());
        return Err(Error::refused(
            "item",
            "reconcile.amount_below_spent",
            format!(
                "the report's amount {amount} for payment {session} is below the {spent} the ledger already counts as captured, refunded, voided or pending on it: keep the ledger's value, or refresh the payment from Ottu"
            ),
        )
        .with("item", item.id)
        .with("amount", amount.to_string())
        .with("spent", spent.to_string()));
    }
    Ok(())
}

/// The values acceptance would overwrite: they must be what the run saw.
#[derive(PartialEq, Eq)]
struct LedgerFacts {
    amount: i64,
    currency: String,
    state: String,
    totals: (i64, i64, i64),
}

impl LedgerFacts {
    fn of(side: &super::classify::LedgerSide) -> LedgerFacts {
        LedgerFacts {
            amount: side.amount_minor,
            currency: side.currency.clone(),
            state: side.state.clone(),
            totals: (side.refunded_minor, side.captured_minor, side.voided_minor),
        }
    }
}

impl Ledger {
    /// Accepts Ottu's value for one mismatch, or keeps the ledger's: once per item.
    pub fn reconcile_decide(&mut self, request: &ReconcileDecision) -> Result<ReconcileItemView> {
        let decision = match request.decision.trim() {
            "accept" => Decision::Accept,
            "keep" => Decision::Keep,
            other => {
                return Err(Error::Word {
                    field: "decision",
                    source: UnknownWord {
                        what: "decision",
                        value: other.to_string(),
                        allowed: "accept, keep".to_string(),
                    },
                });
            }
        };
        let reason = check_reason(request.reason.as_deref())?;
        let now_ms = self.clock().now_ms();
        let actor = self.actor().to_string();
        self.store().write(|tx| {
            let item = views::item(tx, request.item)?;
            if let Some(done) = &item.decision {
                return Err(Error::refused(
                    "item",
                    "reconcile.already_decided",
                    format!(
                        "item {} was already {done} by {} at {}: a decision is final",
                        item.id,
                        item.decided_by.as_deref().unwrap_or("?"),
                        item.decided_at_ms.map(crate::sources::format_ms).unwrap_or_default()
                    ),
                )
                .with("item", item.id)
                .with("decision", done));
            }
            let profile: i64 = tx
                .query_row(
                    "SELECT profile_id FROM reconciliations WHERE id = ?1",
                    [item.reconciliation],
                    |r| r.get(0),
                )
                .optional()
                .db()?
                .ok_or_else(|| Error::Invariant {
                    what: format!("item {} without its reconciliation", item.id),
                })?;
            let (word, payment) = match decision {
                Decision::Accept => {
                    if !item.class.is_acceptable() {
                        return Err(Error::refused(
                            "item",
                            "reconcile.nothing_to_accept",
                            format!(
                                "item {} is {}: there is no report value to accept{}",
                                item.id,
                                item.class,
                                match item.class {
                                    MatchClass::LedgerOnly => " (the report does not have this payment); keep the ledger's instead",
                                    MatchClass::Queued => " while an operation on the payment is not final; reconcile again once it is",
                                    _ => " (both sides agree)",
                                }
                            ),
                        )
                        .with("item", item.id)
                        .with("class", item.class.as_str()));
                    }
                    let accepted = accept(tx, &item, ProfileId(profile), now_ms)?;
                    store::events::append(
                        tx,
                        &EventInsert {
                            at_ms: now_ms,
                            actor: &actor,
                            action: "payment.reconciled",
                            entity: "payment",
                            entity_id: accepted.payment.0,
                            payment_id: Some(accepted.payment),
                            before: accepted.before,
                            after: Some({
                                let mut after = accepted.after;
                                after["reconciliation"] = json!(item.reconciliation);
                                after["item"] = json!(item.id);
                                after["class"] = json!(item.class.as_str());
                                after["reason"] = json!(reason);
                                after
                            }),
                        },
                    )?;
                    ("accepted", Some(accepted.payment.0))
                }
                Decision::Keep => {
                    if !item.class.is_mismatch() {
                        return Err(Error::refused(
                            "item",
                            "reconcile.nothing_to_decide",
                            format!(
                                "item {} is {}: only a mismatch is decided",
                                item.id, item.class
                            ),
                        )
                        .with("item", item.id)
                        .with("class", item.class.as_str()));
                    }
                    store::events::append(
                        tx,
                        &EventInsert {
                            at_ms: now_ms,
                            actor: &actor,
                            action: "reconcile.kept",
                            entity: "reconciliation_item",
                            entity_id: item.id,
                            payment_id: item.payment_id.map(PaymentId),
                            before: None,
                            after: Some(json!({
                                "reconciliation": item.reconciliation,
                                "item": item.id,
                                "class": item.class.as_str(),
                                "session_id": item.session_id,
                                "reason": reason,
                                "ledger": item.ledger.as_ref().map(side_view),
                                "report": item.report.as_ref().map(side_view),
                            })),
                        },
                    )?;
                    ("kept", item.payment_id)
                }
            };
            let changed = tx
                .execute(
                    "UPDATE reconciliation_items
                     SET decision = ?2, decided_at_ms = ?3, decided_by = ?4,
                         payment_id = COALESCE(payment_id, ?5)
                     WHERE id = ?1 AND decision IS NULL",
                    params![item.id, word, now_ms, actor, payment],
                )
                .db()?;
            if changed != 1 {
                return Err(Error::Invariant {
                    what: format!("item {} was decided twice in one transaction", item.id),
                });
            }
            Ok(views::item_view(&views::item(tx, item.id)?))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_checked() {
        assert_eq!(check_reason(Some("  ")).unwrap(), None);
        assert_eq!(
            check_reason(Some(" bank said so ")).unwrap().as_deref(),
            Some("bank said so")
        );
        assert_eq!(
            check_reason(Some("a\nb")).unwrap_err().code(),
            "reason.bad_character"
        );
        let long = "x".repeat(MAX_REASON_CHARS + 1);
        assert_eq!(
            check_reason(Some(&long)).unwrap_err().code(),
            "reason.too_long"
        );
    }
}
