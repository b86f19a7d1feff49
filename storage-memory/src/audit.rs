//! The audit log ([`AuditStore`]): append-only events.
//!
//! Atomic here (under the store's one mutex): every append is kept (a reused
//! id is `Conflict`); events outlive the users, apps and sessions they name.

use async_trait::async_trait;
use tessera_core::model::*;
use tessera_core::store::AuditStore;
use tessera_core::{Error, ErrorKind, Result};

use crate::MemoryStore;

#[async_trait]
impl AuditStore for MemoryStore {
    async fn append_event(&self, event: &AuditEvent) -> Result<()> {
        let mut s = self.lock();
        if s.audit.contains_key(&event.id) {
            return Err(Error::new(ErrorKind::Conflict));
        }
        s.audit.insert(event.id, event.clone());
        Ok(())
    }

    async fn list_events(&self, q: &AuditQuery) -> Result<Vec<AuditEvent>> {
        let s = self.lock();
        let end = q
            .before
            .map_or(std::ops::Bound::Unbounded, std::ops::Bound::Excluded);
        Ok(s.audit
            .range((std::ops::Bound::Unbounded, end))
            .rev()
            .map(|(_, e)| e)
            .filter(|e| q.user_id.is_none_or(|u| e.user_id == Some(u)))
            .filter(|e| q.app_id.is_none_or(|a| e.app_id == Some(a)))
            .filter(|e| q.pool_id.is_none_or(|p| e.pool_id == Some(p)))
            .filter(|e| q.kind.as_ref().is_none_or(|k| &e.kind == k))
            .filter(|e| q.since.is_none_or(|t| e.at >= t))
            .filter(|e| q.until.is_none_or(|t| e.at < t))
            .take(q.limit as usize)
            .cloned()
            .collect())
    }
}
