//! Every command of the IPC contract (ARCHITECTURE.md "The desktop shell"): each parses
//! its one `request`, calls the core facade off the main thread and returns the view, or
//! the core's `ErrorView` unchanged. No business rule lives here.

pub mod app;
pub mod demo;
pub mod import;
pub mod payments;
pub mod profiles;
pub mod queue;
pub mod sync;

/// What every command returns: the view, or the error as the UI reads it.
pub type Reply<T> = Result<T, daftar::ErrorView>;
