//! Units and users (DESIGN §4). Units form a tree: a county at the root, townships and streets and
//! the county bodies (petition bureau, justice bureau, legal office) below it. A user belongs to one
//! unit and holds roles.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::ids::{UnitId, UserId};
use crate::vocab::{Role, Track, UnitKind};

/// One unit of the tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unit {
    pub id: UnitId,
    pub name: String,
    pub kind: UnitKind,
    pub parent: Option<UnitId>,
}

/// Why a set of units does not form a tree.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnitTreeError {
    #[error("单位「{0}」重复")]
    Duplicate(UnitId),
    #[error("单位「{unit}」的上级单位「{parent}」不存在")]
    UnknownParent { unit: UnitId, parent: UnitId },
    #[error("单位「{0}」的上下级关系形成了环")]
    Cycle(UnitId),
}

/// The units of a deployment, as a tree (or several trees: one per county).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnitTree {
    units: BTreeMap<UnitId, Unit>,
}

impl UnitTree {
    /// Builds the tree, checking that every parent exists and that there is no cycle.
    pub fn new(units: impl IntoIterator<Item = Unit>) -> Result<UnitTree, UnitTreeError> {
        let mut map = BTreeMap::new();
        for unit in units {
            if map.contains_key(&unit.id) {
                return Err(UnitTreeError::Duplicate(unit.id));
            }
            map.insert(unit.id.clone(), unit);
        }
        for unit in map.values() {
            if let Some(parent) = &unit.parent {
                if !map.contains_key(parent) {
                    return Err(UnitTreeError::UnknownParent { unit: unit.id.clone(), parent: parent.clone() });
                }
            }
        }
        let tree = UnitTree { units: map };
        for id in tree.units.keys() {
            let mut seen = BTreeSet::new();
            let mut cur = Some(id);
            while let Some(u) = cur {
                if !seen.insert(u) {
                    return Err(UnitTreeError::Cycle(id.clone()));
                }
                cur = tree.units[u].parent.as_ref();
            }
        }
        Ok(tree)
    }

    pub fn get(&self, id: &str) -> Option<&Unit> {
        self.units.get(id)
    }

    pub fn units(&self) -> impl Iterator<Item = &Unit> {
        self.units.values()
    }

    /// `unit` is `ancestor` or lies below it. Unknown units are within nothing but themselves.
    pub fn is_within(&self, unit: &str, ancestor: &str) -> bool {
        if unit == ancestor {
            return true;
        }
        let mut cur = self.get(unit).and_then(|u| u.parent.as_ref());
        while let Some(p) = cur {
            if p.as_str() == ancestor {
                return true;
            }
            cur = self.get(p.as_str()).and_then(|u| u.parent.as_ref());
        }
        false
    }

    /// The root (county) above a unit, or the unit itself if it has no parent.
    pub fn root_of<'a>(&'a self, unit: &'a str) -> &'a str {
        let mut cur = unit;
        while let Some(p) = self.get(cur).and_then(|u| u.parent.as_ref()) {
            cur = p.as_str();
        }
        cur
    }

    /// The unit and every unit below it.
    pub fn subtree(&self, unit: &str) -> Vec<&Unit> {
        self.units.values().filter(|u| self.is_within(u.id.as_str(), unit)).collect()
    }

    /// The units below `unit` that may take custody of a case in `track`.
    pub fn receivers_for(&self, unit: &str, track: Track) -> Vec<&Unit> {
        let root = self.root_of(unit);
        self.subtree(root).into_iter().filter(|u| unit_kind_serves(u.kind, track)).collect()
    }
}

/// Which kinds of unit take custody of which track.
pub fn unit_kind_serves(kind: UnitKind, track: Track) -> bool {
    match track {
        Track::Mediation => matches!(kind, UnitKind::Township | UnitKind::Subdistrict),
        Track::Petition => matches!(
            kind,
            UnitKind::PetitionBureau | UnitKind::Township | UnitKind::Subdistrict | UnitKind::County
        ),
        Track::Reconsideration => matches!(kind, UnitKind::JusticeBureau),
        Track::Litigation => matches!(kind, UnitKind::LegalOffice),
    }
}

/// An authenticated user, as the policy sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub unit: UnitId,
    pub roles: BTreeSet<Role>,
}

impl User {
    pub fn new(id: &str, unit: &str, roles: &[Role]) -> User {
        User { id: UserId::new(id), unit: UnitId::new(unit), roles: roles.iter().copied().collect() }
    }

    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// A user whose roles touch cases at all (an administrator alone manages accounts, not cases).
    pub fn works_cases(&self) -> bool {
        self.roles.iter().any(|r| *r != Role::Admin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(id: &str, kind: UnitKind, parent: Option<&str>) -> Unit {
        Unit { id: id.into(), name: id.to_string(), kind, parent: parent.map(UnitId::from) }
    }

    #[test]
    fn tree_checks_parents_and_cycles() {
        let ok = UnitTree::new([
            unit("county", UnitKind::County, None),
            unit("town", UnitKind::Township, Some("county")),
        ])
        .unwrap();
        assert!(ok.is_within("town", "county"));
        assert!(!ok.is_within("county", "town"));
        assert_eq!(ok.root_of("town"), "county");
        assert_eq!(
            UnitTree::new([unit("a", UnitKind::Township, Some("b"))]),
            Err(UnitTreeError::UnknownParent { unit: "a".into(), parent: "b".into() })
        );
        assert!(matches!(
            UnitTree::new([unit("a", UnitKind::Township, Some("b")), unit("b", UnitKind::County, Some("a"))]),
            Err(UnitTreeError::Cycle(_))
        ));
    }
}
