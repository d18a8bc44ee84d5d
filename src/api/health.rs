//! Liveness and readiness probes (no authentication).

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::problem::Problem;
use crate::db::Db;
use crate::error::AppError;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// `ok` (live) or `ready` (database reachable).
    pub status: String,
    /// `sqlite` or `postgres` (readiness only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
}

/// Liveness: the process answers.
#[utoipa::path(get, operation_id = "getLiveness", path = "/healthz", tag = "health", responses((status = 200, description = "Alive", body = Health)))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok".into(), database: None })
}

/// Readiness: the database answers a query.
#[utoipa::path(
    get,
    operation_id = "getReadiness",
    path = "/readyz",
    tag = "health",
    responses(
        (status = 200, description = "Ready", body = Health),
        (status = 503, description = "Database unreachable", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn readyz(db: web::Data<Db>) -> Result<HttpResponse, AppError> {
    db.ping().await?;
    Ok(HttpResponse::Ok().json(Health { status: "ready".into(), database: Some(db.backend_name().into()) }))
}
