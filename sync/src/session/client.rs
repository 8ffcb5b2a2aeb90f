//! The client side of a sync session: one sync of a device's replica with the server.
//!
//! The caller owns the replica (documents, their persisted sync states, the cursor, the stash);
//! the session borrows nothing. It asks for documents ([`ClientOutput::Load`]), works on its own
//! copies, and hands back what to persist: new changes to merge ([`DocUpdate::Merge`]), a
//! replacement after a refusal ([`DocUpdate::Replace`]), the encoded `automerge::sync::State`, and
//! at the end the new cursor. Because it hands back changes rather than whole documents, the user
//! may keep editing the replica while a session runs: those edits go out in the next session.
//!
//! Notices ([`Notice`]) must reach the user: a refused document and reverted changes are never
//! silently dropped.

use std::collections::{HashMap, HashSet, VecDeque};

use automerge::sync::{self, SyncDoc};
use automerge::Automerge;

use super::FRAME_RESERVE;
use crate::protocol::{
    encoded_len, CaseId, ClientBatch, ClientMessage, Compensation, Cursor, DocMessage, DocReply,
    ErrorCode, Failure, Hello, Limits, RejectCode, Rejection, ServerBatch, ServerMessage, Welcome,
};

/// What the caller knows when a session starts.
#[derive(Debug, Clone)]
pub struct ClientStart {
    /// The cursor of the last completed session; `None` on a fresh device.
    pub cursor: Option<Cursor>,
    /// Documents with local changes the server has not acknowledged (edited, or created, since
    /// they were last synced). They are synced whether or not the server lists them as changed.
    pub pending: Vec<CaseId>,
    /// The client program and version, e.g. `fengqiao-client/0.1.0`.
    pub agent: String,
}

/// What the caller tells the session.
// Inputs are moved once into `handle` and never kept in bulk: boxing the document would only add
// an allocation.
#[allow(clippy::large_enum_variant)]
pub enum ClientInput {
    /// A message from the server.
    Message(ServerMessage),
    /// The answer to [`ClientOutput::Load`] for one document: `None` when the replica does not
    /// hold it.
    Loaded {
        doc_id: CaseId,
        local: Option<LocalDoc>,
    },
}

/// A document of the replica, with its persisted sync state.
pub struct LocalDoc {
    pub doc: Automerge,
    /// The last `sync_state` stored for the document ([`ClientOutput::Store`]); `None` (or bytes
    /// that do not decode) starts from nothing shared, which only costs a larger first message.
    pub sync_state: Option<Vec<u8>>,
}

/// What the session asks of its caller, in the order given.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientOutput {
    /// Encode ([`ClientMessage::encode`]) and send it.
    Send(ClientMessage),
    /// Answer [`ClientInput::Loaded`] for each of these.
    Load(Vec<CaseId>),
    /// Persist, in one transaction: apply `update` to the replica of `doc_id` (if any) and store
    /// `sync_state` beside it.
    Store {
        doc_id: CaseId,
        update: Option<DocUpdate>,
        sync_state: Vec<u8>,
    },
    /// Show this to the user.
    Notice(Notice),
    /// Move the replica of this document, with its sync state, into the stash: the server refused
    /// its changes. Keep the stash for the user; do not sync it. (A copy without changes the
    /// server never acknowledged may be discarded instead: it holds nothing of the user's.) A
    /// [`DocUpdate::Replace`] or a [`ClientOutput::Forget`] for the document may follow.
    Stash(CaseId),
    /// Stop syncing this document and delete the replica's copy. If the copy holds changes the
    /// server never acknowledged, stash it instead of deleting it.
    Forget {
        doc_id: CaseId,
        reason: ForgetReason,
    },
    /// The session is complete: store this cursor for the next one.
    Finished(Cursor),
    /// The session stopped. Show the message; sync again later if `retry`. Keep the old cursor:
    /// whatever was stored during the session stays valid.
    Failed(Failure),
}

/// How to apply bytes from the server to the replica.
#[derive(Debug, Clone, PartialEq)]
pub enum DocUpdate {
    /// New changes (or a saved document): `Automerge::load_incremental` them into the replica, or
    /// `Automerge::load` them if it holds nothing of the document.
    Merge(Vec<u8>),
    /// The server's saved document after a refusal: it replaces the replica's copy.
    Replace(Vec<u8>),
}

/// Why a document leaves the replica.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForgetReason {
    /// Listed in [`Welcome::gone`]: the user no longer may read it.
    Gone,
    /// The server answered `not_found`.
    NotFound,
}

/// Something the user must be shown.
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    /// The server stored nothing of this document's changes.
    Rejected {
        doc_id: CaseId,
        rejection: Rejection,
    },
    /// The server stored these changes and then reverted their effect; the revert arrives as an
    /// ordinary change and the reverted values stay in history.
    Compensated {
        doc_id: CaseId,
        compensation: Compensation,
    },
}

/// One sync of the replica. See the module documentation.
pub struct ClientSession {
    limits: Limits,
    phase: Phase,
    pending: Vec<CaseId>,
    cursor: Option<Cursor>,
    round: u64,
    /// Documents still to bring into play, in order.
    queue: VecDeque<CaseId>,
    /// Documents in play, in order; at most `max_entries` of them.
    order: Vec<CaseId>,
    active: HashMap<CaseId, ActiveDoc>,
    loading: HashSet<CaseId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    AwaitWelcome,
    Loading,
    AwaitReply,
    /// Sent the empty batch; waiting for `Done`.
    AwaitDone,
    Finished,
}

struct ActiveDoc {
    /// The session's copy: the replica as loaded plus what the server sent.
    doc: Automerge,
    state: sync::State,
    /// The replica held the document when it was loaded.
    held: bool,
    /// The replica's copy was stashed and is being fetched again from the server.
    reset: bool,
    step: Step,
}

enum Step {
    /// Generate the next message.
    Sync,
    /// This message is out; kept in case the server defers it.
    Sent(Vec<u8>),
    /// The server deferred it: send the same bytes again.
    Resend(Vec<u8>),
    /// Fetch the server's copy from scratch (after a refusal).
    Refetch,
    /// Nothing more this session.
    Finished,
}

impl ClientSession {
    /// A session and the hello that starts it.
    pub fn new(start: ClientStart, limits: Limits) -> (Self, ClientMessage) {
        let hello = ClientMessage::Hello(Hello {
            cursor: start.cursor,
            agent: start.agent,
        });
        let session = ClientSession {
            limits,
            phase: Phase::AwaitWelcome,
            pending: start.pending,
            cursor: None,
            round: 0,
            queue: VecDeque::new(),
            order: Vec::new(),
            active: HashMap::new(),
            loading: HashSet::new(),
        };
        (session, hello)
    }

    /// True once the session sent its last message or failed.
    pub fn is_finished(&self) -> bool {
        self.phase == Phase::Finished
    }

    /// Decodes `bytes` with the session's limits and handles the message; bytes that are not a
    /// message end the session.
    pub fn receive(&mut self, bytes: &[u8]) -> Vec<ClientOutput> {
        match ServerMessage::decode(bytes, &self.limits) {
            Ok(message) => self.handle(ClientInput::Message(message)),
            Err(error) => {
                let mut out = Vec::new();
                if self.phase != Phase::Finished {
                    self.fail(error.to_failure(), &mut out);
                }
                out
            }
        }
    }

    pub fn handle(&mut self, input: ClientInput) -> Vec<ClientOutput> {
        let mut out = Vec::new();
        match input {
            ClientInput::Message(message) => self.on_message(message, &mut out),
            ClientInput::Loaded { doc_id, local } => self.on_loaded(doc_id, local, &mut out),
        }
        out
    }

    fn fail(&mut self, failure: Failure, out: &mut Vec<ClientOutput>) {
        self.phase = Phase::Finished;
        self.active.clear();
        out.push(ClientOutput::Failed(failure));
    }

    fn on_message(&mut self, message: ServerMessage, out: &mut Vec<ClientOutput>) {
        if self.phase == Phase::Finished {
            return;
        }
        match (self.phase, message) {
            (_, ServerMessage::Error(failure)) => self.fail(failure, out),
            // Notify is for an idle connection; this session ends at a cursor captured when it
            // started, and the caller starts another when it is notified between sessions.
            (_, ServerMessage::Notify) => {}
            (Phase::AwaitWelcome, ServerMessage::Welcome(welcome)) => self.on_welcome(welcome, out),
            (Phase::AwaitReply | Phase::AwaitDone, ServerMessage::Batch(batch))
                if batch.round == self.round =>
            {
                self.on_batch(batch, out);
                self.advance(out);
            }
            (Phase::AwaitDone, ServerMessage::Done(done)) => {
                self.phase = Phase::Finished;
                out.push(ClientOutput::Finished(done.cursor));
            }
            _ => self.fail(Failure::new(ErrorCode::UnexpectedMessage), out),
        }
    }

    fn on_welcome(&mut self, welcome: Welcome, out: &mut Vec<ClientOutput>) {
        let Welcome {
            cursor,
            fresh: _,
            changed,
            gone,
            limits,
        } = welcome;
        self.cursor = Some(cursor);
        self.limits = self.limits.min(&limits);
        // In the order the server listed them: a set's iteration order would differ from run to
        // run, and a sans-IO machine gives the same outputs for the same inputs.
        let mut forgotten = HashSet::new();
        for doc_id in &gone {
            if forgotten.insert(*doc_id) {
                out.push(ClientOutput::Forget {
                    doc_id: *doc_id,
                    reason: ForgetReason::Gone,
                });
            }
        }
        let gone = forgotten;
        let mut seen = HashSet::new();
        // The user's own work first, then what changed on the server.
        for doc_id in std::mem::take(&mut self.pending).into_iter().chain(changed) {
            if !gone.contains(&doc_id) && seen.insert(doc_id) {
                self.queue.push_back(doc_id);
            }
        }
        self.advance(out);
    }

    fn on_loaded(&mut self, doc_id: CaseId, local: Option<LocalDoc>, out: &mut Vec<ClientOutput>) {
        if self.phase != Phase::Loading || !self.loading.remove(&doc_id) {
            debug_assert!(
                self.phase == Phase::Finished,
                "a document that was not asked for: {doc_id}"
            );
            return;
        }
        let active = match local {
            Some(LocalDoc { doc, sync_state }) => {
                let mut state = sync_state
                    .and_then(|bytes| sync::State::decode(&bytes).ok())
                    .unwrap_or_default();
                send_local_changes_at_once(&doc, &mut state);
                ActiveDoc {
                    doc,
                    state,
                    held: true,
                    reset: false,
                    step: Step::Sync,
                }
            }
            None => ActiveDoc {
                doc: Automerge::new(),
                state: sync::State::new(),
                held: false,
                reset: false,
                step: Step::Sync,
            },
        };
        self.active.insert(doc_id, active);
        if self.loading.is_empty() {
            self.advance(out);
        }
    }

    fn on_batch(&mut self, batch: ServerBatch, out: &mut Vec<ClientOutput>) {
        for reply in batch.entries {
            match reply {
                DocReply::Sync {
                    doc_id,
                    message,
                    compensated,
                } => {
                    notify_compensations(doc_id, compensated, out);
                    let Some(active) = self.active.get_mut(&doc_id) else {
                        continue;
                    };
                    let Ok(message) = sync::Message::decode(&message) else {
                        return self.fail(Failure::new(ErrorCode::Malformed), out);
                    };
                    let before = active.doc.get_heads();
                    if active
                        .doc
                        .receive_sync_message(&mut active.state, message)
                        .is_err()
                    {
                        return self.fail(Failure::new(ErrorCode::Malformed), out);
                    }
                    resend_what_the_server_dropped(&mut active.state);
                    let update = (active.doc.get_heads() != before)
                        .then(|| DocUpdate::Merge(active.doc.save_after(&before)));
                    active.step = Step::Sync;
                    out.push(ClientOutput::Store {
                        doc_id,
                        update,
                        sync_state: active.state.encode(),
                    });
                }
                DocReply::Saved {
                    doc_id,
                    heads,
                    document,
                } => {
                    let Some(active) = self.active.get_mut(&doc_id) else {
                        continue;
                    };
                    let update = if active.reset {
                        DocUpdate::Replace(document)
                    } else {
                        DocUpdate::Merge(document)
                    };
                    let mut heads = heads;
                    heads.sort(); // a sync state keeps its heads in order
                    let shared = sync::State {
                        shared_heads: heads,
                        ..sync::State::new()
                    };
                    active.step = Step::Finished;
                    out.push(ClientOutput::Store {
                        doc_id,
                        update: Some(update),
                        sync_state: shared.encode(),
                    });
                }
                DocReply::Rejected {
                    doc_id,
                    code,
                    message,
                } => {
                    self.refused(doc_id, Rejection { code, message }, out);
                }
                DocReply::Deferred {
                    doc_id,
                    compensated,
                } => {
                    notify_compensations(doc_id, compensated, out);
                    if let Some(active) = self.active.get_mut(&doc_id) {
                        if let Step::Sent(bytes) = std::mem::replace(&mut active.step, Step::Sync) {
                            active.step = Step::Resend(bytes);
                        }
                    }
                }
            }
        }
    }

    /// The server (or this client, for a message too large to send) refused the document.
    fn refused(&mut self, doc_id: CaseId, rejection: Rejection, out: &mut Vec<ClientOutput>) {
        let code = rejection.code.clone();
        out.push(ClientOutput::Notice(Notice::Rejected { doc_id, rejection }));
        let Some(active) = self.active.get_mut(&doc_id) else {
            return;
        };
        match code {
            // Whatever the client sent is stored; only sending the document failed.
            RejectCode::DocTooLarge => active.step = Step::Finished,
            RejectCode::NotFound => {
                if active.held && !active.reset {
                    out.push(ClientOutput::Stash(doc_id));
                }
                out.push(ClientOutput::Forget {
                    doc_id,
                    reason: ForgetReason::NotFound,
                });
                active.step = Step::Finished;
            }
            // Keep the refused changes aside and take the server's copy, once per session.
            _ if active.held && !active.reset => {
                out.push(ClientOutput::Stash(doc_id));
                *active = ActiveDoc {
                    doc: Automerge::new(),
                    state: sync::State::new(),
                    held: false,
                    reset: true,
                    step: Step::Refetch,
                };
            }
            _ => active.step = Step::Finished,
        }
    }

    /// Moves on: brings queued documents into play, or sends the next batch.
    fn advance(&mut self, out: &mut Vec<ClientOutput>) {
        if self.phase == Phase::Finished {
            return;
        }
        loop {
            let room = self.limits.max_entries.saturating_sub(self.order.len());
            let mut load = Vec::new();
            while load.len() < room {
                let Some(doc_id) = self.queue.pop_front() else {
                    break;
                };
                if !self.active.contains_key(&doc_id) {
                    load.push(doc_id);
                }
            }
            if !load.is_empty() {
                self.order.extend(&load);
                self.loading.extend(&load);
                self.phase = Phase::Loading;
                out.push(ClientOutput::Load(load));
                return;
            }

            let entries = self.next_entries(out);
            if entries.is_empty() && !self.queue.is_empty() {
                continue;
            }
            let cursor = self
                .cursor
                .clone()
                .expect("a session in play has had its welcome");
            self.round += 1;
            self.phase = if entries.is_empty() {
                Phase::AwaitDone
            } else {
                Phase::AwaitReply
            };
            out.push(ClientOutput::Send(ClientMessage::Batch(ClientBatch {
                round: self.round,
                cursor,
                entries,
            })));
            return;
        }
    }

    /// The entries of the next batch, within the limits; documents with nothing more to say leave
    /// play.
    fn next_entries(&mut self, out: &mut Vec<ClientOutput>) -> Vec<DocMessage> {
        let mut left = self.limits.max_message_bytes.saturating_sub(FRAME_RESERVE);
        let mut entries = Vec::new();
        for doc_id in self.order.clone() {
            loop {
                let active = self
                    .active
                    .get_mut(&doc_id)
                    .expect("documents in play are loaded");
                let before = active.state.clone();
                // What to go back to if the message does not fit this batch.
                let (message, unsent) = match std::mem::replace(&mut active.step, Step::Sync) {
                    Step::Finished => {
                        active.step = Step::Finished;
                        break;
                    }
                    Step::Resend(bytes) => (bytes.clone(), Step::Resend(bytes)),
                    step @ (Step::Sync | Step::Sent(_) | Step::Refetch) => {
                        let unsent = if matches!(step, Step::Refetch) {
                            Step::Refetch
                        } else {
                            Step::Sync
                        };
                        match active.doc.generate_sync_message(&mut active.state) {
                            Some(message) if !only_acknowledges(&message, &before) => {
                                (message.encode(), unsent)
                            }
                            _ => {
                                active.state = before;
                                active.step = Step::Finished;
                                break;
                            }
                        }
                    }
                };
                let entry = DocMessage { doc_id, message };
                let size = encoded_len(&entry);
                if entry.message.len() > self.limits.max_doc_message_bytes
                    || size + FRAME_RESERVE > self.limits.max_message_bytes
                {
                    // The server would refuse it, or could not even receive it.
                    active.state = before;
                    self.refused(doc_id, Rejection::new(RejectCode::TooLarge), out);
                    continue;
                }
                if size > left {
                    // Next round: the state must not believe it was sent.
                    active.state = before;
                    active.step = unsent;
                    break;
                }
                left -= size;
                active.step = Step::Sent(entry.message.clone());
                entries.push(entry);
                break;
            }
        }
        let active = &mut self.active;
        self.order.retain(|doc_id| {
            let done = matches!(active.get(doc_id).map(|a| &a.step), Some(Step::Finished));
            if done {
                active.remove(doc_id);
            }
            !done
        });
        entries
    }
}

/// Whether `message` would only tell the server heads it already announced as its own: both sides
/// hold the same changes, and automerge's closing acknowledgement would cost a round for nothing.
fn only_acknowledges(message: &sync::Message, state: &sync::State) -> bool {
    let same = |a: &[automerge::ChangeHash], b: &[automerge::ChangeHash]| {
        a.len() == b.len() && a.iter().all(|h| b.contains(h))
    };
    message.changes.is_empty()
        && message.need.is_empty()
        && state
            .their_heads
            .as_deref()
            .is_some_and(|theirs| same(theirs, &message.heads))
}

/// A document edited since its last sync: its first message carries the changes since the heads
/// it shares with the server, instead of only announcing heads and a Bloom filter and waiting a
/// round for the server to say what it lacks. The shared heads are committed on the server (it
/// only acknowledges what is durable), so the server holds everything before them, and a change
/// it already holds costs only its bytes: receiving a change twice is a no-op. Without shared
/// heads (a case created here, or a state that did not decode), or when the replica does not hold
/// them, the usual exchange runs.
fn send_local_changes_at_once(doc: &Automerge, state: &mut sync::State) {
    let shared = &state.shared_heads;
    if shared.is_empty()
        || state
            .their_have
            .as_ref()
            .is_some_and(|have| !have.is_empty())
        || doc.get_heads() == *shared
        || !shared
            .iter()
            .all(|h| doc.get_change_meta_by_hash(h).is_some())
    {
        return;
    }
    state.their_have = Some(vec![sync::Have {
        last_sync: shared.clone(),
        bloom: sync::BloomFilter::from_hashes(std::iter::empty::<automerge::ChangeHash>()),
    }]);
    state.their_need = Some(Vec::new());
}

/// The server keeps nothing it could not commit: a change whose dependencies did not arrive with it
/// is dropped, not queued (and over HTTP it keeps nothing at all between requests). When it asks
/// again for a change this session already sent, a dependency never reached it, typically one its
/// Bloom filter falsely claimed to hold, which it cannot name. Automerge would not send a change
/// twice, nor a change the filter claims, so the exchange would repeat for ever: send everything
/// the server is not known to hold (all changes since the shared heads, which are committed on the
/// server), whatever its filter says.
fn resend_what_the_server_dropped(state: &mut sync::State) {
    let asked_again = state
        .their_need
        .as_ref()
        .is_some_and(|need| need.iter().any(|hash| state.sent_hashes.contains(hash)));
    if asked_again {
        state.sent_hashes.clear();
        state.their_have = Some(vec![sync::Have {
            last_sync: state.shared_heads.clone(),
            bloom: sync::BloomFilter::from_hashes(std::iter::empty::<automerge::ChangeHash>()),
        }]);
    }
}

fn notify_compensations(
    doc_id: CaseId,
    compensated: Vec<Compensation>,
    out: &mut Vec<ClientOutput>,
) {
    for compensation in compensated {
        out.push(ClientOutput::Notice(Notice::Compensated {
            doc_id,
            compensation,
        }));
    }
}
