#!/usr/bin/env bash
# The desktop app starts and paints its first screen with data: a fresh temp ledger seeded
# with three payments by the CLI, the debug app under Xvfb with DAFTAR_RUN_SMOKE=1 (it quits
# by itself with exit 0 once the payments list is painted, printing
# "first screen painted in N ms"), inside a private keyring session, with its own data,
# config and cache directories (nothing of the user's is read or written).
#
#   scripts/app-smoke.sh            builds the programs (debug, scripts/build-bins.sh) first
#   APP=path/to/daftar-app scripts/app-smoke.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bin_dir="${CARGO_TARGET_DIR:-target}/debug"
# How long the app may take to paint (a cold WebKit start under load is a few seconds).
SMOKE_DEADLINE_S=120
scripts/build-bins.sh
app="${APP:-$bin_dir/daftar-app}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export DAFTAR_DB="$work/ledger.sqlite3" DAFTAR_LOG_DIR="$work/logs" \
  XDG_DATA_HOME="$work/data" XDG_CONFIG_HOME="$work/config" XDG_CACHE_HOME="$work/cache"
daftar() { "$bin_dir/daftar" "$@" >/dev/null; }
daftar profile add shop --base-url http://127.0.0.1:9 --currency KWD
for p in 'smoke-1 INV-1 25.500 paid' 'smoke-2 INV-2 40.000 authorized' 'smoke-3 INV-3 12.750 paid'; do
  set -- $p
  daftar payment add --profile shop --session-id "$1" --order-no "$2" --amount "$3" \
    --currency KWD --state "$4"
done

started=$(date +%s%N)
status=0
DAFTAR_RUN_SMOKE=1 timeout "$SMOKE_DEADLINE_S" xvfb-run -a -s '-screen 0 1280x800x24' \
  scripts/keyring-session.sh "$app" >"$work/out" 2>&1 || status=$?
elapsed_ms=$((($(date +%s%N) - started) / 1000000))
fail() {
  sed 's/^/  | /' "$work/out" >&2
  echo "[app-smoke] $1" >&2
  exit 1
}
[ "$status" -ne 124 ] || fail "the app did not quit within ${SMOKE_DEADLINE_S} s (no smoke_painted)"
[ "$status" -eq 0 ] || fail "the app exited with code $status"
painted="$(grep -o 'first screen painted in [0-9.]* ms' "$work/out" | head -n 1)" ||
  fail "the app did not print 'first screen painted in N ms'"
echo "[app-smoke] $painted (the whole run under xvfb-run: $elapsed_ms ms)"
