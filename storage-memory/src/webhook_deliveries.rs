//! The webhook outbox ([`WebhookDeliveryStore`]): deliveries waiting for a
//! worker, and the delivery log.
//!
//! Atomic here (under the store's one mutex): each due delivery is leased to
//! one claim at a time, only the claim holding a delivery may record its
//! attempt, and an attempt that disables its endpoint writes its events in
//! the same step.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tessera_core::model::*;
use tessera_core::store::{EventsOf, WebhookDeliveryStore};
use tessera_core::{Error, ErrorKind, Result};
use uuid::Uuid;

use crate::MemoryStore;
use crate::state::not_found;

#[async_trait]
impl WebhookDeliveryStore for MemoryStore {
    async fn enqueue_webhook_delivery(
        &self,
        delivery: &WebhookDelivery,
        events: &[NewEvent],
    ) -> Result<()> {
        let mut s = self.lock();
        if !s.webhook_endpoints.contains_key(&delivery.endpoint_id) {
            return Err(not_found());
        }
        if s.webhook_deliveries.contains_key(&delivery.id) {
            return Err(Error::new(ErrorKind::Conflict));
        }
        s.check_events(events)?;
        s.webhook_deliveries.insert(delivery.id, delivery.clone());
        s.write_events(events);
        Ok(())
    }

    async fn claim_webhook_deliveries(
        &self,
        now: DateTime<Utc>,
        leased_until: DateTime<Utc>,
        lease_id: Uuid,
        limit: u32,
    ) -> Result<Vec<ClaimedDelivery>> {
        let mut s = self.lock();
        let mut due: Vec<(DateTime<Utc>, Uuid)> = s
            .webhook_deliveries
            .values()
            .filter(|d| {
                d.status == DeliveryStatus::Pending
                    && d.next_attempt_at.is_some_and(|t| t <= now)
                    && d.leased_until.is_none_or(|l| l <= now)
                    && s.webhook_endpoints
                        .get(&d.endpoint_id)
                        .is_some_and(|e| e.enabled)
            })
            .map(|d| (d.next_attempt_at.unwrap_or(now), d.id))
            .collect();
        due.sort();
        due.truncate(limit as usize);
        let mut out = Vec::with_capacity(due.len());
        for (_, id) in due {
            let d = s.webhook_deliveries.get_mut(&id).expect("listed above");
            d.lease_id = Some(lease_id);
            d.leased_until = Some(leased_until);
            d.attempt += 1;
            let delivery = d.clone();
            let endpoint = s.webhook_endpoints[&delivery.endpoint_id].clone();
            out.push(ClaimedDelivery { delivery, endpoint });
        }
        Ok(out)
    }

    async fn renew_webhook_lease(
        &self,
        lease_id: Uuid,
        leased_until: DateTime<Utc>,
    ) -> Result<u64> {
        let mut s = self.lock();
        let mut n = 0;
        for d in s.webhook_deliveries.values_mut() {
            if d.lease_id == Some(lease_id) && d.status == DeliveryStatus::Pending {
                d.leased_until = Some(leased_until);
                n += 1;
            }
        }
        Ok(n)
    }

    async fn record_webhook_attempt(
        &self,
        a: &WebhookAttempt,
        events: EventsOf<'_, WebhookEndpoint>,
    ) -> Result<AttemptRecorded> {
        let mut s = self.lock();
        let Some(mut d) = s
            .webhook_deliveries
            .get(&a.delivery_id)
            .filter(|d| d.lease_id == Some(a.lease_id) && d.status == DeliveryStatus::Pending)
            .cloned()
        else {
            return Ok(AttemptRecorded::default());
        };
        let mut endpoint = s
            .webhook_endpoints
            .get(&d.endpoint_id)
            .ok_or_else(not_found)?
            .clone();
        d.lease_id = None;
        d.leased_until = None;
        d.attempted_at = Some(a.attempted_at);
        d.response_code = a.response_code;
        d.duration_ms = Some(a.duration_ms);
        d.response_excerpt = a.response_excerpt.clone();
        d.last_error = a.error.clone();
        let mut disabled = None;
        match a.result {
            AttemptResult::Succeeded => {
                d.status = DeliveryStatus::Succeeded;
                d.next_attempt_at = None;
                endpoint.failing_since = None;
            }
            AttemptResult::Retry(at) => d.next_attempt_at = Some(at),
            AttemptResult::Failed | AttemptResult::Gone => {
                d.status = DeliveryStatus::Failed;
                d.next_attempt_at = None;
            }
        }
        if a.result != AttemptResult::Succeeded {
            let since = *endpoint.failing_since.get_or_insert(a.attempted_at);
            if a.result == AttemptResult::Gone {
                disabled = Some("gone");
            } else if since <= a.disable_failing_since {
                disabled = Some("failing");
            }
        }
        let disabled_now = disabled.is_some() && endpoint.enabled;
        let events = if disabled_now {
            endpoint.enabled = false;
            endpoint.disabled_reason = disabled.map(str::to_owned);
            endpoint.updated_at = a.attempted_at;
            events(&endpoint)
        } else {
            Vec::new()
        };
        s.check_events(&events)?;
        s.webhook_deliveries.insert(d.id, d);
        s.webhook_endpoints.insert(endpoint.id, endpoint);
        s.write_events(&events);
        Ok(AttemptRecorded {
            applied: true,
            endpoint_disabled: disabled_now,
        })
    }

    async fn get_webhook_delivery(&self, id: Uuid) -> Result<WebhookDelivery> {
        self.lock()
            .webhook_deliveries
            .get(&id)
            .cloned()
            .ok_or_else(not_found)
    }

    async fn list_webhook_deliveries(
        &self,
        endpoint_id: Uuid,
        q: &DeliveryQuery,
    ) -> Result<Vec<WebhookDelivery>> {
        let s = self.lock();
        let end = q
            .before
            .map_or(std::ops::Bound::Unbounded, std::ops::Bound::Excluded);
        Ok(s.webhook_deliveries
            .range((std::ops::Bound::Unbounded, end))
            .rev()
            .map(|(_, d)| d)
            .filter(|d| d.endpoint_id == endpoint_id)
            .filter(|d| q.status.is_none_or(|st| d.status == st))
            .take(q.limit as usize)
            .cloned()
            .collect())
    }

    async fn retry_webhook_delivery(
        &self,
        endpoint_id: Uuid,
        id: Uuid,
        now: DateTime<Utc>,
        events: &[NewEvent],
    ) -> Result<WebhookDelivery> {
        let mut s = self.lock();
        if s.webhook_deliveries
            .get(&id)
            .is_none_or(|d| d.endpoint_id != endpoint_id)
        {
            return Err(not_found());
        }
        s.check_events(events)?;
        let d = s.webhook_deliveries.get_mut(&id).expect("checked above");
        d.status = DeliveryStatus::Pending;
        d.next_attempt_at = Some(now);
        let d = d.clone();
        s.write_events(events);
        Ok(d)
    }

    async fn pending_webhook_deliveries(&self) -> Result<u64> {
        Ok(self
            .lock()
            .webhook_deliveries
            .values()
            .filter(|d| d.status == DeliveryStatus::Pending)
            .count() as u64)
    }

    async fn delete_finished_webhook_deliveries(&self, cutoff: DateTime<Utc>) -> Result<u64> {
        let mut s = self.lock();
        let before = s.webhook_deliveries.len();
        s.webhook_deliveries
            .retain(|_, d| d.status == DeliveryStatus::Pending || d.created_at >= cutoff);
        Ok((before - s.webhook_deliveries.len()) as u64)
    }
}
