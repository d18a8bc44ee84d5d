//! Roles and what each may do (DESIGN section 8). Scope (which agencies) is separate: see `agency`.

string_enum! {
    Role {
        /// Intake clerk: registers requests.
        Clerk => "clerk",
        /// Handles cases: review, consultation, drafting replies.
        Handler => "handler",
        /// Head of the disclosure office (负责人): approves extensions and replies.
        Approver => "approver",
        /// Statistics office: reads reports, sees personal data only masked.
        Statistician => "statistician",
        /// Administers agencies, users, calendars.
        Admin => "admin",
    }
}

impl Role {
    /// May register new requests.
    pub fn can_register(self) -> bool {
        matches!(self, Role::Clerk | Role::Handler | Role::Approver | Role::Admin)
    }

    /// Sees applicants' ID numbers, phones, emails and addresses in full on a single case. Lists
    /// and exports are masked for everybody.
    pub fn sees_personal_data(self) -> bool {
        matches!(self, Role::Clerk | Role::Handler | Role::Approver | Role::Admin)
    }

    /// May change agencies, users and taxonomies, see the reminder outbox, and record changes to a
    /// published year's numbers (report-lock overrides).
    pub fn can_administer(self) -> bool {
        self == Role::Admin
    }

    /// May lock a published year's report.
    pub fn can_lock_reports(self) -> bool {
        matches!(self, Role::Statistician | Role::Admin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_statistician_is_read_only_and_masked() {
        for &role in Role::ALL {
            let full = role != Role::Statistician;
            assert_eq!(role.can_register(), full, "{role}");
            assert_eq!(role.sees_personal_data(), full, "{role}");
            assert_eq!(role.can_administer(), role == Role::Admin, "{role}");
        }
    }
}

/// Which agencies a user may act on: everything, or one agency's subtree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Global,
    Subtree { agency_code: String, path: String },
}

/// An authenticated user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user_id: String,
    pub name: String,
    pub role: Role,
    pub scope: Scope,
}

impl Principal {
    /// Whether the agency at `agency_path` lies within this user's scope.
    pub fn covers(&self, agency_path: &str) -> bool {
        match &self.scope {
            Scope::Global => true,
            Scope::Subtree { path, .. } => super::agency::in_subtree(agency_path, path),
        }
    }

    /// The root of this user's scope as a path prefix (None: everything).
    pub fn scope_path(&self) -> Option<&str> {
        match &self.scope {
            Scope::Global => None,
            Scope::Subtree { path, .. } => Some(path),
        }
    }
}

#[cfg(test)]
mod scope_tests {
    use super::*;

    fn user(scope: Scope) -> Principal {
        Principal { user_id: "u".into(), name: "n".into(), role: Role::Clerk, scope }
    }

    #[test]
    fn subtree_scope_covers_descendants_only() {
        let p = user(Scope::Subtree { agency_code: "PJ-XLT".into(), path: "/PJ/PJ-XLT/".into() });
        assert!(p.covers("/PJ/PJ-XLT/"));
        assert!(p.covers("/PJ/PJ-XLT/PJ-XLT-EDU/"));
        assert!(!p.covers("/PJ/"));
        assert!(!p.covers("/PJ/PJ-DW/"));
        assert!(user(Scope::Global).covers("/PJ/"));
    }
}
