//! End-to-end scenarios: a real server (the server library on a listening socket at
//! `127.0.0.1:0`, SQLite in a temporary directory) and real clients (`fengqiao-client`, each
//! with its own SQLite replica), talking only over HTTP and WebSockets. The `fengqiao-client`
//! binary is run too, against the same kind of server.
//!
//! Each scenario is one story from the issue: a week offline, two mediators on one case, a
//! handoff made offline, a late edit after custody moved, tokens expiring while offline, a revoked
//! device, a server restart in the middle of a sync.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use automerge::{ChangeHash, ReadDoc, ROOT};
use fengqiao_client::ops::NewParty;
use fengqiao_client::{
    Client, ClientError, ClientOptions, LoginState, NoticeKind, OffsetClock, TransportKind,
};
use fengqiao_schema::fixtures;
use fengqiao_schema::ids::{CaseId, DeviceId, UnitId, UserId};
use fengqiao_schema::vocab::{CaseKind, HandoffStatus, HandoffVerdict, PartyRole, Role, Track};
use fengqiao_server::clock::Timestamp;
use fengqiao_server::store::units::NewUser;
use fengqiao_server::store::{DatabaseUrl, Store};
use fengqiao_server::{serve, Services, Settings};
use tokio::net::TcpListener;

const PASSWORD: &str = "correct horse battery";

/// The people of the scenarios: (id, unit, role).
const PEOPLE: &[(&str, &str, Role)] = &[
    ("a1", fixtures::TOWN_A, Role::Mediator),
    ("a2", fixtures::TOWN_A, Role::Mediator),
    ("p1", fixtures::PETITION, Role::PetitionOfficer),
    ("p2", fixtures::PETITION, Role::PetitionOfficer),
    ("j1", fixtures::JUSTICE, Role::ReconsiderationOfficer),
];

/// How long any one step may take before the test fails.
const DEADLINE: Duration = Duration::from_secs(60);

async fn within<T>(what: &str, future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(DEADLINE, future)
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish in time"))
}

// ---------------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------------

struct Running {
    services: Services,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// A server on a SQLite file of its own, which can be stopped and started again on the same
/// address.
struct TestServer {
    _dir: tempfile::TempDir,
    settings: Settings,
    address: SocketAddr,
    running: Option<Running>,
}

impl TestServer {
    async fn start(configure: impl FnOnce(&mut Settings)) -> TestServer {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("fengqiao.sqlite3");
        let url = DatabaseUrl::Sqlite(path.to_str().expect("a UTF-8 path").to_string());
        let mut settings = Settings::with_database(url);
        configure(&mut settings);
        let store = Store::open(&settings.database)
            .await
            .expect("the database opens");
        seed(&store).await;
        store.close().await;
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("an address");
        let mut server = TestServer {
            _dir: dir,
            settings,
            address,
            running: None,
        };
        server.serve(listener).await;
        server
    }

    async fn serve(&mut self, listener: TcpListener) {
        let services = Services::start(&self.settings)
            .await
            .expect("the services start");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(serve(listener, services.state(), async {
            stopped.await.ok();
        }));
        self.running = Some(Running {
            services,
            stop,
            task,
        });
    }

    fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    fn store(&self) -> Store {
        self.running
            .as_ref()
            .expect("the server runs")
            .services
            .state()
            .store
    }

    /// Graceful shutdown: live connections are told and closed, queued commits written.
    async fn stop(&mut self) {
        let Some(running) = self.running.take() else {
            return;
        };
        let _ = running.stop.send(());
        within("the server stops", running.task)
            .await
            .expect("the server task")
            .expect("serve");
        let store = running.services.state().store;
        running.services.stop().await;
        store.close().await;
    }

    /// Starts again on the same database and address.
    async fn restart(&mut self) {
        let listener = within("the address is free again", async {
            loop {
                match TcpListener::bind(self.address).await {
                    Ok(listener) => return listener,
                    Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                }
            }
        })
        .await;
        self.serve(listener).await;
    }

    async fn stored_heads(&self, case_id: CaseId) -> Vec<ChangeHash> {
        let stored = self
            .store()
            .load_document(case_id)
            .await
            .expect("load")
            .expect("the server has the case");
        let mut heads = stored.to_automerge().expect("a document").get_heads();
        heads.sort();
        heads
    }
}

/// The fixture county and `PEOPLE`.
async fn seed(store: &Store) {
    let tree = fixtures::county();
    let mut units: Vec<_> = tree.units().cloned().collect();
    units.sort_by_key(|u| u.parent.is_some());
    for unit in units {
        store.add_unit(&unit).await.expect("add a unit");
    }
    let hash = fengqiao_server::auth::hash_password_blocking(
        fengqiao_server::auth::password::Password::new(PASSWORD.to_string()),
    )
    .await
    .expect("hash");
    for (id, unit, role) in PEOPLE {
        let user = NewUser {
            id: UserId::new(*id),
            name: id.to_string(),
            unit: UnitId::new(*unit),
            roles: [*role].into_iter().collect(),
            password_hash: hash.clone(),
        };
        store
            .add_user(&user, Timestamp::now())
            .await
            .expect("add a user");
    }
}

// ---------------------------------------------------------------------------------------------
// Tablets
// ---------------------------------------------------------------------------------------------

/// A device: a client with its own data directory and a clock the test can move.
struct Tablet {
    client: Client,
    clock: Arc<OffsetClock>,
    _dir: tempfile::TempDir,
}

impl std::ops::Deref for Tablet {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}

async fn tablet(server: &TestServer, user: &str) -> Tablet {
    tablet_with(server, user, TransportKind::WebSocket).await
}

async fn tablet_with(server: &TestServer, user: &str, transport: TransportKind) -> Tablet {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let clock = Arc::new(OffsetClock::new());
    let mut options = ClientOptions::new(dir.path(), server.url());
    options.transport = transport;
    options.device_name = format!("{user} 的平板");
    options.clock = clock.clone();
    options.exchange_timeout = Duration::from_secs(20);
    let client = Client::open(options).expect("the replica opens");
    within("login", client.login(user, PASSWORD))
        .await
        .expect("login");
    Tablet {
        client,
        clock,
        _dir: dir,
    }
}

async fn sync(tablet: &Tablet) -> fengqiao_client::SyncReport {
    within("a sync", tablet.sync())
        .await
        .unwrap_or_else(|e| panic!("sync failed: {e}"))
}

/// The case as the server stored it.
async fn stored_case(server: &TestServer, case_id: CaseId) -> fengqiao_schema::document::Case {
    let stored = server
        .store()
        .load_document(case_id)
        .await
        .expect("load")
        .expect("the server has the case");
    autosurgeon::hydrate(&stored.to_automerge().expect("a document")).expect("a case")
}

fn text_of(text: &autosurgeon::Text) -> String {
    text.as_str().to_string()
}

/// Notices of one kind that are not acknowledged.
async fn notices_of(tablet: &Tablet, kind: NoticeKind) -> Vec<fengqiao_client::StoredNotice> {
    tablet
        .notices(false)
        .await
        .expect("notices")
        .into_iter()
        .filter(|n| n.kind == kind)
        .collect()
}

/// Nothing refused or reverted was shown to this tablet.
async fn assert_no_refusals(tablet: &Tablet) {
    let notices = tablet.notices(true).await.expect("notices");
    let refusals: Vec<_> = notices
        .iter()
        .filter(|n| matches!(n.kind, NoticeKind::Rejected | NoticeKind::Compensated))
        .collect();
    assert!(refusals.is_empty(), "unexpected refusals: {refusals:#?}");
    assert!(tablet.stash().await.expect("stash").is_empty());
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs() as i64
}

/// Waits until the real clock has passed `unix` (a token's expiry on the server's clock).
async fn wait_past(unix: i64) {
    within("time to pass", async {
        while unix_now() <= unix {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
}

/// A mediation case opened by `tablet`, ready for a handoff to reconsideration: what the justice
/// bureau needs is filled in.
async fn prepared_for_reconsideration(tablet: &Tablet, title: &str) -> CaseId {
    let case_id = tablet
        .open_case(CaseKind::Dispute, title)
        .await
        .expect("open a case");
    tablet
        .add_party(
            case_id,
            NewParty {
                role: Some(PartyRole::Applicant),
                name: "王某".into(),
                ..NewParty::default()
            },
        )
        .await
        .expect("add the applicant");
    for (path, value) in [
        ("mediation.result", "failed"),
        (
            "mediation.routes_told",
            "已告知当事人可申请行政复议或提起行政诉讼。",
        ),
        ("reconsideration.respondent_agency", "青山县自然资源局"),
        ("reconsideration.act.name", "不动产登记决定"),
        ("reconsideration.act.known_on", "2026-02-10"),
        ("reconsideration.request", "请求撤销该登记决定。"),
    ] {
        tablet
            .set_field(case_id, path, value)
            .await
            .unwrap_or_else(|e| panic!("set {path}: {e}"));
    }
    case_id
}

// ---------------------------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------------------------

/// A mediator's tablet is offline for a week (its clock a week on: the access token expired,
/// the refresh token not), edits and opens cases while a colleague edits online; one sync brings
/// both sides together, touching only the cases that changed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_week_offline_then_one_sync() {
    let server = TestServer::start(|_| {}).await;
    let a1 = tablet(&server, "a1").await;
    let a2 = tablet(&server, "a2").await;
    let mut cases = Vec::new();
    for i in 0..6 {
        cases.push(
            a1.open_case(CaseKind::Dispute, &format!("邻里纠纷第{i}号"))
                .await
                .expect("open"),
        );
    }
    let first = sync(&a1).await;
    assert_eq!(first.cases_in_play, 6);
    // The server registered them during that session: one more short session settles the cursor.
    sync(&a1).await;
    sync(&a2).await;
    assert_eq!(a2.cases().await.expect("cases").len(), 6);
    for case_id in &cases {
        assert!(
            a1.case(*case_id)
                .await
                .expect("case")
                .meta
                .case_number
                .is_some(),
            "registered by the server"
        );
    }

    // A week offline.
    let refresh_before = a1
        .credentials()
        .await
        .expect("credentials")
        .expect("logged in")
        .refresh_token;
    a1.clock.advance(Duration::from_secs(7 * 24 * 3600));
    a1.append_facts(cases[0], "第一天：走访双方，张某称围墙越界。")
        .await
        .expect("edit");
    a1.add_party(
        cases[1],
        NewParty {
            role: Some(PartyRole::Respondent),
            name: "李某".into(),
            ..NewParty::default()
        },
    )
    .await
    .expect("edit");
    let opened = a1
        .open_case(CaseKind::Dispute, "一周内新登记的纠纷")
        .await
        .expect("open offline");
    // Meanwhile, online.
    a2.append_agreement(cases[0], "一、双方同意重新测量地界。")
        .await
        .expect("edit");
    a2.append_facts(cases[2], "村委会出具了情况说明。")
        .await
        .expect("edit");
    sync(&a2).await;

    let back = sync(&a1).await;
    let credentials = a1
        .credentials()
        .await
        .expect("credentials")
        .expect("logged in");
    assert_ne!(
        credentials.refresh_token, refresh_before,
        "the expired access token was refreshed before the session"
    );
    assert_eq!(credentials.state, LoginState::Active);
    // Its own three cases and the two the colleague changed, one of them shared: four, not seven.
    assert_eq!(back.cases_in_play, 4, "{back:?}");
    assert!(a1.pending_cases().await.expect("pending").is_empty());
    sync(&a2).await;
    sync(&a1).await;

    for case_id in cases.iter().chain([&opened]) {
        assert_eq!(
            a1.heads(*case_id).await.expect("heads"),
            a2.heads(*case_id).await.expect("heads")
        );
        assert_eq!(
            a1.heads(*case_id).await.expect("heads"),
            server.stored_heads(*case_id).await
        );
    }
    let seen_by_a2 = a2.case(cases[0]).await.expect("case");
    assert!(text_of(&seen_by_a2.claims.facts).contains("围墙越界"));
    assert!(text_of(&seen_by_a2.mediation.agreement.terms).contains("重新测量地界"));
    assert!(a2
        .case(cases[1])
        .await
        .expect("case")
        .parties
        .iter()
        .any(|p| p.name == "李某"));
    assert!(text_of(&a1.case(cases[2]).await.expect("case").claims.facts).contains("情况说明"));
    let new_case = a2
        .case(opened)
        .await
        .expect("the colleague sees the case opened offline");
    assert!(
        new_case.meta.case_number.is_some(),
        "registered when it arrived"
    );
    assert_no_refusals(&a1).await;
    assert_no_refusals(&a2).await;
    let wire = a1.wire_stats();
    eprintln!("a1 after the week: {back:?}; wire {wire:?}");
}

/// Two mediators edit the agreement of one case offline; both see both clauses, in one text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_mediators_edit_one_case_offline() {
    let server = TestServer::start(|_| {}).await;
    let a1 = tablet(&server, "a1").await;
    let a2 = tablet_with(&server, "a2", TransportKind::Http).await;
    let case_id = a1
        .open_case(CaseKind::Dispute, "张某与李某借款纠纷")
        .await
        .expect("open");
    sync(&a1).await;
    sync(&a2).await;

    a1.append_agreement(
        case_id,
        "一、李某于二〇二六年三月三十一日前归还张某借款五千元。",
    )
    .await
    .expect("edit");
    a1.set_field(case_id, "mediation.result", "success")
        .await
        .expect("edit");
    a2.append_agreement(case_id, "二、张某放弃利息请求。")
        .await
        .expect("edit");
    a2.add_party(
        case_id,
        NewParty {
            role: Some(PartyRole::Respondent),
            name: "李某".into(),
            ..NewParty::default()
        },
    )
    .await
    .expect("edit");

    sync(&a1).await;
    sync(&a2).await;
    sync(&a1).await;

    let one = a1.case(case_id).await.expect("case");
    let two = a2.case(case_id).await.expect("case");
    let terms = text_of(&one.mediation.agreement.terms);
    assert!(terms.contains("归还张某借款五千元"), "{terms}");
    assert!(terms.contains("张某放弃利息请求"), "{terms}");
    assert_eq!(terms, text_of(&two.mediation.agreement.terms));
    assert_eq!(one.mediation.result, two.mediation.result);
    assert!(two.parties.iter().any(|p| p.name == "李某"));
    assert_eq!(
        a1.heads(case_id).await.expect("heads"),
        a2.heads(case_id).await.expect("heads")
    );
    assert_eq!(
        a1.heads(case_id).await.expect("heads"),
        server.stored_heads(case_id).await
    );
    assert_no_refusals(&a1).await;
    assert_no_refusals(&a2).await;
    // HTTP and WebSocket both counted what they carried.
    assert!(a2.wire_stats().round_trips >= 6 && a2.wire_stats().bytes_received > 0);
}

/// The petition bureau's officer asks, offline, to hand a petition to a township's mediation
/// while a colleague at the bureau keeps editing it; the township accepts; the bureau's copies
/// turn read-only and keep everything both wrote.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handoff_made_offline_while_the_county_edits() {
    let server = TestServer::start(|_| {}).await;
    let p1 = tablet(&server, "p1").await;
    let p2 = tablet(&server, "p2").await;
    let a1 = tablet(&server, "a1").await;
    let case_id = p1
        .open_case(CaseKind::Petition, "赵某反映邻里排水纠纷")
        .await
        .expect("open");
    for (role, name) in [
        (PartyRole::Applicant, "赵某"),
        (PartyRole::Respondent, "钱某"),
    ] {
        p1.add_party(
            case_id,
            NewParty {
                role: Some(role),
                name: name.into(),
                ..NewParty::default()
            },
        )
        .await
        .expect("party");
    }
    p1.set_field(case_id, "meta.dispute_type", "neighbour")
        .await
        .expect("dispute type");
    p1.set_field(case_id, "claims.claims", "请求钱某改道排水。")
        .await
        .expect("claims");
    sync(&p1).await;
    sync(&p2).await;
    sync(&a1).await;
    assert!(
        a1.cases().await.expect("cases").is_empty(),
        "the township does not read the bureau's petition"
    );

    // Offline, p1 asks for the handoff; the county keeps working on the case meanwhile.
    let handoff = p1
        .request_handoff(
            case_id,
            Track::Mediation,
            fixtures::TOWN_A,
            "属于可以调解的邻里纠纷",
        )
        .await
        .expect("request");
    p2.set_field(case_id, "petition.channel", "visit")
        .await
        .expect("county edit");
    p2.append_facts(case_id, "信访局已电话联系钱某，其同意参加调解。")
        .await
        .expect("county edit");
    sync(&p2).await;
    sync(&p1).await;
    let case = p1.case(case_id).await.expect("case");
    assert_eq!(
        case.handoff(&handoff).expect("the request").status,
        Some(HandoffStatus::Pending)
    );

    // The township sees the request in its inbox and accepts.
    sync(&a1).await;
    assert_eq!(notices_of(&a1, NoticeKind::Inbox).await.len(), 1);
    a1.decide_handoff(case_id, &handoff, HandoffVerdict::Accept, "同意接收")
        .await
        .expect("accept");
    sync(&a1).await;
    let case = a1.case(case_id).await.expect("case");
    assert_eq!(case.custody.unit, fixtures::TOWN_A);
    assert_eq!(case.custody.track, Some(Track::Mediation));
    a1.append_agreement(case_id, "双方同意由钱某出资改道排水。")
        .await
        .expect("the township now writes the mediation");

    // The bureau's copies: everything kept, read-only now, and the users are told.
    sync(&p1).await;
    sync(&p2).await;
    for tablet in [&p1, &p2] {
        let case = tablet
            .case(case_id)
            .await
            .expect("the case stays on the tablet");
        assert!(text_of(&case.claims.facts).contains("同意参加调解"));
        assert_eq!(case.petition.channel.map(|c| c.code()), Some("visit"));
        let listing = tablet
            .cases()
            .await
            .expect("cases")
            .into_iter()
            .find(|l| l.case_id == case_id)
            .expect("listed");
        assert!(
            listing
                .read_only
                .as_deref()
                .is_some_and(|r| r.contains("只读")),
            "{listing:?}"
        );
        let left = notices_of(tablet, NoticeKind::CustodyLeft).await;
        assert_eq!(left.len(), 1);
        assert!(
            left[0].message.contains("已转为只读"),
            "{}",
            left[0].message
        );
        let refused = tablet
            .append_facts(case_id, "移交后又补记一句。")
            .await
            .expect_err("read-only");
        assert!(matches!(refused, ClientError::EditRefused(_)));
        assert!(refused.to_string().contains("只读"), "{refused}");
    }
    assert!(notices_of(&p1, NoticeKind::Handoff)
        .await
        .iter()
        .any(|n| n.message.contains("已接收")));
    assert_no_refusals(&p1).await;
    assert_no_refusals(&p2).await;
    assert_no_refusals(&a1).await;
}

/// A mediator edits offline after the case was handed to the justice bureau: the server keeps the
/// change in history, reverts its effect with a review item, and the tablet shows why until the
/// user acknowledges it. The reverted text is still there, in the history the review item names.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_edit_after_custody_moved_is_reverted_and_kept() {
    let server = TestServer::start(|_| {}).await;
    let a1 = tablet(&server, "a1").await;
    let a2 = tablet(&server, "a2").await;
    let j1 = tablet(&server, "j1").await;
    let case_id = prepared_for_reconsideration(&a2, "孙某不服不动产登记").await;
    sync(&a2).await;
    sync(&a1).await;

    // a1 is offline and adds to the facts; meanwhile the case moves to the justice bureau.
    let late = "深夜补记：孙某称登记时未通知本人。";
    a1.append_facts(case_id, late)
        .await
        .expect("an edit the tablet still allows");
    let handoff = a2
        .request_handoff(
            case_id,
            Track::Reconsideration,
            fixtures::JUSTICE,
            "调解不成，申请行政复议",
        )
        .await
        .expect("request");
    sync(&a2).await;
    sync(&j1).await;
    j1.decide_handoff(case_id, &handoff, HandoffVerdict::Accept, "")
        .await
        .expect("accept");
    sync(&j1).await;

    // a1 comes back.
    sync(&a1).await;
    let compensated = notices_of(&a1, NoticeKind::Compensated).await;
    assert_eq!(compensated.len(), 1, "{compensated:#?}");
    let notice = &compensated[0];
    assert_eq!(notice.section.as_deref(), Some("claims"));
    assert!(
        notice.message.contains("诉求与事实") && notice.message.contains("撤回"),
        "{}",
        notice.message
    );
    let review_item = notice.review_item.clone().expect("a review item");
    assert!(!notice.reverted.is_empty());

    // The effect is gone on every copy...
    sync(&a1).await;
    let case = a1.case(case_id).await.expect("case");
    assert!(!text_of(&case.claims.facts).contains("深夜补记"));
    assert_eq!(
        a1.heads(case_id).await.expect("heads"),
        server.stored_heads(case_id).await
    );
    // ...but nothing is lost: the review item names the change, whose text is in the history.
    let item = case
        .review
        .iter()
        .find(|r| r.id == review_item)
        .expect("the review item reached the tablet");
    assert!(notice
        .reverted
        .iter()
        .all(|h| item.change_hashes.contains(h)));
    let doc = a1.document(case_id).await.expect("document");
    let reverted: Vec<ChangeHash> = notice
        .reverted
        .iter()
        .map(|h| h.parse().expect("a hash"))
        .collect();
    let (_, claims) = doc.get(ROOT, "claims").expect("read").expect("claims");
    let (_, facts) = doc.get(&claims, "facts").expect("read").expect("facts");
    assert!(doc
        .text_at(&facts, &reverted)
        .expect("the text at the reverted change")
        .contains(late));
    j1.sync().await.expect("sync");
    let seen_by_justice = j1.case(case_id).await.expect("case");
    assert!(seen_by_justice
        .review
        .iter()
        .any(|r| r.id == review_item && r.author == "a1"));

    // The tablet's copy is read-only for the claims now, and the notice stays until acknowledged.
    assert!(a1.append_facts(case_id, "再补一句。").await.is_err());
    assert!(a1.acknowledge(notice.id).await.expect("ack"));
    assert!(notices_of(&a1, NoticeKind::Compensated).await.is_empty());
    assert!(a1
        .notices(true)
        .await
        .expect("notices")
        .iter()
        .any(|n| n.id == notice.id && n.acknowledged_at.is_some()));
}

/// The access token expires while the tablet is offline (its clock even lags, so the server is the
/// one to say so): the client refreshes and syncs. Later the refresh token expires too: the user
/// is told to log in again, nothing is lost, and after the login the edits go up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_expire_while_offline() {
    let server = TestServer::start(|settings| {
        settings.auth.access_token_ttl = Duration::from_secs(2);
        settings.auth.refresh_token_ttl = Duration::from_secs(6);
    })
    .await;
    let a1 = tablet(&server, "a1").await;
    // The tablet's clock is an hour behind: it believes its tokens are still good.
    a1.clock.set_offset_secs(-3600);
    let case_id = a1
        .open_case(CaseKind::Dispute, "刘某与陈某相邻通行纠纷")
        .await
        .expect("open");
    let expires = a1
        .credentials()
        .await
        .expect("credentials")
        .expect("logged in")
        .expires_at;
    wait_past(expires).await;
    a1.append_facts(case_id, "离线时记录：通道宽度不足一米。")
        .await
        .expect("edit");
    sync(&a1).await;
    let refreshed = a1
        .credentials()
        .await
        .expect("credentials")
        .expect("logged in");
    assert!(
        refreshed.expires_at > expires,
        "the server said unauthorized and the client refreshed"
    );
    assert!(stored_case(&server, case_id)
        .await
        .claims
        .facts
        .as_str()
        .contains("通道宽度"));

    // Offline past the refresh token's life.
    let late = "离线两周后补记：双方同意各让半米。";
    a1.append_facts(case_id, late).await.expect("edit");
    wait_past(refreshed.refresh_expires_at).await;
    let error = a1.sync().await.expect_err("the refresh token has expired");
    assert!(matches!(error, ClientError::LoginRequired(_)), "{error:?}");
    assert!(
        error.to_string().contains("请重新登录") && error.to_string().contains("保留"),
        "{error}"
    );
    let credentials = a1.credentials().await.expect("credentials").expect("kept");
    assert_eq!(credentials.state, LoginState::LoginRequired);
    assert_eq!(a1.pending_cases().await.expect("pending"), vec![case_id]);
    assert!(text_of(&a1.case(case_id).await.expect("case").claims.facts).contains(late));
    // Asking again does not reach the server: the user must log in.
    assert!(matches!(
        a1.sync().await,
        Err(ClientError::LoginRequired(_))
    ));

    a1.login("a1", PASSWORD).await.expect("log in again");
    sync(&a1).await;
    assert!(a1.pending_cases().await.expect("pending").is_empty());
    assert!(stored_case(&server, case_id)
        .await
        .claims
        .facts
        .as_str()
        .contains(late));
    assert_eq!(
        a1.heads(case_id).await.expect("heads"),
        server.stored_heads(case_id).await
    );
    assert_no_refusals(&a1).await;
}

/// An administrator revokes a tablet while it is offline with unsynced work: its next sync is
/// refused with a clear message, and everything stays on the tablet, exportable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_revoked_while_offline_keeps_its_data() {
    let server = TestServer::start(|_| {}).await;
    let a1 = tablet(&server, "a1").await;
    let a2 = tablet(&server, "a2").await;
    let case_id = a1
        .open_case(CaseKind::Dispute, "周某与吴某宅基地纠纷")
        .await
        .expect("open");
    sync(&a1).await;
    let unsynced = "离线记录：现场测量宅基地面积一百二十平方米。";
    a1.append_facts(case_id, unsynced).await.expect("edit");
    let device = a1
        .credentials()
        .await
        .expect("credentials")
        .expect("logged in")
        .device_id;
    server
        .store()
        .revoke_device(&DeviceId::new(device.as_str()), Timestamp::now())
        .await
        .expect("revoke");

    let error = a1.sync().await.expect_err("a revoked device cannot sync");
    assert!(matches!(error, ClientError::DeviceRevoked(_)), "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains("停用") && message.contains("保留") && message.contains("导出"),
        "{message}"
    );
    assert_eq!(
        a1.credentials()
            .await
            .expect("credentials")
            .expect("kept")
            .state,
        LoginState::DeviceRevoked
    );
    assert_eq!(a1.pending_cases().await.expect("pending"), vec![case_id]);
    assert!(text_of(&a1.case(case_id).await.expect("case").claims.facts).contains(unsynced));

    let export = tempfile::tempdir().expect("a directory");
    let summary = a1.export(export.path()).await.expect("export");
    assert_eq!((summary.cases, summary.pending), (1, 1));
    let bytes = std::fs::read(
        export
            .path()
            .join("cases")
            .join(format!("{case_id}.automerge")),
    )
    .expect("the file");
    let doc = automerge::Automerge::load(&bytes).expect("an Automerge document");
    let case: fengqiao_schema::document::Case = autosurgeon::hydrate(&doc).expect("a case");
    assert!(case.claims.facts.as_str().contains(unsynced));
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(export.path().join("index.json")).expect("index"))
            .expect("JSON");
    assert_eq!(index["cases"][0]["unsynced_changes"], true);

    // The server never got it.
    sync(&a2).await;
    assert!(!text_of(&a2.case(case_id).await.expect("case").claims.facts).contains(unsynced));
}

/// The server stops in the middle of a long sync (after the first batch is answered) and comes
/// back on the same address: the client retries and converges, and every change is on the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_restart_in_the_middle_of_a_sync() {
    let mut server = TestServer::start(|settings| {
        // Small windows: the session takes many rounds.
        settings.sync.limits.max_entries = 2;
    })
    .await;
    let a1 = tablet(&server, "a1").await;
    let mut cases = Vec::new();
    for i in 0..10 {
        let case_id = a1
            .open_case(CaseKind::Dispute, &format!("土地承包纠纷第{i}号"))
            .await
            .expect("open");
        a1.append_facts(case_id, &format!("第{i}号：承包地边界争议。"))
            .await
            .expect("edit");
        cases.push(case_id);
    }

    // Pause the client after the first batch is answered, until the server is down.
    let (reached, reached_rx) = std::sync::mpsc::channel::<fengqiao_client::SyncProgress>();
    let (resume, resume_rx) = std::sync::mpsc::channel::<()>();
    let resume_rx = Arc::new(std::sync::Mutex::new(resume_rx));
    let paused = Arc::new(AtomicBool::new(false));
    let progress: fengqiao_client::ProgressFn = {
        let paused = paused.clone();
        Arc::new(move |p: &fengqiao_client::SyncProgress| {
            if p.round >= 1 && p.cases_done >= 1 && !paused.swap(true, Ordering::SeqCst) {
                let _ = reached.send(*p);
                let _ = resume_rx.lock().expect("lock").recv_timeout(DEADLINE);
            }
        })
    };
    let syncing = tokio::spawn({
        let client = a1.client.clone();
        async move { client.sync_retrying(50, Some(progress)).await }
    });
    let at = tokio::task::spawn_blocking(move || reached_rx.recv_timeout(DEADLINE))
        .await
        .expect("join")
        .expect("paused");
    assert!(at.cases_done < cases.len(), "stopped in the middle: {at:?}");
    server.stop().await;
    resume.send(()).expect("resume the client");
    // Let the client fail against the stopped server at least once before it comes back.
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.restart().await;

    let report = within("the retried sync", syncing)
        .await
        .expect("join")
        .expect("the sync converges");
    eprintln!("after the restart: {report:?}; wire {:?}", a1.wire_stats());
    assert!(
        a1.wire_stats().sessions >= 2,
        "the first session was cut short and retried"
    );
    assert!(a1.pending_cases().await.expect("pending").is_empty());
    sync(&a1).await;
    for (i, case_id) in cases.iter().enumerate() {
        assert_eq!(
            a1.heads(*case_id).await.expect("heads"),
            server.stored_heads(*case_id).await
        );
        let case = stored_case(&server, *case_id).await;
        assert!(case.claims.facts.as_str().contains(&format!("第{i}号")));
        assert!(case.meta.case_number.is_some());
    }
    assert_no_refusals(&a1).await;
}

/// A change the server refuses outright (here: a top-level key that is no section of a case) is
/// shown, kept in the stash with the reason, and the replica takes the server's copy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hard_reject_is_shown_and_the_refused_copy_kept() {
    let server = TestServer::start(|_| {}).await;
    let a1 = tablet(&server, "a1").await;
    let case_id = a1
        .open_case(CaseKind::Dispute, "马某与牛某相邻纠纷")
        .await
        .expect("open");
    sync(&a1).await;
    // A buggy screen writes outside the schema (the library's own edits never do).
    let mut doc = a1
        .document(case_id)
        .await
        .expect("document")
        .with_actor(automerge::ActorId::random());
    let mut tx = doc.transaction();
    automerge::transaction::Transactable::put(&mut tx, ROOT, "scratch", "草稿").expect("put");
    tx.commit();
    let replica = fengqiao_client::replica::Replica::open(
        &a1.options()
            .data_dir
            .join(fengqiao_client::client::REPLICA_FILE),
    )
    .expect("the replica");
    replica
        .write_document(case_id, &doc.save(), &doc.get_heads(), true)
        .expect("write");

    let report = sync(&a1).await;
    assert_eq!(report.stashed, 1, "{report:?}");
    let rejected = notices_of(&a1, NoticeKind::Rejected).await;
    assert_eq!(rejected.len(), 1, "{rejected:#?}");
    assert_eq!(rejected[0].code.as_deref(), Some("unknown_section"));
    assert!(
        rejected[0].message.contains("马某与牛某相邻纠纷")
            && rejected[0].message.contains("暂存区"),
        "{}",
        rejected[0].message
    );
    let stash = a1.stash().await.expect("stash");
    assert_eq!(stash.len(), 1);
    assert_eq!(
        (stash[0].case_id, stash[0].code.as_str()),
        (case_id, "unknown_section")
    );
    let kept = automerge::Automerge::load(&stash[0].bytes).expect("the stashed copy");
    assert!(
        kept.get(ROOT, "scratch").expect("read").is_some(),
        "the refused change is in the stash"
    );
    // The replica holds the server's copy again, acknowledged.
    assert!(a1
        .document(case_id)
        .await
        .expect("document")
        .get(ROOT, "scratch")
        .expect("read")
        .is_none());
    assert!(a1.pending_cases().await.expect("pending").is_empty());
    assert_eq!(
        a1.heads(case_id).await.expect("heads"),
        server.stored_heads(case_id).await
    );
}

/// A case the user may no longer read (a petition reclassified as an accusation: only the bureau
/// reads it now) leaves the tablet: the unsynced decision on it goes to the stash, and the user is
/// told.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_gone_from_reach_keeps_unsynced_work_in_the_stash() {
    let server = TestServer::start(|_| {}).await;
    let p1 = tablet(&server, "p1").await;
    let a1 = tablet(&server, "a1").await;
    sync(&a1).await;
    let case_id = p1
        .open_case(CaseKind::Petition, "郑某反映村务问题")
        .await
        .expect("open");
    for (role, name) in [
        (PartyRole::Applicant, "郑某"),
        (PartyRole::Respondent, "王某"),
    ] {
        p1.add_party(
            case_id,
            NewParty {
                role: Some(role),
                name: name.into(),
                ..NewParty::default()
            },
        )
        .await
        .expect("party");
    }
    p1.set_field(case_id, "meta.dispute_type", "neighbour")
        .await
        .expect("dispute type");
    p1.set_field(case_id, "claims.claims", "请求调解。")
        .await
        .expect("claims");
    let handoff = p1
        .request_handoff(case_id, Track::Mediation, fixtures::TOWN_A, "可以调解")
        .await
        .expect("request");
    sync(&p1).await;
    sync(&a1).await;
    assert!(
        a1.cases()
            .await
            .expect("cases")
            .iter()
            .any(|c| c.case_id == case_id),
        "the receiver reads it"
    );

    // Offline, the township decides; meanwhile the bureau finds the petition is an accusation.
    a1.decide_handoff(case_id, &handoff, HandoffVerdict::Reject, "不属于本镇管辖")
        .await
        .expect("decide");
    p1.set_field(case_id, "petition.category", "accusation")
        .await
        .expect("reclassify");
    sync(&p1).await;

    let report = sync(&a1).await;
    assert_eq!((report.forgotten, report.stashed), (1, 1), "{report:?}");
    assert!(a1
        .cases()
        .await
        .expect("cases")
        .iter()
        .all(|c| c.case_id != case_id));
    let gone = notices_of(&a1, NoticeKind::Gone).await;
    assert_eq!(gone.len(), 1, "{gone:#?}");
    assert!(
        gone[0].message.contains("无权查看") && gone[0].message.contains("暂存区"),
        "{}",
        gone[0].message
    );
    let stash = a1.stash().await.expect("stash");
    assert_eq!((stash.len(), stash[0].code.as_str()), (1, "gone"));
    let kept: fengqiao_schema::document::Case =
        autosurgeon::hydrate(&automerge::Automerge::load(&stash[0].bytes).expect("a document"))
            .expect("a case");
    assert_eq!(
        kept.handoff(&handoff).expect("the request").decision.note,
        "不属于本镇管辖"
    );
}

/// `watch` keeps a WebSocket open and syncs when the server notifies of a colleague's change.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_syncs_when_the_server_notifies() {
    let server = TestServer::start(|_| {}).await;
    let a1 = tablet(&server, "a1").await;
    let a2 = tablet(&server, "a2").await;
    let case_id = a2
        .open_case(CaseKind::Dispute, "杨某与朱某养殖纠纷")
        .await
        .expect("open");
    sync(&a2).await;

    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (events, mut received) = tokio::sync::mpsc::unbounded_channel();
    let watching = tokio::spawn({
        let client = a1.client.clone();
        async move {
            client
                .watch(
                    async {
                        stopped.await.ok();
                    },
                    Duration::from_secs(3600),
                    move |event| {
                        let _ = events.send(event);
                    },
                )
                .await
        }
    });
    let next_sync = |received: &mut tokio::sync::mpsc::UnboundedReceiver<
        fengqiao_client::WatchEvent,
    >| {
        let mut received = std::mem::replace(received, tokio::sync::mpsc::unbounded_channel().1);
        async move {
            let report = within("a session of watch", async {
                loop {
                    match received.recv().await.expect("watch goes on") {
                        fengqiao_client::WatchEvent::Synced(report) => return report,
                        fengqiao_client::WatchEvent::Connected => {}
                        other => panic!("unexpected {other:?}"),
                    }
                }
            })
            .await;
            (report, received)
        }
    };
    let (first, rest) = next_sync(&mut received).await;
    received = rest;
    assert_eq!(first.cases_received, 1, "{first:?}");

    a2.append_facts(case_id, "养殖场异味影响邻居。")
        .await
        .expect("edit");
    sync(&a2).await;
    let (notified, _) = next_sync(&mut received).await;
    assert_eq!(notified.cases_updated, 1, "{notified:?}");
    assert!(text_of(&a1.case(case_id).await.expect("case").claims.facts).contains("异味"));
    stop.send(()).expect("stop watching");
    within("watch stops", watching)
        .await
        .expect("join")
        .expect("watch ends cleanly");
}

// ---------------------------------------------------------------------------------------------
// The command line
// ---------------------------------------------------------------------------------------------

/// The `fengqiao-client` binary: FENGQIAO_CLIENT_BIN, or built by cargo (it is a binary of
/// another package, so cargo builds it on request).
fn client_binary() -> PathBuf {
    static BINARY: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BINARY
        .get_or_init(|| {
            // `make test` names the one `cargo test --workspace` built.
            if let Ok(binary) = std::env::var("FENGQIAO_CLIENT_BIN") {
                return PathBuf::from(binary);
            }
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
            let output = std::process::Command::new(cargo)
                .args([
                    "build",
                    "-p",
                    "fengqiao-client",
                    "--bin",
                    "fengqiao-client",
                    "--message-format=json",
                ])
                .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
                .output()
                .expect("cargo runs");
            assert!(
                output.status.success(),
                "cargo build failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            String::from_utf8_lossy(&output.stdout)
                .lines()
                .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
                .filter(|m| {
                    m["reason"] == "compiler-artifact" && m["target"]["name"] == "fengqiao-client"
                })
                .find_map(|m| m["executable"].as_str().map(PathBuf::from))
                .expect("cargo names the built executable")
        })
        .clone()
}

async fn run_cli(
    server: &TestServer,
    data_dir: &std::path::Path,
    args: &[&str],
) -> (bool, String, String) {
    let output = tokio::process::Command::new(client_binary())
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--server")
        .arg(server.url())
        .args(args)
        .env("FENGQIAO_PASSWORD", PASSWORD)
        .output();
    let output = within("the command line", output)
        .await
        .expect("the binary runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A short session at the command line: log in, open a case, sync, list, show, and see a
/// refusal explained in Chinese.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_logs_in_syncs_and_lists_cases() {
    let server = TestServer::start(|_| {}).await;
    let dir = tempfile::tempdir().expect("a directory");
    let data = dir.path();

    let (ok, out, err) = run_cli(&server, data, &["cases"]).await;
    assert!(!ok && err.contains("尚未登录"), "{out}{err}");
    let (ok, out, err) = run_cli(&server, data, &["login", "--user", "a1"]).await;
    assert!(
        ok && out.contains("登录成功") && out.contains(fixtures::TOWN_A),
        "{out}{err}"
    );
    let (ok, out, err) = run_cli(&server, data, &["new", "--title", "何某与黄某噪音纠纷"]).await;
    assert!(ok && out.contains("已在本机登记案件"), "{out}{err}");
    let (ok, out, err) = run_cli(&server, data, &["cases"]).await;
    assert!(
        ok && out.contains("何某与黄某噪音纠纷")
            && out.contains("未同步")
            && out.contains("待编号"),
        "{out}{err}"
    );
    let (ok, out, err) = run_cli(
        &server,
        data,
        &[
            "set",
            "何某与黄某噪音纠纷",
            "mediation.result",
            "不存在的结果",
        ],
    )
    .await;
    assert!(
        !ok && err.contains("不是字段「mediation.result」的有效取值"),
        "{out}{err}"
    );
    let (ok, out, err) = run_cli(
        &server,
        data,
        &["facts", "何某与黄某噪音纠纷", "夜间施工噪音扰民。"],
    )
    .await;
    assert!(ok, "{out}{err}");
    let (ok, out, err) = run_cli(&server, data, &["sync"]).await;
    assert!(
        ok && out.contains("同步完成") && out.contains("处理 1 个案件"),
        "{out}{err}"
    );
    let (ok, out, err) = run_cli(&server, data, &["cases"]).await;
    assert!(
        ok && out.contains("共 1 个案件") && !out.contains("未同步") && !out.contains("待编号"),
        "{out}{err}"
    );
    let (ok, out, err) = run_cli(&server, data, &["show", "何某与黄某噪音纠纷"]).await;
    assert!(
        ok && out.contains("事实与理由：夜间施工噪音扰民。") && out.contains("状态：可编辑"),
        "{out}{err}"
    );

    // A second tablet sees it; the HTTP transport works from the command line too.
    let other = tempfile::tempdir().expect("a directory");
    let (ok, out, err) = run_cli(&server, other.path(), &["login", "--user", "a2"]).await;
    assert!(ok, "{out}{err}");
    let (ok, out, err) = run_cli(&server, other.path(), &["--transport", "http", "sync"]).await;
    assert!(ok && out.contains("新收到 1 个"), "{out}{err}");
    let (ok, out, err) = run_cli(&server, other.path(), &["notices"]).await;
    assert!(ok && out.contains("没有待确认的通知"), "{out}{err}");
}
