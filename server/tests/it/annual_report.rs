//! The annual report on the published county figures of LAW.md §4, loaded as real cases through
//! the real ingest path (`ingest_message_at`, registered in 2025): 1,153 disputes mediated of which
//! 1,140 succeeded; 109 reconsiderations concluded (23 upheld, 3 claims dismissed, 83 ended by
//! mediation, settlement or withdrawal after correction), reached from petitions by handoff; 28
//! lawsuits heard with the agency head in court every time. The report — paragraph, Markdown,
//! and the workbook read back — shows 98.87% (1140/1153), 76.15% (83/109) and 100% (28/28), over
//! HTTP (supervisors only, with a Chinese file name) and from `fengqiao report`.
//!
//! Cheap to build: each kind of case is one template message sent for many case ids; only the
//! steps that build on the server's own changes (accepting a handoff, the decision) are made per
//! case.

use std::sync::Arc;

use automerge::sync::{self, SyncDoc};
use automerge::{ActorId, AutoCommit, Automerge};
use autosurgeon::{hydrate, reconcile, Text};
use fengqiao_schema::document::{Case, CourtHearing, HandoffRequest, Party};
use fengqiao_schema::fixtures;
use fengqiao_schema::ids::CaseId;
use fengqiao_schema::time::{Instant, LegalDate};
use fengqiao_schema::units::User;
use fengqiao_schema::upgrade::{new_case_document, Intake};
use fengqiao_schema::vocab::*;
use fengqiao_server::auth::Principal;
use fengqiao_server::clock::Timestamp;
use fengqiao_server::sync::ingest_message_at;
use fengqiao_server::{AppState, Services, Settings};
use futures_util::stream::{self, StreamExt};

use crate::common::*;
use crate::tablet::{seed_county, PASSWORD};

/// Cases ingested at once: enough to let group commit batch the writes.
const CONCURRENCY: usize = 8;

/// A moment of 2025 by the server's clock: `month`-`day` at 10:00 China time.
fn at(month: u32, day: u32) -> Timestamp {
    let date = chrono::NaiveDate::from_ymd_opt(2025, month, day).expect("a date");
    let utc = date.and_hms_opt(2, 0, 0).expect("a time").and_utc();
    Timestamp::from_secs(utc.timestamp())
}

fn day(month: u32, day: u32) -> Option<LegalDate> {
    Some(LegalDate::ymd(2025, month, day))
}

pub(crate) fn principal(id: &str, unit: &str, role: Role) -> Principal {
    Principal { user: User::new(id, unit, &[role]), device: device(&format!("{id}-web")) }
}

/// A sync message from `device` carrying everything `server` lacks.
pub(crate) fn message_for(device: &Automerge, server: &Automerge) -> Vec<u8> {
    let (mut device, mut server) = (device.clone(), server.clone());
    let (mut ours, mut theirs) = (sync::State::new(), sync::State::new());
    for _ in 0..10 {
        let out = device.generate_sync_message(&mut ours);
        if let Some(message) = &out {
            if !message.changes.is_empty() {
                return message.clone().encode();
            }
            server.receive_sync_message(&mut theirs, message.clone()).expect("receive");
        }
        let back = server.generate_sync_message(&mut theirs);
        if let Some(message) = back.clone() {
            device.receive_sync_message(&mut ours, message).expect("receive");
        }
        assert!(out.is_some() || back.is_some(), "the device has nothing the server lacks");
    }
    panic!("no message with changes after ten rounds");
}

/// A new case opened by `who`, filled in by `fill`, as the message its tablet sends first.
pub(crate) fn template(
    who: &Principal,
    kind: CaseKind,
    township: &str,
    title: &str,
    fill: impl FnOnce(&mut Case),
) -> Vec<u8> {
    let intake = Intake {
        kind,
        unit: who.user.unit.as_str().to_string(),
        user: who.user.id.as_str().to_string(),
        township: township.to_string(),
        title: title.to_string(),
        created_at: Instant::from_unix(at(1, 2).secs()),
    };
    let mut doc = new_case_document(actor_of(who), &intake).expect("a new case");
    let mut case: Case = hydrate(&doc).expect("the case hydrates");
    fill(&mut case);
    reconcile(&mut doc, &case).expect("reconcile");
    doc.commit();
    message_for(doc.document(), &Automerge::new())
}

/// Each user's tablet writes under one actor of its own.
pub(crate) fn actor_of(who: &Principal) -> ActorId {
    let mut bytes = [0u8; 16];
    for (i, b) in who.user.id.as_str().bytes().take(16).enumerate() {
        bytes[i] = b;
    }
    bytes[15] = 0xa5;
    ActorId::from(bytes)
}

/// `who` edits the server's copy of `case_id` on its tablet and syncs it at `now`.
async fn edit_and_push(
    state: &AppState,
    who: &Principal,
    case_id: CaseId,
    now: Timestamp,
    change: impl FnOnce(&mut Case),
) {
    let server = state.documents.with_document(case_id, |d| d.clone()).await.expect("read").expect("stored");
    let mut tablet = AutoCommit::load(&server.save()).expect("load").with_actor(actor_of(who));
    let mut case: Case = hydrate(&tablet).expect("the case hydrates");
    change(&mut case);
    reconcile(&mut tablet, &case).expect("reconcile");
    tablet.commit();
    let message = message_for(tablet.document(), &server);
    let outcome = ingest_message_at(state, who.clone(), case_id, message, now).await.expect("ingest runs");
    assert_eq!(outcome, Ok(()), "ingest accepted {}'s changes", who.user.id);
}

pub(crate) async fn ingest(state: &AppState, who: &Principal, case_id: CaseId, message: Vec<u8>, now: Timestamp) {
    let outcome = ingest_message_at(state, who.clone(), case_id, message, now).await.expect("ingest runs");
    assert_eq!(outcome, Ok(()), "ingest accepted the case");
}

/// Sends `message` as `count` new cases (the first alone, so that its actor is bound once).
async fn open_many(state: &AppState, who: &Principal, message: Vec<u8>, count: usize, now: Timestamp) -> Vec<CaseId> {
    let ids: Vec<CaseId> = (0..count).map(|_| random_case()).collect();
    let message = Arc::new(message);
    if let Some(first) = ids.first() {
        ingest(state, who, *first, message.to_vec(), now).await;
    }
    stream::iter(ids.iter().skip(1).copied())
        .for_each_concurrent(CONCURRENCY, |id| {
            let message = message.clone();
            async move { ingest(state, who, id, message.to_vec(), now).await }
        })
        .await;
    ids
}

/// Runs `step` for every case, the first alone.
async fn for_each_case<F, Fut>(ids: &[CaseId], step: F)
where
    F: Fn(usize, CaseId) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    if let Some(first) = ids.first() {
        step(0, *first).await;
    }
    stream::iter(ids.iter().copied().enumerate().skip(1)).for_each_concurrent(CONCURRENCY, |(i, id)| step(i, id)).await;
}

fn applicant(case: &mut Case) {
    case.parties = vec![Party {
        id: "p1".into(),
        role: Some(PartyRole::Applicant),
        kind: Some(PartyKind::Person),
        name: "王建国".into(),
        id_number: "330102197001011234".into(),
        phone: "13700001234".into(),
        address: "东溪镇上村一组".into(),
        represents: None,
    }];
}

fn mediation(result: MediationResult, source: MediationSource, dispute: DisputeType) -> impl FnOnce(&mut Case) {
    move |case: &mut Case| {
        applicant(case);
        case.meta.dispute_type = Some(dispute);
        case.mediation.source = Some(source);
        case.mediation.accepted_on = day(4, 1);
        case.mediation.result = Some(result);
        case.mediation.result_on = day(4, 20);
    }
}

/// A petition routed to `to` and handed there in the same message.
fn routed_petition(to: Track) -> impl FnOnce(&mut Case) {
    move |case: &mut Case| {
        applicant(case);
        case.petition.channel = Some(Channel::Visit);
        case.petition.category = Some(PetitionCategory::Grievance);
        let to_unit = match to {
            Track::Reconsideration => {
                case.petition.route = Some(PetitionRoute::AdministrativeProcedure);
                let r = &mut case.reconsideration;
                r.respondent_agency = "青山县市场监督管理局".into();
                r.act.name = "行政处罚决定书".into();
                r.act.known_on = day(2, 10);
                r.request = Text::with_value("请求撤销行政处罚决定");
                fixtures::JUSTICE
            }
            _ => {
                case.petition.route = Some(PetitionRoute::LitigationProcedure);
                case.litigation.act_name = "不予登记决定".into();
                case.litigation.defendants = vec!["青山县自然资源局".into()];
                fixtures::LEGAL
            }
        };
        case.handoffs.push(HandoffRequest {
            id: "h1".into(),
            from_track: Some(Track::Petition),
            from_unit: fixtures::PETITION.into(),
            to_track: Some(to),
            to_unit: to_unit.into(),
            reason: "依法分类处理".into(),
            custody_version: 0,
            requested_by: "p1".into(),
            requested_at: Some(Instant::from_unix(at(2, 20).secs())),
            status: Some(HandoffStatus::Requested),
            ..HandoffRequest::default()
        });
    }
}

fn accept(by: &'static str) -> impl FnOnce(&mut Case) {
    move |case: &mut Case| {
        let handoff = case.handoffs.iter_mut().find(|h| h.id == "h1").expect("h1");
        assert_eq!(handoff.status, Some(HandoffStatus::Pending), "the handoff reached the receiver");
        handoff.decision.verdict = Some(HandoffVerdict::Accept);
        handoff.decision.by = by.into();
        handoff.decision.at = Some(Instant::from_unix(at(3, 1).secs()));
    }
}

/// The 109 concluded reconsiderations of the published figures.
fn decision(i: usize) -> ReconsiderationDecision {
    match i {
        0..23 => ReconsiderationDecision::Upheld,
        23..26 => ReconsiderationDecision::ClaimDismissed,
        26..66 => ReconsiderationDecision::Mediation,
        66..96 => ReconsiderationDecision::SettledWithdrawn,
        _ => ReconsiderationDecision::CorrectedWithdrawn,
    }
}

async fn load_county_figures(state: &AppState) {
    let a1 = principal("a1", fixtures::TOWN_A, Role::Mediator);
    let b1 = principal("b1", fixtures::TOWN_B, Role::Mediator);
    let p1 = principal("p1", fixtures::PETITION, Role::PetitionOfficer);
    let j1 = principal("j1", fixtures::JUSTICE, Role::ReconsiderationOfficer);
    let l1 = principal("l1", fixtures::LEGAL, Role::LitigationOfficer);

    // 1,153 mediations: 1,140 succeeded, 13 failed, in two townships.
    use DisputeType as D;
    use MediationResult as R;
    use MediationSource as S;
    let batches = [
        (&a1, fixtures::TOWN_A, R::Success, S::Application, D::Neighbour, 600),
        (&b1, fixtures::TOWN_B, R::Success, S::Initiative, D::MarriageFamily, 540),
        (&a1, fixtures::TOWN_A, R::Failed, S::Referral, D::HousingHomestead, 13),
    ];
    for (who, town, result, source, dispute, count) in batches {
        let message = template(who, CaseKind::Dispute, town, "某某与某某纠纷", mediation(result, source, dispute));
        open_many(state, who, message, count, at(3, 15)).await;
    }

    // 109 reconsiderations, from petitions handed to the justice bureau.
    let message =
        template(&p1, CaseKind::Petition, fixtures::TOWN_A, "对行政处罚不服", routed_petition(Track::Reconsideration));
    let ids = open_many(state, &p1, message, 109, at(2, 20)).await;
    for_each_case(&ids, |_, id| edit_and_push(state, &j1, id, at(3, 1), accept("j1"))).await;
    for_each_case(&ids, |i, id| {
        edit_and_push(state, &j1, id, at(5, 10), move |case| {
            let r = &mut case.reconsideration;
            r.accepted_on = day(3, 1);
            r.decision.kind = Some(decision(i));
            r.decision.decided_on = day(5, 10);
            r.decision.served_on = day(5, 12);
        })
    })
    .await;

    // 28 lawsuits, from petitions handed to the legal office, the head in court each time.
    let message =
        template(&p1, CaseKind::Petition, fixtures::TOWN_B, "不服不予登记决定", routed_petition(Track::Litigation));
    let ids = open_many(state, &p1, message, 28, at(2, 20)).await;
    for_each_case(&ids, |_, id| edit_and_push(state, &l1, id, at(3, 1), accept("l1"))).await;
    for_each_case(&ids, |_, id| {
        edit_and_push(state, &l1, id, at(6, 18), |case| {
            let l = &mut case.litigation;
            l.instance = Some(Instance::First);
            l.registered_on = day(3, 5);
            l.hearings.push(CourtHearing {
                id: "c1".into(),
                held_on: day(6, 18),
                head_appeared: true,
                head_name: "赵局长".into(),
                head_title: "局长".into(),
                head_spoke: true,
                ..CourtHearing::default()
            });
        })
    })
    .await;
}

const MEDIATION: &str = "调解成功率98.87%（1140/1153）";
const CORRECTION: &str = "综合纠错率76.15%（83/109）";
const HEAD: &str = "出庭应诉率100%（28/28）";

/// The rows of the workbook's first sheet whose first cell is `label`: (rate, numerator, denominator).
fn sheet_rate(range: &calamine::Range<calamine::Data>, label: &str) -> (f64, f64, f64) {
    use calamine::Data;
    let row = range
        .rows()
        .find(|row| matches!(&row[0], Data::String(s) if s == label))
        .unwrap_or_else(|| panic!("a row {label} in the workbook"));
    let number = |cell: &Data| match cell {
        Data::Float(f) => *f,
        Data::Int(i) => *i as f64,
        other => panic!("{label}: a number, not {other:?}"),
    };
    (number(&row[1]), number(&row[2]), number(&row[3]))
}

fn check_workbook(bytes: &[u8]) {
    use calamine::Reader;
    let mut workbook: calamine::Xlsx<_> =
        calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec())).expect("an xlsx workbook");
    let sheets = workbook.sheet_names();
    assert_eq!(sheets, vec!["年度统计".to_string(), "分乡镇".to_string()]);
    let range = workbook.worksheet_range("年度统计").expect("the figures sheet");
    let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
    let (rate, n, d) = sheet_rate(&range, "调解成功率");
    assert!(close(rate, 0.9887) && n == 1140.0 && d == 1153.0, "{rate} {n}/{d}");
    let (rate, n, d) = sheet_rate(&range, "行政复议综合纠错率");
    assert!(close(rate, 0.7615) && n == 83.0 && d == 109.0, "{rate} {n}/{d}");
    let (rate, n, d) = sheet_rate(&range, "行政机关负责人出庭应诉率");
    assert!(close(rate, 1.0) && n == 28.0 && d == 28.0, "{rate} {n}/{d}");
    let towns = workbook.worksheet_range("分乡镇").expect("the township sheet");
    let names: Vec<String> = towns.rows().skip(1).map(|r| r[0].to_string()).collect();
    assert_eq!(names, vec!["东溪镇".to_string(), "南河街道".to_string()]);
}

/// One request through the router: status, headers and the raw body.
pub(crate) async fn get(state: &AppState, path: &str, token: &str) -> (u16, axum::http::HeaderMap, Vec<u8>) {
    use tower::ServiceExt;
    let request = axum::http::Request::builder()
        .uri(path)
        .header("authorization", format!("Bearer {token}"))
        .body(axum::body::Body::empty())
        .expect("a request");
    let response = fengqiao_server::router(state.clone()).oneshot(request).await.expect("the router answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), 1 << 24).await.expect("a body").to_vec();
    (status, headers, body)
}

pub(crate) async fn login(state: &AppState, user: &str) -> String {
    let (status, body) = call(
        state,
        "POST",
        "/v1/auth/login",
        None,
        Some(serde_json::json!({ "user_id": user, "password": PASSWORD, "device_id": format!("{user}-web"), "device_name": "web" })),
    )
    .await;
    assert_eq!(status, 200, "login {user}: {body}");
    body["access_token"].as_str().expect("an access token").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_annual_report_shows_the_published_county_figures() {
    on_each_backend(|database, store| async move {
        seed_county(&store).await;
        add_user(&store, "j1", fixtures::JUSTICE, &[Role::ReconsiderationOfficer], PASSWORD).await;
        add_user(&store, "l1", fixtures::LEGAL, &[Role::LitigationOfficer], PASSWORD).await;
        let services =
            Services::start_on(store.clone(), &Settings::with_database(database.url.clone())).await.expect("services");
        let state = services.state();
        // Logging in registers each device, which the actor bindings refer to.
        for user in ["a1", "b1", "p1", "j1", "l1"] {
            login(&state, user).await;
        }
        let started = std::time::Instant::now();
        load_county_figures(&state).await;
        eprintln!("loaded 1,290 cases in {:?}", started.elapsed());

        let chief = login(&state, "chief").await;
        let (status, headers, text) = get(&state, "/v1/reports/annual?year=2025&unit=qingshan", &chief).await;
        let text = String::from_utf8(text).expect("UTF-8 text");
        assert_eq!(status, 200, "{text}");
        assert_eq!(headers["content-type"], "text/plain; charset=utf-8");
        for figure in [MEDIATION, CORRECTION, HEAD, "受理并调解矛盾纠纷1153件，调解成功1140件", "审结109件，其中维持23件、驳回复议请求3件"] {
            assert!(text.contains(figure), "the paragraph shows {figure}:\n{text}");
        }
        assert!(text.contains("新收行政复议案件109件"), "registered in 2025 through ingest:\n{text}");
        assert!(text.contains("登记信访事项137件"), "the petitions handed on still count as received:\n{text}");
        for personal in ["王建国", "330102197001011234", "13700001234"] {
            assert!(!text.contains(personal), "no personal data in the report");
        }

        let (status, headers, markdown) =
            get(&state, "/v1/reports/annual?year=2025&unit=qingshan&format=markdown", &chief).await;
        let markdown = String::from_utf8(markdown).expect("UTF-8 Markdown");
        assert_eq!(status, 200, "{markdown}");
        assert_eq!(headers["content-type"], "text/markdown; charset=utf-8");
        for row in [
            "| 调解成功率 | 98.87% | 1140 | 1153 |",
            "| 行政复议综合纠错率 | 76.15% | 83 | 109 |",
            "| 行政机关负责人出庭应诉率 | 100.00% | 28 | 28 |",
            "| 其中：调解、和解及纠正后撤回结案 | 83 |",
        ] {
            assert!(markdown.contains(row), "the table has {row}:\n{markdown}");
        }
        assert!(markdown.contains(MEDIATION) && markdown.contains(HEAD), "the paragraph is in the Markdown too");

        let (status, headers, xlsx) = get(&state, "/v1/reports/annual?year=2025&unit=qingshan&format=xlsx", &chief).await;
        assert_eq!(status, 200);
        assert_eq!(headers["content-type"], "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
        // 青山县2025年法治政府建设统计.xlsx, percent-encoded UTF-8.
        let disposition = headers["content-disposition"].to_str().expect("ASCII header");
        assert!(disposition.starts_with("attachment; filename=\"annual-report-qingshan-2025.xlsx\""), "{disposition}");
        assert!(
            disposition.ends_with(
                "filename*=UTF-8''%E9%9D%92%E5%B1%B1%E5%8E%BF2025%E5%B9%B4%E6%B3%95%E6%B2%BB%E6%94%BF%E5%BA%9C%E5%BB%BA%E8%AE%BE%E7%BB%9F%E8%AE%A1.xlsx"
            ),
            "{disposition}"
        );
        check_workbook(&xlsx);

        // A township's report holds its own mediations only.
        let (_, _, town) = get(&state, &format!("/v1/reports/annual?year=2025&unit={}", fixtures::TOWN_B), &chief).await;
        let town = String::from_utf8(town).expect("UTF-8");
        assert!(town.contains("调解成功率100%（540/540）"), "{town}");

        let mediator = login(&state, "a1").await;
        let (status, _, _) = get(&state, "/v1/reports/annual?year=2025&unit=qingshan", &mediator).await;
        assert_eq!(status, 403, "only supervisors read the report");
        let (status, _, body) = get(&state, "/v1/reports/annual?year=2025&unit=qingshan&format=pdf", &chief).await;
        assert_eq!(status, 400, "{}", String::from_utf8_lossy(&body));

        let (_, openapi) = call(&state, "GET", "/v1/openapi.json", None, None).await;
        assert!(openapi["paths"].get("/v1/reports/annual").is_some(), "the report is in the OpenAPI document");
        services.stop().await;

        // The command line writes the same figures from the database.
        // The URL itself (its `Display` hides the credentials).
        let url = match &database.url {
            fengqiao_server::store::DatabaseUrl::Sqlite(url) | fengqiao_server::store::DatabaseUrl::Postgres(url) => {
                url.clone()
            }
        };
        let dir = tempfile::tempdir().expect("a directory");
        let out = dir.path().join("report.xlsx");
        let run = |args: Vec<String>| {
            std::process::Command::new(env!("CARGO_BIN_EXE_fengqiao"))
                .arg("--database-url")
                .arg(&url)
                .args(args)
                .output()
                .expect("fengqiao runs")
        };
        let output = run(vec!["report".into(), "--year".into(), "2025".into(), "--unit".into(), "qingshan".into()]);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        assert!(stdout.contains(MEDIATION) && stdout.contains(CORRECTION) && stdout.contains(HEAD), "{stdout}");
        let args = ["report", "--year", "2025", "--unit", "qingshan", "--format", "xlsx", "--out"];
        let output = run(args.iter().map(|s| s.to_string()).chain([out.display().to_string()]).collect());
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        check_workbook(&std::fs::read(&out).expect("the workbook was written"));
    })
    .await;
}
