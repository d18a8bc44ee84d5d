//! Request parsing that reports problems precisely: JSON bodies and query strings are decoded with
//! the path of the first bad field; bearer tokens and session cookies are checked against the database.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::{header, Method};
use actix_web::{web, FromRequest, HttpRequest};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::config::SessionSettings;
use crate::db::sessions::SessionRow;
use crate::db::{users, Db};
use crate::domain::account::SessionPolicy;
use crate::domain::role::Principal;
use crate::domain::validation::{nul_in, FieldError, NUL_MESSAGE};
use crate::error::{AppError, TokenRejection};
use crate::service::accounts::{self, SessionCheck};

/// Drops serde_json's " at line 1 column 7" suffix: the path says where.
fn without_position(message: &str) -> &str {
    match message.rfind(" at line ") {
        Some(i) => &message[..i],
        None => message,
    }
}

/// Turns serde's error at `path` into a field error that names the field itself when serde names
/// it only in the message (missing or unknown fields).
fn field_error(path: &str, message: &str) -> FieldError {
    let message = without_position(message);
    let base = if path == "." || path.is_empty() { String::new() } else { path.to_owned() };
    let named = ["missing field `", "unknown field `"]
        .iter()
        .find_map(|prefix| message.strip_prefix(prefix))
        .and_then(|rest| rest.split('`').next());
    let full_path = match named {
        // serde_path_to_error already ends the path with an unknown field's name.
        Some(field) if base == field || base.ends_with(&format!(".{field}")) => base,
        Some(field) if base.is_empty() => field.to_owned(),
        Some(field) => format!("{base}.{field}"),
        None if base.is_empty() => "$".to_owned(),
        None => base,
    };
    let friendly = if full_path.ends_with("_on") || full_path.ends_with("_from") || full_path.ends_with("_to") {
        format!("must be a real calendar date written YYYY-MM-DD ({message})")
    } else if full_path.ends_with("_at") && !message.starts_with("missing") {
        format!("must be an RFC 3339 timestamp with offset, e.g. 2015-03-02T09:30:00+08:00 ({message})")
    } else {
        message.to_owned()
    };
    FieldError::new(full_path, friendly)
}

/// Decodes a JSON body. Syntax errors are 400; well-formed JSON of the wrong shape is 422 with the
/// path of the offending field.
pub fn json_body<T: DeserializeOwned>(req: &HttpRequest, body: &[u8]) -> Result<T, AppError> {
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let mime = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if mime != "application/json" {
        return Err(AppError::UnsupportedMediaType(format!(
            "the body must be JSON sent with Content-Type: application/json (got `{}`)",
            if content_type.is_empty() { "nothing" } else { content_type }
        )));
    }
    // Syntax first (400), then shape (422 with the field's path).
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| AppError::BadRequest(format!("the body is not valid JSON: {e}")))?;
    if !value.is_object() {
        return Err(AppError::validation("$", "the body must be a JSON object"));
    }
    if let Some(path) = nul_in(&value, "") {
        return Err(AppError::validation(&path, NUL_MESSAGE));
    }
    serde_path_to_error::deserialize(value)
        .map_err(|e| AppError::Validation(vec![field_error(&e.path().to_string(), &e.inner().to_string())]))
}

/// Middleware: a URL whose path or query decodes to text with a NUL is refused (422) before any
/// handler sees it.
pub async fn reject_nul_in_url(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    let path_has_nul = req.path().contains("%00") || req.path().contains('\0');
    let query_field = form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(key, value)| key.contains('\0') || value.contains('\0'))
        .map(|(key, _)| if key.contains('\0') { "query".to_owned() } else { key.into_owned() });
    let refused = if path_has_nul { Some("path".to_owned()) } else { query_field };
    match refused {
        Some(field) => {
            let response = actix_web::ResponseError::error_response(&AppError::validation(&field, NUL_MESSAGE));
            Ok(req.into_response(response))
        }
        None => Ok(next.call(req).await?.map_into_boxed_body()),
    }
}

/// Decodes the query string into `T`; a bad parameter is a 422 naming it.
pub fn query<T: DeserializeOwned>(req: &HttpRequest) -> Result<T, AppError> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(req.query_string().as_bytes()));
    serde_path_to_error::deserialize(de)
        .map_err(|e| AppError::Validation(vec![field_error(&e.path().to_string(), &e.inner().to_string())]))
}

/// An optional `Idempotency-Key` header with a digest of the body it came with.
pub fn idempotency_key(
    req: &HttpRequest,
    body: &[u8],
) -> Result<Option<crate::db::cases::IdempotencyRequest>, AppError> {
    let Some(value) = req.headers().get("idempotency-key") else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= 255 && k.chars().all(|c| c.is_ascii_graphic()))
        .ok_or_else(|| AppError::BadRequest("Idempotency-Key must be 1-255 visible ASCII characters".into()))?;
    Ok(Some(crate::db::cases::IdempotencyRequest {
        key: key.to_owned(),
        request_hash: hex::encode(Sha256::digest(canonical_body(body))),
    }))
}

/// The form of a request body that retries are compared in: JSON re-serialized with object keys
/// sorted (so whitespace, `\u` escapes and key order do not matter); anything else as sent.
fn canonical_body(body: &[u8]) -> Vec<u8> {
    fn write(value: &serde_json::Value, out: &mut String) {
        match value {
            serde_json::Value::Object(map) => {
                let mut entries: Vec<_> = map.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                out.push('{');
                for (i, (key, value)) in entries.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&serde_json::Value::String(key.clone()).to_string());
                    out.push(':');
                    write(value, out);
                }
                out.push('}');
            }
            serde_json::Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write(item, out);
                }
                out.push(']');
            }
            scalar => out.push_str(&scalar.to_string()),
        }
    }
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(value) => {
            let mut out = String::new();
            write(&value, &mut out);
            out.into_bytes()
        }
        Err(_) => body.to_vec(),
    }
}

/// The request's `If-Match` header, if any (as text; unreadable bytes count as no match).
pub fn if_match_header(req: &HttpRequest) -> Option<String> {
    req.headers().get(header::IF_MATCH).map(|v| v.to_str().unwrap_or("").to_owned())
}

/// The `Report-Lock-Override` header: an administrator's reason (UTF-8, at most 500 characters) to
/// record a change to a published year's numbers as a post-publication correction.
pub fn lock_override(req: &HttpRequest, user: &Principal) -> Result<Option<String>, AppError> {
    let Some(value) = req.headers().get("report-lock-override") else { return Ok(None) };
    let reason = std::str::from_utf8(value.as_bytes())
        .map_err(|_| AppError::BadRequest("Report-Lock-Override must be UTF-8 text".into()))?
        .trim()
        .to_owned();
    if reason.is_empty() || reason.chars().count() > 500 || reason.chars().any(char::is_control) {
        return Err(AppError::validation("Report-Lock-Override", "must be a reason of 1 to 500 characters"));
    }
    if !user.role.can_administer() {
        return Err(AppError::Forbidden("only an administrator may change a published year's numbers".into()));
    }
    Ok(Some(reason))
}

/// The cookie that carries a browser session.
pub const SESSION_COOKIE: &str = "foi_session";
/// The header a cookie-authenticated write must carry with its session's CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The authenticated caller, and the browser session when a session cookie (not a bearer token)
/// authenticated the request. Extracting it answers 401 when neither is valid, and 403 when a
/// cookie-authenticated write lacks its CSRF token.
pub struct Authenticated {
    pub principal: Principal,
    pub session: Option<SessionRow>,
}

/// The authenticated caller (by bearer token or session cookie).
pub struct Auth(pub Principal);

impl FromRequest for Auth {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Auth, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let who = Authenticated::from_request(req, payload);
        Box::pin(async move { who.await.map(|who| Auth(who.principal)) })
    }
}

/// What a request presents to authenticate itself.
enum Credential {
    None,
    Bearer(Result<String, header::ToStrError>),
    /// A session cookie, with the CSRF header when the method writes (None: a read).
    Cookie {
        value: String,
        csrf: Option<Option<String>>,
    },
}

fn credential(req: &HttpRequest) -> Credential {
    if let Some(value) = req.headers().get(header::AUTHORIZATION) {
        return Credential::Bearer(value.to_str().map(str::to_owned));
    }
    let Some(cookie) = req.cookie(SESSION_COOKIE) else { return Credential::None };
    let writes = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let csrf = writes.then(|| req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()).map(str::to_owned));
    Credential::Cookie { value: cookie.value().to_owned(), csrf }
}

impl FromRequest for Authenticated {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Authenticated, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let db = req.app_data::<web::Data<Db>>().cloned();
        let policy = req.app_data::<web::Data<SessionSettings>>().map(|s| s.policy());
        let limits = req.app_data::<web::Data<super::limits::Limits>>().cloned();
        let client = limits.as_ref().and_then(|l| l.client(req));
        let credential = credential(req);
        Box::pin(async move {
            let db = db.ok_or_else(|| AppError::Internal("database handle missing".into()))?;
            if let Some(limits) = &limits {
                limits.before_authentication(client)?;
            }
            let outcome = match credential {
                Credential::Bearer(header) => bearer(&db, header).await,
                Credential::Cookie { value, csrf } => {
                    let policy = policy.ok_or_else(|| AppError::Internal("session settings missing".into()))?;
                    session(&db, value, policy, csrf).await
                }
                Credential::None => Err(AppError::Unauthorized(
                    "send Authorization: Bearer <token>, or sign in with POST /api/v1/session".into(),
                )),
            };
            // Guessing counts; an ended session (a browser after a timeout) does not.
            let guessed = matches!(&outcome, Err(AppError::Unauthorized(_)))
                || matches!(&outcome, Err(AppError::TokenRejected(r)) if *r != TokenRejection::SessionEnded);
            if let (true, Some(limits)) = (guessed, &limits) {
                limits.failed_authentication(client);
            }
            outcome
        })
    }
}

/// The principal a bearer `Authorization` header names (401 when malformed, unknown or refused).
async fn bearer(db: &Db, header: Result<String, header::ToStrError>) -> Result<Authenticated, AppError> {
    let token = match header {
        Err(_) => return Err(AppError::Unauthorized("the Authorization header is not readable text".into())),
        Ok(value) => match value.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => {
                token.trim().to_owned()
            }
            _ => return Err(AppError::Unauthorized("the Authorization header must be `Bearer <token>`".into())),
        },
    };
    match db.run(move |conn| users::authenticate(conn, &token)).await? {
        users::TokenCheck::Valid(principal) => Ok(Authenticated { principal, session: None }),
        users::TokenCheck::Unknown => Err(AppError::Unauthorized("the token is unknown".into())),
        users::TokenCheck::Revoked => Err(AppError::TokenRejected(TokenRejection::Revoked)),
        users::TokenCheck::Expired => Err(AppError::TokenRejected(TokenRejection::Expired)),
        users::TokenCheck::Deactivated => Err(AppError::TokenRejected(TokenRejection::Deactivated)),
    }
}

/// The principal a session cookie names. A write must carry the session's CSRF token in
/// `X-CSRF-Token` (403 otherwise): another site can make a browser send the cookie, not read the token.
async fn session(
    db: &Db,
    cookie: String,
    policy: SessionPolicy,
    csrf: Option<Option<String>>,
) -> Result<Authenticated, AppError> {
    match db.run(move |conn| accounts::authenticate(conn, &cookie, &policy)).await? {
        SessionCheck::Valid { principal, session } => {
            if let Some(sent) = csrf {
                let Some(sent) = sent else {
                    return Err(AppError::CsrfRejected(format!(
                        "a write signed in by the session cookie must send the session's CSRF token in {CSRF_HEADER}"
                    )));
                };
                if !same_secret(&sent, &session.csrf_token) {
                    return Err(AppError::CsrfRejected(format!("{CSRF_HEADER} is not this session's CSRF token")));
                }
            }
            Ok(Authenticated { principal, session: Some(*session) })
        }
        SessionCheck::Unknown => Err(AppError::Unauthorized("the session cookie is unknown; sign in again".into())),
        SessionCheck::Ended => Err(AppError::TokenRejected(TokenRejection::SessionEnded)),
        SessionCheck::Deactivated => Err(AppError::TokenRejected(TokenRejection::Deactivated)),
    }
}

/// Compares two secrets in time that does not depend on where they differ.
pub(crate) fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (Sha256::digest(a.as_bytes()), Sha256::digest(b.as_bytes()));
    a.iter().zip(b.iter()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn semantically_equal_json_bodies_share_a_canonical_form() {
        let a = canonical_body(br#"{"b": 1, "a": {"y": [1, 2], "x": "\u5f20"}}"#);
        let b = canonical_body("{\"a\":{\"x\":\"张\",\"y\":[1,2]},\"b\":1}".as_bytes());
        assert_eq!(a, b);
        assert_ne!(a, canonical_body(br#"{"b": 2, "a": {"y": [1, 2], "x": "\u5f20"}}"#));
        assert_ne!(canonical_body(br#"{"a": [1, 2]}"#), canonical_body(br#"{"a": [2, 1]}"#));
        assert_eq!(canonical_body(b"not json"), b"not json".to_vec());
    }

    #[test]
    fn missing_and_unknown_fields_are_named_in_the_path() {
        assert_eq!(field_error(".", "missing field `channel` at line 1 column 2").path, "channel");
        assert_eq!(field_error("applicant", "missing field `kind`").path, "applicant.kind");
        assert_eq!(field_error(".", "unknown field `foo`, expected one of `a`").path, "foo");
        assert_eq!(field_error("applicant.kind", "unknown variant `x`").path, "applicant.kind");
        assert_eq!(field_error(".", "invalid type: string, expected struct").path, "$");
    }

    #[test]
    fn date_fields_get_a_format_hint() {
        let e = field_error("received_on", "input is out of range at line 1 column 30");
        assert!(e.message.starts_with("must be a real calendar date written YYYY-MM-DD"));
        assert!(!e.message.contains("line 1"));
    }
}
