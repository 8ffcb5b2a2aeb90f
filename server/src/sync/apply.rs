//! One document's incoming changes: authorise them with `fengqiao_sync::ingest` under the case's
//! lock, commit what is accepted through the group committer, and only then answer the session
//! (DESIGN §8: durable before acknowledged).
//!
//! A case the server does not hold is a case opened on a device: `ingest_new` registers it, with
//! the next number of the opening unit's yearly counter. The number is asked for only once ingest
//! has found the case acceptable (a dry run with a placeholder, then the real run), so refused
//! cases use up no numbers; a number whose commit then fails is not reused. A message for an
//! unknown case whose changes build on history the server does not hold is answered `not_found`,
//! exactly as for a case the user may not read, so that nobody can probe which case ids exist.
//!
//! Ingest is CPU work on the whole document: it runs on the blocking pool, with the document moved
//! there and back under the lock.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use automerge::{ActorId, Automerge, ChangeHash};
use fengqiao_schema::document::Meta;
use fengqiao_schema::ids::UnitId;
use fengqiao_schema::time::Instant;
use fengqiao_schema::units::User;
use fengqiao_sync::ingest::{self, Accepted, ActorOwner, IngestContext, Reject};
use fengqiao_sync::session::{ApplyOutcome, ApplyRequest, ServerInput};

use super::driver::Peer;
use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::http::AppState;
use crate::store::documents::{ActorBinding, CommitRefused};

/// What a dry run of `ingest_new` hands back instead of a number.
const PLACEHOLDER_NUMBER: &str = "（待编号）";

pub(crate) async fn apply_one(state: &AppState, peer: &Peer, request: ApplyRequest) -> Result<ServerInput> {
    let doc_id = request.doc_id;
    let outcome = match authorise_and_commit(state, peer, &request, Timestamp::now()).await? {
        Ok(outcome) => outcome,
        Err(reject) => {
            tracing::info!(code = %reject.code(), reason = %reject, "changes refused");
            state.metrics.rejected(&reject.code());
            ApplyOutcome::Rejected(reject.to_rejection())
        }
    };
    Ok(ServerInput::Applied { doc_id, outcome })
}

/// Ingests one document's sync message (carrying changes) from `principal` in-process, through the
/// same authorisation and commit path as a sync session: for loading cases and for tests.
/// `Ok(Err("code: reason"))` when ingest refused it; nothing is stored then.
pub async fn ingest_message(
    state: &AppState,
    principal: crate::auth::Principal,
    doc_id: fengqiao_schema::ids::CaseId,
    message: Vec<u8>,
) -> Result<Result<(), String>> {
    ingest_message_at(state, principal, doc_id, message, Timestamp::now()).await
}

/// [`ingest_message`] as if it arrived at `now` by the server's clock: what the server writes
/// (registration time, handoff arbitration, custody since) is stamped with `now`. For loading
/// past cases (`fengqiao demo`) whose statistics must fall in the months of their dates.
pub async fn ingest_message_at(
    state: &AppState,
    principal: crate::auth::Principal,
    doc_id: fengqiao_schema::ids::CaseId,
    message: Vec<u8>,
    now: Timestamp,
) -> Result<Result<(), String>> {
    let units = state.store.unit_tree().await?;
    let peer = Peer { principal, units, origin: None };
    match authorise_and_commit(state, &peer, &ApplyRequest { doc_id, message }, now).await? {
        Ok(_) => Ok(Ok(())),
        Err(reject) => Ok(Err(format!("{}: {reject}", reject.code()))),
    }
}

/// `Ok(Err(reject))` for a hard reject (nothing stored); `Err` when storage failed.
async fn authorise_and_commit(
    state: &AppState,
    peer: &Peer,
    request: &ApplyRequest,
    now: Timestamp,
) -> Result<Result<ApplyOutcome, Reject>> {
    let limits = state.sync.settings().ingest;
    let incoming = match ingest::incoming_changes(&request.message, &limits) {
        Ok(changes) => changes,
        Err(reject) => return Ok(Err(reject)),
    };
    let actors = actor_directory(state, peer, incoming.iter().map(|c| c.actor_id().clone())).await?;

    let mut guard = state.documents.lock(request.doc_id).await?;
    guard.set_origin(peer.origin);
    let now = Instant::from_unix(now.secs());
    let job = IngestJob {
        principal: ingest::Principal { user: peer.principal.user.clone(), device: peer.principal.device.clone() },
        units: peer.units.clone(),
        actors: Arc::new(actors),
        server_actor: state.documents.server_actor().clone(),
        now,
        limits,
        message: Arc::from(&request.message[..]),
    };

    let accepted = if guard.is_stored() {
        let view = guard.policy_view();
        let doc = std::mem::take(guard.doc_mut());
        let (doc, result) = job.run_existing(doc, view).await?;
        *guard.doc_mut() = doc;
        match result {
            Ok(accepted) => accepted,
            Err(reject) => {
                if matches!(reject, Reject::CannotApply { reload: true, .. }) {
                    // The document may hold part of the message: load it again next time.
                    guard.discard();
                }
                return Ok(Err(reject));
            }
        }
    } else {
        if !self_contained(&incoming) {
            return Ok(Err(Reject::NotFound));
        }
        // A dry run finds out whether the case is acceptable and which unit numbers it.
        let (meta, dry) = job.run_new(PLACEHOLDER_NUMBER.to_string()).await?;
        if let Err(reject) = dry {
            return Ok(Err(reject));
        }
        let number = match meta {
            Some(meta) => case_number(state, peer, &meta, now).await?,
            None => PLACEHOLDER_NUMBER.to_string(),
        };
        let (_, real) = job.run_new(number).await?;
        match real {
            Ok((doc, accepted)) => {
                if accepted.registration.is_none() {
                    // Nothing to register (no changes): answer from the empty document, store nothing.
                    return Ok(Ok(ApplyOutcome::Committed { doc, compensations: Vec::new() }));
                }
                *guard.doc_mut() = doc;
                accepted
            }
            Err(reject) => return Ok(Err(reject)),
        }
    };

    let bindings: Vec<ActorBinding> = accepted
        .new_bindings
        .iter()
        .map(|actor| ActorBinding {
            actor: actor.clone(),
            user: peer.principal.user.id.clone(),
            device: peer.principal.device.clone(),
        })
        .collect();
    if accepted.changed() || accepted.registration.is_some() {
        if accepted.server_change.is_none() && accepted.registration.is_none() {
            guard.touched_only(accepted.heads_before.clone(), accepted.touched.clone());
        }
        match guard.commit(bindings).await {
            Ok(seq) => {
                tracing::debug!(seq = ?seq, applied = accepted.applied.len(), queued = accepted.queued, "committed");
            }
            Err(Error::CommitRefused(CommitRefused::ActorBoundElsewhere { actor, .. })) => {
                return Ok(Err(Reject::ActorBoundToOther { actor: actor.to_hex_string() }));
            }
            Err(Error::CommitRefused(refused)) => {
                tracing::warn!(%refused, "the store refused an accepted commit");
                return Ok(Err(Reject::CannotApply { detail: refused.to_string(), reload: true }));
            }
            Err(error) => return Err(error),
        }
    }
    record(state, &accepted);
    let compensations =
        accepted.compensations.iter().filter(|c| c.author == peer.principal.user.id).map(|c| c.to_protocol()).collect();
    Ok(Ok(ApplyOutcome::Committed { doc: guard.doc().clone(), compensations }))
}

fn record(state: &AppState, accepted: &Accepted) {
    let metrics = &state.metrics;
    metrics.changes_ingested.increment(accepted.applied.len() as u64);
    metrics.compensations.increment(accepted.compensations.len() as u64);
    if let Some(registration) = &accepted.registration {
        metrics.cases_registered.increment(1);
        tracing::info!(number = %registration.case_number, "case registered");
    }
    for compensation in &accepted.compensations {
        tracing::info!(section = %compensation.section.code(), author = %compensation.author, "section restored");
    }
}

/// Every change depends only on changes of the same message: the message can be a whole new case.
fn self_contained(changes: &[automerge::Change]) -> bool {
    let hashes: HashSet<ChangeHash> = changes.iter().map(|c| c.hash()).collect();
    changes.iter().all(|c| c.deps().iter().all(|d| hashes.contains(d)))
}

/// The bindings of the message's actors, from the cache or the database.
async fn actor_directory(
    state: &AppState,
    peer: &Peer,
    actors: impl Iterator<Item = ActorId>,
) -> Result<HashMap<ActorId, ActorOwner>> {
    let mut directory = HashMap::new();
    for actor in actors {
        if directory.contains_key(&actor) {
            continue;
        }
        let bound = match state.sync.cached_binding(&actor) {
            Some(bound) => Some(bound),
            None => match state.store.actor_binding(&actor).await? {
                Some(binding) => {
                    let bound = (binding.user, binding.device);
                    state.sync.cache_binding(actor.clone(), bound.clone());
                    Some(bound)
                }
                None => None,
            },
        };
        let Some((user_id, device)) = bound else { continue };
        let user = if user_id == peer.principal.user.id {
            peer.principal.user.clone()
        } else {
            match state.store.user(&user_id).await? {
                Some(record) => record.as_user(),
                // A binding to a user that no longer exists still is not this user's.
                None => User { id: user_id, unit: UnitId::new(""), roles: Default::default() },
            }
        };
        directory.insert(actor, ActorOwner::Device { user, device });
    }
    Ok(directory)
}

/// The next number of the unit that opened the case, in the unit's own format or the default
/// `（2026）东溪镇调字第12号` (`crate::numbering`).
async fn case_number(state: &AppState, peer: &Peer, meta: &Meta, now: Instant) -> Result<String> {
    use chrono::Datelike;
    let unit = UnitId::new(meta.opened_by_unit.clone());
    let year = now.china_date().date().year();
    let number = state.store.next_case_number(&unit, year).await?;
    let name = peer.units.get(unit.as_str()).map(|u| u.name.clone()).unwrap_or_else(|| unit.to_string());
    let format = state.store.case_number_format(&unit).await?.unwrap_or_default();
    Ok(format.render(year, &name, meta.kind, number))
}

/// Everything one ingest needs, owned, so that it can run on the blocking pool.
struct IngestJob {
    principal: ingest::Principal,
    units: Arc<fengqiao_schema::units::UnitTree>,
    actors: Arc<HashMap<ActorId, ActorOwner>>,
    server_actor: ActorId,
    now: Instant,
    limits: ingest::IngestLimits,
    message: Arc<[u8]>,
}

impl IngestJob {
    fn context(&self) -> IngestContext<'_> {
        IngestContext {
            principal: &self.principal,
            units: &self.units,
            actors: &*self.actors,
            server_actor: &self.server_actor,
            now: self.now,
            limits: self.limits,
        }
    }

    /// `ingest` on a stored case (given its policy view when the cache has it); hands the
    /// document back whatever happened.
    async fn run_existing(
        &self,
        mut doc: Automerge,
        view: Option<fengqiao_schema::document::Case>,
    ) -> Result<(Automerge, Result<Accepted, Reject>)> {
        let job = self.clone_for_blocking();
        tokio::task::spawn_blocking(move || {
            let result = match view {
                Some(view) => ingest::ingest_with_view(&mut doc, &job.message, &job.context(), view),
                None => ingest::ingest(&mut doc, &job.message, &job.context()),
            };
            (doc, result)
        })
        .await
        .map_err(Error::internal)
    }

    /// `ingest_new` with `number` as the case number; also hands back the case's `meta` as
    /// ingest saw it (when it got that far).
    #[allow(clippy::type_complexity)]
    async fn run_new(&self, number: String) -> Result<(Option<Meta>, Result<(Automerge, Accepted), Reject>)> {
        let job = self.clone_for_blocking();
        tokio::task::spawn_blocking(move || {
            let mut seen = None;
            let mut numbering = |meta: &Meta| {
                seen = Some(meta.clone());
                number.clone()
            };
            let result = ingest::ingest_new(&job.message, &job.context(), &mut numbering);
            (seen, result)
        })
        .await
        .map_err(Error::internal)
    }

    fn clone_for_blocking(&self) -> IngestJob {
        IngestJob {
            principal: self.principal.clone(),
            units: self.units.clone(),
            actors: self.actors.clone(),
            server_actor: self.server_actor.clone(),
            now: self.now,
            limits: self.limits,
            message: self.message.clone(),
        }
    }
}
