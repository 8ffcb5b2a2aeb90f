//! What the device decides about a case without the server: who the user is, the list entry of a
//! case, whether the replica's copy is read-only, and the notices a merge from the server calls for
//! (custody moved away, a handoff decided). Pure functions over the schema types.

use fengqiao_schema::document::{Case, Custody, HandoffRequest, Meta};
use fengqiao_schema::ids::{CaseId, UnitId, UserId};
use fengqiao_schema::policy;
use fengqiao_schema::units::{Unit, UnitTree, User};
use fengqiao_schema::vocab::{HandoffStatus, Role, Section, UnitKind};
use serde::{Deserialize, Serialize};

use crate::replica::{NewNotice, NoticeKind};

/// The logged-in user, as the server described them at login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalUser {
    pub id: UserId,
    pub name: String,
    pub unit: UnitId,
    pub roles: Vec<Role>,
}

impl LocalUser {
    pub fn as_user(&self) -> User {
        User {
            id: self.id.clone(),
            unit: self.unit.clone(),
            roles: self.roles.iter().copied().collect(),
        }
    }
}

/// One line of the case list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseListing {
    pub case_id: CaseId,
    pub title: String,
    pub case_number: Option<String>,
    /// Code of the case kind.
    pub kind: Option<String>,
    /// Code of the custody track.
    pub track: Option<String>,
    pub custody_unit: String,
    /// Holds changes the server has not acknowledged.
    pub pending: bool,
    /// Why the user may not edit this copy, in Chinese; `None` when some section is writable.
    pub read_only: Option<String>,
    /// Handoffs waiting for a decision.
    pub pending_handoffs: usize,
    /// Review items not done.
    pub open_review_items: usize,
    /// The user this listing was computed for.
    pub for_user: UserId,
}

impl CaseListing {
    pub fn display_title(&self) -> String {
        if !self.title.is_empty() {
            self.title.clone()
        } else if let Some(number) = &self.case_number {
            number.clone()
        } else {
            self.case_id.to_string()
        }
    }
}

pub fn hydrate_case<D: autosurgeon::ReadDoc>(doc: &D) -> Result<Case, autosurgeon::HydrateError> {
    autosurgeon::hydrate(doc)
}

/// The sections [`merge_notices`] reads: who holds the case, its handoffs, its title and number.
#[derive(autosurgeon::Hydrate)]
struct NoticeSections {
    #[autosurgeon(missing = "Default::default")]
    meta: Meta,
    #[autosurgeon(missing = "Default::default")]
    custody: Custody,
    #[autosurgeon(missing = "Default::default")]
    handoffs: Vec<HandoffRequest>,
}

/// A case with only what [`merge_notices`] reads (the other sections left empty): a sync that
/// brings changes to a hundred cases hydrates them twice each, and the whole case (texts,
/// parties, every track) costs several times more than these three sections.
pub fn hydrate_for_notices<D: autosurgeon::ReadDoc>(
    doc: &D,
) -> Result<Case, autosurgeon::HydrateError> {
    let NoticeSections {
        meta,
        custody,
        handoffs,
    } = autosurgeon::hydrate(doc)?;
    Ok(Case {
        meta,
        custody,
        handoffs,
        ..Case::default()
    })
}

pub fn display_title(case_id: CaseId, case: &Case) -> String {
    if !case.meta.title.is_empty() {
        case.meta.title.clone()
    } else if let Some(number) = &case.meta.case_number {
        number.clone()
    } else {
        case_id.to_string()
    }
}

pub fn listing(case_id: CaseId, case: &Case, user: &LocalUser) -> CaseListing {
    let (unit, track) = policy::custodian(case);
    CaseListing {
        case_id,
        title: case.meta.title.clone(),
        case_number: case.meta.case_number.clone(),
        kind: case.meta.kind.map(|k| k.code().to_string()),
        track: track.map(|t| t.code().to_string()),
        custody_unit: unit.to_string(),
        pending: false,
        read_only: read_only_reason(case, user),
        pending_handoffs: case
            .handoffs
            .iter()
            .filter(|h| {
                matches!(
                    h.status,
                    Some(HandoffStatus::Requested | HandoffStatus::Pending)
                )
            })
            .count(),
        open_review_items: case.review.iter().filter(|r| !r.done).count(),
        for_user: user.id.clone(),
    }
}

/// The device knows its own unit only. A tree of that one unit gives the policy's answer for
/// every case held by the user's unit, handed over from it or addressed to it, which is every
/// case a device edits; a supervisor's cases below the county read as read-only, which they are.
fn own_tree(user: &LocalUser) -> UnitTree {
    UnitTree::new([Unit {
        id: user.unit.clone(),
        name: user.unit.to_string(),
        kind: UnitKind::Township,
        parent: None,
    }])
    .expect("one unit is a tree")
}

/// Whether the user may write `section` of `case`, by the server's rule.
pub fn can_write(user: &LocalUser, case: &Case, section: Section) -> bool {
    policy::can_write(&user.as_user(), case, section, &own_tree(user))
}

/// Why the user can change nothing in the case, in Chinese; `None` if some section is writable.
pub fn read_only_reason(case: &Case, user: &LocalUser) -> Option<String> {
    let tree = own_tree(user);
    if !policy::writable_sections(&user.as_user(), case, &tree).is_empty() {
        return None;
    }
    let (unit, track) = policy::custodian(case);
    if case.former_custodians().any(|u| u == user.unit.as_str()) {
        Some(format!(
            "案件已移交至「{unit}」（{}），本机上的该案件只读",
            track.map(|t| t.label()).unwrap_or("未知渠道")
        ))
    } else {
        Some(format!("案件由「{unit}」管辖，您只能查看"))
    }
}

/// Why the user may not write `section`, in Chinese.
pub fn refusal(case: &Case, user: &LocalUser, section: Section) -> String {
    if let Some(reason) = read_only_reason(case, user) {
        return format!("{reason}，修改未保存");
    }
    let (unit, track) = policy::custodian(case);
    if unit != user.unit.as_str() && case.former_custodians().any(|u| u == user.unit.as_str()) {
        format!(
            "案件已移交至「{unit}」（{}），本机上该案件的「{}」部分只读，修改未保存",
            track.map(|t| t.label()).unwrap_or("未知渠道"),
            section.label()
        )
    } else {
        format!("您无权修改该案件的「{}」部分，修改未保存", section.label())
    }
}

/// What the user must be told about what a merge from the server changed: custody left their
/// unit, a handoff their unit asked for was decided, a handoff to their unit arrived. Reads only
/// `meta`, `custody` and `handoffs` (see [`hydrate_for_notices`]).
pub fn merge_notices(
    case_id: CaseId,
    before: &Case,
    after: &Case,
    user: &LocalUser,
) -> Vec<NewNotice> {
    let title = display_title(case_id, after);
    let notice = |kind, message: String| NewNotice {
        case_id,
        kind,
        title: title.clone(),
        code: None,
        section: None,
        review_item: None,
        reverted: Vec::new(),
        message,
    };
    let mut notices = Vec::new();
    let (was, _) = policy::custodian(before);
    let (now, track) = policy::custodian(after);
    if was == user.unit.as_str() && now != user.unit.as_str() {
        notices.push(notice(
            NoticeKind::CustodyLeft,
            format!(
                "案件「{title}」已移交至「{now}」（{}），本机上的该案件已转为只读，可继续查看办理结果。",
                track.map(|t| t.label()).unwrap_or("未知渠道")
            ),
        ));
    }
    for h in &after.handoffs {
        let old = before.handoffs.iter().find(|x| x.id == h.id);
        if old.is_some_and(|o| o.status == h.status) {
            continue;
        }
        let Some(status) = h.status else { continue };
        let mine = h.requested_by == user.id.as_str() || h.from_unit == user.unit.as_str();
        let to_me = h.to_unit == user.unit.as_str();
        match status {
            HandoffStatus::Accepted
            | HandoffStatus::Rejected
            | HandoffStatus::Invalid
            | HandoffStatus::Superseded
                if mine =>
            {
                let why = if !h.status_reason.is_empty() {
                    h.status_reason.clone()
                } else {
                    h.decision.note.clone()
                };
                let why = if why.is_empty() { String::new() } else { format!("：{why}") };
                notices.push(notice(
                    NoticeKind::Handoff,
                    format!("案件「{title}」的移交申请{}{why}", status.label()),
                ));
            }
            HandoffStatus::Pending if to_me => notices.push(notice(
                NoticeKind::Inbox,
                format!("收到案件「{title}」的移交申请，请接收或拒绝（fengqiao-client handoff accept/reject）。"),
            )),
            _ => {}
        }
    }
    notices
}
