#!/usr/bin/env bash
# `daftar import --from-file` against the Ottu sandbox: peak memory (max RSS, from
# /usr/bin/time -v) and wall time for files of N session ids, plus what a wrong key, a bad
# line in the middle and a network loss 3 s in cost. Figures in BENCHMARKS.md.
#
#   cargo build --bin daftar -p daftar -p daftar-sandbox    # or --release (then set the paths)
#   scripts/keyring-session.sh benches/import.sh 100000 1000000
#
# IMPORT_ONLY=1 runs only the two imports (e.g. for 1,000,000 ids, where the other cases
# take long with an older build). DAFTAR_BIN and SANDBOX_BIN pick the binaries (default
# target/debug/...), e.g. an older build of daftar for a before/after comparison. Needs a keyring (set-key), sqlite3 (to list
# the sandbox's session ids from its state file), curl and python3.
set -euo pipefail

DAFTAR_BIN=${DAFTAR_BIN:-target/debug/daftar}
SANDBOX_BIN=${SANDBOX_BIN:-target/debug/daftar-sandbox}
KEY=sandbox-demo-key
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100000 1000000)

work=$(mktemp -d)
sandbox_pid=
cleanup() {
  [ -n "$sandbox_pid" ] && kill "$sandbox_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

start_sandbox() { # $1 = payments, $2 = state file
  "$SANDBOX_BIN" --port 0 --payments "$1" --state "$2" --no-refusing-gateways \
    >"$work/sandbox.out" 2>"$work/sandbox.err" &
  sandbox_pid=$!
  for _ in $(seq 6000); do
    url=$(sed -n 's/^daftar-sandbox listening on //p' "$work/sandbox.out")
    [ -n "$url" ] && return
    kill -0 "$sandbox_pid" 2>/dev/null || { cat "$work/sandbox.err" >&2; exit 1; }
    sleep 0.1
  done
  echo "the sandbox did not start" >&2
  exit 1
}

stop_sandbox() {
  kill "$sandbox_pid" 2>/dev/null || true
  wait "$sandbox_pid" 2>/dev/null || true
  sandbox_pid=
}

ledger() { # $1 = name, $2 = key: a fresh ledger with profile `bench` on the sandbox
  local db="$work/$1.sqlite3"
  rm -f "$db" "$db"-*
  "$DAFTAR_BIN" --db "$db" profile add bench --base-url "$url" --currency KWD >/dev/null
  printf '%s\n' "$2" | "$DAFTAR_BIN" --db "$db" profile set-key bench --stdin >/dev/null
  echo "$db"
}

payment_requests() {
  curl -sf "$url/_sandbox/state" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["counters"]["payment_requests"])'
}

import() { # $1 = db, $2 = file; prints "exit rss_mb seconds" and keeps the JSON in $work/out.json
  local code=0
  /usr/bin/time -v "$DAFTAR_BIN" --db "$1" --json import --profile bench --from-file "$2" \
    >"$work/out.json" 2>"$work/time.txt" || code=$?
  local rss secs
  rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/time.txt")
  secs=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$work/time.txt" |
    awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }')
  echo "$code $((rss / 1024)) $secs"
}

summary() { # the import's JSON, short
  python3 - "$work/out.json" <<'EOF'
import json, sys
text = open(sys.argv[1]).read()
try:
    d = json.loads(text)
except ValueError:
    print("not JSON:", text[:200]); sys.exit()
keys = ["added", "updated", "unchanged", "failed_count", "rejected_count"]
out = {k: d[k] for k in keys if k in d}
if "failed" in d and "failed_count" not in d: out["failed"] = len(d["failed"])
if d.get("rejected"): out["first_rejected"] = d["rejected"][0]
if d.get("stopped"): out["stopped"] = {k: d["stopped"][k] for k in ("reason", "line")}
if d.get("error"): out["error"] = d["error"]["code"]
print(json.dumps(out))
EOF
}

echo "daftar: $DAFTAR_BIN ($(stat -c %y "$DAFTAR_BIN" | cut -d. -f1))"
for n in "${sizes[@]}"; do
  state="$work/ottu-$n.sqlite3"
  start_sandbox "$n" "$state"
  sqlite3 "$state" "SELECT session_id FROM payments ORDER BY rowid" >"$work/ids.txt"
  echo "== $n ids ($(wc -c <"$work/ids.txt") bytes), sandbox $url"

  db=$(ledger good "$KEY")
  read -r code rss secs < <(import "$db" "$work/ids.txt")
  echo "import:            exit $code, max RSS $rss MB, $secs s, $(summary)"
  read -r code rss secs < <(import "$db" "$work/ids.txt")
  echo "import again:      exit $code, max RSS $rss MB, $secs s, $(summary)"

  if [ -n "${IMPORT_ONLY:-}" ]; then
    stop_sandbox
    continue
  fi

  before=$(payment_requests)
  db=$(ledger wrong wrong-key-for-bench)
  read -r code rss secs < <(import "$db" "$work/ids.txt")
  echo "wrong key:         exit $code, $secs s, $(($(payment_requests) - before)) request(s) sent, $(summary)"

  half=$((n / 2))
  awk -v bad="$half" 'NR == bad { print "not an id" } { print }' "$work/ids.txt" >"$work/bad.txt"
  db=$(ledger bad "$KEY")
  read -r code rss secs < <(import "$db" "$work/bad.txt")
  echo "bad line at $half: exit $code, $secs s, $(summary)"

  db=$(ledger lost "$KEY")
  (sleep 3 && stop_sandbox) &
  killer=$!
  read -r code rss secs < <(import "$db" "$work/ids.txt")
  wait "$killer" || true
  saved=$(sqlite3 "$db" "SELECT count(*) FROM payments")
  echo "sandbox killed 3 s in: exit $code, $secs s, $saved payment(s) in the ledger, $(summary)"
  stop_sandbox
done
