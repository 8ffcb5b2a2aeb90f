//! Two servers on one PostgreSQL (only when `FENGQIAO_TEST_POSTGRES_URL` is set): each with its
//! own pools, cache, server actor and `LISTEN` connection, as two processes behind a load balancer
//! would be. A change committed through one reaches a tablet live-connected to the other (by
//! `NOTIFY fengqiao_changes`), the other serves it although it had the case cached, and a tablet
//! that only ever syncs from its cursor on the second server misses none of the changes made
//! through the first while both take writes.

use std::time::Duration;

use fengqiao_schema::fixtures::TOWN_A;
use fengqiao_schema::vocab::CaseKind;
use fengqiao_server::Settings;

use crate::common::*;
use crate::tablet::*;

const EDITS: usize = 12;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_through_one_server_reaches_a_tablet_on_the_other() {
    let Some(server_url) = std::env::var(POSTGRES_ENV).ok().filter(|u| !u.is_empty()) else {
        eprintln!("skipped: set {POSTGRES_ENV} to run the two-server test");
        return;
    };
    let database = TestDatabase::postgres(&server_url).await;
    let first_store = database.open().await;
    seed_county(&first_store).await;
    let mut settings = Settings::with_database(database.url.clone());
    settings.sync.revocation_check = Duration::from_millis(200);
    let one = TestServer::start(first_store.clone(), settings.clone()).await;
    let two = TestServer::start(database.open().await, settings).await;

    let mut a1 = Tablet::login(one.address, "a1", "a1-tablet").await;
    let mut a2 = Tablet::login(two.address, "a2", "a2-tablet").await;
    let mut a2_socket = connect_ws(two.address, &a2.token).await.expect("connect to the second server");
    a2.sync(&mut Transport::WebSocket(&mut a2_socket)).await.expect("a2 syncs");
    assert!(a2.replica.is_empty());

    // A case registered through the first server is announced on the second.
    let case_id = a1.open_case(CaseKind::Dispute, TOWN_A, "两台服务器之间的案件");
    a1.sync_http(one.address).await;
    wait_for_notify(&mut a2_socket).await;
    a2.sync(&mut Transport::WebSocket(&mut a2_socket)).await.expect("a2 syncs");
    assert_eq!(a2.case_number(case_id), a1.case_number(case_id));
    assert!(two.state().documents.is_cached(&case_id), "the second server now has the case cached");

    // Both servers take writes to the same case at once; a2 follows on the second server.
    let writer = {
        let address = one.address;
        tokio::spawn(async move {
            for n in 0..EDITS {
                a1.edit_facts(case_id, &format!("一号服务器第{n}次。"));
                a1.sync_http(address).await;
            }
            a1
        })
    };
    let mut n = 0;
    loop {
        a2.sync(&mut Transport::WebSocket(&mut a2_socket)).await.expect("a2 syncs");
        let seen = (0..EDITS).filter(|i| a2.facts(case_id).contains(&format!("一号服务器第{i}次。"))).count();
        if seen == EDITS {
            break;
        }
        if n < EDITS {
            a2.edit_facts(case_id, &format!("二号服务器第{n}次。"));
            n += 1;
            continue;
        }
        wait_for_notify(&mut a2_socket).await;
    }
    let mut a1 = within_deadline("the first server's writer", writer).await.expect("writer task");

    // Both tablets end with every change, through either server.
    a2.sync(&mut Transport::WebSocket(&mut a2_socket)).await.expect("a2 syncs");
    a1.sync_http(one.address).await;
    let stored = stored_heads(&first_store, case_id).await;
    assert_eq!(Some(a1.heads(case_id)), stored);
    assert_eq!(Some(a2.heads(case_id)), stored);
    for i in 0..n {
        assert!(a1.facts(case_id).contains(&format!("二号服务器第{i}次。")));
    }
    assert_eq!(a1.rejections(), Vec::<String>::new());
    assert_eq!(a2.rejections(), Vec::<String>::new());
    one.stop().await;
    two.stop().await;
}
