//! Registering a request (登记): the agency and topic checked, the regime governing the receipt date
//! chosen, the case numbered and written, and, for a request with an Idempotency-Key, the response
//! kept so that a retry gets it again, all in one transaction.

use super::directory::Named;
use crate::db::calendar::CalendarCache;
use crate::db::cases::{self, IdempotencyRequest, NewCase, Registered, StoredResponse};
use crate::db::{agencies, is_unique_violation, DbConnection, TxError};
use crate::domain::intake::Intake;
use crate::domain::role::Principal;
use crate::error::AppError;

use super::cases::CaseDetails;

/// Registers a validated intake for `user`. `render` gives the response a retry must repeat (the
/// caller's presentation of the new case); it is kept with the Idempotency-Key in the same
/// transaction as the case.
pub fn register(
    conn: &mut DbConnection,
    calendars: &CalendarCache,
    user: &Principal,
    lock_override: Option<&str>,
    intake: Intake,
    idempotency: Option<&IdempotencyRequest>,
    render: impl FnOnce(&CaseDetails) -> Result<StoredResponse, AppError>,
) -> Result<Registered, AppError> {
    if !user.role.can_register() {
        return Err(AppError::Forbidden(format!("the {} role cannot register requests", user.role)));
    }
    let agency = super::directory::agency_in_scope(conn, user, &intake.agency, Named::InField("agency"))?;
    if let Some(topic) = &intake.topic {
        if !agencies::topics_for(conn, &agency)?.iter().any(|t| &t.code == topic) {
            return Err(AppError::validation(
                "topic",
                format!("`{topic}` is not in the topic taxonomy of `{}` or its parent agencies", agency.code),
            ));
        }
    }
    let rules = calendars.rules(conn, Some(&agency.path))?;
    let regime = rules.regime_for(&agency.path, intake.received_on).cloned().ok_or_else(|| {
        AppError::validation("received_on", format!("no regime governs the receipt date {}", intake.received_on))
    })?;
    if let Some(request) = idempotency {
        if let Some(first) = cases::find_idempotent(conn, &user.user_id, &request.key)? {
            return replay(first, request);
        }
    }
    let result = crate::db::transaction(conn, |conn| {
        let new =
            NewCase { agency: &agency, intake, regime: &regime, calendar: &rules.calendar, transferred_from: None };
        let (record, case) = cases::insert_registration(conn, user, lock_override, new)?;
        // Answer as a later read by the same user would.
        let allowed_actions = super::cases::allowed_actions(&record, &case, &[], user, &rules)?;
        let details = CaseDetails { record, case, allowed_actions, rules: rules.clone() };
        let response = render(&details)?;
        if let Some(request) = idempotency {
            cases::store_idempotent(conn, &user.user_id, request, &response)?;
        }
        Ok(Registered::Created { record: Box::new(details.record), response })
    });
    match result {
        Ok(registered) => Ok(registered),
        // A concurrent retry with the same key won the race: answer as it did.
        Err(TxError::Db(e)) if is_unique_violation(&e) && idempotency.is_some() => {
            let request = idempotency.expect("checked above");
            match cases::find_idempotent(conn, &user.user_id, &request.key)? {
                Some(first) => replay(first, request),
                None => Err(e.into()),
            }
        }
        Err(e) => Err(e.into()),
    }
}

/// The first response to a retried request, if the retry is the same request.
fn replay(
    (request_hash, response): (String, StoredResponse),
    request: &IdempotencyRequest,
) -> Result<Registered, AppError> {
    if request_hash != request.request_hash {
        return Err(AppError::IdempotencyKeyReused(format!(
            "Idempotency-Key `{}` was first used with a different request body; use a new key for a new request",
            request.key
        )));
    }
    Ok(Registered::Replayed(response))
}
