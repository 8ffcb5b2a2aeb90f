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
/// pending handoff is the user's unit or below it. A restricted case is readable only by the
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
        || case
            .handoffs
            .iter()
            .filter(|h| matches!(h.status, Some(HandoffStatus::Pending) | Some(HandoffStatus::Requested)))
            .any(|h| mine(&h.to_unit))
}

/// The user is of the custodian unit and holds the role of the custody track.
pub fn is_custodian(user: &User, case: &Case) -> bool {
    let (unit, track) = custodian(case);
    match track {
        Some(track) => user.unit.as_str() == unit && user.has_role(Role::for_track(track)),
        None => false,
    }
}

/// The user may decide a handoff waiting for their unit (receiving unit, role of the target track).
pub fn is_handoff_receiver(user: &User, case: &Case) -> bool {
    case.handoffs.iter().any(|h| {
        matches!(h.status, Some(HandoffStatus::Pending) | Some(HandoffStatus::Requested))
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
        // that track: a township's petition officer does not write a mediation case's petition record.
        Section::Petition => is_custodian(user, case) && track == Some(Track::Petition),
        Section::Reconsideration => is_custodian(user, case) && track == Some(Track::Reconsideration),
        Section::Litigation => is_custodian(user, case) && track == Some(Track::Litigation),
        Section::Handoffs => is_custodian(user, case) || is_handoff_receiver(user, case),
    }
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
