//! Workflow actions on a case: review, reply, approval, service, side exits, archive, fees, appeals,
//! new replies. The state machine and role table (`domain::workflow`) and every other rule
//! (`domain::decide`) judge the action; this use case gathers the facts only storage knows, records
//! the decided event, and registers the linked case of a transfer in the same transaction.

use chrono::{NaiveDate, Utc};

use super::cases::{details, earlier_case, for_change, CaseDetails};
use crate::db::calendar::CalendarCache;
use crate::db::cases::{self, CaseRecord};
use crate::db::locks::Author;
use crate::db::{agencies, users, DbConnection};
use crate::domain::case::Case;
use crate::domain::decide::{decide, ActionInput, Decision, DuplicateOf, Facts, ReceiptBounds};
use crate::domain::events::{CaseEvent, DocumentLink, WorkflowRecord};
use crate::domain::fees::CostRates;
use crate::domain::intake::{Intake, ReceiptBasis};
use crate::domain::letters::DocumentKind;
use crate::domain::role::Principal;
use crate::domain::validation::Validator;
use crate::domain::workflow::{permitted, transition, WorkflowEvent};
use crate::error::AppError;

/// An action with the reason recorded beside it and, for back-entered work, its business date.
#[derive(Debug, Clone)]
pub struct Command {
    pub action: ActionInput,
    pub reason: Option<String>,
    pub effective_on: Option<NaiveDate>,
}

/// Who acts, on which case, expecting which version of it.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub case_id: &'a str,
    /// The case's version as the actor last read it (`If-Match`).
    pub if_match: Option<&'a str>,
    /// An administrator's reason to change a published year's numbers.
    pub lock_override: Option<&'a str>,
}

/// Checks what can be checked before the case is read: the role may take the action, and the
/// reason is there where the action needs one. Returns the cleaned reason.
pub fn admit(user: &Principal, command: &Command) -> Result<Option<String>, AppError> {
    let action = command.action.action();
    if !permitted(user.role, action) {
        return Err(AppError::Forbidden(format!("the {} role cannot {action}", user.role)));
    }
    let mut v = Validator::new();
    let reason = v.optional_text("reason", command.reason.as_deref(), 2000);
    if reason.is_none() && action.needs_reason() {
        v.error("reason", format!("`{action}` needs a reason"));
    }
    v.finish()?;
    Ok(reason)
}

/// Takes `command` on the case: judged against the case as it is now; the case as it then stands.
pub fn act(
    conn: &mut DbConnection,
    calendars: &CalendarCache,
    rates: CostRates,
    user: &Principal,
    target: Target<'_>,
    command: Command,
) -> Result<CaseDetails, AppError> {
    let reason = admit(user, &command)?;
    let (record, case) = for_change(conn, user, target.case_id, target.if_match)?;
    let rules = calendars.rules(conn, Some(&record.agency_path))?;
    let action = command.action.action();
    if let Err(mut illegal) = transition(case.state, action, case.resume) {
        // Name what this caller could do instead, as the case read does.
        let clock = cases::clock_events(conn, &record.row.id)?;
        illegal.allowed = super::cases::allowed_actions(&record, &case, &clock, user, &rules)?;
        return Err(illegal.into());
    }
    let regime = super::cases::regime(&rules, &record)?.clone();
    let today = crate::domain::china_date(Utc::now());
    // The facts only the database knows, for the action that needs them.
    let handler = match &command.action {
        ActionInput::Assign { handler_id } => users::find_principal(conn, &handler_id.to_string())?,
        _ => None,
    };
    let requests_in_month = match &command.action {
        ActionInput::AssessFee { .. } => {
            u32::try_from(cases::applicant_requests_in_month(conn, &record.row)?).unwrap_or(u32::MAX)
        }
        _ => 0,
    };
    let repeated_record = match command.action.repeat_of().map(|id| uuid::Uuid::parse_str(&id)) {
        Some(Ok(id)) => cases::find(conn, &id.to_string())?.filter(|c| user.covers(&c.agency_path)),
        _ => None,
    };
    let receipt_bounds = match &command.action {
        ActionInput::AmendRegistration { .. } => Some(receipt_bounds(conn, &record, &case, &regime, today)?),
        _ => None,
    };
    let duplicate_record = match &command.action {
        ActionInput::VoidDuplicate { duplicate_of } => named_case(conn, user, duplicate_of)?,
        _ => None,
    };
    let duplicate_of = duplicate_record.as_ref().map(|r| DuplicateOf {
        id: &r.row.id,
        tracking_number: &r.row.tracking_number,
        state: r.row.state,
        is_self: r.row.id == record.row.id,
    });
    let facts = Facts {
        actor: user,
        today,
        effective_on: command.effective_on,
        regime: &regime,
        calendar: &rules.calendar,
        rates,
        agency_code: &record.agency_code,
        agency_path: &record.agency_path,
        handler: handler.as_ref(),
        requests_in_month,
        repeated: repeated_record.as_ref().map(|r| (earlier_case(r), r.row.id == record.row.id)),
        receipt_bounds,
        duplicate_of,
    };
    let author = Author { user_id: Some(&user.user_id), lock_override: target.lock_override };
    let updated = match decide(&case, command.action, &facts)? {
        Decision::Transfer { on, to_agency } => {
            let (agency, intake) = transfer_intake(conn, &record, &case, on, &to_agency)?;
            let agency_rules = calendars.rules(conn, Some(&agency.path))?;
            let agency_regime = agency_rules.regime_for(&agency.path, on).cloned().ok_or_else(|| {
                AppError::validation("action.on", format!("no regime governs a request received on {on}"))
            })?;
            let new = cases::NewCase {
                agency: &agency,
                intake,
                regime: &agency_regime,
                calendar: &agency_rules.calendar,
                transferred_from: Some(record.row.id.clone()),
            };
            // The linked case and this case's closing are written together, or neither.
            crate::db::transaction(conn, |conn| {
                let (linked, _) = cases::insert_registration(conn, user, target.lock_override, new)?;
                let step = CaseEvent::Workflow(WorkflowRecord::new(
                    WorkflowEvent::Transferred { on, to_agency: agency.code.clone(), to_case_id: linked.row.id },
                    reason.clone(),
                    None,
                ));
                Ok(cases::record_event(conn, &record, step, &regime, &rules.calendar, &author, today)?)
            })?
        }
        Decision::Record(event) => {
            let mut step = WorkflowRecord::new(event, reason, command.effective_on);
            if serves_the_reply(&step.event) {
                step.document =
                    case.documents.iter().rev().find(|d| d.kind == DocumentKind::Reply).map(|d| DocumentLink {
                        id: d.id.clone(),
                        number: d.number.clone(),
                        version: d.version,
                        sha256: d.sha256.clone(),
                    });
            }
            let event = CaseEvent::Workflow(step);
            cases::record_event(conn, &record, event, &regime, &rules.calendar, &author, today)?
        }
    };
    details(conn, calendars, user, updated)
}

/// How far an amendment may move the receipt date: not past today or the first dated step of the
/// case (a clock event or a reply), and not out of the regime that governs it or the year its
/// tracking number counts in.
fn receipt_bounds(
    conn: &mut DbConnection,
    record: &CaseRecord,
    case: &Case,
    regime: &crate::domain::deadline::RegimeRules,
    today: NaiveDate,
) -> Result<ReceiptBounds, AppError> {
    use chrono::Datelike;
    let first_step = cases::clock_events(conn, &record.row.id)?.iter().map(|e| e.on()).min();
    let latest = [Some(today), first_step, case.served_on].into_iter().flatten().min().unwrap_or(today);
    let year = case.received_on.year();
    let year_first = NaiveDate::from_ymd_opt(year, 1, 1).expect("a valid year");
    let year_last = NaiveDate::from_ymd_opt(year, 12, 31).expect("a valid year");
    let regime_last = regime.effective_until.and_then(|until| until.pred_opt()).unwrap_or(NaiveDate::MAX);
    Ok(ReceiptBounds {
        latest,
        regime_first: regime.effective_from.max(year_first),
        regime_last: regime_last.min(year_last),
    })
}

/// The case a request names by id or tracking number, if it exists in the caller's scope.
/// The case `named` by its id or tracking number, if `user` may see it.
pub fn named_case(conn: &mut DbConnection, user: &Principal, named: &str) -> Result<Option<CaseRecord>, AppError> {
    let found = match uuid::Uuid::parse_str(named.trim()) {
        Ok(id) => cases::find(conn, &id.to_string())?,
        Err(_) => cases::find_by_number(conn, named.trim())?,
    };
    Ok(found.filter(|r| user.covers(&r.agency_path)))
}

/// The receiving agency and the intake of the linked case: the same applicant and request, received
/// there on the transfer date.
fn transfer_intake(
    conn: &mut DbConnection,
    record: &CaseRecord,
    case: &Case,
    on: NaiveDate,
    to_agency: &str,
) -> Result<(agencies::AgencyRow, Intake), AppError> {
    let agency = agencies::find_by_code(conn, to_agency)?
        .ok_or_else(|| AppError::validation("action.to_agency", format!("no agency has code `{to_agency}`")))?;
    let topic = match &case.topic {
        Some(t) if agencies::topics_for(conn, &agency)?.iter().any(|known| &known.code == t) => Some(t.clone()),
        _ => None,
    };
    let intake = Intake {
        agency: agency.code.clone(),
        channel: case.channel,
        arrived_at: crate::domain::truncate_to_micros(Utc::now()),
        received_on: on,
        receipt_basis: ReceiptBasis::ClerkDetermined,
        receipt_evidence: Some(format!("转送自 {} 案件 {}（{}）", record.agency_code, record.row.tracking_number, on)),
        applicant: case.applicant.clone(),
        description: case.description.clone(),
        delivery_form: case.delivery_form,
        topic,
    };
    Ok((agency, intake))
}

/// The steps that hand the applicant a decision letter: the service of a reply (first or ordered
/// anew), the notice that the request will not be processed, a reply on the spot.
fn serves_the_reply(event: &WorkflowEvent) -> bool {
    matches!(
        event,
        WorkflowEvent::Served { .. }
            | WorkflowEvent::ReplyReissued { .. }
            | WorkflowEvent::NotProcessed { .. }
            | WorkflowEvent::AnsweredOnTheSpot { .. }
    )
}
