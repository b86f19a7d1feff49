//! Email flows on the memory store with a capturing mailer: every flow,
//! expiry, single use, the wrong-code limit, identical answers for unknown
//! addresses, send limits, and an outbox that outlives its process.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Duration};
use tessera_core::clock::ManualClock;
use tessera_core::crypto::{KeyRing, PasswordParams};
use tessera_core::mail::{Mail, Mailer};
use tessera_core::model::{AppSettings, ClientInfo};
use tessera_core::store::Store;
use tessera_core::{ErrorKind, SignUpOutcome, Tessera};
use tessera_storage_memory::MemoryStore;

const PW: &str = "correct horse battery staple";

#[derive(Default, Clone)]
struct Inbox(Arc<Mutex<Vec<Mail>>>);

#[async_trait]
impl Mailer for Inbox {
    async fn send(&self, mail: &Mail) -> tessera_core::Result<()> {
        self.0.lock().unwrap().push(mail.clone());
        Ok(())
    }
}

impl Inbox {
    fn take(&self) -> Vec<Mail> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

struct Env {
    t: Tessera,
    clock: ManualClock,
    inbox: Inbox,
    client: ClientInfo,
}

async fn tessera_on(store: Arc<dyn Store>) -> (Tessera, ManualClock) {
    let clock = ManualClock::new(DateTime::from_timestamp(1_900_000_000, 0).unwrap());
    let t = Tessera::builder()
        .store(store)
        .clock(Arc::new(clock.clone()))
        .key_encryption_key(KeyRing::new([3; 32], []))
        .issuer("https://auth.example.test")
        .password_params(PasswordParams::insecure_fast_for_tests())
        .build()
        .await
        .unwrap();
    (t, clock)
}

async fn env() -> Env {
    let (t, clock) = tessera_on(Arc::new(MemoryStore::new())).await;
    Env {
        t,
        clock,
        inbox: Inbox::default(),
        client: ClientInfo::parse(Some("192.0.2.1"), Some("test")),
    }
}

impl Env {
    async fn deliver(&self) -> Vec<Mail> {
        self.t
            .emails()
            .deliver_pending(&self.inbox, 100)
            .await
            .unwrap();
        self.inbox.take()
    }

    async fn sign_up(&self, email: &str) {
        let app = self.t.apps().default_app().await.unwrap();
        let out = self
            .t
            .passwords()
            .sign_up(&app, email, PW, None, &self.client)
            .await
            .unwrap();
        assert!(matches!(out, SignUpOutcome::SignedIn(_)));
    }
}

/// The `token` query parameter of the first link in a mail.
fn token_in(mail: &Mail) -> String {
    let start = mail.text.find("token=").expect("a link with a token") + "token=".len();
    mail.text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect()
}

fn code_in(mail: &Mail) -> String {
    mail.subject[..6].to_owned()
}

#[tokio::test]
async fn sign_up_sends_a_verification_link_that_works_once() {
    let e = env().await;
    e.sign_up("verify@example.com").await;
    let mails = e.deliver().await;
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, "verify@example.com");
    assert!(
        mails[0]
            .text
            .contains("https://auth.example.test/verify-email?token=tsv_")
    );
    assert!(
        mails[0]
            .html
            .contains("<a href=\"https://auth.example.test/verify-email?token=tsv_")
    );
    let token = token_in(&mails[0]);
    let user = e.t.emails().verify_email(&token).await.unwrap();
    assert!(user.email_verified);
    assert_eq!(
        e.t.emails().verify_email(&token).await.unwrap_err().code(),
        "invalid_token"
    );
    // Nothing more to send for a verified address.
    let app = e.t.apps().default_app().await.unwrap();
    e.t.emails().send_verification(&app, user.id).await.unwrap();
    assert!(e.deliver().await.is_empty());
}

#[tokio::test]
async fn password_reset_revokes_sessions_notifies_and_expires() {
    let e = env().await;
    e.sign_up("reset@example.com").await;
    e.deliver().await;
    let app = e.t.apps().default_app().await.unwrap();
    let s =
        e.t.passwords()
            .sign_in(&app, "reset@example.com", PW, &e.client)
            .await
            .unwrap()
            .session()
            .unwrap();

    e.t.emails()
        .send_password_reset(&app, "RESET@example.com", &e.client)
        .await
        .unwrap();
    let mails = e.deliver().await;
    assert_eq!(mails.len(), 1);
    let token = token_in(&mails[0]);
    assert!(token.starts_with("tsp_"));
    // A weak new password is refused and the link still works.
    let err =
        e.t.emails()
            .reset_password(&token, "password", &e.client)
            .await
            .unwrap_err();
    assert_eq!(err.code(), "weak_password");
    e.t.emails()
        .reset_password(&token, "a new and long passphrase", &e.client)
        .await
        .unwrap();
    assert_eq!(
        e.t.emails()
            .reset_password(&token, "another long passphrase", &e.client)
            .await
            .unwrap_err()
            .code(),
        "invalid_token"
    );
    assert_eq!(
        e.t.sessions()
            .validate(s.session_token.as_deref().unwrap())
            .await
            .unwrap_err()
            .code(),
        "session_expired"
    );
    assert!(
        e.t.passwords()
            .sign_in(&app, "reset@example.com", PW, &e.client)
            .await
            .is_err()
    );
    e.t.passwords()
        .sign_in(
            &app,
            "reset@example.com",
            "a new and long passphrase",
            &e.client,
        )
        .await
        .unwrap();
    let notice = e.deliver().await;
    assert_eq!(notice.len(), 1);
    assert!(notice[0].subject.contains("password was changed"));

    // A second request invalidates the first link; links expire after an hour.
    e.t.emails()
        .send_password_reset(&app, "reset@example.com", &e.client)
        .await
        .unwrap();
    let first = token_in(&e.deliver().await[0]);
    e.t.emails()
        .send_password_reset(&app, "reset@example.com", &e.client)
        .await
        .unwrap();
    let second = token_in(&e.deliver().await[0]);
    assert_eq!(
        e.t.emails()
            .reset_password(&first, "yet another passphrase", &e.client)
            .await
            .unwrap_err()
            .code(),
        "invalid_token"
    );
    e.clock.advance(Duration::minutes(61));
    assert_eq!(
        e.t.emails()
            .reset_password(&second, "yet another passphrase", &e.client)
            .await
            .unwrap_err()
            .code(),
        "token_expired"
    );
}

#[tokio::test]
async fn unknown_addresses_get_the_same_answer_and_no_mail() {
    let e = env().await;
    e.sign_up("known@example.com").await;
    e.deliver().await;
    let app = e.t.apps().default_app().await.unwrap();
    let emails = e.t.emails();
    emails
        .send_password_reset(&app, "nobody@example.com", &e.client)
        .await
        .unwrap();
    emails
        .send_sign_in_code(&app, "nobody@example.com", &e.client)
        .await
        .unwrap();
    emails
        .send_magic_link(&app, "nobody@example.com", None, &e.client)
        .await
        .unwrap();
    assert!(e.deliver().await.is_empty());
    // Unless the app asks for a note to unknown addresses.
    let settings = AppSettings {
        notify_unknown_addresses: true,
        ..app.settings.clone()
    };
    let app =
        e.t.apps()
            .update(app.id, None, None, Some(settings))
            .await
            .unwrap();
    emails
        .send_password_reset(&app, "nobody@example.com", &e.client)
        .await
        .unwrap();
    let note = e.deliver().await;
    assert_eq!(note.len(), 1);
    assert!(note[0].text.contains("there is no account"));
    assert!(!note[0].text.contains("token="));
    // A malformed address is an input error, not a lookup.
    assert_eq!(
        emails
            .send_password_reset(&app, "not an email", &e.client)
            .await
            .unwrap_err()
            .code(),
        "invalid_email"
    );
}

#[tokio::test]
async fn sign_in_codes_work_once_expire_and_are_spent_after_five_wrong_tries() {
    let e = env().await;
    e.sign_up("code@example.com").await;
    e.deliver().await;
    let app = e.t.apps().default_app().await.unwrap();
    let emails = e.t.emails();

    emails
        .send_sign_in_code(&app, "code@example.com", &e.client)
        .await
        .unwrap();
    let code = code_in(&e.deliver().await[0]);
    assert!(code.bytes().all(|b| b.is_ascii_digit()));
    let s = emails
        .sign_in_with_code(&app, "code@example.com", &code, &e.client)
        .await
        .unwrap()
        .session()
        .unwrap();
    assert_eq!(s.session.amr, ["otp"]);
    assert!(
        s.user.email_verified,
        "a code that came back proves the address"
    );
    let err = emails
        .sign_in_with_code(&app, "code@example.com", &code, &e.client)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid_credentials", "a code works once");

    // Five wrong guesses spend the code, even the right one fails after.
    emails
        .send_sign_in_code(&app, "code@example.com", &e.client)
        .await
        .unwrap();
    let code = code_in(&e.deliver().await[0]);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        let err = emails
            .sign_in_with_code(&app, "code@example.com", wrong, &e.client)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "invalid_credentials");
    }
    let err = emails
        .sign_in_with_code(&app, "code@example.com", &code, &e.client)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid_credentials");

    // A new code replaces the old one; codes expire after 10 minutes.
    emails
        .send_sign_in_code(&app, "code@example.com", &e.client)
        .await
        .unwrap();
    let old = code_in(&e.deliver().await[0]);
    emails
        .send_sign_in_code(&app, "code@example.com", &e.client)
        .await
        .unwrap();
    let new = code_in(&e.deliver().await[0]);
    if old != new {
        assert!(
            emails
                .sign_in_with_code(&app, "code@example.com", &old, &e.client)
                .await
                .is_err()
        );
    }
    e.clock.advance(Duration::minutes(11));
    let err = emails
        .sign_in_with_code(&app, "code@example.com", &new, &e.client)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid_credentials");
    // Same answer for an address that never had a code, and for garbage.
    let err = emails
        .sign_in_with_code(&app, "nobody@example.com", "123456", &e.client)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid_credentials");
    let err = emails
        .sign_in_with_code(&app, "code@example.com", "12a456", &e.client)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid_credentials");
}

#[tokio::test]
async fn magic_links_go_to_registered_uris_and_work_once() {
    let e = env().await;
    e.sign_up("magic@example.com").await;
    e.deliver().await;
    let app = e.t.apps().default_app().await.unwrap();
    let settings = AppSettings {
        redirect_uris: vec!["https://app.example/magic?x=1".into()],
        ..app.settings.clone()
    };
    let app =
        e.t.apps()
            .update(app.id, None, None, Some(settings))
            .await
            .unwrap();
    let emails = e.t.emails();
    let err = emails
        .send_magic_link(
            &app,
            "magic@example.com",
            Some("https://evil.example/"),
            &e.client,
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid_input");
    assert!(e.deliver().await.is_empty());

    emails
        .send_magic_link(
            &app,
            "magic@example.com",
            Some("https://app.example/magic?x=1"),
            &e.client,
        )
        .await
        .unwrap();
    let mail = e.deliver().await.remove(0);
    assert!(
        mail.text
            .contains("https://app.example/magic?x=1&token=tsm_"),
        "{}",
        mail.text
    );
    let token = token_in(&mail);
    let done = emails
        .sign_in_with_magic_link(&token, &e.client)
        .await
        .unwrap();
    assert_eq!(
        done.redirect_uri.as_deref(),
        Some("https://app.example/magic?x=1")
    );
    assert!(done.outcome.session().is_some());
    assert_eq!(
        emails
            .sign_in_with_magic_link(&token, &e.client)
            .await
            .unwrap_err()
            .code(),
        "invalid_token"
    );

    // Without a redirect URI the link opens the hosted page; it expires after 15 minutes.
    emails
        .send_magic_link(&app, "magic@example.com", None, &e.client)
        .await
        .unwrap();
    let mail = e.deliver().await.remove(0);
    assert!(
        mail.text
            .contains("https://auth.example.test/magic-link?token=tsm_")
    );
    e.clock.advance(Duration::minutes(16));
    assert_eq!(
        emails
            .sign_in_with_magic_link(&token_in(&mail), &e.client)
            .await
            .unwrap_err()
            .code(),
        "token_expired"
    );
}

#[tokio::test]
async fn email_change_is_confirmed_from_the_new_address_and_the_old_one_is_told() {
    let e = env().await;
    e.sign_up("old@example.com").await;
    e.sign_up("taken@example.com").await;
    e.deliver().await;
    let app = e.t.apps().default_app().await.unwrap();
    let pool = app.pool_id;
    let user =
        e.t.users()
            .find_by_email(pool, "old@example.com")
            .await
            .unwrap()
            .unwrap();
    let emails = e.t.emails();

    // An address that belongs to someone else: same answer, nothing sent.
    emails
        .request_email_change(&app, user.id, "taken@example.com", &e.client)
        .await
        .unwrap();
    assert!(e.deliver().await.is_empty());

    emails
        .request_email_change(&app, user.id, "New@Example.com", &e.client)
        .await
        .unwrap();
    let mails = e.deliver().await;
    assert_eq!(mails.len(), 2);
    let confirm = mails.iter().find(|m| m.to == "new@example.com").unwrap();
    let notice = mails.iter().find(|m| m.to == "old@example.com").unwrap();
    assert!(
        !notice.text.contains("token="),
        "the old address never gets the link"
    );
    let changed = emails
        .confirm_email_change(&token_in(confirm), &e.client)
        .await
        .unwrap();
    assert_eq!(changed.email, "new@example.com");
    assert!(changed.email_verified);
    let told = e.deliver().await;
    assert_eq!(told.len(), 1);
    assert_eq!(told[0].to, "old@example.com");
    assert!(
        e.t.passwords()
            .sign_in(&app, "new@example.com", PW, &e.client)
            .await
            .is_ok()
    );
    assert_eq!(
        emails
            .confirm_email_change(&token_in(confirm), &e.client)
            .await
            .unwrap_err()
            .code(),
        "invalid_token"
    );
}

#[tokio::test]
async fn each_address_gets_at_most_five_messages_an_hour() {
    let e = env().await;
    e.sign_up("limit@example.com").await; // the verification mail counts
    let app = e.t.apps().default_app().await.unwrap();
    for _ in 0..6 {
        e.t.emails()
            .send_password_reset(&app, "limit@example.com", &e.client)
            .await
            .unwrap();
    }
    assert_eq!(e.deliver().await.len(), 5);
    e.clock.advance(Duration::minutes(61));
    e.t.emails()
        .send_password_reset(&app, "limit@example.com", &e.client)
        .await
        .unwrap();
    assert_eq!(e.deliver().await.len(), 1);
}

/// Mail queued while the mail server is down is delivered later, even by
/// another process over the same store; a failed attempt is retried.
#[tokio::test]
async fn the_outbox_survives_outages_and_restarts() {
    struct Down;
    #[async_trait]
    impl Mailer for Down {
        async fn send(&self, _: &Mail) -> tessera_core::Result<()> {
            Err(tessera_core::Error::new(ErrorKind::Storage))
        }
    }
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let (first, _) = tessera_on(store.clone()).await;
    let app = first.apps().default_app().await.unwrap();
    first
        .passwords()
        .sign_up(&app, "outage@example.com", PW, None, &ClientInfo::default())
        .await
        .unwrap();
    let report = first.emails().deliver_pending(&Down, 10).await.unwrap();
    assert_eq!((report.sent, report.failed), (0, 1));
    assert_eq!(store.mail().pending_mail().await.unwrap(), 1);
    drop(first);

    // "Restart": a new Tessera on the same store (and key) picks it up once
    // the retry is due.
    let (second, clock) = tessera_on(store.clone()).await;
    let inbox = Inbox::default();
    assert_eq!(
        second
            .emails()
            .deliver_pending(&inbox, 10)
            .await
            .unwrap()
            .sent,
        0,
        "not due yet"
    );
    clock.advance(Duration::seconds(31));
    assert_eq!(
        second
            .emails()
            .deliver_pending(&inbox, 10)
            .await
            .unwrap()
            .sent,
        1
    );
    let mails = inbox.take();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, "outage@example.com");
    assert_eq!(store.mail().pending_mail().await.unwrap(), 0);
}

/// The embedders' worker delivers queued mail while the Tessera lives and ends
/// once the last handle is dropped (so a dropped Tessera releases its store).
#[tokio::test]
async fn mail_worker_delivers_and_ends_with_the_last_handle() {
    let e = env().await;
    let store = e.t.store().clone();
    let worker = tokio::spawn(e.t.mail_worker(
        Arc::new(e.inbox.clone()),
        std::time::Duration::from_millis(20),
    ));
    e.sign_up("ada@example.com").await;
    let mut delivered = Vec::new();
    for _ in 0..500 {
        delivered = e.inbox.0.lock().unwrap().clone();
        if !delivered.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(delivered.len(), 1, "the verification mail is delivered");
    assert_eq!(store.mail().pending_mail().await.unwrap(), 0);
    drop(e);
    tokio::time::timeout(std::time::Duration::from_secs(30), worker)
        .await
        .expect("the worker ends once the Tessera is dropped")
        .unwrap();
}

/// What one call wrote: messages queued, audit events appended.
async fn writes_of<F: std::future::Future<Output = ()>>(e: &Env, f: F) -> (u64, usize) {
    let store = e.t.store();
    let query = tessera_core::model::AuditQuery {
        limit: 1000,
        ..Default::default()
    };
    let (mail, events) = (
        store.mail().pending_mail().await.unwrap(),
        store.audit().list_events(&query).await.unwrap().len(),
    );
    f.await;
    (
        store.mail().pending_mail().await.unwrap() - mail,
        store.audit().list_events(&query).await.unwrap().len() - events,
    )
}

/// Issue 15, item 10: the work behind a "send" must not depend on whether
/// the address has an account, or the request after it is slower for known
/// addresses (the work competes for the database). A send to an unknown
/// address now queues one (decoy) message and records one event, like a
/// send to a known one; the decoy is claimed and deleted, never mailed.
#[tokio::test]
async fn sends_do_the_same_store_work_for_known_and_unknown_addresses() {
    let e = env().await;
    e.sign_up("known@example.com").await;
    e.deliver().await;
    let app = e.t.apps().default_app().await.unwrap();
    let emails = e.t.emails();
    let flows = [
        tessera_core::SendFlow::PasswordReset,
        tessera_core::SendFlow::SignInCode,
        tessera_core::SendFlow::MagicLink { redirect_uri: None },
    ];
    for flow in &flows {
        let known = writes_of(&e, async {
            emails
                .send(&app, flow, "known@example.com", &e.client)
                .await
                .unwrap();
        })
        .await;
        let unknown = writes_of(&e, async {
            emails
                .send(&app, flow, "nobody@example.com", &e.client)
                .await
                .unwrap();
        })
        .await;
        assert_eq!(known, (1, 1), "{flow:?}");
        assert_eq!(unknown, known, "{flow:?}: the same writes either way");
        let report = emails.deliver_pending(&e.inbox, 100).await.unwrap();
        assert_eq!((report.sent, report.decoys, report.failed), (1, 1, 0));
        let mails = e.inbox.take();
        assert_eq!(mails.len(), 1);
        assert_eq!(mails[0].to, "known@example.com");
        assert_eq!(e.t.store().mail().pending_mail().await.unwrap(), 0);
    }
    // Sign-up on an app that requires a verified email: a taken address
    // costs the same writes as a new one (one message, one event).
    let settings = AppSettings {
        require_verified_email: true,
        ..app.settings.clone()
    };
    let app =
        e.t.apps()
            .update(app.id, None, None, Some(settings))
            .await
            .unwrap();
    let sign_up = |email: &'static str| {
        let (t, app, client) = (e.t.clone(), app.clone(), e.client.clone());
        async move {
            let out = t
                .passwords()
                .sign_up(&app, email, PW, None, &client)
                .await
                .unwrap();
            assert_eq!(out, SignUpOutcome::VerificationRequired);
        }
    };
    let new = writes_of(&e, sign_up("new@example.com")).await;
    let taken = writes_of(&e, sign_up("known@example.com")).await;
    assert_eq!(new, (1, 1));
    assert_eq!(taken, new, "a taken address writes what a new one does");
    let report = emails.deliver_pending(&e.inbox, 100).await.unwrap();
    assert_eq!((report.sent, report.decoys), (1, 1));
    assert_eq!(e.inbox.take()[0].to, "new@example.com");
    let events =
        e.t.store()
            .audit()
            .list_events(&tessera_core::model::AuditQuery {
                kind: Some("sign_up.address_taken".into()),
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].user_id, None, "no account is named");
}

/// A decoy token is bound to no account: even its own secret signs nobody
/// in (the secret never leaves the server; this checks the binding).
#[tokio::test]
async fn decoy_codes_sign_nobody_in() {
    let e = env().await;
    let app = e.t.apps().default_app().await.unwrap();
    e.t.emails()
        .send_sign_in_code(&app, "nobody@example.com", &e.client)
        .await
        .unwrap();
    // Every code answers invalid_credentials; none signs in.
    for code in ["000000", "123456", "999999"] {
        let err =
            e.t.emails()
                .sign_in_with_code(&app, "nobody@example.com", code, &e.client)
                .await
                .unwrap_err();
        assert_eq!(err.code(), "invalid_credentials");
    }
}
