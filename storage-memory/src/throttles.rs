//! Failure counters ([`ThrottleStore`]) behind rate limits and lockouts.
//!
//! Atomic here (under the store's one mutex): a failure is counted, and a
//! stale count restarted, in one step, so concurrent failures are all counted.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tessera_core::Result;
use tessera_core::model::*;
use tessera_core::store::ThrottleStore;

use crate::MemoryStore;

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
            });
        Ok(*t)
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
}
