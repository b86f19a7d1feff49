//! Opening a Tessera from Python: `Tessera.open` / `AsyncTessera.open`, the
//! key-encryption key, the handles' own properties, and the benchmark hook.
//!
//! Every option is gathered here from Python arguments (and the server's
//! environment variables) into `tessera_bindings_common::open::Options`;
//! opening itself is the one opener's (`tessera_storage::TesseraOpener`),
//! shared with the Kotlin binding and the server.

use base64::Engine as _;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};
use tessera_bindings_common::open;
use tessera_core::crypto::{KeyRing, PasswordParams};

use crate::bridge::{runtime, spawn};
use crate::convert::{ToPy, repr_str};
use crate::errors::to_py_err;
use crate::{AsyncTessera, Tessera};

/// Options of `open` beyond the store and keys.
pub(crate) struct MoreOptions {
    development: bool,
    webauthn_rp_id: Option<String>,
    webauthn_origins: Option<Vec<String>>,
    webhook_allow_hosts: Option<Vec<String>>,
}

fn key_text(obj: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(s.to_cow()?.into_owned());
    }
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(base64::engine::general_purpose::STANDARD.encode(b.as_bytes()));
    }
    Err(PyTypeError::new_err(
        "a key-encryption key is a base64 str or 32 raw bytes",
    ))
}

#[allow(clippy::too_many_arguments)]
fn open_args(
    py: Python<'_>,
    url: String,
    key_encryption_key: Option<&Bound<'_, PyAny>>,
    old_key_encryption_keys: Option<Vec<Bound<'_, PyAny>>>,
    issuer: Option<String>,
    password_hashing: &str,
    migrate: bool,
    smtp_url: Option<String>,
    mail_from: Option<String>,
    more: MoreOptions,
) -> PyResult<open::Options> {
    let config = |m: String| to_py_err(py, &tessera_core::Error::config(m));
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    let current = match key_encryption_key {
        Some(k) => key_text(k)?,
        None => env("TESSERA_KEY_ENCRYPTION_KEY").ok_or_else(|| {
            config(
                "no key_encryption_key given and TESSERA_KEY_ENCRYPTION_KEY is not set \
                 (tessera.generate_key() makes one)"
                    .into(),
            )
        })?,
    };
    let old = match old_key_encryption_keys {
        Some(keys) => {
            let keys = keys.iter().map(key_text).collect::<PyResult<Vec<_>>>()?;
            if keys.iter().any(|k| k.contains(',')) {
                return Err(config("a key-encryption key cannot contain ','".into()));
            }
            keys.join(",")
        }
        None if key_encryption_key.is_none() => {
            env("TESSERA_KEY_ENCRYPTION_KEY_OLD").unwrap_or_default()
        }
        None => String::new(),
    };
    let keyring = KeyRing::from_base64(&current, &old).map_err(|e| to_py_err(py, &e))?;
    let params = match password_hashing {
        "default" => PasswordParams::default(),
        "fast" => PasswordParams::insecure_fast_for_tests(),
        other => {
            return Err(config(format!(
                "password_hashing must be \"default\" or \"fast\" (tests only), not {other:?}"
            )));
        }
    };
    Ok(open::Options {
        url,
        keyring,
        issuer,
        password_params: Some(params),
        migrate,
        hash_concurrency: None,
        smtp_url: smtp_url.or_else(|| env("TESSERA_SMTP_URL")),
        mail_from: mail_from.or_else(|| env("TESSERA_MAIL_FROM")),
        development: more.development,
        webauthn_rp_id: more.webauthn_rp_id,
        webauthn_origins: more.webauthn_origins,
        webhook_allow_hosts: more
            .webhook_allow_hosts
            .or_else(|| env("TESSERA_WEBHOOK_ALLOW_HOSTS").map(|v| vec![v])),
    })
}

/// An opened core, to become an `AsyncTessera` under the GIL.
struct Opened(tessera_core::Tessera);

impl ToPy for Opened {
    fn to_py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok(Py::new(py, AsyncTessera { core: self.0 })?.into_any())
    }
}

fn repr(class: &str, core: &tessera_core::Tessera) -> String {
    format!(
        "{class}(backend={}, issuer={})",
        repr_str(core.store().backend()),
        repr_str(core.issuer())
    )
}

/// A fresh random key-encryption key, base64 (for `key_encryption_key=`).
/// Keep it: signing keys sealed under it cannot be opened without it.
#[pyfunction]
pub(crate) fn generate_key() -> String {
    KeyRing::generate_base64()
}

/// Time `n` session validations in Rust, on the same runtime and store the
/// binding uses: with `per_call` each validation is its own `block_on` (what
/// a blocking Python call does, minus Python); otherwise one task awaits them
/// in a loop (what a Rust service does). Returns seconds. For benchmarks only.
#[pyfunction]
#[pyo3(signature = (tessera, session_token, n, per_call = false))]
pub(crate) fn _bench_validate_session(
    py: Python<'_>,
    tessera: &Bound<'_, PyAny>,
    session_token: String,
    n: u64,
    per_call: bool,
) -> PyResult<f64> {
    let core = if let Ok(t) = tessera.cast::<Tessera>() {
        t.get().core.clone()
    } else if let Ok(t) = tessera.cast::<AsyncTessera>() {
        t.get().core.clone()
    } else {
        return Err(PyTypeError::new_err("expected a Tessera or AsyncTessera"));
    };
    let result = py.detach(|| {
        let rt = runtime();
        let start = std::time::Instant::now();
        if per_call {
            for _ in 0..n {
                rt.block_on(core.sessions().validate(&session_token))?;
            }
        } else {
            rt.block_on(async {
                for _ in 0..n {
                    core.sessions().validate(&session_token).await?;
                }
                Ok::<_, tessera_core::Error>(())
            })?;
        }
        Ok::<_, tessera_core::Error>(start.elapsed().as_secs_f64())
    });
    result.map_err(|e| to_py_err(py, &e))
}

/// `open` of both handles: the one Python signature, gathered into
/// `open::Options` by [`open_args`]; `|py, args| …` then opens for the handle
/// (blocking for `Tessera`, an awaitable for `AsyncTessera`).
macro_rules! open_method {
    ($(#[doc = $doc:literal])* $handle:ident<$py_lt:lifetime> -> $ret:ty, |$py:ident, $args:ident| $open:expr) => {
        #[pymethods]
        impl $handle {
            $(#[doc = $doc])*
            #[staticmethod]
            #[allow(clippy::too_many_arguments)]
            #[pyo3(signature = (url, key_encryption_key = None, *, old_key_encryption_keys = None, issuer = None, password_hashing = "default", migrate = true, smtp_url = None, mail_from = None, development = false, webauthn_rp_id = None, webauthn_origins = None, webhook_allow_hosts = None))]
            fn open<$py_lt>(
                $py: Python<$py_lt>,
                url: String,
                key_encryption_key: Option<&Bound<$py_lt, PyAny>>,
                old_key_encryption_keys: Option<Vec<Bound<$py_lt, PyAny>>>,
                issuer: Option<String>,
                password_hashing: &str,
                migrate: bool,
                smtp_url: Option<String>,
                mail_from: Option<String>,
                development: bool,
                webauthn_rp_id: Option<String>,
                webauthn_origins: Option<Vec<String>>,
                webhook_allow_hosts: Option<Vec<String>>,
            ) -> PyResult<$ret> {
                let more = MoreOptions {
                    development,
                    webauthn_rp_id,
                    webauthn_origins,
                    webhook_allow_hosts,
                };
                let $args = open_args(
                    $py,
                    url,
                    key_encryption_key,
                    old_key_encryption_keys,
                    issuer,
                    password_hashing,
                    migrate,
                    smtp_url,
                    mail_from,
                    more,
                )?;
                $open
            }
        }
    };
}

open_method! {
    /// Open Tessera on the store `url` names (`memory://`,
    /// `sqlite://PATH`, `postgres://…`), migrating it unless
    /// `migrate=False`. `key_encryption_key` seals signing keys at rest:
    /// a base64 str or 32 raw bytes; by default the server's
    /// `TESSERA_KEY_ENCRYPTION_KEY` (and `…_OLD`) from the environment.
    /// `password_hashing="fast"` is for tests only. Mail of the email flows
    /// is delivered in the background through `smtp_url`
    /// (`smtp://user:pass@host:587`, `smtps://…`, `?tls=none` for a
    /// loopback relay; default `TESSERA_SMTP_URL`) from `mail_from`, or,
    /// without one, written to the log.
    Tessera<'py> -> Tessera, |py, args| {
        let core = py
            .detach(|| runtime().block_on(open::open(args)))
            .map_err(|e| to_py_err(py, &e))?;
        Ok(Tessera { core })
    }
}

open_method! {
    /// Open Tessera on the store `url` names (awaitable); see `Tessera.open`.
    AsyncTessera<'py> -> Bound<'py, PyAny>, |py, args| {
        spawn(py, async move { open::open(args).await.map(Opened) })
    }
}

#[pymethods]
impl Tessera {
    /// The same Tessera for asyncio (shares the store and caches).
    fn to_async(&self) -> AsyncTessera {
        AsyncTessera {
            core: self.core.clone(),
        }
    }
}

#[pymethods]
impl AsyncTessera {
    /// The same Tessera, blocking (shares the store and caches).
    fn to_sync(&self) -> Tessera {
        Tessera {
            core: self.core.clone(),
        }
    }
}

/// The properties both handles have, declared once for each.
macro_rules! handle_properties {
    ($($handle:ident),*) => {$(
        #[pymethods]
        impl $handle {
            /// The token issuer (the public base URL).
            #[getter]
            fn issuer(&self) -> &str {
                self.core.issuer()
            }

            /// The store backend (`memory`, `sqlite`, `postgres`).
            #[getter]
            fn backend(&self) -> &'static str {
                self.core.store().backend()
            }

            /// The URL providers send the browser back to for `provider`
            /// (`{issuer}/v1/sign-in/oauth/{provider}/callback`): register it there.
            fn oauth_callback_url(&self, provider: &str) -> String {
                self.core.oauth().callback_url(provider)
            }

            fn __repr__(&self) -> String {
                repr(stringify!($handle), &self.core)
            }
        }
    )*};
}

handle_properties!(Tessera, AsyncTessera);
