//! Webhook endpoints as admins manage them: create (the `whsec_` secret is
//! shown once), list, get, update, delete, rotate the secret, send a test
//! event, read the delivery log and retry a delivery.
//!
//! Why in the core: every face (HTTP admin API, CLI, bindings) offers the
//! same operations with the same checks — the SSRF guard on URLs
//! ([`super::ssrf`]), the event filters of `docs/events.md`, secrets sealed
//! under the key-encryption key like OAuth client secrets — and each change
//! is recorded with its audit event in one store call. Delivery itself is in
//! [`super::delivery`].

use chrono::Duration;
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use super::{generate_secret, generate_signing_key};
use crate::audit::{EventKind, Subject};
use crate::model::{
    App, AppId, DeliveryQuery, NewEvent, WebhookDelivery, WebhookEndpoint, WebhookEndpointPatch,
};
use crate::{Audit, Error, Inner, Result, new_id};

/// How long the secret before a rotation keeps signing, by default (a day).
pub const DEFAULT_KEEP_OLD_SECS: i64 = 86_400;
/// The longest time an old secret may keep signing (30 days).
pub const MAX_KEEP_OLD_SECS: i64 = 30 * 86_400;
/// Longest description.
const MAX_DESCRIPTION_CHARS: usize = 500;

/// Webhook endpoints; see [`crate::Tessera::webhooks`].
pub struct Webhooks<'a> {
    pub(crate) inner: &'a Inner,
}

/// What an endpoint is created with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewWebhookEndpoint {
    /// The app whose events it receives; `None` for every event of the install.
    pub app_id: Option<AppId>,
    /// Where events are POSTed (`https://`, a public address; see `docs/contract.md`).
    pub url: String,
    /// Event filters (types, `prefix.*`, `*`); empty means `*`.
    pub events: Vec<String>,
    /// A note for people.
    pub description: Option<String>,
    /// Also sign with Ed25519 (`v1a`); the public key is in the endpoint.
    pub asymmetric: bool,
}

/// An endpoint just created, or whose secret was just rotated: the secret
/// is here and nowhere else, ever.
#[derive(Clone)]
pub struct WebhookSecret {
    /// The stored endpoint (with `public_key` when signing asymmetrically).
    pub endpoint: WebhookEndpoint,
    /// The signing secret (`whsec_…`), shown once.
    pub secret: String,
}

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSecret")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

/// The keys sealed in an endpoint (`secrets_sealed`).
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct Keys {
    /// `whsec_…`.
    pub(crate) secret: String,
    /// `whsk_…`, when signing asymmetrically (kept across rotations, so the
    /// published public key stays valid).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) signing_key: Option<String>,
}

/// The additional data binding sealed keys to their endpoint.
fn aad(id: Uuid) -> Vec<u8> {
    format!("tessera/webhook/{id}").into_bytes()
}

impl Keys {
    pub(crate) fn open(inner: &Inner, id: Uuid, sealed: &[u8]) -> Result<Keys> {
        let plain = inner.keyring.open(sealed, &aad(id))?;
        serde_json::from_slice(&plain)
            .map_err(|e| Error::internal("unreadable webhook keys").with_source(e))
    }

    fn seal(&self, inner: &Inner, id: Uuid) -> Result<Vec<u8>> {
        let plain =
            serde_json::to_vec(self).map_err(|e| Error::internal("webhook keys").with_source(e))?;
        inner.keyring.seal(&plain, &aad(id))
    }
}

fn check_description(d: Option<&str>) -> Result<Option<String>> {
    match d.map(str::trim) {
        None | Some("") => Ok(None),
        Some(d) if d.chars().count() > MAX_DESCRIPTION_CHARS || d.chars().any(char::is_control) => {
            Err(Error::invalid(
                "description",
                "a description is at most 500 characters, without control characters",
            ))
        }
        Some(d) => Ok(Some(d.to_owned())),
    }
}

impl<'a> Webhooks<'a> {
    pub(crate) fn new(inner: &'a Inner) -> Self {
        Webhooks { inner }
    }

    async fn app(&self, id: Option<AppId>) -> Result<Option<App>> {
        match id {
            Some(id) => Ok(Some(self.inner.store.apps().get_app(id).await?)),
            None => Ok(None),
        }
    }

    /// The audit event of a change to `endpoint` (`action`: created, updated,
    /// deleted, secret_rotated).
    fn changed(&self, app: Option<&App>, endpoint: &WebhookEndpoint, action: &str) -> NewEvent {
        let subject = Subject {
            app,
            ..Default::default()
        };
        Audit::new(self.inner).event(
            EventKind::WebhookEndpointChanged,
            subject,
            json!({ "action": action, "endpoint_id": endpoint.id, "url": endpoint.url }),
        )
    }

    /// Create an endpoint. `invalid_webhook_url` for a URL the SSRF guard
    /// refuses, `invalid_input` for unknown filters, `not_found` for a
    /// missing app.
    pub async fn create(&self, new: &NewWebhookEndpoint) -> Result<WebhookSecret> {
        let url = self.inner.webhooks.guard.check_url(&new.url).await?;
        let events = crate::events::check_filters(&new.events)?;
        let description = check_description(new.description.as_deref())?;
        let app = self.app(new.app_id).await?;
        let now = self.inner.now();
        let id = new_id(now);
        let secret = generate_secret();
        let (signing_key, public_key) = if new.asymmetric {
            let (sk, pk) = generate_signing_key();
            (Some(sk), Some(pk))
        } else {
            (None, None)
        };
        let keys = Keys {
            secret: secret.clone(),
            signing_key,
        };
        let endpoint = WebhookEndpoint {
            id,
            app_id: app.as_ref().map(|a| a.id),
            pool_id: app.as_ref().map(|a| a.pool_id),
            url,
            description,
            events,
            enabled: true,
            disabled_reason: None,
            secrets_sealed: keys.seal(self.inner, id)?,
            old_secrets_sealed: None,
            old_secrets_until: None,
            public_key,
            failing_since: None,
            created_at: now,
            updated_at: now,
        };
        let event = self.changed(app.as_ref(), &endpoint, "created");
        self.inner
            .store
            .webhook_endpoints()
            .create_webhook_endpoint(&endpoint, &[event])
            .await?;
        Ok(WebhookSecret { endpoint, secret })
    }

    /// Endpoints of one app (`Some`) or all of them, oldest first.
    pub async fn list(&self, app_id: Option<AppId>) -> Result<Vec<WebhookEndpoint>> {
        self.inner
            .store
            .webhook_endpoints()
            .list_webhook_endpoints(app_id)
            .await
    }

    /// One endpoint. `not_found`.
    pub async fn get(&self, id: Uuid) -> Result<WebhookEndpoint> {
        self.inner
            .store
            .webhook_endpoints()
            .get_webhook_endpoint(id)
            .await
    }

    /// Change an endpoint's URL (checked like at creation), filters,
    /// description or enabled flag (enabling forgets why it was disabled).
    pub async fn update(&self, id: Uuid, patch: &WebhookEndpointPatch) -> Result<WebhookEndpoint> {
        let mut patch = patch.clone();
        if let Some(url) = &patch.url {
            patch.url = Some(self.inner.webhooks.guard.check_url(url).await?);
        }
        if let Some(events) = &patch.events {
            patch.events = Some(crate::events::check_filters(events)?);
        }
        if let Some(d) = &patch.description {
            patch.description = Some(check_description(d.as_deref())?);
        }
        let current = self.get(id).await?;
        let app = self.app(current.app_id).await?;
        let audit = |e: &WebhookEndpoint| vec![self.changed(app.as_ref(), e, "updated")];
        self.inner
            .store
            .webhook_endpoints()
            .update_webhook_endpoint(id, &patch, self.inner.now(), &audit)
            .await
    }

    /// Delete an endpoint and its delivery log. `not_found`.
    pub async fn delete(&self, id: Uuid) -> Result<()> {
        let endpoint = self.get(id).await?;
        let app = self.app(endpoint.app_id).await?;
        let event = self.changed(app.as_ref(), &endpoint, "deleted");
        self.inner
            .store
            .webhook_endpoints()
            .delete_webhook_endpoint(id, &[event])
            .await
    }

    /// Give an endpoint a new secret; the old one keeps signing alongside it
    /// for `keep_old_secs` (default [`DEFAULT_KEEP_OLD_SECS`], 0 to stop at
    /// once, at most [`MAX_KEEP_OLD_SECS`]). An Ed25519 signing key, if any,
    /// is kept (its public key stays published).
    pub async fn rotate_secret(
        &self,
        id: Uuid,
        keep_old_secs: Option<i64>,
    ) -> Result<WebhookSecret> {
        let keep = keep_old_secs.unwrap_or(DEFAULT_KEEP_OLD_SECS);
        if !(0..=MAX_KEEP_OLD_SECS).contains(&keep) {
            return Err(Error::invalid(
                "keep_old_secs",
                "keep_old_secs is between 0 and 2592000 (30 days)",
            ));
        }
        let endpoint = self.get(id).await?;
        let current = Keys::open(self.inner, id, &endpoint.secrets_sealed)?;
        let secret = generate_secret();
        let keys = Keys {
            secret: secret.clone(),
            signing_key: current.signing_key,
        };
        let app = self.app(endpoint.app_id).await?;
        let event = self.changed(app.as_ref(), &endpoint, "secret_rotated");
        let now = self.inner.now();
        self.inner
            .store
            .webhook_endpoints()
            .rotate_webhook_secret(
                id,
                &keys.seal(self.inner, id)?,
                now + Duration::seconds(keep),
                now,
                &[event],
            )
            .await?;
        Ok(WebhookSecret {
            endpoint: self.get(id).await?,
            secret,
        })
    }

    /// Queue a `webhook.test` event to one endpoint, whatever its filter;
    /// answers the delivery (the worker sends it).
    pub async fn send_test(&self, id: Uuid) -> Result<WebhookDelivery> {
        let endpoint = self.get(id).await?;
        let app = self.app(endpoint.app_id).await?;
        let now = self.inner.now();
        let event = crate::events::test_event(&endpoint, now);
        let delivery = WebhookDelivery::new(new_id(now), endpoint.id, &event);
        let audit = Audit::new(self.inner).event(
            EventKind::WebhookTested,
            Subject {
                app: app.as_ref(),
                ..Default::default()
            },
            json!({ "endpoint_id": endpoint.id, "delivery_id": delivery.id }),
        );
        self.inner
            .store
            .webhook_deliveries()
            .enqueue_webhook_delivery(&delivery, &[audit])
            .await?;
        Ok(delivery)
    }

    /// An endpoint's delivery log, newest first (`limit` 0 means 100; at most
    /// 1000). `not_found` for a missing endpoint.
    pub async fn deliveries(
        &self,
        id: Uuid,
        query: &DeliveryQuery,
    ) -> Result<Vec<WebhookDelivery>> {
        self.get(id).await?;
        let mut q = query.clone();
        q.limit = if q.limit == 0 { 100 } else { q.limit.min(1000) };
        self.inner
            .store
            .webhook_deliveries()
            .list_webhook_deliveries(id, &q)
            .await
    }

    /// One delivery of an endpoint. `not_found` unless it is the endpoint's.
    pub async fn delivery(&self, endpoint_id: Uuid, id: Uuid) -> Result<WebhookDelivery> {
        let d = self
            .inner
            .store
            .webhook_deliveries()
            .get_webhook_delivery(id)
            .await?;
        if d.endpoint_id != endpoint_id {
            return Err(Error::new(crate::ErrorKind::NotFound));
        }
        Ok(d)
    }

    /// Make a delivery pending and due now, whatever its state (a manual
    /// retry). `not_found` unless it is the endpoint's.
    pub async fn retry(&self, endpoint_id: Uuid, id: Uuid) -> Result<WebhookDelivery> {
        let endpoint = self.get(endpoint_id).await?;
        let app = self.app(endpoint.app_id).await?;
        let audit = Audit::new(self.inner).event(
            EventKind::WebhookDeliveryRetried,
            Subject {
                app: app.as_ref(),
                ..Default::default()
            },
            json!({ "endpoint_id": endpoint_id, "delivery_id": id }),
        );
        self.inner
            .store
            .webhook_deliveries()
            .retry_webhook_delivery(endpoint_id, id, self.inner.now(), &[audit])
            .await
    }

    /// How many deliveries are waiting (all endpoints).
    pub async fn pending(&self) -> Result<u64> {
        self.inner
            .store
            .webhook_deliveries()
            .pending_webhook_deliveries()
            .await
    }
}
