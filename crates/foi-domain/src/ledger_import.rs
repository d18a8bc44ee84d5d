//! Reading an office's ledger (台账) for import: which column holds which field, how the office's
//! words map to the service's terms, how its dates are written, and every row checked before anything
//! is written, each problem reported with its row, column and value in Chinese and English.
//!
//! The defaults read the service's own template (`TEMPLATE`, Chinese headers) and the ledger export
//! (`service::ledger::COLUMNS`); a mapping file (TOML, `Mapping`) adds an office's own headers, words
//! and date formats.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::intake::{ApplicantKind, Channel, DeliveryForm};
use crate::outcome::{NotProcessedReason, OtherReason, Outcome, OutcomeKind, UnableReason, WithholdReason};
use crate::workflow::{AppealKind, AppealOutcome, ServiceMethod};

/// A field of an imported case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    OriginalNumber,
    ReceivedOn,
    Channel,
    ApplicantKind,
    ApplicantName,
    IdNumber,
    Phone,
    Email,
    Address,
    Description,
    DeliveryForm,
    Topic,
    ExtensionApprovedOn,
    ExtensionDays,
    ExtensionReason,
    RepliedOn,
    ServiceMethod,
    Outcome,
    Reason,
    OutcomeCode,
    Timeliness,
    Note,
    ReconsiderationFiledOn,
    ReconsiderationResult,
    ReconsiderationDecidedOn,
    LawsuitFiledOn,
    LawsuitResult,
    LawsuitDecidedOn,
}

impl Field {
    pub const ALL: [Field; 28] = [
        Field::OriginalNumber,
        Field::ReceivedOn,
        Field::Channel,
        Field::ApplicantKind,
        Field::ApplicantName,
        Field::IdNumber,
        Field::Phone,
        Field::Email,
        Field::Address,
        Field::Description,
        Field::DeliveryForm,
        Field::Topic,
        Field::ExtensionApprovedOn,
        Field::ExtensionDays,
        Field::ExtensionReason,
        Field::RepliedOn,
        Field::ServiceMethod,
        Field::Outcome,
        Field::Reason,
        Field::OutcomeCode,
        Field::Timeliness,
        Field::Note,
        Field::ReconsiderationFiledOn,
        Field::ReconsiderationResult,
        Field::ReconsiderationDecidedOn,
        Field::LawsuitFiledOn,
        Field::LawsuitResult,
        Field::LawsuitDecidedOn,
    ];

    /// The header of the field in the service's template.
    pub fn header(self) -> &'static str {
        self.headers()[0]
    }

    /// Every header the field is recognised under without a mapping: the template's first, then the
    /// ledger export's and the words offices commonly use.
    pub fn headers(self) -> &'static [&'static str] {
        match self {
            Field::OriginalNumber => &["原编号", "受理编号", "编号", "登记编号", "登记号", "序号"],
            Field::ReceivedOn => &["收到申请日期", "收件日期", "受理日期", "申请日期", "收到日期"],
            Field::Channel => &["受理渠道", "申请方式", "申请渠道", "渠道"],
            Field::ApplicantKind => &["申请人类型", "申请人类别"],
            Field::ApplicantName => &["申请人", "申请人姓名", "申请人名称", "姓名"],
            Field::IdNumber => &["证件号码", "身份证号码", "身份证号"],
            Field::Phone => &["联系电话", "电话"],
            Field::Email => &["电子邮箱", "邮箱"],
            Field::Address => &["通信地址", "地址", "联系地址"],
            Field::Description => &["申请内容", "申请公开内容", "申请事项", "内容摘要"],
            Field::DeliveryForm => &["提供形式", "获取方式", "所需信息的提供方式"],
            Field::Topic => &["主题", "类别", "信息类别"],
            Field::ExtensionApprovedOn => &["延期批准日期", "延期日期"],
            Field::ExtensionDays => &["延期天数", "延长工作日"],
            Field::ExtensionReason => &["延期理由", "延期原因"],
            Field::RepliedOn => &["答复日期", "办结日期", "送达日期"],
            Field::ServiceMethod => &["送达方式"],
            Field::Outcome => &["答复结果", "答复类型", "处理结果", "答复情况"],
            Field::Reason => &["理由", "不予公开理由", "答复理由", "原因"],
            // The export's 年报行（2021） is derived from the outcome and is not read back: one row can
            // stand for several reasons (4.保护第三方合法权益: trade secrets, privacy, other rights).
            Field::OutcomeCode => &["答复结果代码"],
            Field::Timeliness => &["办理时效"],
            Field::Note => &["备注"],
            Field::ReconsiderationFiledOn => &["行政复议申请日期", "复议申请日期"],
            Field::ReconsiderationResult => &["行政复议结果", "复议结果"],
            Field::ReconsiderationDecidedOn => &["行政复议决定日期", "复议决定日期"],
            Field::LawsuitFiledOn => &["行政诉讼起诉日期", "起诉日期"],
            Field::LawsuitResult => &["行政诉讼结果", "诉讼结果"],
            Field::LawsuitDecidedOn => &["行政诉讼裁判日期", "裁判日期"],
        }
    }
}

/// The columns of the import template, in order (its headers are the fields' first headers).
pub const TEMPLATE: [Field; 26] = [
    Field::OriginalNumber,
    Field::ReceivedOn,
    Field::Channel,
    Field::ApplicantKind,
    Field::ApplicantName,
    Field::IdNumber,
    Field::Phone,
    Field::Email,
    Field::Address,
    Field::Description,
    Field::DeliveryForm,
    Field::Topic,
    Field::ExtensionApprovedOn,
    Field::ExtensionDays,
    Field::ExtensionReason,
    Field::RepliedOn,
    Field::ServiceMethod,
    Field::Outcome,
    Field::Reason,
    Field::ReconsiderationFiledOn,
    Field::ReconsiderationResult,
    Field::ReconsiderationDecidedOn,
    Field::LawsuitFiledOn,
    Field::LawsuitResult,
    Field::LawsuitDecidedOn,
    Field::Note,
];

/// An office's mapping file: its own headers for fields, its own words for the service's terms, and
/// more date formats (chrono `strftime` patterns).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// field → the office's header.
    #[serde(default)]
    pub columns: BTreeMap<Field, String>,
    #[serde(default)]
    pub words: Words,
    #[serde(default)]
    pub dates: Dates,
}

/// The office's words, by vocabulary: word → the service's code (for outcomes `kind`, `kind:reason`
/// or `disclosed:already_public`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Words {
    #[serde(default)]
    pub channel: BTreeMap<String, String>,
    #[serde(default)]
    pub applicant_kind: BTreeMap<String, String>,
    #[serde(default)]
    pub delivery_form: BTreeMap<String, String>,
    #[serde(default)]
    pub service_method: BTreeMap<String, String>,
    #[serde(default)]
    pub outcome: BTreeMap<String, String>,
    #[serde(default)]
    pub reason: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dates {
    #[serde(default)]
    pub formats: Vec<String>,
}

impl Mapping {
    /// Reads a mapping file, checking that every code it maps to exists.
    pub fn from_toml(text: &str) -> Result<Mapping, String> {
        let mapping: Mapping = toml::from_str(text).map_err(|e| e.to_string())?;
        let check = |vocabulary: &str, words: &BTreeMap<String, String>, known: &dyn Fn(&str) -> bool| {
            for (word, code) in words {
                if !known(code) {
                    return Err(format!(
                        "words.{vocabulary}: `{word}` maps to `{code}`, which is not a {vocabulary} code"
                    ));
                }
            }
            Ok(())
        };
        check("channel", &mapping.words.channel, &|c| Channel::parse(c).is_some())?;
        check("applicant_kind", &mapping.words.applicant_kind, &|c| ApplicantKind::parse(c).is_some())?;
        check("delivery_form", &mapping.words.delivery_form, &|c| DeliveryForm::parse(c).is_some())?;
        check("service_method", &mapping.words.service_method, &|c| ServiceMethod::parse(c).is_some())?;
        check("outcome", &mapping.words.outcome, &outcome_or_kind)?;
        check("reason", &mapping.words.reason, &|c| reason_fits_some_kind(c))?;
        for format in &mapping.dates.formats {
            if chrono::format::StrftimeItems::new(format).any(|i| matches!(i, chrono::format::Item::Error)) {
                return Err(format!("dates.formats: `{format}` is not a date pattern"));
            }
        }
        Ok(mapping)
    }

    /// The column index of each field in a sheet with `headers` (a mapped header wins over the
    /// defaults); headers nobody claims are reported as unknown.
    pub fn locate(&self, headers: &[String]) -> Located {
        let norm = |h: &str| h.trim().replace([' ', '\u{3000}'], "");
        let mut columns = BTreeMap::new();
        for field in Field::ALL {
            let wanted: Vec<String> = match self.columns.get(&field) {
                Some(own) => vec![norm(own)],
                None => field.headers().iter().map(|h| norm(h)).collect(),
            };
            if let Some(i) = headers.iter().position(|h| wanted.contains(&norm(h))) {
                columns.entry(field).or_insert(i);
            }
        }
        let claimed: Vec<usize> = columns.values().copied().collect();
        let unknown = headers
            .iter()
            .enumerate()
            .filter(|(i, h)| !claimed.contains(i) && !norm(h).is_empty())
            .map(|(_, h)| h.clone())
            .collect();
        Located { columns, unknown }
    }
}

/// Where each field stands in a sheet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub columns: BTreeMap<Field, usize>,
    /// Headers no field claims (ignored, and reported).
    pub unknown: Vec<String>,
}

/// The code of an outcome, as `outcome_code` reads it: `disclosed`, `disclosed:already_public`,
/// `withheld:state_secret`, ...
pub fn code_of(outcome: &Outcome) -> String {
    match (outcome.reason(), outcome.already_public()) {
        (Some(reason), _) => format!("{}:{reason}", outcome.kind()),
        (None, true) => format!("{}:already_public", outcome.kind()),
        (None, false) => outcome.kind().to_string(),
    }
}

/// The outcome a code names: `kind`, `kind:reason`, `disclosed:already_public`.
pub fn outcome_code(code: &str) -> Option<Outcome> {
    let (kind, rest) = code.split_once(':').map_or((code, None), |(k, r)| (k, Some(r)));
    let kind = OutcomeKind::parse(kind.trim())?;
    let rest = rest.map(str::trim);
    Some(match (kind, rest) {
        (OutcomeKind::Disclosed, None) => Outcome::Disclosed { already_public: false },
        (OutcomeKind::Disclosed, Some("already_public")) => Outcome::Disclosed { already_public: true },
        (OutcomeKind::PartlyDisclosed, None) => Outcome::PartlyDisclosed { already_public: false },
        (OutcomeKind::PartlyDisclosed, Some("already_public")) => Outcome::PartlyDisclosed { already_public: true },
        (kind, Some(reason)) => with_reason(kind, reason)?,
        _ => return None,
    })
}

fn with_reason(kind: OutcomeKind, reason: &str) -> Option<Outcome> {
    Some(match kind {
        OutcomeKind::Withheld => Outcome::Withheld { reason: WithholdReason::parse(reason)? },
        OutcomeKind::Unable => Outcome::Unable { reason: UnableReason::parse(reason)? },
        OutcomeKind::NotProcessed => Outcome::NotProcessed {
            reason: NotProcessedReason::parse(reason)?,
            repeat_of: None,
            repeat_of_earlier: None,
        },
        OutcomeKind::Other => Outcome::Other { reason: OtherReason::parse(reason)? },
        OutcomeKind::Disclosed | OutcomeKind::PartlyDisclosed => return None,
    })
}

fn reason_fits_some_kind(reason: &str) -> bool {
    [OutcomeKind::Withheld, OutcomeKind::Unable, OutcomeKind::NotProcessed, OutcomeKind::Other]
        .iter()
        .any(|&k| with_reason(k, reason).is_some())
}

/// The words offices write for channels (信函/来信/邮寄 → letter, ...).
const CHANNEL_WORDS: &[(&str, Channel)] = &[
    ("当面", Channel::InPerson),
    ("当面提交", Channel::InPerson),
    ("现场", Channel::InPerson),
    ("窗口", Channel::InPerson),
    ("来访", Channel::InPerson),
    ("信函", Channel::Letter),
    ("来信", Channel::Letter),
    ("邮寄", Channel::Letter),
    ("信件", Channel::Letter),
    ("邮政", Channel::Letter),
    ("传真", Channel::Fax),
    ("网络", Channel::Web),
    ("网上", Channel::Web),
    ("在线", Channel::Web),
    ("网站", Channel::Web),
    ("政府网站", Channel::Web),
    ("网上申请", Channel::Web),
    ("电子邮件", Channel::Email),
    ("电子邮箱", Channel::Email),
    ("邮件", Channel::Email),
    ("email", Channel::Email),
];

const APPLICANT_WORDS: &[(&str, ApplicantKind)] = &[
    ("自然人", ApplicantKind::NaturalPerson),
    ("个人", ApplicantKind::NaturalPerson),
    ("公民", ApplicantKind::NaturalPerson),
    ("商业企业", ApplicantKind::Business),
    ("企业", ApplicantKind::Business),
    ("公司", ApplicantKind::Business),
    ("科研机构", ApplicantKind::ResearchInstitution),
    ("社会公益组织", ApplicantKind::PublicInterestOrg),
    ("法律服务机构", ApplicantKind::LegalServices),
    ("律师事务所", ApplicantKind::LegalServices),
    ("其他", ApplicantKind::OtherOrg),
    ("其他组织", ApplicantKind::OtherOrg),
    ("法人或其他组织", ApplicantKind::OtherOrg),
];

const DELIVERY_WORDS: &[(&str, DeliveryForm)] = &[
    ("纸质", DeliveryForm::Paper),
    ("纸质文本", DeliveryForm::Paper),
    ("书面", DeliveryForm::Paper),
    ("电子数据", DeliveryForm::Electronic),
    ("电子文本", DeliveryForm::Electronic),
    ("光盘", DeliveryForm::Electronic),
    ("电子邮件", DeliveryForm::Email),
    ("邮件", DeliveryForm::Email),
    ("查阅", DeliveryForm::Inspection),
    ("查阅、抄录", DeliveryForm::Inspection),
    ("其他", DeliveryForm::Other),
];

const SERVICE_WORDS: &[(&str, ServiceMethod)] = &[
    ("邮寄", ServiceMethod::Post),
    ("挂号信", ServiceMethod::Post),
    ("EMS", ServiceMethod::Post),
    ("当面", ServiceMethod::InPerson),
    ("当面领取", ServiceMethod::InPerson),
    ("自取", ServiceMethod::InPerson),
    ("电子邮件", ServiceMethod::Email),
    ("邮件", ServiceMethod::Email),
    ("网上", ServiceMethod::Online),
    ("在线", ServiceMethod::Online),
    ("网络", ServiceMethod::Online),
];

/// Outcome words: the reply types as offices and the three report formats write them.
const OUTCOME_WORDS: &[(&str, &str)] = &[
    ("予以公开", "disclosed"),
    ("同意公开", "disclosed"),
    ("公开", "disclosed"),
    ("（一）予以公开", "disclosed"),
    ("2.同意公开答复数", "disclosed"),
    ("已主动公开", "disclosed:already_public"),
    ("属于已主动公开范围", "disclosed:already_public"),
    ("部分公开", "partly_disclosed"),
    ("同意部分公开", "partly_disclosed"),
    ("3.同意部分公开答复数", "partly_disclosed"),
    ("（二）部分公开（区分处理的，只计这一情形，不计其他情形）", "partly_disclosed"),
    ("不予公开", "withheld"),
    ("不同意公开", "withheld"),
    ("无法提供", "unable"),
    ("不予处理", "not_processed"),
    ("其他处理", "other"),
    ("（六）其他处理", "other"),
    ("信息不存在", "unable:does_not_exist"),
    ("申请信息不存在", "unable:does_not_exist"),
    ("6.申请信息不存在数", "unable:does_not_exist"),
    ("不属于本机关公开", "unable:another_agency"),
    ("不属于本行政机关公开", "unable:another_agency"),
    ("5.不属于本行政机关公开数", "unable:another_agency"),
    ("7.告知作出更改补充数", "unable:still_unclear"),
    ("8.告知通过其他途径办理数", "other:other_procedure"),
    ("撤回", "other:withdrawn"),
    ("申请人撤回", "other:withdrawn"),
    ("视为放弃", "other:correction_lapsed"),
];

/// Reason words (不予公开/无法提供/不予处理/其他处理), including the report rows' labels.
const REASON_WORDS: &[(&str, &str)] = &[
    ("国家秘密", "state_secret"),
    ("涉及国家秘密", "state_secret"),
    ("1.属于国家秘密", "state_secret"),
    ("其中:涉及国家秘密", "state_secret"),
    ("法律行政法规禁止公开", "barred_by_law"),
    ("2.其他法律行政法规禁止公开", "barred_by_law"),
    ("危及“三安全一稳定”", "endangers_security"),
    ("3.危及“三安全一稳定”", "endangers_security"),
    ("危及国家安全、公共安全、经济安全和社会稳定", "endangers_security"),
    ("商业秘密", "trade_secret"),
    ("涉及商业秘密", "trade_secret"),
    ("个人隐私", "personal_privacy"),
    ("涉及个人隐私", "personal_privacy"),
    ("保护第三方合法权益", "third_party_rights"),
    ("4.保护第三方合法权益", "third_party_rights"),
    ("第三方合法权益", "third_party_rights"),
    ("内部事务信息", "internal_affairs"),
    ("5.属于三类内部事务信息", "internal_affairs"),
    ("过程性信息", "process_information"),
    ("6.属于四类过程性信息", "process_information"),
    ("行政执法案卷", "enforcement_file"),
    ("7.属于行政执法案卷", "enforcement_file"),
    ("行政查询事项", "administrative_enquiry"),
    ("8.属于行政查询事项", "administrative_enquiry"),
    ("不是政府信息", "not_government_information"),
    ("不是《条例》所指政府信息", "not_government_information"),
    ("法律法规规定的其他情形", "other_statutory"),
    ("信息不存在", "does_not_exist"),
    ("本机关不掌握相关政府信息", "does_not_exist"),
    ("1.本机关不掌握相关政府信息", "does_not_exist"),
    ("不属于本机关", "another_agency"),
    ("需要另行制作", "needs_creation"),
    ("2.没有现成信息需要另行制作", "needs_creation"),
    ("补正后仍不明确", "still_unclear"),
    ("3.补正后申请内容仍不明确", "still_unclear"),
    ("信访举报投诉", "petition_or_complaint"),
    ("1.信访举报投诉类申请", "petition_or_complaint"),
    ("重复申请", "repeat_request"),
    ("2.重复申请", "repeat_request"),
    ("公开出版物", "publication"),
    ("3.要求提供公开出版物", "publication"),
    ("大量反复申请", "excessive_requests"),
    ("4.无正当理由大量反复申请", "excessive_requests"),
    ("要求确认或重新出具", "confirm_or_reissue"),
    ("5.要求行政机关确认或重新出具已获取信息", "confirm_or_reissue"),
    ("逾期不补正", "correction_lapsed"),
    ("逾期未缴费", "fee_lapsed"),
    ("撤回", "withdrawn"),
    ("其他途径办理", "other_procedure"),
    ("其他", "other"),
    ("3.其他", "other"),
];

/// A date as offices write it: 2026-11-27, 2026/11/27, 2026.11.27, 2026年11月27日, 20261127, an
/// Excel serial day (1900 date system: 46353 is 2026-11-27), or one of `extra` formats.
pub fn parse_date(text: &str, extra: &[String]) -> Option<NaiveDate> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    for format in extra {
        if let Ok(day) = NaiveDate::parse_from_str(t, format) {
            return Some(day);
        }
    }
    // A spreadsheet date-time keeps its date: "2026-11-27 00:00:00", "2026-11-27T08:00".
    let t = t.split([' ', 'T']).next().unwrap_or(t);
    for format in ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d"] {
        if let Ok(day) = NaiveDate::parse_from_str(t, format) {
            return Some(day);
        }
    }
    // Excel serial days (and their fractional times), in the years an office's ledger holds.
    if let Ok(serial) = t.parse::<f64>() {
        if (20_000.0..80_000.0).contains(&serial) {
            let epoch = NaiveDate::from_ymd_opt(1899, 12, 30).expect("valid date");
            return epoch.checked_add_signed(chrono::Duration::days(serial.trunc() as i64));
        }
    }
    None
}

/// A word looked up in the office's words first, then the defaults; spaces and full-width spaces
/// are ignored, Latin letters compared without case.
fn lookup<T: Copy>(
    word: &str,
    own: &BTreeMap<String, String>,
    parse: impl Fn(&str) -> Option<T>,
    defaults: &[(&str, T)],
) -> Option<T> {
    let norm = |w: &str| w.trim().replace([' ', '\u{3000}'], "").to_lowercase();
    let key = norm(word);
    if let Some(code) = own.iter().find(|(w, _)| norm(w) == key).map(|(_, c)| c) {
        return parse(code);
    }
    if let Some(found) = parse(&key) {
        return Some(found);
    }
    defaults.iter().find(|(w, _)| norm(w) == key).map(|(_, v)| *v)
}

/// One problem with a row, as the report shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RowProblem {
    /// The row's number in the sheet (the header is row 1).
    pub row: usize,
    /// The column's header (empty for a problem of the whole row).
    pub column: String,
    pub value: String,
    pub zh: String,
    pub en: String,
}

/// A ledger row, checked: everything the import records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerCase {
    pub original_number: Option<String>,
    pub received_on: NaiveDate,
    pub channel: Channel,
    pub applicant_kind: ApplicantKind,
    pub applicant_name: String,
    pub id_number: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub address: Option<String>,
    pub description: String,
    pub delivery_form: DeliveryForm,
    pub topic: Option<String>,
    pub extension: Option<LedgerExtension>,
    pub reply: Option<LedgerReply>,
    /// A reconsideration and a lawsuit, in that order, as the ledger records them.
    pub appeals: Vec<LedgerAppeal>,
    pub note: Option<String>,
    /// SHA-256 of the row's cells: a row imported before is known again by it.
    pub content_hash: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerExtension {
    /// None: the ledger says only that the reply was extended (办理时效 延期办结); the import dates the
    /// approval at the plain deadline and sizes it to the reply.
    pub approved_on: Option<NaiveDate>,
    pub days: Option<u32>,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerAppeal {
    pub kind: AppealKind,
    pub filed_on: NaiveDate,
    /// The decision and its date; None while it is pending.
    pub decided: Option<(AppealOutcome, NaiveDate)>,
}

/// What offices write for an appeal's result.
const APPEAL_WORDS: &[(&str, AppealOutcome)] = &[
    ("维持", AppealOutcome::Upheld),
    ("维持原具体行政行为", AppealOutcome::Upheld),
    ("驳回", AppealOutcome::Upheld),
    ("驳回诉讼请求", AppealOutcome::Upheld),
    ("纠正", AppealOutcome::Corrected),
    ("被依法纠正", AppealOutcome::Corrected),
    ("撤销", AppealOutcome::Corrected),
    ("责令重新答复", AppealOutcome::Corrected),
    ("确认违法", AppealOutcome::Corrected),
    ("其他", AppealOutcome::Other),
    ("其他结果", AppealOutcome::Other),
    ("撤回", AppealOutcome::Other),
    ("未审结", AppealOutcome::Pending),
    ("尚未审结", AppealOutcome::Pending),
    ("审理中", AppealOutcome::Pending),
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerReply {
    pub on: NaiveDate,
    pub outcome: Outcome,
    pub method: ServiceMethod,
}

/// Reads one data row (`cells` by column; `row` its number in the sheet) into a case, or every problem
/// it has. `today` bounds the dates (nothing from the future).
pub fn read_row(
    mapping: &Mapping,
    located: &Located,
    headers: &[String],
    row: usize,
    cells: &[String],
    today: NaiveDate,
) -> Result<LedgerCase, Vec<RowProblem>> {
    let mut problems = Vec::new();
    let cell = |field: Field| -> (String, String) {
        match located.columns.get(&field) {
            Some(&i) => (headers[i].clone(), cells.get(i).map(|c| c.trim().to_owned()).unwrap_or_default()),
            None => (field.header().to_owned(), String::new()),
        }
    };
    let mut problem = |field: Field, value: &str, zh: String, en: String| {
        let (column, _) = cell(field);
        problems.push(RowProblem { row, column, value: value.to_owned(), zh, en });
    };
    let text = |field: Field| -> Option<String> { Some(cell(field).1).filter(|v| !v.is_empty()) };
    let date = |field: Field, problem: &mut dyn FnMut(Field, &str, String, String)| -> Option<NaiveDate> {
        let value = text(field)?;
        match parse_date(&value, &mapping.dates.formats) {
            Some(day) if day > today => {
                problem(field, &value, "日期晚于今天".into(), "is in the future".into());
                None
            }
            Some(day) if day < crate::intake::earliest_receipt_date() => {
                problem(
                    field,
                    &value,
                    "日期早于2008年5月1日条例施行".into(),
                    "is before 2008-05-01, when the Regulation took effect".into(),
                );
                None
            }
            Some(day) => Some(day),
            None => {
                problem(
                    field,
                    &value,
                    "不是可识别的日期（如2026-11-27、2026/11/27、2026年11月27日）".into(),
                    "is not a date (e.g. 2026-11-27, 2026/11/27, 2026年11月27日)".into(),
                );
                None
            }
        }
    };
    let received_on = match text(Field::ReceivedOn) {
        None => {
            problem(Field::ReceivedOn, "", "必填".into(), "is required".into());
            None
        }
        Some(_) => date(Field::ReceivedOn, &mut problem),
    };
    let channel = match text(Field::Channel) {
        None => {
            problem(Field::Channel, "", "必填".into(), "is required".into());
            None
        }
        Some(v) => lookup(&v, &mapping.words.channel, Channel::parse, CHANNEL_WORDS).or_else(|| {
            problem(
                Field::Channel,
                &v,
                "不是可识别的受理渠道（当面、信函、传真、网络、电子邮件）".into(),
                "is not a channel (in person, letter, fax, web, email)".into(),
            );
            None
        }),
    };
    let applicant_kind = match text(Field::ApplicantKind) {
        None => Some(ApplicantKind::NaturalPerson),
        Some(v) => lookup(&v, &mapping.words.applicant_kind, ApplicantKind::parse, APPLICANT_WORDS).or_else(|| {
            problem(Field::ApplicantKind, &v, "不是可识别的申请人类型".into(), "is not an applicant kind".into());
            None
        }),
    };
    let applicant_name = text(Field::ApplicantName);
    if applicant_name.is_none() {
        problem(Field::ApplicantName, "", "必填".into(), "is required".into());
    }
    let description = text(Field::Description);
    if description.is_none() {
        problem(Field::Description, "", "必填".into(), "is required".into());
    }
    let delivery_form = match text(Field::DeliveryForm) {
        None => Some(DeliveryForm::Paper),
        Some(v) => lookup(&v, &mapping.words.delivery_form, DeliveryForm::parse, DELIVERY_WORDS).or_else(|| {
            problem(Field::DeliveryForm, &v, "不是可识别的提供形式".into(), "is not a delivery form".into());
            None
        }),
    };
    let replied_on = date(Field::RepliedOn, &mut problem);
    if let (Some(r), Some(received)) = (replied_on, received_on) {
        if r < received {
            problem(
                Field::RepliedOn,
                &cell(Field::RepliedOn).1,
                "答复日期早于收到申请日期".into(),
                "is before the receipt date".into(),
            );
        }
    }
    let outcome = read_outcome(mapping, &text(Field::OutcomeCode), &text(Field::Outcome), &text(Field::Reason));
    let outcome = match outcome {
        Ok(o) => o,
        Err((field, value, zh, en)) => {
            problem(field, &value, zh, en);
            None
        }
    };
    match (&outcome, replied_on) {
        (Some(_), None) if text(Field::RepliedOn).is_none() => problem(
            Field::RepliedOn,
            "",
            "有答复结果时必填".into(),
            "is required when the reply's outcome is given".into(),
        ),
        (None, Some(_)) if text(Field::Outcome).is_none() && text(Field::OutcomeCode).is_none() => {
            problem(Field::Outcome, "", "有答复日期时必填".into(), "is required when the reply's date is given".into())
        }
        _ => {}
    }
    let method = match text(Field::ServiceMethod) {
        None => Some(ServiceMethod::Post),
        Some(v) => lookup(&v, &mapping.words.service_method, ServiceMethod::parse, SERVICE_WORDS).or_else(|| {
            problem(Field::ServiceMethod, &v, "不是可识别的送达方式".into(), "is not a service method".into());
            None
        }),
    };
    let extension_on = date(Field::ExtensionApprovedOn, &mut problem);
    let extension_days = match text(Field::ExtensionDays) {
        None => None,
        Some(v) => match v.trim_end_matches(['天', '日']).trim_end_matches("个工作").parse::<u32>() {
            Ok(n) if (1..=100).contains(&n) => Some(n),
            _ => {
                problem(
                    Field::ExtensionDays,
                    &v,
                    "应为1至100的工作日数".into(),
                    "must be a number of working days, 1-100".into(),
                );
                None
            }
        },
    };
    let extended_by_timeliness = text(Field::Timeliness).is_some_and(|t| t.contains("延期"));
    let extension = (extension_on.is_some() || extension_days.is_some() || extended_by_timeliness).then(|| {
        LedgerExtension { approved_on: extension_on, days: extension_days, reason: text(Field::ExtensionReason) }
    });
    let mut appeals = Vec::new();
    for (kind, filed, result, decided) in [
        (
            AppealKind::Reconsideration,
            Field::ReconsiderationFiledOn,
            Field::ReconsiderationResult,
            Field::ReconsiderationDecidedOn,
        ),
        (AppealKind::LitigationDirect, Field::LawsuitFiledOn, Field::LawsuitResult, Field::LawsuitDecidedOn),
    ] {
        let filed_on = date(filed, &mut problem);
        let decided_on = date(decided, &mut problem);
        let outcome = match text(result) {
            None => None,
            Some(v) => lookup(&v, &BTreeMap::new(), AppealOutcome::parse, APPEAL_WORDS).or_else(|| {
                problem(
                    result,
                    &v,
                    "不是可识别的结果（维持、纠正、其他、未审结）".into(),
                    "is not a result (upheld, corrected, other, pending)".into(),
                );
                None
            }),
        };
        match (filed_on, outcome, decided_on) {
            (None, None, None) => {}
            (None, _, _) => {
                if text(filed).is_none() {
                    problem(filed, "", "有结果时必填".into(), "is required when the result is given".into());
                }
            }
            (Some(on), None | Some(AppealOutcome::Pending), None) => {
                appeals.push(LedgerAppeal { kind, filed_on: on, decided: None })
            }
            (Some(on), Some(o), Some(d)) if o != AppealOutcome::Pending && d >= on => {
                appeals.push(LedgerAppeal { kind, filed_on: on, decided: Some((o, d)) })
            }
            (Some(_), Some(AppealOutcome::Pending), Some(_)) | (Some(_), None, Some(_)) => problem(
                result,
                &text(result).unwrap_or_default(),
                "有决定日期时须写明结果".into(),
                "must say the result when a decision date is given".into(),
            ),
            (Some(_), Some(_), None) => {
                problem(decided, "", "有结果时必填".into(), "is required when the result is given".into())
            }
            (Some(_), Some(_), Some(_)) => problem(
                decided,
                &text(decided).unwrap_or_default(),
                "早于申请日期".into(),
                "is before the day it was filed".into(),
            ),
        }
    }
    // A lawsuit after a reconsideration of the same reply is 复议后起诉.
    if appeals.len() == 2 {
        appeals[1].kind = AppealKind::LitigationAfterReconsideration;
    }
    if !appeals.is_empty() && replied_on.is_none() {
        problem(
            Field::RepliedOn,
            "",
            "有行政复议或行政诉讼时必填".into(),
            "is required when the reply was appealed".into(),
        );
    }
    let mut hasher = Sha256::new();
    for c in cells {
        hasher.update(c.trim().as_bytes());
        hasher.update([0x1f]);
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let reply = match (outcome, replied_on, method) {
        (Some(outcome), Some(on), Some(method)) => Some(LedgerReply { on, outcome, method }),
        _ => None,
    };
    Ok(LedgerCase {
        original_number: text(Field::OriginalNumber),
        received_on: received_on.expect("checked"),
        channel: channel.expect("checked"),
        applicant_kind: applicant_kind.expect("checked"),
        applicant_name: applicant_name.expect("checked"),
        id_number: text(Field::IdNumber),
        phone: text(Field::Phone),
        email: text(Field::Email),
        address: text(Field::Address),
        description: description.expect("checked"),
        delivery_form: delivery_form.expect("checked"),
        topic: text(Field::Topic),
        extension,
        reply,
        appeals,
        note: text(Field::Note),
        content_hash: hex::encode(hasher.finalize()),
    })
}

type Refusal = (Field, String, String, String);

/// A code for an office's word: its own words first, then the word itself if it is a code, then the
/// defaults.
fn code_for(
    word: &str,
    own: &BTreeMap<String, String>,
    is_code: impl Fn(&str) -> bool,
    defaults: &[(&str, &str)],
) -> Option<String> {
    let norm = |w: &str| w.trim().replace([' ', '\u{3000}'], "").to_lowercase();
    let key = norm(word);
    if let Some((_, code)) = own.iter().find(|(w, _)| norm(w) == key) {
        return Some(code.clone());
    }
    if is_code(&key) {
        return Some(key);
    }
    defaults.iter().find(|(w, _)| norm(w) == key).map(|(_, c)| (*c).to_owned())
}

/// An outcome code, or a kind that still needs its reason.
fn outcome_or_kind(code: &str) -> bool {
    outcome_code(code).is_some() || OutcomeKind::parse(code).is_some()
}

/// The outcome a row states: its exact code if it has one (the ledger export's 答复结果代码), else its
/// outcome word and, for the kinds that have one, its reason word.
fn read_outcome(
    mapping: &Mapping,
    code: &Option<String>,
    word: &Option<String>,
    reason: &Option<String>,
) -> Result<Option<Outcome>, Refusal> {
    if let Some(code) = code {
        return outcome_code(code).map(Some).ok_or_else(|| {
            (Field::OutcomeCode, code.clone(), "不是可识别的答复结果代码".into(), "is not an outcome code".into())
        });
    }
    let Some(word) = word else { return Ok(None) };
    let Some(found) = code_for(word, &mapping.words.outcome, outcome_or_kind, OUTCOME_WORDS) else {
        return Err((
            Field::Outcome,
            word.clone(),
            "不是可识别的答复结果（予以公开、部分公开、不予公开、无法提供、不予处理、其他处理）".into(),
            "is not a reply outcome (disclosed, partly disclosed, withheld, unable, not processed, other)".into(),
        ));
    };
    if let Some(outcome) = outcome_code(&found) {
        return Ok(Some(outcome));
    }
    // A kind alone (不予公开): its reason comes from the reason column.
    let kind = OutcomeKind::parse(&found).expect("an outcome code or a kind");
    let Some(reason_word) = reason else {
        return Err((
            Field::Reason,
            String::new(),
            format!("“{}”须写明理由", kind_label(kind)),
            format!("is required for a reply of outcome {kind}"),
        ));
    };
    let reason_code = code_for(reason_word, &mapping.words.reason, reason_fits_some_kind, REASON_WORDS);
    match reason_code.and_then(|r| with_reason(kind, &r)) {
        Some(outcome) => Ok(Some(outcome)),
        None => Err((
            Field::Reason,
            reason_word.clone(),
            format!("不是“{}”的理由", kind_label(kind)),
            format!("is not a reason for outcome {kind}"),
        )),
    }
}

fn kind_label(kind: OutcomeKind) -> &'static str {
    match kind {
        OutcomeKind::Disclosed => "予以公开",
        OutcomeKind::PartlyDisclosed => "部分公开",
        OutcomeKind::Withheld => "不予公开",
        OutcomeKind::Unable => "无法提供",
        OutcomeKind::NotProcessed => "不予处理",
        OutcomeKind::Other => "其他处理",
    }
}

/// The intake a ledger row stands for, checked as any registration is (`IntakeInput::validate`):
/// received at 00:00 Beijing time on its receipt date, with the import as its receipt evidence.
pub fn intake_input(
    case: &LedgerCase,
    agency: &str,
    topic: Option<String>,
    evidence: String,
) -> crate::intake::IntakeInput {
    let midnight = case.received_on.and_hms_opt(0, 0, 0).expect("valid time");
    let arrived_at = chrono::TimeZone::from_local_datetime(&crate::china_offset(), &midnight)
        .single()
        .expect("a fixed offset has one local time")
        .with_timezone(&chrono::Utc);
    crate::intake::IntakeInput {
        agency: agency.to_owned(),
        channel: case.channel,
        arrived_at,
        received_on: Some(case.received_on),
        receipt_basis: None,
        receipt_evidence: Some(evidence),
        applicant: crate::intake::ApplicantInput {
            kind: case.applicant_kind,
            name: case.applicant_name.clone(),
            id_number: case.id_number.clone(),
            phone: case.phone.clone(),
            email: case.email.clone(),
            address: case.address.clone(),
        },
        description: case.description.clone(),
        delivery_form: case.delivery_form,
        topic,
    }
}

/// Who the imported steps name as the case's handler (the import actor), and the note each step
/// carries (the file's hash and the row).
pub struct ImportActor<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub note: &'a str,
}

/// The events of a ledger row after its registration (`registered`: receipt, numbering, first
/// deadline), with the ledger's business dates: the extension (approved when the ledger says, or on
/// the plain deadline, sized to the reply, when it says only 延期办结), the reply (assigned, drafted,
/// approved and served on the reply date; a withdrawal, a not-processed notice or a lapsed correction
/// by their own steps), then the reconsideration and the lawsuit. Each change of the clock is
/// followed by the deadline it makes, as live work records it. `today` is the day of the import.
pub fn history(
    case: &LedgerCase,
    regime: &crate::deadline::RegimeRules,
    calendar: &crate::calendar::WorkingDayIndex,
    registered: &[crate::events::CaseEvent],
    actor: &ImportActor<'_>,
    today: NaiveDate,
) -> Result<Vec<crate::events::CaseEvent>, String> {
    use crate::deadline::ClockEvent;
    use crate::events::{CaseEvent, ClockRecord, DeadlineChange, DeadlineSummary, WorkflowRecord};
    use crate::workflow::WorkflowEvent;

    let mut previous = registered
        .iter()
        .find_map(|e| match e {
            CaseEvent::DeadlineSet(change) => Some(change.deadline.clone()),
            _ => None,
        })
        .ok_or("the registration has no deadline")?;
    let plain_due = previous.due_on;
    let mut clock: Vec<ClockEvent> = Vec::new();
    let mut events = Vec::new();
    let note = Some(actor.note.to_owned());
    let mut deadline_after =
        |clock: &[ClockEvent], reason: String, events: &mut Vec<CaseEvent>| -> Result<(), String> {
            let deadline = crate::deadline::compute(regime, calendar, case.received_on, clock, today)
                .map_err(|e| e.to_string())?;
            let timeliness = deadline.timeliness(calendar, today).map_err(|e| e.to_string())?;
            let summary = DeadlineSummary::of(&deadline, &timeliness);
            events.push(CaseEvent::DeadlineSet(DeadlineChange {
                deadline: summary.clone(),
                previous: Some(previous.clone()),
                reason,
            }));
            previous = summary;
            Ok(())
        };
    let step = |event: WorkflowEvent, effective_on: Option<NaiveDate>| {
        CaseEvent::Workflow(WorkflowRecord { event, reason: note.clone(), effective_on, document: None })
    };

    if let Some(extension) = &case.extension {
        let due = plain_due.ok_or("the case has no deadline to extend")?;
        let on = extension.approved_on.unwrap_or(due);
        let days = match (extension.days, &case.reply) {
            (Some(days), _) => days,
            (None, Some(reply)) if reply.on > due => {
                calendar.working_days_between(due, reply.on).map_err(|e| e.to_string())? as u32
            }
            (None, Some(_)) => 1,
            (None, None) => regime.max_extension_days,
        };
        let event = ClockEvent::ExtensionApproved {
            on,
            days: days.clamp(1, regime.max_extension_days.max(1)),
            reason: extension.reason.clone().unwrap_or_else(|| "台账记载延期答复".to_owned()),
            applicant_notified_on: on,
            overridden: false,
        };
        if on > due {
            return Err(format!("the extension was approved on {on}, after the deadline {due}"));
        }
        clock.push(event.clone());
        events.push(CaseEvent::Clock(ClockRecord { event, evidence: note.clone(), override_reason: None }));
        deadline_after(&clock, "clock event: extension_approved".into(), &mut events)?;
    }

    if let Some(reply) = &case.reply {
        let on = reply.on;
        match &reply.outcome {
            Outcome::Other { reason: OtherReason::Withdrawn } => {
                let event = WorkflowEvent::Withdrawn { on };
                clock.extend(CaseEvent::Workflow(WorkflowRecord::new(event.clone(), None, None)).clock_event());
                events.push(step(event, None));
                deadline_after(&clock, "workflow: withdraw".into(), &mut events)?;
            }
            Outcome::Other { reason: OtherReason::FeeLapsed } => return Err(
                "a request ended by an unpaid fee is entered step by step (fee assessed, notice, lapse), not imported"
                    .into(),
            ),
            Outcome::Other { reason: OtherReason::CorrectionLapsed } => {
                let respond_by = on
                    .pred_opt()
                    .filter(|d| *d >= case.received_on)
                    .ok_or("a lapsed correction needs a lapse after the receipt date")?;
                for event in [
                    ClockEvent::CorrectionNoticeSent { on: case.received_on, respond_by },
                    ClockEvent::CorrectionLapsed { on },
                ] {
                    clock.push(event.clone());
                    let kind = event.type_name();
                    events.push(CaseEvent::Clock(ClockRecord { event, evidence: note.clone(), override_reason: None }));
                    deadline_after(&clock, format!("clock event: {kind}"), &mut events)?;
                }
            }
            Outcome::NotProcessed { reason, .. } => {
                let mut outcome = reply.outcome.clone();
                if *reason == NotProcessedReason::RepeatRequest {
                    // A repeat request names the earlier one (2019 Art. 36 (六)): the ledger's note.
                    let earlier =
                        case.note.clone().ok_or("a repeat request needs the earlier request in the note (备注)")?;
                    outcome = Outcome::NotProcessed {
                        reason: *reason,
                        repeat_of: None,
                        repeat_of_earlier: Some(crate::outcome::EarlierRequest {
                            reference: earlier,
                            answered_on: case.received_on,
                            note: Some("台账未载明前次答复日期".to_owned()),
                        }),
                    };
                }
                let event = WorkflowEvent::NotProcessed { on, outcome };
                clock.extend(CaseEvent::Workflow(WorkflowRecord::new(event.clone(), None, None)).clock_event());
                events.push(step(event, None));
                deadline_after(&clock, "workflow: not_process".into(), &mut events)?;
            }
            outcome => {
                events.push(step(
                    WorkflowEvent::HandlerAssigned {
                        handler_id: actor.id.to_owned(),
                        handler_name: actor.name.to_owned(),
                    },
                    Some(on),
                ));
                events.push(step(WorkflowEvent::ReplyDrafted { outcome: outcome.clone() }, Some(on)));
                events.push(step(WorkflowEvent::ReplyApproved, Some(on)));
                let served = WorkflowEvent::Served { on, method: reply.method };
                clock.extend(CaseEvent::Workflow(WorkflowRecord::new(served.clone(), None, None)).clock_event());
                events.push(step(served, None));
                deadline_after(&clock, "workflow: serve".into(), &mut events)?;
            }
        }
    }

    for (i, appeal) in case.appeals.iter().enumerate() {
        let number = i as i32 + 1;
        events.push(step(
            WorkflowEvent::AppealFiled { number, kind: appeal.kind, filed_on: appeal.filed_on, reference: None },
            None,
        ));
        if let Some((outcome, decided_on)) = appeal.decided {
            events.push(step(WorkflowEvent::AppealDecided { number, outcome, decided_on }, None));
        }
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn today() -> NaiveDate {
        d(2026, 12, 4)
    }

    #[test]
    fn dates_in_every_way_offices_write_them() {
        for text in [
            "2026-11-27",
            "2026/11/27",
            "2026.11.27",
            "2026年11月27日",
            "20261127",
            "46353",
            "46353.5",
            "2026-11-27 00:00:00",
            " 2026/11/27 ",
        ] {
            assert_eq!(parse_date(text, &[]), Some(d(2026, 11, 27)), "{text}");
        }
        assert_eq!(parse_date("2015年3月2日", &[]), Some(d(2015, 3, 2)));
        assert_eq!(parse_date("42065", &[]), Some(d(2015, 3, 2)));
        assert_eq!(parse_date("27.11.2026", &["%d.%m.%Y".to_owned()]), Some(d(2026, 11, 27)));
        for text in ["", "2026-02-30", "昨天", "11/27", "12", "2026年13月1日"] {
            assert_eq!(parse_date(text, &[]), None, "{text}");
        }
    }

    fn headers(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn columns_are_found_by_the_template_the_export_or_the_mapping() {
        let template: Vec<String> = TEMPLATE.iter().map(|f| f.header().to_owned()).collect();
        let located = Mapping::default().locate(&template);
        assert_eq!(located.columns.len(), TEMPLATE.len());
        assert!(located.unknown.is_empty());
        let export = headers(&[
            "受理编号",
            "收到申请日期",
            "受理渠道",
            "申请人类型",
            "申请人",
            "主题",
            "办理状态",
            "承办人",
            "答复期限",
            "延长后期限",
            "办理时效",
            "办结日期",
            "答复结果",
            "年报行（2021）",
            "答复结果代码",
        ]);
        let located = Mapping::default().locate(&export);
        assert_eq!(located.columns[&Field::OriginalNumber], 0);
        assert_eq!(located.columns[&Field::RepliedOn], 11);
        assert_eq!(located.columns[&Field::Timeliness], 10);
        assert_eq!(located.columns[&Field::OutcomeCode], 14);
        assert_eq!(located.unknown, headers(&["办理状态", "承办人", "答复期限", "延长后期限", "年报行（2021）"]));
        let mapping = Mapping::from_toml("[columns]\nreceived_on = \"来信时间\"\nchannel = \"来源\"\n").unwrap();
        let located = mapping.locate(&headers(&["来源", "来信时间 ", "申请人"]));
        assert_eq!((located.columns[&Field::Channel], located.columns[&Field::ReceivedOn]), (0, 1));
    }

    fn row(pairs: &[(&str, &str)]) -> (Vec<String>, Vec<String>) {
        (pairs.iter().map(|(h, _)| h.to_string()).collect(), pairs.iter().map(|(_, v)| v.to_string()).collect())
    }

    fn read(mapping: &Mapping, pairs: &[(&str, &str)]) -> Result<LedgerCase, Vec<RowProblem>> {
        let (headers, cells) = row(pairs);
        let located = mapping.locate(&headers);
        read_row(mapping, &located, &headers, 2, &cells, today())
    }

    #[test]
    fn a_full_row_reads_into_a_case() {
        let case = read(
            &Mapping::default(),
            &[
                ("原编号", "盘政公开〔2015〕12号"),
                ("收到申请日期", "2015年3月2日"),
                ("受理渠道", "来信"),
                ("申请人类型", "个人"),
                ("申请人", "张三"),
                ("联系电话", "15704271234"),
                ("申请内容", "2014年城区道路改造工程的招标文件"),
                ("提供形式", "纸质"),
                ("延期天数", "15"),
                ("延期批准日期", "2015/3/20"),
                ("答复日期", "42095"),
                ("送达方式", "邮寄"),
                ("答复结果", "不予公开"),
                ("理由", "商业秘密"),
            ],
        )
        .unwrap();
        assert_eq!(case.original_number.as_deref(), Some("盘政公开〔2015〕12号"));
        assert_eq!(
            (case.received_on, case.channel, case.applicant_kind),
            (d(2015, 3, 2), Channel::Letter, ApplicantKind::NaturalPerson)
        );
        assert_eq!(
            case.extension,
            Some(LedgerExtension { approved_on: Some(d(2015, 3, 20)), days: Some(15), reason: None })
        );
        let reply = case.reply.unwrap();
        assert_eq!(reply.on, d(2015, 4, 1));
        assert_eq!(reply.outcome, Outcome::Withheld { reason: WithholdReason::TradeSecret });
        assert_eq!(reply.method, ServiceMethod::Post);
        assert_eq!(case.content_hash.len(), 64);
    }

    #[test]
    fn outcomes_by_word_code_or_report_row_and_their_reasons() {
        let outcome = |pairs: &[(&str, &str)]| {
            let mut all = vec![
                ("收到申请日期", "2015-03-02"),
                ("受理渠道", "信函"),
                ("申请人", "张三"),
                ("申请内容", "x"),
                ("答复日期", "2015-03-20"),
            ];
            all.extend_from_slice(pairs);
            read(&Mapping::default(), &all).map(|c| c.reply.unwrap().outcome)
        };
        assert_eq!(outcome(&[("答复结果", "同意公开")]), Ok(Outcome::Disclosed { already_public: false }));
        assert_eq!(outcome(&[("答复结果", "已主动公开")]), Ok(Outcome::Disclosed { already_public: true }));
        assert_eq!(
            outcome(&[("答复结果", "（二）部分公开（区分处理的，只计这一情形，不计其他情形）")]),
            Ok(Outcome::PartlyDisclosed { already_public: false })
        );
        assert_eq!(
            outcome(&[("答复结果", "无法提供"), ("理由", "1.本机关不掌握相关政府信息")]),
            Ok(Outcome::Unable { reason: UnableReason::DoesNotExist })
        );
        assert_eq!(
            outcome(&[("答复结果", "不予处理"), ("理由", "重复申请")]).unwrap().reason(),
            Some("repeat_request")
        );
        assert_eq!(
            outcome(&[("答复结果代码", "withheld:not_government_information")]),
            Ok(Outcome::Withheld { reason: WithholdReason::NotGovernmentInformation })
        );
        assert_eq!(
            outcome(&[("答复结果", "withheld"), ("理由", "state_secret")]),
            Ok(Outcome::Withheld { reason: WithholdReason::StateSecret })
        );
        // A reason that belongs to another kind, a kind without its reason, an unknown word.
        let problems = outcome(&[("答复结果", "不予公开"), ("理由", "重复申请")]).unwrap_err();
        assert_eq!((problems[0].column.as_str(), problems[0].zh.as_str()), ("理由", "不是“不予公开”的理由"));
        let problems = outcome(&[("答复结果", "不予公开")]).unwrap_err();
        assert!(problems[0].en.contains("required"), "{problems:?}");
        let problems = outcome(&[("答复结果", "看情况")]).unwrap_err();
        assert_eq!((problems[0].row, problems[0].value.as_str()), (2, "看情况"));
    }

    #[test]
    fn every_problem_of_a_bad_row_is_reported_with_its_column_and_value_in_both_languages() {
        let problems = read(
            &Mapping::default(),
            &[
                ("收到申请日期", "2015-02-30"),
                ("受理渠道", "飞鸽传书"),
                ("申请人", ""),
                ("申请内容", "x"),
                ("答复日期", "2099-01-01"),
                ("答复结果", "同意公开"),
                ("延期天数", "三十"),
            ],
        )
        .unwrap_err();
        let columns: Vec<&str> = problems.iter().map(|p| p.column.as_str()).collect();
        assert_eq!(columns, ["收到申请日期", "受理渠道", "申请人", "答复日期", "延期天数"]);
        assert!(problems.iter().all(|p| p.row == 2 && !p.zh.is_empty() && !p.en.is_empty()));
        assert_eq!(problems[1].value, "飞鸽传书");
        assert_eq!(problems[3].en, "is in the future");
        // A reply date before the receipt, and a reply date without an outcome.
        let problems = read(
            &Mapping::default(),
            &[
                ("收到申请日期", "2015-03-02"),
                ("受理渠道", "信函"),
                ("申请人", "张三"),
                ("申请内容", "x"),
                ("答复日期", "2015-03-01"),
            ],
        )
        .unwrap_err();
        let columns: Vec<&str> = problems.iter().map(|p| p.column.as_str()).collect();
        assert_eq!(columns, ["答复日期", "答复结果"]);
    }

    #[test]
    fn an_offices_own_words_come_first_and_bad_mappings_are_refused() {
        let mapping = Mapping::from_toml(
            "[words.channel]\n\"市长信箱\" = \"web\"\n[words.outcome]\n\"同意\" = \"disclosed\"\n\"不同意\" = \"withheld\"\n[words.reason]\n\"涉密\" = \"state_secret\"\n",
        )
        .unwrap();
        let case = read(
            &mapping,
            &[
                ("收到申请日期", "2015-03-02"),
                ("受理渠道", "市长信箱"),
                ("申请人", "张三"),
                ("申请内容", "x"),
                ("答复日期", "2015-03-20"),
                ("答复结果", "不同意"),
                ("理由", "涉密"),
            ],
        )
        .unwrap();
        assert_eq!(case.channel, Channel::Web);
        assert_eq!(case.reply.unwrap().outcome, Outcome::Withheld { reason: WithholdReason::StateSecret });
        assert!(Mapping::from_toml("[words.channel]\n\"信鸽\" = \"pigeon\"\n").unwrap_err().contains("pigeon"));
        assert!(Mapping::from_toml("[words.outcome]\n\"x\" = \"withheld:pigeon\"\n").is_err());
        assert!(Mapping::from_toml("[columns]\ncolour = \"颜色\"\n").is_err());
        assert!(Mapping::from_toml("[dates]\nformats = [\"%Q\"]\n").is_err());
    }

    #[test]
    fn every_outcome_has_a_code_that_reads_back() {
        for outcome in Outcome::all() {
            let code = code_of(&outcome);
            let mut expected = outcome.clone();
            if let Outcome::NotProcessed { repeat_of, .. } = &mut expected {
                *repeat_of = None;
            }
            assert_eq!(outcome_code(&code), Some(expected), "{code}");
        }
    }

    #[test]
    fn the_same_cells_hash_the_same_and_the_export_marks_extensions() {
        let pairs = [
            ("收到申请日期", "2015-03-02"),
            ("受理渠道", "信函"),
            ("申请人", "张三"),
            ("申请内容", "x"),
            ("办理时效", "延期办结"),
        ];
        let a = read(&Mapping::default(), &pairs).unwrap();
        let b = read(&Mapping::default(), &pairs).unwrap();
        assert_eq!(a.content_hash, b.content_hash);
        assert_eq!(a.extension, Some(LedgerExtension { approved_on: None, days: None, reason: None }));
        assert_eq!(a.reply, None, "an open case");
    }
}
