//! Projections and the JSON API over them: cases written through the real ingest and commit path
//! (`fengqiao_server::sync::ingest_message`, what a sync session runs) show up in the case list,
//! the inbox and the supervisor statistics, which follow every commit (a handoff accepted moves
//! custody and track), and the statistics carry no personal data.

use automerge::sync::{self, SyncDoc};
use automerge::{AutoCommit, Automerge};
use autosurgeon::{hydrate, reconcile, Text};
use fengqiao_schema::document::{Case, HandoffRequest, Party};
use fengqiao_schema::fixtures;
use fengqiao_schema::ids::CaseId;
use fengqiao_schema::time::Instant;
use fengqiao_schema::upgrade::{new_case_document, Intake};
use fengqiao_schema::vocab::*;
use fengqiao_server::auth::Principal;
use fengqiao_server::clock::Timestamp;
use fengqiao_server::{AppState, Services, Settings};

use crate::common::*;
use crate::tablet::{seed_county, PASSWORD};

/// A tablet holding one case: its user, device and document.
struct Tablet {
    principal: Principal,
    doc: AutoCommit,
}

impl Tablet {
    fn edit(&mut self, change: impl FnOnce(&mut Case)) {
        let mut case: Case = hydrate(&self.doc).expect("the case hydrates");
        change(&mut case);
        reconcile(&mut self.doc, &case).expect("reconcile");
        self.doc.commit();
    }
}

/// A sync message from `device` carrying what the server's copy `server` lacks.
fn message_for(device: &mut AutoCommit, server: &Automerge) -> Option<Vec<u8>> {
    let mut server = server.clone();
    let (mut ours, mut theirs) = (sync::State::new(), sync::State::new());
    for _ in 0..10 {
        let out = device.sync().generate_sync_message(&mut ours);
        if let Some(message) = &out {
            if !message.changes.is_empty() {
                return Some(message.clone().encode());
            }
            server.receive_sync_message(&mut theirs, message.clone()).expect("receive");
        }
        let back = server.generate_sync_message(&mut theirs);
        if let Some(message) = back.clone() {
            device.sync().receive_sync_message(&mut ours, message).expect("receive");
        }
        if out.is_none() && back.is_none() {
            return None;
        }
    }
    None
}

/// Sends the tablet's changes through ingest and takes the server's document back.
async fn push(state: &AppState, tablet: &mut Tablet, case_id: CaseId) {
    let server = state.documents.with_document(case_id, |d| d.clone()).await.expect("read").unwrap_or_default();
    let Some(message) = message_for(&mut tablet.doc, &server) else { return };
    let outcome = fengqiao_server::sync::ingest_message(state, tablet.principal.clone(), case_id, message)
        .await
        .expect("ingest runs");
    assert_eq!(outcome, Ok(()), "ingest accepted the changes");
    let committed = state.documents.with_document(case_id, |d| d.save()).await.expect("read").expect("stored");
    let mut local = tablet.doc.clone();
    local.load_incremental(&committed).expect("merge the server's changes");
    tablet.doc = local;
}

fn principal(id: &str, unit: &str, role: Role) -> Principal {
    Principal { user: fengqiao_schema::units::User::new(id, unit, &[role]), device: device(&format!("{id}-web")) }
}

fn open_case(who: &Principal, kind: CaseKind, title: &str, actor: u8) -> Tablet {
    let intake = Intake {
        kind,
        unit: who.user.unit.as_str().to_string(),
        user: who.user.id.as_str().to_string(),
        township: if kind == CaseKind::Dispute { who.user.unit.as_str().to_string() } else { fixtures::TOWN_A.to_string() },
        title: title.to_string(),
        created_at: Instant::from_unix(Timestamp::now().secs()),
    };
    let mut actor_bytes = [actor; 16];
    getrandom::getrandom(&mut actor_bytes[..8]).expect("random");
    let doc = new_case_document(automerge::ActorId::from(actor_bytes), &intake).expect("a new case");
    Tablet { principal: who.clone(), doc }
}

const APPLICANT_NAME: &str = "张秀兰";
const APPLICANT_ID: &str = "330102197805061234";
const APPLICANT_PHONE: &str = "13912345678";
const APPLICANT_ADDRESS: &str = "东溪镇上村七组十八号";

fn parties(case: &mut Case) {
    case.parties = vec![
        Party {
            id: "p1".into(),
            role: Some(PartyRole::Applicant),
            kind: Some(PartyKind::Person),
            name: APPLICANT_NAME.into(),
            id_number: APPLICANT_ID.into(),
            phone: APPLICANT_PHONE.into(),
            address: APPLICANT_ADDRESS.into(),
            represents: None,
        },
        Party {
            id: "p2".into(),
            role: Some(PartyRole::Respondent),
            kind: Some(PartyKind::Person),
            name: "李国强".into(),
            id_number: "330102198001019876".into(),
            phone: "13800001111".into(),
            address: "东溪镇下村二组".into(),
            represents: None,
        },
    ];
}

async fn start(database: &TestDatabase, store: &fengqiao_server::store::Store) -> Services {
    seed_county(store).await;
    add_user(store, "j1", fixtures::JUSTICE, &[Role::ReconsiderationOfficer], PASSWORD).await;
    Services::start_on(store.clone(), &Settings::with_database(database.url.clone())).await.expect("services")
}

async fn token(state: &AppState, user: &str) -> String {
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
async fn projections_follow_commits_through_a_handoff_and_the_api_shows_them() {
    on_each_backend(|database, store| async move {
        let services = start(&database, &store).await;
        let state = services.state();
        // Logging in registers each device, which the actor bindings refer to.
        let a1_token = token(&state, "a1").await;
        let j1_token = token(&state, "j1").await;
        let a1 = principal("a1", fixtures::TOWN_A, Role::Mediator);
        let j1 = principal("j1", fixtures::JUSTICE, Role::ReconsiderationOfficer);
        let case_id = random_case();
        let mut tablet = open_case(&a1, CaseKind::Dispute, "张某与李某宅基地纠纷", 1);
        tablet.edit(|case| {
            parties(case);
            case.meta.dispute_type = Some(DisputeType::HousingHomestead);
            case.mediation.source = Some(MediationSource::Application);
        });
        push(&state, &mut tablet, case_id).await;

        let (status, page) = call(&state, "GET", "/v1/cases?track=mediation", Some(&a1_token), None).await;
        assert_eq!(status, 200, "{page}");
        let cases = page["cases"].as_array().expect("cases");
        assert_eq!(cases.len(), 1, "{page}");
        assert_eq!(cases[0]["id"], case_id.to_string());
        assert_eq!(cases[0]["custody_unit"], fixtures::TOWN_A);
        assert_eq!(cases[0]["status"], "open");
        assert_eq!(cases[0]["dispute_type"], "housing_homestead");
        assert!(cases[0]["case_number"].as_str().is_some_and(|n| n.contains("调字第")), "{page}");
        let (_, other_town) = call(&state, "GET", "/v1/cases", Some(&token(&state, "b1").await), None).await;
        assert_eq!(other_town["cases"].as_array().map(Vec::len), Some(0), "another township reads nothing");
        let (_, by_text) = call(&state, "GET", "/v1/cases?q=%E5%AE%85%E5%9F%BA%E5%9C%B0", Some(&a1_token), None).await;
        assert_eq!(by_text["cases"].as_array().map(Vec::len), Some(1), "found by 宅基地 in the title");

        // Mediation fails; the mediator hands the case to the county's reconsideration office.
        let today = Instant::from_unix(Timestamp::now().secs()).china_date();
        tablet.edit(|case| {
            case.mediation.accepted_on = Some(today);
            case.mediation.result = Some(MediationResult::Failed);
            case.mediation.result_on = Some(today);
            case.mediation.routes_told = Text::with_value("已告知可申请行政复议");
            case.reconsideration.respondent_agency = "青山县自然资源局".into();
            case.reconsideration.act.name = "行政处罚决定书".into();
            case.reconsideration.act.known_on = Some(today);
            case.reconsideration.request = Text::with_value("请求撤销处罚决定");
            let version = case.custody.version;
            case.handoffs.push(HandoffRequest {
                id: "h1".into(),
                from_track: Some(Track::Mediation),
                from_unit: fixtures::TOWN_A.into(),
                to_track: Some(Track::Reconsideration),
                to_unit: fixtures::JUSTICE.into(),
                reason: "调解不成，当事人申请行政复议".into(),
                custody_version: version,
                requested_by: "a1".into(),
                requested_at: Some(Instant::from_unix(Timestamp::now().secs())),
                status: Some(HandoffStatus::Requested),
                ..HandoffRequest::default()
            });
        });
        push(&state, &mut tablet, case_id).await;

        let (status, inbox) = call(&state, "GET", "/v1/inbox", Some(&j1_token), None).await;
        assert_eq!(status, 200, "{inbox}");
        let handoffs = inbox["handoffs"].as_array().expect("handoffs");
        assert_eq!(handoffs.len(), 1, "the pending handoff is in the receiving unit's inbox: {inbox}");
        assert_eq!(handoffs[0]["handoff_id"], "h1");
        assert_eq!(handoffs[0]["to_track"], "reconsideration");

        // The justice bureau accepts on its own device.
        let mut county = Tablet { principal: j1.clone(), doc: tablet.doc.fork() };
        county.doc.set_actor(automerge::ActorId::random());
        county.edit(|case| {
            let handoff = case.handoffs.iter_mut().find(|h| h.id == "h1").expect("h1");
            handoff.decision.verdict = Some(HandoffVerdict::Accept);
            handoff.decision.by = "j1".into();
            handoff.decision.at = Some(Instant::from_unix(Timestamp::now().secs()));
        });
        push(&state, &mut county, case_id).await;

        let (_, page) = call(&state, "GET", "/v1/cases", Some(&j1_token), None).await;
        let cases = page["cases"].as_array().expect("cases");
        assert_eq!(cases.len(), 1, "{page}");
        assert_eq!(cases[0]["custody_unit"], fixtures::JUSTICE, "custody moved in the projection: {page}");
        assert_eq!(cases[0]["track"], "reconsideration");
        let (_, inbox) = call(&state, "GET", "/v1/inbox", Some(&j1_token), None).await;
        assert_eq!(inbox["handoffs"].as_array().map(Vec::len), Some(0), "decided: no longer pending");
        let (_, still) = call(&state, "GET", "/v1/cases", Some(&a1_token), None).await;
        assert_eq!(still["cases"].as_array().map(Vec::len), Some(1), "the former custodian still reads it");
        // Search by number or title still finds the case after its projection was rewritten: by the
        // trigram index on SQLite for three characters or more, by LIKE for fewer.
        let number = cases[0]["case_number"].as_str().expect("a case number").to_string();
        let digits = number.trim_end_matches('号').rsplit('第').next().expect("a serial").to_string();
        for (q, found) in [
            (number.clone(), 1),
            (format!("第{digits}号"), 1),
            ("宅基".to_string(), 1),
            ("李某宅基地纠纷".to_string(), 1),
            ("宅基地\"".to_string(), 0),
            (format!("第{digits}0号"), 0),
        ] {
            let encoded: String = q.bytes().map(|b| format!("%{b:02X}")).collect();
            let (status, page) = call(&state, "GET", &format!("/v1/cases?q={encoded}"), Some(&j1_token), None).await;
            assert_eq!(status, 200, "{page}");
            assert_eq!(page["cases"].as_array().map(Vec::len), Some(found), "search «{q}»: {page}");
        }

        // The supervisor's figures: the failed mediation counts, and no personal data appears.
        let chief = token(&state, "chief").await;
        let year = &today.to_string()[..4];
        let path = format!("/v1/stats?unit={}&from={year}-01-01&to={year}-12-31", fixtures::COUNTY);
        let (status, stats) = call(&state, "GET", &path, Some(&chief), None).await;
        assert_eq!(status, 200, "{stats}");
        let mediation = stats["rates"].as_array().expect("rates").iter().find(|r| r["code"] == "mediation_success").cloned();
        let mediation = mediation.expect("the mediation success rate");
        assert_eq!((mediation["numerator"].as_u64(), mediation["denominator"].as_u64()), (Some(0), Some(1)));
        assert_eq!(stats["by_track"]["reconsideration"], 1, "{stats}");
        let text = stats.to_string();
        for personal in [APPLICANT_NAME, APPLICANT_ID, APPLICANT_PHONE, APPLICANT_ADDRESS, "李国强", "13800001111"] {
            assert!(!text.contains(personal), "the statistics show personal data {personal}: {text}");
        }
        let (status, _) = call(&state, "GET", &path, Some(&a1_token), None).await;
        assert_eq!(status, 403, "a mediator is not a supervisor");

        // The OpenAPI document is generated from the code and lists the endpoints.
        let (status, openapi) = call(&state, "GET", "/v1/openapi.json", None, None).await;
        assert_eq!(status, 200);
        for path in ["/v1/cases", "/v1/inbox", "/v1/stats", "/v1/attachments/{sha256}", "/v1/cases/{id}/review/{item}/done"] {
            assert!(openapi["paths"].get(path).is_some(), "{path} is in the OpenAPI document");
        }
        services.stop().await;
    })
    .await;
}

/// Plain edits of a registered case (no server change) are projected from the sections they touch
/// (`store::projections::ProjectedCase`): every commit's rows still equal what the whole document
/// gives, through the cache and after the case is loaded afresh.
#[tokio::test]
async fn edits_after_registration_are_projected_from_the_sections_they_touch() {
    on_each_backend(|database, store| async move {
        let services = start(&database, &store).await;
        let state = services.state();
        let a1_token = token(&state, "a1").await;
        let a1 = principal("a1", fixtures::TOWN_A, Role::Mediator);
        let case_id = random_case();
        let mut tablet = open_case(&a1, CaseKind::Dispute, "宅基地纠纷", 3);
        tablet.edit(parties);
        push(&state, &mut tablet, case_id).await;
        let listed = |page: serde_json::Value| page["cases"][0].clone();

        // Facts only: nothing the list shows changes.
        tablet.edit(|case| case.claims.facts = Text::with_value("双方因排水沟走向发生争执"));
        push(&state, &mut tablet, case_id).await;
        let (_, page) = call(&state, "GET", "/v1/cases", Some(&a1_token), None).await;
        assert_eq!(listed(page.clone())["title"], "宅基地纠纷", "{page}");
        assert_eq!(listed(page.clone())["status"], "open", "{page}");

        // The title and the dispute type, then a mediation result: the list follows each.
        tablet.edit(|case| {
            case.meta.title = "张某与李某宅基地纠纷".into();
            case.meta.dispute_type = Some(DisputeType::HousingHomestead);
        });
        push(&state, &mut tablet, case_id).await;
        let (_, page) = call(&state, "GET", "/v1/cases", Some(&a1_token), None).await;
        assert_eq!(listed(page.clone())["title"], "张某与李某宅基地纠纷", "{page}");
        assert_eq!(listed(page.clone())["dispute_type"], "housing_homestead", "{page}");

        let today = Instant::from_unix(Timestamp::now().secs()).china_date();
        tablet.edit(|case| {
            case.mediation.accepted_on = Some(today);
            case.mediation.result = Some(MediationResult::Success);
            case.mediation.result_on = Some(today);
        });
        push(&state, &mut tablet, case_id).await;
        let (_, page) = call(&state, "GET", "/v1/cases", Some(&a1_token), None).await;
        assert_eq!(listed(page.clone())["status"], "concluded", "{page}");

        // The case loaded afresh (no projection kept): one more edit still projects it whole.
        state.documents.forget(&case_id);
        tablet.edit(|case| case.meta.title = "张某与李某宅基地纠纷（已结）".into());
        push(&state, &mut tablet, case_id).await;
        let (_, page) = call(&state, "GET", "/v1/cases", Some(&a1_token), None).await;
        assert_eq!(listed(page.clone())["title"], "张某与李某宅基地纠纷（已结）", "{page}");
        assert_eq!(listed(page.clone())["status"], "concluded", "{page}");
    })
    .await;
}
