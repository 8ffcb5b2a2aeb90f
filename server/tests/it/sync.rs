//! The sync endpoints end to end, on a real socket, with tablets driving `ClientSession` over
//! WebSocket and HTTP: a case opened offline is registered with a number, reaches the other users
//! who read it through the feed, and live connections are told of changes; a case that becomes
//! restricted is `gone` for those who no longer read it; writes without the right are compensated;
//! revoking a device closes its connections at once; shutdown closes live connections; metrics.

use std::time::Duration;

use fengqiao_schema::fixtures::{PETITION, TOWN_A};
use fengqiao_schema::time::Instant;
use fengqiao_schema::vocab::CaseKind;
use fengqiao_server::clock::Timestamp;
use fengqiao_server::store::Store;
use fengqiao_server::Settings;
use fengqiao_sync::protocol::{ErrorCode, ServerMessage};
use fengqiao_sync::session::Notice;

use crate::common::*;
use crate::tablet::*;

fn settings(database: &TestDatabase) -> Settings {
    let mut settings = Settings::with_database(database.url.clone());
    settings.sync.revocation_check = Duration::from_millis(100);
    settings
}

fn this_year() -> String {
    Instant::from_unix(Timestamp::now().secs()).china_date().to_string()[..4].to_string()
}

async fn start(database: &TestDatabase, store: &Store) -> TestServer {
    seed_county(store).await;
    TestServer::start(store.clone(), settings(database)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_opened_offline_is_registered_and_reaches_the_county_and_live_tablets() {
    on_each_backend(|database, store| async move {
        let server = start(&database, &store).await;
        let address = server.address;

        // A mediator opens two cases offline and syncs over HTTP: both are registered, numbered
        // in order, and acknowledged.
        let mut a1 = Tablet::login(address, "a1", "a1-tablet").await;
        let first = a1.open_case(CaseKind::Dispute, TOWN_A, "张某与李某宅基地纠纷");
        a1.edit_facts(first, "双方因宅基地边界发生争执。");
        let second = a1.open_case(CaseKind::Dispute, TOWN_A, "王某与赵某借款纠纷");
        a1.sync_http(address).await;
        let year = this_year();
        let mut numbers = vec![a1.case_number(first), a1.case_number(second)];
        numbers.sort();
        assert_eq!(
            numbers,
            vec![Some(format!("（{year}）东溪镇调字第1号")), Some(format!("（{year}）东溪镇调字第2号"))]
        );
        assert!(a1.pending.is_empty(), "everything acknowledged: {:?}", a1.pending);
        assert_eq!(a1.rejections(), Vec::<String>::new());
        assert_eq!(Some(a1.heads(first)), stored_heads(&store, first).await);

        // The county supervisor's fresh tablet gets both through the feed, over a WebSocket.
        let mut chief = Tablet::login(address, "chief", "chief-tablet").await;
        let mut chief_socket = connect_ws(address, &chief.token).await.expect("connect");
        chief.sync(&mut Transport::WebSocket(&mut chief_socket)).await.expect("chief syncs");
        assert_eq!(chief.replica.keys().copied().collect::<Vec<_>>(), sorted(vec![first, second]));
        assert_eq!(chief.facts(first), "双方因宅基地边界发生争执。");

        // A colleague's tablet, connected and idle, is told when a1 edits; its next session
        // brings the edit.
        let mut a2 = Tablet::login(address, "a2", "a2-tablet").await;
        let mut a2_socket = connect_ws(address, &a2.token).await.expect("connect");
        a2.sync(&mut Transport::WebSocket(&mut a2_socket)).await.expect("a2 syncs");
        assert_eq!(a2.facts(first), "双方因宅基地边界发生争执。");
        a1.edit_facts(first, "村委会已介入。");
        a1.sync_http(address).await;
        wait_for_notify(&mut a2_socket).await;
        a2.sync(&mut Transport::WebSocket(&mut a2_socket)).await.expect("a2 syncs again");
        assert_eq!(a2.facts(first), "双方因宅基地边界发生争执。村委会已介入。");
        wait_for_notify(&mut chief_socket).await;
        chief.sync(&mut Transport::WebSocket(&mut chief_socket)).await.expect("chief syncs again");

        // a2 edits over its WebSocket; a1 hears of it through the feed.
        a2.edit_facts(second, "借款金额五万元。");
        a2.sync(&mut Transport::WebSocket(&mut a2_socket)).await.expect("a2 sends its edit");
        assert!(a2.pending.is_empty());
        a1.sync_http(address).await;
        assert_eq!(a1.facts(second), "借款金额五万元。");

        // Everyone who reads the cases agrees with the server; the other township sees nothing.
        wait_for_notify(&mut chief_socket).await;
        chief.sync(&mut Transport::WebSocket(&mut chief_socket)).await.expect("chief syncs last");
        for case_id in [first, second] {
            let server = stored_heads(&store, case_id).await;
            assert_eq!(Some(a1.heads(case_id)), server);
            assert_eq!(Some(a2.heads(case_id)), server);
            assert_eq!(Some(chief.heads(case_id)), server);
        }
        let mut b1 = Tablet::login(address, "b1", "b1-tablet").await;
        b1.sync_http(address).await;
        assert!(b1.replica.is_empty());

        // The operators see it all in /metrics.
        let (status, body) = http_request(address, "GET", "/metrics", &[], Vec::new()).await.expect("metrics");
        let text = String::from_utf8(body).expect("text");
        assert_eq!(status, 200);
        for expected in [
            "fengqiao_sync_cases_registered_total 2",
            "fengqiao_sync_live_connections 2",
            "fengqiao_commit_seconds_bucket",
            "fengqiao_sync_rejects_total{code=\"not_found\"} 0",
            "fengqiao_cache_bytes",
        ] {
            assert!(text.contains(expected), "{expected} in\n{text}");
        }

        // A mediator of another township, connected and idle, is not told of a1's next edit; a2
        // is.
        let b1_live = Tablet::login(address, "b1", "b1-phone").await;
        let mut b1_socket = connect_ws(address, &b1_live.token).await.expect("connect");
        a1.edit_facts(first, "双方同意再次协商。");
        a1.sync_http(address).await;
        wait_for_notify(&mut a2_socket).await;
        wait_for_notify(&mut chief_socket).await;
        let told = tokio::time::timeout(Duration::from_millis(300), next_message(&mut b1_socket)).await;
        assert!(told.is_err(), "another township's tablet hears nothing: {told:?}");

        server.stop().await;
        // Shutdown closed the live connections, with a last word.
        for socket in [&mut a2_socket, &mut chief_socket] {
            match next_message(socket).await {
                Some(ServerMessage::Error(failure)) => assert_eq!(failure.code, ErrorCode::Unavailable),
                other => panic!("expected unavailable on shutdown, got {other:?}"),
            }
            assert!(next_message(socket).await.is_none(), "closed after the error");
        }
    })
    .await;
}

fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_that_becomes_restricted_is_gone_for_those_who_no_longer_read_it() {
    on_each_backend(|database, store| async move {
        let server = start(&database, &store).await;
        let address = server.address;
        let mut p1 = Tablet::login(address, "p1", "p1-tablet").await;
        let case_id = p1.open_case(CaseKind::Petition, PETITION, "某村民反映村干部问题");
        p1.sync_http(address).await;
        let year = this_year();
        assert_eq!(p1.case_number(case_id), Some(format!("（{year}）县信访局信字第1号")));

        let mut clerk = Tablet::login(address, "clerk", "clerk-tablet").await;
        let mut chief = Tablet::login(address, "chief", "chief-tablet").await;
        clerk.sync_http(address).await;
        chief.sync_http(address).await;
        assert!(clerk.replica.contains_key(&case_id));
        assert!(chief.replica.contains_key(&case_id));

        // Recorded as an accusation: only the custodian unit and the county's supervisors read it.
        p1.set_field(case_id, "petition", "category", "accusation");
        p1.sync_http(address).await;
        assert_eq!(p1.rejections(), Vec::<String>::new());

        clerk.sync_http(address).await;
        assert!(!clerk.replica.contains_key(&case_id), "gone for a county officer");
        chief.sync_http(address).await;
        assert!(chief.replica.contains_key(&case_id), "still read by the county supervisor");
        assert_eq!(Some(chief.heads(case_id)), stored_heads(&store, case_id).await);
        // A fresh tablet of the clerk does not get it either.
        let mut fresh = Tablet::login(address, "clerk", "clerk-tablet-2").await;
        fresh.sync_http(address).await;
        assert!(fresh.replica.is_empty());
        server.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_without_the_right_is_stored_then_reverted_and_the_author_told() {
    on_each_backend(|database, store| async move {
        let server = start(&database, &store).await;
        let address = server.address;
        let mut a1 = Tablet::login(address, "a1", "a1-tablet").await;
        let case_id = a1.open_case(CaseKind::Dispute, TOWN_A, "张某与李某相邻纠纷");
        a1.sync_http(address).await;

        // A township mediator may not fill in the petition record of a mediation case.
        a1.set_field(case_id, "petition", "category", "accusation");
        a1.edit_facts(case_id, "补充事实。");
        a1.sync_http(address).await;
        let compensations: Vec<(String, String)> = a1
            .notices
            .iter()
            .filter_map(|n| match n {
                Notice::Compensated { doc_id, compensation } if *doc_id == case_id => {
                    Some((compensation.section.clone(), compensation.review_item.clone()))
                }
                _ => None,
            })
            .collect();
        assert_eq!(compensations.len(), 1, "{:?}", a1.notices);
        assert_eq!(compensations[0].0, "petition");
        assert!(!compensations[0].1.is_empty());
        // The allowed edit stays, the petition record is restored, everyone converges.
        a1.sync_http(address).await;
        assert_eq!(a1.facts(case_id), "补充事实。");
        assert_eq!(Some(a1.heads(case_id)), stored_heads(&store, case_id).await);
        let (status, body) = http_request(address, "GET", "/metrics", &[], Vec::new()).await.expect("metrics");
        assert_eq!(status, 200);
        assert!(String::from_utf8(body).expect("text").contains("fengqiao_sync_compensations_total 1"));
        server.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_a_device_or_user_closes_their_live_connections_at_once() {
    on_each_backend(|database, store| async move {
        let server = start(&database, &store).await;
        let address = server.address;
        let a1 = Tablet::login(address, "a1", "a1-tablet").await;
        let a2 = Tablet::login(address, "a2", "a2-tablet").await;
        let mut a1_socket = connect_ws(address, &a1.token).await.expect("connect");
        let mut a2_socket = connect_ws(address, &a2.token).await.expect("connect");

        // Revoked as the administration command line does it: straight in the database, from
        // "another process". The server notices within its check interval.
        store.revoke_device(&device("a1-tablet"), Timestamp::now()).await.expect("revoke");
        match next_message(&mut a1_socket).await {
            Some(ServerMessage::Error(failure)) => assert_eq!(failure.code, ErrorCode::DeviceRevoked),
            other => panic!("expected device_revoked, got {other:?}"),
        }
        assert!(next_message(&mut a1_socket).await.is_none());
        // The token no longer opens a connection or a session.
        match connect_ws(address, &a1.token).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => assert_eq!(response.status(), 403),
            other => panic!("expected 403, got {:?}", other.map(|_| ())),
        }
        let hello = fengqiao_sync::protocol::ClientMessage::Hello(fengqiao_sync::protocol::Hello {
            cursor: None,
            agent: "test".into(),
        });
        let (status, answer) = post_sync(address, &a1.token, hello.encode()).await.expect("answer");
        assert_eq!(status, 403);
        assert!(matches!(answer, ServerMessage::Error(f) if f.code == ErrorCode::DeviceRevoked));

        // Revoking a user in this process closes their connections without waiting.
        server.state().sync.revoke_user(&fengqiao_schema::ids::UserId::new("a2"));
        match next_message(&mut a2_socket).await {
            Some(ServerMessage::Error(failure)) => assert_eq!(failure.code, ErrorCode::DeviceRevoked),
            other => panic!("expected device_revoked, got {other:?}"),
        }
        server.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_may_hold_only_so_many_live_connections() {
    let database = TestDatabase::sqlite().await;
    let store = database.open().await;
    seed_county(&store).await;
    let mut settings = settings(&database);
    settings.sync.max_connections_per_device = 2;
    let server = TestServer::start(store.clone(), settings).await;
    let a1 = Tablet::login(server.address, "a1", "a1-tablet").await;
    let first = connect_ws(server.address, &a1.token).await.expect("first");
    let second = connect_ws(server.address, &a1.token).await.expect("second");
    match connect_ws(server.address, &a1.token).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 429);
            let body = response.body().as_ref().expect("a body");
            let message = ServerMessage::decode(body, &Default::default()).expect("a protocol error");
            assert!(matches!(message, ServerMessage::Error(f) if f.code == ErrorCode::Unavailable && f.retry));
        }
        other => panic!("expected 429, got {:?}", other.map(|_| ())),
    }
    // Closing one makes room.
    drop(first);
    let third = within_deadline("a connection once another closed", async {
        loop {
            if let Ok(socket) = connect_ws(server.address, &a1.token).await {
                return socket;
            }
            tokio::task::yield_now().await;
        }
    })
    .await;
    drop((second, third));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_subprotocol_carries_the_token_for_browsers() {
    let database = TestDatabase::sqlite().await;
    let store = database.open().await;
    let server = start(&database, &store).await;
    let a1 = Tablet::login(server.address, "a1", "a1-tablet").await;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = format!("ws://{}/v1/sync", server.address).into_client_request().expect("request");
    request
        .headers_mut()
        .insert("sec-websocket-protocol", format!("fengqiao.v1, bearer.{}", a1.token).parse().expect("header"));
    let (mut socket, response) = tokio_tungstenite::connect_async(request).await.expect("upgrade");
    assert_eq!(response.headers().get("sec-websocket-protocol").map(|v| v.to_str().unwrap()), Some("fengqiao.v1"));
    let mut tablet = Tablet::new("a1", a1.token.clone());
    tablet.sync(&mut Transport::WebSocket(&mut socket)).await.expect("a session over the subprotocol");
    assert!(tablet.cursor.is_some());
    server.stop().await;
}
