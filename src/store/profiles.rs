//! The `profiles` table: one merchant account each. No column here may ever hold a secret.
//! Also the ids a stored credential is bound to: the ledger's (`ledger_identity`) and each
//! profile's (`profiles.uid`), both made at creation.

use rusqlite::{OptionalExtension, Row, Transaction, params};

use super::{Result, StoreError};
use crate::model::{AuthKind, Profile, ProfileId, ProfileName};
use crate::money::Currency;

const COLUMNS: &str = "id, name, base_url, currency, created_at_ms";

fn from_row(row: &Row<'_>) -> rusqlite::Result<(i64, String, String, String, i64)> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
    ))
}

fn decode(raw: (i64, String, String, String, i64)) -> Result<Profile> {
    let (id, name, base_url, currency, created_at_ms) = raw;
    Ok(Profile {
        id: ProfileId(id),
        name: ProfileName::parse(&name).map_err(|_| StoreError::corrupt("profile name", &name))?,
        base_url,
        currency: Currency::from_code(&currency)
            .map_err(|_| StoreError::corrupt("profile currency", currency))?,
        created_at_ms,
    })
}

pub fn insert(
    tx: &Transaction<'_>,
    name: &ProfileName,
    base_url: &str,
    currency: Currency,
    now_ms: i64,
) -> Result<ProfileId> {
    // The profile's id for credential binding: 128 random bits, made here and never changed
    // (a trigger guards it), so a profile added again under the same name is another owner.
    tx.execute(
        "INSERT INTO profiles (name, base_url, currency, created_at_ms, uid)
         VALUES (?1, ?2, ?3, ?4, lower(hex(randomblob(16))))",
        params![name.as_str(), base_url, currency.code(), now_ms],
    )?;
    Ok(ProfileId(tx.last_insert_rowid()))
}

pub fn by_name(tx: &Transaction<'_>, name: &ProfileName) -> Result<Option<Profile>> {
    let sql = format!("SELECT {COLUMNS} FROM profiles WHERE name = ?1");
    tx.query_row(&sql, [name.as_str()], from_row)
        .optional()?
        .map(decode)
        .transpose()
}

pub fn by_id(tx: &Transaction<'_>, id: ProfileId) -> Result<Option<Profile>> {
    let sql = format!("SELECT {COLUMNS} FROM profiles WHERE id = ?1");
    tx.query_row(&sql, [id.0], from_row)
        .optional()?
        .map(decode)
        .transpose()
}

pub fn list(tx: &Transaction<'_>) -> Result<Vec<Profile>> {
    let sql = format!("SELECT {COLUMNS} FROM profiles ORDER BY name");
    let mut stmt = tx.prepare(&sql)?;
    let rows = stmt.query_map([], from_row)?;
    rows.map(|r| decode(r?)).collect()
}

/// How a profile authenticates, and whether an auth failure paused its queue. Names and
/// reasons only: the secret itself is in the OS keyring.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileAuth {
    pub kind: AuthKind,
    /// The dashboard user when `kind` is Basic.
    pub basic_user: Option<String>,
    pub paused_reason: Option<String>,
    /// The pause's code and params (`None` for a pause stored before codes were).
    pub paused_stored: Option<crate::error::stored::StoredCode>,
    pub paused_at_ms: Option<i64>,
}

pub fn auth(tx: &Transaction<'_>, id: ProfileId) -> Result<ProfileAuth> {
    let (kind, basic_user, paused_reason, paused_at_ms, code, params): (
        String,
        _,
        _,
        _,
        Option<String>,
        Option<String>,
    ) = tx
        .prepare_cached(
            "SELECT auth_kind, basic_user, paused_reason, paused_at_ms, paused_code, paused_params
             FROM profiles WHERE id = ?1",
        )?
        .query_row([id.0], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })?;
    // Built from the stored code and params; a pause from before 0004 keeps its prose.
    let paused_reason =
        crate::error::stored::text(code.as_deref(), params.as_deref(), paused_reason);
    let paused_stored = crate::error::stored::StoredCode::read(code.as_deref(), params.as_deref());
    Ok(ProfileAuth {
        kind: kind
            .parse()
            .map_err(|_| StoreError::corrupt("profile auth kind", kind))?,
        basic_user,
        paused_reason,
        paused_stored,
        paused_at_ms,
    })
}

/// Records how the profile authenticates; `basic_user` only with Basic.
pub fn set_auth(
    tx: &Transaction<'_>,
    id: ProfileId,
    kind: AuthKind,
    basic_user: Option<&str>,
) -> Result<()> {
    debug_assert_eq!(kind == AuthKind::Basic, basic_user.is_some());
    tx.execute(
        "UPDATE profiles SET auth_kind = ?2, basic_user = ?3 WHERE id = ?1",
        params![id.0, kind.as_str(), basic_user],
    )?;
    Ok(())
}

/// Lets the profile's queue go again (the merchant fixed the credential).
pub fn clear_pause(tx: &Transaction<'_>, id: ProfileId) -> Result<()> {
    tx.execute(
        "UPDATE profiles SET paused_reason = NULL, paused_at_ms = NULL WHERE id = ?1",
        [id.0],
    )?;
    Ok(())
}

/// The ids a profile's credential is bound to, as stored: this ledger's and the profile's,
/// each 32 lowercase hex digits (checked again here: the account name is built from them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileIds {
    pub ledger_uid: String,
    pub profile_uid: String,
}

fn is_uid(text: &str) -> bool {
    text.len() == 32 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The ledger's and the profile's ids.
pub fn ids(tx: &Transaction<'_>, id: ProfileId) -> Result<ProfileIds> {
    let (ledger_uid, profile_uid): (Option<String>, Option<String>) = tx
        .prepare_cached(
            "SELECT (SELECT uid FROM ledger_identity WHERE only_row = 1), uid
             FROM profiles WHERE id = ?1",
        )?
        .query_row([id.0], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let ledger_uid = ledger_uid
        .filter(|uid| is_uid(uid))
        .ok_or_else(|| StoreError::corrupt("ledger id", "missing or not 32 hex digits"))?;
    let profile_uid = profile_uid
        .filter(|uid| is_uid(uid))
        .ok_or_else(|| StoreError::corrupt("profile id", "missing or not 32 hex digits"))?;
    Ok(ProfileIds {
        ledger_uid,
        profile_uid,
    })
}

/// Replaces a profile's base URL and currency (`profile set`; the caller checked both).
pub fn set_settings(
    tx: &Transaction<'_>,
    id: ProfileId,
    base_url: &str,
    currency: Currency,
) -> Result<()> {
    tx.execute(
        "UPDATE profiles SET base_url = ?2, currency = ?3 WHERE id = ?1",
        params![id.0, base_url, currency.code()],
    )?;
    Ok(())
}

/// What a profile holds: its payments, and the operations on them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Holdings {
    pub payments: i64,
    pub operations: i64,
}

pub fn holdings(tx: &Transaction<'_>, id: ProfileId) -> Result<Holdings> {
    let (payments, operations) = tx.query_row(
        "SELECT (SELECT count(*) FROM payments WHERE profile_id = ?1),
                (SELECT count(*) FROM operations o JOIN payments p ON p.id = o.payment_id
                  WHERE p.profile_id = ?1)",
        [id.0],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok(Holdings {
        payments,
        operations,
    })
}

/// How many of a profile's operations may have reached its current host and have no known
/// outcome: `in_flight`, `needs_attention`, or `queued`/`blocked` after a send
/// (`first_sent_at_ms` set). Only that host knows their Tracking-Keys.
pub fn unresolved_sends(tx: &Transaction<'_>, id: ProfileId) -> Result<i64> {
    Ok(tx.query_row(
        "SELECT count(*) FROM operations o JOIN payments p ON p.id = o.payment_id
          WHERE p.profile_id = ?1
            AND (o.status IN ('in_flight', 'needs_attention')
                 OR (o.status IN ('queued', 'blocked') AND o.first_sent_at_ms IS NOT NULL))",
        [id.0],
        |r| r.get(0),
    )?)
}

/// Deletes a profile row; the caller checked it holds nothing ([`holdings`]), and the
/// payments' foreign key refuses it otherwise.
pub fn delete(tx: &Transaction<'_>, id: ProfileId) -> Result<()> {
    tx.execute("DELETE FROM profiles WHERE id = ?1", [id.0])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{MIGRATIONS, Store};

    /// A ledger from before credential binding (schema 2) gets a ledger id and an id for
    /// each existing profile when it is opened; new profiles get their own.
    #[test]
    fn upgrading_backfills_the_ledger_and_profile_ids() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.sqlite3");
        {
            let conn = rusqlite::Connection::open(&path).unwrap();
            for (version, (_, sql)) in MIGRATIONS.iter().take(2).enumerate() {
                conn.execute_batch(sql).unwrap();
                conn.pragma_update(None, "user_version", version as i64 + 1)
                    .unwrap();
            }
            conn.execute(
                "INSERT INTO profiles (name, base_url, currency, created_at_ms)
                 VALUES ('souq', 'https://souq.ottu.net', 'KWD', 1), ('dukkan', 'https://d.ottu.net', 'KWD', 2)",
                [],
            )
            .unwrap();
        }
        let mut store = Store::open(&path).unwrap();
        let ids: Vec<ProfileIds> = store
            .read(|tx| {
                let new = insert(
                    tx,
                    &ProfileName::parse("third").unwrap(),
                    "https://t.ottu.net",
                    Currency::from_code("KWD").unwrap(),
                    3,
                )?;
                [ProfileId(1), ProfileId(2), new]
                    .into_iter()
                    .map(|id| ids(tx, id))
                    .collect::<Result<Vec<_>>>()
            })
            .unwrap();
        assert!(ids.iter().all(|i| i.ledger_uid == ids[0].ledger_uid));
        assert!(is_uid(&ids[0].ledger_uid));
        let mut profile_uids: Vec<&str> = ids.iter().map(|i| i.profile_uid.as_str()).collect();
        assert!(profile_uids.iter().all(|uid| is_uid(uid)));
        profile_uids.sort_unstable();
        profile_uids.dedup();
        assert_eq!(profile_uids.len(), 3, "{ids:?}");
        // Neither id can be changed afterwards.
        let conn = store.connection();
        assert!(
            conn.execute(
                "UPDATE ledger_identity SET uid = lower(hex(randomblob(16)))",
                []
            )
            .is_err()
        );
        assert!(
            conn.execute("UPDATE profiles SET uid = lower(hex(randomblob(16)))", [])
                .is_err()
        );
    }
}
