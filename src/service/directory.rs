//! The agencies a request names, checked against the caller's scope: one rule for every route and
//! command.

use crate::db::agencies::{self, AgencyRow};
use crate::db::DbConnection;
use crate::domain::role::Principal;
use crate::error::AppError;

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
    let found = agencies::find_by_code(conn, code)?;
    match named {
        Named::InPath => found
            .filter(|a| user.covers(&a.path))
            .ok_or_else(|| AppError::NotFound(format!("no agency with code `{code}` in your scope"))),
        Named::InField(field) => {
            let agency = found.ok_or_else(|| AppError::validation(field, format!("no agency has code `{code}`")))?;
            if user.covers(&agency.path) {
                Ok(agency)
            } else {
                Err(AppError::Forbidden(format!("agency `{code}` is outside your scope")))
            }
        }
    }
}
