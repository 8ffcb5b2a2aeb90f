//! Round trips of the case document: every section survives reconcile → save → load → hydrate,
//! and concurrent edits from two forks to the same Text and to the list of parties both survive.

use automerge::{ActorId, AutoCommit};
use autosurgeon::{hydrate, reconcile, Text};
use fengqiao_schema::document::*;
use fengqiao_schema::time::{Instant, LegalDate};
use fengqiao_schema::upgrade::{self, Intake, Upgrade};
use fengqiao_schema::vocab::*;

fn d(s: &str) -> Option<LegalDate> {
    Some(s.parse().unwrap())
}

fn t(s: &str) -> Option<Instant> {
    Some(s.parse().unwrap())
}

/// A case with every section and (nearly) every field filled, with Chinese text throughout.
fn full_case() -> Case {
    Case {
        meta: Meta {
            schema_version: SCHEMA_VERSION,
            case_number: Some("（2026）青山镇调字第12号".into()),
            created_at: t("2026-03-01T01:02:03Z"),
            registered_at: t("2026-03-02T08:00:00Z"),
            kind: Some(CaseKind::Dispute),
            opened_by_unit: "qingshan.town".into(),
            opened_by_user: "wang.mediator".into(),
            township: "qingshan.town".into(),
            village: "东村".into(),
            dispute_type: Some(DisputeType::HousingHomestead),
            title: "张某与李某宅基地纠纷".into(),
            handlers: vec!["wang.mediator".into(), "li.mediator".into()],
        },
        parties: vec![
            Party {
                id: "p1".into(),
                role: Some(PartyRole::Applicant),
                kind: Some(PartyKind::Person),
                name: "张三".into(),
                id_number: "110101199001011234".into(),
                phone: "13800000000".into(),
                address: "青山镇东村3组".into(),
                represents: None,
            },
            Party {
                id: "p2".into(),
                role: Some(PartyRole::Agent),
                kind: Some(PartyKind::Person),
                name: "律师甲".into(),
                represents: Some("p1".into()),
                ..Party::default()
            },
        ],
        claims: Claims { claims: Text::with_value("要求停止侵占宅基地"), facts: Text::with_value("2025年起李某扩建围墙") },
        mediation: Mediation {
            committee: "青山镇人民调解委员会".into(),
            source: Some(MediationSource::Application),
            mediators: vec!["wang.mediator".into()],
            accepted_on: d("2026-03-02"),
            labour_dispute: false,
            issues: Text::with_value("界址争议"),
            sessions: vec![MediationSession {
                id: "s1".into(),
                held_at: t("2026-03-05T02:00:00Z"),
                place: "村委会".into(),
                mediators: vec!["wang.mediator".into()],
                notes: Text::with_value("双方陈述，初步同意重新测量"),
            }],
            result: Some(MediationResult::Success),
            result_on: d("2026-03-10"),
            routes_told: Text::with_value(""),
            agreement: Agreement {
                terms: Text::with_value("李某于三十日内拆除越界围墙"),
                signed_on: d("2026-03-10"),
                effective_on: d("2026-03-10"),
                oral: false,
                amount_fen: Some(1_234_500),
            },
            follow_up: FollowUp {
                visited_on: d("2026-04-10"),
                performance: Some(Performance::Performed),
                notes: Text::with_value("已拆除"),
            },
            judicial_confirmation: JudicialConfirmation {
                applied_on: d("2026-03-20"),
                court: "青山县人民法院".into(),
                result: Some(JudicialConfirmationResult::Valid),
                decided_on: d("2026-03-25"),
            },
        },
        petition: Petition {
            channel: Some(Channel::Visit),
            group_size: Some(7),
            representatives: vec!["代表甲".into(), "代表乙".into()],
            category: Some(PetitionCategory::Grievance),
            route: Some(PetitionRoute::PetitionHandling),
            received_on: d("2026-01-05"),
            registered_on: d("2026-01-05"),
            transferred_on: d("2026-01-06"),
            intake: Some(PetitionIntake::Accepted),
            intake_notified_on: d("2026-01-10"),
            accepted_on: d("2026-01-10"),
            extension: Extension {
                days: Some(30),
                approved_on: d("2026-03-01"),
                reason: "情况复杂".into(),
                notified_on: d("2026-03-02"),
            },
            reply: PetitionReply {
                request: Text::with_value("请求解决"),
                facts_and_reasons: Text::with_value("经查"),
                decision: Text::with_value("支持"),
                legal_basis: Text::with_value("《信访工作条例》第三十二条"),
                result: Some(PetitionResult::Support),
                issued_on: d("2026-04-01"),
                received_on: d("2026-04-03"),
            },
            review: PetitionReview {
                requested_on: d("2026-04-20"),
                organ: "青山县人民政府".into(),
                result: Some(PetitionReviewResult::Upheld),
                decided_on: d("2026-05-15"),
                received_on: d("2026-05-16"),
            },
            re_review: PetitionReview::default(),
            satisfaction: Some(Satisfaction::BasicallySatisfied),
        },
        reconsideration: Reconsideration {
            applicant: "p1".into(),
            respondent_agency: "青山县自然资源局".into(),
            subject: Some(ReconsiderationSubject::AdministrativePenalty),
            act: AdministrativeAct {
                name: "行政处罚决定书".into(),
                number: "青自然资罚〔2026〕3号".into(),
                made_on: d("2026-02-01"),
                known_on: d("2026-02-03"),
                right_notified: Some(false),
                right_learned_on: d("2026-03-01"),
                real_property: true,
            },
            request: Text::with_value("撤销处罚决定"),
            received_on: d("2026-03-20"),
            correction: CorrectionRequest { notified_on: d("2026-03-23"), received_on: d("2026-03-24"), supplied_on: d("2026-03-30") },
            intake: Some(ReconsiderationIntake::Accepted),
            intake_decided_on: d("2026-03-31"),
            accepted_on: d("2026-03-31"),
            procedure: Some(Procedure::Ordinary),
            sent_to_respondent_on: d("2026-04-02"),
            answer_received_on: d("2026-04-10"),
            hearing: Hearing { held_on: d("2026-04-20"), place: "复议听证室".into(), notes: Text::with_value("听证笔录") },
            suspensions: vec![Suspension { id: "z1".into(), from: d("2026-04-21"), to: d("2026-05-01"), reason: "等待鉴定".into() }],
            extension: Extension { days: Some(30), approved_on: d("2026-05-20"), reason: "案情复杂".into(), notified_on: d("2026-05-21") },
            decision: ReconsiderationOutcome {
                kind: Some(ReconsiderationDecision::Revoked),
                decided_on: d("2026-06-30"),
                served_on: d("2026-07-02"),
                number: "青复决〔2026〕9号".into(),
            },
        },
        litigation: Litigation {
            court: "青山县人民法院".into(),
            court_case_number: "（2026）青0101行初5号".into(),
            instance: Some(Instance::First),
            procedure: Some(Procedure::Simplified),
            plaintiff: "p1".into(),
            defendants: vec!["青山县自然资源局".into(), "青山县人民政府".into()],
            act_name: "行政处罚决定书".into(),
            reconsideration_upheld: Some(true),
            claims: Text::with_value("请求撤销"),
            registered_on: d("2026-07-10"),
            complaint_received_on: d("2026-07-13"),
            defence_filed_on: d("2026-07-25"),
            hearings: vec![CourtHearing {
                id: "h1".into(),
                held_on: d("2026-08-20"),
                head_appeared: true,
                head_name: "赵局长".into(),
                head_title: "局长".into(),
                head_rank: Some(HeadRank::Chief),
                head_spoke: true,
                delegated_staff: vec!["工作人员甲".into()],
                lawyer_only: false,
            }],
            judgment: Judgment { outcome: Some(LitigationOutcome::ClaimRejected), judged_on: d("2026-09-01"), served_on: d("2026-09-03") },
            appeal: Appeal { filed_on: d("2026-09-10"), by: "p1".into() },
            recommendations: Text::with_value("规范执法程序"),
            performance: Some(Performance::Performed),
        },
        handoffs: vec![HandoffRequest {
            id: "h-1".into(),
            from_track: Some(Track::Mediation),
            from_unit: "qingshan.town".into(),
            to_track: Some(Track::Reconsideration),
            to_unit: "qingshan.justice".into(),
            reason: "调解不成，申请复议".into(),
            custody_version: 1,
            requested_by: "wang.mediator".into(),
            requested_at: t("2026-03-15T02:00:00Z"),
            status: Some(HandoffStatus::Accepted),
            status_reason: String::new(),
            status_at: t("2026-03-16T02:00:00Z"),
            decision: HandoffDecision {
                verdict: Some(HandoffVerdict::Accept),
                by: "zhao.reconsideration".into(),
                at: t("2026-03-16T01:00:00Z"),
                note: "接收".into(),
            },
            withdrawal: HandoffWithdrawal::default(),
        }],
        custody: Custody {
            track: Some(Track::Reconsideration),
            unit: "qingshan.justice".into(),
            assignee: Some("zhao.reconsideration".into()),
            since: t("2026-03-16T02:00:00Z"),
            version: 2,
            history: vec![CustodyEpoch {
                track: Some(Track::Mediation),
                unit: "qingshan.town".into(),
                since: t("2026-03-02T08:00:00Z"),
                until: t("2026-03-16T02:00:00Z"),
                handoff_id: "h-1".into(),
            }],
        },
        review: vec![ReviewItem {
            id: "r1".into(),
            kind: Some(ReviewKind::RevertedEdit),
            section: Some(Section::Parties),
            path: "parties".into(),
            author: "wang.mediator".into(),
            device: "tablet-7".into(),
            change_hashes: vec!["ab".repeat(32)],
            values: vec![],
            summary: "移交后修改当事人电话，已撤回".into(),
            units: vec!["qingshan.town".into(), "qingshan.justice".into()],
            created_at: t("2026-03-17T00:00:00Z"),
            done: true,
            done_by: "zhao.reconsideration".into(),
            done_at: t("2026-03-18T00:00:00Z"),
        }],
        attachments: vec![Attachment {
            id: "a1".into(),
            name: "调解协议书.pdf".into(),
            media_type: "application/pdf".into(),
            size: 12345,
            sha256: "0f".repeat(32),
            document_type: "调解协议书".into(),
            number: "青调协〔2026〕12号".into(),
            issued_on: d("2026-03-10"),
            served_on: d("2026-03-11"),
        }],
    }
}

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
