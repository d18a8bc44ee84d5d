//! Use cases, between the shells (the HTTP handlers in `api/`, the command line in `main.rs`) and
//! storage (`db/`) with the rules (`domain/`). Each function takes a connection, the acting
//! principal and typed input; it checks what the domain decides, writes through storage (which
//! keeps each change in one transaction) and returns a typed result. Shells only translate requests
//! and arguments to these calls and their results back.
//!
//! Families: registration (`registration`), case reads (`cases`), workflow actions (`actions`),
//! clock events and deadlines (`clock`), calendar changes and the recomputation of open deadlines
//! (`calendar`), the lapse job (`lapses`), the reminder job and outbox (`reminders`), annual reports,
//! their exports and locks (`reports`), agencies, topics and users (`directory`), the audit of the
//! event log (`audit`), papers attached to cases (`papers`) and the letters generated from them
//! (`letters`).

use crate::domain::role::{Principal, Scope};
use crate::error::AppError;

pub mod accounts;
pub mod actions;
pub mod audit;
pub mod calendar;
pub mod cases;
pub mod clock;
pub mod directory;
pub mod feeds;
pub mod lapses;
pub mod ledger;
pub mod ledger_import;
pub mod letters;
pub mod monitoring;
pub mod papers;
pub mod registration;
pub mod reminders;
pub mod reports;
pub mod seed;

/// Who asks for a use case: a signed-in user (the API), or the operator at the host's command line,
/// who holds the database and its configuration and so every right (the CLI asks for no token).
#[derive(Debug, Clone, Copy)]
pub enum Caller<'a> {
    User(&'a Principal),
    Operator,
}

impl Caller<'_> {
    /// The user recorded as the actor of what this caller changes (None: the operator).
    pub fn user_id(&self) -> Option<&str> {
        match self {
            Caller::User(p) => Some(&p.user_id),
            Caller::Operator => None,
        }
    }

    /// How the audit trail names the caller.
    pub fn name(&self) -> &str {
        match self {
            Caller::User(p) => &p.name,
            Caller::Operator => "the operator",
        }
    }

    /// Whether the agency at `agency_path` is within the caller's scope.
    pub fn covers(&self, agency_path: &str) -> bool {
        match self {
            Caller::User(p) => p.covers(agency_path),
            Caller::Operator => true,
        }
    }

    /// The root of the caller's scope as a path prefix (None: everything).
    pub fn scope_path(&self) -> Option<&str> {
        match self {
            Caller::User(p) => p.scope_path(),
            Caller::Operator => None,
        }
    }

    /// An administrator (of their subtree), or the operator; `what` completes "the … role cannot …".
    pub fn require_admin(&self, what: &str) -> Result<(), AppError> {
        match self {
            Caller::User(p) if !p.role.can_administer() => {
                Err(AppError::Forbidden(format!("the {} role cannot {what}", p.role)))
            }
            _ => Ok(()),
        }
    }

    /// A global administrator (national settings), or the operator.
    pub fn require_global_admin(&self, what: &str) -> Result<(), AppError> {
        match self {
            Caller::User(p) if !p.role.can_administer() || p.scope != Scope::Global => {
                Err(AppError::Forbidden(format!("only a global administrator can {what}")))
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::role::Role;

    fn user(role: Role, scope: Scope) -> Principal {
        Principal { user_id: "u".into(), name: "张三".into(), role, scope }
    }

    fn district() -> Scope {
        Scope::Subtree { agency_code: "PJ-XLT".into(), path: "/PJ/PJ-XLT/".into() }
    }

    #[test]
    fn the_operator_may_do_anything_a_user_only_what_role_and_scope_allow() {
        let operator = Caller::Operator;
        assert!(operator.require_admin("x").is_ok() && operator.require_global_admin("x").is_ok());
        assert!(operator.covers("/PJ/") && operator.scope_path().is_none() && operator.user_id().is_none());

        let global = user(Role::Admin, Scope::Global);
        let caller = Caller::User(&global);
        assert!(caller.require_admin("x").is_ok() && caller.require_global_admin("x").is_ok());
        assert_eq!(caller.user_id(), Some("u"));

        let district_admin = user(Role::Admin, district());
        let caller = Caller::User(&district_admin);
        assert!(caller.require_admin("x").is_ok());
        assert!(matches!(caller.require_global_admin("x"), Err(AppError::Forbidden(_))));
        assert!(caller.covers("/PJ/PJ-XLT/A/") && !caller.covers("/PJ/PJ-DW/"));

        for role in [Role::Clerk, Role::Handler, Role::Approver, Role::Statistician] {
            let someone = user(role, Scope::Global);
            let caller = Caller::User(&someone);
            let Err(AppError::Forbidden(message)) = caller.require_admin("administer agencies") else {
                panic!("{role} administers")
            };
            assert_eq!(message, format!("the {role} role cannot administer agencies"));
            assert!(caller.require_global_admin("x").is_err());
        }
    }
}
