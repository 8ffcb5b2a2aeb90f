//! Identity (DESIGN §10): login with a password on a device, short-lived access tokens (JWT,
//! HS256, with the signing key's `kid` in the header) and rotating refresh tokens bound to the
//! device, and the verification every authenticated request goes through.
//!
//! Signing keys live in the database, not in a file: several server processes behind a load
//! balancer share one PostgreSQL (DESIGN §11) and must verify each other's tokens, and a SQLite
//! deployment keeps everything in its one file (back it up as the secret it holds). The first
//! start generates a key. A new key (`fengqiao key rotate`) signs from then on; older keys still
//! verify until retired (`fengqiao key retire`), which takes effect at once in every process
//! because verification reads the key's state along with the device's.
//!
//! Verification is strict: the algorithm comes from the key, never from the token (so `alg: none`
//! fails), the audience and issuer must match, the token must not have expired by the `now` it is
//! given, and the user and device must not be revoked. That last check reads the database on
//! every request, which is what makes revoking a device stop its sync at once.

use std::sync::RwLock;
use std::time::Duration;

use fengqiao_schema::ids::{DeviceId, UnitId, UserId};
use fengqiao_schema::units::User;
use fengqiao_schema::vocab::Role;
use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::store::identity::{NewSession, SigningKeyRecord, TokenRotation, UserRecord};
use crate::store::Store;

pub mod password;
pub mod tokens;

use password::{hash_password, verify_password, Password};
use tokens::{random_bytes, AccessToken, Claims, KeyId, RefreshToken, ALGORITHM, ALGORITHM_NAME, AUDIENCE};

/// The longest device id or device name accepted.
const MAX_DEVICE_FIELD_CHARS: usize = 128;

/// Token lifetimes and the issuer name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthSettings {
    /// The `iss` of tokens this server signs and accepts.
    pub issuer: String,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            issuer: "fengqiao".to_string(),
            access_token_ttl: Duration::from_secs(15 * 60),
            refresh_token_ttl: Duration::from_secs(30 * 24 * 60 * 60),
        }
    }
}

/// `POST /v1/auth/login`.
#[derive(Debug, Clone, Deserialize)]
pub struct LoginRequest {
    pub user_id: UserId,
    pub password: Password,
    pub device_id: DeviceId,
    pub device_name: String,
}

/// `POST /v1/auth/refresh`.
#[derive(Debug, Clone, Deserialize)]
pub struct RefreshRequest {
    pub refresh_token: RefreshToken,
}

/// The answer to a login or a refresh.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    pub access_token: AccessToken,
    /// Always `Bearer`.
    pub token_type: String,
    /// Unix seconds.
    pub expires_at: i64,
    pub refresh_token: RefreshToken,
    /// Unix seconds.
    pub refresh_expires_at: i64,
    pub user: SessionUser,
    pub device_id: DeviceId,
}

/// Who is logged in, as the client shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionUser {
    pub id: UserId,
    pub name: String,
    pub unit: UnitId,
    pub roles: Vec<Role>,
}

/// The verified identity behind a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user: User,
    pub device: DeviceId,
}

/// Logins, refreshes and token verification.
pub struct Auth {
    store: Store,
    settings: AuthSettings,
    /// Keys seen so far, for verification; reloaded when a token names an unknown `kid`.
    keys: RwLock<Vec<SigningKeyRecord>>,
    /// Checked against when the user does not exist, so that a login for an unknown user takes as
    /// long as one with a wrong password.
    decoy_hash: String,
}

/// A new random signing key.
pub fn new_signing_key(now: Timestamp) -> SigningKeyRecord {
    SigningKeyRecord {
        kid: KeyId::generate(),
        algorithm: ALGORITHM_NAME.to_string(),
        secret: random_bytes::<32>().to_vec(),
        created_at: now,
        retired_at: None,
    }
}

async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(work).await.map_err(Error::internal)
}

impl Auth {
    /// Makes sure a signing key exists (generating one on first start) and loads the keys.
    pub async fn start(store: Store, settings: AuthSettings, now: Timestamp) -> Result<Auth> {
        if store.ensure_signing_key(&new_signing_key(now)).await? {
            tracing::info!("generated the first signing key");
        }
        let keys = store.signing_keys().await?;
        let decoy_hash = blocking(|| hash_password(&Password::new(tokens::KeyId::generate().0))).await??;
        Ok(Auth { store, settings, keys: RwLock::new(keys), decoy_hash })
    }

    pub fn settings(&self) -> &AuthSettings {
        &self.settings
    }

    /// Checks the password, registers the device to the user on first login, and opens a session.
    pub async fn login(&self, request: LoginRequest, now: Timestamp) -> Result<Session> {
        check_device_field(request.device_id.as_str())?;
        check_device_field(&request.device_name)?;
        let user = self.store.user(&request.user_id).await?;
        let hash = user.as_ref().map_or_else(|| self.decoy_hash.clone(), |u| u.password_hash.clone());
        let password = request.password;
        let matches = blocking(move || verify_password(&password, &hash)).await?;
        let user = match user {
            Some(user) if matches => user,
            _ => return Err(Error::InvalidCredentials),
        };
        if user.revoked_at.is_some() {
            return Err(Error::UserRevoked);
        }
        let refresh_token = RefreshToken::generate();
        let refresh_expires_at = now.plus(self.settings.refresh_token_ttl);
        let session = NewSession {
            user: user.id.clone(),
            device: request.device_id.clone(),
            device_name: request.device_name.clone(),
            refresh_token: refresh_token.hash(),
            refresh_expires_at,
        };
        self.store.open_session(&session, random_bytes::<16>(), now).await?;
        tracing::info!(user = %user.id, device = %request.device_id, "login");
        self.session(&user, request.device_id, refresh_token, refresh_expires_at, now).await
    }

    /// Exchanges a refresh token for a new session; the presented token is used up.
    pub async fn refresh(&self, presented: &RefreshToken, now: Timestamp) -> Result<Session> {
        let successor = RefreshToken::generate();
        let rotation = TokenRotation {
            presented: presented.hash(),
            successor: successor.hash(),
            successor_expires_at: now.plus(self.settings.refresh_token_ttl),
        };
        let (user, device) = self.store.rotate_refresh_token(&rotation, now).await?;
        self.session(&user, device, successor, rotation.successor_expires_at, now).await
    }

    async fn session(
        &self,
        user: &UserRecord,
        device: DeviceId,
        refresh_token: RefreshToken,
        refresh_expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<Session> {
        let (access_token, expires_at) = self.issue_access_token(&user.as_user(), &device, now).await?;
        Ok(Session {
            access_token,
            token_type: "Bearer".to_string(),
            expires_at: expires_at.secs(),
            refresh_token,
            refresh_expires_at: refresh_expires_at.secs(),
            user: SessionUser {
                id: user.id.clone(),
                name: user.name.clone(),
                unit: user.unit.clone(),
                roles: user.roles.iter().copied().collect(),
            },
            device_id: device,
        })
    }

    /// An access token for the user on the device, issued at `now`, and when it expires.
    pub async fn issue_access_token(
        &self,
        user: &User,
        device: &DeviceId,
        now: Timestamp,
    ) -> Result<(AccessToken, Timestamp)> {
        let expires_at = now.plus(self.settings.access_token_ttl);
        let claims = Claims {
            sub: user.id.clone(),
            unit: user.unit.clone(),
            roles: user.roles.iter().copied().collect(),
            device: device.clone(),
            aud: AUDIENCE.to_string(),
            iss: self.settings.issuer.clone(),
            iat: now.secs(),
            exp: expires_at.secs(),
        };
        Ok((self.sign(&claims).await?, expires_at))
    }

    /// Signs claims with the newest usable key. The keys are read from the database each time, so
    /// a key rotated or retired by another process is followed at once.
    pub async fn sign(&self, claims: &Claims) -> Result<AccessToken> {
        let keys = self.reload_keys().await?;
        let key = keys
            .iter()
            .find(|k| k.retired_at.is_none() && k.algorithm == ALGORITHM_NAME)
            .ok_or_else(|| Error::internal("no usable signing key: run `fengqiao key rotate`"))?;
        let mut header = Header::new(ALGORITHM);
        header.kid = Some(key.kid.0.clone());
        jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(&key.secret))
            .map(AccessToken::new)
            .map_err(Error::internal)
    }

    /// Who presents this access token at `now`, or why it is refused.
    pub async fn verify(&self, token: &str, now: Timestamp) -> Result<Principal> {
        self.verify_expiring(token, now).await.map(|(principal, _)| principal)
    }

    /// [`Auth::verify`], with when the token expires (unix seconds): a live connection that keeps
    /// the answer checks only the expiry at its next sessions, and the whole token again once per
    /// revocation check interval (it is closed as soon as a revocation is known anyway).
    pub async fn verify_expiring(&self, token: &str, now: Timestamp) -> Result<(Principal, i64)> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| Error::TokenInvalid)?;
        if header.alg != ALGORITHM {
            return Err(Error::TokenInvalid);
        }
        let kid = KeyId(header.kid.ok_or(Error::TokenInvalid)?);
        let key = self.verification_key(&kid).await?.ok_or(Error::TokenInvalid)?;
        if key.algorithm != ALGORITHM_NAME {
            return Err(Error::TokenInvalid);
        }
        let mut validation = Validation::new(ALGORITHM);
        validation.set_audience(&[AUDIENCE]);
        validation.set_issuer(&[&self.settings.issuer]);
        validation.set_required_spec_claims(&["exp", "iat", "aud", "iss", "sub"]);
        // Expiry is checked below against the `now` given, not the library's own clock.
        validation.validate_exp = false;
        validation.leeway = 0;
        let claims = jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(&key.secret), &validation)
            .map_err(|_| Error::TokenInvalid)?
            .claims;
        if claims.exp <= now.secs() {
            return Err(Error::TokenExpired);
        }
        let state = self.store.access_state(&claims.sub, &claims.device, &kid).await?.ok_or(Error::TokenInvalid)?;
        if state.user_revoked {
            return Err(Error::UserRevoked);
        }
        if state.device_owner.as_ref() != Some(&claims.sub) {
            return Err(Error::TokenInvalid);
        }
        if state.device_revoked {
            return Err(Error::DeviceRevoked);
        }
        if !state.key_usable {
            return Err(Error::TokenInvalid);
        }
        let principal = Principal {
            user: User { id: claims.sub, unit: claims.unit, roles: claims.roles.into_iter().collect() },
            device: claims.device,
        };
        Ok((principal, claims.exp))
    }

    async fn verification_key(&self, kid: &KeyId) -> Result<Option<SigningKeyRecord>> {
        let cached = self.keys.read().unwrap_or_else(|p| p.into_inner()).iter().find(|k| &k.kid == kid).cloned();
        if cached.is_some() {
            return Ok(cached);
        }
        Ok(self.reload_keys().await?.into_iter().find(|k| &k.kid == kid))
    }

    async fn reload_keys(&self) -> Result<Vec<SigningKeyRecord>> {
        let keys = self.store.signing_keys().await?;
        *self.keys.write().unwrap_or_else(|p| p.into_inner()) = keys.clone();
        Ok(keys)
    }
}

fn check_device_field(value: &str) -> Result<()> {
    let chars = value.chars().count();
    if chars == 0 || chars > MAX_DEVICE_FIELD_CHARS {
        return Err(Error::BadRequest(format!("设备标识和名称须为 1 到 {MAX_DEVICE_FIELD_CHARS} 个字符")));
    }
    Ok(())
}

/// Hashes a password off the async threads.
pub async fn hash_password_blocking(password: Password) -> Result<String> {
    blocking(move || hash_password(&password)).await?
}
