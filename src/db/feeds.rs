//! Deadline calendar feeds: one secret URL per user or agency (stored as the secret's SHA-256), and
//! the open cases a feed shows.

use chrono::NaiveDate;
use diesel::prelude::*;

use super::schema::{agencies, cases, deadline_feeds};
use super::users::hash_token;
use super::{now, DbConnection};
use crate::domain::workflow::CaseState;
use crate::error::AppError;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = deadline_feeds)]
pub struct FeedRow {
    pub id: String,
    pub token_hash: String,
    pub user_id: Option<String>,
    pub agency_id: Option<String>,
    pub created_by: Option<String>,
    pub created_at: chrono::NaiveDateTime,
    pub last_fetched_at: Option<chrono::NaiveDateTime>,
}

/// Whose feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedOwner {
    User(String),
    Agency(String),
}

type Backend = <DbConnection as diesel::Connection>::Backend;
type OwnerFilter = Box<dyn BoxableExpression<deadline_feeds::table, Backend, SqlType = diesel::sql_types::Bool>>;

fn owned_by(owner: &FeedOwner) -> OwnerFilter {
    match owner {
        FeedOwner::User(id) => Box::new(deadline_feeds::user_id.eq(id.clone()).assume_not_null()),
        FeedOwner::Agency(id) => Box::new(deadline_feeds::agency_id.eq(id.clone()).assume_not_null()),
    }
}

pub fn find(conn: &mut DbConnection, owner: &FeedOwner) -> Result<Option<FeedRow>, AppError> {
    Ok(deadline_feeds::table.filter(owned_by(owner)).select(FeedRow::as_select()).first(conn).optional()?)
}

/// A new secret for the owner's feed (the old one, if any, stops working): the row and the secret.
pub fn rotate(
    conn: &mut DbConnection,
    owner: &FeedOwner,
    secret: &str,
    created_by: Option<&str>,
) -> Result<FeedRow, AppError> {
    super::atomically(conn, |conn| {
        diesel::delete(deadline_feeds::table.filter(owned_by(owner))).execute(conn)?;
        let (user_id, agency_id) = match owner {
            FeedOwner::User(id) => (Some(id.clone()), None),
            FeedOwner::Agency(id) => (None, Some(id.clone())),
        };
        let row = FeedRow {
            id: uuid::Uuid::now_v7().to_string(),
            token_hash: hash_token(secret),
            user_id,
            agency_id,
            created_by: created_by.map(str::to_owned),
            created_at: now(),
            last_fetched_at: None,
        };
        diesel::insert_into(deadline_feeds::table).values(&row).execute(conn)?;
        Ok(row)
    })
}

/// Removes the owner's feed; false when there was none.
pub fn delete(conn: &mut DbConnection, owner: &FeedOwner) -> Result<bool, AppError> {
    Ok(diesel::delete(deadline_feeds::table.filter(owned_by(owner))).execute(conn)? == 1)
}

/// The feed a secret opens, its use recorded (at most once a minute).
pub fn by_secret(conn: &mut DbConnection, secret: &str) -> Result<Option<FeedRow>, AppError> {
    let found: Option<FeedRow> = deadline_feeds::table
        .filter(deadline_feeds::token_hash.eq(hash_token(secret)))
        .select(FeedRow::as_select())
        .first(conn)
        .optional()?;
    if let Some(feed) = &found {
        let at = now();
        if feed.last_fetched_at.is_none_or(|last| at - last >= chrono::Duration::minutes(1)) {
            diesel::update(deadline_feeds::table.find(&feed.id))
                .set(deadline_feeds::last_fetched_at.eq(at))
                .execute(conn)?;
        }
    }
    Ok(found)
}

/// An open case as a feed shows it.
#[derive(Debug, Clone, Queryable)]
pub struct FeedCase {
    pub id: String,
    pub tracking_number: String,
    pub agency_code: String,
    pub state: CaseState,
    pub received_on: NaiveDate,
    pub due_on: Option<NaiveDate>,
    pub final_due_on: NaiveDate,
    pub applicant_name: String,
    pub topic: Option<String>,
    pub last_event_seq: i32,
    pub updated_at: chrono::NaiveDateTime,
}

/// Open cases with a running deadline, by final deadline: those handled by `handler_id`, and those
/// of the agency at exactly `agency_path`.
pub fn open_cases(
    conn: &mut DbConnection,
    handler_id: Option<&str>,
    agency_path: Option<&str>,
) -> Result<Vec<FeedCase>, AppError> {
    let mut query = cases::table
        .inner_join(agencies::table)
        .filter(cases::state.eq_any(CaseState::open()))
        .filter(cases::final_due_on.is_not_null())
        .order((cases::final_due_on.asc(), cases::tracking_number.asc()))
        .select((
            cases::id,
            cases::tracking_number,
            agencies::code,
            cases::state,
            cases::received_on,
            cases::due_on,
            cases::final_due_on.assume_not_null(),
            cases::applicant_name,
            cases::topic,
            cases::last_event_seq,
            cases::updated_at,
        ))
        .into_boxed();
    query = match (handler_id, agency_path) {
        (Some(h), Some(p)) => {
            query.filter(cases::handler_id.eq(h.to_owned()).or(agencies::path.eq(p.to_owned()).nullable()))
        }
        (Some(h), None) => query.filter(cases::handler_id.eq(h.to_owned())),
        (None, Some(p)) => query.filter(agencies::path.eq(p.to_owned())),
        (None, None) => return Ok(Vec::new()),
    };
    Ok(query.load(conn)?)
}
