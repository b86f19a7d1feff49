//! The OpenAPI 3.1 document: its title, tags and security schemes; the
//! paths come from the handlers themselves (`utoipa_axum::routes!`), so a
//! route cannot be served without being documented. The document is pinned
//! by `tests/openapi.json`.

use axum::Json;
use axum::routing::MethodRouter;
use std::sync::Arc;
use utoipa::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};

use crate::extract::SESSION_COOKIE;
use crate::state::AppState;

/// A capability's routes: `handlers![a, b; c]` is an `OpenApiRouter` with
/// `routes!(a, b)` and `routes!(c)`, one group per path (the methods of one
/// path go together, as `utoipa_axum::routes!` wants them).
macro_rules! handlers {
    ($($($handler:ident),+);+ $(;)?) => {
        utoipa_axum::router::OpenApiRouter::new()
            $(.routes(utoipa_axum::routes!($($handler),+)))+
    };
}
pub(crate) use handlers;

/// The document before the routes are added.
pub(crate) fn base() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

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
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(SESSION_COOKIE))),
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

/// `doc` (the routes' document) with the route that serves it.
pub(crate) fn complete(mut doc: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
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
    doc.paths.paths.insert(PATH.into(), path);
    doc
}

/// Where the document is served.
pub(crate) const PATH: &str = "/v1/openapi.json";

/// The route serving `doc`.
pub(crate) fn serve(doc: utoipa::openapi::OpenApi) -> MethodRouter<AppState> {
    let doc = Arc::new(doc);
    axum::routing::get(move || {
        let doc = doc.clone();
        async move { Json(doc.as_ref().clone()) }
    })
}
