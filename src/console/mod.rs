//! The clerk console: server-rendered pages (askama templates compiled into the binary, htmx
//! vendored under `static/vendor`) in Chinese by default, served by `foi-tracker serve` at `/`.
//!
//! Every page reads and writes through the service layer with the signed-in user as the caller, the
//! same functions the REST API calls, so the console can do nothing the API could not. Pages are
//! plain forms and links that work without JavaScript; htmx only spares a reload (the receipt-date
//! preview on the register form).
//!
//! Sign-in is the API's browser session (`foi_session` cookie). Every console form carries the
//! session's CSRF token in a hidden field, checked before anything is read from the form.

mod admin;
mod auth;
mod case_page;
mod papers;
mod queue;
mod register;
mod search;
mod statistics;
pub mod text;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};

use crate::api::problem::Problem;
use crate::config::SessionSettings;
use crate::db::sessions::SessionRow;
use crate::db::Db;
use crate::domain::role::{Principal, Role};
use crate::error::AppError;
use crate::service::accounts::{self, SessionCheck};
pub use text::{Lang, Tr};

/// The console's routes. The API's paths (`/api/v1`, `/healthz`, ...) are registered before these.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/").route(web::get().to(queue::home)))
        .service(web::resource("/login").route(web::post().to(auth::login)))
        .service(web::resource("/logout").route(web::post().to(auth::logout)))
        .service(web::resource("/language").route(web::post().to(auth::language)))
        .service(web::resource("/static/{file}").route(web::get().to(asset)))
        .service(
            web::resource("/cases/new").route(web::get().to(register::form)).route(web::post().to(register::submit)),
        )
        .service(web::resource("/cases/receipt-preview").route(web::get().to(register::preview)))
        .service(web::resource("/cases/{id}").route(web::get().to(case_page::show)))
        .service(web::resource("/cases/{id}/act").route(web::post().to(case_page::act)))
        .service(web::resource("/cases/{id}/documents").route(web::post().to(papers::generate)))
        .service(web::resource("/cases/{id}/documents/{version_id}/print").route(web::get().to(papers::print)))
        .service(web::resource("/cases/{id}/attachments").route(web::post().to(papers::upload)))
        .service(web::resource("/search").route(web::get().to(search::page)))
        .service(web::resource("/statistics").route(web::get().to(statistics::page)))
        .service(web::resource("/statistics/lock").route(web::post().to(statistics::lock)))
        .service(web::resource("/admin/users").route(web::get().to(admin::users)))
        .service(web::resource("/admin/users/{id}").route(web::get().to(admin::user)))
        .service(web::resource("/admin/agencies").route(web::get().to(admin::agencies)))
        .service(web::resource("/admin/calendar").route(web::get().to(admin::calendar_page)))
        .service(web::resource("/admin/act").route(web::post().to(admin::act)));
}

const STYLESHEET: &[u8] = include_bytes!("../../static/console/console.css");

/// The stylesheet's address: its name carries a hash of its content, so it can be cached for a year
/// and a changed stylesheet is a new address.
pub fn stylesheet() -> &'static str {
    static PATH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        use sha2::Digest;
        format!("/static/console-{}.css", &hex::encode(sha2::Sha256::digest(STYLESHEET))[..12])
    });
    PATH.as_str()
}

/// The files the pages load, compiled in (no CDN, works offline), by their versioned names.
fn asset_named(file: &str) -> Option<(&'static str, &'static [u8])> {
    const HTMX: &[u8] = include_bytes!("../../static/vendor/htmx/htmx-2.0.11.min.js");
    match file {
        "htmx-2.0.11.min.js" => Some(("text/javascript; charset=utf-8", HTMX)),
        _ if stylesheet().strip_prefix("/static/") == Some(file) => Some(("text/css; charset=utf-8", STYLESHEET)),
        _ => None,
    }
}

async fn asset(file: web::Path<String>) -> HttpResponse {
    match asset_named(file.as_str()) {
        Some((media_type, bytes)) => HttpResponse::Ok()
            .content_type(media_type)
            .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
            .body(bytes),
        None => ConsoleError::page(StatusCode::NOT_FOUND, Lang::Zh, "no such file").error_response(),
    }
}

/// The signed-in user of a page.
pub struct Me {
    pub principal: Principal,
    pub session: SessionRow,
}

/// Who is asking for a page: their language, and their session if the cookie names a live one.
pub struct Visitor {
    pub tr: Tr,
    pub me: Option<Me>,
    /// A session cookie came but named no live session (timed out, signed out elsewhere).
    pub session_ended: bool,
}

impl Visitor {
    pub async fn of(req: &HttpRequest, db: &Db) -> Result<Visitor, AppError> {
        let tr = Tr(Lang::of(req));
        let Some(cookie) = req.cookie(crate::api::extract::SESSION_COOKIE) else {
            return Ok(Visitor { tr, me: None, session_ended: false });
        };
        let policy = req
            .app_data::<web::Data<SessionSettings>>()
            .map(|s| s.policy())
            .ok_or_else(|| AppError::Internal("session settings missing".into()))?;
        let value = cookie.value().to_owned();
        Ok(match db.run(move |conn| accounts::authenticate(conn, &value, &policy)).await? {
            SessionCheck::Valid { principal, session } => {
                Visitor { tr, me: Some(Me { principal, session: *session }), session_ended: false }
            }
            SessionCheck::Unknown | SessionCheck::Ended | SessionCheck::Deactivated => {
                Visitor { tr, me: None, session_ended: true }
            }
        })
    }

    /// The signed-in user, or a trip to the sign-in page that comes back here.
    pub fn require(self, req: &HttpRequest) -> Result<(Tr, Me), ConsoleError> {
        match self.me {
            Some(me) => Ok((self.tr, me)),
            None => Err(ConsoleError::SignIn { next: req.uri().to_string() }),
        }
    }
}

/// Checks a console form's hidden `csrf_token` against the session's.
pub fn check_csrf(me: &Me, sent: Option<&str>, lang: Lang) -> Result<(), ConsoleError> {
    match sent {
        Some(sent) if crate::api::extract::same_secret(sent, &me.session.csrf_token) => Ok(()),
        _ => Err(ConsoleError::page(
            StatusCode::FORBIDDEN,
            lang,
            "the form's security token does not match this session; reload the page and try again",
        )),
    }
}

/// The header every signed-in page shows: who, the role, the counts, the links the role may use.
pub struct Nav {
    pub name: String,
    pub role: Role,
    pub csrf_token: String,
    /// The queue's count (待办) and the scope's overdue cases.
    pub waiting: i64,
    pub overdue: i64,
}

impl Nav {
    pub fn can_register(&self) -> bool {
        self.role.can_register()
    }

    pub fn can_administer(&self) -> bool {
        self.role.can_administer()
    }

    pub fn role_label(&self, tr: &Tr) -> &'static str {
        tr.role(self.role)
    }
}

/// A page that could not be shown: the sign-in page (no session), or an error page in HTML.
#[derive(Debug)]
pub enum ConsoleError {
    SignIn { next: String },
    Page { status: StatusCode, lang: Lang, detail: String },
}

impl ConsoleError {
    pub fn page(status: StatusCode, lang: Lang, detail: impl Into<String>) -> ConsoleError {
        ConsoleError::Page { status, lang, detail: detail.into() }
    }

    /// A service error shown in `lang`.
    pub fn from_app(error: AppError, lang: Lang) -> ConsoleError {
        let problem = Problem::from(&error);
        let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if status.is_server_error() {
            tracing::error!(error = %error, "console page failed");
        }
        ConsoleError::Page { status, lang, detail: problem.detail }
    }
}

impl From<AppError> for ConsoleError {
    fn from(error: AppError) -> Self {
        ConsoleError::from_app(error, Lang::Zh)
    }
}

impl std::fmt::Display for ConsoleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConsoleError::SignIn { next } => write!(f, "sign in to see {next}"),
            ConsoleError::Page { detail, .. } => f.write_str(detail),
        }
    }
}

#[derive(askama::Template)]
#[template(path = "console/error.html")]
struct ErrorPage<'a> {
    tr: Tr,
    nav: Option<Nav>,
    status: u16,
    detail: &'a str,
}

impl ResponseError for ConsoleError {
    fn status_code(&self) -> StatusCode {
        match self {
            ConsoleError::SignIn { .. } => StatusCode::SEE_OTHER,
            ConsoleError::Page { status, .. } => *status,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            ConsoleError::SignIn { next } => {
                let target = format!("/?next={}", form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>());
                HttpResponse::SeeOther().insert_header((header::LOCATION, target)).finish()
            }
            ConsoleError::Page { status, lang, detail } => {
                let page = ErrorPage { tr: Tr(*lang), nav: None, status: status.as_u16(), detail };
                html(*status, &page)
            }
        }
    }
}

/// A rendered page with the console's headers: HTML, never cached (pages show personal data), and a
/// content security policy that allows only this service's own scripts, styles and forms.
pub fn html(status: StatusCode, page: &impl askama::Template) -> HttpResponse {
    match page.render() {
        Ok(body) => {
            let mut response = HttpResponse::build(status).content_type("text/html; charset=utf-8").body(body);
            let headers = response.headers_mut();
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(
                    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                     form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
                ),
            );
            headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
            headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
            response
        }
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            HttpResponse::InternalServerError().content_type("text/plain; charset=utf-8").body("template error")
        }
    }
}

/// The fields of a urlencoded form body, in order (a name may repeat).
pub fn form_fields(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

/// A select's (value, label) for each of `all`, labelled in the user's language.
pub fn options<T: Copy>(all: &[T], code: fn(T) -> &'static str, label: impl Fn(T) -> String) -> Vec<(String, String)> {
    all.iter().map(|&v| (code(v).to_owned(), label(v))).collect()
}

/// A posted form's input to carry through a sign-in (`draft` on the login form), without its
/// security token (the new session has its own).
pub fn draft_of(fields: &[(String, String)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields.iter().filter(|(k, _)| k != "csrf_token"))
        .finish()
}

/// The first value of `name` in a form, trimmed, if not empty.
pub fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
}

/// A cross-site form post (a login form on another site, say) is refused: browsers send `Origin` on
/// POST, and `Sec-Fetch-Site` says whether the page that sent it is this one.
pub fn same_origin(req: &HttpRequest) -> bool {
    let headers = req.headers();
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return matches!(site, "same-origin" | "none");
    }
    match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        None => true,
        Some(origin) => {
            let host = req.connection_info().host().to_owned();
            origin.split_once("://").is_some_and(|(_, rest)| rest == host)
        }
    }
}
