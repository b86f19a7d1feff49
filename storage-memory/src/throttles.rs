//! Failure counters and rate-limit windows ([`ThrottleStore`]) behind
//! backoff and rate limits.
//!
//! Atomic here (under the store's one mutex): a failure is counted, an
//! attempt decided and counted, or a hit counted in its window, in one step,
//! so concurrent callers are all counted and a wait lets exactly one through.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tessera_core::Result;
use tessera_core::model::*;
use tessera_core::store::ThrottleStore;

use crate::MemoryStore;
use crate::state::Window;

#[async_trait]
impl ThrottleStore for MemoryStore {
    async fn record_failure(
        &self,
        key: &str,
        now: DateTime<Utc>,
        reset_before: DateTime<Utc>,
    ) -> Result<Throttle> {
        let mut s = self.lock();
        let t = s
            .throttles
            .entry(key.to_owned())
            .and_modify(|t| {
                if t.last_failure_at < reset_before {
                    t.failures = 1;
                } else {
                    t.failures = t.failures.saturating_add(1);
                }
                t.last_failure_at = now;
            })
            .or_insert(Throttle {
                failures: 1,
                last_failure_at: now,
                next_attempt_at: None,
            });
        Ok(*t)
    }

    async fn reserve_attempt(
        &self,
        key: &str,
        now: DateTime<Utc>,
        backoff: &Backoff,
    ) -> Result<Reservation> {
        let mut s = self.lock();
        let prior = s.throttles.get(key);
        if let Some(until) = prior.and_then(|t| t.waiting_until(now, backoff)) {
            return Ok(Reservation::Refused { until });
        }
        let prior = prior.filter(|t| t.last_failure_at >= now - backoff.reset_after);
        let failures = prior.map_or(1, |t| t.failures.saturating_add(1));
        let t = Throttle {
            failures,
            last_failure_at: now,
            next_attempt_at: Some(now + backoff.wait_after(failures)),
        };
        s.throttles.insert(key.to_owned(), t);
        Ok(Reservation::Granted(t))
    }

    async fn find_throttle(&self, key: &str) -> Result<Option<Throttle>> {
        Ok(self.lock().throttles.get(key).copied())
    }

    async fn clear_throttle(&self, key: &str) -> Result<()> {
        self.lock().throttles.remove(key);
        Ok(())
    }

    async fn delete_stale_throttles(&self, cutoff: DateTime<Utc>) -> Result<u64> {
        let mut s = self.lock();
        let before = s.throttles.len();
        s.throttles.retain(|_, t| t.last_failure_at >= cutoff);
        Ok((before - s.throttles.len()) as u64)
    }

    async fn hit(
        &self,
        key: &str,
        limit: &RateLimit,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>> {
        let mut s = self.lock();
        let w = s
            .windows
            .entry(key.to_owned())
            .and_modify(|w| {
                if w.ends_at <= now {
                    *w = Window {
                        hits: 1,
                        ends_at: now + limit.window,
                    };
                } else if w.hits <= limit.max {
                    w.hits = w.hits.saturating_add(1);
                }
            })
            .or_insert(Window {
                hits: 1,
                ends_at: now + limit.window,
            });
        Ok((w.hits > limit.max).then_some(w.ends_at))
    }

    async fn delete_ended_windows(&self, cutoff: DateTime<Utc>) -> Result<u64> {
        let mut s = self.lock();
        let before = s.windows.len();
        s.windows.retain(|_, w| w.ends_at >= cutoff);
        Ok((before - s.windows.len()) as u64)
    }
}
