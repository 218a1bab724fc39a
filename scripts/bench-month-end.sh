#!/usr/bin/env bash
# Month end at scale (benches/month_end.rs): CSV export next to `sqlite3 -csv`, XLSX export
# time and peak memory, report import next to a raw rusqlite insert, reconcile, and the
# 1,000,000-row round trip, all through the release `daftar` CLI. Prints a markdown table.
#
#   scripts/bench-month-end.sh                  # 1,000,000 payments (make bench-month-end)
#   scripts/bench-month-end.sh --rows 20000     # quick
#   scripts/bench-month-end.sh --work /tmp/me   # keep the ledger, report and exports
#
# Other flags go to the bench: --repeat N, --only export,xlsx,import,reconcile,roundtrip.
# Installs the Debian packages sqlite3 (the CSV baseline) and time (GNU time: each
# process's own peak RSS) when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v sqlite3 >/dev/null || missing+=(sqlite3)
[ -x /usr/bin/time ] || missing+=(time)
if ((${#missing[@]})); then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "need root to install ${missing[*]} (apt-get install ${missing[*]})" >&2; exit 1; }
    sudo="sudo"
  fi
  echo "[bench-month-end] installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi

# The CLI as users get it (release, without the tests' test-support feature), copied
# aside because `cargo bench` rebuilds target/release/daftar with that feature; DAFTAR_BIN
# makes the bench time the copy.
target="${CARGO_TARGET_DIR:-target}"
cargo build --release --locked --bin daftar
mkdir -p "$target/month-end"
cp "$target/release/daftar" "$target/month-end/daftar"
DAFTAR_BIN="$(cd "$target/month-end" && pwd)/daftar" cargo bench --locked --bench month_end -- "$@"
