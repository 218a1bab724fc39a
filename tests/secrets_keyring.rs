//! The real OS keyring: on Linux a Secret Service (gnome-keyring) on the D-Bus session bus.
//! `scripts/test.sh` runs the tests inside `dbus-run-session` with a throwaway, unlocked
//! gnome-keyring. With no keyring reachable these tests FAIL, saying how to get one;
//! only `DAFTAR_SKIP_KEYRING_TESTS=1`, set on purpose, skips them.

mod common;

use common::Cli;
use common::keyring::{Cleanup, api_slot, basic_slot, keyring_required, unique_profile};
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
    let api = api_slot("souq");
    let basic = basic_slot("souq", "amal");
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
    let api = api_slot(&profile);
    let basic = basic_slot(&profile, "amal");
    let _cleanup = Cleanup(store.clone(), vec![api.clone(), basic.clone()]);
    cli.add_profile(&profile);
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
    let _cleanup = Cleanup(KeyringStore::new(), vec![api_slot(&profile)]);
    cli.add_profile(&profile);
    let before = cli.dump();

    let empty = cli.run_stdin(&["profile", "set-key", &profile, "--stdin"], "\n");
    assert_eq!(empty.code, 2, "{}", empty.stderr);
    assert!(empty.stderr.contains("empty"), "{}", empty.stderr);
    let unknown = cli.run_stdin(&["profile", "set-key", "nowhere", "--stdin"], "sk_live_x\n");
    assert_eq!(unknown.code, 4, "{}", unknown.stderr);
    assert_eq!(cli.dump(), before);
    assert_eq!(read(&KeyringStore::new(), &api_slot(&profile)), None);
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
