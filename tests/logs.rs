//! The log a support person reads: `daftar -v` prints it on stderr and every command
//! writes it to a daily file in the log directory (`DAFTAR_LOG_DIR` here; the OS state or
//! data directory otherwise). Imports, a sync and a refresh against the sandbox with a
//! distinctive API key and Basic password must leave a readable log (the runs, their
//! writes) in which neither secret, nor the Basic header's base64, appears.

mod common;

use std::path::Path;

use common::keyring::{LedgerCleanup, base64, keyring_required, unique_profile};
use common::ottu::basic_sandbox;
use common::{Cli, Run};

/// Every file in the log directory, concatenated.
fn log_files(dir: &Path) -> (usize, String) {
    let mut files = 0;
    let mut text = String::new();
    for entry in std::fs::read_dir(dir).expect("the log directory exists") {
        let path = entry.unwrap().path();
        files += 1;
        text.push_str(&std::fs::read_to_string(&path).unwrap());
    }
    (files, text)
}

fn ok(run: Run, what: &str) -> Run {
    assert_eq!(run.code, 0, "{what}: {}{}", run.stdout, run.stderr);
    run
}

#[test]
fn the_log_file_and_verbose_stderr_tell_what_happened_and_hold_no_secret() {
    if !keyring_required() {
        return;
    }
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    let key = format!("sk_live_LOGHYG_{nonce}_KEY");
    let user = "clerk";
    let password = format!("pw-LOGHYG-{nonce}-PASS");
    let sandbox = basic_sandbox(
        &key,
        user,
        &password,
        &[("lg-1", "paid"), ("lg-2", "paid"), ("lg-3", "authorized")],
    );
    let cli = Cli::new();
    let _cleanup = LedgerCleanup {
        db: cli.db.clone(),
        users: vec![user.to_string()],
        origins: vec![],
    };
    let profile = unique_profile("logs");
    let p = profile.as_str();
    let base_url = sandbox.base_url().to_string();
    ok(
        cli.run(&[
            "profile",
            "add",
            p,
            "--base-url",
            &base_url,
            "--currency",
            "KWD",
        ]),
        "profile add",
    );
    let mut stderr = String::new();
    // Basic first: an import, then the API key: an import, a refund synced, a refresh.
    ok(
        cli.run_stdin(
            &["profile", "set-key", p, "--stdin", "--basic-user", user],
            &format!("{password}\n"),
        ),
        "set-key basic",
    );
    let run = ok(
        cli.run(&["-v", "import", "--profile", p, "--session-id", "lg-1"]),
        "import (basic)",
    );
    stderr.push_str(&run.stderr);
    ok(
        cli.run_stdin(&["profile", "set-key", p, "--stdin"], &format!("{key}\n")),
        "set-key",
    );
    for args in [
        vec![
            "-v",
            "import",
            "--profile",
            p,
            "--session-id",
            "lg-1",
            "lg-2",
            "lg-3",
            "nope",
        ],
        vec![
            "-v",
            "queue",
            "refund",
            "--session-id",
            "lg-1",
            "--amount",
            "1",
        ],
        vec!["-v", "sync"],
        vec!["-v", "--json", "refresh"],
    ] {
        let run = ok(cli.run(&args), &format!("{args:?}"));
        stderr.push_str(&run.stderr);
    }
    // Without -v nothing of the log goes to stderr.
    let quiet = ok(cli.run(&["status"]), "status");
    assert!(!quiet.stderr.contains("daftar 0."), "{}", quiet.stderr);

    let (files, file_log) = log_files(&cli.dir.path().join("logs"));
    assert_eq!(files, 1, "one file a day");
    // Readable: the runs, their outcome and their writes.
    for log in [&stderr, &file_log] {
        for needle in [
            "command=\"import\"",
            "import finished",
            "ledger write committed",
            "store_write",
            "added=1",
        ] {
            assert!(log.contains(needle), "no {needle:?} in the log:\n{log}");
        }
    }
    assert!(file_log.contains("command=\"status\""), "{file_log}");
    // The sync's run, with each outcome.
    for needle in [
        "sync{mode=Once",
        "sync recorded",
        "sync finished",
        "\"succeeded\"",
    ] {
        assert!(
            file_log.contains(needle),
            "no {needle:?} in the log:\n{file_log}"
        );
    }
    // No secret in any form.
    let basic = base64(format!("{user}:{password}").as_bytes());
    for form in [
        key.as_str(),
        password.as_str(),
        basic.as_str(),
        nonce.as_str(),
    ] {
        assert!(!stderr.contains(form), "a secret ({form}) is on stderr");
        assert!(
            !file_log.contains(form),
            "a secret ({form}) is in the log file"
        );
    }
}

/// A base URL typed with a user and password (`https://merchant:PW@host`) is refused; the
/// refusal names the URL, and that copy must hide the password everywhere it goes: the
/// terminal, the `--json` error and the log file (on by default, so a support bundle would
/// carry it). `profile add` and `profile set` both parse the URL.
#[test]
fn a_base_url_with_a_password_leaves_it_nowhere() {
    let password = format!("S3cretPW{}", uuid::Uuid::new_v4().simple());
    let url = format!("https://merchant:{password}@shop.ottu.net");
    // Refused for its host before its user is looked at: the host check must hide it too.
    let bad_host = format!("https://merchant:{password}@shop_1.ottu.net");
    let cli = Cli::new();
    ok(
        cli.run(&[
            "profile",
            "add",
            "shop",
            "--base-url",
            "https://shop.ottu.net",
            "--currency",
            "KWD",
        ]),
        "profile add",
    );
    let mut seen = String::new();
    for url in [&url, &bad_host] {
        for args in [
            &[
                "profile",
                "add",
                "other",
                "--currency",
                "KWD",
                "--base-url",
                url,
            ][..],
            &["profile", "set", "shop", "--base-url", url][..],
        ] {
            for prefix in [&["--json"][..], &["-v"][..], &[][..]] {
                let all: Vec<&str> = prefix.iter().chain(args).copied().collect();
                let run = cli.run(&all);
                assert_ne!(run.code, 0, "{all:?} was accepted");
                if prefix == ["--json"] {
                    let error = &run.json()["error"];
                    assert_eq!(error["code"], "base_url.invalid", "{}", run.stdout);
                    let message = error["message"].as_str().unwrap();
                    assert!(message.contains("https://***:***@shop"), "{message}");
                } else {
                    assert!(run.stderr.contains("***:***@shop"), "{}", run.stderr);
                }
                seen.push_str(&run.stdout);
                seen.push_str(&run.stderr);
            }
        }
    }
    let (files, log) = log_files(&cli.dir.path().join("logs"));
    assert!(files > 0 && log.contains("***:***@shop"), "{log}");
    seen.push_str(&log);
    seen.push_str(&common::dump(&cli.db));
    assert!(!seen.contains(&password), "the password leaked:\n{seen}");
}
