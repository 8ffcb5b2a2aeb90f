//! Ingest through its public interface: registration of cases opened on devices, compensation of
//! late edits, the hard rejects as a table of bad inputs, handoff arbitration as a table of
//! concurrent scenarios, and concurrent legal values.

mod support;

use automerge::sync::SyncDoc;
use automerge::ReadDoc;
use automerge::transaction::Transactable;
use autosurgeon::Text;
use expect_test::{expect, Expect};
use fengqiao_schema::document::{Case, HandoffRequest, Party};
use fengqiao_schema::fixtures::*;
use fengqiao_schema::vocab::*;
use support::{Device, Server};

const CASE: &str = "case-1";

fn mediator(n: u8) -> Device {
    Device::new(user(Role::Mediator, TOWN_A), &format!("tablet-{n}"), n)
}

/// A mediation case registered on the server, with what reconsideration needs.
fn registered_case(server: &mut Server) -> Device {
    let mut m = mediator(1);
    m.open_case(CaseKind::Dispute, "张某与县自然资源局行政处罚争议");
    m.edit(|c| {
        c.parties.push(Party { id: "p1".into(), role: Some(PartyRole::Applicant), name: "张三".into(), ..Party::default() });
        c.mediation.result = Some(MediationResult::Failed);
        c.mediation.routes_told = Text::with_value("已告知可申请行政复议");
        c.reconsideration.respondent_agency = "青山县自然资源局".into();
        c.reconsideration.act.name = "行政处罚决定".into();
        c.reconsideration.act.known_on = Some("2026-02-20".parse().unwrap());
        c.reconsideration.request = Text::with_value("撤销处罚");
    });
    m.sync(server, CASE);
    assert!(m.rejects().is_empty(), "{:?}", m.rejects());
    m
}

fn request(id: &str, to: Track, unit: &str, version: u64) -> HandoffRequest {
    HandoffRequest {
        id: id.into(),
        to_track: Some(to),
        to_unit: unit.into(),
        custody_version: version,
        reason: "调解不成".into(),
        status: Some(HandoffStatus::Requested),
        ..HandoffRequest::default()
    }
}

fn officer(n: u8) -> Device {
    Device::new(user(Role::ReconsiderationOfficer, JUSTICE), &format!("pc-{n}"), 100 + n)
}

fn decide(d: &mut Device, id: &str, verdict: HandoffVerdict) {
    d.edit(|c| {
        let h = c.handoffs.iter_mut().find(|h| h.id == id).unwrap();
        h.decision.verdict = Some(verdict);
        h.decision.by = d_name(verdict);
        h.decision.note = if verdict == HandoffVerdict::Reject { "材料不全".into() } else { String::new() };
    });
}

fn d_name(v: HandoffVerdict) -> String {
    format!("officer-{}", v.code())
}

fn handoff_summary(case: &Case) -> String {
    let mut lines: Vec<String> = case
        .handoffs
        .iter()
        .map(|h| format!("{} -> {}: {} {}", h.id, h.to_unit, h.status.map(|s| s.code()).unwrap_or("-"), h.status_reason))
        .collect();
    lines.push(format!("custody: {} {} v{}", case.custody.track.map(|t| t.code()).unwrap_or("-"), case.custody.unit, case.custody.version));
    for r in &case.review {
        lines.push(format!("review {}: {} [{}]", r.kind.map(|k| k.code()).unwrap_or("-"), r.summary, r.units.join(",")));
    }
    lines.join("\n")
}

#[test]
fn a_case_opened_offline_is_registered_when_it_first_arrives() {
    let mut server = Server::new();
    let mut m = registered_case(&mut server);
    let case = server.case(CASE);
    assert_eq!(case.meta.case_number.as_deref(), Some("（2026）东溪调字第1号"));
    assert_eq!(case.meta.registered_at, Some(server.now));
    assert_eq!(case.custody.unit, TOWN_A);
    assert_eq!(case.custody.track, Some(Track::Mediation));
    // The device learns its number and custody from the server.
    assert_eq!(m.case().meta.case_number, case.meta.case_number);
    assert_eq!(m.doc.get_heads(), server.docs[CASE].get_heads());
    let reg = m.accepted().iter().find_map(|a| a.registration.clone()).unwrap();
    assert_eq!(reg.custody.unit, TOWN_A);
}

#[test]
fn nobody_may_open_a_case_in_another_unit_or_of_another_kind() {
    let mut server = Server::new();
    let mut m = mediator(1);
    m.open_case(CaseKind::Petition, "信访");
    m.sync(&mut server, CASE);
    expect!["[MayNotOpen]"].assert_eq(&format!("{:?}", m.rejects()));
    assert!(server.docs.is_empty());

    let mut s = Device::new(user(Role::Supervisor, TOWN_A), "s", 9);
    s.open_case(CaseKind::Dispute, "纠纷");
    s.sync(&mut server, CASE);
    expect!["[MayNotOpen]"].assert_eq(&format!("{:?}", s.rejects()));
}

#[test]
fn a_late_edit_after_custody_moved_is_reverted_reviewed_and_kept_in_history() {
    let mut server = Server::new();
    let mut m = registered_case(&mut server);
    // The mediator asks for the handoff and the justice bureau accepts it.
    m.edit(|c| c.handoffs.push(request("h1", Track::Reconsideration, JUSTICE, 0)));
    m.sync(&mut server, CASE);
    let mut o = officer(1);
    o.sync(&mut server, CASE);
    decide(&mut o, "h1", HandoffVerdict::Accept);
    o.sync(&mut server, CASE);
    assert_eq!(server.case(CASE).custody.unit, JUSTICE);

    // Meanwhile, offline, the mediator corrects a party's phone and adds a follow-up note.
    m.edit(|c| {
        c.parties[0].phone = "13900000000".into();
        c.mediation.follow_up.notes = Text::with_value("已回访");
    });
    let late_change = m.doc.get_last_local_change().unwrap().hash();
    m.sync(&mut server, CASE);

    let case = server.case(CASE);
    assert_eq!(case.parties[0].phone, "", "the parties belong to the new custodian: reverted");
    assert_eq!(case.mediation.follow_up.notes.as_str(), "已回访", "the recording unit's own mediation record stays writable");
    let comp = m.accepted().iter().flat_map(|a| a.compensations.clone()).collect::<Vec<_>>();
    assert_eq!(comp.len(), 1, "{comp:#?}");
    assert_eq!(comp[0].section, Section::Parties);
    assert_eq!(comp[0].changes, vec![late_change.to_string()]);
    let review = case.review.iter().find(|r| r.id == comp[0].review_item).unwrap();
    assert_eq!(review.kind, Some(ReviewKind::RevertedEdit));
    assert_eq!(review.author, "mediator@qingshan.dongxi");
    assert_eq!(review.change_hashes, vec![late_change.to_string()]);
    assert_eq!(review.units, vec![JUSTICE.to_string(), TOWN_A.to_string()]);
    // Nothing is lost: the reverted value is in history, and the device converged.
    assert!(server.docs[CASE].get_change_by_hash(&late_change).is_some());
    assert_eq!(m.doc.get_heads(), server.docs[CASE].get_heads());
    assert_eq!(m.case().parties[0].phone, "");
}

/// Bad inputs, each refused with its reason, leaving the document byte for byte as it was.
#[test]
fn hard_rejects() {
    fn check(name: &str, make: impl FnOnce(&mut Server, &mut Device) -> (support::Device, Vec<u8>), expect: Expect) {
        let mut server = Server::new();
        let mut m = registered_case(&mut server);
        let before = server.saved(CASE);
        let (sender, bytes) = make(&mut server, &mut m);
        let out = server.receive(&sender.principal, CASE, &bytes);
        let shown = match &out {
            Err(reject) => format!("{name}: {} | {}", serde_json::to_value(reject).unwrap()["code"], reject),
            Ok(_) => format!("{name}: accepted"),
        };
        expect.assert_eq(&shown);
        assert_eq!(server.saved(CASE), before, "{name}: the document is unchanged");
    }
    /// The message a device sends once it knows what the server has: the one carrying changes.
    fn message(d: &mut Device, server: &Server) -> Vec<u8> {
        let mut server_copy = server.docs[CASE].clone();
        let (mut ds, mut ss) = (automerge::sync::State::new(), automerge::sync::State::new());
        for _ in 0..5 {
            let out = d.doc.sync().generate_sync_message(&mut ds).unwrap();
            if !out.changes.is_empty() {
                return out.encode();
            }
            server_copy.receive_sync_message(&mut ss, out).unwrap();
            if let Some(reply) = server_copy.generate_sync_message(&mut ss) {
                d.doc.sync().receive_sync_message(&mut ds, reply).unwrap();
            }
        }
        panic!("the device has nothing to send");
    }
    fn editor(m: &mut Device) -> Device {
        let mut d = mediator(1);
        d.doc = m.doc.fork().with_actor(automerge::ActorId::from([1; 16]));
        d
    }

    check(
        "truncated",
        |server, m| {
            let mut d = editor(m);
            d.edit(|c| c.meta.village = "东村".into());
            let mut bytes = message(&mut d, server);
            bytes.truncate(bytes.len() - 7);
            (d, bytes)
        },
        expect![[r#"truncated: "malformed" | 数据已损坏，无法读取（not enough input）"#]],
    );
    check("random bytes", |_, m| (editor(m), vec![0x42, 0x13, 0x99, 0, 1, 2, 3, 4, 5, 6, 7]), expect![[r#"random bytes: "malformed" | 数据已损坏，无法读取（not enough input）"#]]);
    check(
        "corrupted change",
        |server, m| {
            let mut d = editor(m);
            d.edit(|c| c.meta.village = "东村".into());
            let mut bytes = message(&mut d, server);
            // Flip a byte inside the change itself (after its magic bytes and checksum).
            let magic = bytes.windows(4).position(|w| w == [0x85, 0x6f, 0x4a, 0x83]).expect("the message carries a change");
            bytes[magic + 14] ^= 0xff;
            (d, bytes)
        },
        expect![[r#"corrupted change: "malformed" | 数据已损坏，无法读取（checksum mismatch）"#]],
    );
    check(
        "oversized",
        |server, m| {
            server.limits.max_message_bytes = 2_000;
            let mut d = editor(m);
            d.edit(|c| c.claims.claims = Text::with_value("长".repeat(2_000)));
            {
                let bytes = message(&mut d, server);
                (d, bytes)
            }
        },
        expect![[r#"oversized: "too_large" | 一次提交的数据过大（6262字节，上限2000字节），请分批同步"#]],
    );
    check(
        "too many operations",
        |server, m| {
            server.limits.max_ops_per_change = 50;
            let mut d = editor(m);
            d.edit(|c| c.claims.facts = Text::with_value("事".repeat(60)));
            {
                let bytes = message(&mut d, server);
                (d, bytes)
            }
        },
        expect![[r#"too many operations: "too_many_ops" | 一次修改包含的操作过多（61个，上限50个）"#]],
    );
    check(
        "spoofed actor",
        |server, m| {
            // Another user's device replays the first mediator's actor id.
            let mut d = Device::new(user(Role::Mediator, TOWN_A), "stolen", 1);
            d.doc = m.doc.fork().with_actor(automerge::ActorId::from([1; 16]));
            d.edit(|c| c.meta.village = "西村".into());
            let bytes = message(&mut d, server);
            (d, bytes)
        },
        expect![[r#"spoofed actor: "actor_bound_to_other" | 该设备的修改标识已被其他用户或设备使用，请重新登录后再同步"#]],
    );
    check(
        "server actor",
        |server, m| {
            let mut d = editor(m);
            d.doc = m.doc.fork().with_actor(automerge::ActorId::from([0xee; 16]));
            d.edit(|c| c.meta.village = "西村".into());
            {
                let bytes = message(&mut d, server);
                (d.clone_principal(), bytes)
            }
        },
        expect![[r#"server actor: "actor_bound_to_other" | 该设备的修改标识已被其他用户或设备使用，请重新登录后再同步"#]],
    );
    check(
        "write without access",
        |server, m| {
            let mut d = Device::new(user(Role::Supervisor, TOWN_A), "boss", 7);
            d.doc = m.doc.fork().with_actor(automerge::ActorId::from([7; 16]));
            d.edit(|c| c.meta.village = "西村".into());
            let bytes = message(&mut d, server);
            (d, bytes)
        },
        expect![[r#"write without access: "no_write_access" | 您没有修改该案件的权限"#]],
    );
    check(
        "outside jurisdiction",
        |server, m| {
            let mut d = Device::new(user(Role::Mediator, TOWN_B), "other", 8);
            d.doc = m.doc.fork().with_actor(automerge::ActorId::from([8; 16]));
            d.edit(|c| c.meta.village = "西村".into());
            let bytes = message(&mut d, server);
            (d, bytes)
        },
        expect![[r#"outside jurisdiction: "not_found" | 找不到该案件"#]],
    );
    check(
        "deletes a section",
        |server, m| {
            let mut d = editor(m);
            d.doc.delete(automerge::ROOT, "parties").unwrap();
            d.doc.commit();
            {
                let bytes = message(&mut d, server);
                (d.clone_principal(), bytes)
            }
        },
        expect![[r#"deletes a section: "replaces_section" | 不允许删除或整体替换案件的「当事人」部分"#]],
    );
    check(
        "replaces a section",
        |server, m| {
            let mut d = editor(m);
            d.doc.put_object(automerge::ROOT, "claims", automerge::ObjType::Map).unwrap();
            d.doc.commit();
            {
                let bytes = message(&mut d, server);
                (d.clone_principal(), bytes)
            }
        },
        expect![[r#"replaces a section: "replaces_section" | 不允许删除或整体替换案件的「诉求与事实」部分"#]],
    );
    check(
        "unknown top-level key",
        |server, m| {
            let mut d = editor(m);
            d.doc.put(automerge::ROOT, "secrets", "x").unwrap();
            d.doc.commit();
            {
                let bytes = message(&mut d, server);
                (d.clone_principal(), bytes)
            }
        },
        expect![[r#"unknown top-level key: "unknown_section" | 案件文档中出现了未知的部分「secrets」"#]],
    );
}

/// One bad case in a batch leaves the others alone: documents are ingested one by one.
#[test]
fn a_rejected_document_does_not_affect_another() {
    let mut server = Server::new();
    let mut good = registered_case(&mut server);
    let before = server.saved(CASE);
    let bad = server.receive(&good.principal, "case-2", b"\x00garbage");
    assert!(bad.is_err());
    assert!(!server.docs.contains_key("case-2"));
    good.edit(|c| c.meta.village = "东村".into());
    good.sync(&mut server, CASE);
    assert_ne!(server.saved(CASE), before);
    assert_eq!(server.case(CASE).meta.village, "东村");
}

trait ClonePrincipal {
    fn clone_principal(&self) -> Device;
}

impl ClonePrincipal for Device {
    fn clone_principal(&self) -> Device {
        Device { principal: self.principal.clone(), doc: automerge::AutoCommit::new(), state: Default::default(), outcomes: vec![] }
    }
}

/// Concurrent handoffs, each scenario with its documented outcome (DESIGN §6).
#[test]
fn two_offline_requests_from_the_same_custody_to_different_tracks() {
    let mut server = Server::new();
    let mut a = registered_case(&mut server);
    let mut b = mediator(2);
    b.sync(&mut server, CASE);
    a.edit(|c| c.handoffs.push(request("ha", Track::Reconsideration, JUSTICE, 0)));
    b.edit(|c| {
        c.litigation.act_name = "行政处罚决定".into();
        c.litigation.defendants = vec!["青山县自然资源局".into()];
        c.handoffs.push(request("hb", Track::Litigation, LEGAL, 0));
    });
    a.sync(&mut server, CASE);
    b.sync(&mut server, CASE);
    a.sync(&mut server, CASE);
    expect![[r#"
        hb -> qingshan.legal: superseded 已有先提出的移交申请（ha）
        ha -> qingshan.justice: pending 
        custody: mediation qingshan.dongxi v0
        review superseded_handoff: 同一案件在同一管辖状态下提出了两个移交申请，先到达的申请（ha）有效，本申请（hb）已被取代 [qingshan.dongxi,qingshan.legal,qingshan.justice]"#]].assert_eq(&handoff_summary(&server.case(CASE)));
    assert_eq!(a.doc.get_heads(), b.doc.get_heads());
}

#[test]
fn accept_racing_withdrawal() {
    for accept_first in [true, false] {
        let mut server = Server::new();
        let mut m = registered_case(&mut server);
        m.edit(|c| c.handoffs.push(request("h1", Track::Reconsideration, JUSTICE, 0)));
        m.sync(&mut server, CASE);
        let mut o = officer(1);
        o.sync(&mut server, CASE);
        decide(&mut o, "h1", HandoffVerdict::Accept);
        m.edit(|c| {
            let h = c.handoffs.iter_mut().find(|h| h.id == "h1").unwrap();
            h.withdrawal.by = "mediator@qingshan.dongxi".into();
            h.withdrawal.at = Some("2026-03-02T03:00:00Z".parse().unwrap());
        });
        if accept_first {
            o.sync(&mut server, CASE);
            m.sync(&mut server, CASE);
        } else {
            m.sync(&mut server, CASE);
            o.sync(&mut server, CASE);
        }
        o.sync(&mut server, CASE);
        m.sync(&mut server, CASE);
        let summary = handoff_summary(&server.case(CASE));
        if accept_first {
            expect![[r#"
                h1 -> qingshan.justice: accepted 
                custody: reconsideration qingshan.justice v1
                review reverted_edit: 您在无权修改时修改了「移交」（例如案件已移交其他单位），修改已被撤回，原内容保留在历史记录中 [qingshan.justice,qingshan.dongxi]"#]].assert_eq(&summary);
        } else {
            expect![[r#"
                h1 -> qingshan.justice: withdrawn 
                custody: mediation qingshan.dongxi v0
                review late_decision: 移交申请已是「已撤回」状态，之后到达的决定（接收）未生效，已撤回 [qingshan.dongxi,qingshan.justice]"#]].assert_eq(&summary);
        }
        assert_eq!(m.doc.get_heads(), o.doc.get_heads());
    }
}

#[test]
fn accept_and_reject_from_two_officers() {
    let mut server = Server::new();
    let mut m = registered_case(&mut server);
    m.edit(|c| c.handoffs.push(request("h1", Track::Reconsideration, JUSTICE, 0)));
    m.sync(&mut server, CASE);
    let mut o1 = officer(1);
    let mut o2 = officer(2);
    o1.sync(&mut server, CASE);
    o2.sync(&mut server, CASE);
    decide(&mut o1, "h1", HandoffVerdict::Reject);
    decide(&mut o2, "h1", HandoffVerdict::Accept);
    o1.sync(&mut server, CASE);
    o2.sync(&mut server, CASE);
    o1.sync(&mut server, CASE);
    o2.sync(&mut server, CASE);
    let case = server.case(CASE);
    expect![[r#"
        h1 -> qingshan.justice: rejected 
        custody: mediation qingshan.dongxi v0
        review late_decision: 移交申请已是「已拒绝」状态，之后到达的决定（接收）未生效，已撤回 [qingshan.dongxi,qingshan.justice]"#]].assert_eq(&handoff_summary(&case));
    assert_eq!(case.handoffs[0].decision.verdict, Some(HandoffVerdict::Reject), "the first decision stands in the document");
    assert_eq!(o1.doc.get_heads(), o2.doc.get_heads());
}

#[test]
fn a_request_from_a_device_that_lost_custody() {
    let mut server = Server::new();
    let mut a = registered_case(&mut server);
    let mut b = mediator(2);
    b.sync(&mut server, CASE);
    // The case goes to the justice bureau through A's request...
    a.edit(|c| c.handoffs.push(request("h1", Track::Reconsideration, JUSTICE, 0)));
    a.sync(&mut server, CASE);
    let mut o = officer(1);
    o.sync(&mut server, CASE);
    decide(&mut o, "h1", HandoffVerdict::Accept);
    o.sync(&mut server, CASE);
    // ...while B, offline and still seeing version 0, asks to send it to litigation.
    b.edit(|c| {
        c.litigation.act_name = "行政处罚决定".into();
        c.litigation.defendants = vec!["青山县自然资源局".into()];
        c.handoffs.push(request("h2", Track::Litigation, LEGAL, 0));
    });
    b.sync(&mut server, CASE);
    expect![[r#"
        h1 -> qingshan.justice: accepted 
        custody: reconsideration qingshan.justice v1
        review reverted_edit: 您在无权修改时修改了「移交」（例如案件已移交其他单位），修改已被撤回，原内容保留在历史记录中 [qingshan.justice,qingshan.dongxi]
        review reverted_edit: 您在无权修改时修改了「行政应诉」（例如案件已移交其他单位），修改已被撤回，原内容保留在历史记录中 [qingshan.justice,qingshan.dongxi]"#]].assert_eq(&handoff_summary(&server.case(CASE)));
}

#[test]
fn a_request_with_missing_fields_is_invalid_with_the_reason() {
    let mut server = Server::new();
    let mut m = mediator(1);
    m.open_case(CaseKind::Dispute, "邻里纠纷");
    m.edit(|c| c.handoffs.push(request("h1", Track::Reconsideration, JUSTICE, 0)));
    m.sync(&mut server, CASE);
    expect![[r#"
        h1 -> qingshan.justice: invalid 移交前还需填写：调解结果（调解不成或当事人拒绝调解）、已告知当事人的其他解决途径、申请人、被申请人（作出行政行为的机关）、被申请复议的行政行为名称、申请人知道该行政行为的日期、复议请求和理由
        custody: mediation qingshan.dongxi v0"#]].assert_eq(&handoff_summary(&server.case(CASE)));
}

#[test]
fn clients_cannot_write_custody_review_or_handoff_status() {
    let mut server = Server::new();
    let mut m = registered_case(&mut server);
    m.edit(|c| c.handoffs.push(request("h1", Track::Reconsideration, JUSTICE, 0)));
    m.sync(&mut server, CASE);
    m.edit(|c| {
        c.custody.unit = TOWN_B.into();
        c.handoffs[0].status = Some(HandoffStatus::Accepted);
    });
    m.sync(&mut server, CASE);
    let case = server.case(CASE);
    assert_eq!(case.custody.unit, TOWN_A);
    assert_eq!(case.handoffs[0].status, Some(HandoffStatus::Pending));
    let sections: Vec<Section> = m.accepted().iter().flat_map(|a| a.compensations.iter().map(|c| c.section)).collect();
    assert_eq!(sections, vec![Section::Custody]);
    assert_eq!(m.doc.get_heads(), server.docs[CASE].get_heads());
}

#[test]
fn concurrent_values_of_a_legal_field_are_kept_for_review() {
    let mut server = Server::new();
    let mut a = registered_case(&mut server);
    let mut b = mediator(2);
    b.sync(&mut server, CASE);
    a.edit(|c| c.mediation.agreement.effective_on = Some("2026-03-10".parse().unwrap()));
    b.edit(|c| c.mediation.agreement.effective_on = Some("2026-03-11".parse().unwrap()));
    a.sync(&mut server, CASE);
    b.sync(&mut server, CASE);
    a.sync(&mut server, CASE);
    let case = server.case(CASE);
    let items: Vec<String> = case.review.iter().map(|r| format!("{} {} {:?}", r.kind.unwrap().code(), r.path, r.values)).collect();
    expect![[r#"concurrent_values agreement/effective_on ["2026-03-10", "2026-03-11"]"#]].assert_eq(&items.join("\n"));
    // A later sync does not add the same item again.
    b.edit(|c| c.meta.village = "东村".into());
    b.sync(&mut server, CASE);
    assert_eq!(server.case(CASE).review.len(), 1);
}

#[test]
fn an_ill_typed_field_is_restored_not_stored() {
    let mut server = Server::new();
    let mut m = registered_case(&mut server);
    let meta = automerge::ReadDoc::get(&m.doc, automerge::ROOT, "meta").unwrap().unwrap().1;
    m.doc.put(&meta, "dispute_type", "not-a-type").unwrap();
    m.doc.commit();
    m.sync(&mut server, CASE);
    let case = server.case(CASE);
    assert_eq!(case.meta.dispute_type, None);
    expect!["「基本信息」中填写的内容格式不正确，已恢复为修改前的内容"].assert_eq(&case.review.iter().map(|r| r.summary.clone()).collect::<Vec<_>>().join("\n"));
}

