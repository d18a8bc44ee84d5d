//! Signing in and out of the console, and the choice of language.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};

use super::text::LANG_COOKIE;
use super::{check_csrf, field, form_fields, html, same_origin, ConsoleError, Lang, Nav, Tr, Visitor};
use crate::api::limits::Limits;
use crate::api::session::{close_session, open_session, secure, session_cookie, Credentials};
use crate::config::SessionSettings;
use crate::db::Db;
use crate::error::AppError;

#[derive(askama::Template)]
#[template(path = "console/login.html")]
pub struct LoginPage {
    pub tr: Tr,
    pub nav: Option<Nav>,
    pub next: String,
    /// The input of a form whose post found the session ended, urlencoded, to fill it in again.
    pub draft: String,
    pub name: String,
    pub notice: Option<&'static str>,
    pub error: Option<String>,
}

/// Where a sign-in may lead: a path on this site (never another host).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => path.to_owned(),
        _ => "/".to_owned(),
    }
}

/// The sign-in page (GET / without a session).
pub fn login_page(visitor: &Visitor, next: Option<&str>, draft: String, status: StatusCode) -> HttpResponse {
    let page = LoginPage {
        tr: visitor.tr,
        nav: None,
        next: safe_next(next),
        draft,
        name: String::new(),
        notice: visitor.session_ended.then_some("session_ended"),
        error: None,
    };
    html(status, &page)
}

/// POST /login: the sign-in form. The API's sign-in with its limits (failures counted per name
/// and address, a delay after each); then back to `next`, or, when the form carried another form's
/// input (its post found the session ended), that form filled in again.
pub async fn login(
    req: HttpRequest,
    body: web::Bytes,
    db: web::Data<Db>,
    limits: web::Data<Limits>,
    settings: web::Data<SessionSettings>,
    calendars: web::Data<crate::db::calendar::CalendarCache>,
) -> Result<HttpResponse, ConsoleError> {
    let tr = Tr(Lang::of(&req));
    if !same_origin(&req) {
        return Err(ConsoleError::page(StatusCode::FORBIDDEN, tr.lang(), "sign in from this site's own page"));
    }
    let fields = form_fields(&body);
    let next = safe_next(field(&fields, "next"));
    let draft = fields.iter().find(|(k, _)| k == "draft").map(|(_, v)| v.clone()).unwrap_or_default();
    let name = field(&fields, "name").unwrap_or_default().to_owned();
    let credentials = Credentials {
        name: name.clone(),
        password: fields.iter().find(|(k, _)| k == "password").map(|(_, v)| v.clone()).unwrap_or_default(),
    };
    match open_session(&req, &db, &limits, credentials).await {
        Ok(opened) => {
            let cookie = session_cookie(opened.cookie, secure(&req, &settings, &limits));
            if !draft.is_empty() {
                let me = super::Me { principal: opened.principal, session: opened.session };
                let fields = form_fields(draft.as_bytes());
                let case = next.strip_prefix("/cases/").filter(|id| uuid::Uuid::parse_str(id).is_ok());
                let refilled = match (next.as_str(), case) {
                    ("/cases/new", _) => Some(super::register::refill(&db, &calendars, tr, me, &fields).await?),
                    (_, Some(id)) => {
                        Some(super::case_page::refill(&db, &calendars, tr, me, id.to_owned(), &fields).await?)
                    }
                    _ => None,
                };
                if let Some(mut response) = refilled {
                    response.add_cookie(&cookie).map_err(AppError::internal)?;
                    return Ok(response);
                }
            }
            Ok(HttpResponse::SeeOther().insert_header((header::LOCATION, next)).cookie(cookie).finish())
        }
        Err(error) => {
            let status = match &error {
                AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
                AppError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
                AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
                _ => return Err(ConsoleError::from_app(error, tr.lang())),
            };
            let message = match &error {
                AppError::Unauthorized(_) => tr.t("wrong_credentials").to_owned(),
                other => crate::api::problem::Problem::from(other).detail,
            };
            let page = LoginPage { tr, nav: None, next, draft, name, notice: None, error: Some(message) };
            Ok(html(status, &page))
        }
    }
}

/// POST /logout: ends the session everywhere and clears the cookie.
pub async fn logout(
    req: HttpRequest,
    body: web::Bytes,
    db: web::Data<Db>,
    limits: web::Data<Limits>,
    settings: web::Data<SessionSettings>,
) -> Result<HttpResponse, ConsoleError> {
    let visitor = Visitor::of(&req, &db).await?;
    let lang = visitor.tr.lang();
    let Some(me) = visitor.me else {
        return Ok(HttpResponse::SeeOther().insert_header((header::LOCATION, "/")).finish());
    };
    check_csrf(&me, field(&form_fields(&body), "csrf_token"), lang)?;
    let gone = close_session(&req, &db, &limits, &settings, me.principal, me.session)
        .await
        .map_err(|e| ConsoleError::from_app(e, lang))?;
    Ok(HttpResponse::SeeOther().insert_header((header::LOCATION, "/")).cookie(gone).finish())
}

/// POST /language: switches between Chinese and English (a cookie kept for a year) and returns to
/// the page the switch was on.
pub async fn language(body: web::Bytes) -> Result<HttpResponse, ConsoleError> {
    let fields = form_fields(&body);
    let lang = field(&fields, "lang").and_then(Lang::parse).unwrap_or(Lang::Zh);
    let back = safe_next(field(&fields, "back"));
    let cookie = Cookie::build(LANG_COOKIE, lang.code())
        .path("/")
        .same_site(SameSite::Lax)
        .max_age(actix_web::cookie::time::Duration::days(365))
        .finish();
    Ok(HttpResponse::SeeOther().insert_header((header::LOCATION, back)).cookie(cookie).finish())
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn a_sign_in_leads_only_to_this_site() {
        assert_eq!(safe_next(Some("/cases/new")), "/cases/new");
        assert_eq!(safe_next(Some("/search?q=道路")), "/search?q=道路");
        for bad in ["//evil.example/", "https://evil.example/", "/\\evil.example", "cases", ""] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
