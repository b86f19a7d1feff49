//! Apps and pools.

use tessera_core::model::{App, AppSettings, Pool};
use tessera_core::{NewApp, Result, Tessera};
use uuid::Uuid;

/// The id of `app` (id or slug) as a token audience, when one is named.
///
/// Errors: `not_found`.
pub async fn audience(core: &Tessera, app: Option<&str>) -> Result<Option<String>> {
    Ok(match app {
        Some(a) => Some(core.apps().resolve(a).await?.id.to_string()),
        None => None,
    })
}

/// The `default` app.
pub async fn default_app(core: &Tessera) -> Result<App> {
    core.apps().default_app().await
}

/// An app by id or slug.
pub async fn get(core: &Tessera, app: &str) -> Result<App> {
    core.apps().resolve(app).await
}

/// All apps (or one pool's), oldest first.
pub async fn list(core: &Tessera, pool: Option<Uuid>) -> Result<Vec<App>> {
    core.apps().list(pool).await
}

/// Create an app.
pub async fn create(core: &Tessera, new: NewApp) -> Result<App> {
    core.apps().create(new).await
}

/// Change an app (id or slug): its name, slug, and the settings `settings`
/// makes of the current ones (`None` keeps them).
pub async fn update(
    core: &Tessera,
    app: &str,
    name: Option<String>,
    slug: Option<String>,
    settings: impl FnOnce(&AppSettings) -> Result<Option<AppSettings>>,
) -> Result<App> {
    let current = core.apps().resolve(app).await?;
    let settings = settings(&current.settings)?;
    core.apps().update(current.id, name, slug, settings).await
}

/// Delete an app (id or slug) and its sessions.
pub async fn delete(core: &Tessera, app: &str) -> Result<()> {
    let app = core.apps().resolve(app).await?;
    core.apps().delete(app.id).await
}

/// All pools, oldest first.
pub async fn list_pools(core: &Tessera) -> Result<Vec<Pool>> {
    core.apps().list_pools().await
}

/// Create a pool.
pub async fn create_pool(core: &Tessera, slug: &str, name: &str) -> Result<Pool> {
    core.apps().create_pool(slug, name).await
}
