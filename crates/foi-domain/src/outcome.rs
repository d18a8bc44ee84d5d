//! How a closed case ended, in legal terms, and where each ending lands in every annual-report format.
//!
//! A case stores the legal basis of its outcome (the kind, the reason, the "already public" flag),
//! never a report row. Each format is a total mapping from an outcome to exactly one of its rows
//! (DESIGN section 4, china-ogi-rules.md section 7); the unit tests enumerate every outcome for every
//! format. Where a reason has no row of its own in a format, the comment on the mapping says why it
//! lands where it does.

use serde::{Deserialize, Serialize};

string_enum! {
    /// The kind of a final outcome: the `outcome` column, beside the reason's code.
    OutcomeKind {
        /// 予以公开.
        Disclosed => "disclosed",
        /// 部分公开.
        PartlyDisclosed => "partly_disclosed",
        /// 不予公开.
        Withheld => "withheld",
        /// 无法提供.
        Unable => "unable",
        /// 不予处理.
        NotProcessed => "not_processed",
        /// 其他处理.
        Other => "other",
    }
}

string_enum! {
    /// Why information was withheld (不予公开). The union of the pre-2019 table's six reasons and the
    /// 2021 table's eight.
    WithholdReason {
        /// 国家秘密 (2019 Art. 14; both tables).
        StateSecret => "state_secret",
        /// 其他法律、行政法规禁止公开 (2019 Art. 14).
        BarredByLaw => "barred_by_law",
        /// 危及国家安全、公共安全、经济安全、社会稳定 (2019 Art. 14).
        EndangersSecurity => "endangers_security",
        /// 商业秘密 of a third party (2019 Art. 15; 2008 Art. 14).
        TradeSecret => "trade_secret",
        /// 个人隐私 of a third party (2019 Art. 15; 2008 Art. 14).
        PersonalPrivacy => "personal_privacy",
        /// Another third-party right (2019 Art. 15, 32).
        ThirdPartyRights => "third_party_rights",
        /// 三类内部事务信息: personnel, logistics, internal procedure (2019 Art. 16 para. 1).
        InternalAffairs => "internal_affairs",
        /// 四类过程性信息: discussion records, drafts, consultation letters, requests for instruction
        /// (2019 Art. 16 para. 2).
        ProcessInformation => "process_information",
        /// 行政执法案卷 (2019 Art. 16 para. 2).
        EnforcementFile => "enforcement_file",
        /// 行政查询事项 (2019 Art. 36 (七): governed by other laws' enquiry procedures).
        AdministrativeEnquiry => "administrative_enquiry",
        /// 不是《条例》所指政府信息 (2008 Art. 2; 2019 Art. 2).
        NotGovernmentInformation => "not_government_information",
        /// 法律法规规定的其他情形 (the pre-2019 table's catch-all).
        OtherStatutory => "other_statutory",
    }
}

string_enum! {
    /// Why the information cannot be provided (无法提供).
    UnableReason {
        /// 申请信息不存在 (2019 Art. 36 (四)).
        DoesNotExist => "does_not_exist",
        /// 不属于本行政机关公开: another agency holds it (2019 Art. 36 (五)); a transfer ends this way.
        AnotherAgency => "another_agency",
        /// 没有现成信息需要另行制作 (2019 Art. 38).
        NeedsCreation => "needs_creation",
        /// 补正后申请内容仍不明确 (2019 Art. 30).
        StillUnclear => "still_unclear",
    }
}

string_enum! {
    /// Why the request was not processed (不予处理).
    NotProcessedReason {
        /// 信访、举报、投诉类申请 (2019 Art. 39 para. 1).
        PetitionOrComplaint => "petition_or_complaint",
        /// 重复申请 (2019 Art. 36 (六)): linked to the earlier case.
        RepeatRequest => "repeat_request",
        /// 要求提供公开出版物 (2019 Art. 39 para. 2).
        Publication => "publication",
        /// 无正当理由大量反复申请 (2019 Art. 35).
        ExcessiveRequests => "excessive_requests",
        /// 要求行政机关确认或重新出具已获取信息.
        ConfirmOrReissue => "confirm_or_reissue",
    }
}

string_enum! {
    /// Other endings (其他处理).
    OtherReason {
        /// 申请人无正当理由逾期不补正 (2019 Art. 30): deemed abandoned.
        CorrectionLapsed => "correction_lapsed",
        /// 申请人逾期未按收费通知要求缴纳费用: deemed abandoned.
        FeeLapsed => "fee_lapsed",
        /// The applicant withdrew the request (撤回).
        Withdrawn => "withdrawn",
        /// Told to use the procedure another law sets (2019 Art. 36 (七), e.g. 工商、不动产登记).
        OtherProcedure => "other_procedure",
        /// Anything else (其他).
        Other => "other",
    }
}

/// A request answered before the office used this service, as a repeat request names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EarlierRequest {
    /// The earlier request's tracking number or the reply's document number (文号).
    #[cfg_attr(feature = "openapi", schema(max_length = 200))]
    pub reference: String,
    /// The day the earlier request was answered.
    pub answered_on: chrono::NaiveDate,
    /// Anything else that identifies it.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 2000))]
    pub note: Option<String>,
}

/// The one final outcome of a closed case, with its legal reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Outcome {
    /// 予以公开 / 同意公开 (2019 Art. 36 (一), (二)). `already_public`: the information had been
    /// published proactively (属于已主动公开范围, Art. 36 (一)).
    Disclosed {
        #[serde(default)]
        already_public: bool,
    },
    /// 部分公开 (区分处理, 2019 Art. 37): counts only here, whatever else the reply says.
    PartlyDisclosed {
        #[serde(default)]
        already_public: bool,
    },
    /// 不予公开.
    Withheld { reason: WithholdReason },
    /// 无法提供.
    Unable { reason: UnableReason },
    /// 不予处理. A repeat request (2019 Art. 36 (六)) names the earlier request it repeats, which must
    /// have been answered: a case in this service (`repeat_of`), or one answered before the office
    /// used it (`repeat_of_earlier`).
    NotProcessed {
        reason: NotProcessedReason,
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
        repeat_of: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        repeat_of_earlier: Option<EarlierRequest>,
    },
    /// 其他处理.
    Other { reason: OtherReason },
}

impl Outcome {
    pub fn kind(&self) -> OutcomeKind {
        match self {
            Outcome::Disclosed { .. } => OutcomeKind::Disclosed,
            Outcome::PartlyDisclosed { .. } => OutcomeKind::PartlyDisclosed,
            Outcome::Withheld { .. } => OutcomeKind::Withheld,
            Outcome::Unable { .. } => OutcomeKind::Unable,
            Outcome::NotProcessed { .. } => OutcomeKind::NotProcessed,
            Outcome::Other { .. } => OutcomeKind::Other,
        }
    }

    /// The reason's code (none for the two disclosures).
    pub fn reason(&self) -> Option<&'static str> {
        match self {
            Outcome::Disclosed { .. } | Outcome::PartlyDisclosed { .. } => None,
            Outcome::Withheld { reason } => Some(reason.as_str()),
            Outcome::Unable { reason } => Some(reason.as_str()),
            Outcome::NotProcessed { reason, .. } => Some(reason.as_str()),
            Outcome::Other { reason } => Some(reason.as_str()),
        }
    }

    /// 属于已主动公开范围: a flag that overlaps the disclosure rows.
    pub fn already_public(&self) -> bool {
        matches!(self, Outcome::Disclosed { already_public: true } | Outcome::PartlyDisclosed { already_public: true })
    }

    /// Rebuilds an outcome from its stored columns (kind, reason, flag, the earlier request a repeat
    /// request names: a case id or an external reference).
    pub fn from_columns(
        kind: OutcomeKind,
        reason: Option<&str>,
        already_public: bool,
        repeat_of: Option<&str>,
        repeat_of_earlier: Option<EarlierRequest>,
    ) -> Option<Outcome> {
        Some(match kind {
            OutcomeKind::Disclosed => Outcome::Disclosed { already_public },
            OutcomeKind::PartlyDisclosed => Outcome::PartlyDisclosed { already_public },
            OutcomeKind::Withheld => Outcome::Withheld { reason: WithholdReason::parse(reason?)? },
            OutcomeKind::Unable => Outcome::Unable { reason: UnableReason::parse(reason?)? },
            OutcomeKind::NotProcessed => Outcome::NotProcessed {
                reason: NotProcessedReason::parse(reason?)?,
                repeat_of: repeat_of.map(str::to_owned),
                repeat_of_earlier,
            },
            OutcomeKind::Other => Outcome::Other { reason: OtherReason::parse(reason?)? },
        })
    }

    /// Whether a handler may give this outcome in a drafted reply. The endings the service records by
    /// itself (lapses, withdrawal) and transfers have their own actions.
    pub fn is_reply(&self) -> bool {
        !matches!(
            self,
            Outcome::Other { reason: OtherReason::CorrectionLapsed | OtherReason::FeeLapsed | OtherReason::Withdrawn }
        )
    }

    /// Every outcome there is (the flag both ways, one representative `repeat_of`): for exhaustive tests.
    pub fn all() -> Vec<Outcome> {
        let mut all = Vec::new();
        for already_public in [false, true] {
            all.push(Outcome::Disclosed { already_public });
            all.push(Outcome::PartlyDisclosed { already_public });
        }
        all.extend(WithholdReason::ALL.iter().map(|&reason| Outcome::Withheld { reason }));
        all.extend(UnableReason::ALL.iter().map(|&reason| Outcome::Unable { reason }));
        all.extend(NotProcessedReason::ALL.iter().map(|&reason| Outcome::NotProcessed {
            reason,
            repeat_of: (reason == NotProcessedReason::RepeatRequest).then(|| "earlier".to_owned()),
            repeat_of_earlier: None,
        }));
        all.extend(OtherReason::ALL.iter().map(|&reason| Outcome::Other { reason }));
        all
    }
}

/// One row of a report table: a stable code, the official Chinese label, the level of indentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowDef {
    pub code: &'static str,
    pub label: &'static str,
}

macro_rules! report_rows {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $code:literal, $label:literal;)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            /// In the official order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn def(self) -> RowDef {
                match self { $($name::$variant => RowDef { code: $code, label: $label }),+ }
            }
        }
    };
}

report_rows! {
    /// The reply rows of the pre-2019 table (section 四 (三), as in the Panjin 2015 report), without the
    /// overlapping 属于已主动公开范围数 flag row.
    Pre2019Reply {
        Granted => "granted", "2.同意公开答复数";
        PartlyGranted => "partly_granted", "3.同意部分公开答复数";
        RefusedStateSecret => "refused_state_secret", "其中:涉及国家秘密";
        RefusedTradeSecret => "refused_trade_secret", "涉及商业秘密";
        RefusedPrivacy => "refused_privacy", "涉及个人隐私";
        RefusedSecurity => "refused_security", "危及国家安全、公共安全、经济安全和社会稳定";
        RefusedNotGovernmentInformation => "refused_not_government_information", "不是《条例》所指政府信息";
        RefusedOther => "refused_other", "法律法规规定的其他情形";
        NotThisAgency => "not_this_agency", "5.不属于本行政机关公开数";
        DoesNotExist => "does_not_exist", "6.申请信息不存在数";
        ToldToAmend => "told_to_amend", "7.告知作出更改补充数";
        OtherRoute => "other_route", "8.告知通过其他途径办理数";
    }
}

report_rows! {
    /// The outcome rows of the 2021 table 三 (本年度办理结果), without （七）总计.
    Y2021Outcome {
        Disclosed => "disclosed", "（一）予以公开";
        PartlyDisclosed => "partly_disclosed", "（二）部分公开（区分处理的，只计这一情形，不计其他情形）";
        WithheldStateSecret => "withheld_state_secret", "1.属于国家秘密";
        WithheldBarredByLaw => "withheld_barred_by_law", "2.其他法律行政法规禁止公开";
        WithheldSecurity => "withheld_security", "3.危及“三安全一稳定”";
        WithheldThirdParty => "withheld_third_party", "4.保护第三方合法权益";
        WithheldInternalAffairs => "withheld_internal_affairs", "5.属于三类内部事务信息";
        WithheldProcessInformation => "withheld_process_information", "6.属于四类过程性信息";
        WithheldEnforcementFile => "withheld_enforcement_file", "7.属于行政执法案卷";
        WithheldAdministrativeEnquiry => "withheld_administrative_enquiry", "8.属于行政查询事项";
        UnableNotHeld => "unable_not_held", "1.本机关不掌握相关政府信息";
        UnableNeedsCreation => "unable_needs_creation", "2.没有现成信息需要另行制作";
        UnableStillUnclear => "unable_still_unclear", "3.补正后申请内容仍不明确";
        NotProcessedPetition => "not_processed_petition", "1.信访举报投诉类申请";
        NotProcessedRepeat => "not_processed_repeat", "2.重复申请";
        NotProcessedPublication => "not_processed_publication", "3.要求提供公开出版物";
        NotProcessedExcessive => "not_processed_excessive", "4.无正当理由大量反复申请";
        NotProcessedConfirm => "not_processed_confirm", "5.要求行政机关确认或重新出具已获取信息";
        OtherCorrectionLapsed => "other_correction_lapsed", "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请";
        OtherFeeLapsed => "other_fee_lapsed", "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请";
        OtherOther => "other_other", "3.其他";
    }
}

report_rows! {
    /// The outcome rows of the 2019 trial table 三: the 2021 rows, except that （六）其他处理 is one row.
    Y2019Outcome {
        Disclosed => "disclosed", "（一）予以公开";
        PartlyDisclosed => "partly_disclosed", "（二）部分公开（区分处理的，只计这一情形，不计其他情形）";
        WithheldStateSecret => "withheld_state_secret", "1.属于国家秘密";
        WithheldBarredByLaw => "withheld_barred_by_law", "2.其他法律行政法规禁止公开";
        WithheldSecurity => "withheld_security", "3.危及“三安全一稳定”";
        WithheldThirdParty => "withheld_third_party", "4.保护第三方合法权益";
        WithheldInternalAffairs => "withheld_internal_affairs", "5.属于三类内部事务信息";
        WithheldProcessInformation => "withheld_process_information", "6.属于四类过程性信息";
        WithheldEnforcementFile => "withheld_enforcement_file", "7.属于行政执法案卷";
        WithheldAdministrativeEnquiry => "withheld_administrative_enquiry", "8.属于行政查询事项";
        UnableNotHeld => "unable_not_held", "1.本机关不掌握相关政府信息";
        UnableNeedsCreation => "unable_needs_creation", "2.没有现成信息需要另行制作";
        UnableStillUnclear => "unable_still_unclear", "3.补正后申请内容仍不明确";
        NotProcessedPetition => "not_processed_petition", "1.信访举报投诉类申请";
        NotProcessedRepeat => "not_processed_repeat", "2.重复申请";
        NotProcessedPublication => "not_processed_publication", "3.要求提供公开出版物";
        NotProcessedExcessive => "not_processed_excessive", "4.无正当理由大量反复申请";
        NotProcessedConfirm => "not_processed_confirm", "5.要求行政机关确认或重新出具已获取信息";
        Other => "other", "（六）其他处理";
    }
}

/// The pre-2019 reply row of an outcome. The table predates the 2019 Regulation, so several reasons
/// have no row of their own:
/// - the 2019 withholding grounds (other laws, third-party rights in general, internal affairs,
///   process information, enforcement files, enquiry matters) are 法律法规规定的其他情形;
/// - information that would have to be created is, for the applicant, information that does not
///   exist (申请信息不存在);
/// - a request still unclear after correction, and one abandoned for want of a correction, were
///   answered by the notice to amend (告知作出更改补充);
/// - everything not processed, withdrawn, abandoned over a fee or sent to another procedure was
///   pointed elsewhere (告知通过其他途径办理): the table has no other row, and every closed case must
///   land in exactly one reply row so that replies sum to closed cases.
pub fn pre2019_reply(outcome: &Outcome) -> Pre2019Reply {
    use Pre2019Reply as R;
    match outcome {
        Outcome::Disclosed { .. } => R::Granted,
        Outcome::PartlyDisclosed { .. } => R::PartlyGranted,
        Outcome::Withheld { reason } => match reason {
            WithholdReason::StateSecret => R::RefusedStateSecret,
            WithholdReason::TradeSecret => R::RefusedTradeSecret,
            WithholdReason::PersonalPrivacy => R::RefusedPrivacy,
            WithholdReason::EndangersSecurity => R::RefusedSecurity,
            WithholdReason::NotGovernmentInformation => R::RefusedNotGovernmentInformation,
            WithholdReason::BarredByLaw
            | WithholdReason::ThirdPartyRights
            | WithholdReason::InternalAffairs
            | WithholdReason::ProcessInformation
            | WithholdReason::EnforcementFile
            | WithholdReason::AdministrativeEnquiry
            | WithholdReason::OtherStatutory => R::RefusedOther,
        },
        Outcome::Unable { reason } => match reason {
            UnableReason::AnotherAgency => R::NotThisAgency,
            UnableReason::DoesNotExist | UnableReason::NeedsCreation => R::DoesNotExist,
            UnableReason::StillUnclear => R::ToldToAmend,
        },
        Outcome::NotProcessed { .. } => R::OtherRoute,
        Outcome::Other { reason } => match reason {
            OtherReason::CorrectionLapsed => R::ToldToAmend,
            OtherReason::FeeLapsed | OtherReason::Withdrawn | OtherReason::OtherProcedure | OtherReason::Other => {
                R::OtherRoute
            }
        },
    }
}

/// The 2021 outcome row. Reasons the 2021 table does not name:
/// - trade secrets and personal privacy are third-party rights (保护第三方合法权益, 2019 Art. 15);
/// - 法律法规规定的其他情形 is 其他法律行政法规禁止公开;
/// - information that is not government information within Art. 2 is information this agency does
///   not hold as government information (本机关不掌握相关政府信息);
/// - another agency's information is, for this agency, information it does not hold;
/// - withdrawal and a referral to another law's procedure are 其他.
pub fn y2021_outcome(outcome: &Outcome) -> Y2021Outcome {
    use Y2021Outcome as R;
    match outcome {
        Outcome::Disclosed { .. } => R::Disclosed,
        Outcome::PartlyDisclosed { .. } => R::PartlyDisclosed,
        Outcome::Withheld { reason } => match reason {
            WithholdReason::StateSecret => R::WithheldStateSecret,
            WithholdReason::BarredByLaw | WithholdReason::OtherStatutory => R::WithheldBarredByLaw,
            WithholdReason::EndangersSecurity => R::WithheldSecurity,
            WithholdReason::TradeSecret | WithholdReason::PersonalPrivacy | WithholdReason::ThirdPartyRights => {
                R::WithheldThirdParty
            }
            WithholdReason::InternalAffairs => R::WithheldInternalAffairs,
            WithholdReason::ProcessInformation => R::WithheldProcessInformation,
            WithholdReason::EnforcementFile => R::WithheldEnforcementFile,
            WithholdReason::AdministrativeEnquiry => R::WithheldAdministrativeEnquiry,
            WithholdReason::NotGovernmentInformation => R::UnableNotHeld,
        },
        Outcome::Unable { reason } => match reason {
            UnableReason::DoesNotExist | UnableReason::AnotherAgency => R::UnableNotHeld,
            UnableReason::NeedsCreation => R::UnableNeedsCreation,
            UnableReason::StillUnclear => R::UnableStillUnclear,
        },
        Outcome::NotProcessed { reason, .. } => match reason {
            NotProcessedReason::PetitionOrComplaint => R::NotProcessedPetition,
            NotProcessedReason::RepeatRequest => R::NotProcessedRepeat,
            NotProcessedReason::Publication => R::NotProcessedPublication,
            NotProcessedReason::ExcessiveRequests => R::NotProcessedExcessive,
            NotProcessedReason::ConfirmOrReissue => R::NotProcessedConfirm,
        },
        Outcome::Other { reason } => match reason {
            OtherReason::CorrectionLapsed => R::OtherCorrectionLapsed,
            OtherReason::FeeLapsed => R::OtherFeeLapsed,
            OtherReason::Withdrawn | OtherReason::OtherProcedure | OtherReason::Other => R::OtherOther,
        },
    }
}

/// The 2019 trial outcome row: the 2021 row, with the three 其他处理 rows as one.
pub fn y2019_outcome(outcome: &Outcome) -> Y2019Outcome {
    use Y2019Outcome as R;
    use Y2021Outcome as N;
    match y2021_outcome(outcome) {
        N::Disclosed => R::Disclosed,
        N::PartlyDisclosed => R::PartlyDisclosed,
        N::WithheldStateSecret => R::WithheldStateSecret,
        N::WithheldBarredByLaw => R::WithheldBarredByLaw,
        N::WithheldSecurity => R::WithheldSecurity,
        N::WithheldThirdParty => R::WithheldThirdParty,
        N::WithheldInternalAffairs => R::WithheldInternalAffairs,
        N::WithheldProcessInformation => R::WithheldProcessInformation,
        N::WithheldEnforcementFile => R::WithheldEnforcementFile,
        N::WithheldAdministrativeEnquiry => R::WithheldAdministrativeEnquiry,
        N::UnableNotHeld => R::UnableNotHeld,
        N::UnableNeedsCreation => R::UnableNeedsCreation,
        N::UnableStillUnclear => R::UnableStillUnclear,
        N::NotProcessedPetition => R::NotProcessedPetition,
        N::NotProcessedRepeat => R::NotProcessedRepeat,
        N::NotProcessedPublication => R::NotProcessedPublication,
        N::NotProcessedExcessive => R::NotProcessedExcessive,
        N::NotProcessedConfirm => R::NotProcessedConfirm,
        N::OtherCorrectionLapsed | N::OtherFeeLapsed | N::OtherOther => R::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// Every outcome, written out, with its row in each format: (outcome, pre-2019, 2019, 2021).
    fn expected() -> Vec<(Outcome, Pre2019Reply, Y2019Outcome, Y2021Outcome)> {
        use Pre2019Reply as P;
        use Y2019Outcome as T;
        use Y2021Outcome as N;
        let w = |reason| Outcome::Withheld { reason };
        let u = |reason| Outcome::Unable { reason };
        let n = |reason| Outcome::NotProcessed {
            reason,
            repeat_of: (reason == NotProcessedReason::RepeatRequest).then(|| "earlier".to_owned()),
            repeat_of_earlier: None,
        };
        let o = |reason| Outcome::Other { reason };
        use NotProcessedReason as NP;
        use OtherReason as OR;
        use UnableReason as UR;
        use WithholdReason as WR;
        vec![
            (Outcome::Disclosed { already_public: false }, P::Granted, T::Disclosed, N::Disclosed),
            (
                Outcome::PartlyDisclosed { already_public: false },
                P::PartlyGranted,
                T::PartlyDisclosed,
                N::PartlyDisclosed,
            ),
            (Outcome::Disclosed { already_public: true }, P::Granted, T::Disclosed, N::Disclosed),
            (
                Outcome::PartlyDisclosed { already_public: true },
                P::PartlyGranted,
                T::PartlyDisclosed,
                N::PartlyDisclosed,
            ),
            (w(WR::StateSecret), P::RefusedStateSecret, T::WithheldStateSecret, N::WithheldStateSecret),
            (w(WR::BarredByLaw), P::RefusedOther, T::WithheldBarredByLaw, N::WithheldBarredByLaw),
            (w(WR::EndangersSecurity), P::RefusedSecurity, T::WithheldSecurity, N::WithheldSecurity),
            (w(WR::TradeSecret), P::RefusedTradeSecret, T::WithheldThirdParty, N::WithheldThirdParty),
            (w(WR::PersonalPrivacy), P::RefusedPrivacy, T::WithheldThirdParty, N::WithheldThirdParty),
            (w(WR::ThirdPartyRights), P::RefusedOther, T::WithheldThirdParty, N::WithheldThirdParty),
            (w(WR::InternalAffairs), P::RefusedOther, T::WithheldInternalAffairs, N::WithheldInternalAffairs),
            (w(WR::ProcessInformation), P::RefusedOther, T::WithheldProcessInformation, N::WithheldProcessInformation),
            (w(WR::EnforcementFile), P::RefusedOther, T::WithheldEnforcementFile, N::WithheldEnforcementFile),
            (
                w(WR::AdministrativeEnquiry),
                P::RefusedOther,
                T::WithheldAdministrativeEnquiry,
                N::WithheldAdministrativeEnquiry,
            ),
            (w(WR::NotGovernmentInformation), P::RefusedNotGovernmentInformation, T::UnableNotHeld, N::UnableNotHeld),
            (w(WR::OtherStatutory), P::RefusedOther, T::WithheldBarredByLaw, N::WithheldBarredByLaw),
            (u(UR::DoesNotExist), P::DoesNotExist, T::UnableNotHeld, N::UnableNotHeld),
            (u(UR::AnotherAgency), P::NotThisAgency, T::UnableNotHeld, N::UnableNotHeld),
            (u(UR::NeedsCreation), P::DoesNotExist, T::UnableNeedsCreation, N::UnableNeedsCreation),
            (u(UR::StillUnclear), P::ToldToAmend, T::UnableStillUnclear, N::UnableStillUnclear),
            (n(NP::PetitionOrComplaint), P::OtherRoute, T::NotProcessedPetition, N::NotProcessedPetition),
            (n(NP::RepeatRequest), P::OtherRoute, T::NotProcessedRepeat, N::NotProcessedRepeat),
            (n(NP::Publication), P::OtherRoute, T::NotProcessedPublication, N::NotProcessedPublication),
            (n(NP::ExcessiveRequests), P::OtherRoute, T::NotProcessedExcessive, N::NotProcessedExcessive),
            (n(NP::ConfirmOrReissue), P::OtherRoute, T::NotProcessedConfirm, N::NotProcessedConfirm),
            (o(OR::CorrectionLapsed), P::ToldToAmend, T::Other, N::OtherCorrectionLapsed),
            (o(OR::FeeLapsed), P::OtherRoute, T::Other, N::OtherFeeLapsed),
            (o(OR::Withdrawn), P::OtherRoute, T::Other, N::OtherOther),
            (o(OR::OtherProcedure), P::OtherRoute, T::Other, N::OtherOther),
            (o(OR::Other), P::OtherRoute, T::Other, N::OtherOther),
        ]
    }

    #[test]
    fn every_outcome_maps_to_its_row_in_every_format() {
        let table = expected();
        let listed: Vec<Outcome> = table.iter().map(|(o, ..)| o.clone()).collect();
        let mut all = Outcome::all();
        let mut listed_sorted = listed.clone();
        let key = |o: &Outcome| serde_json::to_string(o).unwrap();
        all.sort_by_key(key);
        listed_sorted.sort_by_key(key);
        assert_eq!(all, listed_sorted, "the table must list every outcome exactly once");
        for (outcome, pre, trial, current) in table {
            assert_eq!(pre2019_reply(&outcome), pre, "{outcome:?}");
            assert_eq!(y2019_outcome(&outcome), trial, "{outcome:?}");
            assert_eq!(y2021_outcome(&outcome), current, "{outcome:?}");
        }
    }

    #[test]
    fn every_row_of_every_format_is_reachable() {
        let all = Outcome::all();
        let pre: HashSet<_> = all.iter().map(pre2019_reply).collect();
        assert_eq!(pre.len(), Pre2019Reply::ALL.len());
        let trial: HashSet<_> = all.iter().map(y2019_outcome).collect();
        assert_eq!(trial.len(), Y2019Outcome::ALL.len());
        let current: HashSet<_> = all.iter().map(y2021_outcome).collect();
        assert_eq!(current.len(), Y2021Outcome::ALL.len());
    }

    #[test]
    fn the_already_public_flag_overlaps_disclosure_only() {
        for outcome in Outcome::all() {
            let flagged = matches!(
                outcome,
                Outcome::Disclosed { already_public: true } | Outcome::PartlyDisclosed { already_public: true }
            );
            assert_eq!(outcome.already_public(), flagged, "{outcome:?}");
        }
    }

    #[test]
    fn outcomes_round_trip_through_their_columns() {
        for outcome in Outcome::all() {
            let (repeat_of, earlier) = match &outcome {
                Outcome::NotProcessed { repeat_of, repeat_of_earlier, .. } => {
                    (repeat_of.clone(), repeat_of_earlier.clone())
                }
                _ => (None, None),
            };
            let back = Outcome::from_columns(
                outcome.kind(),
                outcome.reason(),
                outcome.already_public(),
                repeat_of.as_deref(),
                earlier,
            );
            assert_eq!(back, Some(outcome));
        }
    }

    #[test]
    fn row_codes_are_unique_within_each_format() {
        let codes = |defs: Vec<RowDef>| defs.iter().map(|d| d.code).collect::<HashSet<_>>().len() == defs.len();
        assert!(codes(Pre2019Reply::ALL.iter().map(|r| r.def()).collect()));
        assert!(codes(Y2019Outcome::ALL.iter().map(|r| r.def()).collect()));
        assert!(codes(Y2021Outcome::ALL.iter().map(|r| r.def()).collect()));
    }

    #[test]
    fn outcomes_read_as_tagged_json() {
        let o: Outcome = serde_json::from_str(r#"{"kind":"withheld","reason":"state_secret"}"#).unwrap();
        assert_eq!(o, Outcome::Withheld { reason: WithholdReason::StateSecret });
        assert!(serde_json::from_str::<Outcome>(r#"{"kind":"withheld"}"#).is_err());
        assert!(serde_json::from_str::<Outcome>(r#"{"kind":"disclosed","colour":1}"#).is_err());
    }
}
