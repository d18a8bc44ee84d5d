//! `GET /api/v1/reminders`: the reminder outbox and each reminder's delivery state (administrators).

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::{query, Auth};
use super::problem::Problem;
use crate::db::reminders::OutboxFilter;
use crate::db::Db;
use crate::domain::reminders::{OutboxState, RecipientRole, ReminderKind};
use crate::error::AppError;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReminderParams {
    /// `pending`, `sending`, `sent` or `failed` (waiting for a retry).
    pub state: Option<String>,
    /// Page size, 1-200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// One reminder to one recipient.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Reminder {
    pub id: String,
    pub case_id: String,
    pub agency: String,
    /// `due` (before the reply deadline), `overdue` (daily), `stop_ends` (a correction or consultation
    /// period ends).
    pub kind: ReminderKind,
    /// The date the reminder is about, and the working days left then (negative: overdue).
    pub due_on: NaiveDate,
    pub working_days: i32,
    pub recipient: String,
    /// `handler`, `approver` or `office` (the agency's mailbox).
    pub recipient_role: RecipientRole,
    /// `pending`, `sending`, `sent` or `failed`.
    pub state: OutboxState,
    pub attempts: i32,
    /// For a failed one: when it is tried again.
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    /// The digest e-mail it went out in.
    pub digest_id: Option<String>,
}

/// A page of reminders, newest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReminderList {
    pub items: Vec<Reminder>,
    pub next_cursor: Option<String>,
}

/// The reminder outbox within your subtree (administrators): what was sent, what waits, what failed.
#[utoipa::path(
    get,
    operation_id = "listReminders",
    path = "/api/v1/reminders",
    tag = "reminders",
    params(ReminderParams),
    responses(
        (status = 200, description = "A page of reminders", body = ReminderList),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad filter", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn list(req: HttpRequest, Auth(user): Auth, db: web::Data<Db>) -> Result<HttpResponse, AppError> {
    let params: ReminderParams = query(&req)?;
    let limit = params.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(AppError::validation("limit", "must be between 1 and 200"));
    }
    let state = params
        .state
        .as_deref()
        .map(|text| {
            OutboxState::parse(text).ok_or_else(|| {
                let choices = crate::domain::report::choices(OutboxState::ALL.iter().map(|s| s.as_str()));
                AppError::validation("state", format!("must be {choices}"))
            })
        })
        .transpose()?;
    let before_id = params.cursor.as_deref().map(super::cases::decode_cursor).transpose()?;
    let filter = OutboxFilter { agency_path: None, state, before_id, limit: limit + 1 };
    let mut rows = db.run(move |conn| crate::service::reminders::outbox(conn, &user, filter)).await?;
    let next_cursor = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|(r, _)| super::cases::encode_cursor(&r.id))
    } else {
        None
    };
    let items = rows
        .into_iter()
        .map(|(r, agency)| Reminder {
            id: r.id,
            case_id: r.case_id,
            agency,
            kind: r.kind,
            due_on: r.due_on,
            working_days: r.working_days,
            recipient: r.recipient,
            recipient_role: r.recipient_role,
            state: r.state,
            attempts: r.attempts,
            next_attempt_at: r.next_attempt_at.and_utc(),
            last_error: r.last_error,
            created_at: r.created_at.and_utc(),
            sent_at: r.sent_at.map(|t| t.and_utc()),
            digest_id: r.digest_id,
        })
        .collect();
    Ok(HttpResponse::Ok().json(ReminderList { items, next_cursor }))
}
