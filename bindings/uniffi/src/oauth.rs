//! External sign-in (OAuth 2.0 / OpenID Connect): provider configuration
//! per app, the start of a sign-in (the provider's authorization URL), the
//! callback, the exchange of its one-time code, and the user's linked
//! identities.
//!
//! The binding runs the API flow of the HTTP server: the app registers a
//! `redirect_uri`, the callback (served by whoever owns
//! `{issuer}/v1/sign-in/oauth/{provider}/callback`, e.g. an embedding web
//! app) sends the browser there with `?code=`, and `exchangeOauthCode` turns
//! the code into tokens. Hosted-page flows (cookies) belong to the server.

use std::time::SystemTime;

use tessera_bindings_common::oauth::{self, CallbackEnd, Start};
use tessera_core::{CallbackParams, model};

use crate::Tessera;
use crate::convert::{FromCore, parse_id, parse_opt_id};
use crate::sessions::{AuthSession, ClientInfo, client_info};
use crate::{Result, TesseraError};

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

impl FromCore<tessera_core::ClaimMapping> for OAuthClaimMapping {
    fn from_core(c: tessera_core::ClaimMapping) -> Result<Self> {
        Ok(OAuthClaimMapping {
            id: c.id,
            email: c.email,
            email_verified: c.email_verified,
            name: c.name,
        })
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

    fn try_from(c: OAuthProviderConfig) -> Result<Self> {
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

impl FromCore<tessera_core::ProviderView> for OAuthProvider {
    fn from_core(v: tessera_core::ProviderView) -> Result<Self> {
        let s = v.settings;
        Ok(OAuthProvider {
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
            claims: FromCore::from_core(s.claims)?,
            team_id: s.team_id,
            key_id: s.key_id,
            tenant: s.tenant,
            token_endpoint_auth: s.token_endpoint_auth.map(token_auth_name),
            created_at: v.created_at.into(),
            updated_at: v.updated_at.into(),
        })
    }
}

crate::mirror! {
    /// An external account linked to a user.
    #[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
    pub struct Identity from model::Identity {
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

impl FromCore<oauth::Callback> for OAuthCallback {
    fn from_core(c: oauth::Callback) -> Result<Self> {
        let mut answer = OAuthCallback {
            app_id: c.app_id,
            provider: c.provider,
            redirect_uri: c.redirect_uri,
            redirect_to: c.redirect_to,
            code: None,
            error_code: None,
            linked: None,
            session: None,
        };
        match c.end {
            CallbackEnd::Code(code) => answer.code = Some(code),
            CallbackEnd::Failed(e) => answer.error_code = Some(e.code().to_owned()),
            CallbackEnd::Linked(identity) => answer.linked = Some(Identity::from_core(identity)?),
            CallbackEnd::SignedIn(outcome) => {
                answer.session = Some(AuthSession::from_core(outcome)?)
            }
        }
        Ok(answer)
    }
}

crate::mirror! {
    /// A started external sign-in: send the browser to `authorizationUrl`.
    /// (`browserState` is the `state` the URL carries to the provider: not a
    /// secret from that browser, but only it may present it back.)
    #[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
    pub struct OAuthStart from tessera_core::Authorization {
        /// The provider's authorization URL.
        pub authorization_url: String,
        /// For link-mode flows: the value that binds the flow to the browser
        /// that started it. Keep it in that browser (an HttpOnly cookie, about
        /// 10 minutes) and pass it back to `oauthCallback` as `browserState`;
        /// `null` for sign-in flows.
        pub browser_state: Option<String>,
    }
}

crate::exports! {
    /// Configure (create or replace) the external sign-in provider named
    /// `provider` (1–64 of `a-z0-9_-`) for the app. A `null` client secret
    /// keeps the stored one. The secret is encrypted at rest and never shown.
    ///
    /// Errors: `invalid_input` naming the field (unknown kind, missing or
    /// non-https endpoint, …), `not_found` (app).
    fn put_oauth_provider(provider: String, config: OAuthProviderConfig, app: Option<String>) -> OAuthProvider
        [app = None]
        |core| oauth::put_provider(core, app.as_deref(), &provider, &config.try_into()?);

    /// A configured provider (without its secret). Errors: `not_found`.
    fn get_oauth_provider(provider: String, app: Option<String>) -> OAuthProvider [app = None]
        |core| oauth::get_provider(core, app.as_deref(), &provider);

    /// The app's providers, by name.
    fn list_oauth_providers(app: Option<String>) -> Vec<OAuthProvider> [app = None]
        |core| oauth::list_providers(core, app.as_deref());

    /// Remove a provider. Errors: `not_found`.
    fn delete_oauth_provider(provider: String, app: Option<String>) -> () [app = None]
        |core| oauth::delete_provider(core, app.as_deref(), &provider);

    /// Start signing in through `provider`: the provider's authorization URL
    /// to send the browser to (with Tessera's own state, PKCE S256 and, for
    /// OpenID Connect, nonce). `redirect_uri` (registered for the app) is
    /// where the flow ends with `?code=`. `code_challenge` (S256) binds the
    /// exchange to your own verifier (public clients). With `link_user_id`
    /// the provider is linked to that signed-in user instead; keep the
    /// answer's `browserState` in the browser for `oauthCallback`.
    ///
    /// Errors: `method_disabled`, `not_found` (no such enabled provider),
    /// `invalid_input` (`redirect_uri` not registered, malformed
    /// `code_challenge`), `provider_error` (discovery failed).
    fn start_oauth(provider: String, redirect_uri: String, code_challenge: Option<String>, link_user_id: Option<String>, app: Option<String>, client: Option<ClientInfo>) -> OAuthStart
        [code_challenge = None, link_user_id = None, app = None, client = None]
        |core| oauth::start(
            core,
            app.as_deref(),
            &provider,
            Start {
                redirect_uri,
                code_challenge,
                link_user: parse_opt_id("link_user_id", link_user_id)?,
            },
            &client_info(client),
        );

    /// Handle the provider's return to the callback URL (its `state`, and
    /// `code` or `error`; Apple's form post adds `user`). The state is spent
    /// on first use. Once it is accepted, failures of the sign-in itself are
    /// not thrown but answered in `errorCode` / `redirectTo`, as the HTTP
    /// server does.
    ///
    /// `browser_state` is `startOauth`'s `browserState`, kept in the
    /// browser that started the flow (an HttpOnly cookie): link mode
    /// requires it, so a callback URL made in another browser cannot link an
    /// account of the attacker's to the victim's.
    ///
    /// Errors: `invalid_token` / `token_expired` (unknown, spent or expired
    /// state), `mfa_required` (a hosted-page flow needing a second factor).
    fn oauth_callback(provider: String, state: String, code: Option<String>, error: Option<String>, user: Option<String>, browser_state: Option<String>, client: Option<ClientInfo>) -> OAuthCallback
        [code = None, error = None, user = None, browser_state = None, client = None]
        |core| oauth::callback(
            core,
            &provider,
            &CallbackParams { state: Some(state), code, error, user, browser_state },
            &client_info(client),
        );

    /// Exchange the one-time code of a callback for the sign-in, once. When
    /// the start carried a `code_challenge`, `code_verifier` must match it.
    ///
    /// Errors: `invalid_token` (unknown, spent, or wrong verifier),
    /// `token_expired`, `mfa_required` (finish with `completeMfaWith…`; the
    /// challenge is for the code's app).
    fn exchange_oauth_code(code: String, code_verifier: Option<String>) -> AuthSession
        [code_verifier = None]
        |core| oauth::exchange(core, &code, code_verifier.as_deref());

    /// The user's linked external identities, oldest first.
    fn list_identities(user_id: String) -> Vec<Identity>
        |core| oauth::identities(core, parse_id("user_id", &user_id)?);

    /// Unlink one of the user's identities.
    ///
    /// Errors: `not_found` (not theirs), `last_sign_in_method`.
    fn unlink_identity(user_id: String, identity_id: String, app: Option<String>, client: Option<ClientInfo>) -> ()
        [app = None, client = None]
        |core| oauth::unlink(
            core,
            app.as_deref(),
            parse_id("user_id", &user_id)?,
            parse_id("identity_id", &identity_id)?,
            &client_info(client),
        );
}

#[uniffi::export]
impl Tessera {
    /// The URL providers send the browser back to for `provider`
    /// (`{issuer}/v1/sign-in/oauth/{provider}/callback`): register it there.
    pub fn oauth_callback_url(&self, provider: String) -> String {
        self.core.oauth().callback_url(&provider)
    }
}
