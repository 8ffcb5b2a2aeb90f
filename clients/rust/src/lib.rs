//! The Fengqiao client a native tablet app embeds: an offline replica in SQLite (`replica`), edits
//! through the schema types (`edit`, `ops`), and sync with the server over WebSocket or HTTP driven
//! by `fengqiao_sync::session`'s client machine (`client`, `transport`), with token refresh
//! (`api`). Refusals and reverted changes become notices kept until the user acknowledges them;
//! refused copies go to a stash; nothing the user wrote is dropped silently. The `fengqiao-client`
//! command line (`cli`) is a thin layer over [`Client`].
//!
//! Never depends on the server crate: it speaks only the protocol of `docs/PROTOCOL.md`.

pub mod api;
pub mod cli;
pub mod client;
pub mod clock;
pub mod edit;
pub mod error;
pub mod local;
pub mod ops;
pub mod replica;
pub mod transport;

pub use client::{
    Client, ClientOptions, ExportSummary, ProgressFn, SyncProgress, SyncReport, WatchEvent,
};
pub use clock::{Clock, OffsetClock, SystemClock};
pub use error::ClientError;
pub use local::{CaseListing, LocalUser};
pub use replica::{LoginState, NoticeKind, StashEntry, StoredNotice};
pub use transport::{TransportKind, WireStats};

/// `N` random bytes from the operating system.
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::getrandom(&mut bytes).expect("the operating system provides random bytes");
    bytes
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
