//! OAuth provider configurations, per app (the client secret arrives sealed).

use async_trait::async_trait;
use sea_orm::{QueryResult, Value};
use tessera_core::model::{AppId, OAuthProviderRecord};
use tessera_core::store::OAuthProviderStore;
use tessera_core::{Error, Result};

use crate::SqlStore;
use crate::dialect::{Row, cols, text, uuid};
use crate::exec::db;

const PROVIDER: &[&str] = &[
    "app_id",
    "name",
    "kind",
    "client_id",
    "client_secret_sealed",
    "config",
    "enabled",
    "created_at",
    "updated_at",
];

impl SqlStore {
    fn oauth_provider(&self, r: &QueryResult) -> Result<OAuthProviderRecord> {
        let r = Row::new(r, self.dialect, "o_");
        Ok(OAuthProviderRecord {
            app_id: r.uuid("app_id")?,
            name: r.text("name")?,
            kind: r.text("kind")?,
            client_id: r.text("client_id")?,
            client_secret_sealed: r.get::<Option<Vec<u8>>>("client_secret_sealed")?,
            config: r.json("config")?,
            enabled: r.bool("enabled")?,
            created_at: r.ts("created_at")?,
            updated_at: r.ts("updated_at")?,
        })
    }

    async fn oauth_providers_where(
        &self,
        cond: &str,
        values: Vec<Value>,
    ) -> Result<Vec<OAuthProviderRecord>> {
        let sql = format!(
            "SELECT {} FROM oauth_providers o {cond}",
            cols("o", "o_", PROVIDER)
        );
        let mut rows = self
            .all(&sql, values)
            .await?
            .iter()
            .map(|r| self.oauth_provider(r))
            .collect::<Result<Vec<_>>>()?;
        // Sorted here, by bytes, so no database collation can reorder names.
        rows.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(rows)
    }
}

#[async_trait]
impl OAuthProviderStore for SqlStore {
    async fn put_oauth_provider(&self, p: &OAuthProviderRecord) -> Result<OAuthProviderRecord> {
        // One upsert: the row is whole before and after, and `created_at` of
        // an existing row is kept.
        let d = self.dialect;
        let sql = format!(
            "INSERT INTO oauth_providers (app_id, name, kind, client_id, \
             client_secret_sealed, config, enabled, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (app_id, name) DO UPDATE SET kind = excluded.kind, \
             client_id = excluded.client_id, \
             client_secret_sealed = excluded.client_secret_sealed, \
             config = excluded.config, enabled = excluded.enabled, \
             updated_at = excluded.updated_at \
             RETURNING {}",
            cols("", "o_", PROVIDER)
        );
        let rows = self
            .write_returning(
                &sql,
                vec![
                    uuid(p.app_id),
                    text(&p.name),
                    text(&p.kind),
                    text(&p.client_id),
                    Value::Bytes(p.client_secret_sealed.clone()),
                    d.json(&p.config),
                    p.enabled.into(),
                    d.ts(p.created_at),
                    d.ts(p.updated_at),
                ],
                db,
            )
            .await?;
        match rows.first() {
            Some(r) => self.oauth_provider(r),
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

    async fn delete_oauth_provider(&self, app_id: AppId, name: &str) -> Result<bool> {
        let n = self
            .write(
                "DELETE FROM oauth_providers WHERE app_id = $1 AND name = $2",
                vec![uuid(app_id), text(name)],
                db,
            )
            .await?;
        Ok(n > 0)
    }
}
