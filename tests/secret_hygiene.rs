//! Secret hygiene: a distinctive key and Basic password go into the real OS keyring
//! through the `daftar` binary, then a scenario runs every kind of command (text and
//! `--json`, successes and error paths). Afterwards neither secret may appear in any byte
//! of the ledger file, its `-wal` and `-shm` files, or anything the binary printed.
//!
//! To extend it (e.g. with a sync against the sandbox), add steps to the scenario with
//! `Scenario::run`: their output is checked with the rest.

mod common;

use std::path::PathBuf;

use common::keyring::{Echo, EchoServer, LedgerCleanup, base64, keyring_required, unique_profile};
use common::ottu::basic_sandbox;
use common::{Cli, Run};

/// Runs commands and keeps every byte they printed.
struct Scenario {
    cli: Cli,
    printed: Vec<u8>,
}

impl Scenario {
    fn run(&mut self, args: &[&str], stdin: &str) -> Run {
        let run = self.cli.run_stdin(args, stdin);
        self.keep(&run);
        run
    }

    fn run_env(&mut self, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Run {
        let run = self.cli.run_stdin_env(args, stdin, env);
        self.keep(&run);
        run
    }

    fn keep(&mut self, run: &Run) {
        self.printed.extend_from_slice(run.stdout.as_bytes());
        self.printed.extend_from_slice(run.stderr.as_bytes());
    }

    /// Runs with and without `--json`, insisting on `code` both times.
    fn both(&mut self, args: &[&str], stdin: &str, code: i32) {
        for json in [false, true] {
            let mut all = Vec::new();
            if json {
                all.push("--json");
            }
            all.extend_from_slice(args);
            let run = self.run(&all, stdin);
            assert_eq!(
                run.code, code,
                "daftar {all:?}: {}{}",
                run.stdout, run.stderr
            );
        }
    }

    fn ledger_files(&self) -> Vec<PathBuf> {
        let db = self.cli.db.to_string_lossy().into_owned();
        [db.clone(), format!("{db}-wal"), format!("{db}-shm")]
            .into_iter()
            .map(PathBuf::from)
            .filter(|p| p.exists())
            .collect()
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The forms a secret could leak in: as is, JSON-escaped (`/` as `\/`), and the Basic
/// header's base64 of `user:password`.
fn leak_forms(key: &str, user: &str, password: &str) -> Vec<Vec<u8>> {
    let basic = base64(format!("{user}:{password}").as_bytes());
    let mut forms = vec![
        key.as_bytes().to_vec(),
        password.as_bytes().to_vec(),
        basic.into_bytes(),
    ];
    for secret in [key, password] {
        if secret.contains('/') {
            forms.push(secret.replace('/', "\\/").into_bytes());
        }
    }
    forms
}

/// Fails naming the file (or "the output") and the form that leaked.
fn assert_no_leak(s: &Scenario, forms: &[Vec<u8>]) {
    for path in s.ledger_files() {
        let bytes = std::fs::read(&path).unwrap();
        for form in forms {
            assert!(
                !contains(&bytes, form),
                "a secret ({}) is in {}",
                String::from_utf8_lossy(form),
                path.display()
            );
        }
    }
    for form in forms {
        if let Some(at) = s
            .printed
            .windows(form.len())
            .position(|w| w == form.as_slice())
        {
            let from = at.saturating_sub(300);
            panic!(
                "a secret ({}) was printed: ...{}...",
                String::from_utf8_lossy(form),
                String::from_utf8_lossy(
                    &s.printed[from..(at + form.len() + 100).min(s.printed.len())]
                )
            );
        }
    }
}

#[test]
fn the_base64_helper_matches_rfc_4648() {
    assert_eq!(base64(b""), "");
    assert_eq!(base64(b"f"), "Zg==");
    assert_eq!(base64(b"fo"), "Zm8=");
    assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    assert_eq!(base64(b"amal:pw"), "YW1hbDpwdw==");
}

#[test]
fn no_secret_reaches_the_ledger_files_or_any_output() {
    if !keyring_required() {
        return;
    }
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    let key = format!("sk_live_HYGIENE_{nonce}_KEY");
    let user = "amal";
    let password = format!("pw-HYGIENE-{nonce}-PASS");
    let profile = unique_profile("hyg");
    let mut s = Scenario {
        cli: Cli::new(),
        printed: Vec::new(),
    };
    let _cleanup = LedgerCleanup {
        db: s.cli.db.clone(),
        users: vec![user.to_string()],
        origins: vec![],
    };
    let p = profile.as_str();
    let key_line = format!("{key}\n");
    let password_line = format!("{password}\n");

    s.both(&["profile", "list"], "", 0);
    s.run(
        &[
            "profile",
            "add",
            p,
            "--base-url",
            "https://souq.ottu.net",
            "--currency",
            "KWD",
        ],
        "",
    );
    // Hold a connection open for the whole scenario so the -wal and -shm files stay on
    // disk to be searched (SQLite removes them when the last connection closes).
    let held = rusqlite::Connection::open(&s.cli.db).unwrap();
    held.query_row("SELECT count(*) FROM profiles", [], |r| r.get::<_, i64>(0))
        .unwrap();
    for (session, order, amount, state) in [
        ("hyg-s1", "hyg-o1", "10", "paid"),
        ("hyg-s2", "hyg-o2", "20", "authorized"),
    ] {
        s.run(
            &[
                "payment",
                "add",
                "--profile",
                p,
                "--session-id",
                session,
                "--order-no",
                order,
                "--amount",
                amount,
                "--currency",
                "KWD",
                "--state",
                state,
            ],
            "",
        );
    }

    // The key: set (text and JSON), overwritten with the same, shown.
    s.both(&["profile", "set-key", p, "--stdin"], &key_line, 0);
    s.both(&["profile", "show", p], "", 0);
    s.both(&["profile", "list"], "", 0);

    // Queue commands, lists, status.
    s.both(
        &[
            "queue",
            "refund",
            "--session-id",
            "hyg-s1",
            "--amount",
            "1",
            "--reason",
            "hygiene",
        ],
        "",
        0,
    );
    s.both(
        &["queue", "capture", "--order-no", "hyg-o2", "--amount", "2"],
        "",
        0,
    );
    s.both(&["queue", "list"], "", 0);
    s.both(&["payment", "list"], "", 0);
    s.both(&["payment", "show", "hyg-s1"], "", 0);
    s.both(&["status"], "", 0);

    // Error paths, with the secret on stdin each time.
    let blank_in_key = format!("{key} {key}\n");
    s.both(&["profile", "set-key", p, "--stdin"], &blank_in_key, 2);
    let control_in_password = format!("{password}\u{7}{password}\n");
    s.both(
        &["profile", "set-key", p, "--stdin", "--basic-user", user],
        &control_in_password,
        2,
    );
    s.both(
        &["profile", "set-key", "no-such-profile", "--stdin"],
        &key_line,
        4,
    );
    s.both(
        &[
            "queue",
            "refund",
            "--session-id",
            "hyg-s1",
            "--amount",
            "999",
        ],
        "",
        3,
    );
    for json in [false, true] {
        let args: &[&str] = if json {
            &["--json", "profile", "set-key", p, "--stdin"]
        } else {
            &["profile", "set-key", p, "--stdin"]
        };
        let bogus = [(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/daftar-bus",
        )];
        let run = s.run_env(args, &key_line, &bogus);
        assert_eq!(run.code, 1, "no keyring: {}", run.stderr);
    }

    // Switch to Basic, then remove the key.
    s.both(
        &["profile", "set-key", p, "--stdin", "--basic-user", user],
        &password_line,
        0,
    );
    s.both(&["profile", "show", p], "", 0);
    s.both(&["status"], "", 0);
    s.run(&["profile", "remove-key", p], "");
    s.both(&["profile", "show", p], "", 0);

    // The scenario really ran: the keyring was used and the events were written.
    let events: i64 = held
        .query_row(
            "SELECT count(*) FROM events WHERE action LIKE 'profile.key_%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(events >= 4, "only {events} key events recorded");
    let printed = String::from_utf8_lossy(&s.printed);
    assert!(printed.contains("\"key_stored\": true"), "{printed}");
    assert!(printed.contains("\"key_stored\": false"), "{printed}");

    let forms = leak_forms(&key, user, &password);
    let files = s.ledger_files();
    assert!(
        files.len() == 3,
        "expected the ledger, -wal and -shm files: {files:?}"
    );
    for path in &files {
        let bytes = std::fs::read(path).unwrap();
        for form in &forms {
            assert!(!contains(&bytes, form), "a secret is in {}", path.display());
        }
    }
    for form in &forms {
        assert!(!contains(&s.printed, form), "a secret was printed");
    }

    // And once more after the last connection closes (SQLite checkpoints the WAL).
    drop(held);
    for path in s.ledger_files() {
        let bytes = std::fs::read(&path).unwrap();
        for form in &forms {
            assert!(!contains(&bytes, form), "a secret is in {}", path.display());
        }
    }
}

/// The same check across the commands that talk to Ottu: import, sync (text and JSON,
/// with faults, a refused credential and a stored key), refresh. The sandbox is started
/// with the distinctive key, so every request carries it.
#[test]
fn no_secret_leaks_through_import_and_sync_against_the_sandbox() {
    if !keyring_required() {
        return;
    }
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    let key = format!("sk_live_SYNCHYG_{nonce}_KEY");
    let user = "clerk";
    let password = format!("pw-SYNCHYG-{nonce}-PASS");
    let sandbox = basic_sandbox(
        &key,
        user,
        &password,
        &[("sh-1", "paid"), ("sh-2", "paid"), ("sh-3", "authorized")],
    );
    let profile = unique_profile("synchyg");
    let mut s = Scenario {
        cli: Cli::new(),
        printed: Vec::new(),
    };
    let _cleanup = LedgerCleanup {
        db: s.cli.db.clone(),
        users: vec![user.to_string()],
        origins: vec![],
    };
    let p = profile.as_str();
    s.run(
        &[
            "profile",
            "add",
            p,
            "--base-url",
            sandbox.base_url(),
            "--currency",
            "KWD",
        ],
        "",
    );
    let held = rusqlite::Connection::open(&s.cli.db).unwrap();
    held.query_row("SELECT count(*) FROM profiles", [], |r| r.get::<_, i64>(0))
        .unwrap();

    // Without a key, then with a Basic user lacking payment.refund (403), then the key.
    s.both(&["import", "--profile", p, "--session-id", "sh-1"], "", 1);
    s.both(
        &["profile", "set-key", p, "--stdin", "--basic-user", user],
        &format!("{password}\n"),
        0,
    );
    s.both(
        &[
            "import",
            "--profile",
            p,
            "--session-id",
            "sh-1",
            "sh-2",
            "sh-3",
            "nope",
        ],
        "",
        0,
    );
    s.both(
        &["queue", "refund", "--session-id", "sh-1", "--amount", "1"],
        "",
        0,
    );
    s.both(
        &["queue", "capture", "--session-id", "sh-3", "--amount", "2"],
        "",
        0,
    );
    s.both(&["sync"], "", 0);
    let show = s.run(&["--json", "profile", "show", p], "").json();
    assert!(
        show["paused_reason"]
            .as_str()
            .unwrap_or("")
            .contains("payment.refund"),
        "{show}"
    );
    s.both(
        &["profile", "set-key", p, "--stdin"],
        &format!("{key}\n"),
        0,
    );
    sandbox
        .set_faults(daftar_sandbox::FaultConfig {
            rate_malformed: 0.3,
            rate_5xx: 0.3,
            ..daftar_sandbox::FaultConfig::none()
        })
        .unwrap();
    s.both(
        &["queue", "refund", "--session-id", "sh-2", "--amount", "2"],
        "",
        0,
    );
    s.both(&["sync"], "", 0);
    sandbox
        .set_faults(daftar_sandbox::FaultConfig::none())
        .unwrap();
    s.both(&["sync"], "", 0);
    sandbox.settle_now().unwrap();
    s.both(&["refresh", "--profile", p], "", 0);
    s.both(&["payment", "show", "sh-2"], "", 0);
    s.both(&["status"], "", 0);
    let status = s.run(&["--json", "status"], "").json();
    // Each queue command ran twice (text and JSON): six operations.
    assert_eq!(status["succeeded"], 6, "{status}");

    // The requests really carried the key.
    let state = sandbox.state().unwrap();
    assert!(
        state.counters.operations_applied >= 4,
        "{:?}",
        state.counters
    );

    let forms = leak_forms(&key, user, &password);
    for path in s.ledger_files() {
        let bytes = std::fs::read(&path).unwrap();
        for form in &forms {
            assert!(!contains(&bytes, form), "a secret is in {}", path.display());
        }
    }
    for form in &forms {
        assert!(!contains(&s.printed, form), "a secret was printed");
    }
    drop(held);
}

/// A server that echoes the `Authorization` header back, in every way a real one might: a
/// 401 detail, a 403 detail, an HTML 500 debug page, a 200 success (with `/` escaped as
/// `\/`), a retrieved payment, and a response header. Import, sync and refresh run against
/// it with an API key and with a Basic user; the credential must not reach the ledger
/// files or any output, and the echoes must really have arrived (scrubbed to `<redacted>`).
#[test]
fn a_server_echoing_the_credential_leaves_no_trace() {
    if !keyring_required() {
        return;
    }
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    // A '/' makes the JSON echo differ from the raw key (`\/`), as Django's encoder may.
    let key = format!("sk_live_ECHO/{nonce}_KEY");
    let user = "clerk";
    let password = format!("pw/ECHO-{nonce}-PASS");
    let server = EchoServer::start(Echo::Unauthorized);
    let profile = unique_profile("echo");
    let mut s = Scenario {
        cli: Cli::new(),
        printed: Vec::new(),
    };
    let _cleanup = LedgerCleanup {
        db: s.cli.db.clone(),
        users: vec![user.to_string()],
        origins: vec![],
    };
    let p = profile.as_str();
    s.run(
        &[
            "profile",
            "add",
            p,
            "--base-url",
            &server.base_url,
            "--currency",
            "KWD",
        ],
        "",
    );
    let held = rusqlite::Connection::open(&s.cli.db).unwrap();
    held.query_row("SELECT count(*) FROM profiles", [], |r| r.get::<_, i64>(0))
        .unwrap();
    s.run(
        &[
            "payment",
            "add",
            "--profile",
            p,
            "--session-id",
            "echo-1",
            "--order-no",
            "E-1",
            "--amount",
            "10",
            "--currency",
            "KWD",
            "--state",
            "paid",
        ],
        "",
    );
    let ok = Echo::Ok {
        session_id: "echo-1".into(),
        amount: "1.000".into(),
    };
    let set_api_key = |s: &mut Scenario| {
        let run = s.run(&["profile", "set-key", p, "--stdin"], &format!("{key}\n"));
        assert_eq!(run.code, 0, "{}", run.stderr);
    };
    let queue_refund = |s: &mut Scenario| {
        let run = s.run(
            &["queue", "refund", "--session-id", "echo-1", "--amount", "1"],
            "",
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
    };

    set_api_key(&mut s);
    // Import: each answer, text and JSON.
    for mode in [
        Echo::Unauthorized,
        Echo::HtmlError,
        ok.clone(),
        Echo::Forbidden,
    ] {
        server.set(mode);
        for json in [false, true] {
            let mut args = vec!["import", "--profile", p, "--session-id", "echo-2"];
            if json {
                args.insert(0, "--json");
            }
            s.run(&args, "");
        }
    }
    // Sync: a 401 pauses the profile with Ottu's detail as the reason.
    queue_refund(&mut s);
    server.set(Echo::Unauthorized);
    s.both(&["sync"], "", 0);
    s.both(&["status"], "", 0);
    s.both(&["profile", "show", p], "", 0);
    // The key again (lifts the pause); a 500 page, then a success that echoes the key.
    set_api_key(&mut s);
    server.set_once(Echo::HtmlError, Echo::Unauthorized);
    s.run(&["sync"], "");
    set_api_key(&mut s);
    server.set_once(Echo::HtmlError, Echo::Unauthorized);
    s.run(&["--json", "sync"], "");
    set_api_key(&mut s);
    s.run(&["queue", "list"], "");
    s.run(&["--json", "queue", "list"], "");
    server.set(ok.clone());
    s.run(&["sync", "--once"], "");
    queue_refund(&mut s);
    s.run(&["--json", "sync"], "");
    s.both(&["payment", "show", "echo-1"], "", 0);
    s.run(&["refresh", "--profile", p], "");
    s.run(&["--json", "refresh", "--profile", p], "");
    // A Basic user: a 403 echoing the Basic header, then a 401, then a 500 page.
    let run = s.run(
        &["profile", "set-key", p, "--stdin", "--basic-user", user],
        &format!("{password}\n"),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    queue_refund(&mut s);
    for mode in [Echo::Forbidden, Echo::Unauthorized, Echo::HtmlError, ok] {
        server.set_once(mode.clone(), Echo::Forbidden);
        s.run(&["--json", "sync"], "");
        server.set(mode);
        s.run(&["--json", "profile", "show", p], "");
        s.run(&["import", "--profile", p, "--session-id", "echo-3"], "");
        s.run(&["--json", "refresh", "--profile", p], "");
        let run = s.run(
            &["profile", "set-key", p, "--stdin", "--basic-user", user],
            &format!("{password}\n"),
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    // Last, an HTML 500 page is the final answer an operation got before the run ended.
    queue_refund(&mut s);
    server.set_once(Echo::HtmlError, Echo::Unauthorized);
    s.run(&["--json", "sync"], "");
    s.both(&["status"], "", 0);
    s.both(&["queue", "list"], "", 0);

    // The echoes really came back, and were scrubbed.
    let seen = server.seen();
    assert!(
        seen.iter().any(|(_, auth)| auth.contains(&key)),
        "the key was never sent: {seen:?}"
    );
    assert!(
        seen.iter().any(|(_, auth)| auth.starts_with("Basic ")),
        "the Basic header was never sent"
    );
    let forms = leak_forms(&key, user, &password);
    assert_eq!(s.ledger_files().len(), 3, "the ledger, -wal and -shm files");
    assert_no_leak(&s, &forms);
    let printed = String::from_utf8_lossy(&s.printed);
    assert!(
        printed.contains("<redacted>"),
        "no echo was printed: {printed}"
    );
    // Each path reached the ledger, scrubbed: a pause reason (401 and 403) in the events, a
    // success's reply, and the HTML 500 page kept as an operation's last reply.
    let count = |sql: &str| -> i64 { held.query_row(sql, [], |r| r.get(0)).unwrap() };
    for (what, sql) in [
        (
            "a scrubbed 401 pause reason",
            "SELECT count(*) FROM events WHERE action = 'profile.paused' AND after_json LIKE '%HTTP 401%<redacted>%'",
        ),
        (
            "a scrubbed 403 pause reason",
            "SELECT count(*) FROM events WHERE action = 'profile.paused' AND after_json LIKE '%payment.refund%<redacted>%'",
        ),
        (
            "a scrubbed success reply",
            "SELECT count(*) FROM operations WHERE status = 'succeeded' AND reply_json LIKE '%Done for %<redacted>%'",
        ),
        (
            "the scrubbed HTML 500 page",
            "SELECT count(*) FROM operations WHERE reply_json LIKE '%Server Error (500)%<redacted>%'",
        ),
    ] {
        assert!(
            count(sql) > 0,
            "the ledger holds no {what}: the scenario missed a path"
        );
    }
    drop(held);
    assert_no_leak(&s, &forms);
}

/// A fake Ottu whose answers echo the `Authorization` header inside a body longer than
/// the part of an answer the ledger keeps: each request takes the next answer queued, then
/// a plain 401.
struct CutServer {
    base_url: String,
    answers: std::sync::Arc<std::sync::Mutex<std::collections::VecDeque<CutAnswer>>>,
    seen: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

#[derive(Clone, Copy, Debug)]
struct CutAnswer {
    status: &'static str,
    content_type: &'static str,
    /// Where the key (after `Api-Key `) starts in the body.
    key_at: usize,
    /// A byte that is not UTF-8 in the body (the scrubber's byte path).
    binary: bool,
}

impl CutServer {
    fn start() -> CutServer {
        use std::io::{BufRead as _, Read as _, Write as _};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let answers = std::sync::Arc::new(std::sync::Mutex::new(std::collections::VecDeque::<
            CutAnswer,
        >::new()));
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (queue, log) = (answers.clone(), seen.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(10)));
                let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
                let (mut auth, mut length) = (String::new(), 0usize);
                let mut first = true;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        break;
                    }
                    let line = line.trim_end();
                    if line.is_empty() && !first {
                        break;
                    }
                    first = false;
                    if let Some((name, value)) = line.split_once(':') {
                        match name.trim().to_ascii_lowercase().as_str() {
                            "authorization" => auth = value.trim().to_string(),
                            "content-length" => length = value.trim().parse().unwrap_or(0),
                            _ => {}
                        }
                    }
                }
                let mut request_body = vec![0; length];
                let _ = reader.read_exact(&mut request_body);
                log.lock().unwrap().push(auth.clone());
                let answer = queue.lock().unwrap().pop_front();
                let (status, content_type, body) = match answer {
                    Some(answer) => (answer.status, answer.content_type, answer.body(&auth)),
                    None => (
                        "401 Unauthorized",
                        "application/json",
                        br#"{"detail": "Invalid credentials."}"#.to_vec(),
                    ),
                };
                let head = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&body);
                let _ = stream.flush();
            }
        });
        CutServer {
            base_url,
            answers,
            seen,
        }
    }

    fn queue(&self, answers: &[CutAnswer]) {
        self.answers.lock().unwrap().extend(answers.iter().copied());
    }
}

impl CutAnswer {
    /// `auth` (`Api-Key KEY`) with the key starting at `key_at`, in a body 4 KB longer than
    /// what is kept.
    fn body(&self, auth: &str) -> Vec<u8> {
        let scheme = auth.len() - auth.trim_start_matches("Api-Key ").len();
        let mut body = b"<html><body><h1>Server Error</h1><pre>".to_vec();
        if self.binary {
            body.push(0xff);
        }
        let echo_at = self.key_at - scheme;
        assert!(
            body.len() <= echo_at,
            "the key cannot start at {}",
            self.key_at
        );
        body.resize(echo_at, b'.');
        body.extend_from_slice(auth.as_bytes());
        body.resize(KEPT_BYTES + 4096, b'.');
        body.extend_from_slice(b"</pre></body></html>");
        body
    }
}

/// What the ledger keeps of an answer (`OTTU_MAX_KEPT_BODY_BYTES`).
const KEPT_BYTES: usize = 8 * 1024;

#[test]
fn a_key_echoed_at_the_cut_of_a_kept_answer_leaves_no_part_of_it() {
    if !keyring_required() {
        return;
    }
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    // Every 8 characters from its start are unique to this test.
    let key = format!("K{nonce}CUT");
    let server = CutServer::start();
    // The key across the cut, ending at it, a byte past it, and its first 8 characters
    // just before it; each in a text and a non-UTF-8 body.
    let len = key.len();
    for key_at in [
        KEPT_BYTES - len / 2,
        KEPT_BYTES - len,
        KEPT_BYTES - len + 1,
        KEPT_BYTES - 8,
        KEPT_BYTES - 1,
    ] {
        for binary in [false, true] {
            echo_at_the_cut(&server, &key, key_at, binary);
        }
    }
    let seen = server.seen.lock().unwrap().clone();
    assert!(
        seen.iter().any(|auth| auth.contains(&key)),
        "the key was never sent: {seen:?}"
    );
}

/// One ledger: a sync keeps a 500 page with the key at `key_at` (then a 401 pauses the
/// profile), and an import stops at a 404 page with it; no part of the key from its start
/// 8 characters or longer may be in the ledger files or the output.
fn echo_at_the_cut(server: &CutServer, key: &str, key_at: usize, binary: bool) {
    let profile = unique_profile("cut");
    let mut s = Scenario {
        cli: Cli::new(),
        printed: Vec::new(),
    };
    let _cleanup = LedgerCleanup {
        db: s.cli.db.clone(),
        users: vec![],
        origins: vec![],
    };
    let p = profile.as_str();
    let html = |status| CutAnswer {
        status,
        content_type: "text/html",
        key_at,
        binary,
    };
    let case = format!("key at byte {key_at}, binary {binary}");
    for (args, stdin) in [
        (
            vec![
                "profile",
                "add",
                p,
                "--base-url",
                &server.base_url,
                "--currency",
                "KWD",
            ],
            String::new(),
        ),
        (
            vec![
                "payment",
                "add",
                "--profile",
                p,
                "--session-id",
                "cut-1",
                "--order-no",
                "C-1",
                "--amount",
                "10",
                "--currency",
                "KWD",
                "--state",
                "paid",
            ],
            String::new(),
        ),
        (
            vec!["queue", "refund", "--session-id", "cut-1", "--amount", "1"],
            String::new(),
        ),
        (vec!["profile", "set-key", p, "--stdin"], format!("{key}\n")),
    ] {
        let run = s.run(&args, &stdin);
        assert_eq!(run.code, 0, "{case}: {args:?}: {}", run.stderr);
    }
    // Keeps the -wal file from being checkpointed away when each command closes.
    let held = rusqlite::Connection::open(&s.cli.db).unwrap();
    held.query_row("SELECT count(*) FROM profiles", [], |r| r.get::<_, i64>(0))
        .unwrap();
    server.queue(&[html("500 Internal Server Error")]);
    s.run(&["--json", "sync"], "");
    let run = s.run(&["profile", "set-key", p, "--stdin"], &format!("{key}\n"));
    assert_eq!(run.code, 0, "{case}: {}", run.stderr);
    for json in [false, true] {
        server.queue(&[html("404 Not Found")]);
        let mut args = vec!["import", "--profile", p, "--session-id", "cut-2"];
        if json {
            args.insert(0, "--json");
        }
        let run = s.run(&args, "");
        assert_eq!(run.code, 1, "{case}: {}{}", run.stdout, run.stderr);
    }
    s.both(&["queue", "list"], "", 0);
    s.both(&["status"], "", 0);
    // The page reached the ledger, cut (where the key sat across the cut, `<redacted>` may
    // be cut instead).
    let kept: i64 = held
        .query_row(
            "SELECT count(*) FROM operations WHERE reply_json LIKE '%Server Error%more bytes not kept%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(kept, 1, "{case}: the operation did not keep the cut page");
    // Every part of the key from its start, 8 characters or longer, holds the first 8.
    let forms = vec![key.as_bytes()[..8].to_vec(), key.as_bytes().to_vec()];
    assert_eq!(s.ledger_files().len(), 3, "the ledger, -wal and -shm files");
    assert_no_leak(&s, &forms);
    drop(held);
    assert_no_leak(&s, &forms);
}
