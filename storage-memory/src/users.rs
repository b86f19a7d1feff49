//! Users ([`UserStore`]), and the user lookup the other trait files share.
//!
//! Atomic here (under the store's one mutex): one user per (pool, email)
//! (`EmailTaken`), a sign-up stores its user and first sign-in method
//! together or neither, and deleting a sign-in method never leaves a user
//! with none (`LastSignInMethod`); deleting a user removes everything keyed
//! to them. Each change writes its events with it.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tessera_core::model::*;
use tessera_core::store::{EventsOf, UserStore};
use tessera_core::{Error, ErrorKind, Result};
use uuid::Uuid;

use crate::MemoryStore;
use crate::state::{State, not_found};

impl State {
    /// The user `id`, or `NotFound`.
    pub(crate) fn user_row(&self, id: Uuid) -> Result<&User> {
        self.users.get(&id).ok_or_else(not_found)
    }
}

#[async_trait]
impl UserStore for MemoryStore {
    async fn create_user(
        &self,
        user: &User,
        first: Option<FirstSignIn<'_>>,
        events: &[NewEvent],
    ) -> Result<()> {
        let mut s = self.lock();
        if !s.pools.contains_key(&user.pool_id) {
            return Err(not_found());
        }
        if s.emails.contains_key(&(user.pool_id, user.email.clone())) {
            return Err(Error::new(ErrorKind::EmailTaken));
        }
        if s.users.contains_key(&user.id) {
            return Err(Error::new(ErrorKind::Conflict));
        }
        match first {
            Some(FirstSignIn::Password(c)) => {
                if c.user_id != user.id {
                    return Err(Error::invalid(
                        "user_id",
                        "the credential belongs to another user",
                    ));
                }
                if s.credentials.contains_key(&c.id) {
                    return Err(Error::new(ErrorKind::Conflict));
                }
            }
            Some(FirstSignIn::Identity(i)) => {
                if i.user_id != user.id || i.pool_id != user.pool_id {
                    return Err(Error::invalid(
                        "user_id",
                        "the identity belongs to another user or pool",
                    ));
                }
                s.check_identity_insert(i)?;
            }
            None => {}
        }
        s.check_events(events)?;
        s.emails.insert((user.pool_id, user.email.clone()), user.id);
        s.users.insert(user.id, user.clone());
        match first {
            Some(FirstSignIn::Password(c)) => {
                s.credentials.insert(c.id, c.clone());
            }
            Some(FirstSignIn::Identity(i)) => {
                s.identities.insert(i.id, i.clone());
            }
            None => {}
        }
        s.write_events(events);
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

    async fn update_user(
        &self,
        id: UserId,
        patch: &UserPatch,
        now: DateTime<Utc>,
        events: EventsOf<'_, User>,
    ) -> Result<User> {
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
        let events = events(&user);
        s.check_events(&events)?;
        s.write_events(&events);
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
        events: &[NewEvent],
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
        s.check_events(events)?;
        s.write_events(events);
        match target {
            SignInMethodRef::Credential(id) => s.credentials.remove(&id).map(|_| ()),
            SignInMethodRef::Identity(id) => s.identities.remove(&id).map(|_| ()),
        };
        Ok(true)
    }

    async fn delete_user(&self, id: UserId, events: &[NewEvent]) -> Result<()> {
        let mut s = self.lock();
        s.user_row(id)?;
        s.check_events(events)?;
        s.write_events(events);
        let user = s.users.remove(&id).ok_or_else(not_found)?;
        s.emails.remove(&(user.pool_id, user.email));
        s.credentials.retain(|_, c| c.user_id != id);
        s.identities.retain(|_, i| i.user_id != id);
        s.tokens.retain(|_, t| t.user_id != Some(id));
        s.remove_sessions(|x| x.user_id == id);
        Ok(())
    }
}
