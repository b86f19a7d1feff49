//! The HTTP client Tessera uses to talk to providers, and the in-memory
//! cache of what it learns from them (discovery documents and key sets).
//!
//! The `oauth2` and `openidconnect` crates are built without an HTTP client;
//! this adapter gives them ours, over reqwest, with the limits a server that
//! fetches URLs configured by administrators needs: redirects are never
//! followed (a provider endpoint that redirects is misconfigured, and
//! following could reach internal hosts), every request has a timeout, and
//! response bodies are capped. The cache may be lost at any time (another
//! instance, a restart): it only saves round trips.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use openidconnect::{HttpRequest, HttpResponse};

use crate::{Error, ErrorKind, Result};

/// Largest provider answer read, in bytes.
const MAX_BODY: usize = 1024 * 1024;
/// How long one provider request may take in all.
const TIMEOUT: Duration = Duration::from_secs(10);
/// How long a discovery document and its key set are reused.
const CACHE_TTL: Duration = Duration::from_secs(3600);

/// A failed provider request (never carries a secret: no bodies, no headers).
#[derive(Debug)]
pub(crate) struct HttpError(pub(crate) String);

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HttpError {}

/// The settings every outbound client of Tessera shares (OAuth providers,
/// webhook deliveries): redirects never followed, `timeout` for a whole
/// request, a short connect timeout, Tessera's user agent.
pub(crate) fn client_builder(timeout: Duration) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(5))
        .user_agent(concat!("tessera/", env!("CARGO_PKG_VERSION")))
}

/// The provider-facing HTTP client and the discovery cache of one Tessera.
pub(crate) struct Runtime {
    client: reqwest::Client,
    cache: Mutex<HashMap<String, (Instant, Arc<serde_json::Value>)>>,
    /// Development mode: plain-HTTP provider endpoints on loopback hosts are allowed.
    pub(crate) development: bool,
}

impl Runtime {
    pub(crate) fn new(development: bool) -> Result<Self> {
        let client = client_builder(TIMEOUT)
            .build()
            .map_err(|e| Error::config("could not build the HTTP client").with_source(e))?;
        Ok(Runtime {
            client,
            cache: Mutex::new(HashMap::new()),
            development,
        })
    }

    /// Run one request for the `oauth2`/`openidconnect` crates.
    pub(crate) async fn execute(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        let (parts, body) = request.into_parts();
        let url = parts.uri.to_string();
        let mut req = self.client.request(parts.method, &url).body(body);
        for (name, value) in &parts.headers {
            req = req.header(name, value);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| HttpError(format!("request to {} failed: {e}", host_of(&url))))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = read_capped(resp).await?;
        let mut out = http_response(status, body);
        *out.headers_mut() = headers;
        Ok(out)
    }

    /// GET a JSON document (with a bearer token and extra headers when given);
    /// `provider_error` unless it answers 2xx with JSON.
    pub(crate) async fn get_json(
        &self,
        url: &str,
        bearer: Option<&str>,
    ) -> Result<serde_json::Value> {
        let mut req = self
            .client
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(token) = bearer {
            req = req.bearer_auth(token);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| provider_error(format!("request to {} failed: {e}", host_of(url))))?;
        let status = resp.status();
        let body = read_capped(resp).await.map_err(|e| provider_error(e.0))?;
        if !status.is_success() {
            return Err(provider_error(format!(
                "{} answered HTTP {status}",
                host_of(url)
            )));
        }
        serde_json::from_slice(&body)
            .map_err(|e| provider_error(format!("{} answered malformed JSON: {e}", host_of(url))))
    }

    /// A JSON document from the cache, or fetched (and cached) when missing,
    /// older than the TTL, or when `fresh` is asked for.
    pub(crate) async fn cached_json(
        &self,
        url: &str,
        fresh: bool,
    ) -> Result<Arc<serde_json::Value>> {
        if !fresh {
            let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((at, v)) = cache.get(url)
                && at.elapsed() < CACHE_TTL
            {
                return Ok(v.clone());
            }
        }
        let value = Arc::new(self.get_json(url, None).await?);
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() > 1000 {
            cache.clear();
        }
        cache.insert(url.to_owned(), (Instant::now(), value.clone()));
        Ok(value)
    }

    /// Put a document in the cache as if fetched now (tests without a network).
    #[cfg(test)]
    pub(crate) fn seed(&self, url: &str, value: serde_json::Value) {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache.insert(url.to_owned(), (Instant::now(), Arc::new(value)));
    }

    /// How long ago `url` was fetched into the cache, if it is there.
    pub(crate) fn cached_age(&self, url: &str) -> Option<Duration> {
        let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache.get(url).map(|(at, _)| at.elapsed())
    }
}

impl<'c> oauth2::AsyncHttpClient<'c> for Runtime {
    type Error = HttpError;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<HttpResponse, HttpError>> + Send + 'c>,
    >;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(self.execute(request))
    }
}

fn http_response(status: reqwest::StatusCode, body: Vec<u8>) -> HttpResponse {
    let mut r = HttpResponse::new(body);
    *r.status_mut() = status;
    r
}

async fn read_capped(mut resp: reqwest::Response) -> Result<Vec<u8>, HttpError> {
    if resp.content_length().is_some_and(|n| n > MAX_BODY as u64) {
        return Err(HttpError("provider answer too large".into()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| HttpError(format!("reading the provider answer failed: {e}")))?
    {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(HttpError("provider answer too large".into()));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The host of a URL, for messages (never the path or query, which may carry codes).
pub(crate) fn host_of(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| "the provider".into())
}

/// A `provider_error` with a detail for logs.
pub(crate) fn provider_error(detail: impl Into<String>) -> Error {
    Error::new(ErrorKind::ProviderError).with_source(HttpError(detail.into()))
}
