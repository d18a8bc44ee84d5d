//! The case page: the case as the user may read it, how its deadline was counted, its timeline, and
//! a small form for each action the user could take now (`allowed_actions`), posted to the same
//! service functions as `POST /api/v1/cases/{id}/actions` and `/clock-events`.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{NaiveDate, Utc};
use serde_json::{json, Map, Value};

use super::queue::{nav, CaseLine};
use super::{check_csrf, field, form_fields, html, options, ConsoleError, Me, Nav, Tr, Visitor};
use crate::api::cases::{CaseResponse, ReportRows};
use crate::db::calendar::CalendarCache;
use crate::db::users::UserFilter;
use crate::db::{Db, DbConnection};
use crate::domain::deadline::{Explanation, SkipReason};
use crate::domain::fees::CostRates;
use crate::domain::intake::{ApplicantKind, Channel, DeliveryForm, ReceiptBasis};
use crate::domain::outcome::{y2021_outcome, Outcome};
use crate::domain::role::{Principal, Role};
use crate::domain::workflow::{Action, AppealKind, AppealOutcome, ServiceMethod};
use crate::error::AppError;
use crate::service::cases::CaseDetails;
use crate::service::Caller;
use crate::service::{actions, cases, clock};

/// What a field of an action form holds.
pub enum Input {
    Date,
    Number {
        min: i64,
    },
    Text,
    LongText,
    /// A choice: (value, label).
    Choice(Vec<(String, String)>),
}

pub struct FormField {
    /// Where the value goes in the action's (or clock event's) JSON: `on`, `basis.pages`, ...
    pub key: String,
    /// A key of the console's words.
    pub label: &'static str,
    pub input: Input,
    pub required: bool,
    /// What the form shows first (today for a required date, the current value in an amendment).
    pub value: String,
    /// Sent only when another field (`key`) holds one of these values: the fields of one fee basis
    /// or of one kind of period.
    pub when: Option<(&'static str, &'static [&'static str])>,
    /// Sent as a JSON number (a number input, or a choice of numbers).
    pub numeric: bool,
}

impl FormField {
    fn new(key: &str, label: &'static str, input: Input) -> FormField {
        FormField {
            key: key.to_owned(),
            label,
            input,
            required: true,
            value: String::new(),
            when: None,
            numeric: false,
        }
    }

    fn optional(mut self) -> FormField {
        self.required = false;
        self
    }

    fn numeric(mut self) -> FormField {
        self.numeric = true;
        self
    }

    fn when(mut self, key: &'static str, values: &'static [&'static str]) -> FormField {
        self.when = Some((key, values));
        self
    }

    fn showing(mut self, value: impl Into<String>) -> FormField {
        self.value = value.into();
        self
    }

    /// The form field's HTML name.
    pub fn name(&self) -> String {
        format!("f.{}", self.key)
    }

    /// Its HTML id within the form of `action`.
    pub fn id(&self, action: &Action) -> String {
        format!("{}-{}", action.as_str(), self.key.replace('.', "-"))
    }
}

/// An action the user may take now, with its form.
pub struct ActionForm {
    pub action: Action,
    pub label: String,
    pub fields: Vec<FormField>,
    /// Whether the form asks for a reason (办理意见); `reason_required` when the law needs one.
    pub reason_required: bool,
    /// The form shows the current values and sends only the ones changed (an amendment). Fields
    /// under `applicant.` go together: the API replaces the applicant whole.
    pub changes_only: bool,
    /// A hint under the form's title.
    pub hint: Option<&'static str>,
    /// Opened and filled in again (the input of a post that found the session ended).
    pub open: bool,
    pub reason: String,
}

/// What the forms need to know of the case and the office.
struct FormContext<'a> {
    today: String,
    /// The agency's active handlers, for assigning.
    handlers: Vec<(String, String)>,
    /// The agency's topics, for an amendment.
    topics: Vec<(String, String)>,
    case: &'a CaseResponse,
    role: Role,
}

fn date(key: &str, label: &'static str, ctx: &FormContext) -> FormField {
    FormField::new(key, label, Input::Date).showing(ctx.today.clone())
}

fn choice(key: &str, label: &'static str, options: Vec<(String, String)>) -> FormField {
    FormField::new(key, label, Input::Choice(options))
}

fn number(key: &str, label: &'static str, min: i64) -> FormField {
    FormField::new(key, label, Input::Number { min }).numeric()
}

fn text(key: &str, label: &'static str) -> FormField {
    FormField::new(key, label, Input::Text)
}

/// Every reply outcome a handler may draft, each with the 2021 table's row it is counted in.
fn outcome_choices() -> Vec<(String, String)> {
    Outcome::all()
        .into_iter()
        .filter(|o| o.is_reply() && !matches!(o, Outcome::NotProcessed { repeat_of: Some(_), .. }))
        .map(|o| {
            let rows = ReportRows::of(&o);
            let mut label = y2021_outcome(&o).def().label.trim().to_owned();
            if o.already_public() {
                label.push_str("（属于已主动公开范围）");
            }
            if rows.pre2019 != label {
                label = format!("{label} — 2021年表：{}", rows.y2021);
            }
            (serde_json::to_string(&o).unwrap_or_default(), label)
        })
        .collect()
}

/// Who a consultation asks (2019 Art. 32, 33).
fn consulted_parties(tr: &Tr) -> Vec<(String, String)> {
    use crate::domain::deadline::ConsultedParty;
    options(ConsultedParty::ALL, ConsultedParty::as_str, |p| tr.code("party", p.as_str()))
}

/// The grounds for not processing a request, each with the 2021 table's row it is counted in.
fn not_processed_grounds() -> Vec<(String, String)> {
    use crate::domain::outcome::NotProcessedReason;
    NotProcessedReason::ALL
        .iter()
        .map(|&reason| {
            let outcome = Outcome::NotProcessed { reason, repeat_of: None, repeat_of_earlier: None };
            (reason.as_str().to_owned(), y2021_outcome(&outcome).def().label.trim().to_owned())
        })
        .collect()
}

/// The reconsiderations and lawsuits decided `corrected`: only their decisions order a new reply (a
/// complaint's does not).
fn correcting_appeals(case: &CaseResponse, tr: &Tr) -> Vec<(String, String)> {
    case.appeals
        .iter()
        .flatten()
        .filter(|a| a.outcome == AppealOutcome::Corrected && a.kind != AppealKind::Complaint)
        .map(|a| {
            let decided = a.decided_on.map(|d| tr.date(&d)).unwrap_or_default();
            (a.number.to_string(), format!("#{} {} {decided}", a.number, tr.code("appeal_kind", a.kind.as_str())))
        })
        .collect()
}

/// The amendment form: every field the user may correct, showing its current value. The receipt
/// date and its basis are the office head's (Art. 31); personal data the user cannot see is not
/// offered.
fn amendment_fields(ctx: &FormContext, tr: &Tr) -> Vec<FormField> {
    let case = ctx.case;
    let mut fields = vec![];
    if !case.personal_data_masked {
        let a = &case.applicant;
        let kinds = options(ApplicantKind::ALL, ApplicantKind::as_str, |k| tr.applicant_kind(&k));
        fields.push(choice("applicant.kind", "applicant_kind", kinds).showing(a.kind.as_str()));
        fields.push(text("applicant.name", "name").showing(a.name.clone()));
        for (key, label, value) in [
            ("applicant.id_number", "id_number", &a.id_number),
            ("applicant.phone", "phone", &a.phone),
            ("applicant.email", "email", &a.email),
            ("applicant.address", "address", &a.address),
        ] {
            fields.push(text(key, label).optional().showing(value.clone().unwrap_or_default()));
        }
    }
    let channels = options(Channel::ALL, Channel::as_str, |c| tr.channel(&c));
    fields.push(choice("channel", "channel", channels).showing(case.channel.as_str()));
    let deliveries = options(DeliveryForm::ALL, DeliveryForm::as_str, |d| tr.code("delivery", d.as_str()));
    fields.push(choice("delivery_form", "delivery_form", deliveries).showing(case.delivery_form.as_str()));
    fields.push(FormField::new("description", "description", Input::LongText).showing(case.description.clone()));
    fields
        .push(choice("topic", "topic", ctx.topics.clone()).optional().showing(case.topic.clone().unwrap_or_default()));
    if ctx.role == Role::Approver {
        fields.push(date("received_on", "received_on", ctx).showing(case.received_on.to_string()));
        let bases =
            options(ReceiptBasis::ALL, ReceiptBasis::as_str, |b| super::register::basis_label(tr, b).to_owned());
        fields.push(choice("receipt_basis", "receipt_basis", bases).showing(case.receipt_basis.as_str()));
        fields.push(
            text("receipt_evidence", "receipt_evidence")
                .optional()
                .showing(case.receipt_evidence.clone().unwrap_or_default()),
        );
    }
    fields
}

const REPEAT: &[&str] = &["repeat_request"];

/// The form for `action`.
fn form_for(action: Action, tr: &Tr, ctx: &FormContext) -> ActionForm {
    use Action as A;
    let methods = || options(ServiceMethod::ALL, ServiceMethod::as_str, |m| tr.code("method", m.as_str()));
    let mut hint = None;
    let fields = match action {
        A::Assign => vec![choice("handler_id", "handler_id", ctx.handlers.clone())],
        A::DraftReply | A::AnswerOnTheSpot => vec![choice("outcome", "outcome", outcome_choices())],
        A::ReturnDraft | A::ApproveReply | A::Archive => vec![],
        A::Serve => vec![choice("method", "service_method", methods()), date("on", "on_date", ctx)],
        A::Withdraw => vec![date("on", "on_date", ctx)],
        A::FileAppeal => vec![
            choice(
                "kind",
                "appeal_kind",
                options(AppealKind::ALL, AppealKind::as_str, |k| tr.code("appeal_kind", k.as_str())),
            ),
            date("filed_on", "filed_on", ctx),
            text("reference", "appeal_reference").optional(),
        ],
        A::DecideAppeal => vec![
            number("number", "appeal_number", 1),
            choice(
                "outcome",
                "appeal_outcome",
                options(AppealOutcome::ALL, AppealOutcome::as_str, |o| tr.code("appeal_outcome", o.as_str())),
            ),
            date("decided_on", "decided_on", ctx),
        ],
        A::ReopenForNewReply => {
            hint = Some("hint_new_reply");
            vec![
                choice("appeal_number", "appeal_number", correcting_appeals(ctx.case, tr)).numeric(),
                date("on", "decision_effective_on", ctx),
                choice(
                    "period.kind",
                    "new_reply_period",
                    vec![
                        ("working_days".into(), tr.t("period_working_days").into()),
                        ("date".into(), tr.t("period_date").into()),
                    ],
                ),
                date("period.from", "period_from", ctx).optional().when("period.kind", &["working_days"]),
                number("period.days", "period_days", 1).optional().when("period.kind", &["working_days"]),
                date("period.due_on", "period_due_on", ctx).optional().showing("").when("period.kind", &["date"]),
            ]
        }
        A::AssessFee => {
            hint = Some("hint_fee");
            vec![
                choice(
                    "basis.method",
                    "fee_method",
                    ["per_request", "per_page", "cost"].map(|m| (m.to_owned(), tr.code("fee_method", m))).to_vec(),
                ),
                number("basis.pages", "pages", 0).optional().when("basis.method", &["per_page", "cost"]),
                number("basis.search_items", "search_items", 0).optional().when("basis.method", &["cost"]),
                number("basis.postage_fen", "postage_fen", 0).optional().when("basis.method", &["cost"]),
                number("waived_fen", "waived_fen", 0).optional(),
                text("waiver_reason", "waiver_reason").optional(),
            ]
        }
        A::AmendRegistration => amendment_fields(ctx, tr),
        A::ExtensionApproved => vec![
            date("on", "on_date", ctx),
            number("days", "extension_days", 1),
            text("reason", "reason"),
            date("applicant_notified_on", "applicant_notified_on", ctx),
        ],
        A::CorrectionReceived | A::ConsultationAnswered | A::CorrectionLapsed | A::FeeNoticeSent | A::FeeLapsed => {
            vec![date("on", "on_date", ctx)]
        }
        A::CorrectionNoticeSent => vec![date("on", "on_date", ctx), date("respond_by", "respond_by", ctx)],
        A::ConsultationSent => vec![date("on", "on_date", ctx), choice("party", "party", consulted_parties(tr))],
        A::DelaySet => vec![date("on", "on_date", ctx), date("until", "until", ctx)],
        A::FeePaid => vec![
            date("on", "on_date", ctx),
            number("amount_fen", "amount_fen", 0),
            text("receipt_number", "receipt_number").optional(),
        ],
        A::NotProcess => {
            hint = Some("hint_repeat");
            vec![
                date("on", "on_date", ctx),
                choice("ground", "ground", not_processed_grounds()),
                text("repeat_of", "repeat_of").optional().when("ground", REPEAT),
                text("repeat_of_earlier.reference", "earlier_reference").optional().when("ground", REPEAT),
                date("repeat_of_earlier.answered_on", "earlier_answered_on", ctx)
                    .optional()
                    .showing("")
                    .when("ground", REPEAT),
            ]
        }
        A::Transfer => vec![date("on", "on_date", ctx), text("to_agency", "to_agency")],
        A::VoidDuplicate => vec![text("duplicate_of", "duplicate_of")],
    };
    ActionForm {
        action,
        label: tr.action(&action),
        fields,
        reason_required: action.needs_reason(),
        changes_only: action == A::AmendRegistration,
        hint,
        open: false,
        reason: String::new(),
    }
}

/// A line of the timeline.
pub struct TimelineEntry {
    pub at: String,
    pub what: String,
    pub actor: String,
    pub details: String,
}

#[derive(askama::Template)]
#[template(path = "console/case.html")]
struct CasePage {
    tr: Tr,
    nav: Option<Nav>,
    line: CaseLine,
    version: String,
    explanation: Option<Explanation>,
    skipped: Vec<(String, String)>,
    made_up: Vec<(String, String)>,
    timeline: Vec<TimelineEntry>,
    forms: Vec<ActionForm>,
    notice: Option<&'static str>,
    error: Option<String>,
    field_errors: Vec<(String, String)>,
    draft_label: Option<String>,
    outcome_label: Option<String>,
    papers: super::papers::PapersView,
}

impl CasePage {
    fn appeals(&self) -> Vec<String> {
        self.line
            .case
            .appeals
            .iter()
            .flatten()
            .map(|a| serde_json::to_value(a).map(|v| detail_text(&self.tr, &v)).unwrap_or_default())
            .collect()
    }
}

/// The console's word for a key of an event's or appeal's JSON, where it is not a word itself.
const DETAIL_WORDS: &[(&str, &str)] = &[
    ("on", "on_date"),
    ("method", "service_method"),
    ("days", "extension_days"),
    ("number", "appeal_number"),
    ("kind", "appeal_kind"),
    ("reference", "appeal_reference"),
    ("due_on", "period_due_on"),
    ("duplicate_of_number", "duplicate_of"),
    ("handler_name", "handler"),
    ("period", "new_reply_period"),
];

/// A `deadline_set` record in the user's words: the reply deadline now (provisional while a year's
/// holiday notice is missing), how the case closed, and the deadline before if it moved.
fn deadline_text(tr: &Tr, payload: &Value) -> Option<String> {
    use crate::domain::events::DeadlineChange;
    let change: DeadlineChange = serde_json::from_value(payload.clone()).ok()?;
    let zh = tr.lang() == super::Lang::Zh;
    let d = &change.deadline;
    let mut text = match d.final_due_on {
        Some(due) => format!("{}{}{}", tr.t("final_due_on"), if zh { "：" } else { ": " }, tr.date(&due)),
        None => tr.t("stopped").to_owned(),
    };
    if d.provisional {
        text.push_str(if zh { "（暂定）" } else { " (provisional)" });
    }
    if let (Some(on), Some(closing)) = (d.closed_on, d.closed_as) {
        let how =
            if zh { crate::domain::labels::closing(closing).to_owned() } else { closing.as_str().replace('_', " ") };
        text.push_str(&format!("{}{how} {}", if zh { "；" } else { "; " }, tr.date(&on)));
    }
    if let Some(before) = change.previous.as_ref().and_then(|p| p.final_due_on).filter(|b| Some(*b) != d.final_due_on) {
        text.push_str(&format!("{}{}", if zh { "（原期限：" } else { " (was " }, tr.date(&before)));
        text.push_str(if zh { "）" } else { ")" });
    }
    Some(text)
}

/// An event's or appeal's facts in the user's words: `日期：2026-12-04；送达方式：邮寄送达`, outcomes by
/// their report row, codes by their labels, an amendment as `field: before → after`. Ids and the
/// type (the timeline's own column) are left out.
fn detail_text(tr: &Tr, value: &Value) -> String {
    let (colon, semicolon, comma) = match tr.lang() {
        super::Lang::Zh => ("：", "；", "，"),
        super::Lang::En => (": ", "; ", ", "),
    };
    let label = |key: &str| -> String {
        match DETAIL_WORDS.iter().find(|(k, _)| *k == key) {
            Some((_, word)) => tr.t(word).to_owned(),
            None if super::text::is_word(key) => tr.t(key).to_owned(),
            None => key.replace('_', " "),
        }
    };
    let text = |key: &str, v: &Value| -> String {
        match (key, v) {
            ("outcome", Value::Object(_)) => serde_json::from_value::<Outcome>(v.clone())
                .map(|o| outcome_label(&o))
                .unwrap_or_else(|_| v.to_string()),
            ("outcome", Value::String(s)) => tr.code("appeal_outcome", s),
            ("method", Value::String(s)) => tr.code("method", s),
            // An applicant's kind, or an appeal's.
            ("kind", Value::String(s)) => {
                ApplicantKind::parse(s).map_or_else(|| tr.code("appeal_kind", s), |k| tr.applicant_kind(&k))
            }
            ("party", Value::String(s)) => tr.code("party", s),
            ("channel", Value::String(s)) => Channel::parse(s).map_or(s.clone(), |c| tr.channel(&c)),
            ("delivery_form", Value::String(s)) => tr.code("delivery", s),
            (_, Value::String(s)) => s.clone(),
            // A nested object (an applicant) reads as one item: its parts joined by commas.
            (_, Value::Object(_)) => detail_text(tr, v).replace(semicolon, comma),
            (_, other) => other.to_string(),
        }
    };
    let Value::Object(map) = value else { return text("", value) };
    map.iter()
        .filter(|(k, v)| !v.is_null() && *k != "type" && !k.ends_with("_id") && !k.starts_with("tracking_"))
        .map(|(k, v)| match (k.as_str(), v) {
            ("changes", Value::Object(fields)) => fields
                .iter()
                .map(|(field, change)| {
                    let side =
                        |s: &str| change.get(s).filter(|v| !v.is_null()).map_or("—".to_owned(), |v| text(field, v));
                    format!("{}{colon}{} → {}", label(field), side("old"), side("new"))
                })
                .collect::<Vec<_>>()
                .join(semicolon),
            _ => format!("{}{colon}{}", label(k), text(k, v)),
        })
        .collect::<Vec<_>>()
        .join(semicolon)
}

fn outcome_label(outcome: &Outcome) -> String {
    let mut label = y2021_outcome(outcome).def().label.trim().to_owned();
    if let Some(reason) = outcome.reason() {
        label.push_str(&format!(" ({reason})"));
    }
    label
}

/// The forms of `actions` on the case, with what they offer: the agency's handlers to assign, its
/// topics for an amendment.
fn forms_for(
    conn: &mut DbConnection,
    user: &Principal,
    details: &CaseDetails,
    case: &CaseResponse,
    actions: &[Action],
    tr: Tr,
    today: NaiveDate,
) -> Result<Vec<ActionForm>, AppError> {
    let handlers: Vec<(String, String)> = if actions.contains(&Action::Assign) {
        let filter = UserFilter {
            agency_exact: Some(details.record.agency_path.clone()),
            roles: vec![Role::Handler],
            active: Some(true),
            ..UserFilter::default()
        };
        crate::db::users::list_filtered(conn, &filter)?.into_iter().map(|(u, _)| (u.id, u.name)).collect()
    } else {
        vec![]
    };
    let topics = if actions.contains(&Action::AmendRegistration) {
        crate::service::directory::topics(conn, Caller::User(user), &case.agency)?
            .into_iter()
            .map(|t| (t.code, t.label))
            .collect()
    } else {
        vec![]
    };
    let ctx = FormContext { today: today.to_string(), handlers, topics, case, role: user.role };
    Ok(actions.iter().map(|&a| form_for(a, &tr, &ctx)).collect())
}

/// Reads everything the case page shows, as `me` may see it.
fn read_page(
    conn: &mut DbConnection,
    calendars: &CalendarCache,
    tr: Tr,
    me: &Me,
    id: &str,
) -> Result<CasePage, AppError> {
    let user = &me.principal;
    let record = cases::visible(conn, user, id)?;
    let details = cases::details(conn, calendars, user, record)?;
    let case = CaseResponse::of(&details, user)?;
    let version = cases::etag(&details.record);
    let today = crate::domain::china_date(Utc::now());
    // A history the current rules no longer compute keeps its stored deadline and no explanation.
    let explanation = clock::explained(conn, &details.record, &details.rules, today).ok().map(|e| e.explanation);
    let (skipped, made_up) = match &explanation {
        Some(e) => (
            e.skipped_days
                .iter()
                .map(|d| {
                    let why = match (d.reason, &d.name) {
                        (_, Some(name)) => name.clone(),
                        (SkipReason::Weekend, None) => {
                            if tr.lang() == super::Lang::Zh { "周末" } else { "weekend" }.to_owned()
                        }
                        _ => String::new(),
                    };
                    (tr.date(&d.date), why)
                })
                .collect(),
            e.make_up_working_days.iter().map(|d| (tr.date(&d.date), d.name.clone())).collect(),
        ),
        None => (vec![], vec![]),
    };
    let show = user.role.sees_personal_data();
    let mut names: HashMap<String, String> = HashMap::new();
    let mut timeline = Vec::new();
    for row in crate::db::cases::events(conn, &details.record.row.id)? {
        let event = crate::api::cases::event_response(row, show)?;
        let actor = match &event.actor_id {
            None => "—".to_owned(),
            Some(id) => match names.get(id) {
                Some(name) => name.clone(),
                None => {
                    let name = crate::db::users::find(conn, id)?.map(|(u, _)| u.name).unwrap_or_else(|| id.clone());
                    names.insert(id.clone(), name.clone());
                    name
                }
            },
        };
        // Clock records nest the event; workflow records carry its `type` at the top.
        let code = event
            .payload
            .get("event")
            .and_then(|e| e.get("type"))
            .or_else(|| event.payload.get("type"))
            .and_then(Value::as_str);
        let kind = tr.event(code.unwrap_or(&event.kind));
        let at = event.occurred_at.with_timezone(&crate::domain::china_offset()).format("%Y-%m-%d %H:%M").to_string();
        let details = match event.kind.as_str() {
            "received" => String::new(),
            "deadline_set" => deadline_text(&tr, &event.payload).unwrap_or_default(),
            "attached" => paper_text(&event.payload),
            "document_issued" => letter_text(&event.payload),
            _ => detail_text(&tr, event.payload.get("event").unwrap_or(&event.payload)),
        };
        timeline.push(TimelineEntry { at, what: kind, actor, details });
    }
    let forms = forms_for(conn, user, &details, &case, &details.allowed_actions, tr, today)?;
    let papers = super::papers::PapersView::of(&case, me.principal.role.sees_personal_data());
    let draft_label = case.draft_outcome.as_ref().map(outcome_label);
    let outcome_label = case.outcome.as_ref().map(outcome_label);
    let nav = nav(conn, calendars, me, None)?;
    Ok(CasePage {
        tr,
        nav: Some(nav),
        line: CaseLine::of(case),
        version,
        explanation,
        skipped,
        made_up,
        timeline,
        forms,
        notice: None,
        error: None,
        field_errors: vec![],
        draft_label,
        outcome_label,
        papers,
    })
}

/// An attachment in the timeline: its kind and file name.
fn paper_text(payload: &Value) -> String {
    let kind = payload["kind"].as_str().and_then(crate::domain::papers::AttachmentKind::parse);
    format!("{}：{}", kind.map_or("", |k| k.label()), payload["filename"].as_str().unwrap_or(""))
}

/// A letter in the timeline: its number, title and version.
fn letter_text(payload: &Value) -> String {
    let kind = payload["kind"].as_str().and_then(crate::domain::letters::DocumentKind::parse);
    format!(
        "{} {}（第{}版）",
        payload["number"].as_str().unwrap_or(""),
        kind.map_or("", |k| k.title()),
        payload["version"].as_i64().unwrap_or(1)
    )
}

/// GET /cases/{id}.
pub async fn show(
    req: HttpRequest,
    path: web::Path<String>,
    db: web::Data<Db>,
    calendars: web::Data<CalendarCache>,
) -> Result<HttpResponse, ConsoleError> {
    let (tr, me) = Visitor::of(&req, &db).await?.require(&req)?;
    let mut page = db
        .run(move |conn| read_page(conn, &calendars, tr, &me, &path))
        .await
        .map_err(|e| ConsoleError::from_app(e, tr.lang()))?;
    if req.query_string().contains("done=1") {
        page.notice = Some("done");
    } else if req.query_string().contains("unchanged=1") {
        page.notice = Some("unchanged");
    }
    Ok(html(StatusCode::OK, &page))
}

/// The case page with the form a post carried through a sign-in (its session had ended) opened and
/// filled in again, at the version the user had read: confirming it still meets a change made
/// meanwhile (412). If the action is no longer open to the user, the page says the case changed.
pub async fn refill(
    db: &Db,
    calendars: &web::Data<CalendarCache>,
    tr: Tr,
    me: Me,
    id: String,
    fields: &[(String, String)],
) -> Result<HttpResponse, ConsoleError> {
    let calendars = calendars.clone();
    let mut page = db
        .run(move |conn| read_page(conn, &calendars, tr, &me, &id))
        .await
        .map_err(|e| ConsoleError::from_app(e, tr.lang()))?;
    let posted = field(fields, "action").and_then(Action::parse);
    match page.forms.iter_mut().find(|f| Some(f.action) == posted) {
        Some(form) => {
            form.open = true;
            for f in &mut form.fields {
                if let Some((_, value)) = fields.iter().find(|(k, _)| *k == f.name()) {
                    f.value = value.clone();
                }
            }
            form.reason = fields.iter().find(|(k, _)| k == "reason").map(|(_, v)| v.clone()).unwrap_or_default();
            if let Some(version) = field(fields, "version") {
                page.version = version.to_owned();
            }
            page.notice = Some("form_refilled");
        }
        None => page.notice = Some("conflict"),
    }
    Ok(html(StatusCode::OK, &page))
}

/// The action's JSON from the form's fields, as the form defines them: numbers as numbers, an
/// outcome as the JSON its choice holds, dotted keys as nested objects, empty fields left out. An
/// amendment sends only what changed from the values it showed (`o.<key>`), and the applicant
/// whole if any of its fields changed.
fn action_json(form: &ActionForm, fields: &[(String, String)]) -> Value {
    let sent = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim()).unwrap_or("");
    let changed = |f: &FormField| sent(&f.name()) != sent(&format!("o.{}", f.key));
    let applicant_changed = form.fields.iter().any(|f| f.key.starts_with("applicant.") && changed(f));
    let mut object = Map::new();
    object.insert("type".into(), json!(form.action.as_str()));
    for f in &form.fields {
        if form.changes_only && !(if f.key.starts_with("applicant.") { applicant_changed } else { changed(f) }) {
            continue;
        }
        if let Some((other, values)) = f.when {
            if !values.contains(&sent(&format!("f.{other}"))) {
                continue;
            }
        }
        let value = sent(&f.name());
        if value.is_empty() {
            continue;
        }
        let parsed = match &f.input {
            _ if f.numeric => value.parse::<i64>().map(Value::from).unwrap_or_else(|_| json!(value)),
            Input::Choice(_) if value.starts_with('{') => serde_json::from_str(value).unwrap_or_else(|_| json!(value)),
            _ => json!(value),
        };
        insert_at(&mut object, &f.key, parsed);
    }
    Value::Object(object)
}

/// Puts `value` at the dotted `path` (`basis.pages`), making the objects on the way.
fn insert_at(object: &mut Map<String, Value>, path: &str, value: Value) {
    match path.split_once('.') {
        None => {
            object.insert(path.to_owned(), value);
        }
        Some((head, rest)) => {
            let inner = object.entry(head.to_owned()).or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(inner) = inner {
                insert_at(inner, rest, value);
            }
        }
    }
}

/// A repeat request names the case it repeats by its tracking number; the API takes its id.
fn resolve_repeat_of(conn: &mut DbConnection, user: &Principal, body: &mut Value) -> Result<(), AppError> {
    let Some(named) = body.get("repeat_of").and_then(Value::as_str).map(str::to_owned) else { return Ok(()) };
    let found = actions::named_case(conn, user, &named)?.ok_or_else(|| {
        AppError::validation("action.repeat_of", format!("no case numbered `{named}` in your agencies"))
    })?;
    body["repeat_of"] = json!(found.row.id);
    Ok(())
}

/// POST /cases/{id}/act: one action from the case page, at the version the page showed. A change
/// made meanwhile (412) shows the case as it is now with a clear message; a refused action shows
/// why beside the form.
pub async fn act(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
    db: web::Data<Db>,
    calendars: web::Data<CalendarCache>,
    fee_rates: web::Data<CostRates>,
) -> Result<HttpResponse, ConsoleError> {
    let id = path.into_inner();
    let fields = form_fields(&body);
    let visitor = Visitor::of(&req, &db).await?;
    let Some(me) = visitor.me else {
        // The session ended while the form was open: sign in again and get the form back, filled in.
        let next = format!("/cases/{id}");
        return Ok(super::auth::login_page(&visitor, Some(&next), super::draft_of(&fields), StatusCode::UNAUTHORIZED));
    };
    let tr = visitor.tr;
    check_csrf(&me, field(&fields, "csrf_token"), tr.lang())?;
    let kind = field(&fields, "action").unwrap_or_default().to_owned();
    let action = Action::parse(&kind)
        .ok_or_else(|| ConsoleError::page(StatusCode::UNPROCESSABLE_ENTITY, tr.lang(), "no such action"))?;
    let version = field(&fields, "version").map(str::to_owned);
    let reason = field(&fields, "reason").map(str::to_owned);
    let rates = **fee_rates;
    let case_id = id.clone();
    let calendars2 = calendars.clone();
    let user = me.principal.clone();
    let outcome = db
        .run(move |conn| {
            // The form as the page offered it to this user, to read the post by its fields.
            let record = cases::visible(conn, &user, &case_id)?;
            let details = cases::details(conn, &calendars2, &user, record)?;
            let case = CaseResponse::of(&details, &user)?;
            let today = crate::domain::china_date(Utc::now());
            let form = forms_for(conn, &user, &details, &case, &[action], tr, today)?.remove(0);
            let mut body = action_json(&form, &fields);
            if action.is_clock_event() {
                let event = serde_json::from_value(body).map_err(|e| AppError::validation("event", e.to_string()))?;
                let command = clock::Command { event, evidence: reason, override_reason: None };
                clock::record(conn, &calendars2, &user, (&case_id, version.as_deref(), None), command)?;
            } else {
                resolve_repeat_of(conn, &user, &mut body)?;
                let action = serde_json::from_value(body).map_err(|e| AppError::validation("action", e.to_string()))?;
                let command = actions::Command { action, reason, effective_on: None };
                let target = actions::Target { case_id: &case_id, if_match: version.as_deref(), lock_override: None };
                actions::act(conn, &calendars2, rates, &user, target, command)?;
            }
            Ok(())
        })
        .await;
    let what = tr.action(&action);
    answer(&db, &calendars, tr, me, id, what, outcome.map(|()| "done=1")).await
}

/// What a post from the case page comes to: the case page again (after a redirect) when it worked,
/// with `query` added; the page as it now stands with a clear message when the case changed meanwhile
/// (412) or the change was refused (`what` names what was refused).
pub async fn answer(
    db: &Db,
    calendars: &web::Data<CalendarCache>,
    tr: Tr,
    me: Me,
    id: String,
    what: String,
    outcome: Result<&str, AppError>,
) -> Result<HttpResponse, ConsoleError> {
    let calendars = calendars.clone();
    match outcome {
        Ok(query) => Ok(HttpResponse::SeeOther()
            .insert_header((actix_web::http::header::LOCATION, format!("/cases/{id}?{query}")))
            .finish()),
        Err(AppError::PreconditionFailed(_) | AppError::PreconditionRequired(_)) => {
            let mut page = db
                .run(move |conn| read_page(conn, &calendars, tr, &me, &id))
                .await
                .map_err(|e| ConsoleError::from_app(e, tr.lang()))?;
            page.notice = Some("conflict");
            Ok(html(StatusCode::PRECONDITION_FAILED, &page))
        }
        Err(
            error @ (AppError::Validation(_)
            | AppError::Conflict(_)
            | AppError::IllegalTransition(_)
            | AppError::Forbidden(_)
            | AppError::ReportLocked(_)
            | AppError::PayloadTooLarge(_)
            | AppError::UnsupportedMediaType(_)),
        ) => {
            let problem = crate::api::problem::Problem::from(&error);
            let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
            let mut page = db
                .run(move |conn| read_page(conn, &calendars, tr, &me, &id))
                .await
                .map_err(|e| ConsoleError::from_app(e, tr.lang()))?;
            page.error = Some(format!("{what}: {}", problem.detail));
            page.field_errors = problem.errors.unwrap_or_default().into_iter().map(|e| (e.path, e.message)).collect();
            Ok(html(status, &page))
        }
        Err(other) => Err(ConsoleError::from_app(other, tr.lang())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::outcome::NotProcessedReason;

    fn posted(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn form(action: Action, fields: Vec<FormField>) -> ActionForm {
        ActionForm {
            action,
            label: String::new(),
            fields,
            reason_required: false,
            changes_only: action == Action::AmendRegistration,
            hint: None,
            open: false,
            reason: String::new(),
        }
    }

    fn context_case() -> CaseResponse {
        serde_json::from_value(serde_json::json!({
            "id": "0190a7a0-0000-7000-8000-000000000001", "tracking_number": "PJ-2026-000001", "agency": "PJ",
            "state": "replied", "regime": "2019", "channel": "letter", "arrived_at": "2026-11-27T02:00:00Z",
            "received_on": "2026-11-27", "receipt_basis": "post_signed_for", "receipt_evidence": null,
            "applicant": {"kind": "natural_person", "name": "张三", "phone": "13800000000"},
            "personal_data_masked": false, "description": "道路", "delivery_form": "paper", "topic": null,
            "created_at": "2026-11-27T02:00:00Z", "updated_at": "2026-11-27T02:00:00Z",
            "deadline": {"due_on": "2026-12-25", "final_due_on": "2026-12-25", "provisional": false,
                "timeliness": {"status": "on_time", "replied_on": "2026-12-01"}},
            "version": 3, "fee": {"charged_fen": 0, "waived_fen": 0},
            "appeals": [{"number": 1, "kind": "reconsideration", "filed_on": "2026-12-01", "reference": null,
                "outcome": "corrected", "decided_on": "2026-12-03"},
                {"number": 2, "kind": "complaint", "filed_on": "2026-12-01", "reference": null,
                "outcome": "upheld", "decided_on": "2026-12-02"}],
            "re_replies": []
        }))
        .expect("a case response")
    }

    /// The forms' context for `case` as `role` sees it, on 2026-12-04.
    fn context(case: &CaseResponse, role: Role) -> FormContext<'_> {
        FormContext { today: "2026-12-04".into(), handlers: vec![], topics: vec![], case, role }
    }

    #[test]
    fn the_not_processed_form_offers_every_ground_with_its_report_row_and_the_repeat_fields_only_for_a_repeat() {
        let grounds = not_processed_grounds();
        assert_eq!(grounds.len(), NotProcessedReason::ALL.len());
        assert!(grounds.iter().all(|(_, label)| !label.is_empty()));
        let case = context_case();
        let ctx = context(&case, Role::Approver);
        let form = form_for(Action::NotProcess, &Tr(super::super::Lang::Zh), &ctx);
        let other =
            posted(&[("f.on", "2026-12-04"), ("f.ground", "not_this_agencys"), ("f.repeat_of", "PJ-2026-000001")]);
        assert_eq!(
            action_json(&form, &other),
            json!({"type": "not_process", "on": "2026-12-04", "ground": "not_this_agencys"})
        );
        let repeat = posted(&[
            ("f.on", "2026-12-04"),
            ("f.ground", "repeat_request"),
            ("f.repeat_of", ""),
            ("f.repeat_of_earlier.reference", "PJ-2018-7"),
            ("f.repeat_of_earlier.answered_on", "2018-05-02"),
        ]);
        assert_eq!(
            action_json(&form, &repeat),
            json!({"type": "not_process", "on": "2026-12-04", "ground": "repeat_request",
                "repeat_of_earlier": {"reference": "PJ-2018-7", "answered_on": "2018-05-02"}})
        );
    }

    #[test]
    fn an_action_form_becomes_the_apis_json() {
        let extension = form(
            Action::ExtensionApproved,
            vec![number("days", "extension_days", 1), text("reason", "reason"), text("receipt_number", "x").optional()],
        );
        let fields = posted(&[
            ("csrf_token", "x"),
            ("f.days", "5"),
            ("f.reason", " 需调档 "),
            ("f.receipt_number", " "),
            ("f.evil", "1"),
        ]);
        assert_eq!(
            action_json(&extension, &fields),
            json!({"type": "extension_approved", "days": 5, "reason": "需调档"})
        );
        let draft = form(Action::DraftReply, vec![choice("outcome", "outcome", outcome_choices())]);
        let fields = posted(&[("f.outcome", r#"{"kind":"disclosed","already_public":true}"#)]);
        assert_eq!(
            action_json(&draft, &fields),
            json!({"type": "draft_reply", "outcome": {"kind": "disclosed", "already_public": true}})
        );
    }

    #[test]
    fn a_fee_sends_only_the_fields_of_its_basis() {
        let case = context_case();
        let ctx = context(&case, Role::Handler);
        let form = form_for(Action::AssessFee, &Tr(super::super::Lang::Zh), &ctx);
        let all = |method: &str| {
            posted(&[
                ("f.basis.method", method),
                ("f.basis.pages", "12"),
                ("f.basis.search_items", "2"),
                ("f.basis.postage_fen", "800"),
                ("f.waived_fen", ""),
            ])
        };
        assert_eq!(
            action_json(&form, &all("per_request")),
            json!({"type": "assess_fee", "basis": {"method": "per_request"}})
        );
        assert_eq!(
            action_json(&form, &all("per_page")),
            json!({"type": "assess_fee", "basis": {"method": "per_page", "pages": 12}})
        );
        assert_eq!(
            action_json(&form, &all("cost")),
            json!({"type": "assess_fee", "basis": {"method": "cost", "pages": 12, "search_items": 2, "postage_fen": 800}})
        );
    }

    #[test]
    fn a_new_reply_is_ordered_only_by_a_corrected_appeal_with_one_kind_of_period() {
        let case = context_case();
        let ctx = context(&case, Role::Handler);
        let form = form_for(Action::ReopenForNewReply, &Tr(super::super::Lang::Zh), &ctx);
        let Input::Choice(appeals) = &form.fields[0].input else { panic!("a choice of appeals") };
        assert_eq!(appeals.iter().map(|(v, _)| v.as_str()).collect::<Vec<_>>(), ["1"]);
        let fields = posted(&[
            ("f.appeal_number", "1"),
            ("f.on", "2026-12-04"),
            ("f.period.kind", "working_days"),
            ("f.period.from", "2026-12-04"),
            ("f.period.days", "15"),
            ("f.period.due_on", "2026-12-31"),
        ]);
        assert_eq!(
            action_json(&form, &fields),
            json!({"type": "reopen_for_new_reply", "appeal_number": 1, "on": "2026-12-04",
                "period": {"kind": "working_days", "from": "2026-12-04", "days": 15}})
        );
    }

    #[test]
    fn an_amendment_sends_what_changed_and_the_applicant_whole() {
        let case = context_case();
        let zh = Tr(super::super::Lang::Zh);
        let clerk = context(&case, Role::Clerk);
        let form = form_for(Action::AmendRegistration, &zh, &clerk);
        assert!(form.fields.iter().all(|f| f.key != "received_on"), "the receipt date is the office head's");
        let approver = FormContext { role: Role::Approver, ..clerk };
        assert!(form_for(Action::AmendRegistration, &zh, &approver).fields.iter().any(|f| f.key == "received_on"));
        // What the page showed, then the post: the description unchanged, the phone corrected.
        let mut fields: Vec<(String, String)> = vec![];
        for f in &form.fields {
            fields.push((format!("o.{}", f.key), f.value.clone()));
            let value = if f.key == "applicant.phone" { "13900000000".to_owned() } else { f.value.clone() };
            fields.push((f.name(), value));
        }
        assert_eq!(
            action_json(&form, &fields),
            json!({"type": "amend_registration", "applicant": {"kind": "natural_person", "name": "张三", "phone": "13900000000"}})
        );
        let unchanged: Vec<(String, String)> = form
            .fields
            .iter()
            .flat_map(|f| [(format!("o.{}", f.key), f.value.clone()), (f.name(), f.value.clone())])
            .collect();
        assert_eq!(action_json(&form, &unchanged), json!({"type": "amend_registration"}));
    }

    #[test]
    fn the_timeline_states_events_in_the_office_words() {
        let zh = Tr(super::super::Lang::Zh);
        let served = json!({"type": "served", "on": "2026-12-04", "method": "post"});
        assert_eq!(detail_text(&zh, &served), "送达方式：邮寄送达；日期：2026-12-04");
        let amended = json!({"type": "registration_amended", "changes": {
            "applicant": {"old": {"kind": "natural_person", "name": "张三", "phone": "1"},
                          "new": {"kind": "natural_person", "name": "张三", "phone": "2"}},
            "channel": {"old": "letter", "new": "fax"}}});
        let text = detail_text(&zh, &amended);
        assert!(text.starts_with("申请人：类型：自然人，姓名/名称：张三，联系电话：1 → 类型：自然人，"), "{text}");
        assert!(text.contains("申请方式：信函 → 传真"), "{text}");
        let deadline = json!({
            "deadline": {"due_on": "2027-01-04", "final_due_on": "2027-01-04", "provisional": true,
                "closed_on": "2026-12-04", "closed_as": "on_time"},
            "previous": {"due_on": "2026-12-31", "final_due_on": "2026-12-31", "provisional": false},
            "reason": "workflow: serve"});
        assert_eq!(
            deadline_text(&zh, &deadline).unwrap(),
            "答复期限：2027-01-04（周一）（暂定）；按时办结 2026-12-04（周五）（原期限：2026-12-31（周四））"
        );
    }

    #[test]
    fn every_form_label_and_hint_is_translated() {
        let case = context_case();
        let ctx = context(&case, Role::Approver);
        let en = Tr(super::super::Lang::En);
        for action in Action::ALL {
            let form = form_for(*action, &en, &ctx);
            for key in form.fields.iter().map(|f| f.label).chain(form.hint) {
                assert!(super::super::text::is_word(key), "{action:?}: `{key}` has no translation");
            }
        }
    }
}
