//! Identity in the database: users and their roles, devices, refresh tokens and signing keys. The
//! rules that need one transaction to hold (a device belongs to one user; a refresh token is used
//! once, and using it twice ends the device's session) are enforced here; `auth` does the
//! cryptography and the tokens.

use std::collections::BTreeSet;
use std::fmt;

use fengqiao_schema::ids::{DeviceId, UnitId, UserId};
use fengqiao_schema::units::User;
use fengqiao_schema::vocab::Role;

use super::{with_read_pool, with_write_tx, Store};
use crate::auth::tokens::{KeyId, RefreshTokenHash};
use crate::clock::Timestamp;
use crate::error::{Error, Result};

/// A user as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub id: UserId,
    pub name: String,
    pub unit: UnitId,
    pub roles: BTreeSet<Role>,
    /// Argon2id, PHC string.
    pub password_hash: String,
    pub revoked_at: Option<Timestamp>,
}

impl UserRecord {
    /// The user as the policy sees them.
    pub fn as_user(&self) -> User {
        User { id: self.id.clone(), unit: self.unit.clone(), roles: self.roles.clone() }
    }
}

impl fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserRecord")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("unit", &self.unit)
            .field("roles", &self.roles)
            .field("revoked_at", &self.revoked_at)
            .finish_non_exhaustive()
    }
}

/// A device as stored. It belongs to the user who first logged in on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRecord {
    pub id: DeviceId,
    pub user: UserId,
    pub name: String,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

/// A login to record: the device (registered on first login) and its first refresh token.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub user: UserId,
    pub device: DeviceId,
    pub device_name: String,
    pub refresh_token: RefreshTokenHash,
    pub refresh_expires_at: Timestamp,
}

/// A refresh token to exchange for its successor.
#[derive(Debug, Clone)]
pub struct TokenRotation {
    pub presented: RefreshTokenHash,
    pub successor: RefreshTokenHash,
    pub successor_expires_at: Timestamp,
}

/// The refresh tokens of one device, by state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RefreshTokenCounts {
    pub usable: usize,
    pub rotated: usize,
    pub revoked: usize,
}

/// What verifying an access token needs to know from the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessState {
    pub user_revoked: bool,
    /// The device's owner, if the device exists.
    pub device_owner: Option<UserId>,
    pub device_revoked: bool,
    /// The key exists and is not retired.
    pub key_usable: bool,
}

/// A signing key for access tokens.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKeyRecord {
    pub kid: KeyId,
    /// The JWT `alg` this key signs with; it is never taken from a token.
    pub algorithm: String,
    pub secret: Vec<u8>,
    pub created_at: Timestamp,
    pub retired_at: Option<Timestamp>,
}

impl fmt::Debug for SigningKeyRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKeyRecord")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .field("created_at", &self.created_at)
            .field("retired_at", &self.retired_at)
            .finish_non_exhaustive()
    }
}

fn parse_roles(codes: Vec<String>) -> Result<BTreeSet<Role>> {
    codes
        .into_iter()
        .map(|code| {
            Role::from_code(&code).ok_or_else(|| Error::internal(format!("unknown role code {code} in the database")))
        })
        .collect()
}

fn timestamp(millis: Option<i64>) -> Option<Timestamp> {
    millis.map(Timestamp::from_millis)
}

/// The insert shared by `add_signing_key` and `ensure_signing_key`, inside either backend's
/// transaction.
macro_rules! insert_signing_key {
    ($tx:ident, $key:expr) => {
        sqlx::query(
            "INSERT INTO signing_keys (kid, algorithm, secret, created_at, retired_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind($key.kid.as_str())
        .bind(&$key.algorithm)
        .bind(&$key.secret[..])
        .bind($key.created_at.millis())
        .bind($key.retired_at.map(Timestamp::millis))
        .execute(&mut *$tx)
        .await?
    };
}

/// id, family, device, user, expires, rotated, revoked, device revoked, user revoked.
type TokenRow = (i64, Vec<u8>, String, String, i64, Option<i64>, Option<i64>, Option<i64>, Option<i64>);
/// user revoked, device owner, device revoked, key id, key retired.
type AccessRow = (Option<i64>, Option<String>, Option<i64>, Option<String>, Option<i64>);
/// kid, algorithm, secret, created, retired.
type KeyRow = (String, String, Vec<u8>, i64, Option<i64>);

impl Store {
    pub async fn user(&self, id: &UserId) -> Result<Option<UserRecord>> {
        with_read_pool!(self, |pool| {
            let row: Option<(String, String, String, Option<i64>)> =
                sqlx::query_as("SELECT name, unit_id, password_hash, revoked_at FROM users WHERE id = $1")
                    .bind(id.as_str())
                    .fetch_optional(pool)
                    .await?;
            let Some((name, unit, password_hash, revoked_at)) = row else { return Ok(None) };
            let roles: Vec<String> = sqlx::query_scalar("SELECT role FROM user_roles WHERE user_id = $1")
                .bind(id.as_str())
                .fetch_all(pool)
                .await?;
            Ok(Some(UserRecord {
                id: id.clone(),
                name,
                unit: UnitId(unit),
                roles: parse_roles(roles)?,
                password_hash,
                revoked_at: timestamp(revoked_at),
            }))
        })
    }

    pub async fn device(&self, id: &DeviceId) -> Result<Option<DeviceRecord>> {
        let row: Option<(String, String, i64, i64, Option<i64>)> = with_read_pool!(self, |pool| {
            sqlx::query_as("SELECT user_id, name, created_at, last_seen_at, revoked_at FROM devices WHERE id = $1")
                .bind(id.as_str())
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map(|(user, name, created_at, last_seen_at, revoked_at)| DeviceRecord {
            id: id.clone(),
            user: UserId(user),
            name,
            created_at: Timestamp::from_millis(created_at),
            last_seen_at: Timestamp::from_millis(last_seen_at),
            revoked_at: timestamp(revoked_at),
        }))
    }

    /// Registers a device to a user without a login (for loading data, e.g. `fengqiao demo`, whose
    /// tablets' changes are bound to their devices). Refuses a device that belongs to someone else.
    pub async fn register_device(&self, device: &DeviceId, user: &UserId, name: &str, now: Timestamp) -> Result<()> {
        with_write_tx!(self, |tx| {
            sqlx::query(
                "INSERT INTO devices (id, user_id, name, created_at, last_seen_at) VALUES ($1, $2, $3, $4, $4) \
                 ON CONFLICT (id) DO NOTHING",
            )
            .bind(device.as_str())
            .bind(user.as_str())
            .bind(name)
            .bind(now.millis())
            .execute(&mut *tx)
            .await?;
            let owner: String = sqlx::query_scalar("SELECT user_id FROM devices WHERE id = $1")
                .bind(device.as_str())
                .fetch_one(&mut *tx)
                .await?;
            if owner != user.as_str() {
                return Err(Error::DeviceTaken);
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Records a login: registers the device to the user on its first login (refusing a device
    /// that belongs to someone else or was revoked) and stores the first refresh token of a new
    /// token family.
    pub async fn open_session(&self, session: &NewSession, family: [u8; 16], now: Timestamp) -> Result<()> {
        with_write_tx!(self, |tx| {
            sqlx::query(
                "INSERT INTO devices (id, user_id, name, created_at, last_seen_at) VALUES ($1, $2, $3, $4, $4) \
                 ON CONFLICT (id) DO NOTHING",
            )
            .bind(session.device.as_str())
            .bind(session.user.as_str())
            .bind(&session.device_name)
            .bind(now.millis())
            .execute(&mut *tx)
            .await?;
            let (owner, revoked_at): (String, Option<i64>) =
                sqlx::query_as("SELECT user_id, revoked_at FROM devices WHERE id = $1")
                    .bind(session.device.as_str())
                    .fetch_one(&mut *tx)
                    .await?;
            if owner != session.user.as_str() {
                return Err(Error::DeviceTaken);
            }
            if revoked_at.is_some() {
                return Err(Error::DeviceRevoked);
            }
            sqlx::query("UPDATE devices SET name = $2, last_seen_at = $3 WHERE id = $1")
                .bind(session.device.as_str())
                .bind(&session.device_name)
                .bind(now.millis())
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO refresh_tokens (token_hash, family, device_id, user_id, issued_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&session.refresh_token.0[..])
            .bind(&family[..])
            .bind(session.device.as_str())
            .bind(session.user.as_str())
            .bind(now.millis())
            .bind(session.refresh_expires_at.millis())
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Exchanges a refresh token for its successor in the same family and returns the user (as
    /// stored now: unit and roles may have changed since the login) and the device.
    ///
    /// A token that was already exchanged is a stolen or replayed one: every refresh token of its
    /// device is revoked (committed), and the answer is `RefreshReused`. Of two concurrent uses of
    /// one token, one wins and the other counts as a reuse.
    pub async fn rotate_refresh_token(
        &self,
        rotation: &TokenRotation,
        now: Timestamp,
    ) -> Result<(UserRecord, DeviceId)> {
        let (user, device) = with_write_tx!(self, |tx| {
            let row: Option<TokenRow> = sqlx::query_as(
                "SELECT t.id, t.family, t.device_id, t.user_id, t.expires_at, t.rotated_at, t.revoked_at, \
                        d.revoked_at, u.revoked_at \
                 FROM refresh_tokens t JOIN devices d ON d.id = t.device_id JOIN users u ON u.id = t.user_id \
                 WHERE t.token_hash = $1",
            )
            .bind(&rotation.presented.0[..])
            .fetch_optional(&mut *tx)
            .await?;
            let Some((id, family, device, user, expires_at, rotated_at, revoked_at, device_revoked, user_revoked)) =
                row
            else {
                return Err(Error::RefreshInvalid);
            };
            if device_revoked.is_some() {
                return Err(Error::DeviceRevoked);
            }
            if user_revoked.is_some() {
                return Err(Error::UserRevoked);
            }
            if revoked_at.is_some() {
                return Err(Error::RefreshInvalid);
            }
            // The claim: only one use of a token can set `rotated_at`.
            let claimed = if rotated_at.is_none() && expires_at > now.millis() {
                sqlx::query(
                    "UPDATE refresh_tokens SET rotated_at = $2 WHERE id = $1 AND rotated_at IS NULL AND revoked_at IS NULL",
                )
                .bind(id)
                .bind(now.millis())
                .execute(&mut *tx)
                .await?
                .rows_affected()
                    == 1
            } else {
                false
            };
            if !claimed {
                if rotated_at.is_none() && expires_at <= now.millis() {
                    return Err(Error::RefreshExpired);
                }
                sqlx::query("UPDATE refresh_tokens SET revoked_at = $2 WHERE device_id = $1 AND revoked_at IS NULL")
                    .bind(&device)
                    .bind(now.millis())
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                tracing::warn!(device = %device, user = %user, "refresh token reused; the device's tokens are revoked");
                return Err(Error::RefreshReused);
            }
            sqlx::query(
                "INSERT INTO refresh_tokens (token_hash, family, device_id, user_id, issued_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&rotation.successor.0[..])
            .bind(&family[..])
            .bind(&device)
            .bind(&user)
            .bind(now.millis())
            .bind(rotation.successor_expires_at.millis())
            .execute(&mut *tx)
            .await?;
            sqlx::query("UPDATE devices SET last_seen_at = $2 WHERE id = $1")
                .bind(&device)
                .bind(now.millis())
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            (UserId(user), DeviceId(device))
        });
        // Read after the commit: the user's unit and roles as they are now.
        let record = self.user(&user).await?.ok_or(Error::RefreshInvalid)?;
        Ok((record, device))
    }

    /// What an access token's verification checks in the database: the user, the device and the
    /// key, in one query. `None` if the user does not exist.
    pub async fn access_state(&self, user: &UserId, device: &DeviceId, kid: &KeyId) -> Result<Option<AccessState>> {
        let row: Option<AccessRow> = with_read_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT u.revoked_at, d.user_id, d.revoked_at, k.kid, k.retired_at FROM users u \
                     LEFT JOIN devices d ON d.id = $2 LEFT JOIN signing_keys k ON k.kid = $3 WHERE u.id = $1",
            )
            .bind(user.as_str())
            .bind(device.as_str())
            .bind(kid.as_str())
            .fetch_optional(pool)
            .await?
        });
        Ok(row.map(|(user_revoked, device_owner, device_revoked, key, key_retired)| AccessState {
            user_revoked: user_revoked.is_some(),
            device_owner: device_owner.map(UserId),
            device_revoked: device_revoked.is_some(),
            key_usable: key.is_some() && key_retired.is_none(),
        }))
    }

    /// Revokes a device: its access tokens fail at once (verification reads the device) and its
    /// refresh tokens are revoked.
    pub async fn revoke_device(&self, id: &DeviceId, now: Timestamp) -> Result<()> {
        with_write_tx!(self, |tx| {
            let found = sqlx::query("UPDATE devices SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1")
                .bind(id.as_str())
                .bind(now.millis())
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if found == 0 {
                return Err(Error::UnknownDevice(id.clone()));
            }
            sqlx::query("UPDATE refresh_tokens SET revoked_at = $2 WHERE device_id = $1 AND revoked_at IS NULL")
                .bind(id.as_str())
                .bind(now.millis())
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Revokes a user: every token of every device of theirs stops working at once.
    pub async fn revoke_user(&self, id: &UserId, now: Timestamp) -> Result<()> {
        with_write_tx!(self, |tx| {
            let found = sqlx::query("UPDATE users SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1")
                .bind(id.as_str())
                .bind(now.millis())
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if found == 0 {
                return Err(Error::UnknownUser(id.clone()));
            }
            sqlx::query("UPDATE refresh_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL")
                .bind(id.as_str())
                .bind(now.millis())
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// The refresh tokens of a device, counted by state.
    pub async fn refresh_token_counts(&self, device: &DeviceId, now: Timestamp) -> Result<RefreshTokenCounts> {
        let rows: Vec<(i64, Option<i64>, Option<i64>)> = with_read_pool!(self, |pool| {
            sqlx::query_as("SELECT expires_at, rotated_at, revoked_at FROM refresh_tokens WHERE device_id = $1")
                .bind(device.as_str())
                .fetch_all(pool)
                .await?
        });
        let mut counts = RefreshTokenCounts::default();
        for (expires_at, rotated_at, revoked_at) in rows {
            if revoked_at.is_some() {
                counts.revoked += 1;
            } else if rotated_at.is_some() {
                counts.rotated += 1;
            } else if expires_at > now.millis() {
                counts.usable += 1;
            }
        }
        Ok(counts)
    }

    /// Every signing key, newest first.
    pub async fn signing_keys(&self) -> Result<Vec<SigningKeyRecord>> {
        let rows: Vec<KeyRow> = with_read_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT kid, algorithm, secret, created_at, retired_at FROM signing_keys ORDER BY created_at DESC, kid DESC",
            )
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|(kid, algorithm, secret, created_at, retired_at)| SigningKeyRecord {
                kid: KeyId(kid),
                algorithm,
                secret,
                created_at: Timestamp::from_millis(created_at),
                retired_at: timestamp(retired_at),
            })
            .collect())
    }

    /// Stores a signing key; from now on it is the newest and signs.
    pub async fn add_signing_key(&self, key: &SigningKeyRecord) -> Result<()> {
        with_write_tx!(self, |tx| {
            insert_signing_key!(tx, key);
            tx.commit().await?;
            Ok(())
        })
    }

    /// Stores `key` if there is no usable key; returns whether it was stored.
    pub async fn ensure_signing_key(&self, key: &SigningKeyRecord) -> Result<bool> {
        with_write_tx!(self, |tx| {
            let usable: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM signing_keys WHERE retired_at IS NULL")
                .fetch_one(&mut *tx)
                .await?;
            if usable > 0 {
                return Ok(false);
            }
            insert_signing_key!(tx, key);
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Retires a key: tokens it signed stop verifying at once.
    pub async fn retire_signing_key(&self, kid: &KeyId, now: Timestamp) -> Result<()> {
        with_write_tx!(self, |tx| {
            let found = sqlx::query("UPDATE signing_keys SET retired_at = COALESCE(retired_at, $2) WHERE kid = $1")
                .bind(kid.as_str())
                .bind(now.millis())
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if found == 0 {
                return Err(Error::UnknownKey(kid.as_str().to_string()));
            }
            tx.commit().await?;
            Ok(())
        })
    }
}
