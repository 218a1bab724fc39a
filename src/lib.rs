//! Daftar: an offline-first ledger of Ottu payments and the operations on them.
//!
//! The core is plain Rust with no UI in it: [`Ledger`] is the one facade that the CLI
//! (and later the desktop shell) calls. Money is exact ([`money`]), the rules are pure
//! ([`rules`]), and every write goes through one SQLite transaction with its audit event
//! (the crate-internal `store`). Credentials live only in the OS keyring, behind
//! [`secrets`]. Long jobs are [`import::ImportJob`], [`import::RefreshJob`] and the sync
//! service ([`sync`]); [`paths`], [`actor`] and [`logs`] hold what every adapter shares.

pub mod actor;
pub mod error;
pub mod export;
pub mod import;
pub mod ledger;
pub mod limits;
pub mod logs;
pub mod model;
pub mod money;
pub mod ottu;
pub mod paths;
pub mod reconcile;
pub mod rules;
pub mod secrets;
pub mod settlement;
pub mod sources;
pub mod sync;
pub mod tabular;

// Internals: the crate's own. The `test-support` feature opens them to tests and benches
// (ARCHITECTURE.md, "The facade"); an adapter never sees them.
// Without the feature, what only tests and benches use (re-exports, query-plan helpers)
// is unused: allowed, as it was when these modules were public.
#[cfg(feature = "test-support")]
pub mod connect;
#[cfg(not(feature = "test-support"))]
#[allow(dead_code, unused_imports)]
pub(crate) mod connect;
#[cfg(feature = "test-support")]
pub mod store;
#[cfg(not(feature = "test-support"))]
#[allow(dead_code, unused_imports)]
pub(crate) mod store;

pub use error::{Error, ErrorKind, ErrorView, Result};
pub use ledger::Ledger;
pub use store::StoreError;
