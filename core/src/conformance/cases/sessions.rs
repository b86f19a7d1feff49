//! Sessions and refresh-token rotation, at the store.

use std::sync::Arc;

use chrono::Duration;

use super::super::fixtures::*;
use crate::ErrorKind;
use crate::crypto::TokenHash;
use crate::model::{RotationOutcome, Session};
use crate::new_id;
use crate::store::Store;

/// The session of a rotation outcome that carries one.
#[track_caller]
fn rotated_session(outcome: &RotationOutcome) -> &Session {
    match outcome {
        RotationOutcome::Rotated(b) | RotationOutcome::Repeated(b, _) => &b.0,
        other => panic!("expected Rotated or Repeated, got {other:?}"),
    }
}

/// Sessions round-trip exactly (adversarial user agent, extreme times)
/// through `find_session_by_token`, `find_session` and `list_user_sessions`,
/// each with the session's current user.
pub async fn sessions_round_trip_through_every_lookup(store: Arc<dyn Store>) {
    let (p, a) = insert_pool_and_app(store.as_ref(), "main").await;
    let u = insert_user(store.as_ref(), &p, "ada@example.com").await;
    let sessions = store.sessions();
    let mut far = session(&a, &u);
    far.session.user_agent = Some(
        ADVERSARIAL
            .iter()
            .copied()
            .collect::<String>()
            .chars()
            .take(200)
            .collect(),
    );
    far.session.ip = Some("::ffff:192.0.2.1".into());
    far.session.amr = vec!["pwd".into(), "otp".into(), "mfa".into()];
    far.session.created_at = earliest();
    far.session.last_seen_at = at(0) + Duration::microseconds(654_321);
    far.session.idle_timeout_secs = 400 * 24 * 3600;
    far.session.expires_at = latest();
    let mut near = session(&a, &u);
    near.session.user_agent = None;
    near.session.ip = None;
    near.session.amr = vec![];
    near.session.expires_at = earliest();
    near.session.revoked_at = Some(latest());
    near.session.revoke_reason = Some(ADVERSARIAL[0].into());
    for s in [&far, &near] {
        sessions
            .create_session(&s.session, &s.refresh, &[])
            .await
            .unwrap();
        assert_eq!(
            sessions
                .find_session_by_token(&TokenHash::of(&s.session_token))
                .await
                .unwrap(),
            Some((s.session.clone(), u.clone()))
        );
        assert_eq!(
            sessions.find_session(s.session.id).await.unwrap(),
            Some((s.session.clone(), u.clone()))
        );
    }
    // Revoked sessions are not listed; expired ones would be.
    assert_eq!(
        sessions.list_user_sessions(u.id).await.unwrap(),
        vec![far.session.clone()]
    );
    assert_eq!(
        sessions
            .find_session_by_token(&TokenHash::of("tss_unknown"))
            .await
            .unwrap(),
        None
    );
    assert_eq!(sessions.find_session(new_id(stamp())).await.unwrap(), None);

    // The user comes back as it is now, not as it was at sign-in.
    let patch = crate::model::UserPatch {
        disabled: Some(true),
        ..Default::default()
    };
    let changed = store
        .users()
        .update_user(u.id, &patch, at(5), &|_| Vec::new())
        .await
        .unwrap();
    assert_eq!(
        sessions.find_session(far.session.id).await.unwrap(),
        Some((far.session.clone(), changed.clone()))
    );
    assert_eq!(
        sessions
            .find_session_by_token(&far.session.token_hash)
            .await
            .unwrap(),
        Some((far.session, changed))
    );
}

/// `list_user_sessions` answers the user's unrevoked sessions, newest first,
/// including expired ones, and no one else's.
pub async fn list_user_sessions_newest_first(store: Arc<dyn Store>) {
    let (p, a) = insert_pool_and_app(store.as_ref(), "main").await;
    let u = insert_user(store.as_ref(), &p, "ada@example.com").await;
    let v = insert_user(store.as_ref(), &p, "bob@example.com").await;
    let s1 = insert_session(store.as_ref(), &a, &u).await;
    let mut expired = session(&a, &u);
    expired.session.expires_at = at(-10);
    store
        .sessions()
        .create_session(&expired.session, &expired.refresh, &[])
        .await
        .unwrap();
    let s3 = insert_session(store.as_ref(), &a, &u).await;
    let revoked = insert_session(store.as_ref(), &a, &u).await;
    insert_session(store.as_ref(), &a, &v).await;
    assert!(
        store
            .sessions()
            .revoke_session(revoked.session.id, Some(u.id), at(1), "sign_out", &|_| {
                Vec::new()
            })
            .await
            .unwrap()
    );
    assert_eq!(
        store.sessions().list_user_sessions(u.id).await.unwrap(),
        vec![s3.session, expired.session, s1.session]
    );
}

/// Creating a session for a missing user or app is `NotFound` and leaves no
/// session and no refresh token behind.
pub async fn create_session_for_missing_user_writes_nothing(store: Arc<dyn Store>) {
    let (p, a) = insert_pool_and_app(store.as_ref(), "main").await;
    let ghost = user(&p, "ghost@example.com");
    let s = session(&a, &ghost);
    assert_err(
        store
            .sessions()
            .create_session(&s.session, &s.refresh, &[])
            .await,
        ErrorKind::NotFound,
    );
    assert_eq!(
        store.sessions().find_session(s.session.id).await.unwrap(),
        None
    );
    assert_eq!(
        store
            .sessions()
            .find_session_by_token(&s.session.token_hash)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .sessions()
            .rotate_refresh_token(&rotation(&s.refresh_token, at(1), 10), &|_| Vec::new())
            .await
            .unwrap(),
        RotationOutcome::NotFound
    );

    let u = insert_user(store.as_ref(), &p, "ada@example.com").await;
    let ghost_app = app(&p, "ghost");
    let s = session(&ghost_app, &u);
    assert_err(
        store
            .sessions()
            .create_session(&s.session, &s.refresh, &[])
            .await,
        ErrorKind::NotFound,
    );
    assert_eq!(
        store.sessions().find_session(s.session.id).await.unwrap(),
        None
    );
    assert!(
        store
            .sessions()
            .list_user_sessions(u.id)
            .await
            .unwrap()
            .is_empty()
    );
}

/// `touch_session` moves `last_seen_at` (and with it the idle expiry), read
/// back by every lookup.
pub async fn touch_session_moves_last_seen(store: Arc<dyn Store>) {
    let (p, a) = insert_pool_and_app(store.as_ref(), "main").await;
    let u = insert_user(store.as_ref(), &p, "ada@example.com").await;
    let mut s = insert_session(store.as_ref(), &a, &u).await;
    let now = at(3 * 24 * 3600) + Duration::microseconds(17);
    store
        .sessions()
        .touch_session(s.session.id, now)
        .await
        .unwrap();
    s.session.last_seen_at = now;
    assert_eq!(
        store.sessions().find_session(s.session.id).await.unwrap(),
        Some((s.session.clone(), u.clone()))
    );
    assert_eq!(
        store
            .sessions()
            .find_session_by_token(&s.session.token_hash)
            .await
            .unwrap(),
        Some((s.session.clone(), u.clone()))
    );
    assert_eq!(
        store.sessions().list_user_sessions(u.id).await.unwrap(),
        vec![s.session.clone()]
    );
    // Still active past the original idle expiry, thanks to the touch.
    let later = s.session.created_at + Duration::days(8);
    assert!(matches!(
        store
            .sessions()
            .rotate_refresh_token(&rotation(&s.refresh_token, later, 0), &|_| Vec::new())
            .await
            .unwrap(),
        RotationOutcome::Rotated(_)
    ));
}

/// Revocation is idempotent (a second call answers `false` and keeps the
/// first time and reason) and scoped to its user (revoking someone else's
/// session with your user id is `NotFound` and their session stays live).
pub async fn revoke_session_is_idempotent_and_scoped(store: Arc<dyn Store>) {
    let (p, a) = insert_pool_and_app(store.as_ref(), "main").await;
    let ada = insert_user(store.as_ref(), &p, "ada@example.com").await;
    let mallory = insert_user(store.as_ref(), &p, "mallory@example.com").await;
    let s = insert_session(store.as_ref(), &a, &ada).await;
    let sessions = store.sessions();

    assert_err(
        sessions
            .revoke_session(s.session.id, Some(mallory.id), at(1), "evil", &|_| {
                Vec::new()
            })
            .await,
        ErrorKind::NotFound,
    );
    assert_eq!(
        sessions.find_session(s.session.id).await.unwrap(),
        Some((s.session.clone(), ada.clone()))
    );
    assert_eq!(
        sessions.list_user_sessions(ada.id).await.unwrap(),
        vec![s.session.clone()]
    );

    let first = at(2) + micro();
    assert!(
        sessions
            .revoke_session(s.session.id, Some(ada.id), first, ADVERSARIAL[1], &|_| {
                Vec::new()
            })
            .await
            .unwrap()
    );
    assert!(
        !sessions
            .revoke_session(s.session.id, Some(ada.id), at(3), "again", &|_| Vec::new())
            .await
            .unwrap()
    );
    assert!(
        !sessions
            .revoke_session(s.session.id, None, at(4), "admin", &|_| Vec::new())
            .await
            .unwrap()
    );
    let mut expected = s.session.clone();
    expected.revoked_at = Some(first);
    expected.revoke_reason = Some(ADVERSARIAL[1].into());
    assert_eq!(
        sessions.find_session(s.session.id).await.unwrap(),
        Some((expected.clone(), ada.clone()))
    );
    assert_eq!(
        sessions
            .find_session_by_token(&s.session.token_hash)
            .await
            .unwrap(),
        Some((expected, ada.clone()))
    );
    assert!(
        sessions
            .list_user_sessions(ada.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert_err(
        sessions
            .revoke_session(new_id(stamp()), None, at(5), "x", &|_| Vec::new())
            .await,
        ErrorKind::NotFound,
    );
    assert_err(
        sessions
            .revoke_session(new_id(stamp()), Some(ada.id), at(5), "x", &|_| Vec::new())
            .await,
        ErrorKind::NotFound,
    );
}

/// `revoke_user_sessions` revokes every live session of the user except
/// `except`, counts only those it revoked, keeps earlier revocations as they
/// were, and leaves other users alone.
pub async fn revoke_user_sessions_spares_except(store: Arc<dyn Store>) {
    let (p, a) = insert_pool_and_app(store.as_ref(), "main").await;
    let ada = insert_user(store.as_ref(), &p, "ada@example.com").await;
    let bob = insert_user(store.as_ref(), &p, "bob@example.com").await;
    let keep = insert_session(store.as_ref(), &a, &ada).await;
    let s2 = insert_session(store.as_ref(), &a, &ada).await;
    let s3 = insert_session(store.as_ref(), &a, &ada).await;
    let earlier = insert_session(store.as_ref(), &a, &ada).await;
    let bobs = insert_session(store.as_ref(), &a, &bob).await;
    let sessions = store.sessions();
    sessions
        .revoke_session(earlier.session.id, None, at(1), "sign_out", &|_| Vec::new())
        .await
        .unwrap();

    let n = sessions
        .revoke_user_sessions(
            ada.id,
            Some(keep.session.id),
            at(2),
            "password_changed",
            &|_| Vec::new(),
        )
        .await
        .unwrap();
    assert_eq!(n, 2);
    assert_eq!(
        sessions.list_user_sessions(ada.id).await.unwrap(),
        vec![keep.session.clone()]
    );
    for s in [&s2, &s3] {
        let (got, _) = sessions.find_session(s.session.id).await.unwrap().unwrap();
        assert_eq!(got.revoked_at, Some(at(2)));
        assert_eq!(got.revoke_reason.as_deref(), Some("password_changed"));
    }
    let (got, _) = sessions
        .find_session(earlier.session.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.revoked_at, Some(at(1)));
    assert_eq!(got.revoke_reason.as_deref(), Some("sign_out"));
    assert_eq!(
        sessions.list_user_sessions(bob.id).await.unwrap(),
        vec![bobs.session]
    );

    assert_eq!(
        sessions
            .revoke_user_sessions(ada.id, None, at(3), "user_disabled", &|_| Vec::new())
            .await
            .unwrap(),
        1
    );
    assert!(
        sessions
            .list_user_sessions(ada.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        sessions
            .revoke_user_sessions(ada.id, None, at(4), "again", &|_| Vec::new())
            .await
            .unwrap(),
        0
    );
}

/// A live refresh token rotates once: `Rotated` with the session and user,
/// then its successor is the live token and rotates in turn.
pub async fn refresh_rotation_hands_over_to_the_successor(store: Arc<dyn Store>) {
    let (p, a) = insert_pool_and_app(store.as_ref(), "main").await;
    let u = insert_user(store.as_ref(), &p, "ada@example.com").await;
    let s = insert_session(store.as_ref(), &a, &u).await;
    let sessions = store.sessions();
    let out = sessions
        .rotate_refresh_token(&rotation(&s.refresh_token, at(60), 0), &|_| Vec::new())
        .await
        .unwrap();
    let RotationOutcome::Rotated(b) = &out else {
        panic!("expected Rotated, got {out:?}")
    };
    assert_eq!(b.0.id, s.session.id);
    assert_eq!(b.1, u);
    let next = successor(&s.refresh_token);
    let out = sessions
        .rotate_refresh_token(&rotation(&next, at(120), 0), &|_| Vec::new())
        .await
        .unwrap();
    assert_eq!(rotated_session(&out).id, s.session.id);
    assert!(matches!(out, RotationOutcome::Rotated(_)));
    assert_eq!(
        sessions
            .rotate_refresh_token(&rotation("tsr_never-issued", at(120), 10), &|_| Vec::new())
            .await
            .unwrap(),
        RotationOutcome::NotFound
    );
}

/// A spent token presented within the grace window, while its successor is
/// unspent, answers `Repeated` with the time it was spent; nothing changes.
pub async fn refresh_repeat_within_grace_is_repeated(store: Arc<dyn Store>) {
    let (p, a) = insert_pool_and_app(store.as_ref(), "main").await;
    let u = insert_user(store.as_ref(), &p, "ada@example.com").await;
    let s = insert_session(store.as_ref(), &a, &u).await;
    let sessions = store.sessions();
    let spent = at(60) + Duration::microseconds(250_001);
    assert!(matches!(
        sessions
            .rotate_refresh_token(&rotation(&s.refresh_token, spent, 10), &|_| Vec::new())
            .await
            .unwrap(),
        RotationOutcome::Rotated(_)
    ));
    for later in [spent, spent + Duration::seconds(5)] {
        let out = sessions
            .rotate_refresh_token(&rotation(&s.refresh_token, later, 10), &|_| Vec::new())
            .await
            .unwrap();
        let RotationOutcome::Repeated(b, spent_at) = &out else {
            panic!("expected Repeated, got {out:?}")
        };
        assert_eq!(*spent_at, spent);
        assert_eq!(b.0.id, s.session.id);
        assert_eq!(b.1, u);
    }
    // The session is untouched and the successor still works.
    let (got, _) = sessions.find_session(s.session.id).await.unwrap().unwrap();
    assert_eq!(got.revoked_at, None);
    assert!(matches!(
        sessions
            .rotate_refresh_token(
                &rotation(
                    &successor(&s.refresh_token),
                    spent + Duration::seconds(6),
                    10
                ),
                &|_| Vec::new()
            )
            .await
            .unwrap(),
        RotationOutcome::Rotated(_)
    ));
}

/// A spent token after the grace window is `Reused`: the session is revoked
/// (reason `refresh_token_reused`) and its live successor stops working.
pub async fn refresh_reuse_after_grace_revokes_the_session(store: Arc<dyn Store>) {
    let (p, a) = insert_pool_and_app(store.as_ref(), "main").await;
    let u = insert_user(store.as_ref(), &p, "ada@example.com").await;
    let s = insert_session(store.as_ref(), &a, &u).await;
    let bystander = insert_session(store.as_ref(), &a, &u).await;
    let sessions = store.sessions();
    sessions
        .rotate_refresh_token(&rotation(&s.refresh_token, at(60), 10), &|_| Vec::new())
        .await
        .unwrap();
    let reuse_at = at(71);
    assert_eq!(
        sessions
            .rotate_refresh_token(&rotation(&s.refresh_token, reuse_at, 10), &|_| Vec::new())
            .await
            .unwrap(),
        RotationOutcome::Reused {
            session_id: s.session.id
        }
    );
    let (got, _) = sessions.find_session(s.session.id).await.unwrap().unwrap();
    assert_eq!(got.revoked_at, Some(reuse_at));
    assert_eq!(got.revoke_reason.as_deref(), Some("refresh_token_reused"));
    // The successor belongs to a revoked session now.
    assert_eq!(
        sessions
            .rotate_refresh_token(&rotation(&successor(&s.refresh_token), at(72), 10), &|_| {
                Vec::new()
            })
            .await
            .unwrap(),
        RotationOutcome::Inactive
    );
    // Other sessions of the user are not affected.
    assert!(matches!(
        sessions
            .rotate_refresh_token(&rotation(&bystander.refresh_token, at(73), 10), &|_| {
                Vec::new()
            })
            .await
            .unwrap(),
        RotationOutcome::Rotated(_)
    ));
}

/// Within the grace window a spent token whose successor has itself been used
/// is `Reused`, not `Repeated` (the stolen-token case), and revokes the session.
pub async fn refresh_repeat_after_successor_used_is_reuse(store: Arc<dyn Store>) {
    let (p, a) = insert_pool_and_app(store.as_ref(), "main").await;
    let u = insert_user(store.as_ref(), &p, "ada@example.com").await;
    let s = insert_session(store.as_ref(), &a, &u).await;
    let sessions = store.sessions();
    let first = s.refresh_token.clone();
    let second = successor(&first);
    sessions
        .rotate_refresh_token(&rotation(&first, at(60), 10), &|_| Vec::new())
        .await
        .unwrap();
    assert!(matches!(
        sessions
            .rotate_refresh_token(&rotation(&second, at(61), 10), &|_| Vec::new())
            .await
            .unwrap(),
        RotationOutcome::Rotated(_)
    ));
    assert_eq!(
        sessions
            .rotate_refresh_token(&rotation(&first, at(62), 10), &|_| Vec::new())
            .await
            .unwrap(),
        RotationOutcome::Reused {
            session_id: s.session.id
        }
    );
    let (got, _) = sessions.find_session(s.session.id).await.unwrap().unwrap();
    assert_eq!(got.revoked_at, Some(at(62)));
    assert_eq!(got.revoke_reason.as_deref(), Some("refresh_token_reused"));
}

/// A grace window of zero is no window: presenting a spent token again, even
/// at the very time it was spent, is `Reused` (never `Repeated`).
pub async fn refresh_with_zero_grace_never_repeats(store: Arc<dyn Store>) {
    let (p, a) = insert_pool_and_app(store.as_ref(), "main").await;
    let u = insert_user(store.as_ref(), &p, "ada@example.com").await;
    let s = insert_session(store.as_ref(), &a, &u).await;
    let sessions = store.sessions();
    let now = at(60);
    assert!(matches!(
        sessions
            .rotate_refresh_token(&rotation(&s.refresh_token, now, 0), &|_| Vec::new())
            .await
            .unwrap(),
        RotationOutcome::Rotated(_)
    ));
    assert_eq!(
        sessions
            .rotate_refresh_token(&rotation(&s.refresh_token, now, 0), &|_| Vec::new())
            .await
            .unwrap(),
        RotationOutcome::Reused {
            session_id: s.session.id
        }
    );
    let (got, _) = sessions.find_session(s.session.id).await.unwrap().unwrap();
    assert_eq!(got.revoked_at, Some(now));
}

/// A spent refresh token presented again after its session was revoked for
/// reuse still answers `Reused` (not `Inactive`), and the first revocation's
/// time and reason are kept.
/// (This is what makes a race deterministic: every loser sees `Reused`, not
/// `Inactive` depending on whether another loser revoked first.)
pub async fn spent_refresh_token_is_reuse_even_after_revocation(store: Arc<dyn Store>) {
    let (p, a) = insert_pool_and_app(store.as_ref(), "main").await;
    let u = insert_user(store.as_ref(), &p, "ada@example.com").await;
    let sessions = store.sessions();

    let s = insert_session(store.as_ref(), &a, &u).await;
    sessions
        .rotate_refresh_token(&rotation(&s.refresh_token, at(60), 0), &|_| Vec::new())
        .await
        .unwrap();
    for when in [at(61), at(62)] {
        assert_eq!(
            sessions
                .rotate_refresh_token(&rotation(&s.refresh_token, when, 0), &|_| Vec::new())
                .await
                .unwrap(),
            RotationOutcome::Reused {
                session_id: s.session.id
            }
        );
    }
    let (got, _) = sessions.find_session(s.session.id).await.unwrap().unwrap();
    assert_eq!(got.revoked_at, Some(at(61)));
    assert_eq!(got.revoke_reason.as_deref(), Some("refresh_token_reused"));
}

/// A live token of a session that is revoked, past its absolute expiry or
/// idle gives `Inactive` and nothing changes (the token is not spent: the
/// same token still rotates at a time the session was active).
pub async fn refresh_of_inactive_session_changes_nothing(store: Arc<dyn Store>) {
    let (p, a) = insert_pool_and_app(store.as_ref(), "main").await;
    let u = insert_user(store.as_ref(), &p, "ada@example.com").await;
    let sessions = store.sessions();

    let mut expiring = session(&a, &u);
    expiring.session.expires_at = at(100);
    expiring.session.idle_timeout_secs = 3600;
    sessions
        .create_session(&expiring.session, &expiring.refresh, &[])
        .await
        .unwrap();
    for late in [at(100), at(101)] {
        assert_eq!(
            sessions
                .rotate_refresh_token(&rotation(&expiring.refresh_token, late, 10), &|_| Vec::new(
                ))
                .await
                .unwrap(),
            RotationOutcome::Inactive
        );
    }
    let mut idle = session(&a, &u);
    idle.session.last_seen_at = at(0);
    idle.session.idle_timeout_secs = 60;
    sessions
        .create_session(&idle.session, &idle.refresh, &[])
        .await
        .unwrap();
    assert_eq!(
        sessions
            .rotate_refresh_token(&rotation(&idle.refresh_token, at(60), 10), &|_| Vec::new())
            .await
            .unwrap(),
        RotationOutcome::Inactive
    );
    // Nothing was spent or revoked: earlier, both tokens still rotate.
    for s in [&expiring, &idle] {
        assert!(matches!(
            sessions
                .rotate_refresh_token(&rotation(&s.refresh_token, at(30), 10), &|_| Vec::new())
                .await
                .unwrap(),
            RotationOutcome::Rotated(_)
        ));
        let (got, _) = sessions.find_session(s.session.id).await.unwrap().unwrap();
        assert_eq!(got.revoked_at, None);
    }

    let revoked = insert_session(store.as_ref(), &a, &u).await;
    sessions
        .revoke_session(revoked.session.id, None, at(1), "sign_out", &|_| Vec::new())
        .await
        .unwrap();
    assert_eq!(
        sessions
            .rotate_refresh_token(&rotation(&revoked.refresh_token, at(2), 10), &|_| Vec::new(
            ))
            .await
            .unwrap(),
        RotationOutcome::Inactive
    );
    let (got, _) = sessions
        .find_session(revoked.session.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.revoked_at, Some(at(1)));
    assert_eq!(got.revoke_reason.as_deref(), Some("sign_out"));
}
