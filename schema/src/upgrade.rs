//! Creating case documents, and upgrading documents written by older versions (`meta.schema_version`).
//!
//! A newer server upgrades an older document with an ordinary change; code that meets a newer
//! version than it knows keeps the document read-only and says so.

use automerge::{transaction::Transactable, ActorId, AutoCommit, ObjType, ReadDoc, ScalarValue, Value, ROOT};

use crate::document::{Case, SCHEMA_VERSION};
use crate::time::Instant;
use crate::vocab::{CaseKind, Section};

/// Why a document cannot be used as a case.
#[derive(Debug, thiserror::Error)]
pub enum UpgradeError {
    #[error("此案件由更新版本的软件创建（版本{found}，本软件支持到版本{supported}），只能查看，请升级后再编辑")]
    NewerVersion { found: u64, supported: u64 },
    #[error("案件文档缺少版本号或格式不正确")]
    NotACase,
    #[error("文档写入失败：{0}")]
    Automerge(#[from] automerge::AutomergeError),
    #[error("文档写入失败：{0}")]
    Reconcile(#[from] autosurgeon::ReconcileError),
}

/// What [`upgrade`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upgrade {
    Current,
    Upgraded { from: u64, to: u64 },
}

/// The `meta.schema_version` of a document, read without hydrating the whole case.
pub fn schema_version<D: ReadDoc>(doc: &D) -> Option<u64> {
    let (_, meta) = doc.get(ROOT, "meta").ok()??;
    match doc.get(&meta, "schema_version").ok()?? {
        (Value::Scalar(s), _) => match s.as_ref() {
            ScalarValue::Uint(v) => Some(*v),
            ScalarValue::Int(v) if *v >= 0 => Some(*v as u64),
            ScalarValue::F64(v) if *v >= 0.0 && v.fract() == 0.0 => Some(*v as u64),
            _ => None,
        },
        _ => None,
    }
}

/// Whether this code may write the document: its version is not newer than ours.
pub fn check_writable<D: ReadDoc>(doc: &D) -> Result<u64, UpgradeError> {
    let found = schema_version(doc).ok_or(UpgradeError::NotACase)?;
    if found > SCHEMA_VERSION {
        return Err(UpgradeError::NewerVersion { found, supported: SCHEMA_VERSION });
    }
    Ok(found)
}

/// Upgrades `doc` to [`SCHEMA_VERSION`] in one change, under the document's current actor.
/// Each step is a function from version N to N + 1; a document at the current version is untouched.
pub fn upgrade(doc: &mut AutoCommit) -> Result<Upgrade, UpgradeError> {
    let found = check_writable(doc)?;
    if found == SCHEMA_VERSION {
        return Ok(Upgrade::Current);
    }
    let mut version = found;
    while version < SCHEMA_VERSION {
        STEPS[version as usize](doc)?;
        version += 1;
    }
    let (_, meta) = doc.get(ROOT, "meta")?.ok_or(UpgradeError::NotACase)?;
    doc.put(&meta, "schema_version", ScalarValue::Uint(SCHEMA_VERSION))?;
    doc.commit_with(automerge::transaction::CommitOptions::default().with_message(format!(
        "upgrade schema {found} -> {SCHEMA_VERSION}"
    )));
    Ok(Upgrade::Upgraded { from: found, to: SCHEMA_VERSION })
}

type Step = fn(&mut AutoCommit) -> Result<(), UpgradeError>;

/// `STEPS[n]` upgrades version `n` to `n + 1`.
const STEPS: &[Step] = &[v0_to_v1];

/// Version 0 (pre-release documents) may lack sections: create every missing one, empty.
fn v0_to_v1(doc: &mut AutoCommit) -> Result<(), UpgradeError> {
    for section in Section::ALL {
        if doc.get(ROOT, section.code())?.is_none() {
            let ty = match section {
                Section::Parties | Section::Handoffs | Section::Review | Section::Attachments => ObjType::List,
                _ => ObjType::Map,
            };
            doc.put_object(ROOT, section.code(), ty)?;
        }
    }
    Ok(())
}

/// What a device records when it opens a case at intake.
#[derive(Debug, Clone)]
pub struct Intake {
    pub kind: CaseKind,
    pub unit: String,
    pub user: String,
    pub township: String,
    pub title: String,
    pub created_at: Instant,
}

/// A new case document with every section present, so that every device later edits the same
/// objects. Made under `actor` (the device's own actor id).
pub fn new_case_document(actor: ActorId, intake: &Intake) -> Result<AutoCommit, UpgradeError> {
    let mut case = Case::default();
    case.meta.schema_version = SCHEMA_VERSION;
    case.meta.kind = Some(intake.kind);
    case.meta.opened_by_unit = intake.unit.clone();
    case.meta.opened_by_user = intake.user.clone();
    case.meta.township = intake.township.clone();
    case.meta.title = intake.title.clone();
    case.meta.created_at = Some(intake.created_at);
    let mut doc = AutoCommit::new().with_actor(actor);
    autosurgeon::reconcile(&mut doc, &case)?;
    doc.commit_with(automerge::transaction::CommitOptions::default().with_message("intake".to_string()));
    Ok(doc)
}
