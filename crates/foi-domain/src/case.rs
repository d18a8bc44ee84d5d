//! A case as the projection of its events: the case row is `Case::from_events(events)`.

use chrono::{DateTime, NaiveDate, Utc};
use thiserror::Error;

use super::calendar::WorkingDayIndex;
use super::deadline::{compute, ClockEvent, Deadline, DeadlineError, RegimeRules, Timeliness};
use super::events::{CaseEvent, Closing, DeadlineChange, DeadlineSummary, Registration};
use super::fees::{FeeAssessment, FeePayment};
use super::intake::{Applicant, Channel, DeliveryForm, Intake, ReceiptBasis};
use super::outcome::{OtherReason, Outcome, UnableReason};
use super::workflow::{
    available_actions, transition, Action, ActionFacts, Appeal, AppealOutcome, CaseState, ClockFacts,
    IllegalTransition, ReReply, ServiceMethod, WorkflowEvent,
};

/// Why a clock event is refused for a case.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ClockRefusal {
    #[error("only an approver (the office head) may {0}")]
    ApproverOnly(&'static str),
    #[error("the correction notice had to go out by {due} (7 working days after receipt); an approver may override with a reason")]
    LateCorrectionNotice { due: NaiveDate },
    #[error("an override needs a reason")]
    OverrideWithoutReason,
    #[error("{0} is in the future")]
    InTheFuture(NaiveDate),
    #[error("the case is {0}: its clock no longer runs")]
    Closed(CaseState),
    #[error("`{0}` is recorded by the workflow action `{1}` at /api/v1/cases/{{id}}/actions, not as a clock event")]
    WorkflowOnly(&'static str, &'static str),
    #[error(transparent)]
    Illegal(#[from] super::workflow::IllegalTransition),
    #[error("a fee notice needs an assessed fee to pay (assess_fee first)")]
    NoFeeToNotify,
    #[error("the fee notice asked for {charged} fen; {paid} fen is not that fee")]
    FeeAmountMismatch { charged: i64, paid: i64 },
    #[error(transparent)]
    Deadline(#[from] DeadlineError),
}

/// Checks a new clock event against the case and the rules that are not arithmetic: the state
/// machine, who may record it, when, the 2019 window for correction notices (Art. 30), and that a fee
/// notice has a fee to notify. `is_approver`: the actor is the office head.
pub fn check_clock_event(
    case: &Case,
    record: &super::events::ClockRecord,
    correction_notice_due: Option<NaiveDate>,
    is_approver: bool,
    today: NaiveDate,
) -> Result<(), ClockRefusal> {
    let state = case.state;
    let action = match &record.event {
        ClockEvent::Replied { .. } => return Err(ClockRefusal::WorkflowOnly("replied", "serve")),
        ClockEvent::Withdrawn { .. } => return Err(ClockRefusal::WorkflowOnly("withdrawn", "withdraw")),
        ClockEvent::NewReplyOrdered { .. } => {
            return Err(ClockRefusal::WorkflowOnly("new_reply_ordered", "reopen_for_new_reply"))
        }
        event => Action::of_clock(event).expect("every other clock event is an action"),
    };
    if !state.is_open() {
        return Err(ClockRefusal::Closed(state));
    }
    transition(state, action, case.resume)?;
    let on = record.event.on();
    if on > today {
        return Err(ClockRefusal::InTheFuture(on));
    }
    match &record.event {
        ClockEvent::ExtensionApproved { .. } if !is_approver => {
            return Err(ClockRefusal::ApproverOnly("approve an extension"))
        }
        ClockEvent::DelaySet { .. } if !is_approver => return Err(ClockRefusal::ApproverOnly("set an Art. 35 delay")),
        ClockEvent::FeeNoticeSent { .. } if case.fee.as_ref().is_none_or(|f| f.charged_fen <= 0) => {
            return Err(ClockRefusal::NoFeeToNotify)
        }
        ClockEvent::FeePaid { amount_fen: Some(paid), .. } => {
            let charged = case.fee.as_ref().map_or(0, |f| f.charged_fen);
            if *paid != charged {
                return Err(ClockRefusal::FeeAmountMismatch { charged, paid: *paid });
            }
        }
        ClockEvent::CorrectionNoticeSent { on, .. } => {
            if let Some(due) = correction_notice_due.filter(|due| on > due) {
                match &record.override_reason {
                    None => return Err(ClockRefusal::LateCorrectionNotice { due }),
                    Some(_) if !is_approver => {
                        return Err(ClockRefusal::ApproverOnly("override the correction-notice window"))
                    }
                    Some(reason) if reason.trim().is_empty() => return Err(ClockRefusal::OverrideWithoutReason),
                    Some(_) => {}
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// Completes a fee payment as recorded: the amount is the charged fee when the clerk leaves it out
/// (checked against it otherwise, by `check_clock_event`).
pub fn settle_fee_payment(case: &Case, record: &mut super::events::ClockRecord) {
    if let ClockEvent::FeePaid { amount_fen: amount @ None, .. } = &mut record.event {
        *amount = Some(case.fee.as_ref().map_or(0, |f| f.charged_fen));
    }
}

/// Settles an extension against the case's clock (`history`: its clock events so far). Within the
/// rules (2008 Art. 24, 2019 Art. 33: approved and notified within the period, within the cap, while
/// the clock runs) it is recorded as it is. Outside them it is refused, unless the record carries an
/// approver's override reason: then it is marked `overridden`, kept as evidence, and leaves the
/// deadline where it was. A client can never mark an extension overridden itself.
pub fn settle_extension(
    rules: &RegimeRules,
    calendar: &WorkingDayIndex,
    received_on: NaiveDate,
    history: &[ClockEvent],
    record: &mut super::events::ClockRecord,
    today: NaiveDate,
) -> Result<(), DeadlineError> {
    let ClockEvent::ExtensionApproved { overridden, .. } = &mut record.event else {
        return Ok(());
    };
    *overridden = false;
    let mut events = history.to_vec();
    events.push(record.event.clone());
    match compute(rules, calendar, received_on, &events, today) {
        Err(e) if e.is_overridable() && record.override_reason.as_deref().is_some_and(|r| !r.trim().is_empty()) => {
            if let ClockEvent::ExtensionApproved { overridden, .. } = &mut record.event {
                *overridden = true;
            }
            Ok(())
        }
        Err(e) => Err(e),
        Ok(_) => Ok(()),
    }
}

/// The actions `role` could take on `case` on `today` and succeed: the state machine and role table,
/// narrowed by the channel, appeals, fee and the clock (`clock_events`: the case's clock history). A
/// history that no longer computes under today's rules offers no clock events.
pub fn actions_now(
    case: &Case,
    rules: &RegimeRules,
    calendar: &WorkingDayIndex,
    clock_events: &[ClockEvent],
    role: super::role::Role,
    today: NaiveDate,
) -> Vec<Action> {
    let clock = compute(rules, calendar, case.received_on, clock_events, today)
        .ok()
        .map(|deadline| {
            let notice_due = super::deadline::correction_notice_due(rules, calendar, case.received_on).ok().flatten();
            ClockFacts::of(&deadline, rules, notice_due, today)
        })
        .unwrap_or_default();
    let facts = ActionFacts {
        state: case.state,
        in_person: case.channel == Channel::InPerson,
        fee_to_notify: case.fee.as_ref().is_some_and(|f| f.charged_fen > 0),
        fee_paid: case.fee_payment.is_some(),
        re_reply_open: case.re_reply_open(),
        correcting_appeal: case.served_on.is_some() && !case.correcting_appeals().is_empty(),
        pending_appeal: case.appeals.iter().any(|a| a.outcome == AppealOutcome::Pending),
        clock,
    };
    available_actions(role, &facts)
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
    pub deadline: DeadlineSummary,
    /// The user reviewing and handling the case.
    pub handler_id: Option<String>,
    /// The drafted reply's outcome, while it awaits approval and service.
    pub draft: Option<Outcome>,
    /// The final outcome, once the case is closed.
    pub outcome: Option<Outcome>,
    /// When and how the applicant was answered.
    pub served_on: Option<NaiveDate>,
    pub service_method: Option<ServiceMethod>,
    /// The linked case at the agency this request was transferred to.
    pub transferred_to: Option<String>,
    /// The latest fee assessment.
    pub fee: Option<FeeAssessment>,
    /// The fee as paid.
    pub fee_payment: Option<FeePayment>,
    /// The latest business date of a workflow step so far: a later step may not be dated before it.
    pub last_step_on: Option<NaiveDate>,
    /// New replies ordered on appeal (重新答复), in order; the last is open until served.
    pub re_replies: Vec<ReReply>,
    pub appeals: Vec<Appeal>,
    /// The state a stopped clock (correction, consultation, fee) returns the case to.
    pub resume: Option<CaseState>,
    /// The papers attached to the case, oldest first.
    pub attachments: Vec<crate::papers::AttachmentRecord>,
    /// Every version of every letter generated from the case, oldest first.
    pub documents: Vec<crate::letters::DocumentRecord>,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum ProjectionError {
    #[error("the first event of a case must be `received`")]
    NotStartedByReceipt,
    #[error("event `{event}` cannot follow state `{state}`")]
    OutOfOrder { state: CaseState, event: &'static str },
    #[error(transparent)]
    Illegal(#[from] IllegalTransition),
    #[error("{0}")]
    Inconsistent(String),
}

/// States in which a stopped clock holds the case.
fn is_stop(state: CaseState) -> bool {
    matches!(state, CaseState::AwaitingCorrection | CaseState::Consulting | CaseState::AwaitingFee)
}

/// Why a date given for a step of a case is refused.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum DateRefusal {
    #[error("{on} is before the receipt date {received_on}")]
    BeforeReceipt { on: NaiveDate, received_on: NaiveDate },
    #[error("{0} is in the future")]
    InTheFuture(NaiveDate),
    #[error("{on} is before the previous step's date {previous}")]
    BeforePreviousStep { on: NaiveDate, previous: NaiveDate },
}

/// Why a repeat request may not name an earlier request (2019 Art. 36 (六)).
#[derive(Debug, Error, PartialEq, Eq)]
pub enum RepeatRefusal {
    #[error("the earlier case must have been received before this one")]
    NotEarlier,
    #[error("case {tracking_number} ({state}) was not answered: a repeat request repeats a request that had a reply")]
    NotAnswered { tracking_number: String, state: CaseState },
    #[error("{answered_on} is after this request's receipt date {received_on}")]
    AnsweredLater { answered_on: NaiveDate, received_on: NaiveDate },
}

/// What a repeat request needs to know of the case it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EarlierCase<'a> {
    pub tracking_number: &'a str,
    pub state: CaseState,
    pub received_on: NaiveDate,
    pub closing: Option<Closing>,
    pub served_on: Option<NaiveDate>,
    pub transferred: bool,
}

impl Case {
    /// A date something happened to the case on: not before its receipt, not after `today`.
    pub fn check_date(&self, on: NaiveDate, today: NaiveDate) -> Result<NaiveDate, DateRefusal> {
        if on < self.received_on {
            return Err(DateRefusal::BeforeReceipt { on, received_on: self.received_on });
        }
        if on > today {
            return Err(DateRefusal::InTheFuture(on));
        }
        Ok(on)
    }

    /// The date of a workflow step (its own date, or a back-entered step's business date): as
    /// `check_date`, and not before the previous step's date (a reply is not served before it was
    /// approved).
    pub fn check_step_date(&self, on: NaiveDate, today: NaiveDate) -> Result<NaiveDate, DateRefusal> {
        let on = self.check_date(on, today)?;
        match self.last_step_on {
            Some(previous) if on < previous => Err(DateRefusal::BeforePreviousStep { on, previous }),
            _ => Ok(on),
        }
    }

    /// Whether `earlier` may be the request this one repeats (2019 Art. 36 (六)): received before
    /// it, and answered (closed with a reply: not open, withdrawn, abandoned or transferred).
    pub fn check_repeat_of(&self, own_id_is_earlier: bool, earlier: &EarlierCase<'_>) -> Result<(), RepeatRefusal> {
        if own_id_is_earlier || earlier.received_on > self.received_on {
            return Err(RepeatRefusal::NotEarlier);
        }
        let answered =
            earlier.served_on.is_some() && !earlier.transferred && earlier.closing.is_some_and(Closing::is_reply);
        if !answered {
            return Err(RepeatRefusal::NotAnswered {
                tracking_number: earlier.tracking_number.to_owned(),
                state: earlier.state,
            });
        }
        Ok(())
    }

    /// Whether a request answered outside this service may be the one this request repeats: its
    /// answer is dated by this request's receipt.
    pub fn check_repeat_of_earlier(&self, answered_on: NaiveDate) -> Result<(), RepeatRefusal> {
        if answered_on > self.received_on {
            return Err(RepeatRefusal::AnsweredLater { answered_on, received_on: self.received_on });
        }
        Ok(())
    }

    /// A new reply ordered on appeal is being prepared.
    pub fn re_reply_open(&self) -> bool {
        self.re_replies.last().is_some_and(|r| r.served_on.is_none())
    }

    /// The decided appeals that corrected the reply and have not yet ordered a new one (by number).
    pub fn correcting_appeals(&self) -> Vec<i32> {
        self.appeals
            .iter()
            .filter(|a| a.outcome == AppealOutcome::Corrected && a.kind != super::workflow::AppealKind::Complaint)
            .filter(|a| !self.re_replies.iter().any(|r| r.appeal_number == a.number))
            .map(|a| a.number)
            .collect()
    }

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
            deadline: DeadlineSummary::default(),
            handler_id: None,
            draft: None,
            outcome: None,
            served_on: None,
            service_method: None,
            transferred_to: None,
            fee: None,
            fee_payment: None,
            last_step_on: None,
            re_replies: Vec::new(),
            appeals: Vec::new(),
            resume: None,
            attachments: Vec::new(),
            documents: Vec::new(),
        }
    }

    /// Moves to the state `action` leads to, remembering where a clock stop interrupted the work.
    fn advance(&mut self, action: Action) -> Result<(), ProjectionError> {
        let next = transition(self.state, action, self.resume)?;
        if is_stop(next) && !is_stop(self.state) {
            self.resume = Some(self.state);
        } else if !is_stop(next) {
            self.resume = None;
        }
        self.state = next;
        Ok(())
    }

    /// Folds one more event into the case.
    pub fn apply(mut self, event: &CaseEvent) -> Result<Case, ProjectionError> {
        match (self.state, event) {
            (CaseState::Received, CaseEvent::Registered(r)) => {
                self.state = CaseState::Registered;
                self.registration = Some(r.clone());
            }
            // A closed case's deadline record still follows calendar changes (its timeliness may move).
            (state, CaseEvent::DeadlineSet(change)) if state != CaseState::Received => {
                self.deadline = change.deadline.clone();
            }
            // The deadline a clock event produces arrives as the DeadlineSet that follows it.
            (_, CaseEvent::Clock(record)) => {
                let action = Action::of_clock(&record.event)
                    .ok_or(ProjectionError::OutOfOrder { state: self.state, event: record.event.type_name() })?;
                self.advance(action)?;
                match &record.event {
                    ClockEvent::FeePaid { on, amount_fen, receipt_number } => {
                        // Events recorded before amounts were kept paid the charged fee.
                        let charged = self.fee.as_ref().map_or(0, |f| f.charged_fen);
                        self.fee_payment = Some(FeePayment {
                            on: *on,
                            amount_fen: amount_fen.unwrap_or(charged),
                            receipt_number: receipt_number.clone(),
                        });
                    }
                    ClockEvent::CorrectionLapsed { .. } => {
                        self.outcome = Some(Outcome::Other { reason: OtherReason::CorrectionLapsed })
                    }
                    ClockEvent::FeeLapsed { .. } => {
                        self.outcome = Some(Outcome::Other { reason: OtherReason::FeeLapsed })
                    }
                    _ => {}
                }
            }
            (_, CaseEvent::Workflow(record)) => {
                self.advance(record.event.action())?;
                self.apply_workflow(&record.event)?;
                if let Some(on) = record.business_date() {
                    self.last_step_on = self.last_step_on.max(Some(on));
                }
            }
            // Papers and letters belong to the case's file whatever its state; they move nothing.
            (_, CaseEvent::Attached(record)) => self.attachments.push(record.clone()),
            (_, CaseEvent::DocumentIssued(record)) => self.documents.push((**record).clone()),
            (state, event) => return Err(ProjectionError::OutOfOrder { state, event: event.kind() }),
        }
        Ok(self)
    }

    fn apply_workflow(&mut self, event: &WorkflowEvent) -> Result<(), ProjectionError> {
        let inconsistent = |what: &str| ProjectionError::Inconsistent(what.to_owned());
        match event {
            WorkflowEvent::HandlerAssigned { handler_id, .. } => self.handler_id = Some(handler_id.clone()),
            WorkflowEvent::ReplyDrafted { outcome } => self.draft = Some(outcome.clone()),
            WorkflowEvent::DraftReturned
            | WorkflowEvent::ReplyApproved
            | WorkflowEvent::Archived
            | WorkflowEvent::Voided { .. } => {}
            WorkflowEvent::RegistrationAmended { changes } => changes.apply_to(self),
            WorkflowEvent::NewReplyOrdered { appeal_number, on, due_on, .. } => {
                self.re_replies.push(ReReply {
                    appeal_number: *appeal_number,
                    ordered_on: *on,
                    due_on: *due_on,
                    outcome: None,
                    served_on: None,
                    service_method: None,
                });
            }
            WorkflowEvent::ReplyReissued { on, method } => {
                let outcome = self.draft.take().ok_or_else(|| inconsistent("served without a drafted reply"))?;
                let open = self
                    .re_replies
                    .last_mut()
                    .filter(|r| r.served_on.is_none())
                    .ok_or_else(|| inconsistent("a new reply served without one ordered"))?;
                open.outcome = Some(outcome);
                open.served_on = Some(*on);
                open.service_method = Some(*method);
            }
            WorkflowEvent::Served { on, method } => {
                self.outcome = Some(self.draft.take().ok_or_else(|| inconsistent("served without a drafted reply"))?);
                self.served_on = Some(*on);
                self.service_method = Some(*method);
            }
            WorkflowEvent::AnsweredOnTheSpot { on, outcome } => {
                self.outcome = Some(outcome.clone());
                self.served_on = Some(*on);
                self.service_method = Some(ServiceMethod::InPerson);
            }
            WorkflowEvent::Withdrawn { .. } => self.outcome = Some(Outcome::Other { reason: OtherReason::Withdrawn }),
            WorkflowEvent::NotProcessed { on, outcome } => {
                self.outcome = Some(outcome.clone());
                self.served_on = Some(*on);
            }
            WorkflowEvent::Transferred { on, to_case_id, .. } => {
                self.outcome = Some(Outcome::Unable { reason: UnableReason::AnotherAgency });
                self.served_on = Some(*on);
                self.transferred_to = Some(to_case_id.clone());
            }
            WorkflowEvent::FeeAssessed(assessment) => self.fee = Some(assessment.clone()),
            WorkflowEvent::AppealFiled { number, kind, filed_on, reference } => {
                if *number as usize != self.appeals.len() + 1 {
                    return Err(inconsistent("appeals are numbered 1, 2, ... in filing order"));
                }
                self.appeals.push(Appeal {
                    number: *number,
                    kind: *kind,
                    filed_on: *filed_on,
                    reference: reference.clone(),
                    outcome: AppealOutcome::Pending,
                    decided_on: None,
                });
            }
            WorkflowEvent::AppealDecided { number, outcome, decided_on } => {
                let appeal = self
                    .appeals
                    .iter_mut()
                    .find(|a| a.number == *number && a.outcome == AppealOutcome::Pending)
                    .ok_or_else(|| inconsistent("a decision must follow a pending appeal"))?;
                appeal.outcome = *outcome;
                appeal.decided_on = Some(*decided_on);
            }
        }
        Ok(())
    }

    /// Rebuilds a case from its whole event history.
    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a CaseEvent>) -> Result<Case, ProjectionError> {
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

    pub fn regime(&self) -> Option<&str> {
        self.registration.as_ref().map(|r| r.regime.as_str())
    }
}

impl DeadlineSummary {
    /// What a case row keeps of a computed deadline: the dates and, for a closed case, how it closed
    /// (`timeliness` is the deadline's timeliness, which for a closed case does not depend on today).
    pub fn of(d: &Deadline, timeliness: &Timeliness) -> Self {
        let (closed_on, closed_as) = match (&d.clock, timeliness) {
            (crate::deadline::Clock::DeemedAbandoned { on }, _) => (Some(*on), Some(Closing::DeemedAbandoned)),
            (_, Timeliness::OnTime { replied_on }) => (Some(*replied_on), Some(Closing::OnTime)),
            (_, Timeliness::Extended { replied_on }) => (Some(*replied_on), Some(Closing::Extended)),
            (_, Timeliness::LateReply { replied_on, .. }) => (Some(*replied_on), Some(Closing::LateReply)),
            (_, Timeliness::Withdrawn { withdrawn_on }) => (Some(*withdrawn_on), Some(Closing::Withdrawn)),
            _ => (None, None),
        };
        let stop_ends_on = match &d.clock {
            crate::deadline::Clock::AwaitingCorrection { respond_by, .. } => Some(*respond_by),
            crate::deadline::Clock::Paused { lapses_on, .. } => *lapses_on,
            _ => None,
        };
        DeadlineSummary {
            due_on: d.due_on,
            final_due_on: d.final_due_on,
            provisional: d.provisional,
            closed_on,
            closed_as,
            stop_ends_on,
        }
    }
}

/// The events of a new registration: receipt, numbering under `regime` (the regime governing the
/// receipt date, chosen by the caller from the regimes table), and the first deadline.
pub fn register(
    intake: Intake,
    agency_code: &str,
    seq: i32,
    regime: &RegimeRules,
    calendar: &WorkingDayIndex,
) -> Result<[CaseEvent; 3], DeadlineError> {
    let year = chrono::Datelike::year(&intake.received_on);
    let deadline = compute(regime, calendar, intake.received_on, &[], intake.received_on)?;
    let registration = Registration {
        tracking_number: super::intake::tracking_number(agency_code, year, seq),
        tracking_year: year,
        tracking_seq: seq,
        regime: regime.code.clone(),
        transferred_from: None,
    };
    let timeliness = deadline.timeliness(calendar, intake.received_on)?;
    let change = DeadlineChange {
        deadline: DeadlineSummary::of(&deadline, &timeliness),
        previous: None,
        reason: "registration".into(),
    };
    Ok([CaseEvent::Received(Box::new(intake)), CaseEvent::Registered(registration), CaseEvent::DeadlineSet(change)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::tests::{d, shipped_index};
    use crate::intake::ApplicantKind;

    fn intake(received_on: NaiveDate) -> Intake {
        Intake {
            agency: "PJ".into(),
            channel: Channel::Letter,
            arrived_at: DateTime::parse_from_rfc3339("2019-05-14T02:00:00Z").unwrap().to_utc(),
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

    fn events(received_on: NaiveDate, seq: i32) -> [CaseEvent; 3] {
        let regime = crate::deadline::tests::national_regimes().remove(1);
        register(intake(received_on), "PJ", seq, &regime, &shipped_index()).unwrap()
    }

    #[test]
    fn registration_numbers_the_case_and_sets_its_first_deadline() {
        let case = Case::from_events(&events(d(2019, 5, 15), 7)).unwrap();
        assert_eq!(case.state, CaseState::Registered);
        let r = case.registration.clone().unwrap();
        assert_eq!(r.tracking_number, "PJ-2019-00007");
        assert_eq!(case.regime(), Some("ogi2019"));
        // 20 working days after Wed 2019-05-15 (端午 6-7 off): Thu 2019-06-13.
        assert_eq!(case.deadline.due_on, Some(d(2019, 6, 13)));
        assert_eq!(case.deadline.final_due_on, Some(d(2019, 6, 13)));
        assert!(!case.deadline.provisional);
    }

    #[test]
    fn a_history_must_start_with_receipt() {
        let [_, registered, _] = events(d(2015, 1, 5), 1);
        assert_eq!(Case::from_events([&registered]), Err(ProjectionError::NotStartedByReceipt));
    }

    #[test]
    fn registering_twice_is_out_of_order() {
        let [received, registered, _] = events(d(2015, 1, 5), 1);
        let err = Case::from_events([&received, &registered, &registered]).unwrap_err();
        assert_eq!(err, ProjectionError::OutOfOrder { state: CaseState::Registered, event: "registered" });
    }

    #[test]
    fn events_survive_storage_and_rebuild_the_same_case() {
        let events = events(d(2015, 1, 5), 3);
        let stored: Vec<_> = events.iter().map(|e| (e.kind(), e.payload_json())).collect();
        let reloaded: Vec<_> = stored.iter().map(|(k, p)| CaseEvent::from_stored(k, p).unwrap()).collect();
        assert_eq!(Case::from_events(&reloaded), Case::from_events(&events));
    }

    fn step(event: WorkflowEvent) -> CaseEvent {
        CaseEvent::Workflow(crate::events::WorkflowRecord::new(event, Some("r".into()), None))
    }

    fn clock(event: ClockEvent) -> CaseEvent {
        CaseEvent::Clock(crate::events::ClockRecord { event, evidence: None, override_reason: None })
    }

    /// A registered case with `more` events folded in, through storage and back.
    fn fold(more: Vec<CaseEvent>) -> Result<Case, ProjectionError> {
        let mut all: Vec<CaseEvent> = events(d(2024, 3, 1), 1).into_iter().collect();
        all.extend(more);
        let reloaded: Vec<_> =
            all.iter().map(|e| CaseEvent::from_stored(e.kind(), &e.payload_json()).unwrap()).collect();
        assert_eq!(Case::from_events(&reloaded), Case::from_events(&all));
        Case::from_events(&all)
    }

    #[test]
    fn the_served_outcome_is_the_approved_draft() {
        let outcome = Outcome::Withheld { reason: crate::outcome::WithholdReason::ProcessInformation };
        let case = fold(vec![
            step(WorkflowEvent::HandlerAssigned { handler_id: "h".into(), handler_name: "H".into() }),
            step(WorkflowEvent::ReplyDrafted { outcome: Outcome::Disclosed { already_public: false } }),
            step(WorkflowEvent::DraftReturned),
            step(WorkflowEvent::ReplyDrafted { outcome: outcome.clone() }),
            step(WorkflowEvent::ReplyApproved),
            step(WorkflowEvent::Served { on: d(2024, 3, 20), method: ServiceMethod::Post }),
            step(WorkflowEvent::Archived),
        ])
        .unwrap();
        assert_eq!(case.state, CaseState::Archived);
        assert_eq!(case.outcome, Some(outcome));
        assert_eq!(case.draft, None);
        assert_eq!((case.served_on, case.service_method), (Some(d(2024, 3, 20)), Some(ServiceMethod::Post)));
        assert_eq!(case.handler_id.as_deref(), Some("h"));
    }

    #[test]
    fn a_stopped_clock_returns_the_case_to_the_stage_it_interrupted() {
        let assigned = step(WorkflowEvent::HandlerAssigned { handler_id: "h".into(), handler_name: "H".into() });
        let case = fold(vec![
            assigned.clone(),
            clock(ClockEvent::ConsultationSent {
                on: d(2024, 3, 4),
                party: crate::deadline::ConsultedParty::ThirdParty,
            }),
        ])
        .unwrap();
        assert_eq!((case.state, case.resume), (CaseState::Consulting, Some(CaseState::UnderReview)));
        let case = fold(vec![
            assigned,
            clock(ClockEvent::ConsultationSent {
                on: d(2024, 3, 4),
                party: crate::deadline::ConsultedParty::ThirdParty,
            }),
            clock(ClockEvent::ConsultationAnswered { on: d(2024, 3, 8) }),
        ])
        .unwrap();
        assert_eq!((case.state, case.resume), (CaseState::UnderReview, None));
    }

    #[test]
    fn lapses_and_exits_set_their_own_outcomes() {
        let case = fold(vec![
            clock(ClockEvent::CorrectionNoticeSent { on: d(2024, 3, 4), respond_by: d(2024, 3, 18) }),
            clock(ClockEvent::CorrectionLapsed { on: d(2024, 3, 19) }),
        ])
        .unwrap();
        assert_eq!(case.state, CaseState::DeemedAbandoned);
        assert_eq!(case.outcome, Some(Outcome::Other { reason: OtherReason::CorrectionLapsed }));
        let case = fold(vec![step(WorkflowEvent::Transferred {
            on: d(2024, 3, 4),
            to_agency: "DW".into(),
            to_case_id: "c2".into(),
        })])
        .unwrap();
        assert_eq!(case.state, CaseState::Transferred);
        assert_eq!(case.outcome, Some(Outcome::Unable { reason: UnableReason::AnotherAgency }));
        assert_eq!(case.transferred_to.as_deref(), Some("c2"));
        let case = fold(vec![step(WorkflowEvent::Withdrawn { on: d(2024, 3, 4) })]).unwrap();
        assert_eq!(case.outcome, Some(Outcome::Other { reason: OtherReason::Withdrawn }));
    }

    #[test]
    fn a_history_that_breaks_the_state_machine_does_not_replay() {
        let err = fold(vec![step(WorkflowEvent::Served { on: d(2024, 3, 4), method: ServiceMethod::Post })]);
        assert!(matches!(err, Err(ProjectionError::Illegal(_))), "{err:?}");
        let err = fold(vec![clock(ClockEvent::Replied { on: d(2024, 3, 4) })]);
        assert!(matches!(err, Err(ProjectionError::OutOfOrder { .. })), "{err:?}");
        let err = fold(vec![step(WorkflowEvent::AppealDecided {
            number: 1,
            outcome: AppealOutcome::Upheld,
            decided_on: d(2024, 3, 4),
        })]);
        assert!(matches!(err, Err(ProjectionError::Inconsistent(_))), "{err:?}");
    }

    #[test]
    fn appeals_are_numbered_and_decided_once() {
        use crate::workflow::AppealKind;
        let filed = |number| {
            step(WorkflowEvent::AppealFiled {
                number,
                kind: AppealKind::Reconsideration,
                filed_on: d(2024, 5, 1),
                reference: None,
            })
        };
        let decided = step(WorkflowEvent::AppealDecided {
            number: 1,
            outcome: AppealOutcome::Corrected,
            decided_on: d(2024, 6, 1),
        });
        let case = fold(vec![filed(1), decided.clone(), filed(2)]).unwrap();
        assert_eq!(case.appeals.len(), 2);
        assert_eq!(
            (case.appeals[0].outcome, case.appeals[1].outcome),
            (AppealOutcome::Corrected, AppealOutcome::Pending)
        );
        assert!(fold(vec![filed(2)]).is_err());
        assert!(fold(vec![filed(1), decided.clone(), decided]).is_err());
    }

    #[test]
    fn back_entered_steps_may_not_precede_receipt_the_future_or_the_previous_step() {
        let mut dated = step(WorkflowEvent::HandlerAssigned { handler_id: "h".into(), handler_name: "H".into() });
        if let CaseEvent::Workflow(record) = &mut dated {
            record.effective_on = Some(d(2024, 3, 5));
        }
        let case = fold(vec![dated]).unwrap();
        assert_eq!(case.last_step_on, Some(d(2024, 3, 5)));
        let today = d(2024, 6, 1);
        assert_eq!(
            case.check_step_date(d(2024, 2, 29), today),
            Err(DateRefusal::BeforeReceipt { on: d(2024, 2, 29), received_on: d(2024, 3, 1) })
        );
        assert_eq!(case.check_step_date(d(2024, 6, 2), today), Err(DateRefusal::InTheFuture(d(2024, 6, 2))));
        assert_eq!(
            case.check_step_date(d(2024, 3, 4), today),
            Err(DateRefusal::BeforePreviousStep { on: d(2024, 3, 4), previous: d(2024, 3, 5) })
        );
        assert_eq!(case.check_step_date(d(2024, 3, 5), today), Ok(d(2024, 3, 5)));
        // Appeals and other dates only need to fall between receipt and today.
        assert_eq!(case.check_date(d(2024, 3, 4), today), Ok(d(2024, 3, 4)));
        // A service date is a step's date too: the archive after it may not be dated earlier.
        let served = fold(vec![
            step(WorkflowEvent::HandlerAssigned { handler_id: "h".into(), handler_name: "H".into() }),
            step(WorkflowEvent::ReplyDrafted { outcome: Outcome::Disclosed { already_public: false } }),
            step(WorkflowEvent::ReplyApproved),
            step(WorkflowEvent::Served { on: d(2024, 3, 20), method: ServiceMethod::Post }),
        ])
        .unwrap();
        assert!(served.check_step_date(d(2024, 3, 19), today).is_err());
    }

    #[test]
    fn a_repeat_request_repeats_an_earlier_answered_request() {
        let case = Case::from_events(&events(d(2024, 3, 11), 2)).unwrap();
        let answered = EarlierCase {
            tracking_number: "PJ-2024-00001",
            state: CaseState::Replied,
            received_on: d(2024, 3, 1),
            closing: Some(Closing::OnTime),
            served_on: Some(d(2024, 3, 8)),
            transferred: false,
        };
        assert_eq!(case.check_repeat_of(false, &answered), Ok(()));
        assert_eq!(case.check_repeat_of(true, &answered), Err(RepeatRefusal::NotEarlier));
        let later = EarlierCase { received_on: d(2024, 3, 12), ..answered.clone() };
        assert_eq!(case.check_repeat_of(false, &later), Err(RepeatRefusal::NotEarlier));
        for unanswered in [
            EarlierCase { closing: None, served_on: None, state: CaseState::UnderReview, ..answered.clone() },
            EarlierCase { closing: Some(Closing::Withdrawn), served_on: None, ..answered.clone() },
            EarlierCase { closing: Some(Closing::DeemedAbandoned), served_on: None, ..answered.clone() },
            EarlierCase { transferred: true, ..answered.clone() },
        ] {
            assert!(matches!(case.check_repeat_of(false, &unanswered), Err(RepeatRefusal::NotAnswered { .. })));
        }
        // A late reply is still a reply.
        let late = EarlierCase { closing: Some(Closing::LateReply), ..answered };
        assert_eq!(case.check_repeat_of(false, &late), Ok(()));
        assert_eq!(case.check_repeat_of_earlier(d(2023, 11, 20)), Ok(()));
        assert!(case.check_repeat_of_earlier(d(2024, 3, 12)).is_err());
    }

    #[test]
    fn a_payment_is_filled_in_and_checked_against_the_charge() {
        let mut case = Case::from_events(&events(d(2024, 3, 1), 1)).unwrap();
        case.state = CaseState::AwaitingFee;
        case.resume = Some(CaseState::UnderReview);
        case.fee = Some(
            crate::fees::assess(
                crate::fees::FeeScheme::Processing2020,
                crate::fees::CostRates::default(),
                crate::fees::FeeBasis::PerPage { pages: 40 },
                1,
                0,
                None,
            )
            .unwrap(),
        );
        let record = |amount_fen| crate::events::ClockRecord {
            event: ClockEvent::FeePaid { on: d(2024, 3, 8), amount_fen, receipt_number: Some("R1".into()) },
            evidence: None,
            override_reason: None,
        };
        let today = d(2024, 6, 1);
        assert_eq!(
            check_clock_event(&case, &record(Some(9_000)), None, false, today),
            Err(ClockRefusal::FeeAmountMismatch { charged: 10_000, paid: 9_000 })
        );
        assert_eq!(check_clock_event(&case, &record(Some(10_000)), None, false, today), Ok(()));
        let mut unspecified = record(None);
        settle_fee_payment(&case, &mut unspecified);
        assert!(matches!(unspecified.event, ClockEvent::FeePaid { amount_fen: Some(10_000), .. }));
    }

    #[test]
    fn a_new_reply_keeps_the_first_outcome_and_is_listed_apart() {
        let first = Outcome::Withheld { reason: crate::outcome::WithholdReason::ProcessInformation };
        // Replied, then a reconsideration corrected the reply.
        let mut all = vec![
            step(WorkflowEvent::HandlerAssigned { handler_id: "h".into(), handler_name: "H".into() }),
            step(WorkflowEvent::ReplyDrafted { outcome: first.clone() }),
            step(WorkflowEvent::ReplyApproved),
            step(WorkflowEvent::Served { on: d(2024, 3, 20), method: ServiceMethod::Post }),
            step(WorkflowEvent::AppealFiled {
                number: 1,
                kind: crate::workflow::AppealKind::Reconsideration,
                filed_on: d(2024, 4, 1),
                reference: None,
            }),
            step(WorkflowEvent::AppealDecided {
                number: 1,
                outcome: AppealOutcome::Corrected,
                decided_on: d(2024, 5, 1),
            }),
        ];
        assert_eq!(fold(all.clone()).unwrap().correcting_appeals(), vec![1]);
        let ordered = step(WorkflowEvent::NewReplyOrdered {
            appeal_number: 1,
            on: d(2024, 5, 6),
            period: crate::workflow::NewReplyPeriod::Date { due_on: d(2024, 6, 5) },
            due_on: d(2024, 6, 5),
        });
        assert!(fold(vec![ordered.clone()]).is_err(), "only a replied case reopens");
        let mut more = vec![
            ordered,
            step(WorkflowEvent::ReplyDrafted { outcome: Outcome::Disclosed { already_public: false } }),
            step(WorkflowEvent::ReplyApproved),
            step(WorkflowEvent::ReplyReissued { on: d(2024, 5, 30), method: ServiceMethod::Email }),
        ];
        let open = fold(all.iter().cloned().chain(more[..1].iter().cloned()).collect()).unwrap();
        assert_eq!(open.state, CaseState::UnderReview);
        assert!(open.re_reply_open() && open.correcting_appeals().is_empty());
        all.append(&mut more);
        let done = fold(all).unwrap();
        assert_eq!(
            (done.state, done.outcome.clone(), done.served_on),
            (CaseState::Replied, Some(first), Some(d(2024, 3, 20)))
        );
        assert!(!done.re_reply_open());
        assert_eq!(done.re_replies[0].outcome, Some(Outcome::Disclosed { already_public: false }));
        assert_eq!(done.re_replies[0].served_on, Some(d(2024, 5, 30)));
    }

    #[test]
    fn a_fee_notice_needs_a_fee_and_replies_are_workflow_steps() {
        let case = Case::from_events(&events(d(2024, 3, 1), 1)).unwrap();
        let record = |event| crate::events::ClockRecord { event, evidence: None, override_reason: None };
        let today = d(2024, 6, 1);
        let replied = record(ClockEvent::Replied { on: d(2024, 3, 4) });
        assert_eq!(
            check_clock_event(&case, &replied, None, true, today),
            Err(ClockRefusal::WorkflowOnly("replied", "serve"))
        );
        let mut reviewing = case.clone();
        reviewing.state = CaseState::UnderReview;
        let notice = record(ClockEvent::FeeNoticeSent { on: d(2024, 3, 4) });
        assert_eq!(check_clock_event(&reviewing, &notice, None, false, today), Err(ClockRefusal::NoFeeToNotify));
        let notice_now = check_clock_event(&case, &notice, None, false, today);
        assert!(matches!(notice_now, Err(ClockRefusal::Illegal(_))), "{notice_now:?}");
    }
}
