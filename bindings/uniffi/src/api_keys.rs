//! Admin API keys: the key record and the methods that create, check,
//! list and revoke keys.

use std::time::SystemTime;

use tessera_bindings_common::api_keys;
use tessera_core::model;

use crate::Tessera;
use crate::convert::{chrono_time, parse_id};

crate::mirror! {
    /// An admin API key (without its secret).
    #[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
    pub struct ApiKey from model::ApiKey {
        /// Unique id.
        pub id: String,
        /// A label for people.
        pub name: String,
        /// The first characters of the key (`tsk_AbCd`).
        pub hint: String,
        /// What the key may do (`admin`, `users:read`, …).
        pub scopes: Vec<String>,
        /// When it was created.
        pub created_at: SystemTime,
        /// When it was last used (updated at most once a minute).
        pub last_used_at: Option<SystemTime>,
        /// When it stops working, if ever.
        pub expires_at: Option<SystemTime>,
        /// When it was revoked.
        pub revoked_at: Option<SystemTime>,
    }
}

crate::mirror! {
    /// A key just created: the secret is here and nowhere else, ever.
    /// `toString()` does not show it.
    #[derive(Clone, PartialEq, Eq, uniffi::Record)]
    #[uniffi::export(Debug)]
    pub struct CreatedApiKey from tessera_core::CreatedApiKey {
        /// The stored record.
        pub key: ApiKey,
        /// The secret (`tsk_…`), shown once.
        pub secret: String,
    }
}

impl std::fmt::Debug for CreatedApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedApiKey")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

crate::exports! {
    /// Create an admin API key with `scopes` (`admin`, `users:read`,
    /// `users:write`, `apps:read`, `apps:write`, `audit:read`). The secret is
    /// in the result and nowhere else.
    fn create_api_key(name: String, scopes: Vec<String>, expires_at: Option<SystemTime>) -> CreatedApiKey
        [expires_at = None]
        |core| api_keys::create(core, &name, &scopes, expires_at.map(chrono_time));

    /// The live key for `secret`, checked to carry `scope` (or `admin`).
    ///
    /// Errors: `unauthenticated` (unknown, revoked or expired), `forbidden`.
    fn authenticate_api_key(secret: String, scope: String) -> ApiKey
        |core| api_keys::authenticate(core, &secret, &scope);

    /// All API keys (without secrets), oldest first.
    fn list_api_keys() -> Vec<ApiKey>
        |core| api_keys::list(core);

    /// Revoke an API key (idempotent).
    fn revoke_api_key(id: String) -> ()
        |core| api_keys::revoke(core, parse_id("id", &id)?);
}
