//! Cases: registration (numbering, event log, idempotent retries), reads and keyset listing.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Integer, Text};

use super::agencies::AgencyRow;
use super::corrupt;
use super::locks::{self, Author};
pub use super::rows::{AppealRow, CaseRow, EventRow};
use super::schema::{agencies, case_appeals, case_events, cases, idempotency_keys};
use super::{is_unique_violation, now, DbConnection, TxError};
use crate::domain::calendar::WorkingDayIndex;
use crate::domain::case::{register as registration_events, Case};
use crate::domain::deadline::{ClockEvent, RegimeRules};
use crate::domain::events::{
    first_broken_link, CaseEvent, ChainLink, ClockRecord, DeadlineSummary, WorkflowRecord, GENESIS_HASH,
};
use crate::domain::intake::{
    email_key, id_number_key, phone_key, Applicant, Channel, DeliveryForm, Intake, ReceiptBasis,
};
use crate::domain::outcome::Outcome;
use crate::domain::role::Principal;
use crate::domain::search::{case_terms, query_terms};
use crate::domain::workflow::CaseState;
use crate::domain::workflow::{Action, ServiceMethod, WorkflowEvent};
use crate::error::AppError;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = idempotency_keys)]
struct IdempotencyRow {
    user_id: String,
    idempotency_key: String,
    request_hash: String,
    status_code: i32,
    response_body: String,
    created_at: chrono::NaiveDateTime,
    response_location: Option<String>,
    response_etag: Option<String>,
}

/// A case row with the code and path of its agency.
#[derive(Debug, Clone)]
pub struct CaseRecord {
    pub row: CaseRow,
    pub agency_code: String,
    pub agency_path: String,
}

/// The typed view of a stored case (what the projection says), for rendering.
#[derive(Debug, Clone)]
pub struct CaseView {
    pub id: String,
    pub agency: String,
    pub tracking_number: String,
    pub state: CaseState,
    pub regime: String,
    pub deadline: DeadlineSummary,
    pub channel: Channel,
    pub arrived_at: DateTime<Utc>,
    pub received_on: NaiveDate,
    pub receipt_basis: ReceiptBasis,
    pub receipt_evidence: Option<String>,
    pub applicant: Applicant,
    pub description: String,
    pub delivery_form: DeliveryForm,
    pub topic: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
    pub handler_id: Option<String>,
    pub outcome: Option<Outcome>,
    pub draft_outcome: Option<Outcome>,
    pub served_on: Option<NaiveDate>,
    pub service_method: Option<ServiceMethod>,
    pub transferred_to: Option<String>,
    pub transferred_from: Option<String>,
    pub fee_charged_fen: i64,
    pub fee_waived_fen: i64,
    pub fee_payment: Option<crate::domain::fees::FeePayment>,
    pub re_replies: Vec<crate::domain::workflow::ReReply>,
}

impl CaseRecord {
    pub fn view(&self) -> Result<CaseView, AppError> {
        let r = &self.row;
        Ok(CaseView {
            id: r.id.clone(),
            agency: self.agency_code.clone(),
            tracking_number: r.tracking_number.clone(),
            state: r.state,
            regime: r.regime.clone(),
            deadline: DeadlineSummary {
                due_on: r.due_on,
                final_due_on: r.final_due_on,
                provisional: r.deadline_provisional,
                closed_on: r.closed_on,
                closed_as: r.closed_as,
                stop_ends_on: r.stop_ends_on,
            },
            channel: r.channel,
            arrived_at: r.arrived_at.and_utc(),
            received_on: r.received_on,
            receipt_basis: r.receipt_basis,
            receipt_evidence: r.receipt_evidence.clone(),
            applicant: Applicant {
                kind: r.applicant_kind,
                name: r.applicant_name.clone(),
                id_number: r.applicant_id_number.clone(),
                phone: r.applicant_phone.clone(),
                email: r.applicant_email.clone(),
                address: r.applicant_address.clone(),
            },
            description: r.description.clone(),
            delivery_form: r.delivery_form,
            topic: r.topic.clone(),
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
            version: r.last_event_seq,
            handler_id: r.handler_id.clone(),
            outcome: match r.outcome {
                Some(kind) => Some(
                    Outcome::from_columns(
                        kind,
                        r.outcome_reason.as_deref(),
                        r.already_public,
                        r.repeat_of_case_id.as_deref(),
                        r.repeat_of_earlier
                            .as_deref()
                            .map(|json| serde_json::from_str(json).map_err(|_| corrupt("earlier request", json)))
                            .transpose()?,
                    )
                    .ok_or_else(|| corrupt("outcome reason", r.outcome_reason.as_deref().unwrap_or("")))?,
                ),
                None => None,
            },
            draft_outcome: r
                .draft_outcome
                .as_deref()
                .map(|json| serde_json::from_str(json).map_err(|_| corrupt("draft outcome", json)))
                .transpose()?,
            served_on: r.served_on,
            service_method: r.service_method,
            transferred_to: r.transferred_to_case_id.clone(),
            transferred_from: r.transferred_from_case_id.clone(),
            fee_charged_fen: r.fee_charged_fen,
            fee_waived_fen: r.fee_waived_fen,
            fee_payment: r.fee_paid_on.map(|on| crate::domain::fees::FeePayment {
                on,
                amount_fen: r.fee_paid_fen,
                receipt_number: r.fee_receipt_number.clone(),
            }),
            re_replies: match &r.re_replies {
                Some(json) => serde_json::from_str(json).map_err(|_| corrupt("new replies", json))?,
                None => Vec::new(),
            },
        })
    }
}

/// The columns of a case row that its events do not determine.
struct Bookkeeping {
    id: String,
    agency_id: String,
    created_by: String,
    created_at: chrono::NaiveDateTime,
    updated_at: chrono::NaiveDateTime,
}

impl Bookkeeping {
    fn of(row: &CaseRow) -> Bookkeeping {
        Bookkeeping {
            id: row.id.clone(),
            agency_id: row.agency_id.clone(),
            created_by: row.created_by.clone(),
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// The case row: the projection of the events up to `head`, plus bookkeeping.
fn project_row(case: &Case, book: Bookkeeping, head: &EventRow) -> Result<CaseRow, AppError> {
    let registration =
        case.registration.as_ref().ok_or_else(|| AppError::Internal("a stored case must be registered".into()))?;
    Ok(CaseRow {
        id: book.id,
        agency_id: book.agency_id,
        tracking_number: registration.tracking_number.clone(),
        tracking_year: registration.tracking_year,
        tracking_seq: registration.tracking_seq,
        state: case.state,
        regime: registration.regime.clone(),
        channel: case.channel,
        arrived_at: case.arrived_at.naive_utc(),
        received_on: case.received_on,
        receipt_basis: case.receipt_basis,
        receipt_evidence: case.receipt_evidence.clone(),
        applicant_kind: case.applicant.kind,
        applicant_name: case.applicant.name.clone(),
        applicant_id_number: case.applicant.id_number.clone(),
        applicant_phone: case.applicant.phone.clone(),
        applicant_email: case.applicant.email.clone(),
        applicant_address: case.applicant.address.clone(),
        description: case.description.clone(),
        delivery_form: case.delivery_form,
        topic: case.topic.clone(),
        created_by: book.created_by,
        created_at: book.created_at,
        updated_at: book.updated_at,
        last_event_seq: head.seq,
        last_event_hash: head.hash.clone(),
        due_on: case.deadline.due_on,
        final_due_on: case.deadline.final_due_on,
        deadline_provisional: case.deadline.provisional,
        closed_on: case.deadline.closed_on,
        closed_as: case.deadline.closed_as,
        handler_id: case.handler_id.clone(),
        outcome: case.outcome.as_ref().map(Outcome::kind),
        outcome_reason: case.outcome.as_ref().and_then(|o| o.reason()).map(str::to_owned),
        already_public: case.outcome.as_ref().is_some_and(Outcome::already_public),
        repeat_of_case_id: match &case.outcome {
            Some(Outcome::NotProcessed { repeat_of, .. }) => repeat_of.clone(),
            _ => None,
        },
        draft_outcome: case.draft.as_ref().map(|o| serde_json::to_string(o).expect("outcomes serialize")),
        served_on: case.served_on,
        service_method: case.service_method,
        transferred_to_case_id: case.transferred_to.clone(),
        transferred_from_case_id: registration.transferred_from.clone(),
        fee_charged_fen: case.fee.as_ref().map_or(0, |f| f.charged_fen),
        fee_waived_fen: case.fee.as_ref().map_or(0, |f| f.waived_fen),
        stop_ends_on: case.deadline.stop_ends_on,
        fee_paid_fen: case.fee_payment.as_ref().map_or(0, |p| p.amount_fen),
        fee_paid_on: case.fee_payment.as_ref().map(|p| p.on),
        fee_receipt_number: case.fee_payment.as_ref().and_then(|p| p.receipt_number.clone()),
        // A waiver recorded before decision dates were kept counts when the case closed.
        fee_waived_on: case
            .fee
            .as_ref()
            .filter(|f| f.waived_fen > 0)
            .and_then(|f| f.assessed_on.or(case.deadline.closed_on)),
        re_replies: if case.re_replies.is_empty() {
            None
        } else {
            Some(serde_json::to_string(&case.re_replies).map_err(AppError::internal)?)
        },
        re_replied_on: case.re_replies.iter().filter_map(|r| r.served_on).max(),
        repeat_of_earlier: match &case.outcome {
            Some(Outcome::NotProcessed { repeat_of_earlier: Some(earlier), .. }) => {
                Some(serde_json::to_string(earlier).map_err(AppError::internal)?)
            }
            _ => None,
        },
        applicant_phone_key: case.applicant.phone.as_deref().and_then(phone_key),
        applicant_email_key: case.applicant.email.as_deref().and_then(email_key),
        applicant_id_number_key: case.applicant.id_number.as_deref().and_then(id_number_key),
        search_terms: case_terms(&case.description, &case.applicant.name, &registration.tracking_number),
    })
}

/// Rebuilds a case row from its stored events, as the projection defines it, keeping `current`'s
/// bookkeeping. Equal to `current` unless the row and its log disagree.
pub fn rebuild_row(current: &CaseRow, events: &[EventRow]) -> Result<CaseRow, AppError> {
    let case = project(events)?;
    let head = events.last().ok_or_else(|| AppError::Internal(format!("case {} has no events", current.id)))?;
    project_row(&case, Bookkeeping::of(current), head)
}

/// The case its stored events describe.
pub fn project(events: &[EventRow]) -> Result<Case, AppError> {
    let decoded = events
        .iter()
        .map(|e| CaseEvent::from_stored(&e.kind, &e.payload).map_err(AppError::internal))
        .collect::<Result<Vec<_>, _>>()?;
    Case::from_events(&decoded).map_err(AppError::internal)
}

/// The appeal rows the events of a case describe.
pub fn rebuild_appeals(case_id: &str, events: &[EventRow]) -> Result<Vec<AppealRow>, AppError> {
    Ok(project(events)?.appeals.iter().map(|a| AppealRow::of(case_id, a)).collect())
}

/// The stored appeal rows of a case, by number.
/// The appeals of several cases, by case id, each case's in order.
pub fn appeals_of(
    conn: &mut DbConnection,
    case_ids: &[String],
) -> Result<std::collections::HashMap<String, Vec<AppealRow>>, AppError> {
    let mut by_case: std::collections::HashMap<String, Vec<AppealRow>> = std::collections::HashMap::new();
    if case_ids.is_empty() {
        return Ok(by_case);
    }
    let rows: Vec<AppealRow> = case_appeals::table
        .filter(case_appeals::case_id.eq_any(case_ids))
        .order((case_appeals::case_id.asc(), case_appeals::number.asc()))
        .select(AppealRow::as_select())
        .load(conn)?;
    for row in rows {
        by_case.entry(row.case_id.clone()).or_default().push(row);
    }
    Ok(by_case)
}

pub fn appeals(conn: &mut DbConnection, case_id: &str) -> Result<Vec<AppealRow>, AppError> {
    Ok(case_appeals::table
        .filter(case_appeals::case_id.eq(case_id))
        .order(case_appeals::number.asc())
        .select(AppealRow::as_select())
        .load(conn)?)
}

/// A case row with the full projection of its events (what the workflow rules need), read together.
pub fn load(conn: &mut DbConnection, id: &str) -> Result<Option<(CaseRecord, Case)>, AppError> {
    let Some(record) = find(conn, id)? else { return Ok(None) };
    let history = events(conn, id)?;
    if history.last().map(|h| h.seq) != Some(record.row.last_event_seq) {
        return Err(changed_meanwhile(&record));
    }
    let case = project(&history)?;
    Ok(Some((record, case)))
}

/// How many requests the case's applicant made to its agency in the calendar month of its receipt
/// date, up to and including this one (国办函〔2020〕109号: fees and Art. 35 screening count per
/// applicant per month). The applicant is identified by ID number when one was given, else by name.
pub fn applicant_requests_in_month(conn: &mut DbConnection, row: &CaseRow) -> Result<i64, AppError> {
    use chrono::Datelike;
    let first = row.received_on.with_day(1).expect("day 1 exists");
    let next = if first.month() == 12 {
        NaiveDate::from_ymd_opt(first.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(first.year(), first.month() + 1, 1)
    }
    .expect("valid month");
    let mut query = cases::table
        .filter(cases::agency_id.eq(&row.agency_id))
        // A voided duplicate is not another request.
        .filter(cases::state.ne(CaseState::Voided))
        .filter(cases::received_on.ge(first))
        .filter(cases::received_on.lt(next))
        .filter(
            cases::received_on
                .lt(row.received_on)
                .or(cases::received_on.eq(row.received_on).and(cases::id.le(&row.id))),
        )
        .into_boxed();
    query = match &row.applicant_id_number {
        Some(id_number) => query.filter(cases::applicant_id_number.eq(id_number.clone())),
        None => query
            .filter(cases::applicant_id_number.is_null())
            .filter(cases::applicant_name.eq(row.applicant_name.clone())),
    };
    Ok(query.count().get_result(conn)?)
}

#[derive(QueryableByName)]
struct CounterValue {
    #[diesel(sql_type = Integer)]
    last_value: i32,
}

/// The next tracking sequence for (agency, year). Runs inside the registration transaction, so a
/// rolled-back registration gives its number back: numbers stay gap-free. As the transaction's
/// first write it takes the row lock (PostgreSQL) or the write lock (SQLite) that serializes
/// concurrent registrations for the same agency and year.
fn next_tracking_seq(conn: &mut DbConnection, agency_id: &str, year: i32) -> QueryResult<i32> {
    const UPSERT: &str = "INSERT INTO tracking_counters (agency_id, year, last_value) VALUES ({1}, {2}, 1) \
         ON CONFLICT (agency_id, year) DO UPDATE SET last_value = tracking_counters.last_value + 1 \
         RETURNING last_value";
    let value = match conn {
        DbConnection::Postgres(c) => diesel::sql_query(UPSERT.replace("{1}", "$1").replace("{2}", "$2"))
            .bind::<Text, _>(agency_id)
            .bind::<Integer, _>(year)
            .get_result::<CounterValue>(c)?,
        DbConnection::Sqlite(c) => diesel::sql_query(UPSERT.replace("{1}", "?").replace("{2}", "?"))
            .bind::<Text, _>(agency_id)
            .bind::<Integer, _>(year)
            .get_result::<CounterValue>(c)?,
    };
    Ok(value.last_value)
}

/// Takes `count` tracking numbers at once for (agency, year): the first of them (the block is the
/// next `count` numbers, gap-free as one registration's is).
fn next_tracking_block(conn: &mut DbConnection, agency_id: &str, year: i32, count: i32) -> QueryResult<i32> {
    const UPSERT: &str = "INSERT INTO tracking_counters (agency_id, year, last_value) VALUES ({1}, {2}, {3}) \
         ON CONFLICT (agency_id, year) DO UPDATE SET last_value = tracking_counters.last_value + {3} \
         RETURNING last_value";
    let value = match conn {
        DbConnection::Postgres(c) => {
            diesel::sql_query(UPSERT.replace("{1}", "$1").replace("{2}", "$2").replace("{3}", "$3"))
                .bind::<Text, _>(agency_id)
                .bind::<Integer, _>(year)
                .bind::<Integer, _>(count)
                .get_result::<CounterValue>(c)?
        }
        // SQLite numbers its parameters as they stand: `?3` twice is one value.
        DbConnection::Sqlite(c) => {
            diesel::sql_query(UPSERT.replace("{1}", "?1").replace("{2}", "?2").replace("{3}", "?3"))
                .bind::<Text, _>(agency_id)
                .bind::<Integer, _>(year)
                .bind::<Integer, _>(count)
                .get_result::<CounterValue>(c)?
        }
    };
    Ok(value.last_value - count + 1)
}

/// The stored form of new events for a case, each chained to its predecessor's hash. Pure: the
/// caller inserts them, so the case row can carry the chain head without a second write.
fn chain_events(
    case_id: &str,
    after: Option<(i32, &str)>,
    events: &[CaseEvent],
    actor_id: Option<&str>,
    at: chrono::NaiveDateTime,
) -> Vec<EventRow> {
    let (mut seq, mut prev_hash) = after.map(|(s, h)| (s, h.to_owned())).unwrap_or((0, GENESIS_HASH.to_owned()));
    let mut rows = Vec::with_capacity(events.len());
    for event in events {
        seq += 1;
        let payload = event.payload_json();
        let hash = ChainLink {
            case_id,
            seq,
            kind: event.kind(),
            payload: &payload,
            actor_id,
            occurred_at: at.and_utc(),
            prev_hash: &prev_hash,
        }
        .hash();
        rows.push(EventRow {
            id: uuid::Uuid::now_v7().to_string(),
            case_id: case_id.to_owned(),
            seq,
            kind: event.kind().to_owned(),
            payload,
            actor_id: actor_id.map(str::to_owned),
            occurred_at: at,
            prev_hash: std::mem::replace(&mut prev_hash, hash.clone()),
            hash,
        });
    }
    rows
}

fn insert_events(conn: &mut DbConnection, rows: &[EventRow]) -> QueryResult<()> {
    // One statement per row: multi-row inserts differ between the backends.
    for row in rows {
        diesel::insert_into(case_events::table).values(row).execute(conn)?;
    }
    Ok(())
}

/// A client's Idempotency-Key and a digest of the request it came with.
#[derive(Debug, Clone)]
pub struct IdempotencyRequest {
    pub key: String,
    pub request_hash: String,
}

pub enum Registered {
    /// A new case, and the response stored for retries.
    Created { record: Box<CaseRecord>, response: StoredResponse },
    /// A retry: the first response, unchanged.
    Replayed(StoredResponse),
}

/// A registration's response as first sent: status, body and the headers a retry must repeat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub body: String,
    pub location: Option<String>,
    pub etag: Option<String>,
}

/// What a registration needs besides the actor: the intake, its agency, and the rules in force.
pub struct NewCase<'a> {
    pub agency: &'a AgencyRow,
    pub intake: Intake,
    /// The regime governing the receipt date.
    pub regime: &'a RegimeRules,
    /// The agency's working-day calendar.
    pub calendar: &'a WorkingDayIndex,
    /// The case at another agency this request was transferred from.
    pub transferred_from: Option<String>,
}

/// Writes a new registration: numbers the intake, writes its events and the case row (their
/// projection). Call it inside the caller's transaction (a rolled-back registration gives its number
/// back, so numbers stay gap-free).
pub fn insert_registration(
    conn: &mut DbConnection,
    actor: &Principal,
    lock_override: Option<&str>,
    new: NewCase<'_>,
) -> Result<(CaseRecord, Case), AppError> {
    let NewCase { agency, intake, regime, calendar, transferred_from } = new;
    let year = chrono::Datelike::year(&intake.received_on);
    let seq = next_tracking_seq(conn, &agency.id, year)?;
    let mut events = registration_events(intake, &agency.code, seq, regime, calendar)
        .map_err(|e| AppError::validation("received_on", e.to_string()))?;
    if let CaseEvent::Registered(registration) = &mut events[1] {
        registration.transferred_from = transferred_from;
    }
    let case = Case::from_events(&events).map_err(AppError::internal)?;
    let at = now();
    let case_id = uuid::Uuid::now_v7().to_string();
    let event_rows = chain_events(&case_id, None, &events, Some(&actor.user_id), at);
    let head = event_rows.last().expect("registration has events");
    let book = Bookkeeping {
        id: case_id.clone(),
        agency_id: agency.id.clone(),
        created_by: actor.user_id.clone(),
        created_at: at,
        updated_at: at,
    };
    let row = project_row(&case, book, head)?;
    // The row first: its events reference it.
    diesel::insert_into(cases::table).values(&row).execute(conn)?;
    insert_events(conn, &event_rows)?;
    let author = Author { user_id: Some(&actor.user_id), lock_override };
    let after = locks::facts(&row, &[]);
    locks::guard(conn, &agency.path, &row.id, |_| Ok(None), after.as_ref(), &author, "registered")?;
    Ok((CaseRecord { row, agency_code: agency.code.clone(), agency_path: agency.path.clone() }, case))
}

/// Where an imported case came from: the office's number, the row's content hash, the file and row.
pub struct ImportedRow<'a> {
    pub original_number: Option<&'a str>,
    pub content_hash: &'a str,
    pub file_sha256: &'a str,
    pub row_number: i32,
}

/// Builds an imported case's history from its registration's events.
pub type HistoryBuilder<'a> = Box<dyn FnOnce(&[CaseEvent]) -> Result<Vec<CaseEvent>, AppError> + 'a>;

/// One case of an import batch: its intake and regime, the history its registration leads to, and
/// the row it came from.
pub struct ImportItem<'a> {
    pub intake: Intake,
    pub regime: &'a RegimeRules,
    pub later: HistoryBuilder<'a>,
    pub imported: ImportedRow<'a>,
}

/// Rows per multi-row INSERT (within both backends' limits on bound parameters).
const CASES_PER_INSERT: usize = 200;
const EVENTS_PER_INSERT: usize = 2_000;

/// Writes a batch of cases imported from a ledger: numbers each intake (a block of tracking numbers
/// per year), writes its registration and the history its `later` builds (the ledger's business
/// dates), the case rows and appeals (their projection) and the records of the rows they came from,
/// with multi-row inserts. Call it inside the caller's transaction (a rolled-back batch gives its
/// numbers back).
pub fn insert_imported_batch(
    conn: &mut DbConnection,
    agency: &AgencyRow,
    actor_id: &str,
    calendar: &WorkingDayIndex,
    items: Vec<ImportItem<'_>>,
) -> Result<usize, AppError> {
    use super::schema::imported_rows;
    let mut per_year: std::collections::BTreeMap<i32, i32> = std::collections::BTreeMap::new();
    for item in &items {
        *per_year.entry(chrono::Datelike::year(&item.intake.received_on)).or_default() += 1;
    }
    let mut next_seq = std::collections::BTreeMap::new();
    for (year, count) in per_year {
        next_seq.insert(year, next_tracking_block(conn, &agency.id, year, count)?);
    }
    let at = now();
    let (mut case_rows, mut event_rows, mut appeal_rows, mut import_rows) = (vec![], vec![], vec![], vec![]);
    let locks = locks::covering(conn, &agency.path)?;
    for item in items {
        let year = chrono::Datelike::year(&item.intake.received_on);
        let seq = next_seq.get_mut(&year).expect("counted");
        let mut events = registration_events(item.intake, &agency.code, *seq, item.regime, calendar)
            .map_err(|e| AppError::validation("received_on", e.to_string()))?
            .to_vec();
        *seq += 1;
        events.extend((item.later)(&events)?);
        let case = Case::from_events(&events).map_err(|e| AppError::validation("row", e.to_string()))?;
        let case_id = uuid::Uuid::now_v7().to_string();
        let chained = chain_events(&case_id, None, &events, Some(actor_id), at);
        let book = Bookkeeping {
            id: case_id.clone(),
            agency_id: agency.id.clone(),
            created_by: actor_id.to_owned(),
            created_at: at,
            updated_at: at,
        };
        let row = project_row(&case, book, chained.last().expect("registration has events"))?;
        let appeals: Vec<AppealRow> = case.appeals.iter().map(|a| AppealRow::of(&case_id, a)).collect();
        if !locks.is_empty() {
            let author = Author { user_id: Some(actor_id), lock_override: None };
            let after = locks::facts(&row, &appeals);
            locks::guard(conn, &agency.path, &row.id, |_| Ok(None), after.as_ref(), &author, "imported")?;
        }
        event_rows.extend(chained);
        appeal_rows.extend(appeals);
        import_rows.push((
            imported_rows::case_id.eq(case_id),
            imported_rows::agency_id.eq(agency.id.clone()),
            imported_rows::original_number.eq(item.imported.original_number.map(str::to_owned)),
            imported_rows::content_hash.eq(item.imported.content_hash.to_owned()),
            imported_rows::file_sha256.eq(item.imported.file_sha256.to_owned()),
            imported_rows::row_number.eq(item.imported.row_number),
            imported_rows::imported_at.eq(at),
        ));
        case_rows.push(row);
    }
    let written = case_rows.len();
    macro_rules! insert_all {
        ($table:expr, $rows:expr, $per:expr) => {
            for chunk in $rows.chunks($per) {
                match conn {
                    DbConnection::Postgres(c) => diesel::insert_into($table).values(chunk).execute(c)?,
                    DbConnection::Sqlite(c) => diesel::insert_into($table).values(chunk).execute(c)?,
                };
            }
        };
    }
    insert_all!(cases::table, case_rows, CASES_PER_INSERT);
    insert_all!(case_events::table, event_rows, EVENTS_PER_INSERT);
    insert_all!(case_appeals::table, appeal_rows, EVENTS_PER_INSERT);
    insert_all!(imported_rows::table, import_rows, EVENTS_PER_INSERT);
    Ok(written)
}

/// The rows of `agency` imported before: their original numbers and content hashes.
pub fn imported_keys(
    conn: &mut DbConnection,
    agency_id: &str,
) -> Result<(std::collections::HashSet<String>, std::collections::HashSet<String>), AppError> {
    use super::schema::imported_rows;
    let rows: Vec<(Option<String>, String)> = imported_rows::table
        .filter(imported_rows::agency_id.eq(agency_id))
        .select((imported_rows::original_number, imported_rows::content_hash))
        .load(conn)?;
    let mut numbers = std::collections::HashSet::new();
    let mut hashes = std::collections::HashSet::new();
    for (number, hash) in rows {
        numbers.extend(number);
        hashes.insert(hash);
    }
    Ok((numbers, hashes))
}

/// The response first given to `user_id`'s request under `key`, if any, with the digest of that
/// request's body.
pub fn find_idempotent(
    conn: &mut DbConnection,
    user_id: &str,
    key: &str,
) -> QueryResult<Option<(String, StoredResponse)>> {
    let stored = idempotency_keys::table
        .filter(idempotency_keys::user_id.eq(user_id))
        .filter(idempotency_keys::idempotency_key.eq(key))
        .select(IdempotencyRow::as_select())
        .first(conn)
        .optional()?;
    Ok(stored.map(|s| {
        let response = StoredResponse {
            status: s.status_code as u16,
            body: s.response_body,
            location: s.response_location,
            etag: s.response_etag,
        };
        (s.request_hash, response)
    }))
}

/// Keeps the response to `user_id`'s request under its Idempotency-Key, for retries. A concurrent
/// retry that stored one first makes this a unique violation.
pub fn store_idempotent(
    conn: &mut DbConnection,
    user_id: &str,
    request: &IdempotencyRequest,
    response: &StoredResponse,
) -> QueryResult<()> {
    diesel::insert_into(idempotency_keys::table)
        .values(&IdempotencyRow {
            user_id: user_id.to_owned(),
            idempotency_key: request.key.clone(),
            request_hash: request.request_hash.clone(),
            status_code: i32::from(response.status),
            response_body: response.body.clone(),
            created_at: now(),
            response_location: response.location.clone(),
            response_etag: response.etag.clone(),
        })
        .execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConnection, id: &str) -> Result<Option<CaseRecord>, AppError> {
    let found: Option<(CaseRow, String, String)> = cases::table
        .inner_join(agencies::table)
        .filter(cases::id.eq(id))
        .select((CaseRow::as_select(), agencies::code, agencies::path))
        .first(conn)
        .optional()?;
    Ok(found.map(|(row, agency_code, agency_path)| CaseRecord { row, agency_code, agency_path }))
}

/// The cases `ids` (those that exist), with the clock events of each, in two queries.
pub fn find_many_with_clocks(
    conn: &mut DbConnection,
    ids: &[String],
) -> Result<Vec<(CaseRecord, Vec<ClockEvent>)>, AppError> {
    let found: Vec<(CaseRow, String, String)> = cases::table
        .inner_join(agencies::table)
        .filter(cases::id.eq_any(ids))
        .select((CaseRow::as_select(), agencies::code, agencies::path))
        .load(conn)?;
    let rows: Vec<EventRow> = case_events::table
        .filter(case_events::case_id.eq_any(ids))
        .order((case_events::case_id.asc(), case_events::seq.asc()))
        .select(EventRow::as_select())
        .load(conn)?;
    let mut clocks: std::collections::HashMap<String, Vec<ClockEvent>> = std::collections::HashMap::new();
    for row in &rows {
        let event = CaseEvent::from_stored(&row.kind, &row.payload).map_err(AppError::internal)?;
        if let Some(clock) = event.clock_event() {
            clocks.entry(row.case_id.clone()).or_default().push(clock);
        }
    }
    Ok(found
        .into_iter()
        .map(|(row, agency_code, agency_path)| {
            let clock = clocks.remove(&row.id).unwrap_or_default();
            (CaseRecord { row, agency_code, agency_path }, clock)
        })
        .collect())
}

pub fn events(conn: &mut DbConnection, case_id: &str) -> Result<Vec<EventRow>, AppError> {
    Ok(case_events::table
        .filter(case_events::case_id.eq(case_id))
        .order(case_events::seq.asc())
        .select(EventRow::as_select())
        .load(conn)?)
}

/// Appends events to a case and updates its row to the projection of its whole history, in one
/// transaction guarded by the chain head the caller read: a concurrent change makes this a 412.
pub fn append(
    conn: &mut DbConnection,
    record: &CaseRecord,
    new: &[CaseEvent],
    author: &Author<'_>,
) -> Result<CaseRecord, AppError> {
    append_with(conn, record, new, author, |_| Ok(()))
}

/// `append`, with more writes in the same transaction (the content of an attached file, a document
/// number): they are kept only if the events are, and the events only if they succeed.
pub fn append_with(
    conn: &mut DbConnection,
    record: &CaseRecord,
    new: &[CaseEvent],
    author: &Author<'_>,
    also: impl FnOnce(&mut DbConnection) -> Result<(), TxError>,
) -> Result<CaseRecord, AppError> {
    let id = record.row.id.clone();
    let at = now();
    let rows =
        chain_events(&id, Some((record.row.last_event_seq, &record.row.last_event_hash)), new, author.user_id, at);
    // The new row is computed before the transaction; the guarded UPDATE below proves the history it
    // was computed from is still the case's. Starting the transaction with that write also takes
    // SQLite's write lock at once (a read first could not be upgraded while another writer waits).
    let mut history = events(conn, &id)?;
    if history.last().map(|h| h.seq) != Some(record.row.last_event_seq) {
        return Err(changed_meanwhile(record));
    }
    history.extend(rows.iter().cloned());
    let mut book = Bookkeeping::of(&record.row);
    book.updated_at = at;
    let decoded = history
        .iter()
        .map(|e| CaseEvent::from_stored(&e.kind, &e.payload).map_err(AppError::internal))
        .collect::<Result<Vec<_>, _>>()?;
    let case = Case::from_events(&decoded).map_err(AppError::internal)?;
    let row = project_row(&case, book, history.last().expect("not empty"))?;
    let touches_appeals = new.iter().any(|e| {
        matches!(e, CaseEvent::Workflow(r) if matches!(r.event.action(), Action::FileAppeal | Action::DecideAppeal))
    });
    let appeal_rows: Vec<AppealRow> = case.appeals.iter().map(|a| AppealRow::of(&id, a)).collect();
    let kinds = event_kinds(new);
    let result = super::transaction(conn, |conn| {
        let updated =
            diesel::update(cases::table.find(&id).filter(cases::last_event_seq.eq(record.row.last_event_seq)))
                .set(&row)
                .execute(conn)?;
        if updated != 1 {
            return Err(TxError::App(changed_meanwhile(record)));
        }
        let before = |conn: &mut DbConnection| Ok(locks::facts(&record.row, &appeals(conn, &id)?));
        let after = locks::facts(&row, &appeal_rows);
        locks::guard(conn, &record.agency_path, &id, before, after.as_ref(), author, &kinds).map_err(TxError::App)?;
        insert_events(conn, &rows)?;
        also(conn)?;
        if touches_appeals {
            diesel::delete(case_appeals::table.filter(case_appeals::case_id.eq(&id))).execute(conn)?;
            for appeal in &appeal_rows {
                diesel::insert_into(case_appeals::table).values(appeal).execute(conn)?;
            }
        }
        Ok(row)
    });
    match result {
        Ok(row) => {
            Ok(CaseRecord { row, agency_code: record.agency_code.clone(), agency_path: record.agency_path.clone() })
        }
        Err(TxError::Db(e)) if is_unique_violation(&e) => Err(changed_meanwhile(record)),
        Err(TxError::Db(e)) => Err(e.into()),
        Err(TxError::App(e)) => Err(e),
    }
}

/// The kinds of new events, for the record of a post-publication correction (`workflow:serve`, ...).
fn event_kinds(events: &[CaseEvent]) -> String {
    events
        .iter()
        .map(|e| match e {
            CaseEvent::Workflow(w) => format!("workflow:{}", w.event.action()),
            CaseEvent::Clock(c) => format!("clock:{}", c.event.type_name()),
            other => other.kind().to_owned(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// The answer when a case changed between the caller's read and its write.
fn changed_meanwhile(record: &CaseRecord) -> AppError {
    AppError::PreconditionFailed(format!(
        "case {} changed while this request was handled; read it again and retry",
        record.row.tracking_number
    ))
}

/// Records a clock event on a case (after the rules that are not arithmetic have been checked by the
/// caller), with the deadline it produces.
pub fn record_clock_event(
    conn: &mut DbConnection,
    record: &CaseRecord,
    clock: ClockRecord,
    regime: &RegimeRules,
    calendar: &WorkingDayIndex,
    author: &Author<'_>,
    today: NaiveDate,
) -> Result<CaseRecord, AppError> {
    record_event(conn, record, CaseEvent::Clock(clock), regime, calendar, author, today)
}

/// Appends one event (checked by the caller) to a case. When it moves the reply clock (a clock
/// event, or a workflow step that answers the applicant or records a withdrawal) the recomputed
/// deadline follows as a `deadline_set` event with the previous dates.
pub fn record_event(
    conn: &mut DbConnection,
    record: &CaseRecord,
    event: CaseEvent,
    regime: &RegimeRules,
    calendar: &WorkingDayIndex,
    author: &Author<'_>,
    today: NaiveDate,
) -> Result<CaseRecord, AppError> {
    // The history must be the one the caller's record summarises: otherwise the case changed meanwhile.
    let history = events(conn, &record.row.id)?;
    if history.last().map(|h| h.seq) != Some(record.row.last_event_seq) {
        return Err(changed_meanwhile(record));
    }
    let mut new = vec![];
    // An amendment of the receipt date moves the deadline as a clock event does.
    let amended_receipt = match &event {
        CaseEvent::Workflow(WorkflowRecord { event: WorkflowEvent::RegistrationAmended { changes }, .. }) => {
            changes.received_on.as_ref().map(|change| change.new)
        }
        _ => None,
    };
    let clock_event = event.clock_event();
    if clock_event.is_some() || amended_receipt.is_some() {
        let mut events_so_far = clock_history(&history)?;
        events_so_far.extend(clock_event.clone());
        let received_on = amended_receipt.unwrap_or(record.row.received_on);
        let deadline = crate::domain::deadline::compute(regime, calendar, received_on, &events_so_far, today)
            .map_err(deadline_problem)?;
        let timeliness = deadline.timeliness(calendar, today).map_err(AppError::internal)?;
        let reason = match (&event, &clock_event) {
            (CaseEvent::Workflow(w), _) => format!("workflow: {}", w.event.action()),
            (_, Some(clock_event)) => format!("clock event: {}", clock_event.type_name()),
            (_, None) => "receipt date amended".to_owned(),
        };
        new.push(CaseEvent::DeadlineSet(crate::domain::events::DeadlineChange {
            deadline: DeadlineSummary::of(&deadline, &timeliness),
            previous: Some(record.view()?.deadline),
            reason,
        }));
    }
    new.insert(0, event);
    append(conn, record, &new, author)
}

/// Deadline arithmetic refusals as problems: events that do not fit the clock's state are conflicts,
/// the rest are invalid fields.
pub fn deadline_problem(e: crate::domain::deadline::DeadlineError) -> AppError {
    use crate::domain::deadline::DeadlineError;
    match e {
        DeadlineError::NotNow { .. } => AppError::Conflict(e.to_string()),
        DeadlineError::Calendar(_) => AppError::validation("event.on", e.to_string()),
        other => AppError::validation("event", other.to_string()),
    }
}

/// The ids of the open cases, in id order, whose deadline a change of the calendar days from
/// `from` to `to` can move: received by `to` (counting starts the day after receipt), with a final
/// deadline on or after `from` or none yet (a stopped clock resumes on days not yet known), at an
/// agency under `agency_path` (None: everywhere). A day after a case's final deadline cannot move it.
pub fn open_case_ids_in_window(
    conn: &mut DbConnection,
    agency_path: Option<&str>,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<String>, AppError> {
    let mut query = cases::table
        .inner_join(agencies::table)
        .filter(cases::state.eq_any(CaseState::open()))
        .filter(cases::received_on.le(to))
        .filter(cases::final_due_on.is_null().or(cases::final_due_on.ge(from)))
        .select(cases::id)
        .order(cases::id.asc())
        .into_boxed();
    if let Some(path) = agency_path {
        query = query.filter(agencies::path.like(format!("{path}%")));
    }
    Ok(query.load(conn)?)
}

/// The ids of open cases, in id order; only those whose final deadline is unknown (the clock
/// stopped, e.g. awaiting a correction) with `stopped_only`.
pub fn open_case_ids(conn: &mut DbConnection, stopped_only: bool) -> Result<Vec<String>, AppError> {
    let open = CaseState::open();
    let mut query =
        cases::table.filter(cases::state.eq_any(open)).select(cases::id).order(cases::id.asc()).into_boxed();
    if stopped_only {
        query = query.filter(cases::final_due_on.is_null());
    }
    Ok(query.load(conn)?)
}

/// Open cases, and those of them past their final deadline on `today` (for monitoring).
pub fn count_open_and_overdue(conn: &mut DbConnection, today: NaiveDate) -> Result<(i64, i64), AppError> {
    let open: i64 = cases::table.filter(cases::state.eq_any(CaseState::open())).count().get_result(conn)?;
    let overdue: i64 = cases::table
        .filter(cases::state.eq_any(CaseState::open()))
        .filter(cases::final_due_on.lt(today))
        .count()
        .get_result(conn)?;
    Ok((open, overdue))
}

/// Fills the applicant search keys of cases registered before they existed (after migration 000008),
/// from each row's own applicant columns, a page at a time; returns how many rows it filled.
pub fn backfill_search_keys(conn: &mut DbConnection) -> Result<usize, AppError> {
    let mut filled = 0;
    let mut after = String::new();
    loop {
        // (id, phone, e-mail, ID number)
        type Contact = (String, Option<String>, Option<String>, Option<String>);
        let page: Vec<Contact> = cases::table
            .filter(cases::id.gt(&after))
            .filter(
                (cases::applicant_phone.is_not_null().and(cases::applicant_phone_key.is_null()))
                    .or(cases::applicant_email.is_not_null().and(cases::applicant_email_key.is_null()))
                    .or(cases::applicant_id_number.is_not_null().and(cases::applicant_id_number_key.is_null())),
            )
            .order(cases::id.asc())
            .select((cases::id, cases::applicant_phone, cases::applicant_email, cases::applicant_id_number))
            .limit(1000)
            .load(conn)?;
        let Some((last, ..)) = page.last() else { return Ok(filled) };
        after = last.clone();
        for (id, phone, email, id_number) in page {
            // A value with nothing searchable in it (a phone without digits) keeps a NULL key.
            let keys = (
                phone.as_deref().and_then(phone_key),
                email.as_deref().and_then(email_key),
                id_number.as_deref().and_then(id_number_key),
            );
            if keys.0.is_none() && keys.1.is_none() && keys.2.is_none() {
                continue;
            }
            diesel::update(cases::table.find(&id))
                .set((
                    cases::applicant_phone_key.eq(keys.0),
                    cases::applicant_email_key.eq(keys.1),
                    cases::applicant_id_number_key.eq(keys.2),
                ))
                .execute(conn)?;
            filled += 1;
        }
    }
}

/// Fills the free-text search terms of cases registered before they existed (after migration
/// 000011), from each row's own texts, a page at a time; returns how many rows it filled.
pub fn backfill_search_terms(conn: &mut DbConnection) -> Result<usize, AppError> {
    let mut filled = 0;
    let mut after = String::new();
    loop {
        let page: Vec<(String, String, String, String)> = cases::table
            .filter(cases::id.gt(&after))
            .filter(cases::search_terms.eq(""))
            .order(cases::id.asc())
            .select((cases::id, cases::description, cases::applicant_name, cases::tracking_number))
            .limit(1000)
            .load(conn)?;
        let Some((last, ..)) = page.last() else { return Ok(filled) };
        after = last.clone();
        for (id, description, name, number) in page {
            let terms = case_terms(&description, &name, &number);
            diesel::update(cases::table.find(&id)).set(cases::search_terms.eq(terms)).execute(conn)?;
            filled += 1;
        }
    }
}

/// The clock events recorded on a case, in order. (Registration records none: the clock starts on
/// the receipt date.)
pub fn clock_events(conn: &mut DbConnection, case_id: &str) -> Result<Vec<ClockEvent>, AppError> {
    clock_history(&events(conn, case_id)?)
}

/// The clock events among a case's stored events, in order.
pub fn clock_history(rows: &[EventRow]) -> Result<Vec<ClockEvent>, AppError> {
    let mut clock = Vec::new();
    for row in rows {
        let event = CaseEvent::from_stored(&row.kind, &row.payload).map_err(AppError::internal)?;
        clock.extend(event.clock_event());
    }
    Ok(clock)
}

/// A case row that cannot be read as a case: it holds a value outside the vocabulary.
#[derive(Debug, Clone)]
pub struct UnreadableRow {
    pub case_id: String,
    pub tracking_number: String,
    pub error: String,
}

/// A page of case rows under `root_path` (all when None) after the id `after`, in id order. A row that
/// cannot be read is returned as such, so one bad row does not hide the others.
pub fn rows_page(
    conn: &mut DbConnection,
    root_path: Option<&str>,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<Result<CaseRow, UnreadableRow>>, AppError> {
    let mut query = cases::table
        .inner_join(agencies::table)
        .select((cases::id, cases::tracking_number))
        .order(cases::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(root) = root_path {
        query = query.filter(agencies::path.like(format!("{root}%")));
    }
    if let Some(last) = after {
        query = query.filter(cases::id.gt(last.to_owned()));
    }
    let ids: Vec<(String, String)> = query.load(conn)?;
    let all = cases::table
        .filter(cases::id.eq_any(ids.iter().map(|(id, _)| id)))
        .order(cases::id.asc())
        .select(CaseRow::as_select())
        .load::<CaseRow>(conn);
    match all {
        Ok(rows) => Ok(rows.into_iter().map(Ok).collect()),
        // One row or more hold a value outside the vocabulary: read them one by one to find which.
        Err(diesel::result::Error::DeserializationError(_)) => {
            let mut rows = Vec::with_capacity(ids.len());
            for (case_id, tracking_number) in ids {
                match cases::table.find(&case_id).select(CaseRow::as_select()).first::<CaseRow>(conn) {
                    Ok(row) => rows.push(Ok(row)),
                    Err(diesel::result::Error::DeserializationError(e)) => rows.push(Err(UnreadableRow {
                        case_id,
                        tracking_number,
                        error: crate::error::error_chain(&*e),
                    })),
                    Err(e) => return Err(e.into()),
                }
            }
            Ok(rows)
        }
        Err(e) => Err(e.into()),
    }
}

/// The first event of a case whose hash chain does not verify, if any.
pub fn verify_chain(events: &[EventRow]) -> Option<i32> {
    first_broken_link(events.iter().map(|e| {
        (
            ChainLink {
                case_id: &e.case_id,
                seq: e.seq,
                kind: &e.kind,
                payload: &e.payload,
                actor_id: e.actor_id.as_deref(),
                occurred_at: e.occurred_at.and_utc(),
                prev_hash: &e.prev_hash,
            },
            e.hash.as_str(),
        )
    }))
}

/// Filters for the case list.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    pub agency_path: Option<String>,
    pub agency_exact: Option<String>,
    /// Any of these states (empty: all but voided duplicates, which a list shows only when asked
    /// for by state).
    pub states: Vec<CaseState>,
    /// Some(true): open cases only; Some(false): closed only.
    pub open: Option<bool>,
    pub channel: Option<Channel>,
    pub applicant_kind: Option<crate::domain::intake::ApplicantKind>,
    pub topic: Option<String>,
    pub received_from: Option<NaiveDate>,
    pub received_to: Option<NaiveDate>,
    pub closed_from: Option<NaiveDate>,
    pub closed_to: Option<NaiveDate>,
    /// Text in the description, the applicant's name or the tracking number.
    pub text: Option<String>,
    /// The applicant's phone, e-mail or ID number, as `intake::phone_key` etc. normalise them.
    pub phone_key: Option<String>,
    pub email_key: Option<String>,
    pub id_number_key: Option<String>,
    /// (true, today): open cases whose final deadline is before today; (false, today): the others.
    pub overdue_on: Option<(bool, NaiveDate)>,
    /// Cases whose final deadline is on or before this date.
    pub due_on_or_before: Option<NaiveDate>,
    /// Cases assigned to this user.
    pub handler_id: Option<String>,
}

/// The order of a case list, with the position after which a page starts (keyset paging).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseOrder {
    /// Newest registration first (by id: UUIDv7 ids sort by creation time).
    Newest { after_id: Option<String> },
    /// Nearest final deadline first; cases without one (stopped clocks) last.
    Due { after: Option<(Option<NaiveDate>, String)> },
    /// Latest receipt date first.
    Received { after: Option<(NaiveDate, String)> },
    /// By tracking number.
    TrackingNumber { after: Option<String> },
}

type Backend = <DbConnection as diesel::Connection>::Backend;
type FilteredCases =
    diesel::helper_types::IntoBoxed<'static, diesel::helper_types::InnerJoin<cases::table, agencies::table>, Backend>;

/// Which index serves a text search (see migration 000011).
#[derive(Debug, Clone, Copy)]
enum SearchBackend {
    Postgres,
    Sqlite,
}

impl SearchBackend {
    fn of(conn: &DbConnection) -> SearchBackend {
        match conn {
            DbConnection::Postgres(_) => SearchBackend::Postgres,
            DbConnection::Sqlite(_) => SearchBackend::Sqlite,
        }
    }
}

/// An FTS5 query that every term must match. Terms are letters and digits only, so quoting each
/// is enough to keep it one literal token.
fn fts_query(terms: &[String]) -> String {
    terms.iter().map(|t| format!("\"{t}\"")).collect::<Vec<_>>().join(" ")
}

/// The cases (joined with their agency) that `filter` selects, in no order.
fn filtered(filter: &CaseFilter, backend: SearchBackend) -> FilteredCases {
    let mut query = cases::table.inner_join(agencies::table).into_boxed();
    if let Some(path) = &filter.agency_path {
        query = query.filter(agencies::path.like(format!("{path}%")));
    }
    if let Some(path) = &filter.agency_exact {
        query = query.filter(agencies::path.eq(path.clone()));
    }
    if filter.states.is_empty() {
        query = query.filter(cases::state.ne(CaseState::Voided));
    } else {
        query = query.filter(cases::state.eq_any(filter.states.clone()));
    }
    match filter.open {
        Some(true) => query = query.filter(cases::state.eq_any(CaseState::open())),
        Some(false) => query = query.filter(cases::state.ne_all(CaseState::open())),
        None => {}
    }
    if let Some(channel) = filter.channel {
        query = query.filter(cases::channel.eq(channel));
    }
    if let Some(kind) = filter.applicant_kind {
        query = query.filter(cases::applicant_kind.eq(kind));
    }
    if let Some(topic) = &filter.topic {
        query = query.filter(cases::topic.eq(topic.clone()));
    }
    if let Some(from) = filter.received_from {
        query = query.filter(cases::received_on.ge(from));
    }
    if let Some(to) = filter.received_to {
        query = query.filter(cases::received_on.le(to));
    }
    if let Some(from) = filter.closed_from {
        query = query.filter(cases::closed_on.ge(from));
    }
    if let Some(to) = filter.closed_to {
        query = query.filter(cases::closed_on.le(to));
    }
    if let Some(text) = &filter.text {
        // The index narrows the cases to those holding every term of the query; the position
        // test below then keeps those holding the exact text.
        if let Some(terms) = query_terms(text) {
            query = match backend {
                SearchBackend::Postgres => query.filter(
                    sql::<Bool>("string_to_array(cases.search_terms, ' ') @> string_to_array(")
                        .bind::<Text, _>(terms.join(" "))
                        .sql(", ' ')"),
                ),
                SearchBackend::Sqlite => query.filter(
                    sql::<Bool>(
                        "cases.id IN (SELECT r.case_id FROM case_search \
                         JOIN case_search_rows r ON r.rowid = case_search.rowid WHERE case_search MATCH ",
                    )
                    .bind::<Text, _>(fts_query(&terms))
                    .sql(")"),
                ),
            };
        }
        // The exact text, by position rather than LIKE: the planner estimates LIKE '%…%' as very
        // selective and, for a frequent word, would then sort every match instead of reading the
        // newest cases until a page is full.
        let needle = text.to_lowercase();
        let position = match backend {
            SearchBackend::Postgres => "strpos",
            SearchBackend::Sqlite => "instr",
        };
        let found_in = |column: &str| {
            sql::<Bool>(&format!("{position}(lower({column}), ")).bind::<Text, _>(needle.clone()).sql(") > 0")
        };
        query = query.filter(
            found_in("cases.description").or(found_in("cases.applicant_name")).or(found_in("cases.tracking_number")),
        );
    }
    if let Some(key) = &filter.phone_key {
        query = query.filter(cases::applicant_phone_key.eq(key.clone()));
    }
    if let Some(key) = &filter.email_key {
        query = query.filter(cases::applicant_email_key.eq(key.clone()));
    }
    if let Some(key) = &filter.id_number_key {
        query = query.filter(cases::applicant_id_number_key.eq(key.clone()));
    }
    if let Some((overdue, today)) = filter.overdue_on {
        let open = CaseState::open();
        let late = cases::state.eq_any(open).and(cases::final_due_on.lt(today));
        query = if overdue {
            query.filter(late.assume_not_null())
        } else {
            query.filter(late.assume_not_null().eq(false).or(cases::final_due_on.is_null()))
        };
    }
    if let Some(date) = filter.due_on_or_before {
        query = query.filter(cases::final_due_on.le(date));
    }
    if let Some(handler) = &filter.handler_id {
        query = query.filter(cases::handler_id.eq(handler.clone()));
    }
    query
}

/// One page of the cases `filter` selects, in `order`, starting after its position.
pub fn list(
    conn: &mut DbConnection,
    filter: &CaseFilter,
    order: &CaseOrder,
    limit: i64,
) -> Result<Vec<CaseRecord>, AppError> {
    let mut query = filtered(filter, SearchBackend::of(conn))
        .select((CaseRow::as_select(), agencies::code, agencies::path))
        .limit(limit);
    query = match order {
        CaseOrder::Newest { after_id } => {
            let mut q = query.order(cases::id.desc());
            if let Some(id) = after_id {
                q = q.filter(cases::id.lt(id.clone()));
            }
            q
        }
        CaseOrder::Due { after } => {
            let mut q = query.order((cases::final_due_on.is_null().asc(), cases::final_due_on.asc(), cases::id.asc()));
            match after {
                Some((Some(due), id)) => {
                    q = q.filter(
                        cases::final_due_on
                            .gt(*due)
                            .or(cases::final_due_on.eq(*due).and(cases::id.gt(id.clone())))
                            .or(cases::final_due_on.is_null()),
                    )
                }
                Some((None, id)) => q = q.filter(cases::final_due_on.is_null().and(cases::id.gt(id.clone()))),
                None => {}
            }
            q
        }
        CaseOrder::Received { after } => {
            let mut q = query.order((cases::received_on.desc(), cases::id.desc()));
            if let Some((date, id)) = after {
                q = q.filter(
                    cases::received_on.lt(*date).or(cases::received_on.eq(*date).and(cases::id.lt(id.clone()))),
                );
            }
            q
        }
        CaseOrder::TrackingNumber { after } => {
            let mut q = query.order(cases::tracking_number.asc());
            if let Some(number) = after {
                q = q.filter(cases::tracking_number.gt(number.clone()));
            }
            q
        }
    };
    let rows: Vec<(CaseRow, String, String)> = query.load(conn)?;
    Ok(rows.into_iter().map(|(row, agency_code, agency_path)| CaseRecord { row, agency_code, agency_path }).collect())
}

/// How many cases `filter` selects (for a list's optional total).
pub fn count(conn: &mut DbConnection, filter: &CaseFilter) -> Result<i64, AppError> {
    Ok(filtered(filter, SearchBackend::of(conn)).count().get_result(conn)?)
}

/// How many cases `filter` selects, counted no further than `cap + 1` (more than `cap`): a frequent
/// word can match a third of the table, which an exact count would read in full.
pub fn count_up_to(conn: &mut DbConnection, filter: &CaseFilter, cap: i64) -> Result<i64, AppError> {
    let ids: Vec<String> = filtered(filter, SearchBackend::of(conn)).select(cases::id).limit(cap + 1).load(conn)?;
    Ok(ids.len() as i64)
}

/// The case with this tracking number, if any.
pub fn find_by_number(conn: &mut DbConnection, number: &str) -> Result<Option<CaseRecord>, AppError> {
    let found: Option<(CaseRow, String, String)> = cases::table
        .inner_join(agencies::table)
        .filter(cases::tracking_number.eq(number))
        .select((CaseRow::as_select(), agencies::code, agencies::path))
        .first(conn)
        .optional()?;
    Ok(found.map(|(row, agency_code, agency_path)| CaseRecord { row, agency_code, agency_path }))
}

/// The cases imported from a ledger under the office's original number `number` (one per agency at
/// most).
pub fn find_by_original_number(conn: &mut DbConnection, number: &str) -> Result<Vec<CaseRecord>, AppError> {
    use super::schema::imported_rows;
    let found: Vec<(CaseRow, String, String)> = cases::table
        .inner_join(agencies::table)
        .inner_join(imported_rows::table.on(imported_rows::case_id.eq(cases::id)))
        .filter(imported_rows::original_number.eq(number))
        .select((CaseRow::as_select(), agencies::code, agencies::path))
        .load(conn)?;
    Ok(found.into_iter().map(|(row, agency_code, agency_path)| CaseRecord { row, agency_code, agency_path }).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fts_queries_quote_every_term_so_all_must_match() {
        assert_eq!(fts_query(&["道路".into(), "ab".into()]), "\"道路\" \"ab\"");
    }
}
