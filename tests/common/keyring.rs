//! Helpers for the tests that need the real OS keyring (see `tests/secrets_keyring.rs`).

use std::io::Write;
use std::process::Stdio;

use daftar::model::ProfileName;
use daftar::secrets::{KeyringStore, SecretSlot, SecretStore};

use super::{Cli, Run, finish};

/// False (skip) only when `DAFTAR_SKIP_KEYRING_TESTS=1` is set on purpose; panics, saying
/// how to get one, when no keyring is reachable. `scripts/test.sh` never sets it.
pub fn keyring_required() -> bool {
    if std::env::var("DAFTAR_SKIP_KEYRING_TESTS").as_deref() == Ok("1") {
        eprintln!("DAFTAR_SKIP_KEYRING_TESTS=1: keyring test skipped");
        return false;
    }
    let probe = api_slot("probe");
    if let Err(error) = KeyringStore::with_service("daftar-test-probe").get(&probe) {
        panic!(
            "this test needs a real, unlocked OS keyring and none is reachable: {error}\n\
             Run it through scripts/test.sh (make test), which starts one inside \
             dbus-run-session; or set DAFTAR_SKIP_KEYRING_TESTS=1 to skip it on purpose."
        );
    }
    true
}

/// A profile name no other test (or earlier run) uses: the binary files its entries under
/// the one `daftar` service, keyed by profile name.
pub fn unique_profile(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

pub fn api_slot(profile: &str) -> SecretSlot {
    SecretSlot::ApiKey {
        profile: ProfileName::parse(profile).unwrap(),
    }
}

pub fn basic_slot(profile: &str, user: &str) -> SecretSlot {
    SecretSlot::BasicPassword {
        profile: ProfileName::parse(profile).unwrap(),
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
        self.ok(&[
            "profile",
            "add",
            name,
            "--base-url",
            "https://souq.ottu.net",
            "--currency",
            "KWD",
        ]);
    }
}
