//! Who may read a case and who may write each of its sections (DESIGN §4, §3).
//!
//! The policy is judged against the case as it stood *before* the changes being authorised, so a
//! batch cannot grant itself rights (it cannot, say, move custody and then write as custodian).

use crate::document::Case;
use crate::units::{User, UnitTree};
use crate::vocab::{CaseKind, HandoffStatus, PetitionCategory, Role, Section, Track};

/// The unit holding custody and its track. A case not yet registered by the server is held by the
/// unit that opened it, in the opening track of its kind.
pub fn custodian(case: &Case) -> (&str, Option<Track>) {
    if !case.custody.unit.is_empty() {
        (case.custody.unit.as_str(), case.custody.track)
    } else {
        (case.meta.opened_by_unit.as_str(), case.meta.kind.map(CaseKind::opening_track))
    }
}

/// The case is a 检举控告 petition: the accused must never see it (XF 29–31).
pub fn is_restricted(case: &Case) -> bool {
    case.petition.category == Some(PetitionCategory::Accusation)
}

/// A user reads a case if its custody unit, any earlier custody unit, or the receiving unit of a
/// handoff that reached its inbox (pending, or decided or withdrawn since) is the user's unit or
/// below it. A restricted case is readable only by the
/// custodian unit and the county's supervisors. An administrator alone reads no cases.
pub fn can_read(user: &User, case: &Case, units: &UnitTree) -> bool {
    if !user.works_cases() {
        return false;
    }
    let (custody_unit, _) = custodian(case);
    if is_restricted(case) {
        let county = units.root_of(custody_unit);
        return user.unit.as_str() == custody_unit
            || (user.has_role(Role::Supervisor) && user.unit.as_str() == county);
    }
    let mine = |unit: &str| !unit.is_empty() && units.is_within(unit, user.unit.as_str());
    mine(custody_unit)
        || case.former_custodians().any(mine)
        || case.handoffs.iter().filter(|h| reached_receiver(h.status)).any(|h| mine(&h.to_unit))
}

/// A handoff in one of these states has been in the receiving unit's inbox: the receiving unit
/// reads the case (and keeps reading it after deciding, so that it sees the outcome and a late
/// decision from one of its devices can still be received and compensated).
fn reached_receiver(status: Option<HandoffStatus>) -> bool {
    matches!(
        status,
        Some(HandoffStatus::Pending | HandoffStatus::Accepted | HandoffStatus::Rejected | HandoffStatus::Withdrawn)
    )
}

/// The user is of the custodian unit and holds the role of the custody track.
pub fn is_custodian(user: &User, case: &Case) -> bool {
    let (unit, track) = custodian(case);
    match track {
        Some(track) => user.unit.as_str() == unit && user.has_role(Role::for_track(track)),
        None => false,
    }
}

/// The user is of the receiving unit of a handoff that reached its inbox, with the role of the
/// target track: such a user writes the handoff's decision. Whether a decision takes effect (only
/// while pending, the first one) is for arbitration to judge; a late one is compensated.
pub fn is_handoff_receiver(user: &User, case: &Case) -> bool {
    case.handoffs.iter().any(|h| {
        reached_receiver(h.status)
            && h.to_unit == user.unit.as_str()
            && h.to_track.is_some_and(|t| user.has_role(Role::for_track(t)))
    })
}

/// Whether `user` may write `section` of `case` (DESIGN §3 table). Reading is a precondition.
pub fn can_write(user: &User, case: &Case, section: Section, units: &UnitTree) -> bool {
    if !can_read(user, case, units) {
        return false;
    }
    let (unit, track) = custodian(case);
    let of_custodian_unit = user.unit.as_str() == unit;
    match section {
        Section::Custody | Section::Review => false,
        Section::Meta | Section::Parties | Section::Claims | Section::Attachments => is_custodian(user, case),
        Section::Mediation => {
            user.has_role(Role::Mediator)
                && ((of_custodian_unit && matches!(track, Some(Track::Mediation) | Some(Track::Petition)))
                    // The recording unit's own earlier mediation stays writable for late entries
                    // (follow-up visits, judicial confirmation) after custody moved on.
                    || case
                        .custody
                        .history
                        .iter()
                        .any(|e| e.track == Some(Track::Mediation) && e.unit == user.unit.as_str()))
        }
        // A track's own section belongs to the officers of the custodian unit while custody is in
        // that track: a township's petition officer does not write a mediation case's petition
        // record. Before a handoff, the custodian also fills in what the target track needs (the
        // respondent agency and the act, for reconsideration): it may write the section of any
        // track its own track can hand the case to.
        Section::Petition => writes_track_section(user, case, Track::Petition),
        Section::Reconsideration => writes_track_section(user, case, Track::Reconsideration),
        Section::Litigation => writes_track_section(user, case, Track::Litigation),
        Section::Handoffs => is_custodian(user, case) || is_handoff_receiver(user, case),
    }
}

fn writes_track_section(user: &User, case: &Case, section_track: Track) -> bool {
    let (_, track) = custodian(case);
    is_custodian(user, case)
        && track.is_some_and(|t| t == section_track || crate::handoff::path(t, section_track).is_some())
}

/// The sections `user` may write, in table order.
pub fn writable_sections(user: &User, case: &Case, units: &UnitTree) -> Vec<Section> {
    Section::ALL.iter().copied().filter(|s| can_write(user, case, *s, units)).collect()
}

/// Whether `user` may open a case of `kind` held by `unit`: a mediator opens disputes and a petition
/// officer opens petitions, each in their own unit, and only in a unit of a kind that serves the track.
pub fn can_open_case(user: &User, kind: CaseKind, unit: &str, units: &UnitTree) -> bool {
    let track = kind.opening_track();
    user.unit.as_str() == unit
        && user.has_role(Role::for_track(track))
        && units.get(unit).is_some_and(|u| crate::units::unit_kind_serves(u.kind, track))
}
