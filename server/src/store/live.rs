//! Live documents: the one way the server reads and changes case documents. It serialises the
//! writes to each document (one writer at a time per case, DESIGN §9 and notes/AUTOMERGE.md: two
//! writers under the server's actor could not merge), keeps loaded documents in the byte-bounded
//! cache, and makes every change durable through the group committer before anyone else can see
//! it (DESIGN §8: durable before acknowledged).
//!
//! A `DocumentGuard` holds the document's lock. The cache only ever holds durable state: the guard
//! takes the document out, and puts it back when dropped only if it holds nothing uncommitted; a
//! document with changes that were not committed (or whose commit failed) is dropped and loaded
//! again from the database by the next user.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use automerge::{ActorId, Automerge};
use fengqiao_schema::ids::CaseId;
use tokio::sync::OwnedMutexGuard;

use super::cache::{CachedDocument, DocCache};
use super::documents::{ActorBinding, DocumentCommit, FeedSeq};
use super::group_commit::{CommitError, GroupCommitter};
use super::Store;
use crate::error::{Error, Result};

/// Per-case write locks; entries whose lock nobody holds or waits for are pruned as the map grows.
#[derive(Default)]
struct DocumentLocks {
    locks: HashMap<CaseId, Weak<tokio::sync::Mutex<()>>>,
    prune_at: usize,
}

impl DocumentLocks {
    fn lock_for(&mut self, case_id: CaseId) -> Arc<tokio::sync::Mutex<()>> {
        if let Some(lock) = self.locks.get(&case_id).and_then(Weak::upgrade) {
            return lock;
        }
        if self.locks.len() >= self.prune_at {
            self.locks.retain(|_, lock| lock.strong_count() > 0);
            self.prune_at = (self.locks.len() * 2).max(1024);
        }
        let lock = Arc::new(tokio::sync::Mutex::new(()));
        self.locks.insert(case_id, Arc::downgrade(&lock));
        lock
    }
}

struct Shared {
    store: Store,
    server_actor: ActorId,
    committer: GroupCommitter,
    cache: Mutex<DocCache>,
    locks: Mutex<DocumentLocks>,
}

/// Case documents in use: per-document write serialisation, the cache, and durable commits.
#[derive(Clone)]
pub struct LiveDocuments {
    shared: Arc<Shared>,
}

/// Cache figures for operators and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheUsage {
    pub documents: usize,
    pub used_bytes: usize,
    pub budget_bytes: usize,
}

impl LiveDocuments {
    /// `server_actor` is the actor of every change this process makes itself (compensations,
    /// registrations): it must be this process's alone, since two writers under one actor id
    /// cannot merge.
    pub fn new(store: Store, committer: GroupCommitter, cache: DocCache, server_actor: ActorId) -> LiveDocuments {
        LiveDocuments {
            shared: Arc::new(Shared {
                store,
                server_actor,
                committer,
                cache: Mutex::new(cache),
                locks: Mutex::new(DocumentLocks::default()),
            }),
        }
    }

    /// Waits for the document's lock and loads it (from the cache, or else from the database).
    /// A case that does not exist yet comes back empty, with `is_stored() == false`: committing
    /// it creates it. Hold one guard at a time per task: guards of two documents taken in
    /// different orders by two tasks would deadlock.
    pub async fn lock(&self, case_id: CaseId) -> Result<DocumentGuard> {
        let lock = lock_unpoisoned(&self.shared.locks).lock_for(case_id);
        let held = lock.lock_owned().await;
        let cached = lock_unpoisoned(&self.shared.cache).take(&case_id);
        let (mut loaded, stored) = match cached {
            Some(cached) => (cached, true),
            None => match self.shared.store.load_document(case_id).await? {
                Some(stored) => {
                    let stored_bytes = stored.stored_bytes();
                    let doc =
                        tokio::task::spawn_blocking(move || stored.to_automerge()).await.map_err(Error::internal)??;
                    (CachedDocument { durable_heads: doc.get_heads(), doc, stored_bytes }, true)
                }
                None => (CachedDocument { doc: Automerge::new(), durable_heads: Vec::new(), stored_bytes: 0 }, false),
            },
        };
        loaded.doc.set_actor(self.shared.server_actor.clone());
        Ok(DocumentGuard { shared: self.shared.clone(), case_id, loaded, stored, _held: held })
    }

    /// The actor of the changes this process makes.
    pub fn server_actor(&self) -> &ActorId {
        &self.shared.server_actor
    }

    /// Reads a document under its lock; `None` if the case does not exist.
    pub async fn with_document<R>(&self, case_id: CaseId, read: impl FnOnce(&Automerge) -> R) -> Result<Option<R>> {
        let guard = self.lock(case_id).await?;
        Ok(guard.is_stored().then(|| read(guard.doc())))
    }

    /// Changes a document under its lock and commits the change (a server-authored change: no
    /// actor bindings). Returns what `change` returned and the commit's sequence number, or
    /// `None` if `change` changed nothing.
    pub async fn with_document_mut<R>(
        &self,
        case_id: CaseId,
        change: impl FnOnce(&mut Automerge) -> R,
    ) -> Result<(R, Option<FeedSeq>)> {
        let mut guard = self.lock(case_id).await?;
        let result = change(guard.doc_mut());
        let seq = guard.commit(Vec::new()).await?;
        Ok((result, seq))
    }

    /// Drops a cached document, e.g. because another server process changed it.
    pub fn forget(&self, case_id: &CaseId) {
        lock_unpoisoned(&self.shared.cache).remove(case_id);
    }

    pub fn is_cached(&self, case_id: &CaseId) -> bool {
        lock_unpoisoned(&self.shared.cache).contains(case_id)
    }

    pub fn cache_usage(&self) -> CacheUsage {
        let cache = lock_unpoisoned(&self.shared.cache);
        CacheUsage { documents: cache.len(), used_bytes: cache.used_bytes(), budget_bytes: cache.budget().bytes }
    }
}

/// Exclusive use of one case document until dropped.
pub struct DocumentGuard {
    shared: Arc<Shared>,
    case_id: CaseId,
    loaded: CachedDocument,
    stored: bool,
    /// Released after `Drop::drop` has put the document back in the cache.
    _held: OwnedMutexGuard<()>,
}

impl DocumentGuard {
    pub fn case_id(&self) -> CaseId {
        self.case_id
    }

    /// The document exists in the database.
    pub fn is_stored(&self) -> bool {
        self.stored
    }

    pub fn doc(&self) -> &Automerge {
        &self.loaded.doc
    }

    /// The document, to change. Changes are kept only if `commit` succeeds.
    pub fn doc_mut(&mut self) -> &mut Automerge {
        &mut self.loaded.doc
    }

    /// The document holds changes that are not durable yet.
    pub fn has_uncommitted_changes(&self) -> bool {
        self.loaded.doc.get_heads() != self.loaded.durable_heads
    }

    /// Makes every change since the last commit durable, binding the given actors in the same
    /// transaction, and returns the commit's feed sequence number (`None` if there was nothing to
    /// commit). If the commit fails, the changes stay uncommitted: the document is not cached
    /// when the guard is dropped, and the next user loads it from the database.
    pub async fn commit(&mut self, actor_bindings: Vec<ActorBinding>) -> Result<Option<FeedSeq>> {
        let heads = self.loaded.doc.get_heads();
        if heads == self.loaded.durable_heads {
            return Ok(None);
        }
        let chunk = self.loaded.doc.save_after(&self.loaded.durable_heads);
        let chunk_len = chunk.len();
        let commit = DocumentCommit { case_id: self.case_id, chunk, is_new: !self.stored, actor_bindings };
        match self.shared.committer.commit(commit).await {
            Ok(seq) => {
                self.loaded.durable_heads = heads;
                self.loaded.stored_bytes += chunk_len;
                self.stored = true;
                Ok(Some(seq))
            }
            Err(CommitError::Refused(refused)) => Err(Error::CommitRefused(refused)),
            Err(CommitError::Unavailable) => Err(Error::Unavailable),
        }
    }
}

impl Drop for DocumentGuard {
    fn drop(&mut self) {
        if self.stored && !self.has_uncommitted_changes() {
            let loaded = std::mem::replace(
                &mut self.loaded,
                CachedDocument { doc: Automerge::new(), durable_heads: Vec::new(), stored_bytes: 0 },
            );
            lock_unpoisoned(&self.shared.cache).insert(self.case_id, loaded);
        }
    }
}

/// The cache and lock maps hold no invariant a panicking holder could break half-way, so a
/// poisoned lock is used as it is.
fn lock_unpoisoned<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
