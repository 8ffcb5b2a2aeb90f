# Fengqiao: the two commands a newcomer needs are `make run` and `make test` (see README.md).
SHELL := /bin/bash
CARGO ?= cargo

.PHONY: run test test-rust test-web bench clippy fmt

## Start the product with the example county on the embedded SQLite default.
run:
	$(CARGO) build --release -p fengqiao-server --bin fengqiao
	./target/release/fengqiao org import server/examples/county.toml
	./target/release/fengqiao serve

## Run every test. The storage and identity tests also run on a throwaway PostgreSQL started here
## (installed with apt-get when missing).
test: test-rust test-web

test-rust:
	url="$$(scripts/postgres-test-server start)" && \
	trap 'scripts/postgres-test-server stop' EXIT && \
	FENGQIAO_TEST_POSTGRES_URL="$$url" $(CARGO) test --workspace --all-targets

## The web app: unit tests in Node and browser tests in headless Chromium (installed with
## apt-get when missing).
test-web:
	cd clients/web && npm ci --no-audit --no-fund && npm test

## Run the benchmarks (slow; not part of `make test`).
bench:
	$(CARGO) bench --workspace

clippy:
	$(CARGO) clippy --workspace --all-targets

fmt:
	$(CARGO) fmt --all
