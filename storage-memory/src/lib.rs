//! Tessera's in-process store: every store trait over plain maps.
//!
//! For tests, examples and ephemeral embedding (`memory://`). All state sits
//! behind one mutex that is held only for the few map operations of a single
//! store call and never across an `.await`, which makes every method trivially
//! atomic: the same guarantees the SQL backends get from constraints and
//! transactions, held to the same conformance suite. Nothing is persisted.
//!
//! One file per store trait, named as the conformance cases are (`users.rs`,
//! `sessions.rs`, `one_time.rs`, …); the maps themselves are in `state.rs`.

mod api_keys;
mod apps;
mod audit;
mod credentials;
mod identities;
mod keys;
mod mail;
mod oauth_providers;
mod one_time;
mod sessions;
mod state;
mod throttles;
mod users;
mod webhook_deliveries;
mod webhook_endpoints;

use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use tessera_core::Result;
use tessera_core::store::*;

use crate::state::State;

/// The in-memory store. `Arc::new(MemoryStore::new())` is an `Arc<dyn Store>`.
#[derive(Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore").finish_non_exhaustive()
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        MemoryStore::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave a half-done write: each
        // method checks everything before it mutates anything.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl Store for MemoryStore {
    fn apps(&self) -> &dyn AppStore {
        self
    }
    fn users(&self) -> &dyn UserStore {
        self
    }
    fn credentials(&self) -> &dyn CredentialStore {
        self
    }
    fn identities(&self) -> &dyn IdentityStore {
        self
    }
    fn sessions(&self) -> &dyn SessionStore {
        self
    }
    fn tokens(&self) -> &dyn OneTimeTokenStore {
        self
    }
    fn keys(&self) -> &dyn KeyStore {
        self
    }
    fn audit(&self) -> &dyn AuditStore {
        self
    }
    fn throttles(&self) -> &dyn ThrottleStore {
        self
    }
    fn api_keys(&self) -> &dyn ApiKeyStore {
        self
    }
    fn mail(&self) -> &dyn MailOutboxStore {
        self
    }
    fn oauth_providers(&self) -> &dyn OAuthProviderStore {
        self
    }
    fn webhook_endpoints(&self) -> &dyn WebhookEndpointStore {
        self
    }
    fn webhook_deliveries(&self) -> &dyn WebhookDeliveryStore {
        self
    }
    fn backend(&self) -> &'static str {
        "memory"
    }
    async fn ping(&self) -> Result<()> {
        Ok(())
    }
}
