//! Token signing keys ([`KeyStore`]), their private halves sealed under the
//! key-encryption key.
//!
//! Atomic here: at most one active key (a partial unique index on keys not
//! retired: of racing first inserts one lands and all read the winner), and a
//! rotation retires the active key and inserts its successor in one
//! transaction, so readers never see zero or two active keys.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tessera_core::model::{NewEvent, SigningKey};
use tessera_core::store::KeyStore;
use tessera_core::{Error, ErrorKind, Result};

use crate::SqlStore;
use crate::exec::db;
use crate::rows::{FromRow, ToRow, table_row};

table_row!(SigningKey, table "signing_keys", prefix "k_", [
    kid, alg, private_key_sealed, public_jwk, created_at, retired_at, publish_until,
]);

impl SqlStore {
    async fn active_keys(&self) -> Result<Vec<SigningKey>> {
        let sql = format!(
            "SELECT {} FROM signing_keys k WHERE k.retired_at IS NULL ORDER BY k.created_at, k.kid",
            SigningKey::columns("k")
        );
        self.select(&sql, vec![]).await
    }
}

#[async_trait]
impl KeyStore for SqlStore {
    async fn list_signing_keys(&self) -> Result<Vec<SigningKey>> {
        let sql = format!(
            "SELECT {} FROM signing_keys k ORDER BY k.created_at, k.kid",
            SigningKey::columns("k")
        );
        self.select(&sql, vec![]).await
    }

    async fn insert_first_signing_key(&self, key: &SigningKey) -> Result<SigningKey> {
        // The partial unique index allows one active key: of racing first
        // inserts one lands, the others do nothing, and all read the winner.
        let mut active = key.clone();
        active.retired_at = None;
        active.publish_until = None;
        self.write(
            &format!("{} ON CONFLICT DO NOTHING", SigningKey::insert_sql()),
            active.values(self.dialect)?,
            db,
        )
        .await?;
        self.active_keys()
            .await?
            .pop()
            .ok_or_else(|| Error::new(ErrorKind::Conflict))
    }

    async fn rotate_signing_key(
        &self,
        key: &SigningKey,
        now: DateTime<Utc>,
        publish_until: DateTime<Utc>,
        events: &[NewEvent],
    ) -> Result<()> {
        let d = self.dialect;
        let tx = self.begin().await?;
        let r = async {
            tx.exec(
                "UPDATE signing_keys SET retired_at = $1, publish_until = $2 \
                 WHERE retired_at IS NULL",
                vec![d.ts(now), d.ts(publish_until)],
            )
            .await?;
            tx.insert_row(key).await?;
            tx.append_events(events).await
        }
        .await;
        tx.finish(r).await
    }

    async fn delete_unpublished_keys(&self, cutoff: DateTime<Utc>) -> Result<u64> {
        self.write(
            "DELETE FROM signing_keys WHERE retired_at IS NOT NULL AND publish_until < $1",
            vec![self.dialect.ts(cutoff)],
            db,
        )
        .await
    }
}
