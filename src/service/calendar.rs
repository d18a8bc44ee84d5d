//! Calendar changes (a year's notice, a day of the national calendar or of an agency's overlay) and
//! the recomputation of every open case's deadline they call for.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::calendar::CalendarCache;
use crate::db::cases;
use crate::db::locks::Author;
use crate::db::DbConnection;
use crate::domain::events::{CaseEvent, DeadlineSummary};
use crate::error::AppError;

/// A deadline that a calendar change moved.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MovedDeadline {
    pub tracking_number: String,
    pub before: Option<NaiveDate>,
    pub after: Option<NaiveDate>,
    pub provisional_before: bool,
    pub provisional_after: bool,
}

/// What a calendar change did.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CalendarChange {
    pub detail: String,
    /// Open cases whose final deadline was recomputed to a different date or certainty.
    pub recomputed: Vec<MovedDeadline>,
}

fn moved(m: DeadlineMoved) -> MovedDeadline {
    MovedDeadline {
        tracking_number: m.tracking_number,
        before: m.before.final_due_on,
        after: m.after.final_due_on,
        provisional_before: m.before.provisional,
        provisional_after: m.after.provisional,
    }
}

/// Applies a calendar change (`change`) and recomputes the deadlines of open cases; for the API and
/// the CLI alike.
pub fn change_and_recompute(
    conn: &mut DbConnection,
    calendars: &CalendarCache,
    actor_id: Option<&str>,
    reason: &str,
    change: impl FnOnce(&mut DbConnection) -> Result<(), AppError>,
) -> Result<CalendarChange, AppError> {
    change(conn)?;
    let recomputed = recompute_open_deadlines(conn, calendars, reason, actor_id)?.into_iter().map(moved).collect();
    Ok(CalendarChange { detail: reason.to_owned(), recomputed })
}

/// A deadline that a recomputation changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadlineMoved {
    pub tracking_number: String,
    pub before: DeadlineSummary,
    pub after: DeadlineSummary,
}

/// Recomputes the deadline of every open case (after a calendar or regime change) and records each
/// change as a `deadline_set` event with the old and new dates and `reason`. Each case is updated in
/// its own transaction, guarded by its chain head so a concurrent change is never overwritten.
pub fn recompute_open_deadlines(
    conn: &mut DbConnection,
    calendars: &CalendarCache,
    reason: &str,
    actor_id: Option<&str>,
) -> Result<Vec<DeadlineMoved>, AppError> {
    use crate::domain::events::DeadlineChange;
    let ids = cases::open_case_ids(conn, false)?;
    let today = crate::domain::china_date(chrono::Utc::now());
    let mut moved = Vec::new();
    for id in ids {
        let Some(record) = cases::find(conn, &id)? else { continue };
        let rules = calendars.rules(conn, Some(&record.agency_path))?;
        let regime = super::cases::regime(&rules, &record)?;
        let clock = cases::clock_events(conn, &id)?;
        let deadline =
            match crate::domain::deadline::compute(regime, &rules.calendar, record.row.received_on, &clock, today) {
                Ok(deadline) => deadline,
                // A history recorded before a rule tightened (an Art. 35 delay on a 2008 case, say)
                // keeps its stored deadline: one such case must not stop every other recomputation.
                Err(e) => {
                    tracing::warn!(case = %record.row.tracking_number, error = %e, "deadline not recomputed");
                    continue;
                }
            };
        let view = record.view()?;
        let timeliness = deadline.timeliness(&rules.calendar, today).map_err(AppError::internal)?;
        let after = DeadlineSummary::of(&deadline, &timeliness);
        if after == view.deadline {
            continue;
        }
        let change = CaseEvent::DeadlineSet(DeadlineChange {
            deadline: after.clone(),
            previous: Some(view.deadline.clone()),
            reason: reason.to_owned(),
        });
        // A case changed meanwhile by someone else keeps its (newer) deadline.
        match cases::append(conn, &record, &[change], &Author { user_id: actor_id, lock_override: None }) {
            Ok(_) => {
                moved.push(DeadlineMoved { tracking_number: record.row.tracking_number, before: view.deadline, after })
            }
            Err(AppError::PreconditionFailed(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(moved)
}
