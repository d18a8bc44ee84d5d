//! Field-level validation errors, each carrying the JSON path of the offending field.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldError {
    /// JSON path of the field, e.g. `applicant.kind` (`$` for the whole body).
    pub path: String,
    /// What is wrong with it, in words a clerk can act on.
    pub message: String,
}

impl FieldError {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self { path: path.into(), message: message.into() }
    }
}

/// Collects every problem with an input before giving up, so a client can fix them all at once.
#[derive(Debug, Default)]
pub struct Validator {
    errors: Vec<FieldError>,
}

impl Validator {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn error(&mut self, path: &str, message: impl Into<String>) {
        self.errors.push(FieldError::new(path, message));
    }

    /// A required text: trimmed, non-empty, within `max_chars`, without control characters.
    pub fn text(&mut self, path: &str, value: &str, max_chars: usize) -> String {
        let trimmed = value.trim();
        if trimmed.is_empty() {
            self.error(path, "must not be empty");
        }
        self.check_text(path, trimmed, max_chars);
        trimmed.to_owned()
    }

    /// An optional text: blank counts as absent.
    pub fn optional_text(&mut self, path: &str, value: Option<&str>, max_chars: usize) -> Option<String> {
        let trimmed = value.map(str::trim).filter(|v| !v.is_empty())?;
        self.check_text(path, trimmed, max_chars);
        Some(trimmed.to_owned())
    }

    fn check_text(&mut self, path: &str, value: &str, max_chars: usize) {
        if value.chars().count() > max_chars {
            self.error(path, format!("must be at most {max_chars} characters"));
        }
        // NUL cannot be stored in PostgreSQL text; other control characters are never meaningful
        // in these fields (line breaks and tabs are allowed for descriptions and addresses).
        if value.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
            self.error(path, "must not contain control characters");
        }
    }

    pub fn finish(self) -> Result<(), Vec<FieldError>> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(self.errors)
        }
    }
}

/// Why text with a NUL character is refused: PostgreSQL cannot store it, so the service takes none,
/// on either backend, wherever text enters (URL, query, body, files).
pub const NUL_MESSAGE: &str = "must not contain the NUL character (\\u0000, %00)";

/// The path (`applicant.name`, `days[2].name`) of the first string or key holding a NUL, if any.
pub fn nul_in(value: &serde_json::Value, path: &str) -> Option<String> {
    let join = |key: &str| if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") };
    match value {
        serde_json::Value::String(text) if text.contains('\0') => {
            Some(if path.is_empty() { "$".into() } else { path.into() })
        }
        serde_json::Value::Object(map) => map.iter().find_map(|(key, v)| {
            if key.contains('\0') {
                Some(join(&key.replace('\0', "\\u0000")))
            } else {
                nul_in(v, &join(key))
            }
        }),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| nul_in(v, &format!("{}[{i}]", if path.is_empty() { "$" } else { path }))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_required_text_is_reported_with_its_path() {
        let mut v = Validator::new();
        v.text("applicant.name", "   ", 10);
        assert_eq!(v.finish().unwrap_err(), vec![FieldError::new("applicant.name", "must not be empty")]);
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        let mut v = Validator::new();
        assert_eq!(v.text("name", "张三丰", 3), "张三丰");
        assert!(v.finish().is_ok());
    }

    #[test]
    fn nul_is_refused() {
        let mut v = Validator::new();
        v.text("description", "a\u{0}b", 100);
        assert!(v.finish().is_err());
    }

    #[test]
    fn blank_optional_text_is_absent() {
        let mut v = Validator::new();
        assert_eq!(v.optional_text("phone", Some("  "), 10), None);
        assert!(v.finish().is_ok());
    }
}
