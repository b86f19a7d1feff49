//! Tessera over HTTP: the JSON API, hosted sign-in pages, the admin API and
//! operational endpoints, as one mountable `axum::Router`.
//!
//! `router(tessera)` is what the `tessera` binary (crate `tessera-cli`)
//! serves and what an existing axum app can nest
//! (`app.nest("/auth", tessera_http::router(t))`). The router holds no state
//! of its own beyond caches whose loss is harmless (rate-limit buckets), so
//! any number of instances can serve one store. It is a library only: no
//! storage driver, log subscriber or metrics exporter comes with it; the
//! runner picks those (see [`HttpOptions::metrics`]).
//!
//! One folder per capability (`passwords`, `sessions`, `account`, `email`,
//! `oauth`, `passkeys`, `mfa`, `admin`), each with its JSON routes
//! (`api.rs`), its hosted pages (`pages.rs`) and its wire shapes (`dto.rs`);
//! the hosted-page kit in `hosted`; shared plumbing in `extract`, `error`,
//! `state`, `security`, `limits`, `metrics`, `openapi`. The layout, and the
//! files a new capability adds, are in `docs/architecture.md`.
//!
//! Layers, outermost first: body limit → metrics → security headers and
//! error envelope → request timeout → read the whole body → per-app CORS →
//! routes.

mod account;
mod admin;
pub mod dto;
mod email;
pub mod error;
pub mod extract;
mod hosted;
pub mod limits;
mod metrics;
mod mfa;
mod oauth;
mod openapi;
mod ops;
mod passkeys;
mod passwords;
pub mod security;
mod sessions;
pub mod state;
mod webhooks;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use tessera_core::Tessera;
use tower_http::timeout::TimeoutLayer;
use utoipa_axum::router::OpenApiRouter;

pub use metrics::MetricsRenderer;
pub use state::{AppState, HttpOptions};

/// Every route and its OpenAPI document, before state is attached: one line
/// per capability.
fn routes() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(openapi::base())
        .merge(passwords::routes())
        .merge(sessions::routes())
        .merge(account::routes())
        .merge(email::routes())
        .merge(admin::routes())
        .merge(oauth::routes())
        .merge(hosted::routes())
        .merge(mfa::routes())
        .merge(passkeys::routes())
        .merge(webhooks::routes())
        .merge(ops::routes())
        .split_for_parts()
}

/// The OpenAPI 3.1 document of every route the router serves, with the
/// webhook event catalogue (`webhooks`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = openapi::complete(routes().1);
    doc.extensions = Some(webhooks::openapi_extensions());
    doc
}

/// The full router with default options.
pub fn router(tessera: Tessera) -> Router {
    router_with(tessera, HttpOptions::default())
}

/// The full router.
pub fn router_with(tessera: Tessera, options: HttpOptions) -> Router {
    let state = AppState {
        limits: Arc::new(limits::RateLimits::new(options.rate_limits)),
        options: Arc::new(options.clone()),
        tessera,
    };
    let (routes, _) = routes();
    routes
        .route(openapi::PATH, openapi::serve(openapi()))
        .fallback(|| async { error::envelope_for_status(StatusCode::NOT_FOUND) })
        .method_not_allowed_fallback(|| async {
            error::envelope_for_status(StatusCode::METHOD_NOT_ALLOWED)
        })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security::cors,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security::read_body,
        ))
        // Inside `harden`, so a timed-out request gets the envelope too.
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            options.request_timeout,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security::harden,
        ))
        .layer(axum::middleware::from_fn(crate::metrics::track))
        .layer(DefaultBodyLimit::max(options.body_limit))
        .with_state(state)
}
