//! Browser sessions (a row per sign-in; the cookie's value is stored only as its SHA-256), users'
//! password hashes, and the security log.

use diesel::prelude::*;

use super::agencies::AgencyRow;
use super::schema::{agencies, security_events, sessions, users};
use super::users::{hash_token, UserRow};
use super::DbConnection;
use crate::domain::account::SecurityEventKind;
use crate::error::AppError;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions)]
pub struct SessionRow {
    pub id: String,
    pub token_hash: String,
    pub user_id: String,
    pub csrf_token: String,
    pub created_at: chrono::NaiveDateTime,
    pub last_seen_at: chrono::NaiveDateTime,
    pub ended_at: Option<chrono::NaiveDateTime>,
    pub end_reason: Option<String>,
    pub client_address: Option<String>,
    pub user_agent: Option<String>,
}

pub fn insert(conn: &mut DbConnection, row: &SessionRow) -> Result<(), AppError> {
    diesel::insert_into(sessions::table).values(row).execute(conn)?;
    Ok(())
}

/// The session a cookie names, with its user and the user's agency.
pub fn by_cookie(
    conn: &mut DbConnection,
    cookie: &str,
) -> Result<Option<(SessionRow, UserRow, Option<AgencyRow>)>, AppError> {
    Ok(sessions::table
        .inner_join(users::table.left_join(agencies::table))
        .filter(sessions::token_hash.eq(hash_token(cookie)))
        .select((SessionRow::as_select(), UserRow::as_select(), Option::<AgencyRow>::as_select()))
        .first(conn)
        .optional()?)
}

pub fn touch(conn: &mut DbConnection, id: &str, at: chrono::NaiveDateTime) -> Result<(), AppError> {
    diesel::update(sessions::table.find(id)).set(sessions::last_seen_at.eq(at)).execute(conn)?;
    Ok(())
}

/// Ends one session; false when it had ended already.
pub fn end(conn: &mut DbConnection, id: &str, reason: &str) -> Result<bool, AppError> {
    let n = diesel::update(sessions::table.find(id).filter(sessions::ended_at.is_null()))
        .set((sessions::ended_at.eq(super::now()), sessions::end_reason.eq(reason)))
        .execute(conn)?;
    Ok(n == 1)
}

/// Ends every open session of a user but `keep`; how many ended.
pub fn end_all_of(conn: &mut DbConnection, user_id: &str, keep: Option<&str>, reason: &str) -> Result<usize, AppError> {
    let mut query = diesel::update(sessions::table)
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::ended_at.is_null())
        .into_boxed();
    if let Some(keep) = keep {
        query = query.filter(sessions::id.ne(keep));
    }
    Ok(query.set((sessions::ended_at.eq(super::now()), sessions::end_reason.eq(reason))).execute(conn)?)
}

/// The active user who signs in as `login`, with their password hash (None when there is no such
/// login).
pub fn user_by_login(conn: &mut DbConnection, login: &str) -> Result<Option<(UserRow, Option<String>)>, AppError> {
    Ok(users::table
        .filter(users::login.eq(login))
        .select((UserRow::as_select(), users::password_hash))
        .first(conn)
        .optional()?)
}

pub fn user_by_id_with_hash(conn: &mut DbConnection, id: &str) -> Result<Option<(UserRow, Option<String>)>, AppError> {
    Ok(users::table
        .filter(users::id.eq(id))
        .select((UserRow::as_select(), users::password_hash))
        .first(conn)
        .optional()?)
}

pub fn set_password_hash(conn: &mut DbConnection, user_id: &str, hash: &str) -> Result<(), AppError> {
    diesel::update(users::table.find(user_id))
        .set((users::password_hash.eq(hash), users::password_changed_at.eq(super::now())))
        .execute(conn)?;
    Ok(())
}

pub fn login_taken(conn: &mut DbConnection, login: &str, other_than: Option<&str>) -> Result<bool, AppError> {
    let mut query = users::table.filter(users::login.eq(login)).into_boxed();
    if let Some(id) = other_than {
        query = query.filter(users::id.ne(id));
    }
    Ok(query.count().get_result::<i64>(conn)? > 0)
}

/// One entry of the security log.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = security_events)]
pub struct SecurityEventRow {
    pub id: String,
    pub occurred_at: chrono::NaiveDateTime,
    pub kind: SecurityEventKind,
    pub user_id: Option<String>,
    pub actor_id: Option<String>,
    pub login: Option<String>,
    pub client_address: Option<String>,
    pub detail: String,
}

pub fn record(conn: &mut DbConnection, row: &SecurityEventRow) -> Result<(), AppError> {
    diesel::insert_into(security_events::table).values(row).execute(conn)?;
    Ok(())
}

/// Which entries of the security log a list shows, newest first.
#[derive(Debug, Clone, Default)]
pub struct SecurityEventFilter {
    /// Only events about users of agencies under this path (None: all, unknown names included).
    pub agency_path: Option<String>,
    pub user_id: Option<String>,
    pub kind: Option<SecurityEventKind>,
    /// Keyset: events older than this id.
    pub before_id: Option<String>,
    pub limit: i64,
}

pub fn list_security_events(
    conn: &mut DbConnection,
    filter: &SecurityEventFilter,
) -> Result<Vec<SecurityEventRow>, AppError> {
    let mut query = security_events::table
        .select(SecurityEventRow::as_select())
        .order(security_events::id.desc())
        .limit(filter.limit)
        .into_boxed();
    if let Some(path) = &filter.agency_path {
        let in_subtree = users::table
            .inner_join(agencies::table)
            .filter(agencies::path.like(format!("{path}%")))
            .select(users::id.nullable());
        query = query.filter(security_events::user_id.eq_any(in_subtree));
    }
    if let Some(user_id) = &filter.user_id {
        query = query.filter(security_events::user_id.eq(user_id.clone()));
    }
    if let Some(kind) = &filter.kind {
        query = query.filter(security_events::kind.eq(*kind));
    }
    if let Some(before) = &filter.before_id {
        query = query.filter(security_events::id.lt(before.clone()));
    }
    Ok(query.load(conn)?)
}
