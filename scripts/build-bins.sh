#!/usr/bin/env bash
# Builds the workspace's three programs (debug): the CLI `daftar`, the Ottu sandbox
# `daftar-sandbox` and the desktop app `daftar-app`, in one cargo call.
#
# Every script that runs a program builds it through here, never with its own `-p` list:
# cargo unifies dependency features over the packages a call selects, so each different
# selection compiles its own copy of tokio, reqwest, hyper and whatever depends on them.
# Four selections cost `make test` minutes and gigabytes (a CI run once ran out of disk).
set -euo pipefail
cd "$(dirname "$0")/.."
# The app embeds ui/dist at compile time (tauri's macro refuses to build without it).
[ -f ui/dist/index.html ] || scripts/ui.sh
# On a terminal, cargo's own progress bar (a first build is 10 to 15 minutes on 2 cores);
# in logs (CI, the test scripts' captured output), only errors.
quiet=--quiet
[ -t 2 ] && quiet=
cargo build --locked $quiet --workspace --bins
