//! The axum extractor: [`TesseraUser`] (feature `axum`).
//!
//! The extractor finds the [`Verifier`] in the router state through
//! [`FromRef`], so the state may be the verifier itself or any struct with a
//! `FromRef` impl for it. A refused request gets 401 with Tessera's JSON error
//! envelope; when the JWKS cannot be fetched, 503 — our failure, not the
//! caller's.

use axum::extract::{FromRef, FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::{Claims, Error, ErrorKind, Verifier, token_from_headers};

/// The verified claims of the request's access token (`Authorization:
/// Bearer …`, else the `tessera_at` cookie).
///
/// ```no_run
/// use axum::{Router, routing::get};
/// use tessera_sdk::{TesseraUser, Verifier};
///
/// async fn me(TesseraUser(claims): TesseraUser) -> String {
///     format!("hello {}", claims.sub)
/// }
///
/// let verifier = Verifier::new("https://auth.example.com", "APP_ID");
/// let app: Router = Router::new().route("/me", get(me)).with_state(verifier);
/// ```
///
/// `Option<TesseraUser>` extracts `None` for a missing or refused token
/// instead of rejecting.
#[derive(Debug, Clone)]
pub struct TesseraUser(pub Claims);

/// The rejection of [`TesseraUser`]: 401 (or 503 when the JWKS is
/// unavailable) with the body `{"error": {"code": "…", "message": "…"}}`.
#[derive(Debug)]
pub struct Rejection(pub Error);

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        let (status, code, message) = if self.0.kind().is_unauthenticated() {
            let message = match self.0.kind() {
                ErrorKind::MissingToken => "missing access token".to_owned(),
                kind => format!("invalid access token: {kind}"),
            };
            (StatusCode::UNAUTHORIZED, "unauthenticated", message)
        } else {
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "cannot verify tokens now".to_owned(),
            )
        };
        let body = serde_json::json!({"error": {"code": code, "message": message}}).to_string();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl<S> FromRequestParts<S> for TesseraUser
where
    Verifier: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let verifier = Verifier::from_ref(state);
        let token = token_from_headers(&parts.headers)
            .ok_or_else(|| Rejection(Error::new(ErrorKind::MissingToken, "")))?;
        verifier.verify(token).await.map(Self).map_err(Rejection)
    }
}

impl<S> OptionalFromRequestParts<S> for TesseraUser
where
    Verifier: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Rejection;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        match <Self as FromRequestParts<S>>::from_request_parts(parts, state).await {
            Ok(user) => Ok(Some(user)),
            Err(Rejection(e)) if e.kind().is_unauthenticated() => Ok(None),
            Err(rejection) => Err(rejection),
        }
    }
}
