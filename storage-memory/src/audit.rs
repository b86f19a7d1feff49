//! The audit log ([`AuditStore`]): append-only events, and the writing of
//! the events every change records (with their webhook deliveries), which
//! the other trait files share.
//!
//! Atomic here (under the store's one mutex): every append is kept (a reused
//! id is `Conflict`); events outlive the users, apps and sessions they name.
//! A method that changes state checks its events with
//! [`State::check_events`] before it changes anything, and writes them with
//! [`State::write_events`] after, under the same lock: the change and its
//! events are seen together or not at all.

use std::collections::BTreeSet;

use async_trait::async_trait;
use tessera_core::model::*;
use tessera_core::store::AuditStore;
use tessera_core::{Error, ErrorKind, Result, new_id};

use crate::MemoryStore;
use crate::state::State;

impl State {
    /// Whether `events` can be written: their ids are new and distinct
    /// (`Conflict` otherwise). Called before a change mutates anything.
    pub(crate) fn check_events(&self, events: &[NewEvent]) -> Result<()> {
        let mut ids = BTreeSet::new();
        for e in events {
            if self.audit.contains_key(&e.audit.id) || !ids.insert(e.audit.id) {
                return Err(Error::new(ErrorKind::Conflict));
            }
        }
        Ok(())
    }

    /// Write checked `events`, and a delivery of each public event to every
    /// endpoint that accepts it.
    pub(crate) fn write_events(&mut self, events: &[NewEvent]) {
        for e in events {
            self.audit.insert(e.audit.id, e.audit.clone());
            for w in &e.webhooks {
                let targets: Vec<_> = self
                    .webhook_endpoints
                    .values()
                    .filter(|ep| ep.accepts(w))
                    .map(|ep| ep.id)
                    .collect();
                for endpoint in targets {
                    let d = WebhookDelivery::new(new_id(w.at), endpoint, w);
                    self.webhook_deliveries.insert(d.id, d);
                }
            }
        }
    }
}

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
