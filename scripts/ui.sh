#!/usr/bin/env bash
# Builds the web UI (ui/ -> ui/dist), which the desktop app embeds at compile time: it must
# exist before any cargo build, clippy or test of the workspace (tauri's macro refuses to
# compile src-tauri without it). `npm ci` runs only when ui/package-lock.json changed since
# the last install (a stamp in node_modules); the build only when a file under ui/ is newer
# than the last build. Never downloads a browser: the tests use Debian's chromium.
#
#   scripts/ui.sh            install if needed, then build if needed
#   scripts/ui.sh --force    build even if nothing changed
set -euo pipefail
cd "$(dirname "$0")/../ui"
say() { printf '[ui] %s\n' "$*"; }
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

[ -f package-lock.json ] || { say "ui/package-lock.json is missing"; exit 1; }
lock_sum="$(sha256sum package-lock.json | cut -d' ' -f1)"
install_stamp=node_modules/.daftar-lock.sha256
if [ "$(cat "$install_stamp" 2>/dev/null)" != "$lock_sum" ]; then
  started=$(date +%s)
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_sum" >"$install_stamp"
  say "npm ci: $(($(date +%s) - started)) s"
fi

# Rebuild when a source, config or the lock is newer than the last build. A rebuild changes
# ui/dist, which makes cargo recompile the app: skip it when nothing changed.
build_stamp=node_modules/.daftar-built
if [ "${1:-}" = --force ] || [ ! -f dist/index.html ] || [ ! -f "$build_stamp" ] ||
   [ -n "$(find . \( -path ./node_modules -o -path ./dist -o -path ./tests \
            -o -path ./test-results -o -path ./playwright-report \) -prune \
            -o -type f -newer "$build_stamp" -print -quit)" ]; then
  started=$(date +%s)
  touch "$build_stamp.next"   # sources saved during the build count as newer
  npm run --silent build
  mv "$build_stamp.next" "$build_stamp"
  say "built ui/dist in $(($(date +%s) - started)) s"
fi
