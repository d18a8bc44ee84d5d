//! Administration pages (administrators): users (create, role, deactivate, reset password) and their
//! API tokens, agencies and topics, and the working-day calendar (a year's holidays and make-up days,
//! a notice imported, local overlay days). Every change is one form posted to `/admin/act`, which
//! calls the service function the API calls and comes back to the page it was sent from.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{Datelike, NaiveDate};

use super::queue::nav;
use super::{check_csrf, field, form_fields, html, ConsoleError, Me, Nav, Tr, Visitor};
use crate::db::agencies::AgencyRow;
use crate::db::calendar::CalendarCache;
use crate::db::users::{TokenRow, UserRow};
use crate::db::{Db, DbConnection};
use crate::domain::calendar::DayClass;
use crate::domain::role::Role;
use crate::error::AppError;
use crate::service::{accounts, calendar, directory, Caller};

/// The signed-in administrator, or a 403 page.
async fn admin(req: &HttpRequest, db: &Db) -> Result<(Tr, Me), ConsoleError> {
    let (tr, me) = Visitor::of(req, db).await?.require(req)?;
    if !me.principal.role.can_administer() {
        return Err(ConsoleError::page(
            StatusCode::FORBIDDEN,
            tr.lang(),
            "only administrators manage users, agencies and the calendar",
        ));
    }
    Ok((tr, me))
}

/// `done` and `error` notes a page shows after a change (from `/admin/act`'s redirect).
fn notes(req: &HttpRequest) -> (Option<String>, Option<String>) {
    let fields = form_fields(req.query_string().as_bytes());
    (field(&fields, "done").map(str::to_owned), field(&fields, "error").map(str::to_owned))
}

#[derive(askama::Template)]
#[template(path = "console/admin_users.html")]
struct UsersPage {
    tr: Tr,
    nav: Option<Nav>,
    users: Vec<(UserRow, Option<String>)>,
    agencies: Vec<AgencyRow>,
    roles: Vec<(String, String)>,
    done: Option<String>,
    error: Option<String>,
}

/// GET /admin/users
pub async fn users(
    req: HttpRequest,
    db: web::Data<Db>,
    calendars: web::Data<CalendarCache>,
) -> Result<HttpResponse, ConsoleError> {
    let (tr, me) = admin(&req, &db).await?;
    let (done, error) = notes(&req);
    let page = db
        .run(move |conn| {
            let caller = Caller::User(&me.principal);
            let users = directory::users(conn, caller, &directory::UserQuery::default())?;
            let agencies = directory::agencies(conn, caller)?;
            let roles = Role::ALL.iter().map(|&r| (r.as_str().to_owned(), tr.role(r).to_owned())).collect();
            Ok(UsersPage { tr, nav: Some(nav(conn, &calendars, &me, None)?), users, agencies, roles, done, error })
        })
        .await
        .map_err(|e| ConsoleError::from_app(e, tr.lang()))?;
    Ok(html(StatusCode::OK, &page))
}

#[derive(askama::Template)]
#[template(path = "console/admin_user.html")]
struct UserPage {
    tr: Tr,
    nav: Option<Nav>,
    user: UserRow,
    agency: Option<String>,
    tokens: Vec<TokenRow>,
    done: Option<String>,
    error: Option<String>,
}

/// GET /admin/users/{id}: one user's tokens.
pub async fn user(
    req: HttpRequest,
    path: web::Path<String>,
    db: web::Data<Db>,
    calendars: web::Data<CalendarCache>,
) -> Result<HttpResponse, ConsoleError> {
    let (tr, me) = admin(&req, &db).await?;
    let (done, error) = notes(&req);
    let page = db
        .run(move |conn| {
            let caller = Caller::User(&me.principal);
            let (user, agency) = directory::user(conn, caller, &path)?;
            let tokens = directory::tokens(conn, caller, &user.id)?;
            Ok(UserPage { tr, nav: Some(nav(conn, &calendars, &me, None)?), user, agency, tokens, done, error })
        })
        .await
        .map_err(|e| ConsoleError::from_app(e, tr.lang()))?;
    Ok(html(StatusCode::OK, &page))
}

#[derive(askama::Template)]
#[template(path = "console/admin_agencies.html")]
struct AgenciesPage {
    tr: Tr,
    nav: Option<Nav>,
    /// Each agency with its own topics.
    agencies: Vec<(AgencyRow, Vec<(String, String)>)>,
    done: Option<String>,
    error: Option<String>,
}

impl AgenciesPage {
    /// Indentation of an agency in the tree (its depth).
    fn depth(&self, agency: &AgencyRow) -> usize {
        agency.path.matches('/').count().saturating_sub(2)
    }
}

/// GET /admin/agencies
pub async fn agencies(
    req: HttpRequest,
    db: web::Data<Db>,
    calendars: web::Data<CalendarCache>,
) -> Result<HttpResponse, ConsoleError> {
    let (tr, me) = admin(&req, &db).await?;
    let (done, error) = notes(&req);
    let page = db
        .run(move |conn| {
            let caller = Caller::User(&me.principal);
            let mut agencies = Vec::new();
            for agency in directory::agencies(conn, caller)? {
                let topics = directory::topics(conn, caller, &agency.code)?
                    .into_iter()
                    .filter(|t| t.defined_by == agency.code)
                    .map(|t| (t.code, t.label))
                    .collect();
                agencies.push((agency, topics));
            }
            Ok(AgenciesPage { tr, nav: Some(nav(conn, &calendars, &me, None)?), agencies, done, error })
        })
        .await
        .map_err(|e| ConsoleError::from_app(e, tr.lang()))?;
    Ok(html(StatusCode::OK, &page))
}

/// One month of the calendar: weeks of seven cells (None outside the month), Monday first.
pub struct Month {
    pub title: String,
    pub weeks: Vec<Vec<Option<DayCell>>>,
}

pub struct DayCell {
    pub day: u32,
    pub date: NaiveDate,
    /// `weekday`, `weekend`, `holiday`, `makeup` or `provisional`: the cell's class.
    pub class: &'static str,
    pub name: String,
}

#[derive(askama::Template)]
#[template(path = "console/admin_calendar.html")]
struct CalendarPage {
    tr: Tr,
    nav: Option<Nav>,
    year: i32,
    agency: String,
    agencies: Vec<AgencyRow>,
    loaded: bool,
    months: Vec<Month>,
    done: Option<String>,
    error: Option<String>,
}

fn months_of(view: &calendar::CalendarView) -> Vec<Month> {
    let mut months: Vec<Month> = Vec::new();
    for day in &view.days {
        let (class, name) = match &day.class {
            DayClass::Weekday => ("weekday", String::new()),
            DayClass::Weekend => ("weekend", String::new()),
            DayClass::Holiday { name } => ("holiday", name.clone()),
            DayClass::MakeUpWorkday { name } => ("makeup", name.clone()),
            DayClass::ProvisionalHoliday { name } => ("provisional", name.clone()),
        };
        if day.date.day() == 1 || months.is_empty() {
            let lead = day.date.weekday().num_days_from_monday() as usize;
            months.push(Month { title: format!("{}年{}月", day.date.year(), day.date.month()), weeks: vec![vec![]] });
            months.last_mut().expect("just pushed").weeks[0].extend((0..lead).map(|_| None));
        }
        let month = months.last_mut().expect("a month");
        if month.weeks.last().is_some_and(|w| w.len() == 7) {
            month.weeks.push(vec![]);
        }
        let cell = DayCell { day: day.date.day(), date: day.date, class, name };
        month.weeks.last_mut().expect("a week").push(Some(cell));
    }
    for month in &mut months {
        if let Some(week) = month.weeks.last_mut() {
            while week.len() < 7 {
                week.push(None);
            }
        }
    }
    months
}

/// GET /admin/calendar?year=&agency=: a year with its holidays and make-up working days, national or
/// with an agency's overlay.
pub async fn calendar_page(
    req: HttpRequest,
    db: web::Data<Db>,
    calendars: web::Data<CalendarCache>,
    params: web::Query<std::collections::HashMap<String, String>>,
) -> Result<HttpResponse, ConsoleError> {
    let (tr, me) = admin(&req, &db).await?;
    let (done, error) = notes(&req);
    let this_year = crate::domain::china_date(chrono::Utc::now()).year();
    let year = params
        .get("year")
        .and_then(|y| y.trim().parse().ok())
        .filter(|y| (2000..=2099).contains(y))
        .unwrap_or(this_year);
    let agency = params.get("agency").map(|a| a.trim().to_owned()).unwrap_or_default();
    let page = db
        .run(move |conn| {
            let caller = Caller::User(&me.principal);
            let from = NaiveDate::from_ymd_opt(year, 1, 1).expect("a year in range");
            let to = NaiveDate::from_ymd_opt(year, 12, 31).expect("a year in range");
            let scope = (!agency.is_empty()).then_some(agency.as_str());
            let view = calendar::days(conn, &calendars, caller, scope, from, to)?;
            let loaded = view.loaded_years.contains(&year);
            let agencies = directory::agencies(conn, caller)?;
            Ok(CalendarPage {
                tr,
                nav: Some(nav(conn, &calendars, &me, None)?),

                year,
                agency,
                agencies,
                loaded,
                months: months_of(&view),
                done,
                error,
            })
        })
        .await
        .map_err(|e| ConsoleError::from_app(e, tr.lang()))?;
    Ok(html(StatusCode::OK, &page))
}

#[derive(askama::Template)]
#[template(path = "console/admin_token.html")]
struct TokenShown {
    tr: Tr,
    nav: Option<Nav>,
    user_name: String,
    token: String,
    back: String,
}

/// What a change did: a note for the page it returns to, or a token to show once.
enum Changed {
    Note(String),
    Token { user_name: String, token: String },
}

/// The change a form asks for, through the service as the signed-in administrator.
fn change(
    conn: &mut DbConnection,
    calendars: &CalendarCache,
    me: &Me,
    fields: &[(String, String)],
) -> Result<Changed, AppError> {
    let caller = Caller::User(&me.principal);
    let text = |name: &str| field(fields, name).unwrap_or_default().to_owned();
    let optional = |name: &str| field(fields, name).map(str::to_owned);
    let role = |name: &str| Role::parse(&text(name)).ok_or_else(|| AppError::validation(name, "is not a role"));
    let date = |name: &str| {
        NaiveDate::parse_from_str(&text(name), "%Y-%m-%d")
            .map_err(|_| AppError::validation(name, "must be a date YYYY-MM-DD"))
    };
    let op = text("op");
    Ok(match op.as_str() {
        "create_user" => {
            let (user, token) = directory::add_user(
                conn,
                caller,
                &text("name"),
                role("role")?,
                optional("agency").as_deref(),
                optional("email").as_deref(),
                optional("login").as_deref(),
            )?;
            if let Some(password) = optional("password") {
                accounts::set_password(conn, caller, &user.id, &password, None, None)?;
            }
            Changed::Token { user_name: user.name, token }
        }
        "set_role" => {
            let change = directory::UserChange { role: Some(role("role")?), ..Default::default() };
            let (user, _) = directory::change_user(conn, caller, &text("user_id"), &change)?;
            Changed::Note(format!("{}: {}", user.name, user.role))
        }
        "deactivate" | "reactivate" => {
            let (user, _) = directory::set_active(conn, caller, &text("user_id"), op == "reactivate")?;
            Changed::Note(format!("{}: {op}d", user.name))
        }
        "reset_password" => {
            let (user, _) = accounts::set_password(conn, caller, &text("user_id"), &text("password"), None, None)?;
            Changed::Note(format!("{}: password set, sessions ended", user.name))
        }
        "create_token" => {
            let (user, _) = directory::user(conn, caller, &text("user_id"))?;
            let (_, token) = directory::create_token(conn, caller, &user.id, &text("name"), None)?;
            Changed::Token { user_name: user.name, token }
        }
        "revoke_token" => {
            directory::revoke_token(conn, caller, &text("user_id"), &text("token_id"))?;
            Changed::Note("token revoked".into())
        }
        "add_agency" => {
            let new = directory::NewAgency {
                code: text("code"),
                name: text("name"),
                parent: optional("parent"),
                email: optional("email"),
            };
            let agency = directory::add_agency(conn, caller, &new)?;
            Changed::Note(format!("{} {}", agency.code, agency.name))
        }
        "put_topic" => {
            let topic = directory::put_topic(conn, caller, &text("agency"), &text("code"), &text("label"))?;
            Changed::Note(format!("{} {}", topic.code, topic.label))
        }
        "set_day" => {
            let agency = optional("agency");
            let off = text("kind") != "working";
            let changed =
                calendar::set_day(conn, calendars, caller, agency.as_deref(), date("date")?, off, &text("name"))?;
            Changed::Note(moved(&text("date"), &changed))
        }
        "clear_day" => {
            let agency = optional("agency");
            let changed = calendar::clear_day(conn, calendars, caller, agency.as_deref(), date("date")?)?;
            Changed::Note(moved(&text("date"), &changed))
        }
        "import_notice" => {
            let notice: crate::domain::calendar::YearNotice = serde_json::from_str(&text("notice")).map_err(|e| {
                AppError::validation("notice", format!("is not a notice in the holiday-cn format: {e}"))
            })?;
            let via = format!("by {} in the console", me.principal.name);
            let changed = calendar::import_notice(conn, calendars, caller, &notice, &via)?;
            Changed::Note(moved(&notice.year.to_string(), &changed))
        }
        other => return Err(AppError::validation("op", format!("`{other}` is not a change this page makes"))),
    })
}

/// What a calendar change did to open cases.
fn moved(what: &str, changed: &calendar::CalendarChange) -> String {
    format!("{what}: {} open case(s) examined, {} deadline(s) moved", changed.examined, changed.recomputed.len())
}

/// Where a change returns: an admin page (never another site), with a note.
fn back_to(fields: &[(String, String)], key: &str, note: &str) -> String {
    let back =
        field(fields, "back").filter(|b| b.starts_with("/admin/") && !b.contains("//")).unwrap_or("/admin/users");
    let (path, query) = back.split_once('?').unwrap_or((back, ""));
    let mut kept = form_urlencoded::Serializer::new(String::new());
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        if k != "done" && k != "error" {
            kept.append_pair(&k, &v);
        }
    }
    kept.append_pair(key, note);
    format!("{path}?{}", kept.finish())
}

/// POST /admin/act: one change from an administration page.
pub async fn act(
    req: HttpRequest,
    body: web::Bytes,
    db: web::Data<Db>,
    calendars: web::Data<CalendarCache>,
) -> Result<HttpResponse, ConsoleError> {
    let (tr, me) = admin(&req, &db).await?;
    let fields = form_fields(&body);
    check_csrf(&me, field(&fields, "csrf_token"), tr.lang())?;
    let back = back_to(&fields, "done", "");
    let fields_for_change = fields.clone();
    let calendars2 = calendars.clone();
    let outcome = db
        .run(move |conn| {
            let changed = change(conn, &calendars2, &me, &fields_for_change)?;
            Ok((changed, me))
        })
        .await;
    match outcome {
        Ok((Changed::Note(note), _)) => {
            Ok(HttpResponse::SeeOther().insert_header((header::LOCATION, back_to(&fields, "done", &note))).finish())
        }
        Ok((Changed::Token { user_name, token }, me)) => {
            let nav = db
                .run(move |conn| nav(conn, &calendars, &me, None))
                .await
                .map_err(|e| ConsoleError::from_app(e, tr.lang()))?;
            Ok(html(StatusCode::OK, &TokenShown { tr, nav: Some(nav), user_name, token, back }))
        }
        Err(
            error @ (AppError::Validation(_) | AppError::Forbidden(_) | AppError::NotFound(_) | AppError::Conflict(_)),
        ) => {
            let problem = crate::api::problem::Problem::from(&error);
            let detail = match problem.errors {
                Some(errors) if !errors.is_empty() => {
                    errors.iter().map(|e| format!("{}: {}", e.path, e.message)).collect::<Vec<_>>().join("; ")
                }
                _ => problem.detail,
            };
            Ok(HttpResponse::SeeOther().insert_header((header::LOCATION, back_to(&fields, "error", &detail))).finish())
        }
        Err(other) => Err(ConsoleError::from_app(other, tr.lang())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_returns_to_an_admin_page_only() {
        let f = |back: &str| vec![("back".to_owned(), back.to_owned())];
        assert_eq!(back_to(&f("/admin/calendar?year=2026&done=x"), "done", "ok"), "/admin/calendar?year=2026&done=ok");
        assert_eq!(back_to(&f("https://evil.example/admin/"), "error", "e"), "/admin/users?error=e");
        assert_eq!(back_to(&f("/admin//evil.example"), "done", "d"), "/admin/users?done=d");
    }

    #[test]
    fn a_month_starts_on_its_weekday() {
        let view = calendar::CalendarView {
            loaded_years: vec![],
            days: (0..31)
                .map(|i| {
                    let date = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap() + chrono::Duration::days(i);
                    calendar::CalendarDay { date, working: true, settled: true, class: DayClass::Weekday }
                })
                .collect(),
        };
        let months = months_of(&view);
        assert_eq!(months.len(), 1);
        // 1 January 2026 is a Thursday: three empty cells first.
        assert!(months[0].weeks[0][..3].iter().all(Option::is_none));
        assert_eq!(months[0].weeks[0][3].as_ref().unwrap().day, 1);
        assert!(months[0].weeks.iter().all(|w| w.len() == 7));
    }
}
