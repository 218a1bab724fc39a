//! Reconciliation: the ledger compared with an Ottu report, every payment classified, the
//! merchant's decisions, and reconciled (locked) periods.
//!
//! - [`classify`]: the class rules and their priority, pure.
//! - [`run`]: a run as a job ([`ReconcileJob`]): the report streamed into TEMP tables
//!   (read ahead on a second thread by `prefetch`), matched with set-based SQL,
//!   classified, saved in one transaction.
//! - [`decide`]: accept Ottu's value (the ledger changes, with a `payment.reconciled`
//!   event) or keep the ledger's (a `reconcile.kept` event); never silently.
//! - [`periods`]: locking a reconciled period; the ledger's triggers reopen it when a
//!   payment in it changes later.
//! - [`views`]: what the facade returns, and the reads behind it.

pub mod classify;
mod decide;
pub mod input;
mod job;
mod periods;
mod prefetch;
pub mod run;
pub mod views;

use rusqlite::Transaction;

pub use classify::MatchClass;
pub use input::{FieldChange, ReportRow, RowReject};
pub use job::ReconcileJob;
pub use run::{Period, RowSource, VecSource};
pub use views::{
    ClassTotal, LockPeriodRequest, PeriodView, ReconcileDecision, ReconcileItemPage,
    ReconcileItemQuery, ReconcileItemView, ReconcilePhase, ReconcileProgress, ReconcileRequest,
    ReconcileSummary, ReopenView,
};

use crate::error::{Error, FieldContext, Result};
use crate::ledger::Ledger;
use crate::model::{Profile, ProfileName};
use crate::store::{self, StoreError};

/// SQLite's errors as the facade's (`store.*` codes).
pub(crate) trait Db<T> {
    fn db(self) -> Result<T>;
}

impl<T> Db<T> for rusqlite::Result<T> {
    fn db(self) -> Result<T> {
        self.map_err(|e| Error::Store(StoreError::from(e)))
    }
}

pub(crate) fn profile_by_name(tx: &Transaction<'_>, name: &str) -> Result<Profile> {
    let name = ProfileName::parse(name.trim()).field("profile")?;
    store::profiles::by_name(tx, &name)?.ok_or(Error::NotFound {
        what: "profile",
        field: "profile",
        key: name.to_string(),
    })
}

impl Ledger {
    /// A reconciliation's summary (its undecided count as of now).
    pub fn reconciliation(&mut self, id: i64) -> Result<ReconcileSummary> {
        self.store().read(|tx| views::summary(tx, id))
    }

    /// Reconciliations, newest first; of one profile when given.
    pub fn reconciliations(&mut self, profile: Option<&str>) -> Result<Vec<ReconcileSummary>> {
        self.store().read(|tx| {
            let profile = profile.map(|p| profile_by_name(tx, p)).transpose()?;
            views::summaries(tx, profile.map(|p| p.id))
        })
    }

    /// One page of a reconciliation's items (mismatches first), optionally of one class.
    pub fn reconcile_items(&mut self, q: &ReconcileItemQuery) -> Result<ReconcileItemPage> {
        self.store().read(|tx| views::items(tx, q))
    }
}
