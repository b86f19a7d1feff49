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
use crate::dialect::{Dialect, Row, text, text_opt, uuid, uuid_opt};
use crate::exec::db;
use crate::rows::{FromRow, ToRow};

impl FromRow for AuditEvent {
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "kind",
        "pool_id",
        "app_id",
        "user_id",
        "session_id",
        "ip",
        "user_agent",
        "data",
        "at",
    ];
    const PREFIX: &'static str = "e_";

    fn from_row(r: &Row<'_>) -> Result<Self> {
        Ok(AuditEvent {
            id: r.uuid("id")?,
            kind: r.text("kind")?,
            pool_id: r.uuid_opt("pool_id")?,
            app_id: r.uuid_opt("app_id")?,
            user_id: r.uuid_opt("user_id")?,
            session_id: r.uuid_opt("session_id")?,
            ip: r.text_opt("ip")?,
            user_agent: r.text_opt("user_agent")?,
            data: r.json("data")?,
            at: r.ts("at")?,
        })
    }
}

impl ToRow for AuditEvent {
    const TABLE: &'static str = "audit_events";

    fn values(&self, d: Dialect) -> Result<Vec<Value>> {
        Ok(vec![
            uuid(self.id),
            text(&self.kind),
            uuid_opt(self.pool_id),
            uuid_opt(self.app_id),
            uuid_opt(self.user_id),
            uuid_opt(self.session_id),
            text_opt(self.ip.as_deref()),
            text_opt(self.user_agent.as_deref()),
            d.json(&self.data),
            d.ts(self.at),
        ])
    }
}

#[async_trait]
impl AuditStore for SqlStore {
    async fn append_event(&self, e: &AuditEvent) -> Result<()> {
        self.write(&AuditEvent::insert(), e.values(self.dialect)?, db)
            .await?;
        Ok(())
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
