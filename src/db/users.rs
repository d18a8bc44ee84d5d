//! Users and their API tokens. A token is shown once, at creation; only its SHA-256 is stored.

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
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = api_tokens)]
struct TokenRow {
    token_hash: String,
    user_id: String,
    created_at: chrono::NaiveDateTime,
    revoked_at: Option<chrono::NaiveDateTime>,
}

/// A fresh random token: `foi_` and 32 random bytes in URL-safe base64.
fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("foi_{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Stores a new user with a first API token; returns the token in clear (only its hash is kept).
pub fn insert_with_token(conn: &mut DbConnection, user: &UserRow) -> Result<String, AppError> {
    let token = new_token();
    conn.transaction(|conn| {
        diesel::insert_into(users::table).values(user).execute(conn)?;
        diesel::insert_into(api_tokens::table)
            .values(&TokenRow {
                token_hash: hash_token(&token),
                user_id: user.id.clone(),
                created_at: now(),
                revoked_at: None,
            })
            .execute(conn)
    })?;
    Ok(token)
}

/// Sets (or, with None, clears) a user's e-mail address; false when there is no such user.
pub fn set_email(conn: &mut DbConnection, user_id: &str, email: Option<&str>) -> Result<bool, AppError> {
    Ok(diesel::update(users::table.find(user_id)).set(users::email.eq(email)).execute(conn)? == 1)
}

/// Every user with the code of their agency (None: a global administrator), by name.
pub fn list(conn: &mut DbConnection) -> Result<Vec<(UserRow, Option<String>)>, AppError> {
    Ok(users::table
        .left_join(agencies::table)
        .select((UserRow::as_select(), agencies::code.nullable()))
        .order((users::name.asc(), users::id.asc()))
        .load(conn)?)
}

pub fn count(conn: &mut DbConnection) -> Result<i64, AppError> {
    Ok(users::table.count().get_result(conn)?)
}

/// The user a bearer token belongs to, if the token is known and not revoked.
pub fn authenticate(conn: &mut DbConnection, token: &str) -> Result<Option<Principal>, AppError> {
    let found: Option<(UserRow, Option<AgencyRow>)> = api_tokens::table
        .inner_join(users::table.left_join(agencies::table))
        .filter(api_tokens::token_hash.eq(hash_token(token)))
        .filter(api_tokens::revoked_at.is_null())
        .select((UserRow::as_select(), Option::<AgencyRow>::as_select()))
        .first(conn)
        .optional()?;
    found.map(|(user, agency)| principal(user, agency)).transpose()
}

/// A user by id, as a principal (role and scope), if there is one.
pub fn find_principal(conn: &mut DbConnection, id: &str) -> Result<Option<Principal>, AppError> {
    let found: Option<(UserRow, Option<AgencyRow>)> = users::table
        .left_join(agencies::table)
        .filter(users::id.eq(id))
        .select((UserRow::as_select(), Option::<AgencyRow>::as_select()))
        .first(conn)
        .optional()?;
    found.map(|(user, agency)| principal(user, agency)).transpose()
}

fn principal(user: UserRow, agency: Option<AgencyRow>) -> Result<Principal, AppError> {
    let scope = match agency {
        Some(a) => Scope::Subtree { agency_code: a.code, path: a.path },
        None => Scope::Global,
    };
    Ok(Principal { user_id: user.id, name: user.name, role: user.role, scope })
}
