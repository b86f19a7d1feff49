//! The records the binding passes by value, and their conversions from the
//! core's types.
//!
//! Ids cross as strings (UUIDs), times as `SystemTime` (Kotlin
//! `java.time.Instant`), free-form JSON as text. Kotlin makes each record a
//! `data class`; records that carry secrets ([`AuthSession`],
//! [`CreatedApiKey`], [`MfaChallenge`], [`TotpEnrollment`], …) export their
//! Rust `Debug` (`#[uniffi::export(Debug)]`), which Kotlin uses as
//! `toString()`, so printing or logging them never shows a secret; the
//! secrets are still plain properties to read.

use std::time::SystemTime;

use chrono::{DateTime, Utc};
use tessera_core::model;
use uuid::Uuid;

use crate::TesseraError;

pub(crate) fn time(t: DateTime<Utc>) -> SystemTime {
    t.into()
}

pub(crate) fn chrono_time(t: SystemTime) -> DateTime<Utc> {
    t.into()
}

/// Parse a UUID argument; `invalid_input` naming `field` if malformed.
pub(crate) fn parse_id(field: &str, id: &str) -> Result<Uuid, TesseraError> {
    id.trim()
        .parse()
        .map_err(|_| TesseraError::invalid(field, format!("{field} must be a UUID")))
}

fn parse_json(field: &str, text: &str) -> Result<serde_json::Value, TesseraError> {
    serde_json::from_str(text)
        .map_err(|e| TesseraError::invalid(field, format!("{field} is not valid JSON: {e}")))
}

/// Options for [`crate::Tessera::open`]; every field has a default.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OpenOptions {
    /// The token issuer, the public base URL (default `http://localhost:8080`).
    #[uniffi(default)]
    pub issuer: Option<String>,
    /// Retired key-encryption keys still accepted for decryption, base64,
    /// comma-separated (during KEK rotation).
    #[uniffi(default)]
    pub old_key_encryption_keys: Option<String>,
    /// Run storage migrations on open (default true).
    #[uniffi(default = true)]
    pub migrate: bool,
    /// How many password hashes may run at once (default: the number of cores).
    #[uniffi(default)]
    pub hash_concurrency: Option<i32>,
    /// TEST ONLY: hash passwords with cheap argon2 parameters
    /// (`PasswordParams::insecure_fast_for_tests`). Never set it for real
    /// passwords: the hashes it stores are easy to crack.
    #[uniffi(default = false)]
    pub insecure_fast_password_hashing_for_tests: bool,
    /// SMTP server for the email flows' mail (`smtp://user:pass@host:587`,
    /// `smtps://…`, `?tls=none` for a loopback relay); without one, mail is
    /// written to the log.
    #[uniffi(default)]
    pub smtp_url: Option<String>,
    /// Sender address (default `Tessera <no-reply@localhost>`).
    #[uniffi(default)]
    pub mail_from: Option<String>,
    /// Development mode (the server's `TESSERA_DEV`): OAuth provider
    /// endpoints may be plain `http://` on loopback hosts. Never in production.
    #[uniffi(default = false)]
    pub development: bool,
    /// Install-wide WebAuthn relying-party id for passkeys (apps may
    /// override it); default: the issuer's host.
    #[uniffi(default)]
    pub webauthn_rp_id: Option<String>,
    /// Install-wide origins allowed to run WebAuthn ceremonies (apps may
    /// override them); default: the issuer's origin.
    #[uniffi(default)]
    pub webauthn_origins: Option<Vec<String>>,
}

/// Who is calling: kept on sessions and audit events. Both fields optional;
/// an `ip` that is not an IP address is dropped, and the user agent is
/// trimmed, cleaned of control and format characters and cut to 512 bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct ClientInfo {
    /// The client's IP address.
    #[uniffi(default)]
    pub ip: Option<String>,
    /// The client's user agent.
    #[uniffi(default)]
    pub user_agent: Option<String>,
}

impl From<ClientInfo> for model::ClientInfo {
    fn from(c: ClientInfo) -> Self {
        model::ClientInfo::parse(c.ip.as_deref(), c.user_agent.as_deref())
    }
}

/// An account in a pool.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct User {
    /// Unique id (UUIDv7; the JWT `sub`).
    pub id: String,
    /// The pool the user belongs to.
    pub pool_id: String,
    /// Email address, normalised (trimmed, lower case); unique per pool.
    pub email: String,
    /// Whether the user proved control of the address.
    pub email_verified: bool,
    /// Display name.
    pub name: Option<String>,
    /// Application-defined metadata, a JSON object as text.
    pub metadata_json: String,
    /// A disabled user cannot sign in and their sessions do not validate.
    pub disabled: bool,
    /// When the account was created.
    pub created_at: SystemTime,
    /// When the account was last changed.
    pub updated_at: SystemTime,
}

impl From<model::User> for User {
    fn from(u: model::User) -> Self {
        User {
            id: u.id.to_string(),
            pool_id: u.pool_id.to_string(),
            email: u.email,
            email_verified: u.email_verified,
            name: u.name,
            metadata_json: u.metadata.to_string(),
            disabled: u.disabled,
            created_at: time(u.created_at),
            updated_at: time(u.updated_at),
        }
    }
}

/// A signed-in session (one per sign-in, on one app).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Session {
    /// Unique id (the JWT `sid`).
    pub id: String,
    /// The user's pool.
    pub pool_id: String,
    /// The app signed in to.
    pub app_id: String,
    /// Who signed in.
    pub user_id: String,
    /// How the user authenticated (RFC 8176 values, e.g. `pwd`).
    pub amr: Vec<String>,
    /// User agent at sign-in.
    pub user_agent: Option<String>,
    /// Client IP at sign-in.
    pub ip: Option<String>,
    /// Sign-in time.
    pub created_at: SystemTime,
    /// Last validation or refresh (updated at most once a minute).
    pub last_seen_at: SystemTime,
    /// Seconds of inactivity after which the session ends.
    pub idle_timeout_secs: i64,
    /// Absolute end of the session.
    pub expires_at: SystemTime,
    /// When it was revoked.
    pub revoked_at: Option<SystemTime>,
    /// Why it was revoked (`sign_out`, `refresh_token_reused`, …).
    pub revoke_reason: Option<String>,
}

impl From<model::Session> for Session {
    fn from(s: model::Session) -> Self {
        Session {
            id: s.id.to_string(),
            pool_id: s.pool_id.to_string(),
            app_id: s.app_id.to_string(),
            user_id: s.user_id.to_string(),
            amr: s.amr,
            user_agent: s.user_agent,
            ip: s.ip,
            created_at: time(s.created_at),
            last_seen_at: time(s.last_seen_at),
            idle_timeout_secs: s.idle_timeout_secs,
            expires_at: time(s.expires_at),
            revoked_at: s.revoked_at.map(time),
            revoke_reason: s.revoke_reason,
        }
    }
}

/// A signed-in session and the secrets that carry it. `toString()` shows
/// neither token.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
#[uniffi::export(Debug)]
pub struct AuthSession {
    /// Access JWT (`Authorization: Bearer …`).
    pub access_token: String,
    /// Refresh token (`tsr_…`), spent on use: keep the one each refresh returns.
    pub refresh_token: String,
    /// Session token (`tss_…`) for a cookie; issued at sign-in, not on refresh.
    pub session_token: Option<String>,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// The user.
    pub user: User,
    /// The session.
    pub session: Session,
}

impl std::fmt::Debug for AuthSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secrets.
        f.debug_struct("AuthSession")
            .field("user", &self.user.id)
            .field("session", &self.session.id)
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

impl From<tessera_core::AuthSession> for AuthSession {
    fn from(a: tessera_core::AuthSession) -> Self {
        AuthSession {
            access_token: a.access_token,
            refresh_token: a.refresh_token,
            session_token: a.session_token,
            expires_in: a.expires_in,
            user: a.user.into(),
            session: a.session.into(),
        }
    }
}

/// A validated session and its user.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SessionInfo {
    /// The session.
    pub session: Session,
    /// Its user.
    pub user: User,
}

/// The claims of a Tessera access token (RFC 9068).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AccessClaims {
    /// Issuer: the install's base URL.
    pub iss: String,
    /// Subject: the user id.
    pub sub: String,
    /// Audience: the app id.
    pub aud: String,
    /// The app id again, as RFC 9068 asks.
    pub client_id: String,
    /// Expiry (Unix seconds).
    pub exp: i64,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Not before (Unix seconds).
    pub nbf: i64,
    /// Unique token id.
    pub jti: String,
    /// Session id.
    pub sid: String,
    /// Pool id.
    pub pool: String,
    /// Authentication methods (RFC 8176).
    pub amr: Vec<String>,
    /// Roles.
    pub roles: Vec<String>,
    /// The user's email.
    pub email: Option<String>,
    /// Whether the email is verified.
    pub email_verified: bool,
}

impl From<tessera_core::AccessClaims> for AccessClaims {
    fn from(c: tessera_core::AccessClaims) -> Self {
        AccessClaims {
            iss: c.iss,
            sub: c.sub,
            aud: c.aud,
            client_id: c.client_id,
            exp: c.exp,
            iat: c.iat,
            nbf: c.nbf,
            jti: c.jti,
            sid: c.sid,
            pool: c.pool,
            amr: c.amr,
            roles: c.roles,
            email: c.email,
            email_verified: c.email_verified,
        }
    }
}

/// A validated access token: its claims, and its session and user (checked live).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AccessTokenInfo {
    /// The session the token belongs to.
    pub session: Session,
    /// Its user.
    pub user: User,
    /// The token's claims.
    pub claims: AccessClaims,
}

/// Whether an app asks for a second factor at sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum MfaPolicy {
    /// Asked only of users who enrolled a second factor.
    Optional,
    /// Asked of everyone; users without one enrol TOTP at their next sign-in
    /// (the challenge's methods are then `["totp_enroll"]`).
    Required,
}

impl From<model::MfaPolicy> for MfaPolicy {
    fn from(p: model::MfaPolicy) -> Self {
        match p {
            model::MfaPolicy::Optional => MfaPolicy::Optional,
            model::MfaPolicy::Required => MfaPolicy::Required,
        }
    }
}

impl From<MfaPolicy> for model::MfaPolicy {
    fn from(p: MfaPolicy) -> Self {
        match p {
            MfaPolicy::Optional => model::MfaPolicy::Optional,
            MfaPolicy::Required => model::MfaPolicy::Required,
        }
    }
}

/// Per-app settings; start from [`crate::default_app_settings`] (or an app's
/// `settings`) and change what you need (`.copy(…)` in Kotlin). Mail
/// templates are not exposed: apps created through the binding get the
/// default ones, and [`crate::Tessera::update_app`] keeps an app's own.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AppSettings {
    /// Enabled sign-in methods: `password`, `email_code`, `magic_link`, `oauth`, `passkey`.
    pub sign_in_methods: Vec<String>,
    /// A session ends after this many seconds without use.
    pub session_idle_timeout_secs: i64,
    /// A session ends this many seconds after sign-in, used or not.
    pub session_lifetime_secs: i64,
    /// Lifetime of access tokens, in seconds.
    pub access_token_ttl_secs: i64,
    /// Seconds in which a spent refresh token is answered with the same
    /// successor instead of counting as reuse (0 to 10).
    pub refresh_reuse_grace_secs: i64,
    /// Where sign-in flows may send the browser back to (exact match).
    pub redirect_uris: Vec<String>,
    /// Browser origins allowed to call the JSON API.
    pub cors_origins: Vec<String>,
    /// Lowest accepted zxcvbn score (0 to 4) for new passwords.
    pub min_password_score: i32,
    /// Whether sign-in waits until the email address is verified.
    pub require_verified_email: bool,
    /// Whether a "send" flow (reset, code, link) for an address without an
    /// account sends a short note saying so.
    pub notify_unknown_addresses: bool,
    /// Whether a second factor is optional or required of everyone.
    pub mfa: MfaPolicy,
    /// Whether a first sign-in through an external provider links to an
    /// existing account with the same (provider-verified) email.
    pub link_accounts_by_email: bool,
    /// WebAuthn relying-party id for passkeys (a registrable domain, e.g.
    /// `example.com`); `null` uses the install-wide default.
    pub webauthn_rp_id: Option<String>,
    /// Origins allowed to run WebAuthn ceremonies; empty uses the install-wide default.
    pub webauthn_origins: Vec<String>,
}

impl From<model::AppSettings> for AppSettings {
    fn from(s: model::AppSettings) -> Self {
        AppSettings {
            sign_in_methods: s
                .sign_in_methods
                .iter()
                .map(|m| match serde_json::to_value(m) {
                    Ok(serde_json::Value::String(s)) => s,
                    _ => format!("{m:?}"),
                })
                .collect(),
            session_idle_timeout_secs: s.session_idle_timeout_secs,
            session_lifetime_secs: s.session_lifetime_secs,
            access_token_ttl_secs: s.access_token_ttl_secs,
            refresh_reuse_grace_secs: s.refresh_reuse_grace_secs,
            redirect_uris: s.redirect_uris,
            cors_origins: s.cors_origins,
            min_password_score: s.min_password_score.into(),
            require_verified_email: s.require_verified_email,
            notify_unknown_addresses: s.notify_unknown_addresses,
            mfa: s.mfa.into(),
            link_accounts_by_email: s.link_accounts_by_email,
            webauthn_rp_id: s.webauthn_rp_id,
            webauthn_origins: s.webauthn_origins,
        }
    }
}

impl AppSettings {
    /// These settings laid over `base`: every field this record carries
    /// replaces `base`'s, and what it cannot express (mail templates, and
    /// settings the core adds before the binding learns them) stays as in
    /// `base` — an app's current settings on update, the defaults on create.
    pub(crate) fn apply_to(
        self,
        base: model::AppSettings,
    ) -> Result<model::AppSettings, TesseraError> {
        let sign_in_methods = self
            .sign_in_methods
            .into_iter()
            .map(|m| {
                serde_json::from_value(serde_json::Value::String(m.clone())).map_err(|_| {
                    TesseraError::invalid(
                        "sign_in_methods",
                        format!("unknown sign-in method {m:?}"),
                    )
                })
            })
            .collect::<Result<Vec<model::SignInMethod>, _>>()?;
        Ok(model::AppSettings {
            sign_in_methods,
            session_idle_timeout_secs: self.session_idle_timeout_secs,
            session_lifetime_secs: self.session_lifetime_secs,
            access_token_ttl_secs: self.access_token_ttl_secs,
            refresh_reuse_grace_secs: self.refresh_reuse_grace_secs,
            redirect_uris: self.redirect_uris,
            cors_origins: self.cors_origins,
            min_password_score: u8::try_from(self.min_password_score)
                .map_err(|_| TesseraError::invalid("min_password_score", "must be 0 to 4"))?,
            require_verified_email: self.require_verified_email,
            notify_unknown_addresses: self.notify_unknown_addresses,
            mfa: self.mfa.into(),
            link_accounts_by_email: self.link_accounts_by_email,
            webauthn_rp_id: self.webauthn_rp_id,
            webauthn_origins: self.webauthn_origins,
            ..base
        })
    }
}

/// An application that signs users in from one pool.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct App {
    /// Unique id; also the OAuth `client_id` and the JWT `aud`.
    pub id: String,
    /// The pool whose users sign in to this app.
    pub pool_id: String,
    /// Unique, URL-safe name (`default` for the first app).
    pub slug: String,
    /// Display name.
    pub name: String,
    /// Settings.
    pub settings: AppSettings,
    /// When it was created.
    pub created_at: SystemTime,
    /// When it was last changed.
    pub updated_at: SystemTime,
}

impl From<model::App> for App {
    fn from(a: model::App) -> Self {
        App {
            id: a.id.to_string(),
            pool_id: a.pool_id.to_string(),
            slug: a.slug,
            name: a.name,
            settings: a.settings.into(),
            created_at: time(a.created_at),
            updated_at: time(a.updated_at),
        }
    }
}

/// A partial update of a user; unset fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct UserPatch {
    /// New email (normalised; `email_verified` becomes false unless also set).
    #[uniffi(default)]
    pub email: Option<String>,
    /// New verified flag.
    #[uniffi(default)]
    pub email_verified: Option<bool>,
    /// New display name.
    #[uniffi(default)]
    pub name: Option<String>,
    /// Clear the display name (wins over `name`).
    #[uniffi(default = false)]
    pub clear_name: bool,
    /// New metadata, a JSON object as text (replaces the old document).
    #[uniffi(default)]
    pub metadata_json: Option<String>,
    /// Disable (revokes every session) or enable.
    #[uniffi(default)]
    pub disabled: Option<bool>,
}

impl TryFrom<UserPatch> for model::UserPatch {
    type Error = TesseraError;

    fn try_from(p: UserPatch) -> Result<Self, TesseraError> {
        Ok(model::UserPatch {
            email: p.email,
            email_verified: p.email_verified,
            name: if p.clear_name {
                Some(None)
            } else {
                p.name.map(Some)
            },
            metadata: p
                .metadata_json
                .map(|m| parse_json("metadata_json", &m))
                .transpose()?,
            disabled: p.disabled,
        })
    }
}

/// One page of users.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct UserPage {
    /// The users, ordered by id.
    pub users: Vec<User>,
    /// Pass as `after` for the next page; `None` when this page was the last.
    pub next_after: Option<String>,
}

/// An admin API key (without its secret).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ApiKey {
    /// Unique id.
    pub id: String,
    /// A label for people.
    pub name: String,
    /// The first characters of the key (`tsk_AbCd`).
    pub hint: String,
    /// What the key may do (`admin`, `users:read`, …).
    pub scopes: Vec<String>,
    /// When it was created.
    pub created_at: SystemTime,
    /// When it was last used (updated at most once a minute).
    pub last_used_at: Option<SystemTime>,
    /// When it stops working, if ever.
    pub expires_at: Option<SystemTime>,
    /// When it was revoked.
    pub revoked_at: Option<SystemTime>,
}

impl From<model::ApiKey> for ApiKey {
    fn from(k: model::ApiKey) -> Self {
        ApiKey {
            id: k.id.to_string(),
            name: k.name,
            hint: k.hint,
            scopes: k.scopes,
            created_at: time(k.created_at),
            last_used_at: k.last_used_at.map(time),
            expires_at: k.expires_at.map(time),
            revoked_at: k.revoked_at.map(time),
        }
    }
}

/// A key just created: the secret is here and nowhere else, ever.
/// `toString()` does not show it.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
#[uniffi::export(Debug)]
pub struct CreatedApiKey {
    /// The stored record.
    pub key: ApiKey,
    /// The secret (`tsk_…`), shown once.
    pub secret: String,
}

impl std::fmt::Debug for CreatedApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedApiKey")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

/// Filters and paging for [`crate::Tessera::list_audit_events`]; every field
/// optional. Results come newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct AuditQuery {
    /// Only this user's events.
    #[uniffi(default)]
    pub user_id: Option<String>,
    /// Only this app's events.
    #[uniffi(default)]
    pub app_id: Option<String>,
    /// Only this pool's events.
    #[uniffi(default)]
    pub pool_id: Option<String>,
    /// Only events of this type (`sign_in.failed`, …).
    #[uniffi(default)]
    pub event_type: Option<String>,
    /// Only events at or after this time.
    #[uniffi(default)]
    pub since: Option<SystemTime>,
    /// Only events before this time.
    #[uniffi(default)]
    pub until: Option<SystemTime>,
    /// Only events older than this event id (the last id of the previous page).
    #[uniffi(default)]
    pub before: Option<String>,
    /// Page size: 0 means 100; at most 1000.
    #[uniffi(default = 0)]
    pub limit: i32,
}

impl TryFrom<AuditQuery> for model::AuditQuery {
    type Error = TesseraError;

    fn try_from(q: AuditQuery) -> Result<Self, TesseraError> {
        let id = |field: &str, v: Option<String>| v.map(|s| parse_id(field, &s)).transpose();
        Ok(model::AuditQuery {
            user_id: id("user_id", q.user_id)?,
            app_id: id("app_id", q.app_id)?,
            pool_id: id("pool_id", q.pool_id)?,
            kind: q.event_type,
            since: q.since.map(chrono_time),
            until: q.until.map(chrono_time),
            before: id("before", q.before)?,
            limit: u32::try_from(q.limit)
                .map_err(|_| TesseraError::invalid("limit", "limit must not be negative"))?,
        })
    }
}

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AuditEvent {
    /// Unique id (UUIDv7, so ids sort by time).
    pub id: String,
    /// What happened (`user.signed_up`, `sign_in.failed`, …).
    pub event_type: String,
    /// The pool concerned.
    pub pool_id: Option<String>,
    /// The app concerned.
    pub app_id: Option<String>,
    /// The user concerned.
    pub user_id: Option<String>,
    /// The session concerned.
    pub session_id: Option<String>,
    /// Client IP.
    pub ip: Option<String>,
    /// Client user agent.
    pub user_agent: Option<String>,
    /// Event details as JSON text (`{"reason":"invalid_password"}`); never a secret.
    pub data_json: String,
    /// When it happened.
    pub at: SystemTime,
}

impl From<model::AuditEvent> for AuditEvent {
    fn from(e: model::AuditEvent) -> Self {
        let s = |id: Option<Uuid>| id.map(|i| i.to_string());
        AuditEvent {
            id: e.id.to_string(),
            event_type: e.kind,
            pool_id: s(e.pool_id),
            app_id: s(e.app_id),
            user_id: s(e.user_id),
            session_id: s(e.session_id),
            ip: e.ip,
            user_agent: e.user_agent,
            data_json: e.data.to_string(),
            at: time(e.at),
        }
    }
}

/// What [`crate::Tessera::sweep`] deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct SweepReport {
    /// Ended sessions.
    pub sessions: i64,
    /// Expired one-time tokens.
    pub tokens: i64,
    /// Stale failure counters.
    pub throttles: i64,
    /// Retired, unpublished signing keys.
    pub keys: i64,
}

fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl From<tessera_core::SweepReport> for SweepReport {
    fn from(r: tessera_core::SweepReport) -> Self {
        SweepReport {
            sessions: count(r.sessions),
            tokens: count(r.tokens),
            throttles: count(r.throttles),
            keys: count(r.keys),
        }
    }
}

/// A sign-in that needs a second factor: carried by
/// `TesseraException.MfaRequired` (`e.mfaToken`, `e.methods` in Kotlin).
/// `toString()` does not show the token.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
#[uniffi::export(Debug)]
pub struct MfaChallenge {
    /// Short-lived token (`tsf_…`, 5 minutes) to present with the second factor.
    pub mfa_token: String,
    /// How it can be completed: `totp`, `recovery_code`, `passkey`, or
    /// `totp_enroll` (the app requires a second factor the user lacks).
    pub methods: Vec<String>,
}

impl std::fmt::Debug for MfaChallenge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MfaChallenge")
            .field("methods", &self.methods)
            .finish_non_exhaustive()
    }
}

impl From<tessera_core::MfaChallenge> for MfaChallenge {
    fn from(c: tessera_core::MfaChallenge) -> Self {
        MfaChallenge {
            mfa_token: c.mfa_token,
            methods: c.methods.iter().map(|m| m.as_str().to_owned()).collect(),
        }
    }
}
