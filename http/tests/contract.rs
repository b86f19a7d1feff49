use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::json;
use tessera_http::HttpOptions;

use crate::harness::*;

/// The routes of docs/contract.md section 5 this server implements (method, path).
const STABLE_ROUTES: &[(&str, &str)] = &[
    ("GET", "/healthz"),
    ("GET", "/.well-known/jwks.json"),
    ("GET", "/v1/openapi.json"),
    ("POST", "/v1/sign-up"),
    ("POST", "/v1/sign-in/password"),
    ("POST", "/v1/token/refresh"),
    ("GET", "/v1/session"),
    ("GET", "/v1/sessions"),
    ("DELETE", "/v1/sessions/{id}"),
    ("DELETE", "/v1/sessions"),
    ("POST", "/v1/sign-out"),
    ("GET", "/v1/me"),
    ("PATCH", "/v1/me"),
    ("POST", "/v1/password/change"),
    ("POST", "/v1/password/reset/send"),
    ("POST", "/v1/password/reset"),
    ("POST", "/v1/email/verify/send"),
    ("POST", "/v1/email/verify"),
    ("POST", "/v1/email/change"),
    ("POST", "/v1/sign-in/code/send"),
    ("POST", "/v1/sign-in/code"),
    ("POST", "/v1/sign-in/magic-link/send"),
    ("POST", "/v1/sign-in/magic-link"),
    ("POST", "/v1/totp/enroll"),
    ("POST", "/v1/totp/confirm"),
    ("DELETE", "/v1/totp"),
    ("POST", "/v1/sign-in/mfa"),
    ("GET", "/v1/sign-in/oauth/{provider}"),
    ("GET", "/v1/sign-in/oauth/{provider}/callback"),
    ("POST", "/v1/sign-in/oauth/{provider}/callback"),
    ("POST", "/v1/sign-in/oauth/exchange"),
    ("GET", "/v1/identities"),
    ("DELETE", "/v1/identities/{id}"),
    ("POST", "/v1/passkeys/register/start"),
    ("POST", "/v1/passkeys/register/finish"),
    ("POST", "/v1/sign-in/passkey/start"),
    ("POST", "/v1/sign-in/passkey/finish"),
    ("GET", "/v1/passkeys"),
    ("PATCH", "/v1/passkeys/{id}"),
    ("DELETE", "/v1/passkeys/{id}"),
    ("PUT", "/v1/admin/apps/{app}/oauth-providers/{provider}"),
    ("GET", "/v1/admin/apps/{app}/oauth-providers/{provider}"),
    ("DELETE", "/v1/admin/apps/{app}/oauth-providers/{provider}"),
    ("GET", "/v1/admin/apps"),
    ("POST", "/v1/admin/apps"),
    ("GET", "/v1/admin/apps/{app}"),
    ("PATCH", "/v1/admin/apps/{app}"),
    ("DELETE", "/v1/admin/apps/{app}"),
    ("GET", "/v1/admin/users"),
    ("GET", "/v1/admin/users/{id}"),
    ("PATCH", "/v1/admin/users/{id}"),
    ("DELETE", "/v1/admin/users/{id}"),
    ("DELETE", "/v1/admin/users/{id}/sessions"),
    ("GET", "/v1/admin/audit"),
    ("GET", "/v1/admin/api-keys"),
    ("POST", "/v1/admin/api-keys"),
    ("DELETE", "/v1/admin/api-keys/{id}"),
    ("GET", "/v1/admin/webhooks"),
    ("POST", "/v1/admin/webhooks"),
    ("GET", "/v1/admin/webhooks/{id}"),
    ("PATCH", "/v1/admin/webhooks/{id}"),
    ("DELETE", "/v1/admin/webhooks/{id}"),
    ("POST", "/v1/admin/webhooks/{id}/rotate-secret"),
    ("POST", "/v1/admin/webhooks/{id}/test"),
    ("GET", "/v1/admin/webhooks/{id}/deliveries"),
    (
        "POST",
        "/v1/admin/webhooks/{id}/deliveries/{delivery_id}/retry",
    ),
];

fn documented() -> BTreeSet<(String, String)> {
    let doc = serde_json::to_value(tessera_http::openapi()).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in ["get", "post", "put", "patch", "delete"] {
            if let Some(op) = item.get(method) {
                assert!(
                    op.get("responses").is_some(),
                    "{method} {path} documents its responses"
                );
                out.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    out
}

#[test]
fn every_stable_route_is_documented() {
    let doc = documented();
    for (m, p) in STABLE_ROUTES {
        assert!(
            doc.contains(&(m.to_string(), p.to_string())),
            "{m} {p} is missing from the OpenAPI document"
        );
    }
}

#[tokio::test]
async fn every_documented_route_is_served() {
    let s = server("memory").await;
    let served = s.get("/v1/openapi.json").await;
    let served: serde_json::Value = served.json().await.unwrap();
    assert_eq!(
        served,
        serde_json::to_value(tessera_http::openapi()).unwrap()
    );
    for (method, path) in documented() {
        let concrete = path
            .replace("{id}", "01900000-0000-7000-8000-000000000000")
            .replace("{delivery_id}", "01900000-0000-7000-8000-000000000001")
            .replace("{app}", "default");
        let res = s
            .client
            .request(
                Method::from_bytes(method.as_bytes()).unwrap(),
                s.url(&concrete),
            )
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        let body = res.text().await.unwrap();
        assert_ne!(status, 405, "{method} {path} is documented but not routed");
        assert!(
            !(status == 404 && body.contains("No such route")),
            "{method} {path} is documented but not routed"
        );
    }
}

#[test]
fn cookie_and_header_names_are_stable() {
    assert_eq!(tessera_http::extract::SESSION_COOKIE, "tessera_session");
    assert_eq!(tessera_http::extract::ACCESS_COOKIE, "tessera_at");
    assert_eq!(tessera_http::extract::APP_HEADER, "x-tessera-app");
}

#[tokio::test]
async fn every_error_status_carries_the_envelope_and_security_headers() {
    let s = server_with("memory", options(true)).await;
    s.sign_up("env@example.com").await;
    let c = &s.client;
    let sign_up = |body: serde_json::Value| c.post(s.url("/v1/sign-up")).json(&body).send();
    let mut cases: Vec<(u16, reqwest::Response)> = vec![
        (
            400,
            c.post(s.url("/v1/sign-up"))
                .header("content-type", "application/json")
                .body("{")
                .send()
                .await
                .unwrap(),
        ),
        (401, c.get(s.url("/v1/session")).send().await.unwrap()),
        (
            403,
            c.delete(s.url("/v1/admin/apps/default"))
                .bearer_auth(ADMIN_KEY)
                .send()
                .await
                .unwrap(),
        ),
        (404, c.get(s.url("/no/such/route")).send().await.unwrap()),
        (405, c.put(s.url("/healthz")).send().await.unwrap()),
        (
            409,
            sign_up(json!({"email": "env@example.com", "password": PASSWORD}))
                .await
                .unwrap(),
        ),
        (
            413,
            sign_up(json!({"email": "x", "password": "y".repeat(70_000)}))
                .await
                .unwrap(),
        ),
        (
            422,
            sign_up(json!({"email": "x", "password": PASSWORD}))
                .await
                .unwrap(),
        ),
    ];
    let limited = s
        .until_limited("/v1/sign-up", json!({"email": "bad", "password": "p"}), 40)
        .await;
    cases.push((429, limited.expect("sign-up is rate limited")));
    for (expected, res) in cases.drain(..) {
        assert_eq!(res.status().as_u16(), expected);
        let h = res.headers().clone();
        assert_eq!(h["content-type"], "application/json", "{expected}");
        assert!(
            h["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("frame-ancestors 'none'")
        );
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["referrer-policy"], "no-referrer");
        let (_, body) = read(res).await;
        assert!(
            body["error"]["code"]
                .as_str()
                .is_some_and(|c| !c.is_empty()),
            "{expected}: {body}"
        );
        assert!(
            body["error"]["message"].as_str().is_some(),
            "{expected}: {body}"
        );
    }
    // Success answers, HTML included, carry the headers too.
    for path in ["/healthz", "/sign-in"] {
        let res = c.get(s.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(
            res.headers()["content-security-policy"],
            tessera_http::security::CSP
        );
        assert_eq!(res.headers()["x-frame-options"], "DENY");
    }
}

#[tokio::test]
async fn metrics_count_requests_and_sign_ins() {
    let s = server("memory").await;
    s.sign_up("metrics@example.com").await;
    let _ = s
        .post(
            "/v1/sign-in/password",
            json!({"email": "metrics@example.com", "password": "nope nope nope"}),
        )
        .await;
    let text = s.text("/metrics").await;
    assert!(text.contains("tessera_http_requests_total"), "{text}");
    assert!(text.contains("route=\"/v1/sign-up\""));
    assert!(
        text.contains("tessera_sign_ins_total") && text.contains("outcome=\"invalid_credentials\"")
    );
    assert!(text.contains("tessera_http_request_duration_seconds"));
    let (status, ready) = read(s.get("/readyz").await).await;
    assert_eq!(status, 200);
    assert_eq!(ready["status"], "ready");
}

/// The router installs no exporter: without a renderer from its runner,
/// `/metrics` answers 404 as it did when another recorder was installed.
#[tokio::test]
async fn metrics_without_a_renderer_answer_404() {
    let s = server_with(
        "memory",
        HttpOptions {
            metrics: None,
            ..options(false)
        },
    )
    .await;
    let res = s.get("/metrics").await;
    assert_eq!(res.status(), 404);
    assert_eq!(res.text().await.unwrap(), "metrics recorder not installed");
}
