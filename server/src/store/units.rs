//! Units and users as the administrator manages them: adding one at a time, and importing a whole
//! county's organisation at once (idempotently). Units in the database always form a tree
//! (checked with `UnitTree::new` before anything is written).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use fengqiao_schema::ids::{UnitId, UserId};
use fengqiao_schema::units::{Unit, UnitTree};
use fengqiao_schema::vocab::{Role, UnitKind};

use super::{with_read_pool, with_write_tx, Store};
use crate::numbering::CaseNumberFormat;
use crate::clock::Timestamp;
use crate::error::{Error, Result};

/// A user to add. The password is already hashed.
#[derive(Clone)]
pub struct NewUser {
    pub id: UserId,
    pub name: String,
    pub unit: UnitId,
    pub roles: BTreeSet<Role>,
    pub password_hash: String,
}

/// A whole organisation to bring into the database: units are created or updated; users are
/// created (with their initial password) or updated (name, unit, roles; never the password).
#[derive(Clone, Default)]
pub struct OrgImport {
    pub units: Vec<Unit>,
    pub users: Vec<ImportedUser>,
}

#[derive(Clone)]
pub struct ImportedUser {
    pub id: UserId,
    pub name: String,
    pub unit: UnitId,
    pub roles: BTreeSet<Role>,
    /// The initial password's hash, for a user that does not exist yet. `None` for a user known to
    /// exist (so an import does not hash passwords it will not use).
    pub initial_password_hash: Option<String>,
}

/// What an import changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImportSummary {
    pub units_created: usize,
    pub units_updated: usize,
    pub units_unchanged: usize,
    pub users_created: usize,
    pub users_updated: usize,
    pub users_unchanged: usize,
}

fn unit_from_row((id, name, kind, parent): (String, String, String, Option<String>)) -> Result<Unit> {
    let kind = UnitKind::from_code(&kind)
        .ok_or_else(|| Error::internal(format!("unknown unit kind {kind} in the database")))?;
    Ok(Unit { id: UnitId(id), name, kind, parent: parent.map(UnitId) })
}

/// Units ordered so that every parent comes before its children (for the foreign key).
fn parents_first<'a>(tree: &UnitTree, units: &'a [Unit]) -> Vec<&'a Unit> {
    let depth = |unit: &Unit| {
        let mut depth = 0;
        let mut cur = unit.parent.as_ref();
        while let Some(parent) = cur {
            depth += 1;
            cur = tree.get(parent.as_str()).and_then(|u| u.parent.as_ref());
        }
        depth
    };
    let mut ordered: Vec<&Unit> = units.iter().collect();
    ordered.sort_by_key(|u| depth(u));
    ordered
}

impl Store {
    pub async fn units(&self) -> Result<Vec<Unit>> {
        let rows: Vec<(String, String, String, Option<String>)> = with_read_pool!(self, |pool| {
            sqlx::query_as("SELECT id, name, kind, parent_id FROM units ORDER BY id").fetch_all(pool).await?
        });
        rows.into_iter().map(unit_from_row).collect()
    }

    /// The unit tree as stored now. Read again only when `org_version` (bumped by a trigger on
    /// every change of `units`, whichever process makes it) moved since the tree was last read:
    /// every sync session starts by asking for the tree.
    pub async fn unit_tree(&self) -> Result<Arc<UnitTree>> {
        // The version first: a tree read after it is at least that new, so a cached tree is never
        // older than the version it is filed under.
        let version: i64 = with_read_pool!(self, |pool| {
            sqlx::query_scalar("SELECT version FROM org_version WHERE id = 1").fetch_one(pool).await?
        });
        let cached = self.unit_tree.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some((at, tree)) = cached {
            if at == version {
                return Ok(tree);
            }
        }
        let tree = Arc::new(UnitTree::new(self.units().await?).map_err(Error::internal)?);
        *self.unit_tree.lock().unwrap_or_else(|p| p.into_inner()) = Some((version, tree.clone()));
        Ok(tree)
    }

    /// The unit tree last read by [`Store::unit_tree`], without asking the database whether it
    /// is still current (`None` before the first read).
    pub fn cached_unit_tree(&self) -> Option<Arc<UnitTree>> {
        self.unit_tree.lock().unwrap_or_else(|p| p.into_inner()).as_ref().map(|(_, tree)| tree.clone())
    }

    /// Every user id there is.
    pub async fn user_ids(&self) -> Result<BTreeSet<UserId>> {
        let rows: Vec<String> =
            with_read_pool!(self, |pool| sqlx::query_scalar("SELECT id FROM users").fetch_all(pool).await?);
        Ok(rows.into_iter().map(UserId).collect())
    }

    /// Adds a unit under an existing parent (or as a root).
    pub async fn add_unit(&self, unit: &Unit) -> Result<()> {
        with_write_tx!(self, |tx| {
            let exists: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM units WHERE id = $1")
                .bind(unit.id.as_str())
                .fetch_one(&mut *tx)
                .await?;
            if exists > 0 {
                return Err(Error::UnitExists(unit.id.clone()));
            }
            if let Some(parent) = &unit.parent {
                let found: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM units WHERE id = $1")
                    .bind(parent.as_str())
                    .fetch_one(&mut *tx)
                    .await?;
                if found == 0 {
                    return Err(Error::UnknownUnit(parent.clone()));
                }
            }
            sqlx::query("INSERT INTO units (id, name, kind, parent_id) VALUES ($1, $2, $3, $4)")
                .bind(unit.id.as_str())
                .bind(&unit.name)
                .bind(unit.kind.code())
                .bind(unit.parent.as_ref().map(UnitId::as_str))
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// The unit's own case-number format; `None` when it numbers with the default. A stored
    /// format that no longer parses (it was checked when it was set) is logged and ignored.
    pub async fn case_number_format(&self, unit: &UnitId) -> Result<Option<CaseNumberFormat>> {
        let text: Option<Option<String>> = with_read_pool!(self, |pool| {
            sqlx::query_scalar("SELECT case_number_format FROM units WHERE id = $1")
                .bind(unit.as_str())
                .fetch_optional(pool)
                .await?
        });
        Ok(text.flatten().and_then(|text| match CaseNumberFormat::parse(&text) {
            Ok(format) => Some(format),
            Err(error) => {
                tracing::warn!(unit = %unit, %error, "a stored case-number format does not parse; numbering with the default");
                None
            }
        }))
    }

    /// Sets (or with `None` clears) units' case-number formats, in one transaction. Returns the
    /// units whose format changed. Every unit must exist.
    pub async fn set_case_number_formats(
        &self,
        formats: &[(UnitId, Option<CaseNumberFormat>)],
    ) -> Result<BTreeSet<UnitId>> {
        let mut changed = BTreeSet::new();
        with_write_tx!(self, |tx| {
            for (unit, format) in formats {
                let now: Option<Option<String>> =
                    sqlx::query_scalar("SELECT case_number_format FROM units WHERE id = $1")
                        .bind(unit.as_str())
                        .fetch_optional(&mut *tx)
                        .await?;
                let Some(now) = now else { return Err(Error::UnknownUnit(unit.clone())) };
                let wanted = format.as_ref().map(|f| f.as_str().to_string());
                if now == wanted {
                    continue;
                }
                sqlx::query("UPDATE units SET case_number_format = $2 WHERE id = $1")
                    .bind(unit.as_str())
                    .bind(wanted)
                    .execute(&mut *tx)
                    .await?;
                changed.insert(unit.clone());
            }
            tx.commit().await?;
        });
        Ok(changed)
    }

    /// Adds a user to an existing unit.
    pub async fn add_user(&self, user: &NewUser, now: Timestamp) -> Result<()> {
        with_write_tx!(self, |tx| {
            let exists: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE id = $1")
                .bind(user.id.as_str())
                .fetch_one(&mut *tx)
                .await?;
            if exists > 0 {
                return Err(Error::UserExists(user.id.clone()));
            }
            let unit: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM units WHERE id = $1")
                .bind(user.unit.as_str())
                .fetch_one(&mut *tx)
                .await?;
            if unit == 0 {
                return Err(Error::UnknownUnit(user.unit.clone()));
            }
            sqlx::query("INSERT INTO users (id, name, unit_id, password_hash, created_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(user.id.as_str())
                .bind(&user.name)
                .bind(user.unit.as_str())
                .bind(&user.password_hash)
                .bind(now.millis())
                .execute(&mut *tx)
                .await?;
            for role in &user.roles {
                sqlx::query("INSERT INTO user_roles (user_id, role) VALUES ($1, $2)")
                    .bind(user.id.as_str())
                    .bind(role.code())
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Brings a whole organisation into the database in one transaction. Refuses (writing
    /// nothing) if the units, together with those already stored, would not form a tree, or if a
    /// user's unit would not exist. Importing the same organisation twice changes nothing the
    /// second time.
    pub async fn import_org(&self, org: &OrgImport, now: Timestamp) -> Result<ImportSummary> {
        let mut summary = ImportSummary::default();
        with_write_tx!(self, |tx| {
            let rows: Vec<(String, String, String, Option<String>)> =
                sqlx::query_as("SELECT id, name, kind, parent_id FROM units").fetch_all(&mut *tx).await?;
            let stored: BTreeMap<UnitId, Unit> =
                rows.into_iter().map(unit_from_row).map(|u| u.map(|u| (u.id.clone(), u))).collect::<Result<_>>()?;
            let incoming: BTreeSet<&UnitId> = org.units.iter().map(|u| &u.id).collect();
            let tree = UnitTree::new(
                stored.values().filter(|u| !incoming.contains(&u.id)).cloned().chain(org.units.iter().cloned()),
            )?;
            for user in &org.users {
                if tree.get(user.unit.as_str()).is_none() {
                    return Err(Error::OrgFile(format!("用户「{}」所属单位「{}」不存在", user.id, user.unit)));
                }
            }
            for unit in parents_first(&tree, &org.units) {
                match stored.get(&unit.id) {
                    Some(old) if old == unit => {
                        summary.units_unchanged += 1;
                        continue;
                    }
                    Some(_) => summary.units_updated += 1,
                    None => summary.units_created += 1,
                }
                sqlx::query(
                    "INSERT INTO units (id, name, kind, parent_id) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO UPDATE \
                     SET name = excluded.name, kind = excluded.kind, parent_id = excluded.parent_id",
                )
                .bind(unit.id.as_str())
                .bind(&unit.name)
                .bind(unit.kind.code())
                .bind(unit.parent.as_ref().map(UnitId::as_str))
                .execute(&mut *tx)
                .await?;
            }
            for user in &org.users {
                let row: Option<(String, String)> = sqlx::query_as("SELECT name, unit_id FROM users WHERE id = $1")
                    .bind(user.id.as_str())
                    .fetch_optional(&mut *tx)
                    .await?;
                let roles_now: Vec<String> = sqlx::query_scalar("SELECT role FROM user_roles WHERE user_id = $1")
                    .bind(user.id.as_str())
                    .fetch_all(&mut *tx)
                    .await?;
                let roles_now: BTreeSet<&str> = roles_now.iter().map(String::as_str).collect();
                let roles_wanted: BTreeSet<&str> = user.roles.iter().map(|r| r.code()).collect();
                match row {
                    None => {
                        let Some(hash) = &user.initial_password_hash else {
                            return Err(Error::internal(format!(
                                "no initial password hashed for new user {}",
                                user.id
                            )));
                        };
                        sqlx::query(
                            "INSERT INTO users (id, name, unit_id, password_hash, created_at) VALUES ($1, $2, $3, $4, $5)",
                        )
                        .bind(user.id.as_str())
                        .bind(&user.name)
                        .bind(user.unit.as_str())
                        .bind(hash)
                        .bind(now.millis())
                        .execute(&mut *tx)
                        .await?;
                        summary.users_created += 1;
                    }
                    Some((name, unit))
                        if name == user.name && unit == user.unit.as_str() && roles_now == roles_wanted =>
                    {
                        summary.users_unchanged += 1;
                        continue;
                    }
                    Some(_) => {
                        sqlx::query("UPDATE users SET name = $2, unit_id = $3 WHERE id = $1")
                            .bind(user.id.as_str())
                            .bind(&user.name)
                            .bind(user.unit.as_str())
                            .execute(&mut *tx)
                            .await?;
                        sqlx::query("DELETE FROM user_roles WHERE user_id = $1")
                            .bind(user.id.as_str())
                            .execute(&mut *tx)
                            .await?;
                        summary.users_updated += 1;
                    }
                }
                for role in &roles_wanted {
                    sqlx::query("INSERT INTO user_roles (user_id, role) VALUES ($1, $2)")
                        .bind(user.id.as_str())
                        .bind(*role)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            tx.commit().await?;
        });
        Ok(summary)
    }
}
