//! Pools and apps.

use async_trait::async_trait;
use sea_orm::QueryResult;
use tessera_core::model::{App, AppId, Pool, PoolId};
use tessera_core::store::AppStore;
use tessera_core::{Error, ErrorKind, Result};

use crate::SqlStore;
use crate::dialect::{Row, cols, text, uuid};
use crate::exec::db;

const POOL: &[&str] = &["id", "slug", "name", "created_at"];
const APP: &[&str] = &[
    "id",
    "pool_id",
    "slug",
    "name",
    "settings",
    "created_at",
    "updated_at",
];

fn not_found() -> Error {
    Error::new(ErrorKind::NotFound)
}

impl SqlStore {
    fn pool(&self, r: &QueryResult) -> Result<Pool> {
        let r = Row::new(r, self.dialect, "p_");
        Ok(Pool {
            id: r.uuid("id")?,
            slug: r.text("slug")?,
            name: r.text("name")?,
            created_at: r.ts("created_at")?,
        })
    }

    fn app(&self, r: &QueryResult) -> Result<App> {
        let r = Row::new(r, self.dialect, "a_");
        Ok(App {
            id: r.uuid("id")?,
            pool_id: r.uuid("pool_id")?,
            slug: r.text("slug")?,
            name: r.text("name")?,
            settings: r.json_as("settings")?,
            created_at: r.ts("created_at")?,
            updated_at: r.ts("updated_at")?,
        })
    }

    async fn pools_where(&self, cond: &str, values: Vec<sea_orm::Value>) -> Result<Vec<Pool>> {
        let sql = format!(
            "SELECT {} FROM pools p {cond} ORDER BY p.created_at, p.id",
            cols("p", "p_", POOL)
        );
        self.all(&sql, values)
            .await?
            .iter()
            .map(|r| self.pool(r))
            .collect()
    }

    async fn apps_where(&self, cond: &str, values: Vec<sea_orm::Value>) -> Result<Vec<App>> {
        let sql = format!(
            "SELECT {} FROM apps a {cond} ORDER BY a.created_at, a.id",
            cols("a", "a_", APP)
        );
        self.all(&sql, values)
            .await?
            .iter()
            .map(|r| self.app(r))
            .collect()
    }
}

fn settings_json(app: &App) -> Result<serde_json::Value> {
    serde_json::to_value(&app.settings).map_err(Error::internal)
}

#[async_trait]
impl AppStore for SqlStore {
    async fn create_pool(&self, pool: &Pool) -> Result<()> {
        let d = self.dialect;
        self.write(
            "INSERT INTO pools (id, slug, name, created_at) VALUES ($1, $2, $3, $4)",
            vec![
                uuid(pool.id),
                text(&pool.slug),
                text(&pool.name),
                d.ts(pool.created_at),
            ],
            db,
        )
        .await?;
        Ok(())
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

    async fn create_app(&self, app: &App) -> Result<()> {
        let d = self.dialect;
        self.write(
            "INSERT INTO apps (id, pool_id, slug, name, settings, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            vec![
                uuid(app.id),
                uuid(app.pool_id),
                text(&app.slug),
                text(&app.name),
                d.json(&settings_json(app)?),
                d.ts(app.created_at),
                d.ts(app.updated_at),
            ],
            db,
        )
        .await?;
        Ok(())
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

    async fn update_app(&self, app: &App) -> Result<()> {
        let d = self.dialect;
        let n = self
            .write(
                "UPDATE apps SET slug = $2, name = $3, settings = $4, updated_at = $5 WHERE id = $1",
                vec![
                    uuid(app.id),
                    text(&app.slug),
                    text(&app.name),
                    d.json(&settings_json(app)?),
                    d.ts(app.updated_at),
                ],
                db,
            )
            .await?;
        if n == 0 {
            return Err(not_found());
        }
        Ok(())
    }

    async fn delete_app(&self, id: AppId) -> Result<()> {
        // Sessions (and their refresh tokens) go with it: ON DELETE CASCADE.
        let n = self
            .write("DELETE FROM apps WHERE id = $1", vec![uuid(id)], db)
            .await?;
        if n == 0 {
            return Err(not_found());
        }
        Ok(())
    }
}
