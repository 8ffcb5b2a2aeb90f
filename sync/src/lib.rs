//! The sync engine: authorised merging, handoff arbitration and the batch protocol (sans-IO).
//!
//! - [`ingest`]: what happens when a device's sync message for one case arrives.
//!
//! Nothing here touches a socket, a database, a clock or a random number generator.

pub mod ingest;
