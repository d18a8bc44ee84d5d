//! The reminder outbox: which open cases need a look, the reminders recorded for them (each once, by
//! its dedup key), and claiming, sending and retrying them safely from several instances at once.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::{agencies, cases, reminder_outbox, users};
use super::DbConnection;
use crate::domain::reminders::{OutboxState, RecipientRole, ReminderKind};
use crate::domain::role::Role;
use crate::domain::workflow::CaseState;
use crate::error::AppError;

/// An open case near or past a deadline, with whom to tell.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub case_id: String,
    pub agency_id: String,
    pub agency_path: String,
    pub office_email: Option<String>,
    pub tracking_number: String,
    pub state: CaseState,
    pub final_due_on: Option<NaiveDate>,
    pub stop_ends_on: Option<NaiveDate>,
    pub applicant_name: String,
    pub handler_email: Option<String>,
}

type CandidateRow = (
    String,
    String,
    String,
    Option<String>,
    String,
    CaseState,
    Option<NaiveDate>,
    Option<NaiveDate>,
    String,
    Option<String>,
);

/// One page of the open cases whose final deadline or stopped-clock end falls on or before
/// `horizon`, in case-id order after `after`, with their agency's office mailbox and the assigned
/// handler's address. Read from the partial index of open cases (`closed_on IS NULL`, migration
/// 000011): each page costs its own rows, not the table's.
pub fn candidates_page(
    conn: &mut DbConnection,
    horizon: NaiveDate,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<Candidate>, AppError> {
    let open = CaseState::open();
    let mut query = cases::table
        .inner_join(agencies::table)
        .left_join(users::table.on(users::id.nullable().eq(cases::handler_id)))
        .filter(cases::closed_on.is_null())
        .filter(cases::state.eq_any(open))
        .filter(cases::final_due_on.le(horizon).or(cases::stop_ends_on.le(horizon)))
        .order(cases::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(cases::id.gt(after.to_owned()));
    }
    let rows: Vec<CandidateRow> = query
        .select((
            cases::id,
            cases::agency_id,
            agencies::path,
            agencies::email,
            cases::tracking_number,
            cases::state,
            cases::final_due_on,
            cases::stop_ends_on,
            cases::applicant_name,
            users::email.nullable(),
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| Candidate {
            case_id: r.0,
            agency_id: r.1,
            agency_path: r.2,
            office_email: r.3,
            tracking_number: r.4,
            state: r.5,
            final_due_on: r.6,
            stop_ends_on: r.7,
            applicant_name: r.8,
            handler_email: r.9,
        })
        .collect())
}

/// The e-mail addresses of the office heads (approvers) of an agency.
pub fn approver_emails(conn: &mut DbConnection, agency_id: &str) -> Result<Vec<String>, AppError> {
    let emails: Vec<Option<String>> = users::table
        .filter(users::agency_id.eq(agency_id))
        .filter(users::role.eq(Role::Approver))
        .select(users::email)
        .order(users::id.asc())
        .load(conn)?;
    Ok(emails.into_iter().flatten().collect())
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize)]
#[diesel(table_name = reminder_outbox)]
pub struct OutboxRow {
    pub id: String,
    pub dedup_key: String,
    pub recipient: String,
    pub recipient_role: RecipientRole,
    pub case_id: String,
    pub agency_id: String,
    pub kind: ReminderKind,
    pub due_on: NaiveDate,
    pub working_days: i32,
    pub details: String,
    pub state: OutboxState,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub claimed_by: Option<String>,
    pub claimed_until: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
    pub digest_id: Option<String>,
}

/// Reminders asked about per query (SQLite binds each key: under its limit of 32,766 parameters).
const KEYS_PER_QUERY: usize = 10_000;

/// Of these (dedup key, recipient) pairs, the positions of those the outbox holds already.
pub fn existing(conn: &mut DbConnection, pairs: &[(&str, &str)]) -> Result<std::collections::HashSet<usize>, AppError> {
    let mut found = std::collections::HashSet::new();
    for (chunk_index, chunk) in pairs.chunks(KEYS_PER_QUERY).enumerate() {
        let offset = chunk_index * KEYS_PER_QUERY;
        match conn {
            // Two array parameters, one index probe per pair, and only the positions come back: a
            // same-day rerun asks about every reminder and finds them all.
            DbConnection::Postgres(c) => {
                use diesel::sql_types::{Array, Integer, Text};
                #[derive(QueryableByName)]
                struct Position {
                    #[diesel(sql_type = Integer)]
                    n: i32,
                }
                let (keys, recipients): (Vec<&str>, Vec<&str>) = chunk.iter().copied().unzip();
                let positions: Vec<Position> = diesel::sql_query(
                    "SELECT (k.n - 1)::integer AS n \
                     FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS k (dedup_key, recipient, n) \
                     WHERE EXISTS (SELECT 1 FROM reminder_outbox o \
                                   WHERE o.dedup_key = k.dedup_key AND o.recipient = k.recipient)",
                )
                .bind::<Array<Text>, _>(keys)
                .bind::<Array<Text>, _>(recipients)
                .load(c)?;
                found.extend(positions.into_iter().map(|p| offset + p.n as usize));
            }
            DbConnection::Sqlite(c) => {
                let keys: Vec<&str> = chunk.iter().map(|(key, _)| *key).collect();
                let held: std::collections::HashSet<(String, String)> = reminder_outbox::table
                    .filter(reminder_outbox::dedup_key.eq_any(keys))
                    .select((reminder_outbox::dedup_key, reminder_outbox::recipient))
                    .load::<(String, String)>(c)?
                    .into_iter()
                    .collect();
                found.extend(
                    chunk
                        .iter()
                        .enumerate()
                        .filter(|(_, (key, recipient))| held.contains(&((*key).to_owned(), (*recipient).to_owned())))
                        .map(|(i, _)| offset + i),
                );
            }
        }
    }
    Ok(found)
}

/// Reminders recorded per INSERT statement on PostgreSQL (19 columns each: 38,000 parameters, under its
/// limit of 65,535).
const ROWS_PER_STATEMENT: usize = 2_000;

/// Records the reminders that are new, skipping those whose (dedup key, recipient) exists already,
/// many to a statement and all in one transaction; how many were new.
pub fn record_many(conn: &mut DbConnection, rows: &[OutboxRow]) -> Result<usize, AppError> {
    if rows.is_empty() {
        return Ok(0);
    }
    super::atomically(conn, |conn| {
        let mut inserted = 0;
        // ON CONFLICT is backend SQL: run it on the concrete connection. Diesel writes it for one
        // row at a time on SQLite, which costs nothing there (no round trips, one transaction).
        match conn {
            DbConnection::Postgres(c) => {
                for chunk in rows.chunks(ROWS_PER_STATEMENT) {
                    inserted += diesel::insert_into(reminder_outbox::table)
                        .values(chunk)
                        .on_conflict((reminder_outbox::dedup_key, reminder_outbox::recipient))
                        .do_nothing()
                        .execute(c)?;
                }
            }
            DbConnection::Sqlite(c) => {
                for row in rows {
                    inserted += diesel::insert_into(reminder_outbox::table)
                        .values(row)
                        .on_conflict((reminder_outbox::dedup_key, reminder_outbox::recipient))
                        .do_nothing()
                        .execute(c)?;
                }
            }
        }
        Ok(inserted)
    })
}

/// Reminders ready to go at `now`: new ones and failed ones whose retry time has come, and ones a
/// crashed run claimed and never finished (its lease ran out).
macro_rules! ready {
    ($now:expr) => {
        reminder_outbox::state
            .eq_any([OutboxState::Pending, OutboxState::Failed])
            .and(reminder_outbox::next_attempt_at.le($now))
            .or(reminder_outbox::state.eq(OutboxState::Sending).and(reminder_outbox::claimed_until.lt($now)))
    };
}

/// Recipients with reminders ready to go at `now`: new ones, failed ones whose retry time has come,
/// and ones a crashed run claimed and never finished (its lease ran out).
pub fn ready_recipients(conn: &mut DbConnection, now: NaiveDateTime) -> Result<Vec<String>, AppError> {
    Ok(reminder_outbox::table
        .filter(ready!(now))
        .select(reminder_outbox::recipient)
        .distinct()
        .order(reminder_outbox::recipient.asc())
        .load(conn)?)
}

/// How many reminders are in each state (for monitoring).
pub fn count_by_state(conn: &mut DbConnection) -> Result<Vec<(OutboxState, i64)>, AppError> {
    Ok(reminder_outbox::table
        .group_by(reminder_outbox::state)
        .select((reminder_outbox::state, diesel::dsl::count_star()))
        .load(conn)?)
}

/// When the next reminder becomes ready to go: a new or failed one's retry time, or the end of a
/// claim's lease (None: nothing waits).
pub fn next_ready_at(conn: &mut DbConnection) -> Result<Option<NaiveDateTime>, AppError> {
    use diesel::dsl::min;
    let retry: Option<NaiveDateTime> = reminder_outbox::table
        .filter(reminder_outbox::state.eq_any([OutboxState::Pending, OutboxState::Failed]))
        .select(min(reminder_outbox::next_attempt_at))
        .first(conn)?;
    let lease: Option<NaiveDateTime> = reminder_outbox::table
        .filter(reminder_outbox::state.eq(OutboxState::Sending))
        .select(min(reminder_outbox::claimed_until))
        .first::<Option<NaiveDateTime>>(conn)?;
    Ok(match (retry, lease) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    })
}

/// Claims every ready reminder of `recipient` for this run until `lease_until`, in one statement: two
/// runs at once never claim the same row. Returns the claimed rows.
pub fn claim(
    conn: &mut DbConnection,
    recipient: &str,
    run_id: &str,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
) -> Result<Vec<OutboxRow>, AppError> {
    use reminder_outbox::dsl as o;
    diesel::update(o::reminder_outbox.filter(o::recipient.eq(recipient)).filter(ready!(now)))
        .set((o::state.eq(OutboxState::Sending), o::claimed_by.eq(run_id), o::claimed_until.eq(lease_until)))
        .execute(conn)?;
    Ok(o::reminder_outbox
        .filter(o::recipient.eq(recipient))
        .filter(o::claimed_by.eq(run_id))
        .filter(o::state.eq(OutboxState::Sending))
        .order(o::id.asc())
        .select(OutboxRow::as_select())
        .load(conn)?)
}

/// Marks a run's claimed reminders delivered in digest `digest_id`.
pub fn mark_sent(
    conn: &mut DbConnection,
    ids: &[String],
    run_id: &str,
    digest_id: &str,
    at: NaiveDateTime,
) -> Result<(), AppError> {
    use reminder_outbox::dsl as o;
    diesel::update(o::reminder_outbox.filter(o::id.eq_any(ids)).filter(o::claimed_by.eq(run_id)))
        .set((
            o::state.eq(OutboxState::Sent),
            o::sent_at.eq(at),
            o::digest_id.eq(digest_id),
            o::attempts.eq(o::attempts + 1),
            o::claimed_until.eq(None::<NaiveDateTime>),
            o::last_error.eq(None::<String>),
        ))
        .execute(conn)?;
    Ok(())
}

/// Marks a run's claimed reminders failed, to be retried at `retry_at`.
pub fn mark_failed(
    conn: &mut DbConnection,
    rows: &[OutboxRow],
    run_id: &str,
    error: &str,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    use reminder_outbox::dsl as o;
    for row in rows {
        let attempts = row.attempts + 1;
        let retry_at = now + crate::domain::reminders::backoff(attempts);
        diesel::update(o::reminder_outbox.filter(o::id.eq(&row.id)).filter(o::claimed_by.eq(run_id)))
            .set((
                o::state.eq(OutboxState::Failed),
                o::attempts.eq(attempts),
                o::next_attempt_at.eq(retry_at),
                o::claimed_until.eq(None::<NaiveDateTime>),
                o::last_error.eq(error),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Filters for the admin view of the outbox.
#[derive(Debug, Clone, Default)]
pub struct OutboxFilter {
    pub agency_path: Option<String>,
    pub state: Option<OutboxState>,
    pub before_id: Option<String>,
    pub limit: i64,
}

/// The outbox, newest first, within an agency subtree.
pub fn list(conn: &mut DbConnection, filter: &OutboxFilter) -> Result<Vec<(OutboxRow, String)>, AppError> {
    let mut query = reminder_outbox::table
        .inner_join(agencies::table)
        .select((OutboxRow::as_select(), agencies::code))
        .order(reminder_outbox::id.desc())
        .limit(filter.limit)
        .into_boxed();
    if let Some(path) = &filter.agency_path {
        query = query.filter(agencies::path.like(format!("{path}%")));
    }
    if let Some(state) = &filter.state {
        query = query.filter(reminder_outbox::state.eq(*state));
    }
    if let Some(before) = &filter.before_id {
        query = query.filter(reminder_outbox::id.lt(before.clone()));
    }
    Ok(query.load(conn)?)
}
