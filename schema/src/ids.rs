//! Identifiers. A case id is 16 random bytes written the way automerge-repo writes document ids
//! (base58check), so a case can also be addressed as an `automerge:` URL. The randomness comes
//! from the caller: this crate has none of its own.

use serde::{Deserialize, Serialize};

/// The id of a case document.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CaseId([u8; 16]);

/// A string that is not a case id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("「{0}」不是有效的案件编号标识")]
pub struct InvalidCaseId(pub String);

impl CaseId {
    pub const fn from_bytes(bytes: [u8; 16]) -> CaseId {
        CaseId(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// The id from a byte slice of exactly 16 bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<CaseId> {
        <[u8; 16]>::try_from(bytes).ok().map(CaseId)
    }

    /// The id as automerge-repo writes it: base58check of the 16 bytes.
    pub fn to_bs58check(&self) -> String {
        bs58::encode(self.0).with_check().into_string()
    }

    /// The `automerge:` URL of the case document.
    pub fn to_url(&self) -> String {
        format!("automerge:{}", self.to_bs58check())
    }

    /// Parses the base58check form, with or without the `automerge:` prefix.
    pub fn parse(s: &str) -> Result<CaseId, InvalidCaseId> {
        let bare = s.strip_prefix("automerge:").unwrap_or(s);
        let bytes = bs58::decode(bare)
            .with_check(None)
            .into_vec()
            .map_err(|_| InvalidCaseId(s.to_string()))?;
        CaseId::from_slice(&bytes).ok_or_else(|| InvalidCaseId(s.to_string()))
    }
}

impl std::fmt::Display for CaseId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_bs58check())
    }
}

impl std::fmt::Debug for CaseId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CaseId({})", self.to_bs58check())
    }
}

impl std::str::FromStr for CaseId {
    type Err = InvalidCaseId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CaseId::parse(s)
    }
}

impl Serialize for CaseId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_bs58check())
    }
}

impl<'de> Deserialize<'de> for CaseId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        CaseId::parse(&s).map_err(serde::de::Error::custom)
    }
}

macro_rules! string_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            pub fn new(s: impl Into<String>) -> Self {
                $name(s.into())
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        // Maps keyed by the id are looked up with a `&str` without building an id (the derived
        // `Ord`, `Eq` and `Hash` of the one `String` field agree with `str`'s).
        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                $name(s.to_string())
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }
    };
}

string_id! {
    /// The id of a unit (county, township, county body), e.g. `qingshan.xiahe`.
    UnitId
}
string_id! {
    /// The id of a user.
    UserId
}
string_id! {
    /// The id of a device (tablet or browser install).
    DeviceId
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_id_round_trips_through_bs58check_and_url() {
        let id = CaseId::from_bytes([7; 16]);
        let s = id.to_bs58check();
        assert_eq!(CaseId::parse(&s).unwrap(), id);
        assert_eq!(CaseId::parse(&id.to_url()).unwrap(), id);
        // A changed character breaks the checksum.
        let mut broken = s.clone().into_bytes();
        broken[3] = if broken[3] == b'2' { b'3' } else { b'2' };
        assert!(CaseId::parse(std::str::from_utf8(&broken).unwrap()).is_err());
        assert!(CaseId::parse("").is_err());
    }
}
