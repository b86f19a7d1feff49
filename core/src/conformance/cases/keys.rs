//! Token signing keys.

use std::sync::Arc;

use chrono::Duration;

use super::super::fixtures::*;
use crate::model::SigningAlg;
use crate::store::Store;

/// The first key is stored as the active one and round-trips exactly
/// (sealed bytes of every value, JWK text); a second first key is not stored
/// and the caller gets the existing one back.
pub async fn insert_first_signing_key_keeps_the_first(store: Arc<dyn Store>) {
    let keys = store.keys();
    assert!(keys.list_signing_keys().await.unwrap().is_empty());
    let mut first = signing_key("kid-1");
    first.created_at = earliest();
    first.alg = SigningAlg::RS256;
    assert_eq!(keys.insert_first_signing_key(&first).await.unwrap(), first);
    let second = signing_key("kid-2");
    assert_eq!(keys.insert_first_signing_key(&second).await.unwrap(), first);
    assert_eq!(keys.list_signing_keys().await.unwrap(), vec![first]);
}

/// Rotation retires every active key (with `retired_at` and `publish_until`)
/// and makes the new key the active one; keys list oldest first.
pub async fn rotate_signing_key_retires_the_active_key(store: Arc<dyn Store>) {
    let keys = store.keys();
    let mut k1 = signing_key("kid-1");
    k1.created_at = at(0);
    keys.insert_first_signing_key(&k1).await.unwrap();
    let mut k2 = signing_key("kid-2");
    k2.created_at = at(10);
    k2.alg = SigningAlg::ES256;
    let now = at(10) + micro();
    let until = latest();
    keys.rotate_signing_key(&k2, now, until, &[]).await.unwrap();
    let mut retired1 = k1.clone();
    retired1.retired_at = Some(now);
    retired1.publish_until = Some(until);
    assert_eq!(
        keys.list_signing_keys().await.unwrap(),
        vec![retired1.clone(), k2.clone()]
    );
    // A racing "first use" now answers the rotated-in key.
    assert_eq!(
        keys.insert_first_signing_key(&signing_key("kid-x"))
            .await
            .unwrap(),
        k2
    );
    let mut k3 = signing_key("kid-3");
    k3.created_at = at(20);
    keys.rotate_signing_key(&k3, at(20), at(20) + Duration::hours(1), &[])
        .await
        .unwrap();
    let mut retired2 = k2.clone();
    retired2.retired_at = Some(at(20));
    retired2.publish_until = Some(at(20) + Duration::hours(1));
    // Already-retired keys keep their first retirement.
    assert_eq!(
        keys.list_signing_keys().await.unwrap(),
        vec![retired1, retired2, k3]
    );
}

/// `delete_unpublished_keys` deletes retired keys whose `publish_until` is
/// before the cutoff and keeps those at or after it, and the active key.
pub async fn delete_unpublished_keys_honours_the_cutoff(store: Arc<dyn Store>) {
    let keys = store.keys();
    let cutoff = at(1000);
    let k1 = signing_key("gone");
    keys.insert_first_signing_key(&k1).await.unwrap();
    let k2 = signing_key("exactly-at-cutoff");
    keys.rotate_signing_key(&k2, at(1), cutoff - micro(), &[])
        .await
        .unwrap();
    let k3 = signing_key("after-cutoff");
    keys.rotate_signing_key(&k3, at(2), cutoff, &[])
        .await
        .unwrap();
    let k4 = signing_key("active");
    keys.rotate_signing_key(&k4, at(3), cutoff + micro(), &[])
        .await
        .unwrap();
    // k1 published until cutoff - 1µs, k2 until the cutoff, k3 until after it.
    assert_eq!(keys.delete_unpublished_keys(cutoff).await.unwrap(), 1);
    let left: Vec<_> = keys
        .list_signing_keys()
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.kid)
        .collect();
    assert_eq!(left, vec!["exactly-at-cutoff", "after-cutoff", "active"]);
    assert_eq!(keys.delete_unpublished_keys(cutoff).await.unwrap(), 0);
    // Even far in the future the active key is never deleted.
    assert_eq!(keys.delete_unpublished_keys(latest()).await.unwrap(), 2);
    let left: Vec<_> = keys
        .list_signing_keys()
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.kid)
        .collect();
    assert_eq!(left, vec!["active"]);
}
