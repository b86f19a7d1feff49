//! Failure counters ([`ThrottleStore`]) behind rate limits and lockouts,
//! one row per key (`sign_in:<pool>:<email>`, an IP, …).
//!
//! Atomic here: a failure is counted by one upsert that also restarts a
//! stale count, so concurrent failures against one key are all counted and
//! none is lost between a read and a write.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tessera_core::model::Throttle;
use tessera_core::store::ThrottleStore;
use tessera_core::{Error, Result};

use crate::SqlStore;
use crate::dialect::text;
use crate::exec::db;
use crate::rows::{FromRow, table_row};

table_row!(Throttle, prefix "h_", [failures, last_failure_at]);

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
        let sql = format!(
            "INSERT INTO throttles (throttle_key, failures, last_failure_at) VALUES ($1, 1, $2) \
             ON CONFLICT (throttle_key) DO UPDATE SET \
             failures = CASE WHEN throttles.last_failure_at < $3 THEN 1 \
             ELSE throttles.failures + 1 END, last_failure_at = $2 \
             RETURNING {}",
            Throttle::columns("")
        );
        let rows = self
            .write_returning(&sql, vec![text(key), d.ts(now), d.ts(reset_before)], db)
            .await?;
        match rows.first() {
            Some(r) => self.read(r),
            None => Err(Error::internal("upsert returned no row")),
        }
    }

    async fn find_throttle(&self, key: &str) -> Result<Option<Throttle>> {
        let sql = format!(
            "SELECT {} FROM throttles WHERE throttle_key = $1",
            Throttle::columns("")
        );
        self.select_one(&sql, vec![text(key)]).await
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
