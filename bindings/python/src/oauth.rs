//! External sign-in (OAuth 2.0 / OpenID Connect): `OAuthProvider`,
//! `OAuthStart`, `OAuthCallback`, `Identity` and the methods that configure
//! providers, start, handle the callback, exchange its code and unlink.

use chrono::{DateTime, Utc};
use pyo3::prelude::*;
use tessera_bindings_common::oauth;
use tessera_core::model;

use crate::convert::{Id, Json, ToPy, client, repr_opt, repr_str, to_dict};
use crate::{AsyncTessera, Tessera};

/// A configured external sign-in provider, as shown back: never the secret.
#[pyclass(frozen, eq, module = "tessera")]
#[derive(PartialEq)]
pub(crate) struct OAuthProvider {
    inner: tessera_core::ProviderView,
}

#[pymethods]
impl OAuthProvider {
    /// The name within the app (`{provider}` in routes).
    #[getter]
    fn provider(&self) -> &str {
        &self.inner.provider
    }
    /// The kind (`google`, `apple`, `microsoft`, `github`, `kakao`, `naver`, `oidc`, `oauth2`).
    #[getter]
    fn kind(&self) -> &'static str {
        self.inner.kind.as_str()
    }
    /// The OAuth client id.
    #[getter]
    fn client_id(&self) -> &str {
        &self.inner.client_id
    }
    /// Whether a client secret is stored (it is never shown).
    #[getter]
    fn client_secret_set(&self) -> bool {
        self.inner.client_secret_set
    }
    /// Whether sign-in through it is offered.
    #[getter]
    fn enabled(&self) -> bool {
        self.inner.enabled
    }
    /// Label on the sign-in button.
    #[getter]
    fn display_name(&self) -> &str {
        &self.inner.display_name
    }
    /// The redirect URI to register at the provider.
    #[getter]
    fn callback_url(&self) -> &str {
        &self.inner.callback_url
    }
    /// Kind-specific settings (`issuer`, endpoints, `scopes`, `claims`, …) as a dict.
    #[getter]
    fn settings<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_dict(py, &self.inner.settings)
    }
    /// When it was first configured.
    #[getter]
    fn created_at(&self) -> DateTime<Utc> {
        self.inner.created_at
    }
    /// When it was last changed.
    #[getter]
    fn updated_at(&self) -> DateTime<Utc> {
        self.inner.updated_at
    }
    /// The admin API's view (settings flattened in; no secret).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_dict(py, &self.inner)
    }
    fn __repr__(&self) -> String {
        format!(
            "OAuthProvider(provider={}, kind={}, client_id={})",
            repr_str(&self.inner.provider),
            repr_str(self.inner.kind.as_str()),
            repr_str(&self.inner.client_id)
        )
    }
}

impl ToPy for tessera_core::ProviderView {
    fn to_py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok(Py::new(py, OAuthProvider { inner: self })?.into_any())
    }
}

/// An external account linked to a user.
#[pyclass(frozen, eq, module = "tessera")]
#[derive(PartialEq)]
pub(crate) struct Identity {
    inner: model::Identity,
}

#[pymethods]
impl Identity {
    /// Unique id (for unlinking).
    #[getter]
    fn id(&self) -> String {
        self.inner.id.to_string()
    }
    /// The linked user.
    #[getter]
    fn user_id(&self) -> String {
        self.inner.user_id.to_string()
    }
    /// Provider name as configured (`google`, `okta`, …).
    #[getter]
    fn provider(&self) -> &str {
        &self.inner.provider
    }
    /// The provider's stable user id (`sub`).
    #[getter]
    fn subject(&self) -> &str {
        &self.inner.subject
    }
    /// Email the provider reported.
    #[getter]
    fn email(&self) -> Option<&str> {
        self.inner.email.as_deref()
    }
    /// Whether the provider asserted the email is verified.
    #[getter]
    fn email_verified(&self) -> bool {
        self.inner.email_verified
    }
    /// When it was linked.
    #[getter]
    fn created_at(&self) -> DateTime<Utc> {
        self.inner.created_at
    }
    /// When it last signed the user in.
    #[getter]
    fn last_used_at(&self) -> Option<DateTime<Utc>> {
        self.inner.last_used_at
    }
    /// The HTTP API's shape: `id`, `provider`, `subject`, `email`,
    /// `email_verified`, `created_at`, `last_used_at`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let i = &self.inner;
        to_dict(
            py,
            &serde_json::json!({
                "id": i.id, "provider": i.provider, "subject": i.subject,
                "email": i.email, "email_verified": i.email_verified,
                "created_at": i.created_at, "last_used_at": i.last_used_at,
            }),
        )
    }
    fn __repr__(&self) -> String {
        format!(
            "Identity(id={}, provider={}, email={})",
            repr_str(&self.id()),
            repr_str(&self.inner.provider),
            repr_opt(self.inner.email.as_deref())
        )
    }
}

impl ToPy for model::Identity {
    fn to_py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok(Py::new(py, Identity { inner: self })?.into_any())
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
