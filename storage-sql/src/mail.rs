//! The mail outbox ([`MailOutboxStore`]): sealed messages waiting for the
//! mail worker.
//!
//! Atomic here: a message is queued in one transaction with the one-time
//! token it carries (both or neither), and claimed under a lease by one
//! `UPDATE … RETURNING` (`FOR UPDATE SKIP LOCKED` on Postgres; SQLite has one
//! writer), so of racing workers each message goes to one.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tessera_core::Result;
use tessera_core::model::{OneTimeToken, OutboxMail};
use tessera_core::store::MailOutboxStore;
use uuid::Uuid;

use crate::SqlStore;
use crate::dialect::{Dialect, text, uuid};
use crate::exec::db;
use crate::rows::{FromRow, found, table_row};

table_row!(OutboxMail, table "mail_outbox", prefix "m_", [
    id, sealed, created_at, attempts, next_attempt_at, leased_until, last_error,
]);

#[async_trait]
impl MailOutboxStore for SqlStore {
    async fn enqueue_mail(
        &self,
        mail: &OutboxMail,
        token: Option<&OneTimeToken>,
        replace_code: bool,
    ) -> Result<()> {
        let tx = self.begin().await?;
        let r = async {
            if let Some(t) = token {
                self.store_token_in(&tx, t, replace_code).await?;
            }
            tx.insert_row(mail).await?;
            Ok(())
        }
        .await;
        tx.finish(r).await
    }

    async fn claim_mail(
        &self,
        now: DateTime<Utc>,
        leased_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<OutboxMail>> {
        let d = self.dialect;
        let lock = match d {
            Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
            Dialect::Sqlite => "",
        };
        let sql = format!(
            "UPDATE mail_outbox SET leased_until = $2, attempts = attempts + 1 WHERE id IN (\
             SELECT id FROM mail_outbox WHERE next_attempt_at <= $1 AND (leased_until IS NULL OR leased_until <= $1) \
             ORDER BY created_at, id LIMIT $3{lock}) RETURNING {}",
            OutboxMail::columns("")
        );
        let rows = self
            .write_returning(
                &sql,
                vec![d.ts(now), d.ts(leased_until), i64::from(limit).into()],
                db,
            )
            .await?;
        let mut mail: Vec<OutboxMail> = self.read_all(&rows)?;
        mail.sort_by_key(|m| (m.created_at, m.id));
        Ok(mail)
    }

    async fn complete_mail(&self, id: Uuid) -> Result<()> {
        self.write("DELETE FROM mail_outbox WHERE id = $1", vec![uuid(id)], db)
            .await?;
        Ok(())
    }

    async fn retry_mail(
        &self,
        id: Uuid,
        next_attempt_at: DateTime<Utc>,
        error: &str,
    ) -> Result<()> {
        let n = self
            .write(
                "UPDATE mail_outbox SET leased_until = NULL, next_attempt_at = $2, last_error = $3 WHERE id = $1",
                vec![uuid(id), self.dialect.ts(next_attempt_at), text(error)],
                db,
            )
            .await?;
        found(n)
    }

    async fn pending_mail(&self) -> Result<u64> {
        let row = self
            .one("SELECT COUNT(*) AS n FROM mail_outbox", vec![])
            .await?;
        let n: i64 = match row {
            Some(r) => r.try_get("", "n").map_err(db)?,
            None => 0,
        };
        Ok(n.max(0) as u64)
    }
}
