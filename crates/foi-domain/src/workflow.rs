//! The case state machine (Regulation 2019 Art. 45: 登记, 审核, 办理, 答复, 归档) and who may move a
//! case along it.
//!
//! Every change to a case is an action. `target` is the whole transition table: for a state and an
//! action it gives the next state, or nothing when the action is illegal there; the allowed actions of
//! a state are read off the same table, so the 409 answer and the table can never disagree.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::deadline::ClockEvent;
use super::fees::FeeAssessment;
use super::outcome::Outcome;
use super::role::Role;

string_enum! {
    /// Where a case stands in its lifecycle (Art. 45: 登记, 审核, 办理, 答复, 归档).
    CaseState {
        /// Entered, not yet numbered.
        Received => "received",
        /// 登记: numbered, regime fixed, the clock running.
        Registered => "registered",
        /// 审核: a handler is assigned and reviews the request.
        UnderReview => "under_review",
        /// 补正: the applicant was asked to correct the request; the clock is stopped.
        AwaitingCorrection => "awaiting_correction",
        /// A third party or another agency is consulted; the clock is paused.
        Consulting => "consulting",
        /// A fee notice went out; awaiting payment.
        AwaitingFee => "awaiting_fee",
        /// 办理: the reply is drafted and awaits the office head's approval.
        ReplyDrafted => "reply_drafted",
        /// Approved, not yet served.
        ReplyApproved => "reply_approved",
        /// 答复: the reply was served (or given on the spot).
        Replied => "replied",
        /// The applicant withdrew the request.
        Withdrawn => "withdrawn",
        /// 视为放弃: a correction or a fee was not answered in time.
        DeemedAbandoned => "deemed_abandoned",
        /// Screened out (Art. 35, 36 (六), 39): the applicant was told it will not be processed.
        NotProcessed => "not_processed",
        /// Another agency's information: continued there as a linked case.
        Transferred => "transferred",
        /// 归档.
        Archived => "archived",
        /// A duplicate registration of a request registered as another case: it keeps its number and
        /// leaves every list and report.
        Voided => "voided",
    }
}

impl CaseState {
    /// Still waiting for an answer to the applicant (the deadline runs, or is stopped).
    pub fn is_open(self) -> bool {
        matches!(
            self,
            CaseState::Received
                | CaseState::Registered
                | CaseState::UnderReview
                | CaseState::AwaitingCorrection
                | CaseState::Consulting
                | CaseState::AwaitingFee
                | CaseState::ReplyDrafted
                | CaseState::ReplyApproved
        )
    }

    /// The open states (for queries).
    pub fn open() -> Vec<CaseState> {
        CaseState::ALL.iter().copied().filter(|s| s.is_open()).collect()
    }
}

string_enum! {
    /// Everything that can happen to a registered case: workflow actions and clock events.
    Action {
        /// 审核: assign (or reassign) the handler.
        Assign => "assign",
        /// 办理: draft the reply with its outcome (again, to revise it).
        DraftReply => "draft_reply",
        /// The office head sends a draft (or an approved reply not yet served) back for revision.
        ReturnDraft => "return_draft",
        /// The office head approves the drafted reply.
        ApproveReply => "approve_reply",
        /// 答复: the approved reply is served (by post: the posting date).
        Serve => "serve",
        /// 当场答复: answered on the spot, on the receipt date.
        AnswerOnTheSpot => "answer_on_the_spot",
        /// The applicant withdrew the request.
        Withdraw => "withdraw",
        /// Screening (Art. 35, 36 (六), 39): the request is not processed; the applicant is told.
        NotProcess => "not_process",
        /// Another agency's information: the request goes to that agency as a linked case.
        Transfer => "transfer",
        /// 归档.
        Archive => "archive",
        /// Compute and record the fee (and any waiver).
        AssessFee => "assess_fee",
        /// Record an administrative reconsideration, a lawsuit or a complaint.
        FileAppeal => "file_appeal",
        /// Record the decision on one.
        DecideAppeal => "decide_appeal",
        /// 重新答复: a reconsideration or court decision corrected the reply and ordered a new one;
        /// the case goes through review, drafting, approval and service again.
        ReopenForNewReply => "reopen_for_new_reply",
        /// Correct the registration (a reason is required; the receipt date only by the office head).
        AmendRegistration => "amend_registration",
        /// The office head voids a duplicate registration, naming the case it duplicates.
        VoidDuplicate => "void_duplicate",
        CorrectionNoticeSent => "correction_notice_sent",
        CorrectionReceived => "correction_received",
        CorrectionLapsed => "correction_lapsed",
        ConsultationSent => "consultation_sent",
        ConsultationAnswered => "consultation_answered",
        ExtensionApproved => "extension_approved",
        DelaySet => "delay_set",
        FeeNoticeSent => "fee_notice_sent",
        FeePaid => "fee_paid",
        FeeLapsed => "fee_lapsed",
    }
}

impl Action {
    /// The action a clock event is (None for the clock endings only workflow actions record).
    pub fn of_clock(event: &ClockEvent) -> Option<Action> {
        Some(match event {
            ClockEvent::CorrectionNoticeSent { .. } => Action::CorrectionNoticeSent,
            ClockEvent::CorrectionReceived { .. } => Action::CorrectionReceived,
            ClockEvent::CorrectionLapsed { .. } => Action::CorrectionLapsed,
            ClockEvent::ConsultationSent { .. } => Action::ConsultationSent,
            ClockEvent::ConsultationAnswered { .. } => Action::ConsultationAnswered,
            ClockEvent::ExtensionApproved { .. } => Action::ExtensionApproved,
            ClockEvent::DelaySet { .. } => Action::DelaySet,
            ClockEvent::FeeNoticeSent { .. } => Action::FeeNoticeSent,
            ClockEvent::FeePaid { .. } => Action::FeePaid,
            ClockEvent::FeeLapsed { .. } => Action::FeeLapsed,
            ClockEvent::Replied { .. } | ClockEvent::Withdrawn { .. } | ClockEvent::NewReplyOrdered { .. } => {
                return None
            }
        })
    }

    /// Whether this action is recorded at `/clock-events` (the others at `/actions`).
    pub fn is_clock_event(self) -> bool {
        matches!(
            self,
            Action::CorrectionNoticeSent
                | Action::CorrectionReceived
                | Action::CorrectionLapsed
                | Action::ConsultationSent
                | Action::ConsultationAnswered
                | Action::ExtensionApproved
                | Action::DelaySet
                | Action::FeeNoticeSent
                | Action::FeePaid
                | Action::FeeLapsed
        )
    }
}

/// The state a case moves to when `action` happens in `state`; None when it may not happen there.
/// `resume` is the state a case returns to when a correction, consultation or fee notice ends.
pub fn target(state: CaseState, action: Action, resume: Option<CaseState>) -> Option<CaseState> {
    use Action as A;
    use CaseState as S;
    let back = resume.unwrap_or(S::UnderReview);
    let working = matches!(state, S::Registered | S::UnderReview);
    let open = state.is_open() && state != S::Received;
    let closed = matches!(state, S::Replied | S::Withdrawn | S::DeemedAbandoned | S::NotProcessed | S::Transferred);
    Some(match action {
        A::Assign if state == S::Registered => S::UnderReview,
        A::Assign if open => state,
        A::DraftReply if matches!(state, S::UnderReview | S::ReplyDrafted) => S::ReplyDrafted,
        A::ReturnDraft if matches!(state, S::ReplyDrafted | S::ReplyApproved) => S::UnderReview,
        A::ApproveReply if state == S::ReplyDrafted => S::ReplyApproved,
        A::Serve if state == S::ReplyApproved => S::Replied,
        A::AnswerOnTheSpot if working => S::Replied,
        A::Withdraw if open => S::Withdrawn,
        A::NotProcess if working => S::NotProcessed,
        A::Transfer if working => S::Transferred,
        A::Archive if closed => S::Archived,
        A::AssessFee if matches!(state, S::UnderReview | S::ReplyDrafted | S::ReplyApproved) => state,
        A::FileAppeal | A::DecideAppeal if state != S::Received && state != S::Voided => state,
        A::ReopenForNewReply if matches!(state, S::Replied | S::NotProcessed | S::Archived) => S::UnderReview,
        A::CorrectionNoticeSent if working => S::AwaitingCorrection,
        A::CorrectionReceived if state == S::AwaitingCorrection => back,
        A::CorrectionLapsed if state == S::AwaitingCorrection => S::DeemedAbandoned,
        A::ConsultationSent if working => S::Consulting,
        A::ConsultationAnswered if state == S::Consulting => back,
        A::ExtensionApproved | A::DelaySet if open => state,
        A::FeeNoticeSent if matches!(state, S::UnderReview | S::ReplyDrafted | S::ReplyApproved) => S::AwaitingFee,
        A::FeePaid if state == S::AwaitingFee => back,
        A::FeeLapsed if state == S::AwaitingFee => S::DeemedAbandoned,
        A::AmendRegistration if state != S::Received && state != S::Voided => state,
        A::VoidDuplicate if open => S::Voided,
        _ => return None,
    })
}

/// The actions possible in `state`, in table order.
pub fn allowed_actions(state: CaseState) -> Vec<Action> {
    Action::ALL.iter().copied().filter(|&a| target(state, a, None).is_some()).collect()
}

/// What decides, beyond the state machine and the role table, whether an action would succeed now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActionFacts {
    pub state: CaseState,
    /// Only a request handed in at the office can be answered on the spot.
    pub in_person: bool,
    /// A fee is assessed with something to pay, so a fee notice can go out.
    pub fee_to_notify: bool,
    /// The fee was paid: it is not assessed again.
    pub fee_paid: bool,
    /// A new reply ordered on appeal is being prepared.
    pub re_reply_open: bool,
    /// A decided appeal corrected the reply and no new reply has been ordered on it yet.
    pub correcting_appeal: bool,
    /// An appeal awaits its decision.
    pub pending_appeal: bool,
    pub clock: ClockFacts,
}

/// The clock's side of [`ActionFacts`], from the case's computed deadline on the day asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ClockFacts {
    /// The reply period runs (not stopped for a correction, consultation or fee; not ended).
    pub running: bool,
    /// Today is within the reply period (as already extended): an extension is still in time
    /// (2008 Art. 24, 2019 Art. 33).
    pub within_period: bool,
    /// Working days the regime's extension cap still allows.
    pub extension_days_left: u32,
    /// The regime lets the agency set a later reply date (2019 Art. 35).
    pub agency_delay_allowed: bool,
    /// A correction notice sent today is within the regime's window (or it has none).
    pub correction_notice_in_time: bool,
}

impl ClockFacts {
    /// The facts on `today` for a case whose deadline is `deadline` under `rules`. `notice_due`: the
    /// last day for a correction notice, if the regime sets one.
    pub fn of(
        deadline: &super::deadline::Deadline,
        rules: &super::deadline::RegimeRules,
        notice_due: Option<NaiveDate>,
        today: NaiveDate,
    ) -> ClockFacts {
        let running = deadline.clock == super::deadline::Clock::Running;
        ClockFacts {
            running,
            within_period: running && deadline.final_due_on.is_some_and(|last| today <= last),
            extension_days_left: rules.max_extension_days.saturating_sub(deadline.extension_days_used),
            agency_delay_allowed: rules.agency_delay_allowed,
            correction_notice_in_time: notice_due.is_none_or(|due| today <= due),
        }
    }
}

/// The actions `role` could take on the case now and succeed (with valid input): the state machine,
/// the role table, and the facts the state alone does not show. A console shows exactly these.
pub fn available_actions(role: Role, facts: &ActionFacts) -> Vec<Action> {
    use Action as A;
    let clock = facts.clock;
    Action::ALL
        .iter()
        .copied()
        .filter(|&action| target(facts.state, action, None).is_some() && permitted(role, action))
        .filter(|&action| !facts.re_reply_open || allowed_during_re_reply(action))
        .filter(|&action| match action {
            A::AnswerOnTheSpot => facts.in_person,
            A::DecideAppeal => facts.pending_appeal,
            A::FeeNoticeSent => facts.fee_to_notify && !facts.fee_paid && clock.running,
            A::AssessFee => !facts.fee_paid,
            A::ReopenForNewReply => facts.correcting_appeal,
            A::ExtensionApproved => clock.running && clock.within_period && clock.extension_days_left > 0,
            A::DelaySet => clock.running && clock.agency_delay_allowed,
            A::CorrectionNoticeSent => clock.running && clock.correction_notice_in_time,
            A::ConsultationSent => clock.running,
            _ => true,
        })
        .collect()
}

/// An action the state machine does not allow in the case's current state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{action}` is not possible while the case is {state}; possible now: {}", list(.allowed))]
pub struct IllegalTransition {
    pub state: CaseState,
    pub action: Action,
    pub allowed: Vec<Action>,
}

fn list(actions: &[Action]) -> String {
    if actions.is_empty() {
        return "nothing".into();
    }
    actions.iter().map(|a| a.as_str()).collect::<Vec<_>>().join(", ")
}

/// The next state, or the 409 explanation.
pub fn transition(state: CaseState, action: Action, resume: Option<CaseState>) -> Result<CaseState, IllegalTransition> {
    target(state, action, resume).ok_or_else(|| IllegalTransition { state, action, allowed: allowed_actions(state) })
}

/// Whether `role` may take `action` at all (scope is checked separately). Approvals (of replies,
/// extensions, Art. 35 delays, screening decisions and fee waivers) are the office head's.
pub fn permitted(role: Role, action: Action) -> bool {
    use Action as A;
    use Role as R;
    match action {
        A::Assign => matches!(role, R::Handler | R::Approver | R::Admin),
        A::DraftReply | A::Transfer | A::AssessFee => matches!(role, R::Handler | R::Approver),
        A::ReturnDraft | A::ApproveReply | A::NotProcess | A::ExtensionApproved | A::DelaySet => role == R::Approver,
        A::Serve | A::AnswerOnTheSpot | A::Withdraw | A::Archive => matches!(role, R::Clerk | R::Handler | R::Approver),
        A::FileAppeal | A::DecideAppeal | A::ReopenForNewReply => matches!(role, R::Handler | R::Approver),
        A::AmendRegistration => matches!(role, R::Clerk | R::Handler | R::Approver | R::Admin),
        A::VoidDuplicate => role == R::Approver,
        A::CorrectionNoticeSent
        | A::CorrectionReceived
        | A::CorrectionLapsed
        | A::ConsultationSent
        | A::ConsultationAnswered
        | A::FeeNoticeSent
        | A::FeePaid
        | A::FeeLapsed => matches!(role, R::Handler | R::Approver | R::Admin),
    }
}

string_enum! {
    /// How a reply was served (国办公开办函〔2016〕235号).
    ServiceMethod {
        /// 直接送达: handed over; the day the applicant signed for it.
        InPerson => "in_person",
        /// 邮寄送达 by the postal service: the posting date counts.
        Post => "post",
        /// To the applicant's email address.
        Email => "email",
        /// Through the online application platform.
        Online => "online",
        /// 传真.
        Fax => "fax",
        /// 委托送达 through another agency.
        Entrusted => "entrusted",
    }
}

string_enum! {
    /// A remedy sought against the agency's handling of a case.
    AppealKind {
        /// 行政复议.
        Reconsideration => "reconsideration",
        /// 行政诉讼, 未经复议直接起诉.
        LitigationDirect => "litigation_direct",
        /// 行政诉讼, 复议后起诉.
        LitigationAfterReconsideration => "litigation_after_reconsideration",
        /// 举报投诉 (Art. 47, 51).
        Complaint => "complaint",
    }
}

string_enum! {
    /// How a reconsideration, lawsuit or complaint ended (the 2021 table 四's columns).
    AppealOutcome {
        /// 结果维持 / 维持具体行政行为 (or the claim dismissed).
        Upheld => "upheld",
        /// 结果纠正 / 被依法纠错.
        Corrected => "corrected",
        /// 其他结果 / 其他情形.
        Other => "other",
        /// 尚未审结.
        Pending => "pending",
    }
}

/// One reconsideration, lawsuit or complaint against a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Appeal {
    /// 1, 2, ... per case.
    pub number: i32,
    pub kind: AppealKind,
    pub filed_on: NaiveDate,
    /// The docket or file number (复议决定书、判决书 number).
    pub reference: Option<String>,
    pub outcome: AppealOutcome,
    pub decided_on: Option<NaiveDate>,
}

/// A workflow step as stored in the event log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum WorkflowEvent {
    HandlerAssigned {
        handler_id: String,
        handler_name: String,
    },
    ReplyDrafted {
        outcome: Outcome,
    },
    DraftReturned,
    ReplyApproved,
    /// The approved reply was served; its outcome becomes the case's.
    Served {
        on: NaiveDate,
        method: ServiceMethod,
    },
    AnsweredOnTheSpot {
        on: NaiveDate,
        outcome: Outcome,
    },
    Withdrawn {
        on: NaiveDate,
    },
    /// The notice that the request will not be processed was served on `on`.
    NotProcessed {
        on: NaiveDate,
        outcome: Outcome,
    },
    /// The applicant was told on `on`; the request continues as `to_case_id` at `to_agency`.
    Transferred {
        on: NaiveDate,
        to_agency: String,
        to_case_id: String,
    },
    Archived,
    FeeAssessed(FeeAssessment),
    AppealFiled {
        number: i32,
        kind: AppealKind,
        filed_on: NaiveDate,
        reference: Option<String>,
    },
    AppealDecided {
        number: i32,
        outcome: AppealOutcome,
        decided_on: NaiveDate,
    },
    /// 重新答复: appeal `appeal_number` corrected the reply; from `on` a new reply is due by `due_on`,
    /// the period the decision set.
    NewReplyOrdered {
        appeal_number: i32,
        on: NaiveDate,
        period: NewReplyPeriod,
        due_on: NaiveDate,
    },
    /// The new reply was served; the first reply's outcome and counting stay as they were.
    ReplyReissued {
        on: NaiveDate,
        method: ServiceMethod,
    },
    /// The registration was corrected: every changed field with its old and new value.
    RegistrationAmended {
        changes: Box<super::amendment::Amendment>,
    },
    /// A duplicate of case `duplicate_of` (its number `duplicate_of_number`), voided.
    Voided {
        duplicate_of: String,
        duplicate_of_number: String,
    },
}

/// The period a decision sets for the new reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum NewReplyPeriod {
    /// Within `days` working days counted from the day after `from` (e.g. the decision's service).
    WorkingDays { from: NaiveDate, days: u32 },
    /// By a date.
    Date { due_on: NaiveDate },
}

/// A new reply ordered on appeal, as the case shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReReply {
    /// The appeal whose decision ordered it.
    pub appeal_number: i32,
    pub ordered_on: NaiveDate,
    pub due_on: NaiveDate,
    pub outcome: Option<Outcome>,
    pub served_on: Option<NaiveDate>,
    pub service_method: Option<ServiceMethod>,
}

/// While a new reply ordered on appeal is prepared, only these steps happen: review, drafting,
/// approval, service and appeals (the decision's period is not stopped, extended or ended otherwise).
pub fn allowed_during_re_reply(action: Action) -> bool {
    matches!(
        action,
        Action::Assign
            | Action::DraftReply
            | Action::ReturnDraft
            | Action::ApproveReply
            | Action::Serve
            | Action::FileAppeal
            | Action::DecideAppeal
            | Action::AmendRegistration
    )
}

impl WorkflowEvent {
    pub fn action(&self) -> Action {
        match self {
            WorkflowEvent::HandlerAssigned { .. } => Action::Assign,
            WorkflowEvent::ReplyDrafted { .. } => Action::DraftReply,
            WorkflowEvent::DraftReturned => Action::ReturnDraft,
            WorkflowEvent::ReplyApproved => Action::ApproveReply,
            WorkflowEvent::Served { .. } => Action::Serve,
            WorkflowEvent::AnsweredOnTheSpot { .. } => Action::AnswerOnTheSpot,
            WorkflowEvent::Withdrawn { .. } => Action::Withdraw,
            WorkflowEvent::NotProcessed { .. } => Action::NotProcess,
            WorkflowEvent::Transferred { .. } => Action::Transfer,
            WorkflowEvent::Archived => Action::Archive,
            WorkflowEvent::FeeAssessed(_) => Action::AssessFee,
            WorkflowEvent::AppealFiled { .. } => Action::FileAppeal,
            WorkflowEvent::AppealDecided { .. } => Action::DecideAppeal,
            WorkflowEvent::NewReplyOrdered { .. } => Action::ReopenForNewReply,
            WorkflowEvent::ReplyReissued { .. } => Action::Serve,
            WorkflowEvent::RegistrationAmended { .. } => Action::AmendRegistration,
            WorkflowEvent::Voided { .. } => Action::VoidDuplicate,
        }
    }

    /// The clock event this step implies: the reply deadline ends when the applicant is answered
    /// (served, on the spot, told the request is not processed or was transferred) or withdraws.
    pub fn clock_event(&self) -> Option<ClockEvent> {
        match self {
            WorkflowEvent::Served { on, .. }
            | WorkflowEvent::AnsweredOnTheSpot { on, .. }
            | WorkflowEvent::NotProcessed { on, .. }
            | WorkflowEvent::Transferred { on, .. }
            | WorkflowEvent::ReplyReissued { on, .. } => Some(ClockEvent::Replied { on: *on }),
            WorkflowEvent::NewReplyOrdered { on, due_on, .. } => {
                Some(ClockEvent::NewReplyOrdered { on: *on, due_on: *due_on })
            }
            WorkflowEvent::Withdrawn { on } => Some(ClockEvent::Withdrawn { on: *on }),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use CaseState as S;

    #[test]
    fn the_happy_path_runs_through_every_stage() {
        let path = [
            (S::Registered, Action::Assign, S::UnderReview),
            (S::UnderReview, Action::DraftReply, S::ReplyDrafted),
            (S::ReplyDrafted, Action::ApproveReply, S::ReplyApproved),
            (S::ReplyApproved, Action::Serve, S::Replied),
            (S::Replied, Action::Archive, S::Archived),
        ];
        for (from, action, to) in path {
            assert_eq!(transition(from, action, None), Ok(to), "{from} --{action}-->");
        }
    }

    #[test]
    fn clock_stops_return_to_the_state_they_interrupted() {
        assert_eq!(transition(S::Registered, Action::CorrectionNoticeSent, None), Ok(S::AwaitingCorrection));
        assert_eq!(
            transition(S::AwaitingCorrection, Action::CorrectionReceived, Some(S::Registered)),
            Ok(S::Registered)
        );
        assert_eq!(transition(S::ReplyDrafted, Action::FeeNoticeSent, None), Ok(S::AwaitingFee));
        assert_eq!(transition(S::AwaitingFee, Action::FeePaid, Some(S::ReplyDrafted)), Ok(S::ReplyDrafted));
        assert_eq!(transition(S::AwaitingFee, Action::FeeLapsed, None), Ok(S::DeemedAbandoned));
        assert_eq!(transition(S::AwaitingCorrection, Action::CorrectionLapsed, None), Ok(S::DeemedAbandoned));
    }

    #[test]
    fn an_illegal_action_names_the_state_and_what_is_possible() {
        let err = transition(S::UnderReview, Action::Serve, None).unwrap_err();
        assert_eq!(err.state, S::UnderReview);
        assert!(err.allowed.contains(&Action::DraftReply));
        assert!(!err.allowed.contains(&Action::Serve));
        let text = err.to_string();
        assert!(text.contains("`serve` is not possible while the case is under_review"), "{text}");
        assert!(text.contains("draft_reply"), "{text}");
    }

    #[test]
    fn archived_cases_accept_only_appeals_and_a_new_reply_they_order() {
        assert_eq!(
            allowed_actions(S::Archived),
            vec![Action::FileAppeal, Action::DecideAppeal, Action::ReopenForNewReply, Action::AmendRegistration]
        );
    }

    #[test]
    fn closed_cases_accept_archive_and_appeals_and_answered_ones_a_new_reply() {
        for state in [S::Withdrawn, S::DeemedAbandoned, S::Transferred] {
            assert_eq!(
                allowed_actions(state),
                vec![Action::Archive, Action::FileAppeal, Action::DecideAppeal, Action::AmendRegistration]
            );
        }
        for state in [S::Replied, S::NotProcessed] {
            assert_eq!(
                allowed_actions(state),
                vec![
                    Action::Archive,
                    Action::FileAppeal,
                    Action::DecideAppeal,
                    Action::ReopenForNewReply,
                    Action::AmendRegistration
                ]
            );
        }
        assert_eq!(transition(S::Replied, Action::ReopenForNewReply, None), Ok(S::UnderReview));
    }

    #[test]
    fn a_new_reply_goes_through_review_drafting_approval_and_service_only() {
        let mut f = facts(S::UnderReview);
        f.re_reply_open = true;
        let actions = available_actions(Role::Approver, &f);
        assert!(actions.iter().all(|&a| allowed_during_re_reply(a)), "{actions:?}");
        assert!(actions.contains(&Action::DraftReply) && !actions.contains(&Action::Withdraw));
        let mut replied = facts(S::Replied);
        assert!(!available_actions(Role::Approver, &replied).contains(&Action::ReopenForNewReply));
        replied.correcting_appeal = true;
        assert!(available_actions(Role::Approver, &replied).contains(&Action::ReopenForNewReply));
    }

    #[test]
    fn every_open_state_can_be_withdrawn_and_extended_and_nothing_happens_before_registration() {
        for &state in CaseState::ALL {
            let open = state.is_open() && state != S::Received;
            assert_eq!(target(state, Action::Withdraw, None).is_some(), open, "{state}");
            assert_eq!(target(state, Action::ExtensionApproved, None).is_some(), open, "{state}");
        }
        assert!(allowed_actions(S::Received).is_empty());
    }

    #[test]
    fn every_action_is_possible_somewhere_and_taken_by_some_role() {
        for &action in Action::ALL {
            assert!(CaseState::ALL.iter().any(|&s| target(s, action, None).is_some()), "{action}");
            assert!(Role::ALL.iter().any(|&r| permitted(r, action)), "{action}");
        }
    }

    #[test]
    fn approvals_belong_to_the_office_head_and_the_statistician_only_reads() {
        for action in
            [Action::ApproveReply, Action::ReturnDraft, Action::ExtensionApproved, Action::DelaySet, Action::NotProcess]
        {
            for &role in Role::ALL {
                assert_eq!(permitted(role, action), role == Role::Approver, "{role} {action}");
            }
        }
        for &action in Action::ALL {
            assert!(!permitted(Role::Statistician, action), "{action}");
        }
    }

    fn facts(state: CaseState) -> ActionFacts {
        ActionFacts {
            state,
            in_person: false,
            fee_to_notify: false,
            fee_paid: false,
            re_reply_open: false,
            correcting_appeal: false,
            pending_appeal: false,
            clock: ClockFacts {
                running: state.is_open(),
                within_period: true,
                extension_days_left: 20,
                agency_delay_allowed: true,
                correction_notice_in_time: true,
            },
        }
    }

    #[test]
    fn available_actions_follow_the_role_and_never_exceed_the_state_machine() {
        for &state in CaseState::ALL {
            for &role in Role::ALL {
                for action in available_actions(role, &facts(state)) {
                    assert!(
                        target(state, action, None).is_some() && permitted(role, action),
                        "{state} {role} {action}"
                    );
                }
            }
        }
        let registered = facts(S::Registered);
        assert!(available_actions(Role::Statistician, &registered).is_empty());
        assert!(!available_actions(Role::Clerk, &registered).contains(&Action::ExtensionApproved));
        assert!(available_actions(Role::Approver, &registered).contains(&Action::ExtensionApproved));
        // An administrator assigns and corrects registrations; the office's work is the office's.
        assert_eq!(
            available_actions(Role::Admin, &registered).into_iter().filter(|a| !a.is_clock_event()).collect::<Vec<_>>(),
            [Action::Assign, Action::AmendRegistration]
        );
        assert!(available_actions(Role::Approver, &registered).contains(&Action::VoidDuplicate));
        assert!(!available_actions(Role::Clerk, &registered).contains(&Action::VoidDuplicate));
        assert!(CaseState::ALL.iter().all(|&s| !allowed_actions(s).contains(&Action::VoidDuplicate) || s.is_open()));
    }

    #[test]
    fn available_actions_depend_on_channel_appeals_fee_and_clock() {
        let mut f = facts(S::UnderReview);
        let has = |f: &ActionFacts, a| available_actions(Role::Approver, f).contains(&a);
        assert!(!has(&f, Action::AnswerOnTheSpot));
        f.in_person = true;
        assert!(has(&f, Action::AnswerOnTheSpot));
        assert!(!has(&f, Action::FeeNoticeSent));
        f.fee_to_notify = true;
        assert!(has(&f, Action::FeeNoticeSent));
        assert!(!has(&f, Action::DecideAppeal) && has(&f, Action::FileAppeal));
        f.pending_appeal = true;
        assert!(has(&f, Action::DecideAppeal));
        f.clock.within_period = false;
        assert!(!has(&f, Action::ExtensionApproved), "past the period");
        f.clock = facts(S::UnderReview).clock;
        f.clock.extension_days_left = 0;
        assert!(!has(&f, Action::ExtensionApproved), "cap used up");
        f.clock.agency_delay_allowed = false;
        assert!(!has(&f, Action::DelaySet), "no Art. 35 delay under 2008");
        f.clock.correction_notice_in_time = false;
        assert!(!has(&f, Action::CorrectionNoticeSent));
        f.clock.running = false;
        for a in [Action::ConsultationSent, Action::ExtensionApproved, Action::FeeNoticeSent] {
            assert!(!has(&f, a), "{a} on a stopped clock");
        }
    }

    #[test]
    fn closing_steps_end_the_clock() {
        let d = NaiveDate::from_ymd_opt(2015, 3, 2).unwrap();
        let served = WorkflowEvent::Served { on: d, method: ServiceMethod::Post };
        assert_eq!(served.clock_event(), Some(ClockEvent::Replied { on: d }));
        assert_eq!(WorkflowEvent::Withdrawn { on: d }.clock_event(), Some(ClockEvent::Withdrawn { on: d }));
        assert_eq!(WorkflowEvent::Archived.clock_event(), None);
    }
}
