//! The supervisor dashboard's queries over 1,000,000 projected cases on SQLite, against a target of
//! 200 ms each.
//!
//! A county of 12 townships and the three county bodies; cases registered over two years
//! (2025-01-01 to mid-November 2026) across every track (70% mediation, 20% petitions, 6%
//! reconsideration, 4% litigation), with outcomes, satisfaction ratings, handling and acceptance
//! deadlines met on time, late and not at all, handoffs (accepted and pending), review items and the
//! access index. The rows are written straight into the projection tables by SQL (the documents
//! themselves are not needed to answer the dashboard), then each query is run through the code its
//! handler runs (`stats::stats`, `api::inbox`, `api::list_cases`, called as handlers with a
//! principal) and timed: median and 95th percentile.
//!
//! `cargo bench -p fengqiao-server --bench dashboard` (in `make bench`) runs it in full. Any other
//! invocation (`cargo test --all-targets` runs bench targets too) is a smoke run over 2,000 cases
//! that checks every query answers, without timing claims. A full run fills the database once (a
//! few minutes) and keeps it in `target/dashboard-cache/`, under a name that digests the SQLite
//! migrations and the fill: later runs query a copy of it, and a change to either fills it anew.

use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use fengqiao_schema::ids::{DeviceId, UnitId};
use fengqiao_schema::units::{Unit, User};
use fengqiao_schema::vocab::{Role, UnitKind};
use fengqiao_server::api::{self, CaseQuery, InboxQuery};
use fengqiao_server::auth::Principal;
use fengqiao_server::http::Authenticated;
use fengqiao_server::stats::{self, StatsQuery};
use fengqiao_server::store::{DatabaseUrl, Store};
use fengqiao_server::{Services, Settings};
use sqlx::Connection;

const TARGET: Duration = Duration::from_millis(200);
const COUNTY: &str = "bench";
const TOWNSHIPS: usize = 12;
const TOWN_NAMES: [&str; TOWNSHIPS] = [
    "东溪镇",
    "南河街道",
    "西岭乡",
    "北山镇",
    "城关街道",
    "青石镇",
    "白沙乡",
    "红旗镇",
    "桃源乡",
    "柳湾镇",
    "金盘乡",
    "石门镇",
];

fn town(i: usize) -> String {
    format!("{COUNTY}.t{:02}", i + 1)
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let cases: u64 = if full { 1_000_000 } else { 2_000 };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    runtime.block_on(run(cases, full));
}

async fn run(cases: u64, full: bool) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("dashboard.sqlite3").to_str().expect("UTF-8").to_string();
    let url = DatabaseUrl::Sqlite(path.clone());
    let statements = fill_statements(cases);
    if full {
        // Filling 1,000,000 cases takes minutes: a full run keeps the filled database under
        // `target/` and copies it for each run (the queries run on the copy, so a cached file is
        // never written after it is complete).
        let cached = cached_fill(&statements).await;
        std::fs::copy(&cached, &path).expect("copy the cached database");
    } else {
        create_and_fill(&path, &statements).await;
    }
    let store = Store::open(&url).await.expect("the database opens and migrates");

    let services = Services::start_on(store.clone(), &Settings::with_database(url)).await.expect("services");
    let state = services.state();
    let supervisor = principal("chief", COUNTY, Role::Supervisor);
    let town_supervisor = principal("town-chief", &town(0), Role::Supervisor);
    let mediator = principal("mediator", &town(0), Role::Mediator);
    let reconsideration = principal("officer", &format!("{COUNTY}.justice"), Role::ReconsiderationOfficer);

    let stats_of = |who: &Principal, unit: String, from: &str, to: &str| {
        let (state, who) = (state.clone(), who.clone());
        let query = StatsQuery { unit, from: from.to_string(), to: to.to_string() };
        move || {
            let (state, who, query) = (state.clone(), who.clone(), query.clone());
            async move {
                let stats::Stats { townships, overdue_total, overdue, due_soon_total, due_soon, trend, .. } =
                    stats::stats(State(state), Authenticated(who), Query(query)).await.expect("stats").0;
                format!(
                    "{} townships, {} overdue ({} listed), {} due soon ({} listed), {} months",
                    townships.len(),
                    overdue_total,
                    overdue.len(),
                    due_soon_total,
                    due_soon.len(),
                    trend.len()
                )
            }
        }
    };
    let inbox_of = |who: &Principal| {
        let (state, who) = (state.clone(), who.clone());
        move || {
            let (state, who) = (state.clone(), who.clone());
            async move {
                let inbox = api::inbox(State(state), Authenticated(who), Query(InboxQuery { days: None }))
                    .await
                    .expect("inbox")
                    .0;
                format!(
                    "{} handoffs, {} deadlines, {} review",
                    inbox.handoffs.len(),
                    inbox.deadlines.len(),
                    inbox.review.len()
                )
            }
        }
    };
    let page_of = |who: &Principal, query: CaseQuery| {
        let (state, who) = (state.clone(), who.clone());
        move || {
            let (state, who, query) = (state.clone(), who.clone(), query.clone());
            async move {
                let page = api::list_cases(State(state), Authenticated(who), Query(query)).await.expect("cases").0;
                format!("{} cases{}", page.cases.len(), if page.next_cursor.is_some() { ", more" } else { "" })
            }
        }
    };

    let mut results = Vec::new();
    results.push(
        measure("/v1/stats county, 2025", full, stats_of(&supervisor, COUNTY.into(), "2025-01-01", "2025-12-31")).await,
    );
    results.push(
        measure("/v1/stats township, 2025", full, stats_of(&town_supervisor, town(0), "2025-01-01", "2025-12-31"))
            .await,
    );
    results.push(
        measure(
            "/v1/stats county, 2 years (24-month trend)",
            full,
            stats_of(&supervisor, COUNTY.into(), "2025-01-01", "2026-12-31"),
        )
        .await,
    );
    results.push(
        measure("/v1/stats county, one month", full, stats_of(&supervisor, COUNTY.into(), "2026-10-01", "2026-10-31"))
            .await,
    );
    results.push(measure("/v1/inbox township mediator", full, inbox_of(&mediator)).await);
    results.push(measure("/v1/inbox reconsideration officer", full, inbox_of(&reconsideration)).await);
    results.push(measure("/v1/cases county, first page", full, page_of(&supervisor, CaseQuery::default())).await);
    let filtered = CaseQuery {
        track: Some("mediation".into()),
        status: Some("open".into()),
        township: Some(town(3)),
        ..CaseQuery::default()
    };
    results.push(measure("/v1/cases county, filtered page", full, page_of(&supervisor, filtered)).await);
    results
        .push(measure("/v1/cases township mediator, first page", full, page_of(&mediator, CaseQuery::default())).await);
    let search = CaseQuery { q: Some("第123456号".into()), ..CaseQuery::default() };
    results.push(measure("/v1/cases county, search by number", full, page_of(&supervisor, search)).await);

    println!();
    println!("{:<44} {:>10} {:>10} {:>8}  answer", "query", "median", "p95", "target");
    for r in &results {
        let verdict = if !full {
            "-"
        } else if r.p95 <= TARGET {
            "ok"
        } else {
            "OVER"
        };
        println!(
            "{:<44} {:>8.1}ms {:>8.1}ms {:>8}  {}",
            r.name,
            r.median.as_secs_f64() * 1e3,
            r.p95.as_secs_f64() * 1e3,
            verdict,
            r.answer
        );
    }
    if !full {
        println!("smoke run over {cases} cases (no timing claims); `cargo bench --bench dashboard` measures 1,000,000");
    }
    services.stop().await;
    store.close().await;
}

struct Measured {
    name: &'static str,
    median: Duration,
    p95: Duration,
    answer: String,
}

/// Runs `query` once to warm up, then up to 30 times (at least 3, at most about 15 s), and takes the median and
/// the 95th percentile. A smoke run runs it once.
async fn measure<F, Fut>(name: &'static str, full: bool, query: F) -> Measured
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = String>,
{
    let answer = query().await;
    let mut samples = Vec::new();
    let budget = Instant::now();
    let runs = if full { 30 } else { 1 };
    while samples.len() < runs && (samples.len() < 3 || budget.elapsed() < Duration::from_secs(15)) {
        let started = Instant::now();
        std::hint::black_box(query().await);
        samples.push(started.elapsed());
    }
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    let measured = Measured { name, median: at(0.5), p95: at(0.95), answer };
    eprintln!("{name}: median {:?}, p95 {:?} ({} runs)", measured.median, measured.p95, samples.len());
    measured
}

fn principal(id: &str, unit: &str, role: Role) -> Principal {
    Principal { user: User::new(id, unit, &[role]), device: DeviceId::new(format!("{id}-bench")) }
}

async fn add_units(store: &Store) {
    let unit = |id: String, name: &str, kind, parent: Option<&str>| Unit {
        id: UnitId::new(id),
        name: name.to_string(),
        kind,
        parent: parent.map(UnitId::new),
    };
    let mut units = vec![unit(COUNTY.into(), "青山县", UnitKind::County, None)];
    for (i, name) in TOWN_NAMES.iter().enumerate() {
        units.push(unit(town(i), name, UnitKind::Township, Some(COUNTY)));
    }
    units.push(unit(format!("{COUNTY}.petition"), "县信访局", UnitKind::PetitionBureau, Some(COUNTY)));
    units.push(unit(format!("{COUNTY}.justice"), "县司法局", UnitKind::JusticeBureau, Some(COUNTY)));
    units.push(unit(format!("{COUNTY}.legal"), "县政府法制办", UnitKind::LegalOffice, Some(COUNTY)));
    for u in units {
        store.add_unit(&u).await.expect("add a unit");
    }
}

/// Creates the database at `path` (migrated), adds the units and runs the fill `statements`.
async fn create_and_fill(path: &str, statements: &[String]) {
    let store = Store::open(&DatabaseUrl::Sqlite(path.to_string())).await.expect("the database opens and migrates");
    add_units(&store).await;
    let started = Instant::now();
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{path}")).await.expect("connect");
    sqlx::query("PRAGMA synchronous = OFF").execute(&mut conn).await.expect("pragma");
    let mut tx = conn.begin().await.expect("begin");
    for sql in statements {
        sqlx::query(sql).execute(&mut *tx).await.expect("fill");
    }
    tx.commit().await.expect("commit");
    conn.close().await.ok();
    store.close().await;
    println!("filled the database in {:.1} s", started.elapsed().as_secs_f64());
}

/// The filled database of a full run, kept as `target/dashboard-cache/dashboard-KEY.sqlite3`, where
/// KEY digests the SQLite migrations (as the source tree has them), the units and the fill
/// statements: a change to any of them fills a new file (and removes the old ones). A file is
/// renamed into place only once complete.
async fn cached_fill(statements: &[String]) -> std::path::PathBuf {
    let mut key = Fnv::default();
    let migrations = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite");
    let mut files: Vec<_> = std::fs::read_dir(&migrations)
        .expect("the migrations directory")
        .map(|e| e.expect("a migration").path())
        .collect();
    files.sort();
    for file in files {
        key.write(file.file_name().expect("a file name").as_encoded_bytes());
        key.write(&std::fs::read(&file).expect("a migration file"));
    }
    key.write(COUNTY.as_bytes());
    key.write(TOWN_NAMES.concat().as_bytes());
    for sql in statements {
        key.write(sql.as_bytes());
    }
    // The bench binary is `target/<profile>/deps/dashboard-…`.
    let exe = std::env::current_exe().expect("the bench's path");
    let target = exe.ancestors().nth(3).expect("the target directory");
    let cache = target.join("dashboard-cache");
    std::fs::create_dir_all(&cache).expect("the cache directory");
    let file = cache.join(format!("dashboard-{:016x}.sqlite3", key.0));
    if file.exists() {
        println!("using the filled database {}", file.display());
        return file;
    }
    for old in std::fs::read_dir(&cache).expect("the cache directory").flatten() {
        std::fs::remove_file(old.path()).ok();
    }
    let partial = cache.join("filling.sqlite3");
    create_and_fill(partial.to_str().expect("UTF-8"), statements).await;
    for suffix in ["-wal", "-shm"] {
        // Closing the last connection checkpoints the log into the file.
        std::fs::remove_file(format!("{}{suffix}", partial.display())).ok();
    }
    std::fs::rename(&partial, &file).expect("keep the filled database");
    println!("kept the filled database as {}", file.display());
    file
}

/// FNV-1a, 64 bits: a digest that stays the same across Rust releases.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        // A separator, so that moving bytes between two writes changes the digest.
        self.0 = (self.0 ^ 0xff).wrapping_mul(0x0100_0000_01b3);
    }
}

/// The SQL that writes `cases` cases with their deadlines, handoffs, review items and access rows.
/// Every value is a fixed function of the case's index, so runs are comparable.
fn fill_statements(cases: u64) -> Vec<String> {
    let towns = (0..TOWNSHIPS).map(|i| format!("WHEN {i} THEN '{}'", TOWN_NAMES[i])).collect::<Vec<_>>().join(" ");
    // `f` gives each case its draws; `g` its dates and codes.
    let base = format!(
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {last}),
         f AS (SELECT i,
                 (i * 2654435761) % 4294967296 AS a,
                 (i * 69069 + 12345) % 2147483647 AS c,
                 (i * 40503 + 7919) % 65521 AS b
               FROM n),
         g AS (SELECT i,
                 a % {TOWNSHIPS} AS town,
                 CASE WHEN b % 100 < 70 THEN 'mediation' WHEN b % 100 < 90 THEN 'petition'
                      WHEN b % 100 < 96 THEN 'reconsideration' ELSE 'litigation' END AS track,
                 c % 685 AS reg_day,
                 (a / {TOWNSHIPS}) % 16 AS dtype,
                 (c / 685) % 1000 AS p,
                 (b / 100) % 100 AS q
               FROM f),
         h AS (SELECT g.*,
                 date('2025-01-01', '+' || reg_day || ' days') AS reg_on,
                 date('2025-01-01', '+' || (reg_day + (p % 50)) || ' days') AS end_on,
                 CASE WHEN reg_day + (p % 50) < 680 AND p < 995 THEN 1 ELSE 0 END AS done,
                 '{COUNTY}.t' || printf('%02d', town + 1) AS town_id,
                 CASE town {towns} END AS town_name
               FROM g)",
        last = cases - 1
    );
    let custody = format!(
        "CASE track WHEN 'mediation' THEN town_id WHEN 'petition' THEN '{COUNTY}.petition' \
         WHEN 'reconsideration' THEN '{COUNTY}.justice' ELSE '{COUNTY}.legal' END"
    );
    let case_sql = format!(
        "{base}
         INSERT INTO case_projection (case_id, case_number, title, kind, track, custody_unit, township, dispute_type,
             status, outcome, registered_at, registered_on, accepted_on, concluded_on, source, restricted,
             mediation_result, mediation_result_on, reconsideration_decision, reconsideration_decided_on,
             litigation_instance, litigation_attendance, litigation_outcome, litigation_heard_on, litigation_judged_on,
             satisfaction)
         SELECT unhex(printf('%016x%016x', i, i * 7919)),
             printf('（%s）%s%s字第%d号', substr(reg_on, 1, 4), town_name, CASE track WHEN 'petition' THEN '信' ELSE '调' END, i + 1),
             printf('某%d与某%d纠纷', i % 97, i % 89),
             CASE track WHEN 'petition' THEN 'petition' ELSE 'dispute' END,
             track,
             CASE track WHEN 'mediation' THEN town_id WHEN 'petition' THEN '{COUNTY}.petition'
                 WHEN 'reconsideration' THEN '{COUNTY}.justice' ELSE '{COUNTY}.legal' END,
             town_id,
             CASE dtype WHEN 0 THEN 'marriage_family' WHEN 1 THEN 'neighbour' WHEN 2 THEN 'housing_homestead'
                 WHEN 3 THEN 'contract' WHEN 4 THEN 'production_business' WHEN 5 THEN 'damages'
                 WHEN 6 THEN 'forest_land' WHEN 7 THEN 'land_acquisition' WHEN 8 THEN 'pollution'
                 WHEN 9 THEN 'labour' WHEN 10 THEN 'consumer' WHEN 11 THEN 'medical' WHEN 12 THEN 'traffic_accident'
                 WHEN 13 THEN 'property_management' WHEN 14 THEN 'village_affairs' ELSE 'other' END,
             CASE done WHEN 1 THEN 'concluded' ELSE 'open' END,
             CASE WHEN done = 0 THEN NULL
                 WHEN track = 'mediation' THEN CASE WHEN q < 94 THEN 'success' WHEN q < 98 THEN 'failed' ELSE 'refused' END
                 WHEN track = 'petition' THEN CASE WHEN q < 40 THEN 'explain' WHEN q < 70 THEN 'support' WHEN q < 90 THEN 'not_support' ELSE 'mediated' END
                 WHEN track = 'reconsideration' THEN CASE WHEN q < 25 THEN 'upheld' WHEN q < 30 THEN 'claim_dismissed'
                     WHEN q < 45 THEN 'revoked' WHEN q < 50 THEN 'confirmed_illegal' WHEN q < 75 THEN 'mediation'
                     WHEN q < 95 THEN 'settled_withdrawn' ELSE 'withdrawn' END
                 ELSE CASE WHEN q < 60 THEN 'claim_dismissed' WHEN q < 75 THEN 'withdrawal_permitted' WHEN q < 85 THEN 'revoked' ELSE 'complaint_dismissed' END END,
             (unixepoch(reg_on) - 8 * 3600 + 9 * 3600 + (i % 28800)) * 1000,
             reg_on, reg_on,
             CASE done WHEN 1 THEN end_on END,
             CASE track WHEN 'mediation' THEN CASE WHEN q % 3 = 0 THEN 'application' WHEN q % 3 = 1 THEN 'initiative' ELSE 'referral' END
                 WHEN 'petition' THEN CASE q % 4 WHEN 0 THEN 'online' WHEN 1 THEN 'letter' WHEN 2 THEN 'visit' ELSE 'phone' END END,
             CASE WHEN track = 'petition' AND q = 7 THEN 1 ELSE 0 END,
             CASE WHEN track = 'mediation' AND done = 1 THEN CASE WHEN q < 94 THEN 'success' WHEN q < 98 THEN 'failed' ELSE 'refused' END END,
             CASE WHEN track = 'mediation' AND done = 1 THEN end_on END,
             CASE WHEN track = 'reconsideration' AND done = 1 THEN CASE WHEN q < 25 THEN 'upheld' WHEN q < 30 THEN 'claim_dismissed'
                     WHEN q < 45 THEN 'revoked' WHEN q < 50 THEN 'confirmed_illegal' WHEN q < 75 THEN 'mediation'
                     WHEN q < 95 THEN 'settled_withdrawn' ELSE 'withdrawn' END END,
             CASE WHEN track = 'reconsideration' AND done = 1 THEN end_on END,
             CASE WHEN track = 'litigation' THEN CASE WHEN q < 85 THEN 'first' ELSE 'second' END END,
             CASE WHEN track = 'litigation' THEN CASE WHEN p % 10 < 9 THEN 'head' WHEN p % 10 = 9 AND q % 2 = 0 THEN 'staff_only' ELSE 'lawyer_only' END END,
             CASE WHEN track = 'litigation' AND done = 1 THEN CASE WHEN q < 60 THEN 'claim_dismissed' WHEN q < 75 THEN 'withdrawal_permitted' WHEN q < 85 THEN 'revoked' ELSE 'complaint_dismissed' END END,
             CASE WHEN track = 'litigation' THEN date(reg_on, '+' || (20 + p % 20) || ' days') END,
             CASE WHEN track = 'litigation' AND done = 1 THEN end_on END,
             CASE WHEN track = 'petition' AND done = 1 AND q % 5 > 0 THEN CASE WHEN p % 10 < 7 THEN 'satisfied' WHEN p % 10 < 9 THEN 'basically_satisfied' ELSE 'dissatisfied' END END
         FROM h"
    );

    // Deadlines: the handling period of every case, and the acceptance notice of every petition.
    let deadline_sql = format!(
        "{base}
         INSERT INTO deadline_projection (case_id, rule, track, duty, start_on, due_on, met_on, suspended, explanation,
             township, custody_unit)
         SELECT unhex(printf('%016x%016x', i, i * 7919)),
             CASE track WHEN 'mediation' THEN 'mediation.period' WHEN 'petition' THEN 'petition.handling'
                 WHEN 'reconsideration' THEN 'reconsideration.decision' ELSE 'litigation.defence' END,
             track, 1, reg_on,
             date(reg_on, '+' || CASE track WHEN 'mediation' THEN 30 WHEN 'petition' THEN 60 WHEN 'reconsideration' THEN 60 ELSE 15 END || ' days'),
             CASE WHEN track = 'litigation' THEN date(reg_on, '+' || (p % 17) || ' days') WHEN done = 1 THEN end_on END,
             CASE WHEN q = 99 AND done = 0 THEN 1 ELSE 0 END,
             '自受理之日起计算的办理期限', town_id, {custody}
         FROM h
         UNION ALL
         SELECT unhex(printf('%016x%016x', i, i * 7919)), 'petition.acceptance_notice', 'petition', 1, reg_on,
             date(reg_on, '+15 days'),
             CASE WHEN reg_day + (p % 18) < 680 THEN date(reg_on, '+' || (p % 18) || ' days') END,
             0, '信访事项受理告知期限', town_id, '{COUNTY}.petition'
         FROM h WHERE track = 'petition'"
    );

    // Reconsideration and litigation cases came from a township's mediation by an accepted
    // handoff; recent ones have a handoff still pending.
    let handoff_sql = format!(
        "{base}
         INSERT INTO handoff_projection (case_id, handoff_id, from_unit, from_track, to_unit, to_track, status, requested_at, decided_at)
         SELECT unhex(printf('%016x%016x', i, i * 7919)), 'h1', town_id, 'mediation',
             CASE WHEN track = 'reconsideration' OR (track = 'mediation' AND q < 50) THEN '{COUNTY}.justice' ELSE '{COUNTY}.legal' END,
             CASE WHEN track = 'reconsideration' OR (track = 'mediation' AND q < 50) THEN 'reconsideration' ELSE 'litigation' END,
             CASE WHEN track = 'mediation' THEN 'pending' ELSE 'accepted' END,
             unixepoch(reg_on) * 1000, CASE WHEN track = 'mediation' THEN NULL ELSE unixepoch(reg_on) * 1000 + 86400000 END
         FROM h WHERE track IN ('reconsideration', 'litigation') OR (track = 'mediation' AND done = 0 AND p % 10 = 0)"
    );

    let review_sql = format!(
        "{base}
         INSERT INTO review_projection (case_id, item_id, unit_id, kind, section, done)
         SELECT unhex(printf('%016x%016x', i, i * 7919)), 'r1',
             CASE track WHEN 'mediation' THEN town_id WHEN 'petition' THEN '{COUNTY}.petition'
                 WHEN 'reconsideration' THEN '{COUNTY}.justice' ELSE '{COUNTY}.legal' END,
             'late_edit_reverted', 'mediation', CASE WHEN reg_day < 670 THEN 1 ELSE 0 END
         FROM h WHERE p % 100 = 3"
    );

    // Who reads each case: the custody unit's subtree, the former custodian township, and for a
    // restricted petition the custodian unit and the county's supervisors only.
    let access_sql = format!(
        "{base}
         INSERT INTO case_access (case_id, scope, unit_id)
         SELECT unhex(printf('%016x%016x', i, i * 7919)),
             CASE WHEN track = 'petition' AND q = 7 THEN 'unit' ELSE 'subtree' END,
             CASE track WHEN 'mediation' THEN town_id WHEN 'petition' THEN '{COUNTY}.petition'
                 WHEN 'reconsideration' THEN '{COUNTY}.justice' ELSE '{COUNTY}.legal' END
         FROM h
         UNION ALL
         SELECT unhex(printf('%016x%016x', i, i * 7919)), 'county_supervisors', '{COUNTY}.petition'
         FROM h WHERE track = 'petition' AND q = 7
         UNION ALL
         SELECT unhex(printf('%016x%016x', i, i * 7919)), 'subtree', town_id
         FROM h WHERE track IN ('reconsideration', 'litigation')"
    );
    vec![case_sql, deadline_sql, handoff_sql, review_sql, access_sql]
}
