//! `daftar reconcile`: being built (issue 10).

use clap::Args;
use daftar::{Error, Ledger};

use crate::render::Output;

#[derive(Debug, Args)]
pub struct ReconcileArgs {}

pub fn run(_ledger: &mut Ledger, _args: ReconcileArgs, _out: &Output) -> Result<(), Error> {
    Err(Error::invalid("command", "usage.invalid", "not built yet"))
}
