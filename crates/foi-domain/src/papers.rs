//! The papers a case carries (attachments): what kind each is, which of them may stand as the
//! evidence of the receipt date or of the posting date, and what a file really is, judged by its
//! content rather than its name.

use serde::{Deserialize, Serialize};

string_enum! {
    /// What an attached paper is.
    AttachmentKind {
        /// 来信原件: the applicant's letter as received.
        LetterOriginal => "letter_original",
        /// 信封: the envelope (its postmark and the signature of receipt date the request, 2019 Art. 31 (二)).
        Envelope => "envelope",
        /// 传真件: the fax as received.
        Fax => "fax",
        /// 网络申请表: the online form as submitted.
        WebForm => "web_form",
        /// 答复书（送达稿）: the reply as served, signed and stamped.
        ReplyAsServed => "reply_as_served",
        /// 邮寄凭证: the postal receipt (the posting date is the service date, 国办公开办函〔2016〕235号).
        PostalReceipt => "postal_receipt",
        /// 第三方意见: a third party's answer to a consultation (2019 Art. 32).
        ThirdPartyOpinion => "third_party_opinion",
        /// 复议决定书: a reconsideration (or court) decision.
        ReconsiderationDecision => "reconsideration_decision",
        /// 其他.
        Other => "other",
    }
}

impl AttachmentKind {
    /// The office's word for the kind.
    pub fn label(self) -> &'static str {
        match self {
            AttachmentKind::LetterOriginal => "来信原件",
            AttachmentKind::Envelope => "信封",
            AttachmentKind::Fax => "传真件",
            AttachmentKind::WebForm => "网络申请表",
            AttachmentKind::ReplyAsServed => "答复书（送达稿）",
            AttachmentKind::PostalReceipt => "邮寄凭证",
            AttachmentKind::ThirdPartyOpinion => "第三方意见",
            AttachmentKind::ReconsiderationDecision => "复议决定书",
            AttachmentKind::Other => "其他",
        }
    }

    /// Whether a paper of this kind can prove the date `what` stands for.
    pub fn can_evidence(self, what: EvidenceFor) -> bool {
        use AttachmentKind as K;
        match what {
            EvidenceFor::Receipt => matches!(self, K::LetterOriginal | K::Envelope | K::Fax | K::WebForm | K::Other),
            EvidenceFor::Service => matches!(self, K::PostalReceipt | K::ReplyAsServed | K::Other),
        }
    }
}

string_enum! {
    /// The date an attachment is evidence of.
    EvidenceFor {
        /// The receipt date fixed at intake (the envelope's signature, the fax, the web form).
        Receipt => "receipt",
        /// The service of the reply (the postal receipt: by post, the posting date counts).
        Service => "service",
    }
}

impl EvidenceFor {
    pub fn label(self) -> &'static str {
        match self {
            EvidenceFor::Receipt => "收到申请日期的凭证",
            EvidenceFor::Service => "送达（交邮）日期的凭证",
        }
    }
}

/// An attachment as its event records it: the file's identity (its content hash and size) and what
/// the office said of it. The hash in the event chain is what `audit verify` checks the stored
/// content against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AttachmentRecord {
    /// The attachment's id (also the id of its stored content).
    pub id: String,
    pub kind: AttachmentKind,
    /// The file name as uploaded.
    pub filename: String,
    /// The type found by reading the content.
    pub media_type: String,
    pub size_bytes: i64,
    /// SHA-256 of the content, hex.
    pub sha256: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The date this paper is evidence of, if the office linked it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence_for: Option<EvidenceFor>,
}

pub const MAX_FILENAME_CHARS: usize = 255;
pub const MAX_NOTE_CHARS: usize = 2_000;

/// The file types the service can recognise by their content. Plain text is recognised by being
/// valid UTF-8 without control characters other than tab, newline and carriage return.
pub const KNOWN_MEDIA_TYPES: &[&str] = &[
    "application/pdf",
    "image/jpeg",
    "image/png",
    "image/tiff",
    "image/gif",
    "image/webp",
    "image/bmp",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/ofd",
    "application/zip",
    "application/x-cfb",
    "text/plain",
];

/// What a file is, judged by its first bytes (`head`: at least the first 64 KiB, or the whole file
/// when it is shorter). A name or a declared type is never trusted: a script renamed `scan.pdf` is
/// not a PDF. Returns None for content the service does not recognise.
///
/// ZIP containers are told apart by the names of their entries: a Word document has `word/`, a
/// workbook `xl/`, an OFD (the national electronic document format, GB/T 33190) `OFD.xml`. Old Word
/// and Excel files are OLE compound files (`application/x-cfb`), which this does not look inside.
pub fn sniff(head: &[u8]) -> Option<&'static str> {
    let starts = |magic: &[u8]| head.starts_with(magic);
    if starts(b"%PDF-") {
        return Some("application/pdf");
    }
    if starts(&[0xFF, 0xD8, 0xFF]) {
        return Some("image/jpeg");
    }
    if starts(b"\x89PNG\r\n\x1a\n") {
        return Some("image/png");
    }
    if starts(b"II*\0") || starts(b"MM\0*") {
        return Some("image/tiff");
    }
    if starts(b"GIF87a") || starts(b"GIF89a") {
        return Some("image/gif");
    }
    if starts(b"RIFF") && head.get(8..12) == Some(b"WEBP") {
        return Some("image/webp");
    }
    if starts(b"BM") && head.len() >= 26 && head[6..10] == [0, 0, 0, 0] {
        return Some("image/bmp");
    }
    if starts(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return Some("application/x-cfb");
    }
    if starts(b"PK\x03\x04") {
        let names = zip_entry_names(head);
        let has = |prefix: &str| names.iter().any(|n| n.starts_with(prefix));
        return Some(if has("word/") {
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        } else if has("xl/") {
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        } else if has("OFD.xml") {
            "application/ofd"
        } else {
            "application/zip"
        });
    }
    if is_plain_text(head) {
        return Some("text/plain");
    }
    None
}

/// The names of the ZIP local file entries that start within `head`.
fn zip_entry_names(head: &[u8]) -> Vec<String> {
    let mut names = Vec::new();
    let mut at = 0;
    while let Some(header) = head.get(at..at + 30) {
        if &header[..4] != b"PK\x03\x04" {
            break;
        }
        let u16_at = |i: usize| u16::from_le_bytes([header[i], header[i + 1]]) as usize;
        let u32_at = |i: usize| u32::from_le_bytes([header[i], header[i + 1], header[i + 2], header[i + 3]]) as usize;
        let flags = u16_at(6);
        let compressed = u32_at(18);
        let (name_len, extra_len) = (u16_at(26), u16_at(28));
        let Some(name) = head.get(at + 30..at + 30 + name_len) else { break };
        names.push(String::from_utf8_lossy(name).into_owned());
        // With a data descriptor (flag bit 3) the size is unknown here: stop at the first entry.
        if flags & 0x08 != 0 {
            break;
        }
        at += 30 + name_len + extra_len + compressed;
    }
    names
}

/// Text a person wrote: valid UTF-8 (a multi-byte character cut at the end of `head` is allowed)
/// without NUL or other control characters than tab, line feed, carriage return and form feed.
fn is_plain_text(head: &[u8]) -> bool {
    if head.is_empty() {
        return false;
    }
    let text = match std::str::from_utf8(head) {
        Ok(text) => text,
        Err(e) if e.error_len().is_none() && head.len() - e.valid_up_to() < 4 => {
            std::str::from_utf8(&head[..e.valid_up_to()]).expect("valid prefix")
        }
        Err(_) => return false,
    };
    text.chars().all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r' | '\u{c}'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_label_and_receipt_and_service_evidence_are_different_papers() {
        for kind in AttachmentKind::ALL {
            assert!(!kind.label().is_empty());
        }
        assert!(AttachmentKind::Envelope.can_evidence(EvidenceFor::Receipt));
        assert!(!AttachmentKind::Envelope.can_evidence(EvidenceFor::Service));
        assert!(AttachmentKind::PostalReceipt.can_evidence(EvidenceFor::Service));
        assert!(!AttachmentKind::PostalReceipt.can_evidence(EvidenceFor::Receipt));
        assert!(!AttachmentKind::ReconsiderationDecision.can_evidence(EvidenceFor::Receipt));
        assert!(!AttachmentKind::ThirdPartyOpinion.can_evidence(EvidenceFor::Service));
    }

    /// A stored ZIP with the given entries (no compression), as `zip` tools write them.
    fn zip_with(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, data) in entries {
            out.extend_from_slice(b"PK\x03\x04");
            out.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(&(name.len() as u16).to_le_bytes());
            out.extend_from_slice(&0u16.to_le_bytes());
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(data);
        }
        out
    }

    #[test]
    fn content_decides_the_type_not_the_name() {
        assert_eq!(sniff(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"), Some("application/pdf"));
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F']), Some("image/jpeg"));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Some("image/png"));
        assert_eq!(sniff(b"II*\0\x08\0\0\0"), Some("image/tiff"));
        assert_eq!(sniff(b"GIF89a\x01\0"), Some("image/gif"));
        assert_eq!(sniff(b"RIFF\x24\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(sniff(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0]), Some("application/x-cfb"));
        assert_eq!(sniff("申请公开：2015年财政预算\r\n".as_bytes()), Some("text/plain"));
        // A shell script or an executable is not recognised, whatever it is called.
        assert_eq!(sniff(b"\x7fELF\x02\x01\x01\0"), None);
        assert_eq!(sniff(b"MZ\x90\0\x03\0\0\0"), None);
        assert_eq!(sniff(b"text with a NUL\0 inside"), None);
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn zip_containers_are_told_apart_by_their_entries() {
        let docx = zip_with(&[("[Content_Types].xml", b"<Types/>"), ("word/document.xml", b"<w:document/>")]);
        assert_eq!(sniff(&docx), Some("application/vnd.openxmlformats-officedocument.wordprocessingml.document"));
        let xlsx = zip_with(&[("[Content_Types].xml", b"<Types/>"), ("xl/workbook.xml", b"<workbook/>")]);
        assert_eq!(sniff(&xlsx), Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"));
        let ofd = zip_with(&[("OFD.xml", b"<ofd:OFD/>"), ("Doc_0/Document.xml", b"<x/>")]);
        assert_eq!(sniff(&ofd), Some("application/ofd"));
        assert_eq!(sniff(&zip_with(&[("readme.txt", b"hi")])), Some("application/zip"));
    }

    #[test]
    fn text_cut_inside_a_character_at_the_end_of_the_head_is_still_text() {
        let text = "收到申请".as_bytes();
        assert_eq!(sniff(&text[..text.len() - 1]), Some("text/plain"));
        assert_eq!(sniff(b"\xff\xfe\x00broken"), None);
    }
}
