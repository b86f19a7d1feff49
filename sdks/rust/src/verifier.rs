//! Verifying Tessera access tokens against the install's JWKS.
//!
//! The algorithm always comes from the JWKS key that the token's `kid`
//! names (EdDSA, ES256 or RS256) and must equal the header's `alg`, so `none`,
//! HMAC and key-confusion tokens are refused before any signature check. The
//! header `typ` must be `at+jwt` (RFC 9068), so an OpenID Connect ID token —
//! same issuer, same keys, same audience — cannot pass for an access token.
//!
//! The JWKS is fetched on first use and cached. A token with an unknown `kid`
//! (Tessera rotated its key) triggers a refetch, but at most one per cooldown,
//! so garbage tokens cannot make us hammer the server; the cache is also
//! refreshed after `max_age` so keys Tessera stopped publishing are dropped.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::{Error, ErrorKind, Result};

/// Clock-skew leeway on `exp` and `nbf`.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(30);
/// Least time between two JWKS refetches caused by unknown key ids.
pub const DEFAULT_REFETCH_COOLDOWN: Duration = Duration::from_secs(30);
/// How long a fetched JWKS is used before it is refreshed.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(3600);
/// Bound on each JWKS request.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Least time between two fetches while none succeeds.
const FAILURE_BACKOFF: Duration = Duration::from_secs(1);

/// The verified claims of a Tessera access token (RFC 9068).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq)]
pub struct Claims {
    /// The user id (`sub`).
    pub sub: String,
    /// The session id (`sid`).
    pub sid: Option<String>,
    /// The issuer (`iss`): the install's base URL.
    pub iss: String,
    /// The audience (`aud`): Tessera issues one, the app id.
    pub aud: Vec<String>,
    /// The app id (`client_id`).
    pub client_id: Option<String>,
    /// The user pool id (`pool`).
    pub pool: Option<String>,
    /// Expiry, Unix seconds (`exp`).
    pub exp: i64,
    /// Issue time, Unix seconds (`iat`).
    pub iat: Option<i64>,
    /// The token id (`jti`).
    pub jti: Option<String>,
    /// Authentication methods, RFC 8176 (`pwd`, `otp`, `hwk`, `swk`, `mfa`).
    pub amr: Vec<String>,
    /// The user's roles in the pool.
    pub roles: Vec<String>,
    /// The user's email, when the token carries it.
    pub email: Option<String>,
    /// Whether that email is verified.
    pub email_verified: Option<bool>,
    /// Every claim as JSON.
    pub raw: Map<String, Value>,
}

impl Claims {
    /// Whether the token grants `role`.
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }
}

type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// Verifies Tessera access tokens for one app. Cheap to clone (an `Arc`
/// inside); make one per process and share it, e.g. in axum state.
#[derive(Clone)]
pub struct Verifier {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("issuer", &self.inner.issuer)
            .field("audience", &self.inner.audience)
            .field("jwks_url", &self.inner.jwks_url)
            .finish_non_exhaustive()
    }
}

struct Inner {
    issuer: String,
    audience: String,
    jwks_url: String,
    leeway: i64,
    cooldown: Duration,
    max_age: Duration,
    timeout: Duration,
    clock: Clock,
    http: reqwest::Client,
    cache: RwLock<Cache>,
    fetch_lock: tokio::sync::Mutex<()>,
}

struct Key {
    alg: Algorithm,
    key: DecodingKey,
}

#[derive(Default)]
struct Cache {
    keys: Option<HashMap<String, Arc<Key>>>,
    fetched_at: Option<Instant>,
    last_refetch: Option<Instant>,
    last_failure: Option<Instant>,
}

impl Cache {
    fn fresh(&self, max_age: Duration) -> bool {
        self.keys.is_some() && self.fetched_at.is_some_and(|t| t.elapsed() < max_age)
    }
    fn get(&self, kid: &str) -> Option<Arc<Key>> {
        self.keys.as_ref()?.get(kid).cloned()
    }
}

/// Builds a [`Verifier`] with non-default settings.
#[must_use]
pub struct VerifierBuilder {
    base_url: String,
    audience: String,
    issuer: Option<String>,
    leeway: Duration,
    cooldown: Duration,
    max_age: Duration,
    timeout: Duration,
    clock: Option<Clock>,
    http: Option<reqwest::Client>,
}

impl VerifierBuilder {
    /// The expected `iss`; default: the base URL without a trailing slash,
    /// which is what Tessera issues.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }
    /// Clock-skew leeway on `exp` and `nbf`; default 30 s.
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }
    /// Least time between two refetches caused by unknown key ids; default 30 s.
    pub fn refetch_cooldown(mut self, cooldown: Duration) -> Self {
        self.cooldown = cooldown;
        self
    }
    /// How long a fetched JWKS is used before it is refreshed; default 1 h.
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }
    /// Bound on each JWKS request; default 10 s.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
    /// The time source for `exp` and `nbf`, in Unix seconds (tests use a
    /// fixed time); default the system clock.
    pub fn clock(mut self, now: impl Fn() -> i64 + Send + Sync + 'static) -> Self {
        self.clock = Some(Arc::new(now));
        self
    }
    /// The HTTP client that fetches the JWKS.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }
    /// The verifier.
    pub fn build(self) -> Verifier {
        let base = self.base_url.trim_end_matches('/').to_owned();
        Verifier {
            inner: Arc::new(Inner {
                issuer: self.issuer.unwrap_or_else(|| base.clone()),
                audience: self.audience,
                jwks_url: format!("{base}/.well-known/jwks.json"),
                leeway: i64::try_from(self.leeway.as_secs()).unwrap_or(i64::MAX),
                cooldown: self.cooldown,
                max_age: self.max_age,
                timeout: self.timeout,
                clock: self.clock.unwrap_or_else(|| Arc::new(system_now)),
                http: self.http.unwrap_or_default(),
                cache: RwLock::new(Cache::default()),
                fetch_lock: tokio::sync::Mutex::new(()),
            }),
        }
    }
}

fn system_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    kid: Option<String>,
    typ: Option<String>,
}

fn malformed(message: &'static str) -> Error {
    Error::new(ErrorKind::Malformed, message)
}

impl Verifier {
    /// Verifies tokens issued by the Tessera install at `base_url` for the
    /// app whose id is `audience`, with the default settings. The JWKS is
    /// fetched from `{base_url}/.well-known/jwks.json` on first use.
    pub fn new(base_url: impl Into<String>, audience: impl Into<String>) -> Self {
        Self::builder(base_url, audience).build()
    }

    /// A builder to change the settings of [`Verifier::new`].
    pub fn builder(base_url: impl Into<String>, audience: impl Into<String>) -> VerifierBuilder {
        VerifierBuilder {
            base_url: base_url.into(),
            audience: audience.into(),
            issuer: None,
            leeway: DEFAULT_LEEWAY,
            cooldown: DEFAULT_REFETCH_COOLDOWN,
            max_age: DEFAULT_MAX_AGE,
            timeout: DEFAULT_TIMEOUT,
            clock: None,
            http: None,
        }
    }

    /// Checks `token`'s signature against the JWKS and its `typ`, `iss`,
    /// `aud`, `exp` and `nbf`, and returns its claims.
    pub async fn verify(&self, token: &str) -> Result<Claims> {
        let inner = &*self.inner;
        let mut parts = token.split('.');
        let (Some(head), Some(_), Some(_), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed("a JWT has three parts"));
        };
        let head = URL_SAFE_NO_PAD
            .decode(head)
            .map_err(|_| malformed("the header is not base64url"))?;
        let header: Header =
            serde_json::from_slice(&head).map_err(|_| malformed("the header is not JSON"))?;
        let alg = match header.alg.as_str() {
            "EdDSA" => Algorithm::EdDSA,
            "ES256" => Algorithm::ES256,
            "RS256" => Algorithm::RS256,
            _ => {
                return Err(Error::new(
                    ErrorKind::UnsupportedAlgorithm,
                    "only EdDSA, ES256 and RS256 are accepted",
                ));
            }
        };
        let typ_ok = header.typ.as_deref().is_some_and(|t| {
            t.eq_ignore_ascii_case("at+jwt") || t.eq_ignore_ascii_case("application/at+jwt")
        });
        if !typ_ok {
            return Err(Error::new(
                ErrorKind::InvalidTokenType,
                "typ is not at+jwt: not an access token",
            ));
        }
        let kid = header
            .kid
            .ok_or_else(|| malformed("no kid in the header"))?;
        let key = self.key(&kid).await?;
        if key.alg != alg {
            return Err(Error::new(
                ErrorKind::UnsupportedAlgorithm,
                "alg is not the algorithm of the key",
            ));
        }

        // Signature only: the claims are checked below against our clock.
        let mut validation = Validation::new(key.alg);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key.key, &validation)
            .map_err(|e| {
                use jsonwebtoken::errors::ErrorKind as K;
                match e.kind() {
                    K::InvalidSignature => {
                        Error::new(ErrorKind::InvalidSignature, "signature does not match")
                    }
                    K::InvalidAlgorithm | K::UnsupportedAlgorithm => {
                        Error::new(ErrorKind::UnsupportedAlgorithm, "")
                    }
                    _ => Error::new(ErrorKind::Malformed, "").with_source(e),
                }
            })?;
        check_claims(inner, data.claims)
    }

    /// [`verify`](Self::verify) for code that only needs "authenticated or
    /// not": `None` for a missing (empty) or refused token.
    pub async fn verify_or_none(&self, token: &str) -> Option<Claims> {
        if token.is_empty() {
            return None;
        }
        self.verify(token).await.ok()
    }

    /// The key named `kid`, fetching the JWKS when needed.
    async fn key(&self, kid: &str) -> Result<Arc<Key>> {
        let inner = &*self.inner;
        {
            let cache = inner.cache.read().expect("cache lock");
            if cache.fresh(inner.max_age)
                && let Some(key) = cache.get(kid)
            {
                return Ok(key);
            }
        }
        let _one_fetch = inner.fetch_lock.lock().await;
        // Another task may have fetched while this one waited.
        let (loaded, fresh, last_refetch, last_failure) = {
            let cache = inner.cache.read().expect("cache lock");
            if cache.fresh(inner.max_age)
                && let Some(key) = cache.get(kid)
            {
                return Ok(key);
            }
            (
                cache.keys.is_some(),
                cache.fresh(inner.max_age),
                cache.last_refetch,
                cache.last_failure,
            )
        };
        if last_failure.is_some_and(|t| t.elapsed() < FAILURE_BACKOFF) {
            // A fetch just failed: do not retry at once.
        } else if !loaded || !fresh {
            self.fetch(false).await;
        } else if last_refetch.is_none_or(|t| t.elapsed() >= inner.cooldown) {
            self.fetch(true).await;
        }
        let cache = inner.cache.read().expect("cache lock");
        match (&cache.keys, cache.get(kid)) {
            (_, Some(key)) => Ok(key),
            (None, _) => Err(Error::new(
                ErrorKind::JwksUnavailable,
                format!("could not fetch {}", inner.jwks_url),
            )),
            (Some(_), None) => Err(Error::new(ErrorKind::UnknownKey, "kid is not in the JWKS")),
        }
    }

    /// Fetches the JWKS; on failure the old keys stay.
    async fn fetch(&self, unknown_kid: bool) {
        let inner = &*self.inner;
        let result = load(inner).await;
        let mut cache = inner.cache.write().expect("cache lock");
        let now = Instant::now();
        if unknown_kid {
            cache.last_refetch = Some(now);
        }
        match result {
            Ok(keys) => {
                cache.keys = Some(keys);
                cache.fetched_at = Some(now);
                cache.last_failure = None;
            }
            Err(_) => cache.last_failure = Some(now),
        }
    }
}

async fn load(inner: &Inner) -> Result<HashMap<String, Arc<Key>>, reqwest::Error> {
    let set: JwkSet = inner
        .http
        .get(&inner.jwks_url)
        .timeout(inner.timeout)
        .header(http::header::ACCEPT, "application/json")
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(set
        .keys
        .into_iter()
        .filter_map(|v| serde_json::from_value::<Jwk>(v).ok())
        .filter_map(|jwk| jwk.into_key())
        .collect())
}

#[derive(Deserialize)]
struct JwkSet {
    keys: Vec<Value>,
}

#[derive(Deserialize)]
struct Jwk {
    kty: String,
    kid: String,
    alg: Option<String>,
    #[serde(rename = "use")]
    use_: Option<String>,
    crv: Option<String>,
    x: Option<String>,
    y: Option<String>,
    n: Option<String>,
    e: Option<String>,
}

impl Jwk {
    /// The key and its algorithm, or `None` for a key this SDK does not
    /// accept (skipped, so one odd key does not disable the rest). A key
    /// without `alg` gets the one algorithm its type allows here.
    fn into_key(self) -> Option<(String, Arc<Key>)> {
        if self.use_.as_deref().is_some_and(|u| u != "sig") {
            return None;
        }
        let alg = self.alg.as_deref();
        let crv = self.crv.as_deref();
        let (alg, key) = match self.kty.as_str() {
            "OKP" if matches!(alg, None | Some("EdDSA")) && crv == Some("Ed25519") => {
                let x = self.x?;
                (URL_SAFE_NO_PAD.decode(&x).ok()?.len() == 32).then_some(())?;
                (Algorithm::EdDSA, DecodingKey::from_ed_components(&x).ok()?)
            }
            "EC" if matches!(alg, None | Some("ES256")) && crv == Some("P-256") => (
                Algorithm::ES256,
                DecodingKey::from_ec_components(&self.x?, &self.y?).ok()?,
            ),
            "RSA" if matches!(alg, None | Some("RS256")) => (
                Algorithm::RS256,
                DecodingKey::from_rsa_components(&self.n?, &self.e?).ok()?,
            ),
            _ => return None,
        };
        Some((self.kid, Arc::new(Key { alg, key })))
    }
}

fn numeric_date(v: Option<&Value>) -> Option<i64> {
    let v = v?;
    v.as_i64().or_else(|| v.as_f64().map(|f| f.floor() as i64))
}

fn string(raw: &Map<String, Value>, name: &str) -> Option<String> {
    raw.get(name).and_then(Value::as_str).map(str::to_owned)
}

fn strings(raw: &Map<String, Value>, name: &str) -> Vec<String> {
    match raw.get(name) {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

fn check_claims(inner: &Inner, raw: Map<String, Value>) -> Result<Claims> {
    let iss = string(&raw, "iss").unwrap_or_default();
    if iss != inner.issuer {
        return Err(Error::new(
            ErrorKind::InvalidIssuer,
            format!("iss is not {:?}", inner.issuer),
        ));
    }
    let aud = strings(&raw, "aud");
    if !aud.contains(&inner.audience) {
        return Err(Error::new(
            ErrorKind::InvalidAudience,
            format!("aud does not contain {:?}", inner.audience),
        ));
    }
    let now = (inner.clock)();
    let exp = numeric_date(raw.get("exp")).ok_or_else(|| malformed("exp is missing"))?;
    if now > exp.saturating_add(inner.leeway) {
        return Err(Error::new(ErrorKind::Expired, "the token has expired"));
    }
    if let Some(nbf) = raw.get("nbf") {
        let nbf = numeric_date(Some(nbf)).ok_or_else(|| malformed("nbf is not a number"))?;
        if nbf > now.saturating_add(inner.leeway) {
            return Err(Error::new(
                ErrorKind::NotYetValid,
                "the token is not valid yet",
            ));
        }
    }
    let sub = string(&raw, "sub")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| malformed("sub is missing"))?;
    Ok(Claims {
        sub,
        sid: string(&raw, "sid"),
        iss,
        aud,
        client_id: string(&raw, "client_id"),
        pool: string(&raw, "pool"),
        exp,
        iat: numeric_date(raw.get("iat")),
        jti: string(&raw, "jti"),
        amr: strings(&raw, "amr"),
        roles: strings(&raw, "roles"),
        email: string(&raw, "email"),
        email_verified: raw.get("email_verified").and_then(Value::as_bool),
        raw,
    })
}
