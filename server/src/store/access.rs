//! Who reads which case, kept beside the documents (DESIGN §4, §8): the `case_access` rows say who
//! reads each case now, and `case_access_log` who read it from each commit on. A sync session
//! lists the cases a user reads, and those they no longer read, from these tables without loading
//! a single document.
//!
//! The readers are derived from the document by [`CaseReaders::of_case`], mirroring
//! `fengqiao_schema::policy::can_read` (a test checks the two agree over the fixture county), and
//! written in the same transaction as every commit that changes them, so the tables never disagree
//! with the documents. Unit names are not stored: a reader is a unit and a scope, and the unit tree
//! is applied when the user asks, so the tables stay right when a user moves to another unit.
//!
//! This module also keeps the other small tables sync needs: the yearly case-number counters and
//! the revocation look-up that ends live connections.

use std::collections::BTreeSet;

use automerge::Automerge;
use fengqiao_schema::document::Case;
use fengqiao_schema::ids::{CaseId, DeviceId, UnitId, UserId};
use fengqiao_schema::policy;
use fengqiao_schema::units::{UnitTree, User};
use fengqiao_schema::vocab::{HandoffStatus, Role};
use sqlx::Row;

use super::documents::{case_id_from_row, FeedCursor, FeedSeq};
use super::{with_read_pool, with_write_tx, Store};
use crate::error::{Error, Result};

/// How a unit named in a case's readers grants reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ReaderScope {
    /// Users of the unit or of any unit above it: custody, former custody, handoff receivers.
    Subtree,
    /// Users of exactly this unit: the custodian of a restricted (检举控告) case.
    Unit,
    /// Supervisors of the county (root unit) above this unit: the other readers of a restricted
    /// case.
    CountySupervisors,
}

impl ReaderScope {
    pub fn code(self) -> &'static str {
        match self {
            ReaderScope::Subtree => "subtree",
            ReaderScope::Unit => "unit",
            ReaderScope::CountySupervisors => "county_supervisors",
        }
    }

    pub fn from_code(code: &str) -> Option<ReaderScope> {
        match code {
            "subtree" => Some(ReaderScope::Subtree),
            "unit" => Some(ReaderScope::Unit),
            "county_supervisors" => Some(ReaderScope::CountySupervisors),
            _ => None,
        }
    }
}

/// Who reads a case: a set of (scope, unit). Empty for a document that is not a case: nobody
/// reads it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct CaseReaders {
    entries: BTreeSet<(ReaderScope, String)>,
}

/// The handoff states in which the receiving unit reads the case (see `policy::can_read`).
fn reached_receiver(status: Option<HandoffStatus>) -> bool {
    matches!(
        status,
        Some(HandoffStatus::Pending | HandoffStatus::Accepted | HandoffStatus::Rejected | HandoffStatus::Withdrawn)
    )
}

impl CaseReaders {
    /// The readers of a case as `policy::can_read` sees it.
    pub fn of_case(case: &Case) -> CaseReaders {
        let mut entries = BTreeSet::new();
        let (custodian, _) = policy::custodian(case);
        let mut add = |scope, unit: &str| {
            if !unit.is_empty() {
                entries.insert((scope, unit.to_string()));
            }
        };
        if policy::is_restricted(case) {
            add(ReaderScope::Unit, custodian);
            add(ReaderScope::CountySupervisors, custodian);
        } else {
            add(ReaderScope::Subtree, custodian);
            for unit in case.former_custodians() {
                add(ReaderScope::Subtree, unit);
            }
            for handoff in case.handoffs.iter().filter(|h| reached_receiver(h.status)) {
                add(ReaderScope::Subtree, &handoff.to_unit);
            }
        }
        CaseReaders { entries }
    }

    /// The readers of a stored document; nobody for a document that does not read as a case.
    pub fn of_document(doc: &Automerge) -> CaseReaders {
        match fengqiao_sync::ingest::policy_view(doc) {
            Ok(case) => CaseReaders::of_case(&case),
            Err(_) => CaseReaders::default(),
        }
    }

    pub fn entries(&self) -> impl Iterator<Item = (ReaderScope, &str)> {
        self.entries.iter().map(|(scope, unit)| (*scope, unit.as_str()))
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether `user` reads a case with these readers: `policy::can_read` without the document.
    pub fn can_read(&self, user: &User, units: &UnitTree) -> bool {
        if !user.works_cases() {
            return false;
        }
        let mine = user.unit.as_str();
        self.entries.iter().any(|(scope, unit)| match scope {
            ReaderScope::Subtree => units.is_within(unit, mine),
            ReaderScope::Unit => unit == mine,
            ReaderScope::CountySupervisors => user.has_role(Role::Supervisor) && units.root_of(unit) == mine,
        })
    }

    /// One `scope:unit` per line, sorted: the form `case_access_log` stores.
    pub fn encode(&self) -> String {
        self.entries.iter().map(|(scope, unit)| format!("{}:{unit}", scope.code())).collect::<Vec<_>>().join("\n")
    }

    pub fn decode(text: &str) -> Result<CaseReaders> {
        let mut entries = BTreeSet::new();
        for line in text.lines().filter(|l| !l.is_empty()) {
            let (scope, unit) = line
                .split_once(':')
                .and_then(|(scope, unit)| Some((ReaderScope::from_code(scope)?, unit)))
                .ok_or_else(|| Error::internal(format!("a stored reader is not scope:unit: {line}")))?;
            entries.insert((scope, unit.to_string()));
        }
        Ok(CaseReaders { entries })
    }

    fn insert(&mut self, scope: ReaderScope, unit: String) {
        self.entries.insert((scope, unit));
    }
}

/// The SQL condition "row `a` of `case_access` lets this user read", with its arguments.
pub(crate) struct Visibility {
    pub(crate) condition: String,
    /// Bound from `$first` on, in order.
    pub(crate) arguments: Vec<String>,
}

impl Visibility {
    /// `None` when the user reads no case at all (an administrator).
    pub(crate) fn of(user: &User, units: &UnitTree, first: usize) -> Option<Visibility> {
        if !user.works_cases() {
            return None;
        }
        let mine = user.unit.as_str().to_string();
        let mut subtree: Vec<String> = units.subtree(&mine).into_iter().map(|u| u.id.as_str().to_string()).collect();
        if !subtree.contains(&mine) {
            subtree.push(mine.clone());
        }
        subtree.sort();
        let list = (0..subtree.len()).map(|i| format!("${}", first + 1 + i)).collect::<Vec<_>>().join(", ");
        let mut condition =
            format!("((a.scope = 'subtree' AND a.unit_id IN ({list})) OR (a.scope = 'unit' AND a.unit_id = ${first})");
        let is_root = units.get(&mine).is_some_and(|u| u.parent.is_none());
        if is_root && user.has_role(Role::Supervisor) {
            condition.push_str(&format!(" OR (a.scope = 'county_supervisors' AND a.unit_id IN ({list}))"));
        }
        condition.push(')');
        let mut arguments = vec![mine];
        arguments.extend(subtree);
        Some(Visibility { condition, arguments })
    }
}

/// Binds each argument of a dynamically built query in order.
macro_rules! bind_all {
    ($query:expr, $args:expr) => {{
        let mut query = $query;
        for argument in $args {
            query = query.bind(argument);
        }
        query
    }};
}
pub(crate) use bind_all;

impl Store {
    /// Every case `user` reads, by case id.
    pub async fn readable_cases(&self, user: &User, units: &UnitTree) -> Result<Vec<CaseId>> {
        let Some(visibility) = Visibility::of(user, units, 1) else { return Ok(Vec::new()) };
        let sql =
            format!("SELECT DISTINCT a.case_id FROM case_access a WHERE {} ORDER BY a.case_id", visibility.condition);
        let rows: Vec<Vec<u8>> = with_read_pool!(self, |pool| {
            bind_all!(sqlx::query_scalar(&sql), &visibility.arguments).fetch_all(pool).await?
        });
        rows.iter().map(|id| case_id_from_row(id)).collect()
    }

    /// The cases `user` reads now that have feed entries after `after` and up to `upto`, in the
    /// order they last changed.
    pub async fn readable_changed(
        &self,
        user: &User,
        units: &UnitTree,
        after: FeedCursor,
        upto: FeedCursor,
    ) -> Result<Vec<CaseId>> {
        let Some(visibility) = Visibility::of(user, units, 3) else { return Ok(Vec::new()) };
        let sql = format!(
            "SELECT f.case_id FROM change_feed f WHERE f.seq > $1 AND f.seq <= $2 AND EXISTS \
             (SELECT 1 FROM case_access a WHERE a.case_id = f.case_id AND {}) \
             GROUP BY f.case_id ORDER BY MAX(f.seq)",
            visibility.condition
        );
        let rows: Vec<Vec<u8>> = with_read_pool!(self, |pool| {
            bind_all!(sqlx::query_scalar(&sql).bind(after.0).bind(upto.0), &visibility.arguments)
                .fetch_all(pool)
                .await?
        });
        rows.iter().map(|id| case_id_from_row(id)).collect()
    }

    /// The cases `user` read at `after` and no longer reads: those whose readers changed after
    /// `after` and up to `upto`, that existed at `after`, that the user does not read now, and
    /// whose readers in force at `after` included the user.
    pub async fn no_longer_readable(
        &self,
        user: &User,
        units: &UnitTree,
        after: FeedCursor,
        upto: FeedCursor,
    ) -> Result<Vec<CaseId>> {
        let Some(visibility) = Visibility::of(user, units, 3) else { return Ok(Vec::new()) };
        let sql = format!(
            "SELECT DISTINCT l.case_id FROM case_access_log l WHERE l.seq > $1 AND l.seq <= $2 \
             AND EXISTS (SELECT 1 FROM case_access_log p WHERE p.case_id = l.case_id AND p.seq <= $1) \
             AND NOT EXISTS (SELECT 1 FROM case_access a WHERE a.case_id = l.case_id AND {}) \
             ORDER BY l.case_id",
            visibility.condition
        );
        let candidates: Vec<Vec<u8>> = with_read_pool!(self, |pool| {
            bind_all!(sqlx::query_scalar(&sql).bind(after.0).bind(upto.0), &visibility.arguments)
                .fetch_all(pool)
                .await?
        });
        let mut gone = Vec::new();
        for candidate in candidates {
            let readers: Option<String> = with_read_pool!(self, |pool| {
                sqlx::query_scalar(
                    "SELECT readers FROM case_access_log WHERE case_id = $1 AND seq <= $2 ORDER BY seq DESC LIMIT 1",
                )
                .bind(&candidate[..])
                .bind(after.0)
                .fetch_optional(pool)
                .await?
            });
            if let Some(readers) = readers {
                if CaseReaders::decode(&readers)?.can_read(user, units) {
                    gone.push(case_id_from_row(&candidate)?);
                }
            }
        }
        Ok(gone)
    }

    /// Who reads a case now, or `None` for a case that is not stored.
    pub async fn case_readers(&self, case_id: CaseId) -> Result<Option<CaseReaders>> {
        let rows: Vec<(String, String)> = with_read_pool!(self, |pool| {
            sqlx::query("SELECT scope, unit_id FROM case_access WHERE case_id = $1")
                .bind(&case_id.as_bytes()[..])
                .fetch_all(pool)
                .await?
                .into_iter()
                .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
                .collect::<Result<_, sqlx::Error>>()?
        });
        if rows.is_empty() {
            let exists: i64 = with_read_pool!(self, |pool| {
                sqlx::query_scalar("SELECT COUNT(*) FROM documents WHERE case_id = $1")
                    .bind(&case_id.as_bytes()[..])
                    .fetch_one(pool)
                    .await?
            });
            return Ok((exists > 0).then(CaseReaders::default));
        }
        let mut readers = CaseReaders::default();
        for (scope, unit) in rows {
            let scope = ReaderScope::from_code(&scope)
                .ok_or_else(|| Error::internal(format!("unknown reader scope {scope} in the database")))?;
            readers.insert(scope, unit);
        }
        Ok(Some(readers))
    }

    /// The newest feed entry of a case: what a document loaded now holds at least.
    pub async fn latest_case_seq(&self, case_id: CaseId) -> Result<Option<FeedSeq>> {
        let seq: Option<i64> = with_read_pool!(self, |pool| {
            sqlx::query_scalar("SELECT MAX(seq) FROM change_feed WHERE case_id = $1")
                .bind(&case_id.as_bytes()[..])
                .fetch_one(pool)
                .await?
        });
        Ok(seq.map(FeedSeq))
    }

    /// The case's latest feed sequence number below `before`: what another process may have
    /// committed to the case just before a commit of ours at `before`.
    pub async fn latest_case_seq_before(&self, case_id: CaseId, before: FeedSeq) -> Result<Option<FeedSeq>> {
        let seq: Option<i64> = with_read_pool!(self, |pool| {
            sqlx::query_scalar("SELECT MAX(seq) FROM change_feed WHERE case_id = $1 AND seq < $2")
                .bind(&case_id.as_bytes()[..])
                .bind(before.0)
                .fetch_one(pool)
                .await?
        });
        Ok(seq.map(FeedSeq))
    }

    /// The next official case number of `unit` in `year`, counting from 1. A number once handed
    /// out is not handed out again, even if the case it was meant for is then not stored.
    pub async fn next_case_number(&self, unit: &UnitId, year: i32) -> Result<i64> {
        with_write_tx!(self, |tx| {
            let number: i64 = sqlx::query_scalar(
                "INSERT INTO case_number_counters (unit_id, year, next_number) VALUES ($1, $2, 2) \
                 ON CONFLICT (unit_id, year) DO UPDATE SET next_number = case_number_counters.next_number + 1 \
                 RETURNING next_number - 1",
            )
            .bind(unit.as_str())
            .bind(i64::from(year))
            .fetch_one(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(number)
        })
    }

    /// Of these devices and users, those that are revoked.
    pub async fn revoked_among(&self, devices: &[DeviceId], users: &[UserId]) -> Result<(Vec<DeviceId>, Vec<UserId>)> {
        let mut revoked_devices = Vec::new();
        let mut revoked_users = Vec::new();
        if !devices.is_empty() {
            let list = (1..=devices.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
            let sql = format!("SELECT id FROM devices WHERE revoked_at IS NOT NULL AND id IN ({list})");
            let rows: Vec<String> = with_read_pool!(self, |pool| {
                bind_all!(sqlx::query_scalar(&sql), devices.iter().map(DeviceId::as_str)).fetch_all(pool).await?
            });
            revoked_devices = rows.into_iter().map(DeviceId).collect();
        }
        if !users.is_empty() {
            let list = (1..=users.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
            let sql = format!("SELECT id FROM users WHERE revoked_at IS NOT NULL AND id IN ({list})");
            let rows: Vec<String> = with_read_pool!(self, |pool| {
                bind_all!(sqlx::query_scalar(&sql), users.iter().map(UserId::as_str)).fetch_all(pool).await?
            });
            revoked_users = rows.into_iter().map(UserId).collect();
        }
        Ok((revoked_devices, revoked_users))
    }
}
