//! The mail outbox: queued atomically with its token, leased to one worker at
//! a time (`FOR UPDATE SKIP LOCKED` on Postgres; SQLite has one writer).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::{QueryResult, Value};
use tessera_core::model::{OneTimeToken, OutboxMail};
use tessera_core::store::MailOutboxStore;
use tessera_core::{Error, ErrorKind, Result};
use uuid::Uuid;

use crate::SqlStore;
use crate::dialect::{Dialect, Row, cols, text, uuid};
use crate::exec::db;

const MAIL: &[&str] = &[
    "id",
    "sealed",
    "created_at",
    "attempts",
    "next_attempt_at",
    "leased_until",
    "last_error",
];

impl SqlStore {
    fn outbox_mail(&self, r: &QueryResult) -> Result<OutboxMail> {
        let r = Row::new(r, self.dialect, "m_");
        Ok(OutboxMail {
            id: r.uuid("id")?,
            sealed: r.get::<Vec<u8>>("sealed")?,
            created_at: r.ts("created_at")?,
            attempts: r.i32("attempts")?,
            next_attempt_at: r.ts("next_attempt_at")?,
            leased_until: r.ts_opt("leased_until")?,
            last_error: r.text_opt("last_error")?,
        })
    }
}

#[async_trait]
impl MailOutboxStore for SqlStore {
    async fn enqueue_mail(
        &self,
        mail: &OutboxMail,
        token: Option<&OneTimeToken>,
        replace_code: bool,
    ) -> Result<()> {
        let d = self.dialect;
        let tx = self.begin().await?;
        let r = async {
            if let Some(t) = token {
                self.store_token_in(&tx, t, replace_code).await?;
            }
            tx.exec(
                "INSERT INTO mail_outbox (id, sealed, created_at, attempts, next_attempt_at, leased_until, last_error) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                vec![
                    uuid(mail.id),
                    Value::Bytes(Some(mail.sealed.clone())),
                    d.ts(mail.created_at),
                    mail.attempts.into(),
                    d.ts(mail.next_attempt_at),
                    d.ts_opt(mail.leased_until),
                    Value::String(mail.last_error.clone()),
                ],
            )
            .await?;
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
            cols("", "m_", MAIL)
        );
        let rows = self
            .write_returning(
                &sql,
                vec![d.ts(now), d.ts(leased_until), i64::from(limit).into()],
                db,
            )
            .await?;
        let mut mail = rows
            .iter()
            .map(|r| self.outbox_mail(r))
            .collect::<Result<Vec<_>>>()?;
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
        if n == 0 {
            return Err(Error::new(ErrorKind::NotFound));
        }
        Ok(())
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
