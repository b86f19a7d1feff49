//! What every handler shares: the Tessera facade, the validated HTTP options,
//! and per-instance caches whose loss is harmless (rate-limit buckets, the
//! CORS origin set).

use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use tessera_core::model::{App, ClientInfo};
use tessera_core::validate::in_network;
use tessera_core::{Error, Tessera};

use crate::limits::{Action, RateLimits};
use crate::metrics::{self, MetricsRenderer};

/// Options of the HTTP face (validated: the `tessera` binary builds them from
/// its configuration; embedders start from `HttpOptions::default()`).
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Public base URL (the token issuer), without a trailing slash.
    pub base_url: String,
    /// Development mode: cookies without `Secure` on plain HTTP.
    pub dev: bool,
    /// `Domain` attribute of cookies, if any.
    pub cookie_domain: Option<String>,
    /// Whether per-IP and per-account rate limits apply.
    pub rate_limits: bool,
    /// Proxies whose `X-Forwarded-For` is believed (exact addresses or CIDR
    /// blocks, as `tessera_core::validate::parse_cidr` reads them).
    pub trusted_proxies: Vec<(IpAddr, u8)>,
    /// Largest accepted request body, in bytes.
    pub body_limit: usize,
    /// Longest a request may take.
    pub request_timeout: Duration,
    /// What `/metrics` answers (404 when `None`): the runner installs the
    /// exporter and hands over its renderer.
    pub metrics: Option<MetricsRenderer>,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            base_url: "http://localhost:8080".into(),
            dev: false,
            cookie_domain: None,
            rate_limits: true,
            trusted_proxies: Vec::new(),
            body_limit: 64 * 1024,
            request_timeout: Duration::from_secs(30),
            metrics: None,
        }
    }
}

impl HttpOptions {
    /// Whether the base URL is https (answers then carry HSTS).
    pub fn https(&self) -> bool {
        self.base_url
            .get(..8)
            .is_some_and(|s| s.eq_ignore_ascii_case("https://"))
    }

    /// Whether cookies get the `Secure` attribute: always over an https base
    /// URL (development mode included: a browser keeps `Secure` cookies on
    /// https), and on plain HTTP unless in development mode or on
    /// localhost, where `Secure` cookies would never be sent back.
    pub fn secure_cookies(&self) -> bool {
        if self.https() {
            return true;
        }
        !(self.dev || self.local_http())
    }

    /// Whether the base URL is plain HTTP on a loopback host: exactly
    /// `localhost`, `127.0.0.1` or `[::1]`, with an optional port and path
    /// (`http://localhost.evil.com` is not local).
    fn local_http(&self) -> bool {
        let Some(rest) = self.base_url.strip_prefix("http://") else {
            return false;
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let host = match authority.strip_prefix('[') {
            Some(v6) => v6.split(']').next().map(|h| format!("[{h}]")),
            None => authority.split(':').next().map(str::to_owned),
        };
        matches!(host.as_deref(), Some("localhost" | "127.0.0.1" | "[::1]"))
    }

    /// Whether `ip` is a trusted proxy.
    pub fn is_trusted_proxy(&self, ip: IpAddr) -> bool {
        self.trusted_proxies
            .iter()
            .any(|(net, bits)| in_network(ip, *net, *bits))
    }
}

/// Shared state of the router.
#[derive(Clone)]
pub struct AppState {
    /// The core.
    pub tessera: Tessera,
    /// Options.
    pub options: Arc<HttpOptions>,
    /// Rate limiters.
    pub limits: Arc<RateLimits>,
}

impl AppState {
    /// [`RateLimits::check`] with this state's limits and core: `?` on it
    /// answers `rate_limited` before the route does anything.
    pub async fn check_limits(
        &self,
        action: Action,
        client: &ClientInfo,
        account: Option<(&App, &str, Option<&str>)>,
    ) -> Result<(), Error> {
        self.limits
            .check(&self.tessera, action, client, account)
            .await
    }

    /// A sign-in step of the JSON routes: [`AppState::check_limits`] as a
    /// sign-in (a refusal is answered, not counted), then `call`, whose
    /// outcome is counted in the sign-in metrics as `method`.
    pub async fn sign_in<T>(
        &self,
        method: &'static str,
        client: &ClientInfo,
        account: Option<(&App, &str, Option<&str>)>,
        call: impl Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        self.check_limits(Action::SignIn, client, account).await?;
        let result = call.await;
        metrics::sign_in(method, &result);
        result
    }

    /// Run `call` when [`AppState::check_limits`] passes; `rate_limited`
    /// without running it otherwise. The "rate limit, then call" step of the
    /// hosted pages, which answer a refusal as they answer the call's own
    /// errors.
    pub async fn guard<T>(
        &self,
        action: Action,
        client: &ClientInfo,
        account: Option<(&App, &str, Option<&str>)>,
        call: impl Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        self.check_limits(action, client, account).await?;
        call.await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(base_url: &str, dev: bool) -> HttpOptions {
        HttpOptions {
            base_url: base_url.into(),
            dev,
            ..Default::default()
        }
    }

    #[test]
    fn secure_cookies_by_base_url_and_dev_mode() {
        // Local plain HTTP, or development on plain HTTP: no `Secure`.
        for base in [
            "http://localhost",
            "http://localhost:8080/auth",
            "http://127.0.0.1:80",
            "http://[::1]:8080",
        ] {
            assert!(!opts(base, false).secure_cookies(), "{base}");
        }
        assert!(!opts("http://auth.example", true).secure_cookies());
        // https keeps `Secure`, development mode or not.
        assert!(opts("https://auth.example", true).secure_cookies());
        assert!(opts("HTTPS://localhost", true).secure_cookies());
        // Hosts that only start like a local one are not local.
        for base in [
            "http://localhost.evil.com",
            "http://127.0.0.1.evil.com",
            "http://localhostx:80",
            "http://auth.example",
        ] {
            assert!(opts(base, false).secure_cookies(), "{base}");
        }
        assert!(opts("https://a.example", false).https());
        assert!(!opts("http://a.example", false).https());
    }
}
