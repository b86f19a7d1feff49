//! The audit log.

use tessera_core::model::{AuditEvent, AuditQuery};
use tessera_core::{Result, Tessera};

/// Events matching `query`, newest first; `app` (id or slug), when given,
/// sets the query's app.
pub async fn list(
    core: &Tessera,
    app: Option<&str>,
    mut query: AuditQuery,
) -> Result<Vec<AuditEvent>> {
    if let Some(app) = app {
        query.app_id = Some(core.apps().resolve(app).await?.id);
    }
    core.audit().list(&query).await
}
