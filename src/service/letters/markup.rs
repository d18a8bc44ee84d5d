//! The letter markup a template renders to: one construct per line (`@title`, `@to`, `@heading`,
//! `@signature`, `@date`, `@note`, or a body paragraph), with `\` escaping the next character. Every
//! value a template interpolates is escaped (`escape`), so nothing an applicant wrote can become a
//! directive or split a paragraph.

/// A letter's parts, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Letter {
    /// What the letterhead printed (`@issuer`, `@number`, `@seal` before the title): the service
    /// writes these into a letter's stored text, so the text holds everything the DOCX printed.
    pub issuer: Option<String>,
    pub number: Option<String>,
    pub seal: Option<String>,
    pub title: String,
    pub blocks: Vec<Block>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// 主送: the addressee, flush left.
    To(String),
    /// A body paragraph (first line indented two characters).
    Paragraph(String),
    /// A numbered sub-heading (一、…) in 黑体.
    Heading(String),
    /// 发文机关署名.
    Signature(String),
    /// 成文日期.
    Date(String),
    /// A line of the 附注 (contact) block.
    Note(String),
}

/// Escapes a value for the markup: `\` and `@` are escaped, and line breaks become spaces (a value
/// stays inside the line the template put it on).
pub fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '@' => out.push_str("\\@"),
            '\r' | '\n' | '\u{2028}' | '\u{2029}' => out.push(' '),
            c if c.is_control() && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

/// Escapes a value that may hold several paragraphs (the handler's text): each non-blank line
/// becomes its own escaped line.
pub fn escape_paragraphs(value: &str) -> String {
    value.lines().map(str::trim).filter(|l| !l.is_empty()).map(escape).collect::<Vec<_>>().join("\n")
}

/// Removes the escapes: `\x` is `x`.
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Why rendered markup is not a letter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MarkupError {
    #[error("line {line}: unknown directive @{name}")]
    UnknownDirective { line: usize, name: String },
    #[error("the letter has no @title line")]
    NoTitle,
    #[error("line {line}: a second @title")]
    SecondTitle { line: usize },
    #[error("the letter has no body")]
    Empty,
    #[error("line {line}: @{name} belongs before @title (the service writes it)")]
    LateHeading { line: usize, name: String },
}

/// Reads rendered markup. Blank lines are ignored; whitespace around each line is trimmed.
pub fn parse(text: &str) -> Result<Letter, MarkupError> {
    let (mut issuer, mut number, mut seal) = (None, None, None);
    let mut title = None;
    let mut blocks = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        let Some(directive) = line.strip_prefix('@') else {
            blocks.push(Block::Paragraph(unescape(line)));
            continue;
        };
        let (name, rest) = directive.split_once(char::is_whitespace).unwrap_or((directive, ""));
        let value = unescape(rest.trim());
        let block = match name {
            "title" if title.is_some() => return Err(MarkupError::SecondTitle { line: i + 1 }),
            "title" => {
                title = Some(value);
                continue;
            }
            "issuer" | "number" | "seal" if title.is_some() => {
                return Err(MarkupError::LateHeading { line: i + 1, name: name.to_owned() })
            }
            "issuer" => {
                issuer = Some(value);
                continue;
            }
            "number" => {
                number = Some(value);
                continue;
            }
            "seal" => {
                seal = Some(value);
                continue;
            }
            "to" => Block::To(value),
            "heading" => Block::Heading(value),
            "signature" => Block::Signature(value),
            "date" => Block::Date(value),
            "note" => Block::Note(value),
            other => return Err(MarkupError::UnknownDirective { line: i + 1, name: other.to_owned() }),
        };
        blocks.push(block);
    }
    let title = title.ok_or(MarkupError::NoTitle)?;
    if !blocks.iter().any(|b| matches!(b, Block::Paragraph(_))) {
        return Err(MarkupError::Empty);
    }
    Ok(Letter { issuer, number, seal, title, blocks })
}

/// The heading lines the service writes before a letter's markup when it stores the letter.
pub fn heading_lines(issuer: &str, number: &str, seal: &str) -> String {
    format!("@issuer {}\n@number {}\n@seal {}\n", escape(issuer), escape(number), escape(seal))
}

impl Letter {
    /// The letter as plain text (for search, tests and the README's samples).
    pub fn plain_text(&self) -> String {
        let mut out = vec![self.title.clone(), String::new()];
        for block in &self.blocks {
            out.push(match block {
                Block::Paragraph(p) => format!("　　{p}"),
                Block::To(t) | Block::Heading(t) | Block::Note(t) => t.clone(),
                Block::Signature(t) | Block::Date(t) => format!("{t:>40}"),
            });
        }
        out.join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directives_and_paragraphs_are_read_in_order() {
        let letter = parse("@title 答复书\n\n@to 张三：\n第一段。\n  第二段。  \n@signature 某机关\n@date 2026年1月1日\n@note 电话：1\n")
            .unwrap();
        assert_eq!(letter.title, "答复书");
        assert_eq!(
            letter.blocks,
            vec![
                Block::To("张三：".into()),
                Block::Paragraph("第一段。".into()),
                Block::Paragraph("第二段。".into()),
                Block::Signature("某机关".into()),
                Block::Date("2026年1月1日".into()),
                Block::Note("电话：1".into()),
            ]
        );
    }

    #[test]
    fn an_escaped_value_cannot_become_a_directive_or_a_new_paragraph() {
        let hostile = "@title 伪造\n@signature 假机关 \\ 反斜杠";
        let text = format!("@title 真\n{}\n正文。", escape(hostile));
        let letter = parse(&text).unwrap();
        assert_eq!(letter.title, "真");
        assert_eq!(
            letter.blocks,
            vec![Block::Paragraph(hostile.replace('\n', " ")), Block::Paragraph("正文。".into())]
        );
        let many = escape_paragraphs("1. 文件名称\r\n\n@2. 文号\n");
        assert_eq!(parse(&format!("@title t\n{many}")).unwrap().blocks.len(), 2);
        assert_eq!(parse(&format!("@title t\n{many}")).unwrap().blocks[1], Block::Paragraph("@2. 文号".into()));
    }

    #[test]
    fn malformed_markup_is_refused() {
        assert_eq!(parse("正文"), Err(MarkupError::NoTitle));
        assert_eq!(parse("@title a\n@title b\nx"), Err(MarkupError::SecondTitle { line: 2 }));
        assert_eq!(
            parse("@title a\n@stamp x\nx"),
            Err(MarkupError::UnknownDirective { line: 2, name: "stamp".into() })
        );
        assert_eq!(parse("@title a\n@to b"), Err(MarkupError::Empty));
        assert_eq!(parse("@title a\n@issuer b\nx"), Err(MarkupError::LateHeading { line: 2, name: "issuer".into() }));
        let stored = format!("{}@title a\nx", heading_lines("某机关", "某〔2026〕1号", ""));
        let letter = parse(&stored).unwrap();
        assert_eq!(
            (letter.issuer.as_deref(), letter.number.as_deref(), letter.seal.as_deref()),
            (Some("某机关"), Some("某〔2026〕1号"), Some(""))
        );
    }
}
