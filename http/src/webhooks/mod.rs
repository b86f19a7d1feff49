//! Webhooks over HTTP: the admin API that manages endpoints and their
//! delivery log under `/v1/admin/webhooks` (`docs/contract.md`, "Admin
//! API"). Delivery itself is the core's worker, which `tessera serve` runs;
//! the event types are in `docs/events.md`.

mod api;
mod dto;

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

/// Routes of this capability.
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    api::routes()
}
