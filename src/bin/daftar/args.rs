//! The command line's shape (clap). Values stay text here: the core parses and
//! validates them, so the CLI and the desktop app report the same errors.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "daftar",
    version,
    about = "Offline-first ledger of Ottu payments and the operations on them"
)]
pub struct Cli {
    /// Ledger file (default: daftar.sqlite3 in the OS data directory).
    #[arg(long, global = true, env = "DAFTAR_DB", value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// Print one JSON document on stdout instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Merchant accounts (base URL and currency).
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
    /// List payments, newest first.
    List {
        #[arg(long, value_name = "S")]
        state: Option<String>,
        /// Part of a session id or order number.
        #[arg(long, value_name = "TEXT")]
        search: Option<String>,
        #[arg(long, value_name = "N")]
        limit: Option<u32>,
        #[arg(long, value_name = "NAME")]
        profile: Option<String>,
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
    /// Operations in queue order.
    List {
        #[arg(long, value_name = "S")]
        status: Option<String>,
        #[arg(long, value_name = "N")]
        limit: Option<u32>,
    },
    /// Drop an operation that was never sent (it stays in the ledger as dropped).
    Drop {
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
            QueueCommand::List { .. } | QueueCommand::Drop { .. } => None,
        }
    }
}
