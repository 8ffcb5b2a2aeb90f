//! Live documents: the one way the server reads and changes case documents. It serialises the
//! writes to each document (one writer at a time per case, DESIGN §9 and notes/AUTOMERGE.md: two
//! writers under the server's actor could not merge), keeps loaded documents in the byte-bounded
//! cache, and makes every change durable through the group committer before anyone else can see
//! it (DESIGN §8: durable before acknowledged).
//!
//! A `DocumentGuard` holds the document's lock. The cache only ever holds durable state: the guard
//! takes the document out, and puts it back when dropped only if it holds nothing uncommitted; a
//! document with changes that were not committed (or whose commit failed, or that the caller
//! discarded) is dropped and loaded again from the database by the next user.
//!
//! Every commit is announced on a process-wide broadcast ([`LiveDocuments::subscribe`]), with who
//! reads the case, so that live sync connections can tell their devices. On PostgreSQL several
//! server processes share the database: a cached document is checked against the change feed when
//! it is locked (one indexed query) and loaded again if another process committed to it since,
//! and the other processes' commits reach this one's broadcast through `sync::notify`.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, OnceLock, Weak};

use automerge::{ActorId, Automerge, ChangeHash};
use fengqiao_schema::ids::CaseId;
use tokio::sync::{broadcast, OwnedMutexGuard};

use super::access::CaseReaders;
use super::cache::{CachedDocument, DocCache};
use super::documents::{ActorBinding, DocumentCommit, FeedSeq};
use super::projections::ProjectedCase;
use super::group_commit::{CommitError, GroupCommitter};
use super::{BackendKind, Store};
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

/// Committed changes a live connection may not have taken yet before it counts as lagging (and
/// then treats everything as changed).
const CHANGES_CAPACITY: usize = 4096;

struct Shared {
    store: Store,
    server_actor: ActorId,
    committer: GroupCommitter,
    cache: Mutex<DocCache>,
    locks: Mutex<DocumentLocks>,
    changes: broadcast::Sender<CommittedChange>,
    /// Other processes may write the database (PostgreSQL): check cached documents against the
    /// feed, and remember this process's own commits so their notifications are not news.
    shared_database: bool,
    commit_seconds: OnceLock<metrics::Histogram>,
}

/// A change to one case, durable, as announced to live connections.
#[derive(Debug, Clone)]
pub struct CommittedChange {
    pub case_id: CaseId,
    pub seq: FeedSeq,
    /// Who reads the case after the change; `None` when not known (the listener for another
    /// process's commits could not read it): every connection then treats it as possibly readable.
    pub readers: Option<Arc<CaseReaders>>,
    /// The live connection whose session made the change: it is not notified of its own changes
    /// (its next session lists them anyway).
    pub origin: Option<u64>,
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
        let shared_database = store.kind() == BackendKind::Postgres;
        LiveDocuments {
            shared: Arc::new(Shared {
                store,
                server_actor,
                committer,
                cache: Mutex::new(cache),
                locks: Mutex::new(DocumentLocks::default()),
                changes: broadcast::channel(CHANGES_CAPACITY).0,
                shared_database,
                commit_seconds: OnceLock::new(),
            }),
        }
    }

    /// Records the latency of every commit (queue, group transaction, flush) in `histogram`, in
    /// seconds. Only the first call counts.
    pub fn record_commit_latency(&self, histogram: metrics::Histogram) {
        let _ = self.shared.commit_seconds.set(histogram);
    }

    /// Every commit from now on, in commit order per case.
    pub fn subscribe(&self) -> broadcast::Receiver<CommittedChange> {
        self.shared.changes.subscribe()
    }

    /// Whether this process made the commit at `seq` (the PostgreSQL listener's question before it
    /// treats a notification as news). Ask in feed order: numbers below `seq` are forgotten.
    pub fn is_own_commit(&self, seq: FeedSeq) -> bool {
        self.shared.store.is_own_commit(seq.0)
    }

    /// Another server process committed `case_id` at `seq`: drops what this process cached of the
    /// case and wakes the live connections that may read it.
    pub fn remote_commit(&self, case_id: CaseId, seq: FeedSeq, readers: Option<CaseReaders>) {
        self.forget(&case_id);
        let _ =
            self.shared.changes.send(CommittedChange { case_id, seq, readers: readers.map(Arc::new), origin: None });
    }

    /// Waits for the document's lock and loads it (from the cache, or else from the database).
    /// A case that does not exist yet comes back empty, with `is_stored() == false`: committing
    /// it creates it. Hold one guard at a time per task: guards of two documents taken in
    /// different orders by two tasks would deadlock.
    pub async fn lock(&self, case_id: CaseId) -> Result<DocumentGuard> {
        let lock = lock_unpoisoned(&self.shared.locks).lock_for(case_id);
        let held = lock.lock_owned().await;
        let mut cached = lock_unpoisoned(&self.shared.cache).take(&case_id);
        let mut latest = None;
        if self.shared.shared_database {
            // Another process may have committed to the case since it was cached.
            latest = self.shared.store.latest_case_seq(case_id).await?;
            if cached.as_ref().is_some_and(|c| c.seq < latest) {
                cached = None;
            }
        }
        let (mut loaded, stored) = match cached {
            Some(cached) => (cached, true),
            None => {
                if !self.shared.shared_database {
                    latest = self.shared.store.latest_case_seq(case_id).await?;
                }
                // Read after `latest`: the document holds at least that entry.
                match self.shared.store.load_document(case_id).await? {
                    Some(stored) => {
                        let stored_bytes = stored.stored_bytes();
                        let (doc, readers) = tokio::task::spawn_blocking(move || {
                            stored.to_automerge().map(|doc| {
                                let readers = CaseReaders::of_document(&doc);
                                (doc, readers)
                            })
                        })
                        .await
                        .map_err(Error::internal)??;
                        let durable_heads = doc.get_heads();
                        (CachedDocument { doc, durable_heads, stored_bytes, readers, seq: latest, projected: None }, true)
                    }
                    None => (CachedDocument::empty(), false),
                }
            }
        };
        loaded.doc.set_actor(self.shared.server_actor.clone());
        Ok(DocumentGuard {
            shared: self.shared.clone(),
            case_id,
            loaded,
            stored,
            discarded: false,
            origin: None,
            touched: None,
            _held: held,
        })
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
    /// The document in memory may hold something that is not in the database: never cache it.
    discarded: bool,
    origin: Option<u64>,
    /// What changed since the durable heads, when the caller knows (see `touched_only`).
    touched: Option<(Vec<ChangeHash>, BTreeSet<String>)>,
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

    /// What `fengqiao_sync::ingest::policy_view` reads of the document now, from the case the
    /// last commit projected, when the document has not changed since (`None` otherwise).
    pub fn policy_view(&self) -> Option<fengqiao_schema::document::Case> {
        let projected = self.loaded.projected.as_ref()?;
        (projected.heads == self.loaded.doc.get_heads()).then(|| fengqiao_sync::ingest::policy_view_of(&projected.case))
    }

    /// Who reads the case as stored.
    pub fn readers(&self) -> &CaseReaders {
        &self.loaded.readers
    }

    /// Names the live connection on whose behalf the next commits are made (see
    /// [`CommittedChange::origin`]).
    pub fn set_origin(&mut self, origin: Option<u64>) {
        self.origin = origin;
    }

    /// Tells the next commit that the changes made since `heads_before` changed only the visible
    /// state of these root keys (from the patches of applying them): the commit then reads only
    /// those sections again for the projection. Ignored unless `heads_before` are the durable
    /// heads when committing, so a change made in between without saying falls back to reading
    /// the whole case.
    pub fn touched_only(&mut self, heads_before: Vec<ChangeHash>, keys: BTreeSet<String>) {
        self.touched = Some((heads_before, keys));
    }

    /// The document in memory may hold state that is not in the database (an ingest that failed
    /// half-way): it is not put back in the cache, and the next user loads it from the database.
    pub fn discard(&mut self) {
        self.discarded = true;
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
        let today = fengqiao_schema::time::Instant::from_unix(crate::clock::Timestamp::now().secs()).china_date();
        let touched = self.touched.take().filter(|(since, _)| *since == self.loaded.durable_heads);
        let (projected, projection_changed) = match (self.loaded.projected.take(), touched) {
            (Some(previous), Some((_, keys))) if self.stored => {
                match previous.refresh(&self.loaded.doc, &keys, today) {
                    Some((projected, changed)) => (Some(Box::new(projected)), changed),
                    None => (None, false),
                }
            }
            _ => (ProjectedCase::of_document(&self.loaded.doc, today).map(Box::new), true),
        };
        let readers = match &projected {
            Some(projected) => CaseReaders::of_case(&projected.case),
            None => CaseReaders::of_document(&self.loaded.doc),
        };
        let access = (!self.stored || readers != self.loaded.readers).then(|| readers.clone());
        // Unchanged projection rows are left as they are (`None`), as are those of a document
        // that does not read as a case.
        let projection = projected.as_ref().filter(|_| projection_changed).map(|p| p.projection.clone());
        let commit =
            DocumentCommit { case_id: self.case_id, chunk, is_new: !self.stored, actor_bindings, access, projection };
        let started = std::time::Instant::now();
        let outcome = self.shared.committer.commit(commit).await;
        if let Some(histogram) = self.shared.commit_seconds.get() {
            histogram.record(started.elapsed().as_secs_f64());
        }
        match outcome {
            Ok(seq) => {
                self.loaded.durable_heads = heads;
                self.loaded.stored_bytes += chunk_len;
                // Another process may have committed to this case between our load and our
                // commit: this copy then lacks its changes and must be loaded afresh next time,
                // not cached as current (its notification may already have come and gone).
                let current = !self.shared.shared_database
                    || matches!(
                        self.shared.store.latest_case_seq_before(self.case_id, seq).await,
                        Ok(previous) if previous == self.loaded.seq
                    );
                self.loaded.seq = if current { Some(seq) } else { None };
                self.loaded.readers = readers.clone();
                self.loaded.projected = projected;
                self.stored = true;
                // Nobody listening is not an error.
                let _ = self.shared.changes.send(CommittedChange {
                    case_id: self.case_id,
                    seq,
                    readers: Some(Arc::new(readers)),
                    origin: self.origin,
                });
                Ok(Some(seq))
            }
            Err(CommitError::Refused(refused)) => Err(Error::CommitRefused(refused)),
            Err(CommitError::Unavailable) => Err(Error::Unavailable),
        }
    }
}

impl Drop for DocumentGuard {
    fn drop(&mut self) {
        if self.stored && !self.discarded && !self.has_uncommitted_changes() {
            let loaded = std::mem::replace(&mut self.loaded, CachedDocument::empty());
            lock_unpoisoned(&self.shared.cache).insert(self.case_id, loaded);
        }
    }
}

/// The cache and lock maps hold no invariant a panicking holder could break half-way, so a
/// poisoned lock is used as it is.
fn lock_unpoisoned<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
