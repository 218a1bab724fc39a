#!/usr/bin/env bash
# A short tour of Daftar on a fresh demo ledger: a profile, payments, a refund queued,
# an over-refund refused with its message, and the queue's status.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --locked --quiet --bin daftar
daftar() { target/debug/daftar "$@"; }

data_dir="${XDG_DATA_HOME:-$HOME/.local/share}/daftar"
mkdir -p "$data_dir"
export DAFTAR_DB="$data_dir/demo.sqlite3"
rm -f "$DAFTAR_DB" "$DAFTAR_DB-wal" "$DAFTAR_DB-shm"

step() { printf '\n\033[1m$ daftar %s\033[0m\n' "$*"; }
run() { step "$@"; daftar "$@"; }

echo "Demo ledger: $DAFTAR_DB"
run profile add souq --base-url http://127.0.0.1:8000 --currency KWD
run payment add --profile souq --session-id 9f2c1d7a --order-no INV-1001 --amount 25.500 --currency KWD --state paid
run payment add --profile souq --session-id 4b8e6a20 --order-no INV-1002 --amount 40 --currency KWD --state authorized
run payment add --profile souq --session-id 77aa01c3 --order-no INV-1003 --amount 12.750 --currency KWD --state pending
run payment list
run queue refund --order-no INV-1001 --amount 10.250 --reason "customer returned one item"
run queue capture --session-id 4b8e6a20 --amount 30
step queue refund --order-no INV-1001 --amount 20
set +e
daftar queue refund --order-no INV-1001 --amount 20
code=$?
set -e
echo "(refused as expected, exit code $code)"
[ "$code" -eq 3 ] || { echo "expected exit code 3"; exit 1; }
run payment show --order-no INV-1001
run status
