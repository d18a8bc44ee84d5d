//! What an office's monitoring watches besides the HTTP traffic: open and overdue cases, the reminder
//! outbox by state, the last reminder run of this process.

use crate::db::DbConnection;
use crate::domain::reminders::OutboxState;
use crate::error::AppError;

/// The office gauges at one moment.
#[derive(Debug, Clone, Default)]
pub struct OfficeGauges {
    pub open_cases: i64,
    /// Open cases past their final deadline today (China date).
    pub overdue_cases: i64,
    pub outbox: Vec<(OutboxState, i64)>,
    /// Unix seconds of this process's last finished reminder run (0: none yet).
    pub last_reminder_run: i64,
}

pub fn office_gauges(conn: &mut DbConnection) -> Result<OfficeGauges, AppError> {
    let today = crate::domain::china_date(chrono::Utc::now());
    let (open_cases, overdue_cases) = crate::db::cases::count_open_and_overdue(conn, today)?;
    let counted = crate::db::reminders::count_by_state(conn)?;
    let outbox = OutboxState::ALL
        .iter()
        .map(|&state| (state, counted.iter().find(|(s, _)| *s == state).map_or(0, |(_, n)| *n)))
        .collect();
    let last_reminder_run = crate::service::reminders::LAST_RUN_UNIX.load(std::sync::atomic::Ordering::Relaxed);
    Ok(OfficeGauges { open_cases, overdue_cases, outbox, last_reminder_run })
}
