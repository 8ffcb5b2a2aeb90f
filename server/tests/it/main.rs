//! The server's own tests, in one binary: storage, identity, organisation import, the HTTP surface,
//! the sync endpoints (with tablets over real sockets, a security table, crash safety of the real
//! binary under SIGKILL, and two servers on one PostgreSQL), the projections and the JSON API over
//! them, and the command line. Every storage and identity test runs on SQLite, and again on PostgreSQL
//! when `FENGQIAO_TEST_POSTGRES_URL` is set (`make test` starts a throwaway server for it with
//! `scripts/postgres-test-server`). Each run gets its own database: a SQLite file in a temporary
//! directory, or a schema of its own on the PostgreSQL server, so tests run in parallel.

mod common;
mod tablet;

mod access;
mod api;
mod annual_report;
mod cases_export;
mod cli;
mod deadlines;
mod crash;
mod documents;
mod feed;
mod http;
mod identity;
mod multiprocess;
mod org;
mod projections;
mod stats;
mod sync;
mod sync_security;
mod web;
