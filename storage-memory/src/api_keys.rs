//! Admin API keys ([`ApiKeyStore`]), stored by hash.
//!
//! Atomic here (under the store's one mutex): an id and a hash are unique
//! (`Conflict`), and revoking keeps the first revocation time.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tessera_core::crypto::TokenHash;
use tessera_core::model::*;
use tessera_core::store::ApiKeyStore;
use tessera_core::{Error, ErrorKind, Result};
use uuid::Uuid;

use crate::MemoryStore;
use crate::state::not_found;

#[async_trait]
impl ApiKeyStore for MemoryStore {
    async fn insert_api_key(&self, key: &ApiKey, events: &[NewEvent]) -> Result<()> {
        let mut s = self.lock();
        if s.api_keys.contains_key(&key.id) || s.api_keys.values().any(|k| k.hash == key.hash) {
            return Err(Error::new(ErrorKind::Conflict));
        }
        s.check_events(events)?;
        s.write_events(events);
        s.api_keys.insert(key.id, key.clone());
        Ok(())
    }

    async fn find_api_key(&self, hash: &TokenHash) -> Result<Option<ApiKey>> {
        Ok(self
            .lock()
            .api_keys
            .values()
            .find(|k| k.hash == *hash)
            .cloned())
    }

    async fn list_api_keys(&self) -> Result<Vec<ApiKey>> {
        let mut keys: Vec<ApiKey> = self.lock().api_keys.values().cloned().collect();
        keys.sort_by_key(|k| (k.created_at, k.id));
        Ok(keys)
    }

    async fn revoke_api_key(
        &self,
        id: Uuid,
        now: DateTime<Utc>,
        events: &[NewEvent],
    ) -> Result<()> {
        let mut s = self.lock();
        let revoked = s.api_keys.get(&id).ok_or_else(not_found)?.revoked_at;
        if revoked.is_none() {
            s.check_events(events)?;
            s.write_events(events);
            let k = s.api_keys.get_mut(&id).expect("read above");
            k.revoked_at = Some(now);
        }
        Ok(())
    }

    async fn touch_api_key(&self, id: Uuid, now: DateTime<Utc>) -> Result<()> {
        let mut s = self.lock();
        let k = s.api_keys.get_mut(&id).ok_or_else(not_found)?;
        k.last_used_at = Some(now);
        Ok(())
    }
}
