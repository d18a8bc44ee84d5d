//! The daily lapse job (2019 Art. 30): corrections not answered by the applicant's date.

use chrono::NaiveDate;

use crate::db::calendar::CalendarCache;
use crate::db::cases;
use crate::db::locks::Author;
use crate::db::DbConnection;
use crate::domain::events::ClockRecord;
use crate::error::AppError;

/// The daily lapse job: every open case still awaiting a correction after the applicant's set date
/// gets a `correction_lapsed` event dated the day after that date and is deemed abandoned (2019
/// Art. 30). Returns the tracking numbers. Safe to run repeatedly and on several instances at once:
/// a case another run already closed is skipped.
pub fn apply_correction_lapses(
    conn: &mut DbConnection,
    calendars: &CalendarCache,
    today: NaiveDate,
) -> Result<Vec<String>, AppError> {
    use crate::domain::deadline::{compute, Clock};
    // A case awaiting a correction has no final deadline: only those need a look.
    let ids = cases::open_case_ids(conn, true)?;
    let mut lapsed = Vec::new();
    for id in ids {
        let Some(record) = cases::find(conn, &id)? else { continue };
        let rules = calendars.rules(conn, Some(&record.agency_path))?;
        let Some(regime) = rules.regime(&record.row.regime) else { continue };
        let events = cases::clock_events(conn, &id)?;
        let deadline = match compute(regime, &rules.calendar, record.row.received_on, &events, today) {
            Ok(deadline) => deadline,
            // A history recorded before a rule tightened is left for a person, not a stop for the job.
            Err(e) => {
                tracing::warn!(case = %record.row.tracking_number, error = %e, "lapse not checked");
                continue;
            }
        };
        let Clock::AwaitingCorrection { respond_by, .. } = deadline.clock else { continue };
        if respond_by >= today {
            continue;
        }
        let Some(lapsed_on) = respond_by.succ_opt() else { continue };
        let clock = ClockRecord {
            event: crate::domain::deadline::ClockEvent::CorrectionLapsed { on: lapsed_on },
            evidence: Some(format!("no corrected request by {respond_by}")),
            override_reason: None,
        };
        match cases::record_clock_event(conn, &record, clock, regime, &rules.calendar, &Author::SYSTEM, today) {
            Ok(_) => lapsed.push(record.row.tracking_number),
            // Changed meanwhile, or the lapse falls into a published year: left for a person to decide.
            Err(AppError::PreconditionFailed(_) | AppError::ReportLocked(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(lapsed)
}
