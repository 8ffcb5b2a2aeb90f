//! Who reads which case, as stored for the feed (`store::access`), must be exactly
//! `fengqiao_schema::policy::can_read`: checked for every user of every role in every unit of the
//! fixture county against a table of cases (each track, handoffs in every state, custody history,
//! a restricted petition), both in memory and through the database's visibility queries.

use std::collections::BTreeSet;

use fengqiao_schema::document::{Case, HandoffRequest};
use fengqiao_schema::fixtures::{self, JUSTICE, LEGAL, OTHER_COUNTY_JUSTICE, TOWN_B};
use fengqiao_schema::ids::CaseId;
use fengqiao_schema::policy;
use fengqiao_schema::units::User;
use fengqiao_schema::vocab::{HandoffStatus, PetitionCategory, Role, Track};
use fengqiao_server::clock::Timestamp;
use fengqiao_server::store::access::CaseReaders;
use fengqiao_server::store::documents::DocumentCommit;

use crate::common::*;

fn handoff(to_unit: &str, status: HandoffStatus) -> HandoffRequest {
    HandoffRequest { id: format!("h-{to_unit}"), to_unit: to_unit.into(), status: Some(status), ..Default::default() }
}

/// (name, case)
fn cases() -> Vec<(String, Case)> {
    let mut cases = Vec::new();
    for track in [Track::Mediation, Track::Petition, Track::Reconsideration, Track::Litigation] {
        cases.push((format!("in {track:?}"), fixtures::case_in(track)));
    }
    for status in [
        HandoffStatus::Requested,
        HandoffStatus::Pending,
        HandoffStatus::Accepted,
        HandoffStatus::Rejected,
        HandoffStatus::Withdrawn,
        HandoffStatus::Invalid,
        HandoffStatus::Superseded,
    ] {
        let mut case = fixtures::case_in(Track::Mediation);
        case.handoffs.push(handoff(JUSTICE, status));
        cases.push((format!("handoff {status:?}"), case));
    }
    let mut across = fixtures::case_in(Track::Mediation);
    across.handoffs.push(handoff(OTHER_COUNTY_JUSTICE, HandoffStatus::Pending));
    cases.push(("handoff to the next county".into(), across));
    let mut restricted = fixtures::case_in(Track::Petition);
    restricted.petition.category = Some(PetitionCategory::Accusation);
    cases.push(("restricted petition".into(), restricted));
    let mut restricted_after_handoff = fixtures::case_in(Track::Litigation);
    restricted_after_handoff.petition.category = Some(PetitionCategory::Accusation);
    restricted_after_handoff.handoffs.push(handoff(TOWN_B, HandoffStatus::Pending));
    cases.push(("restricted, with history and a handoff".into(), restricted_after_handoff));
    let mut unregistered = Case::default();
    unregistered.meta.opened_by_unit = LEGAL.into();
    cases.push(("not yet registered".into(), unregistered));
    cases
}

fn users() -> Vec<User> {
    let units: Vec<String> = fixtures::county().units().map(|u| u.id.as_str().to_string()).collect();
    let roles = [
        Role::Mediator,
        Role::PetitionOfficer,
        Role::ReconsiderationOfficer,
        Role::LitigationOfficer,
        Role::Supervisor,
        Role::Admin,
    ];
    units.iter().flat_map(|unit| roles.iter().map(move |role| fixtures::user(*role, unit))).collect()
}

#[tokio::test]
async fn stored_readers_agree_with_the_policy_for_every_user_and_case() {
    let units = fixtures::county();
    let cases = cases();
    // In memory, and through the encoded form the access log keeps.
    let mut disagreements = Vec::new();
    for (name, case) in &cases {
        let readers = CaseReaders::of_case(case);
        let decoded = CaseReaders::decode(&readers.encode()).expect("decodes");
        assert_eq!(decoded, readers, "{name}");
        for user in users() {
            let expected = policy::can_read(&user, case, &units);
            if readers.can_read(&user, &units) != expected {
                disagreements.push(format!("{name}: {} expected {expected}", user.id));
            }
        }
    }
    assert_eq!(disagreements, Vec::<String>::new());

    // Through the database's visibility query.
    on_each_backend(|_, store| {
        let cases = cases.clone();
        let units = units.clone();
        async move {
            let mut ids = Vec::new();
            for (n, (_, case)) in cases.iter().enumerate() {
                let case_id = CaseId::from_bytes([n as u8 + 1; 16]);
                let commit = DocumentCommit {
                    case_id,
                    chunk: new_document(actor(n as u8 + 1)).save(),
                    is_new: true,
                    actor_bindings: Vec::new(),
                    access: Some(CaseReaders::of_case(case)),
                    projection: None,
                };
                store.commit(vec![commit], Timestamp::now()).await.expect("commit").remove(0).expect("stored");
                ids.push(case_id);
            }
            for user in users() {
                let expected: BTreeSet<CaseId> = cases
                    .iter()
                    .zip(&ids)
                    .filter(|((_, case), _)| policy::can_read(&user, case, &units))
                    .map(|(_, id)| *id)
                    .collect();
                let found: BTreeSet<CaseId> =
                    store.readable_cases(&user, &units).await.expect("query").into_iter().collect();
                assert_eq!(found, expected, "{}", user.id);
            }
        }
    })
    .await;
}
