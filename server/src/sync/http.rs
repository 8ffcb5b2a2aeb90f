//! `POST /v1/sync`: one client message per request, one server message per response, both
//! `application/cbor` (PROTOCOL §1, §6). Each request gets a fresh `ServerSession`: the server
//! keeps nothing between requests, so any server process behind a load balancer can answer.
//!
//! Also the helpers both transports share: checking the access token and answering a refusal
//! with the protocol's `error` message and its HTTP status.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use fengqiao_schema::units::UnitTree;
use fengqiao_sync::protocol::{DecodeError, ErrorCode, Failure, ServerMessage};
use fengqiao_sync::session::ServerSession;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use tracing::Instrument;

use super::driver::{failure_for, Driver, Peer};
use crate::auth::Principal;
use crate::clock::Timestamp;
use crate::error::Error;
use crate::http::AppState;

pub const CBOR: &str = "application/cbor";

/// The HTTP status that goes with an `error` message (PROTOCOL §1).
pub fn status_for(code: &ErrorCode) -> StatusCode {
    match code {
        ErrorCode::Malformed | ErrorCode::TooManyEntries | ErrorCode::UnexpectedMessage => StatusCode::BAD_REQUEST,
        ErrorCode::Unauthorized => StatusCode::UNAUTHORIZED,
        ErrorCode::DeviceRevoked => StatusCode::FORBIDDEN,
        ErrorCode::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::UnsupportedVersion => StatusCode::UPGRADE_REQUIRED,
        ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::Internal | ErrorCode::Other(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// A server message as a response: CBOR, with the status of its kind.
pub fn message_response(message: &ServerMessage) -> Response {
    let status = match message {
        ServerMessage::Error(failure) => status_for(&failure.code),
        _ => StatusCode::OK,
    };
    (status, [(CONTENT_TYPE, CBOR)], message.encode()).into_response()
}

/// A refusal before any session started.
pub fn error_response(failure: Failure) -> Response {
    message_response(&ServerMessage::Error(failure))
}

/// The failure the sync endpoints answer an identity error with.
pub(crate) fn identity_failure(error: &Error) -> Failure {
    match error {
        Error::DeviceRevoked => Failure::new(ErrorCode::DeviceRevoked),
        Error::UserRevoked => Failure {
            message: "本账号已被停用，无法同步，请联系管理员。".to_string(),
            ..Failure::new(ErrorCode::DeviceRevoked)
        },
        Error::TokenMissing | Error::TokenInvalid | Error::TokenExpired => Failure::new(ErrorCode::Unauthorized),
        other => {
            tracing::error!(error = %other, "cannot verify an access token");
            failure_for(other)
        }
    }
}

/// Who presents this access token now.
pub(crate) async fn verify(state: &AppState, token: &str) -> Result<Principal, Failure> {
    state.auth.verify(token, Timestamp::now()).await.map_err(|error| {
        tracing::debug!(%error, "sync refused: access token");
        identity_failure(&error)
    })
}

/// The unit tree as stored now.
pub(crate) async fn load_units(state: &AppState) -> Result<Arc<UnitTree>, Failure> {
    state.store.unit_tree().await.map_err(|error| {
        tracing::error!(%error, "cannot read the units");
        failure_for(&error)
    })
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

pub async fn post(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    state.metrics.http_requests.increment(1);
    let Some(token) = bearer(&headers) else {
        return error_response(Failure::new(ErrorCode::Unauthorized));
    };
    let principal = match verify(&state, token).await {
        Ok(principal) => principal,
        Err(failure) => return error_response(failure),
    };
    let limit = state.sync.settings().limits.max_message_bytes;
    let bytes = match Limited::new(body, limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) if error.downcast_ref::<LengthLimitError>().is_some() => {
            let size = headers
                .get(axum::http::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok()?.parse().ok())
                .unwrap_or(limit + 1);
            return error_response(DecodeError::TooLarge { size, limit }.to_failure());
        }
        Err(error) => {
            tracing::debug!(%error, "a sync request body could not be read");
            return error_response(DecodeError::Truncated.to_failure());
        }
    };
    let units = match load_units(&state).await {
        Ok(units) => units,
        Err(failure) => return error_response(failure),
    };
    let span = tracing::info_span!(
        "sync_session",
        transport = "http",
        request = state.sync.next_id(),
        user = %principal.user.id,
        device = %principal.device,
    );
    let peer = Peer { principal, units, origin: None };
    let mut session = ServerSession::new(state.sync.settings().limits);
    state.metrics.active_sessions.increment(1.0);
    let replies = Driver { state: &state, peer: &peer }.receive(&mut session, &bytes).instrument(span).await;
    state.metrics.active_sessions.decrement(1.0);
    match replies.first() {
        Some(reply) => message_response(reply),
        None => {
            tracing::error!("a sync session answered a request with nothing");
            error_response(Failure::new(ErrorCode::Internal))
        }
    }
}
