//! Daftar: an offline-first ledger of Ottu payments and the operations on them.
//!
//! The core is plain Rust with no UI in it: [`Ledger`] is the one facade that the CLI
//! (and later the desktop shell) calls. Money is exact ([`money`]), the rules are pure
//! ([`rules`]), and every write goes through one SQLite transaction with its audit event
//! ([`store`]). Credentials live only in the OS keyring, behind [`secrets`].

pub mod actor;
pub mod connect;
pub mod error;
pub mod import;
pub mod ledger;
pub mod limits;
pub mod logs;
pub mod model;
pub mod money;
pub mod ottu;
pub mod paths;
pub mod rules;
pub mod secrets;
pub mod sources;
pub mod store;
pub mod sync;

pub use error::{Error, ErrorKind, ErrorView, Result};
pub use ledger::Ledger;
