//! Browser sign-in: passwords (argon2id), server-side sessions with idle and absolute timeouts and a
//! CSRF token each, and the security log that records every sign-in, failure, sign-out and change to
//! how an account authenticates.

use std::sync::OnceLock;

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

use super::directory::{managed_user, UserEntry};
use super::Caller;
use crate::db::sessions::{self, SecurityEventFilter, SecurityEventRow, SessionRow};
use crate::db::users::{self, hash_token};
use crate::db::{now, DbConnection};
use crate::domain::account::{password_problem, SecurityEventKind, SessionPolicy, SessionStatus};
use crate::domain::role::Principal;
use crate::error::AppError;

/// Appends an entry to the security log.
pub fn record(
    conn: &mut DbConnection,
    kind: SecurityEventKind,
    user_id: Option<&str>,
    actor: Caller<'_>,
    client_address: Option<&str>,
    detail: serde_json::Value,
) -> Result<(), AppError> {
    let login = detail.get("login").and_then(|v| v.as_str()).map(str::to_owned);
    sessions::record(
        conn,
        &SecurityEventRow {
            id: uuid::Uuid::now_v7().to_string(),
            occurred_at: now(),
            kind,
            user_id: user_id.map(str::to_owned),
            actor_id: actor.user_id().map(str::to_owned),
            login,
            client_address: client_address.map(str::to_owned),
            detail: detail.to_string(),
        },
    )
}

/// An argon2id hash (OWASP's parameters, argon2's defaults: 19 MiB, 2 passes) in PHC form.
fn hash_password(password: &str) -> Result<String, AppError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(format!("hashing a password: {e}")))
}

fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// A hash nobody's password matches, verified against when the login is unknown or has no password,
/// so that a wrong name takes as long to refuse as a wrong password.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash_password(&users::random_secret()).unwrap_or_default())
}

/// Who is signing in, and from where.
#[derive(Debug, Clone)]
pub struct SignIn {
    pub login: String,
    pub password: String,
    pub client_address: Option<String>,
    pub user_agent: Option<String>,
}

/// A session just opened: the cookie's value (shown this once), its row and its user.
#[derive(Debug, Clone)]
pub struct OpenedSession {
    pub cookie: String,
    pub session: SessionRow,
    pub principal: Principal,
}

/// The one answer to every failed sign-in: it does not say whether the name exists.
fn wrong_credentials() -> AppError {
    AppError::Unauthorized("the login name or the password is wrong".into())
}

/// Checks a login name and password and opens a session. Every attempt is logged; a failure is
/// `Unauthorized` whatever the reason (the log keeps the reason).
pub fn sign_in(conn: &mut DbConnection, attempt: &SignIn) -> Result<OpenedSession, AppError> {
    let found = sessions::user_by_login(conn, &attempt.login)?;
    let hash = found.as_ref().and_then(|(_, hash)| hash.as_deref()).unwrap_or(decoy_hash());
    let matches = verify_password(hash, &attempt.password);
    let reason = match &found {
        None => Some("unknown_login"),
        Some((_, None)) => Some("no_password"),
        Some(_) if !matches => Some("wrong_password"),
        Some((user, _)) if user.deactivated_at.is_some() => Some("deactivated"),
        Some(_) => None,
    };
    let user_id = found.as_ref().map(|(user, _)| user.id.clone());
    let client = attempt.client_address.as_deref();
    if let Some(reason) = reason {
        let detail = serde_json::json!({ "login": attempt.login, "reason": reason });
        record(conn, SecurityEventKind::LoginFailed, user_id.as_deref(), Caller::Operator, client, detail)?;
        return Err(wrong_credentials());
    }
    let (user, _) = found.expect("a user whose password matched");
    let (user, agency) = users::find(conn, &user.id)?.ok_or_else(wrong_credentials)?;
    let cookie = users::random_secret();
    let at = now();
    let session = SessionRow {
        id: uuid::Uuid::now_v7().to_string(),
        token_hash: hash_token(&cookie),
        user_id: user.id.clone(),
        csrf_token: users::random_secret(),
        created_at: at,
        last_seen_at: at,
        ended_at: None,
        end_reason: None,
        client_address: attempt.client_address.clone(),
        user_agent: attempt.user_agent.clone(),
    };
    sessions::insert(conn, &session)?;
    let detail = serde_json::json!({ "login": attempt.login, "session": session.id });
    record(conn, SecurityEventKind::LoginSucceeded, Some(&user.id), Caller::Operator, client, detail)?;
    let principal = users::principal(user, agency)?;
    Ok(OpenedSession { cookie, session, principal })
}

/// What a session cookie turned out to be.
#[derive(Debug, Clone)]
pub enum SessionCheck {
    Valid {
        principal: Principal,
        session: Box<SessionRow>,
    },
    Unknown,
    /// Signed out, timed out, or ended by a password change or deactivation.
    Ended,
    Deactivated,
}

/// The session a cookie names, if it is still alive; its activity is recorded (at most once a minute).
pub fn authenticate(conn: &mut DbConnection, cookie: &str, policy: &SessionPolicy) -> Result<SessionCheck, AppError> {
    let Some((session, user, agency)) = sessions::by_cookie(conn, cookie)? else {
        return Ok(SessionCheck::Unknown);
    };
    let at = now();
    match policy.status(session.created_at, session.last_seen_at, session.ended_at.is_some(), at) {
        SessionStatus::Active => {}
        SessionStatus::Ended | SessionStatus::IdleTimedOut | SessionStatus::Expired => return Ok(SessionCheck::Ended),
    }
    if user.deactivated_at.is_some() {
        return Ok(SessionCheck::Deactivated);
    }
    if policy.should_touch(session.last_seen_at, at) {
        sessions::touch(conn, &session.id, at)?;
    }
    Ok(SessionCheck::Valid { principal: users::principal(user, agency)?, session: Box::new(session) })
}

/// Ends the caller's session.
pub fn sign_out(
    conn: &mut DbConnection,
    principal: &Principal,
    session: &SessionRow,
    client_address: Option<&str>,
) -> Result<(), AppError> {
    sessions::end(conn, &session.id, "logout")?;
    let detail = serde_json::json!({ "session": session.id });
    record(conn, SecurityEventKind::Logout, Some(&principal.user_id), Caller::User(principal), client_address, detail)
}

/// A new password for a user: their own (with the current one, when they have one) or, for an
/// administrator, anyone's in their subtree. The user's other sessions end (an administrator's
/// reset ends them all), so a password taken over stops working everywhere at once.
pub fn set_password(
    conn: &mut DbConnection,
    caller: Caller<'_>,
    user_id: &str,
    password: &str,
    current_password: Option<&str>,
    keep_session: Option<&str>,
) -> Result<UserEntry, AppError> {
    let own = caller.user_id() == Some(user_id);
    if !own {
        caller.require_admin("set other users' passwords")?;
    }
    let entry = managed_user(conn, if own { Caller::Operator } else { caller }, user_id)?;
    let (_, stored) = sessions::user_by_id_with_hash(conn, user_id)?
        .ok_or_else(|| AppError::NotFound(format!("no user with id `{user_id}` in your scope")))?;
    if own {
        if let Some(stored) = stored.as_deref() {
            match current_password {
                None => return Err(AppError::validation("current_password", "give your current password")),
                Some(current) if !verify_password(stored, current) => {
                    return Err(AppError::validation("current_password", "is not your current password"))
                }
                Some(_) => {}
            }
        }
    }
    if let Some(problem) = password_problem(password, entry.0.login.as_deref()) {
        return Err(AppError::validation("password", problem));
    }
    sessions::set_password_hash(conn, user_id, &hash_password(password)?)?;
    let ended = sessions::end_all_of(conn, user_id, keep_session.filter(|_| own), "password_changed")?;
    let detail = serde_json::json!({ "sessions_ended": ended, "by_self": own });
    record(conn, SecurityEventKind::PasswordSet, Some(user_id), caller, None, detail)?;
    users::find(conn, user_id)?
        .map(|(user, agency)| (user, agency.map(|a| a.code)))
        .ok_or_else(|| AppError::NotFound(format!("no user with id `{user_id}`")))
}

/// The user a command line names: by login, else by id.
pub fn user_by_login_or_id(conn: &mut DbConnection, name: &str) -> Result<String, AppError> {
    if let Some((user, _)) = sessions::user_by_login(conn, name)? {
        return Ok(user.id);
    }
    match users::find(conn, name)? {
        Some((user, _)) => Ok(user.id),
        None => Err(AppError::NotFound(format!("no user signs in as `{name}` or has that id"))),
    }
}

/// Which entries of the security log to show.
#[derive(Debug, Clone, Default)]
pub struct SecurityLogQuery {
    pub user_id: Option<String>,
    pub kind: Option<SecurityEventKind>,
    pub before_id: Option<String>,
    pub limit: i64,
}

/// The security log, newest first (administrators: the events of their subtree's users; a global
/// administrator also sees failed sign-ins under names nobody has).
pub fn security_log(
    conn: &mut DbConnection,
    caller: Caller<'_>,
    query: &SecurityLogQuery,
) -> Result<Vec<SecurityEventRow>, AppError> {
    caller.require_admin("read the security log")?;
    sessions::list_security_events(
        conn,
        &SecurityEventFilter {
            agency_path: caller.scope_path().map(str::to_owned),
            user_id: query.user_id.clone(),
            kind: query.kind,
            before_id: query.before_id.clone(),
            limit: query.limit.clamp(1, 500),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argon2id_hashes_verify_only_their_password() {
        let hash = hash_password("Lowercase123").unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        assert!(verify_password(&hash, "Lowercase123"));
        assert!(!verify_password(&hash, "Lowercase124"));
        assert!(!verify_password("not a hash", "Lowercase123"));
        assert!(!verify_password(decoy_hash(), ""));
        assert_ne!(hash_password("Lowercase123").unwrap(), hash, "salted");
    }
}
