//! Free-text search terms: what a case's text is indexed under and what a query looks up.
//!
//! Chinese has no spaces between words, so word tokenizers (PostgreSQL's text search, SQLite FTS5's
//! `unicode61`) see a whole clause as one token and cannot find 道路 inside 申请公开道路改造计划.
//! Trigram indexes (`pg_trgm`, FTS5's `trigram`) need three characters, yet the words people look for
//! are mostly two (道路, 环评, 征地). So a case is indexed under every pair of adjacent letters or
//! digits in its text (bigrams), and under each single non-ASCII letter (a surname such as 吉, a
//! one-character query). A query looks up its own bigrams (or, with none, its single characters):
//! every term must be present, and the database then checks the exact substring on those few rows.
//! The same terms serve both backends: a GIN index over the term array on PostgreSQL, an FTS5 table
//! on SQLite whose `ascii` tokenizer keeps each term whole.

use std::collections::BTreeSet;

/// Letters and digits, the only characters terms are made of (punctuation and spaces separate them).
fn is_term_char(c: char) -> bool {
    c.is_alphanumeric()
}

/// The lower-cased characters of `text`, as searches compare them.
fn folded(text: &str) -> Vec<char> {
    text.chars().flat_map(char::to_lowercase).collect()
}

/// Every term `text` is indexed under: each pair of adjacent letters or digits, and each single
/// non-ASCII letter or digit.
fn terms_of(text: &str, into: &mut BTreeSet<String>) {
    let chars = folded(text);
    for (i, &c) in chars.iter().enumerate() {
        if !is_term_char(c) {
            continue;
        }
        if !c.is_ascii() {
            into.insert(c.to_string());
        }
        if let Some(&next) = chars.get(i + 1) {
            if is_term_char(next) {
                into.insert([c, next].iter().collect());
            }
        }
    }
}

/// The index terms of a case: those of its searchable texts, the ones `q=` matches.
pub fn case_terms(description: &str, applicant_name: &str, tracking_number: &str) -> String {
    index_terms([description, applicant_name, tracking_number])
}

/// The index terms of some texts, each field on its own so no term spans two fields; distinct,
/// sorted, separated by single spaces.
fn index_terms<'a>(fields: impl IntoIterator<Item = &'a str>) -> String {
    let mut terms = BTreeSet::new();
    for field in fields {
        terms_of(field, &mut terms);
    }
    terms.into_iter().collect::<Vec<_>>().join(" ")
}

/// The terms a query needs, all of which a matching case holds: its bigrams when it has any (they
/// are far more selective), otherwise its single non-ASCII characters. None when the query has
/// nothing an index can look up (one ASCII character, or only punctuation).
pub fn query_terms(query: &str) -> Option<Vec<String>> {
    let mut all = BTreeSet::new();
    terms_of(query, &mut all);
    let bigrams: Vec<String> = all.iter().filter(|t| t.chars().count() == 2).cloned().collect();
    if !bigrams.is_empty() {
        return Some(bigrams);
    }
    let singles: Vec<String> = all.into_iter().collect();
    (!singles.is_empty()).then_some(singles)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(text: &str) -> Vec<String> {
        index_terms([text]).split(' ').filter(|t| !t.is_empty()).map(str::to_owned).collect()
    }

    #[test]
    fn chinese_text_is_indexed_under_its_characters_and_their_pairs() {
        assert_eq!(terms("道路改造"), ["改", "改造", "路", "路改", "造", "道", "道路"]);
    }

    #[test]
    fn punctuation_and_spaces_separate_terms_and_case_is_folded() {
        assert_eq!(terms("Road, 环评。"), ["ad", "oa", "ro", "环", "环评", "评"]);
        assert_eq!(terms("50%_"), ["50"]);
        assert!(terms("% _ -").is_empty());
    }

    #[test]
    fn fields_do_not_form_terms_across_their_boundary() {
        let joined = index_terms(["张三", "PJ-2024-00001"]);
        assert!(!joined.contains("三p"), "{joined}");
        assert!(joined.split(' ').any(|t| t == "pj"));
        assert!(joined.split(' ').any(|t| t == "三"));
    }

    #[test]
    fn characters_outside_the_basic_plane_are_single_terms() {
        assert_eq!(terms("𠮷野家"), ["家", "野", "野家", "𠮷", "𠮷野"]);
        assert_eq!(query_terms("𠮷"), Some(vec!["𠮷".to_owned()]));
    }

    #[test]
    fn a_query_looks_up_its_bigrams_or_else_its_single_chinese_characters() {
        assert_eq!(query_terms("道路改造"), Some(vec!["改造".into(), "路改".into(), "道路".into()]));
        assert_eq!(query_terms(" Road "), Some(vec!["ad".into(), "oa".into(), "ro".into()]));
        assert_eq!(query_terms("吉"), Some(vec!["吉".into()]));
        assert_eq!(query_terms("吉 李"), Some(vec!["吉".into(), "李".into()]));
        assert_eq!(query_terms("50%_"), Some(vec!["50".into()]));
    }

    #[test]
    fn a_query_with_nothing_to_look_up_has_no_terms() {
        assert_eq!(query_terms("%"), None);
        assert_eq!(query_terms("a"), None);
        assert_eq!(query_terms("a-b"), None);
        assert_eq!(query_terms(""), None);
    }

    #[test]
    fn every_query_term_of_a_substring_is_an_index_term_of_the_text() {
        // The property the index relies on: a text containing the query holds all its terms.
        let text = "关于申请公开2023年XX路道路改造工程环评报告及𠮷野家征地补偿方案的函";
        let indexed: BTreeSet<String> = terms(text).into_iter().collect();
        let chars: Vec<char> = text.chars().collect();
        for start in 0..chars.len() {
            for end in start + 1..=chars.len() {
                let query: String = chars[start..end].iter().collect();
                if let Some(needed) = query_terms(&query) {
                    for term in needed {
                        assert!(indexed.contains(&term), "{query:?} needs {term:?}");
                    }
                }
            }
        }
    }
}
