//! The vocabularies of the case document: stable lower-case codes stored in documents, with their
//! zh-CN labels for people. This is the one table of labels; documents never hold a label.

use autosurgeon::{Hydrate, HydrateError, Reconcile, Reconciler};
use serde::{Deserialize, Serialize};

/// Defines a vocabulary: an enum whose variants have a stable code and a zh-CN label, stored in
/// documents as the code (a scalar string) and in JSON as the code.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident, $title:literal { $($(#[$vmeta:meta])* $variant:ident = $code:literal, $label:literal;)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vmeta])* $variant,)+ }

        impl $name {
            /// Every value, in the order of the vocabulary table.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];
            /// The vocabulary's own name, as used in the vocabulary table.
            pub const VOCABULARY: &'static str = $title;

            /// The stable code stored in documents.
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code,)+ }
            }

            /// The zh-CN label shown to people.
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label,)+ }
            }

            /// The value with this code, if any.
            pub fn from_code(code: &str) -> Option<Self> {
                match code { $($code => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }

        impl std::str::FromStr for $name {
            type Err = UnknownCode;
            fn from_str(s: &str) -> Result<Self, UnknownCode> {
                Self::from_code(s).ok_or_else(|| UnknownCode { vocabulary: $title, code: s.to_string() })
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.code())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let code = String::deserialize(d)?;
                code.parse().map_err(serde::de::Error::custom)
            }
        }

        impl Reconcile for $name {
            type Key<'a> = autosurgeon::reconcile::NoKey;
            fn reconcile<R: Reconciler>(&self, mut r: R) -> Result<(), R::Error> {
                r.str(self.code())
            }
        }

        impl Hydrate for $name {
            fn hydrate_string(s: &str) -> Result<Self, HydrateError> {
                Self::from_code(s).ok_or_else(|| {
                    HydrateError::unexpected(concat!("a code of the vocabulary ", $title), s.to_string())
                })
            }
        }

        impl VocabularyTable for $name {
            fn entries() -> Vec<VocabularyEntry> {
                Self::ALL
                    .iter()
                    .map(|v| VocabularyEntry { vocabulary: $title, code: v.code(), label: v.label() })
                    .collect()
            }
        }
    };
}

/// A code that is not in its vocabulary.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("「{code}」不是{vocabulary}中的代码")]
pub struct UnknownCode {
    pub vocabulary: &'static str,
    pub code: String,
}

/// One row of the vocabulary table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct VocabularyEntry {
    pub vocabulary: &'static str,
    pub code: &'static str,
    pub label: &'static str,
}

/// Implemented by every vocabulary, so that the whole table can be listed.
pub trait VocabularyTable {
    fn entries() -> Vec<VocabularyEntry>;
}

vocabulary! {
    /// The four tracks a case can be in.
    Track, "track" {
        Mediation = "mediation", "人民调解";
        Petition = "petition", "信访";
        Reconsideration = "reconsideration", "行政复议";
        Litigation = "litigation", "行政诉讼";
    }
}

vocabulary! {
    /// What a case was opened as; the kind decides the first track.
    CaseKind, "case_kind" {
        Dispute = "dispute", "矛盾纠纷";
        Petition = "petition", "信访事项";
    }
}

impl CaseKind {
    /// The track a newly opened case of this kind starts in.
    pub fn opening_track(self) -> Track {
        match self {
            CaseKind::Dispute => Track::Mediation,
            CaseKind::Petition => Track::Petition,
        }
    }
}

vocabulary! {
    /// What a user may do (DESIGN §4).
    Role, "role" {
        Mediator = "mediator", "调解员";
        PetitionOfficer = "petition_officer", "信访干部";
        ReconsiderationOfficer = "reconsideration_officer", "复议工作人员";
        LitigationOfficer = "litigation_officer", "应诉工作人员";
        Supervisor = "supervisor", "督查/分管领导";
        Admin = "admin", "系统管理员";
    }
}

impl Role {
    /// The role that works cases in custody of this track.
    pub fn for_track(track: Track) -> Role {
        match track {
            Track::Mediation => Role::Mediator,
            Track::Petition => Role::PetitionOfficer,
            Track::Reconsideration => Role::ReconsiderationOfficer,
            Track::Litigation => Role::LitigationOfficer,
        }
    }
}

vocabulary! {
    /// Kinds of unit in a county.
    UnitKind, "unit_kind" {
        County = "county", "县（区）";
        Township = "township", "乡镇";
        Subdistrict = "subdistrict", "街道";
        PetitionBureau = "petition_bureau", "信访局";
        JusticeBureau = "justice_bureau", "司法局（行政复议机构）";
        LegalOffice = "legal_office", "法制机构（行政应诉）";
    }
}

vocabulary! {
    /// 纠纷类型 (LAW.md §5).
    DisputeType, "dispute_type" {
        MarriageFamily = "marriage_family", "婚姻家庭";
        Neighbour = "neighbour", "邻里";
        HousingHomestead = "housing_homestead", "房屋宅基地";
        Contract = "contract", "合同";
        ProductionBusiness = "production_business", "生产经营";
        Damages = "damages", "损害赔偿";
        ForestLand = "forest_land", "山林土地";
        LandAcquisition = "land_acquisition", "征地拆迁";
        Pollution = "pollution", "环境污染";
        Labour = "labour", "劳动争议";
        Consumer = "consumer", "消费";
        Medical = "medical", "医疗";
        TrafficAccident = "traffic_accident", "道路交通事故";
        PropertyManagement = "property_management", "物业";
        VillageAffairs = "village_affairs", "村务管理";
        Other = "other", "其他";
    }
}

vocabulary! {
    /// Reconsideration subject matter (LAW.md §5).
    ReconsiderationSubject, "reconsideration_subject" {
        AdministrativePenalty = "administrative_penalty", "行政处罚";
        ComplaintHandling = "complaint_handling", "举报投诉处理";
        InformationDisclosure = "information_disclosure", "政府信息公开";
        Expropriation = "expropriation", "行政征收";
        Confirmation = "confirmation", "行政确认";
        Coercion = "coercion", "行政强制";
        Inaction = "inaction", "行政不作为";
        OwnershipDetermination = "ownership_determination", "行政确权";
        Licensing = "licensing", "行政许可";
        Other = "other", "其他";
    }
}

vocabulary! {
    /// 信访渠道 (XF 17).
    Channel, "channel" {
        Online = "online", "网络";
        Letter = "letter", "书信";
        Phone = "phone", "电话";
        Fax = "fax", "传真";
        Visit = "visit", "走访";
    }
}

vocabulary! {
    /// 信访事项类别 (XF 29–31).
    PetitionCategory, "petition_category" {
        Suggestion = "suggestion", "建议意见类";
        Accusation = "accusation", "检举控告类";
        Grievance = "grievance", "申诉求决类";
    }
}

vocabulary! {
    /// 依法分类处理: the six routes of a grievance (XF 31).
    PetitionRoute, "petition_route" {
        LitigationProcedure = "litigation_procedure", "涉法涉诉（诉讼程序）";
        Arbitration = "arbitration", "仲裁";
        PartyDiscipline = "party_discipline", "党纪申诉";
        AdministrativeProcedure = "administrative_procedure", "行政程序（行政复议等）";
        EnforcementRequest = "enforcement_request", "查处违法、履行保护职责";
        PetitionHandling = "petition_handling", "信访程序办理";
    }
}

vocabulary! {
    /// Intake results of a petition (XF 23).
    PetitionIntake, "petition_intake" {
        Accepted = "accepted", "受理";
        NotAccepted = "not_accepted", "不予受理";
        NotReaccepted = "not_reaccepted", "不再受理";
        Transferred = "transferred", "转送";
        Assigned = "assigned", "交办";
    }
}

vocabulary! {
    /// Results of a petition handled in the petition track (XF 32–33).
    PetitionResult, "petition_result" {
        Support = "support", "支持";
        Explain = "explain", "解释说明";
        NotSupport = "not_support", "不予支持";
        Mediated = "mediated", "调解";
        Settled = "settled", "和解";
        Adopted = "adopted", "采纳";
        PartlyAdopted = "partly_adopted", "部分采纳";
        NotAdopted = "not_adopted", "未采纳";
    }
}

vocabulary! {
    /// Results of 复查 and 复核 (XF 35–36).
    PetitionReviewResult, "petition_review_result" {
        Upheld = "upheld", "维持";
        Revised = "revised", "撤销或变更";
    }
}

vocabulary! {
    /// 群众满意度.
    Satisfaction, "satisfaction" {
        Satisfied = "satisfied", "满意";
        BasicallySatisfied = "basically_satisfied", "基本满意";
        Dissatisfied = "dissatisfied", "不满意";
    }
}

vocabulary! {
    /// 调解来源 (TJ 17–18).
    MediationSource, "mediation_source" {
        Application = "application", "申请";
        Initiative = "initiative", "主动";
        Referral = "referral", "委托移送";
    }
}

vocabulary! {
    /// 调解结果 (TJ 26, 28). `screened` marks a dispute that was only screened (排查) and never
    /// mediated: it is excluded from the mediation success rate.
    MediationResult, "mediation_result" {
        Success = "success", "调解成功";
        Failed = "failed", "调解不成/终止";
        Refused = "refused", "当事人拒绝调解";
        Screened = "screened", "仅排查未调解";
    }
}

vocabulary! {
    /// 回访履行情况.
    Performance, "performance" {
        Performed = "performed", "已履行";
        PartlyPerformed = "partly_performed", "部分履行";
        NotPerformed = "not_performed", "未履行";
    }
}

vocabulary! {
    /// 司法确认结果 (TJ 33).
    JudicialConfirmationResult, "judicial_confirmation_result" {
        Valid = "valid", "有效";
        Rejected = "rejected", "驳回";
        Withdrawn = "withdrawn", "撤回";
    }
}

vocabulary! {
    /// A party's role in a case.
    PartyRole, "party_role" {
        Applicant = "applicant", "申请人";
        Respondent = "respondent", "被申请人";
        ThirdParty = "third_party", "第三人";
        Agent = "agent", "代理人";
    }
}

vocabulary! {
    /// Whether a party is a natural person or an organisation.
    PartyKind, "party_kind" {
        Person = "person", "自然人";
        Organisation = "organisation", "法人或其他组织";
    }
}

vocabulary! {
    /// Procedure of reconsideration (FY 53) or litigation (SS 82).
    Procedure, "procedure" {
        Ordinary = "ordinary", "普通程序";
        Simplified = "simplified", "简易程序";
    }
}

vocabulary! {
    /// Intake result of a reconsideration application (FY 30).
    ReconsiderationIntake, "reconsideration_intake" {
        Accepted = "accepted", "受理";
        NotAccepted = "not_accepted", "不予受理";
        ApplicationDismissed = "application_dismissed", "驳回申请";
    }
}

vocabulary! {
    /// How a reconsideration ended (FY 41, 63–69, 73–74).
    ReconsiderationDecision, "reconsideration_decision" {
        Changed = "changed", "变更";
        Revoked = "revoked", "撤销";
        PartlyRevoked = "partly_revoked", "部分撤销";
        ConfirmedIllegal = "confirmed_illegal", "确认违法";
        OrderedToPerform = "ordered_to_perform", "责令履行";
        ConfirmedVoid = "confirmed_void", "确认无效";
        Upheld = "upheld", "维持";
        ClaimDismissed = "claim_dismissed", "驳回复议请求";
        Mediation = "mediation", "调解书结案";
        SettledWithdrawn = "settled_withdrawn", "和解后撤回终止";
        CorrectedWithdrawn = "corrected_withdrawn", "被申请人自行纠正后撤回终止";
        Withdrawn = "withdrawn", "申请人撤回终止";
        Terminated = "terminated", "其他原因终止";
    }
}

vocabulary! {
    /// Instance of an administrative lawsuit.
    Instance, "instance" {
        First = "first", "一审";
        Second = "second", "二审";
        Retrial = "retrial", "再审";
    }
}

vocabulary! {
    /// How an administrative lawsuit ended (SS 49–80, 89).
    LitigationOutcome, "litigation_outcome" {
        NotRegistered = "not_registered", "不予立案";
        ComplaintDismissed = "complaint_dismissed", "驳回起诉";
        WithdrawalPermitted = "withdrawal_permitted", "准予撤诉";
        Mediation = "mediation", "调解";
        ClaimRejected = "claim_rejected", "判决驳回诉讼请求";
        Revoked = "revoked", "判决撤销";
        Perform = "perform", "判决履行";
        Payment = "payment", "判决给付";
        ConfirmedIllegal = "confirmed_illegal", "判决确认违法";
        ConfirmedVoid = "confirmed_void", "判决确认无效";
        Changed = "changed", "判决变更";
        AppealDismissed = "appeal_dismissed", "驳回上诉，维持原判";
        JudgmentChanged = "judgment_changed", "改判";
        Remanded = "remanded", "发回重审";
    }
}

impl LitigationOutcome {
    /// A ruling (裁定) rather than a judgment (判决): the appeal window is 10 days, not 15 (SS 85).
    pub fn is_ruling(self) -> bool {
        matches!(
            self,
            LitigationOutcome::NotRegistered | LitigationOutcome::ComplaintDismissed | LitigationOutcome::WithdrawalPermitted
        )
    }
}

vocabulary! {
    /// Rank of the agency head who appeared in court (CT 5).
    HeadRank, "head_rank" {
        Chief = "chief", "正职负责人";
        Deputy = "deputy", "副职负责人";
    }
}

vocabulary! {
    /// Status of a handoff request (DESIGN §6).
    HandoffStatus, "handoff_status" {
        Requested = "requested", "已提出（待上传）";
        Pending = "pending", "待接收";
        Accepted = "accepted", "已接收";
        Rejected = "rejected", "已拒绝";
        Withdrawn = "withdrawn", "已撤回";
        Invalid = "invalid", "无效";
        Superseded = "superseded", "已被其他移交取代";
    }
}

vocabulary! {
    /// A decision on a handoff by the receiving unit.
    HandoffVerdict, "handoff_verdict" {
        Accept = "accept", "接收";
        Reject = "reject", "拒绝";
    }
}

vocabulary! {
    /// What a review item is about.
    ReviewKind, "review_kind" {
        RevertedEdit = "reverted_edit", "被撤回的修改";
        ConcurrentValues = "concurrent_values", "同时填写的不同值";
        SupersededHandoff = "superseded_handoff", "被取代的移交申请";
        LateDecision = "late_decision", "迟到的相反移交决定";
    }
}

vocabulary! {
    /// The top-level sections of a case document; authorisation works by section (DESIGN §3).
    Section, "section" {
        Meta = "meta", "基本信息";
        Parties = "parties", "当事人";
        Claims = "claims", "诉求与事实";
        Mediation = "mediation", "调解";
        Petition = "petition", "信访";
        Reconsideration = "reconsideration", "行政复议";
        Litigation = "litigation", "行政应诉";
        Handoffs = "handoffs", "移交";
        Custody = "custody", "管辖";
        Review = "review", "待核查事项";
        Attachments = "attachments", "附件";
    }
}

/// The whole vocabulary table: every vocabulary, code and zh-CN label.
pub fn vocabulary_table() -> Vec<VocabularyEntry> {
    let mut all = Vec::new();
    all.extend(Track::entries());
    all.extend(CaseKind::entries());
    all.extend(Role::entries());
    all.extend(UnitKind::entries());
    all.extend(DisputeType::entries());
    all.extend(ReconsiderationSubject::entries());
    all.extend(Channel::entries());
    all.extend(PetitionCategory::entries());
    all.extend(PetitionRoute::entries());
    all.extend(PetitionIntake::entries());
    all.extend(PetitionResult::entries());
    all.extend(PetitionReviewResult::entries());
    all.extend(Satisfaction::entries());
    all.extend(MediationSource::entries());
    all.extend(MediationResult::entries());
    all.extend(Performance::entries());
    all.extend(JudicialConfirmationResult::entries());
    all.extend(PartyRole::entries());
    all.extend(PartyKind::entries());
    all.extend(Procedure::entries());
    all.extend(ReconsiderationIntake::entries());
    all.extend(ReconsiderationDecision::entries());
    all.extend(Instance::entries());
    all.extend(LitigationOutcome::entries());
    all.extend(HeadRank::entries());
    all.extend(HandoffStatus::entries());
    all.extend(HandoffVerdict::entries());
    all.extend(ReviewKind::entries());
    all.extend(Section::entries());
    all
}
