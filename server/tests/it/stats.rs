//! The supervisor statistics are right: the demo county (`fengqiao demo`'s generator, run
//! in-process through the real ingest path) is served on a real socket, and `GET /v1/stats` for the
//! county, a township, a county body and several periods is compared, number by number, with an
//! independent computation written here from LAW.md §4: every stored case document is loaded and
//! hydrated with the schema types, and each rate (numerator and denominator), every count, the
//! overdue and due-soon lists, the monthly trend and the township table are recomputed from the
//! documents alone, without the projection tables or the server's statistics code. The responses
//! are also scanned for the personal data of every demo case.

use std::collections::{BTreeMap, BTreeSet};

use chrono::Datelike;
use fengqiao_schema::calendar::Calendars;
use fengqiao_schema::clocks::{case_deadlines, ClockConfig, DeadlineKind, Rule, Status};
use fengqiao_schema::document::Case;
use fengqiao_schema::time::LegalDate;
use fengqiao_schema::units::{Unit, UnitTree};
use fengqiao_schema::vocab::*;
use fengqiao_server::clock::Timestamp;
use fengqiao_server::demo::{self, DemoOutcome, DemoSettings};
use fengqiao_server::store::documents::FeedCursor;
use fengqiao_server::store::Store;
use fengqiao_server::{serve, Services, Settings};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How many deadlines `/v1/stats` lists as overdue, and as due soon.
const LISTED: usize = 100;

use crate::common::*;

const PASSWORD: &str = "demo-password";
/// Enough cases for every track, most outcomes and every rate to count something, and small
/// enough for a debug build.
const CASES: usize = 480;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statistics_of_the_demo_county_equal_an_independent_recomputation_from_the_documents() {
    on_each_backend(|database, store| async move {
        let services =
            Services::start_on(store.clone(), &Settings::with_database(database.url.clone())).await.expect("services");
        let state = services.state();
        let settings =
            DemoSettings { cases: CASES, seed: 11, password: PASSWORD.into(), now: Timestamp::now(), progress: false };
        let DemoOutcome::Loaded(summary) = demo::load(&state, &settings).await.expect("the demo loads") else {
            panic!("a fresh database holds no demo yet");
        };
        assert_eq!(summary.cases, CASES);
        assert!((140..=170).contains(&summary.users), "about 150 users: {}", summary.users);
        assert!(summary.handoffs.get("accepted").is_some_and(|n| *n > 0), "handoffs: {:?}", summary.handoffs);
        // A second run finds the county there and does nothing.
        let again = demo::load(&state, &settings).await.expect("the second run answers");
        assert!(matches!(again, DemoOutcome::AlreadyLoaded { units } if units == summary.units), "{again:?}");

        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve(listener, services.state(), async {
            stopped.await.ok();
        }));

        let county_chief = login(address, "ducha01").await;
        let town_chief = login(address, "chengguan.dc").await;
        let cases = stored_cases(&store).await;
        assert_eq!(cases.len(), CASES, "every demo case is stored");
        let units = UnitTree::new(store.units().await.expect("units")).expect("a tree");
        let personal = personal_data(&cases);

        // Every track appears, and cases were handed on and concluded in each.
        let tracks: BTreeSet<Option<Track>> = cases.iter().map(|c| c.custody.track).collect();
        for track in Track::ALL {
            assert!(tracks.contains(&Some(*track)), "no case in {track}: {tracks:?}");
        }

        let (status, sample) =
            get(address, &format!("/v1/stats?unit={}&from=2000-01-01&to=2000-01-31", demo::COUNTY), &county_chief)
                .await;
        assert_eq!(status, 200, "{sample}");
        let today: LegalDate = sample["today"].as_str().expect("today").parse().expect("a date");
        let two_years_ago = LegalDate::from(today.date() - chrono::Duration::days(730));
        let last_year = today.date().year() - 1;
        let quarter_start =
            LegalDate::ymd(today.date().year(), 1, 1).min(LegalDate::from(today.date() - chrono::Duration::days(90)));

        let chengguan = format!("{}.chengguan", demo::COUNTY);
        let queries: Vec<(&str, String, LegalDate, LegalDate)> = vec![
            (&county_chief, demo::COUNTY.to_string(), two_years_ago, today),
            (
                &county_chief,
                demo::COUNTY.to_string(),
                LegalDate::ymd(last_year, 1, 1),
                LegalDate::ymd(last_year, 12, 31),
            ),
            (
                &county_chief,
                demo::COUNTY.to_string(),
                quarter_start,
                LegalDate::from(quarter_start.date() + chrono::Duration::days(89)),
            ),
            (&county_chief, demo::JUSTICE_BUREAU.to_string(), two_years_ago, today),
            (&county_chief, demo::LEGAL_OFFICE.to_string(), LegalDate::ymd(last_year, 7, 1), today),
            (&county_chief, chengguan.clone(), two_years_ago, today),
            (&town_chief, chengguan.clone(), LegalDate::ymd(last_year, 3, 15), LegalDate::ymd(last_year + 1, 2, 10)),
        ];
        for (token, unit, from, to) in &queries {
            let path = format!("/v1/stats?unit={unit}&from={from}&to={to}");
            let (status, stats) = get(address, &path, token).await;
            assert_eq!(status, 200, "{path}: {stats}");
            assert_eq!(stats["today"], today.to_string());
            let expected = Expected::compute(&cases, &units, unit, *from, *to, today);
            expected.check(&stats, &path);
            let text = stats.to_string();
            for value in &personal {
                assert!(!text.contains(value.as_str()), "{path}: the statistics show personal data «{value}»");
            }
        }

        // The whole county over two years exercises every rate and both lists.
        let path = format!("/v1/stats?unit={}&from={two_years_ago}&to={today}", demo::COUNTY);
        let (_, county) = get(address, &path, &county_chief).await;
        for rate in county["rates"].as_array().expect("rates") {
            assert!(rate["denominator"].as_u64().unwrap_or(0) > 0, "{} counted nothing: {county}", rate["code"]);
        }
        for code in ["on_time", "mediation_success", "comprehensive_correction"] {
            let rate = county["rates"].as_array().and_then(|r| r.iter().find(|r| r["code"] == code)).expect(code);
            assert!(rate["numerator"].as_u64() < rate["denominator"].as_u64(), "{code}: some cases miss: {rate}");
        }
        assert!(!county["overdue"].as_array().expect("overdue").is_empty(), "some deadlines are overdue");
        for track in Track::ALL {
            assert!(
                county["by_track"][track.code()].as_u64().unwrap_or(0) > 0,
                "{track} counted: {}",
                county["by_track"]
            );
        }

        // A township's supervisor sees the township, not the county.
        let (status, _) = get(address, &path, &town_chief).await;
        assert_eq!(status, 403, "a township supervisor does not read the county's figures");

        stop.send(()).ok();
        within_deadline("the server stops", server).await.expect("join").expect("served");
        services.stop().await;
    })
    .await;
}

/// Logs in over the socket and returns the access token.
async fn login(address: std::net::SocketAddr, user: &str) -> String {
    let body = serde_json::json!({ "user_id": user, "password": PASSWORD, "device_id": format!("{user}-browser"), "device_name": "浏览器" })
        .to_string();
    let request = format!(
        "POST /v1/auth/login HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let (status, answer) = exchange(address, &request).await;
    assert_eq!(status, 200, "login {user}: {answer}");
    answer["access_token"].as_str().expect("an access token").to_string()
}

async fn get(address: std::net::SocketAddr, path: &str, token: &str) -> (u16, Value) {
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n");
    exchange(address, &request).await
}

/// One HTTP/1.1 exchange on a fresh connection: the status and the JSON body.
async fn exchange(address: std::net::SocketAddr, request: &str) -> (u16, Value) {
    let mut stream = TcpStream::connect(address).await.expect("connect");
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut response = Vec::new();
    within_deadline("the response", stream.read_to_end(&mut response)).await.expect("receive");
    let response = String::from_utf8(response).expect("a UTF-8 response");
    let (head, body) = response.split_once("\r\n\r\n").expect("a head and a body");
    assert!(!head.to_ascii_lowercase().contains("transfer-encoding: chunked"), "a plain body: {head}");
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("a status code");
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

/// Every case in the store, hydrated from its document (found through the change feed).
async fn stored_cases(store: &Store) -> Vec<Case> {
    let mut ids = BTreeSet::new();
    let mut cursor = FeedCursor::START;
    loop {
        let page = store.feed_since(cursor, 1000).await.expect("the feed");
        if page.entries.is_empty() {
            break;
        }
        ids.extend(page.entries.iter().map(|e| e.case_id));
        cursor = page.cursor;
    }
    let mut cases = Vec::new();
    for id in ids {
        let stored = store.load_document(id).await.expect("load").expect("a stored document");
        let doc = stored.to_automerge().expect("the document loads");
        cases.push(autosurgeon::hydrate::<_, Case>(&doc).expect("the case hydrates"));
    }
    cases
}

/// Names, ID numbers, phones and addresses of every party.
fn personal_data(cases: &[Case]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for case in cases {
        for party in &case.parties {
            for value in [&party.name, &party.id_number, &party.phone, &party.address] {
                if value.chars().count() >= 2 {
                    out.insert(value.clone());
                }
            }
        }
    }
    assert!(out.len() > 1000, "the demo cases have parties: {}", out.len());
    out
}

// ---------------------------------------------------------------------------------------------
// The independent computation (LAW.md §4), from hydrated documents only.

/// A rate as counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Counted {
    numerator: u64,
    denominator: u64,
}

impl Counted {
    fn count(&mut self, met: bool) {
        self.denominator += 1;
        self.numerator += u64::from(met);
    }
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Rates(BTreeMap<&'static str, Counted>);

const DIRECT: &[ReconsiderationDecision] = &[
    ReconsiderationDecision::Changed,
    ReconsiderationDecision::Revoked,
    ReconsiderationDecision::PartlyRevoked,
    ReconsiderationDecision::ConfirmedIllegal,
    ReconsiderationDecision::ConfirmedVoid,
    ReconsiderationDecision::OrderedToPerform,
];
const INDIRECT: &[ReconsiderationDecision] = &[
    ReconsiderationDecision::Mediation,
    ReconsiderationDecision::SettledWithdrawn,
    ReconsiderationDecision::CorrectedWithdrawn,
];
const LOST: &[LitigationOutcome] = &[
    LitigationOutcome::Revoked,
    LitigationOutcome::Perform,
    LitigationOutcome::Payment,
    LitigationOutcome::ConfirmedIllegal,
    LitigationOutcome::ConfirmedVoid,
    LitigationOutcome::Changed,
];
/// Outcomes that do not conclude a first-instance case: never registered, or second instance.
const NOT_FIRST_INSTANCE_CONCLUSION: &[LitigationOutcome] = &[
    LitigationOutcome::NotRegistered,
    LitigationOutcome::AppealDismissed,
    LitigationOutcome::JudgmentChanged,
    LitigationOutcome::Remanded,
];
const HANDLING: &[Rule] = &[Rule::MediationPeriod, Rule::PetitionHandling, Rule::ReconsiderationDecision];

fn within(day: Option<LegalDate>, from: LegalDate, to: LegalDate) -> bool {
    day.is_some_and(|d| from <= d && d <= to)
}

/// Done on time (`Some(true)`), late or overdue (`Some(false)`), or not yet due (`None`), as of
/// the end of `as_of`.
fn timeliness(due: LegalDate, done: Option<LegalDate>, as_of: LegalDate) -> Option<bool> {
    match done.filter(|d| *d <= as_of) {
        Some(done) => Some(done <= due),
        None if as_of > due => Some(false),
        None => None,
    }
}

/// One case as the rates see it.
struct CaseView<'a> {
    case: &'a Case,
    track: Option<Track>,
    custody_unit: &'a str,
    concluded_on: Option<LegalDate>,
    outcome: Option<String>,
    deadlines: Vec<fengqiao_schema::clocks::Deadline>,
}

impl<'a> CaseView<'a> {
    fn of(case: &'a Case, today: LegalDate) -> CaseView<'a> {
        let track = case.custody.track;
        let (m, p, r, l) = (&case.mediation, &case.petition, &case.reconsideration, &case.litigation);
        // When a case is concluded, and how, in its current track.
        let (concluded_on, outcome) = match track {
            Some(Track::Mediation) | None => (m.result.and(m.result_on), m.result.map(|x| x.code().to_string())),
            Some(Track::Petition) => {
                let refused = matches!(p.intake, Some(PetitionIntake::NotAccepted | PetitionIntake::NotReaccepted));
                match p.reply.result {
                    Some(result) => (p.reply.issued_on.or(p.intake_notified_on), Some(result.code().to_string())),
                    None if refused => (p.intake_notified_on, p.intake.map(|i| i.code().to_string())),
                    None => (None, None),
                }
            }
            Some(Track::Reconsideration) => {
                let refused = matches!(
                    r.intake,
                    Some(ReconsiderationIntake::NotAccepted | ReconsiderationIntake::ApplicationDismissed)
                );
                match r.decision.kind {
                    Some(kind) => (r.decision.decided_on, Some(kind.code().to_string())),
                    None if refused => (r.intake_decided_on, r.intake.map(|i| i.code().to_string())),
                    None => (None, None),
                }
            }
            Some(Track::Litigation) => {
                (l.judgment.outcome.and(l.judgment.judged_on), l.judgment.outcome.map(|o| o.code().to_string()))
            }
        };
        let mut deadlines = Vec::new();
        for d in case_deadlines(case, today, &Calendars::official(), &ClockConfig::default()) {
            // The case's deadline table has one row per rule.
            if !deadlines.iter().any(|x: &fengqiao_schema::clocks::Deadline| x.rule == d.rule) {
                deadlines.push(d);
            }
        }
        CaseView { case, track, custody_unit: &case.custody.unit, concluded_on, outcome, deadlines }
    }

    fn registered_on(&self) -> Option<LegalDate> {
        self.case.meta.registered_at.map(|t| t.china_date())
    }
}

fn rates(cases: &[&CaseView<'_>], from: LegalDate, to: LegalDate, as_of: LegalDate) -> Rates {
    let mut out: BTreeMap<&'static str, Counted> =
        RateKindCodes::ALL.iter().map(|c| (*c, Counted::default())).collect();
    for v in cases {
        let c = v.case;
        // 调解成功率: success ÷ (success + failure); refused and screened disputes were not mediated.
        if within(c.mediation.result_on, from, to) {
            match c.mediation.result {
                Some(MediationResult::Success) => out.get_mut("mediation_success").unwrap().count(true),
                Some(MediationResult::Failed) => out.get_mut("mediation_success").unwrap().count(false),
                _ => {}
            }
        }
        // Correction rates: over reconsiderations concluded by a decision in the period.
        if let (Some(kind), true) =
            (c.reconsideration.decision.kind, within(c.reconsideration.decision.decided_on, from, to))
        {
            out.get_mut("comprehensive_correction").unwrap().count(DIRECT.contains(&kind) || INDIRECT.contains(&kind));
            out.get_mut("direct_correction").unwrap().count(DIRECT.contains(&kind));
        }
        // 出庭应诉率 and 败诉率, per lawsuit instance.
        let l = &c.litigation;
        if let Some(instance) = l.instance {
            let first_hearing = l.hearings.iter().filter_map(|h| h.held_on).min();
            if within(first_hearing, from, to) {
                out.get_mut("head_appearance")
                    .unwrap()
                    .count(l.hearings.iter().any(|h| h.head_appeared && !h.lawyer_only));
            }
            if let Some(outcome) = l.judgment.outcome {
                if instance == Instance::First
                    && within(l.judgment.judged_on, from, to)
                    && !NOT_FIRST_INSTANCE_CONCLUSION.contains(&outcome)
                {
                    out.get_mut("lawsuit_loss").unwrap().count(LOST.contains(&outcome));
                }
            }
        }
        // 按期办结率 and 及时受理率 from the legal clocks.
        for d in &v.deadlines {
            if d.status == Status::Suspended {
                continue;
            }
            if HANDLING.contains(&d.rule) {
                let counted = within(d.met_on, from, to) || (d.met_on.is_none() && d.due >= from && d.due < as_of);
                if let (true, Some(met)) = (counted, timeliness(d.due, d.met_on, as_of)) {
                    out.get_mut("on_time").unwrap().count(met);
                }
            }
            if d.rule == Rule::PetitionAcceptanceNotice && within(Some(d.start), from, to) {
                if let Some(met) = timeliness(d.due, d.met_on, as_of) {
                    out.get_mut("timely_acceptance").unwrap().count(met);
                }
            }
        }
        // 群众满意率 over rated cases concluded in the period.
        if let (Some(rating), true) = (c.petition.satisfaction, within(v.concluded_on, from, to)) {
            out.get_mut("satisfaction")
                .unwrap()
                .count(matches!(rating, Satisfaction::Satisfied | Satisfaction::BasicallySatisfied));
        }
    }
    Rates(out)
}

/// The rate codes of the response, in LAW.md §4's order.
struct RateKindCodes;
impl RateKindCodes {
    const ALL: &'static [&'static str] = &[
        "mediation_success",
        "comprehensive_correction",
        "direct_correction",
        "head_appearance",
        "lawsuit_loss",
        "on_time",
        "timely_acceptance",
        "satisfaction",
    ];
    const TREND: &'static [&'static str] =
        &["mediation_success", "comprehensive_correction", "head_appearance", "on_time"];
}

/// What `/v1/stats` should answer.
struct Expected {
    rates: Rates,
    by_track: BTreeMap<String, u64>,
    by_dispute_type: BTreeMap<String, u64>,
    by_source: BTreeMap<String, u64>,
    by_outcome: BTreeMap<String, u64>,
    overdue: Vec<(String, String, String, String)>,
    due_soon: Vec<(String, String, String, String)>,
    trend: Vec<(String, Rates)>,
    townships: Vec<(String, u64, u64, Counted, Counted)>,
}

impl Expected {
    fn compute(
        all: &[Case],
        units: &UnitTree,
        unit: &str,
        from: LegalDate,
        to: LegalDate,
        today: LegalDate,
    ) -> Expected {
        let scope: BTreeSet<&str> = units.subtree(unit).into_iter().map(|u: &Unit| u.id.as_str()).collect();
        let views: Vec<CaseView<'_>> = all.iter().map(|c| CaseView::of(c, today)).collect();
        let in_scope: Vec<&CaseView<'_>> = views
            .iter()
            .filter(|v| scope.contains(v.case.meta.township.as_str()) || scope.contains(v.custody_unit))
            .collect();
        let as_of = to.min(today);
        let code = |s: Option<String>| s.unwrap_or_default();

        let mut by_track = BTreeMap::new();
        let mut by_dispute_type = BTreeMap::new();
        let mut by_source = BTreeMap::new();
        let mut by_outcome = BTreeMap::new();
        for v in &in_scope {
            let c = v.case;
            if within(v.registered_on(), from, to) {
                *by_track.entry(code(v.track.map(|t| t.code().to_string()))).or_insert(0) += 1;
                *by_dispute_type.entry(code(c.meta.dispute_type.map(|t| t.code().to_string()))).or_insert(0) += 1;
                let source = c
                    .mediation
                    .source
                    .map(|s| s.code().to_string())
                    .or(c.petition.channel.map(|s| s.code().to_string()));
                *by_source.entry(code(source)).or_insert(0) += 1;
            }
            if within(v.concluded_on, from, to) {
                *by_outcome.entry(code(v.outcome.clone())).or_insert(0) += 1;
            }
        }

        let horizon = LegalDate::from(today.date() + chrono::Duration::days(7));
        let (mut overdue, mut due_soon) = (Vec::new(), Vec::new());
        for v in &in_scope {
            if v.case.petition.category == Some(PetitionCategory::Accusation) {
                continue;
            }
            for d in &v.deadlines {
                if d.kind != DeadlineKind::Duty
                    || d.status == Status::Suspended
                    || d.met_on.is_some()
                    || Some(d.track) != v.track
                {
                    continue;
                }
                let item = (
                    v.case.meta.case_number.clone().unwrap_or_default(),
                    d.track.code().to_string(),
                    d.rule.code().to_string(),
                    d.due.to_string(),
                );
                if d.due < today {
                    overdue.push(item);
                } else if d.due <= horizon {
                    due_soon.push(item);
                }
            }
        }
        // The server lists the most urgent first: by due day, then number, rule and track.
        let urgency = |(number, track, rule, due): &(String, String, String, String)| {
            (due.clone(), number.clone(), rule.clone(), track.clone())
        };
        overdue.sort_by_key(urgency);
        due_soon.sort_by_key(urgency);

        let mut trend = Vec::new();
        let mut month_start = LegalDate::ymd(from.date().year(), from.date().month(), 1);
        while month_start <= to {
            let next = month_start.date().checked_add_months(chrono::Months::new(1)).expect("a next month");
            let start = month_start.max(from);
            let end = LegalDate::from(next - chrono::Duration::days(1)).min(to);
            trend.push((
                format!("{:04}-{:02}", month_start.date().year(), month_start.date().month()),
                rates(&in_scope, start, end, end.min(today)),
            ));
            month_start = LegalDate::from(next);
        }

        let mut townships = Vec::new();
        let mut town_ids: Vec<&str> = units
            .subtree(unit)
            .into_iter()
            .filter(|u| matches!(u.kind, UnitKind::Township | UnitKind::Subdistrict))
            .map(|u| u.id.as_str())
            .collect();
        town_ids.sort();
        for town in town_ids {
            let in_town: Vec<&CaseView<'_>> = views.iter().filter(|v| v.case.meta.township == town).collect();
            let r = rates(&in_town, from, to, as_of);
            townships.push((
                town.to_string(),
                in_town.iter().filter(|v| within(v.registered_on(), from, to)).count() as u64,
                in_town.iter().filter(|v| within(v.concluded_on, from, to)).count() as u64,
                r.0["mediation_success"],
                r.0["on_time"],
            ));
        }

        Expected {
            rates: rates(&in_scope, from, to, as_of),
            by_track,
            by_dispute_type,
            by_source,
            by_outcome,
            overdue,
            due_soon,
            trend,
            townships,
        }
    }

    fn check(&self, stats: &Value, path: &str) {
        assert_eq!(counts_of_rates(&stats["rates"]), self.rates, "{path}: the rates");
        for (name, expected) in [
            ("by_track", &self.by_track),
            ("by_dispute_type", &self.by_dispute_type),
            ("by_source", &self.by_source),
            ("by_outcome", &self.by_outcome),
        ] {
            let got: BTreeMap<String, u64> = serde_json::from_value(stats[name].clone()).expect(name);
            assert_eq!(&got, expected, "{path}: {name}");
        }
        // Each list is capped at the 100 most urgent, with the total beside it.
        for (name, expected) in [("overdue", &self.overdue), ("due_soon", &self.due_soon)] {
            assert_eq!(stats[format!("{name}_total")].as_u64(), Some(expected.len() as u64), "{path}: {name}_total");
            let capped: Vec<_> = expected.iter().take(LISTED).cloned().collect();
            assert_eq!(deadline_items(&stats[name]), capped, "{path}: the {name} list");
        }
        let trend: Vec<(String, Rates)> = stats["trend"]
            .as_array()
            .expect("trend")
            .iter()
            .map(|m| (m["month"].as_str().expect("month").to_string(), counts_of_rates(&m["rates"])))
            .collect();
        let expected_trend: Vec<(String, Rates)> = self
            .trend
            .iter()
            .map(|(month, r)| {
                (
                    month.clone(),
                    Rates(
                        r.0.iter().filter(|(k, _)| RateKindCodes::TREND.contains(k)).map(|(k, v)| (*k, *v)).collect(),
                    ),
                )
            })
            .collect();
        assert_eq!(trend, expected_trend, "{path}: the monthly trend");
        let townships: Vec<(String, u64, u64, Counted, Counted)> = stats["townships"]
            .as_array()
            .expect("townships")
            .iter()
            .map(|t| {
                (
                    t["township"].as_str().expect("township").to_string(),
                    t["registered"].as_u64().expect("registered"),
                    t["concluded"].as_u64().expect("concluded"),
                    counted(&t["mediation_success"]),
                    counted(&t["on_time"]),
                )
            })
            .collect();
        assert_eq!(townships, self.townships, "{path}: the township table");
    }
}

fn counted(rate: &Value) -> Counted {
    let counted = Counted {
        numerator: rate["numerator"].as_u64().expect("a numerator"),
        denominator: rate["denominator"].as_u64().expect("a denominator"),
    };
    // The percentage shown is the counts' own, rounded half up to two decimals.
    let expected = (counted.denominator > 0)
        .then(|| (2 * counted.numerator * 10_000 + counted.denominator) / (2 * counted.denominator));
    assert_eq!(rate["percent_2dp"].as_u64(), expected, "{rate}");
    counted
}

fn counts_of_rates(rates: &Value) -> Rates {
    Rates(
        rates
            .as_array()
            .expect("rates")
            .iter()
            .map(|r| {
                let code = r["code"].as_str().expect("a code");
                let known =
                    RateKindCodes::ALL.iter().find(|c| **c == code).unwrap_or_else(|| panic!("unknown rate {code}"));
                (*known, counted(r))
            })
            .collect(),
    )
}

fn deadline_items(list: &Value) -> Vec<(String, String, String, String)> {
    let items: Vec<_> = list
        .as_array()
        .expect("a list")
        .iter()
        .map(|d| {
            let field = |k: &str| d[k].as_str().unwrap_or_else(|| panic!("{k} in {d}")).to_string();
            (field("case_number"), field("track"), field("rule"), field("due_on"))
        })
        .collect();
    items
}
