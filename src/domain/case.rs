//! A case as the projection of its events: the case row is `Case::from_events(events)`.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use utoipa::ToSchema;

use super::events::{CaseEvent, Registration};
use super::intake::{string_enum, Applicant, Channel, DeliveryForm, Intake, ReceiptBasis, Regime};

string_enum! {
    /// Where a case stands in its lifecycle (Art. 45: 登记, 审核, 办理, 答复, 归档).
    CaseState {
        /// Entered, not yet numbered.
        Received => "received",
        /// 登记: numbered, regime fixed, the clock running.
        Registered => "registered",
    }
}

/// The projected state of one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    pub state: CaseState,
    pub agency: String,
    pub channel: Channel,
    pub arrived_at: DateTime<Utc>,
    pub received_on: NaiveDate,
    pub receipt_basis: ReceiptBasis,
    pub receipt_evidence: Option<String>,
    pub applicant: Applicant,
    pub description: String,
    pub delivery_form: DeliveryForm,
    pub topic: Option<String>,
    pub registration: Option<Registration>,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum ProjectionError {
    #[error("the first event of a case must be `received`")]
    NotStartedByReceipt,
    #[error("event `{event}` cannot follow state `{state}`")]
    OutOfOrder {
        state: CaseState,
        event: &'static str,
    },
}

impl Case {
    fn received(intake: &Intake) -> Case {
        let i = intake.clone();
        Case {
            state: CaseState::Received,
            agency: i.agency,
            channel: i.channel,
            arrived_at: i.arrived_at,
            received_on: i.received_on,
            receipt_basis: i.receipt_basis,
            receipt_evidence: i.receipt_evidence,
            applicant: i.applicant,
            description: i.description,
            delivery_form: i.delivery_form,
            topic: i.topic,
            registration: None,
        }
    }

    /// Folds one more event into the case.
    pub fn apply(mut self, event: &CaseEvent) -> Result<Case, ProjectionError> {
        match (self.state, event) {
            (CaseState::Received, CaseEvent::Registered(r)) => {
                self.state = CaseState::Registered;
                self.registration = Some(r.clone());
                Ok(self)
            }
            (state, event) => Err(ProjectionError::OutOfOrder {
                state,
                event: event.kind(),
            }),
        }
    }

    /// Rebuilds a case from its whole event history.
    pub fn from_events<'a>(
        events: impl IntoIterator<Item = &'a CaseEvent>,
    ) -> Result<Case, ProjectionError> {
        let mut events = events.into_iter();
        let mut case = match events.next() {
            Some(CaseEvent::Received(intake)) => Case::received(intake),
            _ => return Err(ProjectionError::NotStartedByReceipt),
        };
        for event in events {
            case = case.apply(event)?;
        }
        Ok(case)
    }

    pub fn regime(&self) -> Option<Regime> {
        self.registration.as_ref().map(|r| r.regime)
    }
}

/// The events of a new registration: receipt, then numbering under the regime of the receipt date.
pub fn register(intake: Intake, agency_code: &str, seq: i32) -> [CaseEvent; 2] {
    let year = chrono::Datelike::year(&intake.received_on);
    let registration = Registration {
        tracking_number: super::intake::tracking_number(agency_code, year, seq),
        tracking_year: year,
        tracking_seq: seq,
        regime: Regime::for_receipt_date(intake.received_on),
    };
    [
        CaseEvent::Received(Box::new(intake)),
        CaseEvent::Registered(registration),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::intake::ApplicantKind;

    fn intake(received_on: NaiveDate) -> Intake {
        Intake {
            agency: "PJ".into(),
            channel: Channel::Letter,
            arrived_at: DateTime::parse_from_rfc3339("2019-05-14T02:00:00Z")
                .unwrap()
                .to_utc(),
            received_on,
            receipt_basis: ReceiptBasis::PostSignedFor,
            receipt_evidence: None,
            applicant: Applicant {
                kind: ApplicantKind::Business,
                name: "盘锦某公司".into(),
                id_number: None,
                phone: None,
                email: None,
                address: Some("盘锦市兴隆台区".into()),
            },
            description: "d".into(),
            delivery_form: DeliveryForm::Email,
            topic: Some("urban".into()),
        }
    }

    #[test]
    fn registration_numbers_the_case_in_its_receipt_year_under_its_regime() {
        let events = register(
            intake(NaiveDate::from_ymd_opt(2019, 5, 15).unwrap()),
            "PJ",
            7,
        );
        let case = Case::from_events(&events).unwrap();
        assert_eq!(case.state, CaseState::Registered);
        let r = case.registration.unwrap();
        assert_eq!(r.tracking_number, "PJ-2019-00007");
        assert_eq!(r.regime, Regime::Ogi2019);
        let events = register(
            intake(NaiveDate::from_ymd_opt(2019, 5, 14).unwrap()),
            "PJ",
            1,
        );
        assert_eq!(
            Case::from_events(&events).unwrap().regime(),
            Some(Regime::Ogi2008)
        );
    }

    #[test]
    fn a_history_must_start_with_receipt() {
        let [_, registered] = register(
            intake(NaiveDate::from_ymd_opt(2015, 1, 5).unwrap()),
            "PJ",
            1,
        );
        assert_eq!(
            Case::from_events([&registered]),
            Err(ProjectionError::NotStartedByReceipt)
        );
    }

    #[test]
    fn registering_twice_is_out_of_order() {
        let [received, registered] = register(
            intake(NaiveDate::from_ymd_opt(2015, 1, 5).unwrap()),
            "PJ",
            1,
        );
        let err = Case::from_events([&received, &registered, &registered]).unwrap_err();
        assert_eq!(
            err,
            ProjectionError::OutOfOrder {
                state: CaseState::Registered,
                event: "registered"
            }
        );
    }

    #[test]
    fn events_survive_storage_and_rebuild_the_same_case() {
        let events = register(
            intake(NaiveDate::from_ymd_opt(2015, 1, 5).unwrap()),
            "PJ",
            3,
        );
        let stored: Vec<_> = events
            .iter()
            .map(|e| (e.kind(), e.payload_json()))
            .collect();
        let reloaded: Vec<_> = stored
            .iter()
            .map(|(k, p)| CaseEvent::from_stored(k, p).unwrap())
            .collect();
        assert_eq!(Case::from_events(&reloaded), Case::from_events(&events));
    }
}
