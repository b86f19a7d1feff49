//! Apps and pools: the `App` and `Pool` classes and their methods.

use tessera_bindings_common::apps;
use tessera_core::model;

use crate::convert::{Id, Json};
use crate::{AsyncTessera, Tessera};

crate::record! {
    /// An application that signs users in from one pool.
    pub(crate) struct App(model::App) repr(id, slug) {
        /// Unique id; also the OAuth `client_id` and the JWT `aud`.
        id,
        /// The pool whose users sign in to this app.
        pool_id,
        /// Unique, URL-safe name (`default` for the first app).
        slug,
        /// Display name.
        name,
        /// Settings, as a dict (the HTTP API's `settings` document).
        settings as json,
        /// When it was created.
        created_at,
        /// When it was last changed.
        updated_at,
    }
}

crate::record! {
    /// A set of users; apps in one pool share them.
    pub(crate) struct Pool(model::Pool) repr(id, slug) {
        /// Unique id.
        id,
        /// Unique, URL-safe name.
        slug,
        /// Display name.
        name,
        /// When it was created.
        created_at,
    }
}

/// App settings given as a dict.
fn settings(value: serde_json::Value) -> tessera_core::Result<model::AppSettings> {
    serde_json::from_value(value)
        .map_err(|e| tessera_core::Error::invalid("settings", e.to_string()))
}

crate::methods! {
    /// The `default` app.
    fn default_app()
        []
        |core| apps::default_app(core);
    /// An app by id or slug.
    fn get_app(app: String)
        [app]
        |core| apps::get(core, &app);
    /// All apps (or one pool's), oldest first.
    fn list_apps(pool_id: Option<Id>)
        [*, pool_id = None]
        |core| apps::list(core, pool_id.map(|p| p.0));
    /// Create an app; `settings` is a dict of app settings (defaults for the rest).
    fn create_app(slug: String, name: String, settings: Option<Json>, pool_id: Option<Id>)
        [slug, name, *, settings = None, pool_id = None]
        |core| async move {
            let settings = settings.map(|s| self::settings(s.0)).transpose()?;
            let pool_id = pool_id.map(|p| p.0);
            apps::create(core, tessera_core::NewApp { slug, name, pool_id, settings }).await
        };
    /// Change an app's name, slug or settings (merged into the current ones).
    fn update_app(app: String, name: Option<String>, slug: Option<String>, settings: Option<Json>)
        [app, *, name = None, slug = None, settings = None]
        |core| apps::update(core, &app, name, slug, |current| {
            // Settings are merged key by key into the current ones.
            match settings {
                None => Ok(None),
                Some(Json(serde_json::Value::Object(changes))) => {
                    let mut merged = serde_json::to_value(current).map_err(tessera_core::Error::internal)?;
                    if let serde_json::Value::Object(m) = &mut merged {
                        m.extend(changes);
                    }
                    self::settings(merged).map(Some)
                }
                Some(_) => Err(tessera_core::Error::invalid("settings", "settings must be a dict")),
            }
        });
    /// Delete an app and its sessions (not the `default` app).
    fn delete_app(app: String)
        [app]
        |core| apps::delete(core, &app);
    /// All pools, oldest first.
    fn list_pools()
        []
        |core| apps::list_pools(core);
    /// Create a pool (a separate set of users).
    fn create_pool(slug: String, name: String)
        [slug, name]
        |core| apps::create_pool(core, &slug, &name);
}
