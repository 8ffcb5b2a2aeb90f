//! The two transports of the sync protocol (PROTOCOL.md §1): a WebSocket to `GET /v1/sync` that
//! carries a whole session and then `notify`, and `POST /v1/sync`, one message per request. Both
//! count what they carry ([`WireCounters`]) so that a benchmark can report bytes on the wire and
//! round trips per client.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use fengqiao_sync::protocol::{Failure, Limits, ServerMessage};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How sessions reach the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// One connection per session (and, for `watch`, between sessions too).
    WebSocket,
    /// One request per message; for networks that break WebSockets.
    Http,
}

/// What one client carried, counted since it started (or since [`WireCounters::reset`]).
#[derive(Debug, Default)]
pub struct WireCounters {
    bytes_sent: AtomicU64,
    bytes_received: AtomicU64,
    round_trips: AtomicU64,
    sessions: AtomicU64,
    connections: AtomicU64,
}

/// A snapshot of [`WireCounters`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WireStats {
    /// Bytes of protocol messages sent (the CBOR frames; transport framing not included).
    pub bytes_sent: u64,
    /// Bytes of protocol messages received.
    pub bytes_received: u64,
    /// Client messages answered by the server.
    pub round_trips: u64,
    /// Sessions started.
    pub sessions: u64,
    /// WebSocket connections opened (HTTP requests are counted as round trips).
    pub connections: u64,
}

impl WireCounters {
    pub fn snapshot(&self) -> WireStats {
        WireStats {
            bytes_sent: self.bytes_sent.load(Ordering::Relaxed),
            bytes_received: self.bytes_received.load(Ordering::Relaxed),
            round_trips: self.round_trips.load(Ordering::Relaxed),
            sessions: self.sessions.load(Ordering::Relaxed),
            connections: self.connections.load(Ordering::Relaxed),
        }
    }

    pub fn reset(&self) {
        for counter in [
            &self.bytes_sent,
            &self.bytes_received,
            &self.round_trips,
            &self.sessions,
            &self.connections,
        ] {
            counter.store(0, Ordering::Relaxed);
        }
    }

    pub(crate) fn session_started(&self) {
        self.sessions.fetch_add(1, Ordering::Relaxed);
    }
}

/// Why a channel could not carry a message.
#[derive(Debug)]
pub enum TransportError {
    /// The server refused the connection or request with a protocol error (a bad token, a revoked
    /// device, too many connections).
    Refused(Failure),
    /// The connection failed, broke or timed out.
    Network(String),
}

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// One way to the server, holding the access token it was opened with.
pub enum Channel {
    WebSocket {
        socket: Box<Socket>,
        timeout: Duration,
    },
    Http {
        http: reqwest::Client,
        url: String,
        token: String,
        timeout: Duration,
    },
}

/// `http://host:port` → `ws://host:port/v1/sync` (and https → wss).
fn sync_url(base: &str, websocket: bool) -> String {
    let base = base.trim_end_matches('/');
    if !websocket {
        return format!("{base}/v1/sync");
    }
    if let Some(rest) = base.strip_prefix("https://") {
        format!("wss://{rest}/v1/sync")
    } else if let Some(rest) = base.strip_prefix("http://") {
        format!("ws://{rest}/v1/sync")
    } else {
        format!("{base}/v1/sync")
    }
}

impl Channel {
    pub async fn open(
        kind: TransportKind,
        base: &str,
        token: &str,
        http: &reqwest::Client,
        timeout: Duration,
        counters: &WireCounters,
    ) -> Result<Channel, TransportError> {
        match kind {
            TransportKind::Http => Ok(Channel::Http {
                http: http.clone(),
                url: sync_url(base, false),
                token: token.to_string(),
                timeout,
            }),
            TransportKind::WebSocket => {
                let mut request = sync_url(base, true)
                    .into_client_request()
                    .map_err(|e| TransportError::Network(e.to_string()))?;
                let bearer = format!("Bearer {token}")
                    .parse()
                    .map_err(|_| TransportError::Network("访问令牌含有无效字符".into()))?;
                request.headers_mut().insert("authorization", bearer);
                // TCP_NODELAY: a sync is an exchange of small messages (see the server's listener).
                let connect = tokio_tungstenite::connect_async_with_config(request, None, true);
                match tokio::time::timeout(timeout, connect).await {
                    Err(_) => Err(TransportError::Network("连接服务器超时".into())),
                    Ok(Ok((socket, _))) => {
                        counters.connections.fetch_add(1, Ordering::Relaxed);
                        Ok(Channel::WebSocket {
                            socket: Box::new(socket),
                            timeout,
                        })
                    }
                    Ok(Err(tungstenite::Error::Http(response))) => {
                        let status = response.status().as_u16();
                        let failure = response
                            .body()
                            .as_deref()
                            .and_then(|body| ServerMessage::decode(body, &Limits::DEFAULT).ok());
                        match failure {
                            Some(ServerMessage::Error(failure)) => {
                                Err(TransportError::Refused(failure))
                            }
                            _ => Err(TransportError::Network(format!(
                                "服务器拒绝了连接（HTTP {status}）"
                            ))),
                        }
                    }
                    Ok(Err(error)) => Err(TransportError::Network(error.to_string())),
                }
            }
        }
    }

    /// Sends one client message and returns the server's answer (over a WebSocket: the next
    /// binary frame, which may be a `notify` the session ignores).
    pub async fn exchange(
        &mut self,
        bytes: Vec<u8>,
        counters: &WireCounters,
    ) -> Result<Vec<u8>, TransportError> {
        counters
            .bytes_sent
            .fetch_add(bytes.len() as u64, Ordering::Relaxed);
        let answer = match self {
            Channel::Http {
                http,
                url,
                token,
                timeout,
            } => {
                let response = http
                    .post(url.as_str())
                    .bearer_auth(token.as_str())
                    .header("content-type", "application/cbor")
                    .timeout(*timeout)
                    .body(bytes)
                    .send()
                    .await
                    .map_err(|e| TransportError::Network(e.to_string()))?;
                let status = response.status().as_u16();
                let body = response
                    .bytes()
                    .await
                    .map_err(|e| TransportError::Network(e.to_string()))?
                    .to_vec();
                if status != 200 && ServerMessage::decode(&body, &Limits::DEFAULT).is_err() {
                    return Err(TransportError::Network(format!(
                        "服务器返回了 HTTP {status}"
                    )));
                }
                body
            }
            Channel::WebSocket { socket, .. } => {
                socket
                    .send(Message::Binary(bytes.into()))
                    .await
                    .map_err(|e| TransportError::Network(e.to_string()))?;
                return self.receive_counted(counters, true).await;
            }
        };
        counters.round_trips.fetch_add(1, Ordering::Relaxed);
        counters
            .bytes_received
            .fetch_add(answer.len() as u64, Ordering::Relaxed);
        Ok(answer)
    }

    /// The next server message on a WebSocket, within the exchange timeout.
    pub async fn receive(&mut self, counters: &WireCounters) -> Result<Vec<u8>, TransportError> {
        self.receive_counted(counters, false).await
    }

    async fn receive_counted(
        &mut self,
        counters: &WireCounters,
        answers: bool,
    ) -> Result<Vec<u8>, TransportError> {
        let Channel::WebSocket { socket, timeout } = self else {
            return Err(TransportError::Network(
                "HTTP 同步没有服务器主动发送的消息".into(),
            ));
        };
        let timeout = *timeout;
        loop {
            let frame = tokio::time::timeout(timeout, socket.next())
                .await
                .map_err(|_| TransportError::Network("等待服务器应答超时".into()))?;
            match frame {
                None => return Err(TransportError::Network("连接已被服务器关闭".into())),
                Some(Err(error)) => return Err(TransportError::Network(error.to_string())),
                Some(Ok(Message::Binary(bytes))) => {
                    if answers {
                        counters.round_trips.fetch_add(1, Ordering::Relaxed);
                    }
                    counters
                        .bytes_received
                        .fetch_add(bytes.len() as u64, Ordering::Relaxed);
                    return Ok(bytes.to_vec());
                }
                Some(Ok(Message::Close(_))) => {
                    return Err(TransportError::Network("连接已被服务器关闭".into()))
                }
                Some(Ok(_)) => continue,
            }
        }
    }

    /// Waits, without a timeout, for the next server message between sessions (`notify`).
    pub async fn next_idle(&mut self, counters: &WireCounters) -> Result<Vec<u8>, TransportError> {
        let Channel::WebSocket { socket, .. } = self else {
            return std::future::pending().await;
        };
        loop {
            match socket.next().await {
                None => return Err(TransportError::Network("连接已被服务器关闭".into())),
                Some(Err(error)) => return Err(TransportError::Network(error.to_string())),
                Some(Ok(Message::Binary(bytes))) => {
                    counters
                        .bytes_received
                        .fetch_add(bytes.len() as u64, Ordering::Relaxed);
                    return Ok(bytes.to_vec());
                }
                Some(Ok(Message::Close(_))) => {
                    return Err(TransportError::Network("连接已被服务器关闭".into()))
                }
                Some(Ok(_)) => continue,
            }
        }
    }

    /// Closes a WebSocket politely.
    pub async fn close(self) {
        if let Channel::WebSocket { mut socket, .. } = self {
            let _ = tokio::time::timeout(Duration::from_secs(2), (*socket).close(None)).await;
        }
    }
}
