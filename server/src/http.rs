//! The HTTP surface: health and readiness, metrics, login and refresh, the sync endpoints
//! (`crate::sync`), the JSON API (`crate::api`, `crate::stats`, `crate::openapi`), and the
//! `Authenticated` extractor that every authenticated endpoint uses.
//! `router` builds the routes; `serve` runs them on a listener the caller bound (port 0 in tests)
//! until `shutdown` completes, then closes the live sync connections and waits for them.

use std::future::Future;
use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequestParts, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::routing::{get, post};
use axum::{Json, Router};
use fengqiao_schema::ids::DeviceId;
use fengqiao_schema::units::User;
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;

use crate::auth::{Auth, LoginRequest, Principal, RefreshRequest, Session};
use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::metrics::Metrics;
use crate::store::live::LiveDocuments;
use crate::store::Store;
use crate::sync::SyncHub;

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub auth: Arc<Auth>,
    pub documents: LiveDocuments,
    pub sync: SyncHub,
    pub metrics: Metrics,
    /// The built web app served at `/`, if there is one.
    pub web: Option<Arc<crate::web::WebApp>>,
}

pub fn router(state: AppState) -> Router {
    let web = state.web.clone();
    let api = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/v1/sync", get(crate::sync::websocket::upgrade).post(crate::sync::http::post))
        .route("/v1/auth/login", post(login))
        .route("/v1/auth/refresh", post(refresh))
        .route("/v1/auth/me", get(me))
        .route("/v1/openapi.json", get(crate::openapi::document))
        .route("/v1/cases", get(crate::api::list_cases))
        .route("/v1/cases.csv", get(crate::export::cases_csv))
        .route("/v1/cases/{id}/review/{item}/done", post(crate::api::mark_review_done))
        .route("/v1/cases/{id}/deadlines", get(crate::api::case_deadlines))
        .route("/v1/inbox", get(crate::api::inbox))
        .route("/v1/units", get(crate::api::units))
        .route("/v1/stats", get(crate::stats::stats))
        .route("/v1/reports/annual", get(crate::report::annual))
        .route(
            "/v1/attachments/{sha256}",
            get(crate::api::get_attachment)
                .put(crate::api::put_attachment)
                .layer(axum::extract::DefaultBodyLimit::max(crate::api::ATTACHMENT_LIMIT)),
        );
    let api = match web {
        Some(web) => web.mount(api),
        None => api,
    };
    api.with_state(state)
}

/// Serves the routes on `listener` until `shutdown` completes, then lets requests in flight finish
/// and closes the live sync connections (each finishes the message it is answering, commits
/// included, sends `unavailable` and closes), and returns once they are all gone.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let hub = state.sync.clone();
    let shutdown = {
        let hub = hub.clone();
        async move {
            shutdown.await;
            hub.begin_shutdown();
        }
    };
    // Sync messages are small request/answer exchanges: without TCP_NODELAY, Nagle's algorithm
    // and delayed acknowledgements hold an answer back by tens of milliseconds.
    use axum::serve::ListenerExt;
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let served = axum::serve(listener, router(state)).with_graceful_shutdown(shutdown).await;
    hub.begin_shutdown();
    hub.connections_closed().await;
    served
}

/// `GET /metrics`: the Prometheus text format.
async fn metrics(State(state): State<AppState>) -> impl axum::response::IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        state.metrics.render(&state.documents),
    )
}

/// The body of `/healthz` and `/readyz`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    pub status: String,
}

/// The process is up.
async fn healthz() -> Json<Health> {
    Json(Health { status: "ok".to_string() })
}

/// The process can serve: its database answers.
async fn readyz(State(state): State<AppState>) -> Result<Json<Health>> {
    if let Err(error) = state.store.ping().await {
        tracing::warn!(%error, "readiness check: the database does not answer");
        return Err(Error::Unavailable);
    }
    Ok(Json(Health { status: "ready".to_string() }))
}

async fn login(
    State(state): State<AppState>,
    body: Result<Json<LoginRequest>, JsonRejection>,
) -> Result<Json<Session>> {
    let Json(request) = body.map_err(malformed)?;
    Ok(Json(state.auth.login(request, Timestamp::now()).await?))
}

async fn refresh(
    State(state): State<AppState>,
    body: Result<Json<RefreshRequest>, JsonRejection>,
) -> Result<Json<Session>> {
    let Json(request) = body.map_err(malformed)?;
    Ok(Json(state.auth.refresh(&request.refresh_token, Timestamp::now()).await?))
}

/// `GET /v1/auth/me`: who the access token speaks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub user: User,
    pub device_id: DeviceId,
}

async fn me(Authenticated(principal): Authenticated) -> Json<Me> {
    Json(Me { user: principal.user, device_id: principal.device })
}

fn malformed(rejection: JsonRejection) -> Error {
    Error::MalformedBody(rejection.body_text())
}

/// The verified identity behind a request carrying `Authorization: Bearer <access token>`.
pub struct Authenticated(pub Principal);

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let header = parts.headers.get(AUTHORIZATION).ok_or(Error::TokenMissing)?;
        let value = header.to_str().map_err(|_| Error::TokenInvalid)?;
        let (scheme, token) = value.split_once(' ').ok_or(Error::TokenMissing)?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(Error::TokenMissing);
        }
        state.auth.verify(token.trim(), Timestamp::now()).await.map(Authenticated)
    }
}
