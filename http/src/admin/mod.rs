//! The admin API under `/v1/admin`, authenticated by API keys (`tsk_…`) with
//! scopes (see `crate::extract::AdminKey`): one file per resource. A new
//! resource is a new file here and one line below.

mod api_keys;
mod apps;
mod audit;
mod oauth_providers;
mod users;

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

/// Routes of the admin API.
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(apps::routes())
        .merge(users::routes())
        .merge(audit::routes())
        .merge(api_keys::routes())
        .merge(oauth_providers::routes())
}
