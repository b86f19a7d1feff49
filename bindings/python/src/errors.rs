//! Core errors as Python exceptions, chosen by the stable code.
//!
//! The exception classes are plain Python (`python/tessera/errors.py`), so they have
//! docstrings, pickle and subclass like any other; Rust only hands over the
//! code, the message and the kind's data (`field`, `retry_after`) to
//! `tessera.errors._from_core`, which picks the class. A code this module does
//! not know yet becomes the base `TesseraError` with that code, so a newer
//! core never breaks an older wrapper. Messages never carry a secret; the
//! cause of server errors stays on the Rust side.

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use tessera_core::{Error, ErrorKind};

fn from_core(py: Python<'_>) -> PyResult<&Py<PyAny>> {
    static FROM_CORE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    FROM_CORE.get_or_try_init(py, || {
        py.import("tessera.errors")?
            .getattr("_from_core")
            .map(Bound::unbind)
    })
}

/// The Python exception for a core error.
pub(crate) fn to_py_err(py: Python<'_>, e: &Error) -> PyErr {
    let field = match e.kind() {
        ErrorKind::InvalidInput { field } => Some(*field),
        _ => None,
    };
    let retry_after = match e.kind() {
        ErrorKind::RateLimited { retry_after } => Some(retry_after.as_secs_f64()),
        _ => None,
    };
    let made = from_core(py).and_then(|f| f.call1(py, (e.code(), e.message(), field, retry_after)));
    match made {
        Ok(exc) => PyErr::from_value(exc.into_bound(py)),
        // Only if the Python half is missing or broken.
        Err(_) => PyRuntimeError::new_err(format!("{}: {}", e.code(), e.message())),
    }
}

/// An `invalid_input` error for `field` (bad arguments found before the core runs).
pub(crate) fn invalid(py: Python<'_>, field: &'static str, message: impl Into<String>) -> PyErr {
    to_py_err(py, &Error::invalid(field, message.into()))
}

/// `MfaRequired`, carrying the challenge to finish the sign-in with.
/// `device_token` is a password sign-in's (the password was right).
pub(crate) fn mfa_required(
    py: Python<'_>,
    mfa_token: String,
    methods: Vec<String>,
    device_token: Option<String>,
) -> PyErr {
    let kind = ErrorKind::MfaRequired;
    let made = from_core(py).and_then(|f| {
        let kwargs = pyo3::types::PyDict::new(py);
        kwargs.set_item("mfa_token", mfa_token)?;
        kwargs.set_item("methods", methods)?;
        kwargs.set_item("device_token", device_token)?;
        f.call(
            py,
            (kind.code(), kind.default_message(), py.None(), py.None()),
            Some(&kwargs),
        )
    });
    match made {
        Ok(exc) => PyErr::from_value(exc.into_bound(py)),
        Err(err) => err,
    }
}
