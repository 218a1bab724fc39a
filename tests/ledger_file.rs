//! The ledger file itself, through the real binary on real files: reads while another
//! process writes, refusing files that are not ledgers (untouched, byte for byte), private
//! permissions, in-memory paths, a full disk and a read-only mount (on a real tmpfs in a
//! private mount namespace), and the sync lock reached through another path.
//!
//! The two mount tests need to mount a tmpfs (root, as in CI, or user namespaces that may
//! mount); elsewhere they fail saying what is missing. `DAFTAR_NO_MOUNT_TESTS=1` skips them,
//! and says so on the terminal.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Cli, Run};
use daftar::store::{BUSY_TIMEOUT, DISK_FULL_BELOW_BYTES};
use rusqlite::Connection;

/// A `Cli` on another path (a symlink, a `..` form, a file another program made).
fn cli_at(db: &Path) -> Cli {
    let mut cli = Cli::new();
    cli.db = db.to_path_buf();
    cli
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// `path` and every SQLite companion file that exists beside it.
fn companions(path: &Path) -> Vec<PathBuf> {
    ["-wal", "-shm", "-journal"]
        .iter()
        .map(|suffix| {
            let mut p = path.as_os_str().to_owned();
            p.push(suffix);
            PathBuf::from(p)
        })
        .filter(|p| p.exists())
        .collect()
}

fn error_code(run: &Run) -> String {
    run.json()["error"]["code"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

// ---- item 11: reads do not need the write lock -------------------------------------------

#[test]
fn reads_succeed_while_another_process_holds_the_write_lock() {
    let cli = Cli::new();
    cli.seed(&[("s1", "o1", "10", "paid")]);
    let writer = Connection::open(&cli.db).unwrap();
    writer.execute_batch("BEGIN IMMEDIATE").unwrap();
    // A pending write, as a long import would hold.
    writer
        .execute(
            "UPDATE payments SET amount_minor = amount_minor WHERE session_id = 's1'",
            [],
        )
        .unwrap();
    for args in [
        &["--json", "status"][..],
        &["--json", "payment", "show", "s1"],
        &["--json", "payment", "list"],
    ] {
        let started = Instant::now();
        let run = cli.run(args);
        let took = started.elapsed();
        assert_eq!(run.code, 0, "{args:?}: {}{}", run.stdout, run.stderr);
        assert!(
            took < BUSY_TIMEOUT / 4,
            "{args:?} took {took:?} while a writer held the lock"
        );
    }
    // A write still waits for the lock (and gives up after the busy timeout): unchanged.
    writer.execute_batch("ROLLBACK").unwrap();
}

// ---- item 12: another program's file is refused untouched --------------------------------

/// Runs `status` on `path`, which must be refused as not a ledger and left byte for byte
/// as it was, with no -wal, -shm or -journal left beside it.
fn assert_refused_untouched(path: &Path, expect_in_message: &str) {
    let before = fs::read(path).unwrap();
    let run = cli_at(path).run(&["--json", "status"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert_eq!(error_code(&run), "store.not_a_ledger", "{}", run.stdout);
    let message = run.json()["error"]["message"].as_str().unwrap().to_string();
    assert!(
        message.contains(&path.display().to_string()),
        "the message must name the file: {message}"
    );
    assert!(
        message.contains(expect_in_message),
        "expected '{expect_in_message}' in: {message}"
    );
    assert_eq!(fs::read(path).unwrap(), before, "the file changed");
    assert_eq!(companions(path), Vec::<PathBuf>::new(), "files left behind");
}

#[test]
fn another_programs_sqlite_file_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.db");
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);
             INSERT INTO notes (body) VALUES ('buy milk');",
        )
        .unwrap();
    }
    assert_refused_untouched(&path, "notes");

    // One that marks itself with its own application_id and version.
    let marked = dir.path().join("marked.db");
    {
        let conn = Connection::open(&marked).unwrap();
        conn.execute_batch(
            "PRAGMA application_id = 1234; PRAGMA user_version = 1; CREATE TABLE t (x);",
        )
        .unwrap();
    }
    assert_refused_untouched(&marked, "application_id");

    // A real ledger whose mark is one off Daftar's: another program's, refused untouched.
    let cli = Cli::new();
    cli.seed(&[]);
    {
        let conn = Connection::open(&cli.db).unwrap();
        conn.pragma_update(None, "application_id", daftar::store::APPLICATION_ID + 1)
            .unwrap();
        conn.pragma_update(None, "journal_mode", "DELETE").unwrap();
    }
    assert_refused_untouched(&cli.db, "application_id");

    // One in WAL mode: opening it must not leave its -wal/-shm behind either.
    let wal = dir.path().join("wal.db");
    {
        let conn = Connection::open(&wal).unwrap();
        conn.execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE things (x);")
            .unwrap();
    }
    assert_refused_untouched(&wal, "things");

    // Not an SQLite file at all.
    let text = dir.path().join("list.txt");
    fs::write(&text, b"this is not a database, it is a shopping list").unwrap();
    assert_refused_untouched(&text, "not an SQLite database");
}

#[test]
fn a_negative_or_out_of_range_schema_version_is_refused() {
    for version in [-1i64, -1000, i64::from(i32::MIN)] {
        let cli = Cli::new();
        cli.seed(&[]);
        {
            let conn = Connection::open(&cli.db).unwrap();
            conn.pragma_update(None, "user_version", version).unwrap();
            conn.pragma_update(None, "journal_mode", "DELETE").unwrap();
        }
        assert_refused_untouched(&cli.db, &version.to_string());
    }
}

/// The previous release wrote no application_id: its ledgers (version 1..=2, our tables)
/// open, keep their data and get the mark.
#[test]
fn a_ledger_of_the_previous_release_opens_and_is_marked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.sqlite3");
    // What the previous release's migration step did: WAL, then 0001 and 0002.
    drop(common::previous_release_ledger(&path));
    let cli = cli_at(&path);
    let profiles = cli.ok_json(&["profile", "list"]);
    assert_eq!(profiles["profiles"][0]["name"], "shop", "{profiles}");
    let conn = Connection::open(&path).unwrap();
    let app_id: i64 = conn
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .unwrap();
    assert_eq!(app_id, 0x4446_5452, "\"DFTR\"");
}

#[test]
fn an_empty_file_becomes_a_marked_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.sqlite3");
    fs::write(&path, b"").unwrap();
    cli_at(&path).seed(&[("s1", "o1", "10", "paid")]);
    let conn = Connection::open(&path).unwrap();
    let app_id: i64 = conn
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .unwrap();
    assert_eq!(app_id, 0x4446_5452, "\"DFTR\"");
}

// ---- item 13: permissions, in-memory paths, full disk, read-only mount --------------------

#[test]
fn a_new_ledger_and_its_wal_and_shm_are_private() {
    let dir = tempfile::tempdir().unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let path = dir.path().join("ledger.sqlite3");
    let mut store = daftar::store::Store::open(&path).unwrap();
    store
        .connection()
        .execute(
            "INSERT INTO profiles (name, base_url, currency, created_at_ms) VALUES ('shop', 'https://shop.ottu.net', 'KWD', 0)",
            [],
        )
        .unwrap();
    // The -wal and -shm exist while the connection is open.
    let files = companions(&path);
    assert_eq!(files.len(), 2, "{files:?}");
    for file in files.iter().chain([&path]) {
        assert_eq!(mode(file), 0o600, "{}", file.display());
    }
    // A directory the user chose is left as it is.
    assert_eq!(mode(dir.path()), 0o755);
}

#[test]
fn the_default_ledger_directory_is_private() {
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("data");
    let run = common::finish(
        Command::new(env!("CARGO_BIN_EXE_daftar"))
            .args(["--json", "status"])
            .env_remove("DAFTAR_DB")
            .env("HOME", home.path())
            .env("XDG_DATA_HOME", &data)
            .env("USER", "tester")
            .output()
            .unwrap(),
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(mode(&data.join("daftar")), 0o700);
    assert_eq!(mode(&data.join("daftar/daftar.sqlite3")), 0o600);
}

#[test]
fn in_memory_ledgers_are_refused() {
    let cli = Cli::new();
    for db in [
        ":memory:",
        "file::memory:",
        "file:x?mode=memory",
        "FILE:ledger",
    ] {
        let run = cli_at(Path::new(db)).run(&["--json", "status"]);
        assert_eq!(run.code, 2, "{db}: {}{}", run.stdout, run.stderr);
        let error = &run.json()["error"];
        assert_eq!(error["field"], "db", "{db}: {error}");
        assert_eq!(error["code"], "db.not_a_file", "{db}: {error}");
        assert!(
            error["message"].as_str().unwrap().contains(db),
            "{db}: {error}"
        );
    }
    assert!(fs::read_dir(cli.dir.path()).unwrap().next().is_none());
    let err = daftar::store::Store::open(Path::new(""))
        .err()
        .expect("an empty path is refused");
    assert!(err.to_string().contains("file"), "{err}");
}

/// Set to `1` to skip the tests that mount a tmpfs, on a machine that does not permit it.
/// They are real tests and fail without it: skipping is a decision, said loudly.
const NO_MOUNT_TESTS: &str = "DAFTAR_NO_MOUNT_TESTS";

/// Ways to get a private mount namespace: as root, or as a mapped root in a user namespace.
const UNSHARE_FLAGS: [&[&str]; 2] = [&["--mount"], &["--mount", "--map-root-user"]];

/// The `unshare` flags with which a tmpfs can be mounted here, found by doing just that
/// (unshare, mount a 64 KiB tmpfs, unmount it): a namespace alone can be allowed where the
/// mount is not. `None` when `DAFTAR_NO_MOUNT_TESTS=1` (said on the terminal, past the test
/// harness's capture). Panics, saying what is missing, when no way works.
fn mount_flags(test: &str) -> Option<&'static [&'static str]> {
    use std::io::Write;
    if std::env::var(NO_MOUNT_TESTS).as_deref() == Ok("1") {
        // Straight to the process's stderr: `eprintln!` would be captured and never shown
        // for a test that passes.
        let _ = writeln!(
            std::io::stderr(),
            "\n*** SKIPPED {test}: {NO_MOUNT_TESTS}=1 is set, so this test did NOT run (it mounts a tmpfs in a private mount namespace). Run it as root (as CI does) before trusting this area. ***\n"
        );
        return None;
    }
    let probe = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for flags in UNSHARE_FLAGS {
        let output = Command::new("unshare")
            .args(flags)
            .args([
                "sh",
                "-c",
                r#"mount -t tmpfs -o size=64k tmpfs "$MNT" && umount "$MNT""#,
            ])
            .env("MNT", probe.path())
            .output();
        match output {
            Ok(output) if output.status.success() => return Some(flags),
            Ok(output) => failures.push(format!(
                "`unshare {} sh -c 'mount -t tmpfs ...; umount ...'` exited with {}: {}",
                flags.join(" "),
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            )),
            Err(e) => failures.push(format!("`unshare` could not be started: {e}")),
        }
    }
    panic!(
        "{test} mounts a small tmpfs in a private mount namespace (to fill a real disk or remount it read-only), and this machine does not permit it:\n  {}\nIt needs `unshare` (util-linux) and either root with CAP_SYS_ADMIN (CI runs these tests as root; in a container, `--privileged` or `--cap-add SYS_ADMIN`), or unprivileged user namespaces that may mount (`sysctl kernel.unprivileged_userns_clone=1`; on Ubuntu 23.10+ also `kernel.apparmor_restrict_unprivileged_userns=0`).\nRun these tests as root or in CI, or set {NO_MOUNT_TESTS}=1 to skip them here (they then say loudly that they did not run).",
        failures.join("\n  ")
    );
}

/// Runs `script` with `sh -c` in a private mount namespace (so a tmpfs can be mounted and
/// vanishes with it), with `flags` from [`mount_flags`].
fn in_mount_namespace(
    flags: &[&str],
    script: &str,
    envs: &[(&str, &Path)],
) -> std::process::Output {
    let mut cmd = Command::new("unshare");
    cmd.args(flags).args(["sh", "-c", script]);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.env("USER", "tester").output().unwrap()
}

/// Size of the tmpfs: well above [`DISK_FULL_BELOW_BYTES`], so a disk that is merely small
/// is not taken for a full one; only `prepare` filling it makes it full.
const TMPFS_SIZE: &str = "size=8m";

/// What [`status_on_a_tmpfs`] saw: `daftar --json status` on the fresh ledger (`before`)
/// and after `prepare` (`after`), with the free bytes at each point.
struct OnTmpfs {
    before: Run,
    free_before: u64,
    after: Run,
    free_after: u64,
    ledger: PathBuf,
}

/// Makes a ledger on an 8 MiB tmpfs and runs `daftar --json status` on it, then `prepare`
/// (fill the disk, remount it read-only) and the same `status` again. `None` when the mount
/// tests are skipped.
fn status_on_a_tmpfs(test: &str, prepare: &str) -> Option<OnTmpfs> {
    let flags = mount_flags(test)?;
    let dir = tempfile::tempdir().unwrap();
    let mount = dir.path().join("mnt");
    fs::create_dir(&mount).unwrap();
    let out = dir.path().join("out");
    fs::create_dir(&out).unwrap();
    let script = format!(
        r#"set -e
status() {{
    "$DAFTAR" --json --db "$MNT/ledger.sqlite3" status >"$OUT/$1.stdout" 2>"$OUT/$1.stderr" && code=0 || code=$?
    echo $code >"$OUT/$1.code"
    stat -f -c '%a %S' "$MNT" >"$OUT/$1.free"
}}
mount -t tmpfs -o {TMPFS_SIZE} tmpfs "$MNT"
"$DAFTAR" --db "$MNT/ledger.sqlite3" profile add shop --base-url https://shop.ottu.net --currency KWD >/dev/null
status before
{prepare}
status after
"#
    );
    let daftar = PathBuf::from(env!("CARGO_BIN_EXE_daftar"));
    let output = in_mount_namespace(
        flags,
        &script,
        &[("MNT", &mount), ("OUT", &out), ("DAFTAR", &daftar)],
    );
    assert!(
        output.status.success(),
        "the script on the tmpfs failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let read = |name: &str| fs::read_to_string(out.join(name)).unwrap();
    let run = |step: &str| Run {
        code: read(&format!("{step}.code")).trim().parse().unwrap(),
        stdout: read(&format!("{step}.stdout")),
        stderr: read(&format!("{step}.stderr")),
    };
    let free = |step: &str| -> u64 {
        read(&format!("{step}.free"))
            .split_whitespace()
            .map(|n| n.parse::<u64>().unwrap())
            .product()
    };
    Some(OnTmpfs {
        before: run("before"),
        free_before: free("before"),
        after: run("after"),
        free_after: free("after"),
        ledger: mount.join("ledger.sqlite3"),
    })
}

/// The same commands work on the tmpfs while it has room: any failure after `prepare` is
/// the disk's, not the tmpfs's size or kind.
fn assert_worked_before(seen: &OnTmpfs) {
    let before = &seen.before;
    assert_eq!(
        before.code, 0,
        "status on the fresh tmpfs: {}{}",
        before.stdout, before.stderr
    );
    assert!(
        seen.free_before > DISK_FULL_BELOW_BYTES,
        "the tmpfs must start with more than {DISK_FULL_BELOW_BYTES} bytes free, had {}",
        seen.free_before
    );
}

fn assert_error(run: &Run, code: &str, ledger: &Path, words: &str) {
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert_eq!(error_code(run), code, "{}", run.stdout);
    let message = run.json()["error"]["message"].as_str().unwrap().to_string();
    assert!(message.contains(&ledger.display().to_string()), "{message}");
    assert!(message.contains(words), "{message}");
}

#[test]
fn a_full_disk_is_named_with_the_ledger_path() {
    let Some(seen) = status_on_a_tmpfs(
        "a_full_disk_is_named_with_the_ledger_path",
        r#"dd if=/dev/zero of="$MNT/filler" bs=4096 2>/dev/null || true"#,
    ) else {
        return;
    };
    assert_worked_before(&seen);
    assert!(
        seen.free_after < DISK_FULL_BELOW_BYTES,
        "the filler left {} bytes free",
        seen.free_after
    );
    assert_error(&seen.after, "store.disk_full", &seen.ledger, "full");
}

#[test]
fn a_read_only_mount_is_named_with_the_ledger_path() {
    let Some(seen) = status_on_a_tmpfs(
        "a_read_only_mount_is_named_with_the_ledger_path",
        r#"mount -o remount,ro "$MNT""#,
    ) else {
        return;
    };
    assert_worked_before(&seen);
    assert_error(&seen.after, "store.read_only", &seen.ledger, "read-only");
}

// ---- item 5: the sync lock belongs to the file, not the path -------------------------------

/// Whether some process holds a `flock` on `path`, read from `/proc/locks` (by inode), so
/// looking never takes the lock itself and cannot make the sync under test fail.
fn flock_held(path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let Ok(meta) = fs::metadata(path) else {
        return false;
    };
    let inode = format!(":{} ", meta.ino());
    fs::read_to_string("/proc/locks")
        .unwrap()
        .lines()
        .any(|line| line.contains("FLOCK") && line.contains(&inode))
}

/// Starts `daftar sync --watch` on `cli`'s ledger and polls (with a deadline) until it
/// holds the sync lock beside the real file.
fn running_sync(cli: &Cli, lock: &Path) -> std::process::Child {
    let mut child = cli
        .command(&["sync", "--watch"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !flock_held(lock) {
        if Instant::now() > deadline || child.try_wait().unwrap().is_some() {
            let _ = child.kill();
            child.wait().unwrap();
            panic!("the first sync never took its lock {}", lock.display());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    child
}

#[test]
fn two_syncs_through_another_path_to_the_same_ledger_exclude_each_other() {
    let cli = Cli::new();
    cli.seed(&[]);
    let sub = cli.dir.path().join("sub");
    fs::create_dir(&sub).unwrap();
    let link = cli.dir.path().join("link.sqlite3");
    std::os::unix::fs::symlink(&cli.db, &link).unwrap();
    let dotdot = sub.join("..").join("ledger.sqlite3");
    let mut lock = fs::canonicalize(&cli.db).unwrap().into_os_string();
    lock.push(".sync-lock");
    let lock = PathBuf::from(lock);

    let mut first = running_sync(&cli, &lock);
    for other in [&link, &dotdot] {
        let second = cli_at(other).run(&["--json", "sync"]);
        assert_eq!(
            second.code,
            1,
            "{}: {}{}",
            other.display(),
            second.stdout,
            second.stderr
        );
        assert_eq!(error_code(&second), "sync.running", "{}", second.stdout);
    }
    first.kill().unwrap();
    first.wait().unwrap();
    // And the other way round: a sync through the symlink holds off one through the file.
    let mut first = running_sync(&cli_at(&link), &lock);
    let second = cli.run(&["--json", "sync"]);
    assert_eq!(error_code(&second), "sync.running", "{}", second.stdout);
    first.kill().unwrap();
    first.wait().unwrap();
}

#[test]
fn a_hard_linked_ledger_is_refused() {
    let cli = Cli::new();
    cli.seed(&[]);
    let other = cli.dir.path().join("other.sqlite3");
    fs::hard_link(&cli.db, &other).unwrap();
    for path in [&cli.db, &other] {
        let run = cli_at(path).run(&["--json", "status"]);
        assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
        assert_eq!(error_code(&run), "store.hard_linked", "{}", run.stdout);
        let message = run.json()["error"]["message"].as_str().unwrap().to_string();
        assert!(message.contains(&path.display().to_string()), "{message}");
        // Why: SQLite names its write-ahead log after the path, so two names mean two logs.
        assert!(message.contains("-wal"), "{message}");
        assert!(message.contains("corrupt"), "{message}");
        // What to do, including for the usual cause (a backup made with hard links).
        assert!(message.contains("cp -al"), "{message}");
        assert!(message.contains("copy"), "{message}");
        assert!(message.contains("find"), "{message}");
    }
    // With the second name gone, the ledger opens again.
    fs::remove_file(&other).unwrap();
    cli.ok(&["status"]);
}
