//! Identity: login, refresh with rotation and reuse detection, the table of tokens that must be
//! refused, revocation that takes effect at once, and signing-key rotation.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use expect_test::expect;
use fengqiao_schema::ids::UserId;
use fengqiao_schema::vocab::Role;
use fengqiao_server::auth::password::Password;
use fengqiao_server::auth::tokens::{Claims, KeyId, RefreshToken};
use fengqiao_server::auth::{new_signing_key, Auth, AuthSettings, LoginRequest, Session};
use fengqiao_server::clock::Timestamp;
use fengqiao_server::store::identity::RefreshTokenCounts;
use fengqiao_server::store::Store;
use fengqiao_server::{AppState, Error, Services, Settings};
use serde_json::json;

use crate::common::*;

const PASSWORD: &str = "correct horse battery";

async fn services(database: &TestDatabase, store: &Store) -> Services {
    seed_people(store).await;
    Services::start_on(store.clone(), &Settings::with_database(database.url.clone())).await.expect("services start")
}

async fn login(state: &AppState, user: &str, dev: &str) -> Session {
    let (status, body) = call(
        state,
        "POST",
        "/v1/auth/login",
        None,
        Some(json!({ "user_id": user, "password": PASSWORD, "device_id": dev, "device_name": "调解员平板" })),
    )
    .await;
    assert_eq!(status, 200, "login of {user} on {dev}: {body}");
    serde_json::from_value(body).expect("a session")
}

async fn refresh(state: &AppState, token: &RefreshToken) -> (u16, serde_json::Value) {
    call(state, "POST", "/v1/auth/refresh", None, Some(json!({ "refresh_token": token.as_str() }))).await
}

async fn me(state: &AppState, token: Option<&str>) -> (u16, String) {
    let (status, body) = call(state, "GET", "/v1/auth/me", token, None).await;
    (status, code(&body))
}

async fn counts(store: &Store, dev: &str) -> RefreshTokenCounts {
    store.refresh_token_counts(&device(dev), Timestamp::now()).await.expect("counts")
}

#[tokio::test]
async fn login_answers_with_a_session_and_refuses_what_it_should() {
    on_each_backend(|database, store| async move {
        let services = services(&database, &store).await;
        let state = services.state();
        let session = login(&state, "wang.fang", "tablet-1").await;
        assert_eq!(session.token_type, "Bearer");
        assert_eq!(session.user.id, UserId::new("wang.fang"));
        assert_eq!(session.user.roles, vec![Role::Mediator]);
        assert!(session.refresh_token.as_str().starts_with("fqr_"));
        let now = Timestamp::now().secs();
        assert!((now + 14 * 60..=now + 15 * 60).contains(&session.expires_at), "15 minutes");
        assert!((now + 29 * 86_400..=now + 30 * 86_400).contains(&session.refresh_expires_at), "30 days");
        let (status, body) = call(&state, "GET", "/v1/auth/me", Some(session.access_token.as_str()), None).await;
        assert_eq!(status, 200);
        assert_eq!(body["user"]["id"], "wang.fang");
        assert_eq!(body["user"]["unit"], "qingshan.xiahe");
        assert_eq!(body["device_id"], "tablet-1");

        store.revoke_user(&UserId::new("li.ming"), Timestamp::now()).await.expect("revoke");
        let login_body = |user: &str, password: &str, dev: &str| {
            json!({ "user_id": user, "password": password, "device_id": dev, "device_name": "平板" })
        };
        // (case, body) → status and code
        let cases = [
            ("wrong password", Some(login_body("wang.fang", "wrong password", "tablet-1"))),
            ("unknown user", Some(login_body("nobody", PASSWORD, "tablet-9"))),
            ("revoked user", Some(login_body("li.ming", PASSWORD, "tablet-2"))),
            ("empty device id", Some(login_body("wang.fang", PASSWORD, ""))),
            ("missing field", Some(json!({ "user_id": "wang.fang" }))),
            ("no body", None),
        ];
        let mut table = String::new();
        for (name, body) in cases {
            let (status, body) = call(&state, "POST", "/v1/auth/login", None, body).await;
            assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{name}: a message for people");
            table += &format!("{name:<18} {status} {}\n", code(&body));
        }
        // Another user on a device that is wang.fang's.
        add_user(&store, "zhao.lei", "qingshan.xiahe", &[Role::Mediator], PASSWORD).await;
        let (status, body) = call(&state, "POST", "/v1/auth/login", None, Some(login_body("zhao.lei", PASSWORD, "tablet-1"))).await;
        table += &format!("{:<18} {status} {}\n", "someone's device", code(&body));
        expect![[r#"
            wrong password     401 invalid_credentials
            unknown user       401 invalid_credentials
            revoked user       403 user_revoked
            empty device id    400 bad_request
            missing field      400 bad_request
            no body            400 bad_request
            someone's device   403 device_taken
        "#]]
        .assert_eq(&table);
        assert_eq!(store.device(&device("tablet-1")).await.expect("device").expect("exists").user, UserId::new("wang.fang"));
        services.stop().await;
    })
    .await;
}

#[tokio::test]
async fn refresh_rotates_and_a_reused_token_ends_the_device_session() {
    on_each_backend(|database, store| async move {
        let services = services(&database, &store).await;
        let state = services.state();
        let first = login(&state, "wang.fang", "tablet-1").await;

        let (status, body) = refresh(&state, &first.refresh_token).await;
        assert_eq!(status, 200, "{body}");
        let second: Session = serde_json::from_value(body).expect("a session");
        assert_ne!(second.refresh_token, first.refresh_token);
        assert_eq!(me(&state, Some(second.access_token.as_str())).await, (200, "-".to_string()));
        assert_eq!(counts(&store, "tablet-1").await, RefreshTokenCounts { usable: 1, rotated: 1, revoked: 0 });

        // The first token again: a replay. Every token of the device is revoked.
        let (status, body) = refresh(&state, &first.refresh_token).await;
        assert_eq!((status, code(&body).as_str()), (401, "refresh_reused"));
        assert_eq!(counts(&store, "tablet-1").await, RefreshTokenCounts { usable: 0, rotated: 0, revoked: 2 });
        let (status, body) = refresh(&state, &second.refresh_token).await;
        assert_eq!((status, code(&body).as_str()), (401, "refresh_invalid"));

        // The device itself is not revoked: its user logs in again.
        let third = login(&state, "wang.fang", "tablet-1").await;
        let (status, body) = refresh(&state, &RefreshToken::new("fqr_not-a-token")).await;
        assert_eq!((status, code(&body).as_str()), (401, "refresh_invalid"));

        // Expired: refused, and nothing changes.
        let auth = &state.auth;
        let later = Timestamp::now().plus(Duration::from_secs(31 * 86_400));
        assert!(matches!(auth.refresh(&third.refresh_token, later).await, Err(Error::RefreshExpired)));
        assert_eq!(counts(&store, "tablet-1").await, RefreshTokenCounts { usable: 1, rotated: 0, revoked: 2 });

        // A revoked device cannot refresh.
        store.revoke_device(&device("tablet-1"), Timestamp::now()).await.expect("revoke");
        let (status, body) = refresh(&state, &third.refresh_token).await;
        assert_eq!((status, code(&body).as_str()), (403, "device_revoked"));
        let (status, body) = call(
            &state,
            "POST",
            "/v1/auth/login",
            None,
            Some(
                json!({ "user_id": "wang.fang", "password": PASSWORD, "device_id": "tablet-1", "device_name": "平板" }),
            ),
        )
        .await;
        assert_eq!((status, code(&body).as_str()), (403, "device_revoked"));
        services.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_two_concurrent_refreshes_with_one_token_exactly_one_wins() {
    on_each_backend(|database, store| async move {
        let services = services(&database, &store).await;
        let state = services.state();
        let session = login(&state, "wang.fang", "tablet-1").await;
        let attempts = (0..2).map(|_| {
            let auth = state.auth.clone();
            let token = session.refresh_token.clone();
            tokio::spawn(async move { auth.refresh(&token, Timestamp::now()).await })
        });
        let mut outcomes: Vec<String> = Vec::new();
        for attempt in attempts.collect::<Vec<_>>() {
            outcomes.push(match within_deadline("a refresh", attempt).await.expect("task") {
                Ok(_) => "ok".to_string(),
                Err(error) => error.code().to_string(),
            });
        }
        outcomes.sort();
        assert_eq!(outcomes, ["ok", "refresh_reused"]);
        services.stop().await;
    })
    .await;
}

/// Token pieces for forging.
fn part(value: &serde_json::Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

fn claims_of(token: &str) -> Claims {
    let payload = token.split('.').nth(1).expect("a JWT has a payload");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("claims")
}

fn sign_with(kid: &str, secret: &[u8], algorithm: jsonwebtoken::Algorithm, claims: &Claims) -> String {
    let mut header = jsonwebtoken::Header::new(algorithm);
    header.kid = Some(kid.to_string());
    jsonwebtoken::encode(&header, claims, &jsonwebtoken::EncodingKey::from_secret(secret)).expect("encode")
}

#[tokio::test]
async fn the_token_security_table() {
    on_each_backend(|database, store| async move {
        let services = services(&database, &store).await;
        let state = services.state();
        let auth = state.auth.clone();
        let session = login(&state, "wang.fang", "tablet-1").await;
        let valid = session.access_token.as_str().to_string();
        let claims = claims_of(&valid);
        let kid = jsonwebtoken::decode_header(&valid).expect("header").kid.expect("kid");
        let key =
            store.signing_keys().await.expect("keys").into_iter().find(|k| k.kid.as_str() == kid).expect("the key");
        let user = fengqiao_schema::units::User::new("wang.fang", "qingshan.xiahe", &[Role::Mediator]);

        let forged_claims = |change: &dyn Fn(&mut Claims)| {
            let mut c = claims.clone();
            change(&mut c);
            c
        };
        let alg_none = format!(
            "{}.{}.",
            part(&json!({ "alg": "none", "typ": "JWT", "kid": kid })),
            part(&serde_json::to_value(&claims).unwrap())
        );
        let tampered = {
            let mut pieces: Vec<String> = valid.split('.').map(str::to_string).collect();
            pieces[1] = part(&serde_json::to_value(forged_claims(&|c| c.roles = vec![Role::Admin])).unwrap());
            pieces.join(".")
        };
        let expired = auth
            .issue_access_token(&user, &device("tablet-1"), Timestamp::now().minus(Duration::from_secs(16 * 60)))
            .await
            .expect("issue")
            .0;
        let revoked_device = {
            let other = login(&state, "wang.fang", "tablet-2").await;
            store.revoke_device(&device("tablet-2"), Timestamp::now()).await.expect("revoke");
            other.access_token
        };
        let revoked_user = {
            let other = login(&state, "li.ming", "tablet-3").await;
            store.revoke_user(&UserId::new("li.ming"), Timestamp::now()).await.expect("revoke");
            other.access_token
        };
        let other_device = auth
            .issue_access_token(&user, &device("tablet-never-registered"), Timestamp::now())
            .await
            .expect("issue")
            .0;
        let cases: Vec<(&str, Option<String>)> = vec![
            ("valid", Some(valid.clone())),
            ("no token", None),
            ("not a JWT", Some("not.a.jwt".to_string())),
            ("expired", Some(expired.as_str().to_string())),
            (
                "wrongly signed",
                Some(sign_with(&kid, b"some other secret of thirty-two!", jsonwebtoken::Algorithm::HS256, &claims)),
            ),
            ("alg none", Some(alg_none)),
            ("right key, HS512", Some(sign_with(&kid, &key.secret, jsonwebtoken::Algorithm::HS512, &claims))),
            ("payload tampered", Some(tampered)),
            (
                "wrong audience",
                Some(
                    auth.sign(&forged_claims(&|c| c.aud = "someone-else".into()))
                        .await
                        .expect("sign")
                        .as_str()
                        .to_string(),
                ),
            ),
            (
                "wrong issuer",
                Some(
                    auth.sign(&forged_claims(&|c| c.iss = "someone-else".into()))
                        .await
                        .expect("sign")
                        .as_str()
                        .to_string(),
                ),
            ),
            ("unknown kid", Some(sign_with("no-such-key", &key.secret, jsonwebtoken::Algorithm::HS256, &claims))),
            ("unregistered device", Some(other_device.as_str().to_string())),
            ("revoked device", Some(revoked_device.as_str().to_string())),
            ("revoked user", Some(revoked_user.as_str().to_string())),
        ];
        let before = (counts(&store, "tablet-1").await, store.device(&device("tablet-1")).await.expect("device"));
        let mut table = String::new();
        for (name, token) in cases {
            let (status, code) = me(&state, token.as_deref()).await;
            table += &format!("{name:<20} {status} {code}\n");
            // No side effects: the real session is untouched by any refused token.
            assert_eq!(me(&state, Some(&valid)).await, (200, "-".to_string()), "after {name}");
            assert_eq!(
                (counts(&store, "tablet-1").await, store.device(&device("tablet-1")).await.expect("device")),
                before,
                "after {name}"
            );
        }
        expect![[r#"
            valid                200 -
            no token             401 token_missing
            not a JWT            401 token_invalid
            expired              401 token_expired
            wrongly signed       401 token_invalid
            alg none             401 token_invalid
            right key, HS512     401 token_invalid
            payload tampered     401 token_invalid
            wrong audience       401 token_invalid
            wrong issuer         401 token_invalid
            unknown kid          401 token_invalid
            unregistered device  401 token_invalid
            revoked device       403 device_revoked
            revoked user         403 user_revoked
        "#]]
        .assert_eq(&table);
        services.stop().await;
    })
    .await;
}

#[tokio::test]
async fn revoking_a_device_stops_its_access_token_at_once() {
    on_each_backend(|database, store| async move {
        let services = services(&database, &store).await;
        let state = services.state();
        let session = login(&state, "wang.fang", "tablet-1").await;
        let token = Some(session.access_token.as_str());
        assert_eq!(me(&state, token).await, (200, "-".to_string()));
        store.revoke_device(&device("tablet-1"), Timestamp::now()).await.expect("revoke");
        assert_eq!(me(&state, token).await, (403, "device_revoked".to_string()));
        assert!(matches!(
            store.revoke_device(&device("no-such-tablet"), Timestamp::now()).await,
            Err(Error::UnknownDevice(_))
        ));
        services.stop().await;
    })
    .await;
}

#[tokio::test]
async fn a_new_key_signs_old_keys_verify_until_retired() {
    on_each_backend(|database, store| async move {
        let services = services(&database, &store).await;
        let state = services.state();
        let old = login(&state, "wang.fang", "tablet-1").await.access_token;
        let old_kid = jsonwebtoken::decode_header(old.as_str()).expect("header").kid.expect("kid");
        let newest = store.signing_keys().await.expect("keys")[0].created_at;
        let key = new_signing_key(Timestamp::from_millis(newest.millis() + 1));
        store.add_signing_key(&key).await.expect("rotate");

        let new = login(&state, "wang.fang", "tablet-1").await.access_token;
        assert_eq!(jsonwebtoken::decode_header(new.as_str()).expect("header").kid.as_deref(), Some(key.kid.as_str()));
        assert_eq!(me(&state, Some(old.as_str())).await, (200, "-".to_string()), "the old key still verifies");
        // Another server process on the same database verifies tokens of keys it never loaded.
        let other = Auth::start(store.clone(), AuthSettings::default(), Timestamp::now()).await.expect("auth");
        assert!(other.verify(new.as_str(), Timestamp::now()).await.is_ok());

        store.retire_signing_key(&KeyId(old_kid), Timestamp::now()).await.expect("retire");
        assert_eq!(me(&state, Some(old.as_str())).await, (401, "token_invalid".to_string()), "retired at once");
        assert_eq!(me(&state, Some(new.as_str())).await, (200, "-".to_string()));
        assert!(matches!(
            store.retire_signing_key(&KeyId("nope".into()), Timestamp::now()).await,
            Err(Error::UnknownKey(_))
        ));
        // With every key retired, signing fails until a key is added; the next start adds one.
        store.retire_signing_key(&key.kid, Timestamp::now()).await.expect("retire");
        assert!(state
            .auth
            .issue_access_token(
                &fengqiao_schema::units::User::new("wang.fang", "qingshan.xiahe", &[]),
                &device("tablet-1"),
                Timestamp::now()
            )
            .await
            .is_err());
        let restarted = Auth::start(store.clone(), AuthSettings::default(), Timestamp::now()).await.expect("auth");
        assert!(restarted
            .issue_access_token(
                &fengqiao_schema::units::User::new("wang.fang", "qingshan.xiahe", &[]),
                &device("tablet-1"),
                Timestamp::now()
            )
            .await
            .is_ok());
        services.stop().await;
    })
    .await;
}

#[test]
fn secrets_do_not_print() {
    let token = RefreshToken::generate();
    assert_eq!(format!("{token:?}"), "RefreshToken(…)");
    assert_eq!(format!("{:?}", Password::new("秘密")), "Password(…)");
    let key = new_signing_key(Timestamp::from_secs(0));
    assert!(!format!("{key:?}").contains("secret"));
    let request = LoginRequest {
        user_id: UserId::new("u"),
        password: Password::new("hunter22"),
        device_id: device("d"),
        device_name: "n".into(),
    };
    assert!(!format!("{request:?}").contains("hunter22"));
}
