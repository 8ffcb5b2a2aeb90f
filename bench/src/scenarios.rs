//! The scenarios of the benchmark issue:
//! (a) a fresh tablet's bootstrap of `cases` cases; (b) reconnect after offline (50 changed on the
//! tablet, 100 on the server); (c) ingest: 100 devices pushing changes, durable commits per second;
//! (d) fan-out: 500 WebSocket devices, one edit per second each, edit-to-other-device latency;
//! (e) server memory with 100,000 cases stored while a bootstrap runs.
//! (a) and (b) also run against the automerge-repo sync server on the same documents and edits.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant as WallClock, SystemTime, UNIX_EPOCH};

use anyhow::{ensure, Context, Result};
use automerge::ReadDoc;
use fengqiao_client::{Client, WatchEvent};
use fengqiao_schema::ids::CaseId;
use tokio_util::sync::CancellationToken;

use crate::automerge_repo::{self, DocEdits, EditOp, RepoServer};
use crate::fengqiao::{self, author_cases, device, Content, Server};
use crate::light::LightDevice;
use crate::procstat::{Meter, Process, Usage};
use crate::proxy::Proxy;
use crate::report::{Measurement, Report, Target};

/// What a run measures and where it works.
#[derive(Clone, Debug)]
pub struct Setup {
    pub server_bin: PathBuf,
    pub node_dir: PathBuf,
    pub work: PathBuf,
    /// Cases of (a) and (b).
    pub cases: usize,
    /// Tablet-side and server-side changed cases of (b).
    pub local_changes: usize,
    pub server_changes: usize,
    /// Devices of (c) and how long they push.
    pub ingest_devices: usize,
    pub ingest_seconds: u64,
    /// Devices of (d) (in pairs) and how long they edit.
    pub fanout_devices: usize,
    pub fanout_seconds: u64,
    /// Cases stored for (e), and where the populated database is kept between runs.
    pub stored_cases: usize,
    pub cache: PathBuf,
    /// Run the automerge-repo side of (a) and (b).
    pub compare: bool,
}

const APPENDED: &str = "（补充）双方于十一月二十日再次协商，同意按原协议履行。";

fn edits_for(ids: &[String], text: &str) -> Vec<DocEdits> {
    ids.iter()
        .map(|id| DocEdits {
            id: id.clone(),
            ops: vec![EditOp::Append { path: vec!["claims".into(), "facts".into()], text: text.into() }],
        })
        .collect()
}

/// (a) and (b), on both systems.
pub async fn bootstrap_and_reconnect(setup: &Setup, report: &mut Report) -> Result<()> {
    let work = setup.work.join("ab");
    let server = Server::start(&setup.server_bin, &work.join("server"), Some(&fengqiao::org_file(1, 3))).await?;
    eprintln!("(a) {} cases written by an authoring device…", setup.cases);
    let author = device(&work.join("author"), &server.url(), &fengqiao::user(0, 0)).await?;
    let ids = author_cases(&author, setup.cases, Content::Full, 200).await?;

    // (a) Fengqiao: a fresh tablet of another mediator of the township, through the proxy.
    let proxy = Proxy::start(server.address()).await?;
    let tablet = device(&work.join("tablet"), &format!("http://{}", proxy.address()), &fengqiao::user(0, 1)).await?;
    proxy.reset();
    tablet.reset_wire_stats();
    let (server_meter, client_meter) = (Meter::start(Process::Pid(server.pid()))?, Meter::start(Process::This)?);
    let started = WallClock::now();
    let sync = tablet.sync().await?;
    let wall_ms = started.elapsed().as_secs_f64() * 1000.0;
    let (server_usage, client_usage) = (server_meter.finish()?, client_meter.finish()?);
    let held = tablet.cases().await?.len();
    ensure!(held == setup.cases, "the tablet holds {held} cases after bootstrap, not {}", setup.cases);
    let document_bytes = saved_size(&tablet, &ids).await?;
    report.measurements.push(Measurement {
        scenario: "a".into(),
        system: "fengqiao".into(),
        wall_ms,
        traffic: proxy.traffic(),
        server: server_usage,
        client: client_usage,
        figures: BTreeMap::from([
            ("cases".into(), setup.cases as f64),
            ("protocol_rounds".into(), sync.rounds as f64),
            ("saved_documents_bytes".into(), document_bytes as f64),
        ]),
    });
    report.targets.push(Target::below("a", "Fengqiao bootstrap wall ms", wall_ms, 1000.0));

    // The same documents for automerge-repo, as the tablet now holds them.
    let docs_dir = work.join("documents");
    std::fs::create_dir_all(&docs_dir)?;
    let mut files = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let file = docs_dir.join(format!("{i}.automerge"));
        std::fs::write(&file, tablet.document(*id).await?.save())?;
        files.push(file);
    }

    // (b) Fengqiao: the tablet offline changes 50 cases; the author changes 100 others on the
    // server; the tablet comes back.
    let local: Vec<CaseId> = ids.iter().take(setup.local_changes).copied().collect();
    let remote: Vec<CaseId> = ids.iter().skip(setup.cases / 2).take(setup.server_changes).copied().collect();
    let mut before = BTreeMap::new();
    for id in local.iter().chain(&remote) {
        before.insert(*id, tablet.heads(*id).await?);
    }
    for id in &local {
        tablet.append_facts(*id, APPENDED).await?;
    }
    for id in &remote {
        author.append_facts(*id, APPENDED).await?;
    }
    author.sync().await?;
    proxy.reset();
    tablet.reset_wire_stats();
    let (server_meter, client_meter) = (Meter::start(Process::Pid(server.pid()))?, Meter::start(Process::This)?);
    let started = WallClock::now();
    let sync = tablet.sync().await?;
    let wall_ms = started.elapsed().as_secs_f64() * 1000.0;
    let (server_usage, client_usage) = (server_meter.finish()?, client_meter.finish()?);
    ensure!(tablet.pending_cases().await?.is_empty(), "the tablet's changes were all acknowledged");
    let mut change_bytes = 0u64;
    for (id, heads) in &before {
        let doc = tablet.document(*id).await?;
        ensure!(
            doc_text(&doc, &["claims", "facts"]).contains(APPENDED),
            "case {id} has the appended facts after reconnect"
        );
        change_bytes += doc.get_changes(heads).iter().map(|c| c.raw_bytes().len() as u64).sum::<u64>();
    }
    let traffic = proxy.traffic();
    report.measurements.push(Measurement {
        scenario: "b".into(),
        system: "fengqiao".into(),
        wall_ms,
        traffic,
        server: server_usage,
        client: client_usage,
        figures: BTreeMap::from([
            ("changed_cases".into(), before.len() as f64),
            ("change_bytes".into(), change_bytes as f64),
            ("wire_to_change_ratio".into(), traffic.bytes() as f64 / change_bytes.max(1) as f64),
            ("protocol_rounds".into(), sync.rounds as f64),
        ]),
    });
    report.targets.push(Target::below(
        "b",
        "bytes on the wire ÷ size of the changes",
        traffic.bytes() as f64 / change_bytes.max(1) as f64,
        2.0,
    ));
    drop(proxy);
    server.stop().await?;

    if setup.compare {
        automerge_repo_side(setup, &work, &files, report).await?;
        for (scenario, factor) in [("a", 5.0), ("b", 20.0)] {
            if let (Some(ours), Some(theirs)) = (report.find(scenario, "fengqiao"), report.find(scenario, "automerge-repo"))
            {
                let ratio = theirs.wall_ms / ours.wall_ms;
                report.targets.push(Target::at_least(scenario, "automerge-repo wall ÷ Fengqiao wall", ratio, factor));
            }
        }
    }
    Ok(())
}

async fn automerge_repo_side(setup: &Setup, work: &Path, files: &[PathBuf], report: &mut Report) -> Result<()> {
    let dir = automerge_repo::prepare(&setup.node_dir)?;
    let server = RepoServer::start(&dir, &work.join("arepo-server")).await?;
    eprintln!("(a) automerge-repo: importing {} documents…", files.len());
    let ids = server.import(files).await?;
    let ids_file = work.join("arepo-ids.json");
    std::fs::write(&ids_file, serde_json::to_vec(&ids)?)?;
    let proxy = Proxy::start(server.address()).await?;
    let url = format!("ws://{}", proxy.address());
    let storage = work.join("arepo-tablet");
    let arg = |p: &Path| p.display().to_string();

    let meter = Meter::start(Process::Pid(server.pid()))?;
    let run = automerge_repo::run_client(
        &dir,
        "bootstrap",
        &[("url", url.clone()), ("ids", arg(&ids_file)), ("storage", arg(&storage))],
    )
    .await?;
    report.measurements.push(Measurement {
        scenario: "a".into(),
        system: "automerge-repo".into(),
        wall_ms: run.wall_ms,
        traffic: proxy.traffic(),
        server: meter.finish()?,
        client: Usage { cpu_ms: run.cpu_ms, peak_rss_bytes: run.peak_rss_bytes },
        figures: BTreeMap::from([("cases".into(), ids.len() as f64)]),
    });

    // (b): the same 50 edits on the tablet offline, the same 100 on the server.
    let local_ids: Vec<String> = ids.iter().take(setup.local_changes).cloned().collect();
    let remote_ids: Vec<String> = ids.iter().skip(setup.cases / 2).take(setup.server_changes).cloned().collect();
    let edits_file = work.join("arepo-local-edits.json");
    std::fs::write(&edits_file, serde_json::to_vec(&edits_for(&local_ids, APPENDED))?)?;
    automerge_repo::run_client(
        &dir,
        "offline-edit",
        &[("ids", arg(&ids_file)), ("storage", arg(&storage)), ("edits", arg(&edits_file))],
    )
    .await?;
    server.edit(&edits_for(&remote_ids, APPENDED)).await?;
    proxy.reset();
    let meter = Meter::start(Process::Pid(server.pid()))?;
    let run = automerge_repo::run_client(
        &dir,
        "reconnect",
        &[
            ("url", url),
            ("ids", arg(&ids_file)),
            ("storage", arg(&storage)),
            ("server", format!("http://{}", server.address())),
        ],
    )
    .await?;
    report.measurements.push(Measurement {
        scenario: "b".into(),
        system: "automerge-repo".into(),
        wall_ms: run.wall_ms,
        traffic: proxy.traffic(),
        server: meter.finish()?,
        client: Usage { cpu_ms: run.cpu_ms, peak_rss_bytes: run.peak_rss_bytes },
        figures: BTreeMap::from([("changed_cases".into(), (local_ids.len() + remote_ids.len()) as f64)]),
    });
    drop(proxy);
    server.stop().await;
    Ok(())
}

async fn saved_size(client: &Client, ids: &[CaseId]) -> Result<u64> {
    let mut total = 0;
    for id in ids {
        total += client.document(*id).await?.save().len() as u64;
    }
    Ok(total)
}

fn doc_text(doc: &automerge::Automerge, path: &[&str]) -> String {
    let mut object = automerge::ROOT;
    for key in path {
        match doc.get(&object, *key) {
            Ok(Some((automerge::Value::Object(_), id))) => object = id,
            _ => return String::new(),
        }
    }
    doc.text(&object).unwrap_or_default()
}

/// (c) `ingest_devices` devices (of as many townships) each editing its own case and syncing it
/// on its open WebSocket, as fast as the server answers, for `ingest_seconds`: durable commits per
/// second. The devices are light devices (`crate::light`): the real protocol and real changes,
/// their documents in memory, so that the two cores go to the server and not to a hundred SQLite
/// replicas. The same load from full clients (`ingest_full_clients`) is reported beside it.
pub async fn ingest(setup: &Setup, report: &mut Report) -> Result<()> {
    let work = setup.work.join("c");
    let n = setup.ingest_devices;
    let server = Server::start(&setup.server_bin, &work.join("server"), Some(&fengqiao::org_file(n, 1))).await?;
    let proxy = Proxy::start(server.address()).await?;
    let url = format!("http://{}", proxy.address());
    eprintln!("(c) {n} light devices log in and open a case each…");
    let http = reqwest::Client::new();
    let mut devices = Vec::new();
    for t in 0..n {
        let mut device = LightDevice::login(&http, &url, &fengqiao::user(t, 0)).await?;
        let case = device.open_case("宅基地边界纠纷", Content::Intake, t)?;
        device.sync().await?;
        ensure!(device.pending() == 0, "device {t}'s new case was acknowledged");
        devices.push((device, case));
    }
    let commits_before = server.metric("fengqiao_commit_seconds_count").await?;
    let changes_before = server.metric("fengqiao_sync_changes_ingested_total").await?;
    proxy.reset();
    let (server_meter, client_meter) = (Meter::start(Process::Pid(server.pid()))?, Meter::start(Process::This)?);
    let stop = Arc::new(AtomicBool::new(false));
    let started = WallClock::now();
    let mut tasks = Vec::new();
    for (i, (mut device, case)) in devices.into_iter().enumerate() {
        let stop = stop.clone();
        tasks.push(tokio::spawn(async move {
            let (mut edits, mut acknowledged, mut rounds) = (0u64, 0u64, 0u64);
            while !stop.load(Ordering::Relaxed) {
                edits += 1;
                device.append(case, &["claims", "facts"], &format!("第{edits}次补充（设备{i}）。"))?;
                rounds += device.sync().await?.rounds;
                if device.pending() == 0 {
                    acknowledged += 1;
                }
            }
            ensure!(device.notices == 0, "device {i} was shown {} refusals", device.notices);
            device.close().await;
            anyhow::Ok((edits, acknowledged, rounds))
        }));
    }
    tokio::time::sleep(Duration::from_secs(setup.ingest_seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let (mut acknowledged, mut rounds, mut edits) = (0, 0, 0);
    for task in tasks {
        let (e, a, r) = task.await??;
        edits += e;
        acknowledged += a;
        rounds += r;
    }
    let wall = started.elapsed().as_secs_f64();
    let (server_usage, client_usage) = (server_meter.finish()?, client_meter.finish()?);
    let commits = server.metric("fengqiao_commit_seconds_count").await? - commits_before;
    let changes = server.metric("fengqiao_sync_changes_ingested_total").await? - changes_before;
    ensure!(acknowledged == edits, "{} of {edits} edits were not acknowledged", edits - acknowledged);
    let per_second = commits / wall;
    report.measurements.push(Measurement {
        scenario: "c".into(),
        system: "fengqiao".into(),
        wall_ms: wall * 1000.0,
        traffic: proxy.traffic(),
        server: server_usage,
        client: client_usage,
        figures: BTreeMap::from([
            ("devices".into(), n as f64),
            ("durable_commits".into(), commits),
            ("changes_ingested".into(), changes),
            ("acknowledged_syncs".into(), acknowledged as f64),
            ("protocol_rounds".into(), rounds as f64),
            ("commits_per_second".into(), per_second),
            ("server_cpu_ms_per_commit".into(), server_usage.cpu_ms / commits.max(1.0)),
        ]),
    });
    report.targets.push(Target::at_least("c", "durable commits per second (SQLite, synchronous=FULL)", per_second, 2000.0));
    drop(proxy);
    server.stop().await
}

/// (c) again with full clients (`fengqiao_client::Client`, each with its SQLite replica, syncing
/// from `watch`): what the same load costs when the devices run in this process on the same cores.
pub async fn ingest_full_clients(setup: &Setup, report: &mut Report) -> Result<()> {
    let work = setup.work.join("c-full");
    let n = setup.ingest_devices;
    let server = Server::start(&setup.server_bin, &work.join("server"), Some(&fengqiao::org_file(n, 1))).await?;
    let proxy = Proxy::start(server.address()).await?;
    let url = format!("http://{}", proxy.address());
    eprintln!("(c) {n} full clients log in and open a case each…");
    let mut devices = Vec::new();
    for t in 0..n {
        let client = device(&work.join(format!("device{t}")), &url, &fengqiao::user(t, 0)).await?;
        let case = author_cases(&client, 1, Content::Intake, 1).await?[0];
        devices.push((client, case));
    }
    let commits_before = server.metric("fengqiao_commit_seconds_count").await?;
    proxy.reset();
    let (server_meter, client_meter) = (Meter::start(Process::Pid(server.pid()))?, Meter::start(Process::This)?);
    let stop = Arc::new(AtomicBool::new(false));
    let acknowledged = Arc::new(AtomicU64::new(0));
    let started = WallClock::now();
    let mut tasks = Vec::new();
    let cancel = CancellationToken::new();
    for (i, (client, case)) in devices.into_iter().enumerate() {
        let (stop, acknowledged, cancel) = (stop.clone(), acknowledged.clone(), cancel.clone());
        tasks.push(tokio::spawn(async move {
            // One WebSocket per device, kept open; each edit is sent as soon as it is made.
            let (synced_tx, mut synced) = tokio::sync::mpsc::unbounded_channel();
            let watcher = client.clone();
            let watch = tokio::spawn(async move {
                watcher
                    .watch(cancel.cancelled_owned(), Duration::from_secs(1), move |event| {
                        if let WatchEvent::Synced(_) = event {
                            let _ = synced_tx.send(());
                        }
                    })
                    .await
            });
            let mut edits = 0u64;
            while !stop.load(Ordering::Relaxed) {
                edits += 1;
                client.append_facts(case, &format!("第{edits}次补充（设备{i}）。")).await?;
                // Wait for the session that carried it (the watch ends when the run stops).
                let mut carried = false;
                while synced.recv().await.is_some() {
                    if client.pending_cases().await?.is_empty() {
                        carried = true;
                        break;
                    }
                }
                if carried {
                    acknowledged.fetch_add(1, Ordering::Relaxed);
                }
            }
            watch.await??;
            anyhow::Ok(())
        }));
    }
    tokio::time::sleep(Duration::from_secs(setup.ingest_seconds)).await;
    stop.store(true, Ordering::Relaxed);
    cancel.cancel();
    for task in tasks {
        task.await??;
    }
    let wall = started.elapsed().as_secs_f64();
    let (server_usage, client_usage) = (server_meter.finish()?, client_meter.finish()?);
    let commits = server.metric("fengqiao_commit_seconds_count").await? - commits_before;
    report.measurements.push(Measurement {
        scenario: "c".into(),
        system: "fengqiao (full clients)".into(),
        wall_ms: wall * 1000.0,
        traffic: proxy.traffic(),
        server: server_usage,
        client: client_usage,
        figures: BTreeMap::from([
            ("devices".into(), n as f64),
            ("durable_commits".into(), commits),
            ("acknowledged_syncs".into(), acknowledged.load(Ordering::Relaxed) as f64),
            ("commits_per_second".into(), commits / wall),
            ("server_cpu_ms_per_commit".into(), server_usage.cpu_ms / commits.max(1.0)),
        ]),
    });
    drop(proxy);
    server.stop().await
}

/// (d) `fanout_devices` light devices on WebSockets, in pairs of mediators of one township; each
/// edits its own case once a second, stamped with the time of the edit, and syncs whenever the
/// server notifies it: the latency from an edit to its arrival on the other device of the pair
/// (the editor's session, the notification, the partner's session).
pub async fn fanout(setup: &Setup, report: &mut Report) -> Result<()> {
    let work = setup.work.join("d");
    let pairs = setup.fanout_devices / 2;
    let server = Server::start(&setup.server_bin, &work.join("server"), Some(&fengqiao::org_file(pairs, 2))).await?;
    let proxy = Proxy::start(server.address()).await?;
    let url = format!("http://{}", proxy.address());
    eprintln!("(d) {} light devices log in and open a case each…", pairs * 2);
    let http = reqwest::Client::new();
    let mut devices = Vec::new();
    for t in 0..pairs {
        for m in 0..2 {
            let mut device = LightDevice::login(&http, &url, &fengqiao::user(t, m)).await?;
            let case = device.open_case("相邻关系纠纷", Content::Intake, t * 2 + m)?;
            device.sync().await?;
            devices.push((device, case));
        }
    }
    // Each device receives its partner's case.
    for (device, _) in devices.iter_mut() {
        device.sync().await?;
        ensure!(device.cases().count() == 2, "a device holds its own case and its partner's");
    }
    let partner_case: Vec<CaseId> = (0..devices.len()).map(|i| devices[i ^ 1].1).collect();

    let stop = Arc::new(AtomicBool::new(false));
    let commits_before = server.metric("fengqiao_commit_seconds_count").await?;
    proxy.reset();
    let (server_meter, client_meter) = (Meter::start(Process::Pid(server.pid()))?, Meter::start(Process::This)?);
    let started = WallClock::now();
    let mut tasks = Vec::new();
    for (i, (mut device, case)) in devices.into_iter().enumerate() {
        let watched = partner_case[i];
        let stop = stop.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let (mut sequence, mut seen) = (0u64, 0u64);
            // Spread the devices over the second.
            let mut next_edit = tokio::time::Instant::now() + Duration::from_millis((i as u64 * 997) % 1000);
            while !stop.load(Ordering::Relaxed) {
                let now = tokio::time::Instant::now();
                if now >= next_edit {
                    sequence += 1;
                    device.append(case, &["claims", "facts"], &format!("〔{sequence}@{}〕", unix_micros()))?;
                    device.sync().await?;
                    next_edit += Duration::from_secs(1);
                    continue;
                }
                if device.wait_notify(next_edit - now).await? {
                    device.sync().await?;
                    let arrived = unix_micros();
                    for (n, stamped) in stamps(&device.text(watched, &["claims", "facts"])) {
                        if n > seen {
                            latencies.push(arrived.saturating_sub(stamped) as f64 / 1000.0);
                            seen = n;
                        }
                    }
                }
            }
            ensure!(device.notices == 0, "device {i} was shown {} refusals", device.notices);
            device.close().await;
            anyhow::Ok(latencies)
        }));
    }
    let mut peak_rss = 0u64;
    let deadline = WallClock::now() + Duration::from_secs(setup.fanout_seconds);
    while WallClock::now() < deadline {
        peak_rss = peak_rss.max(Process::Pid(server.pid()).rss().unwrap_or(0));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.store(true, Ordering::Relaxed);
    let mut samples = Vec::new();
    for task in tasks {
        samples.extend(task.await.context("device task")??);
    }
    let wall = started.elapsed().as_secs_f64() * 1000.0;
    let (server_usage, client_usage) = (server_meter.finish()?, client_meter.finish()?);
    ensure!(!samples.is_empty(), "no edit reached another device");
    samples.sort_by(|a, b| a.total_cmp(b));
    let p = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    let (p50, p99) = (p(0.5), p(0.99));
    let commits = server.metric("fengqiao_commit_seconds_count").await? - commits_before;
    report.measurements.push(Measurement {
        scenario: "d".into(),
        system: "fengqiao".into(),
        wall_ms: wall,
        traffic: proxy.traffic(),
        server: server_usage,
        client: client_usage,
        figures: BTreeMap::from([
            ("devices".into(), (pairs * 2) as f64),
            ("edits_seen".into(), samples.len() as f64),
            ("durable_commits".into(), commits),
            ("latency_p50_ms".into(), p50),
            ("latency_p99_ms".into(), p99),
            ("latency_max_ms".into(), *samples.last().unwrap()),
        ]),
    });
    report.targets.push(Target::below("d", "p99 edit-to-other-device latency ms", p99, 100.0));
    report.targets.push(Target::below("d", "server peak RSS MB", server_usage.peak_rss_bytes.max(peak_rss) as f64 / 1e6, 300.0));
    server.stop().await
}

/// `(sequence, unix micros)` of every `〔n@t〕` stamp in a text.
fn stamps(text: &str) -> Vec<(u64, u64)> {
    text.split('〔')
        .skip(1)
        .filter_map(|s| {
            let (inner, _) = s.split_once('〕')?;
            let (n, t) = inner.split_once('@')?;
            Some((n.parse().ok()?, t.parse().ok()?))
        })
        .collect()
}

fn unix_micros() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_micros() as u64)
}

/// (e) `stored_cases` cases stored (townships of 1,000 cases each); the server's memory while a
/// fresh tablet bootstraps one township's cases.
pub async fn memory(setup: &Setup, report: &mut Report) -> Result<()> {
    let per_township = 1000.min(setup.stored_cases);
    let townships = setup.stored_cases.div_ceil(per_township);
    let dir = setup.cache.join(format!("e-{}-{}", setup.stored_cases, env!("CARGO_PKG_VERSION")));
    let ready_mark = dir.join("populated");
    if !ready_mark.exists() {
        let _ = std::fs::remove_dir_all(&dir);
        let server = Server::start(&setup.server_bin, &dir.join("server"), Some(&fengqiao::org_file(townships, 2))).await?;
        eprintln!("(e) storing {} cases in {townships} townships (kept for later runs)…", setup.stored_cases);
        // Light devices (`crate::light`), one per township, each opening its township's cases with
        // the client's own edits and syncing them every 250: the real sync path, without a
        // replica on disk per author.
        let http = reqwest::Client::new();
        let mut tasks = Vec::new();
        for t in 0..townships {
            let (url, http) = (server.url(), http.clone());
            tasks.push(move || async move {
                let mut author = LightDevice::login(&http, &url, &fengqiao::user(t, 0)).await?;
                for i in 0..per_township {
                    author.open_case(&format!("宅基地边界纠纷 {i}"), Content::Full, i)?;
                    if (i + 1) % 250 == 0 {
                        author.sync().await?;
                    }
                }
                author.sync().await?;
                ensure!(author.pending() == 0 && author.notices == 0, "township {t}'s cases were all stored");
                author.close().await;
                anyhow::Ok(())
            });
        }
        // Two townships at a time: the machine has few cores.
        let mut tasks = tasks.into_iter();
        let mut stored = 0;
        loop {
            let batch: Vec<_> = tasks.by_ref().take(2).map(|task| tokio::spawn(task())).collect();
            if batch.is_empty() {
                break;
            }
            for handle in batch {
                handle.await??;
                stored += per_township;
            }
            if stored % 10_000 == 0 {
                eprintln!("(e) {stored} cases stored");
            }
        }
        server.stop().await?;
        std::fs::write(&ready_mark, b"")?;
    }
    let server = Server::start(&setup.server_bin, &dir.join("server"), None).await?;
    let idle_rss = Process::Pid(server.pid()).rss()?;
    let tablet_dir = setup.work.join("e-tablet");
    let _ = std::fs::remove_dir_all(&tablet_dir);
    let proxy = Proxy::start(server.address()).await?;
    let tablet = device(&tablet_dir, &format!("http://{}", proxy.address()), &fengqiao::user(0, 1)).await?;
    proxy.reset();
    let (server_meter, client_meter) = (Meter::start(Process::Pid(server.pid()))?, Meter::start(Process::This)?);
    let started = WallClock::now();
    tablet.sync().await?;
    let wall = started.elapsed().as_secs_f64() * 1000.0;
    let (server_usage, client_usage) = (server_meter.finish()?, client_meter.finish()?);
    ensure!(tablet.cases().await?.len() == per_township, "the tablet holds its township's cases");
    report.measurements.push(Measurement {
        scenario: "e".into(),
        system: "fengqiao".into(),
        wall_ms: wall,
        traffic: proxy.traffic(),
        server: server_usage,
        client: client_usage,
        figures: BTreeMap::from([
            ("stored_cases".into(), (townships * per_township) as f64),
            ("bootstrapped_cases".into(), per_township as f64),
            ("server_idle_rss_mb".into(), idle_rss as f64 / 1e6),
        ]),
    });
    report.targets.push(Target::below(
        "e",
        "server peak RSS MB during the bootstrap",
        server_usage.peak_rss_bytes as f64 / 1e6,
        300.0,
    ));
    drop(proxy);
    server.stop().await
}
