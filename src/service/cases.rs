//! Reading cases: which a user may see, a case with what the user could do next, its event log,
//! and lists of cases by filter.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{NaiveDate, Utc};

use crate::db::calendar::{CalendarCache, Rules};
use crate::db::cases::{self, CaseFilter, CaseOrder, CaseRecord, EventRow};
use crate::db::DbConnection;
use crate::domain::calendar::WorkingDayIndex;
use crate::domain::case::{actions_now, Case};
use crate::domain::deadline::{ClockEvent, RegimeRules};
use crate::domain::intake::{email_key, id_number_key, phone_key, ApplicantKind, Channel};
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

/// The order of a case list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaseSort {
    /// Newest registration first (the default).
    #[default]
    Newest,
    /// Nearest final deadline first; cases without one (stopped clocks) last.
    Due,
    /// Latest receipt date first.
    Received,
    /// By tracking number.
    TrackingNumber,
}

/// What a case list asks for.
#[derive(Debug, Clone, Default)]
pub struct CaseQuery {
    /// An agency (code) in the caller's scope; None: the whole scope.
    pub agency: Option<String>,
    /// With `agency`: include the agencies below it.
    pub subtree: bool,
    /// Any of these states (empty: all).
    pub states: Vec<CaseState>,
    /// true: open cases only; false: closed only.
    pub open: Option<bool>,
    pub channel: Option<Channel>,
    pub applicant_kind: Option<ApplicantKind>,
    pub topic: Option<String>,
    pub received_from: Option<NaiveDate>,
    pub received_to: Option<NaiveDate>,
    pub closed_from: Option<NaiveDate>,
    pub closed_to: Option<NaiveDate>,
    /// Text in the description, the applicant's name or the tracking number.
    pub text: Option<String>,
    /// The applicant's phone, e-mail or ID number, matched exactly however it was typed.
    pub phone: Option<String>,
    pub email: Option<String>,
    pub id_number: Option<String>,
    /// Open cases past their final deadline today (true), or the others (false).
    pub overdue: Option<bool>,
    pub due_on_or_before: Option<NaiveDate>,
    /// Open cases whose final deadline is at most this many working days away (or past).
    pub due_within: Option<u32>,
    pub handler_id: Option<String>,
    pub sort: CaseSort,
    /// The position after which the page starts: `CasePage::next` of the previous page.
    pub after: Option<String>,
    /// Page size, 1-200.
    pub limit: i64,
    /// Also count every case the filters select.
    pub count: bool,
    /// With `count`: count no further than this (a total over it means "more than this").
    pub count_cap: Option<i64>,
}

/// A page of cases, each with the working-day calendar of its agency (for its timeliness).
#[derive(Debug)]
pub struct CasePage {
    pub cases: Vec<(CaseRecord, Arc<WorkingDayIndex>)>,
    /// Where the next page starts (None: this is the last page); opaque to clients.
    pub next: Option<String>,
    /// With `count`: how many cases the filters select in all.
    pub total: Option<i64>,
}

/// The position of a case in a list of the given order, as text (`CasePage::next`).
fn position(sort: CaseSort, row: &crate::db::rows::CaseRow) -> String {
    match sort {
        CaseSort::Newest => row.id.clone(),
        CaseSort::Due => {
            format!("due|{}|{}", row.final_due_on.map_or("-".to_owned(), |d| d.to_string()), row.id)
        }
        CaseSort::Received => format!("received|{}|{}", row.received_on, row.id),
        CaseSort::TrackingNumber => format!("number|{}", row.tracking_number),
    }
}

/// The keyset order for `sort`, starting after `after` (a position this service gave for that sort).
fn order(sort: CaseSort, after: Option<&str>) -> Result<CaseOrder, AppError> {
    let bad = || AppError::validation("cursor", "is not a cursor this service issued for this sort");
    let id = |text: &str| uuid::Uuid::parse_str(text).map(|u| u.to_string()).map_err(|_| bad());
    let date = |text: &str| NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| bad());
    Ok(match (sort, after) {
        (CaseSort::Newest, None) => CaseOrder::Newest { after_id: None },
        (CaseSort::Newest, Some(text)) => CaseOrder::Newest { after_id: Some(id(text)?) },
        (CaseSort::Due, None) => CaseOrder::Due { after: None },
        (CaseSort::Due, Some(text)) => {
            let [tag, due, case] = text.splitn(3, '|').collect::<Vec<_>>()[..] else { return Err(bad()) };
            if tag != "due" {
                return Err(bad());
            }
            let due = if due == "-" { None } else { Some(date(due)?) };
            CaseOrder::Due { after: Some((due, id(case)?)) }
        }
        (CaseSort::Received, None) => CaseOrder::Received { after: None },
        (CaseSort::Received, Some(text)) => {
            let [tag, on, case] = text.splitn(3, '|').collect::<Vec<_>>()[..] else { return Err(bad()) };
            if tag != "received" {
                return Err(bad());
            }
            CaseOrder::Received { after: Some((date(on)?, id(case)?)) }
        }
        (CaseSort::TrackingNumber, None) => CaseOrder::TrackingNumber { after: None },
        (CaseSort::TrackingNumber, Some(text)) => match text.split_once('|') {
            Some(("number", number)) if !number.is_empty() && number.len() <= 64 => {
                CaseOrder::TrackingNumber { after: Some(number.to_owned()) }
            }
            _ => return Err(bad()),
        },
    })
}

/// What `query` selects in `user`'s scope, checked: the storage filter and the list's order.
fn selection(
    conn: &mut DbConnection,
    calendars: &CalendarCache,
    user: &Principal,
    query: &CaseQuery,
) -> Result<(CaseFilter, CaseOrder), AppError> {
    if !(1..=200).contains(&query.limit) {
        return Err(AppError::validation("limit", "must be between 1 and 200"));
    }
    for (from, to, field) in
        [(query.received_from, query.received_to, "received_from"), (query.closed_from, query.closed_to, "closed_from")]
    {
        if let (Some(from), Some(to)) = (from, to) {
            if from > to {
                return Err(AppError::validation(field, "must not be after the end of the range"));
            }
        }
    }
    let text = query.text.as_deref().map(str::trim).filter(|q| !q.is_empty()).map(str::to_owned);
    if let Some(q) = &text {
        if q.chars().count() > 200 || q.contains('\0') {
            return Err(AppError::validation("q", "must be at most 200 characters, without NUL"));
        }
        if crate::domain::search::query_terms(q).is_none() {
            return Err(AppError::validation(
                "q",
                "needs two letters or digits in a row, or one Chinese character, to search for",
            ));
        }
    }
    let identity = [&query.phone, &query.email, &query.id_number];
    if identity.iter().any(|v| v.is_some()) && !user.role.sees_personal_data() {
        return Err(AppError::Forbidden(format!(
            "the {} role does not see applicants' personal data, so cannot search by it",
            user.role
        )));
    }
    let key = |value: &Option<String>, normalise: fn(&str) -> Option<String>, field: &str| {
        value
            .as_deref()
            .map(|v| normalise(v).ok_or_else(|| AppError::validation(field, "has nothing to search for")))
            .transpose()
    };
    let order = order(query.sort, query.after.as_deref())?;
    let today = crate::domain::china_date(Utc::now());
    let mut filter = CaseFilter {
        states: query.states.clone(),
        open: query.open,
        channel: query.channel,
        applicant_kind: query.applicant_kind,
        topic: query.topic.clone(),
        received_from: query.received_from,
        received_to: query.received_to,
        closed_from: query.closed_from,
        closed_to: query.closed_to,
        text,
        phone_key: key(&query.phone, phone_key, "phone")?,
        email_key: key(&query.email, email_key, "email")?,
        id_number_key: key(&query.id_number, id_number_key, "id_number")?,
        overdue_on: query.overdue.map(|o| (o, today)),
        due_on_or_before: query.due_on_or_before,
        handler_id: query.handler_id.clone(),
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
    if let Some(days) = query.due_within {
        if days > 60 {
            return Err(AppError::validation("due_within", "must be at most 60 working days"));
        }
        // Counted on the calendar of the agency listed (or of the caller's scope).
        let path = filter.agency_exact.clone().or_else(|| filter.agency_path.clone());
        let rules = calendars.rules(conn, path.as_deref())?;
        let last = rules.calendar.add_working_days(today, days).map_err(AppError::internal)?.date;
        filter.open = Some(true);
        filter.due_on_or_before = Some(filter.due_on_or_before.map_or(last, |d| d.min(last)));
    }
    Ok((filter, order))
}

/// How many cases in `user`'s scope match `query` (its page size and order aside), counted no further
/// than `query.count_cap` when set.
pub fn count(
    conn: &mut DbConnection,
    calendars: &CalendarCache,
    user: &Principal,
    query: &CaseQuery,
) -> Result<i64, AppError> {
    let (filter, _) = selection(conn, calendars, user, query)?;
    match query.count_cap {
        None => cases::count(conn, &filter),
        Some(cap) => cases::count_up_to(conn, &filter, cap),
    }
}

/// The cases in `user`'s scope that match `query`, one page in its order.
pub fn list(
    conn: &mut DbConnection,
    calendars: &CalendarCache,
    user: &Principal,
    query: CaseQuery,
) -> Result<CasePage, AppError> {
    let (filter, order) = selection(conn, calendars, user, &query)?;
    let total = match (query.count, query.count_cap) {
        (false, _) => None,
        (true, None) => Some(cases::count(conn, &filter)?),
        (true, Some(cap)) => Some(cases::count_up_to(conn, &filter, cap)?),
    };
    let mut records = cases::list(conn, &filter, &order, query.limit + 1)?;
    let more = records.len() as i64 > query.limit;
    records.truncate(query.limit as usize);
    let next = if more { records.last().map(|r| position(query.sort, &r.row)) } else { None };
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
    Ok(CasePage { cases: page, next, total })
}

/// The case with this tracking number, or imported under this original number of the office's
/// ledger, if `user` may see it (404 otherwise).
pub fn by_number(conn: &mut DbConnection, user: &Principal, number: &str) -> Result<CaseRecord, AppError> {
    let number = number.trim();
    if let Some(record) = cases::find_by_number(conn, number)?.filter(|record| user.covers(&record.agency_path)) {
        return Ok(record);
    }
    cases::find_by_original_number(conn, number)?
        .into_iter()
        .find(|record| user.covers(&record.agency_path))
        .ok_or_else(|| AppError::NotFound(format!("no case numbered `{number}` in your scope")))
}
