//! Opening a Tessera from a binding, and its upkeep (the sweep).
//!
//! Both bindings open through the one opener, `tessera_storage::TesseraOpener`
//! (the server's too); [`Options`] is what either binding gathers from its
//! arguments before calling [`open`].

use tessera_core::crypto::{KeyRing, PasswordParams};
use tessera_core::{Error, Result, SweepReport, Tessera};

/// What a binding's `open` gathered: every option but the store and the
/// keys has a default.
pub struct Options {
    /// The store (`memory://`, `sqlite://PATH`, `postgres://…`).
    pub url: String,
    /// The key-encryption keys (current and retired).
    pub keyring: KeyRing,
    /// The token issuer (default: the opener's).
    pub issuer: Option<String>,
    /// Password hashing parameters (default: OWASP's argon2id).
    pub password_params: Option<PasswordParams>,
    /// Run storage migrations first.
    pub migrate: bool,
    /// How many password hashes may run at once (default: the cores).
    pub hash_concurrency: Option<usize>,
    /// SMTP server for the email flows' mail; without one, mail is logged.
    pub smtp_url: Option<String>,
    /// Sender address (default [`tessera_storage::DEFAULT_MAIL_FROM`]).
    pub mail_from: Option<String>,
    /// Development mode: `http://` provider endpoints on loopback hosts.
    pub development: bool,
    /// Hosts webhooks may be delivered to although they resolve to
    /// loopback, private or link-local addresses (names, addresses or CIDR
    /// blocks; the server's `TESSERA_WEBHOOK_ALLOW_HOSTS`).
    pub webhook_allow_hosts: Option<Vec<String>>,
    /// Install-wide WebAuthn relying-party id.
    pub webauthn_rp_id: Option<String>,
    /// Install-wide WebAuthn origins.
    pub webauthn_origins: Option<Vec<String>>,
}

/// Open a Tessera with its workers (mail delivery) on the current tokio
/// runtime; they end once the last handle is dropped, releasing the store.
pub async fn open(o: Options) -> Result<Tessera> {
    let mut opener = tessera_storage::TesseraOpener::new(o.url, o.keyring)
        .migrate(o.migrate)
        .development(o.development)
        .mail(tessera_storage::MailSettings {
            smtp_url: o.smtp_url,
            from: o
                .mail_from
                .unwrap_or_else(|| tessera_storage::DEFAULT_MAIL_FROM.to_owned()),
        });
    if let Some(hosts) = o.webhook_allow_hosts {
        opener = opener
            .webhook_allow_hosts(tessera_core::webhooks::AllowHosts::parse(&hosts.join(","))?);
    }
    if let Some(issuer) = o.issuer {
        opener = opener.issuer(issuer);
    }
    if let Some(params) = o.password_params {
        opener = opener.password_params(params);
    }
    if let Some(n) = o.hash_concurrency {
        opener = opener.hash_concurrency(n.max(1));
    }
    if let Some(rp_id) = o.webauthn_rp_id {
        opener = opener.webauthn_rp_id(rp_id);
    }
    if let Some(origins) = o.webauthn_origins {
        opener = opener.webauthn_origins(origins);
    }
    opener.open().await
}

/// Delete what has ended, keeping it `retention_secs` past its end.
///
/// Errors: `invalid_input` (`retention_secs` negative or too large).
pub async fn sweep(core: &Tessera, retention_secs: i64) -> Result<SweepReport> {
    if retention_secs < 0 {
        return Err(Error::invalid("retention_secs", "must not be negative"));
    }
    let retention = chrono::Duration::try_seconds(retention_secs)
        .ok_or_else(|| Error::invalid("retention_secs", "too large"))?;
    core.sweep(retention).await
}
