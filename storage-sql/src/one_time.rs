//! One-time tokens and codes ([`OneTimeTokenStore`]): email verification,
//! password reset, magic links, sign-in codes, MFA challenges; stored only
//! as hashes.
//!
//! Atomic here: a token is consumed exactly once (one `DELETE … RETURNING`:
//! of racing callers one gets the row), and a code's guesses are counted and
//! the code spent at its limit in one short transaction under a lock on its
//! (purpose, pool, subject), so racing wrong guesses are all counted and a
//! right guess wins once. A new code replaces the earlier one in the same
//! transaction.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::Value;
use tessera_core::crypto::TokenHash;
use tessera_core::model::*;
use tessera_core::store::OneTimeTokenStore;
use tessera_core::{Error, ErrorKind, Result};
use uuid::Uuid;

use crate::SqlStore;
use crate::dialect::{Dialect, hash, text, uuid};
use crate::exec::{Tx, db};
use crate::rows::{FromRow, table_row};

table_row!(OneTimeToken, table "one_time_tokens", prefix "t_", [
    hash, purpose, pool_id, app_id, user_id, subject, data, attempts, created_at, expires_at,
]);

impl SqlStore {
    /// Store `token` inside `tx`: a plain insert, or (`replace`) replacing any
    /// token of the same purpose, pool and subject.
    pub(crate) async fn store_token_in(
        &self,
        tx: &Tx<'_>,
        token: &OneTimeToken,
        replace: bool,
    ) -> Result<()> {
        if replace {
            lock_subject(tx, &token.purpose, token.pool_id, token.subject.as_deref()).await?;
            let mut values = vec![text(&token.purpose), uuid(token.pool_id)];
            let subject = subject_is(token.subject.as_deref(), 3, &mut values);
            tx.exec(
                &format!(
                    "DELETE FROM one_time_tokens WHERE purpose = $1 AND pool_id = $2 AND {subject}"
                ),
                values,
            )
            .await?;
        }
        // A hash that belongs to another purpose, pool or subject is a unique
        // violation: `Conflict`, and the transaction is rolled back.
        tx.insert_row(token).await
    }
}

/// `subject = $n`, or `subject IS NULL` for no subject.
fn subject_is(subject: Option<&str>, n: usize, values: &mut Vec<Value>) -> String {
    match subject {
        Some(s) => {
            values.push(text(s));
            format!("subject = ${n}")
        }
        None => "subject IS NULL".to_owned(),
    }
}

/// On Postgres, serialise code operations on one (purpose, pool, subject)
/// within the transaction: an advisory lock on a hash of the triple.
async fn lock_subject(
    tx: &Tx<'_>,
    purpose: &str,
    pool_id: Uuid,
    subject: Option<&str>,
) -> Result<()> {
    if tx.d == Dialect::Postgres {
        let h = TokenHash::of(&format!(
            "{purpose}\u{0}{pool_id}\u{0}{}",
            subject.unwrap_or("")
        ));
        let mut key = [0u8; 8];
        key.copy_from_slice(&h.as_bytes()[..8]);
        tx.exec(
            "SELECT pg_advisory_xact_lock($1)",
            vec![i64::from_le_bytes(key).into()],
        )
        .await?;
    }
    Ok(())
}

#[async_trait]
impl OneTimeTokenStore for SqlStore {
    async fn insert_token(&self, token: &OneTimeToken) -> Result<()> {
        self.insert_row(token).await
    }

    async fn replace_code(&self, token: &OneTimeToken) -> Result<()> {
        let tx = self.begin().await?;
        let r = self.store_token_in(&tx, token, true).await;
        tx.finish(r).await
    }

    async fn consume_token(
        &self,
        purpose: &str,
        hash_: &TokenHash,
        now: DateTime<Utc>,
    ) -> Result<OneTimeToken> {
        // One DELETE … RETURNING: of racing callers, exactly one gets the row.
        let sql = format!(
            "DELETE FROM one_time_tokens WHERE hash = $1 AND purpose = $2 RETURNING {}",
            OneTimeToken::columns("")
        );
        let rows = self
            .write_returning(&sql, vec![hash(hash_), text(purpose)], db)
            .await?;
        let Some(row) = rows.first() else {
            return Err(Error::new(ErrorKind::InvalidToken));
        };
        let token: OneTimeToken = self.read(row)?;
        if token.expires_at <= now {
            return Err(Error::new(ErrorKind::TokenExpired));
        }
        Ok(token)
    }

    async fn find_token(
        &self,
        purpose: &str,
        hash_: &TokenHash,
        now: DateTime<Utc>,
    ) -> Result<Option<OneTimeToken>> {
        let sql = format!(
            "SELECT {} FROM one_time_tokens t WHERE t.hash = $1 AND t.purpose = $2 \
             AND t.expires_at > $3",
            OneTimeToken::columns("t")
        );
        self.select_one(&sql, vec![hash(hash_), text(purpose), self.dialect.ts(now)])
            .await
    }

    async fn attempt_code(
        &self,
        purpose: &str,
        pool_id: PoolId,
        subject: &str,
        hash_: &TokenHash,
        max_attempts: u32,
        now: DateTime<Utc>,
    ) -> Result<CodeAttempt> {
        let tx = self.begin().await?;
        let r = async {
            lock_subject(&tx, purpose, pool_id, Some(subject)).await?;
            let sql = format!(
                "SELECT {} FROM one_time_tokens t WHERE t.purpose = $1 AND t.pool_id = $2 \
                 AND t.subject = $3 ORDER BY t.created_at, t.hash LIMIT 1{}",
                OneTimeToken::columns("t"),
                tx.d.for_update("t")
            );
            let Some(row) = tx
                .one(&sql, vec![text(purpose), uuid(pool_id), text(subject)])
                .await?
            else {
                return Ok(CodeAttempt::NotFound);
            };
            let token: OneTimeToken = self.read(&row)?;
            let delete = async || {
                tx.exec(
                    "DELETE FROM one_time_tokens WHERE hash = $1",
                    vec![hash(&token.hash)],
                )
                .await
            };
            if token.expires_at <= now {
                delete().await?;
                return Ok(CodeAttempt::Expired);
            }
            if token.hash == *hash_ {
                delete().await?;
                return Ok(CodeAttempt::Accepted(Box::new(token)));
            }
            let attempts = token.attempts.saturating_add(1);
            let left = max_attempts.saturating_sub(attempts.max(0) as u32);
            if left == 0 {
                delete().await?;
            } else {
                tx.exec(
                    "UPDATE one_time_tokens SET attempts = $2 WHERE hash = $1",
                    vec![hash(&token.hash), attempts.into()],
                )
                .await?;
            }
            Ok(CodeAttempt::Rejected {
                attempts_left: left,
            })
        }
        .await;
        tx.finish(r).await
    }

    async fn delete_user_tokens(&self, user_id: UserId, purpose: &str) -> Result<u64> {
        self.write(
            "DELETE FROM one_time_tokens WHERE user_id = $1 AND purpose = $2",
            vec![uuid(user_id), text(purpose)],
            db,
        )
        .await
    }

    async fn delete_expired_tokens(&self, cutoff: DateTime<Utc>) -> Result<u64> {
        self.write(
            "DELETE FROM one_time_tokens WHERE expires_at < $1",
            vec![self.dialect.ts(cutoff)],
            db,
        )
        .await
    }
}
