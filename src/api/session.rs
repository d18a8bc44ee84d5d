//! `/api/v1/session`: browser sign-in with a login name and password. The session lives in the
//! database (every instance knows it); the browser holds only an HttpOnly cookie naming it, and sends
//! the session's CSRF token in `X-CSRF-Token` with every write.

use actix_web::cookie::{time, Cookie, SameSite};
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::extract::{json_body, Authenticated, SESSION_COOKIE};
use super::limits::Limits;
use super::problem::Problem;
use crate::config::{SecureCookie, SessionSettings};
use crate::db::sessions::SessionRow;
use crate::db::Db;
use crate::domain::account::SecurityEventKind;
use crate::domain::role::{Principal, Role, Scope};
use crate::error::AppError;
use crate::service::accounts::{self, SignIn};
use crate::service::Caller;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    /// The login name.
    #[schema(min_length = 1, max_length = 64)]
    pub name: String,
    #[schema(min_length = 1, max_length = 128)]
    pub password: String,
}

/// The signed-in user and their session.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SessionResponse {
    pub user_id: uuid::Uuid,
    pub name: String,
    pub role: Role,
    /// The agency whose subtree the user works in (null: all agencies).
    pub agency: Option<String>,
    /// Send this in the `X-CSRF-Token` header with every POST, PUT, PATCH and DELETE.
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    /// When the session ends if no request comes before (idle timeout), or at the latest.
    pub ends_at: DateTime<Utc>,
    /// The absolute end, whatever happens.
    pub expires_at: DateTime<Utc>,
}

fn session_response(principal: &Principal, session: &SessionRow, settings: &SessionSettings) -> SessionResponse {
    let policy = settings.policy();
    SessionResponse {
        user_id: uuid::Uuid::parse_str(&principal.user_id).unwrap_or_default(),
        name: principal.name.clone(),
        role: principal.role,
        agency: match &principal.scope {
            Scope::Global => None,
            Scope::Subtree { agency_code, .. } => Some(agency_code.clone()),
        },
        csrf_token: session.csrf_token.clone(),
        created_at: session.created_at.and_utc(),
        ends_at: policy.ends_at(session.created_at, session.last_seen_at).and_utc(),
        expires_at: (session.created_at + policy.absolute).and_utc(),
    }
}

/// Whether the cookie gets `Secure`: by setting, or when the request came over TLS (behind a
/// trusted proxy, as it reports).
pub(crate) fn secure(req: &HttpRequest, settings: &SessionSettings, limits: &Limits) -> bool {
    match settings.secure_cookie {
        SecureCookie::Always => true,
        SecureCookie::Never => false,
        SecureCookie::Auto if limits.trusts_proxy_headers() => req.connection_info().scheme() == "https",
        SecureCookie::Auto => req.app_config().secure(),
    }
}

pub(crate) fn session_cookie(value: String, secure: bool) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, value).path("/").http_only(true).same_site(SameSite::Strict).secure(secure).finish()
}

/// Sign in: sets the session cookie and returns the session's CSRF token. A wrong name and a wrong
/// password get the same 401, after a delay; failures are counted per login name and per address,
/// and past either limit the answer is 429 with Retry-After. The body must be JSON (a form on another
/// site cannot send it without the browser asking this service first).
#[utoipa::path(
    post,
    operation_id = "createSession",
    path = "/api/v1/session",
    tag = "session",
    request_body(content = Credentials, content_type = "application/json"),
    responses(
        (status = 200, description = "Signed in; `Set-Cookie: foi_session=…; HttpOnly; SameSite=Strict`", body = SessionResponse),
        (status = 401, description = "The login name or the password is wrong", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed sign-ins for this name or address", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn sign_in(
    req: HttpRequest,
    body: web::Bytes,
    db: web::Data<Db>,
    limits: web::Data<Limits>,
    settings: web::Data<SessionSettings>,
) -> Result<HttpResponse, AppError> {
    let credentials: Credentials = json_body(&req, &body)?;
    let opened = open_session(&req, &db, &limits, credentials).await?;
    let body = session_response(&opened.principal, &opened.session, &settings);
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .cookie(session_cookie(opened.cookie, secure(&req, &settings, &limits)))
        .json(body))
}

/// Signs in with `credentials` under the sign-in limits (shared by the API and the console's login
/// form): a wrong name and a wrong password get the same 401, after a delay; failures are counted per
/// login name and per address, and past either limit the answer is 429 with Retry-After. The caller
/// sets the cookie (`session_cookie`).
pub(crate) async fn open_session(
    req: &HttpRequest,
    db: &Db,
    limits: &Limits,
    credentials: Credentials,
) -> Result<accounts::OpenedSession, AppError> {
    let client = limits.client(req);
    let login = credentials.name.trim().to_owned();
    if login.is_empty() || login.chars().count() > 64 {
        return Err(AppError::validation("name", "must be a login name of 1 to 64 characters"));
    }
    if credentials.password.is_empty() || credentials.password.chars().count() > 128 {
        return Err(AppError::validation("password", "must be 1 to 128 characters"));
    }
    limits.before_login(&login, client)?;
    let user_agent = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|ua| ua.chars().filter(|c| !c.is_control()).take(300).collect());
    let attempt = SignIn {
        login: login.clone(),
        password: credentials.password,
        client_address: client.map(|ip| ip.to_string()),
        user_agent,
    };
    match db.run(move |conn| accounts::sign_in(conn, &attempt)).await {
        Ok(opened) => Ok(opened),
        Err(refused @ AppError::Unauthorized(_)) => {
            let limited = limits.failed_login(&login, client);
            if limited.name || limited.address {
                tracing::warn!(login = %login, client = ?client, "failed sign-ins over the limit");
                let detail = serde_json::json!({ "login": login, "name_limited": limited.name, "address_limited": limited.address });
                let address = client.map(|ip| ip.to_string());
                db.run(move |conn| {
                    accounts::record(
                        conn,
                        SecurityEventKind::LoginLimited,
                        None,
                        Caller::Operator,
                        address.as_deref(),
                        detail,
                    )
                })
                .await?;
            }
            actix_web::rt::time::sleep(limits.failed_login_delay()).await;
            Err(refused)
        }
        Err(other) => Err(other),
    }
}

/// Ends `session` on the server and returns the cookie that clears it in the browser.
pub(crate) async fn close_session(
    req: &HttpRequest,
    db: &Db,
    limits: &Limits,
    settings: &SessionSettings,
    principal: Principal,
    session: SessionRow,
) -> Result<Cookie<'static>, AppError> {
    let address = limits.client(req).map(|ip| ip.to_string());
    db.run(move |conn| accounts::sign_out(conn, &principal, &session, address.as_deref())).await?;
    let mut gone = session_cookie(String::new(), secure(req, settings, limits));
    gone.set_max_age(time::Duration::ZERO);
    gone.set_expires(time::OffsetDateTime::UNIX_EPOCH);
    Ok(gone)
}

fn no_browser_session() -> AppError {
    AppError::NotFound("no browser session: this request was authenticated by a bearer token".into())
}

/// The current browser session: who is signed in, its CSRF token and when it ends.
#[utoipa::path(
    get,
    operation_id = "getSession",
    path = "/api/v1/session",
    tag = "session",
    responses(
        (status = 200, description = "The session", body = SessionResponse),
        (status = 404, description = "Authenticated by a bearer token, not a session", body = Problem, content_type = "application/problem+json"),
    ),
    security(("session" = []))
)]
pub async fn current(who: Authenticated, settings: web::Data<SessionSettings>) -> Result<HttpResponse, AppError> {
    let session = who.session.as_ref().ok_or_else(no_browser_session)?;
    Ok(HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(session_response(
        &who.principal,
        session,
        &settings,
    )))
}

/// Sign out: the session ends on the server (the cookie no longer works anywhere) and the cookie is
/// cleared. Needs `X-CSRF-Token` like every cookie-authenticated write.
#[utoipa::path(
    delete,
    operation_id = "deleteSession",
    path = "/api/v1/session",
    tag = "session",
    responses(
        (status = 204, description = "Signed out; the cookie is cleared"),
        (status = 403, description = "The CSRF token is missing or wrong", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Authenticated by a bearer token, not a session", body = Problem, content_type = "application/problem+json"),
    ),
    security(("session" = []))
)]
pub async fn sign_out(
    req: HttpRequest,
    who: Authenticated,
    db: web::Data<Db>,
    limits: web::Data<Limits>,
    settings: web::Data<SessionSettings>,
) -> Result<HttpResponse, AppError> {
    let Authenticated { principal, session } = who;
    let session = session.ok_or_else(no_browser_session)?;
    let gone = close_session(&req, &db, &limits, &settings, principal, session).await?;
    Ok(HttpResponse::NoContent().cookie(gone).finish())
}
