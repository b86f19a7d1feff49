//! External identities ([`IdentityStore`]): a provider's subject linked to
//! a user.
//!
//! Atomic here (under the store's one mutex): one identity per (pool,
//! provider, subject); linking it again is `IdentityTaken`. Each change
//! writes its events with it.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tessera_core::model::*;
use tessera_core::store::IdentityStore;
use tessera_core::{Error, ErrorKind, Result};
use uuid::Uuid;

use crate::MemoryStore;
use crate::state::{State, not_found};

impl State {
    /// Whether `identity` may be inserted: its (pool, provider, subject) is
    /// free (`IdentityTaken`) and its id new (`Conflict`).
    pub(crate) fn check_identity_insert(&self, identity: &Identity) -> Result<()> {
        if self.identities.values().any(|i| {
            i.pool_id == identity.pool_id
                && i.provider == identity.provider
                && i.subject == identity.subject
        }) {
            return Err(Error::new(ErrorKind::IdentityTaken));
        }
        if self.identities.contains_key(&identity.id) {
            return Err(Error::new(ErrorKind::Conflict));
        }
        Ok(())
    }
}

#[async_trait]
impl IdentityStore for MemoryStore {
    async fn insert_identity(&self, identity: &Identity, events: &[NewEvent]) -> Result<()> {
        let mut s = self.lock();
        s.user_row(identity.user_id)?;
        s.check_identity_insert(identity)?;
        s.check_events(events)?;
        s.identities.insert(identity.id, identity.clone());
        s.write_events(events);
        Ok(())
    }

    async fn find_identity(
        &self,
        pool_id: PoolId,
        provider: &str,
        subject: &str,
    ) -> Result<Option<Identity>> {
        Ok(self
            .lock()
            .identities
            .values()
            .find(|i| i.pool_id == pool_id && i.provider == provider && i.subject == subject)
            .cloned())
    }

    async fn list_identities(&self, user_id: UserId) -> Result<Vec<Identity>> {
        let mut out: Vec<Identity> = self
            .lock()
            .identities
            .values()
            .filter(|i| i.user_id == user_id)
            .cloned()
            .collect();
        out.sort_by_key(|i| (i.created_at, i.id));
        Ok(out)
    }

    async fn touch_identity(
        &self,
        id: Uuid,
        profile: &serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut s = self.lock();
        let row = s.identities.get_mut(&id).ok_or_else(not_found)?;
        row.profile = profile.clone();
        row.last_used_at = Some(now);
        Ok(())
    }

    async fn delete_identity(
        &self,
        user_id: UserId,
        id: Uuid,
        events: &[NewEvent],
    ) -> Result<bool> {
        let mut s = self.lock();
        if s.identities.get(&id).is_some_and(|i| i.user_id == user_id) {
            s.check_events(events)?;
            s.identities.remove(&id);
            s.write_events(events);
            return Ok(true);
        }
        Ok(false)
    }
}
