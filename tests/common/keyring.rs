//! Helpers for the tests that need the real OS keyring (see `tests/secrets_keyring.rs`).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use daftar::model::ProfileName;
use daftar::secrets::{CredentialOwner, KeyringStore, SecretSlot, SecretStore};

use super::{Cli, Run, finish};

/// False (skip) only when `DAFTAR_SKIP_KEYRING_TESTS=1` is set on purpose; panics, saying
/// how to get one, when no keyring is reachable. `scripts/test.sh` never sets it.
pub fn keyring_required() -> bool {
    if std::env::var("DAFTAR_SKIP_KEYRING_TESTS").as_deref() == Ok("1") {
        eprintln!("DAFTAR_SKIP_KEYRING_TESTS=1: keyring test skipped");
        return false;
    }
    let probe = api_slot(&test_owner("https://probe.example:443"));
    if let Err(error) = KeyringStore::with_service("daftar-test-probe").get(&probe) {
        panic!(
            "this test needs a real, unlocked OS keyring and none is reachable: {error}\n\
             Run it through scripts/test.sh (make test), which starts one inside \
             dbus-run-session; or set DAFTAR_SKIP_KEYRING_TESTS=1 to skip it on purpose."
        );
    }
    true
}

/// A profile name no other test (or earlier run) uses. Entries are filed under ids, not
/// names, but a unique name keeps each test's output apart.
pub fn unique_profile(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

/// Whom a profile's credential belongs to in the ledger at `db`, as the binary files it:
/// read straight from SQLite (the ids) and the profile's base URL (the origin).
pub fn owner_of(db: &Path, profile: &str) -> CredentialOwner {
    let conn = rusqlite::Connection::open(db).unwrap();
    let (ledger_uid, profile_uid, base_url): (String, String, String) = conn
        .query_row(
            "SELECT (SELECT uid FROM ledger_identity), uid, base_url FROM profiles WHERE name = ?1",
            [profile],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    CredentialOwner {
        ledger_uid,
        profile_uid,
        profile: ProfileName::parse(profile).unwrap(),
        origin: daftar::ottu::origin_of(&base_url).unwrap(),
    }
}

/// A slot for a made-up owner (the store tests need no ledger).
pub fn test_owner(origin: &str) -> CredentialOwner {
    CredentialOwner {
        ledger_uid: uuid::Uuid::new_v4().simple().to_string(),
        profile_uid: uuid::Uuid::new_v4().simple().to_string(),
        profile: ProfileName::parse("souq").unwrap(),
        origin: origin.to_string(),
    }
}

pub fn api_slot(owner: &CredentialOwner) -> SecretSlot {
    SecretSlot::ApiKey {
        owner: owner.clone(),
    }
}

pub fn basic_slot(owner: &CredentialOwner, user: &str) -> SecretSlot {
    SecretSlot::BasicPassword {
        owner: owner.clone(),
        user: user.to_string(),
    }
}

/// Deletes the entries it names when the test ends, even when it fails.
pub struct Cleanup(pub KeyringStore, pub Vec<SecretSlot>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        for slot in &self.1 {
            let _ = self.0.delete(slot);
        }
    }
}

/// At the end of a test, deletes the API key and the `users`' Basic passwords of every
/// profile of the ledger at `db`, for the profile's base URL and for `origins`.
pub struct LedgerCleanup {
    pub db: PathBuf,
    pub users: Vec<String>,
    pub origins: Vec<String>,
}

impl Drop for LedgerCleanup {
    fn drop(&mut self) {
        let Ok(conn) = rusqlite::Connection::open(&self.db) else {
            return;
        };
        let Ok(mut stmt) = conn.prepare("SELECT name FROM profiles") else {
            return;
        };
        let names: Vec<String> = stmt
            .query_map([], |r| r.get(0))
            .map(|rows| rows.filter_map(Result::ok).collect())
            .unwrap_or_default();
        let store = KeyringStore::new();
        for name in names {
            let owner = owner_of(&self.db, &name);
            let mut origins = self.origins.clone();
            origins.push(owner.origin.clone());
            for origin in origins {
                let owner = CredentialOwner {
                    origin,
                    ..owner.clone()
                };
                let _ = store.delete(&api_slot(&owner));
                for user in &self.users {
                    let _ = store.delete(&basic_slot(&owner, user));
                }
            }
        }
    }
}

/// A hostile (or just recording) HTTP server on loopback: it answers every request with
/// what the current [`Echo`] mode says, putting the request's `Authorization` header into
/// the answer, and records each request's first line and `Authorization` header.
pub struct EchoServer {
    pub base_url: String,
    /// The answer to give, and the one to switch to after giving it once (if any).
    mode: Arc<Mutex<(Echo, Option<Echo>)>>,
    seen: Arc<Mutex<Vec<(String, String)>>>,
}

/// What the [`EchoServer`] answers, each echoing the `Authorization` header it was sent.
#[derive(Clone, Debug)]
pub enum Echo {
    /// 401 with `{"detail": "... <header>"}`.
    Unauthorized,
    /// 403 naming `payment.refund`, with the header.
    Forbidden,
    /// An HTML 500 page (a framework's debug page) showing the header, `/` escaped.
    HtmlError,
    /// 200: a JSON success for `amount` naming the header in `detail`, every `/` written
    /// as an escaped slash; for a retrieve, a paid 100.000 KWD payment naming it in fields.
    Ok { session_id: String, amount: String },
}

impl EchoServer {
    pub fn start(mode: Echo) -> EchoServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let mode = Arc::new(Mutex::new((mode, None)));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (thread_mode, thread_seen) = (mode.clone(), seen.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (mode, seen) = (thread_mode.clone(), thread_seen.clone());
                std::thread::spawn(move || serve_one(stream, &mode, &seen));
            }
        });
        EchoServer {
            base_url,
            mode,
            seen,
        }
    }

    /// Answers every request so from now on.
    pub fn set(&self, mode: Echo) {
        *self.mode.lock().unwrap() = (mode, None);
    }

    /// Answers the next request with `first`, then every later one with `then` (so a sync
    /// that retries a 5xx does not retry for minutes).
    pub fn set_once(&self, first: Echo, then: Echo) {
        *self.mode.lock().unwrap() = (first, Some(then));
    }

    /// `(request line, Authorization header)` of every request so far.
    pub fn seen(&self) -> Vec<(String, String)> {
        self.seen.lock().unwrap().clone()
    }
}

fn serve_one(
    mut stream: TcpStream,
    mode: &Mutex<(Echo, Option<Echo>)>,
    seen: &Mutex<Vec<(String, String)>>,
) {
    let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(10)));
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
        return;
    }
    let (mut auth, mut length) = (String::new(), 0usize);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            match name.trim().to_ascii_lowercase().as_str() {
                "authorization" => auth = value.trim().to_string(),
                "content-length" => length = value.trim().parse().unwrap_or(0),
                _ => {}
            }
        }
    }
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    seen.lock()
        .unwrap()
        .push((request_line.trim_end().to_string(), auth.clone()));
    let json_echo = serde_json::to_string(&auth).unwrap().replace('/', "\\/");
    let answer = {
        let mut mode = mode.lock().unwrap();
        let answer = mode.0.clone();
        if let Some(then) = mode.1.take() {
            mode.0 = then;
        }
        answer
    };
    let (status, content_type, body) = match answer {
        Echo::Unauthorized => (
            "401 Unauthorized",
            "application/json",
            format!(r#"{{"detail": "Invalid credentials: {}}}"#, &json_echo[1..]),
        ),
        Echo::Forbidden => (
            "403 Forbidden",
            "application/json",
            format!(
                r#"{{"detail": "You do not have permission payment.refund. Sent: {}}}"#,
                &json_echo[1..]
            ),
        ),
        Echo::HtmlError => (
            "500 Internal Server Error",
            "text/html",
            format!(
                "<html><body><h1>Server Error (500)</h1><table><tr><td>HTTP_AUTHORIZATION</td><td><pre>&#x27;{}&#x27;</pre></td></tr></table></body></html>",
                auth.replace('&', "&amp;")
                    .replace('<', "&lt;")
                    .replace('>', "&gt;")
            ),
        ),
        Echo::Ok { session_id, amount } => {
            let echo = &json_echo[1..json_echo.len() - 1];
            if request_line.starts_with("GET") {
                (
                    "200 OK",
                    "application/json",
                    format!(
                        r#"{{"session_id": "{session_id}", "order_no": "{echo}", "amount": "100.000", "currency_code": "KWD", "state": "paid", "customer_email": "{echo}"}}"#
                    ),
                )
            } else {
                (
                    "200 OK",
                    "application/json",
                    format!(
                        r#"{{"result": "success", "detail": "Done for {echo}", "operation": "refund", "amount": "{amount}", "session_id": "{session_id}", "reference_number": "{echo}"}}"#
                    ),
                )
            }
        }
    };
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nX-Echo: {auth}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.flush();
}

impl Cli {
    /// Runs with `stdin` piped in and extra environment variables.
    pub fn run_stdin_env(&self, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Run {
        let mut command = self.command(args);
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run daftar");
        // A command that fails before reading stdin closes it: ignore the broken pipe.
        let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
        finish(child.wait_with_output().expect("wait for daftar"))
    }

    pub fn run_stdin(&self, args: &[&str], stdin: &str) -> Run {
        self.run_stdin_env(args, stdin, &[])
    }

    /// A KWD profile named `name` on a https base URL.
    pub fn add_profile(&self, name: &str) {
        self.add_profile_at(name, "https://souq.ottu.net");
    }

    /// A KWD profile named `name` at `base_url` (the sandbox's, say).
    pub fn add_profile_at(&self, name: &str, base_url: &str) {
        self.ok(&[
            "profile",
            "add",
            name,
            "--base-url",
            base_url,
            "--currency",
            "KWD",
        ]);
    }
}

/// Standard base64 with padding, as in an `Authorization: Basic` header.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}
