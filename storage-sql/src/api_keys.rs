//! Admin API keys ([`ApiKeyStore`]), stored only as hashes.
//!
//! Atomic here: an id and a hash are unique (constraints: `Conflict`), and
//! revoking is one conditional `UPDATE` that keeps the first revocation time,
//! so racing revocations agree on it.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::Value;
use tessera_core::crypto::TokenHash;
use tessera_core::model::ApiKey;
use tessera_core::store::ApiKeyStore;
use tessera_core::{Error, Result};
use uuid::Uuid;

use crate::SqlStore;
use crate::dialect::{Dialect, Row, hash, text, uuid};
use crate::exec::db;
use crate::rows::{FromRow, ToRow, found};

impl FromRow for ApiKey {
    const COLUMNS: &'static [&'static str] = &[
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
    const PREFIX: &'static str = "k_";

    fn from_row(r: &Row<'_>) -> Result<Self> {
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
}

impl ToRow for ApiKey {
    const TABLE: &'static str = "api_keys";

    fn values(&self, d: Dialect) -> Result<Vec<Value>> {
        let scopes = serde_json::to_value(&self.scopes).map_err(Error::internal)?;
        Ok(vec![
            uuid(self.id),
            text(&self.name),
            hash(&self.hash),
            text(&self.hint),
            d.json(&scopes),
            d.ts(self.created_at),
            d.ts_opt(self.last_used_at),
            d.ts_opt(self.expires_at),
            d.ts_opt(self.revoked_at),
        ])
    }
}

#[async_trait]
impl ApiKeyStore for SqlStore {
    async fn insert_api_key(&self, key: &ApiKey) -> Result<()> {
        self.write(&ApiKey::insert(), key.values(self.dialect)?, db)
            .await?;
        Ok(())
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

    async fn revoke_api_key(&self, id: Uuid, now: DateTime<Utc>) -> Result<()> {
        let n = self
            .write(
                "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1",
                vec![uuid(id), self.dialect.ts(now)],
                db,
            )
            .await?;
        found(n)
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
