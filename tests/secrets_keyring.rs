//! The real OS keyring: on Linux a Secret Service (gnome-keyring) on the D-Bus session bus.
//! `scripts/test.sh` runs the tests inside `dbus-run-session` with a throwaway, unlocked
//! gnome-keyring. With no keyring reachable these tests FAIL, saying how to get one;
//! only `DAFTAR_SKIP_KEYRING_TESTS=1`, set on purpose, skips them.

mod common;

use common::Cli;
use common::keyring::{
    Cleanup, Echo, EchoServer, LedgerCleanup, api_slot, basic_slot, keyring_required, owner_of,
    test_owner, unique_profile,
};
use daftar::secrets::{
    ExposeSecret, KEYRING_SERVICE, KeyringStore, SecretSlot, SecretStore, SecretString,
};

fn read(store: &KeyringStore, slot: &SecretSlot) -> Option<String> {
    store
        .get(slot)
        .unwrap()
        .map(|s| s.expose_secret().to_string())
}

#[test]
fn keyring_store_stores_reads_overwrites_and_deletes() {
    if !keyring_required() {
        return;
    }
    let service = format!("daftar-test-{}", uuid::Uuid::new_v4().simple());
    let store = KeyringStore::with_service(&service);
    let owner = test_owner("https://souq.ottu.net:443");
    let api = api_slot(&owner);
    let basic = basic_slot(&owner, "amal");
    let _cleanup = Cleanup(store.clone(), vec![api.clone(), basic.clone()]);

    assert_eq!(read(&store, &api), None);
    store.set(&api, &SecretString::from("first-key")).unwrap();
    assert_eq!(read(&store, &api).as_deref(), Some("first-key"));
    store.set(&api, &SecretString::from("second-key")).unwrap();
    assert_eq!(read(&store, &api).as_deref(), Some("second-key"));

    // A Basic password is a separate entry of the same profile.
    store.set(&basic, &SecretString::from("pass word")).unwrap();
    assert_eq!(read(&store, &basic).as_deref(), Some("pass word"));
    assert_eq!(read(&store, &api).as_deref(), Some("second-key"));

    assert!(store.delete(&api).unwrap());
    assert!(!store.delete(&api).unwrap());
    assert_eq!(read(&store, &api), None);
    assert!(store.delete(&basic).unwrap());
    assert_eq!(read(&store, &basic), None);
}

#[test]
fn the_binary_stores_overwrites_and_removes_the_key_in_the_keyring() {
    if !keyring_required() {
        return;
    }
    let cli = Cli::new();
    let profile = unique_profile("kr");
    let store = KeyringStore::with_service(KEYRING_SERVICE);
    cli.add_profile(&profile);
    let owner = owner_of(&cli.db, &profile);
    let api = api_slot(&owner);
    let basic = basic_slot(&owner, "amal");
    let _cleanup = Cleanup(store.clone(), vec![api.clone(), basic.clone()]);
    let key_stored = |cli: &Cli| {
        let shown = cli.ok_json(&["profile", "show", &profile]);
        assert!(
            !shown.to_string().contains("sk_live_"),
            "show must never print the key: {shown}"
        );
        (
            shown["auth"].as_str().unwrap().to_string(),
            shown["key_stored"].as_bool().unwrap(),
        )
    };
    assert_eq!(key_stored(&cli), ("api_key".into(), false));

    let set = cli.run_stdin(
        &["profile", "set-key", &profile, "--stdin"],
        "sk_live_first\n",
    );
    assert_eq!(set.code, 0, "{}{}", set.stdout, set.stderr);
    assert_eq!(read(&store, &api).as_deref(), Some("sk_live_first"));
    assert_eq!(key_stored(&cli), ("api_key".into(), true));

    // Overwrite: only the first line counts, its CRLF stripped.
    let set = cli.run_stdin(
        &["profile", "set-key", &profile, "--stdin"],
        "sk_live_second\r\nignored second line\n",
    );
    assert_eq!(set.code, 0, "{}{}", set.stdout, set.stderr);
    assert_eq!(read(&store, &api).as_deref(), Some("sk_live_second"));

    // Switch to Basic: the password goes to its own entry, the API key entry goes away.
    let set = cli.run_stdin(
        &[
            "--json",
            "profile",
            "set-key",
            &profile,
            "--stdin",
            "--basic-user",
            "amal",
        ],
        "a pass phrase\n",
    );
    assert_eq!(set.code, 0, "{}{}", set.stdout, set.stderr);
    assert_eq!(set.json()["basic_user"], "amal");
    assert_eq!(read(&store, &basic).as_deref(), Some("a pass phrase"));
    assert_eq!(read(&store, &api), None);
    assert_eq!(key_stored(&cli), ("basic".into(), true));

    cli.ok(&["profile", "remove-key", &profile]);
    assert_eq!(read(&store, &basic), None);
    assert_eq!(key_stored(&cli), ("basic".into(), false));
    // Removing again is not an error.
    cli.ok(&["profile", "remove-key", &profile]);
}

#[test]
fn set_key_refuses_empty_keys_and_unknown_profiles_with_their_exit_codes() {
    if !keyring_required() {
        return;
    }
    let cli = Cli::new();
    let profile = unique_profile("kr");
    cli.add_profile(&profile);
    let slot = api_slot(&owner_of(&cli.db, &profile));
    let _cleanup = Cleanup(KeyringStore::new(), vec![slot.clone()]);
    let before = cli.dump();

    let empty = cli.run_stdin(&["profile", "set-key", &profile, "--stdin"], "\n");
    assert_eq!(empty.code, 2, "{}", empty.stderr);
    assert!(empty.stderr.contains("empty"), "{}", empty.stderr);
    let unknown = cli.run_stdin(&["profile", "set-key", "nowhere", "--stdin"], "sk_live_x\n");
    assert_eq!(unknown.code, 4, "{}", unknown.stderr);
    assert_eq!(cli.dump(), before);
    let short = cli.run_stdin(
        &["--json", "profile", "set-key", &profile, "--stdin"],
        "sk_7\n",
    );
    assert_eq!(short.code, 2, "{}", short.stderr);
    assert_eq!(
        short.json()["error"]["code"],
        "key.too_short",
        "{}",
        short.stdout
    );
    assert_eq!(cli.dump(), before);
    assert_eq!(read(&KeyringStore::new(), &slot), None);
}

/// No keyring reachable: exit 1 with a message naming what is missing; commands that need
/// no key keep working. Needs no keyring itself, so it runs everywhere.
#[cfg(target_os = "linux")]
#[test]
fn without_a_session_bus_key_commands_fail_clearly_and_the_rest_works() {
    let cli = Cli::new();
    cli.add_profile("souq");
    let no_bus = |args: &[&str], stdin: &str| {
        let bogus = [(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/daftar-bus",
        )];
        cli.run_stdin_env(args, stdin, &bogus)
    };
    let before = cli.dump();
    let set = no_bus(
        &["profile", "set-key", "souq", "--stdin"],
        "sk_live_nobus\n",
    );
    assert_eq!(set.code, 1, "{}", set.stderr);
    assert!(
        set.stderr.contains("no D-Bus session bus") && set.stderr.contains("gnome-keyring"),
        "{}",
        set.stderr
    );
    assert!(!set.stderr.contains("sk_live_nobus"));
    assert_eq!(cli.dump(), before, "a failed set-key changes nothing");

    let show = no_bus(&["--json", "profile", "show", "souq"], "");
    assert_eq!(show.code, 1);
    assert_eq!(show.json()["error"]["code"], "secrets.unavailable");

    for args in [&["profile", "list"][..], &["status"][..]] {
        let run = no_bus(args, "");
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
    }
}

/// A session bus on which nothing provides the Secret Service (no service files, so no
/// gnome-keyring is started by activation): exit 1, naming what is missing and how to get it.
#[cfg(target_os = "linux")]
#[test]
fn without_a_secret_service_key_commands_say_what_to_install() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("bus.conf");
    std::fs::write(
        &config,
        format!(
            r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>"#,
            dir.path().display()
        ),
    )
    .unwrap();
    let mut bus = Command::new("dbus-daemon")
        .arg(format!("--config-file={}", config.display()))
        .args(["--nofork", "--print-address"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("dbus-daemon (Debian: apt install dbus; scripts/setup.sh installs it)");
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut address = String::new();
    BufReader::new(bus.stdout.take().unwrap())
        .read_line(&mut address)
        .unwrap();
    let _bus = Kill(bus);
    let address = address.trim();
    assert!(address.starts_with("unix:"), "dbus-daemon said {address:?}");

    let cli = Cli::new();
    cli.add_profile("souq");
    let env = [("DBUS_SESSION_BUS_ADDRESS", address)];
    let set = cli.run_stdin_env(
        &["profile", "set-key", "souq", "--stdin"],
        "sk_live_x\n",
        &env,
    );
    assert_eq!(set.code, 1, "{}", set.stderr);
    assert!(
        set.stderr.contains("no Secret Service on the session bus")
            && set.stderr.contains("apt install gnome-keyring")
            && set.stderr.contains("dbus-run-session"),
        "{}",
        set.stderr
    );
    let show = cli.run_stdin_env(&["--json", "profile", "show", "souq"], "", &env);
    assert_eq!(show.code, 1);
    assert_eq!(show.json()["error"]["code"], "secrets.unavailable");
}

/// `--json profile show`'s `key_stored`.
fn key_stored(cli: &Cli, profile: &str) -> bool {
    cli.ok_json(&["profile", "show", profile])["key_stored"]
        .as_bool()
        .unwrap()
}

/// A payment and a queued refund in `profile`.
fn queue_a_refund(cli: &Cli, profile: &str, session: &str) {
    cli.ok(&[
        "payment",
        "add",
        "--profile",
        profile,
        "--session-id",
        session,
        "--amount",
        "10",
        "--currency",
        "KWD",
        "--state",
        "paid",
    ]);
    cli.ok(&["queue", "refund", "--session-id", session, "--amount", "1"]);
}

/// Another ledger with a profile of the same name, pointing at another host, does not get
/// the first ledger's key: `key_stored` is false, and its sync and import send nothing.
#[test]
fn a_second_ledger_naming_a_profile_the_same_way_gets_no_key() {
    if !keyring_required() {
        return;
    }
    let key = format!("sk_live_BOUND_{}", uuid::Uuid::new_v4().simple());
    let profile = unique_profile("bind");
    let first = Cli::new();
    let _first_cleanup = LedgerCleanup {
        db: first.db.clone(),
        users: vec![],
        origins: vec![],
    };
    first.add_profile(&profile);
    let set = first.run_stdin(
        &["profile", "set-key", &profile, "--stdin"],
        &format!("{key}\n"),
    );
    assert_eq!(set.code, 0, "{}", set.stderr);
    assert!(key_stored(&first, &profile));

    let attacker = EchoServer::start(Echo::Unauthorized);
    let second = Cli::new();
    let _second_cleanup = LedgerCleanup {
        db: second.db.clone(),
        users: vec![],
        origins: vec![],
    };
    // Same name, same base URL: still another ledger, another profile.
    second.add_profile(&profile);
    assert!(!key_stored(&second, &profile));
    let second_attacker = Cli::new();
    second_attacker.ok(&[
        "profile",
        "add",
        &profile,
        "--base-url",
        &attacker.base_url,
        "--currency",
        "KWD",
    ]);
    assert!(!key_stored(&second_attacker, &profile));
    queue_a_refund(&second_attacker, &profile, "bind-1");
    let sync = second_attacker.run(&["sync"]);
    let import = second_attacker.run(&["import", "--profile", &profile, "--session-id", "bind-2"]);
    assert_ne!(import.code, 0, "{}", import.stdout);
    assert!(
        import.stderr.contains("no credential stored for profile"),
        "{}",
        import.stderr
    );
    assert!(
        attacker.seen().is_empty(),
        "a request reached the other host: {:?}; sync said {}{}",
        attacker.seen(),
        sync.stdout,
        sync.stderr
    );
    // The first ledger's key is untouched.
    assert!(key_stored(&first, &profile));
}

/// Editing `profiles.base_url` straight in SQLite: the key was entered for the old host, so
/// it is not found for the new one; no request reaches the new host, and the merchant is
/// told to enter the key again. Editing it back finds the key again.
#[test]
fn a_base_url_edited_in_sqlite_gets_no_key_and_no_request() {
    if !keyring_required() {
        return;
    }
    let key = format!("sk_live_MOVED_{}", uuid::Uuid::new_v4().simple());
    let profile = unique_profile("moved");
    let attacker = EchoServer::start(Echo::Unauthorized);
    let cli = Cli::new();
    let _cleanup = LedgerCleanup {
        db: cli.db.clone(),
        users: vec!["amal".into()],
        origins: vec!["https://souq.ottu.net:443".into()],
    };
    cli.add_profile(&profile);
    let set = cli.run_stdin(
        &["profile", "set-key", &profile, "--stdin"],
        &format!("{key}\n"),
    );
    assert_eq!(set.code, 0, "{}", set.stderr);
    assert!(key_stored(&cli, &profile));
    queue_a_refund(&cli, &profile, "moved-1");

    let edit = |url: &str| {
        let conn = rusqlite::Connection::open(&cli.db).unwrap();
        conn.execute(
            "UPDATE profiles SET base_url = ?1 WHERE name = ?2",
            [url, &profile],
        )
        .unwrap();
    };
    edit(&attacker.base_url);
    assert!(!key_stored(&cli, &profile));
    let sync = cli.run(&["--json", "sync"]);
    let said = format!("{}{}", sync.stdout, sync.stderr);
    assert!(
        said.contains("no credential stored for profile") && said.contains(&attacker.base_url),
        "sync must say the key is not stored for this host: {said}"
    );
    let import = cli.run(&["import", "--profile", &profile, "--session-id", "moved-2"]);
    assert_ne!(import.code, 0);
    assert!(import.stderr.contains("set-key"), "{}", import.stderr);
    assert!(
        attacker.seen().is_empty(),
        "the key went to the edited host: {:?}",
        attacker.seen()
    );
    // The same host spelled differently is the same origin; the old host finds the key.
    edit("https://SOUQ.ottu.net:443/");
    assert!(key_stored(&cli, &profile));
    // `profile set` to another host asks for the key again, and deletes the old host's key
    // (it could never be used again): back at the old host, none is found.
    cli.ok(&["profile", "set", &profile, "--base-url", &attacker.base_url]);
    assert!(!key_stored(&cli, &profile));
    let sync = cli.run(&["sync"]);
    assert!(
        attacker.seen().is_empty(),
        "{:?} {}",
        attacker.seen(),
        sync.stderr
    );
    cli.ok(&[
        "profile",
        "set",
        &profile,
        "--base-url",
        "https://souq.ottu.net",
    ]);
    assert!(!key_stored(&cli, &profile));

    // The same for a Basic password.
    let set = cli.run_stdin(
        &[
            "profile",
            "set-key",
            &profile,
            "--stdin",
            "--basic-user",
            "amal",
        ],
        "a long pass phrase\n",
    );
    assert_eq!(set.code, 0, "{}", set.stderr);
    assert!(key_stored(&cli, &profile));
    edit(&attacker.base_url);
    assert!(!key_stored(&cli, &profile));
    cli.run(&["sync"]);
    assert!(attacker.seen().is_empty(), "{:?}", attacker.seen());
}

/// Profile `a`'s Basic user `u/api-key` and profile `a/basic/u`'s API key used to share one
/// keyring entry (`profile/a/basic/u/api-key`); now each has its own. New profile names
/// cannot hold a `/`, but a ledger from before may (or an edited one), so the second profile
/// is written straight into SQLite.
#[test]
fn names_and_users_no_longer_collide_in_the_keyring() {
    if !keyring_required() {
        return;
    }
    let cli = Cli::new();
    let _cleanup = LedgerCleanup {
        db: cli.db.clone(),
        users: vec!["u/api-key".into()],
        origins: vec![],
    };
    let a = unique_profile("a");
    let b = format!("{a}/basic/u");
    cli.add_profile(&a);
    rusqlite::Connection::open(&cli.db)
        .unwrap()
        .execute(
            "INSERT INTO profiles (name, base_url, currency, created_at_ms, uid)
             SELECT ?1, base_url, currency, created_at_ms, lower(hex(randomblob(16)))
             FROM profiles WHERE name = ?2",
            [&b, &a],
        )
        .unwrap();
    let set = cli.run_stdin(
        &[
            "profile",
            "set-key",
            &a,
            "--stdin",
            "--basic-user",
            "u/api-key",
        ],
        "password-of-a\n",
    );
    assert_eq!(set.code, 0, "{}", set.stderr);
    let set = cli.run_stdin(&["profile", "set-key", &b, "--stdin"], "sk_live_key_of_b\n");
    assert_eq!(set.code, 0, "{}", set.stderr);
    let store = KeyringStore::new();
    let a_slot = basic_slot(&owner_of(&cli.db, &a), "u/api-key");
    let b_slot = api_slot(&owner_of(&cli.db, &b));
    assert_ne!(a_slot.account(), b_slot.account());
    assert_eq!(read(&store, &a_slot).as_deref(), Some("password-of-a"));
    assert_eq!(read(&store, &b_slot).as_deref(), Some("sk_live_key_of_b"));
    assert!(key_stored(&cli, &a) && key_stored(&cli, &b));
    cli.ok(&["profile", "remove-key", &b]);
    assert!(
        key_stored(&cli, &a),
        "removing b's key removed a's password"
    );
    // An entry in the old, name-keyed form is never read.
    let legacy = format!("profile/{a}/api-key");
    keyring::Entry::new(KEYRING_SERVICE, &legacy)
        .unwrap()
        .set_password("sk_live_legacy_entry")
        .unwrap();
    let other = Cli::new();
    other.add_profile(&a);
    assert!(!key_stored(&other, &a));
    let _ = keyring::Entry::new(KEYRING_SERVICE, &legacy)
        .unwrap()
        .delete_credential();
}
