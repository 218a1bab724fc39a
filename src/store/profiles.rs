//! The `profiles` table: one merchant account each. No column here may ever hold a secret.

use rusqlite::{OptionalExtension, Row, Transaction, params};

use super::{Result, StoreError};
use crate::model::{Profile, ProfileId, ProfileName};
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
    tx.execute(
        "INSERT INTO profiles (name, base_url, currency, created_at_ms) VALUES (?1, ?2, ?3, ?4)",
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

pub fn list(tx: &Transaction<'_>) -> Result<Vec<Profile>> {
    let sql = format!("SELECT {COLUMNS} FROM profiles ORDER BY name");
    let mut stmt = tx.prepare(&sql)?;
    let rows = stmt.query_map([], from_row)?;
    rows.map(|r| decode(r?)).collect()
}
