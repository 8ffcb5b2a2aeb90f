//! Dates and instants as the case document stores them: ISO 8601 scalar strings.
//! `LegalDate` is a calendar date recorded as a legal fact (`2026-03-01`); `Instant` is a moment in
//! UTC written RFC 3339 (`2026-03-01T08:30:00Z`), used for server-attested and device times.

use autosurgeon::{Hydrate, HydrateError, Reconcile, Reconciler};
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

/// A calendar date that the law counts from or to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LegalDate(pub NaiveDate);

impl LegalDate {
    /// The date from a year, month and day; panics on an impossible date (for tests and literals).
    pub fn ymd(year: i32, month: u32, day: u32) -> LegalDate {
        LegalDate(NaiveDate::from_ymd_opt(year, month, day).expect("a valid calendar date"))
    }

    pub fn date(self) -> NaiveDate {
        self.0
    }
}

impl std::fmt::Display for LegalDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%d"))
    }
}

impl std::str::FromStr for LegalDate {
    type Err = chrono::ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").map(LegalDate)
    }
}

impl From<NaiveDate> for LegalDate {
    fn from(d: NaiveDate) -> Self {
        LegalDate(d)
    }
}

impl Reconcile for LegalDate {
    type Key<'a> = autosurgeon::reconcile::NoKey;
    fn reconcile<R: Reconciler>(&self, mut r: R) -> Result<(), R::Error> {
        r.str(self.to_string())
    }
}

impl Hydrate for LegalDate {
    fn hydrate_string(s: &str) -> Result<Self, HydrateError> {
        s.parse().map_err(|_| HydrateError::unexpected("a date written YYYY-MM-DD", s.to_string()))
    }
}

/// A moment in time, in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Instant(pub DateTime<Utc>);

impl Instant {
    /// The instant from seconds since the Unix epoch.
    pub fn from_unix(seconds: i64) -> Instant {
        Instant(DateTime::from_timestamp(seconds, 0).expect("a representable instant"))
    }

    pub fn unix_seconds(self) -> i64 {
        self.0.timestamp()
    }

    /// The calendar date of this instant in China Standard Time (UTC+8), which is the date the
    /// law counts in.
    pub fn china_date(self) -> LegalDate {
        let offset = chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset");
        LegalDate(self.0.with_timezone(&offset).date_naive())
    }
}

impl std::fmt::Display for Instant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.to_rfc3339_opts(SecondsFormat::AutoSi, true))
    }
}

impl std::str::FromStr for Instant {
    type Err = chrono::ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DateTime::parse_from_rfc3339(s).map(|d| Instant(d.with_timezone(&Utc)))
    }
}

impl Reconcile for Instant {
    type Key<'a> = autosurgeon::reconcile::NoKey;
    fn reconcile<R: Reconciler>(&self, mut r: R) -> Result<(), R::Error> {
        r.str(self.to_string())
    }
}

impl Hydrate for Instant {
    fn hydrate_string(s: &str) -> Result<Self, HydrateError> {
        s.parse().map_err(|_| HydrateError::unexpected("an RFC 3339 instant", s.to_string()))
    }
}
