//! Attachments: a paper uploaded to a case (the letter and its envelope, the fax, the postal receipt,
//! a decision), checked by its content, stored in the database with its SHA-256 in the case's event
//! chain, and read back under the case's authorization and masking rules.

use std::io::{Seek, SeekFrom, Write};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::db::cases::{self, CaseRecord};
use crate::db::locks::Author;
use crate::db::papers::{self, StoredFile};
use crate::db::{DbConnection, TxError};
use crate::domain::events::CaseEvent;
use crate::domain::papers::{sniff, AttachmentKind, AttachmentRecord, EvidenceFor, MAX_FILENAME_CHARS, MAX_NOTE_CHARS};
use crate::domain::role::Role;
use crate::domain::validation::{FieldError, Validator};
use crate::error::AppError;
use crate::service::Caller;

/// `[attachments]` settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachmentSettings {
    /// The largest file accepted, in bytes.
    pub max_bytes: u64,
    /// The media types accepted, as the content shows them (see `domain::papers::KNOWN_MEDIA_TYPES`).
    pub allowed_types: Vec<String>,
}

impl AttachmentSettings {
    /// Every configured type must be one the service can recognise by content.
    pub fn validate(&self) -> anyhow::Result<()> {
        for t in &self.allowed_types {
            if !crate::domain::papers::KNOWN_MEDIA_TYPES.contains(&t.as_str()) {
                anyhow::bail!(
                    "attachments.allowed_types: `{t}` is not a type the service recognises by content; use some of {}",
                    crate::domain::papers::KNOWN_MEDIA_TYPES.join(", ")
                );
            }
        }
        Ok(())
    }
}

/// How much of the start of a file decides its type.
const HEAD_BYTES: usize = 64 * 1024;

/// An upload being received: written to a temporary file as it arrives, hashed and counted, and
/// refused as soon as it passes the size limit (so an oversized upload is never read in full).
pub struct Spool {
    file: tempfile::NamedTempFile,
    hasher: Sha256,
    size: u64,
    head: Vec<u8>,
    limit: u64,
}

/// A received file: its content (in a temporary file, deleted when dropped), size, hash and type.
pub struct Upload {
    file: tempfile::NamedTempFile,
    pub size: u64,
    pub sha256: String,
    /// The type its content shows (None: not recognised).
    pub media_type: Option<&'static str>,
}

impl Spool {
    pub fn new(limit: u64) -> Result<Spool, AppError> {
        Ok(Spool {
            file: tempfile::NamedTempFile::new().map_err(AppError::internal)?,
            hasher: Sha256::new(),
            size: 0,
            head: Vec::new(),
            limit,
        })
    }

    /// Takes the next piece of the file; 413 once the file is larger than the limit.
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), AppError> {
        self.size += bytes.len() as u64;
        if self.size > self.limit {
            return Err(too_large(self.limit));
        }
        if self.head.len() < HEAD_BYTES {
            let take = bytes.len().min(HEAD_BYTES - self.head.len());
            self.head.extend_from_slice(&bytes[..take]);
        }
        self.hasher.update(bytes);
        self.file.write_all(bytes).map_err(AppError::internal)
    }

    pub fn finish(mut self) -> Result<Upload, AppError> {
        self.file.flush().map_err(AppError::internal)?;
        Ok(Upload {
            media_type: sniff(&self.head),
            file: self.file,
            size: self.size,
            sha256: hex::encode(self.hasher.finalize()),
        })
    }

    /// Spools all of `reader` (the command line's file).
    pub fn read_all(limit: u64, mut reader: impl std::io::Read) -> Result<Upload, AppError> {
        let mut spool = Spool::new(limit)?;
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            let n = reader.read(&mut buffer).map_err(|e| AppError::BadRequest(format!("cannot read the file: {e}")))?;
            if n == 0 {
                return spool.finish();
            }
            spool.write(&buffer[..n])?;
        }
    }
}

fn too_large(limit: u64) -> AppError {
    AppError::PayloadTooLarge(format!(
        "the file is larger than the limit of {limit} bytes ({:.1} MB; attachments.max_bytes)",
        limit as f64 / 1_000_000.0
    ))
}

/// What the office says of an uploaded paper.
#[derive(Debug, Clone, Default)]
pub struct NewAttachment {
    pub kind: Option<String>,
    pub filename: Option<String>,
    pub note: Option<String>,
    pub evidence_for: Option<String>,
}

/// The last path component of an uploaded name (browsers on some systems send a whole path).
fn base_name(name: &str) -> &str {
    name.rsplit(['/', '\\']).next().unwrap_or(name).trim()
}

/// Attaches `upload` to the case: checks the description and the content (type by content, size),
/// then stores the content and its `attached` event in one transaction. An attachment changes no
/// fact of the case, so it asks for no If-Match: a concurrent change is simply retried.
pub fn attach(
    conn: &mut DbConnection,
    caller: Caller<'_>,
    settings: &AttachmentSettings,
    record: &CaseRecord,
    meta: NewAttachment,
    upload: Upload,
) -> Result<(CaseRecord, AttachmentRecord), AppError> {
    if let Caller::User(p) = caller {
        if p.role == Role::Statistician {
            return Err(AppError::Forbidden("the statistician role cannot attach papers to a case".into()));
        }
    }
    let mut v = Validator::new();
    let kind = match meta.kind.as_deref().map(str::trim) {
        None | Some("") => {
            v.error("kind", format!("is required: one of {}", kinds_list()));
            None
        }
        Some(k) => AttachmentKind::parse(k).or_else(|| {
            v.error("kind", format!("`{k}` is not a kind of paper; use one of {}", kinds_list()));
            None
        }),
    };
    let filename = base_name(meta.filename.as_deref().unwrap_or("")).to_owned();
    let filename = v.text("filename", &filename, MAX_FILENAME_CHARS);
    let note = v.optional_text("note", meta.note.as_deref(), MAX_NOTE_CHARS);
    let evidence_for = match meta.evidence_for.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(e) => EvidenceFor::parse(e).or_else(|| {
            v.error("evidence_for", format!("`{e}` is not a date a paper can prove; use `receipt` or `service`"));
            None
        }),
    };
    if let (Some(kind), Some(what)) = (kind, evidence_for) {
        if !kind.can_evidence(what) {
            v.error(
                "evidence_for",
                format!("a paper of kind `{kind}` ({}) cannot be the {}", kind.label(), what.label()),
            );
        }
        if what == EvidenceFor::Service && record.row.served_on.is_none() {
            v.error("evidence_for", "the case has no served reply yet: record the service first");
        }
    }
    if upload.size == 0 {
        v.error("file", "is empty");
    }
    if upload.size > settings.max_bytes {
        return Err(too_large(settings.max_bytes));
    }
    let media_type = match upload.media_type {
        Some(t) if settings.allowed_types.iter().any(|a| a == t) => Some(t),
        Some(t) => {
            v.error(
                "file",
                format!("its content is {t}, which this office does not accept (attachments.allowed_types)"),
            );
            None
        }
        None if upload.size > 0 => {
            v.error(
                "file",
                format!(
                    "its content is not a type the service accepts, whatever its name says; accepted: {}",
                    settings.allowed_types.join(", ")
                ),
            );
            None
        }
        None => None,
    };
    v.finish().map_err(AppError::Validation)?;
    let (kind, media_type) = (kind.expect("checked"), media_type.expect("checked"));
    let attachment = AttachmentRecord {
        id: uuid::Uuid::now_v7().to_string(),
        kind,
        filename,
        media_type: media_type.to_owned(),
        size_bytes: upload.size as i64,
        sha256: upload.sha256.clone(),
        note,
        evidence_for,
    };
    let stored = StoredFile {
        id: attachment.id.clone(),
        case_id: record.row.id.clone(),
        media_type: attachment.media_type.clone(),
        size_bytes: attachment.size_bytes,
        sha256: attachment.sha256.clone(),
        created_at: crate::db::now(),
    };
    let author = Author { user_id: caller.user_id(), lock_override: None };
    let event = [CaseEvent::Attached(attachment.clone())];
    let mut upload = upload;
    let mut current = record.clone();
    for attempt in 0.. {
        upload.file.as_file_mut().seek(SeekFrom::Start(0)).map_err(AppError::internal)?;
        let content = upload.file.as_file_mut();
        match cases::append_with(conn, &current, &event, &author, |conn| {
            papers::store(conn, &stored, content).map_err(TxError::App)
        }) {
            Ok(updated) => return Ok((updated, attachment)),
            Err(AppError::PreconditionFailed(_)) if attempt < 3 => {
                current =
                    cases::find(conn, &record.row.id)?.ok_or_else(|| AppError::NotFound("the case is gone".into()))?;
            }
            Err(e) => return Err(e),
        }
    }
    unreachable!("the loop returns")
}

fn kinds_list() -> String {
    AttachmentKind::ALL.iter().map(|k| format!("{k} ({})", k.label())).collect::<Vec<_>>().join(", ")
}

/// Who may read a paper's content: anyone who sees the case with personal data. The statistician
/// sees the list (masked) but reads no personal paper; every attachment is personal (it names or
/// was written by the applicant, or concerns a third party).
pub fn require_content_access(caller: Caller<'_>, personal: bool) -> Result<(), AppError> {
    match caller {
        Caller::User(p) if personal && !p.role.sees_personal_data() => Err(AppError::Forbidden(format!(
            "the {} role sees cases masked and cannot read personal documents",
            p.role
        ))),
        _ => Ok(()),
    }
}

/// An attachment of a case as its event recorded it.
pub fn attachment_of(case: &crate::domain::case::Case, id: &str) -> Result<AttachmentRecord, AppError> {
    case.attachments
        .iter()
        .find(|a| a.id == id)
        .cloned()
        .ok_or_else(|| AppError::NotFound(format!("the case has no attachment `{id}`")))
}

/// How a caller sees an attachment in a list: a role that sees cases masked reads its file name and
/// note masked.
pub fn masked_for(caller: Caller<'_>, a: AttachmentRecord) -> AttachmentRecord {
    match caller {
        Caller::User(p) if !p.role.sees_personal_data() => crate::domain::masking::mask_attachment(a),
        _ => a,
    }
}

/// Checks the stored content of every file the case's events name against the size and hash the
/// event recorded (the audit): a description of each difference.
pub fn check_files(conn: &mut DbConnection, case: &crate::domain::case::Case) -> Result<Vec<String>, AppError> {
    // (stored id, size to expect if known, SHA-256 to expect, what to call it)
    let mut files: Vec<(String, Option<i64>, &str, String)> = Vec::new();
    for a in &case.attachments {
        files.push((a.id.clone(), Some(a.size_bytes), &a.sha256, format!("attachment {} ({})", a.id, a.filename)));
    }
    for d in &case.documents {
        let what = format!("document {} version {}", d.number, d.version);
        files.push((d.id.clone(), Some(d.size_bytes), &d.sha256, what.clone()));
        files.push((crate::service::letters::text_file_id(&d.id), None, &d.text_sha256, format!("{what} (its text)")));
    }
    let mut problems = Vec::new();
    for (id, size, sha, what) in files {
        match papers::measure(conn, &id)? {
            None => problems.push(format!("{what}: the stored file is missing")),
            Some((stored_size, stored_sha)) if size.is_some_and(|s| s != stored_size) || stored_sha != sha => {
                problems.push(format!("{what}: the stored file does not match the SHA-256 in the event chain"))
            }
            Some(_) => {}
        }
    }
    Ok(problems)
}

/// A validation problem about the uploaded file itself.
pub fn file_problem(message: impl Into<String>) -> AppError {
    AppError::Validation(vec![FieldError::new("file", message)])
}
