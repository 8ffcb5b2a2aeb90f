//! Storage: one `Store` over SQLite (the embedded default: one file, WAL, `synchronous=FULL`) or
//! PostgreSQL (chosen by a `postgres://` URL), with one migration set per database applied at
//! start-up (DESIGN §9).
//!
//! Every query is written once with `$n` placeholders (SQLite reads `$n` as the n-th argument) and
//! compiled once per backend by the `with_*` macros below, so each copy is type-checked against
//! its own driver. Times are Unix milliseconds in `BIGINT` columns on both databases.
//!
//! On SQLite the store keeps two pools: one connection for writes, so that writers queue in the
//! pool (fairly, without SQLite's busy-wait polling) and every write transaction begins
//! `IMMEDIATE`, and a few connections for reads, which WAL lets run beside the writer.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

use crate::error::Result;

pub mod access;
pub mod cache;
pub mod compaction;
pub mod documents;
pub mod group_commit;
pub mod identity;
pub mod live;
pub mod projections;
pub mod units;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

/// Read connections to a SQLite file: WAL readers do not block the writer or each other; two
/// cores gain nothing from more.
const SQLITE_READERS: u32 = 4;
/// How long a SQLite connection waits for another process's write lock (e.g. the admin CLI while
/// the server runs) before giving up.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections to PostgreSQL per server process.
const POSTGRES_CONNECTIONS: u32 = 16;

/// Where the database is: a SQLite file (the default) or a PostgreSQL server.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A SQLite file, created on first start. Written as a path or as `sqlite:PATH`.
    Sqlite(String),
    /// A `postgres://` or `postgresql://` URL.
    Postgres(String),
}

impl DatabaseUrl {
    /// The default: `fengqiao.sqlite3` in the working directory.
    pub fn default_sqlite() -> DatabaseUrl {
        DatabaseUrl::Sqlite("fengqiao.sqlite3".to_string())
    }
}

impl FromStr for DatabaseUrl {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(s.to_string()));
        }
        let path = s.strip_prefix("sqlite://").or_else(|| s.strip_prefix("sqlite:")).unwrap_or(s);
        if path.is_empty() || path.contains(":memory:") || path.contains("mode=memory") {
            // Two pools on an in-memory database would see two different databases.
            return Err(format!("「{s}」不是数据库文件路径或 postgres:// 地址"));
        }
        Ok(DatabaseUrl::Sqlite(path.to_string()))
    }
}

/// Shows the URL without a password, for logs.
impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseUrl::Sqlite(path) => write!(f, "sqlite:{path}"),
            DatabaseUrl::Postgres(url) => match url.rsplit_once('@') {
                Some((_, host)) => write!(f, "postgres://…@{host}"),
                None => f.write_str(url),
            },
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    Sqlite,
    Postgres,
}

pub(crate) enum Backend {
    Sqlite { read: SqlitePool, write: SqlitePool },
    Postgres(PgPool),
}

/// The database, migrated. Cheap to clone: every clone shares the same pools.
#[derive(Clone)]
pub struct Store {
    pub(crate) backend: Arc<Backend>,
    /// Feed numbers this process committed (PostgreSQL only), recorded before the transaction
    /// commits, so that the `LISTEN` side never mistakes this process's commit, whose notification
    /// can arrive before the committer returns, for another process's.
    pub(crate) own_commits: Arc<std::sync::Mutex<std::collections::BTreeSet<i64>>>,
    /// The unit tree last read, with the `org_version` it was read at (`Store::unit_tree`).
    pub(crate) unit_tree: Arc<std::sync::Mutex<Option<(i64, Arc<fengqiao_schema::units::UnitTree>)>>>,
}

/// Runs `$body` with `$pool` bound to the pool for reads of either backend. `$body` is compiled
/// once per backend.
macro_rules! with_read_pool {
    ($store:expr, |$pool:ident| $body:expr) => {
        match &*$store.backend {
            $crate::store::Backend::Sqlite { read, .. } => {
                let $pool = read;
                $body
            }
            $crate::store::Backend::Postgres(pool) => {
                let $pool = pool;
                $body
            }
        }
    };
}

/// Runs `$body` with `$tx` bound to a new write transaction of either backend (on SQLite begun
/// `IMMEDIATE`, so that it holds the write lock from its first statement and never fails to
/// upgrade a read lock). `$body` must commit; an early return rolls back.
macro_rules! with_write_tx {
    ($store:expr, |$tx:ident| $body:expr) => {
        match &*$store.backend {
            $crate::store::Backend::Sqlite { write, .. } => {
                #[allow(unused_mut)]
                let mut $tx = write.begin_with("BEGIN IMMEDIATE").await?;
                $body
            }
            $crate::store::Backend::Postgres(pool) => {
                #[allow(unused_mut)]
                let mut $tx = pool.begin().await?;
                $body
            }
        }
    };
}

pub(crate) use {with_read_pool, with_write_tx};

impl Store {
    /// Opens (creating a SQLite file if need be) and migrates the database.
    pub async fn open(url: &DatabaseUrl) -> Result<Store> {
        let backend = match url {
            DatabaseUrl::Sqlite(path) => {
                let options = SqliteConnectOptions::new()
                    .filename(path)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Full)
                    .foreign_keys(true)
                    .busy_timeout(SQLITE_BUSY_TIMEOUT);
                // A SQLite connection is a file handle in this process: it cannot go stale the way
                // a network connection does, so the pool does not ping it before every use (a
                // round trip to the connection's worker thread, as costly as a small query).
                let write = SqlitePoolOptions::new()
                    .max_connections(1)
                    .test_before_acquire(false)
                    .connect_with(options.clone().create_if_missing(true))
                    .await?;
                SQLITE_MIGRATIONS.run(&write).await?;
                let read = SqlitePoolOptions::new()
                    .max_connections(SQLITE_READERS)
                    .test_before_acquire(false)
                    .connect_with(options)
                    .await?;
                Backend::Sqlite { read, write }
            }
            DatabaseUrl::Postgres(url) => {
                let options = PgConnectOptions::from_str(url)?;
                let pool = PgPoolOptions::new().max_connections(POSTGRES_CONNECTIONS).connect_with(options).await?;
                // The migrator takes an advisory lock, so processes starting together migrate once.
                POSTGRES_MIGRATIONS.run(&pool).await?;
                Backend::Postgres(pool)
            }
        };
        tracing::info!(database = %url, "store open");
        Ok(Store { backend: Arc::new(backend), own_commits: Arc::default(), unit_tree: Arc::default() })
    }

    pub fn kind(&self) -> BackendKind {
        match &*self.backend {
            Backend::Sqlite { .. } => BackendKind::Sqlite,
            Backend::Postgres(_) => BackendKind::Postgres,
        }
    }

    /// The PostgreSQL pool, for what only PostgreSQL has (LISTEN); `None` on SQLite.
    pub fn postgres_pool(&self) -> Option<&PgPool> {
        match &*self.backend {
            Backend::Postgres(pool) => Some(pool),
            Backend::Sqlite { .. } => None,
        }
    }

    /// Answers when the database answers a query: the readiness check.
    pub async fn ping(&self) -> Result<()> {
        with_read_pool!(self, |pool| {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    /// Closes every connection; later queries fail.
    pub async fn close(&self) {
        match &*self.backend {
            Backend::Sqlite { read, write } => {
                read.close().await;
                write.close().await;
            }
            Backend::Postgres(pool) => pool.close().await,
        }
    }
}

/// A count or size read from the database as `BIGINT`, as the `usize` Rust uses.
pub(crate) fn to_usize(n: i64) -> usize {
    usize::try_from(n).unwrap_or(0)
}

/// A count or size as the database's `BIGINT`.
pub(crate) fn to_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Store {
    /// Whether this process made the commit at `seq`. Ask in feed order: numbers below `seq` are
    /// forgotten.
    pub fn is_own_commit(&self, seq: i64) -> bool {
        let mut own = self.own_commits.lock().unwrap_or_else(|e| e.into_inner());
        let mine = own.remove(&seq);
        *own = own.split_off(&seq);
        mine
    }
}
