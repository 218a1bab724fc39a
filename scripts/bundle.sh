#!/usr/bin/env bash
# `make bundle`: a .deb of the release desktop app, in target/debian/. The UI is built first
# (the app embeds ui/dist), then the release binary with tauri's custom protocol (what
# `tauri build` would turn on: ui/dist served from the binary), then cargo-deb (built once
# from source into ${CARGO_TARGET_DIR:-target}/tools) packs it with [package.metadata.deb] of src-tauri/Cargo.toml:
# the binary, a .desktop entry and the icon; it depends on libwebkit2gtk-4.1-0 and libgtk-3-0.
# No other format: an AppImage needs linuxdeploy, downloaded at build time; .rpm and
# flatpak need tools Debian does not ship by default.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/tools.sh cargo-deb
scripts/ui.sh
started=$(date +%s)
echo "Building the release app (the first release build takes several minutes)..."
cargo build --locked --release -p daftar-app --bin daftar-app --features custom-protocol
echo "[bundle] release build: $(($(date +%s) - started)) s"
PATH="$(realpath -m "${CARGO_TARGET_DIR:-target}")/tools/bin:$PATH" cargo deb --locked -p daftar-app --no-build \
  --output "${CARGO_TARGET_DIR:-target}/debian/"
deb="$(ls -t "${CARGO_TARGET_DIR:-target}"/debian/*.deb | head -n 1)"
echo "[bundle] $deb ($(du -h "$deb" | cut -f1))"
dpkg-deb --info "$deb" | sed -n 's/^ \(Package\|Version\|Depends\|Installed-Size\):/  \1:/p'
