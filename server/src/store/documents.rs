//! Case documents on disk: a compacted snapshot plus the incremental chunks committed since, the
//! actor bindings, and the change feed that session cursors refer to (DESIGN §8, §9).
//!
//! # Feed sequence numbers never become visible out of order
//!
//! A session cursor says "I have seen every feed entry up to seq N"; the next session asks for
//! `seq > N`. With a plain PostgreSQL sequence, transaction A could take seq 7 and transaction B
//! seq 8, B commit first, a reader see 8 and move its cursor past 7, and A commit 7 afterwards:
//! the reader never sees 7. So numbers are not taken from a sequence: every commit transaction
//! first runs `UPDATE feed_counter SET next = next + n RETURNING next` on the one counter row.
//! The row lock is held until the transaction ends, so the next committer waits until this one
//! has committed (and become visible) before it takes the following numbers: the numbers become
//! visible in the order they were handed out, any snapshot sees a prefix of them, and a rolled
//! back transaction hands its numbers back (no gaps). The price is that commits to PostgreSQL are
//! serialised; the group committer amortises it by writing many documents' commits in one
//! transaction. On SQLite the single writer gives the same order for free, and the same SQL runs.

use automerge::{ActorId, Automerge, ChangeHash};
use fengqiao_schema::ids::{CaseId, DeviceId, UserId};
use sqlx::Row;

use super::access::CaseReaders;
use super::projections::CaseProjection;
use super::{to_i64, to_usize, with_read_pool, with_write_tx, BackendKind, Store};
use crate::clock::Timestamp;
use crate::error::{Error, Result};

/// The PostgreSQL channel on which a commit announces the last feed number it wrote.
pub const CHANGES_CHANNEL: &str = "fengqiao_changes";

/// The sequence number of one committed document change batch in the change feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FeedSeq(pub i64);

/// How far a reader has read the feed: every entry up to and including `seq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FeedCursor(pub i64);

impl FeedCursor {
    /// Before the first entry: a fresh device's cursor.
    pub const START: FeedCursor = FeedCursor(0);

    /// The cursor of a reader that has seen `seq` and everything before it.
    pub fn after(seq: FeedSeq) -> FeedCursor {
        FeedCursor(seq.0)
    }
}

/// One feed entry: document `case_id` changed, durably, at `committed_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedEntry {
    pub seq: FeedSeq,
    pub case_id: CaseId,
    pub committed_at: Timestamp,
}

/// A page of the feed and the cursor to ask from next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedPage {
    pub entries: Vec<FeedEntry>,
    pub cursor: FeedCursor,
}

/// An actor id used by a user's device (DESIGN §5.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActorBinding {
    pub actor: ActorId,
    pub user: UserId,
    pub device: DeviceId,
}

/// One document's change batch, ready to be made durable.
#[derive(Debug, Clone)]
pub struct DocumentCommit {
    pub case_id: CaseId,
    /// Automerge bytes to append: the output of `save_after(durable heads)` (or, for a new
    /// document, of `save()`). Never empty.
    pub chunk: Vec<u8>,
    /// The document is created by this commit; it is refused if it already exists. An existing
    /// document's commit is refused if the document does not exist.
    pub is_new: bool,
    /// Actor ids to bind in the same transaction; a binding that already names someone else
    /// refuses the whole commit.
    pub actor_bindings: Vec<ActorBinding>,
    /// Who reads the case from this commit on, when that changes (always for a new case):
    /// written to `case_access` and `case_access_log` in the same transaction (`store::access`).
    pub access: Option<CaseReaders>,
    /// The case's rows in the projection tables as of this commit (`store::projections`): they
    /// replace the case's earlier rows in the same transaction. `None` leaves them as they are
    /// (a document that does not read as a case).
    pub projection: Option<CaseProjection>,
}

/// Why one commit of a group was not stored. The other commits of the group are unaffected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommitRefused {
    #[error("actor {actor} is bound to user {user} on device {device}")]
    ActorBoundElsewhere { actor: ActorId, user: UserId, device: DeviceId },
    #[error("the document already exists")]
    DocumentExists,
    #[error("the document does not exist")]
    DocumentMissing,
    #[error("the commit has no bytes")]
    EmptyChunk,
    /// The database refused one of the commit's statements; the cause is in the log.
    #[error("the database refused the commit")]
    Storage,
}

/// A document as stored: the snapshot and the chunks appended since, in commit order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDocument {
    pub snapshot: Vec<u8>,
    pub chunks: Vec<StoredChunk>,
    /// Changes with every compaction.
    pub generation: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredChunk {
    pub seq: FeedSeq,
    pub bytes: Vec<u8>,
}

impl StoredDocument {
    /// Bytes on disk: what the document cache's size estimate starts from.
    pub fn stored_bytes(&self) -> usize {
        self.snapshot.len() + self.chunks.iter().map(|c| c.bytes.len()).sum::<usize>()
    }

    /// Loads snapshot and chunks into one document. CPU-bound: call it off the async threads.
    pub fn to_automerge(&self) -> Result<Automerge> {
        let mut doc = if self.snapshot.is_empty() { Automerge::new() } else { Automerge::load(&self.snapshot)? };
        for chunk in &self.chunks {
            doc.load_incremental(&chunk.bytes)?;
        }
        Ok(doc)
    }
}

/// Heads as stored: the 32-byte hashes one after another.
pub(crate) fn encode_heads(heads: &[ChangeHash]) -> Vec<u8> {
    heads.iter().flat_map(|h| h.0).collect()
}

pub(crate) fn decode_heads(bytes: &[u8]) -> Result<Vec<ChangeHash>> {
    if !bytes.len().is_multiple_of(32) {
        return Err(Error::internal("stored heads are not a multiple of 32 bytes"));
    }
    Ok(bytes
        .chunks_exact(32)
        .map(|h| ChangeHash(<[u8; 32]>::try_from(h).expect("chunks_exact yields 32 bytes")))
        .collect())
}

pub(crate) fn case_id_from_row(bytes: &[u8]) -> Result<CaseId> {
    CaseId::from_slice(bytes).ok_or_else(|| Error::internal("a stored case id is not 16 bytes"))
}

/// Snapshot (part 0, with the generation in `seq`) and up to `$2` chunks (part 1) of one document,
/// in one statement so that PostgreSQL reads them from one snapshot: a compaction between two
/// separate reads could otherwise hand back a snapshot and chunks that do not belong together.
const READ_DOCUMENT: &str = "\
    SELECT CAST(0 AS BIGINT) AS part, generation AS seq, snapshot AS bytes FROM documents WHERE case_id = $1 \
    UNION ALL \
    SELECT CAST(1 AS BIGINT) AS part, seq, bytes FROM \
        (SELECT seq, bytes FROM document_chunks WHERE case_id = $1 ORDER BY seq LIMIT $2) AS chunks \
    ORDER BY part, seq";

impl Store {
    /// The document's snapshot and every chunk committed since, or `None` for an unknown case.
    pub async fn load_document(&self, case_id: CaseId) -> Result<Option<StoredDocument>> {
        self.read_document(case_id, i64::MAX).await
    }

    /// The snapshot and at most `max_chunks` of the oldest chunks.
    pub(crate) async fn read_document(&self, case_id: CaseId, max_chunks: i64) -> Result<Option<StoredDocument>> {
        let rows: Vec<(i64, i64, Vec<u8>)> = with_read_pool!(self, |pool| {
            sqlx::query(READ_DOCUMENT)
                .bind(&case_id.as_bytes()[..])
                .bind(max_chunks)
                .fetch_all(pool)
                .await?
                .into_iter()
                .map(|row| Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?)))
                .collect::<Result<_, sqlx::Error>>()?
        });
        let mut rows = rows.into_iter();
        let Some((0, generation, snapshot)) = rows.next() else {
            return Ok(None);
        };
        let chunks = rows.map(|(_, seq, bytes)| StoredChunk { seq: FeedSeq(seq), bytes }).collect();
        Ok(Some(StoredDocument { snapshot, chunks, generation }))
    }

    /// Writes a group of document commits in ONE transaction, each with its own feed entry, and
    /// returns each commit's sequence number or the reason it was refused. Durable when it
    /// returns (SQLite `synchronous=FULL`, PostgreSQL's default `synchronous_commit`). An `Err`
    /// means nothing of the group was stored.
    pub async fn commit(
        &self,
        batch: Vec<DocumentCommit>,
        now: Timestamp,
    ) -> Result<Vec<Result<FeedSeq, CommitRefused>>> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let reserved = to_i64(batch.len());
        with_write_tx!(self, |tx| {
            // Taken first: the counter row's lock orders whole commit transactions (see the module
            // documentation), and as every committer takes it first, committers cannot deadlock
            // on the document rows they touch afterwards.
            let end: i64 = sqlx::query_scalar("UPDATE feed_counter SET next = next + $1 WHERE id = 1 RETURNING next")
                .bind(reserved)
                .fetch_one(&mut *tx)
                .await?;
            let mut next = end - reserved;
            let mut outcomes = Vec::with_capacity(batch.len());
            for commit in &batch {
                if commit.chunk.is_empty() {
                    outcomes.push(Err(CommitRefused::EmptyChunk));
                    continue;
                }
                let case_id = &commit.case_id.as_bytes()[..];
                // Each commit in a savepoint: a refused one leaves no trace and the rest go on.
                let mut savepoint = sqlx::Connection::begin(&mut *tx).await?;
                let step: Result<Result<(), CommitRefused>, sqlx::Error> = async {
                    for binding in &commit.actor_bindings {
                        let bound = sqlx::query(
                            "INSERT INTO actor_bindings (actor_id, user_id, device_id, case_id, bound_at) \
                             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (actor_id) DO NOTHING",
                        )
                        .bind(binding.actor.to_bytes())
                        .bind(binding.user.as_str())
                        .bind(binding.device.as_str())
                        .bind(case_id)
                        .bind(now.millis())
                        .execute(&mut *savepoint)
                        .await?
                        .rows_affected();
                        if bound == 0 {
                            let (user, device): (String, String) =
                                sqlx::query_as("SELECT user_id, device_id FROM actor_bindings WHERE actor_id = $1")
                                    .bind(binding.actor.to_bytes())
                                    .fetch_one(&mut *savepoint)
                                    .await?;
                            if user != binding.user.as_str() || device != binding.device.as_str() {
                                return Ok(Err(CommitRefused::ActorBoundElsewhere {
                                    actor: binding.actor.clone(),
                                    user: UserId(user),
                                    device: DeviceId(device),
                                }));
                            }
                        }
                    }
                    let chunk_len = to_i64(commit.chunk.len());
                    let touched = if commit.is_new {
                        sqlx::query(
                            "INSERT INTO documents (case_id, snapshot, snapshot_heads, snapshot_bytes, chunk_count, \
                             chunk_bytes, generation, created_at, updated_at) \
                             VALUES ($1, $2, $2, 0, 1, $3, 0, $4, $4) ON CONFLICT (case_id) DO NOTHING",
                        )
                        .bind(case_id)
                        .bind(&[][..] as &[u8])
                        .bind(chunk_len)
                        .bind(now.millis())
                        .execute(&mut *savepoint)
                        .await?
                        .rows_affected()
                    } else {
                        sqlx::query(
                            "UPDATE documents SET chunk_count = chunk_count + 1, chunk_bytes = chunk_bytes + $2, \
                             updated_at = $3 WHERE case_id = $1",
                        )
                        .bind(case_id)
                        .bind(chunk_len)
                        .bind(now.millis())
                        .execute(&mut *savepoint)
                        .await?
                        .rows_affected()
                    };
                    if touched == 0 {
                        return Ok(Err(if commit.is_new {
                            CommitRefused::DocumentExists
                        } else {
                            CommitRefused::DocumentMissing
                        }));
                    }
                    sqlx::query("INSERT INTO document_chunks (seq, case_id, bytes) VALUES ($1, $2, $3)")
                        .bind(next)
                        .bind(case_id)
                        .bind(&commit.chunk[..])
                        .execute(&mut *savepoint)
                        .await?;
                    sqlx::query("INSERT INTO change_feed (seq, case_id, committed_at) VALUES ($1, $2, $3)")
                        .bind(next)
                        .bind(case_id)
                        .bind(now.millis())
                        .execute(&mut *savepoint)
                        .await?;
                    if let Some(readers) = &commit.access {
                        sqlx::query("DELETE FROM case_access WHERE case_id = $1")
                            .bind(case_id)
                            .execute(&mut *savepoint)
                            .await?;
                        for (scope, unit) in readers.entries() {
                            sqlx::query("INSERT INTO case_access (case_id, scope, unit_id) VALUES ($1, $2, $3)")
                                .bind(case_id)
                                .bind(scope.code())
                                .bind(unit)
                                .execute(&mut *savepoint)
                                .await?;
                        }
                        sqlx::query("INSERT INTO case_access_log (case_id, seq, readers) VALUES ($1, $2, $3)")
                            .bind(case_id)
                            .bind(next)
                            .bind(readers.encode())
                            .execute(&mut *savepoint)
                            .await?;
                    }
                    if let Some(projection) = &commit.projection {
                        for table in [
                            "case_projection",
                            "deadline_projection",
                            "handoff_projection",
                            "review_projection",
                            "case_attachment_projection",
                        ] {
                            sqlx::query(&format!("DELETE FROM {table} WHERE case_id = $1"))
                                .bind(case_id)
                                .execute(&mut *savepoint)
                                .await?;
                        }
                        let row = &projection.case;
                        let date = |d: Option<fengqiao_schema::time::LegalDate>| d.map(|d| d.to_string());
                        sqlx::query(
                            "INSERT INTO case_projection (case_id, case_number, title, kind, track, custody_unit, \
                             township, dispute_type, status, outcome, registered_at, registered_on, accepted_on, \
                             concluded_on, source, restricted, mediation_result, mediation_result_on, \
                             reconsideration_decision, reconsideration_decided_on, litigation_instance, \
                             litigation_attendance, litigation_outcome, litigation_heard_on, litigation_judged_on, \
                             satisfaction) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, \
                             $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26)",
                        )
                        .bind(case_id)
                        .bind(&row.case_number)
                        .bind(&row.title)
                        .bind(&row.kind)
                        .bind(&row.track)
                        .bind(&row.custody_unit)
                        .bind(&row.township)
                        .bind(&row.dispute_type)
                        .bind(if row.concluded { "concluded" } else { "open" })
                        .bind(&row.outcome)
                        .bind(row.registered_at)
                        .bind(date(row.registered_on))
                        .bind(date(row.accepted_on))
                        .bind(date(row.concluded_on))
                        .bind(&row.source)
                        .bind(row.restricted)
                        .bind(&row.mediation_result)
                        .bind(date(row.mediation_result_on))
                        .bind(&row.reconsideration_decision)
                        .bind(date(row.reconsideration_decided_on))
                        .bind(&row.litigation_instance)
                        .bind(row.litigation_attendance.map(super::projections::attendance_code))
                        .bind(&row.litigation_outcome)
                        .bind(date(row.litigation_heard_on))
                        .bind(date(row.litigation_judged_on))
                        .bind(&row.satisfaction)
                        .execute(&mut *savepoint)
                        .await?;
                        for d in &projection.deadlines {
                            sqlx::query(
                                "INSERT INTO deadline_projection (case_id, rule, track, duty, start_on, due_on, met_on, \
                                 suspended, explanation, township, custody_unit) \
                                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                            )
                            .bind(case_id)
                            .bind(&d.rule)
                            .bind(&d.track)
                            .bind(d.duty)
                            .bind(d.start_on.to_string())
                            .bind(d.due_on.to_string())
                            .bind(date(d.met_on))
                            .bind(d.suspended)
                            .bind(&d.explanation)
                            .bind(&row.township)
                            .bind(&row.custody_unit)
                            .execute(&mut *savepoint)
                            .await?;
                        }
                        for h in &projection.handoffs {
                            sqlx::query(
                                "INSERT INTO handoff_projection (case_id, handoff_id, from_unit, from_track, to_unit, \
                                 to_track, status, requested_at, decided_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                            )
                            .bind(case_id)
                            .bind(&h.handoff_id)
                            .bind(&h.from_unit)
                            .bind(&h.from_track)
                            .bind(&h.to_unit)
                            .bind(&h.to_track)
                            .bind(&h.status)
                            .bind(h.requested_at)
                            .bind(h.decided_at)
                            .execute(&mut *savepoint)
                            .await?;
                        }
                        for r in &projection.review {
                            sqlx::query(
                                "INSERT INTO review_projection (case_id, item_id, unit_id, kind, section, done) \
                                 VALUES ($1, $2, $3, $4, $5, $6)",
                            )
                            .bind(case_id)
                            .bind(&r.item_id)
                            .bind(&r.unit_id)
                            .bind(&r.kind)
                            .bind(&r.section)
                            .bind(r.done)
                            .execute(&mut *savepoint)
                            .await?;
                        }
                        for sha in &projection.attachments {
                            sqlx::query("INSERT INTO case_attachment_projection (case_id, sha256) VALUES ($1, $2)")
                                .bind(case_id)
                                .bind(sha)
                                .execute(&mut *savepoint)
                                .await?;
                        }
                    }
                    Ok(Ok(()))
                }
                .await;
                match step {
                    Ok(Ok(())) => {
                        savepoint.commit().await?;
                        outcomes.push(Ok(FeedSeq(next)));
                        next += 1;
                    }
                    Ok(Err(refused)) => {
                        savepoint.rollback().await?;
                        outcomes.push(Err(refused));
                    }
                    Err(error) => {
                        tracing::warn!(case = %commit.case_id, %error, "the database refused a document commit");
                        savepoint.rollback().await?;
                        outcomes.push(Err(CommitRefused::Storage));
                    }
                }
            }
            if next != end {
                // Hand back the numbers of refused commits: the feed stays without gaps.
                sqlx::query("UPDATE feed_counter SET next = $1 WHERE id = 1").bind(next).execute(&mut *tx).await?;
            }
            if next > end - reserved && self.kind() == BackendKind::Postgres {
                // Delivered when (and only if) the transaction commits: the other server processes
                // read the feed up to this number, drop what they cached of those cases and wake
                // their live sessions (`sync::notify`).
                sqlx::query("SELECT pg_notify($1, $2)")
                    .bind(CHANGES_CHANNEL)
                    .bind((next - 1).to_string())
                    .execute(&mut *tx)
                    .await?;
            }
            let committed: Vec<i64> = outcomes.iter().filter_map(|o| o.as_ref().ok().map(|s| s.0)).collect();
            let postgres = self.kind() == BackendKind::Postgres;
            if postgres {
                self.own_commits.lock().unwrap_or_else(|e| e.into_inner()).extend(committed.iter().copied());
            }
            if let Err(error) = tx.commit().await {
                if postgres {
                    let mut own = self.own_commits.lock().unwrap_or_else(|e| e.into_inner());
                    for seq in &committed {
                        own.remove(seq);
                    }
                }
                return Err(error.into());
            }
            Ok(outcomes)
        })
    }

    /// Feed entries after `cursor`, oldest first, at most `limit`, and the cursor after them.
    pub async fn feed_since(&self, cursor: FeedCursor, limit: u32) -> Result<FeedPage> {
        let rows: Vec<(i64, Vec<u8>, i64)> = with_read_pool!(self, |pool| {
            sqlx::query_as("SELECT seq, case_id, committed_at FROM change_feed WHERE seq > $1 ORDER BY seq LIMIT $2")
                .bind(cursor.0)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?
        });
        let entries = rows
            .into_iter()
            .map(|(seq, case_id, at)| {
                Ok(FeedEntry {
                    seq: FeedSeq(seq),
                    case_id: case_id_from_row(&case_id)?,
                    committed_at: Timestamp::from_millis(at),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let cursor = entries.last().map(|e| FeedCursor::after(e.seq)).unwrap_or(cursor);
        Ok(FeedPage { entries, cursor })
    }

    /// The cursor that covers every committed entry: where a reader that has everything stands.
    pub async fn feed_head(&self) -> Result<FeedCursor> {
        let next: i64 = with_read_pool!(self, |pool| {
            sqlx::query_scalar("SELECT next FROM feed_counter WHERE id = 1").fetch_one(pool).await?
        });
        Ok(FeedCursor(next - 1))
    }

    /// Who an actor id is bound to, if anyone.
    pub async fn actor_binding(&self, actor: &ActorId) -> Result<Option<ActorBinding>> {
        let row: Option<(String, String)> = with_read_pool!(self, |pool| {
            sqlx::query_as("SELECT user_id, device_id FROM actor_bindings WHERE actor_id = $1")
                .bind(actor.to_bytes())
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map(|(user, device)| ActorBinding {
            actor: actor.clone(),
            user: UserId(user),
            device: DeviceId(device),
        }))
    }

    /// Counts of what a document holds on disk (for tests and the operators' view).
    pub async fn document_stats(&self, case_id: CaseId) -> Result<Option<DocumentStats>> {
        let row: Option<(i64, i64, i64, i64, Vec<u8>)> = with_read_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT snapshot_bytes, chunk_count, chunk_bytes, generation, snapshot_heads FROM documents WHERE case_id = $1",
            )
            .bind(&case_id.as_bytes()[..])
            .fetch_optional(pool)
            .await?
        });
        row.map(|(snapshot_bytes, chunk_count, chunk_bytes, generation, heads)| {
            Ok(DocumentStats {
                snapshot_bytes: to_usize(snapshot_bytes),
                chunk_count: to_usize(chunk_count),
                chunk_bytes: to_usize(chunk_bytes),
                generation,
                snapshot_heads: decode_heads(&heads)?,
            })
        })
        .transpose()
    }
}

/// What a document holds on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentStats {
    pub snapshot_bytes: usize,
    pub chunk_count: usize,
    pub chunk_bytes: usize,
    pub generation: i64,
    pub snapshot_heads: Vec<ChangeHash>,
}
