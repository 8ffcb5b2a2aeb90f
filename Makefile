# Fengqiao: the two commands a newcomer needs are `make run` and `make test` (see README.md).
SHELL := /bin/bash
CARGO ?= cargo

.PHONY: run test bench check fmt clippy

## Start the product with demo data on the embedded SQLite default.
run:
	$(CARGO) run --release -p fengqiao-server --bin fengqiao

## Run every test.
test:
	$(CARGO) test --workspace --all-targets

## Run the benchmarks (slow; not part of `make test`).
bench:
	$(CARGO) bench --workspace

clippy:
	$(CARGO) clippy --workspace --all-targets

fmt:
	$(CARGO) fmt --all
