//! Opening a Tessera and its upkeep: the `Tessera` object's constructor,
//! its options, the sweep, and the key-encryption key generator.

use std::sync::Arc;

use tessera_bindings_common::open;
use tessera_core::crypto::{KeyRing, PasswordParams};

use crate::{Result, Tessera};

/// Options for `Tessera.open`; every field has a default.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OpenOptions {
    /// The token issuer, the public base URL (default `http://localhost:8080`).
    #[uniffi(default)]
    pub issuer: Option<String>,
    /// Retired key-encryption keys still accepted for decryption, base64,
    /// comma-separated (during KEK rotation).
    #[uniffi(default)]
    pub old_key_encryption_keys: Option<String>,
    /// Run storage migrations on open (default true).
    #[uniffi(default = true)]
    pub migrate: bool,
    /// How many password hashes may run at once (default: the number of cores).
    #[uniffi(default)]
    pub hash_concurrency: Option<i32>,
    /// TEST ONLY: hash passwords with cheap argon2 parameters
    /// (`PasswordParams::insecure_fast_for_tests`). Never set it for real
    /// passwords: the hashes it stores are easy to crack.
    #[uniffi(default = false)]
    pub insecure_fast_password_hashing_for_tests: bool,
    /// SMTP server for the email flows' mail (`smtp://user:pass@host:587`,
    /// `smtps://…`, `?tls=none` for a loopback relay); without one, mail is
    /// written to the log.
    #[uniffi(default)]
    pub smtp_url: Option<String>,
    /// Sender address (default `Tessera <no-reply@localhost>`).
    #[uniffi(default)]
    pub mail_from: Option<String>,
    /// Development mode (the server's `TESSERA_DEV`): OAuth provider
    /// endpoints may be plain `http://` on loopback hosts. Never in production.
    #[uniffi(default = false)]
    pub development: bool,
    /// Install-wide WebAuthn relying-party id for passkeys (apps may
    /// override it); default: the issuer's host.
    #[uniffi(default)]
    pub webauthn_rp_id: Option<String>,
    /// Install-wide origins allowed to run WebAuthn ceremonies (apps may
    /// override them); default: the issuer's origin.
    #[uniffi(default)]
    pub webauthn_origins: Option<Vec<String>>,
    /// Hosts webhooks may be delivered to although they resolve to
    /// loopback, private or link-local addresses: names, addresses or CIDR
    /// blocks (the server's `TESSERA_WEBHOOK_ALLOW_HOSTS`).
    #[uniffi(default)]
    pub webhook_allow_hosts: Option<Vec<String>>,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            issuer: None,
            old_key_encryption_keys: None,
            migrate: true,
            hash_concurrency: None,
            insecure_fast_password_hashing_for_tests: false,
            smtp_url: None,
            mail_from: None,
            development: false,
            webauthn_rp_id: None,
            webauthn_origins: None,
            webhook_allow_hosts: None,
        }
    }
}

crate::mirror! {
    /// What `sweep` deleted.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
    pub struct SweepReport from tessera_core::SweepReport {
        /// Ended sessions.
        pub sessions: i64,
        /// Expired one-time tokens.
        pub tokens: i64,
        /// Stale failure counters.
        pub throttles: i64,
        /// Ended rate-limit windows.
        pub limits: i64,
        /// Retired, unpublished signing keys.
        pub keys: i64,
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl Tessera {
    /// Open a Tessera on the store `url` names (`memory://`, `sqlite://PATH`,
    /// …), with `key_encryption_key`, a base64 32-byte key that seals signing
    /// keys at rest (keep it secret and stable; see `generateKeyEncryptionKey`).
    /// Makes sure the `default` pool and app exist.
    #[uniffi::constructor(default(options = None))]
    pub async fn open(
        url: String,
        key_encryption_key: String,
        options: Option<OpenOptions>,
    ) -> Result<Arc<Self>> {
        let o = options.unwrap_or_default();
        let keyring = KeyRing::from_base64(
            &key_encryption_key,
            o.old_key_encryption_keys.as_deref().unwrap_or(""),
        )?;
        let core = open::open(open::Options {
            url,
            keyring,
            issuer: o.issuer,
            password_params: o
                .insecure_fast_password_hashing_for_tests
                .then(PasswordParams::insecure_fast_for_tests),
            migrate: o.migrate,
            hash_concurrency: o.hash_concurrency.map(|n| n.max(1).unsigned_abs() as usize),
            smtp_url: o.smtp_url,
            mail_from: o.mail_from,
            development: o.development,
            webauthn_rp_id: o.webauthn_rp_id,
            webauthn_origins: o.webauthn_origins,
            webhook_allow_hosts: o.webhook_allow_hosts,
        })
        .await?;
        Ok(Arc::new(Tessera { core }))
    }

    /// The token issuer (the public base URL).
    pub fn issuer(&self) -> String {
        self.core.issuer().to_owned()
    }

    /// BENCHMARK SUPPORT: validate `session_token` `iterations` times in a
    /// Rust loop and return the elapsed nanoseconds, so a foreign benchmark
    /// can compare its own per-call cost with the core's in the same process.
    pub async fn bench_validate_session_native(
        &self,
        session_token: String,
        iterations: i64,
    ) -> Result<i64> {
        let sessions = self.core.sessions();
        let start = std::time::Instant::now();
        for _ in 0..iterations {
            std::hint::black_box(sessions.validate(&session_token).await?);
        }
        Ok(i64::try_from(start.elapsed().as_nanos()).unwrap_or(i64::MAX))
    }
}

crate::exports! {
    /// Delete what has ended (sessions older than `retention_secs` past their
    /// end, expired one-time tokens, stale counters and rate-limit windows,
    /// unpublished keys).
    fn sweep(retention_secs: i64) -> SweepReport
        |core| open::sweep(core, retention_secs);
}

/// A fresh random key-encryption key, base64 (for development and tests; in
/// production it comes from configuration and never changes casually).
#[uniffi::export]
pub fn generate_key_encryption_key() -> String {
    KeyRing::generate_base64()
}
