//! The Fengqiao case document and the rules around it: vocabularies, the document types, units
//! and roles, who may read and write what, handoff paths, legal clocks and rates.
//!
//! Pure: no IO, no clock, no randomness. Times and loaded bytes come in as arguments.

pub mod calendar;
pub mod clocks;
pub mod document;
pub mod fixtures;
pub mod rates;
pub mod time;
pub mod vocab;
pub mod handoff;
pub mod ids;
pub mod policy;
pub mod units;
pub mod upgrade;
