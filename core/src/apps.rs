//! Pools and apps: the tenancy of an install.
//!
//! Every install has a `default` pool and a `default` app (made by
//! [`crate::TesseraBuilder::build`]), so embedding needs no setup. Apps are
//! addressed by id or slug.

use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::audit::{EventKind, Subject};
use crate::model::{App, AppId, AppSettings, DEFAULT_SLUG, NewEvent, Pool, PoolId};
use crate::validate::{check_label, check_slug};
use crate::{Audit, Error, ErrorKind, Inner, Result, new_id};

/// What is needed to create an app.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewApp {
    /// Unique slug.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// The pool (default: the `default` pool).
    #[serde(default)]
    pub pool_id: Option<PoolId>,
    /// Settings (default: safe defaults).
    #[serde(default)]
    pub settings: Option<AppSettings>,
}

/// Pools and apps; see [`crate::Tessera::apps`].
pub struct Apps<'a> {
    inner: &'a Inner,
}

impl<'a> Apps<'a> {
    pub(crate) fn new(inner: &'a Inner) -> Self {
        Apps { inner }
    }

    /// The `default` app.
    pub async fn default_app(&self) -> Result<App> {
        self.resolve(DEFAULT_SLUG).await
    }

    /// The `default` pool.
    pub async fn default_pool(&self) -> Result<Pool> {
        self.inner
            .store
            .apps()
            .find_pool_by_slug(DEFAULT_SLUG)
            .await?
            .ok_or_else(|| Error::internal("the default pool is missing"))
    }

    /// An app by id or slug (`not_found` if neither matches).
    pub async fn resolve(&self, id_or_slug: &str) -> Result<App> {
        let store = self.inner.store.apps();
        if let Ok(id) = id_or_slug.parse::<Uuid>() {
            return store.get_app(id).await;
        }
        if check_slug(id_or_slug).is_err() {
            return Err(Error::new(ErrorKind::NotFound));
        }
        store
            .find_app_by_slug(id_or_slug)
            .await?
            .ok_or_else(|| Error::new(ErrorKind::NotFound))
    }

    /// The app `id_or_slug` names, or the `default` app when none is named:
    /// what every face does with an optional app argument (an `app` query
    /// parameter, the `X-Tessera-App` header, a binding's `app=`).
    pub async fn resolve_or_default(&self, id_or_slug: Option<&str>) -> Result<App> {
        match id_or_slug {
            Some(id_or_slug) => self.resolve(id_or_slug).await,
            None => self.default_app().await,
        }
    }

    /// An app by id.
    pub async fn get(&self, id: AppId) -> Result<App> {
        self.inner.store.apps().get_app(id).await
    }

    /// All apps, or those of one pool, oldest first.
    pub async fn list(&self, pool: Option<PoolId>) -> Result<Vec<App>> {
        self.inner.store.apps().list_apps(pool).await
    }

    /// Create an app. `conflict` if the slug is taken.
    pub async fn create(&self, new: NewApp) -> Result<App> {
        check_slug(&new.slug)?;
        check_label("name", &new.name)?;
        let settings = new.settings.unwrap_or_default();
        settings.validate()?;
        let pool_id = match new.pool_id {
            Some(p) => self.inner.store.apps().get_pool(p).await?.id,
            None => self.default_pool().await?.id,
        };
        let now = self.inner.now();
        let app = App {
            id: new_id(now),
            pool_id,
            slug: new.slug,
            name: new.name,
            settings,
            created_at: now,
            updated_at: now,
        };
        self.inner
            .store
            .apps()
            .create_app(&app, &[self.event(&app, "created")])
            .await?;
        Ok(app)
    }

    /// Change an app's name, slug or settings (the `default` app keeps its slug).
    pub async fn update(
        &self,
        id: AppId,
        name: Option<String>,
        slug: Option<String>,
        settings: Option<AppSettings>,
    ) -> Result<App> {
        let mut app = self.get(id).await?;
        if let Some(name) = name {
            check_label("name", &name)?;
            app.name = name;
        }
        if let Some(slug) = slug {
            check_slug(&slug)?;
            if app.slug == DEFAULT_SLUG && slug != DEFAULT_SLUG {
                return Err(Error::invalid("slug", "the default app keeps its slug"));
            }
            app.slug = slug;
        }
        if let Some(settings) = settings {
            settings.validate()?;
            app.settings = settings;
        }
        app.updated_at = self.inner.now();
        self.inner
            .store
            .apps()
            .update_app(&app, &[self.event(&app, "updated")])
            .await?;
        Ok(app)
    }

    /// Delete an app and its sessions. The `default` app cannot be deleted.
    pub async fn delete(&self, id: AppId) -> Result<()> {
        let app = self.get(id).await?;
        if app.slug == DEFAULT_SLUG {
            return Err(Error::with_message(
                ErrorKind::Forbidden,
                "the default app cannot be deleted",
            ));
        }
        self.inner
            .store
            .apps()
            .delete_app(id, &[self.event(&app, "deleted")])
            .await
    }

    /// Create a pool (a separate set of users).
    pub async fn create_pool(&self, slug: &str, name: &str) -> Result<Pool> {
        check_slug(slug)?;
        check_label("name", name)?;
        let now = self.inner.now();
        let pool = Pool {
            id: new_id(now),
            slug: slug.to_owned(),
            name: name.to_owned(),
            created_at: now,
        };
        let event = Audit::new(self.inner).event(
            EventKind::PoolCreated,
            Subject::default(),
            json!({ "pool_id": pool.id, "slug": pool.slug }),
        );
        self.inner.store.apps().create_pool(&pool, &[event]).await?;
        Ok(pool)
    }

    /// All pools, oldest first.
    pub async fn list_pools(&self) -> Result<Vec<Pool>> {
        self.inner.store.apps().list_pools().await
    }

    fn event(&self, app: &App, action: &str) -> NewEvent {
        Audit::new(self.inner).event(
            EventKind::AppChanged,
            Subject {
                app: Some(app),
                ..Default::default()
            },
            json!({ "action": action, "slug": app.slug }),
        )
    }
}
