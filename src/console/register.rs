//! Registering a request: one form for every channel, the receipt date and reply deadline the
//! service will use shown before submitting, field errors beside their fields, and a form token that
//! makes a double-click register one case (the API's Idempotency-Key).

use std::collections::HashMap;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{NaiveDateTime, TimeZone, Utc};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::queue::nav;
use super::{check_csrf, field, form_fields, html, options, ConsoleError, Me, Nav, Tr, Visitor};
use crate::api::cases::{etag, CaseResponse};
use crate::db::calendar::CalendarCache;
use crate::db::cases::{IdempotencyRequest, Registered, StoredResponse};
use crate::db::{Db, DbConnection};
use crate::domain::intake::{ApplicantKind, Channel, DeliveryForm, IntakeInput, ReceiptBasis};
use crate::error::AppError;
use crate::service::{clock, registration, Caller};

/// The form's fields by name (the first of each), for filling the form in again.
pub type Values = HashMap<String, String>;

#[derive(askama::Template)]
#[template(path = "console/register.html")]
struct RegisterPage {
    tr: Tr,
    nav: Option<Nav>,
    values: Values,
    agencies: Vec<(String, String)>,
    topics: Vec<(String, String)>,
    channels: Vec<(String, String)>,
    kinds: Vec<(String, String)>,
    deliveries: Vec<(String, String)>,
    preview: Option<String>,
    /// Errors by form field name (`applicant.name`, ...), from the problem's JSON paths.
    errors: HashMap<String, String>,
    form_token: String,
}

impl RegisterPage {
    fn value(&self, name: &str) -> String {
        self.values.get(name).cloned().unwrap_or_default()
    }

    fn error(&self, name: &str) -> String {
        self.errors.get(name).cloned().unwrap_or_default()
    }

    fn selected(&self, name: &str, value: &str) -> bool {
        self.values.get(name).is_some_and(|v| v == value)
    }
}

/// How the receipt date was fixed, in the words of Art. 31.
pub(super) fn basis_label(tr: &Tr, basis: ReceiptBasis) -> &'static str {
    let zh = match basis {
        ReceiptBasis::SubmittedInPerson => "当面提交：提交之日",
        ReceiptBasis::PostSignedFor => "信函：签收之日",
        ReceiptBasis::OrdinaryMailConfirmed => "平常信函：与申请人确认之日",
        ReceiptBasis::FaxConfirmed => "传真：与申请人确认之日",
        ReceiptBasis::OnlineConfirmed => "网络：与申请人确认之日",
        ReceiptBasis::EmailSystemReceived => "电子邮件：系统收到之日",
        ReceiptBasis::ClerkDetermined => "登记人认定之日",
    };
    let en = match basis {
        ReceiptBasis::SubmittedInPerson => "in person: the day it was handed in",
        ReceiptBasis::PostSignedFor => "letter: the day it was signed for",
        ReceiptBasis::OrdinaryMailConfirmed => "ordinary mail: the day it was confirmed with the applicant",
        ReceiptBasis::FaxConfirmed => "fax: the day it was confirmed with the applicant",
        ReceiptBasis::OnlineConfirmed => "web: the day it was confirmed with the applicant",
        ReceiptBasis::EmailSystemReceived => "e-mail: the day the system received it",
        ReceiptBasis::ClerkDetermined => "the day the clerk determined",
    };
    match tr.lang() {
        super::Lang::Zh => zh,
        super::Lang::En => en,
    }
}

/// The intake JSON the API would take, from the form.
fn intake_json(values: &Values) -> Value {
    let text = |name: &str| values.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
    let arrived_at = text("arrived_at").map(|local| {
        // `datetime-local` gives 2026-11-27T10:00 in Beijing time.
        match NaiveDateTime::parse_from_str(local, "%Y-%m-%dT%H:%M")
            .or_else(|_| NaiveDateTime::parse_from_str(local, "%Y-%m-%dT%H:%M:%S"))
        {
            Ok(naive) => match crate::domain::china_offset().from_local_datetime(&naive).single() {
                Some(at) => json!(at.with_timezone(&Utc)),
                None => json!(local),
            },
            Err(_) => json!(local),
        }
    });
    let mut applicant = serde_json::Map::new();
    for key in ["kind", "name", "id_number", "phone", "email", "address"] {
        if let Some(v) = text(&format!("applicant.{key}")) {
            applicant.insert(key.to_owned(), json!(v));
        }
    }
    let mut body = serde_json::Map::new();
    for key in ["agency", "channel", "description", "delivery_form", "topic"] {
        if let Some(v) = text(key) {
            body.insert(key.to_owned(), json!(v));
        }
    }
    if let Some(at) = arrived_at {
        body.insert("arrived_at".to_owned(), at);
    }
    body.insert("applicant".to_owned(), Value::Object(applicant));
    Value::Object(body)
}

/// Parses the form as the API parses its JSON: errors keyed by the field they belong to.
fn parse_intake(values: &Values) -> Result<IntakeInput, AppError> {
    let body = intake_json(values);
    serde_path_to_error::deserialize::<_, IntakeInput>(body).map_err(|e| {
        let mut path = e.path().to_string();
        let message = e.inner().to_string();
        // A missing field belongs to that field, not to the object that lacks it.
        if let Some(name) = message.strip_prefix("missing field `").and_then(|m| m.split('`').next()) {
            path = if path == "." { name.to_owned() } else { format!("{path}.{name}") };
        }
        let path = if path == "." { "$".to_owned() } else { path };
        AppError::validation(&path, message)
    })
}

/// The field a problem path belongs to (`applicant.name` stays; `$` goes to the top of the form).
fn field_of(path: &str) -> String {
    path.trim_start_matches("$.").to_owned()
}

/// Everything the form shows besides the values.
fn page(
    conn: &mut DbConnection,
    calendars: &CalendarCache,
    tr: Tr,
    me: &Me,
    mut values: Values,
) -> Result<RegisterPage, AppError> {
    let user = &me.principal;
    let agencies: Vec<(String, String)> = crate::db::agencies::list(conn, user.scope_path())?
        .into_iter()
        .map(|a| (a.code.clone(), format!("{} {}", a.code, a.name)))
        .collect();
    if !values.contains_key("agency") {
        if let Some((code, _)) = agencies.first() {
            values.insert("agency".into(), code.clone());
        }
    }
    if !values.contains_key("arrived_at") {
        values.insert(
            "arrived_at".into(),
            Utc::now().with_timezone(&crate::domain::china_offset()).format("%Y-%m-%dT%H:%M").to_string(),
        );
    }
    values.entry("channel".into()).or_insert_with(|| "letter".into());
    values.entry("applicant.kind".into()).or_insert_with(|| "natural_person".into());
    values.entry("delivery_form".into()).or_insert_with(|| "paper".into());
    let topics = match values.get("agency") {
        Some(code) => crate::service::directory::topics(conn, Caller::User(user), code)
            .map(|ts| ts.into_iter().map(|t| (t.code, t.label)).collect())
            .unwrap_or_default(),
        None => vec![],
    };
    let preview = preview_text(conn, calendars, &tr, &values).ok();
    let nav = nav(conn, calendars, me, None)?;
    Ok(RegisterPage {
        tr,
        nav: Some(nav),
        agencies,
        topics,
        channels: options(Channel::ALL, Channel::as_str, |c| tr.channel(&c)),
        kinds: options(ApplicantKind::ALL, ApplicantKind::as_str, |k| tr.applicant_kind(&k)),
        deliveries: options(DeliveryForm::ALL, DeliveryForm::as_str, |d| tr.code("delivery", d.as_str())),
        preview,
        errors: HashMap::new(),
        form_token: uuid::Uuid::now_v7().to_string(),
        values,
    })
}

/// 信函：签收之日 2026-11-27（周五）→ 答复期限 2026-12-25（周五）: the receipt date the service will
/// derive from the channel and arrival, and the reply deadline on the agency's calendar.
fn preview_text(
    conn: &mut DbConnection,
    calendars: &CalendarCache,
    tr: &Tr,
    values: &Values,
) -> Result<String, AppError> {
    let mut values = values.clone();
    // The preview needs only the channel, the arrival and the agency.
    values.entry("applicant.name".into()).or_insert_with(|| "—".into());
    values.entry("applicant.kind".into()).or_insert_with(|| "natural_person".into());
    values.entry("delivery_form".into()).or_insert_with(|| "paper".into());
    values.insert("description".into(), "—".into());
    for personal in ["applicant.id_number", "applicant.phone", "applicant.email", "topic"] {
        values.remove(personal);
    }
    values.insert("applicant.address".into(), "—".into());
    let input = parse_intake(&values)?;
    let intake = input.validate(Utc::now()).map_err(AppError::Validation)?;
    let calculation = clock::calculation(conn, calendars, Some(&intake.agency), intake.received_on, None)?;
    let arrow = match tr.lang() {
        super::Lang::Zh => "答复期限",
        super::Lang::En => "reply due",
    };
    Ok(format!(
        "{} {} → {arrow} {}",
        basis_label(tr, intake.receipt_basis),
        tr.date(&intake.received_on),
        tr.date(&calculation.due_on)
    ))
}

fn first_values(fields: &[(String, String)]) -> Values {
    let mut values = Values::new();
    for (k, v) in fields {
        if k != "csrf_token" && k != "password" {
            values.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    values
}

/// GET /cases/new.
pub async fn form(
    req: HttpRequest,
    db: web::Data<Db>,
    calendars: web::Data<CalendarCache>,
) -> Result<HttpResponse, ConsoleError> {
    let (tr, me) = Visitor::of(&req, &db).await?.require(&req)?;
    refill(&db, &calendars, tr, me, &[]).await
}

/// The form filled in with `fields` (after a sign-in that interrupted its post).
pub async fn refill(
    db: &Db,
    calendars: &web::Data<CalendarCache>,
    tr: Tr,
    me: Me,
    fields: &[(String, String)],
) -> Result<HttpResponse, ConsoleError> {
    if !me.principal.role.can_register() {
        return Err(ConsoleError::page(StatusCode::FORBIDDEN, tr.lang(), "your role does not register requests"));
    }
    let values = first_values(fields);
    let calendars = calendars.clone();
    let page = db
        .run(move |conn| page(conn, &calendars, tr, &me, values))
        .await
        .map_err(|e| ConsoleError::from_app(e, tr.lang()))?;
    Ok(html(StatusCode::OK, &page))
}

/// GET /cases/receipt-preview (htmx, as the channel or arrival changes): the preview line alone.
pub async fn preview(
    req: HttpRequest,
    db: web::Data<Db>,
    calendars: web::Data<CalendarCache>,
) -> Result<HttpResponse, ConsoleError> {
    let (tr, _me) = Visitor::of(&req, &db).await?.require(&req)?;
    let values = first_values(&form_fields(req.query_string().as_bytes()));
    let text = db
        .run(move |conn| {
            Ok(preview_text(conn, &calendars, &tr, &values).unwrap_or_else(|e| {
                crate::api::problem::Problem::from(&e).errors.and_then(|errs| errs.into_iter().next()).map_or_else(
                    || crate::api::problem::Problem::from(&e).detail,
                    |f| format!("{}: {}", f.path, f.message),
                )
            }))
        })
        .await
        .map_err(|e| ConsoleError::from_app(e, tr.lang()))?;
    #[derive(askama::Template)]
    #[template(source = "{{ text }}", ext = "html")]
    struct Fragment {
        text: String,
    }
    Ok(html(StatusCode::OK, &Fragment { text }))
}

/// POST /cases/new: registers through the service; the case page on success, the form with its
/// errors beside the fields otherwise. The same form token twice (a double-click) registers once.
pub async fn submit(
    req: HttpRequest,
    body: web::Bytes,
    db: web::Data<Db>,
    calendars: web::Data<CalendarCache>,
) -> Result<HttpResponse, ConsoleError> {
    let fields = form_fields(&body);
    let visitor = Visitor::of(&req, &db).await?;
    let Some(me) = visitor.me else {
        // The session ended while the form was open: sign in again and get the form back, filled in.
        let draft = super::draft_of(&fields);
        return Ok(super::auth::login_page(&visitor, Some("/cases/new"), draft, StatusCode::UNAUTHORIZED));
    };
    let tr = visitor.tr;
    check_csrf(&me, field(&fields, "csrf_token"), tr.lang())?;
    let values = first_values(&fields);
    let idempotency = field(&fields, "form_token").map(|token| {
        let mut hasher = Sha256::new();
        for (k, v) in fields.iter().filter(|(k, _)| k != "csrf_token") {
            hasher.update(k.as_bytes());
            hasher.update([0]);
            hasher.update(v.as_bytes());
            hasher.update([0]);
        }
        IdempotencyRequest { key: format!("console-{token}"), request_hash: hex::encode(hasher.finalize()) }
    });
    let parsed = parse_intake(&values).and_then(|input| input.validate(Utc::now()).map_err(AppError::Validation));
    let user = me.principal.clone();
    let registered = match parsed {
        Ok(intake) => {
            let calendars = calendars.clone();
            db.run(move |conn| {
                let render = |details: &crate::service::cases::CaseDetails| {
                    Ok(StoredResponse {
                        status: 201,
                        body: serde_json::to_string(&CaseResponse::of(details, &user)?).map_err(AppError::internal)?,
                        location: Some(format!("/api/v1/cases/{}", details.record.row.id)),
                        etag: Some(etag(&details.record)),
                    })
                };
                registration::register(conn, &calendars, &user, None, intake, idempotency.as_ref(), render)
            })
            .await
        }
        Err(e) => Err(e),
    };
    let location = match registered {
        Ok(Registered::Created { response, .. }) | Ok(Registered::Replayed(response)) => response.location,
        Err(
            error @ (AppError::Validation(_)
            | AppError::Forbidden(_)
            | AppError::NotFound(_)
            | AppError::IdempotencyKeyReused(_)),
        ) => {
            let problem = crate::api::problem::Problem::from(&error);
            let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
            let mut errors: HashMap<String, String> = HashMap::new();
            for e in problem.errors.unwrap_or_default() {
                errors.entry(field_of(&e.path)).or_insert(e.message);
            }
            if errors.is_empty() {
                errors.insert("$".into(), problem.detail);
            }
            let calendars = calendars.clone();
            let mut page = db
                .run(move |conn| page(conn, &calendars, tr, &me, values))
                .await
                .map_err(|e| ConsoleError::from_app(e, tr.lang()))?;
            page.errors = errors;
            return Ok(html(status, &page));
        }
        Err(other) => return Err(ConsoleError::from_app(other, tr.lang())),
    };
    let id = location.as_deref().and_then(|l| l.rsplit('/').next()).unwrap_or_default().to_owned();
    Ok(HttpResponse::SeeOther().insert_header((header::LOCATION, format!("/cases/{id}?done=1"))).finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&str, &str)]) -> Values {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn the_form_becomes_the_apis_intake() {
        let v = values(&[
            ("agency", "PJ"),
            ("channel", "letter"),
            ("arrived_at", "2026-11-27T10:00"),
            ("applicant.kind", "natural_person"),
            ("applicant.name", "张三"),
            ("applicant.phone", ""),
            ("description", "道路规划"),
            ("delivery_form", "paper"),
        ]);
        let input = parse_intake(&v).unwrap();
        assert_eq!(input.arrived_at.to_rfc3339(), "2026-11-27T02:00:00+00:00");
        assert_eq!(input.applicant.phone, None);
        assert_eq!(input.channel, Channel::Letter);
    }

    #[test]
    fn a_bad_field_is_named_by_its_path() {
        let complete = [
            ("agency", "PJ"),
            ("channel", "fax"),
            ("arrived_at", "2026-11-27T10:00"),
            ("applicant.kind", "natural_person"),
            ("applicant.name", "张三"),
            ("description", "道路规划"),
            ("delivery_form", "paper"),
        ];
        let with = |name: &str, value: Option<&str>| {
            let mut v = values(&complete);
            match value {
                Some(value) => v.insert(name.to_owned(), value.to_owned()),
                None => v.remove(name),
            };
            v
        };
        assert!(parse_intake(&values(&complete)).is_ok());
        for (name, value, path) in [
            ("channel", Some("pigeon"), "channel"),
            ("arrived_at", Some("yesterday"), "arrived_at"),
            ("applicant.name", None, "applicant.name"),
            ("description", None, "description"),
            ("applicant.kind", Some("robot"), "applicant.kind"),
        ] {
            let AppError::Validation(errors) = parse_intake(&with(name, value)).unwrap_err() else { panic!() };
            assert_eq!(field_of(&errors[0].path), path, "{name}");
        }
    }
}
