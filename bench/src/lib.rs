//! The Fengqiao benchmark harness (`make bench`): the scenarios of the benchmark issue against the
//! real `fengqiao` server (a child process, measured from /proc) with real clients, every byte
//! counted by a TCP proxy in between, side by side with the automerge-repo sync server on the same
//! documents and edits. Results go to a JSON file and a Markdown table.

pub mod automerge_repo;
pub mod fengqiao;
pub mod light;
pub mod procstat;
pub mod proxy;
pub mod report;
pub mod scenarios;
