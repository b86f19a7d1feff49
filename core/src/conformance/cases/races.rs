//! Races: single winners and no lost writes, with real concurrency (tasks on
//! the multi-thread runtime, released together by a barrier).

use std::sync::Arc;

use serde_json::json;

use super::super::fixtures::*;
use crate::crypto::TokenHash;
use crate::model::{
    AuditQuery, Backoff, ClientInfo, CodeAttempt, CredentialKind, RateLimit, Reservation,
    RotationOutcome, UserPatch, UserQuery,
};
use crate::store::Store;
use crate::{ErrorKind, SignUpOutcome};

/// How many tasks race for a single-use secret.
const RACERS: usize = 32;

/// 32 tasks rotate one refresh token with no grace window: exactly one gets
/// `Rotated`, every other one `Reused` (whatever the interleaving, a spent
/// token is reuse), and the session ends up revoked.
pub async fn refresh_rotation_race_has_one_winner(store: Arc<dyn Store>) {
    let (p, a) = insert_pool_and_app(store.as_ref(), "main").await;
    let u = insert_user(store.as_ref(), &p, "ada@example.com").await;
    let s = insert_session(store.as_ref(), &a, &u).await;
    let r = rotation(&s.refresh_token, at(60), 0);
    let outcomes = race(RACERS, |_| {
        let store = store.clone();
        let r = r.clone();
        async move {
            store
                .sessions()
                .rotate_refresh_token(&r, &|_| Vec::new())
                .await
                .unwrap()
        }
    })
    .await;
    let rotated = outcomes
        .iter()
        .filter(|o| matches!(o, RotationOutcome::Rotated(_)))
        .count();
    assert_eq!(rotated, 1, "{outcomes:?}");
    for o in &outcomes {
        assert!(
            matches!(o, RotationOutcome::Rotated(_))
                || *o
                    == RotationOutcome::Reused {
                        session_id: s.session.id
                    },
            "{o:?}"
        );
    }
    let (got, _) = store
        .sessions()
        .find_session(s.session.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.revoked_at, Some(at(60)));
    assert!(!got.is_active(at(60)));
}

/// 32 tasks rotate one refresh token inside a grace window: exactly one gets
/// `Rotated`, the others `Repeated` with the winner's time, and the session
/// stays live with the successor rotating next.
pub async fn refresh_rotation_race_within_grace_repeats(store: Arc<dyn Store>) {
    let (p, a) = insert_pool_and_app(store.as_ref(), "main").await;
    let u = insert_user(store.as_ref(), &p, "ada@example.com").await;
    let s = insert_session(store.as_ref(), &a, &u).await;
    let r = rotation(&s.refresh_token, at(60), 10);
    let outcomes = race(RACERS, |_| {
        let store = store.clone();
        let r = r.clone();
        async move {
            store
                .sessions()
                .rotate_refresh_token(&r, &|_| Vec::new())
                .await
                .unwrap()
        }
    })
    .await;
    let rotated = outcomes
        .iter()
        .filter(|o| matches!(o, RotationOutcome::Rotated(_)))
        .count();
    assert_eq!(rotated, 1, "{outcomes:?}");
    for o in &outcomes {
        match o {
            RotationOutcome::Rotated(b) => assert_eq!(b.0.id, s.session.id),
            RotationOutcome::Repeated(b, spent_at) => {
                assert_eq!(b.0.id, s.session.id);
                assert_eq!(*spent_at, at(60));
            }
            other => panic!("expected Rotated or Repeated, got {other:?}"),
        }
    }
    let (got, _) = store
        .sessions()
        .find_session(s.session.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.revoked_at, None);
    assert!(matches!(
        store
            .sessions()
            .rotate_refresh_token(&rotation(&successor(&s.refresh_token), at(61), 10), &|_| {
                Vec::new()
            })
            .await
            .unwrap(),
        RotationOutcome::Rotated(_)
    ));
}

/// 32 tasks consume one one-time token: exactly one gets it, the rest
/// `InvalidToken`.
pub async fn one_time_token_race_has_one_winner(store: Arc<dyn Store>) {
    let (p, _) = insert_pool_and_app(store.as_ref(), "main").await;
    let (secret, tok) = one_time_token(&p, "magic_link", None, at(600));
    store.tokens().insert_token(&tok).await.unwrap();
    let hash = TokenHash::of(&secret);
    let results = race(RACERS, |_| {
        let store = store.clone();
        async move {
            store
                .tokens()
                .consume_token("magic_link", &hash, at(1))
                .await
        }
    })
    .await;
    let mut winners = 0;
    for r in results {
        match r {
            Ok(t) => {
                assert_eq!(t, tok);
                winners += 1;
            }
            Err(e) => assert_eq!(e.kind(), &ErrorKind::InvalidToken, "{e:?}"),
        }
    }
    assert_eq!(winners, 1);
}

/// 32 tasks spend one recovery code: exactly one `true`.
pub async fn recovery_code_race_has_one_winner(store: Arc<dyn Store>) {
    let (p, _) = insert_pool_and_app(store.as_ref(), "main").await;
    let u = insert_user(store.as_ref(), &p, "ada@example.com").await;
    let rc = CredentialKind::RecoveryCode;
    let spare = credential(&u, rc, "spare");
    store
        .credentials()
        .insert_credential(&credential(&u, rc, "contested"), &[])
        .await
        .unwrap();
    store
        .credentials()
        .insert_credential(&spare, &[])
        .await
        .unwrap();
    let uid = u.id;
    let results = race(RACERS, |_| {
        let store = store.clone();
        async move {
            store
                .credentials()
                .consume_credential(uid, rc, "contested", &[])
                .await
                .unwrap()
        }
    })
    .await;
    assert_eq!(results.iter().filter(|w| **w).count(), 1);
    assert_eq!(
        store
            .credentials()
            .list_credentials(u.id, Some(rc))
            .await
            .unwrap(),
        vec![spare]
    );
}

/// A user with two ways to sign in (a passkey and an identity) and 32 tasks
/// deleting them at once, half each, with `keep_one`: exactly one deletion
/// wins, the others are refused or find nothing, and one way is left.
pub async fn last_sign_in_method_race_keeps_one(store: Arc<dyn Store>) {
    use crate::model::SignInMethodRef;
    let (p, _) = insert_pool_and_app(store.as_ref(), "main").await;
    let u = insert_user(store.as_ref(), &p, "ada@example.com").await;
    let passkey = credential(&u, CredentialKind::Passkey, "pk");
    let linked = identity(&u, "github", "42");
    store
        .credentials()
        .insert_credential(&passkey, &[])
        .await
        .unwrap();
    store
        .identities()
        .insert_identity(&linked, &[])
        .await
        .unwrap();
    let uid = u.id;
    let results = race(RACERS, |i| {
        let store = store.clone();
        let target = if i % 2 == 0 {
            SignInMethodRef::Credential(passkey.id)
        } else {
            SignInMethodRef::Identity(linked.id)
        };
        async move {
            match store
                .users()
                .delete_sign_in_method(uid, target, true, &[])
                .await
            {
                Ok(deleted) => deleted,
                Err(e) if *e.kind() == ErrorKind::LastSignInMethod => false,
                Err(e) => panic!("unexpected error {e:?}"),
            }
        }
    })
    .await;
    assert_eq!(results.iter().filter(|w| **w).count(), 1);
    let left = store
        .credentials()
        .list_credentials(uid, Some(CredentialKind::Passkey))
        .await
        .unwrap()
        .len()
        + store.identities().list_identities(uid).await.unwrap().len();
    assert_eq!(left, 1);
    // The last one stays; without `keep_one` it goes, and a second try finds nothing.
    let last = match store
        .identities()
        .list_identities(uid)
        .await
        .unwrap()
        .first()
    {
        Some(i) => SignInMethodRef::Identity(i.id),
        None => SignInMethodRef::Credential(passkey.id),
    };
    assert_err(
        store
            .users()
            .delete_sign_in_method(uid, last, true, &[])
            .await,
        ErrorKind::LastSignInMethod,
    );
    assert!(
        store
            .users()
            .delete_sign_in_method(uid, last, false, &[])
            .await
            .unwrap()
    );
    assert!(
        !store
            .users()
            .delete_sign_in_method(uid, last, false, &[])
            .await
            .unwrap()
    );
}

/// 32 tasks guess the right code at once: exactly one `Accepted`, the rest
/// `NotFound`.
pub async fn code_attempt_race_has_one_winner(store: Arc<dyn Store>) {
    let (p, _) = insert_pool_and_app(store.as_ref(), "main").await;
    let subject = "ada@example.com";
    store
        .tokens()
        .replace_code(&code(&p, "email_code", subject, "123456", at(600)))
        .await
        .unwrap();
    let right = code_hash(subject, "123456");
    let pool_id = p.id;
    let results = race(RACERS, |_| {
        let store = store.clone();
        async move {
            store
                .tokens()
                .attempt_code("email_code", pool_id, subject, &right, 5, at(1))
                .await
                .unwrap()
        }
    })
    .await;
    let accepted = results
        .iter()
        .filter(|r| matches!(r, CodeAttempt::Accepted(_)))
        .count();
    assert_eq!(accepted, 1, "{results:?}");
    for r in &results {
        assert!(
            matches!(r, CodeAttempt::Accepted(_) | CodeAttempt::NotFound),
            "{r:?}"
        );
    }
}

/// 32 tasks guess a wrong code at once with 5 attempts allowed: each count
/// from 4 down to 0 attempts left is answered exactly once (no guess lost or
/// counted twice), the rest find no code, and the right code no longer works.
pub async fn wrong_code_race_counts_every_attempt(store: Arc<dyn Store>) {
    let (p, _) = insert_pool_and_app(store.as_ref(), "main").await;
    let subject = "ada@example.com";
    store
        .tokens()
        .replace_code(&code(&p, "email_code", subject, "123456", at(600)))
        .await
        .unwrap();
    let wrong = code_hash(subject, "654321");
    let pool_id = p.id;
    let results = race(RACERS, |_| {
        let store = store.clone();
        async move {
            store
                .tokens()
                .attempt_code("email_code", pool_id, subject, &wrong, 5, at(1))
                .await
                .unwrap()
        }
    })
    .await;
    let mut left: Vec<u32> = results
        .iter()
        .filter_map(|r| match r {
            CodeAttempt::Rejected { attempts_left } => Some(*attempts_left),
            CodeAttempt::NotFound => None,
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    left.sort_unstable();
    assert_eq!(left, vec![0, 1, 2, 3, 4], "{results:?}");
    assert_eq!(
        store
            .tokens()
            .attempt_code(
                "email_code",
                p.id,
                subject,
                &code_hash(subject, "123456"),
                5,
                at(2)
            )
            .await
            .unwrap(),
        CodeAttempt::NotFound
    );
}

/// 16 tasks sign up the same email through the facade: exactly one user is
/// created and the other 15 get `EmailTaken`.
pub async fn sign_up_race_creates_one_user(store: Arc<dyn Store>) {
    let (t, _clock) = super::super::tessera(store.clone()).await;
    let app = t.apps().default_app().await.unwrap();
    let results = race(16, |_| {
        let t = t.clone();
        let app = app.clone();
        async move {
            t.passwords()
                .sign_up(
                    &app,
                    "Racer@Example.com",
                    STRONG_PASSWORD,
                    None,
                    &ClientInfo::default(),
                )
                .await
        }
    })
    .await;
    let mut winners = Vec::new();
    for r in results {
        match r {
            Ok(SignUpOutcome::SignedIn(s)) => winners.push(s.user.id),
            Ok(other) => panic!("unexpected {other:?}"),
            Err(e) => assert_eq!(e.kind(), &ErrorKind::EmailTaken, "{e:?}"),
        }
    }
    assert_eq!(winners.len(), 1);
    let users = store
        .users()
        .list_users(
            app.pool_id,
            &UserQuery {
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].id, winners[0]);
    assert_eq!(users[0].email, "racer@example.com");
    assert_eq!(
        store
            .credentials()
            .list_credentials(winners[0], None)
            .await
            .unwrap()
            .len(),
        1
    );
}

/// Racing first uses of the signing key all get the same key, and exactly one
/// is stored.
pub async fn first_signing_key_race_agrees_on_one_key(store: Arc<dyn Store>) {
    let results = race(RACERS, |i| {
        let store = store.clone();
        let key = signing_key(&format!("kid-{i}"));
        async move { store.keys().insert_first_signing_key(&key).await.unwrap() }
    })
    .await;
    let stored = store.keys().list_signing_keys().await.unwrap();
    assert_eq!(stored.len(), 1);
    for k in results {
        assert_eq!(k, stored[0]);
    }
}

/// Writers patching different fields of one user at once never undo each
/// other: after every round, each field holds its writer's value.
pub async fn concurrent_user_patches_lose_no_writes(store: Arc<dyn Store>) {
    let (p, _) = insert_pool_and_app(store.as_ref(), "main").await;
    let u = insert_user(store.as_ref(), &p, "ada@example.com").await;
    let uid = u.id;
    for round in 0..20i64 {
        let now = at(round);
        let patches = [
            UserPatch {
                email: Some(format!("ada{round}@example.com")),
                ..Default::default()
            },
            UserPatch {
                email_verified: Some(round % 2 == 0),
                ..Default::default()
            },
            UserPatch {
                name: Some(Some(format!("Ada {round}"))),
                ..Default::default()
            },
            UserPatch {
                metadata: Some(json!({ "round": round })),
                ..Default::default()
            },
            UserPatch {
                disabled: Some(round % 2 == 1),
                ..Default::default()
            },
        ];
        let patches = Arc::new(patches);
        race(patches.len(), |i| {
            let store = store.clone();
            let patches = patches.clone();
            async move {
                store
                    .users()
                    .update_user(uid, &patches[i], now, &|_| Vec::new())
                    .await
                    .unwrap()
            }
        })
        .await;
        let got = store.users().get_user(uid).await.unwrap();
        assert_eq!(
            got.email,
            format!("ada{round}@example.com"),
            "round {round}"
        );
        assert_eq!(got.email_verified, round % 2 == 0, "round {round}");
        assert_eq!(got.name, Some(format!("Ada {round}")), "round {round}");
        assert_eq!(got.metadata, json!({ "round": round }), "round {round}");
        assert_eq!(got.disabled, round % 2 == 1, "round {round}");
        assert_eq!(got.updated_at, now);
        assert_eq!(got.created_at, u.created_at);
    }
}

/// N tasks counting a failure against one key at once: the count is N.
pub async fn concurrent_failures_are_all_counted(store: Arc<dyn Store>) {
    let results = race(RACERS, |_| {
        let store = store.clone();
        async move {
            store
                .throttles()
                .record_failure("sign_in:race", at(1), at(-3600))
                .await
                .unwrap()
        }
    })
    .await;
    let mut counts: Vec<u32> = results.iter().map(|t| t.failures).collect();
    counts.sort_unstable();
    assert_eq!(counts, (1..=RACERS as u32).collect::<Vec<_>>());
    assert_eq!(
        store
            .throttles()
            .find_throttle("sign_in:race")
            .await
            .unwrap()
            .map(|t| t.failures),
        Some(RACERS as u32)
    );
}

/// N tasks reserve attempts against one fresh key at once: exactly the five
/// free ones proceed (counted 1 to 5) and the rest are refused until the
/// first wait ends; when it has, N more at once: exactly one proceeds (the
/// sixth) and the rest are refused until the doubled wait ends.
pub async fn concurrent_attempts_past_the_free_ones_let_one_through(store: Arc<dyn Store>) {
    let backoff = Backoff {
        free: 5,
        first_wait: chrono::Duration::seconds(1),
        max_wait: chrono::Duration::seconds(300),
        reset_after: chrono::Duration::hours(1),
    };
    let reserve_all = |now| {
        let store = store.clone();
        race(RACERS, move |_| {
            let store = store.clone();
            async move {
                store
                    .throttles()
                    .reserve_attempt("sign_in:race", now, &backoff)
                    .await
                    .unwrap()
            }
        })
    };
    let first = reserve_all(at(1)).await;
    let mut granted: Vec<u32> = first
        .iter()
        .filter_map(|r| match r {
            Reservation::Granted(t) => Some(t.failures),
            Reservation::Refused { .. } => None,
        })
        .collect();
    granted.sort_unstable();
    assert_eq!(granted, [1, 2, 3, 4, 5], "{first:?}");
    let refusal = Reservation::Refused { until: at(2) };
    assert_eq!(
        first.iter().filter(|r| **r == refusal).count(),
        RACERS - 5,
        "{first:?}"
    );

    let second = reserve_all(at(2)).await;
    let granted: Vec<_> = second
        .iter()
        .filter(|r| matches!(r, Reservation::Granted(_)))
        .collect();
    assert_eq!(granted.len(), 1, "{second:?}");
    let Reservation::Granted(t) = granted[0] else {
        unreachable!()
    };
    assert_eq!((t.failures, t.next_attempt_at), (6, Some(at(4))));
    let refusal = Reservation::Refused { until: at(4) };
    assert_eq!(
        second.iter().filter(|r| **r == refusal).count(),
        RACERS - 1,
        "{second:?}"
    );
}

/// 16 tasks hit one rate-limited key at once, twice over in one window:
/// exactly `max` hits are allowed in all, the rest answer the window's end.
pub async fn concurrent_hits_never_exceed_the_limit(store: Arc<dyn Store>) {
    let limit = RateLimit {
        max: 10,
        window: chrono::Duration::seconds(60),
    };
    let mut allowed = 0;
    for now in [at(1), at(30)] {
        let hits = race(16, |_| {
            let store = store.clone();
            async move {
                store
                    .throttles()
                    .hit("sign_in_ip:192.0.2.1", &limit, now)
                    .await
                    .unwrap()
            }
        })
        .await;
        allowed += hits.iter().filter(|h| h.is_none()).count();
        assert!(
            hits.iter().all(|h| h.is_none() || *h == Some(at(61))),
            "{hits:?}"
        );
    }
    assert_eq!(allowed, 10);
}

/// N tasks appending audit events at once: all N are stored.
pub async fn concurrent_audit_appends_are_all_kept(store: Arc<dyn Store>) {
    let events: Vec<_> = (0..RACERS)
        .map(|i| {
            let mut e = audit_event("race", stamp());
            e.data = json!({ "i": i });
            e
        })
        .collect();
    let events = Arc::new(events);
    race(RACERS, |i| {
        let store = store.clone();
        let events = events.clone();
        async move { store.audit().append_event(&events[i]).await.unwrap() }
    })
    .await;
    let listed = store
        .audit()
        .list_events(&AuditQuery {
            kind: Some("race".into()),
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap();
    let mut expected: Vec<_> = events.iter().cloned().collect();
    expected.reverse();
    assert_eq!(listed, expected);
}
