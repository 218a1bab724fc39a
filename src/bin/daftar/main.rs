//! `daftar`: the command line over the core. Each command parses its arguments, calls
//! one `Ledger` function and renders the result; no rule lives here.
//!
//! Exit codes: 0 done; 2 bad input or usage; 3 refused by the rules; 4 not found;
//! 1 anything unexpected.

mod args;
mod key_input;
mod remote;
mod render;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use daftar::ledger::{
    PaymentInput, PaymentLookup, PaymentQuery, QueueQuery, QueueRequest, RetryRequest,
};
use daftar::secrets::Credential;
use daftar::{Error, ErrorKind, Ledger};

use args::{Cli, Command, PaymentCommand, ProfileCommand, QueueCommand};
use render::Output;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let out = Output { json: cli.json };
    match run(cli, &out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            out.error(&error);
            ExitCode::from(exit_code(error.kind()))
        }
    }
}

fn exit_code(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::BadInput => 2,
        ErrorKind::Refused => 3,
        ErrorKind::NotFound => 4,
        ErrorKind::Unexpected => 1,
    }
}

/// `daftar.sqlite3` in the OS data directory, created on first use.
fn default_db_path() -> Result<PathBuf, Error> {
    let dirs = directories::ProjectDirs::from("", "", "daftar").ok_or_else(|| {
        Error::invalid(
            "db",
            "db.no_home",
            "no home directory to keep the ledger in: pass --db PATH or set DAFTAR_DB",
        )
    })?;
    let dir = dirs.data_dir();
    std::fs::create_dir_all(dir).map_err(|e| {
        Error::invalid(
            "db",
            "db.unwritable",
            format!(
                "cannot create {}: {e}; pass --db PATH or set DAFTAR_DB",
                dir.display()
            ),
        )
    })?;
    Ok(dir.join("daftar.sqlite3"))
}

fn actor() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".to_string());
    format!("cli:{user}")
}

fn run(cli: Cli, out: &Output) -> Result<(), Error> {
    let path = match cli.db {
        Some(path) => path,
        None => default_db_path()?,
    };
    let mut ledger = Ledger::open(&path, &actor())?;
    match cli.command {
        Command::Profile(ProfileCommand::Add {
            name,
            base_url,
            currency,
        }) => out.profile(&ledger.add_profile(&name, &base_url, &currency)?),
        Command::Profile(ProfileCommand::List) => out.profiles(&ledger.profiles()?),
        Command::Profile(ProfileCommand::SetKey {
            name,
            stdin,
            basic_user,
        }) => {
            // An unknown profile is refused before anyone types a key for it.
            ledger.profile(&name)?;
            let prompt = match &basic_user {
                Some(user) => format!("Ottu password of {user} for profile {name}: "),
                None => format!("Ottu API key for profile {name}: "),
            };
            let secret = key_input::read_secret(stdin, &prompt)?;
            let credential = match basic_user {
                Some(user) => Credential::Basic {
                    user,
                    password: secret,
                },
                None => Credential::ApiKey(secret),
            };
            out.key_set(&ledger.set_key(&name, credential)?)
        }
        Command::Profile(ProfileCommand::RemoveKey { name }) => {
            out.key_removed(&ledger.remove_key(&name)?)
        }
        Command::Profile(ProfileCommand::Show { name }) => {
            out.profile_detail(&ledger.profile_show(&name)?)
        }
        Command::Payment(PaymentCommand::Add {
            profile,
            session_id,
            order_no,
            amount,
            currency,
            state,
        }) => out.payment_added(&ledger.add_payment(&PaymentInput {
            profile: &profile,
            session_id: &session_id,
            order_no: order_no.as_deref(),
            amount: &amount,
            currency: &currency,
            state: &state,
        })?),
        Command::Payment(PaymentCommand::List {
            state,
            search,
            limit,
            profile,
        }) => out.payments(&ledger.list_payments(&PaymentQuery {
            profile: profile.as_deref(),
            state: state.as_deref(),
            search: search.as_deref(),
            limit,
        })?),
        Command::Payment(PaymentCommand::Show {
            session_id,
            order_no,
            profile,
        }) => out.payment_detail(&ledger.show_payment(&PaymentLookup {
            profile: profile.as_deref(),
            session_id: session_id.as_deref(),
            order_no: order_no.as_deref(),
        })?),
        Command::Queue(QueueCommand::List { status, limit }) => {
            out.operations(&ledger.queue_list(&QueueQuery {
                status: status.as_deref(),
                limit,
            })?)
        }
        Command::Queue(QueueCommand::Drop { id, reason }) => {
            out.dropped(&ledger.drop_operation(id, reason.as_deref())?)
        }
        Command::Queue(QueueCommand::Retry {
            id,
            confirm_not_applied,
            reason,
        }) => out.queued(&ledger.retry_operation(&RetryRequest {
            id,
            confirm_not_applied,
            reason: reason.as_deref(),
        })?),
        Command::Queue(QueueCommand::Resend { id }) => out.resent(&ledger.resend_operation(id)?),
        Command::Queue(queue) => {
            let Some((kind, args)) = queue.operation() else {
                unreachable!("list and drop are matched above")
            };
            out.queued(&ledger.queue(&QueueRequest {
                kind,
                payment: PaymentLookup {
                    profile: args.profile.as_deref(),
                    session_id: args.session_id.as_deref(),
                    order_no: args.order_no.as_deref(),
                },
                amount: args.amount.as_deref(),
                reason: args.reason.as_deref(),
            })?)
        }
        Command::Status => out.status(&ledger.status()?),
        Command::Sync(args) => out.sync_summary(&remote::sync(&mut ledger, &args, out.json)?),
        Command::Import(args) => out.imported(&remote::import(&mut ledger, &args, out.json)?),
        Command::Refresh { profile } => {
            out.refreshed(&remote::refresh(&mut ledger, profile.as_deref(), out.json)?)
        }
    }
    Ok(())
}
