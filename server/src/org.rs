//! The organisation file: a whole county (units with their parents and kinds, users with their
//! units, roles and initial passwords) in TOML, brought into the database by `fengqiao org import`.
//! Importing is idempotent: units are created or updated, users are created with their initial
//! password or updated (name, unit, roles; an existing user's password is never reset). A file
//! whose units, together with those already stored, do not form a tree is refused whole.
//! `server/examples/county.toml` is an example.

use std::collections::BTreeSet;

use fengqiao_schema::ids::{UnitId, UserId};
use fengqiao_schema::units::Unit;
use fengqiao_schema::vocab::{Role, UnitKind};
use serde::Deserialize;

use crate::auth::hash_password_blocking;
use crate::auth::password::{Password, MIN_PASSWORD_CHARS};
use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::numbering::CaseNumberFormat;
use crate::store::units::{ImportSummary, ImportedUser, OrgImport};
use crate::store::Store;

/// An organisation file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgFile {
    #[serde(default)]
    pub units: Vec<OrgUnit>,
    #[serde(default)]
    pub users: Vec<OrgUser>,
}

/// A unit in an organisation file: the schema's `Unit`, with misspelt keys refused rather than
/// ignored.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgUnit {
    pub id: UnitId,
    pub name: String,
    pub kind: UnitKind,
    #[serde(default)]
    pub parent: Option<UnitId>,
    /// The unit's own case-number format (`crate::numbering`); the default when left out.
    #[serde(default)]
    pub case_number_format: Option<String>,
}

impl From<&OrgUnit> for Unit {
    fn from(unit: &OrgUnit) -> Unit {
        Unit { id: unit.id.clone(), name: unit.name.clone(), kind: unit.kind, parent: unit.parent.clone() }
    }
}

/// A user in an organisation file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgUser {
    pub id: UserId,
    pub name: String,
    pub unit: UnitId,
    pub roles: Vec<Role>,
    /// Set only when the user is created.
    pub password: Password,
}

impl OrgFile {
    pub fn parse(text: &str) -> Result<OrgFile> {
        let file: OrgFile = toml::from_str(text).map_err(|e| {
            let line =
                e.span().and_then(|span| text.get(..span.start)).map_or(1, |before| before.matches('\n').count() + 1);
            Error::OrgFile(format!("第 {line} 行：{}", e.message()))
        })?;
        file.check()?;
        Ok(file)
    }

    /// What can be checked without the database: users appear once, have a role and a password
    /// long enough. (The unit tree is checked with the stored units, at import.)
    fn check(&self) -> Result<()> {
        self.case_number_formats()?;
        let mut seen = BTreeSet::new();
        for user in &self.users {
            if !seen.insert(&user.id) {
                return Err(Error::OrgFile(format!("用户「{}」重复", user.id)));
            }
            if user.roles.is_empty() {
                return Err(Error::OrgFile(format!("用户「{}」没有任何角色", user.id)));
            }
            if user.password.expose().chars().count() < MIN_PASSWORD_CHARS {
                return Err(Error::OrgFile(format!("用户「{}」的初始密码少于 {MIN_PASSWORD_CHARS} 个字符", user.id)));
            }
        }
        Ok(())
    }

    /// Every unit's case-number format as checked (`None` for the default).
    fn case_number_formats(&self) -> Result<Vec<(UnitId, Option<CaseNumberFormat>)>> {
        self.units
            .iter()
            .map(|unit| {
                let format = unit
                    .case_number_format
                    .as_deref()
                    .map(CaseNumberFormat::parse)
                    .transpose()
                    .map_err(|e| Error::OrgFile(format!("单位「{}」的案号格式有误：{e}", unit.id)))?;
                Ok((unit.id.clone(), format))
            })
            .collect()
    }

    /// Brings the organisation into the database. Only the passwords of users that do not exist
    /// yet are hashed.
    pub async fn import(&self, store: &Store, now: Timestamp) -> Result<ImportSummary> {
        let existing = store.user_ids().await?;
        let mut users = Vec::with_capacity(self.users.len());
        for user in &self.users {
            let initial_password_hash = if existing.contains(&user.id) {
                None
            } else {
                Some(hash_password_blocking(user.password.clone()).await?)
            };
            users.push(ImportedUser {
                id: user.id.clone(),
                name: user.name.clone(),
                unit: user.unit.clone(),
                roles: user.roles.iter().copied().collect::<BTreeSet<Role>>(),
                initial_password_hash,
            });
        }
        let units: Vec<Unit> = self.units.iter().map(Unit::from).collect();
        let stored = store.units().await?;
        let mut summary = store.import_org(&OrgImport { units: units.clone(), users }, now).await?;
        // The units exist now. A unit whose only change is its format counts as updated.
        let changed = store.set_case_number_formats(&self.case_number_formats()?).await?;
        let only_format =
            units.iter().filter(|u| changed.contains(&u.id) && stored.iter().any(|s| s == *u)).count();
        summary.units_unchanged = summary.units_unchanged.saturating_sub(only_format);
        summary.units_updated += only_format;
        Ok(summary)
    }
}
