//! `/api/v1/calendar`: the national working-day calendar and agencies' local overlays. Every change
//! recomputes the deadlines of all open cases and records each moved deadline as a case event.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::extract::{json_body, query, Auth};
use super::problem::Problem;
use crate::db::calendar::CalendarCache;
use crate::db::Db;
use crate::domain::calendar::YearNotice;
use crate::domain::role::Principal;
use crate::error::AppError;
use crate::service::calendar::{self, CalendarChange, CalendarView};
use crate::service::Caller;

/// Import a year's State Council holiday notice (holiday-cn JSON: `year`, `papers`, `days`).
///
/// Replaces that year's days (re-importing a corrected notice is safe) and recomputes the deadline of
/// every open case; provisional deadlines in that year become final.
#[utoipa::path(
    post,
    operation_id = "importCalendarNotice",
    path = "/api/v1/calendar/notices",
    tag = "calendar",
    request_body(content = YearNotice, content_type = "application/json"),
    responses(
        (status = 200, description = "Imported", body = CalendarChange),
        (status = 403, description = "Not a global administrator", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a valid notice", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn import(
    req: HttpRequest,
    body: web::Bytes,
    Auth(user): Auth,
    db: web::Data<Db>,
    calendars: web::Data<CalendarCache>,
) -> Result<HttpResponse, AppError> {
    // Refused before the body is read, so a caller without the right learns nothing from validation.
    Caller::User(&user).require_global_admin("change the national calendar")?;
    let notice: YearNotice = json_body(&req, &body)?;
    let result = db
        .run(move |conn| {
            let via = format!("by {}", user.name);
            calendar::import_notice(conn, &calendars, Caller::User(&user), &notice, &via)
        })
        .await?;
    Ok(HttpResponse::Ok().json(result))
}

/// One day's setting.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DayInput {
    /// True: a day off; false: a working day (e.g. a make-up working day).
    pub is_off_day: bool,
    /// The holiday's name, e.g. 国庆节 or a local festival.
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
}

fn parse_date(text: &str) -> Result<NaiveDate, AppError> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| AppError::validation("date", "must be a real calendar date written YYYY-MM-DD"))
}

async fn set_day(
    db: web::Data<Db>,
    calendars: web::Data<CalendarCache>,
    user: Principal,
    agency: Option<String>,
    date: String,
    input: DayInput,
) -> Result<HttpResponse, AppError> {
    let date = parse_date(&date)?;
    let result = db
        .run(move |conn| {
            let caller = Caller::User(&user);
            calendar::set_day(conn, &calendars, caller, agency.as_deref(), date, input.is_off_day, &input.name)
        })
        .await?;
    Ok(HttpResponse::Ok().json(result))
}

async fn clear_day(
    db: web::Data<Db>,
    calendars: web::Data<CalendarCache>,
    user: Principal,
    agency: Option<String>,
    date: String,
) -> Result<HttpResponse, AppError> {
    let date = parse_date(&date)?;
    let result =
        db.run(move |conn| calendar::clear_day(conn, &calendars, Caller::User(&user), agency.as_deref(), date)).await?;
    Ok(HttpResponse::Ok().json(result))
}

/// Set one day of the national calendar (global administrators).
#[utoipa::path(
    put,
    operation_id = "setNationalCalendarDay",
    path = "/api/v1/calendar/days/{date}",
    tag = "calendar",
    params(("date" = NaiveDate, Path, description = "YYYY-MM-DD")),
    request_body(content = DayInput, content_type = "application/json"),
    responses(
        (status = 200, description = "Set; open deadlines recomputed", body = CalendarChange),
        (status = 403, description = "Not a global administrator", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid date or fields", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn put_national_day(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
    Auth(user): Auth,
    db: web::Data<Db>,
    calendars: web::Data<CalendarCache>,
) -> Result<HttpResponse, AppError> {
    let input: DayInput = json_body(&req, &body)?;
    set_day(db, calendars, user, None, path.into_inner(), input).await
}

/// Remove one day's entry from the national calendar (global administrators).
#[utoipa::path(
    delete,
    operation_id = "clearNationalCalendarDay",
    path = "/api/v1/calendar/days/{date}",
    tag = "calendar",
    params(("date" = NaiveDate, Path, description = "YYYY-MM-DD")),
    responses(
        (status = 200, description = "Removed; open deadlines recomputed", body = CalendarChange),
        (status = 403, description = "Not a global administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No entry for that date", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid date", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn delete_national_day(
    path: web::Path<String>,
    Auth(user): Auth,
    db: web::Data<Db>,
    calendars: web::Data<CalendarCache>,
) -> Result<HttpResponse, AppError> {
    clear_day(db, calendars, user, None, path.into_inner()).await
}

/// Set one day of an agency's local calendar overlay (administrators of that agency's tree). The
/// overlay applies to the agency and every agency below it.
#[utoipa::path(
    put,
    operation_id = "setAgencyCalendarDay",
    path = "/api/v1/agencies/{code}/calendar/days/{date}",
    tag = "calendar",
    params(("code" = String, Path, description = "Agency code"), ("date" = NaiveDate, Path, description = "YYYY-MM-DD")),
    request_body(content = DayInput, content_type = "application/json"),
    responses(
        (status = 200, description = "Set; open deadlines recomputed", body = CalendarChange),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such agency in your scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid date or fields", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn put_agency_day(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Bytes,
    Auth(user): Auth,
    db: web::Data<Db>,
    calendars: web::Data<CalendarCache>,
) -> Result<HttpResponse, AppError> {
    let (code, date) = path.into_inner();
    let input: DayInput = json_body(&req, &body)?;
    set_day(db, calendars, user, Some(code), date, input).await
}

/// Remove one day from an agency's local calendar overlay.
#[utoipa::path(
    delete,
    operation_id = "clearAgencyCalendarDay",
    path = "/api/v1/agencies/{code}/calendar/days/{date}",
    tag = "calendar",
    params(("code" = String, Path, description = "Agency code"), ("date" = NaiveDate, Path, description = "YYYY-MM-DD")),
    responses(
        (status = 200, description = "Removed; open deadlines recomputed", body = CalendarChange),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such agency in your scope, or no entry", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid date", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn delete_agency_day(
    path: web::Path<(String, String)>,
    Auth(user): Auth,
    db: web::Data<Db>,
    calendars: web::Data<CalendarCache>,
) -> Result<HttpResponse, AppError> {
    let (code, date) = path.into_inner();
    clear_day(db, calendars, user, Some(code), date).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DaysParams {
    /// First date (YYYY-MM-DD).
    pub from: NaiveDate,
    /// Last date (YYYY-MM-DD), at most 366 days after `from`.
    pub to: NaiveDate,
    /// Agency code: include its local overlay.
    pub agency: Option<String>,
}

/// The working-day calendar for a date range (national, or with an agency's overlay).
#[utoipa::path(
    get,
    operation_id = "getCalendar",
    path = "/api/v1/calendar",
    tag = "calendar",
    params(DaysParams),
    responses(
        (status = 200, description = "The days", body = CalendarView),
        (status = 404, description = "No such agency in your scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad parameter", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn view(
    req: HttpRequest,
    Auth(user): Auth,
    db: web::Data<Db>,
    calendars: web::Data<CalendarCache>,
) -> Result<HttpResponse, AppError> {
    let params: DaysParams = query(&req)?;
    let result = db
        .run(move |conn| {
            let caller = Caller::User(&user);
            calendar::days(conn, &calendars, caller, params.agency.as_deref(), params.from, params.to)
        })
        .await?;
    Ok(HttpResponse::Ok().json(result))
}
