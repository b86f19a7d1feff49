//! Tessera's core embedded in Python: the native half of the `tessera` package.
//!
//! Everything here is glue. The flows live in `tessera-core`; this crate opens
//! a store by URL, turns Python arguments into Rust values, runs the core's
//! futures on one shared multi-thread tokio runtime and turns the results (and
//! errors, by their stable code) back into Python objects. The pure-Python
//! half (`python/tessera/__init__.py`, `python/tessera/errors.py`, the stubs) sits beside the
//! compiled module `tessera._tessera`.
//!
//! The key design decision: every capability is written once, as an `async fn`
//! in [`ops`], and exposed twice by the `methods!` macro, on the blocking
//! `Tessera` (the calling thread detaches from the interpreter and blocks on
//! the future, so other Python threads run meanwhile) and on the asyncio
//! `AsyncTessera` (the future is spawned on the runtime and completes an
//! `asyncio.Future` through `loop.call_soon_threadsafe`). No Python code runs
//! while Rust works, and no Rust future ever polls with the GIL held.

mod auth_types;
mod bridge;
mod convert;
mod errors;
mod ops;
mod types;

use pyo3::prelude::*;

/// The compiled module, `tessera._tessera`.
#[pymodule]
mod _tessera {
    #[pymodule_export]
    use super::auth_types::{
        EnrolledSignIn, Identity, MfaStatus, OAuthProvider, OAuthStart, PasskeyChallenge,
        PasskeyInfo, PyOAuthCallback, TotpEnrollment,
    };
    #[pymodule_export]
    use super::bridge::_complete;
    #[pymodule_export]
    use super::ops::{_bench_validate_session, AsyncTessera, Tessera, generate_key};
    #[pymodule_export]
    use super::types::{
        AccessClaims, AccessTokenInfo, ApiKey, App, AuditEvent, AuthSession, CreatedApiKey, Pool,
        Session, SessionInfo, User,
    };

    use pyo3::prelude::*;

    #[pymodule_init]
    fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
        m.add("__version__", env!("CARGO_PKG_VERSION"))?;
        Ok(())
    }
}
