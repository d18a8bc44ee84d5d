//! The row types of a case, its events and its appeals, as the tables store them: shared by the
//! case store (`cases.rs`) and the report locks (`locks.rs`), which compare a case's rows before and
//! after a change.

use chrono::NaiveDate;
use diesel::prelude::*;

use super::schema::{case_appeals, case_events, cases};
use crate::domain::events::Closing;
use crate::domain::intake::{ApplicantKind, Channel, DeliveryForm, ReceiptBasis};
use crate::domain::outcome::OutcomeKind;
use crate::domain::workflow::{Appeal, AppealKind, AppealOutcome, CaseState, ServiceMethod};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = cases, treat_none_as_null = true)]
pub struct CaseRow {
    pub id: String,
    pub agency_id: String,
    pub tracking_number: String,
    pub tracking_year: i32,
    pub tracking_seq: i32,
    pub state: CaseState,
    pub regime: String,
    pub channel: Channel,
    pub arrived_at: chrono::NaiveDateTime,
    pub received_on: NaiveDate,
    pub receipt_basis: ReceiptBasis,
    pub receipt_evidence: Option<String>,
    pub applicant_kind: ApplicantKind,
    pub applicant_name: String,
    pub applicant_id_number: Option<String>,
    pub applicant_phone: Option<String>,
    pub applicant_email: Option<String>,
    pub applicant_address: Option<String>,
    pub description: String,
    pub delivery_form: DeliveryForm,
    pub topic: Option<String>,
    pub created_by: String,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
    pub last_event_seq: i32,
    pub last_event_hash: String,
    pub due_on: Option<NaiveDate>,
    pub final_due_on: Option<NaiveDate>,
    pub deadline_provisional: bool,
    pub closed_on: Option<NaiveDate>,
    pub closed_as: Option<Closing>,
    pub handler_id: Option<String>,
    pub outcome: Option<OutcomeKind>,
    pub outcome_reason: Option<String>,
    pub already_public: bool,
    pub repeat_of_case_id: Option<String>,
    pub draft_outcome: Option<String>,
    pub served_on: Option<NaiveDate>,
    pub service_method: Option<ServiceMethod>,
    pub transferred_to_case_id: Option<String>,
    pub transferred_from_case_id: Option<String>,
    pub fee_charged_fen: i64,
    pub fee_waived_fen: i64,
    pub stop_ends_on: Option<NaiveDate>,
    /// A repeat request's earlier request answered outside this service, as JSON.
    pub repeat_of_earlier: Option<String>,
    /// The fee as paid: amount, day and receipt number (reports count it in the year paid).
    pub fee_paid_fen: i64,
    pub fee_paid_on: Option<NaiveDate>,
    pub fee_receipt_number: Option<String>,
    /// The day a waiver was decided (it counts in that year's waiver figure).
    pub fee_waived_on: Option<NaiveDate>,
    /// New replies ordered on appeal (重新答复), as JSON, and the day the latest was served.
    pub re_replies: Option<String>,
    pub re_replied_on: Option<NaiveDate>,
    /// The applicant's phone, e-mail and ID number as searches match them (`intake::phone_key`, ...).
    pub applicant_phone_key: Option<String>,
    pub applicant_email_key: Option<String>,
    pub applicant_id_number_key: Option<String>,
    /// The free-text search terms of the description, applicant's name and tracking number
    /// (`search::case_terms`).
    pub search_terms: String,
}

/// One reconsideration, lawsuit or complaint, as its row (the projection of the case's events).
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = case_appeals)]
pub struct AppealRow {
    pub case_id: String,
    pub number: i32,
    pub kind: AppealKind,
    pub filed_on: NaiveDate,
    pub reference: Option<String>,
    pub outcome: AppealOutcome,
    pub decided_on: Option<NaiveDate>,
}

impl AppealRow {
    pub fn of(case_id: &str, a: &Appeal) -> AppealRow {
        AppealRow {
            case_id: case_id.to_owned(),
            number: a.number,
            kind: a.kind,
            filed_on: a.filed_on,
            reference: a.reference.clone(),
            outcome: a.outcome,
            decided_on: a.decided_on,
        }
    }

    pub fn appeal(&self) -> Appeal {
        Appeal {
            number: self.number,
            kind: self.kind,
            filed_on: self.filed_on,
            reference: self.reference.clone(),
            outcome: self.outcome,
            decided_on: self.decided_on,
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = case_events)]
pub struct EventRow {
    pub id: String,
    pub case_id: String,
    pub seq: i32,
    pub kind: String,
    pub payload: String,
    pub actor_id: Option<String>,
    pub occurred_at: chrono::NaiveDateTime,
    pub prev_hash: String,
    pub hash: String,
}
