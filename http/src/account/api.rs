//! The JSON routes of the account: `GET`/`PATCH /v1/me`.

use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;

use crate::account::dto::MePatch;
use crate::dto::UserView;
use crate::error::{ApiResult, ErrorEnvelope};
use crate::extract::{Caller, Json};
use crate::openapi::handlers;
use crate::state::AppState;

/// Routes of this module.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    handlers![get_me, patch_me]
}

/// The current user.
#[utoipa::path(get, path = "/v1/me", tag = "account", security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = UserView), (status = 401, body = ErrorEnvelope)))]
async fn get_me(caller: Caller) -> axum::Json<UserView> {
    axum::Json(caller.user.into())
}

/// Change the current user's profile.
#[utoipa::path(patch, path = "/v1/me", tag = "account", security(("bearer" = []), ("cookie" = [])), request_body = MePatch,
    responses((status = 200, body = UserView), (status = 422, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope)))]
async fn patch_me(
    State(state): State<AppState>,
    caller: Caller,
    Json(req): Json<MePatch>,
) -> ApiResult<axum::Json<UserView>> {
    let patch = tessera_core::model::UserPatch {
        name: req.name,
        ..Default::default()
    };
    let user = state.tessera.users().update(caller.user.id, &patch).await?;
    Ok(axum::Json(user.into()))
}
