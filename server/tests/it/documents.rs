//! Case documents in the store: round trips of snapshot plus chunks, group commit, compaction
//! while writers append, the byte-bounded cache, per-document write serialisation, and actor
//! bindings.

use std::time::Duration;

use automerge::Automerge;
use fengqiao_schema::ids::UserId;
use fengqiao_server::auth::password::Password;
use fengqiao_server::auth::{Auth, AuthSettings, LoginRequest};
use fengqiao_server::clock::Timestamp;
use fengqiao_server::store::cache::{CacheBudget, CachedDocument, DocCache};
use fengqiao_server::store::compaction::CompactionOutcome;
use fengqiao_server::store::documents::{ActorBinding, CommitRefused, DocumentCommit, FeedCursor, FeedSeq};
use fengqiao_server::store::group_commit::{CommitError, GroupCommitBounds, GroupCommitter};
use fengqiao_server::store::live::LiveDocuments;
use fengqiao_server::store::Store;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::common::*;

fn append(case_id: fengqiao_schema::ids::CaseId, chunk: Vec<u8>, is_new: bool) -> DocumentCommit {
    DocumentCommit { case_id, chunk, is_new, actor_bindings: Vec::new(), access: None, projection: None }
}

/// Commits `doc`'s changes since `durable` as one chunk; returns the new durable heads.
async fn commit_changes(
    store: &Store,
    case_id: fengqiao_schema::ids::CaseId,
    doc: &Automerge,
    durable: &[automerge::ChangeHash],
) -> Vec<automerge::ChangeHash> {
    let outcome = store
        .commit(vec![append(case_id, doc.save_after(durable), durable.is_empty())], Timestamp::now())
        .await
        .expect("commit");
    assert!(matches!(outcome[..], [Ok(_)]), "{outcome:?}");
    doc.get_heads()
}

async fn load(store: &Store, case_id: fengqiao_schema::ids::CaseId) -> Automerge {
    store.load_document(case_id).await.expect("load").expect("the document exists").to_automerge().expect("valid")
}

#[tokio::test]
async fn documents_round_trip_through_snapshot_and_chunks() {
    // (name, edits after the first change, compact after this many commits (0 = never))
    let cases: &[(&str, i64, usize)] = &[
        ("one change", 0, 0),
        ("many small commits", 40, 0),
        ("compacted midway", 25, 10),
        ("compacted at the end", 12, 13),
    ];
    on_each_backend(|_, store| async move {
        for &(name, edits, compact_after) in cases {
            let case_id = random_case();
            let mut doc = new_document(actor(1));
            let mut durable = commit_changes(&store, case_id, &doc, &[]).await;
            for n in 1..=edits {
                edit(&mut doc, n);
                durable = commit_changes(&store, case_id, &doc, &durable).await;
                if compact_after > 0 && (n as usize + 1).is_multiple_of(compact_after) {
                    let outcome = store.compact_document(case_id, Timestamp::now()).await.expect("compact");
                    assert!(matches!(outcome, CompactionOutcome::Compacted { .. }), "{name}: {outcome:?}");
                }
            }
            let loaded = load(&store, case_id).await;
            assert_eq!(loaded.get_heads(), doc.get_heads(), "{name}: heads after load");
            assert_eq!(loaded.save(), doc.save(), "{name}: same document");
            assert_eq!(root_int(&loaded, "edits"), (edits > 0).then_some(edits), "{name}");
        }
        assert!(store.load_document(random_case()).await.expect("load").is_none(), "unknown case");
    })
    .await;
}

#[tokio::test]
async fn a_group_commits_in_one_transaction_and_refuses_only_its_bad_members() {
    on_each_backend(|_, store| async move {
        let existing = random_case();
        let doc = new_document(actor(1));
        commit_changes(&store, existing, &doc, &[]).await;
        let fresh = random_case();
        let group = vec![
            append(fresh, new_document(actor(2)).save(), true),
            append(existing, new_document(actor(3)).save(), true),
            append(random_case(), new_document(actor(4)).save(), false),
            append(existing, Vec::new(), false),
            append(existing, new_document(actor(5)).save(), false),
        ];
        let outcomes = store.commit(group, Timestamp::now()).await.expect("the group commits");
        assert_eq!(
            outcomes,
            vec![
                Ok(FeedSeq(2)),
                Err(CommitRefused::DocumentExists),
                Err(CommitRefused::DocumentMissing),
                Err(CommitRefused::EmptyChunk),
                Ok(FeedSeq(3)),
            ]
        );
        // Refused members left no trace: the feed has no gap and the next commit gets seq 4.
        let page = store.feed_since(FeedCursor::START, 100).await.expect("feed");
        assert_eq!(
            page.entries.iter().map(|e| (e.seq.0, e.case_id)).collect::<Vec<_>>(),
            vec![(1, existing), (2, fresh), (3, existing)]
        );
        let next = store
            .commit(vec![append(fresh, new_document(actor(6)).save(), false)], Timestamp::now())
            .await
            .expect("commit");
        assert_eq!(next, vec![Ok(FeedSeq(4))]);
        assert_eq!(store.document_stats(existing).await.expect("stats").expect("exists").chunk_count, 2);
    })
    .await;
}

fn committer(store: &Store, bounds: GroupCommitBounds) -> (GroupCommitter, TaskTracker, CancellationToken) {
    let tasks = TaskTracker::new();
    let cancel = CancellationToken::new();
    let committer = GroupCommitter::spawn(store.clone(), bounds, &tasks, cancel.clone());
    (committer, tasks, cancel)
}

async fn stop(tasks: TaskTracker, cancel: CancellationToken) {
    cancel.cancel();
    tasks.close();
    within_deadline("the background tasks", tasks.wait()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_group_committer_waits_for_a_full_group_and_answers_everyone() {
    on_each_backend(|_, store| async move {
        // The linger is far longer than the test: the group is cut by its size, deterministically.
        let bounds =
            GroupCommitBounds { max_commits: 20, linger: Duration::from_secs(600), ..GroupCommitBounds::default() };
        let (committer, tasks, cancel) = committer(&store, bounds);
        let mut writers = JoinSet::new();
        for n in 0..20u8 {
            let committer = committer.clone();
            writers.spawn(async move { committer.commit(append(case(n), new_document(actor(n)).save(), true)).await });
        }
        let mut seqs: Vec<i64> = within_deadline("20 commits", writers.join_all())
            .await
            .into_iter()
            .map(|r| r.expect("committed").0)
            .collect();
        seqs.sort();
        assert_eq!(seqs, (1..=20).collect::<Vec<_>>());
        let stats = committer.stats();
        assert_eq!((stats.groups, stats.commits), (1, 20), "one transaction for the group");
        stop(tasks, cancel).await;
        // After the stop, a commit is refused rather than lost.
        assert_eq!(
            committer.commit(append(case(99), new_document(actor(99)).save(), true)).await,
            Err(CommitError::Unavailable)
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_concurrent_writers_each_get_durable_ordered_commits() {
    const WRITERS: u8 = 16;
    const COMMITS: i64 = 25;
    on_each_backend(|database, store| async move {
        let (committer, tasks, cancel) = committer(&store, GroupCommitBounds::default());
        let mut writers = JoinSet::new();
        for w in 0..WRITERS {
            let committer = committer.clone();
            writers.spawn(async move {
                let case_id = case(w);
                let mut doc = new_document(actor(w + 1));
                let mut durable = Vec::new();
                let mut seqs = Vec::new();
                for n in 0..COMMITS {
                    if n > 0 {
                        edit(&mut doc, n);
                    }
                    let seq =
                        committer.commit(append(case_id, doc.save_after(&durable), n == 0)).await.expect("committed");
                    durable = doc.get_heads();
                    seqs.push(seq);
                }
                (case_id, doc, seqs)
            });
        }
        let results = within_deadline("the writers", writers.join_all()).await;
        let mut all = Vec::new();
        for (case_id, doc, seqs) in &results {
            assert!(seqs.windows(2).all(|w| w[0] < w[1]), "one writer's commits are ordered");
            all.extend(seqs.iter().map(|s| s.0));
            assert_eq!(load(&store, *case_id).await.get_heads(), doc.get_heads());
        }
        all.sort();
        let total = i64::from(WRITERS) * COMMITS;
        assert_eq!(all, (1..=total).collect::<Vec<_>>(), "every seq once, no gaps");
        let stats = committer.stats();
        assert_eq!(stats.commits, total as u64);
        eprintln!("{:?}: {} commits in {} groups", database.kind, stats.commits, stats.groups);
        stop(tasks, cancel).await;
        // Durable: a store opened afresh on the same database sees every commit.
        store.close().await;
        let reopened = database.open().await;
        assert_eq!(reopened.feed_since(FeedCursor::START, 10_000).await.expect("feed").entries.len() as i64, total);
    })
    .await;
}

#[tokio::test]
async fn compaction_keeps_a_chunk_appended_while_it_folds() {
    on_each_backend(|_, store| async move {
        let case_id = random_case();
        let mut doc = new_document(actor(1));
        let mut durable = commit_changes(&store, case_id, &doc, &[]).await;
        for n in 1..5 {
            edit(&mut doc, n);
            durable = commit_changes(&store, case_id, &doc, &durable).await;
        }
        let input = store.compaction_input(case_id).await.expect("read").expect("chunks to fold");
        let folded = input.fold().expect("fold");
        // A writer appends two chunks between the compaction's read and its write.
        for n in 5..7 {
            edit(&mut doc, n);
            durable = commit_changes(&store, case_id, &doc, &durable).await;
        }
        let outcome = store.apply_compaction(&folded, Timestamp::now()).await.expect("apply");
        assert_eq!(outcome, CompactionOutcome::Compacted { folded_chunks: 5 });
        let stats = store.document_stats(case_id).await.expect("stats").expect("exists");
        assert_eq!((stats.chunk_count, stats.generation), (2, 1));
        assert_eq!(stats.snapshot_heads, folded.heads);
        let stored = store.load_document(case_id).await.expect("load").expect("exists");
        assert_eq!(stored.chunks.len(), 2);
        assert_eq!(stats.chunk_bytes, stored.chunks.iter().map(|c| c.bytes.len()).sum::<usize>());
        assert_eq!(stored.to_automerge().expect("valid").get_heads(), doc.get_heads(), "nothing lost");
        // The same fold applied again (a second compactor) is refused by the generation.
        assert_eq!(
            store.apply_compaction(&folded, Timestamp::now()).await.expect("apply"),
            CompactionOutcome::Superseded
        );
        assert_eq!(store.load_document(case_id).await.expect("load").expect("exists"), stored);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compaction_runs_beside_concurrent_writers_without_losing_changes() {
    on_each_backend(|_, store| async move {
        let (committer, tasks, cancel) = committer(&store, GroupCommitBounds::default());
        let cases: Vec<_> = (0..4).map(|_| random_case()).collect();
        let mut writers = JoinSet::new();
        for (w, case_id) in cases.iter().copied().enumerate() {
            let committer = committer.clone();
            writers.spawn(async move {
                let mut doc = new_document(actor(w as u8 + 1));
                let mut durable = Vec::new();
                for n in 0..60 {
                    if n > 0 {
                        edit(&mut doc, n);
                    }
                    committer.commit(append(case_id, doc.save_after(&durable), n == 0)).await.expect("committed");
                    durable = doc.get_heads();
                }
                (case_id, doc)
            });
        }
        // The compactor keeps going for as long as the writers write (a fixed number of rounds
        // could end before a slow machine's writers have appended anything to fold).
        let writing = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let compactor = {
            let store = store.clone();
            let cases = cases.clone();
            let writing = writing.clone();
            tokio::spawn(async move {
                let mut compacted = 0;
                while writing.load(std::sync::atomic::Ordering::SeqCst) {
                    for case_id in &cases {
                        if let CompactionOutcome::Compacted { .. } =
                            store.compact_document(*case_id, Timestamp::now()).await.expect("compact")
                        {
                            compacted += 1;
                        }
                    }
                    tokio::task::yield_now().await;
                }
                compacted
            })
        };
        let written = within_deadline("the writers", writers.join_all()).await;
        writing.store(false, std::sync::atomic::Ordering::SeqCst);
        let compacted = within_deadline("the compactor", compactor).await.expect("compactor");
        assert!(compacted > 0, "the compactor folded something while the writers wrote");
        for (case_id, doc) in written {
            let stored = store.load_document(case_id).await.expect("load").expect("exists");
            let stats = store.document_stats(case_id).await.expect("stats").expect("exists");
            assert_eq!(stats.chunk_count, stored.chunks.len(), "counters agree with the chunks");
            assert_eq!(stored.to_automerge().expect("valid").get_heads(), doc.get_heads());
            store.compact_document(case_id, Timestamp::now()).await.expect("compact");
            assert_eq!(load(&store, case_id).await.get_heads(), doc.get_heads());
            assert_eq!(store.document_stats(case_id).await.expect("stats").expect("exists").chunk_count, 0);
        }
        stop(tasks, cancel).await;
    })
    .await;
}

#[tokio::test]
async fn compaction_candidates_follow_the_policy() {
    on_each_backend(|_, store| async move {
        // (name, commits, expected to be due with max_chunks = 3)
        let cases = [("fresh, no snapshot yet", 1, true), ("many chunks", 5, true)];
        let mut due = Vec::new();
        for (name, commits, expected) in cases {
            let case_id = random_case();
            let mut doc = new_document(actor(1));
            let mut durable = commit_changes(&store, case_id, &doc, &[]).await;
            for n in 1..commits {
                edit(&mut doc, n);
                durable = commit_changes(&store, case_id, &doc, &durable).await;
            }
            if expected {
                due.push((name, case_id));
            }
        }
        let mut candidates = store.compaction_candidates(3, 100).await.expect("candidates");
        candidates.sort();
        let mut expected: Vec<_> = due.iter().map(|(_, c)| *c).collect();
        expected.sort();
        assert_eq!(candidates, expected);
        let policy = fengqiao_server::store::compaction::CompactionPolicy { max_chunks: 3, ..Default::default() };
        assert_eq!(store.compact_due(&policy, Timestamp::now()).await.expect("pass"), 2);
        // Compacted with a small edit since: one chunk, smaller than its snapshot: not due.
        let (_, case_id) = due[1];
        let mut doc = load(&store, case_id).await;
        let durable = doc.get_heads();
        edit(&mut doc, 99);
        commit_changes(&store, case_id, &doc, &durable).await;
        assert_eq!(store.compaction_candidates(3, 100).await.expect("candidates"), Vec::new());
    })
    .await;
}

fn cached(stored_bytes: usize) -> CachedDocument {
    CachedDocument { stored_bytes, ..CachedDocument::empty() }
}

#[test]
fn the_cache_holds_to_its_byte_budget_and_evicts_the_least_recently_used() {
    // Each document counts as stored_bytes × 10 + 16 KiB; the budget fits three of 1 KiB.
    let budget = CacheBudget { bytes: 3 * (10 * 1024 + 16 * 1024), memory_per_stored_byte: 10 };
    enum Op {
        Insert(u8, usize),
        Use(u8),
    }
    use Op::*;
    // (name, operations, cached afterwards, evicted by the last operation)
    type Case = (&'static str, Vec<Op>, Vec<u8>, Vec<u8>);
    let cases: Vec<Case> = vec![
        ("fits", vec![Insert(1, 1024), Insert(2, 1024), Insert(3, 1024)], vec![1, 2, 3], vec![]),
        (
            "oldest goes",
            vec![Insert(1, 1024), Insert(2, 1024), Insert(3, 1024), Insert(4, 1024)],
            vec![2, 3, 4],
            vec![1],
        ),
        (
            "a use makes a document young",
            vec![Insert(1, 1024), Insert(2, 1024), Insert(3, 1024), Use(1), Insert(4, 1024)],
            vec![1, 3, 4],
            vec![2],
        ),
        (
            "a large one evicts several",
            vec![Insert(1, 1024), Insert(2, 1024), Insert(3, 1024), Insert(4, 3600)],
            vec![3, 4],
            vec![1, 2],
        ),
        ("larger than the budget: not kept", vec![Insert(1, 1024), Insert(2, 10_000)], vec![1], vec![2]),
        (
            "replacing counts once",
            vec![Insert(1, 1024), Insert(1, 1024), Insert(1, 1024), Insert(2, 1024)],
            vec![1, 2],
            vec![],
        ),
    ];
    for (name, ops, expected, expected_evicted) in cases {
        let mut cache = DocCache::new(budget);
        let mut evicted = Vec::new();
        for op in ops {
            evicted = match op {
                Insert(n, bytes) => cache.insert(case(n), cached(bytes)),
                Use(n) => {
                    let doc = cache.take(&case(n)).expect("cached");
                    cache.insert(case(n), doc)
                }
            };
            assert!(cache.used_bytes() <= budget.bytes, "{name}: within budget");
        }
        let held: Vec<u8> = (0..=9).filter(|n| cache.contains(&case(*n))).collect();
        assert_eq!(held, expected, "{name}: cached");
        assert_eq!(evicted, expected_evicted.iter().map(|n| case(*n)).collect::<Vec<_>>(), "{name}: evicted");
        for n in held {
            cache.take(&case(n));
        }
        assert_eq!(cache.used_bytes(), 0, "{name}: taking everything out empties the count");
    }
}

fn live(store: &Store, cache: CacheBudget) -> (LiveDocuments, GroupCommitter, TaskTracker, CancellationToken) {
    let (committer, tasks, cancel) = committer(store, GroupCommitBounds::default());
    (LiveDocuments::new(store.clone(), committer.clone(), DocCache::new(cache), actor(200)), committer, tasks, cancel)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_to_one_document_are_serialised() {
    const WRITERS: i64 = 40;
    on_each_backend(|_, store| async move {
        let (documents, _, tasks, cancel) = live(&store, CacheBudget::default());
        let case_id = random_case();
        documents
            .with_document_mut(case_id, |doc| {
                let mut tx = doc.transaction();
                automerge::transaction::Transactable::put(&mut tx, automerge::ROOT, "count", 0i64).expect("put");
                tx.commit();
            })
            .await
            .expect("create");
        let mut writers = JoinSet::new();
        for _ in 0..WRITERS {
            let documents = documents.clone();
            writers.spawn(async move {
                // Read, yield, write: without the per-document lock two writers would read the
                // same count and one increment would be lost.
                let mut guard = documents.lock(case_id).await.expect("lock");
                let count = root_int(guard.doc(), "count").expect("a count");
                tokio::task::yield_now().await;
                let mut tx = guard.doc_mut().transaction();
                automerge::transaction::Transactable::put(&mut tx, automerge::ROOT, "count", count + 1).expect("put");
                tx.commit();
                guard.commit(Vec::new()).await.expect("commit").expect("a change")
            });
        }
        within_deadline("the writers", writers.join_all()).await;
        let count =
            documents.with_document(case_id, |doc| root_int(doc, "count")).await.expect("read").expect("exists");
        assert_eq!(count, Some(WRITERS));
        assert_eq!(root_int(&load(&store, case_id).await, "count"), Some(WRITERS), "durable too");
        let actor_of_last_change = documents
            .with_document(case_id, |doc| doc.get_last_local_change().map(|c| c.actor_id().clone()))
            .await
            .expect("read");
        assert_eq!(actor_of_last_change, Some(Some(actor(200))), "the server writes under its own actor");
        stop(tasks, cancel).await;
    })
    .await;
}

#[tokio::test]
async fn the_live_cache_keeps_only_durable_state_within_its_budget() {
    on_each_backend(|_, store| async move {
        let budget = CacheBudget { bytes: 256 * 1024, memory_per_stored_byte: 64 };
        let (documents, _, tasks, cancel) = live(&store, budget);
        let cases: Vec<_> = (0..12).map(|_| random_case()).collect();
        for (n, case_id) in cases.iter().enumerate() {
            documents.with_document_mut(*case_id, |doc| *doc = new_document(actor(n as u8 + 1))).await.expect("create");
            let usage = documents.cache_usage();
            assert!(usage.used_bytes <= usage.budget_bytes, "{usage:?}");
        }
        let usage = documents.cache_usage();
        assert!(usage.documents < cases.len(), "older documents were evicted: {usage:?}");
        assert!(documents.is_cached(cases.last().expect("cases")));
        assert!(!documents.is_cached(&cases[0]));
        // An evicted document loads again from the database.
        assert_eq!(
            documents.with_document(cases[0], |doc| doc.get_heads()).await.expect("read"),
            Some(new_document(actor(1)).get_heads())
        );
        // Changes dropped without a commit never reach the cache.
        let before = {
            let mut guard = documents.lock(cases[0]).await.expect("lock");
            let before = guard.doc().get_heads();
            edit(guard.doc_mut(), 1);
            assert!(guard.has_uncommitted_changes());
            before
        };
        assert!(!documents.is_cached(&cases[0]));
        assert_eq!(documents.with_document(cases[0], |doc| doc.get_heads()).await.expect("read"), Some(before));
        assert_eq!(documents.with_document(random_case(), |doc| doc.get_heads()).await.expect("read"), None);
        stop(tasks, cancel).await;
    })
    .await;
}

#[tokio::test]
async fn the_first_binding_of_an_actor_wins() {
    on_each_backend(|_, store| async move {
        seed_people(&store).await;
        let auth = Auth::start(store.clone(), AuthSettings::default(), Timestamp::now()).await.expect("auth");
        for (user, dev) in [("wang.fang", "tablet-1"), ("li.ming", "tablet-2")] {
            auth.login(
                LoginRequest {
                    user_id: UserId::new(user),
                    password: Password::new("correct horse battery"),
                    device_id: device(dev),
                    device_name: dev.into(),
                },
                Timestamp::now(),
            )
            .await
            .expect("login");
        }
        let binding =
            |user: &str, dev: &str| ActorBinding { actor: actor(7), user: UserId::new(user), device: device(dev) };
        let commit = |case_id, user: &str, dev: &str| DocumentCommit {
            case_id,
            chunk: new_document(actor(7)).save(),
            is_new: true,
            actor_bindings: vec![binding(user, dev)],
            access: None,
            projection: None,
        };
        let outcomes = store
            .commit(
                vec![
                    commit(case(1), "wang.fang", "tablet-1"),
                    commit(case(2), "li.ming", "tablet-2"),
                    commit(case(3), "wang.fang", "tablet-1"),
                    commit(case(4), "li.ming", "tablet-1"),
                ],
                Timestamp::now(),
            )
            .await
            .expect("commit");
        let taken = Err(CommitRefused::ActorBoundElsewhere {
            actor: actor(7),
            user: UserId::new("wang.fang"),
            device: device("tablet-1"),
        });
        assert_eq!(outcomes, vec![Ok(FeedSeq(1)), taken.clone(), Ok(FeedSeq(2)), taken.clone()]);
        // In a later group too, and the refused documents were never created.
        let later = store.commit(vec![commit(case(5), "li.ming", "tablet-2")], Timestamp::now()).await.expect("commit");
        assert_eq!(later, vec![taken]);
        assert_eq!(store.actor_binding(&actor(7)).await.expect("binding"), Some(binding("wang.fang", "tablet-1")));
        assert_eq!(store.actor_binding(&actor(8)).await.expect("binding"), None);
        for (n, exists) in [(1, true), (2, false), (3, true), (4, false), (5, false)] {
            assert_eq!(store.load_document(case(n)).await.expect("load").is_some(), exists, "case {n}");
        }
    })
    .await;
}
