//! `/api/v1/audit`: re-check the tamper-evident event logs; read the security log.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::{query, Auth};
use super::problem::Problem;
use crate::db::Db;
use crate::domain::account::SecurityEventKind;
use crate::error::AppError;
use crate::service::accounts::{self, SecurityLogQuery};
use crate::service::audit::{self, AuditReport};
use crate::service::Caller;

/// Re-check every case's event hash chain in your scope (administrators).
///
/// For each case: every event's hash and its link to the previous event, the row's chain head, and
/// that the case row is the projection of its events. Reports the first broken link of each damaged
/// case. The same check runs from the command line with `foi-tracker audit verify`.
#[utoipa::path(
    get,
    operation_id = "verifyAuditLog",
    path = "/api/v1/audit/verify",
    tag = "audit",
    responses(
        (status = 200, description = "The report (an empty `broken` list: all intact)", body = AuditReport),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn verify(Auth(user): Auth, db: web::Data<Db>) -> Result<HttpResponse, AppError> {
    let report = db.run(move |conn| audit::verify(conn, Caller::User(&user))).await?;
    Ok(HttpResponse::Ok().json(report))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SecurityLogParams {
    /// Only events about this user.
    pub user_id: Option<uuid::Uuid>,
    pub kind: Option<SecurityEventKind>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<uuid::Uuid>,
    /// Events per page (1-500, default 100).
    pub limit: Option<i64>,
}

/// One entry of the security log.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SecurityEvent {
    pub id: String,
    pub occurred_at: DateTime<Utc>,
    pub kind: SecurityEventKind,
    /// The account concerned (null: a failed sign-in under a name nobody has, or a limit reached).
    pub user_id: Option<String>,
    /// Who did it (null: the person signing in, or the operator at the command line).
    pub actor_id: Option<String>,
    /// The login name tried, for sign-ins.
    pub login: Option<String>,
    pub client_address: Option<String>,
    /// What else the event records: a token's id and name, why a sign-in failed, sessions ended, ...
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SecurityEventPage {
    pub items: Vec<SecurityEvent>,
    /// Pass as `cursor` for older events (null: no more).
    pub next_cursor: Option<String>,
}

/// The security log, newest first: every sign-in, failed sign-in, sign-out, password set, token
/// created or revoked, user created, deactivated or reactivated (administrators; a subtree's
/// administrator sees its users' events, a global one also failures under unknown names).
#[utoipa::path(
    get,
    operation_id = "listSecurityEvents",
    path = "/api/v1/audit/security-events",
    tag = "audit",
    params(SecurityLogParams),
    responses(
        (status = 200, description = "A page of the log", body = SecurityEventPage),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad parameter", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub async fn security_events(req: HttpRequest, Auth(user): Auth, db: web::Data<Db>) -> Result<HttpResponse, AppError> {
    let params: SecurityLogParams = query(&req)?;
    let limit = params.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(AppError::validation("limit", "must be 1 to 500"));
    }
    let query = SecurityLogQuery {
        user_id: params.user_id.map(|id| id.to_string()),
        kind: params.kind,
        before_id: params.cursor.map(|id| id.to_string()),
        limit,
    };
    let rows = db.run(move |conn| accounts::security_log(conn, Caller::User(&user), &query)).await?;
    let next_cursor = (rows.len() as i64 == limit).then(|| rows.last().map(|r| r.id.clone())).flatten();
    let items = rows
        .into_iter()
        .map(|r| SecurityEvent {
            id: r.id,
            occurred_at: r.occurred_at.and_utc(),
            kind: r.kind,
            user_id: r.user_id,
            actor_id: r.actor_id,
            login: r.login,
            client_address: r.client_address,
            detail: serde_json::from_str(&r.detail).unwrap_or(serde_json::Value::Null),
        })
        .collect();
    Ok(HttpResponse::Ok().json(SecurityEventPage { items, next_cursor }))
}
