//! One-time tokens and codes ([`OneTimeTokenStore`]), stored by hash, and
//! the token insert the mail outbox shares.
//!
//! Atomic here (under the store's one mutex): a token is consumed once, a
//! code's guesses are all counted and the code spent at its limit, and a new
//! code replaces the earlier one of its (purpose, pool, subject).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tessera_core::crypto::TokenHash;
use tessera_core::model::*;
use tessera_core::store::OneTimeTokenStore;
use tessera_core::{Error, ErrorKind, Result};

use crate::MemoryStore;
use crate::state::State;

fn same_code_slot(a: &OneTimeToken, b: &OneTimeToken) -> bool {
    a.purpose == b.purpose && a.pool_id == b.pool_id && a.subject == b.subject
}

impl State {
    /// Check a token can be stored (plainly, or replacing its code slot).
    pub(crate) fn check_token_insert(&self, token: &OneTimeToken, replace: bool) -> Result<()> {
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

    /// Store a token checked by [`check_token_insert`](Self::check_token_insert).
    pub(crate) fn put_token(&mut self, token: &OneTimeToken, replace: bool) {
        if replace {
            self.tokens.retain(|_, t| !same_code_slot(t, token));
        }
        self.tokens.insert(token.hash, token.clone());
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
