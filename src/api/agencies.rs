//! `/api/v1/agencies`: the agency tree and per-agency topic taxonomies; `/api/v1/me`.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::extract::{json_body, Auth};
use super::problem::Problem;
use crate::db::agencies::AgencyRow;
use crate::db::Db;
use crate::domain::role::{Role, Scope};
use crate::error::AppError;
use crate::service::directory;
use crate::service::Caller;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AgencyResponse {
    pub code: String,
    pub name: String,
    /// Code of the parent agency (null for a root such as a city).
    pub parent: Option<String>,
    /// Codes from the root down to this agency, e.g. `/PJ/PJ-XLT/`.
    pub path: String,
    /// The disclosure office's mailbox.
    pub email: Option<String>,
}

fn agency_response(row: AgencyRow) -> AgencyResponse {
    let codes: Vec<&str> = row.path.trim_matches('/').split('/').collect();
    let parent = codes.len().checked_sub(2).map(|i| codes[i].to_owned());
    AgencyResponse { code: row.code, name: row.name, parent, path: row.path, email: row.email }
}

/// Agencies in your scope, in tree order.
#[utoipa::path(
    get,
    operation_id = "listAgencies",
    path = "/api/v1/agencies",
    tag = "agencies",
    responses(
        (status = 200, description = "Agencies", body = Vec<AgencyResponse>),
    ),
    security(("bearer" = []))
)]
pub async fn list(Auth(user): Auth, db: web::Data<Db>) -> Result<HttpResponse, AppError> {
    let rows = db.run(move |conn| directory::agencies(conn, Caller::User(&user))).await?;
    Ok(HttpResponse::Ok().json(rows.into_iter().map(agency_response).collect::<Vec<_>>()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAgency {
    /// Short code: A-Z, 0-9 and '-', starting with a letter (used in tracking numbers).
    #[schema(pattern = "^[A-Z][A-Z0-9-]{0,31}$")]
    pub code: String,
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// Code of the parent agency; omit for a root.
    #[serde(default)]
    pub parent: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

/// Add an agency (administrators; a scoped administrator only within their subtree).
#[utoipa::path(
    post,
    operation_id = "createAgency",
    path = "/api/v1/agencies",
    tag = "agencies",
    request_body(content = NewAgency, content_type = "application/json"),
    responses(
        (status = 201, description = "Created", body = AgencyResponse),
        (status = 403, description = "Not an administrator of that subtree", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Code already taken", body = Problem, content_type = "application/problem+json"),
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
    Caller::User(&user).require_admin("administer agencies")?;
    let new: NewAgency = json_body(&req, &body)?;
    let new = directory::NewAgency { code: new.code, name: new.name, parent: new.parent, email: new.email };
    let row = db.run(move |conn| directory::add_agency(conn, Caller::User(&user), &new)).await?;
    Ok(HttpResponse::Created().json(agency_response(row)))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TopicResponse {
    pub code: String,
    /// Label as printed in reports, e.g. 城建环保类.
    pub label: String,
    /// The agency whose taxonomy defines it (this one or an ancestor).
    pub defined_by: String,
}

/// Topics usable for this agency's cases: its own and those inherited from its parents.
#[utoipa::path(
    get,
    operation_id = "listTopics",
    path = "/api/v1/agencies/{code}/topics",
    tag = "agencies",
    params(("code" = String, Path, description = "Agency code")),
    responses(
        (status = 200, description = "Topics", body = Vec<TopicResponse>),
        (status = 404, description = "No such agency in your scope", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn topics(path: web::Path<String>, Auth(user): Auth, db: web::Data<Db>) -> Result<HttpResponse, AppError> {
    let code = path.into_inner();
    let topics = db.run(move |conn| directory::topics(conn, Caller::User(&user), &code)).await?;
    let body: Vec<TopicResponse> =
        topics.into_iter().map(|t| TopicResponse { code: t.code, label: t.label, defined_by: t.defined_by }).collect();
    Ok(HttpResponse::Ok().json(body))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TopicInput {
    #[schema(min_length = 1, max_length = 200)]
    pub label: String,
}

/// Define or relabel a topic in an agency's taxonomy (administrators).
#[utoipa::path(
    put,
    operation_id = "putTopic",
    path = "/api/v1/agencies/{code}/topics/{topic}",
    tag = "agencies",
    params(("code" = String, Path, description = "Agency code"), ("topic" = String, Path, description = "Topic code (a-z, 0-9, '_', '-')")),
    request_body(content = TopicInput, content_type = "application/json"),
    responses(
        (status = 200, description = "Stored", body = TopicResponse),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such agency in your scope", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn put_topic(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Bytes,
    Auth(user): Auth,
    db: web::Data<Db>,
) -> Result<HttpResponse, AppError> {
    Caller::User(&user).require_admin("administer agencies")?;
    let (code, topic) = path.into_inner();
    let input: TopicInput = json_body(&req, &body)?;
    let agency = code.clone();
    let row =
        db.run(move |conn| directory::put_topic(conn, Caller::User(&user), &agency, &topic, &input.label)).await?;
    Ok(HttpResponse::Ok().json(TopicResponse { code: row.code, label: row.label, defined_by: code }))
}

/// Who the token belongs to.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MeResponse {
    pub user_id: String,
    pub name: String,
    pub role: Role,
    /// Root of the user's agency scope; null for a global administrator.
    pub agency: Option<String>,
}

/// The caller's identity, role and scope.
#[utoipa::path(
    get,
    operation_id = "getCurrentUser",
    path = "/api/v1/me",
    tag = "users",
    responses(
        (status = 200, description = "The caller", body = MeResponse),
    ),
    security(("bearer" = []))
)]
pub async fn me(Auth(user): Auth) -> HttpResponse {
    let agency = match &user.scope {
        Scope::Global => None,
        Scope::Subtree { agency_code, .. } => Some(agency_code.clone()),
    };
    HttpResponse::Ok().json(MeResponse { user_id: user.user_id, name: user.name, role: user.role, agency })
}
