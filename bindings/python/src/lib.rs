//! Tessera's core embedded in Python: the native half of the `tessera` package.
//!
//! Everything here is glue. The flows live in `tessera-core`, and what a call
//! does (resolve the app, parse what arrived as text, call the core) lives in
//! `tessera_bindings_common`, shared with the Kotlin binding; this crate
//! turns Python arguments into Rust values, runs the common futures on one
//! shared multi-thread tokio runtime and turns the results (and errors, by
//! their stable code) back into Python objects. The pure-Python half
//! (`python/tessera/__init__.py`, `python/tessera/errors.py`, the stubs) sits
//! beside the compiled module `tessera._tessera`.
//!
//! One file per capability, named as in the Kotlin binding and in
//! `tessera_bindings_common` (see the README, "Adding a core capability"): each holds the
//! classes that capability returns and one [`methods!`] list, which gives
//! each method its Python signature once and generates it twice, on the
//! blocking `Tessera` (the calling thread detaches from the interpreter and
//! blocks on the future, so other Python threads run meanwhile) and on the
//! asyncio `AsyncTessera` (the future is spawned on the runtime and completes
//! an `asyncio.Future` through `loop.call_soon_threadsafe`). No Python code
//! runs while Rust works, and no Rust future ever polls with the GIL held.
//! Plumbing: [`bridge`] (runtime, blocking and asyncio calls, the macro),
//! [`convert`] (values across the boundary) and [`errors`].

mod bridge;
mod convert;
mod errors;

mod api_keys;
mod apps;
mod audit;
mod emails;
mod mfa;
mod oauth;
mod open;
mod passkeys;
mod passwords;
mod sessions;
mod tokens;
mod totp;
mod users;
mod webhooks;

use pyo3::prelude::*;

/// Tessera, blocking: each call runs to completion on the calling thread,
/// detached from the interpreter so other Python threads keep running.
#[pyclass(frozen, module = "tessera")]
pub(crate) struct Tessera {
    core: tessera_core::Tessera,
}

/// Tessera for asyncio: each call returns an awaitable; the work runs on
/// Tessera's runtime threads, never on the event loop.
#[pyclass(frozen, module = "tessera")]
pub(crate) struct AsyncTessera {
    core: tessera_core::Tessera,
}

/// The compiled module, `tessera._tessera`.
#[pymodule]
mod _tessera {
    #[pymodule_export]
    use super::api_keys::{ApiKey, CreatedApiKey};
    #[pymodule_export]
    use super::apps::{App, Pool};
    #[pymodule_export]
    use super::audit::AuditEvent;
    #[pymodule_export]
    use super::bridge::_complete;
    #[pymodule_export]
    use super::mfa::EnrolledSignIn;
    #[pymodule_export]
    use super::oauth::{Identity, OAuthProvider, OAuthStart, PyOAuthCallback};
    #[pymodule_export]
    use super::open::{_bench_validate_session, generate_key};
    #[pymodule_export]
    use super::passkeys::{PasskeyChallenge, PasskeyInfo};
    #[pymodule_export]
    use super::sessions::{AccessTokenInfo, AuthSession, Session, SessionInfo};
    #[pymodule_export]
    use super::tokens::AccessClaims;
    #[pymodule_export]
    use super::totp::{MfaStatus, TotpEnrollment};
    #[pymodule_export]
    use super::users::User;
    #[pymodule_export]
    use super::webhooks::{WebhookDelivery, WebhookEndpoint, WebhookSecret};
    #[pymodule_export]
    use super::{AsyncTessera, Tessera};

    use pyo3::prelude::*;

    #[pymodule_init]
    fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
        m.add("__version__", env!("CARGO_PKG_VERSION"))?;
        super::bridge::close_python_gate_at_exit(m)?;
        Ok(())
    }
}
