//! Open a running Tessera: the store a URL names, the core built on it, and
//! the background workers that keep it going.
//!
//! The `tessera` binary, the Python binding and the Kotlin binding all need
//! the same steps (open the store, build the facade with the key ring and the
//! settings, choose the mailer, start the workers), so they live here once,
//! next to [`open`](crate::open). Every worker is tied to the handle: it holds
//! no strong reference between rounds and ends once the last clone of the
//! returned [`Tessera`] is dropped, so an embedder that drops its Tessera gets
//! its store connections back. A new kind of background work (webhook
//! delivery, further sweeps) is one more field of [`TesseraOpener`] and one
//! more `spawn` in [`TesseraOpener::open`].

use std::sync::Arc;
use std::time::Duration;

use tessera_core::crypto::{KeyRing, PasswordParams};
use tessera_core::mail::{LogMailer, Mailer};
use tessera_core::model::SigningAlg;
use tessera_core::{Result, Tessera, TesseraBuilder};

use crate::OpenOptions;

/// The sender of mail when none is configured.
pub const DEFAULT_MAIL_FROM: &str = "Tessera <no-reply@localhost>";

/// How often the mail worker looks at the outbox when this instance has not
/// queued anything (mail queued here is sent at once).
pub const MAIL_POLL: Duration = Duration::from_secs(2);

/// How often the webhook worker looks at the outbox when it found nothing
/// due (events are delivered within this of being written).
pub const WEBHOOK_POLL: Duration = Duration::from_secs(1);

/// Where queued mail goes: an SMTP server, or the log (development).
#[derive(Clone, PartialEq, Eq)]
pub struct MailSettings {
    /// `smtp://user:pass@host:port`, `smtps://…`, `?tls=starttls|none`;
    /// `None` writes each message to the log instead.
    pub smtp_url: Option<String>,
    /// The sender address.
    pub from: String,
}

impl Default for MailSettings {
    fn default() -> Self {
        MailSettings {
            smtp_url: None,
            from: DEFAULT_MAIL_FROM.to_owned(),
        }
    }
}

/// Never prints the SMTP URL: it carries the password.
impl std::fmt::Debug for MailSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailSettings")
            .field("smtp_url", &self.smtp_url.as_ref().map(|_| "<set>"))
            .field("from", &self.from)
            .finish()
    }
}

impl MailSettings {
    /// The mailer these settings ask for: SMTP when a URL is given (a bad URL
    /// is a `config_error`), else the log mailer, with a warning that mail,
    /// links and codes included, goes to the log.
    pub fn mailer(&self) -> Result<Arc<dyn Mailer>> {
        match &self.smtp_url {
            Some(url) => smtp(url, &self.from),
            None => {
                tracing::warn!(
                    "DEVELOPMENT MODE: no TESSERA_SMTP_URL, so mail (links and codes included) is written to the log"
                );
                Ok(Arc::new(LogMailer))
            }
        }
    }
}

#[cfg(feature = "smtp")]
fn smtp(url: &str, from: &str) -> Result<Arc<dyn Mailer>> {
    Ok(Arc::new(tessera_core::mail::SmtpMailer::from_url(
        url, from,
    )?))
}

#[cfg(not(feature = "smtp"))]
fn smtp(_url: &str, _from: &str) -> Result<Arc<dyn Mailer>> {
    Err(tessera_core::Error::config(
        "this build cannot send mail through SMTP (feature `smtp`)",
    ))
}

/// How mail is delivered.
enum Mail {
    Settings(MailSettings),
    Mailer(Arc<dyn Mailer>),
}

/// Opens a running [`Tessera`]: see the module docs.
///
/// ```no_run
/// # async fn demo() -> tessera_core::Result<()> {
/// use tessera_core::crypto::KeyRing;
/// use tessera_storage::{MailSettings, TesseraOpener};
/// let tessera = TesseraOpener::new("sqlite://app.db", KeyRing::from_base64(&KeyRing::generate_base64(), "")?)
///     .issuer("https://auth.example.com")
///     .mail(MailSettings {
///         smtp_url: Some("smtp://user:pass@smtp.example.com:587".into()),
///         from: "Acme <auth@acme.example>".into(),
///     })
///     .open()
///     .await?;
/// # Ok(()) }
/// ```
pub struct TesseraOpener {
    url: String,
    migrate: bool,
    builder: TesseraBuilder,
    mail: Mail,
    sweep: Option<(Duration, chrono::Duration)>,
    background: bool,
}

impl TesseraOpener {
    /// Open the store `url` names (see the crate docs for the URL forms) with
    /// `keyring` sealing signing keys and other secrets at rest. Defaults:
    /// migrations run, the core's defaults for every setting, mail written to
    /// the log, a mail worker and no sweeper.
    pub fn new(url: impl Into<String>, keyring: KeyRing) -> Self {
        TesseraOpener {
            url: url.into(),
            migrate: true,
            builder: Tessera::builder().key_encryption_key(keyring),
            mail: Mail::Settings(MailSettings::default()),
            sweep: None,
            background: true,
        }
    }

    /// Run migrations on open (default true); when false, a database not
    /// migrated up to this version is refused.
    pub fn migrate(mut self, on: bool) -> Self {
        self.migrate = on;
        self
    }

    /// The issuer, the public base URL (see `TesseraBuilder::issuer`).
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.builder = self.builder.issuer(issuer);
        self
    }

    /// The algorithm of new signing keys (default EdDSA).
    pub fn signing_alg(mut self, alg: SigningAlg) -> Self {
        self.builder = self.builder.signing_alg(alg);
        self
    }

    /// argon2id parameters (default OWASP's).
    pub fn password_params(mut self, params: PasswordParams) -> Self {
        self.builder = self.builder.password_params(params);
        self
    }

    /// How many password hashes may run at once (default: the number of cores).
    pub fn hash_concurrency(mut self, n: usize) -> Self {
        self.builder = self.builder.hash_concurrency(n);
        self
    }

    /// The install-wide WebAuthn relying-party id (default: the issuer's host).
    pub fn webauthn_rp_id(mut self, rp_id: impl Into<String>) -> Self {
        self.builder = self.builder.webauthn_rp_id(rp_id);
        self
    }

    /// The install-wide WebAuthn origins (default: the issuer's origin).
    pub fn webauthn_origins(mut self, origins: impl IntoIterator<Item = String>) -> Self {
        self.builder = self.builder.webauthn_origins(origins);
        self
    }

    /// Development mode (default off; see `TesseraBuilder::development`).
    pub fn development(mut self, on: bool) -> Self {
        self.builder = self.builder.development(on);
        self
    }

    /// Hosts webhooks may reach although they resolve to non-public
    /// addresses (`TESSERA_WEBHOOK_ALLOW_HOSTS`, see
    /// [`AllowHosts`](tessera_core::webhooks::AllowHosts)).
    pub fn webhook_allow_hosts(mut self, hosts: tessera_core::webhooks::AllowHosts) -> Self {
        self.builder = self.builder.webhook_allow_hosts(hosts);
        self
    }

    /// Deliver mail as `settings` say (SMTP, or the log).
    pub fn mail(mut self, settings: MailSettings) -> Self {
        self.mail = Mail::Settings(settings);
        self
    }

    /// Deliver mail through `mailer` instead.
    pub fn mailer(mut self, mailer: Arc<dyn Mailer>) -> Self {
        self.mail = Mail::Mailer(mailer);
        self
    }

    /// Also sweep what has ended (see `Tessera::sweep`) at open and then
    /// every `every`, keeping ended sessions for `retention`.
    pub fn sweep(mut self, every: Duration, retention: chrono::Duration) -> Self {
        self.sweep = Some((every, retention));
        self
    }

    /// Whether to start the background workers (default true). One-shot
    /// commands turn them off: queued mail waits for a running instance, and
    /// the mail settings are not even looked at.
    pub fn background(mut self, on: bool) -> Self {
        self.background = on;
        self
    }

    /// Open the store, build the Tessera (making sure the `default` pool and
    /// app exist) and start its workers on the current Tokio runtime.
    ///
    /// The mailer is chosen first, so a bad SMTP URL is refused before the
    /// database is touched.
    pub async fn open(self) -> Result<Tessera> {
        let mailer = match (self.background, self.mail) {
            (false, _) => None,
            (true, Mail::Settings(settings)) => Some(settings.mailer()?),
            (true, Mail::Mailer(mailer)) => Some(mailer),
        };
        let store = crate::open(
            &self.url,
            OpenOptions {
                migrate: self.migrate,
            },
        )
        .await?;
        let tessera = self.builder.store(store).build().await?;
        if let Some(mailer) = mailer {
            tokio::spawn(tessera.mail_worker(mailer, MAIL_POLL));
            tokio::spawn(tessera.webhook_worker(WEBHOOK_POLL));
            if let Some((every, retention)) = self.sweep {
                tokio::spawn(tessera.sweep_worker(every, retention));
            }
        }
        Ok(tessera)
    }
}

#[cfg(all(test, feature = "memory", feature = "sqlite"))]
mod tests {
    use std::sync::Mutex;

    use tessera_core::mail::Mail as Message;
    use tessera_core::model::ClientInfo;

    use super::*;

    /// Keeps what it is asked to send.
    #[derive(Clone, Default)]
    struct Inbox(Arc<Mutex<Vec<Message>>>);

    #[async_trait::async_trait]
    impl Mailer for Inbox {
        async fn send(&self, mail: &Message) -> Result<()> {
            self.0.lock().unwrap().push(mail.clone());
            Ok(())
        }
    }

    fn keyring() -> KeyRing {
        KeyRing::new([7; 32], [])
    }

    #[tokio::test]
    async fn opens_with_settings_and_delivers_mail_until_the_last_handle_goes() {
        let inbox = Inbox::default();
        let t = TesseraOpener::new("memory://", keyring())
            .issuer("https://auth.example.test/")
            .password_params(PasswordParams::insecure_fast_for_tests())
            .mailer(Arc::new(inbox.clone()))
            .open()
            .await
            .unwrap();
        assert_eq!(t.issuer(), "https://auth.example.test");
        assert_eq!(t.store().backend(), "memory");
        let store = t.store().clone();
        let app = t.apps().default_app().await.unwrap();
        t.passwords()
            .sign_up(
                &app,
                "ada@example.com",
                "correct horse battery staple",
                None,
                &ClientInfo::default(),
            )
            .await
            .unwrap();
        // Sign-up queued a verification link.
        let mut delivered = 0;
        for _ in 0..500 {
            delivered = inbox.0.lock().unwrap().len();
            if delivered > 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(delivered > 0, "the mail worker delivers queued mail");
        drop(t);
        for _ in 0..500 {
            if Arc::strong_count(&store) == 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(Arc::strong_count(&store), 1, "the workers let the store go");
    }

    #[tokio::test]
    async fn a_bad_smtp_url_is_refused_before_the_database_is_touched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let err = TesseraOpener::new(format!("sqlite://{}", path.display()), keyring())
            .mail(MailSettings {
                smtp_url: Some("ftp://nope".into()),
                from: DEFAULT_MAIL_FROM.into(),
            })
            .open()
            .await
            .unwrap_err();
        assert_eq!(err.code(), "config_error");
        assert!(!path.exists(), "no database was created");
        // Without workers the mail settings are not looked at.
        let t = TesseraOpener::new(format!("sqlite://{}", path.display()), keyring())
            .mail(MailSettings {
                smtp_url: Some("ftp://nope".into()),
                from: DEFAULT_MAIL_FROM.into(),
            })
            .background(false)
            .open()
            .await
            .unwrap();
        assert_eq!(t.store().backend(), "sqlite");
    }

    #[tokio::test]
    async fn migrate_off_refuses_a_fresh_database_and_settings_reach_the_core() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let err = TesseraOpener::new(&url, keyring())
            .migrate(false)
            .background(false)
            .open()
            .await
            .unwrap_err();
        assert_eq!(err.code(), "config_error", "{err}");
        let t = TesseraOpener::new(&url, keyring())
            .signing_alg(SigningAlg::ES256)
            .background(false)
            .open()
            .await
            .unwrap();
        let jwks = t.tokens().jwks().await.unwrap();
        assert_eq!(jwks["keys"][0]["alg"], "ES256", "{jwks}");
    }

    #[test]
    fn mail_settings_never_print_the_smtp_url() {
        let s = MailSettings {
            smtp_url: Some("smtp://user:hunter2@smtp.example.com".into()),
            ..Default::default()
        };
        let text = format!("{s:?}");
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains(DEFAULT_MAIL_FROM));
    }
}
