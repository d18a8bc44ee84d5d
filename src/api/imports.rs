//! Ledger import over HTTP (administrators): upload a ledger, get the report; the template.

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{web, HttpResponse};
use futures_util::StreamExt;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::extract::{query, Auth};
use super::problem::Problem;
use crate::db::calendar::CalendarCache;
use crate::db::Db;
use crate::domain::ledger_import::Mapping;
use crate::domain::validation::FieldError;
use crate::error::AppError;
use crate::service::ledger_import::{self, ImportReport};
use crate::service::papers::AttachmentSettings;
use crate::service::Caller;

/// The form of an import (multipart/form-data).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ImportUpload {
    /// The ledger: XLSX, or CSV in UTF-8 or GB18030 (at most attachments.max_bytes).
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// The office's mapping (TOML: its headers, words and date formats), if its columns differ.
    mapping: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// Check every row and answer the report; write nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// Import cases from an office's ledger into an agency (administrators of its subtree).
///
/// Every row is checked first. A dry run answers the report (200). A real run with any invalid row
/// writes nothing and answers 422 with a problem per row and column; otherwise it writes the new
/// rows (those imported before are skipped) and answers the report (201). Large ledgers are better
/// imported with `foi-tracker import cases`, which shows its progress.
#[utoipa::path(
    post,
    operation_id = "importCases",
    path = "/api/v1/agencies/{code}/imports",
    tag = "agencies",
    params(("code" = String, Path, description = "Agency code"), ImportQuery),
    request_body(content = ImportUpload, content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "The dry run's report", body = ImportReport),
        (status = 201, description = "Imported: the report", body = ImportReport),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such agency in your scope", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The file is too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not multipart/form-data", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid rows (nothing written), an unreadable file or mapping", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub async fn import(
    req: actix_web::HttpRequest,
    path: web::Path<String>,
    Auth(user): Auth,
    db: web::Data<Db>,
    calendars: web::Data<CalendarCache>,
    settings: web::Data<AttachmentSettings>,
    mut form: Multipart,
) -> Result<HttpResponse, AppError> {
    let query: ImportQuery = query(&req)?;
    Caller::User(&user).require_admin("import a ledger")?;
    let mut file: Option<Vec<u8>> = None;
    let mut mapping = Mapping::default();
    while let Some(part) = form.next().await {
        let mut part = part.map_err(super::papers::multipart_problem)?;
        let name = part.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "file" => {
                let mut bytes = Vec::new();
                while let Some(chunk) = part.next().await {
                    bytes.extend_from_slice(&chunk.map_err(super::papers::multipart_problem)?);
                    if bytes.len() as u64 > settings.max_bytes {
                        return Err(AppError::PayloadTooLarge(format!(
                            "the file is larger than the limit of {} bytes (attachments.max_bytes)",
                            settings.max_bytes
                        )));
                    }
                }
                file = Some(bytes);
            }
            "mapping" => {
                let text = super::papers::text_field(&mut part, "mapping").await?;
                mapping = Mapping::from_toml(&text).map_err(|e| AppError::validation("mapping", e))?;
            }
            other => return Err(AppError::validation(other, "is not a field of an import; send file and mapping")),
        }
    }
    let bytes = file.ok_or_else(|| AppError::validation("file", "is required: the ledger"))?;
    let code = path.into_inner();
    let dry_run = query.dry_run;
    let report = db
        .run(move |conn| {
            let sheet = ledger_import::read_sheet(&bytes)?;
            let hash = ledger_import::file_hash(&bytes);
            ledger_import::import(
                conn,
                &calendars,
                Caller::User(&user),
                &code,
                &sheet,
                &hash,
                &mapping,
                dry_run,
                &|_| {},
            )
        })
        .await?;
    if !dry_run && !report.problems.is_empty() {
        let errors = report
            .problems
            .iter()
            .map(|p| {
                let at =
                    if p.column.is_empty() { format!("row {}", p.row) } else { format!("row {}: {}", p.row, p.column) };
                let value = if p.value.is_empty() { String::new() } else { format!("「{}」", p.value) };
                FieldError::new(at, format!("{value}{} / {}", p.zh, p.en))
            })
            .collect();
        return Err(AppError::Validation(errors));
    }
    let mut response = if dry_run { HttpResponse::Ok() } else { HttpResponse::Created() };
    Ok(response.json(report))
}

/// The import template: XLSX, headers in Chinese, one example row.
#[utoipa::path(
    get,
    operation_id = "getImportTemplate",
    path = "/api/v1/imports/template",
    tag = "agencies",
    responses(
        (status = 200, description = "The template", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub async fn template(Auth(_user): Auth) -> Result<HttpResponse, AppError> {
    let bytes = ledger_import::template_xlsx()?;
    Ok(HttpResponse::Ok()
        .content_type(crate::service::reports::XLSX_MEDIA_TYPE)
        .insert_header((header::CONTENT_DISPOSITION, super::papers::content_disposition("台账导入模板.xlsx")))
        .body(bytes))
}
