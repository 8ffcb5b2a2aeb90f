//! The supervisor rates (LAW.md §4) through the public interface of `fengqiao_schema::rates`: the
//! published figures reproduced exactly, half-up rounding, empty sets, the attendance rule and the
//! configurable definitions.

use std::iter::repeat_n;

use expect_test::{expect, Expect};
use fengqiao_schema::rates::{
    comprehensive_correction, direct_correction, head_appearance, lawsuit_loss, mediation_success, on_time,
    satisfaction, timely_acceptance, AcceptanceFacts, Attendance, DeadlineFacts, LawsuitFacts, MediationFacts, Rate,
    RateConfig, RateRecords, RateReport, ReconsiderationFacts, RecordedAttendance, Timeliness,
};
use fengqiao_schema::time::LegalDate;
use fengqiao_schema::vocab::{
    Instance, LitigationOutcome, MediationResult, ReconsiderationDecision as D, Satisfaction,
};

/// Renders a rate as a supervisor reads it, then as the dashboard receives it in JSON.
fn check(rate: Rate, expect: Expect) {
    let json = serde_json::to_string(&rate).expect("a rate serialises");
    expect.assert_eq(&format!("{}  {json}", rate.with_counts()));
}

fn rate(numerator: u64, denominator: u64) -> Rate {
    Rate::new(numerator, denominator).expect("numerator <= denominator")
}

fn mediations(result: Option<MediationResult>, n: usize) -> impl Iterator<Item = MediationFacts> {
    repeat_n(MediationFacts { result }, n)
}

fn reconsiderations(decision: Option<D>, n: usize) -> impl Iterator<Item = ReconsiderationFacts> {
    repeat_n(ReconsiderationFacts { decision }, n)
}

/// The county's 109 concluded cases of LAW.md §4: 23 upheld, 3 claims dismissed, 83 closed by
/// mediation, settlement or withdrawal after correction. The published figure does not split the
/// 83; this split is ours, and any split among the three indirect endings gives the same rates.
/// Four cases still open are not concluded and must not count.
fn published_reconsiderations() -> Vec<ReconsiderationFacts> {
    reconsiderations(Some(D::Upheld), 23)
        .chain(reconsiderations(Some(D::ClaimDismissed), 3))
        .chain(reconsiderations(Some(D::Mediation), 30))
        .chain(reconsiderations(Some(D::SettledWithdrawn), 28))
        .chain(reconsiderations(Some(D::CorrectedWithdrawn), 25))
        .chain(reconsiderations(None, 4))
        .collect()
}

fn lawsuit(instance: Instance, attendance: Attendance, outcome: Option<LitigationOutcome>) -> LawsuitFacts {
    LawsuitFacts { instance, attendance, outcome }
}

#[test]
fn published_figures_are_reproduced_exactly() {
    let config = RateConfig::default();

    // A county's 2019 report: 1140 of 1153 mediations succeeded. Refusals and screened-only
    // disputes were never mediated, and pending ones have no result: none of them counts.
    let county_2019: Vec<MediationFacts> = mediations(Some(MediationResult::Success), 1140)
        .chain(mediations(Some(MediationResult::Failed), 13))
        .chain(mediations(Some(MediationResult::Refused), 7))
        .chain(mediations(Some(MediationResult::Screened), 40))
        .chain(mediations(None, 5))
        .collect();
    check(
        mediation_success(&county_2019),
        expect![[
            r#"98.87%（1140/1153）  {"numerator":1140,"denominator":1153,"percent_2dp":9887,"percent":"98.87%"}"#
        ]],
    );

    let concluded = published_reconsiderations();
    check(
        comprehensive_correction(&config, &concluded),
        expect![[r#"76.15%（83/109）  {"numerator":83,"denominator":109,"percent_2dp":7615,"percent":"76.15%"}"#]],
    );
    check(
        direct_correction(&config, &concluded),
        expect![[r#"0.00%（0/109）  {"numerator":0,"denominator":109,"percent_2dp":0,"percent":"0.00%"}"#]],
    );

    // 28 cases heard, the head in court in all of them: published as "100%", written "100.00%"
    // here (two decimals in every row; see `Rate`). Two cases never heard in court do not count.
    let heard_28: Vec<LawsuitFacts> = repeat_n(lawsuit(Instance::First, Attendance::Head, None), 28)
        .chain(repeat_n(lawsuit(Instance::First, Attendance::NotHeard, None), 2))
        .collect();
    let all_attended = head_appearance(&heard_28);
    assert_eq!(all_attended.percent_2dp(), Some(10_000));
    check(
        all_attended,
        expect![[r#"100.00%（28/28）  {"numerator":28,"denominator":28,"percent_2dp":10000,"percent":"100.00%"}"#]],
    );

    // The hotline example gives only the percentage, 86.78%. Two sets of counts that give it: a
    // round 8678 of 10000 rated, and a small hotline's 80 满意 + 25 基本满意 of 121 rated, which
    // also needs the rounding (105/121 = 86.776…%). Unrated calls do not count.
    let round: Vec<Option<Satisfaction>> = repeat_n(Some(Satisfaction::Satisfied), 6000)
        .chain(repeat_n(Some(Satisfaction::BasicallySatisfied), 2678))
        .chain(repeat_n(Some(Satisfaction::Dissatisfied), 1322))
        .collect();
    check(
        satisfaction(&round),
        expect![[
            r#"86.78%（8678/10000）  {"numerator":8678,"denominator":10000,"percent_2dp":8678,"percent":"86.78%"}"#
        ]],
    );
    let small: Vec<Option<Satisfaction>> = repeat_n(Some(Satisfaction::Satisfied), 80)
        .chain(repeat_n(Some(Satisfaction::BasicallySatisfied), 25))
        .chain(repeat_n(Some(Satisfaction::Dissatisfied), 16))
        .chain(repeat_n(None, 9))
        .collect();
    check(
        satisfaction(&small),
        expect![[r#"86.78%（105/121）  {"numerator":105,"denominator":121,"percent_2dp":8678,"percent":"86.78%"}"#]],
    );
}

#[test]
fn percentages_round_half_up_to_two_decimals() {
    let cases = [
        (
            rate(1, 8),
            expect![[r#"12.50%（1/8）  {"numerator":1,"denominator":8,"percent_2dp":1250,"percent":"12.50%"}"#]],
        ),
        (
            rate(2, 3),
            expect![[r#"66.67%（2/3）  {"numerator":2,"denominator":3,"percent_2dp":6667,"percent":"66.67%"}"#]],
        ),
        (
            rate(1, 3),
            expect![[r#"33.33%（1/3）  {"numerator":1,"denominator":3,"percent_2dp":3333,"percent":"33.33%"}"#]],
        ),
        (
            rate(5, 6),
            expect![[r#"83.33%（5/6）  {"numerator":5,"denominator":6,"percent_2dp":8333,"percent":"83.33%"}"#]],
        ),
        (
            rate(1, 200),
            expect![[r#"0.50%（1/200）  {"numerator":1,"denominator":200,"percent_2dp":50,"percent":"0.50%"}"#]],
        ),
        // Exactly half a basis point: half up, not to even.
        (
            rate(1, 32),
            expect![[r#"3.13%（1/32）  {"numerator":1,"denominator":32,"percent_2dp":313,"percent":"3.13%"}"#]],
        ),
        (
            rate(5, 32),
            expect![[r#"15.63%（5/32）  {"numerator":5,"denominator":32,"percent_2dp":1563,"percent":"15.63%"}"#]],
        ),
        (
            rate(1, 20_000),
            expect![[r#"0.01%（1/20000）  {"numerator":1,"denominator":20000,"percent_2dp":1,"percent":"0.01%"}"#]],
        ),
        // Just below half a basis point.
        (
            rate(1, 20_001),
            expect![[r#"0.00%（1/20001）  {"numerator":1,"denominator":20001,"percent_2dp":0,"percent":"0.00%"}"#]],
        ),
        // Half-up rounding reaches 100.00% with one case missed; the counts tell.
        (
            rate(19_999, 20_000),
            expect![[
                r#"100.00%（19999/20000）  {"numerator":19999,"denominator":20000,"percent_2dp":10000,"percent":"100.00%"}"#
            ]],
        ),
        (rate(0, 7), expect![[r#"0.00%（0/7）  {"numerator":0,"denominator":7,"percent_2dp":0,"percent":"0.00%"}"#]]),
        (
            rate(u64::MAX - 1, u64::MAX),
            expect![[
                r#"100.00%（18446744073709551614/18446744073709551615）  {"numerator":18446744073709551614,"denominator":18446744073709551615,"percent_2dp":10000,"percent":"100.00%"}"#
            ]],
        ),
    ];
    for (rate, expect) in cases {
        check(rate, expect);
    }
}

#[test]
fn nothing_counted_has_no_percentage() {
    let config = RateConfig::default();
    let empty = RateRecords::default();
    let report = RateReport::compute(&config, &empty);
    for (kind, rate) in report.rows() {
        assert_eq!(rate, Rate::EMPTY, "{}", kind.code());
    }
    check(
        report.mediation_success,
        expect![[r#"—（0/0）  {"numerator":0,"denominator":0,"percent_2dp":null,"percent":null}"#]],
    );
    // Records that are all excluded count as nothing, too.
    check(
        mediation_success(mediations(Some(MediationResult::Refused), 3).chain(mediations(None, 2))),
        expect![[r#"—（0/0）  {"numerator":0,"denominator":0,"percent_2dp":null,"percent":null}"#]],
    );
    assert_eq!(format!("[{:>8}]", Rate::EMPTY), "[       —]");
    assert_eq!(Rate::new(3, 2).unwrap_err().to_string(), "比率的分子 3 大于分母 2");
}

#[test]
fn head_appearance_counts_each_instance_and_never_a_lawyer_alone() {
    let recorded = |heard_in_court, head_appeared, staff_appeared, lawyer_only| {
        Attendance::from(RecordedAttendance { heard_in_court, head_appeared, staff_appeared, lawyer_only })
    };
    let readings = [
        (recorded(true, true, false, false), expect!["负责人出庭"]),
        (recorded(true, true, true, false), expect!["负责人出庭"]),
        (recorded(true, false, true, false), expect!["仅工作人员出庭"]),
        (recorded(true, false, false, true), expect!["仅律师出庭"]),
        // A record that names the head and also says "lawyer only" is read as lawyer only.
        (recorded(true, true, false, true), expect!["仅律师出庭"]),
        (recorded(true, false, false, false), expect!["无人出庭"]),
        (recorded(false, true, false, false), expect!["未开庭审理"]),
    ];
    for (attendance, expect) in readings {
        expect.assert_eq(attendance.label());
    }

    // Case A: head in court at first instance and on appeal (2 of 2). Case B: head at first
    // instance, a lawyer alone on appeal (1 of 2). Case C: staff only (0 of 1). Case D: the
    // lawyer-only flag beside a recorded head (0 of 1). Case E: dismissed without a hearing.
    let lawsuits = [
        lawsuit(Instance::First, Attendance::Head, None),
        lawsuit(Instance::Second, Attendance::Head, None),
        lawsuit(Instance::First, Attendance::Head, None),
        lawsuit(Instance::Second, Attendance::LawyerOnly, None),
        lawsuit(Instance::First, Attendance::StaffOnly, None),
        lawsuit(Instance::First, recorded(true, true, false, true), None),
        lawsuit(Instance::First, Attendance::NotHeard, Some(LitigationOutcome::ComplaintDismissed)),
    ];
    check(
        head_appearance(lawsuits),
        expect![[r#"50.00%（3/6）  {"numerator":3,"denominator":6,"percent_2dp":5000,"percent":"50.00%"}"#]],
    );
}

#[test]
fn loss_rate_counts_first_instance_cases_concluded() {
    use LitigationOutcome as L;
    let config = RateConfig::default();
    let first = |outcome| lawsuit(Instance::First, Attendance::Head, outcome);
    let lawsuits = [
        first(Some(L::Revoked)),
        first(Some(L::ConfirmedIllegal)),
        first(Some(L::Payment)),
        first(Some(L::ClaimRejected)),
        first(Some(L::ComplaintDismissed)),
        first(Some(L::WithdrawalPermitted)),
        first(Some(L::Mediation)),
        first(Some(L::ClaimRejected)),
        // Not concluded, never registered, or not first instance: not counted.
        first(None),
        first(Some(L::NotRegistered)),
        lawsuit(Instance::Second, Attendance::Head, Some(L::JudgmentChanged)),
        lawsuit(Instance::Retrial, Attendance::Head, Some(L::Revoked)),
    ];
    check(
        lawsuit_loss(&config, lawsuits),
        expect![[r#"37.50%（3/8）  {"numerator":3,"denominator":8,"percent_2dp":3750,"percent":"37.50%"}"#]],
    );
}

#[test]
fn time_limits_count_done_late_and_overdue_but_not_pending() {
    let due = LegalDate::ymd(2025, 12, 15);
    let day = |d| LegalDate::ymd(2025, 12, d);
    let assessments = [
        (Timeliness::assess(due, Some(day(15)), day(31)), expect!["按期完成"]),
        (Timeliness::assess(due, Some(day(16)), day(31)), expect!["逾期完成"]),
        (Timeliness::assess(due, None, day(16)), expect!["逾期未完成"]),
        (Timeliness::assess(due, None, day(15)), expect!["未到期"]),
        // Done after the report date: as of that date it was still overdue.
        (Timeliness::assess(due, Some(LegalDate::ymd(2026, 1, 5)), day(31)), expect!["逾期未完成"]),
        (Timeliness::assess(due, Some(day(20)), day(10)), expect!["未到期"]),
    ];
    for (timeliness, expect) in assessments {
        expect.assert_eq(timeliness.label());
    }

    let standings =
        [(Timeliness::OnTime, 7), (Timeliness::Late, 1), (Timeliness::Overdue, 1), (Timeliness::Pending, 4)];
    let deadlines = standings.iter().flat_map(|&(conclusion, n)| repeat_n(DeadlineFacts { conclusion }, n));
    check(
        on_time(deadlines),
        expect![[r#"77.78%（7/9）  {"numerator":7,"denominator":9,"percent_2dp":7778,"percent":"77.78%"}"#]],
    );
    let acceptances = standings.iter().flat_map(|&(decision, n)| repeat_n(AcceptanceFacts { decision }, n));
    check(
        timely_acceptance(acceptances),
        expect![[r#"77.78%（7/9）  {"numerator":7,"denominator":9,"percent_2dp":7778,"percent":"77.78%"}"#]],
    );
}

#[test]
fn default_correction_mapping_follows_law_md() {
    let config = RateConfig::default();
    let table: String =
        D::ALL.iter().map(|&d| format!("{} {}: {}\n", d.code(), d.label(), config.correction(d).label())).collect();
    expect![[r#"
        changed 变更: 直接纠错
        revoked 撤销: 直接纠错
        partly_revoked 部分撤销: 直接纠错
        confirmed_illegal 确认违法: 直接纠错
        ordered_to_perform 责令履行: 直接纠错
        confirmed_void 确认无效: 直接纠错
        upheld 维持: 未纠错
        claim_dismissed 驳回复议请求: 未纠错
        mediation 调解书结案: 间接纠错
        settled_withdrawn 和解后撤回终止: 间接纠错
        corrected_withdrawn 被申请人自行纠正后撤回终止: 间接纠错
        withdrawn 申请人撤回终止: 未纠错
        terminated 其他原因终止: 未纠错
    "#]]
    .assert_eq(&table);

    let lost: String =
        LitigationOutcome::ALL.iter().filter(|&&o| config.is_lost(o)).map(|o| format!("{} ", o.code())).collect();
    expect!["revoked perform payment confirmed_illegal confirmed_void changed "].assert_eq(&lost);
}

#[test]
fn a_custom_mapping_from_toml_changes_the_rates() {
    // An empty file is the default.
    let empty: RateConfig = toml::from_str("").expect("an empty configuration");
    assert_eq!(empty, RateConfig::default());
    // The defaults written out, as in the documentation of `RateConfig`.
    let written_out: RateConfig = toml::from_str(
        r#"
        direct_correction = [
            "changed", "revoked", "partly_revoked", "confirmed_illegal", "confirmed_void", "ordered_to_perform",
        ]
        indirect_correction = ["mediation", "settled_withdrawn", "corrected_withdrawn"]
        lost_lawsuit = ["revoked", "perform", "payment", "confirmed_illegal", "confirmed_void", "changed"]
        "#,
    )
    .expect("the documented defaults");
    assert_eq!(written_out, RateConfig::default());

    // A county that counts a plain withdrawal as an indirect correction, and a mediation document
    // as none.
    let county: RateConfig = toml::from_str(
        r#"
        indirect_correction = ["settled_withdrawn", "corrected_withdrawn", "withdrawn"]
        "#,
    )
    .expect("a valid configuration");
    let cases: Vec<ReconsiderationFacts> = published_reconsiderations()
        .into_iter()
        .chain(reconsiderations(Some(D::Withdrawn), 10))
        .chain(reconsiderations(Some(D::Revoked), 6))
        .collect();
    check(
        comprehensive_correction(&RateConfig::default(), &cases),
        expect![[r#"71.20%（89/125）  {"numerator":89,"denominator":125,"percent_2dp":7120,"percent":"71.20%"}"#]],
    );
    check(
        comprehensive_correction(&county, &cases),
        expect![[r#"55.20%（69/125）  {"numerator":69,"denominator":125,"percent_2dp":5520,"percent":"55.20%"}"#]],
    );
    check(
        direct_correction(&county, &cases),
        expect![[r#"4.80%（6/125）  {"numerator":6,"denominator":125,"percent_2dp":480,"percent":"4.80%"}"#]],
    );

    // The same from JSON, with the loss definition narrowed to revocations.
    let narrow: RateConfig =
        serde_json::from_str(r#"{"lost_lawsuit": ["revoked"]}"#).expect("a valid JSON configuration");
    let first = |outcome| lawsuit(Instance::First, Attendance::Head, Some(outcome));
    let lawsuits =
        [first(LitigationOutcome::Revoked), first(LitigationOutcome::Perform), first(LitigationOutcome::ClaimRejected)];
    check(
        lawsuit_loss(&narrow, lawsuits),
        expect![[r#"33.33%（1/3）  {"numerator":1,"denominator":3,"percent_2dp":3333,"percent":"33.33%"}"#]],
    );
}

#[test]
fn invalid_configurations_are_refused_with_a_reason() {
    let refusals = [
        (
            r#"indirect_correction = ["mediation", "revoked"]"#,
            expect![[r#"
                复议结案方式「撤销」（revoked）不能同时列为直接纠错和间接纠错
            "#]],
        ),
        (
            r#"lost_lawsuit = ["revoked", "judgment_changed"]"#,
            expect![[r#"
                「改判」（judgment_changed）不是一审审结方式，不能列入败诉定义：败诉率只统计一审审结案件
            "#]],
        ),
        (
            r#"direct_correction = ["overturned"]"#,
            expect![[r#"
                「overturned」不是reconsideration_decision中的代码
            "#]],
        ),
        (
            r#"lost_lawsuits = ["revoked"]"#,
            expect![[r#"
                unknown field `lost_lawsuits`, expected one of `direct_correction`, `indirect_correction`, `lost_lawsuit`
            "#]],
        ),
    ];
    for (text, expect) in refusals {
        let error = toml::from_str::<RateConfig>(text).expect_err("an invalid configuration");
        expect.assert_eq(&format!("{}\n", error.message()));
    }
}

#[test]
fn a_report_bundles_every_rate() {
    use LitigationOutcome as L;
    let records = RateRecords {
        mediations: mediations(Some(MediationResult::Success), 1140)
            .chain(mediations(Some(MediationResult::Failed), 13))
            .collect(),
        reconsiderations: published_reconsiderations(),
        lawsuits: vec![
            lawsuit(Instance::First, Attendance::Head, Some(L::ClaimRejected)),
            lawsuit(Instance::First, Attendance::StaffOnly, Some(L::Revoked)),
            lawsuit(Instance::First, Attendance::Head, Some(L::WithdrawalPermitted)),
            lawsuit(Instance::Second, Attendance::Head, Some(L::AppealDismissed)),
        ],
        deadlines: vec![
            DeadlineFacts { conclusion: Timeliness::OnTime },
            DeadlineFacts { conclusion: Timeliness::Overdue },
        ],
        acceptances: vec![AcceptanceFacts { decision: Timeliness::OnTime }],
        ratings: vec![],
    };
    let report = RateReport::compute(&RateConfig::default(), &records);
    expect![[r#"
        调解成功率：98.87%（1140/1153）
        行政复议综合纠错率：76.15%（83/109）
        行政复议直接纠错率：0.00%（0/109）
        行政机关负责人出庭应诉率：75.00%（3/4）
        行政诉讼败诉率：33.33%（1/3）
        按期办结率：50.00%（1/2）
        及时受理率：100.00%（1/1）
        群众满意率：—（0/0）
    "#]]
    .assert_eq(&report.to_string());
    expect![[r#"{"mediation_success":{"numerator":1140,"denominator":1153,"percent_2dp":9887,"percent":"98.87%"},"comprehensive_correction":{"numerator":83,"denominator":109,"percent_2dp":7615,"percent":"76.15%"},"direct_correction":{"numerator":0,"denominator":109,"percent_2dp":0,"percent":"0.00%"},"head_appearance":{"numerator":3,"denominator":4,"percent_2dp":7500,"percent":"75.00%"},"lawsuit_loss":{"numerator":1,"denominator":3,"percent_2dp":3333,"percent":"33.33%"},"on_time":{"numerator":1,"denominator":2,"percent_2dp":5000,"percent":"50.00%"},"timely_acceptance":{"numerator":1,"denominator":1,"percent_2dp":10000,"percent":"100.00%"},"satisfaction":{"numerator":0,"denominator":0,"percent_2dp":null,"percent":null}}"#]]
    .assert_eq(&serde_json::to_string(&report).expect("a report serialises"));

    // Rates of disjoint sets add up: two townships make the county.
    let county: Rate = [rate(600, 610), rate(540, 543)].into_iter().sum();
    check(
        county,
        expect![[
            r#"98.87%（1140/1153）  {"numerator":1140,"denominator":1153,"percent_2dp":9887,"percent":"98.87%"}"#
        ]],
    );
}
