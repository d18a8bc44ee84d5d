//! Report locks: once a statistician locks (agency, year), a change that would alter that year's
//! numbers is refused, unless an administrator overrides with a reason, in which case it is recorded as
//! a post-publication correction. The published reports are kept as they were, so they can always be
//! reproduced.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::rows::{AppealRow, CaseRow};
use super::schema::{agencies, report_corrections, report_locks};
use super::{is_unique_violation, now, DbConnection};
use crate::domain::report::{counted_in, CaseFacts};
use crate::domain::workflow::CaseState;
use crate::error::AppError;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = report_locks)]
pub struct LockRow {
    pub agency_id: String,
    pub year: i32,
    pub subtree: bool,
    pub locked_by: String,
    pub locked_at: NaiveDateTime,
    pub snapshot: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize)]
#[diesel(table_name = report_corrections)]
pub struct CorrectionRow {
    pub id: String,
    pub agency_id: String,
    pub year: i32,
    pub subtree: bool,
    pub case_id: String,
    pub actor_id: Option<String>,
    pub reason: String,
    pub events: String,
    pub recorded_at: NaiveDateTime,
}

/// Who writes to a case, and an administrator's reason to change a locked year's numbers anyway.
#[derive(Debug, Clone, Copy, Default)]
pub struct Author<'a> {
    pub user_id: Option<&'a str>,
    pub lock_override: Option<&'a str>,
}

impl<'a> Author<'a> {
    /// A scheduled job (no user, no override).
    pub const SYSTEM: Author<'static> = Author { user_id: None, lock_override: None };

    pub fn user(user_id: &'a str) -> Author<'a> {
        Author { user_id: Some(user_id), lock_override: None }
    }
}

/// What the reports count of a case row and its appeals (nothing for a voided duplicate).
pub fn facts(row: &CaseRow, appeals: &[AppealRow]) -> Option<CaseFacts> {
    if row.state == CaseState::Voided {
        return None;
    }
    Some(CaseFacts {
        received_on: row.received_on,
        channel: row.channel,
        applicant_kind: row.applicant_kind,
        topic: row.topic.clone(),
        closed_on: row.closed_on,
        closing: row.closed_on.map(|_| (row.outcome, row.outcome_reason.clone(), row.already_public, row.closed_as)),
        appeals: appeals.iter().map(|a| (a.kind, a.filed_on, a.outcome, a.decided_on)).collect(),
        fee_paid: row.fee_paid_on.map(|on| (on, row.fee_paid_fen)),
        fee_waived: row.fee_waived_on.map(|on| (on, row.fee_waived_fen)),
        re_replied_on: row.re_replied_on,
    })
}

/// The locks whose reports count cases of the agency at `agency_path`, with the locked agency's code.
pub fn covering(conn: &mut DbConnection, agency_path: &str) -> Result<Vec<(LockRow, String)>, AppError> {
    let all: Vec<(LockRow, String, String)> = report_locks::table
        .inner_join(agencies::table)
        .select((LockRow::as_select(), agencies::code, agencies::path))
        .load(conn)?;
    Ok(all
        .into_iter()
        .filter(|(lock, _, path)| path == agency_path || (lock.subtree && agency_path.starts_with(path.as_str())))
        .map(|(lock, code, _)| (lock, code))
        .collect())
}

/// Refuses a change of a case (from `before` to `after`) that alters the numbers of a locked year,
/// or records it as a post-publication correction when the author overrides. Runs inside the
/// write's transaction. `before` is read only when a lock covers the agency.
pub fn guard(
    conn: &mut DbConnection,
    agency_path: &str,
    case_id: &str,
    before: impl FnOnce(&mut DbConnection) -> Result<Option<CaseFacts>, AppError>,
    after: Option<&CaseFacts>,
    author: &Author<'_>,
    events: &str,
) -> Result<(), AppError> {
    let locks = covering(conn, agency_path)?;
    if locks.is_empty() {
        return Ok(());
    }
    let before = before(conn)?;
    for (lock, code) in locks {
        if counted_in(before.as_ref(), lock.year) == counted_in(after, lock.year) {
            continue;
        }
        let Some(reason) = author.lock_override else {
            let scope = if lock.subtree { " and its sub-agencies" } else { "" };
            return Err(AppError::ReportLocked(format!(
                "this change would alter the published {} report of {code}{scope}, locked since {}; an administrator may \
                 record it as a post-publication correction with the header Report-Lock-Override: <reason>",
                lock.year,
                lock.locked_at.format("%Y-%m-%d")
            )));
        };
        diesel::insert_into(report_corrections::table)
            .values(&CorrectionRow {
                id: uuid::Uuid::now_v7().to_string(),
                agency_id: lock.agency_id.clone(),
                year: lock.year,
                subtree: lock.subtree,
                case_id: case_id.to_owned(),
                actor_id: author.user_id.map(str::to_owned),
                reason: reason.to_owned(),
                events: events.to_owned(),
                recorded_at: now(),
            })
            .execute(conn)?;
    }
    Ok(())
}

/// Locks (agency, year, subtree) with the reports as published.
pub fn lock(
    conn: &mut DbConnection,
    agency_id: &str,
    year: i32,
    subtree: bool,
    user_id: &str,
    snapshot: String,
) -> Result<LockRow, AppError> {
    let row = LockRow {
        agency_id: agency_id.to_owned(),
        year,
        subtree,
        locked_by: user_id.to_owned(),
        locked_at: now(),
        snapshot,
    };
    match diesel::insert_into(report_locks::table).values(&row).execute(conn) {
        Ok(_) => Ok(row),
        Err(e) if is_unique_violation(&e) => Err(AppError::Conflict(format!("the {year} report is already locked"))),
        Err(e) => Err(e.into()),
    }
}

pub fn find(conn: &mut DbConnection, agency_id: &str, year: i32, subtree: bool) -> Result<Option<LockRow>, AppError> {
    Ok(report_locks::table.find((agency_id, year, subtree)).select(LockRow::as_select()).first(conn).optional()?)
}

/// The corrections recorded against a lock, oldest first.
pub fn corrections(
    conn: &mut DbConnection,
    agency_id: &str,
    year: i32,
    subtree: bool,
) -> Result<Vec<CorrectionRow>, AppError> {
    Ok(report_corrections::table
        .filter(report_corrections::agency_id.eq(agency_id))
        .filter(report_corrections::year.eq(year))
        .filter(report_corrections::subtree.eq(subtree))
        .order(report_corrections::id.asc())
        .select(CorrectionRow::as_select())
        .load(conn)?)
}
