//! The JSON shapes of the webhook admin API. An endpoint is shown without
//! its secrets: the `whsec_` secret appears once, in the answer that made it
//! (creation or rotation).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tessera_core::model::{WebhookDelivery, WebhookEndpoint};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A webhook endpoint (never its secret).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub(crate) struct WebhookView {
    /// Endpoint id.
    pub(crate) id: Uuid,
    /// The app whose events it receives; null for every event of the install.
    pub(crate) app_id: Option<Uuid>,
    /// Where events are POSTed.
    pub(crate) url: String,
    /// Event filters (types, `prefix.*` or `*`).
    pub(crate) events: Vec<String>,
    /// A note for people.
    pub(crate) description: Option<String>,
    /// Whether deliveries are made.
    pub(crate) enabled: bool,
    /// Why Tessera disabled it: `gone` (it answered 410) or `failing` (every
    /// delivery failed for 5 days); null when enabled or disabled by hand.
    pub(crate) disabled_reason: Option<String>,
    /// The Ed25519 public key (`whpk_…`) checking `v1a` signatures, when the
    /// endpoint signs asymmetrically.
    pub(crate) public_key: Option<String>,
    /// Until when the secret before the last rotation also signs.
    pub(crate) old_secret_expires_at: Option<DateTime<Utc>>,
    /// Since when every delivery has failed.
    pub(crate) failing_since: Option<DateTime<Utc>>,
    /// Created.
    pub(crate) created_at: DateTime<Utc>,
    /// Last changed.
    pub(crate) updated_at: DateTime<Utc>,
}

impl From<WebhookEndpoint> for WebhookView {
    fn from(e: WebhookEndpoint) -> Self {
        WebhookView {
            id: e.id,
            app_id: e.app_id,
            url: e.url,
            events: e.events,
            description: e.description,
            enabled: e.enabled,
            disabled_reason: e.disabled_reason,
            public_key: e.public_key,
            old_secret_expires_at: e.old_secrets_until,
            failing_since: e.failing_since,
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

/// A list of endpoints.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub(crate) struct WebhooksView {
    /// Endpoints, oldest first.
    pub(crate) webhooks: Vec<WebhookView>,
}

/// A new endpoint: its fields and the secret, shown here once.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub(crate) struct CreatedWebhookView {
    /// The endpoint.
    #[serde(flatten)]
    pub(crate) webhook: WebhookView,
    /// The signing secret (`whsec_` + standard base64 of 32 bytes, as the
    /// `standardwebhooks` libraries read it). Store it now; it is never
    /// shown again.
    pub(crate) secret: String,
}

/// `POST /v1/admin/webhooks`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct WebhookCreate {
    /// Where events are POSTed (`https://`, a public address unless the host
    /// is in `TESSERA_WEBHOOK_ALLOW_HOSTS`).
    pub(crate) url: String,
    /// Event filters: types (`user.created`), `prefix.*` or `*` (default `*`).
    #[serde(default)]
    pub(crate) events: Vec<String>,
    /// Only this app's events (id or slug); absent: every event of the install.
    #[serde(default)]
    pub(crate) app: Option<String>,
    /// A note for people.
    #[serde(default)]
    pub(crate) description: Option<String>,
    /// Also sign each delivery with Ed25519 (`v1a`); the public key is in
    /// the endpoint's `public_key`.
    #[serde(default)]
    pub(crate) asymmetric: bool,
}

/// `PATCH /v1/admin/webhooks/{id}`: absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct WebhookPatch {
    /// New URL (checked like at creation).
    #[serde(default)]
    pub(crate) url: Option<String>,
    /// New event filters.
    #[serde(default)]
    pub(crate) events: Option<Vec<String>>,
    /// New description (`null` clears).
    #[serde(default, with = "crate::dto::double_option")]
    #[schema(value_type = Option<String>)]
    pub(crate) description: Option<Option<String>>,
    /// Enable (which forgets `disabled_reason`) or disable.
    #[serde(default)]
    pub(crate) enabled: Option<bool>,
}

/// `POST /v1/admin/webhooks/{id}/rotate-secret`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RotateSecret {
    /// How long the old secret keeps signing alongside the new one, in
    /// seconds (default 86400, at most 2592000; 0 stops it at once).
    #[serde(default)]
    pub(crate) keep_old_secs: Option<i64>,
}

/// A new secret, shown here once.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub(crate) struct SecretView {
    /// The new signing secret (`whsec_…`).
    pub(crate) secret: String,
}

/// A queued test event.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub(crate) struct TestEventView {
    /// The `webhook.test` event's id (its `webhook-id`).
    pub(crate) event_id: Uuid,
}

/// One delivery of an event to an endpoint, as its last attempt left it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub(crate) struct DeliveryView {
    /// Delivery id.
    pub(crate) id: Uuid,
    /// The event (the `webhook-id` header).
    pub(crate) event_id: Uuid,
    /// Its type.
    pub(crate) event_type: String,
    /// Attempts begun so far.
    pub(crate) attempt: i32,
    /// `pending`, `succeeded` or `failed`.
    pub(crate) status: String,
    /// HTTP status of the last answer.
    pub(crate) response_code: Option<i32>,
    /// How long the last attempt took.
    pub(crate) duration_ms: Option<i64>,
    /// The first bytes of the last answer (at most 1 KiB).
    pub(crate) response_excerpt: Option<String>,
    /// Why the last attempt failed without an answer (`timeout`,
    /// `connect_failed`, `address_refused`, …).
    pub(crate) error: Option<String>,
    /// When the last attempt was made.
    pub(crate) attempted_at: Option<DateTime<Utc>>,
    /// When the next attempt is due (null once finished).
    pub(crate) next_attempt_at: Option<DateTime<Utc>>,
    /// When the event happened.
    pub(crate) created_at: DateTime<Utc>,
}

impl From<WebhookDelivery> for DeliveryView {
    fn from(d: WebhookDelivery) -> Self {
        DeliveryView {
            id: d.id,
            event_id: d.event_id,
            event_type: d.event_type,
            attempt: d.attempt,
            status: d.status.as_str().to_owned(),
            response_code: d.response_code,
            duration_ms: d.duration_ms,
            response_excerpt: d.response_excerpt,
            error: d.last_error,
            attempted_at: d.attempted_at,
            next_attempt_at: d.next_attempt_at,
            created_at: d.created_at,
        }
    }
}

/// A page of an endpoint's delivery log.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub(crate) struct DeliveriesPage {
    /// Deliveries, newest first.
    pub(crate) deliveries: Vec<DeliveryView>,
    /// Cursor for the next (older) page, or null at the end.
    pub(crate) next_cursor: Option<String>,
}

/// Filters of the endpoint list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct WebhookListParams {
    /// Only this app's endpoints (id or slug).
    pub(crate) app: Option<String>,
}

/// Filters of the delivery log.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct DeliveryParams {
    /// Only deliveries in this state: `pending`, `succeeded` or `failed`.
    pub(crate) status: Option<String>,
    /// Cursor from the previous page.
    pub(crate) cursor: Option<Uuid>,
    /// Page size (default 100, at most 1000).
    pub(crate) limit: Option<u32>,
}
