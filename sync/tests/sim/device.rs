//! A simulated tablet: its replica (documents and encoded sync states), cursor, unacknowledged
//! cases and stash, as PROTOCOL.md §7 says a client keeps them, plus what the checks need: every
//! change it made and every notice it showed.

use std::collections::{BTreeMap, BTreeSet};

use automerge::sync;
use automerge::transaction::{CommitOptions, Transaction};
use automerge::{ActorId, Automerge, ChangeHash};
use fengqiao_schema::ids::DeviceId;
use fengqiao_schema::time::Instant;
use fengqiao_schema::units::User;
use fengqiao_sync::ingest::Principal;
use fengqiao_sync::protocol::{CaseId, Cursor};
use fengqiao_sync::session::{ClientSession, DocUpdate, ForgetReason, LocalDoc, Notice};

/// A session in progress: the client machine and the connection it talks over.
pub struct ActiveSession {
    pub client: ClientSession,
    pub conn: usize,
    /// Steps without anything in flight on the connection; the device gives up after a few.
    pub idle: u32,
}

/// What the device showed its user, counted for the checks and the summary.
#[derive(Default, Debug, Clone)]
pub struct Shown {
    pub rejected: BTreeMap<String, usize>,
    /// Cases the user was told about: refused, or gone.
    pub told: BTreeSet<CaseId>,
    /// Cases forgotten because the user may no longer read them.
    pub gone: usize,
    pub compensated: usize,
}

pub struct Device {
    pub name: String,
    pub principal: Principal,
    pub actor: ActorId,
    pub replica: BTreeMap<CaseId, Automerge>,
    pub sync_states: BTreeMap<CaseId, Vec<u8>>,
    pub cursor: Option<Cursor>,
    /// Cases holding changes the server has not acknowledged.
    pub pending: BTreeSet<CaseId>,
    /// Copies set aside after a refusal (or a case gone with unsynced changes), never synced.
    pub stash: Vec<(CaseId, Automerge)>,
    /// Every change this device made, in order.
    pub made: Vec<(CaseId, ChangeHash)>,
    pub shown: Shown,
    pub offline_until: u64,
    pub session: Option<ActiveSession>,
    pub sessions_finished: usize,
    pub sessions_failed: usize,
}

impl Device {
    pub fn new(name: &str, user: User, actor_byte: u8) -> Device {
        Device {
            name: name.to_string(),
            principal: Principal {
                user,
                device: DeviceId::new(name),
            },
            actor: ActorId::from([actor_byte; 16]),
            replica: BTreeMap::new(),
            sync_states: BTreeMap::new(),
            cursor: None,
            pending: BTreeSet::new(),
            stash: Vec::new(),
            made: Vec::new(),
            shown: Shown::default(),
            offline_until: 0,
            session: None,
            sessions_finished: 0,
            sessions_failed: 0,
        }
    }

    pub fn user(&self) -> &User {
        &self.principal.user
    }

    pub fn online(&self, step: u64) -> bool {
        step >= self.offline_until
    }

    /// A case created on the device: it is pending until the server has it.
    pub fn create(&mut self, id: CaseId, doc: Automerge) {
        for change in doc.get_changes(&[]) {
            self.made.push((id, change.hash()));
        }
        self.replica.insert(id, doc.with_actor(self.actor.clone()));
        self.pending.insert(id);
    }

    /// One edit by the user: one change, stamped with the device clock. `f` reads the case through
    /// the transaction, so that Text reconciles against the heads it commits on.
    pub fn edit(
        &mut self,
        id: CaseId,
        now: Instant,
        f: impl FnOnce(&mut Transaction<'_>) -> Result<(), String>,
    ) -> Result<Option<ChangeHash>, String> {
        let doc = self
            .replica
            .get_mut(&id)
            .expect("the device holds the case");
        let mut tx = doc.transaction();
        f(&mut tx)?;
        let (hash, _) =
            tx.commit_with(CommitOptions::default().with_time(now.unix_seconds() * 1000));
        if let Some(hash) = hash {
            self.made.push((id, hash));
            self.pending.insert(id);
        }
        Ok(hash)
    }

    pub fn local(&self, id: CaseId) -> Option<LocalDoc> {
        self.replica.get(&id).map(|doc| LocalDoc {
            doc: doc.clone(),
            sync_state: self.sync_states.get(&id).cloned(),
        })
    }

    pub fn store(&mut self, id: CaseId, update: Option<DocUpdate>, sync_state: Vec<u8>) {
        match update {
            Some(DocUpdate::Merge(bytes)) => match self.replica.get_mut(&id) {
                Some(doc) => {
                    doc.load_incremental(&bytes)
                        .expect("what the server sends merges");
                }
                None => {
                    let doc = Automerge::load(&bytes).expect("a saved document loads");
                    self.replica.insert(id, doc.with_actor(self.actor.clone()));
                }
            },
            Some(DocUpdate::Replace(bytes)) => {
                let doc = Automerge::load(&bytes).expect("a saved document loads");
                self.replica.insert(id, doc.with_actor(self.actor.clone()));
            }
            None => {}
        }
        // Acknowledged once the shared heads cover the replica's heads (PROTOCOL.md §7).
        let shared = sync::State::decode(&sync_state)
            .expect("a stored sync state decodes")
            .shared_heads;
        if let Some(doc) = self.replica.get(&id) {
            if doc.get_heads().iter().all(|h| shared.contains(h)) {
                self.pending.remove(&id);
            }
        }
        self.sync_states.insert(id, sync_state);
    }

    pub fn stash_case(&mut self, id: CaseId) {
        if let Some(doc) = self.replica.remove(&id) {
            self.stash.push((id, doc));
        }
        self.sync_states.remove(&id);
        self.pending.remove(&id);
    }

    pub fn forget(&mut self, id: CaseId, reason: ForgetReason) {
        if reason == ForgetReason::Gone {
            self.shown.told.insert(id);
            self.shown.gone += 1;
        }
        // Unsynced work is never deleted: it goes to the stash.
        if self.pending.contains(&id) {
            self.stash_case(id);
        } else {
            self.replica.remove(&id);
            self.sync_states.remove(&id);
        }
    }

    pub fn show(&mut self, notice: Notice) {
        match notice {
            Notice::Rejected { doc_id, rejection } => {
                self.shown.told.insert(doc_id);
                *self
                    .shown
                    .rejected
                    .entry(rejection.code.as_str().to_string())
                    .or_default() += 1;
            }
            Notice::Compensated { .. } => self.shown.compensated += 1,
        }
    }
}
