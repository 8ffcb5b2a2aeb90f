//! Passwords: Argon2id hashes in the PHC string format, with the argon2 crate's defaults (19 MiB,
//! two passes, one lane: the OWASP minimum for Argon2id). Hashing is deliberately slow: callers on
//! async threads run it with `spawn_blocking`.

use std::fmt;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use serde::Deserialize;

use super::tokens::random_bytes;
use crate::error::{Error, Result};

/// The fewest characters of a password an administrator may set.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// A password in clear, as typed. Never printed.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct Password(String);

impl Password {
    pub fn new(password: impl Into<String>) -> Password {
        Password(password.into())
    }

    /// A password an administrator sets for someone: long enough to be worth hashing.
    pub fn new_checked(password: impl Into<String>) -> Result<Password> {
        let password = password.into();
        if password.chars().count() < MIN_PASSWORD_CHARS {
            return Err(Error::BadRequest(format!("密码至少需要 {MIN_PASSWORD_CHARS} 个字符")));
        }
        Ok(Password(password))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(…)")
    }
}

/// The Argon2id hash of a password, with a fresh random salt.
pub fn hash_password(password: &Password) -> Result<String> {
    let salt = SaltString::encode_b64(&random_bytes::<16>()).map_err(Error::internal)?;
    Argon2::default()
        .hash_password(password.expose().as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(Error::internal)
}

/// Whether the password matches the hash. A hash that cannot be parsed matches nothing.
pub fn verify_password(password: &Password, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| Argon2::default().verify_password(password.expose().as_bytes(), &parsed).is_ok())
        .unwrap_or(false)
}
