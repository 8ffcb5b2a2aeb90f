//! The server side of a sync session: answers one client's hello and batches.
//!
//! The session decides nothing about who may read or write what: it asks its caller. The feed
//! ([`Need::Feed`]) says which documents the user may read; a load that comes back empty means
//! "not found" (unknown, unreadable and nonexistent look the same); every incoming change goes out
//! as [`Need::Apply`] for the caller to authorise (ingest), commit and answer.
//!
//! **Durable before acknowledged.** The session only ever generates sync messages from documents
//! the caller handed it: loaded as committed ([`ServerInput::Loaded`], [`ServerInput::Snapshot`]) or
//! returned after a commit ([`ApplyOutcome::Committed`]). The session never applies the changes of
//! an incoming message to its own copy (it receives only what the message says about the client:
//! heads, needs, Bloom filter); the changes reach that copy inside the committed document. So no
//! heads that include a client's change leave the server before the change is durable.

use std::collections::HashMap;

use automerge::sync::{self, ChunkList, SyncDoc};
use automerge::{Automerge, ChangeHash};

use super::FRAME_RESERVE;
use crate::protocol::{
    encoded_len, CaseId, ClientBatch, ClientMessage, Compensation, Cursor, DocMessage, DocReply,
    Done, ErrorCode, Failure, Limits, RejectCode, Rejection, ServerBatch, ServerMessage, Welcome,
};

/// One client's session on the server. See the module documentation.
pub struct ServerSession {
    limits: Limits,
    phase: Phase,
    /// The head cursor captured when the feed was read (or echoed by the first batch over HTTP).
    cursor: Option<Cursor>,
    last_round: Option<u64>,
    /// Documents in play: kept from one round to the next, dropped after a round without them.
    slots: HashMap<CaseId, Slot>,
}

/// What the caller tells the session.
pub enum ServerInput {
    /// A message from the client (see also [`ServerSession::receive`] for raw bytes).
    Message(ClientMessage),
    /// The answer to [`Need::Feed`].
    Feed(FeedAnswer),
    /// The answer to [`Need::Load`] for one document: the document as committed now, or `None`
    /// when it does not exist or the user may not read it.
    Loaded {
        doc_id: CaseId,
        doc: Option<Automerge>,
    },
    /// The answer to [`Need::Snapshot`] for one document, or `None` as for `Loaded`.
    Snapshot {
        doc_id: CaseId,
        snapshot: Option<Snapshot>,
    },
    /// The answer to [`Need::Apply`] for one document, given only once the outcome is durable.
    Applied {
        doc_id: CaseId,
        outcome: ApplyOutcome,
    },
    /// The caller cannot go on (storage down, token revoked): send this failure and stop.
    Abort(Failure),
}

/// What the session asks of its caller.
#[derive(Debug)]
pub enum ServerOutput {
    /// Answer it with the matching [`ServerInput`] (one answer per document).
    Need(Need),
    /// Encode ([`ServerMessage::encode`]) and send it.
    Send(ServerMessage),
}

/// A question for the caller. The session waits until every document of a `Need` is answered.
#[derive(Debug)]
pub enum Need {
    /// Read the change feed for this user after `since` (everything visible when `None`).
    Feed { since: Option<Cursor> },
    /// Load these documents as committed now, checking the user may read them.
    Load(Vec<CaseId>),
    /// As `Load`, but only the saved form is needed (the client holds nothing of them).
    Snapshot(Vec<CaseId>),
    /// Authorise these incoming messages, commit what is accepted durably, then answer.
    Apply(Vec<ApplyRequest>),
}

/// The change feed for one user, read when the session starts.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedAnswer {
    /// The feed position of this read. Every change committed at or below it must be visible to
    /// the read, and no change may later commit at or below it: on PostgreSQL, where sequence
    /// numbers become visible out of order, this is the highest position below which nothing is
    /// still in flight, not the highest number seen.
    pub head: Cursor,
    /// Documents the user may read with changes after `since` (all of them when `complete`).
    pub changed: Vec<CaseId>,
    /// Documents the user could read at `since` and no longer can.
    pub gone: Vec<CaseId>,
    /// `changed` lists every document the user may read: there was no cursor, or it could not be
    /// used (for example the user's units changed since).
    pub complete: bool,
}

/// A document in saved form, with its heads.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub heads: Vec<ChangeHash>,
    /// `Automerge::save()` output (or anything `Automerge::load` reads as the same document).
    pub document: Vec<u8>,
}

impl Snapshot {
    pub fn of(doc: &Automerge) -> Self {
        Snapshot {
            heads: doc.get_heads(),
            document: doc.save(),
        }
    }
}

/// One document's incoming sync message, for the caller to authorise and commit.
#[derive(Debug)]
pub struct ApplyRequest {
    pub doc_id: CaseId,
    /// The `automerge::sync::Message` as received, within `max_doc_message_bytes`; it carries
    /// changes. They may be a whole saved document (a version 2 message, which a client sends when
    /// the server said it holds nothing of the document, e.g. for a case created offline).
    ///
    /// Receive it with a throwaway `sync::State::new()`: the session keeps the state it shares
    /// with this client and updates it itself once the outcome is committed.
    pub message: Vec<u8>,
}

/// What became of one [`ApplyRequest`]; given only once it is durable.
// Moved once into the session, never kept in bulk: boxing the document would only add an
// allocation.
#[allow(clippy::large_enum_variant)]
pub enum ApplyOutcome {
    /// The changes are committed (possibly followed by the server's compensating change).
    /// `doc` is the document as committed, for the session to answer from.
    Committed {
        doc: Automerge,
        compensations: Vec<Compensation>,
    },
    /// Hard reject: nothing from the message is stored.
    Rejected(Rejection),
}

struct Slot {
    doc: Automerge,
    state: sync::State,
}

enum Phase {
    /// Nothing received yet: a hello, or (HTTP) a batch of a session started elsewhere.
    Start,
    AwaitFeed {
        since: Option<Cursor>,
    },
    /// Waiting for the next batch.
    Ready,
    Round(RoundWork),
    Finished,
}

struct RoundWork {
    round: u64,
    items: Vec<Item>,
    index: HashMap<CaseId, usize>,
    waiting: usize,
}

struct Item {
    doc_id: CaseId,
    work: Work,
}

enum Work {
    Refused(Rejection),
    AwaitSnapshot,
    Snapshot(Option<Snapshot>),
    /// A message without changes, waiting for the document.
    AwaitLoad(sync::Message),
    /// The message without its changes (those went to the caller), waiting for the outcome.
    AwaitApply(sync::Message),
    /// Ready to be received into the slot and answered; `acknowledge` when the message's changes
    /// were just committed, so the client must hear the heads that include them.
    Ready {
        message: sync::Message,
        compensated: Vec<Compensation>,
        acknowledge: bool,
    },
}

enum Answer {
    Loaded(Option<Automerge>),
    Snapshot(Option<Snapshot>),
    Applied(ApplyOutcome),
}

impl ServerSession {
    pub fn new(limits: Limits) -> Self {
        ServerSession {
            limits,
            phase: Phase::Start,
            cursor: None,
            last_round: None,
            slots: HashMap::new(),
        }
    }

    /// True once the session sent `Done` or an error: nothing more will be sent or accepted.
    pub fn is_finished(&self) -> bool {
        matches!(self.phase, Phase::Finished)
    }

    /// Decodes `bytes` with the session's limits and handles the message; bytes that are not a
    /// message end the session with an error the client can show.
    pub fn receive(&mut self, bytes: &[u8]) -> Vec<ServerOutput> {
        match ClientMessage::decode(bytes, &self.limits) {
            Ok(message) => self.handle(ServerInput::Message(message)),
            Err(error) => {
                let mut out = Vec::new();
                self.fail(error.to_failure(), &mut out);
                out
            }
        }
    }

    pub fn handle(&mut self, input: ServerInput) -> Vec<ServerOutput> {
        let mut out = Vec::new();
        if self.is_finished() {
            return out;
        }
        match input {
            ServerInput::Message(message) => self.on_message(message, &mut out),
            ServerInput::Feed(answer) => self.on_feed(answer, &mut out),
            ServerInput::Loaded { doc_id, doc } => {
                self.on_answer(doc_id, Answer::Loaded(doc), &mut out)
            }
            ServerInput::Snapshot { doc_id, snapshot } => {
                self.on_answer(doc_id, Answer::Snapshot(snapshot), &mut out)
            }
            ServerInput::Applied { doc_id, outcome } => {
                self.on_answer(doc_id, Answer::Applied(outcome), &mut out)
            }
            ServerInput::Abort(failure) => self.fail(failure, &mut out),
        }
        out
    }

    fn fail(&mut self, failure: Failure, out: &mut Vec<ServerOutput>) {
        self.phase = Phase::Finished;
        self.slots.clear();
        out.push(ServerOutput::Send(ServerMessage::Error(failure)));
    }

    fn on_message(&mut self, message: ClientMessage, out: &mut Vec<ServerOutput>) {
        if let Err(error) = message.check(&self.limits) {
            return self.fail(error.to_failure(), out);
        }
        match (&self.phase, message) {
            (Phase::Start, ClientMessage::Hello(hello)) => {
                out.push(ServerOutput::Need(Need::Feed {
                    since: hello.cursor.clone(),
                }));
                self.phase = Phase::AwaitFeed {
                    since: hello.cursor,
                };
            }
            (Phase::Start | Phase::Ready, ClientMessage::Batch(batch)) => self.on_batch(batch, out),
            _ => self.fail(Failure::new(ErrorCode::UnexpectedMessage), out),
        }
    }

    fn on_feed(&mut self, answer: FeedAnswer, out: &mut Vec<ServerOutput>) {
        let Phase::AwaitFeed { since } = &self.phase else {
            debug_assert!(false, "a feed answer that was not asked for");
            return;
        };
        let fresh = since.is_none() || answer.complete;
        self.cursor = Some(answer.head.clone());
        self.last_round = Some(0);
        self.phase = Phase::Ready;
        out.push(ServerOutput::Send(ServerMessage::Welcome(Welcome {
            cursor: answer.head,
            fresh,
            changed: answer.changed,
            gone: answer.gone,
            limits: self.limits,
        })));
    }

    fn on_batch(&mut self, batch: ClientBatch, out: &mut Vec<ServerOutput>) {
        let ClientBatch {
            round,
            cursor,
            entries,
        } = batch;
        let in_order = self.last_round.is_none_or(|last| round == last + 1);
        let same_session = self.cursor.as_ref().is_none_or(|ours| *ours == cursor);
        if !in_order || !same_session {
            return self.fail(Failure::new(ErrorCode::UnexpectedMessage), out);
        }
        self.last_round = Some(round);
        self.cursor = Some(cursor.clone());
        if entries.is_empty() {
            self.phase = Phase::Finished;
            self.slots.clear();
            out.push(ServerOutput::Send(ServerMessage::Done(Done { cursor })));
            return;
        }

        let (mut loads, mut snapshots, mut applies) = (Vec::new(), Vec::new(), Vec::new());
        let mut items = Vec::with_capacity(entries.len());
        for DocMessage {
            doc_id,
            message: bytes,
        } in entries
        {
            let work = if bytes.len() > self.limits.max_doc_message_bytes {
                Work::Refused(Rejection::new(RejectCode::TooLarge))
            } else {
                match sync::Message::decode(&bytes) {
                    Err(_) => Work::Refused(Rejection::new(RejectCode::Malformed)),
                    Ok(message) if message.heads.is_empty() && message.changes.is_empty() => {
                        // The client holds nothing of the document: it gets the saved form.
                        self.slots.remove(&doc_id);
                        snapshots.push(doc_id);
                        Work::AwaitSnapshot
                    }
                    Ok(message) if !message.changes.is_empty() => {
                        applies.push(ApplyRequest {
                            doc_id,
                            message: bytes,
                        });
                        Work::AwaitApply(without_changes(message))
                    }
                    Ok(message) if self.slots.contains_key(&doc_id) => Work::Ready {
                        message,
                        compensated: Vec::new(),
                        acknowledge: false,
                    },
                    Ok(message) => {
                        loads.push(doc_id);
                        Work::AwaitLoad(message)
                    }
                }
            };
            items.push(Item { doc_id, work });
        }

        let waiting = loads.len() + snapshots.len() + applies.len();
        let index = items
            .iter()
            .enumerate()
            .map(|(i, item)| (item.doc_id, i))
            .collect();
        self.phase = Phase::Round(RoundWork {
            round,
            items,
            index,
            waiting,
        });
        if !snapshots.is_empty() {
            out.push(ServerOutput::Need(Need::Snapshot(snapshots)));
        }
        if !loads.is_empty() {
            out.push(ServerOutput::Need(Need::Load(loads)));
        }
        if !applies.is_empty() {
            out.push(ServerOutput::Need(Need::Apply(applies)));
        }
        if waiting == 0 {
            self.finish_round(out);
        }
    }

    fn on_answer(&mut self, doc_id: CaseId, answer: Answer, out: &mut Vec<ServerOutput>) {
        let Phase::Round(work) = &mut self.phase else {
            debug_assert!(false, "an answer for {doc_id} that was not asked for");
            return;
        };
        let Some(&i) = work.index.get(&doc_id) else {
            debug_assert!(false, "an answer for {doc_id}, which is not in this round");
            return;
        };
        let item = &mut work.items[i];
        let waiting_for = std::mem::replace(&mut item.work, Work::AwaitSnapshot);
        item.work = match (waiting_for, answer) {
            (Work::AwaitSnapshot, Answer::Snapshot(snapshot)) => Work::Snapshot(snapshot),
            (Work::AwaitLoad(message), Answer::Loaded(doc)) => {
                // Not found: answer as a server holding nothing, so a client that created the
                // document offline sends its changes, and `Apply` decides.
                let doc = doc.unwrap_or_default();
                self.slots.insert(
                    doc_id,
                    Slot {
                        doc,
                        state: sync::State::new(),
                    },
                );
                Work::Ready {
                    message,
                    compensated: Vec::new(),
                    acknowledge: false,
                }
            }
            (
                Work::AwaitApply(message),
                Answer::Applied(ApplyOutcome::Committed { doc, compensations }),
            ) => {
                match self.slots.get_mut(&doc_id) {
                    Some(slot) => slot.doc = doc,
                    None => {
                        self.slots.insert(
                            doc_id,
                            Slot {
                                doc,
                                state: sync::State::new(),
                            },
                        );
                    }
                }
                Work::Ready {
                    message,
                    compensated: compensations,
                    acknowledge: true,
                }
            }
            (Work::AwaitApply(_), Answer::Applied(ApplyOutcome::Rejected(rejection))) => {
                self.slots.remove(&doc_id);
                Work::Refused(rejection)
            }
            (unchanged, _) => {
                debug_assert!(
                    false,
                    "an answer for {doc_id} of the wrong kind or given twice"
                );
                item.work = unchanged;
                return;
            }
        };
        work.waiting -= 1;
        if work.waiting == 0 {
            self.finish_round(out);
        }
    }

    /// Every answer is in: receive the messages and answer them in one batch.
    fn finish_round(&mut self, out: &mut Vec<ServerOutput>) {
        let Phase::Round(work) = std::mem::replace(&mut self.phase, Phase::Ready) else {
            unreachable!("finish_round is only called with a round in progress");
        };

        let mut planned = Vec::with_capacity(work.items.len());
        for Item { doc_id, work } in work.items {
            planned.push(match work {
                Work::Refused(rejection) => Planned::Final(DocReply::rejected(doc_id, rejection)),
                Work::Snapshot(snapshot) => Planned::Saved { doc_id, snapshot },
                Work::Ready {
                    message,
                    compensated,
                    acknowledge,
                } => {
                    let slot = self
                        .slots
                        .get_mut(&doc_id)
                        .expect("a ready document has a slot");
                    match slot.doc.receive_sync_message(&mut slot.state, message) {
                        Ok(()) => {
                            if acknowledge {
                                // Receiving a message whose heads we already hold makes automerge
                                // think the client needs no answer; it does: that is how it learns
                                // its changes are durable.
                                slot.state.have_responded = false;
                            }
                            Planned::Sync {
                                doc_id,
                                compensated,
                            }
                        }
                        Err(_) => {
                            self.slots.remove(&doc_id);
                            Planned::Final(DocReply::rejected(
                                doc_id,
                                Rejection::new(RejectCode::CannotApply),
                            ))
                        }
                    }
                }
                Work::AwaitSnapshot | Work::AwaitLoad(_) | Work::AwaitApply(_) => {
                    unreachable!("a round finishes only when nothing is awaited")
                }
            });
        }

        let entries = self.pack(planned);
        self.slots
            .retain(|doc_id, _| entries.iter().any(|e| e.doc_id() == *doc_id));
        out.push(ServerOutput::Send(ServerMessage::Batch(ServerBatch {
            round: work.round,
            entries,
        })));
    }

    /// Builds the answers in order within `max_message_bytes`. Every document first reserves the
    /// room of its smallest answer (`deferred`, or the rejection itself); the rest is handed out
    /// in order. An answer that does not fit is deferred, and the client sends its message again.
    fn pack(&mut self, planned: Vec<Planned>) -> Vec<DocReply> {
        let max = self.limits.max_message_bytes;
        let fallbacks: Vec<DocReply> = planned.iter().map(Planned::fallback).collect();
        let sizes: Vec<usize> = fallbacks.iter().map(encoded_len).collect();
        let mut left = max.saturating_sub(FRAME_RESERVE + sizes.iter().sum::<usize>());
        let mut entries = Vec::with_capacity(planned.len());

        for ((plan, fallback), fallback_size) in planned.into_iter().zip(fallbacks).zip(sizes) {
            let (doc_id, full, restore) = match plan {
                Planned::Final(reply) => {
                    entries.push(reply);
                    continue;
                }
                Planned::Saved {
                    doc_id,
                    snapshot: None,
                } => (
                    doc_id,
                    DocReply::rejected(doc_id, Rejection::new(RejectCode::NotFound)),
                    None,
                ),
                Planned::Saved {
                    doc_id,
                    snapshot: Some(Snapshot { heads, document }),
                } => (
                    doc_id,
                    DocReply::Saved {
                        doc_id,
                        heads,
                        document,
                    },
                    None,
                ),
                Planned::Sync {
                    doc_id,
                    compensated,
                } => {
                    let slot = self
                        .slots
                        .get_mut(&doc_id)
                        .expect("a synced document has a slot");
                    let before = slot.state.clone();
                    let Some(mut message) = slot.doc.generate_sync_message(&mut slot.state) else {
                        if compensated.is_empty() {
                            // Nothing to say: the reserved room goes back to the others.
                            left += fallback_size;
                        } else {
                            entries.push(fallback);
                        }
                        continue;
                    };
                    drop_have_when_holding_theirs(&slot.doc, &slot.state, &mut message);
                    let full = DocReply::Sync {
                        doc_id,
                        message: message.encode(),
                        compensated,
                    };
                    (doc_id, full, Some(before))
                }
            };
            let full_size = encoded_len(&full);
            let extra = full_size.saturating_sub(fallback_size);
            if extra <= left {
                left -= extra;
                entries.push(full);
                continue;
            }
            if let (Some(before), Some(slot)) = (restore, self.slots.get_mut(&doc_id)) {
                // Not sent after all: the state must not believe it was.
                slot.state = before;
            }
            if full_size + FRAME_RESERVE > max {
                // It will never fit: deferring it would loop for ever.
                self.slots.remove(&doc_id);
                let refusal = DocReply::rejected(doc_id, Rejection::new(RejectCode::DocTooLarge));
                left = left.saturating_sub(encoded_len(&refusal).saturating_sub(fallback_size));
                entries.push(refusal);
            } else {
                entries.push(fallback);
            }
        }
        entries
    }
}

/// One document's answer, before packing.
enum Planned {
    /// Already decided (a rejection).
    Final(DocReply),
    Saved {
        doc_id: CaseId,
        snapshot: Option<Snapshot>,
    },
    Sync {
        doc_id: CaseId,
        compensated: Vec<Compensation>,
    },
}

impl Planned {
    /// The smallest answer this document can get.
    fn fallback(&self) -> DocReply {
        match self {
            Planned::Final(reply) => reply.clone(),
            Planned::Saved { doc_id, .. } => DocReply::Deferred {
                doc_id: *doc_id,
                compensated: Vec::new(),
            },
            Planned::Sync {
                doc_id,
                compensated,
            } => DocReply::Deferred {
                doc_id: *doc_id,
                compensated: compensated.clone(),
            },
        }
    }
}

/// The message as the session records it once its changes are committed: everything it says about
/// the client (heads, needs, bloom filter, flags) but not the changes, which reach the session's
/// copy only inside the committed document.
fn without_changes(message: sync::Message) -> sync::Message {
    sync::Message {
        changes: ChunkList::empty(),
        ..message
    }
}

/// A server that holds every head the client announced has nothing to learn from the client, so
/// the client needs no Bloom filter of what the server has (it only steers which changes a peer
/// sends): the message goes without its `have`, a head and a filter less per document. A client
/// receiving an empty `have` sends only changes the server names in `need`, which is none.
/// Automerge's own messages keep the `have` whenever the server may lack something.
fn drop_have_when_holding_theirs(
    doc: &Automerge,
    state: &sync::State,
    message: &mut sync::Message,
) {
    let holds_theirs = state.their_heads.as_ref().is_some_and(|theirs| {
        theirs
            .iter()
            .all(|h| doc.get_change_meta_by_hash(h).is_some())
    });
    if holds_theirs && message.need.is_empty() {
        message.have.clear();
    }
}
