//! A small county for tests and examples across the workspace: 青山县 with two townships, the three
//! county bodies, and a neighbouring county. Ids are stable so that tests can name them.

use crate::document::{Case, CustodyEpoch};
use crate::ids::UnitId;
use crate::units::{Unit, UnitTree, User};
use crate::vocab::{CaseKind, Role, Track, UnitKind};

pub const COUNTY: &str = "qingshan";
pub const TOWN_A: &str = "qingshan.dongxi";
pub const TOWN_B: &str = "qingshan.nanhe";
pub const PETITION: &str = "qingshan.petition";
pub const JUSTICE: &str = "qingshan.justice";
pub const LEGAL: &str = "qingshan.legal";
pub const OTHER_COUNTY_JUSTICE: &str = "baishui.justice";

/// The unit tree of 青山县 (and 白水县 next door).
pub fn county() -> UnitTree {
    let unit = |id: &str, name: &str, kind, parent: Option<&str>| Unit {
        id: id.into(),
        name: name.into(),
        kind,
        parent: parent.map(UnitId::from),
    };
    UnitTree::new([
        unit(COUNTY, "青山县", UnitKind::County, None),
        unit(TOWN_A, "东溪镇", UnitKind::Township, Some(COUNTY)),
        unit(TOWN_B, "南河街道", UnitKind::Subdistrict, Some(COUNTY)),
        unit(PETITION, "县信访局", UnitKind::PetitionBureau, Some(COUNTY)),
        unit(JUSTICE, "县司法局", UnitKind::JusticeBureau, Some(COUNTY)),
        unit(LEGAL, "县政府法制办", UnitKind::LegalOffice, Some(COUNTY)),
        unit("baishui", "白水县", UnitKind::County, None),
        unit(OTHER_COUNTY_JUSTICE, "白水县司法局", UnitKind::JusticeBureau, Some("baishui")),
    ])
    .expect("the fixture county is a tree")
}

/// A user with one role, named `role@unit`.
pub fn user(role: Role, unit: &str) -> User {
    User::new(&format!("{}@{unit}", role.code()), unit, &[role])
}

/// The unit that holds custody of a case in `track` in the fixture county.
pub fn custodian_unit(track: Track) -> &'static str {
    match track {
        Track::Mediation => TOWN_A,
        Track::Petition => PETITION,
        Track::Reconsideration => JUSTICE,
        Track::Litigation => LEGAL,
    }
}

/// A registered case in custody of `track`. Cases past mediation came from 东溪镇's mediation.
pub fn case_in(track: Track) -> Case {
    let mut case = Case::default();
    case.meta.kind = Some(if track == Track::Petition { CaseKind::Petition } else { CaseKind::Dispute });
    case.meta.opened_by_unit = if track == Track::Petition { PETITION.into() } else { TOWN_A.into() };
    case.meta.township = TOWN_A.into();
    case.custody.track = Some(track);
    case.custody.unit = custodian_unit(track).into();
    if matches!(track, Track::Reconsideration | Track::Litigation) {
        case.custody.version = 1;
        case.custody.history.push(CustodyEpoch {
            track: Some(Track::Mediation),
            unit: TOWN_A.into(),
            handoff_id: "h0".into(),
            ..CustodyEpoch::default()
        });
    }
    case
}
