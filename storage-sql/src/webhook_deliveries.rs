//! The webhook outbox ([`WebhookDeliveryStore`]): deliveries waiting for a
//! worker, and each endpoint's delivery log.
//!
//! Atomic here: deliveries are created with the events they carry (see
//! [`Tx::append_events`](crate::exec::Tx)); a claim is one `UPDATE …
//! RETURNING` over the due rows (`FOR UPDATE SKIP LOCKED` on Postgres;
//! SQLite has one writer), so of racing workers each delivery goes to one
//! claim; an attempt is recorded by one conditional `UPDATE` that only the
//! claim still holding the delivery matches, in one transaction with the
//! endpoint's failure bookkeeping and, when the attempt disables the
//! endpoint, its events.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::Value;
use tessera_core::Result;
use tessera_core::model::*;
use tessera_core::store::{EventsOf, WebhookDeliveryStore};
use uuid::Uuid;

use crate::SqlStore;
use crate::dialect::{Dialect, text, text_opt, uuid};
use crate::exec::db;
use crate::rows::{FromRow, not_found, table_row};

table_row!(WebhookDelivery, table "webhook_deliveries", prefix "d_", [
    id, endpoint_id, event_id, event_type, payload, status, attempt, next_attempt_at,
    leased_until, lease_id, attempted_at, response_code, duration_ms, response_excerpt,
    last_error, created_at,
]);

#[async_trait]
impl WebhookDeliveryStore for SqlStore {
    async fn enqueue_webhook_delivery(
        &self,
        delivery: &WebhookDelivery,
        events: &[NewEvent],
    ) -> Result<()> {
        let tx = self.begin().await?;
        let r = async {
            tx.insert_row(delivery).await?;
            tx.append_events(events).await
        }
        .await;
        tx.finish(r).await
    }

    async fn claim_webhook_deliveries(
        &self,
        now: DateTime<Utc>,
        leased_until: DateTime<Utc>,
        lease_id: Uuid,
        limit: u32,
    ) -> Result<Vec<ClaimedDelivery>> {
        let d = self.dialect;
        let lock = match d {
            Dialect::Postgres => " FOR UPDATE OF d SKIP LOCKED",
            Dialect::Sqlite => "",
        };
        let sql = format!(
            "UPDATE webhook_deliveries SET lease_id = $3, leased_until = $2, attempt = attempt + 1 \
             WHERE id IN (SELECT d.id FROM webhook_deliveries d \
             JOIN webhook_endpoints w ON w.id = d.endpoint_id \
             WHERE d.status = 'pending' AND d.next_attempt_at <= $1 \
             AND (d.leased_until IS NULL OR d.leased_until <= $1) AND w.enabled \
             ORDER BY d.next_attempt_at, d.id LIMIT $4{lock}) RETURNING {}",
            WebhookDelivery::columns("")
        );
        let rows = self
            .write_returning(
                &sql,
                vec![
                    d.ts(now),
                    d.ts(leased_until),
                    uuid(lease_id),
                    i64::from(limit).into(),
                ],
                db,
            )
            .await?;
        let mut deliveries: Vec<WebhookDelivery> = self.read_all(&rows)?;
        if deliveries.is_empty() {
            return Ok(Vec::new());
        }
        deliveries.sort_by_key(|x| (x.next_attempt_at, x.id));
        let mut ids: Vec<Uuid> = deliveries.iter().map(|x| x.endpoint_id).collect();
        ids.sort();
        ids.dedup();
        let params: Vec<String> = (1..=ids.len()).map(|n| format!("${n}")).collect();
        let sql = format!(
            "SELECT {} FROM webhook_endpoints w WHERE w.id IN ({})",
            WebhookEndpoint::columns("w"),
            params.join(", ")
        );
        let endpoints: Vec<WebhookEndpoint> = self
            .select(&sql, ids.into_iter().map(uuid).collect())
            .await?;
        // An endpoint deleted since the claim took its deliveries with it.
        Ok(deliveries
            .into_iter()
            .filter_map(|delivery| {
                let endpoint = endpoints
                    .iter()
                    .find(|e| e.id == delivery.endpoint_id)?
                    .clone();
                Some(ClaimedDelivery { delivery, endpoint })
            })
            .collect())
    }

    async fn renew_webhook_lease(
        &self,
        lease_id: Uuid,
        leased_until: DateTime<Utc>,
    ) -> Result<u64> {
        self.write(
            "UPDATE webhook_deliveries SET leased_until = $2 \
             WHERE lease_id = $1 AND status = 'pending'",
            vec![uuid(lease_id), self.dialect.ts(leased_until)],
            db,
        )
        .await
    }

    async fn record_webhook_attempt(
        &self,
        a: &WebhookAttempt,
        events: EventsOf<'_, WebhookEndpoint>,
    ) -> Result<AttemptRecorded> {
        let d = self.dialect;
        let (status, next) = match a.result {
            AttemptResult::Succeeded => (DeliveryStatus::Succeeded, None),
            AttemptResult::Retry(at) => (DeliveryStatus::Pending, Some(at)),
            AttemptResult::Failed | AttemptResult::Gone => (DeliveryStatus::Failed, None),
        };
        let tx = self.begin().await?;
        let r = async {
            // Only the claim that still holds the delivery matches.
            let released = tx
                .all(
                    "UPDATE webhook_deliveries SET status = $3, next_attempt_at = $4, \
                     lease_id = NULL, leased_until = NULL, attempted_at = $5, \
                     response_code = $6, duration_ms = $7, response_excerpt = $8, last_error = $9 \
                     WHERE id = $1 AND lease_id = $2 AND status = 'pending' RETURNING endpoint_id",
                    vec![
                        uuid(a.delivery_id),
                        uuid(a.lease_id),
                        text(status.as_str()),
                        d.ts_opt(next),
                        d.ts(a.attempted_at),
                        Value::from(a.response_code),
                        Value::from(Some(a.duration_ms)),
                        text_opt(a.response_excerpt.as_deref()),
                        text_opt(a.error.as_deref()),
                    ],
                )
                .await?;
            let Some(row) = released.first() else {
                return Ok(AttemptRecorded::default());
            };
            let endpoint_id: Uuid = row.try_get("", "endpoint_id").map_err(db)?;
            if a.result == AttemptResult::Succeeded {
                tx.exec(
                    "UPDATE webhook_endpoints SET failing_since = NULL \
                     WHERE id = $1 AND failing_since IS NOT NULL",
                    vec![uuid(endpoint_id)],
                )
                .await?;
                return Ok(AttemptRecorded {
                    applied: true,
                    endpoint_disabled: false,
                });
            }
            let rows = tx
                .all(
                    &format!(
                        "UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, $2) \
                         WHERE id = $1 RETURNING {}",
                        WebhookEndpoint::columns("")
                    ),
                    vec![uuid(endpoint_id), d.ts(a.attempted_at)],
                )
                .await?;
            let mut endpoint: WebhookEndpoint = rows
                .first()
                .map(|r| self.read(r))
                .unwrap_or_else(|| Err(not_found()))?;
            let reason = if a.result == AttemptResult::Gone {
                Some("gone")
            } else if endpoint
                .failing_since
                .is_some_and(|since| since <= a.disable_failing_since)
            {
                Some("failing")
            } else {
                None
            };
            let disabled = match reason {
                Some(reason) if endpoint.enabled => {
                    let n = tx
                        .exec(
                            "UPDATE webhook_endpoints SET enabled = $2, disabled_reason = $3, \
                             updated_at = $4 WHERE id = $1 AND enabled",
                            vec![
                                uuid(endpoint_id),
                                false.into(),
                                text(reason),
                                d.ts(a.attempted_at),
                            ],
                        )
                        .await?;
                    if n > 0 {
                        endpoint.enabled = false;
                        endpoint.disabled_reason = Some(reason.to_owned());
                        endpoint.updated_at = a.attempted_at;
                        tx.append_events(&events(&endpoint)).await?;
                    }
                    n > 0
                }
                _ => false,
            };
            Ok(AttemptRecorded {
                applied: true,
                endpoint_disabled: disabled,
            })
        }
        .await;
        tx.finish(r).await
    }

    async fn get_webhook_delivery(&self, id: Uuid) -> Result<WebhookDelivery> {
        let sql = format!(
            "SELECT {} FROM webhook_deliveries d WHERE d.id = $1",
            WebhookDelivery::columns("d")
        );
        self.select_one(&sql, vec![uuid(id)])
            .await?
            .ok_or_else(not_found)
    }

    async fn list_webhook_deliveries(
        &self,
        endpoint_id: Uuid,
        q: &DeliveryQuery,
    ) -> Result<Vec<WebhookDelivery>> {
        let mut values = vec![uuid(endpoint_id)];
        let mut cond = String::from("d.endpoint_id = $1");
        if let Some(status) = q.status {
            values.push(text(status.as_str()));
            cond.push_str(&format!(" AND d.status = ${}", values.len()));
        }
        if let Some(before) = q.before {
            values.push(uuid(before));
            cond.push_str(&format!(" AND d.id < ${}", values.len()));
        }
        values.push(i64::from(q.limit).into());
        let sql = format!(
            "SELECT {} FROM webhook_deliveries d WHERE {cond} ORDER BY d.id DESC LIMIT ${}",
            WebhookDelivery::columns("d"),
            values.len()
        );
        self.select(&sql, values).await
    }

    async fn retry_webhook_delivery(
        &self,
        endpoint_id: Uuid,
        id: Uuid,
        now: DateTime<Utc>,
        events: &[NewEvent],
    ) -> Result<WebhookDelivery> {
        let sql = format!(
            "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = $3 \
             WHERE id = $1 AND endpoint_id = $2 RETURNING {}",
            WebhookDelivery::columns("")
        );
        let tx = self.begin().await?;
        let r = async {
            let rows = tx
                .all(
                    &sql,
                    vec![uuid(id), uuid(endpoint_id), self.dialect.ts(now)],
                )
                .await?;
            let delivery = rows
                .first()
                .map(|r| self.read(r))
                .unwrap_or_else(|| Err(not_found()))?;
            tx.append_events(events).await?;
            Ok(delivery)
        }
        .await;
        tx.finish(r).await
    }

    async fn pending_webhook_deliveries(&self) -> Result<u64> {
        let row = self
            .one(
                "SELECT COUNT(*) AS n FROM webhook_deliveries WHERE status = 'pending'",
                vec![],
            )
            .await?;
        let n: i64 = match row {
            Some(r) => r.try_get("", "n").map_err(db)?,
            None => 0,
        };
        Ok(n.max(0) as u64)
    }

    async fn delete_finished_webhook_deliveries(&self, cutoff: DateTime<Utc>) -> Result<u64> {
        self.write(
            "DELETE FROM webhook_deliveries WHERE status <> 'pending' AND created_at < $1",
            vec![self.dialect.ts(cutoff)],
            db,
        )
        .await
    }
}
