//! The admin API under `/v1/admin`, authenticated by API keys (`tsk_…`) with
//! scopes: apps, users and their sessions, audit events, API keys.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;
use tessera_core::model::{AppSettings, AuditQuery, UserPatch, UserQuery};
use tessera_core::{Error, ErrorKind, NewApp};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::dto::*;
use crate::error::{ApiResult, ErrorEnvelope};
use crate::extract::{AdminKey, Json, Query};
use crate::state::AppState;

/// Routes of this module.
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_apps, create_app))
        .routes(routes!(get_app, patch_app, delete_app))
        .routes(routes!(list_users))
        .routes(routes!(get_user, patch_user, delete_user))
        .routes(routes!(list_user_sessions, revoke_user_sessions))
        .routes(routes!(list_audit))
        .routes(routes!(list_api_keys, create_api_key))
        .routes(routes!(revoke_api_key))
}

/// Merge a JSON object of settings over `base`, rejecting unknown fields.
fn merge_settings(
    base: &AppSettings,
    patch: &serde_json::Map<String, Value>,
) -> Result<AppSettings, Error> {
    let mut value = serde_json::to_value(base).map_err(Error::internal)?;
    let obj = value
        .as_object_mut()
        .expect("settings serialise to an object");
    for (k, v) in patch {
        if !obj.contains_key(k) {
            return Err(Error::with_message(
                ErrorKind::InvalidInput { field: "settings" },
                format!("unknown app setting {k:?}"),
            ));
        }
        obj.insert(k.clone(), v.clone());
    }
    serde_json::from_value(value).map_err(|e| {
        Error::with_message(ErrorKind::InvalidInput { field: "settings" }, e.to_string())
    })
}

fn settings_object(v: Option<Value>) -> Result<serde_json::Map<String, Value>, Error> {
    match v {
        None => Ok(Default::default()),
        Some(Value::Object(m)) => Ok(m),
        Some(_) => Err(Error::invalid("settings", "settings must be an object")),
    }
}

/// List apps.
#[utoipa::path(get, path = "/v1/admin/apps", tag = "admin", security(("api_key" = [])),
    responses((status = 200, body = AppsView), (status = 401, body = ErrorEnvelope)))]
async fn list_apps(
    State(state): State<AppState>,
    _key: AdminKey,
) -> ApiResult<axum::Json<AppsView>> {
    let apps = state.tessera.apps().list(None).await?;
    Ok(axum::Json(AppsView {
        apps: apps.into_iter().map(Into::into).collect(),
    }))
}

/// Create an app.
#[utoipa::path(post, path = "/v1/admin/apps", tag = "admin", security(("api_key" = [])), request_body = AppCreate,
    responses((status = 201, body = AppView), (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
async fn create_app(
    State(state): State<AppState>,
    _key: AdminKey,
    Json(req): Json<AppCreate>,
) -> ApiResult<(StatusCode, axum::Json<AppView>)> {
    let settings = merge_settings(&AppSettings::default(), &settings_object(req.settings)?)?;
    let app = state
        .tessera
        .apps()
        .create(NewApp {
            slug: req.slug,
            name: req.name,
            pool_id: req.pool_id,
            settings: Some(settings),
        })
        .await?;
    Ok((StatusCode::CREATED, axum::Json(app.into())))
}

/// Get an app by id or slug.
#[utoipa::path(get, path = "/v1/admin/apps/{app}", tag = "admin", security(("api_key" = [])),
    params(("app" = String, Path, description = "App id or slug")),
    responses((status = 200, body = AppView), (status = 404, body = ErrorEnvelope)))]
async fn get_app(
    State(state): State<AppState>,
    _key: AdminKey,
    Path(app): Path<String>,
) -> ApiResult<axum::Json<AppView>> {
    Ok(axum::Json(state.tessera.apps().resolve(&app).await?.into()))
}

/// Change an app: name, slug, and any settings (e.g. `redirect_uris`,
/// `cors_origins`, `sign_in_methods`), given at the top level or under `settings`.
#[utoipa::path(patch, path = "/v1/admin/apps/{app}", tag = "admin", security(("api_key" = [])),
    params(("app" = String, Path, description = "App id or slug")), request_body = AppPatch,
    responses((status = 200, body = AppView), (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
async fn patch_app(
    State(state): State<AppState>,
    _key: AdminKey,
    Path(app): Path<String>,
    Json(req): Json<AppPatch>,
) -> ApiResult<axum::Json<AppView>> {
    let current = state.tessera.apps().resolve(&app).await?;
    let mut changes = settings_object(req.settings)?;
    changes.extend(req.rest);
    let settings = if changes.is_empty() {
        None
    } else {
        Some(merge_settings(&current.settings, &changes)?)
    };
    let app = state
        .tessera
        .apps()
        .update(current.id, req.name, req.slug, settings)
        .await?;
    Ok(axum::Json(app.into()))
}

/// Delete an app (not the default one) and its sessions.
#[utoipa::path(delete, path = "/v1/admin/apps/{app}", tag = "admin", security(("api_key" = [])),
    params(("app" = String, Path, description = "App id or slug")),
    responses((status = 204), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
async fn delete_app(
    State(state): State<AppState>,
    _key: AdminKey,
    Path(app): Path<String>,
) -> ApiResult<StatusCode> {
    let app = state.tessera.apps().resolve(&app).await?;
    state.tessera.apps().delete(app.id).await?;
    Ok(StatusCode::NO_CONTENT)
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

/// Filters of the audit log.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct AuditParams {
    /// Only this user's events.
    user: Option<Uuid>,
    /// Only this app's events (id or slug).
    app: Option<String>,
    /// Only events of this type.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    kind: Option<String>,
    /// Only events at or after this time (RFC 3339).
    since: Option<DateTime<Utc>>,
    /// Only events before this time (RFC 3339).
    until: Option<DateTime<Utc>>,
    /// Cursor from the previous page.
    cursor: Option<Uuid>,
    /// Page size (default 100, at most 1000).
    limit: Option<u32>,
}

/// Audit events, newest first.
#[utoipa::path(get, path = "/v1/admin/audit", tag = "admin", security(("api_key" = [])), params(AuditParams),
    responses((status = 200, body = AuditPage), (status = 401, body = ErrorEnvelope)))]
async fn list_audit(
    State(state): State<AppState>,
    _key: AdminKey,
    Query(p): Query<AuditParams>,
) -> ApiResult<axum::Json<AuditPage>> {
    let app_id = match p.app {
        Some(a) => Some(state.tessera.apps().resolve(&a).await?.id),
        None => None,
    };
    let limit = p.limit.unwrap_or(100).clamp(1, 1000);
    let events = state
        .tessera
        .audit()
        .list(&AuditQuery {
            user_id: p.user,
            app_id,
            pool_id: None,
            kind: p.kind,
            since: p.since,
            until: p.until,
            before: p.cursor,
            limit,
        })
        .await?;
    let next_cursor = (events.len() == limit as usize)
        .then(|| events.last().map(|e| e.id.to_string()))
        .flatten();
    Ok(axum::Json(AuditPage {
        events: events.into_iter().map(Into::into).collect(),
        next_cursor,
    }))
}

/// List API keys (never their secrets).
#[utoipa::path(get, path = "/v1/admin/api-keys", tag = "admin", security(("api_key" = [])),
    responses((status = 200, body = ApiKeysView), (status = 401, body = ErrorEnvelope)))]
async fn list_api_keys(
    State(state): State<AppState>,
    _key: AdminKey,
) -> ApiResult<axum::Json<ApiKeysView>> {
    let keys = state.tessera.api_keys().list().await?;
    Ok(axum::Json(ApiKeysView {
        api_keys: keys.into_iter().map(Into::into).collect(),
    }))
}

/// Create an API key; the secret is in this answer only.
#[utoipa::path(post, path = "/v1/admin/api-keys", tag = "admin", security(("api_key" = [])), request_body = ApiKeyCreate,
    responses((status = 201, body = CreatedApiKeyView), (status = 422, body = ErrorEnvelope)))]
async fn create_api_key(
    State(state): State<AppState>,
    _key: AdminKey,
    Json(req): Json<ApiKeyCreate>,
) -> ApiResult<(StatusCode, axum::Json<CreatedApiKeyView>)> {
    let scopes = req
        .scopes
        .unwrap_or_else(|| vec![tessera_core::SCOPE_ADMIN.to_owned()]);
    let created = state
        .tessera
        .api_keys()
        .create(&req.name, &scopes, req.expires_at)
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(CreatedApiKeyView {
            api_key: created.key.into(),
            secret: created.secret,
        }),
    ))
}

/// Revoke an API key.
#[utoipa::path(delete, path = "/v1/admin/api-keys/{id}", tag = "admin", security(("api_key" = [])),
    params(("id" = Uuid, Path, description = "Key id")),
    responses((status = 204), (status = 404, body = ErrorEnvelope)))]
async fn revoke_api_key(
    State(state): State<AppState>,
    _key: AdminKey,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    state.tessera.api_keys().revoke(id).await?;
    Ok(StatusCode::NO_CONTENT)
}
