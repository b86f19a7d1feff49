//! External sign-in (OAuth 2.0 / OpenID Connect): `OAuthProvider`,
//! `OAuthStart`, `OAuthCallback`, `Identity` and the methods that configure
//! providers, start, handle the callback, exchange its code and unlink.

use pyo3::prelude::*;
use tessera_bindings_common::oauth;
use tessera_core::model;

use crate::convert::{Field, Id, Json, ToPy, client, repr_opt, repr_str};
use crate::{AsyncTessera, Tessera};

crate::record! {
    /// A configured external sign-in provider, as shown back: never the secret.
    pub(crate) struct OAuthProvider(tessera_core::ProviderView) repr(provider, kind, client_id) {
        /// The name within the app (`{provider}` in routes).
        provider,
        /// The OAuth client id.
        client_id,
        /// Whether a client secret is stored (it is never shown).
        client_secret_set,
        /// Whether sign-in through it is offered.
        enabled,
        /// Label on the sign-in button.
        display_name,
        /// The redirect URI to register at the provider.
        callback_url,
        /// Kind-specific settings (`issuer`, endpoints, `scopes`, `claims`, …) as a dict.
        settings as json,
        /// When it was first configured.
        created_at,
        /// When it was last changed.
        updated_at,
    }
}

#[pymethods]
impl OAuthProvider {
    /// The kind (`google`, `apple`, `microsoft`, `github`, `kakao`, `naver`, `oidc`, `oauth2`).
    #[getter]
    fn kind(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.inner.kind.as_str().to_owned().field(py)
    }
}

crate::record! {
    /// An external account linked to a user.
    pub(crate) struct Identity(model::Identity) repr(id, provider, email) {
        /// Unique id (for unlinking).
        id,
        /// The linked user.
        user_id,
        /// Provider name as configured (`google`, `okta`, …).
        provider,
        /// The provider's stable user id (`sub`).
        subject,
        /// Email the provider reported.
        email,
        /// Whether the provider asserted the email is verified.
        email_verified,
        /// When it was linked.
        created_at,
        /// When it last signed the user in.
        last_used_at,
    }
}

/// Where an OAuth callback ends, once its state was accepted: send the
/// browser to `redirect_to`.
#[pyclass(frozen, name = "OAuthCallback", module = "tessera")]
pub(crate) struct PyOAuthCallback {
    /// The app the sign-in was for.
    #[pyo3(get)]
    app_id: String,
    /// The provider name.
    #[pyo3(get)]
    provider: String,
    /// The registered URI the flow ends at, if any.
    #[pyo3(get)]
    redirect_uri: Option<String>,
    /// Where to send the browser: `redirect_uri` with `?code=` (exchange it
    /// with `exchange_oauth_code`), `?error=<code>` or `?linked=<provider>`.
    #[pyo3(get)]
    redirect_to: Option<String>,
    /// The one-time exchange code (`tso_…`, 5 minutes), on success.
    #[pyo3(get)]
    code: Option<String>,
    /// The stable error code when the sign-in failed after the state was
    /// accepted (`invalid_token`, `provider_error`, `account_link_required`, …).
    #[pyo3(get)]
    error_code: Option<String>,
    /// The `Identity` linked, in link mode.
    #[pyo3(get)]
    linked: Option<Py<PyAny>>,
    /// The `AuthSession` of a hosted-page flow (started by the server).
    #[pyo3(get)]
    session: Option<Py<PyAny>>,
}

#[pymethods]
impl PyOAuthCallback {
    fn __repr__(&self) -> String {
        format!(
            "OAuthCallback(provider={}, redirect_uri={}, error_code={})",
            repr_str(&self.provider),
            repr_opt(self.redirect_uri.as_deref()),
            repr_opt(self.error_code.as_deref())
        )
    }
}

impl ToPy for oauth::Callback {
    fn to_py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let mut value = PyOAuthCallback {
            app_id: self.app_id,
            provider: self.provider,
            redirect_uri: self.redirect_uri,
            redirect_to: self.redirect_to,
            code: None,
            error_code: None,
            linked: None,
            session: None,
        };
        match self.end {
            oauth::CallbackEnd::Failed(e) => value.error_code = Some(e.code().to_owned()),
            oauth::CallbackEnd::Code(code) => value.code = Some(code),
            oauth::CallbackEnd::Linked(identity) => value.linked = Some(identity.to_py(py)?),
            // A session, or `MfaRequired` raised with its challenge.
            oauth::CallbackEnd::SignedIn(outcome) => value.session = Some(outcome.to_py(py)?),
        }
        Ok(Py::new(py, value)?.into_any())
    }
}

/// A started external sign-in: send the browser to `authorization_url`.
#[pyclass(frozen, module = "tessera")]
pub(crate) struct OAuthStart {
    /// The provider's authorization URL.
    #[pyo3(get)]
    authorization_url: String,
    /// For link-mode flows: the value that binds the flow to the browser
    /// that started it. Keep it in that browser (an HttpOnly cookie, about
    /// 10 minutes) and pass it back to `oauth_callback(browser_state=)`;
    /// `None` for sign-in flows.
    #[pyo3(get)]
    browser_state: Option<String>,
}

#[pymethods]
impl OAuthStart {
    /// The authorization URL, so the object can be used where a URL is wanted.
    fn __str__(&self) -> &str {
        &self.authorization_url
    }
    fn __repr__(&self) -> String {
        format!(
            "OAuthStart(authorization_url={})",
            repr_str(&self.authorization_url)
        )
    }
}

impl ToPy for tessera_core::Authorization {
    fn to_py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let value = OAuthStart {
            authorization_url: self.authorization_url,
            browser_state: self.browser_state,
        };
        Ok(Py::new(py, value)?.into_any())
    }
}

crate::methods! {
    /// Configure (create or replace) an external sign-in provider of the app
    /// from a dict shaped like the admin API's body (`kind`, `client_id`,
    /// `client_secret`, `issuer`, …): an `OAuthProvider` (never the secret).
    fn put_oauth_provider(provider: String, config: Json, app: Option<String>)
        [provider, config, *, app = None]
        |core| async move {
            let input: tessera_core::ProviderInput = serde_json::from_value(config.0)
                .map_err(|e| tessera_core::Error::invalid("config", e.to_string()))?;
            oauth::put_provider(core, app.as_deref(), &provider, &input).await
        };
    /// A configured provider (`NotFound` if none).
    fn get_oauth_provider(provider: String, app: Option<String>)
        [provider, *, app = None]
        |core| oauth::get_provider(core, app.as_deref(), &provider);
    /// The app's providers, by name.
    fn list_oauth_providers(app: Option<String>)
        [*, app = None]
        |core| oauth::list_providers(core, app.as_deref());
    /// Remove a provider.
    fn delete_oauth_provider(provider: String, app: Option<String>)
        [provider, *, app = None]
        |core| oauth::delete_provider(core, app.as_deref(), &provider);
    /// Start signing in through `provider`: an `OAuthStart` whose
    /// `authorization_url` the browser goes to. The flow ends at
    /// `redirect_uri` (registered) with `?code=`; `code_challenge=` (S256)
    /// binds the exchange to your verifier; `link_user_id=` links the
    /// provider to that user instead (keep `browser_state` in the browser).
    fn start_oauth(provider: String, redirect_uri: String, code_challenge: Option<String>, link_user_id: Option<Id>, app: Option<String>, ip: Option<String>, user_agent: Option<String>)
        [provider, redirect_uri, *, code_challenge = None, link_user_id = None, app = None, ip = None, user_agent = None]
        |core| oauth::start(
            core, app.as_deref(), &provider,
            oauth::Start { redirect_uri, code_challenge, link_user: link_user_id.map(|u| u.0) },
            &client(ip, user_agent),
        );
    /// Handle the provider's return to the callback URL: an `OAuthCallback`
    /// (`redirect_to`, `code` or `error_code`). An unknown, spent or expired
    /// `state` raises `InvalidToken` / `TokenExpired`. `browser_state` is
    /// `start_oauth`'s, kept in the browser that started (an HttpOnly
    /// cookie): link mode requires it.
    fn oauth_callback(provider: String, state: String, code: Option<String>, error: Option<String>, user: Option<String>, browser_state: Option<String>, ip: Option<String>, user_agent: Option<String>)
        [provider, state, *, code = None, error = None, user = None, browser_state = None, ip = None, user_agent = None]
        |core| oauth::callback(
            core, &provider,
            &tessera_core::CallbackParams { state: Some(state), code, error, user, browser_state },
            &client(ip, user_agent),
        );
    /// Exchange a callback's one-time code for the sign-in: the
    /// `AuthSession`, or `MfaRequired` raised. `code_verifier=` when the start
    /// had a `code_challenge`.
    fn exchange_oauth_code(code: String, code_verifier: Option<String>)
        [code, *, code_verifier = None]
        |core| oauth::exchange(core, &code, code_verifier.as_deref());
    /// The user's linked external identities (`Identity`), oldest first.
    fn list_identities(user_id: Id)
        [user_id]
        |core| oauth::identities(core, user_id.0);
    /// Unlink one of the user's identities (not their last way to sign in).
    fn unlink_identity(user_id: Id, identity_id: Id, app: Option<String>, ip: Option<String>, user_agent: Option<String>)
        [user_id, identity_id, *, app = None, ip = None, user_agent = None]
        |core| oauth::unlink(core, app.as_deref(), user_id.0, identity_id.0, &client(ip, user_agent));
}
