//! `GET /v1/sync` upgraded to a WebSocket: live sessions (PROTOCOL §1, §5.6).
//!
//! The token is checked before the upgrade (the `Authorization` header, or for browsers the
//! `bearer.<token>` subprotocol offered beside `fengqiao.v1`), and again at the start of every
//! session on the connection: its signature and expiry every time, so an expired token ends sync
//! at the next session, and revocations in the database at most once per revocation check
//! interval. Revocation closes the connection anyway: every connection is in the hub's registry by
//! device and user, and revoking either (here at once, or by another process, noticed by
//! `notify::spawn_revocation_check` within that interval) closes it with `device_revoked`.
//!
//! One `ServerSession` lives from `hello` to `done`; between sessions the connection stays open
//! and the server sends `notify` when a case the user reads changed (a commit of this process,
//! or of another from the PostgreSQL listener, which `notify::spawn_notifier` hands to the
//! connections whose user reads the case). Changes made by the connection's own sessions are not
//! notified: the next session lists them anyway. Notifications that arrive during a session are
//! remembered and sent after `done`.

use std::sync::Arc;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::header::{AUTHORIZATION, SEC_WEBSOCKET_PROTOCOL};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use fengqiao_schema::units::UnitTree;
use fengqiao_sync::protocol::{ErrorCode, Failure, ServerMessage};
use fengqiao_sync::session::ServerSession;
use tracing::Instrument;

use super::driver::{Driver, Peer};
use super::http::{error_response, load_units, verify};
use super::{CloseReason, Registration};
use crate::auth::Principal;
use crate::http::AppState;

/// The subprotocol of this protocol version.
pub const SUBPROTOCOL: &str = "fengqiao.v1";
/// The prefix of the subprotocol that carries the access token for clients without headers.
const BEARER_PREFIX: &str = "bearer.";
/// Close code for a connection ended by an `error` message (RFC 6455 "policy violation").
const CLOSE_POLICY: u16 = 1008;
/// Close code for a server going away.
const CLOSE_GOING_AWAY: u16 = 1001;

/// The access token of an upgrade request: the bearer header, else the `bearer.` subprotocol.
fn upgrade_token(headers: &HeaderMap) -> Option<String> {
    if let Some(value) = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let (scheme, token) = value.split_once(' ')?;
        return scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_string());
    }
    headers
        .get_all(SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .find_map(|p| p.strip_prefix(BEARER_PREFIX))
        .map(str::to_string)
}

pub async fn upgrade(State(state): State<AppState>, headers: HeaderMap, ws: WebSocketUpgrade) -> Response {
    let Some(token) = upgrade_token(&headers) else {
        return error_response(Failure::new(ErrorCode::Unauthorized));
    };
    let principal = match verify(&state, &token).await {
        Ok(principal) => principal,
        Err(failure) => return error_response(failure),
    };
    let units = match load_units(&state).await {
        Ok(units) => units,
        Err(failure) => return error_response(failure),
    };
    let registration = match state.sync.register(&principal.device, &principal.user.id) {
        Ok(registration) => registration,
        Err(_) => {
            let limit = state.sync.settings().max_connections_per_device;
            tracing::info!(device = %principal.device, limit, "too many live connections");
            let failure = Failure {
                message: format!("本设备已有 {limit} 个同步连接，请关闭其他连接后重试。"),
                ..Failure::new(ErrorCode::Unavailable)
            };
            let mut response = error_response(failure);
            *response.status_mut() = axum::http::StatusCode::TOO_MANY_REQUESTS;
            return response;
        }
    };
    // Held until the connection's task ends, so that shutdown waits for it.
    let tracked = state.sync.tasks().token();
    let limit = state.sync.settings().limits.max_message_bytes;
    ws.protocols([SUBPROTOCOL])
        // Sync messages are small and a server holds hundreds of idle connections: read in 8 KiB
        // steps (the default, 128 KiB, is zeroed again before each read, and held per connection)
        // and write each message as it is sent.
        .read_buffer_size(8 * 1024)
        .write_buffer_size(0)
        // Messages a little over the limit are read and answered `too_large` (PROTOCOL §9); only
        // far larger ones are cut off by the WebSocket layer.
        .max_message_size(limit.saturating_mul(2))
        .max_frame_size(limit.saturating_mul(2))
        .on_upgrade(move |socket| async move {
            let _tracked = tracked;
            let span = tracing::info_span!(
                "sync_connection",
                connection = registration.id,
                user = %principal.user.id,
                device = %principal.device,
            );
            Connection { state, principal, units, token, registration, socket, verified: None }.run().instrument(span).await;
        })
        .into_response()
}

struct Connection {
    state: AppState,
    principal: Principal,
    /// The unit tree as of the last session start, to judge which changes to notify.
    units: Arc<UnitTree>,
    token: String,
    registration: Registration,
    socket: WebSocket,
    /// When the token was last checked in full on this connection (signature, revocations), and
    /// when it expires (unix seconds).
    verified: Option<(std::time::Instant, i64)>,
}

impl Connection {
    async fn run(mut self) {
        let metrics = self.state.metrics.clone();
        metrics.live_connections.increment(1.0);
        let wake = self.state.sync.listen(self.registration.id, self.principal.user.clone());
        let mut closed = self.registration.closed.clone();
        let mut session: Option<(ServerSession, Peer, tracing::Span)> = None;
        let mut notify = false;
        let limits = self.state.sync.settings().limits;
        tracing::debug!("connected");
        loop {
            let reason = *closed.borrow_and_update();
            if reason != CloseReason::Open {
                if let Some(failure) = reason.failure() {
                    self.send(&ServerMessage::Error(failure)).await;
                }
                let code = if reason == CloseReason::ShuttingDown { CLOSE_GOING_AWAY } else { CLOSE_POLICY };
                self.close(code).await;
                break;
            }
            if notify && session.is_none() {
                notify = false;
                metrics.notifications.increment(1);
                if !self.send(&ServerMessage::Notify).await {
                    break;
                }
            }
            tokio::select! {
                biased;
                _ = closed.changed() => continue,
                // A case the user reads changed (`SyncHub::dispatch` judged it).
                _ = wake.notified() => notify = true,
                message = self.socket.recv() => {
                    let bytes = match message {
                        None | Some(Ok(Message::Close(_))) => break,
                        Some(Ok(Message::Binary(bytes))) => bytes,
                        Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                        Some(Ok(Message::Text(_))) => {
                            // PROTOCOL §1: a text frame ends the connection.
                            let failure = Failure {
                                message: "同步消息须以二进制帧发送，本次同步已中止。".to_string(),
                                ..Failure::new(ErrorCode::Malformed)
                            };
                            self.send(&ServerMessage::Error(failure)).await;
                            self.close(CLOSE_POLICY).await;
                            break;
                        }
                        Some(Err(error)) => {
                            tracing::debug!(%error, "the connection failed");
                            // Most likely a message over the WebSocket layer's own limit.
                            self.send(&ServerMessage::Error(Failure::new(ErrorCode::TooLarge))).await;
                            break;
                        }
                    };
                    if session.is_none() {
                        match self.start_session(limits).await {
                            Some(started) => session = Some(started),
                            None => {
                                self.close(CLOSE_POLICY).await;
                                break;
                            }
                        }
                    }
                    let (server_session, peer, span) = session.as_mut().expect("a session was started above");
                    let driver = Driver { state: &self.state, peer };
                    let replies = driver.receive(server_session, &bytes).instrument(span.clone()).await;
                    let mut failed = false;
                    for reply in &replies {
                        failed |= matches!(reply, ServerMessage::Error(_));
                        if !self.send(reply).await {
                            return self.finish(session.is_some());
                        }
                    }
                    if server_session.is_finished() {
                        session = None;
                        metrics.active_sessions.decrement(1.0);
                        if failed {
                            // PROTOCOL §1: the server closes the connection after an error.
                            self.close(CLOSE_POLICY).await;
                            break;
                        }
                    }
                }
            }
        }
        self.finish(session.is_some());
    }

    fn finish(&self, in_session: bool) {
        if in_session {
            self.state.metrics.active_sessions.decrement(1.0);
        }
        self.state.metrics.live_connections.decrement(1.0);
        tracing::debug!("disconnected");
    }

    /// Checks the token again and reads the unit tree for a new session; `None` after sending
    /// the error that refuses it.
    async fn start_session(
        &mut self,
        limits: fengqiao_sync::protocol::Limits,
    ) -> Option<(ServerSession, Peer, tracing::Span)> {
        // The token in full (signature, revocations read from the database) at most once per
        // revocation check interval; in between only whether it expired.
        let now = std::time::Instant::now();
        let clock = crate::clock::Timestamp::now();
        let interval = self.state.sync.settings().revocation_check;
        let checked = match self.verified {
            Some((at, expires)) if now.duration_since(at) < interval => {
                if expires <= clock.secs() {
                    Err(super::http::identity_failure(&crate::error::Error::TokenExpired))
                } else {
                    Ok(self.principal.clone())
                }
            }
            _ => match self.state.auth.verify_expiring(&self.token, clock).await {
                Ok((principal, expires)) => {
                    self.verified = Some((now, expires));
                    Ok(principal)
                }
                Err(error) => {
                    tracing::debug!(%error, "sync refused: access token");
                    Err(super::http::identity_failure(&error))
                }
            },
        };
        let started = match checked {
            Ok(principal) => load_units(&self.state).await.map(|units| (principal, units)),
            Err(failure) => Err(failure),
        };
        let (principal, units) = match started {
            Ok(started) => started,
            Err(failure) => {
                self.send(&ServerMessage::Error(failure)).await;
                return None;
            }
        };
        self.principal = principal.clone();
        self.units = units.clone();
        self.state.metrics.websocket_sessions.increment(1);
        self.state.metrics.active_sessions.increment(1.0);
        let span = tracing::info_span!("sync_session", transport = "websocket");
        let peer = Peer { principal, units, origin: Some(self.registration.id) };
        Some((ServerSession::new(limits), peer, span))
    }

    /// Sends one message; false if the connection is gone.
    async fn send(&mut self, message: &ServerMessage) -> bool {
        self.socket.send(Message::Binary(message.encode().into())).await.is_ok()
    }

    async fn close(&mut self, code: u16) {
        let _ = self.socket.send(Message::Close(Some(CloseFrame { code, reason: "".into() }))).await;
    }
}
