//! The audit log and failure counters.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::QueryResult;
use tessera_core::Result;
use tessera_core::model::{AuditEvent, AuditQuery, Throttle};
use tessera_core::store::{AuditStore, ThrottleStore};

use crate::SqlStore;
use crate::dialect::{Row, cols, text, text_opt, uuid, uuid_opt};
use crate::exec::db;

const EVENT: &[&str] = &[
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

impl SqlStore {
    fn event(&self, r: &QueryResult) -> Result<AuditEvent> {
        let r = Row::new(r, self.dialect, "e_");
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

    fn throttle(&self, r: &QueryResult) -> Result<Throttle> {
        let r = Row::new(r, self.dialect, "h_");
        Ok(Throttle {
            failures: u32::try_from(r.i32("failures")?).unwrap_or(0),
            last_failure_at: r.ts("last_failure_at")?,
        })
    }
}

#[async_trait]
impl AuditStore for SqlStore {
    async fn append_event(&self, e: &AuditEvent) -> Result<()> {
        let d = self.dialect;
        self.write(
            "INSERT INTO audit_events (id, kind, pool_id, app_id, user_id, session_id, ip, \
             user_agent, data, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            vec![
                uuid(e.id),
                text(&e.kind),
                uuid_opt(e.pool_id),
                uuid_opt(e.app_id),
                uuid_opt(e.user_id),
                uuid_opt(e.session_id),
                text_opt(e.ip.as_deref()),
                text_opt(e.user_agent.as_deref()),
                d.json(&e.data),
                d.ts(e.at),
            ],
            db,
        )
        .await?;
        Ok(())
    }

    async fn list_events(&self, q: &AuditQuery) -> Result<Vec<AuditEvent>> {
        let d = self.dialect;
        let mut values = Vec::new();
        let mut conds = Vec::new();
        let mut filter = |cond: &str, v: sea_orm::Value| {
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
            cols("e", "e_", EVENT),
            values.len()
        );
        self.all(&sql, values)
            .await?
            .iter()
            .map(|r| self.event(r))
            .collect()
    }
}

#[async_trait]
impl ThrottleStore for SqlStore {
    async fn record_failure(
        &self,
        key: &str,
        now: DateTime<Utc>,
        reset_before: DateTime<Utc>,
    ) -> Result<Throttle> {
        // One upsert: concurrent failures against one key all count.
        let d = self.dialect;
        let rows = self
            .write_returning(
                "INSERT INTO throttles (throttle_key, failures, last_failure_at) VALUES ($1, 1, $2) \
                 ON CONFLICT (throttle_key) DO UPDATE SET \
                 failures = CASE WHEN throttles.last_failure_at < $3 THEN 1 \
                 ELSE throttles.failures + 1 END, last_failure_at = $2 \
                 RETURNING failures AS h_failures, last_failure_at AS h_last_failure_at",
                vec![text(key), d.ts(now), d.ts(reset_before)],
                db,
            )
            .await?;
        match rows.first() {
            Some(r) => self.throttle(r),
            None => Err(tessera_core::Error::internal("upsert returned no row")),
        }
    }

    async fn find_throttle(&self, key: &str) -> Result<Option<Throttle>> {
        self.one(
            "SELECT failures AS h_failures, last_failure_at AS h_last_failure_at \
             FROM throttles WHERE throttle_key = $1",
            vec![text(key)],
        )
        .await?
        .map(|r| self.throttle(&r))
        .transpose()
    }

    async fn clear_throttle(&self, key: &str) -> Result<()> {
        self.write(
            "DELETE FROM throttles WHERE throttle_key = $1",
            vec![text(key)],
            db,
        )
        .await?;
        Ok(())
    }

    async fn delete_stale_throttles(&self, cutoff: DateTime<Utc>) -> Result<u64> {
        self.write(
            "DELETE FROM throttles WHERE last_failure_at < $1",
            vec![self.dialect.ts(cutoff)],
            db,
        )
        .await
    }
}
