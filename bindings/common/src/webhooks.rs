//! Webhook endpoints and their delivery log (`docs/events.md`,
//! `docs/contract.md` section 6): the operations both bindings wrap. The
//! delivery worker itself runs in the Tessera the bindings open (see
//! [`crate::open`]).

use tessera_core::model::{DeliveryQuery, WebhookDelivery, WebhookEndpoint, WebhookEndpointPatch};
use tessera_core::{NewWebhookEndpoint, Result, Tessera, WebhookSecret};
use uuid::Uuid;

/// Create an endpoint for `app` (id or slug; `None`: every event of the
/// install); its `whsec_` secret is in the answer only.
///
/// Errors: `invalid_webhook_url`, `invalid_input` (unknown filter, bad
/// description), `not_found` (app).
pub async fn create(
    core: &Tessera,
    url: String,
    events: Vec<String>,
    app: Option<&str>,
    description: Option<String>,
    asymmetric: bool,
) -> Result<WebhookSecret> {
    let app_id = match app {
        Some(a) => Some(core.apps().resolve(a).await?.id),
        None => None,
    };
    core.webhooks()
        .create(&NewWebhookEndpoint {
            app_id,
            url,
            events,
            description,
            asymmetric,
        })
        .await
}

/// Endpoints of `app` (id or slug) or all of them, oldest first.
pub async fn list(core: &Tessera, app: Option<&str>) -> Result<Vec<WebhookEndpoint>> {
    let app_id = match app {
        Some(a) => Some(core.apps().resolve(a).await?.id),
        None => None,
    };
    core.webhooks().list(app_id).await
}

/// One endpoint. Errors: `not_found`.
pub async fn get(core: &Tessera, id: Uuid) -> Result<WebhookEndpoint> {
    core.webhooks().get(id).await
}

/// Change an endpoint; `None` leaves a field as it is, `description:
/// Some(None)` clears it.
pub async fn update(
    core: &Tessera,
    id: Uuid,
    patch: WebhookEndpointPatch,
) -> Result<WebhookEndpoint> {
    core.webhooks().update(id, &patch).await
}

/// Delete an endpoint and its delivery log. Errors: `not_found`.
pub async fn delete(core: &Tessera, id: Uuid) -> Result<()> {
    core.webhooks().delete(id).await
}

/// A new secret (shown once); the old one signs alongside it for
/// `keep_old_secs` (default 86400).
pub async fn rotate_secret(
    core: &Tessera,
    id: Uuid,
    keep_old_secs: Option<i64>,
) -> Result<WebhookSecret> {
    core.webhooks().rotate_secret(id, keep_old_secs).await
}

/// Queue a `webhook.test` event to the endpoint, whatever its filters.
pub async fn send_test(core: &Tessera, id: Uuid) -> Result<WebhookDelivery> {
    core.webhooks().send_test(id).await
}

/// An endpoint's delivery log, newest first; `status` is `pending`,
/// `succeeded` or `failed`.
///
/// Errors: `invalid_input` (status), `not_found`.
pub async fn deliveries(
    core: &Tessera,
    id: Uuid,
    status: Option<&str>,
    before: Option<Uuid>,
    limit: u32,
) -> Result<Vec<WebhookDelivery>> {
    let query = DeliveryQuery::from_params(status, before, limit)?;
    core.webhooks().deliveries(id, &query).await
}

/// Make a delivery pending and due now (a manual retry; same event id).
pub async fn retry(core: &Tessera, id: Uuid, delivery_id: Uuid) -> Result<WebhookDelivery> {
    core.webhooks().retry(id, delivery_id).await
}
