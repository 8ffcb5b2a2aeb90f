//! Two `fengqiao serve` processes on one PostgreSQL database (only when
//! `FENGQIAO_TEST_POSTGRES_URL` is set), as two servers behind a load balancer would run: the real
//! binary twice, each with its own pools, cache and `LISTEN` connection, on a schema of its own.
//! The organisation is imported once with `fengqiao org import`. Then:
//!
//! - a tablet live-connected to A by WebSocket is notified of a case registered through B, and
//!   receives it from A;
//! - A and B take writes to that case at the same time (one tablet edits through each), and each
//!   tablet ends with every change of the other, A serving B's changes although it had the case
//!   cached;
//! - meanwhile a reader tablet syncs over HTTP alternately against A and B, each time from the
//!   cursor the other server gave it: after every session it holds every change committed before
//!   that session began (so no feed position was skipped), its cursor never moves back, and at
//!   the end it stands at the feed's head with the stored heads.

use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use automerge::ReadDoc;
use fengqiao_schema::fixtures::{COUNTY, TOWN_A};
use fengqiao_schema::ids::CaseId;
use fengqiao_schema::vocab::CaseKind;
use fengqiao_server::store::{DatabaseUrl, Store};
use fengqiao_sync::protocol::Cursor;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::watch;

use crate::common::*;
use crate::tablet::*;

/// Edits each writer makes to the shared case.
const EDITS: usize = 12;
/// How long a live connection may wait for the `notify` of a commit made through the other server.
const NOTIFY_DEADLINE: Duration = Duration::from_secs(20);
/// Log lines of a server process kept to show when the test fails.
const LOG_LINES: usize = 200;

/// A `fengqiao serve` process. Dropping it (also when the test panics) kills it.
struct Server {
    name: &'static str,
    address: SocketAddr,
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Starts the binary on `database` and waits until it listens on the port it chose.
    async fn start(name: &'static str, database: &str) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_fengqiao"))
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env("FENGQIAO_DATABASE_URL", database)
            .env("FENGQIAO_LOG", "warn,fengqiao=info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("the fengqiao binary starts");
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let keep = |log: &Mutex<Vec<String>>, line: &str| {
            let mut log = log.lock().expect("log");
            if log.len() < LOG_LINES {
                log.push(line.to_string());
            }
        };
        let address = within_deadline(&format!("server {name} listens"), async {
            while let Some(line) = lines.next_line().await.expect("read the log") {
                keep(&log, &line);
                if let Some(rest) = line.split("address=").nth(1).filter(|_| line.contains("listening")) {
                    return rest.split_whitespace().next().expect("an address").parse::<SocketAddr>().expect("address");
                }
            }
            panic!("server {name} exited before listening: {:#?}", log.lock().expect("log"));
        })
        .await;
        // Keep reading the log so that the server never blocks on a full pipe.
        let kept = log.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                keep(&kept, &line);
            }
        });
        Server { name, address, child, log }
    }

    /// SIGTERM, the graceful shutdown; the server must exit cleanly.
    async fn terminate(mut self) {
        let pid = self.child.id().expect("running").to_string();
        let status = Command::new("kill").args(["-TERM", &pid]).status().await.expect("kill -TERM");
        assert!(status.success());
        let status = within_deadline(&format!("server {} stops", self.name), self.child.wait()).await.expect("wait");
        assert!(status.success(), "server {} exits cleanly after SIGTERM: {status}", self.name);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // A no-op once the server has exited.
        let _ = self.child.start_kill();
        if std::thread::panicking() {
            let log = self.log.lock().unwrap_or_else(|p| p.into_inner());
            eprintln!("--- log of server {} ({}):\n{}", self.name, self.address, log.join("\n"));
        }
    }
}

/// `fengqiao org import` of a township with three mediators (password `PASSWORD`).
async fn import_org(database: &str) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("org.toml");
    let mut org = format!(
        "[[units]]\nid = \"{COUNTY}\"\nname = \"青山县\"\nkind = \"county\"\n\n\
         [[units]]\nid = \"{TOWN_A}\"\nname = \"东溪镇\"\nkind = \"township\"\nparent = \"{COUNTY}\"\n"
    );
    for user in ["a1", "a2", "a3"] {
        org += &format!(
            "\n[[users]]\nid = \"{user}\"\nname = \"{user}\"\nunit = \"{TOWN_A}\"\nroles = [\"mediator\"]\n\
             password = \"{PASSWORD}\"\n"
        );
    }
    std::fs::write(&file, org).expect("write the organisation file");
    let output = within_deadline(
        "org import",
        Command::new(env!("CARGO_BIN_EXE_fengqiao"))
            .args(["org", "import"])
            .arg(&file)
            .env("FENGQIAO_DATABASE_URL", database)
            .env("FENGQIAO_LOG", "warn")
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("the fengqiao binary runs");
    assert!(output.status.success(), "org import failed: {}", String::from_utf8_lossy(&output.stderr));
}

/// The feed position in a cursor the server handed out (its format: a tag byte, the position as a
/// big-endian i64, a fingerprint of the user's unit and roles).
fn position(cursor: Option<&Cursor>) -> i64 {
    let bytes = cursor.expect("a completed session leaves a cursor").as_bytes();
    assert_eq!(bytes.len(), 17, "a feed cursor: {bytes:?}");
    i64::from_be_bytes(bytes[1..9].try_into().expect("eight bytes"))
}

/// The reader tablet that only follows the feed: one HTTP session on `server` from its cursor.
/// Checks that it then holds every change committed before the session began, that the server
/// refused nothing it relayed (it never edits: all it can send is changes it got from the other
/// server, so a refusal means the server's copy of the case lacked committed changes) and that
/// its cursor did not move back; the new feed position.
async fn reader_session(reader: &mut Tablet, store: &Store, case_id: CaseId, server: (&str, SocketAddr)) -> i64 {
    let before = reader.cursor.as_ref().map(|c| position(Some(c)));
    let committed = stored_heads(store, case_id).await.expect("the case is stored");
    reader
        .sync(&mut Transport::Http { address: server.1 })
        .await
        .unwrap_or_else(|e| panic!("the reader cannot sync on {}: {e:?}", server.0));
    let after = position(reader.cursor.as_ref());
    assert!(before.is_none_or(|before| after >= before), "the cursor moved back on {}: {before:?} → {after}", server.0);
    let missed: Vec<_> = match reader.replica.get(&case_id) {
        Some(doc) => committed.iter().filter(|h| doc.get_change_by_hash(h).is_none()).collect(),
        None => committed.iter().collect(),
    };
    let refused = reader.rejections();
    if missed.is_empty() && refused.is_empty() {
        return after;
    }
    // What does a device with nothing get from this server now? If it too lacks committed
    // changes, the server's copy of the case is stale.
    let mut probe = Tablet::login(server.1, "a3", "a3-probe").await;
    probe.sync_http(server.1).await;
    let stored = stored_heads(store, case_id).await.expect("the case is stored");
    let served = probe.replica.get(&case_id);
    let lacking = stored.iter().filter(|h| served.is_none_or(|doc| doc.get_change_by_hash(h).is_none())).count();
    panic!(
        "a reader session on {} (cursor {before:?} → {after}) missed {} of the {} heads committed before it began \
         and was refused {refused:?}; a new device on {} now lacks {lacking} of the {} stored heads \
         (the reader {}; notices {:?})",
        server.0,
        missed.len(),
        committed.len(),
        server.0,
        stored.len(),
        if reader.replica.contains_key(&case_id) { "has the case" } else { "does not have the case" },
        reader.notices,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_server_processes_share_one_postgresql() {
    let Some(server_url) = std::env::var(POSTGRES_ENV).ok().filter(|u| !u.is_empty()) else {
        eprintln!("skipped: set {POSTGRES_ENV} to run the two-process test");
        return;
    };
    let started = Instant::now();
    let database = TestDatabase::postgres(&server_url).await;
    let DatabaseUrl::Postgres(url) = &database.url else { unreachable!("a PostgreSQL test database") };
    import_org(url).await;
    let a = Server::start("A", url).await;
    let b = Server::start("B", url).await;
    // The test's own view of what is committed.
    let store = database.open().await;

    // Tokens from either process are good on the other: the signing keys are in the database.
    let mut via_b = Tablet::login(b.address, "a1", "a1-tablet").await;
    let mut via_a = Tablet::login(b.address, "a2", "a2-tablet").await;
    let mut reader = Tablet::login(a.address, "a3", "a3-tablet").await;
    let mut socket = connect_ws(a.address, &via_a.token).await.expect("connect to A");
    via_a.sync(&mut Transport::WebSocket(&mut socket)).await.expect("a2 syncs on A");
    assert!(via_a.replica.is_empty());

    // A case registered through B is announced on A's WebSocket, and A serves it.
    let case_id = via_b.open_case(CaseKind::Dispute, TOWN_A, "两个进程之间的案件");
    via_b.sync_http(b.address).await;
    wait_for_notify(&mut socket).await;
    via_a.sync(&mut Transport::WebSocket(&mut socket)).await.expect("a2 syncs on A");
    assert!(via_b.case_number(case_id).is_some(), "B numbered the case");
    assert_eq!(via_a.case_number(case_id), via_b.case_number(case_id));
    assert_eq!(via_a.heads(case_id), via_b.heads(case_id));

    // The reader follows the feed on A and B in turn while both take writes.
    let (done, mut writing) = watch::channel(false);
    let mut reader_task = {
        let store = store.clone();
        let servers = [("A", a.address), ("B", b.address)];
        tokio::spawn(async move {
            let mut sessions = 0;
            while !*writing.borrow_and_update() {
                reader_session(&mut reader, &store, case_id, servers[sessions % 2]).await;
                sessions += 1;
            }
            (reader, sessions)
        })
    };
    let mut writer = {
        let address = b.address;
        tokio::spawn(async move {
            for n in 0..EDITS {
                via_b.edit_facts(case_id, &format!("经B第{n}次。"));
                via_b.sync_http(address).await;
            }
            via_b
        })
    };
    let mut via_b = None;
    // a2 edits through A and follows B's edits there: a session, or the next notify when it has
    // made its edits and still misses some of B's (failing at once if the reader or writer fails).
    let mut n = 0;
    loop {
        via_a.sync(&mut Transport::WebSocket(&mut socket)).await.expect("a2 syncs on A");
        let missing: Vec<_> =
            (0..EDITS).filter(|i| !via_a.facts(case_id).contains(&format!("经B第{i}次。"))).collect();
        if missing.is_empty() && n == EDITS {
            break;
        }
        if n < EDITS {
            via_a.edit_facts(case_id, &format!("经A第{n}次。"));
            n += 1;
            continue;
        }
        tokio::select! {
            notified = tokio::time::timeout(NOTIFY_DEADLINE, wait_for_notify(&mut socket)) => {
                notified.unwrap_or_else(|_| panic!(
                    "a2 on A misses B's edits {missing:?} and no notify came within {NOTIFY_DEADLINE:?}"
                ))
            }
            joined = &mut reader_task => panic!("the reader stopped: {:?}", joined.err()),
            joined = &mut writer, if via_b.is_none() => via_b = Some(joined.expect("B's writer")),
        }
    }
    let mut via_b = match via_b {
        Some(tablet) => tablet,
        None => within_deadline("B's writer", writer).await.expect("B's writer"),
    };
    done.send_replace(true);
    let (mut reader, sessions) = within_deadline("the reader", reader_task).await.expect("the reader task");
    assert!(sessions >= 2, "the reader synced on both servers while they took writes ({sessions} sessions)");

    // Every tablet ends with every change, through either server.
    via_b.sync_http(b.address).await;
    let stored = stored_heads(&store, case_id).await.expect("stored");
    assert_eq!(via_a.heads(case_id), stored, "a2, on A");
    assert_eq!(via_b.heads(case_id), stored, "a1, on B");
    for (tablet, name) in [(&via_a, "a2"), (&via_b, "a1")] {
        let facts = tablet.facts(case_id);
        for i in 0..EDITS {
            for server in ["A", "B"] {
                assert!(facts.contains(&format!("经{server}第{i}次。")), "{name} misses edit {i} through {server}");
            }
        }
        assert_eq!(tablet.rejections(), Vec::<String>::new(), "{name}");
    }
    let head = store.feed_head().await.expect("feed head").0;
    for server in [("A", a.address), ("B", b.address)] {
        let at = reader_session(&mut reader, &store, case_id, server).await;
        assert_eq!(at, head, "after the writes, the reader's cursor from {} is the feed head", server.0);
        assert_eq!(reader.heads(case_id), stored, "the reader, on {}", server.0);
    }
    // A device with nothing gets the whole stored case from either server.
    for server in [("A", a.address), ("B", b.address)] {
        let mut fresh = Tablet::login(server.1, "a3", &format!("a3-new-tablet-{}", server.0)).await;
        fresh.sync_http(server.1).await;
        assert_eq!(fresh.heads(case_id), stored, "a new device on {}", server.0);
    }
    eprintln!(
        "{} edits through each server, {sessions} reader sessions alternating A and B, feed head {head}, {:?}",
        EDITS,
        started.elapsed()
    );

    drop(socket);
    store.close().await;
    tokio::join!(a.terminate(), b.terminate());
}
