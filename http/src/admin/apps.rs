//! `/v1/admin/apps…`: apps and their settings (redirect URIs, CORS origins,
//! sign-in methods, …).

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tessera_core::model::{App, AppSettings};
use tessera_core::{Error, ErrorKind, NewApp};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use uuid::Uuid;

use crate::error::{ApiResult, ErrorEnvelope};
use crate::extract::{AdminKey, Json, Path};
use crate::openapi::handlers;
use crate::state::AppState;

/// Routes of this module.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    handlers![list_apps, create_app; get_app, patch_app, delete_app]
}

/// An app.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub(crate) struct AppView {
    /// App id (OAuth `client_id`, JWT `aud`).
    pub(crate) id: Uuid,
    /// Pool id.
    pub(crate) pool_id: Uuid,
    /// Slug.
    pub(crate) slug: String,
    /// Name.
    pub(crate) name: String,
    /// Settings.
    #[schema(value_type = Object)]
    pub(crate) settings: AppSettings,
    /// Created.
    pub(crate) created_at: DateTime<Utc>,
    /// Last changed.
    pub(crate) updated_at: DateTime<Utc>,
}

impl From<App> for AppView {
    fn from(a: App) -> Self {
        AppView {
            id: a.id,
            pool_id: a.pool_id,
            slug: a.slug,
            name: a.name,
            settings: a.settings,
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}

/// A list of apps.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub(crate) struct AppsView {
    /// Apps, oldest first.
    pub(crate) apps: Vec<AppView>,
}

/// `POST /v1/admin/apps`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AppCreate {
    /// Unique slug.
    pub(crate) slug: String,
    /// Display name.
    pub(crate) name: String,
    /// Pool (default: the default pool).
    #[serde(default)]
    pub(crate) pool_id: Option<Uuid>,
    /// Settings (merged over the defaults).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub(crate) settings: Option<Value>,
}

/// `PATCH /v1/admin/apps/{app}`: a name, a slug, and/or any settings fields
/// (given at the top level or under `settings`), merged over the current ones.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct AppPatch {
    /// New name.
    #[serde(default)]
    pub(crate) name: Option<String>,
    /// New slug.
    #[serde(default)]
    pub(crate) slug: Option<String>,
    /// Settings to change.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub(crate) settings: Option<Value>,
    /// Settings fields given at the top level, e.g. `redirect_uris`.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub(crate) rest: serde_json::Map<String, Value>,
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
