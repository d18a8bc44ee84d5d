//! foi-tracker: a REST service that tracks government information disclosure requests.
//!
//! Layout: `domain` holds the rules (pure), `service` the use cases, `db` persistence, `api` HTTP.
//! `build_app` starts the service on any address (tests use port 0).

pub mod api;
pub mod config;
pub mod console;
pub mod db;
/// The rules, pure: the `foi-domain` crate.
pub use foi_domain as domain;
pub mod error;
pub mod service;
pub mod telemetry;

use std::net::TcpListener;

use actix_cors::Cors;
use actix_web::dev::Server;
use actix_web::middleware::{from_fn, ErrorHandlers};
use actix_web::{web, App, HttpServer};

use crate::config::Settings;
use crate::db::Db;

/// A bound, not yet awaited server.
pub struct Application {
    pub port: u16,
    pub server: Server,
    pub db: Db,
}

/// Opens the database (running migrations if configured) and binds the HTTP server.
pub fn build_app(settings: &Settings) -> anyhow::Result<Application> {
    let db = Db::connect(&settings.database)?;
    if settings.database.run_migrations {
        db.migrate()?;
    }
    let listener = TcpListener::bind(&settings.server.bind)
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", settings.server.bind))?;
    build_with(settings, db, listener)
}

pub fn build_with(settings: &Settings, db: Db, listener: TcpListener) -> anyhow::Result<Application> {
    let port = listener.local_addr()?.port();
    let data = web::Data::new(db.clone());
    let calendars = web::Data::new(db::calendar::CalendarCache::default());
    let fee_rates = web::Data::new(settings.fees);
    let limits = web::Data::new(api::limits::Limits::new(&settings.limits));
    let sessions = web::Data::new(settings.sessions.clone());
    let attachments = web::Data::new(settings.attachments.clone());
    let metrics = web::Data::new(api::metrics::Metrics::new(Some(settings.server.metrics_token.clone())));
    let max_body = settings.server.max_body_bytes;
    let origins = settings.server.cors_origins.clone();
    let mut server = HttpServer::new(move || {
        let cors = origins.iter().fold(
            Cors::default()
                .allow_any_method()
                .allow_any_header()
                .expose_headers(["etag", "location", "x-request-id", "idempotent-replayed"])
                .max_age(3600),
            |cors, origin| cors.allowed_origin(origin),
        );
        App::new()
            .app_data(data.clone())
            .app_data(calendars.clone())
            .app_data(fee_rates.clone())
            .app_data(limits.clone())
            .app_data(sessions.clone())
            .app_data(attachments.clone())
            .app_data(metrics.clone())
            .app_data(web::PayloadConfig::new(max_body))
            .configure(api::routes)
            .configure(console::routes)
            .default_service(web::to(api::not_found))
            .wrap(from_fn(api::extract::reject_nul_in_url))
            .wrap(cors)
            .wrap(ErrorHandlers::new().default_handler(api::problem::ensure_problem))
            .wrap(from_fn(telemetry::request_id_middleware))
            .wrap(from_fn(api::metrics::record))
    })
    .listen(listener)?;
    if settings.server.workers > 0 {
        server = server.workers(settings.server.workers);
    }
    Ok(Application { port, server: server.run(), db })
}
