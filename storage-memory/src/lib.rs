//! Tessera's in-process store: every store trait over plain maps.
//!
//! For tests, examples and ephemeral embedding (`memory://`). All state sits
//! behind one mutex that is held only for the few map operations of a single
//! store call and never across an `.await`, which makes every method trivially
//! atomic: the same guarantees the SQL backends get from constraints and
//! transactions, held to the same conformance suite. Nothing is persisted.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tessera_core::crypto::TokenHash;
use tessera_core::model::*;
use tessera_core::store::*;
use tessera_core::{Error, ErrorKind, Result};
use uuid::Uuid;

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

#[derive(Default)]
struct State {
    pools: BTreeMap<Uuid, Pool>,
    apps: BTreeMap<Uuid, App>,
    users: BTreeMap<Uuid, User>,
    /// (pool, normalised email) → user id.
    emails: HashMap<(Uuid, String), Uuid>,
    credentials: BTreeMap<Uuid, Credential>,
    identities: BTreeMap<Uuid, Identity>,
    sessions: BTreeMap<Uuid, Session>,
    session_tokens: HashMap<TokenHash, Uuid>,
    refresh_tokens: HashMap<TokenHash, RefreshToken>,
    tokens: HashMap<TokenHash, OneTimeToken>,
    keys: Vec<SigningKey>,
    audit: BTreeMap<Uuid, AuditEvent>,
    throttles: HashMap<String, Throttle>,
    api_keys: BTreeMap<Uuid, ApiKey>,
    outbox: BTreeMap<Uuid, OutboxMail>,
    /// (app, name) → provider configuration.
    oauth_providers: BTreeMap<(Uuid, String), OAuthProviderRecord>,
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

fn not_found() -> Error {
    Error::new(ErrorKind::NotFound)
}

fn same_code_slot(a: &OneTimeToken, b: &OneTimeToken) -> bool {
    a.purpose == b.purpose && a.pool_id == b.pool_id && a.subject == b.subject
}

impl State {
    /// Check a token can be stored (plainly, or replacing its code slot).
    fn check_token_insert(&self, token: &OneTimeToken, replace: bool) -> Result<()> {
        if let Some(u) = token.user_id {
            self.user_row(u)?;
        }
        let clash = self
            .tokens
            .get(&token.hash)
            .is_some_and(|t| !replace || !same_code_slot(t, token));
        if clash {
            return Err(Error::new(ErrorKind::Conflict));
        }
        Ok(())
    }

    fn put_token(&mut self, token: &OneTimeToken, replace: bool) {
        if replace {
            self.tokens.retain(|_, t| !same_code_slot(t, token));
        }
        self.tokens.insert(token.hash, token.clone());
    }

    fn user_row(&self, id: Uuid) -> Result<&User> {
        self.users.get(&id).ok_or_else(not_found)
    }

    fn session_with_user(&self, id: Uuid) -> Option<(Session, User)> {
        let s = self.sessions.get(&id)?;
        let u = self.users.get(&s.user_id)?;
        Some((s.clone(), u.clone()))
    }

    fn remove_sessions(&mut self, pred: impl Fn(&Session) -> bool) -> u64 {
        let ids: Vec<Uuid> = self
            .sessions
            .values()
            .filter(|s| pred(s))
            .map(|s| s.id)
            .collect();
        for id in &ids {
            if let Some(s) = self.sessions.remove(id) {
                self.session_tokens.remove(&s.token_hash);
            }
        }
        self.refresh_tokens
            .retain(|_, r| !ids.contains(&r.session_id));
        ids.len() as u64
    }
}

#[async_trait]
impl AppStore for MemoryStore {
    async fn create_pool(&self, pool: &Pool) -> Result<()> {
        let mut s = self.lock();
        if s.pools.contains_key(&pool.id) || s.pools.values().any(|p| p.slug == pool.slug) {
            return Err(Error::new(ErrorKind::Conflict));
        }
        s.pools.insert(pool.id, pool.clone());
        Ok(())
    }

    async fn get_pool(&self, id: PoolId) -> Result<Pool> {
        self.lock().pools.get(&id).cloned().ok_or_else(not_found)
    }

    async fn find_pool_by_slug(&self, slug: &str) -> Result<Option<Pool>> {
        Ok(self.lock().pools.values().find(|p| p.slug == slug).cloned())
    }

    async fn list_pools(&self) -> Result<Vec<Pool>> {
        let mut pools: Vec<Pool> = self.lock().pools.values().cloned().collect();
        pools.sort_by_key(|p| (p.created_at, p.id));
        Ok(pools)
    }

    async fn create_app(&self, app: &App) -> Result<()> {
        let mut s = self.lock();
        if !s.pools.contains_key(&app.pool_id) {
            return Err(not_found());
        }
        if s.apps.contains_key(&app.id) || s.apps.values().any(|a| a.slug == app.slug) {
            return Err(Error::new(ErrorKind::Conflict));
        }
        s.apps.insert(app.id, app.clone());
        Ok(())
    }

    async fn get_app(&self, id: AppId) -> Result<App> {
        self.lock().apps.get(&id).cloned().ok_or_else(not_found)
    }

    async fn find_app_by_slug(&self, slug: &str) -> Result<Option<App>> {
        Ok(self.lock().apps.values().find(|a| a.slug == slug).cloned())
    }

    async fn list_apps(&self, pool_id: Option<PoolId>) -> Result<Vec<App>> {
        let mut apps: Vec<App> = self
            .lock()
            .apps
            .values()
            .filter(|a| pool_id.is_none_or(|p| a.pool_id == p))
            .cloned()
            .collect();
        apps.sort_by_key(|a| (a.created_at, a.id));
        Ok(apps)
    }

    async fn update_app(&self, app: &App) -> Result<()> {
        let mut s = self.lock();
        if !s.apps.contains_key(&app.id) {
            return Err(not_found());
        }
        if s.apps
            .values()
            .any(|a| a.slug == app.slug && a.id != app.id)
        {
            return Err(Error::new(ErrorKind::Conflict));
        }
        let row = s.apps.get_mut(&app.id).expect("checked above");
        row.slug = app.slug.clone();
        row.name = app.name.clone();
        row.settings = app.settings.clone();
        row.updated_at = app.updated_at;
        Ok(())
    }

    async fn delete_app(&self, id: AppId) -> Result<()> {
        let mut s = self.lock();
        if s.apps.remove(&id).is_none() {
            return Err(not_found());
        }
        s.remove_sessions(|x| x.app_id == id);
        s.oauth_providers.retain(|(app, _), _| *app != id);
        Ok(())
    }
}

#[async_trait]
impl UserStore for MemoryStore {
    async fn create_user(&self, user: &User, password: Option<&Credential>) -> Result<()> {
        let mut s = self.lock();
        if !s.pools.contains_key(&user.pool_id) {
            return Err(not_found());
        }
        if s.emails.contains_key(&(user.pool_id, user.email.clone())) {
            return Err(Error::new(ErrorKind::EmailTaken));
        }
        if s.users.contains_key(&user.id)
            || password.is_some_and(|c| s.credentials.contains_key(&c.id))
        {
            return Err(Error::new(ErrorKind::Conflict));
        }
        if password.is_some_and(|c| c.user_id != user.id) {
            return Err(Error::invalid(
                "user_id",
                "the credential belongs to another user",
            ));
        }
        s.emails.insert((user.pool_id, user.email.clone()), user.id);
        s.users.insert(user.id, user.clone());
        if let Some(c) = password {
            s.credentials.insert(c.id, c.clone());
        }
        Ok(())
    }

    async fn get_user(&self, id: UserId) -> Result<User> {
        self.lock().user_row(id).cloned()
    }

    async fn find_user_by_email(&self, pool_id: PoolId, email: &str) -> Result<Option<User>> {
        let s = self.lock();
        Ok(s.emails
            .get(&(pool_id, email.to_owned()))
            .and_then(|id| s.users.get(id))
            .cloned())
    }

    async fn find_user_with_password(
        &self,
        pool_id: PoolId,
        email: &str,
    ) -> Result<Option<(User, Option<Credential>)>> {
        let s = self.lock();
        let Some(user) = s
            .emails
            .get(&(pool_id, email.to_owned()))
            .and_then(|id| s.users.get(id))
        else {
            return Ok(None);
        };
        let password = s
            .credentials
            .values()
            .find(|c| c.user_id == user.id && c.kind == CredentialKind::Password)
            .cloned();
        Ok(Some((user.clone(), password)))
    }

    async fn list_users(&self, pool_id: PoolId, query: &UserQuery) -> Result<Vec<User>> {
        let s = self.lock();
        let start = query
            .after
            .map_or(std::ops::Bound::Unbounded, std::ops::Bound::Excluded);
        Ok(s.users
            .range((start, std::ops::Bound::Unbounded))
            .map(|(_, u)| u)
            .filter(|u| u.pool_id == pool_id)
            .filter(|u| {
                query
                    .email_contains
                    .as_ref()
                    .is_none_or(|q| u.email.contains(q.as_str()))
            })
            .take(query.limit as usize)
            .cloned()
            .collect())
    }

    async fn update_user(&self, id: UserId, patch: &UserPatch, now: DateTime<Utc>) -> Result<User> {
        let mut s = self.lock();
        let old = s.user_row(id)?.clone();
        if let Some(email) = &patch.email
            && *email != old.email
            && s.emails.contains_key(&(old.pool_id, email.clone()))
        {
            return Err(Error::new(ErrorKind::EmailTaken));
        }
        let mut user = old.clone();
        patch.apply(&mut user, now);
        if user.email != old.email {
            s.emails.remove(&(old.pool_id, old.email.clone()));
            s.emails.insert((user.pool_id, user.email.clone()), id);
        }
        s.users.insert(id, user.clone());
        Ok(user)
    }

    async fn delete_sign_in_method(
        &self,
        user_id: UserId,
        target: SignInMethodRef,
        keep_one: bool,
    ) -> Result<bool> {
        let mut s = self.lock();
        let exists = match target {
            SignInMethodRef::Credential(id) => {
                s.credentials.get(&id).is_some_and(|c| c.user_id == user_id)
            }
            SignInMethodRef::Identity(id) => {
                s.identities.get(&id).is_some_and(|i| i.user_id == user_id)
            }
        };
        if !exists {
            return Ok(false);
        }
        let others = s.credentials.values().any(|c| {
            c.user_id == user_id
                && matches!(c.kind, CredentialKind::Password | CredentialKind::Passkey)
                && target != SignInMethodRef::Credential(c.id)
        }) || s
            .identities
            .values()
            .any(|i| i.user_id == user_id && target != SignInMethodRef::Identity(i.id));
        if keep_one && !others {
            return Err(Error::new(ErrorKind::LastSignInMethod));
        }
        match target {
            SignInMethodRef::Credential(id) => s.credentials.remove(&id).map(|_| ()),
            SignInMethodRef::Identity(id) => s.identities.remove(&id).map(|_| ()),
        };
        Ok(true)
    }

    async fn delete_user(&self, id: UserId) -> Result<()> {
        let mut s = self.lock();
        let user = s.users.remove(&id).ok_or_else(not_found)?;
        s.emails.remove(&(user.pool_id, user.email));
        s.credentials.retain(|_, c| c.user_id != id);
        s.identities.retain(|_, i| i.user_id != id);
        s.tokens.retain(|_, t| t.user_id != Some(id));
        s.remove_sessions(|x| x.user_id == id);
        Ok(())
    }
}

#[async_trait]
impl CredentialStore for MemoryStore {
    async fn set_password(&self, user_id: UserId, phc: &str, now: DateTime<Utc>) -> Result<()> {
        let mut s = self.lock();
        s.user_row(user_id)?;
        if let Some(c) = s
            .credentials
            .values_mut()
            .find(|c| c.user_id == user_id && c.kind == CredentialKind::Password)
        {
            c.secret = phc.to_owned();
            return Ok(());
        }
        let c = Credential {
            id: tessera_core::new_id(now),
            user_id,
            kind: CredentialKind::Password,
            name: None,
            secret: phc.to_owned(),
            data: serde_json::json!({}),
            created_at: now,
            last_used_at: None,
        };
        s.credentials.insert(c.id, c);
        Ok(())
    }

    async fn insert_credential(&self, credential: &Credential) -> Result<()> {
        let mut s = self.lock();
        s.user_row(credential.user_id)?;
        let second_password = credential.kind == CredentialKind::Password
            && s.credentials
                .values()
                .any(|c| c.user_id == credential.user_id && c.kind == CredentialKind::Password);
        if s.credentials.contains_key(&credential.id) || second_password {
            return Err(Error::new(ErrorKind::Conflict));
        }
        s.credentials.insert(credential.id, credential.clone());
        Ok(())
    }

    async fn list_credentials(
        &self,
        user_id: UserId,
        kind: Option<CredentialKind>,
    ) -> Result<Vec<Credential>> {
        let mut out: Vec<Credential> = self
            .lock()
            .credentials
            .values()
            .filter(|c| c.user_id == user_id && kind.is_none_or(|k| c.kind == k))
            .cloned()
            .collect();
        out.sort_by_key(|c| (c.created_at, c.id));
        Ok(out)
    }

    async fn update_credential(&self, credential: &Credential) -> Result<()> {
        let mut s = self.lock();
        let row = s
            .credentials
            .get_mut(&credential.id)
            .filter(|c| c.user_id == credential.user_id)
            .ok_or_else(not_found)?;
        row.secret = credential.secret.clone();
        row.data = credential.data.clone();
        row.name = credential.name.clone();
        Ok(())
    }

    async fn touch_credential(&self, id: Uuid, now: DateTime<Utc>) -> Result<()> {
        let mut s = self.lock();
        let row = s.credentials.get_mut(&id).ok_or_else(not_found)?;
        row.last_used_at = Some(now);
        Ok(())
    }

    async fn delete_credential(&self, user_id: UserId, id: Uuid) -> Result<bool> {
        let mut s = self.lock();
        if s.credentials.get(&id).is_some_and(|c| c.user_id == user_id) {
            s.credentials.remove(&id);
            return Ok(true);
        }
        Ok(false)
    }

    async fn consume_credential(
        &self,
        user_id: UserId,
        kind: CredentialKind,
        secret: &str,
    ) -> Result<bool> {
        let mut s = self.lock();
        let found = s
            .credentials
            .values()
            .find(|c| c.user_id == user_id && c.kind == kind && c.secret == secret)
            .map(|c| c.id);
        Ok(found.and_then(|id| s.credentials.remove(&id)).is_some())
    }
}

#[async_trait]
impl IdentityStore for MemoryStore {
    async fn insert_identity(&self, identity: &Identity) -> Result<()> {
        let mut s = self.lock();
        s.user_row(identity.user_id)?;
        if s.identities.values().any(|i| {
            i.pool_id == identity.pool_id
                && i.provider == identity.provider
                && i.subject == identity.subject
        }) {
            return Err(Error::new(ErrorKind::IdentityTaken));
        }
        if s.identities.contains_key(&identity.id) {
            return Err(Error::new(ErrorKind::Conflict));
        }
        s.identities.insert(identity.id, identity.clone());
        Ok(())
    }

    async fn find_identity(
        &self,
        pool_id: PoolId,
        provider: &str,
        subject: &str,
    ) -> Result<Option<Identity>> {
        Ok(self
            .lock()
            .identities
            .values()
            .find(|i| i.pool_id == pool_id && i.provider == provider && i.subject == subject)
            .cloned())
    }

    async fn list_identities(&self, user_id: UserId) -> Result<Vec<Identity>> {
        let mut out: Vec<Identity> = self
            .lock()
            .identities
            .values()
            .filter(|i| i.user_id == user_id)
            .cloned()
            .collect();
        out.sort_by_key(|i| (i.created_at, i.id));
        Ok(out)
    }

    async fn touch_identity(
        &self,
        id: Uuid,
        profile: &serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut s = self.lock();
        let row = s.identities.get_mut(&id).ok_or_else(not_found)?;
        row.profile = profile.clone();
        row.last_used_at = Some(now);
        Ok(())
    }

    async fn delete_identity(&self, user_id: UserId, id: Uuid) -> Result<bool> {
        let mut s = self.lock();
        if s.identities.get(&id).is_some_and(|i| i.user_id == user_id) {
            s.identities.remove(&id);
            return Ok(true);
        }
        Ok(false)
    }
}

#[async_trait]
impl SessionStore for MemoryStore {
    async fn create_session(&self, session: &Session, refresh: &RefreshToken) -> Result<()> {
        let mut s = self.lock();
        s.user_row(session.user_id)?;
        if !s.apps.contains_key(&session.app_id) {
            return Err(not_found());
        }
        if s.sessions.contains_key(&session.id)
            || s.session_tokens.contains_key(&session.token_hash)
            || s.refresh_tokens.contains_key(&refresh.hash)
        {
            return Err(Error::new(ErrorKind::Conflict));
        }
        if refresh.session_id != session.id {
            return Err(Error::invalid(
                "session_id",
                "the refresh token belongs to another session",
            ));
        }
        s.session_tokens.insert(session.token_hash, session.id);
        s.sessions.insert(session.id, session.clone());
        s.refresh_tokens.insert(refresh.hash, refresh.clone());
        Ok(())
    }

    async fn find_session_by_token(
        &self,
        token_hash: &TokenHash,
    ) -> Result<Option<(Session, User)>> {
        let s = self.lock();
        Ok(s.session_tokens
            .get(token_hash)
            .and_then(|id| s.session_with_user(*id)))
    }

    async fn find_session(&self, id: SessionId) -> Result<Option<(Session, User)>> {
        Ok(self.lock().session_with_user(id))
    }

    async fn list_user_sessions(&self, user_id: UserId) -> Result<Vec<Session>> {
        let mut out: Vec<Session> = self
            .lock()
            .sessions
            .values()
            .filter(|x| x.user_id == user_id && x.revoked_at.is_none())
            .cloned()
            .collect();
        out.sort_by_key(|x| std::cmp::Reverse((x.created_at, x.id)));
        Ok(out)
    }

    async fn touch_session(&self, id: SessionId, now: DateTime<Utc>) -> Result<()> {
        let mut s = self.lock();
        let row = s.sessions.get_mut(&id).ok_or_else(not_found)?;
        if now > row.last_seen_at {
            row.last_seen_at = now;
        }
        Ok(())
    }

    async fn revoke_session(
        &self,
        id: SessionId,
        user_id: Option<UserId>,
        now: DateTime<Utc>,
        reason: &str,
    ) -> Result<bool> {
        let mut s = self.lock();
        let row = s
            .sessions
            .get_mut(&id)
            .filter(|x| user_id.is_none_or(|u| x.user_id == u))
            .ok_or_else(not_found)?;
        if row.revoked_at.is_some() {
            return Ok(false);
        }
        row.revoked_at = Some(now);
        row.revoke_reason = Some(reason.to_owned());
        Ok(true)
    }

    async fn revoke_user_sessions(
        &self,
        user_id: UserId,
        except: Option<SessionId>,
        now: DateTime<Utc>,
        reason: &str,
    ) -> Result<u64> {
        let mut s = self.lock();
        let mut n = 0;
        for row in s.sessions.values_mut() {
            if row.user_id == user_id && row.revoked_at.is_none() && Some(row.id) != except {
                row.revoked_at = Some(now);
                row.revoke_reason = Some(reason.to_owned());
                n += 1;
            }
        }
        Ok(n)
    }

    async fn rotate_refresh_token(&self, r: &RefreshRotation) -> Result<RotationOutcome> {
        let mut s = self.lock();
        let Some(token) = s.refresh_tokens.get(&r.presented).cloned() else {
            return Ok(RotationOutcome::NotFound);
        };
        let Some((session, user)) = s.session_with_user(token.session_id) else {
            return Ok(RotationOutcome::NotFound);
        };
        match token.spent_at {
            None if !session.is_active(r.now) => Ok(RotationOutcome::Inactive),
            None => {
                if s.refresh_tokens.contains_key(&r.successor) {
                    return Err(Error::new(ErrorKind::Conflict));
                }
                let t = s.refresh_tokens.get_mut(&r.presented).expect("read above");
                t.spent_at = Some(r.now);
                t.replaced_by = Some(r.successor);
                s.refresh_tokens.insert(
                    r.successor,
                    RefreshToken {
                        hash: r.successor,
                        session_id: session.id,
                        created_at: r.now,
                        spent_at: None,
                        replaced_by: None,
                    },
                );
                let row = s.sessions.get_mut(&session.id).expect("read above");
                if r.now > row.last_seen_at {
                    row.last_seen_at = r.now;
                }
                let session = row.clone();
                Ok(RotationOutcome::Rotated(Box::new((session, user))))
            }
            Some(spent_at) => {
                let successor_unspent = token.replaced_by == Some(r.successor)
                    && s.refresh_tokens
                        .get(&r.successor)
                        .is_some_and(|t| t.spent_at.is_none());
                if successor_unspent && r.now - spent_at < r.grace && session.is_active(r.now) {
                    return Ok(RotationOutcome::Repeated(
                        Box::new((session, user)),
                        spent_at,
                    ));
                }
                let row = s.sessions.get_mut(&session.id).expect("read above");
                if row.revoked_at.is_none() {
                    row.revoked_at = Some(r.now);
                    row.revoke_reason = Some("refresh_token_reused".into());
                }
                Ok(RotationOutcome::Reused {
                    session_id: session.id,
                })
            }
        }
    }

    async fn delete_ended_sessions(&self, cutoff: DateTime<Utc>) -> Result<u64> {
        let mut s = self.lock();
        Ok(s.remove_sessions(|x| {
            x.expires_at < cutoff
                || x.idle_expires_at() < cutoff
                || x.revoked_at.is_some_and(|r| r < cutoff)
        }))
    }
}

#[async_trait]
impl OneTimeTokenStore for MemoryStore {
    async fn insert_token(&self, token: &OneTimeToken) -> Result<()> {
        let mut s = self.lock();
        s.check_token_insert(token, false)?;
        s.put_token(token, false);
        Ok(())
    }

    async fn replace_code(&self, token: &OneTimeToken) -> Result<()> {
        let mut s = self.lock();
        s.check_token_insert(token, true)?;
        s.put_token(token, true);
        Ok(())
    }

    async fn consume_token(
        &self,
        purpose: &str,
        hash: &TokenHash,
        now: DateTime<Utc>,
    ) -> Result<OneTimeToken> {
        let mut s = self.lock();
        if s.tokens.get(hash).is_none_or(|t| t.purpose != purpose) {
            return Err(Error::new(ErrorKind::InvalidToken));
        }
        let token = s.tokens.remove(hash).expect("checked above");
        if token.expires_at <= now {
            return Err(Error::new(ErrorKind::TokenExpired));
        }
        Ok(token)
    }

    async fn find_token(
        &self,
        purpose: &str,
        hash: &TokenHash,
        now: DateTime<Utc>,
    ) -> Result<Option<OneTimeToken>> {
        Ok(self
            .lock()
            .tokens
            .get(hash)
            .filter(|t| t.purpose == purpose && t.expires_at > now)
            .cloned())
    }

    async fn attempt_code(
        &self,
        purpose: &str,
        pool_id: PoolId,
        subject: &str,
        hash: &TokenHash,
        max_attempts: u32,
        now: DateTime<Utc>,
    ) -> Result<CodeAttempt> {
        let mut s = self.lock();
        let Some(key) = s
            .tokens
            .values()
            .find(|t| {
                t.purpose == purpose
                    && t.pool_id == pool_id
                    && t.subject.as_deref() == Some(subject)
            })
            .map(|t| t.hash)
        else {
            return Ok(CodeAttempt::NotFound);
        };
        let token = s.tokens.get_mut(&key).expect("found above");
        if token.expires_at <= now {
            s.tokens.remove(&key);
            return Ok(CodeAttempt::Expired);
        }
        if key == *hash {
            let token = s.tokens.remove(&key).expect("found above");
            return Ok(CodeAttempt::Accepted(Box::new(token)));
        }
        token.attempts += 1;
        let left = max_attempts.saturating_sub(token.attempts.max(0) as u32);
        if left == 0 {
            s.tokens.remove(&key);
        }
        Ok(CodeAttempt::Rejected {
            attempts_left: left,
        })
    }

    async fn delete_user_tokens(&self, user_id: UserId, purpose: &str) -> Result<u64> {
        let mut s = self.lock();
        let before = s.tokens.len();
        s.tokens
            .retain(|_, t| !(t.user_id == Some(user_id) && t.purpose == purpose));
        Ok((before - s.tokens.len()) as u64)
    }

    async fn delete_expired_tokens(&self, cutoff: DateTime<Utc>) -> Result<u64> {
        let mut s = self.lock();
        let before = s.tokens.len();
        s.tokens.retain(|_, t| t.expires_at >= cutoff);
        Ok((before - s.tokens.len()) as u64)
    }
}

#[async_trait]
impl KeyStore for MemoryStore {
    async fn list_signing_keys(&self) -> Result<Vec<SigningKey>> {
        let mut keys = self.lock().keys.clone();
        keys.sort_by(|a, b| (a.created_at, &a.kid).cmp(&(b.created_at, &b.kid)));
        Ok(keys)
    }

    async fn insert_first_signing_key(&self, key: &SigningKey) -> Result<SigningKey> {
        let mut s = self.lock();
        if let Some(active) = s.keys.iter().find(|k| k.retired_at.is_none()) {
            return Ok(active.clone());
        }
        if s.keys.iter().any(|k| k.kid == key.kid) {
            return Err(Error::new(ErrorKind::Conflict));
        }
        s.keys.push(key.clone());
        Ok(key.clone())
    }

    async fn rotate_signing_key(
        &self,
        key: &SigningKey,
        now: DateTime<Utc>,
        publish_until: DateTime<Utc>,
    ) -> Result<()> {
        let mut s = self.lock();
        if s.keys.iter().any(|k| k.kid == key.kid) {
            return Err(Error::new(ErrorKind::Conflict));
        }
        for k in s.keys.iter_mut().filter(|k| k.retired_at.is_none()) {
            k.retired_at = Some(now);
            k.publish_until = Some(publish_until);
        }
        s.keys.push(key.clone());
        Ok(())
    }

    async fn delete_unpublished_keys(&self, cutoff: DateTime<Utc>) -> Result<u64> {
        let mut s = self.lock();
        let before = s.keys.len();
        s.keys
            .retain(|k| k.retired_at.is_none() || k.publish_until.is_none_or(|p| p >= cutoff));
        Ok((before - s.keys.len()) as u64)
    }
}

#[async_trait]
impl AuditStore for MemoryStore {
    async fn append_event(&self, event: &AuditEvent) -> Result<()> {
        let mut s = self.lock();
        if s.audit.contains_key(&event.id) {
            return Err(Error::new(ErrorKind::Conflict));
        }
        s.audit.insert(event.id, event.clone());
        Ok(())
    }

    async fn list_events(&self, q: &AuditQuery) -> Result<Vec<AuditEvent>> {
        let s = self.lock();
        let end = q
            .before
            .map_or(std::ops::Bound::Unbounded, std::ops::Bound::Excluded);
        Ok(s.audit
            .range((std::ops::Bound::Unbounded, end))
            .rev()
            .map(|(_, e)| e)
            .filter(|e| q.user_id.is_none_or(|u| e.user_id == Some(u)))
            .filter(|e| q.app_id.is_none_or(|a| e.app_id == Some(a)))
            .filter(|e| q.pool_id.is_none_or(|p| e.pool_id == Some(p)))
            .filter(|e| q.kind.as_ref().is_none_or(|k| &e.kind == k))
            .filter(|e| q.since.is_none_or(|t| e.at >= t))
            .filter(|e| q.until.is_none_or(|t| e.at < t))
            .take(q.limit as usize)
            .cloned()
            .collect())
    }
}

#[async_trait]
impl ThrottleStore for MemoryStore {
    async fn record_failure(
        &self,
        key: &str,
        now: DateTime<Utc>,
        reset_before: DateTime<Utc>,
    ) -> Result<Throttle> {
        let mut s = self.lock();
        let t = s
            .throttles
            .entry(key.to_owned())
            .and_modify(|t| {
                if t.last_failure_at < reset_before {
                    t.failures = 1;
                } else {
                    t.failures = t.failures.saturating_add(1);
                }
                t.last_failure_at = now;
            })
            .or_insert(Throttle {
                failures: 1,
                last_failure_at: now,
            });
        Ok(*t)
    }

    async fn find_throttle(&self, key: &str) -> Result<Option<Throttle>> {
        Ok(self.lock().throttles.get(key).copied())
    }

    async fn clear_throttle(&self, key: &str) -> Result<()> {
        self.lock().throttles.remove(key);
        Ok(())
    }

    async fn delete_stale_throttles(&self, cutoff: DateTime<Utc>) -> Result<u64> {
        let mut s = self.lock();
        let before = s.throttles.len();
        s.throttles.retain(|_, t| t.last_failure_at >= cutoff);
        Ok((before - s.throttles.len()) as u64)
    }
}

#[async_trait]
impl ApiKeyStore for MemoryStore {
    async fn insert_api_key(&self, key: &ApiKey) -> Result<()> {
        let mut s = self.lock();
        if s.api_keys.contains_key(&key.id) || s.api_keys.values().any(|k| k.hash == key.hash) {
            return Err(Error::new(ErrorKind::Conflict));
        }
        s.api_keys.insert(key.id, key.clone());
        Ok(())
    }

    async fn find_api_key(&self, hash: &TokenHash) -> Result<Option<ApiKey>> {
        Ok(self
            .lock()
            .api_keys
            .values()
            .find(|k| k.hash == *hash)
            .cloned())
    }

    async fn list_api_keys(&self) -> Result<Vec<ApiKey>> {
        let mut keys: Vec<ApiKey> = self.lock().api_keys.values().cloned().collect();
        keys.sort_by_key(|k| (k.created_at, k.id));
        Ok(keys)
    }

    async fn revoke_api_key(&self, id: Uuid, now: DateTime<Utc>) -> Result<()> {
        let mut s = self.lock();
        let k = s.api_keys.get_mut(&id).ok_or_else(not_found)?;
        k.revoked_at.get_or_insert(now);
        Ok(())
    }

    async fn touch_api_key(&self, id: Uuid, now: DateTime<Utc>) -> Result<()> {
        let mut s = self.lock();
        let k = s.api_keys.get_mut(&id).ok_or_else(not_found)?;
        k.last_used_at = Some(now);
        Ok(())
    }
}

#[async_trait]
impl MailOutboxStore for MemoryStore {
    async fn enqueue_mail(
        &self,
        mail: &OutboxMail,
        token: Option<&OneTimeToken>,
        replace_code: bool,
    ) -> Result<()> {
        let mut s = self.lock();
        if s.outbox.contains_key(&mail.id) {
            return Err(Error::new(ErrorKind::Conflict));
        }
        if let Some(t) = token {
            s.check_token_insert(t, replace_code)?;
            s.put_token(t, replace_code);
        }
        s.outbox.insert(mail.id, mail.clone());
        Ok(())
    }

    async fn claim_mail(
        &self,
        now: DateTime<Utc>,
        leased_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<OutboxMail>> {
        let mut s = self.lock();
        let mut due: Vec<&mut OutboxMail> = s
            .outbox
            .values_mut()
            .filter(|m| m.next_attempt_at <= now && m.leased_until.is_none_or(|l| l <= now))
            .collect();
        due.sort_by_key(|m| (m.created_at, m.id));
        Ok(due
            .into_iter()
            .take(limit as usize)
            .map(|m| {
                m.leased_until = Some(leased_until);
                m.attempts += 1;
                m.clone()
            })
            .collect())
    }

    async fn complete_mail(&self, id: Uuid) -> Result<()> {
        self.lock().outbox.remove(&id);
        Ok(())
    }

    async fn retry_mail(
        &self,
        id: Uuid,
        next_attempt_at: DateTime<Utc>,
        error: &str,
    ) -> Result<()> {
        let mut s = self.lock();
        let m = s.outbox.get_mut(&id).ok_or_else(not_found)?;
        m.leased_until = None;
        m.next_attempt_at = next_attempt_at;
        m.last_error = Some(error.to_owned());
        Ok(())
    }

    async fn pending_mail(&self) -> Result<u64> {
        Ok(self.lock().outbox.len() as u64)
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
    fn backend(&self) -> &'static str {
        "memory"
    }
    async fn ping(&self) -> Result<()> {
        Ok(())
    }
}

#[async_trait]
impl OAuthProviderStore for MemoryStore {
    async fn put_oauth_provider(
        &self,
        provider: &OAuthProviderRecord,
    ) -> Result<OAuthProviderRecord> {
        let mut s = self.lock();
        if !s.apps.contains_key(&provider.app_id) {
            return Err(not_found());
        }
        let key = (provider.app_id, provider.name.clone());
        let mut row = provider.clone();
        if let Some(old) = s.oauth_providers.get(&key) {
            row.created_at = old.created_at;
        }
        s.oauth_providers.insert(key, row.clone());
        Ok(row)
    }

    async fn find_oauth_provider(
        &self,
        app_id: AppId,
        name: &str,
    ) -> Result<Option<OAuthProviderRecord>> {
        Ok(self
            .lock()
            .oauth_providers
            .get(&(app_id, name.to_owned()))
            .cloned())
    }

    async fn list_oauth_providers(&self, app_id: AppId) -> Result<Vec<OAuthProviderRecord>> {
        // The map is ordered by (app, name): names come out sorted.
        Ok(self
            .lock()
            .oauth_providers
            .values()
            .filter(|p| p.app_id == app_id)
            .cloned()
            .collect())
    }

    async fn delete_oauth_provider(&self, app_id: AppId, name: &str) -> Result<bool> {
        Ok(self
            .lock()
            .oauth_providers
            .remove(&(app_id, name.to_owned()))
            .is_some())
    }
}
