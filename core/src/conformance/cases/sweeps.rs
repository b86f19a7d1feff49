//! Expiry sweepers: they honour their cutoff and never delete a live row.

use std::sync::Arc;

use chrono::Duration;

use super::super::fixtures::*;
use crate::crypto::TokenHash;
use crate::model::{ClientInfo, RotationOutcome};
use crate::store::Store;
use crate::{ErrorKind, SweepReport};

/// `delete_ended_sessions` deletes sessions that ended (absolute expiry, idle
/// expiry or revocation) strictly before the cutoff, with their refresh
/// tokens, and keeps those ending exactly at or after it.
pub async fn delete_ended_sessions_honours_the_cutoff(store: Arc<dyn Store>) {
    let (p, a) = insert_pool_and_app(store.as_ref(), "main").await;
    let u = insert_user(store.as_ref(), &p, "ada@example.com").await;
    let sessions = store.sessions();
    let cutoff = at(1000);
    let make = |edit: &dyn Fn(&mut crate::model::Session)| {
        let mut s = session(&a, &u);
        edit(&mut s.session);
        s
    };
    let abs_before = make(&|s| s.expires_at = cutoff - micro());
    let abs_at = make(&|s| s.expires_at = cutoff);
    let idle_before = make(&|s| {
        s.idle_timeout_secs = 60;
        s.last_seen_at = cutoff - Duration::seconds(60) - micro();
    });
    let idle_at = make(&|s| {
        s.idle_timeout_secs = 60;
        s.last_seen_at = cutoff - Duration::seconds(60);
    });
    let revoked_before = make(&|_| {});
    let revoked_at = make(&|_| {});
    let live = make(&|s| {
        s.expires_at = latest();
        s.idle_timeout_secs = 400 * 24 * 3600;
    });
    let all = [
        &abs_before,
        &abs_at,
        &idle_before,
        &idle_at,
        &revoked_before,
        &revoked_at,
        &live,
    ];
    for s in all {
        sessions
            .create_session(&s.session, &s.refresh, &[])
            .await
            .unwrap();
    }
    sessions
        .revoke_session(
            revoked_before.session.id,
            None,
            cutoff - micro(),
            "x",
            &|_| Vec::new(),
        )
        .await
        .unwrap();
    sessions
        .revoke_session(revoked_at.session.id, None, cutoff, "x", &|_| Vec::new())
        .await
        .unwrap();

    assert_eq!(sessions.delete_ended_sessions(cutoff).await.unwrap(), 3);
    for s in [&abs_before, &idle_before, &revoked_before] {
        assert_eq!(sessions.find_session(s.session.id).await.unwrap(), None);
        assert_eq!(
            sessions
                .find_session_by_token(&s.session.token_hash)
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            sessions
                .rotate_refresh_token(&rotation(&s.refresh_token, at(1), 10), &|_| Vec::new())
                .await
                .unwrap(),
            RotationOutcome::NotFound
        );
    }
    for s in [&abs_at, &idle_at, &revoked_at, &live] {
        assert!(
            sessions.find_session(s.session.id).await.unwrap().is_some(),
            "a session ending at or after the cutoff was deleted"
        );
    }
    assert!(matches!(
        sessions
            .rotate_refresh_token(&rotation(&live.refresh_token, at(1), 10), &|_| Vec::new())
            .await
            .unwrap(),
        RotationOutcome::Rotated(_)
    ));
    assert_eq!(sessions.delete_ended_sessions(cutoff).await.unwrap(), 0);
}

/// `delete_expired_tokens` deletes tokens and codes that expired strictly
/// before the cutoff and keeps those expiring at or after it.
pub async fn delete_expired_tokens_honours_the_cutoff(store: Arc<dyn Store>) {
    let (p, _) = insert_pool_and_app(store.as_ref(), "main").await;
    let tokens = store.tokens();
    let cutoff = at(1000);
    let mut kept = Vec::new();
    for (expires_at, survives) in [
        (earliest(), false),
        (cutoff - micro(), false),
        (cutoff, true),
        (cutoff + micro(), true),
        (latest(), true),
    ] {
        let (secret, tok) = one_time_token(&p, "magic_link", None, expires_at);
        tokens.insert_token(&tok).await.unwrap();
        if survives {
            kept.push((secret, tok));
        }
    }
    tokens
        .replace_code(&code(
            &p,
            "email_code",
            "old@example.com",
            "1",
            cutoff - micro(),
        ))
        .await
        .unwrap();
    tokens
        .replace_code(&code(&p, "email_code", "new@example.com", "1", cutoff))
        .await
        .unwrap();
    assert_eq!(tokens.delete_expired_tokens(cutoff).await.unwrap(), 3);
    for (secret, tok) in kept {
        assert_eq!(
            tokens
                .find_token("magic_link", &TokenHash::of(&secret), earliest())
                .await
                .unwrap(),
            Some(tok)
        );
    }
    let attempt = |subject: &'static str| {
        let store = store.clone();
        async move {
            store
                .tokens()
                .attempt_code(
                    "email_code",
                    p.id,
                    subject,
                    &code_hash(subject, "1"),
                    5,
                    at(1),
                )
                .await
                .unwrap()
        }
    };
    assert_eq!(
        attempt("old@example.com").await,
        crate::model::CodeAttempt::NotFound
    );
    assert!(matches!(
        attempt("new@example.com").await,
        crate::model::CodeAttempt::Accepted(_)
    ));
    assert_eq!(tokens.delete_expired_tokens(cutoff).await.unwrap(), 0);
}

/// `delete_stale_throttles` forgets counters whose last failure is strictly
/// before the cutoff and keeps the rest.
pub async fn delete_stale_throttles_honours_the_cutoff(store: Arc<dyn Store>) {
    let th = store.throttles();
    let cutoff = at(1000);
    for (key, t) in [
        ("before", cutoff - micro()),
        ("ancient", earliest()),
        ("at", cutoff),
        ("after", cutoff + micro()),
    ] {
        th.record_failure(key, t, earliest()).await.unwrap();
    }
    assert_eq!(th.delete_stale_throttles(cutoff).await.unwrap(), 2);
    assert_eq!(th.find_throttle("before").await.unwrap(), None);
    assert_eq!(th.find_throttle("ancient").await.unwrap(), None);
    assert_eq!(
        th.find_throttle("at")
            .await
            .unwrap()
            .map(|t| t.last_failure_at),
        Some(cutoff)
    );
    assert_eq!(
        th.find_throttle("after").await.unwrap().map(|t| t.failures),
        Some(1)
    );
    assert_eq!(th.delete_stale_throttles(cutoff).await.unwrap(), 0);
}

/// `delete_ended_windows` forgets rate-limit windows that ended strictly
/// before the cutoff (their key then opens a new window) and keeps the rest.
pub async fn delete_ended_windows_honours_the_cutoff(store: Arc<dyn Store>) {
    let th = store.throttles();
    let limit = crate::model::RateLimit {
        max: 1,
        window: Duration::seconds(60),
    };
    let cutoff = at(1000);
    let window = Duration::seconds(60);
    for (key, ends) in [
        ("before", cutoff - micro()),
        ("at", cutoff),
        ("after", cutoff + micro()),
    ] {
        th.hit(key, &limit, ends - window).await.unwrap();
    }
    assert_eq!(th.delete_ended_windows(cutoff).await.unwrap(), 1);
    assert_eq!(th.delete_ended_windows(cutoff).await.unwrap(), 0);
    // Kept windows still count their hit; at `cutoff - window` a deleted
    // one would allow a new hit.
    let probe = cutoff - window;
    assert_eq!(th.hit("before", &limit, probe).await.unwrap(), None);
    assert_eq!(th.hit("at", &limit, probe).await.unwrap(), Some(cutoff));
    assert_eq!(
        th.hit("after", &limit, probe).await.unwrap(),
        Some(cutoff + micro())
    );
}

/// `Tessera::sweep` deletes exactly what has ended (a revoked session past
/// retention, an expired token, a stale counter, an ended rate-limit window,
/// an unpublished key), keeps the live rows, and a second sweep finds nothing.
pub async fn sweep_deletes_only_what_has_ended(store: Arc<dyn Store>) {
    let (t, clock) = super::super::tessera(store.clone()).await;
    let app = t.apps().default_app().await.unwrap();
    let pool = t.apps().default_pool().await.unwrap();
    let client = ClientInfo::default();
    let live = t
        .passwords()
        .sign_up(&app, "live@example.com", STRONG_PASSWORD, None, &client)
        .await
        .unwrap();
    let crate::SignUpOutcome::SignedIn(live) = live else {
        panic!("signed in")
    };
    let ended = t
        .passwords()
        .sign_up(&app, "ended@example.com", STRONG_PASSWORD, None, &client)
        .await
        .unwrap();
    let crate::SignUpOutcome::SignedIn(ended) = ended else {
        panic!("signed in")
    };
    t.sessions()
        .revoke(ended.user.id, ended.session.id, "sign_out")
        .await
        .unwrap();
    let old_kid = t.tokens().current_kid().await.unwrap();
    let new_kid = t.tokens().rotate(None).await.unwrap();
    let now0 = clock_now(&t);
    let (expired_secret, expired) =
        one_time_token(&pool, "magic_link", None, now0 + Duration::hours(1));
    let (live_secret, live_tok) =
        one_time_token(&pool, "magic_link", None, now0 + Duration::days(3));
    store.tokens().insert_token(&expired).await.unwrap();
    store.tokens().insert_token(&live_tok).await.unwrap();

    clock.advance(Duration::days(2));
    let now = clock_now(&t);
    let th = store.throttles();
    th.record_failure("stale", now - Duration::hours(2), now - Duration::hours(3))
        .await
        .unwrap();
    th.record_failure(
        "fresh",
        now - Duration::minutes(30),
        now - Duration::hours(3),
    )
    .await
    .unwrap();

    let minute = crate::model::RateLimit {
        max: 1,
        window: Duration::minutes(1),
    };
    th.hit("ended", &minute, now - Duration::seconds(61))
        .await
        .unwrap();
    th.hit("open", &minute, now - Duration::seconds(59))
        .await
        .unwrap();

    let report = t.sweep(Duration::days(1)).await.unwrap();
    // Besides the rows made here, each sign-up queued a verification link
    // (valid 24 h, so expired now) and counted a message to its address (an
    // hour-long window, so stale now).
    assert_eq!(
        report,
        SweepReport {
            sessions: 1,
            tokens: 3,
            throttles: 3,
            limits: 1,
            keys: 1,
            webhook_deliveries: 0
        }
    );
    assert_eq!(
        store
            .sessions()
            .find_session(ended.session.id)
            .await
            .unwrap(),
        None
    );
    let (s, u) = t
        .sessions()
        .validate(live.session_token.as_deref().unwrap())
        .await
        .unwrap();
    assert_eq!((s.id, u.id), (live.session.id, live.user.id));
    assert_eq!(
        store
            .tokens()
            .find_token("magic_link", &TokenHash::of(&live_secret), now)
            .await
            .unwrap(),
        Some(live_tok)
    );
    assert_err(
        store
            .tokens()
            .consume_token("magic_link", &TokenHash::of(&expired_secret), now0)
            .await,
        ErrorKind::InvalidToken,
    );
    assert_eq!(th.find_throttle("stale").await.unwrap(), None);
    assert!(th.find_throttle("fresh").await.unwrap().is_some());
    // The open window still counts its hit; the ended one was forgotten
    // (and would have started afresh anyway).
    assert_eq!(
        th.hit("open", &minute, now).await.unwrap(),
        Some(now + Duration::seconds(1))
    );
    assert_eq!(th.hit("ended", &minute, now).await.unwrap(), None);
    let kids: Vec<_> = store
        .keys()
        .list_signing_keys()
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.kid)
        .collect();
    assert_eq!(kids, vec![new_kid]);
    assert_ne!(old_kid, kids[0]);

    assert_eq!(
        t.sweep(Duration::days(1)).await.unwrap(),
        SweepReport::default()
    );
}

fn clock_now(t: &crate::Tessera) -> chrono::DateTime<chrono::Utc> {
    t.clock().now()
}
