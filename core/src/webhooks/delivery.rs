//! Delivering webhook events: claim due deliveries under a lease, sign them
//! as Standard Webhooks, POST them, and record how it went.
//!
//! Why this shape: deliveries are written by the store in the same atomic
//! step as the change they report, so the outbox is the source of truth and
//! this worker only drains it. Any number of instances run it at once: a
//! claim leases deliveries for [`LEASE`] (renewed while the batch is worked
//! on), and an attempt is recorded only under the claim that made it, so
//! each attempt is made once. The attempts of one claimed batch run
//! concurrently, so a slow receiver does not delay the others. The `webhook-id` header is the event id on
//! every retry, for receivers to dedupe. Failures are retried after
//! [`RETRY_SCHEDULE_SECS`] (or later when the answer says `Retry-After`),
//! then the delivery is `failed`; 410 disables the endpoint; an endpoint
//! failing for five days is disabled, with an audit event. Requests go
//! through the adapter of `crate::oauth::http` (no redirects, timeouts) with
//! the SSRF guard of [`super::ssrf`] as its resolver.

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use uuid::Uuid;

use super::endpoints::{Keys, Webhooks};
use super::ssrf::{AddressRefused, Guard, GuardedResolver};
use super::{sign, sign_v1a};
use crate::audit::{EventKind, Subject};
use crate::model::{AttemptResult, ClaimedDelivery, WebhookAttempt, WebhookEndpoint};
use crate::{Audit, Error, Result};

/// How long a claim holds its deliveries (renewed every [`RENEW_EVERY`]).
pub const LEASE: Duration = Duration::seconds(30);
const RENEW_EVERY: std::time::Duration = std::time::Duration::from_secs(10);
/// How many deliveries one claim takes.
pub const BATCH: u32 = 16;
/// How long one delivery request may take in all.
pub const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);
/// The waits before each retry: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h;
/// after the last one fails the delivery is `failed`.
pub const RETRY_SCHEDULE_SECS: [i64; 7] = [5, 300, 1800, 7200, 18_000, 36_000, 36_000];
/// An endpoint whose deliveries have all failed for this long is disabled.
pub const DISABLE_AFTER: Duration = Duration::days(5);
/// The longest `Retry-After` honoured (a day).
const MAX_RETRY_AFTER_SECS: i64 = 86_400;
/// How much of an answer is kept in the delivery log.
pub const EXCERPT_BYTES: usize = 1024;

/// The delivery client of one Tessera and its SSRF guard.
pub(crate) struct Runtime {
    pub(crate) guard: Arc<Guard>,
    client: reqwest::Client,
}

impl Runtime {
    pub(crate) fn new(guard: Guard) -> Result<Self> {
        let guard = Arc::new(guard);
        let client = crate::oauth::http::client_builder(TIMEOUT)
            // A proxy would resolve the name itself, past the guard.
            .no_proxy()
            .dns_resolver(GuardedResolver(guard.clone()))
            .build()
            .map_err(|e| Error::config("could not build the webhook HTTP client").with_source(e))?;
        Ok(Runtime { guard, client })
    }
}

/// What one round of delivery did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryRound {
    /// Deliveries attempted.
    pub attempted: usize,
    /// Of which answered 2xx.
    pub succeeded: usize,
}

/// An endpoint's answer.
struct Answer {
    status: u16,
    retry_after: Option<i64>,
    excerpt: String,
}

/// The wait `Retry-After` asks for, in seconds (delta-seconds or an HTTP date).
fn retry_after(value: &str, now: DateTime<Utc>) -> Option<i64> {
    let value = value.trim();
    let secs = match value.parse::<i64>() {
        Ok(s) => s,
        Err(_) => (DateTime::parse_from_rfc2822(value)
            .ok()?
            .with_timezone(&Utc)
            - now)
            .num_seconds(),
    };
    Some(secs.clamp(0, MAX_RETRY_AFTER_SECS))
}

/// What happens after attempt number `attempt` (1 for the first) failed.
fn after_failure(attempt: i32, now: DateTime<Utc>, retry_after: Option<i64>) -> AttemptResult {
    let idx = usize::try_from(attempt.max(1) - 1).unwrap_or(usize::MAX);
    match RETRY_SCHEDULE_SECS.get(idx) {
        Some(&wait) => {
            AttemptResult::Retry(now + Duration::seconds(wait.max(retry_after.unwrap_or(0))))
        }
        None => AttemptResult::Failed,
    }
}

impl Webhooks<'_> {
    /// The `webhook-signature` header for one message to `endpoint`: `v1`
    /// under the current secret and, until it expires, the secret before the
    /// last rotation; `v1a` when the endpoint signs asymmetrically.
    fn signatures(
        &self,
        endpoint: &WebhookEndpoint,
        id: &str,
        ts: i64,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<String> {
        let mut keys = vec![Keys::open(
            self.inner,
            endpoint.id,
            &endpoint.secrets_sealed,
        )?];
        if let (Some(old), Some(until)) = (&endpoint.old_secrets_sealed, endpoint.old_secrets_until)
            && until > now
        {
            keys.push(Keys::open(self.inner, endpoint.id, old)?);
        }
        let mut out = Vec::new();
        for k in &keys {
            out.push(sign(&k.secret, id, ts, body)?);
        }
        let mut signing_keys: Vec<&str> = Vec::new();
        for k in &keys {
            if let Some(sk) = k.signing_key.as_deref()
                && !signing_keys.contains(&sk)
            {
                signing_keys.push(sk);
            }
        }
        for sk in signing_keys {
            out.push(sign_v1a(sk, id, ts, body)?);
        }
        Ok(out.join(" "))
    }

    /// POST one signed delivery; the answer, or why there was none
    /// (`timeout`, `address_refused`, `connect_failed`, `request_failed`).
    async fn post(
        &self,
        url: &str,
        id: &str,
        ts: i64,
        signature: &str,
        body: &str,
    ) -> std::result::Result<Answer, &'static str> {
        let runtime = &self.inner.webhooks;
        let parsed = url::Url::parse(url).map_err(|_| "invalid_url")?;
        if !runtime.guard.permits_literal(&parsed) {
            return Err("address_refused");
        }
        let resp = runtime
            .client
            .post(parsed)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("webhook-id", id)
            .header("webhook-timestamp", ts.to_string())
            .header("webhook-signature", signature)
            .body(body.to_owned())
            .send()
            .await
            .map_err(|e| classify(&e))?;
        let status = resp.status().as_u16();
        let retry_after = if matches!(status, 429 | 503) {
            resp.headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| retry_after(v, self.inner.now()))
        } else {
            None
        };
        let mut resp = resp;
        let mut bytes = Vec::new();
        // Only the excerpt is read; the rest of the answer is dropped.
        while bytes.len() < EXCERPT_BYTES {
            match resp.chunk().await {
                Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
                _ => break,
            }
        }
        bytes.truncate(EXCERPT_BYTES);
        Ok(Answer {
            status,
            retry_after,
            excerpt: String::from_utf8_lossy(&bytes).into_owned(),
        })
    }

    /// Make one claimed delivery's attempt and record it; whether it succeeded.
    async fn attempt(&self, claimed: &ClaimedDelivery, lease_id: Uuid) -> Result<bool> {
        let (d, endpoint) = (&claimed.delivery, &claimed.endpoint);
        let now = self.inner.now();
        let id = d.event_id.to_string();
        let ts = now.timestamp();
        let started = Instant::now();
        let outcome = match self.signatures(endpoint, &id, ts, d.payload.as_bytes(), now) {
            Ok(sig) => self.post(&endpoint.url, &id, ts, &sig, &d.payload).await,
            Err(e) => {
                tracing::error!(endpoint = %endpoint.id, error = %e, "cannot sign a webhook delivery");
                Err("signing_failed")
            }
        };
        let duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        let after = self.inner.now();
        let result = match &outcome {
            Ok(a) if (200..300).contains(&a.status) => AttemptResult::Succeeded,
            Ok(a) if a.status == 410 => AttemptResult::Gone,
            Ok(a) => after_failure(d.attempt, after, a.retry_after),
            Err(_) => after_failure(d.attempt, after, None),
        };
        let (response_code, response_excerpt, error) = match outcome {
            Ok(a) => (Some(i32::from(a.status)), Some(a.excerpt), None),
            Err(e) => (None, None, Some(e.to_owned())),
        };
        let attempt = WebhookAttempt {
            delivery_id: d.id,
            lease_id,
            attempted_at: now,
            response_code,
            duration_ms,
            response_excerpt,
            error,
            result,
            disable_failing_since: after - DISABLE_AFTER,
        };
        let disabled = |e: &WebhookEndpoint| {
            vec![Audit::new(self.inner).event(
                EventKind::WebhookEndpointDisabled,
                Subject::default(),
                json!({
                    "endpoint_id": e.id,
                    "app_id": e.app_id,
                    "url": e.url,
                    "reason": e.disabled_reason,
                }),
            )]
        };
        let recorded = self
            .inner
            .store
            .webhook_deliveries()
            .record_webhook_attempt(&attempt, &disabled)
            .await?;
        if recorded.endpoint_disabled {
            tracing::warn!(endpoint = %endpoint.id, "webhook endpoint disabled");
        }
        Ok(recorded.applied && result == AttemptResult::Succeeded)
    }

    /// Claim the due deliveries (up to [`BATCH`]) and make their attempts,
    /// holding the lease while working. What [`crate::Tessera::webhook_worker`]
    /// runs in a loop; safe on any number of instances at once.
    pub async fn deliver_pending(&self) -> Result<DeliveryRound> {
        let store = self.inner.store.webhook_deliveries();
        let now = self.inner.now();
        let lease_id = Uuid::new_v4();
        let claimed = store
            .claim_webhook_deliveries(now, now + LEASE, lease_id, BATCH)
            .await?;
        if claimed.is_empty() {
            return Ok(DeliveryRound::default());
        }
        // The batch's attempts run concurrently: one slow or unreachable
        // receiver (up to TIMEOUT) does not hold up the others' deliveries.
        let work = async {
            let outcomes =
                futures_util::future::join_all(claimed.iter().map(|c| self.attempt(c, lease_id)))
                    .await;
            let mut round = DeliveryRound::default();
            for (c, outcome) in claimed.iter().zip(outcomes) {
                round.attempted += 1;
                match outcome {
                    Ok(true) => round.succeeded += 1,
                    Ok(false) => {}
                    Err(e) => {
                        tracing::warn!(delivery = %c.delivery.id, error = %e, "recording a webhook attempt failed")
                    }
                }
            }
            round
        };
        let renew = async {
            loop {
                tokio::time::sleep(RENEW_EVERY).await;
                if let Err(e) = store
                    .renew_webhook_lease(lease_id, self.inner.now() + LEASE)
                    .await
                {
                    tracing::warn!(error = %e, "renewing a webhook lease failed");
                }
            }
        };
        tokio::select! {
            round = work => Ok(round),
            _ = renew => Err(Error::internal("webhook lease renewal stopped")),
        }
    }
}

/// Why a request got no answer, as the delivery log says it.
fn classify(e: &reqwest::Error) -> &'static str {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if s.is::<AddressRefused>() {
            return "address_refused";
        }
        source = s.source();
    }
    if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect_failed"
    } else {
        "request_failed"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_retry_schedule_then_failed() {
        let now = DateTime::<Utc>::UNIX_EPOCH;
        let waits: Vec<AttemptResult> = (1..=8).map(|n| after_failure(n, now, None)).collect();
        for (i, secs) in RETRY_SCHEDULE_SECS.iter().enumerate() {
            assert_eq!(
                waits[i],
                AttemptResult::Retry(now + Duration::seconds(*secs))
            );
        }
        assert_eq!(waits[7], AttemptResult::Failed);
        // Retry-After lengthens a wait, never shortens it.
        assert_eq!(
            after_failure(1, now, Some(120)),
            AttemptResult::Retry(now + Duration::seconds(120))
        );
        assert_eq!(
            after_failure(2, now, Some(1)),
            AttemptResult::Retry(now + Duration::seconds(300))
        );
    }

    #[test]
    fn retry_after_takes_seconds_or_a_date() {
        let now = DateTime::parse_from_rfc3339("2015-10-21T07:27:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(retry_after("120", now), Some(120));
        assert_eq!(retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now), Some(60));
        assert_eq!(retry_after("99999999", now), Some(MAX_RETRY_AFTER_SECS));
        assert_eq!(retry_after("soon", now), None);
    }
}
