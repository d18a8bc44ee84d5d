//! Reading cases: which a user may see, and a case with what the user could do next.

use chrono::Utc;

use crate::db::calendar::{CalendarCache, Rules};
use crate::db::cases::{self, CaseRecord};
use crate::db::DbConnection;
use crate::domain::case::{actions_now, Case};
use crate::domain::deadline::{ClockEvent, RegimeRules};
use crate::domain::role::Principal;
use crate::domain::workflow::Action;
use crate::error::AppError;

/// A case's version tag (its HTTP ETag): it changes whenever the case changes.
pub fn etag(record: &CaseRecord) -> String {
    format!("\"{}-{}\"", record.row.id, record.row.last_event_seq)
}

/// Checks a change's expected version (`If-Match`) against the case's current one: 428 when
/// missing, 412 when it names another version, so two concurrent changes never both succeed.
pub fn require_if_match(if_match: Option<&str>, current_etag: &str) -> Result<(), AppError> {
    let Some(value) = if_match else {
        return Err(AppError::PreconditionRequired(format!(
            "send If-Match with the case's current ETag ({current_etag}) so that concurrent changes cannot overwrite each other"
        )));
    };
    if value.split(',').any(|tag| tag.trim() == current_etag) {
        Ok(())
    } else {
        Err(AppError::PreconditionFailed(format!(
            "the case has changed (its ETag is now {current_etag}); read it again and retry"
        )))
    }
}

/// The case `id` if `user` may see it; 404 for unknown ids and for cases outside the user's scope
/// (so that ids of other agencies' cases are not confirmed).
pub fn visible(conn: &mut DbConnection, user: &Principal, id: &str) -> Result<CaseRecord, AppError> {
    let not_found = || AppError::NotFound(format!("no case with id `{id}`"));
    let id = uuid::Uuid::parse_str(id).map_err(|_| not_found())?.to_string();
    cases::find(conn, &id)?.filter(|record| user.covers(&record.agency_path)).ok_or_else(not_found)
}

/// The case `id` as `user` is about to change it: visible to the user (404 otherwise), with the
/// projection of its events, at the version the user last read (`if_match`).
pub fn for_change(
    conn: &mut DbConnection,
    user: &Principal,
    id: &str,
    if_match: Option<&str>,
) -> Result<(CaseRecord, Case), AppError> {
    let found = visible(conn, user, id)?;
    let (record, case) =
        cases::load(conn, &found.row.id)?.ok_or_else(|| AppError::NotFound("the case is gone".into()))?;
    require_if_match(if_match, &etag(&record))?;
    Ok((record, case))
}

/// The regime a case was registered under.
pub fn regime<'a>(rules: &'a Rules, record: &CaseRecord) -> Result<&'a RegimeRules, AppError> {
    rules
        .regime(&record.row.regime)
        .ok_or_else(|| AppError::Internal(format!("case {} has unknown regime {}", record.row.id, record.row.regime)))
}

/// A case as one user reads it: its row, its projection, and what the user could do next.
#[derive(Clone)]
pub struct CaseDetails {
    pub record: CaseRecord,
    pub case: Case,
    pub allowed_actions: Vec<Action>,
    /// The agency's rules (calendar and regimes) the case was judged by.
    pub rules: Rules,
}

/// Reads `record` in full for `user`.
pub fn details(
    conn: &mut DbConnection,
    calendars: &CalendarCache,
    user: &Principal,
    record: CaseRecord,
) -> Result<CaseDetails, AppError> {
    let rules = calendars.rules(conn, Some(&record.agency_path))?;
    let events = cases::events(conn, &record.row.id)?;
    let case = cases::project(&events)?;
    let clock = cases::clock_history(&events)?;
    let allowed_actions = allowed_actions(&record, &case, &clock, user, &rules)?;
    Ok(CaseDetails { record, case, allowed_actions, rules })
}

/// What `user` could do to the case now and succeed (`clock`: its clock events).
pub fn allowed_actions(
    record: &CaseRecord,
    case: &Case,
    clock: &[ClockEvent],
    user: &Principal,
    rules: &Rules,
) -> Result<Vec<Action>, AppError> {
    let regime = regime(rules, record)?;
    let today = crate::domain::china_date(Utc::now());
    Ok(actions_now(case, regime, &rules.calendar, clock, user.role, today))
}

/// What a repeat request's rules need of the case it names.
pub fn earlier_case(record: &CaseRecord) -> crate::domain::case::EarlierCase<'_> {
    let row = &record.row;
    crate::domain::case::EarlierCase {
        tracking_number: &row.tracking_number,
        state: row.state,
        received_on: row.received_on,
        closing: row.closed_as,
        served_on: row.served_on,
        transferred: row.transferred_to_case_id.is_some(),
    }
}
