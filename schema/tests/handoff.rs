//! Handoff requests checked against the case: a table of requests, each with the path found or the
//! problems reported in words a mediator understands (DESIGN §6, LAW.md §3).

mod common;

use autosurgeon::Text;
use common::*;
use expect_test::{expect, Expect};
use fengqiao_schema::document::{Case, HandoffRequest, Party};
use fengqiao_schema::handoff::{can_decide, check_request, explain, PATHS};
use fengqiao_schema::units::User;
use fengqiao_schema::vocab::*;

fn request(to: Track, to_unit: &str, custody_version: u64) -> HandoffRequest {
    HandoffRequest {
        id: "h1".into(),
        to_track: Some(to),
        to_unit: to_unit.into(),
        custody_version,
        status: Some(HandoffStatus::Requested),
        ..HandoffRequest::default()
    }
}

/// A mediation that failed, with everything reconsideration needs.
fn failed_mediation_ready_for_reconsideration() -> Case {
    let mut case = case_in(Track::Mediation);
    case.parties.push(Party { id: "p1".into(), role: Some(PartyRole::Applicant), name: "张三".into(), ..Party::default() });
    case.mediation.result = Some(MediationResult::Failed);
    case.mediation.routes_told = Text::with_value("已告知可申请行政复议或提起行政诉讼");
    case.reconsideration.respondent_agency = "青山县自然资源局".into();
    case.reconsideration.act.name = "责令限期拆除决定".into();
    case.reconsideration.act.known_on = Some("2026-03-01".parse().unwrap());
    case.reconsideration.request = Text::with_value("撤销该决定");
    case
}

fn check(case: &Case, req: &HandoffRequest, who: &User, expect: Expect) {
    let out = match check_request(req, who, case, &county()) {
        Ok(path) => format!("ok: {} -> {} ({})", path.from.code(), path.to.code(), path.source),
        Err(problems) => format!("refused: {}", explain(&problems)),
    };
    expect.assert_eq(&out);
}

#[test]
fn a_complete_request_from_the_custodian_is_valid() {
    check(
        &failed_mediation_ready_for_reconsideration(),
        &request(Track::Reconsideration, JUSTICE, 0),
        &user(Role::Mediator, TOWN_A),
        expect!["ok: mediation -> reconsideration (《人民调解法》第二十六条；《行政复议法》第二十条)"],
    );
}

#[test]
fn missing_fields_are_named() {
    check(
        &case_in(Track::Mediation),
        &request(Track::Reconsideration, JUSTICE, 0),
        &user(Role::Mediator, TOWN_A),
        expect!["refused: 移交前还需填写：调解结果（调解不成或当事人拒绝调解）、已告知当事人的其他解决途径、申请人、被申请人（作出行政行为的机关）、被申请复议的行政行为名称、申请人知道该行政行为的日期、复议请求和理由"],
    );
}

#[test]
fn a_request_that_saw_an_old_custody_version_is_stale() {
    let mut case = failed_mediation_ready_for_reconsideration();
    case.custody.version = 2;
    check(&case, &request(Track::Reconsideration, JUSTICE, 1), &user(Role::Mediator, TOWN_A), expect!["refused: 提出移交时本案已不由您的单位管辖（您看到的是第1版，现在是第2版），请同步后重新查看"]);
}

#[test]
fn only_the_custodian_unit_with_the_track_role_may_request() {
    let case = failed_mediation_ready_for_reconsideration();
    check(&case, &request(Track::Reconsideration, JUSTICE, 0), &user(Role::Mediator, TOWN_B), expect!["refused: 只有本案管辖单位的调解员可以提出移交"]);
    check(&case, &request(Track::Reconsideration, JUSTICE, 0), &user(Role::Supervisor, TOWN_A), expect!["refused: 只有本案管辖单位的调解员可以提出移交"]);
}

#[test]
fn the_receiver_must_serve_the_track_in_the_same_county() {
    let case = failed_mediation_ready_for_reconsideration();
    check(&case, &request(Track::Reconsideration, LEGAL, 0), &user(Role::Mediator, TOWN_A), expect!["refused: 接收单位「qingshan.legal」不存在，或不办理行政复议"]);
    check(&case, &request(Track::Reconsideration, OTHER_COUNTY_JUSTICE, 0), &user(Role::Mediator, TOWN_A), expect!["refused: 接收单位「baishui.justice」不存在，或不办理行政复议"]);
    check(&case, &request(Track::Reconsideration, "nowhere", 0), &user(Role::Mediator, TOWN_A), expect!["refused: 接收单位「nowhere」不存在，或不办理行政复议"]);
}

#[test]
fn paths_not_in_the_law_are_refused() {
    check(
        &case_in(Track::Litigation),
        &request(Track::Mediation, TOWN_A, 1),
        &user(Role::LitigationOfficer, LEGAL),
        expect!["refused: 不能从「行政诉讼」移交到「人民调解」"],
    );
    check(
        &case_in(Track::Reconsideration),
        &request(Track::Petition, PETITION, 1),
        &user(Role::ReconsiderationOfficer, JUSTICE),
        expect!["refused: 不能从「行政复议」移交到「信访」"],
    );
    check(&case_in(Track::Mediation), &HandoffRequest::default(), &user(Role::Mediator, TOWN_A), expect!["refused: 移交申请缺少目标办理渠道或接收单位"]);
}

#[test]
fn petitions_route_by_category() {
    let mut case = case_in(Track::Petition);
    case.parties.push(Party { id: "p1".into(), role: Some(PartyRole::Applicant), name: "李四".into(), ..Party::default() });
    case.petition.route = Some(PetitionRoute::PetitionHandling);
    case.litigation.act_name = "征收补偿决定".into();
    case.litigation.defendants = vec!["青山县人民政府".into()];
    let officer = user(Role::PetitionOfficer, PETITION);
    check(&case, &request(Track::Litigation, LEGAL, 0), &officer, expect!["refused: 移交前还需填写：依法分类处理途径（应为：涉法涉诉（诉讼程序））"]);
    case.petition.route = Some(PetitionRoute::LitigationProcedure);
    check(&case, &request(Track::Litigation, LEGAL, 0), &officer, expect!["ok: petition -> litigation (《信访工作条例》第二十八条、第三十一条；《行政诉讼法》第四十六条)"]);
    check(&case, &request(Track::Mediation, TOWN_A, 0), &officer, expect!["refused: 移交前还需填写：被申请人、纠纷类型、当事人诉求"]);
}

#[test]
fn reconsideration_goes_to_litigation_after_a_served_decision() {
    let mut case = case_in(Track::Reconsideration);
    case.parties.push(Party { id: "p1".into(), role: Some(PartyRole::Applicant), name: "张三".into(), ..Party::default() });
    case.litigation.act_name = "行政处罚决定".into();
    case.litigation.defendants = vec!["青山县市场监督管理局".into(), "青山县人民政府".into()];
    let officer = user(Role::ReconsiderationOfficer, JUSTICE);
    check(&case, &request(Track::Litigation, LEGAL, 1), &officer, expect!["refused: 移交前还需填写：复议决定（或不予受理、驳回申请、终止）"]);
    case.reconsideration.decision.kind = Some(ReconsiderationDecision::Upheld);
    check(&case, &request(Track::Litigation, LEGAL, 1), &officer, expect!["refused: 移交前还需填写：复议决定书送达日期"]);
    case.reconsideration.decision.served_on = Some("2026-05-06".parse().unwrap());
    check(&case, &request(Track::Litigation, LEGAL, 1), &officer, expect!["ok: reconsideration -> litigation (《行政诉讼法》第二十六条、第四十五条；行诉法解释第五十八条)"]);
}

#[test]
fn deciders_are_the_receiving_unit_with_the_target_role() {
    let req = request(Track::Reconsideration, JUSTICE, 0);
    let rows: Vec<String> = [
        user(Role::ReconsiderationOfficer, JUSTICE),
        user(Role::LitigationOfficer, JUSTICE),
        user(Role::ReconsiderationOfficer, OTHER_COUNTY_JUSTICE),
        user(Role::Supervisor, COUNTY),
    ]
    .iter()
    .map(|u| format!("{}: {}", u.id.as_str(), can_decide(u, &req)))
    .collect();
    expect![[r#"
        reconsideration_officer@qingshan.justice: true
        litigation_officer@qingshan.justice: false
        reconsideration_officer@baishui.justice: false
        supervisor@qingshan: false"#]].assert_eq(&rows.join("\n"));
}

#[test]
fn the_path_table() {
    let rows: Vec<String> = PATHS.iter().map(|p| format!("{} -> {}: {}", p.from.label(), p.to.label(), p.when)).collect();
    expect![[r#"
        信访 -> 行政复议: 对可申请行政复议的行政行为不服（依法分类处理第4类）
        信访 -> 行政诉讼: 诉访分离：涉法涉诉事项（依法分类处理第1类）
        信访 -> 人民调解: 信访事项可以调解的，交由人民调解
        人民调解 -> 行政复议: 调解不成，当事人选择申请行政复议
        人民调解 -> 行政诉讼: 调解不成，当事人选择提起行政诉讼
        行政复议 -> 行政诉讼: 对复议决定不服、复议机关逾期不作决定，或撤回复议申请后起诉"#]].assert_eq(&rows.join("\n"));
}
