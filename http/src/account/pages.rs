//! The signed-in account page (`/account`), where a hosted sign-in lands
//! without a redirect URI.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;

use crate::hosted::{Page, PageParams, html, signed_in_user};
use crate::openapi::handlers;
use crate::state::AppState;

/// Routes of this module.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    handlers![account_page]
}

#[derive(Template)]
#[template(path = "account/account.html")]
struct AccountPage<'a> {
    app_name: &'a str,
    email: &'a str,
    name: Option<&'a str>,
    sign_out_action: String,
    csrf: &'a str,
    passkeys_href: String,
    security_href: String,
}

/// The signed-in account page (where sign-in lands without a redirect URI).
#[utoipa::path(get, path = "/account", tag = "pages", params(PageParams),
    responses((status = 200, description = "Account page", content_type = "text/html"),
              (status = 303, description = "Not signed in: to the sign-in page")))]
async fn account_page(State(state): State<AppState>, page: Page) -> Response {
    let user = match signed_in_user(&state, &page).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let p = &page.params;
    let res = html(
        StatusCode::OK,
        &AccountPage {
            app_name: &page.app.name,
            email: &user.email,
            name: user.name.as_deref(),
            sign_out_action: p.href("sign-out"),
            csrf: &page.csrf,
            passkeys_href: p.href("passkeys"),
            security_href: p.href("account-security"),
        },
    );
    (page.jar, res).into_response()
}
