#!/usr/bin/env bash
# The whole check a change must pass: formatting, lints, and every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
[ -x tools/contract/node_modules/.bin/prism ] || npm ci --prefix tools/contract --no-audit --no-fund  # Stoplight Prism for tests/ottu_contract.rs
# Inside a private D-Bus session with a throwaway, unlocked gnome-keyring: the keyring
# tests use a real Secret Service, and fail (not skip) without one.
scripts/keyring-session.sh cargo test --workspace --locked
# The benchmark must keep building and running: a tiny ledger, checked not timed.
DAFTAR_BENCH_PAYMENTS=2000 cargo test --locked --bench ledger
