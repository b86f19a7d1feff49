//! Sessions: refresh, the caller's session and sessions, revoking them and
//! signing out (JSON), and the hosted sign-out.

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
