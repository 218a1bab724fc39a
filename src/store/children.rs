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

/// Inserts the child, or updates its amount and state if Ottu reported it before (a
/// replayed answer, or a `refund_queued` child that has since settled).
pub fn upsert(tx: &Transaction<'_>, child: &ChildInsert<'_>, now_ms: i64) -> Result<i64> {
    debug_assert!(
        child.kind.is_external(),
        "only external operations have children"
    );
    tx.execute(
        "INSERT INTO children (payment_id, operation_id, kind, session_id, amount_minor, currency, state, created_at_ms, updated_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)
         ON CONFLICT (payment_id, session_id) DO UPDATE SET
             amount_minor = excluded.amount_minor, state = excluded.state,
             operation_id = COALESCE(children.operation_id, excluded.operation_id),
             updated_at_ms = excluded.updated_at_ms",
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
        add_fact(kind, state, row.get(2)?, facts);
    }
    Ok(())
}

/// Adds the children of one kind and state (`sum` minor units) to the facts:
/// [`add_facts`] and the list page's [`super::facts::for_payments`].
pub(crate) fn add_fact(kind: OperationKind, state: ChildState, sum: i64, facts: &mut LedgerFacts) {
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

/// A child whose final state Ottu has not told us yet (`refund_queued`).
#[derive(Clone, Debug)]
pub struct Unresolved {
    pub child_id: i64,
    pub payment_id: PaymentId,
    pub session_id: SessionId,
    pub state: ChildState,
    pub profile_id: crate::model::ProfileId,
}

pub fn unresolved(
    tx: &Transaction<'_>,
    profile: Option<crate::model::ProfileId>,
) -> Result<Vec<Unresolved>> {
    let mut stmt = tx.prepare_cached(
        "SELECT c.id, c.payment_id, c.session_id, c.state, p.profile_id FROM children c
         JOIN payments p ON p.id = c.payment_id
         WHERE c.state = 'refund_queued' AND (?1 IS NULL OR p.profile_id = ?1)
           -- A child Ottu never named (recorded from our own request) cannot be asked about.
           AND substr(c.session_id, 1, length(?2)) <> ?2
         ORDER BY c.id",
    )?;
    let rows = stmt.query_map(params![profile.map(|p| p.0), UNREPORTED_PREFIX], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, i64>(4)?,
        ))
    })?;
    rows.map(|row| {
        let (child_id, payment_id, session_id, state, profile_id) = row?;
        Ok(Unresolved {
            child_id,
            payment_id: PaymentId(payment_id),
            session_id: SessionId::parse(&session_id)
                .map_err(|_| StoreError::corrupt("child session id", session_id))?,
            state: parse_word("child state", state)?,
            profile_id: crate::model::ProfileId(profile_id),
        })
    })
    .collect()
}

/// Sets a child's state (a `refund_queued` refund that settled); returns whether it changed.
pub fn set_state(
    tx: &Transaction<'_>,
    child_id: i64,
    state: ChildState,
    now_ms: i64,
) -> Result<bool> {
    let changed = tx.execute(
        // Only an unsettled child moves: a late, stale answer never overwrites a final state.
        "UPDATE children SET state = ?2, updated_at_ms = ?3
         WHERE id = ?1 AND state = 'refund_queued' AND state <> ?2",
        params![child_id, state.as_str(), now_ms],
    )?;
    Ok(changed == 1)
}

/// The session id of a child recorded from our own request because Ottu's success named
/// none (sync/record.rs): this prefix and the operation's tracking key.
pub const UNREPORTED_PREFIX: &str = "unreported-";

/// A child the ledger recorded without Ottu's session id (`unreported-<key>`) that a
/// report's child names: see [`unnamed_child`].
#[derive(Clone, Debug)]
pub struct UnnamedChild {
    pub child: ReportedChild,
    /// Its `unreported-<key>` session id.
    pub session_id: String,
    /// When the report says Ottu made it: [`name_child`] dates it so.
    pub reported_at_ms: i64,
}

/// The unnamed child (`unreported-<key>`) that a report's child `session_id` of this kind,
/// amount and currency, made at `reported_at_ms`, is: one our operation could have made,
/// whose first send and recording bracket that time (give or take
/// [`UNNAMED_CHILD_WINDOW_MS`](crate::limits::UNNAMED_CHILD_WINDOW_MS)), the nearest in time
/// first. `None` when the payment already has a child with `session_id`, the report gives
/// no time (nothing tells our refund from a same-amount one made in Ottu's dashboard), or
/// no unnamed child fits. Without it the report's row would add a second child for the one
/// refund, and the ledger would count the money twice.
pub fn unnamed_child(
    tx: &Transaction<'_>,
    payment: PaymentId,
    kind: OperationKind,
    session_id: &SessionId,
    amount: Amount,
    reported_at_ms: Option<i64>,
) -> Result<Option<UnnamedChild>> {
    let Some(reported_at_ms) = reported_at_ms else {
        return Ok(None);
    };
    let mut stmt = tx.prepare_cached(
        "SELECT c.id, c.kind, c.amount_minor, c.currency, c.state, c.reference_number,
                c.session_id
         FROM children c LEFT JOIN operations o ON o.id = c.operation_id
         WHERE c.payment_id = ?1 AND c.kind = ?2 AND c.amount_minor = ?3 AND c.currency = ?4
           AND substr(c.session_id, 1, length(?5)) = ?5
           AND NOT EXISTS (SELECT 1 FROM children WHERE payment_id = ?1 AND session_id = ?6)
           AND ?7 BETWEEN COALESCE(o.first_sent_at_ms, o.created_at_ms, c.created_at_ms) - ?8
                      AND c.created_at_ms + ?8
         ORDER BY abs(?7 - COALESCE(o.first_sent_at_ms, c.created_at_ms)), c.id
         LIMIT 1",
    )?;
    let mut rows = stmt.query(params![
        payment.0,
        kind.as_str(),
        amount.minor(),
        amount.currency().code(),
        UNREPORTED_PREFIX,
        session_id.as_str(),
        reported_at_ms,
        crate::limits::UNNAMED_CHILD_WINDOW_MS,
    ])?;
    let Some(r) = rows.next()? else {
        return Ok(None);
    };
    Ok(Some(UnnamedChild {
        child: ReportedChild::of_row(r)?,
        session_id: r.get(6)?,
        reported_at_ms,
    }))
}

/// Gives an unnamed child the session id and creation time Ottu's report gives it (Ottu's
/// time, not when sync recorded it: settlement windows count from it). Money is untouched,
/// so no locked period reopens.
pub fn name_child(
    tx: &Transaction<'_>,
    unnamed: &UnnamedChild,
    session_id: &SessionId,
    now_ms: i64,
) -> Result<()> {
    tx.execute(
        "UPDATE children SET session_id = ?2, created_at_ms = ?3, updated_at_ms = ?4
         WHERE id = ?1",
        params![
            unnamed.child.id,
            session_id.as_str(),
            unnamed.reported_at_ms,
            now_ms
        ],
    )?;
    Ok(())
}

/// A child as a report import compares it with a report row (issue 10, REPORTS).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportedChild {
    pub id: i64,
    pub kind: String,
    pub amount_minor: i64,
    pub currency: String,
    pub state: String,
    pub reference_number: Option<String>,
}

impl ReportedChild {
    /// From a row that starts `id, kind, amount_minor, currency, state, reference_number`.
    fn of_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ReportedChild> {
        Ok(ReportedChild {
            id: r.get(0)?,
            kind: r.get(1)?,
            amount_minor: r.get(2)?,
            currency: r.get(3)?,
            state: r.get(4)?,
            reference_number: r.get(5)?,
        })
    }
}

/// The payment's child with `session_id`, if the ledger has it.
pub fn reported_child(
    tx: &Transaction<'_>,
    payment: PaymentId,
    session_id: &str,
) -> Result<Option<ReportedChild>> {
    let mut stmt = tx.prepare_cached(
        "SELECT id, kind, amount_minor, currency, state, reference_number FROM children
         WHERE payment_id = ?1 AND session_id = ?2",
    )?;
    let mut rows = stmt.query(params![payment.0, session_id])?;
    let Some(r) = rows.next()? else {
        return Ok(None);
    };
    Ok(Some(ReportedChild::of_row(r)?))
}

/// Inserts or updates a child as a report row gives it (kind, amount, state, and its
/// reference number where the row has one); returns its id.
pub fn upsert_reported(
    tx: &Transaction<'_>,
    child: &ChildInsert<'_>,
    reference_number: Option<&str>,
    created_at_ms: i64,
    now_ms: i64,
) -> Result<i64> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO children (payment_id, kind, session_id, amount_minor, currency, state,
             reference_number, created_at_ms, updated_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (payment_id, session_id) DO UPDATE SET
             kind = excluded.kind, amount_minor = excluded.amount_minor, state = excluded.state,
             reference_number = COALESCE(excluded.reference_number, children.reference_number),
             updated_at_ms = excluded.updated_at_ms
         RETURNING id",
    )?;
    Ok(stmt.query_row(
        params![
            child.payment_id.0,
            child.kind.as_str(),
            child.session_id.as_str(),
            child.amount.minor(),
            child.amount.currency().code(),
            child.state.as_str(),
            reference_number,
            created_at_ms,
            now_ms,
        ],
        |r| r.get(0),
    )?)
}
