#!/usr/bin/env bash
# Runs test_sandbox.py: Ottu's own Python client (ottu-py, pinned in requirements.txt)
# against the daftar-sandbox binary. Makes the venv (tools/ottu-py/.venv) the first time and
# reinstalls only when requirements.txt changes, so a second run needs no network.
#
#   tools/ottu-py/run.sh [-v]      # builds the programs (debug, scripts/build-bins.sh) first
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/../.."
venv="$here/.venv"
if ! cmp -s "$here/requirements.txt" "$venv/requirements.installed" 2>/dev/null; then
  rm -rf "$venv"
  python3 -m venv "$venv" || {
    echo "[ottu-py] python3 -m venv failed: install python3-venv (scripts/setup.sh does)" >&2
    exit 1
  }
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt"
  cp "$here/requirements.txt" "$venv/requirements.installed"
fi
scripts/build-bins.sh
"$venv/bin/python" "$here/test_sandbox.py" --sandbox "${CARGO_TARGET_DIR:-target}/debug/daftar-sandbox" "$@"
