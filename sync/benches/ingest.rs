//! Cost of ingest: one small change from the custodian's tablet into a 50 KB case document,
//! authorisation included, against plain automerge receiving the same sync message (and applying
//! the same change). The target is at most 3× plain.

use std::collections::HashMap;

use automerge::sync::{self, SyncDoc};
use automerge::{ActorId, AutoCommit, Automerge, Change};
use autosurgeon::hydrate;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use fengqiao_schema::document::Case;
use fengqiao_schema::fixtures::{self, TOWN_A};
use fengqiao_schema::ids::DeviceId;
use fengqiao_schema::upgrade::{new_case_document, Intake};
use fengqiao_schema::vocab::{CaseKind, MediationResult, PartyRole, Role};
use fengqiao_sync::ingest::{ingest, ingest_new, ActorOwner, IngestContext, IngestLimits, Principal};

struct Setup {
    server: Automerge,
    units: fengqiao_schema::units::UnitTree,
    principal: Principal,
    actors: HashMap<ActorId, ActorOwner>,
    server_actor: ActorId,
    /// The sync message carrying the small change, and the change itself.
    message: Vec<u8>,
    change: Change,
}

/// Builds a registered case of about 50 KB written by three tablets in many small edits, then one
/// small edit (a mediation session's notes get one more sentence) ready to send.
fn setup() -> Setup {
    let units = fixtures::county();
    let server_actor = ActorId::from([0xee; 16]);
    let principal = Principal { user: fixtures::user(Role::Mediator, TOWN_A), device: DeviceId::new("tablet-1") };
    let actors_ids: Vec<ActorId> = (1..=3u8).map(|i| ActorId::from([i; 16])).collect();
    let mut actors = HashMap::new();
    actors.insert(server_actor.clone(), ActorOwner::Server);
    for a in &actors_ids {
        actors.insert(a.clone(), ActorOwner::Device { user: principal.user.clone(), device: principal.device.clone() });
    }
    let intake = Intake {
        kind: CaseKind::Dispute,
        unit: TOWN_A.into(),
        user: principal.user.id.as_str().into(),
        township: TOWN_A.into(),
        title: "张某与李某宅基地纠纷".into(),
        created_at: "2026-03-01T01:00:00Z".parse().unwrap(),
    };
    let mut device = new_case_document(actors_ids[0].clone(), &intake).unwrap();
    let ctx = IngestContext {
        principal: &principal,
        units: &units,
        actors: &actors,
        server_actor: &server_actor,
        now: "2026-03-02T02:00:00Z".parse().unwrap(),
        limits: IngestLimits::default(),
    };
    // Register through ingest, as a tablet would.
    let mut state = sync::State::new();
    let mut device_state = sync::State::new();
    let mut waiting = Automerge::new();
    let mut server = Automerge::new();
    for _ in 0..6 {
        let outgoing = device.sync().generate_sync_message(&mut device_state);
        if let Some(m) = outgoing {
            let bytes = m.encode();
            let (doc, acc) = ingest_new(&bytes, &ctx, &mut |_| "（2026）东溪调字第1号".into()).unwrap();
            if acc.registration.is_some() {
                server = doc;
                break;
            }
            waiting.receive_sync_message(&mut state, sync::Message::decode(&bytes).unwrap()).unwrap();
            if let Some(r) = waiting.generate_sync_message(&mut state) {
                device.sync().receive_sync_message(&mut device_state, r).unwrap();
            }
        }
    }
    assert!(!server.get_heads().is_empty(), "the case registered");
    device.merge(&mut AutoCommit::load(&server.save()).unwrap()).unwrap();

    // Grow it to ~50 KB in small edits from three tablets (written with automerge directly: the
    // shape is the schema's, and hydrating the whole case for each of thousands of edits would
    // make the setup quadratic).
    use automerge::transaction::Transactable;
    use automerge::{ObjType, ReadDoc, ROOT};
    let obj = |d: &AutoCommit, section: &str| d.get(ROOT, section).unwrap().unwrap().1;
    let parties = obj(&device, "parties");
    let mediation = obj(&device, "mediation");
    let sessions = device.get(&mediation, "sessions").unwrap().unwrap().1;
    let facts = device.get(obj(&device, "claims"), "facts").unwrap().unwrap().1;
    let mut i = 0usize;
    while device.save().len() < 50_000 {
        device.set_actor(actors_ids[i % 3].clone());
        match i % 4 {
            0 => {
                let p = device.insert_object(&parties, device.length(&parties), ObjType::Map).unwrap();
                device.put(&p, "id", format!("p{i}")).unwrap();
                device.put(&p, "role", PartyRole::Applicant.code()).unwrap();
                device.put(&p, "name", format!("当事人{i}")).unwrap();
                device.put(&p, "phone", format!("138{i:08}")).unwrap();
                device.put(&p, "address", "东溪镇东村").unwrap();
            }
            1 => {
                let sess = device.insert_object(&sessions, device.length(&sessions), ObjType::Map).unwrap();
                device.put(&sess, "id", format!("s{i}")).unwrap();
                device.put(&sess, "place", "村委会").unwrap();
                let notes = device.put_object(&sess, "notes", ObjType::Text).unwrap();
                device.splice_text(&notes, 0, 0, "双方陈述意见，调解员释法说理。").unwrap();
            }
            2 => {
                let n = device.text(&facts).unwrap().len();
                device.splice_text(&facts, n, 0, "补充事实：双方曾签订协议。").unwrap();
            }
            _ => {
                let result = if i % 8 == 3 { MediationResult::Failed } else { MediationResult::Success };
                device.put(&mediation, "result", result.code()).unwrap();
            }
        }
        device.commit();
        i += 1;
    }
    let _: Case = hydrate(&device).expect("the grown case is well-formed");
    server.merge(&mut device.document().clone()).unwrap();

    // The small change to measure, and the sync message that carries it once both sides know
    // each other's heads.
    device.set_actor(actors_ids[0].clone());
    let first_session = device.get(&sessions, 0).unwrap().unwrap().1;
    let notes = device.get(&first_session, "notes").unwrap().unwrap().1;
    let n = device.text(&notes).unwrap().len();
    device.splice_text(&notes, n, 0, "当事人同意再次协商。").unwrap();
    device.commit();
    let change = device.get_last_local_change().unwrap().clone();
    let mut ds = sync::State::new();
    let mut ss = sync::State::new();
    let mut probe = server.clone();
    let message = loop {
        let outgoing = device.sync().generate_sync_message(&mut ds);
        let m = outgoing.unwrap();
        if !m.changes.is_empty() {
            break m.encode();
        }
        probe.receive_sync_message(&mut ss, m).unwrap();
        if let Some(r) = probe.generate_sync_message(&mut ss) {
            device.sync().receive_sync_message(&mut ds, r).unwrap();
        }
    };
    eprintln!("document: {} bytes saved, {} changes; change: {} ops", server.save().len(), server.get_changes(&[]).len(), change.len());
    Setup { server, units, principal, actors, server_actor, message, change }
}

fn bench(c: &mut Criterion) {
    let s = setup();
    let mut group = c.benchmark_group("ingest one small change into a 50 KB case");
    group.bench_function("plain automerge: apply_changes", |b| {
        b.iter_batched(|| s.server.clone(), |mut doc| doc.apply_changes([s.change.clone()]).unwrap(), BatchSize::LargeInput)
    });
    group.bench_function("plain automerge: receive_sync_message", |b| {
        b.iter_batched(
            || (s.server.clone(), sync::State::new()),
            |(mut doc, mut state)| doc.receive_sync_message(&mut state, sync::Message::decode(&s.message).unwrap()).unwrap(),
            BatchSize::LargeInput,
        )
    });
    group.bench_function("fengqiao ingest (decode, authorise, apply, check)", |b| {
        let ctx = IngestContext {
            principal: &s.principal,
            units: &s.units,
            actors: &s.actors,
            server_actor: &s.server_actor,
            now: "2026-03-03T02:00:00Z".parse().unwrap(),
            limits: IngestLimits::default(),
        };
        b.iter_batched(
            || s.server.clone(),
            |mut doc| {
                let accepted = ingest(&mut doc, &s.message, &ctx).unwrap();
                assert!(accepted.compensations.is_empty() && accepted.server_change.is_none());
                accepted
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
