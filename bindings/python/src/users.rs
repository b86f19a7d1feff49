//! Users of an app's pool: the `User` class and the methods that find, list,
//! change and delete users.

use chrono::{DateTime, Utc};
use pyo3::prelude::*;
use tessera_bindings_common::users;
use tessera_core::model;

use crate::convert::{Id, Json, ToPy, id, json_to_py, repr_str, to_dict};
use crate::{AsyncTessera, Tessera};

/// A user account.
#[pyclass(frozen, eq, module = "tessera")]
#[derive(PartialEq)]
pub(crate) struct User {
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
    pub(crate) fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_dict(py, &self.inner)
    }
    pub(crate) fn __repr__(&self) -> String {
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

crate::methods! {
    /// A user by id (`NotFound` if there is none).
    fn get_user(user_id: Id)
        [user_id]
        |core| users::get(core, user_id.0);
    /// A user of the app's pool by email, or `None`.
    fn find_user_by_email(email: String, app: Option<String>)
        [email, *, app = None]
        |core| users::find_by_email(core, app.as_deref(), &email);
    /// Users of the app's pool ordered by id; pass the last id of a page as
    /// `after=` for the next. `limit` is at most 1000.
    fn list_users(app: Option<String>, email_contains: Option<String>, after: Option<Id>, limit: u32)
        [*, app = None, email_contains = None, after = None, limit = 100]
        |core| async move {
            let query = model::UserQuery { email_contains, after: after.map(|a| a.0), limit };
            Ok(users::list(core, app.as_deref(), &query).await?.users)
        };
    /// Change a user; only the arguments given change (`name=""` clears the
    /// name). Disabling revokes the user's sessions.
    fn update_user(user_id: Id, email: Option<String>, email_verified: Option<bool>, name: Option<String>, metadata: Option<Json>, disabled: Option<bool>)
        [user_id, *, email = None, email_verified = None, name = None, metadata = None, disabled = None]
        |core| users::update(core, user_id.0, &model::UserPatch {
            email,
            email_verified,
            // "" clears the name (the core normalises it to none).
            name: name.map(Some),
            metadata: metadata.map(|m| m.0),
            disabled,
        });
    /// Delete a user and their sessions and credentials.
    fn delete_user(user_id: Id)
        [user_id]
        |core| users::delete(core, user_id.0);
}
