#!/usr/bin/env bash
# Runs a command where the OS keyring works: as it is when a Secret Service is on the session
# bus (a desktop session), else inside a private D-Bus session with a throwaway, unlocked
# gnome-keyring (scripts/keyring-session.sh) whose files are removed afterwards. Used by
# `make run` (scripts/run.sh) and `make demo` (scripts/demo.sh): the app and the demo keep
# their API key in the keyring.
#
#   scripts/with-keyring.sh target/debug/daftar-app
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

if [ -n "${DAFTAR_KEYRING_DIR:-}" ] || dbus-send --session --dest=org.freedesktop.DBus \
    --print-reply /org/freedesktop/DBus org.freedesktop.DBus.NameHasOwner \
    string:org.freedesktop.secrets 2>/dev/null | grep -q 'boolean true'; then
  exec "$@"
fi
export DAFTAR_KEYRING_EPHEMERAL=1
if [ "$(uname -s)" != Linux ]; then
  exec "$here/keyring-session.sh" "$@"
fi
# As root, the private bus's dbus-daemon says "Failed to set fd limit ..." (it may not raise
# the hard limit): noise to a newcomer. dbus-run-session gets a wrapper that drops that one
# line from the daemon's stderr and passes everything else; the command's own stderr is left
# alone (progress bars).
DAFTAR_KEYRING_DIR="$(mktemp -d)"
export DAFTAR_KEYRING_DIR
trap 'rm -rf "$DAFTAR_KEYRING_DIR"' EXIT
# The filter must not hold the pipe dbus-run-session reads the bus address from
# (--print-address FD): dbus-run-session would wait for its end forever.
quiet_daemon="$DAFTAR_KEYRING_DIR/dbus-daemon"
cat >"$quiet_daemon" <<WRAPPER
#!/usr/bin/env bash
address_fd=""
previous=""
for arg in "\$@"; do
  case "\$arg" in --print-address=*) address_fd="\${arg#*=}" ;; esac
  [ "\$previous" = --print-address ] && address_fd="\$arg"
  previous="\$arg"
done
exec $(command -v dbus-daemon) "\$@" 2> >(
  [[ "\$address_fd" =~ ^[0-9]+\$ ]] && eval "exec \$address_fd>&-"
  exec grep --line-buffered -v 'Failed to set fd limit' >&2
)
WRAPPER
chmod +x "$quiet_daemon"
dbus-run-session --dbus-daemon="$quiet_daemon" -- "$here/keyring-session.sh" "$@"
