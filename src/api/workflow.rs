//! `POST /api/v1/cases/{id}/actions`: every workflow step of a case (review, reply, approval,
//! service, side exits, archive, fees, appeals). The state machine and the role table live in
//! `domain::workflow`, every other rule in `domain::decide`; this handler gathers the facts only the
//! database knows (the named handler, the applicant's monthly count, the repeated case), records the
//! decided event, and registers the linked case of a transfer.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{NaiveDate, Utc};
use serde::Deserialize;
use utoipa::ToSchema;

use super::cases::{etag, CaseResponse};
use super::extract::{if_match_header, json_body, require_if_match, Auth};
use super::problem::Problem;
use crate::db::calendar::CalendarCache;
use crate::db::cases::{self, CaseRecord};
use crate::db::locks::Author;
use crate::db::{agencies, users, Db, DbConnection};
use crate::domain::case::{Case, EarlierCase};
use crate::domain::decide::{decide, ActionInput, Decision, Facts};
use crate::domain::events::{CaseEvent, Closing, WorkflowRecord};
use crate::domain::fees::CostRates;
use crate::domain::intake::{Intake, ReceiptBasis};
use crate::domain::validation::Validator;
use crate::domain::workflow::{permitted, transition, WorkflowEvent};
use crate::error::AppError;

/// A workflow action and the reason or note recorded with it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionRequest {
    pub action: ActionInput,
    /// Why (recorded with the event). Required to return a draft, withdraw, refuse to process and
    /// transfer.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub reason: Option<String>,
    /// For a step entered after the fact (assign, draft_reply, return_draft, approve_reply, archive,
    /// assess_fee): the day it was really taken. Not in the future, not before the receipt date or the
    /// previous step's date. Kept beside the recorded time; a fee waiver counts in its year.
    #[serde(default)]
    pub effective_on: Option<NaiveDate>,
}

/// Take a workflow action on a case.
///
/// Send the case's current ETag as If-Match (412 stale, 428 missing): two concurrent actions on one
/// case never both succeed. An action the case's state does not allow is a 409
/// `illegal-transition` problem with `current_state` and `allowed_actions`. Every action is appended
/// to the case's event log with the actor, the time and the reason; actions that answer the
/// applicant (serve, on-the-spot reply, not-processed notice, transfer) or record a withdrawal also
/// end the reply clock. Clock events (corrections, consultations, extensions, fee notices) are
/// recorded at `/clock-events`.
#[utoipa::path(
    post,
    path = "/api/v1/cases/{id}/actions",
    tag = "cases",
    params(
        ("id" = uuid::Uuid, Path, description = "Case id"),
        ("If-Match" = String, Header, description = "The case's current ETag, from its last read"),
    ),
    request_body(content = ActionRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Done; the case as it now stands", body = CaseResponse, headers(("ETag" = String, description = "The case's new ETag"))),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or unknown token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role does not allow it", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such case in your scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not possible in the case's current state", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match is not the case's current ETag", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid action", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]

pub async fn act(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
    Auth(user): Auth,
    db: web::Data<Db>,
    calendars: web::Data<CalendarCache>,
    fee_rates: web::Data<CostRates>,
) -> Result<HttpResponse, AppError> {
    let input: ActionRequest = json_body(&req, &body)?;
    let action = input.action.action();
    if !permitted(user.role, action) {
        return Err(AppError::Forbidden(format!("the {} role cannot {action}", user.role)));
    }
    let mut v = Validator::new();
    let reason = v.optional_text("reason", input.reason.as_deref(), 2000);
    if reason.is_none() && action.needs_reason() {
        v.error("reason", format!("`{action}` needs a reason"));
    }
    v.finish()?;
    let lock_override = super::extract::lock_override(&req, &user)?;
    let record = super::cases::visible_case(&db, &user, &path).await?;
    let if_match = if_match_header(&req);
    require_if_match(if_match.as_deref(), &etag(&record))?;
    let rates = **fee_rates;
    let (response, new_etag) = db
        .run(move |conn| {
            // Judge the action against the case as it is now, not as the first read found it.
            let (record, case) =
                cases::load(conn, &record.row.id)?.ok_or_else(|| AppError::NotFound("the case is gone".into()))?;
            require_if_match(if_match.as_deref(), &etag(&record))?;
            let rules = calendars.rules(conn, Some(&record.agency_path))?;
            if let Err(mut illegal) = transition(case.state, action, case.resume) {
                // Name what this caller could do instead, as the case read does.
                let clock = cases::clock_events(conn, &record.row.id)?;
                illegal.allowed = super::cases::allowed_actions(&record, &case, &clock, &user, &rules)?;
                return Err(illegal.into());
            }
            let regime = rules
                .regime(&record.row.regime)
                .cloned()
                .ok_or_else(|| AppError::Internal(format!("case {} has unknown regime", record.row.id)))?;
            let today = crate::domain::china_date(Utc::now());
            // The facts only the database knows, for the action that needs them.
            let handler = match &input.action {
                ActionInput::Assign { handler_id } => users::find_principal(conn, &handler_id.to_string())?,
                _ => None,
            };
            let requests_in_month = match &input.action {
                ActionInput::AssessFee { .. } => {
                    u32::try_from(cases::applicant_requests_in_month(conn, &record.row)?).unwrap_or(u32::MAX)
                }
                _ => 0,
            };
            let repeated_record = match input.action.repeat_of() {
                Some(id) => match uuid::Uuid::parse_str(&id) {
                    Ok(id) => cases::find(conn, &id.to_string())?.filter(|c| user.covers(&c.agency_path)),
                    Err(_) => None,
                },
                None => None,
            };
            let facts = Facts {
                actor: &user,
                today,
                effective_on: input.effective_on,
                regime: &regime,
                calendar: &rules.calendar,
                rates,
                agency_code: &record.agency_code,
                agency_path: &record.agency_path,
                handler: handler.as_ref(),
                requests_in_month,
                repeated: repeated_record.as_ref().map(|r| (earlier_case(r), r.row.id == record.row.id)),
            };
            let author = Author { user_id: Some(&user.user_id), lock_override: lock_override.as_deref() };
            let updated = match decide(&case, input.action, &facts)? {
                Decision::Transfer { on, to_agency } => {
                    let (target, intake) = transfer_intake(conn, &record, &case, on, &to_agency)?;
                    let target_rules = calendars.rules(conn, Some(&target.path))?;
                    let target_regime = target_rules.regime_for(&target.path, on).cloned().ok_or_else(|| {
                        AppError::validation("action.on", format!("no regime governs a request received on {on}"))
                    })?;
                    let new = cases::NewCase {
                        agency: &target,
                        intake,
                        regime: &target_regime,
                        calendar: &target_rules.calendar,
                        transferred_from: Some(record.row.id.clone()),
                    };
                    let step = |to_case_id: &str| {
                        CaseEvent::Workflow(WorkflowRecord {
                            event: WorkflowEvent::Transferred {
                                on,
                                to_agency: target.code.clone(),
                                to_case_id: to_case_id.to_owned(),
                            },
                            reason: reason.clone(),
                            effective_on: None,
                        })
                    };
                    let by = (&user, lock_override.as_deref());
                    cases::transfer(conn, by, &record, step, (&regime, &rules.calendar), new, today)?.0
                }
                Decision::Record(event) => {
                    let event = CaseEvent::Workflow(WorkflowRecord { event, reason, effective_on: input.effective_on });
                    cases::record_event(conn, &record, event, &regime, &rules.calendar, &author, today)?
                }
            };
            let response = super::cases::CaseResponse::with_details(conn, &updated, &user, &rules)?;
            Ok((response, etag(&updated)))
        })
        .await?;
    Ok(HttpResponse::Ok().insert_header((actix_web::http::header::ETAG, new_etag)).json(response))
}

/// What a repeat request's rules need of the case it names.
fn earlier_case(record: &CaseRecord) -> EarlierCase<'_> {
    let row = &record.row;
    EarlierCase {
        tracking_number: &row.tracking_number,
        state: &row.state,
        received_on: row.received_on,
        closing: row.closed_as.as_deref().and_then(Closing::parse),
        served_on: row.served_on,
        transferred: row.transferred_to_case_id.is_some(),
    }
}

/// The receiving agency and the intake of the linked case: the same applicant and request, received
/// there on the transfer date.
fn transfer_intake(
    conn: &mut DbConnection,
    record: &CaseRecord,
    case: &Case,
    on: NaiveDate,
    to_agency: &str,
) -> Result<(agencies::AgencyRow, Intake), AppError> {
    let target = agencies::find_by_code(conn, to_agency)?
        .ok_or_else(|| AppError::validation("action.to_agency", format!("no agency has code `{to_agency}`")))?;
    let topic = match &case.topic {
        Some(t) if agencies::topics_for(conn, &target)?.iter().any(|known| &known.code == t) => Some(t.clone()),
        _ => None,
    };
    let intake = Intake {
        agency: target.code.clone(),
        channel: case.channel,
        arrived_at: crate::domain::truncate_to_micros(Utc::now()),
        received_on: on,
        receipt_basis: ReceiptBasis::ClerkDetermined,
        receipt_evidence: Some(format!("转送自 {} 案件 {}（{}）", record.agency_code, record.row.tracking_number, on)),
        applicant: case.applicant.clone(),
        description: case.description.clone(),
        delivery_form: case.delivery_form,
        topic,
    };
    Ok((target, intake))
}
