//! `/api/v1/audit`: re-check the tamper-evident event logs.

use actix_web::{web, HttpResponse};

use super::extract::Auth;
use super::problem::Problem;
use crate::db::Db;
use crate::error::AppError;
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
