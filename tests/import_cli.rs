//! `daftar import --from-file` and `daftar refresh` through the real binary: the file is
//! read as a stream, bad lines are listed with their numbers while the good ones are
//! imported, a refused key stops at the first request, a network loss or Ctrl-C keeps what
//! was imported, and a profile name is never taken for a progress-bar template.
//!
//! The Ottu side is the sandbox (`daftar-sandbox`, over loopback) or, where a test needs an
//! Ottu that stops answering at an exact request, a small fake server on a loopback port.

mod common;
mod hostile;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::keyring::{keyring_required, unique_profile};
use common::{Cli, Run, finish};
use daftar_sandbox::{Config, NewPayment, RunningSandbox, Sandbox};
use hostile::{Act, Hostile};
use serde_json::{Value, json};

/// How long a test waits for something that should happen within a second or two.
const DEADLINE: Duration = Duration::from_secs(60);

/// Removes the test's key from the keyring when the test ends, even when it fails.
struct KeyGuard<'a> {
    cli: &'a Cli,
    profile: String,
}

impl Drop for KeyGuard<'_> {
    fn drop(&mut self) {
        let _ = self.cli.run(&["profile", "remove-key", &self.profile]);
    }
}

/// A ledger with one KWD profile on `base_url` holding `key`.
fn profile_with_key<'a>(cli: &'a Cli, base_url: &str, key: &str) -> KeyGuard<'a> {
    let profile = unique_profile("import");
    cli.ok(&[
        "profile",
        "add",
        &profile,
        "--base-url",
        base_url,
        "--currency",
        "KWD",
    ]);
    let set = cli.run_stdin(
        &["profile", "set-key", &profile, "--stdin"],
        &format!("{key}\n"),
    );
    assert_eq!(set.code, 0, "set-key: {}{}", set.stdout, set.stderr);
    KeyGuard { cli, profile }
}

fn sandbox_with(ids: &[String]) -> RunningSandbox {
    let sandbox = Sandbox::start(Config {
        varied_gateways: false,
        ..Config::empty()
    })
    .unwrap();
    for (n, session) in ids.iter().enumerate() {
        let payment: NewPayment = serde_json::from_value(json!({
            "session_id": session, "order_no": format!("O-{n}"), "amount": "10.000",
            "state": "paid", "pg_code": "knet",
        }))
        .unwrap();
        sandbox.add_payment(payment).unwrap();
    }
    sandbox
}

fn ids(prefix: &str, count: usize) -> Vec<String> {
    (1..=count).map(|n| format!("{prefix}-{n:06}")).collect()
}

fn write_file(cli: &Cli, name: &str, lines: &[String]) -> String {
    let path = cli.dir.path().join(name);
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path.to_str().unwrap().to_string()
}

fn payments_in(db: &Path) -> u64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row("SELECT count(*) FROM payments", [], |r| r.get(0))
        .unwrap()
}

fn import_json(cli: &Cli, profile: &str, file: &str) -> (Run, Value) {
    let run = cli.run(&[
        "--json",
        "import",
        "--profile",
        profile,
        "--from-file",
        file,
    ]);
    let json = run.json();
    (run, json)
}

#[test]
fn a_bad_line_is_listed_with_its_number_and_the_good_ones_are_imported() {
    if !keyring_required() {
        return;
    }
    let good = ids("line", 9);
    let sandbox = sandbox_with(&good);
    let cli = Cli::new();
    let guard = profile_with_key(&cli, sandbox.base_url(), sandbox.api_key());
    let mut lines = good.clone();
    lines.insert(2, "bad id".to_string());
    let file = write_file(&cli, "ids.txt", &lines);

    let (run, summary) = import_json(&cli, &guard.profile, &file);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(summary["added"], 9, "{summary}");
    assert_eq!(summary["rejected_count"], 1, "{summary}");
    let rejected = &summary["rejected"][0];
    assert_eq!(rejected["line"], 3, "{summary}");
    assert_eq!(rejected["text"], "bad id");
    assert!(
        rejected["error"].as_str().unwrap().contains("session id"),
        "{summary}"
    );
    assert_eq!(summary["stopped"], Value::Null);
    assert_eq!(payments_in(&cli.db), 9);

    // The text output names the line too.
    let text = cli.ok(&["import", "--profile", &guard.profile, "--from-file", &file]);
    assert!(text.stdout.contains("line 3"), "{}", text.stdout);
    assert!(text.stdout.contains("9 unchanged"), "{}", text.stdout);
}

#[test]
fn importing_the_same_file_twice_changes_nothing() {
    if !keyring_required() {
        return;
    }
    let good = ids("twice", 25);
    let sandbox = sandbox_with(&good);
    let cli = Cli::new();
    let guard = profile_with_key(&cli, sandbox.base_url(), sandbox.api_key());
    let file = write_file(&cli, "ids.txt", &good);
    let (_, first) = import_json(&cli, &guard.profile, &file);
    assert_eq!(first["added"], 25, "{first}");
    let before = cli.dump();
    let (run, second) = import_json(&cli, &guard.profile, &file);
    assert_eq!(run.code, 0);
    assert_eq!(
        (&second["added"], &second["updated"], &second["unchanged"]),
        (&json!(0), &json!(0), &json!(25))
    );
    assert_eq!(cli.dump(), before, "a second import changed the ledger");
}

#[test]
fn a_refused_key_stops_the_import_at_the_first_request() {
    if !keyring_required() {
        return;
    }
    let good = ids("auth", 200);
    let sandbox = sandbox_with(&good);
    let cli = Cli::new();
    let guard = profile_with_key(&cli, sandbox.base_url(), "not-the-key");
    let file = write_file(&cli, "ids.txt", &good);

    let (run, summary) = import_json(&cli, &guard.profile, &file);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert_eq!(summary["error"]["code"], "ottu.auth", "{summary}");
    assert_eq!(summary["stopped"]["reason"], "auth", "{summary}");
    assert_eq!(summary["stopped"]["line"], 1, "{summary}");
    assert_eq!(summary["added"], 0);
    let counters = sandbox.state().unwrap().counters;
    assert_eq!(
        counters.payment_requests, 1,
        "requests sent with a refused key: {counters:?}"
    );
    assert_eq!(payments_in(&cli.db), 0);
}

/// What the fake Ottu does with the ids past its quota.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Then {
    /// Once every id up to the quota is answered, stop listening: every later connection is
    /// refused (the network is gone).
    Refuse,
    /// Accept and read, never answer (requests that hang).
    Hang,
}

/// A loopback server that answers Ottu's retrieve (a paid 1.000 KWD payment) for the ids
/// `*-000001` up to `*-{quota}` and does `then` with the others. It decides by id, not by
/// arrival: requests go a few at a time and arrive in any order. One request per
/// connection (`Connection: close`), so a refused port is seen by the very next request.
struct FakeOttu {
    addr: SocketAddr,
    requests: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl FakeOttu {
    fn start(quota: u64, then: Then) -> FakeOttu {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        Self::serve(listener, quota, then)
    }

    fn serve(listener: TcpListener, quota: u64, then: Then) -> FakeOttu {
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (count, stopping) = (Arc::clone(&requests), Arc::clone(&stop));
        std::thread::spawn(move || {
            let mut parked = Vec::new();
            let mut answered = 0;
            for stream in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(stream) = stream else { continue };
                let Some(session) = read_retrieve(&stream) else {
                    continue;
                };
                count.fetch_add(1, Ordering::SeqCst);
                let number: u64 = session.rsplit('-').next().unwrap().parse().unwrap();
                if number <= quota {
                    answer(stream, &session);
                    answered += 1;
                } else {
                    parked.push(stream);
                }
                if then == Then::Refuse && answered == quota {
                    // Dropping the listener refuses every later connection; the parked
                    // ones are closed unanswered.
                    return;
                }
            }
        });
        FakeOttu {
            addr,
            requests,
            stop,
        }
    }

    fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }
}

impl Drop for FakeOttu {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so it sees `stop`.
        let _ = TcpStream::connect(self.addr);
    }
}

/// The session id of a `GET /b/checkout/v1/pymt-txn/{id}/`, once its head is read.
fn read_retrieve(stream: &TcpStream) -> Option<String> {
    let mut reader = BufReader::new(stream);
    let mut first = String::new();
    reader.read_line(&mut first).ok()?;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).ok()? == 0 || header == "\r\n" {
            break;
        }
    }
    let path = first.split_whitespace().nth(1)?;
    let id = path
        .trim_end_matches('/')
        .strip_prefix("/b/checkout/v1/pymt-txn/")?;
    Some(id.to_string())
}

fn answer(mut stream: TcpStream, session: &str) {
    let body = json!({
        "session_id": session, "order_no": null, "amount": "1.000",
        "currency_code": "KWD", "state": "paid",
    })
    .to_string();
    let _ = write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

#[test]
fn a_network_loss_keeps_what_was_imported_and_says_where_it_stopped() {
    if !keyring_required() {
        return;
    }
    let fake = FakeOttu::start(30, Then::Refuse);
    let cli = Cli::new();
    let guard = profile_with_key(&cli, &fake.base_url(), "any-key-for-a-fake");
    let all = ids("net", 100);
    let file = write_file(&cli, "ids.txt", &all);

    let (run, summary) = import_json(&cli, &guard.profile, &file);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert_eq!(summary["stopped"]["reason"], "offline", "{summary}");
    assert_eq!(summary["error"]["code"], "ottu.offline", "{summary}");
    assert_eq!(summary["added"], 30, "{summary}");
    assert_eq!(summary["stopped"]["line"], 31, "{summary}");
    assert_eq!(summary["stopped"]["session_id"], all[30], "{summary}");
    assert_eq!(payments_in(&cli.db), 30);
    assert!(run.stderr.contains("31"), "{}", run.stderr);

    // The network is back (on the same port): the rest comes in, the first 30 unchanged.
    assert!(fake.requests() >= 30);
    let addr = fake.addr;
    drop(fake);
    let start = Instant::now();
    let back = loop {
        if let Ok(listener) = TcpListener::bind(addr) {
            break FakeOttu::serve(listener, u64::MAX, Then::Hang);
        }
        assert!(start.elapsed() < DEADLINE, "cannot listen on {addr} again");
        std::thread::sleep(Duration::from_millis(20));
    };
    let (run, summary) = import_json(&cli, &guard.profile, &file);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(
        (&summary["added"], &summary["unchanged"]),
        (&json!(70), &json!(30))
    );
    assert!(back.requests() >= 100);
}

fn spawn_import(cli: &Cli, profile: &str, file: &str) -> Child {
    cli.command(&[
        "--json",
        "import",
        "--profile",
        profile,
        "--from-file",
        file,
    ])
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap()
}

/// Fails the test, with the import's output, if it has already ended.
fn still_running(child: &mut Child) {
    if let Some(status) = child.try_wait().unwrap() {
        let mut out = String::new();
        for pipe in [
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn std::io::Read>),
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn std::io::Read>),
        ]
        .into_iter()
        .flatten()
        {
            let mut pipe = pipe;
            let _ = pipe.read_to_string(&mut out);
        }
        panic!("the import ended early ({status}): {out}");
    }
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < DEADLINE, "timed out waiting for {what}");
        std::thread::yield_now();
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A ledger another process keeps locked: the batch waits out the busy timeout once, is
/// reported lost with where it began, and is not tried again (a second try waited as long
/// again for the same answer).
#[test]
fn a_locked_ledger_stops_the_import_after_one_busy_timeout() {
    if !keyring_required() {
        return;
    }
    // Three answers, then a request that hangs: the batch is written while it waits.
    let fake = FakeOttu::start(3, Then::Hang);
    let cli = Cli::new();
    let guard = profile_with_key(&cli, &fake.base_url(), "any-key-for-a-fake");
    let file = write_file(&cli, "ids.txt", &ids("lock", 10));
    let lock = rusqlite::Connection::open(&cli.db).unwrap();
    lock.execute_batch("BEGIN IMMEDIATE").unwrap();

    let started = Instant::now();
    let (run, summary) = import_json(&cli, &guard.profile, &file);
    let took = started.elapsed();
    lock.execute_batch("ROLLBACK").unwrap();
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert_eq!(summary["stopped"]["reason"], "ledger", "{summary}");
    assert_eq!(summary["stopped"]["line"], 1, "{summary}");
    assert_eq!(summary["added"], 0, "{summary}");
    assert!(
        run.stderr.contains("the ledger could not be written"),
        "{}",
        run.stderr
    );
    // One busy timeout, after the batch's time bound.
    let busy = daftar::store::BUSY_TIMEOUT;
    assert!(
        took >= busy && took < busy + busy / 2,
        "the import took {took:?} against a busy timeout of {busy:?}"
    );
    assert_eq!(payments_in(&cli.db), 0);
}

#[test]
fn ctrl_c_stops_the_import_and_keeps_what_was_imported() {
    if !keyring_required() {
        return;
    }
    let fake = FakeOttu::start(40, Then::Hang);
    let cli = Cli::new();
    let guard = profile_with_key(&cli, &fake.base_url(), "any-key-for-a-fake");
    let all = ids("int", 100);
    let file = write_file(&cli, "ids.txt", &all);

    let mut child = spawn_import(&cli, &guard.profile, &file);
    // Lines 1-40 are answered, then the requests hang. What was answered is written within
    // a batch's time bound, even while a request hangs.
    wait_until("the first 40 payments in the ledger", || {
        still_running(&mut child);
        payments_in(&cli.db) == 40
    });
    assert!(fake.requests() > 40);
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let started = Instant::now();
    let run = finish(child.wait_with_output().unwrap());
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "Ctrl-C took {:?}",
        started.elapsed()
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let summary = run.json();
    assert_eq!(summary["stopped"]["reason"], "interrupted", "{summary}");
    assert_eq!(summary["stopped"]["line"], 41, "{summary}");
    assert_eq!(summary["added"], 40, "{summary}");
    assert_eq!(payments_in(&cli.db), 40);
}

#[test]
fn a_killed_import_keeps_the_batches_written_before() {
    if !keyring_required() {
        return;
    }
    let fake = FakeOttu::start(25, Then::Hang);
    let cli = Cli::new();
    let guard = profile_with_key(&cli, &fake.base_url(), "any-key-for-a-fake");
    let file = write_file(&cli, "ids.txt", &ids("kill", 60));
    let mut child = spawn_import(&cli, &guard.profile, &file);
    wait_until("the first 25 payments in the ledger", || {
        still_running(&mut child);
        payments_in(&cli.db) == 25
    });
    child.kill().unwrap(); // SIGKILL: no chance to write anything more
    let _ = child.wait();
    assert_eq!(payments_in(&cli.db), 25);
}

/// A ledger made by an older version may hold any profile name; `a}b` once made `refresh`
/// panic (the name was pasted into the progress bar's template).
#[test]
fn refresh_with_braces_in_a_profile_name_does_not_panic() {
    // Refresh-all skips profiles without a key only when the keyring can say so.
    if !keyring_required() {
        return;
    }
    let cli = Cli::new();
    cli.add_profile("a-brace");
    cli.add_profile("b-plain");
    let conn = rusqlite::Connection::open(&cli.db).unwrap();
    conn.execute(
        "UPDATE profiles SET name = 'a}b' WHERE name = 'a-brace'",
        [],
    )
    .unwrap();
    drop(conn);
    for args in [
        &["refresh"][..],
        &["refresh", "--profile", "a}b"][..],
        &["--json", "refresh"][..],
    ] {
        let run = cli.run(args);
        assert_ne!(run.code, 101, "{args:?} panicked: {}", run.stderr);
        assert!(!run.stderr.contains("panicked"), "{args:?}: {}", run.stderr);
    }
    let run = cli.run(&["refresh"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

/// Runs `daftar` as from cron: no D-Bus session bus, so no keyring can be reached.
fn run_without_keyring(cli: &Cli, args: &[&str]) -> Run {
    finish(
        cli.command(args)
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .output()
            .unwrap(),
    )
}

/// An unreachable keyring is a local condition, not a fact about the profile: `import` and
/// `refresh` (with or without `--profile`) fail with `secrets.unavailable`, exit 1, saying
/// what is missing. Before, refresh-all took it for "no key stored", skipped the profile
/// and exited 0 with `{"profiles": {}}`, and import called it `ottu.credential`.
#[test]
fn an_unreachable_keyring_fails_import_and_refresh_as_unavailable() {
    if !keyring_required() {
        return;
    }
    let cli = Cli::new();
    // A key is stored: only the keyring is missing.
    let guard = profile_with_key(&cli, "https://souq.ottu.net", "some-key");
    let p = guard.profile.as_str();
    for args in [
        &["--json", "refresh"][..],
        &["--json", "refresh", "--profile", p][..],
        &["--json", "import", "--profile", p, "--session-id", "S-1"][..],
    ] {
        let run = run_without_keyring(&cli, args);
        assert_eq!(run.code, 1, "{args:?}: {}{}", run.stdout, run.stderr);
        let error = &run.json()["error"];
        assert_eq!(
            error["code"], "secrets.unavailable",
            "{args:?}: {}",
            run.stdout
        );
        let message = error["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("cannot reach the OS keyring"),
            "{args:?}: {message}"
        );
        assert!(run.stderr.contains("keyring"), "{args:?}: {}", run.stderr);
    }
    assert_eq!(payments_in(&cli.db), 0);
    // Text mode too: the keyring's own message on stderr, exit 1.
    let run = run_without_keyring(&cli, &["refresh"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("cannot reach the OS keyring"),
        "{}",
        run.stderr
    );
}

/// With the keyring there, a profile that has genuinely no key stored holds nothing of ours
/// at Ottu: refresh-all skips it and exits 0, reporting the profiles that have one.
#[test]
fn refresh_all_skips_a_profile_without_a_key() {
    if !keyring_required() {
        return;
    }
    let sandbox = queued_pg_sandbox(&[]);
    let cli = Cli::new();
    let keyed = profile_with_key(&cli, sandbox.base_url(), sandbox.api_key());
    let keyless = unique_profile("nokey");
    cli.add_profile(&keyless);
    let run = cli.run(&["--json", "refresh"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let report = run.json();
    let profiles = report["profiles"].as_object().unwrap();
    assert!(profiles.contains_key(&keyed.profile), "{report}");
    assert_eq!(profiles[&keyed.profile]["checked"], 0, "{report}");
    assert!(!profiles.contains_key(&keyless), "{report}");
    assert!(report.get("error").is_none(), "{report}");
    // Named, it is that profile's error: what to run to store the key.
    let named = cli.run(&["--json", "refresh", "--profile", &keyless]);
    assert_eq!(named.code, 1, "{}{}", named.stdout, named.stderr);
    assert_eq!(
        named.json()["error"]["code"],
        "ottu.credential",
        "{}",
        named.stdout
    );
}

fn queued_pg_sandbox(sessions: &[&str]) -> RunningSandbox {
    let sandbox = Sandbox::start(Config::empty()).unwrap();
    for session in sessions {
        let payment: NewPayment = serde_json::from_value(json!({
            "session_id": session, "order_no": format!("O-{session}"), "amount": "10.000",
            "state": "paid", "pg_code": "queued-pg",
        }))
        .unwrap();
        sandbox.add_payment(payment).unwrap();
    }
    sandbox
}

/// One profile whose refresh fails (its key is refused) must not keep the others from being
/// refreshed, and its failure is reported under its own name.
#[test]
fn one_profile_failing_does_not_block_the_others_refresh() {
    if !keyring_required() {
        return;
    }
    let sandbox = queued_pg_sandbox(&["rf-bad", "rf-good"]);
    let cli = Cli::new();
    // Profiles refresh in name order: the failing one goes first.
    let bad = profile_with_key(&cli, sandbox.base_url(), sandbox.api_key());
    let good = profile_with_key(&cli, sandbox.base_url(), sandbox.api_key());
    let (bad, good) = if bad.profile < good.profile {
        (bad, good)
    } else {
        (good, bad)
    };
    for (guard, session) in [(&bad, "rf-bad"), (&good, "rf-good")] {
        cli.ok(&[
            "import",
            "--profile",
            &guard.profile,
            "--session-id",
            session,
        ]);
        cli.ok(&["queue", "refund", "--session-id", session, "--amount", "1"]);
    }
    let synced = cli.ok_json(&["sync"]);
    assert_eq!(synced["succeeded"], 2, "{synced}");
    sandbox.settle_now().unwrap();
    let set = cli.run_stdin(
        &["profile", "set-key", &bad.profile, "--stdin"],
        "not-the-key\n",
    );
    assert_eq!(set.code, 0, "{}", set.stderr);

    let run = cli.run(&["--json", "refresh"]);
    assert_ne!(run.code, 0, "a failed profile is the run's error");
    let report = run.json();
    let profiles = &report["profiles"];
    assert_eq!(profiles[&good.profile]["settled"], 1, "{report}");
    assert_eq!(
        profiles[&bad.profile]["error"]["code"], "ottu.auth",
        "{report}"
    );
    assert_eq!(report["error"]["code"], "refresh.failed", "{report}");
    let shown = cli.ok_json(&["payment", "show", "rf-good"]);
    assert_eq!(shown["children"][0]["state"], "refunded", "{shown}");
}

/// An Ottu that answers every request with a 5xx is not hammered with the whole file: each
/// id is tried a few times, and ten ids in a row without an answer stop the run.
#[test]
fn an_ottu_that_keeps_failing_stops_the_import_after_ten_ids_in_a_row() {
    if !keyring_required() {
        return;
    }
    let all = ids("down", 40);
    let sandbox = sandbox_with(&all);
    sandbox
        .set_faults(daftar_sandbox::FaultConfig::parse("5xx=1,scope=all").unwrap())
        .unwrap();
    let cli = Cli::new();
    let guard = profile_with_key(&cli, sandbox.base_url(), sandbox.api_key());
    let file = write_file(&cli, "ids.txt", &all);

    let (run, summary) = import_json(&cli, &guard.profile, &file);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert_eq!(summary["stopped"]["reason"], "unavailable", "{summary}");
    assert_eq!(summary["error"]["code"], "ottu.unavailable", "{summary}");
    assert_eq!(summary["stopped"]["line"], 10, "{summary}");
    assert_eq!(summary["failed_count"], 9, "{summary}");
    assert_eq!(summary["failed"][0]["line"], 1, "{summary}");
    // Each failure carries its code and params, for a UI's own words.
    assert_eq!(
        summary["failed"][0]["code"], "ottu.unavailable",
        "{summary}"
    );
    assert!(
        summary["failed"][0]["params"]["detail"].is_string(),
        "{summary}"
    );
    let requests = sandbox.state().unwrap().counters.payment_requests;
    assert!(
        (30..40 * 3).contains(&requests),
        "{requests} requests: each of the first ten ids tried 3 times, the rest not all"
    );
    assert_eq!(payments_in(&cli.db), 0);
}

/// A case of an answer that is not Ottu's: its name, the answer, what the stop must say.
type Case = (&'static str, fn() -> Act, &'static [&'static str]);

/// A profile whose base URL is wrong (it points at a web server that answers HTML 404
/// pages, or redirects to a login page) is not "every payment unknown": the import stops at
/// the first answer that is not Ottu's, names the profile, its base URL, the status and the
/// content type, and sends nothing more.
#[test]
fn an_answer_that_is_not_ottus_stops_the_import_at_the_first_id() {
    if !keyring_required() {
        return;
    }
    let all = ids("wrong", 50);
    let cases: [Case; 2] = [
        (
            "HTML 404",
            || {
                hostile::text(
                    "404 Not Found",
                    "text/html; charset=utf-8",
                    "<h1>Not Found</h1>",
                )
            },
            &["HTTP 404", "text/html"],
        ),
        (
            "redirect",
            || {
                Act::Answer(
                    "302 Found",
                    vec![("Location".into(), "https://login.example/".into())],
                    String::new(),
                )
            },
            &["HTTP 302", "https://login.example/"],
        ),
    ];
    for (case, respond, says) in cases {
        let server = Hostile::start(move |_| respond());
        let cli = Cli::new();
        let guard = profile_with_key(&cli, &server.base_url, "sk_test_wrong_base_url");
        let file = write_file(&cli, "ids.txt", &all);

        let (run, summary) = import_json(&cli, &guard.profile, &file);
        assert_eq!(run.code, 1, "{case}: {}{}", run.stdout, run.stderr);
        assert_eq!(
            summary["stopped"]["reason"], "not_ottu",
            "{case}: {summary}"
        );
        assert_eq!(
            summary["error"]["code"], "ottu.not_ottu",
            "{case}: {summary}"
        );
        assert_eq!(summary["stopped"]["line"], 1, "{case}: {summary}");
        assert_eq!(
            summary["stopped"]["session_id"], all[0],
            "{case}: {summary}"
        );
        assert_eq!(summary["failed_count"], 0, "{case}: {summary}");
        let message = summary["error"]["message"].as_str().unwrap();
        for part in [&guard.profile, &server.base_url]
            .into_iter()
            .map(String::as_str)
            .chain(says.iter().copied())
            .chain(["base URL"])
        {
            assert!(message.contains(part), "{case}: no {part:?} in {message}");
        }
        assert_eq!(
            server.seen().len(),
            1,
            "{case}: requests after a not-Ottu answer"
        );
        assert_eq!(payments_in(&cli.db), 0);

        // The text output says it too, on stderr, and exits 1.
        let text = cli.run(&["import", "--profile", &guard.profile, "--from-file", &file]);
        assert_eq!(text.code, 1, "{case}: {}{}", text.stdout, text.stderr);
        assert!(
            text.stderr.contains(&server.base_url),
            "{case}: {}",
            text.stderr
        );
        assert_eq!(server.seen().len(), 2);
    }
}

/// Ottu's own answer for a payment it does not know is a JSON 404 (`{"detail": ...}`): that
/// id is counted as failed and the import goes on with the others.
#[test]
fn an_unknown_id_is_counted_and_the_import_goes_on() {
    if !keyring_required() {
        return;
    }
    let known = ids("known", 6);
    let sandbox = sandbox_with(&known);
    let cli = Cli::new();
    let guard = profile_with_key(&cli, sandbox.base_url(), sandbox.api_key());
    let mut lines = known.clone();
    for at in [0, 3, 8] {
        lines.insert(at, format!("unknown-{at}"));
    }
    let file = write_file(&cli, "ids.txt", &lines);

    let (run, summary) = import_json(&cli, &guard.profile, &file);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(summary["stopped"], Value::Null, "{summary}");
    assert_eq!(summary["added"], 6, "{summary}");
    assert_eq!(summary["failed_count"], 3, "{summary}");
    let failed: Vec<_> = summary["failed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["line"].as_u64().unwrap(),
                f["session_id"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        failed,
        [(1, "unknown-0"), (4, "unknown-3"), (9, "unknown-8")],
        "{summary}"
    );
    assert!(
        summary["failed"][0]["error"]
            .as_str()
            .unwrap()
            .contains("Ottu knows no such payment"),
        "{summary}"
    );
    assert_eq!(summary["failed"][0]["code"], "not_found", "{summary}");
    assert_eq!(
        summary["failed"][0]["params"]["what"], "payment",
        "{summary}"
    );
    assert_eq!(
        summary["failed"][0]["params"]["id"], "unknown-0",
        "{summary}"
    );
    assert_eq!(payments_in(&cli.db), 6);
    assert_eq!(sandbox.state().unwrap().counters.payment_requests, 9);
}

/// `refresh` against a profile whose base URL now leads to a web server (HTML 404 pages):
/// it stops at the first child, names the profile and the base URL, and asks no more.
#[test]
fn refresh_stops_at_the_first_answer_that_is_not_ottus() {
    if !keyring_required() {
        return;
    }
    let sessions = ["rn-1", "rn-2", "rn-3"];
    let sandbox = queued_pg_sandbox(&sessions);
    let cli = Cli::new();
    let guard = profile_with_key(&cli, sandbox.base_url(), sandbox.api_key());
    for session in sessions {
        cli.ok(&[
            "import",
            "--profile",
            &guard.profile,
            "--session-id",
            session,
        ]);
        cli.ok(&["queue", "refund", "--session-id", session, "--amount", "1"]);
    }
    let synced = cli.ok_json(&["sync"]);
    assert_eq!(synced["succeeded"], 3, "{synced}");

    let server =
        Hostile::start(|_| hostile::text("404 Not Found", "text/html", "<h1>Not Found</h1>"));
    cli.ok(&[
        "profile",
        "set",
        &guard.profile,
        "--base-url",
        &server.base_url,
    ]);
    let set = cli.run_stdin(
        &["profile", "set-key", &guard.profile, "--stdin"],
        "sk_test_wrong_base_url\n",
    );
    assert_eq!(set.code, 0, "{}", set.stderr);

    let run = cli.run(&["--json", "refresh", "--profile", &guard.profile]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let report = run.json();
    // With --profile, the profile's error is the run's.
    let error = &report["error"];
    assert_eq!(error["code"], "ottu.not_ottu", "{report}");
    let message = error["message"].as_str().unwrap();
    for part in [
        guard.profile.as_str(),
        server.base_url.as_str(),
        "HTTP 404",
        "text/html",
    ] {
        assert!(message.contains(part), "no {part:?} in {message}");
    }
    assert_eq!(server.seen().len(), 1, "requests after a not-Ottu answer");
}
