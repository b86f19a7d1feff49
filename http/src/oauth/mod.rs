//! Sign-in through external OAuth 2.0 / OpenID Connect providers: the start
//! (JSON or hosted), the provider's callback (GET, or POST for Apple's
//! `form_post`), the code exchange, the caller's linked identities, and the
//! sign-in page's "Continue with …" buttons ([`provider_buttons`]).
//!
//! Route names follow `docs/contract.md`. Flow state lives in the store (see
//! `tessera_core::OAuth`); hosted and link flows are also bound to the
//! browser that started them by a short-lived `tessera_oauth` cookie holding
//! the `state`, checked at the callback (login CSRF, identity planting).
//! Providers reach the callback by top-level navigation, so the cookie is
//! `SameSite=Lax`, or `None` (with `Secure`) so that Apple's cross-site
//! `form_post` carries it too.

mod api;
mod dto;
mod flow;
mod pages;

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub(crate) use pages::{ProviderButton, provider_buttons};

/// Routes of this capability.
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(api::routes())
        .merge(pages::routes())
}
