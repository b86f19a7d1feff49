//! Passkeys (WebAuthn): registration for the signed-in caller, sign-in
//! (discoverable or for an email), completing an MFA challenge with a
//! passkey, list / rename / delete (JSON); the management page, the hosted
//! sign-in and MFA finishes, and the one script they use. The sign-in page
//! and the MFA step show this capability's buttons ([`SignInButton`],
//! [`MfaButton`]).

mod api;
mod dto;
mod pages;

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub(crate) use pages::{MfaButton, SignInButton};

/// Routes of this capability.
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(api::routes())
        .merge(pages::routes())
}
