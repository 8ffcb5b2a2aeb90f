//! [`Client`]: one device's replica and its way to the server. Async, cheap to clone, no global
//! state: a process may drive many clients at once (a benchmark does), each with its own data
//! directory, credentials and wire counters.
//!
//! A sync runs `fengqiao_sync::session::ClientSession` over a [`Channel`]; each server message is
//! handled on a blocking thread in one SQLite transaction (documents, sync states, notices and,
//! at the end, the cursor). Before a session the access token is refreshed when it has expired or
//! is about to; when the server says `unauthorized` mid-way the token is refreshed and the session
//! started again, once. A refresh token that no longer works turns the login into
//! [`LoginState::LoginRequired`]; a revoked device into [`LoginState::DeviceRevoked`]: local data
//! stays, and [`Client::export`] writes it out.

use std::collections::{HashMap, HashSet, VecDeque};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use automerge::{sync, Automerge, ChangeHash};
use fengqiao_schema::document::Case;
use fengqiao_schema::ids::CaseId;
use fengqiao_schema::time::Instant;
use fengqiao_schema::upgrade::{new_case_document, Intake};
use fengqiao_schema::vocab::{CaseKind, HandoffVerdict, Section, Track};
use fengqiao_sync::protocol::{ErrorCode, Failure, Limits, ServerMessage};
use fengqiao_sync::session::{
    ClientInput, ClientOutput, ClientSession, ClientStart, DocUpdate, ForgetReason, LocalDoc,
    Notice,
};
use serde::Serialize;

use crate::api::{self, Api, SessionAnswer};
use crate::clock::{Clock, SystemClock};
use crate::edit::{self, EditContext, Edited};
use crate::error::ClientError;
use crate::local::{self, CaseListing, LocalUser};
use crate::ops::{self, NewParty, NewSession};
use crate::replica::{
    Credentials, LoginState, NewNotice, NoticeKind, Replica, StashEntry, StoredNotice,
};
use crate::transport::{Channel, TransportError, TransportKind, WireCounters, WireStats};

/// The name of the replica file inside the data directory.
pub const REPLICA_FILE: &str = "replica.sqlite3";

/// How a client is set up.
#[derive(Clone)]
pub struct ClientOptions {
    /// Where the replica lives (created if missing).
    pub data_dir: PathBuf,
    /// The server's base URL, e.g. `http://127.0.0.1:8080`.
    pub server: String,
    pub transport: TransportKind,
    /// The client program and version, for the server's logs.
    pub agent: String,
    /// The device's name, registered at first login.
    pub device_name: String,
    /// Refresh the access token before a session when it expires within this.
    pub refresh_margin: Duration,
    /// How long to wait for one answer from the server.
    pub exchange_timeout: Duration,
    pub clock: Arc<dyn Clock>,
}

impl ClientOptions {
    pub fn new(data_dir: impl Into<PathBuf>, server: impl Into<String>) -> ClientOptions {
        ClientOptions {
            data_dir: data_dir.into(),
            server: server.into(),
            transport: TransportKind::WebSocket,
            agent: format!("fengqiao-client/{}", env!("CARGO_PKG_VERSION")),
            device_name: "平板".to_string(),
            refresh_margin: Duration::from_secs(60),
            exchange_timeout: Duration::from_secs(60),
            clock: Arc::new(SystemClock),
        }
    }
}

/// What a sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    /// Client messages sent (hello and batches).
    pub rounds: u64,
    /// Cases the session worked through (local unacknowledged ones and the server's changed ones).
    pub cases_in_play: usize,
    /// Cases the replica did not hold and now does.
    pub cases_received: usize,
    /// Cases the server's changes were merged into.
    pub cases_updated: usize,
    /// Notices added for the user.
    pub notices: usize,
    /// Copies moved to the stash.
    pub stashed: usize,
    /// Cases that left the replica (no longer readable).
    pub forgotten: usize,
    pub bytes_sent: u64,
    pub bytes_received: u64,
}

/// Where a sync is, for a progress bar.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncProgress {
    pub round: u64,
    /// Cases in play in this session (known once the welcome arrived).
    pub cases_total: usize,
    /// Cases stored or settled so far.
    pub cases_done: usize,
    pub bytes_received: u64,
}

/// Called after every server message of a session, on a blocking thread.
pub type ProgressFn = Arc<dyn Fn(&SyncProgress) + Send + Sync>;

/// What `watch` reports.
#[derive(Debug)]
pub enum WatchEvent {
    /// Connected to the server.
    Connected,
    /// A session completed.
    Synced(SyncReport),
    /// The connection was lost; reconnecting after the delay.
    Disconnected { reason: String, retry_in: Duration },
}

/// What `export` wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ExportSummary {
    pub cases: usize,
    pub pending: usize,
    pub stashed: usize,
    pub notices: usize,
}

/// One device's client. See the module documentation.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    options: ClientOptions,
    replica: Mutex<Replica>,
    api: Api,
    wire: WireCounters,
    /// Refresh tokens rotate: one refresh at a time.
    refresh: tokio::sync::Mutex<()>,
    /// Told after every local edit, so that `watch` sends it at once rather than at its next poll.
    local_change: tokio::sync::Notify,
}

/// How a session ended, when it did not complete.
enum SessionEnd {
    Failed(Failure),
    Network(String),
    Local(ClientError),
}

impl Client {
    /// Opens (or creates) the replica in `options.data_dir`.
    pub fn open(options: ClientOptions) -> Result<Client, ClientError> {
        std::fs::create_dir_all(&options.data_dir).map_err(|e| {
            ClientError::Local(format!(
                "无法创建数据目录 {}：{e}",
                options.data_dir.display()
            ))
        })?;
        let replica = Replica::open(&options.data_dir.join(REPLICA_FILE))?;
        let http = reqwest::Client::builder()
            .connect_timeout(options.exchange_timeout)
            .timeout(options.exchange_timeout)
            .build()
            .map_err(|e| ClientError::Local(format!("无法初始化网络：{e}")))?;
        let api = Api::new(http, &options.server);
        Ok(Client {
            inner: Arc::new(Inner {
                options,
                replica: Mutex::new(replica),
                api,
                wire: WireCounters::default(),
                refresh: tokio::sync::Mutex::new(()),
                local_change: tokio::sync::Notify::new(),
            }),
        })
    }

    pub fn options(&self) -> &ClientOptions {
        &self.inner.options
    }

    /// Bytes and round trips this client carried.
    pub fn wire_stats(&self) -> WireStats {
        self.inner.wire.snapshot()
    }

    pub fn reset_wire_stats(&self) {
        self.inner.wire.reset()
    }

    fn now(&self) -> Instant {
        self.inner.options.clock.now()
    }

    /// Runs `f` on the replica on a blocking thread.
    async fn replica<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Replica) -> Result<T, ClientError> + Send + 'static,
    ) -> Result<T, ClientError> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let replica = inner.replica.lock().unwrap_or_else(|p| p.into_inner());
            f(&replica)
        })
        .await
        .map_err(|e| ClientError::Local(format!("后台任务失败：{e}")))?
    }

    // -- identity ----------------------------------------------------------------------------

    /// Logs `user_id` in on this device. After a login that the expired refresh token required,
    /// the next sync sends everything kept meanwhile.
    pub async fn login(&self, user_id: &str, password: &str) -> Result<LocalUser, ClientError> {
        let user = user_id.to_string();
        let (device_id, previous) = self
            .replica(move |r| {
                let previous = r.credentials()?;
                if let Some(previous) = &previous {
                    if previous.user.id.as_str() != user {
                        let holds = !r.case_ids()?.is_empty() || !r.stash()?.is_empty();
                        if holds {
                            return Err(ClientError::Local(format!(
                                "本机数据属于用户「{}」，不能以其他用户登录；请使用另一个数据目录（--data-dir）",
                                previous.user.id
                            )));
                        }
                        // A fresh start for another user: a device and an actor of its own.
                        r.set_meta("device_id", format!("tablet-{}", crate::hex(&crate::random_bytes::<8>())).as_bytes())?;
                        r.new_actor()?;
                        r.clear_cursor()?;
                    }
                }
                Ok((r.device_id()?, previous))
            })
            .await?;
        let _ = previous;
        let answer = self
            .inner
            .api
            .login(
                user_id,
                password,
                &device_id,
                &self.inner.options.device_name,
            )
            .await?;
        let user = answer.user.clone();
        self.save_session(answer).await?;
        Ok(user)
    }

    async fn save_session(&self, answer: SessionAnswer) -> Result<(), ClientError> {
        let credentials = Credentials {
            user: answer.user,
            device_id: answer.device_id,
            access_token: answer.access_token,
            expires_at: answer.expires_at,
            refresh_token: answer.refresh_token,
            refresh_expires_at: answer.refresh_expires_at,
            state: LoginState::Active,
        };
        self.replica(move |r| r.set_credentials(&credentials)).await
    }

    pub async fn credentials(&self) -> Result<Option<Credentials>, ClientError> {
        self.replica(|r| r.credentials()).await
    }

    /// The logged-in user (as of the last login), even when the login must be renewed.
    pub async fn user(&self) -> Result<LocalUser, ClientError> {
        self.credentials()
            .await?
            .map(|c| c.user)
            .ok_or(ClientError::NotLoggedIn)
    }

    /// A usable access token: the stored one, or a fresh one when it has expired, is about to,
    /// or `force` says the server refused it.
    pub async fn access_token(&self, force: bool) -> Result<String, ClientError> {
        let _one_at_a_time = self.inner.refresh.lock().await;
        let credentials = self.credentials().await?.ok_or(ClientError::NotLoggedIn)?;
        if credentials.state == LoginState::LoginRequired {
            return Err(ClientError::LoginRequired(api::LOGIN_AGAIN.to_string()));
        }
        let now = self.now().unix_seconds();
        let margin = i64::try_from(self.inner.options.refresh_margin.as_secs()).unwrap_or(i64::MAX);
        if !force
            && credentials.state == LoginState::Active
            && credentials.expires_at.saturating_sub(now) > margin
        {
            return Ok(credentials.access_token);
        }
        match self.inner.api.refresh(&credentials.refresh_token).await {
            Ok(answer) => {
                let token = answer.access_token.clone();
                self.save_session(answer).await?;
                Ok(token)
            }
            Err(error) => {
                self.note_refusal(&error).await?;
                Err(error)
            }
        }
    }

    /// Remembers a refusal that only the user (or an administrator) can lift.
    async fn note_refusal(&self, error: &ClientError) -> Result<(), ClientError> {
        let state = match error {
            ClientError::LoginRequired(_) => LoginState::LoginRequired,
            ClientError::DeviceRevoked(_) | ClientError::UserRevoked(_) => {
                LoginState::DeviceRevoked
            }
            _ => return Ok(()),
        };
        self.replica(move |r| r.set_login_state(state)).await
    }

    /// An authenticated GET of the server's JSON API (`/v1/inbox`, `/v1/cases?...`).
    pub async fn api_get(&self, path: &str) -> Result<serde_json::Value, ClientError> {
        let token = self.access_token(false).await?;
        match self.inner.api.get_json(&token, path).await {
            Err(ClientError::Server { code, .. }) if code == "token_expired" => {
                let token = self.access_token(true).await?;
                self.inner.api.get_json(&token, path).await
            }
            other => other,
        }
    }

    // -- reading -----------------------------------------------------------------------------

    /// The cases held, with whether each is read-only or has unsynced changes.
    pub async fn cases(&self) -> Result<Vec<CaseListing>, ClientError> {
        let user = self.user().await?;
        self.replica(move |r| r.listings(&user)).await
    }

    /// A case, hydrated through the schema types.
    pub async fn case(&self, case_id: CaseId) -> Result<Case, ClientError> {
        self.replica(move |r| {
            r.case(case_id)?
                .ok_or(ClientError::UnknownCase(case_id.to_string()))
        })
        .await
    }

    /// The case's Automerge document.
    pub async fn document(&self, case_id: CaseId) -> Result<Automerge, ClientError> {
        self.replica(move |r| {
            r.document(case_id)?
                .map(|h| h.doc)
                .ok_or(ClientError::UnknownCase(case_id.to_string()))
        })
        .await
    }

    /// The heads of a case in the replica, sorted.
    pub async fn heads(&self, case_id: CaseId) -> Result<Vec<ChangeHash>, ClientError> {
        let mut heads = self.document(case_id).await?.get_heads();
        heads.sort();
        Ok(heads)
    }

    pub async fn pending_cases(&self) -> Result<Vec<CaseId>, ClientError> {
        self.replica(|r| r.pending_cases()).await
    }

    /// Finds a case by its id, an unambiguous start of it, its case number or its exact title.
    pub async fn resolve_case(&self, name: &str) -> Result<CaseId, ClientError> {
        if let Ok(id) = CaseId::parse(name) {
            return Ok(id);
        }
        let listings = self.cases().await?;
        let matches: Vec<&CaseListing> = listings
            .iter()
            .filter(|l| {
                l.case_number.as_deref() == Some(name)
                    || l.title == name
                    || (name.len() >= 4 && l.case_id.to_string().starts_with(name))
            })
            .collect();
        match matches.as_slice() {
            [one] => Ok(one.case_id),
            [] => Err(ClientError::UnknownCase(name.to_string())),
            _ => Err(ClientError::EditRefused(format!(
                "「{name}」对应多个案件，请给出完整的案件标识"
            ))),
        }
    }

    // -- editing -----------------------------------------------------------------------------

    /// Opens a new case on the device (offline if need be); the server registers it at the next
    /// sync. The case is held by the user's unit.
    pub async fn open_case(&self, kind: CaseKind, title: &str) -> Result<CaseId, ClientError> {
        let user = self.user().await?;
        let now = self.now();
        let title = title.to_string();
        let case_id = CaseId::from_bytes(crate::random_bytes::<16>());
        self.replica(move |r| {
            let intake = Intake {
                kind,
                unit: user.unit.to_string(),
                user: user.id.to_string(),
                township: user.unit.to_string(),
                title,
                created_at: now,
            };
            let mut doc = new_case_document(r.actor()?, &intake)
                .map_err(|e| ClientError::Local(e.to_string()))?;
            r.write_document(case_id, &doc.save(), &doc.get_heads(), true)?;
            Ok(case_id)
        })
        .await?;
        self.inner.local_change.notify_one();
        Ok(case_id)
    }

    /// Changes the case through the schema types, as one change; refused (nothing written) when
    /// it touches a section the user may not write. Returns `f`'s value.
    pub async fn edit<T: Send + 'static>(
        &self,
        case_id: CaseId,
        f: impl FnOnce(&mut Case, &LocalUser, Instant) -> Result<T, ClientError> + Send + 'static,
    ) -> Result<T, ClientError> {
        let user = self.user().await?;
        let now = self.now();
        self.replica(move |r| {
            let bytes = r
                .document_bytes(case_id)?
                .ok_or(ClientError::UnknownCase(case_id.to_string()))?;
            let context = EditContext {
                user: &user,
                actor: r.actor()?,
                now,
            };
            let edited = edit::edit_case(&bytes, &context, |case| f(case, &user, now))?;
            store_edit(r, case_id, &edited)?;
            Ok(edited.value)
        })
        .await
        .inspect(|_| self.inner.local_change.notify_one())
    }

    /// Sets one field by its path (see [`edit::set_field`]).
    pub async fn set_field(
        &self,
        case_id: CaseId,
        path: &str,
        value: &str,
    ) -> Result<(), ClientError> {
        let user = self.user().await?;
        let now = self.now();
        let (path, value) = (path.to_string(), value.to_string());
        self.replica(move |r| {
            let bytes = r
                .document_bytes(case_id)?
                .ok_or(ClientError::UnknownCase(case_id.to_string()))?;
            let context = EditContext {
                user: &user,
                actor: r.actor()?,
                now,
            };
            let edited = edit::set_field(&bytes, &context, &path, &value)?;
            store_edit(r, case_id, &edited)
        })
        .await
    }

    pub async fn set_title(&self, case_id: CaseId, title: &str) -> Result<(), ClientError> {
        let title = title.to_string();
        self.edit(case_id, move |case, _, _| {
            case.meta.title = title;
            Ok(())
        })
        .await
    }

    /// Appends to the facts of the case (`claims.facts`).
    pub async fn append_facts(&self, case_id: CaseId, text: &str) -> Result<(), ClientError> {
        let text = text.to_string();
        self.edit(case_id, move |case, _, _| {
            ops::append_text(&mut case.claims.facts, &text);
            Ok(())
        })
        .await
    }

    /// Appends to the terms of the mediation agreement (`mediation.agreement.terms`).
    pub async fn append_agreement(&self, case_id: CaseId, text: &str) -> Result<(), ClientError> {
        let text = text.to_string();
        self.edit(case_id, move |case, _, _| {
            ops::append_text(&mut case.mediation.agreement.terms, &text);
            Ok(())
        })
        .await
    }

    pub async fn add_party(&self, case_id: CaseId, party: NewParty) -> Result<String, ClientError> {
        self.edit(case_id, move |case, _, _| ops::add_party(case, party))
            .await
    }

    pub async fn add_session(
        &self,
        case_id: CaseId,
        session: NewSession,
    ) -> Result<String, ClientError> {
        self.edit(case_id, move |case, user, _| {
            ops::add_session(case, user, session)
        })
        .await
    }

    pub async fn request_handoff(
        &self,
        case_id: CaseId,
        to_track: Track,
        to_unit: &str,
        reason: &str,
    ) -> Result<String, ClientError> {
        let (to_unit, reason) = (to_unit.to_string(), reason.to_string());
        self.edit(case_id, move |case, user, now| {
            ops::request_handoff(case, user, to_track, &to_unit, &reason, now)
        })
        .await
    }

    pub async fn decide_handoff(
        &self,
        case_id: CaseId,
        handoff_id: &str,
        verdict: HandoffVerdict,
        note: &str,
    ) -> Result<(), ClientError> {
        let (id, note) = (handoff_id.to_string(), note.to_string());
        self.edit(case_id, move |case, user, now| {
            ops::decide_handoff(case, user, &id, verdict, &note, now)
        })
        .await
    }

    pub async fn withdraw_handoff(
        &self,
        case_id: CaseId,
        handoff_id: &str,
    ) -> Result<(), ClientError> {
        let id = handoff_id.to_string();
        self.edit(case_id, move |case, user, now| {
            ops::withdraw_handoff(case, user, &id, now)
        })
        .await
    }

    /// The sections the user may write in the case now (empty: read-only).
    pub async fn writable_sections(&self, case_id: CaseId) -> Result<Vec<Section>, ClientError> {
        let user = self.user().await?;
        let case = self.case(case_id).await?;
        Ok(Section::ALL
            .iter()
            .copied()
            .filter(|s| local::can_write(&user, &case, *s))
            .collect())
    }

    // -- notices and the stash ---------------------------------------------------------------

    /// Notices not yet acknowledged (or all of them).
    pub async fn notices(
        &self,
        include_acknowledged: bool,
    ) -> Result<Vec<StoredNotice>, ClientError> {
        self.replica(move |r| r.notices(include_acknowledged)).await
    }

    pub async fn acknowledge(&self, notice_id: i64) -> Result<bool, ClientError> {
        let now = self.now().unix_seconds();
        self.replica(move |r| r.acknowledge(notice_id, now)).await
    }

    pub async fn acknowledge_all(&self) -> Result<usize, ClientError> {
        let now = self.now().unix_seconds();
        self.replica(move |r| r.acknowledge_all(now)).await
    }

    pub async fn stash(&self) -> Result<Vec<StashEntry>, ClientError> {
        self.replica(|r| r.stash()).await
    }

    /// Writes every case (`cases/<id>.automerge`), every stashed copy (`stash/<n>-<id>.automerge`)
    /// and an `index.json` naming them, with the notices, into `dir`: what a revoked device hands
    /// to an administrator.
    pub async fn export(&self, dir: &Path) -> Result<ExportSummary, ClientError> {
        let dir = dir.to_path_buf();
        let user = self.user().await.ok();
        self.replica(move |r| {
            let io = |e: std::io::Error| ClientError::Local(format!("导出失败：{e}"));
            std::fs::create_dir_all(dir.join("cases")).map_err(io)?;
            std::fs::create_dir_all(dir.join("stash")).map_err(io)?;
            let mut summary = ExportSummary::default();
            let pending: HashSet<CaseId> = r.pending_cases()?.into_iter().collect();
            let mut cases = Vec::new();
            for case_id in r.case_ids()? {
                let Some(bytes) = r.document_bytes(case_id)? else {
                    continue;
                };
                std::fs::write(
                    dir.join("cases").join(format!("{case_id}.automerge")),
                    &bytes,
                )
                .map_err(io)?;
                summary.cases += 1;
                summary.pending += usize::from(pending.contains(&case_id));
                cases.push(serde_json::json!({
                    "case_id": case_id,
                    "title": r.title_of(case_id),
                    "unsynced_changes": pending.contains(&case_id),
                    "file": format!("cases/{case_id}.automerge"),
                }));
            }
            let mut stash = Vec::new();
            for entry in r.stash()? {
                let file = format!("stash/{}-{}.automerge", entry.id, entry.case_id);
                std::fs::write(dir.join(&file), &entry.bytes).map_err(io)?;
                summary.stashed += 1;
                stash.push(serde_json::json!({ "entry": entry, "file": file }));
            }
            let notices = r.notices(true)?;
            summary.notices = notices.len();
            let index = serde_json::json!({
                "user": user,
                "cases": cases,
                "stash": stash,
                "notices": notices,
            });
            std::fs::write(
                dir.join("index.json"),
                serde_json::to_vec_pretty(&index).expect("JSON"),
            )
            .map_err(io)?;
            Ok(summary)
        })
        .await
    }

    // -- sync --------------------------------------------------------------------------------

    /// One sync: refresh the token if need be, run a session to `done`.
    pub async fn sync(&self) -> Result<SyncReport, ClientError> {
        self.sync_with(None).await
    }

    /// [`Client::sync`], telling `progress` after every server message.
    pub async fn sync_with(&self, progress: Option<ProgressFn>) -> Result<SyncReport, ClientError> {
        let mut refreshed = false;
        loop {
            let token = self.access_token(false).await?;
            let opened = Channel::open(
                self.inner.options.transport,
                &self.inner.options.server,
                &token,
                self.inner.api.http(),
                self.inner.options.exchange_timeout,
                &self.inner.wire,
            )
            .await;
            let ended = match opened {
                Ok(mut channel) => {
                    let result = self.run_session(&mut channel, progress.clone()).await;
                    channel.close().await;
                    match result {
                        Ok(report) => return Ok(report),
                        Err(end) => end,
                    }
                }
                Err(TransportError::Refused(failure)) => SessionEnd::Failed(failure),
                Err(TransportError::Network(e)) => SessionEnd::Network(e),
            };
            match ended {
                SessionEnd::Failed(failure)
                    if failure.code == ErrorCode::Unauthorized && !refreshed =>
                {
                    refreshed = true;
                    self.access_token(true).await?;
                }
                SessionEnd::Failed(failure) if failure.code == ErrorCode::DeviceRevoked => {
                    let error = ClientError::DeviceRevoked(api::DEVICE_REVOKED.to_string());
                    self.note_refusal(&error).await?;
                    return Err(error);
                }
                SessionEnd::Failed(failure) if failure.code == ErrorCode::Unauthorized => {
                    return Err(ClientError::LoginRequired(api::LOGIN_AGAIN.to_string()));
                }
                SessionEnd::Failed(failure) => return Err(ClientError::Session(failure)),
                SessionEnd::Network(e) => return Err(ClientError::Network(e)),
                SessionEnd::Local(e) => return Err(e),
            }
        }
    }

    /// Syncs, retrying what may succeed later (a broken connection, a server restarting) with
    /// growing delays, up to `attempts` times. What was stored before a failure stays stored.
    pub async fn sync_retrying(
        &self,
        attempts: u32,
        progress: Option<ProgressFn>,
    ) -> Result<SyncReport, ClientError> {
        let mut delay = Duration::from_millis(200);
        let mut attempt = 1;
        loop {
            match self.sync_with(progress.clone()).await {
                Err(error) if error.is_retryable() && attempt < attempts => {
                    attempt += 1;
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(10));
                }
                other => return other,
            }
        }
    }

    /// Stays connected over a WebSocket: syncs at once, then whenever the server notifies or a
    /// local edit is made, and every `poll` when local changes wait; reconnects after a lost connection. Returns when
    /// `stop` completes, or with an error only the user can fix (log in again, device revoked).
    pub async fn watch(
        &self,
        stop: impl Future<Output = ()>,
        poll: Duration,
        mut on_event: impl FnMut(WatchEvent) + Send,
    ) -> Result<(), ClientError> {
        tokio::pin!(stop);
        let delays = [1u64, 2, 5, 10, 30];
        let mut failures = 0usize;
        let mut refreshed = false;
        loop {
            let token = tokio::select! {
                _ = &mut stop => return Ok(()),
                token = self.access_token(false) => token,
            };
            let token = match token {
                Ok(token) => token,
                Err(error) if error.is_retryable() => {
                    let retry_in = Duration::from_secs(delays[failures.min(delays.len() - 1)]);
                    failures += 1;
                    on_event(WatchEvent::Disconnected {
                        reason: error.to_string(),
                        retry_in,
                    });
                    tokio::select! {
                        _ = &mut stop => return Ok(()),
                        _ = tokio::time::sleep(retry_in) => continue,
                    }
                }
                Err(error) => return Err(error),
            };
            let opened = tokio::select! {
                _ = &mut stop => return Ok(()),
                opened = Channel::open(
                    TransportKind::WebSocket,
                    &self.inner.options.server,
                    &token,
                    self.inner.api.http(),
                    self.inner.options.exchange_timeout,
                    &self.inner.wire,
                ) => opened,
            };
            let reason = match opened {
                Ok(mut channel) => {
                    on_event(WatchEvent::Connected);
                    let reason = self
                        .watch_connection(
                            &mut channel,
                            &mut stop,
                            poll,
                            &mut on_event,
                            &mut failures,
                        )
                        .await;
                    channel.close().await;
                    match reason {
                        None => return Ok(()),
                        Some(end) => end,
                    }
                }
                Err(TransportError::Refused(failure)) => SessionEnd::Failed(failure),
                Err(TransportError::Network(e)) => SessionEnd::Network(e),
            };
            let reason = match reason {
                SessionEnd::Failed(f) if f.code == ErrorCode::Unauthorized && !refreshed => {
                    refreshed = true;
                    self.access_token(true).await?;
                    continue;
                }
                SessionEnd::Failed(f) if f.code == ErrorCode::DeviceRevoked => {
                    let error = ClientError::DeviceRevoked(api::DEVICE_REVOKED.to_string());
                    self.note_refusal(&error).await?;
                    return Err(error);
                }
                SessionEnd::Failed(f) if f.retry => f.message,
                SessionEnd::Failed(f) => return Err(ClientError::Session(f)),
                SessionEnd::Network(e) => e,
                SessionEnd::Local(e) => return Err(e),
            };
            refreshed = false;
            let retry_in = Duration::from_secs(delays[failures.min(delays.len() - 1)]);
            failures += 1;
            on_event(WatchEvent::Disconnected { reason, retry_in });
            tokio::select! {
                _ = &mut stop => return Ok(()),
                _ = tokio::time::sleep(retry_in) => {}
            }
        }
    }

    /// Sessions on one open connection until it breaks (`Some`) or `stop` completes (`None`).
    async fn watch_connection(
        &self,
        channel: &mut Channel,
        stop: &mut std::pin::Pin<&mut impl Future<Output = ()>>,
        poll: Duration,
        on_event: &mut (impl FnMut(WatchEvent) + Send),
        failures: &mut usize,
    ) -> Option<SessionEnd> {
        let mut run = true;
        let mut ticks = tokio::time::interval(poll);
        ticks.tick().await;
        loop {
            if run {
                match self.run_session(channel, None).await {
                    Ok(report) => {
                        *failures = 0;
                        on_event(WatchEvent::Synced(report));
                    }
                    Err(end) => return Some(end),
                }
            }
            tokio::select! {
                _ = stop.as_mut() => return None,
                frame = channel.next_idle(&self.inner.wire) => match frame {
                    Ok(bytes) => match ServerMessage::decode(&bytes, &Limits::DEFAULT) {
                        Ok(ServerMessage::Notify) => run = true,
                        Ok(ServerMessage::Error(failure)) => return Some(SessionEnd::Failed(failure)),
                        _ => run = false,
                    },
                    Err(TransportError::Network(e)) => return Some(SessionEnd::Network(e)),
                    Err(TransportError::Refused(f)) => return Some(SessionEnd::Failed(f)),
                },
                _ = self.inner.local_change.notified() => run = true,
                _ = ticks.tick() => {
                    run = match self.pending_cases().await {
                        Ok(pending) => !pending.is_empty(),
                        Err(e) => return Some(SessionEnd::Local(e)),
                    };
                }
            }
        }
    }

    /// One session, hello to done, on an open channel.
    async fn run_session(
        &self,
        channel: &mut Channel,
        progress: Option<ProgressFn>,
    ) -> Result<SyncReport, SessionEnd> {
        let agent = self.inner.options.agent.clone();
        let user = self.user().await.map_err(SessionEnd::Local)?;
        let (cursor, pending) = self
            .replica(|r| Ok((r.cursor()?, r.pending_cases()?)))
            .await
            .map_err(SessionEnd::Local)?;
        let bootstrap = cursor.is_none();
        let (session, hello) = ClientSession::new(
            ClientStart {
                cursor,
                pending,
                agent,
            },
            Limits::DEFAULT,
        );
        self.inner.wire.session_started();
        let before = self.inner.wire.snapshot();
        let mut state = SessionState {
            session,
            user,
            report: SyncReport::default(),
            rejections: HashMap::new(),
            stashed: HashSet::new(),
            settled: HashSet::new(),
            progress: SyncProgress::default(),
            bootstrap,
        };
        let mut outgoing = Some(hello.encode());
        loop {
            let received = match outgoing.take() {
                Some(bytes) => {
                    state.report.rounds += 1;
                    channel.exchange(bytes, &self.inner.wire).await
                }
                None => channel.receive(&self.inner.wire).await,
            };
            let bytes = match received {
                Ok(bytes) => bytes,
                Err(TransportError::Network(e)) => return Err(SessionEnd::Network(e)),
                Err(TransportError::Refused(f)) => return Err(SessionEnd::Failed(f)),
            };
            let inner = self.inner.clone();
            let now = self.now().unix_seconds();
            let progress = progress.clone();
            let (returned, step) = tokio::task::spawn_blocking(move || {
                let replica = inner.replica.lock().unwrap_or_else(|p| p.into_inner());
                let step = handle_message(&replica, &mut state, &bytes, now);
                state.progress.bytes_received = inner.wire.snapshot().bytes_received;
                if let Some(progress) = &progress {
                    progress(&state.progress);
                }
                (state, step)
            })
            .await
            .map_err(|e| SessionEnd::Local(ClientError::Local(format!("后台任务失败：{e}"))))?;
            state = returned;
            match step.map_err(SessionEnd::Local)? {
                Step::Send(bytes) => outgoing = Some(bytes),
                Step::Wait => {}
                Step::Finished => {
                    let after = self.inner.wire.snapshot();
                    let mut report = state.report;
                    report.bytes_sent = after.bytes_sent - before.bytes_sent;
                    report.bytes_received = after.bytes_received - before.bytes_received;
                    return Ok(report);
                }
                Step::Failed(failure) => return Err(SessionEnd::Failed(failure)),
            }
        }
    }
}

fn store_edit<T>(r: &Replica, case_id: CaseId, edited: &Edited<T>) -> Result<(), ClientError> {
    if edited.change.is_some() {
        r.write_document(case_id, &edited.bytes, &edited.heads, true)?;
    }
    Ok(())
}

/// A session between two server messages.
struct SessionState {
    session: ClientSession,
    user: LocalUser,
    report: SyncReport,
    /// The refusal last shown per case in this session, to file a stashed copy under.
    rejections: HashMap<CaseId, (String, String)>,
    /// Cases whose copy this session already stashed (a refusal, then the refetch).
    stashed: HashSet<CaseId>,
    /// Cases stored or settled, for progress.
    settled: HashSet<CaseId>,
    progress: SyncProgress,
    /// The replica's first sync (no cursor): every case arrives, none of it is news.
    bootstrap: bool,
}

enum Step {
    Send(Vec<u8>),
    /// Nothing to send: the message was a `notify` during the session; read the next one.
    Wait,
    Finished,
    Failed(Failure),
}

/// Handles one server message: the session's outputs are applied to the replica in one
/// transaction.
fn handle_message(
    replica: &Replica,
    state: &mut SessionState,
    bytes: &[u8],
    now: i64,
) -> Result<Step, ClientError> {
    let outputs = match ServerMessage::decode(bytes, &Limits::DEFAULT) {
        Ok(message) => {
            if let ServerMessage::Welcome(welcome) = &message {
                let gone: HashSet<CaseId> = welcome.gone.iter().copied().collect();
                let pending = replica.pending_cases()?;
                let in_play: HashSet<CaseId> = pending
                    .into_iter()
                    .chain(welcome.changed.iter().copied())
                    .filter(|c| !gone.contains(c))
                    .collect();
                state.report.cases_in_play = in_play.len();
                state.progress.cases_total = in_play.len();
            }
            if let ServerMessage::Batch(batch) = &message {
                state.progress.round = batch.round;
            }
            state.session.handle(ClientInput::Message(message))
        }
        Err(_) => state.session.receive(bytes),
    };
    replica.transaction(|r| {
        let mut queue: VecDeque<ClientOutput> = outputs.into();
        let mut step = Step::Wait;
        while let Some(output) = queue.pop_front() {
            match output {
                ClientOutput::Send(message) => step = Step::Send(message.encode()),
                ClientOutput::Load(ids) => {
                    for doc_id in ids {
                        let local = r.document(doc_id)?.map(|held| LocalDoc {
                            doc: held.doc,
                            sync_state: held.sync_state,
                        });
                        queue.extend(state.session.handle(ClientInput::Loaded { doc_id, local }));
                    }
                }
                ClientOutput::Store {
                    doc_id,
                    update,
                    sync_state,
                } => {
                    store(r, state, doc_id, update, &sync_state, now)?;
                    state.settled.insert(doc_id);
                }
                ClientOutput::Notice(notice) => show(r, state, notice, now)?,
                ClientOutput::Stash(doc_id) => {
                    let (code, reason) =
                        state.rejections.get(&doc_id).cloned().unwrap_or_else(|| {
                            ("refused".to_string(), "服务器拒绝了本机的修改".to_string())
                        });
                    if r.is_pending(doc_id)? {
                        r.stash_document(doc_id, &code, &reason, now)?;
                        state.report.stashed += 1;
                    } else {
                        r.delete_document(doc_id)?;
                    }
                    state.stashed.insert(doc_id);
                }
                ClientOutput::Forget { doc_id, reason } => {
                    forget(r, state, doc_id, reason, now)?;
                    state.settled.insert(doc_id);
                }
                ClientOutput::Finished(cursor) => {
                    r.set_cursor(&cursor)?;
                    step = Step::Finished;
                }
                ClientOutput::Failed(failure) => step = Step::Failed(failure),
            }
        }
        state.progress.cases_done = state
            .settled
            .len()
            .min(state.progress.cases_total.max(state.settled.len()));
        Ok(step)
    })
}

fn store(
    r: &Replica,
    state: &mut SessionState,
    case_id: CaseId,
    update: Option<DocUpdate>,
    sync_state: &[u8],
    now: i64,
) -> Result<(), ClientError> {
    match update {
        None => {}
        Some(DocUpdate::Merge(bytes)) => match r.document(case_id)? {
            Some(held) => {
                let before = local::hydrate_for_notices(&held.doc).ok();
                let mut doc = held.doc;
                doc.load_incremental(&bytes)?;
                if let (Some(before), Ok(after)) = (before, local::hydrate_for_notices(&doc)) {
                    for notice in local::merge_notices(case_id, &before, &after, &state.user) {
                        r.add_notice(&notice, now)?;
                        state.report.notices += 1;
                    }
                }
                r.write_document(case_id, &doc.save(), &doc.get_heads(), held.pending)?;
                state.report.cases_updated += 1;
            }
            None => {
                // The replica held nothing of the case, so everything in it came from the server
                // and nothing is pending: its heads are the shared heads the session reports,
                // and the saved bytes are stored as they came, without loading them.
                let heads = sync::State::decode(sync_state)
                    .map(|s| s.shared_heads)
                    .unwrap_or_default();
                let loaded = if heads.is_empty() || !state.bootstrap {
                    Some(Automerge::load(&bytes)?)
                } else {
                    None
                };
                let heads = match &loaded {
                    Some(doc) if heads.is_empty() => doc.get_heads(),
                    _ => heads,
                };
                // A case that became readable after the first sync (a handoff to the user's unit)
                // is news; a first sync lists every case anyway and skips the hydration.
                if let Some(after) = loaded
                    .as_ref()
                    .filter(|_| !state.bootstrap)
                    .and_then(|d| local::hydrate_for_notices(d).ok())
                {
                    for notice in
                        local::merge_notices(case_id, &Case::default(), &after, &state.user)
                    {
                        r.add_notice(&notice, now)?;
                        state.report.notices += 1;
                    }
                }
                r.write_document(case_id, &bytes, &heads, false)?;
                state.report.cases_received += 1;
            }
        },
        Some(DocUpdate::Replace(bytes)) => {
            let doc = Automerge::load(&bytes)?;
            r.write_document(case_id, &bytes, &doc.get_heads(), false)?;
            state.report.cases_received += 1;
        }
    }
    r.store_sync_state(case_id, sync_state)
}

fn show(
    r: &Replica,
    state: &mut SessionState,
    notice: Notice,
    now: i64,
) -> Result<(), ClientError> {
    let new = match notice {
        Notice::Rejected { doc_id, rejection } => {
            // The refusal of the refetch after a refusal says nothing new.
            if state.stashed.contains(&doc_id) {
                return Ok(());
            }
            let title = r.title_of(doc_id);
            state.rejections.insert(
                doc_id,
                (
                    rejection.code.as_str().to_string(),
                    rejection.message.clone(),
                ),
            );
            NewNotice {
                case_id: doc_id,
                kind: NoticeKind::Rejected,
                title: title.clone(),
                code: Some(rejection.code.as_str().to_string()),
                section: None,
                review_item: None,
                reverted: Vec::new(),
                message: format!(
                    "案件「{title}」的修改未被服务器接受：{}本机的副本已移入暂存区（fengqiao-client stash），可导出交管理员核查。",
                    with_stop(&rejection.message)
                ),
            }
        }
        Notice::Compensated {
            doc_id,
            compensation,
        } => {
            let title = r.title_of(doc_id);
            let section = Section::from_code(&compensation.section)
                .map(|s| s.label().to_string())
                .unwrap_or_else(|| compensation.section.clone());
            NewNotice {
                case_id: doc_id,
                kind: NoticeKind::Compensated,
                title: title.clone(),
                code: None,
                section: Some(compensation.section.clone()),
                review_item: Some(compensation.review_item.clone()),
                reverted: compensation
                    .reverted
                    .iter()
                    .map(|h| h.to_string())
                    .collect(),
                message: format!(
                    "案件「{title}」的「{section}」部分：{}（已记入待核查事项 {}）",
                    with_stop(&compensation.reason),
                    compensation.review_item
                ),
            }
        }
    };
    r.add_notice(&new, now)?;
    state.report.notices += 1;
    Ok(())
}

fn forget(
    r: &Replica,
    state: &mut SessionState,
    case_id: CaseId,
    reason: ForgetReason,
    now: i64,
) -> Result<(), ClientError> {
    let title = r.title_of(case_id);
    let (code, why) = match reason {
        ForgetReason::Gone => ("gone", "您已无权查看该案件"),
        ForgetReason::NotFound => ("not_found", "案件不存在，或您无权查看该案件"),
    };
    let already = state.stashed.contains(&case_id);
    let stashed = if !already && r.is_pending(case_id)? {
        r.stash_document(case_id, code, why, now)?;
        state.report.stashed += 1;
        true
    } else {
        r.delete_document(case_id)?;
        already
    };
    state.report.forgotten += 1;
    if reason == ForgetReason::Gone || stashed {
        let message = if stashed {
            format!("案件「{title}」{why}，已从本机案件列表移除；本机未同步的修改已保存在暂存区（fengqiao-client stash）。")
        } else {
            format!("案件「{title}」{why}，已从本机移除。")
        };
        r.add_notice(
            &NewNotice {
                case_id,
                kind: NoticeKind::Gone,
                title,
                code: Some(code.to_string()),
                section: None,
                review_item: None,
                reverted: Vec::new(),
                message,
            },
            now,
        )?;
        state.report.notices += 1;
    }
    Ok(())
}

/// The text with a full stop at the end, so that another sentence can follow.
fn with_stop(text: &str) -> String {
    let text = text.trim();
    if text.ends_with(['。', '！', '？', '.']) {
        text.to_string()
    } else {
        format!("{text}。")
    }
}
