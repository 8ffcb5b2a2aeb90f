//! The policy matrix: for every track of custody, every role (at the custodian unit and elsewhere),
//! whether the user reads the case and which sections they may write (DESIGN §3–4).

mod common;

use common::*;
use expect_test::{expect, Expect};
use fengqiao_schema::document::{Case, HandoffRequest};
use fengqiao_schema::policy::{can_open_case, can_read, writable_sections};
use fengqiao_schema::units::User;
use fengqiao_schema::vocab::{CaseKind, HandoffStatus, PetitionCategory, Role, Track};

fn row(case: &Case, who: &User) -> String {
    let units = county();
    let read = if can_read(who, case, &units) { "R" } else { "-" };
    let sections: Vec<&str> = writable_sections(who, case, &units).iter().map(|s| s.code()).collect();
    format!("{:<38} {read} {}", who.id.as_str(), sections.join(" "))
}

/// Every role, at the custodian unit, at the county, at the other township.
fn matrix(case: &Case) -> String {
    let custody = case.custody.unit.clone();
    let mut lines = Vec::new();
    for unit in [custody.as_str(), COUNTY, TOWN_B] {
        for role in Role::ALL {
            lines.push(row(case, &user(*role, unit)));
        }
    }
    lines.join("\n")
}

fn check(case: &Case, expect: Expect) {
    expect.assert_eq(&matrix(case));
}

#[test]
fn mediation_custody() {
    check(
        &case_in(Track::Mediation),
        expect![[r#"
            mediator@qingshan.dongxi               R meta parties claims mediation reconsideration litigation handoffs attachments
            petition_officer@qingshan.dongxi       R 
            reconsideration_officer@qingshan.dongxi R 
            litigation_officer@qingshan.dongxi     R 
            supervisor@qingshan.dongxi             R 
            admin@qingshan.dongxi                  - 
            mediator@qingshan                      R 
            petition_officer@qingshan              R 
            reconsideration_officer@qingshan       R 
            litigation_officer@qingshan            R 
            supervisor@qingshan                    R 
            admin@qingshan                         - 
            mediator@qingshan.nanhe                - 
            petition_officer@qingshan.nanhe        - 
            reconsideration_officer@qingshan.nanhe - 
            litigation_officer@qingshan.nanhe      - 
            supervisor@qingshan.nanhe              - 
            admin@qingshan.nanhe                   - "#]],
    );
}

#[test]
fn petition_custody() {
    check(
        &case_in(Track::Petition),
        expect![[r#"
            mediator@qingshan.petition             R mediation
            petition_officer@qingshan.petition     R meta parties claims petition reconsideration litigation handoffs attachments
            reconsideration_officer@qingshan.petition R 
            litigation_officer@qingshan.petition   R 
            supervisor@qingshan.petition           R 
            admin@qingshan.petition                - 
            mediator@qingshan                      R 
            petition_officer@qingshan              R 
            reconsideration_officer@qingshan       R 
            litigation_officer@qingshan            R 
            supervisor@qingshan                    R 
            admin@qingshan                         - 
            mediator@qingshan.nanhe                - 
            petition_officer@qingshan.nanhe        - 
            reconsideration_officer@qingshan.nanhe - 
            litigation_officer@qingshan.nanhe      - 
            supervisor@qingshan.nanhe              - 
            admin@qingshan.nanhe                   - "#]],
    );
}

#[test]
fn reconsideration_custody() {
    check(
        &case_in(Track::Reconsideration),
        expect![[r#"
            mediator@qingshan.justice              R 
            petition_officer@qingshan.justice      R 
            reconsideration_officer@qingshan.justice R meta parties claims reconsideration litigation handoffs attachments
            litigation_officer@qingshan.justice    R 
            supervisor@qingshan.justice            R 
            admin@qingshan.justice                 - 
            mediator@qingshan                      R 
            petition_officer@qingshan              R 
            reconsideration_officer@qingshan       R 
            litigation_officer@qingshan            R 
            supervisor@qingshan                    R 
            admin@qingshan                         - 
            mediator@qingshan.nanhe                - 
            petition_officer@qingshan.nanhe        - 
            reconsideration_officer@qingshan.nanhe - 
            litigation_officer@qingshan.nanhe      - 
            supervisor@qingshan.nanhe              - 
            admin@qingshan.nanhe                   - "#]],
    );
}

#[test]
fn litigation_custody() {
    check(
        &case_in(Track::Litigation),
        expect![[r#"
            mediator@qingshan.legal                R 
            petition_officer@qingshan.legal        R 
            reconsideration_officer@qingshan.legal R 
            litigation_officer@qingshan.legal      R meta parties claims litigation handoffs attachments
            supervisor@qingshan.legal              R 
            admin@qingshan.legal                   - 
            mediator@qingshan                      R 
            petition_officer@qingshan              R 
            reconsideration_officer@qingshan       R 
            litigation_officer@qingshan            R 
            supervisor@qingshan                    R 
            admin@qingshan                         - 
            mediator@qingshan.nanhe                - 
            petition_officer@qingshan.nanhe        - 
            reconsideration_officer@qingshan.nanhe - 
            litigation_officer@qingshan.nanhe      - 
            supervisor@qingshan.nanhe              - 
            admin@qingshan.nanhe                   - "#]],
    );
}

#[test]
fn former_custodian_keeps_reading_and_its_own_mediation_record() {
    // The case went from 东溪镇's mediation to the justice bureau: 东溪镇 reads it, may still add
    // late mediation entries (follow-up, judicial confirmation), and nothing else.
    let case = case_in(Track::Reconsideration);
    let lines: Vec<String> =
        [user(Role::Mediator, TOWN_A), user(Role::Supervisor, TOWN_A), user(Role::Mediator, TOWN_B)].iter().map(|u| row(&case, u)).collect();
    expect![[r#"
        mediator@qingshan.dongxi               R mediation
        supervisor@qingshan.dongxi             R 
        mediator@qingshan.nanhe                - "#]].assert_eq(&lines.join("\n"));
}

#[test]
fn receiving_unit_of_a_pending_handoff_reads_and_decides() {
    let mut case = case_in(Track::Mediation);
    case.handoffs.push(HandoffRequest {
        id: "h1".into(),
        to_track: Some(Track::Reconsideration),
        to_unit: JUSTICE.into(),
        status: Some(HandoffStatus::Pending),
        ..HandoffRequest::default()
    });
    let pending = row(&case, &user(Role::ReconsiderationOfficer, JUSTICE));
    let other_body = row(&case, &user(Role::LitigationOfficer, LEGAL));
    case.handoffs[0].status = Some(HandoffStatus::Rejected);
    let rejected = row(&case, &user(Role::ReconsiderationOfficer, JUSTICE));
    expect![[r#"
        reconsideration_officer@qingshan.justice R handoffs
        litigation_officer@qingshan.legal      - 
        reconsideration_officer@qingshan.justice R handoffs"#]].assert_eq(&[pending, other_body, rejected].join("\n"));
}

#[test]
fn accusations_are_readable_only_by_the_custodian_and_the_county_supervisor() {
    let mut case = case_in(Track::Petition);
    case.petition.category = Some(PetitionCategory::Accusation);
    case.custody.history.push(fengqiao_schema::document::CustodyEpoch {
        track: Some(Track::Petition),
        unit: TOWN_A.into(),
        ..Default::default()
    });
    let lines: Vec<String> = [
        user(Role::PetitionOfficer, PETITION),
        user(Role::Supervisor, PETITION),
        user(Role::Supervisor, COUNTY),
        user(Role::PetitionOfficer, COUNTY),
        user(Role::PetitionOfficer, TOWN_A),
        user(Role::Supervisor, TOWN_A),
    ]
    .iter()
    .map(|u| row(&case, u))
    .collect();
    expect![[r#"
        petition_officer@qingshan.petition     R meta parties claims petition reconsideration litigation handoffs attachments
        supervisor@qingshan.petition           R 
        supervisor@qingshan                    R 
        petition_officer@qingshan              - 
        petition_officer@qingshan.dongxi       - 
        supervisor@qingshan.dongxi             - "#]].assert_eq(&lines.join("\n"));
}

#[test]
fn an_unregistered_case_is_held_by_the_unit_that_opened_it() {
    let mut case = Case::default();
    case.meta.kind = Some(CaseKind::Dispute);
    case.meta.opened_by_unit = TOWN_A.into();
    let lines: Vec<String> =
        [user(Role::Mediator, TOWN_A), user(Role::Mediator, TOWN_B)].iter().map(|u| row(&case, u)).collect();
    expect![[r#"
        mediator@qingshan.dongxi               R meta parties claims mediation reconsideration litigation handoffs attachments
        mediator@qingshan.nanhe                - "#]].assert_eq(&lines.join("\n"));
}

#[test]
fn who_may_open_which_case_where() {
    let units = county();
    let rows: Vec<String> = [
        (user(Role::Mediator, TOWN_A), CaseKind::Dispute, TOWN_A),
        (user(Role::Mediator, TOWN_A), CaseKind::Dispute, TOWN_B),
        (user(Role::Mediator, TOWN_A), CaseKind::Petition, TOWN_A),
        (user(Role::PetitionOfficer, PETITION), CaseKind::Petition, PETITION),
        (user(Role::PetitionOfficer, PETITION), CaseKind::Dispute, PETITION),
        (user(Role::Mediator, JUSTICE), CaseKind::Dispute, JUSTICE),
        (user(Role::Supervisor, TOWN_A), CaseKind::Dispute, TOWN_A),
    ]
    .iter()
    .map(|(u, kind, unit)| format!("{} {} in {unit}: {}", u.id.as_str(), kind.code(), can_open_case(u, *kind, unit, &units)))
    .collect();
    expect![[r#"
        mediator@qingshan.dongxi dispute in qingshan.dongxi: true
        mediator@qingshan.dongxi dispute in qingshan.nanhe: false
        mediator@qingshan.dongxi petition in qingshan.dongxi: false
        petition_officer@qingshan.petition petition in qingshan.petition: true
        petition_officer@qingshan.petition dispute in qingshan.petition: false
        mediator@qingshan.justice dispute in qingshan.justice: false
        supervisor@qingshan.dongxi dispute in qingshan.dongxi: false"#]].assert_eq(&rows.join("\n"));
}
