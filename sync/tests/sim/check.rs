//! The invariants checked at the end of every run, on the server's documents, its commit log and
//! the devices' replicas and stashes. Each returns every violation it finds, in words.
//!
//! 1. **Convergence.** Every device holds exactly the server's heads for every case its user may
//!    read, holds no other case, and has nothing left unacknowledged.
//! 2. **Nothing lost.** Every change a device made is in the server's document, or in that
//!    device's stash, and a stashed change's case was shown to the user as refused or gone.
//! 3. **Authorisation, by replaying the commit log.** For every commit, in the order the server
//!    made them, and every section: let B, M and A be the section's visible value (every key, list
//!    item, Text and scalar as automerge shows it at those heads, conflicts aside) before the
//!    commit, after the device's changes, and after the server's own change of that commit. If
//!    M ≠ B then either every device author of the commit's changes may write the section under
//!    `policy::can_write`, judged on the case as the server held it before the commit, or the
//!    server restored it: every value where M differs from B (looking into maps key by key; a
//!    Text, list or scalar is one value) is in A as in B. The server may write other values of the
//!    section in the same change, such as the receipt date of an accepted handoff. For a case
//!    opened on a device, B is the empty case as the schema creates it (every section present and
//!    empty: creating an empty section is not writing it) and the policy judges the case as
//!    registered. Consecutive commits on a case must chain (one's heads before are the previous
//!    one's heads after).
//! 4. **Compensations and review items match.** Every compensation ingest reported names a review
//!    item of kind `reverted_edit` (or `late_decision`, for a handoff answer that came too late) in
//!    the final document with the same author, section and change hashes, and its commit undid the
//!    edit: the section restored as in 3 for a section written without the right, the handoff's
//!    decision or withdrawal for an answer arbitration refused; every `reverted_edit` and
//!    `late_decision` item in any case is such a compensation's; review ids are unique.
//! 5. **Handoffs.** Every handoff on the server was arbitrated (none is left `requested`); custody
//!    moved once per accepted handoff (`custody.version` and its history); per custody version at
//!    most one handoff is pending or accepted; every decision that took effect was made by a user
//!    who may decide it.
//! 6. **Durable before acknowledged**, checked while the plan runs (`World::problems`): every head
//!    a device records as shared with the server is a change the server has committed.

use std::collections::{BTreeMap, BTreeSet};

use automerge::hydrate::Value as Hydrated;
use automerge::{Automerge, ChangeHash, ReadDoc as _};
use fengqiao_schema::document::Case;
use fengqiao_schema::handoff::can_decide;
use fengqiao_schema::policy;
use fengqiao_schema::units::User;
use fengqiao_schema::vocab::{HandoffStatus, ReviewKind, Section};
use fengqiao_sync::ingest::ActorOwner;
use fengqiao_sync::protocol::CaseId;

use super::server::Commit;
use super::work::short;
use super::world::World;

fn sorted(mut heads: Vec<ChangeHash>) -> Vec<ChangeHash> {
    heads.sort();
    heads
}

/// Every case as the server stores it at the end.
pub fn finals(world: &World) -> BTreeMap<CaseId, Case> {
    world
        .server
        .docs
        .keys()
        .map(|id| (*id, world.server.case(id).expect("stored")))
        .collect()
}

/// Every invariant; the violations found, empty when the run is sound.
pub fn check(world: &World, finals: &BTreeMap<CaseId, Case>) -> Vec<String> {
    let mut problems = world.problems.clone();
    convergence(world, finals, &mut problems);
    nothing_lost(world, &mut problems);
    authorisation(world, &mut problems);
    compensations(world, finals, &mut problems);
    handoffs(world, finals, &mut problems);
    problems
}

fn convergence(world: &World, finals: &BTreeMap<CaseId, Case>, problems: &mut Vec<String>) {
    let units = &world.server.units;
    for device in &world.devices {
        for (id, case) in finals {
            if !policy::can_read(device.user(), case, units) {
                if device.replica.contains_key(id) {
                    problems.push(format!(
                        "{} holds {}, which its user may not read",
                        device.name,
                        short(id)
                    ));
                }
                continue;
            }
            let server_heads = sorted(world.server.docs[id].get_heads());
            match device.replica.get(id) {
                None => problems.push(format!("{} lacks readable case {}", device.name, short(id))),
                Some(local) if sorted(local.get_heads()) != server_heads => problems.push(format!(
                    "{} holds {} at other heads than the server",
                    device.name,
                    short(id)
                )),
                Some(_) => {}
            }
        }
        for id in device.replica.keys() {
            if !finals.contains_key(id) {
                problems.push(format!(
                    "{} holds {}, which the server does not have",
                    device.name,
                    short(id)
                ));
            }
        }
        if !device.pending.is_empty() {
            problems.push(format!(
                "{} still has unacknowledged cases after settling: {:?}",
                device.name,
                device.pending.iter().map(short).collect::<Vec<_>>()
            ));
        }
    }
}

fn nothing_lost(world: &World, problems: &mut Vec<String>) {
    for device in &world.devices {
        for (id, hash) in &device.made {
            let on_server = world
                .server
                .docs
                .get(id)
                .is_some_and(|doc| doc.get_change_by_hash(hash).is_some());
            if on_server {
                continue;
            }
            let stashed = device
                .stash
                .iter()
                .any(|(c, doc)| c == id && doc.get_change_by_hash(hash).is_some());
            if !stashed {
                problems.push(format!(
                    "{}'s change {} to {} is neither on the server nor in its stash",
                    device.name,
                    &hash.to_string()[..8],
                    short(id)
                ));
            } else if !device.shown.told.contains(id) {
                problems.push(format!(
                    "{}'s change {} to {} was stashed without telling the user",
                    device.name,
                    &hash.to_string()[..8],
                    short(id)
                ));
            }
        }
    }
}

/// The users who wrote these changes, by their actor bindings.
fn authors(world: &World, doc: &Automerge, changes: &[ChangeHash]) -> Result<Vec<User>, String> {
    let mut users: Vec<User> = Vec::new();
    for hash in changes {
        let change = doc
            .get_change_by_hash(hash)
            .ok_or_else(|| format!("applied change {hash} is not in the document"))?;
        match world.server.actors.get(change.actor_id()) {
            Some(ActorOwner::Device { user, .. }) => {
                if !users.iter().any(|u| u.id == user.id) {
                    users.push(user.clone());
                }
            }
            Some(ActorOwner::Server) => {}
            None => return Err(format!("change {hash} has an actor bound to nobody")),
        }
    }
    Ok(users)
}

/// Two values as automerge shows them (every key, list item, Text and scalar), without its
/// conflict flags and marks: a value this version of the schema would not hydrate still counts.
fn visible_eq(a: &Hydrated, b: &Hydrated) -> bool {
    match (a, b) {
        (Hydrated::Scalar(x), Hydrated::Scalar(y)) => x == y,
        (Hydrated::Text(x), Hydrated::Text(y)) => x.to_string() == y.to_string(),
        (Hydrated::List(x), Hydrated::List(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y.iter())
                    .all(|(p, q)| visible_eq(&p.value, &q.value))
        }
        (Hydrated::Map(x), Hydrated::Map(y)) => {
            x.iter().count() == y.iter().count()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| visible_eq(&v.value, w)))
        }
        _ => false,
    }
}

fn same_value(a: Option<&Hydrated>, b: Option<&Hydrated>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => visible_eq(a, b),
        (None, None) => true,
        _ => false,
    }
}

/// Whatever differs between `before` and `mid` is as in `before` in `after`, looking into maps key
/// by key; a Text, a list or a scalar counts as one value.
fn undone(before: Option<&Hydrated>, mid: Option<&Hydrated>, after: Option<&Hydrated>) -> bool {
    if same_value(before, mid) {
        return true;
    }
    match (before, mid, after) {
        (Some(Hydrated::Map(b)), Some(Hydrated::Map(m)), Some(Hydrated::Map(a))) => b
            .iter()
            .chain(m.iter())
            .all(|(k, _)| undone(b.get(k), m.get(k), a.get(k))),
        _ => same_value(before, after),
    }
}

/// The sections of a case as automerge shows them at some heads (the root map).
fn view_at(doc: &Automerge, heads: &[ChangeHash]) -> Hydrated {
    doc.hydrate(Some(heads))
}

fn section(view: &Hydrated, section: Section) -> Option<&Hydrated> {
    match view {
        Hydrated::Map(root) => root.get(section.code()),
        _ => unreachable!("a case is a map"),
    }
}

/// What "no case yet" looks like: a case document as the schema creates it, every section present
/// and empty. A device opening a case creates them all; an empty section counts as the absent one.
fn empty_case() -> Hydrated {
    let mut doc = automerge::AutoCommit::new();
    autosurgeon::reconcile(&mut doc, Case::default()).expect("the empty case reconciles");
    doc.document().hydrate(None)
}

/// The values before a commit, after its device changes, and after the server's change.
struct CommitViews<'a> {
    doc: &'a Automerge,
    commit: &'a Commit,
    before: Hydrated,
    mid: Hydrated,
    after: Hydrated,
}

impl<'a> CommitViews<'a> {
    /// `before` is the previous commit's `after` on the same case when the caller has it; before
    /// a registration, the empty case.
    fn new(world: &'a World, commit: &'a Commit, before: Option<Hydrated>) -> CommitViews<'a> {
        let doc = &world.server.docs[&commit.case];
        let mid_heads = match commit.server_change {
            Some(hash) => doc
                .get_change_by_hash(&hash)
                .expect("the server change is stored")
                .deps()
                .to_vec(),
            None => commit.heads_after.clone(),
        };
        let before = before.unwrap_or_else(|| {
            if commit.registration {
                empty_case()
            } else {
                view_at(doc, &commit.heads_before)
            }
        });
        CommitViews {
            doc,
            commit,
            before,
            mid: view_at(doc, &mid_heads),
            after: view_at(doc, &commit.heads_after),
        }
    }

    fn changed(&self, s: Section) -> bool {
        !same_value(section(&self.before, s), section(&self.mid, s))
    }

    /// Every value of the section the device changes altered is back as it was before the commit.
    /// The server's change may have written other values of the section (an accepted handoff
    /// records the receipt date in the new track's section, after putting back what a device wrote
    /// there without the right).
    fn restored(&self, s: Section) -> bool {
        undone(
            section(&self.before, s),
            section(&self.mid, s),
            section(&self.after, s),
        )
    }

    /// A decision or withdrawal arbitration refused: that handoff's answer is as before the commit.
    /// The review item names the handoff, not which answer: one of them is as before (the other
    /// may have taken effect in the same message).
    fn answer_put_back(&self, handoff: &str) -> bool {
        let find = |view: &'_ Hydrated| -> Option<Hydrated> {
            let Some(Hydrated::List(list)) = section(view, Section::Handoffs) else {
                return None;
            };
            list.iter()
                .map(|item| &item.value)
                .find(|item| match item {
                    Hydrated::Map(map) => matches!(
                        map.get("id"),
                        Some(Hydrated::Scalar(automerge::ScalarValue::Str(id))) if id.as_str() == handoff
                    ),
                    _ => false,
                })
                .cloned()
        };
        match (find(&self.before), find(&self.after)) {
            (Some(Hydrated::Map(b)), Some(Hydrated::Map(a))) => ["decision", "withdrawal"]
                .iter()
                .any(|key| same_value(b.get(key), a.get(key))),
            _ => false,
        }
    }

    /// The case as the policy judges the commit's changes: as the server held it before, or for
    /// a registration, as registered (its meta and the custody the server gave it).
    fn judged(&self) -> &'a Case {
        let judged = if self.commit.registration {
            &self.commit.case_after
        } else {
            &self.commit.case_before
        };
        judged
            .as_ref()
            .expect("the server records the case around each commit")
    }
}

fn authorisation(world: &World, problems: &mut Vec<String>) {
    let units = &world.server.units;
    // The document after the last commit on each case: the next commit starts from it.
    let mut last: BTreeMap<CaseId, (Vec<ChangeHash>, Hydrated)> = BTreeMap::new();
    for (n, commit) in world.server.commits.iter().enumerate() {
        let before = match last.remove(&commit.case) {
            Some((heads, view)) if sorted(heads.clone()) == sorted(commit.heads_before.clone()) => {
                Some(view)
            }
            Some(_) => {
                problems.push(format!(
                    "commit {n} on {} does not start where the previous one ended",
                    short(&commit.case)
                ));
                None
            }
            None => None,
        };
        let views = CommitViews::new(world, commit, before);
        let changed: Vec<Section> = Section::ALL
            .iter()
            .copied()
            .filter(|s| views.changed(*s))
            .collect();
        if !changed.is_empty() {
            match authors(world, views.doc, &commit.applied) {
                Err(e) => problems.push(format!("commit {n} on {}: {e}", short(&commit.case))),
                Ok(authors) => {
                    let judged = views.judged();
                    for section in changed {
                        let allowed = authors
                            .iter()
                            .all(|u| policy::can_write(u, judged, section, units));
                        if allowed || views.restored(section) {
                            continue;
                        }
                        problems.push(format!(
                            "commit {n} on {} by {}: {} wrote {} without the right, and it was not \
                             restored",
                            short(&commit.case),
                            world.devices[commit.device].name,
                            authors.iter().map(|u| u.id.as_str()).collect::<Vec<_>>().join(","),
                            section.code()
                        ));
                    }
                }
            }
        }
        last.insert(commit.case, (commit.heads_after.clone(), views.after));
    }
}

/// Review items that record an edit the server put back: a section written without the right
/// (`reverted_edit`), or a handoff decision or withdrawal that came too late (`late_decision`).
fn reverts(kind: Option<ReviewKind>) -> bool {
    matches!(
        kind,
        Some(ReviewKind::RevertedEdit) | Some(ReviewKind::LateDecision)
    )
}

fn compensations(world: &World, finals: &BTreeMap<CaseId, Case>, problems: &mut Vec<String>) {
    let mut reported: BTreeSet<(CaseId, String)> = BTreeSet::new();
    for commit in &world.server.commits {
        if commit.compensations.is_empty() {
            continue;
        }
        let case = &finals[&commit.case];
        let views = CommitViews::new(world, commit, None);
        for comp in &commit.compensations {
            reported.insert((commit.case, comp.review_item.clone()));
            let Some(item) = case.review.iter().find(|r| r.id == comp.review_item) else {
                problems.push(format!(
                    "compensation of {} in {} names review item {}, which is not there",
                    comp.section.code(),
                    short(&commit.case),
                    comp.review_item
                ));
                continue;
            };
            let matches = reverts(item.kind)
                && item.section == Some(comp.section)
                && item.author == comp.author.as_str()
                && item.change_hashes == comp.changes;
            if !matches {
                problems.push(format!(
                    "review item {} in {} does not record its compensation: {item:?} vs {comp:?}",
                    item.id,
                    short(&commit.case)
                ));
            }
            if item.path == comp.section.code() {
                // A section written without the right: put back whole.
                if !views.restored(comp.section) {
                    problems.push(format!(
                        "the compensation of {} in {} did not restore the section",
                        comp.section.code(),
                        short(&commit.case)
                    ));
                }
            } else if !views.answer_put_back(&item.path) {
                problems.push(format!(
                    "the compensation {} in {} did not put back the answer to handoff {}",
                    item.id,
                    short(&commit.case),
                    item.path
                ));
            }
        }
    }
    for (id, case) in finals {
        let mut ids = BTreeSet::new();
        for item in &case.review {
            if !ids.insert(item.id.clone()) {
                problems.push(format!("review id {} twice in {}", item.id, short(id)));
            }
            if reverts(item.kind) && !reported.contains(&(*id, item.id.clone())) {
                problems.push(format!(
                    "reverted edit {} in {} ({} by {}) was never reported as a compensation: {}",
                    item.id,
                    short(id),
                    item.section.map(|s| s.code()).unwrap_or("-"),
                    item.author,
                    item.summary
                ));
            }
        }
    }
}

fn handoffs(world: &World, finals: &BTreeMap<CaseId, Case>, problems: &mut Vec<String>) {
    let users: Vec<&User> = world.devices.iter().map(|d| d.user()).collect();
    for (id, case) in finals {
        let mut open_per_version: BTreeMap<u64, usize> = BTreeMap::new();
        let mut accepted = 0;
        for h in &case.handoffs {
            match h.status {
                None | Some(HandoffStatus::Requested) => problems.push(format!(
                    "handoff {} in {} was never arbitrated",
                    h.id,
                    short(id)
                )),
                Some(HandoffStatus::Pending) | Some(HandoffStatus::Accepted) => {
                    *open_per_version.entry(h.custody_version).or_default() += 1;
                }
                _ => {}
            }
            if h.status == Some(HandoffStatus::Accepted) {
                accepted += 1;
            }
            if matches!(
                h.status,
                Some(HandoffStatus::Accepted) | Some(HandoffStatus::Rejected)
            ) && !users
                .iter()
                .any(|u| u.id.as_str() == h.decision.by && can_decide(u, h))
            {
                problems.push(format!(
                    "handoff {} in {} was decided by {:?}, who may not decide it",
                    h.id,
                    short(id),
                    h.decision.by
                ));
            }
        }
        if case.custody.version != accepted || case.custody.history.len() as u64 != accepted {
            problems.push(format!(
                "{}: custody version {} with {} epochs, but {accepted} accepted handoffs",
                short(id),
                case.custody.version,
                case.custody.history.len()
            ));
        }
        for (version, open) in open_per_version {
            if open > 1 {
                problems.push(format!(
                    "{}: {open} handoffs pending or accepted at custody version {version}",
                    short(id)
                ));
            }
        }
    }
}
