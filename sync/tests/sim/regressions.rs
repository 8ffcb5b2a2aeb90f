//! Regression tests for bugs the simulation found in `sync/src/session` and `sync/src/ingest`,
//! each named after what it fixes, small enough to read without the simulation.

use std::collections::{BTreeMap, VecDeque};

use automerge::sync::{self, BloomFilter, SyncDoc};
use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ActorId, Automerge, AutomergeError, ChangeHash, ReadDoc, ROOT};
use autosurgeon::Text;
use fengqiao_schema::document::{HandoffRequest, Party};
use fengqiao_schema::fixtures::{self, JUSTICE, TOWN_A};
use fengqiao_schema::vocab::{
    CaseKind, HandoffStatus, HandoffVerdict, MediationResult, PartyRole, ReviewKind, Role, Section,
    Track,
};
use fengqiao_sync::protocol::{CaseId, Cursor, Limits, ServerMessage, Welcome};
use fengqiao_sync::session::{
    ApplyOutcome, ClientInput, ClientOutput, ClientSession, ClientStart, DocUpdate, FeedAnswer,
    ForgetReason, LocalDoc, Need, ServerInput, ServerOutput, ServerSession, Snapshot,
};

#[path = "../support/mod.rs"]
mod support;

fn put(doc: &mut Automerge, key: &str, value: i64) -> ChangeHash {
    doc.transact_with::<_, _, AutomergeError, _>(
        |_| CommitOptions::default().with_time(0),
        |tx| tx.put(ROOT, key, value),
    )
    .expect("a put commits")
    .hash
    .expect("a change")
}

/// A server for the session machines alone: every change is accepted, and, like a server that
/// reloads a document from storage (another process behind the load balancer, an evicted cache),
/// it keeps nothing it could not commit: a change whose dependencies are missing is dropped.
struct DurableOnly {
    docs: BTreeMap<CaseId, Automerge>,
}

impl DurableOnly {
    fn answer(&mut self, need: Need) -> Vec<ServerInput> {
        match need {
            Need::Feed { .. } => vec![ServerInput::Feed(FeedAnswer {
                head: Cursor::from_feed_seq(1),
                changed: Vec::new(),
                gone: Vec::new(),
                complete: false,
            })],
            Need::Load(ids) => ids
                .into_iter()
                .map(|doc_id| ServerInput::Loaded {
                    doc_id,
                    doc: self.docs.get(&doc_id).cloned(),
                })
                .collect(),
            Need::Snapshot(ids) => ids
                .into_iter()
                .map(|doc_id| ServerInput::Snapshot {
                    doc_id,
                    snapshot: self.docs.get(&doc_id).map(Snapshot::of),
                })
                .collect(),
            Need::Apply(requests) => requests
                .into_iter()
                .map(|r| {
                    let stored = self.docs.get_mut(&r.doc_id).expect("the case exists");
                    let mut work = stored.clone();
                    let message = sync::Message::decode(&r.message).expect("a sync message");
                    work.receive_sync_message(&mut sync::State::new(), message)
                        .expect("changes apply");
                    // Only what was applied is stored; a change waiting for its dependencies is
                    // not (`save` would keep it).
                    let applied = work.get_changes(&stored.get_heads());
                    stored
                        .apply_changes(applied)
                        .expect("applied changes apply");
                    ServerInput::Applied {
                        doc_id: r.doc_id,
                        outcome: ApplyOutcome::Committed {
                            doc: stored.clone(),
                            compensations: Vec::new(),
                        },
                    }
                })
                .collect(),
        }
    }
}

/// Before the fix, a change hidden by a false positive of the server's Bloom filter was never
/// sent: the server dropped its child (missing dependency) and asked for the child again, and the
/// client, having sent it once, sent nothing, round after round, for ever.
#[test]
fn a_change_the_servers_bloom_filter_hides_is_sent_when_the_server_asks_again() {
    let case = CaseId::from_bytes([7; 16]);
    let mut server_doc = Automerge::new().with_actor(ActorId::from(b"server".as_slice()));
    for i in 0..30 {
        put(&mut server_doc, &format!("k{i}"), i);
    }
    let server_hashes: Vec<ChangeHash> = server_doc
        .get_changes(&[])
        .iter()
        .map(|c| c.hash())
        .collect();
    // A fresh server session's filter covers every change it has.
    let filter = BloomFilter::from_hashes(server_hashes.iter());

    // The device holds what the server holds, then makes a change the filter falsely claims
    // (found by trying values; the same one every run), and another on top of it.
    let synced = server_doc
        .clone()
        .with_actor(ActorId::from(b"device".as_slice()));
    let mut device_doc = (0..)
        .map(|i| {
            let mut doc = synced.clone();
            let hash = put(&mut doc, "hidden", i);
            (doc, hash)
        })
        .find(|(_, hash)| filter.contains_hash(hash))
        .map(|(doc, _)| doc)
        .expect("some value collides");
    let hidden = device_doc.get_heads()[0];
    let child = put(&mut device_doc, "child", 1);
    let mut shared = server_doc.get_heads();
    shared.sort();
    let sync_state = sync::State {
        shared_heads: shared,
        ..sync::State::new()
    }
    .encode();

    let mut server = DurableOnly {
        docs: BTreeMap::from([(case, server_doc)]),
    };
    let limits = Limits::DEFAULT;
    let (mut client, hello) = ClientSession::new(
        ClientStart {
            cursor: Some(Cursor::from_feed_seq(1)),
            pending: vec![case],
            agent: "regression".into(),
        },
        limits,
    );
    let mut to_server = Some(hello.encode());
    let mut messages = 0;
    let mut finished = false;
    while let Some(bytes) = to_server.take() {
        messages += 1;
        assert!(messages < 20, "the session goes round in circles");
        // Over HTTP: a new server session for every request.
        let mut session = ServerSession::new(limits);
        let mut outputs: VecDeque<ServerOutput> = session.receive(&bytes).into();
        let mut reply = None;
        while let Some(output) = outputs.pop_front() {
            match output {
                ServerOutput::Send(message) => reply = Some(message.encode()),
                ServerOutput::Need(need) => {
                    for input in server.answer(need) {
                        outputs.extend(session.handle(input));
                    }
                }
            }
        }
        let mut outputs: VecDeque<ClientOutput> = client.receive(&reply.expect("an answer")).into();
        while let Some(output) = outputs.pop_front() {
            match output {
                ClientOutput::Send(message) => to_server = Some(message.encode()),
                ClientOutput::Load(ids) => {
                    for doc_id in ids {
                        let local = Some(LocalDoc {
                            doc: device_doc.clone(),
                            sync_state: Some(sync_state.clone()),
                        });
                        outputs.extend(client.handle(ClientInput::Loaded { doc_id, local }));
                    }
                }
                ClientOutput::Store {
                    update: Some(DocUpdate::Merge(bytes)),
                    ..
                } => {
                    device_doc.load_incremental(&bytes).expect("merges");
                }
                ClientOutput::Finished(_) => finished = true,
                ClientOutput::Failed(failure) => panic!("the session failed: {failure:?}"),
                _ => {}
            }
        }
    }
    assert!(finished, "the session completes");
    let stored = &server.docs[&case];
    assert!(
        stored.get_change_by_hash(&hidden).is_some(),
        "the hidden change arrived"
    );
    assert!(
        stored.get_change_by_hash(&child).is_some(),
        "its child arrived"
    );
    assert_eq!(stored.get_heads(), device_doc.get_heads());
}

/// Before the fix, the client told its caller to forget the cases in `welcome.gone` in the order
/// of a hash set, which differs from run to run: the same inputs gave different outputs, and a
/// simulation could not replay from its seed.
#[test]
fn gone_cases_are_forgotten_in_the_order_the_server_lists_them() {
    let gone: Vec<CaseId> = [9u8, 3, 7, 1, 8, 2, 3]
        .iter()
        .map(|b| CaseId::from_bytes([*b; 16]))
        .collect();
    let (mut client, _hello) = ClientSession::new(
        ClientStart {
            cursor: Some(Cursor::from_feed_seq(4)),
            pending: Vec::new(),
            agent: "regression".into(),
        },
        Limits::DEFAULT,
    );
    let outputs = client.handle(ClientInput::Message(ServerMessage::Welcome(Welcome {
        cursor: Cursor::from_feed_seq(9),
        fresh: false,
        changed: Vec::new(),
        gone: gone.clone(),
        limits: Limits::DEFAULT,
    })));
    let forgotten: Vec<CaseId> = outputs
        .iter()
        .filter_map(|o| match o {
            ClientOutput::Forget {
                doc_id,
                reason: ForgetReason::Gone,
            } => Some(*doc_id),
            _ => None,
        })
        .collect();
    let mut expected = gone;
    expected.truncate(6); // the repeated case once
    assert_eq!(forgotten, expected);
}

/// A mediation case with what reconsideration needs, registered, with a handoff to the justice
/// bureau pending.
fn case_with_pending_handoff(server: &mut support::Server) -> support::Device {
    let mut m = support::Device::new(fixtures::user(Role::Mediator, TOWN_A), "tablet-1", 1);
    m.open_case(CaseKind::Dispute, "张某与县自然资源局行政处罚争议");
    m.edit(|c| {
        c.parties.push(Party {
            id: "p1".into(),
            role: Some(PartyRole::Applicant),
            name: "张三".into(),
            ..Party::default()
        });
        c.mediation.result = Some(MediationResult::Failed);
        c.mediation.routes_told = Text::with_value("已告知可申请行政复议");
        c.reconsideration.respondent_agency = "青山县自然资源局".into();
        c.reconsideration.act.name = "行政处罚决定".into();
        c.reconsideration.act.known_on = Some("2026-02-20".parse().unwrap());
        c.reconsideration.request = Text::with_value("撤销处罚");
        c.handoffs.push(HandoffRequest {
            id: "h1".into(),
            to_track: Some(Track::Reconsideration),
            to_unit: JUSTICE.into(),
            custody_version: 0,
            reason: "调解不成".into(),
            status: Some(HandoffStatus::Requested),
            ..HandoffRequest::default()
        });
    });
    m.sync(server, "case-1");
    assert_eq!(
        server.case("case-1").handoffs[0].status,
        Some(HandoffStatus::Pending)
    );
    m
}

fn decide(d: &mut support::Device, verdict: HandoffVerdict) -> ChangeHash {
    let by = d.principal.user.id.as_str().to_string();
    d.edit(|c| {
        let h = c.handoffs.iter_mut().find(|h| h.id == "h1").unwrap();
        h.decision.verdict = Some(verdict);
        h.decision.by = by;
    });
    d.doc.get_last_local_change().unwrap().hash()
}

/// Checks that what the server accepted from `d` reported its one reverted change on the handoffs,
/// and that the review item records it.
fn reported(server: &support::Server, d: &support::Device, change: ChangeHash, kind: ReviewKind) {
    let compensations: Vec<_> = d
        .accepted()
        .iter()
        .flat_map(|a| a.compensations.clone())
        .collect();
    assert_eq!(compensations.len(), 1, "{compensations:#?}");
    let c = &compensations[0];
    assert_eq!(c.section, Section::Handoffs);
    assert_eq!(c.author, d.principal.user.id);
    assert_eq!(c.changes, vec![change.to_string()]);
    let case = server.case("case-1");
    let item = case
        .review
        .iter()
        .find(|r| r.id == c.review_item)
        .expect("the review item is in the case");
    assert_eq!(item.kind, Some(kind));
    assert_eq!(item.author, c.author.as_str());
    assert_eq!(item.change_hashes, c.changes);
    assert_eq!(c.to_protocol().reverted, vec![change]);
}

/// Before the fix, arbitration put back a decision made by someone who may not decide (here the
/// requesting mediator) with a `reverted_edit` review item, but ingest reported no compensation:
/// the author was never told its change was reverted (DESIGN §5.2).
#[test]
fn an_unauthorised_handoff_decision_is_reported_to_its_author() {
    let mut server = support::Server::new();
    let mut m = case_with_pending_handoff(&mut server);
    let change = decide(&mut m, HandoffVerdict::Accept);
    m.sync(&mut server, "case-1");
    let case = server.case("case-1");
    assert_eq!(case.handoffs[0].status, Some(HandoffStatus::Pending));
    assert_eq!(
        case.handoffs[0].decision.verdict, None,
        "the decision was put back"
    );
    reported(&server, &m, change, ReviewKind::RevertedEdit);
}

/// Before the fix, a decision that reached the server after the handoff was already decided was
/// put back with a `late_decision` review item and no compensation: the officer whose answer was
/// dropped was never told (DESIGN §6.3: "a later contrary one is compensated and reviewed").
#[test]
fn a_late_handoff_decision_is_reported_to_its_author() {
    let mut server = support::Server::new();
    let _m = case_with_pending_handoff(&mut server);
    let officer = fixtures::user(Role::ReconsiderationOfficer, JUSTICE);
    let mut first = support::Device::new(officer.clone(), "pc-1", 101);
    let mut second = support::Device::new(officer, "pc-2", 102);
    first.sync(&mut server, "case-1");
    second.sync(&mut server, "case-1");
    decide(&mut first, HandoffVerdict::Accept);
    let late = decide(&mut second, HandoffVerdict::Reject);
    first.sync(&mut server, "case-1");
    second.sync(&mut server, "case-1");
    let case = server.case("case-1");
    assert_eq!(case.handoffs[0].status, Some(HandoffStatus::Accepted));
    assert_eq!(case.custody.unit, JUSTICE);
    reported(&server, &second, late, ReviewKind::LateDecision);
}
