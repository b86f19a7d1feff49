//! Tessera's core: every auth flow, over any store.
//!
//! `tessera-core` knows nothing of HTTP, SQL, Python or Kotlin. It holds the
//! domain ([`model`]), the storage traits ([`store`]) that backends implement,
//! the crypto ([`crypto`]) and the flows, reached through the [`Tessera`]
//! facade: `tessera.passwords()`, `tessera.sessions()`, `tessera.tokens()`,
//! `tessera.users()`, `tessera.apps()`, `tessera.audit()`, `tessera.limits()`.
//!
//! The key design decision: every invariant that must hold under concurrency
//! (one user per email, a refresh token spent once, a code guessed at most five
//! times) is *one* store method that each backend makes atomic. The flows never
//! read, decide and write back, so running many Tessera instances against one
//! database is safe, and the conformance suite can hold every backend to the
//! same behaviour.
//!
//! ```no_run
//! # async fn demo(store: std::sync::Arc<dyn tessera_core::store::Store>) -> tessera_core::Result<()> {
//! use tessera_core::{Tessera, crypto::KeyRing, model::ClientInfo};
//! let tessera = Tessera::builder()
//!     .store(store)
//!     .key_encryption_key(KeyRing::new([0x42; 32], []))
//!     .issuer("https://auth.example.com")
//!     .build()
//!     .await?;
//! let app = tessera.apps().default_app().await?;
//! let signed_up = tessera
//!     .passwords()
//!     .sign_up(&app, "ada@example.com", "correct horse battery staple", None, &ClientInfo::default())
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! | feature | what it adds |
//! |---|---|
//! | `conformance` | [`conformance`], the storage test suite every backend runs |

mod api_keys;
mod apps;
mod audit;
pub mod clock;
pub mod crypto;
pub mod devices;
mod emails;
mod error;
mod events;
mod limits;
pub mod mail;
mod mfa;
pub mod model;
mod oauth;
mod passkeys;
mod passwords;
mod sessions;
pub mod store;
mod tokens;
mod totp;
mod users;
pub mod validate;
pub mod webhooks;
mod words;

#[cfg(feature = "conformance")]
pub mod conformance;

use std::sync::Arc;

pub use api_keys::{ApiKeys, CreatedApiKey, SCOPE_ADMIN, SCOPES};
pub use apps::{Apps, NewApp};
pub use audit::{Audit, EventKind};
pub use emails::{
    DeliveryReport, Emails, MAX_CODE_ATTEMPTS, MagicLinkSignIn, SENDS_PER_HOUR, SendFlow,
};
pub use error::{Error, ErrorKind, Result};
pub use events::{CATALOGUE_VERSION, EventType};
pub use limits::{Limit, Limits};
pub use mfa::{EnrolledSignIn, MAX_MFA_ATTEMPTS, MFA_TTL_SECS, Mfa, MfaMethod, PendingMfa};
pub use oauth::{
    AMR_FEDERATED, Authorization, CallbackOutcome, CallbackParams, CallbackResult, ClaimMapping,
    EXCHANGE_CODE_PREFIX, ExternalProfile, OAuth, ProviderInput, ProviderKind, ProviderSettings,
    ProviderView, StartOptions, TokenAuth,
};
pub use passkeys::{
    MAX_PASSKEY_NAME_CHARS, MAX_PASSKEYS_PER_USER, PasskeyChallenge, PasskeyInfo, Passkeys,
    WebauthnDefaults,
};
pub use passwords::{PasswordSignIn, Passwords, SIGN_IN_BACKOFF, SignUpOutcome};
pub use sessions::{AuthSession, MfaChallenge, Sessions, SignInOutcome};
pub use tokens::{AccessClaims, Tokens};
pub use totp::{
    MfaStatus, RECOVERY_CODE_COUNT, TOTP_DIGITS, TOTP_PERIOD_SECS, Totp, TotpEnrollment,
};
pub use users::Users;
pub use webhooks::{DeliveryRound, NewWebhookEndpoint, WebhookSecret, Webhooks};
pub use words::UnknownWord;

use clock::{Clock, SystemClock};
use crypto::{KeyRing, PasswordHasher, PasswordParams};
use model::{App, AppSettings, DEFAULT_SLUG, Pool, SigningAlg};
use store::Store;

/// The Tessera facade: cheap to clone (an `Arc` inside), shared by every face.
#[derive(Clone)]
pub struct Tessera {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Tessera {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tessera")
            .field("backend", &self.inner.store.backend())
            .field("issuer", &self.inner.issuer)
            .finish_non_exhaustive()
    }
}

pub(crate) struct Inner {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) keyring: KeyRing,
    pub(crate) hasher: PasswordHasher,
    pub(crate) issuer: String,
    pub(crate) signing_alg: SigningAlg,
    pub(crate) key_cache: tokens::KeyCache,
    /// Key for deriving a refresh token's successor (see `sessions`).
    pub(crate) refresh_key: [u8; 32],
    /// Key of the MACs of device tokens (see `devices`).
    pub(crate) device_key: [u8; 32],
    /// Woken when this instance queues mail, so its worker sends at once.
    pub(crate) mail_ready: tokio::sync::Notify,
    /// Install-wide WebAuthn relying party (apps may override).
    pub(crate) webauthn: WebauthnDefaults,
    /// The HTTP client for OAuth providers and its discovery cache.
    pub(crate) oauth: oauth::Runtime,
    /// The webhook delivery client and its SSRF guard.
    pub(crate) webhooks: webhooks::delivery::Runtime,
}

impl Inner {
    pub(crate) fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }
}

impl Tessera {
    /// Start building a Tessera.
    pub fn builder() -> TesseraBuilder {
        TesseraBuilder::default()
    }

    /// Password sign-up, sign-in and change.
    pub fn passwords(&self) -> Passwords<'_> {
        Passwords::new(&self.inner)
    }

    /// Sessions: validate, refresh, list, revoke.
    pub fn sessions(&self) -> Sessions<'_> {
        Sessions::new(&self.inner)
    }

    /// Access tokens, signing keys and the JWKS.
    pub fn tokens(&self) -> Tokens<'_> {
        Tokens::new(&self.inner)
    }

    /// Email flows (verification, reset, codes, magic links, email change)
    /// and the delivery of queued mail.
    pub fn emails(&self) -> Emails<'_> {
        Emails::new(&self.inner)
    }

    /// Sign-in through external OAuth 2.0 / OpenID Connect providers, and the
    /// identities they link.
    pub fn oauth(&self) -> OAuth<'_> {
        OAuth::new(&self.inner)
    }

    /// WebAuthn passkeys.
    pub fn passkeys(&self) -> Passkeys<'_> {
        Passkeys::new(&self.inner)
    }

    /// TOTP and recovery codes.
    pub fn totp(&self) -> Totp<'_> {
        Totp::new(&self.inner)
    }

    /// Completing a sign-in that needs a second factor.
    pub fn mfa(&self) -> Mfa<'_> {
        Mfa::new(&self.inner)
    }

    /// Users: look up, list, update, disable, delete.
    pub fn users(&self) -> Users<'_> {
        Users::new(&self.inner)
    }

    /// Pools and apps.
    pub fn apps(&self) -> Apps<'_> {
        Apps::new(&self.inner)
    }

    /// Admin API keys.
    pub fn api_keys(&self) -> ApiKeys<'_> {
        ApiKeys::new(&self.inner)
    }

    /// Webhook endpoints, their delivery log, and delivering due events.
    pub fn webhooks(&self) -> Webhooks<'_> {
        Webhooks::new(&self.inner)
    }

    /// A background webhook worker for embedders: delivers due events like
    /// [`Webhooks::deliver_pending`] while any handle to this Tessera is
    /// alive (checking every `poll` when idle), and ends within `poll` of the
    /// last one being dropped. Safe on any number of instances.
    pub fn webhook_worker(
        &self,
        poll: std::time::Duration,
    ) -> impl std::future::Future<Output = ()> + Send + 'static {
        let weak = Arc::downgrade(&self.inner);
        async move {
            loop {
                let Some(inner) = weak.upgrade() else { break };
                let busy = match Webhooks::new(&inner).deliver_pending().await {
                    Ok(round) => round.attempted >= webhooks::BATCH as usize,
                    Err(e) => {
                        tracing::warn!(error = %e, "webhook delivery round failed");
                        false
                    }
                };
                drop(inner);
                if !busy {
                    tokio::time::sleep(poll).await;
                }
            }
        }
    }

    /// The audit log.
    pub fn audit(&self) -> Audit<'_> {
        Audit::new(&self.inner)
    }

    /// Rate limits shared by every instance on the store (per IP and per
    /// account), for the faces to call on requests that write anyway.
    pub fn limits(&self) -> Limits<'_> {
        Limits::new(&self.inner)
    }

    /// The MAC binding a hosted page's CSRF token to a browser's
    /// pre-session id: HMAC-SHA256 under a key derived from the
    /// key-encryption key (`tessera/csrf/v1`), so only this deployment can
    /// make a token that matches an id (issue 15, item 3). The HTTP face
    /// sends it base64url-encoded and compares it in constant time.
    pub fn csrf_mac(&self, pre_session: &str) -> [u8; 32] {
        let key = self.inner.keyring.derive("tessera/csrf/v1");
        crate::crypto::hmac_sha256(&key, pre_session.as_bytes())
    }

    /// A background mail worker for embedders: delivers queued mail like
    /// [`Emails::run_worker`] while any handle to this Tessera is alive, and
    /// ends (releasing the store's connections) within `poll` of the last one
    /// being dropped. Spawn the future on the runtime of your choice.
    pub fn mail_worker(
        &self,
        mailer: Arc<dyn mail::Mailer>,
        poll: std::time::Duration,
    ) -> impl std::future::Future<Output = ()> + Send + 'static {
        let weak = Arc::downgrade(&self.inner);
        async move {
            while let Some(inner) = weak.upgrade() {
                let emails = Emails::new(&inner);
                emails.deliver_round(mailer.as_ref()).await;
                emails.wait_for_mail(poll).await;
            }
        }
    }

    /// A background sweeper: runs [`Tessera::sweep`] with `retention` at once
    /// and then every `every` while any handle to this Tessera is alive. It
    /// holds no handle between rounds, so dropping the last one releases the
    /// store straight away; the future itself ends at its next round. Failures
    /// are logged and retried at the next round. Safe on several instances.
    pub fn sweep_worker(
        &self,
        every: std::time::Duration,
        retention: chrono::Duration,
    ) -> impl std::future::Future<Output = ()> + Send + 'static {
        let weak = Arc::downgrade(&self.inner);
        async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                let Some(inner) = weak.upgrade() else { break };
                match (Tessera { inner }).sweep(retention).await {
                    Ok(r) => tracing::debug!(?r, "swept"),
                    Err(e) => tracing::warn!(error = %e, "sweep failed"),
                }
            }
        }
    }

    /// The store this Tessera runs on.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    /// The clock this Tessera reads.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    /// The token issuer (the public base URL).
    pub fn issuer(&self) -> &str {
        &self.inner.issuer
    }

    /// Delete what has ended: sessions past expiry (and revoked ones) older than
    /// `retention`, expired one-time tokens, stale failure counters, ended
    /// rate-limit windows, retired keys no longer published, and finished webhook deliveries
    /// older than `retention`. Safe to run
    /// from several instances at once.
    pub async fn sweep(&self, retention: chrono::Duration) -> Result<SweepReport> {
        let now = self.inner.now();
        let cutoff = now - retention;
        let store = &self.inner.store;
        Ok(SweepReport {
            sessions: store.sessions().delete_ended_sessions(cutoff).await?,
            tokens: store.tokens().delete_expired_tokens(now).await?,
            throttles: store
                .throttles()
                .delete_stale_throttles(now - passwords::FAILURE_WINDOW)
                .await?,
            limits: store.throttles().delete_ended_windows(now).await?,
            keys: store.keys().delete_unpublished_keys(now).await?,
            webhook_deliveries: store
                .webhook_deliveries()
                .delete_finished_webhook_deliveries(cutoff)
                .await?,
        })
    }
}

/// What [`Tessera::sweep`] deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Ended sessions.
    pub sessions: u64,
    /// Expired one-time tokens.
    pub tokens: u64,
    /// Stale failure counters.
    pub throttles: u64,
    /// Ended rate-limit windows.
    pub limits: u64,
    /// Retired, unpublished signing keys.
    pub keys: u64,
    /// Finished webhook deliveries (the delivery log) older than the retention.
    pub webhook_deliveries: u64,
}

/// Builds a [`Tessera`]; see [`Tessera::builder`].
#[derive(Default)]
pub struct TesseraBuilder {
    store: Option<Arc<dyn Store>>,
    clock: Option<Arc<dyn Clock>>,
    keyring: Option<KeyRing>,
    issuer: Option<String>,
    password_params: PasswordParams,
    hash_concurrency: Option<usize>,
    signing_alg: SigningAlg,
    webauthn: WebauthnDefaults,
    development: bool,
    webhook_allow_hosts: webhooks::AllowHosts,
}

impl TesseraBuilder {
    /// The store (required).
    pub fn store(mut self, store: Arc<dyn Store>) -> Self {
        self.store = Some(store);
        self
    }

    /// The key-encryption key ring that seals signing keys and other secrets at
    /// rest (required).
    pub fn key_encryption_key(mut self, keyring: KeyRing) -> Self {
        self.keyring = Some(keyring);
        self
    }

    /// The issuer: the public base URL, e.g. `https://auth.example.com`
    /// (default `http://localhost:8080`).
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// The clock (default: the system clock).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// argon2id parameters (default: OWASP's m = 19456 KiB, t = 2, p = 1).
    pub fn password_params(mut self, params: PasswordParams) -> Self {
        self.password_params = params;
        self
    }

    /// How many password hashes may run at once (default: the number of cores).
    pub fn hash_concurrency(mut self, n: usize) -> Self {
        self.hash_concurrency = Some(n);
        self
    }

    /// The algorithm of newly generated signing keys (default EdDSA).
    pub fn signing_alg(mut self, alg: SigningAlg) -> Self {
        self.signing_alg = alg;
        self
    }

    /// The install-wide WebAuthn relying-party id for passkeys (a registrable
    /// domain such as `example.com`; default: the issuer's host). Apps
    /// override it with `settings.webauthn_rp_id`.
    pub fn webauthn_rp_id(mut self, rp_id: impl Into<String>) -> Self {
        self.webauthn.rp_id = Some(rp_id.into());
        self
    }

    /// The install-wide origins allowed to run WebAuthn ceremonies (default:
    /// the issuer's origin). Apps override them with `settings.webauthn_origins`.
    pub fn webauthn_origins(mut self, origins: impl IntoIterator<Item = String>) -> Self {
        self.webauthn.origins = origins.into_iter().collect();
        self
    }

    /// Development mode (default off): OAuth provider endpoints may be plain
    /// `http://` on loopback hosts, for providers run locally in tests.
    /// `tessera serve` sets it from `TESSERA_DEV`.
    pub fn development(mut self, on: bool) -> Self {
        self.development = on;
        self
    }

    /// Hosts webhooks may be delivered to although they resolve to
    /// loopback, private or link-local addresses (`TESSERA_WEBHOOK_ALLOW_HOSTS`;
    /// see [`webhooks::AllowHosts`]). Development mode allows every host.
    pub fn webhook_allow_hosts(mut self, hosts: webhooks::AllowHosts) -> Self {
        self.webhook_allow_hosts = hosts;
        self
    }

    /// Build, making sure the `default` pool and app exist.
    pub async fn build(self) -> Result<Tessera> {
        let store = self
            .store
            .ok_or_else(|| Error::config("Tessera needs a store"))?;
        let keyring = self
            .keyring
            .ok_or_else(|| Error::config("Tessera needs a key-encryption key"))?;
        let issuer = self
            .issuer
            .unwrap_or_else(|| "http://localhost:8080".to_owned())
            .trim_end_matches('/')
            .to_owned();
        if !(issuer.starts_with("https://") || issuer.starts_with("http://")) {
            return Err(Error::config("the issuer must be an http(s) URL"));
        }
        let refresh_key = keyring.derive("tessera/refresh-rotation/v1");
        let device_key = keyring.derive("tessera/device-token/v1");
        let inner = Inner {
            store,
            clock: self.clock.unwrap_or_else(|| Arc::new(SystemClock)),
            keyring,
            hasher: PasswordHasher::new(self.password_params, self.hash_concurrency)?,
            issuer,
            signing_alg: self.signing_alg,
            key_cache: tokens::KeyCache::default(),
            refresh_key,
            device_key,
            mail_ready: tokio::sync::Notify::new(),
            webauthn: self.webauthn,
            oauth: oauth::Runtime::new(self.development)?,
            webhooks: webhooks::delivery::Runtime::new(webhooks::ssrf::Guard {
                development: self.development,
                allow: self.webhook_allow_hosts,
            })?,
        };
        ensure_defaults(&inner).await?;
        Ok(Tessera {
            inner: Arc::new(inner),
        })
    }
}

/// Create the `default` pool and app unless they exist. Racing instances both
/// try; the store's unique slug lets one win and the other finds it.
async fn ensure_defaults(inner: &Inner) -> Result<()> {
    let apps = inner.store.apps();
    let now = inner.now();
    let pool = match apps.find_pool_by_slug(DEFAULT_SLUG).await? {
        Some(p) => p,
        None => {
            let pool = Pool {
                id: new_id(now),
                slug: DEFAULT_SLUG.into(),
                name: "Default".into(),
                created_at: now,
            };
            // The install's own bootstrap records no event.
            match apps.create_pool(&pool, &[]).await {
                Ok(()) => pool,
                Err(e) if *e.kind() == ErrorKind::Conflict => apps
                    .find_pool_by_slug(DEFAULT_SLUG)
                    .await?
                    .ok_or_else(|| Error::internal("default pool vanished"))?,
                Err(e) => return Err(e),
            }
        }
    };
    if apps.find_app_by_slug(DEFAULT_SLUG).await?.is_none() {
        let app = App {
            id: new_id(now),
            pool_id: pool.id,
            slug: DEFAULT_SLUG.into(),
            name: "Default".into(),
            settings: AppSettings::default(),
            created_at: now,
            updated_at: now,
        };
        match apps.create_app(&app, &[]).await {
            Ok(()) => {}
            Err(e) if *e.kind() == ErrorKind::Conflict => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// A new UUIDv7 for the time `now` (so ids sort by creation time).
pub fn new_id(now: chrono::DateTime<chrono::Utc>) -> uuid::Uuid {
    let ts = uuid::Timestamp::from_unix(
        uuid::NoContext,
        now.timestamp().max(0) as u64,
        now.timestamp_subsec_nanos(),
    );
    uuid::Uuid::new_v7(ts)
}
