//! `POST /api/v1/cases/{id}/actions`: every workflow step of a case (review, reply, approval,
//! service, side exits, archive, fees, appeals). The state machine and the role table live in
//! `domain::workflow`; this handler checks the facts only the database knows (users, agencies,
//! earlier cases, the applicant's monthly count) and builds the event.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{NaiveDate, Utc};
use serde::Deserialize;
use utoipa::ToSchema;

use super::cases::{etag, CaseResponse};
use super::extract::{if_match_header, json_body, require_if_match, Auth};
use super::problem::Problem;
use crate::db::calendar::CalendarCache;
use crate::db::cases::{self, CaseRecord};
use crate::db::locks::Author;
use crate::db::{agencies, users, Db, DbConnection};
use crate::domain::case::{Case, EarlierCase};
use crate::domain::events::Closing;
use crate::domain::events::{CaseEvent, WorkflowRecord};
use crate::domain::fees::{assess, CostRates, FeeBasis};
use crate::domain::intake::{Intake, ReceiptBasis};
use crate::domain::outcome::{EarlierRequest, NotProcessedReason, Outcome};
use crate::domain::role::{Principal, Role};
use crate::domain::validation::Validator;
use crate::domain::workflow::{
    allowed_during_re_reply, permitted, transition, Action, AppealKind, AppealOutcome, NewReplyPeriod, ServiceMethod,
    WorkflowEvent,
};
use crate::error::AppError;

/// A workflow action and the reason or note recorded with it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionRequest {
    pub action: ActionInput,
    /// Why (recorded with the event). Required to return a draft, withdraw, refuse to process and
    /// transfer.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub reason: Option<String>,
    /// For a step entered after the fact (assign, draft_reply, return_draft, approve_reply, archive,
    /// assess_fee): the day it was really taken. Not in the future, not before the receipt date or the
    /// previous step's date. Kept beside the recorded time; a fee waiver counts in its year.
    #[serde(default)]
    pub effective_on: Option<NaiveDate>,
}

/// What to do. `type` names the action; see `allowed_actions` on the case for what is possible now.
#[derive(Debug, Deserialize, ToSchema)]
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
        }
    }
}

/// Take a workflow action on a case.
///
/// Send the case's current ETag as If-Match (412 stale, 428 missing): two concurrent actions on one
/// case never both succeed. An action the case's state does not allow is a 409
/// `illegal-transition` problem with `current_state` and `allowed_actions`. Every action is appended
/// to the case's event log with the actor, the time and the reason; actions that answer the
/// applicant (serve, on-the-spot reply, not-processed notice, transfer) or record a withdrawal also
/// end the reply clock. Clock events (corrections, consultations, extensions, fee notices) are
/// recorded at `/clock-events`.
#[utoipa::path(
    post,
    path = "/api/v1/cases/{id}/actions",
    tag = "cases",
    params(
        ("id" = uuid::Uuid, Path, description = "Case id"),
        ("If-Match" = String, Header, description = "The case's current ETag, from its last read"),
    ),
    request_body(content = ActionRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Done; the case as it now stands", body = CaseResponse, headers(("ETag" = String, description = "The case's new ETag"))),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or unknown token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role does not allow it", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such case in your scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not possible in the case's current state", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match is not the case's current ETag", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid action", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn act(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
    Auth(user): Auth,
    db: web::Data<Db>,
    calendars: web::Data<CalendarCache>,
    fee_rates: web::Data<CostRates>,
) -> Result<HttpResponse, AppError> {
    let input: ActionRequest = json_body(&req, &body)?;
    let action = input.action.action();
    if !permitted(user.role, action) {
        return Err(AppError::Forbidden(format!("the {} role cannot {action}", user.role)));
    }
    let mut v = Validator::new();
    let reason = v.optional_text("reason", input.reason.as_deref(), 2000);
    if reason.is_none()
        && matches!(action, Action::ReturnDraft | Action::Withdraw | Action::NotProcess | Action::Transfer)
    {
        v.error("reason", format!("`{action}` needs a reason"));
    }
    let effective_on = input.effective_on;
    if effective_on.is_some()
        && !matches!(
            action,
            Action::Assign
                | Action::DraftReply
                | Action::ReturnDraft
                | Action::ApproveReply
                | Action::Archive
                | Action::AssessFee
        )
    {
        v.error("effective_on", format!("`{action}` carries its own date; effective_on is for steps without one"));
    }
    v.finish()?;
    let lock_override = super::extract::lock_override(&req, &user)?;
    let record = super::cases::visible_case(&db, &user, &path).await?;
    let if_match = if_match_header(&req);
    require_if_match(if_match.as_deref(), &etag(&record))?;
    let rates = **fee_rates;
    let (response, new_etag) = db
        .run(move |conn| {
            // Judge the action against the case as it is now, not as the first read found it.
            let (record, case) =
                cases::load(conn, &record.row.id)?.ok_or_else(|| AppError::NotFound("the case is gone".into()))?;
            require_if_match(if_match.as_deref(), &etag(&record))?;
            let rules = calendars.rules(conn, Some(&record.agency_path))?;
            if let Err(mut illegal) = transition(case.state, action, case.resume) {
                // Name what this caller could do instead, as the case read does.
                let clock = cases::clock_events(conn, &record.row.id)?;
                illegal.allowed = super::cases::allowed_actions(&record, &case, &clock, &user, &rules)?;
                return Err(illegal.into());
            }
            if case.re_reply_open() && !allowed_during_re_reply(action) {
                return Err(AppError::Conflict(format!(
                    "a new reply ordered on appeal is being prepared: `{action}` is not possible until it is served"
                )));
            }
            let regime = rules
                .regime(&record.row.regime)
                .cloned()
                .ok_or_else(|| AppError::Internal(format!("case {} has unknown regime", record.row.id)))?;
            let today = crate::domain::china_date(Utc::now());
            let ctx = Context {
                user: &user,
                record: &record,
                case: &case,
                today,
                rates,
                regime: &regime,
                calendar: &rules.calendar,
            };
            let effective_on = effective_on.map(|on| ctx.step_date("effective_on", on)).transpose()?;
            let updated = match input.action {
                ActionInput::Transfer { on, to_agency } => {
                    let (target, intake) = transfer_intake(conn, &ctx, on, &to_agency)?;
                    let target_rules = calendars.rules(conn, Some(&target.path))?;
                    let target_regime = target_rules.regime_for(&target.path, on).cloned().ok_or_else(|| {
                        AppError::validation("action.on", format!("no regime governs a request received on {on}"))
                    })?;
                    let new = cases::NewCase {
                        agency: &target,
                        intake,
                        regime: &target_regime,
                        calendar: &target_rules.calendar,
                        transferred_from: Some(record.row.id.clone()),
                    };
                    let step = |to_case_id: &str| {
                        CaseEvent::Workflow(WorkflowRecord {
                            event: WorkflowEvent::Transferred {
                                on,
                                to_agency: target.code.clone(),
                                to_case_id: to_case_id.to_owned(),
                            },
                            reason: reason.clone(),
                            effective_on: None,
                        })
                    };
                    let by = (&user, lock_override.as_deref());
                    cases::transfer(conn, by, &record, step, (&regime, &rules.calendar), new, today)?.0
                }
                other => {
                    let mut event = build_event(conn, &ctx, other)?;
                    if let (WorkflowEvent::FeeAssessed(assessment), Some(on)) = (&mut event, effective_on) {
                        assessment.assessed_on = Some(on);
                    }
                    let event = CaseEvent::Workflow(WorkflowRecord { event, reason, effective_on });
                    let author = Author { user_id: Some(&user.user_id), lock_override: lock_override.as_deref() };
                    cases::record_event(conn, &record, event, &regime, &rules.calendar, &author, today)?
                }
            };
            let response = super::cases::CaseResponse::with_details(conn, &updated, &user, &rules)?;
            Ok((response, etag(&updated)))
        })
        .await?;
    Ok(HttpResponse::Ok().insert_header((actix_web::http::header::ETAG, new_etag)).json(response))
}

/// What every check may need.
struct Context<'a> {
    user: &'a Principal,
    record: &'a CaseRecord,
    case: &'a Case,
    today: NaiveDate,
    rates: CostRates,
    regime: &'a crate::domain::deadline::RegimeRules,
    calendar: &'a crate::domain::calendar::WorkingDayIndex,
}

impl Context<'_> {
    /// A date an action says something happened on: not before the receipt date, not in the future.
    fn date(&self, path: &str, on: NaiveDate) -> Result<NaiveDate, AppError> {
        self.case.check_date(on, self.today).map_err(|e| AppError::validation(path, e.to_string()))
    }

    /// The date of a workflow step: as `date`, and not before the previous step's date.
    fn step_date(&self, path: &str, on: NaiveDate) -> Result<NaiveDate, AppError> {
        self.case.check_step_date(on, self.today).map_err(|e| AppError::validation(path, e.to_string()))
    }
}

fn build_event(conn: &mut DbConnection, ctx: &Context<'_>, input: ActionInput) -> Result<WorkflowEvent, AppError> {
    Ok(match input {
        ActionInput::Assign { handler_id } => {
            let id = handler_id.to_string();
            let handler = users::find_principal(conn, &id)?
                .ok_or_else(|| AppError::validation("action.handler_id", format!("no user has id `{id}`")))?;
            if !matches!(handler.role, Role::Handler | Role::Approver) {
                return Err(AppError::validation(
                    "action.handler_id",
                    format!("{} is a {}, not a handler", handler.name, handler.role),
                ));
            }
            if !handler.covers(&ctx.record.agency_path) {
                return Err(AppError::validation(
                    "action.handler_id",
                    format!("{} works outside agency {}", handler.name, ctx.record.agency_code),
                ));
            }
            if ctx.user.role == Role::Handler && handler.user_id != ctx.user.user_id {
                return Err(AppError::Forbidden(
                    "a handler may assign only themselves; the office head assigns others".into(),
                ));
            }
            WorkflowEvent::HandlerAssigned { handler_id: handler.user_id, handler_name: handler.name }
        }
        ActionInput::DraftReply { outcome } => {
            WorkflowEvent::ReplyDrafted { outcome: reply_outcome(conn, ctx, outcome)? }
        }
        ActionInput::ReturnDraft => WorkflowEvent::DraftReturned,
        ActionInput::ApproveReply => WorkflowEvent::ReplyApproved,
        ActionInput::Serve { on, method } => {
            let on = ctx.step_date("action.on", on)?;
            if ctx.case.re_reply_open() {
                WorkflowEvent::ReplyReissued { on, method }
            } else {
                WorkflowEvent::Served { on, method }
            }
        }
        ActionInput::ReopenForNewReply { appeal_number, on, period } => {
            new_reply_ordered(ctx, appeal_number, on, period)?
        }
        ActionInput::AnswerOnTheSpot { outcome } => {
            if ctx.case.channel != crate::domain::intake::Channel::InPerson {
                return Err(AppError::validation(
                    "action.type",
                    "only a request handed in at the office can be answered on the spot",
                ));
            }
            WorkflowEvent::AnsweredOnTheSpot { on: ctx.case.received_on, outcome: reply_outcome(conn, ctx, outcome)? }
        }
        ActionInput::Withdraw { on } => WorkflowEvent::Withdrawn { on: ctx.step_date("action.on", on)? },
        ActionInput::NotProcess { on, ground, repeat_of, repeat_of_earlier } => {
            let outcome = Outcome::NotProcessed {
                reason: ground,
                repeat_of: repeat_of.map(|id| id.to_string()),
                repeat_of_earlier,
            };
            WorkflowEvent::NotProcessed {
                on: ctx.step_date("action.on", on)?,
                outcome: reply_outcome(conn, ctx, outcome)?,
            }
        }
        ActionInput::Transfer { .. } => unreachable!("transfers are handled by the caller"),
        ActionInput::Archive => WorkflowEvent::Archived,
        ActionInput::AssessFee { basis, waived_fen, waiver_reason } => {
            if let Some(paid) = &ctx.case.fee_payment {
                return Err(AppError::Conflict(format!(
                    "the fee was paid on {} ({} fen): a paid fee is not assessed again",
                    paid.on, paid.amount_fen
                )));
            }
            if waived_fen != 0 && ctx.user.role != Role::Approver {
                return Err(AppError::Forbidden("only an approver (the office head) may waive fees (Art. 28)".into()));
            }
            let mut v = Validator::new();
            let waiver_reason = v.optional_text("action.waiver_reason", waiver_reason.as_deref(), 2000);
            v.finish()?;
            let number = cases::applicant_requests_in_month(conn, &ctx.record.row)?;
            let number = u32::try_from(number).unwrap_or(u32::MAX);
            let mut assessment = assess(ctx.regime.fee_scheme, ctx.rates, basis, number, waived_fen, waiver_reason)
                .map_err(|e| AppError::validation("action", e.to_string()))?;
            assessment.assessed_on = Some(ctx.today);
            WorkflowEvent::FeeAssessed(assessment)
        }
        ActionInput::FileAppeal { kind, filed_on, reference } => {
            let mut v = Validator::new();
            let reference = v.optional_text("action.reference", reference.as_deref(), 200);
            v.finish()?;
            if kind == AppealKind::LitigationAfterReconsideration
                && !ctx.case.appeals.iter().any(|a| {
                    a.kind == AppealKind::Reconsideration
                        && a.outcome != AppealOutcome::Pending
                        && a.decided_on.is_some_and(|d| d <= filed_on)
                })
            {
                return Err(AppError::validation(
                    "action.kind",
                    "a lawsuit after reconsideration needs a reconsideration on this case decided by the filing date",
                ));
            }
            let number = i32::try_from(ctx.case.appeals.len() + 1).map_err(AppError::internal)?;
            WorkflowEvent::AppealFiled { number, kind, filed_on: ctx.date("action.filed_on", filed_on)?, reference }
        }
        ActionInput::DecideAppeal { number, outcome, decided_on } => {
            let appeal = ctx
                .case
                .appeals
                .iter()
                .find(|a| a.number == number)
                .ok_or_else(|| AppError::validation("action.number", format!("the case has no appeal {number}")))?;
            if appeal.outcome != AppealOutcome::Pending {
                return Err(AppError::Conflict(format!("appeal {number} was already decided ({})", appeal.outcome)));
            }
            if outcome == AppealOutcome::Pending {
                return Err(AppError::validation("action.outcome", "a decision must be upheld, corrected or other"));
            }
            if decided_on < appeal.filed_on {
                return Err(AppError::validation(
                    "action.decided_on",
                    format!("is before the filing date {}", appeal.filed_on),
                ));
            }
            WorkflowEvent::AppealDecided { number, outcome, decided_on: ctx.date("action.decided_on", decided_on)? }
        }
    })
}

/// Checks a reopening for a new reply (重新答复): the appeal corrected the reply and has not ordered one
/// yet, the order follows its decision, and the period gives a due date on the agency's calendar.
fn new_reply_ordered(
    ctx: &Context<'_>,
    appeal_number: i32,
    on: NaiveDate,
    period: NewReplyPeriod,
) -> Result<WorkflowEvent, AppError> {
    if !ctx.case.correcting_appeals().contains(&appeal_number) {
        return Err(AppError::validation(
            "action.appeal_number",
            format!(
                "appeal {appeal_number} is not a reconsideration or lawsuit that corrected this case's reply and has not yet ordered a new one"
            ),
        ));
    }
    let on = ctx.step_date("action.on", on)?;
    let decided_on = ctx.case.appeals.iter().find(|a| a.number == appeal_number).and_then(|a| a.decided_on);
    if let Some(decided) = decided_on.filter(|d| on < *d) {
        return Err(AppError::validation("action.on", format!("{on} is before the decision of {decided}")));
    }
    let due_on = match &period {
        NewReplyPeriod::WorkingDays { from, days } => {
            if !(1..=100).contains(days) {
                return Err(AppError::validation("action.period.days", "must be between 1 and 100 working days"));
            }
            if *from < ctx.case.received_on || *from > on {
                return Err(AppError::validation(
                    "action.period.from",
                    format!("must be between the receipt date {} and {on}", ctx.case.received_on),
                ));
            }
            ctx.calendar
                .add_working_days(*from, *days)
                .map_err(|e| AppError::validation("action.period", e.to_string()))?
                .date
        }
        NewReplyPeriod::Date { due_on } => {
            if *due_on < on {
                return Err(AppError::validation("action.period.due_on", format!("{due_on} is before {on}")));
            }
            *due_on
        }
    };
    Ok(WorkflowEvent::NewReplyOrdered { appeal_number, on, period, due_on })
}

/// Checks an outcome given in a reply: the endings the service records itself are not replies, and
/// a repeat request must name an earlier case of the same agency that the caller can see.
fn reply_outcome(conn: &mut DbConnection, ctx: &Context<'_>, outcome: Outcome) -> Result<Outcome, AppError> {
    if !outcome.is_reply() {
        return Err(AppError::validation(
            "action.outcome",
            "a lapse or withdrawal is recorded by its own action or clock event, not as a reply",
        ));
    }
    if let Outcome::NotProcessed { reason, repeat_of, repeat_of_earlier } = outcome {
        let repeat_of_earlier = match (reason, &repeat_of, repeat_of_earlier) {
            (NotProcessedReason::RepeatRequest, None, None) => {
                return Err(AppError::validation(
                    "action.repeat_of",
                    "a repeat request names the earlier, answered request: `repeat_of` (a case) or `repeat_of_earlier` (one answered before this service)",
                ))
            }
            (NotProcessedReason::RepeatRequest, Some(_), Some(_)) => {
                return Err(AppError::validation(
                    "action.repeat_of_earlier",
                    "name the earlier request once: a case id or an external reference, not both",
                ))
            }
            (NotProcessedReason::RepeatRequest, Some(earlier), None) => {
                repeated_case(conn, ctx, earlier)?;
                None
            }
            (NotProcessedReason::RepeatRequest, None, Some(earlier)) => Some(earlier_request(ctx, earlier)?),
            (_, None, None) => None,
            (_, Some(_), _) => {
                return Err(AppError::validation("action.repeat_of", "only a repeat request names an earlier case"))
            }
            (_, None, Some(_)) => {
                return Err(AppError::validation(
                    "action.repeat_of_earlier",
                    "only a repeat request names an earlier request",
                ))
            }
        };
        return Ok(Outcome::NotProcessed { reason, repeat_of, repeat_of_earlier });
    }
    Ok(outcome)
}

/// Checks the case a repeat request names (2019 Art. 36 (六)): in the caller's scope, received before
/// this one, and answered (closed with a reply: not withdrawn, abandoned, transferred or still open).
fn repeated_case(conn: &mut DbConnection, ctx: &Context<'_>, earlier: &str) -> Result<(), AppError> {
    let missing = || AppError::validation("action.repeat_of", format!("no earlier case `{earlier}` in your scope"));
    let id = uuid::Uuid::parse_str(earlier).map_err(|_| missing())?.to_string();
    let found = cases::find(conn, &id)?.filter(|c| ctx.user.covers(&c.agency_path)).ok_or_else(missing)?;
    let row = &found.row;
    let facts = EarlierCase {
        tracking_number: &row.tracking_number,
        state: &row.state,
        received_on: row.received_on,
        closing: row.closed_as.as_deref().and_then(Closing::parse),
        served_on: row.served_on,
        transferred: row.transferred_to_case_id.is_some(),
    };
    ctx.case
        .check_repeat_of(row.id == ctx.record.row.id, &facts)
        .map_err(|e| AppError::validation("action.repeat_of", e.to_string()))
}

/// Checks an earlier request answered outside this service: a reference, and an answer dated by the
/// time this request arrived.
fn earlier_request(ctx: &Context<'_>, earlier: EarlierRequest) -> Result<EarlierRequest, AppError> {
    let mut v = Validator::new();
    let reference = v.text("action.repeat_of_earlier.reference", &earlier.reference, 200);
    let note = v.optional_text("action.repeat_of_earlier.note", earlier.note.as_deref(), 2000);
    if let Err(e) = ctx.case.check_repeat_of_earlier(earlier.answered_on) {
        v.error("action.repeat_of_earlier.answered_on", e.to_string());
    }
    v.finish()?;
    Ok(EarlierRequest { reference, answered_on: earlier.answered_on, note })
}

/// The receiving agency and the intake of the linked case: the same applicant and request, received
/// there on the transfer date.
fn transfer_intake(
    conn: &mut DbConnection,
    ctx: &Context<'_>,
    on: NaiveDate,
    to_agency: &str,
) -> Result<(agencies::AgencyRow, Intake), AppError> {
    let on = ctx.step_date("action.on", on)?;
    let target = agencies::find_by_code(conn, to_agency)?
        .ok_or_else(|| AppError::validation("action.to_agency", format!("no agency has code `{to_agency}`")))?;
    if target.code == ctx.record.agency_code {
        return Err(AppError::validation("action.to_agency", "is the agency handling the case"));
    }
    let case = ctx.case;
    let topic = match &case.topic {
        Some(t) if agencies::topics_for(conn, &target)?.iter().any(|known| &known.code == t) => Some(t.clone()),
        _ => None,
    };
    let intake = Intake {
        agency: target.code.clone(),
        channel: case.channel,
        arrived_at: crate::domain::truncate_to_micros(Utc::now()),
        received_on: on,
        receipt_basis: ReceiptBasis::ClerkDetermined,
        receipt_evidence: Some(format!(
            "转送自 {} 案件 {}（{}）",
            ctx.record.agency_code, ctx.record.row.tracking_number, on
        )),
        applicant: case.applicant.clone(),
        description: case.description.clone(),
        delivery_form: case.delivery_form,
        topic,
    };
    Ok((target, intake))
}
