//! A letter as a DOCX in the Chinese official-document layout (GB/T 9704-2012, 信函格式): A4, page
//! margins 37 mm top, 35 mm bottom, 28 mm left, 26 mm right (a 156 × 225 mm core of 22 lines of 28
//! characters), the issuing agency's mark in red with a red double rule, the number (文号) flush
//! right, the title in 2号 方正小标宋简体, the body in 3号 仿宋_GB2312 on a fixed 28.95 pt line, the
//! signature and date flush right four characters in, and page numbers "— 1 —" in 4号 宋体, odd
//! pages right and even pages left.
//!
//! Each font is named in the style definitions with its usual substitutes in the font table (宋体 for
//! 方正小标宋简体, 仿宋 for 仿宋_GB2312), so WPS and Word on a machine without the official fonts still
//! lay the letter out in the right families. The output is deterministic: the same letter gives the
//! same bytes (fixed ZIP timestamps, the issue date as the creation date), so its SHA-256 identifies it.

use std::io::Write;

use zip::write::SimpleFileOptions;

use super::markup::{Block, Letter};

/// What the letterhead prints above the title.
#[derive(Debug, Clone)]
pub struct Heading<'a> {
    /// 发文机关标志: the issuing agency's name.
    pub issuer: &'a str,
    /// 发文字号, e.g. 盘政公开〔2026〕12号.
    pub number: &'a str,
    /// The seal's place (e.g. （印章）); empty for none.
    pub seal: &'a str,
    /// The issue date as a W3C date (the document's creation date).
    pub issued_on: chrono::NaiveDate,
}

pub const MEDIA_TYPE: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

/// Escapes text for XML content and attribute values.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            // Characters XML 1.0 cannot carry.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

fn paragraph(style: &str, text: &str) -> String {
    format!(
        r#"<w:p><w:pPr><w:pStyle w:val="{style}"/></w:pPr><w:r><w:t xml:space="preserve">{}</w:t></w:r></w:p>"#,
        xml(text)
    )
}

fn empty_paragraph(style: &str) -> String {
    format!(r#"<w:p><w:pPr><w:pStyle w:val="{style}"/></w:pPr></w:p>"#)
}

fn document_xml(letter: &Letter, heading: &Heading<'_>) -> String {
    let mut body = String::new();
    body.push_str(&paragraph("FoiIssuer", heading.issuer));
    body.push_str(&paragraph("FoiNumber", heading.number));
    body.push_str(&empty_paragraph("FoiBody"));
    body.push_str(&paragraph("FoiTitle", &letter.title));
    body.push_str(&empty_paragraph("FoiBody"));
    let mut seal_placed = false;
    for block in &letter.blocks {
        match block {
            Block::To(text) => body.push_str(&paragraph("FoiAddressee", text)),
            Block::Paragraph(text) => body.push_str(&paragraph("FoiBody", text)),
            Block::Heading(text) => body.push_str(&paragraph("FoiHeading", text)),
            Block::Signature(text) => {
                // GB/T 9704 7.3.5.1: the signature stands below the body with a blank line between.
                body.push_str(&empty_paragraph("FoiBody"));
                if !heading.seal.is_empty() && !seal_placed {
                    body.push_str(&paragraph("FoiSeal", heading.seal));
                    seal_placed = true;
                }
                body.push_str(&paragraph("FoiSignature", text));
            }
            Block::Date(text) => body.push_str(&paragraph("FoiDate", text)),
            Block::Note(text) => body.push_str(&paragraph("FoiNote", text)),
        }
    }
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><w:body>{body}<w:sectPr><w:footerReference w:type="default" r:id="rIdFooterOdd"/><w:footerReference w:type="even" r:id="rIdFooterEven"/><w:pgSz w:w="11906" w:h="16838"/><w:pgMar w:top="2098" w:right="1474" w:bottom="1984" w:left="1587" w:header="851" w:footer="1304" w:gutter="0"/><w:docGrid w:type="linesAndChars" w:linePitch="579" w:charSpace="0"/></w:sectPr></w:body></w:document>"#
    )
}

/// 3号 = 16 pt = 32 half-points; 2号 = 22 pt; 4号 = 14 pt. One character of 3号 is 320 twips.
const STYLES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:styles xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">
<w:docDefaults><w:rPrDefault><w:rPr><w:rFonts w:ascii="Times New Roman" w:hAnsi="Times New Roman" w:eastAsia="仿宋_GB2312" w:cs="Times New Roman"/><w:kern w:val="2"/><w:sz w:val="32"/><w:szCs w:val="32"/><w:lang w:val="en-US" w:eastAsia="zh-CN" w:bidi="ar-SA"/></w:rPr></w:rPrDefault><w:pPrDefault><w:pPr><w:widowControl w:val="0"/><w:spacing w:line="579" w:lineRule="exact"/><w:jc w:val="both"/></w:pPr></w:pPrDefault></w:docDefaults>
<w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/><w:qFormat/></w:style>
<w:style w:type="paragraph" w:styleId="FoiIssuer"><w:name w:val="发文机关标志"/><w:basedOn w:val="Normal"/><w:qFormat/><w:pPr><w:pBdr><w:bottom w:val="thickThinSmallGap" w:sz="24" w:space="6" w:color="FF0000"/></w:pBdr><w:spacing w:line="240" w:lineRule="auto" w:after="120"/><w:jc w:val="center"/></w:pPr><w:rPr><w:rFonts w:ascii="方正小标宋简体" w:hAnsi="方正小标宋简体" w:eastAsia="方正小标宋简体"/><w:color w:val="FF0000"/><w:spacing w:val="20"/><w:sz w:val="52"/><w:szCs w:val="52"/></w:rPr></w:style>
<w:style w:type="paragraph" w:styleId="FoiNumber"><w:name w:val="发文字号"/><w:basedOn w:val="Normal"/><w:qFormat/><w:pPr><w:jc w:val="right"/></w:pPr></w:style>
<w:style w:type="paragraph" w:styleId="FoiTitle"><w:name w:val="公文标题"/><w:basedOn w:val="Normal"/><w:qFormat/><w:pPr><w:spacing w:line="700" w:lineRule="exact"/><w:jc w:val="center"/><w:outlineLvl w:val="0"/></w:pPr><w:rPr><w:rFonts w:ascii="方正小标宋简体" w:hAnsi="方正小标宋简体" w:eastAsia="方正小标宋简体"/><w:sz w:val="44"/><w:szCs w:val="44"/></w:rPr></w:style>
<w:style w:type="paragraph" w:styleId="FoiAddressee"><w:name w:val="主送机关"/><w:basedOn w:val="Normal"/><w:qFormat/></w:style>
<w:style w:type="paragraph" w:styleId="FoiBody"><w:name w:val="公文正文"/><w:basedOn w:val="Normal"/><w:qFormat/><w:pPr><w:ind w:firstLineChars="200" w:firstLine="640"/></w:pPr></w:style>
<w:style w:type="paragraph" w:styleId="FoiHeading"><w:name w:val="一级标题"/><w:basedOn w:val="FoiBody"/><w:qFormat/><w:pPr><w:outlineLvl w:val="1"/></w:pPr><w:rPr><w:rFonts w:ascii="黑体" w:hAnsi="黑体" w:eastAsia="黑体"/></w:rPr></w:style>
<w:style w:type="paragraph" w:styleId="FoiSeal"><w:name w:val="印章位置"/><w:basedOn w:val="Normal"/><w:pPr><w:ind w:right="1280"/><w:jc w:val="right"/></w:pPr><w:rPr><w:color w:val="A6A6A6"/></w:rPr></w:style>
<w:style w:type="paragraph" w:styleId="FoiSignature"><w:name w:val="发文机关署名"/><w:basedOn w:val="Normal"/><w:qFormat/><w:pPr><w:ind w:right="1280"/><w:jc w:val="right"/></w:pPr></w:style>
<w:style w:type="paragraph" w:styleId="FoiDate"><w:name w:val="成文日期"/><w:basedOn w:val="Normal"/><w:qFormat/><w:pPr><w:ind w:right="1280"/><w:jc w:val="right"/></w:pPr></w:style>
<w:style w:type="paragraph" w:styleId="FoiNote"><w:name w:val="附注"/><w:basedOn w:val="Normal"/><w:qFormat/><w:pPr><w:ind w:firstLineChars="200" w:firstLine="640"/></w:pPr></w:style>
<w:style w:type="paragraph" w:styleId="FoiPageNumber"><w:name w:val="页码"/><w:basedOn w:val="Normal"/><w:pPr><w:spacing w:line="240" w:lineRule="auto"/></w:pPr><w:rPr><w:rFonts w:ascii="宋体" w:hAnsi="宋体" w:eastAsia="宋体"/><w:sz w:val="28"/><w:szCs w:val="28"/></w:rPr></w:style>
</w:styles>"#;

/// The fonts with the substitutes WPS and Word use when the official fonts are not installed.
const FONT_TABLE: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:fonts xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">
<w:font w:name="Times New Roman"><w:charset w:val="00"/><w:family w:val="roman"/><w:pitch w:val="variable"/></w:font>
<w:font w:name="仿宋_GB2312"><w:altName w:val="仿宋"/><w:charset w:val="86"/><w:family w:val="modern"/><w:pitch w:val="fixed"/></w:font>
<w:font w:name="方正小标宋简体"><w:altName w:val="宋体"/><w:charset w:val="86"/><w:family w:val="script"/><w:pitch w:val="fixed"/></w:font>
<w:font w:name="黑体"><w:altName w:val="SimHei"/><w:charset w:val="86"/><w:family w:val="modern"/><w:pitch w:val="fixed"/></w:font>
<w:font w:name="宋体"><w:altName w:val="SimSun"/><w:charset w:val="86"/><w:family w:val="auto"/><w:pitch w:val="variable"/></w:font>
</w:fonts>"#;

const SETTINGS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:settings xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:evenAndOddHeaders/><w:defaultTabStop w:val="420"/><w:characterSpacingControl w:val="compressPunctuation"/><w:compat><w:compatSetting w:name="compatibilityMode" w:uri="http://schemas.microsoft.com/office/word" w:val="15"/></w:compat></w:settings>"#;

/// A footer with the page number as "— N —", flush right one character in (odd pages) or flush
/// left (even pages), GB/T 9704-2012 7.5.
fn footer(odd: bool) -> String {
    let (jc, ind) = if odd { ("right", r#"<w:ind w:right="280"/>"#) } else { ("left", r#"<w:ind w:left="280"/>"#) };
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:ftr xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:p><w:pPr><w:pStyle w:val="FoiPageNumber"/>{ind}<w:jc w:val="{jc}"/></w:pPr><w:r><w:t xml:space="preserve">— </w:t></w:r><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText xml:space="preserve"> PAGE </w:instrText></w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>1</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r><w:r><w:t xml:space="preserve"> —</w:t></w:r></w:p></w:ftr>"#
    )
}

const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/><Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/><Override PartName="/word/settings.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.settings+xml"/><Override PartName="/word/fontTable.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.fontTable+xml"/><Override PartName="/word/footer1.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.footer+xml"/><Override PartName="/word/footer2.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.footer+xml"/><Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/><Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/></Types>"#;

const ROOT_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties" Target="docProps/app.xml"/></Relationships>"#;

const DOCUMENT_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rIdStyles" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/><Relationship Id="rIdSettings" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/settings" Target="settings.xml"/><Relationship Id="rIdFonts" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/fontTable" Target="fontTable.xml"/><Relationship Id="rIdFooterOdd" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/footer" Target="footer1.xml"/><Relationship Id="rIdFooterEven" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/footer" Target="footer2.xml"/></Relationships>"#;

fn core_xml(letter: &Letter, heading: &Heading<'_>) -> String {
    let created = format!("{}T00:00:00Z", heading.issued_on.format("%Y-%m-%d"));
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:title>{}</dc:title><dc:creator>{}</dc:creator><dc:identifier>{}</dc:identifier><dcterms:created xsi:type="dcterms:W3CDTF">{created}</dcterms:created><dcterms:modified xsi:type="dcterms:W3CDTF">{created}</dcterms:modified></cp:coreProperties>"#,
        xml(&letter.title),
        xml(heading.issuer),
        xml(heading.number)
    )
}

const APP_XML: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"><Application>foi-tracker</Application></Properties>"#;

/// The DOCX bytes of a letter.
pub fn write(letter: &Letter, heading: &Heading<'_>) -> Vec<u8> {
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    // A fixed timestamp (the ZIP epoch): the same letter is the same bytes.
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default());
    let parts: [(&str, String); 11] = [
        ("[Content_Types].xml", CONTENT_TYPES.to_owned()),
        ("_rels/.rels", ROOT_RELS.to_owned()),
        ("docProps/core.xml", core_xml(letter, heading)),
        ("docProps/app.xml", APP_XML.to_owned()),
        ("word/_rels/document.xml.rels", DOCUMENT_RELS.to_owned()),
        ("word/document.xml", document_xml(letter, heading)),
        ("word/styles.xml", STYLES.to_owned()),
        ("word/settings.xml", SETTINGS.to_owned()),
        ("word/fontTable.xml", FONT_TABLE.to_owned()),
        ("word/footer1.xml", footer(true)),
        ("word/footer2.xml", footer(false)),
    ];
    for (name, content) in &parts {
        out.start_file(*name, options).expect("writing to memory");
        out.write_all(content.as_bytes()).expect("writing to memory");
    }
    out.finish().expect("writing to memory").into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn letter() -> Letter {
        super::super::markup::parse("@title 政府信息公开申请答复书\n@to 张三：\n正文 <&> \"引号\"。\n@signature 盘锦市人民政府办公室\n@date 2026年12月4日\n@note 联系电话：0427-1234567").unwrap()
    }

    fn heading() -> Heading<'static> {
        Heading {
            issuer: "盘锦市人民政府办公室",
            number: "盘政公开〔2026〕12号",
            seal: "（印章）",
            issued_on: chrono::NaiveDate::from_ymd_opt(2026, 12, 4).unwrap(),
        }
    }

    fn part(docx: &[u8], name: &str) -> String {
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(docx)).unwrap();
        let mut text = String::new();
        archive.by_name(name).unwrap().read_to_string(&mut text).unwrap();
        text
    }

    #[test]
    fn the_letter_is_a_word_document_in_the_official_layout() {
        let docx = write(&letter(), &heading());
        let document = part(&docx, "word/document.xml");
        assert!(document.contains(r#"<w:pgSz w:w="11906" w:h="16838"/>"#), "A4");
        assert!(document.contains(r#"w:top="2098" w:right="1474" w:bottom="1984" w:left="1587""#), "GB/T 9704 margins");
        assert!(document.contains("正文 &lt;&amp;&gt; &quot;引号&quot;。"), "text is escaped");
        assert!(document.contains("盘政公开〔2026〕12号") && document.contains("（印章）"));
        let order: Vec<usize> = [
            "FoiIssuer",
            "FoiNumber",
            "FoiTitle",
            "FoiAddressee",
            "FoiBody\"/></w:pPr><w:r>",
            "FoiSeal",
            "FoiSignature",
            "FoiDate",
            "FoiNote",
        ]
        .iter()
        .map(|s| document.find(s).unwrap_or_else(|| panic!("{s}")))
        .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
        let styles = part(&docx, "word/styles.xml");
        for expected in
            ["方正小标宋简体", "仿宋_GB2312", "<w:sz w:val=\"32\"/>", "<w:sz w:val=\"44\"/>", "公文标题", "公文正文"]
        {
            assert!(styles.contains(expected), "{expected}");
        }
        assert!(part(&docx, "word/fontTable.xml").contains(r#"<w:font w:name="仿宋_GB2312"><w:altName w:val="仿宋"/>"#));
        assert!(part(&docx, "word/footer1.xml").contains("PAGE"));
        assert!(part(&docx, "docProps/core.xml").contains("2026-12-04T00:00:00Z"));
    }

    #[test]
    fn the_same_letter_is_the_same_bytes() {
        assert_eq!(write(&letter(), &heading()), write(&letter(), &heading()));
    }
}
