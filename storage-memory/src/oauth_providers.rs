//! OAuth provider settings per app ([`OAuthProviderStore`]).
//!
//! Atomic here (under the store's one mutex): a put replaces the whole
//! (app, name) row and keeps an existing row's `created_at`.

use async_trait::async_trait;
use tessera_core::Result;
use tessera_core::model::*;
use tessera_core::store::OAuthProviderStore;

use crate::MemoryStore;
use crate::state::not_found;

#[async_trait]
impl OAuthProviderStore for MemoryStore {
    async fn put_oauth_provider(
        &self,
        provider: &OAuthProviderRecord,
        events: &[NewEvent],
    ) -> Result<OAuthProviderRecord> {
        let mut s = self.lock();
        if !s.apps.contains_key(&provider.app_id) {
            return Err(not_found());
        }
        s.check_events(events)?;
        s.write_events(events);
        let key = (provider.app_id, provider.name.clone());
        let mut row = provider.clone();
        if let Some(old) = s.oauth_providers.get(&key) {
            row.created_at = old.created_at;
        }
        s.oauth_providers.insert(key, row.clone());
        Ok(row)
    }

    async fn find_oauth_provider(
        &self,
        app_id: AppId,
        name: &str,
    ) -> Result<Option<OAuthProviderRecord>> {
        Ok(self
            .lock()
            .oauth_providers
            .get(&(app_id, name.to_owned()))
            .cloned())
    }

    async fn list_oauth_providers(&self, app_id: AppId) -> Result<Vec<OAuthProviderRecord>> {
        // The map is ordered by (app, name): names come out sorted.
        Ok(self
            .lock()
            .oauth_providers
            .values()
            .filter(|p| p.app_id == app_id)
            .cloned()
            .collect())
    }

    async fn delete_oauth_provider(
        &self,
        app_id: AppId,
        name: &str,
        events: &[NewEvent],
    ) -> Result<bool> {
        let mut s = self.lock();
        let key = (app_id, name.to_owned());
        if !s.oauth_providers.contains_key(&key) {
            return Ok(false);
        }
        s.check_events(events)?;
        s.write_events(events);
        s.oauth_providers.remove(&key);
        Ok(true)
    }
}
