#!/usr/bin/env bash
# The whole check a change must pass: formatting, lints, and every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings
cargo test --locked
# The benchmark must keep building and running: a tiny ledger, checked not timed.
DAFTAR_BENCH_PAYMENTS=2000 cargo test --locked --bench ledger
