//! Which relying party a ceremony runs for: the app's WebAuthn settings, else
//! the install-wide defaults, else what the issuer URL implies.
//!
//! Resolved per call from the app as stored, so changing an app's settings
//! takes effect at once on every instance, and nothing is cached that could
//! go stale.

use std::time::Duration;

use url::Url;
use webauthn_rs::{Webauthn, WebauthnBuilder};

use crate::model::App;
use crate::{Error, Result};

/// How long the browser may take for a ceremony (also the ceremony's lifetime
/// in the store).
pub(crate) const CEREMONY_TIMEOUT: Duration = Duration::from_secs(300);

/// Install-wide WebAuthn defaults (`TESSERA_WEBAUTHN_RP_ID`,
/// `TESSERA_WEBAUTHN_ORIGIN`), overridden per app by
/// `settings.webauthn_rp_id` and `settings.webauthn_origins`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebauthnDefaults {
    /// Relying-party id (a registrable domain); `None`: the issuer's host.
    pub rp_id: Option<String>,
    /// Allowed origins; empty: the issuer's origin.
    pub origins: Vec<String>,
}

impl WebauthnDefaults {
    /// Check that these defaults and `issuer` make a relying party that can
    /// run ceremonies for an app without WebAuthn settings of its own, and
    /// answer its id and origins. Faces call this at start-up, so a
    /// configuration under which every passkey ceremony would fail (an IP
    /// address as the relying-party id, origins outside it) is refused before
    /// serving instead of answering `config_error` per request.
    ///
    /// Errors: `config_error` saying what does not fit.
    pub fn check(&self, issuer: &str) -> Result<(String, Vec<String>)> {
        let now = chrono::Utc::now();
        let app = App {
            id: uuid::Uuid::nil(),
            pool_id: uuid::Uuid::nil(),
            slug: crate::model::DEFAULT_SLUG.into(),
            name: "Tessera".into(),
            settings: crate::model::AppSettings::default(),
            created_at: now,
            updated_at: now,
        };
        let (rp_id, origins) = resolve(&app, self, issuer)?;
        webauthn(&app, self, issuer)?;
        Ok((
            rp_id,
            origins
                .iter()
                .map(|o| o.origin().ascii_serialization())
                .collect(),
        ))
    }
}

/// The origin (`scheme://host[:port]`) of an http(s) URL.
fn origin_of(url: &str) -> Result<Url> {
    let parsed = Url::parse(url)
        .map_err(|_| Error::config(format!("WebAuthn origin {url:?} is not an absolute URL")))?;
    if !matches!(parsed.scheme(), "https" | "http") || parsed.host_str().is_none() {
        return Err(Error::config(format!(
            "WebAuthn origin {url:?} must be an http(s) URL with a host"
        )));
    }
    let origin = parsed.origin().ascii_serialization();
    Url::parse(&origin).map_err(|_| Error::config(format!("bad WebAuthn origin {url:?}")))
}

/// The relying-party id and origins in force for `app`.
pub(crate) fn resolve(
    app: &App,
    defaults: &WebauthnDefaults,
    issuer: &str,
) -> Result<(String, Vec<Url>)> {
    let origins: Vec<String> = if !app.settings.webauthn_origins.is_empty() {
        app.settings.webauthn_origins.clone()
    } else if !defaults.origins.is_empty() {
        defaults.origins.clone()
    } else {
        vec![issuer.to_owned()]
    };
    let origins = origins
        .iter()
        .map(|o| origin_of(o))
        .collect::<Result<Vec<_>>>()?;
    let rp_id = match app
        .settings
        .webauthn_rp_id
        .as_ref()
        .or(defaults.rp_id.as_ref())
    {
        Some(id) => id.trim().to_ascii_lowercase(),
        None => origin_of(issuer)?
            .host_str()
            .unwrap_or_default()
            .to_ascii_lowercase(),
    };
    if rp_id.is_empty() {
        return Err(Error::config("the WebAuthn relying-party id is empty"));
    }
    for origin in &origins {
        let ok = origin
            .domain()
            .is_some_and(|d| d == rp_id || d.ends_with(&format!(".{rp_id}")));
        if !ok {
            return Err(Error::config(format!(
                "WebAuthn origin {} is not within the relying-party id {rp_id:?} (origins must be the RP id's host or its subdomains, not IP addresses)",
                origin.origin().ascii_serialization()
            )));
        }
    }
    Ok((rp_id, origins))
}

/// A `Webauthn` for `app`: its relying party, named after the app.
pub(crate) fn webauthn(app: &App, defaults: &WebauthnDefaults, issuer: &str) -> Result<Webauthn> {
    let (rp_id, origins) = resolve(app, defaults, issuer)?;
    let mut builder = WebauthnBuilder::new(&rp_id, &origins[0])
        .map_err(|e| Error::config(format!("WebAuthn configuration refused: {e}")))?
        .rp_name(&app.name)
        .timeout(CEREMONY_TIMEOUT);
    for extra in &origins[1..] {
        builder = builder.append_allowed_origin(extra);
    }
    builder
        .build()
        .map_err(|e| Error::config(format!("WebAuthn configuration refused: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AppSettings;

    fn app(rp_id: Option<&str>, origins: &[&str]) -> App {
        let now = chrono::Utc::now();
        App {
            id: uuid::Uuid::nil(),
            pool_id: uuid::Uuid::nil(),
            slug: "a".into(),
            name: "A".into(),
            settings: AppSettings {
                webauthn_rp_id: rp_id.map(str::to_owned),
                webauthn_origins: origins.iter().map(|s| s.to_string()).collect(),
                ..AppSettings::default()
            },
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn defaults_come_from_the_issuer() {
        let (id, origins) = resolve(
            &app(None, &[]),
            &WebauthnDefaults::default(),
            "http://localhost:8080",
        )
        .unwrap();
        assert_eq!(id, "localhost");
        assert_eq!(origins[0].as_str(), "http://localhost:8080/");
    }

    #[test]
    fn app_settings_override_install_defaults() {
        let defaults = WebauthnDefaults {
            rp_id: Some("example.com".into()),
            origins: vec!["https://auth.example.com".into()],
        };
        let (id, _) = resolve(&app(None, &[]), &defaults, "https://x.test").unwrap();
        assert_eq!(id, "example.com");
        let (id, origins) = resolve(
            &app(
                Some("shop.test"),
                &["https://shop.test", "https://m.shop.test"],
            ),
            &defaults,
            "https://x.test",
        )
        .unwrap();
        assert_eq!(id, "shop.test");
        assert_eq!(origins.len(), 2);
    }

    #[test]
    fn install_defaults_are_checked_without_an_app() {
        let (id, origins) = WebauthnDefaults::default()
            .check("http://localhost:8080")
            .unwrap();
        assert_eq!(
            (id.as_str(), origins[0].as_str()),
            ("localhost", "http://localhost:8080")
        );
        // An IP address cannot be a relying-party id (issue 15, item 7).
        let e = WebauthnDefaults::default()
            .check("http://127.0.0.1:8080")
            .unwrap_err();
        assert_eq!(e.code(), "config_error");
        let e = WebauthnDefaults {
            rp_id: Some("example.com".into()),
            origins: vec![],
        }
        .check("https://auth.other.test")
        .unwrap_err();
        assert_eq!(e.code(), "config_error");
        WebauthnDefaults {
            rp_id: Some("example.com".into()),
            origins: vec!["https://auth.example.com".into()],
        }
        .check("http://127.0.0.1:8080")
        .unwrap();
    }

    #[test]
    fn origins_outside_the_rp_id_are_a_config_error() {
        let e = resolve(
            &app(Some("example.com"), &["https://evil.test"]),
            &WebauthnDefaults::default(),
            "https://auth.example.com",
        )
        .unwrap_err();
        assert_eq!(e.code(), "config_error");
        let e = resolve(
            &app(Some("notexample.com"), &["https://example.com"]),
            &WebauthnDefaults::default(),
            "https://auth.example.com",
        )
        .unwrap_err();
        assert_eq!(e.code(), "config_error");
    }
}
