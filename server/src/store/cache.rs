//! The document cache: loaded automerge documents, bounded by an estimate of the memory they use,
//! not by their number, evicting the least recently used (DESIGN §9: the server's memory does not
//! grow with the number of cases stored).
//!
//! An automerge document in memory is several times larger than its saved form, and measuring it
//! exactly would cost a walk of the document. The estimate is the bytes it occupies on disk
//! (snapshot plus chunks, known without work) times a factor, plus a fixed overhead.

use std::collections::{BTreeMap, HashMap};

use automerge::{Automerge, ChangeHash};
use fengqiao_schema::ids::CaseId;

use super::access::CaseReaders;
use super::documents::FeedSeq;
use super::projections::ProjectedCase;

/// Fixed memory of a loaded document whatever its size (op set, change graph, indexes): a loaded
/// one-change document takes about 18 KB.
const ENTRY_OVERHEAD: usize = 16 * 1024;

/// How much memory the cache may use, by estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheBudget {
    pub bytes: usize,
    /// Memory per byte of the saved document; see `DEFAULT_MEMORY_PER_STORED_BYTE`.
    pub memory_per_stored_byte: usize,
}

/// Measured on case-like documents (sections, parties, sessions with Chinese notes; three actors;
/// automerge 0.12, release build, loaded from a saved snapshot): resident memory per byte of the
/// saved document was 18–20 at 50–100 changes (2 KB saved), 40 at 400 changes (3.4 KB), 54 at
/// 1,500 (9 KB) and 60 at 5,000 changes (30 KB saved, 1.8 MB in memory): the compressed save
/// hides a history that memory holds. 64 errs on the large side. Chunks not yet compacted are
/// stored uncompressed, so for them the estimate is larger still.
pub const DEFAULT_MEMORY_PER_STORED_BYTE: usize = 64;

impl Default for CacheBudget {
    fn default() -> Self {
        CacheBudget { bytes: 256 * 1024 * 1024, memory_per_stored_byte: DEFAULT_MEMORY_PER_STORED_BYTE }
    }
}

/// A loaded document whose every change is durable.
#[derive(Debug)]
pub struct CachedDocument {
    pub doc: Automerge,
    /// The heads stored in the database: `doc` holds nothing beyond them.
    pub durable_heads: Vec<ChangeHash>,
    /// Bytes of the document on disk (snapshot plus chunks): the base of the size estimate.
    pub stored_bytes: usize,
    /// Who reads the case as stored (`store::access`): a commit that changes it rewrites the
    /// case's access rows.
    pub readers: CaseReaders,
    /// The newest feed entry of the case that `doc` is known to hold; a cached document behind the
    /// feed (another server process committed since) is loaded again.
    pub seq: Option<FeedSeq>,
    /// The case as the last commit through this process projected it (`None` until then).
    pub projected: Option<Box<ProjectedCase>>,
}

impl CachedDocument {
    /// A document nobody has stored yet.
    pub fn empty() -> CachedDocument {
        CachedDocument {
            doc: Automerge::new(),
            durable_heads: Vec::new(),
            stored_bytes: 0,
            readers: CaseReaders::default(),
            seq: None,
            projected: None,
        }
    }
}

struct Entry {
    doc: CachedDocument,
    size: usize,
    last_use: u64,
}

/// Loaded documents keyed by case, within a byte budget, least recently used evicted first.
pub struct DocCache {
    budget: CacheBudget,
    used: usize,
    clock: u64,
    entries: HashMap<CaseId, Entry>,
    by_last_use: BTreeMap<u64, CaseId>,
}

impl DocCache {
    pub fn new(budget: CacheBudget) -> DocCache {
        DocCache { budget, used: 0, clock: 0, entries: HashMap::new(), by_last_use: BTreeMap::new() }
    }

    /// The memory a document of this stored size is counted as.
    pub fn estimate(&self, stored_bytes: usize) -> usize {
        stored_bytes.saturating_mul(self.budget.memory_per_stored_byte).saturating_add(ENTRY_OVERHEAD)
    }

    /// Takes a document out for use; `insert` puts it back as the most recently used.
    pub fn take(&mut self, case_id: &CaseId) -> Option<CachedDocument> {
        let entry = self.entries.remove(case_id)?;
        self.by_last_use.remove(&entry.last_use);
        self.used -= entry.size;
        Some(entry.doc)
    }

    /// Adds (or replaces) a document as the most recently used, evicting the least recently used
    /// until the budget holds. A document larger than the whole budget is not kept. Returns the
    /// cases evicted (including this one if it was not kept).
    pub fn insert(&mut self, case_id: CaseId, doc: CachedDocument) -> Vec<CaseId> {
        self.take(&case_id);
        let size = self.estimate(doc.stored_bytes);
        if size > self.budget.bytes {
            return vec![case_id];
        }
        let mut evicted = Vec::new();
        while self.used + size > self.budget.bytes {
            let Some((_, oldest)) = self.by_last_use.pop_first() else { break };
            if let Some(entry) = self.entries.remove(&oldest) {
                self.used -= entry.size;
            }
            evicted.push(oldest);
        }
        self.clock += 1;
        self.by_last_use.insert(self.clock, case_id);
        self.entries.insert(case_id, Entry { doc, size, last_use: self.clock });
        self.used += size;
        evicted
    }

    /// Drops a document (e.g. because it changed elsewhere). Returns whether it was cached.
    pub fn remove(&mut self, case_id: &CaseId) -> bool {
        self.take(case_id).is_some()
    }

    pub fn contains(&self, case_id: &CaseId) -> bool {
        self.entries.contains_key(case_id)
    }

    /// Estimated bytes in use; never above the budget.
    pub fn used_bytes(&self) -> usize {
        self.used
    }

    pub fn budget(&self) -> CacheBudget {
        self.budget
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}
