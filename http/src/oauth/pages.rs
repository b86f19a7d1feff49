//! The hosted side of external sign-in: the sign-in page's "Continue with …"
//! buttons and the start they link to (`GET /sign-in/oauth/{provider}`).

use axum::extract::{Path, Request, State};
use axum::response::Response;
use tessera_core::model::App;
use utoipa_axum::router::OpenApiRouter;

use crate::hosted::{Page, PageParams};
use crate::oauth::dto::StartQuery;
use crate::oauth::flow::{do_start, error_page};
use crate::openapi::handlers;
use crate::state::AppState;

/// Routes of this module.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    handlers![hosted_start]
}

/// A "Continue with …" link on the hosted sign-in page.
#[derive(Debug, Clone)]
pub(crate) struct ProviderButton {
    /// Provider name.
    pub(crate) name: String,
    /// Button label.
    pub(crate) label: String,
    /// Relative link to the hosted start.
    pub(crate) href: String,
}

/// The buttons of `app`'s enabled providers (none if listing fails: the
/// page still works with the other methods).
pub(crate) async fn provider_buttons(
    state: &AppState,
    app: &App,
    p: &PageParams,
) -> Vec<ProviderButton> {
    let list = match state.tessera.oauth().enabled_providers(app).await {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!(error = %e, "could not list OAuth providers");
            return Vec::new();
        }
    };
    let q = PageParams {
        app: Some(app.slug.clone()),
        redirect_uri: p.redirect_uri.clone(),
    }
    .query();
    list.into_iter()
        .map(|v| ProviderButton {
            href: format!("sign-in/oauth/{}{q}", v.provider),
            name: v.provider,
            label: v.display_name,
        })
        .collect()
}

/// Hosted-page start (the sign-in page's provider buttons): 302 to the
/// provider; the callback ends with session cookies.
#[utoipa::path(get, path = "/sign-in/oauth/{provider}", tag = "pages",
    params(("provider" = String, Path, description = "Provider name"), PageParams),
    responses((status = 302, description = "To the provider"),
              (status = 400, description = "Unknown app or unregistered redirect URI", content_type = "text/html")))]
async fn hosted_start(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    page: Page,
    req: Request,
) -> Response {
    let q = StartQuery {
        app: Some(page.app.id.to_string()),
        redirect_uri: page.params.redirect_uri.clone(),
        ..Default::default()
    };
    match do_start(&state, &provider, q, true, req).await {
        Ok(r) => r,
        Err(e) => error_page(&page.app.name, &e),
    }
}
