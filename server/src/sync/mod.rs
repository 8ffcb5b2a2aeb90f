//! The sync endpoints (DESIGN §8, docs/PROTOCOL.md): `GET /v1/sync` upgraded to a WebSocket for
//! live sessions and `POST /v1/sync` for one message per request. Both drive
//! `fengqiao_sync::session::ServerSession` and answer what it asks with storage (`driver`):
//! the feed filtered by who reads what (`store::access`), documents from `LiveDocuments`, and
//! incoming changes through `fengqiao_sync::ingest` and the group committer, durable before the
//! session may acknowledge them.
//!
//! [`SyncHub`] is the part shared by every connection: the limits, the registry of live
//! connections by device and user (so that revoking either closes them at once), the actor
//! bindings seen so far, and the shutdown signal that closes open WebSockets.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use automerge::ActorId;
use fengqiao_schema::ids::{DeviceId, UserId};
use fengqiao_schema::units::{UnitTree, User};
use fengqiao_sync::ingest::IngestLimits;
use fengqiao_sync::protocol::{ErrorCode, Failure, Limits};
use tokio::sync::{watch, Notify};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::store::access::ReaderScope;
use crate::store::live::CommittedChange;

mod apply;
pub use apply::{ingest_message, ingest_message_at};
mod driver;
pub mod http;
pub mod notify;
pub mod websocket;

pub use driver::{decode_cursor, encode_cursor};

/// The limits and timings of the sync endpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncSettings {
    /// Announced in every `welcome` and enforced on every message.
    pub limits: Limits,
    /// What one change and one document message may carry (`too_many_ops`).
    pub ingest: IngestLimits,
    /// Open WebSockets per device at most; more are refused before the upgrade.
    pub max_connections_per_device: usize,
    /// How often live connections are checked against revocations made by another process (the
    /// administration command line, another server).
    pub revocation_check: Duration,
}

impl Default for SyncSettings {
    fn default() -> Self {
        SyncSettings {
            limits: Limits::DEFAULT,
            ingest: IngestLimits::default(),
            max_connections_per_device: 4,
            revocation_check: Duration::from_secs(1),
        }
    }
}

/// Why a live connection is being closed by the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    Open,
    DeviceRevoked,
    ShuttingDown,
}

impl CloseReason {
    /// The error the connection sends before closing.
    pub fn failure(self) -> Option<Failure> {
        match self {
            CloseReason::Open => None,
            CloseReason::DeviceRevoked => Some(Failure::new(ErrorCode::DeviceRevoked)),
            CloseReason::ShuttingDown => Some(Failure {
                message: "服务器正在重启，请稍后重新同步。".to_string(),
                ..Failure::new(ErrorCode::Unavailable)
            }),
        }
    }
}

/// A live connection waiting to hear of commits to cases its user reads.
struct Listener {
    connection: u64,
    user: User,
    wake: Arc<Notify>,
}

struct LiveConnection {
    id: u64,
    device: DeviceId,
    user: UserId,
    close: watch::Sender<CloseReason>,
}

/// Bindings cached at most; the cache is emptied when full (bindings never change, so any entry
/// is right, and a miss costs one query).
const MAX_CACHED_BINDINGS: usize = 65_536;

struct HubInner {
    settings: SyncSettings,
    next_connection: AtomicU64,
    connections: Mutex<Vec<LiveConnection>>,
    /// Live connections by the unit of their user, for [`SyncHub::dispatch`].
    listeners: Mutex<HashMap<String, Vec<Listener>>>,
    /// Actor id → (user, device) it is bound to.
    bindings: Mutex<HashMap<ActorId, (UserId, DeviceId)>>,
    shutdown: CancellationToken,
    tasks: TaskTracker,
}

/// What every sync connection shares. Cheap to clone.
#[derive(Clone)]
pub struct SyncHub {
    inner: Arc<HubInner>,
}

/// A live connection's place in the registry; dropping it removes the connection.
pub struct Registration {
    hub: SyncHub,
    pub id: u64,
    pub closed: watch::Receiver<CloseReason>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        lock(&self.hub.inner.connections).retain(|c| c.id != self.id);
        let mut listeners = lock(&self.hub.inner.listeners);
        for listening in listeners.values_mut() {
            listening.retain(|l| l.connection != self.id);
        }
        listeners.retain(|_, listening| !listening.is_empty());
    }
}

/// The device already has as many live connections as it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooManyConnections;

impl SyncHub {
    pub fn new(settings: SyncSettings) -> SyncHub {
        SyncHub {
            inner: Arc::new(HubInner {
                settings,
                next_connection: AtomicU64::new(1),
                connections: Mutex::new(Vec::new()),
                listeners: Mutex::new(HashMap::new()),
                bindings: Mutex::new(HashMap::new()),
                shutdown: CancellationToken::new(),
                tasks: TaskTracker::new(),
            }),
        }
    }

    pub fn settings(&self) -> &SyncSettings {
        &self.inner.settings
    }

    /// A number for a session that is not a live connection (an HTTP request), for logs.
    pub fn next_id(&self) -> u64 {
        self.inner.next_connection.fetch_add(1, Ordering::Relaxed)
    }

    /// Registers a live connection of `device`, unless it has too many already.
    pub fn register(&self, device: &DeviceId, user: &UserId) -> Result<Registration, TooManyConnections> {
        let mut connections = lock(&self.inner.connections);
        let open = connections.iter().filter(|c| &c.device == device).count();
        if open >= self.inner.settings.max_connections_per_device {
            return Err(TooManyConnections);
        }
        let id = self.next_id();
        let initial = if self.inner.shutdown.is_cancelled() { CloseReason::ShuttingDown } else { CloseReason::Open };
        let (close, closed) = watch::channel(initial);
        connections.push(LiveConnection { id, device: device.clone(), user: user.clone(), close });
        Ok(Registration { hub: self.clone(), id, closed })
    }

    /// Starts telling the live connection `connection` (of `user`) of commits to cases the user
    /// reads: the returned `Notify` is woken (a permit is kept if nobody waits). Until the
    /// connection's registration is dropped.
    pub fn listen(&self, connection: u64, user: User) -> Arc<Notify> {
        let wake = Arc::new(Notify::new());
        let unit = user.unit.as_str().to_string();
        lock(&self.inner.listeners).entry(unit).or_default().push(Listener { connection, user, wake: wake.clone() });
        wake
    }

    /// Wakes the live connections whose user reads the case `change` committed, except the one
    /// that made it. Only the units that can read it are looked at (a reader unit and the units
    /// above it, or the county of a restricted case), so a commit costs the same however many
    /// devices are connected elsewhere. Without the readers or the unit tree, every connection
    /// is woken (it then finds nothing new, at the cost of a session).
    pub fn dispatch(&self, change: &CommittedChange, units: Option<&UnitTree>) {
        let listeners = lock(&self.inner.listeners);
        let (Some(readers), Some(units)) = (change.readers.as_deref(), units) else {
            for listener in listeners.values().flatten().filter(|l| Some(l.connection) != change.origin) {
                listener.wake.notify_one();
            }
            return;
        };
        let mut candidates: BTreeSet<&str> = BTreeSet::new();
        for (scope, unit) in readers.entries() {
            match scope {
                ReaderScope::Subtree => {
                    // Users of the unit or of any unit above it.
                    let mut current = Some(unit);
                    while let Some(id) = current {
                        if !candidates.insert(id) {
                            break;
                        }
                        current = units.get(id).and_then(|u| u.parent.as_ref()).map(|p| p.as_str());
                    }
                }
                ReaderScope::Unit => {
                    candidates.insert(unit);
                }
                ReaderScope::CountySupervisors => {
                    candidates.insert(units.root_of(unit));
                }
            }
        }
        for unit in candidates {
            for listener in listeners.get(unit).into_iter().flatten() {
                if Some(listener.connection) != change.origin && readers.can_read(&listener.user, units) {
                    listener.wake.notify_one();
                }
            }
        }
    }

    /// Wakes every live connection (commits were missed: any case may have changed).
    pub fn wake_all(&self) {
        for listener in lock(&self.inner.listeners).values().flatten() {
            listener.wake.notify_one();
        }
    }

    /// Live connections now.
    pub fn live_connections(&self) -> usize {
        lock(&self.inner.connections).len()
    }

    /// Closes every live connection of the device: its sync stops at once.
    pub fn revoke_device(&self, device: &DeviceId) {
        for connection in lock(&self.inner.connections).iter().filter(|c| &c.device == device) {
            connection.close.send_replace(CloseReason::DeviceRevoked);
        }
    }

    /// Closes every live connection of the user.
    pub fn revoke_user(&self, user: &UserId) {
        for connection in lock(&self.inner.connections).iter().filter(|c| &c.user == user) {
            connection.close.send_replace(CloseReason::DeviceRevoked);
        }
    }

    /// The devices and users with live connections, for the revocation check.
    pub fn live_principals(&self) -> (Vec<DeviceId>, Vec<UserId>) {
        let connections = lock(&self.inner.connections);
        let mut devices: Vec<DeviceId> = connections.iter().map(|c| c.device.clone()).collect();
        let mut users: Vec<UserId> = connections.iter().map(|c| c.user.clone()).collect();
        devices.sort();
        devices.dedup();
        users.sort();
        users.dedup();
        (devices, users)
    }

    /// Asks every live connection to finish what it is doing, send a last error and close.
    pub fn begin_shutdown(&self) {
        self.inner.shutdown.cancel();
        for connection in lock(&self.inner.connections).iter() {
            connection.close.send_replace(CloseReason::ShuttingDown);
        }
    }

    pub fn shutdown_token(&self) -> CancellationToken {
        self.inner.shutdown.clone()
    }

    /// Tracks the tasks of live connections, so that shutdown waits for them.
    pub fn tasks(&self) -> &TaskTracker {
        &self.inner.tasks
    }

    /// Waits until every live connection task has ended.
    pub async fn connections_closed(&self) {
        self.inner.tasks.close();
        self.inner.tasks.wait().await;
    }

    fn cached_binding(&self, actor: &ActorId) -> Option<(UserId, DeviceId)> {
        lock(&self.inner.bindings).get(actor).cloned()
    }

    fn cache_binding(&self, actor: ActorId, owner: (UserId, DeviceId)) {
        let mut bindings = lock(&self.inner.bindings);
        if bindings.len() >= MAX_CACHED_BINDINGS {
            bindings.clear();
        }
        bindings.insert(actor, owner);
    }
}

impl std::fmt::Debug for SyncHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncHub").field("live_connections", &self.live_connections()).finish_non_exhaustive()
    }
}

/// The registry holds no invariant a panicking holder could break half-way.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
