//! Configuration, in two stages: [`RawConfig`] is what the operator typed
//! (flags or `TESSERA_*` environment variables, as clap parsed them);
//! [`Config`] is the validated form every command trusts.
//!
//! The flag and variable names are a stable contract (the
//! `configuration_names_match_the_design` test reads them from `--help`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use clap::builder::BoolishValueParser;
use tessera_core::crypto::{KeyRing, check_token_format, prefix};
use tessera_core::model::SigningAlg;
use tessera_core::validate::parse_cidr;
use tessera_core::{Error, Result, WebauthnDefaults};
use tessera_http::HttpOptions;
use tessera_storage::{DEFAULT_MAIL_FROM, MailSettings};

/// Settings shared by every command; each flag has a TESSERA_* variable.
#[derive(Args, Clone, Default)]
pub(crate) struct RawConfig {
    /// Database URL: sqlite://PATH, postgres://…, memory://
    #[arg(long, env = "TESSERA_DATABASE_URL")]
    pub(crate) database_url: Option<String>,
    /// Listen address (default 0.0.0.0:$PORT or 0.0.0.0:8080).
    #[arg(long, env = "TESSERA_LISTEN")]
    pub(crate) listen: Option<String>,
    /// Port, used when --listen is not given.
    #[arg(long, env = "PORT")]
    pub(crate) port: Option<u16>,
    /// Public base URL (the token issuer).
    #[arg(long, env = "TESSERA_BASE_URL")]
    pub(crate) base_url: Option<String>,
    /// Key-encryption key, base64 of 32 bytes.
    #[arg(long, env = "TESSERA_KEY_ENCRYPTION_KEY", hide_env_values = true)]
    pub(crate) key_encryption_key: Option<String>,
    /// Old key-encryption keys still accepted, comma-separated.
    #[arg(long, env = "TESSERA_KEY_ENCRYPTION_KEY_OLD", hide_env_values = true)]
    pub(crate) key_encryption_key_old: Option<String>,
    /// SMTP URL: smtp://user:pass@host:port, smtps://…, ?tls=starttls|none
    #[arg(long, env = "TESSERA_SMTP_URL", hide_env_values = true)]
    pub(crate) smtp_url: Option<String>,
    /// From address of mail.
    #[arg(long, env = "TESSERA_MAIL_FROM")]
    pub(crate) mail_from: Option<String>,
    /// Bootstrap admin API key (tsk_…).
    #[arg(long, env = "TESSERA_ADMIN_API_KEY", hide_env_values = true)]
    pub(crate) admin_api_key: Option<String>,
    /// Log format: text or json.
    #[arg(long, env = "TESSERA_LOG_FORMAT")]
    pub(crate) log_format: Option<String>,
    /// Development mode (plain-HTTP cookies, loopback OAuth endpoints); 1/true/on.
    #[arg(long, env = "TESSERA_DEV", value_parser = BoolishValueParser::new(), num_args = 0..=1,
          default_value = "false", default_missing_value = "true")]
    pub(crate) dev: bool,
    /// Rate limits: on (default) or off.
    #[arg(long, env = "TESSERA_RATE_LIMITS")]
    pub(crate) rate_limits: Option<String>,
    /// Default WebAuthn relying-party id.
    #[arg(long, env = "TESSERA_WEBAUTHN_RP_ID")]
    pub(crate) webauthn_rp_id: Option<String>,
    /// Default WebAuthn origin.
    #[arg(long, env = "TESSERA_WEBAUTHN_ORIGIN")]
    pub(crate) webauthn_origin: Option<String>,
    /// Proxies whose X-Forwarded-For is trusted (addresses or CIDRs, comma-separated).
    #[arg(long, env = "TESSERA_TRUSTED_PROXIES")]
    pub(crate) trusted_proxies: Option<String>,
    /// Domain attribute of cookies.
    #[arg(long, env = "TESSERA_COOKIE_DOMAIN")]
    pub(crate) cookie_domain: Option<String>,
    /// Algorithm of new signing keys: EdDSA, ES256, RS256.
    #[arg(long, env = "TESSERA_SIGNING_ALG")]
    pub(crate) signing_alg: Option<String>,
    /// Most connections open at once (default 1024, at most the process's
    /// open-file limit less a reserve); over it a connection gets 503.
    #[arg(long, env = "TESSERA_MAX_CONNECTIONS")]
    pub(crate) max_connections: Option<usize>,
    /// Most connections open at once from one address (default 256;
    /// trusted proxies are not limited).
    #[arg(long, env = "TESSERA_MAX_CONNECTIONS_PER_IP")]
    pub(crate) max_connections_per_ip: Option<usize>,
    /// Hosts webhooks may be delivered to although they resolve to loopback,
    /// private or link-local addresses: names, addresses or CIDRs, comma-separated.
    #[arg(long, env = "TESSERA_WEBHOOK_ALLOW_HOSTS")]
    pub(crate) webhook_allow_hosts: Option<String>,
    /// Do not run migrations on start.
    #[arg(long, env = "TESSERA_NO_MIGRATE", value_parser = BoolishValueParser::new(), num_args = 0..=1,
          default_value = "false", default_missing_value = "true")]
    pub(crate) no_migrate: bool,
}

/// Where the key-encryption key comes from.
#[derive(Debug, Clone)]
pub(crate) enum KekSource {
    /// Given in configuration.
    Configured {
        /// Base64 current key.
        current: String,
        /// Comma-separated old keys.
        old: String,
    },
    /// A development key in a file beside the SQLite database (created if missing).
    DevFile(PathBuf),
    /// A throwaway key (in-memory store).
    Ephemeral,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Validated configuration.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    /// Database URL.
    pub(crate) database_url: String,
    /// Listen address.
    pub(crate) listen: SocketAddr,
    /// Where the KEK comes from.
    pub(crate) kek: KekSource,
    /// Bootstrap admin API key.
    pub(crate) admin_api_key: Option<String>,
    /// Log format.
    pub(crate) log_format: LogFormat,
    /// Algorithm of new signing keys.
    pub(crate) signing_alg: SigningAlg,
    /// Run migrations on start.
    pub(crate) migrate: bool,
    /// Where mail goes: SMTP, or the log when no URL is set.
    pub(crate) mail: MailSettings,
    /// HTTP options (base URL, dev mode, cookies, limits, proxies).
    pub(crate) http: HttpOptions,
    /// Install-wide WebAuthn relying-party id (`None`: the base URL's host).
    pub(crate) webauthn_rp_id: Option<String>,
    /// Install-wide WebAuthn origins (empty: the base URL's origin).
    pub(crate) webauthn_origins: Vec<String>,
    /// Hosts exempt from the webhook SSRF guard.
    pub(crate) webhook_allow_hosts: tessera_core::webhooks::AllowHosts,
    /// How many connections the server keeps open, and for how long.
    pub(crate) connections: ConnectionLimits,
    /// Why passkeys cannot work with these settings, if they cannot: `serve`
    /// refuses to start ([`Config::check_serving`]); one-shot commands, which
    /// run no ceremonies, do not care.
    pub(crate) passkey_problem: Option<String>,
}

impl Config {
    /// Refuse to serve with settings under which a feature that is on by
    /// default cannot work (issue 15, item 7). In development mode the
    /// problem is only a warning (logged by `serve`), so a test server on
    /// `http://127.0.0.1:PORT` still starts.
    pub(crate) fn check_serving(&self) -> Result<()> {
        match &self.passkey_problem {
            Some(problem) if !self.http.dev => Err(Error::config(problem.clone())),
            _ => Ok(()),
        }
    }

    /// What `serve` should warn about at start.
    pub(crate) fn warnings(&self) -> Vec<String> {
        self.passkey_problem
            .iter()
            .map(|p| {
                format!("{p} (TESSERA_DEV is on, so Tessera starts anyway; passkey ceremonies will fail)")
            })
            .collect()
    }
}

/// The limits that keep slow or numerous clients from exhausting the
/// server (issue 15, item 2); see [`crate::connections`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ConnectionLimits {
    /// Most connections open at once.
    pub(crate) max: usize,
    /// Most connections open at once from one peer address (trusted proxies
    /// are exempt).
    pub(crate) max_per_ip: usize,
    /// How long a client may take to send a request's headers, counted from
    /// when the server starts waiting for them; also how long an idle
    /// keep-alive connection is kept.
    pub(crate) header_read_timeout: Duration,
    /// After this long a connection is closed once its current request is
    /// answered (clients reconnect), so no connection lives for ever.
    pub(crate) max_age: Duration,
}

/// Default of `TESSERA_MAX_CONNECTIONS`.
pub(crate) const DEFAULT_MAX_CONNECTIONS: usize = 1024;
/// Default of `TESSERA_MAX_CONNECTIONS_PER_IP`.
pub(crate) const DEFAULT_MAX_CONNECTIONS_PER_IP: usize = 256;
/// Time a client has to send a request's headers (and an idle keep-alive
/// connection's lifetime).
pub(crate) const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest life of one connection.
pub(crate) const MAX_CONNECTION_AGE: Duration = Duration::from_secs(600);

/// The public base URL checked: an http(s) URL with a host and nothing a
/// base URL cannot carry. Answers the URL without a trailing slash.
fn check_base_url(raw: &str) -> Result<(String, url::Url)> {
    let base_url = raw.trim().trim_end_matches('/').to_owned();
    let bad = |why: &str| {
        Error::config(format!(
            "TESSERA_BASE_URL {base_url:?} {why}. Fix: set it to the public address \
             browsers and clients use, such as https://auth.example.com \
             (http://localhost:8080 for development)"
        ))
    };
    let parsed = url::Url::parse(&base_url).map_err(|_| bad("is not a URL"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(bad("must be an http(s) URL with a host"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(bad("must not carry a user name or password"));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(bad("must not have a query or a fragment"));
    }
    Ok((base_url, parsed))
}

/// The cookie domain checked against the base URL's host: browsers drop a
/// cookie whose `Domain` does not cover the host that sets it.
fn check_cookie_domain(domain: &str, base: &url::Url) -> Result<String> {
    let domain = domain.trim().trim_start_matches('.').to_ascii_lowercase();
    let host = base.host_str().unwrap_or_default().to_ascii_lowercase();
    let covers = !domain.is_empty()
        && matches!(base.host(), Some(url::Host::Domain(_)))
        && (host == domain || host.ends_with(&format!(".{domain}")));
    if covers {
        Ok(domain)
    } else {
        Err(Error::config(format!(
            "TESSERA_COOKIE_DOMAIN {domain:?} does not cover the host of TESSERA_BASE_URL \
             ({host}), so browsers would drop the session cookie. Fix: set it to {host} or \
             a parent domain of it, or leave it unset (host-only cookies)"
        )))
    }
}

/// The install-wide WebAuthn settings checked against the base URL: `Ok`
/// when passkeys can work; otherwise the refusal, naming the settings and
/// the fix.
fn check_webauthn(
    rp_id: Option<&String>,
    origins: &[String],
    base_url: &str,
    port: u16,
) -> Result<()> {
    let defaults = WebauthnDefaults {
        rp_id: rp_id.cloned(),
        origins: origins.to_vec(),
    };
    let Err(e) = defaults.check(base_url) else {
        return Ok(());
    };
    let fix = if rp_id.is_none() && origins.is_empty() {
        format!(
            "give TESSERA_BASE_URL a host name instead of an address (http://localhost:{port} \
             for development), or set TESSERA_WEBAUTHN_RP_ID and TESSERA_WEBAUTHN_ORIGIN to \
             the domain and origin users' browsers see"
        )
    } else {
        "make every TESSERA_WEBAUTHN_ORIGIN (default: the origin of TESSERA_BASE_URL) a host \
         name equal to TESSERA_WEBAUTHN_RP_ID or one of its subdomains"
            .to_owned()
    };
    Err(Error::config(format!(
        "passkeys cannot work with TESSERA_BASE_URL {base_url:?}: {}. Fix: {fix}",
        e.message()
    )))
}

/// The connection limits asked for, checked.
fn connection_limits(max: Option<usize>, per_ip: Option<usize>) -> Result<ConnectionLimits> {
    let max = max.unwrap_or(DEFAULT_MAX_CONNECTIONS);
    let per_ip = per_ip.unwrap_or(DEFAULT_MAX_CONNECTIONS_PER_IP.min(max));
    if max == 0 {
        return Err(Error::config(
            "TESSERA_MAX_CONNECTIONS must be at least 1 (default 1024)",
        ));
    }
    if per_ip == 0 || per_ip > max {
        return Err(Error::config(format!(
            "TESSERA_MAX_CONNECTIONS_PER_IP must be between 1 and TESSERA_MAX_CONNECTIONS ({max})"
        )));
    }
    Ok(ConnectionLimits {
        max,
        max_per_ip: per_ip,
        header_read_timeout: HEADER_READ_TIMEOUT,
        max_age: MAX_CONNECTION_AGE,
    })
}

/// The file holding the development KEK of a SQLite database: `<db>.kek`.
fn dev_kek_path(database_url: &str) -> Option<PathBuf> {
    let path = database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"))?;
    let path = path.split('?').next().unwrap_or(path);
    if path.is_empty() || path.contains(":memory:") {
        return None;
    }
    Some(PathBuf::from(format!("{path}.kek")))
}

impl RawConfig {
    /// Validate.
    pub(crate) fn validate(self) -> Result<Config> {
        let database_url = self
            .database_url
            .unwrap_or_else(|| "sqlite://tessera.db".into());
        let listen: SocketAddr = match (&self.listen, self.port) {
            (Some(l), _) => l.parse().map_err(|_| {
                Error::config(format!(
                    "TESSERA_LISTEN {l:?} must be an address and a port, such as 0.0.0.0:8080"
                ))
            })?,
            (None, port) => SocketAddr::from(([0, 0, 0, 0], port.unwrap_or(8080))),
        };
        let (base_url, base) = check_base_url(
            &self
                .base_url
                .unwrap_or_else(|| format!("http://localhost:{}", listen.port())),
        )?;
        let kek = match self.key_encryption_key.filter(|k| !k.trim().is_empty()) {
            Some(current) => {
                let old = self.key_encryption_key_old.unwrap_or_default();
                KeyRing::from_base64(&current, &old).map_err(|e| {
                    Error::config(format!(
                        "TESSERA_KEY_ENCRYPTION_KEY (or an entry of TESSERA_KEY_ENCRYPTION_KEY_OLD) \
                         is unusable: {}. Fix: give the base64 of 32 random bytes \
                         (`tessera keys generate-kek` makes one)",
                        e.message()
                    ))
                })?;
                KekSource::Configured { current, old }
            }
            None if database_url.starts_with("memory:") => KekSource::Ephemeral,
            None => match dev_kek_path(&database_url) {
                Some(p) => KekSource::DevFile(p),
                None => {
                    return Err(Error::config(
                        "TESSERA_KEY_ENCRYPTION_KEY is required for this database (generate one with `tessera keys generate-kek`)",
                    ));
                }
            },
        };
        let log_format = match self.log_format.as_deref().unwrap_or("text") {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => {
                return Err(Error::config(format!(
                    "TESSERA_LOG_FORMAT must be text or json, not {other:?}"
                )));
            }
        };
        let rate_limits = match self.rate_limits.as_deref().unwrap_or("on") {
            "on" | "true" | "1" => true,
            "off" | "false" | "0" => false,
            other => {
                return Err(Error::config(format!(
                    "TESSERA_RATE_LIMITS must be on or off, not {other:?}"
                )));
            }
        };
        let signing_alg = match self.signing_alg.as_deref() {
            None => SigningAlg::EdDSA,
            Some(a) => SigningAlg::parse(a).ok_or_else(|| {
                Error::config("TESSERA_SIGNING_ALG must be EdDSA, ES256 or RS256")
            })?,
        };
        let trusted_proxies = self
            .trusted_proxies
            .unwrap_or_default()
            .split(',')
            .filter(|s| !s.trim().is_empty())
            .map(|s| match parse_cidr(s) {
                None => Err(Error::config(format!(
                    "TESSERA_TRUSTED_PROXIES: {s:?} is not an address or CIDR \
                     (such as 10.0.0.1 or 10.0.0.0/8)"
                ))),
                Some((_, 0)) => Err(Error::config(format!(
                    "TESSERA_TRUSTED_PROXIES: {s:?} trusts every address, so any client \
                     could choose its own IP with X-Forwarded-For. Fix: list only your \
                     proxies' addresses or networks"
                ))),
                Some(net) => Ok(net),
            })
            .collect::<Result<Vec<_>>>()?;
        let admin_api_key = self.admin_api_key.filter(|k| !k.is_empty());
        if let Some(key) = &admin_api_key {
            check_token_format(key, prefix::API_KEY).map_err(|_| {
                Error::config(
                    "TESSERA_ADMIN_API_KEY must look like tsk_ followed by 43 base64url \
                     characters. Fix: create one with `tessera admin create-api-key`, or \
                     use tsk_ and the base64url of 32 random bytes",
                )
            })?;
        }
        let cookie_domain = self
            .cookie_domain
            .filter(|d| !d.trim().is_empty())
            .map(|d| check_cookie_domain(&d, &base))
            .transpose()?;
        let smtp_url = self.smtp_url.filter(|u| !u.trim().is_empty());
        let mail_from = self
            .mail_from
            .filter(|f| !f.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_MAIL_FROM.into());
        if let Some(url) = &smtp_url {
            check_smtp(url, &mail_from)?;
        }
        let connections = connection_limits(self.max_connections, self.max_connections_per_ip)?;
        let webauthn_rp_id = self
            .webauthn_rp_id
            .map(|id| id.trim().to_ascii_lowercase())
            .filter(|id| !id.is_empty());
        if let Some(id) = &webauthn_rp_id
            && (id.contains(['/', ':']) || id.starts_with('.') || id.ends_with('.'))
        {
            return Err(Error::config(format!(
                "TESSERA_WEBAUTHN_RP_ID must be a domain such as example.com, not {id:?}"
            )));
        }
        let webauthn_origins = self
            .webauthn_origin
            .unwrap_or_default()
            .split(',')
            .map(|o| o.trim().trim_end_matches('/').to_owned())
            .filter(|o| !o.is_empty())
            .map(|o| {
                let ok = (o.starts_with("https://") || o.starts_with("http://"))
                    && o.splitn(4, '/').nth(3).is_none_or(|path| path.is_empty());
                if ok {
                    Ok(o)
                } else {
                    Err(Error::config(format!(
                        "TESSERA_WEBAUTHN_ORIGIN: {o:?} is not an origin like https://auth.example.com"
                    )))
                }
            })
            .collect::<Result<Vec<_>>>()?;
        let passkey_problem = check_webauthn(
            webauthn_rp_id.as_ref(),
            &webauthn_origins,
            &base_url,
            listen.port(),
        )
        .err()
        .map(|e| e.message().to_owned());
        let webhook_allow_hosts = tessera_core::webhooks::AllowHosts::parse(
            self.webhook_allow_hosts.as_deref().unwrap_or_default(),
        )?;
        Ok(Config {
            webhook_allow_hosts,
            database_url,
            listen,
            kek,
            admin_api_key,
            log_format,
            signing_alg,
            migrate: !self.no_migrate,
            mail: MailSettings {
                smtp_url,
                from: mail_from,
            },
            http: HttpOptions {
                base_url,
                dev: self.dev,
                cookie_domain,
                rate_limits,
                trusted_proxies,
                body_limit: 64 * 1024,
                request_timeout: Duration::from_secs(30),
                // The exporter is installed by `serve` alone.
                metrics: None,
            },
            webauthn_rp_id,
            webauthn_origins,
            connections,
            passkey_problem,
        })
    }
}

/// The SMTP URL and sender checked as the mailer will read them, with the
/// accepted forms in the message.
fn check_smtp(url: &str, from: &str) -> Result<()> {
    let settings = MailSettings {
        smtp_url: Some(url.to_owned()),
        from: from.to_owned(),
    };
    settings.mailer().map(drop).map_err(|e| {
        Error::config(format!(
            "{}. Fix: TESSERA_SMTP_URL takes smtp://user:pass@host:587 (STARTTLS), \
             smtps://user:pass@host:465 (TLS) or smtp://host:25?tls=none (a loopback relay), \
             and TESSERA_MAIL_FROM an address such as \"Acme <auth@acme.example>\"",
            e.message()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_zero_config_dev_server() {
        let c = RawConfig::default().validate().unwrap();
        assert_eq!(c.database_url, "sqlite://tessera.db");
        assert_eq!(c.listen.port(), 8080);
        assert_eq!(c.http.base_url, "http://localhost:8080");
        assert!(matches!(c.kek, KekSource::DevFile(ref p) if p.to_str() == Some("tessera.db.kek")));
        assert!(c.http.rate_limits);
        assert!(c.migrate);
    }

    #[test]
    fn webauthn_defaults_are_parsed() {
        let c = RawConfig::default().validate().unwrap();
        assert_eq!(c.webauthn_rp_id, None);
        assert!(c.webauthn_origins.is_empty());
        let c = RawConfig {
            webauthn_rp_id: Some(" Example.COM ".into()),
            webauthn_origin: Some("https://auth.example.com/, https://app.example.com".into()),
            ..Default::default()
        }
        .validate()
        .unwrap();
        assert_eq!(c.webauthn_rp_id.as_deref(), Some("example.com"));
        assert_eq!(
            c.webauthn_origins,
            ["https://auth.example.com", "https://app.example.com"]
        );
    }

    #[test]
    fn port_is_honoured_and_bad_values_are_refused() {
        let c = RawConfig {
            port: Some(9999),
            ..Default::default()
        }
        .validate()
        .unwrap();
        assert_eq!(c.listen.port(), 9999);
        for bad in [
            RawConfig {
                listen: Some("nope".into()),
                ..Default::default()
            },
            RawConfig {
                base_url: Some("ftp://x".into()),
                ..Default::default()
            },
            RawConfig {
                key_encryption_key: Some("short".into()),
                ..Default::default()
            },
            RawConfig {
                rate_limits: Some("maybe".into()),
                ..Default::default()
            },
            RawConfig {
                database_url: Some("postgres://x/y".into()),
                ..Default::default()
            },
            RawConfig {
                trusted_proxies: Some("10.0.0.0/99".into()),
                ..Default::default()
            },
            RawConfig {
                webauthn_origin: Some("https://a.example/path".into()),
                ..Default::default()
            },
            RawConfig {
                webauthn_rp_id: Some("https://example.com".into()),
                ..Default::default()
            },
        ] {
            assert_eq!(bad.validate().unwrap_err().code(), "config_error");
        }
    }

    /// The refusal `raw` gets from `serve`; it must name `setting` and carry
    /// a fix.
    fn refusal(raw: RawConfig, setting: &str) -> String {
        let e = match raw.validate().and_then(|c| c.check_serving()) {
            Ok(_) => panic!("accepted a configuration that cannot work ({setting})"),
            Err(e) => e,
        };
        assert_eq!(e.code(), "config_error");
        let m = e.message().to_owned();
        assert!(m.contains(setting), "names {setting}: {m}");
        assert!(
            m.contains("Fix:") || m.contains("must be"),
            "says the fix: {m}"
        );
        m
    }

    /// Issue 15, item 7: an IP address as the base URL left every passkey
    /// ceremony answering 500 `config_error`; it is refused at start-up (a
    /// warning in development mode, which the SDK tests use).
    #[test]
    fn a_base_url_that_passkeys_cannot_use_is_refused() {
        let ip = || RawConfig {
            base_url: Some("http://127.0.0.1:8080".into()),
            ..Default::default()
        };
        let m = refusal(ip(), "TESSERA_BASE_URL");
        assert!(m.contains("http://localhost:8080"), "{m}");
        assert!(m.contains("TESSERA_WEBAUTHN_RP_ID"), "{m}");
        let dev = RawConfig { dev: true, ..ip() }.validate().unwrap();
        dev.check_serving().unwrap();
        assert_eq!(dev.warnings().len(), 1);
        // One-shot commands run no ceremonies: validation alone passes.
        ip().validate().unwrap();
        // With a relying party of its own, an address is fine.
        let c = RawConfig {
            webauthn_rp_id: Some("example.com".into()),
            webauthn_origin: Some("https://auth.example.com".into()),
            ..ip()
        }
        .validate()
        .unwrap();
        c.check_serving().unwrap();
        assert!(c.warnings().is_empty());
        // Origins outside the relying-party id.
        let m = refusal(
            RawConfig {
                base_url: Some("https://auth.example.com".into()),
                webauthn_rp_id: Some("other.test".into()),
                ..Default::default()
            },
            "TESSERA_WEBAUTHN_RP_ID",
        );
        assert!(m.contains("TESSERA_WEBAUTHN_ORIGIN"), "{m}");
    }

    #[test]
    fn malformed_settings_are_refused_with_the_setting_and_the_fix() {
        for url in [
            "ftp://auth.example.com",
            "https://",
            "not a url",
            "https://user:pw@auth.example.com",
            "https://auth.example.com/?x=1",
            "https://auth.example.com/#top",
        ] {
            refusal(
                RawConfig {
                    base_url: Some(url.into()),
                    ..Default::default()
                },
                "TESSERA_BASE_URL",
            );
        }
        // A path is allowed (a proxy may mount Tessera under one).
        let c = RawConfig {
            base_url: Some("https://example.com/auth/".into()),
            ..Default::default()
        }
        .validate()
        .unwrap();
        assert_eq!(c.http.base_url, "https://example.com/auth");
        refusal(
            RawConfig {
                key_encryption_key: Some("short".into()),
                ..Default::default()
            },
            "TESSERA_KEY_ENCRYPTION_KEY",
        );
        refusal(
            RawConfig {
                smtp_url: Some("ftp://mail.example.com".into()),
                ..Default::default()
            },
            "TESSERA_SMTP_URL",
        );
        refusal(
            RawConfig {
                smtp_url: Some("smtp://mail.example.com:587".into()),
                mail_from: Some("not an address".into()),
                ..Default::default()
            },
            "TESSERA_MAIL_FROM",
        );
        refusal(
            RawConfig {
                admin_api_key: Some("secret".into()),
                ..Default::default()
            },
            "TESSERA_ADMIN_API_KEY",
        );
        refusal(
            RawConfig {
                trusted_proxies: Some("10.0.0.1, 0.0.0.0/0".into()),
                ..Default::default()
            },
            "TESSERA_TRUSTED_PROXIES",
        );
        refusal(
            RawConfig {
                signing_alg: Some("HS256".into()),
                ..Default::default()
            },
            "TESSERA_SIGNING_ALG",
        );
        refusal(
            RawConfig {
                listen: Some("8080".into()),
                ..Default::default()
            },
            "TESSERA_LISTEN",
        );
        let m = refusal(
            RawConfig {
                base_url: Some("https://auth.example.com".into()),
                cookie_domain: Some("example.org".into()),
                ..Default::default()
            },
            "TESSERA_COOKIE_DOMAIN",
        );
        assert!(m.contains("auth.example.com"), "{m}");
        let c = RawConfig {
            base_url: Some("https://auth.example.com".into()),
            cookie_domain: Some(".Example.com".into()),
            ..Default::default()
        }
        .validate()
        .unwrap();
        assert_eq!(c.http.cookie_domain.as_deref(), Some("example.com"));
        refusal(
            RawConfig {
                max_connections: Some(0),
                ..Default::default()
            },
            "TESSERA_MAX_CONNECTIONS",
        );
        refusal(
            RawConfig {
                max_connections: Some(10),
                max_connections_per_ip: Some(11),
                ..Default::default()
            },
            "TESSERA_MAX_CONNECTIONS_PER_IP",
        );
    }

    #[test]
    fn connection_limits_have_defaults() {
        let c = RawConfig::default().validate().unwrap();
        assert_eq!(c.connections.max, DEFAULT_MAX_CONNECTIONS);
        assert_eq!(c.connections.max_per_ip, DEFAULT_MAX_CONNECTIONS_PER_IP);
        assert_eq!(c.connections.header_read_timeout, HEADER_READ_TIMEOUT);
        let c = RawConfig {
            max_connections: Some(100),
            ..Default::default()
        }
        .validate()
        .unwrap();
        assert_eq!(c.connections.max_per_ip, 100);
    }
}
