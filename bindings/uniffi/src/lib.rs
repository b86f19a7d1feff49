//! Tessera's core for Kotlin (and Swift) through uniffi.
//!
//! One object, [`Tessera`], opened from a storage URL (`memory://`,
//! `sqlite://PATH`, `postgres://…`), exposes every capability of the core
//! as an async method; Kotlin calls them as `suspend` functions in package
//! `dev.tessera`. Values cross as plain records (ids as strings, times as
//! `java.time.Instant`), failures as one error, [`TesseraError`] (Kotlin
//! `TesseraException`), whose variants carry the core's stable `code`.
//!
//! One file per capability, named as in the Python binding and in
//! `tessera_bindings_common` (see the README, "Adding a core capability"): each declares the
//! records that capability passes ([`mirror!`], a field list that also
//! derives the conversion from the core's type) and its methods
//! ([`exports!`], one line each that calls the common operation). Plumbing:
//! [`convert`] (values across the boundary and the two macros) and
//! [`error`].
//!
//! Why records of our own instead of the core's types: uniffi needs its
//! derives on every type that crosses, and the core must not depend on
//! uniffi (data flows one way: the core knows no binding).
//!
//! Async: methods are exported with `async_runtime = "tokio"`, so each future
//! is polled by the caller's coroutine with a tokio context entered (timers,
//! `spawn_blocking` for argon2, the SQL pool's tasks all find a runtime).

mod convert;
mod error;

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

pub use api_keys::{ApiKey, CreatedApiKey};
pub use apps::{App, AppSettings, MfaPolicy, default_app_settings};
pub use audit::{AuditEvent, AuditQuery};
pub use error::{TesseraError, error_for_code};
pub use mfa::{EnrolledSignIn, MfaChallenge};
pub use oauth::{
    Identity, OAuthCallback, OAuthClaimMapping, OAuthProvider, OAuthProviderConfig, OAuthStart,
};
pub use open::{OpenOptions, SweepReport, generate_key_encryption_key};
pub use passkeys::{PasskeyChallenge, PasskeyInfo};
pub use sessions::{AccessTokenInfo, AuthSession, ClientInfo, Session, SessionInfo};
pub use tokens::AccessClaims;
pub use totp::{MfaStatus, TotpEnrollment};
pub use users::{User, UserPage, UserPatch};

uniffi::setup_scaffolding!();

/// Shorthand for results of the binding.
pub type Result<T, E = TesseraError> = std::result::Result<T, E>;

/// A Tessera instance: a store, a key-encryption key and every flow of the
/// core. Cheap to share; every method may be called concurrently.
#[derive(uniffi::Object)]
pub struct Tessera {
    core: tessera_core::Tessera,
}

impl std::fmt::Debug for Tessera {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tessera").field("core", &self.core).finish()
    }
}

impl Tessera {
    /// Wrap an already built core (for Rust callers and tests).
    pub fn from_core(core: tessera_core::Tessera) -> Self {
        Tessera { core }
    }

    /// The wrapped core.
    pub fn core(&self) -> &tessera_core::Tessera {
        &self.core
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    async fn open() -> Arc<Tessera> {
        let options = OpenOptions {
            insecure_fast_password_hashing_for_tests: true,
            ..OpenOptions::default()
        };
        Tessera::open(
            "memory://".into(),
            generate_key_encryption_key(),
            Some(options),
        )
        .await
        .expect("open memory://")
    }

    #[tokio::test]
    async fn flows_cross_the_binding_types() {
        let t = open().await;
        let pw = "correct horse battery staple".to_owned();
        let s = t
            .sign_up("ada@example.com".into(), pw.clone(), None, None, None)
            .await
            .unwrap()
            .expect("signed in straight away");
        let token = s.session_token.clone().unwrap();
        assert_eq!(
            t.validate_session(token.clone()).await.unwrap().user,
            s.user
        );
        let e = t
            .sign_in_password("ada@example.com".into(), "wrong".into(), None, None, None)
            .await
            .unwrap_err();
        assert!(matches!(e, TesseraError::InvalidCredentials { .. }));
        assert_eq!(e.code(), "invalid_credentials");
        let ns = t.bench_validate_session_native(token, 10).await.unwrap();
        assert!(ns > 0);
        let settings = default_app_settings();
        let back = settings
            .clone()
            .apply_to(tessera_core::model::AppSettings::default())
            .unwrap();
        assert_eq!(
            <AppSettings as convert::FromCore<_>>::from_core(back).unwrap(),
            settings
        );
    }

    /// Regression: converting the settings record back used to reset what it
    /// does not carry (mail templates) to the defaults on every update.
    #[tokio::test]
    async fn update_app_keeps_what_the_record_cannot_express() {
        let t = open().await;
        let app = t.core.apps().default_app().await.unwrap();
        let mut settings = app.settings.clone();
        settings.mail_templates.insert(
            "magic_link".into(),
            tessera_core::model::MailTemplate {
                subject: "Your link".into(),
                text: "{{ link }}".into(),
                html: "<a href=\"{{ link }}\">sign in</a>".into(),
            },
        );
        t.core
            .apps()
            .update(app.id, None, None, Some(settings))
            .await
            .unwrap();
        let mut record = t.default_app().await.unwrap().settings;
        record.mfa = MfaPolicy::Required;
        record.link_accounts_by_email = false;
        record.webauthn_rp_id = Some("example.com".into());
        record.webauthn_origins = vec!["https://app.example.com".into()];
        let updated = t
            .update_app("default".into(), None, None, Some(record.clone()))
            .await
            .unwrap();
        assert_eq!(updated.settings, record);
        let stored = t.core.apps().default_app().await.unwrap().settings;
        assert_eq!(stored.mfa, tessera_core::model::MfaPolicy::Required);
        assert!(!stored.link_accounts_by_email);
        assert_eq!(stored.mail_templates["magic_link"].subject, "Your link");
    }

    #[test]
    fn secrets_stay_out_of_debug() {
        let c = MfaChallenge {
            mfa_token: "tsf_secret".into(),
            methods: vec!["totp".into()],
            device_token: Some("tsd_secret".into()),
        };
        let e = TesseraError::MfaRequired {
            code: "mfa_required".into(),
            detail: "A second factor is required.".into(),
            challenge: c.clone(),
        };
        let shown = format!("{c:?} {e:?} {e}");
        assert!(!shown.contains("tsf_secret") && !shown.contains("tsd_secret"));
    }
}
