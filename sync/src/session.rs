//! The session state machines that drive the batch protocol (DESIGN §8, `docs/PROTOCOL.md`).
//!
//! Both are sans-IO in the manner of samod-core: the caller feeds them inputs (a decoded message,
//! a loaded document, the answer to a question they asked) and gets back outputs (a message to
//! send, documents to load, bytes to store, notices to show). They never block, never read a clock
//! and never fail because of the outside world.
//!
//! - [`ServerSession`] answers one client. It asks its caller for the change feed, for documents,
//!   and to authorise and durably commit each document's incoming changes; it keeps a per-document
//!   `automerge::sync::State` only while a document is in play.
//! - [`ClientSession`] drives one sync of a device's replica: it says hello, works through the
//!   documents in play in windows of at most `max_entries`, and tells its caller what to merge,
//!   stash, forget and show.
//!
//! The rounds are strictly alternating: the client sends a batch, the server answers it, and so
//! on; the client ends by sending an empty batch, which the server answers with `Done`. Because
//! every server message answers exactly one client message, the same [`ServerSession`] serves a
//! WebSocket (one instance for the whole connection) and HTTP (a new instance per request, see
//! PROTOCOL.md "HTTP").

mod client;
mod server;

pub use client::{
    ClientInput, ClientOutput, ClientSession, ClientStart, DocUpdate, ForgetReason, LocalDoc,
    Notice,
};
pub use server::{
    ApplyOutcome, ApplyRequest, FeedAnswer, Need, ServerInput, ServerOutput, ServerSession,
    Snapshot,
};

/// Bytes of every batch kept for the envelope (array header, version, kind, round, cursor, the
/// entries' array header). The largest possible envelope is under 128 bytes.
const FRAME_RESERVE: usize = 256;
