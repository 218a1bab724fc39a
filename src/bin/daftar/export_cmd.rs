//! `daftar export`: being built (issue 10).

use clap::Args;
use daftar::{Error, Ledger};

use crate::render::Output;

#[derive(Debug, Args)]
pub struct ExportArgs {}

pub fn run(_ledger: &mut Ledger, _args: ExportArgs, _out: &Output) -> Result<(), Error> {
    Err(Error::invalid("command", "usage.invalid", "not built yet"))
}
