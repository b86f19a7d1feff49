//! Sessions: the classes of a signed-in session (`Session`, `AuthSession`,
//! `SessionInfo`, `AccessTokenInfo`) and the methods that refresh, validate,
//! list, revoke and sign out.

use chrono::{DateTime, Utc};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use tessera_bindings_common::{apps, sessions};
use tessera_core::model;

use crate::convert::{Field, Id, ToPy, client, repr_of};
use crate::tokens::AccessClaims;
use crate::users::User;
use crate::{AsyncTessera, Tessera};

crate::record! {
    /// A signed-in session (one per sign-in, on one app).
    pub(crate) struct Session(model::Session) repr(id, user_id) {
        /// Unique id (the JWT `sid`).
        id,
        /// The user's pool.
        pool_id,
        /// The app signed in to.
        app_id,
        /// Who signed in.
        user_id,
        /// How the user authenticated (RFC 8176 values, e.g. `["pwd"]`).
        amr,
        /// User agent at sign-in.
        user_agent,
        /// Client IP at sign-in.
        ip,
        /// Sign-in time.
        created_at,
        /// Last validation or refresh (updated at most once a minute).
        last_seen_at,
        /// Seconds of inactivity after which the session ends.
        idle_timeout_secs,
        /// Absolute end of the session.
        expires_at,
        /// When it was revoked, if it was.
        revoked_at,
        /// Why it was revoked (`sign_out`, `refresh_token_reused`, …).
        revoke_reason,
    }
}

#[pymethods]
impl Session {
    /// When the session ends for inactivity, unless used before.
    #[getter]
    fn idle_expires_at(&self) -> DateTime<Utc> {
        self.inner.idle_expires_at()
    }
}

/// A finished sign-in or refresh: the user, the session and its secrets.
#[pyclass(frozen, module = "tessera")]
pub(crate) struct AuthSession {
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
    /// A password sign-in's device token (`tsd_…`): keep it on this device
    /// and pass it to the next `sign_in_password(device_token=…)`, so
    /// failures from other devices never throttle this one; `None` for
    /// other sign-ins and refreshes.
    #[pyo3(get)]
    device_token: Option<String>,
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
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        // Never the secrets.
        repr_of(
            py,
            "AuthSession",
            &[
                ("user", self.user.clone_ref(py).into_any()),
                ("session", self.session.clone_ref(py).into_any()),
                ("expires_in", self.expires_in.field(py)?),
            ],
        )
    }
}

impl ToPy for tessera_core::AuthSession {
    fn to_py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        auth_session(py, self, None)
    }
}

/// The `AuthSession` of a core session, with a password sign-in's device token.
fn auth_session(
    py: Python<'_>,
    s: tessera_core::AuthSession,
    device_token: Option<String>,
) -> PyResult<Py<PyAny>> {
    {
        let value = AuthSession {
            user: Py::new(py, User { inner: s.user })?,
            session: Py::new(py, Session { inner: s.session })?,
            access_token: s.access_token,
            expires_in: s.expires_in,
            refresh_token: s.refresh_token,
            session_token: s.session_token,
            device_token,
        };
        Ok(Py::new(py, value)?.into_any())
    }
}

/// A live session and its user, as `validate_session` answers.
#[pyclass(frozen, module = "tessera")]
pub(crate) struct SessionInfo {
    /// The session.
    #[pyo3(get)]
    session: Py<Session>,
    /// Its user.
    #[pyo3(get)]
    user: Py<User>,
}

#[pymethods]
impl SessionInfo {
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        repr_of(
            py,
            "SessionInfo",
            &[
                ("session", self.session.clone_ref(py).into_any()),
                ("user", self.user.clone_ref(py).into_any()),
            ],
        )
    }
}

/// `(session, user)` from `Sessions::validate`.
impl ToPy for (model::Session, model::User) {
    fn to_py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let value = SessionInfo {
            session: Py::new(py, Session { inner: self.0 })?,
            user: Py::new(py, User { inner: self.1 })?,
        };
        Ok(Py::new(py, value)?.into_any())
    }
}

/// A live session, its user and the access token's claims, as
/// `validate_access_token` answers.
#[pyclass(frozen, module = "tessera")]
pub(crate) struct AccessTokenInfo {
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
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        repr_of(
            py,
            "AccessTokenInfo",
            &[
                ("session", self.session.clone_ref(py).into_any()),
                ("user", self.user.clone_ref(py).into_any()),
                ("claims", self.claims.clone_ref(py).into_any()),
            ],
        )
    }
}

/// `(session, user, claims)` from `Sessions::validate_access_token`.
impl ToPy for (model::Session, model::User, tessera_core::AccessClaims) {
    fn to_py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let value = AccessTokenInfo {
            session: Py::new(py, Session { inner: self.0 })?,
            user: Py::new(py, User { inner: self.1 })?,
            claims: Py::new(py, AccessClaims { inner: self.2 })?,
        };
        Ok(Py::new(py, value)?.into_any())
    }
}

/// A first-factor sign-in's answer: the `AuthSession` (carrying
/// `device_token`, when a password sign-in issued one), or `MfaRequired`
/// raised with its challenge (and the device token).
pub(crate) fn signed_in(
    py: Python<'_>,
    outcome: tessera_core::SignInOutcome,
    device_token: Option<String>,
) -> PyResult<Py<PyAny>> {
    match outcome {
        tessera_core::SignInOutcome::Complete(s) => auth_session(py, *s, device_token),
        tessera_core::SignInOutcome::MfaRequired(challenge) => Err(crate::errors::mfa_required(
            py,
            challenge.mfa_token,
            challenge
                .methods
                .iter()
                .map(|m| m.as_str().to_owned())
                .collect(),
            device_token,
        )),
    }
}

/// Sign-in outcomes: a session, or `MfaRequired` raised with its challenge.
impl ToPy for tessera_core::SignInOutcome {
    fn to_py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        signed_in(py, self, None)
    }
}

crate::methods! {
    /// Exchange a refresh token for a new access token and refresh token.
    fn refresh(refresh_token: String, ip: Option<String>, user_agent: Option<String>)
        [refresh_token, *, ip = None, user_agent = None]
        |core| sessions::refresh(core, &refresh_token, &client(ip, user_agent));
    /// Validate an opaque session token (`tss_…`): a `SessionInfo`.
    fn validate_session(session_token: String)
        [session_token]
        |core| sessions::validate(core, &session_token);
    /// Validate an access JWT and its session (revoked sessions fail at
    /// once): an `AccessTokenInfo`. With `app=`, the token must be for it.
    fn validate_access_token(access_token: String, app: Option<String>)
        [access_token, *, app = None]
        |core| async move {
            let audience = apps::audience(core, app.as_deref()).await?;
            sessions::validate_access_token(core, &access_token, audience.as_deref()).await
        };
    /// Revoke the session a session token or an access token belongs to.
    fn sign_out(token: String)
        [token]
        |core| sessions::sign_out(core, &token);
    /// A user's live sessions, newest first.
    fn list_sessions(user_id: Id)
        [user_id]
        |core| sessions::list(core, user_id.0);
    /// Revoke one of a user's sessions (idempotent).
    fn revoke_session(user_id: Id, session_id: Id, reason: String)
        [user_id, session_id, *, reason = "sign_out".to_owned()]
        |core| sessions::revoke(core, user_id.0, session_id.0, &reason);
    /// Revoke every session of a user except `except_session`; returns how many.
    fn revoke_all_sessions(user_id: Id, except_session: Option<Id>, reason: String)
        [user_id, *, except_session = None, reason = "sign_out_everywhere".to_owned()]
        |core| sessions::revoke_all(core, user_id.0, except_session.map(|s| s.0), &reason);
}
