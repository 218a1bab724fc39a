//! Writing a failure as a code and its params (migration 0004), with the English message
//! in the old prose column beside it (see `crate::error::stored` for why both).

use rusqlite::{Transaction, params};

use super::Result;
use crate::error::stored::Stored;
use crate::model::{OperationId, ProfileId};

/// Sets an operation's last error: code, params and the English message, in one statement.
pub fn set_last_error(tx: &Transaction<'_>, id: OperationId, stored: &Stored) -> Result<()> {
    write(
        tx,
        "UPDATE operations SET last_error = ?2, last_error_code = ?3, last_error_params = ?4
         WHERE id = ?1",
        id.0,
        stored,
    )
}

/// Records why a paused profile is paused (the pause itself is `outbox::pause_profile`);
/// nothing for a profile that is not paused.
pub fn set_pause(tx: &Transaction<'_>, id: ProfileId, stored: &Stored) -> Result<()> {
    write(
        tx,
        "UPDATE profiles SET paused_reason = ?2, paused_code = ?3, paused_params = ?4
         WHERE id = ?1 AND paused_reason IS NOT NULL",
        id.0,
        stored,
    )
}

/// Runs `sql` with `?1` the row's id and `?2..?4` the message, code and params.
fn write(tx: &Transaction<'_>, sql: &str, id: i64, stored: &Stored) -> Result<()> {
    tx.prepare_cached(sql)?.execute(params![
        id,
        stored.message(),
        stored.code,
        stored.params_json()
    ])?;
    Ok(())
}
