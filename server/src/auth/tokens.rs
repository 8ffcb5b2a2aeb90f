//! Tokens and keys as values: access tokens (JWT), refresh tokens (opaque random strings, stored
//! only as their SHA-256), signing key ids, and the claims an access token carries. None of them
//! prints its secret in `Debug`.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use fengqiao_schema::ids::{DeviceId, UnitId, UserId};
use fengqiao_schema::vocab::Role;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The `aud` of every access token.
pub const AUDIENCE: &str = "fengqiao";
/// The only JWT algorithm keys are made for. Verification takes the algorithm from the key,
/// never from the token, so `alg: none` and algorithm confusion are refused.
pub const ALGORITHM: jsonwebtoken::Algorithm = jsonwebtoken::Algorithm::HS256;
pub const ALGORITHM_NAME: &str = "HS256";
/// Marks refresh tokens so that secret scanners and people can tell them from other strings.
const REFRESH_TOKEN_PREFIX: &str = "fqr_";

/// Bytes from the operating system's random source.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::getrandom(&mut bytes).expect("the operating system's random source is available");
    bytes
}

/// A signed access token (a JWT), sent as `Authorization: Bearer …`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AccessToken(String);

impl AccessToken {
    pub fn new(token: impl Into<String>) -> AccessToken {
        AccessToken(token.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken(…)")
    }
}

/// An opaque refresh token: 256 random bits. The server keeps only its hash.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RefreshToken(String);

/// The SHA-256 of a refresh token: what the database stores and looks up. A fast hash is enough
/// for 256 random bits; Argon2 is for guessable passwords.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RefreshTokenHash(pub [u8; 32]);

impl RefreshToken {
    pub fn generate() -> RefreshToken {
        RefreshToken(format!("{REFRESH_TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(random_bytes::<32>())))
    }

    pub fn new(token: impl Into<String>) -> RefreshToken {
        RefreshToken(token.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn hash(&self) -> RefreshTokenHash {
        RefreshTokenHash(Sha256::digest(self.0.as_bytes()).into())
    }
}

impl fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RefreshToken(…)")
    }
}

/// The id of a signing key: the JWT header's `kid`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct KeyId(pub String);

impl KeyId {
    pub fn generate() -> KeyId {
        KeyId(URL_SAFE_NO_PAD.encode(random_bytes::<12>()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What an access token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user.
    pub sub: UserId,
    pub unit: UnitId,
    pub roles: Vec<Role>,
    pub device: DeviceId,
    pub aud: String,
    pub iss: String,
    /// Unix seconds.
    pub iat: i64,
    /// Unix seconds; the token is refused from this second on.
    pub exp: i64,
}
