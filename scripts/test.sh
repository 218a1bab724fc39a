#!/usr/bin/env bash
# The whole check a change must pass: formatting, lints, and every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
# The library and the CLI alone, without the tests' `test-support` feature (which every test
# and bench target gets through the crate's dev-dependency on itself): the CLI must build on
# the public facade only.
cargo clippy --locked -p daftar --lib --bin daftar -- -D warnings
command -v npm >/dev/null || { echo "npm not found: install Node.js 20 with npm (the contract test runs Stoplight Prism)"; exit 1; }
[ -x tools/contract/node_modules/.bin/prism ] || npm ci --prefix tools/contract --no-audit --no-fund  # Stoplight Prism for tests/ottu_contract.rs
# Inside a private D-Bus session with a throwaway, unlocked gnome-keyring: the keyring
# tests use a real Secret Service, and fail (not skip) without one.
scripts/keyring-session.sh cargo test --workspace --locked
# The UI's generated TypeScript types compile, and every --json view snapshot is of its type.
scripts/check-bindings.sh
# Ottu's own Python client (ottu-py, pinned) drives the sandbox: tools/ottu-py/.venv is made once.
tools/ottu-py/run.sh
# `make run` from a build without its binaries: the demo must build what it runs and work.
scripts/demo-check.sh
# The benchmarks must keep building and running: tiny sizes, checked (exactly-once) not timed.
DAFTAR_BENCH_PAYMENTS=2000 cargo test --locked --bench ledger
DAFTAR_BENCH_PAGING_PAYMENTS=10000 cargo test --locked --bench paging
DAFTAR_BENCH_SYNC_OPS=200 DAFTAR_BENCH_SYNC_LATENCY_OPS=40 cargo test --locked --bench sync
