//! The `operations` table: every operation the merchant asked for, with its tracking key
//! (made once, never changed: a trigger enforces it) and its status. Rows are never
//! deleted; an unwanted operation is dropped.

use std::collections::BTreeMap;

use rusqlite::{OptionalExtension, Row, Transaction, params};
use serde::Serialize;
use uuid::Uuid;

use super::{Result, StoreError, parse_word};
use crate::model::{
    Operation, OperationId, OperationKind, OperationStatus, PaymentId, TrackingKey,
};
use crate::money::{Amount, Currency};
use crate::rules::LedgerFacts;

/// The statuses whose amounts are still reserved; must match
/// [`OperationStatus::reserves_balance`] (a test checks it).
pub(crate) const RESERVING_STATUSES_SQL: &str =
    "('queued', 'in_flight', 'needs_attention', 'blocked')";

pub struct OperationInsert<'a> {
    pub payment_id: PaymentId,
    pub kind: OperationKind,
    pub requested: Option<Amount>,
    pub reserved: Amount,
    pub tracking_key: TrackingKey,
    pub reason: Option<&'a str>,
    pub requested_by: &'a str,
    pub now_ms: i64,
    /// The send position within the payment; `None` = after everything queued so far.
    pub seq: Option<i64>,
    /// The operation this one replaces (`queue retry`).
    pub retry_of: Option<OperationId>,
}

/// `queue list` filters; queue order is `id` ascending.
#[derive(Clone, Debug, Default)]
pub struct OperationFilter {
    pub status: Option<OperationStatus>,
    /// Only operations after this one in queue order (keyset paging).
    pub after: Option<OperationId>,
    pub limit: u32,
}

/// Operation counts per status, as `status --json` prints them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct StatusCounts {
    pub queued: u64,
    pub in_flight: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub needs_attention: u64,
    pub dropped: u64,
    pub blocked: u64,
}

impl StatusCounts {
    fn add(&mut self, status: OperationStatus, n: u64) {
        let slot = match status {
            OperationStatus::Queued => &mut self.queued,
            OperationStatus::InFlight => &mut self.in_flight,
            OperationStatus::Succeeded => &mut self.succeeded,
            OperationStatus::Failed => &mut self.failed,
            OperationStatus::NeedsAttention => &mut self.needs_attention,
            OperationStatus::Dropped => &mut self.dropped,
            OperationStatus::Blocked => &mut self.blocked,
        };
        *slot += n;
    }
}

pub fn insert(tx: &Transaction<'_>, op: &OperationInsert<'_>) -> Result<OperationId> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO operations (payment_id, kind, amount_minor, reserved_minor, tracking_key, status,
             reason, requested_by, created_at_ms, updated_at_ms, seq, retry_of)
         VALUES (?1, ?2, ?3, ?4, ?5, 'queued', ?6, ?7, ?8, ?8,
             COALESCE(?9, (SELECT IFNULL(MAX(id), 0) + 1 FROM operations)), ?10)",
    )?;
    stmt.execute(params![
        op.payment_id.0,
        op.kind.as_str(),
        op.requested.map(Amount::minor),
        op.reserved.minor(),
        op.tracking_key.to_string(),
        op.reason,
        op.requested_by,
        op.now_ms,
        op.seq,
        op.retry_of.map(|r| r.0),
    ])?;
    Ok(OperationId(tx.last_insert_rowid()))
}

const SELECT: &str =
    "SELECT o.id, o.payment_id, o.kind, o.amount_minor, o.reserved_minor, p.currency,
        o.tracking_key, o.status, o.attempts, o.reason, o.requested_by,
        CASE WHEN o.last_error_code IS NULL THEN o.last_error
             ELSE json_array(o.last_error_code, o.last_error_params, o.last_error) END,
        o.created_at_ms, o.updated_at_ms, o.first_sent_at_ms IS NOT NULL,
        o.next_attempt_at_ms
    FROM operations o JOIN payments p ON p.id = o.payment_id";

type RawOperation = (
    i64,
    i64,
    String,
    Option<i64>,
    i64,
    String,
    String,
    String,
    u32,
    Option<String>,
    String,
    Option<String>,
    i64,
    i64,
    bool,
    Option<i64>,
);

fn from_row(r: &Row<'_>) -> rusqlite::Result<RawOperation> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
        r.get(10)?,
        r.get(11)?,
        r.get(12)?,
        r.get(13)?,
        r.get(14)?,
        r.get(15)?,
    ))
}

fn decode(raw: RawOperation) -> Result<Operation> {
    let (
        id,
        payment_id,
        kind,
        amount_minor,
        reserved_minor,
        currency,
        tracking_key,
        status,
        attempts,
        reason,
        requested_by,
        last_error,
        created_at_ms,
        updated_at_ms,
        sent,
        next_attempt_at_ms,
    ) = raw;
    let (last_error, last_error_stored) = last_error_text(last_error);
    let currency = Currency::from_code(&currency)
        .map_err(|_| StoreError::corrupt("payment currency", currency))?;
    Ok(Operation {
        id: OperationId(id),
        payment_id: PaymentId(payment_id),
        kind: parse_word("operation kind", kind)?,
        requested: amount_minor.map(|m| Amount::from_minor(m, currency)),
        reserved: Amount::from_minor(reserved_minor, currency),
        tracking_key: TrackingKey(
            Uuid::parse_str(&tracking_key)
                .map_err(|_| StoreError::corrupt("tracking key", tracking_key))?,
        ),
        status: parse_word("operation status", status)?,
        attempts,
        reason,
        requested_by,
        last_error,
        last_error_stored,
        created_at_ms,
        updated_at_ms,
        sent,
        next_attempt_at_ms,
    })
}

/// The last error as read: a row with a stored code comes as `[code, params, prose]`
/// (JSON, see SELECT) and is built from its code and params, which come back too; an older
/// row is its prose.
fn last_error_text(
    column: Option<String>,
) -> (Option<String>, Option<crate::error::stored::StoredCode>) {
    use crate::error::stored;
    let columns = column
        .as_deref()
        .filter(|text| text.starts_with('['))
        .and_then(|text| {
            serde_json::from_str::<(String, Option<String>, Option<String>)>(text).ok()
        });
    match columns {
        Some((code, params, prose)) => (
            stored::text(Some(&code), params.as_deref(), prose),
            stored::StoredCode::read(Some(&code), params.as_deref()),
        ),
        None => (column, None),
    }
}

fn collect(rows: impl Iterator<Item = rusqlite::Result<RawOperation>>) -> Result<Vec<Operation>> {
    rows.map(|r| decode(r?)).collect()
}

pub fn by_id(tx: &Transaction<'_>, id: OperationId) -> Result<Option<Operation>> {
    let sql = format!("{SELECT} WHERE o.id = ?1");
    tx.prepare_cached(&sql)?
        .query_row([id.0], from_row)
        .optional()?
        .map(decode)
        .transpose()
}

pub fn for_payment(tx: &Transaction<'_>, payment: PaymentId) -> Result<Vec<Operation>> {
    let sql = format!("{SELECT} WHERE o.payment_id = ?1 ORDER BY o.id");
    let mut stmt = tx.prepare_cached(&sql)?;
    let rows = stmt.query_map([payment.0], from_row)?;
    collect(rows)
}

/// One page in queue order (oldest first): up to `filter.limit` operations after
/// `filter.after`, optionally of one status. Two statements, so each seeks its index
/// (`operations_by_status` or the primary key) instead of testing `?1 IS NULL` per row.
pub fn list(tx: &Transaction<'_>, filter: &OperationFilter) -> Result<Vec<Operation>> {
    let after = filter.after.map_or(0, |id| id.0);
    let rows = match filter.status {
        Some(status) => {
            let sql = format!("{SELECT} WHERE o.status = ?1 AND o.id > ?2 ORDER BY o.id LIMIT ?3");
            tx.prepare_cached(&sql)?
                .query_map(params![status.as_str(), after, filter.limit], from_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?
        }
        None => {
            let sql = format!("{SELECT} WHERE o.id > ?1 ORDER BY o.id LIMIT ?2");
            tx.prepare_cached(&sql)?
                .query_map(params![after, filter.limit], from_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?
        }
    };
    rows.into_iter().map(decode).collect()
}

/// How many operations match the filter (all pages), exactly: a count over the status
/// index, or over the smallest index when no status is given.
pub fn count(tx: &Transaction<'_>, filter: &OperationFilter) -> Result<u64> {
    let n: i64 = match filter.status {
        Some(status) => tx
            .prepare_cached("SELECT count(*) FROM operations WHERE status = ?1")?
            .query_row([status.as_str()], |r| r.get(0))?,
        None => tx
            .prepare_cached("SELECT count(*) FROM operations")?
            .query_row([], |r| r.get(0))?,
    };
    u64::try_from(n).map_err(|_| StoreError::corrupt("operation count", n.to_string()))
}

/// Moves an operation from `from` to `to`; returns false if it was not in `from`
/// (someone else moved it first), so callers never overwrite a newer status.
pub fn transition(
    tx: &Transaction<'_>,
    id: OperationId,
    from: OperationStatus,
    to: OperationStatus,
    now_ms: i64,
) -> Result<bool> {
    let changed = tx.execute(
        "UPDATE operations SET status = ?3, updated_at_ms = ?4 WHERE id = ?1 AND status = ?2",
        params![id.0, from.as_str(), to.as_str(), now_ms],
    )?;
    Ok(changed == 1)
}

/// Adds the payment's reserved (not yet final) operations to `facts`.
pub fn add_facts(tx: &Transaction<'_>, payment: PaymentId, facts: &mut LedgerFacts) -> Result<()> {
    let sql = format!(
        "SELECT kind, COUNT(*), SUM(reserved_minor) FROM operations
         WHERE payment_id = ?1 AND status IN {RESERVING_STATUSES_SQL} GROUP BY kind"
    );
    let mut stmt = tx.prepare_cached(&sql)?;
    let mut rows = stmt.query([payment.0])?;
    while let Some(row) = rows.next()? {
        let kind: OperationKind = parse_word("operation kind", row.get(0)?)?;
        add_fact(kind, row.get(1)?, row.get(2)?, facts);
    }
    Ok(())
}

/// Adds one `kind`'s reserving operations (`count` of them, reserving `sum` minor units)
/// to the facts: [`add_facts`] and the list page's [`super::facts::for_payments`].
pub(crate) fn add_fact(kind: OperationKind, count: u32, sum: i64, facts: &mut LedgerFacts) {
    match kind {
        OperationKind::Refund => facts.pending_refund_minor += sum,
        OperationKind::Capture => facts.pending_capture_minor += sum,
        OperationKind::Void => {
            facts.pending_void_count += count;
            facts.pending_void_minor += sum;
        }
        OperationKind::Cancel => facts.pending_cancel_count += count,
        OperationKind::Expire => facts.pending_expire_count += count,
        OperationKind::Delete => facts.pending_delete_count += count,
    }
}

/// Takes one reserving operation of `kind` (reserving `sum` minor units) back out of the
/// facts: what they would be without it (the queue's retry check).
pub(crate) fn remove_fact(kind: OperationKind, sum: i64, facts: &mut LedgerFacts) {
    match kind {
        OperationKind::Refund => facts.pending_refund_minor -= sum,
        OperationKind::Capture => facts.pending_capture_minor -= sum,
        OperationKind::Void => {
            facts.pending_void_count = facts.pending_void_count.saturating_sub(1);
            facts.pending_void_minor -= sum;
        }
        OperationKind::Cancel => {
            facts.pending_cancel_count = facts.pending_cancel_count.saturating_sub(1);
        }
        OperationKind::Expire => {
            facts.pending_expire_count = facts.pending_expire_count.saturating_sub(1);
        }
        OperationKind::Delete => {
            facts.pending_delete_count = facts.pending_delete_count.saturating_sub(1);
        }
    }
}

/// Counts per status, in total and per profile name.
pub fn status_counts(
    tx: &Transaction<'_>,
) -> Result<(StatusCounts, BTreeMap<String, StatusCounts>)> {
    let mut per_profile: BTreeMap<String, StatusCounts> = BTreeMap::new();
    let mut total = StatusCounts::default();
    // Every profile appears, even one with no operations yet.
    let mut names = tx.prepare("SELECT name FROM profiles")?;
    for name in names.query_map([], |r| r.get::<_, String>(0))? {
        per_profile.entry(name?).or_default();
    }
    let mut stmt = tx.prepare(
        "SELECT pr.name, o.status, COUNT(*) FROM operations o
         JOIN payments p ON p.id = o.payment_id JOIN profiles pr ON pr.id = p.profile_id
         GROUP BY pr.name, o.status",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let profile: String = row.get(0)?;
        let status: OperationStatus = parse_word("operation status", row.get(1)?)?;
        let n: u64 = row.get(2)?;
        per_profile.entry(profile).or_default().add(status, n);
        total.add(status, n);
    }
    Ok((total, per_profile))
}

/// Used only to prove in tests that the filter matches the model.
#[cfg(test)]
pub(crate) fn reserving_statuses() -> Vec<OperationStatus> {
    OperationStatus::ALL
        .iter()
        .copied()
        .filter(|s| RESERVING_STATUSES_SQL.contains(&format!("'{}'", s.as_str())))
        .collect()
}

/// The operation's send position within its payment.
pub fn seq(tx: &Transaction<'_>, id: OperationId) -> Result<i64> {
    Ok(
        tx.query_row("SELECT seq FROM operations WHERE id = ?1", [id.0], |r| {
            r.get(0)
        })?,
    )
}

/// Records why the merchant gave up on an operation (e.g. confirmed it never took effect).
pub fn set_last_error(
    tx: &Transaction<'_>,
    id: OperationId,
    text: &str,
    now_ms: i64,
) -> Result<()> {
    tx.execute(
        "UPDATE operations SET last_error = ?2, updated_at_ms = ?3 WHERE id = ?1",
        params![id.0, text, now_ms],
    )?;
    Ok(())
}

/// The operation that replaced this one (`queue retry`), if any.
pub fn replacement(tx: &Transaction<'_>, id: OperationId) -> Result<Option<OperationId>> {
    Ok(tx
        .prepare_cached("SELECT id FROM operations WHERE retry_of = ?1")?
        .query_row([id.0], |r| r.get(0).map(OperationId))
        .optional()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sql_reserving_statuses_match_the_model() {
        let model: Vec<_> = OperationStatus::ALL
            .iter()
            .copied()
            .filter(|s| s.reserves_balance())
            .collect();
        assert_eq!(reserving_statuses(), model);
    }
}
