#!/usr/bin/env bash
# A tour of Daftar on a fresh demo ledger (in the OS data directory) against the bundled
# Ottu sandbox on loopback: import payments, lose the network, queue refunds offline (one
# impossible refund is refused on the spot), get the network back, sync: each refund
# reaches "Ottu" exactly once.
set -euo pipefail
cd "$(dirname "$0")/.."
# Once: not again inside the private keyring session the demo re-runs itself in.
[ -n "${DAFTAR_KEYRING_DIR:-}" ] || scripts/setup.sh

# The demo's API key lives in the OS keyring; without a desktop session, use a private one
# (scripts/with-keyring.sh: a private D-Bus session with a throwaway gnome-keyring).
if [ -z "${DAFTAR_KEYRING_DIR:-}" ] && ! dbus-send --session --dest=org.freedesktop.DBus \
    --print-reply /org/freedesktop/DBus org.freedesktop.DBus.NameHasOwner \
    string:org.freedesktop.secrets 2>/dev/null | grep -q 'boolean true'; then
  exec scripts/with-keyring.sh "$0" "$@"
fi

# Both programs the demo runs: the CLI and the Ottu sandbox.
echo "Building daftar, the Ottu sandbox and the app (the first build takes 10 to 15 minutes)..."
scripts/build-bins.sh
bin_dir="${CARGO_TARGET_DIR:-target}/debug"
daftar() { "$bin_dir/daftar" "$@"; }

data_dir="${XDG_DATA_HOME:-$HOME/.local/share}/daftar"
mkdir -p "$data_dir"
export DAFTAR_DB="$data_dir/demo.sqlite3"
rm -f "$DAFTAR_DB" "$DAFTAR_DB-wal" "$DAFTAR_DB-shm"
work="$(mktemp -d)"
sandbox_pid=""
cleanup() {
  [ -n "$sandbox_pid" ] && kill "$sandbox_pid" 2>/dev/null || true
  daftar profile remove-key souq >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { step "daftar $*"; daftar "$@"; }

# Ottu, played by the sandbox; its state file survives the outage below.
port=""
# How long the sandbox may take to print its start lines (it opens a SQLite file and binds).
SANDBOX_START_DEADLINE_S=20
start_sandbox() {
  # Emptied here, not only by the redirection below: that runs in the background child, and
  # the wait loop could read the previous start's lines before the child truncates them.
  : >"$work/sandbox.out"
  : >"$work/sandbox.err"
  "$bin_dir/daftar-sandbox" --port "${port:-0}" --payments 0 --state "$work/ottu.sqlite3" \
    >"$work/sandbox.out" 2>"$work/sandbox.err" &
  sandbox_pid=$!
  local waited=0 problem=""
  until grep -q '^api key:' "$work/sandbox.out" 2>/dev/null; do
    if ! kill -0 "$sandbox_pid" 2>/dev/null; then
      wait "$sandbox_pid" 2>/dev/null && problem="it exited" || problem="it exited with code $?"
      break
    fi
    if [ "$waited" -ge $((SANDBOX_START_DEADLINE_S * 10)) ]; then
      problem="it printed no 'listening' line within ${SANDBOX_START_DEADLINE_S} s"
      break
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  if [ -n "$problem" ]; then
    echo "The Ottu sandbox ($bin_dir/daftar-sandbox) did not start: $problem. Its error output:" >&2
    sed 's/^/  /' "$work/sandbox.err" >&2
    exit 1
  fi
  base_url="$(sed -n 's/^daftar-sandbox listening on //p' "$work/sandbox.out" | head -n 1)"
  api_key="$(sed -n 's/^api key: //p' "$work/sandbox.out" | head -n 1)"
  if ! [[ "$base_url" =~ ^http://127\.0\.0\.1:[0-9]+$ ]] || [ -z "$api_key" ]; then
    echo "The Ottu sandbox printed no address and key. Its output:" >&2
    sed 's/^/  /' "$work/sandbox.out" "$work/sandbox.err" >&2
    exit 1
  fi
  port="${base_url##*:}"
}
start_sandbox
echo "Demo ledger: $DAFTAR_DB"
echo "Ottu sandbox: $base_url"
for p in 'demo-1001 INV-1001 25.500 paid' 'demo-1002 INV-1002 40.000 authorized' \
         'demo-1003 INV-1003 12.750 paid'; do
  set -- $p
  curl -fsS -X POST "$base_url/_sandbox/payments" -H 'content-type: application/json' \
    -d "{\"session_id\":\"$1\",\"order_no\":\"$2\",\"amount\":\"$3\",\"state\":\"$4\"}" >/dev/null
done

run profile add souq --base-url "$base_url" --currency KWD
step "daftar profile set-key souq --stdin   (the key goes to the OS keyring, never the ledger)"
printf '%s\n' "$api_key" | daftar profile set-key souq --stdin
run import --profile souq --session-id demo-1001 demo-1002 demo-1003
run payment list

step "# the shop loses its connection (the sandbox stops)"
kill "$sandbox_pid"; wait "$sandbox_pid" 2>/dev/null || true; sandbox_pid=""
run queue refund --order-no INV-1001 --amount 10.250 --reason "customer returned one item"
run queue capture --session-id demo-1002 --amount 30
run queue refund --session-id demo-1002 --amount 5 --reason "late delivery discount"
step "daftar queue refund --order-no INV-1001 --amount 20"
set +e
daftar queue refund --order-no INV-1001 --amount 20
code=$?
set -e
echo "(refused on the spot, exit code $code)"
[ "$code" -eq 3 ] || { echo "expected exit code 3"; exit 1; }
run sync
run status

step "# the connection is back"
start_sandbox
run sync
run payment show --order-no INV-1001
run status
step "# what Ottu holds (the sandbox's inspection endpoint)"
curl -fsS "$base_url/_sandbox/state" |
  grep -o '"operations_applied":[0-9]*\|"operations_replayed":[0-9]*'
