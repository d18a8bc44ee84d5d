//! `POST /api/v1/cases/{id}/actions`: every workflow step of a case (review, reply, approval,
//! service, side exits, archive, fees, appeals), translated to `service::actions::act`.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::ToSchema;

use super::cases::CaseResponse;
use super::extract::{if_match_header, json_body, Auth};
use super::problem::Problem;
use crate::db::calendar::CalendarCache;
use crate::db::Db;
use crate::domain::decide::ActionInput;
use crate::domain::fees::CostRates;
use crate::error::AppError;
use crate::service::actions;
use crate::service::cases::etag;

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
    operation_id = "actOnCase",
    path = "/api/v1/cases/{id}/actions",
    tag = "cases",
    params(
        ("id" = uuid::Uuid, Path, description = "Case id"),
        ("If-Match" = String, Header, description = "The case's current ETag, from its last read"),
    ),
    request_body(content = ActionRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Done; the case as it now stands", body = CaseResponse, headers(("ETag" = String, description = "The case's new ETag"))),
        (status = 403, description = "Role does not allow it", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such case in your scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not possible in the case's current state", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match is not the case's current ETag", body = Problem, content_type = "application/problem+json"),
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
    let command = actions::Command { action: input.action, reason: input.reason, effective_on: input.effective_on };
    actions::admit(&user, &command)?;
    let lock_override = super::extract::lock_override(&req, &user)?;
    let if_match = if_match_header(&req);
    let rates = **fee_rates;
    let (response, new_etag) = db
        .run(move |conn| {
            let target = actions::Target {
                case_id: &path,
                if_match: if_match.as_deref(),
                lock_override: lock_override.as_deref(),
            };
            let details = actions::act(conn, &calendars, rates, &user, target, command)?;
            Ok((CaseResponse::of(&details, &user)?, etag(&details.record)))
        })
        .await?;
    Ok(HttpResponse::Ok().insert_header((actix_web::http::header::ETAG, new_etag)).json(response))
}
