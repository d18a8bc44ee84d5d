//! The home page: without a session the sign-in form; with one the work queue (待办) of the user's
//! role, and the counts every page's header shows.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{NaiveDate, Utc};

use super::{html, ConsoleError, Me, Nav, Tr, Visitor};
use crate::api::cases::CaseResponse;
use crate::db::calendar::CalendarCache;
use crate::db::Db;
use crate::domain::deadline::Timeliness;
use crate::domain::role::{Principal, Role};
use crate::domain::workflow::CaseState;
use crate::error::AppError;
use crate::service::cases::{self, CaseQuery, CaseSort};

/// How many cases a queue shows (the header counts them all).
const QUEUE_SIZE: i64 = 100;

/// One line of a case list, as every list page shows it.
pub struct CaseLine {
    pub case: CaseResponse,
    /// 剩余 N 个工作日 (negative: overdue), for open cases with a running clock.
    pub working_days_left: Option<i64>,
}

impl CaseLine {
    pub fn of(case: CaseResponse) -> CaseLine {
        let working_days_left = match case.deadline.timeliness {
            Timeliness::Open { working_days_left } => Some(working_days_left),
            Timeliness::Overdue { working_days_overdue } => Some(-working_days_overdue),
            _ => None,
        };
        CaseLine { case, working_days_left }
    }

    /// The colour class of the deadline: red overdue or due today, orange within 2 working days.
    pub fn urgency(&self) -> &'static str {
        match self.working_days_left {
            Some(n) if n <= 0 => "due-red",
            Some(1..=2) => "due-orange",
            _ => "due-normal",
        }
    }

    /// What a stopped clock waits for (the glossary's 等待补正, 征求第三方意见, 等待缴费).
    pub fn waits_for(&self) -> Option<&'static str> {
        match self.case.state {
            CaseState::AwaitingCorrection => Some("waits_correction"),
            CaseState::Consulting => Some("waits_consultation"),
            CaseState::AwaitingFee => Some("waits_fee"),
            _ => None,
        }
    }

    pub fn is_open(&self) -> bool {
        matches!(
            self.case.deadline.timeliness,
            Timeliness::Open { .. } | Timeliness::Overdue { .. } | Timeliness::Stopped
        )
    }

    /// The description's first 60 characters.
    pub fn gist(&self) -> String {
        let text = &self.case.description;
        let mut gist: String = text.chars().take(60).collect();
        if text.chars().count() > 60 {
            gist.push('…');
        }
        gist
    }
}

/// The cases of `page` as list lines, each masked as `user` may see it.
pub fn lines(page: cases::CasePage, user: &Principal) -> Result<Vec<CaseLine>, AppError> {
    let show = user.role.sees_personal_data();
    page.cases
        .iter()
        .map(|(record, calendar)| Ok(CaseLine::of(CaseResponse::from_record(record, show, calendar)?)))
        .collect()
}

/// Which queue a role works from.
fn queue_query(user: &Principal) -> (&'static str, CaseQuery) {
    let base = CaseQuery { limit: QUEUE_SIZE, count: true, ..CaseQuery::default() };
    match user.role {
        Role::Handler => (
            "queue_handler",
            CaseQuery { handler_id: Some(user.user_id.clone()), open: Some(true), sort: CaseSort::Due, ..base },
        ),
        Role::Approver => {
            ("queue_approver", CaseQuery { states: vec![CaseState::ReplyDrafted], sort: CaseSort::Due, ..base })
        }
        // Newest first: the page keeps those registered today (China time).
        Role::Clerk => ("queue_clerk", CaseQuery { sort: CaseSort::Newest, count: false, ..base }),
        Role::Admin | Role::Statistician => {
            ("queue_overdue", CaseQuery { overdue: Some(true), sort: CaseSort::Due, ..base })
        }
    }
}

/// The header's counts for `user`: the queue (unless the page already counted it) and the scope's
/// overdue cases.
pub fn nav(
    conn: &mut crate::db::DbConnection,
    calendars: &CalendarCache,
    me: &Me,
    waiting: Option<i64>,
) -> Result<Nav, AppError> {
    let user = &me.principal;
    let (_, query) = queue_query(user);
    let waiting = match (waiting, user.role) {
        (Some(n), _) => n,
        (None, Role::Clerk) => 0,
        (None, _) => cases::count(conn, calendars, user, &query)?,
    };
    // An administrator's and a statistician's queue is the overdue list: counted once.
    let overdue = match user.role {
        Role::Admin | Role::Statistician => waiting,
        _ => {
            let overdue_query = CaseQuery { overdue: Some(true), limit: 1, ..CaseQuery::default() };
            cases::count(conn, calendars, user, &overdue_query)?
        }
    };
    Ok(Nav { name: user.name.clone(), role: user.role, csrf_token: me.session.csrf_token.clone(), waiting, overdue })
}

#[derive(askama::Template)]
#[template(path = "console/queue.html")]
struct QueuePage {
    tr: Tr,
    nav: Option<Nav>,
    title: &'static str,
    lines: Vec<CaseLine>,
    total: i64,
}

/// GET /: the sign-in page, or the work queue.
pub async fn home(
    req: HttpRequest,
    db: web::Data<Db>,
    calendars: web::Data<CalendarCache>,
    query: web::Query<std::collections::HashMap<String, String>>,
) -> Result<HttpResponse, ConsoleError> {
    let visitor = Visitor::of(&req, &db).await?;
    let Some(me) = visitor.me else {
        return Ok(super::auth::login_page(
            &visitor,
            query.get("next").map(String::as_str),
            String::new(),
            StatusCode::OK,
        ));
    };
    let tr = visitor.tr;
    let lang = tr.lang();
    let page = db
        .run(move |conn| {
            let (title, query) = queue_query(&me.principal);
            let clerk = me.principal.role == Role::Clerk;
            let found = cases::list(conn, &calendars, &me.principal, query)?;
            let mut total = found.total.unwrap_or(0);
            let mut lines = lines(found, &me.principal)?;
            if clerk {
                let today: NaiveDate = crate::domain::china_date(Utc::now());
                lines.retain(|l| crate::domain::china_date(l.case.created_at) == today);
                total = lines.len() as i64;
            }
            let nav = nav(conn, &calendars, &me, Some(total))?;
            Ok(QueuePage { tr, nav: Some(nav), title, lines, total })
        })
        .await
        .map_err(|e| ConsoleError::from_app(e, lang))?;
    Ok(html(StatusCode::OK, &page))
}
