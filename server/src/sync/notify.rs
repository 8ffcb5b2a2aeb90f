//! Background tasks that keep live connections current:
//!
//! - [`spawn_change_listener`] (PostgreSQL only): every commit transaction ends with
//!   `NOTIFY fengqiao_changes, '<last seq>'` (`store::documents`). Each process LISTENs, reads the
//!   feed from where it stopped up to the new entries, drops what it cached of those cases
//!   (`LiveDocuments::forget`) and wakes its live connections (`LiveDocuments::remote_commit`).
//!   Reading the feed rather than trusting each notification means a notification lost while the
//!   listening connection was down costs nothing: after reconnecting, the listener catches up from
//!   the last position it read, so no position of the feed is ever skipped.
//! - [`spawn_notifier`]: hands every commit (this process's, and the listener's) to the live
//!   connections whose user reads the case (`SyncHub::dispatch`, which looks only at the units
//!   that can read it), instead of waking every connection for every commit.
//! - [`spawn_revocation_check`]: revocations made by another process (the administration command
//!   line, another server) close this process's live connections of the device or user within one
//!   interval.

use std::time::Duration;

use sqlx::postgres::PgListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::SyncHub;
use crate::error::Result;
use crate::store::documents::{FeedCursor, CHANGES_CHANNEL};
use crate::store::live::LiveDocuments;
use crate::store::Store;

/// Feed entries read per query while catching up.
const CATCH_UP_PAGE: u32 = 1000;
/// Wait before listening again after the listening connection failed.
const RECONNECT_AFTER: Duration = Duration::from_millis(500);

/// Starts the listener for other processes' commits, if the store is PostgreSQL. `start` is where
/// this process's view of the feed begins (the head when it started).
pub fn spawn_change_listener(
    store: Store,
    documents: LiveDocuments,
    start: FeedCursor,
    tasks: &TaskTracker,
    cancel: CancellationToken,
) {
    if store.postgres_pool().is_none() {
        return;
    }
    tasks.spawn(async move {
        let mut read = start;
        while !cancel.is_cancelled() {
            if let Err(error) = listen(&store, &documents, &mut read, &cancel).await {
                tracing::warn!(%error, "listening for other processes' commits failed; listening again");
                tokio::select! {
                    _ = cancel.cancelled() => break,
                    _ = tokio::time::sleep(RECONNECT_AFTER) => {}
                }
            }
        }
        tracing::debug!("change listener stopped");
    });
}

async fn listen(
    store: &Store,
    documents: &LiveDocuments,
    read: &mut FeedCursor,
    cancel: &CancellationToken,
) -> Result<()> {
    let pool = store.postgres_pool().expect("only started on PostgreSQL");
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANGES_CHANNEL).await?;
    // Whatever committed while nobody was listening.
    catch_up(store, documents, read).await?;
    loop {
        let notification = tokio::select! {
            _ = cancel.cancelled() => return Ok(()),
            notification = listener.try_recv() => notification?,
        };
        match notification {
            Some(notification) => {
                let newer = notification.payload().parse::<i64>().map_or(true, |seq| seq > read.0);
                if newer {
                    catch_up(store, documents, read).await?;
                }
            }
            // The connection was lost and will be re-established: notifications may have been
            // missed meanwhile.
            None => catch_up(store, documents, read).await?,
        }
    }
}

/// Reads the feed after `read` and announces every entry another process committed.
async fn catch_up(store: &Store, documents: &LiveDocuments, read: &mut FeedCursor) -> Result<()> {
    loop {
        let page = store.feed_since(*read, CATCH_UP_PAGE).await?;
        for entry in &page.entries {
            if documents.is_own_commit(entry.seq) {
                continue;
            }
            let readers = store.case_readers(entry.case_id).await?;
            documents.remote_commit(entry.case_id, entry.seq, readers);
        }
        *read = page.cursor;
        if page.entries.len() < CATCH_UP_PAGE as usize {
            return Ok(());
        }
    }
}

/// Starts the task that tells live connections of commits (this process's, and other processes'
/// from the listener above): each commit wakes only the connections whose user reads the case
/// (`SyncHub::dispatch`), judged with the unit tree the last session read.
pub fn spawn_notifier(store: Store, documents: LiveDocuments, hub: SyncHub, tasks: &TaskTracker, cancel: CancellationToken) {
    let mut changes = documents.subscribe();
    tasks.spawn(async move {
        loop {
            let change = tokio::select! {
                _ = cancel.cancelled() => break,
                change = changes.recv() => change,
            };
            match change {
                Ok(change) => {
                    let mut units = store.cached_unit_tree();
                    if units.is_none() {
                        units = store.unit_tree().await.ok();
                    }
                    hub.dispatch(&change, units.as_deref());
                }
                // Too far behind to tell which cases changed: any of them may have.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => hub.wake_all(),
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            }
        }
    });
}

/// Starts the check that closes live connections of devices and users revoked elsewhere.
pub fn spawn_revocation_check(store: Store, hub: SyncHub, tasks: &TaskTracker, cancel: CancellationToken) {
    let every = hub.settings().revocation_check;
    tasks.spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = ticks.tick() => {}
            }
            let (devices, users) = hub.live_principals();
            if devices.is_empty() && users.is_empty() {
                continue;
            }
            match store.revoked_among(&devices, &users).await {
                Ok((devices, users)) => {
                    for device in &devices {
                        tracing::info!(%device, "device revoked: closing its live connections");
                        hub.revoke_device(device);
                    }
                    for user in &users {
                        tracing::info!(%user, "user revoked: closing their live connections");
                        hub.revoke_user(user);
                    }
                }
                Err(error) => tracing::warn!(%error, "cannot check live connections for revocations"),
            }
        }
    });
}
