//! Clock events on a case (corrections, consultations, extensions, delays, fees) and deadlines:
//! a case's explained deadline, and the public calculator.

use chrono::{NaiveDate, Utc};

use super::cases::{for_change, regime, visible};
use crate::db::calendar::{CalendarCache, Rules};
use crate::db::cases::{self, CaseRecord};
use crate::db::locks::Author;
use crate::db::DbConnection;
use crate::domain::case::{check_clock_event, settle_extension, settle_fee_payment, ClockRefusal};
use crate::domain::deadline::{
    calculate, compute, correction_notice_due, Calculation, ClockEvent, Deadline, Explanation, Timeliness,
};
use crate::domain::events::ClockRecord;
use crate::domain::role::{Principal, Role};
use crate::domain::validation::Validator;
use crate::error::AppError;

/// A clock event with its evidence and any approver's override.
#[derive(Debug, Clone)]
pub struct Command {
    pub event: ClockEvent,
    pub evidence: Option<String>,
    pub override_reason: Option<String>,
}

/// A case's deadline, with its timeliness today and how it came about.
#[derive(Debug, Clone)]
pub struct ExplainedDeadline {
    pub deadline: Deadline,
    pub timeliness: Timeliness,
    pub explanation: Explanation,
}

/// Whether `user` records clock events at all: handlers, approvers and administrators.
pub fn admit(user: &Principal) -> Result<(), AppError> {
    if matches!(user.role, Role::Handler | Role::Approver | Role::Admin) {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!("the {} role cannot record clock events", user.role)))
    }
}

/// Cleans a command's free texts (evidence, override reason, receipt number).
pub fn validate(mut command: Command) -> Result<Command, AppError> {
    let mut v = Validator::new();
    command.evidence = v.optional_text("evidence", command.evidence.as_deref(), 2000);
    command.override_reason = v.optional_text("override_reason", command.override_reason.as_deref(), 2000);
    if let ClockEvent::FeePaid { receipt_number, .. } = &mut command.event {
        *receipt_number = v.optional_text("event.receipt_number", receipt_number.as_deref(), 100);
    }
    v.finish()?;
    Ok(command)
}

/// Records a clock event on the case `case_id`, expected at version `if_match`: judged against the
/// case as it is now; the recorded case and its deadline.
pub fn record(
    conn: &mut DbConnection,
    calendars: &CalendarCache,
    user: &Principal,
    (case_id, if_match, lock_override): (&str, Option<&str>, Option<&str>),
    command: Command,
) -> Result<(CaseRecord, ExplainedDeadline), AppError> {
    admit(user)?;
    let command = validate(command)?;
    let (record, case) = for_change(conn, user, case_id, if_match)?;
    let rules = calendars.rules(conn, Some(&record.agency_path))?;
    let regime = regime(&rules, &record)?;
    let today = crate::domain::china_date(Utc::now());
    let notice_due = correction_notice_due(regime, &rules.calendar, case.received_on).map_err(AppError::internal)?;
    let mut clock =
        ClockRecord { event: command.event, evidence: command.evidence, override_reason: command.override_reason };
    check_clock_event(&case, &clock, notice_due, user.role == Role::Approver, today).map_err(|e| match e {
        ClockRefusal::ApproverOnly(_) => AppError::Forbidden(e.to_string()),
        ClockRefusal::Illegal(illegal) => illegal.into(),
        ClockRefusal::Closed(_) | ClockRefusal::WorkflowOnly(..) | ClockRefusal::NoFeeToNotify => {
            AppError::Conflict(e.to_string())
        }
        ClockRefusal::OverrideWithoutReason => AppError::validation("override_reason", e.to_string()),
        ClockRefusal::FeeAmountMismatch { .. } => AppError::validation("event.amount_fen", e.to_string()),
        _ => AppError::validation("event.on", e.to_string()),
    })?;
    settle_fee_payment(&case, &mut clock);
    let history = cases::clock_events(conn, &record.row.id)?;
    settle_extension(regime, &rules.calendar, case.received_on, &history, &mut clock, today)
        .map_err(cases::deadline_problem)?;
    // A change between the If-Match check and the write makes this a 412 as well.
    let author = Author { user_id: Some(&user.user_id), lock_override };
    let updated = cases::record_clock_event(conn, &record, clock, regime, &rules.calendar, &author, today)?;
    let explained = explained(conn, &updated, &rules, today)?;
    Ok((updated, explained))
}

/// A case's deadline from its stored clock events, with timeliness and explanation.
pub fn explained(
    conn: &mut DbConnection,
    record: &CaseRecord,
    rules: &Rules,
    today: NaiveDate,
) -> Result<ExplainedDeadline, AppError> {
    let regime = regime(rules, record)?;
    let events = cases::clock_events(conn, &record.row.id)?;
    // A history recorded before a rule tightened (an Art. 35 delay on a 2008 case, say) no longer
    // computes: the case keeps its stored deadline, and the answer says why it cannot be explained.
    let deadline = compute(regime, &rules.calendar, record.row.received_on, &events, today).map_err(|e| {
        AppError::Conflict(format!(
            "case {}'s recorded clock events no longer fit the rules of {} ({e}); its stored final deadline {} stands",
            record.row.tracking_number,
            regime.code,
            record.row.final_due_on.map_or("(none)".to_owned(), |d| d.to_string())
        ))
    })?;
    let timeliness = deadline.timeliness(&rules.calendar, today).map_err(AppError::internal)?;
    let explanation = deadline.explanation(&rules.calendar);
    Ok(ExplainedDeadline { deadline, timeliness, explanation })
}

/// The deadline of the case `case_id` as `user` may read it, explained, on `today`.
pub fn deadline_of(
    conn: &mut DbConnection,
    calendars: &CalendarCache,
    user: &Principal,
    case_id: &str,
    today: NaiveDate,
) -> Result<ExplainedDeadline, AppError> {
    let record = visible(conn, user, case_id)?;
    let rules = calendars.rules(conn, Some(&record.agency_path))?;
    explained(conn, &record, &rules, today)
}

/// The public calculator: a receipt date under a regime (by default the one governing the date at
/// the agency `agency_code`, or nationally), with the longest extension, on the agency's calendar.
pub fn calculation(
    conn: &mut DbConnection,
    calendars: &CalendarCache,
    agency_code: Option<&str>,
    received_on: NaiveDate,
    regime: Option<&str>,
) -> Result<Calculation, AppError> {
    let agency = match agency_code {
        Some(code) => Some(
            crate::db::agencies::find_by_code(conn, code)?
                .ok_or_else(|| AppError::NotFound(format!("no agency with code `{code}`")))?,
        ),
        None => None,
    };
    let path = agency.as_ref().map(|a| a.path.as_str());
    let rules = calendars.rules(conn, path)?;
    let regime = match regime {
        Some(code) => rules.regime(code).ok_or_else(|| {
            let known: Vec<&str> = rules.regimes.iter().map(|(r, _)| r.code.as_str()).collect();
            AppError::validation("regime", format!("unknown regime `{code}`; known: {}", known.join(", ")))
        })?,
        None => rules
            .regime_for(path.unwrap_or("/"), received_on)
            .ok_or_else(|| AppError::validation("received_on", format!("no regime governs {received_on}")))?,
    };
    calculate(regime, &rules.calendar, received_on).map_err(|e| AppError::validation("received_on", e.to_string()))
}
