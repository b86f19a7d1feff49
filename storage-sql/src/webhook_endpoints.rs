//! Webhook endpoints ([`WebhookEndpointStore`]); their signing keys arrive
//! sealed under the key-encryption key.
//!
//! Atomic here: an endpoint needs its app (foreign key: `NotFound`), a patch
//! is one `UPDATE … RETURNING` of the whole row read and written under a row
//! lock, a secret rotation moves the current keys to the old ones in the same
//! `UPDATE` as it stores the new ones (so racing rotations chain), and
//! deleting an endpoint (or its app) deletes its deliveries (`ON DELETE
//! CASCADE`). Each change and its events are one transaction.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tessera_core::Result;
use tessera_core::model::*;
use tessera_core::store::{EventsOf, WebhookEndpointStore};
use uuid::Uuid;

use crate::SqlStore;
use crate::dialect::{bytes, uuid};
use crate::rows::{FromRow, ToRow, found, not_found, table_row};

table_row!(WebhookEndpoint, table "webhook_endpoints", prefix "w_", [
    id, app_id, pool_id, url, description, events, enabled, disabled_reason, secrets_sealed,
    old_secrets_sealed, old_secrets_until, public_key, failing_since, created_at, updated_at,
]);

#[async_trait]
impl WebhookEndpointStore for SqlStore {
    async fn create_webhook_endpoint(
        &self,
        endpoint: &WebhookEndpoint,
        events: &[NewEvent],
    ) -> Result<()> {
        let tx = self.begin().await?;
        let r = async {
            tx.insert_row(endpoint).await?;
            tx.append_events(events).await
        }
        .await;
        tx.finish(r).await
    }

    async fn get_webhook_endpoint(&self, id: Uuid) -> Result<WebhookEndpoint> {
        let sql = format!(
            "SELECT {} FROM webhook_endpoints w WHERE w.id = $1",
            WebhookEndpoint::columns("w")
        );
        self.select_one(&sql, vec![uuid(id)])
            .await?
            .ok_or_else(not_found)
    }

    async fn list_webhook_endpoints(&self, app_id: Option<AppId>) -> Result<Vec<WebhookEndpoint>> {
        let (cond, values) = match app_id {
            Some(a) => ("WHERE w.app_id = $1", vec![uuid(a)]),
            None => ("", vec![]),
        };
        let sql = format!(
            "SELECT {} FROM webhook_endpoints w {cond} ORDER BY w.created_at, w.id",
            WebhookEndpoint::columns("w")
        );
        self.select(&sql, values).await
    }

    async fn update_webhook_endpoint(
        &self,
        id: Uuid,
        patch: &WebhookEndpointPatch,
        now: DateTime<Utc>,
        events: EventsOf<'_, WebhookEndpoint>,
    ) -> Result<WebhookEndpoint> {
        let d = self.dialect;
        let tx = self.begin().await?;
        let r = async {
            // Lock the row, apply the patch, write the whole row back: the
            // worker's own writes (failing_since, disabling) queue behind it.
            let sql = format!(
                "SELECT {} FROM webhook_endpoints w WHERE w.id = $1{}",
                WebhookEndpoint::columns("w"),
                d.for_update("w")
            );
            let mut endpoint = tx
                .select::<WebhookEndpoint>(&sql, vec![uuid(id)])
                .await?
                .pop()
                .ok_or_else(not_found)?;
            patch.apply(&mut endpoint, now);
            let values = endpoint.values(d)?;
            let sets: Vec<String> = WebhookEndpoint::COLUMNS
                .iter()
                .enumerate()
                .skip(1)
                .map(|(i, c)| format!("{c} = ${}", i + 1))
                .collect();
            found(
                tx.exec(
                    &format!(
                        "UPDATE webhook_endpoints SET {} WHERE id = $1",
                        sets.join(", ")
                    ),
                    values,
                )
                .await?,
            )?;
            tx.append_events(&events(&endpoint)).await?;
            Ok(endpoint)
        }
        .await;
        tx.finish(r).await
    }

    async fn rotate_webhook_secret(
        &self,
        id: Uuid,
        secrets_sealed: &[u8],
        keep_old_until: DateTime<Utc>,
        now: DateTime<Utc>,
        events: &[NewEvent],
    ) -> Result<()> {
        let d = self.dialect;
        let rotated = self
            .write_with_events(
                "UPDATE webhook_endpoints SET old_secrets_sealed = secrets_sealed, \
                 secrets_sealed = $2, old_secrets_until = $3, updated_at = $4 WHERE id = $1",
                vec![
                    uuid(id),
                    bytes(secrets_sealed),
                    d.ts(keep_old_until),
                    d.ts(now),
                ],
                events,
            )
            .await?;
        found(u64::from(rotated))
    }

    async fn delete_webhook_endpoint(&self, id: Uuid, events: &[NewEvent]) -> Result<()> {
        // Deliveries go with it: ON DELETE CASCADE.
        let deleted = self
            .write_with_events(
                "DELETE FROM webhook_endpoints WHERE id = $1",
                vec![uuid(id)],
                events,
            )
            .await?;
        found(u64::from(deleted))
    }
}
