//! Second factors: TOTP enrolment and removal, recovery codes, the caller's
//! MFA status and the MFA step of a sign-in (JSON); the hosted MFA step
//! (with forced enrolment when the app requires a second factor) and the
//! two-step verification settings page. The step shows the passkey
//! capability's button when a passkey may answer it.

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
