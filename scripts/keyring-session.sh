#!/usr/bin/env bash
# Runs a command with a real, unlocked OS keyring that is not the user's own. On Linux: a
# private D-Bus session bus (dbus-run-session) with a throwaway gnome-keyring, unlocked with
# a fixed password, whose files live in a temp dir removed afterwards. Elsewhere (macOS
# Keychain, Windows Credential Manager) the session's keyring is already there: the command
# just runs.
#
#   scripts/keyring-session.sh cargo test --locked
#   scripts/keyring-session.sh cargo test --test secret_hygiene
set -euo pipefail

if [ "$(uname -s)" != Linux ]; then
  exec "$@"
fi

if [ -z "${DAFTAR_KEYRING_DIR:-}" ]; then
  # mktemp -d makes it 0700, as XDG_RUNTIME_DIR must be.
  DAFTAR_KEYRING_DIR="$(mktemp -d)"
  export DAFTAR_KEYRING_DIR
  trap 'rm -rf "$DAFTAR_KEYRING_DIR"' EXIT
  dbus-run-session -- "$0" "$@"
  exit
fi

# Inside the private bus. The keyring's files and control socket go to the temp dir, so a
# desktop's own gnome-keyring is neither used nor touched.
printf 'daftar-test' |
  XDG_DATA_HOME="$DAFTAR_KEYRING_DIR" XDG_RUNTIME_DIR="$DAFTAR_KEYRING_DIR" \
    gnome-keyring-daemon --unlock --components=secrets --daemonize >/dev/null
# The daemon claims org.freedesktop.secrets shortly after it forks: wait for it (up to 10 s)
# without asking for the name, which would start a second, locked daemon by bus activation.
secrets_ready() {
  dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null |
    grep -q 'boolean true'
}
for _ in $(seq 100); do
  secrets_ready && break
  sleep 0.1
done
secrets_ready || { echo "[keyring-session] gnome-keyring did not start on the private bus" >&2; exit 1; }
"$@"
