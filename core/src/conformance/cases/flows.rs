//! The facade's flows, end to end on the store under test.

use std::sync::Arc;

use chrono::Duration;

use super::super::fixtures::*;
use crate::model::{App, AuditQuery, ClientInfo, UserPatch};
use crate::store::Store;
use crate::{AuthSession, ErrorKind, EventKind, SignUpOutcome, Tessera};

/// Sign `email` up on `app` with `password` and return the session.
async fn sign_up(t: &Tessera, app: &App, email: &str, password: &str) -> AuthSession {
    match t
        .passwords()
        .sign_up(app, email, password, None, &client())
        .await
        .expect("sign_up")
    {
        SignUpOutcome::SignedIn(s) => *s,
        other => panic!("expected a session, got {other:?}"),
    }
}

/// Sign `email` in on `app` with `password` and return the session.
async fn sign_in(t: &Tessera, app: &App, email: &str, password: &str) -> AuthSession {
    t.passwords()
        .sign_in(app, email, password, &client())
        .await
        .expect("sign_in")
        .session()
        .expect("no MFA in the suite")
}

fn client() -> ClientInfo {
    ClientInfo::parse(Some("192.0.2.7"), Some("conformance/1.0 (\"quoted\" 😀)"))
}

/// sign_up → sign_in → validate (session token) → validate_access_token →
/// refresh → list → revoke, after which the revoked session's token, access
/// token and refresh token all stop working while the other session lives.
pub async fn password_flow_end_to_end(store: Arc<dyn Store>) {
    let (t, clock) = super::super::tessera(store.clone()).await;
    let app = t.apps().default_app().await.unwrap();
    let first = sign_up(&t, &app, " Ada@Example.COM ", STRONG_PASSWORD).await;
    assert_eq!(first.user.email, "ada@example.com");
    assert_eq!(
        t.users().get(first.user.id).await.unwrap(),
        first.user,
        "the user is readable at once"
    );
    clock.advance(Duration::seconds(1));
    let second = sign_in(&t, &app, "ada@example.com", STRONG_PASSWORD).await;
    assert_eq!(second.user.id, first.user.id);
    assert_ne!(second.session.id, first.session.id);

    let (s, u) = t
        .sessions()
        .validate(second.session_token.as_deref().unwrap())
        .await
        .unwrap();
    assert_eq!((s.id, u.id), (second.session.id, first.user.id));
    let app_id = app.id.to_string();
    let (s, u, claims) = t
        .sessions()
        .validate_access_token(&second.access_token, Some(&app_id))
        .await
        .unwrap();
    assert_eq!((s.id, u.id), (second.session.id, first.user.id));
    assert_eq!(claims.sub, first.user.id.to_string());
    assert_eq!(claims.sid, second.session.id.to_string());

    clock.advance(Duration::seconds(30));
    let refreshed = t
        .sessions()
        .refresh(&second.refresh_token, &client())
        .await
        .unwrap();
    assert_eq!(refreshed.session.id, second.session.id);
    assert_ne!(refreshed.refresh_token, second.refresh_token);
    t.sessions()
        .validate_access_token(&refreshed.access_token, Some(&app_id))
        .await
        .unwrap();

    let listed: Vec<_> = t
        .sessions()
        .list(first.user.id)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(listed, vec![second.session.id, first.session.id]);

    t.sessions()
        .revoke(first.user.id, second.session.id, "sign_out")
        .await
        .unwrap();
    assert_err(
        t.sessions()
            .validate(second.session_token.as_deref().unwrap())
            .await,
        ErrorKind::SessionExpired,
    );
    assert_err(
        t.sessions()
            .validate_access_token(&refreshed.access_token, Some(&app_id))
            .await,
        ErrorKind::SessionExpired,
    );
    assert_err(
        t.sessions()
            .refresh(&refreshed.refresh_token, &client())
            .await,
        ErrorKind::SessionExpired,
    );
    let listed: Vec<_> = t
        .sessions()
        .list(first.user.id)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(listed, vec![first.session.id]);
    t.sessions()
        .validate(first.session_token.as_deref().unwrap())
        .await
        .unwrap();
    // Revoking again is harmless.
    t.sessions()
        .revoke(first.user.id, second.session.id, "sign_out")
        .await
        .unwrap();
}

/// Through the facade a refresh token rotates; presenting it again within
/// the grace window answers the very same successor; after the window it is
/// `refresh_token_reused` and the session is revoked.
pub async fn refresh_through_facade_honours_the_grace_window(store: Arc<dyn Store>) {
    let (t, clock) = super::super::tessera(store.clone()).await;
    let app = t.apps().default_app().await.unwrap();
    let s = sign_up(&t, &app, "ada@example.com", STRONG_PASSWORD).await;
    let r1 = t
        .sessions()
        .refresh(&s.refresh_token, &client())
        .await
        .unwrap();
    clock.advance(Duration::seconds(9));
    let again = t
        .sessions()
        .refresh(&s.refresh_token, &client())
        .await
        .unwrap();
    assert_eq!(again.refresh_token, r1.refresh_token);
    assert_eq!(again.session.id, s.session.id);
    clock.advance(Duration::seconds(2));
    assert_err(
        t.sessions().refresh(&s.refresh_token, &client()).await,
        ErrorKind::RefreshTokenReused,
    );
    assert_err(
        t.sessions()
            .validate(s.session_token.as_deref().unwrap())
            .await,
        ErrorKind::SessionExpired,
    );
    assert_err(
        t.sessions().refresh(&r1.refresh_token, &client()).await,
        ErrorKind::SessionExpired,
    );
    let reused = t
        .audit()
        .list(&AuditQuery {
            kind: Some(EventKind::RefreshTokenReused.as_str().into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(reused.len(), 1);
    assert_eq!(reused[0].session_id, Some(s.session.id));
}

/// Revoking another user's session through the facade is `not_found` and
/// their session keeps validating.
pub async fn revoke_through_facade_is_scoped_to_the_user(store: Arc<dyn Store>) {
    let (t, _clock) = super::super::tessera(store.clone()).await;
    let app = t.apps().default_app().await.unwrap();
    let ada = sign_up(&t, &app, "ada@example.com", STRONG_PASSWORD).await;
    let mallory = sign_up(&t, &app, "mallory@example.com", STRONG_PASSWORD).await;
    assert_err(
        t.sessions()
            .revoke(mallory.user.id, ada.session.id, "evil")
            .await,
        ErrorKind::NotFound,
    );
    t.sessions()
        .validate(ada.session_token.as_deref().unwrap())
        .await
        .unwrap();
    assert_eq!(
        t.sessions()
            .revoke_all(ada.user.id, None, "everywhere")
            .await
            .unwrap(),
        1
    );
    t.sessions()
        .validate(mallory.session_token.as_deref().unwrap())
        .await
        .unwrap();
}

/// Changing the password keeps the current session, revokes the others, and
/// only the new password signs in afterwards.
pub async fn change_password_revokes_other_sessions(store: Arc<dyn Store>) {
    let (t, clock) = super::super::tessera(store.clone()).await;
    let app = t.apps().default_app().await.unwrap();
    let a = sign_up(&t, &app, "ada@example.com", STRONG_PASSWORD).await;
    let b = sign_in(&t, &app, "ada@example.com", STRONG_PASSWORD).await;
    let c = sign_in(&t, &app, "ada@example.com", STRONG_PASSWORD).await;
    clock.advance(Duration::seconds(1));
    assert_err(
        t.passwords()
            .change(
                &app,
                a.user.id,
                Some(b.session.id),
                "wrong password here",
                OTHER_PASSWORD,
                &client(),
            )
            .await,
        ErrorKind::InvalidCredentials,
    );
    t.passwords()
        .change(
            &app,
            a.user.id,
            Some(b.session.id),
            STRONG_PASSWORD,
            OTHER_PASSWORD,
            &client(),
        )
        .await
        .unwrap();
    t.sessions()
        .validate(b.session_token.as_deref().unwrap())
        .await
        .unwrap();
    for gone in [&a, &c] {
        assert_err(
            t.sessions()
                .validate(gone.session_token.as_deref().unwrap())
                .await,
            ErrorKind::SessionExpired,
        );
    }
    assert_err(
        t.passwords()
            .sign_in(&app, "ada@example.com", STRONG_PASSWORD, &client())
            .await,
        ErrorKind::InvalidCredentials,
    );
    sign_in(&t, &app, "ada@example.com", OTHER_PASSWORD).await;
}

/// A disabled user cannot sign in (`user_disabled`, after the right
/// password), their sessions stop validating at once, and re-enabling lets
/// them sign in again.
pub async fn disabled_user_cannot_sign_in(store: Arc<dyn Store>) {
    let (t, _clock) = super::super::tessera(store.clone()).await;
    let app = t.apps().default_app().await.unwrap();
    let s = sign_up(&t, &app, "ada@example.com", STRONG_PASSWORD).await;
    let disable = UserPatch {
        disabled: Some(true),
        ..Default::default()
    };
    let u = t.users().update(s.user.id, &disable).await.unwrap();
    assert!(u.disabled);
    assert!(
        t.sessions()
            .validate(s.session_token.as_deref().unwrap())
            .await
            .is_err()
    );
    assert!(
        t.sessions()
            .validate_access_token(&s.access_token, None)
            .await
            .is_err()
    );
    assert!(
        t.sessions()
            .refresh(&s.refresh_token, &client())
            .await
            .is_err()
    );
    assert_err(
        t.passwords()
            .sign_in(&app, "ada@example.com", STRONG_PASSWORD, &client())
            .await,
        ErrorKind::UserDisabled,
    );

    // Disabled at the store alone (sessions not revoked): still refused.
    let enable = UserPatch {
        disabled: Some(false),
        ..Default::default()
    };
    t.users().update(s.user.id, &enable).await.unwrap();
    let s2 = sign_in(&t, &app, "ada@example.com", STRONG_PASSWORD).await;
    store
        .users()
        .update_user(s.user.id, &disable, t.clock().now(), &|_| Vec::new())
        .await
        .unwrap();
    assert_err(
        t.sessions()
            .validate(s2.session_token.as_deref().unwrap())
            .await,
        ErrorKind::UserDisabled,
    );
    assert_err(
        t.sessions()
            .validate_access_token(&s2.access_token, None)
            .await,
        ErrorKind::UserDisabled,
    );
}

/// An unknown email and a wrong password give the same error code and message.
pub async fn unknown_email_and_wrong_password_look_the_same(store: Arc<dyn Store>) {
    let (t, _clock) = super::super::tessera(store.clone()).await;
    let app = t.apps().default_app().await.unwrap();
    sign_up(&t, &app, "ada@example.com", STRONG_PASSWORD).await;
    let unknown = t
        .passwords()
        .sign_in(&app, "nobody@example.com", STRONG_PASSWORD, &client())
        .await
        .unwrap_err();
    let wrong = t
        .passwords()
        .sign_in(&app, "ada@example.com", OTHER_PASSWORD, &client())
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), "invalid_credentials");
    assert_eq!(wrong.code(), "invalid_credentials");
    assert_eq!(unknown.message(), wrong.message());
}

/// The store keeps and compares the one normalised form of an address
/// (docs/contract.md, "Email addresses"; issue 15, item 5): an
/// internationalised domain in its ASCII form, the local part lower-cased
/// and NFC; invisible characters are refused before anything is written.
pub async fn stored_emails_are_normalised(store: Arc<dyn Store>) {
    let (t, _clock) = super::super::tessera(store.clone()).await;
    let app = t.apps().default_app().await.unwrap();
    let first = sign_up(
        &t,
        &app,
        "  \u{C9}lodie@B\u{DC}CHER.Example ",
        STRONG_PASSWORD,
    )
    .await;
    let canonical = "\u{E9}lodie@xn--bcher-kva.example";
    assert_eq!(first.user.email, canonical);
    let stored = store
        .users()
        .find_user_by_email(app.pool_id, canonical)
        .await
        .unwrap()
        .expect("stored under the normalised address");
    assert_eq!(stored.email, canonical);
    // Every spelling of the same mailbox finds the same account.
    for spelling in [
        "e\u{301}lodie@xn--bcher-kva.example",
        "\u{C9}LODIE@bu\u{308}cher.EXAMPLE",
    ] {
        let s = sign_in(&t, &app, spelling, STRONG_PASSWORD).await;
        assert_eq!(s.user.id, first.user.id, "{spelling:?}");
        let err = t
            .passwords()
            .sign_up(&app, spelling, STRONG_PASSWORD, None, &client())
            .await
            .unwrap_err();
        assert_eq!(err.code(), "email_taken", "{spelling:?}");
    }
    // A visually identical twin with an invisible character is refused,
    // and nothing is written.
    for twin in [
        "\u{E9}lodie\u{200B}@xn--bcher-kva.example",
        "\u{E9}lodie\u{202E}@bücher.example",
    ] {
        let err = t
            .passwords()
            .sign_up(&app, twin, STRONG_PASSWORD, None, &client())
            .await
            .unwrap_err();
        assert_eq!(err.code(), "invalid_email", "{twin:?}");
    }
    let all = store
        .users()
        .list_users(
            app.pool_id,
            &crate::model::UserQuery {
                email_contains: None,
                after: None,
                limit: 100,
            },
        )
        .await
        .unwrap();
    assert_eq!(all.len(), 1, "{all:?}");
}

/// Repeated failures are `rate_limited` with a `retry_after`; once the wait is
/// over the right password signs in and clears the count.
pub async fn repeated_failures_are_rate_limited_until_success(store: Arc<dyn Store>) {
    let (t, clock) = super::super::tessera(store.clone()).await;
    let app = t.apps().default_app().await.unwrap();
    sign_up(&t, &app, "ada@example.com", STRONG_PASSWORD).await;
    let attempt = |pw: &'static str| {
        let t = t.clone();
        let app = app.clone();
        async move {
            t.passwords()
                .sign_in(&app, "ada@example.com", pw, &client())
                .await
        }
    };
    for _ in 0..5 {
        assert_err(attempt(OTHER_PASSWORD).await, ErrorKind::InvalidCredentials);
    }
    let err = attempt(STRONG_PASSWORD).await.unwrap_err();
    let ErrorKind::RateLimited { retry_after } = err.kind() else {
        panic!("expected rate_limited, got {err:?}")
    };
    assert!(
        *retry_after > std::time::Duration::ZERO
            && *retry_after <= std::time::Duration::from_secs(1),
        "{retry_after:?}"
    );
    clock.advance(Duration::seconds(2));
    attempt(STRONG_PASSWORD).await.unwrap();
    // The count starts afresh: two failures in a row are not rate limited.
    for _ in 0..2 {
        assert_err(attempt(OTHER_PASSWORD).await, ErrorKind::InvalidCredentials);
    }

    // Unknown accounts are throttled the same way.
    for _ in 0..5 {
        assert_err(
            t.passwords()
                .sign_in(&app, "nobody@example.com", OTHER_PASSWORD, &client())
                .await,
            ErrorKind::InvalidCredentials,
        );
    }
    let err = t
        .passwords()
        .sign_in(&app, "nobody@example.com", OTHER_PASSWORD, &client())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "rate_limited");
}

/// API keys: created keys authenticate for their scopes (`forbidden`
/// otherwise), expire, and stop working once revoked (revoking again is
/// harmless and keeps the first time); bootstrapping is idempotent.
pub async fn api_key_lifecycle(store: Arc<dyn Store>) {
    let (t, clock) = super::super::tessera(store.clone()).await;
    let keys = t.api_keys();
    let created = keys
        .create("ci 'deploy'", &["users:read".into()], None)
        .await
        .unwrap();
    let k = keys
        .authenticate(&created.secret, "users:read")
        .await
        .unwrap();
    assert_eq!(k.id, created.key.id);
    assert_err(
        keys.authenticate(&created.secret, "apps:write").await,
        ErrorKind::Forbidden,
    );
    let listed = keys.list().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, created.key.id);
    assert_eq!(listed[0].last_used_at, Some(t.clock().now()));

    let expiring = keys
        .create(
            "short",
            &["admin".into()],
            Some(t.clock().now() + Duration::seconds(60)),
        )
        .await
        .unwrap();
    keys.authenticate(&expiring.secret, "audit:read")
        .await
        .unwrap();

    let revoked_at = t.clock().now();
    keys.revoke(created.key.id).await.unwrap();
    assert_err(
        keys.authenticate(&created.secret, "users:read").await,
        ErrorKind::Unauthenticated,
    );
    clock.advance(Duration::seconds(61));
    keys.revoke(created.key.id).await.unwrap();
    let listed = keys.list().await.unwrap();
    let first = listed.iter().find(|k| k.id == created.key.id).unwrap();
    assert_eq!(first.revoked_at, Some(revoked_at));
    assert_err(
        keys.authenticate(&expiring.secret, "audit:read").await,
        ErrorKind::Unauthenticated,
    );

    let secret = crate::crypto::generate_token(crate::crypto::prefix::API_KEY).0;
    let b1 = keys.bootstrap(&secret).await.unwrap();
    let b2 = keys.bootstrap(&secret).await.unwrap();
    assert_eq!(b1, b2);
    keys.authenticate(&secret, "apps:write").await.unwrap();
    assert_eq!(keys.list().await.unwrap().len(), 3);
}

/// `tokens().rotate` makes a new signing key; the old kid stays in the JWKS
/// until its `publish_until` and tokens signed before the rotation still
/// verify; afterwards only the new key is published.
pub async fn key_rotation_keeps_old_tokens_verifiable(store: Arc<dyn Store>) {
    let (t, clock) = super::super::tessera(store.clone()).await;
    let app = t.apps().default_app().await.unwrap();
    let before = sign_up(&t, &app, "ada@example.com", STRONG_PASSWORD).await;
    let old_kid = t.tokens().current_kid().await.unwrap();
    let kid_of = |token: &str| {
        jsonwebtoken::decode_header(token)
            .unwrap()
            .kid
            .expect("kid")
    };
    assert_eq!(kid_of(&before.access_token), old_kid);
    let new_kid = t.tokens().rotate(None).await.unwrap();
    assert_ne!(new_kid, old_kid);
    assert_eq!(t.tokens().current_kid().await.unwrap(), new_kid);
    let published = |jwks: serde_json::Value| -> Vec<String> {
        let mut kids: Vec<String> = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_owned())
            .collect();
        kids.sort();
        kids
    };
    let mut both = vec![old_kid.clone(), new_kid.clone()];
    both.sort();
    assert_eq!(published(t.tokens().jwks().await.unwrap()), both);
    let app_id = app.id.to_string();
    let claims = t
        .tokens()
        .verify(&before.access_token, Some(&app_id))
        .await
        .unwrap();
    assert_eq!(claims.sub, before.user.id.to_string());
    let after = sign_in(&t, &app, "ada@example.com", STRONG_PASSWORD).await;
    assert_eq!(kid_of(&after.access_token), new_kid);
    t.tokens()
        .verify(&after.access_token, Some(&app_id))
        .await
        .unwrap();

    // publish_until = rotation + 900 s (longest access token) + 2 × 30 s leeway.
    clock.advance(Duration::seconds(959));
    assert_eq!(published(t.tokens().jwks().await.unwrap()), both);
    clock.advance(Duration::seconds(2));
    assert_eq!(published(t.tokens().jwks().await.unwrap()), vec![new_kid]);
}

/// Deleting a user through the facade ends their sessions, frees the email
/// for a new sign-up, and keeps their audit trail.
pub async fn deleted_user_can_sign_up_again(store: Arc<dyn Store>) {
    let (t, _clock) = super::super::tessera(store.clone()).await;
    let app = t.apps().default_app().await.unwrap();
    let old = sign_up(&t, &app, "ada@example.com", STRONG_PASSWORD).await;
    t.users().delete(old.user.id).await.unwrap();
    assert_err(t.users().get(old.user.id).await, ErrorKind::NotFound);
    assert_err(
        t.sessions()
            .validate(old.session_token.as_deref().unwrap())
            .await,
        ErrorKind::Unauthenticated,
    );
    assert_err(
        t.sessions().refresh(&old.refresh_token, &client()).await,
        ErrorKind::InvalidToken,
    );
    assert_err(
        t.passwords()
            .sign_in(&app, "ada@example.com", STRONG_PASSWORD, &client())
            .await,
        ErrorKind::InvalidCredentials,
    );
    let new = sign_up(&t, &app, "ada@example.com", OTHER_PASSWORD).await;
    assert_ne!(new.user.id, old.user.id);
    assert_eq!(
        t.users()
            .find_by_email(app.pool_id, "ADA@example.com")
            .await
            .unwrap()
            .map(|u| u.id),
        Some(new.user.id)
    );
    let trail: Vec<String> = t
        .audit()
        .list(&AuditQuery {
            user_id: Some(old.user.id),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert!(
        trail.contains(&EventKind::UserSignedUp.as_str().to_owned()),
        "{trail:?}"
    );
    assert!(
        trail.contains(&EventKind::UserDeleted.as_str().to_owned()),
        "{trail:?}"
    );
}
