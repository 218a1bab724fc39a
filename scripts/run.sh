#!/usr/bin/env bash
# `make run`: builds the desktop app and opens it on the default ledger (DAFTAR_DB if set,
# else daftar.sqlite3 in the OS data directory). On an empty ledger the app offers a demo
# backed by the bundled Ottu sandbox. With no display it says so and plays the terminal
# demo (scripts/demo.sh, `make demo`) instead.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "No display (DISPLAY and WAYLAND_DISPLAY are empty), so no window: playing the terminal demo instead."
  exec scripts/demo.sh
fi
scripts/setup.sh
scripts/ui.sh
echo "Building the Daftar app, CLI and Ottu sandbox (the first build takes 10 to 15 minutes)..."
scripts/build-bins.sh
# The app keeps API keys in the OS keyring: without a Secret Service on the session bus
# (no desktop session), a private throwaway one, as the terminal demo does.
exec scripts/with-keyring.sh "${CARGO_TARGET_DIR:-target}/debug/daftar-app"
