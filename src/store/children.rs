//! The `children` table: transactions Ottu created for succeeded external operations.
//! Their sums are what has really been captured, refunded and voided.

use rusqlite::{Transaction, params};

use super::{Result, StoreError, parse_word};
use crate::model::{Child, ChildState, OperationId, OperationKind, PaymentId, SessionId};
use crate::money::{Amount, Currency};
use crate::rules::LedgerFacts;

/// A child as Ottu reported it.
pub struct ChildInsert<'a> {
    pub payment_id: PaymentId,
    pub operation_id: Option<OperationId>,
    pub kind: OperationKind,
    pub session_id: &'a SessionId,
    pub amount: Amount,
    pub state: ChildState,
}

pub fn insert(tx: &Transaction<'_>, child: &ChildInsert<'_>, now_ms: i64) -> Result<i64> {
    debug_assert!(
        child.kind.is_external(),
        "only external operations have children"
    );
    tx.execute(
        "INSERT INTO children (payment_id, operation_id, kind, session_id, amount_minor, currency, state, created_at_ms, updated_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
        params![
            child.payment_id.0,
            child.operation_id.map(|o| o.0),
            child.kind.as_str(),
            child.session_id.as_str(),
            child.amount.minor(),
            child.amount.currency().code(),
            child.state.as_str(),
            now_ms,
        ],
    )?;
    Ok(tx.last_insert_rowid())
}

/// Adds the sums of the payment's children to `facts`.
pub fn add_facts(tx: &Transaction<'_>, payment: PaymentId, facts: &mut LedgerFacts) -> Result<()> {
    let mut stmt = tx.prepare_cached(
        "SELECT kind, state, SUM(amount_minor) FROM children WHERE payment_id = ?1 GROUP BY kind, state",
    )?;
    let mut rows = stmt.query([payment.0])?;
    while let Some(row) = rows.next()? {
        let kind: OperationKind = parse_word("child kind", row.get(0)?)?;
        let state: ChildState = parse_word("child state", row.get(1)?)?;
        let sum: i64 = row.get(2)?;
        match (kind, state) {
            (OperationKind::Capture, ChildState::Paid) => facts.captured_minor += sum,
            (OperationKind::Refund, ChildState::Refunded | ChildState::RefundQueued) => {
                facts.refunded_minor += sum
            }
            (OperationKind::Void, ChildState::Voided) => facts.voided_minor += sum,
            // A rejected refund gave nothing back; other pairs carry no money.
            _ => {}
        }
    }
    Ok(())
}

pub fn for_payment(tx: &Transaction<'_>, payment: PaymentId) -> Result<Vec<Child>> {
    let mut stmt = tx.prepare_cached(
        "SELECT operation_id, kind, session_id, amount_minor, currency, state, created_at_ms
         FROM children WHERE payment_id = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map([payment.0], |r| {
        Ok((
            r.get::<_, Option<i64>>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, i64>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, String>(5)?,
            r.get::<_, i64>(6)?,
        ))
    })?;
    rows.map(|row| {
        let (operation_id, kind, session_id, amount_minor, currency, state, created_at_ms) = row?;
        let currency = Currency::from_code(&currency)
            .map_err(|_| StoreError::corrupt("child currency", currency))?;
        Ok(Child {
            payment_id: payment,
            operation_id: operation_id.map(OperationId),
            kind: parse_word("child kind", kind)?,
            session_id: SessionId::parse(&session_id)
                .map_err(|_| StoreError::corrupt("child session id", session_id))?,
            amount: Amount::from_minor(amount_minor, currency),
            state: parse_word("child state", state)?,
            created_at_ms,
        })
    })
    .collect()
}
