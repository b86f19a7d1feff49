//! External identities ([`IdentityStore`]): a provider's subject (Google,
//! GitHub, …) linked to a user.
//!
//! Atomic here: one identity per (pool, provider, subject), checked by the
//! insert itself (it does nothing on the unique triple: `IdentityTaken`), so
//! two racing links of one subject never both land. Each change and its
//! events are one transaction.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tessera_core::model::*;
use tessera_core::store::IdentityStore;
use tessera_core::{Error, ErrorKind, Result};
use uuid::Uuid;

use crate::SqlStore;
use crate::dialect::{text, uuid};
use crate::exec::{Tx, db};
use crate::rows::{FromRow, ToRow, found, table_row};

table_row!(Identity, table "identities", prefix "i_", [
    id, pool_id, user_id, provider, subject, email, email_verified, profile, created_at,
    last_used_at,
]);

impl Tx<'_> {
    /// Insert an identity in this transaction: `IdentityTaken` (without
    /// failing the transaction) when its (pool, provider, subject) is linked.
    pub(crate) async fn insert_identity(&self, i: &Identity) -> Result<()> {
        let sql = format!(
            "{} ON CONFLICT (pool_id, provider, subject) DO NOTHING RETURNING id",
            Identity::insert_sql()
        );
        if self.all(&sql, i.values(self.d)?).await?.is_empty() {
            return Err(Error::new(ErrorKind::IdentityTaken));
        }
        Ok(())
    }
}

#[async_trait]
impl IdentityStore for SqlStore {
    async fn insert_identity(&self, i: &Identity, events: &[NewEvent]) -> Result<()> {
        let tx = self.begin().await?;
        let r = async {
            tx.insert_identity(i).await?;
            tx.append_events(events).await
        }
        .await;
        tx.finish(r).await
    }

    async fn find_identity(
        &self,
        pool_id: PoolId,
        provider: &str,
        subject: &str,
    ) -> Result<Option<Identity>> {
        let sql = format!(
            "SELECT {} FROM identities i WHERE i.pool_id = $1 AND i.provider = $2 AND i.subject = $3",
            Identity::columns("i")
        );
        self.select_one(&sql, vec![uuid(pool_id), text(provider), text(subject)])
            .await
    }

    async fn list_identities(&self, user_id: UserId) -> Result<Vec<Identity>> {
        let sql = format!(
            "SELECT {} FROM identities i WHERE i.user_id = $1 ORDER BY i.created_at, i.id",
            Identity::columns("i")
        );
        self.select(&sql, vec![uuid(user_id)]).await
    }

    async fn touch_identity(
        &self,
        id: Uuid,
        profile: &serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let d = self.dialect;
        let n = self
            .write(
                "UPDATE identities SET profile = $2, last_used_at = $3 WHERE id = $1",
                vec![uuid(id), d.json(profile), d.ts(now)],
                db,
            )
            .await?;
        found(n)
    }

    async fn delete_identity(
        &self,
        user_id: UserId,
        id: Uuid,
        events: &[NewEvent],
    ) -> Result<bool> {
        self.write_with_events(
            "DELETE FROM identities WHERE id = $1 AND user_id = $2",
            vec![uuid(id), uuid(user_id)],
            events,
        )
        .await
    }
}
