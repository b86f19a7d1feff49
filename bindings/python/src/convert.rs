//! Values across the boundary: JSON documents, ids, times, results.
//!
//! Ids cross as strings (`str(uuid)`, the form the JWT `sub` and `sid` claims
//! use) and are accepted as `str` or `uuid.UUID`. Times are timezone-aware
//! `datetime`s in UTC. JSON documents (user metadata, app settings, audit
//! data, the JWKS) are plain dicts and lists.

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use pyo3::{Borrowed, IntoPyObjectExt};
use serde::Serialize;
use serde_json::{Map, Number, Value};
use tessera_core::model::ClientInfo;
use uuid::Uuid;

use crate::errors::invalid;

/// Deepest JSON nesting accepted from Python (the core caps sizes too).
const MAX_DEPTH: usize = 64;

/// A result the core hands back, made into a Python object under the GIL.
pub(crate) trait ToPy {
    /// Convert.
    fn to_py(self, py: Python<'_>) -> PyResult<Py<PyAny>>;
}

impl ToPy for () {
    fn to_py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok(py.None())
    }
}

impl ToPy for String {
    fn to_py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok(PyString::new(py, &self).into_any().unbind())
    }
}

impl ToPy for u64 {
    fn to_py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.into_py_any(py)
    }
}

impl ToPy for f64 {
    fn to_py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.into_py_any(py)
    }
}

impl ToPy for Value {
    fn to_py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok(json_to_py(py, &self)?.unbind())
    }
}

impl<T: ToPy> ToPy for Option<T> {
    fn to_py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        match self {
            Some(v) => v.to_py(py),
            None => Ok(py.None()),
        }
    }
}

impl<T: ToPy> ToPy for Vec<T> {
    fn to_py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let items = self
            .into_iter()
            .map(|v| v.to_py(py))
            .collect::<PyResult<Vec<_>>>()?;
        Ok(PyList::new(py, items)?.into_any().unbind())
    }
}

/// A JSON value as Python objects (dict, list, str, int, float, bool, None).
pub(crate) fn json_to_py<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => b.into_bound_py_any(py)?,
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_bound_py_any(py)?
            } else if let Some(u) = n.as_u64() {
                u.into_bound_py_any(py)?
            } else {
                n.as_f64().unwrap_or(f64::NAN).into_bound_py_any(py)?
            }
        }
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(items) => {
            let items = items
                .iter()
                .map(|x| json_to_py(py, x))
                .collect::<PyResult<Vec<_>>>()?;
            PyList::new(py, items)?.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, x) in map {
                dict.set_item(k, json_to_py(py, x)?)?;
            }
            dict.into_any()
        }
    })
}

/// A Python value as JSON: dicts with `str` keys, lists and tuples, `str`,
/// `int` (64-bit), finite `float`, `bool` and `None`.
pub(crate) fn py_to_json(obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    py_to_json_at(obj, 0)
}

fn py_to_json_at(obj: &Bound<'_, PyAny>, depth: usize) -> PyResult<Value> {
    if depth > MAX_DEPTH {
        return Err(PyValueError::new_err(
            "the JSON document is nested too deeply",
        ));
    }
    if obj.is_none() {
        return Ok(Value::Null);
    }
    // bool before int: Python's bool is an int.
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if obj.is_instance_of::<PyInt>() {
        if let Ok(i) = obj.extract::<i64>() {
            return Ok(Value::from(i));
        }
        if let Ok(u) = obj.extract::<u64>() {
            return Ok(Value::from(u));
        }
        return Err(PyValueError::new_err("integers must fit in 64 bits"));
    }
    if obj.is_instance_of::<PyFloat>() {
        let f: f64 = obj.extract()?;
        return Number::from_f64(f)
            .map(Value::Number)
            .ok_or_else(|| PyValueError::new_err("floats must be finite"));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Value::String(s.to_cow()?.into_owned()));
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        let mut map = Map::new();
        for (k, v) in d.iter() {
            let key = k
                .cast::<PyString>()
                .map_err(|_| PyTypeError::new_err("JSON object keys must be str"))?;
            map.insert(key.to_cow()?.into_owned(), py_to_json_at(&v, depth + 1)?);
        }
        return Ok(Value::Object(map));
    }
    if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        let items = obj
            .try_iter()?
            .map(|x| py_to_json_at(&x?, depth + 1))
            .collect::<PyResult<Vec<_>>>()?;
        return Ok(Value::Array(items));
    }
    Err(PyTypeError::new_err(format!(
        "{} is not JSON (dict, list, str, int, float, bool or None)",
        obj.get_type().name()?
    )))
}

/// A JSON document given from Python.
pub(crate) struct Json(pub(crate) Value);

impl<'a, 'py> FromPyObject<'a, 'py> for Json {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        py_to_json(&obj).map(Json)
    }
}

/// An id given as `str` or `uuid.UUID`; anything else that is not a UUID is
/// `invalid_input`.
pub(crate) struct Id(pub(crate) Uuid);

impl<'a, 'py> FromPyObject<'a, 'py> for Id {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let py = obj.py();
        let text = match obj.cast::<PyString>() {
            Ok(s) => s.to_cow()?.into_owned(),
            Err(_) => {
                let is_uuid = py
                    .import("uuid")?
                    .getattr("UUID")
                    .and_then(|cls| obj.is_instance(&cls))?;
                if !is_uuid {
                    return Err(PyTypeError::new_err("an id must be a str or a uuid.UUID"));
                }
                obj.str()?.to_cow()?.into_owned()
            }
        };
        text.parse::<Uuid>()
            .map(Id)
            .map_err(|_| invalid(py, "id", format!("{text:?} is not a valid id")))
    }
}

/// Python's `repr` of a string: single quotes, escapes for quotes,
/// backslashes and control characters.
pub(crate) fn repr_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// `repr` of an optional string (`None` or the quoted string).
pub(crate) fn repr_opt(s: Option<&str>) -> String {
    s.map_or_else(|| "None".to_owned(), repr_str)
}

/// The core's client of the `ip=` and `user_agent=` arguments.
pub(crate) fn client(ip: Option<String>, user_agent: Option<String>) -> ClientInfo {
    ClientInfo::parse(ip.as_deref(), user_agent.as_deref())
}

/// A value as JSON-compatible Python objects (the HTTP API's shape), for `to_dict()`.
pub(crate) fn to_dict<'py, T: Serialize>(
    py: Python<'py>,
    value: &T,
) -> PyResult<Bound<'py, PyAny>> {
    let json = serde_json::to_value(value).map_err(|e| PyValueError::new_err(e.to_string()))?;
    json_to_py(py, &json)
}

/// A field of a core value as a Python object: what a [`record!`](crate::record)
/// getter answers. Ids become `str`, times aware `datetime`s, JSON documents
/// fresh dicts and lists.
pub(crate) trait Field {
    /// Convert (a fresh object on each read).
    fn field(&self, py: Python<'_>) -> PyResult<Py<PyAny>>;
}

macro_rules! field_by_value {
    ($($t:ty),*) => {$(
        impl Field for $t {
            fn field(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
                self.clone().into_py_any(py)
            }
        }
    )*};
}
field_by_value!(
    bool,
    i32,
    i64,
    u32,
    String,
    Vec<String>,
    chrono::DateTime<chrono::Utc>
);

impl Field for Uuid {
    fn field(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.to_string().into_py_any(py)
    }
}

impl Field for Value {
    fn field(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok(json_to_py(py, self)?.unbind())
    }
}

impl<T: Field> Field for Option<T> {
    fn field(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        match self {
            Some(v) => v.field(py),
            None => Ok(py.None()),
        }
    }
}

/// A field given to Python as its JSON form (a structure of the core, such
/// as an app's settings).
pub(crate) struct AsJson<'a, T>(pub(crate) &'a T);

impl<T: Serialize> Field for AsJson<'_, T> {
    fn field(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok(to_dict(py, self.0)?.unbind())
    }
}

/// `Name(a=…, b=…)` from the Python `repr` of each named value.
pub(crate) fn repr_of(
    py: Python<'_>,
    name: &str,
    fields: &[(&str, Py<PyAny>)],
) -> PyResult<String> {
    let mut out = format!("{name}(");
    for (i, (label, value)) in fields.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(label.trim_start_matches("r#"));
        out.push('=');
        out.push_str(&value.bind(py).repr()?.to_string());
    }
    out.push(')');
    Ok(out)
}

/// Declare a frozen class over a core value from its field list: a getter
/// per field (`name` reads the core value's `name`, `name = other` its
/// `other`, `name as json` its JSON form), converted on each read by
/// [`Field`] (so a call that returns a user and a session builds no
/// `datetime` nobody reads); `to_dict()` (the HTTP API's JSON shape);
/// equality; a `repr` of the fields listed in `repr(…)` (never a secret);
/// and the core value's [`ToPy`]. Getters computed otherwise go in a
/// `#[pymethods]` block of their own beside it.
#[macro_export]
#[doc(hidden)]
macro_rules! record {
    (
        $(#[doc = $doc:literal])*
        pub(crate) struct $name:ident($core:ty) repr($($repr:ident),*) {
            $(
                $(#[doc = $fdoc:literal])*
                $field:ident $(= $src:ident)? $(as $json:ident)?
            ),* $(,)?
        }
    ) => {
        $(#[doc = $doc])*
        #[pyo3::pyclass(frozen, eq, module = "tessera")]
        #[derive(PartialEq)]
        pub(crate) struct $name {
            pub(crate) inner: $core,
        }

        #[pyo3::pymethods]
        impl $name {
            $(
                $(#[doc = $fdoc])*
                #[getter]
                fn $field(&self, py: pyo3::Python<'_>) -> pyo3::PyResult<pyo3::Py<pyo3::PyAny>> {
                    $crate::record!(@read self.inner, py, $field $(= $src)? $(as $json)?)
                }
            )*

            /// As JSON-compatible values (the HTTP API's shape).
            pub(crate) fn to_dict<'py>(&self, py: pyo3::Python<'py>) -> pyo3::PyResult<pyo3::Bound<'py, pyo3::PyAny>> {
                $crate::convert::to_dict(py, &self.inner)
            }

            pub(crate) fn __repr__(&self, py: pyo3::Python<'_>) -> pyo3::PyResult<String> {
                $crate::convert::repr_of(py, stringify!($name), &[
                    $((stringify!($repr), self.$repr(py)?)),*
                ])
            }
        }

        impl $crate::convert::ToPy for $core {
            fn to_py(self, py: pyo3::Python<'_>) -> pyo3::PyResult<pyo3::Py<pyo3::PyAny>> {
                Ok(pyo3::Py::new(py, $name { inner: self })?.into_any())
            }
        }
    };
    (@read $v:expr, $py:ident, $field:ident) => {
        $crate::convert::Field::field(&$v.$field, $py)
    };
    (@read $v:expr, $py:ident, $field:ident = $src:ident) => {
        $crate::convert::Field::field(&$v.$src, $py)
    };
    (@read $v:expr, $py:ident, $field:ident as json) => {
        $crate::convert::Field::field(&$crate::convert::AsJson(&$v.$field), $py)
    };
}
