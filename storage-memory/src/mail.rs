//! The mail outbox ([`MailOutboxStore`]): sealed messages waiting for the
//! mail worker.
//!
//! Atomic here (under the store's one mutex): a message is queued with the
//! one-time token it carries (both or neither), and each due message is
//! leased to one claimer at a time.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tessera_core::model::*;
use tessera_core::store::MailOutboxStore;
use tessera_core::{Error, ErrorKind, Result};
use uuid::Uuid;

use crate::MemoryStore;
use crate::state::not_found;

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
