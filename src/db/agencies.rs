//! Agencies (a tree addressed by code) and their topic taxonomies.

use diesel::prelude::*;

use super::schema::{agencies, topics};
use super::{is_unique_violation, now, DbConnection};
use crate::domain::agency::{ancestor_paths, child_path, validate_code, validate_topic_code};
use crate::domain::validation::Validator;
use crate::error::AppError;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = agencies)]
pub struct AgencyRow {
    pub id: String,
    pub code: String,
    pub name: String,
    pub parent_id: Option<String>,
    pub path: String,
    pub email: Option<String>,
    pub created_at: chrono::NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = topics)]
pub struct TopicRow {
    pub agency_id: String,
    pub code: String,
    pub label: String,
}

pub fn find_by_code(conn: &mut DbConnection, code: &str) -> Result<Option<AgencyRow>, AppError> {
    Ok(agencies::table.filter(agencies::code.eq(code)).select(AgencyRow::as_select()).first(conn).optional()?)
}

/// Adds an agency under `parent_code` (or as a root).
pub fn create(
    conn: &mut DbConnection,
    code: &str,
    name: &str,
    parent_code: Option<&str>,
    email: Option<&str>,
) -> Result<AgencyRow, AppError> {
    let mut v = Validator::new();
    if let Err(e) = validate_code("code", code) {
        v.error(&e.path, e.message);
    }
    let name = v.text("name", name, 200);
    let email = v.optional_text("email", email, 200);
    v.finish()?;
    let parent = match parent_code {
        Some(p) => Some(
            find_by_code(conn, p)?
                .ok_or_else(|| AppError::validation("parent", format!("no agency has code `{p}`")))?,
        ),
        None => None,
    };
    let row = AgencyRow {
        id: uuid::Uuid::now_v7().to_string(),
        code: code.to_owned(),
        name,
        parent_id: parent.as_ref().map(|p| p.id.clone()),
        path: child_path(parent.as_ref().map(|p| p.path.as_str()), code),
        email,
        created_at: now(),
    };
    match diesel::insert_into(agencies::table).values(&row).execute(conn) {
        Ok(_) => Ok(row),
        Err(e) if is_unique_violation(&e) => {
            Err(AppError::Conflict(format!("an agency with code `{code}` already exists")))
        }
        Err(e) => Err(e.into()),
    }
}

/// Sets (or, with None, clears) the disclosure office's mailbox of an agency: reminders of
/// unassigned cases, and overdue ones where nobody heads the office, go there.
pub fn set_email(conn: &mut DbConnection, code: &str, email: Option<&str>) -> Result<AgencyRow, AppError> {
    let email = checked_email(email)?;
    let updated = diesel::update(agencies::table.filter(agencies::code.eq(code)))
        .set(agencies::email.eq(&email))
        .execute(conn)?;
    if updated == 0 {
        return Err(AppError::validation("agency", format!("no agency has code `{code}`")));
    }
    find_by_code(conn, code)?.ok_or_else(|| AppError::Internal("agency vanished".into()))
}

/// An e-mail address as given, trimmed, or a validation error.
pub fn checked_email(email: Option<&str>) -> Result<Option<String>, AppError> {
    match email.map(str::trim) {
        None | Some("") => Ok(None),
        Some(e) if e.chars().count() <= 200 && crate::domain::intake::looks_like_email(e) => Ok(Some(e.to_owned())),
        Some(_) => Err(AppError::validation("email", "is not an e-mail address")),
    }
}

/// All agencies under `root_path` (all of them when None), in tree order.
pub fn list(conn: &mut DbConnection, root_path: Option<&str>) -> Result<Vec<AgencyRow>, AppError> {
    let mut query = agencies::table.select(AgencyRow::as_select()).order(agencies::path.asc()).into_boxed();
    if let Some(root) = root_path {
        query = query.filter(agencies::path.like(format!("{root}%")));
    }
    Ok(query.load(conn)?)
}

/// Defines (or relabels) a topic in an agency's taxonomy.
pub fn put_topic(conn: &mut DbConnection, agency: &AgencyRow, code: &str, label: &str) -> Result<TopicRow, AppError> {
    let mut v = Validator::new();
    if let Err(e) = validate_topic_code("code", code) {
        v.error(&e.path, e.message);
    }
    let label = v.text("label", label, 200);
    v.finish()?;
    let row = TopicRow { agency_id: agency.id.clone(), code: code.to_owned(), label };
    conn.transaction(|conn| {
        diesel::delete(topics::table.filter(topics::agency_id.eq(&agency.id)).filter(topics::code.eq(code)))
            .execute(conn)?;
        diesel::insert_into(topics::table).values(&row).execute(conn)
    })?;
    Ok(row)
}

/// A topic and the code of the agency whose taxonomy defines it.
#[derive(Debug, Clone)]
pub struct Topic {
    pub code: String,
    pub label: String,
    pub defined_by: String,
}

/// The topics usable for cases of this agency: its own and its ancestors' (nearest wins on a clash).
pub fn topics_for(conn: &mut DbConnection, agency: &AgencyRow) -> Result<Vec<Topic>, AppError> {
    let paths = ancestor_paths(&agency.path);
    let rows: Vec<(TopicRow, String, String)> = topics::table
        .inner_join(agencies::table)
        .filter(agencies::path.eq_any(&paths))
        .select((TopicRow::as_select(), agencies::path, agencies::code))
        .load(conn)?;
    let mut chosen: Vec<Topic> = Vec::new();
    for path in &paths {
        for (topic, _, agency_code) in rows.iter().filter(|(_, p, _)| p == path) {
            if !chosen.iter().any(|t| t.code == topic.code) {
                chosen.push(Topic {
                    code: topic.code.clone(),
                    label: topic.label.clone(),
                    defined_by: agency_code.clone(),
                });
            }
        }
    }
    chosen.sort_by(|a, b| a.code.cmp(&b.code));
    Ok(chosen)
}
