//! The append-only case event log and its hash chain (tamper evidence).
//!
//! Every event stores the SHA-256 of its predecessor; its own hash covers the predecessor's hash and
//! every stored field, so changing, removing or reordering any event breaks every later link.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use chrono::NaiveDate;

use super::deadline::ClockEvent;
use super::intake::Intake;
use super::letters::DocumentRecord;
use super::papers::AttachmentRecord;
use super::workflow::WorkflowEvent;

/// The `prev_hash` of a case's first event.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What happened to a case. The payload is stored as JSON; the kind as its own column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "payload", rename_all = "snake_case")]
pub enum CaseEvent {
    /// The request arrived and was entered (intake).
    Received(Box<Intake>),
    /// Registration (登记): tracking number and regime fixed.
    Registered(Registration),
    /// The reply deadline was (re)computed: at registration, or after a calendar change.
    DeadlineSet(DeadlineChange),
    /// Something that stops, restarts, extends or ends the reply clock.
    Clock(ClockRecord),
    /// A workflow step: review, reply, approval, service, side exits, archive, fees, appeals.
    Workflow(WorkflowRecord),
    /// A paper was attached to the case (its content's hash joins the chain).
    Attached(AttachmentRecord),
    /// A letter was generated from the case (a new document, or a new version of one).
    DocumentIssued(Box<DocumentRecord>),
}

/// A workflow step as recorded, with the actor's reason or note (the actor and time are the event's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkflowRecord {
    #[serde(flatten)]
    pub event: WorkflowEvent,
    pub reason: Option<String>,
    /// The business date of a step entered after the fact (an office entering last year's ledger):
    /// the day the step was really taken, beside the event's recorded time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_on: Option<NaiveDate>,
    /// The letter this step served (the latest version of the reply letter, when the case has one):
    /// which text the applicant received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<DocumentLink>,
}

/// A letter version a workflow step refers to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DocumentLink {
    /// The version's id.
    pub id: String,
    pub number: String,
    pub version: i32,
    /// SHA-256 of its DOCX.
    pub sha256: String,
}

impl WorkflowRecord {
    /// A step as recorded, without a letter.
    pub fn new(event: WorkflowEvent, reason: Option<String>, effective_on: Option<NaiveDate>) -> WorkflowRecord {
        WorkflowRecord { event, reason, effective_on, document: None }
    }
}

impl WorkflowRecord {
    /// The day the step happened, where it has one: its own date (service, withdrawal, screening,
    /// transfer, on-the-spot reply) or its business date.
    pub fn business_date(&self) -> Option<NaiveDate> {
        use WorkflowEvent as W;
        match &self.event {
            W::Served { on, .. }
            | W::AnsweredOnTheSpot { on, .. }
            | W::Withdrawn { on }
            | W::NotProcessed { on, .. }
            | W::Transferred { on, .. } => Some(*on),
            _ => self.effective_on,
        }
    }
}

/// A clock event as recorded: what happened, the evidence for it, and any approver's override.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockRecord {
    pub event: ClockEvent,
    /// A letter reference, a postal receipt number, a call log entry.
    pub evidence: Option<String>,
    /// Why an approver allowed what the rules would refuse (a late correction notice).
    pub override_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    pub tracking_number: String,
    pub tracking_year: i32,
    pub tracking_seq: i32,
    /// Code of the regime (a row of `regimes`), e.g. `ogi2019`.
    pub regime: String,
    /// The case this request was transferred from, if another agency sent it here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transferred_from: Option<String>,
}

/// A case's deadline as stored on its row.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadlineSummary {
    pub due_on: Option<NaiveDate>,
    pub final_due_on: Option<NaiveDate>,
    pub provisional: bool,
    /// For a closed case: the day it closed (the reply's service or posting date, or the lapse).
    #[serde(default)]
    pub closed_on: Option<NaiveDate>,
    /// For a closed case: how it closed.
    #[serde(default)]
    pub closed_as: Option<Closing>,
    /// While the clock is stopped: the day the stop's period ends (the applicant's date for a
    /// correction, the lapse of a consultation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_ends_on: Option<NaiveDate>,
}

string_enum! {
    /// How a closed case closed: the values of `DeadlineSummary::closed_as`.
    Closing {
        /// 按时办结: replied by the plain deadline.
        OnTime => "on_time",
        /// 延期办结: replied within an approved extension or delay.
        Extended => "extended",
        /// Replied after the final deadline.
        LateReply => "late_reply",
        /// Ended because the applicant let a correction or fee period lapse.
        DeemedAbandoned => "deemed_abandoned",
        /// The applicant withdrew the request.
        Withdrawn => "withdrawn",
    }
}

impl Closing {
    /// The closings where the applicant was answered (on time, after an extension, or late), rather
    /// than the request ending without a reply.
    pub const REPLIES: [Closing; 3] = [Closing::OnTime, Closing::Extended, Closing::LateReply];

    pub fn is_reply(self) -> bool {
        Closing::REPLIES.contains(&self)
    }
}

/// A new deadline, the one it replaces and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadlineChange {
    pub deadline: DeadlineSummary,
    pub previous: Option<DeadlineSummary>,
    pub reason: String,
}

impl CaseEvent {
    pub fn kind(&self) -> &'static str {
        match self {
            CaseEvent::Received(_) => "received",
            CaseEvent::Registered(_) => "registered",
            CaseEvent::DeadlineSet(_) => "deadline_set",
            CaseEvent::Clock(_) => "clock",
            CaseEvent::Workflow(_) => "workflow",
            CaseEvent::Attached(_) => "attached",
            CaseEvent::DocumentIssued(_) => "document_issued",
        }
    }

    /// The clock event this event amounts to, if any: a recorded clock event, or the end of the
    /// clock a workflow step implies (a reply served, a withdrawal).
    pub fn clock_event(&self) -> Option<ClockEvent> {
        match self {
            CaseEvent::Clock(record) => Some(record.event.clone()),
            CaseEvent::Workflow(record) => record.event.clock_event(),
            _ => None,
        }
    }

    /// The payload as canonical JSON text (field order fixed by the types).
    pub fn payload_json(&self) -> String {
        let value = serde_json::to_value(self).expect("events serialize");
        serde_json::to_string(&value["payload"]).expect("json values serialize")
    }

    /// Rebuilds an event from its stored kind and payload.
    pub fn from_stored(kind: &str, payload: &str) -> Result<CaseEvent, serde_json::Error> {
        let payload: serde_json::Value = serde_json::from_str(payload)?;
        serde_json::from_value(serde_json::json!({ "kind": kind, "payload": payload }))
    }
}

/// The fields of a stored event that its hash covers.
pub struct ChainLink<'a> {
    pub case_id: &'a str,
    pub seq: i32,
    pub kind: &'a str,
    pub payload: &'a str,
    pub actor_id: Option<&'a str>,
    pub occurred_at: DateTime<Utc>,
    pub prev_hash: &'a str,
}

impl ChainLink<'_> {
    pub fn hash(&self) -> String {
        let mut h = Sha256::new();
        for part in [
            self.prev_hash,
            self.case_id,
            &self.seq.to_string(),
            self.kind,
            &self.occurred_at.to_rfc3339_opts(SecondsFormat::Micros, true),
            self.actor_id.unwrap_or(""),
            self.payload,
        ] {
            // Length-prefix each part so that no two different field splits hash alike.
            h.update((part.len() as u64).to_be_bytes());
            h.update(part.as_bytes());
        }
        hex::encode(h.finalize())
    }
}

/// The first link (by `seq`) whose stored hashes do not match a recomputation, if any.
pub fn first_broken_link<'a>(links: impl IntoIterator<Item = (ChainLink<'a>, &'a str)>) -> Option<i32> {
    let mut expected_prev = GENESIS_HASH.to_owned();
    for (expected_seq, (link, stored_hash)) in (1..).zip(links) {
        if link.seq != expected_seq || link.prev_hash != expected_prev || link.hash() != stored_hash {
            return Some(link.seq);
        }
        expected_prev = stored_hash.to_owned();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link<'a>(seq: i32, payload: &'a str, prev: &'a str) -> ChainLink<'a> {
        ChainLink {
            case_id: "c1",
            seq,
            kind: "received",
            payload,
            actor_id: Some("u1"),
            occurred_at: DateTime::parse_from_rfc3339("2015-03-02T01:00:00.123456Z").unwrap().to_utc(),
            prev_hash: prev,
        }
    }

    #[test]
    fn an_intact_chain_verifies() {
        let h1 = link(1, "{}", GENESIS_HASH).hash();
        let h2 = link(2, "{\"a\":1}", &h1).hash();
        let chain = vec![(link(1, "{}", GENESIS_HASH), h1.as_str()), (link(2, "{\"a\":1}", &h1), h2.as_str())];
        assert_eq!(first_broken_link(chain), None);
    }

    #[test]
    fn an_altered_payload_is_caught_at_its_link() {
        let h1 = link(1, "{}", GENESIS_HASH).hash();
        let h2 = link(2, "{\"a\":1}", &h1).hash();
        let chain = vec![(link(1, "{}", GENESIS_HASH), h1.as_str()), (link(2, "{\"a\":2}", &h1), h2.as_str())];
        assert_eq!(first_broken_link(chain), Some(2));
    }

    #[test]
    fn a_missing_event_is_caught() {
        let h1 = link(1, "{}", GENESIS_HASH).hash();
        let h2 = link(2, "{}", &h1).hash();
        let h3 = link(3, "{}", &h2).hash();
        let chain = vec![(link(1, "{}", GENESIS_HASH), h1.as_str()), (link(3, "{}", &h2), h3.as_str())];
        assert_eq!(first_broken_link(chain), Some(3));
    }

    #[test]
    fn field_boundaries_matter() {
        let a = ChainLink { kind: "ab", payload: "c", ..link(1, "", GENESIS_HASH) }.hash();
        let b = ChainLink { kind: "a", payload: "bc", ..link(1, "", GENESIS_HASH) }.hash();
        assert_ne!(a, b);
    }

    #[test]
    fn registered_event_round_trips_through_storage() {
        let e = CaseEvent::Registered(Registration {
            tracking_number: "PJ-2015-00001".into(),
            tracking_year: 2015,
            tracking_seq: 1,
            regime: "ogi2008".into(),
            transferred_from: None,
        });
        assert_eq!(CaseEvent::from_stored(e.kind(), &e.payload_json()).unwrap(), e);
    }
}
