//! Correcting a registration: a clerk's typo in the applicant's details, the channel, the topic, the
//! form of delivery or the description, and (the office head only) the receipt date and its basis.
//! Each amendment is an event holding every changed field's old and new value; the case is the
//! projection of its events, so reads, lists, searches and reports follow the correction at once.
//!
//! A duplicate registration (the same request entered twice) is voided instead: it keeps its number,
//! so numbers stay without gaps, and leaves every list and report.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::case::Case;
use super::intake::{
    Applicant, ApplicantInput, Channel, DeliveryForm, ReceiptBasis, MAX_DESCRIPTION_CHARS, MAX_EVIDENCE_CHARS,
    MAX_SHORT_CHARS,
};
use super::role::Role;
use super::validation::{FieldError, Validator};

/// What a clerk corrects: only the fields given change (`applicant` replaces the applicant whole).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AmendmentInput {
    #[serde(default)]
    pub applicant: Option<ApplicantInput>,
    #[serde(default)]
    pub channel: Option<Channel>,
    #[serde(default)]
    pub delivery_form: Option<DeliveryForm>,
    #[serde(default)]
    pub description: Option<String>,
    /// A topic of the agency's taxonomy (or a parent's).
    #[serde(default)]
    pub topic: Option<String>,
    /// The office head only; the deadline is recomputed from it.
    #[serde(default)]
    pub received_on: Option<NaiveDate>,
    /// The office head only.
    #[serde(default)]
    pub receipt_basis: Option<ReceiptBasis>,
    /// The office head only, with `received_on` or `receipt_basis`.
    #[serde(default)]
    pub receipt_evidence: Option<String>,
}

/// A field's value before and after an amendment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change<T> {
    pub old: T,
    pub new: T,
}

/// The fields an amendment changed, each with its old and new value (absent: unchanged).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Amendment {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub applicant: Option<Change<Applicant>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub channel: Option<Change<Channel>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub delivery_form: Option<Change<DeliveryForm>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub description: Option<Change<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub topic: Option<Change<Option<String>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub received_on: Option<Change<NaiveDate>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub receipt_basis: Option<Change<ReceiptBasis>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub receipt_evidence: Option<Change<Option<String>>>,
}

/// Why an amendment is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AmendmentRefusal {
    /// The receipt date or basis, by someone who is not the office head (403).
    NotTheOfficeHead,
    Invalid(Vec<FieldError>),
}

/// A change that is no change is left out; one that changes something is kept with its old value.
fn changed<T: PartialEq + Clone>(old: &T, new: Option<T>) -> Option<Change<T>> {
    new.filter(|n| n != old).map(|new| Change { old: old.clone(), new })
}

/// The checked amendment of `case` that `input` asks for. `receipt_dates` are the bounds of the
/// receipt date: not before the day the request arrived (China time), not after the first step dated
/// on the case (a reply or a clock event) or today, and within the regime and year of the
/// registration (`regime_bounds`: the first and last receipt date the case's regime and tracking
/// number allow).
pub fn amend(
    case: &Case,
    input: AmendmentInput,
    role: Role,
    arrival_date: NaiveDate,
    latest_receipt: NaiveDate,
    regime_bounds: (NaiveDate, NaiveDate),
) -> Result<Amendment, AmendmentRefusal> {
    let receipt_changes =
        input.received_on.is_some() || input.receipt_basis.is_some() || input.receipt_evidence.is_some();
    if receipt_changes && role != Role::Approver {
        return Err(AmendmentRefusal::NotTheOfficeHead);
    }
    let mut v = Validator::new();
    let applicant = input.applicant.map(|a| a.check(&mut v, "action.applicant"));
    let description = input.description.map(|d| v.text("action.description", &d, MAX_DESCRIPTION_CHARS));
    let topic = input.topic.map(|t| v.text("action.topic", &t, MAX_SHORT_CHARS));
    let receipt_evidence =
        input.receipt_evidence.map(|e| v.optional_text("action.receipt_evidence", Some(&e), MAX_EVIDENCE_CHARS));
    let channel = input.channel.unwrap_or(case.channel);
    let basis = input.receipt_basis.unwrap_or(case.receipt_basis);
    if (input.channel.is_some() || input.receipt_basis.is_some()) && !channel.admits(basis) {
        let path = if input.receipt_basis.is_some() { "action.receipt_basis" } else { "action.channel" };
        v.error(path, format!("`{basis}` is not a receipt basis for a request by {channel}"));
    }
    if let Some(on) = input.received_on {
        if on < arrival_date {
            v.error("action.received_on", format!("must not be before the day the request arrived ({arrival_date})"));
        } else if on > latest_receipt {
            v.error(
                "action.received_on",
                format!("must not be after {latest_receipt}: a later step of the case (or today) comes first"),
            );
        } else if on < regime_bounds.0 || on > regime_bounds.1 {
            v.error(
                "action.received_on",
                format!(
                    "must stay between {} and {}: another year or regime would change the tracking number or the rules; void the case and register it again",
                    regime_bounds.0, regime_bounds.1
                ),
            );
        }
    }
    v.finish().map_err(AmendmentRefusal::Invalid)?;
    let amendment = Amendment {
        applicant: changed(&case.applicant, applicant),
        channel: changed(&case.channel, input.channel),
        delivery_form: changed(&case.delivery_form, input.delivery_form),
        description: changed(&case.description, description),
        topic: changed(&case.topic, topic.map(Some)),
        received_on: changed(&case.received_on, input.received_on),
        receipt_basis: changed(&case.receipt_basis, input.receipt_basis),
        receipt_evidence: changed(&case.receipt_evidence, receipt_evidence),
    };
    if amendment == Amendment::default() {
        return Err(AmendmentRefusal::Invalid(vec![FieldError::new(
            "action",
            "changes nothing: give at least one field with a new value",
        )]));
    }
    Ok(amendment)
}

impl Amendment {
    /// Writes the new values into the case.
    pub fn apply_to(&self, case: &mut Case) {
        if let Some(c) = &self.applicant {
            case.applicant = c.new.clone();
        }
        if let Some(c) = &self.channel {
            case.channel = c.new;
        }
        if let Some(c) = &self.delivery_form {
            case.delivery_form = c.new;
        }
        if let Some(c) = &self.description {
            case.description = c.new.clone();
        }
        if let Some(c) = &self.topic {
            case.topic = c.new.clone();
        }
        if let Some(c) = &self.received_on {
            case.received_on = c.new;
        }
        if let Some(c) = &self.receipt_basis {
            case.receipt_basis = c.new;
        }
        if let Some(c) = &self.receipt_evidence {
            case.receipt_evidence = c.new.clone();
        }
    }

    /// The names of the fields changed, for a history line.
    pub fn fields(&self) -> Vec<&'static str> {
        [
            ("applicant", self.applicant.is_some()),
            ("channel", self.channel.is_some()),
            ("delivery_form", self.delivery_form.is_some()),
            ("description", self.description.is_some()),
            ("topic", self.topic.is_some()),
            ("received_on", self.received_on.is_some()),
            ("receipt_basis", self.receipt_basis.is_some()),
            ("receipt_evidence", self.receipt_evidence.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, present)| present.then_some(name))
        .collect()
    }

    /// The same amendment with personal data masked (applicants, and digits in free text), for roles
    /// that see cases masked.
    pub fn masked(&self) -> Amendment {
        use super::masking::{mask_applicant, mask_free_text};
        let mut masked = self.clone();
        masked.applicant =
            self.applicant.as_ref().map(|c| Change { old: mask_applicant(&c.old), new: mask_applicant(&c.new) });
        masked.receipt_evidence = self
            .receipt_evidence
            .as_ref()
            .map(|c| Change { old: c.old.as_deref().map(mask_free_text), new: c.new.as_deref().map(mask_free_text) });
        masked
    }
}
