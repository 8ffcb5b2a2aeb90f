//! CSV export of the case list (`GET /v1/cases.csv`): the same filters, visibility and order as
//! `GET /v1/cases` (`api::case_page`), with the parties read from each case's document, in UTF-8
//! with a byte-order mark (so that Excel opens the Chinese correctly), Chinese column headers and
//! labels, CRLF line ends.
//!
//! Personal data (PIPL; LAW.md §6) is masked unless the reader may see it under `schema::policy`:
//! only a reader who may write the case's `parties` section (`policy::can_write`, i.e. an officer
//! of the custodian unit in the custody track's role, who handles the parties) gets it in full.
//! Everyone else who reads the case in the list — supervisors, former custodians, the receiving
//! unit of a handoff — gets it masked: a natural person's name `张**`, ID number
//! `110***********1234`, address `东溪镇上村****`, and any phone `139****5678`; a person's name in
//! the case title is masked the same way. An organisation's name, credit code and address are public
//! registration data and are shown; its phone is masked too (it is often a person's). The last
//! column says which of the two the row is. Cells that a spreadsheet would run as a formula are
//! prefixed with `'`.

use std::fmt::Write as _;

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use fengqiao_schema::document::{Case, Party};
use fengqiao_schema::ids::CaseId;
use fengqiao_schema::policy;
use fengqiao_schema::units::{UnitTree, User};
use fengqiao_schema::vocab::*;

use crate::api::{case_page, unit_tree, CaseListItem, CaseQuery};
use crate::error::{Error, Result};
use crate::http::{AppState, Authenticated};
use crate::report::content_disposition;

/// Rows in one export when the request names no `limit`, and the most it gives; the rest follow
/// with the cursor in the `X-Next-Cursor` header.
const EXPORT_LIMIT: i64 = 10_000;

/// The header of the next page's cursor, when there is one.
pub const NEXT_CURSOR_HEADER: &str = "x-next-cursor";

const HEADERS: &[&str] = &[
    "案号",
    "案件名称",
    "类别",
    "办理渠道",
    "承办单位",
    "乡镇（街道）",
    "纠纷类型",
    "状态",
    "结果",
    "登记日期",
    "受理日期",
    "办结日期",
    "来源",
    "当事人",
    "证件号码",
    "联系电话",
    "住址",
    "个人信息",
];

/// `GET /v1/cases.csv`: the case list as CSV (UTF-8 with BOM), personal data masked unless the
/// reader handles the case.
#[utoipa::path(get, path = "/v1/cases.csv", params(CaseQuery), security(("bearer" = [])),
    responses(
        (status = 200, description = "UTF-8 CSV with a byte-order mark and Chinese headers; personal data masked \
            unless the reader may write the case's parties", content((String = "text/csv; charset=utf-8")),
            headers(("x-next-cursor" = String, description = "the cursor of the next page, when there is one"),
                ("content-disposition" = String, description = "file name, RFC 5987"))),
        (status = 400, body = crate::error::ErrorBody),
        (status = 401, body = crate::error::ErrorBody)))]
pub async fn cases_csv(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Query(query): Query<CaseQuery>,
) -> Result<Response> {
    let units = unit_tree(&state).await?;
    let limit = query.limit.unwrap_or(EXPORT_LIMIT).clamp(1, EXPORT_LIMIT);
    let page = case_page(&state.store, &principal.user, &units, &query, limit).await?;
    let mut csv = String::from("\u{feff}");
    push_row(&mut csv, HEADERS.iter().map(|h| h.to_string()));
    for item in &page.cases {
        let id = CaseId::parse(&item.id).map_err(|_| Error::internal("a listed case id does not parse"))?;
        let case = state
            .documents
            .with_document(id, autosurgeon::hydrate::<_, Case>)
            .await?
            .transpose()
            .map_err(|e| Error::internal(format!("a stored case does not hydrate: {e}")))?;
        push_row(&mut csv, row(item, case.as_ref(), &principal.user, &units));
    }
    let mut response = (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, content_disposition("attachment", "cases.csv", "案件清单.csv")),
        ],
        csv,
    )
        .into_response();
    if let Some(cursor) = page.next_cursor.and_then(|c| c.parse().ok()) {
        response.headers_mut().insert(NEXT_CURSOR_HEADER, cursor);
    }
    Ok(response)
}

/// One case's cells. `case` is `None` only if the document vanished since the list was read.
fn row(item: &CaseListItem, case: Option<&Case>, user: &User, units: &UnitTree) -> Vec<String> {
    let full = case.is_some_and(|c| policy::can_write(user, c, Section::Parties, units));
    let parties: &[Party] = case.map(|c| &c.parties[..]).unwrap_or_default();
    let unit_name = |id: &str| units.get(id).map(|u| u.name.clone()).unwrap_or_else(|| id.to_string());
    let track = item.track.as_deref().and_then(Track::from_code);
    let mut title = item.title.clone();
    if !full {
        for party in parties.iter().filter(|p| is_person(p) && !p.name.trim().is_empty()) {
            title = title.replace(party.name.trim(), &mask_name(party.name.trim()));
        }
    }
    let join = |field: &dyn Fn(&Party) -> String| {
        parties.iter().map(field).filter(|s| !s.is_empty()).collect::<Vec<_>>().join("；")
    };
    let names = join(&|p: &Party| {
        let role = p.role.map(|r| r.label()).unwrap_or("当事人");
        let name = if full || !is_person(p) { p.name.clone() } else { mask_name(&p.name) };
        if name.is_empty() {
            String::new()
        } else {
            format!("{role} {name}")
        }
    });
    let ids =
        join(&|p: &Party| if full || !is_person(p) { p.id_number.clone() } else { mask_middle(&p.id_number, 3, 4) });
    let phones = join(&|p: &Party| if full { p.phone.clone() } else { mask_middle(&p.phone, 3, 4) });
    let addresses = join(&|p: &Party| if full || !is_person(p) { p.address.clone() } else { mask_address(&p.address) });
    vec![
        item.case_number.clone(),
        title,
        label(item.kind.as_deref(), |c| CaseKind::from_code(c).map(CaseKind::label)),
        track.map(|t| t.label().to_string()).unwrap_or_default(),
        unit_name(&item.custody_unit),
        if item.township.is_empty() { String::new() } else { unit_name(&item.township) },
        label(item.dispute_type.as_deref(), |c| DisputeType::from_code(c).map(DisputeType::label)),
        if item.status == "concluded" { "已办结".to_string() } else { "办理中".to_string() },
        outcome_label(track, item.outcome.as_deref()),
        item.registered_on.clone().unwrap_or_default(),
        item.accepted_on.clone().unwrap_or_default(),
        item.concluded_on.clone().unwrap_or_default(),
        item.source
            .as_deref()
            .map(|s| {
                MediationSource::from_code(s)
                    .map(|v| v.label())
                    .or_else(|| Channel::from_code(s).map(|v| v.label()))
                    .unwrap_or(s)
                    .to_string()
            })
            .unwrap_or_default(),
        names,
        ids,
        phones,
        addresses,
        if full { "完整".to_string() } else { "已脱敏".to_string() },
    ]
}

/// A natural person, or a party whose kind was not recorded (treated as one).
fn is_person(party: &Party) -> bool {
    party.kind != Some(PartyKind::Organisation)
}

/// The label of a code, or the code itself when the vocabulary does not know it.
fn label(code: Option<&str>, label_of: impl Fn(&str) -> Option<&'static str>) -> String {
    code.map(|c| label_of(c).unwrap_or(c).to_string()).unwrap_or_default()
}

/// The outcome code read in the vocabulary of the case's track.
fn outcome_label(track: Option<Track>, code: Option<&str>) -> String {
    let Some(code) = code else { return String::new() };
    let found = match track {
        Some(Track::Mediation) | None => MediationResult::from_code(code).map(|v| v.label()),
        Some(Track::Petition) => PetitionResult::from_code(code)
            .map(|v| v.label())
            .or_else(|| PetitionIntake::from_code(code).map(|v| v.label())),
        Some(Track::Reconsideration) => ReconsiderationDecision::from_code(code)
            .map(|v| v.label())
            .or_else(|| ReconsiderationIntake::from_code(code).map(|v| v.label())),
        Some(Track::Litigation) => LitigationOutcome::from_code(code).map(|v| v.label()),
    };
    found.unwrap_or(code).to_string()
}

/// `张**`: the first character, a star for each of the others.
pub fn mask_name(name: &str) -> String {
    let mut chars = name.trim().chars();
    match chars.next() {
        Some(first) => {
            let rest = chars.count().max(1);
            format!("{first}{}", "*".repeat(rest))
        }
        None => String::new(),
    }
}

/// `110***********1234`: the first `head` and last `tail` characters kept when at least four
/// characters are masked between them; otherwise every character is masked.
pub fn mask_middle(text: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = text.trim().chars().collect();
    if chars.is_empty() {
        return String::new();
    }
    if chars.len() < head + tail + 4 {
        return "*".repeat(chars.len());
    }
    let middle = chars.len() - head - tail;
    format!(
        "{}{}{}",
        chars[..head].iter().collect::<String>(),
        "*".repeat(middle),
        chars[chars.len() - tail..].iter().collect::<String>()
    )
}

/// `东溪镇上村****`: at most the first six characters and never more than half the address.
pub fn mask_address(address: &str) -> String {
    let chars: Vec<char> = address.trim().chars().collect();
    if chars.is_empty() {
        return String::new();
    }
    let keep = (chars.len() / 2).min(6);
    format!("{}****", chars[..keep].iter().collect::<String>())
}

/// Appends one CSV record (RFC 4180 quoting, CRLF), with formula-like cells defused.
fn push_row(csv: &mut String, cells: impl IntoIterator<Item = String>) {
    for (i, cell) in cells.into_iter().enumerate() {
        if i > 0 {
            csv.push(',');
        }
        let cell = if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{cell}") } else { cell };
        if cell.contains([',', '"', '\n', '\r']) {
            let _ = write!(csv, "\"{}\"", cell.replace('"', "\"\""));
        } else {
            csv.push_str(&cell);
        }
    }
    csv.push_str("\r\n");
}
