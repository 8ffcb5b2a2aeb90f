//! The Fengqiao server library: storage, identity, sync endpoints. Built in the server issue.
