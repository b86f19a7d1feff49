//! Webhook endpoints.

use std::sync::Arc;

use chrono::Duration;

use super::super::fixtures::*;
use crate::ErrorKind;
use crate::model::*;
use crate::store::Store;

/// Endpoints round-trip (sealed secrets included); list by app or all,
/// oldest first; a patch changes only its fields (enabling forgets why it
/// was disabled); rotation keeps the previous secrets as the old ones;
/// deleting an endpoint removes its deliveries, deleting its app removes it.
pub async fn webhook_endpoints_round_trip_update_rotate_delete(store: Arc<dyn Store>) {
    let s = &*store;
    let eps = s.webhook_endpoints();
    let (_, app) = insert_pool_and_app(s, "wh-ep").await;
    let (_, other) = insert_pool_and_app(s, "wh-ep-other").await;
    let a = insert_webhook_endpoint(s, Some(&app), &["user.*", "session.created"]).await;
    let global = insert_webhook_endpoint(s, None, &["*"]).await;
    let b = insert_webhook_endpoint(s, Some(&other), &["*"]).await;
    assert_eq!(eps.get_webhook_endpoint(a.id).await.unwrap(), a);
    assert_eq!(
        eps.get_webhook_endpoint(a.id).await.unwrap().secrets_sealed,
        a.secrets_sealed
    );
    assert_eq!(
        eps.list_webhook_endpoints(Some(app.id)).await.unwrap(),
        vec![a.clone()]
    );
    let all = eps.list_webhook_endpoints(None).await.unwrap();
    let ids: Vec<_> = all.iter().map(|e| e.id).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
    for e in [&a, &global, &b] {
        assert!(ids.contains(&e.id));
    }
    assert_err(
        eps.create_webhook_endpoint(&a, &[]).await,
        ErrorKind::Conflict,
    );
    // An app that was never stored.
    let orphan_app = crate::conformance::fixtures::app(&pool("wh-none"), "wh-none");
    assert_err(
        eps.create_webhook_endpoint(&webhook_endpoint(Some(&orphan_app), &["*"]), &[])
            .await,
        ErrorKind::NotFound,
    );

    // A patch changes only what it names.
    let now = stamp();
    let patch = WebhookEndpointPatch {
        url: Some("https://other.example.com/hook".into()),
        description: Some(None),
        events: Some(vec!["session.*".into()]),
        enabled: Some(false),
    };
    let seen = std::sync::Mutex::new(None);
    let updated = eps
        .update_webhook_endpoint(a.id, &patch, now, &|e: &WebhookEndpoint| {
            *seen.lock().unwrap() = Some(e.clone());
            Vec::new()
        })
        .await
        .unwrap();
    let mut expected = a.clone();
    patch.apply(&mut expected, now);
    assert_eq!(updated, expected);
    assert_eq!(seen.lock().unwrap().as_ref(), Some(&expected));
    assert_eq!(eps.get_webhook_endpoint(a.id).await.unwrap(), expected);
    assert_err(
        eps.update_webhook_endpoint(uuid::Uuid::nil(), &patch, now, &|_| Vec::new())
            .await,
        ErrorKind::NotFound,
    );

    // Rotation: the previous secrets become the old ones, until the given time.
    let until = now + Duration::days(1);
    eps.rotate_webhook_secret(a.id, b"new-secrets", until, now, &[])
        .await
        .unwrap();
    let rotated = eps.get_webhook_endpoint(a.id).await.unwrap();
    assert_eq!(rotated.secrets_sealed, b"new-secrets");
    assert_eq!(
        rotated.old_secrets_sealed.as_deref(),
        Some(&a.secrets_sealed[..])
    );
    assert_eq!(rotated.old_secrets_until, Some(until));
    eps.rotate_webhook_secret(a.id, b"newer", until, now, &[])
        .await
        .unwrap();
    let rotated = eps.get_webhook_endpoint(a.id).await.unwrap();
    assert_eq!(
        rotated.old_secrets_sealed.as_deref(),
        Some(&b"new-secrets"[..])
    );
    assert_err(
        eps.rotate_webhook_secret(uuid::Uuid::nil(), b"x", until, now, &[])
            .await,
        ErrorKind::NotFound,
    );

    // Deleting the endpoint takes its deliveries; deleting the app its endpoints.
    let mut ev = new_event("user.signed_up", "user.created", &other, uuid::Uuid::nil());
    ev.audit.user_id = None;
    let d = WebhookDelivery::new(crate::new_id(stamp()), b.id, &ev.webhooks[0]);
    s.webhook_deliveries()
        .enqueue_webhook_delivery(&d, &[])
        .await
        .unwrap();
    eps.delete_webhook_endpoint(b.id, &[]).await.unwrap();
    assert_err(eps.get_webhook_endpoint(b.id).await, ErrorKind::NotFound);
    assert_err(
        s.webhook_deliveries().get_webhook_delivery(d.id).await,
        ErrorKind::NotFound,
    );
    assert_err(
        eps.delete_webhook_endpoint(b.id, &[]).await,
        ErrorKind::NotFound,
    );
    s.apps().delete_app(app.id, &[]).await.unwrap();
    assert_err(eps.get_webhook_endpoint(a.id).await, ErrorKind::NotFound);
    assert_eq!(eps.get_webhook_endpoint(global.id).await.unwrap(), global);
}
