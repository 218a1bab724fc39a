//! The rules' facts ([`LedgerFacts`]) of a whole list page at once: one statement for the
//! page's reserving operations and children, instead of two per row, so a page shows each
//! payment's refundable and capturable balances at the cost of one indexed read.

use std::collections::HashMap;

use rusqlite::Transaction;

use super::operations::RESERVING_STATUSES_SQL;
use super::{Result, parse_word};
use crate::model::{ChildState, OperationKind, PaymentId};
use crate::rules::LedgerFacts;

/// The ids travel as one JSON array, so the statement is the same (and cached) for any
/// page size; each id is looked up through `operations_by_payment` and the children's
/// `(payment_id, session_id)` index. The `+` keeps the planner off `operations_due`
/// (status first): that would read every waiting operation of the ledger, a cost that
/// grows with the queue instead of with the page.
fn statement() -> String {
    format!(
        "SELECT payment_id, kind, NULL, COUNT(*), SUM(reserved_minor) FROM operations
         WHERE payment_id IN (SELECT value FROM json_each(?1)) AND +status IN {RESERVING_STATUSES_SQL}
         GROUP BY payment_id, kind
         UNION ALL
         SELECT payment_id, kind, state, COUNT(*), SUM(amount_minor) FROM children
         WHERE payment_id IN (SELECT value FROM json_each(?1))
         GROUP BY payment_id, kind, state"
    )
}

fn ids_json(ids: &[PaymentId]) -> String {
    let ids: Vec<i64> = ids.iter().map(|id| id.0).collect();
    serde_json::Value::from(ids).to_string()
}

/// The facts of each payment in `ids`, exactly what `operations::add_facts` and
/// `children::add_facts` give one by one; a payment with neither has default facts.
pub fn for_payments(
    tx: &Transaction<'_>,
    ids: &[PaymentId],
) -> Result<HashMap<PaymentId, LedgerFacts>> {
    let mut facts: HashMap<PaymentId, LedgerFacts> =
        ids.iter().map(|&id| (id, LedgerFacts::default())).collect();
    if ids.is_empty() {
        return Ok(facts);
    }
    let mut stmt = tx.prepare_cached(&statement())?;
    let mut rows = stmt.query([ids_json(ids)])?;
    while let Some(row) = rows.next()? {
        let entry = facts.entry(PaymentId(row.get(0)?)).or_default();
        let kind: OperationKind = parse_word("operation kind", row.get(1)?)?;
        match row.get::<_, Option<String>>(2)? {
            // An operations row: no state.
            None => super::operations::add_fact(kind, row.get(3)?, row.get(4)?, entry),
            Some(state) => {
                let state: ChildState = parse_word("child state", state)?;
                super::children::add_fact(kind, state, row.get(4)?, entry);
            }
        }
    }
    Ok(facts)
}

/// `EXPLAIN QUERY PLAN` of [`for_payments`]' statement: the test that it reads through
/// the indexes, never a whole table.
pub fn plan(tx: &Transaction<'_>, ids: &[PaymentId]) -> Result<Vec<String>> {
    let mut stmt = tx.prepare(&format!("EXPLAIN QUERY PLAN {}", statement()))?;
    let rows = stmt.query_map([ids_json(ids)], |r| r.get::<_, String>(3))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
