//! Handoff paths between tracks (DESIGN §6, LAW.md §3): which moves are allowed, who may request
//! and decide them, and what the target track needs before it can take a case. A check of a request
//! says precisely what is wrong or missing, in words a mediator understands.

use serde::Serialize;

use crate::document::{Case, HandoffRequest};
use crate::policy::custodian;
use crate::units::{unit_kind_serves, User, UnitTree};
use crate::vocab::{MediationResult, PartyRole, PetitionRoute, ReconsiderationIntake, Role, Section, Track};

/// An allowed move of custody from one track to another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct HandoffPath {
    pub from: Track,
    pub to: Track,
    /// When the move applies, for people.
    pub when: &'static str,
    /// The clock that starts, for people.
    pub clock: &'static str,
    pub source: &'static str,
}

/// Every allowed path (LAW.md §3). Moves within a track (an appeal) and to bodies outside the
/// system (a court's judicial confirmation, arbitration) are not handoffs: they are recorded in the
/// section of the track.
pub const PATHS: &[HandoffPath] = &[
    HandoffPath {
        from: Track::Petition,
        to: Track::Reconsideration,
        when: "对可申请行政复议的行政行为不服（依法分类处理第4类）",
        clock: "申请期限自知道该行政行为之日起计算，不自信访之日起算",
        source: "《信访工作条例》第三十一条；《行政复议法》第二十条",
    },
    HandoffPath {
        from: Track::Petition,
        to: Track::Litigation,
        when: "诉访分离：涉法涉诉事项（依法分类处理第1类）",
        clock: "起诉期限六个月",
        source: "《信访工作条例》第二十八条、第三十一条；《行政诉讼法》第四十六条",
    },
    HandoffPath {
        from: Track::Petition,
        to: Track::Mediation,
        when: "信访事项可以调解的，交由人民调解",
        clock: "调解期限",
        source: "《信访工作条例》第三十三条",
    },
    HandoffPath {
        from: Track::Mediation,
        to: Track::Reconsideration,
        when: "调解不成，当事人选择申请行政复议",
        clock: "申请期限自知道该行政行为之日起计算",
        source: "《人民调解法》第二十六条；《行政复议法》第二十条",
    },
    HandoffPath {
        from: Track::Mediation,
        to: Track::Litigation,
        when: "调解不成，当事人选择提起行政诉讼",
        clock: "起诉期限",
        source: "《人民调解法》第二十六条；《行政诉讼法》第四十六条",
    },
    HandoffPath {
        from: Track::Reconsideration,
        to: Track::Litigation,
        when: "对复议决定不服、复议机关逾期不作决定，或撤回复议申请后起诉",
        clock: "收到复议决定书之日起十五日（撤回的，原六个月期限）",
        source: "《行政诉讼法》第二十六条、第四十五条；行诉法解释第五十八条",
    },
];

/// The allowed path from one track to another, if any.
pub fn path(from: Track, to: Track) -> Option<&'static HandoffPath> {
    PATHS.iter().find(|p| p.from == from && p.to == to)
}

/// The role that may request a move out of `from`.
pub fn requester_role(from: Track) -> Role {
    Role::for_track(from)
}

/// The role that may accept or reject a move into `to`.
pub fn decider_role(to: Track) -> Role {
    Role::for_track(to)
}

/// A field the target track needs before it can take the case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequiredField {
    pub section: Section,
    /// Path inside the section, e.g. `act/known_on`.
    pub path: &'static str,
    /// What to fill in, for people.
    pub label: &'static str,
}

/// What is wrong with a handoff request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum HandoffProblem {
    #[error("移交申请缺少目标办理渠道或接收单位")]
    Incomplete,
    #[error("不能从「{}」移交到「{}」", from.label(), to.label())]
    PathNotAllowed { from: Track, to: Track },
    #[error("提出移交时本案已不由您的单位管辖（您看到的是第{seen}版，现在是第{current}版），请同步后重新查看")]
    StaleCustody { seen: u64, current: u64 },
    #[error("只有本案管辖单位的{}可以提出移交", role.label())]
    NotCustodian { role: Role },
    #[error("接收单位「{unit}」不存在，或不办理{}", track.label())]
    WrongReceiver { unit: String, track: Track },
    #[error("{}", missing_message(fields))]
    Missing { fields: Vec<RequiredField> },
}

fn missing_message(fields: &[RequiredField]) -> String {
    let labels: Vec<&str> = fields.iter().map(|f| f.label).collect();
    format!("移交前还需填写：{}", labels.join("、"))
}

/// The fields `case` still lacks for a move `from` → `to`, in the order a form shows them.
pub fn missing_fields(case: &Case, from: Track, to: Track) -> Vec<RequiredField> {
    let mut missing = Vec::new();
    let mut need = |ok: bool, section: Section, path: &'static str, label: &'static str| {
        if !ok {
            missing.push(RequiredField { section, path, label });
        }
    };
    let has_party = |role: PartyRole| case.parties.iter().any(|p| p.role == Some(role) && !p.name.trim().is_empty());
    let text_filled = |t: &autosurgeon::Text| !t.as_str().trim().is_empty();

    match from {
        Track::Petition => {
            let route = case.petition.route;
            let wanted = match to {
                Track::Reconsideration => Some(PetitionRoute::AdministrativeProcedure),
                Track::Litigation => Some(PetitionRoute::LitigationProcedure),
                _ => None,
            };
            if let Some(wanted) = wanted {
                need(route == Some(wanted), Section::Petition, "route", wanted_route_label(wanted));
            }
        }
        Track::Mediation => {
            if matches!(to, Track::Reconsideration | Track::Litigation) {
                need(
                    matches!(case.mediation.result, Some(MediationResult::Failed) | Some(MediationResult::Refused)),
                    Section::Mediation,
                    "result",
                    "调解结果（调解不成或当事人拒绝调解）",
                );
                need(text_filled(&case.mediation.routes_told), Section::Mediation, "routes_told", "已告知当事人的其他解决途径");
            }
        }
        Track::Reconsideration => {
            let r = &case.reconsideration;
            let concluded = r.decision.kind.is_some()
                || matches!(r.intake, Some(ReconsiderationIntake::NotAccepted) | Some(ReconsiderationIntake::ApplicationDismissed));
            need(concluded, Section::Reconsideration, "decision/kind", "复议决定（或不予受理、驳回申请、终止）");
            need(
                r.decision.kind.is_none() || r.decision.served_on.is_some(),
                Section::Reconsideration,
                "decision/served_on",
                "复议决定书送达日期",
            );
        }
        Track::Litigation => {}
    }

    match to {
        Track::Reconsideration => {
            let r = &case.reconsideration;
            need(has_party(PartyRole::Applicant), Section::Parties, "applicant", "申请人");
            need(!r.respondent_agency.trim().is_empty(), Section::Reconsideration, "respondent_agency", "被申请人（作出行政行为的机关）");
            need(!r.act.name.trim().is_empty(), Section::Reconsideration, "act/name", "被申请复议的行政行为名称");
            need(r.act.known_on.is_some(), Section::Reconsideration, "act/known_on", "申请人知道该行政行为的日期");
            need(text_filled(&r.request), Section::Reconsideration, "request", "复议请求和理由");
        }
        Track::Litigation => {
            let l = &case.litigation;
            need(has_party(PartyRole::Applicant), Section::Parties, "applicant", "原告（申请人）");
            need(!l.act_name.trim().is_empty(), Section::Litigation, "act_name", "被诉行政行为名称");
            need(!l.defendants.is_empty(), Section::Litigation, "defendants", "被告行政机关");
        }
        Track::Mediation => {
            need(has_party(PartyRole::Applicant), Section::Parties, "applicant", "申请人");
            need(has_party(PartyRole::Respondent), Section::Parties, "respondent", "被申请人");
            need(case.meta.dispute_type.is_some(), Section::Meta, "dispute_type", "纠纷类型");
            need(text_filled(&case.claims.claims), Section::Claims, "claims", "当事人诉求");
        }
        Track::Petition => {}
    }
    missing
}

fn wanted_route_label(route: PetitionRoute) -> &'static str {
    match route {
        PetitionRoute::AdministrativeProcedure => "依法分类处理途径（应为：行政程序（行政复议等））",
        PetitionRoute::LitigationProcedure => "依法分类处理途径（应为：涉法涉诉（诉讼程序））",
        _ => "依法分类处理途径",
    }
}

/// Checks a request against the case as the server holds it, for the user who made it.
/// Returns every problem found, most fundamental first.
pub fn check_request(
    request: &HandoffRequest,
    requester: &User,
    case: &Case,
    units: &UnitTree,
) -> Result<&'static HandoffPath, Vec<HandoffProblem>> {
    let (Some(to), false) = (request.to_track, request.to_unit.is_empty()) else {
        return Err(vec![HandoffProblem::Incomplete]);
    };
    let (custody_unit, custody_track) = custodian(case);
    let Some(from) = custody_track else {
        return Err(vec![HandoffProblem::Incomplete]);
    };
    let mut problems = Vec::new();
    let Some(path) = path(from, to) else {
        return Err(vec![HandoffProblem::PathNotAllowed { from, to }]);
    };
    if request.custody_version != case.custody.version {
        problems.push(HandoffProblem::StaleCustody { seen: request.custody_version, current: case.custody.version });
    }
    if requester.unit.as_str() != custody_unit || !requester.has_role(requester_role(from)) {
        problems.push(HandoffProblem::NotCustodian { role: requester_role(from) });
    }
    let receiver_ok = units.get(&request.to_unit).is_some_and(|u| unit_kind_serves(u.kind, to))
        && units.root_of(&request.to_unit) == units.root_of(custody_unit);
    if !receiver_ok {
        problems.push(HandoffProblem::WrongReceiver { unit: request.to_unit.clone(), track: to });
    }
    let fields = missing_fields(case, from, to);
    if !fields.is_empty() {
        problems.push(HandoffProblem::Missing { fields });
    }
    if problems.is_empty() {
        Ok(path)
    } else {
        Err(problems)
    }
}

/// Whether `user` may accept or reject `request`: a user of the receiving unit with the role of the
/// target track.
pub fn can_decide(user: &User, request: &HandoffRequest) -> bool {
    request.to_track.is_some_and(|t| user.has_role(decider_role(t))) && user.unit.as_str() == request.to_unit
}

/// All problems of a failed check, as one sentence for people.
pub fn explain(problems: &[HandoffProblem]) -> String {
    problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("；")
}
