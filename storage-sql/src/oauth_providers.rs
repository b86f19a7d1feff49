//! OAuth provider settings per app ([`OAuthProviderStore`]); the client
//! secret arrives sealed under the key-encryption key.
//!
//! Atomic here: a put is one upsert on (app, name), so the row is whole
//! before and after and an existing row keeps its `created_at`; deleting the
//! app deletes its providers (`ON DELETE CASCADE`). Each change and its
//! events are one transaction.

use async_trait::async_trait;
use sea_orm::Value;
use tessera_core::model::{AppId, NewEvent, OAuthProviderRecord};
use tessera_core::store::OAuthProviderStore;
use tessera_core::{Error, Result};

use crate::SqlStore;
use crate::dialect::{text, uuid};
use crate::rows::{FromRow, ToRow, table_row};

table_row!(OAuthProviderRecord, table "oauth_providers", prefix "o_", [
    app_id, name, kind, client_id, client_secret_sealed, config, enabled, created_at,
    updated_at,
]);

impl SqlStore {
    async fn oauth_providers_where(
        &self,
        cond: &str,
        values: Vec<Value>,
    ) -> Result<Vec<OAuthProviderRecord>> {
        let sql = format!(
            "SELECT {} FROM oauth_providers o {cond}",
            OAuthProviderRecord::columns("o")
        );
        let mut rows: Vec<OAuthProviderRecord> = self.select(&sql, values).await?;
        // Sorted here, by bytes, so no database collation can reorder names.
        rows.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(rows)
    }
}

#[async_trait]
impl OAuthProviderStore for SqlStore {
    async fn put_oauth_provider(
        &self,
        p: &OAuthProviderRecord,
        events: &[NewEvent],
    ) -> Result<OAuthProviderRecord> {
        // One upsert: the row is whole before and after, and `created_at` of
        // an existing row is kept.
        let sql = format!(
            "{} ON CONFLICT (app_id, name) DO UPDATE SET kind = excluded.kind, \
             client_id = excluded.client_id, \
             client_secret_sealed = excluded.client_secret_sealed, \
             config = excluded.config, enabled = excluded.enabled, \
             updated_at = excluded.updated_at \
             RETURNING {}",
            OAuthProviderRecord::insert_sql(),
            OAuthProviderRecord::columns("")
        );
        let tx = self.begin().await?;
        let r = async {
            let rows = tx.all(&sql, p.values(self.dialect)?).await?;
            tx.append_events(events).await?;
            Ok(rows)
        }
        .await;
        let rows = tx.finish(r).await?;
        match rows.first() {
            Some(r) => self.read(r),
            None => Err(Error::internal("upsert returned no row")),
        }
    }

    async fn find_oauth_provider(
        &self,
        app_id: AppId,
        name: &str,
    ) -> Result<Option<OAuthProviderRecord>> {
        Ok(self
            .oauth_providers_where(
                "WHERE o.app_id = $1 AND o.name = $2",
                vec![uuid(app_id), text(name)],
            )
            .await?
            .pop())
    }

    async fn list_oauth_providers(&self, app_id: AppId) -> Result<Vec<OAuthProviderRecord>> {
        self.oauth_providers_where("WHERE o.app_id = $1", vec![uuid(app_id)])
            .await
    }

    async fn delete_oauth_provider(
        &self,
        app_id: AppId,
        name: &str,
        events: &[NewEvent],
    ) -> Result<bool> {
        self.write_with_events(
            "DELETE FROM oauth_providers WHERE app_id = $1 AND name = $2",
            vec![uuid(app_id), text(name)],
            events,
        )
        .await
    }
}
