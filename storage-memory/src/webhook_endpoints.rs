//! Webhook endpoints ([`WebhookEndpointStore`]) and the endpoint removal the
//! app deletion shares.
//!
//! Atomic here (under the store's one mutex): an endpoint needs its app
//! (`NotFound`), a patch applies as a whole, a secret rotation moves the
//! current keys to the old ones in the same step as it stores the new ones,
//! and deleting an endpoint removes its deliveries. Each change writes its
//! events with it.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tessera_core::model::*;
use tessera_core::store::{EventsOf, WebhookEndpointStore};
use tessera_core::{Error, ErrorKind, Result};
use uuid::Uuid;

use crate::MemoryStore;
use crate::state::{State, not_found};

impl State {
    /// Remove endpoint `id` and its deliveries.
    pub(crate) fn remove_webhook_endpoint(&mut self, id: Uuid) {
        self.webhook_endpoints.remove(&id);
        self.webhook_deliveries.retain(|_, d| d.endpoint_id != id);
    }
}

#[async_trait]
impl WebhookEndpointStore for MemoryStore {
    async fn create_webhook_endpoint(
        &self,
        endpoint: &WebhookEndpoint,
        events: &[NewEvent],
    ) -> Result<()> {
        let mut s = self.lock();
        if let Some(app) = endpoint.app_id
            && !s.apps.contains_key(&app)
        {
            return Err(not_found());
        }
        if s.webhook_endpoints.contains_key(&endpoint.id) {
            return Err(Error::new(ErrorKind::Conflict));
        }
        s.check_events(events)?;
        s.webhook_endpoints.insert(endpoint.id, endpoint.clone());
        s.write_events(events);
        Ok(())
    }

    async fn get_webhook_endpoint(&self, id: Uuid) -> Result<WebhookEndpoint> {
        self.lock()
            .webhook_endpoints
            .get(&id)
            .cloned()
            .ok_or_else(not_found)
    }

    async fn list_webhook_endpoints(&self, app_id: Option<AppId>) -> Result<Vec<WebhookEndpoint>> {
        let mut out: Vec<WebhookEndpoint> = self
            .lock()
            .webhook_endpoints
            .values()
            .filter(|e| app_id.is_none_or(|a| e.app_id == Some(a)))
            .cloned()
            .collect();
        out.sort_by_key(|e| (e.created_at, e.id));
        Ok(out)
    }

    async fn update_webhook_endpoint(
        &self,
        id: Uuid,
        patch: &WebhookEndpointPatch,
        now: DateTime<Utc>,
        events: EventsOf<'_, WebhookEndpoint>,
    ) -> Result<WebhookEndpoint> {
        let mut s = self.lock();
        let mut endpoint = s.webhook_endpoints.get(&id).ok_or_else(not_found)?.clone();
        patch.apply(&mut endpoint, now);
        let events = events(&endpoint);
        s.check_events(&events)?;
        s.webhook_endpoints.insert(id, endpoint.clone());
        s.write_events(&events);
        Ok(endpoint)
    }

    async fn rotate_webhook_secret(
        &self,
        id: Uuid,
        secrets_sealed: &[u8],
        keep_old_until: DateTime<Utc>,
        now: DateTime<Utc>,
        events: &[NewEvent],
    ) -> Result<()> {
        let mut s = self.lock();
        if !s.webhook_endpoints.contains_key(&id) {
            return Err(not_found());
        }
        s.check_events(events)?;
        let e = s.webhook_endpoints.get_mut(&id).expect("checked above");
        e.old_secrets_sealed = Some(std::mem::replace(
            &mut e.secrets_sealed,
            secrets_sealed.to_vec(),
        ));
        e.old_secrets_until = Some(keep_old_until);
        e.updated_at = now;
        s.write_events(events);
        Ok(())
    }

    async fn delete_webhook_endpoint(&self, id: Uuid, events: &[NewEvent]) -> Result<()> {
        let mut s = self.lock();
        if !s.webhook_endpoints.contains_key(&id) {
            return Err(not_found());
        }
        s.check_events(events)?;
        s.remove_webhook_endpoint(id);
        s.write_events(events);
        Ok(())
    }
}
