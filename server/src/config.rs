//! The server's settings, validated once at start-up (from the command line and `FENGQIAO_*`
//! variables in `main`, or built directly by tests).

use crate::auth::AuthSettings;
use crate::store::cache::CacheBudget;
use crate::store::compaction::CompactionPolicy;
use crate::store::group_commit::GroupCommitBounds;
use crate::store::DatabaseUrl;
use crate::sync::SyncSettings;

/// Everything the services need to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub database: DatabaseUrl,
    pub auth: AuthSettings,
    pub storage: StorageSettings,
    pub sync: SyncSettings,
    /// The built web app (`clients/web/dist`) served at `/`; none serves the API alone.
    pub web_dir: Option<std::path::PathBuf>,
}

/// How documents are cached, committed and compacted.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StorageSettings {
    pub cache: CacheBudget,
    pub group_commit: GroupCommitBounds,
    pub compaction: CompactionPolicy,
}

impl Settings {
    /// The defaults, on the given database.
    pub fn with_database(database: DatabaseUrl) -> Settings {
        Settings {
            database,
            auth: AuthSettings::default(),
            storage: StorageSettings::default(),
            sync: SyncSettings::default(),
            web_dir: None,
        }
    }
}
