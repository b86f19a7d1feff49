//! Passwords: create an account and sign in with email and password, change
//! the password (JSON), and the hosted sign-in and sign-up pages. Resetting a
//! forgotten password is an emailed flow: `email/`.

mod api;
mod dto;
mod pages;

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

/// Routes of this capability.
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(api::routes())
        .merge(pages::routes())
}
