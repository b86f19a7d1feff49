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
use tessera_core::crypto::KeyRing;
use tessera_core::model::SigningAlg;
use tessera_core::{Error, Result};
use tessera_http::HttpOptions;
use tessera_http::state::parse_cidr;
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
                    "TESSERA_LISTEN {l:?} is not an address like 0.0.0.0:8080"
                ))
            })?,
            (None, port) => SocketAddr::from(([0, 0, 0, 0], port.unwrap_or(8080))),
        };
        let base_url = self
            .base_url
            .unwrap_or_else(|| format!("http://localhost:{}", listen.port()))
            .trim_end_matches('/')
            .to_owned();
        if !(base_url.starts_with("https://") || base_url.starts_with("http://")) {
            return Err(Error::config("TESSERA_BASE_URL must be an http(s) URL"));
        }
        let kek = match self.key_encryption_key.filter(|k| !k.trim().is_empty()) {
            Some(current) => {
                let old = self.key_encryption_key_old.unwrap_or_default();
                KeyRing::from_base64(&current, &old)?;
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
            .map(|s| {
                parse_cidr(s).ok_or_else(|| {
                    Error::config(format!(
                        "TESSERA_TRUSTED_PROXIES: {s:?} is not an address or CIDR"
                    ))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let admin_api_key = self.admin_api_key.filter(|k| !k.is_empty());
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
        Ok(Config {
            database_url,
            listen,
            kek,
            admin_api_key,
            log_format,
            signing_alg,
            migrate: !self.no_migrate,
            mail: MailSettings {
                smtp_url: self.smtp_url.filter(|u| !u.trim().is_empty()),
                from: self
                    .mail_from
                    .filter(|f| !f.trim().is_empty())
                    .unwrap_or_else(|| DEFAULT_MAIL_FROM.into()),
            },
            http: HttpOptions {
                base_url,
                dev: self.dev,
                cookie_domain: self.cookie_domain.filter(|d| !d.is_empty()),
                rate_limits,
                trusted_proxies,
                body_limit: 64 * 1024,
                request_timeout: Duration::from_secs(30),
                // The exporter is installed by `serve` alone.
                metrics: None,
            },
            webauthn_rp_id,
            webauthn_origins,
        })
    }
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
}
