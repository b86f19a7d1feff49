//! Admin API keys.

use chrono::{DateTime, Utc};
use tessera_core::model::ApiKey;
use tessera_core::{CreatedApiKey, Result, Tessera};
use uuid::Uuid;

/// Create a key with `scopes`; its secret is in the answer only.
pub async fn create(
    core: &Tessera,
    name: &str,
    scopes: &[String],
    expires_at: Option<DateTime<Utc>>,
) -> Result<CreatedApiKey> {
    core.api_keys().create(name, scopes, expires_at).await
}

/// The live key for `secret`, checked to carry `scope` (or `admin`).
pub async fn authenticate(core: &Tessera, secret: &str, scope: &str) -> Result<ApiKey> {
    core.api_keys().authenticate(secret, scope).await
}

/// All keys (without secrets), oldest first.
pub async fn list(core: &Tessera) -> Result<Vec<ApiKey>> {
    core.api_keys().list().await
}

/// Revoke a key (idempotent).
pub async fn revoke(core: &Tessera, key: Uuid) -> Result<()> {
    core.api_keys().revoke(key).await
}
