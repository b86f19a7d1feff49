//! Test rows and helpers for the conformance cases.
//!
//! Constructors build plain values (nothing touches a store); the `insert_*`
//! helpers also write them. Rows made one after another get increasing times
//! from [`stamp`] (one millisecond apart), so their UUIDv7 ids and their
//! `created_at` both sort in creation order, whichever a backend orders by.

use std::fmt::Debug;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use tokio::sync::Barrier;

use super::start_time;
use crate::crypto::{TokenHash, generate_token, prefix};
use crate::model::*;
use crate::store::Store;
use crate::{ErrorKind, Result, new_id};

/// A password every policy accepts.
pub const STRONG_PASSWORD: &str = "correct horse battery staple";
/// Another password every policy accepts.
pub const OTHER_PASSWORD: &str = "tangerine submarine orchestra";

/// Strings that break naive escaping: quotes, backslashes, SQL, Unicode
/// (emoji, right-to-left text and marks, combining characters), and control
/// characters other than NUL.
pub const ADVERSARIAL: &[&str] = &[
    "'; DROP TABLE users; --",
    "Robert'); DELETE FROM sessions WHERE ('1'='1",
    "\" OR \"\"=\"",
    "`backticks` and $dollar$ quotes $$",
    "back\\slash \\\\ \\' \\\" \\n",
    "emoji 😀🔐👩‍👩‍👧‍👦 🇰🇷",
    "مرحبا بالعالم \u{202E}txt.exe",
    "שָׁלוֹם עוֹלָם",
    "e\u{301}\u{301} Zalgơ̴̡",
    "控制\u{1}\u{2}\u{7}\u{8}\t\n\r\u{b}\u{c}\u{1b}[31m\u{7f}\u{85}",
    "%_ LIKE wildcards %% __",
    "\u{feff}BOM and \u{200b}zero width",
];

static STAMP: AtomicI64 = AtomicI64::new(0);

/// A time after every earlier `stamp()` (one millisecond later), a little
/// after [`start_time`]. Used for `created_at` and ids of fixture rows.
pub fn stamp() -> DateTime<Utc> {
    let n = STAMP.fetch_add(1, Ordering::SeqCst);
    start_time() + Duration::milliseconds(n + 1)
}

/// [`start_time`] plus `secs` seconds.
pub fn at(secs: i64) -> DateTime<Utc> {
    start_time() + Duration::seconds(secs)
}

/// The earliest time the suite stores: 1970-01-01T00:00:00.000001Z.
pub fn earliest() -> DateTime<Utc> {
    DateTime::from_timestamp(0, 1_000).expect("valid timestamp")
}

/// The latest time the suite stores: 9999-12-31T23:59:59.999999Z.
pub fn latest() -> DateTime<Utc> {
    DateTime::from_timestamp(253_402_300_799, 999_999_000).expect("valid timestamp")
}

/// One microsecond.
pub fn micro() -> Duration {
    Duration::microseconds(1)
}

/// Assert that `result` failed with `kind`.
#[track_caller]
pub fn assert_err<T: Debug>(result: Result<T>, kind: ErrorKind) {
    match result {
        Ok(v) => panic!("expected {kind:?}, got Ok({v:?})"),
        Err(e) => assert_eq!(e.kind(), &kind, "unexpected error {e:?}"),
    }
}

/// Run `n` copies of a task on the multi-thread runtime, all released at once
/// by a barrier, and collect their results in task order.
pub async fn race<T, F, Fut>(n: usize, make: F) -> Vec<T>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let barrier = Arc::new(Barrier::new(n));
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let task = make(i);
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                task.await
            })
        })
        .collect();
    let mut out = Vec::with_capacity(n);
    for h in handles {
        out.push(h.await.expect("race task panicked"));
    }
    out
}

/// A pool with `slug`, named after it.
pub fn pool(slug: &str) -> Pool {
    let now = stamp();
    Pool {
        id: new_id(now),
        slug: slug.to_owned(),
        name: format!("Pool {slug}"),
        created_at: now,
    }
}

/// An app of `pool` with `slug` and default settings.
pub fn app(pool: &Pool, slug: &str) -> App {
    let now = stamp();
    App {
        id: new_id(now),
        pool_id: pool.id,
        slug: slug.to_owned(),
        name: format!("App {slug}"),
        settings: AppSettings::default(),
        created_at: now,
        updated_at: now,
    }
}

/// Insert a pool `slug` and an app `slug` in it.
pub async fn insert_pool_and_app(store: &dyn Store, slug: &str) -> (Pool, App) {
    let p = pool(slug);
    store
        .apps()
        .create_pool(&p, &[])
        .await
        .expect("create_pool");
    let a = app(&p, slug);
    store.apps().create_app(&a, &[]).await.expect("create_app");
    (p, a)
}

/// A user of `pool` with `email` (already normalised), no name, `{}` metadata.
pub fn user(pool: &Pool, email: &str) -> User {
    let now = stamp();
    User {
        id: new_id(now),
        pool_id: pool.id,
        email: email.to_owned(),
        email_verified: false,
        name: None,
        metadata: json!({}),
        disabled: false,
        created_at: now,
        updated_at: now,
    }
}

/// Insert a user of `pool` with `email` and no credential.
pub async fn insert_user(store: &dyn Store, pool: &Pool, email: &str) -> User {
    let u = user(pool, email);
    store
        .users()
        .create_user(&u, None, &[])
        .await
        .expect("create_user");
    u
}

/// A credential of `user` of `kind` with `secret`.
pub fn credential(user: &User, kind: CredentialKind, secret: &str) -> Credential {
    let now = stamp();
    Credential {
        id: new_id(now),
        user_id: user.id,
        kind,
        name: None,
        secret: secret.to_owned(),
        data: json!({}),
        created_at: now,
        last_used_at: None,
    }
}

/// An identity of `user` at `provider` with `subject`.
pub fn identity(user: &User, provider: &str, subject: &str) -> Identity {
    let now = stamp();
    Identity {
        id: new_id(now),
        pool_id: user.pool_id,
        user_id: user.id,
        provider: provider.to_owned(),
        subject: subject.to_owned(),
        email: Some(user.email.clone()),
        email_verified: true,
        profile: json!({ "sub": subject }),
        created_at: now,
        last_used_at: None,
    }
}

/// A session fixture: the rows and the plaintext tokens they hash.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// The session row.
    pub session: Session,
    /// Its first refresh token row.
    pub refresh: RefreshToken,
    /// The session token (`tss_…`) whose hash the row holds.
    pub session_token: String,
    /// The refresh token (`tsr_…`) whose hash the refresh row holds.
    pub refresh_token: String,
}

/// A live session of `user` on `app`: created now-ish, idle timeout 7 days,
/// absolute expiry 30 days.
pub fn session(app: &App, user: &User) -> NewSession {
    let now = stamp();
    let (session_token, token_hash) = generate_token(prefix::SESSION);
    let (refresh_token, refresh_hash) = generate_token(prefix::REFRESH);
    let session = Session {
        id: new_id(now),
        pool_id: user.pool_id,
        app_id: app.id,
        user_id: user.id,
        token_hash,
        amr: vec!["pwd".into()],
        user_agent: Some("Mozilla/5.0 (conformance)".into()),
        ip: Some("2001:db8::1".into()),
        created_at: now,
        last_seen_at: now,
        idle_timeout_secs: 7 * 24 * 3600,
        expires_at: now + Duration::days(30),
        revoked_at: None,
        revoke_reason: None,
    };
    let refresh = RefreshToken {
        hash: refresh_hash,
        session_id: session.id,
        created_at: now,
        spent_at: None,
        replaced_by: None,
    };
    NewSession {
        session,
        refresh,
        session_token,
        refresh_token,
    }
}

/// Insert a live [`session`] of `user` on `app`.
pub async fn insert_session(store: &dyn Store, app: &App, user: &User) -> NewSession {
    let s = session(app, user);
    store
        .sessions()
        .create_session(&s.session, &s.refresh, &[])
        .await
        .expect("create_session");
    s
}

/// The successor the suite uses for a presented refresh token (derived, like
/// the core's, so a repeat computes the same one).
pub fn successor(token: &str) -> String {
    format!("{token}~next")
}

/// A rotation of `presented` to [`successor`]`(presented)` at `now` with a
/// grace window of `grace_secs`.
pub fn rotation(presented: &str, now: DateTime<Utc>, grace_secs: i64) -> RefreshRotation {
    RefreshRotation {
        presented: TokenHash::of(presented),
        successor: TokenHash::of(&successor(presented)),
        grace: Duration::seconds(grace_secs),
        now,
    }
}

/// A one-time token for `purpose` in `pool` (for `user`, if given) expiring at
/// `expires_at`; returns the secret and the row.
pub fn one_time_token(
    pool: &Pool,
    purpose: &str,
    user: Option<&User>,
    expires_at: DateTime<Utc>,
) -> (String, OneTimeToken) {
    let now = stamp();
    let (secret, hash) = generate_token(prefix::MAGIC_LINK);
    let token = OneTimeToken {
        hash,
        purpose: purpose.to_owned(),
        pool_id: pool.id,
        app_id: None,
        user_id: user.map(|u| u.id),
        subject: None,
        data: json!({ "redirect_uri": "https://app.example/cb" }),
        attempts: 0,
        created_at: now,
        expires_at,
    };
    (secret, token)
}

/// The stored hash of `code` sent to `subject` (hash of subject + code).
pub fn code_hash(subject: &str, code: &str) -> TokenHash {
    TokenHash::of(&format!("{subject}{code}"))
}

/// A code for `purpose` in `pool` addressed to `subject`, expiring at `expires_at`.
pub fn code(
    pool: &Pool,
    purpose: &str,
    subject: &str,
    code: &str,
    expires_at: DateTime<Utc>,
) -> OneTimeToken {
    OneTimeToken {
        hash: code_hash(subject, code),
        purpose: purpose.to_owned(),
        pool_id: pool.id,
        app_id: None,
        user_id: None,
        subject: Some(subject.to_owned()),
        data: json!({ "code_for": subject }),
        attempts: 0,
        created_at: stamp(),
        expires_at,
    }
}

/// An active signing key with id `kid` and made-up material (stores do not
/// look inside it): sealed bytes covering every byte value.
pub fn signing_key(kid: &str) -> SigningKey {
    SigningKey {
        kid: kid.to_owned(),
        alg: SigningAlg::EdDSA,
        private_key_sealed: (0..=255u8).chain([0, 0, 255]).collect(),
        public_jwk: json!({ "kty": "OKP", "crv": "Ed25519", "kid": kid, "x": "AAAA" }).to_string(),
        created_at: stamp(),
        retired_at: None,
        publish_until: None,
    }
}

/// An audit event of `kind` at `at` concerning nothing in particular.
pub fn audit_event(kind: &str, at: DateTime<Utc>) -> AuditEvent {
    AuditEvent {
        id: new_id(at),
        kind: kind.to_owned(),
        pool_id: None,
        app_id: None,
        user_id: None,
        session_id: None,
        ip: None,
        user_agent: None,
        data: json!({}),
        at,
    }
}

/// An API key named `name` with the `admin` scope; returns the secret and the row.
pub fn api_key(name: &str) -> (String, ApiKey) {
    let now = stamp();
    let (secret, hash) = generate_token(prefix::API_KEY);
    let key = ApiKey {
        id: new_id(now),
        name: name.to_owned(),
        hash,
        hint: secret.chars().take(8).collect(),
        scopes: vec!["admin".into()],
        created_at: now,
        last_used_at: None,
        expires_at: None,
        revoked_at: None,
    };
    (secret, key)
}

/// A display name of exactly [`MAX_NAME_LEN`] characters mixing the
/// [`ADVERSARIAL`] texts (without control characters, which names refuse).
pub fn max_name() -> String {
    let base: String = ADVERSARIAL
        .iter()
        .flat_map(|s| s.chars())
        .filter(|c| !c.is_control())
        .collect();
    // Names are trimmed; keep both ends visible.
    let name: String = std::iter::once('«')
        .chain(base.chars().cycle().take(MAX_NAME_LEN - 2))
        .chain(std::iter::once('»'))
        .collect();
    assert_eq!(
        crate::validate::normalize_name(Some(&name)).expect("a valid name"),
        Some(name.clone())
    );
    assert_eq!(name.chars().count(), MAX_NAME_LEN);
    name
}

/// A normalised email of exactly [`MAX_EMAIL_LEN`] bytes with a quote, a
/// backtick, SQL-ish text and non-ASCII letters in it, tagged with `tag`
/// (short lower-case ASCII, to make several distinct addresses).
pub fn max_email(tag: &str) -> String {
    let local = format!("o'brien`--drop{tag}ü");
    let head = "xn--bcher-kva.";
    let tail = ".example";
    let remaining = MAX_EMAIL_LEN - local.len() - 1 - head.len() - tail.len();
    // `remaining` = 63 * k + r with 1 <= r <= 63: k labels of 62 letters plus
    // a dot, then one label of r letters.
    let k = (remaining - 1) / 63;
    let r = remaining - 63 * k;
    let email = format!(
        "{local}@{head}{}{}{tail}",
        format!("{}.", "a".repeat(62)).repeat(k),
        "b".repeat(r)
    );
    assert_eq!(email.len(), MAX_EMAIL_LEN);
    assert_eq!(
        crate::validate::normalize_email(&email).expect("a valid email"),
        email
    );
    email
}

/// A metadata object whose JSON text is exactly [`MAX_METADATA_LEN`] bytes,
/// holding every [`ADVERSARIAL`] string (as keys and values), nested values,
/// big and negative numbers, and control characters other than NUL.
pub fn max_metadata() -> Value {
    let mut obj = serde_json::Map::new();
    for (i, s) in ADVERSARIAL.iter().enumerate() {
        obj.insert(format!("{i}:{s}"), json!(s));
    }
    obj.insert(
        "nested".into(),
        json!({ "list": [1, -2, 0.5, u64::MAX, i64::MIN, true, null, "x"], "empty": {}, "arr": [] }),
    );
    let controls: String = (1u8..0x20).map(char::from).collect();
    obj.insert("controls".into(), json!(controls));
    obj.insert("pad".into(), json!(""));
    let len = serde_json::to_vec(&Value::Object(obj.clone()))
        .expect("serialises")
        .len();
    assert!(
        len < MAX_METADATA_LEN,
        "adversarial metadata too big: {len}"
    );
    obj.insert("pad".into(), json!("p".repeat(MAX_METADATA_LEN - len)));
    let value = Value::Object(obj);
    assert_eq!(
        serde_json::to_vec(&value).expect("serialises").len(),
        MAX_METADATA_LEN
    );
    value
}

/// The event recording a change about `user` in `app`: an audit entry of
/// `kind` and one public event of type `public` (its payload names the
/// user), at a fresh [`stamp`].
pub fn new_event(kind: &str, public: &str, app: &App, user_id: UserId) -> NewEvent {
    let at = stamp();
    let mut audit = audit_event(kind, at);
    audit.pool_id = Some(app.pool_id);
    audit.app_id = Some(app.id);
    audit.user_id = Some(user_id);
    let id = new_id(at);
    NewEvent {
        audit,
        webhooks: vec![WebhookEvent {
            id,
            kind: public.to_owned(),
            pool_id: Some(app.pool_id),
            app_id: Some(app.id),
            payload: json!({ "type": public, "data": { "id": user_id, "event": id } }).to_string(),
            at,
        }],
    }
}

/// `event` with the id of `taken` (an event already in the log): writing it
/// fails, and with it the change it records.
pub fn reusing_id(mut event: NewEvent, taken: &AuditEvent) -> NewEvent {
    event.audit.id = taken.id;
    event
}

/// An enabled endpoint of `app` (install-wide when `None`) subscribed to
/// `filters`, with opaque sealed secrets.
pub fn webhook_endpoint(app: Option<&App>, filters: &[&str]) -> WebhookEndpoint {
    let now = stamp();
    WebhookEndpoint {
        id: new_id(now),
        app_id: app.map(|a| a.id),
        pool_id: app.map(|a| a.pool_id),
        url: "https://hooks.example.com/tessera".into(),
        description: Some(ADVERSARIAL[0].into()),
        events: filters.iter().map(|f| f.to_string()).collect(),
        enabled: true,
        disabled_reason: None,
        secrets_sealed: (0..=255u8).collect(),
        old_secrets_sealed: None,
        old_secrets_until: None,
        public_key: None,
        failing_since: None,
        created_at: now,
        updated_at: now,
    }
}

/// Insert [`webhook_endpoint`].
pub async fn insert_webhook_endpoint(
    store: &dyn Store,
    app: Option<&App>,
    filters: &[&str],
) -> WebhookEndpoint {
    let e = webhook_endpoint(app, filters);
    store
        .webhook_endpoints()
        .create_webhook_endpoint(&e, &[])
        .await
        .expect("create_webhook_endpoint");
    e
}

/// Every delivery of `endpoint`, newest first.
pub async fn deliveries(store: &dyn Store, endpoint: &WebhookEndpoint) -> Vec<WebhookDelivery> {
    store
        .webhook_deliveries()
        .list_webhook_deliveries(
            endpoint.id,
            &DeliveryQuery {
                limit: 1000,
                ..Default::default()
            },
        )
        .await
        .expect("list_webhook_deliveries")
}

/// Whether the audit log holds an event with `id`.
pub async fn has_event(store: &dyn Store, id: uuid::Uuid) -> bool {
    store
        .audit()
        .list_events(&AuditQuery {
            limit: 1000,
            ..Default::default()
        })
        .await
        .expect("list_events")
        .iter()
        .any(|e| e.id == id)
}
