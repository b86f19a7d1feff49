//! Admin API keys: the `ApiKey` and `CreatedApiKey` classes and their methods.

use chrono::{DateTime, Utc};
use pyo3::prelude::*;
use tessera_bindings_common::api_keys;
use tessera_core::model;

use crate::convert::{Id, ToPy, repr_of};
use crate::{AsyncTessera, Tessera};

crate::record! {
    /// An admin API key (`tsk_…`); only its hash is stored, never the secret.
    pub(crate) struct ApiKey(model::ApiKey) repr(id, name, hint) {
        /// Unique id.
        id,
        /// A label for people.
        name,
        /// The first characters of the key (`tsk_AbCd`).
        hint,
        /// What the key may do (`admin`, `users:read`, …).
        scopes,
        /// When it was created.
        created_at,
        /// When it was last used (updated at most once a minute).
        last_used_at,
        /// When it stops working, if ever.
        expires_at,
        /// When it was revoked.
        revoked_at,
    }
}

/// A key just created: `secret` is shown here and nowhere else, ever.
#[pyclass(frozen, module = "tessera")]
pub(crate) struct CreatedApiKey {
    /// The stored record.
    #[pyo3(get)]
    key: Py<ApiKey>,
    /// The secret (`tsk_…`).
    #[pyo3(get)]
    secret: String,
}

#[pymethods]
impl CreatedApiKey {
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        repr_of(
            py,
            "CreatedApiKey",
            &[("key", self.key.clone_ref(py).into_any())],
        )
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

crate::methods! {
    /// Create an admin API key; its `secret` is in the answer and nowhere else.
    fn create_api_key(name: String, scopes: Vec<String>, expires_at: Option<DateTime<Utc>>)
        [name, scopes, *, expires_at = None]
        |core| api_keys::create(core, &name, &scopes, expires_at);
    /// The live key for `secret`, checked to carry `scope` (or `admin`).
    fn authenticate_api_key(secret: String, scope: String)
        [secret, scope]
        |core| api_keys::authenticate(core, &secret, &scope);
    /// All API keys (without secrets), oldest first.
    fn list_api_keys()
        []
        |core| api_keys::list(core);
    /// Revoke an API key (idempotent).
    fn revoke_api_key(key_id: Id)
        [key_id]
        |core| api_keys::revoke(core, key_id.0);
}
