//! The offline replica: one SQLite file per device (PROTOCOL.md §7). It keeps every case document
//! as Automerge saved bytes with its encoded sync state and whether it holds changes the server has
//! not acknowledged, the feed cursor, the stash of refused copies, the notices the user has not yet
//! acknowledged, and the device's credentials.
//!
//! Synchronous on purpose (rusqlite): the async client calls it on a blocking thread, one
//! transaction per server message, so that a message's documents, sync states and notices are
//! stored together or not at all.

use std::path::Path;

use automerge::{sync, ActorId, Automerge, ChangeHash};
use fengqiao_schema::document::Case;
use fengqiao_schema::ids::{CaseId, DeviceId};
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::error::ClientError;
use crate::local::{self, CaseListing, LocalUser};

/// The layout version written into `PRAGMA user_version`.
const LAYOUT_VERSION: i64 = 1;

const LAYOUT: &str = "
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
-- One row per case held. `heads` is the replica's heads (32 bytes each, concatenated), kept so
-- that acknowledging a case needs no load; `listing` is the JSON summary for lists, NULL when the
-- document changed since it was computed.
CREATE TABLE IF NOT EXISTS documents (
    case_id TEXT PRIMARY KEY,
    bytes BLOB NOT NULL,
    heads BLOB NOT NULL,
    sync_state BLOB,
    pending INTEGER NOT NULL DEFAULT 0,
    listing TEXT
);
-- Copies the server refused (or that left the user's reach with unsynced work). Never synced.
CREATE TABLE IF NOT EXISTS stash (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id TEXT NOT NULL,
    title TEXT NOT NULL,
    bytes BLOB NOT NULL,
    sync_state BLOB,
    code TEXT NOT NULL,
    reason TEXT NOT NULL,
    stashed_at INTEGER NOT NULL
);
-- What the user must be told; kept until acknowledged.
CREATE TABLE IF NOT EXISTS notices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    code TEXT,
    section TEXT,
    review_item TEXT,
    reverted TEXT,
    message TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    acknowledged_at INTEGER
);
CREATE TABLE IF NOT EXISTS credentials (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    json TEXT NOT NULL
);
";

/// The device's login, as the server answered it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials {
    pub user: LocalUser,
    pub device_id: DeviceId,
    pub access_token: String,
    /// Unix seconds.
    pub expires_at: i64,
    pub refresh_token: String,
    /// Unix seconds.
    pub refresh_expires_at: i64,
    pub state: LoginState,
}

/// Whether the credentials can still be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoginState {
    Active,
    /// The refresh token expired or was refused: the user must log in again. Local work is kept.
    LoginRequired,
    /// The server says this device was revoked. Local work is kept and exportable.
    DeviceRevoked,
}

/// What kind of thing a notice tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// The server stored nothing of a case's changes (a hard reject).
    Rejected,
    /// The server stored changes and then reverted their effect on a section.
    Compensated,
    /// The user may no longer read the case; it left the replica.
    Gone,
    /// The case left the user's unit's custody: the replica's copy is read-only.
    CustodyLeft,
    /// A handoff the user's unit asked for was decided or judged by the server.
    Handoff,
    /// A handoff to the user's unit waits for a decision.
    Inbox,
}

impl NoticeKind {
    pub fn code(self) -> &'static str {
        match self {
            NoticeKind::Rejected => "rejected",
            NoticeKind::Compensated => "compensated",
            NoticeKind::Gone => "gone",
            NoticeKind::CustodyLeft => "custody_left",
            NoticeKind::Handoff => "handoff",
            NoticeKind::Inbox => "inbox",
        }
    }

    /// The Chinese label shown beside a notice.
    pub fn label(self) -> &'static str {
        match self {
            NoticeKind::Rejected => "修改被拒绝",
            NoticeKind::Compensated => "修改被撤销",
            NoticeKind::Gone => "案件已移除",
            NoticeKind::CustodyLeft => "案件已移交",
            NoticeKind::Handoff => "移交结果",
            NoticeKind::Inbox => "移交待办",
        }
    }

    fn from_code(code: &str) -> Option<NoticeKind> {
        [
            NoticeKind::Rejected,
            NoticeKind::Compensated,
            NoticeKind::Gone,
            NoticeKind::CustodyLeft,
            NoticeKind::Handoff,
            NoticeKind::Inbox,
        ]
        .into_iter()
        .find(|k| k.code() == code)
    }
}

/// A notice to be added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotice {
    pub case_id: CaseId,
    pub kind: NoticeKind,
    pub title: String,
    /// The refusal code, for `Rejected`.
    pub code: Option<String>,
    /// The section, for `Compensated`.
    pub section: Option<String>,
    pub review_item: Option<String>,
    /// Hex hashes of the reverted changes, for `Compensated`.
    pub reverted: Vec<String>,
    /// Chinese, for the user.
    pub message: String,
}

/// A stored notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredNotice {
    pub id: i64,
    pub case_id: CaseId,
    pub kind: NoticeKind,
    pub title: String,
    pub code: Option<String>,
    pub section: Option<String>,
    pub review_item: Option<String>,
    pub reverted: Vec<String>,
    pub message: String,
    /// Unix seconds (device clock).
    pub created_at: i64,
    pub acknowledged_at: Option<i64>,
}

/// A copy set aside in the stash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StashEntry {
    pub id: i64,
    pub case_id: CaseId,
    pub title: String,
    pub code: String,
    pub reason: String,
    pub stashed_at: i64,
    #[serde(skip)]
    pub bytes: Vec<u8>,
}

/// A case document of the replica with its sync state, as a session loads it.
pub struct HeldDocument {
    pub doc: Automerge,
    pub sync_state: Option<Vec<u8>>,
    pub pending: bool,
}

/// The SQLite replica of one device.
pub struct Replica {
    conn: Connection,
}

impl Replica {
    /// Opens (creating if need be) the replica file at `path`.
    pub fn open(path: &Path) -> Result<Replica, ClientError> {
        let conn = Connection::open(path)?;
        // WAL with FULL synchronous: an edit the user saw saved survives a power cut.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version > LAYOUT_VERSION {
            return Err(ClientError::Local(format!(
                "本机数据由更新版本的客户端创建（版本 {version}），请升级客户端"
            )));
        }
        conn.execute_batch(LAYOUT)?;
        conn.pragma_update(None, "user_version", LAYOUT_VERSION)?;
        Ok(Replica { conn })
    }

    /// Runs `f` in one transaction: all of it is stored, or none.
    pub fn transaction<T>(
        &self,
        f: impl FnOnce(&Replica) -> Result<T, ClientError>,
    ) -> Result<T, ClientError> {
        let tx = self.conn.unchecked_transaction()?;
        let value = f(self)?;
        tx.commit()?;
        Ok(value)
    }

    // -- meta --------------------------------------------------------------------------------

    pub fn meta(&self, key: &str) -> Result<Option<Vec<u8>>, ClientError> {
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    pub fn set_meta(&self, key: &str, value: &[u8]) -> Result<(), ClientError> {
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }

    fn delete_meta(&self, key: &str) -> Result<(), ClientError> {
        self.conn
            .execute("DELETE FROM meta WHERE key = ?1", [key])?;
        Ok(())
    }

    /// The Automerge actor of this device's edits, made on first use.
    pub fn actor(&self) -> Result<ActorId, ClientError> {
        match self.meta("actor")? {
            Some(bytes) => Ok(ActorId::from(bytes)),
            None => {
                let actor = ActorId::from(crate::random_bytes::<16>());
                self.set_meta("actor", actor.to_bytes())?;
                Ok(actor)
            }
        }
    }

    /// A new actor for this device (after another user logs in on it: an actor id is bound to the
    /// user and device that first wrote with it).
    pub fn new_actor(&self) -> Result<ActorId, ClientError> {
        let actor = ActorId::from(crate::random_bytes::<16>());
        self.set_meta("actor", actor.to_bytes())?;
        Ok(actor)
    }

    /// The id this device logs in with, made on first use.
    pub fn device_id(&self) -> Result<DeviceId, ClientError> {
        match self.meta("device_id")? {
            Some(bytes) => Ok(DeviceId::new(String::from_utf8_lossy(&bytes).into_owned())),
            None => {
                let id = format!("tablet-{}", crate::hex(&crate::random_bytes::<8>()));
                self.set_meta("device_id", id.as_bytes())?;
                Ok(DeviceId::new(id))
            }
        }
    }

    /// The cursor of the last completed session.
    pub fn cursor(&self) -> Result<Option<fengqiao_sync::protocol::Cursor>, ClientError> {
        match self.meta("cursor")? {
            Some(bytes) => Ok(fengqiao_sync::protocol::Cursor::from_bytes(bytes).ok()),
            None => Ok(None),
        }
    }

    pub fn set_cursor(&self, cursor: &fengqiao_sync::protocol::Cursor) -> Result<(), ClientError> {
        self.set_meta("cursor", cursor.as_bytes())
    }

    /// Forgets the cursor: the next session lists every readable case again.
    pub fn clear_cursor(&self) -> Result<(), ClientError> {
        self.delete_meta("cursor")
    }

    // -- credentials -------------------------------------------------------------------------

    pub fn credentials(&self) -> Result<Option<Credentials>, ClientError> {
        let json: Option<String> = self
            .conn
            .query_row("SELECT json FROM credentials WHERE id = 1", [], |r| {
                r.get(0)
            })
            .optional()?;
        match json {
            Some(json) => Ok(Some(serde_json::from_str(&json).map_err(|e| {
                ClientError::Local(format!("本机保存的登录信息已损坏：{e}"))
            })?)),
            None => Ok(None),
        }
    }

    pub fn set_credentials(&self, credentials: &Credentials) -> Result<(), ClientError> {
        let json = serde_json::to_string(credentials).expect("credentials serialise");
        self.conn.execute(
            "INSERT INTO credentials (id, json) VALUES (1, ?1) ON CONFLICT (id) DO UPDATE SET json = excluded.json",
            [json],
        )?;
        Ok(())
    }

    pub fn set_login_state(&self, state: LoginState) -> Result<(), ClientError> {
        if let Some(mut credentials) = self.credentials()? {
            credentials.state = state;
            self.set_credentials(&credentials)?;
        }
        Ok(())
    }

    // -- documents ---------------------------------------------------------------------------

    /// Cases holding changes the server has not acknowledged.
    pub fn pending_cases(&self) -> Result<Vec<CaseId>, ClientError> {
        let mut stmt = self
            .conn
            .prepare("SELECT case_id FROM documents WHERE pending = 1 ORDER BY case_id")?;
        let ids = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ids.iter().filter_map(|s| CaseId::parse(s).ok()).collect())
    }

    /// Every case held.
    pub fn case_ids(&self) -> Result<Vec<CaseId>, ClientError> {
        let mut stmt = self
            .conn
            .prepare("SELECT case_id FROM documents ORDER BY case_id")?;
        let ids = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ids.iter().filter_map(|s| CaseId::parse(s).ok()).collect())
    }

    pub fn holds(&self, case_id: CaseId) -> Result<bool, ClientError> {
        Ok(self
            .conn
            .query_row(
                "SELECT 1 FROM documents WHERE case_id = ?1",
                [case_id.to_string()],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// The saved bytes of a case.
    pub fn document_bytes(&self, case_id: CaseId) -> Result<Option<Vec<u8>>, ClientError> {
        Ok(self
            .conn
            .query_row(
                "SELECT bytes FROM documents WHERE case_id = ?1",
                [case_id.to_string()],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// A case with its sync state.
    pub fn document(&self, case_id: CaseId) -> Result<Option<HeldDocument>, ClientError> {
        let row: Option<(Vec<u8>, Option<Vec<u8>>, bool)> = self
            .conn
            .query_row(
                "SELECT bytes, sync_state, pending FROM documents WHERE case_id = ?1",
                [case_id.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        match row {
            Some((bytes, sync_state, pending)) => Ok(Some(HeldDocument {
                doc: Automerge::load(&bytes).map_err(|e| corrupt(case_id, e))?,
                sync_state,
                pending,
            })),
            None => Ok(None),
        }
    }

    /// Writes a case as the user (or a merge) left it; `pending` says whether it now holds
    /// changes the server has not acknowledged.
    pub fn write_document(
        &self,
        case_id: CaseId,
        bytes: &[u8],
        heads: &[ChangeHash],
        pending: bool,
    ) -> Result<(), ClientError> {
        self.conn.execute(
            "INSERT INTO documents (case_id, bytes, heads, pending, listing) VALUES (?1, ?2, ?3, ?4, NULL)
             ON CONFLICT (case_id) DO UPDATE SET bytes = excluded.bytes, heads = excluded.heads,
                 pending = excluded.pending, listing = NULL",
            params![case_id.to_string(), bytes, encode_heads(heads), pending],
        )?;
        Ok(())
    }

    /// Stores the sync state of a case and, from it, whether the case is acknowledged: the shared
    /// heads cover the replica's heads (PROTOCOL.md §7).
    pub fn store_sync_state(&self, case_id: CaseId, sync_state: &[u8]) -> Result<(), ClientError> {
        let heads: Option<Vec<u8>> = self
            .conn
            .query_row(
                "SELECT heads FROM documents WHERE case_id = ?1",
                [case_id.to_string()],
                |r| r.get(0),
            )
            .optional()?;
        let Some(heads) = heads else {
            return Ok(());
        };
        let shared = sync::State::decode(sync_state)
            .map(|s| s.shared_heads)
            .unwrap_or_default();
        let acknowledged = decode_heads(&heads).iter().all(|h| shared.contains(h));
        self.conn.execute(
            "UPDATE documents SET sync_state = ?2, pending = CASE WHEN ?3 THEN 0 ELSE pending END
             WHERE case_id = ?1",
            params![case_id.to_string(), sync_state, acknowledged],
        )?;
        Ok(())
    }

    /// Removes a case from the replica (not from the stash).
    pub fn delete_document(&self, case_id: CaseId) -> Result<(), ClientError> {
        self.conn.execute(
            "DELETE FROM documents WHERE case_id = ?1",
            [case_id.to_string()],
        )?;
        Ok(())
    }

    /// Whether a case holds unacknowledged changes.
    pub fn is_pending(&self, case_id: CaseId) -> Result<bool, ClientError> {
        Ok(self
            .conn
            .query_row(
                "SELECT pending FROM documents WHERE case_id = ?1",
                [case_id.to_string()],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or(false))
    }

    /// The list entry of every case, computing those whose document changed since.
    pub fn listings(&self, user: &LocalUser) -> Result<Vec<CaseListing>, ClientError> {
        let rows: Vec<(String, Option<String>, bool)> = {
            let mut stmt = self
                .conn
                .prepare("SELECT case_id, listing, pending FROM documents ORDER BY case_id")?;
            let rows = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<Result<Vec<_>, _>>()?;
            rows
        };
        let mut listings = Vec::with_capacity(rows.len());
        for (id, listing, pending) in rows {
            let Ok(case_id) = CaseId::parse(&id) else {
                continue;
            };
            let cached = listing.and_then(|json| serde_json::from_str::<CaseListing>(&json).ok());
            let mut listing = match cached {
                Some(listing) if listing.for_user == user.id => listing,
                _ => {
                    let listing = self.compute_listing(case_id, user)?;
                    self.conn.execute(
                        "UPDATE documents SET listing = ?2 WHERE case_id = ?1",
                        params![
                            id,
                            serde_json::to_string(&listing).expect("a listing serialises")
                        ],
                    )?;
                    listing
                }
            };
            listing.pending = pending;
            listings.push(listing);
        }
        Ok(listings)
    }

    fn compute_listing(
        &self,
        case_id: CaseId,
        user: &LocalUser,
    ) -> Result<CaseListing, ClientError> {
        let case = self
            .case(case_id)?
            .ok_or(ClientError::UnknownCase(case_id.to_string()))?;
        Ok(local::listing(case_id, &case, user))
    }

    /// The case, hydrated through the schema types.
    pub fn case(&self, case_id: CaseId) -> Result<Option<Case>, ClientError> {
        let Some(bytes) = self.document_bytes(case_id)? else {
            return Ok(None);
        };
        let doc = Automerge::load(&bytes).map_err(|e| corrupt(case_id, e))?;
        Ok(Some(
            local::hydrate_case(&doc).map_err(|e| corrupt(case_id, e))?,
        ))
    }

    /// The title to name a case by in messages: its title, its number, or its id.
    pub fn title_of(&self, case_id: CaseId) -> String {
        let listing: Option<String> = self
            .conn
            .query_row(
                "SELECT listing FROM documents WHERE case_id = ?1",
                [case_id.to_string()],
                |r| r.get(0),
            )
            .optional()
            .ok()
            .flatten()
            .flatten();
        if let Some(listing) = listing.and_then(|j| serde_json::from_str::<CaseListing>(&j).ok()) {
            return listing.display_title();
        }
        match self.case(case_id) {
            Ok(Some(case)) => local::display_title(case_id, &case),
            _ => case_id.to_string(),
        }
    }

    // -- stash -------------------------------------------------------------------------------

    /// Moves a case's copy (document and sync state) into the stash. Returns whether there was
    /// a copy to move.
    pub fn stash_document(
        &self,
        case_id: CaseId,
        code: &str,
        reason: &str,
        now: i64,
    ) -> Result<bool, ClientError> {
        let row: Option<(Vec<u8>, Option<Vec<u8>>)> = self
            .conn
            .query_row(
                "SELECT bytes, sync_state FROM documents WHERE case_id = ?1",
                [case_id.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((bytes, sync_state)) = row else {
            return Ok(false);
        };
        let title = self.title_of(case_id);
        self.conn.execute(
            "INSERT INTO stash (case_id, title, bytes, sync_state, code, reason, stashed_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                case_id.to_string(),
                title,
                bytes,
                sync_state,
                code,
                reason,
                now
            ],
        )?;
        self.delete_document(case_id)?;
        Ok(true)
    }

    pub fn stash(&self) -> Result<Vec<StashEntry>, ClientError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, case_id, title, code, reason, stashed_at, bytes FROM stash ORDER BY id",
        )?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, i64>(5)?,
                    r.get::<_, Vec<u8>>(6)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, case, title, code, reason, stashed_at, bytes)| {
                Some(StashEntry {
                    id,
                    case_id: CaseId::parse(&case).ok()?,
                    title,
                    code,
                    reason,
                    stashed_at,
                    bytes,
                })
            })
            .collect())
    }

    // -- notices -----------------------------------------------------------------------------

    pub fn add_notice(&self, notice: &NewNotice, now: i64) -> Result<i64, ClientError> {
        let reverted = (!notice.reverted.is_empty()).then(|| notice.reverted.join(","));
        self.conn.execute(
            "INSERT INTO notices (case_id, kind, title, code, section, review_item, reverted, message, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                notice.case_id.to_string(),
                notice.kind.code(),
                notice.title,
                notice.code,
                notice.section,
                notice.review_item,
                reverted,
                notice.message,
                now
            ],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Notices, oldest first; acknowledged ones only when asked for.
    pub fn notices(&self, include_acknowledged: bool) -> Result<Vec<StoredNotice>, ClientError> {
        let sql = if include_acknowledged {
            "SELECT id, case_id, kind, title, code, section, review_item, reverted, message, created_at, acknowledged_at
             FROM notices ORDER BY id"
        } else {
            "SELECT id, case_id, kind, title, code, section, review_item, reverted, message, created_at, acknowledged_at
             FROM notices WHERE acknowledged_at IS NULL ORDER BY id"
        };
        let mut stmt = self.conn.prepare(sql)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, Option<String>>(5)?,
                    r.get::<_, Option<String>>(6)?,
                    r.get::<_, Option<String>>(7)?,
                    r.get::<_, String>(8)?,
                    r.get::<_, i64>(9)?,
                    r.get::<_, Option<i64>>(10)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows
            .into_iter()
            .filter_map(
                |(
                    id,
                    case,
                    kind,
                    title,
                    code,
                    section,
                    review_item,
                    reverted,
                    message,
                    created_at,
                    acknowledged_at,
                )| {
                    Some(StoredNotice {
                        id,
                        case_id: CaseId::parse(&case).ok()?,
                        kind: NoticeKind::from_code(&kind)?,
                        title,
                        code,
                        section,
                        review_item,
                        reverted: reverted
                            .map(|r| r.split(',').map(str::to_string).collect())
                            .unwrap_or_default(),
                        message,
                        created_at,
                        acknowledged_at,
                    })
                },
            )
            .collect())
    }

    /// Acknowledges one notice; false if there is no such unacknowledged notice.
    pub fn acknowledge(&self, id: i64, now: i64) -> Result<bool, ClientError> {
        let changed = self.conn.execute(
            "UPDATE notices SET acknowledged_at = ?2 WHERE id = ?1 AND acknowledged_at IS NULL",
            params![id, now],
        )?;
        Ok(changed == 1)
    }

    /// Acknowledges every notice; how many.
    pub fn acknowledge_all(&self, now: i64) -> Result<usize, ClientError> {
        Ok(self.conn.execute(
            "UPDATE notices SET acknowledged_at = ?1 WHERE acknowledged_at IS NULL",
            [now],
        )?)
    }
}

fn corrupt(case_id: CaseId, error: impl std::fmt::Display) -> ClientError {
    ClientError::Local(format!("本机保存的案件 {case_id} 已损坏：{error}"))
}

pub(crate) fn encode_heads(heads: &[ChangeHash]) -> Vec<u8> {
    heads.iter().flat_map(|h| h.0).collect()
}

pub(crate) fn decode_heads(bytes: &[u8]) -> Vec<ChangeHash> {
    bytes
        .chunks_exact(32)
        .filter_map(|c| ChangeHash::try_from(c).ok())
        .collect()
}
