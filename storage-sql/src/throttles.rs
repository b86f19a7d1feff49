//! Failure counters and rate-limit windows ([`ThrottleStore`]): one
//! `throttles` row per backoff key (`sign_in:<pool>:<email>`, a device, …)
//! and one `rate_limits` row per limited key (an IP, an account).
//!
//! Atomic here, each in one statement: a failure is counted by one upsert
//! that also restarts a stale count; an attempt is decided *and* counted by
//! one conditional upsert (the `WHERE` of its `DO UPDATE` refuses a key that
//! is waiting, and the new wait is computed from the new count in the same
//! statement), so of concurrent attempts past the free ones exactly one
//! proceeds; a hit is counted in its window by one upsert that also starts a
//! new window when the old one has ended.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::Value;
use tessera_core::model::{Backoff, RateLimit, Reservation, Throttle};
use tessera_core::store::ThrottleStore;
use tessera_core::{Error, Result};

use crate::SqlStore;
use crate::dialect::{Row, text};
use crate::exec::db;
use crate::rows::{FromRow, table_row};

table_row!(Throttle, prefix "h_", [failures, last_failure_at, next_attempt_at]);

/// How often `reserve_attempt` tries again when the row that refused it
/// changed before it could be read (a concurrent success cleared it).
const RESERVE_TRIES: u32 = 4;

/// `i32` parameter (so Postgres types `count - $n` and `x << $n` as `int4`).
fn int(n: u32) -> Value {
    Value::Int(Some(i32::try_from(n).unwrap_or(i32::MAX)))
}

fn micros(d: chrono::Duration) -> i64 {
    d.num_microseconds().unwrap_or(i64::MAX).max(0)
}

impl SqlStore {
    /// One try of `reserve_attempt`: the granted state, or `None` when the
    /// conditional upsert touched no row (the key was waiting).
    async fn try_reserve(
        &self,
        key: &str,
        now: DateTime<Utc>,
        backoff: &Backoff,
    ) -> Result<Option<Throttle>> {
        let d = self.dialect;
        let count = "CASE WHEN throttles.last_failure_at < $3 THEN 1 \
                     ELSE throttles.failures + 1 END";
        // `Backoff::wait_after` in SQL: no shift reaches past `max` ($7).
        let wait = format!(
            "CASE WHEN {count} < $5 THEN 0 WHEN {count} - $5 >= $8 THEN $7 \
             ELSE $6 << ({count} - $5) END"
        );
        let (first, max) = if backoff.first_wait > chrono::Duration::zero() {
            (micros(backoff.first_wait), micros(backoff.max_wait))
        } else {
            (0, 0)
        };
        let sql = format!(
            "INSERT INTO throttles (throttle_key, failures, last_failure_at, next_attempt_at) \
             VALUES ($1, 1, $2, $4) \
             ON CONFLICT (throttle_key) DO UPDATE SET \
             failures = {count}, last_failure_at = $2, next_attempt_at = {next} \
             WHERE throttles.last_failure_at < $3 OR throttles.next_attempt_at IS NULL \
             OR throttles.next_attempt_at <= throttles.last_failure_at \
             OR throttles.next_attempt_at <= $2 \
             RETURNING {cols}",
            next = d.plus_micros("$2", &wait),
            cols = Throttle::columns(""),
        );
        let values = vec![
            text(key),
            d.ts(now),
            d.ts(now - backoff.reset_after),
            d.ts(now + backoff.wait_after(1)),
            int(backoff.free),
            first.into(),
            max.into(),
            int(backoff.doublings_to_max()),
        ];
        let rows = self.write_returning(&sql, values, db).await?;
        rows.first().map(|r| self.read(r)).transpose()
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

    async fn reserve_attempt(
        &self,
        key: &str,
        now: DateTime<Utc>,
        backoff: &Backoff,
    ) -> Result<Reservation> {
        for _ in 0..RESERVE_TRIES {
            if let Some(t) = self.try_reserve(key, now, backoff).await? {
                return Ok(Reservation::Granted(t));
            }
            // Refused: read until when. Should the row have changed since
            // (cleared by a success), try again.
            if let Some(until) = self
                .find_throttle(key)
                .await?
                .and_then(|t| t.waiting_until(now, backoff))
            {
                return Ok(Reservation::Refused { until });
            }
        }
        // The key keeps changing under us: refusing is the safe answer.
        Ok(Reservation::Refused { until: now })
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

    async fn hit(
        &self,
        key: &str,
        limit: &RateLimit,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>> {
        // One upsert: a new window when the old one has ended, else one more
        // hit (counting stops one past the limit, so it cannot overflow).
        let d = self.dialect;
        let sql = "INSERT INTO rate_limits (limit_key, hits, window_ends_at) VALUES ($1, 1, $3) \
                   ON CONFLICT (limit_key) DO UPDATE SET \
                   hits = CASE WHEN rate_limits.window_ends_at <= $2 THEN 1 \
                   WHEN rate_limits.hits > $4 THEN rate_limits.hits \
                   ELSE rate_limits.hits + 1 END, \
                   window_ends_at = CASE WHEN rate_limits.window_ends_at <= $2 THEN $3 \
                   ELSE rate_limits.window_ends_at END \
                   RETURNING hits AS r_hits, window_ends_at AS r_window_ends_at";
        let values = vec![
            text(key),
            d.ts(now),
            d.ts(now + limit.window),
            i64::from(limit.max).into(),
        ];
        let rows = self.write_returning(sql, values, db).await?;
        let r = rows
            .first()
            .ok_or_else(|| Error::internal("upsert returned no row"))?;
        let r = Row::new(r, d, "r_");
        let hits = i64::from(r.i32("hits")?);
        let ends_at = r.ts("window_ends_at")?;
        Ok((hits > i64::from(limit.max)).then_some(ends_at))
    }

    async fn delete_ended_windows(&self, cutoff: DateTime<Utc>) -> Result<u64> {
        self.write(
            "DELETE FROM rate_limits WHERE window_ends_at < $1",
            vec![self.dialect.ts(cutoff)],
            db,
        )
        .await
    }
}
