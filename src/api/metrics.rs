//! `GET /metrics`: Prometheus text format. HTTP requests by route (the matched pattern, so ids do
//! not multiply the series), method and status, with latencies; the database pool; and the office
//! gauges (open and overdue cases, the reminder outbox by state, the last reminder run).

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{web, HttpRequest, HttpResponse};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::db::Db;
use crate::error::AppError;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: String,
}

/// The service's metrics, shared by every worker.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    pool_connections: Gauge,
    pool_idle: Gauge,
    open_cases: Gauge,
    overdue_cases: Gauge,
    outbox: Family<StateLabels, Gauge>,
    last_reminder_run: Gauge,
    token: Option<String>,
}

impl Metrics {
    /// `token`: when set, scrapes must send it as a bearer token.
    pub fn new(token: Option<String>) -> Metrics {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register("http_requests", "HTTP requests answered, by route, method and status", requests.clone());
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.001, 2.0, 14))
        });
        registry.register("http_request_duration_seconds", "Time to answer, by route and method", latency.clone());
        let pool_connections = Gauge::default();
        registry.register(
            "db_pool_connections",
            "Database connections open in this instance's pool",
            pool_connections.clone(),
        );
        let pool_idle = Gauge::default();
        registry.register("db_pool_idle_connections", "Idle database connections in the pool", pool_idle.clone());
        let open_cases = Gauge::default();
        registry.register("foi_open_cases", "Requests not yet closed", open_cases.clone());
        let overdue_cases = Gauge::default();
        registry.register(
            "foi_overdue_cases",
            "Open requests past their final deadline (China date)",
            overdue_cases.clone(),
        );
        let outbox = Family::<StateLabels, Gauge>::default();
        registry.register("foi_reminder_outbox", "Deadline reminders by delivery state", outbox.clone());
        let last_reminder_run = Gauge::default();
        registry.register(
            "foi_reminder_last_run_timestamp_seconds",
            "When this instance last finished its daily reminder run (Unix time; 0: not yet)",
            last_reminder_run.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            pool_connections,
            pool_idle,
            open_cases,
            overdue_cases,
            outbox,
            last_reminder_run,
            token: token.filter(|t| !t.is_empty()),
        }
    }

    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let (method, route) = (method.to_owned(), route.to_owned());
        self.requests.get_or_create(&RequestLabels { method: method.clone(), route: route.clone(), status }).inc();
        self.latency.get_or_create(&RouteLabels { method, route }).observe(seconds);
    }
}

/// Middleware: counts and times every request under its route pattern.
pub async fn record(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let method = req.method().to_string();
    let started = Instant::now();
    let res = next.call(req).await?.map_into_boxed_body();
    if let Some(metrics) = metrics {
        let route = res.request().match_pattern().unwrap_or_else(|| "unmatched".to_owned());
        metrics.observe(&method, &route, res.status().as_u16(), started.elapsed().as_secs_f64());
    }
    Ok(res)
}

/// The metrics in the Prometheus text format.
pub async fn scrape(
    req: HttpRequest,
    metrics: web::Data<Metrics>,
    db: web::Data<Db>,
) -> Result<HttpResponse, AppError> {
    if let Some(token) = &metrics.token {
        let sent = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or("");
        if sent.strip_prefix("Bearer ").map(str::trim) != Some(token.as_str()) {
            return Err(AppError::Unauthorized("send Authorization: Bearer <metrics token>".into()));
        }
    }
    let (connections, idle) = db.pool_state();
    metrics.pool_connections.set(i64::from(connections));
    metrics.pool_idle.set(i64::from(idle));
    // The office gauges need the database; without it they keep their last values and the
    // HTTP and pool figures still answer.
    match db.run(crate::service::monitoring::office_gauges).await {
        Ok(g) => {
            metrics.open_cases.set(g.open_cases);
            metrics.overdue_cases.set(g.overdue_cases);
            for (state, n) in g.outbox {
                metrics.outbox.get_or_create(&StateLabels { state: state.to_string() }).set(n);
            }
            metrics.last_reminder_run.set(g.last_reminder_run);
        }
        Err(e) => tracing::warn!(error = %e, "metrics: office gauges unavailable"),
    }
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &metrics.registry).map_err(AppError::internal)?;
    Ok(HttpResponse::Ok().content_type("application/openmetrics-text; version=1.0.0; charset=utf-8").body(text))
}
