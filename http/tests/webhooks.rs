//! The webhook admin API (`/v1/admin/webhooks…`) over real TCP, with a real
//! receiver on loopback (allowed by the allow-list, as
//! `TESSERA_WEBHOOK_ALLOW_HOSTS` would): create (secret shown once), the SSRF
//! refusal, list/get/patch/delete, rotation (both signatures), the test
//! event, the delivery log and a manual retry, admin auth and unknown ids.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use reqwest::Method;
use serde_json::{Value, json};
use tessera_core::Tessera;
use tessera_core::crypto::{KeyRing, PasswordParams};
use tessera_core::webhooks::{AllowHosts, verify};

use crate::harness::{ADMIN_KEY, Server, assert_error, options, serve, store};

/// One delivery the receiver got: (webhook-id, timestamp, signature, body).
type Got = (String, String, String, Vec<u8>);

async fn hook(State(got): State<Arc<Mutex<Vec<Got>>>>, headers: HeaderMap, body: Bytes) {
    let h = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    got.lock().unwrap().push((
        h("webhook-id"),
        h("webhook-timestamp"),
        h("webhook-signature"),
        body.to_vec(),
    ));
}

/// A server whose webhooks may reach 127.0.0.1, and a receiver there.
async fn setup(backend: &str) -> (Server, Arc<Mutex<Vec<Got>>>, String) {
    let got = Arc::new(Mutex::new(Vec::new()));
    let app = axum::Router::new()
        .route("/hook", post(hook))
        .with_state(got.clone());
    let addr = crate::harness::spawn_router(app).await;
    let (st, dir) = store(backend).await;
    let t = Tessera::builder()
        .store(st)
        .key_encryption_key(KeyRing::new([9; 32], []))
        .issuer("http://127.0.0.1")
        .password_params(PasswordParams::insecure_fast_for_tests())
        .webhook_allow_hosts(AllowHosts::parse("127.0.0.1").unwrap())
        .build()
        .await
        .unwrap();
    t.api_keys().bootstrap(ADMIN_KEY).await.unwrap();
    let mut s = serve(t, options(false)).await;
    s._dir = dir;
    (s, got, format!("http://{addr}/hook"))
}

/// Deliver what is due and return what the receiver got since last time.
async fn deliver(s: &Server, got: &Mutex<Vec<Got>>) -> Vec<Got> {
    s.tessera.webhooks().deliver_pending().await.unwrap();
    std::mem::take(&mut *got.lock().unwrap())
}

fn verified(secret: &str, g: &Got) -> bool {
    let now = chrono::Utc::now().timestamp();
    verify(secret, &g.0, &g.1, &g.2, &g.3, now).is_ok()
}

#[tokio::test]
async fn webhook_admin_api_memory() {
    admin_api("memory").await;
}

#[tokio::test]
async fn webhook_admin_api_sqlite() {
    admin_api("sqlite").await;
}

async fn admin_api(backend: &str) {
    let (s, got, url) = setup(backend).await;
    let missing = uuid::Uuid::new_v4();

    // No admin key: 401, whatever the route.
    for (method, path) in [
        (Method::GET, "/v1/admin/webhooks".to_owned()),
        (Method::POST, "/v1/admin/webhooks".to_owned()),
        (Method::GET, format!("/v1/admin/webhooks/{missing}")),
        (Method::POST, format!("/v1/admin/webhooks/{missing}/test")),
    ] {
        let (status, body) = s.send(method, &path, None, Some(json!({"url": url}))).await;
        assert_eq!(status, 401, "{path}: {body}");
        assert_error(&body, "unauthenticated");
    }

    // The SSRF guard: loopback outside the allow-list, private, metadata.
    for bad in [
        "http://127.0.0.2:9/hook",
        "https://10.0.0.1/hook",
        "https://169.254.169.254/latest",
        "https://[::1]/hook",
        "ftp://example.com/hook",
    ] {
        let (status, body) = s
            .admin(
                Method::POST,
                "/v1/admin/webhooks",
                Some(json!({"url": bad})),
            )
            .await;
        assert_eq!(status, 422, "{bad}: {body}");
        assert_error(&body, "invalid_webhook_url");
    }
    let (_, list) = s.admin(Method::GET, "/v1/admin/webhooks", None).await;
    assert_eq!(list["webhooks"], json!([]), "a refusal writes nothing");

    // Create: 201, the secret once.
    let (status, created) = s
        .admin(
            Method::POST,
            "/v1/admin/webhooks",
            Some(json!({"url": url, "events": ["user.*"], "description": "profiles"})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    assert_eq!(created["url"], url);
    assert_eq!(created["events"], json!(["user.*"]));
    assert_eq!(created["enabled"], true);
    assert_eq!(created["app_id"], Value::Null);
    let id = created["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/admin/webhooks/{id}");

    // Never again: not in GET, not in the list.
    let (status, one) = s.admin(Method::GET, &path, None).await;
    assert_eq!(status, 200);
    let (_, list) = s.admin(Method::GET, "/v1/admin/webhooks", None).await;
    for body in [&one, &list] {
        let text = body.to_string();
        assert!(
            !text.contains(&secret) && !text.contains("\"secret\""),
            "{text}"
        );
    }
    assert_eq!(one["description"], "profiles");
    assert_eq!(list["webhooks"][0]["id"], id.as_str());
    let (_, by_app) = s
        .admin(Method::GET, "/v1/admin/webhooks?app=default", None)
        .await;
    assert_eq!(by_app["webhooks"], json!([]), "install-wide is no app's");
    let (status, body) = s
        .admin(Method::GET, "/v1/admin/webhooks?app=nope", None)
        .await;
    assert_eq!(status, 404, "{body}");

    // A sign-up is delivered through the filter: user.created, not
    // session.created; signed with the secret, `webhook-id` the event id.
    s.sign_up("ada@example.com").await;
    let got_now = deliver(&s, &got).await;
    assert_eq!(got_now.len(), 1);
    let event: Value = serde_json::from_slice(&got_now[0].3).unwrap();
    assert_eq!(event["type"], "user.created");
    assert_eq!(event["data"]["email"], "ada@example.com");
    assert!(verified(&secret, &got_now[0]));

    // The test event: 202 {event_id}, sent whatever the filter.
    let (status, test) = s.admin(Method::POST, &format!("{path}/test"), None).await;
    assert_eq!(status, 202, "{test}");
    let event_id = test["event_id"].as_str().unwrap().to_owned();
    let got_now = deliver(&s, &got).await;
    assert_eq!(got_now.len(), 1);
    assert_eq!(got_now[0].0, event_id);
    let event: Value = serde_json::from_slice(&got_now[0].3).unwrap();
    assert_eq!(event["type"], "webhook.test");

    // The delivery log, newest first.
    let (status, log) = s
        .admin(Method::GET, &format!("{path}/deliveries"), None)
        .await;
    assert_eq!(status, 200, "{log}");
    let deliveries = log["deliveries"].as_array().unwrap();
    assert_eq!(deliveries.len(), 2, "{log}");
    assert_eq!(deliveries[0]["event_id"], event_id.as_str());
    assert_eq!(deliveries[0]["event_type"], "webhook.test");
    assert_eq!(deliveries[1]["event_type"], "user.created");
    for d in deliveries {
        assert_eq!(d["status"], "succeeded", "{d}");
        assert_eq!(d["attempt"], 1);
        assert_eq!(d["response_code"], 200);
        assert!(d["attempted_at"].is_string() && d["next_attempt_at"].is_null());
        assert!(d["duration_ms"].is_i64());
    }
    let (_, one_page) = s
        .admin(Method::GET, &format!("{path}/deliveries?limit=1"), None)
        .await;
    assert_eq!(one_page["deliveries"].as_array().unwrap().len(), 1);
    let cursor = one_page["next_cursor"].as_str().unwrap();
    let (_, next) = s
        .admin(
            Method::GET,
            &format!("{path}/deliveries?limit=1&cursor={cursor}"),
            None,
        )
        .await;
    assert_eq!(next["deliveries"][0]["event_type"], "user.created");
    let (_, pending) = s
        .admin(
            Method::GET,
            &format!("{path}/deliveries?status=pending"),
            None,
        )
        .await;
    assert_eq!(pending["deliveries"], json!([]));
    let (status, body) = s
        .admin(Method::GET, &format!("{path}/deliveries?status=lost"), None)
        .await;
    assert_eq!(status, 422, "{body}");

    // Manual retry: pending again, the same event id, attempt 2.
    let delivery_id = deliveries[0]["id"].as_str().unwrap().to_owned();
    let (status, retried) = s
        .admin(
            Method::POST,
            &format!("{path}/deliveries/{delivery_id}/retry"),
            None,
        )
        .await;
    assert_eq!(status, 202, "{retried}");
    assert_eq!(retried["status"], "pending");
    let got_now = deliver(&s, &got).await;
    assert_eq!(got_now.len(), 1);
    assert_eq!(got_now[0].0, event_id, "a retry keeps the webhook-id");
    let (_, log) = s
        .admin(Method::GET, &format!("{path}/deliveries?limit=1"), None)
        .await;
    assert_eq!(log["deliveries"][0]["attempt"], 2);

    // Rotation: a new secret; both sign while the old one is kept.
    let (status, rotated) = s
        .admin(
            Method::POST,
            &format!("{path}/rotate-secret"),
            Some(json!({"keep_old_secs": 3600})),
        )
        .await;
    assert_eq!(status, 200, "{rotated}");
    let new_secret = rotated["secret"].as_str().unwrap().to_owned();
    assert!(new_secret.starts_with("whsec_") && new_secret != secret);
    assert_eq!(rotated.as_object().unwrap().len(), 1, "{rotated}");
    let (_, one) = s.admin(Method::GET, &path, None).await;
    assert!(one["old_secret_expires_at"].is_string(), "{one}");
    s.admin(Method::POST, &format!("{path}/test"), None).await;
    let got_now = deliver(&s, &got).await;
    assert_eq!(got_now[0].2.split(' ').count(), 2, "{}", got_now[0].2);
    assert!(verified(&secret, &got_now[0]) && verified(&new_secret, &got_now[0]));
    let (status, body) = s
        .admin(
            Method::POST,
            &format!("{path}/rotate-secret"),
            Some(json!({"keep_old_secs": -1})),
        )
        .await;
    assert_eq!(status, 422, "{body}");

    // Patch: filters, description cleared, disabled; a bad URL changes nothing.
    let (status, body) = s
        .admin(
            Method::PATCH,
            &path,
            Some(json!({"url": "https://192.168.1.1/x"})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_error(&body, "invalid_webhook_url");
    let (status, patched) = s
        .admin(
            Method::PATCH,
            &path,
            Some(json!({"events": ["session.*"], "description": null, "enabled": false})),
        )
        .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["url"], url);
    assert_eq!(patched["events"], json!(["session.*"]));
    assert_eq!(patched["description"], Value::Null);
    assert_eq!(patched["enabled"], false);
    let (status, body) = s
        .admin(
            Method::PATCH,
            &path,
            Some(json!({"events": ["nonsense.*"]})),
        )
        .await;
    assert_eq!(status, 422, "{body}");

    // Unknown ids: 404 on every route that names one.
    let unknown = format!("/v1/admin/webhooks/{missing}");
    for (method, p, body) in [
        (Method::GET, unknown.clone(), None),
        (
            Method::PATCH,
            unknown.clone(),
            Some(json!({"enabled": true})),
        ),
        (Method::DELETE, unknown.clone(), None),
        (
            Method::POST,
            format!("{unknown}/rotate-secret"),
            Some(json!({})),
        ),
        (Method::POST, format!("{unknown}/test"), None),
        (Method::GET, format!("{unknown}/deliveries"), None),
        (
            Method::POST,
            format!("{path}/deliveries/{missing}/retry"),
            None,
        ),
        (
            Method::GET,
            "/v1/admin/webhooks/not-a-uuid".to_owned(),
            None,
        ),
    ] {
        let (status, b) = s.admin(method, &p, body).await;
        assert_eq!(status, 404, "{p}: {b}");
        assert_error(&b, "not_found");
    }

    // Delete: 204, then gone (its log too).
    let (status, _) = s.admin(Method::DELETE, &path, None).await;
    assert_eq!(status, 204);
    let (status, _) = s.admin(Method::GET, &path, None).await;
    assert_eq!(status, 404);
    let (status, _) = s
        .admin(Method::GET, &format!("{path}/deliveries"), None)
        .await;
    assert_eq!(status, 404);
}

/// Scoped admin keys: `webhooks:read` lists but cannot create.
#[tokio::test]
async fn webhook_scopes() {
    let (s, _got, url) = setup("memory").await;
    let (status, key) = s
        .admin(
            Method::POST,
            "/v1/admin/api-keys",
            Some(json!({"name": "hooks reader", "scopes": ["webhooks:read"]})),
        )
        .await;
    assert_eq!(status, 201, "{key}");
    let reader = key["secret"].as_str().unwrap();
    let (status, _) = s
        .send(Method::GET, "/v1/admin/webhooks", Some(reader), None)
        .await;
    assert_eq!(status, 200);
    let (status, body) = s
        .send(
            Method::POST,
            "/v1/admin/webhooks",
            Some(reader),
            Some(json!({"url": url})),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    assert_error(&body, "forbidden");
}
