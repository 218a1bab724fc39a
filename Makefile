# The two commands a newcomer needs. Both install what they need first (scripts/setup.sh).
.PHONY: run test bench demo

run: demo

demo:
	scripts/demo.sh

test:
	scripts/test.sh

bench:
	cargo bench --bench ledger
	cargo bench --bench sync
