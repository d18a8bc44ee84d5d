//! `/api/v1/calendar`: the national working-day calendar and agencies' local overlays. Every change
//! recomputes the deadlines of all open cases and records each moved deadline as a case event.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::{json_body, query, Auth};
use super::problem::Problem;
use crate::db::calendar::{self, CalendarCache, NATIONAL};
use crate::db::Db;
use crate::domain::calendar::{DayClass, DayException, YearNotice};
use crate::domain::role::{Principal, Scope};
use crate::error::AppError;
use crate::service::calendar::{change_and_recompute, CalendarChange};
use crate::service::directory::{agency_in_scope, Named};

fn require_global_admin(user: &Principal) -> Result<(), AppError> {
    if user.role.can_administer() && user.scope == Scope::Global {
        Ok(())
    } else {
        Err(AppError::Forbidden("only a global administrator can change the national calendar".into()))
    }
}

/// Import a year's State Council holiday notice (holiday-cn JSON: `year`, `papers`, `days`).
///
/// Replaces that year's days (re-importing a corrected notice is safe) and recomputes the deadline of
/// every open case; provisional deadlines in that year become final.
#[utoipa::path(
    post,
    path = "/api/v1/calendar/notices",
    tag = "calendar",
    request_body(content = YearNotice, content_type = "application/json"),
    responses(
        (status = 200, description = "Imported", body = CalendarChange),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or unknown token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a global administrator", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
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
    require_global_admin(&user)?;
    let notice: YearNotice = json_body(&req, &body)?;
    let result = db
        .run(move |conn| {
            let reason = format!("calendar: {} notice imported by {}", notice.year, user.name);
            let source = format!("api by {}", user.name);
            change_and_recompute(conn, &calendars, Some(&user.user_id), &reason, |conn| {
                calendar::import_notice(conn, &notice, &source).map(|_| ())
            })
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

fn day_exception(date: NaiveDate, input: DayInput) -> Result<DayException, AppError> {
    let mut v = crate::domain::validation::Validator::new();
    let name = v.text("name", &input.name, 100);
    v.finish()?;
    if date < crate::domain::calendar::index_start() || date > crate::domain::calendar::index_end() {
        return Err(AppError::validation("date", "must be between 2000-01-01 and 2099-12-31"));
    }
    Ok(DayException { date, is_off_day: input.is_off_day, name })
}

/// The calendar scope a path names: national (None) or an agency's overlay, checked against the
/// caller's rights.
async fn scope_for(db: &Db, user: &Principal, agency: Option<String>) -> Result<(String, String), AppError> {
    match agency {
        None => {
            require_global_admin(user)?;
            Ok((NATIONAL.to_owned(), "national calendar".to_owned()))
        }
        Some(code) => {
            if !user.role.can_administer() {
                return Err(AppError::Forbidden(format!("the {} role cannot change calendars", user.role)));
            }
            let agency = super::agencies::visible_agency(db, user, &code).await?;
            Ok((calendar::overlay_scope(&agency.code), format!("local calendar of {}", agency.code)))
        }
    }
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
    let day = day_exception(date, input)?;
    let (scope, label) = scope_for(&db, &user, agency).await?;
    let result = db
        .run(move |conn| {
            let kind = if day.is_off_day { "day off" } else { "working day" };
            let reason = format!("calendar: {label} sets {date} as a {kind} ({}) by {}", day.name, user.name);
            let origin = format!("edit by {}", user.name);
            change_and_recompute(conn, &calendars, Some(&user.user_id), &reason, |conn| {
                calendar::set_day(conn, &scope, &day, &origin)
            })
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
    let (scope, label) = scope_for(&db, &user, agency).await?;
    let result = db
        .run(move |conn| {
            let reason = format!("calendar: {label} clears its entry for {date} by {}", user.name);
            change_and_recompute(conn, &calendars, Some(&user.user_id), &reason, |conn| {
                if calendar::clear_day(conn, &scope, date)? {
                    Ok(())
                } else {
                    Err(AppError::NotFound(format!("the {label} has no entry for {date}")))
                }
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(result))
}

/// Set one day of the national calendar (global administrators).
#[utoipa::path(
    put,
    path = "/api/v1/calendar/days/{date}",
    tag = "calendar",
    params(("date" = NaiveDate, Path, description = "YYYY-MM-DD")),
    request_body(content = DayInput, content_type = "application/json"),
    responses(
        (status = 200, description = "Set; open deadlines recomputed", body = CalendarChange),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or unknown token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a global administrator", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
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
    path = "/api/v1/calendar/days/{date}",
    tag = "calendar",
    params(("date" = NaiveDate, Path, description = "YYYY-MM-DD")),
    responses(
        (status = 200, description = "Removed; open deadlines recomputed", body = CalendarChange),
        (status = 401, description = "No or unknown token", body = Problem, content_type = "application/problem+json"),
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
    path = "/api/v1/agencies/{code}/calendar/days/{date}",
    tag = "calendar",
    params(("code" = String, Path, description = "Agency code"), ("date" = NaiveDate, Path, description = "YYYY-MM-DD")),
    request_body(content = DayInput, content_type = "application/json"),
    responses(
        (status = 200, description = "Set; open deadlines recomputed", body = CalendarChange),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or unknown token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such agency in your scope", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
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
    path = "/api/v1/agencies/{code}/calendar/days/{date}",
    tag = "calendar",
    params(("code" = String, Path, description = "Agency code"), ("date" = NaiveDate, Path, description = "YYYY-MM-DD")),
    responses(
        (status = 200, description = "Removed; open deadlines recomputed", body = CalendarChange),
        (status = 401, description = "No or unknown token", body = Problem, content_type = "application/problem+json"),
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

/// One day of the calendar as an agency sees it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CalendarDay {
    pub date: NaiveDate,
    pub working: bool,
    /// Settled by a loaded notice (false: the provisional rule applies).
    pub settled: bool,
    #[serde(flatten)]
    pub class: DayClass,
}

/// The loaded notices, and the days of a date range with their classes.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CalendarView {
    /// Years whose State Council notice is loaded.
    pub loaded_years: Vec<i32>,
    pub days: Vec<CalendarDay>,
}

/// The working-day calendar for a date range (national, or with an agency's overlay).
#[utoipa::path(
    get,
    path = "/api/v1/calendar",
    tag = "calendar",
    params(DaysParams),
    responses(
        (status = 200, description = "The days", body = CalendarView),
        (status = 401, description = "No or unknown token", body = Problem, content_type = "application/problem+json"),
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
    if params.to < params.from || (params.to - params.from).num_days() > 366 {
        return Err(AppError::validation("to", "must be on or after `from` and at most 366 days later"));
    }
    if params.from < crate::domain::calendar::index_start() || params.to > crate::domain::calendar::index_end() {
        return Err(AppError::validation("from", "the calendar covers 2000-01-01 to 2099-12-31"));
    }
    let result = db
        .run(move |conn| {
            let path = match &params.agency {
                Some(code) => Some(agency_in_scope(conn, &user, code, Named::InPath)?.path),
                None => None,
            };
            let rules = calendars.rules(conn, path.as_deref())?;
            let data = rules.calendar.data();
            let mut days = Vec::new();
            let mut date = params.from;
            while date <= params.to {
                let class = data.classify(date);
                days.push(CalendarDay { date, working: class.is_working(), settled: data.is_settled(date), class });
                date += chrono::Duration::days(1);
            }
            Ok(CalendarView { loaded_years: data.loaded_years.iter().copied().collect(), days })
        })
        .await?;
    Ok(HttpResponse::Ok().json(result))
}
