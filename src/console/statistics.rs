//! The statistics page: a year's report for an agency (and its sub-agencies) in an official format,
//! laid out as its tables (the form's multi-level headers), with the cross-checks in words, the CSV
//! and XLSX downloads, and, for the statistician, locking the year once the report is published.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};

use super::queue::nav;
use super::{check_csrf, field, form_fields, html, ConsoleError, Nav, Tr, Visitor};
use crate::db::calendar::CalendarCache;
use crate::db::Db;
use crate::domain::report::{layout, HeaderCell, ReportFormat, Row};
use crate::error::AppError;
use crate::service::reports::{self, Report, ReportRequest};
use crate::service::Caller;

/// A table as the official form draws it.
pub struct LaidOut {
    pub title: String,
    pub corner: &'static str,
    pub label_column: bool,
    pub header_rows: u16,
    /// The header cells by header row.
    pub header: Vec<Vec<HeaderCell>>,
    pub has_unit: bool,
    pub rows: Vec<Row>,
}

fn laid_out(report: &Report) -> Vec<LaidOut> {
    let body = &report.body;
    body.tables
        .iter()
        .enumerate()
        .map(|(i, table)| {
            let layout = layout(body.format, body.year, i, table);
            let header = (0..layout.header_rows)
                .map(|r| layout.header.iter().filter(|c| c.row == r).cloned().collect())
                .collect();
            LaidOut {
                title: layout.title,
                corner: layout.corner,
                label_column: layout.label_column,
                header_rows: layout.header_rows,
                header,
                has_unit: table.rows.iter().any(|r| r.unit.is_some()),
                rows: table.rows.clone(),
            }
        })
        .collect()
}

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
    live: bool,
    report: Option<Report>,
    tables: Vec<LaidOut>,
    /// The name of who locked the year, and when (Beijing time).
    locked_by: String,
    locked_at: String,
    /// The user may lock this (ended, unlocked) year.
    can_lock: bool,
    /// The page's own address, to return to.
    here: String,
    download: String,
    notice: Option<&'static str>,
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

fn encode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

fn truthy(value: Option<&String>) -> bool {
    value.is_some_and(|v| v == "1" || v == "on" || v == "true")
}

/// GET /statistics?agency=&year=&format=&subtree=1[&live=1]
pub async fn page(
    req: HttpRequest,
    db: web::Data<Db>,
    calendars: web::Data<CalendarCache>,
    params: web::Query<std::collections::HashMap<String, String>>,
) -> Result<HttpResponse, ConsoleError> {
    let (tr, me) = Visitor::of(&req, &db).await?.require(&req)?;
    let today = crate::domain::china_date(chrono::Utc::now());
    let this_year = chrono::Datelike::year(&today);
    let year = params.get("year").and_then(|y| y.trim().parse().ok()).unwrap_or(this_year - 1);
    let subtree = truthy(params.get("subtree"));
    let live = truthy(params.get("live"));
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
            let format =
                asked_format.as_deref().and_then(ReportFormat::parse).unwrap_or(ReportFormat::official_for(year));
            let report = if show {
                let request = ReportRequest { agency: agency.clone(), subtree, format, year, live };
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
    let query = format!(
        "agency={}&year={year}&format={}{}",
        encode(&agency),
        format.as_str(),
        if subtree { "&subtree=1" } else { "" }
    );
    let download = format!(
        "/api/v1/reports/{}/{year}?agency={}{}{}",
        format.as_str(),
        encode(&agency),
        if subtree { "&subtree=true" } else { "" },
        if live { "&live=true" } else { "" }
    );
    let can_lock =
        me.principal.role.can_lock_reports() && year < this_year && report.as_ref().is_some_and(|r| r.lock.is_none());
    let notice = params.contains_key("locked").then_some("lock_done");
    let lock = report.as_ref().and_then(|r| r.lock.as_ref());
    let locker = lock.map(|l| l.locked_by.clone());
    let locked_at = lock
        .map(|l| l.locked_at.with_timezone(&crate::domain::china_offset()).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default();
    let (nav, locked_by) = db
        .run(move |conn| {
            let name = match locker {
                Some(id) => crate::db::users::find(conn, &id)?.map(|(u, _)| u.name).unwrap_or(id),
                None => String::new(),
            };
            Ok((nav(conn, &calendars, &me, None)?, name))
        })
        .await
        .map_err(|e| ConsoleError::from_app(e, tr.lang()))?;
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let tables = report.as_ref().map(laid_out).unwrap_or_default();
    let page = StatisticsPage {
        tr,
        nav: Some(nav),
        agencies,
        agency,
        year,
        format: format.as_str().to_owned(),
        formats: ReportFormat::ALL.iter().map(|&f| (f.as_str(), format_label(&tr, f))).collect(),
        subtree,
        live,
        report,
        tables,
        locked_by,
        locked_at,
        can_lock,
        here: format!("/statistics?{query}"),
        download,
        notice,
        error,
    };
    Ok(html(status, &page))
}

/// POST /statistics/lock: the statistician locks the year's report as published (the API's
/// `POST /api/v1/reports/locks`), then sees it with the lock.
pub async fn lock(
    req: HttpRequest,
    body: web::Bytes,
    db: web::Data<Db>,
    calendars: web::Data<CalendarCache>,
) -> Result<HttpResponse, ConsoleError> {
    let (tr, me) = Visitor::of(&req, &db).await?.require(&req)?;
    let fields = form_fields(&body);
    check_csrf(&me, field(&fields, "csrf_token"), tr.lang())?;
    let agency = field(&fields, "agency").unwrap_or_default().to_owned();
    let year: i32 = field(&fields, "year")
        .and_then(|y| y.parse().ok())
        .ok_or_else(|| ConsoleError::page(StatusCode::UNPROCESSABLE_ENTITY, tr.lang(), "year: a year is required"))?;
    let subtree = field(&fields, "subtree").is_some_and(|v| v == "1");
    let format = field(&fields, "format").and_then(ReportFormat::parse).unwrap_or(ReportFormat::Y2021);
    let user = me.principal.clone();
    let code = agency.clone();
    db.run_with_helper(move |conn, helper| reports::lock(conn, helper, &calendars, &user, &code, year, subtree))
        .await
        .map_err(|e| ConsoleError::from_app(e, tr.lang()))?;
    let back = format!(
        "/statistics?agency={}&year={year}&format={}{}&locked=1",
        encode(&agency),
        format.as_str(),
        if subtree { "&subtree=1" } else { "" }
    );
    Ok(HttpResponse::SeeOther().insert_header((header::LOCATION, back)).finish())
}
