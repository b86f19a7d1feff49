//! Token signing keys ([`KeyStore`]), their private halves sealed.
//!
//! Atomic here (under the store's one mutex): at most one active key; the
//! first insert wins and later ones get it back, and a rotation retires the
//! active key and adds its successor in one step.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tessera_core::model::*;
use tessera_core::store::KeyStore;
use tessera_core::{Error, ErrorKind, Result};

use crate::MemoryStore;

#[async_trait]
impl KeyStore for MemoryStore {
    async fn list_signing_keys(&self) -> Result<Vec<SigningKey>> {
        let mut keys = self.lock().keys.clone();
        keys.sort_by(|a, b| (a.created_at, &a.kid).cmp(&(b.created_at, &b.kid)));
        Ok(keys)
    }

    async fn insert_first_signing_key(&self, key: &SigningKey) -> Result<SigningKey> {
        let mut s = self.lock();
        if let Some(active) = s.keys.iter().find(|k| k.retired_at.is_none()) {
            return Ok(active.clone());
        }
        if s.keys.iter().any(|k| k.kid == key.kid) {
            return Err(Error::new(ErrorKind::Conflict));
        }
        s.keys.push(key.clone());
        Ok(key.clone())
    }

    async fn rotate_signing_key(
        &self,
        key: &SigningKey,
        now: DateTime<Utc>,
        publish_until: DateTime<Utc>,
        events: &[NewEvent],
    ) -> Result<()> {
        let mut s = self.lock();
        if s.keys.iter().any(|k| k.kid == key.kid) {
            return Err(Error::new(ErrorKind::Conflict));
        }
        s.check_events(events)?;
        s.write_events(events);
        for k in s.keys.iter_mut().filter(|k| k.retired_at.is_none()) {
            k.retired_at = Some(now);
            k.publish_until = Some(publish_until);
        }
        s.keys.push(key.clone());
        Ok(())
    }

    async fn delete_unpublished_keys(&self, cutoff: DateTime<Utc>) -> Result<u64> {
        let mut s = self.lock();
        let before = s.keys.len();
        s.keys
            .retain(|k| k.retired_at.is_none() || k.publish_until.is_none_or(|p| p >= cutoff));
        Ok((before - s.keys.len()) as u64)
    }
}
