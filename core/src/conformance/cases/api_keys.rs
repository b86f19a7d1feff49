//! Admin API keys: round-trips, unique id and hash, revocation and use.

use std::sync::Arc;

use super::super::fixtures::*;
use crate::ErrorKind;
use crate::crypto::TokenHash;
use crate::new_id;
use crate::store::Store;

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
    keys.insert_api_key(&k1, &[]).await.unwrap();
    keys.insert_api_key(&k2, &[]).await.unwrap();
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
    assert_err(
        keys.insert_api_key(&same_hash, &[]).await,
        ErrorKind::Conflict,
    );
    let (other_secret, mut same_id) = api_key("copy");
    same_id.id = k1.id;
    assert_err(
        keys.insert_api_key(&same_id, &[]).await,
        ErrorKind::Conflict,
    );
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
    keys.revoke_api_key(k1.id, revoked, &[]).await.unwrap();
    keys.revoke_api_key(k1.id, at(7), &[]).await.unwrap();
    k1.revoked_at = Some(revoked);
    assert_eq!(
        keys.find_api_key(&TokenHash::of(&secret)).await.unwrap(),
        Some(k1.clone())
    );
    assert_eq!(keys.list_api_keys().await.unwrap(), vec![k1, k2]);
    assert_err(
        keys.revoke_api_key(new_id(stamp()), at(8), &[]).await,
        ErrorKind::NotFound,
    );
}
