//! External identities ([`IdentityStore`]): a provider's subject (Google,
//! GitHub, …) linked to a user.
//!
//! Atomic here: one identity per (pool, provider, subject), checked by the
//! insert itself (it does nothing on the unique triple: `IdentityTaken`), so
//! two racing links of one subject never both land.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::Value;
use tessera_core::model::*;
use tessera_core::store::IdentityStore;
use tessera_core::{Error, ErrorKind, Result};
use uuid::Uuid;

use crate::SqlStore;
use crate::dialect::{Dialect, Row, text, text_opt, uuid};
use crate::exec::db;
use crate::rows::{FromRow, ToRow, found};

impl FromRow for Identity {
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "pool_id",
        "user_id",
        "provider",
        "subject",
        "email",
        "email_verified",
        "profile",
        "created_at",
        "last_used_at",
    ];
    const PREFIX: &'static str = "i_";

    fn from_row(r: &Row<'_>) -> Result<Self> {
        Ok(Identity {
            id: r.uuid("id")?,
            pool_id: r.uuid("pool_id")?,
            user_id: r.uuid("user_id")?,
            provider: r.text("provider")?,
            subject: r.text("subject")?,
            email: r.text_opt("email")?,
            email_verified: r.bool("email_verified")?,
            profile: r.json("profile")?,
            created_at: r.ts("created_at")?,
            last_used_at: r.ts_opt("last_used_at")?,
        })
    }
}

impl ToRow for Identity {
    const TABLE: &'static str = "identities";

    fn values(&self, d: Dialect) -> Result<Vec<Value>> {
        Ok(vec![
            uuid(self.id),
            uuid(self.pool_id),
            uuid(self.user_id),
            text(&self.provider),
            text(&self.subject),
            text_opt(self.email.as_deref()),
            self.email_verified.into(),
            d.json(&self.profile),
            d.ts(self.created_at),
            d.ts_opt(self.last_used_at),
        ])
    }
}

#[async_trait]
impl IdentityStore for SqlStore {
    async fn insert_identity(&self, i: &Identity) -> Result<()> {
        let sql = format!(
            "{} ON CONFLICT (pool_id, provider, subject) DO NOTHING RETURNING id",
            Identity::insert()
        );
        let rows = self
            .write_returning(&sql, i.values(self.dialect)?, db)
            .await?;
        if rows.is_empty() {
            return Err(Error::new(ErrorKind::IdentityTaken));
        }
        Ok(())
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

    async fn delete_identity(&self, user_id: UserId, id: Uuid) -> Result<bool> {
        let n = self
            .write(
                "DELETE FROM identities WHERE id = $1 AND user_id = $2",
                vec![uuid(id), uuid(user_id)],
                db,
            )
            .await?;
        Ok(n > 0)
    }
}
