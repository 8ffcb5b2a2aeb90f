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
//!
//! The database does the counting, and reads little to do it: the whole months of the period come
//! from `stats_rollup` (migrations 0006 and 0007), counts kept by triggers on the projection tables
//! in the same transaction as each commit, by family of facts, month, township, custody unit and
//! codes. Each breakdown the statistics read has a family of its own (registrations by track and
//! kind, by dispute type, by source; mediations by result and source, by result and dispute type;
//! lawsuits by the month heard, by the month judged; …), so that a county over two years reads
//! some thirty thousand rollup rows, not a hundred thousand. The days of a partial first or last
//! month and the open deadlines are counted from the projection rows over covering indexes keyed
//! by their dates (migrations 0005 and 0007). What depends on the day asked — a handling deadline
//! recorded as met after today, an acceptance notice not met by `min(to, today)` — is moved to how
//! it reads that day from the deadline rows themselves. Only the groups (by township, code and
//! month) come back, turned into fact records with their multiplicity for `RateReport::compute`,
//! so the work does not grow with the number of cases; `make bench` times it over 1,000,000 cases
//! (a county over two years in well under 200 ms). The overdue and due-soon lists carry the 100
//! most urgent deadlines each, with their totals.

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
use utoipa::{IntoParams, ToSchema};

use fengqiao_schema::units::UnitTree;

use crate::api::{oversees, today, unit_tree};
use crate::error::{Error, Result};
use crate::http::{AppState, Authenticated};
use crate::store::access::bind_all;
use crate::store::projections::attendance_from_code;
use crate::store::{with_read_pool, Store};

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
    /// Open duty deadlines past due, of cases not restricted.
    pub overdue_total: u64,
    /// The most urgent of them (earliest due first), at most 100.
    pub overdue: Vec<DeadlineItem>,
    /// Open duty deadlines due from today to seven days on.
    pub due_soon_total: u64,
    /// The most urgent of them (earliest due first), at most 100.
    pub due_soon: Vec<DeadlineItem>,
    pub trend: Vec<MonthRates>,
    pub townships: Vec<TownshipRow>,
}

/// Counts of cases (or deadlines) that read the same, grouped by the database: what the statistics
/// read instead of one row per case, so that the work sent to the application does not grow with
/// the number of cases. Months are `YYYY-MM`, within the period asked for.
#[derive(Default)]
struct Aggregates {
    /// (township, result, month of the result) → n.
    mediations: Vec<(String, Option<MediationResult>, String, u64)>,
    /// (decision, month decided) → n.
    reconsiderations: Vec<(Option<ReconsiderationDecision>, String, u64)>,
    /// Lawsuits heard in the period: (instance, attendance, month of the first hearing) → n. The
    /// head-appearance rate reads only the attendance of a lawsuit heard in the period, and the
    /// loss rate only the outcome of one judged in it, so a lawsuit heard and judged in the period
    /// counts as one fact of each (the one heard with no outcome, the one judged not heard): the
    /// rates are those of one fact with both.
    heard: Vec<(Instance, Option<Attendance>, String, u64)>,
    /// Lawsuits judged in the period: (instance, outcome, month judged) → n.
    judged: Vec<(Instance, Option<LitigationOutcome>, String, u64)>,
    /// (rating, month concluded) → n.
    ratings: Vec<(Option<Satisfaction>, String, u64)>,
    /// Handling deadlines met in the period: (township, month met, met by the due day, the due day
    /// when the day met is after today) → n.
    handled_met: Vec<(String, String, bool, Option<LegalDate>, u64)>,
    /// Handling deadlines not met, due from `from` to before `min(to, today)`: (township, due day) → n.
    handled_open: Vec<(String, LegalDate, u64)>,
    /// Petition acceptance notices whose clock started in the period, as of `min(to, today)`.
    acceptances: Vec<(Timeliness, u64)>,
}

fn date(text: &str) -> Option<LegalDate> {
    text.parse().ok()
}

/// Every rate of LAW.md §4 is a tally (each fact counts once or not at all in its numerator and
/// its denominator), so facts that read the same count as one fact's report times how many they
/// are: the report is the sum over the groups, never one record per case.
struct Tally<'a> {
    config: &'a RateConfig,
    report: RateReport,
}

impl<'a> Tally<'a> {
    fn new(config: &'a RateConfig) -> Tally<'a> {
        Tally { config, report: RateReport::compute(config, &RateRecords::default()) }
    }

    /// Adds `n` facts that read as `one` (a single fact) does.
    fn add(&mut self, one: RateRecords, n: u64) {
        if n == 0 {
            return;
        }
        let r = RateReport::compute(self.config, &one);
        let times = |rate: Rate| {
            Rate::new(rate.numerator() * n, rate.denominator() * n).expect("a tally times a count is a tally")
        };
        let t = &mut self.report;
        t.mediation_success = t.mediation_success + times(r.mediation_success);
        t.comprehensive_correction = t.comprehensive_correction + times(r.comprehensive_correction);
        t.direct_correction = t.direct_correction + times(r.direct_correction);
        t.head_appearance = t.head_appearance + times(r.head_appearance);
        t.lawsuit_loss = t.lawsuit_loss + times(r.lawsuit_loss);
        t.on_time = t.on_time + times(r.on_time);
        t.timely_acceptance = t.timely_acceptance + times(r.timely_acceptance);
        t.satisfaction = t.satisfaction + times(r.satisfaction);
    }
}

/// The rates of the aggregates' fact records for a sub-period: all of it (`month` `None`) or one month of
/// it, of one township or all; `start` and `as_of` bound the open deadlines counted as overdue.
/// Only mediations and handling deadlines are kept by township (what the township table shows).
fn records(
    config: &RateConfig,
    agg: &Aggregates,
    town: Option<&str>,
    month: Option<&str>,
    start: LegalDate,
    as_of: LegalDate,
) -> RateReport {
    let in_month = |m: &str| month.is_none_or(|want| want == m);
    let in_town = |t: &str| town.is_none_or(|want| want == t);
    let mut records = Tally::new(config);
    for (t, result, m, n) in &agg.mediations {
        if in_town(t) && in_month(m) {
            records.add(RateRecords { mediations: vec![MediationFacts { result: *result }], ..RateRecords::default() }, *n);
        }
    }
    for (t, m, on_time, future_due, n) in &agg.handled_met {
        if in_town(t) && in_month(m) {
            let conclusion = match future_due {
                // Recorded as met on a day after today: not met yet as of `as_of`.
                Some(due) => Timeliness::assess(*due, None, as_of),
                None if *on_time => Timeliness::OnTime,
                None => Timeliness::Late,
            };
            records.add(RateRecords { deadlines: vec![DeadlineFacts { conclusion }], ..RateRecords::default() }, *n);
        }
    }
    for (t, due, n) in &agg.handled_open {
        if in_town(t) && *due >= start && *due < as_of {
            records.add(RateRecords { deadlines: vec![DeadlineFacts { conclusion: Timeliness::Overdue }], ..RateRecords::default() }, *n);
        }
    }
    if town.is_some() {
        return records.report;
    }
    for (decision, m, n) in &agg.reconsiderations {
        if in_month(m) {
            records.add(RateRecords { reconsiderations: vec![ReconsiderationFacts { decision: *decision }], ..RateRecords::default() }, *n);
        }
    }
    for (instance, attendance, m, n) in &agg.heard {
        if in_month(m) {
            let attendance = attendance.unwrap_or(Attendance::NotHeard);
            let facts = LawsuitFacts { instance: *instance, attendance, outcome: None };
            records.add(RateRecords { lawsuits: vec![facts], ..RateRecords::default() }, *n);
        }
    }
    for (instance, outcome, m, n) in &agg.judged {
        if in_month(m) {
            let facts = LawsuitFacts { instance: *instance, attendance: Attendance::NotHeard, outcome: *outcome };
            records.add(RateRecords { lawsuits: vec![facts], ..RateRecords::default() }, *n);
        }
    }
    for (rating, m, n) in &agg.ratings {
        if in_month(m) {
            records.add(RateRecords { ratings: vec![*rating], ..RateRecords::default() }, *n);
        }
    }
    if month.is_none() {
        for (decision, n) in &agg.acceptances {
            records.add(RateRecords { acceptances: vec![AcceptanceFacts { decision: *decision }], ..RateRecords::default() }, *n);
        }
    }
    records.report
}

/// The main rates of the month-by-month trend.
const TREND_RATES: &[RateKind] =
    &[RateKind::MediationSuccess, RateKind::ComprehensiveCorrection, RateKind::HeadAppearance, RateKind::OnTime];

fn month_end(year: i32, month: u32) -> LegalDate {
    let (ny, nm) = if month == 12 { (year + 1, 1) } else { (year, month + 1) };
    LegalDate::from(LegalDate::ymd(ny, nm, 1).date() - chrono::Duration::days(1))
}

/// At most this many deadlines are listed as overdue, and as many as due soon (the most urgent);
/// the totals say how many there are.
const LISTED: usize = 100;

/// How a period reads from the rollups (migrations 0006, 0007): its whole months from `stats_rollup`,
/// the days of a partial first or last month from the projection rows.
struct Span {
    /// First and last whole month, `YYYY-MM`.
    months: Option<(String, String)>,
    /// First and last day of those months.
    days: Option<(String, String)>,
    /// The ranges of days (inclusive) outside whole months.
    edges: Vec<(String, String)>,
}

impl Span {
    fn of(from: LegalDate, to: LegalDate) -> Span {
        use chrono::Datelike;
        let day = chrono::Duration::days(1);
        let first = if from.date().day() == 1 {
            from
        } else {
            let end = month_end(from.date().year(), from.date().month());
            LegalDate::from(end.date() + day)
        };
        let last_end = if month_end(to.date().year(), to.date().month()) == to {
            to
        } else {
            LegalDate::from(LegalDate::ymd(to.date().year(), to.date().month(), 1).date() - day)
        };
        if first > last_end {
            return Span { months: None, days: None, edges: vec![(from.to_string(), to.to_string())] };
        }
        let mut edges = Vec::new();
        if from < first {
            edges.push((from.to_string(), LegalDate::from(first.date() - day).to_string()));
        }
        if last_end < to {
            edges.push((LegalDate::from(last_end.date() + day).to_string(), to.to_string()));
        }
        let month = |d: LegalDate| d.to_string()[..7].to_string();
        Span {
            months: Some((month(first), month(last_end))),
            days: Some((first.to_string(), last_end.to_string())),
            edges,
        }
    }
}

/// `e1 AS g1, e2 AS g2, …`: the columns of one branch of a [`summed`] union.
fn aliased(columns: &[&str]) -> String {
    columns.iter().enumerate().map(|(i, c)| format!("{c} AS g{}", i + 1)).collect::<Vec<_>>().join(", ")
}

/// The counts of a union of branches (each its `keys` columns and a count `n`), summed by key;
/// groups that sum to nothing (rollup rows gone to zero) are left out.
fn summed(keys: usize, parts: &[String]) -> String {
    let columns = (1..=keys).map(|i| format!("g{i}")).collect::<Vec<_>>().join(", ");
    format!(
        "SELECT {columns}, CAST(SUM(n) AS BIGINT) FROM ({}) u GROUP BY {columns} HAVING SUM(n) <> 0",
        parts.join(" UNION ALL ")
    )
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
    let bad_date = || Error::BadRequest("日期应写作 YYYY-MM-DD".to_string());
    let from: LegalDate = query.from.parse().map_err(|_| bad_date())?;
    let to: LegalDate = query.to.parse().map_err(|_| bad_date())?;
    if from > to {
        return Err(Error::BadRequest("统计起始日期不能晚于截止日期".to_string()));
    }
    let units = unit_tree(&state).await?;
    authorize_supervisor(&principal.user, &query.unit, &units)?;
    Ok(Json(unit_stats(&state.store, &units, &query.unit, from, to, today()).await?))
}

/// Only a supervisor of `unit` or of a unit above it reads `unit`'s figures.
pub fn authorize_supervisor(user: &fengqiao_schema::units::User, unit: &str, units: &UnitTree) -> Result<()> {
    if !user.has_role(Role::Supervisor) || !oversees(user, unit, units) {
        return Err(Error::Forbidden);
    }
    Ok(())
}

/// The figures of `unit` and the units below it for the period `[from, to]`, with overdue and
/// due soon measured against `today`: what `GET /v1/stats` answers (after checking the reader),
/// and what the dashboard benchmark times.
pub async fn unit_stats(
    store: &Store,
    units: &UnitTree,
    unit: &str,
    from: LegalDate,
    to: LegalDate,
    today: LegalDate,
) -> Result<Stats> {
    Ok(unit_figures(store, units, unit, from, to, today).await?.stats)
}

/// [`Stats`] and the few further counts the annual report (`crate::report`) quotes, from the same
/// queries in the same pass. Aggregates only.
#[derive(Debug, Clone)]
pub struct Figures {
    pub stats: Stats,
    /// Cases registered in the period, by the kind they were opened as (`dispute`, `petition`):
    /// a petition handed to another track still counts as a petition received.
    pub registered_by_kind: BTreeMap<String, u64>,
    /// Reconsiderations decided in the period, by decision code.
    pub reconsideration_decisions: BTreeMap<String, u64>,
    /// Mediations with a result (success or failure) dated in the period, by source code.
    pub mediated_by_source: BTreeMap<String, u64>,
    /// The same mediations, by dispute type code (`""` when not recorded).
    pub mediated_by_dispute_type: BTreeMap<String, u64>,
}

/// See [`unit_stats`] and [`Figures`].
pub async fn unit_figures(
    store: &Store,
    units: &UnitTree,
    unit: &str,
    from: LegalDate,
    to: LegalDate,
    today: LegalDate,
) -> Result<Figures> {
    use chrono::Datelike;
    let scope: Vec<String> = units.subtree(unit).into_iter().map(|u| u.id.as_str().to_string()).collect();
    // The scope's ids are the query's parameters `$1`, `$2`, …; dates and months are written into
    // the SQL as literals (they are `LegalDate`s, formatted by us).
    let list = (1..=scope.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
    let in_scope = |alias: &str| {
        // COALESCE (a no-op on these NOT NULL columns) keeps SQLite from answering the OR through the
        // unit indexes and then visiting every case of the scope; the date-keyed covering indexes
        // (migration 0005) read only the period.
        format!("(COALESCE({alias}township, '') IN ({list}) OR COALESCE({alias}custody_unit, '') IN ({list}))")
    };
    let as_of = to.min(today);
    let span = Span::of(from, to);
    let (from_s, today_s, as_of_s) = (from.to_string(), today.to_string(), as_of.to_string());
    let handling = HANDLING_RULES.iter().map(|r| format!("'{}'", r.code())).collect::<Vec<_>>().join(", ");
    let acceptance_rule = Rule::PetitionAcceptanceNotice.code();
    let n = |count: i64| u64::try_from(count).unwrap_or(0);
    // The rollup rows of a family for the whole months of the period.
    let rolled = |family: &str, columns: &[&str], extra: &str| -> Option<String> {
        let (first, last) = span.months.as_ref()?;
        Some(format!(
            "SELECT {}, n FROM stats_rollup WHERE family = '{family}' AND month >= '{first}' AND month <= '{last}' \
             AND {}{extra}",
            aliased(columns),
            in_scope("")
        ))
    };
    // The projection rows of the period's partial months, one branch per range of days.
    let partial = |columns: &[&str], from_table: &str, column: &str, condition: &str| -> Vec<String> {
        span.edges
            .iter()
            .map(|(a, b)| {
                format!("SELECT {}, 1 AS n FROM {from_table} WHERE {column} >= '{a}' AND {column} <= '{b}' AND {condition}", aliased(columns))
            })
            .collect()
    };

    // Cases registered in the period: by township, track and kind; by dispute type; by source.
    let registered: Vec<(String, String, String, i64)> = with_read_pool!(store, |pool| {
        let mut parts: Vec<String> = rolled("registered_track", &["township", "k1", "k2"], "").into_iter().collect();
        parts.extend(partial(
            &["township", "COALESCE(track, '')", "COALESCE(kind, '')"],
            "case_projection",
            "registered_on",
            &in_scope(""),
        ));
        let sql = summed(3, &parts);
        bind_all!(sqlx::query_as(&sql), &scope).fetch_all(pool).await?
    });
    let registered_by = |family: &str, column: &str| {
        let mut parts: Vec<String> = rolled(family, &["k1"], "").into_iter().collect();
        let code = format!("COALESCE({column}, '')");
        parts.extend(partial(&[&code], "case_projection", "registered_on", &in_scope("")));
        summed(1, &parts)
    };
    let registered_types: Vec<(String, i64)> = with_read_pool!(store, |pool| {
        let sql = registered_by("registered_type", "dispute_type");
        bind_all!(sqlx::query_as(&sql), &scope).fetch_all(pool).await?
    });
    let registered_sources: Vec<(String, i64)> = with_read_pool!(store, |pool| {
        let sql = registered_by("registered_source", "source");
        bind_all!(sqlx::query_as(&sql), &scope).fetch_all(pool).await?
    });
    let concluded: Vec<(String, String, i64)> = with_read_pool!(store, |pool| {
        let mut parts: Vec<String> = rolled("concluded", &["township", "k1"], "").into_iter().collect();
        parts.extend(partial(
            &["township", "COALESCE(outcome, '')"],
            "case_projection",
            "concluded_on",
            &format!("status = 'concluded' AND {}", in_scope("")),
        ));
        let sql = summed(2, &parts);
        bind_all!(sqlx::query_as(&sql), &scope).fetch_all(pool).await?
    });
    let mediations: Vec<(String, String, String, i64)> = with_read_pool!(store, |pool| {
        let mut parts: Vec<String> = rolled("mediation_source", &["township", "k1", "month"], "").into_iter().collect();
        parts.extend(partial(
            &["township", "COALESCE(mediation_result, '')", "substr(mediation_result_on, 1, 7)"],
            "case_projection",
            "mediation_result_on",
            &in_scope(""),
        ));
        let sql = summed(3, &parts);
        bind_all!(sqlx::query_as(&sql), &scope).fetch_all(pool).await?
    });
    // Mediations with a result (success or failure) in the period: by source; by dispute type.
    let mediated_by = |family: &str, column: &str| {
        let mut parts: Vec<String> = rolled(family, &["k2"], " AND k1 IN ('success', 'failed')").into_iter().collect();
        let code = format!("COALESCE({column}, '')");
        parts.extend(partial(
            &[&code],
            "case_projection",
            "mediation_result_on",
            &format!("mediation_result IN ('success', 'failed') AND {}", in_scope("")),
        ));
        summed(1, &parts)
    };
    let mediated_sources: Vec<(String, i64)> = with_read_pool!(store, |pool| {
        let sql = mediated_by("mediation_source", "source");
        bind_all!(sqlx::query_as(&sql), &scope).fetch_all(pool).await?
    });
    let mediated_types: Vec<(String, i64)> = with_read_pool!(store, |pool| {
        let sql = mediated_by("mediation_type", "dispute_type");
        bind_all!(sqlx::query_as(&sql), &scope).fetch_all(pool).await?
    });
    let reconsiderations: Vec<(String, String, i64)> = with_read_pool!(store, |pool| {
        let mut parts: Vec<String> = rolled("reconsideration", &["k1", "month"], "").into_iter().collect();
        parts.extend(partial(
            &["COALESCE(reconsideration_decision, '')", "substr(reconsideration_decided_on, 1, 7)"],
            "case_projection",
            "reconsideration_decided_on",
            &in_scope(""),
        ));
        let sql = summed(2, &parts);
        bind_all!(sqlx::query_as(&sql), &scope).fetch_all(pool).await?
    });
    // Lawsuits by the month heard, with the attendance, and by the month judged, with the outcome
    // (see `Aggregates::heard`).
    let lawsuits_by = |family: &str, column: &str, day: &str| {
        let mut parts: Vec<String> = rolled(family, &["k1", "k2", "month"], "").into_iter().collect();
        let (code, month) = (format!("COALESCE({column}, '')"), format!("substr({day}, 1, 7)"));
        parts.extend(partial(
            &["litigation_instance", &code, &month],
            "case_projection",
            day,
            &format!("litigation_instance IS NOT NULL AND {}", in_scope("")),
        ));
        summed(3, &parts)
    };
    let heard: Vec<(String, String, String, i64)> = with_read_pool!(store, |pool| {
        let sql = lawsuits_by("heard", "litigation_attendance", "litigation_heard_on");
        bind_all!(sqlx::query_as(&sql), &scope).fetch_all(pool).await?
    });
    let judged: Vec<(String, String, String, i64)> = with_read_pool!(store, |pool| {
        let sql = lawsuits_by("judged", "litigation_outcome", "litigation_judged_on");
        bind_all!(sqlx::query_as(&sql), &scope).fetch_all(pool).await?
    });
    let ratings: Vec<(String, String, i64)> = with_read_pool!(store, |pool| {
        let mut parts: Vec<String> = rolled("rated", &["k1", "month"], "").into_iter().collect();
        parts.extend(partial(
            &["satisfaction", "substr(concluded_on, 1, 7)"],
            "case_projection",
            "concluded_on",
            &format!("satisfaction IS NOT NULL AND {}", in_scope("")),
        ));
        let sql = summed(2, &parts);
        bind_all!(sqlx::query_as(&sql), &scope).fetch_all(pool).await?
    });
    let handled_met: Vec<(String, String, String, Option<String>, i64)> = with_read_pool!(store, |pool| {
        let met = |due: &str| {
            [
                "d.township".to_string(),
                "substr(d.met_on, 1, 7)".to_string(),
                "CASE WHEN d.met_on <= d.due_on THEN 'y' ELSE 'n' END".to_string(),
                due.to_string(),
            ]
        };
        let condition = format!("COALESCE(d.rule, '') IN ({handling}) AND NOT d.suspended AND {}", in_scope("d."));
        let future_due = format!("CASE WHEN d.met_on > '{today_s}' THEN d.due_on END");
        let mut parts: Vec<String> =
            rolled("handled_met", &["township", "month", "k1", "CAST(NULL AS TEXT)"], "").into_iter().collect();
        let columns = met(&future_due);
        let columns: Vec<&str> = columns.iter().map(String::as_str).collect();
        parts.extend(partial(&columns, "deadline_projection d", "d.met_on", &condition));
        // The rollup counts a deadline met after today as met; as of today it is not yet: take it
        // out of its group and count it with its due day, as the partial months do.
        if let Some((first, last)) = &span.days {
            let later = format!(
                "FROM deadline_projection d WHERE d.met_on > '{today_s}' AND d.met_on >= '{first}' \
                 AND d.met_on <= '{last}' AND {condition}"
            );
            let without = met("CAST(NULL AS TEXT)");
            parts.push(format!("SELECT {}, -1 AS n {later}", without.join(", ")));
            parts.push(format!("SELECT {}, 1 AS n {later}", met("d.due_on").join(", ")));
        }
        let sql = summed(4, &parts);
        bind_all!(sqlx::query_as(&sql), &scope).fetch_all(pool).await?
    });
    let handled_open: Vec<(String, String, i64)> = with_read_pool!(store, |pool| {
        let sql = format!(
            "SELECT d.township, d.due_on, COUNT(*) FROM deadline_projection d \
             WHERE d.met_on IS NULL AND d.due_on >= '{from_s}' AND d.due_on < '{as_of_s}' AND d.rule IN ({handling}) \
             AND NOT d.suspended AND {} GROUP BY 1, 2",
            in_scope("d.")
        );
        bind_all!(sqlx::query_as(&sql), &scope).fetch_all(pool).await?
    });
    let acceptances: Vec<(String, i64)> = with_read_pool!(store, |pool| {
        // How a notice reads as of `as_of`.
        let class = format!(
            "CASE WHEN d.met_on IS NOT NULL AND d.met_on <= '{as_of_s}' \
                 THEN CASE WHEN d.met_on <= d.due_on THEN 'on_time' ELSE 'late' END \
                 WHEN d.due_on < '{as_of_s}' THEN 'overdue' ELSE 'pending' END"
        );
        let condition = format!("d.rule = '{acceptance_rule}' AND NOT d.suspended AND {}", in_scope("d."));
        let mut parts: Vec<String> = rolled("acceptance", &["k1"], "").into_iter().collect();
        parts.extend(partial(&[&class], "deadline_projection d", "d.start_on", &condition));
        // The rollup counts a notice by how it ended ('open' when not met): those not met by
        // `as_of` move from that group to how they read as of `as_of`.
        if let Some((first, last)) = &span.days {
            let final_class = "CASE WHEN d.met_on IS NULL THEN 'open' WHEN d.met_on <= d.due_on THEN 'on_time' ELSE 'late' END";
            // Those met after `as_of`: when that is today, few if any, found by the day met (COALESCE,
            // a no-op on this NOT NULL column, keeps SQLite from reading every notice of the period
            // by the day started); before today, by the day started, which the period bounds.
            let started = if as_of == today { "COALESCE(d.start_on, '')" } else { "d.start_on" };
            let met_later = format!("d.met_on > '{as_of_s}'");
            for (open, start) in [("d.met_on IS NULL".to_string(), "d.start_on"), (met_later, started)] {
                let rows = format!(
                    "FROM deadline_projection d WHERE {open} AND {start} >= '{first}' AND {start} <= '{last}' \
                     AND {condition}"
                );
                parts.push(format!("SELECT {final_class}, -1 AS n {rows}"));
                parts.push(format!("SELECT {class}, 1 AS n {rows}"));
            }
        }
        let sql = summed(1, &parts);
        bind_all!(sqlx::query_as(&sql), &scope).fetch_all(pool).await?
    });
    // Open duty deadlines of the case's current track, the most urgent first and at most
    // `LISTED` of each list, with how many there are; restricted cases are left out (`listed`,
    // migration 0006, says all that of a deadline row, whose township and custody unit are its
    // case's).
    let horizon = LegalDate::from(today.date() + chrono::Duration::days(DUE_SOON_DAYS));
    let open_duties = |alias: &str| {
        format!(
            "{alias}listed = TRUE AND {alias}met_on IS NULL AND {alias}due_on <= '{horizon}' AND {}",
            in_scope(alias)
        )
    };
    let listed_totals: Vec<(String, i64)> = with_read_pool!(store, |pool| {
        let sql = format!(
            "SELECT CASE WHEN d.due_on < '{today_s}' THEN 'y' ELSE 'n' END, COUNT(*) FROM deadline_projection d \
             WHERE {} GROUP BY 1",
            open_duties("d.")
        );
        bind_all!(sqlx::query_as(&sql), &scope).fetch_all(pool).await?
    });
    // Codes and numbers sort by their bytes on both databases, as the lists promise.
    let bytes = match store.kind() {
        crate::store::BackendKind::Sqlite => "",
        crate::store::BackendKind::Postgres => " COLLATE \"C\"",
    };
    let mut listed: Vec<(String, String, String, String)> = Vec::new();
    for late in [true, false] {
        let when = |alias: &str| {
            if late {
                format!("{alias}due_on < '{today_s}'")
            } else {
                format!("{alias}due_on >= '{today_s}'")
            }
        };
        // Only the deadlines due by the day of the `LISTED`th are read with their case.
        let rows: Vec<(String, String, String, String)> = with_read_pool!(store, |pool| {
            let sql = format!(
                "SELECT c.case_number, d.track, d.rule, d.due_on FROM deadline_projection d \
                 JOIN case_projection c ON c.case_id = d.case_id WHERE {} AND {} \
                 AND d.due_on <= COALESCE((SELECT e.due_on FROM deadline_projection e WHERE {} AND {} \
                     ORDER BY e.due_on LIMIT 1 OFFSET {}), '{horizon}') \
                 ORDER BY d.due_on{bytes}, c.case_number{bytes}, d.rule{bytes}, d.track{bytes}, d.case_id LIMIT {LISTED}",
                open_duties("d."),
                when("d."),
                open_duties("e."),
                when("e."),
                LISTED - 1
            );
            bind_all!(sqlx::query_as(&sql), &scope).fetch_all(pool).await?
        });
        listed.extend(rows);
    }

    let agg = Aggregates {
        mediations: mediations.into_iter().map(|(t, r, m, c)| (t, MediationResult::from_code(&r), m, n(c))).collect(),
        reconsiderations: reconsiderations
            .into_iter()
            .map(|(d, m, c)| (ReconsiderationDecision::from_code(&d), m, n(c)))
            .collect(),
        heard: heard
            .into_iter()
            .filter_map(|(i, a, m, c)| Some((Instance::from_code(&i)?, attendance_from_code(&a), m, n(c))))
            .collect(),
        judged: judged
            .into_iter()
            .filter_map(|(i, o, m, c)| Some((Instance::from_code(&i)?, LitigationOutcome::from_code(&o), m, n(c))))
            .collect(),
        ratings: ratings.into_iter().map(|(s, m, c)| (Satisfaction::from_code(&s), m, n(c))).collect(),
        handled_met: handled_met
            .into_iter()
            .map(|(t, m, on_time, future_due, c)| (t, m, on_time == "y", future_due.as_deref().and_then(date), n(c)))
            .collect(),
        handled_open: handled_open
            .into_iter()
            .filter_map(|(t, due, c)| Some((t, date(&due)?, n(c))))
            .collect(),
        acceptances: acceptances
            .into_iter()
            .map(|(decision, c)| {
                let decision = match decision.as_str() {
                    "on_time" => Timeliness::OnTime,
                    "late" => Timeliness::Late,
                    "overdue" => Timeliness::Overdue,
                    _ => Timeliness::Pending,
                };
                (decision, n(c))
            })
            .collect(),
    };

    let config = RateConfig::default();
    let report = records(&config, &agg, None, None, from, as_of);

    let mut by_track = BTreeMap::new();
    let mut by_dispute_type = BTreeMap::new();
    let mut by_source = BTreeMap::new();
    let mut registered_in: BTreeMap<String, u64> = BTreeMap::new();
    let mut registered_by_kind = BTreeMap::new();
    for (township, track, kind, count) in registered {
        let count = n(count);
        *registered_by_kind.entry(kind).or_insert(0) += count;
        *by_track.entry(track).or_insert(0) += count;
        *registered_in.entry(township).or_insert(0) += count;
    }
    for (dispute_type, count) in registered_types {
        *by_dispute_type.entry(dispute_type).or_insert(0) += n(count);
    }
    for (source, count) in registered_sources {
        *by_source.entry(source).or_insert(0) += n(count);
    }
    let mut by_outcome = BTreeMap::new();
    let mut concluded_in: BTreeMap<String, u64> = BTreeMap::new();
    for (township, outcome, count) in concluded {
        *by_outcome.entry(outcome).or_insert(0) += n(count);
        *concluded_in.entry(township).or_insert(0) += n(count);
    }
    let mut reconsideration_decisions = BTreeMap::new();
    for (decision, _, count) in &agg.reconsiderations {
        if let Some(decision) = decision {
            *reconsideration_decisions.entry(decision.code().to_string()).or_insert(0) += count;
        }
    }
    let mut mediated_by_source = BTreeMap::new();
    let mut mediated_by_dispute_type = BTreeMap::new();
    for (source, count) in mediated_sources {
        *mediated_by_source.entry(source).or_insert(0) += n(count);
    }
    for (dispute_type, count) in mediated_types {
        *mediated_by_dispute_type.entry(dispute_type).or_insert(0) += n(count);
    }

    let (mut overdue_total, mut due_soon_total) = (0, 0);
    for (late, count) in listed_totals {
        if late == "y" {
            overdue_total += n(count);
        } else {
            due_soon_total += n(count);
        }
    }
    let mut overdue = Vec::new();
    let mut due_soon = Vec::new();
    let today_text = today.to_string();
    for (case_number, track, rule, due_on) in listed {
        let late = due_on < today_text;
        let item = DeadlineItem { case_number, track, rule, due_on };
        if late {
            overdue.push(item);
        } else {
            due_soon.push(item);
        }
    }

    let mut trend = Vec::new();
    let (mut year, mut month) = (from.date().year(), from.date().month());
    while LegalDate::ymd(year, month, 1) <= to {
        let start = LegalDate::ymd(year, month, 1).max(from);
        let end = month_end(year, month).min(to);
        let key = format!("{year:04}-{month:02}");
        let month_report = records(&config, &agg, None, Some(&key), start, end.min(today));
        trend.push(MonthRates { month: key, rates: rate_rows(&month_report, TREND_RATES) });
        (year, month) = if month == 12 { (year + 1, 1) } else { (year, month + 1) };
    }

    let townships: BTreeSet<String> = units
        .subtree(unit)
        .into_iter()
        .filter(|u| matches!(u.kind, UnitKind::Township | UnitKind::Subdistrict))
        .map(|u| u.id.as_str().to_string())
        .collect();
    let townships = townships
        .into_iter()
        .map(|township| {
            let town_report = records(&config, &agg, Some(&township), None, from, as_of);
            TownshipRow {
                name: units.get(&township).map(|u| u.name.clone()).unwrap_or_default(),
                registered: registered_in.get(&township).copied().unwrap_or(0),
                concluded: concluded_in.get(&township).copied().unwrap_or(0),
                mediation_success: town_report.mediation_success.into(),
                on_time: town_report.on_time.into(),
                township,
            }
        })
        .collect();

    let stats = Stats {
        unit: unit.to_string(),
        from: from.to_string(),
        to: to.to_string(),
        today: today.to_string(),
        rates: rate_rows(&report, RateKind::ALL),
        by_track,
        by_dispute_type,
        by_source,
        by_outcome,
        overdue_total,
        overdue,
        due_soon_total,
        due_soon,
        trend,
        townships,
    };
    Ok(Figures { stats, registered_by_kind, reconsideration_decisions, mediated_by_source, mediated_by_dispute_type })
}
