//! Ingest: what happens when a device's Automerge sync message for one case arrives (DESIGN §5, §6).
//!
//! Sans-IO. The caller passes the document, the principal, the unit tree,
//! the actor bindings it knows, the server's actor and the server time; ingest returns either a
//! hard [`Reject`] (the document's history is untouched) or an [`Accepted`] outcome: the changes
//! now in the document, the actor bindings to record, the compensations and review items, the
//! handoff decisions and, for a case seen for the first time, its registration. Everything the
//! server itself writes is one change under the server's actor, stamped with the server time.
//!
//! Cost matters (this runs for every edit of every tablet): nothing here copies the document,
//! replays history or hydrates the whole case. Checks that may refuse a message run on the decoded
//! changes *before* anything is applied; after applying, the sections touched come from the patch
//! log, and old values are read at the old heads only for sections that must be restored.

mod arbitrate;
mod restore;
pub mod shape;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use automerge::sync;
use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ActorId, Automerge, Change, ChangeHash, ObjType, PatchAction, PatchLog, Prop, ReadDoc, Value, ROOT};
use autosurgeon::{hydrate_prop, Hydrate, MaybeMissing};
use fengqiao_schema::document::{Case, Custody, HandoffRequest, Meta, ReviewItem, SCHEMA_VERSION};
use fengqiao_schema::ids::{DeviceId, UserId};
use fengqiao_schema::policy;
use fengqiao_schema::time::Instant;
use fengqiao_schema::units::{UnitTree, User};
use fengqiao_schema::vocab::{PetitionCategory, ReviewKind, Section};
use serde::Serialize;

pub use restore::restore_object;

/// The authenticated user and device a message came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user: User,
    pub device: DeviceId,
}

/// Who an actor id is bound to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActorOwner {
    Device { user: User, device: DeviceId },
    /// One of the server processes' own actors.
    Server,
}

/// The actor bindings the caller knows (from its store). Ingest records new ones in [`Accepted`].
pub trait ActorDirectory {
    fn owner(&self, actor: &ActorId) -> Option<ActorOwner>;
}

impl ActorDirectory for HashMap<ActorId, ActorOwner> {
    fn owner(&self, actor: &ActorId) -> Option<ActorOwner> {
        self.get(actor).cloned()
    }
}

/// Size limits on what one message may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IngestLimits {
    /// Encoded sync message, in bytes.
    pub max_message_bytes: usize,
    /// Operations in one change (`Change::len`): a small saved size can hide millions of operations.
    pub max_ops_per_change: usize,
    /// Operations in all changes of one message.
    pub max_ops_per_message: usize,
}

impl Default for IngestLimits {
    fn default() -> Self {
        IngestLimits { max_message_bytes: 4 << 20, max_ops_per_change: 100_000, max_ops_per_message: 400_000 }
    }
}

/// Everything ingest needs besides the document and the message.
pub struct IngestContext<'a> {
    pub principal: &'a Principal,
    pub units: &'a UnitTree,
    pub actors: &'a dyn ActorDirectory,
    pub server_actor: &'a ActorId,
    pub now: Instant,
    pub limits: IngestLimits,
}

/// Why a message for one case was refused. Nothing of it was stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Reject {
    #[error("数据已损坏，无法读取（{detail}）")]
    Malformed { detail: String },
    #[error("一次提交的数据过大（{size}字节，上限{limit}字节），请分批同步")]
    TooLarge { size: usize, limit: usize },
    #[error("一次修改包含的操作过多（{ops}个，上限{limit}个）")]
    TooManyOps { ops: usize, limit: usize },
    /// Unknown, unreadable and nonexistent cases look the same.
    #[error("找不到该案件")]
    NotFound,
    #[error("您没有修改该案件的权限")]
    NoWriteAccess,
    #[error("您无权在该单位登记此类案件")]
    MayNotOpen,
    #[error("该设备的修改标识已被其他用户或设备使用，请重新登录后再同步")]
    ActorBoundToOther { actor: String },
    #[error("不允许删除或整体替换案件的「{}」部分", section_label(section))]
    ReplacesSection { section: String },
    #[error("案件文档中出现了未知的部分「{key}」")]
    UnknownSection { key: String },
    #[error("该案件由更新版本的软件创建（版本{found}），请升级后再同步")]
    NewerSchema { found: u64 },
    #[error("这不是一份有效的案件文档：{detail}")]
    NotACase { detail: String },
    #[error("修改无法合并到案件中（{detail}），请重新同步")]
    CannotApply {
        detail: String,
        /// The document in memory may hold part of the message: the caller must drop it and
        /// reload the document from storage, which never saw any of it.
        #[serde(skip)]
        reload: bool,
    },
}

impl Reject {
    /// The code the batch protocol sends for this refusal.
    pub fn code(&self) -> crate::protocol::RejectCode {
        use crate::protocol::RejectCode;
        match self {
            Reject::Malformed { .. } => RejectCode::Malformed,
            Reject::TooLarge { .. } => RejectCode::TooLarge,
            Reject::TooManyOps { .. } => RejectCode::TooManyOps,
            Reject::NotFound => RejectCode::NotFound,
            Reject::NoWriteAccess => RejectCode::NoWriteAccess,
            Reject::MayNotOpen => RejectCode::MayNotOpen,
            Reject::ActorBoundToOther { .. } => RejectCode::ActorBoundToOther,
            Reject::ReplacesSection { .. } => RejectCode::ReplacesSection,
            Reject::UnknownSection { .. } => RejectCode::UnknownSection,
            Reject::NewerSchema { .. } => RejectCode::NewerSchema,
            Reject::NotACase { .. } => RejectCode::NotACase,
            Reject::CannotApply { .. } => RejectCode::CannotApply,
        }
    }

    /// The refusal as the batch protocol sends it. Where the reason may quote a decoder's or
    /// automerge's (English) error, or could tell a case that exists from one that does not, the
    /// code's default Chinese text is sent instead.
    pub fn to_rejection(&self) -> crate::protocol::Rejection {
        let code = self.code();
        match self {
            Reject::Malformed { .. } | Reject::NotACase { .. } | Reject::CannotApply { .. } | Reject::NotFound => {
                crate::protocol::Rejection::new(code)
            }
            _ => crate::protocol::Rejection { code, message: self.to_string() },
        }
    }
}

impl Compensation {
    /// The notice the batch protocol sends the author.
    pub fn to_protocol(&self) -> crate::protocol::Compensation {
        crate::protocol::Compensation {
            section: self.section.code().to_string(),
            reverted: self.changes.iter().filter_map(|h| h.parse().ok()).collect(),
            reason: self.reason.clone(),
            review_item: self.review_item.clone(),
        }
    }
}

fn section_label(code: &str) -> &str {
    Section::from_code(code).map(Section::label).unwrap_or(code)
}

/// A section restored by the server because its writer had no right to write it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Compensation {
    pub section: Section,
    pub author: UserId,
    pub device: Option<DeviceId>,
    /// The author's changes in this message (hex hashes).
    pub changes: Vec<String>,
    pub review_item: String,
    /// Why, in words a mediator understands.
    pub reason: String,
}

/// What the server decided about a handoff request in this message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HandoffEvent {
    pub handoff_id: String,
    pub status: fengqiao_schema::vocab::HandoffStatus,
    pub reason: String,
}

/// How a case seen for the first time was registered.
#[derive(Debug, Clone, PartialEq)]
pub struct Registration {
    pub case_number: String,
    pub registered_at: Instant,
    pub custody: Custody,
}

/// The outcome of an accepted message.
#[derive(Debug, Clone, Default)]
pub struct Accepted {
    /// Heads before the message: `doc.save_after(&heads_before)` is what must be stored.
    pub heads_before: Vec<ChangeHash>,
    /// Changes from the message (and earlier queued ones) now in the document.
    pub applied: Vec<ChangeHash>,
    /// Changes held back waiting for changes the device has not sent yet.
    pub queued: usize,
    /// Actor ids seen for the first time, to bind to the principal's user and device.
    pub new_bindings: Vec<ActorId>,
    /// The server's own change, if it wrote anything.
    pub server_change: Option<ChangeHash>,
    pub compensations: Vec<Compensation>,
    /// Ids of review items added (compensations, concurrent values, handoffs).
    pub review_items: Vec<String>,
    pub handoffs: Vec<HandoffEvent>,
    pub registration: Option<Registration>,
    /// Custody moved in this message (a handoff was accepted).
    pub custody_changed: bool,
    /// The root keys (sections) whose visible state the applied changes changed, before anything
    /// the server wrote itself: with `server_change` empty, no other part of the case changed.
    pub touched: BTreeSet<String>,
}

impl Accepted {
    /// Whether the document changed at all.
    pub fn changed(&self) -> bool {
        !self.applied.is_empty() || self.server_change.is_some()
    }
}

/// Ingests a sync message for a case the server already holds.
///
/// Ingest applies the message's changes itself; it does not do the sync protocol's bookkeeping
/// (the peer's heads and bloom filter). A caller that keeps a `sync::State` for the peer passes
/// the same message to `receive_sync_message` afterwards, which finds the changes already there.
pub fn ingest(doc: &mut Automerge, message: &[u8], ctx: &IngestContext<'_>) -> Result<Accepted, Reject> {
    let before_case = policy_view(doc).map_err(|e| Reject::NotACase { detail: e.to_string() })?;
    ingest_with_view(doc, message, ctx, before_case)
}

/// [`ingest`] given the document's [`policy_view`] as it is now, for a caller that keeps the case
/// hydrated beside the document (the server's cache) and so spares reading it again.
pub fn ingest_with_view(
    doc: &mut Automerge,
    message: &[u8],
    ctx: &IngestContext<'_>,
    before_case: Case,
) -> Result<Accepted, Reject> {
    if !policy::can_read(&ctx.principal.user, &before_case, ctx.units) {
        return Err(Reject::NotFound);
    }
    let (_, incoming) = decode(message, &ctx.limits)?;
    let fresh: Vec<&Change> = incoming.iter().filter(|c| doc.get_change_by_hash(&c.hash()).is_none()).collect();
    let new_bindings = check_actors(&fresh, ctx)?;
    if !fresh.is_empty() && policy::writable_sections(&ctx.principal.user, &before_case, ctx.units).is_empty() {
        return Err(Reject::NoWriteAccess);
    }
    check_root_ops(doc, &fresh, false)?;
    apply(doc, incoming, ctx, before_case, new_bindings, None)
}

/// Ingests a message for a case the server has never seen: a case created on a device, which is
/// registered (DESIGN §3). `case_number` is asked for once the case is known to be acceptable.
///
/// The returned document is to be stored only if `Accepted::registration` is set: a device's first
/// message carries no changes, and the empty document returned then only serves to answer it.
pub fn ingest_new(
    message: &[u8],
    ctx: &IngestContext<'_>,
    case_number: &mut dyn FnMut(&Meta) -> String,
) -> Result<(Automerge, Accepted), Reject> {
    let (_, incoming) = decode(message, &ctx.limits)?;
    let mut doc = Automerge::new().with_actor(ctx.server_actor.clone());
    if incoming.is_empty() {
        // A device's first message names its heads but carries no changes yet: the caller answers
        // it from an empty document so that the device sends them. Nothing is registered.
        return Ok((doc, Accepted::default()));
    }
    let fresh: Vec<&Change> = incoming.iter().collect();
    let new_bindings = check_actors(&fresh, ctx)?;
    check_root_ops(&doc, &fresh, true)?;
    // Look at the case before anything is kept: a throwaway document built from the same changes.
    let mut probe = Automerge::new();
    probe.apply_changes(incoming.iter().cloned()).map_err(|e| Reject::CannotApply { detail: e.to_string(), reload: false })?;
    match fengqiao_schema::upgrade::check_writable(&probe) {
        Ok(_) => {}
        Err(fengqiao_schema::upgrade::UpgradeError::NewerVersion { found, .. }) => return Err(Reject::NewerSchema { found }),
        Err(e) => return Err(Reject::NotACase { detail: e.to_string() }),
    }
    let meta: Meta = section(&probe, "meta").map_err(|e| Reject::NotACase { detail: e.to_string() })?;
    let Some(kind) = meta.kind else {
        return Err(Reject::NotACase { detail: "缺少案件类型".into() });
    };
    if !policy::can_open_case(&ctx.principal.user, kind, &meta.opened_by_unit, ctx.units) {
        return Err(Reject::MayNotOpen);
    }
    let registration = Registration {
        case_number: case_number(&meta),
        registered_at: ctx.now,
        custody: Custody {
            track: Some(kind.opening_track()),
            unit: meta.opened_by_unit.clone(),
            assignee: Some(ctx.principal.user.id.as_str().to_string()),
            since: Some(ctx.now),
            version: 0,
            history: Vec::new(),
        },
    };
    let before_case = Case { meta, ..Case::default() };
    let accepted = apply(&mut doc, incoming, ctx, before_case, new_bindings, Some(registration))?;
    Ok((doc, accepted))
}

/// The changes a sync message carries, decoded and checked as ingest decodes them: for a caller to
/// look up the bindings of their actors before calling [`ingest`], or to tell a message that
/// builds on history it does not hold.
pub fn incoming_changes(message: &[u8], limits: &IngestLimits) -> Result<Vec<Change>, Reject> {
    decode(message, limits).map(|(_, changes)| changes)
}

/// Decodes the message and every change in it, refusing anything malformed or over the limits.
fn decode(message: &[u8], limits: &IngestLimits) -> Result<(sync::Message, Vec<Change>), Reject> {
    if message.len() > limits.max_message_bytes {
        return Err(Reject::TooLarge { size: message.len(), limit: limits.max_message_bytes });
    }
    let msg = sync::Message::decode(message).map_err(|e| Reject::Malformed { detail: e.to_string() })?;
    let mut changes = Vec::new();
    let mut total_ops = 0;
    for chunk in msg.changes.iter() {
        for piece in split_chunks(chunk)? {
            let parsed = parse_chunk(piece)?;
            for change in parsed {
                if change.len() > limits.max_ops_per_change {
                    return Err(Reject::TooManyOps { ops: change.len(), limit: limits.max_ops_per_change });
                }
                total_ops += change.len();
                if total_ops > limits.max_ops_per_message {
                    return Err(Reject::TooManyOps { ops: total_ops, limit: limits.max_ops_per_message });
                }
                changes.push(change);
            }
        }
    }
    Ok((msg, changes))
}

const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];

/// Splits concatenated storage chunks (magic, checksum, type, LEB128 length, data).
fn split_chunks(mut bytes: &[u8]) -> Result<Vec<&[u8]>, Reject> {
    let malformed = |detail: &str| Reject::Malformed { detail: detail.to_string() };
    let mut out = Vec::new();
    while !bytes.is_empty() {
        if bytes.len() < 10 || bytes[..4] != MAGIC {
            return Err(malformed("chunk header"));
        }
        let mut len: u64 = 0;
        let mut shift = 0;
        let mut pos = 9;
        loop {
            let b = *bytes.get(pos).ok_or_else(|| malformed("chunk length"))?;
            if shift > 56 {
                return Err(malformed("chunk length"));
            }
            len |= u64::from(b & 0x7f) << shift;
            pos += 1;
            if b & 0x80 == 0 {
                break;
            }
            shift += 7;
        }
        let end = usize::try_from(len).ok().and_then(|l| pos.checked_add(l)).filter(|e| *e <= bytes.len());
        let end = end.ok_or_else(|| malformed("truncated chunk"))?;
        out.push(&bytes[..end]);
        bytes = &bytes[end..];
    }
    Ok(out)
}

fn parse_chunk(chunk: &[u8]) -> Result<Vec<Change>, Reject> {
    match chunk[8] {
        // A whole document (sent to a peer that has nothing yet).
        0 => {
            let doc = Automerge::load_with_options(
                chunk,
                automerge::LoadOptions::new().on_partial_load(automerge::OnPartialLoad::Error),
            )
            .map_err(|e| Reject::Malformed { detail: e.to_string() })?;
            Ok(doc.get_changes(&[]))
        }
        1 | 2 => {
            let change = Change::try_from(chunk).map_err(|e| Reject::Malformed { detail: e.to_string() })?;
            // The header checksum is the start of the change's hash: automerge does not check it
            // when parsing a single change, and a flipped bit elsewhere would pass unnoticed.
            if chunk[4..8] != change.hash().0[..4] {
                return Err(Reject::Malformed { detail: "checksum mismatch".to_string() });
            }
            Ok(vec![change])
        }
        other => Err(Reject::Malformed { detail: format!("unknown chunk type {other}") }),
    }
}

/// Every actor in the message must be unbound or bound to this user and device.
fn check_actors(changes: &[&Change], ctx: &IngestContext<'_>) -> Result<Vec<ActorId>, Reject> {
    let mut new = Vec::new();
    for change in changes {
        let actor = change.actor_id();
        if actor == ctx.server_actor {
            return Err(Reject::ActorBoundToOther { actor: actor.to_hex_string() });
        }
        match ctx.actors.owner(actor) {
            Some(ActorOwner::Device { user, device }) if user.id == ctx.principal.user.id && device == ctx.principal.device => {}
            Some(_) => return Err(Reject::ActorBoundToOther { actor: actor.to_hex_string() }),
            None => {
                if !new.contains(actor) {
                    new.push(actor.clone());
                }
            }
        }
    }
    Ok(new)
}

/// Root operations may only create a missing section: deleting or replacing a whole section cannot
/// be undone faithfully (notes/AUTOMERGE.md), and unknown top-level keys are not part of a case.
fn check_root_ops(doc: &Automerge, changes: &[&Change], new_document: bool) -> Result<(), Reject> {
    let mut created: BTreeSet<String> = BTreeSet::new();
    for change in changes {
        for op in change.decode().operations {
            if op.obj != automerge::legacy::ObjectId::Root {
                continue;
            }
            let automerge::legacy::Key::Map(key) = &op.key else {
                return Err(Reject::Malformed { detail: "list operation on the document root".into() });
            };
            let key = key.to_string();
            if Section::from_code(&key).is_none() {
                return Err(Reject::UnknownSection { key });
            }
            let exists = !new_document && doc.get(ROOT, key.as_str()).ok().flatten().is_some();
            let replaces = match op.action {
                automerge::legacy::OpType::Make(_) => exists || !created.insert(key.clone()),
                _ => true,
            };
            if replaces {
                return Err(Reject::ReplacesSection { section: key });
            }
        }
    }
    Ok(())
}

/// Reads a section, a missing one as its default.
fn section<D: autosurgeon::ReadDoc, T: Hydrate + Default>(doc: &D, key: &str) -> Result<T, autosurgeon::HydrateError> {
    Ok(match hydrate_prop::<_, MaybeMissing<T>, _, _>(doc, &ROOT, key)? {
        MaybeMissing::Present(v) => v,
        MaybeMissing::Missing => T::default(),
    })
}

/// The parts of a case the policy looks at, read cheaply: meta, custody, handoffs and the
/// petition category (which restricts visibility). Other sections stay empty. Public so that a
/// server can judge who reads a stored case the same way ingest does.
pub fn policy_view<D: autosurgeon::ReadDoc + ReadDoc>(doc: &D) -> Result<Case, autosurgeon::HydrateError> {
    // `policy_view_of` builds the same from a hydrated case.
    let mut case = Case {
        meta: section(doc, "meta")?,
        custody: section(doc, "custody")?,
        handoffs: section(doc, "handoffs")?,
        ..Case::default()
    };
    if let Ok(Some((_, petition))) = ReadDoc::get(doc, ROOT, "petition") {
        if let Ok(Some((Value::Scalar(s), _))) = ReadDoc::get(doc, &petition, "category") {
            case.petition.category = s.as_str().and_then(PetitionCategory::from_code);
        }
    }
    Ok(case)
}

/// The [`policy_view`] of a case hydrated whole: the same sections, the rest left empty.
pub fn policy_view_of(case: &Case) -> Case {
    let mut view = Case { meta: case.meta.clone(), custody: case.custody.clone(), handoffs: case.handoffs.clone(), ..Case::default() };
    view.petition.category = case.petition.category;
    view
}

/// The sections whose visible state the patches changed.
fn touched_sections(patches: &[automerge::Patch]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for patch in patches {
        match patch.path.first() {
            Some((_, Prop::Map(key))) => {
                out.insert(key.clone());
            }
            Some(_) => {}
            None => match &patch.action {
                PatchAction::PutMap { key, .. } | PatchAction::DeleteMap { key } => {
                    out.insert(key.clone());
                }
                PatchAction::Conflict { prop: Prop::Map(key) } => {
                    out.insert(key.clone());
                }
                _ => {}
            },
        }
    }
    out
}

struct Author {
    user: User,
    device: Option<DeviceId>,
    changes: Vec<ChangeHash>,
}

fn apply(
    doc: &mut Automerge,
    incoming: Vec<Change>,
    ctx: &IngestContext<'_>,
    before_case: Case,
    new_bindings: Vec<ActorId>,
    registration: Option<Registration>,
) -> Result<Accepted, Reject> {
    let heads_before = doc.get_heads();
    let mut log = PatchLog::active();
    if let Err(e) = doc.apply_changes_log_patches(incoming, &mut log) {
        let reload = doc.get_heads() != heads_before;
        return Err(Reject::CannotApply { detail: e.to_string(), reload });
    }
    let applied_changes = doc.get_changes(&heads_before);
    let applied: Vec<ChangeHash> = applied_changes.iter().map(|c| c.hash()).collect();
    let queued = doc.get_missing_deps(&[]).len();
    let mut out = Accepted { heads_before: heads_before.clone(), applied, queued, new_bindings, ..Accepted::default() };
    if out.applied.is_empty() && registration.is_none() {
        return Ok(out);
    }

    // Who wrote what: the principal for actors of this message, the bound owner for changes
    // queued earlier and released now.
    let mut authors: BTreeMap<String, Author> = BTreeMap::new();
    for change in &applied_changes {
        let (user, device) = if out.new_bindings.contains(change.actor_id()) {
            (ctx.principal.user.clone(), Some(ctx.principal.device.clone()))
        } else {
            match ctx.actors.owner(change.actor_id()) {
                Some(ActorOwner::Device { user, device }) => (user, Some(device)),
                // Server changes relayed back are not judged; unknown owners cannot happen after
                // check_actors, but are treated as the principal rather than trusted.
                Some(ActorOwner::Server) => continue,
                None => (ctx.principal.user.clone(), Some(ctx.principal.device.clone())),
            }
        };
        authors
            .entry(user.id.as_str().to_string())
            .or_insert(Author { user, device, changes: Vec::new() })
            .changes
            .push(change.hash());
    }

    let patches = doc.make_patches(&mut log);
    let touched = touched_sections(&patches);
    out.touched = touched.clone();
    let ill_typed = ill_typed_sections(&patches);

    // The case as the policy sees it: for a new case, as registered.
    let mut policy_case = before_case;
    if let Some(reg) = &registration {
        policy_case.custody = reg.custody.clone();
    }

    let now_ms = ctx.now.unix_seconds() * 1000;
    let stamp = review_stamp(&out.applied, &heads_before, ctx.now);
    let mut review_seq = 0usize;
    let mut next_review_id = || {
        review_seq += 1;
        format!("rv-{stamp}-{review_seq}")
    };

    doc.set_actor(ctx.server_actor.clone());
    let mut tx = doc.transaction();
    let mut reviews: Vec<ReviewItem> = Vec::new();

    // 1. Sections written without the right: restore them as they were before the message.
    let mut restored: BTreeSet<Section> = BTreeSet::new();
    for key in &touched {
        let Some(section) = Section::from_code(key) else { continue };
        if registration.is_some() && matches!(section, Section::Custody | Section::Review) {
            continue; // written below by the server itself
        }
        let mut offenders: Vec<&Author> = authors
            .values()
            .filter(|a| !policy::can_write(&a.user, &policy_case, section, ctx.units))
            .collect();
        // A case created on a device carries every section, most of them empty: creating an empty
        // section is not writing it.
        if registration.is_some() && !offenders.is_empty() && section_is_empty(&tx, section) {
            offenders.clear();
        }
        let invalid = offenders.is_empty() && ill_typed.contains(key);
        if offenders.is_empty() && !invalid {
            continue;
        }
        restore_section(&mut tx, key, &heads_before).map_err(|e| Reject::CannotApply { detail: e.to_string(), reload: true })?;
        restored.insert(section);
        let culprits: Vec<&Author> = if invalid { authors.values().collect() } else { offenders };
        for author in culprits {
            let id = next_review_id();
            let reason = if invalid {
                format!("「{}」中填写的内容格式不正确，已恢复为修改前的内容", section.label())
            } else {
                format!("您在无权修改时修改了「{}」（例如案件已移交其他单位），修改已被撤回，原内容保留在历史记录中", section.label())
            };
            reviews.push(ReviewItem {
                id: id.clone(),
                kind: Some(ReviewKind::RevertedEdit),
                section: Some(section),
                path: key.clone(),
                author: author.user.id.as_str().to_string(),
                device: author.device.as_ref().map(|d| d.as_str().to_string()).unwrap_or_default(),
                change_hashes: author.changes.iter().map(|h| h.to_string()).collect(),
                summary: reason.clone(),
                units: review_units(&policy_case, &[author.user.unit.as_str()]),
                created_at: Some(ctx.now),
                ..ReviewItem::default()
            });
            out.compensations.push(Compensation {
                section,
                author: author.user.id.clone(),
                device: author.device.clone(),
                changes: author.changes.iter().map(|h| h.to_string()).collect(),
                review_item: id,
                reason,
            });
        }
    }

    // 2. Registration of a new case.
    if let Some(reg) = &registration {
        let meta = tx.get(ROOT, "meta").ok().flatten().map(|(_, id)| id).ok_or_else(|| Reject::NotACase { detail: "缺少基本信息".into() })?;
        tx.put(&meta, "case_number", reg.case_number.as_str()).map_err(apply_err)?;
        tx.put(&meta, "registered_at", reg.registered_at.to_string()).map_err(apply_err)?;
        tx.put(&meta, "schema_version", automerge::ScalarValue::Uint(SCHEMA_VERSION)).map_err(apply_err)?;
        autosurgeon::reconcile_prop(&mut tx, ROOT, "custody", &reg.custody).map_err(|e| Reject::CannotApply { detail: e.to_string(), reload: true })?;
        // A new case starts with no review items: only the server writes them.
        if let Ok(Some((_, list))) = tx.get(ROOT, "review") {
            for i in (0..tx.length(&list)).rev() {
                tx.delete(&list, i).map_err(apply_err)?;
            }
        } else {
            tx.put_object(ROOT, "review", ObjType::List).map_err(apply_err)?;
        }
        out.registration = Some(reg.clone());
    }

    // 3. Handoffs: arbitrate requests, decisions and withdrawals.
    if touched.contains(Section::Handoffs.code()) && !restored.contains(&Section::Handoffs) {
        let principal_author = authors.get(ctx.principal.user.id.as_str());
        let actor_user = principal_author.map(|a| &a.user).unwrap_or(&ctx.principal.user);
        let arb = arbitrate::arbitrate(&mut tx, &policy_case, actor_user, ctx, &heads_before, &mut next_review_id)
            .map_err(|e| Reject::CannotApply { detail: e.to_string(), reload: true })?;
        // A decision, withdrawal or deletion that arbitration put back is the author's edit
        // reverted: the author is told, like any compensation (DESIGN §5.2, §6.3).
        let changes: Vec<String> =
            principal_author.map(|a| a.changes.iter().map(|h| h.to_string()).collect()).unwrap_or_default();
        for mut review in arb.reviews {
            if matches!(review.kind, Some(ReviewKind::RevertedEdit) | Some(ReviewKind::LateDecision)) {
                review.change_hashes = changes.clone();
                out.compensations.push(Compensation {
                    section: Section::Handoffs,
                    author: actor_user.id.clone(),
                    device: Some(ctx.principal.device.clone()),
                    changes: changes.clone(),
                    review_item: review.id.clone(),
                    reason: review.summary.clone(),
                });
            }
            reviews.push(review);
        }
        out.handoffs = arb.events;
        out.custody_changed = arb.custody_changed;
    }

    // 4. Legal fields that two devices set at once: keep both for a person to choose.
    for key in &touched {
        let Some(section) = Section::from_code(key) else { continue };
        if restored.contains(&section) {
            continue;
        }
        for (path, values) in concurrent_legal_values(&tx, section) {
            if already_reviewed(&tx, section, &path, &values) {
                continue;
            }
            let id = next_review_id();
            reviews.push(ReviewItem {
                id,
                kind: Some(ReviewKind::ConcurrentValues),
                section: Some(section),
                summary: format!("「{}」的「{}」被同时填写了不同的值，请核对后选定", section.label(), path),
                path,
                values,
                units: review_units(&policy_case, &[]),
                created_at: Some(ctx.now),
                author: authors.keys().next().cloned().unwrap_or_default(),
                change_hashes: out.applied.iter().map(|h| h.to_string()).collect(),
                ..ReviewItem::default()
            });
        }
    }

    if !reviews.is_empty() {
        let list = match tx.get(ROOT, "review").map_err(apply_err)? {
            Some((_, id)) => id,
            None => tx.put_object(ROOT, "review", ObjType::List).map_err(apply_err)?,
        };
        for item in &reviews {
            let at = tx.length(&list);
            autosurgeon::reconcile::reconcile_insert(&mut tx, list.clone(), at, item)
                .map_err(|e| Reject::CannotApply { detail: e.to_string(), reload: true })?;
            out.review_items.push(item.id.clone());
        }
    }

    let (hash, _) = tx.commit_with(CommitOptions::default().with_time(now_ms).with_message("fengqiao server".to_string()));
    out.server_change = hash;
    Ok(out)
}

fn apply_err(e: automerge::AutomergeError) -> Reject {
    Reject::CannotApply { detail: e.to_string(), reload: true }
}

/// A stable prefix for review-item ids made in this message (no randomness in this crate).
fn review_stamp(applied: &[ChangeHash], heads: &[ChangeHash], now: Instant) -> String {
    let basis = applied.first().or(heads.first()).map(|h| h.to_string()).unwrap_or_default();
    format!("{}{}", now.unix_seconds(), &basis[..basis.len().min(8)])
}

/// Units that should see a review item: the custodian, pending receivers and those named.
fn review_units(case: &Case, extra: &[&str]) -> Vec<String> {
    let mut units: Vec<String> = Vec::new();
    let (custodian, _) = policy::custodian(case);
    for u in std::iter::once(custodian).chain(extra.iter().copied()) {
        if !u.is_empty() && !units.iter().any(|x| x == u) {
            units.push(u.to_string());
        }
    }
    units
}

fn restore_section(tx: &mut automerge::transaction::Transaction<'_>, key: &str, heads: &[ChangeHash]) -> Result<(), automerge::AutomergeError> {
    let old = if heads.is_empty() { None } else { tx.get_at(ROOT, key, heads)? };
    match old {
        // The section did not exist before: empty it, but keep the object so that every device
        // goes on editing the same one (deleting a section is never faithful).
        None => match tx.get(ROOT, key)? {
            Some((Value::Object(ty), id)) => clear_object(tx, &id, ty),
            Some((Value::Scalar(_), _)) => tx.delete(ROOT, key),
            None => Ok(()),
        },
        Some((Value::Object(ty), id)) => restore_object(tx, &id, ty, heads),
        Some((Value::Scalar(s), _)) => {
            let s = s.into_owned();
            tx.put(ROOT, key, s)
        }
    }
}

/// Removes everything inside an object.
fn clear_object(tx: &mut automerge::transaction::Transaction<'_>, obj: &automerge::ObjId, ty: ObjType) -> Result<(), automerge::AutomergeError> {
    match ty {
        ObjType::Map | ObjType::Table => {
            let keys: Vec<String> = tx.keys(obj).collect();
            for k in keys {
                tx.delete(obj, k.as_str())?;
            }
        }
        ObjType::List => {
            for i in (0..tx.length(obj)).rev() {
                tx.delete(obj, i)?;
            }
        }
        ObjType::Text => tx.update_text(obj, "")?,
    }
    Ok(())
}

/// The section holds nothing but defaults.
fn section_is_empty<D: autosurgeon::ReadDoc>(doc: &D, which: Section) -> bool {
    use fengqiao_schema::document as d;
    fn empty<D: autosurgeon::ReadDoc, T: Hydrate + Default + PartialEq>(doc: &D, key: &str) -> bool {
        section::<_, T>(doc, key).is_ok_and(|v| v == T::default())
    }
    let key = which.code();
    match which {
        Section::Meta => empty::<_, d::Meta>(doc, key),
        Section::Parties => empty::<_, Vec<d::Party>>(doc, key),
        Section::Claims => empty::<_, d::Claims>(doc, key),
        Section::Mediation => empty::<_, d::Mediation>(doc, key),
        Section::Petition => empty::<_, d::Petition>(doc, key),
        Section::Reconsideration => empty::<_, d::Reconsideration>(doc, key),
        Section::Litigation => empty::<_, d::Litigation>(doc, key),
        Section::Handoffs => empty::<_, Vec<HandoffRequest>>(doc, key),
        Section::Custody => empty::<_, Custody>(doc, key),
        Section::Review => empty::<_, Vec<ReviewItem>>(doc, key),
        Section::Attachments => empty::<_, Vec<d::Attachment>>(doc, key),
    }
}

/// Sections where a patch put a value of the wrong kind for its field (a date that is not a
/// date, a code outside its vocabulary, a number where text belongs): the section would no longer
/// read as the schema's type. Checked per written value, at the cost of what was written.
fn ill_typed_sections(patches: &[automerge::Patch]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut check = |path: String, value: &Value<'_>| {
        if let Some(field) = shape::field(&path) {
            if !shape::accepts(field, value) {
                let section = path.split('/').next().unwrap_or_default().to_string();
                out.insert(section);
            }
        }
    };
    for patch in patches {
        match &patch.action {
            PatchAction::PutMap { key, value, .. } => {
                check(shape::patch_path(&patch.path, Some(&Prop::Map(key.clone()))), &value.0)
            }
            PatchAction::PutSeq { index, value, .. } => check(shape::patch_path(&patch.path, Some(&Prop::Seq(*index))), &value.0),
            PatchAction::Insert { values, .. } => {
                let path = shape::patch_path(&patch.path, Some(&Prop::Seq(0)));
                for (value, _, _) in values.iter() {
                    check(path.clone(), value);
                }
            }
            _ => {}
        }
    }
    out
}

/// Legally significant fields (DESIGN §5.4): results, decision types, dates, amounts.
const LEGAL_FIELDS: &[(Section, &[&str])] = &[
    (Section::Mediation, &["result"]),
    (Section::Mediation, &["result_on"]),
    (Section::Mediation, &["accepted_on"]),
    (Section::Mediation, &["agreement", "signed_on"]),
    (Section::Mediation, &["agreement", "effective_on"]),
    (Section::Mediation, &["agreement", "amount_fen"]),
    (Section::Mediation, &["judicial_confirmation", "applied_on"]),
    (Section::Mediation, &["judicial_confirmation", "result"]),
    (Section::Petition, &["received_on"]),
    (Section::Petition, &["category"]),
    (Section::Petition, &["route"]),
    (Section::Petition, &["intake"]),
    (Section::Petition, &["intake_notified_on"]),
    (Section::Petition, &["accepted_on"]),
    (Section::Petition, &["extension", "days"]),
    (Section::Petition, &["extension", "approved_on"]),
    (Section::Petition, &["reply", "result"]),
    (Section::Petition, &["reply", "issued_on"]),
    (Section::Petition, &["reply", "received_on"]),
    (Section::Reconsideration, &["received_on"]),
    (Section::Reconsideration, &["intake"]),
    (Section::Reconsideration, &["intake_decided_on"]),
    (Section::Reconsideration, &["accepted_on"]),
    (Section::Reconsideration, &["procedure"]),
    (Section::Reconsideration, &["act", "made_on"]),
    (Section::Reconsideration, &["act", "known_on"]),
    (Section::Reconsideration, &["extension", "days"]),
    (Section::Reconsideration, &["decision", "kind"]),
    (Section::Reconsideration, &["decision", "decided_on"]),
    (Section::Reconsideration, &["decision", "served_on"]),
    (Section::Litigation, &["instance"]),
    (Section::Litigation, &["registered_on"]),
    (Section::Litigation, &["complaint_received_on"]),
    (Section::Litigation, &["defence_filed_on"]),
    (Section::Litigation, &["judgment", "outcome"]),
    (Section::Litigation, &["judgment", "judged_on"]),
    (Section::Litigation, &["judgment", "served_on"]),
    (Section::Litigation, &["appeal", "filed_on"]),
];

/// Legal fields of `section` holding more than one value, as (path, values as text).
fn concurrent_legal_values<D: ReadDoc>(doc: &D, section: Section) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for (s, path) in LEGAL_FIELDS.iter().filter(|(s, _)| *s == section) {
        let Ok(Some((_, mut obj))) = doc.get(ROOT, s.code()) else { continue };
        let (last, parents) = path.split_last().expect("paths are not empty");
        let mut found = true;
        for p in parents {
            match doc.get(&obj, *p) {
                Ok(Some((Value::Object(_), id))) => obj = id,
                _ => {
                    found = false;
                    break;
                }
            }
        }
        if !found {
            continue;
        }
        let Ok(values) = doc.get_all(&obj, *last) else { continue };
        if values.len() > 1 {
            let mut texts: Vec<String> = values.iter().map(|(v, _)| scalar_text(v)).collect();
            texts.sort();
            texts.dedup();
            if texts.len() > 1 {
                out.push((path.join("/"), texts));
            }
        }
    }
    out
}

fn scalar_text(v: &Value<'_>) -> String {
    match v {
        Value::Scalar(s) => match s.as_ref() {
            automerge::ScalarValue::Str(s) => s.to_string(),
            automerge::ScalarValue::Null => "（空）".to_string(),
            other => other.to_string(),
        },
        Value::Object(t) => format!("({t:?})"),
    }
}

/// An open review item already lists these values for this field.
fn already_reviewed<D: autosurgeon::ReadDoc>(doc: &D, section: Section, path: &str, values: &[String]) -> bool {
    let items: Vec<ReviewItem> = section_or_default(doc, "review");
    items.iter().any(|r| {
        !r.done && r.kind == Some(ReviewKind::ConcurrentValues) && r.section == Some(section) && r.path == path && r.values == values
    })
}

fn section_or_default<D: autosurgeon::ReadDoc, T: Hydrate + Default>(doc: &D, key: &str) -> T {
    section(doc, key).unwrap_or_default()
}
