//! Edits of a case through the schema types: hydrate `schema::document::Case`, change it, and
//! reconcile every section that changed, in one Automerge change under the device's actor.
//!
//! Every edit loads the replica's current copy into an `AutoCommit` and hydrates from it, so the
//! `Text` values carry the heads the change is made on: an edit after a merge from the server never
//! reconciles against stale heads. Sections the user may not write are refused here, with the
//! server's own rule (`schema::policy`), before anything is written.

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{
    ActorId, AutoCommit, ChangeHash, ObjId, ObjType, ReadDoc, ScalarValue, Value, ROOT,
};
use fengqiao_schema::document::Case;
use fengqiao_schema::time::Instant;
use fengqiao_schema::upgrade;
use fengqiao_schema::vocab::Section;

use crate::error::ClientError;
use crate::local::{self, LocalUser};

/// Who edits, under which actor, when (device clock).
pub struct EditContext<'a> {
    pub user: &'a LocalUser,
    pub actor: ActorId,
    pub now: Instant,
}

/// The result of an edit: the saved document, its heads, and the new change (none if the edit
/// changed nothing).
pub struct Edited<T> {
    pub bytes: Vec<u8>,
    pub heads: Vec<ChangeHash>,
    pub change: Option<ChangeHash>,
    pub value: T,
}

/// Runs `f` on the hydrated case and writes what it changed as one change.
pub fn edit_case<T>(
    bytes: &[u8],
    context: &EditContext<'_>,
    f: impl FnOnce(&mut Case) -> Result<T, ClientError>,
) -> Result<Edited<T>, ClientError> {
    let mut doc = load(bytes, context)?;
    let before: Case = local::hydrate_case(&doc)?;
    let mut after = before.clone();
    let value = f(&mut after)?;
    let changed = changed_sections(&before, &after);
    for section in &changed {
        if !local::can_write(context.user, &before, *section) {
            return Err(ClientError::EditRefused(local::refusal(
                &before,
                context.user,
                *section,
            )));
        }
    }
    for section in &changed {
        reconcile_section(&mut doc, *section, &after)?;
    }
    finish(doc, context, value)
}

/// Sets one field by its path (`mediation.result`, `parties.<party id>.phone`,
/// `mediation.agreement.terms`). The value is written as the kind of value the field holds
/// (text, string, number, yes/no) and checked by hydrating the whole case through the schema
/// types: a code outside its vocabulary or a malformed date is refused, nothing written.
pub fn set_field(
    bytes: &[u8],
    context: &EditContext<'_>,
    path: &str,
    value: &str,
) -> Result<Edited<()>, ClientError> {
    let segments: Vec<&str> = path.split(['.', '/']).filter(|s| !s.is_empty()).collect();
    let (Some(first), Some(last)) = (segments.first(), segments.last()) else {
        return Err(ClientError::EditRefused(
            "请给出要修改的字段，例如 mediation.result".into(),
        ));
    };
    let Some(section) = Section::from_code(first) else {
        return Err(ClientError::EditRefused(format!(
            "「{first}」不是案件的组成部分；可用的部分：{}",
            Section::ALL
                .iter()
                .map(|s| format!("{}（{}）", s.code(), s.label()))
                .collect::<Vec<_>>()
                .join("、")
        )));
    };
    if segments.len() < 2 {
        return Err(ClientError::EditRefused(format!(
            "不能整体替换「{}」部分，请指明其中的字段",
            section.label()
        )));
    }
    if matches!(section, Section::Custody | Section::Review) {
        return Err(ClientError::EditRefused(format!(
            "「{}」部分只能由服务器写入",
            section.label()
        )));
    }
    let mut doc = load(bytes, context)?;
    let before: Case = local::hydrate_case(&doc)?;
    if !local::can_write(context.user, &before, section) {
        return Err(ClientError::EditRefused(local::refusal(
            &before,
            context.user,
            section,
        )));
    }
    let unknown = || ClientError::EditRefused(format!("案件中没有字段「{path}」"));
    let mut obj = ROOT;
    for segment in &segments[..segments.len() - 1] {
        obj = child(&doc, &obj, segment).ok_or_else(unknown)?;
    }
    let is_list = matches!(doc.object_type(&obj), Ok(ObjType::List));
    if is_list {
        return Err(ClientError::EditRefused(format!(
            "「{path}」是列表中的一项，请指明其中的字段"
        )));
    }
    let current = doc.get(&obj, *last)?;
    let candidates: Vec<ScalarValue> = match &current {
        Some((Value::Object(ObjType::Text), text)) => {
            let text = text.clone();
            doc.update_text(&text, value)?;
            return validated(doc, context, path, value);
        }
        Some((Value::Object(_), _)) => {
            return Err(ClientError::EditRefused(format!(
                "「{path}」是一组字段或列表，不能直接设置"
            )));
        }
        Some((Value::Scalar(s), _)) => match s.as_ref() {
            ScalarValue::Boolean(_) => vec![ScalarValue::Boolean(
                parse_bool(value)
                    .ok_or_else(|| ClientError::EditRefused(format!("「{path}」须填“是”或“否”")))?,
            )],
            ScalarValue::Int(_) | ScalarValue::Uint(_) | ScalarValue::F64(_) => {
                vec![number(value, s.as_ref())
                    .ok_or_else(|| ClientError::EditRefused(format!("「{path}」须填整数")))?]
            }
            _ => loose(value),
        },
        None => loose(value),
    };
    let mut last_error = None;
    for candidate in candidates {
        doc.put(&obj, *last, candidate)?;
        match local::hydrate_case(&doc) {
            Ok(_) => return finish(doc, context, ()),
            Err(e) => {
                last_error = Some(e);
                doc.rollback();
            }
        }
    }
    Err(invalid(path, value, last_error))
}

/// An empty value clears an optional field; otherwise try a string, then yes/no, then a number:
/// the first the schema accepts is the field's type.
fn loose(value: &str) -> Vec<ScalarValue> {
    if value.is_empty() {
        return vec![ScalarValue::Null, ScalarValue::Str("".into())];
    }
    let mut candidates = vec![ScalarValue::Str(value.into())];
    if let Some(b) = parse_bool(value) {
        candidates.push(ScalarValue::Boolean(b));
    }
    if let Ok(n) = value.parse::<i64>() {
        candidates.push(ScalarValue::Int(n));
    }
    candidates
}

fn validated(
    doc: AutoCommit,
    context: &EditContext<'_>,
    path: &str,
    value: &str,
) -> Result<Edited<()>, ClientError> {
    match local::hydrate_case(&doc) {
        Ok(_) => finish(doc, context, ()),
        Err(e) => Err(invalid(path, value, Some(e))),
    }
}

fn invalid(path: &str, value: &str, error: Option<autosurgeon::HydrateError>) -> ClientError {
    let detail = error.map(|e| format!("（{e}）")).unwrap_or_default();
    ClientError::EditRefused(format!(
        "「{value}」不是字段「{path}」的有效取值{detail}，修改未保存"
    ))
}

fn parse_bool(value: &str) -> Option<bool> {
    match value {
        "true" | "是" | "yes" | "1" => Some(true),
        "false" | "否" | "no" | "0" => Some(false),
        _ => None,
    }
}

fn number(value: &str, like: &ScalarValue) -> Option<ScalarValue> {
    match like {
        ScalarValue::Uint(_) => value.parse::<u64>().ok().map(ScalarValue::Uint),
        ScalarValue::F64(_) => value.parse::<f64>().ok().map(ScalarValue::F64),
        _ => value.parse::<i64>().ok().map(ScalarValue::Int),
    }
}

/// The child object named `segment`: a map key, or in a list the item whose `id` is `segment`
/// (or its position, counted from 1).
fn child(doc: &AutoCommit, obj: &ObjId, segment: &str) -> Option<ObjId> {
    match doc.object_type(obj).ok()? {
        ObjType::Map | ObjType::Table => match doc.get(obj, segment).ok()?? {
            (Value::Object(_), id) => Some(id),
            _ => None,
        },
        ObjType::List => {
            let len = doc.length(obj);
            for i in 0..len {
                if let Some((Value::Object(_), item)) = doc.get(obj, i).ok()? {
                    if let Some((Value::Scalar(id), _)) = doc.get(&item, "id").ok()? {
                        if id.as_str() == Some(segment) {
                            return Some(item);
                        }
                    }
                }
            }
            let index: usize = segment.parse().ok()?;
            match doc.get(obj, index.checked_sub(1)?).ok()?? {
                (Value::Object(_), id) => Some(id),
                _ => None,
            }
        }
        ObjType::Text => None,
    }
}

fn load(bytes: &[u8], context: &EditContext<'_>) -> Result<AutoCommit, ClientError> {
    let doc = AutoCommit::load(bytes)?.with_actor(context.actor.clone());
    upgrade::check_writable(&doc).map_err(|e| ClientError::EditRefused(e.to_string()))?;
    Ok(doc)
}

fn finish<T>(
    mut doc: AutoCommit,
    context: &EditContext<'_>,
    value: T,
) -> Result<Edited<T>, ClientError> {
    let change =
        doc.commit_with(CommitOptions::default().with_time(context.now.unix_seconds() * 1000));
    Ok(Edited {
        heads: doc.get_heads(),
        bytes: doc.save(),
        change,
        value,
    })
}

/// The sections whose value differs.
pub fn changed_sections(before: &Case, after: &Case) -> Vec<Section> {
    let mut changed = Vec::new();
    let mut check = |same: bool, section: Section| {
        if !same {
            changed.push(section);
        }
    };
    check(before.meta == after.meta, Section::Meta);
    check(before.parties == after.parties, Section::Parties);
    check(before.claims == after.claims, Section::Claims);
    check(before.mediation == after.mediation, Section::Mediation);
    check(before.petition == after.petition, Section::Petition);
    check(
        before.reconsideration == after.reconsideration,
        Section::Reconsideration,
    );
    check(before.litigation == after.litigation, Section::Litigation);
    check(before.handoffs == after.handoffs, Section::Handoffs);
    check(before.custody == after.custody, Section::Custody);
    check(before.review == after.review, Section::Review);
    check(
        before.attachments == after.attachments,
        Section::Attachments,
    );
    changed
}

fn reconcile_section(
    doc: &mut AutoCommit,
    section: Section,
    case: &Case,
) -> Result<(), ClientError> {
    let key = section.code();
    match section {
        Section::Meta => autosurgeon::reconcile_prop(doc, ROOT, key, &case.meta)?,
        Section::Parties => autosurgeon::reconcile_prop(doc, ROOT, key, &case.parties)?,
        Section::Claims => autosurgeon::reconcile_prop(doc, ROOT, key, &case.claims)?,
        Section::Mediation => autosurgeon::reconcile_prop(doc, ROOT, key, &case.mediation)?,
        Section::Petition => autosurgeon::reconcile_prop(doc, ROOT, key, &case.petition)?,
        Section::Reconsideration => {
            autosurgeon::reconcile_prop(doc, ROOT, key, &case.reconsideration)?
        }
        Section::Litigation => autosurgeon::reconcile_prop(doc, ROOT, key, &case.litigation)?,
        Section::Handoffs => autosurgeon::reconcile_prop(doc, ROOT, key, &case.handoffs)?,
        Section::Attachments => autosurgeon::reconcile_prop(doc, ROOT, key, &case.attachments)?,
        // Refused before reaching here: only the server writes them.
        Section::Custody | Section::Review => {
            return Err(ClientError::EditRefused(format!(
                "「{}」部分只能由服务器写入",
                section.label()
            )))
        }
    }
    Ok(())
}
