#!/usr/bin/env bash
# The whole check a change must pass: formatting, lints, and every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
started=$(date +%s)
stage() { printf '\n[test] %s (%d s in)\n' "$*" "$(($(date +%s) - started))"; }
# The web UI first: the app crate embeds ui/dist at compile time, so every cargo command
# below needs it. Then its type check and unit tests (fast), and its browser tests in
# Debian's headless Chromium with the IPC mocked.
stage "ui: npm ci (when the lock changed) and build"
scripts/ui.sh
stage "ui: svelte-check, vitest, Playwright"
npm --prefix ui run check
npm --prefix ui test
npm --prefix ui run test:browser
stage "cargo fmt, clippy"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
# The libraries and programs alone, without the tests' `test-support` feature (which every
# test and bench target gets through the crate's dev-dependency on itself): the CLI and the
# app must build on the public facade only. `--workspace`, as scripts/build-bins.sh builds
# them: `-p daftar` alone would resolve other dependency features and check ~200 crates again.
cargo clippy --locked --workspace --lib --bins -- -D warnings
command -v npm >/dev/null || { echo "npm not found: install Node.js 20 with npm (the contract test runs Stoplight Prism)"; exit 1; }
[ -x tools/contract/node_modules/.bin/prism ] || npm ci --prefix tools/contract --no-audit --no-fund  # Stoplight Prism for tests/ottu_contract.rs
# Inside a private D-Bus session with a throwaway, unlocked gnome-keyring: the keyring
# tests use a real Secret Service, and fail (not skip) without one. The desktop shell's
# tests (Tauri's mock runtime on a real SQLite file) are among them.
stage "cargo test --workspace"
scripts/keyring-session.sh cargo test --workspace --locked
# The UI's generated TypeScript types compile, and every --json view snapshot is of its type.
scripts/check-bindings.sh
# Ottu's own Python client (ottu-py, pinned) drives the sandbox: tools/ottu-py/.venv is made once.
tools/ottu-py/run.sh
# `make demo` (and `make run` without a display) from a build without its binaries: the
# terminal demo must build what it runs and work.
scripts/demo-check.sh
# The real app: its first screen paints with data under Xvfb (DAFTAR_RUN_SMOKE=1), then the
# end-to-end tests drive its window through tauri-driver and WebKitWebDriver.
stage "app smoke run"
scripts/app-smoke.sh
stage "e2e in the real window"
e2e/run.sh
stage "benches (tiny sizes)"
# The benchmarks must keep building and running: tiny sizes, checked (exactly-once) not timed.
# `--workspace`, as the test stage: the same dependency features, so nothing is compiled
# twice (without it cargo resolves features for the root package alone and rebuilds ~30
# crates).
DAFTAR_BENCH_PAYMENTS=2000 cargo test --workspace --locked --bench ledger
DAFTAR_BENCH_PAGING_PAYMENTS=10000 cargo test --workspace --locked --bench paging
DAFTAR_BENCH_SYNC_OPS=200 DAFTAR_BENCH_SYNC_LATENCY_OPS=40 cargo test --workspace --locked --bench sync
# Month end through the CLI: every stage must run and the round trip keep its totals.
DAFTAR_BENCH_MONTH_END_ROWS=2000 cargo test --workspace --locked --bench month_end
stage "all passed"
