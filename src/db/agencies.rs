//! Agencies (a tree addressed by code) and their topic taxonomies.

use diesel::prelude::*;

use super::schema::{agencies, topics};
use super::{is_unique_violation, DbConnection};
use crate::domain::agency::ancestor_paths;
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

pub fn find_by_id(conn: &mut DbConnection, id: &str) -> Result<Option<AgencyRow>, AppError> {
    Ok(agencies::table.find(id).select(AgencyRow::as_select()).first(conn).optional()?)
}

/// Stores a new agency; its code must be free.
pub fn insert(conn: &mut DbConnection, row: &AgencyRow) -> Result<(), AppError> {
    match diesel::insert_into(agencies::table).values(row).execute(conn) {
        Ok(_) => Ok(()),
        Err(e) if is_unique_violation(&e) => {
            Err(AppError::Conflict(format!("an agency with code `{}` already exists", row.code)))
        }
        Err(e) => Err(e.into()),
    }
}

/// Sets (or, with None, clears) an agency's office mailbox.
pub fn set_email(conn: &mut DbConnection, agency_id: &str, email: Option<&str>) -> Result<(), AppError> {
    diesel::update(agencies::table.find(agency_id)).set(agencies::email.eq(email)).execute(conn)?;
    Ok(())
}

/// All agencies under `root_path` (all of them when None), in tree order.
pub fn list(conn: &mut DbConnection, root_path: Option<&str>) -> Result<Vec<AgencyRow>, AppError> {
    let mut query = agencies::table.select(AgencyRow::as_select()).order(agencies::path.asc()).into_boxed();
    if let Some(root) = root_path {
        query = query.filter(agencies::path.like(format!("{root}%")));
    }
    Ok(query.load(conn)?)
}

/// Stores a topic of an agency's taxonomy, replacing its label if the code is defined there.
pub fn put_topic(conn: &mut DbConnection, row: &TopicRow) -> Result<(), AppError> {
    conn.transaction(|conn| {
        diesel::delete(topics::table.filter(topics::agency_id.eq(&row.agency_id)).filter(topics::code.eq(&row.code)))
            .execute(conn)?;
        diesel::insert_into(topics::table).values(row).execute(conn)
    })?;
    Ok(())
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
