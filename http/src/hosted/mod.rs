//! The hosted-page kit: what every server-rendered page uses, so that a page
//! handler says only what is particular to it.
//!
//! Every page takes `?app=` (id or slug; the default app otherwise) and
//! `?redirect_uri=`, which must be one of the app's registered URIs exactly;
//! anything else is refused with an error page before a form is shown
//! ([`Page`]). Forms carry a CSRF token (double submit: a random
//! `tessera_csrf` cookie, SameSite=Strict, echoed in a hidden field and
//! compared in constant time), checked before the handler runs
//! ([`PageForm`], [`PageJson`]). Every hosted sign-in ends in
//! [`finish_sign_in`]: session cookies and a redirect, or the MFA step. An
//! error shown on a page gets its status and `Retry-After` from
//! [`error_message`] / [`with_retry_after`]. Links and form actions are
//! relative, so the pages work when the router is nested under a prefix.
//!
//! The kit owns the layout templates (`templates/hosted/`: `base.html`,
//! `message.html`, `form.html`); each capability keeps its own pages in its
//! folder and its templates in `templates/<capability>/`. Files of the kit
//! import each other directly, never through this module, so that no file
//! depends on a file that depends on it (`tests/layout.rs`).

mod cookies;
mod csrf;
mod finish;
mod form;
mod page;
mod render;

use axum::http::header;
use axum::response::IntoResponse;
use utoipa_axum::router::OpenApiRouter;

use crate::openapi::handlers;
use crate::state::AppState;

pub(crate) use cookies::{MFA_COOKIE, clear_session_cookies, cookie, device_cookie, device_token};
pub(crate) use csrf::{CsrfField, csrf_forms};
pub(crate) use finish::{finish_sign_in, next_location, signed_in_jar};
pub(crate) use form::{Field, FormPage, Link};
pub(crate) use page::{Page, PageForm, PageJson, PageParams, PageQuery, signed_in_user};
pub(crate) use render::{error_message, html, message, server_error, with_retry_after};

/// Routes of the kit: the stylesheet every page links to.
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    handlers![stylesheet]
}

/// The stylesheet of the hosted pages.
#[utoipa::path(get, path = "/assets/tessera.css", tag = "pages",
    responses((status = 200, description = "Stylesheet", content_type = "text/css")))]
async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../assets/tessera.css"),
    )
}
