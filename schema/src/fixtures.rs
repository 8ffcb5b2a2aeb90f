//! A small county for tests and examples across the workspace: 青山县 with two townships, the three
//! county bodies, and a neighbouring county. Ids are stable so that tests can name them.

use autosurgeon::Text;

use crate::document::*;
use crate::time::{Instant, LegalDate};
use crate::vocab::*;
use crate::ids::UnitId;
use crate::units::{Unit, UnitTree, User};

pub const COUNTY: &str = "qingshan";
pub const TOWN_A: &str = "qingshan.dongxi";
pub const TOWN_B: &str = "qingshan.nanhe";
pub const PETITION: &str = "qingshan.petition";
pub const JUSTICE: &str = "qingshan.justice";
pub const LEGAL: &str = "qingshan.legal";
pub const OTHER_COUNTY_JUSTICE: &str = "baishui.justice";

/// The unit tree of 青山县 (and 白水县 next door).
pub fn county() -> UnitTree {
    let unit = |id: &str, name: &str, kind, parent: Option<&str>| Unit {
        id: id.into(),
        name: name.into(),
        kind,
        parent: parent.map(UnitId::from),
    };
    UnitTree::new([
        unit(COUNTY, "青山县", UnitKind::County, None),
        unit(TOWN_A, "东溪镇", UnitKind::Township, Some(COUNTY)),
        unit(TOWN_B, "南河街道", UnitKind::Subdistrict, Some(COUNTY)),
        unit(PETITION, "县信访局", UnitKind::PetitionBureau, Some(COUNTY)),
        unit(JUSTICE, "县司法局", UnitKind::JusticeBureau, Some(COUNTY)),
        unit(LEGAL, "县政府法制办", UnitKind::LegalOffice, Some(COUNTY)),
        unit("baishui", "白水县", UnitKind::County, None),
        unit(OTHER_COUNTY_JUSTICE, "白水县司法局", UnitKind::JusticeBureau, Some("baishui")),
    ])
    .expect("the fixture county is a tree")
}

/// A user with one role, named `role@unit`.
pub fn user(role: Role, unit: &str) -> User {
    User::new(&format!("{}@{unit}", role.code()), unit, &[role])
}

/// The unit that holds custody of a case in `track` in the fixture county.
pub fn custodian_unit(track: Track) -> &'static str {
    match track {
        Track::Mediation => TOWN_A,
        Track::Petition => PETITION,
        Track::Reconsideration => JUSTICE,
        Track::Litigation => LEGAL,
    }
}

/// A registered case in custody of `track`. Cases past mediation came from 东溪镇's mediation.
pub fn case_in(track: Track) -> Case {
    let mut case = Case::default();
    case.meta.kind = Some(if track == Track::Petition { CaseKind::Petition } else { CaseKind::Dispute });
    case.meta.opened_by_unit = if track == Track::Petition { PETITION.into() } else { TOWN_A.into() };
    case.meta.township = TOWN_A.into();
    case.custody.track = Some(track);
    case.custody.unit = custodian_unit(track).into();
    if matches!(track, Track::Reconsideration | Track::Litigation) {
        case.custody.version = 1;
        case.custody.history.push(CustodyEpoch {
            track: Some(Track::Mediation),
            unit: TOWN_A.into(),
            handoff_id: "h0".into(),
            ..CustodyEpoch::default()
        });
    }
    case
}

fn d(s: &str) -> Option<LegalDate> {
    Some(s.parse().unwrap())
}

fn t(s: &str) -> Option<Instant> {
    Some(s.parse().unwrap())
}

/// A case with every section and (nearly) every field filled, with Chinese text throughout.
pub fn full_case() -> Case {
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
