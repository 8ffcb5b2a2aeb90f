//! The fixture county of `fengqiao_schema::fixtures`, for the policy and handoff tests.

pub use fengqiao_schema::fixtures::*;
