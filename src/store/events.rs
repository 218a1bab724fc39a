//! The append-only `events` table: who did what, when, before → after. SQLite triggers
//! abort any UPDATE or DELETE on it; this module only ever inserts and reads.

use rusqlite::{Transaction, params};
use serde_json::Value;

use super::{Result, StoreError};
use crate::model::{Event, PaymentId};

/// One audit entry to append in the same transaction as the change it describes.
pub struct EventInsert<'a> {
    pub at_ms: i64,
    pub actor: &'a str,
    pub action: &'a str,
    pub entity: &'a str,
    pub entity_id: i64,
    pub payment_id: Option<PaymentId>,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

pub fn append(tx: &Transaction<'_>, event: &EventInsert<'_>) -> Result<i64> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO events (at_ms, actor, action, entity, entity_id, payment_id, before_json, after_json)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    stmt.execute(params![
        event.at_ms,
        event.actor,
        event.action,
        event.entity,
        event.entity_id,
        event.payment_id.map(|p| p.0),
        event.before.as_ref().map(Value::to_string),
        event.after.as_ref().map(Value::to_string),
    ])?;
    Ok(tx.last_insert_rowid())
}

fn parse_json(text: Option<String>) -> Result<Option<Value>> {
    text.map(|t| serde_json::from_str(&t).map_err(|_| StoreError::corrupt("event json", t)))
        .transpose()
}

pub fn for_payment(tx: &Transaction<'_>, payment: PaymentId) -> Result<Vec<Event>> {
    let mut stmt = tx.prepare_cached(
        "SELECT id, at_ms, actor, action, entity, entity_id, before_json, after_json
         FROM events WHERE payment_id = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map([payment.0], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, i64>(5)?,
            r.get::<_, Option<String>>(6)?,
            r.get::<_, Option<String>>(7)?,
        ))
    })?;
    rows.map(|row| {
        let (id, at_ms, actor, action, entity, entity_id, before, after) = row?;
        Ok(Event {
            id,
            at_ms,
            actor,
            action,
            entity,
            entity_id,
            before: parse_json(before)?,
            after: parse_json(after)?,
        })
    })
    .collect()
}
