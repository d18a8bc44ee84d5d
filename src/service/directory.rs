//! The directory: agencies (a tree addressed by code), their topic taxonomies and mailboxes, users
//! and their first tokens; and the one check of an agency a request names against the caller's
//! scope, for every route and command.

use crate::db::agencies::{self, AgencyRow, Topic, TopicRow};
use crate::db::users::{self, TokenRow, UserRow};
use crate::db::{atomically, sessions, DbConnection};
use crate::domain::account::{login_problem, SecurityEventKind};
use crate::domain::agency::{child_path, validate_code, validate_topic_code};
use crate::domain::role::{Principal, Role};
use crate::domain::validation::Validator;
use crate::error::AppError;
use crate::service::{accounts, Caller};

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
    login: Option<&str>,
) -> Result<(UserRow, String), AppError> {
    caller.require_admin("administer users")?;
    let mut v = Validator::new();
    let name = v.text("name", name, 200);
    let email = v.optional_text("email", email, 200);
    let login = login.map(|l| v.text("login", l, 64));
    if let Some(problem) = login.as_deref().and_then(login_problem) {
        v.error("login", problem);
    }
    v.finish()?;
    let login = match login {
        Some(login) => {
            login_free(conn, &login, None)?;
            Some(login)
        }
        // By default one signs in with one's name, when it is a single word nobody else uses.
        None if login_problem(&name).is_none() && !sessions::login_taken(conn, &name, None)? => Some(name.clone()),
        None => None,
    };
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
        deactivated_at: None,
        login,
        password_changed_at: None,
    };
    atomically(conn, |conn| {
        let token = users::insert_with_token(conn, &user, "first token")?;
        let detail = serde_json::json!({ "login": user.login, "role": user.role });
        accounts::record(conn, SecurityEventKind::UserCreated, Some(&user.id), caller, None, detail)?;
        Ok((user, token))
    })
}

/// A login nobody else (but `user_id`) signs in with, or 409.
fn login_free(conn: &mut DbConnection, login: &str, user_id: Option<&str>) -> Result<(), AppError> {
    if sessions::login_taken(conn, login, user_id)? {
        return Err(AppError::Conflict(format!("another user signs in as `{login}`; choose another login")));
    }
    Ok(())
}

/// Sets (or, with None, clears) a user's e-mail address, where reminders reach them.
pub fn set_user_email(
    conn: &mut DbConnection,
    caller: Caller<'_>,
    user_id: &str,
    email: Option<&str>,
) -> Result<(), AppError> {
    let change = UserChange { email: Some(email.map(str::to_owned)), ..UserChange::default() };
    change_user(conn, caller, user_id, &change).map(|_| ())
}

/// A user with the code of their agency (None: a global administrator).
pub type UserEntry = (UserRow, Option<String>);

/// The user `id` if the caller may manage them: within the caller's subtree (a global administrator,
/// who has no agency, only for a global caller). Unknown and out of scope are both 404.
pub(crate) fn managed_user(conn: &mut DbConnection, caller: Caller<'_>, id: &str) -> Result<UserEntry, AppError> {
    let not_found = || AppError::NotFound(format!("no user with id `{id}` in your scope"));
    let (user, agency) = users::find(conn, id)?.ok_or_else(not_found)?;
    let visible = match &agency {
        Some(a) => caller.covers(&a.path),
        None => caller.scope_path().is_none(),
    };
    if !visible {
        return Err(not_found());
    }
    Ok((user, agency.map(|a| a.code)))
}

/// What a user list asks for.
#[derive(Debug, Clone, Default)]
pub struct UserQuery {
    /// An agency (code) in the caller's scope, with (`subtree`) or without the agencies below it.
    pub agency: Option<String>,
    pub subtree: bool,
    pub role: Option<Role>,
    /// Some(true): active users only; Some(false): deactivated only.
    pub active: Option<bool>,
}

/// Users, by name then id (each with an id, role, agency, e-mail and creation time, so namesakes
/// can be told apart). Administrators list everyone in their subtree; handlers and office heads list
/// the active colleagues they may assign a case to (handlers and office heads in their scope).
pub fn users(conn: &mut DbConnection, caller: Caller<'_>, query: &UserQuery) -> Result<Vec<UserEntry>, AppError> {
    let mut filter = users::UserFilter { agency_path: caller.scope_path().map(str::to_owned), ..Default::default() };
    if let Caller::User(p) = caller {
        if !p.role.can_administer() {
            if !matches!(p.role, Role::Handler | Role::Approver) {
                return Err(AppError::Forbidden(format!("the {} role cannot list users", p.role)));
            }
            filter.roles = vec![Role::Handler, Role::Approver];
            filter.active = Some(true);
        }
    }
    if let Some(code) = &query.agency {
        let agency = in_scope(conn, caller, code, Named::InField("agency"))?;
        if query.subtree {
            filter.agency_path = Some(agency.path);
        } else {
            filter.agency_exact = Some(agency.path);
        }
    }
    if let Some(role) = query.role {
        if filter.roles.is_empty() || filter.roles.contains(&role) {
            filter.roles = vec![role];
        } else {
            return Ok(Vec::new());
        }
    }
    if filter.active.is_none() {
        filter.active = query.active;
    }
    users::list_filtered(conn, &filter)
}

/// One user: administrators for users in their subtree; anybody for themselves.
pub fn user(conn: &mut DbConnection, caller: Caller<'_>, id: &str) -> Result<UserEntry, AppError> {
    match caller {
        // Oneself is always visible, whatever the role.
        Caller::User(p) if p.user_id == id => managed_user(conn, Caller::Operator, id),
        _ => {
            caller.require_admin("administer users")?;
            managed_user(conn, caller, id)
        }
    }
}

/// A change to a user; None leaves a field as it is (`email: Some(None)` clears the address).
#[derive(Debug, Clone, Default)]
pub struct UserChange {
    pub name: Option<String>,
    pub role: Option<Role>,
    /// An agency code; for a global administrator, `Some(None)`.
    pub agency: Option<Option<String>>,
    pub email: Option<Option<String>>,
    /// The name the user signs in with (unique).
    pub login: Option<String>,
}

/// Changes a user's display name, role, agency or e-mail (administrators, in their subtree; the new
/// agency must be in it too). Nobody changes their own role or agency: another administrator does.
pub fn change_user(
    conn: &mut DbConnection,
    caller: Caller<'_>,
    id: &str,
    change: &UserChange,
) -> Result<UserEntry, AppError> {
    caller.require_admin("administer users")?;
    let (mut user, mut agency_code) = managed_user(conn, caller, id)?;
    if caller.user_id() == Some(id) && (change.role.is_some() || change.agency.is_some()) {
        return Err(AppError::Conflict("you cannot change your own role or agency; another administrator can".into()));
    }
    let mut v = Validator::new();
    if let Some(name) = &change.name {
        user.name = v.text("name", name, 200);
    }
    if let Some(email) = &change.email {
        user.email = v.optional_text("email", email.as_deref(), 200);
    }
    let old_login = user.login.clone();
    if let Some(login) = &change.login {
        let login = v.text("login", login, 64);
        if let Some(problem) = login_problem(&login) {
            v.error("login", problem);
        }
        user.login = Some(login);
    }
    v.finish()?;
    if let Some(login) = user.login.as_deref().filter(|l| Some(*l) != old_login.as_deref()) {
        login_free(conn, login, Some(&user.id))?;
    }
    if let Some(Some(email)) = &change.email {
        checked_email(Some(email))?;
    }
    if let Some(role) = change.role {
        user.role = role;
    }
    if let Some(agency) = &change.agency {
        match agency {
            Some(code) => {
                let a = in_scope(conn, caller, code, Named::InField("agency"))?;
                user.agency_id = Some(a.id);
                agency_code = Some(a.code);
            }
            None if caller.scope_path().is_none() => {
                user.agency_id = None;
                agency_code = None;
            }
            None => {
                return Err(AppError::Forbidden("only a global administrator can make a global administrator".into()))
            }
        }
    }
    if user.agency_id.is_none() && user.role != Role::Admin {
        return Err(AppError::validation("agency", format!("a {} must belong to an agency", user.role)));
    }
    atomically(conn, |conn| {
        users::update(conn, &user)?;
        if user.login != old_login {
            let detail = serde_json::json!({ "login": user.login, "previous": old_login });
            accounts::record(conn, SecurityEventKind::LoginChanged, Some(&user.id), caller, None, detail)?;
        }
        Ok((user, agency_code))
    })
}

/// Deactivates (or reactivates) a user: a deactivated user's tokens and sessions stop working at
/// once (their sessions end); their cases, events and history stay. Nobody deactivates themselves.
pub fn set_active(conn: &mut DbConnection, caller: Caller<'_>, id: &str, active: bool) -> Result<UserEntry, AppError> {
    caller.require_admin("administer users")?;
    let (mut user, agency_code) = managed_user(conn, caller, id)?;
    if caller.user_id() == Some(id) && !active {
        return Err(AppError::Conflict("you cannot deactivate yourself; another administrator can".into()));
    }
    let was_active = user.deactivated_at.is_none();
    user.deactivated_at = if active { None } else { user.deactivated_at.or_else(|| Some(crate::db::now())) };
    atomically(conn, |conn| {
        users::update(conn, &user)?;
        if !active {
            sessions::end_all_of(conn, &user.id, None, "deactivated")?;
        }
        if active != was_active {
            let kind = if active { SecurityEventKind::UserReactivated } else { SecurityEventKind::UserDeactivated };
            accounts::record(conn, kind, Some(&user.id), caller, None, serde_json::json!({}))?;
        }
        Ok((user, agency_code))
    })
}

/// May the caller manage this user's tokens: the user themselves, or an administrator of their subtree.
pub(crate) fn own_or_managed(
    conn: &mut DbConnection,
    caller: Caller<'_>,
    user_id: &str,
) -> Result<UserEntry, AppError> {
    match caller {
        Caller::User(p) if p.user_id == user_id => managed_user(conn, Caller::Operator, user_id),
        _ => {
            caller.require_admin("manage other users' tokens")?;
            managed_user(conn, caller, user_id)
        }
    }
}

/// A new named API token for a user, with an optional expiry (in the future); the row and the token
/// in clear, shown this once.
pub fn create_token(
    conn: &mut DbConnection,
    caller: Caller<'_>,
    user_id: &str,
    name: &str,
    expires_at: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<(TokenRow, String), AppError> {
    let (user, _) = own_or_managed(conn, caller, user_id)?;
    let mut v = Validator::new();
    let name = v.text("name", name, 100);
    if expires_at.is_some_and(|at| at <= chrono::Utc::now()) {
        v.error("expires_at", "must be in the future");
    }
    v.finish()?;
    if user.deactivated_at.is_some() {
        return Err(AppError::Conflict("the account is deactivated: reactivate it first".into()));
    }
    let expires = expires_at.map(|at| crate::domain::truncate_to_micros(at).naive_utc());
    atomically(conn, |conn| {
        let (row, token) = users::insert_token(conn, user_id, &name, expires)?;
        let detail = serde_json::json!({ "token": row.id, "name": row.name, "prefix": row.prefix });
        accounts::record(conn, SecurityEventKind::TokenCreated, Some(user_id), caller, None, detail)?;
        Ok((row, token))
    })
}

/// A user's tokens (never the tokens themselves), newest first.
pub fn tokens(conn: &mut DbConnection, caller: Caller<'_>, user_id: &str) -> Result<Vec<TokenRow>, AppError> {
    own_or_managed(conn, caller, user_id)?;
    users::tokens_of(conn, user_id)
}

/// Revokes one of a user's tokens; it stops working at once.
pub fn revoke_token(
    conn: &mut DbConnection,
    caller: Caller<'_>,
    user_id: &str,
    token_id: &str,
) -> Result<(), AppError> {
    own_or_managed(conn, caller, user_id)?;
    atomically(conn, |conn| {
        if !users::revoke_token(conn, user_id, token_id)? {
            return Err(AppError::NotFound(format!("user `{user_id}` has no unrevoked token `{token_id}`")));
        }
        let detail = serde_json::json!({ "token": token_id });
        accounts::record(conn, SecurityEventKind::TokenRevoked, Some(user_id), caller, None, detail)
    })
}

/// On a database without users, creates a global administrator and returns its token.
pub fn bootstrap_admin(conn: &mut DbConnection) -> Result<Option<String>, AppError> {
    if users::count(conn)? > 0 {
        return Ok(None);
    }
    let (_, token) = add_user(conn, Caller::Operator, "admin", Role::Admin, None, None, None)?;
    Ok(Some(token))
}
