//! Runs a `ServerSession` against storage: every `Need` it asks is answered here, in the order
//! asked, until the session has something to send. Shared by the WebSocket and HTTP endpoints.
//!
//! - `Feed`: the change feed after the client's cursor, filtered to the cases the user reads now
//!   (`changed`), plus the cases the user read at the cursor and no longer reads (`gone`, from the
//!   access log: see `store::access`). The head is read *first*, so every case listed is loaded
//!   after the head was fixed, and no change at or below the head is missed (PROTOCOL §3).
//! - `Load` / `Snapshot`: the document from `LiveDocuments`, or nothing when it does not exist or
//!   the user does not read it (the two look the same).
//! - `Apply`: `apply::apply_one` for each document, concurrently, so that the documents of one
//!   batch are committed in one group.
//!
//! Cursors are `0x02`, the feed position (8 bytes, big-endian), and 8 bytes of a fingerprint of
//! the user's unit and roles: a cursor given out to the same user in other units or roles cannot
//! be used, and the session starts fresh (the readable cases moved without any case changing).

use std::collections::VecDeque;
use std::sync::Arc;

use fengqiao_schema::units::{UnitTree, User};
use fengqiao_sync::protocol::{Cursor, ErrorCode, Failure, ServerMessage};
use fengqiao_sync::session::{FeedAnswer, Need, ServerInput, ServerOutput, ServerSession, Snapshot};
use sha2::{Digest, Sha256};
use tracing::Instrument;

use super::apply::apply_one;
use crate::auth::Principal;
use crate::error::{Error, Result};
use crate::http::AppState;
use crate::store::documents::FeedCursor;

/// The first byte of a cursor this server hands out.
const CURSOR_TAG: u8 = 2;

/// Who a session speaks for, and where.
pub(crate) struct Peer {
    pub principal: Principal,
    /// The unit tree, read when the session (or request) started.
    pub units: Arc<UnitTree>,
    /// The live connection, if the session runs on one.
    pub origin: Option<u64>,
}

/// What a cursor is bound to besides its position.
fn fingerprint(user: &User) -> [u8; 8] {
    let mut hash = Sha256::new();
    hash.update(user.unit.as_str().as_bytes());
    for role in &user.roles {
        hash.update([0]);
        hash.update(role.code().as_bytes());
    }
    let digest = hash.finalize();
    digest[..8].try_into().expect("a SHA-256 digest has 32 bytes")
}

/// The cursor for `user` at feed position `head`.
pub fn encode_cursor(head: FeedCursor, user: &User) -> Cursor {
    let mut bytes = Vec::with_capacity(17);
    bytes.push(CURSOR_TAG);
    bytes.extend_from_slice(&head.0.to_be_bytes());
    bytes.extend_from_slice(&fingerprint(user));
    Cursor::from_bytes(bytes).expect("17 bytes fit in a cursor")
}

/// The feed position of a cursor this server gave `user`, or `None` if it cannot be used.
pub fn decode_cursor(cursor: &Cursor, user: &User) -> Option<FeedCursor> {
    let bytes = cursor.as_bytes();
    if bytes.len() != 17 || bytes[0] != CURSOR_TAG || bytes[9..] != fingerprint(user) {
        return None;
    }
    let seq = i64::from_be_bytes(bytes[1..9].try_into().ok()?);
    (seq >= 0).then_some(FeedCursor(seq))
}

/// The failure a session ends with when storage fails under it. Never the cause: that is logged.
pub(crate) fn failure_for(error: &Error) -> Failure {
    match error {
        Error::Unavailable | Error::Database(_) => Failure::new(ErrorCode::Unavailable),
        _ => Failure::new(ErrorCode::Internal),
    }
}

/// Answers the session's needs for one peer.
pub(crate) struct Driver<'a> {
    pub state: &'a AppState,
    pub peer: &'a Peer,
}

impl Driver<'_> {
    /// Decodes and handles one client message; returns what to send, in order.
    pub async fn receive(&self, session: &mut ServerSession, bytes: &[u8]) -> Vec<ServerMessage> {
        let outputs = session.receive(bytes);
        self.run(session, outputs).await
    }

    async fn run(&self, session: &mut ServerSession, outputs: Vec<ServerOutput>) -> Vec<ServerMessage> {
        let mut pending: VecDeque<ServerOutput> = outputs.into();
        let mut sent = Vec::new();
        while let Some(output) = pending.pop_front() {
            match output {
                ServerOutput::Send(message) => sent.push(message),
                ServerOutput::Need(need) => {
                    let inputs = match self.answer(need).await {
                        Ok(inputs) => inputs,
                        Err(error) => {
                            tracing::error!(%error, "a sync session cannot go on");
                            vec![ServerInput::Abort(failure_for(&error))]
                        }
                    };
                    for input in inputs {
                        pending.extend(session.handle(input));
                    }
                }
            }
        }
        sent
    }

    async fn answer(&self, need: Need) -> Result<Vec<ServerInput>> {
        match need {
            Need::Feed { since } => Ok(vec![ServerInput::Feed(self.feed(since).await?)]),
            Need::Load(ids) => {
                let mut inputs = Vec::with_capacity(ids.len());
                for doc_id in ids {
                    let guard = self.state.documents.lock(doc_id).await?;
                    let doc = self.readable(&guard).then(|| guard.doc().clone());
                    inputs.push(ServerInput::Loaded { doc_id, doc });
                }
                Ok(inputs)
            }
            Need::Snapshot(ids) => {
                let mut inputs = Vec::with_capacity(ids.len());
                for doc_id in ids {
                    let guard = self.state.documents.lock(doc_id).await?;
                    let snapshot = self.readable(&guard).then(|| Snapshot::of(guard.doc()));
                    inputs.push(ServerInput::Snapshot { doc_id, snapshot });
                }
                Ok(inputs)
            }
            Need::Apply(requests) => {
                self.state.metrics.batches.increment(1);
                let applied = futures_util::future::join_all(requests.into_iter().map(|request| {
                    let span = tracing::info_span!("document", case = %request.doc_id);
                    apply_one(self.state, self.peer, request).instrument(span)
                }))
                .await;
                applied.into_iter().collect()
            }
        }
    }

    fn readable(&self, guard: &crate::store::live::DocumentGuard) -> bool {
        guard.is_stored() && guard.readers().can_read(&self.peer.principal.user, &self.peer.units)
    }

    async fn feed(&self, since: Option<Cursor>) -> Result<FeedAnswer> {
        let store = &self.state.store;
        let user = &self.peer.principal.user;
        let units = &self.peer.units;
        let head = store.feed_head().await?;
        let since = since.and_then(|cursor| decode_cursor(&cursor, user)).filter(|since| *since <= head);
        let answer = match since {
            Some(since) => FeedAnswer {
                head: encode_cursor(head, user),
                changed: store.readable_changed(user, units, since, head).await?,
                gone: store.no_longer_readable(user, units, since, head).await?,
                complete: false,
            },
            None => FeedAnswer {
                head: encode_cursor(head, user),
                changed: store.readable_cases(user, units).await?,
                gone: Vec::new(),
                complete: true,
            },
        };
        tracing::debug!(
            since = ?since,
            head = head.0,
            changed = answer.changed.len(),
            gone = answer.gone.len(),
            "feed read"
        );
        Ok(answer)
    }
}
