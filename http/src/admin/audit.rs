//! `GET /v1/admin/audit`: audit events, newest first, filtered.

use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tessera_core::model::{AuditEvent, AuditQuery};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use uuid::Uuid;

use crate::error::{ApiResult, ErrorEnvelope};
use crate::extract::{AdminKey, Query};
use crate::openapi::handlers;
use crate::state::AppState;

/// Routes of this module.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    handlers![list_audit]
}

/// An audit event.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub(crate) struct AuditEventView {
    /// Event id.
    pub(crate) id: Uuid,
    /// Type, e.g. `sign_in.failed`.
    #[serde(rename = "type")]
    pub(crate) kind: String,
    /// Pool.
    pub(crate) pool_id: Option<Uuid>,
    /// App.
    pub(crate) app_id: Option<Uuid>,
    /// User.
    pub(crate) user_id: Option<Uuid>,
    /// Session.
    pub(crate) session_id: Option<Uuid>,
    /// Client IP.
    pub(crate) ip: Option<String>,
    /// Client user agent.
    pub(crate) user_agent: Option<String>,
    /// Details.
    #[schema(value_type = Object)]
    pub(crate) data: Value,
    /// When.
    pub(crate) at: DateTime<Utc>,
}

impl From<AuditEvent> for AuditEventView {
    fn from(e: AuditEvent) -> Self {
        AuditEventView {
            id: e.id,
            kind: e.kind,
            pool_id: e.pool_id,
            app_id: e.app_id,
            user_id: e.user_id,
            session_id: e.session_id,
            ip: e.ip,
            user_agent: e.user_agent,
            data: e.data,
            at: e.at,
        }
    }
}

/// A page of audit events.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub(crate) struct AuditPage {
    /// Events, newest first.
    pub(crate) events: Vec<AuditEventView>,
    /// Cursor for the next (older) page.
    pub(crate) next_cursor: Option<String>,
}

/// Filters of the audit log.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct AuditParams {
    /// Only this user's events.
    user: Option<Uuid>,
    /// Only this app's events (id or slug).
    app: Option<String>,
    /// Only events of this type.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    kind: Option<String>,
    /// Only events at or after this time (RFC 3339).
    since: Option<DateTime<Utc>>,
    /// Only events before this time (RFC 3339).
    until: Option<DateTime<Utc>>,
    /// Cursor from the previous page.
    cursor: Option<Uuid>,
    /// Page size (default 100, at most 1000).
    limit: Option<u32>,
}

/// Audit events, newest first.
#[utoipa::path(get, path = "/v1/admin/audit", tag = "admin", security(("api_key" = [])), params(AuditParams),
    responses((status = 200, body = AuditPage), (status = 401, body = ErrorEnvelope)))]
async fn list_audit(
    State(state): State<AppState>,
    _key: AdminKey,
    Query(p): Query<AuditParams>,
) -> ApiResult<axum::Json<AuditPage>> {
    let app_id = match p.app {
        Some(a) => Some(state.tessera.apps().resolve(&a).await?.id),
        None => None,
    };
    let limit = p.limit.unwrap_or(100).clamp(1, 1000);
    let events = state
        .tessera
        .audit()
        .list(&AuditQuery {
            user_id: p.user,
            app_id,
            pool_id: None,
            kind: p.kind,
            since: p.since,
            until: p.until,
            before: p.cursor,
            limit,
        })
        .await?;
    let next_cursor = (events.len() == limit as usize)
        .then(|| events.last().map(|e| e.id.to_string()))
        .flatten();
    Ok(axum::Json(AuditPage {
        events: events.into_iter().map(Into::into).collect(),
        next_cursor,
    }))
}
