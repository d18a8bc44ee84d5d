//! The directory: agencies (a tree addressed by code), their topic taxonomies and mailboxes, users
//! and their first tokens; and the one check of an agency a request names against the caller's
//! scope, for every route and command.

use crate::db::agencies::{self, AgencyRow, Topic, TopicRow};
use crate::db::users::{self, UserRow};
use crate::db::DbConnection;
use crate::domain::agency::{child_path, validate_code, validate_topic_code};
use crate::domain::role::{Principal, Role};
use crate::domain::validation::Validator;
use crate::error::AppError;
use crate::service::Caller;

/// Where a request names an agency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Named<'a> {
    /// In the URL: an unknown agency and one outside the caller's scope are both 404, so codes
    /// outside the scope are not confirmed.
    InPath,
    /// In a field of the request (its path, e.g. `agency`): an unknown code is 422, an agency
    /// outside the caller's scope 403.
    InField(&'a str),
}

/// The agency `code`, if the caller may act on it.
pub fn agency_in_scope(
    conn: &mut DbConnection,
    user: &Principal,
    code: &str,
    named: Named<'_>,
) -> Result<AgencyRow, AppError> {
    in_scope(conn, Caller::User(user), code, named)
}

/// The agency `code`, if the caller may act on it (the operator may act on any).
pub fn in_scope(
    conn: &mut DbConnection,
    caller: Caller<'_>,
    code: &str,
    named: Named<'_>,
) -> Result<AgencyRow, AppError> {
    let found = agencies::find_by_code(conn, code)?;
    match named {
        Named::InPath => found
            .filter(|a| caller.covers(&a.path))
            .ok_or_else(|| AppError::NotFound(format!("no agency with code `{code}` in your scope"))),
        Named::InField(field) => {
            let agency = found.ok_or_else(|| AppError::validation(field, format!("no agency has code `{code}`")))?;
            if caller.covers(&agency.path) {
                Ok(agency)
            } else {
                Err(AppError::Forbidden(format!("agency `{code}` is outside your scope")))
            }
        }
    }
}

/// Agencies in the caller's scope, in tree order.
pub fn agencies(conn: &mut DbConnection, caller: Caller<'_>) -> Result<Vec<AgencyRow>, AppError> {
    agencies::list(conn, caller.scope_path())
}

/// A new agency as asked for.
#[derive(Debug, Clone)]
pub struct NewAgency {
    pub code: String,
    pub name: String,
    /// Code of the parent agency; None for a root.
    pub parent: Option<String>,
    pub email: Option<String>,
}

/// Adds an agency (administrators; a scoped administrator only within their subtree).
pub fn add_agency(conn: &mut DbConnection, caller: Caller<'_>, new: &NewAgency) -> Result<AgencyRow, AppError> {
    caller.require_admin("administer agencies")?;
    let parent = match &new.parent {
        Some(parent) => Some(in_scope(conn, caller, parent, Named::InField("parent"))?),
        None if caller.scope_path().is_some() => {
            return Err(AppError::Forbidden("only a global administrator can add a root agency".into()))
        }
        None => None,
    };
    let mut v = Validator::new();
    if let Err(e) = validate_code("code", &new.code) {
        v.error(&e.path, e.message);
    }
    let name = v.text("name", &new.name, 200);
    let email = v.optional_text("email", new.email.as_deref(), 200);
    v.finish()?;
    let row = AgencyRow {
        id: uuid::Uuid::now_v7().to_string(),
        code: new.code.clone(),
        name,
        parent_id: parent.as_ref().map(|p| p.id.clone()),
        path: child_path(parent.as_ref().map(|p| p.path.as_str()), &new.code),
        email,
        created_at: crate::db::now(),
    };
    agencies::insert(conn, &row)?;
    Ok(row)
}

/// Sets (or, with None, clears) the disclosure office's mailbox of an agency: reminders of
/// unassigned cases, and overdue ones where nobody heads the office, go there.
pub fn set_agency_email(
    conn: &mut DbConnection,
    caller: Caller<'_>,
    code: &str,
    email: Option<&str>,
) -> Result<AgencyRow, AppError> {
    caller.require_admin("administer agencies")?;
    let email = checked_email(email)?;
    let mut agency = in_scope(conn, caller, code, Named::InField("agency"))?;
    agencies::set_email(conn, &agency.id, email.as_deref())?;
    agency.email = email;
    Ok(agency)
}

/// The topics usable for cases of an agency in the caller's scope: its own and its ancestors'.
pub fn topics(conn: &mut DbConnection, caller: Caller<'_>, code: &str) -> Result<Vec<Topic>, AppError> {
    let agency = in_scope(conn, caller, code, Named::InPath)?;
    agencies::topics_for(conn, &agency)
}

/// Defines (or relabels) a topic in the taxonomy of an agency in the caller's scope (administrators).
pub fn put_topic(
    conn: &mut DbConnection,
    caller: Caller<'_>,
    agency: &str,
    code: &str,
    label: &str,
) -> Result<TopicRow, AppError> {
    caller.require_admin("administer agencies")?;
    let agency = in_scope(conn, caller, agency, Named::InPath)?;
    let mut v = Validator::new();
    if let Err(e) = validate_topic_code("code", code) {
        v.error(&e.path, e.message);
    }
    let label = v.text("label", label, 200);
    v.finish()?;
    let row = TopicRow { agency_id: agency.id.clone(), code: code.to_owned(), label };
    agencies::put_topic(conn, &row)?;
    Ok(row)
}

/// An e-mail address as given, trimmed, or a validation error.
pub fn checked_email(email: Option<&str>) -> Result<Option<String>, AppError> {
    match email.map(str::trim) {
        None | Some("") => Ok(None),
        Some(e) if e.chars().count() <= 200 && crate::domain::intake::looks_like_email(e) => Ok(Some(e.to_owned())),
        Some(_) => Err(AppError::validation("email", "is not an e-mail address")),
    }
}

/// Adds a user with a first API token; returns both (the token in clear, for the one time it is
/// shown). Every role but a global administrator belongs to an agency, within the caller's scope.
pub fn add_user(
    conn: &mut DbConnection,
    caller: Caller<'_>,
    name: &str,
    role: Role,
    agency: Option<&str>,
    email: Option<&str>,
) -> Result<(UserRow, String), AppError> {
    caller.require_admin("administer users")?;
    let mut v = Validator::new();
    let name = v.text("name", name, 200);
    let email = v.optional_text("email", email, 200);
    v.finish()?;
    let agency = match agency {
        Some(code) => Some(in_scope(conn, caller, code, Named::InField("agency"))?),
        None if role == Role::Admin && caller.scope_path().is_none() => None,
        None if role == Role::Admin => {
            return Err(AppError::Forbidden("only a global administrator can add a global administrator".into()))
        }
        None => return Err(AppError::validation("agency", format!("a {role} must belong to an agency"))),
    };
    let user = UserRow {
        id: uuid::Uuid::now_v7().to_string(),
        name,
        role,
        agency_id: agency.map(|a| a.id),
        email,
        created_at: crate::db::now(),
    };
    let token = users::insert_with_token(conn, &user)?;
    Ok((user, token))
}

/// Sets (or, with None, clears) a user's e-mail address, where reminders reach them.
pub fn set_user_email(
    conn: &mut DbConnection,
    caller: Caller<'_>,
    user_id: &str,
    email: Option<&str>,
) -> Result<(), AppError> {
    caller.require_admin("administer users")?;
    let email = checked_email(email)?;
    if !users::set_email(conn, user_id, email.as_deref())? {
        return Err(AppError::validation("user", format!("no user has id `{user_id}`")));
    }
    Ok(())
}

/// Every user with the code of their agency (None: a global administrator), by name.
pub fn users(conn: &mut DbConnection, caller: Caller<'_>) -> Result<Vec<(UserRow, Option<String>)>, AppError> {
    caller.require_admin("administer users")?;
    users::list(conn)
}

/// On a database without users, creates a global administrator and returns its token.
pub fn bootstrap_admin(conn: &mut DbConnection) -> Result<Option<String>, AppError> {
    if users::count(conn)? > 0 {
        return Ok(None);
    }
    let (_, token) = add_user(conn, Caller::Operator, "admin", Role::Admin, None, None)?;
    Ok(Some(token))
}
