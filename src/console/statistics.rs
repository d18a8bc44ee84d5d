//! The statistics page: a year's report for an agency (and its sub-agencies) in an official format,
//! laid out as its tables, with the cross-checks in words and the CSV and XLSX downloads.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::queue::nav;
use super::{html, ConsoleError, Nav, Tr, Visitor};
use crate::db::calendar::CalendarCache;
use crate::db::Db;
use crate::domain::report::ReportFormat;
use crate::error::AppError;
use crate::service::reports::{self, Report, ReportRequest};
use crate::service::Caller;

#[derive(askama::Template)]
#[template(path = "console/statistics.html")]
struct StatisticsPage {
    tr: Tr,
    nav: Option<Nav>,
    agencies: Vec<(String, String)>,
    agency: String,
    year: i32,
    format: String,
    formats: Vec<(&'static str, &'static str)>,
    subtree: bool,
    report: Option<Report>,
    download: String,
    error: Option<String>,
}

/// A format as the office knows it: by the years it is used for.
fn format_label(tr: &Tr, format: ReportFormat) -> &'static str {
    match (tr.lang(), format) {
        (super::Lang::Zh, ReportFormat::Pre2019) => "2018年及以前表式",
        (super::Lang::Zh, ReportFormat::Y2019) => "2019年试行表式（2019、2020年）",
        (super::Lang::Zh, ReportFormat::Y2021) => "2021年表式（2021年起）",
        (super::Lang::En, ReportFormat::Pre2019) => "up to 2018",
        (super::Lang::En, ReportFormat::Y2019) => "2019 trial (2019-2020)",
        (super::Lang::En, ReportFormat::Y2021) => "2021 (from 2021)",
    }
}

/// GET /statistics?agency=&year=&format=&subtree=1
pub async fn page(
    req: HttpRequest,
    db: web::Data<Db>,
    calendars: web::Data<CalendarCache>,
    params: web::Query<std::collections::HashMap<String, String>>,
) -> Result<HttpResponse, ConsoleError> {
    let (tr, me) = Visitor::of(&req, &db).await?.require(&req)?;
    let today = crate::domain::china_date(chrono::Utc::now());
    let last_year = chrono::Datelike::year(&today) - 1;
    let year = params.get("year").and_then(|y| y.trim().parse().ok()).unwrap_or(last_year);
    let subtree = params.get("subtree").is_some_and(|v| v == "1" || v == "on" || v == "true");
    let asked_format = params.get("format").cloned();
    let asked_agency = params.get("agency").map(|a| a.trim().to_owned()).filter(|a| !a.is_empty());
    let show = asked_agency.is_some();
    let (user, calendars2) = (me.principal.clone(), calendars.clone());
    let result = db
        .run_with_helper(move |conn, helper| {
            let agencies: Vec<(String, String)> = crate::db::agencies::list(conn, user.scope_path())?
                .into_iter()
                .map(|a| (a.code.clone(), format!("{} {}", a.code, a.name)))
                .collect();
            let agency = asked_agency.or_else(|| agencies.first().map(|(c, _)| c.clone())).unwrap_or_default();
            let format = match asked_format.as_deref().and_then(ReportFormat::parse) {
                Some(f) => f,
                None if year <= 2018 => ReportFormat::Pre2019,
                None if year <= 2020 => ReportFormat::Y2019,
                None => ReportFormat::Y2021,
            };
            let report = if show {
                let request = ReportRequest { agency: agency.clone(), subtree, format, year, live: false };
                Some(reports::report(conn, helper, &calendars2, Caller::User(&user), &request))
            } else {
                None
            };
            Ok((agencies, agency, format, report))
        })
        .await
        .map_err(|e| ConsoleError::from_app(e, tr.lang()))?;
    let (agencies, agency, format, report) = result;
    let (report, error) = match report {
        None => (None, None),
        Some(Ok(r)) => (Some(r), None),
        Some(Err(e @ (AppError::Validation(_) | AppError::Forbidden(_) | AppError::NotFound(_)))) => {
            (None, Some(crate::api::problem::Problem::from(&e).detail))
        }
        Some(Err(e)) => return Err(ConsoleError::from_app(e, tr.lang())),
    };
    let download = format!(
        "/api/v1/reports/{}/{year}?agency={}{}",
        format.as_str(),
        form_urlencoded::byte_serialize(agency.as_bytes()).collect::<String>(),
        if subtree { "&subtree=true" } else { "" }
    );
    let nav =
        db.run(move |conn| nav(conn, &calendars, &me, None)).await.map_err(|e| ConsoleError::from_app(e, tr.lang()))?;
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let page = StatisticsPage {
        tr,
        nav: Some(nav),
        agencies,
        agency,
        year,
        format: format.as_str().to_owned(),
        formats: ReportFormat::ALL.iter().map(|&f| (f.as_str(), format_label(&tr, f))).collect(),
        subtree,
        report,
        download,
        error,
    };
    Ok(html(status, &page))
}
