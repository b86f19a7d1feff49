//! Access tokens and signing keys: the `AccessClaims` class, offline
//! verification, the JWKS and key rotation.

use pyo3::prelude::*;
use tessera_bindings_common::tokens;

use crate::convert::{ToPy, repr_str, to_dict};
use crate::{AsyncTessera, Tessera};

/// The claims of a Tessera access token (RFC 9068).
#[pyclass(frozen, eq, module = "tessera")]
#[derive(PartialEq)]
pub(crate) struct AccessClaims {
    pub(crate) inner: tessera_core::AccessClaims,
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
    pub(crate) fn __repr__(&self) -> String {
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

crate::methods! {
    /// Verify an access JWT offline (signature, issuer, expiry, audience when
    /// `app=` is given) without looking at its session: `AccessClaims`.
    fn verify_access_token(access_token: String, app: Option<String>)
        [access_token, *, app = None]
        |core| async move {
            let audience = tessera_bindings_common::apps::audience(core, app.as_deref()).await?;
            tokens::verify(core, &access_token, audience.as_deref()).await
        };
    /// The published key set, `{"keys": [...]}`.
    fn jwks()
        []
        |core| tokens::jwks(core);
    /// The id of the key new tokens are signed with.
    fn current_kid()
        []
        |core| tokens::current_kid(core);
    /// Make a new signing key (of `alg`: `EdDSA`, `ES256`, `RS256`) the
    /// current one; the old one stays published while its tokens live.
    fn rotate_signing_key(alg: Option<String>)
        [alg = None]
        |core| tokens::rotate(core, alg.as_deref());
}
