//! Throttling as an attacker meets it: the owner-lockout attack of issue 15
//! item 1 (device tokens), wrong current passwords on password change (issue
//! 15 item 9), and rate limits shared between instances (issue 14 item 4).

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration};
use tessera_core::clock::ManualClock;
use tessera_core::crypto::{KeyRing, PasswordParams};
use tessera_core::devices::DEVICE_TOKEN_TTL;
use tessera_core::model::{App, ClientInfo};
use tessera_core::store::Store;
use tessera_core::{Error, ErrorKind, PasswordSignIn, SignInOutcome, SignUpOutcome, Tessera};
use tessera_storage_memory::MemoryStore;

const PW: &str = "correct horse battery staple";
const WRONG: &str = "tangerine submarine orchestra";
const NEW_PW: &str = "a brand new passphrase for ada";
/// The longest wait of the password backoff.
const MAX_WAIT: StdDuration = StdDuration::from_secs(300);

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

/// A sign-in from a device holding `device` (or none).
async fn sign_in(
    t: &Tessera,
    app: &App,
    email: &str,
    password: &str,
    device: Option<&str>,
) -> Result<PasswordSignIn, Error> {
    t.passwords()
        .sign_in_with_device(app, email, password, device, &client())
        .await
}

/// The device token `email`'s device gets by signing in.
async fn device_of(t: &Tessera, app: &App, email: &str) -> String {
    sign_in(t, app, email, PW, None).await.unwrap().device_token
}

fn retry_after(result: Result<PasswordSignIn, Error>) -> StdDuration {
    match result.map(|_| ()).unwrap_err().kind() {
        ErrorKind::RateLimited { retry_after } => *retry_after,
        other => panic!("expected rate_limited, got {other:?}"),
    }
}

fn advance(clock: &ManualClock, by: StdDuration) {
    clock.advance(Duration::from_std(by).unwrap());
}

fn is_invalid(result: Result<PasswordSignIn, Error>) -> bool {
    matches!(result, Err(e) if *e.kind() == ErrorKind::InvalidCredentials)
}

/// Issue 15, item 1, replayed: an attacker from unknown devices sends one
/// wrong password for the owner's account each time `Retry-After` ends, for
/// 20 rounds (the waits grow to their 5-minute cap). The owner's device,
/// which signed in before, signs in at every round; the owner on a new
/// device is refused while the attack lasts, but only ever for the capped
/// wait, and gets in once the attacker pauses for it.
#[tokio::test]
async fn attacker_cannot_keep_the_owner_out() {
    let (t, clock, app) = setup().await;
    sign_up(&t, &app, "ada@example.com").await;
    let first = sign_in(&t, &app, "ada@example.com", PW, None)
        .await
        .unwrap();
    assert!(matches!(first.outcome, SignInOutcome::Complete(_)));
    let mut device = first.device_token;
    assert!(device.starts_with("tsd_"));

    for _ in 0..5 {
        assert!(is_invalid(
            sign_in(&t, &app, "ada@example.com", WRONG, None).await
        ));
    }
    let mut waits = Vec::new();
    for round in 0..20 {
        // The attacker waits out the account's wait and guesses again.
        let wait = retry_after(sign_in(&t, &app, "ADA@example.com ", WRONG, None).await);
        assert!(wait <= MAX_WAIT, "round {round}: {wait:?}");
        waits.push(wait);
        advance(&clock, wait);
        assert!(
            is_invalid(sign_in(&t, &app, "ada@example.com", WRONG, None).await),
            "round {round}: the attacker's guess is checked"
        );
        // The account waits again, yet the owner's device gets in at once...
        let owner = sign_in(&t, &app, "ada@example.com", PW, Some(&device))
            .await
            .unwrap_or_else(|e| panic!("round {round}: the owner's device is refused: {e:?}"));
        assert!(matches!(owner.outcome, SignInOutcome::Complete(_)));
        assert_ne!(owner.device_token, device, "a fresh token each time");
        device = owner.device_token;
        // ...while a new device is only slowed, never for more than the cap.
        let new_device = retry_after(sign_in(&t, &app, "ada@example.com", PW, None).await);
        assert!(new_device <= MAX_WAIT, "round {round}: {new_device:?}");
    }
    assert_eq!(waits[0], StdDuration::from_secs(1));
    assert_eq!(*waits.last().unwrap(), MAX_WAIT, "{waits:?}");
    // The attacker's guesses were never cleared by the owner's sign-ins:
    // the account still waits the capped time.
    let wait = retry_after(sign_in(&t, &app, "ada@example.com", PW, None).await);
    assert!(wait > StdDuration::from_secs(256), "{wait:?}");
    // The owner on a new device, once the wait is over, gets in.
    advance(&clock, wait);
    let later = sign_in(&t, &app, "ada@example.com", PW, None)
        .await
        .unwrap();
    assert!(matches!(later.outcome, SignInOutcome::Complete(_)));
    // That success cleared the account's count: the next failures are free.
    for _ in 0..5 {
        assert!(is_invalid(
            sign_in(&t, &app, "ada@example.com", WRONG, None).await
        ));
    }
}

/// A device has a budget of its own: its failures slow it down (even its
/// right password waits) without touching the account's budget, and the
/// account's failures never touch it.
#[tokio::test]
async fn a_device_that_fails_is_slowed_on_its_own() {
    let (t, clock, app) = setup().await;
    sign_up(&t, &app, "ada@example.com").await;
    let device = device_of(&t, &app, "ada@example.com").await;
    for _ in 0..5 {
        assert!(is_invalid(
            sign_in(&t, &app, "ada@example.com", WRONG, Some(&device)).await
        ));
    }
    assert_eq!(
        retry_after(sign_in(&t, &app, "ada@example.com", PW, Some(&device)).await),
        StdDuration::from_secs(1)
    );
    // Unknown devices still have the account's whole budget.
    sign_in(&t, &app, "ada@example.com", PW, None)
        .await
        .unwrap();
    advance(&clock, StdDuration::from_secs(1));
    sign_in(&t, &app, "ada@example.com", PW, Some(&device))
        .await
        .unwrap();
}

/// A token that is not valid for the account counts as no token: a token of
/// another account, a tampered one, an expired one. An attacker holding
/// their own account's token gains no budget against the owner's.
#[tokio::test]
async fn foreign_tampered_and_expired_tokens_count_as_unknown_devices() {
    let (t, clock, app) = setup().await;
    sign_up(&t, &app, "ada@example.com").await;
    sign_up(&t, &app, "eve@example.com").await;
    let ada = device_of(&t, &app, "ada@example.com").await;
    let eve = device_of(&t, &app, "eve@example.com").await;
    let mut tampered = ada.clone().into_bytes();
    let mid = tampered.len() / 2;
    tampered[mid] = if tampered[mid] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    for token in [&eve, &tampered, &"tsd_garbage".to_owned()] {
        assert!(is_invalid(
            sign_in(&t, &app, "ada@example.com", WRONG, Some(token)).await
        ));
    }
    for _ in 0..2 {
        assert!(is_invalid(
            sign_in(&t, &app, "ada@example.com", WRONG, None).await
        ));
    }
    // Five failures on the account's budget: it waits, for every unknown device.
    for token in [None, Some(eve.as_str()), Some(tampered.as_str())] {
        assert_eq!(
            retry_after(sign_in(&t, &app, "ada@example.com", PW, token).await),
            StdDuration::from_secs(1),
            "{token:?}"
        );
    }
    // Ada's own token still gets in; after 90 days it no longer counts.
    sign_in(&t, &app, "ada@example.com", PW, Some(&ada))
        .await
        .unwrap();
    advance(&clock, DEVICE_TOKEN_TTL.to_std().unwrap());
    for _ in 0..5 {
        let _ = sign_in(&t, &app, "ada@example.com", WRONG, None).await;
    }
    assert_eq!(
        retry_after(sign_in(&t, &app, "ada@example.com", PW, Some(&ada)).await),
        StdDuration::from_secs(1)
    );
}

/// The device token is never printed.
#[tokio::test]
async fn sign_in_results_do_not_print_their_device_token() {
    let (t, _clock, app) = setup().await;
    sign_up(&t, &app, "ada@example.com").await;
    let r = sign_in(&t, &app, "ada@example.com", PW, None)
        .await
        .unwrap();
    let printed = format!("{r:?}");
    assert!(!printed.contains(&r.device_token), "{printed}");
    assert!(!printed.contains("tsd_"), "{printed}");
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
    sign_in(&t, &app, "ada@example.com", PW, None)
        .await
        .expect("sign-in is not slowed by wrong current passwords");
    // Sign-in's failures do not block the change.
    for _ in 0..5 {
        assert!(is_invalid(
            sign_in(&t, &app, "ada@example.com", WRONG, None).await
        ));
    }
    advance(&clock, StdDuration::from_secs(1));
    change(PW).await.expect("the change goes through");
    sign_in(&t, &app, "ada@example.com", NEW_PW, None)
        .await
        .expect("the new password signs in once the wait is over");
}

/// Issue 14, item 4: two instances on one store share the limits, so two
/// instances do not allow twice the hits; windows end after a minute.
#[tokio::test]
async fn limits_are_shared_between_instances() {
    let clock = ManualClock::new(DateTime::from_timestamp(1_900_000_000, 0).unwrap());
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let a = on_store(store.clone(), &clock).await;
    let b = on_store(store, &clock).await;
    let ip = ClientInfo::parse(Some("192.0.2.7"), Some("test"));
    for i in 0..10 {
        let t = if i % 2 == 0 { &a } else { &b };
        t.limits().sign_up_ip(&ip).await.unwrap();
    }
    for t in [&a, &b] {
        let e = t.limits().sign_up_ip(&ip).await.unwrap_err();
        assert_eq!(
            e.kind(),
            &ErrorKind::RateLimited {
                retry_after: StdDuration::from_secs(60)
            }
        );
    }
    // Other limits and other addresses count apart; no address, no limit.
    a.limits().mail_send_ip(&ip).await.unwrap();
    a.limits().sign_in_ip(&ip).await.unwrap();
    a.limits()
        .sign_up_ip(&ClientInfo::parse(Some("192.0.2.8"), Some("test")))
        .await
        .unwrap();
    for _ in 0..20 {
        a.limits().sign_up_ip(&client()).await.unwrap();
    }
    advance(&clock, StdDuration::from_secs(59));
    assert!(b.limits().sign_up_ip(&ip).await.is_err());
    advance(&clock, StdDuration::from_secs(1));
    b.limits().sign_up_ip(&ip).await.unwrap();
}

/// IPv6 clients are counted by their /64: rotating addresses within it
/// does not escape the limit.
#[tokio::test]
async fn ipv6_clients_are_limited_by_their_64() {
    let (t, _clock, _app) = setup().await;
    for i in 0..20 {
        let ip = ClientInfo::parse(Some(&format!("2001:db8:7:7::{i:x}")), Some("test"));
        t.limits().sign_in_ip(&ip).await.unwrap();
    }
    let next = ClientInfo::parse(Some("2001:db8:7:7:ffff::1"), Some("test"));
    assert_eq!(
        t.limits().sign_in_ip(&next).await.unwrap_err().code(),
        "rate_limited"
    );
    let neighbour = ClientInfo::parse(Some("2001:db8:7:8::1"), Some("test"));
    t.limits().sign_in_ip(&neighbour).await.unwrap();
}

/// The per-account limit counts a device holding a valid token apart from
/// the account, so an attacker who uses up the account's share (from
/// anywhere) does not refuse the owner's device; a foreign token is no
/// token.
#[tokio::test]
async fn per_account_limit_spares_the_owners_device() {
    let (t, _clock, app) = setup().await;
    sign_up(&t, &app, "ada@example.com").await;
    sign_up(&t, &app, "eve@example.com").await;
    let ada = device_of(&t, &app, "ada@example.com").await;
    let eve = device_of(&t, &app, "eve@example.com").await;
    let limits = t.limits();
    for _ in 0..10 {
        limits
            .sign_in_account(&app, "Ada@Example.com", None)
            .await
            .unwrap();
    }
    for token in [None, Some(eve.as_str()), Some("tsd_nonsense")] {
        assert_eq!(
            limits
                .sign_in_account(&app, "ada@example.com", token)
                .await
                .unwrap_err()
                .code(),
            "rate_limited",
            "{token:?}"
        );
    }
    limits
        .sign_in_account(&app, "ada@example.com", Some(&ada))
        .await
        .expect("the owner's device has its own share");
    limits
        .sign_in_account(&app, "eve@example.com", Some(&eve))
        .await
        .unwrap();
    // Not an address: nobody's account, nothing counted.
    for _ in 0..20 {
        limits
            .sign_in_account(&app, "not an email", None)
            .await
            .unwrap();
    }
}
