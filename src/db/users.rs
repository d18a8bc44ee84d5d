//! Users and their API tokens. A token is shown once, at creation; only its SHA-256 (and, to tell tokens
//! apart in a list, its first characters) is stored.

use base64::Engine;
use diesel::prelude::*;
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::agencies::AgencyRow;
use super::schema::{agencies, api_tokens, users};
use super::{now, DbConnection};
use crate::domain::role::{Principal, Role, Scope};
use crate::error::AppError;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub agency_id: Option<String>,
    pub email: Option<String>,
    pub created_at: chrono::NaiveDateTime,
    /// Set: the account is deactivated; its tokens no longer work, its history stays.
    pub deactivated_at: Option<chrono::NaiveDateTime>,
    /// The name typed to sign in (unique; None: the user signs in with tokens only).
    pub login: Option<String>,
    /// When a password was last set (None: no password; only tokens work).
    pub password_changed_at: Option<chrono::NaiveDateTime>,
}

/// One API token of a user, as stored (never the token itself).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = api_tokens)]
pub struct TokenRow {
    pub token_hash: String,
    pub user_id: String,
    pub created_at: chrono::NaiveDateTime,
    pub revoked_at: Option<chrono::NaiveDateTime>,
    pub id: Option<String>,
    pub name: String,
    /// The token's first characters (`foi_` and six more).
    pub prefix: String,
    pub expires_at: Option<chrono::NaiveDateTime>,
    pub last_used_at: Option<chrono::NaiveDateTime>,
}

/// What a bearer token turned out to be.
#[derive(Debug, Clone)]
pub enum TokenCheck {
    Valid(Principal),
    Unknown,
    Revoked,
    Expired,
    /// The token is fine but its user was deactivated.
    Deactivated,
}

/// 32 random bytes in URL-safe base64: the secret of a token, a session cookie or a feed address.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A fresh random token: `foi_` and a random secret.
fn new_token() -> String {
    format!("foi_{}", random_secret())
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Stores a new user with a first API token named `token_name`; returns the token in clear (only its
/// hash is kept).
pub fn insert_with_token(conn: &mut DbConnection, user: &UserRow, token_name: &str) -> Result<String, AppError> {
    conn.transaction(|conn| {
        diesel::insert_into(users::table).values(user).execute(conn)?;
        let (_, token) = insert_token(conn, &user.id, token_name, None)?;
        Ok::<_, AppError>(token)
    })
}

/// A new token for `user_id`; the stored row and the token in clear.
pub fn insert_token(
    conn: &mut DbConnection,
    user_id: &str,
    name: &str,
    expires_at: Option<chrono::NaiveDateTime>,
) -> Result<(TokenRow, String), AppError> {
    let token = new_token();
    let row = TokenRow {
        token_hash: hash_token(&token),
        user_id: user_id.to_owned(),
        created_at: now(),
        revoked_at: None,
        id: Some(uuid::Uuid::now_v7().to_string()),
        name: name.to_owned(),
        prefix: token.chars().take(10).collect(),
        expires_at,
        last_used_at: None,
    };
    diesel::insert_into(api_tokens::table).values(&row).execute(conn)?;
    Ok((row, token))
}

/// A user's tokens, newest first.
pub fn tokens_of(conn: &mut DbConnection, user_id: &str) -> Result<Vec<TokenRow>, AppError> {
    Ok(api_tokens::table
        .filter(api_tokens::user_id.eq(user_id))
        .order((api_tokens::created_at.desc(), api_tokens::id.desc()))
        .select(TokenRow::as_select())
        .load(conn)?)
}

/// Revokes a user's token (by its id); false when the user has no such token or it was revoked.
pub fn revoke_token(conn: &mut DbConnection, user_id: &str, token_id: &str) -> Result<bool, AppError> {
    let updated = diesel::update(
        api_tokens::table
            .filter(api_tokens::user_id.eq(user_id))
            .filter(api_tokens::id.eq(token_id))
            .filter(api_tokens::revoked_at.is_null()),
    )
    .set(api_tokens::revoked_at.eq(now()))
    .execute(conn)?;
    Ok(updated == 1)
}

/// Sets (or, with None, clears) a user's e-mail address; false when there is no such user.
pub fn set_email(conn: &mut DbConnection, user_id: &str, email: Option<&str>) -> Result<bool, AppError> {
    Ok(diesel::update(users::table.find(user_id)).set(users::email.eq(email)).execute(conn)? == 1)
}

/// Writes a user's changed name, role, agency, e-mail or deactivation.
pub fn update(conn: &mut DbConnection, user: &UserRow) -> Result<(), AppError> {
    diesel::update(users::table.find(&user.id))
        .set((
            users::name.eq(&user.name),
            users::role.eq(user.role),
            users::agency_id.eq(&user.agency_id),
            users::email.eq(&user.email),
            users::deactivated_at.eq(user.deactivated_at),
            users::login.eq(&user.login),
        ))
        .execute(conn)?;
    Ok(())
}

/// A user with their agency (None: a global administrator).
pub fn find(conn: &mut DbConnection, id: &str) -> Result<Option<(UserRow, Option<AgencyRow>)>, AppError> {
    Ok(users::table
        .left_join(agencies::table)
        .filter(users::id.eq(id))
        .select((UserRow::as_select(), Option::<AgencyRow>::as_select()))
        .first(conn)
        .optional()?)
}

/// Which users a list shows.
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    /// Users of agencies under this path (None: all, global administrators included).
    pub agency_path: Option<String>,
    /// Only users of exactly this agency path.
    pub agency_exact: Option<String>,
    pub roles: Vec<Role>,
    /// Some(true): active only; Some(false): deactivated only.
    pub active: Option<bool>,
}

/// Users matching `filter`, with their agency's code, by name then id.
pub fn list_filtered(conn: &mut DbConnection, filter: &UserFilter) -> Result<Vec<(UserRow, Option<String>)>, AppError> {
    let mut query = users::table
        .left_join(agencies::table)
        .select((UserRow::as_select(), agencies::code.nullable()))
        .order((users::name.asc(), users::id.asc()))
        .into_boxed();
    if let Some(path) = &filter.agency_path {
        query = query.filter(agencies::path.like(format!("{path}%")));
    }
    if let Some(path) = &filter.agency_exact {
        query = query.filter(agencies::path.eq(path.clone()));
    }
    if !filter.roles.is_empty() {
        query = query.filter(users::role.eq_any(filter.roles.clone()));
    }
    match filter.active {
        Some(true) => query = query.filter(users::deactivated_at.is_null()),
        Some(false) => query = query.filter(users::deactivated_at.is_not_null()),
        None => {}
    }
    Ok(query.load(conn)?)
}

/// The display names of these users, by id.
pub fn names(conn: &mut DbConnection, ids: &[String]) -> Result<std::collections::HashMap<String, String>, AppError> {
    Ok(users::table
        .filter(users::id.eq_any(ids))
        .select((users::id, users::name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect())
}

pub fn count(conn: &mut DbConnection) -> Result<i64, AppError> {
    Ok(users::table.count().get_result(conn)?)
}

/// What a bearer token is: a valid token of an active user (its use is recorded, at most once a
/// minute), or why not.
pub fn authenticate(conn: &mut DbConnection, token: &str) -> Result<TokenCheck, AppError> {
    let hash = hash_token(token);
    let found: Option<(TokenRow, UserRow, Option<AgencyRow>)> = api_tokens::table
        .inner_join(users::table.left_join(agencies::table))
        .filter(api_tokens::token_hash.eq(&hash))
        .select((TokenRow::as_select(), UserRow::as_select(), Option::<AgencyRow>::as_select()))
        .first(conn)
        .optional()?;
    let Some((row, user, agency)) = found else { return Ok(TokenCheck::Unknown) };
    let at = now();
    if row.revoked_at.is_some() {
        return Ok(TokenCheck::Revoked);
    }
    if row.expires_at.is_some_and(|end| end <= at) {
        return Ok(TokenCheck::Expired);
    }
    if user.deactivated_at.is_some() {
        return Ok(TokenCheck::Deactivated);
    }
    if row.last_used_at.is_none_or(|last| at - last >= chrono::Duration::minutes(1)) {
        diesel::update(api_tokens::table.find(&hash)).set(api_tokens::last_used_at.eq(at)).execute(conn)?;
    }
    Ok(TokenCheck::Valid(principal(user, agency)?))
}

/// An active user by id, as a principal (role and scope), if there is one.
pub fn find_principal(conn: &mut DbConnection, id: &str) -> Result<Option<Principal>, AppError> {
    let found: Option<(UserRow, Option<AgencyRow>)> = users::table
        .left_join(agencies::table)
        .filter(users::id.eq(id))
        .filter(users::deactivated_at.is_null())
        .select((UserRow::as_select(), Option::<AgencyRow>::as_select()))
        .first(conn)
        .optional()?;
    found.map(|(user, agency)| principal(user, agency)).transpose()
}

pub fn principal(user: UserRow, agency: Option<AgencyRow>) -> Result<Principal, AppError> {
    let scope = match agency {
        Some(a) => Scope::Subtree { agency_code: a.code, path: a.path },
        None => Scope::Global,
    };
    Ok(Principal { user_id: user.id, name: user.name, role: user.role, scope })
}
