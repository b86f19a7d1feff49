//! The audit log ([`AuditStore`]): append-only events about sign-ins,
//! changes and admin actions, and the writing of the events every change
//! records (with their webhook deliveries), which the other store files
//! share.
//!
//! Atomic here: each append is one `INSERT` (concurrent appends are all
//! kept; a reused id is `Conflict`), and events have no foreign key, so they
//! outlive the users, apps and sessions they name. A method that changes
//! state writes its events with [`Tx::append_events`] inside the transaction
//! of its change, so both commit or neither does.

use async_trait::async_trait;
use sea_orm::Value;
use tessera_core::model::{AuditEvent, AuditQuery, NewEvent, WebhookDelivery, WebhookEndpoint};
use tessera_core::store::AuditStore;
use tessera_core::{Result, new_id};

use crate::SqlStore;
use crate::dialect::{text, uuid};
use crate::exec::Tx;
use crate::rows::{FromRow, table_row};

table_row!(AuditEvent, table "audit_events", prefix "e_", [
    id, kind, pool_id, app_id, user_id, session_id, ip, user_agent, data, at,
]);

impl Tx<'_> {
    /// Write `events` inside this transaction, and a delivery of each public
    /// event to every enabled endpoint that accepts it (one read of the
    /// enabled endpoints, only when there is a public event). Any failure (a
    /// reused event id is `Conflict`) fails the transaction, and with it the
    /// change.
    pub(crate) async fn append_events(&self, events: &[NewEvent]) -> Result<()> {
        for e in events {
            self.insert_row(&e.audit).await?;
        }
        if events.iter().all(|e| e.webhooks.is_empty()) {
            return Ok(());
        }
        let sql = format!(
            "SELECT {} FROM webhook_endpoints w WHERE w.enabled",
            WebhookEndpoint::columns("w")
        );
        let endpoints: Vec<WebhookEndpoint> = self.select(&sql, vec![]).await?;
        for w in events.iter().flat_map(|e| &e.webhooks) {
            for endpoint in endpoints.iter().filter(|ep| ep.accepts(w)) {
                self.insert_row(&WebhookDelivery::new(new_id(w.at), endpoint.id, w))
                    .await?;
            }
        }
        Ok(())
    }
}

impl SqlStore {
    /// Run one writing statement and, when it touched a row, write `events`
    /// with it, in one transaction; whether it touched any.
    pub(crate) async fn write_with_events(
        &self,
        sql: &str,
        values: Vec<Value>,
        events: &[NewEvent],
    ) -> Result<bool> {
        let tx = self.begin().await?;
        let r = async {
            let changed = tx.exec(sql, values).await? > 0;
            if changed {
                tx.append_events(events).await?;
            }
            Ok(changed)
        }
        .await;
        tx.finish(r).await
    }
}

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
