//! `GET /api/v1/reports/{format}/{year}`: the annual-report tables as JSON, CSV or XLSX.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

use super::extract::{query, Auth};
use super::problem::Problem;
use crate::db::calendar::CalendarCache;
use crate::db::{agencies, reports, Db};
use crate::domain::report::ReportFormat;
use crate::error::AppError;
use crate::export::{self, Report};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReportParams {
    /// The agency (code) the report is for.
    pub agency: String,
    /// Count the agency's sub-agencies too (default false: the agency alone).
    pub subtree: Option<bool>,
    /// `json` (default), `csv` (UTF-8 with BOM, one table after another) or `xlsx`.
    pub output: Option<String>,
}

/// An annual report, derived from the case records.
///
/// `format` is `pre2019` (the table of the seed report, sections 四 to 七), `y2019` (the 2019 trial
/// national tables 三 and 四) or `y2021` (the 2021 national tables 三 and 四). The cross-checks are
/// always part of the answer. Any role may read the reports of agencies in its scope.
#[utoipa::path(
    get,
    path = "/api/v1/reports/{format}/{year}",
    tag = "reports",
    params(
        ("format" = ReportFormat, Path, description = "pre2019, y2019 or y2021"),
        ("year" = i32, Path, description = "Calendar year, 2008-2100"),
        ReportParams,
    ),
    responses(
        (status = 200, description = "The report (JSON; CSV or XLSX with `output`)", body = Report),
        (status = 401, description = "No or unknown token", body = Problem, content_type = "application/problem+json"),
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
        .ok_or_else(|| AppError::NotFound(format!("no report format `{format}`: use pre2019, y2019 or y2021")))?;
    let year: i32 = year
        .parse()
        .ok()
        .filter(|y| (2008..=2100).contains(y))
        .ok_or_else(|| AppError::validation("year", "must be a year between 2008 and 2100"))?;
    let params: ReportParams = query(&req)?;
    let output = params.output.as_deref().unwrap_or("json");
    if !matches!(output, "json" | "csv" | "xlsx") {
        return Err(AppError::validation("output", "must be json, csv or xlsx"));
    }
    let subtree = params.subtree.unwrap_or(false);
    let report = db
        .run(move |conn| {
            let agency = agencies::find_by_code(conn, &params.agency)?
                .ok_or_else(|| AppError::validation("agency", format!("no agency has code `{}`", params.agency)))?;
            if !user.covers(&agency.path) {
                return Err(AppError::Forbidden(format!("agency `{}` is outside your scope", agency.code)));
            }
            let rules = calendars.rules(conn, Some(&agency.path))?;
            let scope = reports::ReportScope { agency_path: agency.path.clone(), subtree };
            let tallies = reports::tallies(conn, &scope, year, &rules.calendar)?;
            Ok(Report::new(&agency.code, &agency.name, subtree, format, year, &tallies))
        })
        .await?;
    let stem = format!("{}-{}-{}{}", report.agency, report.body.format, year, if subtree { "-subtree" } else { "" });
    Ok(match output {
        "csv" => HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{stem}.csv\"")))
            .body(export::csv(&report)),
        "xlsx" => HttpResponse::Ok()
            .content_type(export::XLSX_MEDIA_TYPE)
            .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{stem}.xlsx\"")))
            .body(export::xlsx(&report)?),
        _ => HttpResponse::Ok().json(report),
    })
}
