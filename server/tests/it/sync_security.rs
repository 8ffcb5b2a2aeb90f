//! What the sync endpoints refuse, as a table: bad tokens (expired, wrongly signed, `alg: none`,
//! wrong audience, revoked device, none at all), a case outside the user's jurisdiction (answered
//! exactly as a case id nobody ever used), and oversized or malformed messages on both transports.
//! Each row carries changes that must not be stored, and the test checks that nothing was.

use std::time::Duration;

use automerge::sync::{self, SyncDoc};
use automerge::transaction::Transactable;
use automerge::{ActorId, Automerge, ROOT};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use expect_test::expect;
use fengqiao_schema::fixtures::{TOWN_A, TOWN_B};
use fengqiao_schema::ids::{CaseId, UnitId, UserId};
use fengqiao_schema::units::User;
use fengqiao_schema::vocab::{CaseKind, Role};
use fengqiao_server::auth::tokens::Claims;
use fengqiao_server::clock::Timestamp;
use fengqiao_server::store::Store;
use fengqiao_server::Settings;
use fengqiao_sync::protocol::{ClientBatch, ClientMessage, Cursor, DocMessage, DocReply, Hello, Limits, ServerMessage};
use futures_util::SinkExt;
use tokio_tungstenite::tungstenite::Message;

use crate::common::*;
use crate::tablet::*;

const LIMITS: Limits = Limits { max_message_bytes: 64 * 1024, max_entries: 8, max_doc_message_bytes: 16 * 1024 };

/// The sync message a device sends for a case it created, once the server said it holds nothing:
/// it carries the whole case.
fn upload(doc: &Automerge) -> Vec<u8> {
    let mut state = sync::State::new();
    let nothing = Automerge::new().generate_sync_message(&mut sync::State::new()).expect("a first message");
    let mut doc = doc.clone();
    doc.receive_sync_message(&mut state, nothing).expect("receive");
    doc.generate_sync_message(&mut state).expect("a message with the changes").encode()
}

fn batch(entries: Vec<(CaseId, Vec<u8>)>) -> ClientMessage {
    ClientMessage::Batch(ClientBatch {
        round: 1,
        cursor: Cursor::from_bytes(vec![2; 17]).expect("a cursor"),
        entries: entries.into_iter().map(|(doc_id, message)| DocMessage { doc_id, message }).collect(),
    })
}

fn hello() -> ClientMessage {
    ClientMessage::Hello(Hello { cursor: None, agent: "security-test".into() })
}

fn describe(status: u16, message: &ServerMessage) -> String {
    match message {
        ServerMessage::Error(f) => format!("{status} {} retry={}", f.code, f.retry),
        ServerMessage::Batch(b) => {
            let entries: Vec<String> = b
                .entries
                .iter()
                .map(|e| match e {
                    DocReply::Rejected { code, .. } => format!("rejected {code}"),
                    DocReply::Sync { .. } => "sync".into(),
                    DocReply::Saved { .. } => "saved".into(),
                    DocReply::Deferred { .. } => "deferred".into(),
                })
                .collect();
            format!("{status} batch [{}]", entries.join(", "))
        }
        other => format!("{status} {}", other.kind()),
    }
}

/// Signs claims with the server's key (or another secret), with the server's key id.
async fn forge(store: &Store, claims: &Claims, secret: Option<&[u8]>) -> String {
    let key = store.signing_keys().await.expect("keys").into_iter().find(|k| k.retired_at.is_none()).expect("a key");
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some(key.kid.0.clone());
    let secret = secret.unwrap_or(&key.secret);
    jsonwebtoken::encode(&header, claims, &jsonwebtoken::EncodingKey::from_secret(secret)).expect("sign")
}

fn claims_for(user: &str, unit: &str, device: &str) -> Claims {
    let now = Timestamp::now().secs();
    Claims {
        sub: UserId::new(user),
        unit: UnitId::new(unit),
        roles: vec![Role::Mediator],
        device: device.into(),
        aud: "fengqiao".into(),
        iss: "fengqiao".into(),
        iat: now,
        exp: now + 600,
    }
}

/// What a server that stored nothing since `before` holds.
async fn assert_nothing_stored(store: &Store, before: i64, cases: &[CaseId], what: &str) {
    assert_eq!(store.feed_head().await.expect("head").0, before, "{what}: the feed moved");
    for case_id in cases {
        assert!(store.load_document(*case_id).await.expect("load").is_none(), "{what}: {case_id} was stored");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sync_endpoints_refuse_bad_tokens_foreign_cases_and_bad_messages_storing_nothing() {
    on_each_backend(|database, store| async move {
        seed_county(&store).await;
        let mut settings = Settings::with_database(database.url.clone());
        settings.sync.limits = LIMITS;
        let server = TestServer::start(store.clone(), settings).await;
        let address = server.address;
        let state = server.state();

        // a1's case in 东溪镇, stored.
        let mut a1 = Tablet::login(address, "a1", "a1-tablet").await;
        let existing = a1.open_case(CaseKind::Dispute, TOWN_A, "张某与李某宅基地纠纷");
        a1.sync_http(address).await;
        let existing_heads = stored_heads(&store, existing).await;

        // b1 of 南河街道, with a case of its own to upload in every row.
        let b1_token = login(address, "b1", "b1-tablet").await.expect("login");
        let mut b1 = Tablet::new("b1", b1_token.clone());
        let new_case = b1.open_case(CaseKind::Dispute, TOWN_B, "南河街道的新案件");
        let upload_new = upload(&b1.replica[&new_case]);
        let old_token = login(address, "b1", "b1-old-tablet").await.expect("login");
        store.revoke_device(&device("b1-old-tablet"), Timestamp::now()).await.expect("revoke");
        let before = store.feed_head().await.expect("head").0;

        // 1. Tokens.
        let b1_user = User::new("b1", TOWN_B, &[Role::Mediator]);
        let (expired, _) = state
            .auth
            .issue_access_token(&b1_user, &device("b1-tablet"), Timestamp::now().minus(Duration::from_secs(3600)))
            .await
            .expect("a token");
        let claims = claims_for("b1", TOWN_B, "b1-tablet");
        let wrongly_signed = forge(&store, &claims, Some(b"not the server's secret at all!")).await;
        let wrong_audience = forge(&store, &Claims { aud: "another-service".into(), ..claims.clone() }, None).await;
        let alg_none = {
            let key = store.signing_keys().await.expect("keys").remove(0);
            let header = serde_json::json!({ "alg": "none", "typ": "JWT", "kid": key.kid.0 });
            let encode = |v: &serde_json::Value| URL_SAFE_NO_PAD.encode(v.to_string());
            format!("{}.{}.", encode(&header), encode(&serde_json::to_value(&claims).expect("claims")))
        };
        let tokens = [
            ("expired", Some(expired.as_str().to_string())),
            ("wrongly signed", Some(wrongly_signed)),
            ("alg none", Some(alg_none)),
            ("wrong audience", Some(wrong_audience)),
            ("revoked device", Some(old_token)),
            ("no token", None),
        ];
        let mut table = String::new();
        for (name, token) in &tokens {
            let body = batch(vec![(new_case, upload_new.clone())]).encode();
            let (status, bytes) = http_request(
                address,
                "POST",
                "/v1/sync",
                &token.iter().map(|t| ("authorization", format!("Bearer {t}"))).collect::<Vec<_>>(),
                body,
            )
            .await
            .expect("an answer");
            let message = ServerMessage::decode(&bytes, &Limits::DEFAULT).expect("a protocol message");
            let ws = match connect_ws(address, token.as_deref().unwrap_or("")).await {
                Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                    let message = ServerMessage::decode(response.body().as_deref().unwrap_or_default(), &LIMITS)
                        .expect("a protocol error");
                    describe(response.status().as_u16(), &message)
                }
                other => format!("upgraded: {:?}", other.map(|_| ())),
            };
            table.push_str(&format!("{name}: http {} | ws {ws}\n", describe(status, &message)));
            assert_nothing_stored(&store, before, &[new_case], name).await;
        }
        expect![[r#"
            expired: http 401 unauthorized retry=true | ws 401 unauthorized retry=true
            wrongly signed: http 401 unauthorized retry=true | ws 401 unauthorized retry=true
            alg none: http 401 unauthorized retry=true | ws 401 unauthorized retry=true
            wrong audience: http 401 unauthorized retry=true | ws 401 unauthorized retry=true
            revoked device: http 403 device_revoked retry=false | ws 403 device_revoked retry=false
            no token: http 401 unauthorized retry=true | ws 401 unauthorized retry=true
        "#]]
        .assert_eq(&table);

        // 2. A case outside the user's jurisdiction looks exactly like a case id never used.
        let never_used = random_case();
        let mut foreign_copy = a1.replica[&existing].clone();
        let heads_only = foreign_copy.generate_sync_message(&mut sync::State::new()).expect("a message").encode();
        let fetch = Automerge::new().generate_sync_message(&mut sync::State::new()).expect("a message").encode();
        let change_on_top = {
            foreign_copy.set_actor(ActorId::random());
            let heads = foreign_copy.get_heads();
            let claims = match automerge::ReadDoc::get(&foreign_copy, ROOT, "claims").expect("read") {
                Some((_, id)) => id,
                None => panic!("a case has claims"),
            };
            let mut tx = foreign_copy.transaction();
            tx.put(&claims, "note", "越权修改").expect("put");
            tx.commit();
            let change = foreign_copy.get_changes(&heads).remove(0).raw_bytes().to_vec();
            sync::Message {
                heads: foreign_copy.get_heads(),
                need: Vec::new(),
                have: Vec::new(),
                changes: change.into(),
                flags: None,
                version: sync::MessageVersion::V1,
            }
            .encode()
        };
        let mut table = String::new();
        for (name, message) in [("heads", heads_only), ("fetch", fetch), ("changes on its history", change_on_top)] {
            let mut answers = Vec::new();
            for case_id in [existing, never_used] {
                let (status, answer) = post_sync(address, &b1_token, batch(vec![(case_id, message.clone())]).encode())
                    .await
                    .expect("answer");
                answers
                    .push((describe(status, &answer), format!("{answer:?}").replace(&case_id.to_string(), "<case>")));
            }
            assert_eq!(answers[0], answers[1], "{name}: a foreign case must look like a missing one");
            table.push_str(&format!("{name}: {}\n", answers[0].0));
        }
        expect![[r#"
            heads: 200 batch [sync]
            fetch: 200 batch [rejected not_found]
            changes on its history: 200 batch [rejected not_found]
        "#]]
        .assert_eq(&table);
        assert_eq!(stored_heads(&store, existing).await, existing_heads, "the foreign case is unchanged");
        assert_nothing_stored(&store, before, &[new_case, never_used], "jurisdiction").await;

        // 3. Oversized and malformed messages over HTTP.
        let valid_hello = hello().encode();
        let mut wrong_version = valid_hello.clone();
        wrong_version[1] = 0x03;
        let too_many: Vec<(CaseId, Vec<u8>)> =
            (0..LIMITS.max_entries + 1).map(|_| (random_case(), upload_new.clone())).collect();
        let big_case = {
            let mut doc = b1.replica[&new_case].clone();
            let claims = match automerge::ReadDoc::get(&doc, ROOT, "claims").expect("read") {
                Some((_, id)) => id,
                None => panic!("a case has claims"),
            };
            let mut tx = doc.transaction();
            // Random, so that compression does not bring it under the limit.
            let mut random = vec![0u8; LIMITS.max_doc_message_bytes * 3 / 2];
            getrandom::getrandom(&mut random).expect("random bytes");
            let noise = hex(&random);
            tx.put(&claims, "note", noise).expect("put");
            tx.commit();
            upload(&doc)
        };
        let big_id = random_case();
        let rows: Vec<(&str, Vec<u8>)> = vec![
            ("over max_message_bytes", vec![0x83; LIMITS.max_message_bytes + 1]),
            ("not CBOR", vec![0xff, 0x00, 0x13, 0x37]),
            ("cut short", batch(vec![(new_case, upload_new.clone())]).encode()[..40].to_vec()),
            ("protocol version 3", wrong_version),
            ("too many entries", batch(too_many).encode()),
            ("one case over max_doc_message_bytes", batch(vec![(big_id, big_case.clone())]).encode()),
        ];
        let mut http_table = String::new();
        for (name, body) in rows {
            let (status, bytes) =
                http_request(address, "POST", "/v1/sync", &[("authorization", format!("Bearer {b1_token}"))], body)
                    .await
                    .expect("an answer");
            let message = ServerMessage::decode(&bytes, &Limits::DEFAULT).expect("a protocol message");
            http_table.push_str(&format!("{name}: {}\n", describe(status, &message)));
            assert_nothing_stored(&store, before, &[new_case, big_id], name).await;
        }
        expect![[r#"
            over max_message_bytes: 413 too_large retry=false
            not CBOR: 400 malformed retry=false
            cut short: 400 malformed retry=true
            protocol version 3: 426 unsupported_version retry=false
            too many entries: 400 too_many_entries retry=false
            one case over max_doc_message_bytes: 200 batch [rejected too_large]
        "#]]
        .assert_eq(&http_table);

        // 4. The same over a WebSocket: an error, then the connection closes.
        let frames: Vec<(&str, Message)> = vec![
            ("text frame", Message::Text(String::from_utf8(valid_hello.clone()).unwrap_or_default().into())),
            ("over max_message_bytes", Message::Binary(vec![0x83; LIMITS.max_message_bytes + 1].into())),
            ("far over max_message_bytes", Message::Binary(vec![0x83; LIMITS.max_message_bytes * 3].into())),
            ("not CBOR", Message::Binary(vec![0xff, 0x00].into())),
            (
                "batch before hello with too many entries",
                Message::Binary(batch((0..9).map(|_| (random_case(), upload_new.clone())).collect()).encode().into()),
            ),
        ];
        let mut ws_table = String::new();
        for (name, frame) in frames {
            let mut socket = connect_ws(address, &b1_token).await.expect("connect");
            let _ = socket.send(frame).await;
            let answer = match next_message(&mut socket).await {
                Some(message) => describe(0, &message).trim_start_matches("0 ").to_string(),
                None => "closed".to_string(),
            };
            let closed = next_message(&mut socket).await.is_none();
            ws_table.push_str(&format!("{name}: {answer}, then closed: {closed}\n"));
            assert_nothing_stored(&store, before, &[new_case], name).await;
        }
        expect![[r#"
            text frame: malformed retry=false, then closed: true
            over max_message_bytes: too_large retry=false, then closed: true
            far over max_message_bytes: too_large retry=false, then closed: true
            not CBOR: malformed retry=false, then closed: true
            batch before hello with too many entries: too_many_entries retry=false, then closed: true
        "#]]
        .assert_eq(&ws_table);

        // The same upload with a good token is stored: the rows above were refused for their
        // faults alone.
        let (status, answer) =
            post_sync(address, &b1_token, batch(vec![(new_case, upload_new.clone())]).encode()).await.expect("answer");
        assert_eq!(describe(status, &answer), "200 batch [sync]");
        assert!(store.load_document(new_case).await.expect("load").is_some());
        server.stop().await;
    })
    .await;
}
