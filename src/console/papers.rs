//! The case page's papers: the letters generated from the case (with their print view) and the
//! papers attached to it, with the forms that generate a letter and attach a paper.

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use futures_util::StreamExt;

use super::case_page::answer;
use super::{check_csrf, field, form_fields, html, ConsoleError, Tr, Visitor};
use crate::api::cases::CaseResponse;
use crate::db::calendar::CalendarCache;
use crate::db::Db;
use crate::domain::letters::DocumentKind;
use crate::domain::papers::{AttachmentKind, EvidenceFor};
use crate::error::AppError;
use crate::service::letters::{self, GenerateRequest};
use crate::service::papers::{self as papers, AttachmentSettings, NewAttachment, Spool};
use crate::service::{cases, Caller};

/// A letter version as the page lists it.
pub struct DocumentRow {
    pub number: String,
    pub title: &'static str,
    pub version: i32,
    pub issued_on: String,
    /// The API's download address, when the user may read the letter.
    pub download: Option<String>,
    /// The console's print view, when the user may read the letter.
    pub print: Option<String>,
}

/// An attachment as the page lists it.
pub struct AttachmentRow {
    pub kind: &'static str,
    pub filename: String,
    pub size: String,
    pub evidence: Option<&'static str>,
    pub note: String,
    pub download: Option<String>,
}

/// The papers section of the case page.
pub struct PapersView {
    /// The user may generate letters and attach papers (every role but the statistician).
    pub can_write: bool,
    pub documents: Vec<DocumentRow>,
    pub attachments: Vec<AttachmentRow>,
    pub document_kinds: Vec<(String, String)>,
    pub attachment_kinds: Vec<(String, String)>,
    pub evidence_options: Vec<(String, String)>,
}

/// A size as people read it: 1.2 MB, 350 KB.
fn size_text(bytes: i64) -> String {
    if bytes >= 1_000_000 {
        format!("{:.1} MB", bytes as f64 / 1_000_000.0)
    } else {
        format!("{} KB", (bytes + 999) / 1000)
    }
}

impl PapersView {
    pub fn of(case: &CaseResponse, sees_personal_data: bool) -> PapersView {
        let id = case.id;
        let documents = case
            .documents
            .iter()
            .flatten()
            .map(|d| {
                let readable = sees_personal_data || !d.kind.is_personal();
                DocumentRow {
                    number: d.number.clone(),
                    title: d.kind.title(),
                    version: d.version,
                    issued_on: d.issued_on.to_string(),
                    download: readable.then(|| format!("/api/v1/cases/{id}/documents/{}", d.id)),
                    print: readable.then(|| format!("/cases/{id}/documents/{}/print", d.id)),
                }
            })
            .collect();
        let attachments = case
            .attachments
            .iter()
            .flatten()
            .map(|a| AttachmentRow {
                kind: a.kind.label(),
                filename: a.filename.clone(),
                size: size_text(a.size_bytes),
                evidence: a.evidence_for.map(EvidenceFor::label),
                note: a.note.clone().unwrap_or_default(),
                download: sees_personal_data.then(|| format!("/api/v1/cases/{id}/attachments/{}", a.id)),
            })
            .collect();
        PapersView {
            can_write: sees_personal_data,
            documents,
            attachments,
            document_kinds: super::options(DocumentKind::ALL, DocumentKind::as_str, |k| k.title().to_owned()),
            attachment_kinds: super::options(AttachmentKind::ALL, AttachmentKind::as_str, |k| k.label().to_owned()),
            evidence_options: super::options(EvidenceFor::ALL, EvidenceFor::as_str, |k| k.label().to_owned()),
        }
    }
}

/// POST /cases/{id}/documents: generate a letter from the case page's form.
pub async fn generate(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
    db: web::Data<Db>,
    calendars: web::Data<CalendarCache>,
) -> Result<HttpResponse, ConsoleError> {
    let id = path.into_inner();
    let fields = form_fields(&body);
    let visitor = Visitor::of(&req, &db).await?;
    let Some(me) = visitor.me else {
        let next = format!("/cases/{id}");
        return Ok(super::auth::login_page(&visitor, Some(&next), String::new(), StatusCode::UNAUTHORIZED));
    };
    let tr = visitor.tr;
    check_csrf(&me, field(&fields, "csrf_token"), tr.lang())?;
    let kind = field(&fields, "kind").unwrap_or_default().to_owned();
    let mut particulars = std::collections::BTreeMap::new();
    for name in ["matters", "respond_by", "third_party", "due_on", "content", "other_agency"] {
        if let Some(value) = field(&fields, &format!("p.{name}")).map(str::trim).filter(|v| !v.is_empty()) {
            particulars.insert(name.to_owned(), value.to_owned());
        }
    }
    let issued_on = field(&fields, "issued_on").filter(|v| !v.is_empty()).map(str::to_owned);
    let (user, case_id) = (me.principal.clone(), id.clone());
    let outcome = db
        .run(move |conn| {
            let kind =
                DocumentKind::parse(&kind).ok_or_else(|| AppError::validation("kind", "choose the kind of letter"))?;
            let issued_on = match issued_on {
                None => None,
                Some(day) => Some(
                    chrono::NaiveDate::parse_from_str(&day, "%Y-%m-%d")
                        .map_err(|_| AppError::validation("issued_on", "must be a date"))?,
                ),
            };
            let record = cases::visible(conn, &user, &case_id)?;
            let request = GenerateRequest { kind, particulars, issued_on };
            letters::generate(conn, Caller::User(&user), &record, &request)
        })
        .await;
    let what = tr.t("generate_document").to_owned();
    answer(
        &db,
        &calendars,
        tr,
        me,
        id,
        what,
        outcome.map(|g| if g.created { "done=1#papers" } else { "unchanged=1#papers" }),
    )
    .await
}

/// POST /cases/{id}/attachments: attach a paper from the case page's form (multipart). The form's
/// CSRF token must come first, so nothing of an upload is read before the session is checked.
pub async fn upload(
    req: HttpRequest,
    path: web::Path<String>,
    mut form: Multipart,
    db: web::Data<Db>,
    calendars: web::Data<CalendarCache>,
    settings: web::Data<AttachmentSettings>,
) -> Result<HttpResponse, ConsoleError> {
    let id = path.into_inner();
    let visitor = Visitor::of(&req, &db).await?;
    let Some(me) = visitor.me else {
        // A file cannot be carried through a sign-in: the form is shown again after it.
        let next = format!("/cases/{id}");
        return Ok(super::auth::login_page(&visitor, Some(&next), String::new(), StatusCode::UNAUTHORIZED));
    };
    let tr = visitor.tr;
    let mut checked = false;
    let mut meta = NewAttachment::default();
    let mut upload = None;
    let mut refused = None;
    while let Some(part) = form.next().await {
        let Ok(mut part) = part else {
            refused = Some(AppError::BadRequest("the upload was cut off; try again".into()));
            break;
        };
        let name = part.name().unwrap_or_default().to_owned();
        if !checked {
            let mut token = Vec::new();
            while let Some(Ok(chunk)) = part.next().await {
                token.extend_from_slice(&chunk);
                if token.len() > 1024 {
                    break;
                }
            }
            let token = String::from_utf8(token).ok();
            check_csrf(&me, token.as_deref().filter(|_| name == "csrf_token"), tr.lang())?;
            checked = true;
            continue;
        }
        if name == "file" {
            meta.filename = part.content_disposition().and_then(|d| d.get_filename()).map(str::to_owned);
            let mut spool = Spool::new(settings.max_bytes).map_err(|e| ConsoleError::from_app(e, tr.lang()))?;
            let mut failed = None;
            while let Some(chunk) = part.next().await {
                match chunk.map_err(|e| AppError::BadRequest(e.to_string())).and_then(|c| spool.write(&c)) {
                    Ok(()) => {}
                    Err(e) => {
                        failed = Some(e);
                        break;
                    }
                }
            }
            match failed {
                Some(e) => {
                    refused = Some(e);
                    break;
                }
                None => upload = Some(spool.finish().map_err(|e| ConsoleError::from_app(e, tr.lang()))?),
            }
            continue;
        }
        let mut bytes = Vec::new();
        while let Some(Ok(chunk)) = part.next().await {
            bytes.extend_from_slice(&chunk);
            if bytes.len() > 16 * 1024 {
                break;
            }
        }
        let value = String::from_utf8_lossy(&bytes).replace('\0', "");
        match name.as_str() {
            "kind" => meta.kind = Some(value),
            "note" => meta.note = Some(value).filter(|v| !v.trim().is_empty()),
            "evidence_for" => meta.evidence_for = Some(value),
            _ => {}
        }
    }
    if !checked {
        check_csrf(&me, None, tr.lang())?;
    }
    let (user, case_id, settings) = (me.principal.clone(), id.clone(), settings.get_ref().clone());
    let outcome = match (refused, upload) {
        (Some(e), _) => Err(e),
        (None, None) => Err(AppError::validation("file", "choose the file to attach")),
        (None, Some(upload)) => {
            db.run(move |conn| {
                let record = cases::visible(conn, &user, &case_id)?;
                papers::attach(conn, Caller::User(&user), &settings, &record, meta, upload).map(|_| ())
            })
            .await
        }
    };
    let what = tr.t("upload_attachment").to_owned();
    answer(&db, &calendars, tr, me, id, what, outcome.map(|()| "done=1#papers")).await
}

/// The print view of a letter: A4 pages in the official-document layout, for the browser's print.
#[derive(Template)]
#[template(path = "console/letter.html")]
struct LetterPage {
    tr: Tr,
    issuer: String,
    number: String,
    seal: String,
    title: String,
    blocks: Vec<(&'static str, String)>,
    back: String,
}

/// GET /cases/{id}/documents/{version_id}/print.
pub async fn print(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    db: web::Data<Db>,
) -> Result<HttpResponse, ConsoleError> {
    let (tr, me) = Visitor::of(&req, &db).await?.require(&req)?;
    let (case_id, version_id) = path.into_inner();
    let user = me.principal.clone();
    let page = db
        .run(move |conn| {
            let record = cases::visible(conn, &user, &case_id)?;
            let events = crate::db::cases::events(conn, &record.row.id)?;
            let document = letters::version_of(&crate::db::cases::project(&events)?, &version_id)?;
            letters::require_read(Caller::User(&user), document.kind)?;
            let letter = letters::letter_of(conn, &document)?;
            use letters::markup::Block;
            let blocks = letter
                .blocks
                .into_iter()
                .map(|b| match b {
                    Block::To(t) => ("to", t),
                    Block::Paragraph(t) => ("body", t),
                    Block::Heading(t) => ("heading", t),
                    Block::Signature(t) => ("signature", t),
                    Block::Date(t) => ("date", t),
                    Block::Note(t) => ("note", t),
                })
                .collect();
            Ok(LetterPage {
                tr,
                issuer: letter.issuer.unwrap_or_default(),
                number: letter.number.unwrap_or(document.number),
                seal: letter.seal.unwrap_or_default(),
                title: letter.title,
                blocks,
                back: format!("/cases/{}#papers", record.row.id),
            })
        })
        .await
        .map_err(|e| ConsoleError::from_app(e, tr.lang()))?;
    Ok(html(StatusCode::OK, &page))
}
