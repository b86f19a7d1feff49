//! The email flows: password reset, address verification, sign-in with an
//! emailed code or link, and address change. JSON routes and hosted pages.
//!
//! Every "send" answers the same whether or not the address has an account,
//! and in the same time ([`send::send_after_answer`]); mail leaves through the
//! outbox, never during the request.

mod api;
mod dto;
mod pages;
mod send;

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

/// Routes of this capability.
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(api::routes())
        .merge(pages::routes())
}
