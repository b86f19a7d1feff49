//! Access tokens (RFC 9068 JWTs), token signing keys and the JWKS.
//!
//! Keys are generated on first use, sealed under the key-encryption key with
//! the key id as associated data, and rotated additively: a retired key stays
//! in the JWKS until every token it signed has expired. The active key is
//! looked up on every issuance (one small read), so a rotation by any process
//! applies at once; its decrypted form and the verifiers are cached, and
//! losing the cache only costs a store read, so instances stay stateless.
//!
//! **Verifying a key id the cache does not know.** Another instance may have
//! just rotated, so the store is asked — never a cached "no" for a key that
//! may exist (issue 14, item 5). To keep tokens with forged key ids from
//! turning into store reads, the lookups are single-flight (one reload at a
//! time; everyone who asked before a reload started uses its result), at most
//! one every [`MIN_RELOAD_GAP`], and a key id the store did not have is
//! remembered as missing (key ids are random, so a real key never has an id
//! that was presented before it existed).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::audit::{EventKind, Subject};
use crate::crypto::{KeyMaterial, b64url, decoding_key, jwt_algorithm, random_bytes};
use crate::model::{App, Session, SigningAlg, SigningKey, User};
use crate::{Error, ErrorKind, Inner, Result};

/// How long the set of published verifiers is trusted (an unknown `kid`
/// reloads it sooner).
const CACHE_TTL: Duration = Duration::seconds(60);
/// Least time between two reloads of the verifiers from the store.
const MIN_RELOAD_GAP: std::time::Duration = std::time::Duration::from_millis(50);
/// How long a key id the store did not have is refused without asking again.
const MISSING_TTL: Duration = Duration::minutes(10);
/// Most key ids remembered as missing (the list is emptied when full).
const MAX_MISSING: usize = 4096;
/// Clock skew allowed when verifying `exp` and `nbf`.
pub(crate) const LEEWAY_SECS: u64 = 30;

/// The claims of a Tessera access token (RFC 9068).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// Issuer: the install's base URL.
    pub iss: String,
    /// Subject: the user id.
    pub sub: String,
    /// Audience: the app id.
    pub aud: String,
    /// The app id again, as RFC 9068 asks.
    pub client_id: String,
    /// Expiry (Unix seconds).
    pub exp: i64,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Not before (Unix seconds).
    pub nbf: i64,
    /// Unique token id.
    pub jti: String,
    /// Session id.
    pub sid: String,
    /// Pool id.
    pub pool: String,
    /// Authentication methods (RFC 8176).
    pub amr: Vec<String>,
    /// Roles, when the user has any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    /// The user's email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Whether the email is verified.
    #[serde(default)]
    pub email_verified: bool,
}

struct ActiveKey {
    kid: String,
    alg: SigningAlg,
    key: EncodingKey,
}

type Verifier = (Arc<DecodingKey>, SigningAlg);

#[derive(Default)]
struct Verifiers {
    keys: HashMap<String, Verifier>,
    loaded_at: Option<DateTime<Utc>>,
    /// The number of the reload these keys come from (0: none yet).
    generation: u64,
    /// Key ids the store did not have, and when that was found.
    missing: HashMap<String, DateTime<Utc>>,
}

/// Per-instance cache of the active signing key and the published verifiers.
#[derive(Default)]
pub(crate) struct KeyCache {
    active: RwLock<Option<Arc<ActiveKey>>>,
    verifiers: RwLock<Verifiers>,
    /// Held while reloading the verifiers (one reload at a time); when the
    /// last one started.
    reload: tokio::sync::Mutex<Option<tokio::time::Instant>>,
    /// How many reloads have started.
    reloads: AtomicU64,
}

impl KeyCache {
    fn clear(&self) {
        *self.active.write().unwrap_or_else(|e| e.into_inner()) = None;
        // Generation 0: whoever waits for a reload does one.
        *self.verifiers.write().unwrap_or_else(|e| e.into_inner()) = Verifiers::default();
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Verifiers> {
        self.verifiers.read().unwrap_or_else(|e| e.into_inner())
    }
}

/// Access tokens and signing keys; see [`crate::Tessera::tokens`].
pub struct Tokens<'a> {
    inner: &'a Inner,
}

fn aad(kid: &str) -> Vec<u8> {
    format!("tessera/signing-key/{kid}").into_bytes()
}

impl<'a> Tokens<'a> {
    pub(crate) fn new(inner: &'a Inner) -> Self {
        Tokens { inner }
    }

    fn new_key(&self, alg: SigningAlg, now: DateTime<Utc>) -> Result<SigningKey> {
        let material = KeyMaterial::generate(alg)?;
        let kid = b64url(&random_bytes::<12>());
        let sealed = self
            .inner
            .keyring
            .seal(material.private_der(), &aad(&kid))?;
        Ok(SigningKey {
            public_jwk: material.public_jwk(&kid).to_string(),
            kid,
            alg,
            private_key_sealed: sealed,
            created_at: now,
            retired_at: None,
            publish_until: None,
        })
    }

    async fn active_key(&self) -> Result<Arc<ActiveKey>> {
        // One small read per token issued, so a rotation by any process takes
        // effect at once; the decrypted key is reused while it stays active.
        let keys = self.inner.store.keys().list_signing_keys().await?;
        let stored = match keys.into_iter().rev().find(|k| k.retired_at.is_none()) {
            Some(k) => k,
            None => {
                let key = self.new_key(self.inner.signing_alg, self.inner.now())?;
                self.inner
                    .store
                    .keys()
                    .insert_first_signing_key(&key)
                    .await?
            }
        };
        if let Some(k) = self
            .inner
            .key_cache
            .active
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            && k.kid == stored.kid
        {
            return Ok(k.clone());
        }
        let der = self
            .inner
            .keyring
            .open(&stored.private_key_sealed, &aad(&stored.kid))?;
        let material = KeyMaterial::from_private_der(stored.alg, der)?;
        let active = Arc::new(ActiveKey {
            kid: stored.kid,
            alg: stored.alg,
            key: material.encoding_key(),
        });
        *self
            .inner
            .key_cache
            .active
            .write()
            .unwrap_or_else(|e| e.into_inner()) = Some(active.clone());
        Ok(active)
    }

    /// The id of the key new tokens are signed with (generating it on first use).
    pub async fn current_kid(&self) -> Result<String> {
        Ok(self.active_key().await?.kid.clone())
    }

    /// The published key set: `{"keys": [...]}` with every key whose tokens may
    /// still be live.
    pub async fn jwks(&self) -> Result<Value> {
        let now = self.inner.now();
        let mut keys = self.inner.store.keys().list_signing_keys().await?;
        if !keys.iter().any(|k| k.retired_at.is_none()) {
            // First use: make the key there is to publish.
            self.active_key().await?;
            keys = self.inner.store.keys().list_signing_keys().await?;
        }
        let published = keys
            .iter()
            .filter(|k| k.is_published(now))
            .map(|k| serde_json::from_str::<Value>(&k.public_jwk).map_err(Error::internal))
            .collect::<Result<Vec<_>>>()?;
        Ok(json!({ "keys": published }))
    }

    /// Rotate: generate a new key (of `alg`, or the configured default) and make
    /// it the signing key. The old key stays published until every token it
    /// signed has expired. Returns the new key id.
    pub async fn rotate(&self, alg: Option<SigningAlg>) -> Result<String> {
        let now = self.inner.now();
        let alg = alg.unwrap_or(self.inner.signing_alg);
        let key = self.new_key(alg, now)?;
        let longest_ttl = self
            .inner
            .store
            .apps()
            .list_apps(None)
            .await?
            .iter()
            .map(|a| a.settings.access_token_ttl_secs)
            .max()
            .unwrap_or(24 * 3600);
        // A token signed just before the rotation lives `longest_ttl` more, and
        // verifiers allow clock skew: cover both.
        let publish_until =
            now + Duration::seconds(longest_ttl) + Duration::seconds(2 * LEEWAY_SECS as i64);
        let event = crate::Audit::new(self.inner).event(
            EventKind::SigningKeyRotated,
            Subject::default(),
            json!({"kid": key.kid, "alg": alg.as_str()}),
        );
        self.inner
            .store
            .keys()
            .rotate_signing_key(&key, now, publish_until, &[event])
            .await?;
        self.inner.key_cache.clear();
        Ok(key.kid)
    }

    /// Sign an access token for `session`; returns the token and its lifetime in seconds.
    pub(crate) async fn issue(
        &self,
        app: &App,
        session: &Session,
        user: &User,
    ) -> Result<(String, i64)> {
        let key = self.active_key().await?;
        let now = self.inner.now();
        let ttl = app.settings.access_token_ttl_secs;
        let claims = AccessClaims {
            iss: self.inner.issuer.clone(),
            sub: user.id.to_string(),
            aud: app.id.to_string(),
            client_id: app.id.to_string(),
            exp: now.timestamp() + ttl,
            iat: now.timestamp(),
            nbf: now.timestamp(),
            jti: b64url(&random_bytes::<16>()),
            sid: session.id.to_string(),
            pool: user.pool_id.to_string(),
            amr: session.amr.clone(),
            roles: Vec::new(),
            email: Some(user.email.clone()),
            email_verified: user.email_verified,
        };
        let mut header = Header::new(jwt_algorithm(key.alg));
        header.typ = Some("at+jwt".into());
        header.kid = Some(key.kid.clone());
        let token = jsonwebtoken::encode(&header, &claims, &key.key).map_err(Error::internal)?;
        Ok((token, ttl))
    }

    async fn verifier(&self, kid: &str) -> Result<Option<Verifier>> {
        let now = self.inner.now();
        let cache = &self.inner.key_cache;
        {
            let v = cache.read();
            match v.keys.get(kid) {
                Some(found) if v.loaded_at.is_some_and(|t| now - t < CACHE_TTL) => {
                    return Ok(Some(found.clone()));
                }
                None if v.missing.get(kid).is_some_and(|t| now - *t < MISSING_TTL) => {
                    return Ok(None);
                }
                _ => {}
            }
        }
        // Ask the store: any reload that starts from now on will do.
        let asked = cache.reloads.load(Ordering::Acquire);
        let mut last = cache.reload.lock().await;
        let reused = {
            let v = cache.read();
            // Someone else reloaded after we asked: their answer holds.
            (v.generation > asked).then(|| v.keys.get(kid).cloned())
        };
        let found = if let Some(found) = reused {
            found
        } else {
            if let Some(t) = *last {
                tokio::time::sleep_until(t + MIN_RELOAD_GAP).await;
            }
            *last = Some(tokio::time::Instant::now());
            let generation = cache.reloads.fetch_add(1, Ordering::AcqRel) + 1;
            let keys = self.load_verifiers(now).await?;
            let found = keys.get(kid).cloned();
            let mut v = cache.verifiers.write().unwrap_or_else(|e| e.into_inner());
            v.keys = keys;
            v.loaded_at = Some(now);
            v.generation = generation;
            found
        };
        drop(last);
        if found.is_none() {
            let mut v = cache.verifiers.write().unwrap_or_else(|e| e.into_inner());
            if v.missing.len() >= MAX_MISSING {
                v.missing.clear();
            }
            v.missing.insert(kid.to_owned(), now);
        }
        Ok(found)
    }

    /// The verifiers of every published key, from the store.
    async fn load_verifiers(&self, now: DateTime<Utc>) -> Result<HashMap<String, Verifier>> {
        let mut keys = HashMap::new();
        for k in self.inner.store.keys().list_signing_keys().await? {
            if !k.is_published(now) {
                continue;
            }
            let jwk: Value = serde_json::from_str(&k.public_jwk).map_err(Error::internal)?;
            let (dk, alg) = decoding_key(&jwk)?;
            keys.insert(k.kid.clone(), (Arc::new(dk), alg));
        }
        Ok(keys)
    }

    /// Verify an access token's signature (against a published key, with the
    /// algorithm that key was made for), `typ`, issuer, expiry and, when given,
    /// audience. Stateless: it does not check whether the session was revoked
    /// (see [`crate::Sessions::validate_access_token`] for that).
    pub async fn verify(&self, token: &str, audience: Option<&str>) -> Result<AccessClaims> {
        let invalid = || Error::new(ErrorKind::InvalidToken);
        if token.len() > 8 * 1024 {
            return Err(invalid());
        }
        let header = jsonwebtoken::decode_header(token).map_err(|_| invalid())?;
        if header.typ.as_deref() != Some("at+jwt") {
            return Err(invalid());
        }
        let kid = header.kid.ok_or_else(invalid)?;
        let (key, alg) = self.verifier(&kid).await?.ok_or_else(invalid)?;
        if jwt_algorithm(alg) != header.alg {
            return Err(invalid());
        }
        let mut validation = Validation::new(jwt_algorithm(alg));
        validation.leeway = LEEWAY_SECS;
        validation.set_issuer(&[&self.inner.issuer]);
        validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
        match audience {
            Some(aud) => validation.set_audience(&[aud]),
            None => validation.validate_aud = false,
        }
        // jsonwebtoken checks exp and nbf against the system clock; check
        // against ours below.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        let data = jsonwebtoken::decode::<AccessClaims>(token, &key, &validation)
            .map_err(|_| invalid())?;
        let now = self.inner.now().timestamp();
        let claims = data.claims;
        if claims.exp + LEEWAY_SECS as i64 <= now {
            return Err(Error::new(ErrorKind::TokenExpired));
        }
        if claims.nbf > now + LEEWAY_SECS as i64 {
            return Err(invalid());
        }
        Ok(claims)
    }
}
