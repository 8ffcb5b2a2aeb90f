//! Compaction: folding a document's chunks into its snapshot in the background (DESIGN §9).
//!
//! A compaction reads the snapshot and chunks in one statement, folds them with automerge off the
//! async threads (`load` + `save`), and then, in a transaction of its own, replaces the snapshot
//! and deletes exactly the chunks it folded, by their sequence numbers. Writers are never blocked:
//! a chunk committed meanwhile is not in the list and stays. The document's `generation` guards
//! the replacement: if another compactor (another server process) replaced the snapshot first,
//! the generation no longer matches and this compaction is dropped.

use std::time::Duration;

use automerge::ChangeHash;
use fengqiao_schema::ids::CaseId;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::documents::{case_id_from_row, encode_heads, StoredDocument};
use super::{to_i64, with_read_pool, with_write_tx, Store};
use crate::clock::Timestamp;
use crate::error::{Error, Result};

/// The most chunks one compaction folds: bounds the statement that deletes them. A document with
/// more is compacted again on the next pass.
const MAX_CHUNKS_PER_FOLD: i64 = 4096;

/// When a document is due for compaction and how often the compactor looks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompactionPolicy {
    /// A document with more chunks than this is due (as is one whose chunks hold more bytes than
    /// its snapshot).
    pub max_chunks: usize,
    /// Time between passes.
    pub interval: Duration,
    /// Documents compacted per pass at most.
    pub documents_per_pass: usize,
}

impl Default for CompactionPolicy {
    fn default() -> Self {
        CompactionPolicy { max_chunks: 64, interval: Duration::from_secs(2), documents_per_pass: 64 }
    }
}

/// A document's snapshot and chunks as read for folding.
#[derive(Debug, Clone)]
pub struct CompactionInput {
    pub case_id: CaseId,
    pub document: StoredDocument,
}

/// The result of folding: a new snapshot and the chunks it replaces.
#[derive(Debug, Clone)]
pub struct FoldedDocument {
    pub case_id: CaseId,
    /// The generation the input was read at.
    pub generation: i64,
    pub snapshot: Vec<u8>,
    pub heads: Vec<ChangeHash>,
    /// Sequence numbers of the chunks folded in.
    pub folded: Vec<i64>,
    pub folded_bytes: usize,
}

/// What one compaction did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompactionOutcome {
    Compacted {
        folded_chunks: usize,
    },
    /// Another compaction replaced the snapshot first; nothing was changed.
    Superseded,
    /// The document has no chunks (or does not exist).
    NothingToFold,
}

impl CompactionInput {
    /// Loads snapshot and chunks and saves them as one snapshot. CPU-bound: run it off the async
    /// threads.
    pub fn fold(&self) -> Result<FoldedDocument> {
        let doc = self.document.to_automerge()?;
        Ok(FoldedDocument {
            case_id: self.case_id,
            generation: self.document.generation,
            snapshot: doc.save(),
            heads: doc.get_heads(),
            folded: self.document.chunks.iter().map(|c| c.seq.0).collect(),
            folded_bytes: self.document.chunks.iter().map(|c| c.bytes.len()).sum(),
        })
    }
}

impl Store {
    /// Documents due for compaction: more than `max_chunks` chunks, or more chunk bytes than
    /// snapshot bytes (which includes every document that has no snapshot yet).
    pub async fn compaction_candidates(&self, max_chunks: usize, limit: usize) -> Result<Vec<CaseId>> {
        let rows: Vec<Vec<u8>> = with_read_pool!(self, |pool| {
            sqlx::query_scalar(
                "SELECT case_id FROM documents \
                 WHERE chunk_count > 0 AND (chunk_count > $1 OR chunk_bytes > snapshot_bytes) LIMIT $2",
            )
            .bind(to_i64(max_chunks))
            .bind(to_i64(limit))
            .fetch_all(pool)
            .await?
        });
        rows.iter().map(|id| case_id_from_row(id)).collect()
    }

    /// The snapshot and (at most a few thousand of the oldest) chunks of a document, or `None` if
    /// there is nothing to fold.
    pub async fn compaction_input(&self, case_id: CaseId) -> Result<Option<CompactionInput>> {
        Ok(self
            .read_document(case_id, MAX_CHUNKS_PER_FOLD)
            .await?
            .filter(|d| !d.chunks.is_empty())
            .map(|document| CompactionInput { case_id, document }))
    }

    /// Replaces the snapshot with a folded one and deletes exactly the chunks folded, unless the
    /// snapshot was replaced since the input was read.
    pub async fn apply_compaction(&self, folded: &FoldedDocument, now: Timestamp) -> Result<CompactionOutcome> {
        if folded.folded.is_empty() {
            return Ok(CompactionOutcome::NothingToFold);
        }
        let case_id = &folded.case_id.as_bytes()[..];
        with_write_tx!(self, |tx| {
            // Relative counter updates stay right if a writer appended a chunk meanwhile: on
            // PostgreSQL the update re-reads a row changed by a concurrent commit.
            let replaced = sqlx::query(
                "UPDATE documents SET snapshot = $2, snapshot_heads = $3, snapshot_bytes = $4, \
                 chunk_count = chunk_count - $5, chunk_bytes = chunk_bytes - $6, generation = generation + 1, \
                 updated_at = $7 WHERE case_id = $1 AND generation = $8",
            )
            .bind(case_id)
            .bind(&folded.snapshot[..])
            .bind(encode_heads(&folded.heads))
            .bind(to_i64(folded.snapshot.len()))
            .bind(to_i64(folded.folded.len()))
            .bind(to_i64(folded.folded_bytes))
            .bind(now.millis())
            .bind(folded.generation)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if replaced == 0 {
                return Ok(CompactionOutcome::Superseded);
            }
            let mut delete = sqlx::QueryBuilder::new("DELETE FROM document_chunks WHERE case_id = ");
            delete.push_bind(case_id).push(" AND seq IN (");
            let mut seqs = delete.separated(", ");
            for seq in &folded.folded {
                seqs.push_bind(*seq);
            }
            seqs.push_unseparated(")");
            let deleted = delete.build().execute(&mut *tx).await?.rows_affected();
            if deleted != folded.folded.len() as u64 {
                // Only a compaction deletes chunks, and the generation says none ran: a broken
                // invariant, so change nothing.
                return Err(Error::internal(format!(
                    "compaction of {} found {deleted} of {} chunks",
                    folded.case_id,
                    folded.folded.len()
                )));
            }
            tx.commit().await?;
            Ok(CompactionOutcome::Compacted { folded_chunks: folded.folded.len() })
        })
    }

    /// Reads, folds (on a blocking thread) and applies one document's compaction.
    pub async fn compact_document(&self, case_id: CaseId, now: Timestamp) -> Result<CompactionOutcome> {
        let Some(input) = self.compaction_input(case_id).await? else {
            return Ok(CompactionOutcome::NothingToFold);
        };
        let folded = tokio::task::spawn_blocking(move || input.fold()).await.map_err(Error::internal)??;
        self.apply_compaction(&folded, now).await
    }

    /// One pass of the compactor: compacts the documents that are due and returns how many were
    /// compacted. A document that fails is logged and skipped.
    pub async fn compact_due(&self, policy: &CompactionPolicy, now: Timestamp) -> Result<usize> {
        let mut compacted = 0;
        for case_id in self.compaction_candidates(policy.max_chunks, policy.documents_per_pass).await? {
            match self.compact_document(case_id, now).await {
                Ok(CompactionOutcome::Compacted { .. }) => compacted += 1,
                Ok(_) => {}
                Err(error) => tracing::warn!(case = %case_id, %error, "compaction failed"),
            }
        }
        Ok(compacted)
    }
}

/// Starts the background compactor: a pass every `policy.interval` until `cancel` fires.
pub fn spawn_compactor(store: Store, policy: CompactionPolicy, tasks: &TaskTracker, cancel: CancellationToken) {
    tasks.spawn(async move {
        loop {
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = tokio::time::sleep(policy.interval) => {}
            }
            tokio::select! {
                _ = cancel.cancelled() => break,
                pass = store.compact_due(&policy, Timestamp::now()) => match pass {
                    Ok(0) => {}
                    Ok(n) => tracing::debug!(documents = n, "compacted"),
                    Err(error) => tracing::warn!(%error, "compaction pass failed"),
                },
            }
        }
    });
}
