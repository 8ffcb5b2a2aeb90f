//! Crash safety of the real binary: `fengqiao serve` on a SQLite file is killed with SIGKILL at
//! random moments while twenty tablets (each its own user and device) edit their own cases and
//! their township's shared case and sync over HTTP, and restarted on the same file each time.
//! Afterwards every change the server acknowledged (heads it sent back after committing) is still
//! there, and every tablet converges to the server's heads.
//!
//! The moments come from a seeded RNG; the seed is printed, and `FENGQIAO_CRASH_SEED=<seed>`
//! replays the same plan (the interleaving with the operating system's scheduling still varies).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use automerge::ReadDoc;
use fengqiao_schema::fixtures::{TOWN_A, TOWN_B};
use fengqiao_schema::ids::CaseId;
use fengqiao_schema::vocab::{CaseKind, Role};
use fengqiao_server::store::{DatabaseUrl, Store};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::watch;

use crate::common::*;
use crate::tablet::*;

const TABLETS: usize = 20;
const KILLS: usize = 10;

/// The `fengqiao serve` process.
struct Server {
    child: Child,
}

impl Server {
    /// Starts the binary on `database` and waits until it listens; its address.
    async fn start(database: &str) -> (Server, SocketAddr) {
        let mut child = Command::new(env!("CARGO_BIN_EXE_fengqiao"))
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env("FENGQIAO_DATABASE_URL", database)
            .env("FENGQIAO_LOG", "warn,fengqiao=info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("the fengqiao binary starts");
        let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let address = within_deadline("the server listens", async {
            while let Some(line) = lines.next_line().await.expect("read the log") {
                if let Some(rest) = line.split("address=").nth(1).filter(|_| line.contains("listening")) {
                    return rest.split_whitespace().next().expect("an address").parse::<SocketAddr>().expect("address");
                }
            }
            panic!("the server exited before listening");
        })
        .await;
        // Keep reading the log so that the server never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        (Server { child }, address)
    }

    async fn kill(mut self) {
        self.child.start_kill().expect("SIGKILL");
        within_deadline("the killed server exits", self.child.wait()).await.expect("wait");
    }

    /// SIGTERM: the graceful shutdown.
    async fn terminate(mut self) {
        let pid = self.child.id().expect("running").to_string();
        let status = Command::new("kill").args(["-TERM", &pid]).status().await.expect("kill -TERM");
        assert!(status.success());
        let status = within_deadline("the server stops", self.child.wait()).await.expect("wait");
        assert!(status.success(), "graceful shutdown exits cleanly: {status}");
    }
}

/// A tablet's life while the server keeps dying: edit, sync, retry until the server is back.
struct Worker {
    tablet: Tablet,
    own: CaseId,
    township: &'static str,
    shared: Arc<std::sync::Mutex<BTreeMap<&'static str, CaseId>>>,
    address: watch::Receiver<SocketAddr>,
    rng: StdRng,
    /// Sessions cut short by the server dying, and the last reason.
    interrupted: (usize, String),
}

impl Worker {
    /// Syncs until a session completes, following the server to its new address.
    async fn sync(&mut self) {
        within_deadline("a sync that completes", async {
            loop {
                let address = *self.address.borrow_and_update();
                match self.tablet.sync(&mut Transport::Http { address }).await {
                    Ok(()) => return,
                    Err(SyncError::Failed(failure)) if !failure.retry => {
                        panic!("{} was refused: {failure:?}", self.tablet.user)
                    }
                    Err(SyncError::Failed(failure)) => self.interrupted = (self.interrupted.0 + 1, failure.message),
                    // The server is down or restarting: wait for its new address, or try again
                    // soon (it may have died between two requests and come back at the same one).
                    Err(SyncError::Transport(reason)) => {
                        self.interrupted = (self.interrupted.0 + 1, reason);
                        let _ = tokio::time::timeout(Duration::from_millis(50), self.address.changed()).await;
                    }
                }
            }
        })
        .await
    }

    async fn run(mut self, chaos: Arc<AtomicBool>, edits: Arc<AtomicUsize>) -> Worker {
        let mut n = 0;
        while chaos.load(Ordering::Relaxed) {
            n += 1;
            let shared = self.shared.lock().expect("shared cases").get(self.township).copied();
            let target = match shared {
                Some(case_id) if self.tablet.replica.contains_key(&case_id) && self.rng.random_bool(0.5) => case_id,
                _ => self.own,
            };
            self.tablet.edit_facts(target, &format!("{}的第{n}次记录。", self.tablet.user));
            edits.fetch_add(1, Ordering::Relaxed);
            self.sync().await;
        }
        self
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_changes_survive_sigkill_and_every_tablet_converges() {
    let seed: u64 =
        std::env::var("FENGQIAO_CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| rand::rng().random());
    eprintln!("crash test seed: {seed} (replay with FENGQIAO_CRASH_SEED={seed})");
    let mut rng = StdRng::seed_from_u64(seed);

    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("fengqiao.sqlite3").to_str().expect("UTF-8").to_string();
    let store = Store::open(&DatabaseUrl::Sqlite(path.clone())).await.expect("open");
    seed_county(&store).await;
    let mut users = Vec::new();
    for i in 0..TABLETS {
        let (user, unit) = (format!("m{i:02}"), if i % 2 == 0 { TOWN_A } else { TOWN_B });
        add_user(&store, &user, unit, &[Role::Mediator], PASSWORD).await;
        users.push((user, unit));
    }
    store.close().await;

    let (mut server, address) = Server::start(&path).await;
    let (addresses, address_rx) = watch::channel(address);
    let shared = Arc::new(std::sync::Mutex::new(BTreeMap::new()));
    let mut workers = Vec::new();
    for (i, (user, unit)) in users.iter().enumerate() {
        let mut tablet = Tablet::login(address, user, &format!("{user}-tablet")).await;
        let own = tablet.open_case(CaseKind::Dispute, unit, &format!("{user}的案件"));
        let mut worker = Worker {
            tablet,
            own,
            township: unit,
            shared: shared.clone(),
            address: address_rx.clone(),
            rng: StdRng::seed_from_u64(seed.wrapping_add(i as u64 + 1)),
            interrupted: (0, String::new()),
        };
        if i < 2 {
            // The first tablet of each township opens the case the whole township works on.
            let case_id = worker.tablet.open_case(CaseKind::Dispute, unit, "全镇共同处理的案件");
            shared.lock().expect("shared cases").insert(*unit, case_id);
        }
        worker.sync().await;
        workers.push(worker);
    }

    // Chaos: the tablets edit and sync while the server is killed and restarted.
    let chaos = Arc::new(AtomicBool::new(true));
    let edits = Arc::new(AtomicUsize::new(0));
    let running: Vec<_> = workers.into_iter().map(|w| tokio::spawn(w.run(chaos.clone(), edits.clone()))).collect();
    for kill in 0..KILLS {
        let uptime = Duration::from_millis(rng.random_range(200..900));
        tokio::time::sleep(uptime).await;
        server.kill().await;
        let (restarted, address) = Server::start(&path).await;
        eprintln!("kill {}: after {uptime:?}, {} edits so far", kill + 1, edits.load(Ordering::Relaxed));
        server = restarted;
        addresses.send_replace(address);
    }
    chaos.store(false, Ordering::Relaxed);
    let mut workers = Vec::new();
    for worker in running {
        workers.push(within_deadline("a tablet stops editing", worker).await.expect("the tablet task"));
    }

    // Every tablet sends what it has left, then all sync once more to get each other's changes.
    for worker in &mut workers {
        worker.sync().await;
        assert!(worker.tablet.pending.is_empty(), "{} still has unacknowledged cases", worker.tablet.user);
    }
    for worker in &mut workers {
        worker.sync().await;
    }
    server.terminate().await;

    let store = Store::open(&DatabaseUrl::Sqlite(path.clone())).await.expect("open");
    let mut acknowledged = 0;
    for worker in &workers {
        let tablet = &worker.tablet;
        assert_eq!(tablet.rejections(), Vec::<String>::new(), "{}", tablet.user);
        for (case_id, heads) in &tablet.acknowledged {
            let stored = store.load_document(*case_id).await.expect("load").expect("an acknowledged case is stored");
            let doc = stored.to_automerge().expect("a document");
            for head in heads {
                assert!(
                    doc.get_change_by_hash(head).is_some(),
                    "{}: acknowledged {head} of {case_id} lost",
                    tablet.user
                );
                acknowledged += 1;
            }
        }
        for case_id in tablet.replica.keys() {
            assert_eq!(
                Some(tablet.heads(*case_id)),
                stored_heads(&store, *case_id).await,
                "{} on {case_id}",
                tablet.user
            );
        }
        let shared = worker.shared.lock().expect("shared cases")[worker.township];
        assert!(tablet.replica.contains_key(&shared), "{} has its township's case", tablet.user);
    }
    let total = edits.load(Ordering::Relaxed);
    let interrupted: usize = workers.iter().map(|w| w.interrupted.0).sum();
    let last = workers.iter().map(|w| w.interrupted.1.as_str()).find(|r| !r.is_empty()).unwrap_or("none");
    eprintln!("{KILLS} kills, {total} edits, {interrupted} sessions cut short (e.g. {last}), {acknowledged} acknowledged heads checked");
    assert!(total >= TABLETS, "the tablets kept editing through the kills");
    store.close().await;
}
