#!/usr/bin/env bash
# Proves `make demo` (scripts/demo.sh; `make run` plays it when there is no display) from a
# build without its programs: removes the two binaries the demo runs (cargo relinks them;
# not a clean build, which would take minutes), plays the demo on a throwaway data
# directory, and checks that it shows a working demo: the sandbox's address, the impossible
# refund refused, all three operations synced and applied once at "Ottu", and no dbus-daemon
# noise. Prints the demo's output and exits 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
bin_dir="${CARGO_TARGET_DIR:-target}/debug"
rm -f "$bin_dir/daftar" "$bin_dir/daftar-sandbox"
data_home="$(mktemp -d)"
trap 'rm -rf "$data_home"' EXIT
out="$data_home/demo.out"
started=$(date +%s)
status=0
XDG_DATA_HOME="$data_home" scripts/demo.sh </dev/null >"$out" 2>&1 || status=$?
fail() {
  sed 's/^/  | /' "$out"
  echo "[demo-check] make run (scripts/demo.sh) $1" >&2
  exit 1
}
[ "$status" -eq 0 ] || fail "exited with code $status"
grep -q '^Ottu sandbox: http://127\.0\.0\.1:[0-9]' "$out" || fail "showed no sandbox address"
grep -q '^(refused on the spot, exit code 3)' "$out" || fail "did not refuse the impossible refund"
grep -q '^sync: 3 succeeded, 0 failed' "$out" || fail "did not sync the three operations"
grep -q '"operations_applied":3' "$out" || fail "did not show three operations applied at Ottu"
grep -q '"operations_replayed":0' "$out" || fail "replayed an operation"
! grep -q 'Failed to set fd limit' "$out" || fail "printed dbus-daemon's fd limit line"
echo "[demo-check] make run works from a build without its binaries ($(($(date +%s) - started)) s)"
