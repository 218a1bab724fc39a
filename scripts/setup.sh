#!/usr/bin/env bash
# Installs what building and testing Daftar needs, only where it is missing: safe to run
# any number of times. System packages come from apt (as root, or through sudo).
set -euo pipefail

# Debian packages the build and tests need: the C compiler builds the bundled SQLite;
# libdbus (with pkg-config to find it) is how the keyring crate reaches the Secret Service;
# dbus and gnome-keyring give the tests a private session bus and a real Secret Service.
APT_PACKAGES=(gcc libc6-dev make pkg-config libdbus-1-dev dbus gnome-keyring curl)
# The desktop app (Tauri 2, src-tauri/) builds against WebKitGTK 4.1 and GTK 3.
APT_PACKAGES+=(libwebkit2gtk-4.1-dev libgtk-3-dev librsvg2-dev libsoup-3.0-dev
  libjavascriptcoregtk-4.1-dev libssl-dev)
# Its tests: WebKitWebDriver (driven through tauri-driver) and a virtual X display for the
# real window, Debian's Chromium for the UI's browser tests (Playwright never downloads one).
APT_PACKAGES+=(webkit2gtk-driver xvfb xauth chromium)

say() { printf '[setup] %s\n' "$*"; }

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
# Python 3 with venv and pip for the ottu-py test (tools/ottu-py): any python3 that can make a
# venv will do (Debian's needs python3-venv, which brings ensurepip).
if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
  for pkg in python3 python3-venv python3-pip; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
fi
if ((${#missing[@]})); then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { say "need root to install: ${missing[*]}"; exit 1; }
    sudo="sudo"
  fi
  say "installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi

command -v cargo >/dev/null || { say "cargo not found: install Rust stable with rustup (https://rustup.rs)"; exit 1; }
cargo fmt --version >/dev/null 2>&1 || { say "rustfmt missing: rustup component add rustfmt"; exit 1; }
cargo clippy --version >/dev/null 2>&1 || { say "clippy missing: rustup component add clippy"; exit 1; }
# The UI (ui/) builds with npm; Node 20 or newer (Debian 12's own nodejs is 18: use
# NodeSource's or nvm's).
command -v node >/dev/null && command -v npm >/dev/null ||
  { say "node and npm not found: install Node.js 20 or newer (https://nodejs.org)"; exit 1; }
node_major="$(node -p 'process.versions.node.split(".")[0]')"
[ "$node_major" -ge 20 ] || { say "Node.js $(node --version) is too old: the UI needs 20 or newer"; exit 1; }
say "ready ($(cargo --version), node $(node --version))"
