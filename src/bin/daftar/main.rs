//! `daftar`: the command line over the core. Each command parses its arguments, calls
//! one `Ledger` function and renders the result; no rule lives here.
//!
//! Exit codes, by the error's kind: 0 done; 2 bad input or usage (`invalid_input`); 3
//! refused by the rules (`refused`, `conflict`); 4 not found; 1 anything else
//! (`unavailable`, `internal`). A usage error clap finds is exit 2 too, and with `--json`
//! anywhere on the line it is the same `{"error": {code, kind, message, field, params}}`
//! object.

mod args;
mod export_cmd;
mod interrupt;
mod key_input;
mod reconcile_cmd;
mod remote;
mod render;
mod report_cmd;
mod settlement_cmd;

use std::process::ExitCode;

use clap::Parser;
use clap::error::{ContextKind, ContextValue, ErrorKind as ClapErrorKind};
use daftar::ledger::{
    PaymentInput, PaymentLookup, PaymentQuery, ProfileChange, QueueQuery, QueueRequest,
    RetryRequest,
};
use daftar::secrets::Credential;
use daftar::{Error, ErrorKind, ErrorView, Ledger};

use args::{Cli, Command, PaymentCommand, ProfileCommand, QueueCommand};
use render::Output;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return usage_error(error),
    };
    let out = Output::new(cli.json);
    let log_dir = std::env::var_os(daftar::paths::LOG_DIR_ENV);
    let logging = daftar::logs::init(&daftar::logs::LogOptions::standard(
        log_dir.as_deref(),
        cli.verbose,
    ));
    if let Some(problem) = logging.problem.as_deref().filter(|_| cli.verbose) {
        eprintln!("daftar: {problem}");
    }
    tracing::info!(
        command = cli.command.name(),
        "daftar {} started",
        env!("CARGO_PKG_VERSION")
    );
    match run(cli, &out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::warn!(code = error.code(), "command failed: {error}");
            out.error(&error);
            ExitCode::from(exit_code(error.kind()))
        }
    }
}

/// A command line clap refused. Help and version go out as clap prints them; any other
/// error is exit 2, and with `--json` anywhere in the arguments (clap could not tell us
/// whether it was given) also the JSON error object on stdout.
fn usage_error(error: clap::Error) -> ExitCode {
    if matches!(
        error.kind(),
        ClapErrorKind::DisplayHelp | ClapErrorKind::DisplayVersion
    ) {
        error.exit();
    }
    let json = std::env::args_os().skip(1).any(|arg| arg == "--json");
    let text = error.render().to_string();
    // clap's text: "error: <message>\n\n<usage and tips>"; the message is the first part.
    let message = text
        .split("\n\n")
        .next()
        .unwrap_or(&text)
        .trim()
        .trim_start_matches("error: ")
        .to_string();
    let code = match error.kind() {
        ClapErrorKind::InvalidValue | ClapErrorKind::ValueValidation => "usage.invalid_value",
        ClapErrorKind::UnknownArgument => "usage.unknown_argument",
        ClapErrorKind::InvalidSubcommand => "usage.unknown_command",
        ClapErrorKind::MissingRequiredArgument => "usage.missing_argument",
        ClapErrorKind::MissingSubcommand
        | ClapErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => "usage.missing_command",
        ClapErrorKind::ArgumentConflict => "usage.conflict",
        ClapErrorKind::NoEquals
        | ClapErrorKind::TooManyValues
        | ClapErrorKind::TooFewValues
        | ClapErrorKind::WrongNumberOfValues => "usage.wrong_number_of_values",
        _ => "usage.invalid",
    };
    let field = usage_field(&error);
    let out = Output::new(json);
    out.usage_error(
        &ErrorView {
            code: code.to_string(),
            kind: ErrorKind::InvalidInput,
            message,
            field,
            params: Default::default(),
        },
        &text,
    );
    ExitCode::from(2)
}

/// The field a clap error is about, spelled as the core's fields are (`session_id` for
/// `--session-id <S>`, `name` for `<NAME>`); `command` for a subcommand.
fn usage_field(error: &clap::Error) -> Option<String> {
    let arg = match error.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(arg)) => arg.as_str(),
        Some(ContextValue::Strings(args)) => args.first()?.as_str(),
        _ => {
            return error
                .get(ContextKind::InvalidSubcommand)
                .map(|_| "command".to_string());
        }
    };
    let name = arg
        .split([' ', '='])
        .next()
        .unwrap_or(arg)
        .trim_start_matches('-')
        .trim_start_matches('<')
        .trim_end_matches("...")
        .trim_end_matches('>');
    (!name.is_empty()).then(|| name.replace('-', "_").to_lowercase())
}

/// The exit code of each kind: the codes scripts have relied on since the first release
/// (a conflict is a refusal for now: exit 3, as those errors always were).
fn exit_code(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::InvalidInput => 2,
        ErrorKind::Refused | ErrorKind::Conflict => 3,
        ErrorKind::NotFound => 4,
        ErrorKind::Unavailable | ErrorKind::Internal => 1,
    }
}

fn run(cli: Cli, out: &Output) -> Result<(), Error> {
    let env = std::env::var_os(daftar::paths::LEDGER_ENV);
    let path = daftar::paths::ledger_path(cli.db.as_deref(), env.as_deref())?;
    let mut ledger = Ledger::open(&path, &daftar::actor::actor("cli"))?;
    match cli.command {
        Command::Profile(ProfileCommand::Add {
            name,
            base_url,
            currency,
        }) => out.profile(&ledger.add_profile(&name, &base_url, &currency)?),
        Command::Profile(ProfileCommand::List) => out.profiles(&ledger.profiles()?),
        Command::Profile(ProfileCommand::Set {
            name,
            base_url,
            currency,
        }) => out.profile_changed(&ledger.set_profile(&ProfileChange {
            name,
            base_url,
            currency,
        })?),
        Command::Profile(ProfileCommand::Remove { name }) => {
            out.profile_removed(&ledger.remove_profile(&name)?)
        }
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
            profile,
            session_id,
            order_no,
            amount,
            currency,
            state,
        })?),
        Command::Payment(PaymentCommand::List {
            state,
            search,
            limit,
            profile,
            from,
            to,
            after,
        }) => out.payments(&ledger.list_payments(&PaymentQuery {
            profile,
            state,
            search,
            from,
            to,
            after,
            limit,
        })?),
        Command::Payment(PaymentCommand::Show {
            session_id,
            order_no,
            profile,
        }) => out.payment_detail(&ledger.show_payment(&PaymentLookup {
            profile,
            session_id,
            order_no,
        })?),
        Command::Queue(QueueCommand::List {
            status,
            limit,
            after,
        }) => out.operations(&ledger.queue_list(&QueueQuery {
            status,
            after,
            // The CLI's page stays what `queue list` always printed (up to 10,000); the
            // facade's default page is a screenful for the app.
            limit: limit.or(Some(i64::from(daftar::limits::MAX_PAGE_ROWS))),
        })?),
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
            reason,
        })?),
        Command::Queue(QueueCommand::Resend { id }) => out.resent(&ledger.resend_operation(id)?),
        Command::Queue(queue) => {
            let Some((kind, args)) = queue.operation() else {
                unreachable!("list and drop are matched above")
            };
            out.queued(&ledger.queue(&QueueRequest {
                kind: kind.to_string(),
                payment: PaymentLookup {
                    profile: args.profile.clone(),
                    session_id: args.session_id.clone(),
                    order_no: args.order_no.clone(),
                },
                amount: args.amount.clone(),
                reason: args.reason.clone(),
            })?)
        }
        Command::Status => out.status(&ledger.status()?),
        Command::Sync(args) => out.sync_summary(&remote::sync(&mut ledger, &args, out.json)?),
        Command::Import(args) => remote::import(&mut ledger, &args, out)?,
        Command::Refresh { profile } => remote::refresh(&mut ledger, profile.as_deref(), out)?,
        Command::ImportReport(args) => report_cmd::run(&mut ledger, args, out)?,
        Command::Reconcile(args) => reconcile_cmd::run(&mut ledger, args, out)?,
        Command::Settlement(args) => settlement_cmd::run(&mut ledger, args, out)?,
        Command::Export(args) => export_cmd::run(&mut ledger, args, out)?,
    }
    Ok(())
}
