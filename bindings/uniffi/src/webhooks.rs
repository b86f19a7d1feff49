//! Webhook endpoints and their delivery log: the records and the methods
//! that create, list, change, delete, rotate, test, read and retry (the
//! delivery worker runs in every opened Tessera; `docs/events.md`).

use std::time::SystemTime;

use tessera_bindings_common::webhooks;
use tessera_core::model;

use crate::Tessera;
use crate::convert::{parse_id, parse_opt_id};

crate::mirror! {
    /// A URL that receives events (never its secret).
    #[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
    pub struct WebhookEndpoint from model::WebhookEndpoint {
        /// Unique id.
        pub id: String,
        /// The app whose events it receives; null: every event of the install.
        pub app_id: Option<String>,
        /// The app's pool.
        pub pool_id: Option<String>,
        /// Where events are POSTed.
        pub url: String,
        /// A note for people.
        pub description: Option<String>,
        /// Event filters: types, `prefix.*` or `*`.
        pub events: Vec<String>,
        /// Whether deliveries are made.
        pub enabled: bool,
        /// Why Tessera disabled it (`gone`, `failing`), if it did.
        pub disabled_reason: Option<String>,
        /// The Ed25519 public key (`whpk_…`) of `v1a` signatures, if any.
        pub public_key: Option<String>,
        /// Until when the secret before the last rotation also signs.
        pub old_secret_expires_at: Option<SystemTime> = old_secrets_until,
        /// Since when every delivery has failed.
        pub failing_since: Option<SystemTime>,
        /// When it was created.
        pub created_at: SystemTime,
        /// When it was last changed.
        pub updated_at: SystemTime,
    }
}

crate::mirror! {
    /// An endpoint just created or whose secret was just rotated: the
    /// secret (`whsec_…`) is here and nowhere else, ever. `toString()` does
    /// not show it.
    #[derive(Clone, PartialEq, Eq, uniffi::Record)]
    #[uniffi::export(Debug)]
    pub struct WebhookSecret from tessera_core::WebhookSecret {
        /// The endpoint.
        pub endpoint: WebhookEndpoint,
        /// The signing secret, shown once.
        pub secret: String,
    }
}

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSecret")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

crate::mirror! {
    /// One event on its way to one endpoint, as its last attempt left it.
    #[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
    pub struct WebhookDelivery from model::WebhookDelivery {
        /// Unique id.
        pub id: String,
        /// The endpoint.
        pub endpoint_id: String,
        /// The event (the `webhook-id` header).
        pub event_id: String,
        /// Its type.
        pub event_type: String,
        /// `pending`, `succeeded` or `failed`.
        pub status: String,
        /// Attempts begun so far.
        pub attempt: i32,
        /// When the next attempt is due (null once finished).
        pub next_attempt_at: Option<SystemTime>,
        /// When the last attempt was made.
        pub attempted_at: Option<SystemTime>,
        /// The HTTP status of the last answer.
        pub response_code: Option<i32>,
        /// How long the last attempt took, in milliseconds.
        pub duration_ms: Option<i64>,
        /// The first bytes of the last answer.
        pub response_excerpt: Option<String>,
        /// Why the last attempt failed without an answer.
        pub error: Option<String> = last_error,
        /// When the event happened.
        pub created_at: SystemTime,
    }
}

crate::exports! {
    /// Create a webhook endpoint (for `app`, or every event of the install).
    /// The secret is in the result and nowhere else.
    ///
    /// Errors: `invalid_webhook_url`, `invalid_input`, `not_found` (app).
    fn create_webhook(url: String, events: Vec<String>, app: Option<String>, description: Option<String>, asymmetric: bool) -> WebhookSecret
        [app = None, description = None, asymmetric = false]
        |core| webhooks::create(core, url, events, app.as_deref(), description, asymmetric);

    /// Webhook endpoints (of `app`, or all), oldest first.
    fn list_webhooks(app: Option<String>) -> Vec<WebhookEndpoint>
        [app = None]
        |core| webhooks::list(core, app.as_deref());

    /// One webhook endpoint. Errors: `not_found`.
    fn get_webhook(id: String) -> WebhookEndpoint
        |core| webhooks::get(core, parse_id("id", &id)?);

    /// Change an endpoint; null leaves a field as it is, `description = ""`
    /// clears it; `enabled = true` turns back on an endpoint Tessera disabled.
    fn update_webhook(id: String, url: Option<String>, events: Option<Vec<String>>, description: Option<String>, enabled: Option<bool>) -> WebhookEndpoint
        [url = None, events = None, description = None, enabled = None]
        |core| webhooks::update(core, parse_id("id", &id)?, model::WebhookEndpointPatch {
            url,
            description: description.map(Some),
            events,
            enabled,
        });

    /// Delete an endpoint and its delivery log.
    fn delete_webhook(id: String) -> ()
        |core| webhooks::delete(core, parse_id("id", &id)?);

    /// A new secret (in the result only); the old one keeps signing
    /// alongside it for `keep_old_secs` (default a day).
    fn rotate_webhook_secret(id: String, keep_old_secs: Option<i64>) -> WebhookSecret
        [keep_old_secs = None]
        |core| webhooks::rotate_secret(core, parse_id("id", &id)?, keep_old_secs);

    /// Queue a `webhook.test` event to the endpoint, whatever its filters.
    fn send_webhook_test(id: String) -> WebhookDelivery
        |core| webhooks::send_test(core, parse_id("id", &id)?);

    /// An endpoint's delivery log, newest first (`status`: `pending`,
    /// `succeeded` or `failed`; `before`: the last id of the previous page).
    fn list_webhook_deliveries(id: String, status: Option<String>, before: Option<String>, limit: u32) -> Vec<WebhookDelivery>
        [status = None, before = None, limit = 100]
        |core| webhooks::deliveries(core, parse_id("id", &id)?, status.as_deref(), parse_opt_id("before", before)?, limit);

    /// Make a delivery pending and due now (same event id).
    fn retry_webhook_delivery(id: String, delivery_id: String) -> WebhookDelivery
        |core| webhooks::retry(core, parse_id("id", &id)?, parse_id("delivery_id", &delivery_id)?);
}
