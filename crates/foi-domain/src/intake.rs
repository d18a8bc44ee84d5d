//! Intake: the vocabulary of a new request and the rules that turn what a clerk typed into a
//! registrable case (receipt date per Regulation 2019 Art. 31 / 国办公开办函〔2015〕207号, regime).

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::validation::{FieldError, Validator};
use super::{china_date, truncate_to_micros};

string_enum! {
    /// How the request reached the agency (受理渠道).
    Channel {
        /// 当面: handed in at the office.
        InPerson => "in_person",
        /// 信函: registered or ordinary post.
        Letter => "letter",
        /// 传真.
        Fax => "fax",
        /// 网络: the online platform or web form.
        Web => "web",
        /// 电子邮箱: the published mailbox.
        Email => "email",
    }
}

string_enum! {
    /// Applicant type, the columns of the 2021 annual-report table.
    ApplicantKind {
        /// 自然人
        NaturalPerson => "natural_person",
        /// 商业企业
        Business => "business",
        /// 科研机构
        ResearchInstitution => "research_institution",
        /// 社会公益组织
        PublicInterestOrg => "public_interest_org",
        /// 法律服务机构
        LegalServices => "legal_services",
        /// 其他
        OtherOrg => "other_org",
    }
}

string_enum! {
    /// The form in which the applicant asked to receive the information (Art. 29 (三), Art. 40).
    DeliveryForm {
        /// 纸质
        Paper => "paper",
        /// 电子数据 (disk, download)
        Electronic => "electronic",
        /// 电子邮件
        Email => "email",
        /// 查阅、抄录 at the office
        Inspection => "inspection",
        /// 其他
        Other => "other",
    }
}

string_enum! {
    /// The legal basis on which the statutory receipt date (收到申请之日) was fixed, Art. 31.
    ReceiptBasis {
        /// Art. 31 (一): the day it was handed in.
        SubmittedInPerson => "submitted_in_person",
        /// Art. 31 (二): the day the agency signed for the post.
        PostSignedFor => "post_signed_for",
        /// Art. 31 (二): ordinary mail, the day the office confirmed it with the applicant.
        OrdinaryMailConfirmed => "ordinary_mail_confirmed",
        /// Art. 31 (三): fax, the day both sides confirmed.
        FaxConfirmed => "fax_confirmed",
        /// Art. 31 (三): online platform, the day both sides confirmed.
        OnlineConfirmed => "online_confirmed",
        /// 207号 一.3: the day the published mailbox received the email.
        EmailSystemReceived => "email_system_received",
        /// A date the clerk set on another basis (explained in the evidence).
        ClerkDetermined => "clerk_determined",
    }
}

impl Channel {
    /// The receipt basis that applies when the clerk gives no date: the usual case for the channel,
    /// where confirmation happens the day the request arrives (207号 requires same-day contact).
    pub fn default_receipt_basis(self) -> ReceiptBasis {
        match self {
            Channel::InPerson => ReceiptBasis::SubmittedInPerson,
            Channel::Letter => ReceiptBasis::PostSignedFor,
            Channel::Fax => ReceiptBasis::FaxConfirmed,
            Channel::Web => ReceiptBasis::OnlineConfirmed,
            Channel::Email => ReceiptBasis::EmailSystemReceived,
        }
    }

    /// Whether `basis` is a legal basis for a request that came by this channel.
    pub fn admits(self, basis: ReceiptBasis) -> bool {
        basis == ReceiptBasis::ClerkDetermined
            || match self {
                Channel::InPerson => basis == ReceiptBasis::SubmittedInPerson,
                Channel::Letter => matches!(basis, ReceiptBasis::PostSignedFor | ReceiptBasis::OrdinaryMailConfirmed),
                Channel::Fax => basis == ReceiptBasis::FaxConfirmed,
                Channel::Web => basis == ReceiptBasis::OnlineConfirmed,
                Channel::Email => basis == ReceiptBasis::EmailSystemReceived,
            }
    }
}

/// Per-agency, per-year tracking number, e.g. `PJ-2015-00042`.
pub fn tracking_number(agency_code: &str, year: i32, seq: i32) -> String {
    format!("{agency_code}-{year}-{seq:05}")
}

/// The applicant's details as given at intake.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ApplicantInput {
    pub kind: ApplicantKind,
    /// Person's or organisation's name.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 200))]
    pub name: String,
    /// ID card, passport or unified social credit code.
    #[serde(default)]
    pub id_number: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
}

/// Why a request without any contact detail is refused (2019 Art. 29 (一)).
pub const CONTACT_NEEDED: &str = "at least one of phone, email or address is needed to reply";

impl ApplicantInput {
    /// The applicant as stored, its fields checked into `v` under the path `at` (e.g. `applicant`):
    /// texts within their lengths, a real e-mail address, and a way to reply.
    pub fn check(&self, v: &mut Validator, at: &str) -> Applicant {
        self.check_with(v, at, true)
    }

    /// `check`, with the way to reply required or not (a request answered before it was recorded here,
    /// as an imported ledger's, was answered: its ledger may not carry the contact details).
    pub fn check_with(&self, v: &mut Validator, at: &str, contact_required: bool) -> Applicant {
        let applicant = Applicant {
            kind: self.kind,
            name: v.text(&format!("{at}.name"), &self.name, MAX_NAME_CHARS),
            id_number: v.optional_text(&format!("{at}.id_number"), self.id_number.as_deref(), MAX_SHORT_CHARS),
            phone: v.optional_text(&format!("{at}.phone"), self.phone.as_deref(), MAX_SHORT_CHARS),
            email: v.optional_text(&format!("{at}.email"), self.email.as_deref(), MAX_NAME_CHARS),
            address: v.optional_text(&format!("{at}.address"), self.address.as_deref(), MAX_ADDRESS_CHARS),
        };
        if applicant.email.as_deref().is_some_and(|e| !looks_like_email(e)) {
            v.error(&format!("{at}.email"), "must be an email address");
        }
        // Art. 29 (一): the applicant's contact details are part of a valid request.
        if contact_required && applicant.phone.is_none() && applicant.email.is_none() && applicant.address.is_none() {
            v.error(at, CONTACT_NEEDED);
        }
        applicant
    }
}

/// The body of `POST /api/v1/cases`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct IntakeInput {
    /// Code of the agency the request is addressed to.
    #[cfg_attr(feature = "openapi", schema(pattern = "^[A-Z][A-Z0-9-]{0,31}$"))]
    pub agency: String,
    pub channel: Channel,
    /// When the request physically arrived (RFC 3339, any offset).
    pub arrived_at: DateTime<Utc>,
    /// The statutory receipt date. When omitted it is derived from the channel and `arrived_at`.
    #[serde(default)]
    pub received_on: Option<NaiveDate>,
    /// Why `received_on` is that date. Defaults to the usual basis for the channel.
    #[serde(default)]
    pub receipt_basis: Option<ReceiptBasis>,
    /// Evidence for the receipt date: a postal receipt number, a call log entry.
    #[serde(default)]
    pub receipt_evidence: Option<String>,
    pub applicant: ApplicantInput,
    /// What information is asked for (Art. 29 (二)).
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 20000))]
    pub description: String,
    pub delivery_form: DeliveryForm,
    /// A topic code from the agency's taxonomy (or an ancestor agency's).
    #[serde(default)]
    pub topic: Option<String>,
}

/// An intake that passed validation: trimmed texts, a fixed receipt date and basis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Intake {
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
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Applicant {
    pub kind: ApplicantKind,
    pub name: String,
    pub id_number: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub address: Option<String>,
}

pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_DESCRIPTION_CHARS: usize = 20_000;
pub const MAX_SHORT_CHARS: usize = 64;
pub const MAX_ADDRESS_CHARS: usize = 500;
pub const MAX_EVIDENCE_CHARS: usize = 2_000;
/// Clock skew tolerated between the clerk's machine and the server.
const FUTURE_TOLERANCE_MINUTES: i64 = 10;
/// The 2008 Regulation took effect on 2008-05-01; nothing earlier is a request under either regime.
pub fn earliest_receipt_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2008, 5, 1).expect("valid date")
}

impl IntakeInput {
    /// Checks every field and fixes the receipt date. `now` is the server's clock.
    pub fn validate(&self, now: DateTime<Utc>) -> Result<Intake, Vec<FieldError>> {
        self.validate_with(now, true)
    }

    /// `validate`, with the applicant's way to reply required or not (see `ApplicantInput::check_with`).
    pub fn validate_with(&self, now: DateTime<Utc>, contact_required: bool) -> Result<Intake, Vec<FieldError>> {
        let mut v = Validator::new();
        let agency = v.text("agency", &self.agency, MAX_SHORT_CHARS);

        let arrived_at = truncate_to_micros(self.arrived_at);
        if arrived_at > now + Duration::minutes(FUTURE_TOLERANCE_MINUTES) {
            v.error("arrived_at", "must not be in the future");
        }
        let arrival_date = china_date(arrived_at);
        if arrival_date < earliest_receipt_date() {
            v.error("arrived_at", "must not be before 2008-05-01, when the Regulation took effect");
        }

        let receipt_basis = self.receipt_basis.unwrap_or_else(|| self.channel.default_receipt_basis());
        if !self.channel.admits(receipt_basis) {
            v.error(
                "receipt_basis",
                format!("`{receipt_basis}` is not a receipt basis for a request by {}", self.channel),
            );
        }
        let received_on = self.received_on.unwrap_or(arrival_date);
        if received_on < arrival_date {
            v.error("received_on", "must not be before the day the request arrived (China time)");
        }
        if received_on > china_date(now) {
            v.error("received_on", "must not be in the future");
        }
        let receipt_evidence =
            v.optional_text("receipt_evidence", self.receipt_evidence.as_deref(), MAX_EVIDENCE_CHARS);

        let applicant = self.applicant.check_with(&mut v, "applicant", contact_required);

        let description = v.text("description", &self.description, MAX_DESCRIPTION_CHARS);
        let topic = v.optional_text("topic", self.topic.as_deref(), MAX_SHORT_CHARS);

        v.finish()?;
        Ok(Intake {
            agency,
            channel: self.channel,
            arrived_at,
            received_on,
            receipt_basis,
            receipt_evidence,
            applicant,
            description,
            delivery_form: self.delivery_form,
            topic,
        })
    }
}

/// The forms of an applicant's phone, e-mail and ID number that a search matches exactly, however
/// they were typed: a phone as its digits without the country code (`+86 157-0427-1234` and
/// `15704271234` are one number), an e-mail in lower case, an ID number without spaces in upper case
/// (the check letter `x` of a resident ID is `X`). None when nothing searchable is left.
pub fn phone_key(phone: &str) -> Option<String> {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    let national = match digits.as_str() {
        d if d.len() > 11 && d.starts_with("0086") => &d[4..],
        d if d.len() > 11 && d.starts_with("86") => &d[2..],
        d => d,
    };
    (!national.is_empty()).then(|| national.to_owned())
}

/// See `phone_key`.
pub fn email_key(email: &str) -> Option<String> {
    let key = email.trim().to_lowercase();
    (!key.is_empty()).then_some(key)
}

/// See `phone_key`.
pub fn id_number_key(id_number: &str) -> Option<String> {
    let key: String = id_number.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_uppercase();
    (!key.is_empty()).then_some(key)
}

pub fn looks_like_email(text: &str) -> bool {
    match text.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !text.contains(char::is_whitespace)
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applicant_details_match_however_they_were_typed() {
        for typed in ["15704271234", "157 0427 1234", "157-0427-1234", "+86 157 0427 1234", "0086-15704271234"] {
            assert_eq!(phone_key(typed).as_deref(), Some("15704271234"), "{typed}");
        }
        assert_eq!(phone_key("0427-2812345").as_deref(), Some("04272812345"), "a landline keeps its area code");
        assert_eq!(phone_key("--"), None);
        assert_eq!(email_key(" Zhang.San@Example.CN ").as_deref(), Some("zhang.san@example.cn"));
        assert_eq!(id_number_key("21110219800101123x").as_deref(), Some("21110219800101123X"));
        assert_eq!(id_number_key("2111 0219 8001 0112 3X").as_deref(), Some("21110219800101123X"));
        assert_eq!(id_number_key("  "), None);
    }

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn input(channel: Channel) -> IntakeInput {
        IntakeInput {
            agency: "PJ".into(),
            channel,
            // 23:30 in Beijing on 2 March 2015.
            arrived_at: at("2015-03-02T15:30:00Z"),
            received_on: None,
            receipt_basis: None,
            receipt_evidence: None,
            applicant: ApplicantInput {
                kind: ApplicantKind::NaturalPerson,
                name: " 张三 ".into(),
                id_number: None,
                phone: Some("15704271234".into()),
                email: None,
                address: None,
            },
            description: "2014年城区道路改造工程的招标文件".into(),
            delivery_form: DeliveryForm::Paper,
            topic: None,
        }
    }

    fn now() -> DateTime<Utc> {
        at("2026-11-27T00:00:00Z")
    }

    #[test]
    fn omitted_receipt_date_is_the_china_date_of_arrival_for_every_channel() {
        for &channel in Channel::ALL {
            let intake = input(channel).validate(now()).unwrap();
            assert_eq!(intake.received_on, date(2015, 3, 2), "{channel}");
            assert_eq!(intake.receipt_basis, channel.default_receipt_basis());
            assert_eq!(intake.applicant.name, "张三");
        }
    }

    #[test]
    fn ordinary_mail_confirmed_later_keeps_the_confirmation_date() {
        let mut i = input(Channel::Letter);
        i.received_on = Some(date(2015, 3, 4));
        i.receipt_basis = Some(ReceiptBasis::OrdinaryMailConfirmed);
        i.receipt_evidence = Some("电话确认 2015-03-04 09:10".into());
        let intake = i.validate(now()).unwrap();
        assert_eq!(intake.received_on, date(2015, 3, 4));
        assert_eq!(intake.receipt_basis, ReceiptBasis::OrdinaryMailConfirmed);
    }

    #[test]
    fn receipt_basis_must_fit_the_channel() {
        let mut i = input(Channel::Fax);
        i.receipt_basis = Some(ReceiptBasis::PostSignedFor);
        let errors = i.validate(now()).unwrap_err();
        assert_eq!(errors[0].path, "receipt_basis");
        for &channel in Channel::ALL {
            assert!(channel.admits(channel.default_receipt_basis()));
            assert!(channel.admits(ReceiptBasis::ClerkDetermined));
        }
    }

    #[test]
    fn receipt_before_arrival_or_in_the_future_is_refused() {
        let mut i = input(Channel::Web);
        i.received_on = Some(date(2015, 3, 1));
        assert_eq!(i.validate(now()).unwrap_err()[0].path, "received_on");
        i.received_on = Some(date(2026, 11, 28));
        assert_eq!(i.validate(now()).unwrap_err()[0].path, "received_on");
    }

    #[test]
    fn arrival_in_the_future_is_refused() {
        let mut i = input(Channel::Web);
        i.arrived_at = at("2026-11-27T01:00:00Z");
        let errors = i.validate(now()).unwrap_err();
        assert!(errors.iter().any(|e| e.path == "arrived_at"));
    }

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let mut i = input(Channel::Email);
        i.agency = "".into();
        i.description = " ".into();
        i.applicant.name = "".into();
        i.applicant.phone = None;
        i.applicant.email = Some("not-an-email".into());
        let paths: Vec<_> = i.validate(now()).unwrap_err().into_iter().map(|e| e.path).collect();
        assert_eq!(paths, ["agency", "applicant.name", "applicant.email", "description"]);
    }

    #[test]
    fn contact_details_are_required() {
        let mut i = input(Channel::Email);
        i.applicant.phone = None;
        assert_eq!(i.validate(now()).unwrap_err()[0].path, "applicant");
    }

    #[test]
    fn tracking_numbers_are_zero_padded() {
        assert_eq!(tracking_number("PJ", 2015, 42), "PJ-2015-00042");
        assert_eq!(tracking_number("PJ", 2015, 123456), "PJ-2015-123456");
    }

    #[test]
    fn enum_texts_round_trip() {
        for &c in Channel::ALL {
            assert_eq!(Channel::parse(c.as_str()), Some(c));
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
        }
        for &k in ApplicantKind::ALL {
            assert_eq!(ApplicantKind::parse(k.as_str()), Some(k));
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
        for &d in DeliveryForm::ALL {
            assert_eq!(DeliveryForm::parse(d.as_str()), Some(d));
            assert_eq!(serde_json::to_value(d).unwrap(), d.as_str());
        }
        for &b in ReceiptBasis::ALL {
            assert_eq!(ReceiptBasis::parse(b.as_str()), Some(b));
            assert_eq!(serde_json::to_value(b).unwrap(), b.as_str());
        }
        assert_eq!(Channel::parse("carrier_pigeon"), None);
    }
}
