//! Throttling as an attacker meets it: wrong current passwords on password
//! change (issue 15 item 9).

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration};
use tessera_core::clock::ManualClock;
use tessera_core::crypto::{KeyRing, PasswordParams};
use tessera_core::model::{App, ClientInfo};
use tessera_core::store::Store;
use tessera_core::{ErrorKind, SignUpOutcome, Tessera};
use tessera_storage_memory::MemoryStore;

const PW: &str = "correct horse battery staple";
const WRONG: &str = "tangerine submarine orchestra";
const NEW_PW: &str = "a brand new passphrase for ada";

async fn on_store(store: Arc<dyn Store>, clock: &ManualClock) -> Tessera {
    Tessera::builder()
        .store(store)
        .clock(Arc::new(clock.clone()))
        .key_encryption_key(KeyRing::new([3; 32], []))
        .password_params(PasswordParams::insecure_fast_for_tests())
        .build()
        .await
        .unwrap()
}

async fn setup() -> (Tessera, ManualClock, App) {
    let clock = ManualClock::new(DateTime::from_timestamp(1_900_000_000, 0).unwrap());
    let t = on_store(Arc::new(MemoryStore::new()), &clock).await;
    let app = t.apps().default_app().await.unwrap();
    (t, clock, app)
}

fn client() -> ClientInfo {
    ClientInfo::default()
}

async fn sign_up(t: &Tessera, app: &App, email: &str) -> tessera_core::AuthSession {
    match t
        .passwords()
        .sign_up(app, email, PW, None, &client())
        .await
        .unwrap()
    {
        SignUpOutcome::SignedIn(s) => *s,
        SignUpOutcome::VerificationRequired => panic!("the default app signs in at once"),
    }
}

/// Issue 15, item 9: wrong *current* passwords on password change are an
/// authenticated user's mistakes; they have their own budget and never slow
/// down (or lock out) sign-in; sign-in's failures do not block a change.
#[tokio::test]
async fn wrong_current_passwords_do_not_count_toward_sign_in() {
    let (t, clock, app) = setup().await;
    let s = sign_up(&t, &app, "ada@example.com").await;
    let change = |current: &'static str| {
        let t = t.clone();
        let app = app.clone();
        let s = s.clone();
        async move {
            t.passwords()
                .change(
                    &app,
                    s.user.id,
                    Some(s.session.id),
                    current,
                    NEW_PW,
                    &client(),
                )
                .await
        }
    };
    let sign_in = |password: &'static str| {
        let t = t.clone();
        let app = app.clone();
        async move {
            t.passwords()
                .sign_in(&app, "ada@example.com", password, &client())
                .await
        }
    };
    for _ in 0..5 {
        let e = change(WRONG).await.unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::InvalidCredentials);
    }
    // The change's own budget now waits...
    let e = change(PW).await.unwrap_err();
    assert_eq!(
        e.kind(),
        &ErrorKind::RateLimited {
            retry_after: StdDuration::from_secs(1)
        }
    );
    // ...but sign-in does not.
    sign_in(PW)
        .await
        .expect("sign-in is not slowed by wrong current passwords");
    // Sign-in's failures do not block the change.
    for _ in 0..5 {
        let e = sign_in(WRONG).await.unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::InvalidCredentials);
    }
    clock.advance(Duration::seconds(1));
    change(PW).await.expect("the change goes through");
    sign_in(NEW_PW)
        .await
        .expect("the new password signs in once the wait is over");
}
