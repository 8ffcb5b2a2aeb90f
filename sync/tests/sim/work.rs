//! What the users of the simulated county do on their tablets, offline as often as not: open
//! cases, record intake, parties, claims, mediation sessions and agreements, legal dates and
//! results, the records of the other tracks, handoff requests, decisions and withdrawals.
//!
//! A tablet offers what its own copy says the user may write (`policy::can_write` on the local
//! case), so edits made on a stale copy become late edits when they reach the server. Now and then
//! the user also edits a section the copy no longer offers (a screen left open since before the
//! handoff): a late edit even by the local view.

use automerge::transaction::Transaction;
use automerge::ROOT;
use autosurgeon::{reconcile_prop, Reconcile, Text};
use fengqiao_schema::document::{
    Attachment, Case, CourtHearing, HandoffRequest, MediationSession, Party, Suspension,
};
use fengqiao_schema::fixtures::{JUSTICE, LEGAL, OTHER_COUNTY_JUSTICE, PETITION, TOWN_A, TOWN_B};
use fengqiao_schema::handoff;
use fengqiao_schema::policy;
use fengqiao_schema::time::{Instant, LegalDate};
use fengqiao_schema::units::{UnitTree, User};
use fengqiao_schema::upgrade::{new_case_document, Intake};
use fengqiao_schema::vocab::*;
use fengqiao_sync::protocol::CaseId;
use rand::rngs::StdRng;
use rand::Rng;

use super::device::Device;

const NAMES: &[&str] = &[
    "张三",
    "李四",
    "王五",
    "赵六",
    "刘芳",
    "陈刚",
    "青山县自然资源局",
];
const VILLAGES: &[&str] = &["东村", "西村", "河口村", "石桥村"];
const PHRASES: &[&str] = &[
    "双方同意",
    "分期支付",
    "于三十日内",
    "赔偿损失",
    "恢复原状",
    "确认界址",
    "撤回其余诉求",
    "由村委会见证",
];

pub fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> Option<&'a T> {
    (!items.is_empty()).then(|| &items[rng.random_range(0..items.len())])
}

fn phrase(rng: &mut StdRng) -> &'static str {
    pick(rng, PHRASES).expect("not empty")
}

fn date(rng: &mut StdRng) -> Option<LegalDate> {
    Some(LegalDate::ymd(
        2026,
        rng.random_range(2..=5),
        rng.random_range(1..=28),
    ))
}

fn pick_code<T: Copy>(rng: &mut StdRng, all: &[T]) -> Option<T> {
    pick(rng, all).copied()
}

/// Splices a phrase into a Text at a random character boundary, sometimes deleting a character:
/// what typing into a shared field does.
fn type_into(rng: &mut StdRng, text: &mut Text) {
    let s = text.as_str().to_string();
    let bounds: Vec<usize> = s.char_indices().map(|(i, _)| i).chain([s.len()]).collect();
    let pos = *pick(rng, &bounds).expect("at least the end");
    if pos < s.len() && rng.random_bool(0.25) {
        let width = s[pos..].chars().next().expect("a char").len_utf8();
        text.splice(pos, width as isize, "");
    } else {
        text.splice(pos, 0, phrase(rng));
    }
}

fn id(rng: &mut StdRng, prefix: &str) -> String {
    format!("{prefix}-{:08x}", rng.random::<u32>())
}

/// Writes back every section that differs between `before` and `after`, one `reconcile_prop` each.
fn write_sections(tx: &mut Transaction<'_>, before: &Case, after: &Case) -> Result<(), String> {
    fn put<T: Reconcile + PartialEq>(
        tx: &mut Transaction<'_>,
        key: &str,
        old: &T,
        new: &T,
    ) -> Result<(), String> {
        if old != new {
            reconcile_prop(tx, ROOT, key, new).map_err(|e| format!("reconcile {key}: {e}"))?;
        }
        Ok(())
    }
    put(tx, "meta", &before.meta, &after.meta)?;
    put(tx, "parties", &before.parties, &after.parties)?;
    put(tx, "claims", &before.claims, &after.claims)?;
    put(tx, "mediation", &before.mediation, &after.mediation)?;
    put(tx, "petition", &before.petition, &after.petition)?;
    put(
        tx,
        "reconsideration",
        &before.reconsideration,
        &after.reconsideration,
    )?;
    put(tx, "litigation", &before.litigation, &after.litigation)?;
    put(tx, "handoffs", &before.handoffs, &after.handoffs)?;
    put(tx, "attachments", &before.attachments, &after.attachments)?;
    // Custody and review are the server's: no screen edits them.
    Ok(())
}

/// One user action on `device`, if it has anything to do. Returns what it did, for the trace.
pub fn act(
    device: &mut Device,
    rng: &mut StdRng,
    now: Instant,
    units: &UnitTree,
) -> Option<String> {
    let user = device.user().clone();
    let opens = user.has_role(Role::Mediator) || user.has_role(Role::PetitionOfficer);
    if opens && (device.replica.is_empty() || rng.random_bool(0.06)) {
        return Some(open_case(device, rng, now));
    }
    if !opens
        && !user.has_role(Role::ReconsiderationOfficer)
        && !user.has_role(Role::LitigationOfficer)
    {
        return None; // a supervisor only reads
    }
    let ids: Vec<CaseId> = device.replica.keys().copied().collect();
    let case_id = *pick(rng, &ids)?;
    // A screen left open since before custody moved: the user edits what it once could.
    let stale_screen = rng.random_bool(0.08);
    // The edit is made on the case as the transaction reads it: autosurgeon's Text refuses to
    // reconcile into a transaction whose heads differ from those it was read at, and a transaction
    // adds the device's own last change to its dependencies when that change is no longer a head
    // (after the server built on it). A few actions may turn out to have nothing to do.
    let mut label = None;
    let edited = device.edit(case_id, now, |tx| {
        // What a screen needs to know what it offers; each action then reads its own sections.
        let case = read_policy_view(tx);
        let may = |s: Section| stale_screen || policy::can_write(&user, &case, s, units);
        let custodian = policy::is_custodian(&user, &case);
        for _ in 0..6 {
            let action = match rng.random_range(0..100) {
                0..=7 if may(Section::Meta) => Action::Intake,
                8..=15 if may(Section::Claims) => Action::Claims,
                16..=23 if may(Section::Parties) => Action::Parties,
                24..=45 if may(Section::Mediation) && user.has_role(Role::Mediator) => {
                    Action::Mediation
                }
                46..=55 if may(Section::Petition) && user.has_role(Role::PetitionOfficer) => {
                    Action::Petition
                }
                56..=63 if may(Section::Reconsideration) => Action::Reconsideration,
                64..=70 if may(Section::Litigation) => Action::Litigation,
                71..=73 if may(Section::Attachments) => Action::Attach,
                74..=86 if may(Section::Handoffs) && custodian => Action::RequestHandoff,
                74..=99 if may(Section::Handoffs) => Action::DecideOrWithdraw,
                _ => continue,
            };
            let mut before = case.clone();
            read_sections(tx, &mut before, action.reads())?;
            let mut after = before.clone();
            let Some(done) = action.apply(rng, &mut after, &user, now, units, stale_screen) else {
                continue;
            };
            if after != before {
                label = Some(done);
                return write_sections(tx, &before, &after);
            }
        }
        Ok(())
    });
    match (label, edited) {
        (Some(label), Ok(Some(hash))) => Some(format!(
            "{} edits {}: {label}{} [{}]",
            device.name,
            short(&case_id),
            if stale_screen { " (stale screen)" } else { "" },
            &hash.to_string()[..8]
        )),
        (_, Err(e)) => panic!("{} could not edit {}: {e}", device.name, short(&case_id)),
        _ => None,
    }
}

#[derive(Debug, Clone, Copy)]
enum Action {
    Intake,
    Claims,
    Parties,
    Mediation,
    Petition,
    Reconsideration,
    Litigation,
    Attach,
    RequestHandoff,
    DecideOrWithdraw,
}

/// What the policy reads of the case (`policy::can_write` and `is_custodian`): the case's kind and
/// opening unit, custody, the handoffs' addressing and status, the petition's category. Read
/// field by field: each key automerge looks up costs a search, and a screen deciding what it
/// offers does not need the rest. Actions read the sections they change in full.
fn read_policy_view(tx: &Transaction<'_>) -> Case {
    use automerge::{ObjId, ReadDoc, ScalarValue, Value};
    let object = |obj: &ObjId, prop: automerge::Prop| match tx.get(obj, prop) {
        Ok(Some((Value::Object(_), id))) => Some(id),
        _ => None,
    };
    let scalar = |obj: &ObjId, key: &str| match tx.get(obj, key) {
        Ok(Some((Value::Scalar(s), _))) => Some(s.into_owned()),
        _ => None,
    };
    let text = |obj: &ObjId, key: &str| match scalar(obj, key) {
        Some(ScalarValue::Str(s)) => s.to_string(),
        _ => String::new(),
    };
    let number = |obj: &ObjId, key: &str| match scalar(obj, key) {
        Some(ScalarValue::Uint(n)) => n,
        Some(ScalarValue::Int(n)) => n.max(0) as u64,
        _ => 0,
    };
    let key = |k: &str| automerge::Prop::Map(k.to_string());
    let mut case = Case::default();
    if let Some(meta) = object(&ROOT, key("meta")) {
        case.meta.kind = CaseKind::from_code(&text(&meta, "kind"));
        case.meta.opened_by_unit = text(&meta, "opened_by_unit");
    }
    if let Some(custody) = object(&ROOT, key("custody")) {
        let c = &mut case.custody;
        c.track = Track::from_code(&text(&custody, "track"));
        c.unit = text(&custody, "unit");
        c.version = number(&custody, "version");
        if let Some(history) = object(&custody, key("history")) {
            for i in 0..tx.length(&history) {
                let Some(epoch) = object(&history, automerge::Prop::Seq(i)) else {
                    continue;
                };
                c.history.push(fengqiao_schema::document::CustodyEpoch {
                    track: Track::from_code(&text(&epoch, "track")),
                    unit: text(&epoch, "unit"),
                    ..Default::default()
                });
            }
        }
    }
    if let Some(handoffs) = object(&ROOT, key("handoffs")) {
        for i in 0..tx.length(&handoffs) {
            let Some(h) = object(&handoffs, automerge::Prop::Seq(i)) else {
                continue;
            };
            case.handoffs.push(HandoffRequest {
                id: text(&h, "id"),
                from_unit: text(&h, "from_unit"),
                to_track: Track::from_code(&text(&h, "to_track")),
                to_unit: text(&h, "to_unit"),
                custody_version: number(&h, "custody_version"),
                status: HandoffStatus::from_code(&text(&h, "status")),
                ..HandoffRequest::default()
            });
        }
    }
    if let Some(petition) = object(&ROOT, key("petition")) {
        case.petition.category = PetitionCategory::from_code(&text(&petition, "category"));
    }
    case
}

/// Hydrates `sections` into `case` (reading a whole case costs more than most edits).
fn read_sections(
    tx: &Transaction<'_>,
    case: &mut Case,
    sections: &[Section],
) -> Result<(), String> {
    fn read<T: autosurgeon::Hydrate + Default>(
        tx: &Transaction<'_>,
        key: &str,
    ) -> Result<T, String> {
        let value: autosurgeon::hydrate::MaybeMissing<T> =
            autosurgeon::hydrate_prop(tx, ROOT, key).map_err(|e| format!("read {key}: {e}"))?;
        Ok(value.unwrap_or_else(T::default))
    }
    for &section in sections {
        let key = section.code();
        match section {
            Section::Meta => case.meta = read(tx, key)?,
            Section::Parties => case.parties = read(tx, key)?,
            Section::Claims => case.claims = read(tx, key)?,
            Section::Mediation => case.mediation = read(tx, key)?,
            Section::Petition => case.petition = read(tx, key)?,
            Section::Reconsideration => case.reconsideration = read(tx, key)?,
            Section::Litigation => case.litigation = read(tx, key)?,
            Section::Handoffs => case.handoffs = read(tx, key)?,
            Section::Custody => case.custody = read(tx, key)?,
            Section::Review => case.review = read(tx, key)?,
            Section::Attachments => case.attachments = read(tx, key)?,
        }
    }
    Ok(())
}

impl Action {
    /// The sections the action reads in full: every section it may change.
    fn reads(self) -> &'static [Section] {
        match self {
            Action::Intake => &[Section::Meta],
            Action::Claims => &[Section::Claims],
            Action::Parties => &[Section::Parties],
            Action::Mediation => &[Section::Mediation],
            Action::Petition => &[Section::Petition, Section::Claims],
            Action::Reconsideration => &[Section::Reconsideration],
            Action::Litigation => &[Section::Litigation],
            Action::Attach => &[Section::Attachments],
            // Preparing for the target track may touch any of these.
            Action::RequestHandoff => &[
                Section::Meta,
                Section::Parties,
                Section::Claims,
                Section::Mediation,
                Section::Petition,
                Section::Reconsideration,
                Section::Litigation,
                Section::Handoffs,
            ],
            Action::DecideOrWithdraw => &[Section::Handoffs],
        }
    }

    fn apply(
        self,
        rng: &mut StdRng,
        c: &mut Case,
        user: &User,
        now: Instant,
        units: &UnitTree,
        stale_screen: bool,
    ) -> Option<String> {
        Some(match self {
            Action::Intake => intake(rng, c),
            Action::Claims => {
                let field = if rng.random_bool(0.6) {
                    &mut c.claims.claims
                } else {
                    &mut c.claims.facts
                };
                type_into(rng, field);
                "claims text".into()
            }
            Action::Parties => parties(rng, c),
            Action::Mediation => mediation(rng, c, now, user.id.as_str()),
            Action::Petition => petition(rng, c),
            Action::Reconsideration => reconsideration(rng, c, user),
            Action::Litigation => litigation(rng, c, user),
            Action::Attach => {
                c.attachments.push(Attachment {
                    id: id(rng, "att"),
                    name: "调解协议书.pdf".into(),
                    media_type: "application/pdf".into(),
                    size: rng.random_range(1000..90_000),
                    sha256: format!("{:064x}", rng.random::<u128>()),
                    ..Attachment::default()
                });
                "attachment".into()
            }
            Action::RequestHandoff => return request_handoff(rng, c, user, now, units),
            Action::DecideOrWithdraw => return decide_or_withdraw(rng, c, user, now, stale_screen),
        })
    }
}

pub fn short(id: &CaseId) -> String {
    id.to_string()[..6].to_string()
}

fn open_case(device: &mut Device, rng: &mut StdRng, now: Instant) -> String {
    let user = device.user().clone();
    let mediator = user.has_role(Role::Mediator);
    // Now and then someone opens the wrong kind of case: the server refuses to register it.
    let wrong = rng.random_bool(0.04);
    let kind = match (mediator, wrong) {
        (true, false) | (false, true) => CaseKind::Dispute,
        _ => CaseKind::Petition,
    };
    let township = if mediator {
        user.unit.as_str().to_string()
    } else {
        pick(rng, &[TOWN_A, TOWN_B]).expect("two").to_string()
    };
    let title = format!(
        "{}与{}纠纷",
        pick(rng, NAMES).unwrap(),
        pick(rng, NAMES).unwrap()
    );
    let intake = Intake {
        kind,
        unit: user.unit.as_str().to_string(),
        user: user.id.as_str().to_string(),
        township,
        title: title.clone(),
        created_at: now,
    };
    let id = CaseId::from_bytes(rng.random());
    let mut doc = new_case_document(device.actor.clone(), &intake).expect("a new case document");
    let doc = doc.document().clone();
    device.create(id, doc);
    format!(
        "{} opens {} ({}) {title}",
        device.name,
        short(&id),
        kind.code()
    )
}

fn intake(rng: &mut StdRng, c: &mut Case) -> String {
    c.meta.dispute_type = pick_code(rng, DisputeType::ALL);
    c.meta.village = pick(rng, VILLAGES).unwrap().to_string();
    if rng.random_bool(0.3) {
        c.meta.title = format!(
            "{}与{}纠纷",
            pick(rng, NAMES).unwrap(),
            pick(rng, NAMES).unwrap()
        );
    }
    "intake".into()
}

fn parties(rng: &mut StdRng, c: &mut Case) -> String {
    if !c.parties.is_empty() && rng.random_bool(0.25) {
        let i = rng.random_range(0..c.parties.len());
        let gone = c.parties.remove(i);
        return format!("removes party {}", gone.id);
    }
    if !c.parties.is_empty() && rng.random_bool(0.2) {
        let i = rng.random_range(0..c.parties.len());
        c.parties[i].phone = format!("139{:08}", rng.random_range(0..100_000_000u32));
        return format!("party {} phone", c.parties[i].id);
    }
    let role = pick_code(
        rng,
        &[
            PartyRole::Applicant,
            PartyRole::Applicant,
            PartyRole::Respondent,
            PartyRole::ThirdParty,
        ],
    );
    let party = Party {
        id: id(rng, "p"),
        role,
        kind: Some(PartyKind::Person),
        name: pick(rng, NAMES).unwrap().to_string(),
        ..Party::default()
    };
    let label = format!("adds party {}", party.id);
    c.parties.push(party);
    label
}

fn mediation(rng: &mut StdRng, c: &mut Case, now: Instant, me: &str) -> String {
    let m = &mut c.mediation;
    match rng.random_range(0..10) {
        0 => {
            m.sessions.push(MediationSession {
                id: id(rng, "s"),
                held_at: Some(now),
                place: "村委会".into(),
                mediators: vec![me.to_string()],
                notes: Text::with_value(phrase(rng)),
            });
            "adds a session".into()
        }
        1 if !m.sessions.is_empty() => {
            let i = rng.random_range(0..m.sessions.len());
            type_into(rng, &mut m.sessions[i].notes);
            "session notes".into()
        }
        2 | 3 => {
            type_into(rng, &mut m.agreement.terms);
            "agreement terms".into()
        }
        4 => {
            m.result = pick_code(
                rng,
                &[
                    MediationResult::Success,
                    MediationResult::Failed,
                    MediationResult::Refused,
                ],
            );
            m.result_on = date(rng);
            format!("result {}", m.result.map(|r| r.code()).unwrap_or("-"))
        }
        5 => {
            m.agreement.signed_on = date(rng);
            m.agreement.amount_fen = Some(rng.random_range(1..50) * 100_000);
            "agreement signed, amount".into()
        }
        6 => {
            m.accepted_on = date(rng);
            m.source = pick_code(rng, MediationSource::ALL);
            "accepted on".into()
        }
        7 => {
            type_into(rng, &mut m.routes_told);
            "routes told".into()
        }
        8 => {
            m.follow_up.visited_on = date(rng);
            m.follow_up.performance = pick_code(rng, Performance::ALL);
            type_into(rng, &mut m.follow_up.notes);
            "follow-up visit".into()
        }
        _ => {
            m.judicial_confirmation.applied_on = date(rng);
            m.judicial_confirmation.court = "青山县人民法院".into();
            "judicial confirmation".into()
        }
    }
}

fn petition(rng: &mut StdRng, c: &mut Case) -> String {
    let p = &mut c.petition;
    match rng.random_range(0..7) {
        0 => {
            p.channel = pick_code(rng, Channel::ALL);
            p.received_on = date(rng);
            "petition received".into()
        }
        1 => {
            // 检举控告 restricts who may read the case: receivers of a pending handoff lose it.
            p.category = if rng.random_bool(0.15) {
                Some(PetitionCategory::Accusation)
            } else {
                pick_code(
                    rng,
                    &[PetitionCategory::Grievance, PetitionCategory::Suggestion],
                )
            };
            format!("category {}", p.category.map(|c| c.code()).unwrap_or("-"))
        }
        2 => {
            p.route = pick_code(rng, PetitionRoute::ALL);
            format!("route {}", p.route.map(|r| r.code()).unwrap_or("-"))
        }
        3 => {
            p.intake = pick_code(
                rng,
                &[PetitionIntake::Accepted, PetitionIntake::NotAccepted],
            );
            p.accepted_on = date(rng);
            "petition intake".into()
        }
        4 => {
            type_into(rng, &mut p.reply.facts_and_reasons);
            "reply text".into()
        }
        5 => {
            p.reply.result = pick_code(rng, PetitionResult::ALL);
            p.reply.issued_on = date(rng);
            "reply result".into()
        }
        _ => {
            type_into(rng, &mut c.claims.claims);
            "petition claims".into()
        }
    }
}

fn reconsideration(rng: &mut StdRng, c: &mut Case, user: &User) -> String {
    let officer = user.has_role(Role::ReconsiderationOfficer);
    let r = &mut c.reconsideration;
    match (officer, rng.random_range(0..6)) {
        (true, 0) => {
            r.intake = Some(ReconsiderationIntake::Accepted);
            r.accepted_on = date(rng);
            r.procedure = pick_code(rng, Procedure::ALL);
            "reconsideration accepted".into()
        }
        (true, 1) => {
            r.hearing.held_on = date(rng);
            type_into(rng, &mut r.hearing.notes);
            "hearing notes".into()
        }
        (true, 2) => {
            r.suspensions.push(Suspension {
                id: id(rng, "sus"),
                from: date(rng),
                to: None,
                reason: "等待鉴定".into(),
            });
            "suspension".into()
        }
        (true, 3) => {
            r.decision.kind = pick_code(rng, ReconsiderationDecision::ALL);
            r.decision.decided_on = date(rng);
            if rng.random_bool(0.7) {
                r.decision.served_on = date(rng);
            }
            format!(
                "decision {}",
                r.decision.kind.map(|k| k.code()).unwrap_or("-")
            )
        }
        _ => {
            prepare_reconsideration(rng, c);
            "reconsideration particulars".into()
        }
    }
}

fn prepare_reconsideration(rng: &mut StdRng, c: &mut Case) {
    let r = &mut c.reconsideration;
    r.respondent_agency = "青山县自然资源局".into();
    r.act.name = "行政处罚决定".into();
    r.act.known_on = date(rng);
    type_into(rng, &mut r.request);
}

fn litigation(rng: &mut StdRng, c: &mut Case, user: &User) -> String {
    let officer = user.has_role(Role::LitigationOfficer);
    let l = &mut c.litigation;
    match (officer, rng.random_range(0..6)) {
        (true, 0) => {
            l.court = "青山县人民法院".into();
            l.court_case_number = format!("（2026）青行初{}号", rng.random_range(1..99));
            l.instance = Some(Instance::First);
            l.registered_on = date(rng);
            "suit registered".into()
        }
        (true, 1) => {
            l.complaint_received_on = date(rng);
            l.defence_filed_on = date(rng);
            "complaint and defence".into()
        }
        (true, 2) => {
            l.hearings.push(CourtHearing {
                id: id(rng, "h"),
                held_on: date(rng),
                head_appeared: rng.random_bool(0.5),
                ..CourtHearing::default()
            });
            "court hearing".into()
        }
        (true, 3) => {
            l.judgment.outcome = pick_code(rng, LitigationOutcome::ALL);
            l.judgment.judged_on = date(rng);
            l.judgment.served_on = date(rng);
            format!(
                "judgment {}",
                l.judgment.outcome.map(|o| o.code()).unwrap_or("-")
            )
        }
        _ => {
            prepare_litigation(c);
            "litigation particulars".into()
        }
    }
}

fn prepare_litigation(c: &mut Case) {
    c.litigation.act_name = "行政处罚决定".into();
    if c.litigation.defendants.is_empty() {
        c.litigation.defendants.push("青山县自然资源局".into());
    }
}

/// Fills what the target track needs (handoff::missing_fields), as a careful user does first.
fn prepare_for(rng: &mut StdRng, c: &mut Case, from: Track, to: Track) {
    let needs_applicant = !c
        .parties
        .iter()
        .any(|p| p.role == Some(PartyRole::Applicant) && !p.name.is_empty());
    if needs_applicant {
        c.parties.push(Party {
            id: id(rng, "p"),
            role: Some(PartyRole::Applicant),
            kind: Some(PartyKind::Person),
            name: pick(rng, NAMES).unwrap().to_string(),
            ..Party::default()
        });
    }
    match from {
        Track::Mediation => {
            c.mediation.result = Some(MediationResult::Failed);
            if c.mediation.routes_told.as_str().trim().is_empty() {
                type_into(rng, &mut c.mediation.routes_told);
            }
        }
        Track::Petition => {
            c.petition.route = match to {
                Track::Reconsideration => Some(PetitionRoute::AdministrativeProcedure),
                Track::Litigation => Some(PetitionRoute::LitigationProcedure),
                _ => c.petition.route,
            };
        }
        Track::Reconsideration => {
            if c.reconsideration.decision.kind.is_none() {
                c.reconsideration.decision.kind = Some(ReconsiderationDecision::Upheld);
                c.reconsideration.decision.decided_on = date(rng);
            }
            if c.reconsideration.decision.served_on.is_none() {
                c.reconsideration.decision.served_on = date(rng);
            }
        }
        Track::Litigation => {}
    }
    match to {
        Track::Reconsideration => prepare_reconsideration(rng, c),
        Track::Litigation => prepare_litigation(c),
        Track::Mediation => {
            if !c
                .parties
                .iter()
                .any(|p| p.role == Some(PartyRole::Respondent))
            {
                c.parties.push(Party {
                    id: id(rng, "p"),
                    role: Some(PartyRole::Respondent),
                    kind: Some(PartyKind::Person),
                    name: pick(rng, NAMES).unwrap().to_string(),
                    ..Party::default()
                });
            }
            if c.meta.dispute_type.is_none() {
                c.meta.dispute_type = Some(DisputeType::Neighbour);
            }
            if c.claims.claims.as_str().trim().is_empty() {
                type_into(rng, &mut c.claims.claims);
            }
        }
        Track::Petition => {}
    }
}

fn request_handoff(
    rng: &mut StdRng,
    c: &mut Case,
    user: &User,
    now: Instant,
    units: &UnitTree,
) -> Option<String> {
    let (_, Some(from)) = policy::custodian(c) else {
        return None;
    };
    // One open request at a time from one screen; two tablets offline may still race.
    if c.handoffs.iter().any(|h| {
        h.custody_version == c.custody.version
            && matches!(
                h.status,
                Some(HandoffStatus::Requested) | Some(HandoffStatus::Pending)
            )
    }) {
        return None;
    }
    let targets: Vec<Track> = handoff::PATHS
        .iter()
        .filter(|p| p.from == from)
        .map(|p| p.to)
        .collect();
    let to = *pick(rng, &targets)?;
    let to_unit = match to {
        Track::Reconsideration if rng.random_bool(0.05) => OTHER_COUNTY_JUSTICE,
        Track::Reconsideration => JUSTICE,
        Track::Litigation => LEGAL,
        Track::Mediation => pick(rng, &[TOWN_A, TOWN_B]).copied()?,
        Track::Petition => PETITION,
    };
    debug_assert!(units.get(to_unit).is_some());
    let prepared = rng.random_bool(0.7);
    if prepared {
        prepare_for(rng, c, from, to);
    }
    let handoff = HandoffRequest {
        id: id(rng, "ho"),
        to_track: Some(to),
        to_unit: to_unit.to_string(),
        reason: "当事人选择其他途径".into(),
        custody_version: c.custody.version,
        requested_by: user.id.as_str().to_string(),
        requested_at: Some(now),
        status: Some(HandoffStatus::Requested),
        ..HandoffRequest::default()
    };
    let label = format!(
        "requests handoff {} to {} {} (v{}{})",
        handoff.id,
        to.code(),
        to_unit,
        c.custody.version,
        if prepared {
            ", prepared"
        } else {
            ", unprepared"
        }
    );
    c.handoffs.push(handoff);
    Some(label)
}

fn decide_or_withdraw(
    rng: &mut StdRng,
    c: &mut Case,
    user: &User,
    now: Instant,
    stale_screen: bool,
) -> Option<String> {
    let custodian = policy::is_custodian(user, c);
    let choices: Vec<usize> = c
        .handoffs
        .iter()
        .enumerate()
        .filter(|(_, h)| {
            h.status == Some(HandoffStatus::Pending)
                && (handoff::can_decide(user, h)
                    || (custodian && h.from_unit == user.unit.as_str()))
        })
        .map(|(i, _)| i)
        .collect();
    let i = *pick(rng, &choices)?;
    let h = &mut c.handoffs[i];
    // On an old screen the requester sometimes fills in the receiver's answer it heard by phone:
    // a decision by someone who may not decide.
    let careless = stale_screen && !handoff::can_decide(user, h) && rng.random_bool(0.5);
    if handoff::can_decide(user, h) || careless {
        let verdict = if rng.random_bool(0.7) {
            HandoffVerdict::Accept
        } else {
            HandoffVerdict::Reject
        };
        h.decision.verdict = Some(verdict);
        h.decision.by = user.id.as_str().to_string();
        h.decision.at = Some(now);
        if verdict == HandoffVerdict::Reject {
            h.decision.note = "材料不全".into();
        }
        Some(format!("decides {} {}", h.id, verdict.code()))
    } else {
        h.withdrawal.by = user.id.as_str().to_string();
        h.withdrawal.at = Some(now);
        Some(format!("withdraws {}", h.id))
    }
}
