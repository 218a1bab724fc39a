//! The outbox side of the `operations` table: what the sync worker claims, and how it
//! records each attempt. Every function runs inside the caller's transaction; the worker
//! appends the matching event in the same one.
//!
//! Invariant guarded here: an operation is `in_flight` (committed) before any byte of it
//! is sent, and only an `in_flight` operation can be given an outcome, so a late or
//! repeated answer can never overwrite a newer status.

use rusqlite::{Transaction, named_params, params};
use uuid::Uuid;

use super::{Result, StoreError, parse_word};
use crate::model::{
    AuthKind, OperationId, OperationKind, OperationStatus, OrderNo, PaymentId, ProfileId,
    ProfileName, SessionId, TrackingKey,
};
use crate::money::{Amount, Currency};

/// Statuses that keep later operations of the same payment waiting, in SQL.
const HOLDING_STATUSES_SQL: &str = "('queued', 'in_flight', 'blocked', 'needs_attention')";

/// `o` waits for no earlier unfinished operation of its payment (queue order: `seq`, then
/// `id` between a retry and anything sharing its place). Claiming and the next-due time
/// must agree on it, or the worker would wait for work it cannot claim.
fn not_held_sql() -> String {
    format!(
        "NOT EXISTS (
             SELECT 1 FROM operations e
             WHERE e.payment_id = o.payment_id
               AND (e.seq < o.seq OR (e.seq = o.seq AND e.id < o.id))
               AND e.status IN {HOLDING_STATUSES_SQL})"
    )
}

/// What makes a queued operation claimable now: due, of an unpaused profile in scope and
/// not held in this run, and first in its payment's order. One fragment for `claim_due` and
/// `due_profiles`, which must agree: the worker makes a client for every profile
/// `due_profiles` names before it claims anything. Binds `:now`, `:profile`, `:held`.
fn due_now_sql() -> String {
    format!(
        "o.status = 'queued'
         AND (o.next_attempt_at_ms IS NULL OR o.next_attempt_at_ms <= :now)
         AND pr.paused_reason IS NULL
         AND (:profile IS NULL OR pr.id = :profile)
         AND pr.id NOT IN (SELECT value FROM json_each(:held))
         AND {}",
        not_held_sql()
    )
}

/// An operation the worker has just marked `in_flight`, with what it needs to send it.
#[derive(Clone, Debug)]
pub struct Claimed {
    pub id: OperationId,
    pub payment_id: PaymentId,
    pub kind: OperationKind,
    pub requested: Option<Amount>,
    pub reserved: Amount,
    pub tracking_key: TrackingKey,
    /// 1 for the first attempt.
    pub attempt: u32,
    pub session_id: SessionId,
    pub order_no: Option<OrderNo>,
    pub profile_id: ProfileId,
    pub profile: ProfileName,
    pub base_url: String,
    pub auth_kind: AuthKind,
    pub basic_user: Option<String>,
    /// The profile's credential generation when claimed (`bump_credential_gen`): a client
    /// made for another generation must not send it.
    pub credential_gen: i64,
}

/// Marks every `in_flight` operation as due again: after a crash their outcome is
/// unknown, and resending with the same tracking key is what makes that safe.
/// Returns the ids, for their events.
pub fn recover_in_flight(
    tx: &Transaction<'_>,
    now_ms: i64,
) -> Result<Vec<(OperationId, PaymentId)>> {
    let ids: Vec<(OperationId, PaymentId)> = tx
        .prepare("SELECT id, payment_id FROM operations WHERE status = 'in_flight' ORDER BY id")?
        .query_map([], |r| Ok((OperationId(r.get(0)?), PaymentId(r.get(1)?))))?
        .collect::<rusqlite::Result<_>>()?;
    tx.execute(
        // The attempt is given back: a stopped run is not the operation's failure, and
        // must not push it towards needs_attention.
        "UPDATE operations SET status = 'queued', next_attempt_at_ms = ?1, updated_at_ms = ?1,
             attempts = MAX(attempts - 1, 0),
             first_sent_at_ms = COALESCE(first_sent_at_ms, ?1),
             last_error = 'outcome unknown: the previous sync stopped before Ottu answered',
             last_error_code = 'sync.interrupted', last_error_params = '{}'
         WHERE status = 'in_flight'",
        [now_ms],
    )?;
    Ok(ids)
}

/// Profiles a run leaves out (held for this run only), as the JSON array the SQL reads
/// with `json_each`: one statement text whatever their number.
fn held_json(held: &[ProfileId]) -> String {
    let ids: Vec<String> = held.iter().map(|p| p.0.to_string()).collect();
    format!("[{}]", ids.join(","))
}

/// The profiles with work `claim_due` would take now (same conditions), with their names:
/// the worker makes sure it can send for each (a credential, a usable base URL, a keyring)
/// before it claims anything of theirs.
pub fn due_profiles(
    tx: &Transaction<'_>,
    now_ms: i64,
    profile: Option<ProfileId>,
    held: &[ProfileId],
) -> Result<Vec<(ProfileId, ProfileName)>> {
    let sql = format!(
        "SELECT DISTINCT pr.id, pr.name
         FROM operations o
         JOIN payments p ON p.id = o.payment_id
         JOIN profiles pr ON pr.id = p.profile_id
         WHERE {due_now}
         ORDER BY pr.id",
        due_now = due_now_sql()
    );
    let mut stmt = tx.prepare_cached(&sql)?;
    let mut rows = stmt.query(named_params! {
        ":now": now_ms,
        ":profile": profile.map(|p| p.0),
        ":held": held_json(held),
    })?;
    let mut due = Vec::new();
    while let Some(r) = rows.next()? {
        let name: String = r.get(1)?;
        due.push((
            ProfileId(r.get(0)?),
            ProfileName::parse(&name).map_err(|_| StoreError::corrupt("profile name", name))?,
        ));
    }
    Ok(due)
}

/// Claims up to `limit` due operations: the first waiting one of each payment (queue
/// order), of unpaused profiles; never-tried ones first (NULLs sort first), then by due
/// time. The order walks the `operations_due` index, so a long queue costs no sort. Each
/// becomes `in_flight` with its attempt counted.
/// `ready`: when given, only these profiles' operations are taken (those the worker has
/// a client for).
pub fn claim_due(
    tx: &Transaction<'_>,
    now_ms: i64,
    profile: Option<ProfileId>,
    held: &[ProfileId],
    ready: Option<&[ProfileId]>,
    limit: usize,
) -> Result<Vec<Claimed>> {
    let sql = format!(
        "SELECT o.id, o.payment_id, o.kind, o.amount_minor, o.reserved_minor, p.currency,
                o.tracking_key, o.attempts, p.session_id, p.order_no, pr.id, pr.name,
                pr.base_url, pr.auth_kind, pr.basic_user, pr.credential_gen
         FROM operations o
         JOIN payments p ON p.id = o.payment_id
         JOIN profiles pr ON pr.id = p.profile_id
         WHERE {due_now}
           AND (:ready IS NULL OR pr.id IN (SELECT value FROM json_each(:ready)))
         ORDER BY o.next_attempt_at_ms, o.seq
         LIMIT :limit",
        due_now = due_now_sql()
    );
    let mut claimed = Vec::new();
    {
        let mut stmt = tx.prepare_cached(&sql)?;
        let mut rows = stmt.query(named_params! {
            ":now": now_ms,
            ":profile": profile.map(|p| p.0),
            ":held": held_json(held),
            ":ready": ready.map(held_json),
            ":limit": limit as i64,
        })?;
        while let Some(r) = rows.next()? {
            let currency: String = r.get(5)?;
            let currency = Currency::from_code(&currency)
                .map_err(|_| StoreError::corrupt("payment currency", currency))?;
            let key: String = r.get(6)?;
            let session: String = r.get(8)?;
            let order: Option<String> = r.get(9)?;
            let profile: String = r.get(11)?;
            claimed.push(Claimed {
                id: OperationId(r.get(0)?),
                payment_id: PaymentId(r.get(1)?),
                kind: parse_word("operation kind", r.get(2)?)?,
                requested: r
                    .get::<_, Option<i64>>(3)?
                    .map(|m| Amount::from_minor(m, currency)),
                reserved: Amount::from_minor(r.get(4)?, currency),
                tracking_key: TrackingKey(
                    Uuid::parse_str(&key).map_err(|_| StoreError::corrupt("tracking key", key))?,
                ),
                attempt: r.get::<_, u32>(7)? + 1,
                session_id: SessionId::parse(&session)
                    .map_err(|_| StoreError::corrupt("session id", session))?,
                order_no: order
                    .map(|o| OrderNo::parse(&o).map_err(|_| StoreError::corrupt("order number", o)))
                    .transpose()?,
                profile_id: ProfileId(r.get(10)?),
                profile: ProfileName::parse(&profile)
                    .map_err(|_| StoreError::corrupt("profile name", profile))?,
                base_url: r.get(12)?,
                auth_kind: parse_word("auth kind", r.get(13)?)?,
                basic_user: r.get(14)?,
                credential_gen: r.get(15)?,
            });
        }
    }
    let mut mark = tx.prepare_cached(
        "UPDATE operations SET status = 'in_flight', attempts = attempts + 1, updated_at_ms = ?2
         WHERE id = ?1 AND status = 'queued'",
    )?;
    for c in &claimed {
        let changed = mark.execute(params![c.id.0, now_ms])?;
        debug_assert_eq!(changed, 1, "claimed operation {} was not queued", c.id);
    }
    Ok(claimed)
}

/// What an attempt changes on its operation row.
#[derive(Clone, Debug, Default)]
pub struct AttemptRecord<'a> {
    pub last_error: Option<&'a str>,
    pub reply_json: Option<&'a str>,
    pub reference_number: Option<&'a str>,
    pub next_attempt_at_ms: Option<i64>,
    /// The attempt did not count (offline, throttled, paused): give it back.
    pub refund_attempt: bool,
    /// The request may have reached Ottu: the operation counts as sent from now on.
    pub sent: bool,
}

/// Moves an `in_flight` operation to `to`; false if it was no longer in flight.
pub fn finish_attempt(
    tx: &Transaction<'_>,
    id: OperationId,
    to: OperationStatus,
    record: &AttemptRecord<'_>,
    now_ms: i64,
) -> Result<bool> {
    let changed = tx.prepare_cached(
        "UPDATE operations SET status = ?2, last_error = ?3, reply_json = COALESCE(?4, reply_json),
             reference_number = COALESCE(?5, reference_number), next_attempt_at_ms = ?6,
             attempts = attempts - ?7, updated_at_ms = ?8,
             first_sent_at_ms = CASE WHEN ?9 THEN COALESCE(first_sent_at_ms, ?8) ELSE first_sent_at_ms END
         WHERE id = ?1 AND status = 'in_flight'",
    )?
    .execute(params![
        id.0,
        to.as_str(),
        record.last_error,
        record.reply_json,
        record.reference_number,
        record.next_attempt_at_ms,
        i64::from(record.refund_attempt),
        now_ms,
        record.sent,
    ])?;
    Ok(changed == 1)
}

/// Holds every later waiting operation of the payment behind a failure: they become
/// `blocked` with the reason. Returns the ids, for their events.
pub fn block_after(
    tx: &Transaction<'_>,
    failed: OperationId,
    reason: &str,
    now_ms: i64,
) -> Result<Vec<OperationId>> {
    let ids: Vec<OperationId> = tx
        .prepare_cached(
            "SELECT o.id FROM operations o JOIN operations f ON f.id = ?1
             WHERE o.payment_id = f.payment_id AND o.seq > f.seq AND o.status = 'queued'
             ORDER BY o.seq",
        )?
        .query_map([failed.0], |r| r.get(0).map(OperationId))?
        .collect::<rusqlite::Result<_>>()?;
    let mut stmt = tx.prepare_cached(
        "UPDATE operations SET status = 'blocked', held_by = ?4, last_error = ?2, updated_at_ms = ?3
         WHERE id = ?1",
    )?;
    for id in &ids {
        stmt.execute(params![id.0, reason, now_ms, failed.0])?;
    }
    Ok(ids)
}

/// Releases the operations `holder`'s failure blocked back to the queue (ones held by
/// another, undecided failure stay held). Returns the ids.
pub fn unblock_held_by(
    tx: &Transaction<'_>,
    holder: OperationId,
    now_ms: i64,
) -> Result<Vec<OperationId>> {
    // Another refusal earlier in the payment's order that nobody has retried yet still
    // holds what comes after it: those move to it instead of going free.
    tx.execute(
        "UPDATE operations AS o SET held_by = (
             SELECT f.id FROM operations f
             WHERE f.payment_id = o.payment_id AND f.status = 'failed' AND f.seq < o.seq
               AND f.id <> ?1
               AND NOT EXISTS (SELECT 1 FROM operations r WHERE r.retry_of = f.id)
             ORDER BY f.seq DESC LIMIT 1)
         WHERE o.held_by = ?1 AND o.status = 'blocked' AND EXISTS (
             SELECT 1 FROM operations f
             WHERE f.payment_id = o.payment_id AND f.status = 'failed' AND f.seq < o.seq
               AND f.id <> ?1
               AND NOT EXISTS (SELECT 1 FROM operations r WHERE r.retry_of = f.id))",
        params![holder.0],
    )?;
    let ids: Vec<OperationId> = tx
        .prepare_cached(
            "SELECT id FROM operations WHERE held_by = ?1 AND status = 'blocked' ORDER BY seq",
        )?
        .query_map([holder.0], |r| r.get(0).map(OperationId))?
        .collect::<rusqlite::Result<_>>()?;
    tx.execute(
        "UPDATE operations SET status = 'queued', held_by = NULL, last_error = NULL,
             next_attempt_at_ms = NULL, updated_at_ms = ?2
         WHERE held_by = ?1 AND status = 'blocked'",
        params![holder.0, now_ms],
    )?;
    Ok(ids)
}

/// Puts an operation whose outcome is unknown back in the queue with its own tracking key
/// (a resend is always safe: Ottu answers a repeated key with the original's result).
/// Returns false if it was not `needs_attention`.
pub fn resend(tx: &Transaction<'_>, id: OperationId, now_ms: i64) -> Result<bool> {
    let changed = tx.execute(
        "UPDATE operations SET status = 'queued', attempts = 0, next_attempt_at_ms = NULL,
             last_error = 'resent by the merchant with the same tracking key',
             last_error_code = 'operation.resent', last_error_params = '{}', updated_at_ms = ?2
         WHERE id = ?1 AND status = 'needs_attention'",
        params![id.0, now_ms],
    )?;
    Ok(changed == 1)
}

/// The earliest time a queued operation that could be claimed (not waiting behind an
/// earlier one of its payment, of an unpaused profile) becomes due, if any.
pub fn next_due_at(
    tx: &Transaction<'_>,
    profile: Option<ProfileId>,
    held: &[ProfileId],
) -> Result<Option<i64>> {
    let sql = format!(
        "SELECT MIN(COALESCE(o.next_attempt_at_ms, 0)) FROM operations o
         JOIN payments p ON p.id = o.payment_id JOIN profiles pr ON pr.id = p.profile_id
         WHERE o.status = 'queued' AND pr.paused_reason IS NULL
           AND (?1 IS NULL OR pr.id = ?1)
           AND pr.id NOT IN (SELECT value FROM json_each(?2)) AND {}",
        not_held_sql()
    );
    Ok(tx
        .prepare_cached(&sql)?
        .query_row(params![profile.map(|p| p.0), held_json(held)], |r| r.get(0))?)
}

/// Operations the worker can bring to an outcome in this run: queued or in flight, of
/// profiles neither paused nor held.
pub fn outstanding(
    tx: &Transaction<'_>,
    profile: Option<ProfileId>,
    held: &[ProfileId],
) -> Result<u64> {
    Ok(tx
        .prepare_cached(
            "SELECT COUNT(*) FROM operations o
             JOIN payments p ON p.id = o.payment_id JOIN profiles pr ON pr.id = p.profile_id
             WHERE o.status IN ('queued', 'in_flight') AND pr.paused_reason IS NULL
               AND (?1 IS NULL OR pr.id = ?1)
               AND pr.id NOT IN (SELECT value FROM json_each(?2))",
        )?
        .query_row(params![profile.map(|p| p.0), held_json(held)], |r| r.get(0))?)
}

/// Every operation still waiting to be sent (queued or in flight), paused profiles
/// included: what a run leaves behind.
pub fn waiting(tx: &Transaction<'_>, profile: Option<ProfileId>) -> Result<u64> {
    Ok(tx
        .prepare_cached(
            "SELECT COUNT(*) FROM operations o
             JOIN payments p ON p.id = o.payment_id
             WHERE o.status IN ('queued', 'in_flight') AND (?1 IS NULL OR p.profile_id = ?1)",
        )?
        .query_row(params![profile.map(|p| p.0)], |r| r.get(0))?)
}

/// A profile whose queue waits, and how much work it holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PausedProfile {
    pub id: ProfileId,
    pub name: String,
    pub reason: String,
    pub since_ms: Option<i64>,
    /// Operations queued or in flight.
    pub waiting: u64,
}

/// The paused profiles (of `profile`, or all), by name, with the work each holds.
pub fn paused_profiles(
    tx: &Transaction<'_>,
    profile: Option<ProfileId>,
) -> Result<Vec<PausedProfile>> {
    let rows = tx
        .prepare_cached(
            "SELECT pr.id, pr.name, pr.paused_reason, pr.paused_at_ms,
                    (SELECT COUNT(*) FROM operations o JOIN payments p ON p.id = o.payment_id
                     WHERE p.profile_id = pr.id AND o.status IN ('queued', 'in_flight'))
             FROM profiles pr
             WHERE pr.paused_reason IS NOT NULL AND (?1 IS NULL OR pr.id = ?1)
             ORDER BY pr.name",
        )?
        .query_map(params![profile.map(|p| p.0)], |r| {
            Ok(PausedProfile {
                id: ProfileId(r.get(0)?),
                name: r.get(1)?,
                reason: r.get(2)?,
                since_ms: r.get(3)?,
                waiting: r.get(4)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// The start of every pause reason Daftar stores for Ottu's answer (`ottu::auth_message`):
/// Ottu refused the credential or a permission.
pub const OTTU_PAUSE_PREFIX: &str = "Ottu ";

/// Lifts the pauses earlier versions stored for conditions of the machine, not answers
/// from Ottu (no OS keyring reachable, as from cron; no credential in it; a base URL the
/// client refused): they stopped the queue for good while nothing was wrong at Ottu. Only
/// a pause whose reason is Ottu's answer stays. Returns the lifted (profile, reason).
pub fn lift_local_pauses(
    tx: &Transaction<'_>,
    profile: Option<ProfileId>,
) -> Result<Vec<(ProfileId, String)>> {
    let lifted: Vec<(ProfileId, String)> = tx
        .prepare_cached(
            "SELECT id, paused_reason FROM profiles
             WHERE paused_reason IS NOT NULL AND substr(paused_reason, 1, length(?1)) <> ?1
               AND (?2 IS NULL OR id = ?2)
             ORDER BY id",
        )?
        .query_map(params![OTTU_PAUSE_PREFIX, profile.map(|p| p.0)], |r| {
            Ok((ProfileId(r.get(0)?), r.get(1)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut stmt = tx.prepare_cached(
        "UPDATE profiles SET paused_reason = NULL, paused_at_ms = NULL WHERE id = ?1",
    )?;
    for (id, _) in &lifted {
        stmt.execute([id.0])?;
    }
    Ok(lifted)
}

/// Pauses a profile's queue after Ottu refused its credential.
pub fn pause_profile(
    tx: &Transaction<'_>,
    profile: ProfileId,
    reason: &str,
    now_ms: i64,
) -> Result<bool> {
    let changed = tx.execute(
        "UPDATE profiles SET paused_reason = ?2, paused_at_ms = ?3
         WHERE id = ?1 AND paused_reason IS NULL",
        params![profile.0, reason, now_ms],
    )?;
    Ok(changed == 1)
}

/// Counts a change of the profile's credential (a key set or removed), in the transaction
/// that records it: a running worker compares the number with the one its cached client was
/// made at before each request (migration 0006).
pub fn bump_credential_gen(tx: &Transaction<'_>, profile: ProfileId) -> Result<()> {
    tx.prepare_cached("UPDATE profiles SET credential_gen = credential_gen + 1 WHERE id = ?1")?
        .execute([profile.0])?;
    Ok(())
}

/// What a client for a profile is made from, besides the secret itself: a cached client
/// sends a claim only when the claim's key is the same (no key set or removed, no base URL
/// or auth change since the client was made).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientKey {
    pub credential_gen: i64,
    pub base_url: String,
    pub auth_kind: AuthKind,
    pub basic_user: Option<String>,
}

impl Claimed {
    pub fn client_key(&self) -> ClientKey {
        ClientKey {
            credential_gen: self.credential_gen,
            base_url: self.base_url.clone(),
            auth_kind: self.auth_kind,
            basic_user: self.basic_user.clone(),
        }
    }
}

/// The profile's client key now. Read before the keyring: a key set in between bumps the
/// generation after its keyring write, so the client is made again at the next claim.
pub fn client_key(tx: &Transaction<'_>, profile: ProfileId) -> Result<ClientKey> {
    let (credential_gen, base_url, auth_kind, basic_user): (i64, String, String, Option<String>) =
        tx.prepare_cached(
            "SELECT credential_gen, base_url, auth_kind, basic_user FROM profiles WHERE id = ?1",
        )?
        .query_row([profile.0], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?;
    Ok(ClientKey {
        credential_gen,
        base_url,
        auth_kind: parse_word("auth kind", auth_kind)?,
        basic_user,
    })
}

/// The profile's credential generation now (0 for a profile that has never had a key set).
pub fn credential_gen(tx: &Transaction<'_>, profile: ProfileId) -> Result<i64> {
    Ok(tx
        .prepare_cached("SELECT credential_gen FROM profiles WHERE id = ?1")?
        .query_row([profile.0], |r| r.get(0))?)
}

/// One profile's waiting work: operations queued or in flight, and when the oldest of them
/// was queued.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileQueue {
    pub id: ProfileId,
    pub name: String,
    pub waiting: u64,
    pub oldest_queued_at_ms: Option<i64>,
    /// The stored pause (Ottu refused the credential), if any.
    pub paused_reason: Option<String>,
    /// Its code and params (none for a pause stored before codes were).
    pub paused_code: Option<crate::error::stored::StoredCode>,
}

/// Every profile (of `profile`, or all) with its waiting work, by name; profiles with none
/// are listed with 0. Walks `operations_by_status` for the two waiting statuses only.
pub fn queue_by_profile(
    tx: &Transaction<'_>,
    profile: Option<ProfileId>,
) -> Result<Vec<ProfileQueue>> {
    let rows = tx
        .prepare_cached(
            "SELECT pr.id, pr.name, COUNT(w.id), MIN(w.created_at_ms), pr.paused_reason,
                    pr.paused_code, pr.paused_params
             FROM profiles pr
             LEFT JOIN (SELECT o.id, o.created_at_ms, p.profile_id FROM operations o
                        JOIN payments p ON p.id = o.payment_id
                        WHERE o.status IN ('queued', 'in_flight')) w
                    ON w.profile_id = pr.id
             WHERE (?1 IS NULL OR pr.id = ?1)
             GROUP BY pr.id
             ORDER BY pr.name",
        )?
        .query_map(params![profile.map(|p| p.0)], |r| {
            Ok(ProfileQueue {
                id: ProfileId(r.get(0)?),
                name: r.get(1)?,
                waiting: r.get(2)?,
                oldest_queued_at_ms: r.get(3)?,
                paused_reason: r.get(4)?,
                paused_code: crate::error::stored::StoredCode::read(
                    r.get::<_, Option<String>>(5)?.as_deref(),
                    r.get::<_, Option<String>>(6)?.as_deref(),
                ),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// The statuses that make an operation wait for an earlier one, as the model says.
#[cfg(test)]
fn holding_statuses() -> Vec<OperationStatus> {
    OperationStatus::ALL
        .iter()
        .copied()
        .filter(|s| HOLDING_STATUSES_SQL.contains(&format!("'{}'", s.as_str())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_unfinished_status_holds_later_operations() {
        use OperationStatus::*;
        assert_eq!(
            holding_statuses(),
            [Queued, InFlight, NeedsAttention, Blocked]
        );
    }
}
