//! The shape of a case document, field by field: what kind of value each path holds, so that a
//! value a client wrote can be checked where it was written, without hydrating its whole section
//! (a section can hold hundreds of sessions; a typed check of one field must not cost that).
//!
//! It restates `fengqiao_schema::document` as data. `sync/tests/shape.rs` keeps the two in step:
//! every leaf of a fully populated case is accepted here, and every wrong-typed substitute is
//! refused here exactly when hydrating the case fails.

use std::collections::HashMap;
use std::sync::OnceLock;

use automerge::{ObjType, ScalarValue, Value};
use fengqiao_schema::time::{Instant, LegalDate};
use fengqiao_schema::vocab::*;

/// What a field holds.
#[derive(Clone, Copy)]
pub enum Kind {
    Str,
    Date,
    Instant,
    Code(fn(&str) -> bool),
    U64,
    I64,
    Bool,
    Text,
    Map,
    List,
}

/// A field: its kind, and whether it may be null (an `Option` in the schema).
#[derive(Clone, Copy)]
pub struct Field {
    pub kind: Kind,
    pub optional: bool,
}

macro_rules! code {
    ($t:ty) => {
        Kind::Code(|s| <$t>::from_code(s).is_some())
    };
}

const fn req(kind: Kind) -> Field {
    Field { kind, optional: false }
}

const fn opt(kind: Kind) -> Field {
    Field { kind, optional: true }
}

/// Paths are written with `/` between keys and `[]` for any list index.
fn table() -> &'static HashMap<String, Field> {
    static TABLE: OnceLock<HashMap<String, Field>> = OnceLock::new();
    TABLE.get_or_init(|| {
        use Kind::*;
        let mut t: Vec<(String, Field)> = Vec::new();
        let mut add = |prefix: &str, fields: &[(&str, Field)]| {
            for (k, f) in fields {
                let path = if prefix.is_empty() { k.to_string() } else if k.is_empty() { prefix.to_string() } else { format!("{prefix}/{k}") };
                t.push((path, *f));
            }
        };
        let extension = [("", req(Map)), ("days", opt(U64)), ("approved_on", opt(Date)), ("reason", req(Str)), ("notified_on", opt(Date))];
        let petition_review = [
            ("", req(Map)),
            ("requested_on", opt(Date)),
            ("organ", req(Str)),
            ("result", opt(code!(PetitionReviewResult))),
            ("decided_on", opt(Date)),
            ("received_on", opt(Date)),
        ];
        add("meta", &[
            ("", req(Map)),
            ("schema_version", req(U64)),
            ("case_number", opt(Str)),
            ("created_at", opt(Instant)),
            ("registered_at", opt(Instant)),
            ("kind", opt(code!(CaseKind))),
            ("opened_by_unit", req(Str)),
            ("opened_by_user", req(Str)),
            ("township", req(Str)),
            ("village", req(Str)),
            ("dispute_type", opt(code!(DisputeType))),
            ("title", req(Str)),
            ("handlers", req(List)),
            ("handlers/[]", req(Str)),
        ]);
        add("parties", &[
            ("", req(List)),
            ("[]", req(Map)),
            ("[]/id", req(Str)),
            ("[]/role", opt(code!(PartyRole))),
            ("[]/kind", opt(code!(PartyKind))),
            ("[]/name", req(Str)),
            ("[]/id_number", req(Str)),
            ("[]/phone", req(Str)),
            ("[]/address", req(Str)),
            ("[]/represents", opt(Str)),
        ]);
        add("claims", &[("", req(Map)), ("claims", req(Text)), ("facts", req(Text))]);
        add("mediation", &[
            ("", req(Map)),
            ("committee", req(Str)),
            ("source", opt(code!(MediationSource))),
            ("mediators", req(List)),
            ("mediators/[]", req(Str)),
            ("accepted_on", opt(Date)),
            ("labour_dispute", req(Bool)),
            ("issues", req(Text)),
            ("sessions", req(List)),
            ("sessions/[]", req(Map)),
            ("sessions/[]/id", req(Str)),
            ("sessions/[]/held_at", opt(Instant)),
            ("sessions/[]/place", req(Str)),
            ("sessions/[]/mediators", req(List)),
            ("sessions/[]/mediators/[]", req(Str)),
            ("sessions/[]/notes", req(Text)),
            ("result", opt(code!(MediationResult))),
            ("result_on", opt(Date)),
            ("routes_told", req(Text)),
            ("agreement", req(Map)),
            ("agreement/terms", req(Text)),
            ("agreement/signed_on", opt(Date)),
            ("agreement/effective_on", opt(Date)),
            ("agreement/oral", req(Bool)),
            ("agreement/amount_fen", opt(I64)),
            ("follow_up", req(Map)),
            ("follow_up/visited_on", opt(Date)),
            ("follow_up/performance", opt(code!(Performance))),
            ("follow_up/notes", req(Text)),
            ("judicial_confirmation", req(Map)),
            ("judicial_confirmation/applied_on", opt(Date)),
            ("judicial_confirmation/court", req(Str)),
            ("judicial_confirmation/result", opt(code!(JudicialConfirmationResult))),
            ("judicial_confirmation/decided_on", opt(Date)),
        ]);
        add("petition", &[
            ("", req(Map)),
            ("channel", opt(code!(Channel))),
            ("group_size", opt(U64)),
            ("representatives", req(List)),
            ("representatives/[]", req(Str)),
            ("category", opt(code!(PetitionCategory))),
            ("route", opt(code!(PetitionRoute))),
            ("received_on", opt(Date)),
            ("registered_on", opt(Date)),
            ("transferred_on", opt(Date)),
            ("intake", opt(code!(PetitionIntake))),
            ("intake_notified_on", opt(Date)),
            ("accepted_on", opt(Date)),
            ("satisfaction", opt(code!(Satisfaction))),
            ("reply", req(Map)),
            ("reply/request", req(Text)),
            ("reply/facts_and_reasons", req(Text)),
            ("reply/decision", req(Text)),
            ("reply/legal_basis", req(Text)),
            ("reply/result", opt(code!(PetitionResult))),
            ("reply/issued_on", opt(Date)),
            ("reply/received_on", opt(Date)),
        ]);
        add("petition/extension", &extension);
        add("petition/review", &petition_review);
        add("petition/re_review", &petition_review);
        add("reconsideration", &[
            ("", req(Map)),
            ("applicant", req(Str)),
            ("respondent_agency", req(Str)),
            ("subject", opt(code!(ReconsiderationSubject))),
            ("act", req(Map)),
            ("act/name", req(Str)),
            ("act/number", req(Str)),
            ("act/made_on", opt(Date)),
            ("act/known_on", opt(Date)),
            ("act/right_notified", opt(Bool)),
            ("act/right_learned_on", opt(Date)),
            ("act/real_property", req(Bool)),
            ("request", req(Text)),
            ("received_on", opt(Date)),
            ("correction", req(Map)),
            ("correction/notified_on", opt(Date)),
            ("correction/received_on", opt(Date)),
            ("correction/supplied_on", opt(Date)),
            ("intake", opt(code!(ReconsiderationIntake))),
            ("intake_decided_on", opt(Date)),
            ("accepted_on", opt(Date)),
            ("procedure", opt(code!(Procedure))),
            ("sent_to_respondent_on", opt(Date)),
            ("answer_received_on", opt(Date)),
            ("hearing", req(Map)),
            ("hearing/held_on", opt(Date)),
            ("hearing/place", req(Str)),
            ("hearing/notes", req(Text)),
            ("suspensions", req(List)),
            ("suspensions/[]", req(Map)),
            ("suspensions/[]/id", req(Str)),
            ("suspensions/[]/from", opt(Date)),
            ("suspensions/[]/to", opt(Date)),
            ("suspensions/[]/reason", req(Str)),
            ("decision", req(Map)),
            ("decision/kind", opt(code!(ReconsiderationDecision))),
            ("decision/decided_on", opt(Date)),
            ("decision/served_on", opt(Date)),
            ("decision/number", req(Str)),
        ]);
        add("reconsideration/extension", &extension);
        add("litigation", &[
            ("", req(Map)),
            ("court", req(Str)),
            ("court_case_number", req(Str)),
            ("instance", opt(code!(Instance))),
            ("procedure", opt(code!(Procedure))),
            ("plaintiff", req(Str)),
            ("defendants", req(List)),
            ("defendants/[]", req(Str)),
            ("act_name", req(Str)),
            ("reconsideration_upheld", opt(Bool)),
            ("claims", req(Text)),
            ("registered_on", opt(Date)),
            ("complaint_received_on", opt(Date)),
            ("defence_filed_on", opt(Date)),
            ("hearings", req(List)),
            ("hearings/[]", req(Map)),
            ("hearings/[]/id", req(Str)),
            ("hearings/[]/held_on", opt(Date)),
            ("hearings/[]/head_appeared", req(Bool)),
            ("hearings/[]/head_name", req(Str)),
            ("hearings/[]/head_title", req(Str)),
            ("hearings/[]/head_rank", opt(code!(HeadRank))),
            ("hearings/[]/head_spoke", req(Bool)),
            ("hearings/[]/delegated_staff", req(List)),
            ("hearings/[]/delegated_staff/[]", req(Str)),
            ("hearings/[]/lawyer_only", req(Bool)),
            ("judgment", req(Map)),
            ("judgment/outcome", opt(code!(LitigationOutcome))),
            ("judgment/judged_on", opt(Date)),
            ("judgment/served_on", opt(Date)),
            ("appeal", req(Map)),
            ("appeal/filed_on", opt(Date)),
            ("appeal/by", req(Str)),
            ("recommendations", req(Text)),
            ("performance", opt(code!(Performance))),
        ]);
        add("handoffs", &[
            ("", req(List)),
            ("[]", req(Map)),
            ("[]/id", req(Str)),
            ("[]/from_track", opt(code!(Track))),
            ("[]/from_unit", req(Str)),
            ("[]/to_track", opt(code!(Track))),
            ("[]/to_unit", req(Str)),
            ("[]/reason", req(Str)),
            ("[]/custody_version", req(U64)),
            ("[]/requested_by", req(Str)),
            ("[]/requested_at", opt(Instant)),
            ("[]/status", opt(code!(HandoffStatus))),
            ("[]/status_reason", req(Str)),
            ("[]/status_at", opt(Instant)),
            ("[]/decision", req(Map)),
            ("[]/decision/verdict", opt(code!(HandoffVerdict))),
            ("[]/decision/by", req(Str)),
            ("[]/decision/at", opt(Instant)),
            ("[]/decision/note", req(Str)),
            ("[]/withdrawal", req(Map)),
            ("[]/withdrawal/by", req(Str)),
            ("[]/withdrawal/at", opt(Instant)),
        ]);
        add("attachments", &[
            ("", req(List)),
            ("[]", req(Map)),
            ("[]/id", req(Str)),
            ("[]/name", req(Str)),
            ("[]/media_type", req(Str)),
            ("[]/size", req(U64)),
            ("[]/sha256", req(Str)),
            ("[]/document_type", req(Str)),
            ("[]/number", req(Str)),
            ("[]/issued_on", opt(Date)),
            ("[]/served_on", opt(Date)),
        ]);
        t.into_iter().collect()
    })
}

/// The field at `path` (keys, with `[]` for list indices), if the schema knows it. `custody` and
/// `review` are the server's and not described: nothing a client writes there survives.
pub fn field(path: &str) -> Option<Field> {
    table().get(path).copied()
}

/// Whether `value` may stand at a field of this shape.
pub fn accepts(field: Field, value: &Value<'_>) -> bool {
    match value {
        Value::Object(ty) => matches!(
            (field.kind, ty),
            (Kind::Text, ObjType::Text) | (Kind::Map, ObjType::Map | ObjType::Table) | (Kind::List, ObjType::List)
        ),
        Value::Scalar(s) => {
            let s = s.as_ref();
            if matches!(s, ScalarValue::Null) {
                return field.optional;
            }
            match field.kind {
                Kind::Str => matches!(s, ScalarValue::Str(_)),
                Kind::Date => matches!(s, ScalarValue::Str(v) if v.parse::<LegalDate>().is_ok()),
                Kind::Instant => matches!(s, ScalarValue::Str(v) if v.parse::<Instant>().is_ok()),
                Kind::Code(valid) => matches!(s, ScalarValue::Str(v) if valid(v)),
                Kind::U64 => matches!(s, ScalarValue::Uint(_)) || matches!(s, ScalarValue::Int(v) if *v >= 0),
                Kind::I64 => matches!(s, ScalarValue::Int(_)) || matches!(s, ScalarValue::Uint(v) if i64::try_from(*v).is_ok()),
                Kind::Bool => matches!(s, ScalarValue::Boolean(_)),
                Kind::Text | Kind::Map | Kind::List => false,
            }
        }
    }
}

/// The path of a patch's target with list indices written `[]`, plus the key written.
pub fn patch_path(path: &[(automerge::ObjId, automerge::Prop)], last: Option<&automerge::Prop>) -> String {
    let mut out = String::new();
    for prop in path.iter().map(|(_, p)| p).chain(last) {
        if !out.is_empty() {
            out.push('/');
        }
        match prop {
            automerge::Prop::Map(k) => out.push_str(k),
            automerge::Prop::Seq(_) => out.push_str("[]"),
        }
    }
    out
}
