//! The HTTP layer: routes, OpenAPI document, problem responses. Handlers parse, authorize, call one
//! domain or db function and render; the rules live in `domain`.

pub mod agencies;
pub mod audit;
pub mod calendar;
pub mod cases;
pub mod deadlines;
pub mod extract;
pub mod feeds;
pub mod health;
pub mod imports;
pub mod letters;
pub mod limits;
pub mod metrics;
pub mod papers;
pub mod problem;
pub mod reminders;
pub mod reports;
pub mod session;
pub mod users;
pub mod workflow;

use actix_web::web;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::error::AppError;
use problem::CommonProblems;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "foi-tracker",
        description = "Tracks government information disclosure requests (政府信息依申请公开) from intake to archive. \
Every error is application/problem+json (RFC 9457).",
        license(name = "MIT")
    ),
    paths(
        health::healthz,
        health::readyz,
        cases::create,
        cases::list,
        cases::by_number,
        cases::export,
        cases::get,
        cases::events,
        papers::upload,
        papers::list,
        papers::download,
        letters::generate,
        letters::list,
        letters::download,
        letters::get_letterhead,
        letters::put_letterhead,
        letters::get_template,
        letters::put_template,
        letters::delete_template,
        imports::import,
        imports::template,
        workflow::act,
        deadlines::calculator,
        deadlines::for_case,
        deadlines::record_clock_event,
        calendar::view,
        calendar::import,
        calendar::put_national_day,
        calendar::delete_national_day,
        calendar::put_agency_day,
        calendar::delete_agency_day,
        agencies::list,
        agencies::create,
        agencies::topics,
        agencies::put_topic,
        agencies::me,
        audit::verify,
        reports::get,
        reports::lock,
        reminders::list,
        users::list,
        users::create,
        users::get,
        users::update,
        users::deactivate,
        users::reactivate,
        users::tokens,
        users::create_token,
        users::revoke_token,
        users::set_password,
        session::sign_in,
        session::current,
        session::sign_out,
        audit::security_events,
        feeds::user_feed,
        feeds::rotate_user_feed,
        feeds::remove_user_feed,
        feeds::agency_feed,
        feeds::rotate_agency_feed,
        feeds::remove_agency_feed,
        feeds::fetch,
    ),
    components(schemas(problem::Problem, crate::domain::validation::FieldError)),
    modifiers(&BearerAuth, &CommonProblems),
    tags(
        (name = "cases", description = "Requests and their event logs"),
        (name = "deadlines", description = "Reply deadlines on China's working-day calendar"),
        (name = "calendar", description = "China's working-day calendar and local overlays"),
        (name = "agencies", description = "The agency tree and topic taxonomies"),
        (name = "users", description = "Accounts, their API tokens and passwords, and the caller"),
        (name = "session", description = "Browser sign-in: a session cookie and its CSRF token"),
        (name = "papers", description = "Papers attached to cases, and the letters generated from them"),
        (name = "audit", description = "Tamper evidence and the security log"),
        (name = "reminders", description = "Deadline reminder e-mails and their delivery"),
        (name = "reports", description = "The annual-report tables, derived from the case records"),
        (name = "health", description = "Probes"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
        // A browser session (POST /api/v1/session); writes also send its CSRF token in X-CSRF-Token.
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(extract::SESSION_COOKIE))),
        );
    }
}

/// Every route of the service.
pub fn routes(cfg: &mut web::ServiceConfig) {
    // The documentation goes first: the `/api/v1` scope below would otherwise claim its paths.
    cfg.service(
        utoipa_swagger_ui::SwaggerUi::new("/api/v1/docs/{_:.*}").url("/api/v1/openapi.json", ApiDoc::openapi()),
    )
    .service(web::resource("/healthz").route(web::get().to(health::healthz)))
    .service(web::resource("/readyz").route(web::get().to(health::readyz)))
    .service(web::resource("/metrics").route(web::get().to(metrics::scrape)))
    .service(
        web::scope("/api/v1")
            .service(web::resource("/cases").route(web::post().to(cases::create)).route(web::get().to(cases::list)))
            .service(web::resource("/cases/export").route(web::get().to(cases::export)))
            .service(web::resource("/cases/by-number/{tracking_number}").route(web::get().to(cases::by_number)))
            .service(web::resource("/cases/{id}").route(web::get().to(cases::get)))
            .service(web::resource("/cases/{id}/events").route(web::get().to(cases::events)))
            .service(
                web::resource("/cases/{id}/attachments")
                    .route(web::post().to(papers::upload))
                    .route(web::get().to(papers::list)),
            )
            .service(web::resource("/cases/{id}/attachments/{attachment_id}").route(web::get().to(papers::download)))
            .service(
                web::resource("/cases/{id}/documents")
                    .route(web::post().to(letters::generate))
                    .route(web::get().to(letters::list)),
            )
            .service(web::resource("/cases/{id}/documents/{version_id}").route(web::get().to(letters::download)))
            .service(
                web::resource("/agencies/{code}/letterhead")
                    .route(web::get().to(letters::get_letterhead))
                    .route(web::put().to(letters::put_letterhead)),
            )
            .service(web::resource("/agencies/{code}/imports").route(web::post().to(imports::import)))
            .service(web::resource("/imports/template").route(web::get().to(imports::template)))
            .service(
                web::resource("/agencies/{code}/document-templates/{name}")
                    .route(web::get().to(letters::get_template))
                    .route(web::put().to(letters::put_template))
                    .route(web::delete().to(letters::delete_template)),
            )
            .service(web::resource("/cases/{id}/actions").route(web::post().to(workflow::act)))
            .service(web::resource("/cases/{id}/deadline").route(web::get().to(deadlines::for_case)))
            .service(web::resource("/cases/{id}/clock-events").route(web::post().to(deadlines::record_clock_event)))
            .service(web::resource("/deadlines/calculate").route(web::get().to(deadlines::calculator)))
            .service(web::resource("/calendar").route(web::get().to(calendar::view)))
            .service(web::resource("/calendar/notices").route(web::post().to(calendar::import)))
            .service(
                web::resource("/calendar/days/{date}")
                    .route(web::put().to(calendar::put_national_day))
                    .route(web::delete().to(calendar::delete_national_day)),
            )
            .service(
                web::resource("/agencies/{code}/calendar/days/{date}")
                    .route(web::put().to(calendar::put_agency_day))
                    .route(web::delete().to(calendar::delete_agency_day)),
            )
            .service(
                web::resource("/agencies").route(web::get().to(agencies::list)).route(web::post().to(agencies::create)),
            )
            .service(web::resource("/agencies/{code}/topics").route(web::get().to(agencies::topics)))
            .service(
                web::resource("/agencies/{code}/deadline-feed")
                    .route(web::get().to(feeds::agency_feed))
                    .route(web::post().to(feeds::rotate_agency_feed))
                    .route(web::delete().to(feeds::remove_agency_feed)),
            )
            .service(
                web::resource("/users/{id}/deadline-feed")
                    .route(web::get().to(feeds::user_feed))
                    .route(web::post().to(feeds::rotate_user_feed))
                    .route(web::delete().to(feeds::remove_user_feed)),
            )
            .service(web::resource("/deadline-feeds/{file}").route(web::get().to(feeds::fetch)))
            .service(web::resource("/agencies/{code}/topics/{topic}").route(web::put().to(agencies::put_topic)))
            .service(web::resource("/me").route(web::get().to(agencies::me)))
            .service(web::resource("/users").route(web::get().to(users::list)).route(web::post().to(users::create)))
            .service(
                web::resource("/users/{id}").route(web::get().to(users::get)).route(web::patch().to(users::update)),
            )
            .service(
                web::resource("/session")
                    .route(web::post().to(session::sign_in))
                    .route(web::get().to(session::current))
                    .route(web::delete().to(session::sign_out)),
            )
            .service(web::resource("/users/{id}/password").route(web::put().to(users::set_password)))
            .service(web::resource("/users/{id}/deactivate").route(web::post().to(users::deactivate)))
            .service(web::resource("/users/{id}/reactivate").route(web::post().to(users::reactivate)))
            .service(
                web::resource("/users/{id}/tokens")
                    .route(web::get().to(users::tokens))
                    .route(web::post().to(users::create_token)),
            )
            .service(web::resource("/users/{id}/tokens/{token_id}").route(web::delete().to(users::revoke_token)))
            .service(web::resource("/audit/verify").route(web::get().to(audit::verify)))
            .service(web::resource("/audit/security-events").route(web::get().to(audit::security_events)))
            .service(web::resource("/reminders").route(web::get().to(reminders::list)))
            .service(web::resource("/reports/locks").route(web::post().to(reports::lock)))
            .service(web::resource("/reports/{format}/{year}").route(web::get().to(reports::get))),
    );
}

/// Unknown routes.
pub async fn not_found() -> Result<actix_web::HttpResponse, AppError> {
    Err(AppError::NotFound("No such resource. The API lives under /api/v1; see /api/v1/openapi.json.".into()))
}
