//! The rates supervisors track (LAW.md §4), as pure functions over per-case fact records.
//!
//! Both the server's projection tables and an independent recomputation from hydrated documents
//! reduce a case to the same small fact records below; the functions here turn a set of records
//! into a [`Rate`], an exact fraction. Which cases are in the set (the reporting period, the
//! unit) is the caller's selection, the same for every rate: these functions count what they are
//! given and know nothing of periods or units.
//!
//! Percentages are computed by integer arithmetic only, so that Rust, SQL and the web dashboard
//! can never disagree in the last digit.

use std::borrow::Borrow;
use std::collections::BTreeSet;
use std::fmt;

use serde::ser::{SerializeMap, SerializeStruct};
use serde::{Deserialize, Serialize, Serializer};

use crate::time::LegalDate;
use crate::vocab::{Instance, LitigationOutcome, MediationResult, ReconsiderationDecision, Satisfaction};

/// A rate: how many of the counted cases (`denominator`) met the rule (`numerator`).
///
/// Invariant: `numerator <= denominator`, so a rate is never above 100%.
///
/// For people it is written as a percentage with exactly two decimals, rounded half up
/// (1140/1153 → `98.87%`), and `—` when nothing was counted. A full rate is written `100.00%`,
/// not `100%`: the same two decimals in every row keeps a column of rates aligned and comparable,
/// and `percent_2dp() == Some(10000)` is how code asks for "all of them". Note that half-up
/// rounding also writes 19999/20000 as `100.00%`; the counts ([`Rate::with_counts`]) show that one
/// case was missed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Rate {
    numerator: u64,
    denominator: u64,
}

/// A numerator larger than its denominator: a counting error in the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("比率的分子 {numerator} 大于分母 {denominator}")]
pub struct NumeratorExceedsDenominator {
    pub numerator: u64,
    pub denominator: u64,
}

impl Rate {
    /// The rate of nothing counted: `0/0`, written `—`.
    pub const EMPTY: Rate = Rate { numerator: 0, denominator: 0 };

    /// The rate `numerator / denominator`, e.g. from the counts of a projection table.
    pub fn new(numerator: u64, denominator: u64) -> Result<Rate, NumeratorExceedsDenominator> {
        if numerator > denominator {
            return Err(NumeratorExceedsDenominator { numerator, denominator });
        }
        Ok(Rate { numerator, denominator })
    }

    pub fn numerator(self) -> u64 {
        self.numerator
    }

    pub fn denominator(self) -> u64 {
        self.denominator
    }

    /// The percentage in hundredths of a percent (basis points), rounded half up: `Some(9887)` for
    /// 98.87%, `Some(10000)` for 100%. `None` when the denominator is zero.
    pub fn percent_2dp(self) -> Option<u16> {
        if self.denominator == 0 {
            return None;
        }
        // round(n × 10000 / d) half up = floor((2 × n × 10000 + d) / (2 × d)). u128 cannot
        // overflow: 2 × 10000 × u64::MAX + u64::MAX < 2^79.
        let numerator = u128::from(self.numerator);
        let denominator = u128::from(self.denominator);
        let basis_points = (2 * numerator * 10_000 + denominator) / (2 * denominator);
        Some(u16::try_from(basis_points).expect("numerator <= denominator keeps a rate within 10000 basis points"))
    }

    /// Written with its counts, as a dashboard cell: `98.87%（1140/1153）`, or `—（0/0）`.
    pub fn with_counts(self) -> RateWithCounts {
        RateWithCounts(self)
    }

    /// Counts one more case in the denominator, and in the numerator if it `met` the rule.
    fn count(&mut self, met: bool) {
        self.denominator += 1;
        if met {
            self.numerator += 1;
        }
    }
}

/// Rates of disjoint sets of cases add up: townships to a county, months to a year.
impl std::ops::Add for Rate {
    type Output = Rate;
    fn add(self, other: Rate) -> Rate {
        // Saturating addition is monotone, so the invariant survives even at the (unreachable)
        // limit of u64.
        Rate {
            numerator: self.numerator.saturating_add(other.numerator),
            denominator: self.denominator.saturating_add(other.denominator),
        }
    }
}

impl std::iter::Sum for Rate {
    fn sum<I: Iterator<Item = Rate>>(iter: I) -> Rate {
        iter.fold(Rate::EMPTY, |sum, rate| sum + rate)
    }
}

/// The percentage as printed in a report: `98.87%`, `100.00%`, or `—` when nothing was counted.
/// Width and alignment flags apply (`{:>8}`).
impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.percent_2dp() {
            Some(bp) => f.pad(&format!("{}.{:02}%", bp / 100, bp % 100)),
            None => f.pad("—"),
        }
    }
}

/// A rate written with its counts: `98.87%（1140/1153）`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateWithCounts(Rate);

impl fmt::Display for RateWithCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}（{}/{}）", self.0, self.0.numerator, self.0.denominator)
    }
}

/// In JSON a rate carries its counts, its basis points and the text to show, so that a client
/// never computes a percentage itself:
/// `{"numerator":1140,"denominator":1153,"percent_2dp":9887,"percent":"98.87%"}`; with a zero
/// denominator the last two are `null`.
impl Serialize for Rate {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let percent_2dp = self.percent_2dp();
        let mut s = serializer.serialize_struct("Rate", 4)?;
        s.serialize_field("numerator", &self.numerator)?;
        s.serialize_field("denominator", &self.denominator)?;
        s.serialize_field("percent_2dp", &percent_2dp)?;
        s.serialize_field("percent", &percent_2dp.map(|_| self.to_string()))?;
        s.end()
    }
}

/// Counts the records that a rule does not exclude (`Some`), and of those the ones that met it
/// (`Some(true)`).
fn tally<T, R: Borrow<T>>(records: impl IntoIterator<Item = R>, rule: impl Fn(&T) -> Option<bool>) -> Rate {
    let mut rate = Rate::EMPTY;
    for record in records {
        if let Some(met) = rule(record.borrow()) {
            rate.count(met);
        }
    }
    rate
}

// ---------------------------------------------------------------------------------------------
// Configuration

/// How a concluded reconsideration counts towards the correction rates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Correction {
    /// 直接纠错: the decision itself corrects the act.
    Direct,
    /// 间接纠错: the case closed because the act was corrected or the dispute settled.
    Indirect,
    /// 未纠错.
    NotCorrected,
}

impl Correction {
    /// The zh-CN label shown to people.
    pub fn label(self) -> &'static str {
        match self {
            Correction::Direct => "直接纠错",
            Correction::Indirect => "间接纠错",
            Correction::NotCorrected => "未纠错",
        }
    }
}

/// The configurable definitions behind the rates (LAW.md §4), settled and validated once.
///
/// Loaded with serde from TOML or JSON, using vocabulary codes; a key left out keeps its default:
///
/// ```toml
/// # The defaults, written out.
/// direct_correction = [
///     "changed", "revoked", "partly_revoked", "confirmed_illegal", "confirmed_void", "ordered_to_perform",
/// ]
/// indirect_correction = ["mediation", "settled_withdrawn", "corrected_withdrawn"]
/// lost_lawsuit = ["revoked", "perform", "payment", "confirmed_illegal", "confirmed_void", "changed"]
/// ```
///
/// **Correction defaults** (LAW.md §4, FY 63–67, 73–74): direct = 变更, 撤销 and 部分撤销,
/// 确认违法, 确认无效, 责令履行; indirect = 调解书结案, 和解后撤回终止, 被申请人自行纠正后撤回终止.
/// Every other decision is not a correction but still a concluded case: 维持, 驳回复议请求,
/// a plain 申请人撤回终止 (nothing shows the act was corrected), and 其他原因终止. The published
/// 76.15% (83 / 109) counts all 83 of its cases closed by mediation, settlement or withdrawal
/// after correction as indirect corrections, and none as direct.
///
/// **Lost lawsuit** (败诉) defaults to the first-instance judgments against the agency: 撤销,
/// 履行, 给付, 确认违法, 确认无效, 变更. Mediation, withdrawal and dismissals are not losses.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "RateConfigFile")]
pub struct RateConfig {
    direct_correction: BTreeSet<ReconsiderationDecision>,
    indirect_correction: BTreeSet<ReconsiderationDecision>,
    lost_lawsuit: BTreeSet<LitigationOutcome>,
}

/// The configuration as written, before validation.
#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RateConfigFile {
    direct_correction: BTreeSet<ReconsiderationDecision>,
    indirect_correction: BTreeSet<ReconsiderationDecision>,
    lost_lawsuit: BTreeSet<LitigationOutcome>,
}

impl Default for RateConfigFile {
    fn default() -> Self {
        use LitigationOutcome as L;
        use ReconsiderationDecision as D;
        RateConfigFile {
            direct_correction: BTreeSet::from([
                D::Changed,
                D::Revoked,
                D::PartlyRevoked,
                D::ConfirmedIllegal,
                D::ConfirmedVoid,
                D::OrderedToPerform,
            ]),
            indirect_correction: BTreeSet::from([D::Mediation, D::SettledWithdrawn, D::CorrectedWithdrawn]),
            lost_lawsuit: BTreeSet::from([
                L::Revoked,
                L::Perform,
                L::Payment,
                L::ConfirmedIllegal,
                L::ConfirmedVoid,
                L::Changed,
            ]),
        }
    }
}

/// A rate configuration that contradicts itself or the formulas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RateConfigError {
    #[error("复议结案方式「{}」（{}）不能同时列为直接纠错和间接纠错", .0.label(), .0.code())]
    CorrectionInBothClasses(ReconsiderationDecision),
    /// 败诉率 counts first-instance cases concluded; an outcome that cannot conclude one would
    /// silently never count.
    #[error("「{}」（{}）不是一审审结方式，不能列入败诉定义：败诉率只统计一审审结案件", .0.label(), .0.code())]
    NotAFirstInstanceConclusion(LitigationOutcome),
}

impl TryFrom<RateConfigFile> for RateConfig {
    type Error = RateConfigError;
    fn try_from(file: RateConfigFile) -> Result<Self, RateConfigError> {
        if let Some(&both) = file.direct_correction.intersection(&file.indirect_correction).next() {
            return Err(RateConfigError::CorrectionInBothClasses(both));
        }
        if let Some(&outcome) = file.lost_lawsuit.iter().find(|o| !concludes_first_instance(**o)) {
            return Err(RateConfigError::NotAFirstInstanceConclusion(outcome));
        }
        Ok(RateConfig {
            direct_correction: file.direct_correction,
            indirect_correction: file.indirect_correction,
            lost_lawsuit: file.lost_lawsuit,
        })
    }
}

impl Default for RateConfig {
    fn default() -> Self {
        RateConfig::try_from(RateConfigFile::default()).expect("the default rate configuration is valid")
    }
}

impl RateConfig {
    /// How a reconsideration that ended with `decision` counts towards the correction rates.
    pub fn correction(&self, decision: ReconsiderationDecision) -> Correction {
        if self.direct_correction.contains(&decision) {
            Correction::Direct
        } else if self.indirect_correction.contains(&decision) {
            Correction::Indirect
        } else {
            Correction::NotCorrected
        }
    }

    /// Whether a first-instance lawsuit that ended with `outcome` was lost by the agency (败诉).
    pub fn is_lost(&self, outcome: LitigationOutcome) -> bool {
        self.lost_lawsuit.contains(&outcome)
    }
}

/// Whether a first-instance lawsuit that ended this way counts as a concluded first-instance case
/// (一审审结). A complaint the court would not register (不予立案) never became a case; the appeal
/// outcomes belong to the second instance.
fn concludes_first_instance(outcome: LitigationOutcome) -> bool {
    use LitigationOutcome as L;
    !matches!(outcome, L::NotRegistered | L::AppealDismissed | L::JudgmentChanged | L::Remanded)
}

// ---------------------------------------------------------------------------------------------
// Fact records

/// One mediated dispute. `result` is `None` while the mediation is under way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MediationFacts {
    pub result: Option<MediationResult>,
}

/// One reconsideration case. `decision` is `None` until the case is concluded; cases that ended at
/// intake (不予受理, 驳回申请) were never accepted and have no decision either.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReconsiderationFacts {
    pub decision: Option<ReconsiderationDecision>,
}

/// Who appeared for the agency at the hearings of one lawsuit in one instance (SS 3; CT 5–12).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Attendance {
    /// No hearing in court (e.g. dismissed on the papers): not counted in 出庭应诉率.
    NotHeard,
    /// The agency head (chief or deputy) appeared.
    Head,
    /// The head sent staff of the agency and did not appear.
    StaffOnly,
    /// Only a lawyer appeared: never counts as the head appearing.
    LawyerOnly,
    /// Nobody appeared for the agency.
    Nobody,
}

impl Attendance {
    /// The zh-CN label shown to people.
    pub fn label(self) -> &'static str {
        match self {
            Attendance::NotHeard => "未开庭审理",
            Attendance::Head => "负责人出庭",
            Attendance::StaffOnly => "仅工作人员出庭",
            Attendance::LawyerOnly => "仅律师出庭",
            Attendance::Nobody => "无人出庭",
        }
    }
}

/// The attendance fields of a litigation section for one instance, as recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct RecordedAttendance {
    pub heard_in_court: bool,
    pub head_appeared: bool,
    pub staff_appeared: bool,
    pub lawyer_only: bool,
}

/// The one reading of the recorded fields. The lawyer-only flag wins over a recorded head
/// appearance: the two contradict each other, and a rate the law watches must not count an
/// appearance the record itself doubts.
impl From<RecordedAttendance> for Attendance {
    fn from(r: RecordedAttendance) -> Attendance {
        if !r.heard_in_court {
            Attendance::NotHeard
        } else if r.lawyer_only {
            Attendance::LawyerOnly
        } else if r.head_appeared {
            Attendance::Head
        } else if r.staff_appeared {
            Attendance::StaffOnly
        } else {
            Attendance::Nobody
        }
    }
}

/// One administrative lawsuit in one instance: a case appealed to the second instance has two
/// records. `outcome` is `None` until that instance is concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LawsuitFacts {
    pub instance: Instance,
    pub attendance: Attendance,
    pub outcome: Option<LitigationOutcome>,
}

/// Where a task with a time limit stood on the day a report is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Timeliness {
    /// Done on or before its last day.
    OnTime,
    /// Done after its last day.
    Late,
    /// Not done, and its last day has passed.
    Overdue,
    /// Not done, and still within its time limit: not counted yet.
    Pending,
}

impl Timeliness {
    /// Where a task stood at the end of `as_of`, given the last day of its time limit (`due`, as
    /// computed by the legal clocks, extensions included) and the day it was done, if it was.
    /// A task done after `as_of` was not yet done then, so a past period's report can be
    /// recomputed later with the same result.
    pub fn assess(due: LegalDate, done_on: Option<LegalDate>, as_of: LegalDate) -> Timeliness {
        match done_on.filter(|&done| done <= as_of) {
            Some(done) if done <= due => Timeliness::OnTime,
            Some(_) => Timeliness::Late,
            None if as_of > due => Timeliness::Overdue,
            None => Timeliness::Pending,
        }
    }

    /// The zh-CN label shown to people.
    pub fn label(self) -> &'static str {
        match self {
            Timeliness::OnTime => "按期完成",
            Timeliness::Late => "逾期完成",
            Timeliness::Overdue => "逾期未完成",
            Timeliness::Pending => "未到期",
        }
    }

    /// Counted as met, counted as missed, or not counted yet.
    fn rule(self) -> Option<bool> {
        match self {
            Timeliness::OnTime => Some(true),
            Timeliness::Late | Timeliness::Overdue => Some(false),
            Timeliness::Pending => None,
        }
    }
}

/// One case measured against its handling time limit (办理期限), for 按期办结率.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DeadlineFacts {
    pub conclusion: Timeliness,
}

/// One petition measured against its intake time limit (XF 23: decide and tell the petitioner
/// within 15 days), for 及时受理率. Any intake decision counts (受理, 不予受理, 转送, 交办): the
/// rate measures whether the organ decided in time, not what it decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AcceptanceFacts {
    pub decision: Timeliness,
}

// ---------------------------------------------------------------------------------------------
// The rates

/// 调解成功率: successful mediations ÷ (successful + failed).
///
/// Disputes where a party refused mediation (TJ 17) or that were only screened (排查) were never
/// mediated, and mediations still under way have no result: none of them is counted.
pub fn mediation_success<R: Borrow<MediationFacts>>(records: impl IntoIterator<Item = R>) -> Rate {
    tally(records, |m: &MediationFacts| match m.result? {
        MediationResult::Success => Some(true),
        MediationResult::Failed => Some(false),
        MediationResult::Refused | MediationResult::Screened => None,
    })
}

/// 综合纠错率: (direct + indirect corrections) ÷ reconsideration cases concluded.
pub fn comprehensive_correction<R: Borrow<ReconsiderationFacts>>(
    config: &RateConfig,
    records: impl IntoIterator<Item = R>,
) -> Rate {
    tally(records, |r: &ReconsiderationFacts| r.decision.map(|d| config.correction(d) != Correction::NotCorrected))
}

/// 直接纠错率: direct corrections ÷ reconsideration cases concluded.
pub fn direct_correction<R: Borrow<ReconsiderationFacts>>(
    config: &RateConfig,
    records: impl IntoIterator<Item = R>,
) -> Rate {
    tally(records, |r: &ReconsiderationFacts| r.decision.map(|d| config.correction(d) == Correction::Direct))
}

/// 出庭应诉率: lawsuit instances where the agency head appeared ÷ lawsuit instances heard in court.
/// Counted per case and per instance, in every instance; staff or a lawyer alone do not count.
pub fn head_appearance<R: Borrow<LawsuitFacts>>(records: impl IntoIterator<Item = R>) -> Rate {
    tally(records, |l: &LawsuitFacts| match l.attendance {
        Attendance::NotHeard => None,
        Attendance::Head => Some(true),
        Attendance::StaffOnly | Attendance::LawyerOnly | Attendance::Nobody => Some(false),
    })
}

/// 败诉率: first-instance lawsuits lost by the agency ÷ first-instance lawsuits concluded.
/// Complaints the court would not register (不予立案) are not concluded cases.
pub fn lawsuit_loss<R: Borrow<LawsuitFacts>>(config: &RateConfig, records: impl IntoIterator<Item = R>) -> Rate {
    tally(records, |l: &LawsuitFacts| {
        let outcome = l.outcome.filter(|&o| l.instance == Instance::First && concludes_first_instance(o))?;
        Some(config.is_lost(outcome))
    })
}

/// 按期办结率: concluded within the time limit ÷ (concluded + overdue and not concluded).
pub fn on_time<R: Borrow<DeadlineFacts>>(records: impl IntoIterator<Item = R>) -> Rate {
    tally(records, |d: &DeadlineFacts| d.conclusion.rule())
}

/// 及时受理率: intake decided within the time limit ÷ (in time + late + overdue and undecided).
pub fn timely_acceptance<R: Borrow<AcceptanceFacts>>(records: impl IntoIterator<Item = R>) -> Rate {
    tally(records, |a: &AcceptanceFacts| a.decision.rule())
}

/// 群众满意率: (满意 + 基本满意) ÷ rated. Cases nobody rated (`None`) are not counted.
pub fn satisfaction<R: Borrow<Option<Satisfaction>>>(ratings: impl IntoIterator<Item = R>) -> Rate {
    tally(ratings, |s: &Option<Satisfaction>| {
        Some(matches!(s.as_ref()?, Satisfaction::Satisfied | Satisfaction::BasicallySatisfied))
    })
}

// ---------------------------------------------------------------------------------------------
// The report

/// The rates of LAW.md §4, with a stable code (JSON keys) and the zh-CN label of the reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RateKind {
    MediationSuccess,
    ComprehensiveCorrection,
    DirectCorrection,
    HeadAppearance,
    LawsuitLoss,
    OnTime,
    TimelyAcceptance,
    Satisfaction,
}

impl RateKind {
    /// Every rate, in the order of LAW.md §4.
    pub const ALL: &'static [RateKind] = &[
        RateKind::MediationSuccess,
        RateKind::ComprehensiveCorrection,
        RateKind::DirectCorrection,
        RateKind::HeadAppearance,
        RateKind::LawsuitLoss,
        RateKind::OnTime,
        RateKind::TimelyAcceptance,
        RateKind::Satisfaction,
    ];

    /// The stable code, used as the JSON key.
    pub fn code(self) -> &'static str {
        match self {
            RateKind::MediationSuccess => "mediation_success",
            RateKind::ComprehensiveCorrection => "comprehensive_correction",
            RateKind::DirectCorrection => "direct_correction",
            RateKind::HeadAppearance => "head_appearance",
            RateKind::LawsuitLoss => "lawsuit_loss",
            RateKind::OnTime => "on_time",
            RateKind::TimelyAcceptance => "timely_acceptance",
            RateKind::Satisfaction => "satisfaction",
        }
    }

    /// The zh-CN label, as the annual reports name the rate.
    pub fn label(self) -> &'static str {
        match self {
            RateKind::MediationSuccess => "调解成功率",
            RateKind::ComprehensiveCorrection => "行政复议综合纠错率",
            RateKind::DirectCorrection => "行政复议直接纠错率",
            RateKind::HeadAppearance => "行政机关负责人出庭应诉率",
            RateKind::LawsuitLoss => "行政诉讼败诉率",
            RateKind::OnTime => "按期办结率",
            RateKind::TimelyAcceptance => "及时受理率",
            RateKind::Satisfaction => "群众满意率",
        }
    }
}

/// The fact records of the cases a report covers, one list per rate family.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RateRecords {
    pub mediations: Vec<MediationFacts>,
    pub reconsiderations: Vec<ReconsiderationFacts>,
    /// One record per lawsuit per instance.
    pub lawsuits: Vec<LawsuitFacts>,
    pub deadlines: Vec<DeadlineFacts>,
    pub acceptances: Vec<AcceptanceFacts>,
    pub ratings: Vec<Option<Satisfaction>>,
}

/// Every rate of LAW.md §4 for one set of records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RateReport {
    pub mediation_success: Rate,
    pub comprehensive_correction: Rate,
    pub direct_correction: Rate,
    pub head_appearance: Rate,
    pub lawsuit_loss: Rate,
    pub on_time: Rate,
    pub timely_acceptance: Rate,
    pub satisfaction: Rate,
}

impl RateReport {
    pub fn compute(config: &RateConfig, records: &RateRecords) -> RateReport {
        RateReport {
            mediation_success: mediation_success(&records.mediations),
            comprehensive_correction: comprehensive_correction(config, &records.reconsiderations),
            direct_correction: direct_correction(config, &records.reconsiderations),
            head_appearance: head_appearance(&records.lawsuits),
            lawsuit_loss: lawsuit_loss(config, &records.lawsuits),
            on_time: on_time(&records.deadlines),
            timely_acceptance: timely_acceptance(&records.acceptances),
            satisfaction: satisfaction(&records.ratings),
        }
    }

    pub fn get(&self, kind: RateKind) -> Rate {
        match kind {
            RateKind::MediationSuccess => self.mediation_success,
            RateKind::ComprehensiveCorrection => self.comprehensive_correction,
            RateKind::DirectCorrection => self.direct_correction,
            RateKind::HeadAppearance => self.head_appearance,
            RateKind::LawsuitLoss => self.lawsuit_loss,
            RateKind::OnTime => self.on_time,
            RateKind::TimelyAcceptance => self.timely_acceptance,
            RateKind::Satisfaction => self.satisfaction,
        }
    }

    /// Every rate with its kind, in the order of LAW.md §4.
    pub fn rows(&self) -> impl Iterator<Item = (RateKind, Rate)> + '_ {
        RateKind::ALL.iter().map(|&kind| (kind, self.get(kind)))
    }
}

/// One line per rate: `调解成功率：98.87%（1140/1153）`.
impl fmt::Display for RateReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (kind, rate) in self.rows() {
            writeln!(f, "{}：{}", kind.label(), rate.with_counts())?;
        }
        Ok(())
    }
}

/// A JSON object keyed by [`RateKind::code`].
impl Serialize for RateReport {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(RateKind::ALL.len()))?;
        for (kind, rate) in self.rows() {
            map.serialize_entry(kind.code(), &rate)?;
        }
        map.end()
    }
}
