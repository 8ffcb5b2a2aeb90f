//! Legal clocks (LAW.md §§1–3, DESIGN §7): every statutory deadline of a case, computed from the
//! dates recorded as legal facts and from the server's `today`, with an explanation in Chinese that
//! names the rule, its article, the start, the length, the counting and the calendars used.
//!
//! The rules read a plain [`ClockFacts`] rather than the case document, so that they can be stated
//! and tested on their own; [`ClockFacts::from_case`] is the one place that knows the document.
//!
//! Statuses: `running` (not done, not yet due), `met` (done on or before the due date), `late`
//! (done after it), `overdue` (not done and past due; for a party's window: the window has closed),
//! `suspended` (the clock is stopped by an open 中止).
//!
//! Pure: `today` is an argument; nothing here reads the clock.

use serde::Serialize;

use crate::calendar::{
    describe_fallback_years, describe_official_years, Calendars, Counting, Period, PeriodEnd,
    YearBasis,
};
use crate::document::Case;
use crate::time::LegalDate;
use crate::vocab::{
    Instance, LitigationOutcome, PetitionRoute, Procedure, ReconsiderationDecision,
    ReconsiderationIntake, Track,
};

/// The configurable points of LAW.md, settled once by the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClockConfig {
    /// 人民调解 "generally within one month" (SFB 33), in days. Default 30.
    pub mediation_period_days: u32,
    /// How petition periods are counted, except the 5-working-day objection, which is always
    /// working days (XF 23). Default: calendar days.
    pub petition_counting: Counting,
    /// Whether a 中止 stops the reconsideration decision clock (FY 39). Default: it does.
    pub suspension: SuspensionEffect,
}

impl Default for ClockConfig {
    fn default() -> Self {
        ClockConfig {
            mediation_period_days: 30,
            petition_counting: Counting::CalendarDays,
            suspension: SuspensionEffect::StopsClock,
        }
    }
}

/// What a reconsideration suspension does to the decision clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SuspensionEffect {
    /// The days suspended are added to the decision period.
    StopsClock,
    /// The decision period runs on through a suspension.
    ClockRuns,
}

/// Everything the rules need to know about a case, by track. Every date is a legal fact recorded
/// by a user or attested by the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClockFacts {
    /// The server's date (UTC+8): decides `running` against `overdue`.
    pub today: LegalDate,
    pub petition: PetitionFacts,
    pub mediation: MediationFacts,
    pub reconsideration: ReconsiderationFacts,
    pub litigation: LitigationFacts,
}

impl ClockFacts {
    /// No facts yet: no deadlines.
    pub fn new(today: LegalDate) -> ClockFacts {
        ClockFacts {
            today,
            petition: PetitionFacts::default(),
            mediation: MediationFacts::default(),
            reconsideration: ReconsiderationFacts::default(),
            litigation: LitigationFacts::default(),
        }
    }

    /// The facts a case document records. `today` is the server's date in UTC+8.
    pub fn from_case(case: &Case, today: LegalDate) -> ClockFacts {
        let p = &case.petition;
        let m = &case.mediation;
        let r = &case.reconsideration;
        let l = &case.litigation;
        ClockFacts {
            today,
            petition: PetitionFacts {
                // Every petition is registered on receipt (XF 21); the registration date stands in
                // for a receipt date nobody wrote down.
                received_on: p.received_on.or(p.registered_on),
                route: p.route,
                intake_notified_on: p.intake_notified_on,
                accepted_on: p.accepted_on,
                // The document does not record that a petition came in by 转送/交办 (which opens the
                // objection window) nor when an objection was raised: no objection clock from it yet.
                transfer_received_on: None,
                objection_raised_on: None,
                extension: extension_facts(&p.extension),
                reply_issued_on: p.reply.issued_on,
                reply_received_on: p.reply.received_on,
                review_requested_on: p.review.requested_on,
                review_decided_on: p.review.decided_on,
                review_received_on: p.review.received_on,
                re_review_requested_on: p.re_review.requested_on,
                re_review_decided_on: p.re_review.decided_on,
            },
            mediation: MediationFacts {
                accepted_on: m.accepted_on,
                labour_dispute: m.labour_dispute,
                result_on: m.result_on,
                agreement_effective_on: m.agreement.effective_on,
                judicial_confirmation_applied_on: m.judicial_confirmation.applied_on,
            },
            reconsideration: ReconsiderationFacts {
                act_made_on: r.act.made_on,
                act_known_on: r.act.known_on,
                right_notified: r.act.right_notified,
                right_learned_on: r.act.right_learned_on,
                real_property: r.act.real_property,
                received_on: r.received_on,
                correction_notified_on: r.correction.notified_on,
                correction_received_on: r.correction.received_on,
                correction_supplied_on: r.correction.supplied_on,
                intake: r.intake,
                intake_decided_on: r.intake_decided_on,
                accepted_on: r.accepted_on,
                procedure: r.procedure,
                extension: extension_facts(&r.extension),
                suspensions: r
                    .suspensions
                    .iter()
                    .filter_map(|s| {
                        Some(SuspensionFacts {
                            from: s.from?,
                            to: s.to,
                        })
                    })
                    .collect(),
                decision: r.decision.kind,
                decided_on: r.decision.decided_on,
                decision_received_on: r.decision.served_on,
                lawsuit_filed_on: None,
            },
            litigation: LitigationFacts {
                instance: l.instance,
                procedure: l.procedure,
                registered_on: l.registered_on,
                complaint_received_on: l.complaint_received_on,
                defence_filed_on: l.defence_filed_on,
                outcome: l.judgment.outcome,
                judged_on: l.judgment.judged_on,
                judgment_served_on: l.judgment.served_on,
                appeal_filed_on: l.appeal.filed_on,
            },
        }
    }
}

fn extension_facts(extension: &crate::document::Extension) -> Option<ExtensionFacts> {
    let days = extension.days.filter(|d| *d > 0)?;
    Some(ExtensionFacts {
        days: u32::try_from(days).unwrap_or(u32::MAX),
        approved_on: extension.approved_on,
    })
}

/// 信访 (XF).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PetitionFacts {
    /// 收到信访事项之日 (directly, or transferred in; the registration date).
    pub received_on: Option<LegalDate>,
    pub route: Option<PetitionRoute>,
    /// The petitioner was told in writing whether the petition is accepted.
    pub intake_notified_on: Option<LegalDate>,
    pub accepted_on: Option<LegalDate>,
    /// A matter transferred or assigned to us (转送、交办) was received: the objection window opens.
    pub transfer_received_on: Option<LegalDate>,
    pub objection_raised_on: Option<LegalDate>,
    /// Extension of the handling period (XF 34).
    pub extension: Option<ExtensionFacts>,
    /// 信访处理意见书 issued, and received by the petitioner.
    pub reply_issued_on: Option<LegalDate>,
    pub reply_received_on: Option<LegalDate>,
    /// 复查: requested (received by the reviewing organ), decided, decision received.
    pub review_requested_on: Option<LegalDate>,
    pub review_decided_on: Option<LegalDate>,
    pub review_received_on: Option<LegalDate>,
    /// 复核: requested, decided.
    pub re_review_requested_on: Option<LegalDate>,
    pub re_review_decided_on: Option<LegalDate>,
}

/// 人民调解 (TJ, SFB).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MediationFacts {
    /// 受理调解之日 (for a labour dispute, the day the application was received).
    pub accepted_on: Option<LegalDate>,
    pub labour_dispute: bool,
    /// The mediation ended (agreement, failure or refusal).
    pub result_on: Option<LegalDate>,
    pub agreement_effective_on: Option<LegalDate>,
    pub judicial_confirmation_applied_on: Option<LegalDate>,
}

/// 行政复议 (FY).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReconsiderationFacts {
    pub act_made_on: Option<LegalDate>,
    /// 知道或者应当知道该行政行为之日.
    pub act_known_on: Option<LegalDate>,
    /// Whether the applicant was told of the right to apply, the body and the time limit; `None`
    /// when nobody recorded it.
    pub right_notified: Option<bool>,
    pub right_learned_on: Option<LegalDate>,
    pub real_property: bool,
    /// 收到行政复议申请之日.
    pub received_on: Option<LegalDate>,
    /// 补正: notice sent, notice received by the applicant, materials supplied.
    pub correction_notified_on: Option<LegalDate>,
    pub correction_received_on: Option<LegalDate>,
    pub correction_supplied_on: Option<LegalDate>,
    pub intake: Option<ReconsiderationIntake>,
    pub intake_decided_on: Option<LegalDate>,
    pub accepted_on: Option<LegalDate>,
    pub procedure: Option<Procedure>,
    pub extension: Option<ExtensionFacts>,
    pub suspensions: Vec<SuspensionFacts>,
    pub decision: Option<ReconsiderationDecision>,
    pub decided_on: Option<LegalDate>,
    /// 收到行政复议决定书之日 (service on the applicant).
    pub decision_received_on: Option<LegalDate>,
    /// The applicant sued after the reconsideration.
    pub lawsuit_filed_on: Option<LegalDate>,
}

/// 行政诉讼, from the agency's side (SS).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LitigationFacts {
    pub instance: Option<Instance>,
    pub procedure: Option<Procedure>,
    /// 立案之日 (for an appeal: the day the court received the appeal).
    pub registered_on: Option<LegalDate>,
    /// The agency received the complaint.
    pub complaint_received_on: Option<LegalDate>,
    pub defence_filed_on: Option<LegalDate>,
    pub outcome: Option<LitigationOutcome>,
    pub judged_on: Option<LegalDate>,
    pub judgment_served_on: Option<LegalDate>,
    pub appeal_filed_on: Option<LegalDate>,
}

/// An extension of a period, which counts only once approved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtensionFacts {
    pub days: u32,
    pub approved_on: Option<LegalDate>,
}

/// A 中止 from one day until it is lifted (`to`, the day the case resumed), or still open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SuspensionFacts {
    pub from: LegalDate,
    pub to: Option<LegalDate>,
}

/// Who the deadline binds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineKind {
    /// An organ or court must act by the due date.
    Duty,
    /// A party (the petitioner, the applicant, the agency as litigant) may act until the due date.
    Window,
}

/// Where a deadline stands on `today`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Running,
    Met,
    Late,
    Overdue,
    Suspended,
}

impl Status {
    pub fn code(self) -> &'static str {
        match self {
            Status::Running => "running",
            Status::Met => "met",
            Status::Late => "late",
            Status::Overdue => "overdue",
            Status::Suspended => "suspended",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::Running => "进行中",
            Status::Met => "已按期完成",
            Status::Late => "逾期完成",
            Status::Overdue => "已逾期",
            Status::Suspended => "中止",
        }
    }
}

/// The statutory clocks. The code is stable: it is stored in the server's deadlines table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    PetitionAcceptanceNotice,
    PetitionJurisdictionObjection,
    PetitionHandling,
    PetitionReviewRequest,
    PetitionReview,
    PetitionReReviewRequest,
    PetitionReReview,
    MediationPeriod,
    MediationLabourArbitration,
    MediationJudicialConfirmation,
    ReconsiderationApplication,
    ReconsiderationAcceptanceReview,
    ReconsiderationCorrectionNotice,
    ReconsiderationCorrectionSupply,
    ReconsiderationDecision,
    ReconsiderationLawsuit,
    LitigationDefence,
    LitigationFirstInstance,
    LitigationSecondInstance,
    LitigationAppeal,
}

impl Rule {
    pub const ALL: &'static [Rule] = &[
        Rule::PetitionAcceptanceNotice,
        Rule::PetitionJurisdictionObjection,
        Rule::PetitionHandling,
        Rule::PetitionReviewRequest,
        Rule::PetitionReview,
        Rule::PetitionReReviewRequest,
        Rule::PetitionReReview,
        Rule::MediationPeriod,
        Rule::MediationLabourArbitration,
        Rule::MediationJudicialConfirmation,
        Rule::ReconsiderationApplication,
        Rule::ReconsiderationAcceptanceReview,
        Rule::ReconsiderationCorrectionNotice,
        Rule::ReconsiderationCorrectionSupply,
        Rule::ReconsiderationDecision,
        Rule::ReconsiderationLawsuit,
        Rule::LitigationDefence,
        Rule::LitigationFirstInstance,
        Rule::LitigationSecondInstance,
        Rule::LitigationAppeal,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Rule::PetitionAcceptanceNotice => "petition.acceptance_notice",
            Rule::PetitionJurisdictionObjection => "petition.jurisdiction_objection",
            Rule::PetitionHandling => "petition.handling",
            Rule::PetitionReviewRequest => "petition.review_request",
            Rule::PetitionReview => "petition.review",
            Rule::PetitionReReviewRequest => "petition.re_review_request",
            Rule::PetitionReReview => "petition.re_review",
            Rule::MediationPeriod => "mediation.period",
            Rule::MediationLabourArbitration => "mediation.labour_arbitration",
            Rule::MediationJudicialConfirmation => "mediation.judicial_confirmation",
            Rule::ReconsiderationApplication => "reconsideration.application",
            Rule::ReconsiderationAcceptanceReview => "reconsideration.acceptance_review",
            Rule::ReconsiderationCorrectionNotice => "reconsideration.correction_notice",
            Rule::ReconsiderationCorrectionSupply => "reconsideration.correction_supply",
            Rule::ReconsiderationDecision => "reconsideration.decision",
            Rule::ReconsiderationLawsuit => "reconsideration.lawsuit",
            Rule::LitigationDefence => "litigation.defence",
            Rule::LitigationFirstInstance => "litigation.first_instance",
            Rule::LitigationSecondInstance => "litigation.second_instance",
            Rule::LitigationAppeal => "litigation.appeal",
        }
    }

    pub fn from_code(code: &str) -> Option<Rule> {
        Rule::ALL.iter().copied().find(|r| r.code() == code)
    }

    /// The zh-CN name of the clock.
    pub fn label(self) -> &'static str {
        match self {
            Rule::PetitionAcceptanceNotice => "书面告知是否受理",
            Rule::PetitionJurisdictionObjection => "对转送、交办事项提出异议",
            Rule::PetitionHandling => "信访事项办理期限",
            Rule::PetitionReviewRequest => "请求复查",
            Rule::PetitionReview => "提出复查意见",
            Rule::PetitionReReviewRequest => "请求复核",
            Rule::PetitionReReview => "提出复核意见",
            Rule::MediationPeriod => "调解期限",
            Rule::MediationLabourArbitration => "劳动争议调解期限",
            Rule::MediationJudicialConfirmation => "申请司法确认",
            Rule::ReconsiderationApplication => "申请行政复议",
            Rule::ReconsiderationAcceptanceReview => "审查是否受理行政复议申请",
            Rule::ReconsiderationCorrectionNotice => "通知补正申请材料",
            Rule::ReconsiderationCorrectionSupply => "提交补正材料",
            Rule::ReconsiderationDecision => "作出行政复议决定",
            Rule::ReconsiderationLawsuit => "对行政复议提起诉讼",
            Rule::LitigationDefence => "提交答辩状及证据",
            Rule::LitigationFirstInstance => "第一审审理期限",
            Rule::LitigationSecondInstance => "第二审审理期限",
            Rule::LitigationAppeal => "提起上诉",
        }
    }

    pub fn track(self) -> Track {
        match self {
            Rule::PetitionAcceptanceNotice
            | Rule::PetitionJurisdictionObjection
            | Rule::PetitionHandling
            | Rule::PetitionReviewRequest
            | Rule::PetitionReview
            | Rule::PetitionReReviewRequest
            | Rule::PetitionReReview => Track::Petition,
            Rule::MediationPeriod
            | Rule::MediationLabourArbitration
            | Rule::MediationJudicialConfirmation => Track::Mediation,
            Rule::ReconsiderationApplication
            | Rule::ReconsiderationAcceptanceReview
            | Rule::ReconsiderationCorrectionNotice
            | Rule::ReconsiderationCorrectionSupply
            | Rule::ReconsiderationDecision
            | Rule::ReconsiderationLawsuit => Track::Reconsideration,
            Rule::LitigationDefence
            | Rule::LitigationFirstInstance
            | Rule::LitigationSecondInstance
            | Rule::LitigationAppeal => Track::Litigation,
        }
    }

    pub fn kind(self) -> DeadlineKind {
        match self {
            Rule::PetitionJurisdictionObjection
            | Rule::PetitionReviewRequest
            | Rule::PetitionReReviewRequest
            | Rule::MediationJudicialConfirmation
            | Rule::ReconsiderationApplication
            | Rule::ReconsiderationCorrectionSupply
            | Rule::ReconsiderationLawsuit
            | Rule::LitigationAppeal => DeadlineKind::Window,
            _ => DeadlineKind::Duty,
        }
    }

    /// The act that meets the deadline, as the explanation words it.
    fn act(self) -> &'static str {
        match self {
            Rule::PetitionAcceptanceNotice => "书面告知受理情况",
            Rule::PetitionJurisdictionObjection => "提出异议",
            Rule::PetitionHandling => "办结并出具信访处理意见书",
            Rule::PetitionReviewRequest => "请求复查",
            Rule::PetitionReview => "提出复查意见",
            Rule::PetitionReReviewRequest => "请求复核",
            Rule::PetitionReReview => "提出复核意见",
            Rule::MediationPeriod => "调解结案",
            Rule::MediationLabourArbitration => "调解结案",
            Rule::MediationJudicialConfirmation => "申请司法确认",
            Rule::ReconsiderationApplication => "提出行政复议申请",
            Rule::ReconsiderationAcceptanceReview => "作出是否受理的决定",
            Rule::ReconsiderationCorrectionNotice => "书面通知补正",
            Rule::ReconsiderationCorrectionSupply => "提交补正材料",
            Rule::ReconsiderationDecision => "作出行政复议决定",
            Rule::ReconsiderationLawsuit => "提起诉讼",
            Rule::LitigationDefence => "提交答辩状及证据",
            Rule::LitigationFirstInstance => "作出第一审判决或裁定",
            Rule::LitigationSecondInstance => "作出第二审判决或裁定",
            Rule::LitigationAppeal => "提起上诉",
        }
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for Rule {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

/// One computed deadline, as the server stores it and the clients show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deadline {
    pub rule: Rule,
    pub track: Track,
    pub kind: DeadlineKind,
    pub label: &'static str,
    /// The article the period comes from, e.g. `《行政复议法》第六十二条`.
    pub source: &'static str,
    pub start: LegalDate,
    /// What happened on the start day, e.g. `受理之日`.
    pub start_event: &'static str,
    /// The statutory period, before extension and suspension.
    pub period: Period,
    pub counting: Counting,
    pub extension_days: u32,
    pub suspended_days: u32,
    /// The last day as counted; `due` unless it was a rest day.
    pub last_day: LegalDate,
    pub due: LegalDate,
    pub shifted_from: Option<LegalDate>,
    pub calendar_years: Vec<YearBasis>,
    pub status: Status,
    pub met_on: Option<LegalDate>,
    pub explanation: String,
}

/// Every deadline that follows from what `case` records, with its status as of `today`.
pub fn case_deadlines(case: &Case, today: LegalDate, calendars: &Calendars, config: &ClockConfig) -> Vec<Deadline> {
    deadlines(&ClockFacts::from_case(case, today), calendars, config)
}

/// Every deadline the facts give rise to, in the order of LAW.md §2.
pub fn deadlines(facts: &ClockFacts, calendars: &Calendars, config: &ClockConfig) -> Vec<Deadline> {
    let mut out = Vec::new();
    let counter = Counter {
        calendars,
        today: facts.today,
    };
    petition_clocks(&facts.petition, &counter, config, &mut out);
    mediation_clocks(&facts.mediation, &counter, config, &mut out);
    reconsideration_clocks(&facts.reconsideration, &counter, config, &mut out);
    litigation_clocks(&facts.litigation, &counter, &mut out);
    out
}

/// A clock before counting: what it runs from, for how long, and what stopped it.
struct Clock {
    rule: Rule,
    source: &'static str,
    start: LegalDate,
    start_event: &'static str,
    period: Period,
    extension_days: u32,
    suspended_days: u32,
    met_on: Option<LegalDate>,
    /// An open 中止 that stops this clock today.
    suspended_since: Option<LegalDate>,
    /// Sentences (each ending in 。) on how the law was applied to these facts.
    notes: Vec<String>,
    /// Sentences added according to where the clock stands, after the status.
    consequence: Option<fn(&Deadline) -> Option<String>>,
}

impl Clock {
    fn new(
        rule: Rule,
        source: &'static str,
        start: LegalDate,
        start_event: &'static str,
        period: Period,
    ) -> Clock {
        Clock {
            rule,
            source,
            start,
            start_event,
            period,
            extension_days: 0,
            suspended_days: 0,
            met_on: None,
            suspended_since: None,
            notes: Vec::new(),
            consequence: None,
        }
    }

    fn met_on(mut self, date: Option<LegalDate>) -> Clock {
        self.met_on = date;
        self
    }

    fn note(mut self, note: impl Into<String>) -> Clock {
        self.notes.push(note.into());
        self
    }

    fn total(&self) -> Period {
        self.period
            .plus_days(self.extension_days.saturating_add(self.suspended_days))
    }
}

struct Counter<'a> {
    calendars: &'a Calendars,
    today: LegalDate,
}

impl Counter<'_> {
    fn end(&self, start: LegalDate, period: Period) -> PeriodEnd {
        self.calendars.period_end(start, period)
    }

    fn finish(&self, clock: Clock) -> Deadline {
        let end = self.end(clock.start, clock.total());
        self.finish_with(clock, end)
    }

    /// Builds the deadline from the counted end of its period.
    fn finish_with(&self, clock: Clock, end: PeriodEnd) -> Deadline {
        let today = self.today;
        let status = match clock.met_on {
            Some(met) if met <= end.due => Status::Met,
            Some(_) => Status::Late,
            None if clock.suspended_since.is_some() => Status::Suspended,
            None if today > end.due => Status::Overdue,
            None => Status::Running,
        };
        let rule = clock.rule;
        let mut text = format!(
            "{}（{}）：自{}（{}）起算，当日不计入；期限{}",
            rule.label(),
            clock.source,
            clock.start,
            clock.start_event,
            clock.period.describe()
        );
        if clock.extension_days > 0 {
            text.push_str(&format!("，经批准延长{}日", clock.extension_days));
        }
        if clock.suspended_days > 0 {
            text.push_str(&format!("，中止期间{}日不计入", clock.suspended_days));
        }
        if clock.extension_days > 0 || clock.suspended_days > 0 {
            match clock.total() {
                Period::WorkingDays(n) => text.push_str(&format!("，共{n}个工作日")),
                Period::CalendarDays(n) => text.push_str(&format!("，共{n}日")),
                Period::Months(_) | Period::Years(_) => {}
            }
        }
        text.push_str(&format!("，至{}届满", end.last_day));
        if let Some(from) = end.shifted_from {
            text.push_str(&format!("；期满日{}为休息日，顺延至{}", from, end.due));
        }
        text.push_str(&describe_fallback_years(&end.years));
        text.push('。');
        if let Some(official) = describe_official_years(&end.years) {
            text.push_str(&official);
            text.push('。');
        }
        for note in &clock.notes {
            text.push_str(note);
        }
        let act = rule.act();
        match (status, clock.met_on) {
            (Status::Met, Some(met)) => text.push_str(&format!("已于{met}{act}，在期限内。")),
            (Status::Late, Some(met)) => text.push_str(&format!(
                "已于{met}{act}，超过期限{}日。",
                days_between(end.due, met)
            )),
            (Status::Suspended, _) => text.push_str(&format!(
                "目前处于中止状态（自{}起），中止期间暂计至{today}，恢复后期满日相应顺延。",
                clock.suspended_since.unwrap_or(today)
            )),
            (Status::Overdue, _) => text.push_str(&format!(
                "截至{today}未记录{act}，已超过期限{}日。",
                days_between(end.due, today)
            )),
            _ if end.due == today => {
                text.push_str(&format!("截至{today}未记录{act}，期限今日届满。"))
            }
            _ => text.push_str(&format!(
                "截至{today}未记录{act}，剩余{}日。",
                days_between(today, end.due)
            )),
        }

        let mut deadline = Deadline {
            rule,
            track: rule.track(),
            kind: rule.kind(),
            label: rule.label(),
            source: clock.source,
            start: clock.start,
            start_event: clock.start_event,
            period: clock.period,
            counting: clock.period.counting(),
            extension_days: clock.extension_days,
            suspended_days: clock.suspended_days,
            last_day: end.last_day,
            due: end.due,
            shifted_from: end.shifted_from,
            calendar_years: end.years,
            status,
            met_on: clock.met_on,
            explanation: text,
        };
        if let Some(consequence) = clock.consequence.and_then(|c| c(&deadline)) {
            deadline.explanation.push_str(&consequence);
        }
        deadline
    }
}

fn days_between(from: LegalDate, to: LegalDate) -> i64 {
    (to.0 - from.0).num_days()
}

/// The days of an extension that count: approved, approved before the original period ran out,
/// and at most `cap` days. Explains any part it refuses.
fn approved_extension(
    extension: Option<ExtensionFacts>,
    original_due: LegalDate,
    cap: u32,
    notes: &mut Vec<String>,
) -> u32 {
    let Some(ExtensionFacts { days, approved_on }) = extension else {
        return 0;
    };
    if days == 0 {
        return 0;
    }
    let Some(approved_on) = approved_on else {
        notes.push(format!(
            "记录了延长{days}日，但未记录批准日期，延长不予计入。"
        ));
        return 0;
    };
    if approved_on > original_due {
        notes.push(format!(
            "延长于{approved_on}批准，晚于原期满日{original_due}，不予计入。"
        ));
        return 0;
    }
    if days > cap {
        notes.push(format!(
            "记录的延长{days}日超过法定上限{cap}日，按{cap}日计算。"
        ));
        return cap;
    }
    days
}

// ---------------------------------------------------------------------------------------------
// 信访 (XF)

const XF_23: &str = "《信访工作条例》第二十三条";
const XF_34: &str = "《信访工作条例》第三十四条";
const XF_35: &str = "《信访工作条例》第三十五条";
const XF_36: &str = "《信访工作条例》第三十六条";

fn petition_clocks(
    p: &PetitionFacts,
    counter: &Counter,
    config: &ClockConfig,
    out: &mut Vec<Deadline>,
) {
    let counting = config.petition_counting;
    let configured = |clock: Clock| match counting {
        Counting::CalendarDays => clock,
        Counting::WorkingDays => clock.note("按本地配置，本期限按工作日计算。"),
    };

    if let Some(received) = p.received_on {
        let clock = Clock::new(
            Rule::PetitionAcceptanceNotice,
            XF_23,
            received,
            "收到信访事项之日",
            counting.days(15),
        )
        .met_on(p.intake_notified_on);
        out.push(counter.finish(configured(clock)));
    }
    if let Some(received) = p.transfer_received_on {
        // XF 23 says 5 working days in so many words: not configurable.
        let clock = Clock::new(
            Rule::PetitionJurisdictionObjection,
            XF_23,
            received,
            "收到转送、交办事项之日",
            Period::WorkingDays(5),
        )
        .met_on(p.objection_raised_on);
        out.push(counter.finish(clock));
    }

    // Only route 6 is handled inside the petition track: it alone has the 60+30-day clock and
    // 复查/复核 (XF 31(6), 34–36).
    if p.route != Some(PetitionRoute::PetitionHandling) {
        return;
    }
    if let Some(accepted) = p.accepted_on {
        let period = counting.days(60);
        let original_due = counter.end(accepted, period).due;
        let mut clock = configured(
            Clock::new(Rule::PetitionHandling, XF_34, accepted, "受理之日", period)
                .met_on(p.reply_issued_on),
        );
        clock.extension_days = approved_extension(p.extension, original_due, 30, &mut clock.notes);
        out.push(counter.finish(clock));
    }
    let windows = [
        (
            Rule::PetitionReviewRequest,
            XF_35,
            p.reply_received_on,
            "收到信访处理意见书之日",
            p.review_requested_on,
        ),
        (
            Rule::PetitionReview,
            XF_35,
            p.review_requested_on,
            "收到复查请求之日",
            p.review_decided_on,
        ),
        (
            Rule::PetitionReReviewRequest,
            XF_36,
            p.review_received_on,
            "收到复查意见之日",
            p.re_review_requested_on,
        ),
        (
            Rule::PetitionReReview,
            XF_36,
            p.re_review_requested_on,
            "收到复核请求之日",
            p.re_review_decided_on,
        ),
    ];
    for (rule, source, start, start_event, met_on) in windows {
        if let Some(start) = start {
            let clock =
                Clock::new(rule, source, start, start_event, counting.days(30)).met_on(met_on);
            out.push(counter.finish(configured(clock)));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 人民调解 (TJ, SFB)

fn mediation_clocks(
    m: &MediationFacts,
    counter: &Counter,
    config: &ClockConfig,
    out: &mut Vec<Deadline>,
) {
    if let Some(accepted) = m.accepted_on {
        let days = config.mediation_period_days;
        let clock = Clock::new(
            Rule::MediationPeriod,
            "《人民调解工作若干规定》第三十三条",
            accepted,
            "受理调解之日",
            Period::CalendarDays(days),
        )
        .met_on(m.result_on)
        .note(format!("“一般在一个月内调结”，按本地配置计为{days}日。"));
        out.push(counter.finish(clock));

        if m.labour_dispute {
            let mut clock = Clock::new(
                Rule::MediationLabourArbitration,
                "《劳动争议调解仲裁法》第十四条",
                accepted,
                "收到调解申请之日",
                Period::CalendarDays(15),
            )
            .met_on(m.result_on);
            clock.consequence = Some(|d| match d.status {
                Status::Overdue => Some("期满未达成调解协议，当事人可以依法申请仲裁。".to_string()),
                Status::Running => {
                    Some("期满未达成调解协议的，当事人可以依法申请仲裁。".to_string())
                }
                _ => None,
            });
            out.push(counter.finish(clock));
        }
    }
    if let Some(effective) = m.agreement_effective_on {
        let clock = Clock::new(
            Rule::MediationJudicialConfirmation,
            "《人民调解法》第三十三条、《民事诉讼法》第二百零五条",
            effective,
            "调解协议生效之日",
            Period::CalendarDays(30),
        )
        .met_on(m.judicial_confirmation_applied_on)
        .note("双方当事人应共同申请。");
        out.push(counter.finish(clock));
    }
}

// ---------------------------------------------------------------------------------------------
// 行政复议 (FY). The 5- and 10-day periods are working days (FY 88); the others calendar days.

const FY_20_21: &str = "《行政复议法》第二十条、第二十一条";
const FY_30: &str = "《行政复议法》第三十条";
const FY_31: &str = "《行政复议法》第三十一条";
const FY_62: &str = "《行政复议法》第六十二条";
const SS_45: &str = "《行政诉讼法》第四十五条";

fn reconsideration_clocks(
    r: &ReconsiderationFacts,
    counter: &Counter,
    config: &ClockConfig,
    out: &mut Vec<Deadline>,
) {
    if let Some(deadline) = application_window(r, counter) {
        out.push(deadline);
    }

    let deemed_accepted_on = r
        .received_on
        .and_then(|received| intake_clocks(r, received, counter, out));

    let refused = matches!(
        r.intake,
        Some(ReconsiderationIntake::NotAccepted | ReconsiderationIntake::ApplicationDismissed)
    );
    if refused {
        return;
    }
    let recorded_acceptance = r.accepted_on.or(r
        .intake_decided_on
        .filter(|_| r.intake == Some(ReconsiderationIntake::Accepted)));
    let (accepted, accepted_event) = match (recorded_acceptance, deemed_accepted_on) {
        (Some(date), _) => (date, "受理之日"),
        (None, Some(date)) => (date, "视为受理之日"),
        (None, None) => return,
    };
    let decision = decision_clock(r, accepted, accepted_event, counter, config);
    let decision_deadline = counter.finish(decision);

    let lawsuit = lawsuit_window(r, &decision_deadline);
    out.push(decision_deadline);
    if let Some(clock) = lawsuit {
        out.push(counter.finish(clock));
    }
}

/// FY 30–31: the review of the application, and the 补正 windows. Returns the day the application
/// is deemed accepted, if the review ran out without a decision.
fn intake_clocks(
    r: &ReconsiderationFacts,
    received: LegalDate,
    counter: &Counter,
    out: &mut Vec<Deadline>,
) -> Option<LegalDate> {
    if r.correction_notified_on.is_some() {
        let clock = Clock::new(
            Rule::ReconsiderationCorrectionNotice,
            FY_31,
            received,
            "收到行政复议申请之日",
            Period::WorkingDays(5),
        )
        .met_on(r.correction_notified_on);
        out.push(counter.finish(clock));
    }
    if let Some(notice_received) = r.correction_received_on {
        let mut clock = Clock::new(
            Rule::ReconsiderationCorrectionSupply,
            FY_31,
            notice_received,
            "收到补正通知之日",
            Period::WorkingDays(10),
        )
        .met_on(r.correction_supplied_on);
        clock.consequence = Some(|d| match d.status {
            Status::Overdue => {
                Some("无正当理由逾期不补正的，视为申请人放弃行政复议申请。".to_string())
            }
            Status::Running => Some("无正当理由逾期不补正的，视为放弃行政复议申请。".to_string()),
            _ => None,
        });
        out.push(counter.finish(clock));
    }

    // The review runs from receipt, or afresh from the supplied materials (FY 31: "收到补正材料后，
    // 依照本法第三十条的规定处理"). While a notice is out and nothing has come back, there is no
    // review clock: the applicant's 补正 window runs instead.
    let (start, start_event) = match (r.correction_notified_on, r.correction_supplied_on) {
        (_, Some(supplied)) => (supplied, "收到补正材料之日"),
        (Some(_), None) => return None,
        (None, None) => (received, "收到行政复议申请之日"),
    };
    let intake_decision = r.intake_decided_on.or(r.accepted_on);
    let mut clock = Clock::new(
        Rule::ReconsiderationAcceptanceReview,
        FY_30,
        start,
        start_event,
        Period::WorkingDays(5),
    )
    .met_on(intake_decision);
    clock.consequence = Some(|d| match d.status {
        Status::Overdue => Some(format!(
            "审查期限届满未作出不予受理决定，自{}起视为受理。",
            d.due
        )),
        Status::Running => {
            Some("审查期限届满未作出不予受理决定的，自期满之日起视为受理。".to_string())
        }
        _ => None,
    });
    let deadline = counter.finish(clock);
    let deemed_accepted_on = (deadline.status == Status::Overdue).then_some(deadline.due);
    out.push(deadline);
    deemed_accepted_on
}

/// FY 20–21: the earliest of 60 days from knowing the act (or, not told of the right, 60 days from
/// learning of it, capped at one year from knowing the act) and the absolute bar from the act.
fn application_window(r: &ReconsiderationFacts, counter: &Counter) -> Option<Deadline> {
    struct Limit {
        start: LegalDate,
        start_event: &'static str,
        period: Period,
        end: PeriodEnd,
    }
    let limit = |start: LegalDate, start_event: &'static str, period: Period| Limit {
        start,
        start_event,
        period,
        end: counter.end(start, period),
    };

    let mut limits = Vec::new();
    let mut notes = Vec::new();
    if let Some(known) = r.act_known_on {
        match r.right_notified {
            Some(true) => limits.push(limit(known, "知道该行政行为之日", Period::CalendarDays(60))),
            None => {
                notes.push(
                    "未记录是否告知申请行政复议的权利和期限，按已告知计算；未告知的，期限自知道申请权利之日起计算，\
                     但最长不超过自知道该行政行为之日起1年。"
                        .to_string(),
                );
                limits.push(limit(known, "知道该行政行为之日", Period::CalendarDays(60)));
            }
            Some(false) => {
                notes.push(
                    "行政机关未告知申请行政复议的权利、复议机关和申请期限，期限自知道申请权利之日起计算，\
                     但最长不超过自知道该行政行为之日起1年。"
                        .to_string(),
                );
                match r.right_learned_on {
                    Some(learned) => limits.push(limit(
                        learned,
                        "知道申请行政复议权利之日",
                        Period::CalendarDays(60),
                    )),
                    None => notes.push("未记录知道申请权利的日期。".to_string()),
                }
                limits.push(limit(known, "知道该行政行为之日", Period::Years(1)));
            }
        }
    }
    let bar_years = if r.real_property { 20 } else { 5 };
    match r.act_made_on {
        Some(made) => limits.push(limit(made, "行政行为作出之日", Period::Years(bar_years))),
        None => notes.push(format!(
            "未记录行政行为作出日期，未核对自作出之日起{bar_years}年的最长申请期限。"
        )),
    }
    if r.real_property {
        notes.push("因不动产提出申请，最长申请期限为自行政行为作出之日起20年。".to_string());
    }

    // The earliest limit to run out binds; on a tie the first listed (the 60 days) is named.
    let binding = (0..limits.len()).min_by_key(|i| limits[*i].end.due)?;
    let others: Vec<String> = limits
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != binding)
        .map(|(_, l)| {
            let shifted = match l.end.shifted_from {
                Some(_) => format!("，顺延至{}", l.end.due),
                None => String::new(),
            };
            format!(
                "自{}（{}）起{}，至{}届满{shifted}{}",
                l.start,
                l.start_event,
                l.period.describe(),
                l.end.last_day,
                describe_fallback_years(&l.end.years)
            )
        })
        .collect();
    if !others.is_empty() {
        notes.push(format!(
            "另核对：{}；以上各项以最早届满者为准。",
            others.join("；")
        ));
    }
    let chosen = limits.swap_remove(binding);
    let mut clock = Clock::new(
        Rule::ReconsiderationApplication,
        FY_20_21,
        chosen.start,
        chosen.start_event,
        chosen.period,
    )
    .met_on(r.received_on);
    clock.notes = notes;
    Some(counter.finish_with(clock, chosen.end))
}

/// FY 62: 60 days from acceptance (+ up to 30 approved), simplified 30; suspensions add their days
/// when the configuration says they stop the clock (FY 39).
fn decision_clock(
    r: &ReconsiderationFacts,
    accepted: LegalDate,
    accepted_event: &'static str,
    counter: &Counter,
    config: &ClockConfig,
) -> Clock {
    let simplified = r.procedure == Some(Procedure::Simplified);
    let period = Period::CalendarDays(if simplified { 30 } else { 60 });
    let mut clock = Clock::new(
        Rule::ReconsiderationDecision,
        FY_62,
        accepted,
        accepted_event,
        period,
    )
    .met_on(r.decided_on);
    match r.procedure {
        Some(Procedure::Simplified) => clock.notes.push("适用简易程序。".to_string()),
        Some(Procedure::Ordinary) => {}
        None => clock
            .notes
            .push("未记录审理程序，按普通程序计算。".to_string()),
    }
    if simplified {
        if r.extension.is_some_and(|e| e.days > 0) {
            clock
                .notes
                .push("简易程序的决定期限不得延长，记录的延长不予计入。".to_string());
        }
    } else {
        let original_due = counter.end(accepted, period).due;
        clock.extension_days = approved_extension(r.extension, original_due, 30, &mut clock.notes);
    }

    if r.suspensions.is_empty() {
        return clock;
    }
    if config.suspension == SuspensionEffect::ClockRuns {
        clock
            .notes
            .push("按本地配置，中止不停止决定期限的计算。".to_string());
        return clock;
    }
    let mut suspensions = r.suspensions.clone();
    suspensions.sort_by_key(|s| s.from);
    let today = counter.today;
    // Days up to this one are already counted as suspended: overlapping records count once.
    let mut covered_until = accepted;
    let mut spans = Vec::new();
    for s in suspensions {
        if let Some(to) = s.to.filter(|to| *to < s.from) {
            clock.notes.push(format!(
                "中止记录{}至{}的日期顺序有误，未计入。",
                s.from, to
            ));
            continue;
        }
        if r.decided_on.is_some_and(|decided| s.from >= decided) || s.from > today {
            continue;
        }
        let due_so_far = counter.end(accepted, clock.total()).due;
        if s.from > due_so_far {
            clock.notes.push(format!(
                "{}起的中止晚于决定期限届满日{}，不顺延。",
                s.from, due_so_far
            ));
            continue;
        }
        let open = s.to.is_none_or(|to| to > today) && r.decided_on.is_none();
        let mut until = s.to.unwrap_or(today).min(today);
        if let Some(decided) = r.decided_on {
            until = until.min(decided);
        }
        let from = s.from.max(covered_until);
        let days = u32::try_from(days_between(from, until).max(0)).unwrap_or(u32::MAX);
        covered_until = covered_until.max(until);
        clock.suspended_days = clock.suspended_days.saturating_add(days);
        let overlap = if from > s.from {
            "，与此前中止重叠的部分不重复计算"
        } else {
            ""
        };
        if open {
            clock.suspended_since = Some(s.from);
            spans.push(format!("{}起至今（暂计{}日{overlap}）", s.from, days));
        } else {
            spans.push(format!("{}至{}（{}日{overlap}）", s.from, until, days));
        }
    }
    if !spans.is_empty() {
        clock
            .notes
            .push(format!("中止期间：{}。", spans.join("、")));
    }
    clock
}

/// SS 45: 15 days from receiving the decision; without a decision in time, 15 days from the end of
/// the decision period. Endings that are not decisions on the merits (mediation, withdrawal,
/// termination) open no such window here.
fn lawsuit_window(r: &ReconsiderationFacts, decision: &Deadline) -> Option<Clock> {
    use ReconsiderationDecision as D;
    let decided_on_merits = match r.decision {
        None => true,
        Some(kind) => matches!(
            kind,
            D::Changed
                | D::Revoked
                | D::PartlyRevoked
                | D::ConfirmedIllegal
                | D::OrderedToPerform
                | D::ConfirmedVoid
                | D::Upheld
                | D::ClaimDismissed
        ),
    };
    if let Some(received) = r.decision_received_on {
        if !decided_on_merits {
            return None;
        }
        let clock = Clock::new(
            Rule::ReconsiderationLawsuit,
            SS_45,
            received,
            "收到行政复议决定书之日",
            Period::CalendarDays(15),
        )
        .met_on(r.lawsuit_filed_on);
        return Some(clock);
    }
    if r.decided_on.is_none() && decision.status == Status::Overdue {
        let clock = Clock::new(
            Rule::ReconsiderationLawsuit,
            SS_45,
            decision.due,
            "行政复议期满之日",
            Period::CalendarDays(15),
        )
        .met_on(r.lawsuit_filed_on)
        .note("行政复议机关逾期未作出决定，申请人可以自复议期满之日起15日内提起诉讼。");
        return Some(clock);
    }
    None
}

// ---------------------------------------------------------------------------------------------
// 行政诉讼 (SS)

fn litigation_clocks(l: &LitigationFacts, counter: &Counter, out: &mut Vec<Deadline>) {
    if let Some(received) = l.complaint_received_on {
        let clock = Clock::new(
            Rule::LitigationDefence,
            "《行政诉讼法》第六十七条",
            received,
            "收到起诉状副本之日",
            Period::CalendarDays(15),
        )
        .met_on(l.defence_filed_on)
        .note("逾期提供的证据视为没有相应证据（《行政诉讼法》第三十四条）。");
        out.push(counter.finish(clock));
    }

    let (first_instance, instance_note) = match l.instance {
        Some(Instance::First) => (true, None),
        None => (true, Some("未记录审级，按第一审计算。")),
        Some(Instance::Second) | Some(Instance::Retrial) => (false, None),
    };
    if let Some(registered) = l.registered_on {
        let clock = if first_instance {
            let mut clock = match l.procedure {
                Some(Procedure::Simplified) => Clock::new(
                    Rule::LitigationFirstInstance,
                    "《行政诉讼法》第八十三条",
                    registered,
                    "立案之日",
                    Period::CalendarDays(45),
                )
                .note("适用简易程序。"),
                _ => Clock::new(
                    Rule::LitigationFirstInstance,
                    "《行政诉讼法》第八十一条",
                    registered,
                    "立案之日",
                    Period::Months(6),
                ),
            };
            if let Some(note) = instance_note {
                clock = clock.note(note);
            }
            Some(clock)
        } else if l.instance == Some(Instance::Second) {
            Some(Clock::new(
                Rule::LitigationSecondInstance,
                "《行政诉讼法》第八十八条",
                registered,
                "收到上诉状（立案）之日",
                Period::Months(3),
            ))
        } else {
            None
        };
        if let Some(clock) = clock {
            out.push(counter.finish(clock.met_on(l.judged_on)));
        }
    }

    // SS 85: only first-instance judgments and rulings are appealable, and of the rulings only
    // 不予立案 and 驳回起诉 among our outcomes (SSJ 101); a mediation document is not.
    if let (true, Some(served), Some(outcome)) = (first_instance, l.judgment_served_on, l.outcome) {
        use LitigationOutcome as O;
        let (days, start_event, what) = match outcome {
            O::NotRegistered | O::ComplaintDismissed => (10, "裁定书送达之日", "裁定"),
            O::ClaimRejected
            | O::Revoked
            | O::Perform
            | O::Payment
            | O::ConfirmedIllegal
            | O::ConfirmedVoid
            | O::Changed => (15, "判决书送达之日", "判决"),
            O::WithdrawalPermitted
            | O::Mediation
            | O::AppealDismissed
            | O::JudgmentChanged
            | O::Remanded => return,
        };
        let mut clock = Clock::new(
            Rule::LitigationAppeal,
            "《行政诉讼法》第八十五条",
            served,
            start_event,
            Period::CalendarDays(days),
        )
        .met_on(l.appeal_filed_on)
        .note(format!(
            "第一审{what}（{}），上诉期限{days}日。",
            outcome.label()
        ));
        if let Some(note) = instance_note {
            clock = clock.note(note);
        }
        out.push(counter.finish(clock));
    }
}
