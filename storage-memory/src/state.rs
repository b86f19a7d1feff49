//! The maps behind a [`MemoryStore`](crate::MemoryStore): one field per
//! table, all behind the store's single mutex.
//!
//! Each trait file reads and writes these fields directly and adds, in its
//! own `impl State` block, the few lookups other files share (the user of an
//! id, a session with its user, a token insert). Indexes that a database
//! would keep (email → user, token hash → session) are fields here, kept in
//! step by the methods that write the rows they index.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use tessera_core::crypto::TokenHash;
use tessera_core::model::*;
use tessera_core::{Error, ErrorKind};
use uuid::Uuid;

/// Every row of the store. Ordered maps where a list is ordered by id.
#[derive(Default)]
pub(crate) struct State {
    pub(crate) pools: BTreeMap<Uuid, Pool>,
    pub(crate) apps: BTreeMap<Uuid, App>,
    pub(crate) users: BTreeMap<Uuid, User>,
    /// (pool, normalised email) → user id.
    pub(crate) emails: HashMap<(Uuid, String), Uuid>,
    pub(crate) credentials: BTreeMap<Uuid, Credential>,
    pub(crate) identities: BTreeMap<Uuid, Identity>,
    pub(crate) sessions: BTreeMap<Uuid, Session>,
    /// Session token hash → session id.
    pub(crate) session_tokens: HashMap<TokenHash, Uuid>,
    pub(crate) refresh_tokens: HashMap<TokenHash, RefreshToken>,
    pub(crate) tokens: HashMap<TokenHash, OneTimeToken>,
    pub(crate) keys: Vec<SigningKey>,
    pub(crate) audit: BTreeMap<Uuid, AuditEvent>,
    pub(crate) throttles: HashMap<String, Throttle>,
    /// Rate-limit key → the hits in its current window.
    pub(crate) windows: HashMap<String, Window>,
    pub(crate) api_keys: BTreeMap<Uuid, ApiKey>,
    pub(crate) outbox: BTreeMap<Uuid, OutboxMail>,
    /// (app, name) → provider configuration.
    pub(crate) oauth_providers: BTreeMap<(Uuid, String), OAuthProviderRecord>,
    pub(crate) webhook_endpoints: BTreeMap<Uuid, WebhookEndpoint>,
    pub(crate) webhook_deliveries: BTreeMap<Uuid, WebhookDelivery>,
}

/// The current fixed window of one rate-limit key.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Window {
    pub(crate) hits: u32,
    pub(crate) ends_at: DateTime<Utc>,
}

/// `NotFound`, for a row that is not there.
pub(crate) fn not_found() -> Error {
    Error::new(ErrorKind::NotFound)
}
