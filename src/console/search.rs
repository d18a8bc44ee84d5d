//! Finding cases: by tracking number (straight to the case), by the applicant's phone, e-mail or ID
//! number, by words of the request, with the list API's filters; a page of 50 at a time and the
//! ledger export of the same selection.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};

use super::queue::{lines, nav, CaseLine};
use super::{html, ConsoleError, Nav, Tr, Visitor};
use crate::db::calendar::CalendarCache;
use crate::db::Db;
use crate::domain::intake::Channel;
use crate::error::AppError;
use crate::service::cases::{self, CaseQuery, CaseSort};

const PAGE_SIZE: i64 = 50;

/// The count a search page gives exactly; above it, "more than 500" (an exact count of a frequent
/// word reads a third of the table: seconds at 1M cases).
pub const COUNT_CAP: i64 = 500;

/// A page of results: its lines, the count of all, where the next page starts.
type Found = (Vec<CaseLine>, Option<i64>, Option<String>);

#[derive(askama::Template)]
#[template(path = "console/search.html")]
struct SearchPage {
    tr: Tr,
    nav: Option<Nav>,
    q: String,
    contact: String,
    status: String,
    channel: String,
    channels: Vec<(String, String)>,
    lines: Vec<CaseLine>,
    total: Option<i64>,
    searched: bool,
    next_link: Option<String>,
    export_link: String,
    error: Option<String>,
}

/// GET /search?q=&contact=&status=open|closed&channel=&after=
pub async fn page(
    req: HttpRequest,
    db: web::Data<Db>,
    calendars: web::Data<CalendarCache>,
    params: web::Query<std::collections::HashMap<String, String>>,
) -> Result<HttpResponse, ConsoleError> {
    let (tr, me) = Visitor::of(&req, &db).await?.require(&req)?;
    let get = |k: &str| params.get(k).map(|v| v.trim().to_owned()).unwrap_or_default();
    let (q, contact, status, channel, after) = (get("q"), get("contact"), get("status"), get("channel"), get("after"));
    // A tracking number goes straight to its case.
    if !q.is_empty() && q.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') && q.matches('-').count() >= 2 {
        let (user, number) = (me.principal.clone(), q.clone());
        if let Ok(record) = db.run(move |conn| cases::by_number(conn, &user, &number)).await {
            return Ok(HttpResponse::SeeOther()
                .insert_header((header::LOCATION, format!("/cases/{}", record.row.id)))
                .finish());
        }
    }
    let searched = [&q, &contact, &status, &channel].iter().any(|v| !v.is_empty());
    let mut query = CaseQuery {
        limit: PAGE_SIZE,
        count: true,
        count_cap: Some(COUNT_CAP),
        sort: CaseSort::Newest,
        ..CaseQuery::default()
    };
    let mut export = form_urlencoded::Serializer::new(String::new());
    if !q.is_empty() {
        query.text = Some(q.clone());
        export.append_pair("q", &q);
    }
    // A contact is an e-mail (with @), an ID number (18 characters ending in a digit or X) or a phone.
    if !contact.is_empty() {
        let id_like = contact.len() == 18 && contact[..17].chars().all(|c| c.is_ascii_digit());
        let (key, value) = if contact.contains('@') {
            ("email", &mut query.email)
        } else if id_like {
            ("id_number", &mut query.id_number)
        } else {
            ("phone", &mut query.phone)
        };
        *value = Some(contact.clone());
        export.append_pair(key, &contact);
    }
    match status.as_str() {
        "open" => query.open = Some(true),
        "closed" => query.open = Some(false),
        _ => {}
    }
    if let Some(open) = query.open {
        export.append_pair("open", if open { "true" } else { "false" });
    }
    query.channel = Channel::parse(&channel);
    if let Some(c) = query.channel {
        export.append_pair("channel", c.as_str());
    }
    if !after.is_empty() {
        query.after = Some(after);
    }
    let export_link = format!("/api/v1/cases/export?format=xlsx&{}", export.finish());
    let user = me.principal.clone();
    let calendars2 = calendars.clone();
    let found: Result<Found, AppError> = if searched {
        db.run(move |conn| {
            let page = cases::list(conn, &calendars2, &user, query)?;
            let (total, next) = (page.total, page.next.clone());
            Ok((lines(page, &user)?, total, next))
        })
        .await
    } else {
        Ok((vec![], None, None))
    };
    let (lines, total, next, error) = match found {
        Ok((l, t, n)) => (l, t, n, None),
        Err(e @ (AppError::Validation(_) | AppError::Forbidden(_) | AppError::NotFound(_))) => {
            (vec![], None, None, Some(crate::api::problem::Problem::from(&e).detail))
        }
        Err(e) => return Err(ConsoleError::from_app(e, tr.lang())),
    };
    let next_link = next.map(|after| {
        let mut s = form_urlencoded::Serializer::new(String::new());
        for (k, v) in [("q", &q), ("contact", &contact), ("status", &status), ("channel", &channel), ("after", &after)]
        {
            if !v.is_empty() {
                s.append_pair(k, v);
            }
        }
        format!("/search?{}", s.finish())
    });
    let nav =
        db.run(move |conn| nav(conn, &calendars, &me, None)).await.map_err(|e| ConsoleError::from_app(e, tr.lang()))?;
    let channels = Channel::ALL.iter().map(|c| (c.as_str().to_owned(), tr.channel(c))).collect();
    let status_code = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let page = SearchPage {
        tr,
        nav: Some(nav),
        q,
        contact,
        status,
        channel,
        channels,
        lines,
        total,
        searched,
        next_link,
        export_link,
        error,
    };
    Ok(html(status_code, &page))
}
