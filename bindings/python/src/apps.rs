//! Apps and pools: the `App` and `Pool` classes and their methods.

use chrono::{DateTime, Utc};
use pyo3::prelude::*;
use tessera_bindings_common::apps;
use tessera_core::model;

use crate::convert::{Id, Json, ToPy, id, repr_str, to_dict};
use crate::{AsyncTessera, Tessera};

/// An application that signs users in from one pool.
#[pyclass(frozen, eq, module = "tessera")]
#[derive(PartialEq)]
pub(crate) struct App {
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
pub(crate) struct Pool {
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

/// App settings given as a dict.
fn settings(value: serde_json::Value) -> tessera_core::Result<model::AppSettings> {
    serde_json::from_value(value)
        .map_err(|e| tessera_core::Error::invalid("settings", e.to_string()))
}

crate::methods! {
    /// The `default` app.
    fn default_app()
        []
        |core| apps::default_app(core);
    /// An app by id or slug.
    fn get_app(app: String)
        [app]
        |core| apps::get(core, &app);
    /// All apps (or one pool's), oldest first.
    fn list_apps(pool_id: Option<Id>)
        [*, pool_id = None]
        |core| apps::list(core, pool_id.map(|p| p.0));
    /// Create an app; `settings` is a dict of app settings (defaults for the rest).
    fn create_app(slug: String, name: String, settings: Option<Json>, pool_id: Option<Id>)
        [slug, name, *, settings = None, pool_id = None]
        |core| async move {
            let settings = settings.map(|s| self::settings(s.0)).transpose()?;
            let pool_id = pool_id.map(|p| p.0);
            apps::create(core, tessera_core::NewApp { slug, name, pool_id, settings }).await
        };
    /// Change an app's name, slug or settings (merged into the current ones).
    fn update_app(app: String, name: Option<String>, slug: Option<String>, settings: Option<Json>)
        [app, *, name = None, slug = None, settings = None]
        |core| apps::update(core, &app, name, slug, |current| {
            // Settings are merged key by key into the current ones.
            match settings {
                None => Ok(None),
                Some(Json(serde_json::Value::Object(changes))) => {
                    let mut merged = serde_json::to_value(current).map_err(tessera_core::Error::internal)?;
                    if let serde_json::Value::Object(m) = &mut merged {
                        m.extend(changes);
                    }
                    self::settings(merged).map(Some)
                }
                Some(_) => Err(tessera_core::Error::invalid("settings", "settings must be a dict")),
            }
        });
    /// Delete an app and its sessions (not the `default` app).
    fn delete_app(app: String)
        [app]
        |core| apps::delete(core, &app);
    /// All pools, oldest first.
    fn list_pools()
        []
        |core| apps::list_pools(core);
    /// Create a pool (a separate set of users).
    fn create_pool(slug: String, name: String)
        [slug, name]
        |core| apps::create_pool(core, &slug, &name);
}
