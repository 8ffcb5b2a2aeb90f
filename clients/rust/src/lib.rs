//! The offline replica (SQLite), sync over the network and the `fengqiao-client` CLI. Built in the client issue.
