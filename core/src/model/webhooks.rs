//! Webhook endpoints and their deliveries, as stored.
//!
//! An endpoint is a URL that receives the public events it subscribes to;
//! its signing secrets are sealed under the key-encryption key and never
//! leave the core in clear after creation. A delivery is one event on its way
//! to one endpoint: created in the same atomic step as the event (see
//! [`NewEvent`](super::NewEvent)), leased by one worker at a time, retried on
//! a fixed schedule, and kept afterwards as the endpoint's delivery log.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{AppId, PoolId, WebhookEvent};

/// A URL that receives events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookEndpoint {
    /// Unique id.
    pub id: Uuid,
    /// The app whose events it receives (with the events of the app's pool
    /// that concern no app); `None` receives every event of the install.
    pub app_id: Option<AppId>,
    /// The app's pool (`None` for install-wide endpoints).
    pub pool_id: Option<PoolId>,
    /// Where events are POSTed (`https://…`).
    pub url: String,
    /// A note for people.
    pub description: Option<String>,
    /// The event types it receives: types, `prefix.*` or `*`.
    pub events: Vec<String>,
    /// Whether deliveries are made.
    pub enabled: bool,
    /// Why Tessera disabled it (`gone`: it answered 410; `failing`: every
    /// delivery failed for 5 days); `None` when enabled or disabled by hand.
    pub disabled_reason: Option<String>,
    /// The signing keys (`{"secret": "whsec_…", "signing_key"?: "whsk_…"}`),
    /// sealed under the key-encryption key, bound to the endpoint id.
    #[serde(skip)]
    pub secrets_sealed: Vec<u8>,
    /// The keys before the last rotation, sealed likewise, still signing
    /// alongside the new ones until [`old_secrets_until`](Self::old_secrets_until).
    #[serde(skip)]
    pub old_secrets_sealed: Option<Vec<u8>>,
    /// Until when the old keys sign too.
    pub old_secrets_until: Option<DateTime<Utc>>,
    /// The Ed25519 public key (`whpk_…`) when deliveries also carry an
    /// asymmetric `v1a` signature.
    pub public_key: Option<String>,
    /// Since when every delivery has failed (`None` after a success).
    pub failing_since: Option<DateTime<Utc>>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
}

impl WebhookEndpoint {
    /// Whether this endpoint receives `event`: it is enabled, the event is
    /// in its scope (install-wide; or its app's; or its pool's and about no
    /// app) and one of its filters matches (see [`filters_match`](super::filters_match)).
    pub fn accepts(&self, event: &WebhookEvent) -> bool {
        let in_scope = match self.app_id {
            None => true,
            Some(app) => match event.app_id {
                Some(a) => a == app,
                None => event.pool_id.is_some() && event.pool_id == self.pool_id,
            },
        };
        self.enabled && in_scope && super::filters_match(&self.events, &event.kind)
    }
}

/// A partial update of an endpoint; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebhookEndpointPatch {
    /// New URL (checked by the core).
    pub url: Option<String>,
    /// New description; `Some(None)` clears it.
    pub description: Option<Option<String>>,
    /// New event filters.
    pub events: Option<Vec<String>>,
    /// Enable (which also forgets `disabled_reason` and `failing_since`) or
    /// disable by hand.
    pub enabled: Option<bool>,
}

impl WebhookEndpointPatch {
    /// Apply the patch to `endpoint` (what every store does, atomically).
    pub fn apply(&self, endpoint: &mut WebhookEndpoint, now: DateTime<Utc>) {
        if let Some(url) = &self.url {
            endpoint.url = url.clone();
        }
        if let Some(description) = &self.description {
            endpoint.description = description.clone();
        }
        if let Some(events) = &self.events {
            endpoint.events = events.clone();
        }
        if let Some(enabled) = self.enabled {
            endpoint.enabled = enabled;
            endpoint.disabled_reason = None;
            if enabled {
                endpoint.failing_since = None;
            }
        }
        endpoint.updated_at = now;
    }
}

crate::words::protocol_words! {
    /// Where a delivery stands.
    pub enum DeliveryStatus("delivery status") {
        /// Waiting for its next attempt.
        Pending => "pending",
        /// The endpoint answered 2xx.
        Succeeded => "succeeded",
        /// Every attempt failed (or the endpoint answered 410).
        Failed => "failed",
    }
}

/// One event on its way to one endpoint, and how its attempts went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookDelivery {
    /// Unique id.
    pub id: Uuid,
    /// The endpoint.
    pub endpoint_id: Uuid,
    /// The event (the `webhook-id` header).
    pub event_id: Uuid,
    /// Its type.
    pub event_type: String,
    /// The body POSTed, exactly as signed.
    #[serde(skip)]
    pub payload: String,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// Attempts begun so far (counted when claimed).
    pub attempt: i32,
    /// When the next attempt is due (`None` once finished).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// A worker holds it until then.
    #[serde(skip)]
    pub leased_until: Option<DateTime<Utc>>,
    /// The claim that holds it (only that worker may record its attempt).
    #[serde(skip)]
    pub lease_id: Option<Uuid>,
    /// When the last attempt was made.
    pub attempted_at: Option<DateTime<Utc>>,
    /// The HTTP status of the last answer, if there was one.
    pub response_code: Option<i32>,
    /// How long the last attempt took, in milliseconds.
    pub duration_ms: Option<i64>,
    /// The first bytes of the last answer (at most 1 KiB, lossy UTF-8).
    pub response_excerpt: Option<String>,
    /// Why the last attempt failed without an answer (`timeout`,
    /// `connect_failed`, `address_refused`, …).
    pub last_error: Option<String>,
    /// When it was created (when its event happened).
    pub created_at: DateTime<Utc>,
}

impl WebhookDelivery {
    /// A new pending delivery of `event` to `endpoint_id`, due at once.
    pub fn new(id: Uuid, endpoint_id: Uuid, event: &WebhookEvent) -> Self {
        WebhookDelivery {
            id,
            endpoint_id,
            event_id: event.id,
            event_type: event.kind.clone(),
            payload: event.payload.clone(),
            status: DeliveryStatus::Pending,
            attempt: 0,
            next_attempt_at: Some(event.at),
            leased_until: None,
            lease_id: None,
            attempted_at: None,
            response_code: None,
            duration_ms: None,
            response_excerpt: None,
            last_error: None,
            created_at: event.at,
        }
    }
}

/// A delivery a worker claimed, with its endpoint as it was at the claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedDelivery {
    /// The delivery (its `attempt` counts this one).
    pub delivery: WebhookDelivery,
    /// Its endpoint.
    pub endpoint: WebhookEndpoint,
}

/// How an attempt ended, as the worker decided from the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptResult {
    /// 2xx: delivered.
    Succeeded,
    /// Failed; try again at this time.
    Retry(DateTime<Utc>),
    /// Failed, and it was the last attempt.
    Failed,
    /// 410 Gone: the delivery failed and the endpoint is disabled (`gone`).
    Gone,
}

/// The outcome of one attempt, for
/// [`WebhookDeliveryStore::record_webhook_attempt`](crate::store::WebhookDeliveryStore::record_webhook_attempt).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookAttempt {
    /// The delivery.
    pub delivery_id: Uuid,
    /// The claim it was made under.
    pub lease_id: Uuid,
    /// When it was made.
    pub attempted_at: DateTime<Utc>,
    /// The HTTP status, if the endpoint answered.
    pub response_code: Option<i32>,
    /// How long it took.
    pub duration_ms: i64,
    /// The first bytes of the answer.
    pub response_excerpt: Option<String>,
    /// Why it failed without an answer.
    pub error: Option<String>,
    /// What happens next.
    pub result: AttemptResult,
    /// A failure disables the endpoint when its failures began at or before
    /// this time (now minus 5 days), with `disabled_reason` `failing`.
    pub disable_failing_since: DateTime<Utc>,
}

/// What recording an attempt did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AttemptRecorded {
    /// False when the claim had lost the delivery (its lease ended and
    /// another worker took it): nothing was written.
    pub applied: bool,
    /// Whether the endpoint was disabled by this attempt.
    pub endpoint_disabled: bool,
}

/// What a delivery list is filtered and paged by. Results come newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryQuery {
    /// Only deliveries in this state.
    pub status: Option<DeliveryStatus>,
    /// Only deliveries with an id smaller than this (the previous page's cursor).
    pub before: Option<Uuid>,
    /// Page size (1 to 1000).
    pub limit: u32,
}

impl DeliveryQuery {
    /// The query the faces build from their text parameters (`status`:
    /// `pending`, `succeeded` or `failed`). `invalid_input` for another status.
    pub fn from_params(
        status: Option<&str>,
        before: Option<Uuid>,
        limit: u32,
    ) -> crate::Result<DeliveryQuery> {
        let status = match status {
            None => None,
            Some(s) => Some(DeliveryStatus::parse(s).ok_or_else(|| {
                crate::Error::invalid("status", "status is pending, succeeded or failed")
            })?),
        };
        Ok(DeliveryQuery {
            status,
            before,
            limit,
        })
    }
}
