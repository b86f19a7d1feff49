//! The core when its store misbehaves or is shared (issue 14): a session check
//! answers although the store refuses writes (item 2), and a signing key made
//! by another instance is trusted at once while forged key ids cannot turn
//! into a flood of store reads (item 5).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use tessera_core::clock::{Clock, ManualClock};
use tessera_core::crypto::{KeyRing, PasswordParams, TokenHash};
use tessera_core::model::*;
use tessera_core::store::*;
use tessera_core::{Error, ErrorKind, Result, SignUpOutcome, Tessera};
use tessera_storage_memory::MemoryStore;

/// A memory store whose session writes can be made to fail, and which
/// counts how often the signing keys are read.
#[derive(Default)]
struct FaultyStore {
    inner: MemoryStore,
    session_writes_fail: AtomicBool,
    key_reads: AtomicUsize,
}

impl FaultyStore {
    fn refuse(&self) -> Result<()> {
        if self.session_writes_fail.load(Ordering::SeqCst) {
            return Err(Error::storage(std::io::Error::other("disk full")));
        }
        Ok(())
    }
}

#[async_trait]
impl SessionStore for FaultyStore {
    async fn create_session(
        &self,
        session: &Session,
        refresh: &RefreshToken,
        events: &[NewEvent],
    ) -> Result<()> {
        self.refuse()?;
        self.inner
            .sessions()
            .create_session(session, refresh, events)
            .await
    }
    async fn find_session_by_token(
        &self,
        token_hash: &TokenHash,
    ) -> Result<Option<(Session, User)>> {
        self.inner
            .sessions()
            .find_session_by_token(token_hash)
            .await
    }
    async fn find_session(&self, id: SessionId) -> Result<Option<(Session, User)>> {
        self.inner.sessions().find_session(id).await
    }
    async fn list_user_sessions(&self, user_id: UserId) -> Result<Vec<Session>> {
        self.inner.sessions().list_user_sessions(user_id).await
    }
    async fn touch_session(&self, id: SessionId, now: DateTime<Utc>) -> Result<()> {
        self.refuse()?;
        self.inner.sessions().touch_session(id, now).await
    }
    async fn revoke_session(
        &self,
        id: SessionId,
        user_id: Option<UserId>,
        now: DateTime<Utc>,
        reason: &str,
        events: EventsOf<'_, Session>,
    ) -> Result<bool> {
        self.refuse()?;
        self.inner
            .sessions()
            .revoke_session(id, user_id, now, reason, events)
            .await
    }
    async fn revoke_user_sessions(
        &self,
        user_id: UserId,
        except: Option<SessionId>,
        now: DateTime<Utc>,
        reason: &str,
        events: EventsOf<'_, Vec<Session>>,
    ) -> Result<u64> {
        self.refuse()?;
        self.inner
            .sessions()
            .revoke_user_sessions(user_id, except, now, reason, events)
            .await
    }
    async fn rotate_refresh_token(
        &self,
        rotation: &RefreshRotation,
        events: RotationEvents<'_>,
    ) -> Result<RotationOutcome> {
        self.refuse()?;
        self.inner
            .sessions()
            .rotate_refresh_token(rotation, events)
            .await
    }
    async fn delete_ended_sessions(&self, cutoff: DateTime<Utc>) -> Result<u64> {
        self.refuse()?;
        self.inner.sessions().delete_ended_sessions(cutoff).await
    }
}

#[async_trait]
impl KeyStore for FaultyStore {
    async fn list_signing_keys(&self) -> Result<Vec<SigningKey>> {
        self.key_reads.fetch_add(1, Ordering::SeqCst);
        self.inner.keys().list_signing_keys().await
    }
    async fn insert_first_signing_key(&self, key: &SigningKey) -> Result<SigningKey> {
        self.inner.keys().insert_first_signing_key(key).await
    }
    async fn rotate_signing_key(
        &self,
        key: &SigningKey,
        now: DateTime<Utc>,
        publish_until: DateTime<Utc>,
        events: &[NewEvent],
    ) -> Result<()> {
        self.inner
            .keys()
            .rotate_signing_key(key, now, publish_until, events)
            .await
    }
    async fn delete_unpublished_keys(&self, cutoff: DateTime<Utc>) -> Result<u64> {
        self.inner.keys().delete_unpublished_keys(cutoff).await
    }
}

#[async_trait]
impl Store for FaultyStore {
    fn apps(&self) -> &dyn AppStore {
        self.inner.apps()
    }
    fn users(&self) -> &dyn UserStore {
        self.inner.users()
    }
    fn credentials(&self) -> &dyn CredentialStore {
        self.inner.credentials()
    }
    fn identities(&self) -> &dyn IdentityStore {
        self.inner.identities()
    }
    fn sessions(&self) -> &dyn SessionStore {
        self
    }
    fn tokens(&self) -> &dyn OneTimeTokenStore {
        self.inner.tokens()
    }
    fn keys(&self) -> &dyn KeyStore {
        self
    }
    fn audit(&self) -> &dyn AuditStore {
        self.inner.audit()
    }
    fn throttles(&self) -> &dyn ThrottleStore {
        self.inner.throttles()
    }
    fn api_keys(&self) -> &dyn ApiKeyStore {
        self.inner.api_keys()
    }
    fn mail(&self) -> &dyn MailOutboxStore {
        self.inner.mail()
    }
    fn oauth_providers(&self) -> &dyn OAuthProviderStore {
        self.inner.oauth_providers()
    }
    fn webhook_endpoints(&self) -> &dyn WebhookEndpointStore {
        self.inner.webhook_endpoints()
    }
    fn webhook_deliveries(&self) -> &dyn WebhookDeliveryStore {
        self.inner.webhook_deliveries()
    }
    fn backend(&self) -> &'static str {
        "faulty-memory"
    }
    async fn ping(&self) -> Result<()> {
        Ok(())
    }
}

/// A Tessera on `store` with a manual clock (every instance of a test shares
/// the key-encryption key, as instances of one install do).
async fn instance(store: Arc<FaultyStore>, clock: &ManualClock) -> Tessera {
    Tessera::builder()
        .store(store)
        .clock(Arc::new(clock.clone()))
        .key_encryption_key(KeyRing::new([7; 32], []))
        .issuer("https://auth.example.test")
        .password_params(PasswordParams::insecure_fast_for_tests())
        .build()
        .await
        .unwrap()
}

fn clock() -> ManualClock {
    ManualClock::new(DateTime::from_timestamp(1_900_000_000, 0).unwrap())
}

async fn signed_up(t: &Tessera, email: &str) -> tessera_core::AuthSession {
    let app = t.apps().default_app().await.unwrap();
    match t
        .passwords()
        .sign_up(
            &app,
            email,
            "correct horse battery staple",
            None,
            &ClientInfo::default(),
        )
        .await
        .unwrap()
    {
        SignUpOutcome::SignedIn(s) => *s,
        SignUpOutcome::VerificationRequired => panic!("the default app signs in at once"),
    }
}

/// Let tasks spawned in the background (on this test's one thread) run.
async fn settle() {
    for _ in 0..20 {
        tokio::task::yield_now().await;
    }
}

/// Item 2: when the once-a-minute `last_seen_at` write is due and the store
/// refuses writes, checking the session (by cookie token or by access token)
/// still answers; the write happens later, when the store accepts it again.
/// Before the fix both checks failed with `storage_error`.
#[tokio::test]
async fn session_checks_answer_when_the_store_refuses_writes() {
    let store = Arc::new(FaultyStore::default());
    let clock = clock();
    let t = instance(store.clone(), &clock).await;
    let s = signed_up(&t, "reader@example.com").await;
    let token = s.session_token.clone().unwrap();

    clock.advance(Duration::minutes(2));
    store.session_writes_fail.store(true, Ordering::SeqCst);
    let (session, user) = t.sessions().validate(&token).await.unwrap();
    assert_eq!((session.id, user.id), (s.session.id, s.user.id));
    let (session, _, claims) = t
        .sessions()
        .validate_access_token(&s.access_token, None)
        .await
        .unwrap();
    assert_eq!(session.id, s.session.id);
    assert_eq!(claims.sid, s.session.id.to_string());
    settle().await;
    let stored = store.inner.sessions().find_session(s.session.id).await;
    assert_eq!(
        stored.unwrap().unwrap().0.last_seen_at,
        s.session.last_seen_at,
        "the refused write changed nothing"
    );

    // Writable again: the next check records the activity.
    store.session_writes_fail.store(false, Ordering::SeqCst);
    let now = clock.now();
    t.sessions().validate(&token).await.unwrap();
    settle().await;
    let stored = store.inner.sessions().find_session(s.session.id).await;
    assert_eq!(stored.unwrap().unwrap().0.last_seen_at, now);
}

/// Item 5: two instances on one store; one rotates the signing key and signs
/// a token with the new key; the other verifies it at once, although it
/// loaded its keys a moment before. Before the fix it answered
/// `invalid_token` until its reload cooldown (5 s) had passed.
#[tokio::test]
async fn a_key_rotated_on_one_instance_is_trusted_at_once_by_another() {
    let store = Arc::new(FaultyStore::default());
    let clock = clock();
    let a = instance(store.clone(), &clock).await;
    let b = instance(store.clone(), &clock).await;
    let first = signed_up(&a, "rotate@example.com").await;
    // B has just loaded the keys to verify this token.
    b.tokens().verify(&first.access_token, None).await.unwrap();

    let kid = a.tokens().rotate(None).await.unwrap();
    let fresh = a
        .sessions()
        .refresh(&first.refresh_token, &ClientInfo::default())
        .await
        .unwrap();
    let header = fresh.access_token.split('.').next().unwrap().to_owned();
    assert!(
        String::from_utf8(base64_url(&header))
            .unwrap()
            .contains(&kid),
        "the new token is signed with the new key"
    );
    let claims = b.tokens().verify(&fresh.access_token, None).await.unwrap();
    assert_eq!(claims.sid, first.session.id.to_string());
    // And the old key's tokens still verify on both.
    b.tokens().verify(&first.access_token, None).await.unwrap();
    a.tokens().verify(&first.access_token, None).await.unwrap();
}

/// Item 5, the other side: tokens naming key ids the store does not have
/// are refused, and a burst of them costs the store a bounded number of
/// reads: concurrent ones share one read, and a key id found missing is not
/// looked up again.
#[tokio::test(start_paused = true)]
async fn forged_key_ids_do_not_flood_the_store() {
    let store = Arc::new(FaultyStore::default());
    let clock = clock();
    let t = instance(store.clone(), &clock).await;
    let s = signed_up(&t, "forged@example.com").await;
    t.tokens().verify(&s.access_token, None).await.unwrap();
    let (_, payload_and_sig) = s.access_token.split_once('.').unwrap();
    let forged = |kid: &str| {
        let header = format!(r#"{{"alg":"EdDSA","typ":"at+jwt","kid":"{kid}"}}"#);
        format!("{}.{payload_and_sig}", base64_url_encode(header.as_bytes()))
    };

    let before = store.key_reads.load(Ordering::SeqCst);
    let burst: Vec<_> = (0..200)
        .map(|i| {
            let t = t.clone();
            let token = forged(&format!("forged-{i}"));
            tokio::spawn(async move { t.tokens().verify(&token, None).await })
        })
        .collect();
    for task in burst {
        let err = task.await.unwrap().unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::InvalidToken);
    }
    let reads = store.key_reads.load(Ordering::SeqCst) - before;
    assert!(
        (1..=3).contains(&reads),
        "200 concurrent forged key ids cost {reads} reads"
    );

    // The same forged ids again: known missing, no reads at all.
    let before = store.key_reads.load(Ordering::SeqCst);
    for i in 0..200 {
        let err = t
            .tokens()
            .verify(&forged(&format!("forged-{i}")), None)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::InvalidToken);
    }
    assert_eq!(store.key_reads.load(Ordering::SeqCst), before);
    // The real token still verifies.
    t.tokens().verify(&s.access_token, None).await.unwrap();
}

fn base64_url(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .unwrap()
}

fn base64_url_encode(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}
