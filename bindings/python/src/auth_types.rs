//! The values of second factors, passkeys and external sign-in: frozen
//! classes over the core's types, as `types.rs` does for accounts.
//!
//! Kept apart from `types.rs` because these follow three capabilities that
//! grow on their own. The same rules hold: `to_dict()` gives the HTTP API's
//! JSON shape, and `repr()` never shows a secret (TOTP secrets, recovery
//! codes, ceremony ids, exchange codes, tokens).

use chrono::{DateTime, Utc};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde::Serialize;
use tessera_core::model;

use crate::convert::{ToPy, json_to_py, repr_opt, repr_str};

fn to_dict<'py, T: Serialize>(py: Python<'py>, value: &T) -> PyResult<Bound<'py, PyAny>> {
    let json = serde_json::to_value(value)
        .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?;
    json_to_py(py, &json)
}

/// A started TOTP enrolment: what the user's authenticator app needs. The
/// secret is inactive until confirmed with a first code.
#[pyclass(frozen, module = "tessera")]
pub struct TotpEnrollment {
    /// The secret, base32 without padding (for typing it in by hand).
    #[pyo3(get)]
    secret: String,
    /// The `otpauth://totp/…` URI (issuer = the app's name, account = the email).
    #[pyo3(get)]
    otpauth_uri: String,
    /// The URI as a QR code: an `<svg>` element, ready to inline in HTML.
    #[pyo3(get)]
    qr_svg: String,
}

#[pymethods]
impl TotpEnrollment {
    /// The HTTP API's shape: `secret`, `otpauth_uri`, `qr_svg`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("secret", &self.secret)?;
        d.set_item("otpauth_uri", &self.otpauth_uri)?;
        d.set_item("qr_svg", &self.qr_svg)?;
        Ok(d)
    }
    fn __repr__(&self) -> &'static str {
        "TotpEnrollment(...)"
    }
}

impl ToPy for tessera_core::TotpEnrollment {
    fn to_py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let value = TotpEnrollment {
            secret: self.secret,
            otpauth_uri: self.otpauth_uri,
            qr_svg: self.qr_svg,
        };
        Ok(Py::new(py, value)?.into_any())
    }
}

/// A user's second factors, as an account page shows them.
#[pyclass(frozen, eq, module = "tessera")]
#[derive(PartialEq)]
pub struct MfaStatus {
    inner: tessera_core::MfaStatus,
}

#[pymethods]
impl MfaStatus {
    /// TOTP is confirmed and asked for at sign-in.
    #[getter]
    fn totp_enabled(&self) -> bool {
        self.inner.totp_enabled
    }
    /// A TOTP enrolment was started but not confirmed.
    #[getter]
    fn totp_pending(&self) -> bool {
        self.inner.totp_pending
    }
    /// Unspent recovery codes.
    #[getter]
    fn recovery_codes_left(&self) -> u32 {
        self.inner.recovery_codes_left
    }
    /// Registered passkeys.
    #[getter]
    fn passkeys(&self) -> u32 {
        self.inner.passkeys
    }
    /// Whether the app requires a second factor of everyone.
    #[getter]
    fn required_by_app(&self) -> bool {
        self.inner.required_by_app
    }
    /// Whether the user has a password (re-authentication asks for it;
    /// otherwise for a TOTP code).
    #[getter]
    fn has_password(&self) -> bool {
        self.inner.has_password
    }
    /// As JSON-compatible values.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_dict(py, &self.inner)
    }
    fn __repr__(&self) -> String {
        let b = |v: bool| if v { "True" } else { "False" };
        format!(
            "MfaStatus(totp_enabled={}, recovery_codes_left={}, passkeys={})",
            b(self.inner.totp_enabled),
            self.inner.recovery_codes_left,
            self.inner.passkeys
        )
    }
}

impl ToPy for tessera_core::MfaStatus {
    fn to_py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok(Py::new(py, MfaStatus { inner: self })?.into_any())
    }
}

/// A sign-in finished by enrolling TOTP (the app requires a second factor):
/// the session and the recovery codes to show the user this once.
#[pyclass(frozen, module = "tessera")]
pub struct EnrolledSignIn {
    /// The new recovery codes (10, single use).
    #[pyo3(get)]
    recovery_codes: Vec<String>,
    /// The session (an `AuthSession`).
    #[pyo3(get)]
    session: Py<PyAny>,
}

#[pymethods]
impl EnrolledSignIn {
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "EnrolledSignIn(recovery_codes=<{}>, session={})",
            self.recovery_codes.len(),
            self.session.bind(py).repr()?
        ))
    }
}

impl ToPy for tessera_core::EnrolledSignIn {
    fn to_py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let value = EnrolledSignIn {
            recovery_codes: self.recovery_codes,
            session: self.session.to_py(py)?,
        };
        Ok(Py::new(py, value)?.into_any())
    }
}

/// The first half of a WebAuthn ceremony, as `start_passkey_*` answers.
pub(crate) struct PasskeyOptions(pub(crate) tessera_core::PasskeyChallenge);

/// The first half of a WebAuthn ceremony: options for the browser and the
/// ceremony id to send back with its answer.
#[pyclass(frozen, module = "tessera")]
pub struct PasskeyChallenge {
    /// The ceremony id (`tsw_…`, single use, 5 minutes).
    #[pyo3(get)]
    ceremony: String,
    public_key: serde_json::Value,
}

#[pymethods]
impl PasskeyChallenge {
    /// The W3C JSON options (`PublicKeyCredentialCreationOptionsJSON` or
    /// `…RequestOptionsJSON`, buffers base64url), as a dict: what
    /// `PublicKeyCredential.parseCreationOptionsFromJSON` /
    /// `parseRequestOptionsFromJSON` take.
    #[getter]
    fn public_key<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_to_py(py, &self.public_key)
    }
    /// The HTTP API's shape: `{"ceremony": …, "publicKey": {…}}`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("ceremony", &self.ceremony)?;
        d.set_item("publicKey", json_to_py(py, &self.public_key)?)?;
        Ok(d)
    }
    fn __repr__(&self) -> &'static str {
        "PasskeyChallenge(...)"
    }
}

impl ToPy for PasskeyOptions {
    fn to_py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let value = PasskeyChallenge {
            ceremony: self.0.ceremony,
            public_key: self.0.public_key,
        };
        Ok(Py::new(py, value)?.into_any())
    }
}

/// A registered passkey, as its owner sees it (no key material).
#[pyclass(frozen, eq, module = "tessera")]
#[derive(PartialEq)]
pub struct PasskeyInfo {
    inner: tessera_core::PasskeyInfo,
}

#[pymethods]
impl PasskeyInfo {
    /// Id of the stored passkey (for rename and delete).
    #[getter]
    fn id(&self) -> String {
        self.inner.id.to_string()
    }
    /// The name the user gave it.
    #[getter]
    fn name(&self) -> &str {
        &self.inner.name
    }
    /// The WebAuthn credential id, base64url.
    #[getter]
    fn credential_id(&self) -> &str {
        &self.inner.credential_id
    }
    /// The authenticator model's AAGUID, when it reported a non-zero one.
    #[getter]
    fn aaguid(&self) -> Option<&str> {
        self.inner.aaguid.as_deref()
    }
    /// Whether the key may be synced to other devices.
    #[getter]
    fn backup_eligible(&self) -> bool {
        self.inner.backup_eligible
    }
    /// Whether it was backed up or synced at its last use.
    #[getter]
    fn backup_state(&self) -> bool {
        self.inner.backup_state
    }
    /// The authenticator's signature counter at its last use.
    #[getter]
    fn sign_count(&self) -> u32 {
        self.inner.sign_count
    }
    /// Transports the authenticator said it can use.
    #[getter]
    fn transports(&self) -> Vec<String> {
        self.inner.transports.clone()
    }
    /// When it was registered.
    #[getter]
    fn created_at(&self) -> DateTime<Utc> {
        self.inner.created_at
    }
    /// When it last signed the user in.
    #[getter]
    fn last_used_at(&self) -> Option<DateTime<Utc>> {
        self.inner.last_used_at
    }
    /// As JSON-compatible values.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_dict(py, &self.inner)
    }
    fn __repr__(&self) -> String {
        format!(
            "PasskeyInfo(id={}, name={})",
            repr_str(&self.id()),
            repr_str(&self.inner.name)
        )
    }
}

impl ToPy for tessera_core::PasskeyInfo {
    fn to_py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok(Py::new(py, PasskeyInfo { inner: self })?.into_any())
    }
}

/// A configured external sign-in provider, as shown back: never the secret.
#[pyclass(frozen, eq, module = "tessera")]
#[derive(PartialEq)]
pub struct OAuthProvider {
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
pub struct Identity {
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

/// A callback whose state was accepted, before it is made Python.
pub(crate) struct OAuthCallback {
    pub(crate) app_id: String,
    pub(crate) provider: String,
    pub(crate) redirect_uri: Option<String>,
    pub(crate) result: tessera_core::Result<tessera_core::CallbackResult>,
}

/// Where an OAuth callback ends, once its state was accepted: send the
/// browser to `redirect_to`.
#[pyclass(frozen, name = "OAuthCallback", module = "tessera")]
pub struct PyOAuthCallback {
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

fn with_query(uri: &str, key: &str, value: &str) -> String {
    let sep = if uri.contains('?') { '&' } else { '?' };
    let mut out = format!("{uri}{sep}{key}=");
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

impl ToPy for OAuthCallback {
    fn to_py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let uri = self.redirect_uri.as_deref();
        let mut value = PyOAuthCallback {
            app_id: self.app_id.clone(),
            provider: self.provider.clone(),
            redirect_uri: self.redirect_uri.clone(),
            redirect_to: None,
            code: None,
            error_code: None,
            linked: None,
            session: None,
        };
        match self.result {
            Err(e) => {
                value.redirect_to = uri.map(|u| with_query(u, "error", e.code()));
                value.error_code = Some(e.code().to_owned());
            }
            Ok(tessera_core::CallbackResult::Code(code)) => {
                value.redirect_to = uri.map(|u| with_query(u, "code", &code));
                value.code = Some(code);
            }
            Ok(tessera_core::CallbackResult::Linked(identity)) => {
                value.redirect_to = uri.map(|u| with_query(u, "linked", &identity.provider));
                value.linked = Some(identity.to_py(py)?);
            }
            Ok(tessera_core::CallbackResult::SignedIn(outcome)) => {
                value.redirect_to = uri.map(str::to_owned);
                // A session, or `MfaRequired` raised with its challenge.
                value.session = Some(outcome.to_py(py)?);
            }
        }
        Ok(Py::new(py, value)?.into_any())
    }
}

/// A started external sign-in: send the browser to `authorization_url`.
#[pyclass(frozen, module = "tessera")]
pub struct OAuthStart {
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
