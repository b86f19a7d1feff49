//! Operational routes: health, readiness, metrics, the JWKS and the OpenAPI
//! document.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;

use crate::error::{ApiResult, ErrorEnvelope};
use crate::openapi::handlers;
use crate::state::AppState;

/// Routes of this module (the OpenAPI route is added by the router, which owns the document).
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    handlers![healthz; readyz; metrics; jwks]
}

/// `GET /healthz`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub(crate) struct Health {
    /// `ok`.
    pub(crate) status: String,
    /// Server version.
    pub(crate) version: String,
}

/// Liveness and version.
#[utoipa::path(get, path = "/healthz", tag = "ops", responses((status = 200, body = Health)))]
async fn healthz() -> axum::Json<Health> {
    axum::Json(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
    })
}

/// Readiness: the store answers.
#[utoipa::path(get, path = "/readyz", tag = "ops",
    responses((status = 200, body = Health), (status = 503, body = ErrorEnvelope)))]
async fn readyz(State(state): State<AppState>) -> ApiResult<axum::Json<Health>> {
    state.tessera.store().ping().await?;
    Ok(axum::Json(Health {
        status: "ready".into(),
        version: env!("CARGO_PKG_VERSION").into(),
    }))
}

/// Prometheus metrics.
#[utoipa::path(get, path = "/metrics", tag = "ops",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
async fn metrics(State(state): State<AppState>) -> Response {
    match &state.options.metrics {
        Some(h) => (
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
            h.render(),
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "metrics recorder not installed").into_response(),
    }
}

/// The JSON Web Key Set that verifies access tokens.
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "ops",
    responses((status = 200, description = "JWKS", body = Object)))]
async fn jwks(State(state): State<AppState>) -> ApiResult<Response> {
    let jwks = state.tessera.tokens().jwks().await?;
    Ok((
        [(header::CACHE_CONTROL, "public, max-age=300")],
        axum::Json(jwks),
    )
        .into_response())
}
