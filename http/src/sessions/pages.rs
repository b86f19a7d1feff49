//! The hosted sign-out (`POST /sign-out`, the account page's button).

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;

use crate::extract::SESSION_COOKIE;
use crate::hosted::{PageForm, PageParams, clear_session_cookies, csrf_forms, server_error};
use crate::openapi::handlers;
use crate::state::AppState;

/// Routes of this module.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    handlers![sign_out_submit]
}

/// The sign-out form.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct SignOutForm {
    csrf: String,
}

csrf_forms!(SignOutForm);

/// Sign out from the hosted pages.
#[utoipa::path(post, path = "/sign-out", tag = "pages", params(PageParams),
    request_body(content = SignOutForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 303, description = "Signed out: to the redirect URI or the sign-in page"),
              (status = 403, description = "CSRF check failed", content_type = "text/html")))]
async fn sign_out_submit(
    State(state): State<AppState>,
    PageForm { page, .. }: PageForm<SignOutForm>,
) -> Response {
    let sessions = state.tessera.sessions();
    if let Some(token) = page.jar.get(SESSION_COOKIE).map(|c| c.value().to_owned())
        && let Ok((session, user)) = sessions.validate(&token).await
        && let Err(e) = sessions.revoke(user.id, session.id, "sign_out").await
    {
        return server_error(e);
    }
    let p = &page.params;
    let mut res = match &p.redirect_uri {
        Some(uri) => Redirect::to(uri).into_response(),
        None => Redirect::to(&p.href("sign-in")).into_response(),
    };
    clear_session_cookies(&state, res.headers_mut());
    res
}
