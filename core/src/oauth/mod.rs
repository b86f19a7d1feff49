//! Sign-in through external OAuth 2.0 and OpenID Connect providers.
//!
//! An app configures providers by name ([`OAuth::put_provider`]): presets
//! for Google, Apple, Microsoft, GitHub, Kakao and Naver, any OpenID Connect
//! provider by issuer, any OAuth 2.0 provider by endpoints and claim mapping.
//! Client secrets are sealed under the key-encryption key.
//!
//! The flow is stateless across instances: [`OAuth::start`] stores the
//! ceremony (a hash of `state`, the `nonce`, where to go afterwards, the
//! client's PKCE challenge) as a one-time token and answers the provider's
//! authorization URL; the PKCE verifier sent to the provider is never stored
//! but derived from `state` under a key derived from the key-encryption key.
//! [`OAuth::callback`] spends that token exactly once, exchanges the code,
//! verifies the ID token (or fetches the user endpoint), resolves the user
//! (see `linking`) and finishes the sign-in through
//! [`Sessions::finish_first_factor`](crate::Sessions), so MFA applies. Apps
//! that asked for a `redirect_uri` get a one-time code that
//! [`OAuth::exchange`] turns into the session (or the MFA challenge): the
//! session starts only then, so a code never exchanged leaves none behind.

mod apple;
mod config;
mod flow;
pub(crate) mod http;
mod linking;
mod profile;
#[cfg(test)]
mod tests;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use config::check_provider_name;
pub use config::{ClaimMapping, ProviderInput, ProviderKind, ProviderSettings, TokenAuth};
pub(crate) use http::Runtime;
pub use profile::ExternalProfile;

use self::config::Resolved;
use self::flow::{AuthorizeParams, ExchangeParams, Failure};
use crate::audit::{EventKind, Subject};
use crate::crypto::{
    TokenHash, b64url, check_token_format, ct_eq, generate_token, hmac_sha256, random_bytes,
};
use crate::model::{
    App, ClientInfo, Identity, OAuthProviderRecord, OneTimeToken, SignInMethod, TokenPurpose, User,
    UserId,
};
use crate::sessions::SignInOutcome;
use crate::{Audit, Error, ErrorKind, Inner, Result, Sessions};

/// Prefix of the one-time exchange code (`?code=tso_…`).
pub const EXCHANGE_CODE_PREFIX: &str = "tso_";
/// How long a started sign-in waits for the provider.
const STATE_TTL: Duration = Duration::minutes(10);
/// How long an exchange code lives.
const EXCHANGE_TTL: Duration = Duration::minutes(5);
/// The `amr` value of a federated sign-in (as Microsoft Entra uses it).
pub const AMR_FEDERATED: &str = "fed";

/// A provider as the admin API shows it: never the secret.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProviderView {
    /// The name within the app (`{provider}` in routes).
    pub provider: String,
    /// The kind.
    pub kind: ProviderKind,
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
    /// Kind-specific settings.
    #[serde(flatten)]
    pub settings: ProviderSettings,
    /// When it was first configured.
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
}

/// How a sign-in is started.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StartOptions {
    /// Where the browser goes at the end (one of the app's registered URIs).
    /// In the API flow it receives `?code=`; in the hosted flow it is where
    /// the signed-in browser lands.
    pub redirect_uri: Option<String>,
    /// Hosted flow: the callback answers with a session for the browser
    /// (cookies) instead of a code.
    pub hosted: bool,
    /// The app's own PKCE challenge (S256, base64url of 32 bytes' SHA-256):
    /// the exchange must then present the verifier.
    pub code_challenge: Option<String>,
    /// Link the provider to this signed-in user instead of signing in.
    pub link_user: Option<UserId>,
}

/// A started sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    /// Send the browser here.
    pub authorization_url: String,
    /// For hosted and link flows: the value that binds the flow to the
    /// browser that started it. Keep it in that browser (an HttpOnly cookie,
    /// ~10 minutes) and pass it back as [`CallbackParams::browser_state`];
    /// the callback refuses the flow without it. `None` for API flows.
    pub browser_state: Option<String>,
}

/// What the provider sent back to the callback.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
pub struct CallbackParams {
    /// The `state` of the start.
    #[serde(default)]
    pub state: Option<String>,
    /// The authorization code.
    #[serde(default)]
    pub code: Option<String>,
    /// An OAuth error code (`access_denied`, …) instead of a code.
    #[serde(default)]
    pub error: Option<String>,
    /// Apple's `user` form field (name and email, on the first sign-in only).
    #[serde(default)]
    pub user: Option<String>,
    /// The `state` the browser was given at the start (the face keeps it in
    /// a cookie). Hosted and link flows require it to equal `state`:
    /// otherwise a callback URL made by someone else could sign this browser
    /// in to their account (login CSRF), or link this person's provider
    /// account to theirs. API sign-in flows are bound by the app's own PKCE.
    #[serde(skip)]
    pub browser_state: Option<String>,
}

impl std::fmt::Debug for CallbackParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The code and state are secrets.
        f.debug_struct("CallbackParams")
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

/// How a callback ended, once its state was accepted.
#[derive(Debug)]
pub enum CallbackResult {
    /// Hosted flow: signed in (or a second factor is needed).
    SignedIn(SignInOutcome),
    /// API flow: the one-time code for `redirect_uri?code=`.
    Code(String),
    /// Link mode: the identity now linked to the caller.
    Linked(Identity),
}

/// A callback whose state was accepted: where it belongs, and how it ended.
#[derive(Debug)]
pub struct CallbackOutcome {
    /// The app the sign-in was for.
    pub app: App,
    /// The provider name.
    pub provider: String,
    /// The registered URI the flow ends at, if any.
    pub redirect_uri: Option<String>,
    /// Whether this is a hosted-page flow.
    pub hosted: bool,
    /// The result; errors carry stable codes (`invalid_token`,
    /// `provider_error`, `account_link_required`, `identity_taken`, …).
    pub result: Result<CallbackResult>,
}

/// The ceremony kept in the state token.
#[derive(Debug, Serialize, Deserialize)]
struct Ceremony {
    provider: String,
    nonce: String,
    redirect_uri: Option<String>,
    hosted: bool,
    code_challenge: Option<String>,
    link: bool,
}

/// What an exchange code stands for: the sign-in to finish when the app
/// presents it. The session (or MFA challenge) is made only then, so an
/// unexchanged code leaves nothing behind.
#[derive(Debug, Serialize, Deserialize)]
struct Pending {
    provider: String,
    code_challenge: Option<String>,
    /// The browser that signed in at the provider (kept on the session).
    client: ClientInfo,
}

/// External OAuth/OIDC sign-in; see [`crate::Tessera::oauth`].
pub struct OAuth<'a> {
    inner: &'a Inner,
}

fn is_b64url_43(s: &str) -> bool {
    s.len() == 43
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn secret_aad(app: &App, name: &str) -> Vec<u8> {
    format!("tessera/oauth-client-secret/{}/{name}", app.id).into_bytes()
}

impl<'a> OAuth<'a> {
    pub(crate) fn new(inner: &'a Inner) -> Self {
        OAuth { inner }
    }

    /// The URL providers send the browser back to for provider `name`:
    /// `{issuer}/v1/sign-in/oauth/{name}/callback` (register it at the provider).
    pub fn callback_url(&self, name: &str) -> String {
        format!("{}/v1/sign-in/oauth/{name}/callback", self.inner.issuer)
    }

    fn view(&self, r: OAuthProviderRecord) -> Result<ProviderView> {
        let kind = ProviderKind::parse(&r.kind)
            .ok_or_else(|| Error::internal(format!("stored provider kind {:?}", r.kind)))?;
        let settings: ProviderSettings =
            serde_json::from_value(r.config.clone()).map_err(Error::internal)?;
        let resolved = Resolved::new(kind, &r.client_id, settings.clone());
        Ok(ProviderView {
            callback_url: self.callback_url(&r.name),
            display_name: resolved.display_name(),
            provider: r.name,
            kind,
            client_id: r.client_id,
            client_secret_set: r.client_secret_sealed.is_some(),
            enabled: r.enabled,
            settings,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }

    /// Configure (create or replace) the provider `name` of `app`. A missing
    /// `client_secret` keeps the stored one. Errors: `invalid_input` naming
    /// the field (unknown kind, missing endpoint, non-https URL, …).
    pub async fn put_provider(
        &self,
        app: &App,
        name: &str,
        input: &ProviderInput,
    ) -> Result<ProviderView> {
        check_provider_name(name)?;
        let store = self.inner.store.oauth_providers();
        let existing = store.find_oauth_provider(app.id, name).await?;
        let aad = secret_aad(app, name);
        let kept_secret = match (&input.client_secret, &existing) {
            (None, Some(old)) => match &old.client_secret_sealed {
                Some(sealed) => Some(
                    String::from_utf8(self.inner.keyring.open(sealed, &aad)?)
                        .map_err(Error::internal)?,
                ),
                None => None,
            },
            _ => None,
        };
        let secret_after = input.client_secret.as_deref().or(kept_secret.as_deref());
        let kind = config::validate(input, secret_after, self.inner.oauth.development)?;
        let sealed = match secret_after {
            Some(s) => Some(self.inner.keyring.seal(s.as_bytes(), &aad)?),
            None => None,
        };
        let now = self.inner.now();
        let record = OAuthProviderRecord {
            app_id: app.id,
            name: name.to_owned(),
            kind: kind.as_str().to_owned(),
            client_id: input.client_id.trim().to_owned(),
            client_secret_sealed: sealed,
            config: serde_json::to_value(input.settings()).map_err(Error::internal)?,
            enabled: input.enabled.unwrap_or(true),
            created_at: now,
            updated_at: now,
        };
        let event = Audit::new(self.inner).event(
            EventKind::OauthProviderChanged,
            Subject {
                app: Some(app),
                ..Default::default()
            },
            json!({ "provider": name, "kind": kind.as_str(), "action": "put" }),
        );
        let stored = store.put_oauth_provider(&record, &[event]).await?;
        self.view(stored)
    }

    /// One provider of `app`; `not_found` if missing.
    pub async fn get_provider(&self, app: &App, name: &str) -> Result<ProviderView> {
        let r = self
            .inner
            .store
            .oauth_providers()
            .find_oauth_provider(app.id, name)
            .await?
            .ok_or_else(|| Error::new(ErrorKind::NotFound))?;
        self.view(r)
    }

    /// Every provider of `app`, by name.
    pub async fn list_providers(&self, app: &App) -> Result<Vec<ProviderView>> {
        self.inner
            .store
            .oauth_providers()
            .list_oauth_providers(app.id)
            .await?
            .into_iter()
            .map(|r| self.view(r))
            .collect()
    }

    /// The providers a sign-in page offers: enabled ones, when the app
    /// enables OAuth sign-in at all.
    pub async fn enabled_providers(&self, app: &App) -> Result<Vec<ProviderView>> {
        if !app.settings.allows(SignInMethod::Oauth) {
            return Ok(Vec::new());
        }
        let mut list = self.list_providers(app).await?;
        list.retain(|p| p.enabled);
        Ok(list)
    }

    /// Remove provider `name` of `app`; `not_found` if missing. Identities
    /// linked through it stay (re-adding the provider revives them).
    pub async fn delete_provider(&self, app: &App, name: &str) -> Result<()> {
        let event = Audit::new(self.inner).event(
            EventKind::OauthProviderChanged,
            Subject {
                app: Some(app),
                ..Default::default()
            },
            json!({ "provider": name, "action": "delete" }),
        );
        if !self
            .inner
            .store
            .oauth_providers()
            .delete_oauth_provider(app.id, name, &[event])
            .await?
        {
            return Err(Error::new(ErrorKind::NotFound));
        }
        Ok(())
    }

    /// An enabled provider of `app`, resolved, with its secret opened.
    async fn provider(&self, app: &App, name: &str) -> Result<(Resolved, Option<String>)> {
        let record = match self
            .inner
            .store
            .oauth_providers()
            .find_oauth_provider(app.id, name)
            .await?
        {
            Some(r) if r.enabled => r,
            _ => {
                return Err(Error::with_message(
                    ErrorKind::NotFound,
                    "This app has no such sign-in provider.",
                ));
            }
        };
        let kind = ProviderKind::parse(&record.kind)
            .ok_or_else(|| Error::internal("unknown stored provider kind"))?;
        let settings: ProviderSettings =
            serde_json::from_value(record.config).map_err(Error::internal)?;
        let secret = match &record.client_secret_sealed {
            Some(sealed) => Some(
                String::from_utf8(self.inner.keyring.open(sealed, &secret_aad(app, name))?)
                    .map_err(Error::internal)?,
            ),
            None => None,
        };
        Ok((Resolved::new(kind, &record.client_id, settings), secret))
    }

    /// The PKCE verifier sent to the provider for `state`: derived, never stored.
    fn pkce_verifier(&self, state: &str) -> String {
        let key = self.inner.keyring.derive("tessera/oauth-pkce/v1");
        b64url(&hmac_sha256(&key, state.as_bytes()))
    }

    /// Start signing in to `app` through provider `name`: answers the
    /// provider's authorization URL. Errors: `method_disabled` (the app does
    /// not enable OAuth), `not_found` (no such enabled provider),
    /// `invalid_input` (`redirect_uri` not registered, or missing in the API
    /// flow; malformed `code_challenge`), `provider_error` (discovery failed).
    pub async fn start(
        &self,
        app: &App,
        name: &str,
        options: &StartOptions,
        client: &ClientInfo,
    ) -> Result<Authorization> {
        if !app.settings.allows(SignInMethod::Oauth) {
            return Err(Error::new(ErrorKind::MethodDisabled));
        }
        if let Some(uri) = &options.redirect_uri
            && !app.settings.redirect_uris.iter().any(|r| r == uri)
        {
            return Err(Error::invalid(
                "redirect_uri",
                "the redirect URI is not registered for this app",
            ));
        }
        if !options.hosted && options.redirect_uri.is_none() {
            return Err(Error::invalid(
                "redirect_uri",
                "a redirect URI is required (or start from the hosted sign-in page)",
            ));
        }
        if let Some(c) = &options.code_challenge
            && !is_b64url_43(c)
        {
            return Err(Error::invalid(
                "code_challenge",
                "code_challenge must be the S256 challenge: base64url of a SHA-256 digest",
            ));
        }
        let (provider, _) = self.provider(app, name).await?;
        let endpoints = flow::endpoints(&self.inner.oauth, &provider, false).await?;
        let state = b64url(&random_bytes::<32>());
        let nonce = b64url(&random_bytes::<32>());
        let callback = self.callback_url(name);
        let url = flow::authorization_url(
            &provider,
            &endpoints,
            &AuthorizeParams {
                callback: &callback,
                state: &state,
                nonce: &nonce,
                pkce_verifier: &self.pkce_verifier(&state),
            },
        )?;
        let now = self.inner.now();
        let ceremony = Ceremony {
            provider: name.to_owned(),
            nonce,
            redirect_uri: options.redirect_uri.clone(),
            hosted: options.hosted,
            code_challenge: options.code_challenge.clone(),
            link: options.link_user.is_some(),
        };
        let token = OneTimeToken {
            hash: TokenHash::of(&state),
            purpose: TokenPurpose::OauthState.as_str().to_owned(),
            pool_id: app.pool_id,
            app_id: Some(app.id),
            user_id: options.link_user,
            subject: None,
            data: serde_json::to_value(&ceremony).map_err(Error::internal)?,
            attempts: 0,
            created_at: now,
            expires_at: now + STATE_TTL,
        };
        self.inner.store.tokens().insert_token(&token).await?;
        Audit::new(self.inner)
            .record(
                EventKind::OauthStarted,
                Subject {
                    app: Some(app),
                    user_id: options.link_user,
                    client: Some(client),
                    ..Default::default()
                },
                json!({
                    "provider": name,
                    "mode": if options.link_user.is_some() { "link" }
                        else if options.hosted { "hosted" } else { "api" },
                }),
            )
            .await?;
        let bound = options.hosted || options.link_user.is_some();
        Ok(Authorization {
            authorization_url: url,
            browser_state: bound.then_some(state),
        })
    }

    async fn failed(
        &self,
        app: Option<&App>,
        user_id: Option<UserId>,
        provider: &str,
        reason: &str,
        client: &ClientInfo,
    ) -> Result<()> {
        Audit::new(self.inner)
            .record(
                EventKind::OauthFailed,
                Subject {
                    app,
                    user_id,
                    client: Some(client),
                    ..Default::default()
                },
                json!({
                    // The name comes from the request path: recorded only when well formed.
                    "provider": if check_provider_name(provider).is_ok() { provider } else { "" },
                    "reason": reason,
                }),
            )
            .await
    }

    /// Handle the provider's return to `…/oauth/{name}/callback`. An unknown,
    /// spent, expired or foreign `state` is an error (`invalid_token` /
    /// `token_expired`) with nowhere to go back to; once the state is
    /// accepted (and spent), the outcome says where the flow ends and how.
    pub async fn callback(
        &self,
        name: &str,
        params: &CallbackParams,
        client: &ClientInfo,
    ) -> Result<CallbackOutcome> {
        let state = params.state.as_deref().unwrap_or_default();
        if !is_b64url_43(state) {
            self.failed(None, None, name, "state_invalid", client)
                .await?;
            return Err(Error::new(ErrorKind::InvalidToken));
        }
        let now = self.inner.now();
        let token = match self
            .inner
            .store
            .tokens()
            .consume_token(
                TokenPurpose::OauthState.as_str(),
                &TokenHash::of(state),
                now,
            )
            .await
        {
            Ok(t) => t,
            Err(e) if matches!(e.kind(), ErrorKind::InvalidToken | ErrorKind::TokenExpired) => {
                self.failed(None, None, name, "state_invalid", client)
                    .await?;
                return Err(e);
            }
            Err(e) => return Err(e),
        };
        let ceremony: Ceremony =
            serde_json::from_value(token.data.clone()).map_err(Error::internal)?;
        let app_id = token
            .app_id
            .ok_or_else(|| Error::internal("oauth state without an app"))?;
        let app = self.inner.store.apps().get_app(app_id).await?;
        if ceremony.provider != name {
            self.failed(
                Some(&app),
                token.user_id,
                name,
                "state_provider_mismatch",
                client,
            )
            .await?;
            return Err(Error::new(ErrorKind::InvalidToken));
        }
        let result = match self
            .finish(&app, name, state, &ceremony, &token, params, client)
            .await
        {
            Ok(r) => Ok(r),
            Err(f) => {
                self.failed(Some(&app), token.user_id, name, f.reason, client)
                    .await?;
                Err(f.error)
            }
        };
        Ok(CallbackOutcome {
            app,
            provider: name.to_owned(),
            redirect_uri: ceremony.redirect_uri,
            hosted: ceremony.hosted,
            result,
        })
    }

    #[allow(clippy::too_many_arguments)]
    async fn finish(
        &self,
        app: &App,
        name: &str,
        state: &str,
        ceremony: &Ceremony,
        token: &OneTimeToken,
        params: &CallbackParams,
        client: &ClientInfo,
    ) -> std::result::Result<CallbackResult, Failure> {
        if (ceremony.hosted || ceremony.link)
            && !params
                .browser_state
                .as_deref()
                .is_some_and(|b| ct_eq(b.as_bytes(), state.as_bytes()))
        {
            return Err(Failure::new(
                "browser_mismatch",
                Error::with_message(
                    ErrorKind::InvalidToken,
                    "This sign-in was started in another browser. Start again.",
                ),
            ));
        }
        if let Some(err) = &params.error {
            let code: String = err
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                .take(64)
                .collect();
            return Err(Failure::new(
                "provider_denied",
                Error::with_message(
                    ErrorKind::ProviderError,
                    format!("The provider did not sign you in ({code})."),
                ),
            ));
        }
        let code = params
            .code
            .as_deref()
            .filter(|c| !c.is_empty() && c.len() <= 4096)
            .ok_or_else(|| Failure::new("code_missing", Error::new(ErrorKind::InvalidToken)))?;
        let storage = |e: Error| Failure::new("provider_unavailable", e);
        let (provider, secret) = self.provider(app, name).await.map_err(storage)?;
        let endpoints = flow::endpoints(&self.inner.oauth, &provider, false)
            .await
            .map_err(storage)?;
        let now = self.inner.now();
        let secret = if provider.kind == ProviderKind::Apple {
            let s = &provider.settings;
            match (&s.team_id, &s.key_id, &secret) {
                (Some(team), Some(key), Some(pem)) => Some(
                    apple::client_secret(team, key, &provider.client_id, pem, now)
                        .map_err(storage)?,
                ),
                _ => return Err(storage(Error::config("apple provider is missing its key"))),
            }
        } else {
            secret
        };
        let callback = self.callback_url(name);
        let verifier = self.pkce_verifier(state);
        let profile = flow::complete(
            &self.inner.oauth,
            &provider,
            &endpoints,
            ExchangeParams {
                callback: &callback,
                code,
                state,
                pkce_verifier: &verifier,
                client_secret: secret,
                nonce: &ceremony.nonce,
                now,
            },
        )
        .await?;
        if ceremony.link {
            let user_id = token.user_id.ok_or_else(|| {
                Failure::new("link_user_missing", Error::new(ErrorKind::Unauthenticated))
            })?;
            let identity =
                linking::link_to_user(self.inner, app, name, &profile, user_id, client).await?;
            return Ok(CallbackResult::Linked(identity));
        }
        let first_name = match (&provider.kind, &params.user) {
            (ProviderKind::Apple, Some(u)) => apple::name_from_user_field(u),
            _ => None,
        };
        let user =
            linking::resolve_user(self.inner, app, name, &profile, first_name, client).await?;
        self.check_may_sign_in(app, &user)?;
        if !ceremony.hosted {
            let code = self
                .issue_exchange_code(app, &user, name, ceremony.code_challenge.clone(), client)
                .await
                .map_err(|e| Failure::new("storage", e))?;
            return Ok(CallbackResult::Code(code));
        }
        let outcome = Sessions::new(self.inner)
            .finish_first_factor(
                app,
                &user,
                vec![AMR_FEDERATED.to_owned()],
                client,
                &format!("oauth:{name}"),
            )
            .await
            .map_err(|e| Failure::new("session_failed", e))?;
        Ok(CallbackResult::SignedIn(outcome))
    }

    fn check_may_sign_in(&self, app: &App, user: &User) -> std::result::Result<(), Failure> {
        if user.disabled {
            return Err(Failure::new(
                "user_disabled",
                Error::new(ErrorKind::UserDisabled),
            ));
        }
        if app.settings.require_verified_email && !user.email_verified {
            return Err(Failure::new(
                "email_not_verified",
                Error::new(ErrorKind::EmailNotVerified),
            ));
        }
        Ok(())
    }

    async fn issue_exchange_code(
        &self,
        app: &App,
        user: &User,
        provider: &str,
        code_challenge: Option<String>,
        client: &ClientInfo,
    ) -> Result<String> {
        let (code, hash) = generate_token(EXCHANGE_CODE_PREFIX);
        let pending = Pending {
            provider: provider.to_owned(),
            code_challenge,
            client: client.clone(),
        };
        let now = self.inner.now();
        let token = OneTimeToken {
            hash,
            purpose: TokenPurpose::OauthExchange.as_str().to_owned(),
            pool_id: app.pool_id,
            app_id: Some(app.id),
            user_id: Some(user.id),
            subject: None,
            data: serde_json::to_value(&pending).map_err(Error::internal)?,
            attempts: 0,
            created_at: now,
            expires_at: now + EXCHANGE_TTL,
        };
        self.inner.store.tokens().insert_token(&token).await?;
        Ok(code)
    }

    /// Exchange the one-time code of an API-flow callback for the sign-in,
    /// once: the session starts now (or the MFA challenge is answered), for
    /// the browser that signed in at the provider. When the start carried a
    /// `code_challenge`, `code_verifier` must match it (S256); a wrong or
    /// missing verifier spends the code. Errors: `invalid_token` (unknown,
    /// spent, or wrong verifier), `token_expired`, `user_disabled`.
    pub async fn exchange(
        &self,
        code: &str,
        code_verifier: Option<&str>,
    ) -> Result<(App, SignInOutcome)> {
        check_token_format(code, EXCHANGE_CODE_PREFIX)?;
        let token = self
            .inner
            .store
            .tokens()
            .consume_token(
                TokenPurpose::OauthExchange.as_str(),
                &TokenHash::of(code),
                self.inner.now(),
            )
            .await?;
        let pending: Pending = serde_json::from_value(token.data).map_err(Error::internal)?;
        let (app_id, user_id) = match (token.app_id, token.user_id) {
            (Some(a), Some(u)) => (a, u),
            _ => return Err(Error::new(ErrorKind::InvalidToken)),
        };
        let app = self.inner.store.apps().get_app(app_id).await?;
        let client = &pending.client;
        if let Some(challenge) = &pending.code_challenge {
            let ok = code_verifier.is_some_and(|v| {
                let digest = <sha2::Sha256 as sha2::Digest>::digest(v.as_bytes());
                (43..=128).contains(&v.len())
                    && ct_eq(b64url(&digest).as_bytes(), challenge.as_bytes())
            });
            if !ok {
                let reason = "code_verifier_mismatch";
                self.failed(Some(&app), Some(user_id), &pending.provider, reason, client)
                    .await?;
                return Err(Error::with_message(
                    ErrorKind::InvalidToken,
                    "The code verifier does not match the code challenge.",
                ));
            }
        }
        // The user may have been deleted meanwhile (the code goes with them,
        // but a racing exchange may still hold it).
        let user = match self.inner.store.users().get_user(user_id).await {
            Ok(u) => u,
            Err(e) if *e.kind() == ErrorKind::NotFound => {
                return Err(Error::new(ErrorKind::InvalidToken));
            }
            Err(e) => return Err(e),
        };
        if let Err(f) = self.check_may_sign_in(&app, &user) {
            self.failed(
                Some(&app),
                Some(user.id),
                &pending.provider,
                f.reason,
                client,
            )
            .await?;
            return Err(f.error);
        }
        let outcome = Sessions::new(self.inner)
            .finish_first_factor(
                &app,
                &user,
                vec![AMR_FEDERATED.to_owned()],
                client,
                &format!("oauth:{}", pending.provider),
            )
            .await?;
        Ok((app, outcome))
    }

    /// The user's linked identities, oldest first.
    pub async fn identities(&self, user_id: UserId) -> Result<Vec<Identity>> {
        self.inner.store.identities().list_identities(user_id).await
    }

    /// Unlink one of the user's identities. `not_found` if it is not theirs;
    /// `last_sign_in_method` when it is their last way to sign in to `app`
    /// (no password, no passkey, no other identity, and no verified email the
    /// app lets them sign in with by code or magic link).
    pub async fn unlink(
        &self,
        app: &App,
        user_id: UserId,
        identity_id: uuid::Uuid,
        client: &ClientInfo,
    ) -> Result<()> {
        let store = &self.inner.store;
        let identity = store
            .identities()
            .list_identities(user_id)
            .await?
            .into_iter()
            .find(|i| i.id == identity_id)
            .ok_or_else(|| Error::new(ErrorKind::NotFound))?;
        let user = store.users().get_user(user_id).await?;
        let event = Audit::new(self.inner).event(
            EventKind::IdentityUnlinked,
            Subject {
                app: Some(app),
                user: Some(&user),
                client: Some(client),
                identity: Some(&identity),
                ..Default::default()
            },
            json!({ "provider": identity.provider, "identity_id": identity.id }),
        );
        crate::users::delete_sign_in_method(
            self.inner,
            Some(app),
            &user,
            crate::model::SignInMethodRef::Identity(identity.id),
            event,
        )
        .await
    }
}
