//! The Fengqiao server library: storage (`store`), identity (`auth`), the sync endpoints (`sync`),
//! the HTTP surface (`http`), the JSON API over the projections (`api`, `stats`, `openapi`),
//! operational metrics (`metrics`) and the administrator's
//! organisation import (`org`). The binary `fengqiao` (main.rs) is a thin command line over it.
//! This is the only crate that knows HTTP, SQL and the clock.
//!
//! `Services::start` opens and migrates the store, makes sure a signing key exists and starts the
//! background tasks (group commit, compaction, the revocation check, on PostgreSQL the listener
//! for other processes' commits); `http::serve` runs the routes on a listener the caller bound and
//! closes the live connections when it stops; `Services::stop` ends the background tasks (the
//! group committer first commits what is queued) and waits for them.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub mod api;
pub mod auth;
pub mod clock;
pub mod config;
pub mod demo;
pub mod error;
pub mod export;
pub mod http;
pub mod metrics;
pub mod numbering;
pub mod openapi;
pub mod org;
pub mod report;
pub mod stats;
pub mod store;
pub mod sync;
pub mod web;

pub use config::{Settings, StorageSettings};
pub use error::{Error, Result};
pub use http::{router, serve, AppState};

use auth::Auth;
use clock::Timestamp;
use store::cache::DocCache;
use store::compaction::spawn_compactor;
use store::group_commit::GroupCommitter;
use store::live::LiveDocuments;
use store::Store;
use sync::notify::{spawn_change_listener, spawn_notifier, spawn_revocation_check};
use sync::SyncHub;

use crate::metrics::Metrics;

/// The running server apart from its listener: the state handlers use, and the background tasks.
pub struct Services {
    state: AppState,
    tasks: TaskTracker,
    cancel: CancellationToken,
}

impl Services {
    /// Opens the database named in `settings` and starts everything on it.
    pub async fn start(settings: &Settings) -> Result<Services> {
        let store = Store::open(&settings.database).await?;
        Services::start_on(store, settings).await
    }

    /// Starts everything on an open store.
    pub async fn start_on(store: Store, settings: &Settings) -> Result<Services> {
        let auth = Auth::start(store.clone(), settings.auth.clone(), Timestamp::now()).await?;
        let tasks = TaskTracker::new();
        let cancel = CancellationToken::new();
        let committer = GroupCommitter::spawn(store.clone(), settings.storage.group_commit, &tasks, cancel.clone());
        spawn_compactor(store.clone(), settings.storage.compaction.clone(), &tasks, cancel.clone());
        // A fresh actor per process start: never shared by two processes on one database, at the
        // cost of one more actor id in the documents a restarted process writes to.
        let server_actor = automerge::ActorId::random();
        tracing::info!(actor = %server_actor, "server actor");
        let documents =
            LiveDocuments::new(store.clone(), committer, DocCache::new(settings.storage.cache), server_actor);
        let metrics = Metrics::new();
        documents.record_commit_latency(metrics.commit_seconds.clone());
        let hub = SyncHub::new(settings.sync.clone());
        let feed_head = store.feed_head().await?;
        spawn_change_listener(store.clone(), documents.clone(), feed_head, &tasks, cancel.clone());
        spawn_notifier(store.clone(), documents.clone(), hub.clone(), &tasks, cancel.clone());
        spawn_revocation_check(store.clone(), hub.clone(), &tasks, cancel.clone());
        spawn_metrics_upkeep(metrics.clone(), &tasks, cancel.clone());
        Ok(Services {
            state: AppState {
                store,
                auth: Arc::new(auth),
                documents,
                sync: hub,
                metrics,
                web: settings.web_dir.as_deref().and_then(web::WebApp::find).map(Arc::new),
            },
            tasks,
            cancel,
        })
    }

    pub fn state(&self) -> AppState {
        self.state.clone()
    }

    /// Stops the background tasks (the group committer first commits what is queued) and waits
    /// for them. Call it after `serve` has returned (which closed the live connections).
    pub async fn stop(self) {
        self.state.sync.begin_shutdown();
        self.cancel.cancel();
        self.tasks.close();
        self.tasks.wait().await;
    }
}

/// Folds histogram samples into their buckets now and then, so that memory stays bounded when
/// nobody scrapes `/metrics`.
fn spawn_metrics_upkeep(metrics: Metrics, tasks: &TaskTracker, cancel: CancellationToken) {
    tasks.spawn(async move {
        let mut ticks = tokio::time::interval(crate::metrics::UPKEEP_INTERVAL);
        loop {
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = ticks.tick() => metrics.upkeep(),
            }
        }
    });
}
