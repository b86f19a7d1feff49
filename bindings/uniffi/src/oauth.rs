//! External sign-in (OAuth 2.0 / OpenID Connect) as methods of [`Tessera`]:
//! provider configuration per app, the start of a sign-in (the provider's
//! authorization URL), the callback, the exchange of its one-time code, and
//! the user's linked identities.
//!
//! The binding runs the API flow of the HTTP server: the app registers a
//! `redirect_uri`, the callback (served by whoever owns
//! `{issuer}/v1/sign-in/oauth/{provider}/callback`, e.g. an embedding web
//! app) sends the browser there with `?code=`, and `exchangeOauthCode` turns
//! the code into tokens. Hosted-page flows (cookies) belong to the server.

use crate::factors::{Identity, OAuthCallback, OAuthProvider, OAuthProviderConfig, OAuthStart};
use crate::records::parse_id;
use crate::{AuthSession, ClientInfo, Result, Tessera, TesseraError, client_info, signed_in};
use tessera_core::{CallbackParams, CallbackResult, SignInOutcome, StartOptions};

fn with_query(uri: &str, key: &str, value: &str) -> String {
    let sep = if uri.contains('?') { '&' } else { '?' };
    let mut pair = url_encode(key);
    pair.push('=');
    pair.push_str(&url_encode(value));
    format!("{uri}{sep}{pair}")
}

/// `application/x-www-form-urlencoded` escaping of one key or value.
fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[uniffi::export(async_runtime = "tokio")]
impl Tessera {
    /// Configure (create or replace) the external sign-in provider named
    /// `provider` (1–64 of `a-z0-9_-`) for the app. A `null` client secret
    /// keeps the stored one. The secret is encrypted at rest and never shown.
    ///
    /// Errors: `invalid_input` naming the field (unknown kind, missing or
    /// non-https endpoint, …), `not_found` (app).
    #[uniffi::method(default(app = None))]
    pub async fn put_oauth_provider(
        &self,
        provider: String,
        config: OAuthProviderConfig,
        app: Option<String>,
    ) -> Result<OAuthProvider> {
        let app = self.app(app).await?;
        let input = config.try_into()?;
        Ok(self
            .core
            .oauth()
            .put_provider(&app, &provider, &input)
            .await?
            .into())
    }

    /// A configured provider (without its secret). Errors: `not_found`.
    #[uniffi::method(default(app = None))]
    pub async fn get_oauth_provider(
        &self,
        provider: String,
        app: Option<String>,
    ) -> Result<OAuthProvider> {
        let app = self.app(app).await?;
        Ok(self
            .core
            .oauth()
            .get_provider(&app, &provider)
            .await?
            .into())
    }

    /// The app's providers, by name.
    #[uniffi::method(default(app = None))]
    pub async fn list_oauth_providers(&self, app: Option<String>) -> Result<Vec<OAuthProvider>> {
        let app = self.app(app).await?;
        let list = self.core.oauth().list_providers(&app).await?;
        Ok(list.into_iter().map(Into::into).collect())
    }

    /// Remove a provider. Errors: `not_found`.
    #[uniffi::method(default(app = None))]
    pub async fn delete_oauth_provider(&self, provider: String, app: Option<String>) -> Result<()> {
        let app = self.app(app).await?;
        Ok(self.core.oauth().delete_provider(&app, &provider).await?)
    }

    /// The URL providers send the browser back to for `provider`
    /// (`{issuer}/v1/sign-in/oauth/{provider}/callback`): register it there.
    pub fn oauth_callback_url(&self, provider: String) -> String {
        self.core.oauth().callback_url(&provider)
    }

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
    #[uniffi::method(default(code_challenge = None, link_user_id = None, app = None, client = None))]
    pub async fn start_oauth(
        &self,
        provider: String,
        redirect_uri: String,
        code_challenge: Option<String>,
        link_user_id: Option<String>,
        app: Option<String>,
        client: Option<ClientInfo>,
    ) -> Result<OAuthStart> {
        let link_user = link_user_id
            .map(|u| parse_id("link_user_id", &u))
            .transpose()?;
        let app = self.app(app).await?;
        let options = StartOptions {
            redirect_uri: Some(redirect_uri),
            hosted: false,
            code_challenge,
            link_user,
        };
        Ok(self
            .core
            .oauth()
            .start(&app, &provider, &options, &client_info(client))
            .await?
            .into())
    }

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
    #[uniffi::method(default(
        code = None,
        error = None,
        user = None,
        browser_state = None,
        client = None
    ))]
    #[allow(clippy::too_many_arguments)]
    pub async fn oauth_callback(
        &self,
        provider: String,
        state: String,
        code: Option<String>,
        error: Option<String>,
        user: Option<String>,
        browser_state: Option<String>,
        client: Option<ClientInfo>,
    ) -> Result<OAuthCallback> {
        let params = CallbackParams {
            state: Some(state),
            code,
            error,
            user,
            browser_state,
        };
        let outcome = self
            .core
            .oauth()
            .callback(&provider, &params, &client_info(client))
            .await?;
        let mut answer = OAuthCallback {
            app_id: outcome.app.id.to_string(),
            provider: outcome.provider,
            redirect_uri: outcome.redirect_uri.clone(),
            redirect_to: None,
            code: None,
            error_code: None,
            linked: None,
            session: None,
        };
        let uri = outcome.redirect_uri.as_deref();
        match outcome.result {
            Err(e) => {
                let e = TesseraError::from(e);
                answer.redirect_to = uri.map(|u| with_query(u, "error", e.code()));
                answer.error_code = Some(e.code().to_owned());
            }
            Ok(CallbackResult::Code(code)) => {
                answer.redirect_to = uri.map(|u| with_query(u, "code", &code));
                answer.code = Some(code);
            }
            Ok(CallbackResult::Linked(identity)) => {
                answer.redirect_to = uri.map(|u| with_query(u, "linked", &identity.provider));
                answer.linked = Some(identity.into());
            }
            Ok(CallbackResult::SignedIn(outcome)) => {
                answer.redirect_to = uri.map(str::to_owned);
                answer.session = Some(signed_in(outcome)?);
            }
        }
        Ok(answer)
    }

    /// Exchange the one-time code of a callback for the sign-in, once. When
    /// the start carried a `code_challenge`, `code_verifier` must match it.
    ///
    /// Errors: `invalid_token` (unknown, spent, or wrong verifier),
    /// `token_expired`, `mfa_required` (finish with `completeMfaWith…`; the
    /// challenge is for the code's app).
    #[uniffi::method(default(code_verifier = None))]
    pub async fn exchange_oauth_code(
        &self,
        code: String,
        code_verifier: Option<String>,
    ) -> Result<AuthSession> {
        let (_app, outcome): (_, SignInOutcome) = self
            .core
            .oauth()
            .exchange(&code, code_verifier.as_deref())
            .await?;
        signed_in(outcome)
    }

    /// The user's linked external identities, oldest first.
    pub async fn list_identities(&self, user_id: String) -> Result<Vec<Identity>> {
        let user_id = parse_id("user_id", &user_id)?;
        let list = self.core.oauth().identities(user_id).await?;
        Ok(list.into_iter().map(Into::into).collect())
    }

    /// Unlink one of the user's identities.
    ///
    /// Errors: `not_found` (not theirs), `last_sign_in_method`.
    #[uniffi::method(default(app = None, client = None))]
    pub async fn unlink_identity(
        &self,
        user_id: String,
        identity_id: String,
        app: Option<String>,
        client: Option<ClientInfo>,
    ) -> Result<()> {
        let user_id = parse_id("user_id", &user_id)?;
        let identity_id = parse_id("identity_id", &identity_id)?;
        let app = self.app(app).await?;
        Ok(self
            .core
            .oauth()
            .unlink(&app, user_id, identity_id, &client_info(client))
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::with_query;

    #[test]
    fn query_is_appended_and_escaped() {
        assert_eq!(
            with_query("https://a.example/cb", "code", "tso_x"),
            "https://a.example/cb?code=tso_x"
        );
        assert_eq!(
            with_query("https://a.example/cb?x=1", "error", "a b&c"),
            "https://a.example/cb?x=1&error=a+b%26c"
        );
    }
}
