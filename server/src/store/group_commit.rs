//! Group commit: one task writes the commits of many documents from many clients in one
//! transaction, so that a durable commit costs one disk flush per group, not per change
//! (DESIGN §9).
//!
//! Callers submit a `DocumentCommit` and wait for its sequence number. The task takes what is
//! queued, waits up to `linger` for more (bounded by a count and a byte size), commits the group,
//! and then answers every caller. While one group is being flushed the next one queues up, so
//! groups grow with the load without any waiting at low load.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::documents::{CommitRefused, DocumentCommit, FeedSeq};
use super::Store;
use crate::clock::Timestamp;

/// How large a group may grow and how long the task waits for it to grow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupCommitBounds {
    /// Commits per transaction at most.
    pub max_commits: usize,
    /// Chunk bytes per transaction at most (a single larger commit still goes alone).
    pub max_bytes: usize,
    /// After the first commit of a group arrives, how long to wait for more. Zero commits at
    /// once whatever is queued.
    pub linger: Duration,
}

impl Default for GroupCommitBounds {
    fn default() -> Self {
        GroupCommitBounds { max_commits: 512, max_bytes: 8 * 1024 * 1024, linger: Duration::ZERO }
    }
}

/// Commits queued at most before submitters wait for room.
const QUEUE_CAPACITY: usize = 8192;

/// Why a submitted commit was not stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommitError {
    #[error(transparent)]
    Refused(#[from] CommitRefused),
    /// The group's transaction failed (the cause is in the log) or the server is stopping:
    /// nothing of this commit was stored.
    #[error("the commit could not be stored")]
    Unavailable,
}

struct Submission {
    commit: DocumentCommit,
    reply: oneshot::Sender<Result<FeedSeq, CommitError>>,
}

/// A handle to the group-commit task. Cheap to clone.
#[derive(Clone)]
pub struct GroupCommitter {
    queue: mpsc::Sender<Submission>,
    counters: Arc<Counters>,
}

#[derive(Default)]
struct Counters {
    groups: AtomicU64,
    commits: AtomicU64,
}

/// How many transactions the task has run and how many commits they held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupCommitStats {
    pub groups: u64,
    pub commits: u64,
}

impl GroupCommitter {
    /// Starts the task. When `cancel` fires it commits what is queued, refuses what comes later
    /// and ends.
    pub fn spawn(
        store: Store,
        bounds: GroupCommitBounds,
        tasks: &TaskTracker,
        cancel: CancellationToken,
    ) -> GroupCommitter {
        let (queue, receiver) = mpsc::channel(QUEUE_CAPACITY);
        let counters = Arc::new(Counters::default());
        tasks.spawn(run(store, bounds, receiver, cancel, counters.clone()));
        GroupCommitter { queue, counters }
    }

    /// Groups and commits written so far (stored or refused, not counting failed groups).
    pub fn stats(&self) -> GroupCommitStats {
        GroupCommitStats {
            groups: self.counters.groups.load(Ordering::Relaxed),
            commits: self.counters.commits.load(Ordering::Relaxed),
        }
    }

    /// Commits one document's change batch with others' and returns its feed sequence number once
    /// it is durable.
    pub async fn commit(&self, commit: DocumentCommit) -> Result<FeedSeq, CommitError> {
        let (reply, answer) = oneshot::channel();
        self.queue.send(Submission { commit, reply }).await.map_err(|_| CommitError::Unavailable)?;
        answer.await.unwrap_or(Err(CommitError::Unavailable))
    }
}

async fn run(
    store: Store,
    bounds: GroupCommitBounds,
    mut queue: mpsc::Receiver<Submission>,
    cancel: CancellationToken,
    counters: Arc<Counters>,
) {
    loop {
        let first = tokio::select! {
            biased;
            next = queue.recv() => match next {
                Some(submission) => submission,
                None => break,
            },
            _ = cancel.cancelled() => {
                // Refuse new submissions; what is already queued is still committed below.
                queue.close();
                continue;
            }
        };
        let group = collect_group(first, &mut queue, &bounds).await;
        commit_group(&store, group, &counters).await;
    }
    tracing::debug!("group committer stopped");
}

/// The first submission and whatever else arrives within the bounds.
async fn collect_group(
    first: Submission,
    queue: &mut mpsc::Receiver<Submission>,
    bounds: &GroupCommitBounds,
) -> Vec<Submission> {
    let deadline = tokio::time::Instant::now() + bounds.linger;
    let mut bytes = first.commit.chunk.len();
    let mut group = vec![first];
    while group.len() < bounds.max_commits && bytes < bounds.max_bytes {
        let next = match queue.try_recv() {
            Ok(submission) => submission,
            Err(mpsc::error::TryRecvError::Disconnected) => break,
            Err(mpsc::error::TryRecvError::Empty) if bounds.linger.is_zero() => break,
            Err(mpsc::error::TryRecvError::Empty) => match tokio::time::timeout_at(deadline, queue.recv()).await {
                Ok(Some(submission)) => submission,
                Ok(None) | Err(_) => break,
            },
        };
        bytes += next.commit.chunk.len();
        group.push(next);
    }
    group
}

async fn commit_group(store: &Store, group: Vec<Submission>, counters: &Counters) {
    let (commits, replies): (Vec<_>, Vec<_>) = group.into_iter().map(|s| (s.commit, s.reply)).unzip();
    let size = commits.len();
    match store.commit(commits, Timestamp::now()).await {
        Ok(outcomes) => {
            counters.groups.fetch_add(1, Ordering::Relaxed);
            counters.commits.fetch_add(size as u64, Ordering::Relaxed);
            for (reply, outcome) in replies.into_iter().zip(outcomes) {
                // A caller that stopped waiting no longer needs the answer; the commit stands.
                let _ = reply.send(outcome.map_err(CommitError::from));
            }
        }
        Err(error) => {
            tracing::error!(%error, commits = size, "group commit failed");
            for reply in replies {
                let _ = reply.send(Err(CommitError::Unavailable));
            }
        }
    }
}
