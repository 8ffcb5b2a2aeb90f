//! The JSON API over the projections (DESIGN §1, §6, §7): the cases a user reads, the inbox, marking
//! a review item done, attachments by hash. Every list is filtered by the access index
//! (`case_access`), so an unreadable case is never listed and is answered `not_found` like a case
//! that does not exist. The OpenAPI document (`/v1/openapi.json`) is generated from these handlers
//! and types by utoipa (`crate::openapi`).

use automerge::transaction::Transactable;
use automerge::{ReadDoc, Value, ROOT};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use fengqiao_schema::ids::CaseId;
use fengqiao_schema::policy;
use fengqiao_schema::time::{Instant, LegalDate};
use fengqiao_schema::units::{UnitTree, User};
use fengqiao_schema::vocab::Role;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::Row;
use utoipa::{IntoParams, ToSchema};

use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::http::{AppState, Authenticated};
use crate::store::access::{bind_all, Visibility};
use crate::store::documents::case_id_from_row;
use crate::store::with_read_pool;

/// The largest attachment accepted, in bytes.
pub const ATTACHMENT_LIMIT: usize = 20 * 1024 * 1024;
/// Page size of `GET /v1/cases` when none is asked for, and the most it gives.
const DEFAULT_PAGE: i64 = 50;
const MAX_PAGE: i64 = 500;
/// How far ahead the inbox looks for deadlines when not told.
const DEFAULT_DUE_WITHIN_DAYS: i64 = 7;

/// The unit tree as stored now.
pub(crate) async fn unit_tree(state: &AppState) -> Result<std::sync::Arc<UnitTree>> {
    state.store.unit_tree().await
}

/// Today in China Standard Time, by the server's clock.
pub(crate) fn today() -> LegalDate {
    Instant::from_unix(Timestamp::now().secs()).china_date()
}

/// One case in a list; no personal data beyond the case's title.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CaseListItem {
    /// The case (document) id.
    pub id: String,
    pub case_number: String,
    pub title: String,
    pub kind: Option<String>,
    pub track: Option<String>,
    pub custody_unit: String,
    pub township: String,
    pub dispute_type: Option<String>,
    /// `open` or `concluded`.
    pub status: String,
    pub outcome: Option<String>,
    pub registered_on: Option<String>,
    pub accepted_on: Option<String>,
    pub concluded_on: Option<String>,
    /// Mediation source or petition channel.
    pub source: Option<String>,
    /// A 检举控告 case with restricted visibility.
    pub restricted: bool,
}

/// A page of cases, newest registration first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CasePage {
    pub cases: Vec<CaseListItem>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Filters and paging of `GET /v1/cases`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CaseQuery {
    /// Track code: `mediation`, `petition`, `reconsideration`, `litigation`.
    pub track: Option<String>,
    /// `open` or `concluded`.
    pub status: Option<String>,
    /// Unit id of the township or street.
    pub township: Option<String>,
    /// Dispute type code.
    pub dispute_type: Option<String>,
    /// Text contained in the title or the case number.
    pub q: Option<String>,
    /// Page size, 1 to 500 (default 50).
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

fn parse_cursor(cursor: &str) -> Result<(i64, Vec<u8>)> {
    let bad = || Error::BadRequest("翻页参数无效".to_string());
    let (at, id) = cursor.split_once('.').ok_or_else(bad)?;
    let at: i64 = at.parse().map_err(|_| bad())?;
    let id = CaseId::parse(id).map_err(|_| bad())?;
    Ok((at, id.as_bytes().to_vec()))
}

/// `LIKE` pattern for text contained anywhere, with the wildcards of the text escaped.
fn contains_pattern(text: &str) -> String {
    let escaped = text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

/// `GET /v1/cases`: the cases the user reads, filtered and paged.
#[utoipa::path(get, path = "/v1/cases", params(CaseQuery), security(("bearer" = [])),
    responses((status = 200, body = CasePage), (status = 401, body = crate::error::ErrorBody)))]
pub async fn list_cases(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Query(query): Query<CaseQuery>,
) -> Result<Json<CasePage>> {
    let units = unit_tree(&state).await?;
    let limit = query.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
    Ok(Json(case_page(&state.store, &principal.user, &units, &query, limit).await?))
}

/// One page of the cases `user` reads, newest registration first: the query behind
/// `GET /v1/cases` and its CSV export (`crate::export`).
pub async fn case_page(
    store: &crate::store::Store,
    user: &User,
    units: &UnitTree,
    query: &CaseQuery,
    limit: i64,
) -> Result<CasePage> {
    let (cursor_at, cursor_id) = match &query.cursor {
        Some(cursor) => parse_cursor(cursor)?,
        None => (i64::MAX, vec![0xff; 17]),
    };
    let Some(visibility) = Visibility::of(user, units, 4) else {
        return Ok(CasePage { cases: Vec::new(), next_cursor: None });
    };
    let mut filters = String::new();
    let mut arguments = visibility.arguments.clone();
    let mut filter = |column: &str, value: &Option<String>, like: bool| {
        if let Some(value) = value.as_ref().filter(|v| !v.is_empty()) {
            arguments.push(if like { contains_pattern(value) } else { value.clone() });
            let n = 3 + arguments.len();
            if like {
                filters.push_str(&format!(
                    " AND (c.title LIKE ${n} ESCAPE '\\' OR c.case_number LIKE ${n} ESCAPE '\\')"
                ));
            } else {
                filters.push_str(&format!(" AND c.{column} = ${n}"));
            }
        }
    };
    filter("track", &query.track, false);
    filter("status", &query.status, false);
    filter("township", &query.township, false);
    filter("dispute_type", &query.dispute_type, false);
    filter("", &query.q, true);
    // On SQLite the trigram index (migration 0006) finds the cases whose number or title may
    // contain three characters or more, so that only those are matched with LIKE.
    if let Some(q) = query.q.as_ref().filter(|q| q.chars().count() >= 3) {
        if store.kind() == crate::store::BackendKind::Sqlite {
            arguments.push(format!("\"{}\"", q.replace('"', "\"\"")));
            let n = 3 + arguments.len();
            filters.push_str(&format!(
                " AND c.case_id IN (SELECT r.case_id FROM case_search s JOIN case_search_rows r ON r.id = s.rowid \
                 WHERE case_search MATCH ${n})"
            ));
        }
    }
    let sql = format!(
        "SELECT c.case_id, c.case_number, c.title, c.kind, c.track, c.custody_unit, c.township, c.dispute_type, \
         c.status, c.outcome, COALESCE(c.registered_at, 0), c.registered_on, c.accepted_on, c.concluded_on, \
         c.source, c.restricted FROM case_projection c \
         WHERE (COALESCE(c.registered_at, 0) < $1 OR (COALESCE(c.registered_at, 0) = $1 AND c.case_id < $2)) \
         AND EXISTS (SELECT 1 FROM case_access a WHERE a.case_id = c.case_id AND {}){filters} \
         ORDER BY COALESCE(c.registered_at, 0) DESC, c.case_id DESC LIMIT $3",
        visibility.condition
    );
    let rows: Vec<(CaseListItem, i64)> = with_read_pool!(store, |pool| {
        bind_all!(sqlx::query(&sql).bind(cursor_at).bind(&cursor_id[..]).bind(limit + 1), &arguments)
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(|row| {
                let id: Vec<u8> = row.try_get(0)?;
                let id = case_id_from_row(&id).map(|id| id.to_string()).unwrap_or_default();
                Ok((
                    CaseListItem {
                        id,
                        case_number: row.try_get(1)?,
                        title: row.try_get(2)?,
                        kind: row.try_get(3)?,
                        track: row.try_get(4)?,
                        custody_unit: row.try_get(5)?,
                        township: row.try_get(6)?,
                        dispute_type: row.try_get(7)?,
                        status: row.try_get(8)?,
                        outcome: row.try_get(9)?,
                        registered_on: row.try_get(11)?,
                        accepted_on: row.try_get(12)?,
                        concluded_on: row.try_get(13)?,
                        source: row.try_get(14)?,
                        restricted: row.try_get(15)?,
                    },
                    row.try_get::<i64, _>(10)?,
                ))
            })
            .collect::<Result<_, sqlx::Error>>()?
    });
    let more = rows.len() as i64 > limit;
    let mut cases: Vec<(CaseListItem, i64)> = rows;
    cases.truncate(limit as usize);
    let next_cursor = if more { cases.last().map(|(c, at)| format!("{at}.{}", c.id)) } else { None };
    Ok(CasePage { cases: cases.into_iter().map(|(c, _)| c).collect(), next_cursor })
}

/// A handoff waiting for the user's unit to decide.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InboxHandoff {
    pub case_id: String,
    pub case_number: String,
    pub handoff_id: String,
    pub from_unit: String,
    pub from_track: Option<String>,
    pub to_track: Option<String>,
    /// Unix milliseconds (device time of the request).
    pub requested_at: Option<i64>,
}

/// A deadline of a case in the user's unit's custody.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InboxDeadline {
    pub case_id: String,
    pub case_number: String,
    pub track: String,
    pub rule: String,
    pub due_on: String,
    /// `overdue` (past due) or `due_soon`.
    pub status: String,
    pub explanation: String,
}

/// A review item open for the user's unit.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InboxReview {
    pub case_id: String,
    pub case_number: String,
    pub item_id: String,
    pub kind: Option<String>,
    pub section: Option<String>,
}

/// What needs the user's unit's attention.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Inbox {
    pub today: String,
    pub handoffs: Vec<InboxHandoff>,
    pub deadlines: Vec<InboxDeadline>,
    pub review: Vec<InboxReview>,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InboxQuery {
    /// Deadlines due within this many days are listed (default 7), with every overdue one.
    pub days: Option<i64>,
}

/// `GET /v1/inbox`.
#[utoipa::path(get, path = "/v1/inbox", params(InboxQuery), security(("bearer" = [])),
    responses((status = 200, body = Inbox), (status = 401, body = crate::error::ErrorBody)))]
pub async fn inbox(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Query(query): Query<InboxQuery>,
) -> Result<Json<Inbox>> {
    let user = &principal.user;
    let unit = user.unit.as_str().to_string();
    let today = today();
    let days = query.days.unwrap_or(DEFAULT_DUE_WITHIN_DAYS).clamp(0, 366);
    let horizon = LegalDate::from(today.date() + chrono::Duration::days(days)).to_string();
    if !user.works_cases() {
        return Ok(Json(Inbox { today: today.to_string(), handoffs: vec![], deadlines: vec![], review: vec![] }));
    }
    let tracks: Vec<String> =
        user.roles.iter().filter_map(|r| track_of_role(*r)).map(|t| t.to_string()).collect();
    let handoff_rows: Vec<(Vec<u8>, String, String, String, Option<String>, Option<String>, Option<i64>)> =
        with_read_pool!(state.store, |pool| {
            sqlx::query_as(
                "SELECT h.case_id, COALESCE(c.case_number, ''), h.handoff_id, h.from_unit, h.from_track, h.to_track, \
                 h.requested_at FROM handoff_projection h LEFT JOIN case_projection c ON c.case_id = h.case_id \
                 WHERE h.to_unit = $1 AND h.status = 'pending' ORDER BY h.requested_at, h.case_id",
            )
            .bind(&unit)
            .fetch_all(pool)
            .await?
        });
    let mut handoffs = Vec::new();
    for (case_id, case_number, handoff_id, from_unit, from_track, to_track, requested_at) in handoff_rows {
        if !to_track.as_ref().is_some_and(|t| tracks.contains(t)) {
            continue;
        }
        handoffs.push(InboxHandoff {
            case_id: case_id_from_row(&case_id)?.to_string(),
            case_number,
            handoff_id,
            from_unit,
            from_track,
            to_track,
            requested_at,
        });
    }
    let deadline_rows: Vec<(Vec<u8>, String, String, String, String, String)> = with_read_pool!(state.store, |pool| {
        sqlx::query_as(
            "SELECT d.case_id, c.case_number, d.track, d.rule, d.due_on, d.explanation FROM deadline_projection d \
             JOIN case_projection c ON c.case_id = d.case_id \
             WHERE d.custody_unit = $1 AND c.custody_unit = $1 AND c.track = d.track AND d.duty AND NOT d.suspended \
             AND d.met_on IS NULL \
             AND d.due_on <= $2 ORDER BY d.due_on, d.case_id",
        )
        .bind(&unit)
        .bind(&horizon)
        .fetch_all(pool)
        .await?
    });
    let deadlines = deadline_rows
        .into_iter()
        .map(|(case_id, case_number, track, rule, due_on, explanation)| {
            let status = if due_on.as_str() < today.to_string().as_str() { "overdue" } else { "due_soon" };
            Ok(InboxDeadline {
                case_id: case_id_from_row(&case_id)?.to_string(),
                case_number,
                track,
                rule,
                due_on,
                status: status.to_string(),
                explanation,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let review_rows: Vec<(Vec<u8>, String, String, Option<String>, Option<String>)> =
        with_read_pool!(state.store, |pool| {
            sqlx::query_as(
                "SELECT r.case_id, COALESCE(c.case_number, ''), r.item_id, r.kind, r.section FROM review_projection r \
                 LEFT JOIN case_projection c ON c.case_id = r.case_id \
                 WHERE r.unit_id = $1 AND NOT r.done ORDER BY r.case_id, r.item_id",
            )
            .bind(&unit)
            .fetch_all(pool)
            .await?
        });
    let review = review_rows
        .into_iter()
        .map(|(case_id, case_number, item_id, kind, section)| {
            Ok(InboxReview { case_id: case_id_from_row(&case_id)?.to_string(), case_number, item_id, kind, section })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Json(Inbox { today: today.to_string(), handoffs, deadlines, review }))
}

fn track_of_role(role: Role) -> Option<fengqiao_schema::vocab::Track> {
    use fengqiao_schema::vocab::Track;
    Track::ALL.iter().copied().find(|t| Role::for_track(*t) == role)
}

/// A review item as marked done.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReviewDone {
    pub case_id: String,
    pub item_id: String,
    pub done_by: String,
    pub done_at: String,
}

/// `POST /v1/cases/{id}/review/{item}/done`: the server writes `done`, `done_by` and `done_at` into
/// the item under its own actor and commits; the client then syncs the change.
#[utoipa::path(post, path = "/v1/cases/{id}/review/{item}/done", security(("bearer" = [])),
    params(("id" = String, Path, description = "case id"), ("item" = String, Path, description = "review item id")),
    responses((status = 200, body = ReviewDone), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn mark_review_done(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Path((id, item)): Path<(String, String)>,
) -> Result<Json<ReviewDone>> {
    let case_id = CaseId::parse(&id).map_err(|_| Error::NotFound)?;
    let units = unit_tree(&state).await?;
    let user = &principal.user;
    let readers = state.store.case_readers(case_id).await?.ok_or(Error::NotFound)?;
    if !readers.can_read(user, &units) {
        return Err(Error::NotFound);
    }
    let mut guard = state.documents.lock(case_id).await?;
    if !guard.is_stored() {
        return Err(Error::NotFound);
    }
    let case: fengqiao_schema::document::Case =
        autosurgeon::hydrate(guard.doc()).map_err(|e| Error::internal(format!("a stored case does not hydrate: {e}")))?;
    let (index, found) = case.review.iter().enumerate().find(|(_, r)| r.id == item).ok_or(Error::NotFound)?;
    let for_my_unit = found.units.iter().any(|u| u == user.unit.as_str()) || policy::is_custodian(user, &case);
    if !for_my_unit {
        return Err(Error::Forbidden);
    }
    let now = Instant::from_unix(Timestamp::now().secs());
    if !found.done {
        let doc = guard.doc_mut();
        let list = match doc.get(ROOT, "review")? {
            Some((Value::Object(_), list)) => list,
            _ => return Err(Error::internal("the review section is not a list")),
        };
        let entry = match doc.get(&list, index)? {
            Some((Value::Object(_), entry)) => entry,
            _ => return Err(Error::internal("a review item is not a map")),
        };
        let mut tx = doc.transaction();
        tx.put(&entry, "done", true)?;
        tx.put(&entry, "done_by", user.id.as_str())?;
        tx.put(&entry, "done_at", now.to_string())?;
        tx.commit();
        guard.commit(Vec::new()).await?;
    }
    let (done_by, done_at) = if found.done {
        (found.done_by.clone(), found.done_at.map(|t| t.to_string()).unwrap_or_default())
    } else {
        (user.id.as_str().to_string(), now.to_string())
    };
    Ok(Json(ReviewDone { case_id: case_id.to_string(), item_id: item, done_by, done_at }))
}

/// One deadline of a case, as the clocks (`fengqiao_schema::clocks`) compute it today.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CaseDeadline {
    /// Rule code, e.g. `mediation.period`.
    pub rule: String,
    /// The rule's Chinese name, e.g. `调解期限`.
    pub label: String,
    /// Track code of the rule.
    pub track: String,
    /// `duty` (an organ must act) or `window` (a party may act until the due date).
    pub kind: String,
    /// The article the period comes from, e.g. `《行政复议法》第六十二条`.
    pub article: String,
    pub start_on: String,
    /// What happened on the start day, e.g. `受理之日`.
    pub start_event: String,
    /// The statutory period before extension and suspension: `period_length` units of
    /// `period_unit` (`calendar_days`, `working_days`, `months` or `years`).
    pub period_length: u32,
    pub period_unit: String,
    /// How its days are counted: `calendar_days` or `working_days`.
    pub counting: String,
    pub extension_days: u32,
    pub suspended_days: u32,
    /// The last day as counted; `due_on` unless that was a rest day.
    pub last_day: String,
    pub due_on: String,
    /// The rest day the due date was moved from, if it was.
    pub shifted_from: Option<String>,
    /// `running`, `met`, `late`, `overdue` or `suspended`, as of `today`.
    pub status: String,
    /// The status in Chinese, e.g. `进行中`.
    pub status_label: String,
    pub met_on: Option<String>,
    /// How the law was applied to the case's facts, in Chinese.
    pub explanation: String,
}

/// Every deadline of one case.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CaseDeadlines {
    pub case_id: String,
    /// The day the statuses are as of (China Standard Time, the server's clock).
    pub today: String,
    pub deadlines: Vec<CaseDeadline>,
}

/// `GET /v1/cases/{id}/deadlines`: every deadline the case's recorded facts give rise to (met and
/// open, in every track), computed from the stored document as the deadline projection is, with
/// the fields the projection does not keep (article, period, counting, extension and suspension).
/// A case the user does not read is answered like one that does not exist.
#[utoipa::path(get, path = "/v1/cases/{id}/deadlines", security(("bearer" = [])),
    params(("id" = String, Path, description = "case id")),
    responses((status = 200, body = CaseDeadlines), (status = 401, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn case_deadlines(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<CaseDeadlines>> {
    use fengqiao_schema::calendar::{Counting, Period};
    use fengqiao_schema::clocks::{ClockConfig, DeadlineKind};
    let case_id = CaseId::parse(&id).map_err(|_| Error::NotFound)?;
    let units = unit_tree(&state).await?;
    let readers = state.store.case_readers(case_id).await?.ok_or(Error::NotFound)?;
    if !readers.can_read(&principal.user, &units) {
        return Err(Error::NotFound);
    }
    let case: fengqiao_schema::document::Case = state
        .documents
        .with_document(case_id, autosurgeon::hydrate)
        .await?
        .ok_or(Error::NotFound)?
        .map_err(|e| Error::internal(format!("a stored case does not hydrate: {e}")))?;
    let today = today();
    let deadlines = fengqiao_schema::clocks::case_deadlines(
        &case,
        today,
        crate::store::projections::calendars(),
        &ClockConfig::default(),
    )
    .into_iter()
    .map(|d| {
        let (period_length, period_unit) = match d.period {
            Period::CalendarDays(n) => (n, "calendar_days"),
            Period::WorkingDays(n) => (n, "working_days"),
            Period::Months(n) => (n, "months"),
            Period::Years(n) => (n, "years"),
        };
        CaseDeadline {
            rule: d.rule.code().to_string(),
            label: d.label.to_string(),
            track: d.track.code().to_string(),
            kind: if d.kind == DeadlineKind::Duty { "duty" } else { "window" }.to_string(),
            article: d.source.to_string(),
            start_on: d.start.to_string(),
            start_event: d.start_event.to_string(),
            period_length,
            period_unit: period_unit.to_string(),
            counting: match d.counting {
                Counting::CalendarDays => "calendar_days",
                Counting::WorkingDays => "working_days",
            }
            .to_string(),
            extension_days: d.extension_days,
            suspended_days: d.suspended_days,
            last_day: d.last_day.to_string(),
            due_on: d.due.to_string(),
            shifted_from: d.shifted_from.map(|s| s.to_string()),
            status: d.status.code().to_string(),
            status_label: d.status.label().to_string(),
            met_on: d.met_on.map(|m| m.to_string()),
            explanation: d.explanation,
        }
    })
    .collect();
    Ok(Json(CaseDeadlines { case_id: case_id.to_string(), today: today.to_string(), deadlines }))
}

/// An attachment as stored.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StoredAttachment {
    pub sha256: String,
    pub size: u64,
}

fn valid_sha256(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// `PUT /v1/attachments/{sha256}`: stores the body by its hash (at most 20 MiB).
#[utoipa::path(put, path = "/v1/attachments/{sha256}", security(("bearer" = [])),
    params(("sha256" = String, Path, description = "lower-case hex SHA-256 of the body")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, body = StoredAttachment), (status = 400, body = crate::error::ErrorBody),
        (status = 413, description = "larger than 20 MiB")))]
pub async fn put_attachment(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Path(sha256): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<StoredAttachment>)> {
    if !principal.user.works_cases() {
        return Err(Error::Forbidden);
    }
    if !valid_sha256(&sha256) {
        return Err(Error::BadRequest("附件标识应为 64 位小写十六进制 SHA-256".to_string()));
    }
    let digest = Sha256::digest(&body);
    let actual: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    if actual != sha256 {
        return Err(Error::BadRequest("附件内容与 SHA-256 校验值不符".to_string()));
    }
    let size = body.len() as i64;
    crate::store::with_write_tx!(state.store, |tx| {
        sqlx::query(
            "INSERT INTO attachment_blobs (sha256, bytes, size, stored_at, stored_by) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (sha256) DO NOTHING",
        )
        .bind(&sha256)
        .bind(&body[..])
        .bind(size)
        .bind(Timestamp::now().millis())
        .bind(principal.user.id.as_str())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
    });
    Ok((StatusCode::CREATED, Json(StoredAttachment { sha256, size: size as u64 })))
}

/// `GET /v1/attachments/{sha256}`: the bytes, to a user who reads a case that lists them.
#[utoipa::path(get, path = "/v1/attachments/{sha256}", security(("bearer" = [])),
    params(("sha256" = String, Path, description = "lower-case hex SHA-256")),
    responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_attachment(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Path(sha256): Path<String>,
) -> Result<Response> {
    if !valid_sha256(&sha256) {
        return Err(Error::NotFound);
    }
    let units = unit_tree(&state).await?;
    let Some(visibility) = Visibility::of(&principal.user, &units, 2) else { return Err(Error::NotFound) };
    let sql = format!(
        "SELECT b.bytes FROM attachment_blobs b WHERE b.sha256 = $1 AND EXISTS (SELECT 1 FROM \
         case_attachment_projection p JOIN case_access a ON a.case_id = p.case_id WHERE p.sha256 = $1 AND {})",
        visibility.condition
    );
    let bytes: Option<Vec<u8>> = with_read_pool!(state.store, |pool| {
        bind_all!(sqlx::query_scalar(&sql).bind(&sha256), &visibility.arguments).fetch_optional(pool).await?
    });
    let bytes = bytes.ok_or(Error::NotFound)?;
    Ok(([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response())
}

/// Whether `user` reads the unit `unit`'s figures: it is the user's unit or below it.
pub(crate) fn oversees(user: &User, unit: &str, units: &UnitTree) -> bool {
    units.get(unit).is_some() && units.is_within(unit, user.unit.as_str())
}

/// One unit of the user's county, for choosing a receiver by name.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UnitEntry {
    /// The unit id (code), e.g. `qingshan.sifa`.
    pub id: String,
    /// The Chinese name, e.g. `青山县司法局`.
    pub name: String,
    /// Unit kind code: `county`, `township`, `subdistrict`, `petition_bureau`, `justice_bureau`,
    /// `legal_office`.
    pub kind: String,
    pub parent: Option<String>,
    /// The tracks whose cases this unit may take custody of (the receivers of a handoff).
    pub tracks: Vec<String>,
}

/// The units of the user's county, the county first, then by id.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UnitDirectory {
    pub units: Vec<UnitEntry>,
}

/// `GET /v1/units`: the unit tree of the user's county with the tracks each unit receives, so
/// that a handoff names its receiver by name (the server checks the receiver again on ingest).
/// Units are no personal data: every authenticated user of the county reads them.
#[utoipa::path(get, path = "/v1/units", security(("bearer" = [])),
    responses((status = 200, body = UnitDirectory), (status = 401, body = crate::error::ErrorBody)))]
pub async fn units(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
) -> Result<Json<UnitDirectory>> {
    use fengqiao_schema::units::unit_kind_serves;
    use fengqiao_schema::vocab::Track;
    let tree = unit_tree(&state).await?;
    let root = tree.root_of(principal.user.unit.as_str()).to_string();
    let mut units: Vec<UnitEntry> = tree
        .subtree(&root)
        .into_iter()
        .map(|u| UnitEntry {
            id: u.id.as_str().to_string(),
            name: u.name.clone(),
            kind: u.kind.code().to_string(),
            parent: u.parent.as_ref().map(|p| p.as_str().to_string()),
            tracks: Track::ALL.iter().filter(|t| unit_kind_serves(u.kind, **t)).map(|t| t.code().to_string()).collect(),
        })
        .collect();
    units.sort_by(|a, b| (a.parent.is_some(), &a.id).cmp(&(b.parent.is_some(), &b.id)));
    Ok(Json(UnitDirectory { units }))
}
