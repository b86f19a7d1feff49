//! The webhook outbox: leases, retries, the delivery log.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::super::fixtures::*;
use crate::ErrorKind;
use crate::model::*;
use crate::new_id;
use crate::store::Store;

/// Enqueue `n` deliveries to `endpoint`, due at `due`; their ids in order.
async fn enqueue(
    store: &dyn Store,
    app: &App,
    endpoint: &WebhookEndpoint,
    n: usize,
    due: DateTime<Utc>,
) -> Vec<Uuid> {
    let mut ids = Vec::new();
    for _ in 0..n {
        let mut event = new_event("user.updated", "user.updated", app, Uuid::nil())
            .webhooks
            .remove(0);
        event.at = due;
        let d = WebhookDelivery::new(new_id(stamp()), endpoint.id, &event);
        store
            .webhook_deliveries()
            .enqueue_webhook_delivery(&d, &[])
            .await
            .unwrap();
        ids.push(d.id);
    }
    ids
}

/// Since when the endpoint's deliveries have all failed.
async fn failing_since(store: &dyn Store, id: Uuid) -> Option<DateTime<Utc>> {
    store
        .webhook_endpoints()
        .get_webhook_endpoint(id)
        .await
        .unwrap()
        .failing_since
}

/// An attempt on `d` under `lease` at `at` ending with `result`.
fn attempt(d: Uuid, lease: Uuid, at: DateTime<Utc>, result: AttemptResult) -> WebhookAttempt {
    WebhookAttempt {
        delivery_id: d,
        lease_id: lease,
        attempted_at: at,
        response_code: Some(500),
        duration_ms: 12,
        response_excerpt: Some("oops".into()),
        error: None,
        result,
        disable_failing_since: at - Duration::days(5),
    }
}

/// A claim takes due deliveries under a lease (counting the attempt); a live
/// lease hides them from other claims, an ended one frees them; only the
/// claim that holds a delivery records its attempt; a retry is due at its
/// time (a manual clock); renewing extends the lease; success finishes it;
/// a manual retry makes it pending again.
pub async fn webhook_claims_lease_retry_and_complete(store: Arc<dyn Store>) {
    let s = &*store;
    let out = s.webhook_deliveries();
    let (_, app) = insert_pool_and_app(s, "wh-lease").await;
    let ep = insert_webhook_endpoint(s, Some(&app), &["*"]).await;
    let t0 = stamp() + Duration::hours(1);
    let ids = enqueue(s, &app, &ep, 1, t0).await;
    let id = ids[0];

    assert!(
        out.claim_webhook_deliveries(t0 - Duration::seconds(1), t0, new_id(t0), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let (l1, l2) = (new_id(t0), new_id(t0));
    let c = out
        .claim_webhook_deliveries(t0, t0 + Duration::seconds(30), l1, 10)
        .await
        .unwrap();
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].delivery.id, id);
    assert_eq!(c[0].delivery.attempt, 1);
    assert_eq!(c[0].endpoint.id, ep.id);
    assert_eq!(
        c[0].delivery.payload,
        out.get_webhook_delivery(id).await.unwrap().payload
    );
    // Held: nobody else gets it until the lease ends; then another claim does.
    assert!(
        out.claim_webhook_deliveries(
            t0 + Duration::seconds(29),
            t0 + Duration::seconds(59),
            l2,
            10
        )
        .await
        .unwrap()
        .is_empty()
    );
    let c = out
        .claim_webhook_deliveries(
            t0 + Duration::seconds(30),
            t0 + Duration::seconds(60),
            l2,
            10,
        )
        .await
        .unwrap();
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].delivery.attempt, 2);
    // The first claim lost it: its attempt is not recorded.
    let t1 = t0 + Duration::seconds(31);
    let lost = out
        .record_webhook_attempt(&attempt(id, l1, t1, AttemptResult::Succeeded), &|_| {
            Vec::new()
        })
        .await
        .unwrap();
    assert!(!lost.applied);
    assert_eq!(
        out.get_webhook_delivery(id).await.unwrap().status,
        DeliveryStatus::Pending
    );
    // Renewal extends only the holder's lease.
    assert_eq!(
        out.renew_webhook_lease(l1, t0 + Duration::hours(1))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        out.renew_webhook_lease(l2, t0 + Duration::seconds(90))
            .await
            .unwrap(),
        1
    );
    assert!(
        out.claim_webhook_deliveries(
            t0 + Duration::seconds(70),
            t0 + Duration::seconds(100),
            new_id(t0),
            10
        )
        .await
        .unwrap()
        .is_empty()
    );
    // A failure schedules the retry, due at its time and not before.
    let retry_at = t1 + Duration::minutes(5);
    let r = out
        .record_webhook_attempt(
            &attempt(id, l2, t1, AttemptResult::Retry(retry_at)),
            &|_| Vec::new(),
        )
        .await
        .unwrap();
    assert!(r.applied && !r.endpoint_disabled);
    let d = out.get_webhook_delivery(id).await.unwrap();
    assert_eq!(
        (d.status, d.next_attempt_at, d.lease_id),
        (DeliveryStatus::Pending, Some(retry_at), None)
    );
    assert_eq!(
        (
            d.response_code,
            d.duration_ms,
            d.response_excerpt.as_deref()
        ),
        (Some(500), Some(12), Some("oops"))
    );
    assert_eq!(failing_since(s, ep.id).await, Some(t1));
    assert!(
        out.claim_webhook_deliveries(
            retry_at - Duration::milliseconds(1),
            retry_at,
            new_id(t0),
            10
        )
        .await
        .unwrap()
        .is_empty()
    );
    let l3 = new_id(t0);
    let c = out
        .claim_webhook_deliveries(retry_at, retry_at + Duration::seconds(30), l3, 10)
        .await
        .unwrap();
    assert_eq!(c[0].delivery.attempt, 3);
    // Success finishes it and clears the endpoint's failing streak.
    let r = out
        .record_webhook_attempt(
            &attempt(id, l3, retry_at, AttemptResult::Succeeded),
            &|_| Vec::new(),
        )
        .await
        .unwrap();
    assert!(r.applied);
    let d = out.get_webhook_delivery(id).await.unwrap();
    assert_eq!(
        (d.status, d.next_attempt_at),
        (DeliveryStatus::Succeeded, None)
    );
    assert_eq!(failing_since(s, ep.id).await, None);
    assert_eq!(out.pending_webhook_deliveries().await.unwrap(), 0);
    assert!(
        out.claim_webhook_deliveries(
            retry_at + Duration::days(1),
            retry_at + Duration::days(2),
            new_id(t0),
            10
        )
        .await
        .unwrap()
        .is_empty()
    );
    // A manual retry makes it pending and due now; only under its endpoint.
    let now = retry_at + Duration::hours(1);
    assert_err(
        out.retry_webhook_delivery(Uuid::nil(), id, now, &[]).await,
        ErrorKind::NotFound,
    );
    let d = out
        .retry_webhook_delivery(ep.id, id, now, &[])
        .await
        .unwrap();
    assert_eq!(
        (d.status, d.next_attempt_at),
        (DeliveryStatus::Pending, Some(now))
    );
    assert_eq!(out.pending_webhook_deliveries().await.unwrap(), 1);
    assert_eq!(
        out.claim_webhook_deliveries(now, now + Duration::seconds(30), new_id(t0), 10)
            .await
            .unwrap()
            .len(),
        1
    );
}

/// 16 workers claiming concurrently (small batches, until nothing is left)
/// get every due delivery exactly once between them.
pub async fn webhook_claim_race_gives_each_delivery_once(store: Arc<dyn Store>) {
    const WORKERS: usize = 16;
    let (_, app) = insert_pool_and_app(&*store, "wh-race").await;
    let ep = insert_webhook_endpoint(&*store, Some(&app), &["*"]).await;
    let t0 = stamp();
    let ids = enqueue(&*store, &app, &ep, 48, t0).await;
    let now = t0 + Duration::seconds(1);
    let claimed = race(WORKERS, |_| {
        let store = store.clone();
        async move {
            let lease = new_id(now);
            let mut mine = Vec::new();
            loop {
                let batch = store
                    .webhook_deliveries()
                    .claim_webhook_deliveries(now, now + Duration::seconds(30), lease, 2)
                    .await
                    .unwrap();
                if batch.is_empty() {
                    return mine;
                }
                for c in batch {
                    assert_eq!(c.delivery.lease_id, Some(lease));
                    mine.push(c.delivery.id);
                }
            }
        }
    })
    .await;
    let all: Vec<Uuid> = claimed.into_iter().flatten().collect();
    let distinct: BTreeSet<Uuid> = all.iter().copied().collect();
    assert_eq!(all.len(), ids.len(), "a delivery was claimed twice");
    assert_eq!(distinct, ids.into_iter().collect());
}

/// A 410 finishes the delivery and disables the endpoint (`gone`), writing
/// the events made from it; failures for 5 days disable it (`failing`);
/// a disabled endpoint's deliveries are not claimed.
pub async fn webhook_failures_disable_the_endpoint(store: Arc<dyn Store>) {
    let s = &*store;
    let out = s.webhook_deliveries();
    let (_, app) = insert_pool_and_app(s, "wh-fail").await;
    let gone_ep = insert_webhook_endpoint(s, Some(&app), &["*"]).await;
    let failing_ep = insert_webhook_endpoint(s, Some(&app), &["*"]).await;
    let t0 = stamp();
    let g = enqueue(s, &app, &gone_ep, 2, t0).await;
    let f = enqueue(s, &app, &failing_ep, 2, t0).await;

    let lease = new_id(t0);
    let c = out
        .claim_webhook_deliveries(t0, t0 + Duration::seconds(30), lease, 10)
        .await
        .unwrap();
    assert_eq!(c.len(), 4);
    let disabled_event = |e: &WebhookEndpoint| {
        let mut ev = new_event("webhook.endpoint_disabled", "x.y", &app, Uuid::nil());
        ev.webhooks.clear();
        ev.audit.user_id = None;
        ev.audit.data = serde_json::json!({ "endpoint_id": e.id, "reason": e.disabled_reason });
        vec![ev]
    };
    let r = out
        .record_webhook_attempt(
            &attempt(g[0], lease, t0, AttemptResult::Gone),
            &disabled_event,
        )
        .await
        .unwrap();
    assert!(r.applied && r.endpoint_disabled);
    let e = s
        .webhook_endpoints()
        .get_webhook_endpoint(gone_ep.id)
        .await
        .unwrap();
    assert!(!e.enabled);
    assert_eq!(e.disabled_reason.as_deref(), Some("gone"));
    assert_eq!(
        out.get_webhook_delivery(g[0]).await.unwrap().status,
        DeliveryStatus::Failed
    );
    let logged = s
        .audit()
        .list_events(&AuditQuery {
            kind: Some("webhook.endpoint_disabled".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(logged.len(), 1);
    assert_eq!(logged[0].data["endpoint_id"], serde_json::json!(gone_ep.id));
    assert_eq!(logged[0].data["reason"], "gone");

    // Failing: the streak starts at the first failure; past 5 days it disables.
    let r = out
        .record_webhook_attempt(
            &attempt(
                f[0],
                lease,
                t0,
                AttemptResult::Retry(t0 + Duration::days(6)),
            ),
            &disabled_event,
        )
        .await
        .unwrap();
    assert!(r.applied && !r.endpoint_disabled);
    let later = t0 + Duration::days(5);
    let r = out
        .record_webhook_attempt(
            &attempt(
                f[1],
                lease,
                later,
                AttemptResult::Retry(later + Duration::hours(1)),
            ),
            &disabled_event,
        )
        .await
        .unwrap();
    assert!(r.applied && r.endpoint_disabled);
    let e = s
        .webhook_endpoints()
        .get_webhook_endpoint(failing_ep.id)
        .await
        .unwrap();
    assert!(!e.enabled);
    assert_eq!(e.disabled_reason.as_deref(), Some("failing"));
    assert_eq!(e.failing_since, Some(t0));

    // Disabled endpoints' pending deliveries wait: no claim gets them.
    assert!(
        out.claim_webhook_deliveries(
            t0 + Duration::days(30),
            t0 + Duration::days(31),
            new_id(t0),
            10
        )
        .await
        .unwrap()
        .is_empty()
    );
    assert_eq!(out.pending_webhook_deliveries().await.unwrap(), 3);
    // Finished deliveries are swept by age; pending ones are kept.
    assert_eq!(
        out.delete_finished_webhook_deliveries(t0 + Duration::days(1))
            .await
            .unwrap(),
        1
    );
    assert_err(out.get_webhook_delivery(g[0]).await, ErrorKind::NotFound);
    assert_eq!(out.pending_webhook_deliveries().await.unwrap(), 3);
}
