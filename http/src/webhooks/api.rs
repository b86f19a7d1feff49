//! The webhook admin routes (`docs/contract.md`, "Admin API"):
//! `GET`/`POST /v1/admin/webhooks`, `GET`/`PATCH`/`DELETE
//! /v1/admin/webhooks/{id}`, `POST …/{id}/rotate-secret`, `POST …/{id}/test`,
//! `GET …/{id}/deliveries` and `POST …/{id}/deliveries/{delivery_id}/retry`.
//! Admin keys need `webhooks:read` (GET) or `webhooks:write`.

use axum::extract::State;
use axum::http::StatusCode;
use tessera_core::model::{DeliveryQuery, WebhookEndpointPatch};
use tessera_core::{Error, NewWebhookEndpoint};
use utoipa_axum::router::OpenApiRouter;
use uuid::Uuid;

use crate::error::{ApiResult, ErrorEnvelope};
use crate::extract::{AdminKey, Json, Path, Query};
use crate::openapi::handlers;
use crate::state::AppState;
use crate::webhooks::dto::{
    CreatedWebhookView, DeliveriesPage, DeliveryParams, DeliveryView, RotateSecret, SecretView,
    TestEventView, WebhookCreate, WebhookListParams, WebhookPatch, WebhookView, WebhooksView,
};

/// Routes of this module.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    handlers![
        list_webhooks, create_webhook;
        get_webhook, patch_webhook, delete_webhook;
        rotate_secret;
        send_test;
        list_deliveries;
        retry_delivery
    ]
}

/// The id of the app `app` (id or slug) names, if any.
async fn app_id(state: &AppState, app: Option<&str>) -> Result<Option<Uuid>, Error> {
    match app {
        Some(a) => Ok(Some(state.tessera.apps().resolve(a).await?.id)),
        None => Ok(None),
    }
}

/// List webhook endpoints (never their secrets).
#[utoipa::path(get, path = "/v1/admin/webhooks", tag = "webhooks", security(("api_key" = [])),
    params(WebhookListParams),
    responses((status = 200, body = WebhooksView), (status = 404, description = "Unknown app", body = ErrorEnvelope)))]
async fn list_webhooks(
    State(state): State<AppState>,
    _key: AdminKey,
    Query(p): Query<WebhookListParams>,
) -> ApiResult<axum::Json<WebhooksView>> {
    let app_id = app_id(&state, p.app.as_deref()).await?;
    let webhooks = state.tessera.webhooks().list(app_id).await?;
    Ok(axum::Json(WebhooksView {
        webhooks: webhooks.into_iter().map(Into::into).collect(),
    }))
}

/// Create a webhook endpoint; its secret is in this answer only.
#[utoipa::path(post, path = "/v1/admin/webhooks", tag = "webhooks", security(("api_key" = [])),
    request_body = WebhookCreate,
    responses((status = 201, body = CreatedWebhookView),
        (status = 404, description = "Unknown app", body = ErrorEnvelope),
        (status = 422, description = "`invalid_webhook_url`: not https, or resolving to a non-public address; `invalid_input`: unknown event filter or bad description", body = ErrorEnvelope)))]
async fn create_webhook(
    State(state): State<AppState>,
    _key: AdminKey,
    Json(req): Json<WebhookCreate>,
) -> ApiResult<(StatusCode, axum::Json<CreatedWebhookView>)> {
    let app_id = app_id(&state, req.app.as_deref()).await?;
    let created = state
        .tessera
        .webhooks()
        .create(&NewWebhookEndpoint {
            app_id,
            url: req.url,
            events: req.events,
            description: req.description,
            asymmetric: req.asymmetric,
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(CreatedWebhookView {
            webhook: created.endpoint.into(),
            secret: created.secret,
        }),
    ))
}

/// Get a webhook endpoint.
#[utoipa::path(get, path = "/v1/admin/webhooks/{id}", tag = "webhooks", security(("api_key" = [])),
    params(("id" = Uuid, Path, description = "Endpoint id")),
    responses((status = 200, body = WebhookView), (status = 404, body = ErrorEnvelope)))]
async fn get_webhook(
    State(state): State<AppState>,
    _key: AdminKey,
    Path(id): Path<Uuid>,
) -> ApiResult<axum::Json<WebhookView>> {
    Ok(axum::Json(state.tessera.webhooks().get(id).await?.into()))
}

/// Change a webhook endpoint: URL, filters, description, enabled (`true`
/// turns back on an endpoint Tessera disabled).
#[utoipa::path(patch, path = "/v1/admin/webhooks/{id}", tag = "webhooks", security(("api_key" = [])),
    params(("id" = Uuid, Path, description = "Endpoint id")), request_body = WebhookPatch,
    responses((status = 200, body = WebhookView), (status = 404, body = ErrorEnvelope),
        (status = 422, description = "`invalid_webhook_url` or `invalid_input`", body = ErrorEnvelope)))]
async fn patch_webhook(
    State(state): State<AppState>,
    _key: AdminKey,
    Path(id): Path<Uuid>,
    Json(req): Json<WebhookPatch>,
) -> ApiResult<axum::Json<WebhookView>> {
    let patch = WebhookEndpointPatch {
        url: req.url,
        description: req.description,
        events: req.events,
        enabled: req.enabled,
    };
    Ok(axum::Json(
        state.tessera.webhooks().update(id, &patch).await?.into(),
    ))
}

/// Delete a webhook endpoint and its delivery log.
#[utoipa::path(delete, path = "/v1/admin/webhooks/{id}", tag = "webhooks", security(("api_key" = [])),
    params(("id" = Uuid, Path, description = "Endpoint id")),
    responses((status = 204), (status = 404, body = ErrorEnvelope)))]
async fn delete_webhook(
    State(state): State<AppState>,
    _key: AdminKey,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    state.tessera.webhooks().delete(id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Give an endpoint a new secret (shown once); the old one keeps signing
/// alongside it for `keep_old_secs`, each delivery then carrying both
/// signatures.
#[utoipa::path(post, path = "/v1/admin/webhooks/{id}/rotate-secret", tag = "webhooks", security(("api_key" = [])),
    params(("id" = Uuid, Path, description = "Endpoint id")), request_body = RotateSecret,
    responses((status = 200, body = SecretView), (status = 404, body = ErrorEnvelope),
        (status = 422, description = "`keep_old_secs` out of range", body = ErrorEnvelope)))]
async fn rotate_secret(
    State(state): State<AppState>,
    _key: AdminKey,
    Path(id): Path<Uuid>,
    Json(req): Json<RotateSecret>,
) -> ApiResult<axum::Json<SecretView>> {
    let rotated = state
        .tessera
        .webhooks()
        .rotate_secret(id, req.keep_old_secs)
        .await?;
    Ok(axum::Json(SecretView {
        secret: rotated.secret,
    }))
}

/// Queue a `webhook.test` event to the endpoint, whatever its filters.
#[utoipa::path(post, path = "/v1/admin/webhooks/{id}/test", tag = "webhooks", security(("api_key" = [])),
    params(("id" = Uuid, Path, description = "Endpoint id")),
    responses((status = 202, body = TestEventView), (status = 404, body = ErrorEnvelope)))]
async fn send_test(
    State(state): State<AppState>,
    _key: AdminKey,
    Path(id): Path<Uuid>,
) -> ApiResult<(StatusCode, axum::Json<TestEventView>)> {
    let delivery = state.tessera.webhooks().send_test(id).await?;
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(TestEventView {
            event_id: delivery.event_id,
        }),
    ))
}

/// An endpoint's delivery log, newest first.
#[utoipa::path(get, path = "/v1/admin/webhooks/{id}/deliveries", tag = "webhooks", security(("api_key" = [])),
    params(("id" = Uuid, Path, description = "Endpoint id"), DeliveryParams),
    responses((status = 200, body = DeliveriesPage), (status = 404, body = ErrorEnvelope),
        (status = 422, description = "Unknown status", body = ErrorEnvelope)))]
async fn list_deliveries(
    State(state): State<AppState>,
    _key: AdminKey,
    Path(id): Path<Uuid>,
    Query(p): Query<DeliveryParams>,
) -> ApiResult<axum::Json<DeliveriesPage>> {
    let limit = p.limit.unwrap_or(100).clamp(1, 1000);
    let query = DeliveryQuery::from_params(p.status.as_deref(), p.cursor, limit)?;
    let deliveries = state.tessera.webhooks().deliveries(id, &query).await?;
    let next_cursor = (deliveries.len() == limit as usize)
        .then(|| deliveries.last().map(|d| d.id.to_string()))
        .flatten();
    Ok(axum::Json(DeliveriesPage {
        deliveries: deliveries.into_iter().map(Into::into).collect(),
        next_cursor,
    }))
}

/// Make a delivery pending and due now, whatever its state (a manual retry;
/// the event keeps its id).
#[utoipa::path(post, path = "/v1/admin/webhooks/{id}/deliveries/{delivery_id}/retry", tag = "webhooks", security(("api_key" = [])),
    params(("id" = Uuid, Path, description = "Endpoint id"), ("delivery_id" = Uuid, Path, description = "Delivery id")),
    responses((status = 202, body = DeliveryView), (status = 404, body = ErrorEnvelope)))]
async fn retry_delivery(
    State(state): State<AppState>,
    _key: AdminKey,
    Path((id, delivery_id)): Path<(Uuid, Uuid)>,
) -> ApiResult<(StatusCode, axum::Json<DeliveryView>)> {
    let delivery = state.tessera.webhooks().retry(id, delivery_id).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(delivery.into())))
}
