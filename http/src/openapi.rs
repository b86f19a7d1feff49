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
        (name = "webhooks", description = "Admin API (API key): webhook endpoints and their delivery log; event types in docs/events.md"),
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
    for (route, item) in doc.paths.paths.iter_mut() {
        let ops = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for op in ops.into_iter().flatten() {
            add_common_responses(route, op);
        }
    }
    doc
}

/// Add to `op` (at `route`) the error answers every operation of its kind
/// can give, unless it documents them itself (issue 15, item 8): done once
/// here, so a new route cannot forget them.
///
/// - JSON API (`/v1/…`): 400 (malformed request, two `Authorization`
///   headers) and 503 (store unavailable); with a body or query parameters,
///   422 (and 413 with a body); with a path parameter or `X-Tessera-App`,
///   404, and on admin routes also when the body or query names something
///   that does not exist (a pool, a user); with a security requirement, 401
///   (and 403 for admin keys without the scope). All with the envelope.
/// - Hosted pages: with query parameters, 400 (unreadable query string or
///   unregistered `redirect_uri`), and with `app`, 404 (unknown app), as
///   HTML pages (the envelope for the JSON routes pages' scripts call); a
///   form POST also answers 403 (CSRF or cross-site), 415 and 422 (form
///   unreadable) as HTML pages, and 413 with the envelope.
///
/// Found missing by schemathesis (`scripts/test.d/23-schemathesis.sh`).
fn add_common_responses(route: &str, op: &mut utoipa::openapi::path::Operation) {
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
    let envelope = |description: &str| {
        RefOr::T(
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ErrorEnvelope")))
                        .build(),
                )
                .build(),
        )
    };
    let page = |description: &str| {
        RefOr::T(
            ResponseBuilder::new()
                .description(description)
                .content("text/html", ContentBuilder::new().build())
                .build(),
        )
    };
    let params = op.parameters.as_deref().unwrap_or_default();
    let has_path_param = params
        .iter()
        .any(|p| matches!(p.parameter_in, utoipa::openapi::path::ParameterIn::Path));
    let names_app = params.iter().any(|p| p.name == "X-Tessera-App");
    let has_query = params
        .iter()
        .any(|p| matches!(p.parameter_in, utoipa::openapi::path::ParameterIn::Query));
    let page_app = has_query && params.iter().any(|p| p.name == "app");
    let has_body = op.request_body.is_some();
    let json_body = op
        .request_body
        .as_ref()
        .is_some_and(|b| b.content.contains_key("application/json"));
    let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
    let admin = route.starts_with("/v1/admin/");
    let responses = &mut op.responses.responses;
    let mut add = |code: &str, response: RefOr<utoipa::openapi::Response>| {
        responses.entry(code.to_owned()).or_insert(response);
    };
    if route.starts_with("/v1/") && route != PATH {
        add("400", envelope("Malformed request"));
        add("503", envelope("The store is unavailable"));
        if has_body {
            add("413", envelope("Body too large"));
        }
        if has_body || has_query {
            add("422", envelope("Invalid input"));
        }
        if has_path_param || names_app || admin && (has_body || has_query) {
            add("404", envelope("Not found (or unknown app)"));
        }
        if secured || admin {
            add("401", envelope("Not signed in, or an invalid key or token"));
        }
        if admin {
            add("403", envelope("The key lacks the scope"));
        }
    } else if json_body {
        // A hosted page's script calling its server: answers are JSON.
        add("400", envelope("Malformed request"));
        if page_app {
            add("404", envelope("Unknown app"));
        }
        add(
            "403",
            envelope("Page expired (CSRF) or sent from another site"),
        );
        add("413", envelope("Body too large"));
        add("422", envelope("Invalid input"));
    } else {
        if has_query {
            add(
                "400",
                page("Malformed query string, or an unregistered redirect URI"),
            );
        }
        if page_app {
            add("404", page("Unknown app"));
        }
    }
    if !route.starts_with("/v1/") && !json_body && has_body {
        add("403", page("Form expired (CSRF) or sent from another site"));
        add("413", envelope("Body too large"));
        add("415", page("Not a form"));
        add("422", page("The form could not be read"));
    }
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
