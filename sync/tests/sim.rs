//! A simulated network for the sync core, Zed-style: a seeded random plan of what the people of a
//! small county do on their tablets (offline for days at a time) and of how the network misbehaves,
//! replayed exactly from its seed, then checked against the invariants of DESIGN §5–§6 and §8.
//!
//! Eight devices (mediators of two townships, two of them in 东溪镇, the reconsideration officer on
//! two devices, the litigation officer, the petition officer and a read-only county supervisor)
//! talk to one in-memory server only through `ClientSession`/`ServerSession` messages encoded to
//! bytes. The server answers the session's needs from its documents, actor bindings and change
//! feed, runs every incoming message through `ingest`/`ingest_new` and commits before it answers.
//! After the plan the network heals, every device syncs until a whole round commits nothing, and
//! `sim/check.rs` checks convergence, that nothing is lost, authorisation (by replaying the commit
//! log), compensations against review items, and handoff arbitration.
//!
//! - `cargo test -p fengqiao-sync --test sim` runs `FENGQIAO_SIM_RUNS` seeds (default 40), 0, 1, …
//! - `SIM_SEED=1234 cargo test -p fengqiao-sync --test sim` replays one seed; a failure prints the
//!   command for its seed, the violations and the last steps of the plan (all of them with
//!   `SIM_SEED`). `SIM_TRACE=1` prints every run's plan and final heads (with `-- --nocapture`),
//!   `SIM_VERBOSE=1` adds every message and what the server made of it.
//!
//! Nothing but the seed decides a run: one `StdRng` drives the plan and the network, maps are
//! ordered, times come from the step counter, and everything runs on one thread.

#[path = "sim/check.rs"]
mod check;
#[path = "sim/device.rs"]
mod device;
#[path = "sim/regressions.rs"]
mod regressions;
#[path = "sim/server.rs"]
mod server;
#[path = "sim/work.rs"]
mod work;
#[path = "sim/world.rs"]
mod world;

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};

use fengqiao_schema::document::Case;
use fengqiao_schema::vocab::{HandoffStatus, ReviewKind};
use fengqiao_sync::protocol::CaseId;
use world::World;

/// Operations in one run's plan.
const OPS: usize = 400;
const DEFAULT_RUNS: u64 = 40;

/// What one run did, summed over runs to show (and check) that the plan exercises everything.
#[derive(Debug, Default)]
struct Totals {
    runs: usize,
    cases: usize,
    commits: usize,
    compensations: usize,
    rejects: BTreeMap<String, usize>,
    /// Refusals devices showed their users (the server's, and the client's own `too_large`).
    refusals_shown: BTreeMap<String, usize>,
    stashed: usize,
    gone: usize,
    gone_or_refused_shown: usize,
    compensation_notices: usize,
    handoffs: BTreeMap<&'static str, usize>,
    reviews: BTreeMap<&'static str, usize>,
    messages: usize,
    lost: usize,
    duplicated: usize,
    reordered: usize,
    unheard: usize,
    deferred: usize,
    sessions_finished: usize,
    sessions_failed: usize,
    given_up: usize,
    queued: usize,
    settle_rounds_max: usize,
    largest_doc: usize,
}

impl Totals {
    fn add(&mut self, world: &World, finals: &BTreeMap<CaseId, Case>, settle_rounds: usize) {
        self.runs += 1;
        let s = &world.server.stats;
        self.cases += world.server.docs.len();
        self.commits += s.commits;
        self.compensations += s.compensations;
        self.queued += s.queued;
        for (code, n) in &s.rejects {
            *self.rejects.entry(code.clone()).or_default() += n;
        }
        for device in &world.devices {
            for (code, n) in &device.shown.rejected {
                *self.refusals_shown.entry(code.clone()).or_default() += n;
            }
            self.stashed += device.stash.len();
            self.gone += device.shown.gone;
            self.gone_or_refused_shown += device.shown.told.len();
            self.compensation_notices += device.shown.compensated;
            self.sessions_finished += device.sessions_finished;
            self.sessions_failed += device.sessions_failed;
        }
        for case in finals.values() {
            for h in &case.handoffs {
                *self
                    .handoffs
                    .entry(h.status.map(HandoffStatus::code).unwrap_or("none"))
                    .or_default() += 1;
            }
            for r in &case.review {
                *self
                    .reviews
                    .entry(r.kind.map(ReviewKind::code).unwrap_or("none"))
                    .or_default() += 1;
            }
        }
        self.largest_doc = self.largest_doc.max(world.server.largest_saved);
        let n = &world.net;
        self.messages += n.sent;
        self.lost += n.lost;
        self.duplicated += n.duplicated;
        self.reordered += n.reordered;
        self.unheard += n.unheard;
        self.deferred += n.deferred;
        self.given_up += n.given_up;
        self.settle_rounds_max = self.settle_rounds_max.max(settle_rounds);
    }
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().map(|v| {
        v.trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a number, not {v:?}"))
    })
}

/// Runs one seed: the plan, settling, the checks. On failure, a report to print.
fn run(seed: u64, totals: &mut Totals) -> Result<(), String> {
    let mut world = World::new(seed);
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        world.run_plan(OPS);
        world.settle()
    }));
    let failure = match outcome {
        Ok(Ok(rounds)) => {
            let finals = check::finals(&world);
            let problems = check::check(&world, &finals);
            if std::env::var("SIM_TRACE").is_ok() {
                println!("seed {seed}:\n{}", world.trace.join("\n"));
                for (id, doc) in &world.server.docs {
                    println!("{id}: {:?}", doc.get_heads());
                }
            }
            if problems.is_empty() {
                totals.add(&world, &finals, rounds);
                return Ok(());
            }
            problems.join("\n")
        }
        Ok(Err(stuck)) => stuck,
        Err(panic) => panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "a panic".into()),
    };
    let shown = if std::env::var("SIM_SEED").is_ok() {
        world.trace.len()
    } else {
        60
    };
    let tail = world.trace[world.trace.len().saturating_sub(shown)..].join("\n");
    Err(format!(
        "the simulation failed for seed {seed}:\n{failure}\n\nlast steps of the plan:\n{tail}\n\n\
         replay it: SIM_SEED={seed} cargo test -p fengqiao-sync --test sim"
    ))
}

#[test]
fn simulated_county() {
    let seeds: Vec<u64> = match env_u64("SIM_SEED") {
        Some(seed) => vec![seed],
        None => (0..env_u64("FENGQIAO_SIM_RUNS").unwrap_or(DEFAULT_RUNS)).collect(),
    };
    let mut totals = Totals::default();
    for &seed in &seeds {
        if let Err(report) = run(seed, &mut totals) {
            panic!("{report}");
        }
    }
    println!("{totals:#?}");
    if seeds.len() >= 20 {
        // The plan must actually reach what the checks are about.
        let coverage = [
            ("cases registered", totals.cases),
            ("compensations", totals.compensations),
            ("hard rejects", totals.rejects.values().sum()),
            ("stashes", totals.stashed),
            (
                "accepted handoffs",
                totals.handoffs.get("accepted").copied().unwrap_or(0),
            ),
            (
                "rejected handoffs",
                totals.handoffs.get("rejected").copied().unwrap_or(0),
            ),
            (
                "invalid handoffs",
                totals.handoffs.get("invalid").copied().unwrap_or(0),
            ),
            (
                "withdrawn handoffs",
                totals.handoffs.get("withdrawn").copied().unwrap_or(0),
            ),
            (
                "concurrent values",
                totals
                    .reviews
                    .get("concurrent_values")
                    .copied()
                    .unwrap_or(0),
            ),
            (
                "superseded handoffs",
                totals.handoffs.get("superseded").copied().unwrap_or(0),
            ),
            (
                "late decisions",
                totals.reviews.get("late_decision").copied().unwrap_or(0),
            ),
            ("compensation notices shown", totals.compensation_notices),
            ("lost messages", totals.lost),
            ("duplicated messages", totals.duplicated),
            ("reordered messages", totals.reordered),
            ("deferred answers", totals.deferred),
            ("failed sessions", totals.sessions_failed),
            ("abandoned sessions", totals.given_up),
        ];
        let missing: Vec<&str> = coverage
            .iter()
            .filter(|(_, n)| *n == 0)
            .map(|(what, _)| *what)
            .collect();
        assert!(
            missing.is_empty(),
            "{} runs never produced: {missing:?}\n{totals:#?}",
            seeds.len()
        );
    }
}

/// The same seed twice gives the same run: the same plan, messages and documents.
#[test]
fn a_seed_replays_exactly() {
    let fingerprint = |seed: u64| {
        let mut world = World::new(seed);
        world.verbose = true; // every message and server decision in the trace
        world.run_plan(OPS);
        world.settle().expect("seed 3 settles");
        let mut print = world.trace.join("\n");
        for (id, doc) in &world.server.docs {
            print += &format!("\n{id}: {:?}", doc.get_heads());
        }
        for device in &world.devices {
            print += &format!(
                "\n{}: {:?} stash {}",
                device.name,
                device
                    .replica
                    .values()
                    .map(|d| d.get_heads())
                    .collect::<Vec<_>>(),
                device.stash.len()
            );
        }
        print
    };
    let first = fingerprint(3);
    assert!(
        first.lines().count() > OPS / 2,
        "the trace records the plan"
    );
    assert_eq!(first, fingerprint(3), "seed 3 replays exactly");
}
