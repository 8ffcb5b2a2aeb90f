//! Supervisor statistics (`GET /v1/stats`, LAW.md §4): every rate for a unit and the units below
//! it over a period, with numerator and denominator, built from the projection tables as the fact
//! records of `fengqiao_schema::rates` and computed by `RateReport::compute`; counts by track,
//! dispute type, source and outcome; overdue and due-soon deadlines; a month-by-month trend; a
//! per-township table. Aggregates only: no names, ID numbers, phones or addresses (a test scans
//! the response for the parties' personal data).
//!
//! Which cases a rate counts in the period `[from, to]`:
//! - mediation success: mediations whose result is dated in the period;
//! - correction rates: reconsiderations decided in the period;
//! - head appearance: lawsuits whose first hearing is in the period; loss rate: first-instance
//!   lawsuits judged in the period;
//! - on time: handling deadlines (mediation period, petition handling, reconsideration decision)
//!   met in the period, or past due within it and not met, as of `min(to, today)`;
//! - timely acceptance: petition acceptance notices whose clock started in the period;
//! - satisfaction: rated cases concluded in the period.
//!
//! A case belongs to a unit's figures when its township or its custody unit is that unit or below it.

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::{Query, State};
use axum::Json;
use fengqiao_schema::clocks::Rule;
use fengqiao_schema::rates::{
    AcceptanceFacts, Attendance, DeadlineFacts, LawsuitFacts, MediationFacts, Rate, RateConfig, RateKind, RateRecords,
    RateReport, ReconsiderationFacts, Timeliness,
};
use fengqiao_schema::time::LegalDate;
use fengqiao_schema::vocab::{Instance, LitigationOutcome, MediationResult, ReconsiderationDecision, Role, Satisfaction, UnitKind};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use utoipa::{IntoParams, ToSchema};

use crate::api::{oversees, today, unit_tree};
use crate::error::{Error, Result};
use crate::http::{AppState, Authenticated};
use crate::store::access::bind_all;
use crate::store::documents::case_id_from_row;
use crate::store::projections::attendance_from_code;
use crate::store::with_read_pool;

/// Deadlines listed as due soon when they fall within this many days of today.
const DUE_SOON_DAYS: i64 = 7;

/// The rules whose deadline is the case's handling period, for 按期办结率.
const HANDLING_RULES: &[Rule] = &[Rule::MediationPeriod, Rule::PetitionHandling, Rule::ReconsiderationDecision];

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    /// The unit whose figures (with those of the units below it) are asked for.
    pub unit: String,
    /// First day of the period, `YYYY-MM-DD`.
    pub from: String,
    /// Last day of the period, `YYYY-MM-DD`.
    pub to: String,
}

/// A rate with its counts, as `fengqiao_schema::rates::Rate` writes itself in JSON.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RateView {
    pub numerator: u64,
    pub denominator: u64,
    /// Hundredths of a percent, rounded half up; absent when nothing was counted.
    pub percent_2dp: Option<u16>,
    /// `98.87%`; absent when nothing was counted.
    pub percent: Option<String>,
}

impl From<Rate> for RateView {
    fn from(rate: Rate) -> RateView {
        RateView {
            numerator: rate.numerator(),
            denominator: rate.denominator(),
            percent_2dp: rate.percent_2dp(),
            percent: rate.percent_2dp().map(|_| rate.to_string()),
        }
    }
}

/// One rate of LAW.md §4.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RateRow {
    /// Stable code, e.g. `mediation_success`.
    pub code: String,
    pub label: String,
    #[serde(flatten)]
    pub rate: RateView,
}

fn rate_rows(report: &RateReport, kinds: &[RateKind]) -> Vec<RateRow> {
    kinds
        .iter()
        .map(|&kind| RateRow { code: kind.code().to_string(), label: kind.label().to_string(), rate: report.get(kind).into() })
        .collect()
}

/// A deadline in the overdue or due-soon list: no personal data.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeadlineItem {
    pub case_number: String,
    pub track: String,
    pub rule: String,
    pub due_on: String,
}

/// One month of the trend.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MonthRates {
    /// `YYYY-MM`.
    pub month: String,
    pub rates: Vec<RateRow>,
}

/// One township's row.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TownshipRow {
    pub township: String,
    pub name: String,
    /// Cases registered in the period.
    pub registered: u64,
    pub concluded: u64,
    pub mediation_success: RateView,
    pub on_time: RateView,
}

/// The answer of `GET /v1/stats`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Stats {
    pub unit: String,
    pub from: String,
    pub to: String,
    /// Today by the server's clock: what overdue and due soon are measured against.
    pub today: String,
    pub rates: Vec<RateRow>,
    /// Cases registered in the period, by code (`""` when not recorded).
    pub by_track: BTreeMap<String, u64>,
    pub by_dispute_type: BTreeMap<String, u64>,
    pub by_source: BTreeMap<String, u64>,
    /// Cases concluded in the period, by outcome code.
    pub by_outcome: BTreeMap<String, u64>,
    pub overdue: Vec<DeadlineItem>,
    pub due_soon: Vec<DeadlineItem>,
    pub trend: Vec<MonthRates>,
    pub townships: Vec<TownshipRow>,
}

/// What the statistics read of one case.
struct CaseFacts {
    case_id: Vec<u8>,
    case_number: String,
    track: Option<String>,
    township: String,
    dispute_type: Option<String>,
    status: String,
    outcome: Option<String>,
    registered_on: Option<LegalDate>,
    concluded_on: Option<LegalDate>,
    source: Option<String>,
    restricted: bool,
    mediation_result: Option<MediationResult>,
    mediation_result_on: Option<LegalDate>,
    reconsideration_decision: Option<ReconsiderationDecision>,
    reconsideration_decided_on: Option<LegalDate>,
    litigation_instance: Option<Instance>,
    litigation_attendance: Option<Attendance>,
    litigation_outcome: Option<LitigationOutcome>,
    litigation_heard_on: Option<LegalDate>,
    litigation_judged_on: Option<LegalDate>,
    satisfaction: Option<Satisfaction>,
}

struct DeadlineFact {
    case_id: Vec<u8>,
    rule: String,
    track: String,
    duty: bool,
    start_on: LegalDate,
    due_on: LegalDate,
    met_on: Option<LegalDate>,
    suspended: bool,
}

fn date(text: Option<String>) -> Option<LegalDate> {
    text.and_then(|t| t.parse().ok())
}

fn within(day: Option<LegalDate>, from: LegalDate, to: LegalDate) -> bool {
    day.is_some_and(|d| d >= from && d <= to)
}

/// The fact records of the cases in scope, for the period `[from, to]` as of `as_of`.
fn records(cases: &[&CaseFacts], deadlines: &[&DeadlineFact], from: LegalDate, to: LegalDate, as_of: LegalDate) -> RateRecords {
    let mut records = RateRecords::default();
    for c in cases {
        if within(c.mediation_result_on, from, to) {
            records.mediations.push(MediationFacts { result: c.mediation_result });
        }
        if within(c.reconsideration_decided_on, from, to) {
            records.reconsiderations.push(ReconsiderationFacts { decision: c.reconsideration_decision });
        }
        if let Some(instance) = c.litigation_instance {
            let heard = within(c.litigation_heard_on, from, to);
            let judged = within(c.litigation_judged_on, from, to);
            if heard || judged {
                records.lawsuits.push(LawsuitFacts {
                    instance,
                    attendance: if heard { c.litigation_attendance.unwrap_or(Attendance::NotHeard) } else { Attendance::NotHeard },
                    outcome: if judged { c.litigation_outcome } else { None },
                });
            }
        }
        if c.satisfaction.is_some() && within(c.concluded_on, from, to) {
            records.ratings.push(c.satisfaction);
        }
    }
    for d in deadlines {
        if d.suspended {
            continue;
        }
        if HANDLING_RULES.iter().any(|r| r.code() == d.rule) {
            let counted = within(d.met_on, from, to) || (d.met_on.is_none() && d.due_on >= from && d.due_on < as_of);
            if counted {
                records.deadlines.push(DeadlineFacts { conclusion: Timeliness::assess(d.due_on, d.met_on, as_of) });
            }
        }
        if d.rule == Rule::PetitionAcceptanceNotice.code() && within(Some(d.start_on), from, to) {
            records.acceptances.push(AcceptanceFacts { decision: Timeliness::assess(d.due_on, d.met_on, as_of) });
        }
    }
    records
}

/// The main rates of the month-by-month trend.
const TREND_RATES: &[RateKind] =
    &[RateKind::MediationSuccess, RateKind::ComprehensiveCorrection, RateKind::HeadAppearance, RateKind::OnTime];

fn month_end(year: i32, month: u32) -> LegalDate {
    let (ny, nm) = if month == 12 { (year + 1, 1) } else { (year, month + 1) };
    LegalDate::from(LegalDate::ymd(ny, nm, 1).date() - chrono::Duration::days(1))
}

/// `GET /v1/stats?unit=X&from=YYYY-MM-DD&to=YYYY-MM-DD`, for supervisors of the unit or above it.
#[utoipa::path(get, path = "/v1/stats", params(StatsQuery), security(("bearer" = [])),
    responses((status = 200, body = Stats), (status = 400, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody)))]
pub async fn stats(
    State(state): State<AppState>,
    Authenticated(principal): Authenticated,
    Query(query): Query<StatsQuery>,
) -> Result<Json<Stats>> {
    use chrono::Datelike;
    let bad_date = || Error::BadRequest("日期应写作 YYYY-MM-DD".to_string());
    let from: LegalDate = query.from.parse().map_err(|_| bad_date())?;
    let to: LegalDate = query.to.parse().map_err(|_| bad_date())?;
    if from > to {
        return Err(Error::BadRequest("统计起始日期不能晚于截止日期".to_string()));
    }
    let units = unit_tree(&state).await?;
    let user = &principal.user;
    if !user.has_role(Role::Supervisor) || !oversees(user, &query.unit, &units) {
        return Err(Error::Forbidden);
    }
    let scope: Vec<String> = units.subtree(&query.unit).into_iter().map(|u| u.id.as_str().to_string()).collect();
    let list = (1..=scope.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
    let case_sql = format!(
        "SELECT case_id, case_number, track, township, dispute_type, status, outcome, registered_on, concluded_on, \
         source, restricted, mediation_result, mediation_result_on, reconsideration_decision, \
         reconsideration_decided_on, litigation_instance, litigation_attendance, litigation_outcome, \
         litigation_heard_on, litigation_judged_on, satisfaction FROM case_projection \
         WHERE township IN ({list}) OR custody_unit IN ({list}) ORDER BY case_id"
    );
    let cases: Vec<CaseFacts> = with_read_pool!(state.store, |pool| {
        bind_all!(sqlx::query(&case_sql), &scope)
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(|row| {
                let code = |i: usize| -> Result<Option<String>, sqlx::Error> { row.try_get(i) };
                Ok(CaseFacts {
                    case_id: row.try_get(0)?,
                    case_number: row.try_get(1)?,
                    track: code(2)?,
                    township: row.try_get(3)?,
                    dispute_type: code(4)?,
                    status: row.try_get(5)?,
                    outcome: code(6)?,
                    registered_on: date(code(7)?),
                    concluded_on: date(code(8)?),
                    source: code(9)?,
                    restricted: row.try_get(10)?,
                    mediation_result: code(11)?.and_then(|c| MediationResult::from_code(&c)),
                    mediation_result_on: date(code(12)?),
                    reconsideration_decision: code(13)?.and_then(|c| ReconsiderationDecision::from_code(&c)),
                    reconsideration_decided_on: date(code(14)?),
                    litigation_instance: code(15)?.and_then(|c| Instance::from_code(&c)),
                    litigation_attendance: code(16)?.and_then(|c| attendance_from_code(&c)),
                    litigation_outcome: code(17)?.and_then(|c| LitigationOutcome::from_code(&c)),
                    litigation_heard_on: date(code(18)?),
                    litigation_judged_on: date(code(19)?),
                    satisfaction: code(20)?.and_then(|c| Satisfaction::from_code(&c)),
                })
            })
            .collect::<Result<_, sqlx::Error>>()?
    });
    let deadline_sql = format!(
        "SELECT d.case_id, d.rule, d.track, d.duty, d.start_on, d.due_on, d.met_on, d.suspended \
         FROM deadline_projection d JOIN case_projection c ON c.case_id = d.case_id \
         WHERE c.township IN ({list}) OR c.custody_unit IN ({list}) ORDER BY d.due_on, d.case_id"
    );
    let deadlines: Vec<DeadlineFact> = with_read_pool!(state.store, |pool| {
        bind_all!(sqlx::query(&deadline_sql), &scope)
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(|row| {
                let start: String = row.try_get(4)?;
                let due: String = row.try_get(5)?;
                Ok(DeadlineFact {
                    case_id: row.try_get(0)?,
                    rule: row.try_get(1)?,
                    track: row.try_get(2)?,
                    duty: row.try_get(3)?,
                    start_on: start.parse().unwrap_or(LegalDate::ymd(1970, 1, 1)),
                    due_on: due.parse().unwrap_or(LegalDate::ymd(1970, 1, 1)),
                    met_on: date(row.try_get(6)?),
                    suspended: row.try_get(7)?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()?
    });
    for c in &cases {
        // Read the ids once so a corrupt row is noticed rather than silently counted.
        case_id_from_row(&c.case_id)?;
    }

    let today = today();
    let as_of = to.min(today);
    let config = RateConfig::default();
    let all_cases: Vec<&CaseFacts> = cases.iter().collect();
    let all_deadlines: Vec<&DeadlineFact> = deadlines.iter().collect();
    let report = RateReport::compute(&config, &records(&all_cases, &all_deadlines, from, to, as_of));

    let mut by_track = BTreeMap::new();
    let mut by_dispute_type = BTreeMap::new();
    let mut by_source = BTreeMap::new();
    let mut by_outcome = BTreeMap::new();
    for c in &cases {
        if within(c.registered_on, from, to) {
            *by_track.entry(c.track.clone().unwrap_or_default()).or_insert(0) += 1;
            *by_dispute_type.entry(c.dispute_type.clone().unwrap_or_default()).or_insert(0) += 1;
            *by_source.entry(c.source.clone().unwrap_or_default()).or_insert(0) += 1;
        }
        if c.status == "concluded" && within(c.concluded_on, from, to) {
            *by_outcome.entry(c.outcome.clone().unwrap_or_default()).or_insert(0) += 1;
        }
    }

    // Open duty deadlines of the case's current track; restricted cases are left out of the lists.
    let by_id: BTreeMap<&[u8], &CaseFacts> = cases.iter().map(|c| (&c.case_id[..], c)).collect();
    let horizon = LegalDate::from(today.date() + chrono::Duration::days(DUE_SOON_DAYS));
    let mut overdue = Vec::new();
    let mut due_soon = Vec::new();
    for d in &deadlines {
        let Some(c) = by_id.get(&d.case_id[..]) else { continue };
        if !d.duty || d.suspended || d.met_on.is_some() || c.restricted || c.track.as_deref() != Some(d.track.as_str()) {
            continue;
        }
        let item = DeadlineItem {
            case_number: c.case_number.clone(),
            track: d.track.clone(),
            rule: d.rule.clone(),
            due_on: d.due_on.to_string(),
        };
        if d.due_on < today {
            overdue.push(item);
        } else if d.due_on <= horizon {
            due_soon.push(item);
        }
    }

    let mut trend = Vec::new();
    let (mut year, mut month) = (from.date().year(), from.date().month());
    while LegalDate::ymd(year, month, 1) <= to {
        let start = LegalDate::ymd(year, month, 1).max(from);
        let end = month_end(year, month).min(to);
        let month_report =
            RateReport::compute(&config, &records(&all_cases, &all_deadlines, start, end, end.min(today)));
        trend.push(MonthRates { month: format!("{year:04}-{month:02}"), rates: rate_rows(&month_report, TREND_RATES) });
        (year, month) = if month == 12 { (year + 1, 1) } else { (year, month + 1) };
    }

    let townships: BTreeSet<String> = units
        .subtree(&query.unit)
        .into_iter()
        .filter(|u| matches!(u.kind, UnitKind::Township | UnitKind::Subdistrict))
        .map(|u| u.id.as_str().to_string())
        .collect();
    let townships = townships
        .into_iter()
        .map(|township| {
            let in_town: Vec<&CaseFacts> = cases.iter().filter(|c| c.township == township).collect();
            let ids: BTreeSet<&[u8]> = in_town.iter().map(|c| &c.case_id[..]).collect();
            let town_deadlines: Vec<&DeadlineFact> =
                deadlines.iter().filter(|d| ids.contains(&d.case_id[..])).collect();
            let town_report = RateReport::compute(&config, &records(&in_town, &town_deadlines, from, to, as_of));
            TownshipRow {
                name: units.get(&township).map(|u| u.name.clone()).unwrap_or_default(),
                registered: in_town.iter().filter(|c| within(c.registered_on, from, to)).count() as u64,
                concluded: in_town.iter().filter(|c| c.status == "concluded" && within(c.concluded_on, from, to)).count()
                    as u64,
                mediation_success: town_report.mediation_success.into(),
                on_time: town_report.on_time.into(),
                township,
            }
        })
        .collect();

    Ok(Json(Stats {
        unit: query.unit,
        from: from.to_string(),
        to: to.to_string(),
        today: today.to_string(),
        rates: rate_rows(&report, RateKind::ALL),
        by_track,
        by_dispute_type,
        by_source,
        by_outcome,
        overdue,
        due_soon,
        trend,
        townships,
    }))
}
