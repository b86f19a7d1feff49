//! The audit log ([`AuditStore`]): append-only events about sign-ins,
//! changes and admin actions.
//!
//! Atomic here: each append is one `INSERT` (concurrent appends are all
//! kept; a reused id is `Conflict`), and events have no foreign key, so they
//! outlive the users, apps and sessions they name.

use async_trait::async_trait;
use sea_orm::Value;
use tessera_core::Result;
use tessera_core::model::{AuditEvent, AuditQuery};
use tessera_core::store::AuditStore;

use crate::SqlStore;
use crate::dialect::{text, uuid};
use crate::rows::{FromRow, table_row};

table_row!(AuditEvent, table "audit_events", prefix "e_", [
    id, kind, pool_id, app_id, user_id, session_id, ip, user_agent, data, at,
]);

#[async_trait]
impl AuditStore for SqlStore {
    async fn append_event(&self, e: &AuditEvent) -> Result<()> {
        self.insert_row(e).await
    }

    async fn list_events(&self, q: &AuditQuery) -> Result<Vec<AuditEvent>> {
        let d = self.dialect;
        let mut values = Vec::new();
        let mut conds = Vec::new();
        let mut filter = |cond: &str, v: Value| {
            values.push(v);
            conds.push(cond.replace('?', &format!("${}", values.len())));
        };
        if let Some(u) = q.user_id {
            filter("e.user_id = ?", uuid(u));
        }
        if let Some(a) = q.app_id {
            filter("e.app_id = ?", uuid(a));
        }
        if let Some(p) = q.pool_id {
            filter("e.pool_id = ?", uuid(p));
        }
        if let Some(k) = &q.kind {
            filter("e.kind = ?", text(k));
        }
        if let Some(t) = q.since {
            filter("e.at >= ?", d.ts(t));
        }
        if let Some(t) = q.until {
            filter("e.at < ?", d.ts(t));
        }
        if let Some(b) = q.before {
            filter("e.id < ?", uuid(b));
        }
        let cond = if conds.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conds.join(" AND "))
        };
        values.push(i64::from(q.limit).into());
        let sql = format!(
            "SELECT {} FROM audit_events e {cond} ORDER BY e.id DESC LIMIT ${}",
            AuditEvent::columns("e"),
            values.len()
        );
        self.select(&sql, values).await
    }
}
