//! `/v1/admin/users…`: users, paged and searched, and their sessions.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tessera_core::Error;
use tessera_core::model::{UserPatch, UserQuery};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use uuid::Uuid;

use crate::dto::{RevokedView, SessionView, SessionsView, UserView};
use crate::error::{ApiResult, ErrorEnvelope};
use crate::extract::{AdminKey, Json, Path, Query};
use crate::openapi::handlers;
use crate::state::AppState;

/// Routes of this module.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    handlers![
        list_users; get_user, patch_user, delete_user; list_user_sessions, revoke_user_sessions
    ]
}

/// A page of users.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub(crate) struct UsersPage {
    /// Users, in id order.
    pub(crate) users: Vec<UserView>,
    /// Cursor for the next page, or null at the end.
    pub(crate) next_cursor: Option<String>,
}

/// `PATCH /v1/admin/users/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AdminUserPatch {
    /// New email.
    #[serde(default)]
    pub(crate) email: Option<String>,
    /// Verified flag.
    #[serde(default)]
    pub(crate) email_verified: Option<bool>,
    /// Name (`null` clears).
    #[serde(default, with = "crate::dto::double_option")]
    #[schema(value_type = Option<String>)]
    pub(crate) name: Option<Option<String>>,
    /// Metadata (replaces).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub(crate) metadata: Option<Value>,
    /// Disable (revokes sessions) or enable.
    #[serde(default)]
    pub(crate) disabled: Option<bool>,
}

/// Filters of the user list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct UserListParams {
    /// Only users whose email contains this text.
    email: Option<String>,
    /// Cursor from the previous page.
    cursor: Option<String>,
    /// Page size (default 50, at most 1000).
    limit: Option<u32>,
    /// Pool (default: the default pool).
    pool: Option<Uuid>,
}

/// List users, paged, optionally searched by email.
#[utoipa::path(get, path = "/v1/admin/users", tag = "admin", security(("api_key" = [])), params(UserListParams),
    responses((status = 200, body = UsersPage), (status = 401, body = ErrorEnvelope)))]
async fn list_users(
    State(state): State<AppState>,
    _key: AdminKey,
    Query(p): Query<UserListParams>,
) -> ApiResult<axum::Json<UsersPage>> {
    let pool = match p.pool {
        Some(id) => id,
        None => state.tessera.apps().default_pool().await?.id,
    };
    let after = match p.cursor.as_deref().filter(|c| !c.is_empty()) {
        Some(c) => Some(
            c.parse::<Uuid>()
                .map_err(|_| Error::invalid("cursor", "invalid cursor"))?,
        ),
        None => None,
    };
    let limit = p.limit.unwrap_or(50).clamp(1, 1000);
    let users = state
        .tessera
        .users()
        .list(
            pool,
            &UserQuery {
                email_contains: p.email,
                after,
                limit,
            },
        )
        .await?;
    let next_cursor = (users.len() == limit as usize)
        .then(|| users.last().map(|u| u.id.to_string()))
        .flatten();
    Ok(axum::Json(UsersPage {
        users: users.into_iter().map(Into::into).collect(),
        next_cursor,
    }))
}

/// Get a user.
#[utoipa::path(get, path = "/v1/admin/users/{id}", tag = "admin", security(("api_key" = [])),
    params(("id" = Uuid, Path, description = "User id")),
    responses((status = 200, body = UserView), (status = 404, body = ErrorEnvelope)))]
async fn get_user(
    State(state): State<AppState>,
    _key: AdminKey,
    Path(id): Path<Uuid>,
) -> ApiResult<axum::Json<UserView>> {
    Ok(axum::Json(state.tessera.users().get(id).await?.into()))
}

/// Update a user (email, verified flag, name, metadata, disabled).
#[utoipa::path(patch, path = "/v1/admin/users/{id}", tag = "admin", security(("api_key" = [])),
    params(("id" = Uuid, Path, description = "User id")), request_body = AdminUserPatch,
    responses((status = 200, body = UserView), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
async fn patch_user(
    State(state): State<AppState>,
    _key: AdminKey,
    Path(id): Path<Uuid>,
    Json(req): Json<AdminUserPatch>,
) -> ApiResult<axum::Json<UserView>> {
    let patch = UserPatch {
        email: req.email,
        email_verified: req.email_verified,
        name: req.name,
        metadata: req.metadata,
        disabled: req.disabled,
    };
    Ok(axum::Json(
        state.tessera.users().update(id, &patch).await?.into(),
    ))
}

/// Delete a user and everything keyed to them.
#[utoipa::path(delete, path = "/v1/admin/users/{id}", tag = "admin", security(("api_key" = [])),
    params(("id" = Uuid, Path, description = "User id")),
    responses((status = 204), (status = 404, body = ErrorEnvelope)))]
async fn delete_user(
    State(state): State<AppState>,
    _key: AdminKey,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    state.tessera.users().delete(id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A user's live sessions.
#[utoipa::path(get, path = "/v1/admin/users/{id}/sessions", tag = "admin", security(("api_key" = [])),
    params(("id" = Uuid, Path, description = "User id")),
    responses((status = 200, body = SessionsView), (status = 404, body = ErrorEnvelope)))]
async fn list_user_sessions(
    State(state): State<AppState>,
    _key: AdminKey,
    Path(id): Path<Uuid>,
) -> ApiResult<axum::Json<SessionsView>> {
    state.tessera.users().get(id).await?;
    let sessions = state.tessera.sessions().list(id).await?;
    Ok(axum::Json(SessionsView {
        sessions: sessions
            .into_iter()
            .map(|s| SessionView::new(s, None))
            .collect(),
    }))
}

/// Revoke all of a user's sessions.
#[utoipa::path(delete, path = "/v1/admin/users/{id}/sessions", tag = "admin", security(("api_key" = [])),
    params(("id" = Uuid, Path, description = "User id")),
    responses((status = 200, body = RevokedView), (status = 404, body = ErrorEnvelope)))]
async fn revoke_user_sessions(
    State(state): State<AppState>,
    _key: AdminKey,
    Path(id): Path<Uuid>,
) -> ApiResult<axum::Json<RevokedView>> {
    state.tessera.users().get(id).await?;
    let revoked = state
        .tessera
        .sessions()
        .revoke_all(id, None, "revoked_by_admin")
        .await?;
    Ok(axum::Json(RevokedView { revoked }))
}
