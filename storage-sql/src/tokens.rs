//! Single-use secrets, signing keys and API keys.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::{QueryResult, Value};
use tessera_core::crypto::TokenHash;
use tessera_core::model::*;
use tessera_core::store::{ApiKeyStore, KeyStore, OneTimeTokenStore};
use tessera_core::{Error, ErrorKind, Result};
use uuid::Uuid;

use crate::SqlStore;
use crate::dialect::{Dialect, Row, cols, hash, text, text_opt, uuid, uuid_opt};
use crate::exec::{Tx, db};

const TOKEN: &[&str] = &[
    "hash",
    "purpose",
    "pool_id",
    "app_id",
    "user_id",
    "subject",
    "data",
    "attempts",
    "created_at",
    "expires_at",
];
const KEY: &[&str] = &[
    "kid",
    "alg",
    "private_key_sealed",
    "public_jwk",
    "created_at",
    "retired_at",
    "publish_until",
];
const API_KEY: &[&str] = &[
    "id",
    "name",
    "hash",
    "hint",
    "scopes",
    "created_at",
    "last_used_at",
    "expires_at",
    "revoked_at",
];

fn not_found() -> Error {
    Error::new(ErrorKind::NotFound)
}

impl SqlStore {
    fn token(&self, r: &QueryResult) -> Result<OneTimeToken> {
        let r = Row::new(r, self.dialect, "t_");
        Ok(OneTimeToken {
            hash: r.hash("hash")?,
            purpose: r.text("purpose")?,
            pool_id: r.uuid("pool_id")?,
            app_id: r.uuid_opt("app_id")?,
            user_id: r.uuid_opt("user_id")?,
            subject: r.text_opt("subject")?,
            data: r.json("data")?,
            attempts: r.i32("attempts")?,
            created_at: r.ts("created_at")?,
            expires_at: r.ts("expires_at")?,
        })
    }

    fn signing_key(&self, r: &QueryResult) -> Result<SigningKey> {
        let r = Row::new(r, self.dialect, "k_");
        let alg = r.text("alg")?;
        Ok(SigningKey {
            kid: r.text("kid")?,
            alg: SigningAlg::parse(&alg)
                .ok_or_else(|| Error::internal(format!("unknown key algorithm {alg:?}")))?,
            private_key_sealed: r.bytes("private_key_sealed")?,
            public_jwk: r.text("public_jwk")?,
            created_at: r.ts("created_at")?,
            retired_at: r.ts_opt("retired_at")?,
            publish_until: r.ts_opt("publish_until")?,
        })
    }

    fn api_key(&self, r: &QueryResult) -> Result<ApiKey> {
        let r = Row::new(r, self.dialect, "k_");
        Ok(ApiKey {
            id: r.uuid("id")?,
            name: r.text("name")?,
            hash: r.hash("hash")?,
            hint: r.text("hint")?,
            scopes: r.json_as("scopes")?,
            created_at: r.ts("created_at")?,
            last_used_at: r.ts_opt("last_used_at")?,
            expires_at: r.ts_opt("expires_at")?,
            revoked_at: r.ts_opt("revoked_at")?,
        })
    }

    fn token_values(&self, t: &OneTimeToken) -> Vec<Value> {
        let d = self.dialect;
        vec![
            hash(&t.hash),
            text(&t.purpose),
            uuid(t.pool_id),
            uuid_opt(t.app_id),
            uuid_opt(t.user_id),
            text_opt(t.subject.as_deref()),
            d.json(&t.data),
            t.attempts.into(),
            d.ts(t.created_at),
            d.ts(t.expires_at),
        ]
    }

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
        tx.exec(INSERT_TOKEN, self.token_values(token)).await?;
        Ok(())
    }

    fn key_values(&self, k: &SigningKey) -> Vec<Value> {
        let d = self.dialect;
        vec![
            text(&k.kid),
            text(k.alg.as_str()),
            Value::Bytes(Some(k.private_key_sealed.clone())),
            text(&k.public_jwk),
            d.ts(k.created_at),
            d.ts_opt(k.retired_at),
            d.ts_opt(k.publish_until),
        ]
    }

    async fn active_keys(&self) -> Result<Vec<SigningKey>> {
        let sql = format!(
            "SELECT {} FROM signing_keys k WHERE k.retired_at IS NULL ORDER BY k.created_at, k.kid",
            cols("k", "k_", KEY)
        );
        self.all(&sql, vec![])
            .await?
            .iter()
            .map(|r| self.signing_key(r))
            .collect()
    }
}

const INSERT_TOKEN: &str = "INSERT INTO one_time_tokens (hash, purpose, pool_id, app_id, \
     user_id, subject, data, attempts, created_at, expires_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";

const INSERT_KEY: &str = "INSERT INTO signing_keys (kid, alg, private_key_sealed, public_jwk, \
     created_at, retired_at, publish_until) VALUES ($1, $2, $3, $4, $5, $6, $7)";

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
        self.write(INSERT_TOKEN, self.token_values(token), db)
            .await?;
        Ok(())
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
            cols("", "t_", TOKEN)
        );
        let rows = self
            .write_returning(&sql, vec![hash(hash_), text(purpose)], db)
            .await?;
        let Some(row) = rows.first() else {
            return Err(Error::new(ErrorKind::InvalidToken));
        };
        let token = self.token(row)?;
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
            cols("t", "t_", TOKEN)
        );
        self.one(&sql, vec![hash(hash_), text(purpose), self.dialect.ts(now)])
            .await?
            .map(|r| self.token(&r))
            .transpose()
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
                cols("t", "t_", TOKEN),
                tx.d.for_update("t")
            );
            let Some(row) = tx
                .one(&sql, vec![text(purpose), uuid(pool_id), text(subject)])
                .await?
            else {
                return Ok(CodeAttempt::NotFound);
            };
            let token = self.token(&row)?;
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

#[async_trait]
impl KeyStore for SqlStore {
    async fn list_signing_keys(&self) -> Result<Vec<SigningKey>> {
        let sql = format!(
            "SELECT {} FROM signing_keys k ORDER BY k.created_at, k.kid",
            cols("k", "k_", KEY)
        );
        self.all(&sql, vec![])
            .await?
            .iter()
            .map(|r| self.signing_key(r))
            .collect()
    }

    async fn insert_first_signing_key(&self, key: &SigningKey) -> Result<SigningKey> {
        // The partial unique index allows one active key: of racing first
        // inserts one lands, the others do nothing, and all read the winner.
        let mut active = key.clone();
        active.retired_at = None;
        active.publish_until = None;
        self.write(
            &format!("{INSERT_KEY} ON CONFLICT DO NOTHING"),
            self.key_values(&active),
            db,
        )
        .await?;
        self.active_keys()
            .await?
            .pop()
            .ok_or_else(|| Error::new(ErrorKind::Conflict))
    }

    async fn rotate_signing_key(
        &self,
        key: &SigningKey,
        now: DateTime<Utc>,
        publish_until: DateTime<Utc>,
    ) -> Result<()> {
        let d = self.dialect;
        let tx = self.begin().await?;
        let r = async {
            tx.exec(
                "UPDATE signing_keys SET retired_at = $1, publish_until = $2 \
                 WHERE retired_at IS NULL",
                vec![d.ts(now), d.ts(publish_until)],
            )
            .await?;
            tx.exec(INSERT_KEY, self.key_values(key)).await?;
            Ok(())
        }
        .await;
        tx.finish(r).await
    }

    async fn delete_unpublished_keys(&self, cutoff: DateTime<Utc>) -> Result<u64> {
        self.write(
            "DELETE FROM signing_keys WHERE retired_at IS NOT NULL AND publish_until < $1",
            vec![self.dialect.ts(cutoff)],
            db,
        )
        .await
    }
}

#[async_trait]
impl ApiKeyStore for SqlStore {
    async fn insert_api_key(&self, key: &ApiKey) -> Result<()> {
        let d = self.dialect;
        let scopes = serde_json::to_value(&key.scopes).map_err(Error::internal)?;
        self.write(
            "INSERT INTO api_keys (id, name, hash, hint, scopes, created_at, last_used_at, \
             expires_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            vec![
                uuid(key.id),
                text(&key.name),
                hash(&key.hash),
                text(&key.hint),
                d.json(&scopes),
                d.ts(key.created_at),
                d.ts_opt(key.last_used_at),
                d.ts_opt(key.expires_at),
                d.ts_opt(key.revoked_at),
            ],
            db,
        )
        .await?;
        Ok(())
    }

    async fn find_api_key(&self, hash_: &TokenHash) -> Result<Option<ApiKey>> {
        let sql = format!(
            "SELECT {} FROM api_keys k WHERE k.hash = $1",
            cols("k", "k_", API_KEY)
        );
        self.one(&sql, vec![hash(hash_)])
            .await?
            .map(|r| self.api_key(&r))
            .transpose()
    }

    async fn list_api_keys(&self) -> Result<Vec<ApiKey>> {
        let sql = format!(
            "SELECT {} FROM api_keys k ORDER BY k.created_at, k.id",
            cols("k", "k_", API_KEY)
        );
        self.all(&sql, vec![])
            .await?
            .iter()
            .map(|r| self.api_key(r))
            .collect()
    }

    async fn revoke_api_key(&self, id: Uuid, now: DateTime<Utc>) -> Result<()> {
        let n = self
            .write(
                "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1",
                vec![uuid(id), self.dialect.ts(now)],
                db,
            )
            .await?;
        if n == 0 {
            return Err(not_found());
        }
        Ok(())
    }

    async fn touch_api_key(&self, id: Uuid, now: DateTime<Utc>) -> Result<()> {
        let n = self
            .write(
                "UPDATE api_keys SET last_used_at = $2 WHERE id = $1",
                vec![uuid(id), self.dialect.ts(now)],
                db,
            )
            .await?;
        if n == 0 {
            return Err(not_found());
        }
        Ok(())
    }
}
