//! The change feed: pages and cursors, and the guarantee that a reader never skips a sequence
//! number that commits later, with two committers writing concurrently (on PostgreSQL, the case a
//! plain sequence would get wrong).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use fengqiao_server::clock::Timestamp;
use fengqiao_server::store::documents::{DocumentCommit, FeedCursor, FeedEntry};
use tokio::task::JoinSet;

use crate::common::*;

fn entries(page: &[FeedEntry]) -> Vec<i64> {
    page.iter().map(|e| e.seq.0).collect()
}

#[tokio::test]
async fn pages_of_the_feed_follow_the_cursor() {
    on_each_backend(|_, store| async move {
        assert_eq!(store.feed_head().await.expect("head"), FeedCursor::START);
        for n in 0..10 {
            let commit = DocumentCommit {
                case_id: case(n),
                chunk: new_document(actor(n)).save(),
                is_new: true,
                actor_bindings: vec![],
                access: None,
                projection: None,
            };
            store.commit(vec![commit], Timestamp::now()).await.expect("commit");
        }
        // (cursor, limit, entries, next cursor)
        let cases = [
            (0, 3, vec![1, 2, 3], 3),
            (3, 3, vec![4, 5, 6], 6),
            (6, 100, vec![7, 8, 9, 10], 10),
            (10, 3, vec![], 10),
            (8, 0, vec![], 8),
        ];
        for (cursor, limit, expected, next) in cases {
            let page = store.feed_since(FeedCursor(cursor), limit).await.expect("feed");
            assert_eq!(entries(&page.entries), expected, "from {cursor}");
            assert_eq!(page.cursor, FeedCursor(next), "from {cursor}");
        }
        let page = store.feed_since(FeedCursor(4), 1).await.expect("feed");
        assert_eq!(page.entries[0].case_id, case(4));
        assert_eq!(store.feed_head().await.expect("head"), FeedCursor(10));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_never_skips_a_number_while_two_committers_race() {
    const BATCHES: usize = 60;
    on_each_backend(|_, store| async move {
        let done = Arc::new(AtomicBool::new(false));
        let mut committers = JoinSet::new();
        // Two committers with their own transactions (not through one group committer), each
        // writing groups of one to three documents.
        for c in 0..2u8 {
            let store = store.clone();
            committers.spawn(async move {
                let mut written = 0;
                for b in 0..BATCHES {
                    let size = 1 + (b % 3);
                    let group = (0..size)
                        .map(|_| DocumentCommit {
                            case_id: random_case(),
                            chunk: new_document(actor(c + 1)).save(),
                            is_new: true,
                            actor_bindings: vec![],
                            access: None,
                            projection: None,
                        })
                        .collect();
                    let outcomes = store.commit(group, Timestamp::now()).await.expect("commit");
                    assert!(outcomes.iter().all(Result::is_ok));
                    written += size;
                }
                written
            });
        }
        let reader = {
            let store = store.clone();
            let done = done.clone();
            tokio::spawn(async move {
                let mut cursor = FeedCursor::START;
                let mut seen = Vec::new();
                loop {
                    // Read `finished` before the page: a page read after both committers ended
                    // holds everything, so an empty one then means the end.
                    let finished = done.load(Ordering::Acquire);
                    let page = store.feed_since(cursor, 7).await.expect("feed");
                    for entry in &page.entries {
                        assert_eq!(
                            entry.seq.0,
                            cursor.0 + 1,
                            "the reader saw {} right after {}",
                            entry.seq.0,
                            cursor.0
                        );
                        cursor = FeedCursor::after(entry.seq);
                        seen.push(entry.seq.0);
                    }
                    if page.entries.is_empty() {
                        if finished {
                            break seen;
                        }
                        tokio::task::yield_now().await;
                    }
                }
            })
        };
        let written: usize = within_deadline("the committers", committers.join_all()).await.into_iter().sum();
        done.store(true, Ordering::Release);
        let seen = within_deadline("the reader", reader).await.expect("reader");
        assert_eq!(seen, (1..=written as i64).collect::<Vec<_>>());
    })
    .await;
}
