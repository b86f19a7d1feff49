//! The HTTP face of Tessera's one error type.
//!
//! [`ApiError`] wraps `tessera_core::Error`; [`status_of`] is the single place
//! an error kind becomes an HTTP status. Every error answer is the envelope
//! `{"error": {"code": "…", "message": "…"}}`, including framework rejections
//! (bad JSON, oversized bodies, unknown routes), so clients handle one shape.
//! Server errors say little to the caller; the detail goes to the log.

use axum::extract::rejection::{FormRejection, JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tessera_core::{Error, ErrorKind};
use utoipa::ToSchema;

/// An error answered with the JSON envelope.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError(e)
    }
}

impl From<ErrorKind> for ApiError {
    fn from(k: ErrorKind) -> Self {
        ApiError(Error::new(k))
    }
}

/// The error envelope.
#[derive(Debug, Serialize, serde::Deserialize, ToSchema)]
pub struct ErrorEnvelope {
    /// The error.
    pub error: ErrorBody,
}

/// The body of the error envelope.
#[derive(Debug, Serialize, serde::Deserialize, ToSchema)]
pub struct ErrorBody {
    /// Stable machine code, e.g. `invalid_credentials`.
    pub code: String,
    /// Human-readable message.
    pub message: String,
    /// The offending field, for `invalid_input`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// The HTTP status for an error kind (the one place this mapping lives).
///
/// No wildcard arm: a new [`ErrorKind`] does not compile until it has a status.
pub fn status_of(kind: &ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::BadRequest => StatusCode::BAD_REQUEST,
        ErrorKind::InvalidInput { .. }
        | ErrorKind::InvalidEmail
        | ErrorKind::WeakPassword
        | ErrorKind::InvalidWebhookUrl => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorKind::EmailTaken
        | ErrorKind::IdentityTaken
        | ErrorKind::Conflict
        | ErrorKind::AccountLinkRequired
        | ErrorKind::LastSignInMethod => StatusCode::CONFLICT,
        ErrorKind::ProviderError => StatusCode::BAD_GATEWAY,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::InvalidCredentials
        | ErrorKind::InvalidToken
        | ErrorKind::TokenExpired
        | ErrorKind::RefreshTokenReused
        | ErrorKind::SessionExpired
        | ErrorKind::Unauthenticated
        | ErrorKind::MfaRequired
        | ErrorKind::ReauthenticationRequired => StatusCode::UNAUTHORIZED,
        ErrorKind::UserDisabled
        | ErrorKind::EmailNotVerified
        | ErrorKind::Forbidden
        | ErrorKind::MethodDisabled => StatusCode::FORBIDDEN,
        ErrorKind::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        ErrorKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorKind::Storage => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Config | ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// Codes only the HTTP face answers, for failures no core operation has: a
/// known route called with the wrong method, a request over the time limit.
/// `(code, status, message)`; every other code is an [`ErrorKind`]'s.
pub const HTTP_ONLY_CODES: &[(&str, StatusCode, &str)] = &[
    (
        "method_not_allowed",
        StatusCode::METHOD_NOT_ALLOWED,
        "Method not allowed on this route.",
    ),
    (
        "timeout",
        StatusCode::REQUEST_TIMEOUT,
        "The request took too long.",
    ),
];

/// The envelope for a bare status (used for answers produced by middleware).
pub fn envelope_for_status(status: StatusCode) -> Response {
    if let Some(&(code, _, message)) = HTTP_ONLY_CODES.iter().find(|(_, s, _)| *s == status) {
        return body(status, code, message.to_owned(), None);
    }
    let (code, message) = match status {
        StatusCode::NOT_FOUND => ("not_found", "No such route."),
        StatusCode::PAYLOAD_TOO_LARGE => ("too_large", "The request body is too large."),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "bad_request",
            "Expected a JSON body (Content-Type: application/json).",
        ),
        StatusCode::TOO_MANY_REQUESTS => ("rate_limited", "Too many requests."),
        s if s.is_server_error() => ("internal_error", "Internal error."),
        _ => ("bad_request", "The request is malformed."),
    };
    body(status, code, message.to_owned(), None)
}

fn body(status: StatusCode, code: &str, message: String, field: Option<String>) -> Response {
    let envelope = ErrorEnvelope {
        error: ErrorBody {
            code: code.to_owned(),
            message,
            field,
        },
    };
    let mut res = (status, axum::Json(envelope)).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let e = self.0;
        let status = status_of(e.kind());
        if e.kind().is_server_error() {
            tracing::error!(error = %e, code = e.code(), "request failed");
        }
        let message = if e.kind().is_server_error() {
            e.kind().default_message().to_owned()
        } else {
            e.message().to_owned()
        };
        let field = match e.kind() {
            ErrorKind::InvalidInput { field } => Some((*field).to_owned()),
            _ => None,
        };
        let mut res = body(status, e.code(), message, field);
        set_retry_after(&mut res, &e);
        res
    }
}

/// Give `res` a `Retry-After` header when `e` is a rate limit: whole seconds,
/// rounded up, at least 1. The one place this header is set, for JSON
/// answers and hosted pages alike.
pub(crate) fn set_retry_after(res: &mut Response, e: &Error) {
    if let ErrorKind::RateLimited { retry_after } = e.kind() {
        let secs = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        let kind = match &r {
            JsonRejection::JsonDataError(_) => ErrorKind::InvalidInput { field: "body" },
            JsonRejection::BytesRejection(_) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                ErrorKind::TooLarge
            }
            _ => ErrorKind::BadRequest,
        };
        // The rejection text says what was wrong with the JSON (never a secret).
        ApiError(Error::with_message(kind, r.body_text()))
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError(Error::with_message(ErrorKind::BadRequest, r.body_text()))
    }
}

impl From<FormRejection> for ApiError {
    fn from(r: FormRejection) -> Self {
        let kind = match &r {
            FormRejection::FailedToDeserializeForm(_)
            | FormRejection::FailedToDeserializeFormBody(_) => {
                ErrorKind::InvalidInput { field: "body" }
            }
            _ if r.status() == StatusCode::PAYLOAD_TOO_LARGE => ErrorKind::TooLarge,
            // A wrong content type is a malformed request, as for JSON bodies.
            _ => ErrorKind::BadRequest,
        };
        ApiError(Error::with_message(kind, r.body_text()))
    }
}

impl From<PathRejection> for ApiError {
    fn from(_: PathRejection) -> Self {
        ApiError(Error::new(ErrorKind::NotFound))
    }
}

/// Results of handlers.
pub type ApiResult<T> = Result<T, ApiError>;
