//! The event log: every change is written with its events (and their
//! webhook deliveries) in one atomic step, or not at all.
//!
//! How a failing event write is provoked on every backend: the change is
//! handed an event whose id is already in the log ([`reusing_id`]), which
//! the audit log's primary key (SQL) or id map (memory) refuses with
//! `Conflict` — the change must then be refused too and leave no trace.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Value, json};

use super::super::fixtures::*;
use crate::ErrorKind;
use crate::model::*;
use crate::store::Store;

/// A user patch setting the name.
fn rename(name: &str) -> UserPatch {
    UserPatch {
        name: Some(Some(name.to_owned())),
        ..Default::default()
    }
}

/// The ids of the events (in the log) about `user_id` of `kind`.
async fn events_of(store: &dyn Store, user_id: UserId, kind: &str) -> Vec<AuditEvent> {
    store
        .audit()
        .list_events(&AuditQuery {
            user_id: Some(user_id),
            kind: Some(kind.to_owned()),
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
}

/// A change writes its audit entry, and a pending delivery of each public
/// event to exactly the enabled endpoints whose scope and filters accept
/// it; an idempotent no-op (a second revocation) writes no event; events
/// made from the change's result see the row after the change.
pub async fn changes_write_their_events_and_deliveries(store: Arc<dyn Store>) {
    let s = &*store;
    let (pool, app) = insert_pool_and_app(s, "ev-app").await;
    let (_, other_app) = insert_pool_and_app(s, "ev-other").await;
    let users_ep = insert_webhook_endpoint(s, Some(&app), &["user.*"]).await;
    let all_ep = insert_webhook_endpoint(s, None, &["*"]).await;
    let sessions_ep = insert_webhook_endpoint(s, Some(&app), &["session.*"]).await;
    let other_ep = insert_webhook_endpoint(s, Some(&other_app), &["*"]).await;
    let off_ep = insert_webhook_endpoint(s, Some(&app), &["*"]).await;
    let off = WebhookEndpointPatch {
        enabled: Some(false),
        ..Default::default()
    };
    s.webhook_endpoints()
        .update_webhook_endpoint(off_ep.id, &off, stamp(), &|_| Vec::new())
        .await
        .unwrap();

    // Created with its event: both are there, with one delivery per
    // accepting endpoint carrying the event as given.
    let u = user(&pool, "events@example.com");
    let created = new_event("user.signed_up", "user.created", &app, u.id);
    s.users()
        .create_user(&u, None, std::slice::from_ref(&created))
        .await
        .unwrap();
    assert_eq!(s.users().get_user(u.id).await.unwrap(), u);
    assert!(has_event(s, created.audit.id).await);
    for ep in [&users_ep, &all_ep] {
        let d = deliveries(s, ep).await;
        assert_eq!(d.len(), 1, "{}", ep.events[0]);
        let w = &created.webhooks[0];
        assert_eq!(d[0].endpoint_id, ep.id);
        assert_eq!(d[0].event_id, w.id);
        assert_eq!(d[0].event_type, "user.created");
        assert_eq!(d[0].payload, w.payload);
        assert_eq!(d[0].status, DeliveryStatus::Pending);
        assert_eq!(d[0].attempt, 0);
        assert_eq!(d[0].next_attempt_at, Some(w.at));
    }
    for ep in [&sessions_ep, &other_ep, &off_ep] {
        assert!(deliveries(s, ep).await.is_empty(), "{:?}", ep.events);
    }

    // A session: the session endpoint and the install-wide one get it.
    let ns = session(&app, &u);
    let started = new_event("sign_in.succeeded", "session.created", &app, u.id);
    s.sessions()
        .create_session(&ns.session, &ns.refresh, std::slice::from_ref(&started))
        .await
        .unwrap();
    assert!(has_event(s, started.audit.id).await);
    assert_eq!(deliveries(s, &users_ep).await.len(), 1);
    assert_eq!(deliveries(s, &all_ep).await.len(), 2);
    assert_eq!(deliveries(s, &sessions_ep).await.len(), 1);

    // Events made from the result see the row after the change, and an
    // idempotent second revocation writes none.
    let revoked = |x: &Session| {
        let mut e = new_event("session.revoked", "session.revoked", &app, x.user_id);
        e.audit.session_id = Some(x.id);
        e.audit.data = json!({ "reason": x.revoke_reason });
        vec![e]
    };
    for expect in [true, false] {
        let changed = s
            .sessions()
            .revoke_session(ns.session.id, None, stamp(), "signed_out", &revoked)
            .await
            .unwrap();
        assert_eq!(changed, expect);
    }
    let logged = events_of(s, u.id, "session.revoked").await;
    assert_eq!(logged.len(), 1);
    assert_eq!(logged[0].session_id, Some(ns.session.id));
    assert_eq!(logged[0].data, json!({ "reason": "signed_out" }));
    assert_eq!(deliveries(s, &sessions_ep).await.len(), 2);

    let renamed = |x: &User| {
        let mut e = new_event("user.updated", "user.updated", &app, x.id);
        e.audit.data = json!({ "name": x.name });
        vec![e]
    };
    s.users()
        .update_user(u.id, &rename("Ada"), stamp(), &renamed)
        .await
        .unwrap();
    let logged = events_of(s, u.id, "user.updated").await;
    assert_eq!(logged.len(), 1);
    assert_eq!(logged[0].data, json!({ "name": "Ada" }));
    assert_eq!(deliveries(s, &users_ep).await.len(), 2);

    // Several events in one step are all written.
    let gone = [
        new_event("user.deleted", "user.deleted", &app, u.id),
        new_event("session.revoked_all", "session.revoked", &app, u.id),
    ];
    s.users().delete_user(u.id, &gone).await.unwrap();
    assert_err(s.users().get_user(u.id).await, ErrorKind::NotFound);
    for e in &gone {
        assert!(has_event(s, e.audit.id).await);
    }
    assert_eq!(deliveries(s, &all_ep).await.len(), 6);
    assert_eq!(deliveries(s, &off_ep).await.len(), 0);
}

/// A change whose event cannot be written (its id is taken) is refused
/// with `Conflict` and leaves nothing behind: not the change, not the
/// event, not a delivery. Checked for each kind of store method: inserts,
/// patches with events made from the result, revocations, deletions.
pub async fn a_failed_event_write_fails_the_change(store: Arc<dyn Store>) {
    let s = &*store;
    let (pool, app) = insert_pool_and_app(s, "ev-fail").await;
    let ep = insert_webhook_endpoint(s, None, &["*"]).await;
    let taken = audit_event("sign_in.failed", stamp());
    s.audit().append_event(&taken).await.unwrap();
    let bad = |user_id: UserId| {
        reusing_id(
            new_event("x.changed", "user.updated", &app, user_id),
            &taken,
        )
    };
    let count_events = || async {
        s.audit()
            .list_events(&AuditQuery {
                limit: 1000,
                ..Default::default()
            })
            .await
            .unwrap()
            .len()
    };
    let events_before = count_events().await;

    // Inserts.
    let u = user(&pool, "fail@example.com");
    let pw = credential(&u, CredentialKind::Password, "phc-1");
    assert_err(
        s.users()
            .create_user(&u, Some(FirstSignIn::Password(&pw)), &[bad(u.id)])
            .await,
        ErrorKind::Conflict,
    );
    assert_err(s.users().get_user(u.id).await, ErrorKind::NotFound);
    assert_eq!(
        s.users()
            .find_user_by_email(pool.id, &u.email)
            .await
            .unwrap(),
        None
    );
    let other_pool = crate::conformance::fixtures::pool("ev-fail-pool");
    assert_err(
        s.apps().create_pool(&other_pool, &[bad(u.id)]).await,
        ErrorKind::Conflict,
    );
    assert_eq!(
        s.apps().find_pool_by_slug("ev-fail-pool").await.unwrap(),
        None
    );
    let other_app = crate::conformance::fixtures::app(&pool, "ev-fail-app");
    assert_err(
        s.apps().create_app(&other_app, &[bad(u.id)]).await,
        ErrorKind::Conflict,
    );
    assert_err(s.apps().get_app(other_app.id).await, ErrorKind::NotFound);
    let (_, key) = api_key("ev-fail-key");
    assert_err(
        s.api_keys().insert_api_key(&key, &[bad(u.id)]).await,
        ErrorKind::Conflict,
    );
    assert!(
        s.api_keys()
            .list_api_keys()
            .await
            .unwrap()
            .iter()
            .all(|k| k.id != key.id)
    );
    let hook = webhook_endpoint(Some(&app), &["*"]);
    assert_err(
        s.webhook_endpoints()
            .create_webhook_endpoint(&hook, &[bad(u.id)])
            .await,
        ErrorKind::Conflict,
    );
    assert_err(
        s.webhook_endpoints().get_webhook_endpoint(hook.id).await,
        ErrorKind::NotFound,
    );

    // On an existing user: each change fails whole.
    let u = insert_user(s, &pool, "fail2@example.com").await;
    assert_err(
        s.users()
            .update_user(u.id, &rename("Mallory"), stamp(), &|x: &User| {
                vec![bad(x.id)]
            })
            .await,
        ErrorKind::Conflict,
    );
    assert_eq!(s.users().get_user(u.id).await.unwrap(), u);
    assert_err(
        s.credentials()
            .set_password(u.id, "phc-2", stamp(), &[bad(u.id)])
            .await,
        ErrorKind::Conflict,
    );
    assert_err(
        s.credentials()
            .insert_credential(&credential(&u, CredentialKind::Passkey, "pk"), &[bad(u.id)])
            .await,
        ErrorKind::Conflict,
    );
    assert!(
        s.credentials()
            .list_credentials(u.id, None)
            .await
            .unwrap()
            .is_empty()
    );
    assert_err(
        s.identities()
            .insert_identity(&identity(&u, "github", "ev-1"), &[bad(u.id)])
            .await,
        ErrorKind::Conflict,
    );
    assert!(
        s.identities()
            .list_identities(u.id)
            .await
            .unwrap()
            .is_empty()
    );
    let ns = session(&app, &u);
    assert_err(
        s.sessions()
            .create_session(&ns.session, &ns.refresh, &[bad(u.id)])
            .await,
        ErrorKind::Conflict,
    );
    assert!(
        s.sessions()
            .list_user_sessions(u.id)
            .await
            .unwrap()
            .is_empty()
    );
    let ns = insert_session(s, &app, &u).await;
    assert_err(
        s.sessions()
            .revoke_session(ns.session.id, None, stamp(), "x", &|x: &Session| {
                vec![bad(x.user_id)]
            })
            .await,
        ErrorKind::Conflict,
    );
    assert_err(
        s.sessions()
            .revoke_user_sessions(u.id, None, stamp(), "x", &|xs: &Vec<Session>| {
                xs.iter().map(|x| bad(x.user_id)).collect()
            })
            .await,
        ErrorKind::Conflict,
    );
    let live = s.sessions().list_user_sessions(u.id).await.unwrap();
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].revoked_at, None);
    assert_err(
        s.sessions()
            .rotate_refresh_token(
                &rotation(&ns.refresh_token, stamp(), 0),
                &|c: &RotationChange<'_>| vec![bad(c.user.id)],
            )
            .await,
        ErrorKind::Conflict,
    );
    // The refresh token was not spent: it still rotates.
    let rotated = s
        .sessions()
        .rotate_refresh_token(&rotation(&ns.refresh_token, stamp(), 0), &|_| Vec::new())
        .await
        .unwrap();
    assert!(
        matches!(rotated, RotationOutcome::Rotated(_)),
        "{rotated:?}"
    );
    assert_err(
        s.users().delete_user(u.id, &[bad(u.id)]).await,
        ErrorKind::Conflict,
    );
    assert_eq!(s.users().get_user(u.id).await.unwrap(), u);

    // Nothing of any failed change reached the log or the outbox.
    assert_eq!(count_events().await, events_before);
    assert!(deliveries(s, &ep).await.is_empty());
}

/// Under 16 concurrent writers (half of them handed an event that cannot be
/// written), a reader never sees a user without their event nor an event
/// without its user; afterwards exactly the writers whose events were
/// good have a user, an event and a delivery.
pub async fn concurrent_changes_are_never_seen_without_their_events(store: Arc<dyn Store>) {
    const WRITERS: usize = 16;
    let (pool, app) = insert_pool_and_app(&*store, "ev-race").await;
    let ep = insert_webhook_endpoint(&*store, Some(&app), &["user.created"]).await;
    let taken = audit_event("sign_in.failed", stamp());
    store.audit().append_event(&taken).await.unwrap();
    let done = Arc::new(AtomicBool::new(false));

    let reader = {
        let (store, done) = (store.clone(), done.clone());
        tokio::spawn(async move {
            let mut rounds = 0u32;
            loop {
                let finished = done.load(Ordering::SeqCst);
                // Users first, then events: a user seen must have its event.
                let users = store
                    .users()
                    .list_users(
                        pool.id,
                        &UserQuery {
                            limit: 1000,
                            ..Default::default()
                        },
                    )
                    .await
                    .unwrap();
                let events = store
                    .audit()
                    .list_events(&AuditQuery {
                        kind: Some("user.signed_up".into()),
                        limit: 1000,
                        ..Default::default()
                    })
                    .await
                    .unwrap();
                for u in &users {
                    assert!(
                        events.iter().any(|e| e.user_id == Some(u.id)),
                        "user {} seen without its event",
                        u.email
                    );
                }
                // Events first (above), then users: an event seen must have its user.
                for e in &events {
                    let id = e.user_id.unwrap();
                    assert!(
                        store.users().get_user(id).await.is_ok(),
                        "event {} seen without its user",
                        e.id
                    );
                }
                rounds += 1;
                if finished {
                    return rounds;
                }
                tokio::task::yield_now().await;
            }
        })
    };

    let results = race(WRITERS, |i| {
        let (store, pool, app, taken) = (store.clone(), pool.clone(), app.clone(), taken.clone());
        async move {
            let u = user(&pool, &format!("racer{i}@example.com"));
            let mut e = new_event("user.signed_up", "user.created", &app, u.id);
            if i % 2 == 1 {
                e = reusing_id(e, &taken);
            }
            let r = store.users().create_user(&u, None, &[e]).await;
            (u, r)
        }
    })
    .await;
    done.store(true, Ordering::SeqCst);
    assert!(reader.await.expect("reader panicked") >= 1);

    let mut created = 0;
    for (i, (u, r)) in results.into_iter().enumerate() {
        if i % 2 == 1 {
            assert_err(r, ErrorKind::Conflict);
            assert_err(store.users().get_user(u.id).await, ErrorKind::NotFound);
        } else {
            r.unwrap();
            created += 1;
            assert_eq!(events_of(&*store, u.id, "user.signed_up").await.len(), 1);
        }
    }
    let d = deliveries(&*store, &ep).await;
    assert_eq!(d.len(), created);
    let payloads: Vec<Value> = d
        .iter()
        .map(|x| serde_json::from_str(&x.payload).unwrap())
        .collect();
    assert!(payloads.iter().all(|p| p["type"] == "user.created"));
}
