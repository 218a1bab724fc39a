//! What the real binary writes and records about itself: output into a pipe the reader
//! closed early is no error (but a failed command keeps its exit code), and the audit
//! trail names the OS account, not `$USER`.

mod common;

use std::io::Read;
use std::process::{Command, Stdio};

use common::Cli;
use daftar::Ledger;
use daftar::model::{NewPayment, PaymentSource, PaymentState, SessionId};
use daftar::money::{Amount, Currency};

/// Enough payments that `payment list --limit 10000` is far more than a pipe buffer
/// (64 KiB on Linux): the binary is still writing when the reader goes away.
const PAYMENTS: usize = 4_000;

fn ledger_with_many_payments(cli: &Cli) {
    let mut ledger = Ledger::open(&cli.db, "test:bulk").unwrap();
    ledger
        .add_profile("shop", "https://shop.ottu.net", "KWD")
        .unwrap();
    let kwd = Currency::from_code("KWD").unwrap();
    let payments: Vec<NewPayment> = (0..PAYMENTS)
        .map(|i| NewPayment {
            session_id: SessionId::parse(&format!("sess-{i:06}")).unwrap(),
            order_no: None,
            amount: Amount::parse("12.500", kwd).unwrap(),
            state: PaymentState::Paid,
            source: PaymentSource::Manual,
            created_at_ms: 1_700_000_000_000,
            customer_email: None,
            customer_phone: None,
        })
        .collect();
    assert_eq!(
        ledger.add_payments("shop", &payments, |_| {}).unwrap(),
        PAYMENTS
    );
}

/// Runs daftar with stdout piped, reads `take` bytes, closes the pipe, and waits.
fn run_into_closed_pipe(cli: &Cli, args: &[&str], take: usize) -> (Option<i32>, String) {
    let mut child = cli
        .command(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = vec![0u8; take];
    stdout.read_exact(&mut first).unwrap();
    drop(stdout);
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    (child.wait().unwrap().code(), stderr)
}

#[test]
fn output_into_a_pipe_closed_early_is_a_quiet_success() {
    let cli = Cli::new();
    ledger_with_many_payments(&cli);
    // Whole output is far larger than a pipe buffer.
    let all = cli.ok(&["--json", "payment", "list", "--limit", "10000"]);
    assert!(all.stdout.len() > 512 * 1024, "{}", all.stdout.len());
    for args in [
        &["--json", "payment", "list", "--limit", "10000"][..],
        &["payment", "list", "--limit", "10000"][..],
    ] {
        let (code, stderr) = run_into_closed_pipe(&cli, args, 10);
        assert_eq!(code, Some(0), "{args:?}: {stderr}");
        assert_eq!(stderr, "", "{args:?}");
    }
}

/// `id -un`: the account the OS says this process runs as.
fn os_account() -> String {
    let out = Command::new("id").arg("-un").output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn the_audit_trail_names_the_os_account_with_or_without_user() {
    let cli = Cli::new();
    cli.seed(&[("s1", "o1", "10", "paid")]);
    let expected = format!("cli:{}", os_account());
    let mut unset = cli.command(&["queue", "refund", "--session-id", "s1", "--amount", "1"]);
    unset
        .env_remove("USER")
        .env_remove("LOGNAME")
        .env_remove("USERNAME");
    let run = common::finish(unset.output().unwrap());
    assert_eq!(run.code, 0, "{}", run.stderr);
    // A USER naming someone else changes nothing either.
    let mut other = cli.command(&["queue", "refund", "--session-id", "s1", "--amount", "2"]);
    other.env("USER", "mallory").env("LOGNAME", "mallory");
    assert_eq!(common::finish(other.output().unwrap()).code, 0);
    let show = cli.ok_json(&["payment", "show", "s1"]);
    let actors: Vec<&str> = show["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["actor"].as_str().unwrap())
        .collect();
    assert_eq!(actors, [expected.as_str(); 3], "{show}");
}

#[test]
fn an_error_into_a_closed_pipe_keeps_its_exit_code_and_message() {
    let cli = Cli::new();
    cli.seed(&[]);
    let mut child = cli
        .command(&["--json", "payment", "show", "nope"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The reader is gone before daftar writes anything.
    drop(child.stdout.take());
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(4), "{stderr}");
    assert!(
        stderr.contains("nope") && !stderr.contains("panicked"),
        "{stderr}"
    );
}

/// Runs daftar with its stdout already closed (the reader went away before any output):
/// the exit code and stderr.
fn run_with_stdout_closed(cli: &Cli, args: &[&str]) -> (Option<i32>, String) {
    let mut child = cli
        .command(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    (child.wait().unwrap().code(), stderr)
}

/// An import that stopped (Ottu unreachable: a closed loopback port) prints its summary
/// with the error, then exits 1. Into a closed pipe the summary is lost, but the failure
/// is not: still exit 1 and the error on stderr, in JSON and in text. Needs a real keyring
/// (the import reads the key before it sends anything).
#[test]
fn a_stopped_import_into_a_closed_pipe_keeps_its_exit_code() {
    if !common::keyring::keyring_required() {
        return;
    }
    let cli = Cli::new();
    let name = common::keyring::unique_profile("pipe");
    let _cleanup = common::keyring::LedgerCleanup {
        db: cli.db.clone(),
        users: Vec::new(),
        origins: Vec::new(),
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    cli.ok(&[
        "profile",
        "add",
        &name,
        "--base-url",
        &format!("http://127.0.0.1:{port}"),
        "--currency",
        "KWD",
    ]);
    let set = cli.run_stdin(&["profile", "set-key", &name, "--stdin"], "sk_pipe_key_1\n");
    assert_eq!(set.code, 0, "{}", set.stderr);
    let import = ["--json", "import", "--profile", &name, "--session-id", "s1"];
    // Read in full: the summary carries the error, exit 1.
    let run = cli.run(&import);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.json()["error"]["code"].is_string(), "{}", run.stdout);
    for args in [&import[..], &import[1..]] {
        let (code, stderr) = run_with_stdout_closed(&cli, args);
        assert_eq!(code, Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.contains("error:") && stderr.contains("import stopped"),
            "{args:?}: {stderr}"
        );
    }
}
