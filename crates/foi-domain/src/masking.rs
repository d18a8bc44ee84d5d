//! Masking of applicants' personal data for lists, exports, logs and roles that do not need it.
//! The style follows published reports, which print phone numbers as `1570427****`.

use super::intake::Applicant;

const STAR: char = '*';

fn keep_prefix_and_suffix(text: &str, prefix: usize, suffix: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    let n = chars.len();
    // Short values are masked whole: keeping a prefix and suffix would reveal most of them.
    if n < prefix + suffix + 2 {
        return STAR.to_string().repeat(n.max(4));
    }
    let mut out: String = chars[..prefix].iter().collect();
    out.extend(std::iter::repeat_n(STAR, n - prefix - suffix));
    out.extend(&chars[n - suffix..]);
    out
}

/// `15704271234` → `1570427****`: the last four digits go, as in published reports.
pub fn mask_phone(phone: &str) -> String {
    let n = phone.chars().count();
    if n <= 6 {
        return STAR.to_string().repeat(n.max(4));
    }
    keep_prefix_and_suffix(phone, n - 4, 0)
}

/// `211102198001011234` → `211102********1234`: the region code stays, the birth date goes.
pub fn mask_id_number(id: &str) -> String {
    keep_prefix_and_suffix(id, 6, 4)
}

/// Keeps the first six characters (city and district), hides the street and number.
pub fn mask_address(address: &str) -> String {
    let kept: String = address.chars().take(6).collect();
    if kept.chars().count() == address.chars().count() {
        return STAR.to_string().repeat(4);
    }
    format!("{kept}****")
}

/// `zhang.san@example.cn` → `z***@example.cn`.
pub fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => STAR.to_string().repeat(4),
    }
}

/// Free text (evidence notes) with every run of six or more digits, an ID number's trailing X included,
/// masked after its first three characters: `电话确认 15704271234` → `电话确认 157********`.
pub fn mask_free_text(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || (matches!(chars[i], 'X' | 'x') && i > start)) {
                i += 1;
            }
            let run = &chars[start..i];
            if run.len() >= 6 {
                out.extend(&run[..3]);
                out.extend(std::iter::repeat_n(STAR, run.len() - 3));
            } else {
                out.extend(run);
            }
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// The applicant with ID number, phone, email and address masked; the name and kind stay.
/// A name as reminders show it: the first character, the rest as `*` (张三 -> 张*).
pub fn mask_name(name: &str) -> String {
    let mut chars = name.trim().chars();
    match chars.next() {
        Some(first) => std::iter::once(first).chain(chars.map(|_| '*')).collect(),
        None => String::new(),
    }
}

pub fn mask_applicant(a: &Applicant) -> Applicant {
    Applicant {
        kind: a.kind,
        name: a.name.clone(),
        id_number: a.id_number.as_deref().map(mask_id_number),
        phone: a.phone.as_deref().map(mask_phone),
        email: a.email.as_deref().map(mask_email),
        address: a.address.as_deref().map(mask_address),
    }
}

/// An attachment as a role that sees cases masked reads it: its file name and note masked as other
/// free text (the digits of ID and phone numbers).
pub fn mask_attachment(mut a: crate::papers::AttachmentRecord) -> crate::papers::AttachmentRecord {
    a.filename = mask_free_text(&a.filename);
    a.note = a.note.as_deref().map(mask_free_text);
    a
}

/// A letter's record as a role that sees cases masked reads it: the handler's particulars masked as
/// other free text.
pub fn mask_document(mut d: crate::letters::DocumentRecord) -> crate::letters::DocumentRecord {
    d.particulars.values_mut().for_each(|v| *v = mask_free_text(v));
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intake::ApplicantKind;

    #[test]
    fn phone_is_masked_like_the_published_report() {
        assert_eq!(mask_phone("15704271234"), "1570427****");
        assert_eq!(mask_phone("0427-2825123"), "0427-282****");
    }

    #[test]
    fn short_values_are_masked_whole() {
        assert_eq!(mask_phone("12345"), "*****");
        assert_eq!(mask_id_number("12345"), "*****");
        assert_eq!(mask_phone("1"), "****");
    }

    #[test]
    fn id_number_hides_the_birth_date() {
        assert_eq!(mask_id_number("211102198001011234"), "211102********1234");
    }

    #[test]
    fn address_keeps_only_the_district() {
        assert_eq!(mask_address("辽宁省盘锦市兴隆台区石油大街100号"), "辽宁省盘锦市****");
        assert_eq!(mask_address("盘锦"), "****");
    }

    #[test]
    fn email_keeps_only_the_first_letter_and_domain() {
        assert_eq!(mask_email("zhang.san@example.cn"), "z***@example.cn");
        assert_eq!(mask_email("张@例子.中国"), "张***@例子.中国");
    }

    #[test]
    fn free_text_keeps_words_and_short_numbers_but_not_long_ones() {
        assert_eq!(mask_free_text("电话确认 15704271234 于2015-03-04"), "电话确认 157******** 于2015-03-04");
        assert_eq!(mask_free_text("身份证21110219800101123X"), "身份证211***************");
        assert_eq!(mask_free_text("挂号信 XA123456789CN"), "挂号信 XA123******CN");
        assert_eq!(mask_free_text("第12345号"), "第12345号");
    }

    #[test]
    fn applicant_masking_keeps_name_and_kind() {
        let a = Applicant {
            kind: ApplicantKind::NaturalPerson,
            name: "张三".into(),
            id_number: Some("211102198001011234".into()),
            phone: Some("15704271234".into()),
            email: None,
            address: Some("辽宁省盘锦市兴隆台区".into()),
        };
        let m = mask_applicant(&a);
        assert_eq!(m.name, "张三");
        assert_eq!(m.phone.as_deref(), Some("1570427****"));
        assert_eq!(m.email, None);
        assert!(!m.id_number.unwrap().contains("19800101"));
    }
}
