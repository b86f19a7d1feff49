//! Apps: the app record and its settings, and the methods that read,
//! create and change apps.

use std::time::SystemTime;

use tessera_bindings_common::apps;
use tessera_core::model;
use tessera_core::{Error, NewApp};

use crate::Result;
use crate::Tessera;
use crate::convert::{FromCore, parse_opt_id};

/// Whether an app asks for a second factor at sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum MfaPolicy {
    /// Asked only of users who enrolled a second factor.
    Optional,
    /// Asked of everyone; users without one enrol TOTP at their next sign-in
    /// (the challenge's methods are then `["totp_enroll"]`).
    Required,
}

impl From<model::MfaPolicy> for MfaPolicy {
    fn from(p: model::MfaPolicy) -> Self {
        match p {
            model::MfaPolicy::Optional => MfaPolicy::Optional,
            model::MfaPolicy::Required => MfaPolicy::Required,
        }
    }
}

impl From<MfaPolicy> for model::MfaPolicy {
    fn from(p: MfaPolicy) -> Self {
        match p {
            MfaPolicy::Optional => model::MfaPolicy::Optional,
            MfaPolicy::Required => model::MfaPolicy::Required,
        }
    }
}

/// Per-app settings; start from [`default_app_settings`] (or an app's
/// `settings`) and change what you need (`.copy(…)` in Kotlin). Mail
/// templates are not exposed: apps created through the binding get the
/// default ones, and `updateApp` keeps an app's own.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AppSettings {
    /// Enabled sign-in methods: `password`, `email_code`, `magic_link`, `oauth`, `passkey`.
    pub sign_in_methods: Vec<String>,
    /// A session ends after this many seconds without use.
    pub session_idle_timeout_secs: i64,
    /// A session ends this many seconds after sign-in, used or not.
    pub session_lifetime_secs: i64,
    /// Lifetime of access tokens, in seconds.
    pub access_token_ttl_secs: i64,
    /// Seconds in which a spent refresh token is answered with the same
    /// successor instead of counting as reuse (0 to 10).
    pub refresh_reuse_grace_secs: i64,
    /// Where sign-in flows may send the browser back to (exact match).
    pub redirect_uris: Vec<String>,
    /// Browser origins allowed to call the JSON API.
    pub cors_origins: Vec<String>,
    /// Lowest accepted zxcvbn score (0 to 4) for new passwords.
    pub min_password_score: i32,
    /// Whether sign-in waits until the email address is verified.
    pub require_verified_email: bool,
    /// Whether a "send" flow (reset, code, link) for an address without an
    /// account sends a short note saying so.
    pub notify_unknown_addresses: bool,
    /// Whether a second factor is optional or required of everyone.
    pub mfa: MfaPolicy,
    /// Whether a first sign-in through an external provider links to an
    /// existing account with the same (provider-verified) email.
    pub link_accounts_by_email: bool,
    /// WebAuthn relying-party id for passkeys (a registrable domain, e.g.
    /// `example.com`); `null` uses the install-wide default.
    pub webauthn_rp_id: Option<String>,
    /// Origins allowed to run WebAuthn ceremonies; empty uses the install-wide default.
    pub webauthn_origins: Vec<String>,
}

impl FromCore<model::AppSettings> for AppSettings {
    fn from_core(s: model::AppSettings) -> Result<Self> {
        Ok(AppSettings {
            sign_in_methods: s
                .sign_in_methods
                .iter()
                .map(|m| match serde_json::to_value(m) {
                    Ok(serde_json::Value::String(s)) => s,
                    _ => format!("{m:?}"),
                })
                .collect(),
            session_idle_timeout_secs: s.session_idle_timeout_secs,
            session_lifetime_secs: s.session_lifetime_secs,
            access_token_ttl_secs: s.access_token_ttl_secs,
            refresh_reuse_grace_secs: s.refresh_reuse_grace_secs,
            redirect_uris: s.redirect_uris,
            cors_origins: s.cors_origins,
            min_password_score: s.min_password_score.into(),
            require_verified_email: s.require_verified_email,
            notify_unknown_addresses: s.notify_unknown_addresses,
            mfa: s.mfa.into(),
            link_accounts_by_email: s.link_accounts_by_email,
            webauthn_rp_id: s.webauthn_rp_id,
            webauthn_origins: s.webauthn_origins,
        })
    }
}

impl AppSettings {
    /// These settings laid over `base`: every field this record carries
    /// replaces `base`'s, and what it cannot express (mail templates, and
    /// settings the core adds before the binding learns them) stays as in
    /// `base` — an app's current settings on update, the defaults on create.
    pub(crate) fn apply_to(
        self,
        base: model::AppSettings,
    ) -> tessera_core::Result<model::AppSettings> {
        let sign_in_methods = self
            .sign_in_methods
            .into_iter()
            .map(|m| {
                serde_json::from_value(serde_json::Value::String(m.clone())).map_err(|_| {
                    Error::invalid("sign_in_methods", format!("unknown sign-in method {m:?}"))
                })
            })
            .collect::<Result<Vec<model::SignInMethod>, _>>()?;
        Ok(model::AppSettings {
            sign_in_methods,
            session_idle_timeout_secs: self.session_idle_timeout_secs,
            session_lifetime_secs: self.session_lifetime_secs,
            access_token_ttl_secs: self.access_token_ttl_secs,
            refresh_reuse_grace_secs: self.refresh_reuse_grace_secs,
            redirect_uris: self.redirect_uris,
            cors_origins: self.cors_origins,
            min_password_score: u8::try_from(self.min_password_score)
                .map_err(|_| Error::invalid("min_password_score", "must be 0 to 4"))?,
            require_verified_email: self.require_verified_email,
            notify_unknown_addresses: self.notify_unknown_addresses,
            mfa: self.mfa.into(),
            link_accounts_by_email: self.link_accounts_by_email,
            webauthn_rp_id: self.webauthn_rp_id,
            webauthn_origins: self.webauthn_origins,
            ..base
        })
    }
}

crate::mirror! {
    /// An application that signs users in from one pool.
    #[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
    pub struct App from model::App {
        /// Unique id; also the OAuth `client_id` and the JWT `aud`.
        pub id: String,
        /// The pool whose users sign in to this app.
        pub pool_id: String,
        /// Unique, URL-safe name (`default` for the first app).
        pub slug: String,
        /// Display name.
        pub name: String,
        /// Settings.
        pub settings: AppSettings,
        /// When it was created.
        pub created_at: SystemTime,
        /// When it was last changed.
        pub updated_at: SystemTime,
    }
}

/// The settings a new app gets by default; change what you need.
#[uniffi::export]
pub fn default_app_settings() -> AppSettings {
    let defaults = model::AppSettings::default();
    AppSettings::from_core(defaults).expect("the settings record takes every default")
}

crate::exports! {
    /// The `default` app.
    fn default_app() -> App
        |core| apps::default_app(core);

    /// An app by id or slug (`not_found` if neither matches).
    fn get_app(app: String) -> App
        |core| apps::get(core, &app);

    /// All apps, or those of one pool, oldest first.
    fn list_apps(pool_id: Option<String>) -> Vec<App> [pool_id = None]
        |core| apps::list(core, parse_opt_id("pool_id", pool_id)?);

    /// Create an app in the default pool (or `pool_id`), with default settings
    /// unless `settings` is given.
    ///
    /// Errors: `invalid_input`, `conflict` (slug taken), `not_found` (pool).
    fn create_app(slug: String, name: String, settings: Option<AppSettings>, pool_id: Option<String>) -> App
        [settings = None, pool_id = None]
        |core| apps::create(core, NewApp {
            slug,
            name,
            pool_id: parse_opt_id("pool_id", pool_id)?,
            settings: settings
                .map(|s| s.apply_to(model::AppSettings::default()))
                .transpose()?,
        });

    /// Change an app's name, slug or settings (`app` = id or slug); `null`
    /// leaves a part as it is. What the `AppSettings` record cannot express
    /// (mail templates) is kept from the app's current settings.
    ///
    /// Errors: `not_found`, `invalid_input`, `conflict` (slug taken).
    fn update_app(app: String, name: Option<String>, slug: Option<String>, settings: Option<AppSettings>) -> App
        [name = None, slug = None, settings = None]
        |core| apps::update(core, &app, name, slug, |current| {
            settings
                .map(|s| s.apply_to(current.clone()))
                .transpose()
        });
}
