//! Pools and apps ([`AppStore`]).
//!
//! Atomic here, as everywhere in this crate, by the one mutex held for the
//! whole call: a slug is unique among pools and among apps (`Conflict`), an
//! app needs its pool (`NotFound`), and deleting an app removes its
//! sessions, OAuth provider settings and webhook endpoints (with their
//! deliveries) in the same step. Each change writes its events with it.

use async_trait::async_trait;
use tessera_core::model::*;
use tessera_core::store::AppStore;
use tessera_core::{Error, ErrorKind, Result};

use crate::MemoryStore;
use crate::state::not_found;

#[async_trait]
impl AppStore for MemoryStore {
    async fn create_pool(&self, pool: &Pool, events: &[NewEvent]) -> Result<()> {
        let mut s = self.lock();
        if s.pools.contains_key(&pool.id) || s.pools.values().any(|p| p.slug == pool.slug) {
            return Err(Error::new(ErrorKind::Conflict));
        }
        s.check_events(events)?;
        s.pools.insert(pool.id, pool.clone());
        s.write_events(events);
        Ok(())
    }

    async fn get_pool(&self, id: PoolId) -> Result<Pool> {
        self.lock().pools.get(&id).cloned().ok_or_else(not_found)
    }

    async fn find_pool_by_slug(&self, slug: &str) -> Result<Option<Pool>> {
        Ok(self.lock().pools.values().find(|p| p.slug == slug).cloned())
    }

    async fn list_pools(&self) -> Result<Vec<Pool>> {
        let mut pools: Vec<Pool> = self.lock().pools.values().cloned().collect();
        pools.sort_by_key(|p| (p.created_at, p.id));
        Ok(pools)
    }

    async fn create_app(&self, app: &App, events: &[NewEvent]) -> Result<()> {
        let mut s = self.lock();
        if !s.pools.contains_key(&app.pool_id) {
            return Err(not_found());
        }
        if s.apps.contains_key(&app.id) || s.apps.values().any(|a| a.slug == app.slug) {
            return Err(Error::new(ErrorKind::Conflict));
        }
        s.check_events(events)?;
        s.apps.insert(app.id, app.clone());
        s.write_events(events);
        Ok(())
    }

    async fn get_app(&self, id: AppId) -> Result<App> {
        self.lock().apps.get(&id).cloned().ok_or_else(not_found)
    }

    async fn find_app_by_slug(&self, slug: &str) -> Result<Option<App>> {
        Ok(self.lock().apps.values().find(|a| a.slug == slug).cloned())
    }

    async fn list_apps(&self, pool_id: Option<PoolId>) -> Result<Vec<App>> {
        let mut apps: Vec<App> = self
            .lock()
            .apps
            .values()
            .filter(|a| pool_id.is_none_or(|p| a.pool_id == p))
            .cloned()
            .collect();
        apps.sort_by_key(|a| (a.created_at, a.id));
        Ok(apps)
    }

    async fn update_app(&self, app: &App, events: &[NewEvent]) -> Result<()> {
        let mut s = self.lock();
        if !s.apps.contains_key(&app.id) {
            return Err(not_found());
        }
        if s.apps
            .values()
            .any(|a| a.slug == app.slug && a.id != app.id)
        {
            return Err(Error::new(ErrorKind::Conflict));
        }
        s.check_events(events)?;
        s.write_events(events);
        let row = s.apps.get_mut(&app.id).expect("checked above");
        row.slug = app.slug.clone();
        row.name = app.name.clone();
        row.settings = app.settings.clone();
        row.updated_at = app.updated_at;
        Ok(())
    }

    async fn delete_app(&self, id: AppId, events: &[NewEvent]) -> Result<()> {
        let mut s = self.lock();
        if !s.apps.contains_key(&id) {
            return Err(not_found());
        }
        s.check_events(events)?;
        s.apps.remove(&id);
        s.remove_sessions(|x| x.app_id == id);
        s.oauth_providers.retain(|(app, _), _| *app != id);
        let endpoints: Vec<_> = s
            .webhook_endpoints
            .values()
            .filter(|e| e.app_id == Some(id))
            .map(|e| e.id)
            .collect();
        for e in endpoints {
            s.remove_webhook_endpoint(e);
        }
        s.write_events(events);
        Ok(())
    }
}
