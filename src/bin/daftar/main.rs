//! `daftar`: the command line over the core. Each command parses its arguments, calls
//! one `Ledger` function and renders the result; no rule lives here.
//!
//! Exit codes: 0 done; 2 bad input or usage; 3 refused by the rules; 4 not found;
//! 1 anything unexpected. A usage error clap finds is exit 2 too, and with `--json`
//! anywhere on the line it is the same `{"error": {code, message, field}}` object.

mod args;
mod key_input;
mod remote;
mod render;

use std::path::PathBuf;
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
    match run(cli, &out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
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
            message,
            field,
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
    // Private (0700): the ledger beside it holds the merchant's payments.
    daftar::store::create_private_dir(dir).map_err(|e| {
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

/// Who the audit trail names: `cli:<OS account>`. From the OS, not from `USER`, which cron,
/// systemd units and `env -i` leave unset and anyone can set to another name.
fn actor() -> String {
    format!("cli:{}", os_account())
}

/// The name of the account the process runs as (the effective uid's passwd entry, as
/// `id -un` prints it); `uid-<n>` when the account database has no entry for it (a
/// container run with an arbitrary uid).
#[cfg(unix)]
fn os_account() -> String {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let uid = unsafe { libc::geteuid() };
    let mut buffer = vec![0u8; 1024];
    loop {
        // SAFETY: an all-zero passwd is valid (null pointers, zero ids); getpwuid_r writes
        // only into `entry` and `buffer` (of the length given), and sets `found` to
        // `&entry` or null. The name it points to lives in `buffer`, read before it drops.
        let mut entry: libc::passwd = unsafe { std::mem::zeroed() };
        let mut found: *mut libc::passwd = std::ptr::null_mut();
        let rc = unsafe {
            libc::getpwuid_r(
                uid,
                &mut entry,
                buffer.as_mut_ptr().cast(),
                buffer.len(),
                &mut found,
            )
        };
        // A larger entry than the buffer (ERANGE): grow it, up to a bound no real entry nears.
        if rc == libc::ERANGE && buffer.len() < 1 << 20 {
            buffer.resize(buffer.len() * 2, 0);
            continue;
        }
        if rc != 0 || found.is_null() || entry.pw_name.is_null() {
            return format!("uid-{uid}");
        }
        // SAFETY: pw_name is a NUL-terminated string inside `buffer`, still alive here.
        let name = unsafe { std::ffi::CStr::from_ptr(entry.pw_name) };
        return name.to_string_lossy().into_owned();
    }
}

/// Windows: the account the process runs as, from the OS (GetUserNameW), not `USERNAME`.
#[cfg(windows)]
fn os_account() -> String {
    use windows_sys::Win32::System::WindowsProgramming::GetUserNameW;
    // UNLEN (256) + 1: the longest Windows user name and its NUL.
    let mut buffer = [0u16; 257];
    let mut len = buffer.len() as u32;
    // SAFETY: `buffer` is writable for `len` UTF-16 units; GetUserNameW writes at most that
    // many (with the NUL) and sets `len` to the count written, NUL included.
    let ok = unsafe { GetUserNameW(buffer.as_mut_ptr(), &mut len) };
    if ok == 0 || len == 0 {
        return "unknown".to_string();
    }
    String::from_utf16_lossy(&buffer[..len as usize - 1])
}

#[cfg(not(any(unix, windows)))]
fn os_account() -> String {
    "unknown".to_string()
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
        Command::Profile(ProfileCommand::Set {
            name,
            base_url,
            currency,
        }) => out.profile_changed(&ledger.set_profile(&ProfileChange {
            name: &name,
            base_url: base_url.as_deref(),
            currency: currency.as_deref(),
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
        Command::Import(args) => remote::import(&mut ledger, &args, out)?,
        Command::Refresh { profile } => remote::refresh(&mut ledger, profile.as_deref(), out)?,
    }
    Ok(())
}
