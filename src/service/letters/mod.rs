//! The letters the law requires (登记回执, 补正告知书, 延期答复告知书, 征求第三方意见函, 答复书),
//! generated from the case: the facts come from its events, the wording from a template (a text file
//! in `templates/documents/`, which an agency and its subtree may replace), the layout from the
//! official-document standard (`docx`). Every generation is an event on the case with the hashes of
//! the DOCX and of its text; a regeneration with different text is a new version of the same
//! document (the same number), one with the same text returns the version there is.

pub mod docx;
pub mod markup;

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::db::agencies::AgencyRow;
use crate::db::cases::{self, CaseRecord, EventRow};
use crate::db::locks::Author;
use crate::db::papers::{self as store, StoredFile};
use crate::db::{DbConnection, TxError};
use crate::domain::case::Case;
use crate::domain::deadline::ClockEvent;
use crate::domain::events::CaseEvent;
use crate::domain::letters::{
    self as law, chinese_count, chinese_date, document_number, legal_basis, DocumentKind, DocumentRecord,
};
use crate::domain::outcome::{NotProcessedReason, OtherReason, Outcome};
use crate::domain::role::Role;
use crate::domain::validation::FieldError;
use crate::error::AppError;
use crate::service::Caller;

/// The templates, by name: the five letters and the remedies paragraph the reply includes.
pub const TEMPLATE_NAMES: [&str; 6] = ["receipt", "correction", "extension", "consultation", "reply", "remedies"];

/// The template shipped with the service.
pub fn builtin_template(name: &str) -> Option<&'static str> {
    Some(match name {
        "receipt" => include_str!("../../../templates/documents/receipt.letter"),
        "correction" => include_str!("../../../templates/documents/correction.letter"),
        "extension" => include_str!("../../../templates/documents/extension.letter"),
        "consultation" => include_str!("../../../templates/documents/consultation.letter"),
        "reply" => include_str!("../../../templates/documents/reply.letter"),
        "remedies" => include_str!("../../../templates/documents/remedies.letter"),
        _ => return None,
    })
}

/// An agency's letterhead: what its letters print and where their numbers come from. Every field is
/// optional; the issuer defaults to the agency's name and the number prefix to the issuer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Letterhead {
    /// 发文机关: the name the letters are issued under, e.g. 盘锦市人民政府办公室.
    #[schema(max_length = 100)]
    pub issuer: Option<String>,
    /// 机关代字 of the numbers, e.g. 盘政公开.
    #[schema(max_length = 50)]
    pub number_prefix: Option<String>,
    /// The numbers' pattern with {prefix}, {kind} (补正, 延期, …; empty for replies), {year} and {seq};
    /// default `{prefix}{kind}〔{year}〕{seq}号`.
    #[schema(max_length = 100)]
    pub number_pattern: Option<String>,
    #[schema(max_length = 200)]
    pub address: Option<String>,
    #[schema(max_length = 20)]
    pub postcode: Option<String>,
    #[schema(max_length = 50)]
    pub phone: Option<String>,
    /// The office or person to contact (政府信息公开工作机构).
    #[schema(max_length = 100)]
    pub contact: Option<String>,
    /// Where the seal goes, as printed (e.g. （印章）); empty for none.
    #[schema(max_length = 20)]
    pub seal: Option<String>,
    /// The body the replies name for 行政复议, e.g. 盘锦市人民政府.
    #[schema(max_length = 100)]
    pub reconsideration_body: Option<String>,
    /// The court the replies name for 行政诉讼, e.g. 盘锦市兴隆台区人民法院.
    #[schema(max_length = 100)]
    pub court: Option<String>,
}

impl Letterhead {
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        let fields: [(&str, &Option<String>, usize); 10] = [
            ("issuer", &self.issuer, 100),
            ("number_prefix", &self.number_prefix, 50),
            ("number_pattern", &self.number_pattern, 100),
            ("address", &self.address, 200),
            ("postcode", &self.postcode, 20),
            ("phone", &self.phone, 50),
            ("contact", &self.contact, 100),
            ("seal", &self.seal, 20),
            ("reconsideration_body", &self.reconsideration_body, 100),
            ("court", &self.court, 100),
        ];
        for (name, value, max) in fields {
            if let Some(v) = value {
                if v.chars().count() > max {
                    errors.push(FieldError::new(name, format!("must be at most {max} characters")));
                }
                if v.chars().any(char::is_control) {
                    errors.push(FieldError::new(name, "must be one line without control characters"));
                }
            }
        }
        if let Some(pattern) = &self.number_pattern {
            if let Err(e) = law::check_number_pattern(pattern) {
                errors.push(FieldError::new("number_pattern", e));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

fn text(value: &Option<String>) -> &str {
    value.as_deref().map(str::trim).unwrap_or("")
}

/// The letterhead and templates in force for an agency: its own, or the nearest ancestor's.
#[derive(Debug, Clone)]
pub struct Stationery {
    /// The agency whose letterhead applies (its number series), or the case's agency when no
    /// agency up the tree set one.
    pub owner: AgencyRow,
    pub letterhead: Letterhead,
    /// Each template's text, where it came from (`builtin` or an agency code) and its SHA-256.
    pub templates: BTreeMap<&'static str, (String, String)>,
}

impl Stationery {
    pub fn issuer(&self) -> String {
        match text(&self.letterhead.issuer) {
            "" => self.owner.name.clone(),
            issuer => issuer.to_owned(),
        }
    }

    fn number(&self, kind: DocumentKind, year: i32, seq: i32) -> String {
        let issuer = self.issuer();
        let prefix = match text(&self.letterhead.number_prefix) {
            "" => issuer.as_str(),
            prefix => prefix,
        };
        let pattern = match text(&self.letterhead.number_pattern) {
            "" => law::DEFAULT_NUMBER_PATTERN,
            pattern => pattern,
        };
        document_number(pattern, prefix, kind, year, seq)
    }

    /// Where the templates of a letter of `kind` came from (`builtin` or agency codes) and one hash
    /// over them: a reply includes the remedies paragraph, so a change to either is a new version.
    fn template_version(&self, kind: DocumentKind) -> (String, String) {
        let names: &[&str] = if kind == DocumentKind::Reply { &["reply", "remedies"] } else { &[kind.as_str()] };
        let mut hasher = Sha256::new();
        let mut sources: Vec<&str> = Vec::new();
        for name in names {
            let (body, source) = &self.templates[name];
            hasher.update(name.as_bytes());
            hasher.update([0]);
            hasher.update(body.as_bytes());
            hasher.update([0]);
            if !sources.contains(&source.as_str()) {
                sources.push(source);
            }
        }
        (sources.join(","), hex::encode(hasher.finalize()))
    }
}

/// The agencies from the root down to the agency at `path` ("/PJ/PJ-DW/").
fn lineage(conn: &mut DbConnection, path: &str) -> Result<Vec<AgencyRow>, AppError> {
    let mut rows = Vec::new();
    for code in path.split('/').filter(|c| !c.is_empty()) {
        let row = crate::db::agencies::find_by_code(conn, code)?
            .ok_or_else(|| AppError::Internal(format!("agency {code} of path {path} is missing")))?;
        rows.push(row);
    }
    Ok(rows)
}

/// The stationery of the agency at `agency_path`.
pub fn stationery(conn: &mut DbConnection, agency_path: &str) -> Result<Stationery, AppError> {
    let lineage = lineage(conn, agency_path)?;
    let own = lineage.last().cloned().ok_or_else(|| AppError::Internal(format!("empty agency path {agency_path}")))?;
    let mut found = None;
    for agency in lineage.iter().rev() {
        if let Some(body) = store::letterhead(conn, &agency.id)? {
            let letterhead = serde_json::from_str(&body).map_err(AppError::internal)?;
            found = Some((agency.clone(), letterhead));
            break;
        }
    }
    let (owner, letterhead) = found.unwrap_or((own, Letterhead::default()));
    let mut templates = BTreeMap::new();
    for name in TEMPLATE_NAMES {
        let mut chosen = None;
        for agency in lineage.iter().rev() {
            if let Some((body, _)) = store::template(conn, &agency.id, name)? {
                chosen = Some((body, agency.code.clone()));
                break;
            }
        }
        let chosen = chosen.unwrap_or_else(|| (builtin_template(name).expect("known").to_owned(), "builtin".into()));
        templates.insert(name, chosen);
    }
    Ok(Stationery { owner, letterhead, templates })
}

/// Why a template could not make a letter.
#[derive(Debug)]
pub struct TemplateError(pub String);

/// Renders template `name` of `templates` with `context` to letter markup. Every interpolated value
/// is escaped for the markup; `|paragraphs` keeps a value's line breaks as paragraphs.
pub fn render(
    templates: &BTreeMap<&'static str, (String, String)>,
    name: &str,
    context: &serde_json::Value,
) -> Result<String, TemplateError> {
    use minijinja::{AutoEscape, Environment, UndefinedBehavior, Value};
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| AutoEscape::Custom("letter"));
    env.set_formatter(|out, state, value| {
        if value.is_safe() || state.auto_escape() != AutoEscape::Custom("letter") {
            return minijinja::escape_formatter(out, state, value);
        }
        let text = if value.is_none() || value.is_undefined() { String::new() } else { value.to_string() };
        out.write_str(&markup::escape(&text))
            .map_err(|_| minijinja::Error::new(minijinja::ErrorKind::WriteFailure, "cannot write the letter"))
    });
    env.add_filter("paragraphs", |value: String| Value::from_safe_string(markup::escape_paragraphs(&value)));
    for (template, (body, _)) in templates {
        env.add_template_owned(format!("{template}.letter"), body.clone())
            .map_err(|e| TemplateError(format!("template `{template}`: {e}")))?;
    }
    let template = env.get_template(&format!("{name}.letter")).map_err(|e| TemplateError(e.to_string()))?;
    template.render(context).map_err(|e| {
        let mut message = format!("template `{name}`: {e}");
        let mut source = std::error::Error::source(&e);
        while let Some(inner) = source {
            message.push_str(&format!(": {inner}"));
            source = inner.source();
        }
        TemplateError(message)
    })
}

/// What the handler supplies for a letter that the case does not hold.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GenerateRequest {
    pub kind: DocumentKind,
    /// Facts the case does not hold, by name: for a correction `matters` (what to correct; required)
    /// and `respond_by` (YYYY-MM-DD; required unless the correction notice is recorded); for a
    /// consultation `third_party` (required), `matters`, `due_on`; for a reply `content` (the
    /// substance: what is provided and how, where it is published, which parts are withheld and
    /// why; required for 部分公开, for information already published, and for 其他), and
    /// `other_agency` (for 不属于本机关: the responsible agency and how to reach it).
    #[serde(default)]
    pub particulars: BTreeMap<String, String>,
    /// The date printed on the letter (default: today, China time).
    #[serde(default)]
    pub issued_on: Option<NaiveDate>,
}

pub const MAX_PARTICULAR_CHARS: usize = 5_000;

fn allowed_particulars(kind: DocumentKind) -> &'static [&'static str] {
    match kind {
        DocumentKind::Receipt | DocumentKind::Extension => &[],
        DocumentKind::Correction => &["matters", "respond_by"],
        DocumentKind::Consultation => &["third_party", "matters", "due_on"],
        DocumentKind::Reply => &["content", "other_agency"],
    }
}

/// The facts a letter of `kind` needs from `case`, checked: a problem naming each missing one.
struct Facts {
    context: serde_json::Value,
    occasion: String,
}

fn date_particular(
    particulars: &BTreeMap<String, String>,
    name: &str,
    errors: &mut Vec<FieldError>,
) -> Option<NaiveDate> {
    let value = particulars.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())?;
    match NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        Ok(day) => Some(day),
        Err(_) => {
            errors.push(FieldError::new(format!("particulars.{name}"), "must be a date, YYYY-MM-DD"));
            None
        }
    }
}

/// The outcome a reply letter states: the open new reply's, else the served or drafted reply's.
fn reply_outcome(case: &Case) -> Option<Outcome> {
    if let Some(last) = case.re_replies.last() {
        if let Some(outcome) = &last.outcome {
            return Some(outcome.clone());
        }
        return case.draft.clone();
    }
    case.outcome.clone().or_else(|| case.draft.clone())
}

/// Builds the context of a letter from the case and the particulars.
#[allow(clippy::too_many_arguments)]
fn facts(
    conn: &mut DbConnection,
    record: &CaseRecord,
    case: &Case,
    events: &[EventRow],
    stationery: &Stationery,
    request: &GenerateRequest,
    issued_on: NaiveDate,
) -> Result<Facts, AppError> {
    let kind = request.kind;
    let p = &request.particulars;
    let mut errors = Vec::new();
    for (name, value) in p {
        if !allowed_particulars(kind).contains(&name.as_str()) {
            let allowed = allowed_particulars(kind);
            errors.push(FieldError::new(
                format!("particulars.{name}"),
                if allowed.is_empty() {
                    format!("a {kind} letter takes no particulars: its facts all come from the case")
                } else {
                    format!("is not a particular of a {kind} letter; use {}", allowed.join(", "))
                },
            ));
        } else if value.chars().count() > MAX_PARTICULAR_CHARS {
            errors.push(FieldError::new(
                format!("particulars.{name}"),
                format!("must be at most {MAX_PARTICULAR_CHARS} characters"),
            ));
        }
    }
    let particular = |name: &str| p.get(name).map(|v| v.trim().to_owned()).unwrap_or_default();
    let regime = record.row.regime.clone();
    let decoded: Vec<CaseEvent> = events
        .iter()
        .map(|e| CaseEvent::from_stored(&e.kind, &e.payload).map_err(AppError::internal))
        .collect::<Result<_, _>>()?;
    let letterhead = &stationery.letterhead;
    let mut context = json!({
        "agency": {
            "name": stationery.issuer(),
            "address": text(&letterhead.address),
            "postcode": text(&letterhead.postcode),
            "phone": text(&letterhead.phone),
            "contact": text(&letterhead.contact),
            "seal": text(&letterhead.seal),
        },
        "issued_on": chinese_date(issued_on),
        "regime": regime,
        "statute": law::STATUTE,
        "basis": "",
        "case": {
            "tracking_number": record.row.tracking_number,
            "received_on": chinese_date(case.received_on),
            "channel": crate::domain::labels::channel(case.channel),
            "description": case.description,
            "delivery_form": crate::domain::labels::delivery_form(case.delivery_form),
        },
        "applicant": {
            "name": case.applicant.name,
            "masked_name": crate::domain::masking::mask_name(&case.applicant.name),
            "kind": case.applicant.kind.as_str(),
        },
        "deadline": {"due_on": "", "days": ""},
        "correction": {"matters": "", "respond_by": ""},
        "extension": {"days": "", "original_due_on": "", "due_on": "", "reason": ""},
        "consultation": {"third_party": "", "matters": "", "respond_within": "", "due_on": ""},
        "reply": {
            "outcome": "", "reason": "", "already_public": false, "content": "", "other_agency": "",
            "earlier_reference": "", "earlier_answered_on": "",
        },
        "remedies": {
            "reconsideration_body": text(&letterhead.reconsideration_body),
            "court": text(&letterhead.court),
            "reconsideration_days": law::RECONSIDERATION_PERIOD,
            "litigation_period": law::litigation_period(issued_on),
        },
    });
    let old = law::is_2008(&regime);
    let mut occasion = String::new();
    let clock: Vec<&ClockEvent> = decoded
        .iter()
        .filter_map(|e| match e {
            CaseEvent::Clock(c) => Some(&c.event),
            _ => None,
        })
        .collect();
    match kind {
        DocumentKind::Receipt => {
            let first = decoded.iter().find_map(|e| match e {
                CaseEvent::DeadlineSet(change) => change.deadline.due_on,
                _ => None,
            });
            context["deadline"] = json!({
                "due_on": first.map(chinese_date).unwrap_or_default(),
                "days": if old { "十五" } else { "二十" },
            });
        }
        DocumentKind::Correction => {
            let matters = particular("matters");
            if matters.is_empty() {
                errors.push(FieldError::new("particulars.matters", "is required: what the applicant must correct"));
            }
            let recorded = clock.iter().rev().find_map(|c| match c {
                ClockEvent::CorrectionNoticeSent { respond_by, .. } => Some(*respond_by),
                _ => None,
            });
            let respond_by = date_particular(p, "respond_by", &mut errors).or(recorded);
            if respond_by.is_none() && !p.contains_key("respond_by") {
                errors.push(FieldError::new(
                    "particulars.respond_by",
                    "is required: the date the correction is due (or record the correction notice first)",
                ));
            }
            if let Some(day) = respond_by.filter(|d| *d < issued_on) {
                errors.push(FieldError::new("particulars.respond_by", format!("{day} is before the letter's date")));
            }
            context["correction"] =
                json!({"matters": matters, "respond_by": respond_by.map(chinese_date).unwrap_or_default()});
        }
        DocumentKind::Extension => {
            let position = decoded.iter().rposition(|e| {
                matches!(e, CaseEvent::Clock(c) if matches!(c.event, ClockEvent::ExtensionApproved { overridden: false, .. }))
            });
            match position {
                None => errors.push(FieldError::new(
                    "case.extension",
                    "the case has no approved extension: record it (clock event extension_approved) first",
                )),
                Some(at) => {
                    let CaseEvent::Clock(c) = &decoded[at] else { unreachable!("found above") };
                    let ClockEvent::ExtensionApproved { days, reason, .. } = &c.event else {
                        unreachable!("found above")
                    };
                    let change = decoded[at..].iter().find_map(|e| match e {
                        CaseEvent::DeadlineSet(change) => Some(change),
                        _ => None,
                    });
                    let due = change.and_then(|c| c.deadline.final_due_on);
                    let original = change.and_then(|c| c.previous.as_ref()).and_then(|p| p.final_due_on);
                    context["extension"] = json!({
                        "days": chinese_count(*days),
                        "original_due_on": original.map(chinese_date).unwrap_or_default(),
                        "due_on": due.map(chinese_date).unwrap_or_default(),
                        "reason": reason,
                    });
                }
            }
        }
        DocumentKind::Consultation => {
            let third_party = particular("third_party");
            if third_party.is_empty() {
                errors.push(FieldError::new("particulars.third_party", "is required: who is consulted"));
            }
            let due_on = date_particular(p, "due_on", &mut errors);
            context["consultation"] = json!({
                "third_party": third_party,
                "matters": particular("matters"),
                "respond_within": if old { "" } else { "十五个工作日" },
                "due_on": due_on.map(chinese_date).unwrap_or_default(),
            });
            occasion = third_party;
        }
        DocumentKind::Reply => match reply_outcome(case) {
            None => errors.push(FieldError::new(
                "case.outcome",
                "the case has no drafted or served reply: draft the reply (its outcome) first",
            )),
            Some(outcome) => {
                let content = particular("content");
                let needs_content = match &outcome {
                    Outcome::PartlyDisclosed { .. } => Some("which parts are provided and why the rest is withheld"),
                    Outcome::Disclosed { already_public: true } => {
                        Some("where and how the published information can be obtained")
                    }
                    Outcome::Other { reason: OtherReason::Other } => Some("how the request was handled"),
                    _ => None,
                };
                if let (Some(what), true) = (needs_content, content.is_empty()) {
                    errors.push(FieldError::new(
                        "particulars.content",
                        format!("is required for a reply of outcome {}: {what}", outcome.kind()),
                    ));
                }
                let (mut earlier_reference, mut earlier_answered_on) = (String::new(), String::new());
                if let Outcome::NotProcessed {
                    reason: NotProcessedReason::RepeatRequest,
                    repeat_of,
                    repeat_of_earlier,
                } = &outcome
                {
                    if let Some(id) = repeat_of {
                        if let Some(earlier) = cases::find(conn, id)? {
                            earlier_reference = earlier.row.tracking_number.clone();
                            earlier_answered_on = earlier.row.served_on.map(chinese_date).unwrap_or_default();
                        }
                    } else if let Some(earlier) = repeat_of_earlier {
                        earlier_reference = earlier.reference.clone();
                        earlier_answered_on = chinese_date(earlier.answered_on);
                    }
                }
                let respond_by = clock.iter().rev().find_map(|c| match c {
                    ClockEvent::CorrectionNoticeSent { respond_by, .. } => Some(chinese_date(*respond_by)),
                    _ => None,
                });
                context["correction"]["respond_by"] = json!(respond_by.unwrap_or_default());
                context["reply"] = json!({
                    "outcome": outcome.kind().as_str(),
                    "reason": outcome.reason().unwrap_or(""),
                    "already_public": outcome.already_public(),
                    "content": content,
                    "other_agency": particular("other_agency"),
                    "earlier_reference": earlier_reference,
                    "earlier_answered_on": earlier_answered_on,
                });
                context["basis"] = json!(legal_basis(&regime, kind, Some(&outcome)).unwrap_or_default());
                if !case.re_replies.is_empty() {
                    occasion = format!("重新答复{}", case.re_replies.len());
                }
            }
        },
    }
    if kind != DocumentKind::Reply {
        context["basis"] = json!(legal_basis(&regime, kind, None).unwrap_or_default());
    }
    if errors.is_empty() {
        Ok(Facts { context, occasion })
    } else {
        Err(AppError::Validation(errors))
    }
}

/// A generated letter and whether this call made it.
pub struct Generated {
    pub record: CaseRecord,
    pub document: DocumentRecord,
    /// False when the same text had been generated already: the existing version is returned.
    pub created: bool,
}

/// The stored id of a letter version's text (beside its DOCX, stored under the version's id).
pub fn text_file_id(version_id: &str) -> String {
    format!("{version_id}.text")
}

/// A letter's markup and its parsed form.
fn compose(
    stationery: &Stationery,
    kind: DocumentKind,
    context: &serde_json::Value,
) -> Result<(String, markup::Letter), AppError> {
    let template_problem = |message: String| {
        let source = &stationery.templates[kind.as_str()].1;
        if source == "builtin" {
            AppError::Internal(message)
        } else {
            AppError::Validation(vec![FieldError::new(
                "template",
                format!("the {kind} template of agency {source} cannot make this letter: {message}"),
            )])
        }
    };
    let text = render(&stationery.templates, kind.as_str(), context).map_err(|e| template_problem(e.0))?;
    let letter = markup::parse(&text).map_err(|e| template_problem(e.to_string()))?;
    Ok((text, letter))
}

/// Generates a letter of `request.kind` for the case, as `caller`.
pub fn generate(
    conn: &mut DbConnection,
    caller: Caller<'_>,
    record: &CaseRecord,
    request: &GenerateRequest,
) -> Result<Generated, AppError> {
    if let Caller::User(p) = caller {
        if p.role == Role::Statistician {
            return Err(AppError::Forbidden("the statistician role cannot generate letters".into()));
        }
    }
    let mut current = record.clone();
    for attempt in 0.. {
        match generate_once(conn, caller, &current, request) {
            Err(AppError::PreconditionFailed(_)) if attempt < 3 => {
                current =
                    cases::find(conn, &record.row.id)?.ok_or_else(|| AppError::NotFound("the case is gone".into()))?;
            }
            other => return other,
        }
    }
    unreachable!("the loop returns")
}

fn generate_once(
    conn: &mut DbConnection,
    caller: Caller<'_>,
    record: &CaseRecord,
    request: &GenerateRequest,
) -> Result<Generated, AppError> {
    let kind = request.kind;
    let events = cases::events(conn, &record.row.id)?;
    let case = cases::project(&events)?;
    let today = crate::domain::china_date(Utc::now());
    let issued_on = request.issued_on.unwrap_or(today);
    if issued_on > today {
        return Err(AppError::validation("issued_on", format!("{issued_on} is in the future")));
    }
    if issued_on < case.received_on {
        return Err(AppError::validation(
            "issued_on",
            format!("{issued_on} is before the request was received ({})", case.received_on),
        ));
    }
    let stationery = stationery(conn, &record.agency_path)?;
    let facts = facts(conn, record, &case, &events, &stationery, request, issued_on)?;
    let (template_source, template_sha256) = stationery.template_version(kind);
    let latest = case.documents.iter().rev().find(|d| d.kind == kind && d.occasion == facts.occasion).cloned();
    let heading = |number: &str| (stationery.issuer(), number.to_owned(), text(&stationery.letterhead.seal).to_owned());
    let author = Author { user_id: caller.user_id(), lock_override: None };
    let case_id = record.row.id.clone();
    let make =
        |conn: &mut DbConnection, document_id: String, number: String, version: i32| -> Result<Generated, AppError> {
            let (text, letter) = compose(&stationery, kind, &facts.context)?;
            let (issuer, number_text, seal) = heading(&number);
            // The stored text holds the letterhead too: everything the DOCX prints.
            let text = format!("{}{text}", markup::heading_lines(&issuer, &number_text, &seal));
            let bytes =
                docx::write(&letter, &docx::Heading { issuer: &issuer, number: &number_text, seal: &seal, issued_on });
            let sha256 = hex::encode(Sha256::digest(&bytes));
            // The DOCX is deterministic: the same bytes are the same letter (text, letterhead and date).
            if let Some(latest) = latest.as_ref().filter(|l| l.sha256 == sha256) {
                return Ok(Generated { record: record.clone(), document: latest.clone(), created: false });
            }
            let id = uuid::Uuid::now_v7().to_string();
            let document = DocumentRecord {
                id: id.clone(),
                document_id,
                kind,
                number,
                version,
                occasion: facts.occasion.clone(),
                issued_on,
                sha256,
                size_bytes: bytes.len() as i64,
                text_sha256: hex::encode(Sha256::digest(text.as_bytes())),
                template: kind.as_str().to_owned(),
                template_source: template_source.clone(),
                template_sha256: template_sha256.clone(),
                particulars: request.particulars.clone(),
            };
            let files = [
                (id.clone(), docx::MEDIA_TYPE, bytes),
                (text_file_id(&id), "text/plain; charset=utf-8", text.into_bytes()),
            ];
            let event = [CaseEvent::DocumentIssued(Box::new(document.clone()))];
            let updated = cases::append_with(conn, record, &event, &author, |conn| {
                for (file_id, media_type, bytes) in &files {
                    let stored = StoredFile {
                        id: file_id.clone(),
                        case_id: case_id.clone(),
                        media_type: (*media_type).to_owned(),
                        size_bytes: bytes.len() as i64,
                        sha256: hex::encode(Sha256::digest(bytes)),
                        created_at: crate::db::now(),
                    };
                    store::store(conn, &stored, bytes.as_slice()).map_err(TxError::App)?;
                }
                Ok(())
            })?;
            Ok(Generated { record: updated, document, created: true })
        };
    match &latest {
        Some(latest) => make(conn, latest.document_id.clone(), latest.number.clone(), latest.version + 1),
        None => {
            // A new document takes the next number in the same transaction as its event, so a
            // failed generation gives the number back.
            let owner = stationery.owner.id.clone();
            crate::db::transaction(conn, |conn| {
                let seq = store::next_document_seq(conn, &owner, kind.as_str(), issued_on.year())?;
                let number = stationery.number(kind, issued_on.year(), seq);
                make(conn, uuid::Uuid::now_v7().to_string(), number, 1).map_err(TxError::App)
            })
            .map_err(AppError::from)
        }
    }
}

/// A version of a letter of the case.
pub fn version_of(case: &Case, id: &str) -> Result<DocumentRecord, AppError> {
    case.documents
        .iter()
        .find(|d| d.id == id)
        .cloned()
        .ok_or_else(|| AppError::NotFound(format!("the case has no document version `{id}`")))
}

/// Who may read a letter: anyone who sees the case, except that a role seeing cases masked reads
/// only the letters that name the applicant masked (the consultation letter).
pub fn require_read(caller: Caller<'_>, kind: DocumentKind) -> Result<(), AppError> {
    crate::service::papers::require_content_access(caller, kind.is_personal())
}

/// A letter version's text, parsed (for the print view and plain text), checked against the hash its
/// event recorded.
pub fn letter_of(conn: &mut DbConnection, document: &DocumentRecord) -> Result<markup::Letter, AppError> {
    let bytes = store::content(conn, &text_file_id(&document.id))?;
    if hex::encode(Sha256::digest(&bytes)) != document.text_sha256 {
        return Err(AppError::Internal(
            "a stored letter does not match the hash in its event; run `foi-tracker audit verify`".into(),
        ));
    }
    let text = String::from_utf8(bytes).map_err(AppError::internal)?;
    markup::parse(&text).map_err(AppError::internal)
}

/// The letterhead in force for agency `code`, and the agency that set it (None: nobody up the
/// tree did, and the defaults apply).
pub fn letterhead_of(
    conn: &mut DbConnection,
    caller: Caller<'_>,
    code: &str,
) -> Result<(Letterhead, Option<String>), AppError> {
    let agency = crate::service::directory::in_scope(conn, caller, code, crate::service::directory::Named::InPath)?;
    for ancestor in lineage(conn, &agency.path)?.iter().rev() {
        if let Some(body) = store::letterhead(conn, &ancestor.id)? {
            return Ok((serde_json::from_str(&body).map_err(AppError::internal)?, Some(ancestor.code.clone())));
        }
    }
    Ok((Letterhead::default(), None))
}

/// Sets agency `code`'s letterhead (administrators of its subtree).
pub fn set_letterhead(
    conn: &mut DbConnection,
    caller: Caller<'_>,
    code: &str,
    letterhead: &Letterhead,
) -> Result<(), AppError> {
    caller.require_admin("set letterheads")?;
    let agency = crate::service::directory::in_scope(conn, caller, code, crate::service::directory::Named::InPath)?;
    letterhead.validate().map_err(AppError::Validation)?;
    let body = serde_json::to_string(letterhead).map_err(AppError::internal)?;
    store::put_letterhead(conn, &agency.id, &body, caller.user_id())
}

fn known_template(name: &str) -> Result<&'static str, AppError> {
    TEMPLATE_NAMES.iter().find(|n| **n == name).copied().ok_or_else(|| {
        AppError::NotFound(format!("no template `{name}`; the templates are {}", TEMPLATE_NAMES.join(", ")))
    })
}

/// The template `name` in force for agency `code`: its text and where it came from.
pub fn template_of(
    conn: &mut DbConnection,
    caller: Caller<'_>,
    code: &str,
    name: &str,
) -> Result<(String, String), AppError> {
    let name = known_template(name)?;
    let agency = crate::service::directory::in_scope(conn, caller, code, crate::service::directory::Named::InPath)?;
    let mut found = stationery(conn, &agency.path)?;
    Ok(found.templates.remove(name).expect("every name"))
}

/// Within `server.max_body_bytes` (64 KiB) with the JSON around it.
pub const MAX_TEMPLATE_BYTES: usize = 48 * 1024;

/// Sets agency `code`'s own version of template `name` (administrators of its subtree), after
/// rendering it for every letter it can make (both regimes; for the reply and its remedies, every
/// outcome): a template that fails for any is refused with the error.
pub fn set_template(
    conn: &mut DbConnection,
    caller: Caller<'_>,
    code: &str,
    name: &str,
    body: &str,
) -> Result<String, AppError> {
    caller.require_admin("change letter templates")?;
    let name = known_template(name)?;
    let agency = crate::service::directory::in_scope(conn, caller, code, crate::service::directory::Named::InPath)?;
    if body.len() > MAX_TEMPLATE_BYTES {
        return Err(AppError::validation("body", format!("must be at most {MAX_TEMPLATE_BYTES} bytes")));
    }
    let mut templates = stationery(conn, &agency.path)?.templates;
    templates.insert(name, (body.to_owned(), agency.code.clone()));
    let kinds: Vec<DocumentKind> = match name {
        "remedies" => vec![DocumentKind::Reply],
        other => vec![DocumentKind::parse(other).expect("a letter's template")],
    };
    for kind in kinds {
        for context in sample_contexts(kind) {
            let text = render(&templates, kind.as_str(), &context)
                .map_err(|e| AppError::validation("body", format!("the template does not render: {}", e.0)))?;
            markup::parse(&text).map_err(|e| {
                AppError::validation("body", format!("the template renders a letter that is not valid markup: {e}"))
            })?;
        }
    }
    store::put_template(conn, &agency.id, name, body, caller.user_id())
}

/// Removes agency `code`'s own version of template `name`: the next one up the tree applies again.
pub fn remove_template(conn: &mut DbConnection, caller: Caller<'_>, code: &str, name: &str) -> Result<(), AppError> {
    caller.require_admin("change letter templates")?;
    let name = known_template(name)?;
    let agency = crate::service::directory::in_scope(conn, caller, code, crate::service::directory::Named::InPath)?;
    if !store::delete_template(conn, &agency.id, name)? {
        return Err(AppError::NotFound(format!("agency {code} has no template `{name}` of its own")));
    }
    Ok(())
}

/// Contexts with every field filled, for checking a template before it is used: both regimes, and
/// for the reply every outcome.
pub fn sample_contexts(kind: DocumentKind) -> Vec<serde_json::Value> {
    let day = NaiveDate::from_ymd_opt(2026, 3, 2).expect("valid date");
    let mut out = Vec::new();
    for regime in ["ogi2008", "ogi2019"] {
        let outcomes: Vec<Option<Outcome>> =
            if kind == DocumentKind::Reply { Outcome::all().into_iter().map(Some).collect() } else { vec![None] };
        for outcome in outcomes {
            out.push(json!({
                "agency": {"name": "某市人民政府办公室", "address": "某市某路1号", "postcode": "124000", "phone": "0427-1234567", "contact": "政府信息公开科", "seal": "（印章）"},
                "issued_on": chinese_date(day),
                "regime": regime,
                "statute": law::STATUTE,
                "basis": legal_basis(regime, kind, outcome.as_ref()).unwrap_or_default(),
                "case": {"tracking_number": "PJ-2026-00001", "received_on": chinese_date(day), "channel": "信函", "description": "某项政府信息", "delivery_form": "纸质"},
                "applicant": {"name": "张三", "masked_name": "张*", "kind": "natural_person"},
                "deadline": {"due_on": chinese_date(day), "days": "二十"},
                "correction": {"matters": "请写明文件名称", "respond_by": chinese_date(day)},
                "extension": {"days": "二十", "original_due_on": chinese_date(day), "due_on": chinese_date(day), "reason": "需要检索的档案较多"},
                "consultation": {"third_party": "某公司", "matters": "某项信息", "respond_within": "十五个工作日", "due_on": ""},
                "reply": {
                    "outcome": outcome.as_ref().map(|o| o.kind().as_str()).unwrap_or(""),
                    "reason": outcome.as_ref().and_then(|o| o.reason()).unwrap_or(""),
                    "already_public": outcome.as_ref().is_some_and(|o| o.already_public()),
                    "content": "具体内容", "other_agency": "某局", "earlier_reference": "PJ-2025-00001", "earlier_answered_on": chinese_date(day),
                },
                "remedies": {"reconsideration_body": "某市人民政府", "court": "某区人民法院", "reconsideration_days": law::RECONSIDERATION_PERIOD, "litigation_period": "六个月"},
            }));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builtin() -> BTreeMap<&'static str, (String, String)> {
        TEMPLATE_NAMES.iter().map(|n| (*n, (builtin_template(n).unwrap().to_owned(), "builtin".to_owned()))).collect()
    }

    #[test]
    fn every_builtin_template_renders_every_letter_it_can_make() {
        for kind in DocumentKind::ALL {
            for context in sample_contexts(*kind) {
                let text = render(&builtin(), kind.as_str(), &context).unwrap_or_else(|e| panic!("{kind}: {}", e.0));
                let letter = markup::parse(&text).unwrap_or_else(|e| panic!("{kind}: {e}\n{text}"));
                assert_eq!(letter.title, kind.title(), "{kind}");
                assert!(letter
                    .blocks
                    .iter()
                    .any(|b| matches!(b, markup::Block::Signature(s) if s == "某市人民政府办公室")));
            }
        }
    }

    #[test]
    fn a_hostile_value_stays_inside_its_line() {
        let mut context = sample_contexts(DocumentKind::Receipt).remove(1);
        context["case"]["description"] = json!("正常内容\n@title 伪造的标题\n@signature 假机关");
        let text = render(&builtin(), "receipt", &context).unwrap();
        let letter = markup::parse(&text).unwrap();
        assert_eq!(letter.title, "政府信息公开申请登记回执");
        let signatures: Vec<_> = letter.blocks.iter().filter(|b| matches!(b, markup::Block::Signature(_))).collect();
        assert_eq!(signatures.len(), 1);
        assert!(letter.plain_text().contains("正常内容 @title 伪造的标题 @signature 假机关"));
    }

    #[test]
    fn a_template_with_an_unknown_field_fails_instead_of_printing_nothing() {
        let mut templates = builtin();
        templates.insert("receipt", ("@title x\n{{ case.no_such_field }}".into(), "PJ".into()));
        let error = render(&templates, "receipt", &sample_contexts(DocumentKind::Receipt)[0]).unwrap_err();
        assert!(error.0.contains("undefined"), "{}", error.0);
    }
}
