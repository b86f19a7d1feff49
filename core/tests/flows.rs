//! Flow behaviour that is the core's own (not the store's): token checks,
//! password policy and rehashing, per-app settings, key-encryption keys.

use std::sync::Arc;

use chrono::{DateTime, Duration};
use tessera_core::clock::ManualClock;
use tessera_core::crypto::{KeyRing, PasswordParams};
use tessera_core::model::{AppSettings, ClientInfo, CredentialKind, SignInMethod};
use tessera_core::store::Store;
use tessera_core::{SignUpOutcome, Tessera};
use tessera_storage_memory::MemoryStore;

const PW: &str = "correct horse battery staple";

async fn setup_with(
    store: Arc<dyn Store>,
    kek: [u8; 32],
    params: PasswordParams,
) -> (Tessera, ManualClock) {
    let clock = ManualClock::new(DateTime::from_timestamp(1_900_000_000, 0).unwrap());
    let t = Tessera::builder()
        .store(store)
        .clock(Arc::new(clock.clone()))
        .key_encryption_key(KeyRing::new(kek, []))
        .issuer("https://auth.example.test")
        .password_params(params)
        .build()
        .await
        .unwrap();
    (t, clock)
}

async fn setup() -> (Tessera, ManualClock) {
    setup_with(
        Arc::new(MemoryStore::new()),
        [1; 32],
        PasswordParams::insecure_fast_for_tests(),
    )
    .await
}

async fn signed_up(t: &Tessera, email: &str) -> tessera_core::AuthSession {
    let app = t.apps().default_app().await.unwrap();
    match t
        .passwords()
        .sign_up(&app, email, PW, None, &ClientInfo::default())
        .await
        .unwrap()
    {
        SignUpOutcome::SignedIn(s) => *s,
        SignUpOutcome::VerificationRequired => panic!("default app signs in straight away"),
    }
}

#[tokio::test]
async fn access_tokens_are_checked_for_audience_expiry_and_tampering() {
    let (t, clock) = setup().await;
    let s = signed_up(&t, "tok@example.com").await;
    let app = t.apps().default_app().await.unwrap();
    let claims = t
        .tokens()
        .verify(&s.access_token, Some(&app.id.to_string()))
        .await
        .unwrap();
    assert_eq!(claims.sub, s.user.id.to_string());
    assert_eq!(claims.sid, s.session.id.to_string());
    assert_eq!(claims.amr, ["pwd"]);
    assert_eq!(claims.exp - claims.iat, 900);

    let err = t
        .tokens()
        .verify(&s.access_token, Some("another-app"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid_token");
    let mut tampered = s.access_token.clone();
    let mid = tampered.len() - 10;
    tampered.replace_range(
        mid..mid + 1,
        if &tampered[mid..mid + 1] == "A" {
            "B"
        } else {
            "A"
        },
    );
    assert_eq!(
        t.tokens().verify(&tampered, None).await.unwrap_err().code(),
        "invalid_token"
    );
    assert_eq!(
        t.tokens().verify("garbage", None).await.unwrap_err().code(),
        "invalid_token"
    );
    assert_eq!(
        t.tokens()
            .verify(&"a.b.c".repeat(5000), None)
            .await
            .unwrap_err()
            .code(),
        "invalid_token"
    );

    // Within the 30 s leeway after expiry: still valid; after it: expired.
    clock.advance(Duration::seconds(900 + 20));
    t.tokens().verify(&s.access_token, None).await.unwrap();
    clock.advance(Duration::seconds(20));
    assert_eq!(
        t.tokens()
            .verify(&s.access_token, None)
            .await
            .unwrap_err()
            .code(),
        "token_expired"
    );
}

#[tokio::test]
async fn another_install_cannot_verify_our_tokens() {
    let (a, _) = setup().await;
    let (b, _) = setup().await;
    let s = signed_up(&a, "x@example.com").await;
    assert_eq!(
        b.tokens()
            .verify(&s.access_token, None)
            .await
            .unwrap_err()
            .code(),
        "invalid_token"
    );
}

#[tokio::test]
async fn signing_keys_do_not_open_under_another_kek() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let (a, _) = setup_with(
        store.clone(),
        [1; 32],
        PasswordParams::insecure_fast_for_tests(),
    )
    .await;
    a.tokens().current_kid().await.unwrap();
    let (b, _) = setup_with(store, [2; 32], PasswordParams::insecure_fast_for_tests()).await;
    let app = b.apps().default_app().await.unwrap();
    let err = b
        .passwords()
        .sign_up(&app, "kek@example.com", PW, None, &ClientInfo::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "config_error", "{err}");
}

#[tokio::test]
async fn stored_hashes_are_upgraded_when_parameters_change() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let (weak, _) = setup_with(
        store.clone(),
        [1; 32],
        PasswordParams::insecure_fast_for_tests(),
    )
    .await;
    let s = signed_up(&weak, "rehash@example.com").await;
    let stronger = PasswordParams {
        m_cost: 1024,
        t_cost: 2,
        p_cost: 1,
    };
    let (strong, _) = setup_with(store.clone(), [1; 32], stronger).await;
    let app = strong.apps().default_app().await.unwrap();
    strong
        .passwords()
        .sign_in(&app, "rehash@example.com", PW, &ClientInfo::default())
        .await
        .unwrap();
    let creds = store
        .credentials()
        .list_credentials(s.user.id, Some(CredentialKind::Password))
        .await
        .unwrap();
    assert!(
        creds[0].secret.contains("m=1024,t=2,p=1"),
        "{}",
        creds[0].secret
    );
}

#[tokio::test]
async fn oversized_and_empty_passwords_are_refused_cheaply() {
    let (t, _) = setup().await;
    signed_up(&t, "big@example.com").await;
    let app = t.apps().default_app().await.unwrap();
    let ten_mb = "x".repeat(10 * 1024 * 1024);
    for pw in ["", ten_mb.as_str()] {
        let err = t
            .passwords()
            .sign_in(&app, "big@example.com", pw, &ClientInfo::default())
            .await
            .unwrap_err();
        assert_eq!(err.code(), "invalid_credentials");
        let err = t
            .passwords()
            .sign_up(&app, "new@example.com", pw, None, &ClientInfo::default())
            .await
            .unwrap_err();
        assert_eq!(err.code(), "weak_password");
    }
    let pool = t.apps().default_pool().await.unwrap().id;
    assert!(
        t.users()
            .find_by_email(pool, "new@example.com")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn verified_email_requirement_hides_whether_an_address_exists() {
    let (t, _) = setup().await;
    signed_up(&t, "exists@example.com").await;
    let app = t.apps().default_app().await.unwrap();
    let settings = AppSettings {
        require_verified_email: true,
        ..app.settings.clone()
    };
    let app = t
        .apps()
        .update(app.id, None, None, Some(settings))
        .await
        .unwrap();
    for email in ["exists@example.com", "fresh@example.com"] {
        let outcome = t
            .passwords()
            .sign_up(&app, email, PW, None, &ClientInfo::default())
            .await
            .unwrap();
        assert_eq!(outcome, SignUpOutcome::VerificationRequired, "{email}");
    }
    let err = t
        .passwords()
        .sign_in(&app, "fresh@example.com", PW, &ClientInfo::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "email_not_verified");
}

#[tokio::test]
async fn disabled_methods_and_narrow_grace_windows_are_honoured() {
    let (t, clock) = setup().await;
    let s = signed_up(&t, "grace@example.com").await;
    let app = t.apps().default_app().await.unwrap();
    let settings = AppSettings {
        refresh_reuse_grace_secs: 2,
        ..app.settings.clone()
    };
    let app = t
        .apps()
        .update(app.id, None, None, Some(settings))
        .await
        .unwrap();
    let client = ClientInfo::default();
    let next = t
        .sessions()
        .refresh(&s.refresh_token, &client)
        .await
        .unwrap();
    clock.advance(Duration::seconds(1));
    let again = t
        .sessions()
        .refresh(&s.refresh_token, &client)
        .await
        .unwrap();
    assert_eq!(
        again.refresh_token, next.refresh_token,
        "same successor inside the window"
    );
    clock.advance(Duration::seconds(2));
    let err = t
        .sessions()
        .refresh(&s.refresh_token, &client)
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        "refresh_token_reused",
        "outside the app's 2 s window"
    );
    assert_eq!(
        t.sessions()
            .refresh(&next.refresh_token, &client)
            .await
            .unwrap_err()
            .code(),
        "session_expired"
    );

    let settings = AppSettings {
        sign_in_methods: vec![SignInMethod::Passkey],
        ..app.settings.clone()
    };
    let app = t
        .apps()
        .update(app.id, None, None, Some(settings))
        .await
        .unwrap();
    let err = t
        .passwords()
        .sign_in(&app, "grace@example.com", PW, &client)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "method_disabled");
}

#[tokio::test]
async fn idle_and_absolute_expiry_end_sessions() {
    let (t, clock) = setup().await;
    let s = signed_up(&t, "idle@example.com").await;
    let token = s.session_token.clone().unwrap();
    // Use keeps it alive past the idle timeout (7 days)...
    for _ in 0..5 {
        clock.advance(Duration::days(5));
        t.sessions().validate(&token).await.unwrap();
        // The `last_seen_at` write runs in the background: let it land.
        for _ in 0..5 {
            tokio::task::yield_now().await;
        }
    }
    // ...but not past its 30-day lifetime.
    clock.advance(Duration::days(6));
    assert_eq!(
        t.sessions().validate(&token).await.unwrap_err().code(),
        "session_expired"
    );
    // Idle: a fresh session left alone for 8 days ends.
    let s = signed_up(&t, "idle2@example.com").await;
    clock.advance(Duration::days(8));
    let err = t
        .sessions()
        .validate(s.session_token.as_deref().unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "session_expired");
    assert_eq!(
        t.sessions()
            .validate("tss_nonsense")
            .await
            .unwrap_err()
            .code(),
        "unauthenticated"
    );
}

#[tokio::test]
async fn app_settings_are_validated() {
    let (t, _) = setup().await;
    let app = t.apps().default_app().await.unwrap();
    for bad in [
        AppSettings {
            refresh_reuse_grace_secs: 11,
            ..Default::default()
        },
        AppSettings {
            access_token_ttl_secs: 10,
            ..Default::default()
        },
        AppSettings {
            redirect_uris: vec!["/relative".into()],
            ..Default::default()
        },
        AppSettings {
            redirect_uris: vec!["https://a.example/#frag".into()],
            ..Default::default()
        },
        AppSettings {
            cors_origins: vec!["https://a.example/path".into()],
            ..Default::default()
        },
        AppSettings {
            session_lifetime_secs: 60,
            ..Default::default()
        },
    ] {
        let err = t
            .apps()
            .update(app.id, None, None, Some(bad))
            .await
            .unwrap_err();
        assert_eq!(err.code(), "invalid_input");
    }
    assert_eq!(
        t.apps().delete(app.id).await.unwrap_err().code(),
        "forbidden"
    );
}

/// Regression: sessions kept a trimmed user agent while the audit log kept it
/// raw. Both now keep the one normalised form of `ClientInfo`.
#[tokio::test]
async fn sessions_and_audit_keep_the_same_normalised_client() {
    let (t, _clock) = setup().await;
    signed_up(&t, "ua@example.com").await;
    let app = t.apps().default_app().await.unwrap();
    let raw_ua = format!(" evil\u{202E}txt.exe\u{200B}\r\n{}", "x".repeat(600));
    let client = ClientInfo::parse(Some("2001:db8::7"), Some(&raw_ua));
    let s = t
        .passwords()
        .sign_in(&app, "ua@example.com", PW, &client)
        .await
        .unwrap()
        .session()
        .unwrap();
    let want_ua = format!("eviltxt.exe{}", "x".repeat(512 - "eviltxt.exe".len()));
    assert_eq!(s.session.user_agent.as_deref(), Some(want_ua.as_str()));
    assert_eq!(s.session.ip.as_deref(), Some("2001:db8::7"));
    let events = t
        .audit()
        .list(&tessera_core::model::AuditQuery {
            kind: Some(tessera_core::EventKind::SignInSucceeded.as_str().into()),
            user_id: Some(s.user.id),
            ..Default::default()
        })
        .await
        .unwrap();
    // The sign-up's and this sign-in's.
    assert_eq!(events.len(), 2);
    let event = events
        .iter()
        .find(|e| e.session_id == Some(s.session.id))
        .unwrap();
    assert_eq!(event.user_agent, s.session.user_agent);
    assert_eq!(event.ip, s.session.ip);
}

/// `resolve_or_default` is the one "this app or the default" decision of the
/// faces: no name is the default app, a name is resolved (id or slug).
#[tokio::test]
async fn resolve_or_default_names_an_app_or_the_default() {
    let (t, _clock) = setup().await;
    let apps = t.apps();
    let default = apps.default_app().await.unwrap();
    assert_eq!(apps.resolve_or_default(None).await.unwrap(), default);
    assert_eq!(
        apps.resolve_or_default(Some("default")).await.unwrap(),
        default
    );
    let other = apps
        .create(tessera_core::NewApp {
            slug: "other".into(),
            name: "Other".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(apps.resolve_or_default(Some("other")).await.unwrap(), other);
    let by_id = other.id.to_string();
    assert_eq!(apps.resolve_or_default(Some(&by_id)).await.unwrap(), other);
    for unknown in ["nope", "01900000-0000-7000-8000-000000000000", "Bad Slug!"] {
        assert_eq!(
            apps.resolve_or_default(Some(unknown))
                .await
                .unwrap_err()
                .code(),
            "not_found",
            "{unknown}"
        );
    }
}

/// `Sessions::sign_out` takes either token a client holds: a session token
/// (`tss_…`) or an access JWT, and ends that session (its refresh token too).
#[tokio::test]
async fn sign_out_by_session_token_or_access_token() {
    let (t, _clock) = setup().await;
    let by_cookie = signed_up(&t, "out1@example.com").await;
    let token = by_cookie.session_token.clone().unwrap();
    t.sessions().sign_out(&token).await.unwrap();
    assert_eq!(
        t.sessions().validate(&token).await.unwrap_err().code(),
        "session_expired"
    );
    assert_eq!(
        t.sessions().sign_out(&token).await.unwrap_err().code(),
        "session_expired",
        "signing out twice"
    );

    let by_jwt = signed_up(&t, "out2@example.com").await;
    t.sessions().sign_out(&by_jwt.access_token).await.unwrap();
    let session_token = by_jwt.session_token.unwrap();
    assert_eq!(
        t.sessions()
            .validate(&session_token)
            .await
            .unwrap_err()
            .code(),
        "session_expired"
    );
    assert!(
        t.sessions()
            .refresh(&by_jwt.refresh_token, &ClientInfo::default())
            .await
            .is_err(),
        "the refresh token of a signed-out session stops working"
    );
    assert_eq!(
        t.sessions().sign_out("garbage").await.unwrap_err().code(),
        "invalid_token"
    );
}

/// The sweeper sweeps while the Tessera lives (a revoked session past
/// retention disappears from the store) and ends once the last handle is
/// dropped, without holding the store in between rounds.
#[tokio::test]
async fn sweep_worker_sweeps_and_ends_with_the_last_handle() {
    let (t, clock) = setup().await;
    let store = t.store().clone();
    let s = signed_up(&t, "sweep@example.com").await;
    t.sessions()
        .revoke(s.user.id, s.session.id, "sign_out")
        .await
        .unwrap();
    clock.advance(Duration::days(2));
    let worker =
        tokio::spawn(t.sweep_worker(std::time::Duration::from_millis(20), Duration::days(1)));
    let mut swept = false;
    for _ in 0..500 {
        if store
            .sessions()
            .find_session(s.session.id)
            .await
            .unwrap()
            .is_none()
        {
            swept = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(swept, "the ended session is swept");
    drop(t);
    tokio::time::timeout(std::time::Duration::from_secs(30), worker)
        .await
        .expect("the sweeper ends once the Tessera is dropped")
        .unwrap();
    assert_eq!(Arc::strong_count(&store), 1, "nothing else holds the store");
}
