//! Projections of the case documents (DESIGN §7, §9): the case list, deadlines, handoffs, review
//! items and listed attachments, derived from the committed document by [`CaseProjection::of_case`]
//! and rewritten (delete and insert per case) in the same transaction as every commit
//! (`store::documents`), so that lists, inboxes and supervisors' numbers never disagree with the
//! documents.
//!
//! Deadlines are stored with their due date and the day they were met, not with a status: whether
//! an open deadline is overdue or due soon depends on the day it is asked, and is decided at query
//! time against the server's clock.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use automerge::Automerge;
use autosurgeon::MaybeMissing;
use fengqiao_schema::calendar::Calendars;
use fengqiao_schema::clocks::{case_deadlines, ClockConfig, DeadlineKind, Status};
use fengqiao_schema::document::Case;
use fengqiao_schema::policy;
use fengqiao_schema::rates::{Attendance, RecordedAttendance};
use fengqiao_schema::time::LegalDate;
use fengqiao_schema::vocab::{PetitionIntake, ReconsiderationIntake, Section, Track};

/// Everything the projection tables hold of one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseProjection {
    pub case: CaseRow,
    pub deadlines: Vec<DeadlineRow>,
    pub handoffs: Vec<HandoffRow>,
    pub review: Vec<ReviewRow>,
    /// SHA-256 (lower-case hex) of every attachment the case lists.
    pub attachments: Vec<String>,
}

/// One row of `case_projection`. Codes are the vocabulary codes; no personal data.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CaseRow {
    pub case_number: String,
    pub title: String,
    pub kind: Option<String>,
    pub track: Option<String>,
    pub custody_unit: String,
    pub township: String,
    pub dispute_type: Option<String>,
    pub concluded: bool,
    pub outcome: Option<String>,
    /// Unix milliseconds of the server's registration.
    pub registered_at: Option<i64>,
    pub registered_on: Option<LegalDate>,
    pub accepted_on: Option<LegalDate>,
    pub concluded_on: Option<LegalDate>,
    /// Mediation source, or the petition's channel.
    pub source: Option<String>,
    pub restricted: bool,
    // What the rates of LAW.md §4 need, by track.
    pub mediation_result: Option<String>,
    pub mediation_result_on: Option<LegalDate>,
    pub reconsideration_decision: Option<String>,
    pub reconsideration_decided_on: Option<LegalDate>,
    pub litigation_instance: Option<String>,
    pub litigation_attendance: Option<Attendance>,
    pub litigation_outcome: Option<String>,
    pub litigation_heard_on: Option<LegalDate>,
    pub litigation_judged_on: Option<LegalDate>,
    pub satisfaction: Option<String>,
}

/// One row of `deadline_projection`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadlineRow {
    pub rule: String,
    pub track: String,
    /// An organ must act (not a party's window).
    pub duty: bool,
    pub start_on: LegalDate,
    pub due_on: LegalDate,
    pub met_on: Option<LegalDate>,
    pub suspended: bool,
    pub explanation: String,
}

/// One row of `handoff_projection`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandoffRow {
    pub handoff_id: String,
    pub from_unit: String,
    pub from_track: Option<String>,
    pub to_unit: String,
    pub to_track: Option<String>,
    pub status: Option<String>,
    pub requested_at: Option<i64>,
    pub decided_at: Option<i64>,
}

/// One row of `review_projection`: an item, once per unit it is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewRow {
    pub item_id: String,
    pub unit_id: String,
    pub kind: Option<String>,
    pub section: Option<String>,
    pub done: bool,
}

/// The stored code of an attendance.
pub fn attendance_code(attendance: Attendance) -> &'static str {
    match attendance {
        Attendance::NotHeard => "not_heard",
        Attendance::Head => "head",
        Attendance::StaffOnly => "staff_only",
        Attendance::LawyerOnly => "lawyer_only",
        Attendance::Nobody => "nobody",
    }
}

pub fn attendance_from_code(code: &str) -> Option<Attendance> {
    [Attendance::NotHeard, Attendance::Head, Attendance::StaffOnly, Attendance::LawyerOnly, Attendance::Nobody]
        .into_iter()
        .find(|a| attendance_code(*a) == code)
}

/// Who appeared for the agency at a lawsuit's hearings: the head at any hearing counts; a hearing
/// with only a lawyer and no head makes the instance lawyer-only unless the head appeared at
/// another (SS 3; CT 5–12).
pub fn lawsuit_attendance(case: &Case) -> Attendance {
    let hearings = &case.litigation.hearings;
    let head = hearings.iter().any(|h| h.head_appeared && !h.lawyer_only);
    Attendance::from(RecordedAttendance {
        heard_in_court: !hearings.is_empty(),
        head_appeared: head,
        staff_appeared: hearings.iter().any(|h| !h.delegated_staff.is_empty()),
        lawyer_only: !head && hearings.iter().any(|h| h.lawyer_only),
    })
}

/// The embedded official holiday calendars, parsed once.
pub(crate) fn calendars() -> &'static Calendars {
    static CALENDARS: OnceLock<Calendars> = OnceLock::new();
    CALENDARS.get_or_init(Calendars::official)
}

fn code<T: std::fmt::Display>(value: Option<T>) -> Option<String> {
    value.map(|v| v.to_string())
}

/// A case as its last commit projected it, kept with the cached document: the next commit reads
/// again only the sections its changes touched instead of hydrating the whole case (which cost a
/// third of the server's CPU per edit), and rewrites the projection rows only when they changed.
#[derive(Debug, Clone)]
pub struct ProjectedCase {
    pub case: Case,
    pub projection: CaseProjection,
    /// The heads of the document `case` was read at.
    pub heads: Vec<automerge::ChangeHash>,
}

impl ProjectedCase {
    /// The whole document hydrated and projected; `None` if it does not read as a case.
    pub fn of_document(doc: &Automerge, today: LegalDate) -> Option<ProjectedCase> {
        let case: Case = autosurgeon::hydrate(doc).ok()?;
        let projection = CaseProjection::of_case(&case, today);
        Some(ProjectedCase { case, projection, heads: doc.get_heads() })
    }

    /// Reads the sections named by `keys` (root keys of the document) again from `doc` and
    /// projects the case anew; whether the projection changed. `None` when a section does not
    /// read (the whole case would not hydrate either). Reading a section on its own gives what
    /// hydrating the whole case gives for it: `Case` reads each of its fields by its key alone,
    /// a missing one as its default.
    pub fn refresh(mut self, doc: &Automerge, keys: &BTreeSet<String>, today: LegalDate) -> Option<(ProjectedCase, bool)> {
        for key in keys {
            hydrate_section(&mut self.case, doc, key).ok()?;
        }
        let projection = CaseProjection::of_case(&self.case, today);
        let changed = projection != self.projection;
        self.projection = projection;
        self.heads = doc.get_heads();
        Some((self, changed))
    }
}

fn hydrate_section(case: &mut Case, doc: &Automerge, key: &str) -> Result<(), autosurgeon::HydrateError> {
    fn read<T: autosurgeon::Hydrate + Default>(doc: &Automerge, key: &str) -> Result<T, autosurgeon::HydrateError> {
        Ok(match autosurgeon::hydrate_prop::<_, MaybeMissing<T>, _, _>(doc, &automerge::ROOT, key)? {
            MaybeMissing::Present(value) => value,
            MaybeMissing::Missing => T::default(),
        })
    }
    match Section::from_code(key) {
        Some(Section::Meta) => case.meta = read(doc, key)?,
        Some(Section::Parties) => case.parties = read(doc, key)?,
        Some(Section::Claims) => case.claims = read(doc, key)?,
        Some(Section::Mediation) => case.mediation = read(doc, key)?,
        Some(Section::Petition) => case.petition = read(doc, key)?,
        Some(Section::Reconsideration) => case.reconsideration = read(doc, key)?,
        Some(Section::Litigation) => case.litigation = read(doc, key)?,
        Some(Section::Handoffs) => case.handoffs = read(doc, key)?,
        Some(Section::Custody) => case.custody = read(doc, key)?,
        Some(Section::Review) => case.review = read(doc, key)?,
        Some(Section::Attachments) => case.attachments = read(doc, key)?,
        // Not part of a case: hydrating the whole case ignores it too.
        None => {}
    }
    Ok(())
}

impl CaseProjection {
    /// The projection of a stored document; `None` for a document that does not read as a case.
    pub fn of_document(doc: &Automerge, today: LegalDate) -> Option<CaseProjection> {
        ProjectedCase::of_document(doc, today).map(|projected| projected.projection)
    }

    /// The projection of a case; `today` only decides which deadlines the clocks compute as
    /// suspended (the stored rows carry no other status).
    pub fn of_case(case: &Case, today: LegalDate) -> CaseProjection {
        let (custody_unit, track) = policy::custodian(case);
        let m = &case.mediation;
        let p = &case.petition;
        let r = &case.reconsideration;
        let l = &case.litigation;
        let (concluded, outcome, concluded_on, accepted_on) = match track {
            Some(Track::Mediation) | None => (m.result.is_some(), code(m.result), m.result_on, m.accepted_on),
            Some(Track::Petition) => {
                let refused = matches!(p.intake, Some(PetitionIntake::NotAccepted | PetitionIntake::NotReaccepted));
                let outcome = code(p.reply.result).or_else(|| refused.then(|| code(p.intake)).flatten());
                (p.reply.result.is_some() || refused, outcome, p.reply.issued_on.or(p.intake_notified_on), p.accepted_on)
            }
            Some(Track::Reconsideration) => {
                let refused = matches!(
                    r.intake,
                    Some(ReconsiderationIntake::NotAccepted | ReconsiderationIntake::ApplicationDismissed)
                );
                let outcome = code(r.decision.kind).or_else(|| refused.then(|| code(r.intake)).flatten());
                let on = r.decision.decided_on.or(if refused { r.intake_decided_on } else { None });
                (r.decision.kind.is_some() || refused, outcome, on, r.accepted_on)
            }
            Some(Track::Litigation) => {
                (l.judgment.outcome.is_some(), code(l.judgment.outcome), l.judgment.judged_on, l.registered_on)
            }
        };
        let source = code(m.source).or_else(|| code(p.channel));
        let litigation_attendance = (track == Some(Track::Litigation) || l.instance.is_some() || !l.hearings.is_empty())
            .then(|| lawsuit_attendance(case));
        let row = CaseRow {
            case_number: case.meta.case_number.clone().unwrap_or_default(),
            title: case.meta.title.clone(),
            kind: code(case.meta.kind),
            track: code(track),
            custody_unit: custody_unit.to_string(),
            township: case.meta.township.clone(),
            dispute_type: code(case.meta.dispute_type),
            concluded,
            outcome,
            registered_at: case.meta.registered_at.map(|t| t.unix_seconds() * 1000),
            registered_on: case.meta.registered_at.map(|t| t.china_date()),
            accepted_on,
            concluded_on: if concluded { concluded_on } else { None },
            source,
            restricted: policy::is_restricted(case),
            mediation_result: code(m.result),
            mediation_result_on: m.result_on,
            reconsideration_decision: code(r.decision.kind),
            reconsideration_decided_on: r.decision.decided_on,
            litigation_instance: code(l.instance),
            litigation_attendance,
            litigation_outcome: code(l.judgment.outcome),
            litigation_heard_on: l.hearings.iter().filter_map(|h| h.held_on).min(),
            litigation_judged_on: l.judgment.judged_on,
            satisfaction: code(p.satisfaction),
        };
        let deadlines = case_deadlines(case, today, calendars(), &ClockConfig::default())
            .into_iter()
            .map(|d| DeadlineRow {
                rule: d.rule.code().to_string(),
                track: d.track.code().to_string(),
                duty: d.kind == DeadlineKind::Duty,
                start_on: d.start,
                due_on: d.due,
                met_on: d.met_on,
                suspended: d.status == Status::Suspended,
                explanation: d.explanation,
            })
            .fold(Vec::<DeadlineRow>::new(), |mut rows, row| {
                // One row per rule: the table's key.
                if !rows.iter().any(|r| r.rule == row.rule) {
                    rows.push(row);
                }
                rows
            });
        let handoffs = case
            .handoffs
            .iter()
            .map(|h| HandoffRow {
                handoff_id: h.id.clone(),
                from_unit: h.from_unit.clone(),
                from_track: code(h.from_track),
                to_unit: h.to_unit.clone(),
                to_track: code(h.to_track),
                status: code(h.status),
                requested_at: h.requested_at.map(|t| t.unix_seconds() * 1000),
                decided_at: h.decision.at.or(h.status_at.filter(|_| h.decision.verdict.is_some())).map(|t| t.unix_seconds() * 1000),
            })
            .collect();
        let mut review = Vec::new();
        for item in &case.review {
            let units: Vec<&str> = if item.units.is_empty() { vec![""] } else { item.units.iter().map(String::as_str).collect() };
            for unit in units {
                if review.iter().any(|r: &ReviewRow| r.item_id == item.id && r.unit_id == unit) {
                    continue;
                }
                review.push(ReviewRow {
                    item_id: item.id.clone(),
                    unit_id: unit.to_string(),
                    kind: code(item.kind),
                    section: code(item.section),
                    done: item.done,
                });
            }
        }
        let mut attachments: Vec<String> = case
            .attachments
            .iter()
            .map(|a| a.sha256.to_ascii_lowercase())
            .filter(|s| !s.is_empty())
            .collect();
        attachments.sort();
        attachments.dedup();
        CaseProjection { case: row, deadlines, handoffs, review, attachments }
    }
}

#[cfg(test)]
mod tests {
    use automerge::AutoCommit;
    use fengqiao_schema::time::Instant;
    use fengqiao_schema::upgrade::{new_case_document, Intake};
    use fengqiao_schema::vocab::{CaseKind, DisputeType, MediationResult};

    use super::*;

    fn edit(doc: &mut AutoCommit, change: impl FnOnce(&mut Case)) {
        let mut case: Case = autosurgeon::hydrate(doc).expect("hydrates");
        change(&mut case);
        autosurgeon::reconcile(doc, &case).expect("reconciles");
        doc.commit();
    }

    fn keys(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|k| k.to_string()).collect()
    }

    #[test]
    fn refreshing_the_touched_sections_gives_what_hydrating_the_whole_case_gives() {
        let intake = Intake {
            kind: CaseKind::Dispute,
            unit: "q.town".into(),
            user: "m1".into(),
            township: "q.town".into(),
            title: "宅基地纠纷".into(),
            created_at: Instant::from_unix(1_790_000_000),
        };
        let mut doc = new_case_document(automerge::ActorId::random(), &intake).expect("a case");
        let today = Instant::from_unix(1_790_000_000).china_date();
        let projected = ProjectedCase::of_document(doc.document(), today).expect("reads as a case");

        // Facts only: the projection does not read them, so the rows stay as they are.
        edit(&mut doc, |case| case.claims.facts = autosurgeon::Text::with_value("双方因排水沟发生争执"));
        let (projected, changed) = projected.refresh(doc.document(), &keys(&["claims"]), today).expect("refreshes");
        assert!(!changed, "facts are not projected");
        assert_eq!(projected.case, autosurgeon::hydrate::<_, Case>(doc.document()).unwrap());

        // The title, the dispute type and a mediation result: the case row changes.
        edit(&mut doc, |case| {
            case.meta.title = "张某与李某宅基地纠纷".into();
            case.meta.dispute_type = Some(DisputeType::HousingHomestead);
            case.mediation.result = Some(MediationResult::Success);
            case.mediation.result_on = Some(today);
        });
        let (projected, changed) =
            projected.refresh(doc.document(), &keys(&["meta", "mediation"]), today).expect("refreshes");
        assert!(changed);
        assert_eq!(projected.case, autosurgeon::hydrate::<_, Case>(doc.document()).unwrap());
        assert_eq!(Some(projected.projection.clone()), CaseProjection::of_document(doc.document(), today));
        assert!(projected.projection.case.concluded);
        assert_eq!(projected.projection.case.title, "张某与李某宅基地纠纷");

        // What ingest reads for the policy comes the same from the kept case as from the document.
        assert_eq!(
            fengqiao_sync::ingest::policy_view_of(&projected.case),
            fengqiao_sync::ingest::policy_view(doc.document()).unwrap()
        );
        assert_eq!(projected.heads, doc.document().get_heads());

        // A key that is not a section changes nothing the case reads.
        let (after, changed) = projected.clone().refresh(doc.document(), &keys(&["scratch"]), today).expect("refreshes");
        assert!(!changed);
        assert_eq!(after.case, projected.case);
    }
}
