//! The command line's shape (clap). Values stay text here: the core parses and
//! validates them, so the CLI and the desktop app report the same errors. The few numbers
//! clap parses (page sizes, concurrency) and the ledger path get parsers of our own, so a
//! bad one is refused with the option named and the allowed range, never clamped; a page
//! size is only read as a whole number here, and its range is the core's to check.

use std::path::PathBuf;

use clap::{ArgGroup, Args, Parser, Subcommand};
use daftar::limits::{MAX_PAGE_ROWS, SYNC_MAX_CONCURRENCY};

/// `--limit`: any whole number that fits an i64, so the core checks the range (1 to
/// [`MAX_PAGE_ROWS`]) and words its error, the same for the CLI and the desktop app; only
/// text that is no whole number at all is refused here.
fn page_limit(text: &str) -> Result<i64, String> {
    text.parse::<i64>().map_err(|_| {
        format!(
            "limit '{}' is not a whole number: give one from 1 to {MAX_PAGE_ROWS}",
            text.escape_debug()
        )
    })
}

/// `--concurrency`: 1 to [`SYNC_MAX_CONCURRENCY`] operations in flight.
fn concurrency(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if (1..=SYNC_MAX_CONCURRENCY).contains(&n) => Ok(n),
        _ => Err(format!(
            "concurrency '{}' is not allowed: give a whole number from 1 to {SYNC_MAX_CONCURRENCY}",
            text.escape_debug()
        )),
    }
}

/// An operation id, as `queue list` shows it: a whole number from 1 up.
fn operation_id(text: &str) -> Result<i64, String> {
    match text.parse::<i64>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!(
            "operation id '{}' is not allowed: give a whole number from 1 up, as `daftar queue list` shows",
            text.escape_debug()
        )),
    }
}

/// `--db`: any non-empty path. (`DAFTAR_DB` is the core's: `daftar::paths::ledger_path`.)
fn db_path(text: &str) -> Result<PathBuf, String> {
    if text.is_empty() {
        return Err(
            "the ledger path given with --db is empty: give a file path, or leave --db out to use the default"
                .to_string(),
        );
    }
    Ok(PathBuf::from(text))
}

#[derive(Debug, Parser)]
#[command(
    name = "daftar",
    version,
    about = "Offline-first ledger of Ottu payments and the operations on them"
)]
pub struct Cli {
    /// Ledger file (default: the DAFTAR_DB variable, else daftar.sqlite3 in the OS data
    /// directory).
    #[arg(long, global = true, value_name = "PATH", value_parser = db_path)]
    pub db: Option<PathBuf>,
    /// Print one JSON document on stdout instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// Also print the log (what is written to the log file) on stderr.
    #[arg(short, long, global = true)]
    pub verbose: bool,
    #[command(subcommand)]
    pub command: Command,
}

impl Command {
    /// The command's name for the log (never its arguments).
    pub fn name(&self) -> &'static str {
        match self {
            Command::Profile(_) => "profile",
            Command::Payment(_) => "payment",
            Command::Queue(_) => "queue",
            Command::Status => "status",
            Command::Sync(_) => "sync",
            Command::Import(_) => "import",
            Command::Refresh { .. } => "refresh",
            Command::ImportReport(_) => "import-report",
            Command::Reconcile(_) => "reconcile",
            Command::Settlement(_) => "settlement",
            Command::Export(_) => "export",
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Merchant accounts (base URL, currency, and the key in the OS keyring).
    #[command(subcommand)]
    Profile(ProfileCommand),
    /// Payments in the ledger.
    #[command(subcommand)]
    Payment(PaymentCommand),
    /// Queue an operation, or look at and manage the queue.
    #[command(subcommand)]
    Queue(QueueCommand),
    /// Counts of operations per status, in total and per profile.
    Status,
    /// Send the queue to Ottu, exactly once per operation.
    Sync(SyncArgs),
    /// Fetch payments from Ottu by session id into the ledger (twice changes nothing).
    Import(ImportArgs),
    /// Ask Ottu again about refunds it had queued (refund_queued) and record how they ended.
    Refresh {
        #[arg(long, value_name = "NAME")]
        profile: Option<String>,
    },
    /// Import an Ottu transaction report (CSV or XLSX, a file or a report token): a dry run
    /// first; `--commit` applies it.
    ImportReport(crate::report_cmd::ReportArgs),
    /// Compare the ledger with an Ottu report and classify every payment; decide
    /// mismatches; mark periods reconciled.
    Reconcile(crate::reconcile_cmd::ReconcileArgs),
    /// The acquirer's or bank's settlement files: import them, match them with payments.
    Settlement(crate::settlement_cmd::SettlementArgs),
    /// Write the ledger, its operations or a reconciliation to a CSV or XLSX file.
    Export(crate::export_cmd::ExportArgs),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[arg(long, value_name = "NAME")]
    pub profile: String,
    /// One or more session ids.
    #[arg(long, value_name = "S", num_args = 1.., required_unless_present = "from_file")]
    pub session_id: Vec<String>,
    /// A file with one session id per line (blank lines and # comments skipped).
    #[arg(long, value_name = "FILE")]
    pub from_file: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Only this profile's operations.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Stop when nothing more can be done now (the default).
    #[arg(long, conflicts_with = "watch")]
    pub once: bool,
    /// Keep running and send new work as it is queued, until Ctrl-C.
    #[arg(long)]
    pub watch: bool,
    /// Operations in flight at once, each on a different payment (1 to 32).
    #[arg(
        long,
        value_name = "N",
        default_value_t = daftar::limits::SYNC_DEFAULT_CONCURRENCY,
        value_parser = concurrency,
        allow_hyphen_values = true
    )]
    pub concurrency: usize,
}

#[derive(Debug, Subcommand)]
pub enum ProfileCommand {
    /// Add a merchant account.
    Add {
        name: String,
        #[arg(long, value_name = "URL")]
        base_url: String,
        #[arg(long, value_name = "CUR")]
        currency: String,
    },
    /// List the merchant accounts.
    List,
    /// Change a profile's base URL and/or currency. A new base URL lifts a pause and
    /// needs the key set again; a profile holding payments keeps its currency.
    #[command(group(ArgGroup::new("change").required(true).multiple(true).args(["base_url", "currency"])))]
    Set {
        name: String,
        #[arg(long, value_name = "URL")]
        base_url: Option<String>,
        #[arg(long, value_name = "CUR")]
        currency: Option<String>,
    },
    /// Remove a profile that holds no payments, with its key in the OS keyring.
    Remove { name: String },
    /// Store the profile's Ottu API key (or a dashboard user's password) in the OS
    /// keyring. The secret is read from a hidden prompt, or from stdin with --stdin;
    /// never from an argument.
    SetKey {
        name: String,
        /// Read the key from the first line of stdin instead of prompting.
        #[arg(long)]
        stdin: bool,
        /// Authenticate as this dashboard user (HTTP Basic); the secret read is their password.
        #[arg(long, value_name = "USER")]
        basic_user: Option<String>,
    },
    /// Delete the profile's key from the OS keyring.
    RemoveKey { name: String },
    /// A profile's settings, how it authenticates and whether a key is stored (never the key).
    Show { name: String },
}

#[derive(Debug, Subcommand)]
pub enum PaymentCommand {
    /// Enter a payment by hand.
    Add {
        #[arg(long, value_name = "NAME")]
        profile: String,
        #[arg(long, value_name = "S")]
        session_id: String,
        #[arg(long, value_name = "O")]
        order_no: Option<String>,
        #[arg(long, value_name = "A", allow_hyphen_values = true)]
        amount: String,
        #[arg(long, value_name = "CUR")]
        currency: String,
        #[arg(long, value_name = "STATE")]
        state: String,
    },
    /// List payments, newest first, one page at a time.
    List {
        #[arg(long, value_name = "S")]
        state: Option<String>,
        /// The start of an order number, customer email, phone, session id or Ottu
        /// reference number (1 or 2 characters: anywhere in them).
        #[arg(long, value_name = "TEXT")]
        search: Option<String>,
        /// Rows on the page (1 to 10000).
        #[arg(long, value_name = "N", value_parser = page_limit, allow_hyphen_values = true)]
        limit: Option<i64>,
        #[arg(long, value_name = "NAME")]
        profile: Option<String>,
        /// Created at or after this date (2026-02-01) or instant (RFC 3339).
        #[arg(long, value_name = "DATE")]
        from: Option<String>,
        /// Created before this instant, or up to the end of this date.
        #[arg(long, value_name = "DATE")]
        to: Option<String>,
        /// The next page: the cursor the previous page printed.
        #[arg(long, value_name = "CURSOR")]
        after: Option<String>,
    },
    /// One payment with its balances and timeline.
    Show {
        #[arg(
            value_name = "SESSION_ID",
            required_unless_present = "order_no",
            conflicts_with = "order_no"
        )]
        session_id: Option<String>,
        #[arg(long, value_name = "O")]
        order_no: Option<String>,
        #[arg(long, value_name = "NAME")]
        profile: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum QueueCommand {
    /// Refund a paid (or captured) payment, in part or in full.
    Refund(QueueArgs),
    /// Capture an authorized payment, in part or in full.
    Capture(QueueArgs),
    /// Void an authorized payment with nothing captured.
    Void(QueueArgs),
    /// Cancel a created, pending, attempted or cod payment.
    Cancel(QueueArgs),
    /// Expire a created, pending or attempted payment.
    Expire(QueueArgs),
    /// Delete a payment at Ottu (the ledger keeps its history).
    Delete(QueueArgs),
    /// Operations in queue order, one page at a time.
    List {
        #[arg(long, value_name = "S")]
        status: Option<String>,
        /// Rows on the page (1 to 10000; all 10000 unless given).
        #[arg(long, value_name = "N", value_parser = page_limit, allow_hyphen_values = true)]
        limit: Option<i64>,
        /// The next page: the cursor the previous page printed.
        #[arg(long, value_name = "CURSOR")]
        after: Option<String>,
    },
    /// Replace a failed, blocked or unresolved operation with a new one (new tracking key).
    Retry {
        #[arg(value_parser = operation_id, allow_hyphen_values = true)]
        id: i64,
        /// Confirm that the original did not take effect at Ottu (needed once it was sent).
        #[arg(long)]
        confirm_not_applied: bool,
        /// Why it is safe to retry, e.g. what Ottu's dashboard shows.
        #[arg(long, value_name = "TEXT")]
        reason: Option<String>,
    },
    /// Send an unresolved (needs_attention) operation again with its own tracking key.
    Resend {
        #[arg(value_parser = operation_id, allow_hyphen_values = true)]
        id: i64,
    },
    /// Drop an operation that was never sent (it stays in the ledger as dropped).
    Drop {
        #[arg(value_parser = operation_id, allow_hyphen_values = true)]
        id: i64,
        #[arg(long, value_name = "TEXT")]
        reason: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct QueueArgs {
    #[arg(
        long,
        value_name = "S",
        required_unless_present = "order_no",
        conflicts_with = "order_no"
    )]
    pub session_id: Option<String>,
    #[arg(long, value_name = "O")]
    pub order_no: Option<String>,
    /// Only when several profiles share the session id or order number.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Amount in the payment's currency; without it, the full or remaining amount.
    #[arg(long, value_name = "A", allow_hyphen_values = true)]
    pub amount: Option<String>,
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
}

impl QueueCommand {
    /// The operation word and arguments of the queueing subcommands.
    pub fn operation(&self) -> Option<(&'static str, &QueueArgs)> {
        match self {
            QueueCommand::Refund(a) => Some(("refund", a)),
            QueueCommand::Capture(a) => Some(("capture", a)),
            QueueCommand::Void(a) => Some(("void", a)),
            QueueCommand::Cancel(a) => Some(("cancel", a)),
            QueueCommand::Expire(a) => Some(("expire", a)),
            QueueCommand::Delete(a) => Some(("delete", a)),
            QueueCommand::List { .. }
            | QueueCommand::Drop { .. }
            | QueueCommand::Retry { .. }
            | QueueCommand::Resend { .. } => None,
        }
    }
}
