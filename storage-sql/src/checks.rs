//! Checks the SQL backends share beyond the conformance suite (feature
//! `checks`, for their test crates): durability across reopening, and bad
//! input that must fail with a typed error and leave no partial rows.
//!
//! They live here, once, so SQLite and Postgres are held to the same checks
//! the same way the conformance suite holds every backend to the same cases.

use std::sync::Arc;

use chrono::Duration;
use serde_json::json;
use tessera_core::ErrorKind;
use tessera_core::conformance::fixtures::*;
use tessera_core::crypto::TokenHash;
use tessera_core::model::*;
use tessera_core::store::Store;

/// The backoff of the sample's reserved attempt: it waits at once.
const DURABLE_BACKOFF: Backoff = Backoff {
    free: 1,
    first_wait: Duration::seconds(60),
    max_wait: Duration::seconds(60),
    reset_after: Duration::hours(1),
};

/// The limit of the sample's hit: one per hour.
const DURABLE_LIMIT: RateLimit = RateLimit {
    max: 1,
    window: Duration::hours(1),
};

/// Everything [`write_sample`] stored, to compare after reopening.
#[derive(Debug, Clone)]
pub struct Sample {
    pool: Pool,
    app: App,
    user: User,
    password: Credential,
    identity: Identity,
    session: NewSession,
    token_secret: String,
    token: OneTimeToken,
    code: OneTimeToken,
    key: SigningKey,
    event: AuditEvent,
    api_key: ApiKey,
}

/// Write one row of every kind (with adversarial values and extreme times).
pub async fn write_sample(store: &dyn Store) -> Sample {
    let (pool, app) = insert_pool_and_app(store, "durable").await;
    let mut user = user(&pool, &max_email("d"));
    user.name = Some(max_name());
    user.metadata = max_metadata();
    user.created_at = earliest();
    user.updated_at = latest();
    let password = credential(&user, CredentialKind::Password, ADVERSARIAL[0]);
    store
        .users()
        .create_user(&user, Some(FirstSignIn::Password(&password)), &[])
        .await
        .expect("create_user");
    let identity = identity(&user, "github", ADVERSARIAL[5]);
    store
        .identities()
        .insert_identity(&identity, &[])
        .await
        .expect("insert_identity");
    let session = insert_session(store, &app, &user).await;
    // Rotate once, so a spent token and its live successor are both stored.
    let rotated = store
        .sessions()
        .rotate_refresh_token(&rotation(&session.refresh_token, at(30), 10), &|_| {
            Vec::new()
        })
        .await
        .expect("rotate");
    assert!(matches!(rotated, RotationOutcome::Rotated(_)));
    let (token_secret, token) = one_time_token(&pool, "password_reset", Some(&user), latest());
    store
        .tokens()
        .insert_token(&token)
        .await
        .expect("insert_token");
    let code = code(&pool, "email_code", ADVERSARIAL[2], "123456", at(600));
    store
        .tokens()
        .replace_code(&code)
        .await
        .expect("replace_code");
    let key = signing_key("durable-key");
    store
        .keys()
        .insert_first_signing_key(&key)
        .await
        .expect("insert_first_signing_key");
    let mut event = audit_event("user.signed_up", at(1) + Duration::microseconds(7));
    event.user_id = Some(user.id);
    event.data = json!({ "note": ADVERSARIAL[9] });
    store
        .audit()
        .append_event(&event)
        .await
        .expect("append_event");
    store
        .throttles()
        .record_failure("sign_in:durable", at(2), at(0))
        .await
        .expect("record_failure");
    store
        .throttles()
        .reserve_attempt("sign_in:durable-wait", at(3), &DURABLE_BACKOFF)
        .await
        .expect("reserve_attempt");
    store
        .throttles()
        .hit("limit:durable", &DURABLE_LIMIT, at(4))
        .await
        .expect("hit");
    let (_, api_key) = api_key("durable");
    store
        .api_keys()
        .insert_api_key(&api_key, &[])
        .await
        .expect("insert_api_key");
    Sample {
        pool,
        app,
        user,
        password,
        identity,
        session,
        token_secret,
        token,
        code,
        key,
        event,
        api_key,
    }
}

/// Check that everything [`write_sample`] wrote reads back exactly.
pub async fn check_sample(store: &dyn Store, s: &Sample) {
    assert_eq!(store.apps().get_pool(s.pool.id).await.unwrap(), s.pool);
    assert_eq!(store.apps().get_app(s.app.id).await.unwrap(), s.app);
    assert_eq!(
        store
            .users()
            .find_user_with_password(s.pool.id, &s.user.email)
            .await
            .unwrap(),
        Some((s.user.clone(), Some(s.password.clone())))
    );
    assert_eq!(
        store
            .identities()
            .find_identity(s.pool.id, "github", ADVERSARIAL[5])
            .await
            .unwrap(),
        Some(s.identity.clone())
    );
    let (session, user) = store
        .sessions()
        .find_session_by_token(&s.session.session.token_hash)
        .await
        .unwrap()
        .expect("session survives");
    assert_eq!(user, s.user);
    assert_eq!(session.id, s.session.session.id);
    assert_eq!(
        session.last_seen_at,
        at(30).max(s.session.session.last_seen_at)
    );
    // The spent token is still answered within grace, the successor still rotates.
    assert!(matches!(
        store
            .sessions()
            .rotate_refresh_token(&rotation(&s.session.refresh_token, at(31), 10), &|_| {
                Vec::new()
            })
            .await
            .unwrap(),
        RotationOutcome::Repeated(_, _)
    ));
    assert!(matches!(
        store
            .sessions()
            .rotate_refresh_token(
                &rotation(&successor(&s.session.refresh_token), at(32), 10),
                &|_| Vec::new()
            )
            .await
            .unwrap(),
        RotationOutcome::Rotated(_)
    ));
    assert_eq!(
        store
            .tokens()
            .find_token("password_reset", &TokenHash::of(&s.token_secret), at(0))
            .await
            .unwrap(),
        Some(s.token.clone())
    );
    assert_eq!(
        store
            .tokens()
            .find_token("email_code", &s.code.hash, at(0))
            .await
            .unwrap(),
        Some(s.code.clone())
    );
    assert_eq!(
        store.keys().list_signing_keys().await.unwrap(),
        vec![s.key.clone()]
    );
    assert_eq!(
        store
            .audit()
            .list_events(&AuditQuery {
                user_id: Some(s.user.id),
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap(),
        vec![s.event.clone()]
    );
    assert_eq!(
        store
            .throttles()
            .find_throttle("sign_in:durable")
            .await
            .unwrap(),
        Some(Throttle {
            failures: 1,
            last_failure_at: at(2),
            next_attempt_at: None,
        })
    );
    // The reserved attempt's wait and the hit's window survive too.
    assert_eq!(
        store
            .throttles()
            .reserve_attempt("sign_in:durable-wait", at(5), &DURABLE_BACKOFF)
            .await
            .unwrap(),
        Reservation::Refused { until: at(63) }
    );
    assert_eq!(
        store
            .throttles()
            .hit("limit:durable", &DURABLE_LIMIT, at(6))
            .await
            .unwrap(),
        Some(at(4) + Duration::hours(1))
    );
    assert_eq!(
        store
            .api_keys()
            .find_api_key(&s.api_key.hash)
            .await
            .unwrap(),
        Some(s.api_key.clone())
    );
}

/// Bad input reaching the store fails with a typed error and writes nothing:
/// over-long values, duplicate keys, and a user deleted mid-sign-in.
pub async fn bad_input_leaves_no_partial_rows(shared: Arc<dyn Store>) {
    let store = shared.as_ref();
    let (p, a) = insert_pool_and_app(store, "bad").await;
    let users = store.users();
    let creds = store.credentials();

    // Over-long email and name (the core rejects them first; the store still
    // refuses them whole, and the password credential is not written either).
    let mut long = user(&p, &format!("{}@example.com", "a".repeat(300)));
    let pw = credential(&long, CredentialKind::Password, "$argon2id$long");
    assert_err(
        users
            .create_user(&long, Some(FirstSignIn::Password(&pw)), &[])
            .await,
        ErrorKind::TooLarge,
    );
    assert_err(users.get_user(long.id).await, ErrorKind::NotFound);
    assert!(
        creds
            .list_credentials(long.id, None)
            .await
            .unwrap()
            .is_empty()
    );
    long.email = "long@example.com".into();
    long.name = Some("n".repeat(MAX_NAME_LEN + 1));
    assert_err(
        users
            .create_user(&long, Some(FirstSignIn::Password(&pw)), &[])
            .await,
        ErrorKind::TooLarge,
    );
    assert!(
        creds
            .list_credentials(long.id, None)
            .await
            .unwrap()
            .is_empty()
    );

    // An over-long email in a patch changes nothing.
    let ada = insert_user(store, &p, "ada@example.com").await;
    let patch = UserPatch {
        email: Some(format!("{}@example.com", "b".repeat(300))),
        disabled: Some(true),
        ..Default::default()
    };
    assert_err(
        users
            .update_user(ada.id, &patch, at(5), &|_| Vec::new())
            .await,
        ErrorKind::TooLarge,
    );
    assert_eq!(users.get_user(ada.id).await.unwrap(), ada);

    // A duplicate email leaves no credential for the would-be user.
    let dup = user(&p, "ada@example.com");
    let dup_pw = credential(&dup, CredentialKind::Password, "$argon2id$dup");
    assert_err(
        users
            .create_user(&dup, Some(FirstSignIn::Password(&dup_pw)), &[])
            .await,
        ErrorKind::EmailTaken,
    );
    assert!(
        creds
            .list_credentials(dup.id, None)
            .await
            .unwrap()
            .is_empty()
    );

    // A credential id that exists already: `Conflict`, and the user insert
    // that came first in the same step is rolled back.
    let existing = credential(&ada, CredentialKind::Totp, "sealed");
    creds.insert_credential(&existing, &[]).await.unwrap();
    let bob = user(&p, "bob@example.com");
    let mut clash = credential(&bob, CredentialKind::Password, "$argon2id$bob");
    clash.id = existing.id;
    assert_err(
        users
            .create_user(&bob, Some(FirstSignIn::Password(&clash)), &[])
            .await,
        ErrorKind::Conflict,
    );
    assert_err(users.get_user(bob.id).await, ErrorKind::NotFound);
    assert_eq!(
        users
            .find_user_by_email(p.id, "bob@example.com")
            .await
            .unwrap(),
        None
    );

    // A session whose refresh token hash exists already: `Conflict`, and the
    // session row inserted first is rolled back.
    let first = insert_session(store, &a, &ada).await;
    let mut second = session(&a, &ada);
    second.refresh.hash = first.refresh.hash;
    assert_err(
        store
            .sessions()
            .create_session(&second.session, &second.refresh, &[])
            .await,
        ErrorKind::Conflict,
    );
    assert_eq!(
        store
            .sessions()
            .find_session(second.session.id)
            .await
            .unwrap(),
        None
    );

    // A user deleted mid-sign-in: `NotFound`, no session, no refresh token.
    let gone = insert_user(store, &p, "gone@example.com").await;
    let s = session(&a, &gone);
    users.delete_user(gone.id, &[]).await.unwrap();
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
            .find_session_by_token(&s.session.token_hash)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        store
            .sessions()
            .rotate_refresh_token(&rotation(&s.refresh_token, at(60), 10), &|_| Vec::new())
            .await
            .unwrap(),
        RotationOutcome::NotFound
    );

    // The same race for real: sign-ins against a concurrent delete leave
    // either a session that the delete then removed, or `NotFound`; never a
    // session of a deleted user.
    for round in 0..5 {
        let victim = insert_user(store, &p, &format!("victim{round}@example.com")).await;
        let sessions: Vec<NewSession> = (0..8).map(|_| session(&a, &victim)).collect();
        let results = race(9, |i| {
            let s = sessions.get(i).cloned();
            let victim = victim.id;
            let store = shared.clone();
            async move {
                match s {
                    Some(s) => store
                        .sessions()
                        .create_session(&s.session, &s.refresh, &[])
                        .await
                        .map(|_| ()),
                    None => store.users().delete_user(victim, &[]).await,
                }
            }
        })
        .await;
        for r in results {
            if let Err(e) = r {
                assert_eq!(e.kind(), &ErrorKind::NotFound, "{e:?}");
            }
        }
        assert!(
            store
                .sessions()
                .list_user_sessions(victim.id)
                .await
                .unwrap()
                .is_empty()
        );
        for s in &sessions {
            assert_eq!(
                store.sessions().find_session(s.session.id).await.unwrap(),
                None
            );
        }
    }
}
