//! The legal clocks as a table of cases (LAW.md §§1–3): facts in; due date, status and the Chinese
//! explanation out, through one `check` helper. Every expected value below was worked out by hand
//! from the official calendars in `schema/calendars/` (2024–2026); the reasoning for the tricky ones
//! is in the comments. Refresh snapshots with `UPDATE_EXPECT=1`, then re-check them by hand.
//!
//! Useful facts of the 2026 calendar: 1 Jan is a Thursday; 春节 rest 15–23 Feb with Saturdays
//! 14 Feb and 28 Feb worked; 劳动节 rest 1–5 May with Saturday 9 May worked; 中秋 rest 25–27 Sep;
//! 国庆 rest 1–7 Oct with Sunday 20 Sep and Saturday 10 Oct worked.

use expect_test::{expect, Expect};
use fengqiao_schema::calendar::{
    CalendarBasis, Calendars, Counting, HolidayCalendar, Period, YearBasis,
};
use fengqiao_schema::clocks::{case_deadlines, 
    deadlines, ClockConfig, ClockFacts, ExtensionFacts, LitigationFacts, MediationFacts,
    PetitionFacts, ReconsiderationFacts, SuspensionEffect, SuspensionFacts,
};
use fengqiao_schema::document::Case;
use fengqiao_schema::time::LegalDate;
use fengqiao_schema::vocab::{
    Instance, LitigationOutcome, PetitionRoute, Procedure, ReconsiderationDecision,
    ReconsiderationIntake,
};

fn d(date: &str) -> LegalDate {
    date.parse().expect("a date written YYYY-MM-DD")
}

fn on(date: &str) -> Option<LegalDate> {
    Some(d(date))
}

fn petition(today: &str, set: impl FnOnce(&mut PetitionFacts)) -> ClockFacts {
    let mut facts = ClockFacts::new(d(today));
    set(&mut facts.petition);
    facts
}

fn mediation(today: &str, set: impl FnOnce(&mut MediationFacts)) -> ClockFacts {
    let mut facts = ClockFacts::new(d(today));
    set(&mut facts.mediation);
    facts
}

fn reconsideration(today: &str, set: impl FnOnce(&mut ReconsiderationFacts)) -> ClockFacts {
    let mut facts = ClockFacts::new(d(today));
    set(&mut facts.reconsideration);
    facts
}

fn litigation(today: &str, set: impl FnOnce(&mut LitigationFacts)) -> ClockFacts {
    let mut facts = ClockFacts::new(d(today));
    set(&mut facts.litigation);
    facts
}

const ROUTE_6: Option<PetitionRoute> = Some(PetitionRoute::PetitionHandling);

fn approved(days: u32, approved_on: &str) -> Option<ExtensionFacts> {
    Some(ExtensionFacts {
        days,
        approved_on: on(approved_on),
    })
}

fn suspended(from: &str, to: Option<&str>) -> SuspensionFacts {
    SuspensionFacts {
        from: d(from),
        to: to.map(d),
    }
}

/// The one deadline of `rule` the facts give rise to, rendered as `due status` and the explanation;
/// or `none` when the rule gives no deadline on these facts.
fn check(facts: ClockFacts, rule: &str, expect: Expect) {
    check_with(&ClockConfig::default(), facts, rule, expect)
}

fn check_with(config: &ClockConfig, facts: ClockFacts, rule: &str, expect: Expect) {
    let all = deadlines(&facts, &Calendars::official(), config);
    let found: Vec<_> = all.iter().filter(|d| d.rule.code() == rule).collect();
    let actual = match found.as_slice() {
        [] => "none".to_string(),
        [one] => format!("{} {}\n{}", one.due, one.status.code(), one.explanation),
        many => panic!("{} deadlines of {rule}", many.len()),
    };
    expect.assert_eq(&actual);
}

#[test]
fn petition_clocks() {
    // 2 Mar (Mon) + 15 = 17 Mar (Tue), a working day.
    check(
        petition("2026-03-10", |p| p.received_on = on("2026-03-02")),
        "petition.acceptance_notice",
        expect![[r#"
            2026-03-17 running
            书面告知是否受理（《信访工作条例》第二十三条）：自2026-03-02（收到信访事项之日）起算，当日不计入；期限15日（自然日），至2026-03-17届满。依据2026年官方节假日安排。截至2026-03-10未记录书面告知受理情况，剩余7日。"#]],
    );
    // 25 Sep + 15 = 10 Oct: a Saturday, but a 调休 working day, so nothing moves.
    check(
        petition("2026-10-09", |p| p.received_on = on("2026-09-25")),
        "petition.acceptance_notice",
        expect![[r#"
            2026-10-10 running
            书面告知是否受理（《信访工作条例》第二十三条）：自2026-09-25（收到信访事项之日）起算，当日不计入；期限15日（自然日），至2026-10-10届满。依据2026年官方节假日安排。截至2026-10-09未记录书面告知受理情况，剩余1日。"#]],
    );
    // 20 Sep + 15 = 5 Oct, inside 国庆 2026 (1–7 Oct): moves to Thursday 8 Oct.
    check(
        petition("2026-10-09", |p| {
            p.received_on = on("2026-09-20");
            p.intake_notified_on = on("2026-10-08");
        }),
        "petition.acceptance_notice",
        expect![[r#"
            2026-10-08 met
            书面告知是否受理（《信访工作条例》第二十三条）：自2026-09-20（收到信访事项之日）起算，当日不计入；期限15日（自然日），至2026-10-05届满；期满日2026-10-05为休息日，顺延至2026-10-08。依据2026年官方节假日安排。已于2026-10-08书面告知受理情况，在期限内。"#]],
    );
    // 20 Sep 2025 + 15 = 5 Oct, inside 国庆 2025 (1–8 Oct): moves to Thursday 9 Oct; told on the
    // 10th, one day late.
    check(
        petition("2025-10-20", |p| {
            p.received_on = on("2025-09-20");
            p.intake_notified_on = on("2025-10-10");
        }),
        "petition.acceptance_notice",
        expect![[r#"
            2025-10-09 late
            书面告知是否受理（《信访工作条例》第二十三条）：自2025-09-20（收到信访事项之日）起算，当日不计入；期限15日（自然日），至2025-10-05届满；期满日2025-10-05为休息日，顺延至2025-10-09。依据2025年官方节假日安排。已于2025-10-10书面告知受理情况，超过期限1日。"#]],
    );
    // 1 Feb + 15 = 16 Feb, inside 春节 2026 (15–23 Feb): moves to Tuesday 24 Feb.
    check(
        petition("2026-02-25", |p| p.received_on = on("2026-02-01")),
        "petition.acceptance_notice",
        expect![[r#"
            2026-02-24 overdue
            书面告知是否受理（《信访工作条例》第二十三条）：自2026-02-01（收到信访事项之日）起算，当日不计入；期限15日（自然日），至2026-02-16届满；期满日2026-02-16为休息日，顺延至2026-02-24。依据2026年官方节假日安排。截至2026-02-25未记录书面告知受理情况，已超过期限1日。"#]],
    );
    // 6 Mar (Fri) + 15 = 21 Mar, an ordinary Saturday: moves to Monday 23 Mar, which is today.
    check(
        petition("2026-03-23", |p| p.received_on = on("2026-03-06")),
        "petition.acceptance_notice",
        expect![[r#"
            2026-03-23 running
            书面告知是否受理（《信访工作条例》第二十三条）：自2026-03-06（收到信访事项之日）起算，当日不计入；期限15日（自然日），至2026-03-21届满；期满日2026-03-21为休息日，顺延至2026-03-23。依据2026年官方节假日安排。截至2026-03-23未记录书面告知受理情况，期限今日届满。"#]],
    );
    // Configured to count petition periods in working days: from Monday 2 Mar, 3–6 Mar are 4,
    // 9–13 Mar make 9, 16–20 Mar make 14, and Monday 23 Mar is the 15th.
    check_with(
        &ClockConfig {
            petition_counting: Counting::WorkingDays,
            ..ClockConfig::default()
        },
        petition("2026-03-10", |p| p.received_on = on("2026-03-02")),
        "petition.acceptance_notice",
        expect![[r#"
            2026-03-23 running
            书面告知是否受理（《信访工作条例》第二十三条）：自2026-03-02（收到信访事项之日）起算，当日不计入；期限15个工作日，至2026-03-23届满。依据2026年官方节假日安排。按本地配置，本期限按工作日计算。截至2026-03-10未记录书面告知受理情况，剩余13日。"#]],
    );
    // 5 working days from Wednesday 30 Sep 2026: 1–7 Oct are 国庆 rest days; Thu 8 Oct (1),
    // Fri 9 Oct (2), Sat 10 Oct is a 调休 working day (3), Sun 11 Oct rests, Mon 12 Oct (4),
    // Tue 13 Oct (5). Due 13 Oct.
    check(
        petition("2026-10-12", |p| p.transfer_received_on = on("2026-09-30")),
        "petition.jurisdiction_objection",
        expect![[r#"
            2026-10-13 running
            对转送、交办事项提出异议（《信访工作条例》第二十三条）：自2026-09-30（收到转送、交办事项之日）起算，当日不计入；期限5个工作日，至2026-10-13届满。依据2026年官方节假日安排。截至2026-10-12未记录提出异议，剩余1日。"#]],
    );
    // 5 working days from Thursday 12 Feb 2026: Fri 13 Feb (1), Sat 14 Feb is a 调休 working day
    // (2), 15–23 Feb are 春节 rest days, Tue 24 Feb (3), Wed 25 Feb (4), Thu 26 Feb (5). Due 26 Feb.
    check(
        petition("2026-03-02", |p| {
            p.transfer_received_on = on("2026-02-12");
            p.objection_raised_on = on("2026-02-26");
        }),
        "petition.jurisdiction_objection",
        expect![[r#"
            2026-02-26 met
            对转送、交办事项提出异议（《信访工作条例》第二十三条）：自2026-02-12（收到转送、交办事项之日）起算，当日不计入；期限5个工作日，至2026-02-26届满。依据2026年官方节假日安排。已于2026-02-26提出异议，在期限内。"#]],
    );
    // 5 working days from Friday 24 Jan 2025: Sat 25 Jan rests, Sun 26 Jan is a 调休 working day
    // (1), Mon 27 Jan (2), 28 Jan–4 Feb are 春节 rest days, Wed 5 Feb (3), Thu 6 Feb (4), Fri 7 Feb (5).
    check(
        petition("2025-02-10", |p| p.transfer_received_on = on("2025-01-24")),
        "petition.jurisdiction_objection",
        expect![[r#"
            2025-02-07 overdue
            对转送、交办事项提出异议（《信访工作条例》第二十三条）：自2025-01-24（收到转送、交办事项之日）起算，当日不计入；期限5个工作日，至2025-02-07届满。依据2025年官方节假日安排。截至2025-02-10未记录提出异议，已超过期限3日。"#]],
    );
    // 5 working days from Friday 27 Dec 2024, over New Year: Mon 30 Dec (1), Tue 31 Dec (2),
    // 1 Jan 2025 rests, Thu 2 Jan (3), Fri 3 Jan (4), the weekend rests, Mon 6 Jan (5).
    check(
        petition("2025-01-03", |p| p.transfer_received_on = on("2024-12-27")),
        "petition.jurisdiction_objection",
        expect![[r#"
            2025-01-06 running
            对转送、交办事项提出异议（《信访工作条例》第二十三条）：自2024-12-27（收到转送、交办事项之日）起算，当日不计入；期限5个工作日，至2025-01-06届满。依据2024年、2025年官方节假日安排。截至2025-01-03未记录提出异议，剩余3日。"#]],
    );
    // 5 working days from Tuesday 29 Dec 2026 into 2027, which has no calendar: Wed 30 Dec (1),
    // Thu 31 Dec (2), Fri 1 Jan 2027 counts as a weekday (3), Mon 4 Jan (4), Tue 5 Jan (5).
    check(
        petition("2026-12-30", |p| p.transfer_received_on = on("2026-12-29")),
        "petition.jurisdiction_objection",
        expect![[r#"
            2027-01-05 running
            对转送、交办事项提出异议（《信访工作条例》第二十三条）：自2026-12-29（收到转送、交办事项之日）起算，当日不计入；期限5个工作日，至2027-01-05届满（2027年无官方节假日安排，按周一至周五计算）。依据2026年官方节假日安排。截至2026-12-30未记录提出异议，剩余6日。"#]],
    );
    // Handling, route 6: 1 Aug + 60 = 30 Sep (Wed); replied the day before.
    check(
        petition("2026-10-01", |p| {
            p.route = ROUTE_6;
            p.accepted_on = on("2026-08-01");
            p.reply_issued_on = on("2026-09-29");
        }),
        "petition.handling",
        expect![[r#"
            2026-09-30 met
            信访事项办理期限（《信访工作条例》第三十四条）：自2026-08-01（受理之日）起算，当日不计入；期限60日（自然日），至2026-09-30届满。依据2026年官方节假日安排。已于2026-09-29办结并出具信访处理意见书，在期限内。"#]],
    );
    // 60 + 30 counted from acceptance, not 30 from a shifted 60th day: 2 Aug + 60 = 1 Oct (would
    // shift to 8 Oct); 2 Aug + 90 = 31 Oct, a Saturday, shifted to Monday 2 Nov.
    check(
        petition("2026-10-20", |p| {
            p.route = ROUTE_6;
            p.accepted_on = on("2026-08-02");
            p.extension = approved(30, "2026-09-20");
        }),
        "petition.handling",
        expect![[r#"
            2026-11-02 running
            信访事项办理期限（《信访工作条例》第三十四条）：自2026-08-02（受理之日）起算，当日不计入；期限60日（自然日），经批准延长30日，共90日，至2026-10-31届满；期满日2026-10-31为休息日，顺延至2026-11-02。依据2026年官方节假日安排。截至2026-10-20未记录办结并出具信访处理意见书，剩余13日。"#]],
    );
    // 5 Jul + 90 = 3 Oct, inside 国庆: moves to 8 Oct, which is today.
    check(
        petition("2026-10-08", |p| {
            p.route = ROUTE_6;
            p.accepted_on = on("2026-07-05");
            p.extension = approved(30, "2026-08-20");
        }),
        "petition.handling",
        expect![[r#"
            2026-10-08 running
            信访事项办理期限（《信访工作条例》第三十四条）：自2026-07-05（受理之日）起算，当日不计入；期限60日（自然日），经批准延长30日，共90日，至2026-10-03届满；期满日2026-10-03为休息日，顺延至2026-10-08。依据2026年官方节假日安排。截至2026-10-08未记录办结并出具信访处理意见书，期限今日届满。"#]],
    );
    // An extension nobody approved does not count: 1 Mar + 60 = 30 Apr (Thu).
    check(
        petition("2026-05-06", |p| {
            p.route = ROUTE_6;
            p.accepted_on = on("2026-03-01");
            p.extension = Some(ExtensionFacts {
                days: 30,
                approved_on: None,
            });
        }),
        "petition.handling",
        expect![[r#"
            2026-04-30 overdue
            信访事项办理期限（《信访工作条例》第三十四条）：自2026-03-01（受理之日）起算，当日不计入；期限60日（自然日），至2026-04-30届满。依据2026年官方节假日安排。记录了延长30日，但未记录批准日期，延长不予计入。截至2026-05-06未记录办结并出具信访处理意见书，已超过期限6日。"#]],
    );
    // 45 days recorded, 30 allowed: 1 Mar + 90 = 30 May (Sat), moved to Monday 1 Jun.
    check(
        petition("2026-06-02", |p| {
            p.route = ROUTE_6;
            p.accepted_on = on("2026-03-01");
            p.extension = approved(45, "2026-04-10");
            p.reply_issued_on = on("2026-06-01");
        }),
        "petition.handling",
        expect![[r#"
            2026-06-01 met
            信访事项办理期限（《信访工作条例》第三十四条）：自2026-03-01（受理之日）起算，当日不计入；期限60日（自然日），经批准延长30日，共90日，至2026-05-30届满；期满日2026-05-30为休息日，顺延至2026-06-01。依据2026年官方节假日安排。记录的延长45日超过法定上限30日，按30日计算。已于2026-06-01办结并出具信访处理意见书，在期限内。"#]],
    );
    // Approved on 5 May, after the period ended on 30 Apr: too late to extend; replied 10 days late.
    check(
        petition("2026-05-20", |p| {
            p.route = ROUTE_6;
            p.accepted_on = on("2026-03-01");
            p.extension = approved(30, "2026-05-05");
            p.reply_issued_on = on("2026-05-10");
        }),
        "petition.handling",
        expect![[r#"
            2026-04-30 late
            信访事项办理期限（《信访工作条例》第三十四条）：自2026-03-01（受理之日）起算，当日不计入；期限60日（自然日），至2026-04-30届满。依据2026年官方节假日安排。延长于2026-05-05批准，晚于原期满日2026-04-30，不予计入。已于2026-05-10办结并出具信访处理意见书，超过期限10日。"#]],
    );
    // Route 4 (reconsideration) leaves the petition track: no 60-day clock.
    check(
        petition("2026-03-10", |p| {
            p.route = Some(PetitionRoute::AdministrativeProcedure);
            p.accepted_on = on("2026-03-01");
        }),
        "petition.handling",
        expect!["none"],
    );
    // 复查 request window: reply received 4 Sep + 30 = 4 Oct (国庆), moved to 8 Oct; closed on the 9th.
    check(
        petition("2026-10-09", |p| {
            p.route = ROUTE_6;
            p.reply_received_on = on("2026-09-04");
        }),
        "petition.review_request",
        expect![[r#"
            2026-10-08 overdue
            请求复查（《信访工作条例》第三十五条）：自2026-09-04（收到信访处理意见书之日）起算，当日不计入；期限30日（自然日），至2026-10-04届满；期满日2026-10-04为休息日，顺延至2026-10-08。依据2026年官方节假日安排。截至2026-10-09未记录请求复查，已超过期限1日。"#]],
    );
    // 10 Jan + 30 = 9 Feb (Mon); requested on 1 Feb.
    check(
        petition("2026-02-02", |p| {
            p.route = ROUTE_6;
            p.reply_received_on = on("2026-01-10");
            p.review_requested_on = on("2026-02-01");
        }),
        "petition.review_request",
        expect![[r#"
            2026-02-09 met
            请求复查（《信访工作条例》第三十五条）：自2026-01-10（收到信访处理意见书之日）起算，当日不计入；期限30日（自然日），至2026-02-09届满。依据2026年官方节假日安排。已于2026-02-01请求复查，在期限内。"#]],
    );
    // 复查 decision: 20 Jan + 30 = 19 Feb (春节), moved to Tuesday 24 Feb.
    check(
        petition("2026-02-25", |p| {
            p.route = ROUTE_6;
            p.review_requested_on = on("2026-01-20");
            p.review_decided_on = on("2026-02-24");
        }),
        "petition.review",
        expect![[r#"
            2026-02-24 met
            提出复查意见（《信访工作条例》第三十五条）：自2026-01-20（收到复查请求之日）起算，当日不计入；期限30日（自然日），至2026-02-19届满；期满日2026-02-19为休息日，顺延至2026-02-24。依据2026年官方节假日安排。已于2026-02-24提出复查意见，在期限内。"#]],
    );
    // 复核 request window: 复查 opinion received 1 Apr + 30 = 1 May (劳动节 1–5 May): 6 May.
    check(
        petition("2026-04-20", |p| {
            p.route = ROUTE_6;
            p.review_received_on = on("2026-04-01");
        }),
        "petition.re_review_request",
        expect![[r#"
            2026-05-06 running
            请求复核（《信访工作条例》第三十六条）：自2026-04-01（收到复查意见之日）起算，当日不计入；期限30日（自然日），至2026-05-01届满；期满日2026-05-01为休息日，顺延至2026-05-06。依据2026年官方节假日安排。截至2026-04-20未记录请求复核，剩余16日。"#]],
    );
    // 复核 decision: 10 May + 30 = 9 Jun (Tue); nothing by the 10th.
    check(
        petition("2026-06-10", |p| {
            p.route = ROUTE_6;
            p.re_review_requested_on = on("2026-05-10");
        }),
        "petition.re_review",
        expect![[r#"
            2026-06-09 overdue
            提出复核意见（《信访工作条例》第三十六条）：自2026-05-10（收到复核请求之日）起算，当日不计入；期限30日（自然日），至2026-06-09届满。依据2026年官方节假日安排。截至2026-06-10未记录提出复核意见，已超过期限1日。"#]],
    );
}

#[test]
fn years_without_a_calendar_fall_back_to_weekdays() {
    // 18 Dec 2026 + 15 = Saturday 2 Jan 2027; 2027 has no calendar: Monday 4 Jan.
    check(
        petition("2026-12-28", |p| p.received_on = on("2026-12-18")),
        "petition.acceptance_notice",
        expect![[r#"
            2027-01-04 running
            书面告知是否受理（《信访工作条例》第二十三条）：自2026-12-18（收到信访事项之日）起算，当日不计入；期限15日（自然日），至2027-01-02届满；期满日2027-01-02为休息日，顺延至2027-01-04（2027年无官方节假日安排，按周一至周五计算）。截至2026-12-28未记录书面告知受理情况，剩余7日。"#]],
    );
    // 17 Dec 2026 + 15 = Friday 1 Jan 2027. Without a 2027 calendar it counts as a working day,
    // and the explanation says so.
    check(
        petition("2026-12-28", |p| p.received_on = on("2026-12-17")),
        "petition.acceptance_notice",
        expect![[r#"
            2027-01-01 running
            书面告知是否受理（《信访工作条例》第二十三条）：自2026-12-17（收到信访事项之日）起算，当日不计入；期限15日（自然日），至2027-01-01届满（2027年无官方节假日安排，按周一至周五计算）。截至2026-12-28未记录书面告知受理情况，剩余4日。"#]],
    );
    // 15 Sep 2023 + 15 = Saturday 30 Sep 2023; no 2023 calendar: Monday 2 Oct.
    check(
        petition("2023-09-20", |p| p.received_on = on("2023-09-15")),
        "petition.acceptance_notice",
        expect![[r#"
            2023-10-02 running
            书面告知是否受理（《信访工作条例》第二十三条）：自2023-09-15（收到信访事项之日）起算，当日不计入；期限15日（自然日），至2023-09-30届满；期满日2023-09-30为休息日，顺延至2023-10-02（2023年无官方节假日安排，按周一至周五计算）。截至2023-09-20未记录书面告知受理情况，剩余12日。"#]],
    );
    // 20 Jan 2027 + 15 = Thursday 4 Feb 2027 (a weekday).
    check(
        litigation("2027-01-25", |l| l.complaint_received_on = on("2027-01-20")),
        "litigation.defence",
        expect![[r#"
            2027-02-04 running
            提交答辩状及证据（《行政诉讼法》第六十七条）：自2027-01-20（收到起诉状副本之日）起算，当日不计入；期限15日（自然日），至2027-02-04届满（2027年无官方节假日安排，按周一至周五计算）。逾期提供的证据视为没有相应证据（《行政诉讼法》第三十四条）。截至2027-01-25未记录提交答辩状及证据，剩余10日。"#]],
    );
    // Adding the year is a data change: with a 2027 calendar that rests on 1 Jan, the same facts as
    // above move to Monday 4 Jan and cite the 2027 schedule.
    let mut calendars = Calendars::official();
    let year_2027 =
        "year = 2027\nrest = [\"2027-01-01\", \"2027-01-02\", \"2027-01-03\"]\nwork = []\n";
    calendars.insert(HolidayCalendar::parse(year_2027).expect("a valid calendar"));
    let facts = petition("2026-12-28", |p| p.received_on = on("2026-12-17"));
    let found = deadlines(&facts, &calendars, &ClockConfig::default());
    expect![[r#"
        2027-01-04 running
        书面告知是否受理（《信访工作条例》第二十三条）：自2026-12-17（收到信访事项之日）起算，当日不计入；期限15日（自然日），至2027-01-01届满；期满日2027-01-01为休息日，顺延至2027-01-04。依据2027年官方节假日安排。截至2026-12-28未记录书面告知受理情况，剩余7日。"#]]
    .assert_eq(&format!("{} {}\n{}", found[0].due, found[0].status.code(), found[0].explanation));
}

#[test]
fn mediation_clocks() {
    // 3 Sep + 30 = 3 Oct (国庆): 8 Oct, today.
    check(
        mediation("2026-10-08", |m| m.accepted_on = on("2026-09-03")),
        "mediation.period",
        expect![[r#"
            2026-10-08 running
            调解期限（《人民调解工作若干规定》第三十三条）：自2026-09-03（受理调解之日）起算，当日不计入；期限30日（自然日），至2026-10-03届满；期满日2026-10-03为休息日，顺延至2026-10-08。依据2026年官方节假日安排。“一般在一个月内调结”，按本地配置计为30日。截至2026-10-08未记录调解结案，期限今日届满。"#]],
    );
    // 2 Mar + 30 = 1 Apr (Wed); concluded on 20 Mar.
    check(
        mediation("2026-03-25", |m| {
            m.accepted_on = on("2026-03-02");
            m.result_on = on("2026-03-20");
        }),
        "mediation.period",
        expect![[r#"
            2026-04-01 met
            调解期限（《人民调解工作若干规定》第三十三条）：自2026-03-02（受理调解之日）起算，当日不计入；期限30日（自然日），至2026-04-01届满。依据2026年官方节假日安排。“一般在一个月内调结”，按本地配置计为30日。已于2026-03-20调解结案，在期限内。"#]],
    );
    // Configured to 45 days: 2 Mar + 45 = 16 Apr (Thu); open on the 20th.
    check_with(
        &ClockConfig {
            mediation_period_days: 45,
            ..ClockConfig::default()
        },
        mediation("2026-04-20", |m| m.accepted_on = on("2026-03-02")),
        "mediation.period",
        expect![[r#"
            2026-04-16 overdue
            调解期限（《人民调解工作若干规定》第三十三条）：自2026-03-02（受理调解之日）起算，当日不计入；期限45日（自然日），至2026-04-16届满。依据2026年官方节假日安排。“一般在一个月内调结”，按本地配置计为45日。截至2026-04-20未记录调解结案，已超过期限4日。"#]],
    );
    // Labour dispute: 20 Apr + 15 = 5 May (劳动节): 6 May; no agreement by the 7th opens arbitration.
    check(
        mediation("2026-05-07", |m| {
            m.accepted_on = on("2026-04-20");
            m.labour_dispute = true;
        }),
        "mediation.labour_arbitration",
        expect![[r#"
            2026-05-06 overdue
            劳动争议调解期限（《劳动争议调解仲裁法》第十四条）：自2026-04-20（收到调解申请之日）起算，当日不计入；期限15日（自然日），至2026-05-05届满；期满日2026-05-05为休息日，顺延至2026-05-06。依据2026年官方节假日安排。截至2026-05-07未记录调解结案，已超过期限1日。期满未达成调解协议，当事人可以依法申请仲裁。"#]],
    );
    // 1 Jun + 15 = 16 Jun (Tue); settled on the 10th.
    check(
        mediation("2026-06-12", |m| {
            m.accepted_on = on("2026-06-01");
            m.labour_dispute = true;
            m.result_on = on("2026-06-10");
        }),
        "mediation.labour_arbitration",
        expect![[r#"
            2026-06-16 met
            劳动争议调解期限（《劳动争议调解仲裁法》第十四条）：自2026-06-01（收到调解申请之日）起算，当日不计入；期限15日（自然日），至2026-06-16届满。依据2026年官方节假日安排。已于2026-06-10调解结案，在期限内。"#]],
    );
    // Not a labour dispute: no 15-day clock.
    check(
        mediation("2026-06-12", |m| m.accepted_on = on("2026-06-01")),
        "mediation.labour_arbitration",
        expect!["none"],
    );
    // Judicial confirmation: effective 16 Jan + 30 = 15 Feb (春节 15–23 Feb): Tuesday 24 Feb.
    check(
        mediation("2026-02-25", |m| {
            m.agreement_effective_on = on("2026-01-16");
            m.judicial_confirmation_applied_on = on("2026-02-24");
        }),
        "mediation.judicial_confirmation",
        expect![[r#"
            2026-02-24 met
            申请司法确认（《人民调解法》第三十三条、《民事诉讼法》第二百零五条）：自2026-01-16（调解协议生效之日）起算，当日不计入；期限30日（自然日），至2026-02-15届满；期满日2026-02-15为休息日，顺延至2026-02-24。依据2026年官方节假日安排。双方当事人应共同申请。已于2026-02-24申请司法确认，在期限内。"#]],
    );
    // Effective 2 Dec 2025 + 30 = 1 Jan 2026 (元旦 1–3 Jan): the next working day is Sunday 4 Jan,
    // a 调休 working day. Only the 2026 calendar is consulted.
    check(
        mediation("2026-01-05", |m| {
            m.agreement_effective_on = on("2025-12-02")
        }),
        "mediation.judicial_confirmation",
        expect![[r#"
            2026-01-04 overdue
            申请司法确认（《人民调解法》第三十三条、《民事诉讼法》第二百零五条）：自2025-12-02（调解协议生效之日）起算，当日不计入；期限30日（自然日），至2026-01-01届满；期满日2026-01-01为休息日，顺延至2026-01-04。依据2026年官方节假日安排。双方当事人应共同申请。截至2026-01-05未记录申请司法确认，已超过期限1日。"#]],
    );
    // Effective 12 Jan 2024 + 30 = 11 Feb (春节 2024, 10–17 Feb): Sunday 18 Feb, a 调休 working day.
    check(
        mediation("2024-02-01", |m| {
            m.agreement_effective_on = on("2024-01-12")
        }),
        "mediation.judicial_confirmation",
        expect![[r#"
            2024-02-18 running
            申请司法确认（《人民调解法》第三十三条、《民事诉讼法》第二百零五条）：自2024-01-12（调解协议生效之日）起算，当日不计入；期限30日（自然日），至2024-02-11届满；期满日2024-02-11为休息日，顺延至2024-02-18。依据2024年官方节假日安排。双方当事人应共同申请。截至2024-02-01未记录申请司法确认，剩余17日。"#]],
    );
    // 1 Jun + 30 = 1 Jul (Wed), 16 days left on 15 Jun.
    check(
        mediation("2026-06-15", |m| {
            m.agreement_effective_on = on("2026-06-01")
        }),
        "mediation.judicial_confirmation",
        expect![[r#"
            2026-07-01 running
            申请司法确认（《人民调解法》第三十三条、《民事诉讼法》第二百零五条）：自2026-06-01（调解协议生效之日）起算，当日不计入；期限30日（自然日），至2026-07-01届满。依据2026年官方节假日安排。双方当事人应共同申请。截至2026-06-15未记录申请司法确认，剩余16日。"#]],
    );
}

#[test]
fn reconsideration_application_window() {
    // Told of the right: 10 Mar + 60 = 9 May, a 调休 working Saturday, no shift. The 5-year bar
    // (5 Mar 2031, a Wednesday in a year without calendar) is later.
    check(
        reconsideration("2026-05-10", |r| {
            r.act_made_on = on("2026-03-05");
            r.act_known_on = on("2026-03-10");
            r.right_notified = Some(true);
            r.received_on = on("2026-05-09");
        }),
        "reconsideration.application",
        expect![[r#"
            2026-05-09 met
            申请行政复议（《行政复议法》第二十条、第二十一条）：自2026-03-10（知道该行政行为之日）起算，当日不计入；期限60日（自然日），至2026-05-09届满。依据2026年官方节假日安排。另核对：自2026-03-05（行政行为作出之日）起5年，至2031-03-05届满（2031年无官方节假日安排，按周一至周五计算）；以上各项以最早届满者为准。已于2026-05-09提出行政复议申请，在期限内。"#]],
    );
    // 5 Aug 2025 + 60 = 4 Oct 2025 (国庆 1–8 Oct): Thursday 9 Oct.
    check(
        reconsideration("2025-10-10", |r| {
            r.act_made_on = on("2025-08-01");
            r.act_known_on = on("2025-08-05");
            r.right_notified = Some(true);
            r.received_on = on("2025-10-09");
        }),
        "reconsideration.application",
        expect![[r#"
            2025-10-09 met
            申请行政复议（《行政复议法》第二十条、第二十一条）：自2025-08-05（知道该行政行为之日）起算，当日不计入；期限60日（自然日），至2025-10-04届满；期满日2025-10-04为休息日，顺延至2025-10-09。依据2025年官方节假日安排。另核对：自2025-08-01（行政行为作出之日）起5年，至2030-08-01届满（2030年无官方节假日安排，按周一至周五计算）；以上各项以最早届满者为准。已于2025-10-09提出行政复议申请，在期限内。"#]],
    );
    // Not told: 60 days from learning of the right (1 Feb + 60 = 2 Apr, Thu) binds before the cap
    // of one year from knowing the act (1 Jun 2026) and the 5-year bar (20 May 2030).
    check(
        reconsideration("2026-03-01", |r| {
            r.act_made_on = on("2025-05-20");
            r.act_known_on = on("2025-06-01");
            r.right_notified = Some(false);
            r.right_learned_on = on("2026-02-01");
        }),
        "reconsideration.application",
        expect![[r#"
            2026-04-02 running
            申请行政复议（《行政复议法》第二十条、第二十一条）：自2026-02-01（知道申请行政复议权利之日）起算，当日不计入；期限60日（自然日），至2026-04-02届满。依据2026年官方节假日安排。行政机关未告知申请行政复议的权利、复议机关和申请期限，期限自知道申请权利之日起计算，但最长不超过自知道该行政行为之日起1年。另核对：自2025-06-01（知道该行政行为之日）起1年，至2026-06-01届满；自2025-05-20（行政行为作出之日）起5年，至2030-05-20届满（2030年无官方节假日安排，按周一至周五计算）；以上各项以最早届满者为准。截至2026-03-01未记录提出行政复议申请，剩余32日。"#]],
    );
    // Not told, learned late: the 1-year cap binds. 15 Mar 2025 + 1 year = 15 Mar 2026, a Sunday:
    // Monday 16 Mar; 60 days from learning (20 Feb + 60 = 21 Apr) would be later.
    check(
        reconsideration("2026-03-20", |r| {
            r.act_made_on = on("2025-03-10");
            r.act_known_on = on("2025-03-15");
            r.right_notified = Some(false);
            r.right_learned_on = on("2026-02-20");
        }),
        "reconsideration.application",
        expect![[r#"
            2026-03-16 overdue
            申请行政复议（《行政复议法》第二十条、第二十一条）：自2025-03-15（知道该行政行为之日）起算，当日不计入；期限1年，至2026-03-15届满；期满日2026-03-15为休息日，顺延至2026-03-16。依据2026年官方节假日安排。行政机关未告知申请行政复议的权利、复议机关和申请期限，期限自知道申请权利之日起计算，但最长不超过自知道该行政行为之日起1年。另核对：自2026-02-20（知道申请行政复议权利之日）起60日（自然日），至2026-04-21届满；自2025-03-10（行政行为作出之日）起5年，至2030-03-10届满，顺延至2030-03-11（2030年无官方节假日安排，按周一至周五计算）；以上各项以最早届满者为准。截至2026-03-20未记录提出行政复议申请，已超过期限4日。"#]],
    );
    // Not told and no date of learning: only the cap, 8 Oct 2025 + 1 year = 8 Oct 2026 (Thu).
    check(
        reconsideration("2026-06-01", |r| {
            r.act_made_on = on("2025-09-30");
            r.act_known_on = on("2025-10-08");
            r.right_notified = Some(false);
        }),
        "reconsideration.application",
        expect![[r#"
            2026-10-08 running
            申请行政复议（《行政复议法》第二十条、第二十一条）：自2025-10-08（知道该行政行为之日）起算，当日不计入；期限1年，至2026-10-08届满。依据2026年官方节假日安排。行政机关未告知申请行政复议的权利、复议机关和申请期限，期限自知道申请权利之日起计算，但最长不超过自知道该行政行为之日起1年。未记录知道申请权利的日期。另核对：自2025-09-30（行政行为作出之日）起5年，至2030-09-30届满（2030年无官方节假日安排，按周一至周五计算）；以上各项以最早届满者为准。截至2026-06-01未记录提出行政复议申请，剩余129日。"#]],
    );
    // The 5-year bar binds: made 1 Mar 2021, known 20 Jan 2026; 1 Mar 2026 is a Sunday: Monday
    // 2 Mar, before 20 Jan + 60 = 21 Mar.
    check(
        reconsideration("2026-02-10", |r| {
            r.act_made_on = on("2021-03-01");
            r.act_known_on = on("2026-01-20");
            r.right_notified = Some(true);
        }),
        "reconsideration.application",
        expect![[r#"
            2026-03-02 running
            申请行政复议（《行政复议法》第二十条、第二十一条）：自2021-03-01（行政行为作出之日）起算，当日不计入；期限5年，至2026-03-01届满；期满日2026-03-01为休息日，顺延至2026-03-02。依据2026年官方节假日安排。另核对：自2026-01-20（知道该行政行为之日）起60日（自然日），至2026-03-21届满，顺延至2026-03-23；以上各项以最早届满者为准。截至2026-02-10未记录提出行政复议申请，剩余20日。"#]],
    );
    // Real property, 20-year bar: made 10 May 2006, so 10 May 2026 (Sunday; the Saturday before is
    // a 调休 working day but the Sunday rests): Monday 11 May, before 1 Apr + 60 = 31 May (Sun) ->
    // 1 Jun. Applied on 12 May: out of time.
    check(
        reconsideration("2026-05-12", |r| {
            r.act_made_on = on("2006-05-10");
            r.act_known_on = on("2026-04-01");
            r.right_notified = Some(true);
            r.real_property = true;
            r.received_on = on("2026-05-12");
        }),
        "reconsideration.application",
        expect![[r#"
            2026-05-11 late
            申请行政复议（《行政复议法》第二十条、第二十一条）：自2006-05-10（行政行为作出之日）起算，当日不计入；期限20年，至2026-05-10届满；期满日2026-05-10为休息日，顺延至2026-05-11。依据2026年官方节假日安排。因不动产提出申请，最长申请期限为自行政行为作出之日起20年。另核对：自2026-04-01（知道该行政行为之日）起60日（自然日），至2026-05-31届满，顺延至2026-06-01；以上各项以最早届满者为准。已于2026-05-12提出行政复议申请，超过期限1日。"#]],
    );
    // Nobody recorded whether the right was told: counted as told (10 Jun + 60 = 9 Aug, a Sunday:
    // 10 Aug), and the explanation says what changes if it was not. No date made: bar not checked.
    check(
        reconsideration("2026-07-01", |r| r.act_known_on = on("2026-06-10")),
        "reconsideration.application",
        expect![[r#"
            2026-08-10 running
            申请行政复议（《行政复议法》第二十条、第二十一条）：自2026-06-10（知道该行政行为之日）起算，当日不计入；期限60日（自然日），至2026-08-09届满；期满日2026-08-09为休息日，顺延至2026-08-10。依据2026年官方节假日安排。未记录是否告知申请行政复议的权利和期限，按已告知计算；未告知的，期限自知道申请权利之日起计算，但最长不超过自知道该行政行为之日起1年。未记录行政行为作出日期，未核对自作出之日起5年的最长申请期限。截至2026-07-01未记录提出行政复议申请，剩余40日。"#]],
    );
    // Known on 29 Feb 2024, not told: one year ends on 28 Feb 2025 (Fri), the month's last day.
    check(
        reconsideration("2025-03-01", |r| {
            r.act_made_on = on("2024-02-29");
            r.act_known_on = on("2024-02-29");
            r.right_notified = Some(false);
        }),
        "reconsideration.application",
        expect![[r#"
            2025-02-28 overdue
            申请行政复议（《行政复议法》第二十条、第二十一条）：自2024-02-29（知道该行政行为之日）起算，当日不计入；期限1年，至2025-02-28届满。依据2025年官方节假日安排。行政机关未告知申请行政复议的权利、复议机关和申请期限，期限自知道申请权利之日起计算，但最长不超过自知道该行政行为之日起1年。未记录知道申请权利的日期。另核对：自2024-02-29（行政行为作出之日）起5年，至2029-02-28届满（2029年无官方节假日安排，按周一至周五计算）；以上各项以最早届满者为准。截至2025-03-01未记录提出行政复议申请，已超过期限1日。"#]],
    );
}

#[test]
fn reconsideration_intake() {
    // 5 working days from Thursday 12 Feb 2026 = Thursday 26 Feb (worked out in `petition_clocks`:
    // 13 Feb, the 调休 Saturday 14 Feb, then 24, 25, 26 Feb after 春节).
    check(
        reconsideration("2026-03-02", |r| {
            r.received_on = on("2026-02-12");
            r.intake = Some(ReconsiderationIntake::Accepted);
            r.intake_decided_on = on("2026-02-25");
        }),
        "reconsideration.acceptance_review",
        expect![[r#"
            2026-02-26 met
            审查是否受理行政复议申请（《行政复议法》第三十条）：自2026-02-12（收到行政复议申请之日）起算，当日不计入；期限5个工作日，至2026-02-26届满。依据2026年官方节假日安排。已于2026-02-25作出是否受理的决定，在期限内。"#]],
    );
    // 5 working days from Wednesday 30 Sep 2026 = Tuesday 13 Oct (8, 9, the 调休 Saturday 10,
    // 12, 13 Oct). No decision by then: deemed accepted from 13 Oct.
    check(
        reconsideration("2026-10-14", |r| r.received_on = on("2026-09-30")),
        "reconsideration.acceptance_review",
        expect![[r#"
            2026-10-13 overdue
            审查是否受理行政复议申请（《行政复议法》第三十条）：自2026-09-30（收到行政复议申请之日）起算，当日不计入；期限5个工作日，至2026-10-13届满。依据2026年官方节假日安排。截至2026-10-14未记录作出是否受理的决定，已超过期限1日。审查期限届满未作出不予受理决定，自2026-10-13起视为受理。"#]],
    );
    // The decision clock then runs from the deemed acceptance: 13 Oct + 60 = 12 Dec (Sat): 14 Dec.
    check(
        reconsideration("2026-10-14", |r| r.received_on = on("2026-09-30")),
        "reconsideration.decision",
        expect![[r#"
            2026-12-14 running
            作出行政复议决定（《行政复议法》第六十二条）：自2026-10-13（视为受理之日）起算，当日不计入；期限60日（自然日），至2026-12-12届满；期满日2026-12-12为休息日，顺延至2026-12-14。依据2026年官方节假日安排。未记录审理程序，按普通程序计算。截至2026-10-14未记录作出行政复议决定，剩余61日。"#]],
    );
    // Monday 2 Mar: 3, 4, 5, 6, 9 Mar. Still open on the 4th.
    check(
        reconsideration("2026-03-04", |r| r.received_on = on("2026-03-02")),
        "reconsideration.acceptance_review",
        expect![[r#"
            2026-03-09 running
            审查是否受理行政复议申请（《行政复议法》第三十条）：自2026-03-02（收到行政复议申请之日）起算，当日不计入；期限5个工作日，至2026-03-09届满。依据2026年官方节假日安排。截至2026-03-04未记录作出是否受理的决定，剩余5日。审查期限届满未作出不予受理决定的，自期满之日起视为受理。"#]],
    );
    // 补正 notice within 5 working days of Thursday 30 Apr: 1–5 May rest; 6 (1), 7 (2), 8 (3),
    // the 调休 Saturday 9 May (4), Monday 11 May (5). Sent on the 9th.
    check(
        reconsideration("2026-05-12", |r| {
            r.received_on = on("2026-04-30");
            r.correction_notified_on = on("2026-05-09");
        }),
        "reconsideration.correction_notice",
        expect![[r#"
            2026-05-11 met
            通知补正申请材料（《行政复议法》第三十一条）：自2026-04-30（收到行政复议申请之日）起算，当日不计入；期限5个工作日，至2026-05-11届满。依据2026年官方节假日安排。已于2026-05-09书面通知补正，在期限内。"#]],
    );
    // 10 working days from receiving the notice on Monday 11 May: 12–15 (4), 18–22 (9), 25 May (10).
    check(
        reconsideration("2026-05-26", |r| {
            r.received_on = on("2026-04-30");
            r.correction_notified_on = on("2026-05-09");
            r.correction_received_on = on("2026-05-11");
        }),
        "reconsideration.correction_supply",
        expect![[r#"
            2026-05-25 overdue
            提交补正材料（《行政复议法》第三十一条）：自2026-05-11（收到补正通知之日）起算，当日不计入；期限10个工作日，至2026-05-25届满。依据2026年官方节假日安排。截至2026-05-26未记录提交补正材料，已超过期限1日。无正当理由逾期不补正的，视为申请人放弃行政复议申请。"#]],
    );
    // 10 working days from Friday 26 Sep 2025, over 国庆 2025: the 调休 Sunday 28 Sep (1), 29 (2),
    // 30 (3), 1–8 Oct rest, 9 (4), 10 (5), the 调休 Saturday 11 Oct (6), 13 (7), 14 (8), 15 (9),
    // 16 Oct (10).
    check(
        reconsideration("2025-10-20", |r| {
            r.received_on = on("2025-09-24");
            r.correction_notified_on = on("2025-09-26");
            r.correction_received_on = on("2025-09-26");
            r.correction_supplied_on = on("2025-10-15");
        }),
        "reconsideration.correction_supply",
        expect![[r#"
            2025-10-16 met
            提交补正材料（《行政复议法》第三十一条）：自2025-09-26（收到补正通知之日）起算，当日不计入；期限10个工作日，至2025-10-16届满。依据2025年官方节假日安排。已于2025-10-15提交补正材料，在期限内。"#]],
    );
    // The review starts afresh from the supplied materials: Wednesday 20 May + 5 working days =
    // 21, 22, 25, 26, 27 May.
    check(
        reconsideration("2026-05-28", |r| {
            r.received_on = on("2026-05-06");
            r.correction_notified_on = on("2026-05-08");
            r.correction_received_on = on("2026-05-08");
            r.correction_supplied_on = on("2026-05-20");
            r.intake = Some(ReconsiderationIntake::Accepted);
            r.intake_decided_on = on("2026-05-27");
        }),
        "reconsideration.acceptance_review",
        expect![[r#"
            2026-05-27 met
            审查是否受理行政复议申请（《行政复议法》第三十条）：自2026-05-20（收到补正材料之日）起算，当日不计入；期限5个工作日，至2026-05-27届满。依据2026年官方节假日安排。已于2026-05-27作出是否受理的决定，在期限内。"#]],
    );
    // A notice is out and nothing has come back: no review clock (the applicant's window runs).
    check(
        reconsideration("2026-05-12", |r| {
            r.received_on = on("2026-05-06");
            r.correction_notified_on = on("2026-05-08");
            r.correction_received_on = on("2026-05-08");
        }),
        "reconsideration.acceptance_review",
        expect!["none"],
    );
    // Refused at intake: no decision clock.
    check(
        reconsideration("2026-05-12", |r| {
            r.received_on = on("2026-05-06");
            r.intake = Some(ReconsiderationIntake::NotAccepted);
            r.intake_decided_on = on("2026-05-08");
        }),
        "reconsideration.decision",
        expect!["none"],
    );
}

#[test]
fn reconsideration_decision() {
    // Ordinary: 2 Mar + 60 = 1 May (劳动节 1–5 May): Wednesday 6 May.
    check(
        reconsideration("2026-05-07", |r| {
            r.accepted_on = on("2026-03-02");
            r.procedure = Some(Procedure::Ordinary);
            r.decided_on = on("2026-05-06");
        }),
        "reconsideration.decision",
        expect![[r#"
            2026-05-06 met
            作出行政复议决定（《行政复议法》第六十二条）：自2026-03-02（受理之日）起算，当日不计入；期限60日（自然日），至2026-05-01届满；期满日2026-05-01为休息日，顺延至2026-05-06。依据2026年官方节假日安排。已于2026-05-06作出行政复议决定，在期限内。"#]],
    );
    // 60 + 30 from acceptance ending on a holiday: 5 Jul + 90 = 3 Oct: 8 Oct; decided a day late.
    check(
        reconsideration("2026-10-12", |r| {
            r.accepted_on = on("2026-07-05");
            r.procedure = Some(Procedure::Ordinary);
            r.extension = approved(30, "2026-08-28");
            r.decided_on = on("2026-10-09");
        }),
        "reconsideration.decision",
        expect![[r#"
            2026-10-08 late
            作出行政复议决定（《行政复议法》第六十二条）：自2026-07-05（受理之日）起算，当日不计入；期限60日（自然日），经批准延长30日，共90日，至2026-10-03届满；期满日2026-10-03为休息日，顺延至2026-10-08。依据2026年官方节假日安排。已于2026-10-09作出行政复议决定，超过期限1日。"#]],
    );
    // Simplified: 1 Sep + 30 = 1 Oct: 8 Oct; nothing by the 9th.
    check(
        reconsideration("2026-10-09", |r| {
            r.accepted_on = on("2026-09-01");
            r.procedure = Some(Procedure::Simplified);
        }),
        "reconsideration.decision",
        expect![[r#"
            2026-10-08 overdue
            作出行政复议决定（《行政复议法》第六十二条）：自2026-09-01（受理之日）起算，当日不计入；期限30日（自然日），至2026-10-01届满；期满日2026-10-01为休息日，顺延至2026-10-08。依据2026年官方节假日安排。适用简易程序。截至2026-10-09未记录作出行政复议决定，已超过期限1日。"#]],
    );
    // Simplified periods cannot be extended: 1 Jun + 30 = 1 Jul (Wed).
    check(
        reconsideration("2026-06-20", |r| {
            r.accepted_on = on("2026-06-01");
            r.procedure = Some(Procedure::Simplified);
            r.extension = approved(10, "2026-06-10");
        }),
        "reconsideration.decision",
        expect![[r#"
            2026-07-01 running
            作出行政复议决定（《行政复议法》第六十二条）：自2026-06-01（受理之日）起算，当日不计入；期限30日（自然日），至2026-07-01届满。依据2026年官方节假日安排。适用简易程序。简易程序的决定期限不得延长，记录的延长不予计入。截至2026-06-20未记录作出行政复议决定，剩余11日。"#]],
    );
    // Procedure not recorded: ordinary. 1 Jun + 60 = 31 Jul (Fri).
    check(
        reconsideration("2026-06-20", |r| r.accepted_on = on("2026-06-01")),
        "reconsideration.decision",
        expect![[r#"
            2026-07-31 running
            作出行政复议决定（《行政复议法》第六十二条）：自2026-06-01（受理之日）起算，当日不计入；期限60日（自然日），至2026-07-31届满。依据2026年官方节假日安排。未记录审理程序，按普通程序计算。截至2026-06-20未记录作出行政复议决定，剩余41日。"#]],
    );
    // Suspended 10–20 Mar (10 days): 2 Mar + 70 = 11 May (Mon).
    check(
        reconsideration("2026-05-12", |r| {
            r.accepted_on = on("2026-03-02");
            r.procedure = Some(Procedure::Ordinary);
            r.suspensions = vec![suspended("2026-03-10", Some("2026-03-20"))];
            r.decided_on = on("2026-05-11");
        }),
        "reconsideration.decision",
        expect![[r#"
            2026-05-11 met
            作出行政复议决定（《行政复议法》第六十二条）：自2026-03-02（受理之日）起算，当日不计入；期限60日（自然日），中止期间10日不计入，共70日，至2026-05-11届满。依据2026年官方节假日安排。中止期间：2026-03-10至2026-03-20（10日）。已于2026-05-11作出行政复议决定，在期限内。"#]],
    );
    // Suspended since 1 Apr and still suspended on 15 Apr: 14 days so far, 2 Mar + 74 = 15 May (Fri).
    check(
        reconsideration("2026-04-15", |r| {
            r.accepted_on = on("2026-03-02");
            r.procedure = Some(Procedure::Ordinary);
            r.suspensions = vec![suspended("2026-04-01", None)];
        }),
        "reconsideration.decision",
        expect![[r#"
            2026-05-15 suspended
            作出行政复议决定（《行政复议法》第六十二条）：自2026-03-02（受理之日）起算，当日不计入；期限60日（自然日），中止期间14日不计入，共74日，至2026-05-15届满。依据2026年官方节假日安排。中止期间：2026-04-01起至今（暂计14日）。目前处于中止状态（自2026-04-01起），中止期间暂计至2026-04-15，恢复后期满日相应顺延。"#]],
    );
    // Configured so that suspension does not stop the clock: 2 Mar + 60 = 1 May: 6 May.
    check_with(
        &ClockConfig {
            suspension: SuspensionEffect::ClockRuns,
            ..ClockConfig::default()
        },
        reconsideration("2026-04-15", |r| {
            r.accepted_on = on("2026-03-02");
            r.procedure = Some(Procedure::Ordinary);
            r.suspensions = vec![suspended("2026-04-01", None)];
        }),
        "reconsideration.decision",
        expect![[r#"
            2026-05-06 running
            作出行政复议决定（《行政复议法》第六十二条）：自2026-03-02（受理之日）起算，当日不计入；期限60日（自然日），至2026-05-01届满；期满日2026-05-01为休息日，顺延至2026-05-06。依据2026年官方节假日安排。按本地配置，中止不停止决定期限的计算。截至2026-04-15未记录作出行政复议决定，剩余21日。"#]],
    );
    // A suspension that starts after the period ended (5 Jan + 60 = 6 Mar, Fri) extends nothing.
    check(
        reconsideration("2026-03-25", |r| {
            r.accepted_on = on("2026-01-05");
            r.procedure = Some(Procedure::Ordinary);
            r.suspensions = vec![suspended("2026-03-10", Some("2026-03-20"))];
        }),
        "reconsideration.decision",
        expect![[r#"
            2026-03-06 overdue
            作出行政复议决定（《行政复议法》第六十二条）：自2026-01-05（受理之日）起算，当日不计入；期限60日（自然日），至2026-03-06届满。依据2026年官方节假日安排。2026-03-10起的中止晚于决定期限届满日2026-03-06，不顺延。截至2026-03-25未记录作出行政复议决定，已超过期限19日。"#]],
    );
    // Overlapping suspensions count once: 10–20 Mar (10 days) and 15–25 Mar (5 more, 20–25 Mar):
    // 2 Mar + 75 = 16 May (Sat): Monday 18 May.
    check(
        reconsideration("2026-05-20", |r| {
            r.accepted_on = on("2026-03-02");
            r.procedure = Some(Procedure::Ordinary);
            r.suspensions = vec![
                suspended("2026-03-15", Some("2026-03-25")),
                suspended("2026-03-10", Some("2026-03-20")),
            ];
            r.decided_on = on("2026-05-15");
        }),
        "reconsideration.decision",
        expect![[r#"
            2026-05-18 met
            作出行政复议决定（《行政复议法》第六十二条）：自2026-03-02（受理之日）起算，当日不计入；期限60日（自然日），中止期间15日不计入，共75日，至2026-05-16届满；期满日2026-05-16为休息日，顺延至2026-05-18。依据2026年官方节假日安排。中止期间：2026-03-10至2026-03-20（10日）、2026-03-15至2026-03-25（5日，与此前中止重叠的部分不重复计算）。已于2026-05-15作出行政复议决定，在期限内。"#]],
    );
    // Extension and suspension together: 5 Jul + 60 + 30 + 10 = 13 Oct (Tue).
    check(
        reconsideration("2026-10-12", |r| {
            r.accepted_on = on("2026-07-05");
            r.procedure = Some(Procedure::Ordinary);
            r.extension = approved(30, "2026-08-20");
            r.suspensions = vec![suspended("2026-08-01", Some("2026-08-11"))];
        }),
        "reconsideration.decision",
        expect![[r#"
            2026-10-13 running
            作出行政复议决定（《行政复议法》第六十二条）：自2026-07-05（受理之日）起算，当日不计入；期限60日（自然日），经批准延长30日，中止期间10日不计入，共100日，至2026-10-13届满。依据2026年官方节假日安排。中止期间：2026-08-01至2026-08-11（10日）。截至2026-10-12未记录作出行政复议决定，剩余1日。"#]],
    );
}

#[test]
fn reconsideration_to_litigation() {
    // Decision received 16 Sep + 15 = 1 Oct: 8 Oct, today.
    check(
        reconsideration("2026-10-08", |r| {
            r.accepted_on = on("2026-07-20");
            r.decision = Some(ReconsiderationDecision::Upheld);
            r.decided_on = on("2026-09-14");
            r.decision_received_on = on("2026-09-16");
        }),
        "reconsideration.lawsuit",
        expect![[r#"
            2026-10-08 running
            对行政复议提起诉讼（《行政诉讼法》第四十五条）：自2026-09-16（收到行政复议决定书之日）起算，当日不计入；期限15日（自然日），至2026-10-01届满；期满日2026-10-01为休息日，顺延至2026-10-08。依据2026年官方节假日安排。截至2026-10-08未记录提起诉讼，期限今日届满。"#]],
    );
    // Received Sunday 25 Jan + 15 = 9 Feb (Mon); sued that day.
    check(
        reconsideration("2026-02-10", |r| {
            r.accepted_on = on("2025-12-01");
            r.decision = Some(ReconsiderationDecision::Revoked);
            r.decided_on = on("2026-01-23");
            r.decision_received_on = on("2026-01-25");
            r.lawsuit_filed_on = on("2026-02-09");
        }),
        "reconsideration.lawsuit",
        expect![[r#"
            2026-02-09 met
            对行政复议提起诉讼（《行政诉讼法》第四十五条）：自2026-01-25（收到行政复议决定书之日）起算，当日不计入；期限15日（自然日），至2026-02-09届满。依据2026年官方节假日安排。已于2026-02-09提起诉讼，在期限内。"#]],
    );
    // No decision in time: the decision period ended 6 Mar (5 Jan + 60); 6 Mar + 15 = 21 Mar (Sat):
    // Monday 23 Mar.
    check(
        reconsideration("2026-03-20", |r| {
            r.accepted_on = on("2026-01-05");
            r.procedure = Some(Procedure::Ordinary);
        }),
        "reconsideration.lawsuit",
        expect![[r#"
            2026-03-23 running
            对行政复议提起诉讼（《行政诉讼法》第四十五条）：自2026-03-06（行政复议期满之日）起算，当日不计入；期限15日（自然日），至2026-03-21届满；期满日2026-03-21为休息日，顺延至2026-03-23。依据2026年官方节假日安排。行政复议机关逾期未作出决定，申请人可以自复议期满之日起15日内提起诉讼。截至2026-03-20未记录提起诉讼，剩余3日。"#]],
    );
    // Closed by a mediation document: no window to sue under SS 45.
    check(
        reconsideration("2026-03-20", |r| {
            r.accepted_on = on("2026-01-05");
            r.decision = Some(ReconsiderationDecision::Mediation);
            r.decided_on = on("2026-02-01");
            r.decision_received_on = on("2026-02-02");
        }),
        "reconsideration.lawsuit",
        expect!["none"],
    );
}

#[test]
fn litigation_clocks() {
    // Defence: complaint received 22 Sep + 15 = 7 Oct (国庆): 8 Oct; filed that day.
    check(
        litigation("2026-10-09", |l| {
            l.complaint_received_on = on("2026-09-22");
            l.defence_filed_on = on("2026-10-08");
        }),
        "litigation.defence",
        expect![[r#"
            2026-10-08 met
            提交答辩状及证据（《行政诉讼法》第六十七条）：自2026-09-22（收到起诉状副本之日）起算，当日不计入；期限15日（自然日），至2026-10-07届满；期满日2026-10-07为休息日，顺延至2026-10-08。依据2026年官方节假日安排。逾期提供的证据视为没有相应证据（《行政诉讼法》第三十四条）。已于2026-10-08提交答辩状及证据，在期限内。"#]],
    );
    // 3 Feb + 15 = 18 Feb (春节): Tuesday 24 Feb; nothing by the 25th.
    check(
        litigation("2026-02-25", |l| l.complaint_received_on = on("2026-02-03")),
        "litigation.defence",
        expect![[r#"
            2026-02-24 overdue
            提交答辩状及证据（《行政诉讼法》第六十七条）：自2026-02-03（收到起诉状副本之日）起算，当日不计入；期限15日（自然日），至2026-02-18届满；期满日2026-02-18为休息日，顺延至2026-02-24。依据2026年官方节假日安排。逾期提供的证据视为没有相应证据（《行政诉讼法》第三十四条）。截至2026-02-25未记录提交答辩状及证据，已超过期限1日。"#]],
    );
    // 2024: 1 Sep + 15 = 16 Sep (中秋 15–17 Sep): 18 Sep. Filed on the 调休 Saturday 14 Sep.
    check(
        litigation("2024-09-20", |l| {
            l.complaint_received_on = on("2024-09-01");
            l.defence_filed_on = on("2024-09-14");
        }),
        "litigation.defence",
        expect![[r#"
            2024-09-18 met
            提交答辩状及证据（《行政诉讼法》第六十七条）：自2024-09-01（收到起诉状副本之日）起算，当日不计入；期限15日（自然日），至2024-09-16届满；期满日2024-09-16为休息日，顺延至2024-09-18。依据2024年官方节假日安排。逾期提供的证据视为没有相应证据（《行政诉讼法》第三十四条）。已于2024-09-14提交答辩状及证据，在期限内。"#]],
    );
    // First instance: registered 31 Mar + 6 months = 30 Sep (no 31 Sep: the month's last day).
    check(
        litigation("2026-09-01", |l| {
            l.instance = Some(Instance::First);
            l.procedure = Some(Procedure::Ordinary);
            l.registered_on = on("2026-03-31");
        }),
        "litigation.first_instance",
        expect![[r#"
            2026-09-30 running
            第一审审理期限（《行政诉讼法》第八十一条）：自2026-03-31（立案之日）起算，当日不计入；期限6个月，至2026-09-30届满。依据2026年官方节假日安排。截至2026-09-01未记录作出第一审判决或裁定，剩余29日。"#]],
    );
    // 3 Apr + 6 months = 3 Oct (国庆): 8 Oct; judged that day.
    check(
        litigation("2026-10-09", |l| {
            l.instance = Some(Instance::First);
            l.registered_on = on("2026-04-03");
            l.judged_on = on("2026-10-08");
        }),
        "litigation.first_instance",
        expect![[r#"
            2026-10-08 met
            第一审审理期限（《行政诉讼法》第八十一条）：自2026-04-03（立案之日）起算，当日不计入；期限6个月，至2026-10-03届满；期满日2026-10-03为休息日，顺延至2026-10-08。依据2026年官方节假日安排。已于2026-10-08作出第一审判决或裁定，在期限内。"#]],
    );
    // Simplified: 20 Aug + 45 = 4 Oct: 8 Oct; judged a day late.
    check(
        litigation("2026-10-12", |l| {
            l.instance = Some(Instance::First);
            l.procedure = Some(Procedure::Simplified);
            l.registered_on = on("2026-08-20");
            l.judged_on = on("2026-10-09");
        }),
        "litigation.first_instance",
        expect![[r#"
            2026-10-08 late
            第一审审理期限（《行政诉讼法》第八十三条）：自2026-08-20（立案之日）起算，当日不计入；期限45日（自然日），至2026-10-04届满；期满日2026-10-04为休息日，顺延至2026-10-08。依据2026年官方节假日安排。适用简易程序。已于2026-10-09作出第一审判决或裁定，超过期限1日。"#]],
    );
    // 31 Aug 2026 + 6 months = 28 Feb 2027, a Sunday in a year without calendar: Monday 1 Mar.
    check(
        litigation("2026-09-01", |l| {
            l.instance = Some(Instance::First);
            l.registered_on = on("2026-08-31");
        }),
        "litigation.first_instance",
        expect![[r#"
            2027-03-01 running
            第一审审理期限（《行政诉讼法》第八十一条）：自2026-08-31（立案之日）起算，当日不计入；期限6个月，至2027-02-28届满；期满日2027-02-28为休息日，顺延至2027-03-01（2027年无官方节假日安排，按周一至周五计算）。截至2026-09-01未记录作出第一审判决或裁定，剩余181日。"#]],
    );
    // Second instance: 3 Jul + 3 months = 3 Oct: 8 Oct.
    check(
        litigation("2026-09-01", |l| {
            l.instance = Some(Instance::Second);
            l.registered_on = on("2026-07-03");
        }),
        "litigation.second_instance",
        expect![[r#"
            2026-10-08 running
            第二审审理期限（《行政诉讼法》第八十八条）：自2026-07-03（收到上诉状（立案）之日）起算，当日不计入；期限3个月，至2026-10-03届满；期满日2026-10-03为休息日，顺延至2026-10-08。依据2026年官方节假日安排。截至2026-09-01未记录作出第二审判决或裁定，剩余37日。"#]],
    );
    // Appeal from a judgment: served 16 Sep + 15 = 1 Oct: 8 Oct; appealed that day.
    check(
        litigation("2026-10-09", |l| {
            l.instance = Some(Instance::First);
            l.outcome = Some(LitigationOutcome::Revoked);
            l.judged_on = on("2026-09-10");
            l.judgment_served_on = on("2026-09-16");
            l.appeal_filed_on = on("2026-10-08");
        }),
        "litigation.appeal",
        expect![[r#"
            2026-10-08 met
            提起上诉（《行政诉讼法》第八十五条）：自2026-09-16（判决书送达之日）起算，当日不计入；期限15日（自然日），至2026-10-01届满；期满日2026-10-01为休息日，顺延至2026-10-08。依据2026年官方节假日安排。第一审判决（判决撤销），上诉期限15日。已于2026-10-08提起上诉，在期限内。"#]],
    );
    // A ruling (驳回起诉) served Friday 18 Sep: 10 days, to Monday 28 Sep; closed on the 29th.
    check(
        litigation("2026-09-29", |l| {
            l.instance = Some(Instance::First);
            l.outcome = Some(LitigationOutcome::ComplaintDismissed);
            l.judgment_served_on = on("2026-09-18");
        }),
        "litigation.appeal",
        expect![[r#"
            2026-09-28 overdue
            提起上诉（《行政诉讼法》第八十五条）：自2026-09-18（裁定书送达之日）起算，当日不计入；期限10日（自然日），至2026-09-28届满。依据2026年官方节假日安排。第一审裁定（驳回起诉），上诉期限10日。截至2026-09-29未记录提起上诉，已超过期限1日。"#]],
    );
    // The same service date for a judgment: 15 days, 3 Oct (国庆): 8 Oct; still open on the 29th.
    check(
        litigation("2026-09-29", |l| {
            l.instance = Some(Instance::First);
            l.outcome = Some(LitigationOutcome::ClaimRejected);
            l.judgment_served_on = on("2026-09-18");
        }),
        "litigation.appeal",
        expect![[r#"
            2026-10-08 running
            提起上诉（《行政诉讼法》第八十五条）：自2026-09-18（判决书送达之日）起算，当日不计入；期限15日（自然日），至2026-10-03届满；期满日2026-10-03为休息日，顺延至2026-10-08。依据2026年官方节假日安排。第一审判决（判决驳回诉讼请求），上诉期限15日。截至2026-09-29未记录提起上诉，剩余9日。"#]],
    );
    // 不予立案 is a ruling too: served 3 Jun + 10 = 13 Jun (Sat): Monday 15 Jun.
    check(
        litigation("2026-06-05", |l| {
            l.instance = Some(Instance::First);
            l.outcome = Some(LitigationOutcome::NotRegistered);
            l.judgment_served_on = on("2026-06-03");
        }),
        "litigation.appeal",
        expect![[r#"
            2026-06-15 running
            提起上诉（《行政诉讼法》第八十五条）：自2026-06-03（裁定书送达之日）起算，当日不计入；期限10日（自然日），至2026-06-13届满；期满日2026-06-13为休息日，顺延至2026-06-15。依据2026年官方节假日安排。第一审裁定（不予立案），上诉期限10日。截至2026-06-05未记录提起上诉，剩余10日。"#]],
    );
    // Instance not recorded: taken as first instance, and said so. 20 May + 15 = 4 Jun (Thu);
    // appealed a day late.
    check(
        litigation("2026-06-10", |l| {
            l.outcome = Some(LitigationOutcome::ClaimRejected);
            l.judgment_served_on = on("2026-05-20");
            l.appeal_filed_on = on("2026-06-05");
        }),
        "litigation.appeal",
        expect![[r#"
            2026-06-04 late
            提起上诉（《行政诉讼法》第八十五条）：自2026-05-20（判决书送达之日）起算，当日不计入；期限15日（自然日），至2026-06-04届满。依据2026年官方节假日安排。第一审判决（判决驳回诉讼请求），上诉期限15日。未记录审级，按第一审计算。已于2026-06-05提起上诉，超过期限1日。"#]],
    );
    // No appeal from a mediation document, a ruling permitting withdrawal, or a second instance.
    check(
        litigation("2026-06-10", |l| {
            l.instance = Some(Instance::First);
            l.outcome = Some(LitigationOutcome::Mediation);
            l.judgment_served_on = on("2026-05-20");
        }),
        "litigation.appeal",
        expect!["none"],
    );
    check(
        litigation("2026-06-10", |l| {
            l.instance = Some(Instance::First);
            l.outcome = Some(LitigationOutcome::WithdrawalPermitted);
            l.judgment_served_on = on("2026-05-20");
        }),
        "litigation.appeal",
        expect!["none"],
    );
    check(
        litigation("2026-06-10", |l| {
            l.instance = Some(Instance::Second);
            l.outcome = Some(LitigationOutcome::AppealDismissed);
            l.judgment_served_on = on("2026-05-20");
        }),
        "litigation.appeal",
        expect!["none"],
    );
}

/// The counting itself, through the public calendar interface.
#[test]
fn calendar_counting() {
    let calendars = Calendars::official();
    let count = |start: &str, period: Period| {
        let end = calendars.period_end(d(start), period);
        let years: Vec<String> = end
            .years
            .iter()
            .map(|y| {
                format!(
                    "{}:{}",
                    y.year,
                    if y.basis == CalendarBasis::Official {
                        "official"
                    } else {
                        "weekdays"
                    }
                )
            })
            .collect();
        match end.shifted_from {
            Some(from) => format!("{} (from {from}) [{}]", end.due, years.join(" ")),
            None => format!("{} [{}]", end.due, years.join(" ")),
        }
    };
    let actual = [
        count("2026-02-12", Period::WorkingDays(5)),
        count("2026-09-30", Period::WorkingDays(5)),
        count("2026-09-30", Period::CalendarDays(5)),
        count("2024-12-27", Period::WorkingDays(5)),
        count("2026-12-29", Period::WorkingDays(5)),
        count("2026-03-31", Period::Months(6)),
        count("2024-02-29", Period::Years(1)),
        count("2026-03-01", Period::WorkingDays(0)),
    ]
    .join("\n");
    expect![[r#"
        2026-02-26 [2026:official]
        2026-10-13 [2026:official]
        2026-10-08 (from 2026-10-05) [2026:official]
        2025-01-06 [2024:official 2025:official]
        2027-01-05 [2026:official 2027:weekdays]
        2026-09-30 [2026:official]
        2025-02-28 [2025:official]
        2026-03-01 []"#]]
    .assert_eq(&actual);

    // 调休 days and holidays, one by one.
    assert!(
        calendars.is_working_day(d("2026-02-14")),
        "Saturday 14 Feb 2026 is a 调休 working day"
    );
    assert!(
        !calendars.is_working_day(d("2026-02-16")),
        "16 Feb 2026 is 春节"
    );
    assert!(
        !calendars.is_working_day(d("2026-03-07")),
        "an ordinary Saturday rests"
    );
    assert!(
        calendars.is_working_day(d("2027-01-01")),
        "2027 has no calendar: a Friday works"
    );
    assert_eq!(
        calendars.years().collect::<Vec<_>>(),
        vec![2024, 2025, 2026]
    );
    assert_eq!(
        calendars
            .period_end(d("2027-01-01"), Period::CalendarDays(1))
            .years,
        vec![YearBasis {
            year: 2027,
            basis: CalendarBasis::WeekdaysOnly
        }]
    );
}

#[test]
fn calendar_files_are_validated() {
    let refused = |source: &str| match HolidayCalendar::parse(source) {
        Ok(_) => "accepted".to_string(),
        Err(e) => e.to_string(),
    };
    let actual = [
        refused("rest = []\n"),
        refused("year = 2026\nholidays = []\n"),
        refused("year = 2026\nrest = [\"2026-02-30\"]\n"),
        refused("year = 2026\nrest = [\"2025-12-31\"]\n"),
        refused("year = 2026\nrest = [\"2026-02-14\"]\nwork = [\"2026-02-14\"]\n"),
        refused("year = 2026\nwork = [\"2026-02-13\"]\n"),
        refused("year = 2026\n"),
    ]
    .join("\n---\n");
    expect![[r#"
        节假日安排文件格式不正确：TOML parse error at line 1, column 1
          |
        1 | rest = []
          | ^
        missing field `year`

        ---
        节假日安排文件格式不正确：TOML parse error at line 2, column 1
          |
        2 | holidays = []
          | ^^^^^^^^
        unknown field `holidays`, expected one of `year`, `rest`, `work`

        ---
        2026年节假日安排：「2026-02-30」不是YYYY-MM-DD格式的日期
        ---
        2026年节假日安排：2025-12-31不在2026年内
        ---
        2026年节假日安排：2026-02-14同时列为休息日和调休工作日
        ---
        2026年节假日安排：调休工作日2026-02-13不是星期六或星期日
        ---
        accepted"#]]
    .assert_eq(&actual);

    let twice =
        Calendars::from_sources(["year = 2026\n", "year = 2026\nrest = [\"2026-01-01\"]\n"]);
    expect!["2026年节假日安排重复提供"]
        .assert_eq(&twice.expect_err("two calendars for one year").to_string());
    let both =
        Calendars::from_sources(["year = 2030\n", "year = 2031\n"]).expect("two distinct years");
    assert_eq!(both.years().collect::<Vec<_>>(), vec![2030, 2031]);
}

/// The deadline as the clients receive it.
#[test]
fn deadline_serialises_for_clients() {
    let facts = petition("2026-10-09", |p| p.received_on = on("2026-09-20"));
    let found = deadlines(&facts, &Calendars::official(), &ClockConfig::default());
    let json = serde_json::to_string_pretty(&found[0]).expect("a deadline serialises");
    expect![[r#"
        {
          "rule": "petition.acceptance_notice",
          "track": "petition",
          "kind": "duty",
          "label": "书面告知是否受理",
          "source": "《信访工作条例》第二十三条",
          "start": "2026-09-20",
          "start_event": "收到信访事项之日",
          "period": {
            "unit": "calendar_days",
            "length": 15
          },
          "counting": "calendar_days",
          "extension_days": 0,
          "suspended_days": 0,
          "last_day": "2026-10-05",
          "due": "2026-10-08",
          "shifted_from": "2026-10-05",
          "calendar_years": [
            {
              "year": 2026,
              "basis": "official"
            }
          ],
          "status": "overdue",
          "met_on": null,
          "explanation": "书面告知是否受理（《信访工作条例》第二十三条）：自2026-09-20（收到信访事项之日）起算，当日不计入；期限15日（自然日），至2026-10-05届满；期满日2026-10-05为休息日，顺延至2026-10-08。依据2026年官方节假日安排。截至2026-10-09未记录书面告知受理情况，已超过期限1日。"
        }"#]]
    .assert_eq(&json);
}

/// The adapter from the case document: every section read, a suspension without a start skipped.
#[test]
fn facts_from_a_case() {
    let mut case = Case::default();
    case.petition.route = ROUTE_6;
    case.petition.registered_on = on("2026-03-02");
    case.petition.accepted_on = on("2026-03-05");
    case.petition.extension.days = Some(30);
    case.petition.extension.approved_on = on("2026-04-01");
    case.mediation.accepted_on = on("2026-03-02");
    case.mediation.agreement.effective_on = on("2026-03-20");
    case.reconsideration.act.made_on = on("2026-01-10");
    case.reconsideration.act.known_on = on("2026-01-12");
    case.reconsideration.act.right_notified = Some(true);
    case.reconsideration.received_on = on("2026-02-12");
    case.reconsideration.accepted_on = on("2026-02-26");
    case.reconsideration.suspensions = vec![
        fengqiao_schema::document::Suspension {
            id: "s1".into(),
            from: on("2026-03-10"),
            to: on("2026-03-20"),
            reason: String::new(),
        },
        fengqiao_schema::document::Suspension {
            id: "s2".into(),
            from: None,
            to: None,
            reason: String::new(),
        },
    ];
    case.litigation.complaint_received_on = on("2026-03-03");
    case.litigation.judgment.outcome = Some(LitigationOutcome::ComplaintDismissed);
    case.litigation.judgment.served_on = on("2026-03-04");

    let found = case_deadlines(&case, d("2026-03-25"), &Calendars::official(), &ClockConfig::default());
    let facts = ClockFacts::from_case(&case, d("2026-03-25"));
    assert_eq!(found, deadlines(&facts, &Calendars::official(), &ClockConfig::default()));
    let actual: Vec<String> = found
        .iter()
        .map(|d| {
            format!(
                "{} {} {} +{} ~{}",
                d.rule,
                d.due,
                d.status.code(),
                d.extension_days,
                d.suspended_days
            )
        })
        .collect();
    expect![[r#"
        petition.acceptance_notice 2026-03-17 overdue +0 ~0
        petition.handling 2026-06-03 running +30 ~0
        mediation.period 2026-04-01 running +0 ~0
        mediation.judicial_confirmation 2026-04-20 running +0 ~0
        reconsideration.application 2026-03-13 met +0 ~0
        reconsideration.acceptance_review 2026-02-26 met +0 ~0
        reconsideration.decision 2026-05-07 running +0 ~10
        litigation.defence 2026-03-18 overdue +0 ~0
        litigation.appeal 2026-03-16 overdue +0 ~0"#]]
    .assert_eq(&actual.join("\n"));
}
