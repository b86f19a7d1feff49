//! The mail outbox: enqueued atomically with its token, leased to one worker
//! at a time, retried, completed.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::super::fixtures::*;
use crate::ErrorKind;
use crate::crypto::TokenHash;
use crate::model::{CodeAttempt, OutboxMail};
use crate::new_id;
use crate::store::Store;

/// A queued message created at `stamp()`, due at once, with every byte value
/// in its sealed content.
fn mail() -> OutboxMail {
    let now = stamp();
    OutboxMail {
        id: new_id(now),
        sealed: (0..=255u8).chain([0, 255, 0]).collect(),
        created_at: now,
        attempts: 0,
        next_attempt_at: now,
        leased_until: None,
        last_error: None,
    }
}

/// Mail and its token are stored together, or neither is.
pub async fn mail_enqueue_with_token_is_atomic(store: Arc<dyn Store>) {
    let (p, _) = insert_pool_and_app(store.as_ref(), "main").await;
    let u = insert_user(store.as_ref(), &p, "ada@example.com").await;
    let outbox = store.mail();
    let (secret, tok) = one_time_token(&p, "password_reset", Some(&u), at(3600));
    let m = mail();
    outbox.enqueue_mail(&m, Some(&tok), false).await.unwrap();
    assert_eq!(outbox.pending_mail().await.unwrap(), 1);
    assert!(
        store
            .tokens()
            .find_token("password_reset", &TokenHash::of(&secret), at(1))
            .await
            .unwrap()
            .is_some()
    );

    // A token that clashes: nothing of the step is stored.
    let clash = mail();
    assert_err(
        outbox.enqueue_mail(&clash, Some(&tok), false).await,
        ErrorKind::Conflict,
    );
    assert_eq!(outbox.pending_mail().await.unwrap(), 1);
    // A token for a missing user: nothing stored either.
    let ghost = insert_user(store.as_ref(), &p, "ghost@example.com").await;
    let (_, orphan) = one_time_token(&p, "password_reset", Some(&ghost), at(3600));
    store.users().delete_user(ghost.id, &[]).await.unwrap();
    assert_err(
        outbox.enqueue_mail(&mail(), Some(&orphan), false).await,
        ErrorKind::NotFound,
    );
    assert_eq!(outbox.pending_mail().await.unwrap(), 1);
    // Mail without a token.
    outbox.enqueue_mail(&mail(), None, false).await.unwrap();
    assert_eq!(outbox.pending_mail().await.unwrap(), 2);
}

/// Enqueueing a code with `replace_code` replaces the earlier code.
pub async fn mail_enqueue_replaces_codes(store: Arc<dyn Store>) {
    let (p, _) = insert_pool_and_app(store.as_ref(), "main").await;
    let outbox = store.mail();
    let first = code(&p, "email_code", "ada@example.com", "111111", at(600));
    let second = code(&p, "email_code", "ada@example.com", "222222", at(600));
    outbox
        .enqueue_mail(&mail(), Some(&first), true)
        .await
        .unwrap();
    outbox
        .enqueue_mail(&mail(), Some(&second), true)
        .await
        .unwrap();
    let tokens = store.tokens();
    let old = tokens
        .attempt_code("email_code", p.id, "ada@example.com", &first.hash, 5, at(1))
        .await
        .unwrap();
    assert!(matches!(old, CodeAttempt::Rejected { .. }), "{old:?}");
    let new = tokens
        .attempt_code(
            "email_code",
            p.id,
            "ada@example.com",
            &second.hash,
            5,
            at(1),
        )
        .await
        .unwrap();
    assert!(matches!(new, CodeAttempt::Accepted(_)), "{new:?}");
}

/// Claims lease due mail oldest first; a leased message is not claimed again
/// until its lease ends; retries wait; completed mail is gone; content
/// round-trips exactly.
pub async fn mail_claims_lease_retry_and_complete(store: Arc<dyn Store>) {
    let outbox = store.mail();
    let (a, b, c) = (mail(), mail(), mail());
    for m in [&c, &a, &b] {
        outbox.enqueue_mail(m, None, false).await.unwrap();
    }
    let now = at(10);
    let lease = at(70);
    let first = outbox.claim_mail(now, lease, 2).await.unwrap();
    assert_eq!(first.iter().map(|m| m.id).collect::<Vec<_>>(), [a.id, b.id]);
    assert!(
        first
            .iter()
            .all(|m| m.attempts == 1 && m.leased_until == Some(lease))
    );
    assert_eq!(first[0].sealed, a.sealed);
    assert_eq!(first[0].created_at, a.created_at);
    let second = outbox.claim_mail(now, lease, 10).await.unwrap();
    assert_eq!(second.iter().map(|m| m.id).collect::<Vec<_>>(), [c.id]);
    assert!(
        outbox
            .claim_mail(at(69), at(120), 10)
            .await
            .unwrap()
            .is_empty(),
        "leases hold"
    );

    outbox.complete_mail(a.id).await.unwrap();
    outbox
        .retry_mail(b.id, at(500), "storage_error")
        .await
        .unwrap();
    assert_eq!(outbox.pending_mail().await.unwrap(), 2);
    // At the end of the lease, c is free again; b waits for its retry time.
    let again = outbox.claim_mail(at(70), at(130), 10).await.unwrap();
    assert_eq!(again.iter().map(|m| m.id).collect::<Vec<_>>(), [c.id]);
    assert_eq!(again[0].attempts, 2);
    outbox.complete_mail(c.id).await.unwrap();
    let retried = outbox.claim_mail(at(500), at(560), 10).await.unwrap();
    assert_eq!(retried.len(), 1);
    assert_eq!(retried[0].id, b.id);
    assert_eq!(retried[0].last_error.as_deref(), Some("storage_error"));
    assert_eq!(retried[0].attempts, 2);
    assert_err(
        outbox.retry_mail(a.id, at(1), "x").await,
        ErrorKind::NotFound,
    );
}

/// Workers racing to claim: every message goes to exactly one of them.
pub async fn mail_claim_race_gives_each_message_once(store: Arc<dyn Store>) {
    let outbox = store.mail();
    let mut ids = BTreeSet::new();
    for _ in 0..12 {
        let m = mail();
        ids.insert(m.id);
        outbox.enqueue_mail(&m, None, false).await.unwrap();
    }
    let claimed = race(8, |_| {
        let store = store.clone();
        async move { store.mail().claim_mail(at(10), at(100), 3).await.unwrap() }
    })
    .await;
    let all: Vec<_> = claimed.into_iter().flatten().map(|m| m.id).collect();
    let unique: BTreeSet<_> = all.iter().copied().collect();
    assert_eq!(all.len(), unique.len(), "a message was claimed twice");
    assert_eq!(unique, ids);
}
