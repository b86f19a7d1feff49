//! Pools and apps ([`AppStore`]).
//!
//! Atomic here: a slug is unique among pools and among apps (unique
//! constraints: a second one is `Conflict`), an app belongs to an existing
//! pool (foreign key: `NotFound`), and deleting an app takes its sessions,
//! OAuth provider settings and webhook endpoints with it (`ON DELETE
//! CASCADE`) in the same statement. Each change and its events are one
//! transaction.

use async_trait::async_trait;
use sea_orm::Value;
use tessera_core::Result;
use tessera_core::model::{App, AppId, NewEvent, Pool, PoolId};
use tessera_core::store::AppStore;

use crate::SqlStore;
use crate::dialect::{text, uuid};
use crate::rows::{Column, FromRow, found, not_found, table_row};

table_row!(Pool, table "pools", prefix "p_", [id, slug, name, created_at]);

table_row!(App, table "apps", prefix "a_", [
    id, pool_id, slug, name, settings, created_at, updated_at,
]);

impl SqlStore {
    async fn pools_where(&self, cond: &str, values: Vec<Value>) -> Result<Vec<Pool>> {
        let sql = format!(
            "SELECT {} FROM pools p {cond} ORDER BY p.created_at, p.id",
            Pool::columns("p")
        );
        self.select(&sql, values).await
    }

    async fn apps_where(&self, cond: &str, values: Vec<Value>) -> Result<Vec<App>> {
        let sql = format!(
            "SELECT {} FROM apps a {cond} ORDER BY a.created_at, a.id",
            App::columns("a")
        );
        self.select(&sql, values).await
    }
}

#[async_trait]
impl AppStore for SqlStore {
    async fn create_pool(&self, pool: &Pool, events: &[NewEvent]) -> Result<()> {
        let tx = self.begin().await?;
        let r = async {
            tx.insert_row(pool).await?;
            tx.append_events(events).await
        }
        .await;
        tx.finish(r).await
    }

    async fn get_pool(&self, id: PoolId) -> Result<Pool> {
        self.pools_where("WHERE p.id = $1", vec![uuid(id)])
            .await?
            .pop()
            .ok_or_else(not_found)
    }

    async fn find_pool_by_slug(&self, slug: &str) -> Result<Option<Pool>> {
        Ok(self
            .pools_where("WHERE p.slug = $1", vec![text(slug)])
            .await?
            .pop())
    }

    async fn list_pools(&self) -> Result<Vec<Pool>> {
        self.pools_where("", vec![]).await
    }

    async fn create_app(&self, app: &App, events: &[NewEvent]) -> Result<()> {
        let tx = self.begin().await?;
        let r = async {
            tx.insert_row(app).await?;
            tx.append_events(events).await
        }
        .await;
        tx.finish(r).await
    }

    async fn get_app(&self, id: AppId) -> Result<App> {
        self.apps_where("WHERE a.id = $1", vec![uuid(id)])
            .await?
            .pop()
            .ok_or_else(not_found)
    }

    async fn find_app_by_slug(&self, slug: &str) -> Result<Option<App>> {
        Ok(self
            .apps_where("WHERE a.slug = $1", vec![text(slug)])
            .await?
            .pop())
    }

    async fn list_apps(&self, pool_id: Option<PoolId>) -> Result<Vec<App>> {
        match pool_id {
            Some(p) => self.apps_where("WHERE a.pool_id = $1", vec![uuid(p)]).await,
            None => self.apps_where("", vec![]).await,
        }
    }

    async fn update_app(&self, app: &App, events: &[NewEvent]) -> Result<()> {
        let d = self.dialect;
        let tx = self.begin().await?;
        let r = async {
            let n = tx
                .exec(
                    "UPDATE apps SET slug = $2, name = $3, settings = $4, updated_at = $5 \
                     WHERE id = $1",
                    vec![
                        uuid(app.id),
                        text(&app.slug),
                        text(&app.name),
                        app.settings.write(d)?,
                        d.ts(app.updated_at),
                    ],
                )
                .await?;
            found(n)?;
            tx.append_events(events).await
        }
        .await;
        tx.finish(r).await
    }

    async fn delete_app(&self, id: AppId, events: &[NewEvent]) -> Result<()> {
        // Sessions (and their refresh tokens), provider settings and webhook
        // endpoints (and their deliveries) go with it: ON DELETE CASCADE.
        let tx = self.begin().await?;
        let r = async {
            found(
                tx.exec("DELETE FROM apps WHERE id = $1", vec![uuid(id)])
                    .await?,
            )?;
            tx.append_events(events).await
        }
        .await;
        tx.finish(r).await
    }
}
