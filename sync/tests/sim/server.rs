//! The simulated server: documents, actor bindings and a change feed in memory, answering a
//! `ServerSession`'s needs the way the real server does (feed, load, snapshot, apply through
//! `ingest`/`ingest_new`, commit, then answer), and keeping a log of every commit for the checks.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use automerge::{ActorId, Automerge, ChangeHash};
use autosurgeon::hydrate;
use fengqiao_schema::document::Case;
use fengqiao_schema::policy;
use fengqiao_schema::time::Instant;
use fengqiao_schema::units::{UnitTree, User};
use fengqiao_sync::ingest::{
    self, ingest, ingest_new, ActorOwner, IngestContext, IngestLimits, Principal,
};
use fengqiao_sync::protocol::{CaseId, Cursor};
use fengqiao_sync::session::{ApplyOutcome, FeedAnswer, Need, ServerInput, Snapshot};

/// One committed change batch: what the checks replay.
pub struct Commit {
    pub case: CaseId,
    /// Index of the device whose message it was.
    pub device: usize,
    pub heads_before: Vec<ChangeHash>,
    /// The device changes the message applied (in the order ingest reports them).
    pub applied: Vec<ChangeHash>,
    pub server_change: Option<ChangeHash>,
    pub heads_after: Vec<ChangeHash>,
    pub compensations: Vec<ingest::Compensation>,
    pub registration: bool,
    /// What the policy reads of the case as the server held it before the commit (none for a
    /// registration) and after it.
    pub case_before: Option<Case>,
    pub case_after: Option<Case>,
}

/// One position of the change feed.
pub struct FeedEntry {
    pub seq: u64,
    pub case: CaseId,
    /// Per device (by index): whether its user could read the case right after this commit.
    pub readable_by: Vec<bool>,
}

/// Counters shown in the run summary.
#[derive(Default, Clone, Debug)]
pub struct ServerStats {
    pub commits: usize,
    pub registrations: usize,
    pub compensations: usize,
    pub rejects: BTreeMap<String, usize>,
    pub queued: usize,
}

pub struct SimServer {
    pub units: UnitTree,
    pub actor: ActorId,
    pub now: Instant,
    /// Documents as committed.
    pub docs: BTreeMap<CaseId, Automerge>,
    /// What the policy reads of each document (`ingest::policy_view`), once per commit, for the
    /// questions the feed and loads ask.
    cases: BTreeMap<CaseId, Case>,
    /// Only looked up, never iterated.
    pub actors: HashMap<ActorId, ActorOwner>,
    pub feed: Vec<FeedEntry>,
    pub commits: Vec<Commit>,
    /// The user of each device, by device index, for the feed's readability record.
    pub users: Vec<User>,
    pub stats: ServerStats,
    /// The size of the largest case saved, as the server sends it to a device that holds nothing.
    pub largest_saved: usize,
    /// Whether the document ingest worked on is kept, with any changes still waiting for their
    /// dependencies (as the real server's document cache does), or only what was committed.
    pub keeps_queued: bool,
    /// What each apply did, for the verbose trace; drained by the world.
    pub notes: Vec<String>,
    case_numbers: u64,
}

impl SimServer {
    pub fn new(units: UnitTree, users: Vec<User>, now: Instant) -> SimServer {
        let actor = ActorId::from([0xee; 16]);
        let mut actors = HashMap::new();
        actors.insert(actor.clone(), ActorOwner::Server);
        SimServer {
            units,
            actor,
            now,
            docs: BTreeMap::new(),
            cases: BTreeMap::new(),
            actors,
            feed: Vec::new(),
            commits: Vec::new(),
            users,
            stats: ServerStats::default(),
            largest_saved: 0,
            keeps_queued: true,
            notes: Vec::new(),
            case_numbers: 0,
        }
    }

    /// The whole case as stored.
    pub fn case(&self, id: &CaseId) -> Option<Case> {
        self.docs
            .get(id)
            .map(|doc| hydrate(doc).expect("a stored case hydrates"))
    }

    fn readable(&self, user: &User, id: &CaseId) -> bool {
        self.cases
            .get(id)
            .is_some_and(|case| policy::can_read(user, case, &self.units))
    }

    /// Whether device `device` could read `id` at feed position `seq`.
    fn readable_at(&self, device: usize, id: &CaseId, seq: u64) -> bool {
        self.feed
            .iter()
            .rev()
            .find(|e| e.seq <= seq && e.case == *id)
            .is_some_and(|e| e.readable_by[device])
    }

    /// Answers one need of the server session of `device`.
    pub fn answer(&mut self, device: usize, principal: &Principal, need: Need) -> Vec<ServerInput> {
        match need {
            Need::Feed { since } => vec![ServerInput::Feed(self.feed_since(device, since))],
            Need::Load(ids) => ids
                .into_iter()
                .map(|doc_id| ServerInput::Loaded {
                    doc_id,
                    doc: self
                        .readable(&principal.user, &doc_id)
                        .then(|| self.docs[&doc_id].clone()),
                })
                .collect(),
            Need::Snapshot(ids) => ids
                .into_iter()
                .map(|doc_id| ServerInput::Snapshot {
                    doc_id,
                    snapshot: self
                        .readable(&principal.user, &doc_id)
                        .then(|| Snapshot::of(&self.docs[&doc_id])),
                })
                .collect(),
            Need::Apply(requests) => requests
                .into_iter()
                .map(|r| ServerInput::Applied {
                    doc_id: r.doc_id,
                    outcome: self.apply(device, principal, r.doc_id, &r.message),
                })
                .collect(),
        }
    }

    fn feed_since(&self, device: usize, since: Option<Cursor>) -> FeedAnswer {
        let user = &self.users[device];
        let head = Cursor::from_feed_seq(self.feed.len() as u64);
        let Some(seq) = since.as_ref().and_then(Cursor::feed_seq) else {
            let changed = self
                .docs
                .keys()
                .filter(|id| self.readable(user, id))
                .copied()
                .collect();
            return FeedAnswer {
                head,
                changed,
                gone: Vec::new(),
                complete: true,
            };
        };
        let touched: BTreeSet<CaseId> = self
            .feed
            .iter()
            .filter(|e| e.seq > seq)
            .map(|e| e.case)
            .collect();
        let mut changed = Vec::new();
        let mut gone = Vec::new();
        for id in touched {
            if self.readable(user, &id) {
                changed.push(id);
            } else if self.readable_at(device, &id, seq) {
                gone.push(id);
            }
        }
        FeedAnswer {
            head,
            changed,
            gone,
            complete: false,
        }
    }

    /// Authorises one incoming message through ingest and commits what is accepted, before the
    /// session hears the outcome (durable before acknowledged).
    fn apply(
        &mut self,
        device: usize,
        principal: &Principal,
        doc_id: CaseId,
        message: &[u8],
    ) -> ApplyOutcome {
        let ctx = IngestContext {
            principal,
            units: &self.units,
            actors: &self.actors,
            server_actor: &self.actor,
            now: self.now,
            limits: IngestLimits::default(),
        };
        let numbers = &mut self.case_numbers;
        let result = match self.docs.get(&doc_id) {
            // Work on a copy, as a server works on what it loaded: a refusal leaves the stored
            // document untouched whatever ingest did to its copy.
            Some(stored) => {
                let mut work = stored.clone();
                ingest(&mut work, message, &ctx).map(|accepted| (work, accepted))
            }
            None => {
                let mut numbering = |_: &fengqiao_schema::document::Meta| {
                    *numbers += 1;
                    format!("（2026）青山调字第{}号", *numbers)
                };
                ingest_new(message, &ctx, &mut numbering)
            }
        };
        let (work, accepted) = match result {
            Ok(ok) => ok,
            Err(reject) => {
                self.notes
                    .push(format!("     server refuses {doc_id}: {reject:?}"));
                let rejection = reject.to_rejection();
                *self
                    .stats
                    .rejects
                    .entry(rejection.code.as_str().to_string())
                    .or_default() += 1;
                return ApplyOutcome::Rejected(rejection);
            }
        };
        self.notes.push(format!(
            "     server ingests {}: {} applied, {} queued, {} compensations, server change {}",
            &doc_id.to_string()[..6],
            accepted.applied.len(),
            accepted.queued,
            accepted.compensations.len(),
            accepted.server_change.is_some()
        ));
        for actor in &accepted.new_bindings {
            self.actors.insert(
                actor.clone(),
                ActorOwner::Device {
                    user: principal.user.clone(),
                    device: principal.device.clone(),
                },
            );
        }
        let known = self.docs.contains_key(&doc_id);
        if !known && accepted.registration.is_none() {
            // Nothing to store: answer from the empty document ingest made.
            return ApplyOutcome::Committed {
                doc: work,
                compensations: Vec::new(),
            };
        }
        if accepted.queued > 0 {
            self.stats.queued += 1;
        }
        // Changes waiting for their dependencies are never committed. A server that keeps the
        // document it ingested into (its cache) still holds them; one that loads the document from
        // storage for every request (another process behind the load balancer, an evicted cache)
        // holds only what was applied.
        let work = match self.docs.get(&doc_id) {
            Some(stored) if !self.keeps_queued => {
                let mut kept = stored.clone();
                kept.apply_changes(work.get_changes(&accepted.heads_before))
                    .expect("applied changes apply again");
                kept
            }
            _ => work,
        };
        if !accepted.changed() {
            if self.keeps_queued && known {
                self.docs.insert(doc_id, work);
            }
        } else {
            self.stats.commits += 1;
            self.stats.compensations += accepted.compensations.len();
            if accepted.registration.is_some() {
                self.stats.registrations += 1;
            }
            self.commits.push(Commit {
                case: doc_id,
                device,
                heads_before: accepted.heads_before.clone(),
                applied: accepted.applied.clone(),
                server_change: accepted.server_change,
                heads_after: work.get_heads(),
                compensations: accepted.compensations.clone(),
                registration: accepted.registration.is_some(),
                case_before: self.cases.get(&doc_id).cloned(),
                case_after: None,
            });
            let case = ingest::policy_view(&work).expect("a committed case hydrates");
            self.largest_saved = self.largest_saved.max(work.save().len());
            self.commits.last_mut().expect("just pushed").case_after = Some(case.clone());
            let readable_by = self
                .users
                .iter()
                .map(|u| policy::can_read(u, &case, &self.units))
                .collect();
            self.docs.insert(doc_id, work);
            self.cases.insert(doc_id, case);
            let seq = self.feed.len() as u64 + 1;
            self.feed.push(FeedEntry {
                seq,
                case: doc_id,
                readable_by,
            });
        }
        let compensations = accepted
            .compensations
            .iter()
            .filter(|c| c.device.as_ref() == Some(&principal.device))
            .map(ingest::Compensation::to_protocol)
            .collect();
        ApplyOutcome::Committed {
            doc: self.docs[&doc_id].clone(),
            compensations,
        }
    }
}
