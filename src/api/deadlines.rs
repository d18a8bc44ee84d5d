//! Deadlines: the public calculator and a case's explained deadline.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::{if_match_header, json_body, query, Auth};
use super::problem::Problem;
use crate::db::calendar::CalendarCache;
use crate::db::Db;
use crate::domain::deadline::{Calculation, ClockEvent, Deadline, Explanation, Timeliness};
use crate::error::AppError;
use crate::service::clock;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CalculateParams {
    /// The statutory receipt date (YYYY-MM-DD).
    pub received_on: NaiveDate,
    /// Regime code, e.g. `ogi2008` or `ogi2019`; by default the one governing the receipt date.
    pub regime: Option<String>,
    /// Agency code: apply its local calendar overlay (and its local regime, if any).
    pub agency: Option<String>,
}

/// Deadline calculator (public, no token).
///
/// The reply deadline for a receipt date under a regime, with the longest extension the regime
/// allows, on China's working-day calendar. `explanation` lists every skipped day with its reason
/// (weekend or the holiday's name) and every counted make-up working day. `provisional` is true when
/// the result depends on a year whose holiday notice is not loaded yet.
#[utoipa::path(
    get,
    operation_id = "calculateDeadline",
    path = "/api/v1/deadlines/calculate",
    tag = "deadlines",
    params(CalculateParams),
    responses(
        (status = 200, description = "The deadline, explained", body = Calculation),
        (status = 404, description = "Unknown agency", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad parameter", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many calculations from this address (see Retry-After)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn calculator(
    req: HttpRequest,
    db: web::Data<Db>,
    calendars: web::Data<CalendarCache>,
    limits: web::Data<super::limits::Limits>,
) -> Result<HttpResponse, AppError> {
    limits.calculator(limits.client(&req))?;
    let params: CalculateParams = query(&req)?;
    let result = db
        .run(move |conn| {
            clock::calculation(conn, &calendars, params.agency.as_deref(), params.received_on, params.regime.as_deref())
        })
        .await?;
    Ok(HttpResponse::Ok().json(result))
}

/// A case's deadline, explained.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CaseDeadlineResponse {
    pub deadline: Deadline,
    pub timeliness: Timeliness,
    pub explanation: Explanation,
}

impl From<clock::ExplainedDeadline> for CaseDeadlineResponse {
    fn from(e: clock::ExplainedDeadline) -> Self {
        CaseDeadlineResponse { deadline: e.deadline, timeliness: e.timeliness, explanation: e.explanation }
    }
}

/// A case's deadline with every pause, restart and extension that produced it.
#[utoipa::path(
    get,
    operation_id = "getCaseDeadline",
    path = "/api/v1/cases/{id}/deadline",
    tag = "deadlines",
    params(("id" = uuid::Uuid, Path, description = "Case id")),
    responses(
        (status = 200, description = "The deadline, explained", body = CaseDeadlineResponse),
        (status = 404, description = "No such case in your scope", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn for_case(
    path: web::Path<String>,
    Auth(user): Auth,
    db: web::Data<Db>,
    calendars: web::Data<CalendarCache>,
) -> Result<HttpResponse, AppError> {
    let response = db
        .run(move |conn| {
            let today = crate::domain::china_date(Utc::now());
            clock::deadline_of(conn, &calendars, &user, &path, today).map(CaseDeadlineResponse::from)
        })
        .await?;
    Ok(HttpResponse::Ok().json(response))
}

/// A clock event to record on a case.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClockEventInput {
    pub event: ClockEvent,
    /// Evidence: a letter reference, a postal receipt number (for a reply by post, the posting
    /// receipt), a call log entry.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub evidence: Option<String>,
    /// An approver's reason to accept what the rules would refuse: a correction notice after the
    /// 7-working-day window, or an extension granted or notified after the reply period ended, beyond
    /// the regime's cap or while the clock was stopped (recorded, but it does not move the deadline:
    /// a reply after the original date is late).
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub override_reason: Option<String>,
}

/// Record a clock event: correction notice, corrected request received, correction lapsed,
/// consultation sent or answered, extension approved, Art. 35 delay, fee notice, fee paid or lapsed,
/// reply served (by post: the posting date).
///
/// Send the case's current ETag (from `GET /api/v1/cases/{id}`) as If-Match: a stale one is a 412,
/// none a 428, so two concurrent changes can never both succeed. The new ETag comes back.
///
/// The event and the deadline it produces are appended to the case's log. Extensions and Art. 35
/// delays need the approver role (the office head); a correction notice later than the regime's
/// window is refused unless an approver overrides it with a reason. Events may not be dated in the
/// future or before the case's previous clock event.
#[utoipa::path(
    post,
    operation_id = "recordClockEvent",
    path = "/api/v1/cases/{id}/clock-events",
    tag = "deadlines",
    params(
        ("id" = uuid::Uuid, Path, description = "Case id"),
        ("If-Match" = String, Header, description = "The case's current ETag, from its last read"),
    ),
    request_body(content = ClockEventInput, content_type = "application/json"),
    responses(
        (status = 201, description = "Recorded; the deadline as it now stands", body = CaseDeadlineResponse),
        (status = 403, description = "Role does not allow it", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such case in your scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not possible in the case's current state", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match is not the case's current ETag", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid event", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn record_clock_event(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
    Auth(user): Auth,
    db: web::Data<Db>,
    calendars: web::Data<CalendarCache>,
) -> Result<HttpResponse, AppError> {
    clock::admit(&user)?;
    let input: ClockEventInput = json_body(&req, &body)?;
    let command =
        clock::Command { event: input.event, evidence: input.evidence, override_reason: input.override_reason };
    let lock_override = super::extract::lock_override(&req, &user)?;
    let if_match = if_match_header(&req);
    let (response, etag) = db
        .run(move |conn| {
            let target = (path.as_str(), if_match.as_deref(), lock_override.as_deref());
            let (updated, explained) = clock::record(conn, &calendars, &user, target, command)?;
            Ok((CaseDeadlineResponse::from(explained), crate::service::cases::etag(&updated)))
        })
        .await?;
    Ok(HttpResponse::Created().insert_header((actix_web::http::header::ETAG, etag)).json(response))
}
