//! Records for second factors, passkeys and external sign-in providers, and
//! their conversions from the core's types.
//!
//! Kept apart from `records.rs` (the account, session and app shapes) because
//! these follow three capabilities that grow on their own. The same rules
//! hold: ids as strings, times as `SystemTime`, free-form JSON (WebAuthn
//! options and credentials, claim mappings) as text, and every record that
//! holds a secret exports its Rust `Debug` as Kotlin's `toString()`, which
//! leaves the secret out.

use std::time::SystemTime;

use tessera_core::model;

use crate::TesseraError;
use crate::records::{AuthSession, time};

fn count(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// A started TOTP enrolment: what the user's authenticator app needs. The
/// secret is inactive until confirmed with a first code. `toString()` shows
/// none of it.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
#[uniffi::export(Debug)]
pub struct TotpEnrollment {
    /// The secret, base32 without padding (for typing it in by hand).
    pub secret: String,
    /// The `otpauth://totp/…` URI (issuer = the app's name, account = the email).
    pub otpauth_uri: String,
    /// The URI as a QR code: an `<svg>` element, ready to inline in HTML.
    pub qr_svg: String,
}

impl std::fmt::Debug for TotpEnrollment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TotpEnrollment").finish_non_exhaustive()
    }
}

impl From<tessera_core::TotpEnrollment> for TotpEnrollment {
    fn from(e: tessera_core::TotpEnrollment) -> Self {
        TotpEnrollment {
            secret: e.secret,
            otpauth_uri: e.otpauth_uri,
            qr_svg: e.qr_svg,
        }
    }
}

/// A user's second factors, as an account page shows them.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct MfaStatus {
    /// TOTP is confirmed and asked for at sign-in.
    pub totp_enabled: bool,
    /// A TOTP enrolment was started but not confirmed.
    pub totp_pending: bool,
    /// Unspent recovery codes.
    pub recovery_codes_left: i32,
    /// Registered passkeys.
    pub passkeys: i32,
    /// Whether the app requires a second factor of everyone.
    pub required_by_app: bool,
    /// Whether the user has a password (re-authentication then asks for it;
    /// otherwise for a TOTP code).
    pub has_password: bool,
}

impl From<tessera_core::MfaStatus> for MfaStatus {
    fn from(s: tessera_core::MfaStatus) -> Self {
        MfaStatus {
            totp_enabled: s.totp_enabled,
            totp_pending: s.totp_pending,
            recovery_codes_left: count(s.recovery_codes_left),
            passkeys: count(s.passkeys),
            required_by_app: s.required_by_app,
            has_password: s.has_password,
        }
    }
}

/// A sign-in finished by enrolling TOTP (the app requires a second factor):
/// the session, and the recovery codes to show the user this once.
/// `toString()` shows neither the codes nor the tokens.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
#[uniffi::export(Debug)]
pub struct EnrolledSignIn {
    /// The new recovery codes (10, single use).
    pub recovery_codes: Vec<String>,
    /// The session.
    pub session: AuthSession,
}

impl std::fmt::Debug for EnrolledSignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnrolledSignIn")
            .field("recovery_codes", &self.recovery_codes.len())
            .field("session", &self.session)
            .finish()
    }
}

impl From<tessera_core::EnrolledSignIn> for EnrolledSignIn {
    fn from(e: tessera_core::EnrolledSignIn) -> Self {
        EnrolledSignIn {
            recovery_codes: e.recovery_codes,
            session: e.session.into(),
        }
    }
}

/// The first half of a WebAuthn ceremony: options for the browser or
/// authenticator, and the ceremony id to send back with its answer.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
#[uniffi::export(Debug)]
pub struct PasskeyChallenge {
    /// The ceremony id (`tsw_…`, single use, valid for 5 minutes).
    pub ceremony: String,
    /// The W3C JSON options as text (`PublicKeyCredentialCreationOptionsJSON`
    /// or `…RequestOptionsJSON`, buffers base64url): what
    /// `PublicKeyCredential.parseCreationOptionsFromJSON` /
    /// `parseRequestOptionsFromJSON` take, or Android Credential Manager's
    /// `CreatePublicKeyCredentialRequest` / `GetPublicKeyCredentialOption` `requestJson`.
    pub public_key_json: String,
}

impl std::fmt::Debug for PasskeyChallenge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasskeyChallenge")
            .field("public_key_json", &self.public_key_json)
            .finish_non_exhaustive()
    }
}

impl From<tessera_core::PasskeyChallenge> for PasskeyChallenge {
    fn from(c: tessera_core::PasskeyChallenge) -> Self {
        PasskeyChallenge {
            ceremony: c.ceremony,
            public_key_json: c.public_key.to_string(),
        }
    }
}

/// A registered passkey, as its owner sees it (no key material).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PasskeyInfo {
    /// Id of the stored passkey (for rename and delete).
    pub id: String,
    /// The name the user gave it.
    pub name: String,
    /// The WebAuthn credential id, base64url.
    pub credential_id: String,
    /// The authenticator model's AAGUID, when it reported a non-zero one.
    pub aaguid: Option<String>,
    /// Whether the key may be synced to other devices (a "synced passkey").
    pub backup_eligible: bool,
    /// Whether it was backed up or synced at its last use.
    pub backup_state: bool,
    /// The authenticator's signature counter at its last use.
    pub sign_count: i64,
    /// Transports the authenticator said it can use (`internal`, `usb`, `hybrid`, …).
    pub transports: Vec<String>,
    /// When it was registered.
    pub created_at: SystemTime,
    /// When it last signed the user in.
    pub last_used_at: Option<SystemTime>,
}

impl From<tessera_core::PasskeyInfo> for PasskeyInfo {
    fn from(p: tessera_core::PasskeyInfo) -> Self {
        PasskeyInfo {
            id: p.id.to_string(),
            name: p.name,
            credential_id: p.credential_id,
            aaguid: p.aaguid,
            backup_eligible: p.backup_eligible,
            backup_state: p.backup_state,
            sign_count: p.sign_count.into(),
            transports: p.transports,
            created_at: time(p.created_at),
            last_used_at: p.last_used_at.map(time),
        }
    }
}

/// Where an OAuth 2.0 provider's user endpoint keeps the fields Tessera
/// needs: dotted paths into its JSON (`id`, `data.user.id`, …).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OAuthClaimMapping {
    /// The stable user id (a string or a number). Required.
    pub id: String,
    /// The email address.
    #[uniffi(default)]
    pub email: Option<String>,
    /// Whether the provider verified the email; absent: its emails count as
    /// unverified.
    #[uniffi(default)]
    pub email_verified: Option<String>,
    /// The display name.
    #[uniffi(default)]
    pub name: Option<String>,
}

impl From<OAuthClaimMapping> for tessera_core::ClaimMapping {
    fn from(c: OAuthClaimMapping) -> Self {
        tessera_core::ClaimMapping {
            id: c.id,
            email: c.email,
            email_verified: c.email_verified,
            name: c.name,
        }
    }
}

impl From<tessera_core::ClaimMapping> for OAuthClaimMapping {
    fn from(c: tessera_core::ClaimMapping) -> Self {
        OAuthClaimMapping {
            id: c.id,
            email: c.email,
            email_verified: c.email_verified,
            name: c.name,
        }
    }
}

/// The configuration of an external sign-in provider, as an administrator
/// gives it (the body of `PUT /v1/admin/apps/{app}/oauth-providers/{name}`).
/// `toString()` does not show the client secret.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
#[uniffi::export(Debug)]
pub struct OAuthProviderConfig {
    /// `google`, `apple`, `microsoft`, `github`, `kakao`, `naver`, `oidc` or `oauth2`.
    pub kind: String,
    /// The OAuth client id.
    pub client_id: String,
    /// The client secret (Apple: the `.p8` private key, PEM); `null` on an
    /// update keeps the stored one, on a new provider makes a public client.
    #[uniffi(default)]
    pub client_secret: Option<String>,
    /// Whether the provider is offered (default true).
    #[uniffi(default)]
    pub enabled: Option<bool>,
    /// Issuer URL (`oidc`: required, discovered at
    /// `{issuer}/.well-known/openid-configuration`).
    #[uniffi(default)]
    pub issuer: Option<String>,
    /// Authorization endpoint (`oauth2`: required; otherwise an override).
    #[uniffi(default)]
    pub authorization_endpoint: Option<String>,
    /// Token endpoint (`oauth2`: required; otherwise an override).
    #[uniffi(default)]
    pub token_endpoint: Option<String>,
    /// User info endpoint (`oauth2`: required; otherwise an override).
    #[uniffi(default)]
    pub userinfo_endpoint: Option<String>,
    /// Scopes asked for (the preset's otherwise).
    #[uniffi(default)]
    pub scopes: Option<Vec<String>>,
    /// Claim mapping (`oauth2`: required).
    #[uniffi(default)]
    pub claims: Option<OAuthClaimMapping>,
    /// Label on the sign-in button.
    #[uniffi(default)]
    pub display_name: Option<String>,
    /// Apple developer team id.
    #[uniffi(default)]
    pub team_id: Option<String>,
    /// Apple key id (of the private key given as the client secret).
    #[uniffi(default)]
    pub key_id: Option<String>,
    /// Microsoft tenant (`common`, `organizations`, `consumers` or a tenant id).
    #[uniffi(default)]
    pub tenant: Option<String>,
    /// Client authentication at the token endpoint: `client_secret_basic`
    /// (default) or `client_secret_post`.
    #[uniffi(default)]
    pub token_endpoint_auth: Option<String>,
}

impl std::fmt::Debug for OAuthProviderConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthProviderConfig")
            .field("kind", &self.kind)
            .field("client_id", &self.client_id)
            .field("client_secret_set", &self.client_secret.is_some())
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

fn token_auth_name(a: tessera_core::TokenAuth) -> String {
    match serde_json::to_value(a) {
        Ok(serde_json::Value::String(s)) => s,
        _ => format!("{a:?}"),
    }
}

impl TryFrom<OAuthProviderConfig> for tessera_core::ProviderInput {
    type Error = TesseraError;

    fn try_from(c: OAuthProviderConfig) -> Result<Self, TesseraError> {
        let token_endpoint_auth = c
            .token_endpoint_auth
            .map(|a| {
                serde_json::from_value(serde_json::Value::String(a)).map_err(|_| {
                    TesseraError::invalid(
                        "token_endpoint_auth",
                        "token_endpoint_auth must be client_secret_basic or client_secret_post",
                    )
                })
            })
            .transpose()?;
        Ok(tessera_core::ProviderInput {
            kind: c.kind,
            client_id: c.client_id,
            client_secret: c.client_secret,
            enabled: c.enabled,
            issuer: c.issuer,
            authorization_endpoint: c.authorization_endpoint,
            token_endpoint: c.token_endpoint,
            userinfo_endpoint: c.userinfo_endpoint,
            scopes: c.scopes,
            claims: c.claims.map(Into::into),
            display_name: c.display_name,
            team_id: c.team_id,
            key_id: c.key_id,
            tenant: c.tenant,
            token_endpoint_auth,
        })
    }
}

/// A configured provider as it is shown back: never the secret.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OAuthProvider {
    /// The name within the app (`{provider}` in routes).
    pub provider: String,
    /// The kind (`google`, …, `oidc`, `oauth2`).
    pub kind: String,
    /// The OAuth client id.
    pub client_id: String,
    /// Whether a client secret is stored.
    pub client_secret_set: bool,
    /// Whether sign-in through it is offered.
    pub enabled: bool,
    /// Label on the sign-in button.
    pub display_name: String,
    /// The redirect URI to register at the provider.
    pub callback_url: String,
    /// Issuer URL.
    pub issuer: Option<String>,
    /// Authorization endpoint override.
    pub authorization_endpoint: Option<String>,
    /// Token endpoint override.
    pub token_endpoint: Option<String>,
    /// User info endpoint override.
    pub userinfo_endpoint: Option<String>,
    /// Scopes asked for, when set.
    pub scopes: Option<Vec<String>>,
    /// Claim mapping (`oauth2`).
    pub claims: Option<OAuthClaimMapping>,
    /// Apple developer team id.
    pub team_id: Option<String>,
    /// Apple key id.
    pub key_id: Option<String>,
    /// Microsoft tenant.
    pub tenant: Option<String>,
    /// Client authentication at the token endpoint, when set.
    pub token_endpoint_auth: Option<String>,
    /// When it was first configured.
    pub created_at: SystemTime,
    /// When it was last changed.
    pub updated_at: SystemTime,
}

impl From<tessera_core::ProviderView> for OAuthProvider {
    fn from(v: tessera_core::ProviderView) -> Self {
        let s = v.settings;
        OAuthProvider {
            provider: v.provider,
            kind: v.kind.as_str().to_owned(),
            client_id: v.client_id,
            client_secret_set: v.client_secret_set,
            enabled: v.enabled,
            display_name: v.display_name,
            callback_url: v.callback_url,
            issuer: s.issuer,
            authorization_endpoint: s.authorization_endpoint,
            token_endpoint: s.token_endpoint,
            userinfo_endpoint: s.userinfo_endpoint,
            scopes: s.scopes,
            claims: s.claims.map(Into::into),
            team_id: s.team_id,
            key_id: s.key_id,
            tenant: s.tenant,
            token_endpoint_auth: s.token_endpoint_auth.map(token_auth_name),
            created_at: time(v.created_at),
            updated_at: time(v.updated_at),
        }
    }
}

/// An external account linked to a user.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Identity {
    /// Unique id (for unlinking).
    pub id: String,
    /// Provider name as configured (`google`, `okta`, …).
    pub provider: String,
    /// The provider's stable user id (`sub`).
    pub subject: String,
    /// Email the provider reported.
    pub email: Option<String>,
    /// Whether the provider asserted the email is verified.
    pub email_verified: bool,
    /// When it was linked.
    pub created_at: SystemTime,
    /// When it last signed the user in.
    pub last_used_at: Option<SystemTime>,
}

impl From<model::Identity> for Identity {
    fn from(i: model::Identity) -> Self {
        Identity {
            id: i.id.to_string(),
            provider: i.provider,
            subject: i.subject,
            email: i.email,
            email_verified: i.email_verified,
            created_at: time(i.created_at),
            last_used_at: i.last_used_at.map(time),
        }
    }
}

/// Where an OAuth callback (the provider's return) ends, once its `state`
/// was accepted: send the browser to `redirectTo`. `toString()` does not
/// show the exchange code or the session's tokens.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
#[uniffi::export(Debug)]
pub struct OAuthCallback {
    /// The app the sign-in was for.
    pub app_id: String,
    /// The provider name.
    pub provider: String,
    /// The registered URI the flow ends at, if any.
    pub redirect_uri: Option<String>,
    /// Where to send the browser: `redirect_uri` with `?code=` (to exchange
    /// with `exchangeOauthCode`), `?error=<code>` or `?linked=<provider>`.
    pub redirect_to: Option<String>,
    /// The one-time exchange code (`tso_…`, 5 minutes), on success.
    pub code: Option<String>,
    /// The stable error code when the sign-in failed after the state was
    /// accepted (`invalid_token`, `provider_error`, `account_link_required`, …).
    pub error_code: Option<String>,
    /// The identity linked, in link mode.
    pub linked: Option<Identity>,
    /// The session, for a hosted-page flow (started by the HTTP server on
    /// the same store).
    pub session: Option<AuthSession>,
}

impl std::fmt::Debug for OAuthCallback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthCallback")
            .field("app_id", &self.app_id)
            .field("provider", &self.provider)
            .field("redirect_uri", &self.redirect_uri)
            .field("error_code", &self.error_code)
            .field("linked", &self.linked)
            .field("session", &self.session)
            .finish_non_exhaustive()
    }
}

/// A started external sign-in: send the browser to `authorizationUrl`.
/// (`browserState` is the `state` the URL carries to the provider: not a
/// secret from that browser, but only it may present it back.)
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OAuthStart {
    /// The provider's authorization URL.
    pub authorization_url: String,
    /// For link-mode flows: the value that binds the flow to the browser
    /// that started it. Keep it in that browser (an HttpOnly cookie, about
    /// 10 minutes) and pass it back to `oauthCallback` as `browserState`;
    /// `null` for sign-in flows.
    pub browser_state: Option<String>,
}

impl From<tessera_core::Authorization> for OAuthStart {
    fn from(a: tessera_core::Authorization) -> Self {
        OAuthStart {
            authorization_url: a.authorization_url,
            browser_state: a.browser_state,
        }
    }
}
