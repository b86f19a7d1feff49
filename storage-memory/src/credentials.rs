//! Credentials ([`CredentialStore`]): the password hash, passkeys, TOTP
//! secrets and recovery codes of a user.
//!
//! Atomic here (under the store's one mutex): one password per user
//! (`set_password` replaces it; a second insert is `Conflict`), and a
//! single-use credential is spent once by whoever finds it first. Each
//! change writes its events with it.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tessera_core::model::*;
use tessera_core::store::CredentialStore;
use tessera_core::{Error, ErrorKind, Result};
use uuid::Uuid;

use crate::MemoryStore;
use crate::state::not_found;

#[async_trait]
impl CredentialStore for MemoryStore {
    async fn set_password(
        &self,
        user_id: UserId,
        phc: &str,
        now: DateTime<Utc>,
        events: &[NewEvent],
    ) -> Result<()> {
        let mut s = self.lock();
        s.user_row(user_id)?;
        s.check_events(events)?;
        s.write_events(events);
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

    async fn insert_credential(&self, credential: &Credential, events: &[NewEvent]) -> Result<()> {
        let mut s = self.lock();
        s.user_row(credential.user_id)?;
        let second_password = credential.kind == CredentialKind::Password
            && s.credentials
                .values()
                .any(|c| c.user_id == credential.user_id && c.kind == CredentialKind::Password);
        if s.credentials.contains_key(&credential.id) || second_password {
            return Err(Error::new(ErrorKind::Conflict));
        }
        s.check_events(events)?;
        s.credentials.insert(credential.id, credential.clone());
        s.write_events(events);
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

    async fn update_credential(&self, credential: &Credential, events: &[NewEvent]) -> Result<()> {
        let mut s = self.lock();
        if s.credentials
            .get(&credential.id)
            .is_none_or(|c| c.user_id != credential.user_id)
        {
            return Err(not_found());
        }
        s.check_events(events)?;
        s.write_events(events);
        let row = s
            .credentials
            .get_mut(&credential.id)
            .expect("checked above");
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

    async fn delete_credential(
        &self,
        user_id: UserId,
        id: Uuid,
        events: &[NewEvent],
    ) -> Result<bool> {
        let mut s = self.lock();
        if s.credentials.get(&id).is_some_and(|c| c.user_id == user_id) {
            s.check_events(events)?;
            s.credentials.remove(&id);
            s.write_events(events);
            return Ok(true);
        }
        Ok(false)
    }

    async fn consume_credential(
        &self,
        user_id: UserId,
        kind: CredentialKind,
        secret: &str,
        events: &[NewEvent],
    ) -> Result<bool> {
        let mut s = self.lock();
        let Some(id) = s
            .credentials
            .values()
            .find(|c| c.user_id == user_id && c.kind == kind && c.secret == secret)
            .map(|c| c.id)
        else {
            return Ok(false);
        };
        s.check_events(events)?;
        s.credentials.remove(&id);
        s.write_events(events);
        Ok(true)
    }
}
