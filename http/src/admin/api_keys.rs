//! `/v1/admin/api-keys…`: API keys (the secret is shown once, at creation).

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tessera_core::model::ApiKey;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use uuid::Uuid;

use crate::error::{ApiResult, ErrorEnvelope};
use crate::extract::{AdminKey, Json, Path};
use crate::openapi::handlers;
use crate::state::AppState;

/// Routes of this module.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    handlers![list_api_keys, create_api_key; revoke_api_key]
}

/// An API key (never its secret).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub(crate) struct ApiKeyView {
    /// Key id.
    pub(crate) id: Uuid,
    /// Label.
    pub(crate) name: String,
    /// First characters of the key.
    pub(crate) hint: String,
    /// Scopes.
    pub(crate) scopes: Vec<String>,
    /// Created.
    pub(crate) created_at: DateTime<Utc>,
    /// Last used.
    pub(crate) last_used_at: Option<DateTime<Utc>>,
    /// Expiry.
    pub(crate) expires_at: Option<DateTime<Utc>>,
    /// Revocation time.
    pub(crate) revoked_at: Option<DateTime<Utc>>,
}

impl From<ApiKey> for ApiKeyView {
    fn from(k: ApiKey) -> Self {
        ApiKeyView {
            id: k.id,
            name: k.name,
            hint: k.hint,
            scopes: k.scopes,
            created_at: k.created_at,
            last_used_at: k.last_used_at,
            expires_at: k.expires_at,
            revoked_at: k.revoked_at,
        }
    }
}

/// A list of API keys.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub(crate) struct ApiKeysView {
    /// Keys, oldest first.
    pub(crate) api_keys: Vec<ApiKeyView>,
}

/// `POST /v1/admin/api-keys`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ApiKeyCreate {
    /// Label.
    pub(crate) name: String,
    /// Scopes (default `["admin"]`).
    #[serde(default)]
    pub(crate) scopes: Option<Vec<String>>,
    /// Expiry.
    #[serde(default)]
    pub(crate) expires_at: Option<DateTime<Utc>>,
}

/// A new API key: the secret is shown here once.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub(crate) struct CreatedApiKeyView {
    /// The key.
    pub(crate) api_key: ApiKeyView,
    /// The secret (`tsk_…`). Store it now; it is never shown again.
    pub(crate) secret: String,
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
    responses((status = 204), (status = 404, body = ErrorEnvelope),
        (status = 409, description = "A key cannot revoke itself", body = ErrorEnvelope)))]
async fn revoke_api_key(
    State(state): State<AppState>,
    AdminKey(key): AdminKey,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    // Revoking the key of the request would lock the operator out (the
    // bootstrap key most of all: nothing else may exist yet).
    if key.id == id {
        return Err(tessera_core::Error::with_message(
            tessera_core::ErrorKind::Conflict,
            "A key cannot revoke itself: revoke it with another admin key.",
        )
        .into());
    }
    state.tessera.api_keys().revoke(id).await?;
    Ok(StatusCode::NO_CONTENT)
}
