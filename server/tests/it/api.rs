//! The JSON API's writes: attachments stored and served by hash (the hash is checked, the size is
//! bounded, only readers of a case that lists an attachment download it) and review items marked
//! done (only by the units the item is for, written into the document by the server). Cases are
//! written through the real ingest path, as a tablet's sync would.

use automerge::sync::{Message, MessageVersion};
use automerge::{ActorId, AutoCommit, ChangeHash};
use autosurgeon::{hydrate, reconcile, Text};
use fengqiao_schema::document::{Attachment, Case, HandoffDecision, HandoffRequest, Party};
use fengqiao_schema::fixtures;
use fengqiao_schema::ids::CaseId;
use fengqiao_schema::time::Instant;
use fengqiao_schema::upgrade::{new_case_document, Intake};
use fengqiao_schema::vocab::*;
use fengqiao_server::auth::Principal;
use fengqiao_server::clock::Timestamp;
use fengqiao_server::{AppState, Services, Settings};
use sha2::{Digest, Sha256};

use crate::common::*;
use crate::tablet::{seed_county, PASSWORD};

/// One request through the router with a raw body: status and body bytes.
async fn call_bytes(state: &AppState, method: &str, path: &str, bearer: &str, body: Vec<u8>) -> (u16, Vec<u8>) {
    use tower::ServiceExt;
    let request = axum::http::Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {bearer}"))
        .header("content-type", "application/octet-stream")
        .body(axum::body::Body::from(body))
        .expect("a request");
    let response = fengqiao_server::router(state.clone()).oneshot(request).await.expect("the router answers");
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), 64 << 20).await.expect("a body");
    (status, bytes.to_vec())
}

fn json_code(bytes: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(bytes).map(|v| code(&v)).unwrap_or_else(|_| "-".into())
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) async fn token(state: &AppState, user: &str) -> String {
    let (status, body) = call(
        state,
        "POST",
        "/v1/auth/login",
        None,
        Some(serde_json::json!({ "user_id": user, "password": PASSWORD, "device_id": format!("{user}-pad"), "device_name": "平板" })),
    )
    .await;
    assert_eq!(status, 200, "login {user}: {body}");
    body["access_token"].as_str().expect("an access token").to_string()
}

/// A case on one user's tablet, pushed through ingest and kept in step with the server.
pub(crate) struct Tablet {
    pub(crate) case_id: CaseId,
    pub(crate) doc: AutoCommit,
    synced: Vec<ChangeHash>,
}

impl Tablet {
    pub(crate) fn open(who: &Principal, title: &str) -> Tablet {
        let intake = Intake {
            kind: CaseKind::Dispute,
            unit: who.user.unit.as_str().to_string(),
            user: who.user.id.as_str().to_string(),
            township: who.user.unit.as_str().to_string(),
            title: title.to_string(),
            created_at: Instant::from_unix(Timestamp::now().secs()),
        };
        let doc = new_case_document(ActorId::random(), &intake).expect("a new case");
        Tablet { case_id: random_case(), doc, synced: Vec::new() }
    }

    /// `who` edits on their device (its own actor) and syncs; `Ok` when ingest accepted it.
    pub(crate) async fn push(
        &mut self,
        state: &AppState,
        who: &Principal,
        actor: &ActorId,
        edit: impl FnOnce(&mut Case),
    ) {
        self.doc.set_actor(actor.clone());
        let mut case: Case = hydrate(&self.doc).expect("hydrates");
        edit(&mut case);
        reconcile(&mut self.doc, &case).expect("reconcile");
        self.doc.commit();
        let changes: Vec<Vec<u8>> = self.doc.get_changes(&self.synced).iter().map(|c| c.raw_bytes().to_vec()).collect();
        let message = Message {
            heads: self.doc.get_heads(),
            need: Vec::new(),
            have: Vec::new(),
            changes: changes.into(),
            flags: None,
            version: MessageVersion::V1,
        }
        .encode();
        let outcome = fengqiao_server::sync::ingest_message(state, who.clone(), self.case_id, message)
            .await
            .expect("ingest runs");
        assert_eq!(outcome, Ok(()), "ingest accepted the changes");
        let ours = self.doc.get_heads();
        let theirs =
            state.documents.with_document(self.case_id, |d| d.save_after(&ours)).await.expect("read").expect("stored");
        self.doc.load_incremental(&theirs).expect("merge");
        self.synced = self.doc.get_heads();
    }

    pub(crate) fn case(&mut self) -> Case {
        hydrate(&self.doc).expect("hydrates")
    }
}

pub(crate) fn principal(id: &str, unit: &str, role: Role) -> Principal {
    Principal { user: fengqiao_schema::units::User::new(id, unit, &[role]), device: device(&format!("{id}-pad")) }
}

pub(crate) async fn start(database: &TestDatabase, store: &fengqiao_server::store::Store) -> Services {
    seed_county(store).await;
    add_user(store, "j1", fixtures::JUSTICE, &[Role::ReconsiderationOfficer], PASSWORD).await;
    add_user(store, "root", fixtures::COUNTY, &[Role::Admin], PASSWORD).await;
    Services::start_on(store.clone(), &Settings::with_database(database.url.clone())).await.expect("services")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attachments_are_checked_by_hash_bounded_in_size_and_served_only_to_readers_of_a_listing_case() {
    on_each_backend(|database, store| async move {
        let services = start(&database, &store).await;
        let state = services.state();
        let (a1, b1, chief, root) = (
            token(&state, "a1").await,
            token(&state, "b1").await,
            token(&state, "chief").await,
            token(&state, "root").await,
        );
        let bytes = "调解协议书：双方自愿达成如下协议。".repeat(200).into_bytes();
        let sha = sha256_hex(&bytes);
        let path = format!("/v1/attachments/{sha}");

        // (who, path, body, status, code)
        let other = sha256_hex(b"something else");
        let too_large = vec![0u8; fengqiao_server::api::ATTACHMENT_LIMIT + 1];
        let too_large_path = format!("/v1/attachments/{}", sha256_hex(&too_large));
        let puts: Vec<(&str, String, Vec<u8>, u16, &str)> = vec![
            (&a1, format!("/v1/attachments/{other}"), bytes.clone(), 400, "bad_request"),
            (&a1, "/v1/attachments/ABC".to_string(), bytes.clone(), 400, "bad_request"),
            (&a1, format!("/v1/attachments/{}", sha.to_uppercase()), bytes.clone(), 400, "bad_request"),
            (&a1, too_large_path.clone(), too_large, 413, "-"),
            (&root, path.clone(), bytes.clone(), 403, "forbidden"),
            (&a1, path.clone(), bytes.clone(), 201, "-"),
            // Storing the same bytes again is harmless.
            (&b1, path.clone(), bytes.clone(), 201, "-"),
        ];
        for (who, path, body, status, expected_code) in puts {
            let (got, answer) = call_bytes(&state, "PUT", &path, who, body).await;
            assert_eq!(
                (got, json_code(&answer).as_str()),
                (status, expected_code),
                "PUT {path}: {}",
                String::from_utf8_lossy(&answer)
            );
            if status == 201 {
                let stored: serde_json::Value = serde_json::from_slice(&answer).expect("json");
                assert_eq!(stored["sha256"], sha);
                assert_eq!(stored["size"], bytes.len());
            }
        }
        let (status, _) = call_bytes(&state, "GET", &too_large_path, &a1, Vec::new()).await;
        assert_eq!(status, 404, "an attachment refused for its size was not stored");

        // Stored, but listed by no case yet: nobody downloads it.
        let (status, _) = call_bytes(&state, "GET", &path, &a1, Vec::new()).await;
        assert_eq!(status, 404, "no case lists it yet");

        // 东溪镇's mediator lists it in a case.
        let a1_principal = principal("a1", fixtures::TOWN_A, Role::Mediator);
        let mut tablet = Tablet::open(&a1_principal, "张某与李某邻里纠纷");
        let actor = ActorId::random();
        let size = bytes.len() as u64;
        let listed = sha.clone();
        tablet
            .push(&state, &a1_principal, &actor, |case| {
                case.attachments.push(Attachment {
                    id: "a1".into(),
                    name: "调解协议书.pdf".into(),
                    media_type: "application/pdf".into(),
                    size,
                    sha256: listed,
                    document_type: "调解协议书".into(),
                    ..Attachment::default()
                });
            })
            .await;

        // (who, path, status): the case's readers download; another township and unknown or
        // malformed hashes get the same not-found.
        let gets = [
            (&a1, path.clone(), 200),
            (&chief, path.clone(), 200),
            (&b1, path.clone(), 404),
            (&root, path.clone(), 404),
            (&a1, format!("/v1/attachments/{other}"), 404),
            (&a1, "/v1/attachments/not-a-hash".to_string(), 404),
        ];
        for (who, path, status) in gets {
            let (got, body) = call_bytes(&state, "GET", &path, who, Vec::new()).await;
            assert_eq!(got, status, "GET {path}");
            if status == 200 {
                assert_eq!(body, bytes, "the bytes come back as stored");
            } else {
                assert_eq!(json_code(&body), "not_found");
            }
        }
        services.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_review_item_is_marked_done_by_a_unit_it_is_for_and_written_into_the_document() {
    on_each_backend(|database, store| async move {
        let services = start(&database, &store).await;
        let state = services.state();
        let (a1, b1, j1, chief) = (
            token(&state, "a1").await,
            token(&state, "b1").await,
            token(&state, "j1").await,
            token(&state, "chief").await,
        );
        let a1_principal = principal("a1", fixtures::TOWN_A, Role::Mediator);
        let j1_principal = principal("j1", fixtures::JUSTICE, Role::ReconsiderationOfficer);
        let (a1_actor, j1_actor) = (ActorId::random(), ActorId::random());
        let today = Instant::from_unix(Timestamp::now().secs()).china_date();

        // A failed mediation handed to the justice bureau, which accepts it.
        let mut tablet = Tablet::open(&a1_principal, "张某与某局行政处罚纠纷");
        tablet
            .push(&state, &a1_principal, &a1_actor, |case| {
                case.parties = vec![Party {
                    id: "p1".into(),
                    role: Some(PartyRole::Applicant),
                    kind: Some(PartyKind::Person),
                    name: "张秀兰".into(),
                    phone: "13912345678".into(),
                    ..Party::default()
                }];
                case.mediation.accepted_on = Some(today);
                case.mediation.result = Some(MediationResult::Failed);
                case.mediation.result_on = Some(today);
                case.mediation.routes_told = Text::with_value("已告知可申请行政复议");
                case.reconsideration.respondent_agency = "青山县自然资源局".into();
                case.reconsideration.act.name = "行政处罚决定书".into();
                case.reconsideration.act.known_on = Some(today);
                case.reconsideration.request = Text::with_value("请求撤销处罚决定");
                case.handoffs.push(HandoffRequest {
                    id: "h1".into(),
                    to_track: Some(Track::Reconsideration),
                    to_unit: fixtures::JUSTICE.into(),
                    reason: "调解不成".into(),
                    custody_version: case.custody.version,
                    requested_by: "a1".into(),
                    status: Some(HandoffStatus::Requested),
                    ..HandoffRequest::default()
                });
            })
            .await;
        tablet
            .push(&state, &j1_principal, &j1_actor, |case| {
                case.handoffs[0].decision = HandoffDecision {
                    verdict: Some(HandoffVerdict::Accept),
                    by: "j1".into(),
                    ..HandoffDecision::default()
                };
            })
            .await;
        assert_eq!(tablet.case().custody.unit, fixtures::JUSTICE, "custody moved");

        // The mediator's tablet, offline meanwhile, corrects a phone number: the server restores
        // the parties and leaves a review item for both units.
        tablet
            .push(&state, &a1_principal, &a1_actor, |case| {
                case.parties[0].phone = "13800000000".into();
            })
            .await;
        let case = tablet.case();
        assert_eq!(case.parties[0].phone, "13912345678", "the late edit was reverted");
        let item =
            case.review.iter().find(|r| r.kind == Some(ReviewKind::RevertedEdit)).expect("a review item").clone();
        assert!(!item.done);
        assert!(item.units.iter().any(|u| u == fixtures::JUSTICE), "{item:?}");
        let (_, inbox) = call(&state, "GET", "/v1/inbox", Some(&j1), None).await;
        let open_items = |inbox: &serde_json::Value| inbox["review"].as_array().map(Vec::len).unwrap_or(0);
        assert_eq!(open_items(&inbox), 1, "the item is in the justice bureau's inbox: {inbox}");

        let done_path = format!("/v1/cases/{}/review/{}/done", tablet.case_id, item.id);
        // (who, path, status, code)
        let refusals = [
            (&b1, done_path.clone(), 404, "not_found"),
            (&chief, done_path.clone(), 403, "forbidden"),
            (&j1, format!("/v1/cases/{}/review/no-such-item/done", tablet.case_id), 404, "not_found"),
            (&j1, format!("/v1/cases/{}/review/{}/done", random_case(), item.id), 404, "not_found"),
            (&j1, format!("/v1/cases/not-a-case/review/{}/done", item.id), 404, "not_found"),
        ];
        for (who, path, status, expected) in refusals {
            let (got, body) = call(&state, "POST", &path, Some(who), None).await;
            assert_eq!((got, code(&body)), (status, expected.to_string()), "POST {path}: {body}");
        }
        let stored = state.documents.with_document(tablet.case_id, |d| hydrate::<_, Case>(d).expect("hydrates")).await;
        assert!(
            !stored.expect("read").expect("stored").review.iter().any(|r| r.done),
            "nothing was marked by a refusal"
        );

        let (status, done) = call(&state, "POST", &done_path, Some(&j1), None).await;
        assert_eq!(status, 200, "{done}");
        assert_eq!(
            (done["case_id"].as_str(), done["item_id"].as_str(), done["done_by"].as_str()),
            (Some(tablet.case_id.to_string().as_str()), Some(item.id.as_str()), Some("j1"))
        );
        let done_at = done["done_at"].as_str().expect("done_at").to_string();

        // The server wrote it into the document (the tablet gets it at its next sync) and the
        // inbox no longer lists it.
        let ours = tablet.doc.get_heads();
        let theirs = state
            .documents
            .with_document(tablet.case_id, |d| d.save_after(&ours))
            .await
            .expect("read")
            .expect("stored");
        tablet.doc.load_incremental(&theirs).expect("merge");
        let marked = tablet.case().review.into_iter().find(|r| r.id == item.id).expect("the item");
        assert!(marked.done);
        assert_eq!(marked.done_by, "j1");
        assert_eq!(marked.done_at.map(|t| t.to_string()), Some(done_at.clone()));
        let (_, inbox) = call(&state, "GET", "/v1/inbox", Some(&j1), None).await;
        assert_eq!(open_items(&inbox), 0, "done items leave the inbox: {inbox}");

        // Marking it again changes nothing and says who did it first; the mediator's unit may too.
        let (status, again) = call(&state, "POST", &done_path, Some(&a1), None).await;
        assert_eq!(status, 200, "{again}");
        assert_eq!((again["done_by"].as_str(), again["done_at"].as_str()), (Some("j1"), Some(done_at.as_str())));
        services.stop().await;
    })
    .await;
}
