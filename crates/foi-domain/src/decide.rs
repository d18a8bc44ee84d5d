//! Deciding a workflow action: every legal check of a step on a case, as a pure function of the case,
//! the action asked for and the facts only storage knows (the named handler, the applicant's monthly
//! request count, the case a repeat request names), gathered by the caller beforehand.
//!
//! The state machine and the role table (`workflow::transition`, `workflow::permitted`) are checked
//! first by the caller; `decide` holds the rest and returns the event to record.

use chrono::NaiveDate;
use serde::Deserialize;

use super::calendar::WorkingDayIndex;
use super::case::{Case, EarlierCase};
use super::deadline::RegimeRules;
use super::fees::{assess, CostRates, FeeBasis};
use super::intake::Channel;
use super::outcome::{EarlierRequest, NotProcessedReason, Outcome};
use super::role::{Principal, Role};
use super::validation::{FieldError, Validator};
use super::workflow::{
    allowed_during_re_reply, Action, AppealKind, AppealOutcome, NewReplyPeriod, ServiceMethod, WorkflowEvent,
};

/// What to do. `type` names the action; see `allowed_actions` on the case for what is possible now.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ActionInput {
    /// 审核: assign (or reassign) the handler: a handler or approver whose scope covers the case.
    /// Handlers may assign only themselves.
    Assign { handler_id: uuid::Uuid },
    /// 办理: draft (or revise) the reply and its outcome.
    DraftReply { outcome: Outcome },
    /// Approver: send the draft back for revision (reason required).
    ReturnDraft,
    /// Approver: approve the drafted reply.
    ApproveReply,
    /// Serve the approved reply; by post, `on` is the posting date (国办公开办函〔2016〕235号).
    Serve { on: NaiveDate, method: ServiceMethod },
    /// 当场答复: a request handed in at the office, answered there on its receipt date.
    AnswerOnTheSpot { outcome: Outcome },
    /// The applicant withdrew the request on `on`.
    Withdraw { on: NaiveDate },
    /// Approver: screening (Art. 35, 36 (六), 39): the applicant was told on `on` that the request will
    /// not be processed. A repeat request names the earlier, answered request: a case here
    /// (`repeat_of`) or one answered before the office used this service (`repeat_of_earlier`).
    NotProcess {
        on: NaiveDate,
        ground: NotProcessedReason,
        #[serde(default)]
        repeat_of: Option<uuid::Uuid>,
        #[serde(default)]
        repeat_of_earlier: Option<EarlierRequest>,
    },
    /// Another agency's information: the request continues at `to_agency` as a linked case received
    /// on `on`, the day the applicant was told.
    Transfer { on: NaiveDate, to_agency: String },
    /// 归档 a closed case.
    Archive,
    /// Compute the fee (2008 cost fees or the 2020 processing fee, by the case's regime). A waiver
    /// (减免) needs the approver and a reason.
    AssessFee {
        basis: FeeBasis,
        #[serde(default)]
        waived_fen: i64,
        #[serde(default)]
        waiver_reason: Option<String>,
    },
    /// Record a reconsideration, lawsuit or complaint. Litigation after reconsideration needs a
    /// decided reconsideration on the case.
    FileAppeal {
        kind: AppealKind,
        filed_on: NaiveDate,
        #[serde(default)]
        reference: Option<String>,
    },
    /// Record the decision on appeal `number`.
    DecideAppeal { number: i32, outcome: AppealOutcome, decided_on: NaiveDate },
    /// 重新答复: appeal `appeal_number` (a reconsideration or lawsuit decided `corrected`) ordered a new
    /// reply; from `on` (the day the decision took effect for the office) the case is reviewed,
    /// drafted, approved and served again within the period the decision set. The first reply's
    /// outcome and its counting in the annual report stay as they were.
    ReopenForNewReply { appeal_number: i32, on: NaiveDate, period: NewReplyPeriod },
    /// Correct the registration (reason required): the applicant (replaced whole), channel, form of
    /// delivery, description or topic; the office head also the receipt date (the deadline is
    /// recomputed from it), its basis and evidence. Only the fields given change.
    AmendRegistration {
        #[serde(flatten)]
        changes: super::amendment::AmendmentInput,
    },
    /// The office head voids a duplicate registration (reason required), naming the case it duplicates
    /// (`duplicate_of`: its id or tracking number). The voided case keeps its number.
    VoidDuplicate { duplicate_of: String },
}

impl ActionInput {
    pub fn action(&self) -> Action {
        match self {
            ActionInput::Assign { .. } => Action::Assign,
            ActionInput::DraftReply { .. } => Action::DraftReply,
            ActionInput::ReturnDraft => Action::ReturnDraft,
            ActionInput::ApproveReply => Action::ApproveReply,
            ActionInput::Serve { .. } => Action::Serve,
            ActionInput::AnswerOnTheSpot { .. } => Action::AnswerOnTheSpot,
            ActionInput::Withdraw { .. } => Action::Withdraw,
            ActionInput::NotProcess { .. } => Action::NotProcess,
            ActionInput::Transfer { .. } => Action::Transfer,
            ActionInput::Archive => Action::Archive,
            ActionInput::AssessFee { .. } => Action::AssessFee,
            ActionInput::FileAppeal { .. } => Action::FileAppeal,
            ActionInput::DecideAppeal { .. } => Action::DecideAppeal,
            ActionInput::ReopenForNewReply { .. } => Action::ReopenForNewReply,
            ActionInput::AmendRegistration { .. } => Action::AmendRegistration,
            ActionInput::VoidDuplicate { .. } => Action::VoidDuplicate,
        }
    }

    /// The case a reply's outcome names as the one it repeats, if any.
    pub fn repeat_of(&self) -> Option<String> {
        let outcome_repeat = |o: &Outcome| match o {
            Outcome::NotProcessed { repeat_of, .. } => repeat_of.clone(),
            _ => None,
        };
        match self {
            ActionInput::NotProcess { repeat_of, .. } => repeat_of.map(|id| id.to_string()),
            ActionInput::DraftReply { outcome } | ActionInput::AnswerOnTheSpot { outcome } => outcome_repeat(outcome),
            _ => None,
        }
    }
}

impl Action {
    /// Whether the action may carry a business date (`effective_on`) for back-entered work: the steps
    /// without a date of their own.
    pub fn takes_effective_on(self) -> bool {
        matches!(
            self,
            Action::Assign
                | Action::DraftReply
                | Action::ReturnDraft
                | Action::ApproveReply
                | Action::Archive
                | Action::AssessFee
        )
    }

    /// Whether the action must come with a reason.
    pub fn needs_reason(self) -> bool {
        matches!(
            self,
            Action::ReturnDraft
                | Action::Withdraw
                | Action::NotProcess
                | Action::Transfer
                | Action::AmendRegistration
                | Action::VoidDuplicate
        )
    }
}

/// What a decision needs besides the case and the action: the actor, the day, the rules in force,
/// and what only storage can tell.
#[derive(Debug, Clone)]
pub struct Facts<'a> {
    pub actor: &'a Principal,
    pub today: NaiveDate,
    /// A back-entered step's business date.
    pub effective_on: Option<NaiveDate>,
    pub regime: &'a RegimeRules,
    pub calendar: &'a WorkingDayIndex,
    pub rates: CostRates,
    /// The code and materialized path of the case's agency.
    pub agency_code: &'a str,
    pub agency_path: &'a str,
    /// `assign`: the user named as handler (None: no such user).
    pub handler: Option<&'a Principal>,
    /// `assess_fee`: the applicant's requests to the agency in the receipt month, up to this one.
    pub requests_in_month: u32,
    /// A repeat request's `repeat_of`: the named case when it exists in the actor's scope, and
    /// whether it is this very case.
    pub repeated: Option<(EarlierCase<'a>, bool)>,
    /// `amend_registration`: the latest receipt date the case's dated steps allow (today, or the
    /// first clock event or reply before it), and the first and last the regime and the tracking
    /// number's year allow.
    pub receipt_bounds: Option<ReceiptBounds>,
    /// `void_duplicate`: the case named as the original, when it exists in the actor's scope.
    pub duplicate_of: Option<DuplicateOf<'a>>,
}

/// What an amendment of the receipt date may not cross.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceiptBounds {
    pub latest: NaiveDate,
    pub regime_first: NaiveDate,
    pub regime_last: NaiveDate,
}

/// The case a duplicate names as the original.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateOf<'a> {
    pub id: &'a str,
    pub tracking_number: &'a str,
    pub state: super::workflow::CaseState,
    /// It is the case being voided.
    pub is_self: bool,
}

/// What to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Record(WorkflowEvent),
    /// The request goes on at another agency as a linked case, received there on `on`: the caller
    /// registers it and records the transfer in one transaction.
    Transfer {
        on: NaiveDate,
        to_agency: String,
    },
}

/// Why an action is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The actor may not do this (403).
    #[error("{0}")]
    Forbidden(String),
    /// The input does not fit the case (422), by field.
    #[error("{}", .0.iter().map(|e| format!("{}: {}", e.path, e.message)).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    /// The case's situation does not allow it (409).
    #[error("{0}")]
    Conflict(String),
}

fn invalid(path: &str, message: impl Into<String>) -> Refusal {
    Refusal::Invalid(vec![FieldError::new(path, message)])
}

impl From<Vec<FieldError>> for Refusal {
    fn from(errors: Vec<FieldError>) -> Self {
        Refusal::Invalid(errors)
    }
}

impl Facts<'_> {
    fn date(&self, case: &Case, path: &str, on: NaiveDate) -> Result<NaiveDate, Refusal> {
        case.check_date(on, self.today).map_err(|e| invalid(path, e.to_string()))
    }

    fn step_date(&self, case: &Case, path: &str, on: NaiveDate) -> Result<NaiveDate, Refusal> {
        case.check_step_date(on, self.today).map_err(|e| invalid(path, e.to_string()))
    }
}

/// Decides `input` on `case` (whose state and the actor's role the caller has checked): the event
/// to record, or why not.
pub fn decide(case: &Case, input: ActionInput, facts: &Facts<'_>) -> Result<Decision, Refusal> {
    let action = input.action();
    if case.re_reply_open() && !allowed_during_re_reply(action) {
        return Err(Refusal::Conflict(format!(
            "a new reply ordered on appeal is being prepared: `{action}` is not possible until it is served"
        )));
    }
    if let Some(on) = facts.effective_on {
        if !action.takes_effective_on() {
            return Err(invalid(
                "effective_on",
                format!("`{action}` carries its own date; effective_on is for steps without one"),
            ));
        }
        facts.step_date(case, "effective_on", on)?;
    }
    let event = match input {
        ActionInput::Assign { handler_id } => assign(handler_id, facts)?,
        ActionInput::DraftReply { outcome } => {
            WorkflowEvent::ReplyDrafted { outcome: reply_outcome(case, outcome, facts)? }
        }
        ActionInput::ReturnDraft => WorkflowEvent::DraftReturned,
        ActionInput::ApproveReply => WorkflowEvent::ReplyApproved,
        ActionInput::Serve { on, method } => {
            let on = facts.step_date(case, "action.on", on)?;
            if case.re_reply_open() {
                WorkflowEvent::ReplyReissued { on, method }
            } else {
                WorkflowEvent::Served { on, method }
            }
        }
        ActionInput::ReopenForNewReply { appeal_number, on, period } => {
            new_reply_ordered(case, appeal_number, on, period, facts)?
        }
        ActionInput::AnswerOnTheSpot { outcome } => {
            if case.channel != Channel::InPerson {
                return Err(invalid(
                    "action.type",
                    "only a request handed in at the office can be answered on the spot",
                ));
            }
            WorkflowEvent::AnsweredOnTheSpot { on: case.received_on, outcome: reply_outcome(case, outcome, facts)? }
        }
        ActionInput::Withdraw { on } => WorkflowEvent::Withdrawn { on: facts.step_date(case, "action.on", on)? },
        ActionInput::NotProcess { on, ground, repeat_of, repeat_of_earlier } => {
            let outcome = Outcome::NotProcessed {
                reason: ground,
                repeat_of: repeat_of.map(|id| id.to_string()),
                repeat_of_earlier,
            };
            WorkflowEvent::NotProcessed {
                on: facts.step_date(case, "action.on", on)?,
                outcome: reply_outcome(case, outcome, facts)?,
            }
        }
        ActionInput::Transfer { on, to_agency } => {
            let on = facts.step_date(case, "action.on", on)?;
            if to_agency == facts.agency_code {
                return Err(invalid("action.to_agency", "is the agency handling the case"));
            }
            return Ok(Decision::Transfer { on, to_agency });
        }
        ActionInput::Archive => WorkflowEvent::Archived,
        ActionInput::AssessFee { basis, waived_fen, waiver_reason } => {
            assess_fee(case, basis, waived_fen, waiver_reason, facts)?
        }
        ActionInput::FileAppeal { kind, filed_on, reference } => file_appeal(case, kind, filed_on, reference, facts)?,
        ActionInput::DecideAppeal { number, outcome, decided_on } => {
            decide_appeal(case, number, outcome, decided_on, facts)?
        }
        ActionInput::AmendRegistration { changes } => amend_registration(case, changes, facts)?,
        ActionInput::VoidDuplicate { duplicate_of } => void_duplicate(&duplicate_of, facts)?,
    };
    Ok(Decision::Record(event))
}

fn amend_registration(
    case: &Case,
    changes: super::amendment::AmendmentInput,
    facts: &Facts<'_>,
) -> Result<WorkflowEvent, Refusal> {
    use super::amendment::{amend, AmendmentRefusal};
    let bounds = facts.receipt_bounds.unwrap_or(ReceiptBounds {
        latest: facts.today,
        regime_first: case.received_on,
        regime_last: case.received_on,
    });
    let arrival = super::china_date(case.arrived_at);
    match amend(case, changes, facts.actor.role, arrival, bounds.latest, (bounds.regime_first, bounds.regime_last)) {
        Ok(changes) => Ok(WorkflowEvent::RegistrationAmended { changes: Box::new(changes) }),
        Err(AmendmentRefusal::NotTheOfficeHead) => Err(Refusal::Forbidden(
            "only the office head (approver) may change the receipt date, its basis or evidence".into(),
        )),
        Err(AmendmentRefusal::Invalid(errors)) => Err(Refusal::Invalid(errors)),
    }
}

/// A duplicate names its original: another case in the actor's scope that is not itself voided.
fn void_duplicate(named: &str, facts: &Facts<'_>) -> Result<WorkflowEvent, Refusal> {
    let original = facts
        .duplicate_of
        .as_ref()
        .ok_or_else(|| invalid("action.duplicate_of", format!("no case `{named}` in your scope")))?;
    if original.is_self {
        return Err(invalid("action.duplicate_of", "names the case being voided; name the registration it duplicates"));
    }
    if original.state == super::workflow::CaseState::Voided {
        return Err(invalid(
            "action.duplicate_of",
            format!(
                "case {} is itself a voided duplicate; name the registration that stands",
                original.tracking_number
            ),
        ));
    }
    Ok(WorkflowEvent::Voided {
        duplicate_of: original.id.to_owned(),
        duplicate_of_number: original.tracking_number.to_owned(),
    })
}

/// 审核: a handler or approver whose scope covers the case; a handler assigns only themselves.
fn assign(handler_id: uuid::Uuid, facts: &Facts<'_>) -> Result<WorkflowEvent, Refusal> {
    let handler =
        facts.handler.ok_or_else(|| invalid("action.handler_id", format!("no user has id `{handler_id}`")))?;
    if !matches!(handler.role, Role::Handler | Role::Approver) {
        return Err(invalid("action.handler_id", format!("{} is a {}, not a handler", handler.name, handler.role)));
    }
    if !handler.covers(facts.agency_path) {
        return Err(invalid(
            "action.handler_id",
            format!("{} works outside agency {}", handler.name, facts.agency_code),
        ));
    }
    if facts.actor.role == Role::Handler && handler.user_id != facts.actor.user_id {
        return Err(Refusal::Forbidden("a handler may assign only themselves; the office head assigns others".into()));
    }
    Ok(WorkflowEvent::HandlerAssigned { handler_id: handler.user_id.clone(), handler_name: handler.name.clone() })
}

/// An outcome given in a reply: the endings the service records itself are not replies, and a repeat
/// request names the earlier, answered request (2019 Art. 36 (六)) once.
fn reply_outcome(case: &Case, outcome: Outcome, facts: &Facts<'_>) -> Result<Outcome, Refusal> {
    if !outcome.is_reply() {
        return Err(invalid(
            "action.outcome",
            "a lapse or withdrawal is recorded by its own action or clock event, not as a reply",
        ));
    }
    let Outcome::NotProcessed { reason, repeat_of, repeat_of_earlier } = outcome else {
        return Ok(outcome);
    };
    let repeat_of_earlier = match (reason, &repeat_of, repeat_of_earlier) {
        (NotProcessedReason::RepeatRequest, None, None) => {
            return Err(invalid(
                "action.repeat_of",
                "a repeat request names the earlier, answered request: `repeat_of` (a case) or `repeat_of_earlier` (one answered before this service)",
            ))
        }
        (NotProcessedReason::RepeatRequest, Some(_), Some(_)) => {
            return Err(invalid(
                "action.repeat_of_earlier",
                "name the earlier request once: a case id or an external reference, not both",
            ))
        }
        (NotProcessedReason::RepeatRequest, Some(earlier), None) => {
            let (found, is_self) = facts
                .repeated
                .as_ref()
                .ok_or_else(|| invalid("action.repeat_of", format!("no earlier case `{earlier}` in your scope")))?;
            case.check_repeat_of(*is_self, found).map_err(|e| invalid("action.repeat_of", e.to_string()))?;
            None
        }
        (NotProcessedReason::RepeatRequest, None, Some(earlier)) => Some(earlier_request(case, earlier)?),
        (_, None, None) => None,
        (_, Some(_), _) => return Err(invalid("action.repeat_of", "only a repeat request names an earlier case")),
        (_, None, Some(_)) => {
            return Err(invalid("action.repeat_of_earlier", "only a repeat request names an earlier request"))
        }
    };
    Ok(Outcome::NotProcessed { reason, repeat_of, repeat_of_earlier })
}

/// An earlier request answered outside this service: a reference, and an answer dated by the time
/// this request arrived.
fn earlier_request(case: &Case, earlier: EarlierRequest) -> Result<EarlierRequest, Refusal> {
    let mut v = Validator::new();
    let reference = v.text("action.repeat_of_earlier.reference", &earlier.reference, 200);
    let note = v.optional_text("action.repeat_of_earlier.note", earlier.note.as_deref(), 2000);
    if let Err(e) = case.check_repeat_of_earlier(earlier.answered_on) {
        v.error("action.repeat_of_earlier.answered_on", e.to_string());
    }
    v.finish()?;
    Ok(EarlierRequest { reference, answered_on: earlier.answered_on, note })
}

/// The fee by the regime's scheme (2008 Art. 27 cost fees, 2020 processing fee); a waiver is the
/// office head's (2008 Art. 28); a paid fee is not assessed again. Dated by the business date.
fn assess_fee(
    case: &Case,
    basis: FeeBasis,
    waived_fen: i64,
    waiver_reason: Option<String>,
    facts: &Facts<'_>,
) -> Result<WorkflowEvent, Refusal> {
    if let Some(paid) = &case.fee_payment {
        return Err(Refusal::Conflict(format!(
            "the fee was paid on {} ({} fen): a paid fee is not assessed again",
            paid.on, paid.amount_fen
        )));
    }
    if waived_fen != 0 && facts.actor.role != Role::Approver {
        return Err(Refusal::Forbidden("only an approver (the office head) may waive fees (Art. 28)".into()));
    }
    let mut v = Validator::new();
    let waiver_reason = v.optional_text("action.waiver_reason", waiver_reason.as_deref(), 2000);
    v.finish()?;
    let mut assessment =
        assess(facts.regime.fee_scheme, facts.rates, basis, facts.requests_in_month, waived_fen, waiver_reason)
            .map_err(|e| invalid("action", e.to_string()))?;
    assessment.assessed_on = Some(facts.effective_on.unwrap_or(facts.today));
    Ok(WorkflowEvent::FeeAssessed(assessment))
}

/// A reconsideration, lawsuit or complaint; a lawsuit after reconsideration needs a reconsideration
/// decided by its filing date.
fn file_appeal(
    case: &Case,
    kind: AppealKind,
    filed_on: NaiveDate,
    reference: Option<String>,
    facts: &Facts<'_>,
) -> Result<WorkflowEvent, Refusal> {
    let mut v = Validator::new();
    let reference = v.optional_text("action.reference", reference.as_deref(), 200);
    v.finish()?;
    if kind == AppealKind::LitigationAfterReconsideration
        && !case.appeals.iter().any(|a| {
            a.kind == AppealKind::Reconsideration
                && a.outcome != AppealOutcome::Pending
                && a.decided_on.is_some_and(|d| d <= filed_on)
        })
    {
        return Err(invalid(
            "action.kind",
            "a lawsuit after reconsideration needs a reconsideration on this case decided by the filing date",
        ));
    }
    let number = i32::try_from(case.appeals.len() + 1).map_err(|_| Refusal::Conflict("too many appeals".into()))?;
    Ok(WorkflowEvent::AppealFiled { number, kind, filed_on: facts.date(case, "action.filed_on", filed_on)?, reference })
}

/// The decision on a pending appeal, once, not before its filing.
fn decide_appeal(
    case: &Case,
    number: i32,
    outcome: AppealOutcome,
    decided_on: NaiveDate,
    facts: &Facts<'_>,
) -> Result<WorkflowEvent, Refusal> {
    let appeal = case
        .appeals
        .iter()
        .find(|a| a.number == number)
        .ok_or_else(|| invalid("action.number", format!("the case has no appeal {number}")))?;
    if appeal.outcome != AppealOutcome::Pending {
        return Err(Refusal::Conflict(format!("appeal {number} was already decided ({})", appeal.outcome)));
    }
    if outcome == AppealOutcome::Pending {
        return Err(invalid("action.outcome", "a decision must be upheld, corrected or other"));
    }
    if decided_on < appeal.filed_on {
        return Err(invalid("action.decided_on", format!("is before the filing date {}", appeal.filed_on)));
    }
    Ok(WorkflowEvent::AppealDecided { number, outcome, decided_on: facts.date(case, "action.decided_on", decided_on)? })
}

/// 重新答复: the appeal corrected the reply and has not ordered a new one yet, the order follows its
/// decision, and the period gives a due date on the agency's calendar.
fn new_reply_ordered(
    case: &Case,
    appeal_number: i32,
    on: NaiveDate,
    period: NewReplyPeriod,
    facts: &Facts<'_>,
) -> Result<WorkflowEvent, Refusal> {
    if !case.correcting_appeals().contains(&appeal_number) {
        return Err(invalid(
            "action.appeal_number",
            format!(
                "appeal {appeal_number} is not a reconsideration or lawsuit that corrected this case's reply and has not yet ordered a new one"
            ),
        ));
    }
    let on = facts.step_date(case, "action.on", on)?;
    let decided_on = case.appeals.iter().find(|a| a.number == appeal_number).and_then(|a| a.decided_on);
    if let Some(decided) = decided_on.filter(|d| on < *d) {
        return Err(invalid("action.on", format!("{on} is before the decision of {decided}")));
    }
    let due_on = match &period {
        NewReplyPeriod::WorkingDays { from, days } => {
            if !(1..=100).contains(days) {
                return Err(invalid("action.period.days", "must be between 1 and 100 working days"));
            }
            if *from < case.received_on || *from > on {
                return Err(invalid(
                    "action.period.from",
                    format!("must be between the receipt date {} and {on}", case.received_on),
                ));
            }
            facts.calendar.add_working_days(*from, *days).map_err(|e| invalid("action.period", e.to_string()))?.date
        }
        NewReplyPeriod::Date { due_on } => {
            if *due_on < on {
                return Err(invalid("action.period.due_on", format!("{due_on} is before {on}")));
            }
            *due_on
        }
    };
    Ok(WorkflowEvent::NewReplyOrdered { appeal_number, on, period, due_on })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::tests::{d, shipped_index};
    use crate::case::register;
    use crate::events::Closing;
    use crate::intake::{Applicant, ApplicantKind, DeliveryForm, Intake, ReceiptBasis};
    use crate::role::Scope;
    use crate::workflow::CaseState;

    fn person(id: &str, role: Role, path: &str) -> Principal {
        let code = path.trim_matches('/').rsplit('/').next().unwrap_or("PJ").to_owned();
        Principal {
            user_id: id.into(),
            name: id.into(),
            role,
            scope: Scope::Subtree { agency_code: code, path: path.into() },
        }
    }

    /// A 2019-regime letter to PJ received on 2024-03-01, under review.
    fn case(channel: Channel) -> Case {
        let intake = Intake {
            agency: "PJ".into(),
            channel,
            arrived_at: chrono::DateTime::parse_from_rfc3339("2024-03-01T02:00:00Z").unwrap().to_utc(),
            received_on: d(2024, 3, 1),
            receipt_basis: ReceiptBasis::PostSignedFor,
            receipt_evidence: None,
            applicant: Applicant {
                kind: ApplicantKind::NaturalPerson,
                name: "张三".into(),
                id_number: None,
                phone: Some("15704271234".into()),
                email: None,
                address: None,
            },
            description: "d".into(),
            delivery_form: DeliveryForm::Paper,
            topic: None,
        };
        let regime = crate::deadline::tests::national_regimes().remove(1);
        let mut case = Case::from_events(&register(intake, "PJ", 1, &regime, &shipped_index()).unwrap()).unwrap();
        case.state = CaseState::UnderReview;
        case
    }

    /// What storage would have told the decision.
    #[derive(Default)]
    struct Given<'a> {
        handler: Option<&'a Principal>,
        effective_on: Option<NaiveDate>,
        requests_in_month: u32,
        repeated: Option<(EarlierCase<'a>, bool)>,
        receipt_bounds: Option<ReceiptBounds>,
        duplicate_of: Option<DuplicateOf<'a>>,
    }

    fn check(case: &Case, input: ActionInput, actor: &Principal, given: Given<'_>) -> Result<Decision, Refusal> {
        let regime = crate::deadline::tests::national_regimes().remove(1);
        let calendar = shipped_index();
        let facts = Facts {
            actor,
            today: d(2024, 6, 1),
            effective_on: given.effective_on,
            regime: &regime,
            calendar: &calendar,
            rates: CostRates::default(),
            agency_code: "PJ",
            agency_path: "/PJ/",
            handler: given.handler,
            requests_in_month: given.requests_in_month,
            repeated: given.repeated,
            receipt_bounds: given.receipt_bounds,
            duplicate_of: given.duplicate_of,
        };
        decide(case, input, &facts)
    }

    fn path_of(result: Result<Decision, Refusal>) -> String {
        match result {
            Err(Refusal::Invalid(errors)) => errors[0].path.clone(),
            other => panic!("expected an invalid field, got {other:?}"),
        }
    }

    #[test]
    fn assign_needs_a_handler_in_scope_and_handlers_assign_only_themselves() {
        let case = case(Channel::Letter);
        let head = person("head", Role::Approver, "/PJ/");
        let handler = person("h1", Role::Handler, "/PJ/");
        let input = || ActionInput::Assign { handler_id: uuid::Uuid::nil() };
        assert_eq!(path_of(check(&case, input(), &head, Given::default())), "action.handler_id", "no such user");
        let clerk = person("c", Role::Clerk, "/PJ/");
        assert_eq!(
            path_of(check(&case, input(), &head, Given { handler: Some(&clerk), ..Given::default() })),
            "action.handler_id"
        );
        let elsewhere = person("h2", Role::Handler, "/DL/");
        assert_eq!(
            path_of(check(&case, input(), &head, Given { handler: Some(&elsewhere), ..Given::default() })),
            "action.handler_id"
        );
        let colleague = person("h3", Role::Handler, "/PJ/");
        assert!(matches!(
            check(&case, input(), &handler, Given { handler: Some(&colleague), ..Given::default() }),
            Err(Refusal::Forbidden(_))
        ));
        assert_eq!(
            check(&case, input(), &handler, Given { handler: Some(&handler), ..Given::default() }),
            Ok(Decision::Record(WorkflowEvent::HandlerAssigned { handler_id: "h1".into(), handler_name: "h1".into() }))
        );
    }

    #[test]
    fn business_dates_only_for_steps_without_one_and_never_before_receipt() {
        let case = case(Channel::Letter);
        let head = person("head", Role::Approver, "/PJ/");
        let serve = ActionInput::Serve { on: d(2024, 3, 20), method: ServiceMethod::Post };
        assert_eq!(
            path_of(check(&case, serve, &head, Given { effective_on: Some(d(2024, 3, 20)), ..Given::default() })),
            "effective_on"
        );
        let approve = || ActionInput::ApproveReply;
        assert_eq!(
            path_of(check(&case, approve(), &head, Given { effective_on: Some(d(2024, 2, 1)), ..Given::default() })),
            "effective_on"
        );
        assert!(check(&case, approve(), &head, Given { effective_on: Some(d(2024, 3, 5)), ..Given::default() }).is_ok());
    }

    #[test]
    fn only_a_request_handed_in_is_answered_on_the_spot() {
        let head = person("head", Role::Approver, "/PJ/");
        let spot = || ActionInput::AnswerOnTheSpot { outcome: Outcome::Disclosed { already_public: true } };
        assert_eq!(path_of(check(&case(Channel::Letter), spot(), &head, Given::default())), "action.type");
        assert!(matches!(
            check(&case(Channel::InPerson), spot(), &head, Given::default()),
            Ok(Decision::Record(WorkflowEvent::AnsweredOnTheSpot { on, .. })) if on == d(2024, 3, 1)
        ));
        let lapse =
            ActionInput::DraftReply { outcome: Outcome::Other { reason: crate::outcome::OtherReason::FeeLapsed } };
        assert_eq!(path_of(check(&case(Channel::Letter), lapse, &head, Given::default())), "action.outcome");
    }

    #[test]
    fn fees_follow_the_scheme_waivers_are_the_heads_and_a_paid_fee_stands() {
        let mut case = case(Channel::Letter);
        let head = person("head", Role::Approver, "/PJ/");
        let handler = person("h1", Role::Handler, "/PJ/");
        let fee = |waived_fen| ActionInput::AssessFee {
            basis: FeeBasis::PerRequest,
            waived_fen,
            waiver_reason: Some("低保".into()),
        };
        assert!(matches!(check(&case, fee(100), &handler, Given::default()), Err(Refusal::Forbidden(_))));
        // The eleventh request of the month costs 100 元; the assessment is dated by the business date.
        let given = Given { requests_in_month: 11, effective_on: Some(d(2024, 3, 4)), ..Given::default() };
        let decided = check(&case, fee(0), &handler, given);
        let Ok(Decision::Record(WorkflowEvent::FeeAssessed(a))) = decided else { panic!("{decided:?}") };
        assert_eq!((a.charged_fen, a.assessed_on), (10_000, Some(d(2024, 3, 4))));
        case.fee_payment =
            Some(crate::fees::FeePayment { on: d(2024, 3, 8), amount_fen: 10_000, receipt_number: None });
        assert!(matches!(check(&case, fee(0), &head, Given::default()), Err(Refusal::Conflict(_))));
    }

    #[test]
    fn a_repeat_request_names_one_answered_request_once() {
        let case = case(Channel::Letter);
        let head = person("head", Role::Approver, "/PJ/");
        let screen = |repeat_of: Option<uuid::Uuid>, earlier: Option<EarlierRequest>, ground| ActionInput::NotProcess {
            on: d(2024, 3, 12),
            ground,
            repeat_of,
            repeat_of_earlier: earlier,
        };
        let earlier =
            EarlierRequest {
                reference: "盘政公开〔2023〕15号".into(), answered_on: d(2023, 11, 20), note: None
            };
        let id = Some(uuid::Uuid::nil());
        let repeat = NotProcessedReason::RepeatRequest;
        assert_eq!(path_of(check(&case, screen(None, None, repeat), &head, Given::default())), "action.repeat_of");
        assert_eq!(
            path_of(check(&case, screen(id, Some(earlier.clone()), repeat), &head, Given::default())),
            "action.repeat_of_earlier"
        );
        assert_eq!(
            path_of(check(&case, screen(id, None, repeat), &head, Given::default())),
            "action.repeat_of",
            "not in scope"
        );
        let publication = NotProcessedReason::Publication;
        assert_eq!(path_of(check(&case, screen(id, None, publication), &head, Given::default())), "action.repeat_of");
        let open = EarlierCase {
            tracking_number: "PJ-2024-00000",
            state: CaseState::UnderReview,
            received_on: d(2024, 2, 1),
            closing: None,
            served_on: None,
            transferred: false,
        };
        let refused = check(
            &case,
            screen(id, None, repeat),
            &head,
            Given { repeated: Some((open.clone(), false)), ..Given::default() },
        );
        assert_eq!(path_of(refused), "action.repeat_of", "an open case is no answer");
        let answered = EarlierCase {
            closing: Some(Closing::OnTime),
            served_on: Some(d(2024, 2, 20)),
            state: CaseState::Replied,
            ..open
        };
        assert!(check(
            &case,
            screen(id, None, repeat),
            &head,
            Given { repeated: Some((answered, false)), ..Given::default() }
        )
        .is_ok());
        assert!(check(&case, screen(None, Some(earlier), repeat), &head, Given::default()).is_ok());
    }

    #[test]
    fn appeals_are_filed_in_order_and_decided_once() {
        let mut case = case(Channel::Letter);
        let head = person("head", Role::Approver, "/PJ/");
        let after = ActionInput::FileAppeal {
            kind: AppealKind::LitigationAfterReconsideration,
            filed_on: d(2024, 4, 1),
            reference: None,
        };
        assert_eq!(path_of(check(&case, after, &head, Given::default())), "action.kind");
        let decide_it = |n, outcome| ActionInput::DecideAppeal { number: n, outcome, decided_on: d(2024, 5, 1) };
        assert_eq!(
            path_of(check(&case, decide_it(1, AppealOutcome::Upheld), &head, Given::default())),
            "action.number"
        );
        case.appeals.push(crate::workflow::Appeal {
            number: 1,
            kind: AppealKind::Reconsideration,
            filed_on: d(2024, 4, 1),
            reference: None,
            outcome: AppealOutcome::Pending,
            decided_on: None,
        });
        assert_eq!(
            path_of(check(&case, decide_it(1, AppealOutcome::Pending), &head, Given::default())),
            "action.outcome"
        );
        assert!(check(&case, decide_it(1, AppealOutcome::Corrected), &head, Given::default()).is_ok());
        case.appeals[0].outcome = AppealOutcome::Upheld;
        assert!(matches!(
            check(&case, decide_it(1, AppealOutcome::Corrected), &head, Given::default()),
            Err(Refusal::Conflict(_))
        ));
    }

    #[test]
    fn a_transfer_goes_to_another_agency_and_a_new_reply_allows_only_its_own_steps() {
        let mut case = case(Channel::Letter);
        let head = person("head", Role::Approver, "/PJ/");
        let to = |agency: &str| ActionInput::Transfer { on: d(2024, 3, 5), to_agency: agency.into() };
        assert_eq!(path_of(check(&case, to("PJ"), &head, Given::default())), "action.to_agency");
        assert_eq!(
            check(&case, to("PJ-DW"), &head, Given::default()),
            Ok(Decision::Transfer { on: d(2024, 3, 5), to_agency: "PJ-DW".into() })
        );
        case.re_replies.push(crate::workflow::ReReply {
            appeal_number: 1,
            ordered_on: d(2024, 5, 6),
            due_on: d(2024, 6, 5),
            outcome: None,
            served_on: None,
            service_method: None,
        });
        assert!(matches!(
            check(&case, ActionInput::Withdraw { on: d(2024, 5, 7) }, &head, Given::default()),
            Err(Refusal::Conflict(_))
        ));
        let draft = ActionInput::DraftReply { outcome: Outcome::Disclosed { already_public: false } };
        assert!(check(&case, draft, &head, Given::default()).is_ok());
    }

    fn amend(changes: serde_json::Value) -> ActionInput {
        let mut body = changes;
        body["type"] = serde_json::json!("amend_registration");
        serde_json::from_value(body).unwrap()
    }

    fn bounds() -> Given<'static> {
        Given {
            receipt_bounds: Some(ReceiptBounds {
                latest: d(2024, 3, 20),
                regime_first: d(2024, 1, 1),
                regime_last: d(2024, 12, 31),
            }),
            ..Given::default()
        }
    }

    #[test]
    fn an_amendment_records_each_changed_field_with_its_old_and_new_value() {
        let clerk = person("c", Role::Clerk, "/PJ/");
        let input = amend(serde_json::json!({
            "applicant": {"kind": "business", "name": "张三", "phone": "15704271234"},
            "channel": "letter",
            "description": "2023年道路改造的招标文件",
            "topic": "urban"
        }));
        let Decision::Record(WorkflowEvent::RegistrationAmended { changes }) =
            check(&case(Channel::Letter), input, &clerk, bounds()).unwrap()
        else {
            panic!("an amendment")
        };
        // The channel was already a letter: no change is recorded for it.
        assert_eq!(changes.fields(), ["applicant", "description", "topic"]);
        let applicant = changes.applicant.as_ref().unwrap();
        assert_eq!((applicant.old.kind, applicant.new.kind), (ApplicantKind::NaturalPerson, ApplicantKind::Business));
        assert_eq!(changes.topic.as_ref().unwrap().old, None);
        let mut amended = case(Channel::Letter);
        changes.apply_to(&mut amended);
        assert_eq!(amended.applicant.kind, ApplicantKind::Business);
        assert_eq!(amended.topic.as_deref(), Some("urban"));
        // Masked, the applicant's phone keeps only its first digits.
        assert_eq!(changes.masked().applicant.unwrap().new.phone.as_deref(), Some("1570427****"));
    }

    #[test]
    fn the_receipt_date_is_the_office_heads_and_stays_within_the_cases_dated_steps_year_and_regime() {
        let clerk = person("c", Role::Clerk, "/PJ/");
        let head = person("h", Role::Approver, "/PJ/");
        let later = amend(serde_json::json!({"received_on": "2024-03-04", "receipt_basis": "clerk_determined"}));
        assert!(matches!(check(&case(Channel::Letter), later.clone(), &clerk, bounds()), Err(Refusal::Forbidden(_))));
        let Decision::Record(WorkflowEvent::RegistrationAmended { changes }) =
            check(&case(Channel::Letter), later, &head, bounds()).unwrap()
        else {
            panic!("an amendment")
        };
        assert_eq!(changes.received_on, Some(crate::amendment::Change { old: d(2024, 3, 1), new: d(2024, 3, 4) }));
        for (on, why) in [("2024-02-29", "before the day the request arrived"), ("2024-03-21", "a later step")] {
            let input = amend(serde_json::json!({ "received_on": on }));
            let Err(Refusal::Invalid(errors)) = check(&case(Channel::Letter), input, &head, bounds()) else {
                panic!("{on} refused")
            };
            assert_eq!(errors[0].path, "action.received_on");
            assert!(errors[0].message.contains(why), "{on}: {}", errors[0].message);
        }
        let narrow = Given {
            receipt_bounds: Some(ReceiptBounds {
                latest: d(2024, 3, 20),
                regime_first: d(2024, 3, 1),
                regime_last: d(2024, 3, 3),
            }),
            ..Given::default()
        };
        let input = amend(serde_json::json!({ "received_on": "2024-03-04" }));
        assert_eq!(path_of(check(&case(Channel::Letter), input, &head, narrow)), "action.received_on");
        // A basis the channel does not have.
        let input = amend(serde_json::json!({ "receipt_basis": "submitted_in_person" }));
        assert_eq!(path_of(check(&case(Channel::Letter), input, &head, bounds())), "action.receipt_basis");
    }

    #[test]
    fn an_amendment_that_changes_nothing_or_breaks_the_intake_rules_is_refused() {
        let clerk = person("c", Role::Clerk, "/PJ/");
        let same = amend(serde_json::json!({"channel": "letter", "description": "d"}));
        assert_eq!(path_of(check(&case(Channel::Letter), same, &clerk, bounds())), "action");
        let no_contact = amend(serde_json::json!({"applicant": {"kind": "natural_person", "name": "张三"}}));
        assert_eq!(path_of(check(&case(Channel::Letter), no_contact, &clerk, bounds())), "action.applicant");
        let blank = amend(serde_json::json!({"description": "  "}));
        assert_eq!(path_of(check(&case(Channel::Letter), blank, &clerk, bounds())), "action.description");
        assert!(serde_json::from_value::<ActionInput>(
            serde_json::json!({"type": "amend_registration", "colour": "red"})
        )
        .is_err());
    }

    #[test]
    fn a_duplicate_names_another_standing_case() {
        let head = person("h", Role::Approver, "/PJ/");
        let void = || ActionInput::VoidDuplicate { duplicate_of: "PJ-2024-00001".into() };
        assert_eq!(path_of(check(&case(Channel::Letter), void(), &head, Given::default())), "action.duplicate_of");
        let original = |state, is_self| Given {
            duplicate_of: Some(DuplicateOf { id: "o", tracking_number: "PJ-2024-00001", state, is_self }),
            ..Given::default()
        };
        let Decision::Record(event) =
            check(&case(Channel::Letter), void(), &head, original(CaseState::Replied, false)).unwrap()
        else {
            panic!("recorded")
        };
        assert_eq!(
            event,
            WorkflowEvent::Voided { duplicate_of: "o".into(), duplicate_of_number: "PJ-2024-00001".into() }
        );
        for given in [original(CaseState::UnderReview, true), original(CaseState::Voided, false)] {
            assert_eq!(path_of(check(&case(Channel::Letter), void(), &head, given)), "action.duplicate_of");
        }
        // Voided, the case is closed to everything but reading.
        let mut voided = case(Channel::Letter);
        voided = voided
            .apply(&crate::events::CaseEvent::Workflow(crate::events::WorkflowRecord::new(
                event.clone(),
                Some("重复登记".into()),
                None,
            )))
            .unwrap();
        assert_eq!(voided.state, CaseState::Voided);
        assert!(!voided.state.is_open());
        assert!(crate::workflow::allowed_actions(CaseState::Voided).is_empty());
    }
}
