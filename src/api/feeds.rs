//! Deadline calendar feeds: `/api/v1/users/{id}/deadline-feed` and
//! `/api/v1/agencies/{code}/deadline-feed` make, show and remove a feed; the feed itself is
//! `/api/v1/deadline-feeds/{secret}.ics`, which calendar programs fetch without a token (the secret
//! in the URL is the credential, as in Outlook's and WPS's subscriptions).

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::extract::Auth;
use super::limits::Limits;
use super::problem::Problem;
use crate::db::feeds::FeedRow;
use crate::db::Db;
use crate::error::AppError;
use crate::service::feeds::{self, Whose};
use crate::service::Caller;

/// A deadline feed (its address is shown only when made or replaced).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FeedResponse {
    pub id: String,
    pub created_at: DateTime<Utc>,
    /// When a calendar program last fetched it.
    pub last_fetched_at: Option<DateTime<Utc>>,
}

/// A feed just made or replaced, with its secret address, shown this once.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreatedFeed {
    #[serde(flatten)]
    pub feed: FeedResponse,
    /// Subscribe to this in Outlook, WPS or a phone's calendar (“add calendar from URL”).
    pub url: String,
    /// The same as `webcal://`, which opens the calendar program directly.
    pub webcal_url: String,
}

fn feed_response(row: FeedRow) -> FeedResponse {
    FeedResponse {
        id: row.id,
        created_at: row.created_at.and_utc(),
        last_fetched_at: row.last_fetched_at.map(|t| t.and_utc()),
    }
}

fn created(req: &HttpRequest, row: FeedRow, secret: &str) -> CreatedFeed {
    let info = req.connection_info();
    let path = feeds::path(secret);
    CreatedFeed {
        feed: feed_response(row),
        url: format!("{}://{}{path}", info.scheme(), info.host()),
        webcal_url: format!("webcal://{}{path}", info.host()),
    }
}

async fn show(db: web::Data<Db>, user: crate::domain::role::Principal, whose: Whose) -> Result<HttpResponse, AppError> {
    let row = db.run(move |conn| feeds::get(conn, Caller::User(&user), &whose)).await?;
    Ok(HttpResponse::Ok().json(feed_response(row)))
}

async fn rotate(
    req: HttpRequest,
    db: web::Data<Db>,
    user: crate::domain::role::Principal,
    whose: Whose,
) -> Result<HttpResponse, AppError> {
    let (row, secret) = db.run(move |conn| feeds::rotate(conn, Caller::User(&user), &whose)).await?;
    Ok(HttpResponse::Created().insert_header((header::CACHE_CONTROL, "no-store")).json(created(&req, row, &secret)))
}

async fn remove(
    db: web::Data<Db>,
    user: crate::domain::role::Principal,
    whose: Whose,
) -> Result<HttpResponse, AppError> {
    db.run(move |conn| feeds::remove(conn, Caller::User(&user), &whose)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A user's deadline feed (the user, or an administrator of their subtree).
#[utoipa::path(
    get,
    operation_id = "getUserDeadlineFeed",
    path = "/api/v1/users/{id}/deadline-feed",
    tag = "deadlines",
    params(("id" = uuid::Uuid, Path, description = "User id")),
    responses(
        (status = 200, description = "The feed (without its address)", body = FeedResponse),
        (status = 403, description = "Another user's feed, and not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user in your scope, or no feed yet", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub async fn user_feed(path: web::Path<String>, Auth(user): Auth, db: web::Data<Db>) -> Result<HttpResponse, AppError> {
    show(db, user, Whose::User(path.into_inner())).await
}

/// Make a user's deadline feed, or replace its address (the old one stops at once). The feed shows
/// the reply deadlines of the open cases the user handles; an office head's also every open case of
/// their office.
#[utoipa::path(
    post,
    operation_id = "rotateUserDeadlineFeed",
    path = "/api/v1/users/{id}/deadline-feed",
    tag = "deadlines",
    params(("id" = uuid::Uuid, Path, description = "User id")),
    responses(
        (status = 201, description = "Made; its address is shown this once", body = CreatedFeed),
        (status = 403, description = "Another user's feed, and not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user in your scope", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub async fn rotate_user_feed(
    req: HttpRequest,
    path: web::Path<String>,
    Auth(user): Auth,
    db: web::Data<Db>,
) -> Result<HttpResponse, AppError> {
    rotate(req, db, user, Whose::User(path.into_inner())).await
}

/// Remove a user's deadline feed: its address stops working.
#[utoipa::path(
    delete,
    operation_id = "removeUserDeadlineFeed",
    path = "/api/v1/users/{id}/deadline-feed",
    tag = "deadlines",
    params(("id" = uuid::Uuid, Path, description = "User id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "Another user's feed, and not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user in your scope, or no feed", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub async fn remove_user_feed(
    path: web::Path<String>,
    Auth(user): Auth,
    db: web::Data<Db>,
) -> Result<HttpResponse, AppError> {
    remove(db, user, Whose::User(path.into_inner())).await
}

/// An agency's deadline feed (its administrators and office heads).
#[utoipa::path(
    get,
    operation_id = "getAgencyDeadlineFeed",
    path = "/api/v1/agencies/{code}/deadline-feed",
    tag = "deadlines",
    params(("code" = String, Path, description = "Agency code")),
    responses(
        (status = 200, description = "The feed (without its address)", body = FeedResponse),
        (status = 403, description = "Not an administrator or office head", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such agency in your scope, or no feed yet", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub async fn agency_feed(
    path: web::Path<String>,
    Auth(user): Auth,
    db: web::Data<Db>,
) -> Result<HttpResponse, AppError> {
    show(db, user, Whose::Agency(path.into_inner())).await
}

/// Make an agency's deadline feed, or replace its address: the reply deadlines of every open case of
/// the agency (not its sub-agencies), for the office's shared calendar.
#[utoipa::path(
    post,
    operation_id = "rotateAgencyDeadlineFeed",
    path = "/api/v1/agencies/{code}/deadline-feed",
    tag = "deadlines",
    params(("code" = String, Path, description = "Agency code")),
    responses(
        (status = 201, description = "Made; its address is shown this once", body = CreatedFeed),
        (status = 403, description = "Not an administrator or office head", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such agency in your scope", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub async fn rotate_agency_feed(
    req: HttpRequest,
    path: web::Path<String>,
    Auth(user): Auth,
    db: web::Data<Db>,
) -> Result<HttpResponse, AppError> {
    rotate(req, db, user, Whose::Agency(path.into_inner())).await
}

/// Remove an agency's deadline feed.
#[utoipa::path(
    delete,
    operation_id = "removeAgencyDeadlineFeed",
    path = "/api/v1/agencies/{code}/deadline-feed",
    tag = "deadlines",
    params(("code" = String, Path, description = "Agency code")),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "Not an administrator or office head", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such agency in your scope, or no feed", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub async fn remove_agency_feed(
    path: web::Path<String>,
    Auth(user): Auth,
    db: web::Data<Db>,
) -> Result<HttpResponse, AppError> {
    remove(db, user, Whose::Agency(path.into_inner())).await
}

/// The feed itself, for calendar programs: no token; the secret address is the credential. One
/// all-day event per open case on its final reply deadline (stopped clocks have none), with a stable
/// UID and a SEQUENCE that grows as the case changes. Unknown, replaced and removed addresses are 404
/// and count as failed authentications of the client's address.
#[utoipa::path(
    get,
    operation_id = "fetchDeadlineFeed",
    path = "/api/v1/deadline-feeds/{file}",
    tag = "deadlines",
    params(("file" = String, Path, description = "The feed's secret followed by `.ics`")),
    responses(
        (status = 200, description = "The calendar", content_type = "text/calendar", body = String),
        (status = 404, description = "No feed has this address", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many unknown addresses from this client", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn fetch(
    req: HttpRequest,
    path: web::Path<String>,
    db: web::Data<Db>,
    limits: web::Data<Limits>,
) -> Result<HttpResponse, AppError> {
    let client = limits.client(&req);
    limits.before_authentication(client)?;
    let file = path.into_inner();
    let secret = file.strip_suffix(".ics").unwrap_or(&file).to_owned();
    let valid = !secret.is_empty()
        && secret.len() <= 64
        && secret.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    let outcome = if valid {
        db.run(move |conn| feeds::render(conn, &secret)).await
    } else {
        Err(AppError::NotFound("no deadline feed has this address".into()))
    };
    match outcome {
        Ok(text) => Ok(HttpResponse::Ok()
            .content_type("text/calendar; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "private, max-age=0, no-cache"))
            .body(text)),
        Err(refused @ AppError::NotFound(_)) => {
            limits.failed_authentication(client);
            Err(refused)
        }
        Err(other) => Err(other),
    }
}
