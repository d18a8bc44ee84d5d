//! Attachments over HTTP: upload (multipart, streamed to a temporary file while it is hashed and
//! counted), list, and download (streamed from the database chunk by chunk).

use actix_multipart::{Field, Multipart, MultipartError};
use actix_web::http::header;
use actix_web::{web, HttpResponse};
use base64::Engine;
use futures_util::StreamExt;
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::cases::visible_case;
use super::extract::Auth;
use super::problem::Problem;
use crate::db::Db;
use crate::domain::papers::{AttachmentKind, AttachmentRecord, EvidenceFor};
use crate::error::AppError;
use crate::service::papers::{self as papers, AttachmentSettings, NewAttachment, Spool};
use crate::service::Caller;

/// The form of an upload (multipart/form-data).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct AttachmentUpload {
    /// The file. Its type is judged by its content (attachments.allowed_types), its size must be
    /// within attachments.max_bytes (default 20 MB).
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    kind: AttachmentKind,
    #[schema(max_length = 2000)]
    note: Option<String>,
    /// Link the paper as the evidence of the receipt date (an envelope, a fax) or of the service of
    /// the reply (a postal receipt).
    evidence_for: Option<EvidenceFor>,
}

/// The largest text field of the form (the note is at most 2,000 characters).
const MAX_TEXT_FIELD_BYTES: usize = 16 * 1024;

pub fn multipart_problem(e: MultipartError) -> AppError {
    match e {
        MultipartError::ContentTypeMissing
        | MultipartError::ContentTypeParse
        | MultipartError::ContentTypeIncompatible
        | MultipartError::BoundaryMissing => {
            AppError::UnsupportedMediaType("send the file as multipart/form-data with a boundary".into())
        }
        other => AppError::BadRequest(format!("the multipart body cannot be read: {other}")),
    }
}

pub async fn text_field(field: &mut Field, name: &str) -> Result<String, AppError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.next().await {
        bytes.extend_from_slice(&chunk.map_err(multipart_problem)?);
        if bytes.len() > MAX_TEXT_FIELD_BYTES {
            return Err(AppError::validation(name, format!("is longer than {MAX_TEXT_FIELD_BYTES} bytes")));
        }
    }
    let text = String::from_utf8(bytes).map_err(|_| AppError::validation(name, "is not UTF-8 text"))?;
    if text.contains('\0') {
        return Err(AppError::validation(name, "must not contain NUL characters"));
    }
    Ok(text)
}

/// Attach a paper to a case.
///
/// The file is checked by its content, not its name or declared type: a disguised file is refused
/// with 422 and an oversized one with 413, and nothing is stored. The content is stored in the
/// database and its SHA-256 joins the case's event chain (`audit verify` detects a changed or
/// missing file). Needs no If-Match: an attachment changes no fact of the case.
#[utoipa::path(
    post,
    operation_id = "attachToCase",
    path = "/api/v1/cases/{id}/attachments",
    tag = "papers",
    params(("id" = uuid::Uuid, Path, description = "Case id")),
    request_body(content = AttachmentUpload, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Attached", body = AttachmentRecord, headers(("Location" = String), ("ETag" = String, description = "The case's new version"))),
        (status = 403, description = "The statistician role cannot attach papers", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such case in your scope", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The file is larger than attachments.max_bytes", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not multipart/form-data", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A missing or invalid field, or a file type that is not accepted", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub async fn upload(
    path: web::Path<String>,
    Auth(user): Auth,
    db: web::Data<Db>,
    settings: web::Data<AttachmentSettings>,
    mut form: Multipart,
) -> Result<HttpResponse, AppError> {
    let record = visible_case(&db, &user, &path).await?;
    if !user.role.sees_personal_data() {
        return Err(AppError::Forbidden(format!("the {} role cannot attach papers to a case", user.role)));
    }
    let mut meta = NewAttachment::default();
    let mut upload = None;
    while let Some(field) = form.next().await {
        let mut field = field.map_err(multipart_problem)?;
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "file" if upload.is_some() => return Err(AppError::validation("file", "send one file per upload")),
            "file" => {
                meta.filename = field.content_disposition().and_then(|d| d.get_filename()).map(str::to_owned);
                let mut spool = Spool::new(settings.max_bytes)?;
                while let Some(chunk) = field.next().await {
                    spool.write(&chunk.map_err(multipart_problem)?)?;
                }
                upload = Some(spool.finish()?);
            }
            "kind" => meta.kind = Some(text_field(&mut field, "kind").await?),
            "note" => meta.note = Some(text_field(&mut field, "note").await?),
            "evidence_for" => meta.evidence_for = Some(text_field(&mut field, "evidence_for").await?),
            other => {
                return Err(AppError::validation(
                    other,
                    "is not a field of an upload; send file, kind, note and evidence_for",
                ))
            }
        }
    }
    let upload = upload.ok_or_else(|| AppError::validation("file", "is required: the paper to attach"))?;
    let settings = settings.get_ref().clone();
    let case_id = record.row.id.clone();
    let (updated, attachment) =
        db.run(move |conn| papers::attach(conn, Caller::User(&user), &settings, &record, meta, upload)).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/cases/{case_id}/attachments/{}", attachment.id)))
        .insert_header((header::ETAG, crate::service::cases::etag(&updated)))
        .json(attachment))
}

/// The papers attached to a case.
#[derive(Serialize, ToSchema)]
pub struct AttachmentList {
    pub items: Vec<AttachmentRecord>,
}

/// List a case's attachments, oldest first. Statisticians see file names and notes masked.
#[utoipa::path(
    get,
    operation_id = "listAttachments",
    path = "/api/v1/cases/{id}/attachments",
    tag = "papers",
    params(("id" = uuid::Uuid, Path, description = "Case id")),
    responses(
        (status = 200, description = "The attachments", body = AttachmentList),
        (status = 404, description = "No such case in your scope", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub async fn list(path: web::Path<String>, Auth(user): Auth, db: web::Data<Db>) -> Result<HttpResponse, AppError> {
    let record = visible_case(&db, &user, &path).await?;
    let items = db
        .run(move |conn| {
            let events = crate::db::cases::events(conn, &record.row.id)?;
            let case = crate::db::cases::project(&events)?;
            Ok(case.attachments.into_iter().map(|a| papers::masked_for(Caller::User(&user), a)).collect())
        })
        .await?;
    Ok(HttpResponse::Ok().json(AttachmentList { items }))
}

/// `Content-Disposition` for a download: an ASCII fallback name and the UTF-8 name (RFC 6266, 8187).
pub fn content_disposition(filename: &str) -> String {
    let ascii: String = filename
        .chars()
        .map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' })
        .collect();
    let encoded: String = filename
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// Streams a stored file chunk by chunk, checking it against the SHA-256 its event recorded. Each
/// chunk is sent only once the next has been read, so the last one goes out only after the whole
/// file has matched: a file changed in storage is cut off (the client sees an incomplete body)
/// rather than served as if it were the original.
pub fn stream_file(
    db: web::Data<Db>,
    file_id: String,
    expected_sha256: String,
) -> impl futures_util::Stream<Item = Result<web::Bytes, actix_web::Error>> {
    struct Reading {
        next_seq: i32,
        hasher: Sha256,
        pending: Option<Vec<u8>>,
        verified: bool,
    }
    let start = Reading { next_seq: 0, hasher: Sha256::new(), pending: None, verified: false };
    futures_util::stream::unfold(Some(start), move |state| {
        let (db, file_id, expected) = (db.clone(), file_id.clone(), expected_sha256.clone());
        async move {
            let mut reading = state?;
            loop {
                if reading.verified {
                    return reading.pending.take().map(|last| (Ok(web::Bytes::from(last)), None));
                }
                let (id, seq) = (file_id.clone(), reading.next_seq);
                match db.run(move |conn| crate::db::papers::chunk(conn, &id, seq)).await {
                    Ok(Some(bytes)) => {
                        reading.hasher.update(&bytes);
                        reading.next_seq += 1;
                        if let Some(previous) = reading.pending.replace(bytes) {
                            return Some((Ok(web::Bytes::from(previous)), Some(reading)));
                        }
                    }
                    Ok(None) if hex::encode(reading.hasher.clone().finalize()) == expected => reading.verified = true,
                    Ok(None) => {
                        tracing::error!(
                            file_id,
                            "a stored file does not match its SHA-256; run `foi-tracker audit verify`"
                        );
                        return Some((Err(actix_web::error::ErrorInternalServerError("stored file changed")), None));
                    }
                    Err(e) => return Some((Err(actix_web::error::ErrorServiceUnavailable(e.to_string())), None)),
                }
            }
        }
    })
}

/// The `Repr-Digest` header of a file (RFC 9530) from its hex SHA-256.
pub fn repr_digest(sha256_hex: &str) -> String {
    let raw = hex::decode(sha256_hex).unwrap_or_default();
    format!("sha-256=:{}:", base64::engine::general_purpose::STANDARD.encode(raw))
}

/// Download an attachment, byte for byte as uploaded.
///
/// Needs a role that sees personal data: the statistician gets 403.
#[utoipa::path(
    get,
    operation_id = "getAttachment",
    path = "/api/v1/cases/{id}/attachments/{attachment_id}",
    tag = "papers",
    params(
        ("id" = uuid::Uuid, Path, description = "Case id"),
        ("attachment_id" = uuid::Uuid, Path, description = "Attachment id"),
    ),
    responses(
        (status = 200, description = "The file", content_type = "application/octet-stream", headers(("ETag" = String, description = "The file's SHA-256"), ("Repr-Digest" = String))),
        (status = 403, description = "The role cannot read personal documents", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such case in your scope, or no such attachment on it", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub async fn download(
    path: web::Path<(String, String)>,
    Auth(user): Auth,
    db: web::Data<Db>,
) -> Result<HttpResponse, AppError> {
    let (case_id, attachment_id) = path.into_inner();
    let record = visible_case(&db, &user, &case_id).await?;
    let attachment = db
        .run(move |conn| {
            let events = crate::db::cases::events(conn, &record.row.id)?;
            let case = crate::db::cases::project(&events)?;
            let attachment = papers::attachment_of(&case, &attachment_id)?;
            papers::require_content_access(Caller::User(&user), true)?;
            Ok(attachment)
        })
        .await?;
    let file = StoredFileResponse {
        media_type: &attachment.media_type,
        filename: &attachment.filename,
        size_bytes: attachment.size_bytes,
        sha256: &attachment.sha256,
    };
    Ok(file.respond(db, attachment.id.clone()))
}

/// A stored file as a download: its type and name, its SHA-256 as the ETag and `Repr-Digest`, never
/// sniffed or cached by the browser, streamed and checked chunk by chunk.
pub struct StoredFileResponse<'a> {
    pub media_type: &'a str,
    pub filename: &'a str,
    pub size_bytes: i64,
    pub sha256: &'a str,
}

impl StoredFileResponse<'_> {
    pub fn respond(&self, db: web::Data<Db>, file_id: String) -> HttpResponse {
        HttpResponse::Ok()
            .content_type(self.media_type)
            .insert_header((header::CONTENT_DISPOSITION, content_disposition(self.filename)))
            .insert_header((header::ETAG, format!("\"{}\"", self.sha256)))
            .insert_header(("Repr-Digest", repr_digest(self.sha256)))
            .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .insert_header((header::CACHE_CONTROL, "private, no-store"))
            .no_chunking(self.size_bytes as u64)
            .streaming(stream_file(db, file_id, self.sha256.to_owned()))
    }
}
