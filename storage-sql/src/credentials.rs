//! Credentials ([`CredentialStore`]): the password hash, passkeys, TOTP
//! secrets and recovery codes of a user.
//!
//! Atomic here: one password per user (a partial unique index; `set_password`
//! is one upsert on it), and a single-use credential such as a recovery code
//! is spent by one `DELETE`, so of racing callers exactly one gets it. Each
//! change and its events are one transaction.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tessera_core::Result;
use tessera_core::model::*;
use tessera_core::store::CredentialStore;
use uuid::Uuid;

use crate::SqlStore;
use crate::dialect::{text, text_opt, uuid};
use crate::exec::db;
use crate::rows::{FromRow, found, table_row};

table_row!(Credential, table "credentials", prefix "c_", [
    id, user_id, kind, name, secret, data, created_at, last_used_at,
]);

#[async_trait]
impl CredentialStore for SqlStore {
    async fn set_password(
        &self,
        user_id: UserId,
        phc: &str,
        now: DateTime<Utc>,
        events: &[NewEvent],
    ) -> Result<()> {
        let d = self.dialect;
        let tx = self.begin().await?;
        let r = async {
            tx.exec(
                "INSERT INTO credentials (id, user_id, kind, name, secret, data, created_at, \
                 last_used_at) VALUES ($1, $2, 'password', NULL, $3, $4, $5, $6) \
                 ON CONFLICT (user_id) WHERE kind = 'password' DO UPDATE SET secret = excluded.secret",
                vec![
                    uuid(tessera_core::new_id(now)),
                    uuid(user_id),
                    text(phc),
                    d.json(&serde_json::json!({})),
                    d.ts(now),
                    d.ts_opt(None),
                ],
            )
            .await?;
            tx.append_events(events).await
        }
        .await;
        tx.finish(r).await
    }

    async fn insert_credential(&self, credential: &Credential, events: &[NewEvent]) -> Result<()> {
        let tx = self.begin().await?;
        let r = async {
            tx.insert_row(credential).await?;
            tx.append_events(events).await
        }
        .await;
        tx.finish(r).await
    }

    async fn list_credentials(
        &self,
        user_id: UserId,
        kind: Option<CredentialKind>,
    ) -> Result<Vec<Credential>> {
        let mut values = vec![uuid(user_id)];
        let mut cond = String::from("c.user_id = $1");
        if let Some(k) = kind {
            values.push(text(k.as_str()));
            cond.push_str(" AND c.kind = $2");
        }
        let sql = format!(
            "SELECT {} FROM credentials c WHERE {cond} ORDER BY c.created_at, c.id",
            Credential::columns("c")
        );
        self.select(&sql, values).await
    }

    async fn update_credential(&self, c: &Credential, events: &[NewEvent]) -> Result<()> {
        let tx = self.begin().await?;
        let r = async {
            let n = tx
                .exec(
                    "UPDATE credentials SET secret = $3, data = $4, name = $5 \
                     WHERE id = $1 AND user_id = $2",
                    vec![
                        uuid(c.id),
                        uuid(c.user_id),
                        text(&c.secret),
                        self.dialect.json(&c.data),
                        text_opt(c.name.as_deref()),
                    ],
                )
                .await?;
            found(n)?;
            tx.append_events(events).await
        }
        .await;
        tx.finish(r).await
    }

    async fn touch_credential(&self, id: Uuid, now: DateTime<Utc>) -> Result<()> {
        let n = self
            .write(
                "UPDATE credentials SET last_used_at = $2 WHERE id = $1",
                vec![uuid(id), self.dialect.ts(now)],
                db,
            )
            .await?;
        found(n)
    }

    async fn delete_credential(
        &self,
        user_id: UserId,
        id: Uuid,
        events: &[NewEvent],
    ) -> Result<bool> {
        self.write_with_events(
            "DELETE FROM credentials WHERE id = $1 AND user_id = $2",
            vec![uuid(id), uuid(user_id)],
            events,
        )
        .await
    }

    async fn consume_credential(
        &self,
        user_id: UserId,
        kind: CredentialKind,
        secret: &str,
        events: &[NewEvent],
    ) -> Result<bool> {
        // One DELETE: of racing callers, only one deletes the row (and
        // writes the events).
        self.write_with_events(
            "DELETE FROM credentials WHERE id IN (SELECT id FROM credentials \
             WHERE user_id = $1 AND kind = $2 AND secret = $3 ORDER BY created_at, id LIMIT 1)",
            vec![uuid(user_id), text(kind.as_str()), text(secret)],
            events,
        )
        .await
    }
}
