//! Letters over HTTP: generate one from a case, list a case's letters, download a version as DOCX;
//! agencies' letterheads and template overrides.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::cases::visible_case;
use super::extract::{json_body, Auth};
use super::papers::StoredFileResponse;
use super::problem::Problem;
use crate::db::Db;
use crate::domain::letters::DocumentRecord;
use crate::domain::masking::mask_document;
use crate::error::AppError;
use crate::service::letters::{self, GenerateRequest, Letterhead};
use crate::service::Caller;

/// Generate a letter from the case (登记回执, 补正告知书, 延期答复告知书, 征求第三方意见函, 答复书).
///
/// The facts come from the case; `particulars` supplies what the case does not hold. A missing or
/// wrong fact is a 422 naming it (`case.outcome`, `case.extension`, `particulars.matters`, ...). A new
/// document takes the next number (文号) of its agency, kind and year; a regeneration whose letter
/// differs is a new version with the same number (201); one whose letter is the same returns the
/// existing version (200). Each version is an event on the case with the SHA-256 of its DOCX.
#[utoipa::path(
    post,
    operation_id = "generateDocument",
    path = "/api/v1/cases/{id}/documents",
    tag = "papers",
    params(("id" = uuid::Uuid, Path, description = "Case id")),
    request_body(content = GenerateRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "A new document or version", body = DocumentRecord, headers(("Location" = String), ("ETag" = String, description = "The case's new version"))),
        (status = 200, description = "The same letter exists: that version", body = DocumentRecord, headers(("Location" = String))),
        (status = 403, description = "The statistician role cannot generate letters", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such case in your scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A missing or wrong fact, named", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub async fn generate(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
    Auth(user): Auth,
    db: web::Data<Db>,
) -> Result<HttpResponse, AppError> {
    let record = visible_case(&db, &user, &path).await?;
    let request: GenerateRequest = json_body(&req, &body)?;
    let generated = db.run(move |conn| letters::generate(conn, Caller::User(&user), &record, &request)).await?;
    let location = format!("/api/v1/cases/{}/documents/{}", generated.record.row.id, generated.document.id);
    let mut response = if generated.created { HttpResponse::Created() } else { HttpResponse::Ok() };
    Ok(response
        .insert_header((header::LOCATION, location))
        .insert_header((header::ETAG, crate::service::cases::etag(&generated.record)))
        .json(generated.document))
}

/// The letters of a case.
#[derive(Serialize, ToSchema)]
pub struct DocumentList {
    /// Every version of every letter, oldest first.
    pub items: Vec<DocumentRecord>,
}

/// List a case's letters (every version). Statisticians see the particulars masked.
#[utoipa::path(
    get,
    operation_id = "listDocuments",
    path = "/api/v1/cases/{id}/documents",
    tag = "papers",
    params(("id" = uuid::Uuid, Path, description = "Case id")),
    responses(
        (status = 200, description = "The letters", body = DocumentList),
        (status = 404, description = "No such case in your scope", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub async fn list(path: web::Path<String>, Auth(user): Auth, db: web::Data<Db>) -> Result<HttpResponse, AppError> {
    let record = visible_case(&db, &user, &path).await?;
    let show = user.role.sees_personal_data();
    let items = db
        .run(move |conn| {
            let events = crate::db::cases::events(conn, &record.row.id)?;
            Ok(crate::db::cases::project(&events)?.documents)
        })
        .await?
        .into_iter()
        .map(|d| if show { d } else { mask_document(d) })
        .collect();
    Ok(HttpResponse::Ok().json(DocumentList { items }))
}

/// The file name a letter is downloaded under: its number and title.
pub fn docx_name(document: &DocumentRecord) -> String {
    format!("{}{}.docx", document.number, document.kind.title())
}

/// Download a version of a letter as DOCX, byte for byte as generated.
///
/// Letters that name the applicant in full need a role that sees personal data (the statistician
/// reads only the consultation letter, which names the applicant masked).
#[utoipa::path(
    get,
    operation_id = "getDocument",
    path = "/api/v1/cases/{id}/documents/{version_id}",
    tag = "papers",
    params(
        ("id" = uuid::Uuid, Path, description = "Case id"),
        ("version_id" = uuid::Uuid, Path, description = "The version's id"),
    ),
    responses(
        (status = 200, description = "The DOCX", content_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document", headers(("ETag" = String, description = "The file's SHA-256"), ("Repr-Digest" = String))),
        (status = 403, description = "The role cannot read this letter", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such case in your scope, or no such version on it", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub async fn download(
    path: web::Path<(String, String)>,
    Auth(user): Auth,
    db: web::Data<Db>,
) -> Result<HttpResponse, AppError> {
    let (case_id, version_id) = path.into_inner();
    let record = visible_case(&db, &user, &case_id).await?;
    let document = db
        .run(move |conn| {
            let events = crate::db::cases::events(conn, &record.row.id)?;
            let document = letters::version_of(&crate::db::cases::project(&events)?, &version_id)?;
            letters::require_read(Caller::User(&user), document.kind)?;
            Ok(document)
        })
        .await?;
    let file = StoredFileResponse {
        media_type: letters::docx::MEDIA_TYPE,
        filename: &docx_name(&document),
        size_bytes: document.size_bytes,
        sha256: &document.sha256,
    };
    Ok(file.respond(db, document.id.clone()))
}

/// An agency's letterhead as it applies.
#[derive(Serialize, ToSchema)]
pub struct LetterheadResponse {
    pub letterhead: Letterhead,
    /// The agency that set it: this one, an ancestor, or null (nobody did: the defaults apply).
    pub set_by: Option<String>,
}

/// The letterhead an agency's letters use: its own, or the nearest ancestor's.
#[utoipa::path(
    get,
    operation_id = "getLetterhead",
    path = "/api/v1/agencies/{code}/letterhead",
    tag = "papers",
    params(("code" = String, Path, description = "Agency code")),
    responses(
        (status = 200, description = "The letterhead", body = LetterheadResponse),
        (status = 404, description = "No such agency in your scope", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub async fn get_letterhead(
    path: web::Path<String>,
    Auth(user): Auth,
    db: web::Data<Db>,
) -> Result<HttpResponse, AppError> {
    let (letterhead, set_by) = db.run(move |conn| letters::letterhead_of(conn, Caller::User(&user), &path)).await?;
    Ok(HttpResponse::Ok().json(LetterheadResponse { letterhead, set_by }))
}

/// Set an agency's letterhead (administrators): it applies to its subtree unless a sub-agency sets
/// its own. Numbers follow the agency whose letterhead a letter uses.
#[utoipa::path(
    put,
    operation_id = "putLetterhead",
    path = "/api/v1/agencies/{code}/letterhead",
    tag = "papers",
    params(("code" = String, Path, description = "Agency code")),
    request_body(content = Letterhead, content_type = "application/json"),
    responses(
        (status = 200, description = "Stored", body = LetterheadResponse),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such agency in your scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An invalid field", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub async fn put_letterhead(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
    Auth(user): Auth,
    db: web::Data<Db>,
) -> Result<HttpResponse, AppError> {
    let letterhead: Letterhead = json_body(&req, &body)?;
    let code = path.into_inner();
    let stored = letterhead.clone();
    db.run(move |conn| letters::set_letterhead(conn, Caller::User(&user), &code, &stored).map(|_| code))
        .await
        .map(|code| HttpResponse::Ok().json(LetterheadResponse { letterhead, set_by: Some(code) }))
}

/// A letter template as it applies to an agency.
#[derive(Serialize, ToSchema)]
pub struct TemplateResponse {
    pub name: String,
    /// The template's text (minijinja syntax rendering the letter markup; see the README).
    pub body: String,
    /// `builtin`, or the code of the agency whose version applies.
    pub source: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateInput {
    #[schema(max_length = 49152)]
    pub body: String,
}

/// The template `name` (receipt, correction, extension, consultation, reply, remedies) as it
/// applies to an agency: its own, the nearest ancestor's, or the built-in one.
#[utoipa::path(
    get,
    operation_id = "getDocumentTemplate",
    path = "/api/v1/agencies/{code}/document-templates/{name}",
    tag = "papers",
    params(("code" = String, Path, description = "Agency code"), ("name" = String, Path, description = "Template name")),
    responses(
        (status = 200, description = "The template", body = TemplateResponse),
        (status = 404, description = "No such agency in your scope, or no such template", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub async fn get_template(
    path: web::Path<(String, String)>,
    Auth(user): Auth,
    db: web::Data<Db>,
) -> Result<HttpResponse, AppError> {
    let (code, name) = path.into_inner();
    let template_name = name.clone();
    let (body, source) =
        db.run(move |conn| letters::template_of(conn, Caller::User(&user), &code, &template_name)).await?;
    Ok(HttpResponse::Ok().json(TemplateResponse { name, body, source }))
}

/// Set an agency's own version of a template (administrators). It is rendered first for every letter
/// it can make (both regimes; for the reply every outcome); one that fails is refused with the
/// template's error and nothing changes.
#[utoipa::path(
    put,
    operation_id = "putDocumentTemplate",
    path = "/api/v1/agencies/{code}/document-templates/{name}",
    tag = "papers",
    params(("code" = String, Path, description = "Agency code"), ("name" = String, Path, description = "Template name")),
    request_body(content = TemplateInput, content_type = "application/json"),
    responses(
        (status = 200, description = "Stored", body = TemplateResponse),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such agency in your scope, or no such template", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The template does not render", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub async fn put_template(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Bytes,
    Auth(user): Auth,
    db: web::Data<Db>,
) -> Result<HttpResponse, AppError> {
    let input: TemplateInput = json_body(&req, &body)?;
    let (code, name) = path.into_inner();
    let (agency, template_name, text) = (code.clone(), name.clone(), input.body.clone());
    db.run(move |conn| letters::set_template(conn, Caller::User(&user), &agency, &template_name, &text)).await?;
    Ok(HttpResponse::Ok().json(TemplateResponse { name, body: input.body, source: code }))
}

/// Remove an agency's own version of a template (administrators): the next one up the tree applies.
#[utoipa::path(
    delete,
    operation_id = "deleteDocumentTemplate",
    path = "/api/v1/agencies/{code}/document-templates/{name}",
    tag = "papers",
    params(("code" = String, Path, description = "Agency code"), ("name" = String, Path, description = "Template name")),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such agency in your scope, or it has no version of its own", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub async fn delete_template(
    path: web::Path<(String, String)>,
    Auth(user): Auth,
    db: web::Data<Db>,
) -> Result<HttpResponse, AppError> {
    let (code, name) = path.into_inner();
    db.run(move |conn| letters::remove_template(conn, Caller::User(&user), &code, &name)).await?;
    Ok(HttpResponse::NoContent().finish())
}
