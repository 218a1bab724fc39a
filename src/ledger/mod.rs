//! The facade: the one set of functions the CLI and the desktop shell call. Each takes
//! the user's text, validates it here (so every adapter gets the same errors), and runs
//! one store transaction that writes the change together with its audit event.

mod actions;
mod connection;
mod keys;
mod payments;
mod profiles;
mod queue;
mod views;

use std::path::Path;
use std::sync::Arc;

use rusqlite::Transaction;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// A payment's balances, as [`PaymentDetail`] and [`QueuedView`] carry them.
pub use crate::rules::BalancesView;
pub use crate::store::StatusCounts;
pub use actions::ActionView;
pub use connection::{CONNECTION_CHECK_SESSION_ID, ConnectionCheck, ConnectionCheckJob};
pub(crate) use payments::parse_bound;
pub use payments::{PaymentInput, PaymentQuery};
pub use profiles::{ProfileChange, ProfileChanged};
pub use queue::{QueueQuery, QueueRequest, RetryRequest};
pub use views::{
    ChildView, EventView, OperationActions, OperationPage, OperationView, PauseView, PaymentDetail,
    PaymentPage, PaymentView, ProfileDetail, ProfileStatus, ProfileView, QueuedView, StatusReport,
};

use crate::error::{Error, FieldContext, Result};
use crate::model::{OrderNo, Payment, ProfileId, ProfileName, SessionId};
use crate::rules::{Balances, LedgerFacts, PaymentFacts};
use crate::secrets::{KeyringStore, SecretStore};
use crate::sources::{Clock, KeySource, RandomKeys, SystemClock};
use crate::store::{self, PaymentRef, Store};

pub struct Ledger {
    store: Store,
    clock: Arc<dyn Clock>,
    keys: Arc<dyn KeySource>,
    /// Where profile credentials live: the OS keyring unless one is injected
    /// ([`Ledger::with_secret_store`]). Reached only by the commands that need a key.
    secrets: Arc<dyn SecretStore>,
    /// Who the audit trail names for changes made through this handle, e.g. `cli:amal`.
    actor: String,
}

impl Ledger {
    /// Opens the ledger file with the system clock, random tracking keys and the OS keyring
    /// (which is not reached until a command needs a key).
    pub fn open(path: &Path, actor: &str) -> Result<Ledger> {
        Ok(Ledger::with_sources(
            Store::open(path)?,
            Arc::new(SystemClock),
            Arc::new(RandomKeys),
            actor,
        ))
    }

    pub fn with_sources(
        store: Store,
        clock: Arc<dyn Clock>,
        keys: Arc<dyn KeySource>,
        actor: &str,
    ) -> Ledger {
        Ledger {
            store,
            clock,
            keys,
            secrets: Arc::new(KeyringStore::new()),
            actor: actor.to_string(),
        }
    }

    /// The store (its transactions, its raw connection): the crate's own, and opened to
    /// tests and benchmarks by the `test-support` feature. Adapters use `Ledger`'s methods.
    #[cfg(feature = "test-support")]
    pub fn store(&mut self) -> &mut Store {
        &mut self.store
    }

    #[cfg(not(feature = "test-support"))]
    pub(crate) fn store(&mut self) -> &mut Store {
        &mut self.store
    }

    /// A second handle on the same ledger file, with this one's clock, tracking keys,
    /// keyring and actor. A long job (an import, a refresh, the sync worker) writes through
    /// its own handle on its own thread, so the caller's handle (behind the desktop app's
    /// mutex) is never held across the network.
    pub fn reopen(&self) -> Result<Ledger> {
        Ok(Ledger {
            store: Store::open(self.store.path())?,
            clock: Arc::clone(&self.clock),
            keys: Arc::clone(&self.keys),
            secrets: Arc::clone(&self.secrets),
            actor: self.actor.clone(),
        })
    }
}

/// How a command names one payment: by session id or order number, optionally within a
/// profile. The user's text as given: the facade checks it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(optional_fields = nullable)]
pub struct PaymentLookup {
    pub profile: Option<String>,
    pub session_id: Option<String>,
    pub order_no: Option<String>,
}

impl PaymentLookup {
    /// The payment with this session id, in any profile.
    pub fn session_id(session_id: impl Into<String>) -> PaymentLookup {
        PaymentLookup {
            session_id: Some(session_id.into()),
            ..PaymentLookup::default()
        }
    }

    fn reference(&self) -> Result<PaymentRef> {
        match (self.session_id.as_deref(), self.order_no.as_deref()) {
            (Some(s), None) => Ok(PaymentRef::SessionId(
                SessionId::parse(s).field("session_id")?,
            )),
            (None, Some(o)) => Ok(PaymentRef::OrderNo(OrderNo::parse(o).field("order_no")?)),
            _ => Err(Error::invalid(
                "session_id",
                "input.payment_reference",
                "name the payment by exactly one of a session id or an order number",
            )),
        }
    }
}

fn profile_id(tx: &Transaction<'_>, name: &str) -> Result<ProfileId> {
    let name = ProfileName::parse(name).field("profile")?;
    store::profiles::by_name(tx, &name)?
        .map(|p| p.id)
        .ok_or(Error::NotFound {
            what: "profile",
            field: "profile",
            key: name.to_string(),
        })
}

/// The one payment a lookup names; an order number or session id shared by several
/// payments (across profiles) is refused with the candidates' profiles.
fn find_payment(tx: &Transaction<'_>, lookup: &PaymentLookup) -> Result<Payment> {
    let reference = lookup.reference()?;
    let profile = lookup
        .profile
        .as_deref()
        .map(|p| profile_id(tx, p))
        .transpose()?;
    let mut found = store::payments::find(tx, &reference, profile, 3)?;
    let (field, key) = match &reference {
        PaymentRef::SessionId(s) => ("session_id", s.to_string()),
        PaymentRef::OrderNo(o) => ("order_no", o.to_string()),
    };
    match found.len() {
        0 => Err(Error::NotFound {
            what: if field == "session_id" {
                "payment with session id"
            } else {
                "payment with order number"
            },
            field,
            key,
        }),
        1 => Ok(found.remove(0)),
        _ => Err(Error::invalid(
            "profile",
            "input.ambiguous_payment",
            format!(
                "{} payments match {field} {key} (profiles {}): name the profile, or use the session id",
                if found.len() > 2 { "several" } else { "2" },
                found
                    .iter()
                    .map(|p| p.profile.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

fn payment_facts(payment: &Payment) -> PaymentFacts {
    PaymentFacts {
        state: payment.state,
        amount: payment.amount,
        hidden: payment.hidden,
    }
}

fn ledger_facts(tx: &Transaction<'_>, payment: &Payment) -> Result<LedgerFacts> {
    let mut facts = LedgerFacts::default();
    store::operations::add_facts(tx, payment.id, &mut facts)?;
    store::children::add_facts(tx, payment.id, &mut facts)?;
    Ok(facts)
}

fn balances(tx: &Transaction<'_>, payment: &Payment) -> Result<Balances> {
    Ok(Balances::derive(
        &payment_facts(payment),
        &ledger_facts(tx, payment)?,
    )?)
}

/// What the sync worker needs of the facade: its clock, who acts, and profile lookups.
impl Ledger {
    pub(crate) fn actor(&self) -> &str {
        &self.actor
    }

    pub(crate) fn clock(&self) -> Arc<dyn Clock> {
        Arc::clone(&self.clock)
    }

    pub(crate) fn secrets(&self) -> Arc<dyn SecretStore> {
        Arc::clone(&self.secrets)
    }

    pub(crate) fn profile_id(&mut self, name: &str) -> Result<ProfileId> {
        self.store.read(|tx| profile_id(tx, name))
    }
}
