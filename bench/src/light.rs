//! Light devices: the load generator of (c) and (d), and the fill of (e).
//!
//! A light device speaks the real sync protocol — the sync crate's `ClientSession`, the same
//! machine the Rust client runs — over one WebSocket, logs in through the real API, and makes its
//! changes with the schema's own code (a new case is `upgrade::new_case_document`, an edit through
//! the client's `edit::edit_case` or, for the appends that (c) and (d) repeat, one text splice,
//! the change a tablet app makes when it appends to a text). What it leaves out is the replica on
//! disk: its documents are in memory and nothing is fsynced. The full client (`fengqiao_client`)
//! costs a few milliseconds of CPU per edit in its SQLite replica; a hundred of them on the two
//! cores the server also runs on would measure the clients, not the server's durable commits.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ActorId, Automerge, ObjId, ReadDoc, ROOT};
use fengqiao_client::api::Api;
use fengqiao_client::edit::{self, EditContext};
use fengqiao_client::local::LocalUser;
use fengqiao_client::ops;
use fengqiao_schema::ids::{CaseId, DeviceId};
use fengqiao_schema::time::Instant;
use fengqiao_schema::upgrade::{new_case_document, Intake};
use fengqiao_schema::vocab::CaseKind;
use fengqiao_sync::protocol::{Cursor, Limits, ServerMessage};
use fengqiao_sync::session::{ClientInput, ClientOutput, ClientSession, ClientStart, DocUpdate, LocalDoc};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::fengqiao::{case_content, Content, Step, PASSWORD};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

struct Held {
    doc: Automerge,
    sync_state: Option<Vec<u8>>,
}

/// What one session did (bytes are counted by the proxy in front of the server).
#[derive(Debug, Clone, Copy, Default)]
pub struct SessionSummary {
    pub rounds: u64,
}

/// One device: a user logged in, a WebSocket, documents in memory. See the module documentation.
pub struct LightDevice {
    base: String,
    user: LocalUser,
    token: String,
    actor: ActorId,
    docs: HashMap<CaseId, Held>,
    /// Cases edited here that the server has not acknowledged yet.
    pending: BTreeSet<CaseId>,
    cursor: Option<Cursor>,
    socket: Option<Socket>,
    /// Notices (refusals, compensations) seen: a benchmark run expects none.
    pub notices: u64,
}

impl LightDevice {
    /// Logs `user` in on `base` (an `http://` address) as a new device.
    pub async fn login(http: &reqwest::Client, base: &str, user: &str) -> Result<LightDevice> {
        let api = Api::new(http.clone(), base);
        let device = DeviceId::new(format!("bench-{}", hex(&rand_bytes())));
        let answer = api.login(user, PASSWORD, &device, "基准测试设备").await.map_err(|e| anyhow!("{e}"))?;
        Ok(LightDevice {
            base: base.trim_end_matches('/').to_string(),
            user: answer.user,
            token: answer.access_token,
            actor: ActorId::random(),
            docs: HashMap::new(),
            pending: BTreeSet::new(),
            cursor: None,
            socket: None,
            notices: 0,
        })
    }

    /// Opens the WebSocket (once; sessions reuse it).
    pub async fn connect(&mut self) -> Result<()> {
        if self.socket.is_some() {
            return Ok(());
        }
        let url = format!("{}/v1/sync", self.base.replacen("http", "ws", 1));
        let mut request = url.as_str().into_client_request()?;
        request.headers_mut().insert("authorization", format!("Bearer {}", self.token).parse()?);
        let (socket, _) = tokio_tungstenite::connect_async_with_config(request, None, true)
            .await
            .with_context(|| format!("connecting to {url}"))?;
        self.socket = Some(socket);
        Ok(())
    }

    /// Opens a case on the device, as the client's `open_case` does, with `content`.
    pub fn open_case(&mut self, title: &str, content: Content, serial: usize) -> Result<CaseId> {
        let now = Instant::from_unix(unix_seconds());
        let intake = Intake {
            kind: CaseKind::Dispute,
            unit: self.user.unit.to_string(),
            user: self.user.id.to_string(),
            township: self.user.unit.to_string(),
            title: title.to_string(),
            created_at: now,
        };
        let mut doc = new_case_document(self.actor.clone(), &intake)?;
        let case_id = CaseId::from_bytes(rand_bytes());
        let mut bytes = doc.save_nocompress();
        for step in case_content(content, serial) {
            let context = EditContext { user: &self.user, actor: self.actor.clone(), now };
            let edited = edit::edit_case(&bytes, &context, |case| {
                match step {
                    Step::Party(party) => {
                        ops::add_party(case, party)?;
                    }
                    Step::Facts(text) => ops::append_text(&mut case.claims.facts, text),
                    Step::Session(session) => {
                        ops::add_session(case, &self.user, session)?;
                    }
                    Step::Agreement(text) => {
                        ops::append_text(&mut case.mediation.agreement.terms, text)
                    }
                }
                Ok(())
            })
            .map_err(|e| anyhow!("{e}"))?;
            bytes = edited.bytes;
        }
        self.docs.insert(case_id, Held { doc: Automerge::load(&bytes)?, sync_state: None });
        self.pending.insert(case_id);
        Ok(case_id)
    }

    /// Appends `text` to the text at `path` of a case, as one change.
    pub fn append(&mut self, case_id: CaseId, path: &[&str], text: &str) -> Result<()> {
        let held = self.docs.get_mut(&case_id).ok_or_else(|| anyhow!("case {case_id} is not on the device"))?;
        held.doc.set_actor(self.actor.clone());
        let object = object_at(&held.doc, path).ok_or_else(|| anyhow!("no text at {path:?}"))?;
        let end = held.doc.length(&object);
        let time = unix_seconds() * 1000;
        held.doc
            .transact_with::<_, _, automerge::AutomergeError, _>(
                |_| CommitOptions::default().with_time(time),
                |tx| tx.splice_text(&object, end, 0, text),
            )
            .map_err(|failure| failure.error)?;
        self.pending.insert(case_id);
        Ok(())
    }

    /// The text at `path` of a case held here ("" if none).
    pub fn text(&self, case_id: CaseId, path: &[&str]) -> String {
        let Some(held) = self.docs.get(&case_id) else { return String::new() };
        object_at(&held.doc, path).and_then(|object| held.doc.text(&object).ok()).unwrap_or_default()
    }

    pub fn cases(&self) -> impl Iterator<Item = &CaseId> {
        self.docs.keys()
    }

    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// One session, `hello` to `done`, on the device's WebSocket (connected if need be).
    pub async fn sync(&mut self) -> Result<SessionSummary> {
        self.connect().await?;
        let mut socket = self.socket.take().expect("connected above");
        let result = self.session(&mut socket).await;
        if result.is_ok() {
            self.socket = Some(socket);
        }
        result
    }

    async fn session(&mut self, socket: &mut Socket) -> Result<SessionSummary> {
        let (mut session, hello) = ClientSession::new(
            ClientStart {
                cursor: self.cursor.clone(),
                pending: self.pending.iter().copied().collect(),
                agent: "fengqiao-bench/light".into(),
            },
            Limits::DEFAULT,
        );
        let mut summary = SessionSummary::default();
        let mut outgoing = Some(hello.encode());
        loop {
            if let Some(bytes) = outgoing.take() {
                summary.rounds += 1;
                socket.send(Message::Binary(bytes.into())).await?;
            }
            let bytes = next_binary(socket).await?;
            let mut queue: VecDeque<ClientOutput> = match ServerMessage::decode(&bytes, &Limits::DEFAULT) {
                Ok(ServerMessage::Notify) => continue,
                Ok(message) => session.handle(ClientInput::Message(message)).into(),
                Err(_) => session.receive(&bytes).into(),
            };
            let mut finished = false;
            while let Some(output) = queue.pop_front() {
                match output {
                    ClientOutput::Send(message) => outgoing = Some(message.encode()),
                    ClientOutput::Load(ids) => {
                        for doc_id in ids {
                            let local = self
                                .docs
                                .get(&doc_id)
                                .map(|held| LocalDoc { doc: held.doc.clone(), sync_state: held.sync_state.clone() });
                            queue.extend(session.handle(ClientInput::Loaded { doc_id, local }));
                        }
                    }
                    ClientOutput::Store { doc_id, update, sync_state } => {
                        let held = match update {
                            Some(DocUpdate::Merge(bytes)) => match self.docs.get_mut(&doc_id) {
                                Some(held) => {
                                    held.doc.load_incremental(&bytes)?;
                                    held
                                }
                                None => self.docs.entry(doc_id).or_insert(Held { doc: Automerge::load(&bytes)?, sync_state: None }),
                            },
                            Some(DocUpdate::Replace(bytes)) => {
                                self.docs.insert(doc_id, Held { doc: Automerge::load(&bytes)?, sync_state: None });
                                self.docs.get_mut(&doc_id).expect("inserted")
                            }
                            None => match self.docs.get_mut(&doc_id) {
                                Some(held) => held,
                                None => continue,
                            },
                        };
                        held.sync_state = Some(sync_state);
                    }
                    ClientOutput::Notice(_) | ClientOutput::Stash(_) => self.notices += 1,
                    ClientOutput::Forget { doc_id, .. } => {
                        self.docs.remove(&doc_id);
                        self.pending.remove(&doc_id);
                    }
                    ClientOutput::Finished(cursor) => {
                        self.cursor = Some(cursor);
                        finished = true;
                    }
                    ClientOutput::Failed(failure) => bail!("the session failed: {}", failure.message),
                }
            }
            if finished {
                self.settle_pending();
                return Ok(summary);
            }
            if outgoing.is_none() {
                bail!("the session stopped with nothing to send");
            }
        }
    }

    /// Cases whose every head the server has acknowledged are no longer pending.
    fn settle_pending(&mut self) {
        let docs = &self.docs;
        self.pending.retain(|case_id| {
            let Some(held) = docs.get(case_id) else { return false };
            let Some(state) = held.sync_state.as_deref().and_then(|s| automerge::sync::State::decode(s).ok()) else {
                return true;
            };
            !held.doc.get_heads().iter().all(|head| state.shared_heads.contains(head))
        });
    }

    /// Waits up to `timeout` for a `notify` between sessions; false if none came.
    pub async fn wait_notify(&mut self, timeout: Duration) -> Result<bool> {
        self.connect().await?;
        let socket = self.socket.as_mut().expect("connected above");
        match tokio::time::timeout(timeout, next_binary(socket)).await {
            Err(_) => Ok(false),
            Ok(bytes) => match ServerMessage::decode(&bytes?, &Limits::DEFAULT) {
                Ok(ServerMessage::Notify) => Ok(true),
                Ok(ServerMessage::Error(failure)) => bail!("the server ended the connection: {}", failure.message),
                other => bail!("unexpected message between sessions: {other:?}"),
            },
        }
    }

    pub async fn close(mut self) {
        if let Some(mut socket) = self.socket.take() {
            let _ = socket.close(None).await;
        }
    }
}

async fn next_binary(socket: &mut Socket) -> Result<Vec<u8>> {
    loop {
        match socket.next().await {
            None => bail!("the server closed the connection"),
            Some(Err(error)) => return Err(error.into()),
            Some(Ok(Message::Binary(bytes))) => return Ok(bytes.to_vec()),
            Some(Ok(Message::Close(frame))) => bail!("the server closed the connection: {frame:?}"),
            Some(Ok(_)) => continue,
        }
    }
}

fn object_at(doc: &Automerge, path: &[&str]) -> Option<ObjId> {
    let mut object = ROOT;
    for key in path {
        match doc.get(&object, *key).ok()?? {
            (automerge::Value::Object(_), id) => object = id,
            _ => return None,
        }
    }
    Some(object)
}

fn unix_seconds() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

fn rand_bytes() -> [u8; 16] {
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&ActorId::random().to_bytes()[..16]);
    bytes
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
