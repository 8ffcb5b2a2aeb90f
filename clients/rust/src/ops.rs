//! The domain's edits on a case, in the words of the design: open a case, add a party or a
//! mediation session, request, decide or withdraw a handoff. Each changes the hydrated `Case`; the
//! caller (`edit::edit_case`) turns the change into one Automerge change. They check locally what
//! the server would refuse or revert, and say why in Chinese.

use autosurgeon::Text;
use fengqiao_schema::document::{Case, HandoffRequest, MediationSession, Party};
use fengqiao_schema::handoff;
use fengqiao_schema::policy;
use fengqiao_schema::time::Instant;
use fengqiao_schema::vocab::{HandoffStatus, HandoffVerdict, PartyKind, PartyRole, Track};

use crate::error::ClientError;
use crate::local::LocalUser;

/// A new id for a list item: a prefix and 8 random bytes.
pub fn new_item_id(prefix: &str) -> String {
    format!("{prefix}-{}", crate::hex(&crate::random_bytes::<8>()))
}

/// A party to add.
#[derive(Debug, Clone, Default)]
pub struct NewParty {
    pub role: Option<PartyRole>,
    pub kind: Option<PartyKind>,
    pub name: String,
    pub id_number: String,
    pub phone: String,
    pub address: String,
}

pub fn add_party(case: &mut Case, party: NewParty) -> Result<String, ClientError> {
    if party.name.trim().is_empty() {
        return Err(ClientError::EditRefused(
            "当事人姓名（名称）不能为空".into(),
        ));
    }
    let id = new_item_id("party");
    case.parties.push(Party {
        id: id.clone(),
        role: party.role,
        kind: party.kind,
        name: party.name,
        id_number: party.id_number,
        phone: party.phone,
        address: party.address,
        represents: None,
    });
    Ok(id)
}

/// A mediation session to add.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub held_at: Instant,
    pub place: String,
    pub notes: String,
}

pub fn add_session(
    case: &mut Case,
    user: &LocalUser,
    session: NewSession,
) -> Result<String, ClientError> {
    let id = new_item_id("session");
    case.mediation.sessions.push(MediationSession {
        id: id.clone(),
        held_at: Some(session.held_at),
        place: session.place,
        mediators: vec![user.id.to_string()],
        notes: Text::with_value(session.notes),
    });
    Ok(id)
}

/// Appends to a text, on a new line when it already holds something.
pub fn append_text(text: &mut Text, addition: &str) {
    let len = text.as_str().len();
    let insert = if len == 0 {
        addition.to_string()
    } else {
        format!("\n{addition}")
    };
    text.splice(len, 0, insert);
}

/// Asks to move the case to `to_track` at `to_unit` (status `requested`; the server makes it
/// `pending` or says why not). Returns the request's id.
pub fn request_handoff(
    case: &mut Case,
    user: &LocalUser,
    to_track: Track,
    to_unit: &str,
    reason: &str,
    now: Instant,
) -> Result<String, ClientError> {
    let (from_unit, from_track) = policy::custodian(case);
    let Some(from_track) = from_track else {
        return Err(ClientError::EditRefused(
            "案件尚无办理渠道，不能移交".into(),
        ));
    };
    if handoff::path(from_track, to_track).is_none() {
        return Err(ClientError::EditRefused(format!(
            "不能从「{}」移交到「{}」",
            from_track.label(),
            to_track.label()
        )));
    }
    if !policy::is_custodian(&user.as_user(), case) {
        return Err(ClientError::EditRefused(format!(
            "只有本案管辖单位的{}可以提出移交",
            handoff::requester_role(from_track).label()
        )));
    }
    if case.handoffs.iter().any(|h| {
        h.custody_version == case.custody.version
            && matches!(
                h.status,
                Some(HandoffStatus::Requested | HandoffStatus::Pending)
            )
    }) {
        return Err(ClientError::EditRefused(
            "本案已有待处理的移交申请，请先撤回或等待接收单位决定".into(),
        ));
    }
    let missing = handoff::missing_fields(case, from_track, to_track);
    if !missing.is_empty() {
        let problem = handoff::HandoffProblem::Missing { fields: missing };
        return Err(ClientError::EditRefused(problem.to_string()));
    }
    let id = new_item_id("handoff");
    let from_unit = from_unit.to_string();
    case.handoffs.push(HandoffRequest {
        id: id.clone(),
        from_track: Some(from_track),
        from_unit,
        to_track: Some(to_track),
        to_unit: to_unit.to_string(),
        reason: reason.to_string(),
        custody_version: case.custody.version,
        requested_by: user.id.to_string(),
        requested_at: Some(now),
        status: Some(HandoffStatus::Requested),
        ..HandoffRequest::default()
    });
    Ok(id)
}

fn handoff_mut<'a>(case: &'a mut Case, id: &str) -> Result<&'a mut HandoffRequest, ClientError> {
    case.handoffs
        .iter_mut()
        .find(|h| h.id == id)
        .ok_or_else(|| ClientError::EditRefused(format!("本案没有编号为「{id}」的移交申请")))
}

/// The receiving unit accepts or rejects a pending handoff.
pub fn decide_handoff(
    case: &mut Case,
    user: &LocalUser,
    id: &str,
    verdict: HandoffVerdict,
    note: &str,
    now: Instant,
) -> Result<(), ClientError> {
    let h = handoff_mut(case, id)?;
    if !handoff::can_decide(&user.as_user(), h) {
        return Err(ClientError::EditRefused(
            "只有接收单位的相应人员可以接收或拒绝该移交".into(),
        ));
    }
    if h.status != Some(HandoffStatus::Pending) {
        return Err(ClientError::EditRefused(format!(
            "该移交申请当前状态为「{}」，不能再作决定",
            h.status.map(|s| s.label()).unwrap_or("未知")
        )));
    }
    if verdict == HandoffVerdict::Reject && note.trim().is_empty() {
        return Err(ClientError::EditRefused("拒绝移交须写明理由".into()));
    }
    h.decision.verdict = Some(verdict);
    h.decision.by = user.id.to_string();
    h.decision.at = Some(now);
    h.decision.note = note.to_string();
    Ok(())
}

/// The requesting unit withdraws a handoff that is still waiting.
pub fn withdraw_handoff(
    case: &mut Case,
    user: &LocalUser,
    id: &str,
    now: Instant,
) -> Result<(), ClientError> {
    let is_custodian = policy::is_custodian(&user.as_user(), case);
    let h = handoff_mut(case, id)?;
    if !(is_custodian && (h.from_unit.is_empty() || h.from_unit == user.unit.as_str())) {
        return Err(ClientError::EditRefused(
            "只有提出移交的单位可以撤回该移交申请".into(),
        ));
    }
    if !matches!(
        h.status,
        Some(HandoffStatus::Requested | HandoffStatus::Pending)
    ) {
        return Err(ClientError::EditRefused(format!(
            "该移交申请当前状态为「{}」，不能撤回",
            h.status.map(|s| s.label()).unwrap_or("未知")
        )));
    }
    h.withdrawal.by = user.id.to_string();
    h.withdrawal.at = Some(now);
    Ok(())
}
