//! Users and their API tokens. A token is shown once, at creation; only its SHA-256 is stored.

use base64::Engine;
use diesel::prelude::*;
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::agencies::{find_by_code, AgencyRow};
use super::schema::{agencies, api_tokens, users};
use super::{now, DbConnection};
use crate::domain::role::{Principal, Role, Scope};
use crate::domain::validation::Validator;
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

/// Creates a user and a first token; returns both (the token in clear, for the one time it is shown).
pub fn create(
    conn: &mut DbConnection,
    name: &str,
    role: Role,
    agency_code: Option<&str>,
    email: Option<&str>,
) -> Result<(UserRow, String), AppError> {
    let mut v = Validator::new();
    let name = v.text("name", name, 200);
    let email = v.optional_text("email", email, 200);
    v.finish()?;
    let agency = match agency_code {
        Some(code) => Some(
            find_by_code(conn, code)?
                .ok_or_else(|| AppError::validation("agency", format!("no agency has code `{code}`")))?,
        ),
        None if role == Role::Admin => None,
        None => return Err(AppError::validation("agency", format!("a {role} must belong to an agency"))),
    };
    let user = UserRow {
        id: uuid::Uuid::now_v7().to_string(),
        name,
        role,
        agency_id: agency.map(|a| a.id),
        email,
        created_at: now(),
    };
    let token = new_token();
    conn.transaction(|conn| {
        diesel::insert_into(users::table).values(&user).execute(conn)?;
        diesel::insert_into(api_tokens::table)
            .values(&TokenRow {
                token_hash: hash_token(&token),
                user_id: user.id.clone(),
                created_at: now(),
                revoked_at: None,
            })
            .execute(conn)
    })?;
    Ok((user, token))
}

/// Sets (or, with None, clears) a user's e-mail address, where reminders reach them.
pub fn set_email(conn: &mut DbConnection, user_id: &str, email: Option<&str>) -> Result<(), AppError> {
    let email = super::agencies::checked_email(email)?;
    let updated = diesel::update(users::table.find(user_id)).set(users::email.eq(&email)).execute(conn)?;
    if updated == 0 {
        return Err(AppError::validation("user", format!("no user has id `{user_id}`")));
    }
    Ok(())
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

/// On a database without users, creates a global administrator and returns its token.
pub fn bootstrap_admin(conn: &mut DbConnection) -> Result<Option<String>, AppError> {
    if count(conn)? > 0 {
        return Ok(None);
    }
    let (_, token) = create(conn, "admin", Role::Admin, None, None)?;
    Ok(Some(token))
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
