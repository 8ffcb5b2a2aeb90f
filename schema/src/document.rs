//! The case document (DESIGN §3): one Automerge document per case, each top-level key a section.
//!
//! Mapped with autosurgeon. Rules that keep several languages and many offline devices merging well:
//! - every field tolerates being missing (`missing = "Default::default"`), so that a document written by
//!   another client, or by an older version, still hydrates;
//! - nested objects are plain structs, never `Option<struct>`, so every device edits the same object
//!   created at intake instead of racing to create it;
//! - people's free text is [`Text`] (many small ones: per session note, per reply part); every other
//!   string is a scalar;
//! - list items carry a stable `id` marked `#[key]`, so concurrent inserts and deletes merge.

use autosurgeon::{Hydrate, Reconcile, Text};
use serde::Serialize;

use crate::time::{Instant, LegalDate};
use crate::vocab::*;

/// The version of the document layout this code writes. See [`crate::upgrade`].
pub const SCHEMA_VERSION: u64 = 1;

/// A whole case.
#[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
pub struct Case {
    #[autosurgeon(missing = "Default::default")]
    pub meta: Meta,
    #[autosurgeon(missing = "Default::default")]
    pub parties: Vec<Party>,
    #[autosurgeon(missing = "Default::default")]
    pub claims: Claims,
    #[autosurgeon(missing = "Default::default")]
    pub mediation: Mediation,
    #[autosurgeon(missing = "Default::default")]
    pub petition: Petition,
    #[autosurgeon(missing = "Default::default")]
    pub reconsideration: Reconsideration,
    #[autosurgeon(missing = "Default::default")]
    pub litigation: Litigation,
    #[autosurgeon(missing = "Default::default")]
    pub handoffs: Vec<HandoffRequest>,
    #[autosurgeon(missing = "Default::default")]
    pub custody: Custody,
    #[autosurgeon(missing = "Default::default")]
    pub review: Vec<ReviewItem>,
    #[autosurgeon(missing = "Default::default")]
    pub attachments: Vec<Attachment>,
}

/// `meta`: what the case is and where it belongs.
#[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
pub struct Meta {
    #[autosurgeon(missing = "Default::default", hydrate = "lenient::u64")]
    pub schema_version: u64,
    /// The official case number; written by the server at registration.
    #[autosurgeon(missing = "Default::default")]
    pub case_number: Option<String>,
    /// When the device created the case (device clock: never used for legal deadlines).
    #[autosurgeon(missing = "Default::default")]
    pub created_at: Option<Instant>,
    /// When the server registered the case (server time).
    #[autosurgeon(missing = "Default::default")]
    pub registered_at: Option<Instant>,
    #[autosurgeon(missing = "Default::default")]
    pub kind: Option<CaseKind>,
    /// The unit that opened the case (a township, street or county body).
    #[autosurgeon(missing = "Default::default")]
    pub opened_by_unit: String,
    #[autosurgeon(missing = "Default::default")]
    pub opened_by_user: String,
    /// 乡镇/街道: the unit id of the township or street the dispute arose in.
    #[autosurgeon(missing = "Default::default")]
    pub township: String,
    #[autosurgeon(missing = "Default::default")]
    pub village: String,
    #[autosurgeon(missing = "Default::default")]
    pub dispute_type: Option<DisputeType>,
    /// A short title for lists, e.g. "张某与李某宅基地纠纷".
    #[autosurgeon(missing = "Default::default")]
    pub title: String,
    /// Handlers (user ids) of the case in its current track.
    #[autosurgeon(missing = "Default::default")]
    pub handlers: Vec<String>,
}

/// One party to the case.
#[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
pub struct Party {
    #[key]
    pub id: String,
    #[autosurgeon(missing = "Default::default")]
    pub role: Option<PartyRole>,
    #[autosurgeon(missing = "Default::default")]
    pub kind: Option<PartyKind>,
    #[autosurgeon(missing = "Default::default")]
    pub name: String,
    /// 身份证号 or 统一社会信用代码: personal data.
    #[autosurgeon(missing = "Default::default")]
    pub id_number: String,
    #[autosurgeon(missing = "Default::default")]
    pub phone: String,
    #[autosurgeon(missing = "Default::default")]
    pub address: String,
    /// For an agent: the id of the party represented.
    #[autosurgeon(missing = "Default::default")]
    pub represents: Option<String>,
}

/// `claims`: what the parties ask for, and the facts and reasons.
#[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
pub struct Claims {
    #[autosurgeon(missing = "Default::default")]
    pub claims: Text,
    #[autosurgeon(missing = "Default::default")]
    pub facts: Text,
}

/// `mediation`: people's mediation (TJ, SFB).
#[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
pub struct Mediation {
    /// 调解委员会 name.
    #[autosurgeon(missing = "Default::default")]
    pub committee: String,
    #[autosurgeon(missing = "Default::default")]
    pub source: Option<MediationSource>,
    /// Mediators (user ids or names).
    #[autosurgeon(missing = "Default::default")]
    pub mediators: Vec<String>,
    /// 受理日期: the mediation month runs from here.
    #[autosurgeon(missing = "Default::default")]
    pub accepted_on: Option<LegalDate>,
    /// The dispute is a labour dispute: 15 days without agreement opens arbitration.
    #[autosurgeon(missing = "Default::default")]
    pub labour_dispute: bool,
    /// 争议焦点 and each party's responsibility.
    #[autosurgeon(missing = "Default::default")]
    pub issues: Text,
    #[autosurgeon(missing = "Default::default")]
    pub sessions: Vec<MediationSession>,
    #[autosurgeon(missing = "Default::default")]
    pub result: Option<MediationResult>,
    #[autosurgeon(missing = "Default::default")]
    pub result_on: Option<LegalDate>,
    /// On failure: the other routes the parties were told about (TJ 26).
    #[autosurgeon(missing = "Default::default")]
    pub routes_told: Text,
    #[autosurgeon(missing = "Default::default")]
    pub agreement: Agreement,
    #[autosurgeon(missing = "Default::default")]
    pub follow_up: FollowUp,
    #[autosurgeon(missing = "Default::default")]
    pub judicial_confirmation: JudicialConfirmation,
}

/// One mediation session.
#[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
pub struct MediationSession {
    #[key]
    pub id: String,
    #[autosurgeon(missing = "Default::default")]
    pub held_at: Option<Instant>,
    #[autosurgeon(missing = "Default::default")]
    pub place: String,
    #[autosurgeon(missing = "Default::default")]
    pub mediators: Vec<String>,
    #[autosurgeon(missing = "Default::default")]
    pub notes: Text,
}

/// 调解协议 (TJ 28–31).
#[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
pub struct Agreement {
    /// Who does what, how, where, by when.
    #[autosurgeon(missing = "Default::default")]
    pub terms: Text,
    #[autosurgeon(missing = "Default::default")]
    pub signed_on: Option<LegalDate>,
    /// The agreement takes effect; the 30-day judicial-confirmation window runs from here.
    #[autosurgeon(missing = "Default::default")]
    pub effective_on: Option<LegalDate>,
    /// An oral agreement, recorded by the mediator (TJ 30).
    #[autosurgeon(missing = "Default::default")]
    pub oral: bool,
    /// Amount involved, in fen (0.01 yuan), to keep money exact.
    #[autosurgeon(missing = "Default::default", hydrate = "lenient::opt_i64")]
    pub amount_fen: Option<i64>,
}

/// 回访: follow-up visit and performance of the agreement.
#[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
pub struct FollowUp {
    #[autosurgeon(missing = "Default::default")]
    pub visited_on: Option<LegalDate>,
    #[autosurgeon(missing = "Default::default")]
    pub performance: Option<Performance>,
    #[autosurgeon(missing = "Default::default")]
    pub notes: Text,
}

/// 司法确认 (TJ 33).
#[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
pub struct JudicialConfirmation {
    #[autosurgeon(missing = "Default::default")]
    pub applied_on: Option<LegalDate>,
    #[autosurgeon(missing = "Default::default")]
    pub court: String,
    #[autosurgeon(missing = "Default::default")]
    pub result: Option<JudicialConfirmationResult>,
    #[autosurgeon(missing = "Default::default")]
    pub decided_on: Option<LegalDate>,
}

/// `petition`: 信访 (XF).
#[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
pub struct Petition {
    #[autosurgeon(missing = "Default::default")]
    pub channel: Option<Channel>,
    /// Number of people in a group visit.
    #[autosurgeon(missing = "Default::default", hydrate = "lenient::opt_u64")]
    pub group_size: Option<u64>,
    /// Representatives of a group visit (at most 5, XF 18).
    #[autosurgeon(missing = "Default::default")]
    pub representatives: Vec<String>,
    #[autosurgeon(missing = "Default::default")]
    pub category: Option<PetitionCategory>,
    #[autosurgeon(missing = "Default::default")]
    pub route: Option<PetitionRoute>,
    /// Date the petition was received (directly, or transferred in).
    #[autosurgeon(missing = "Default::default")]
    pub received_on: Option<LegalDate>,
    #[autosurgeon(missing = "Default::default")]
    pub registered_on: Option<LegalDate>,
    #[autosurgeon(missing = "Default::default")]
    pub transferred_on: Option<LegalDate>,
    #[autosurgeon(missing = "Default::default")]
    pub intake: Option<PetitionIntake>,
    /// Date the petitioner was told whether it is accepted.
    #[autosurgeon(missing = "Default::default")]
    pub intake_notified_on: Option<LegalDate>,
    #[autosurgeon(missing = "Default::default")]
    pub accepted_on: Option<LegalDate>,
    #[autosurgeon(missing = "Default::default")]
    pub extension: Extension,
    #[autosurgeon(missing = "Default::default")]
    pub reply: PetitionReply,
    /// 复查.
    #[autosurgeon(missing = "Default::default")]
    pub review: PetitionReview,
    /// 复核.
    #[autosurgeon(missing = "Default::default")]
    pub re_review: PetitionReview,
    #[autosurgeon(missing = "Default::default")]
    pub satisfaction: Option<Satisfaction>,
}

/// An approved extension of a period.
#[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
pub struct Extension {
    #[autosurgeon(missing = "Default::default", hydrate = "lenient::opt_u64")]
    pub days: Option<u64>,
    #[autosurgeon(missing = "Default::default")]
    pub approved_on: Option<LegalDate>,
    #[autosurgeon(missing = "Default::default")]
    pub reason: String,
    /// The applicant or petitioner was told of the extension and why.
    #[autosurgeon(missing = "Default::default")]
    pub notified_on: Option<LegalDate>,
}

/// 信访处理意见书 (XF 32).
#[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
pub struct PetitionReply {
    #[autosurgeon(missing = "Default::default")]
    pub request: Text,
    #[autosurgeon(missing = "Default::default")]
    pub facts_and_reasons: Text,
    #[autosurgeon(missing = "Default::default")]
    pub decision: Text,
    #[autosurgeon(missing = "Default::default")]
    pub legal_basis: Text,
    #[autosurgeon(missing = "Default::default")]
    pub result: Option<PetitionResult>,
    #[autosurgeon(missing = "Default::default")]
    pub issued_on: Option<LegalDate>,
    /// The petitioner received the reply: the 30-day 复查 window runs from here.
    #[autosurgeon(missing = "Default::default")]
    pub received_on: Option<LegalDate>,
}

/// 复查 or 复核 (XF 35–36).
#[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
pub struct PetitionReview {
    #[autosurgeon(missing = "Default::default")]
    pub requested_on: Option<LegalDate>,
    #[autosurgeon(missing = "Default::default")]
    pub organ: String,
    #[autosurgeon(missing = "Default::default")]
    pub result: Option<PetitionReviewResult>,
    #[autosurgeon(missing = "Default::default")]
    pub decided_on: Option<LegalDate>,
    #[autosurgeon(missing = "Default::default")]
    pub received_on: Option<LegalDate>,
}

/// `reconsideration`: 行政复议 (FY).
#[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
pub struct Reconsideration {
    /// Party id of the applicant (see `parties`).
    #[autosurgeon(missing = "Default::default")]
    pub applicant: String,
    #[autosurgeon(missing = "Default::default")]
    pub respondent_agency: String,
    #[autosurgeon(missing = "Default::default")]
    pub subject: Option<ReconsiderationSubject>,
    #[autosurgeon(missing = "Default::default")]
    pub act: AdministrativeAct,
    /// 复议请求 and reasons.
    #[autosurgeon(missing = "Default::default")]
    pub request: Text,
    #[autosurgeon(missing = "Default::default")]
    pub received_on: Option<LegalDate>,
    /// 补正 (FY 31).
    #[autosurgeon(missing = "Default::default")]
    pub correction: CorrectionRequest,
    #[autosurgeon(missing = "Default::default")]
    pub intake: Option<ReconsiderationIntake>,
    #[autosurgeon(missing = "Default::default")]
    pub intake_decided_on: Option<LegalDate>,
    #[autosurgeon(missing = "Default::default")]
    pub accepted_on: Option<LegalDate>,
    #[autosurgeon(missing = "Default::default")]
    pub procedure: Option<Procedure>,
    #[autosurgeon(missing = "Default::default")]
    pub sent_to_respondent_on: Option<LegalDate>,
    #[autosurgeon(missing = "Default::default")]
    pub answer_received_on: Option<LegalDate>,
    #[autosurgeon(missing = "Default::default")]
    pub hearing: Hearing,
    #[autosurgeon(missing = "Default::default")]
    pub suspensions: Vec<Suspension>,
    #[autosurgeon(missing = "Default::default")]
    pub extension: Extension,
    #[autosurgeon(missing = "Default::default")]
    pub decision: ReconsiderationOutcome,
}

/// The administrative act complained of.
#[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
pub struct AdministrativeAct {
    #[autosurgeon(missing = "Default::default")]
    pub name: String,
    /// 文号.
    #[autosurgeon(missing = "Default::default")]
    pub number: String,
    #[autosurgeon(missing = "Default::default")]
    pub made_on: Option<LegalDate>,
    /// The applicant knew of the act: the 60-day application period runs from here.
    #[autosurgeon(missing = "Default::default")]
    pub known_on: Option<LegalDate>,
    /// Whether the applicant was told of the right to apply and the time limit.
    #[autosurgeon(missing = "Default::default")]
    pub right_notified: Option<bool>,
    /// When not told: the date the applicant learned of the right (FY 20).
    #[autosurgeon(missing = "Default::default")]
    pub right_learned_on: Option<LegalDate>,
    /// The act concerns real property: the absolute bar is 20 years, not 5.
    #[autosurgeon(missing = "Default::default")]
    pub real_property: bool,
}

/// 补正材料.
#[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
pub struct CorrectionRequest {
    #[autosurgeon(missing = "Default::default")]
    pub notified_on: Option<LegalDate>,
    #[autosurgeon(missing = "Default::default")]
    pub received_on: Option<LegalDate>,
    #[autosurgeon(missing = "Default::default")]
    pub supplied_on: Option<LegalDate>,
}

/// A hearing (听证) in reconsideration.
#[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
pub struct Hearing {
    #[autosurgeon(missing = "Default::default")]
    pub held_on: Option<LegalDate>,
    #[autosurgeon(missing = "Default::default")]
    pub place: String,
    #[autosurgeon(missing = "Default::default")]
    pub notes: Text,
}

/// 中止: a period during which the reconsideration is suspended (FY 39).
#[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
pub struct Suspension {
    #[key]
    pub id: String,
    #[autosurgeon(missing = "Default::default")]
    pub from: Option<LegalDate>,
    /// Resumed on; none while still suspended.
    #[autosurgeon(missing = "Default::default")]
    pub to: Option<LegalDate>,
    #[autosurgeon(missing = "Default::default")]
    pub reason: String,
}

/// The decision of a reconsideration.
#[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
pub struct ReconsiderationOutcome {
    #[autosurgeon(missing = "Default::default")]
    pub kind: Option<ReconsiderationDecision>,
    #[autosurgeon(missing = "Default::default")]
    pub decided_on: Option<LegalDate>,
    #[autosurgeon(missing = "Default::default")]
    pub served_on: Option<LegalDate>,
    #[autosurgeon(missing = "Default::default")]
    pub number: String,
}

/// `litigation`: 行政应诉, from the agency's side (SS, SSJ, CT).
#[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
pub struct Litigation {
    #[autosurgeon(missing = "Default::default")]
    pub court: String,
    #[autosurgeon(missing = "Default::default")]
    pub court_case_number: String,
    #[autosurgeon(missing = "Default::default")]
    pub instance: Option<Instance>,
    #[autosurgeon(missing = "Default::default")]
    pub procedure: Option<Procedure>,
    /// Party id of the plaintiff.
    #[autosurgeon(missing = "Default::default")]
    pub plaintiff: String,
    /// Defendant agencies, including a co-defendant reconsideration body (SS 26).
    #[autosurgeon(missing = "Default::default")]
    pub defendants: Vec<String>,
    #[autosurgeon(missing = "Default::default")]
    pub act_name: String,
    /// The earlier reconsideration decision upheld the act (维持, incl. dismissing the claim):
    /// original agency and reconsideration body are joint defendants.
    #[autosurgeon(missing = "Default::default")]
    pub reconsideration_upheld: Option<bool>,
    #[autosurgeon(missing = "Default::default")]
    pub claims: Text,
    #[autosurgeon(missing = "Default::default")]
    pub registered_on: Option<LegalDate>,
    /// The agency received the complaint: the 15-day defence period runs from here.
    #[autosurgeon(missing = "Default::default")]
    pub complaint_received_on: Option<LegalDate>,
    #[autosurgeon(missing = "Default::default")]
    pub defence_filed_on: Option<LegalDate>,
    #[autosurgeon(missing = "Default::default")]
    pub hearings: Vec<CourtHearing>,
    #[autosurgeon(missing = "Default::default")]
    pub judgment: Judgment,
    #[autosurgeon(missing = "Default::default")]
    pub appeal: Appeal,
    /// 司法建议.
    #[autosurgeon(missing = "Default::default")]
    pub recommendations: Text,
    #[autosurgeon(missing = "Default::default")]
    pub performance: Option<Performance>,
}

/// A court hearing, with who appeared for the agency (负责人出庭应诉, CT 5–12).
#[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
pub struct CourtHearing {
    #[key]
    pub id: String,
    #[autosurgeon(missing = "Default::default")]
    pub held_on: Option<LegalDate>,
    #[autosurgeon(missing = "Default::default")]
    pub head_appeared: bool,
    #[autosurgeon(missing = "Default::default")]
    pub head_name: String,
    #[autosurgeon(missing = "Default::default")]
    pub head_title: String,
    #[autosurgeon(missing = "Default::default")]
    pub head_rank: Option<HeadRank>,
    #[autosurgeon(missing = "Default::default")]
    pub head_spoke: bool,
    /// Staff sent when the head did not appear.
    #[autosurgeon(missing = "Default::default")]
    pub delegated_staff: Vec<String>,
    /// Only a lawyer appeared for the agency: never allowed (SS 3).
    #[autosurgeon(missing = "Default::default")]
    pub lawyer_only: bool,
}

/// The court's judgment or ruling.
#[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
pub struct Judgment {
    #[autosurgeon(missing = "Default::default")]
    pub outcome: Option<LitigationOutcome>,
    #[autosurgeon(missing = "Default::default")]
    pub judged_on: Option<LegalDate>,
    /// Served on the agency: the appeal window runs from here.
    #[autosurgeon(missing = "Default::default")]
    pub served_on: Option<LegalDate>,
}

/// An appeal.
#[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
pub struct Appeal {
    #[autosurgeon(missing = "Default::default")]
    pub filed_on: Option<LegalDate>,
    /// Who appealed: a party id, or the agency's name.
    #[autosurgeon(missing = "Default::default")]
    pub by: String,
}

/// A request to move custody of the case to another track and unit (DESIGN §6).
#[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
pub struct HandoffRequest {
    #[key]
    pub id: String,
    #[autosurgeon(missing = "Default::default")]
    pub from_track: Option<Track>,
    #[autosurgeon(missing = "Default::default")]
    pub from_unit: String,
    #[autosurgeon(missing = "Default::default")]
    pub to_track: Option<Track>,
    #[autosurgeon(missing = "Default::default")]
    pub to_unit: String,
    #[autosurgeon(missing = "Default::default")]
    pub reason: String,
    /// The custody version the requester saw (see [`Custody::version`]).
    #[autosurgeon(missing = "Default::default", hydrate = "lenient::u64")]
    pub custody_version: u64,
    #[autosurgeon(missing = "Default::default")]
    pub requested_by: String,
    /// Device time of the request; the server's arbitration time is `status_at`.
    #[autosurgeon(missing = "Default::default")]
    pub requested_at: Option<Instant>,
    /// Written by the device as `requested`; every later status is written by the server.
    #[autosurgeon(missing = "Default::default")]
    pub status: Option<HandoffStatus>,
    /// Why the server made it invalid or superseded, in words a mediator understands.
    #[autosurgeon(missing = "Default::default")]
    pub status_reason: String,
    #[autosurgeon(missing = "Default::default")]
    pub status_at: Option<Instant>,
    /// The receiving unit's decision, written by its device (offline if need be).
    #[autosurgeon(missing = "Default::default")]
    pub decision: HandoffDecision,
    /// The requester's withdrawal while pending.
    #[autosurgeon(missing = "Default::default")]
    pub withdrawal: HandoffWithdrawal,
}

/// A decision on a handoff by the receiving unit.
#[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
pub struct HandoffDecision {
    #[autosurgeon(missing = "Default::default")]
    pub verdict: Option<HandoffVerdict>,
    #[autosurgeon(missing = "Default::default")]
    pub by: String,
    #[autosurgeon(missing = "Default::default")]
    pub at: Option<Instant>,
    #[autosurgeon(missing = "Default::default")]
    pub note: String,
}

/// A withdrawal of a handoff by the requester.
#[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
pub struct HandoffWithdrawal {
    #[autosurgeon(missing = "Default::default")]
    pub by: String,
    #[autosurgeon(missing = "Default::default")]
    pub at: Option<Instant>,
}

/// `custody`: who holds the case now, and who held it before. Written by the server only.
#[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
pub struct Custody {
    #[autosurgeon(missing = "Default::default")]
    pub track: Option<Track>,
    #[autosurgeon(missing = "Default::default")]
    pub unit: String,
    #[autosurgeon(missing = "Default::default")]
    pub assignee: Option<String>,
    /// Server time custody began.
    #[autosurgeon(missing = "Default::default")]
    pub since: Option<Instant>,
    /// Incremented on every change of custody; handoff requests name the version they saw.
    #[autosurgeon(missing = "Default::default", hydrate = "lenient::u64")]
    pub version: u64,
    /// Earlier custodians, oldest first.
    #[autosurgeon(missing = "Default::default")]
    pub history: Vec<CustodyEpoch>,
}

/// One earlier period of custody.
#[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
pub struct CustodyEpoch {
    #[autosurgeon(missing = "Default::default")]
    pub track: Option<Track>,
    #[autosurgeon(missing = "Default::default")]
    pub unit: String,
    #[autosurgeon(missing = "Default::default")]
    pub since: Option<Instant>,
    #[autosurgeon(missing = "Default::default")]
    pub until: Option<Instant>,
    /// The handoff that ended this custody.
    #[autosurgeon(missing = "Default::default")]
    pub handoff_id: String,
}

/// Something for people to look at (DESIGN §5.2, §5.4, §6). Written by the server only.
#[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
pub struct ReviewItem {
    #[key]
    pub id: String,
    #[autosurgeon(missing = "Default::default")]
    pub kind: Option<ReviewKind>,
    #[autosurgeon(missing = "Default::default")]
    pub section: Option<Section>,
    /// Path of the field inside the section, e.g. `result` or `decision/kind`.
    #[autosurgeon(missing = "Default::default")]
    pub path: String,
    /// The user whose change this is about.
    #[autosurgeon(missing = "Default::default")]
    pub author: String,
    #[autosurgeon(missing = "Default::default")]
    pub device: String,
    /// Hashes (hex) of the changes concerned.
    #[autosurgeon(missing = "Default::default")]
    pub change_hashes: Vec<String>,
    /// For concurrent values: each value, as text.
    #[autosurgeon(missing = "Default::default")]
    pub values: Vec<String>,
    #[autosurgeon(missing = "Default::default")]
    pub summary: String,
    /// Units that should see this item.
    #[autosurgeon(missing = "Default::default")]
    pub units: Vec<String>,
    #[autosurgeon(missing = "Default::default")]
    pub created_at: Option<Instant>,
    #[autosurgeon(missing = "Default::default")]
    pub done: bool,
    #[autosurgeon(missing = "Default::default")]
    pub done_by: String,
    #[autosurgeon(missing = "Default::default")]
    pub done_at: Option<Instant>,
}

/// A file attached to the case; the bytes are stored by hash outside the document.
#[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
pub struct Attachment {
    #[key]
    pub id: String,
    #[autosurgeon(missing = "Default::default")]
    pub name: String,
    #[autosurgeon(missing = "Default::default")]
    pub media_type: String,
    #[autosurgeon(missing = "Default::default", hydrate = "lenient::u64")]
    pub size: u64,
    /// Lower-case hex SHA-256 of the bytes.
    #[autosurgeon(missing = "Default::default")]
    pub sha256: String,
    /// 文书类型, e.g. 调解协议书, 受理通知书.
    #[autosurgeon(missing = "Default::default")]
    pub document_type: String,
    /// 文号.
    #[autosurgeon(missing = "Default::default")]
    pub number: String,
    #[autosurgeon(missing = "Default::default")]
    pub issued_on: Option<LegalDate>,
    #[autosurgeon(missing = "Default::default")]
    pub served_on: Option<LegalDate>,
}

impl Case {
    /// The handoff with this id, if any.
    pub fn handoff(&self, id: &str) -> Option<&HandoffRequest> {
        self.handoffs.iter().find(|h| h.id == id)
    }

    /// Units that held custody before the current one.
    pub fn former_custodians(&self) -> impl Iterator<Item = &str> {
        self.custody.history.iter().map(|e| e.unit.as_str())
    }

    /// A summary for lists and projections; no personal data.
    pub fn summary(&self) -> CaseSummary {
        CaseSummary {
            case_number: self.meta.case_number.clone(),
            kind: self.meta.kind,
            track: self.custody.track,
            custody_unit: self.custody.unit.clone(),
            township: self.meta.township.clone(),
            dispute_type: self.meta.dispute_type,
            title: self.meta.title.clone(),
        }
    }
}

/// What lists and projections show of a case.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseSummary {
    pub case_number: Option<String>,
    pub kind: Option<CaseKind>,
    pub track: Option<Track>,
    pub custody_unit: String,
    pub township: String,
    pub dispute_type: Option<DisputeType>,
    pub title: String,
}

/// Integers as either Automerge integer type. JavaScript writes every whole number as a signed
/// integer, Rust writes `u64` as unsigned: a document written by either must read in both.
mod lenient {
    use automerge::{ObjId, ScalarValue, Value};
    use autosurgeon::{HydrateError, Prop, ReadDoc};

    fn scalar<D: ReadDoc>(doc: &D, obj: &ObjId, prop: Prop<'_>) -> Result<Option<ScalarValue>, HydrateError> {
        match doc.get(obj, &prop)? {
            None => Ok(None),
            Some((Value::Scalar(s), _)) => Ok(Some(s.into_owned())),
            Some((Value::Object(t), _)) => Err(HydrateError::unexpected("an integer", format!("an object ({t:?})"))),
        }
    }

    fn to_u64(v: &ScalarValue) -> Result<u64, HydrateError> {
        match v {
            ScalarValue::Uint(n) => Ok(*n),
            ScalarValue::Int(n) if *n >= 0 => Ok(*n as u64),
            other => Err(HydrateError::unexpected("a non-negative integer", other.to_string())),
        }
    }

    fn to_i64(v: &ScalarValue) -> Result<i64, HydrateError> {
        match v {
            ScalarValue::Int(n) => Ok(*n),
            ScalarValue::Uint(n) => i64::try_from(*n).map_err(|_| HydrateError::unexpected("an integer", n.to_string())),
            other => Err(HydrateError::unexpected("an integer", other.to_string())),
        }
    }

    pub(super) fn u64<D: ReadDoc>(doc: &D, obj: &ObjId, prop: Prop<'_>) -> Result<u64, HydrateError> {
        match scalar(doc, obj, prop)? {
            Some(v) => to_u64(&v),
            None => Ok(0),
        }
    }

    pub(super) fn opt_u64<D: ReadDoc>(doc: &D, obj: &ObjId, prop: Prop<'_>) -> Result<Option<u64>, HydrateError> {
        match scalar(doc, obj, prop)? {
            None | Some(ScalarValue::Null) => Ok(None),
            Some(v) => to_u64(&v).map(Some),
        }
    }

    pub(super) fn opt_i64<D: ReadDoc>(doc: &D, obj: &ObjId, prop: Prop<'_>) -> Result<Option<i64>, HydrateError> {
        match scalar(doc, obj, prop)? {
            None | Some(ScalarValue::Null) => Ok(None),
            Some(v) => to_i64(&v).map(Some),
        }
    }
}
