//! Webhook endpoints and their delivery log: the `WebhookEndpoint`,
//! `WebhookDelivery` and `WebhookSecret` classes and their methods (the
//! delivery worker runs in every opened Tessera; `docs/events.md`).

use pyo3::prelude::*;
use tessera_bindings_common::webhooks;
use tessera_core::model;

use crate::convert::{Id, ToPy, repr_of};
use crate::{AsyncTessera, Tessera};

crate::record! {
    /// A URL that receives events (never its secret).
    pub(crate) struct WebhookEndpoint(model::WebhookEndpoint) repr(id, url, enabled) {
        /// Unique id.
        id,
        /// The app whose events it receives; `None`: every event of the install.
        app_id,
        /// The app's pool.
        pool_id,
        /// Where events are POSTed.
        url,
        /// A note for people.
        description,
        /// Event filters: types, `prefix.*` or `*`.
        events,
        /// Whether deliveries are made.
        enabled,
        /// Why Tessera disabled it (`gone`, `failing`), if it did.
        disabled_reason,
        /// The Ed25519 public key (`whpk_…`) of `v1a` signatures, if any.
        public_key,
        /// Until when the secret before the last rotation also signs.
        old_secret_expires_at = old_secrets_until,
        /// Since when every delivery has failed.
        failing_since,
        /// When it was created.
        created_at,
        /// When it was last changed.
        updated_at,
    }
}

crate::record! {
    /// One event on its way to one endpoint, as its last attempt left it.
    pub(crate) struct WebhookDelivery(model::WebhookDelivery) repr(id, event_type, status) {
        /// Unique id.
        id,
        /// The endpoint.
        endpoint_id,
        /// The event (the `webhook-id` header).
        event_id,
        /// Its type.
        event_type,
        /// `pending`, `succeeded` or `failed`.
        status as json,
        /// Attempts begun so far.
        attempt,
        /// When the next attempt is due (`None` once finished).
        next_attempt_at,
        /// When the last attempt was made.
        attempted_at,
        /// The HTTP status of the last answer.
        response_code,
        /// How long the last attempt took, in milliseconds.
        duration_ms,
        /// The first bytes of the last answer.
        response_excerpt,
        /// Why the last attempt failed without an answer.
        error = last_error,
        /// When the event happened.
        created_at,
    }
}

/// An endpoint just created or whose secret was just rotated: `secret`
/// (`whsec_…`) is shown here and nowhere else, ever.
#[pyclass(frozen, module = "tessera")]
pub(crate) struct WebhookSecret {
    /// The endpoint.
    #[pyo3(get)]
    endpoint: Py<WebhookEndpoint>,
    /// The signing secret.
    #[pyo3(get)]
    secret: String,
}

#[pymethods]
impl WebhookSecret {
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        repr_of(
            py,
            "WebhookSecret",
            &[("endpoint", self.endpoint.clone_ref(py).into_any())],
        )
    }
}

impl ToPy for tessera_core::WebhookSecret {
    fn to_py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let value = WebhookSecret {
            endpoint: Py::new(
                py,
                WebhookEndpoint {
                    inner: self.endpoint,
                },
            )?,
            secret: self.secret,
        };
        Ok(Py::new(py, value)?.into_any())
    }
}

crate::methods! {
    /// Create a webhook endpoint (for `app`, or every event of the install);
    /// the `secret` is in the answer and nowhere else. Raises
    /// `InvalidWebhookUrl` for a URL the SSRF guard refuses.
    fn create_webhook(url: String, events: Vec<String>, app: Option<String>, description: Option<String>, asymmetric: bool)
        [url, events = Vec::new(), *, app = None, description = None, asymmetric = false]
        |core| webhooks::create(core, url, events, app.as_deref(), description, asymmetric);
    /// Webhook endpoints (of `app`, or all), oldest first.
    fn list_webhooks(app: Option<String>)
        [*, app = None]
        |core| webhooks::list(core, app.as_deref());
    /// One webhook endpoint.
    fn get_webhook(webhook_id: Id)
        [webhook_id]
        |core| webhooks::get(core, webhook_id.0);
    /// Change an endpoint; `None` leaves a field as it is, `description=""`
    /// clears it; `enabled=True` turns back on an endpoint Tessera disabled.
    fn update_webhook(webhook_id: Id, url: Option<String>, events: Option<Vec<String>>, description: Option<String>, enabled: Option<bool>)
        [webhook_id, *, url = None, events = None, description = None, enabled = None]
        |core| webhooks::update(core, webhook_id.0, model::WebhookEndpointPatch {
            url,
            description: description.map(Some),
            events,
            enabled,
        });
    /// Delete an endpoint and its delivery log.
    fn delete_webhook(webhook_id: Id)
        [webhook_id]
        |core| webhooks::delete(core, webhook_id.0);
    /// A new secret (in the answer only); the old one keeps signing
    /// alongside it for `keep_old_secs` (default a day).
    fn rotate_webhook_secret(webhook_id: Id, keep_old_secs: Option<i64>)
        [webhook_id, *, keep_old_secs = None]
        |core| webhooks::rotate_secret(core, webhook_id.0, keep_old_secs);
    /// Queue a `webhook.test` event to the endpoint, whatever its filters.
    fn send_webhook_test(webhook_id: Id)
        [webhook_id]
        |core| webhooks::send_test(core, webhook_id.0);
    /// An endpoint's delivery log, newest first (`status`: `pending`,
    /// `succeeded` or `failed`; `before`: the last id of the previous page).
    fn list_webhook_deliveries(webhook_id: Id, status: Option<String>, before: Option<Id>, limit: u32)
        [webhook_id, *, status = None, before = None, limit = 100]
        |core| webhooks::deliveries(core, webhook_id.0, status.as_deref(), before.map(|b| b.0), limit);
    /// Make a delivery pending and due now (same event id).
    fn retry_webhook_delivery(webhook_id: Id, delivery_id: Id)
        [webhook_id, delivery_id]
        |core| webhooks::retry(core, webhook_id.0, delivery_id.0);
}
