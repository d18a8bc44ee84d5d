//! Reply deadlines: regimes as data, clock events, and a computation that explains itself.
//!
//! Counting starts the day after the receipt date and the deadline is the Nth working day
//! (2008 Art. 24, 2019 Art. 33; 民法典 art. 201). Clock events change it:
//! - a correction notice (补正, 2019 Art. 30) stops the clock; the corrected request restarts the reply
//!   period in full from the day it is received; no correction in time means the request is deemed
//!   abandoned;
//! - consultation of a third party or another agency (2008 Art. 24, 2019 Arts. 32-34) pauses the clock
//!   from sending to the answer, or to the lapse of the consultation period where the regime has one;
//! - a fee notice pauses the clock until payment where the regime says so;
//! - an approved extension adds working days, within the regime's cap;
//! - an Art. 35 delay sets the reply date outright;
//! - a reply served by post is timed by its posting date (国办公开办函〔2016〕235号).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::calendar::{CalendarError, DayClass, WorkingDayIndex};

/// A legal regime's time limits: one row of the `regimes` table. A stricter local rule or a future
/// amendment is a new row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegimeRules {
    /// Stable code, e.g. `ogi2019`.
    pub code: String,
    pub name: String,
    /// First receipt date the regime governs.
    pub effective_from: NaiveDate,
    /// First receipt date it no longer governs (null: still in force).
    pub effective_until: Option<NaiveDate>,
    /// Working days to reply.
    pub reply_days: u32,
    /// Most working days all extensions together may add.
    pub max_extension_days: u32,
    /// Working days after receipt within which a correction notice must go out (null: no limit).
    pub correction_notice_days: Option<u32>,
    /// Working days after which an unanswered consultation lapses and the clock runs again
    /// (null: the pause lasts until the answer).
    pub consultation_lapse_days: Option<u32>,
    /// Whether the time between a fee notice and payment is left out of the reply period.
    pub fee_notice_stops_clock: bool,
    /// Which fee law applies: the 2008 cost fees or the 2020 information-processing fee.
    pub fee_scheme: super::fees::FeeScheme,
    /// Whether the agency may set a later reply date itself (2019 Art. 35: 申请数量、频次明显超过
    /// 合理范围的，行政机关可以确定延迟答复的合理期限). The 2008 Regulation has no such delay.
    pub agency_delay_allowed: bool,
    /// Which consultations stop the clock: 2008 Art. 24 leaves out only the time spent consulting a
    /// third party; 2019 Art. 33(3) also the time spent consulting other agencies (Art. 34). Any other
    /// consultation is recorded but the clock keeps running.
    pub paused_consultations: Vec<ConsultedParty>,
}

impl RegimeRules {
    /// Whether a regime an administrator defines is one the service can apply: a code, a name, a
    /// reply period of 1-100 working days, an extension of at most 100, stop periods of 1-100, and
    /// an end after its start.
    pub fn validate(&self) -> Result<(), Vec<super::validation::FieldError>> {
        let mut v = super::validation::Validator::new();
        if let Err(e) = super::agency::validate_topic_code("code", &self.code) {
            v.error(&e.path, e.message);
        }
        v.text("name", &self.name, 200);
        if !(1..=100).contains(&self.reply_days) {
            v.error("reply_days", "must be between 1 and 100 working days");
        }
        if self.max_extension_days > 100 {
            v.error("max_extension_days", "must be at most 100 working days");
        }
        for (path, days) in [
            ("correction_notice_days", self.correction_notice_days),
            ("consultation_lapse_days", self.consultation_lapse_days),
        ] {
            if days.is_some_and(|d| !(1..=100).contains(&d)) {
                v.error(path, "must be between 1 and 100 working days");
            }
        }
        if self.effective_until.is_some_and(|until| until <= self.effective_from) {
            v.error("effective_until", "must be after effective_from");
        }
        v.finish()
    }

    pub fn governs(&self, received_on: NaiveDate) -> bool {
        received_on >= self.effective_from && self.effective_until.is_none_or(|until| received_on < until)
    }
}

/// The regime for a receipt date: among the candidates in force that day, the most specific one
/// (an agency's own rule over its parent's over the national one). Candidates come with the
/// materialized path of the agency they belong to (None: national).
pub fn select_regime<'a>(
    candidates: impl IntoIterator<Item = (&'a RegimeRules, Option<&'a str>)>,
    agency_path: &str,
    received_on: NaiveDate,
) -> Option<&'a RegimeRules> {
    candidates
        .into_iter()
        .filter(|(r, scope)| r.governs(received_on) && scope.is_none_or(|p| agency_path.starts_with(p)))
        .max_by_key(|(r, scope)| (scope.map_or(0, str::len), r.effective_from))
        .map(|(r, _)| r)
}

string_enum! {
    /// Who is consulted.
    ConsultedParty {
        /// A third party whose rights are concerned (2008 Art. 23, 2019 Art. 32).
        ThirdParty => "third_party",
        /// Another agency (2019 Art. 34).
        OtherAgency => "other_agency",
    }
}

/// The stored form of a regime's paused consultations: their names, comma-separated.
pub fn consultations_to_text(parties: &[ConsultedParty]) -> String {
    parties.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(",")
}

/// Reads the stored form back (None: an unknown name).
pub fn consultations_from_text(text: &str) -> Option<Vec<ConsultedParty>> {
    text.split(',').map(str::trim).filter(|t| !t.is_empty()).map(ConsultedParty::parse).collect()
}

/// Something that happened to a case's clock, with the date it happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClockEvent {
    /// 补正: the applicant is asked to correct the request by `respond_by`.
    CorrectionNoticeSent {
        on: NaiveDate,
        respond_by: NaiveDate,
    },
    /// The corrected request arrived: the reply period restarts in full.
    CorrectionReceived {
        on: NaiveDate,
    },
    /// No correction by the set date: deemed abandoned (视为放弃).
    CorrectionLapsed {
        on: NaiveDate,
    },
    ConsultationSent {
        on: NaiveDate,
        party: ConsultedParty,
    },
    ConsultationAnswered {
        on: NaiveDate,
    },
    /// Approved by the office head; the applicant was told on `applicant_notified_on`. Both must
    /// fall within the period being extended (2008 Art. 24, 2019 Art. 33).
    ExtensionApproved {
        on: NaiveDate,
        days: u32,
        reason: String,
        applicant_notified_on: NaiveDate,
        /// Set by the service, never by a client: the extension broke the rules (granted or notified
        /// after the deadline, beyond the regime's cap, or while the clock was stopped) and was
        /// recorded on an approver's override. It is kept as evidence but does not move the
        /// deadline, so a reply after the original date is late, never 延期办结.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        #[cfg_attr(feature = "openapi", schema(read_only))]
        overridden: bool,
    },
    /// Art. 35: the agency sets a reasonable later reply date.
    DelaySet {
        on: NaiveDate,
        until: NaiveDate,
    },
    FeeNoticeSent {
        on: NaiveDate,
    },
    /// The fee was paid (2008 cost fees and the 2020 processing fee alike): the amount (filled in
    /// with the charged amount when not given) and the receipt (票据) number. Reports count fees in
    /// the year they are paid.
    FeePaid {
        on: NaiveDate,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        amount_fen: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "openapi", schema(max_length = 100))]
        receipt_number: Option<String>,
    },
    /// The fee was not paid in time: deemed abandoned.
    FeeLapsed {
        on: NaiveDate,
    },
    /// The reply was served; by post, `on` is the posting date. Recorded by the workflow's closing
    /// actions (serve, on-the-spot reply, not-processed notice, transfer), never on its own.
    Replied {
        on: NaiveDate,
    },
    /// The applicant withdrew the request (撤回): the clock ends without a reply. Recorded by the
    /// workflow's `withdraw` action.
    Withdrawn {
        on: NaiveDate,
    },
    /// 重新答复: a reconsideration or court decision corrected the reply and ordered a new one by
    /// `due_on` (行政复议法 2023 art. 64, 行政诉讼法 art. 70: 责令重新作出). The clock runs again to
    /// that date; the first reply keeps its timeliness. Recorded by the workflow's
    /// `reopen_for_new_reply` action.
    NewReplyOrdered {
        on: NaiveDate,
        due_on: NaiveDate,
    },
}

/// The first reply of a case whose reply was later corrected on appeal: its timeliness stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FirstReply {
    pub replied_on: NaiveDate,
    pub due_on: NaiveDate,
    pub final_due_on: NaiveDate,
}

impl ClockEvent {
    pub fn on(&self) -> NaiveDate {
        match self {
            ClockEvent::CorrectionNoticeSent { on, .. }
            | ClockEvent::CorrectionReceived { on }
            | ClockEvent::CorrectionLapsed { on }
            | ClockEvent::ConsultationSent { on, .. }
            | ClockEvent::ConsultationAnswered { on }
            | ClockEvent::ExtensionApproved { on, .. }
            | ClockEvent::DelaySet { on, .. }
            | ClockEvent::FeeNoticeSent { on }
            | ClockEvent::FeePaid { on, .. }
            | ClockEvent::FeeLapsed { on }
            | ClockEvent::Replied { on }
            | ClockEvent::Withdrawn { on }
            | ClockEvent::NewReplyOrdered { on, .. } => *on,
        }
    }
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum DeadlineError {
    #[error(transparent)]
    Calendar(#[from] CalendarError),
    #[error("{event} on {on} comes before the receipt date {received_on}")]
    BeforeReceipt { event: &'static str, on: NaiveDate, received_on: NaiveDate },
    #[error("{event} on {on} is earlier than the event before it ({previous})")]
    OutOfOrder { event: &'static str, on: NaiveDate, previous: NaiveDate },
    #[error("{event} cannot happen while {state}")]
    NotNow { event: &'static str, state: &'static str },
    #[error("extensions would total {total} working days; {regime} allows at most {max}")]
    ExtensionOverCap { total: u32, max: u32, regime: String },
    #[error("an extension needs a reason")]
    ExtensionWithoutReason,
    #[error("an extension must add at least one working day")]
    EmptyExtension,
    #[error("the correction deadline {respond_by} must be after the notice date {on}")]
    CorrectionDeadlineNotAfterNotice { on: NaiveDate, respond_by: NaiveDate },
    #[error("the Art. 35 date {until} must be later than the current deadline {current}")]
    DelayNotLater { until: NaiveDate, current: NaiveDate },
    #[error("an extension must be approved and the applicant notified within the reply period, which ends on {due} ({what} is {on}); an approver may record a late extension with an override reason, but it will not move the deadline")]
    ExtensionOutsidePeriod { due: NaiveDate, what: &'static str, on: NaiveDate },
    #[error("the applicant cannot be notified ({notified}) before the extension is approved ({on})")]
    ExtensionNotifiedBeforeApproval { on: NaiveDate, notified: NaiveDate },
    #[error("the clock is stopped ({stop}): only a running reply period can be extended; an approver may record it with an override reason, but it will not move the deadline")]
    ExtensionWhileStopped { stop: &'static str },
    #[error(
        "{regime} has no agency-set delay (Art. 35 of the 2019 Regulation): the reply period can only be extended"
    )]
    DelayNotInRegime { regime: String },
    #[error("the new reply's due date {due_on} is before the decision ordering it ({on})")]
    NewReplyDueBeforeOrder { on: NaiveDate, due_on: NaiveDate },
}

impl DeadlineError {
    /// Whether an approver may record the event anyway, on an override with a reason, where it is
    /// kept as evidence without moving the deadline (a late, excessive or stopped-clock extension).
    pub fn is_overridable(&self) -> bool {
        matches!(
            self,
            DeadlineError::ExtensionOutsidePeriod { .. }
                | DeadlineError::ExtensionOverCap { .. }
                | DeadlineError::ExtensionWhileStopped { .. }
        )
    }
}

/// Where the clock stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Clock {
    Running,
    /// Stopped for a consultation or a fee; `remaining_days` resume when it ends.
    Paused {
        since: NaiveDate,
        reason: PauseReason,
        remaining_days: i64,
        lapses_on: Option<NaiveDate>,
    },
    /// Stopped until the corrected request arrives.
    AwaitingCorrection {
        since: NaiveDate,
        respond_by: NaiveDate,
    },
    Replied {
        on: NaiveDate,
    },
    DeemedAbandoned {
        on: NaiveDate,
    },
    Withdrawn {
        on: NaiveDate,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PauseReason {
    ThirdPartyConsultation,
    OtherAgencyConsultation,
    FeeNotice,
}

/// One line of a deadline's explanation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Step {
    pub on: NaiveDate,
    /// Machine-readable: `received`, `paused`, `resumed`, `restarted`, `extended`, `delay_set`, ...
    pub kind: String,
    /// What happened, in words.
    pub detail: String,
    /// The reply deadline after this step (null while the clock is stopped).
    pub due_on: Option<NaiveDate>,
}

/// Why a day in the counted range did not count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    Weekend,
    /// An official holiday (or an agency's local holiday).
    Holiday,
    /// A fixed-date holiday assumed for a year whose notice is not loaded.
    ProvisionalHoliday,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SkippedDay {
    pub date: NaiveDate,
    pub reason: SkipReason,
    /// The holiday's name (null for a plain weekend).
    pub name: Option<String>,
}

/// A weekend day that counted because it was declared a working day (调休上班).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MakeUpDay {
    pub date: NaiveDate,
    pub name: String,
}

/// How a deadline came about: every skipped day with its reason, every counted make-up working
/// day, and the clock's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Explanation {
    /// Counting starts the day after this date.
    pub counting_from: NaiveDate,
    pub skipped_days: Vec<SkippedDay>,
    pub make_up_working_days: Vec<MakeUpDay>,
    pub steps: Vec<Step>,
}

/// The notable days in (from, to].
fn explain_days(cal: &WorkingDayIndex, from: NaiveDate, to: NaiveDate) -> (Vec<SkippedDay>, Vec<MakeUpDay>) {
    let mut skipped = Vec::new();
    let mut make_up = Vec::new();
    for (date, class) in cal.notable_days(from, to) {
        match class {
            DayClass::Weekday => {}
            DayClass::Weekend => skipped.push(SkippedDay { date, reason: SkipReason::Weekend, name: None }),
            DayClass::Holiday { name } => {
                skipped.push(SkippedDay { date, reason: SkipReason::Holiday, name: Some(name) })
            }
            DayClass::ProvisionalHoliday { name } => {
                skipped.push(SkippedDay { date, reason: SkipReason::ProvisionalHoliday, name: Some(name) })
            }
            DayClass::MakeUpWorkday { name } => make_up.push(MakeUpDay { date, name }),
        }
    }
    (skipped, make_up)
}

/// A computed deadline and how it came about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Deadline {
    pub regime: String,
    pub received_on: NaiveDate,
    /// The day counting (re)started from: the receipt date, or the day a correction arrived.
    pub counting_from: NaiveDate,
    /// The reply deadline without extensions, with pauses and restarts applied (null while the clock
    /// is stopped for a correction).
    pub due_on: Option<NaiveDate>,
    /// The deadline with the approved extensions (null when none was approved).
    pub extended_due_on: Option<NaiveDate>,
    /// An Art. 35 delay date set by the agency.
    pub delay_until: Option<NaiveDate>,
    /// The last day a reply is lawful: the delay date, else the extended, else the plain deadline.
    pub final_due_on: Option<NaiveDate>,
    pub extension_days_used: u32,
    /// Depends on days that no loaded calendar notice settles.
    pub provisional: bool,
    pub clock: Clock,
    /// When a new reply was ordered on appeal: the first reply, whose timeliness stands (the dates
    /// above are then the new reply's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_reply: Option<FirstReply>,
    pub steps: Vec<Step>,
}

/// A case's timeliness (for reads and filters).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Timeliness {
    /// 按时办结: replied on or before the plain deadline.
    OnTime { replied_on: NaiveDate },
    /// 延期办结: replied after the plain deadline but within an approved extension or delay.
    Extended { replied_on: NaiveDate },
    /// Replied after the final deadline.
    LateReply { replied_on: NaiveDate, days_late: i64 },
    /// Open, within time: `working_days_left` until the final deadline (0: due today).
    Open { working_days_left: i64 },
    /// Open and past the final deadline by `working_days_overdue`.
    Overdue { working_days_overdue: i64 },
    /// The clock is stopped (correction, consultation or fee).
    Stopped,
    /// Closed without a reply (correction or fee lapsed).
    DeemedAbandoned,
    /// Closed by the applicant's withdrawal: neither on time nor late.
    Withdrawn { withdrawn_on: NaiveDate },
}

/// The computation's running state.
struct Run<'a> {
    cal: &'a WorkingDayIndex,
    counting_from: NaiveDate,
    due: Option<NaiveDate>,
    extension_days: u32,
    delay_until: Option<NaiveDate>,
    clock: Clock,
    /// A consultation the regime does not pause for is under way (the clock runs meanwhile).
    unpaused_consultation: bool,
    /// Set once a new reply is ordered on appeal: the first reply, whose timeliness stands.
    first_reply: Option<FirstReply>,
    provisional: bool,
    steps: Vec<Step>,
}

impl Run<'_> {
    fn add(&mut self, from: NaiveDate, n: u32) -> Result<NaiveDate, DeadlineError> {
        let counted = self.cal.add_working_days(from, n)?;
        self.provisional |= counted.provisional;
        Ok(counted.date)
    }

    fn between(&mut self, from: NaiveDate, to: NaiveDate) -> Result<i64, DeadlineError> {
        self.provisional |= self.cal.any_unsettled(from.min(to), from.max(to))?;
        Ok(self.cal.working_days_between(from, to)?)
    }

    fn step(&mut self, on: NaiveDate, kind: &str, detail: String) {
        let due = self.due;
        self.steps.push(Step { on, kind: kind.to_owned(), detail, due_on: due });
    }

    fn state_name(&self) -> &'static str {
        match self.clock {
            Clock::Running => "the clock is running",
            Clock::Paused { .. } => "the clock is paused",
            Clock::AwaitingCorrection { .. } => "a correction is awaited",
            Clock::Replied { .. } => "the case is replied",
            Clock::DeemedAbandoned { .. } => "the case is deemed abandoned",
            Clock::Withdrawn { .. } => "the request was withdrawn",
        }
    }

    fn not_now(&self, event: &'static str) -> DeadlineError {
        DeadlineError::NotNow { event, state: self.state_name() }
    }

    /// Ends a pause on `on`: the remaining working days run again from then.
    fn resume(&mut self, on: NaiveDate, why: &str) -> Result<(), DeadlineError> {
        if let Clock::Paused { remaining_days, .. } = self.clock {
            let due = self.add(on, remaining_days.max(0) as u32)?;
            self.due = Some(due);
            self.clock = Clock::Running;
            self.step(on, "resumed", format!("{why}: the clock runs again with {remaining_days} working day(s) left"));
        }
        Ok(())
    }

    /// A consultation that lapsed before `now` ends its pause at the lapse date.
    fn apply_lapse_before(&mut self, now: NaiveDate) -> Result<(), DeadlineError> {
        if let Clock::Paused { lapses_on: Some(lapse), .. } = self.clock {
            if lapse < now {
                self.resume(lapse, "consultation period lapsed without an answer")?;
            }
        }
        Ok(())
    }
}

impl ClockEvent {
    /// The event's `type` as in its JSON form, e.g. `extension_approved`.
    pub fn type_name(&self) -> &'static str {
        event_name(self)
    }
}

fn event_name(e: &ClockEvent) -> &'static str {
    match e {
        ClockEvent::CorrectionNoticeSent { .. } => "correction_notice_sent",
        ClockEvent::CorrectionReceived { .. } => "correction_received",
        ClockEvent::CorrectionLapsed { .. } => "correction_lapsed",
        ClockEvent::ConsultationSent { .. } => "consultation_sent",
        ClockEvent::ConsultationAnswered { .. } => "consultation_answered",
        ClockEvent::ExtensionApproved { .. } => "extension_approved",
        ClockEvent::DelaySet { .. } => "delay_set",
        ClockEvent::FeeNoticeSent { .. } => "fee_notice_sent",
        ClockEvent::FeePaid { .. } => "fee_paid",
        ClockEvent::FeeLapsed { .. } => "fee_lapsed",
        ClockEvent::Replied { .. } => "replied",
        ClockEvent::Withdrawn { .. } => "withdrawn",
        ClockEvent::NewReplyOrdered { .. } => "new_reply_ordered",
    }
}

/// The last day by which a correction notice may go out, if the regime limits it (2019 Art. 30:
/// 7 working days after receipt).
pub fn correction_notice_due(
    rules: &RegimeRules,
    cal: &WorkingDayIndex,
    received_on: NaiveDate,
) -> Result<Option<NaiveDate>, CalendarError> {
    rules.correction_notice_days.map(|n| cal.add_working_days(received_on, n).map(|c| c.date)).transpose()
}

/// Computes a case's deadline from its receipt date and clock events (in the order recorded; dates
/// must not go backwards). `as_of` ends an unanswered consultation whose period lapsed before it.
pub fn compute(
    rules: &RegimeRules,
    cal: &WorkingDayIndex,
    received_on: NaiveDate,
    events: &[ClockEvent],
    as_of: NaiveDate,
) -> Result<Deadline, DeadlineError> {
    let mut run = Run {
        cal,
        counting_from: received_on,
        due: None,
        extension_days: 0,
        delay_until: None,
        clock: Clock::Running,
        unpaused_consultation: false,
        first_reply: None,
        provisional: false,
        steps: Vec::new(),
    };
    let due = run.add(received_on, rules.reply_days)?;
    run.due = Some(due);
    run.step(
        received_on,
        "received",
        format!("received under {}: {} working days, counted from the next day", rules.code, rules.reply_days),
    );
    let mut previous = received_on;
    for event in events {
        let on = event.on();
        let name = event_name(event);
        if on < received_on {
            return Err(DeadlineError::BeforeReceipt { event: name, on, received_on });
        }
        if on < previous {
            return Err(DeadlineError::OutOfOrder { event: name, on, previous });
        }
        previous = on;
        run.apply_lapse_before(on)?;
        let reopening = matches!(event, ClockEvent::NewReplyOrdered { .. });
        let ended =
            matches!(run.clock, Clock::Replied { .. } | Clock::DeemedAbandoned { .. } | Clock::Withdrawn { .. });
        if ended && !(reopening && matches!(run.clock, Clock::Replied { .. })) {
            return Err(run.not_now(name));
        }
        // A new reply ordered on appeal follows the decision's period: nothing stops or extends it.
        if run.first_reply.is_some() && run.clock == Clock::Running && !matches!(event, ClockEvent::Replied { .. }) {
            return Err(DeadlineError::NotNow { event: name, state: "a new reply ordered on appeal is awaited" });
        }
        match event {
            ClockEvent::NewReplyOrdered { due_on, .. } => {
                let Clock::Replied { on: replied_on } = run.clock else {
                    return Err(run.not_now(name));
                };
                if *due_on < on {
                    return Err(DeadlineError::NewReplyDueBeforeOrder { on, due_on: *due_on });
                }
                if *due_on > super::calendar::index_end() {
                    return Err(CalendarError::DateOutOfRange(*due_on).into());
                }
                if run.first_reply.is_none() {
                    let due = run.due.unwrap_or(replied_on);
                    let final_due_on = final_due(&run)?.unwrap_or(due);
                    run.first_reply = Some(FirstReply { replied_on, due_on: due, final_due_on });
                }
                run.clock = Clock::Running;
                run.due = Some(*due_on);
                run.extension_days = 0;
                run.delay_until = None;
                run.step(
                    on,
                    "new_reply_ordered",
                    format!("the reply was corrected on appeal and a new one ordered (重新答复) by {due_on}"),
                );
            }
            ClockEvent::CorrectionNoticeSent { respond_by, .. } => {
                if run.clock != Clock::Running {
                    return Err(run.not_now(name));
                }
                if *respond_by <= on {
                    return Err(DeadlineError::CorrectionDeadlineNotAfterNotice { on, respond_by: *respond_by });
                }
                if *respond_by > super::calendar::index_end() {
                    return Err(CalendarError::DateOutOfRange(*respond_by).into());
                }
                run.clock = Clock::AwaitingCorrection { since: on, respond_by: *respond_by };
                run.due = None;
                run.step(
                    on,
                    "correction_requested",
                    format!("correction (补正) requested, answer due by {respond_by}: the clock stops"),
                );
            }
            ClockEvent::CorrectionReceived { .. } => {
                if !matches!(run.clock, Clock::AwaitingCorrection { .. }) {
                    return Err(run.not_now(name));
                }
                run.clock = Clock::Running;
                run.counting_from = on;
                let due = run.add(on, rules.reply_days)?;
                run.due = Some(due);
                run.step(
                    on,
                    "restarted",
                    format!("corrected request received: the {} working days restart in full", rules.reply_days),
                );
            }
            ClockEvent::CorrectionLapsed { .. } => {
                if !matches!(run.clock, Clock::AwaitingCorrection { .. }) {
                    return Err(run.not_now(name));
                }
                run.clock = Clock::DeemedAbandoned { on };
                run.step(
                    on,
                    "deemed_abandoned",
                    "no correction by the set date: the request is deemed abandoned".into(),
                );
            }
            ClockEvent::ConsultationSent { party, .. } => {
                if run.clock != Clock::Running || run.unpaused_consultation {
                    return Err(run.not_now(name));
                }
                if !rules.paused_consultations.contains(party) {
                    // Recorded as evidence; under this regime the consultation's time counts.
                    run.unpaused_consultation = true;
                    run.step(
                        on,
                        "consultation_not_pausing",
                        format!(
                            "{party} consulted: under {} only the time spent consulting {} is left out of the reply period, so the clock keeps running",
                            rules.code,
                            if rules.paused_consultations.is_empty() {
                                "nobody".to_owned()
                            } else {
                                consultations_to_text(&rules.paused_consultations).replace(',', " and ")
                            }
                        ),
                    );
                    continue;
                }
                let current = run.due.expect("running clock has a deadline");
                let remaining = run.between(on, current)?;
                let lapses_on = match rules.consultation_lapse_days {
                    Some(n) => Some(run.add(on, n)?),
                    None => None,
                };
                let reason = match party {
                    ConsultedParty::ThirdParty => PauseReason::ThirdPartyConsultation,
                    ConsultedParty::OtherAgency => PauseReason::OtherAgencyConsultation,
                };
                run.clock = Clock::Paused { since: on, reason, remaining_days: remaining, lapses_on };
                run.due = None;
                let lapse = lapses_on.map(|d| format!(", lapsing on {d} if unanswered")).unwrap_or_default();
                run.step(
                    on,
                    "paused",
                    format!("consultation sent: the clock pauses with {remaining} working day(s) left{lapse}"),
                );
            }
            ClockEvent::ConsultationAnswered { .. } => match run.clock {
                Clock::Paused {
                    reason: PauseReason::ThirdPartyConsultation | PauseReason::OtherAgencyConsultation,
                    ..
                } => {
                    run.resume(on, "consultation answered")?;
                }
                Clock::Running if run.unpaused_consultation => {
                    run.unpaused_consultation = false;
                    run.step(on, "consultation_answered", "consultation answered (the clock kept running)".into());
                }
                _ => return Err(run.not_now(name)),
            },
            ClockEvent::ExtensionApproved { days, reason, applicant_notified_on, overridden, .. } => {
                if reason.trim().is_empty() {
                    return Err(DeadlineError::ExtensionWithoutReason);
                }
                if *days == 0 {
                    return Err(DeadlineError::EmptyExtension);
                }
                if *applicant_notified_on < on {
                    return Err(DeadlineError::ExtensionNotifiedBeforeApproval {
                        on,
                        notified: *applicant_notified_on,
                    });
                }
                if *applicant_notified_on > super::calendar::index_end() {
                    return Err(CalendarError::DateOutOfRange(*applicant_notified_on).into());
                }
                if *overridden {
                    let kept = final_due(&run)?
                        .map(|d| format!("; the deadline stays {d}, and a reply after it is late"))
                        .unwrap_or_default();
                    run.step(
                        on,
                        "extension_overridden",
                        format!("extension of {days} working day(s) ({reason}) recorded on an approver's override, outside what {} allows: it does not move the deadline{kept}", rules.code),
                    );
                    continue;
                }
                if run.clock != Clock::Running {
                    return Err(DeadlineError::ExtensionWhileStopped { stop: run.state_name() });
                }
                // 2008 Art. 24, 2019 Art. 33: approved and notified within the period it extends (for
                // a second extension, the period as already extended).
                let current = final_due(&run)?.expect("a running clock has a deadline");
                if on > current {
                    return Err(DeadlineError::ExtensionOutsidePeriod { due: current, what: "the approval date", on });
                }
                if *applicant_notified_on > current {
                    return Err(DeadlineError::ExtensionOutsidePeriod {
                        due: current,
                        what: "the date the applicant was notified",
                        on: *applicant_notified_on,
                    });
                }
                let total = run.extension_days.saturating_add(*days);
                if total > rules.max_extension_days {
                    return Err(DeadlineError::ExtensionOverCap {
                        total,
                        max: rules.max_extension_days,
                        regime: rules.code.clone(),
                    });
                }
                run.extension_days = total;
                let extended = run.add(run.due.expect("running"), total)?;
                run.step(
                    on,
                    "extended",
                    format!("extension of {days} working day(s) approved ({reason}); applicant notified {applicant_notified_on}; now due {extended}"),
                );
            }
            ClockEvent::DelaySet { until, .. } => {
                if !rules.agency_delay_allowed {
                    return Err(DeadlineError::DelayNotInRegime { regime: rules.code.clone() });
                }
                if run.clock != Clock::Running {
                    return Err(run.not_now(name));
                }
                let current = final_due(&run)?.expect("running");
                if *until > super::calendar::index_end() {
                    return Err(CalendarError::DateOutOfRange(*until).into());
                }
                if *until <= current {
                    return Err(DeadlineError::DelayNotLater { until: *until, current });
                }
                run.delay_until = Some(*until);
                run.step(on, "delay_set", format!("Art. 35 delay: reply due by {until}"));
            }
            ClockEvent::FeeNoticeSent { .. } => {
                if run.clock != Clock::Running {
                    return Err(run.not_now(name));
                }
                if rules.fee_notice_stops_clock {
                    let current = run.due.expect("running");
                    let remaining = run.between(on, current)?;
                    run.clock = Clock::Paused {
                        since: on,
                        reason: PauseReason::FeeNotice,
                        remaining_days: remaining,
                        lapses_on: None,
                    };
                    run.due = None;
                    run.step(
                        on,
                        "paused",
                        format!("fee notice sent: the clock pauses with {remaining} working day(s) left"),
                    );
                } else {
                    run.step(
                        on,
                        "fee_notice",
                        format!("fee notice sent; under {} the clock keeps running", rules.code),
                    );
                }
            }
            ClockEvent::FeePaid { .. } => match run.clock {
                Clock::Paused { reason: PauseReason::FeeNotice, .. } => run.resume(on, "fee paid")?,
                Clock::Running if !rules.fee_notice_stops_clock => run.step(on, "fee_paid", "fee paid".into()),
                _ => return Err(run.not_now(name)),
            },
            ClockEvent::FeeLapsed { .. } => {
                run.clock = Clock::DeemedAbandoned { on };
                run.step(on, "deemed_abandoned", "fee not paid in time: the request is deemed abandoned".into());
            }
            ClockEvent::Replied { .. } => {
                if matches!(run.clock, Clock::AwaitingCorrection { .. }) {
                    return Err(run.not_now(name));
                }
                run.resume(on, "replied")?;
                run.clock = Clock::Replied { on };
                run.step(on, "replied", "reply served (by post: the posting date)".into());
            }
            ClockEvent::Withdrawn { .. } => {
                run.resume(on, "withdrawn")?;
                run.clock = Clock::Withdrawn { on };
                run.step(on, "withdrawn", "the applicant withdrew the request: the clock ends".into());
            }
        }
    }
    run.apply_lapse_before(as_of + chrono::Duration::days(1))?;
    let extended_due_on = if run.extension_days > 0 {
        match run.due {
            Some(due) => Some(run.add(due, run.extension_days)?),
            None => None,
        }
    } else {
        None
    };
    let final_due_on = final_due(&run)?;
    Ok(Deadline {
        regime: rules.code.clone(),
        received_on,
        counting_from: run.counting_from,
        due_on: run.due,
        extended_due_on,
        delay_until: run.delay_until,
        final_due_on,
        extension_days_used: run.extension_days,
        provisional: run.provisional,
        clock: run.clock,
        first_reply: run.first_reply,
        steps: run.steps,
    })
}

fn final_due(run: &Run<'_>) -> Result<Option<NaiveDate>, DeadlineError> {
    if let Some(until) = run.delay_until {
        return Ok(Some(until));
    }
    match run.due {
        Some(due) if run.extension_days > 0 => Ok(Some(run.cal.add_working_days(due, run.extension_days)?.date)),
        other => Ok(other),
    }
}

impl Deadline {
    /// The case's timeliness on `today`.
    pub fn timeliness(&self, cal: &WorkingDayIndex, today: NaiveDate) -> Result<Timeliness, CalendarError> {
        // A reply corrected on appeal keeps the timeliness it had: the annual report counted it once.
        if let Some(first) = &self.first_reply {
            let on = first.replied_on;
            return Ok(if on <= first.due_on {
                Timeliness::OnTime { replied_on: on }
            } else if on <= first.final_due_on {
                Timeliness::Extended { replied_on: on }
            } else {
                Timeliness::LateReply { replied_on: on, days_late: cal.working_days_between(first.final_due_on, on)? }
            });
        }
        Ok(match &self.clock {
            Clock::Replied { on } => {
                let due = self.due_on.expect("a replied case has a deadline");
                let last = self.final_due_on.unwrap_or(due);
                if *on <= due {
                    Timeliness::OnTime { replied_on: *on }
                } else if *on <= last {
                    Timeliness::Extended { replied_on: *on }
                } else {
                    Timeliness::LateReply { replied_on: *on, days_late: cal.working_days_between(last, *on)? }
                }
            }
            Clock::DeemedAbandoned { .. } => Timeliness::DeemedAbandoned,
            Clock::Withdrawn { on } => Timeliness::Withdrawn { withdrawn_on: *on },
            Clock::Paused { .. } | Clock::AwaitingCorrection { .. } => Timeliness::Stopped,
            Clock::Running => {
                let last = self.final_due_on.expect("a running clock has a deadline");
                if today <= last {
                    Timeliness::Open { working_days_left: cal.working_days_between(today, last)? }
                } else {
                    Timeliness::Overdue { working_days_overdue: cal.working_days_between(last, today)? }
                }
            }
        })
    }

    /// The explanation, over the days from receipt to the last deadline this computation reached.
    pub fn explanation(&self, cal: &WorkingDayIndex) -> Explanation {
        let reached = [self.due_on, self.extended_due_on, self.final_due_on]
            .into_iter()
            .flatten()
            .chain(self.steps.iter().map(|s| s.on))
            .max()
            .unwrap_or(self.received_on);
        let (skipped_days, make_up_working_days) = explain_days(cal, self.received_on, reached);
        Explanation { counting_from: self.received_on, skipped_days, make_up_working_days, steps: self.steps.clone() }
    }
}

/// The public calculator's answer: a receipt date under a regime, with the longest extension.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Calculation {
    pub received_on: NaiveDate,
    pub regime: RegimeRules,
    /// The reply deadline.
    pub due_on: NaiveDate,
    /// The deadline with the regime's maximum extension.
    pub extended_due_on: NaiveDate,
    /// Depends on days that no loaded calendar notice settles (a year not yet announced).
    pub provisional: bool,
    pub explanation: Explanation,
}

/// Computes the calculator's answer.
pub fn calculate(
    rules: &RegimeRules,
    cal: &WorkingDayIndex,
    received_on: NaiveDate,
) -> Result<Calculation, DeadlineError> {
    let due = cal.add_working_days(received_on, rules.reply_days)?;
    let extended = cal.add_working_days(received_on, rules.reply_days + rules.max_extension_days)?;
    let (skipped_days, make_up_working_days) = explain_days(cal, received_on, extended.date);
    let steps = vec![
        Step {
            on: received_on,
            kind: "received".into(),
            detail: format!("{}: {} working days counted from the day after receipt", rules.code, rules.reply_days),
            due_on: Some(due.date),
        },
        Step {
            on: due.date,
            kind: "maximum_extension".into(),
            detail: format!(
                "with the longest extension {} allows ({} working days)",
                rules.code, rules.max_extension_days
            ),
            due_on: Some(extended.date),
        },
    ];
    Ok(Calculation {
        received_on,
        regime: rules.clone(),
        due_on: due.date,
        extended_due_on: extended.date,
        provisional: due.provisional || extended.provisional,
        explanation: Explanation { counting_from: received_on, skipped_days, make_up_working_days, steps },
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::calendar::tests::{d, shipped_index};

    /// The national regimes as the first deadlines migration seeds them (the database is the source).
    pub fn national_regimes() -> Vec<RegimeRules> {
        let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("valid date");
        vec![
            RegimeRules {
                code: "ogi2008".into(),
                name: "《政府信息公开条例》（国务院令第492号，2008）".into(),
                effective_from: date(2008, 5, 1),
                effective_until: Some(date(2019, 5, 15)),
                reply_days: 15,
                max_extension_days: 15,
                correction_notice_days: None,
                consultation_lapse_days: None,
                fee_notice_stops_clock: false,
                fee_scheme: crate::fees::FeeScheme::Cost2008,
                agency_delay_allowed: false,
                paused_consultations: vec![ConsultedParty::ThirdParty],
            },
            RegimeRules {
                code: "ogi2019".into(),
                name: "《政府信息公开条例》（国务院令第711号，2019）".into(),
                effective_from: date(2019, 5, 15),
                effective_until: None,
                reply_days: 20,
                max_extension_days: 20,
                correction_notice_days: Some(7),
                consultation_lapse_days: Some(15),
                fee_notice_stops_clock: true,
                fee_scheme: crate::fees::FeeScheme::Processing2020,
                agency_delay_allowed: true,
                paused_consultations: vec![ConsultedParty::ThirdParty, ConsultedParty::OtherAgency],
            },
        ]
    }

    fn ogi2008() -> RegimeRules {
        national_regimes().remove(0)
    }
    fn ogi2019() -> RegimeRules {
        national_regimes().remove(1)
    }

    #[test]
    fn a_regime_is_refused_field_by_field_when_it_cannot_be_applied() {
        for regime in national_regimes() {
            assert_eq!(regime.validate(), Ok(()), "{}", regime.code);
        }
        let refused = |change: fn(&mut RegimeRules)| {
            let mut r = ogi2019();
            change(&mut r);
            r.validate().unwrap_err().into_iter().map(|e| e.path).collect::<Vec<_>>()
        };
        assert_eq!(refused(|r| r.code = "Not A Code".into()), ["code"]);
        assert_eq!(refused(|r| r.name = "  ".into()), ["name"]);
        assert_eq!(refused(|r| r.reply_days = 0), ["reply_days"]);
        assert_eq!(refused(|r| r.reply_days = 101), ["reply_days"]);
        assert_eq!(refused(|r| r.max_extension_days = 101), ["max_extension_days"]);
        assert_eq!(refused(|r| r.correction_notice_days = Some(0)), ["correction_notice_days"]);
        assert_eq!(refused(|r| r.consultation_lapse_days = Some(101)), ["consultation_lapse_days"]);
        assert_eq!(refused(|r| r.effective_until = r.effective_from.into()), ["effective_until"]);
        assert_eq!(
            refused(|r| {
                r.reply_days = 0;
                r.max_extension_days = 200;
            }),
            ["reply_days", "max_extension_days"],
            "every refused field is named at once"
        );
    }

    #[test]
    fn plain_deadlines_follow_the_regime() {
        let cal = shipped_index();
        let dl = compute(&ogi2008(), &cal, d(2015, 9, 1), &[], d(2015, 9, 2)).unwrap();
        assert_eq!(dl.due_on, Some(d(2015, 9, 23)));
        assert_eq!(dl.final_due_on, Some(d(2015, 9, 23)));
        assert_eq!(dl.extended_due_on, None);
        let dl = compute(&ogi2019(), &cal, d(2024, 9, 27), &[], d(2024, 9, 27)).unwrap();
        assert_eq!(dl.due_on, Some(d(2024, 10, 30)));
    }

    #[test]
    fn regime_selection_prefers_the_most_specific_rule_in_force() {
        let national = national_regimes();
        let mut local = ogi2019();
        local.code = "ln-strict".into();
        local.reply_days = 15;
        local.effective_from = d(2020, 1, 1);
        let candidates = || national.iter().map(|r| (r, None)).chain([(&local, Some("/LN/"))]);
        assert_eq!(select_regime(candidates(), "/LN/PJ/", d(2019, 6, 1)).unwrap().code, "ogi2019");
        assert_eq!(select_regime(candidates(), "/LN/PJ/", d(2020, 6, 1)).unwrap().code, "ln-strict");
        assert_eq!(select_regime(candidates(), "/BJ/", d(2020, 6, 1)).unwrap().code, "ogi2019");
        assert_eq!(select_regime(candidates(), "/BJ/", d(2019, 5, 14)).unwrap().code, "ogi2008");
        assert!(select_regime(candidates(), "/BJ/", d(2008, 4, 30)).is_none());
    }

    #[test]
    fn extension_adds_working_days_and_keeps_the_original() {
        let cal = shipped_index();
        let ext = ClockEvent::ExtensionApproved {
            on: d(2015, 9, 20),
            days: 15,
            reason: "材料较多".into(),
            applicant_notified_on: d(2015, 9, 21),
            overridden: false,
        };
        let dl = compute(&ogi2008(), &cal, d(2015, 9, 1), &[ext], d(2015, 9, 21)).unwrap();
        assert_eq!(dl.due_on, Some(d(2015, 9, 23)));
        assert_eq!(dl.extended_due_on, Some(d(2015, 10, 20)));
        assert_eq!(dl.final_due_on, Some(d(2015, 10, 20)));
        assert_eq!(dl.extension_days_used, 15);
    }

    #[test]
    fn extensions_are_capped_per_regime_and_need_a_reason() {
        let cal = shipped_index();
        let ext = |days: u32, reason: &str| ClockEvent::ExtensionApproved {
            on: d(2015, 9, 10),
            days,
            reason: reason.into(),
            applicant_notified_on: d(2015, 9, 10),
            overridden: false,
        };
        let err = compute(&ogi2008(), &cal, d(2015, 9, 1), &[ext(10, "a"), ext(6, "b")], d(2015, 9, 10)).unwrap_err();
        assert_eq!(err, DeadlineError::ExtensionOverCap { total: 16, max: 15, regime: "ogi2008".into() });
        assert!(compute(&ogi2008(), &cal, d(2015, 9, 1), &[ext(10, "a"), ext(5, "b")], d(2015, 9, 10)).is_ok());
        assert_eq!(
            compute(&ogi2008(), &cal, d(2015, 9, 1), &[ext(5, " ")], d(2015, 9, 10)).unwrap_err(),
            DeadlineError::ExtensionWithoutReason
        );
        let ext_2019 = ClockEvent::ExtensionApproved {
            on: d(2024, 10, 8),
            days: 20,
            reason: "r".into(),
            applicant_notified_on: d(2024, 10, 8),
            overridden: false,
        };
        assert_eq!(
            compute(&ogi2019(), &cal, d(2024, 9, 27), &[ext_2019], d(2024, 10, 8)).unwrap().extended_due_on,
            Some(d(2024, 11, 27))
        );
    }

    fn extension(on: NaiveDate, days: u32, notified: NaiveDate, overridden: bool) -> ClockEvent {
        ClockEvent::ExtensionApproved {
            on,
            days,
            reason: "需调取档案".into(),
            applicant_notified_on: notified,
            overridden,
        }
    }

    #[test]
    fn an_extension_approved_after_the_due_date_is_refused_naming_it() {
        let cal = shipped_index();
        // 2008: received 2015-09-01, due 2015-09-23.
        let late = extension(d(2015, 9, 24), 15, d(2015, 9, 24), false);
        let err = compute(&ogi2008(), &cal, d(2015, 9, 1), &[late], d(2015, 9, 24)).unwrap_err();
        assert_eq!(
            err,
            DeadlineError::ExtensionOutsidePeriod {
                due: d(2015, 9, 23),
                what: "the approval date",
                on: d(2015, 9, 24)
            }
        );
        assert!(err.to_string().contains("2015-09-23"), "{err}");
        assert!(err.is_overridable());
        // 2019: received 2024-09-27, due 2024-10-30.
        let late = extension(d(2024, 10, 31), 20, d(2024, 10, 31), false);
        assert!(matches!(
            compute(&ogi2019(), &cal, d(2024, 9, 27), &[late], d(2024, 10, 31)),
            Err(DeadlineError::ExtensionOutsidePeriod { due, .. }) if due == d(2024, 10, 30)
        ));
        // On the due date itself it is still in time.
        let last_day = extension(d(2024, 10, 30), 20, d(2024, 10, 30), false);
        assert!(compute(&ogi2019(), &cal, d(2024, 9, 27), &[last_day], d(2024, 10, 30)).is_ok());
    }

    #[test]
    fn an_extension_notified_after_the_due_date_is_refused() {
        let cal = shipped_index();
        let notified_late = extension(d(2015, 9, 22), 15, d(2015, 9, 24), false);
        assert_eq!(
            compute(&ogi2008(), &cal, d(2015, 9, 1), &[notified_late], d(2015, 9, 24)).unwrap_err(),
            DeadlineError::ExtensionOutsidePeriod {
                due: d(2015, 9, 23),
                what: "the date the applicant was notified",
                on: d(2015, 9, 24)
            }
        );
        let notified_first = extension(d(2015, 9, 22), 15, d(2015, 9, 21), false);
        assert!(matches!(
            compute(&ogi2008(), &cal, d(2015, 9, 1), &[notified_first], d(2015, 9, 24)),
            Err(DeadlineError::ExtensionNotifiedBeforeApproval { .. })
        ));
    }

    #[test]
    fn a_second_extension_must_fall_within_the_period_already_extended() {
        let cal = shipped_index();
        // 2019: due 2024-10-30; +10 -> 2024-11-13; a second +10 on 11-13 is in time, on 11-14 not.
        let first = extension(d(2024, 10, 29), 10, d(2024, 10, 29), false);
        let in_time = extension(d(2024, 11, 13), 10, d(2024, 11, 13), false);
        let dl = compute(&ogi2019(), &cal, d(2024, 9, 27), &[first.clone(), in_time], d(2024, 11, 13)).unwrap();
        assert_eq!(dl.final_due_on, Some(d(2024, 11, 27)));
        let too_late = extension(d(2024, 11, 14), 10, d(2024, 11, 14), false);
        assert!(matches!(
            compute(&ogi2019(), &cal, d(2024, 9, 27), &[first, too_late], d(2024, 11, 14)),
            Err(DeadlineError::ExtensionOutsidePeriod { due, .. }) if due == d(2024, 11, 13)
        ));
    }

    #[test]
    fn an_overridden_extension_keeps_the_original_deadline_so_a_later_reply_is_late() {
        let cal = shipped_index();
        for (regime, received, due, late_on) in [
            (ogi2008(), d(2015, 9, 1), d(2015, 9, 23), d(2015, 9, 24)),
            (ogi2019(), d(2024, 9, 27), d(2024, 10, 30), d(2024, 10, 31)),
        ] {
            let events = [extension(late_on, 5, late_on, true), ClockEvent::Replied { on: late_on }];
            let dl = compute(&regime, &cal, received, &events, late_on).unwrap();
            assert_eq!(dl.due_on, Some(due));
            assert_eq!(dl.final_due_on, Some(due), "{}", regime.code);
            assert_eq!(dl.extension_days_used, 0);
            assert!(dl.steps.iter().any(|s| s.kind == "extension_overridden"));
            assert!(matches!(dl.timeliness(&cal, late_on).unwrap(), Timeliness::LateReply { .. }), "{}", regime.code);
        }
    }

    #[test]
    fn an_extension_beyond_the_cap_or_of_a_stopped_clock_is_refused_but_overridable() {
        let cal = shipped_index();
        let over =
            [extension(d(2015, 9, 10), 15, d(2015, 9, 10), false), extension(d(2015, 9, 11), 1, d(2015, 9, 11), false)];
        let err = compute(&ogi2008(), &cal, d(2015, 9, 1), &over, d(2015, 9, 11)).unwrap_err();
        assert!(err.is_overridable(), "{err}");
        let overridden = [over[0].clone(), extension(d(2015, 9, 11), 1, d(2015, 9, 11), true)];
        let dl = compute(&ogi2008(), &cal, d(2015, 9, 1), &overridden, d(2015, 9, 11)).unwrap();
        assert_eq!((dl.extension_days_used, dl.final_due_on), (15, Some(d(2015, 10, 20))));

        let consulting = ClockEvent::ConsultationSent { on: d(2024, 10, 8), party: ConsultedParty::ThirdParty };
        let stopped = [consulting.clone(), extension(d(2024, 10, 9), 20, d(2024, 10, 9), false)];
        let err = compute(&ogi2019(), &cal, d(2024, 9, 27), &stopped, d(2024, 10, 9)).unwrap_err();
        assert!(matches!(err, DeadlineError::ExtensionWhileStopped { .. }), "{err}");
        assert!(err.is_overridable());
        let recorded = [consulting, extension(d(2024, 10, 9), 20, d(2024, 10, 9), true)];
        let dl = compute(&ogi2019(), &cal, d(2024, 9, 27), &recorded, d(2024, 10, 9)).unwrap();
        assert_eq!(dl.extension_days_used, 0);
        assert!(matches!(dl.clock, Clock::Paused { .. }));
    }

    #[test]
    fn only_the_2019_regime_has_an_agency_set_delay() {
        let cal = shipped_index();
        let delay = ClockEvent::DelaySet { on: d(2015, 9, 10), until: d(2015, 12, 1) };
        assert_eq!(
            compute(&ogi2008(), &cal, d(2015, 9, 1), &[delay], d(2015, 9, 10)).unwrap_err(),
            DeadlineError::DelayNotInRegime { regime: "ogi2008".into() }
        );
        let delay = ClockEvent::DelaySet { on: d(2024, 10, 8), until: d(2024, 12, 20) };
        assert_eq!(
            compute(&ogi2019(), &cal, d(2024, 9, 27), &[delay], d(2024, 10, 8)).unwrap().final_due_on,
            Some(d(2024, 12, 20))
        );
    }

    #[test]
    fn consulting_another_agency_stops_the_clock_only_under_the_2019_regime() {
        let cal = shipped_index();
        let other = |on| ClockEvent::ConsultationSent { on, party: ConsultedParty::OtherAgency };
        // 2008 Art. 24: only the third party's time is left out.
        let events = [other(d(2015, 9, 8)), ClockEvent::ConsultationAnswered { on: d(2015, 9, 18) }];
        let dl = compute(&ogi2008(), &cal, d(2015, 9, 1), &events[..1], d(2015, 9, 10)).unwrap();
        assert_eq!(dl.clock, Clock::Running);
        assert_eq!(dl.final_due_on, Some(d(2015, 9, 23)));
        let step = dl.steps.last().unwrap();
        assert_eq!(step.kind, "consultation_not_pausing");
        assert!(step.detail.contains("keeps running"), "{}", step.detail);
        let dl = compute(&ogi2008(), &cal, d(2015, 9, 1), &events, d(2015, 9, 18)).unwrap();
        assert_eq!(dl.final_due_on, Some(d(2015, 9, 23)));
        // The third party's time is left out under both.
        let third = ClockEvent::ConsultationSent { on: d(2015, 9, 8), party: ConsultedParty::ThirdParty };
        let dl = compute(&ogi2008(), &cal, d(2015, 9, 1), &[third], d(2015, 9, 10)).unwrap();
        assert!(matches!(dl.clock, Clock::Paused { .. }));
        // 2019 Art. 33(3): other agencies too.
        let dl = compute(&ogi2019(), &cal, d(2024, 9, 27), &[other(d(2024, 10, 8))], d(2024, 10, 9)).unwrap();
        assert!(matches!(dl.clock, Clock::Paused { reason: PauseReason::OtherAgencyConsultation, .. }));
    }

    #[test]
    fn consultation_parties_round_trip_through_their_stored_text() {
        let both = vec![ConsultedParty::ThirdParty, ConsultedParty::OtherAgency];
        assert_eq!(consultations_to_text(&both), "third_party,other_agency");
        assert_eq!(consultations_from_text("third_party, other_agency"), Some(both));
        assert_eq!(consultations_from_text(""), Some(vec![]));
        assert_eq!(consultations_from_text("third_party,ghost"), None);
    }

    #[test]
    fn a_new_reply_ordered_on_appeal_runs_to_its_date_and_the_first_reply_keeps_its_timeliness() {
        let cal = shipped_index();
        // 2019: received 2024-09-27, due 2024-10-30; replied 2024-10-29 (on time).
        let replied = ClockEvent::Replied { on: d(2024, 10, 29) };
        let ordered = ClockEvent::NewReplyOrdered { on: d(2025, 1, 10), due_on: d(2025, 2, 14) };
        let dl =
            compute(&ogi2019(), &cal, d(2024, 9, 27), &[replied.clone(), ordered.clone()], d(2025, 1, 13)).unwrap();
        assert_eq!(dl.clock, Clock::Running);
        assert_eq!((dl.due_on, dl.final_due_on), (Some(d(2025, 2, 14)), Some(d(2025, 2, 14))));
        assert_eq!(dl.timeliness(&cal, d(2025, 3, 1)).unwrap(), Timeliness::OnTime { replied_on: d(2024, 10, 29) });
        // Nothing stops or extends the new period.
        let ext = extension(d(2025, 1, 13), 5, d(2025, 1, 13), false);
        assert!(matches!(
            compute(&ogi2019(), &cal, d(2024, 9, 27), &[replied.clone(), ordered.clone(), ext], d(2025, 1, 13)),
            Err(DeadlineError::NotNow { .. })
        ));
        // The new reply, even late, leaves the first reply's timeliness and closing date.
        let again = ClockEvent::Replied { on: d(2025, 3, 3) };
        let dl = compute(&ogi2019(), &cal, d(2024, 9, 27), &[replied.clone(), ordered, again], d(2025, 3, 3)).unwrap();
        assert_eq!(dl.clock, Clock::Replied { on: d(2025, 3, 3) });
        assert_eq!(dl.timeliness(&cal, d(2025, 3, 3)).unwrap(), Timeliness::OnTime { replied_on: d(2024, 10, 29) });
        // Only a replied case can be reopened, and not to a date before the order.
        let early = ClockEvent::NewReplyOrdered { on: d(2025, 1, 10), due_on: d(2025, 1, 9) };
        assert!(matches!(
            compute(&ogi2019(), &cal, d(2024, 9, 27), &[replied, early], d(2025, 1, 10)),
            Err(DeadlineError::NewReplyDueBeforeOrder { .. })
        ));
        let open = ClockEvent::NewReplyOrdered { on: d(2024, 10, 10), due_on: d(2024, 11, 10) };
        assert!(matches!(
            compute(&ogi2019(), &cal, d(2024, 9, 27), &[open], d(2024, 10, 10)),
            Err(DeadlineError::NotNow { .. })
        ));
    }

    #[test]
    fn correction_restarts_the_full_period_from_its_arrival() {
        let cal = shipped_index();
        let events = [
            ClockEvent::CorrectionNoticeSent { on: d(2024, 3, 4), respond_by: d(2024, 3, 18) },
            ClockEvent::CorrectionReceived { on: d(2024, 3, 11) },
        ];
        let dl = compute(&ogi2019(), &cal, d(2024, 3, 1), &events[..1], d(2024, 3, 5)).unwrap();
        assert_eq!(dl.due_on, None);
        assert!(matches!(dl.clock, Clock::AwaitingCorrection { .. }));
        assert_eq!(dl.timeliness(&cal, d(2024, 3, 5)).unwrap(), Timeliness::Stopped);
        let dl = compute(&ogi2019(), &cal, d(2024, 3, 1), &events, d(2024, 3, 11)).unwrap();
        assert_eq!(dl.counting_from, d(2024, 3, 11));
        assert_eq!(dl.due_on, Some(cal.add_working_days(d(2024, 3, 11), 20).unwrap().date));
        assert_eq!(dl.due_on, Some(d(2024, 4, 9)), "清明 4-4..4-6 skipped, Sunday 4-7 worked");
    }

    #[test]
    fn correction_lapse_closes_the_case_as_abandoned() {
        let cal = shipped_index();
        let events = [
            ClockEvent::CorrectionNoticeSent { on: d(2024, 3, 4), respond_by: d(2024, 3, 18) },
            ClockEvent::CorrectionLapsed { on: d(2024, 3, 19) },
        ];
        let dl = compute(&ogi2019(), &cal, d(2024, 3, 1), &events, d(2024, 3, 20)).unwrap();
        assert_eq!(dl.clock, Clock::DeemedAbandoned { on: d(2024, 3, 19) });
        assert_eq!(dl.timeliness(&cal, d(2024, 3, 20)).unwrap(), Timeliness::DeemedAbandoned);
    }

    #[test]
    fn the_2019_correction_notice_window_is_seven_working_days() {
        let cal = shipped_index();
        // Sunday 9-29 and Saturday 10-12 are make-up working days; 1-7 October is the National Day holiday.
        assert_eq!(correction_notice_due(&ogi2019(), &cal, d(2024, 9, 27)).unwrap(), Some(d(2024, 10, 12)));
        assert_eq!(correction_notice_due(&ogi2008(), &cal, d(2015, 9, 1)).unwrap(), None);
    }

    #[test]
    fn consultation_days_do_not_count() {
        let cal = shipped_index();
        // Received Fri 2015-03-06, due 15 working days later: Fri 2015-03-27.
        let events = [
            ClockEvent::ConsultationSent { on: d(2015, 3, 13), party: ConsultedParty::ThirdParty },
            ClockEvent::ConsultationAnswered { on: d(2015, 3, 20) },
        ];
        let plain = compute(&ogi2008(), &cal, d(2015, 3, 6), &[], d(2015, 3, 6)).unwrap();
        assert_eq!(plain.due_on, Some(d(2015, 3, 27)));
        let dl = compute(&ogi2008(), &cal, d(2015, 3, 6), &events, d(2015, 3, 20)).unwrap();
        // Five working days (16-20 March) did not count.
        assert_eq!(dl.due_on, Some(d(2015, 4, 3)));
        assert_eq!(cal.working_days_between(d(2015, 3, 27), d(2015, 4, 3)).unwrap(), 5);
    }

    #[test]
    fn an_unanswered_2019_consultation_lapses_after_fifteen_working_days() {
        let cal = shipped_index();
        let sent = ClockEvent::ConsultationSent { on: d(2024, 3, 1), party: ConsultedParty::OtherAgency };
        let while_paused =
            compute(&ogi2019(), &cal, d(2024, 2, 26), std::slice::from_ref(&sent), d(2024, 3, 5)).unwrap();
        let Clock::Paused { lapses_on, remaining_days, .. } = while_paused.clock else { panic!("paused") };
        assert_eq!(lapses_on, Some(d(2024, 3, 22)));
        let after = compute(&ogi2019(), &cal, d(2024, 2, 26), &[sent], d(2024, 4, 1)).unwrap();
        assert_eq!(after.clock, Clock::Running);
        assert_eq!(after.due_on, Some(cal.add_working_days(d(2024, 3, 22), remaining_days as u32).unwrap().date));
    }

    #[test]
    fn the_fee_notice_stops_the_clock_only_where_the_regime_says_so() {
        let cal = shipped_index();
        let events = [
            ClockEvent::FeeNoticeSent { on: d(2024, 10, 8) },
            ClockEvent::FeePaid { on: d(2024, 10, 15), amount_fen: None, receipt_number: None },
        ];
        let stopped = compute(&ogi2019(), &cal, d(2024, 9, 27), &events, d(2024, 10, 15)).unwrap();
        // The six working days 9-15 October (Saturday 10-12 included) did not count.
        assert_eq!(stopped.due_on, Some(d(2024, 11, 7)));
        let mut running = ogi2019();
        running.fee_notice_stops_clock = false;
        let kept = compute(&running, &cal, d(2024, 9, 27), &events, d(2024, 10, 15)).unwrap();
        assert_eq!(kept.due_on, Some(d(2024, 10, 30)));
    }

    #[test]
    fn art35_delay_sets_the_final_date() {
        let cal = shipped_index();
        let events = [ClockEvent::DelaySet { on: d(2024, 10, 8), until: d(2024, 12, 31) }];
        let dl = compute(&ogi2019(), &cal, d(2024, 9, 27), &events, d(2024, 10, 8)).unwrap();
        assert_eq!(dl.final_due_on, Some(d(2024, 12, 31)));
        let early = [ClockEvent::DelaySet { on: d(2024, 10, 8), until: d(2024, 10, 20) }];
        assert!(matches!(
            compute(&ogi2019(), &cal, d(2024, 9, 27), &early, d(2024, 10, 8)),
            Err(DeadlineError::DelayNotLater { .. })
        ));
    }

    #[test]
    fn a_withdrawal_ends_the_clock_even_while_it_is_stopped() {
        let cal = shipped_index();
        let rules = &national_regimes()[1];
        let events = [
            ClockEvent::CorrectionNoticeSent { on: d(2024, 3, 4), respond_by: d(2024, 3, 18) },
            ClockEvent::Withdrawn { on: d(2024, 3, 6) },
        ];
        let dl = compute(rules, &cal, d(2024, 3, 1), &events, d(2024, 6, 1)).unwrap();
        assert_eq!(dl.clock, Clock::Withdrawn { on: d(2024, 3, 6) });
        assert_eq!(dl.timeliness(&cal, d(2024, 6, 1)).unwrap(), Timeliness::Withdrawn { withdrawn_on: d(2024, 3, 6) });
        let after = [ClockEvent::Withdrawn { on: d(2024, 3, 6) }, ClockEvent::FeeNoticeSent { on: d(2024, 3, 7) }];
        assert!(matches!(
            compute(rules, &cal, d(2024, 3, 1), &after, d(2024, 6, 1)),
            Err(DeadlineError::NotNow { .. })
        ));
    }

    #[test]
    fn timeliness_distinguishes_on_time_extended_and_overdue() {
        let cal = shipped_index();
        let ext = ClockEvent::ExtensionApproved {
            on: d(2015, 9, 20),
            days: 15,
            reason: "r".into(),
            applicant_notified_on: d(2015, 9, 21),
            overridden: false,
        };
        let replied = |on| ClockEvent::Replied { on };
        let t = |events: &[ClockEvent], today| {
            compute(&ogi2008(), &cal, d(2015, 9, 1), events, today).unwrap().timeliness(&cal, today).unwrap()
        };
        assert_eq!(t(&[replied(d(2015, 9, 23))], d(2015, 9, 30)), Timeliness::OnTime { replied_on: d(2015, 9, 23) });
        assert_eq!(
            t(&[ext.clone(), replied(d(2015, 10, 20))], d(2015, 10, 30)),
            Timeliness::Extended { replied_on: d(2015, 10, 20) }
        );
        assert_eq!(
            t(&[replied(d(2015, 9, 24))], d(2015, 9, 30)),
            Timeliness::LateReply { replied_on: d(2015, 9, 24), days_late: 1 }
        );
        assert_eq!(t(&[], d(2015, 9, 22)), Timeliness::Open { working_days_left: 1 });
        assert_eq!(t(&[], d(2015, 9, 23)), Timeliness::Open { working_days_left: 0 });
        assert_eq!(t(&[], d(2015, 9, 25)), Timeliness::Overdue { working_days_overdue: 2 });
    }

    #[test]
    fn absurd_numbers_and_dates_are_errors_not_panics() {
        let cal = shipped_index();
        let huge = ClockEvent::ExtensionApproved {
            on: d(2015, 9, 2),
            days: u32::MAX,
            reason: "r".into(),
            applicant_notified_on: d(2015, 9, 2),
            overridden: false,
        };
        assert!(matches!(
            compute(&ogi2008(), &cal, d(2015, 9, 1), &[huge], d(2015, 9, 2)),
            Err(DeadlineError::ExtensionOverCap { .. })
        ));
        let far = ClockEvent::DelaySet { on: d(2024, 9, 30), until: NaiveDate::MAX };
        assert!(matches!(
            compute(&ogi2019(), &cal, d(2024, 9, 27), &[far], d(2024, 9, 30)),
            Err(DeadlineError::Calendar(_))
        ));
        let far = ClockEvent::CorrectionNoticeSent { on: d(2015, 9, 2), respond_by: NaiveDate::MAX };
        assert!(matches!(
            compute(&ogi2008(), &cal, d(2015, 9, 1), &[far], d(2015, 9, 2)),
            Err(DeadlineError::Calendar(_))
        ));
        assert!(compute(&ogi2008(), &cal, NaiveDate::MIN, &[], d(2015, 9, 2)).is_err());
    }

    #[test]
    fn events_out_of_order_or_before_receipt_are_refused() {
        let cal = shipped_index();
        let before = [ClockEvent::Replied { on: d(2015, 8, 31) }];
        assert!(matches!(
            compute(&ogi2008(), &cal, d(2015, 9, 1), &before, d(2015, 9, 1)),
            Err(DeadlineError::BeforeReceipt { .. })
        ));
        let backwards = [ClockEvent::FeeNoticeSent { on: d(2015, 9, 10) }, ClockEvent::Replied { on: d(2015, 9, 9) }];
        assert!(matches!(
            compute(&ogi2008(), &cal, d(2015, 9, 1), &backwards, d(2015, 9, 10)),
            Err(DeadlineError::OutOfOrder { .. })
        ));
        let after_reply = [ClockEvent::Replied { on: d(2015, 9, 9) }, ClockEvent::FeeNoticeSent { on: d(2015, 9, 10) }];
        assert!(matches!(
            compute(&ogi2008(), &cal, d(2015, 9, 1), &after_reply, d(2015, 9, 10)),
            Err(DeadlineError::NotNow { .. })
        ));
        let answer_without_consultation = [ClockEvent::ConsultationAnswered { on: d(2015, 9, 9) }];
        assert!(matches!(
            compute(&ogi2008(), &cal, d(2015, 9, 1), &answer_without_consultation, d(2015, 9, 10)),
            Err(DeadlineError::NotNow { .. })
        ));
    }

    #[test]
    fn explanation_lists_skipped_and_make_up_days() {
        let cal = shipped_index();
        let dl = compute(&ogi2008(), &cal, d(2015, 9, 1), &[], d(2015, 9, 1)).unwrap();
        let ex = dl.explanation(&cal);
        assert_eq!(
            ex.make_up_working_days,
            [MakeUpDay {
                date: d(2015, 9, 6), name: "抗日战争暨世界反法西斯战争胜利70周年纪念日".into()
            }]
        );
        let holidays: Vec<_> =
            ex.skipped_days.iter().filter(|s| s.reason == SkipReason::Holiday).map(|s| s.date).collect();
        assert_eq!(holidays, [d(2015, 9, 3), d(2015, 9, 4), d(2015, 9, 5)]);
        assert!(ex.skipped_days.iter().any(|s| s.date == d(2015, 9, 12) && s.reason == SkipReason::Weekend));
        assert_eq!(ex.steps[0].kind, "received");
    }

    #[test]
    fn the_calculator_gives_the_deadline_and_the_longest_extension() {
        let cal = shipped_index();
        let c = calculate(&ogi2008(), &cal, d(2015, 9, 1)).unwrap();
        assert_eq!((c.due_on, c.extended_due_on, c.provisional), (d(2015, 9, 23), d(2015, 10, 20), false));
        // National Day 2015: 1-7 October skipped, Saturday 10 October counted.
        assert!(c.explanation.make_up_working_days.iter().any(|m| m.date == d(2015, 10, 10)));
        let c = calculate(&ogi2019(), &cal, d(2026, 12, 1)).unwrap();
        assert!(c.provisional, "runs into 2027, whose notice is not loaded");
        assert!(c
            .explanation
            .skipped_days
            .iter()
            .any(|s| s.reason == SkipReason::ProvisionalHoliday && s.date == d(2027, 1, 1)));
    }
}
