# Fengqiao: the two commands a newcomer needs are `make run` and `make test` (see README.md).
SHELL := /bin/bash
CARGO ?= cargo

.PHONY: run test test-rust test-web bench clippy fmt

## Start the product with the demo county on the embedded SQLite default (generated on the first
## run; later runs keep the database as it is), the web app (built first) at http://127.0.0.1:8080/.
run:
	cd clients/web && npm ci --no-audit --no-fund && npm run build
	$(CARGO) build --release -p fengqiao-server --bin fengqiao
	./target/release/fengqiao demo
	./target/release/fengqiao serve

## Run every test. The storage and identity tests also run on a throwaway PostgreSQL started here
## (installed with apt-get when missing).
test: test-rust test-web

# The binaries the tests run as processes. `cargo test --workspace --all-targets` builds them
# before any test starts, with the workspace's features; a test building one package alone would
# compile the dependencies again with other features.
TARGET_DIR := $(abspath $(or $(CARGO_TARGET_DIR),target))
TEST_BINS := FENGQIAO_BIN=$(TARGET_DIR)/debug/fengqiao FENGQIAO_CLIENT_BIN=$(TARGET_DIR)/debug/fengqiao-client

test-rust:
	url="$$(scripts/postgres-test-server start)" && \
	trap 'scripts/postgres-test-server stop' EXIT && \
	FENGQIAO_TEST_POSTGRES_URL="$$url" $(TEST_BINS) $(CARGO) test --workspace --all-targets

## The web app: unit tests in Node and browser tests in headless Chromium (installed with
## apt-get when missing), against the server binary test-rust built (built here when missing).
test-web:
	test -x $(TARGET_DIR)/debug/fengqiao || $(CARGO) build --workspace --bins
	cd clients/web && npm ci --no-audit --no-fund && $(TEST_BINS) npm test

## Run the benchmarks (slow; not part of `make test`).
## The scenarios of the benchmark harness (bootstrap, reconnect, ingest, fan-out, memory, side by side
## with the automerge-repo server; report in target/bench/report.md and .json), then the criterion
## benchmarks (ingest, dashboard queries over 1,000,000 projected cases).
bench:
	$(CARGO) build --release -p fengqiao-server --bin fengqiao -p fengqiao-bench --bin fengqiao-bench
	./target/release/fengqiao-bench --out target/bench
	$(CARGO) bench --workspace

clippy:
	$(CARGO) clippy --workspace --all-targets

fmt:
	$(CARGO) fmt --all
