//! RFC 9457 problem details: every 4xx and 5xx this service sends is `application/problem+json`.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::ServiceResponse;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::validation::FieldError;
use crate::error::AppError;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// What a 503 tells a client to wait before retrying, in seconds.
pub const RETRY_AFTER_SECONDS: &str = "5";

/// An error response (RFC 9457).
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// Stable machine-readable kind, e.g. `urn:foi-tracker:problem:validation`.
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    /// What went wrong, for people.
    pub detail: String,
    /// For validation problems: each bad field with its JSON path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
    /// For an illegal transition: the case's current state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_state: Option<String>,
    /// For an illegal transition: the actions possible in the current state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_actions: Option<Vec<String>>,
}

impl Problem {
    fn response(&self) -> HttpResponse {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut builder = HttpResponse::build(status);
        builder.content_type(PROBLEM_JSON);
        if status == StatusCode::UNAUTHORIZED {
            builder.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            // The pool reconnects within seconds of the database's return.
            builder.insert_header((header::RETRY_AFTER, RETRY_AFTER_SECONDS));
        }
        builder.body(serde_json::to_string(self).unwrap_or_default())
    }
}

impl From<&AppError> for Problem {
    fn from(e: &AppError) -> Self {
        let info = e.kind_info();
        let (detail, errors) = match e {
            AppError::Validation(errors) => {
                let summary =
                    errors.iter().map(|f| format!("{}: {}", f.path, f.message)).collect::<Vec<_>>().join("; ");
                (summary, Some(errors.clone()))
            }
            // Internal details go to the log only.
            AppError::Internal(_) => {
                ("An unexpected error occurred; it has been logged with this request's id.".to_owned(), None)
            }
            AppError::Unavailable(_) => (
                "The database cannot serve requests at the moment (unreachable, busy, full or read-only); \
                 try again shortly."
                    .to_owned(),
                None,
            ),
            other => (other.to_string(), None),
        };
        let (current_state, allowed_actions) = match e {
            AppError::IllegalTransition(t) => {
                (Some(t.state.as_str().to_owned()), Some(t.allowed.iter().map(|a| a.as_str().to_owned()).collect()))
            }
            _ => (None, None),
        };
        Problem {
            type_: AppError::type_uri(info.slug),
            title: info.title.to_owned(),
            status: info.status,
            detail,
            errors,
            current_state,
            allowed_actions,
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.kind_info().status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            AppError::Internal(detail) => tracing::error!(error = %detail, "internal error"),
            AppError::Unavailable(detail) => {
                tracing::warn!(error = %detail, "database unavailable")
            }
            _ => {}
        }
        let mut response = Problem::from(self).response();
        if let AppError::TooManyRequests { retry_after_seconds, .. } = self {
            if let Ok(value) = HeaderValue::from_str(&retry_after_seconds.max(&1).to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
        }
        response
    }
}

/// The problem for an error status that some layer below produced without a problem body
/// (unknown route, wrong method, oversized body, ...).
fn problem_for_status(status: StatusCode) -> AppError {
    match status.as_u16() {
        404 => AppError::NotFound("No such resource. The API lives under /api/v1; see /api/v1/openapi.json.".into()),
        405 => {
            AppError::MethodNotAllowed("This resource does not support that method; see /api/v1/openapi.json.".into())
        }
        413 => {
            AppError::PayloadTooLarge("The request body exceeds the configured limit (server.max_body_bytes).".into())
        }
        415 => AppError::UnsupportedMediaType("Send JSON with Content-Type: application/json.".into()),
        401 => AppError::Unauthorized("Send Authorization: Bearer <token>.".into()),
        403 => AppError::Forbidden("Not allowed.".into()),
        429 => AppError::TooManyRequests { detail: "Too many requests; slow down.".into(), retry_after_seconds: 1 },
        s if s >= 500 => AppError::Internal(format!("status {s} without a problem body")),
        _ => AppError::BadRequest(status.canonical_reason().unwrap_or("Bad request").to_owned() + "."),
    }
}

/// Middleware hook (ErrorHandlers::default_handler): rewrites any error response that is not yet
/// a problem into one, keeping its status.
pub fn ensure_problem<B: MessageBody + 'static>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    // Problems pass as they are, and so do the console's HTML error pages (`crate::console`).
    let content_type = res.headers().get(header::CONTENT_TYPE).map(|v| v.as_bytes());
    let is_problem =
        content_type.is_some_and(|v| v.starts_with(PROBLEM_JSON.as_bytes()) || v.starts_with(b"text/html"));
    if is_problem {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let error = problem_for_status(status);
    let mut problem = Problem::from(&error);
    problem.status = status.as_u16();
    if status.is_server_error() {
        tracing::error!(status = status.as_u16(), "error response without a problem body");
    }
    let (req, _) = res.into_parts();
    let mut response: HttpResponse<BoxBody> = problem.response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(ErrorHandlerResponse::Response(ServiceResponse::new(req, response).map_into_right_body()))
}

/// The problem responses every operation of a kind can give, declared once for the API document
/// instead of on every path: 401 and 429 for an operation that needs a token, 400/413/415/422 for one that
/// reads a JSON body, 500 and 503 for all. A path documents these itself only to say something more
/// specific (e.g. which fields its 422 checks); its own declaration is kept.
pub struct CommonProblems;

impl utoipa::Modify for CommonProblems {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
                &mut item.head,
                &mut item.options,
                &mut item.trace,
            ];
            for operation in operations.into_iter().flatten() {
                let mut common = Vec::new();
                if operation.security.as_ref().is_some_and(|s| !s.is_empty()) {
                    common.push(("401", "No or unknown token"));
                    common.push(("429", "Too many failed authentications from this address (see Retry-After)"));
                }
                if operation.request_body.is_some() {
                    common.extend([
                        ("400", "Malformed JSON"),
                        ("413", "Body too large"),
                        ("415", "Not JSON"),
                        ("422", "Invalid fields"),
                    ]);
                }
                common.extend([("500", "Internal error"), ("503", "The database is unreachable")]);
                for (status, description) in common {
                    operation.responses.responses.entry(status.to_owned()).or_insert_with(|| problem(description));
                }
            }
        }
    }
}

fn problem(description: &str) -> utoipa::openapi::RefOr<utoipa::openapi::Response> {
    use utoipa::openapi::{Content, Ref, ResponseBuilder};
    ResponseBuilder::new()
        .description(description)
        .content(PROBLEM_JSON, Content::new(Some(Ref::from_schema_name("Problem"))))
        .build()
        .into()
}
