//! A tablet for the sync tests: an in-memory replica driven by `fengqiao_sync::session::
//! ClientSession` over a real WebSocket (tokio-tungstenite) or real HTTP requests (hyper), the way
//! a client built from docs/PROTOCOL.md would. It also records, per case, every set of heads the
//! server sent back: those are acknowledged changes, which must never be lost.
//!
//! Also the county the sync tests share, and a server on `127.0.0.1:0`.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::time::Duration;

use automerge::sync;
use automerge::transaction::Transactable;
use automerge::{ActorId, Automerge, ChangeHash, ReadDoc, Value, ROOT};
use fengqiao_schema::fixtures;
use fengqiao_schema::ids::CaseId;
use fengqiao_schema::time::Instant;
use fengqiao_schema::upgrade::{new_case_document, Intake};
use fengqiao_schema::vocab::{CaseKind, Role};
use fengqiao_server::store::Store;
use fengqiao_server::{serve, Services, Settings};
use fengqiao_sync::protocol::{ClientMessage, Cursor, DocReply, Failure, Limits, ServerMessage};
use fengqiao_sync::session::{ClientInput, ClientOutput, ClientSession, ClientStart, DocUpdate, LocalDoc, Notice};
use futures_util::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::common::*;

pub const PASSWORD: &str = "correct horse battery";

/// The fixture county's units, and users: (id, unit, role).
pub const PEOPLE: &[(&str, &str, Role)] = &[
    ("a1", fixtures::TOWN_A, Role::Mediator),
    ("a2", fixtures::TOWN_A, Role::Mediator),
    ("b1", fixtures::TOWN_B, Role::Mediator),
    ("p1", fixtures::PETITION, Role::PetitionOfficer),
    ("clerk", fixtures::COUNTY, Role::PetitionOfficer),
    ("chief", fixtures::COUNTY, Role::Supervisor),
];

/// Adds the fixture county and `PEOPLE` to a store.
pub async fn seed_county(store: &Store) {
    let tree = fixtures::county();
    let mut units: Vec<_> = tree.units().cloned().collect();
    // Parents first, for the foreign key.
    units.sort_by_key(|u| u.parent.is_some());
    for unit in units {
        store.add_unit(&unit).await.expect("add unit");
    }
    for (id, unit, role) in PEOPLE {
        add_user(store, id, unit, &[*role], PASSWORD).await;
    }
}

/// A server on `127.0.0.1:0` with its background services.
pub struct TestServer {
    pub address: SocketAddr,
    pub services: Option<Services>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl TestServer {
    pub async fn start(store: Store, settings: Settings) -> TestServer {
        let services = Services::start_on(store, &settings).await.expect("services start");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(serve(listener, services.state(), async {
            stopped.await.ok();
        }));
        TestServer { address, services: Some(services), stop: Some(stop), task: Some(task) }
    }

    pub fn state(&self) -> fengqiao_server::AppState {
        self.services.as_ref().expect("running").state()
    }

    /// Graceful shutdown: live connections are closed and the committer drained.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            within_deadline("the server stops", task).await.expect("server task").expect("serve");
        }
        if let Some(services) = self.services.take() {
            services.stop().await;
        }
    }
}

/// Short deadline for an HTTP exchange in a test.
const EXCHANGE_DEADLINE: Duration = Duration::from_secs(30);

/// One HTTP/1.1 request: status and body. `Err` when the connection fails.
pub async fn http_request(
    address: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: Vec<u8>,
) -> Result<(u16, Vec<u8>), String> {
    let exchange = async {
        let stream = TcpStream::connect(address).await.map_err(|e| e.to_string())?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(connection);
        let mut request = hyper::Request::builder().method(method).uri(path).header("host", address.to_string());
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let request = request.body(Full::new(Bytes::from(body))).map_err(|e| e.to_string())?;
        let response = sender.send_request(request).await.map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let bytes = response.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes();
        Ok((status, bytes.to_vec()))
    };
    tokio::time::timeout(EXCHANGE_DEADLINE, exchange).await.map_err(|_| "timed out".to_string())?
}

/// Logs `user` in on `device` over HTTP; the access token.
pub async fn login(address: SocketAddr, user: &str, device: &str) -> Result<String, String> {
    let body = serde_json::json!({ "user_id": user, "password": PASSWORD, "device_id": device, "device_name": device });
    let (status, body) = http_request(
        address,
        "POST",
        "/v1/auth/login",
        &[("content-type", "application/json".to_string())],
        body.to_string().into_bytes(),
    )
    .await?;
    if status != 200 {
        return Err(format!("login answered {status}: {}", String::from_utf8_lossy(&body)));
    }
    let session: serde_json::Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
    Ok(session["access_token"].as_str().ok_or("no access token")?.to_string())
}

/// POSTs one sync message; the status and the decoded answer.
pub async fn post_sync(address: SocketAddr, token: &str, body: Vec<u8>) -> Result<(u16, ServerMessage), String> {
    let (status, bytes) = http_request(
        address,
        "POST",
        "/v1/sync",
        &[("authorization", format!("Bearer {token}")), ("content-type", "application/cbor".to_string())],
        body,
    )
    .await?;
    let message = ServerMessage::decode(&bytes, &Limits::DEFAULT)
        .map_err(|e| format!("status {status}, not a server message: {e}"))?;
    Ok((status, message))
}

pub type WebSocket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Opens `/v1/sync` as a WebSocket with the token in the `Authorization` header.
pub async fn connect_ws(address: SocketAddr, token: &str) -> Result<WebSocket, tokio_tungstenite::tungstenite::Error> {
    let mut request = format!("ws://{address}/v1/sync").into_client_request()?;
    request.headers_mut().insert("authorization", format!("Bearer {token}").parse().expect("a header value"));
    let (socket, _) = tokio_tungstenite::connect_async(request).await?;
    Ok(socket)
}

/// The next server message on a WebSocket (`None` when it closed), within the deadline.
pub async fn next_message(socket: &mut WebSocket) -> Option<ServerMessage> {
    loop {
        let frame = within_deadline("a WebSocket frame", socket.next()).await?;
        match frame {
            Ok(Message::Binary(bytes)) => {
                return Some(ServerMessage::decode(&bytes, &Limits::DEFAULT).expect("the server sends messages"))
            }
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => continue,
        }
    }
}

/// How a tablet reaches the server.
pub enum Transport<'a> {
    Http { address: SocketAddr },
    WebSocket(&'a mut WebSocket),
}

impl Transport<'_> {
    /// Sends a client message and returns the server's answer (a `notify` on the way is skipped).
    async fn exchange(&mut self, token: &str, message: &ClientMessage) -> Result<ServerMessage, String> {
        match self {
            Transport::Http { address } => post_sync(*address, token, message.encode()).await.map(|(_, m)| m),
            Transport::WebSocket(socket) => {
                socket.send(Message::Binary(message.encode().into())).await.map_err(|e| e.to_string())?;
                loop {
                    let frame = tokio::time::timeout(EXCHANGE_DEADLINE, socket.next())
                        .await
                        .map_err(|_| "timed out".to_string())?
                        .ok_or("the connection closed")?
                        .map_err(|e| e.to_string())?;
                    match frame {
                        Message::Binary(bytes) => {
                            let message = ServerMessage::decode(&bytes, &Limits::DEFAULT).map_err(|e| e.to_string())?;
                            if !matches!(message, ServerMessage::Notify) {
                                return Ok(message);
                            }
                        }
                        Message::Close(_) => return Err("the connection closed".into()),
                        _ => {}
                    }
                }
            }
        }
    }
}

/// Why a sync did not complete.
#[derive(Debug)]
pub enum SyncError {
    /// The connection failed (the server may be down).
    Transport(String),
    /// The server ended the session.
    Failed(Failure),
}

/// A device with its replica.
pub struct Tablet {
    pub user: String,
    pub token: String,
    pub actor: ActorId,
    pub replica: BTreeMap<CaseId, Automerge>,
    sync_states: BTreeMap<CaseId, Vec<u8>>,
    pub cursor: Option<Cursor>,
    /// Cases with changes the server has not acknowledged.
    pub pending: BTreeSet<CaseId>,
    pub stash: BTreeMap<CaseId, Automerge>,
    pub notices: Vec<Notice>,
    /// Heads the server sent per case: every change below them is durable on the server.
    pub acknowledged: BTreeMap<CaseId, BTreeSet<ChangeHash>>,
    edits: u64,
}

impl Tablet {
    pub fn new(user: &str, token: String) -> Tablet {
        Tablet {
            user: user.to_string(),
            token,
            actor: ActorId::random(),
            replica: BTreeMap::new(),
            sync_states: BTreeMap::new(),
            cursor: None,
            pending: BTreeSet::new(),
            stash: BTreeMap::new(),
            notices: Vec::new(),
            acknowledged: BTreeMap::new(),
            edits: 0,
        }
    }

    pub async fn login(address: SocketAddr, user: &str, device: &str) -> Tablet {
        let token = login(address, user, device).await.expect("login");
        Tablet::new(user, token)
    }

    /// Opens a case offline in `unit`; its id.
    pub fn open_case(&mut self, kind: CaseKind, unit: &str, title: &str) -> CaseId {
        let intake = Intake {
            kind,
            unit: unit.to_string(),
            user: self.user.clone(),
            township: unit.to_string(),
            title: title.to_string(),
            created_at: Instant::from_unix(1_772_000_000),
        };
        let mut doc = new_case_document(self.actor.clone(), &intake).expect("a new case");
        let doc = Automerge::load(&doc.save()).expect("load").with_actor(self.actor.clone());
        let case_id = random_case();
        self.replica.insert(case_id, doc);
        self.pending.insert(case_id);
        case_id
    }

    /// Appends to the case's facts (a section every mediator of the custodian unit writes).
    pub fn edit_facts(&mut self, case_id: CaseId, text: &str) -> ChangeHash {
        self.edits += 1;
        let doc = self.replica.get_mut(&case_id).expect("the replica holds the case");
        doc.set_actor(self.actor.clone());
        let claims = match doc.get(ROOT, "claims").expect("read") {
            Some((Value::Object(_), id)) => id,
            other => panic!("claims is not an object: {other:?}"),
        };
        let facts = match doc.get(&claims, "facts").expect("read") {
            Some((Value::Object(_), id)) => id,
            other => panic!("facts is not text: {other:?}"),
        };
        let len = doc.length(&facts);
        let mut tx = doc.transaction();
        tx.splice_text(&facts, len, 0, text).expect("splice");
        let (hash, _) = tx.commit();
        self.pending.insert(case_id);
        hash.expect("a change")
    }

    /// Sets a scalar of a section (e.g. `petition`, `category`).
    pub fn set_field(&mut self, case_id: CaseId, section: &str, key: &str, value: &str) {
        let doc = self.replica.get_mut(&case_id).expect("the replica holds the case");
        doc.set_actor(self.actor.clone());
        let object = match doc.get(ROOT, section).expect("read") {
            Some((Value::Object(_), id)) => id,
            other => panic!("{section} is not an object: {other:?}"),
        };
        let mut tx = doc.transaction();
        tx.put(&object, key, value).expect("put");
        tx.commit();
        self.pending.insert(case_id);
    }

    /// The facts text of a case in the replica.
    pub fn facts(&self, case_id: CaseId) -> String {
        let doc = &self.replica[&case_id];
        let Some((_, claims)) = doc.get(ROOT, "claims").expect("read") else { return String::new() };
        let Some((_, facts)) = doc.get(&claims, "facts").expect("read") else { return String::new() };
        doc.text(&facts).expect("text")
    }

    /// The case number the server wrote, if the replica has it.
    pub fn case_number(&self, case_id: CaseId) -> Option<String> {
        let doc = self.replica.get(&case_id)?;
        let (_, meta) = doc.get(ROOT, "meta").ok()??;
        match doc.get(&meta, "case_number").ok()?? {
            (Value::Scalar(s), _) => s.as_str().map(str::to_string),
            _ => None,
        }
    }

    /// One whole session: hello to done.
    pub async fn sync(&mut self, transport: &mut Transport<'_>) -> Result<(), SyncError> {
        let start = ClientStart {
            cursor: self.cursor.clone(),
            pending: self.pending.iter().copied().collect(),
            agent: "fengqiao-server-tests/1".to_string(),
        };
        let (mut session, hello) = ClientSession::new(start, Limits::DEFAULT);
        let mut next = Some(hello);
        while let Some(message) = next.take() {
            let answer = transport.exchange(&self.token, &message).await.map_err(SyncError::Transport)?;
            self.record_acknowledged(&answer);
            let mut outputs: std::collections::VecDeque<ClientOutput> =
                session.handle(ClientInput::Message(answer)).into();
            while let Some(output) = outputs.pop_front() {
                match output {
                    ClientOutput::Send(message) => next = Some(message),
                    ClientOutput::Load(ids) => {
                        for doc_id in ids {
                            let local = self.replica.get(&doc_id).map(|doc| LocalDoc {
                                doc: doc.clone(),
                                sync_state: self.sync_states.get(&doc_id).cloned(),
                            });
                            outputs.extend(session.handle(ClientInput::Loaded { doc_id, local }));
                        }
                    }
                    ClientOutput::Store { doc_id, update, sync_state } => self.store(doc_id, update, sync_state),
                    ClientOutput::Notice(notice) => self.notices.push(notice),
                    ClientOutput::Stash(doc_id) => {
                        if let Some(doc) = self.replica.remove(&doc_id) {
                            self.stash.insert(doc_id, doc);
                        }
                        self.sync_states.remove(&doc_id);
                        self.pending.remove(&doc_id);
                    }
                    ClientOutput::Forget { doc_id, .. } => {
                        self.replica.remove(&doc_id);
                        self.sync_states.remove(&doc_id);
                        self.pending.remove(&doc_id);
                    }
                    ClientOutput::Finished(cursor) => {
                        self.cursor = Some(cursor);
                        return Ok(());
                    }
                    ClientOutput::Failed(failure) => return Err(SyncError::Failed(failure)),
                }
            }
        }
        Err(SyncError::Transport("the session stopped without finishing".into()))
    }

    fn record_acknowledged(&mut self, answer: &ServerMessage) {
        let ServerMessage::Batch(batch) = answer else { return };
        for entry in &batch.entries {
            let (doc_id, heads) = match entry {
                DocReply::Sync { doc_id, message, .. } => {
                    (*doc_id, sync::Message::decode(message).expect("a sync message").heads)
                }
                DocReply::Saved { doc_id, heads, .. } => (*doc_id, heads.clone()),
                _ => continue,
            };
            self.acknowledged.entry(doc_id).or_default().extend(heads);
        }
    }

    fn store(&mut self, doc_id: CaseId, update: Option<DocUpdate>, sync_state: Vec<u8>) {
        match update {
            Some(DocUpdate::Merge(bytes)) => match self.replica.get_mut(&doc_id) {
                Some(doc) => {
                    doc.load_incremental(&bytes).expect("merge what the server sent");
                }
                None => {
                    let doc =
                        Automerge::load(&bytes).expect("load what the server sent").with_actor(self.actor.clone());
                    self.replica.insert(doc_id, doc);
                }
            },
            Some(DocUpdate::Replace(bytes)) => {
                let doc = Automerge::load(&bytes).expect("load what the server sent").with_actor(self.actor.clone());
                self.replica.insert(doc_id, doc);
            }
            None => {}
        }
        let mut shared = sync::State::decode(&sync_state).expect("a sync state").shared_heads;
        shared.sort();
        if self.replica.get(&doc_id).is_some_and(|doc| {
            let mut heads = doc.get_heads();
            heads.sort();
            heads == shared
        }) {
            self.pending.remove(&doc_id);
        }
        self.sync_states.insert(doc_id, sync_state);
    }

    /// Syncs over HTTP until a session completes (retrying transport failures, within the deadline).
    pub async fn sync_http(&mut self, address: SocketAddr) {
        self.sync(&mut Transport::Http { address })
            .await
            .unwrap_or_else(|e| panic!("{} cannot sync: {e:?}", self.user));
    }

    pub fn heads(&self, case_id: CaseId) -> Vec<ChangeHash> {
        let mut heads = self.replica[&case_id].get_heads();
        heads.sort();
        heads
    }

    /// Rejections the user was shown.
    pub fn rejections(&self) -> Vec<String> {
        self.notices
            .iter()
            .filter_map(|n| match n {
                Notice::Rejected { doc_id, rejection } => Some(format!("{doc_id}: {}", rejection.code)),
                _ => None,
            })
            .collect()
    }
}

/// The heads of a stored case, sorted.
pub async fn stored_heads(store: &Store, case_id: CaseId) -> Option<Vec<ChangeHash>> {
    let stored = store.load_document(case_id).await.expect("load")?;
    let mut heads = stored.to_automerge().expect("a document").get_heads();
    heads.sort();
    Some(heads)
}

/// Waits for the next `notify` on an idle connection, within the deadline.
pub async fn wait_for_notify(socket: &mut WebSocket) {
    match next_message(socket).await {
        Some(ServerMessage::Notify) => {}
        other => panic!("expected notify, got {other:?}"),
    }
}
