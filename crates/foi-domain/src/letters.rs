//! The letters the law requires of an office (登记回执, 补正告知书, 延期答复告知书, 征求第三方意见函,
//! 答复书): which article governs each under the case's regime, how their numbers (文号) and dates
//! are written, and the remedies a reply must name.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::outcome::{NotProcessedReason, OtherReason, Outcome, UnableReason, WithholdReason};

string_enum! {
    /// The kinds of letter the service writes.
    DocumentKind {
        /// 政府信息公开申请登记回执: handed or sent to the applicant at intake.
        Receipt => "receipt",
        /// 补正告知书 (2019 Art. 30; 2008 Art. 21 (四)).
        Correction => "correction",
        /// 延期答复告知书 (2019 Art. 33; 2008 Art. 24).
        Extension => "extension",
        /// 征求第三方意见函 (2019 Art. 32; 2008 Art. 23).
        Consultation => "consultation",
        /// 政府信息公开申请答复书, for every outcome.
        Reply => "reply",
    }
}

impl DocumentKind {
    /// The title printed on the letter.
    pub fn title(self) -> &'static str {
        match self {
            DocumentKind::Receipt => "政府信息公开申请登记回执",
            DocumentKind::Correction => "政府信息公开申请补正告知书",
            DocumentKind::Extension => "政府信息公开申请延期答复告知书",
            DocumentKind::Consultation => "政府信息公开征求第三方意见函",
            DocumentKind::Reply => "政府信息公开申请答复书",
        }
    }

    /// The word a document number uses for the kind, e.g. 盘政公开补正〔2026〕3号. The reply's
    /// number is the office's plain series (盘政公开〔2026〕12号).
    pub fn number_word(self) -> &'static str {
        match self {
            DocumentKind::Receipt => "登记",
            DocumentKind::Correction => "补正",
            DocumentKind::Extension => "延期",
            DocumentKind::Consultation => "征询",
            DocumentKind::Reply => "",
        }
    }

    /// Whether the letter names the applicant in full (it goes to the applicant). A consultation goes
    /// to a third party and names the applicant only masked, so it is not a personal document.
    pub fn is_personal(self) -> bool {
        self != DocumentKind::Consultation
    }
}

/// A generated letter as its event records it: which document (kind and number) and which version,
/// the hashes of the file and of its text, the template it came from, and the facts the handler
/// supplied that the case does not hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DocumentRecord {
    /// The id of this version (also the id of its stored DOCX).
    pub id: String,
    /// The id of the document: the same for every version of it.
    pub document_id: String,
    pub kind: DocumentKind,
    /// 文号, e.g. 盘政公开〔2026〕12号.
    pub number: String,
    pub version: i32,
    /// What makes a second letter of the same kind a different document rather than a new version:
    /// the consulted party, the reply a decision ordered anew. Empty for the first of its kind.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub occasion: String,
    /// The day printed on the letter.
    pub issued_on: NaiveDate,
    /// SHA-256 of the DOCX, hex.
    pub sha256: String,
    pub size_bytes: i64,
    /// SHA-256 of the letter's text, hex: a regeneration with the same text is the same version.
    pub text_sha256: String,
    /// The template's name, where it came from (`builtin` or an agency's code) and its SHA-256.
    pub template: String,
    pub template_source: String,
    pub template_sha256: String,
    /// The facts the handler supplied (the matters to correct, the consulted party, the reply's text).
    #[serde(default)]
    pub particulars: std::collections::BTreeMap<String, String>,
}

/// 《中华人民共和国政府信息公开条例》: the same title for the 2008 text (Order 492) and the 2019 text
/// (Order 711).
pub const STATUTE: &str = "《中华人民共和国政府信息公开条例》";

/// Whether a case's regime is the 2008 text (anything else is read as the 2019 text, whose rules the
/// service's other regimes follow).
pub fn is_2008(regime: &str) -> bool {
    regime == "ogi2008"
}

/// The article that governs a letter under the case's regime, as the letter cites it. A reply cites
/// the article of its outcome; None where no article governs (a withdrawal, 其他).
///
/// 2019 text: reply types Art. 36 (一)-(七), partial disclosure Art. 37, processing Art. 38,
/// petitions and publications Art. 39, the exemptions Arts. 14-16, volume Art. 35, third parties
/// Art. 32, extension Art. 33 para. 2, correction Art. 30, fees Art. 42. 2008 text: reply types
/// Art. 21 (一)-(四), partial disclosure Art. 22, exemptions Art. 14, third parties Art. 23,
/// time limits Art. 24. Where the 2008 Regulation itself is silent (processing, repeats), the
/// State Council office's opinion 国办发〔2010〕5号 is what offices cited.
pub fn legal_basis(regime: &str, kind: DocumentKind, outcome: Option<&Outcome>) -> Option<String> {
    let article = |text: &str| Some(format!("{STATUTE}{text}"));
    let old = is_2008(regime);
    match kind {
        DocumentKind::Receipt => {
            article(if old { "第二十四条第二款" } else { "第三十一条、第三十三条第二款" })
        }
        DocumentKind::Correction => article(if old { "第二十一条第（四）项" } else { "第三十条" }),
        DocumentKind::Extension => article(if old { "第二十四条第二款" } else { "第三十三条第二款" }),
        DocumentKind::Consultation => article(if old { "第二十三条" } else { "第三十二条" }),
        DocumentKind::Reply => reply_basis(old, outcome?),
    }
}

fn reply_basis(old: bool, outcome: &Outcome) -> Option<String> {
    let article = |text: &str| Some(format!("{STATUTE}{text}"));
    const OPINION_2010: &str = "《国务院办公厅关于做好政府信息依申请公开工作的意见》（国办发〔2010〕5号）";
    if old {
        return match outcome {
            Outcome::Disclosed { .. } => article("第二十一条第（一）项"),
            Outcome::PartlyDisclosed { .. } => article("第二十二条"),
            Outcome::Withheld { reason: WithholdReason::NotGovernmentInformation } => article("第二条"),
            Outcome::Withheld { reason } if reason.is_third_party() => article("第十四条第四款、第二十三条"),
            Outcome::Withheld { .. } => article("第十四条、第二十一条第（二）项"),
            Outcome::Unable { reason: UnableReason::DoesNotExist | UnableReason::AnotherAgency } => {
                article("第二十一条第（三）项")
            }
            Outcome::Unable { reason: UnableReason::StillUnclear } => article("第二十一条第（四）项"),
            Outcome::Unable { reason: UnableReason::NeedsCreation } => Some(OPINION_2010.to_owned()),
            Outcome::NotProcessed { .. } => Some(OPINION_2010.to_owned()),
            Outcome::Other { reason: OtherReason::CorrectionLapsed } => article("第二十一条第（四）项"),
            Outcome::Other { reason: OtherReason::FeeLapsed } => article("第二十七条"),
            Outcome::Other { reason: OtherReason::OtherProcedure } => article("第二十一条"),
            Outcome::Other { reason: OtherReason::Withdrawn | OtherReason::Other } => None,
        };
    }
    match outcome {
        Outcome::Disclosed { already_public: true } => article("第三十六条第（一）项"),
        Outcome::Disclosed { already_public: false } => article("第三十六条第（二）项"),
        Outcome::PartlyDisclosed { .. } => article("第三十七条"),
        Outcome::Withheld { reason } => article(match reason {
            WithholdReason::StateSecret | WithholdReason::BarredByLaw | WithholdReason::EndangersSecurity => {
                "第十四条、第三十六条第（三）项"
            }
            WithholdReason::TradeSecret | WithholdReason::PersonalPrivacy | WithholdReason::ThirdPartyRights => {
                "第十五条、第三十二条、第三十六条第（三）项"
            }
            WithholdReason::InternalAffairs => "第十六条第一款、第三十六条第（三）项",
            WithholdReason::ProcessInformation | WithholdReason::EnforcementFile => {
                "第十六条第二款、第三十六条第（三）项"
            }
            WithholdReason::AdministrativeEnquiry => "第三十六条第（七）项",
            WithholdReason::NotGovernmentInformation => "第二条",
            WithholdReason::OtherStatutory => "第三十六条第（三）项",
        }),
        Outcome::Unable { reason } => article(match reason {
            UnableReason::DoesNotExist => "第三十六条第（四）项",
            UnableReason::AnotherAgency => "第三十六条第（五）项",
            UnableReason::NeedsCreation => "第三十八条",
            UnableReason::StillUnclear => "第三十条",
        }),
        Outcome::NotProcessed { reason, .. } => article(match reason {
            NotProcessedReason::PetitionOrComplaint => "第三十九条第一款",
            NotProcessedReason::RepeatRequest => "第三十六条第（六）项",
            NotProcessedReason::Publication => "第三十九条第二款",
            NotProcessedReason::ExcessiveRequests => "第三十五条",
            // Asking the office to confirm, or to issue again, information the applicant already
            // holds is not a request for information (offices cite Art. 39 para. 1 by analogy).
            NotProcessedReason::ConfirmOrReissue => "第三十九条第一款",
        }),
        Outcome::Other { reason } => match reason {
            OtherReason::CorrectionLapsed => article("第三十条"),
            OtherReason::FeeLapsed => article("第四十二条"),
            OtherReason::OtherProcedure => article("第三十六条第（七）项"),
            OtherReason::Withdrawn | OtherReason::Other => None,
        },
    }
}

impl WithholdReason {
    /// Reasons that protect a third party (2008 Art. 14 para. 4 and Art. 23; 2019 Art. 15 and 32).
    pub fn is_third_party(self) -> bool {
        matches!(self, WithholdReason::TradeSecret | WithholdReason::PersonalPrivacy | WithholdReason::ThirdPartyRights)
    }
}

/// The remedies a decision letter names: reconsideration within 60 days (行政复议法 2023 art. 20,
/// 1999 art. 9), a lawsuit within six months (行政诉讼法 art. 46 as amended in force 2015-05-01;
/// three months before).
pub fn litigation_period(issued_on: NaiveDate) -> &'static str {
    if issued_on < NaiveDate::from_ymd_opt(2015, 5, 1).expect("valid date") {
        "三个月"
    } else {
        "六个月"
    }
}

pub const RECONSIDERATION_PERIOD: &str = "六十日";

/// A date as Chinese official documents write it: 2026年12月4日 (Arabic numerals, GB/T 9704-2012
/// 7.3.5.3).
pub fn chinese_date(day: NaiveDate) -> String {
    format!("{}年{}月{}日", day.year(), day.month(), day.day())
}

/// A count of days in Chinese numerals as the statute writes periods (十五, 二十, 三十): 1-99.
pub fn chinese_count(n: u32) -> String {
    const DIGITS: [&str; 10] = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    match n {
        0..=9 => DIGITS[n as usize].to_owned(),
        10..=19 => format!("十{}", if n == 10 { "" } else { DIGITS[(n % 10) as usize] }),
        20..=99 => {
            format!(
                "{}十{}",
                DIGITS[(n / 10) as usize],
                if n.is_multiple_of(10) { "" } else { DIGITS[(n % 10) as usize] }
            )
        }
        _ => n.to_string(),
    }
}

/// The placeholders a document-number pattern may use.
pub const NUMBER_PLACEHOLDERS: [&str; 4] = ["{prefix}", "{kind}", "{year}", "{seq}"];

/// The default pattern of document numbers: 盘政公开〔2026〕12号 for replies, 盘政公开补正〔2026〕3号
/// for the other kinds (the 六角括号 〔〕 of GB/T 9704-2012 7.2.4).
pub const DEFAULT_NUMBER_PATTERN: &str = "{prefix}{kind}〔{year}〕{seq}号";

/// A document number from the agency's pattern: `{prefix}` the agency's 机关代字, `{kind}` the
/// kind's word, `{year}`, `{seq}` (no leading zeros, GB/T 9704-2012 7.2.4).
pub fn document_number(pattern: &str, prefix: &str, kind: DocumentKind, year: i32, seq: i32) -> String {
    pattern
        .replace("{prefix}", prefix)
        .replace("{kind}", kind.number_word())
        .replace("{year}", &year.to_string())
        .replace("{seq}", &seq.to_string())
}

/// Why a number pattern cannot number documents: it must contain `{seq}` (so numbers differ) and
/// `{year}` (the series restarts each year), and no unknown placeholder.
pub fn check_number_pattern(pattern: &str) -> Result<(), String> {
    for needed in ["{seq}", "{year}"] {
        if !pattern.contains(needed) {
            return Err(format!("the pattern must contain {needed}"));
        }
    }
    let mut rest = pattern;
    while let Some(open) = rest.find('{') {
        let close = rest[open..].find('}').ok_or("an opening `{` has no closing `}`")?;
        let name = &rest[open..open + close + 1];
        if !NUMBER_PLACEHOLDERS.contains(&name) {
            return Err(format!("unknown placeholder {name}; use {}", NUMBER_PLACEHOLDERS.join(", ")));
        }
        rest = &rest[open + close + 1..];
    }
    if pattern.chars().count() > 100 {
        return Err("the pattern must be at most 100 characters".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn every_reply_outcome_has_a_basis_under_both_regimes_except_withdrawal_and_other() {
        for regime in ["ogi2008", "ogi2019"] {
            for outcome in Outcome::all() {
                let basis = legal_basis(regime, DocumentKind::Reply, Some(&outcome));
                let none_expected =
                    matches!(outcome, Outcome::Other { reason: OtherReason::Withdrawn | OtherReason::Other });
                assert_eq!(basis.is_none(), none_expected, "{regime} {outcome:?}");
            }
            for kind in
                [DocumentKind::Receipt, DocumentKind::Correction, DocumentKind::Extension, DocumentKind::Consultation]
            {
                assert!(legal_basis(regime, kind, None).unwrap().starts_with(STATUTE));
            }
            assert_eq!(legal_basis(regime, DocumentKind::Reply, None), None);
        }
    }

    #[test]
    fn the_regime_decides_the_article() {
        let basis = |regime, kind, outcome: Option<Outcome>| legal_basis(regime, kind, outcome.as_ref()).unwrap();
        assert_eq!(basis("ogi2019", DocumentKind::Correction, None), format!("{STATUTE}第三十条"));
        assert_eq!(basis("ogi2008", DocumentKind::Correction, None), format!("{STATUTE}第二十一条第（四）项"));
        assert_eq!(basis("ogi2019", DocumentKind::Extension, None), format!("{STATUTE}第三十三条第二款"));
        assert_eq!(basis("ogi2008", DocumentKind::Extension, None), format!("{STATUTE}第二十四条第二款"));
        assert_eq!(basis("ogi2019", DocumentKind::Consultation, None), format!("{STATUTE}第三十二条"));
        assert_eq!(basis("ogi2008", DocumentKind::Consultation, None), format!("{STATUTE}第二十三条"));
        let withheld = Some(Outcome::Withheld { reason: WithholdReason::StateSecret });
        assert_eq!(
            basis("ogi2019", DocumentKind::Reply, withheld.clone()),
            format!("{STATUTE}第十四条、第三十六条第（三）项")
        );
        assert_eq!(basis("ogi2008", DocumentKind::Reply, withheld), format!("{STATUTE}第十四条、第二十一条第（二）项"));
        let public = Some(Outcome::Disclosed { already_public: true });
        assert_eq!(basis("ogi2019", DocumentKind::Reply, public.clone()), format!("{STATUTE}第三十六条第（一）项"));
        assert_eq!(basis("ogi2008", DocumentKind::Reply, public), format!("{STATUTE}第二十一条第（一）项"));
        let repeat = Some(Outcome::NotProcessed {
            reason: NotProcessedReason::RepeatRequest,
            repeat_of: None,
            repeat_of_earlier: None,
        });
        assert_eq!(basis("ogi2019", DocumentKind::Reply, repeat.clone()), format!("{STATUTE}第三十六条第（六）项"));
        assert!(basis("ogi2008", DocumentKind::Reply, repeat).contains("国办发〔2010〕5号"));
        let elsewhere = Some(Outcome::Unable { reason: UnableReason::AnotherAgency });
        assert_eq!(basis("ogi2019", DocumentKind::Reply, elsewhere), format!("{STATUTE}第三十六条第（五）项"));
        // Any regime an administrator added after 2019 follows the 2019 text.
        assert_eq!(basis("local2024", DocumentKind::Correction, None), format!("{STATUTE}第三十条"));
    }

    #[test]
    fn dates_counts_and_the_litigation_period_are_written_as_official_documents_write_them() {
        assert_eq!(chinese_date(d(2026, 12, 4)), "2026年12月4日");
        assert_eq!(chinese_date(d(2015, 10, 20)), "2015年10月20日");
        let counts: Vec<String> = [1, 7, 10, 15, 20, 21, 30, 60].iter().map(|&n| chinese_count(n)).collect();
        assert_eq!(counts, ["一", "七", "十", "十五", "二十", "二十一", "三十", "六十"]);
        assert_eq!(chinese_count(100), "100");
        assert_eq!(litigation_period(d(2015, 4, 30)), "三个月");
        assert_eq!(litigation_period(d(2015, 5, 1)), "六个月");
    }

    #[test]
    fn numbers_follow_the_agency_pattern_and_bad_patterns_are_refused() {
        assert_eq!(
            document_number(DEFAULT_NUMBER_PATTERN, "盘政公开", DocumentKind::Reply, 2026, 12),
            "盘政公开〔2026〕12号"
        );
        assert_eq!(
            document_number(DEFAULT_NUMBER_PATTERN, "盘政公开", DocumentKind::Correction, 2026, 3),
            "盘政公开补正〔2026〕3号"
        );
        assert_eq!(
            document_number("{prefix}〔{year}〕第{seq}号", "辽公", DocumentKind::Receipt, 2015, 1),
            "辽公〔2015〕第1号"
        );
        assert!(check_number_pattern(DEFAULT_NUMBER_PATTERN).is_ok());
        assert!(check_number_pattern("{prefix}〔{year}〕").unwrap_err().contains("{seq}"));
        assert!(check_number_pattern("{prefix}{seq}号").unwrap_err().contains("{year}"));
        assert!(check_number_pattern("{year}{seq}{agency}").unwrap_err().contains("unknown placeholder {agency}"));
        assert!(check_number_pattern("{year}{seq}{oops").is_err());
    }

    #[test]
    fn only_the_consultation_letter_is_impersonal() {
        let personal: Vec<_> = DocumentKind::ALL.iter().filter(|k| k.is_personal()).collect();
        assert_eq!(personal.len(), DocumentKind::ALL.len() - 1);
        assert!(!DocumentKind::Consultation.is_personal());
        for kind in DocumentKind::ALL {
            assert!(kind.title().starts_with("政府信息公开"));
        }
    }
}
