//! The audit log: the `AuditEvent` class and its listing.

use chrono::{DateTime, Utc};
use pyo3::prelude::*;
use tessera_bindings_common::audit;
use tessera_core::model;

use crate::convert::{Id, ToPy, id, json_to_py, opt_id, repr_opt, repr_str, to_dict};
use crate::{AsyncTessera, Tessera};

/// One entry of the audit log.
#[pyclass(frozen, eq, module = "tessera")]
#[derive(PartialEq)]
pub(crate) struct AuditEvent {
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

crate::methods! {
    /// Audit events, newest first, filtered; pass the last id of a page as
    /// `before=` for the next.
    fn list_audit_events(user_id: Option<Id>, app: Option<String>, pool_id: Option<Id>, r#type: Option<String>, since: Option<DateTime<Utc>>, until: Option<DateTime<Utc>>, before: Option<Id>, limit: u32)
        [*, user_id = None, app = None, pool_id = None, r#type = None, since = None, until = None, before = None, limit = 100]
        |core| audit::list(core, app.as_deref(), model::AuditQuery {
            user_id: user_id.map(|u| u.0),
            app_id: None,
            pool_id: pool_id.map(|p| p.0),
            kind: r#type,
            since,
            until,
            before: before.map(|b| b.0),
            limit,
        });
}
