//! Reconciled periods. Locking says "this month agrees with Ottu": it is refused while the
//! reconciliation covering the period has undecided mismatches in it, and for a period
//! overlapping one already locked. The ledger's own triggers (migration 0007) reopen a
//! locked period when a payment created in it is added or changes amount, currency, state
//! or deletion, or a child of one is added or changes: whatever wrote the change (a sync,
//! an import, a decision), so no code path can forget. [`PeriodView::reopened`] shows
//! when, why and which payment.

use rusqlite::{OptionalExtension, Transaction, params};
use serde_json::json;

use super::Db;
use super::views::{LockPeriodRequest, PeriodView, ReopenView};
use crate::error::{Error, Result};
use crate::ledger::Ledger;
use crate::ledger::parse_bound;
use crate::model::ProfileId;
use crate::sources::format_ms;
use crate::store::{self, EventInsert};

const PERIOD_SELECT: &str = "SELECT rp.id, pr.name, rp.from_ms, rp.to_ms, rp.reconciliation_id,
        rp.status, rp.locked_at_ms, rp.locked_by, rp.reopened_at_ms, rp.reopen_reason,
        p.session_id, p.order_no
    FROM reconciled_periods rp JOIN profiles pr ON pr.id = rp.profile_id
    LEFT JOIN payments p ON p.id = rp.reopened_by_payment_id";

fn period_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PeriodView> {
    let status: String = r.get(5)?;
    let reopened_at: Option<i64> = r.get(8)?;
    Ok(PeriodView {
        id: r.get(0)?,
        profile: r.get(1)?,
        from: format_ms(r.get(2)?),
        to: format_ms(r.get(3)?),
        reconciliation: r.get(4)?,
        reopened: match (status.as_str(), reopened_at) {
            ("reopened", Some(at)) => Some(ReopenView {
                at: format_ms(at),
                reason: r.get::<_, Option<String>>(9)?.unwrap_or_default(),
                session_id: r.get(10)?,
                order_no: r.get(11)?,
            }),
            _ => None,
        },
        status,
        locked_at: format_ms(r.get(6)?),
        locked_by: r.get(7)?,
    })
}

fn period(tx: &Transaction<'_>, id: i64) -> Result<PeriodView> {
    tx.prepare_cached(&format!("{PERIOD_SELECT} WHERE rp.id = ?1"))
        .db()?
        .query_row([id], period_from_row)
        .db()
}

/// The reconciliation the lock rests on: the one named (of this profile, covering the
/// period), else the newest of the profile that covers it.
fn covering(
    tx: &Transaction<'_>,
    profile: ProfileId,
    from_ms: i64,
    to_ms: i64,
    named: Option<i64>,
) -> Result<i64> {
    let covers = "(from_ms IS NULL OR from_ms <= ?2) AND (to_ms IS NULL OR to_ms >= ?3)";
    match named {
        Some(id) => {
            let row: Option<(i64, bool)> = tx
                .query_row(
                    &format!(
                        "SELECT profile_id, {covers} FROM reconciliations WHERE id = ?1"
                    ),
                    params![id, from_ms, to_ms],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
                .db()?;
            match row {
                None => Err(Error::NotFound {
                    what: "reconciliation",
                    field: "reconciliation",
                    key: id.to_string(),
                }),
                Some((p, _)) if p != profile.0 => Err(Error::refused(
                    "reconciliation",
                    "reconcile.not_covered",
                    format!("reconciliation {id} is of another profile"),
                )
                .with("reconciliation", id)),
                Some((_, false)) => Err(Error::refused(
                    "reconciliation",
                    "reconcile.not_covered",
                    format!(
                        "reconciliation {id} does not cover the whole period: reconcile the period first"
                    ),
                )
                .with("reconciliation", id)),
                Some((_, true)) => Ok(id),
            }
        }
        None => tx
            .query_row(
                &format!(
                    "SELECT id FROM reconciliations WHERE profile_id = ?1 AND {covers}
                     ORDER BY id DESC LIMIT 1"
                ),
                params![profile.0, from_ms, to_ms],
                |r| r.get(0),
            )
            .optional()
            .db()?
            .ok_or_else(|| {
                Error::refused(
                    "from",
                    "reconcile.not_covered",
                    "no reconciliation of this profile covers the period: reconcile it with Ottu's report first",
                )
            }),
    }
}

/// Mismatches of the reconciliation, of payments created in the period, still undecided.
/// A `report_only` item is placed by the report's creation time (none: in the period).
fn undecided_in(
    tx: &Transaction<'_>,
    reconciliation: i64,
    from_ms: i64,
    to_ms: i64,
) -> Result<u64> {
    let n: i64 = tx
        .query_row(
            "SELECT COUNT(*) FROM reconciliation_item_sides
             WHERE reconciliation_id = ?1
               AND class IN ('amount_differs', 'state_differs', 'totals_differ', 'report_only',
                             'ledger_only', 'changed_late')
               AND decision IS NULL
               AND COALESCE(created_at_ms, ?2) >= ?2 AND COALESCE(created_at_ms, ?2) < ?3",
            params![reconciliation, from_ms, to_ms],
            |r| r.get(0),
        )
        .db()?;
    Ok(n as u64)
}

/// Payments of the reconciliation's profile in the period that changed (amount, state,
/// hidden, a child added or changed, or the payment itself added) after the run: their
/// last change is later than the run, or than the accepted decision of that run that
/// made it. `updated_at_ms` moves with every write to a payment or child, so a refresh
/// that changed nothing counts too: locking then asks for one more run, never misses one.
const CHANGED_SINCE_RUN: &str = "
    SELECT COUNT(*), MIN(p.session_id) FROM payments p, reconciliations rc
    WHERE rc.id = ?1 AND p.profile_id = rc.profile_id
      AND p.created_at_ms >= ?2 AND p.created_at_ms < ?3
      AND MAX(p.updated_at_ms, COALESCE((SELECT MAX(MAX(c.created_at_ms, c.updated_at_ms))
                                         FROM children c WHERE c.payment_id = p.id), 0))
          > COALESCE((SELECT MAX(i.decided_at_ms) FROM reconciliation_items i
                      WHERE i.reconciliation_id = rc.id AND i.payment_id = p.id
                        AND i.decision = 'accepted'), rc.created_at_ms)";

impl Ledger {
    /// Marks a period reconciled (locked).
    pub fn lock_period(&mut self, request: &LockPeriodRequest) -> Result<PeriodView> {
        let from_ms = parse_bound("from", &request.from, false)?;
        let to_ms = parse_bound("to", &request.to, true)?;
        if to_ms <= from_ms {
            return Err(Error::invalid(
                "to",
                "date.invalid",
                "the period ends before it starts: give a `to` after `from`",
            ));
        }
        let now_ms = self.clock().now_ms();
        let actor = self.actor().to_string();
        self.store().write(|tx| {
            let profile = super::profile_by_name(tx, &request.profile)?;
            let overlapping: Option<(i64, i64, i64)> = tx
                .query_row(
                    "SELECT id, from_ms, to_ms FROM reconciled_periods
                     WHERE profile_id = ?1 AND status = 'locked' AND from_ms < ?3 AND to_ms > ?2
                     ORDER BY from_ms LIMIT 1",
                    params![profile.id.0, from_ms, to_ms],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()
                .db()?;
            if let Some((id, from, to)) = overlapping {
                return Err(Error::refused(
                    "from",
                    "reconcile.period_locked",
                    format!(
                        "the period overlaps period {id} ({} to {}), which is locked already",
                        format_ms(from),
                        format_ms(to)
                    ),
                )
                .with("period", id));
            }
            let reconciliation =
                covering(tx, profile.id, from_ms, to_ms, request.reconciliation)?;
            let (changed, first): (i64, Option<String>) = tx
                .query_row(CHANGED_SINCE_RUN, params![reconciliation, from_ms, to_ms], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .db()?;
            if changed > 0 {
                return Err(Error::refused(
                    "reconciliation",
                    "reconcile.period_changed",
                    format!(
                        "{changed} payment{} in the period changed after reconciliation {reconciliation} ran (first: {}): reconcile the period again before locking it",
                        if changed == 1 { "" } else { "s" },
                        first.as_deref().unwrap_or("?")
                    ),
                )
                .with("reconciliation", reconciliation)
                .with("count", changed)
                .with("session_id", first));
            }
            let undecided = undecided_in(tx, reconciliation, from_ms, to_ms)?;
            if undecided > 0 {
                return Err(Error::refused(
                    "from",
                    "reconcile.undecided",
                    format!(
                        "reconciliation {reconciliation} has {undecided} undecided mismatch{} in the period: accept Ottu's value or keep the ledger's for each first",
                        if undecided == 1 { "" } else { "es" }
                    ),
                )
                .with("reconciliation", reconciliation)
                .with("count", undecided));
            }
            tx.execute(
                "INSERT INTO reconciled_periods (profile_id, from_ms, to_ms, reconciliation_id,
                     status, locked_at_ms, locked_by) VALUES (?1, ?2, ?3, ?4, 'locked', ?5, ?6)",
                params![profile.id.0, from_ms, to_ms, reconciliation, now_ms, actor],
            )
            .db()?;
            let id = tx.last_insert_rowid();
            store::events::append(
                tx,
                &EventInsert {
                    at_ms: now_ms,
                    actor: &actor,
                    action: "period.locked",
                    entity: "period",
                    entity_id: id,
                    payment_id: None,
                    before: None,
                    after: Some(json!({
                        "profile": profile.name.as_str(),
                        "from": format_ms(from_ms),
                        "to": format_ms(to_ms),
                        "reconciliation": reconciliation,
                    })),
                },
            )?;
            period(tx, id)
        })
    }

    /// Reconciled periods, newest lock first; of one profile when given.
    pub fn periods(&mut self, profile: Option<&str>) -> Result<Vec<PeriodView>> {
        self.store().read(|tx| {
            let profile = profile.map(|p| super::profile_by_name(tx, p)).transpose()?;
            let mut stmt = tx
                .prepare_cached(&format!(
                    "{PERIOD_SELECT} WHERE ?1 IS NULL OR rp.profile_id = ?1 ORDER BY rp.id DESC"
                ))
                .db()?;
            let rows = stmt
                .query_map([profile.map(|p| p.id.0)], period_from_row)
                .db()?;
            rows.map(|r| r.db()).collect()
        })
    }
}
