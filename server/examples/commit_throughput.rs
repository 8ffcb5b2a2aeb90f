//! A quick measurement, not a benchmark: durable commits per second through the group committer,
//! with concurrent writers each appending small changes to its own case document and waiting for
//! each commit to be durable before sending the next, as a sync session does. The changes are
//! made before the clock starts, so the figure is the storage's alone.
//!
//! ```text
//! cargo run --release -p fengqiao-server --example commit_throughput -- [WRITERS] [COMMITS_EACH] [LINGER_MS] [DATABASE]
//! ```
//!
//! DATABASE defaults to a new SQLite file in the system's temporary directory (WAL,
//! `synchronous=FULL`); give a `postgres://` URL to measure PostgreSQL.

use std::time::{Duration, Instant};

use automerge::transaction::Transactable;
use automerge::{ActorId, Automerge, ReadDoc, ROOT};
use fengqiao_schema::ids::CaseId;
use fengqiao_server::store::documents::DocumentCommit;
use fengqiao_server::store::group_commit::{GroupCommitBounds, GroupCommitter};
use fengqiao_server::store::{DatabaseUrl, Store};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// The commits one writer sends: a new document, then one small edit per commit.
fn writer_commits(run: [u8; 8], writer: usize, commits: usize) -> Vec<DocumentCommit> {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&(writer as u64).to_le_bytes());
    // A run of its own, so that runs on one database do not collide.
    bytes[8..].copy_from_slice(&run);
    let case_id = CaseId::from_bytes(bytes);
    let mut doc = Automerge::new().with_actor(ActorId::from(bytes));
    let mut out = Vec::with_capacity(commits);
    let mut heads = Vec::new();
    for n in 0..commits {
        let mut tx = doc.transaction();
        if n == 0 {
            let notes = tx.put_object(ROOT, "notes", automerge::ObjType::Text).expect("put");
            tx.splice_text(&notes, 0, 0, "调解记录：").expect("splice");
        } else {
            let notes = tx.get(ROOT, "notes").expect("get").expect("notes").1;
            let len = tx.length(&notes);
            tx.splice_text(&notes, len, 0, "双方同意继续协商。").expect("splice");
            tx.put(ROOT, "edits", n as i64).expect("put");
        }
        tx.commit();
        out.push(DocumentCommit {
            case_id,
            chunk: doc.save_after(&heads),
            is_new: n == 0,
            actor_bindings: Vec::new(),
            access: None,
            projection: None,
        });
        heads = doc.get_heads();
    }
    out
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, default: usize| args.get(i).map_or(default, |a| a.parse().expect("a number"));
    let (writers, commits, linger_ms) = (arg(0, 64), arg(1, 200), arg(2, 2));
    let scratch = tempfile_dir();
    let url: DatabaseUrl = match args.get(3) {
        Some(url) => url.parse().expect("a database URL"),
        None => DatabaseUrl::Sqlite(scratch.join("throughput.sqlite3").to_string_lossy().into_owned()),
    };
    let store = Store::open(&url).await.expect("open the store");
    let tasks = TaskTracker::new();
    let cancel = CancellationToken::new();
    let bounds = GroupCommitBounds { linger: Duration::from_millis(linger_ms as u64), ..GroupCommitBounds::default() };
    let committer = GroupCommitter::spawn(store.clone(), bounds, &tasks, cancel.clone());

    let mut run = [0u8; 8];
    getrandom::getrandom(&mut run).expect("random bytes");
    let prepared: Vec<Vec<DocumentCommit>> = (0..writers).map(|w| writer_commits(run, w, commits)).collect();
    let bytes: usize = prepared.iter().flatten().map(|c| c.chunk.len()).sum();
    let started = Instant::now();
    let mut running = tokio::task::JoinSet::new();
    for commits in prepared {
        let committer = committer.clone();
        running.spawn(async move {
            let mut waited = Duration::ZERO;
            for commit in commits {
                let sent = Instant::now();
                committer.commit(commit).await.expect("committed");
                waited += sent.elapsed();
            }
            waited
        });
    }
    let waited: Duration = running.join_all().await.into_iter().sum();
    let elapsed = started.elapsed();
    let total = writers * commits;
    let stats = committer.stats();
    println!(
        "{url}: {writers} writers × {commits} commits ({} KB), linger {linger_ms} ms: {:.0} durable commits/s, \
         {} transactions (mean {:.1} commits each), mean wait per commit {:.2} ms",
        bytes / 1024,
        total as f64 / elapsed.as_secs_f64(),
        stats.groups,
        stats.commits as f64 / stats.groups.max(1) as f64,
        waited.as_secs_f64() * 1000.0 / total as f64,
    );
    cancel.cancel();
    tasks.close();
    tasks.wait().await;
    store.close().await;
    std::fs::remove_dir_all(&scratch).ok();
}

/// A fresh directory in the system's temporary directory.
fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("fengqiao-throughput-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}
