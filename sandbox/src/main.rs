//! `daftar-sandbox`: runs the Ottu sandbox until SIGINT or SIGTERM. The first stdout line is
//! exactly `daftar-sandbox listening on http://127.0.0.1:PORT` (tests parse it), the second
//! `api key: KEY`, the third `admin token: TOKEN` (random per start; see sandbox/README.md).
//! `daftar-sandbox settlement --state FILE --out FILE` writes the acquirer's settlement file
//! for the payments in a state file instead (no server).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use daftar_sandbox::{
    Config, DEFAULT_API_KEY, DEFAULT_PAYMENTS, DEFAULT_SEED, DEFAULT_SETTLE_AFTER_MS, FaultConfig,
    Sandbox, UserSpec,
};

/// A loopback server that behaves like Ottu for Daftar's demo, tests and benchmarks.
#[derive(Debug, Parser)]
#[command(
    name = "daftar-sandbox",
    version,
    args_conflicts_with_subcommands = true
)]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    /// Port on 127.0.0.1; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Seed of the demo data, ids and fault RNG.
    #[arg(long, default_value_t = DEFAULT_SEED)]
    seed: u64,
    /// Payments to seed into a fresh state.
    #[arg(long, default_value_t = DEFAULT_PAYMENTS)]
    payments: u32,
    /// Faults, e.g. `latency=50ms,5xx=0.1,429=0.05:2,drop=0.2,lost=0.05,malformed=0.05,scope=all,seed=7`.
    #[arg(long, default_value = "none")]
    faults: String,
    /// SQLite state file; kept across restarts. Without it, state lives in memory.
    #[arg(long)]
    state: Option<PathBuf>,
    /// The merchant API key (`Authorization: Api-Key KEY`).
    #[arg(long, default_value = DEFAULT_API_KEY)]
    api_key: String,
    /// A Basic-auth user, `NAME:PASSWORD:perm1+perm2` (`*` = every permission); repeatable.
    #[arg(long = "user", value_name = "NAME:PASSWORD:PERMS")]
    users: Vec<UserSpec>,
    /// Sandbox-clock delay before a `refund_queued` refund settles.
    #[arg(long, default_value_t = DEFAULT_SETTLE_AFTER_MS)]
    settle_after_ms: u64,
    /// Starting offset of the sandbox clock from the machine's clock, in ms.
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    clock_offset_ms: i64,
    /// Seed no payments on gateways that refuse or reject refunds, and no foreign-currency
    /// payments.
    #[arg(long)]
    no_refusing_gateways: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Writes the acquirer's settlement file (CSV) for the payments in a state file.
    Settlement {
        /// The sandbox state file (`--state` of a sandbox run).
        #[arg(long)]
        state: PathBuf,
        /// Where to write the CSV; `-` for stdout.
        #[arg(long)]
        out: PathBuf,
    },
}

fn settlement(state: &std::path::Path, out: &std::path::Path) -> ExitCode {
    let file = match daftar_sandbox::settlement_file_from_state(state) {
        Ok(file) => file,
        Err(e) => {
            eprintln!("daftar-sandbox settlement: {e}");
            return ExitCode::from(2);
        }
    };
    let written = if out.as_os_str() == "-" {
        use std::io::Write;
        std::io::stdout().write_all(&file.bytes)
    } else {
        std::fs::write(out, &file.bytes)
    };
    match written {
        Ok(()) => {
            eprintln!(
                "daftar-sandbox settlement: {} lines written to {}",
                file.lines.len(),
                out.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!(
                "daftar-sandbox settlement: cannot write {}: {e}",
                out.display()
            );
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(Command::Settlement { state, out }) = &args.command {
        return settlement(state, out);
    }
    let faults = match FaultConfig::parse(&args.faults) {
        Ok(faults) => faults,
        Err(e) => {
            eprintln!("daftar-sandbox: --faults: {e}");
            return ExitCode::from(2);
        }
    };
    let config = Config {
        port: args.port,
        seed: args.seed,
        payments: args.payments,
        varied_gateways: !args.no_refusing_gateways,
        faults,
        state_path: args.state,
        api_key: args.api_key,
        users: args.users,
        settle_after_ms: args.settle_after_ms,
        clock_offset_ms: args.clock_offset_ms,
        admin_token: None,
        header_read_timeout: daftar_sandbox::HEADER_READ_TIMEOUT,
    };
    let sandbox = match Sandbox::start(config) {
        Ok(sandbox) => sandbox,
        Err(e) => {
            eprintln!("daftar-sandbox: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Stdout is line-buffered: each line reaches a parent process as soon as it is printed.
    println!("daftar-sandbox listening on {}", sandbox.base_url());
    println!("api key: {}", sandbox.api_key());
    println!("admin token: {}", sandbox.admin_token());
    if !sandbox.is_fresh() {
        eprintln!("daftar-sandbox: reopened existing state (--seed/--payments ignored)");
    }

    let waited = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map(|rt| rt.block_on(wait_for_signal()));
    if let Err(e) = waited {
        eprintln!("daftar-sandbox: cannot wait for signals: {e}");
    }
    sandbox.shutdown();
    eprintln!("daftar-sandbox: stopped");
    ExitCode::SUCCESS
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
