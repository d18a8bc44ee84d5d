//! The case page: the case as the user may read it, how its deadline was counted, its timeline, and
//! a small form for each action the user could take now (`allowed_actions`), posted to the same
//! service functions as `POST /api/v1/cases/{id}/actions` and `/clock-events`.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;
use serde_json::{json, Map, Value};

use super::queue::{nav, CaseLine};
use super::{check_csrf, field, form_fields, html, ConsoleError, Me, Nav, Tr, Visitor};
use crate::api::cases::{CaseResponse, ReportRows};
use crate::db::calendar::CalendarCache;
use crate::db::users::UserFilter;
use crate::db::{Db, DbConnection};
use crate::domain::deadline::{Explanation, SkipReason};
use crate::domain::fees::CostRates;
use crate::domain::outcome::{y2021_outcome, Outcome};
use crate::domain::role::Role;
use crate::domain::workflow::{Action, AppealKind, AppealOutcome, ServiceMethod};
use crate::error::AppError;
use crate::service::{actions, cases, clock};

/// What a field of an action form holds.
pub enum Input {
    /// A date, today by default.
    Date,
    Number,
    Text,
    /// A choice: (value, label).
    Choice(Vec<(String, String)>),
}

pub struct FormField {
    /// The key in the action's (or clock event's) JSON.
    pub key: &'static str,
    pub label: &'static str,
    pub input: Input,
}

/// An action the user may take now, with its form.
pub struct ActionForm {
    pub action: Action,
    pub label: String,
    pub fields: Vec<FormField>,
    /// Whether the form asks for a reason (办理意见); `reason_required` when the law needs one.
    pub reason_required: bool,
    /// Recorded through `clock-events` rather than `actions`.
    pub clock: bool,
    /// The console has no form for it yet: the API takes it.
    pub api_only: bool,
}

fn date(key: &'static str, label: &'static str) -> FormField {
    FormField { key, label, input: Input::Date }
}

fn choice(key: &'static str, label: &'static str, options: Vec<(String, String)>) -> FormField {
    FormField { key, label, input: Input::Choice(options) }
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

fn service_methods() -> Vec<(String, String)> {
    ServiceMethod::ALL
        .iter()
        .map(|m| {
            let label = match m {
                ServiceMethod::InPerson => "直接送达",
                ServiceMethod::Post => "邮寄送达",
                ServiceMethod::Email => "电子邮件",
                ServiceMethod::Online => "网上平台",
                ServiceMethod::Fax => "传真",
                ServiceMethod::Entrusted => "委托送达",
            };
            (m.as_str().to_owned(), label.to_owned())
        })
        .collect()
}

/// Who a consultation asks (2019 Art. 32, 33).
fn consulted_parties() -> Vec<(String, String)> {
    use crate::domain::deadline::ConsultedParty;
    ConsultedParty::ALL
        .iter()
        .map(|p| {
            let label = match p {
                ConsultedParty::ThirdParty => "第三方",
                ConsultedParty::OtherAgency => "其他机关",
            };
            (p.as_str().to_owned(), label.to_owned())
        })
        .collect()
}

/// The grounds for not processing a request, each with the 2021 table's row it is counted in. A repeat
/// request names the answered request it repeats, which this form does not ask for: the API takes it.
fn not_processed_grounds() -> Vec<(String, String)> {
    use crate::domain::outcome::NotProcessedReason;
    NotProcessedReason::ALL
        .iter()
        .filter(|&&r| r != NotProcessedReason::RepeatRequest)
        .map(|&reason| {
            let outcome = Outcome::NotProcessed { reason, repeat_of: None, repeat_of_earlier: None };
            (reason.as_str().to_owned(), y2021_outcome(&outcome).def().label.trim().to_owned())
        })
        .collect()
}

fn plain<T: Copy>(all: &[T], code: fn(T) -> &'static str) -> Vec<(String, String)> {
    all.iter().map(|&v| (code(v).to_owned(), code(v).replace('_', " "))).collect()
}

/// The form for `action`. `handlers`: the agency's handlers for assigning.
fn form_for(action: Action, tr: &Tr, handlers: &[(String, String)]) -> ActionForm {
    use Action as A;
    let (fields, clock, api_only) = match action {
        A::Assign => (vec![choice("handler_id", "handler_id", handlers.to_vec())], false, false),
        A::DraftReply | A::AnswerOnTheSpot => (vec![choice("outcome", "outcome", outcome_choices())], false, false),
        A::ReturnDraft | A::ApproveReply | A::Archive => (vec![], false, false),
        A::Serve => (vec![choice("method", "service_method", service_methods()), date("on", "on_date")], false, false),
        A::Withdraw => (vec![date("on", "on_date")], false, false),
        A::FileAppeal => (
            vec![choice("kind", "event", plain(AppealKind::ALL, AppealKind::as_str)), date("filed_on", "on_date")],
            false,
            false,
        ),
        A::DecideAppeal => (
            vec![
                FormField { key: "number", label: "event", input: Input::Number },
                choice("outcome", "outcome", plain(AppealOutcome::ALL, AppealOutcome::as_str)),
                date("decided_on", "on_date"),
            ],
            false,
            false,
        ),
        A::ExtensionApproved => (
            vec![
                date("on", "on_date"),
                FormField { key: "days", label: "extension_days", input: Input::Number },
                FormField { key: "reason", label: "reason", input: Input::Text },
                date("applicant_notified_on", "on_date"),
            ],
            true,
            false,
        ),
        A::CorrectionReceived | A::ConsultationAnswered | A::CorrectionLapsed | A::FeeNoticeSent | A::FeeLapsed => {
            (vec![date("on", "on_date")], true, false)
        }
        A::CorrectionNoticeSent => (vec![date("on", "on_date"), date("respond_by", "respond_by")], true, false),
        A::ConsultationSent => {
            (vec![date("on", "on_date"), choice("party", "party", consulted_parties())], true, false)
        }
        A::DelaySet => (vec![date("on", "on_date"), date("until", "until")], true, false),
        A::FeePaid => (
            vec![
                date("on", "on_date"),
                FormField { key: "amount_fen", label: "amount_fen", input: Input::Number },
                FormField { key: "receipt_number", label: "receipt_number", input: Input::Text },
            ],
            true,
            false,
        ),
        A::NotProcess => {
            (vec![date("on", "on_date"), choice("ground", "ground", not_processed_grounds())], false, false)
        }
        A::Transfer => (
            vec![date("on", "on_date"), FormField { key: "to_agency", label: "to_agency", input: Input::Text }],
            false,
            false,
        ),
        A::VoidDuplicate => {
            (vec![FormField { key: "duplicate_of", label: "duplicate_of", input: Input::Text }], false, false)
        }
        // A fee's basis, an amendment's changes and a new reply's period have shapes of their own.
        A::AssessFee | A::AmendRegistration | A::ReopenForNewReply => (vec![], false, true),
    };
    ActionForm { action, label: tr.action(&action), fields, reason_required: action.needs_reason(), clock, api_only }
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
    today: String,
    notice: Option<&'static str>,
    error: Option<String>,
    field_errors: Vec<(String, String)>,
    draft_label: Option<String>,
    outcome_label: Option<String>,
}

impl CasePage {
    fn appeals(&self) -> Vec<String> {
        self.line
            .case
            .appeals
            .iter()
            .flatten()
            .map(|a| serde_json::to_value(a).map(|v| flatten(&v)).unwrap_or_default())
            .collect()
    }
}

/// `key: value` pairs of a JSON object, nested objects inlined (for the timeline's details).
fn flatten(value: &Value) -> String {
    match value {
        Value::Object(map) => map
            .iter()
            // The type is the timeline's label; ids mean nothing to a reader (names are beside them).
            .filter(|(k, v)| !v.is_null() && *k != "type" && !k.ends_with("_id") && !k.starts_with("tracking_"))
            .map(|(k, v)| match v {
                Value::Object(_) => format!("{k}: {{{}}}", flatten(v)),
                Value::String(s) => format!("{k}: {s}"),
                other => format!("{k}: {other}"),
            })
            .collect::<Vec<_>>()
            .join("; "),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn outcome_label(outcome: &Outcome) -> String {
    let mut label = y2021_outcome(outcome).def().label.trim().to_owned();
    if let Some(reason) = outcome.reason() {
        label.push_str(&format!(" ({reason})"));
    }
    label
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
        let at = event
            .occurred_at
            .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8"))
            .format("%Y-%m-%d %H:%M")
            .to_string();
        let details = match event.kind.as_str() {
            "received" => String::new(),
            _ => flatten(event.payload.get("event").unwrap_or(&event.payload)),
        };
        timeline.push(TimelineEntry { at, what: kind, actor, details });
    }
    let handlers: Vec<(String, String)> = if details.allowed_actions.contains(&Action::Assign) {
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
    let forms = details.allowed_actions.iter().map(|&a| form_for(a, &tr, &handlers)).collect();
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
        today: today.to_string(),
        notice: None,
        error: None,
        field_errors: vec![],
        draft_label,
        outcome_label,
    })
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
    }
    Ok(html(StatusCode::OK, &page))
}

/// The action's JSON from the form's `f.<key>` fields: numbers as numbers, an outcome as the JSON
/// its choice holds, the rest as text.
fn action_json(kind: &str, fields: &[(String, String)]) -> Value {
    let mut object = Map::new();
    object.insert("type".into(), json!(kind));
    for (name, value) in fields {
        let Some(key) = name.strip_prefix("f.") else { continue };
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        let parsed = match key {
            "number" | "days" | "appeal_number" => {
                value.parse::<i64>().map(Value::from).unwrap_or_else(|_| json!(value))
            }
            "outcome" if value.starts_with('{') => serde_json::from_str(value).unwrap_or_else(|_| json!(value)),
            _ => json!(value),
        };
        object.insert(key.to_owned(), parsed);
    }
    Value::Object(object)
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
    let (tr, me) = Visitor::of(&req, &db).await?.require(&req)?;
    let fields = form_fields(&body);
    check_csrf(&me, field(&fields, "csrf_token"), tr.lang())?;
    let id = path.into_inner();
    let kind = field(&fields, "action").unwrap_or_default().to_owned();
    let action = Action::parse(&kind)
        .ok_or_else(|| ConsoleError::page(StatusCode::UNPROCESSABLE_ENTITY, tr.lang(), "no such action"))?;
    let version = field(&fields, "version").map(str::to_owned);
    let reason = field(&fields, "reason").map(str::to_owned);
    let body = action_json(&kind, &fields);
    let rates = **fee_rates;
    let case_id = id.clone();
    let calendars2 = calendars.clone();
    let user = me.principal.clone();
    let outcome = db
        .run(move |conn| {
            if action.is_clock_event() {
                let event = serde_json::from_value(body).map_err(|e| AppError::validation("event", e.to_string()))?;
                let command = clock::Command { event, evidence: reason, override_reason: None };
                clock::record(conn, &calendars2, &user, (&case_id, version.as_deref(), None), command)?;
            } else {
                let action = serde_json::from_value(body).map_err(|e| AppError::validation("action", e.to_string()))?;
                let command = actions::Command { action, reason, effective_on: None };
                let target = actions::Target { case_id: &case_id, if_match: version.as_deref(), lock_override: None };
                actions::act(conn, &calendars2, rates, &user, target, command)?;
            }
            Ok(())
        })
        .await;
    match outcome {
        Ok(()) => Ok(HttpResponse::SeeOther()
            .insert_header((actix_web::http::header::LOCATION, format!("/cases/{id}?done=1")))
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
            | AppError::ReportLocked(_)),
        ) => {
            let problem = crate::api::problem::Problem::from(&error);
            let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
            let mut page = db
                .run(move |conn| read_page(conn, &calendars, tr, &me, &id))
                .await
                .map_err(|e| ConsoleError::from_app(e, tr.lang()))?;
            page.error = Some(format!("{}: {}", tr.action(&action), problem.detail));
            page.field_errors = problem.errors.unwrap_or_default().into_iter().map(|e| (e.path, e.message)).collect();
            Ok(html(status, &page))
        }
        Err(other) => Err(ConsoleError::from_app(other, tr.lang())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_not_processed_form_offers_every_ground_but_the_repeat_request_with_its_report_row() {
        use crate::domain::outcome::NotProcessedReason;
        let grounds = not_processed_grounds();
        assert_eq!(grounds.len(), NotProcessedReason::ALL.len() - 1);
        assert!(grounds.iter().all(|(code, label)| code != "repeat_request" && !label.is_empty()));
    }

    #[test]
    fn an_action_form_becomes_the_apis_json() {
        let fields: Vec<(String, String)> = [
            ("csrf_token", "x"),
            ("f.on", "2026-12-04"),
            ("f.days", "5"),
            ("f.outcome", r#"{"kind":"disclosed","already_public":true}"#),
            ("f.receipt_number", " "),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let json = action_json("extension_approved", &fields);
        assert_eq!(
            json,
            serde_json::json!({"type": "extension_approved", "on": "2026-12-04", "days": 5,
                "outcome": {"kind": "disclosed", "already_public": true}})
        );
    }
}
