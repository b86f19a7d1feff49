//! Domain types: pools, apps, users, sessions, credentials, identities, tokens,
//! signing keys, audit events, the events a change records, webhook
//! endpoints and deliveries.
//!
//! These are plain data, shared by the flows and the store traits. They carry no
//! behaviour that needs a store; the few methods here answer questions about a
//! value itself (is this session still active at `now`?).

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::crypto::TokenHash;

mod events;
mod webhooks;

pub use events::*;
pub use webhooks::*;

/// Identifies a user pool.
pub type PoolId = Uuid;
/// Identifies an app (also its OAuth `client_id`).
pub type AppId = Uuid;
/// Identifies a user (the JWT `sub`).
pub type UserId = Uuid;
/// Identifies a session (the JWT `sid`).
pub type SessionId = Uuid;

/// Slug of the pool and app every install starts with.
pub const DEFAULT_SLUG: &str = "default";

/// Longest accepted email address, in bytes (RFC 5321 path limit).
pub const MAX_EMAIL_LEN: usize = 254;
/// Longest accepted display name, in characters.
pub const MAX_NAME_LEN: usize = 200;
/// Longest accepted slug.
pub const MAX_SLUG_LEN: usize = 64;
/// Largest accepted user metadata document, serialised, in bytes.
pub const MAX_METADATA_LEN: usize = 16 * 1024;
/// Longest user agent kept (on sessions and audit events), in bytes; longer
/// ones are cut on a character boundary (see [`ClientInfo`]).
pub const MAX_USER_AGENT_LEN: usize = 512;

/// A set of users. Apps in one pool share its users (single sign-on).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pool {
    /// Unique id.
    pub id: PoolId,
    /// Unique, URL-safe name.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// A way of signing in that an app may enable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignInMethod {
    /// Email and password.
    Password,
    /// A six-digit code sent by email.
    EmailCode,
    /// A link sent by email.
    MagicLink,
    /// An external OAuth or OpenID Connect provider.
    Oauth,
    /// A WebAuthn passkey.
    Passkey,
}

/// Per-app settings. Every field has a safe default, so `{}` is a valid document
/// and settings added later do not break stored apps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AppSettings {
    /// Enabled sign-in methods.
    pub sign_in_methods: Vec<SignInMethod>,
    /// A session ends after this many seconds without use.
    pub session_idle_timeout_secs: i64,
    /// A session ends this many seconds after sign-in, used or not.
    pub session_lifetime_secs: i64,
    /// Lifetime of access tokens, in seconds.
    pub access_token_ttl_secs: i64,
    /// Seconds after a refresh in which the spent refresh token is answered with
    /// the same successor instead of being treated as reuse (0 to 10).
    pub refresh_reuse_grace_secs: i64,
    /// Where sign-in flows may send the browser back to (exact match).
    pub redirect_uris: Vec<String>,
    /// Browser origins allowed to call the JSON API.
    pub cors_origins: Vec<String>,
    /// Lowest accepted zxcvbn score (0 to 4) for new passwords.
    pub min_password_score: u8,
    /// Mail templates that replace the built-in ones, by kind
    /// (`verify_email`, `password_reset`, `password_changed`, `sign_in_code`,
    /// `magic_link`, `email_change`, `email_change_notice`, `email_changed`,
    /// `unknown_address`).
    pub mail_templates: std::collections::BTreeMap<String, MailTemplate>,
    /// Whether a "send" flow for an address without an account sends a short
    /// note saying so (off: nothing is sent).
    pub notify_unknown_addresses: bool,
    /// Whether sign-in waits until the email address is verified.
    pub require_verified_email: bool,
    /// Whether a second factor is optional (used when the user enrolled one)
    /// or required of everyone (enrolment is forced at the next sign-in).
    pub mfa: MfaPolicy,
    /// Whether a first sign-in through an external provider links to an
    /// existing account with the same email, when the provider asserts the
    /// email is verified (and the account's own email is verified). Off: the
    /// user must sign in to the account first and link the provider there.
    pub link_accounts_by_email: bool,
    /// WebAuthn relying-party id for passkeys (a registrable domain, e.g.
    /// `example.com`); `None` uses the install-wide default.
    pub webauthn_rp_id: Option<String>,
    /// Origins allowed to run WebAuthn ceremonies (e.g. `https://app.example.com`);
    /// empty uses the install-wide default.
    pub webauthn_origins: Vec<String>,
}

/// Whether an app asks for a second factor at sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum MfaPolicy {
    /// Asked only of users who enrolled a second factor.
    #[default]
    Optional,
    /// Asked of everyone; users without one enrol at their next sign-in.
    Required,
}

/// Most seconds a spent refresh token may be answered consistently.
pub const MAX_REFRESH_GRACE_SECS: i64 = 10;

impl Default for AppSettings {
    fn default() -> Self {
        AppSettings {
            sign_in_methods: vec![
                SignInMethod::Password,
                SignInMethod::EmailCode,
                SignInMethod::MagicLink,
                SignInMethod::Oauth,
                SignInMethod::Passkey,
            ],
            session_idle_timeout_secs: 7 * 24 * 3600,
            session_lifetime_secs: 30 * 24 * 3600,
            access_token_ttl_secs: 15 * 60,
            refresh_reuse_grace_secs: MAX_REFRESH_GRACE_SECS,
            redirect_uris: Vec::new(),
            cors_origins: Vec::new(),
            min_password_score: 2,
            require_verified_email: false,
            mail_templates: Default::default(),
            notify_unknown_addresses: false,
            mfa: MfaPolicy::Optional,
            link_accounts_by_email: true,
            webauthn_rp_id: None,
            webauthn_origins: Vec::new(),
        }
    }
}

impl AppSettings {
    /// Whether `method` is enabled.
    pub fn allows(&self, method: SignInMethod) -> bool {
        self.sign_in_methods.contains(&method)
    }

    /// Check the settings are coherent; the error names the bad field.
    pub fn validate(&self) -> crate::Result<()> {
        use crate::Error;
        if self.session_idle_timeout_secs < 60 {
            return Err(Error::invalid(
                "session_idle_timeout_secs",
                "must be at least 60 seconds",
            ));
        }
        if self.session_lifetime_secs < self.session_idle_timeout_secs
            || self.session_lifetime_secs > 400 * 24 * 3600
        {
            return Err(Error::invalid(
                "session_lifetime_secs",
                "must be at least the idle timeout and at most 400 days",
            ));
        }
        if !(60..=24 * 3600).contains(&self.access_token_ttl_secs) {
            return Err(Error::invalid(
                "access_token_ttl_secs",
                "must be between 60 seconds and 24 hours",
            ));
        }
        if !(0..=MAX_REFRESH_GRACE_SECS).contains(&self.refresh_reuse_grace_secs) {
            return Err(Error::invalid(
                "refresh_reuse_grace_secs",
                "must be between 0 and 10 seconds",
            ));
        }
        if self.min_password_score > 4 {
            return Err(Error::invalid("min_password_score", "must be 0 to 4"));
        }
        if self.redirect_uris.len() > 100 || self.cors_origins.len() > 100 {
            return Err(Error::invalid(
                "redirect_uris",
                "at most 100 redirect URIs and 100 CORS origins",
            ));
        }
        for uri in &self.redirect_uris {
            if !is_absolute_uri(uri) || uri.contains('#') {
                return Err(Error::invalid(
                    "redirect_uris",
                    "each redirect URI must be absolute (scheme://…) without a fragment",
                ));
            }
        }
        for origin in &self.cors_origins {
            let ok = (origin.starts_with("https://") || origin.starts_with("http://"))
                && is_absolute_uri(origin)
                && !origin["https://".len().min(origin.len())..].contains('/');
            if !ok {
                return Err(Error::invalid(
                    "cors_origins",
                    "each CORS origin must look like https://host[:port] with no path",
                ));
            }
        }
        if self.webauthn_origins.len() > 20 {
            return Err(Error::invalid(
                "webauthn_origins",
                "at most 20 WebAuthn origins",
            ));
        }
        for origin in &self.webauthn_origins {
            let ok = (origin.starts_with("https://") || origin.starts_with("http://"))
                && is_absolute_uri(origin)
                && !origin["https://".len().min(origin.len())..].contains('/');
            if !ok {
                return Err(Error::invalid(
                    "webauthn_origins",
                    "each WebAuthn origin must look like https://host[:port] with no path",
                ));
            }
        }
        if let Some(rp_id) = &self.webauthn_rp_id {
            let ok = !rp_id.is_empty()
                && rp_id.len() <= 253
                && !rp_id.starts_with('.')
                && !rp_id.ends_with('.')
                && rp_id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
            if !ok {
                return Err(Error::invalid(
                    "webauthn_rp_id",
                    "the WebAuthn relying-party id must be a domain such as example.com",
                ));
            }
        }
        Ok(())
    }
}

fn is_absolute_uri(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once("://") else {
        return false;
    };
    s.len() <= 2048
        && !scheme.is_empty()
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && !rest.is_empty()
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// A mail template. `{{app_name}}`, `{{link}}`, `{{code}}` and `{{email}}` are
/// replaced (HTML-escaped in `html`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailTemplate {
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body.
    pub html: String,
}

/// An application that signs users in from one pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct App {
    /// Unique id; also the OAuth `client_id` and the JWT `aud`.
    pub id: AppId,
    /// The pool whose users sign in to this app.
    pub pool_id: PoolId,
    /// Unique, URL-safe name (`default` for the first app).
    pub slug: String,
    /// Display name, shown on hosted pages and in mail.
    pub name: String,
    /// Settings.
    pub settings: AppSettings,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
}

/// An account in a pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Unique id (UUIDv7).
    pub id: UserId,
    /// The pool the user belongs to.
    pub pool_id: PoolId,
    /// Email address, normalised (trimmed, lower case); unique per pool.
    pub email: String,
    /// Whether the user proved control of the address.
    pub email_verified: bool,
    /// Display name.
    pub name: Option<String>,
    /// Application-defined JSON object.
    pub metadata: serde_json::Value,
    /// A disabled user cannot sign in and their sessions do not validate.
    pub disabled: bool,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
    /// When the account was last changed.
    pub updated_at: DateTime<Utc>,
}

/// A partial update of a user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UserPatch {
    /// New email (normalised by the core before it reaches a store).
    pub email: Option<String>,
    /// New verified flag.
    pub email_verified: Option<bool>,
    /// New name; `Some(None)` clears it.
    #[serde(with = "double_option")]
    pub name: Option<Option<String>>,
    /// New metadata (replaces the old document).
    pub metadata: Option<serde_json::Value>,
    /// Disable or enable.
    pub disabled: Option<bool>,
}

mod double_option {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub(super) fn serialize<S: Serializer>(
        v: &Option<Option<String>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match v {
            None => s.serialize_none(),
            Some(inner) => inner.serialize(s),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<String>>, D::Error> {
        Option::<String>::deserialize(d).map(Some)
    }
}

impl UserPatch {
    /// Whether the patch changes nothing.
    pub fn is_empty(&self) -> bool {
        self.email.is_none()
            && self.email_verified.is_none()
            && self.name.is_none()
            && self.metadata.is_none()
            && self.disabled.is_none()
    }

    /// Apply the patch to `user` (what every store does, atomically).
    pub fn apply(&self, user: &mut User, now: DateTime<Utc>) {
        if let Some(email) = &self.email {
            user.email = email.clone();
        }
        if let Some(v) = self.email_verified {
            user.email_verified = v;
        }
        if let Some(name) = &self.name {
            user.name = name.clone();
        }
        if let Some(metadata) = &self.metadata {
            user.metadata = metadata.clone();
        }
        if let Some(disabled) = self.disabled {
            user.disabled = disabled;
        }
        user.updated_at = now;
    }
}

/// What a user list is filtered and paged by.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserQuery {
    /// Only users whose (normalised) email contains this text.
    pub email_contains: Option<String>,
    /// Only users with an id greater than this (the cursor of the previous page).
    pub after: Option<UserId>,
    /// Page size (1 to 1000).
    pub limit: u32,
}

/// The kind of a stored credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialKind {
    /// An argon2id password hash (PHC string). At most one per user.
    Password,
    /// A TOTP secret, encrypted.
    Totp,
    /// A WebAuthn passkey.
    Passkey,
    /// A hashed recovery code.
    RecoveryCode,
}

impl CredentialKind {
    /// The stable name stored in databases.
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialKind::Password => "password",
            CredentialKind::Totp => "totp",
            CredentialKind::Passkey => "passkey",
            CredentialKind::RecoveryCode => "recovery_code",
        }
    }

    /// Parse a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "password" => CredentialKind::Password,
            "totp" => CredentialKind::Totp,
            "passkey" => CredentialKind::Passkey,
            "recovery_code" => CredentialKind::RecoveryCode,
            _ => return None,
        })
    }
}

/// A secret a user proves to sign in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Credential {
    /// Unique id.
    pub id: Uuid,
    /// Owner.
    pub user_id: UserId,
    /// What it is.
    pub kind: CredentialKind,
    /// A label the user chose (passkeys).
    pub name: Option<String>,
    /// The secret's stored form: a PHC hash, a sealed secret or a digest.
    pub secret: String,
    /// Kind-specific data (a passkey's public key and counter, …).
    pub data: serde_json::Value,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last signed someone in.
    pub last_used_at: Option<DateTime<Utc>>,
}

/// The first way to sign in that a new user is created with, stored in the
/// same atomic step as the user (see
/// [`UserStore::create_user`](crate::store::UserStore::create_user)).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FirstSignIn<'a> {
    /// A password credential.
    Password(&'a Credential),
    /// An external identity (a first sign-in through a provider).
    Identity(&'a Identity),
}

/// One of a user's ways to sign in, as named to
/// [`UserStore::delete_sign_in_method`](crate::store::UserStore::delete_sign_in_method).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInMethodRef {
    /// A credential (a password or a passkey) by id.
    Credential(Uuid),
    /// A linked external identity by id.
    Identity(Uuid),
}

/// An account at an external provider linked to a user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Identity {
    /// Unique id.
    pub id: Uuid,
    /// The pool of the user (identities are unique per pool and provider).
    pub pool_id: PoolId,
    /// The linked user.
    pub user_id: UserId,
    /// Provider name as configured (`google`, `github`, `okta`, …).
    pub provider: String,
    /// The provider's stable user id (`sub`).
    pub subject: String,
    /// Email the provider reported.
    pub email: Option<String>,
    /// Whether the provider asserted the email is verified.
    pub email_verified: bool,
    /// Raw profile claims.
    pub profile: serde_json::Value,
    /// When it was linked.
    pub created_at: DateTime<Utc>,
    /// When it last signed the user in.
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A signed-in session: one per sign-in, on one app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// Unique id (the JWT `sid`).
    pub id: SessionId,
    /// The user's pool.
    pub pool_id: PoolId,
    /// The app signed in to.
    pub app_id: AppId,
    /// Who signed in.
    pub user_id: UserId,
    /// SHA-256 of the opaque session token (`tss_…`) carried by cookies.
    #[serde(skip)]
    pub token_hash: TokenHash,
    /// How the user authenticated (RFC 8176 values).
    pub amr: Vec<String>,
    /// User agent at sign-in, cut to [`MAX_USER_AGENT_LEN`].
    pub user_agent: Option<String>,
    /// Client IP at sign-in.
    pub ip: Option<String>,
    /// Sign-in time.
    pub created_at: DateTime<Utc>,
    /// Last validation or refresh (updated at most once a minute).
    pub last_seen_at: DateTime<Utc>,
    /// Seconds of inactivity after which the session ends.
    pub idle_timeout_secs: i64,
    /// Absolute end of the session.
    pub expires_at: DateTime<Utc>,
    /// When it was revoked (the first revocation is kept).
    pub revoked_at: Option<DateTime<Utc>>,
    /// Why it was revoked (`sign_out`, `refresh_token_reused`, …).
    pub revoke_reason: Option<String>,
}

impl Session {
    /// When the session ends for inactivity.
    pub fn idle_expires_at(&self) -> DateTime<Utc> {
        self.last_seen_at + Duration::seconds(self.idle_timeout_secs)
    }

    /// Whether the session is live at `now`: not revoked, not past either expiry.
    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && now < self.expires_at && now < self.idle_expires_at()
    }
}

/// A refresh token as stored: only its hash, its session and its fate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshToken {
    /// SHA-256 of the token.
    pub hash: TokenHash,
    /// The session it renews.
    pub session_id: SessionId,
    /// When it was issued.
    pub created_at: DateTime<Utc>,
    /// When it was exchanged for its successor.
    pub spent_at: Option<DateTime<Utc>>,
    /// Hash of the successor it was exchanged for.
    pub replaced_by: Option<TokenHash>,
}

/// A refresh token exchange, as asked of the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshRotation {
    /// Hash of the token presented.
    pub presented: TokenHash,
    /// Hash of its successor (derived from the presented token, so a retry
    /// within the grace window computes the same successor).
    pub successor: TokenHash,
    /// How long after being spent the presented token is still answered.
    pub grace: Duration,
    /// The time of the exchange.
    pub now: DateTime<Utc>,
}

/// What the store did with a [`RefreshRotation`].
#[derive(Debug, Clone, PartialEq)]
pub enum RotationOutcome {
    /// The token was live and is now spent; the successor is live.
    Rotated(Box<(Session, User)>),
    /// The token was spent (at the given time) within the grace window and its
    /// successor is still unspent: the same successor is the answer again.
    Repeated(Box<(Session, User)>, DateTime<Utc>),
    /// The token was spent before: the session is now revoked.
    Reused {
        /// The revoked session.
        session_id: SessionId,
    },
    /// The session is revoked, expired or idle; nothing changed.
    Inactive,
    /// No such token.
    NotFound,
}

crate::words::protocol_words! {
    /// What a [`OneTimeToken`] is for: every purpose the flows store, one
    /// place to see them all. The store keeps [`TokenPurpose::as_str`].
    pub enum TokenPurpose("token purpose") {
        /// An email verification link.
        VerifyEmail => "verify_email",
        /// A password reset link.
        PasswordReset => "password_reset",
        /// A six-digit sign-in code sent by email.
        EmailCode => "email_code",
        /// A magic sign-in link.
        MagicLink => "magic_link",
        /// An email change confirmation link.
        EmailChange => "email_change",
        /// A sign-in waiting for its second factor (`tsf_…`).
        MfaChallenge => "mfa",
        /// The marker "this (user, TOTP step) was used", against replays.
        TotpUsed => "totp_used",
        /// The marker that lets one of concurrent TOTP confirmations win.
        TotpConfirm => "totp_confirm",
        /// A started OAuth sign-in, keyed by the hash of its `state`.
        OauthState => "oauth_state",
        /// The one-time code an app exchanges for the OAuth sign-in's session.
        OauthExchange => "oauth_exchange",
        /// A passkey registration ceremony.
        PasskeyRegister => "passkey_register",
        /// A passkey sign-in ceremony.
        PasskeySignIn => "passkey_sign_in",
        /// A passkey ceremony completing an MFA challenge.
        PasskeyMfa => "passkey_mfa",
    }
}

/// A single-use secret other than a refresh token: email links and codes, OAuth
/// state, MFA challenges, WebAuthn ceremonies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OneTimeToken {
    /// SHA-256 of the secret; for codes, of `purpose \0 pool \0 subject \0 code`
    /// (unambiguous, and distinct across pools and purposes).
    pub hash: TokenHash,
    /// What it is for: a [`TokenPurpose::as_str`] (`password_reset`, …).
    pub purpose: String,
    /// The pool it belongs to.
    pub pool_id: PoolId,
    /// The app that asked for it.
    pub app_id: Option<AppId>,
    /// The user it is for, if known.
    pub user_id: Option<UserId>,
    /// What a code is addressed to (a normalised email), for codes.
    pub subject: Option<String>,
    /// Flow-specific data (redirect URI, PKCE challenge, …).
    pub data: serde_json::Value,
    /// Wrong guesses so far (codes).
    pub attempts: i32,
    /// When it was issued.
    pub created_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

/// What happened to a code guess.
#[derive(Debug, Clone, PartialEq)]
pub enum CodeAttempt {
    /// The code was right; the token is spent and returned.
    Accepted(Box<OneTimeToken>),
    /// The code was wrong; `attempts_left` more guesses are allowed (0: spent).
    Rejected {
        /// Guesses left before the code is spent.
        attempts_left: u32,
    },
    /// The code expired (and is now deleted).
    Expired,
    /// No live code for this subject.
    NotFound,
}

/// Algorithm of a signing key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum SigningAlg {
    /// Ed25519 (default).
    #[default]
    EdDSA,
    /// ECDSA P-256 with SHA-256.
    ES256,
    /// RSASSA-PKCS1-v1_5 with SHA-256 (2048-bit keys).
    RS256,
}

impl SigningAlg {
    /// The JOSE `alg` name.
    pub fn as_str(self) -> &'static str {
        match self {
            SigningAlg::EdDSA => "EdDSA",
            SigningAlg::ES256 => "ES256",
            SigningAlg::RS256 => "RS256",
        }
    }

    /// Parse a JOSE `alg` name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "EdDSA" => SigningAlg::EdDSA,
            "ES256" => SigningAlg::ES256,
            "RS256" => SigningAlg::RS256,
            _ => return None,
        })
    }
}

/// A token signing key as stored: the private half sealed under the KEK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKey {
    /// Key id (the JWT `kid`).
    pub kid: String,
    /// Algorithm.
    pub alg: SigningAlg,
    /// PKCS#8 private key sealed with AES-256-GCM under the key-encryption key.
    pub private_key_sealed: Vec<u8>,
    /// The public JWK (JSON text).
    pub public_jwk: String,
    /// When it was generated.
    pub created_at: DateTime<Utc>,
    /// When it stopped signing (rotated out); `None` for the active key.
    pub retired_at: Option<DateTime<Utc>>,
    /// Until when a retired key stays in the JWKS.
    pub publish_until: Option<DateTime<Utc>>,
}

impl SigningKey {
    /// Whether the key is in the published JWKS at `now`.
    pub fn is_published(&self, now: DateTime<Utc>) -> bool {
        self.publish_until.is_none_or(|until| now < until)
    }
}

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// Unique id (UUIDv7, so ids sort by time).
    pub id: Uuid,
    /// What happened (`user.signed_up`, `sign_in.failed`, …).
    #[serde(rename = "type")]
    pub kind: String,
    /// The pool concerned.
    pub pool_id: Option<PoolId>,
    /// The app concerned.
    pub app_id: Option<AppId>,
    /// The user concerned.
    pub user_id: Option<UserId>,
    /// The session concerned.
    pub session_id: Option<SessionId>,
    /// Client IP.
    pub ip: Option<String>,
    /// Client user agent.
    pub user_agent: Option<String>,
    /// Event details (`{"reason": "invalid_password"}`, …); never a secret.
    pub data: serde_json::Value,
    /// When it happened.
    pub at: DateTime<Utc>,
}

/// What an audit query is filtered and paged by. Results come newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// Only this user's events.
    pub user_id: Option<UserId>,
    /// Only this app's events.
    pub app_id: Option<AppId>,
    /// Only this pool's events.
    pub pool_id: Option<PoolId>,
    /// Only events of this type.
    pub kind: Option<String>,
    /// Only events at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only events before this time.
    pub until: Option<DateTime<Utc>>,
    /// Only events with an id smaller than this (the previous page's cursor).
    pub before: Option<Uuid>,
    /// Page size (1 to 1000).
    pub limit: u32,
}

/// Failed attempts counted against one key (an account, an address, an IP).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttle {
    /// Failures since the count last reset. For a key throttled with
    /// [`ThrottleStore::reserve_attempt`](crate::store::ThrottleStore::reserve_attempt)
    /// every attempt that proceeded counts (before it is checked), until a
    /// success clears the key.
    pub failures: u32,
    /// When the latest failure (or reserved attempt) happened.
    pub last_failure_at: DateTime<Utc>,
    /// The earliest time the next attempt may proceed, as set by the
    /// [`Backoff`] of the latest reserved attempt; `None` for a key only ever
    /// counted with `record_failure`.
    pub next_attempt_at: Option<DateTime<Utc>>,
}

impl Throttle {
    /// When the key's wait ends, if it is waiting at `now` under `backoff`:
    /// its last attempt set a wait (`next_attempt_at` after
    /// `last_failure_at`), is not older than `backoff.reset_after`, and `now`
    /// is before its `next_attempt_at` (the rule of
    /// [`ThrottleStore::reserve_attempt`](crate::store::ThrottleStore::reserve_attempt)).
    ///
    /// A free attempt sets no wait: concurrent callers whose `now` was read a
    /// moment before the latest free attempt's are not refused.
    pub fn waiting_until(&self, now: DateTime<Utc>, backoff: &Backoff) -> Option<DateTime<Utc>> {
        self.next_attempt_at.filter(|until| {
            *until > self.last_failure_at
                && self.last_failure_at >= now - backoff.reset_after
                && now < *until
        })
    }
}

/// How a throttle slows down repeated attempts against one key: the first
/// [`free`](Self::free) attempts proceed at once; the attempt that reaches
/// `free` imposes a wait of [`first_wait`](Self::first_wait) before the next
/// one, and each further attempt doubles it, up to [`max_wait`](Self::max_wait).
/// A count whose latest attempt is [`reset_after`](Self::reset_after) old
/// starts again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Attempts that proceed without waiting.
    pub free: u32,
    /// The first wait (zero or negative: never wait).
    pub first_wait: Duration,
    /// The longest wait.
    pub max_wait: Duration,
    /// A count whose latest attempt is older than this starts again at 1.
    pub reset_after: Duration,
}

impl Backoff {
    /// The wait imposed after the `attempts`-th attempt (counting from 1):
    /// zero before [`free`](Self::free), then `first_wait · 2^(attempts − free)`,
    /// at most `max_wait`.
    pub fn wait_after(&self, attempts: u32) -> Duration {
        let Some(over) = attempts.checked_sub(self.free) else {
            return Duration::zero();
        };
        if self.first_wait <= Duration::zero() {
            return Duration::zero();
        }
        if over >= self.doublings_to_max() {
            return self.max_wait.max(Duration::zero());
        }
        // Below the cap, so no overflow: first · 2^over < max.
        Duration::microseconds(self.first_wait.num_microseconds().unwrap_or(i64::MAX) << over)
    }

    /// How many doublings of `first_wait` reach `max_wait` (0 when
    /// `first_wait` already does, or is not positive): from that many
    /// attempts past [`free`](Self::free) on, the wait is `max_wait`.
    /// Backends that compute the wait in SQL use it to stay clear of overflow.
    pub fn doublings_to_max(&self) -> u32 {
        let (Some(first), Some(max)) = (
            self.first_wait.num_microseconds(),
            self.max_wait.num_microseconds(),
        ) else {
            return 0;
        };
        let mut n = 0;
        while first > 0 && n < 62 && first.checked_mul(1 << n).is_some_and(|w| w < max) {
            n += 1;
        }
        n
    }
}

/// The answer of [`ThrottleStore::reserve_attempt`](crate::store::ThrottleStore::reserve_attempt).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    /// The attempt may proceed and was counted: the key's state after it.
    Granted(Throttle),
    /// The key is waiting: no attempt may proceed before `until`. Nothing was
    /// counted.
    Refused {
        /// When the next attempt may proceed.
        until: DateTime<Utc>,
    },
}

/// A limit on events per fixed window (see
/// [`ThrottleStore::hit`](crate::store::ThrottleStore::hit)): at most
/// [`max`](Self::max) hits in a window of [`window`](Self::window) that
/// starts at the first hit after the previous window ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Hits allowed per window.
    pub max: u32,
    /// The window's length.
    pub window: Duration,
}

/// Who is making a request, normalised once at the edge of each face (the
/// HTTP `Client` extractor, the Python and Kotlin bindings) and kept as is on
/// sessions and audit events.
///
/// The fields are private so every value went through [`ClientInfo::new`]:
/// the IP is an address, never a string to re-parse, and the user agent is
/// trimmed, without control or format characters (bidi overrides, zero-width
/// characters), at most [`MAX_USER_AGENT_LEN`] bytes, and absent when nothing
/// is left. Client info is advisory (shown in session lists, kept in the
/// audit log), so an IP that does not parse is dropped rather than failing
/// the request. Serialises as `{"ip": "192.0.2.7", "user_agent": "…"}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "RawClientInfo")]
pub struct ClientInfo {
    ip: Option<std::net::IpAddr>,
    user_agent: Option<String>,
}

/// The unchecked shape of [`ClientInfo`], normalised when deserialised.
#[derive(Deserialize)]
struct RawClientInfo {
    #[serde(default)]
    ip: Option<String>,
    #[serde(default)]
    user_agent: Option<String>,
}

impl From<RawClientInfo> for ClientInfo {
    fn from(raw: RawClientInfo) -> Self {
        ClientInfo::parse(raw.ip.as_deref(), raw.user_agent.as_deref())
    }
}

impl ClientInfo {
    /// Client info from an address and a raw `User-Agent`, normalised (see
    /// [`ClientInfo`]).
    pub fn new(ip: Option<std::net::IpAddr>, user_agent: Option<&str>) -> Self {
        ClientInfo {
            ip,
            user_agent: user_agent.and_then(crate::validate::normalize_user_agent),
        }
    }

    /// Client info from an IP as text (`192.0.2.7`, `2001:db8::1`; one that
    /// does not parse is dropped) and a raw `User-Agent`: for faces that get
    /// strings from their caller.
    pub fn parse(ip: Option<&str>, user_agent: Option<&str>) -> Self {
        ClientInfo::new(ip.and_then(|s| s.trim().parse().ok()), user_agent)
    }

    /// The client's IP address.
    pub fn ip(&self) -> Option<std::net::IpAddr> {
        self.ip
    }

    /// The client's user agent, normalised.
    pub fn user_agent(&self) -> Option<&str> {
        self.user_agent.as_deref()
    }
}

/// An API key for the admin API (`tsk_…`); only its hash is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKey {
    /// Unique id.
    pub id: Uuid,
    /// A label for people.
    pub name: String,
    /// SHA-256 of the key.
    #[serde(skip)]
    pub hash: TokenHash,
    /// The first characters of the key (`tsk_AbCd`), to recognise it in lists.
    pub hint: String,
    /// What the key may do (`admin`, `users:read`, …).
    pub scopes: Vec<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last used (updated at most once a minute).
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it stops working, if ever.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiKey {
    /// Whether the key works at `now`.
    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|e| now < e)
    }
}

/// A message waiting in the mail outbox. Its content (which carries links and
/// codes) is sealed under the key-encryption key, bound to the row's id, and
/// the row is deleted once the message is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMail {
    /// Unique id (also the associated data of the seal).
    pub id: Uuid,
    /// `{to, subject, text, html}` as JSON, sealed.
    pub sealed: Vec<u8>,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
    /// Delivery attempts so far.
    pub attempts: i32,
    /// Not before this time.
    pub next_attempt_at: DateTime<Utc>,
    /// A worker holds it until then; after that another may take it over.
    pub leased_until: Option<DateTime<Utc>>,
    /// Why the last attempt failed (never the content).
    pub last_error: Option<String>,
}

/// An app's configuration of one external OAuth 2.0 / OpenID Connect
/// provider, as stored. The client secret is sealed under the key-encryption
/// key; everything kind-specific (issuer, endpoints, scopes, claim mapping,
/// Apple's team and key ids, …) lives in `config`, which the core validates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthProviderRecord {
    /// The app it belongs to.
    pub app_id: AppId,
    /// The provider's name within the app (`google`, `okta`, …): the
    /// `{provider}` of the routes.
    pub name: String,
    /// The kind (`google`, `apple`, `microsoft`, `github`, `kakao`, `naver`,
    /// `oidc`, `oauth2`).
    pub kind: String,
    /// The OAuth client id.
    pub client_id: String,
    /// The client secret (Apple: the private key), sealed; `None` for public clients.
    #[serde(skip)]
    pub client_secret_sealed: Option<Vec<u8>>,
    /// Kind-specific settings, as JSON.
    pub config: serde_json::Value,
    /// Whether sign-in through it is offered.
    pub enabled: bool,
    /// When it was first configured.
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_info_is_normalised_once_and_serialises_as_strings() {
        let c = ClientInfo::parse(Some(" 2001:db8::1 "), Some("  ua/1.0\u{202E} "));
        assert_eq!(c.ip(), Some("2001:db8::1".parse().unwrap()));
        assert_eq!(c.user_agent(), Some("ua/1.0"));
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"ip": "2001:db8::1", "user_agent": "ua/1.0"})
        );
        assert_eq!(serde_json::from_value::<ClientInfo>(json).unwrap(), c);
        // A malformed IP is dropped, not kept as text; so is an empty agent.
        let junk = ClientInfo::parse(Some("192.0.2.7\n<script>"), Some("\u{200B}"));
        assert_eq!(junk, ClientInfo::default());
        // Deserialising normalises too (values written by older versions).
        let old: ClientInfo =
            serde_json::from_value(serde_json::json!({"ip": "unknown", "user_agent": " x "}))
                .unwrap();
        assert_eq!((old.ip(), old.user_agent()), (None, Some("x")));
        assert_eq!(
            serde_json::from_value::<ClientInfo>(serde_json::json!({})).unwrap(),
            ClientInfo::default()
        );
    }
}
