#!/usr/bin/env bash
# Builds the pinned Rust tools the app's tests and packaging use, once, from source, into
# ${CARGO_TARGET_DIR:-target}/tools/bin (cached across runs; nothing prebuilt is downloaded):
#   tauri-driver  the WebDriver proxy between the e2e tests and WebKitWebDriver (e2e/run.sh)
#   cargo-deb     makes the .deb (make bundle)
#
#   scripts/tools.sh tauri-driver cargo-deb     prints nothing when they are already built
set -euo pipefail
cd "$(dirname "$0")/.."
# The one root every script uses (e2e/run.sh, bundle.sh): the tools live beside the build
# they belong to, so a CARGO_TARGET_DIR elsewhere keeps them there too. Absolute, because
# cargo install runs with its own target dir.
root="$(realpath -m "${CARGO_TARGET_DIR:-target}")/tools"
for tool in "$@"; do
  case "$tool" in
    tauri-driver) version=2.1.0 ;;
    cargo-deb) version=3.8.0 ;;
    *) echo "[tools] unknown tool: $tool" >&2; exit 2 ;;
  esac
  # cargo install records what it installed in .crates.toml (tauri-driver has no --version).
  if [ -x "$root/bin/$tool" ] && grep -qF "\"$tool $version " "$root/.crates.toml" 2>/dev/null; then
    continue
  fi
  echo "[tools] building $tool $version from source (once, into $root)..."
  started=$(date +%s)
  # Its own target dir under target/tools, kept: a second install after a version bump
  # reuses the compiled dependencies.
  CARGO_TARGET_DIR="$root/build" cargo install --quiet --locked --version "$version" \
    --root "$root" "$tool"
  echo "[tools] $tool $version built in $(($(date +%s) - started)) s"
done
