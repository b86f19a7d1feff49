//! Tessera's core for Kotlin (and Swift) through uniffi.
//!
//! One object, [`Tessera`], opened from a storage URL (`memory://`,
//! `sqlite://PATH`, as `tessera_storage::open` understands), exposes every
//! capability of the core as an async method; Kotlin calls them as `suspend`
//! functions in package `dev.tessera`. Values cross as plain records (ids as
//! strings, times as `java.time.Instant`), failures as one error,
//! [`TesseraError`] (Kotlin `TesseraException`), whose variants carry the core's
//! stable `code`.
//!
//! Why a thin layer of our own records instead of exporting the core's types:
//! uniffi needs its derives on every type that crosses, and the core must not
//! depend on uniffi (see the design: data flows one way). So this crate owns
//! the foreign-facing shapes and converts; each method is a few lines that
//! resolve the app, call the core and convert the result.
//!
//! Async: methods are exported with `async_runtime = "tokio"`, so each future
//! is polled by the caller's coroutine with a tokio context entered (timers,
//! `spawn_blocking` for argon2, the SQL pool's tasks all find a runtime).

mod error;
mod factors;
mod oauth;
mod records;
mod second_factor;

use std::sync::Arc;

use tessera_core::crypto::{KeyRing, PasswordParams};
use tessera_core::model::{SigningAlg, UserQuery};
use tessera_core::{NewApp, SignInOutcome, SignUpOutcome};

pub use error::{TesseraError, error_for_code};
pub use factors::{
    EnrolledSignIn, Identity, MfaStatus, OAuthCallback, OAuthClaimMapping, OAuthProvider,
    OAuthProviderConfig, OAuthStart, PasskeyChallenge, PasskeyInfo, TotpEnrollment,
};
pub use records::{
    AccessClaims, AccessTokenInfo, ApiKey, App, AppSettings, AuditEvent, AuditQuery, AuthSession,
    ClientInfo, CreatedApiKey, MfaChallenge, MfaPolicy, OpenOptions, Session, SessionInfo,
    SweepReport, User, UserPage, UserPatch,
};
use records::{chrono_time, parse_id};

uniffi::setup_scaffolding!();

/// Shorthand for results of the binding.
pub type Result<T, E = TesseraError> = std::result::Result<T, E>;

/// A Tessera instance: a store, a key-encryption key and every flow of the
/// core. Cheap to share; every method may be called concurrently.
#[derive(uniffi::Object)]
pub struct Tessera {
    core: tessera_core::Tessera,
}

impl std::fmt::Debug for Tessera {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tessera").field("core", &self.core).finish()
    }
}

impl Tessera {
    /// Wrap an already built core (for Rust callers and tests).
    pub fn from_core(core: tessera_core::Tessera) -> Self {
        Tessera { core }
    }

    /// The wrapped core.
    pub fn core(&self) -> &tessera_core::Tessera {
        &self.core
    }

    async fn app(&self, app: Option<String>) -> Result<tessera_core::model::App> {
        Ok(self.core.apps().resolve_or_default(app.as_deref()).await?)
    }
}

fn client_info(c: Option<ClientInfo>) -> tessera_core::model::ClientInfo {
    c.map(Into::into).unwrap_or_default()
}

/// The session of a finished first-factor sign-in, or `MfaRequired`
/// carrying the challenge to finish it with.
fn signed_in(outcome: SignInOutcome) -> Result<AuthSession> {
    match outcome {
        SignInOutcome::Complete(session) => Ok((*session).into()),
        SignInOutcome::MfaRequired(challenge) => Err(TesseraError::mfa_required(challenge)),
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl Tessera {
    /// Open a Tessera on the store `url` names (`memory://`, `sqlite://PATH`,
    /// …), with `key_encryption_key`, a base64 32-byte key that seals signing
    /// keys at rest (keep it secret and stable; see `generateKeyEncryptionKey`).
    /// Makes sure the `default` pool and app exist.
    #[uniffi::constructor(default(options = None))]
    pub async fn open(
        url: String,
        key_encryption_key: String,
        options: Option<OpenOptions>,
    ) -> Result<Arc<Self>> {
        let options = options.unwrap_or(OpenOptions {
            issuer: None,
            old_key_encryption_keys: None,
            migrate: true,
            hash_concurrency: None,
            insecure_fast_password_hashing_for_tests: false,
            smtp_url: None,
            mail_from: None,
            development: false,
            webauthn_rp_id: None,
            webauthn_origins: None,
        });
        let keyring = KeyRing::from_base64(
            &key_encryption_key,
            options.old_key_encryption_keys.as_deref().unwrap_or(""),
        )?;
        let mut opener = tessera_storage::TesseraOpener::new(url, keyring)
            .migrate(options.migrate)
            .development(options.development)
            .mail(tessera_storage::MailSettings {
                smtp_url: options.smtp_url,
                from: options
                    .mail_from
                    .unwrap_or_else(|| tessera_storage::DEFAULT_MAIL_FROM.to_owned()),
            });
        if let Some(issuer) = options.issuer {
            opener = opener.issuer(issuer);
        }
        if let Some(n) = options.hash_concurrency {
            opener = opener.hash_concurrency(n.max(1) as usize);
        }
        if let Some(rp_id) = options.webauthn_rp_id {
            opener = opener.webauthn_rp_id(rp_id);
        }
        if let Some(origins) = options.webauthn_origins {
            opener = opener.webauthn_origins(origins);
        }
        if options.insecure_fast_password_hashing_for_tests {
            opener = opener.password_params(PasswordParams::insecure_fast_for_tests());
        }
        // Mail queued by the email flows is delivered in the background by a
        // worker that ends once Kotlin drops its last handle, releasing the store.
        let core = opener.open().await?;
        Ok(Arc::new(Tessera { core }))
    }

    // --- email ----------------------------------------------------------

    /// Queue a verification link for the user (nothing if already verified).
    #[uniffi::method(default(app = None))]
    pub async fn send_verification(&self, user_id: String, app: Option<String>) -> Result<()> {
        let user_id = parse_id("user_id", &user_id)?;
        let app = self.app(app).await?;
        Ok(self.core.emails().send_verification(&app, user_id).await?)
    }

    /// Verify an address with the token of a verification link.
    ///
    /// Errors: `invalid_token`, `token_expired`.
    pub async fn verify_email(&self, token: String) -> Result<User> {
        Ok(self.core.emails().verify_email(&token).await?.into())
    }

    /// Queue a password-reset link, if the address has an account (the same
    /// answer either way).
    #[uniffi::method(default(app = None, client = None))]
    pub async fn send_password_reset(
        &self,
        email: String,
        app: Option<String>,
        client: Option<ClientInfo>,
    ) -> Result<()> {
        let app = self.app(app).await?;
        Ok(self
            .core
            .emails()
            .send_password_reset(&app, &email, &client_info(client))
            .await?)
    }

    /// Set a new password with a reset token; every session is revoked.
    ///
    /// Errors: `invalid_token`, `token_expired`, `weak_password`.
    #[uniffi::method(default(client = None))]
    pub async fn reset_password(
        &self,
        token: String,
        new_password: String,
        client: Option<ClientInfo>,
    ) -> Result<()> {
        Ok(self
            .core
            .emails()
            .reset_password(&token, &new_password, &client_info(client))
            .await?)
    }

    /// Queue a six-digit sign-in code, if the address has an account.
    #[uniffi::method(default(app = None, client = None))]
    pub async fn send_sign_in_code(
        &self,
        email: String,
        app: Option<String>,
        client: Option<ClientInfo>,
    ) -> Result<()> {
        let app = self.app(app).await?;
        Ok(self
            .core
            .emails()
            .send_sign_in_code(&app, &email, &client_info(client))
            .await?)
    }

    /// Sign in with an emailed code (once, 10 minutes, 5 wrong tries).
    ///
    /// Errors: `invalid_credentials` for every failure.
    #[uniffi::method(default(app = None, client = None))]
    pub async fn sign_in_with_code(
        &self,
        email: String,
        code: String,
        app: Option<String>,
        client: Option<ClientInfo>,
    ) -> Result<AuthSession> {
        let app = self.app(app).await?;
        let outcome = self
            .core
            .emails()
            .sign_in_with_code(&app, &email, &code, &client_info(client))
            .await?;
        signed_in(outcome)
    }

    /// Queue a magic sign-in link, if the address has an account; with a
    /// registered `redirect_uri` the link goes there with `?token=`.
    #[uniffi::method(default(redirect_uri = None, app = None, client = None))]
    pub async fn send_magic_link(
        &self,
        email: String,
        redirect_uri: Option<String>,
        app: Option<String>,
        client: Option<ClientInfo>,
    ) -> Result<()> {
        let app = self.app(app).await?;
        Ok(self
            .core
            .emails()
            .send_magic_link(&app, &email, redirect_uri.as_deref(), &client_info(client))
            .await?)
    }

    /// Sign in with the token of a magic link.
    ///
    /// Errors: `invalid_token`, `token_expired`, `user_disabled`.
    #[uniffi::method(default(client = None))]
    pub async fn sign_in_with_magic_link(
        &self,
        token: String,
        client: Option<ClientInfo>,
    ) -> Result<AuthSession> {
        let done = self
            .core
            .emails()
            .sign_in_with_magic_link(&token, &client_info(client))
            .await?;
        signed_in(done.outcome)
    }

    /// Ask to change a user's address; confirmed from the new address.
    #[uniffi::method(default(app = None, client = None))]
    pub async fn request_email_change(
        &self,
        user_id: String,
        new_email: String,
        app: Option<String>,
        client: Option<ClientInfo>,
    ) -> Result<()> {
        let user_id = parse_id("user_id", &user_id)?;
        let app = self.app(app).await?;
        Ok(self
            .core
            .emails()
            .request_email_change(&app, user_id, &new_email, &client_info(client))
            .await?)
    }

    /// Confirm an address change with the token sent to the new address.
    ///
    /// Errors: `invalid_token`, `token_expired`, `email_taken`.
    #[uniffi::method(default(client = None))]
    pub async fn confirm_email_change(
        &self,
        token: String,
        client: Option<ClientInfo>,
    ) -> Result<User> {
        Ok(self
            .core
            .emails()
            .confirm_email_change(&token, &client_info(client))
            .await?
            .into())
    }

    /// The token issuer (the public base URL).
    pub fn issuer(&self) -> String {
        self.core.issuer().to_owned()
    }

    // --- passwords ------------------------------------------------------

    /// Create an account with a password and sign it in. Returns `null` when
    /// the app requires a verified email first (the same answer whether or not
    /// the address was already registered).
    ///
    /// Errors: `invalid_email`, `weak_password`, `invalid_input`, `email_taken`.
    #[uniffi::method(default(name = None, app = None, client = None))]
    pub async fn sign_up(
        &self,
        email: String,
        password: String,
        name: Option<String>,
        app: Option<String>,
        client: Option<ClientInfo>,
    ) -> Result<Option<AuthSession>> {
        let app = self.app(app).await?;
        let outcome = self
            .core
            .passwords()
            .sign_up(
                &app,
                &email,
                &password,
                name.as_deref(),
                &client_info(client),
            )
            .await?;
        Ok(match outcome {
            SignUpOutcome::SignedIn(session) => Some((*session).into()),
            SignUpOutcome::VerificationRequired => None,
        })
    }

    /// Sign in with email and password.
    ///
    /// Errors: `invalid_credentials` (wrong password or no such account),
    /// `rate_limited`, `user_disabled`, `email_not_verified`,
    /// `method_disabled`, `mfa_required`.
    #[uniffi::method(default(app = None, client = None))]
    pub async fn sign_in_password(
        &self,
        email: String,
        password: String,
        app: Option<String>,
        client: Option<ClientInfo>,
    ) -> Result<AuthSession> {
        let app = self.app(app).await?;
        let outcome = self
            .core
            .passwords()
            .sign_in(&app, &email, &password, &client_info(client))
            .await?;
        signed_in(outcome)
    }

    /// Change a user's password after checking the current one; every other
    /// session of the user is revoked (`keep_session_id` stays signed in).
    ///
    /// Errors: `invalid_credentials`, `weak_password`, `rate_limited`, `not_found`.
    #[uniffi::method(default(keep_session_id = None, app = None, client = None))]
    pub async fn change_password(
        &self,
        user_id: String,
        current_password: String,
        new_password: String,
        keep_session_id: Option<String>,
        app: Option<String>,
        client: Option<ClientInfo>,
    ) -> Result<()> {
        let user_id = parse_id("user_id", &user_id)?;
        let keep = keep_session_id
            .map(|s| parse_id("keep_session_id", &s))
            .transpose()?;
        let app = self.app(app).await?;
        self.core
            .passwords()
            .change(
                &app,
                user_id,
                keep,
                &current_password,
                &new_password,
                &client_info(client),
            )
            .await?;
        Ok(())
    }

    // --- sessions -------------------------------------------------------

    /// Exchange a refresh token for a new access token and refresh token.
    ///
    /// Errors: `invalid_token`, `session_expired`, `refresh_token_reused` (a
    /// spent token presented again: the session is revoked).
    #[uniffi::method(default(client = None))]
    pub async fn refresh(
        &self,
        refresh_token: String,
        client: Option<ClientInfo>,
    ) -> Result<AuthSession> {
        Ok(self
            .core
            .sessions()
            .refresh(&refresh_token, &client_info(client))
            .await?
            .into())
    }

    /// Validate an opaque session token (`tss_…`).
    ///
    /// Errors: `unauthenticated` (unknown or malformed), `session_expired`,
    /// `user_disabled`.
    pub async fn validate_session(&self, session_token: String) -> Result<SessionInfo> {
        let (session, user) = self.core.sessions().validate(&session_token).await?;
        Ok(SessionInfo {
            session: session.into(),
            user: user.into(),
        })
    }

    /// Validate an access JWT *and* its session (so a revoked session's tokens
    /// stop working at once). `audience`, when given, must be the token's app id.
    ///
    /// Errors: `invalid_token`, `token_expired`, `session_expired`, `user_disabled`.
    #[uniffi::method(default(audience = None))]
    pub async fn validate_access_token(
        &self,
        access_token: String,
        audience: Option<String>,
    ) -> Result<AccessTokenInfo> {
        let (session, user, claims) = self
            .core
            .sessions()
            .validate_access_token(&access_token, audience.as_deref())
            .await?;
        Ok(AccessTokenInfo {
            session: session.into(),
            user: user.into(),
            claims: claims.into(),
        })
    }

    /// A user's live sessions, newest first.
    pub async fn list_sessions(&self, user_id: String) -> Result<Vec<Session>> {
        let user_id = parse_id("user_id", &user_id)?;
        let sessions = self.core.sessions().list(user_id).await?;
        Ok(sessions.into_iter().map(Into::into).collect())
    }

    /// Revoke one of a user's sessions (sign out one device). Idempotent.
    #[uniffi::method(default(reason = "revoked"))]
    pub async fn revoke_session(
        &self,
        user_id: String,
        session_id: String,
        reason: String,
    ) -> Result<()> {
        let user_id = parse_id("user_id", &user_id)?;
        let session_id = parse_id("session_id", &session_id)?;
        self.core
            .sessions()
            .revoke(user_id, session_id, &reason)
            .await?;
        Ok(())
    }

    /// Revoke every session of a user except `except_session_id` (sign out
    /// everywhere, or everywhere else). Returns how many were revoked.
    #[uniffi::method(default(except_session_id = None, reason = "revoked_all"))]
    pub async fn revoke_all_sessions(
        &self,
        user_id: String,
        except_session_id: Option<String>,
        reason: String,
    ) -> Result<i64> {
        let user_id = parse_id("user_id", &user_id)?;
        let except = except_session_id
            .map(|s| parse_id("except_session_id", &s))
            .transpose()?;
        let n = self
            .core
            .sessions()
            .revoke_all(user_id, except, &reason)
            .await?;
        Ok(i64::try_from(n).unwrap_or(i64::MAX))
    }

    /// Sign out the session a token belongs to: a session token (`tss_…`) or
    /// an access JWT. Its refresh token stops working too.
    ///
    /// Errors: as `validateSession` / `validateAccessToken` (an already
    /// signed-out session answers `session_expired`).
    pub async fn sign_out(&self, token: String) -> Result<()> {
        Ok(self.core.sessions().sign_out(&token).await?)
    }

    // --- users ----------------------------------------------------------

    /// A user by id (`not_found` if missing).
    pub async fn get_user(&self, user_id: String) -> Result<User> {
        let user_id = parse_id("user_id", &user_id)?;
        Ok(self.core.users().get(user_id).await?.into())
    }

    /// A user of the app's pool by email (normalised first); `null` if none.
    #[uniffi::method(default(app = None))]
    pub async fn find_user_by_email(
        &self,
        email: String,
        app: Option<String>,
    ) -> Result<Option<User>> {
        let app = self.app(app).await?;
        let user = self.core.users().find_by_email(app.pool_id, &email).await?;
        Ok(user.map(Into::into))
    }

    /// A page of the app's pool's users, ordered by id. Pass the previous
    /// page's `nextAfter` as `after`; `limit` 0 means 100 (at most 1000);
    /// `email_contains` filters.
    #[uniffi::method(default(after = None, limit = 0, email_contains = None, app = None))]
    pub async fn list_users(
        &self,
        after: Option<String>,
        limit: i32,
        email_contains: Option<String>,
        app: Option<String>,
    ) -> Result<UserPage> {
        let after = after.map(|s| parse_id("after", &s)).transpose()?;
        let app = self.app(app).await?;
        let page_size = match limit {
            0 => 100,
            1.. => limit.min(1000) as u32,
            _ => return Err(TesseraError::invalid("limit", "limit must not be negative")),
        };
        let users = self
            .core
            .users()
            .list(
                app.pool_id,
                &UserQuery {
                    email_contains,
                    after,
                    limit: page_size,
                },
            )
            .await?;
        let next_after = (users.len() == page_size as usize)
            .then(|| users.last().map(|u| u.id.to_string()))
            .flatten();
        Ok(UserPage {
            users: users.into_iter().map(Into::into).collect(),
            next_after,
        })
    }

    /// Apply a patch to a user. Disabling revokes all their sessions.
    ///
    /// Errors: `not_found`, `invalid_email`, `invalid_input`, `email_taken`.
    pub async fn update_user(&self, user_id: String, patch: UserPatch) -> Result<User> {
        let user_id = parse_id("user_id", &user_id)?;
        let patch = patch.try_into()?;
        Ok(self.core.users().update(user_id, &patch).await?.into())
    }

    /// Delete a user and everything keyed to them; the email is free again.
    pub async fn delete_user(&self, user_id: String) -> Result<()> {
        let user_id = parse_id("user_id", &user_id)?;
        self.core.users().delete(user_id).await?;
        Ok(())
    }

    // --- apps -----------------------------------------------------------

    /// The `default` app.
    pub async fn default_app(&self) -> Result<App> {
        Ok(self.core.apps().default_app().await?.into())
    }

    /// An app by id or slug (`not_found` if neither matches).
    pub async fn get_app(&self, app: String) -> Result<App> {
        Ok(self.core.apps().resolve(&app).await?.into())
    }

    /// All apps, or those of one pool, oldest first.
    #[uniffi::method(default(pool_id = None))]
    pub async fn list_apps(&self, pool_id: Option<String>) -> Result<Vec<App>> {
        let pool = pool_id.map(|p| parse_id("pool_id", &p)).transpose()?;
        let apps = self.core.apps().list(pool).await?;
        Ok(apps.into_iter().map(Into::into).collect())
    }

    /// Create an app in the default pool (or `pool_id`), with default settings
    /// unless `settings` is given.
    ///
    /// Errors: `invalid_input`, `conflict` (slug taken), `not_found` (pool).
    #[uniffi::method(default(settings = None, pool_id = None))]
    pub async fn create_app(
        &self,
        slug: String,
        name: String,
        settings: Option<AppSettings>,
        pool_id: Option<String>,
    ) -> Result<App> {
        let new = NewApp {
            slug,
            name,
            pool_id: pool_id.map(|p| parse_id("pool_id", &p)).transpose()?,
            settings: settings
                .map(|s| s.apply_to(tessera_core::model::AppSettings::default()))
                .transpose()?,
        };
        Ok(self.core.apps().create(new).await?.into())
    }

    /// Change an app's name, slug or settings (`app` = id or slug); `null`
    /// leaves a part as it is. What the `AppSettings` record cannot express
    /// (mail templates) is kept from the app's current settings.
    ///
    /// Errors: `not_found`, `invalid_input`, `conflict` (slug taken).
    #[uniffi::method(default(name = None, slug = None, settings = None))]
    pub async fn update_app(
        &self,
        app: String,
        name: Option<String>,
        slug: Option<String>,
        settings: Option<AppSettings>,
    ) -> Result<App> {
        let apps = self.core.apps();
        let current = apps.resolve(&app).await?;
        let settings = settings
            .map(|s| s.apply_to(current.settings.clone()))
            .transpose()?;
        Ok(apps.update(current.id, name, slug, settings).await?.into())
    }

    // --- API keys -------------------------------------------------------

    /// Create an admin API key with `scopes` (`admin`, `users:read`,
    /// `users:write`, `apps:read`, `apps:write`, `audit:read`). The secret is
    /// in the result and nowhere else.
    #[uniffi::method(default(expires_at = None))]
    pub async fn create_api_key(
        &self,
        name: String,
        scopes: Vec<String>,
        expires_at: Option<std::time::SystemTime>,
    ) -> Result<CreatedApiKey> {
        let created = self
            .core
            .api_keys()
            .create(&name, &scopes, expires_at.map(chrono_time))
            .await?;
        Ok(CreatedApiKey {
            key: created.key.into(),
            secret: created.secret,
        })
    }

    /// The live key for `secret`, checked to carry `scope` (or `admin`).
    ///
    /// Errors: `unauthenticated` (unknown, revoked or expired), `forbidden`.
    pub async fn authenticate_api_key(&self, secret: String, scope: String) -> Result<ApiKey> {
        Ok(self
            .core
            .api_keys()
            .authenticate(&secret, &scope)
            .await?
            .into())
    }

    /// All API keys (without secrets), oldest first.
    pub async fn list_api_keys(&self) -> Result<Vec<ApiKey>> {
        let keys = self.core.api_keys().list().await?;
        Ok(keys.into_iter().map(Into::into).collect())
    }

    /// Revoke an API key (idempotent).
    pub async fn revoke_api_key(&self, id: String) -> Result<()> {
        let id = parse_id("id", &id)?;
        self.core.api_keys().revoke(id).await?;
        Ok(())
    }

    // --- audit ----------------------------------------------------------

    /// Audit events matching `query` (all when `null`), newest first.
    #[uniffi::method(default(query = None))]
    pub async fn list_audit_events(&self, query: Option<AuditQuery>) -> Result<Vec<AuditEvent>> {
        let query = query.unwrap_or_default().try_into()?;
        let events = self.core.audit().list(&query).await?;
        Ok(events.into_iter().map(Into::into).collect())
    }

    // --- tokens and keys ------------------------------------------------

    /// The published key set as JSON text: `{"keys": [...]}`.
    pub async fn jwks(&self) -> Result<String> {
        Ok(self.core.tokens().jwks().await?.to_string())
    }

    /// Rotate the token signing key (to `alg`: `EdDSA`, `ES256` or `RS256`;
    /// default the configured one). The old key stays published until its
    /// tokens expire. Returns the new key id.
    #[uniffi::method(default(alg = None))]
    pub async fn rotate_signing_key(&self, alg: Option<String>) -> Result<String> {
        let alg = alg
            .map(|a| {
                SigningAlg::parse(&a).ok_or_else(|| {
                    TesseraError::invalid("alg", "alg must be EdDSA, ES256 or RS256")
                })
            })
            .transpose()?;
        Ok(self.core.tokens().rotate(alg).await?)
    }

    // --- maintenance ----------------------------------------------------

    /// Delete what has ended (sessions older than `retention_secs` past their
    /// end, expired one-time tokens, stale counters, unpublished keys).
    pub async fn sweep(&self, retention_secs: i64) -> Result<SweepReport> {
        if retention_secs < 0 {
            return Err(TesseraError::invalid(
                "retention_secs",
                "must not be negative",
            ));
        }
        let retention = chrono::Duration::try_seconds(retention_secs)
            .ok_or_else(|| TesseraError::invalid("retention_secs", "too large"))?;
        Ok(self.core.sweep(retention).await?.into())
    }

    /// BENCHMARK SUPPORT: validate `session_token` `iterations` times in a
    /// Rust loop and return the elapsed nanoseconds, so a foreign benchmark
    /// can compare its own per-call cost with the core's in the same process.
    pub async fn bench_validate_session_native(
        &self,
        session_token: String,
        iterations: i64,
    ) -> Result<i64> {
        let sessions = self.core.sessions();
        let start = std::time::Instant::now();
        for _ in 0..iterations {
            std::hint::black_box(sessions.validate(&session_token).await?);
        }
        Ok(i64::try_from(start.elapsed().as_nanos()).unwrap_or(i64::MAX))
    }
}

/// A fresh random key-encryption key, base64 (for development and tests; in
/// production it comes from configuration and never changes casually).
#[uniffi::export]
pub fn generate_key_encryption_key() -> String {
    KeyRing::generate_base64()
}

/// The settings a new app gets by default; change what you need.
#[uniffi::export]
pub fn default_app_settings() -> AppSettings {
    tessera_core::model::AppSettings::default().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn open() -> Arc<Tessera> {
        let options = OpenOptions {
            issuer: None,
            old_key_encryption_keys: None,
            migrate: true,
            hash_concurrency: None,
            insecure_fast_password_hashing_for_tests: true,
            smtp_url: None,
            mail_from: None,
            development: false,
            webauthn_rp_id: None,
            webauthn_origins: None,
        };
        Tessera::open(
            "memory://".into(),
            generate_key_encryption_key(),
            Some(options),
        )
        .await
        .expect("open memory://")
    }

    #[tokio::test]
    async fn flows_cross_the_binding_types() {
        let t = open().await;
        let pw = "correct horse battery staple".to_owned();
        let s = t
            .sign_up("ada@example.com".into(), pw.clone(), None, None, None)
            .await
            .unwrap()
            .expect("signed in straight away");
        let token = s.session_token.clone().unwrap();
        assert_eq!(
            t.validate_session(token.clone()).await.unwrap().user,
            s.user
        );
        let e = t
            .sign_in_password("ada@example.com".into(), "wrong".into(), None, None)
            .await
            .unwrap_err();
        assert!(matches!(e, TesseraError::InvalidCredentials { .. }));
        assert_eq!(e.code(), "invalid_credentials");
        let ns = t.bench_validate_session_native(token, 10).await.unwrap();
        assert!(ns > 0);
        let settings = default_app_settings();
        let back = settings
            .clone()
            .apply_to(tessera_core::model::AppSettings::default())
            .unwrap();
        assert_eq!(AppSettings::from(back), settings);
    }

    /// Regression: converting the settings record back used to reset what it
    /// does not carry (mail templates) to the defaults on every update.
    #[tokio::test]
    async fn update_app_keeps_what_the_record_cannot_express() {
        let t = open().await;
        let app = t.core.apps().default_app().await.unwrap();
        let mut settings = app.settings.clone();
        settings.mail_templates.insert(
            "magic_link".into(),
            tessera_core::model::MailTemplate {
                subject: "Your link".into(),
                text: "{{ link }}".into(),
                html: "<a href=\"{{ link }}\">sign in</a>".into(),
            },
        );
        t.core
            .apps()
            .update(app.id, None, None, Some(settings))
            .await
            .unwrap();
        let mut record = t.default_app().await.unwrap().settings;
        record.mfa = MfaPolicy::Required;
        record.link_accounts_by_email = false;
        record.webauthn_rp_id = Some("example.com".into());
        record.webauthn_origins = vec!["https://app.example.com".into()];
        let updated = t
            .update_app("default".into(), None, None, Some(record.clone()))
            .await
            .unwrap();
        assert_eq!(updated.settings, record);
        let stored = t.core.apps().default_app().await.unwrap().settings;
        assert_eq!(stored.mfa, tessera_core::model::MfaPolicy::Required);
        assert!(!stored.link_accounts_by_email);
        assert_eq!(stored.mail_templates["magic_link"].subject, "Your link");
    }

    #[test]
    fn secrets_stay_out_of_debug() {
        let c = MfaChallenge {
            mfa_token: "tsf_secret".into(),
            methods: vec!["totp".into()],
        };
        let e = TesseraError::MfaRequired {
            code: "mfa_required".into(),
            detail: "A second factor is required.".into(),
            challenge: c.clone(),
        };
        assert!(!format!("{c:?} {e:?} {e}").contains("tsf_secret"));
    }
}
