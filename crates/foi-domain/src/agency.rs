//! Agencies form a tree (city → districts/counties → departments). Each is known by a short code,
//! and its position by a materialized path of codes, `/PJ/PJ-XLT/`, so a subtree is a prefix.

use super::validation::FieldError;

pub const MAX_CODE_CHARS: usize = 32;

/// Codes are upper-case ASCII letters, digits and hyphens, starting with a letter: they appear in
/// tracking numbers and paths, and contain none of SQL LIKE's wildcards.
pub fn validate_code(path: &str, code: &str) -> Result<(), FieldError> {
    let ok = !code.is_empty()
        && code.len() <= MAX_CODE_CHARS
        && code.starts_with(|c: char| c.is_ascii_uppercase())
        && code.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(FieldError::new(
            path,
            format!("must be 1-{MAX_CODE_CHARS} characters A-Z, 0-9 or '-', starting with a letter"),
        ))
    }
}

/// Topic codes: lower-case ASCII words, e.g. `urban_environment`.
pub fn validate_topic_code(path: &str, code: &str) -> Result<(), FieldError> {
    let ok = !code.is_empty()
        && code.len() <= MAX_CODE_CHARS
        && code.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(FieldError::new(path, format!("must be 1-{MAX_CODE_CHARS} characters a-z, 0-9, '_' or '-'")))
    }
}

/// The path of a new agency under `parent_path` (or at the root).
pub fn child_path(parent_path: Option<&str>, code: &str) -> String {
    format!("{}{code}/", parent_path.unwrap_or("/"))
}

/// Whether the agency at `path` lies in the subtree rooted at `root_path` (itself included).
pub fn in_subtree(path: &str, root_path: &str) -> bool {
    path.starts_with(root_path)
}

/// The paths of the agency itself and all its ancestors, nearest first.
pub fn ancestor_paths(path: &str) -> Vec<String> {
    let codes: Vec<&str> = path.trim_matches('/').split('/').filter(|c| !c.is_empty()).collect();
    (1..=codes.len()).rev().map(|n| format!("/{}/", codes[..n].join("/"))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_plain_upper_case() {
        assert!(validate_code("code", "PJ").is_ok());
        assert!(validate_code("code", "PJ-XLT2").is_ok());
        for bad in ["", "pj", "P_J", "P%", "1PJ", "盘锦", &"A".repeat(33)] {
            assert!(validate_code("code", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn topic_codes_are_lower_case() {
        assert!(validate_topic_code("topic", "urban_environment").is_ok());
        assert!(validate_topic_code("topic", "Urban").is_err());
    }

    #[test]
    fn subtree_is_a_path_prefix_on_whole_codes() {
        let city = child_path(None, "PJ");
        let district = child_path(Some(&city), "PJ-XLT");
        assert_eq!(district, "/PJ/PJ-XLT/");
        assert!(in_subtree(&district, &city));
        assert!(in_subtree(&city, &city));
        assert!(!in_subtree(&city, &district));
        // "/PJX/" is not under "/PJ/" although the code starts alike.
        assert!(!in_subtree("/PJX/", &city));
    }

    #[test]
    fn ancestors_run_from_self_to_root() {
        assert_eq!(ancestor_paths("/PJ/PJ-XLT/PJ-XLT-EDU/"), ["/PJ/PJ-XLT/PJ-XLT-EDU/", "/PJ/PJ-XLT/", "/PJ/"]);
    }
}
