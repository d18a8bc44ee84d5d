//! Calendar changes (a year's notice, a day of the national calendar or of an agency's overlay) and
//! the recomputation of every open case's deadline they call for.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::calendar::{self, CalendarCache, NATIONAL};
use crate::db::cases;
use crate::db::locks::Author;
use crate::db::DbConnection;
use crate::domain::calendar::{DayClass, DayException, YearNotice};
use crate::domain::deadline::RegimeRules;
use crate::domain::events::{CaseEvent, DeadlineSummary};
use crate::error::AppError;
use crate::service::directory::{in_scope, Named};
use crate::service::Caller;

/// One day of the calendar as an agency sees it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CalendarDay {
    pub date: NaiveDate,
    pub working: bool,
    /// Settled by a loaded notice (false: the provisional rule applies).
    pub settled: bool,
    #[serde(flatten)]
    pub class: DayClass,
}

/// The loaded notices, and the days of a date range with their classes.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CalendarView {
    /// Years whose State Council notice is loaded.
    pub loaded_years: Vec<i32>,
    pub days: Vec<CalendarDay>,
}

/// The working-day calendar from `from` to `to` (at most 366 days), national or with the overlay of
/// an agency in the caller's scope.
pub fn days(
    conn: &mut DbConnection,
    calendars: &CalendarCache,
    caller: Caller<'_>,
    agency: Option<&str>,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<CalendarView, AppError> {
    if to < from || (to - from).num_days() > 366 {
        return Err(AppError::validation("to", "must be on or after `from` and at most 366 days later"));
    }
    if from < crate::domain::calendar::index_start() || to > crate::domain::calendar::index_end() {
        return Err(AppError::validation("from", "the calendar covers 2000-01-01 to 2099-12-31"));
    }
    let path = match agency {
        Some(code) => Some(in_scope(conn, caller, code, Named::InPath)?.path),
        None => None,
    };
    let rules = calendars.rules(conn, path.as_deref())?;
    let data = rules.calendar.data();
    let mut days = Vec::new();
    let mut date = from;
    while date <= to {
        let class = data.classify(date);
        days.push(CalendarDay { date, working: class.is_working(), settled: data.is_settled(date), class });
        date += chrono::Duration::days(1);
    }
    Ok(CalendarView { loaded_years: data.loaded_years.iter().copied().collect(), days })
}

/// Imports a year's State Council holiday notice into the national calendar (global administrators;
/// re-importing a corrected notice replaces the year) and recomputes open deadlines. `via` says where
/// it came from (`by 张三`, `from file.json`) for the cases' deadline events.
pub fn import_notice(
    conn: &mut DbConnection,
    calendars: &CalendarCache,
    caller: Caller<'_>,
    notice: &YearNotice,
    via: &str,
) -> Result<CalendarChange, AppError> {
    caller.require_global_admin("change the national calendar")?;
    // The texts a notice brings are stored: the same rules as any other text (no control characters,
    // so no NUL, which PostgreSQL cannot store), whether it came over HTTP or from a file.
    let mut v = crate::domain::validation::Validator::new();
    for (i, day) in notice.days.iter().enumerate() {
        v.text(&format!("days[{i}].name"), &day.name, 100);
    }
    for (i, paper) in notice.papers.iter().enumerate() {
        v.text(&format!("papers[{i}]"), paper, 500);
    }
    v.finish()?;
    let reason = format!("calendar: {} notice imported {via}", notice.year);
    // The notice settles its whole year (deadlines counted into it stop being provisional), and may
    // name days just outside it.
    let year_start = NaiveDate::from_ymd_opt(notice.year, 1, 1)
        .ok_or_else(|| AppError::validation("year", "is not a calendar year"))?;
    let year_end = NaiveDate::from_ymd_opt(notice.year, 12, 31).expect("the year has a 31 December");
    let window = ChangeWindow {
        agency_path: None,
        from: notice.days.iter().map(|d| d.date).min().map_or(year_start, |d| d.min(year_start)),
        to: notice.days.iter().map(|d| d.date).max().map_or(year_end, |d| d.max(year_end)),
    };
    change_and_recompute(conn, calendars, caller.user_id(), &reason, &window, |conn| {
        calendar::import_notice(conn, notice, via).map(|_| ())
    })
}

/// Adds a regime (administrators): a stricter local rule scoped to an agency in the caller's
/// scope, or a national amendment (global administrators). It governs cases registered from then on
/// whose receipt date it covers; registered cases keep their regime.
pub fn add_regime(
    conn: &mut DbConnection,
    caller: Caller<'_>,
    rules: &RegimeRules,
    agency: Option<&str>,
) -> Result<(), AppError> {
    let agency = match agency {
        None => {
            caller.require_global_admin("add a national regime")?;
            None
        }
        Some(code) => {
            caller.require_admin("add regimes")?;
            Some(in_scope(conn, caller, code, Named::InField("agency"))?)
        }
    };
    rules.validate()?;
    calendar::add_regime(conn, rules, agency.as_ref())
}

/// The calendar a change is for (the national one, or an agency's overlay), checked against the
/// caller's rights: its storage scope and how messages name it.
fn calendar_scope(
    conn: &mut DbConnection,
    caller: Caller<'_>,
    agency: Option<&str>,
) -> Result<CalendarScope, AppError> {
    match agency {
        None => {
            caller.require_global_admin("change the national calendar")?;
            Ok(CalendarScope { storage: NATIONAL.to_owned(), label: "national calendar".to_owned(), agency_path: None })
        }
        Some(code) => {
            caller.require_admin("change calendars")?;
            let agency = in_scope(conn, caller, code, Named::InPath)?;
            Ok(CalendarScope {
                storage: calendar::overlay_scope(&agency.code),
                label: format!("local calendar of {}", agency.code),
                agency_path: Some(agency.path),
            })
        }
    }
}

/// A calendar a change is for: its storage scope, how messages name it, and the agencies it applies
/// to (None: all).
struct CalendarScope {
    storage: String,
    label: String,
    agency_path: Option<String>,
}

/// Sets one day of the national calendar (`agency` None) or of an agency's overlay, which applies to
/// the agency and every agency below it; recomputes open deadlines.
pub fn set_day(
    conn: &mut DbConnection,
    calendars: &CalendarCache,
    caller: Caller<'_>,
    agency: Option<&str>,
    date: NaiveDate,
    is_off_day: bool,
    name: &str,
) -> Result<CalendarChange, AppError> {
    let mut v = crate::domain::validation::Validator::new();
    let name = v.text("name", name, 100);
    v.finish()?;
    if date < crate::domain::calendar::index_start() || date > crate::domain::calendar::index_end() {
        return Err(AppError::validation("date", "must be between 2000-01-01 and 2099-12-31"));
    }
    let day = DayException { date, is_off_day, name };
    let scope = calendar_scope(conn, caller, agency)?;
    let kind = if day.is_off_day { "day off" } else { "working day" };
    let reason = format!("calendar: {} sets {date} as a {kind} ({}) by {}", scope.label, day.name, caller.name());
    let origin = format!("edit by {}", caller.name());
    let window = ChangeWindow { agency_path: scope.agency_path.clone(), from: date, to: date };
    change_and_recompute(conn, calendars, caller.user_id(), &reason, &window, |conn| {
        calendar::set_day(conn, &scope.storage, &day, &origin)
    })
}

/// Removes one day's entry from the national calendar or an agency's overlay; recomputes open
/// deadlines.
pub fn clear_day(
    conn: &mut DbConnection,
    calendars: &CalendarCache,
    caller: Caller<'_>,
    agency: Option<&str>,
    date: NaiveDate,
) -> Result<CalendarChange, AppError> {
    let scope = calendar_scope(conn, caller, agency)?;
    let label = scope.label.clone();
    let reason = format!("calendar: {label} clears its entry for {date} by {}", caller.name());
    let window = ChangeWindow { agency_path: scope.agency_path.clone(), from: date, to: date };
    change_and_recompute(conn, calendars, caller.user_id(), &reason, &window, |conn| {
        if calendar::clear_day(conn, &scope.storage, date)? {
            Ok(())
        } else {
            Err(AppError::NotFound(format!("the {label} has no entry for {date}")))
        }
    })
}

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
    /// Open cases whose deadline the changed days could move (received by the last changed day, due
    /// on or after the first, or with a stopped clock), all recomputed; the others were not read.
    pub examined: usize,
    /// Open cases whose final deadline was recomputed to a different date or certainty.
    pub recomputed: Vec<MovedDeadline>,
}

/// The days a calendar change touches, and the agencies whose calendar it is (None: all).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeWindow {
    pub agency_path: Option<String>,
    pub from: NaiveDate,
    pub to: NaiveDate,
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
    window: &ChangeWindow,
    change: impl FnOnce(&mut DbConnection) -> Result<(), AppError>,
) -> Result<CalendarChange, AppError> {
    change(conn)?;
    let ids = cases::open_case_ids_in_window(conn, window.agency_path.as_deref(), window.from, window.to)?;
    let examined = ids.len();
    let recomputed = recompute_deadlines(conn, calendars, ids, reason, actor_id)?.into_iter().map(moved).collect();
    Ok(CalendarChange { detail: reason.to_owned(), examined, recomputed })
}

/// A deadline that a recomputation changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadlineMoved {
    pub tracking_number: String,
    pub before: DeadlineSummary,
    pub after: DeadlineSummary,
}

/// Recomputes the deadline of the cases `ids` (after a calendar change) and records each change as a
/// `deadline_set` event with the old and new dates and `reason`. Each case is updated in its own
/// transaction, guarded by its chain head so a concurrent change is never overwritten. Progress is
/// logged every thousand cases.
pub fn recompute_deadlines(
    conn: &mut DbConnection,
    calendars: &CalendarCache,
    ids: Vec<String>,
    reason: &str,
    actor_id: Option<&str>,
) -> Result<Vec<DeadlineMoved>, AppError> {
    use crate::domain::events::DeadlineChange;
    let today = crate::domain::china_date(chrono::Utc::now());
    let total = ids.len();
    let mut moved = Vec::new();
    let mut done = 0;
    // Read a page of cases and their clock events in two queries; only a case whose deadline changed
    // is written, in its own transaction.
    for page in ids.chunks(RECOMPUTE_PAGE) {
        for (record, clock) in cases::find_many_with_clocks(conn, page)? {
            done += 1;
            if done % 1000 == 0 {
                tracing::info!(done, total, moved = moved.len(), "recomputing deadlines after a calendar change");
            }
            let rules = calendars.rules(conn, Some(&record.agency_path))?;
            let regime = super::cases::regime(&rules, &record)?;
            let deadline = match crate::domain::deadline::compute(
                regime,
                &rules.calendar,
                record.row.received_on,
                &clock,
                today,
            ) {
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
                Ok(_) => moved.push(DeadlineMoved {
                    tracking_number: record.row.tracking_number,
                    before: view.deadline,
                    after,
                }),
                Err(AppError::PreconditionFailed(_)) => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(moved)
}

/// How many cases a recomputation reads at a time.
const RECOMPUTE_PAGE: usize = 500;
