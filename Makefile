# The two commands a newcomer needs, `make run` and `make test`. Each installs what it needs
# first (scripts/setup.sh).
.PHONY: run demo test bundle bench bench-app bench-month-end

# Opens the desktop app (with no display: the terminal demo).
run:
	scripts/run.sh

# The terminal demo: the CLI against the bundled Ottu sandbox.
demo:
	scripts/demo.sh

test:
	scripts/test.sh

# A .deb of the release app (target/debian/).
bundle:
	scripts/bundle.sh

bench:
	cargo bench --bench ledger
	cargo bench --bench sync

# The desktop app's cold start, idle memory and sizes on a 1,000,000-payment ledger.
bench-app:
	scripts/bench-app.sh

# Month end on a 1,000,000-payment ledger: CSV export vs sqlite3, XLSX memory, report import
# vs raw rusqlite, reconcile, and the round trip (benches/month_end.rs).
bench-month-end:
	scripts/bench-month-end.sh
