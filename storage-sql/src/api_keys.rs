//! Admin API keys ([`ApiKeyStore`]), stored only as hashes.
//!
//! Atomic here: an id and a hash are unique (constraints: `Conflict`), and
//! revoking is one conditional `UPDATE` that keeps the first revocation time,
//! so racing revocations agree on it (and only the first writes its events).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tessera_core::Result;
use tessera_core::crypto::TokenHash;
use tessera_core::model::{ApiKey, NewEvent};
use tessera_core::store::ApiKeyStore;
use uuid::Uuid;

use crate::SqlStore;
use crate::dialect::{hash, uuid};
use crate::exec::db;
use crate::rows::{FromRow, found, table_row};

table_row!(ApiKey, table "api_keys", prefix "k_", [
    id, name, hash, hint, scopes, created_at, last_used_at, expires_at, revoked_at,
]);

#[async_trait]
impl ApiKeyStore for SqlStore {
    async fn insert_api_key(&self, key: &ApiKey, events: &[NewEvent]) -> Result<()> {
        let tx = self.begin().await?;
        let r = async {
            tx.insert_row(key).await?;
            tx.append_events(events).await
        }
        .await;
        tx.finish(r).await
    }

    async fn find_api_key(&self, hash_: &TokenHash) -> Result<Option<ApiKey>> {
        let sql = format!(
            "SELECT {} FROM api_keys k WHERE k.hash = $1",
            ApiKey::columns("k")
        );
        self.select_one(&sql, vec![hash(hash_)]).await
    }

    async fn list_api_keys(&self) -> Result<Vec<ApiKey>> {
        let sql = format!(
            "SELECT {} FROM api_keys k ORDER BY k.created_at, k.id",
            ApiKey::columns("k")
        );
        self.select(&sql, vec![]).await
    }

    async fn revoke_api_key(
        &self,
        id: Uuid,
        now: DateTime<Utc>,
        events: &[NewEvent],
    ) -> Result<()> {
        let revoked = self
            .write_with_events(
                "UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
                vec![uuid(id), self.dialect.ts(now)],
                events,
            )
            .await?;
        if revoked {
            return Ok(());
        }
        // Revoked already (the first time stays), or missing.
        let exists = self
            .one(
                "SELECT 1 AS one FROM api_keys WHERE id = $1",
                vec![uuid(id)],
            )
            .await?;
        found(u64::from(exists.is_some()))
    }

    async fn touch_api_key(&self, id: Uuid, now: DateTime<Utc>) -> Result<()> {
        let n = self
            .write(
                "UPDATE api_keys SET last_used_at = $2 WHERE id = $1",
                vec![uuid(id), self.dialect.ts(now)],
                db,
            )
            .await?;
        found(n)
    }
}
