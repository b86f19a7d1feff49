//! Response hardening, request bodies and CORS.
//!
//! Every answer carries security headers (CSP, `frame-ancestors 'none'`,
//! `nosniff`, `Referrer-Policy`, and HSTS when the base URL is https); a
//! JSON answer that sets no `Cache-Control` of its own gets `no-store`, since
//! JSON answers carry tokens or personal data (RFC 6749 §5.1; issue 15,
//! item 4); error answers produced by middleware get the JSON envelope. Request bodies are read in full before any handler runs
//! (see [`read_body`]). CORS is per app: a preflight is allowed when some app
//! lists the origin, and an actual request only when the addressed app does.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::envelope_for_status;
use crate::extract::APP_HEADER;
use crate::state::AppState;

/// Content-Security-Policy of every answer.
pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'";

/// `Strict-Transport-Security` of answers served under an https base URL.
pub const HSTS: &str = "max-age=31536000; includeSubDomains";

/// Add security headers, and turn bare error answers into the envelope.
pub async fn harden(State(state): State<AppState>, req: Request, next: Next) -> Response {
    // Two `Authorization` headers: which one counts is ambiguous (proxies
    // and the server could disagree), so the request is refused.
    let res = if req.headers().get_all(header::AUTHORIZATION).iter().count() > 1 {
        envelope_for_status(StatusCode::BAD_REQUEST)
    } else {
        next.run(req).await
    };
    let status = res.status();
    let bare_error = (status.is_client_error() || status.is_server_error())
        && !res.headers().contains_key(header::CONTENT_TYPE);
    let mut res = if bare_error {
        let mut r = envelope_for_status(status);
        for (k, v) in res.headers() {
            if k == header::RETRY_AFTER
                || k == header::ALLOW
                || k.as_str().starts_with("access-control-")
            {
                r.headers_mut().insert(k.clone(), v.clone());
            }
        }
        r
    } else {
        res
    };
    let h = res.headers_mut();
    h.insert("content-security-policy", HeaderValue::from_static(CSP));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    let json = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if json && !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if state.options.https() {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
    res
}

/// Read the whole request body (up to the body limit) before any handler
/// runs. A handler that answers before reading the body — an error found in
/// the headers or in the database first, such as every 503 while the
/// database is down — leaves bytes unread, and the server then closes the
/// connection without saying so: a client reusing it sees "server
/// disconnected" on its next request (issue 14). A body over the limit is
/// answered 413 at once.
pub async fn read_body(State(state): State<AppState>, req: Request, next: Next) -> Response {
    // A declared length over the limit is refused before waiting for a
    // byte of it (issue 15, item 6: not a 408 after the request timeout).
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > state.options.body_limit as u64) {
        return envelope_for_status(StatusCode::PAYLOAD_TOO_LARGE);
    }
    let (parts, body) = req.into_parts();
    match axum::body::to_bytes(body, state.options.body_limit).await {
        Ok(bytes) => {
            next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
                .await
        }
        // Over the limit, or the client went away mid-body (then nobody
        // reads this answer).
        Err(_) => envelope_for_status(StatusCode::PAYLOAD_TOO_LARGE),
    }
}

/// Whether the app `app_header` names (the default app if none) lists `origin`.
async fn origin_allowed(state: &AppState, origin: &str, app_header: Option<&str>) -> bool {
    state
        .tessera
        .apps()
        .resolve_or_default(app_header)
        .await
        .is_ok_and(|a| a.settings.cors_origins.iter().any(|o| o == origin))
}

/// Whether any app lists `origin` (a preflight does not say which app).
async fn origin_allowed_by_any_app(state: &AppState, origin: &str) -> bool {
    state.tessera.apps().list(None).await.is_ok_and(|all| {
        all.iter()
            .any(|a| a.settings.cors_origins.iter().any(|o| o == origin))
    })
}

fn allow_headers(h: &mut HeaderMap, origin: &HeaderValue) {
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
    h.insert(
        header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
        HeaderValue::from_static("true"),
    );
    h.append(header::VARY, HeaderValue::from_static("Origin"));
}

/// Per-app CORS. Preflights (`OPTIONS` with `Access-Control-Request-Method`)
/// are answered here; other requests get the allow headers when the app
/// (from `X-Tessera-App`, or the default app) lists the origin.
pub async fn cors(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(origin) = req.headers().get(header::ORIGIN).cloned() else {
        return next.run(req).await;
    };
    let origin_str = origin.to_str().unwrap_or_default().to_owned();
    let preflight = req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if preflight {
        if !origin_allowed_by_any_app(&state, &origin_str).await {
            return (
                StatusCode::FORBIDDEN,
                crate::error::ApiError(tessera_core::Error::with_message(
                    tessera_core::ErrorKind::Forbidden,
                    "This origin is not allowed by any app's CORS settings.",
                )),
            )
                .into_response();
        }
        let mut res = StatusCode::NO_CONTENT.into_response();
        let h = res.headers_mut();
        allow_headers(h, &origin);
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST, PATCH, PUT, DELETE"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("authorization, content-type, x-tessera-app"),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
        return res;
    }
    let app_header = req
        .headers()
        .get(APP_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let allowed = origin_allowed(&state, &origin_str, app_header.as_deref()).await;
    let mut res = next.run(req).await;
    if allowed {
        allow_headers(res.headers_mut(), &origin);
        res.headers_mut().insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("retry-after"),
        );
    }
    res
}
