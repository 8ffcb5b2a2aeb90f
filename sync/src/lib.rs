//! The sync engine: authorised merging, handoff arbitration and the batch protocol (sans-IO).
//!
//! - [`ingest`]: what happens when a device's sync message for one case arrives.
//! - [`protocol`]: the messages of the batch protocol, their CBOR encoding and limits.
//! - [`session`]: the client and server session state machines that drive the protocol; they take
//!   decoded messages and loaded documents as inputs and return what to send, load and store.
//!
//! Nothing here touches a socket, a database, a clock or a random number generator.

pub mod ingest;
pub mod protocol;
pub mod session;
