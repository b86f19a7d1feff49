//! The values the binding returns: frozen classes over the core's types.
//!
//! Each class wraps the core value and converts a field only when Python reads
//! it, so a call that returns a user and a session does not pay for the nine
//! `datetime`s it may never look at. `to_dict()` gives the JSON shape of the
//! HTTP API (ids and times as strings), ready for a web framework's response.
//! `repr()` names the object without any secret.

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

fn id(u: &uuid::Uuid) -> String {
    u.to_string()
}

fn opt_id(u: &Option<uuid::Uuid>) -> Option<String> {
    u.as_ref().map(uuid::Uuid::to_string)
}

/// A user account.
#[pyclass(frozen, eq, module = "tessera")]
#[derive(PartialEq)]
pub struct User {
    pub(crate) inner: model::User,
}

#[pymethods]
impl User {
    /// Unique id (UUIDv7 string; the JWT `sub`).
    #[getter]
    fn id(&self) -> String {
        id(&self.inner.id)
    }
    /// The pool the user belongs to.
    #[getter]
    fn pool_id(&self) -> String {
        id(&self.inner.pool_id)
    }
    /// Email address, normalised (trimmed, lower case).
    #[getter]
    fn email(&self) -> &str {
        &self.inner.email
    }
    /// Whether the user proved control of the address.
    #[getter]
    fn email_verified(&self) -> bool {
        self.inner.email_verified
    }
    /// Display name.
    #[getter]
    fn name(&self) -> Option<&str> {
        self.inner.name.as_deref()
    }
    /// Application-defined metadata (a fresh dict on each read).
    #[getter]
    fn metadata<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_to_py(py, &self.inner.metadata)
    }
    /// A disabled user cannot sign in and their sessions do not validate.
    #[getter]
    fn disabled(&self) -> bool {
        self.inner.disabled
    }
    /// When the account was created.
    #[getter]
    fn created_at(&self) -> DateTime<Utc> {
        self.inner.created_at
    }
    /// When the account was last changed.
    #[getter]
    fn updated_at(&self) -> DateTime<Utc> {
        self.inner.updated_at
    }
    /// The user as JSON-compatible values (the HTTP API's shape).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_dict(py, &self.inner)
    }
    fn __repr__(&self) -> String {
        format!(
            "User(id={}, email={})",
            repr_str(&self.id()),
            repr_str(&self.inner.email)
        )
    }
}

impl ToPy for model::User {
    fn to_py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok(Py::new(py, User { inner: self })?.into_any())
    }
}

/// A signed-in session (one per sign-in, on one app).
#[pyclass(frozen, eq, module = "tessera")]
#[derive(PartialEq)]
pub struct Session {
    pub(crate) inner: model::Session,
}

#[pymethods]
impl Session {
    /// Unique id (the JWT `sid`).
    #[getter]
    fn id(&self) -> String {
        id(&self.inner.id)
    }
    /// The user's pool.
    #[getter]
    fn pool_id(&self) -> String {
        id(&self.inner.pool_id)
    }
    /// The app signed in to.
    #[getter]
    fn app_id(&self) -> String {
        id(&self.inner.app_id)
    }
    /// Who signed in.
    #[getter]
    fn user_id(&self) -> String {
        id(&self.inner.user_id)
    }
    /// How the user authenticated (RFC 8176 values, e.g. `["pwd"]`).
    #[getter]
    fn amr(&self) -> Vec<String> {
        self.inner.amr.clone()
    }
    /// User agent at sign-in.
    #[getter]
    fn user_agent(&self) -> Option<&str> {
        self.inner.user_agent.as_deref()
    }
    /// Client IP at sign-in.
    #[getter]
    fn ip(&self) -> Option<&str> {
        self.inner.ip.as_deref()
    }
    /// Sign-in time.
    #[getter]
    fn created_at(&self) -> DateTime<Utc> {
        self.inner.created_at
    }
    /// Last validation or refresh (updated at most once a minute).
    #[getter]
    fn last_seen_at(&self) -> DateTime<Utc> {
        self.inner.last_seen_at
    }
    /// Seconds of inactivity after which the session ends.
    #[getter]
    fn idle_timeout_secs(&self) -> i64 {
        self.inner.idle_timeout_secs
    }
    /// When the session ends for inactivity, unless used before.
    #[getter]
    fn idle_expires_at(&self) -> DateTime<Utc> {
        self.inner.idle_expires_at()
    }
    /// Absolute end of the session.
    #[getter]
    fn expires_at(&self) -> DateTime<Utc> {
        self.inner.expires_at
    }
    /// When it was revoked, if it was.
    #[getter]
    fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.inner.revoked_at
    }
    /// Why it was revoked (`sign_out`, `refresh_token_reused`, …).
    #[getter]
    fn revoke_reason(&self) -> Option<&str> {
        self.inner.revoke_reason.as_deref()
    }
    /// The session as JSON-compatible values.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_dict(py, &self.inner)
    }
    fn __repr__(&self) -> String {
        format!(
            "Session(id={}, user_id={})",
            repr_str(&self.id()),
            repr_str(&self.user_id())
        )
    }
}

impl ToPy for model::Session {
    fn to_py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok(Py::new(py, Session { inner: self })?.into_any())
    }
}

/// A finished sign-in or refresh: the user, the session and its secrets.
#[pyclass(frozen, module = "tessera")]
pub struct AuthSession {
    /// The user.
    #[pyo3(get)]
    user: Py<User>,
    /// The session.
    #[pyo3(get)]
    session: Py<Session>,
    /// Access JWT (`Authorization: Bearer …`).
    #[pyo3(get)]
    access_token: String,
    /// Seconds until the access token expires.
    #[pyo3(get)]
    expires_in: i64,
    /// Refresh token (`tsr_…`), spent on use.
    #[pyo3(get)]
    refresh_token: String,
    /// Session token (`tss_…`) for a cookie; only issued at sign-in.
    #[pyo3(get)]
    session_token: Option<String>,
}

#[pymethods]
impl AuthSession {
    /// Always `"Bearer"`.
    #[getter]
    fn token_type(&self) -> &'static str {
        "Bearer"
    }
    /// The HTTP API's *Tokens* shape: `access_token`, `token_type`,
    /// `expires_in`, `refresh_token`, `session_token` (when issued), `user`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("access_token", &self.access_token)?;
        d.set_item("token_type", "Bearer")?;
        d.set_item("expires_in", self.expires_in)?;
        d.set_item("refresh_token", &self.refresh_token)?;
        if let Some(t) = &self.session_token {
            d.set_item("session_token", t)?;
        }
        d.set_item("user", self.user.get().to_dict(py)?)?;
        Ok(d)
    }
    fn __repr__(&self) -> String {
        // Never the secrets.
        format!(
            "AuthSession(user={}, session={}, expires_in={})",
            self.user.get().__repr__(),
            self.session.get().__repr__(),
            self.expires_in
        )
    }
}

impl ToPy for tessera_core::AuthSession {
    fn to_py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let value = AuthSession {
            user: Py::new(py, User { inner: self.user })?,
            session: Py::new(
                py,
                Session {
                    inner: self.session,
                },
            )?,
            access_token: self.access_token,
            expires_in: self.expires_in,
            refresh_token: self.refresh_token,
            session_token: self.session_token,
        };
        Ok(Py::new(py, value)?.into_any())
    }
}

/// A live session and its user, as `validate_session` answers.
#[pyclass(frozen, module = "tessera")]
pub struct SessionInfo {
    /// The session.
    #[pyo3(get)]
    session: Py<Session>,
    /// Its user.
    #[pyo3(get)]
    user: Py<User>,
}

#[pymethods]
impl SessionInfo {
    fn __repr__(&self) -> String {
        format!(
            "SessionInfo(session={}, user={})",
            self.session.get().__repr__(),
            self.user.get().__repr__()
        )
    }
}

/// `(session, user)` from `Sessions::validate`.
pub(crate) struct Validated(pub(crate) model::Session, pub(crate) model::User);

impl ToPy for Validated {
    fn to_py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let value = SessionInfo {
            session: Py::new(py, Session { inner: self.0 })?,
            user: Py::new(py, User { inner: self.1 })?,
        };
        Ok(Py::new(py, value)?.into_any())
    }
}

/// The claims of a Tessera access token (RFC 9068).
#[pyclass(frozen, eq, module = "tessera")]
#[derive(PartialEq)]
pub struct AccessClaims {
    inner: tessera_core::AccessClaims,
}

#[pymethods]
impl AccessClaims {
    /// Issuer: the install's base URL.
    #[getter]
    fn iss(&self) -> &str {
        &self.inner.iss
    }
    /// Subject: the user id.
    #[getter]
    fn sub(&self) -> &str {
        &self.inner.sub
    }
    /// Audience: the app id.
    #[getter]
    fn aud(&self) -> &str {
        &self.inner.aud
    }
    /// The app id again, as RFC 9068 asks.
    #[getter]
    fn client_id(&self) -> &str {
        &self.inner.client_id
    }
    /// Expiry (Unix seconds).
    #[getter]
    fn exp(&self) -> i64 {
        self.inner.exp
    }
    /// Issued at (Unix seconds).
    #[getter]
    fn iat(&self) -> i64 {
        self.inner.iat
    }
    /// Not before (Unix seconds).
    #[getter]
    fn nbf(&self) -> i64 {
        self.inner.nbf
    }
    /// Unique token id.
    #[getter]
    fn jti(&self) -> &str {
        &self.inner.jti
    }
    /// Session id.
    #[getter]
    fn sid(&self) -> &str {
        &self.inner.sid
    }
    /// Pool id.
    #[getter]
    fn pool(&self) -> &str {
        &self.inner.pool
    }
    /// Authentication methods (RFC 8176).
    #[getter]
    fn amr(&self) -> Vec<String> {
        self.inner.amr.clone()
    }
    /// Roles.
    #[getter]
    fn roles(&self) -> Vec<String> {
        self.inner.roles.clone()
    }
    /// The user's email.
    #[getter]
    fn email(&self) -> Option<&str> {
        self.inner.email.as_deref()
    }
    /// Whether the email is verified.
    #[getter]
    fn email_verified(&self) -> bool {
        self.inner.email_verified
    }
    /// The claims as a dict, as they are in the token.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_dict(py, &self.inner)
    }
    fn __repr__(&self) -> String {
        format!(
            "AccessClaims(sub={}, sid={}, aud={})",
            repr_str(&self.inner.sub),
            repr_str(&self.inner.sid),
            repr_str(&self.inner.aud)
        )
    }
}

impl ToPy for tessera_core::AccessClaims {
    fn to_py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok(Py::new(py, AccessClaims { inner: self })?.into_any())
    }
}

/// A live session, its user and the access token's claims, as
/// `validate_access_token` answers.
#[pyclass(frozen, module = "tessera")]
pub struct AccessTokenInfo {
    /// The session.
    #[pyo3(get)]
    session: Py<Session>,
    /// Its user.
    #[pyo3(get)]
    user: Py<User>,
    /// The token's claims.
    #[pyo3(get)]
    claims: Py<AccessClaims>,
}

#[pymethods]
impl AccessTokenInfo {
    fn __repr__(&self) -> String {
        format!(
            "AccessTokenInfo(session={}, user={}, claims={})",
            self.session.get().__repr__(),
            self.user.get().__repr__(),
            self.claims.get().__repr__()
        )
    }
}

/// `(session, user, claims)` from `Sessions::validate_access_token`.
pub(crate) struct ValidatedToken(
    pub(crate) model::Session,
    pub(crate) model::User,
    pub(crate) tessera_core::AccessClaims,
);

impl ToPy for ValidatedToken {
    fn to_py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let value = AccessTokenInfo {
            session: Py::new(py, Session { inner: self.0 })?,
            user: Py::new(py, User { inner: self.1 })?,
            claims: Py::new(py, AccessClaims { inner: self.2 })?,
        };
        Ok(Py::new(py, value)?.into_any())
    }
}

/// An application that signs users in from one pool.
#[pyclass(frozen, eq, module = "tessera")]
#[derive(PartialEq)]
pub struct App {
    inner: model::App,
}

#[pymethods]
impl App {
    /// Unique id; also the OAuth `client_id` and the JWT `aud`.
    #[getter]
    fn id(&self) -> String {
        id(&self.inner.id)
    }
    /// The pool whose users sign in to this app.
    #[getter]
    fn pool_id(&self) -> String {
        id(&self.inner.pool_id)
    }
    /// Unique, URL-safe name (`default` for the first app).
    #[getter]
    fn slug(&self) -> &str {
        &self.inner.slug
    }
    /// Display name.
    #[getter]
    fn name(&self) -> &str {
        &self.inner.name
    }
    /// Settings, as a dict (the HTTP API's `settings` document).
    #[getter]
    fn settings<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_dict(py, &self.inner.settings)
    }
    /// When it was created.
    #[getter]
    fn created_at(&self) -> DateTime<Utc> {
        self.inner.created_at
    }
    /// When it was last changed.
    #[getter]
    fn updated_at(&self) -> DateTime<Utc> {
        self.inner.updated_at
    }
    /// The app as JSON-compatible values.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_dict(py, &self.inner)
    }
    fn __repr__(&self) -> String {
        format!(
            "App(id={}, slug={})",
            repr_str(&self.id()),
            repr_str(&self.inner.slug)
        )
    }
}

impl ToPy for model::App {
    fn to_py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok(Py::new(py, App { inner: self })?.into_any())
    }
}

/// A set of users; apps in one pool share them.
#[pyclass(frozen, eq, module = "tessera")]
#[derive(PartialEq)]
pub struct Pool {
    inner: model::Pool,
}

#[pymethods]
impl Pool {
    /// Unique id.
    #[getter]
    fn id(&self) -> String {
        id(&self.inner.id)
    }
    /// Unique, URL-safe name.
    #[getter]
    fn slug(&self) -> &str {
        &self.inner.slug
    }
    /// Display name.
    #[getter]
    fn name(&self) -> &str {
        &self.inner.name
    }
    /// When it was created.
    #[getter]
    fn created_at(&self) -> DateTime<Utc> {
        self.inner.created_at
    }
    /// The pool as JSON-compatible values.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_dict(py, &self.inner)
    }
    fn __repr__(&self) -> String {
        format!(
            "Pool(id={}, slug={})",
            repr_str(&self.id()),
            repr_str(&self.inner.slug)
        )
    }
}

impl ToPy for model::Pool {
    fn to_py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok(Py::new(py, Pool { inner: self })?.into_any())
    }
}

/// An admin API key (`tsk_…`); only its hash is stored, never the secret.
#[pyclass(frozen, eq, module = "tessera")]
#[derive(PartialEq)]
pub struct ApiKey {
    inner: model::ApiKey,
}

#[pymethods]
impl ApiKey {
    /// Unique id.
    #[getter]
    fn id(&self) -> String {
        id(&self.inner.id)
    }
    /// A label for people.
    #[getter]
    fn name(&self) -> &str {
        &self.inner.name
    }
    /// The first characters of the key (`tsk_AbCd`).
    #[getter]
    fn hint(&self) -> &str {
        &self.inner.hint
    }
    /// What the key may do (`admin`, `users:read`, …).
    #[getter]
    fn scopes(&self) -> Vec<String> {
        self.inner.scopes.clone()
    }
    /// When it was created.
    #[getter]
    fn created_at(&self) -> DateTime<Utc> {
        self.inner.created_at
    }
    /// When it was last used (updated at most once a minute).
    #[getter]
    fn last_used_at(&self) -> Option<DateTime<Utc>> {
        self.inner.last_used_at
    }
    /// When it stops working, if ever.
    #[getter]
    fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.inner.expires_at
    }
    /// When it was revoked.
    #[getter]
    fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.inner.revoked_at
    }
    /// The key (without secret) as JSON-compatible values.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_dict(py, &self.inner)
    }
    fn __repr__(&self) -> String {
        format!(
            "ApiKey(id={}, name={}, hint={})",
            repr_str(&self.id()),
            repr_str(&self.inner.name),
            repr_str(&self.inner.hint)
        )
    }
}

impl ToPy for model::ApiKey {
    fn to_py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok(Py::new(py, ApiKey { inner: self })?.into_any())
    }
}

/// A key just created: `secret` is shown here and nowhere else, ever.
#[pyclass(frozen, module = "tessera")]
pub struct CreatedApiKey {
    /// The stored record.
    #[pyo3(get)]
    key: Py<ApiKey>,
    /// The secret (`tsk_…`).
    #[pyo3(get)]
    secret: String,
}

#[pymethods]
impl CreatedApiKey {
    fn __repr__(&self) -> String {
        format!("CreatedApiKey(key={})", self.key.get().__repr__())
    }
}

impl ToPy for tessera_core::CreatedApiKey {
    fn to_py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let value = CreatedApiKey {
            key: Py::new(py, ApiKey { inner: self.key })?,
            secret: self.secret,
        };
        Ok(Py::new(py, value)?.into_any())
    }
}

/// One entry of the audit log.
#[pyclass(frozen, eq, module = "tessera")]
#[derive(PartialEq)]
pub struct AuditEvent {
    inner: model::AuditEvent,
}

#[pymethods]
impl AuditEvent {
    /// Unique id (UUIDv7, so ids sort by time).
    #[getter]
    fn id(&self) -> String {
        id(&self.inner.id)
    }
    /// What happened (`user.signed_up`, `sign_in.failed`, …).
    #[getter]
    fn r#type(&self) -> &str {
        &self.inner.kind
    }
    /// The pool concerned.
    #[getter]
    fn pool_id(&self) -> Option<String> {
        opt_id(&self.inner.pool_id)
    }
    /// The app concerned.
    #[getter]
    fn app_id(&self) -> Option<String> {
        opt_id(&self.inner.app_id)
    }
    /// The user concerned.
    #[getter]
    fn user_id(&self) -> Option<String> {
        opt_id(&self.inner.user_id)
    }
    /// The session concerned.
    #[getter]
    fn session_id(&self) -> Option<String> {
        opt_id(&self.inner.session_id)
    }
    /// Client IP.
    #[getter]
    fn ip(&self) -> Option<&str> {
        self.inner.ip.as_deref()
    }
    /// Client user agent.
    #[getter]
    fn user_agent(&self) -> Option<&str> {
        self.inner.user_agent.as_deref()
    }
    /// Event details (never a secret).
    #[getter]
    fn data<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_to_py(py, &self.inner.data)
    }
    /// When it happened.
    #[getter]
    fn at(&self) -> DateTime<Utc> {
        self.inner.at
    }
    /// The event as JSON-compatible values.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_dict(py, &self.inner)
    }
    fn __repr__(&self) -> String {
        format!(
            "AuditEvent(id={}, type={}, user_id={})",
            repr_str(&self.id()),
            repr_str(&self.inner.kind),
            repr_opt(self.user_id().as_deref())
        )
    }
}

impl ToPy for model::AuditEvent {
    fn to_py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok(Py::new(py, AuditEvent { inner: self })?.into_any())
    }
}
