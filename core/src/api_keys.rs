//! API keys for the admin API (`tsk_…`): created with scopes, shown once,
//! stored as hashes, revocable.
//!
//! `TESSERA_ADMIN_API_KEY` bootstraps the first key: [`ApiKeys::bootstrap`]
//! stores the hash of a key the operator chose, idempotently, so every
//! instance can be started with the same variable.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use uuid::Uuid;

use crate::audit::{EventKind, Subject};
use crate::crypto::{TokenHash, check_token_format, generate_token, prefix};
use crate::model::{ApiKey, NewEvent};
use crate::validate::check_label;
use crate::{Audit, Error, ErrorKind, Inner, Result, new_id};

/// The scope that allows everything.
pub const SCOPE_ADMIN: &str = "admin";

/// Scopes a key may carry.
pub const SCOPES: &[&str] = &[
    SCOPE_ADMIN,
    "users:read",
    "users:write",
    "apps:read",
    "apps:write",
    "audit:read",
    "webhooks:read",
    "webhooks:write",
];

/// `last_used_at` is written at most this often.
const TOUCH_EVERY: Duration = Duration::seconds(60);

/// API keys; see [`crate::Tessera::api_keys`].
pub struct ApiKeys<'a> {
    inner: &'a Inner,
}

/// A key just created: the secret is here and nowhere else, ever.
#[derive(Clone)]
pub struct CreatedApiKey {
    /// The stored record.
    pub key: ApiKey,
    /// The secret (`tsk_…`), shown once.
    pub secret: String,
}

impl std::fmt::Debug for CreatedApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedApiKey")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

fn hint(secret: &str) -> String {
    secret.chars().take(prefix::API_KEY.len() + 4).collect()
}

impl<'a> ApiKeys<'a> {
    pub(crate) fn new(inner: &'a Inner) -> Self {
        ApiKeys { inner }
    }

    /// Create a key with `scopes` (each one of [`SCOPES`]).
    pub async fn create(
        &self,
        name: &str,
        scopes: &[String],
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<CreatedApiKey> {
        check_label("name", name)?;
        if scopes.is_empty() || scopes.iter().any(|s| !SCOPES.contains(&s.as_str())) {
            return Err(Error::invalid(
                "scopes",
                format!("scopes must be some of {}", SCOPES.join(", ")),
            ));
        }
        let (secret, hash) = generate_token(prefix::API_KEY);
        let now = self.inner.now();
        let key = ApiKey {
            id: new_id(now),
            name: name.to_owned(),
            hash,
            hint: hint(&secret),
            scopes: scopes.to_vec(),
            created_at: now,
            last_used_at: None,
            expires_at,
            revoked_at: None,
        };
        let event = self.event(EventKind::ApiKeyCreated, &key);
        self.inner
            .store
            .api_keys()
            .insert_api_key(&key, &[event])
            .await?;
        Ok(CreatedApiKey { key, secret })
    }

    /// Make sure the operator-chosen `secret` works as an admin key (idempotent).
    pub async fn bootstrap(&self, secret: &str) -> Result<ApiKey> {
        check_token_format(secret, prefix::API_KEY).map_err(|_| {
            Error::config(
                "TESSERA_ADMIN_API_KEY must look like tsk_ followed by 43 base64url characters",
            )
        })?;
        let hash = TokenHash::of(secret);
        if let Some(k) = self.inner.store.api_keys().find_api_key(&hash).await? {
            return Ok(k);
        }
        let now = self.inner.now();
        let key = ApiKey {
            id: new_id(now),
            name: "bootstrap (TESSERA_ADMIN_API_KEY)".into(),
            hash,
            hint: hint(secret),
            scopes: vec![SCOPE_ADMIN.into()],
            created_at: now,
            last_used_at: None,
            expires_at: None,
            revoked_at: None,
        };
        let event = self.event(EventKind::ApiKeyCreated, &key);
        match self
            .inner
            .store
            .api_keys()
            .insert_api_key(&key, &[event])
            .await
        {
            Ok(()) => Ok(key),
            // Another instance bootstrapped it at the same moment.
            Err(e) if *e.kind() == ErrorKind::Conflict => self
                .inner
                .store
                .api_keys()
                .find_api_key(&hash)
                .await?
                .ok_or_else(|| Error::internal("bootstrap key vanished")),
            Err(e) => Err(e),
        }
    }

    /// The live key for `secret`, checked to carry `scope` (or `admin`).
    /// `unauthenticated` for unknown, revoked or expired keys; `forbidden` for
    /// a missing scope.
    pub async fn authenticate(&self, secret: &str, scope: &str) -> Result<ApiKey> {
        check_token_format(secret, prefix::API_KEY)
            .map_err(|_| Error::new(ErrorKind::Unauthenticated))?;
        let now = self.inner.now();
        let key = self
            .inner
            .store
            .api_keys()
            .find_api_key(&TokenHash::of(secret))
            .await?
            .filter(|k| k.is_active(now))
            .ok_or_else(|| Error::new(ErrorKind::Unauthenticated))?;
        if !key.scopes.iter().any(|s| s == SCOPE_ADMIN || s == scope) {
            return Err(Error::new(ErrorKind::Forbidden));
        }
        if key.last_used_at.is_none_or(|t| now - t >= TOUCH_EVERY) {
            self.inner
                .store
                .api_keys()
                .touch_api_key(key.id, now)
                .await?;
        }
        Ok(key)
    }

    /// All keys (without secrets), oldest first.
    pub async fn list(&self) -> Result<Vec<ApiKey>> {
        self.inner.store.api_keys().list_api_keys().await
    }

    /// Revoke a key (idempotent: only the first revocation is an event).
    pub async fn revoke(&self, id: Uuid) -> Result<()> {
        let store = self.inner.store.api_keys();
        let mut key = store
            .list_api_keys()
            .await?
            .into_iter()
            .find(|k| k.id == id)
            .ok_or_else(|| Error::new(ErrorKind::NotFound))?;
        let now = self.inner.now();
        key.revoked_at.get_or_insert(now);
        let event = self.event(EventKind::ApiKeyRevoked, &key);
        store.revoke_api_key(id, now, &[event]).await
    }

    fn event(&self, kind: EventKind, key: &ApiKey) -> NewEvent {
        Audit::new(self.inner).event(
            kind,
            Subject {
                api_key: Some(key),
                ..Default::default()
            },
            json!({ "id": key.id, "name": key.name, "scopes": key.scopes }),
        )
    }
}
