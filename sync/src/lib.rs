//! The sync engine: authorised merging, handoff arbitration and the batch protocol (sans-IO). Built in the sync-core issue.
