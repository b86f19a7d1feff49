//! Webhooks over HTTP: the admin API that manages endpoints and their
//! delivery log under `/v1/admin/webhooks` (`docs/contract.md`, "Admin
//! API"). Delivery itself is the core's worker, which `tessera serve` runs;
//! the event types are in `docs/events.md` and, for client generators, in
//! the OpenAPI document's `webhooks` map (`catalogue.rs`).

mod api;
mod catalogue;
mod dto;

pub(crate) use catalogue::openapi_extensions;

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

/// Routes of this capability.
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    api::routes()
}
