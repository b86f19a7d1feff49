//! `Tessera` and `AsyncTessera`: every capability, written once.
//!
//! Each capability is an `async fn` in [`flows`] taking the core facade and
//! owned arguments. The `methods!` list below gives each one its Python
//! signature once and generates two methods from it: a blocking one on
//! `Tessera` ([`crate::bridge::block_on`]) and an awaitable one on
//! `AsyncTessera` ([`crate::bridge::spawn`]). Adding a core capability to the
//! binding is: one `async fn` here, one entry in the list, a `ToPy` impl if it
//! returns a new type, the stub lines and a test (see the README).

use base64::Engine as _;
use chrono::{DateTime, Utc};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};
use tessera_core::crypto::{KeyRing, PasswordParams};

use crate::bridge::{block_on, runtime, spawn};
use crate::convert::{Id, Json, ToPy, repr_str};
use crate::errors::to_py_err;

mod factors;

/// Tessera, blocking: each call runs to completion on the calling thread,
/// detached from the interpreter so other Python threads keep running.
#[pyclass(frozen, module = "tessera")]
pub struct Tessera {
    core: tessera_core::Tessera,
}

/// Tessera for asyncio: each call returns an awaitable; the work runs on
/// Tessera's runtime threads, never on the event loop.
#[pyclass(frozen, module = "tessera")]
pub struct AsyncTessera {
    core: tessera_core::Tessera,
}

/// What `open` needs, extracted from Python arguments before detaching.
pub(crate) struct OpenArgs {
    url: String,
    keyring: KeyRing,
    issuer: Option<String>,
    params: PasswordParams,
    migrate: bool,
    smtp_url: Option<String>,
    mail_from: String,
    development: bool,
    webauthn_rp_id: Option<String>,
    webauthn_origins: Option<Vec<String>>,
}

/// Options of `open` beyond the store and keys.
pub(crate) struct MoreOptions {
    development: bool,
    webauthn_rp_id: Option<String>,
    webauthn_origins: Option<Vec<String>>,
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
) -> PyResult<OpenArgs> {
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
    Ok(OpenArgs {
        url,
        keyring,
        issuer,
        params,
        migrate,
        smtp_url: smtp_url.or_else(|| env("TESSERA_SMTP_URL")),
        mail_from: mail_from
            .or_else(|| env("TESSERA_MAIL_FROM"))
            .unwrap_or_else(|| tessera_storage::DEFAULT_MAIL_FROM.to_owned()),
        development: more.development,
        webauthn_rp_id: more.webauthn_rp_id,
        webauthn_origins: more.webauthn_origins,
    })
}

async fn open(args: OpenArgs) -> tessera_core::Result<tessera_core::Tessera> {
    // Mail queued by the email flows is delivered in the background (through
    // SMTP when configured, else written to the log) by a worker on the
    // binding's runtime, where this future runs; it ends once Python drops
    // its last handle, releasing the store.
    let mut opener = tessera_storage::TesseraOpener::new(args.url, args.keyring)
        .migrate(args.migrate)
        .password_params(args.params)
        .development(args.development)
        .mail(tessera_storage::MailSettings {
            smtp_url: args.smtp_url,
            from: args.mail_from,
        });
    if let Some(issuer) = args.issuer {
        opener = opener.issuer(issuer);
    }
    if let Some(rp_id) = args.webauthn_rp_id {
        opener = opener.webauthn_rp_id(rp_id);
    }
    if let Some(origins) = args.webauthn_origins {
        opener = opener.webauthn_origins(origins);
    }
    opener.open().await
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

/// The capabilities, as async functions of the core and owned arguments.
mod flows {
    pub(super) use super::email_flows::*;
    pub(super) use super::factors::*;
    use serde_json::Value;
    use tessera_core::model::{App, AuditQuery, ClientInfo, SigningAlg, UserPatch, UserQuery};
    use tessera_core::{Error, NewApp, Result, SignUpOutcome, Tessera};

    use super::{DateTime, Id, Json, Utc};
    use crate::types::{Validated, ValidatedToken};

    fn client(ip: Option<String>, user_agent: Option<String>) -> ClientInfo {
        ClientInfo::parse(ip.as_deref(), user_agent.as_deref())
    }

    fn settings(value: Value) -> Result<tessera_core::model::AppSettings> {
        serde_json::from_value(value).map_err(|e| Error::invalid("settings", e.to_string()))
    }

    pub(super) async fn sign_up(
        core: Tessera,
        email: String,
        password: String,
        name: Option<String>,
        app: Option<String>,
        ip: Option<String>,
        user_agent: Option<String>,
    ) -> Result<Option<tessera_core::AuthSession>> {
        let app = core.apps().resolve_or_default(app.as_deref()).await?;
        let outcome = core
            .passwords()
            .sign_up(
                &app,
                &email,
                &password,
                name.as_deref(),
                &client(ip, user_agent),
            )
            .await?;
        Ok(match outcome {
            SignUpOutcome::SignedIn(s) => Some(*s),
            SignUpOutcome::VerificationRequired => None,
        })
    }

    pub(super) async fn sign_in_password(
        core: Tessera,
        email: String,
        password: String,
        app: Option<String>,
        ip: Option<String>,
        user_agent: Option<String>,
    ) -> Result<tessera_core::SignInOutcome> {
        let app = core.apps().resolve_or_default(app.as_deref()).await?;
        core.passwords()
            .sign_in(&app, &email, &password, &client(ip, user_agent))
            .await
    }

    pub(super) async fn refresh(
        core: Tessera,
        refresh_token: String,
        ip: Option<String>,
        user_agent: Option<String>,
    ) -> Result<tessera_core::AuthSession> {
        core.sessions()
            .refresh(&refresh_token, &client(ip, user_agent))
            .await
    }

    pub(super) async fn validate_session(
        core: Tessera,
        session_token: String,
    ) -> Result<Validated> {
        let (session, user) = core.sessions().validate(&session_token).await?;
        Ok(Validated(session, user))
    }

    pub(super) async fn validate_access_token(
        core: Tessera,
        access_token: String,
        app: Option<String>,
    ) -> Result<ValidatedToken> {
        let audience = match app {
            Some(a) => Some(core.apps().resolve(&a).await?.id.to_string()),
            None => None,
        };
        let (session, user, claims) = core
            .sessions()
            .validate_access_token(&access_token, audience.as_deref())
            .await?;
        Ok(ValidatedToken(session, user, claims))
    }

    pub(super) async fn verify_access_token(
        core: Tessera,
        access_token: String,
        app: Option<String>,
    ) -> Result<tessera_core::AccessClaims> {
        let audience = match app {
            Some(a) => Some(core.apps().resolve(&a).await?.id.to_string()),
            None => None,
        };
        core.tokens()
            .verify(&access_token, audience.as_deref())
            .await
    }

    pub(super) async fn sign_out(core: Tessera, token: String) -> Result<()> {
        core.sessions().sign_out(&token).await
    }

    pub(super) async fn list_sessions(
        core: Tessera,
        user_id: Id,
    ) -> Result<Vec<tessera_core::model::Session>> {
        core.sessions().list(user_id.0).await
    }

    pub(super) async fn revoke_session(
        core: Tessera,
        user_id: Id,
        session_id: Id,
        reason: String,
    ) -> Result<()> {
        core.sessions()
            .revoke(user_id.0, session_id.0, &reason)
            .await
    }

    pub(super) async fn revoke_all_sessions(
        core: Tessera,
        user_id: Id,
        except_session: Option<Id>,
        reason: String,
    ) -> Result<u64> {
        core.sessions()
            .revoke_all(user_id.0, except_session.map(|s| s.0), &reason)
            .await
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) async fn change_password(
        core: Tessera,
        user_id: Id,
        current_password: String,
        new_password: String,
        keep_session: Option<Id>,
        app: Option<String>,
        ip: Option<String>,
        user_agent: Option<String>,
    ) -> Result<()> {
        let app = core.apps().resolve_or_default(app.as_deref()).await?;
        core.passwords()
            .change(
                &app,
                user_id.0,
                keep_session.map(|s| s.0),
                &current_password,
                &new_password,
                &client(ip, user_agent),
            )
            .await
    }

    pub(super) async fn get_user(core: Tessera, user_id: Id) -> Result<tessera_core::model::User> {
        core.users().get(user_id.0).await
    }

    pub(super) async fn find_user_by_email(
        core: Tessera,
        email: String,
        app: Option<String>,
    ) -> Result<Option<tessera_core::model::User>> {
        let app = core.apps().resolve_or_default(app.as_deref()).await?;
        core.users().find_by_email(app.pool_id, &email).await
    }

    pub(super) async fn list_users(
        core: Tessera,
        app: Option<String>,
        email_contains: Option<String>,
        after: Option<Id>,
        limit: u32,
    ) -> Result<Vec<tessera_core::model::User>> {
        let app = core.apps().resolve_or_default(app.as_deref()).await?;
        let query = UserQuery {
            email_contains,
            after: after.map(|a| a.0),
            limit,
        };
        core.users().list(app.pool_id, &query).await
    }

    pub(super) async fn update_user(
        core: Tessera,
        user_id: Id,
        email: Option<String>,
        email_verified: Option<bool>,
        name: Option<String>,
        metadata: Option<Json>,
        disabled: Option<bool>,
    ) -> Result<tessera_core::model::User> {
        let patch = UserPatch {
            email,
            email_verified,
            // "" clears the name (the core normalises it to none).
            name: name.map(Some),
            metadata: metadata.map(|m| m.0),
            disabled,
        };
        core.users().update(user_id.0, &patch).await
    }

    pub(super) async fn delete_user(core: Tessera, user_id: Id) -> Result<()> {
        core.users().delete(user_id.0).await
    }

    pub(super) async fn default_app(core: Tessera) -> Result<App> {
        core.apps().default_app().await
    }

    pub(super) async fn get_app(core: Tessera, app: String) -> Result<App> {
        core.apps().resolve(&app).await
    }

    pub(super) async fn list_apps(core: Tessera, pool_id: Option<Id>) -> Result<Vec<App>> {
        core.apps().list(pool_id.map(|p| p.0)).await
    }

    pub(super) async fn create_app(
        core: Tessera,
        slug: String,
        name: String,
        settings: Option<Json>,
        pool_id: Option<Id>,
    ) -> Result<App> {
        let settings = settings.map(|s| self::settings(s.0)).transpose()?;
        core.apps()
            .create(NewApp {
                slug,
                name,
                pool_id: pool_id.map(|p| p.0),
                settings,
            })
            .await
    }

    pub(super) async fn update_app(
        core: Tessera,
        app: String,
        name: Option<String>,
        slug: Option<String>,
        settings: Option<Json>,
    ) -> Result<App> {
        let current = core.apps().resolve(&app).await?;
        // Settings are merged key by key into the current ones.
        let settings = match settings {
            None => None,
            Some(Json(Value::Object(changes))) => {
                let mut merged =
                    serde_json::to_value(&current.settings).map_err(Error::internal)?;
                if let Value::Object(m) = &mut merged {
                    m.extend(changes);
                }
                Some(self::settings(merged)?)
            }
            Some(_) => return Err(Error::invalid("settings", "settings must be a dict")),
        };
        core.apps().update(current.id, name, slug, settings).await
    }

    pub(super) async fn delete_app(core: Tessera, app: String) -> Result<()> {
        let app = core.apps().resolve(&app).await?;
        core.apps().delete(app.id).await
    }

    pub(super) async fn list_pools(core: Tessera) -> Result<Vec<tessera_core::model::Pool>> {
        core.apps().list_pools().await
    }

    pub(super) async fn create_pool(
        core: Tessera,
        slug: String,
        name: String,
    ) -> Result<tessera_core::model::Pool> {
        core.apps().create_pool(&slug, &name).await
    }

    pub(super) async fn create_api_key(
        core: Tessera,
        name: String,
        scopes: Vec<String>,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<tessera_core::CreatedApiKey> {
        core.api_keys().create(&name, &scopes, expires_at).await
    }

    pub(super) async fn authenticate_api_key(
        core: Tessera,
        secret: String,
        scope: String,
    ) -> Result<tessera_core::model::ApiKey> {
        core.api_keys().authenticate(&secret, &scope).await
    }

    pub(super) async fn list_api_keys(core: Tessera) -> Result<Vec<tessera_core::model::ApiKey>> {
        core.api_keys().list().await
    }

    pub(super) async fn revoke_api_key(core: Tessera, key_id: Id) -> Result<()> {
        core.api_keys().revoke(key_id.0).await
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) async fn list_audit_events(
        core: Tessera,
        user_id: Option<Id>,
        app: Option<String>,
        pool_id: Option<Id>,
        r#type: Option<String>,
        since: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
        before: Option<Id>,
        limit: u32,
    ) -> Result<Vec<tessera_core::model::AuditEvent>> {
        let app_id = match app {
            Some(a) => Some(core.apps().resolve(&a).await?.id),
            None => None,
        };
        let query = AuditQuery {
            user_id: user_id.map(|u| u.0),
            app_id,
            pool_id: pool_id.map(|p| p.0),
            kind: r#type,
            since,
            until,
            before: before.map(|b| b.0),
            limit,
        };
        core.audit().list(&query).await
    }

    pub(super) async fn jwks(core: Tessera) -> Result<Value> {
        core.tokens().jwks().await
    }

    pub(super) async fn current_kid(core: Tessera) -> Result<String> {
        core.tokens().current_kid().await
    }

    pub(super) async fn rotate_signing_key(core: Tessera, alg: Option<String>) -> Result<String> {
        let alg = match alg.as_deref() {
            None => None,
            Some(a) => Some(SigningAlg::parse(a).ok_or_else(|| {
                Error::invalid("alg", "the algorithm must be EdDSA, ES256 or RS256")
            })?),
        };
        core.tokens().rotate(alg).await
    }
}

/// The email flows, as async functions of the core and owned arguments.
mod email_flows {
    use tessera_core::model::ClientInfo;
    use tessera_core::{Result, Tessera};

    use super::Id;

    fn client(ip: Option<String>, user_agent: Option<String>) -> ClientInfo {
        ClientInfo::parse(ip.as_deref(), user_agent.as_deref())
    }

    pub(super) async fn send_verification(
        core: Tessera,
        user_id: Id,
        app: Option<String>,
    ) -> Result<()> {
        let app = core.apps().resolve_or_default(app.as_deref()).await?;
        core.emails().send_verification(&app, user_id.0).await
    }

    pub(super) async fn verify_email(
        core: Tessera,
        token: String,
    ) -> Result<tessera_core::model::User> {
        core.emails().verify_email(&token).await
    }

    pub(super) async fn send_password_reset(
        core: Tessera,
        email: String,
        app: Option<String>,
        ip: Option<String>,
        user_agent: Option<String>,
    ) -> Result<()> {
        let app = core.apps().resolve_or_default(app.as_deref()).await?;
        core.emails()
            .send_password_reset(&app, &email, &client(ip, user_agent))
            .await
    }

    pub(super) async fn reset_password(
        core: Tessera,
        token: String,
        new_password: String,
        ip: Option<String>,
        user_agent: Option<String>,
    ) -> Result<()> {
        core.emails()
            .reset_password(&token, &new_password, &client(ip, user_agent))
            .await
    }

    pub(super) async fn send_sign_in_code(
        core: Tessera,
        email: String,
        app: Option<String>,
        ip: Option<String>,
        user_agent: Option<String>,
    ) -> Result<()> {
        let app = core.apps().resolve_or_default(app.as_deref()).await?;
        core.emails()
            .send_sign_in_code(&app, &email, &client(ip, user_agent))
            .await
    }

    pub(super) async fn sign_in_with_code(
        core: Tessera,
        email: String,
        code: String,
        app: Option<String>,
        ip: Option<String>,
        user_agent: Option<String>,
    ) -> Result<tessera_core::SignInOutcome> {
        let app = core.apps().resolve_or_default(app.as_deref()).await?;
        core.emails()
            .sign_in_with_code(&app, &email, &code, &client(ip, user_agent))
            .await
    }

    pub(super) async fn send_magic_link(
        core: Tessera,
        email: String,
        redirect_uri: Option<String>,
        app: Option<String>,
        ip: Option<String>,
        user_agent: Option<String>,
    ) -> Result<()> {
        let app = core.apps().resolve_or_default(app.as_deref()).await?;
        core.emails()
            .send_magic_link(
                &app,
                &email,
                redirect_uri.as_deref(),
                &client(ip, user_agent),
            )
            .await
    }

    pub(super) async fn sign_in_with_magic_link(
        core: Tessera,
        token: String,
        ip: Option<String>,
        user_agent: Option<String>,
    ) -> Result<tessera_core::SignInOutcome> {
        Ok(core
            .emails()
            .sign_in_with_magic_link(&token, &client(ip, user_agent))
            .await?
            .outcome)
    }

    pub(super) async fn request_email_change(
        core: Tessera,
        user_id: Id,
        new_email: String,
        app: Option<String>,
        ip: Option<String>,
        user_agent: Option<String>,
    ) -> Result<()> {
        let app = core.apps().resolve_or_default(app.as_deref()).await?;
        core.emails()
            .request_email_change(&app, user_id.0, &new_email, &client(ip, user_agent))
            .await
    }

    pub(super) async fn confirm_email_change(
        core: Tessera,
        token: String,
        ip: Option<String>,
        user_agent: Option<String>,
    ) -> Result<tessera_core::model::User> {
        core.emails()
            .confirm_email_change(&token, &client(ip, user_agent))
            .await
    }
}

/// Sign-in outcomes: a session, or `MfaRequired` raised with its challenge.
impl ToPy for tessera_core::SignInOutcome {
    fn to_py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        match self {
            tessera_core::SignInOutcome::Complete(s) => (*s).to_py(py),
            tessera_core::SignInOutcome::MfaRequired(challenge) => {
                Err(crate::errors::mfa_required(
                    py,
                    challenge.mfa_token,
                    challenge
                        .methods
                        .iter()
                        .map(|m| m.as_str().to_owned())
                        .collect(),
                ))
            }
        }
    }
}

/// Generate the blocking and the asyncio method of every capability from one
/// list. Each entry: doc comment, `fn name(arg: Type, …) [pyo3 signature];`;
/// the argument names and order match `flows::name`.
macro_rules! methods {
    (
        sync { $($sync_items:item)* }
        async { $($async_items:item)* }
        $(
            $(#[doc = $doc:literal])*
            fn $name:ident($($arg:ident: $ty:ty),* $(,)?) [$($sig:tt)*];
        )*
    ) => {
        #[pymethods]
        impl Tessera {
            $($sync_items)*
            $(
                $(#[doc = $doc])*
                #[pyo3(signature = ($($sig)*))]
                #[allow(clippy::too_many_arguments)]
                fn $name(&self, py: Python<'_>, $($arg: $ty),*) -> PyResult<Py<PyAny>> {
                    block_on(py, flows::$name(self.core.clone(), $($arg),*))
                }
            )*
        }

        #[pymethods]
        impl AsyncTessera {
            $($async_items)*
            $(
                $(#[doc = $doc])*
                #[pyo3(signature = ($($sig)*))]
                #[allow(clippy::too_many_arguments)]
                fn $name<'py>(&self, py: Python<'py>, $($arg: $ty),*) -> PyResult<Bound<'py, PyAny>> {
                    spawn(py, flows::$name(self.core.clone(), $($arg),*))
                }
            )*
        }
    };
}

methods! {
    sync {
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
        #[staticmethod]
        #[allow(clippy::too_many_arguments)]
        #[pyo3(signature = (url, key_encryption_key = None, *, old_key_encryption_keys = None, issuer = None, password_hashing = "default", migrate = true, smtp_url = None, mail_from = None, development = false, webauthn_rp_id = None, webauthn_origins = None))]
        fn open(
            py: Python<'_>,
            url: String,
            key_encryption_key: Option<&Bound<'_, PyAny>>,
            old_key_encryption_keys: Option<Vec<Bound<'_, PyAny>>>,
            issuer: Option<String>,
            password_hashing: &str,
            migrate: bool,
            smtp_url: Option<String>,
            mail_from: Option<String>,
            development: bool,
            webauthn_rp_id: Option<String>,
            webauthn_origins: Option<Vec<String>>,
        ) -> PyResult<Tessera> {
            let more = MoreOptions { development, webauthn_rp_id, webauthn_origins };
            let args = open_args(py, url, key_encryption_key, old_key_encryption_keys, issuer, password_hashing, migrate, smtp_url, mail_from, more)?;
            let core = py
                .detach(|| runtime().block_on(open(args)))
                .map_err(|e| to_py_err(py, &e))?;
            Ok(Tessera { core })
        }

        /// The same Tessera for asyncio (shares the store and caches).
        fn to_async(&self) -> AsyncTessera {
            AsyncTessera { core: self.core.clone() }
        }

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
            repr("Tessera", &self.core)
        }
    }
    async {
        /// Open Tessera on the store `url` names (awaitable); see `Tessera.open`.
        #[staticmethod]
        #[allow(clippy::too_many_arguments)]
        #[pyo3(signature = (url, key_encryption_key = None, *, old_key_encryption_keys = None, issuer = None, password_hashing = "default", migrate = true, smtp_url = None, mail_from = None, development = false, webauthn_rp_id = None, webauthn_origins = None))]
        fn open<'py>(
            py: Python<'py>,
            url: String,
            key_encryption_key: Option<&Bound<'py, PyAny>>,
            old_key_encryption_keys: Option<Vec<Bound<'py, PyAny>>>,
            issuer: Option<String>,
            password_hashing: &str,
            migrate: bool,
            smtp_url: Option<String>,
            mail_from: Option<String>,
            development: bool,
            webauthn_rp_id: Option<String>,
            webauthn_origins: Option<Vec<String>>,
        ) -> PyResult<Bound<'py, PyAny>> {
            let more = MoreOptions { development, webauthn_rp_id, webauthn_origins };
            let args = open_args(py, url, key_encryption_key, old_key_encryption_keys, issuer, password_hashing, migrate, smtp_url, mail_from, more)?;
            spawn(py, async move { open(args).await.map(Opened) })
        }

        /// The same Tessera, blocking (shares the store and caches).
        fn to_sync(&self) -> Tessera {
            Tessera { core: self.core.clone() }
        }

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
            repr("AsyncTessera", &self.core)
        }
    }

    /// Create an account with a password and sign it in. Returns the
    /// `AuthSession`, or `None` when the app requires a verified email first.
    fn sign_up(email: String, password: String, name: Option<String>, app: Option<String>, ip: Option<String>, user_agent: Option<String>)
        [email, password, name = None, *, app = None, ip = None, user_agent = None];
    /// Sign in with email and password. Raises `MfaRequired` (with
    /// `.mfa_token` and `.methods`) when a second factor is needed.
    fn sign_in_password(email: String, password: String, app: Option<String>, ip: Option<String>, user_agent: Option<String>)
        [email, password, *, app = None, ip = None, user_agent = None];
    /// Exchange a refresh token for a new access token and refresh token.
    fn refresh(refresh_token: String, ip: Option<String>, user_agent: Option<String>)
        [refresh_token, *, ip = None, user_agent = None];
    /// Validate an opaque session token (`tss_…`): a `SessionInfo`.
    fn validate_session(session_token: String)
        [session_token];
    /// Validate an access JWT and its session (revoked sessions fail at
    /// once): an `AccessTokenInfo`. With `app=`, the token must be for it.
    fn validate_access_token(access_token: String, app: Option<String>)
        [access_token, *, app = None];
    /// Verify an access JWT offline (signature, issuer, expiry, audience when
    /// `app=` is given) without looking at its session: `AccessClaims`.
    fn verify_access_token(access_token: String, app: Option<String>)
        [access_token, *, app = None];
    /// Revoke the session a session token or an access token belongs to.
    fn sign_out(token: String)
        [token];
    /// A user's live sessions, newest first.
    fn list_sessions(user_id: Id)
        [user_id];
    /// Revoke one of a user's sessions (idempotent).
    fn revoke_session(user_id: Id, session_id: Id, reason: String)
        [user_id, session_id, *, reason = "sign_out".to_owned()];
    /// Revoke every session of a user except `except_session`; returns how many.
    fn revoke_all_sessions(user_id: Id, except_session: Option<Id>, reason: String)
        [user_id, *, except_session = None, reason = "sign_out_everywhere".to_owned()];
    /// Change a user's password after checking the current one; every other
    /// session of the user (all but `keep_session`) is revoked.
    fn change_password(user_id: Id, current_password: String, new_password: String, keep_session: Option<Id>, app: Option<String>, ip: Option<String>, user_agent: Option<String>)
        [user_id, current_password, new_password, *, keep_session = None, app = None, ip = None, user_agent = None];
    /// A user by id (`NotFound` if there is none).
    fn get_user(user_id: Id)
        [user_id];
    /// A user of the app's pool by email, or `None`.
    fn find_user_by_email(email: String, app: Option<String>)
        [email, *, app = None];
    /// Users of the app's pool ordered by id; pass the last id of a page as
    /// `after=` for the next. `limit` is at most 1000.
    fn list_users(app: Option<String>, email_contains: Option<String>, after: Option<Id>, limit: u32)
        [*, app = None, email_contains = None, after = None, limit = 100];
    /// Change a user; only the arguments given change (`name=""` clears the
    /// name). Disabling revokes the user's sessions.
    fn update_user(user_id: Id, email: Option<String>, email_verified: Option<bool>, name: Option<String>, metadata: Option<Json>, disabled: Option<bool>)
        [user_id, *, email = None, email_verified = None, name = None, metadata = None, disabled = None];
    /// Delete a user and their sessions and credentials.
    fn delete_user(user_id: Id)
        [user_id];
    /// The `default` app.
    fn default_app()
        [];
    /// An app by id or slug.
    fn get_app(app: String)
        [app];
    /// All apps (or one pool's), oldest first.
    fn list_apps(pool_id: Option<Id>)
        [*, pool_id = None];
    /// Create an app; `settings` is a dict of app settings (defaults for the rest).
    fn create_app(slug: String, name: String, settings: Option<Json>, pool_id: Option<Id>)
        [slug, name, *, settings = None, pool_id = None];
    /// Change an app's name, slug or settings (merged into the current ones).
    fn update_app(app: String, name: Option<String>, slug: Option<String>, settings: Option<Json>)
        [app, *, name = None, slug = None, settings = None];
    /// Delete an app and its sessions (not the `default` app).
    fn delete_app(app: String)
        [app];
    /// All pools, oldest first.
    fn list_pools()
        [];
    /// Create a pool (a separate set of users).
    fn create_pool(slug: String, name: String)
        [slug, name];
    /// Create an admin API key; its `secret` is in the answer and nowhere else.
    fn create_api_key(name: String, scopes: Vec<String>, expires_at: Option<DateTime<Utc>>)
        [name, scopes, *, expires_at = None];
    /// The live key for `secret`, checked to carry `scope` (or `admin`).
    fn authenticate_api_key(secret: String, scope: String)
        [secret, scope];
    /// All API keys (without secrets), oldest first.
    fn list_api_keys()
        [];
    /// Revoke an API key (idempotent).
    fn revoke_api_key(key_id: Id)
        [key_id];
    /// Audit events, newest first, filtered; pass the last id of a page as
    /// `before=` for the next.
    fn list_audit_events(user_id: Option<Id>, app: Option<String>, pool_id: Option<Id>, r#type: Option<String>, since: Option<DateTime<Utc>>, until: Option<DateTime<Utc>>, before: Option<Id>, limit: u32)
        [*, user_id = None, app = None, pool_id = None, r#type = None, since = None, until = None, before = None, limit = 100];
    /// The published key set, `{"keys": [...]}`.
    fn jwks()
        [];
    /// The id of the key new tokens are signed with.
    fn current_kid()
        [];
    /// Make a new signing key (of `alg`: `EdDSA`, `ES256`, `RS256`) the
    /// current one; the old one stays published while its tokens live.
    fn rotate_signing_key(alg: Option<String>)
        [alg = None];
    /// Queue a verification link for the user (nothing if already verified).
    fn send_verification(user_id: Id, app: Option<String>)
        [user_id, *, app = None];
    /// Verify an address with the token of a verification link: the `User`.
    fn verify_email(token: String)
        [token];
    /// Queue a password-reset link, if the address has an account (the
    /// answer is the same either way).
    fn send_password_reset(email: String, app: Option<String>, ip: Option<String>, user_agent: Option<String>)
        [email, *, app = None, ip = None, user_agent = None];
    /// Set a new password with a reset token; every session is revoked.
    fn reset_password(token: String, new_password: String, ip: Option<String>, user_agent: Option<String>)
        [token, new_password, *, ip = None, user_agent = None];
    /// Queue a six-digit sign-in code, if the address has an account.
    fn send_sign_in_code(email: String, app: Option<String>, ip: Option<String>, user_agent: Option<String>)
        [email, *, app = None, ip = None, user_agent = None];
    /// Sign in with an emailed code (once, 10 minutes, 5 wrong tries).
    fn sign_in_with_code(email: String, code: String, app: Option<String>, ip: Option<String>, user_agent: Option<String>)
        [email, code, *, app = None, ip = None, user_agent = None];
    /// Queue a magic sign-in link, if the address has an account; with
    /// `redirect_uri` (registered) the link goes there with `?token=`.
    fn send_magic_link(email: String, redirect_uri: Option<String>, app: Option<String>, ip: Option<String>, user_agent: Option<String>)
        [email, *, redirect_uri = None, app = None, ip = None, user_agent = None];
    /// Sign in with the token of a magic link.
    fn sign_in_with_magic_link(token: String, ip: Option<String>, user_agent: Option<String>)
        [token, *, ip = None, user_agent = None];
    /// Ask to change a user's address; confirmed from the new address.
    fn request_email_change(user_id: Id, new_email: String, app: Option<String>, ip: Option<String>, user_agent: Option<String>)
        [user_id, new_email, *, app = None, ip = None, user_agent = None];
    /// Confirm an address change with the token sent to the new address: the `User`.
    fn confirm_email_change(token: String, ip: Option<String>, user_agent: Option<String>)
        [token, *, ip = None, user_agent = None];
    /// Start TOTP enrolment for a signed-in user: a `TotpEnrollment` (secret,
    /// `otpauth://` URI, QR code). Inactive until `confirm_totp`.
    fn enroll_totp(user_id: Id, app: Option<String>, ip: Option<String>, user_agent: Option<String>)
        [user_id, *, app = None, ip = None, user_agent = None];
    /// The started, unconfirmed `TotpEnrollment` shown again, or `None`.
    fn pending_totp_enrollment(user_id: Id, app: Option<String>)
        [user_id, *, app = None];
    /// Confirm a started enrolment with a first code: TOTP becomes active;
    /// returns 10 recovery codes, shown this once.
    fn confirm_totp(user_id: Id, code: String, app: Option<String>, ip: Option<String>, user_agent: Option<String>)
        [user_id, code, *, app = None, ip = None, user_agent = None];
    /// Turn TOTP off and delete the recovery codes. Re-authentication:
    /// `password=` when the user has one, else `code=` (a current TOTP code).
    fn disable_totp(user_id: Id, password: Option<String>, code: Option<String>, app: Option<String>, ip: Option<String>, user_agent: Option<String>)
        [user_id, *, password = None, code = None, app = None, ip = None, user_agent = None];
    /// Replace the recovery codes with a new set (returned, shown once);
    /// re-authentication as for `disable_totp`.
    fn regenerate_recovery_codes(user_id: Id, password: Option<String>, code: Option<String>, app: Option<String>, ip: Option<String>, user_agent: Option<String>)
        [user_id, *, password = None, code = None, app = None, ip = None, user_agent = None];
    /// The user's second factors: an `MfaStatus`.
    fn mfa_status(user_id: Id, app: Option<String>)
        [user_id, *, app = None];
    /// Finish a sign-in that raised `MfaRequired` with a TOTP code (accepted
    /// once): the `AuthSession`.
    fn complete_mfa_with_totp(mfa_token: String, code: String, app: Option<String>, ip: Option<String>, user_agent: Option<String>)
        [mfa_token, code, *, app = None, ip = None, user_agent = None];
    /// Finish a sign-in that raised `MfaRequired` with a recovery code (spent).
    fn complete_mfa_with_recovery_code(mfa_token: String, recovery_code: String, app: Option<String>, ip: Option<String>, user_agent: Option<String>)
        [mfa_token, recovery_code, *, app = None, ip = None, user_agent = None];
    /// When the app requires a second factor the user lacks (`methods ==
    /// ["totp_enroll"]`): start TOTP enrolment with the `mfa_token`.
    fn enroll_totp_for_mfa(mfa_token: String, app: Option<String>, ip: Option<String>, user_agent: Option<String>)
        [mfa_token, *, app = None, ip = None, user_agent = None];
    /// Confirm `enroll_totp_for_mfa` with a first code and finish the
    /// sign-in: an `EnrolledSignIn` (session and recovery codes).
    fn confirm_totp_for_mfa(mfa_token: String, code: String, app: Option<String>, ip: Option<String>, user_agent: Option<String>)
        [mfa_token, code, *, app = None, ip = None, user_agent = None];
    /// Begin registering a passkey for a signed-in user: a `PasskeyChallenge`.
    fn start_passkey_registration(user_id: Id, app: Option<String>)
        [user_id, *, app = None];
    /// Finish a registration with the authenticator's answer
    /// (`PublicKeyCredential.toJSON()`, a dict or its JSON text): `PasskeyInfo`.
    fn finish_passkey_registration(user_id: Id, ceremony: String, credential: Json, name: Option<String>, app: Option<String>, ip: Option<String>, user_agent: Option<String>)
        [user_id, ceremony, credential, *, name = None, app = None, ip = None, user_agent = None];
    /// Begin a passkey sign-in: discoverable without `email=`, else listing
    /// that account's passkeys (the same shape whether or not it exists).
    fn start_passkey_sign_in(email: Option<String>, app: Option<String>)
        [*, email = None, app = None];
    /// Finish a passkey sign-in with the assertion: the `AuthSession`
    /// (`amr` `hwk` or `swk`, plus `mfa`).
    fn finish_passkey_sign_in(ceremony: String, credential: Json, app: Option<String>, ip: Option<String>, user_agent: Option<String>)
        [ceremony, credential, *, app = None, ip = None, user_agent = None];
    /// Begin finishing a sign-in that raised `MfaRequired` with a passkey.
    fn start_passkey_mfa(mfa_token: String, app: Option<String>)
        [mfa_token, *, app = None];
    /// Finish the MFA step with a passkey assertion: the `AuthSession`.
    fn finish_passkey_mfa(mfa_token: String, ceremony: String, credential: Json, app: Option<String>, ip: Option<String>, user_agent: Option<String>)
        [mfa_token, ceremony, credential, *, app = None, ip = None, user_agent = None];
    /// The user's passkeys (`PasskeyInfo`), oldest first.
    fn list_passkeys(user_id: Id)
        [user_id];
    /// Rename one of the user's passkeys.
    fn rename_passkey(user_id: Id, passkey_id: Id, name: String)
        [user_id, passkey_id, name];
    /// Delete one of the user's passkeys (not their last way to sign in).
    fn delete_passkey(user_id: Id, passkey_id: Id)
        [user_id, passkey_id];
    /// Configure (create or replace) an external sign-in provider of the app
    /// from a dict shaped like the admin API's body (`kind`, `client_id`,
    /// `client_secret`, `issuer`, …): an `OAuthProvider` (never the secret).
    fn put_oauth_provider(provider: String, config: Json, app: Option<String>)
        [provider, config, *, app = None];
    /// A configured provider (`NotFound` if none).
    fn get_oauth_provider(provider: String, app: Option<String>)
        [provider, *, app = None];
    /// The app's providers, by name.
    fn list_oauth_providers(app: Option<String>)
        [*, app = None];
    /// Remove a provider.
    fn delete_oauth_provider(provider: String, app: Option<String>)
        [provider, *, app = None];
    /// Start signing in through `provider`: an `OAuthStart` whose
    /// `authorization_url` the browser goes to. The flow ends at
    /// `redirect_uri` (registered) with `?code=`; `code_challenge=` (S256)
    /// binds the exchange to your verifier; `link_user_id=` links the
    /// provider to that user instead (keep `browser_state` in the browser).
    fn start_oauth(provider: String, redirect_uri: String, code_challenge: Option<String>, link_user_id: Option<Id>, app: Option<String>, ip: Option<String>, user_agent: Option<String>)
        [provider, redirect_uri, *, code_challenge = None, link_user_id = None, app = None, ip = None, user_agent = None];
    /// Handle the provider's return to the callback URL: an `OAuthCallback`
    /// (`redirect_to`, `code` or `error_code`). An unknown, spent or expired
    /// `state` raises `InvalidToken` / `TokenExpired`. `browser_state` is
    /// `start_oauth`'s, kept in the browser that started (an HttpOnly
    /// cookie): link mode requires it.
    fn oauth_callback(provider: String, state: String, code: Option<String>, error: Option<String>, user: Option<String>, browser_state: Option<String>, ip: Option<String>, user_agent: Option<String>)
        [provider, state, *, code = None, error = None, user = None, browser_state = None, ip = None, user_agent = None];
    /// Exchange a callback's one-time code for the sign-in: the
    /// `AuthSession`, or `MfaRequired` raised. `code_verifier=` when the start
    /// had a `code_challenge`.
    fn exchange_oauth_code(code: String, code_verifier: Option<String>)
        [code, *, code_verifier = None];
    /// The user's linked external identities (`Identity`), oldest first.
    fn list_identities(user_id: Id)
        [user_id];
    /// Unlink one of the user's identities (not their last way to sign in).
    fn unlink_identity(user_id: Id, identity_id: Id, app: Option<String>, ip: Option<String>, user_agent: Option<String>)
        [user_id, identity_id, *, app = None, ip = None, user_agent = None];
}
