//! Deadlines: the public calculator and a case's explained deadline.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::{if_match_header, json_body, query, require_if_match, Auth};
use super::problem::Problem;
use crate::db::calendar::{CalendarCache, Rules};
use crate::db::cases::CaseRecord;
use crate::db::locks::Author;
use crate::db::{agencies, cases, Db, DbConnection};
use crate::domain::case::{check_clock_event, settle_extension, settle_fee_payment, ClockRefusal};
use crate::domain::deadline::{
    calculate, compute, correction_notice_due, Calculation, ClockEvent, Deadline, Explanation, RegimeRules, Timeliness,
};
use crate::domain::events::ClockRecord;
use crate::domain::role::Role;
use crate::domain::validation::Validator;
use crate::error::AppError;

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

/// Resolves the calculator's inputs to a calculation.
pub fn calculation(
    rules: &Rules,
    agency_path: Option<&str>,
    received_on: NaiveDate,
    regime: Option<&str>,
) -> Result<Calculation, AppError> {
    let regime = match regime {
        Some(code) => rules.regime(code).ok_or_else(|| {
            let known: Vec<&str> = rules.regimes.iter().map(|(r, _)| r.code.as_str()).collect();
            AppError::validation("regime", format!("unknown regime `{code}`; known: {}", known.join(", ")))
        })?,
        None => rules
            .regime_for(agency_path.unwrap_or("/"), received_on)
            .ok_or_else(|| AppError::validation("received_on", format!("no regime governs {received_on}")))?,
    };
    calculate(regime, &rules.calendar, received_on).map_err(|e| AppError::validation("received_on", e.to_string()))
}

/// Deadline calculator (public, no token).
///
/// The reply deadline for a receipt date under a regime, with the longest extension the regime
/// allows, on China's working-day calendar. `explanation` lists every skipped day with its reason
/// (weekend or the holiday's name) and every counted make-up working day. `provisional` is true when
/// the result depends on a year whose holiday notice is not loaded yet.
#[utoipa::path(
    get,
    path = "/api/v1/deadlines/calculate",
    tag = "deadlines",
    params(CalculateParams),
    responses(
        (status = 200, description = "The deadline, explained", body = Calculation),
        (status = 404, description = "Unknown agency", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad parameter", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn calculator(
    req: HttpRequest,
    db: web::Data<Db>,
    calendars: web::Data<CalendarCache>,
) -> Result<HttpResponse, AppError> {
    let params: CalculateParams = query(&req)?;
    let result = db
        .run(move |conn| {
            let agency = match &params.agency {
                Some(code) => Some(
                    agencies::find_by_code(conn, code)?
                        .ok_or_else(|| AppError::NotFound(format!("no agency with code `{code}`")))?,
                ),
                None => None,
            };
            let path = agency.as_ref().map(|a| a.path.as_str());
            let rules = calendars.rules(conn, path)?;
            calculation(&rules, path, params.received_on, params.regime.as_deref())
        })
        .await?;
    Ok(HttpResponse::Ok().json(result))
}

/// The regime a case was registered under.
fn case_regime<'a>(rules: &'a Rules, record: &CaseRecord) -> Result<&'a RegimeRules, AppError> {
    rules
        .regime(&record.row.regime)
        .ok_or_else(|| AppError::Internal(format!("case {} has unknown regime {}", record.row.id, record.row.regime)))
}

/// A case's deadline from its stored clock events, with timeliness and explanation.
fn explained(
    conn: &mut DbConnection,
    record: &CaseRecord,
    regime: &RegimeRules,
    rules: &Rules,
    today: NaiveDate,
) -> Result<CaseDeadlineResponse, AppError> {
    let events = cases::clock_events(conn, &record.row.id)?;
    let deadline = compute(regime, &rules.calendar, record.row.received_on, &events, today)
        .map_err(|e| AppError::Internal(format!("stored clock events of {} do not compute: {e}", record.row.id)))?;
    let timeliness = deadline.timeliness(&rules.calendar, today).map_err(AppError::internal)?;
    let explanation = deadline.explanation(&rules.calendar);
    Ok(CaseDeadlineResponse { deadline, timeliness, explanation })
}

/// A case's deadline, explained.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CaseDeadlineResponse {
    pub deadline: Deadline,
    pub timeliness: Timeliness,
    pub explanation: Explanation,
}

/// A case's deadline with every pause, restart and extension that produced it.
#[utoipa::path(
    get,
    path = "/api/v1/cases/{id}/deadline",
    tag = "deadlines",
    params(("id" = uuid::Uuid, Path, description = "Case id")),
    responses(
        (status = 200, description = "The deadline, explained", body = CaseDeadlineResponse),
        (status = 401, description = "No or unknown token", body = Problem, content_type = "application/problem+json"),
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
    let record = super::cases::visible_case(&db, &user, &path).await?;
    let response = db
        .run(move |conn| {
            let rules = calendars.rules(conn, Some(&record.agency_path))?;
            let regime = case_regime(&rules, &record)?;
            explained(conn, &record, regime, &rules, crate::domain::china_date(Utc::now()))
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
    path = "/api/v1/cases/{id}/clock-events",
    tag = "deadlines",
    params(
        ("id" = uuid::Uuid, Path, description = "Case id"),
        ("If-Match" = String, Header, description = "The case's current ETag, from its last read"),
    ),
    request_body(content = ClockEventInput, content_type = "application/json"),
    responses(
        (status = 201, description = "Recorded; the deadline as it now stands", body = CaseDeadlineResponse),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or unknown token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role does not allow it", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such case in your scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not possible in the case's current state", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match is not the case's current ETag", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
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
    if !matches!(user.role, Role::Handler | Role::Approver | Role::Admin) {
        return Err(AppError::Forbidden(format!("the {} role cannot record clock events", user.role)));
    }
    let mut input: ClockEventInput = json_body(&req, &body)?;
    let mut v = Validator::new();
    let evidence = v.optional_text("evidence", input.evidence.as_deref(), 2000);
    let override_reason = v.optional_text("override_reason", input.override_reason.as_deref(), 2000);
    if let ClockEvent::FeePaid { receipt_number, .. } = &mut input.event {
        *receipt_number = v.optional_text("event.receipt_number", receipt_number.as_deref(), 100);
    }
    v.finish()?;
    let lock_override = super::extract::lock_override(&req, &user)?;
    let record = super::cases::visible_case(&db, &user, &path).await?;
    let if_match = if_match_header(&req);
    require_if_match(if_match.as_deref(), &super::cases::etag(&record))?;
    let (response, etag) = db
        .run(move |conn| {
            // Judge the event against the case as it is now, not as the first read found it.
            let (record, case) =
                cases::load(conn, &record.row.id)?.ok_or_else(|| AppError::NotFound("the case is gone".into()))?;
            require_if_match(if_match.as_deref(), &super::cases::etag(&record))?;
            let rules = calendars.rules(conn, Some(&record.agency_path))?;
            let regime = case_regime(&rules, &record)?;
            let today = crate::domain::china_date(Utc::now());
            let notice_due =
                correction_notice_due(regime, &rules.calendar, case.received_on).map_err(AppError::internal)?;
            let mut clock = ClockRecord { event: input.event, evidence, override_reason };
            check_clock_event(&case, &clock, notice_due, user.role == Role::Approver, today).map_err(|e| match e {
                ClockRefusal::ApproverOnly(_) => AppError::Forbidden(e.to_string()),
                ClockRefusal::Illegal(illegal) => illegal.into(),
                ClockRefusal::Closed(_) | ClockRefusal::WorkflowOnly(..) | ClockRefusal::NoFeeToNotify => {
                    AppError::Conflict(e.to_string())
                }
                ClockRefusal::OverrideWithoutReason => AppError::validation("override_reason", e.to_string()),
                ClockRefusal::FeeAmountMismatch { .. } => AppError::validation("event.amount_fen", e.to_string()),
                _ => AppError::validation("event.on", e.to_string()),
            })?;
            settle_fee_payment(&case, &mut clock);
            let history = cases::clock_events(conn, &record.row.id)?;
            settle_extension(regime, &rules.calendar, case.received_on, &history, &mut clock, today)
                .map_err(cases::deadline_problem)?;
            // A change between the If-Match check and the write makes this a 412 as well.
            let author = Author { user_id: Some(&user.user_id), lock_override: lock_override.as_deref() };
            let updated = cases::record_clock_event(conn, &record, clock, regime, &rules.calendar, &author, today)?;
            Ok((explained(conn, &updated, regime, &rules, today)?, super::cases::etag(&updated)))
        })
        .await?;
    Ok(HttpResponse::Created().insert_header((actix_web::http::header::ETAG, etag)).json(response))
}
