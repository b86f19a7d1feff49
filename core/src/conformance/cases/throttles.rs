//! Failure counters (throttles).

use std::sync::Arc;

use chrono::Duration;

use super::super::fixtures::*;
use crate::model::Throttle;
use crate::new_id;
use crate::store::Store;

/// `record_failure` counts per key and answers the new state; a count whose
/// last failure is older than `reset_before` starts again at 1 (one exactly
/// at `reset_before` does not); `clear_throttle` forgets the key.
pub async fn record_failure_counts_and_resets(store: Arc<dyn Store>) {
    let th = store.throttles();
    let key = format!("sign_in:{}:{}", new_id(stamp()), ADVERSARIAL[0]);
    let other = format!("sign_in:x:{}", ADVERSARIAL[5]);
    assert_eq!(th.find_throttle(&key).await.unwrap(), None);
    let t1 = at(0) + micro();
    assert_eq!(
        th.record_failure(&key, t1, t1 - Duration::hours(1))
            .await
            .unwrap(),
        Throttle {
            failures: 1,
            last_failure_at: t1
        }
    );
    th.record_failure(&other, t1, t1 - Duration::hours(1))
        .await
        .unwrap();
    let t2 = at(10);
    assert_eq!(
        th.record_failure(&key, t2, t2 - Duration::hours(1))
            .await
            .unwrap(),
        Throttle {
            failures: 2,
            last_failure_at: t2
        }
    );
    // A reset boundary exactly at the last failure keeps counting.
    let t3 = at(20);
    assert_eq!(
        th.record_failure(&key, t3, t2).await.unwrap(),
        Throttle {
            failures: 3,
            last_failure_at: t3
        }
    );
    assert_eq!(
        th.find_throttle(&key).await.unwrap(),
        Some(Throttle {
            failures: 3,
            last_failure_at: t3
        })
    );
    // Older than the boundary: start again.
    let t4 = at(7200);
    assert_eq!(
        th.record_failure(&key, t4, t3 + micro()).await.unwrap(),
        Throttle {
            failures: 1,
            last_failure_at: t4
        }
    );
    th.clear_throttle(&key).await.unwrap();
    assert_eq!(th.find_throttle(&key).await.unwrap(), None);
    th.clear_throttle(&key).await.unwrap();
    assert_eq!(
        th.find_throttle(&other).await.unwrap(),
        Some(Throttle {
            failures: 1,
            last_failure_at: t1
        })
    );
    assert_eq!(
        th.record_failure(&key, t4, t4).await.unwrap().failures,
        1,
        "a cleared key counts from 1"
    );
}
