//! Reading cases: which a user may see, a case with what the user could do next, its event log,
//! and lists of cases by filter.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{NaiveDate, Utc};

use crate::db::calendar::{CalendarCache, Rules};
use crate::db::cases::{self, CaseFilter, CaseRecord, EventRow};
use crate::db::DbConnection;
use crate::domain::calendar::WorkingDayIndex;
use crate::domain::case::{actions_now, Case};
use crate::domain::deadline::{ClockEvent, RegimeRules};
use crate::domain::intake::Channel;
use crate::domain::role::Principal;
use crate::domain::workflow::{Action, CaseState};
use crate::error::AppError;
use crate::service::directory::{agency_in_scope, Named};

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

/// The event log of a case `user` may see, oldest first.
pub fn events(conn: &mut DbConnection, user: &Principal, id: &str) -> Result<Vec<EventRow>, AppError> {
    let record = visible(conn, user, id)?;
    cases::events(conn, &record.row.id)
}

/// What a case list asks for.
#[derive(Debug, Clone, Default)]
pub struct CaseQuery {
    /// An agency (code) in the caller's scope; None: the whole scope.
    pub agency: Option<String>,
    /// With `agency`: include the agencies below it.
    pub subtree: bool,
    pub state: Option<CaseState>,
    pub channel: Option<Channel>,
    pub received_from: Option<NaiveDate>,
    pub received_to: Option<NaiveDate>,
    /// Text in the description or the applicant's name.
    pub text: Option<String>,
    /// Open cases past their final deadline today (true), or the others (false).
    pub overdue: Option<bool>,
    pub due_on_or_before: Option<NaiveDate>,
    pub handler_id: Option<String>,
    /// Only cases listed after this one (the list runs newest first).
    pub after_id: Option<String>,
    /// Page size, 1-200.
    pub limit: i64,
}

/// A page of cases, each with the working-day calendar of its agency (for its timeliness).
#[derive(Debug)]
pub struct CasePage {
    pub cases: Vec<(CaseRecord, Arc<WorkingDayIndex>)>,
    /// Whether more cases follow the last one.
    pub more: bool,
}

/// The cases in `user`'s scope that match `query`, newest first, one page.
pub fn list(
    conn: &mut DbConnection,
    calendars: &CalendarCache,
    user: &Principal,
    query: CaseQuery,
) -> Result<CasePage, AppError> {
    if !(1..=200).contains(&query.limit) {
        return Err(AppError::validation("limit", "must be between 1 and 200"));
    }
    if let (Some(from), Some(to)) = (query.received_from, query.received_to) {
        if from > to {
            return Err(AppError::validation("received_from", "must not be after received_to"));
        }
    }
    let text = query.text.as_deref().map(str::trim).filter(|q| !q.is_empty()).map(str::to_owned);
    if let Some(q) = &text {
        if q.chars().count() > 200 || q.contains('\0') {
            return Err(AppError::validation("q", "must be at most 200 characters, without NUL"));
        }
    }
    let mut filter = CaseFilter {
        state: query.state,
        channel: query.channel,
        received_from: query.received_from,
        received_to: query.received_to,
        text,
        overdue_on: query.overdue.map(|o| (o, crate::domain::china_date(Utc::now()))),
        due_on_or_before: query.due_on_or_before,
        handler_id: query.handler_id,
        before_id: query.after_id,
        limit: query.limit + 1,
        ..CaseFilter::default()
    };
    match &query.agency {
        Some(code) => {
            let agency = agency_in_scope(conn, user, code, Named::InField("agency"))?;
            if query.subtree {
                filter.agency_path = Some(agency.path);
            } else {
                filter.agency_exact = Some(agency.path);
            }
        }
        None => filter.agency_path = user.scope_path().map(str::to_owned),
    }
    let mut records = cases::list(conn, &filter)?;
    let more = records.len() as i64 > query.limit;
    records.truncate(query.limit as usize);
    let mut by_agency: HashMap<String, Arc<WorkingDayIndex>> = HashMap::new();
    let mut page = Vec::with_capacity(records.len());
    for record in records {
        if !by_agency.contains_key(&record.agency_path) {
            let rules = calendars.rules(conn, Some(&record.agency_path))?;
            by_agency.insert(record.agency_path.clone(), rules.calendar);
        }
        let calendar = by_agency[&record.agency_path].clone();
        page.push((record, calendar));
    }
    Ok(CasePage { cases: page, more })
}
