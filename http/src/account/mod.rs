//! The signed-in user's account: their profile (JSON) and the hosted account
//! page, which links to the pages of the other capabilities (passkeys,
//! two-step verification). Password change is in `passwords/`, linked
//! identities in `oauth/`.

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
