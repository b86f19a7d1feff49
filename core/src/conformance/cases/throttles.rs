//! Failure counters and API keys.

use std::sync::Arc;

use chrono::Duration;

use super::super::fixtures::*;
use crate::ErrorKind;
use crate::crypto::TokenHash;
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

/// API keys round-trip exactly and list oldest first; a duplicate id or hash
/// is `Conflict`; revoking is idempotent (keeps the first time) and
/// `NotFound` for a missing key; `touch_api_key` records the use.
pub async fn api_keys_round_trip_revoke_and_touch(store: Arc<dyn Store>) {
    let keys = store.api_keys();
    let (secret, mut k1) = api_key(ADVERSARIAL[0]);
    k1.scopes = vec!["users:read".into(), "audit:read".into()];
    k1.created_at = earliest();
    k1.expires_at = Some(latest());
    let (secret2, mut k2) = api_key("second 😀");
    k2.created_at = at(1);
    keys.insert_api_key(&k1).await.unwrap();
    keys.insert_api_key(&k2).await.unwrap();
    assert_eq!(
        keys.find_api_key(&TokenHash::of(&secret)).await.unwrap(),
        Some(k1.clone())
    );
    assert_eq!(
        keys.find_api_key(&TokenHash::of(&secret2)).await.unwrap(),
        Some(k2.clone())
    );
    assert_eq!(
        keys.find_api_key(&TokenHash::of("tsk_nope")).await.unwrap(),
        None
    );
    assert_eq!(
        keys.list_api_keys().await.unwrap(),
        vec![k1.clone(), k2.clone()]
    );

    let (_, mut same_hash) = api_key("copy");
    same_hash.hash = k1.hash;
    assert_err(keys.insert_api_key(&same_hash).await, ErrorKind::Conflict);
    let (other_secret, mut same_id) = api_key("copy");
    same_id.id = k1.id;
    assert_err(keys.insert_api_key(&same_id).await, ErrorKind::Conflict);
    assert_eq!(
        keys.find_api_key(&TokenHash::of(&other_secret))
            .await
            .unwrap(),
        None
    );
    assert_eq!(keys.list_api_keys().await.unwrap().len(), 2);

    let used = at(5) + micro();
    keys.touch_api_key(k2.id, used).await.unwrap();
    k2.last_used_at = Some(used);
    let revoked = at(6) + micro();
    keys.revoke_api_key(k1.id, revoked).await.unwrap();
    keys.revoke_api_key(k1.id, at(7)).await.unwrap();
    k1.revoked_at = Some(revoked);
    assert_eq!(
        keys.find_api_key(&TokenHash::of(&secret)).await.unwrap(),
        Some(k1.clone())
    );
    assert_eq!(keys.list_api_keys().await.unwrap(), vec![k1, k2]);
    assert_err(
        keys.revoke_api_key(new_id(stamp()), at(8)).await,
        ErrorKind::NotFound,
    );
}
