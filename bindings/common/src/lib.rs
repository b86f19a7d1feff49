//! The operations Tessera's two bindings (Python, `bindings/python`; Kotlin,
//! `bindings/uniffi`) both wrap, one module per capability.
//!
//! Why a crate of its own: the bindings differ only in how values cross
//! (pyo3 classes and exceptions, uniffi records and a sealed error), not in
//! what a call does. What a call does — resolve "this app or the default",
//! parse what the binding received as text (an algorithm name, a WebAuthn
//! credential, a provider configuration), call the core, and shape answers
//! the core leaves to its faces (a callback's redirect, a page of users) —
//! lives here once, in binding-neutral Rust: ids are `Uuid`s, clients are
//! [`ClientInfo`]s, results are the core's own types. Each binding keeps one
//! file per capability with the same name as the module here (see the
//! bindings' READMEs, "Adding a core capability"), holding its records and
//! its methods, each method
//! a line that converts arguments, calls the function here and converts the
//! result.
//!
//! No pyo3 and no uniffi here: a shared crate carrying both bindings'
//! attributes behind features would get both features at once in any
//! workspace build (cargo unifies them), linking Python into the Kotlin
//! library; and uniffi records defined in another crate become a Kotlin
//! package of their own. So each binding declares its records itself, from a
//! field list (a macro per binding).

pub mod api_keys;
pub mod apps;
pub mod audit;
pub mod emails;
pub mod mfa;
pub mod oauth;
pub mod open;
pub mod passkeys;
pub mod passwords;
pub mod sessions;
pub mod tokens;
pub mod totp;
pub mod users;
pub mod webhooks;

pub use tessera_core::model::ClientInfo;
pub use tessera_core::{Error, Result, Tessera};

/// The app a call acts for: `app` (id or slug), or the `default` app.
pub(crate) async fn app_of(core: &Tessera, app: Option<&str>) -> Result<tessera_core::model::App> {
    core.apps().resolve_or_default(app).await
}
