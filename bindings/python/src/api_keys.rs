//! Admin API keys: the `ApiKey` and `CreatedApiKey` classes and their methods.

use chrono::{DateTime, Utc};
use pyo3::prelude::*;
use tessera_bindings_common::api_keys;
use tessera_core::model;

use crate::convert::{Id, ToPy, id, repr_str, to_dict};
use crate::{AsyncTessera, Tessera};

/// An admin API key (`tsk_…`); only its hash is stored, never the secret.
#[pyclass(frozen, eq, module = "tessera")]
#[derive(PartialEq)]
pub(crate) struct ApiKey {
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
