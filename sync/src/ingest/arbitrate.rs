//! Handoff arbitration (DESIGN §6 steps 2–3): the server judges every request, decision and
//! withdrawal that reaches it, in the order they reach it, and writes the outcome.
//!
//! - A new request is checked (custody version, path, requester, receiver, required fields) and
//!   becomes `pending` or `invalid`; of two requests naming the same custody version the first to
//!   arrive wins and the other becomes `superseded`, with a review item for the units involved.
//! - The first decision by the receiving unit counts: `accepted` moves custody and starts the new
//!   track's clock; `rejected` keeps it. A later or unauthorised decision is restored and reviewed.
//! - The requester may withdraw while `pending`; a withdrawal that loses the race is restored.
//! - Fields fixed at request time and the status fields are the server's: client edits to them
//!   are restored.

use automerge::transaction::{Transactable, Transaction};
use automerge::{ChangeHash, ObjId, ReadDoc, ROOT};
use fengqiao_schema::document::{Case, CustodyEpoch, HandoffRequest, ReviewItem};
use fengqiao_schema::handoff::{can_decide, check_request, explain};
use fengqiao_schema::policy::{custodian, is_custodian};
use fengqiao_schema::units::User;
use fengqiao_schema::vocab::{HandoffStatus, HandoffVerdict, ReviewKind, Section, Track};

use super::{restore_object, section, HandoffEvent, IngestContext};

pub(super) struct Arbitration {
    pub events: Vec<HandoffEvent>,
    pub reviews: Vec<ReviewItem>,
    pub custody_changed: bool,
}

type Error = Box<dyn std::error::Error + Send + Sync>;

pub(super) fn arbitrate(
    tx: &mut Transaction<'_>,
    case: &Case,
    author: &User,
    ctx: &IngestContext<'_>,
    heads_before: &[ChangeHash],
    next_review_id: &mut dyn FnMut() -> String,
) -> Result<Arbitration, Error> {
    let mut out = Arbitration { events: Vec::new(), reviews: Vec::new(), custody_changed: false };
    let Some((_, list)) = tx.get(ROOT, Section::Handoffs.code())? else { return Ok(out) };
    let after: Vec<HandoffRequest> = section(&*tx, Section::Handoffs.code())?;
    let before = &case.handoffs;
    let now = ctx.now.to_string();

    // Nobody deletes a handoff: put the whole list back as it was.
    if before.iter().any(|b| !after.iter().any(|a| a.id == b.id)) {
        restore_object(tx, &list, automerge::ObjType::List, heads_before)?;
        out.reviews.push(review(ctx, case, author, ReviewKind::RevertedEdit, "handoffs", "移交记录不能删除，已恢复", &[], next_review_id()));
        return Ok(out);
    }

    // Outcomes so far, including what this message decides, for the "first wins" rules.
    let mut statuses: Vec<(String, u64, Option<HandoffStatus>)> =
        before.iter().map(|b| (b.id.clone(), b.custody_version, b.status)).collect();
    let mut custody = case.custody.clone();
    let (custody_unit, custody_track) = custodian(case);
    let custody_unit = custody_unit.to_string();

    for (index, item) in after.iter().enumerate() {
        let Some((_, obj)) = tx.get(&list, index)? else { continue };
        match before.iter().find(|b| b.id == item.id) {
            None => {
                // A new request, judged against custody as the server holds it.
                let winner = statuses.iter().find(|(id, version, status)| {
                    *id != item.id
                        && *version == item.custody_version
                        && matches!(status, Some(HandoffStatus::Pending) | Some(HandoffStatus::Accepted))
                });
                let (status, reason) = if let Some((winner_id, _, _)) = winner {
                    let winner_id = winner_id.clone();
                    let to_units: Vec<String> = after
                        .iter()
                        .filter(|h| h.id == winner_id || h.id == item.id)
                        .map(|h| h.to_unit.clone())
                        .collect();
                    let summary = format!("同一案件在同一管辖状态下提出了两个移交申请，先到达的申请（{winner_id}）有效，本申请（{}）已被取代", item.id);
                    let mut r = review(ctx, case, author, ReviewKind::SupersededHandoff, &item.id, &summary, &[], next_review_id());
                    for u in to_units {
                        if !r.units.contains(&u) {
                            r.units.push(u);
                        }
                    }
                    out.reviews.push(r);
                    (HandoffStatus::Superseded, format!("已有先提出的移交申请（{winner_id}）"))
                } else {
                    // Custody as the server held it before this message; the fields the target
                    // track needs as they are now (the same message may have filled them in).
                    let mut current: Case = autosurgeon::hydrate(&*tx)?;
                    current.custody = case.custody.clone();
                    current.meta.kind = case.meta.kind;
                    current.meta.opened_by_unit = case.meta.opened_by_unit.clone();
                    match check_request(item, author, &current, ctx.units) {
                        Ok(_) => (HandoffStatus::Pending, String::new()),
                        Err(problems) => (HandoffStatus::Invalid, explain(&problems)),
                    }
                };
                tx.put(&obj, "status", status.code())?;
                tx.put(&obj, "status_reason", reason.as_str())?;
                tx.put(&obj, "status_at", now.as_str())?;
                tx.put(&obj, "requested_by", author.id.as_str())?;
                tx.put(&obj, "from_unit", custody_unit.as_str())?;
                if let Some(t) = custody_track {
                    tx.put(&obj, "from_track", t.code())?;
                }
                // A request carries no decision or withdrawal of its own. Written back as the
                // schema writes empty values, so that a device re-reconciling sees no difference.
                if item.decision != Default::default() {
                    autosurgeon::reconcile_prop(tx, &obj, "decision", fengqiao_schema::document::HandoffDecision::default())?;
                }
                if item.withdrawal != Default::default() {
                    autosurgeon::reconcile_prop(tx, &obj, "withdrawal", fengqiao_schema::document::HandoffWithdrawal::default())?;
                }
                statuses.push((item.id.clone(), item.custody_version, Some(status)));
                out.events.push(HandoffEvent { handoff_id: item.id.clone(), status, reason });
            }
            Some(prev) => {
                // Fields fixed at request time, and the server's status fields.
                restore_fields(
                    tx,
                    &obj,
                    heads_before,
                    item,
                    prev,
                    &["from_track", "from_unit", "to_track", "to_unit", "reason", "custody_version", "requested_by", "requested_at", "status", "status_reason", "status_at"],
                )?;
                let current = statuses.iter().find(|(id, _, _)| *id == item.id).and_then(|(_, _, s)| *s);
                // A decision that lost Automerge's tie-break leaves no visible change, only a
                // conflict: it counts as a decision all the same.
                let conflicted = |tx: &Transaction<'_>, key: &str, field: &str| -> bool {
                    match tx.get(&obj, key) {
                        Ok(Some((automerge::Value::Object(_), child))) => tx.get_all(&child, field).map(|v| v.len() > 1).unwrap_or(false),
                        _ => false,
                    }
                };
                let decision_changed = item.decision != prev.decision || conflicted(tx, "decision", "verdict");
                let withdrawal_changed = item.withdrawal != prev.withdrawal || conflicted(tx, "withdrawal", "at");
                if decision_changed {
                    let verdict = item.decision.verdict;
                    let allowed = can_decide(author, item) && verdict.is_some();
                    if allowed && current == Some(HandoffStatus::Pending) {
                        let verdict = verdict.expect("checked above");
                        let status = match verdict {
                            HandoffVerdict::Accept => HandoffStatus::Accepted,
                            HandoffVerdict::Reject => HandoffStatus::Rejected,
                        };
                        tx.put(&obj, "status", status.code())?;
                        tx.put(&obj, "status_at", now.as_str())?;
                        if let Some((_, decision)) = tx.get(&obj, "decision")? {
                            tx.put(&decision, "by", author.id.as_str())?;
                        }
                        if status == HandoffStatus::Accepted {
                            move_custody(tx, &mut custody, item, ctx)?;
                            out.custody_changed = true;
                        }
                        set_status(&mut statuses, &item.id, status);
                        out.events.push(HandoffEvent { handoff_id: item.id.clone(), status, reason: item.decision.note.clone() });
                    } else {
                        if let Some((automerge::Value::Object(ty), decision)) = tx.get(&obj, "decision")? {
                            restore_object(tx, &decision, ty, heads_before)?;
                        }
                        let (kind, summary) = if !can_decide(author, item) {
                            (ReviewKind::RevertedEdit, "只有接收单位的相应工作人员可以接收或拒绝移交，该决定已撤回".to_string())
                        } else {
                            let happened = current.map(|s| s.label()).unwrap_or("未处理");
                            (ReviewKind::LateDecision, format!("移交申请已是「{happened}」状态，之后到达的决定（{}）未生效，已撤回", verdict.map(|v| v.label()).unwrap_or("空")))
                        };
                        out.reviews.push(review(ctx, case, author, kind, &item.id, &summary, &[], next_review_id()));
                    }
                }
                if withdrawal_changed {
                    let now_status = statuses.iter().find(|(id, _, _)| *id == item.id).and_then(|(_, _, s)| *s);
                    if now_status == Some(HandoffStatus::Pending) && is_custodian(author, case) {
                        tx.put(&obj, "status", HandoffStatus::Withdrawn.code())?;
                        tx.put(&obj, "status_at", now.as_str())?;
                        set_status(&mut statuses, &item.id, HandoffStatus::Withdrawn);
                        out.events.push(HandoffEvent { handoff_id: item.id.clone(), status: HandoffStatus::Withdrawn, reason: String::new() });
                    } else {
                        if let Some((automerge::Value::Object(ty), w)) = tx.get(&obj, "withdrawal")? {
                            restore_object(tx, &w, ty, heads_before)?;
                        }
                        let happened = now_status.map(|s| s.label()).unwrap_or("未处理");
                        let summary = format!("移交申请已是「{happened}」状态，撤回未生效");
                        out.reviews.push(review(ctx, case, author, ReviewKind::LateDecision, &item.id, &summary, &[], next_review_id()));
                    }
                }
            }
        }
    }
    Ok(out)
}

fn set_status(statuses: &mut [(String, u64, Option<HandoffStatus>)], id: &str, status: HandoffStatus) {
    if let Some(entry) = statuses.iter_mut().find(|(i, _, _)| i == id) {
        entry.2 = Some(status);
    }
}

/// Puts back the named fields of a handoff when the client changed them.
fn restore_fields(
    tx: &mut Transaction<'_>,
    obj: &ObjId,
    heads_before: &[ChangeHash],
    item: &HandoffRequest,
    prev: &HandoffRequest,
    keys: &[&str],
) -> Result<(), Error> {
    let changed = item.from_track != prev.from_track
        || item.from_unit != prev.from_unit
        || item.to_track != prev.to_track
        || item.to_unit != prev.to_unit
        || item.reason != prev.reason
        || item.custody_version != prev.custody_version
        || item.requested_by != prev.requested_by
        || item.requested_at != prev.requested_at
        || item.status != prev.status
        || item.status_reason != prev.status_reason
        || item.status_at != prev.status_at;
    if !changed {
        return Ok(());
    }
    for key in keys {
        match tx.get_at(obj, *key, heads_before)? {
            Some((automerge::Value::Scalar(s), _)) => {
                let s = s.into_owned();
                tx.put(obj, *key, s)?;
            }
            Some((automerge::Value::Object(_), _)) => {}
            None => {
                if tx.get(obj, *key)?.is_some() {
                    tx.delete(obj, *key)?;
                }
            }
        }
    }
    Ok(())
}

/// Accepting a handoff: the server writes custody and starts the new track's clock.
fn move_custody(
    tx: &mut Transaction<'_>,
    custody: &mut fengqiao_schema::document::Custody,
    item: &HandoffRequest,
    ctx: &IngestContext<'_>,
) -> Result<(), Error> {
    custody.history.push(CustodyEpoch {
        track: custody.track,
        unit: custody.unit.clone(),
        since: custody.since,
        until: Some(ctx.now),
        handoff_id: item.id.clone(),
    });
    custody.track = item.to_track;
    custody.unit = item.to_unit.clone();
    custody.assignee = None;
    custody.since = Some(ctx.now);
    custody.version += 1;
    autosurgeon::reconcile_prop(tx, ROOT, Section::Custody.code(), &*custody)?;
    // The receiving organ received the matter today: that starts its clock (LAW.md §2).
    let today = ctx.now.china_date().to_string();
    let receipt = match item.to_track {
        Some(Track::Reconsideration) => Some(("reconsideration", "received_on")),
        Some(Track::Petition) => Some(("petition", "received_on")),
        _ => None,
    };
    if let Some((section_key, field)) = receipt {
        if let Some((_, obj)) = tx.get(ROOT, section_key)? {
            if tx.get(&obj, field)?.is_none_or(|(v, _)| matches!(v, automerge::Value::Scalar(ref s) if s.is_null())) {
                tx.put(&obj, field, today.as_str())?;
            }
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn review(
    ctx: &IngestContext<'_>,
    case: &Case,
    author: &User,
    kind: ReviewKind,
    path: &str,
    summary: &str,
    values: &[String],
    id: String,
) -> ReviewItem {
    let (custody_unit, _) = custodian(case);
    let mut units = vec![custody_unit.to_string()];
    if author.unit.as_str() != custody_unit {
        units.push(author.unit.as_str().to_string());
    }
    ReviewItem {
        id,
        kind: Some(kind),
        section: Some(Section::Handoffs),
        path: path.to_string(),
        author: author.id.as_str().to_string(),
        device: ctx.principal.device.as_str().to_string(),
        values: values.to_vec(),
        summary: summary.to_string(),
        units,
        created_at: Some(ctx.now),
        ..ReviewItem::default()
    }
}
