//! The web app at `/` beside the API: files of the build with the right caching, `index.html` for
//! the app's own routes, 404 for missing hashed assets, and `/v1/...` still the API's (a missing
//! build leaves the API working).

use fengqiao_server::{Services, Settings};
use tower::ServiceExt;

use crate::common::*;

struct Answer {
    status: u16,
    cache: Option<String>,
    content_type: Option<String>,
    body: String,
}

async fn get(state: &fengqiao_server::AppState, path: &str) -> Answer {
    let request = axum::http::Request::builder().uri(path).body(axum::body::Body::empty()).expect("a request");
    let response = fengqiao_server::router(state.clone()).oneshot(request).await.expect("the router answers");
    let header =
        |name| response.headers().get(name).map(|v: &axum::http::HeaderValue| v.to_str().unwrap_or("").to_string());
    let cache = header(axum::http::header::CACHE_CONTROL);
    let content_type = header(axum::http::header::CONTENT_TYPE);
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.expect("a body");
    Answer { status, cache, content_type, body: String::from_utf8_lossy(&bytes).into_owned() }
}

/// A build as Vite lays it out.
fn build() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::create_dir(dir.path().join("assets")).expect("assets/");
    std::fs::write(dir.path().join("index.html"), "<!doctype html><title>枫桥</title><div id=app></div>")
        .expect("index");
    std::fs::write(dir.path().join("sw.js"), "self.addEventListener('fetch', () => {});").expect("sw");
    std::fs::write(dir.path().join("assets/index-3f2a1b.js"), "console.log('app');").expect("asset");
    dir
}

#[tokio::test]
async fn the_web_app_is_served_at_the_root_and_the_api_under_v1() {
    let database = TestDatabase::sqlite().await;
    let store = database.open().await;
    seed_people(&store).await;
    let dist = build();
    let mut settings = Settings::with_database(database.url.clone());
    settings.web_dir = Some(dist.path().to_path_buf());
    let services = Services::start_on(store, &settings).await.expect("services start");
    let state = services.state();

    let root = get(&state, "/").await;
    assert_eq!(root.status, 200);
    assert!(root.body.contains("<title>枫桥</title>"), "{}", root.body);
    assert_eq!(root.cache.as_deref(), Some("no-cache"));
    assert!(root.content_type.as_deref().unwrap_or("").starts_with("text/html"));

    // The app's own routes get the page.
    let route = get(&state, "/cases/new").await;
    assert_eq!((route.status, route.body.contains("id=app")), (200, true));
    assert_eq!(route.cache.as_deref(), Some("no-cache"));

    let worker = get(&state, "/sw.js").await;
    assert_eq!(worker.status, 200);
    assert_eq!(worker.cache.as_deref(), Some("no-cache"));
    assert!(worker.content_type.as_deref().unwrap_or("").contains("javascript"));

    let asset = get(&state, "/assets/index-3f2a1b.js").await;
    assert_eq!(asset.status, 200);
    assert_eq!(asset.body, "console.log('app');");
    assert_eq!(asset.cache.as_deref(), Some("public, max-age=31536000, immutable"));

    // A missing hashed asset is a 404, never the page (a stale page would cache it as script).
    let gone = get(&state, "/assets/index-000000.js").await;
    assert_eq!(gone.status, 404);
    assert!(gone.cache.is_none());

    // The API keeps its routes and its JSON errors.
    let health = get(&state, "/healthz").await;
    assert_eq!((health.status, health.body.as_str()), (200, r#"{"status":"ok"}"#));
    let (status, body) = call(&state, "GET", "/v1/cases", None, None).await;
    assert_eq!((status, code(&body)), (401, "token_missing".to_string()));
    let (status, body) = call(&state, "GET", "/v1/no-such-endpoint", None, None).await;
    assert_eq!((status, code(&body)), (404, "not_found".to_string()));
    services.stop().await;
}

#[tokio::test]
async fn without_a_build_the_api_still_works() {
    let database = TestDatabase::sqlite().await;
    let store = database.open().await;
    let empty = tempfile::tempdir().expect("a temporary directory");
    let mut settings = Settings::with_database(database.url.clone());
    settings.web_dir = Some(empty.path().join("dist"));
    let services = Services::start_on(store, &settings).await.expect("services start");
    let state = services.state();
    assert!(state.web.is_none());
    assert_eq!(get(&state, "/").await.status, 404);
    assert_eq!(get(&state, "/healthz").await.status, 200);
    services.stop().await;
}

#[tokio::test]
async fn the_unit_directory_names_the_receivers_of_each_track() {
    let database = TestDatabase::sqlite().await;
    let store = database.open().await;
    let org =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/county.toml")).expect("county.toml");
    fengqiao_server::org::OrgFile::parse(&org)
        .expect("the example parses")
        .import(&store, fengqiao_server::clock::Timestamp::now())
        .await
        .expect("import");
    let services =
        Services::start_on(store, &Settings::with_database(database.url.clone())).await.expect("services start");
    let state = services.state();
    let (status, body) = call(&state, "GET", "/v1/units", None, None).await;
    assert_eq!((status, code(&body)), (401, "token_missing".to_string()));
    let login = serde_json::json!({ "user_id": "wang.fang", "password": "xiahe-tiaojie-2026", "device_id": "pad-1", "device_name": "平板" });
    let (status, session) = call(&state, "POST", "/v1/auth/login", None, Some(login)).await;
    assert_eq!(status, 200, "{session}");
    let token = session["access_token"].as_str().expect("a token").to_string();
    let (status, body) = call(&state, "GET", "/v1/units", Some(&token), None).await;
    assert_eq!(status, 200, "{body}");
    let rows: Vec<String> = body["units"]
        .as_array()
        .expect("units")
        .iter()
        .map(|u| {
            let tracks: Vec<&str> = u["tracks"].as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect();
            format!(
                "{} {} {} {}",
                u["id"].as_str().unwrap(),
                u["name"].as_str().unwrap(),
                u["kind"].as_str().unwrap(),
                tracks.join(",")
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            "qingshan 青山县 county petition",
            "qingshan.chengguan 城关街道 subdistrict mediation,petition",
            "qingshan.fazhi 青山县人民政府法制办公室 legal_office litigation",
            "qingshan.shangping 上坪乡 township mediation,petition",
            "qingshan.sifa 青山县司法局 justice_bureau reconsideration",
            "qingshan.xiahe 下河镇 township mediation,petition",
            "qingshan.xinfang 青山县信访局 petition_bureau petition",
        ]
    );
    let (_, openapi) = call(&state, "GET", "/v1/openapi.json", None, None).await;
    assert!(openapi["paths"].get("/v1/units").is_some());
    services.stop().await;
}
