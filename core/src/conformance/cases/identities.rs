//! External identities (an OAuth provider's subject linked to a user):
//! round-trips, uniqueness per (pool, provider, subject), scoped unlinking.

use std::sync::Arc;

use serde_json::json;

use super::super::fixtures::*;
use crate::ErrorKind;
use crate::store::Store;

/// Identities round-trip (adversarial provider, subject and profile) through
/// `find_identity` and `list_identities` (oldest first); `touch_identity`
/// records the latest profile and time.
pub async fn identities_round_trip(store: Arc<dyn Store>) {
    let (p, _) = insert_pool_and_app(store.as_ref(), "main").await;
    let u = insert_user(store.as_ref(), &p, "ada@example.com").await;
    let ids = store.identities();
    let mut first = identity(&u, "google", ADVERSARIAL[0]);
    first.profile = max_metadata();
    first.created_at = earliest();
    first.last_used_at = Some(latest());
    first.email = Some(max_email("g"));
    let mut second = identity(&u, ADVERSARIAL[5], ADVERSARIAL[9]);
    second.created_at = at(1);
    second.email = None;
    second.email_verified = false;
    ids.insert_identity(&first, &[]).await.unwrap();
    ids.insert_identity(&second, &[]).await.unwrap();
    assert_eq!(
        ids.find_identity(p.id, "google", ADVERSARIAL[0])
            .await
            .unwrap(),
        Some(first.clone())
    );
    assert_eq!(
        ids.find_identity(p.id, ADVERSARIAL[5], ADVERSARIAL[9])
            .await
            .unwrap(),
        Some(second.clone())
    );
    assert_eq!(
        ids.find_identity(p.id, "GOOGLE", ADVERSARIAL[0])
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        ids.list_identities(u.id).await.unwrap(),
        vec![first.clone(), second.clone()]
    );

    let profile = json!({ "name": ADVERSARIAL[7], "picture": "https://x/\\y" });
    let now = at(99) + micro();
    ids.touch_identity(second.id, &profile, now).await.unwrap();
    second.profile = profile;
    second.last_used_at = Some(now);
    assert_eq!(
        ids.find_identity(p.id, ADVERSARIAL[5], ADVERSARIAL[9])
            .await
            .unwrap(),
        Some(second.clone())
    );
    assert_eq!(
        ids.list_identities(u.id).await.unwrap(),
        vec![first, second]
    );
}

/// An identity is unique per (pool, provider, subject): linking it again, to
/// any user of the pool, is `IdentityTaken`; the same provider subject in
/// another pool, or another subject, is fine.
pub async fn identity_is_unique_per_pool_provider_subject(store: Arc<dyn Store>) {
    let (p, _) = insert_pool_and_app(store.as_ref(), "main").await;
    let (q, _) = insert_pool_and_app(store.as_ref(), "other").await;
    let ada = insert_user(store.as_ref(), &p, "ada@example.com").await;
    let bob = insert_user(store.as_ref(), &p, "bob@example.com").await;
    let ada_q = insert_user(store.as_ref(), &q, "ada@example.com").await;
    let ids = store.identities();
    let first = identity(&ada, "github", "42");
    ids.insert_identity(&first, &[]).await.unwrap();
    let again = identity(&bob, "github", "42");
    assert_err(
        ids.insert_identity(&again, &[]).await,
        ErrorKind::IdentityTaken,
    );
    let again_same_user = identity(&ada, "github", "42");
    assert_err(
        ids.insert_identity(&again_same_user, &[]).await,
        ErrorKind::IdentityTaken,
    );
    assert!(ids.list_identities(bob.id).await.unwrap().is_empty());
    let other_pool = identity(&ada_q, "github", "42");
    ids.insert_identity(&other_pool, &[]).await.unwrap();
    ids.insert_identity(&identity(&bob, "github", "43"), &[])
        .await
        .unwrap();
    ids.insert_identity(&identity(&bob, "gitlab", "42"), &[])
        .await
        .unwrap();
    assert_eq!(
        ids.find_identity(p.id, "github", "42").await.unwrap(),
        Some(first)
    );
    assert_eq!(
        ids.find_identity(q.id, "github", "42").await.unwrap(),
        Some(other_pool)
    );
}

/// Linking an identity to a missing user is `NotFound` and writes nothing.
pub async fn insert_identity_for_missing_user_is_not_found(store: Arc<dyn Store>) {
    let (p, _) = insert_pool_and_app(store.as_ref(), "main").await;
    let ghost = user(&p, "ghost@example.com");
    let id = identity(&ghost, "github", "1");
    assert_err(
        store.identities().insert_identity(&id, &[]).await,
        ErrorKind::NotFound,
    );
    assert_eq!(
        store
            .identities()
            .find_identity(p.id, "github", "1")
            .await
            .unwrap(),
        None
    );
}

/// `delete_identity` unlinks only the user's own identity, answers `false`
/// otherwise, and frees the (pool, provider, subject) for linking again.
pub async fn delete_identity_is_scoped_and_frees_the_subject(store: Arc<dyn Store>) {
    let (p, _) = insert_pool_and_app(store.as_ref(), "main").await;
    let ada = insert_user(store.as_ref(), &p, "ada@example.com").await;
    let bob = insert_user(store.as_ref(), &p, "bob@example.com").await;
    let ids = store.identities();
    let linked = identity(&ada, "github", "42");
    ids.insert_identity(&linked, &[]).await.unwrap();
    assert!(!ids.delete_identity(bob.id, linked.id, &[]).await.unwrap());
    assert_eq!(
        ids.find_identity(p.id, "github", "42").await.unwrap(),
        Some(linked.clone())
    );
    assert!(ids.delete_identity(ada.id, linked.id, &[]).await.unwrap());
    assert!(!ids.delete_identity(ada.id, linked.id, &[]).await.unwrap());
    assert_eq!(ids.find_identity(p.id, "github", "42").await.unwrap(), None);
    assert!(ids.list_identities(ada.id).await.unwrap().is_empty());
    let relinked = identity(&bob, "github", "42");
    ids.insert_identity(&relinked, &[]).await.unwrap();
    assert_eq!(ids.list_identities(bob.id).await.unwrap(), vec![relinked]);
}
