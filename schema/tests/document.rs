//! Round trips of the case document: every section survives reconcile → save → load → hydrate,
//! and concurrent edits from two forks to the same Text and to the list of parties both survive.

use automerge::{ActorId, AutoCommit};
use autosurgeon::{hydrate, reconcile, Text};
use fengqiao_schema::document::*;
use fengqiao_schema::fixtures::full_case;
use fengqiao_schema::upgrade::{self, Intake, Upgrade};
use fengqiao_schema::vocab::*;

fn actor(n: u8) -> ActorId {
    ActorId::from([n; 16])
}

fn save_and_load(doc: &mut AutoCommit) -> AutoCommit {
    AutoCommit::load(&doc.save()).expect("a saved case loads")
}

#[test]
fn every_section_survives_reconcile_save_load_hydrate() {
    let case = full_case();
    let mut doc = AutoCommit::new().with_actor(actor(1));
    reconcile(&mut doc, &case).unwrap();
    let loaded = save_and_load(&mut doc);
    let back: Case = hydrate(&loaded).unwrap();
    assert_eq!(back, case);
    // Each section on its own, so that a failure names the section.
    assert_eq!(back.meta, case.meta);
    assert_eq!(back.parties, case.parties);
    assert_eq!(back.mediation, case.mediation);
    assert_eq!(back.petition, case.petition);
    assert_eq!(back.reconsideration, case.reconsideration);
    assert_eq!(back.litigation, case.litigation);
    assert_eq!(back.handoffs, case.handoffs);
    assert_eq!(back.custody, case.custody);
    assert_eq!(back.review, case.review);
    assert_eq!(back.attachments, case.attachments);
}

#[test]
fn an_empty_document_hydrates_to_the_default_case() {
    let doc = AutoCommit::new();
    let case: Case = hydrate(&doc).unwrap();
    assert_eq!(case, Case::default());
}

#[test]
fn codes_not_labels_are_stored() {
    let mut doc = AutoCommit::new();
    reconcile(&mut doc, full_case()).unwrap();
    let json = serde_json::to_string(&automerge::AutoSerde::from(&doc)).unwrap();
    assert!(json.contains(r#""dispute_type":"housing_homestead""#), "{json}");
    assert!(json.contains(r#""effective_on":"2026-03-10""#));
    assert!(json.contains(r#""created_at":"2026-03-01T01:02:03Z""#));
    assert!(!json.contains("房屋宅基地"), "labels stay out of documents");
}

#[test]
fn concurrent_edits_to_the_same_text_and_to_parties_merge() {
    let mut base = AutoCommit::new().with_actor(actor(1));
    let mut case = full_case();
    case.parties.truncate(1);
    reconcile(&mut base, &case).unwrap();
    base.commit();

    let mut a = base.fork().with_actor(actor(2));
    let mut b = base.fork().with_actor(actor(3));

    // Device A prepends to the agreement terms and adds a respondent.
    let mut ca: Case = hydrate(&a).unwrap();
    ca.mediation.agreement.terms.splice(0, 0, "经调解，");
    ca.parties.push(Party { id: "pa".into(), role: Some(PartyRole::Respondent), name: "李四".into(), ..Party::default() });
    reconcile(&mut a, &ca).unwrap();
    a.commit();

    // Device B appends to the same terms, removes nothing, and adds a third party.
    let mut cb: Case = hydrate(&b).unwrap();
    let end = cb.mediation.agreement.terms.as_str().len();
    cb.mediation.agreement.terms.splice(end, 0, "，费用由李某承担。");
    cb.parties.push(Party { id: "pb".into(), role: Some(PartyRole::ThirdParty), name: "王五".into(), ..Party::default() });
    reconcile(&mut b, &cb).unwrap();
    b.commit();

    a.merge(&mut b).unwrap();
    b.merge(&mut a).unwrap();
    assert_eq!(a.get_heads(), b.get_heads());

    for doc in [&mut a, &mut b] {
        let merged: Case = hydrate(&save_and_load(doc)).unwrap();
        assert_eq!(merged.mediation.agreement.terms.as_str(), "经调解，李某于三十日内拆除越界围墙，费用由李某承担。");
        let mut ids: Vec<&str> = merged.parties.iter().map(|p| p.id.as_str()).collect();
        ids.sort();
        assert_eq!(ids, ["p1", "pa", "pb"]);
    }
}

#[test]
fn concurrent_delete_and_insert_in_parties_keep_the_right_items() {
    let mut base = AutoCommit::new().with_actor(actor(1));
    reconcile(&mut base, full_case()).unwrap();
    let mut a = base.fork().with_actor(actor(2));
    let mut b = base.fork().with_actor(actor(3));

    let mut ca: Case = hydrate(&a).unwrap();
    ca.parties.remove(0);
    reconcile(&mut a, &ca).unwrap();

    let mut cb: Case = hydrate(&b).unwrap();
    cb.parties.insert(0, Party { id: "new".into(), name: "赵六".into(), ..Party::default() });
    cb.parties[1].phone = "13900000000".into();
    reconcile(&mut b, &cb).unwrap();

    a.merge(&mut b).unwrap();
    let merged: Case = hydrate(&a).unwrap();
    let ids: Vec<&str> = merged.parties.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["new", "p2"], "the deleted party stays deleted, the new one is kept, nothing shifts");
}

#[test]
fn new_case_documents_have_every_section_and_the_current_version() {
    let intake = Intake {
        kind: CaseKind::Dispute,
        unit: "qingshan.town".into(),
        user: "wang.mediator".into(),
        township: "qingshan.town".into(),
        title: "邻里纠纷".into(),
        created_at: "2026-03-01T00:00:00Z".parse().unwrap(),
    };
    let mut doc = upgrade::new_case_document(actor(9), &intake).unwrap();
    for section in Section::ALL {
        assert!(automerge::ReadDoc::get(&doc, automerge::ROOT, section.code()).unwrap().is_some(), "{section} exists");
    }
    assert_eq!(upgrade::schema_version(&doc), Some(SCHEMA_VERSION));
    assert_eq!(upgrade::upgrade(&mut doc).unwrap(), Upgrade::Current);
    let case: Case = hydrate(&doc).unwrap();
    assert_eq!(case.meta.kind, Some(CaseKind::Dispute));
    assert_eq!(case.meta.title, "邻里纠纷");
}

#[test]
fn old_documents_are_upgraded_and_newer_ones_refused() {
    use automerge::transaction::Transactable;
    // A version-0 document with only `meta`.
    let mut old = AutoCommit::new().with_actor(actor(4));
    let meta = old.put_object(automerge::ROOT, "meta", automerge::ObjType::Map).unwrap();
    old.put(&meta, "schema_version", 0_u64).unwrap();
    old.commit();
    assert_eq!(upgrade::upgrade(&mut old).unwrap(), Upgrade::Upgraded { from: 0, to: SCHEMA_VERSION });
    assert_eq!(upgrade::schema_version(&old), Some(SCHEMA_VERSION));
    let case: Case = hydrate(&old).unwrap();
    assert_eq!(case.meta.schema_version, SCHEMA_VERSION);
    assert!(automerge::ReadDoc::get(&old, automerge::ROOT, "handoffs").unwrap().is_some());

    let mut newer = AutoCommit::new();
    let meta = newer.put_object(automerge::ROOT, "meta", automerge::ObjType::Map).unwrap();
    newer.put(&meta, "schema_version", SCHEMA_VERSION + 1).unwrap();
    let err = upgrade::upgrade(&mut newer).unwrap_err();
    assert!(err.to_string().contains("只能查看"), "{err}");

    let not_a_case = AutoCommit::new();
    assert!(matches!(upgrade::check_writable(&not_a_case), Err(upgrade::UpgradeError::NotACase)));
}

#[test]
fn chinese_text_splices_by_utf8_offsets_survive_a_reload() {
    let mut doc = AutoCommit::new().with_actor(actor(5));
    let mut case = Case::default();
    case.claims.claims = Text::with_value("甲乙丙");
    reconcile(&mut doc, &case).unwrap();
    let mut loaded = save_and_load(&mut doc).with_actor(actor(6));
    let mut c: Case = hydrate(&loaded).unwrap();
    c.claims.claims.splice(3, 3, "丁"); // replaces 乙 (3 bytes at byte offset 3)
    reconcile(&mut loaded, &c).unwrap();
    let again: Case = hydrate(&save_and_load(&mut loaded)).unwrap();
    assert_eq!(again.claims.claims.as_str(), "甲丁丙");
}
