//! `GET /api/v1/reports/{format}/{year}`: the annual-report tables as JSON, CSV or XLSX.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::extract::{query, Auth};
use super::problem::Problem;
use crate::db::calendar::CalendarCache;
use crate::db::Db;
use crate::domain::report::ReportFormat;
use crate::error::AppError;
use crate::service::reports::{self, Output, Report, ReportRequest};
use crate::service::Caller;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReportParams {
    /// The agency (code) the report is for.
    pub agency: String,
    /// Count the agency's sub-agencies too (default false: the agency alone).
    pub subtree: Option<bool>,
    /// `json` (default), `csv` (UTF-8 with BOM, one table after another) or `xlsx` (the official
    /// layout).
    pub output: Option<String>,
    /// For a locked (published) year: recompute the numbers now instead of returning the published
    /// ones (default false).
    pub live: Option<bool>,
}

/// An annual report, derived from the case records.
///
/// `format` is `pre2019` (the table of the seed report, sections 四 to 七), `y2019` (the 2019 trial
/// national tables 三 and 四) or `y2021` (the 2021 national tables 三 and 四). The cross-checks are
/// always part of the answer. Any role may read the reports of agencies in its scope.
#[utoipa::path(
    get,
    operation_id = "getReport",
    path = "/api/v1/reports/{format}/{year}",
    tag = "reports",
    params(
        ("format" = ReportFormat, Path, description = "pre2019, y2019 or y2021"),
        ("year" = i32, Path, description = "Calendar year, 2008-2100"),
        ReportParams,
    ),
    responses(
        (status = 200, description = "The report (JSON; CSV or XLSX with `output`)", body = Report),
        (status = 403, description = "Agency outside your scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown format", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad year, agency or output", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn get(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    Auth(user): Auth,
    db: web::Data<Db>,
    calendars: web::Data<CalendarCache>,
) -> Result<HttpResponse, AppError> {
    let (format, year) = path.into_inner();
    let format = ReportFormat::parse(&format)
        .ok_or_else(|| AppError::NotFound(format!("no report format `{format}`: use {}", ReportFormat::choices())))?;
    let year: i32 = year.parse().map_err(|_| AppError::validation("year", "must be a year between 2008 and 2100"))?;
    let params: ReportParams = query(&req)?;
    let output = match params.output.as_deref() {
        None => Output::Json,
        Some(text) => Output::parse(text)
            .ok_or_else(|| AppError::validation("output", format!("must be {}", Output::choices())))?,
    };
    let subtree = params.subtree.unwrap_or(false);
    let request = ReportRequest { agency: params.agency, subtree, format, year, live: params.live.unwrap_or(false) };
    let report = db
        .run_with_helper(move |conn, helper| reports::report(conn, helper, &calendars, Caller::User(&user), &request))
        .await?;
    let stem = format!("{}-{}-{}{}", report.agency, report.body.format, year, if subtree { "-subtree" } else { "" });
    Ok(match output {
        Output::Json => HttpResponse::Ok().json(report),
        other => HttpResponse::Ok()
            .content_type(other.media_type())
            .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{stem}.{}\"", other.as_str())))
            .body(other.render(&report)?),
    })
}

/// What to lock.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LockRequest {
    /// The agency (code).
    pub agency: String,
    pub year: i32,
    /// Lock the report that counts the sub-agencies too (default false).
    #[serde(default)]
    pub subtree: bool,
}

/// A lock as created.
#[derive(Debug, serde::Serialize, Deserialize, ToSchema)]
pub struct LockResponse {
    pub agency: String,
    pub year: i32,
    pub subtree: bool,
    pub locked_by: String,
    pub locked_at: chrono::DateTime<chrono::Utc>,
}

/// Lock a published year's report (statistician or administrator).
///
/// The reports of every format are kept as they are now and returned for that year from then on.
/// A later change that would alter the year's numbers is refused (409 `report-locked`), unless an
/// administrator sends `Report-Lock-Override: <reason>`, which records it as a post-publication
/// correction. Only a year that has ended can be locked.
#[utoipa::path(
    post,
    operation_id = "lockReport",
    path = "/api/v1/reports/locks",
    tag = "reports",
    request_body(content = LockRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "Locked", body = LockResponse),
        (status = 403, description = "Role or scope does not allow it", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already locked", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad agency or year", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn lock(
    req: HttpRequest,
    body: web::Bytes,
    Auth(user): Auth,
    db: web::Data<Db>,
    calendars: web::Data<CalendarCache>,
) -> Result<HttpResponse, AppError> {
    // Refused before the body is read, so a caller without the right learns nothing from validation.
    if !user.role.can_lock_reports() {
        return Err(AppError::Forbidden(format!("the {} role cannot lock reports", user.role)));
    }
    let input: LockRequest = super::extract::json_body(&req, &body)?;
    let (agency, lock) = db
        .run_with_helper(move |conn, helper| {
            reports::lock(conn, helper, &calendars, &user, &input.agency, input.year, input.subtree)
        })
        .await?;
    let response = LockResponse {
        agency,
        year: lock.year,
        subtree: lock.subtree,
        locked_by: lock.locked_by,
        locked_at: lock.locked_at.and_utc(),
    };
    Ok(HttpResponse::Created().json(response))
}
