#!/usr/bin/env bash
# Type-checks the generated TypeScript contract against real output: ui/src/lib/bindings.ts
# must compile under `tsc --strict`, and every JSON view snapshot in tests/snapshots/views__*
# (what `--json` prints, pinned by tests/views.rs) must be a value of its declared type, with
# no field missing and none extra. tests/bindings.rs checks the file is fresh; this checks it
# is right. Needs Node.js with npm (TypeScript 5 comes from the npm registry via npx).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v npx >/dev/null || { echo "npx not found: install Node.js 20 with npm"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp ui/src/lib/bindings.ts "$work/bindings.ts"
node - "$work/check.ts" <<'EOF'
const fs = require("fs");
const path = require("path");
// Snapshot name (tests/views.rs) -> its type in bindings.ts.
const types = {
  profile_view: "T.ProfileView", profile_detail: "T.ProfileDetail",
  profile_changed: "T.ProfileChanged", profiles: "T.ProfileView[]",
  profile_removed: "T.ProfileView", profile_detail_paused: "T.ProfileDetail",
  payment_added: "T.PaymentDetail", payment_detail: "T.PaymentDetail",
  payment_detail_refund_settled: "T.PaymentDetail", payment_list: "T.PaymentPage",
  import_summary: "T.ImportSummary", refresh_summary: "T.RefreshSummary",
  queued_view: "T.QueuedView", retried: "T.QueuedView", preview: "string | null",
  operation_dropped: "T.OperationView", queue_list: "T.OperationPage",
  sync_summary: "T.SyncSummary", sync_events: "T.SyncEvent[]", status: "T.StatusReport",
  payment_actions: "T.ActionView[]", connection_check: "T.ConnectionCheck",
  connection_check_failed: "T.ConnectionCheck",
};
const dir = "tests/snapshots";
const lines = ['import type * as T from "./bindings";'];
for (const file of fs.readdirSync(dir).filter((f) => /^views__.*\.snap$/.test(f)).sort()) {
  const name = file.slice("views__".length, -".snap".length);
  if (!(name in types)) {
    console.error(`scripts/check-bindings.sh: give snapshot ${name} its type in the table`);
    process.exit(1);
  }
  // An insta file: a `---` header block, then the snapshot.
  const body = fs.readFileSync(path.join(dir, file), "utf8").split(/^---$/m).slice(2).join("---");
  lines.push(`export const ${name}: ${types[name]} = ${body.trim()};`);
}
fs.writeFileSync(process.argv[2], lines.join("\n") + "\n");
EOF
npx --yes -p typescript@5.9.3 tsc --noEmit --strict "$work/bindings.ts" "$work/check.ts"
echo "bindings.ts compiles and every view snapshot is a value of its type"
