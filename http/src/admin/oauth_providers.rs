//! The admin API of an app's external sign-in providers:
//! `/v1/admin/apps/{app}/oauth-providers[/{provider}]` (API key with
//! `apps:read` / `apps:write`). Answers never carry the client secret, only
//! `client_secret_set`.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use tessera_core::{ProviderInput, ProviderView};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;

use crate::error::{ApiResult, ErrorEnvelope};
use crate::extract::{AdminKey, Json, Path};
use crate::openapi::handlers;
use crate::state::AppState;

/// Routes of this module.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    handlers![list_providers; get_provider, put_provider, delete_provider]
}

/// A configured provider (never the secret).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "provider": "okta", "kind": "oidc", "client_id": "0oa1", "client_secret_set": true,
    "enabled": true, "display_name": "Okta", "issuer": "https://example.okta.com",
    "callback_url": "https://auth.example.com/v1/sign-in/oauth/okta/callback",
    "created_at": "2026-11-22T10:00:00Z", "updated_at": "2026-11-22T10:00:00Z"}))]
pub(crate) struct ProviderDoc {
    /// Name within the app.
    provider: String,
    /// `google`, `apple`, `microsoft`, `github`, `kakao`, `naver`, `oidc` or `oauth2`.
    kind: String,
    /// OAuth client id.
    client_id: String,
    /// Whether a client secret is stored.
    client_secret_set: bool,
    /// Whether the provider is offered.
    enabled: bool,
    /// Button label.
    display_name: String,
    /// The redirect URI to register at the provider.
    callback_url: String,
}

// Documentation only: the handler reads the core's `ProviderInput`, which
// cannot derive `ToSchema` (the core does not depend on utoipa). The test
// below keeps the two field lists equal. (A plain comment: the doc comment is
// the schema's description in the pinned OpenAPI document.)
/// The body of a PUT (see docs/contract.md section 5; unknown fields are refused).
#[derive(Debug, ToSchema)]
#[schema(example = json!({
    "kind": "oidc", "client_id": "0oa1", "client_secret": "…",
    "issuer": "https://example.okta.com", "scopes": ["openid", "email", "profile"]}))]
#[expect(
    dead_code,
    reason = "schema-only mirror of tessera_core::ProviderInput for the OpenAPI document"
)]
pub(crate) struct ProviderBody {
    /// `google`, `apple`, `microsoft`, `github`, `kakao`, `naver`, `oidc` or `oauth2`.
    kind: String,
    /// OAuth client id.
    client_id: String,
    /// Client secret (Apple: the .p8 private key PEM); omitted on update = kept.
    client_secret: Option<String>,
    /// OIDC issuer (discovery).
    issuer: Option<String>,
    /// Explicit endpoints (oauth2; overrides for the others).
    authorization_endpoint: Option<String>,
    /// Token endpoint.
    token_endpoint: Option<String>,
    /// User info endpoint.
    userinfo_endpoint: Option<String>,
    /// Scopes (preset default otherwise).
    scopes: Option<Vec<String>>,
    /// oauth2: dotted paths `{id, email?, email_verified?, name?}`.
    claims: Option<serde_json::Value>,
    /// Button label.
    display_name: Option<String>,
    /// Default true.
    enabled: Option<bool>,
    /// Apple team id.
    team_id: Option<String>,
    /// Apple key id.
    key_id: Option<String>,
    /// Microsoft tenant (default `common`).
    tenant: Option<String>,
    /// `client_secret_basic` (default) or `client_secret_post` (oidc, oauth2).
    token_endpoint_auth: Option<String>,
}

/// The providers of an app.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ProvidersView {
    /// By name.
    #[schema(value_type = Vec<ProviderDoc>)]
    providers: Vec<ProviderView>,
}

/// List an app's OAuth providers.
#[utoipa::path(get, path = "/v1/admin/apps/{app}/oauth-providers", tag = "admin", security(("api_key" = [])),
    params(("app" = String, Path, description = "App id or slug")),
    responses((status = 200, body = ProvidersView), (status = 404, body = ErrorEnvelope)))]
async fn list_providers(
    State(state): State<AppState>,
    _key: AdminKey,
    Path(app): Path<String>,
) -> ApiResult<axum::Json<ProvidersView>> {
    let app = state.tessera.apps().resolve(&app).await?;
    let providers = state.tessera.oauth().list_providers(&app).await?;
    Ok(axum::Json(ProvidersView { providers }))
}

/// One OAuth provider of an app.
#[utoipa::path(get, path = "/v1/admin/apps/{app}/oauth-providers/{provider}", tag = "admin", security(("api_key" = [])),
    params(("app" = String, Path, description = "App id or slug"), ("provider" = String, Path, description = "Provider name")),
    responses((status = 200, body = ProviderDoc), (status = 404, body = ErrorEnvelope)))]
async fn get_provider(
    State(state): State<AppState>,
    _key: AdminKey,
    Path((app, provider)): Path<(String, String)>,
) -> ApiResult<axum::Json<ProviderView>> {
    let app = state.tessera.apps().resolve(&app).await?;
    Ok(axum::Json(
        state.tessera.oauth().get_provider(&app, &provider).await?,
    ))
}

/// Configure (create or replace) an OAuth provider of an app.
#[utoipa::path(put, path = "/v1/admin/apps/{app}/oauth-providers/{provider}", tag = "admin", security(("api_key" = [])),
    params(("app" = String, Path, description = "App id or slug"), ("provider" = String, Path, description = "Provider name: 1-64 of a-z 0-9 - _")),
    request_body = ProviderBody,
    responses((status = 200, body = ProviderDoc), (status = 404, body = ErrorEnvelope),
              (status = 422, description = "Unknown kind, missing setting, non-https URL", body = ErrorEnvelope)))]
async fn put_provider(
    State(state): State<AppState>,
    _key: AdminKey,
    Path((app, provider)): Path<(String, String)>,
    Json(body): Json<ProviderInput>,
) -> ApiResult<axum::Json<ProviderView>> {
    let app = state.tessera.apps().resolve(&app).await?;
    Ok(axum::Json(
        state
            .tessera
            .oauth()
            .put_provider(&app, &provider, &body)
            .await?,
    ))
}

/// Remove an OAuth provider of an app (linked identities stay).
#[utoipa::path(delete, path = "/v1/admin/apps/{app}/oauth-providers/{provider}", tag = "admin", security(("api_key" = [])),
    params(("app" = String, Path, description = "App id or slug"), ("provider" = String, Path, description = "Provider name")),
    responses((status = 204, description = "Removed"), (status = 404, body = ErrorEnvelope)))]
async fn delete_provider(
    State(state): State<AppState>,
    _key: AdminKey,
    Path((app, provider)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let app = state.tessera.apps().resolve(&app).await?;
    state
        .tessera
        .oauth()
        .delete_provider(&app, &provider)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use utoipa::PartialSchema;

    use super::*;

    /// The documented PUT body has exactly the fields `ProviderInput` reads
    /// (it refuses unknown fields and names the ones it expects).
    #[test]
    fn provider_body_documents_every_input_field() {
        let schema = serde_json::to_value(ProviderBody::schema()).unwrap();
        let documented: BTreeSet<String> = schema["properties"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        let refusal = serde_json::from_value::<ProviderInput>(serde_json::json!({"zz": 1}))
            .err()
            .unwrap()
            .to_string();
        let expected = refusal
            .split_once("expected one of ")
            .unwrap_or_else(|| panic!("{refusal}"))
            .1;
        let accepted: BTreeSet<String> = expected
            .split(", ")
            .map(|f| f.trim_matches(|c: char| c == '`' || c.is_whitespace()))
            .map(|f| f.split('`').next().unwrap().to_owned())
            .collect();
        assert_eq!(documented, accepted);
    }
}
