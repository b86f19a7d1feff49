//! The storage traits every backend implements.
//!
//! One trait per aggregate, bundled by [`Store`]; the core holds an
//! `Arc<dyn Store>`. Every invariant that must survive concurrency is a single
//! method that a backend implements atomically (a unique insert, a conditional
//! update, one transaction): the core never reads, decides and writes back.
//! No method leaves a half-done state when it returns an error.
//!
//! **Events.** The audit log is the event log (`docs/events.md`): every
//! method that changes state takes the events that record the change and
//! writes them in the same atomic step, with a delivery for each enabled
//! webhook endpoint that accepts each public event ([`WebhookEndpoint::accepts`]).
//! Either the change, its events and their deliveries are all stored, or none
//! is: an event that cannot be written (a reused id) fails the change. Two
//! forms, by whether the core can know the events before the change:
//!
//! - `events: &[NewEvent]`: written when the method changes something (a
//!   method answering `false` or `NotFound` for "nothing to do" writes none);
//! - `events: EventsOf<'_, T>`: a function the store calls once, inside the
//!   step, with what the change produced (the user after a patch, the
//!   sessions a revocation ended), writing what it returns. It must not
//!   block: it only builds values.
//!
//! Events that record no change (a failed sign-in, a code sent) are plain
//! appends ([`AuditStore::append_event`]).
//!
//! Conventions: `get_*` answers [`ErrorKind::NotFound`](crate::ErrorKind::NotFound)
//! when the row is missing, `find_*` answers `None`. Backends map their native
//! failures to [`ErrorKind`](crate::ErrorKind)s (`EmailTaken`, `IdentityTaken`,
//! `Conflict`, `NotFound`, `Storage`), never to strings. The suite in
//! `tessera_core::conformance` (feature `conformance`) pins the behaviour.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::Result;
use crate::crypto::TokenHash;
use crate::model::*;

/// The events of a change, made from what the change produced (see the
/// module docs).
pub type EventsOf<'a, T> = &'a (dyn Fn(&T) -> Vec<NewEvent> + Send + Sync);

/// The events of a refresh-token rotation, made from what it did (see
/// [`SessionStore::rotate_refresh_token`]).
pub type RotationEvents<'a> =
    &'a (dyn for<'c> Fn(&RotationChange<'c>) -> Vec<NewEvent> + Send + Sync);

/// Pools and apps.
#[async_trait]
pub trait AppStore: Send + Sync {
    /// Insert a pool. `Conflict` if the slug is taken.
    async fn create_pool(&self, pool: &Pool, events: &[NewEvent]) -> Result<()>;
    /// A pool by id.
    async fn get_pool(&self, id: PoolId) -> Result<Pool>;
    /// A pool by slug.
    async fn find_pool_by_slug(&self, slug: &str) -> Result<Option<Pool>>;
    /// All pools, oldest first.
    async fn list_pools(&self) -> Result<Vec<Pool>>;
    /// Insert an app. `Conflict` if the slug is taken, `NotFound` if the pool is missing.
    async fn create_app(&self, app: &App, events: &[NewEvent]) -> Result<()>;
    /// An app by id.
    async fn get_app(&self, id: AppId) -> Result<App>;
    /// An app by slug.
    async fn find_app_by_slug(&self, slug: &str) -> Result<Option<App>>;
    /// Apps (of one pool, or all), oldest first.
    async fn list_apps(&self, pool_id: Option<PoolId>) -> Result<Vec<App>>;
    /// Replace an app's slug, name, settings and `updated_at`.
    /// `NotFound` if missing, `Conflict` if the new slug is taken.
    async fn update_app(&self, app: &App, events: &[NewEvent]) -> Result<()>;
    /// Delete an app, its sessions and its webhook endpoints. `NotFound` if missing.
    async fn delete_app(&self, id: AppId, events: &[NewEvent]) -> Result<()>;
}

/// Users.
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Insert a user, with their first way to sign in if given (a password
    /// credential, or an external identity), in one atomic step. `EmailTaken`
    /// if the pool already has the (normalised) email, `IdentityTaken` if the
    /// identity is linked already; `NotFound` if the pool is missing.
    async fn create_user(
        &self,
        user: &User,
        first: Option<FirstSignIn<'_>>,
        events: &[NewEvent],
    ) -> Result<()>;
    /// A user by id.
    async fn get_user(&self, id: UserId) -> Result<User>;
    /// A user by pool and normalised email.
    async fn find_user_by_email(&self, pool_id: PoolId, email: &str) -> Result<Option<User>>;
    /// A user and their password credential, by pool and normalised email, in
    /// one query (the sign-in lookup).
    async fn find_user_with_password(
        &self,
        pool_id: PoolId,
        email: &str,
    ) -> Result<Option<(User, Option<Credential>)>>;
    /// Users of a pool ordered by id, filtered and paged by `query`.
    async fn list_users(&self, pool_id: PoolId, query: &UserQuery) -> Result<Vec<User>>;
    /// Apply `patch` atomically (fields not in the patch keep their concurrent
    /// value) and return the new user; `events` get the new user. `NotFound`,
    /// or `EmailTaken`.
    async fn update_user(
        &self,
        id: UserId,
        patch: &UserPatch,
        now: DateTime<Utc>,
        events: EventsOf<'_, User>,
    ) -> Result<User>;
    /// Delete one of the user's ways to sign in (a credential or a linked
    /// identity), atomically refusing with `LastSignInMethod` when `keep_one`
    /// is set and the user would be left with no password, no passkey and no
    /// identity (so two concurrent deletions cannot both remove the last two).
    /// `false` if the user has no such credential or identity.
    async fn delete_sign_in_method(
        &self,
        user_id: UserId,
        target: SignInMethodRef,
        keep_one: bool,
        events: &[NewEvent],
    ) -> Result<bool>;
    /// Delete a user and every row keyed to them (credentials, identities,
    /// sessions, refresh tokens, one-time tokens). Audit events are kept.
    /// `NotFound` if missing.
    async fn delete_user(&self, id: UserId, events: &[NewEvent]) -> Result<()>;
}

/// Credentials: passwords, TOTP secrets, passkeys, recovery codes.
#[async_trait]
pub trait CredentialStore: Send + Sync {
    /// Set the user's password hash, replacing any previous one. `NotFound` if
    /// the user is missing.
    async fn set_password(
        &self,
        user_id: UserId,
        phc: &str,
        now: DateTime<Utc>,
        events: &[NewEvent],
    ) -> Result<()>;
    /// Insert a credential. `NotFound` if the user is missing; `Conflict` if the id exists
    /// or it is a second password.
    async fn insert_credential(&self, credential: &Credential, events: &[NewEvent]) -> Result<()>;
    /// A user's credentials, of one kind or all, oldest first.
    async fn list_credentials(
        &self,
        user_id: UserId,
        kind: Option<CredentialKind>,
    ) -> Result<Vec<Credential>>;
    /// Replace a credential's secret, data and name. `NotFound` unless it is the user's.
    async fn update_credential(&self, credential: &Credential, events: &[NewEvent]) -> Result<()>;
    /// Record a use of the credential.
    async fn touch_credential(&self, id: Uuid, now: DateTime<Utc>) -> Result<()>;
    /// Delete one of the user's credentials; `false` if there was none.
    async fn delete_credential(
        &self,
        user_id: UserId,
        id: Uuid,
        events: &[NewEvent],
    ) -> Result<bool>;
    /// Delete the user's credential of `kind` whose secret is `secret`, exactly
    /// once under concurrency (spending a recovery code). `true` for the winner.
    async fn consume_credential(
        &self,
        user_id: UserId,
        kind: CredentialKind,
        secret: &str,
        events: &[NewEvent],
    ) -> Result<bool>;
}

/// External identities linked to users.
#[async_trait]
pub trait IdentityStore: Send + Sync {
    /// Link an identity. `IdentityTaken` if (pool, provider, subject) is linked
    /// already; `NotFound` if the user is missing.
    async fn insert_identity(&self, identity: &Identity, events: &[NewEvent]) -> Result<()>;
    /// The identity for a provider's subject in a pool.
    async fn find_identity(
        &self,
        pool_id: PoolId,
        provider: &str,
        subject: &str,
    ) -> Result<Option<Identity>>;
    /// A user's identities, oldest first.
    async fn list_identities(&self, user_id: UserId) -> Result<Vec<Identity>>;
    /// Record a sign-in through the identity, with the latest profile.
    async fn touch_identity(
        &self,
        id: Uuid,
        profile: &serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<()>;
    /// Unlink one of the user's identities; `false` if there was none.
    async fn delete_identity(&self, user_id: UserId, id: Uuid, events: &[NewEvent])
    -> Result<bool>;
}

/// Sessions and their refresh tokens.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Insert a session with its first refresh token, atomically. `NotFound` if
    /// the user (or app) is missing, e.g. deleted mid-sign-in.
    async fn create_session(
        &self,
        session: &Session,
        refresh: &RefreshToken,
        events: &[NewEvent],
    ) -> Result<()>;
    /// The session whose token hash matches, with its user: the validation hot
    /// path, one indexed query. Returns revoked and expired sessions too.
    async fn find_session_by_token(
        &self,
        token_hash: &TokenHash,
    ) -> Result<Option<(Session, User)>>;
    /// A session by id, with its user, in one query.
    async fn find_session(&self, id: SessionId) -> Result<Option<(Session, User)>>;
    /// A user's sessions that are not revoked, newest first (expired ones included;
    /// the caller filters by time).
    async fn list_user_sessions(&self, user_id: UserId) -> Result<Vec<Session>>;
    /// Set `last_seen_at` (idle expiry moves with it).
    async fn touch_session(&self, id: SessionId, now: DateTime<Utc>) -> Result<()>;
    /// Revoke a session (of `user_id` when given); `events` get the revoked
    /// session. Idempotent: a second call keeps the first time and reason,
    /// writes no events and answers `false`. `NotFound` if there is no such
    /// session (for that user).
    async fn revoke_session(
        &self,
        id: SessionId,
        user_id: Option<UserId>,
        now: DateTime<Utc>,
        reason: &str,
        events: EventsOf<'_, Session>,
    ) -> Result<bool>;
    /// Revoke all of a user's live sessions except `except`; returns how many.
    /// `events` get the sessions revoked (possibly none), oldest first.
    async fn revoke_user_sessions(
        &self,
        user_id: UserId,
        except: Option<SessionId>,
        now: DateTime<Utc>,
        reason: &str,
        events: EventsOf<'_, Vec<Session>>,
    ) -> Result<u64>;
    /// Exchange a refresh token for its successor, atomically: exactly one of
    /// many concurrent callers with the same live token gets `Rotated`; the others
    /// get `Repeated` within the grace window (half-open: `now - spent_at <
    /// grace`, so a grace of 0 never repeats) while the successor is unspent and
    /// the session active, and `Reused` (with the session revoked) otherwise. An
    /// unspent token whose session is not active at `rotation.now` gives
    /// `Inactive` and nothing changes; a spent token is always reuse.
    /// `events` get what the step did (for every outcome but `NotFound`).
    async fn rotate_refresh_token(
        &self,
        rotation: &RefreshRotation,
        events: RotationEvents<'_>,
    ) -> Result<RotationOutcome>;
    /// Delete sessions (and their refresh tokens) that ended before `cutoff`:
    /// expired absolutely, idle, or revoked. Returns how many.
    async fn delete_ended_sessions(&self, cutoff: DateTime<Utc>) -> Result<u64>;
}

/// Single-use secrets: email links and codes, ceremony state.
#[async_trait]
pub trait OneTimeTokenStore: Send + Sync {
    /// Insert a token. `Conflict` if the hash exists.
    async fn insert_token(&self, token: &OneTimeToken) -> Result<()>;
    /// Insert a code, replacing any earlier token with the same purpose, pool and
    /// subject (a new code invalidates the old one), atomically.
    async fn replace_code(&self, token: &OneTimeToken) -> Result<()>;
    /// Spend a token: exactly one caller gets it. `InvalidToken` if there is no
    /// such token for `purpose`, `TokenExpired` (and the token is deleted) if
    /// `now` is at or after its `expires_at`.
    async fn consume_token(
        &self,
        purpose: &str,
        hash: &TokenHash,
        now: DateTime<Utc>,
    ) -> Result<OneTimeToken>;
    /// Look at a token without spending it (`None` if missing or expired).
    async fn find_token(
        &self,
        purpose: &str,
        hash: &TokenHash,
        now: DateTime<Utc>,
    ) -> Result<Option<OneTimeToken>>;
    /// Guess the code for `subject`: right (`hash` matches) spends it; wrong
    /// counts an attempt and, at `max_attempts`, spends it. Atomic per subject.
    async fn attempt_code(
        &self,
        purpose: &str,
        pool_id: PoolId,
        subject: &str,
        hash: &TokenHash,
        max_attempts: u32,
        now: DateTime<Utc>,
    ) -> Result<CodeAttempt>;
    /// Delete all of a user's tokens for `purpose`; returns how many.
    async fn delete_user_tokens(&self, user_id: UserId, purpose: &str) -> Result<u64>;
    /// Delete tokens that expired before `cutoff`; returns how many.
    async fn delete_expired_tokens(&self, cutoff: DateTime<Utc>) -> Result<u64>;
}

/// Token signing keys.
#[async_trait]
pub trait KeyStore: Send + Sync {
    /// All stored keys, oldest first.
    async fn list_signing_keys(&self) -> Result<Vec<SigningKey>>;
    /// Insert `key` as the active key unless one is active already; answers the
    /// active key either way (so racing first uses agree on one key).
    async fn insert_first_signing_key(&self, key: &SigningKey) -> Result<SigningKey>;
    /// Retire every active key (setting `retired_at = now` and `publish_until`)
    /// and insert `key` as the active one, atomically.
    async fn rotate_signing_key(
        &self,
        key: &SigningKey,
        now: DateTime<Utc>,
        publish_until: DateTime<Utc>,
        events: &[NewEvent],
    ) -> Result<()>;
    /// Delete retired keys whose `publish_until` is before `cutoff`.
    async fn delete_unpublished_keys(&self, cutoff: DateTime<Utc>) -> Result<u64>;
}

/// The audit log.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Append an event that records no change (a failed sign-in, a code
    /// sent). `Conflict` if its id exists.
    async fn append_event(&self, event: &AuditEvent) -> Result<()>;
    /// Events matching `query`, newest (largest id) first.
    async fn list_events(&self, query: &AuditQuery) -> Result<Vec<AuditEvent>>;
}

/// Failure counters for backoff, and the windows of rate limits shared by
/// every instance on the store.
#[async_trait]
pub trait ThrottleStore: Send + Sync {
    /// Count one failure against `key` atomically and return the new state. A
    /// count whose last failure is older than `reset_before` starts again at 1.
    /// `next_attempt_at` is left as it is.
    async fn record_failure(
        &self,
        key: &str,
        now: DateTime<Utc>,
        reset_before: DateTime<Utc>,
    ) -> Result<Throttle>;
    /// May an attempt against `key` proceed now? One atomic step that decides
    /// and counts, so concurrent attempts cannot all slip through between a
    /// read and a write:
    ///
    /// - while `key` waits (its last attempt set a wait, is not older than
    ///   `now - backoff.reset_after`, and `now` is before its
    ///   `next_attempt_at`: [`Throttle::waiting_until`]), the answer is [`Reservation::Refused`] with that
    ///   time, and nothing changes;
    /// - otherwise the attempt is counted before it is made (a stale or
    ///   missing count restarts at 1), `last_failure_at` becomes `now`,
    ///   `next_attempt_at` becomes `now + backoff.wait_after(count)`, and the
    ///   answer is [`Reservation::Granted`] with that state.
    ///
    /// So once `backoff.free` attempts are counted, of many concurrent
    /// callers exactly one proceeds per wait. The caller clears the key
    /// ([`clear_throttle`](Self::clear_throttle)) when its attempt succeeds.
    async fn reserve_attempt(
        &self,
        key: &str,
        now: DateTime<Utc>,
        backoff: &Backoff,
    ) -> Result<Reservation>;
    /// The state of `key`.
    async fn find_throttle(&self, key: &str) -> Result<Option<Throttle>>;
    /// Forget `key`'s failures.
    async fn clear_throttle(&self, key: &str) -> Result<()>;
    /// Forget counters whose last failure is before `cutoff`.
    async fn delete_stale_throttles(&self, cutoff: DateTime<Utc>) -> Result<u64>;
    /// Count one hit against `key` in its current fixed window, atomically,
    /// and answer `Some(end of the window)` when the hit is over
    /// `limit.max`, `None` when it is allowed. A window starts at the first
    /// hit at or after the previous window's end and lasts `limit.window`.
    /// Of concurrent hits in one window exactly `limit.max` are allowed.
    async fn hit(
        &self,
        key: &str,
        limit: &RateLimit,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>>;
    /// Forget rate-limit windows that ended before `cutoff`; returns how many.
    async fn delete_ended_windows(&self, cutoff: DateTime<Utc>) -> Result<u64>;
}

/// Admin API keys.
#[async_trait]
pub trait ApiKeyStore: Send + Sync {
    /// Insert a key. `Conflict` if its id or hash exists (so inserting the
    /// bootstrap key twice is detectable and harmless).
    async fn insert_api_key(&self, key: &ApiKey, events: &[NewEvent]) -> Result<()>;
    /// The key with this hash (revoked and expired ones too).
    async fn find_api_key(&self, hash: &TokenHash) -> Result<Option<ApiKey>>;
    /// All keys, oldest first.
    async fn list_api_keys(&self) -> Result<Vec<ApiKey>>;
    /// Revoke a key; idempotent (keeps the first time, and only the first
    /// revocation writes `events`). `NotFound` if missing.
    async fn revoke_api_key(&self, id: Uuid, now: DateTime<Utc>, events: &[NewEvent])
    -> Result<()>;
    /// Record a use.
    async fn touch_api_key(&self, id: Uuid, now: DateTime<Utc>) -> Result<()>;
}

/// The persisted mail outbox: mail is queued in the same step as the token it
/// carries, and delivered at least once by workers holding time-limited leases,
/// so a crashed worker's mail is picked up by another and a restart loses none.
#[async_trait]
pub trait MailOutboxStore: Send + Sync {
    /// Queue `mail` and, in the same atomic step, store `token` (when given):
    /// inserted as by `insert_token`, or, with `replace_code`, as by
    /// `replace_code`. On error neither is stored.
    async fn enqueue_mail(
        &self,
        mail: &OutboxMail,
        token: Option<&OneTimeToken>,
        replace_code: bool,
    ) -> Result<()>;
    /// Lease up to `limit` messages that are due (`next_attempt_at <= now`) and
    /// not leased by a live lease, oldest first: each gets `leased_until` and one
    /// more attempt. Concurrent callers never get the same message while its
    /// lease lasts.
    async fn claim_mail(
        &self,
        now: DateTime<Utc>,
        leased_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<OutboxMail>>;
    /// The message was delivered: delete it.
    async fn complete_mail(&self, id: Uuid) -> Result<()>;
    /// The attempt failed: release the lease and try again at `next_attempt_at`.
    async fn retry_mail(&self, id: Uuid, next_attempt_at: DateTime<Utc>, error: &str)
    -> Result<()>;
    /// How many messages are queued (sent ones are deleted).
    async fn pending_mail(&self) -> Result<u64>;
}

/// The external OAuth/OIDC providers configured per app.
#[async_trait]
pub trait OAuthProviderStore: Send + Sync {
    /// Insert the provider `(app_id, name)`, or replace every field of the
    /// existing one except `created_at`, which is kept; answers the row as
    /// stored. `NotFound` if the app is missing.
    async fn put_oauth_provider(
        &self,
        provider: &OAuthProviderRecord,
        events: &[NewEvent],
    ) -> Result<OAuthProviderRecord>;
    /// One of an app's providers by name.
    async fn find_oauth_provider(
        &self,
        app_id: AppId,
        name: &str,
    ) -> Result<Option<OAuthProviderRecord>>;
    /// An app's providers, ordered by name.
    async fn list_oauth_providers(&self, app_id: AppId) -> Result<Vec<OAuthProviderRecord>>;
    /// Remove one of an app's providers; `false` if there was none. (Deleting
    /// the app removes its providers too.)
    async fn delete_oauth_provider(
        &self,
        app_id: AppId,
        name: &str,
        events: &[NewEvent],
    ) -> Result<bool>;
}

/// Webhook endpoints.
#[async_trait]
pub trait WebhookEndpointStore: Send + Sync {
    /// Insert an endpoint. `NotFound` if its app is missing, `Conflict` if
    /// the id exists.
    async fn create_webhook_endpoint(
        &self,
        endpoint: &WebhookEndpoint,
        events: &[NewEvent],
    ) -> Result<()>;
    /// An endpoint by id.
    async fn get_webhook_endpoint(&self, id: Uuid) -> Result<WebhookEndpoint>;
    /// Endpoints (of one app, or all), oldest first.
    async fn list_webhook_endpoints(&self, app_id: Option<AppId>) -> Result<Vec<WebhookEndpoint>>;
    /// Apply `patch` atomically (see [`WebhookEndpointPatch::apply`]) and
    /// return the endpoint; `events` get it. `NotFound`.
    async fn update_webhook_endpoint(
        &self,
        id: Uuid,
        patch: &WebhookEndpointPatch,
        now: DateTime<Utc>,
        events: EventsOf<'_, WebhookEndpoint>,
    ) -> Result<WebhookEndpoint>;
    /// Rotate the signing keys atomically: the current keys become the old
    /// ones, signing until `keep_old_until`, and `secrets_sealed` the
    /// current ones (so racing rotations chain, none is lost). `NotFound`.
    async fn rotate_webhook_secret(
        &self,
        id: Uuid,
        secrets_sealed: &[u8],
        keep_old_until: DateTime<Utc>,
        now: DateTime<Utc>,
        events: &[NewEvent],
    ) -> Result<()>;
    /// Delete an endpoint and its deliveries. `NotFound`.
    async fn delete_webhook_endpoint(&self, id: Uuid, events: &[NewEvent]) -> Result<()>;
}

/// The webhook outbox: deliveries, claimed under leases so that any number
/// of workers make each attempt once, and kept afterwards as the log.
#[async_trait]
pub trait WebhookDeliveryStore: Send + Sync {
    /// Insert a delivery (a test event, whatever the endpoint's filter).
    /// `NotFound` if the endpoint is missing, `Conflict` if the id exists.
    async fn enqueue_webhook_delivery(
        &self,
        delivery: &WebhookDelivery,
        events: &[NewEvent],
    ) -> Result<()>;
    /// Lease up to `limit` pending deliveries of enabled endpoints that are
    /// due (`next_attempt_at <= now`) and not held by a live lease, oldest due
    /// first: each gets `lease_id`, `leased_until` and one more `attempt`.
    /// Concurrent callers never get the same delivery while its lease lasts.
    async fn claim_webhook_deliveries(
        &self,
        now: DateTime<Utc>,
        leased_until: DateTime<Utc>,
        lease_id: Uuid,
        limit: u32,
    ) -> Result<Vec<ClaimedDelivery>>;
    /// Extend the lease of every pending delivery `lease_id` still holds;
    /// how many.
    async fn renew_webhook_lease(&self, lease_id: Uuid, leased_until: DateTime<Utc>)
    -> Result<u64>;
    /// Record an attempt made under `attempt.lease_id`, releasing the lease:
    /// nothing is written (`applied: false`) unless that claim still holds
    /// the delivery. A success clears the endpoint's `failing_since`; a
    /// failure sets it (if unset) and, when it is at or before
    /// `attempt.disable_failing_since`, disables the endpoint (`failing`);
    /// `Gone` disables it (`gone`). `events` get the endpoint when this
    /// attempt disabled it, and are written with it.
    async fn record_webhook_attempt(
        &self,
        attempt: &WebhookAttempt,
        events: EventsOf<'_, WebhookEndpoint>,
    ) -> Result<AttemptRecorded>;
    /// A delivery by id.
    async fn get_webhook_delivery(&self, id: Uuid) -> Result<WebhookDelivery>;
    /// An endpoint's deliveries matching `query`, newest (largest id) first.
    async fn list_webhook_deliveries(
        &self,
        endpoint_id: Uuid,
        query: &DeliveryQuery,
    ) -> Result<Vec<WebhookDelivery>>;
    /// Make one of the endpoint's deliveries pending and due at `now` (a
    /// manual retry, whatever its state). `NotFound` unless it is the
    /// endpoint's.
    async fn retry_webhook_delivery(
        &self,
        endpoint_id: Uuid,
        id: Uuid,
        now: DateTime<Utc>,
        events: &[NewEvent],
    ) -> Result<WebhookDelivery>;
    /// How many deliveries are pending.
    async fn pending_webhook_deliveries(&self) -> Result<u64>;
    /// Delete finished (succeeded or failed) deliveries created before
    /// `cutoff`; how many.
    async fn delete_finished_webhook_deliveries(&self, cutoff: DateTime<Utc>) -> Result<u64>;
}

/// Everything a backend provides, as one object the core holds.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Pools and apps.
    fn apps(&self) -> &dyn AppStore;
    /// Users.
    fn users(&self) -> &dyn UserStore;
    /// Credentials.
    fn credentials(&self) -> &dyn CredentialStore;
    /// External identities.
    fn identities(&self) -> &dyn IdentityStore;
    /// Sessions and refresh tokens.
    fn sessions(&self) -> &dyn SessionStore;
    /// One-time tokens and codes.
    fn tokens(&self) -> &dyn OneTimeTokenStore;
    /// Signing keys.
    fn keys(&self) -> &dyn KeyStore;
    /// The audit log.
    fn audit(&self) -> &dyn AuditStore;
    /// Failure counters.
    fn throttles(&self) -> &dyn ThrottleStore;
    /// Admin API keys.
    fn api_keys(&self) -> &dyn ApiKeyStore;
    /// The mail outbox.
    fn mail(&self) -> &dyn MailOutboxStore;
    /// OAuth provider configurations.
    fn oauth_providers(&self) -> &dyn OAuthProviderStore;
    /// Webhook endpoints.
    fn webhook_endpoints(&self) -> &dyn WebhookEndpointStore;
    /// Webhook deliveries.
    fn webhook_deliveries(&self) -> &dyn WebhookDeliveryStore;
    /// A short backend name (`memory`, `sqlite`, `postgres`).
    fn backend(&self) -> &'static str;
    /// Check the store is reachable.
    async fn ping(&self) -> Result<()>;
}
