//! `/api/v1/cases`: intake, reads, list, event log.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use base64::Engine;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::{idempotency_key, json_body, query, Auth};
use super::problem::Problem;
use crate::db::calendar::CalendarCache;
use crate::db::cases::{CaseRecord, EventRow, Registered, StoredResponse};
use crate::db::Db;
use crate::domain::calendar::WorkingDayIndex;
use crate::domain::deadline::Timeliness;
use crate::domain::events::CaseEvent;
use crate::domain::events::DeadlineSummary;
use crate::domain::intake::{Applicant, ApplicantKind, Channel, DeliveryForm, IntakeInput, ReceiptBasis};
use crate::domain::masking::{mask_applicant, mask_attachment, mask_document, mask_free_text};
use crate::domain::outcome::Outcome;
use crate::domain::role::Principal;
use crate::domain::workflow::CaseState;
use crate::domain::workflow::{Action, Appeal, ServiceMethod};
use crate::error::AppError;
use crate::service::cases::CaseDetails;
use crate::service::cases::{CaseQuery, CaseSort};
use crate::service::registration;

/// A case as the API shows it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CaseResponse {
    pub id: uuid::Uuid,
    /// Per-agency, per-year number, e.g. `PJ-2015-00042`.
    pub tracking_number: String,
    /// Code of the agency handling the case.
    pub agency: String,
    pub state: CaseState,
    /// Code of the legal regime (a row of the regimes table), e.g. `ogi2008`, `ogi2019`.
    pub regime: String,
    pub channel: Channel,
    pub arrived_at: DateTime<Utc>,
    /// The statutory receipt date (收到申请之日).
    pub received_on: NaiveDate,
    pub receipt_basis: ReceiptBasis,
    pub receipt_evidence: Option<String>,
    pub applicant: Applicant,
    /// True when the applicant's ID number, phone, email and address are shown masked.
    pub personal_data_masked: bool,
    pub description: String,
    pub delivery_form: DeliveryForm,
    pub topic: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deadline: CaseDeadline,
    /// Number of events folded into this case; changes whenever the case does.
    pub version: i32,
    /// The user reviewing and handling the case.
    pub handler_id: Option<String>,
    /// The drafted reply's outcome, awaiting approval or service.
    pub draft_outcome: Option<Outcome>,
    /// The final outcome of a closed case.
    pub outcome: Option<Outcome>,
    /// Where the outcome is counted in each annual-report format (null while open).
    pub report_rows: Option<ReportRows>,
    /// The day the applicant was answered (by post: the posting date).
    pub served_on: Option<NaiveDate>,
    pub service_method: Option<ServiceMethod>,
    /// The linked case at the agency this request was transferred to.
    pub transferred_to: Option<String>,
    /// The case at another agency this request was transferred from.
    pub transferred_from: Option<String>,
    pub fee: CaseFee,
    /// Reconsiderations, lawsuits and complaints (only on single-case reads; null in lists).
    pub appeals: Option<Vec<Appeal>>,
    /// New replies ordered on appeal (重新答复), in order; `outcome`, `outcome`'s report rows and the
    /// deadline's timeliness stay the first reply's.
    pub re_replies: Vec<crate::domain::workflow::ReReply>,
    /// What the caller could do next and succeed (workflow actions and clock events), given their
    /// role, the channel, appeals, fee and the clock (only on single-case reads; null in lists).
    pub allowed_actions: Option<Vec<Action>>,
    /// The papers attached to the case, oldest first (only on single-case reads; null in lists).
    /// Statisticians see file names and notes masked and cannot download them.
    pub attachments: Option<Vec<crate::domain::papers::AttachmentRecord>>,
    /// The attachment that is the evidence of the receipt date (the envelope, the fax), if linked.
    pub receipt_evidence_attachment_id: Option<String>,
    /// The attachment that is the evidence of the reply's service (the postal receipt), if linked.
    pub service_evidence_attachment_id: Option<String>,
    /// Every version of every letter generated from the case, oldest first (only on single-case
    /// reads; null in lists).
    pub documents: Option<Vec<crate::domain::letters::DocumentRecord>>,
}

/// A case's fee, in fen.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CaseFee {
    /// What the applicant is asked to pay (after any waiver).
    pub charged_fen: i64,
    /// What was waived (减免).
    pub waived_fen: i64,
    /// The payment, once made: amount, day, receipt number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paid: Option<crate::domain::fees::FeePayment>,
}

/// The row of each annual-report format that a closed case's outcome is counted in.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReportRows {
    /// The pre-2019 table's reply row (its 属于已主动公开范围 flag is `outcome.already_public`).
    pub pre2019: String,
    /// The 2019 trial table's outcome row.
    pub y2019: String,
    /// The 2021 table's outcome row.
    pub y2021: String,
}

impl ReportRows {
    pub fn of(outcome: &Outcome) -> ReportRows {
        use crate::domain::outcome::{pre2019_reply, y2019_outcome, y2021_outcome};
        ReportRows {
            pre2019: pre2019_reply(outcome).def().label.to_owned(),
            y2019: y2019_outcome(outcome).def().label.to_owned(),
            y2021: y2021_outcome(outcome).def().label.to_owned(),
        }
    }
}

/// A case's reply deadline and where it stands today. The full explanation is at
/// `/api/v1/cases/{id}/deadline`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CaseDeadline {
    /// The deadline without extensions (null while the clock is stopped).
    pub due_on: Option<NaiveDate>,
    /// The last lawful reply date: with approved extensions or an Art. 35 delay.
    pub final_due_on: Option<NaiveDate>,
    /// Depends on days no loaded calendar notice settles yet.
    pub provisional: bool,
    pub timeliness: Timeliness,
}

/// A case's timeliness from its stored deadline: how it closed, or where it stands today.
pub fn stored_timeliness(
    d: &DeadlineSummary,
    calendar: &WorkingDayIndex,
    today: NaiveDate,
) -> Result<Timeliness, AppError> {
    let between = |a, b| calendar.working_days_between(a, b).map_err(|e| AppError::Internal(e.to_string()));
    if let (Some(on), Some(closing)) = (d.closed_on, d.closed_as) {
        use crate::domain::events::Closing;
        return Ok(match closing {
            Closing::OnTime => Timeliness::OnTime { replied_on: on },
            Closing::Extended => Timeliness::Extended { replied_on: on },
            Closing::Withdrawn => Timeliness::Withdrawn { withdrawn_on: on },
            Closing::LateReply => Timeliness::LateReply {
                replied_on: on,
                days_late: d.final_due_on.map(|last| between(last, on)).transpose()?.unwrap_or(0),
            },
            Closing::DeemedAbandoned => Timeliness::DeemedAbandoned,
        });
    }
    let Some(last) = d.final_due_on else { return Ok(Timeliness::Stopped) };
    Ok(if today <= last {
        Timeliness::Open { working_days_left: between(today, last)? }
    } else {
        Timeliness::Overdue { working_days_overdue: between(last, today)? }
    })
}

impl CaseResponse {
    pub(crate) fn from_record(
        record: &CaseRecord,
        show_personal_data: bool,
        calendar: &WorkingDayIndex,
    ) -> Result<CaseResponse, AppError> {
        let v = record.view()?;
        let today = crate::domain::china_date(Utc::now());
        let deadline = CaseDeadline {
            due_on: v.deadline.due_on,
            final_due_on: v.deadline.final_due_on,
            provisional: v.deadline.provisional,
            timeliness: stored_timeliness(&v.deadline, calendar, today)?,
        };
        let id = uuid::Uuid::parse_str(&v.id).map_err(AppError::internal)?;
        Ok(CaseResponse {
            id,
            tracking_number: v.tracking_number,
            agency: v.agency,
            state: v.state,
            regime: v.regime,
            channel: v.channel,
            arrived_at: v.arrived_at,
            received_on: v.received_on,
            receipt_basis: v.receipt_basis,
            receipt_evidence: if show_personal_data {
                v.receipt_evidence
            } else {
                v.receipt_evidence.as_deref().map(mask_free_text)
            },
            applicant: if show_personal_data { v.applicant } else { mask_applicant(&v.applicant) },
            personal_data_masked: !show_personal_data,
            description: v.description,
            delivery_form: v.delivery_form,
            topic: v.topic,
            created_at: v.created_at,
            updated_at: v.updated_at,
            deadline,
            version: v.version,
            handler_id: v.handler_id,
            draft_outcome: v.draft_outcome,
            report_rows: v.outcome.as_ref().map(ReportRows::of),
            outcome: v.outcome,
            served_on: v.served_on,
            service_method: v.service_method,
            transferred_to: v.transferred_to,
            transferred_from: v.transferred_from,
            fee: CaseFee { charged_fen: v.fee_charged_fen, waived_fen: v.fee_waived_fen, paid: v.fee_payment },
            appeals: None,
            re_replies: v.re_replies,
            allowed_actions: None,
            attachments: None,
            receipt_evidence_attachment_id: None,
            service_evidence_attachment_id: None,
            documents: None,
        })
    }

    /// A case as `user` reads it on its own: with its appeals and what the user could do next.
    pub fn of(details: &CaseDetails, user: &Principal) -> Result<CaseResponse, AppError> {
        let show = user.role.sees_personal_data();
        let mut response = CaseResponse::from_record(&details.record, show, &details.rules.calendar)?;
        response.appeals = Some(details.case.appeals.clone());
        response.allowed_actions = Some(details.allowed_actions.clone());
        let caller = crate::service::Caller::User(user);
        let attachments = &details.case.attachments;
        let evidence = |what| attachments.iter().rev().find(|a| a.evidence_for == Some(what)).map(|a| a.id.clone());
        response.receipt_evidence_attachment_id = evidence(crate::domain::papers::EvidenceFor::Receipt);
        response.service_evidence_attachment_id = evidence(crate::domain::papers::EvidenceFor::Service);
        response.attachments =
            Some(attachments.iter().cloned().map(|a| crate::service::papers::masked_for(caller, a)).collect());
        let documents = details.case.documents.iter().cloned();
        response.documents = Some(if show { documents.collect() } else { documents.map(mask_document).collect() });
        Ok(response)
    }
}

pub(crate) use crate::service::cases::etag;

/// Register a new request (登记).
///
/// The statutory receipt date is derived from the channel when `received_on` is omitted
/// (Regulation 2019 Art. 31). An `Idempotency-Key` makes retries safe: the same key with the same
/// body returns the first response and creates nothing.
#[utoipa::path(
    post,
    operation_id = "createCase",
    path = "/api/v1/cases",
    tag = "cases",
    request_body(content = IntakeInput, content_type = "application/json"),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retried intake return the first response")),
    responses(
        (status = 201, description = "Registered", body = CaseResponse),
        (status = 400, description = "Malformed JSON or header", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role or agency scope does not allow it", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, or Idempotency-Key reused with another body", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn create(
    req: HttpRequest,
    body: web::Bytes,
    Auth(user): Auth,
    db: web::Data<Db>,
    calendars: web::Data<CalendarCache>,
) -> Result<HttpResponse, AppError> {
    if !user.role.can_register() {
        return Err(AppError::Forbidden(format!("the {} role cannot register requests", user.role)));
    }
    let idempotency = idempotency_key(&req, &body)?;
    let lock_override = super::extract::lock_override(&req, &user)?;
    let input: IntakeInput = json_body(&req, &body)?;
    let intake = input.validate(Utc::now())?;
    let outcome = db
        .run(move |conn| {
            let render = |details: &CaseDetails| {
                Ok(StoredResponse {
                    status: 201,
                    body: serde_json::to_string(&CaseResponse::of(details, &user)?).map_err(AppError::internal)?,
                    location: Some(format!("/api/v1/cases/{}", details.record.row.id)),
                    etag: Some(etag(&details.record)),
                })
            };
            let lock_override = lock_override.as_deref();
            registration::register(conn, &calendars, &user, lock_override, intake, idempotency.as_ref(), render)
        })
        .await?;
    // A retry gets the first answer exactly: its status, body, Location and ETag.
    let (response, replayed) = match outcome {
        Registered::Created { response, .. } => (response, false),
        Registered::Replayed(response) => (response, true),
    };
    let status = actix_web::http::StatusCode::from_u16(response.status).unwrap_or(actix_web::http::StatusCode::CREATED);
    let mut builder = HttpResponse::build(status);
    if let Some(location) = response.location {
        builder.insert_header((header::LOCATION, location));
    }
    if let Some(tag) = response.etag {
        builder.insert_header((header::ETAG, tag));
    }
    if replayed {
        builder.insert_header(("Idempotent-Replayed", "true"));
    }
    Ok(builder.content_type("application/json").body(response.body))
}

/// Loads a case the caller may see; 404 for unknown ids and for cases outside the caller's scope
/// (so that ids of other agencies' cases are not confirmed).
pub(crate) async fn visible_case(db: &Db, user: &Principal, id: &str) -> Result<CaseRecord, AppError> {
    let (user, id) = (user.clone(), id.to_owned());
    db.run(move |conn| crate::service::cases::visible(conn, &user, &id)).await
}

/// Read one case.
///
/// Roles that work cases (clerk, handler, approver, admin) see the applicant's personal data in
/// full; the statistician sees it masked.
#[utoipa::path(
    get,
    operation_id = "getCase",
    path = "/api/v1/cases/{id}",
    tag = "cases",
    params(("id" = uuid::Uuid, Path, description = "Case id")),
    responses(
        (status = 200, description = "The case", body = CaseResponse, headers(("ETag" = String, description = "Changes whenever the case changes"))),
        (status = 404, description = "No such case in your scope", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn get(
    path: web::Path<String>,
    Auth(user): Auth,
    db: web::Data<Db>,
    calendars: web::Data<CalendarCache>,
) -> Result<HttpResponse, AppError> {
    let record = visible_case(&db, &user, &path).await?;
    let (response, etag) = db
        .run(move |conn| {
            let details = crate::service::cases::details(conn, &calendars, &user, record)?;
            Ok((CaseResponse::of(&details, &user)?, etag(&details.record)))
        })
        .await?;
    Ok(HttpResponse::Ok().insert_header((header::ETAG, etag)).json(response))
}

/// Read one case by its tracking number (as an applicant quotes it on the phone, e.g.
/// `PJ-2026-00003`): the same answer as `GET /api/v1/cases/{id}`.
#[utoipa::path(
    get,
    operation_id = "getCaseByNumber",
    path = "/api/v1/cases/by-number/{tracking_number}",
    tag = "cases",
    params(("tracking_number" = String, Path, description = "Tracking number, e.g. PJ-2015-00001")),
    responses(
        (status = 200, description = "The case", body = CaseResponse, headers(("ETag" = String, description = "Changes whenever the case changes"))),
        (status = 404, description = "No such case in your scope", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn by_number(
    path: web::Path<String>,
    Auth(user): Auth,
    db: web::Data<Db>,
    calendars: web::Data<CalendarCache>,
) -> Result<HttpResponse, AppError> {
    let (response, etag) = db
        .run(move |conn| {
            let record = crate::service::cases::by_number(conn, &user, &path)?;
            let details = crate::service::cases::details(conn, &calendars, &user, record)?;
            Ok((CaseResponse::of(&details, &user)?, etag(&details.record)))
        })
        .await?;
    Ok(HttpResponse::Ok().insert_header((header::ETAG, etag)).json(response))
}

/// Filters and paging for the case list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// Agency code; cases of that agency and (with `subtree`, the default) all agencies below it.
    pub agency: Option<String>,
    /// Include the agency's sub-agencies (default true).
    pub subtree: Option<bool>,
    /// One state or several, comma-separated (e.g. `registered,under_review`).
    pub state: Option<String>,
    /// true: open cases only; false: closed only.
    pub open: Option<bool>,
    pub channel: Option<Channel>,
    pub applicant_kind: Option<ApplicantKind>,
    /// A topic code.
    pub topic: Option<String>,
    /// Receipt date on or after (YYYY-MM-DD).
    pub received_from: Option<NaiveDate>,
    /// Receipt date on or before (YYYY-MM-DD).
    pub received_to: Option<NaiveDate>,
    /// Closing date (reply served, withdrawal, lapse) on or after (YYYY-MM-DD).
    pub closed_from: Option<NaiveDate>,
    /// Closing date on or before (YYYY-MM-DD).
    pub closed_to: Option<NaiveDate>,
    /// Text contained in the description, the applicant's name or the tracking number
    /// (case-insensitive).
    pub q: Option<String>,
    /// The applicant's phone, however typed (`157 0427 1234`, `+86-15704271234`): exact match.
    /// Not for roles that do not see personal data.
    pub phone: Option<String>,
    /// The applicant's e-mail (any case): exact match.
    pub email: Option<String>,
    /// The applicant's ID number (spaces and the check letter's case ignored): exact match.
    pub id_number: Option<String>,
    /// Only open cases past their final deadline (true), or not past it (false).
    pub overdue: Option<bool>,
    /// Only cases whose final deadline is on or before this date (YYYY-MM-DD).
    pub due_before: Option<NaiveDate>,
    /// Only open cases whose final deadline is at most this many working days away, or past (0-60).
    #[param(minimum = 0, maximum = 60)]
    pub due_within: Option<u32>,
    /// Only cases assigned to this user (id).
    pub handler: Option<uuid::Uuid>,
    /// `newest` (default), `due` (nearest final deadline first), `received` (latest receipt first) or
    /// `tracking_number`.
    #[param(inline)]
    pub sort: Option<CaseSort>,
    /// Also count all the cases the filters select (`total`).
    pub count: Option<bool>,
    /// Page size, 1-200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page (of the same sort).
    pub cursor: Option<String>,
}

/// One page of cases, in the order asked for.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CaseList {
    pub items: Vec<CaseResponse>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
    /// With `count=true`: every case the filters select; otherwise null.
    pub total: Option<i64>,
}

/// `state=a,b`: the states named.
fn states(text: Option<&str>) -> Result<Vec<CaseState>, AppError> {
    let Some(text) = text else { return Ok(Vec::new()) };
    text.split(',')
        .map(|name| {
            CaseState::parse(name.trim()).ok_or_else(|| {
                let all = crate::domain::report::choices(CaseState::ALL.iter().map(|s| s.as_str()));
                AppError::validation("state", format!("`{name}` is not a state: use {all}, comma-separated"))
            })
        })
        .collect()
}

pub(crate) fn encode_cursor(id: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id)
}

/// A list position from its cursor (the service checks it belongs to the sort asked for).
fn decode_position(cursor: &str) -> Result<String, AppError> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .filter(|text| text.len() <= 200)
        .ok_or_else(|| AppError::validation("cursor", "is not a cursor this service issued"))
}

pub(crate) fn decode_cursor(cursor: &str) -> Result<String, AppError> {
    decode_position(cursor)?
        .parse::<uuid::Uuid>()
        .map(|id| id.to_string())
        .map_err(|_| AppError::validation("cursor", "is not a cursor this service issued"))
}

/// List cases in your scope. Personal data is always masked in lists.
#[utoipa::path(
    get,
    operation_id = "listCases",
    path = "/api/v1/cases",
    tag = "cases",
    params(ListParams),
    responses(
        (status = 200, description = "A page of cases", body = CaseList),
        (status = 403, description = "Agency outside your scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad filter", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn list(
    req: HttpRequest,
    Auth(user): Auth,
    db: web::Data<Db>,
    calendars: web::Data<CalendarCache>,
) -> Result<HttpResponse, AppError> {
    let params: ListParams = query(&req)?;
    let query = case_query(params)?;
    let page = db.run(move |conn| crate::service::cases::list(conn, &calendars, &user, query)).await?;
    let next_cursor = page.next.as_deref().map(encode_cursor);
    let items = page
        .cases
        .iter()
        .map(|(record, calendar)| CaseResponse::from_record(record, false, calendar))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(HttpResponse::Ok().json(CaseList { items, next_cursor, total: page.total }))
}

/// The list's parameters as the service's query.
fn case_query(params: ListParams) -> Result<CaseQuery, AppError> {
    Ok(CaseQuery {
        agency: params.agency,
        subtree: params.subtree.unwrap_or(true),
        states: states(params.state.as_deref())?,
        open: params.open,
        applicant_kind: params.applicant_kind,
        topic: params.topic,
        closed_from: params.closed_from,
        closed_to: params.closed_to,
        phone: params.phone,
        email: params.email,
        id_number: params.id_number,
        due_within: params.due_within,
        sort: params.sort.unwrap_or_default(),
        count: params.count.unwrap_or(false),
        count_cap: None,
        channel: params.channel,
        received_from: params.received_from,
        received_to: params.received_to,
        text: params.q,
        overdue: params.overdue,
        due_on_or_before: params.due_before,
        handler_id: params.handler.map(|h| h.to_string()),
        after: params.cursor.as_deref().map(decode_position).transpose()?,
        limit: params.limit.unwrap_or(50),
    })
}

/// The case ledger (台账): one row per case selected by the list's filters (all of them, in the
/// list's order; `limit` and `cursor` do not apply), as CSV (UTF-8 with BOM) or XLSX. Columns:
/// 受理编号, 收到申请日期, 受理渠道, 申请人类型, 申请人 (masked), 主题, 办理状态, 承办人, 答复期限,
/// 延长后期限, 办理时效, 办结日期, 答复结果 and its row of the 2021 table, 申请内容, 答复结果代码 (the
/// outcome exactly), and the reconsideration's and the lawsuit's dates and results: what
/// `foi-tracker import cases` reads back. Streamed: an export of any size is written a page at a time.
#[utoipa::path(
    get,
    operation_id = "exportCaseLedger",
    path = "/api/v1/cases/export",
    tag = "cases",
    params(("format" = Option<String>, Query, description = "`csv` (default) or `xlsx`"), ListParams),
    responses(
        (status = 200, description = "The ledger (CSV, or XLSX with format=xlsx)", content(
            (String = "text/csv"),
            (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )),
        (status = 403, description = "Agency outside your scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad filter or format", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn export(
    req: HttpRequest,
    Auth(user): Auth,
    db: web::Data<Db>,
    calendars: web::Data<CalendarCache>,
) -> Result<HttpResponse, AppError> {
    use crate::service::ledger;
    // `format` is the export's own parameter; the rest are the list's.
    let mut format = None;
    let mut rest = form_urlencoded::Serializer::new(String::new());
    for (key, value) in form_urlencoded::parse(req.query_string().as_bytes()) {
        match key.as_ref() {
            "format" => format = Some(value.into_owned()),
            "limit" | "cursor" | "count" => {
                return Err(AppError::validation(&key, "does not apply to an export, which holds every case"))
            }
            _ => {
                rest.append_pair(&key, &value);
            }
        }
    }
    let rest = rest.finish();
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(rest.as_bytes()));
    let params: ListParams = serde_path_to_error::deserialize(de)
        .map_err(|e| AppError::validation(&e.path().to_string(), e.inner().to_string()))?;
    let query = case_query(params)?;
    let stamp = crate::domain::china_date(Utc::now());
    match format.as_deref().unwrap_or("csv") {
        "csv" => {
            // Check the filters (scope, values) before the first byte goes out.
            let (first_rows, next) = {
                let (q, c, u) = (query.clone(), calendars.clone(), user.clone());
                db.run(move |conn| ledger::page(conn, &c, &u, q)).await?
            };
            let first = ledger::csv_header() + &ledger::csv_lines(&first_rows);
            let state = (Some(first), next, query, db, calendars, user);
            let body = futures_util::stream::unfold(state, |(pending, next, query, db, calendars, user)| async move {
                if let Some(chunk) = pending {
                    return Some((Ok(web::Bytes::from(chunk)), (None, next, query, db, calendars, user)));
                }
                let after = next?;
                let mut q = query.clone();
                q.after = Some(after);
                let (c, u) = (calendars.clone(), user.clone());
                match db.run(move |conn| ledger::page(conn, &c, &u, q)).await {
                    Ok((rows, next)) => {
                        let chunk = web::Bytes::from(ledger::csv_lines(&rows));
                        Some((Ok(chunk), (None, next, query, db, calendars, user)))
                    }
                    Err(e) => Some((Err(actix_web::Error::from(e)), (None, None, query, db, calendars, user))),
                }
            });
            Ok(HttpResponse::Ok()
                .content_type("text/csv; charset=utf-8")
                .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"ledger-{stamp}.csv\"")))
                .streaming(body))
        }
        "xlsx" => {
            let file = db.run(move |conn| ledger::xlsx_file(conn, &calendars, &user, query)).await?;
            let body = futures_util::stream::unfold(Some(file), |file| async move {
                use std::io::Read;
                let mut file = file?;
                let mut chunk = vec![0u8; 64 * 1024];
                match file.read(&mut chunk) {
                    Ok(0) => None,
                    Ok(n) => {
                        chunk.truncate(n);
                        Some((Ok::<_, actix_web::Error>(web::Bytes::from(chunk)), Some(file)))
                    }
                    Err(e) => Some((Err(actix_web::error::ErrorInternalServerError(e)), None)),
                }
            });
            Ok(HttpResponse::Ok()
                .content_type(crate::service::reports::XLSX_MEDIA_TYPE)
                .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"ledger-{stamp}.xlsx\"")))
                .streaming(body))
        }
        other => Err(AppError::validation("format", format!("`{other}` is not csv or xlsx"))),
    }
}

/// One entry of a case's append-only event log.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EventResponse {
    pub seq: i32,
    pub kind: String,
    pub occurred_at: DateTime<Utc>,
    /// The user who caused it (null for system events).
    pub actor_id: Option<String>,
    /// What happened (shape depends on `kind`). Personal data is masked for roles that do not need it.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    /// Hash of the previous event (64 zeros for the first).
    pub prev_hash: String,
    /// SHA-256 over this event and `prev_hash`.
    pub hash: String,
}

pub(crate) fn event_response(row: EventRow, show_personal_data: bool) -> Result<EventResponse, AppError> {
    let payload = match CaseEvent::from_stored(&row.kind, &row.payload).map_err(AppError::internal)? {
        CaseEvent::Received(mut intake) if !show_personal_data => {
            intake.applicant = mask_applicant(&intake.applicant);
            intake.receipt_evidence = intake.receipt_evidence.as_deref().map(mask_free_text);
            serde_json::to_value(intake).map_err(AppError::internal)?
        }
        CaseEvent::Workflow(mut record) if !show_personal_data => {
            record.reason = record.reason.as_deref().map(mask_free_text);
            if let crate::domain::workflow::WorkflowEvent::RegistrationAmended { changes } = &mut record.event {
                **changes = changes.masked();
            }
            serde_json::to_value(record).map_err(AppError::internal)?
        }
        CaseEvent::Attached(record) if !show_personal_data => {
            serde_json::to_value(mask_attachment(record)).map_err(AppError::internal)?
        }
        CaseEvent::DocumentIssued(record) if !show_personal_data => {
            serde_json::to_value(mask_document(*record)).map_err(AppError::internal)?
        }
        CaseEvent::Clock(mut record) if !show_personal_data => {
            record.evidence = record.evidence.as_deref().map(mask_free_text);
            record.override_reason = record.override_reason.as_deref().map(mask_free_text);
            serde_json::to_value(record).map_err(AppError::internal)?
        }
        _ => serde_json::from_str(&row.payload).map_err(AppError::internal)?,
    };
    Ok(EventResponse {
        seq: row.seq,
        kind: row.kind,
        occurred_at: row.occurred_at.and_utc(),
        actor_id: row.actor_id,
        payload,
        prev_hash: row.prev_hash,
        hash: row.hash,
    })
}

/// The case's event log, oldest first. The case is the projection of these events.
#[utoipa::path(
    get,
    operation_id = "listCaseEvents",
    path = "/api/v1/cases/{id}/events",
    tag = "cases",
    params(("id" = uuid::Uuid, Path, description = "Case id")),
    responses(
        (status = 200, description = "Events, oldest first", body = Vec<EventResponse>),
        (status = 404, description = "No such case in your scope", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn events(path: web::Path<String>, Auth(user): Auth, db: web::Data<Db>) -> Result<HttpResponse, AppError> {
    let show = user.role.sees_personal_data();
    let rows = db.run(move |conn| crate::service::cases::events(conn, &user, &path)).await?;
    let events = rows.into_iter().map(|r| event_response(r, show)).collect::<Result<Vec<_>, _>>()?;
    Ok(HttpResponse::Ok().json(events))
}
