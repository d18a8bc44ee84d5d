//! `/api/v1/users`: accounts (administrators, within their subtree; handlers and office heads list
//! the colleagues they may assign) and their API tokens (their owner, or an administrator).

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::{json_body, query, Auth, Authenticated};
use super::problem::Problem;
use crate::db::users::TokenRow;
use crate::db::Db;
use crate::domain::role::Role;
use crate::error::AppError;
use crate::service::accounts;
use crate::service::directory::{self, UserChange, UserEntry, UserQuery};
use crate::service::Caller;

/// A user account.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UserResponse {
    pub id: uuid::Uuid,
    /// Display name (namesakes are told apart by id, agency, e-mail and creation time).
    pub name: String,
    pub role: Role,
    /// The agency whose subtree the user works in (null: a global administrator).
    pub agency: Option<String>,
    pub email: Option<String>,
    /// The name the user signs in with in a browser (null: tokens only, until one is given).
    pub login: Option<String>,
    /// When the password was last set (null: no password; the user cannot sign in in a browser).
    pub password_set_at: Option<DateTime<Utc>>,
    /// False once deactivated: the user's tokens and sessions no longer work; their history stays.
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub deactivated_at: Option<DateTime<Utc>>,
}

fn user_response((user, agency): UserEntry) -> Result<UserResponse, AppError> {
    Ok(UserResponse {
        id: uuid::Uuid::parse_str(&user.id).map_err(AppError::internal)?,
        name: user.name,
        role: user.role,
        agency,
        email: user.email,
        login: user.login,
        password_set_at: user.password_changed_at.map(|t| t.and_utc()),
        active: user.deactivated_at.is_none(),
        created_at: user.created_at.and_utc(),
        deactivated_at: user.deactivated_at.map(|t| t.and_utc()),
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UserParams {
    /// Agency code: its users and (with `subtree`, the default) those of the agencies below it.
    pub agency: Option<String>,
    pub subtree: Option<bool>,
    pub role: Option<Role>,
    /// true: active users only; false: deactivated only.
    pub active: Option<bool>,
}

/// Users by name. Administrators see every user of their subtree; handlers and office heads see
/// the active handlers and office heads they may assign a case to.
#[utoipa::path(
    get,
    operation_id = "listUsers",
    path = "/api/v1/users",
    tag = "users",
    params(UserParams),
    responses(
        (status = 200, description = "Users", body = Vec<UserResponse>),
        (status = 403, description = "The role may not list users", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad filter", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn list(req: HttpRequest, Auth(user): Auth, db: web::Data<Db>) -> Result<HttpResponse, AppError> {
    let params: UserParams = query(&req)?;
    let query = UserQuery {
        agency: params.agency,
        subtree: params.subtree.unwrap_or(true),
        role: params.role,
        active: params.active,
    };
    let rows = db.run(move |conn| directory::users(conn, Caller::User(&user), &query)).await?;
    let body = rows.into_iter().map(user_response).collect::<Result<Vec<_>, _>>()?;
    Ok(HttpResponse::Ok().json(body))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    pub role: Role,
    /// The agency (code) whose subtree the user works in; omit only for a global administrator.
    #[serde(default)]
    pub agency: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    /// The name to sign in with (unique, no spaces). Omitted: the display name, when it is one word
    /// nobody else signs in with; otherwise none until an administrator gives one.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 64)]
    pub login: Option<String>,
}

/// A new user and their first API token, shown this once.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreatedUser {
    pub user: UserResponse,
    pub token: String,
}

/// Add a user (administrators, within their subtree).
#[utoipa::path(
    post,
    operation_id = "createUser",
    path = "/api/v1/users",
    tag = "users",
    request_body(content = NewUser, content_type = "application/json"),
    responses(
        (status = 201, description = "Created, with a first token", body = CreatedUser),
        (status = 403, description = "Not an administrator of that subtree", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn create(
    req: HttpRequest,
    body: web::Bytes,
    Auth(user): Auth,
    db: web::Data<Db>,
) -> Result<HttpResponse, AppError> {
    // Refused before the body is read, so a caller without the right learns nothing from validation.
    Caller::User(&user).require_admin("administer users")?;
    let new: NewUser = json_body(&req, &body)?;
    let (entry, token) = db
        .run(move |conn| {
            let caller = Caller::User(&user);
            let (created, token) = directory::add_user(
                conn,
                caller,
                &new.name,
                new.role,
                new.agency.as_deref(),
                new.email.as_deref(),
                new.login.as_deref(),
            )?;
            Ok((directory::user(conn, caller, &created.id)?, token))
        })
        .await?;
    Ok(HttpResponse::Created().json(CreatedUser { user: user_response(entry)?, token }))
}

/// One user (administrators for their subtree; anybody for themselves).
#[utoipa::path(
    get,
    operation_id = "getUser",
    path = "/api/v1/users/{id}",
    tag = "users",
    params(("id" = uuid::Uuid, Path, description = "User id")),
    responses(
        (status = 200, description = "The user", body = UserResponse),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user in your scope", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn get(path: web::Path<String>, Auth(user): Auth, db: web::Data<Db>) -> Result<HttpResponse, AppError> {
    let entry = db.run(move |conn| directory::user(conn, Caller::User(&user), &path)).await?;
    Ok(HttpResponse::Ok().json(user_response(entry)?))
}

/// `Some(value)` for a field that is present, even as null; absent stays None.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserUpdate {
    #[serde(default)]
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    #[serde(default)]
    pub role: Option<Role>,
    /// An agency code; null makes a global administrator (global administrators only).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub agency: Option<Option<String>>,
    /// An address; null clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    /// The name to sign in with (unique, no spaces).
    #[serde(default)]
    #[schema(min_length = 1, max_length = 64)]
    pub login: Option<String>,
}

/// Change a user's display name, login, role, agency or e-mail (administrators, within their subtree).
/// Nobody changes their own role or agency.
#[utoipa::path(
    patch,
    operation_id = "updateUser",
    path = "/api/v1/users/{id}",
    tag = "users",
    params(("id" = uuid::Uuid, Path, description = "User id")),
    request_body(content = UserUpdate, content_type = "application/json"),
    responses(
        (status = 200, description = "The user as changed", body = UserResponse),
        (status = 403, description = "Not an administrator of that subtree", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user in your scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Your own role or agency", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn update(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
    Auth(user): Auth,
    db: web::Data<Db>,
) -> Result<HttpResponse, AppError> {
    Caller::User(&user).require_admin("administer users")?;
    let input: UserUpdate = json_body(&req, &body)?;
    let change =
        UserChange { name: input.name, role: input.role, agency: input.agency, email: input.email, login: input.login };
    let entry = db.run(move |conn| directory::change_user(conn, Caller::User(&user), &path, &change)).await?;
    Ok(HttpResponse::Ok().json(user_response(entry)?))
}

async fn set_active(
    user: crate::domain::role::Principal,
    db: web::Data<Db>,
    id: String,
    active: bool,
) -> Result<HttpResponse, AppError> {
    let entry = db.run(move |conn| directory::set_active(conn, Caller::User(&user), &id, active)).await?;
    Ok(HttpResponse::Ok().json(user_response(entry)?))
}

/// Deactivate a user: their tokens and sessions stop working at once; their cases and history stay.
#[utoipa::path(
    post,
    operation_id = "deactivateUser",
    path = "/api/v1/users/{id}/deactivate",
    tag = "users",
    params(("id" = uuid::Uuid, Path, description = "User id")),
    responses(
        (status = 200, description = "Deactivated", body = UserResponse),
        (status = 403, description = "Not an administrator of that subtree", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user in your scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Yourself", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn deactivate(
    path: web::Path<String>,
    Auth(user): Auth,
    db: web::Data<Db>,
) -> Result<HttpResponse, AppError> {
    set_active(user, db, path.into_inner(), false).await
}

/// Reactivate a user: their unrevoked, unexpired tokens work again.
#[utoipa::path(
    post,
    operation_id = "reactivateUser",
    path = "/api/v1/users/{id}/reactivate",
    tag = "users",
    params(("id" = uuid::Uuid, Path, description = "User id")),
    responses(
        (status = 200, description = "Active again", body = UserResponse),
        (status = 403, description = "Not an administrator of that subtree", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user in your scope", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn reactivate(
    path: web::Path<String>,
    Auth(user): Auth,
    db: web::Data<Db>,
) -> Result<HttpResponse, AppError> {
    set_active(user, db, path.into_inner(), true).await
}

/// An API token as listed (the token itself is shown only when created).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenResponse {
    pub id: String,
    pub name: String,
    /// The token's first characters, to recognise it.
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

fn token_response(row: TokenRow) -> TokenResponse {
    TokenResponse {
        id: row.id.unwrap_or_default(),
        name: row.name,
        prefix: row.prefix,
        created_at: row.created_at.and_utc(),
        last_used_at: row.last_used_at.map(|t| t.and_utc()),
        expires_at: row.expires_at.map(|t| t.and_utc()),
        revoked_at: row.revoked_at.map(|t| t.and_utc()),
    }
}

/// A user's API tokens, newest first (the user themselves, or an administrator of their subtree).
#[utoipa::path(
    get,
    operation_id = "listTokens",
    path = "/api/v1/users/{id}/tokens",
    tag = "users",
    params(("id" = uuid::Uuid, Path, description = "User id")),
    responses(
        (status = 200, description = "Tokens", body = Vec<TokenResponse>),
        (status = 403, description = "Another user's tokens, and not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user in your scope", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn tokens(path: web::Path<String>, Auth(user): Auth, db: web::Data<Db>) -> Result<HttpResponse, AppError> {
    let rows = db.run(move |conn| directory::tokens(conn, Caller::User(&user), &path)).await?;
    Ok(HttpResponse::Ok().json(rows.into_iter().map(token_response).collect::<Vec<_>>()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// What the token is for, e.g. "front end".
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// When it stops working (RFC 3339, in the future); omit for no expiry.
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
}

/// A new token, shown this once.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreatedToken {
    #[serde(flatten)]
    pub token: TokenResponse,
    /// The token itself: send it as `Authorization: Bearer <secret>`. It is not stored and cannot be
    /// shown again.
    pub secret: String,
}

/// Create a named API token (the user themselves, or an administrator of their subtree).
#[utoipa::path(
    post,
    operation_id = "createToken",
    path = "/api/v1/users/{id}/tokens",
    tag = "users",
    params(("id" = uuid::Uuid, Path, description = "User id")),
    request_body(content = NewToken, content_type = "application/json"),
    responses(
        (status = 201, description = "Created; the secret is shown once", body = CreatedToken),
        (status = 403, description = "Another user's tokens, and not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user in your scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The account is deactivated", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn create_token(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
    Auth(user): Auth,
    db: web::Data<Db>,
) -> Result<HttpResponse, AppError> {
    let input: NewToken = json_body(&req, &body)?;
    let (row, secret) = db
        .run(move |conn| directory::create_token(conn, Caller::User(&user), &path, &input.name, input.expires_at))
        .await?;
    Ok(HttpResponse::Created().json(CreatedToken { token: token_response(row), secret }))
}

/// Revoke a token: it stops working at once.
#[utoipa::path(
    delete,
    operation_id = "revokeToken",
    path = "/api/v1/users/{id}/tokens/{token_id}",
    tag = "users",
    params(
        ("id" = uuid::Uuid, Path, description = "User id"),
        ("token_id" = String, Path, description = "Token id, from the list"),
    ),
    responses(
        (status = 204, description = "Revoked"),
        (status = 403, description = "Another user's tokens, and not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user or unrevoked token", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn revoke_token(
    path: web::Path<(String, String)>,
    Auth(user): Auth,
    db: web::Data<Db>,
) -> Result<HttpResponse, AppError> {
    let (id, token_id) = path.into_inner();
    db.run(move |conn| directory::revoke_token(conn, Caller::User(&user), &id, &token_id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPassword {
    /// At least 10 characters mixing three of lower-case, capitals, digits and other characters, or
    /// a passphrase of 16 or more; not containing the login.
    #[schema(min_length = 10, max_length = 128)]
    pub password: String,
    /// Your current password, when you change your own and have one.
    #[serde(default)]
    pub current_password: Option<String>,
}

/// Set a password: your own (with the current one), or as an administrator anyone's in your
/// subtree. The user's other sessions end (all of them, after an administrator's reset).
#[utoipa::path(
    put,
    operation_id = "setPassword",
    path = "/api/v1/users/{id}/password",
    tag = "users",
    params(("id" = uuid::Uuid, Path, description = "User id")),
    request_body(content = NewPassword, content_type = "application/json"),
    responses(
        (status = 200, description = "Set", body = UserResponse),
        (status = 403, description = "Another user's password, and not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user in your scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Too weak, or the current password is wrong", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub async fn set_password(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
    who: Authenticated,
    db: web::Data<Db>,
) -> Result<HttpResponse, AppError> {
    let input: NewPassword = json_body(&req, &body)?;
    let Authenticated { principal, session } = who;
    let entry = db
        .run(move |conn| {
            let keep = session.as_ref().map(|s| s.id.as_str());
            accounts::set_password(
                conn,
                Caller::User(&principal),
                &path,
                &input.password,
                input.current_password.as_deref(),
                keep,
            )
        })
        .await?;
    Ok(HttpResponse::Ok().json(user_response(entry)?))
}
