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
//! Layers, outermost first: body limit → metrics → security headers and
//! error envelope → request timeout → read the whole body → per-app CORS →
//! routes.

mod admin;
mod admin_oauth;
mod api;
pub mod dto;
mod email;
mod email_pages;
pub mod error;
pub mod extract;
pub mod limits;
mod metrics;
mod mfa;
mod mfa_pages;
mod oauth;
mod ops;
mod pages;
mod passkey_pages;
mod passkeys;
pub mod state;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use tessera_core::Tessera;
use tower_http::timeout::TimeoutLayer;
use utoipa::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;

pub use metrics::MetricsRenderer;
pub use state::{AppState, HttpOptions};

#[derive(OpenApi)]
#[openapi(
    info(title = "Tessera", description = "Self-hostable user authentication: JSON API, admin API and hosted pages."),
    tags(
        (name = "sign-in", description = "Create accounts and sign in"),
        (name = "sessions", description = "Sessions, refresh and sign-out"),
        (name = "account", description = "The signed-in user"),
        (name = "email", description = "Email verification, password reset, codes, magic links, email change"),
        (name = "passkeys", description = "WebAuthn passkeys: registration, sign-in, second factor, management"),
        (name = "admin", description = "Admin API (API key)"),
        (name = "pages", description = "Hosted pages (HTML)"),
        (name = "ops", description = "Health, metrics, keys")),
    modifiers(&Security))]
struct ApiDoc;

struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        components.add_security_scheme(
            "cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(extract::SESSION_COOKIE))),
        );
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("tsk_…")
                    .build(),
            ),
        );
    }
}

/// The router and its OpenAPI document, before state is attached.
fn routes() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(api::routes())
        .merge(email::routes())
        .merge(email_pages::routes())
        .merge(admin::routes())
        .merge(admin_oauth::routes())
        .merge(oauth::routes())
        .merge(pages::routes())
        .merge(mfa::routes())
        .merge(mfa_pages::routes())
        .merge(passkeys::routes())
        .merge(passkey_pages::routes())
        .merge(ops::routes())
        .split_for_parts();
    (router, doc)
}

/// The OpenAPI 3.1 document of every route the router serves.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = routes().1;
    let mut path = utoipa::openapi::path::PathItem::new(
        utoipa::openapi::HttpMethod::Get,
        utoipa::openapi::path::OperationBuilder::new()
            .summary(Some("This OpenAPI document"))
            .tag("ops")
            .response(
                "200",
                utoipa::openapi::ResponseBuilder::new().description("OpenAPI 3.1 JSON"),
            ),
    );
    path.summary = None;
    doc.paths.paths.insert("/v1/openapi.json".into(), path);
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
    let doc = Arc::new(openapi());
    let (routes, _) = routes();
    routes
        .route(
            "/v1/openapi.json",
            axum::routing::get(move || {
                let doc = doc.clone();
                async move { axum::Json(doc.as_ref().clone()) }
            }),
        )
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
        .layer(axum::middleware::from_fn(security::harden))
        .layer(axum::middleware::from_fn(crate::metrics::track))
        .layer(DefaultBodyLimit::max(options.body_limit))
        .with_state(state)
}

pub mod security;
