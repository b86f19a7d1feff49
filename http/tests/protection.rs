use reqwest::header::{
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_REQUEST_HEADERS, ACCESS_CONTROL_REQUEST_METHOD,
    CONTENT_TYPE, ORIGIN, RETRY_AFTER,
};
use serde_json::json;

use crate::harness::*;

async fn with_cors_origin(s: &Server, origin: &str) {
    s.set_default_app(|a| a.cors_origins = vec![origin.into()])
        .await;
}

#[tokio::test]
async fn cors_preflight_allowed_and_refused() {
    let s = server("memory").await;
    with_cors_origin(&s, "https://spa.example").await;
    let preflight = |origin: &str| {
        s.client
            .request(reqwest::Method::OPTIONS, s.url("/v1/sign-in/password"))
            .header(ORIGIN, origin)
            .header(ACCESS_CONTROL_REQUEST_METHOD, "POST")
            .header(ACCESS_CONTROL_REQUEST_HEADERS, "content-type")
            .send()
    };
    let ok = preflight("https://spa.example").await.unwrap();
    assert_eq!(ok.status(), 204);
    assert_eq!(
        ok.headers()[ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://spa.example"
    );
    assert!(
        ok.headers()["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .contains("content-type")
    );
    let refused = preflight("https://evil.example").await.unwrap();
    assert_eq!(refused.status(), 403);
    assert!(refused.headers().get(ACCESS_CONTROL_ALLOW_ORIGIN).is_none());

    // Actual requests: the allow header only for the app's own origins.
    let res = s
        .client
        .get(s.url("/healthz"))
        .header(ORIGIN, "https://spa.example")
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()[ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://spa.example"
    );
    let res = s
        .client
        .get(s.url("/healthz"))
        .header(ORIGIN, "https://evil.example")
        .send()
        .await
        .unwrap();
    assert!(res.headers().get(ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
}

#[tokio::test]
async fn oversized_and_malformed_bodies_get_the_envelope() {
    let s = server("memory").await;
    let big = json!({"email": "big@example.com", "password": "x".repeat(100 * 1024)});
    let (status, body) = s.post("/v1/sign-up", big).await;
    assert_eq!(status, 413, "{body}");
    assert_error(&body, "too_large");

    let res = s
        .client
        .post(s.url("/v1/sign-in/password"))
        .header(CONTENT_TYPE, "application/json")
        .body("{\"email\": ")
        .send()
        .await
        .unwrap();
    let (status, body) = read(res).await;
    assert_eq!(status, 400);
    assert_error(&body, "bad_request");

    let (status, body) = s.post("/v1/sign-in/password", json!({"email": 5})).await;
    assert_eq!(status, 422);
    assert_error(&body, "invalid_input");

    let res = s
        .client
        .post(s.url("/v1/sign-up"))
        .body("email=a")
        .send()
        .await
        .unwrap();
    let (status, body) = read(res).await;
    assert_eq!(status, 400, "missing JSON content type");
    assert_error(&body, "bad_request");

    // Invalid UTF-8 inside JSON.
    let res = s
        .client
        .post(s.url("/v1/sign-in/password"))
        .header(CONTENT_TYPE, "application/json")
        .body(b"{\"email\": \"\xff\xfe\", \"password\": \"x\"}".to_vec())
        .send()
        .await
        .unwrap();
    let (status, body) = read(res).await;
    assert_eq!(status, 400);
    assert_error(&body, "bad_request");

    s.sign_up("dup@example.com").await;
    let refused = [
        (
            "/v1/sign-up",
            json!({"email": "not-an-email", "password": PASSWORD}),
            422,
            "invalid_email",
        ),
        (
            "/v1/sign-up",
            json!({"email": "weak@example.com", "password": "password"}),
            422,
            "weak_password",
        ),
        (
            "/v1/sign-up",
            json!({"email": "DUP@example.com", "password": PASSWORD}),
            409,
            "email_taken",
        ),
        (
            "/v1/token/refresh",
            json!({"refresh_token": "tsr_garbage"}),
            401,
            "invalid_token",
        ),
    ];
    for (path, request, expected, code) in refused {
        let (status, body) = s.post(path, request).await;
        assert_eq!(status, expected, "{path}: {body}");
        assert_error(&body, code);
    }
}

#[tokio::test]
async fn unknown_app_is_404() {
    let s = server("memory").await;
    let res = s
        .client
        .post(s.url("/v1/sign-up"))
        .header("x-tessera-app", "no-such-app")
        .json(&json!({"email": "a@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let (status, body) = read(res).await;
    assert_eq!(status, 404);
    assert_error(&body, "not_found");
}

#[tokio::test]
async fn sign_in_is_rate_limited_per_ip_and_account_with_retry_after() {
    let s = server_with("memory", options(true)).await;
    s.sign_up("limited@example.com").await;
    let wrong = json!({"email": "limited@example.com", "password": "wrong wrong wrong"});
    let res = s
        .until_limited("/v1/sign-in/password", wrong, 25)
        .await
        .expect("rate limited within 25 attempts");
    let retry: u64 = res.headers()[RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry >= 1);
    let (_, body) = read(res).await;
    assert_error(&body, "rate_limited");
}

/// `GET /v1/admin/apps` with `key` as the bearer credential: the status.
async fn list_apps_with(s: &Server, key: &str) -> u16 {
    let (status, _) = s
        .send(reqwest::Method::GET, "/v1/admin/apps", Some(key), None)
        .await;
    status
}

#[tokio::test]
async fn admin_api_requires_a_live_key() {
    let s = server("memory").await;
    let (status, body) = read(s.get("/v1/admin/apps").await).await;
    assert_eq!(status, 401);
    assert_error(&body, "unauthenticated");
    assert_eq!(list_apps_with(&s, "tsk_not_a_real_key").await, 401);
    let created = s
        .tessera
        .api_keys()
        .create("temp", &["admin".into()], None)
        .await
        .unwrap();
    assert_eq!(list_apps_with(&s, &created.secret).await, 200);
    s.tessera.api_keys().revoke(created.key.id).await.unwrap();
    assert_eq!(list_apps_with(&s, &created.secret).await, 401);
    // A user's access token is not an admin credential.
    let user = s.sign_up("not-admin@example.com").await;
    assert_eq!(
        list_apps_with(&s, user["access_token"].as_str().unwrap()).await,
        401
    );
}

#[tokio::test]
async fn forwarded_for_is_honoured_only_from_trusted_proxies() {
    let mut opts = options(false);
    opts.trusted_proxies = vec![tessera_core::validate::parse_cidr("127.0.0.1").unwrap()];
    let trusted = server_with("memory", opts).await;
    let untrusted = server("memory").await;
    for (s, expected) in [(&trusted, "203.0.113.7"), (&untrusted, "127.0.0.1")] {
        let res = s
            .client
            .post(s.url("/v1/sign-up"))
            .header("x-forwarded-for", "203.0.113.7")
            .json(&json!({"email": "ip@example.com", "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        let events = s.tessera.audit().list(&Default::default()).await.unwrap();
        let e = events.iter().find(|e| e.kind == "user.signed_up").unwrap();
        assert_eq!(e.ip.as_deref(), Some(expected));
    }
}

/// A memory store whose readiness check never answers.
struct StuckPing(tessera_storage_memory::MemoryStore);

#[async_trait::async_trait]
impl tessera_core::store::Store for StuckPing {
    fn apps(&self) -> &dyn tessera_core::store::AppStore {
        self.0.apps()
    }
    fn users(&self) -> &dyn tessera_core::store::UserStore {
        self.0.users()
    }
    fn credentials(&self) -> &dyn tessera_core::store::CredentialStore {
        self.0.credentials()
    }
    fn identities(&self) -> &dyn tessera_core::store::IdentityStore {
        self.0.identities()
    }
    fn sessions(&self) -> &dyn tessera_core::store::SessionStore {
        self.0.sessions()
    }
    fn tokens(&self) -> &dyn tessera_core::store::OneTimeTokenStore {
        self.0.tokens()
    }
    fn keys(&self) -> &dyn tessera_core::store::KeyStore {
        self.0.keys()
    }
    fn audit(&self) -> &dyn tessera_core::store::AuditStore {
        self.0.audit()
    }
    fn throttles(&self) -> &dyn tessera_core::store::ThrottleStore {
        self.0.throttles()
    }
    fn api_keys(&self) -> &dyn tessera_core::store::ApiKeyStore {
        self.0.api_keys()
    }
    fn mail(&self) -> &dyn tessera_core::store::MailOutboxStore {
        self.0.mail()
    }
    fn oauth_providers(&self) -> &dyn tessera_core::store::OAuthProviderStore {
        self.0.oauth_providers()
    }
    fn webhook_endpoints(&self) -> &dyn tessera_core::store::WebhookEndpointStore {
        self.0.webhook_endpoints()
    }
    fn webhook_deliveries(&self) -> &dyn tessera_core::store::WebhookDeliveryStore {
        self.0.webhook_deliveries()
    }
    fn backend(&self) -> &'static str {
        "stuck"
    }
    async fn ping(&self) -> tessera_core::Result<()> {
        std::future::pending().await
    }
}

/// A request that outlives the request timeout is answered 408 in the error
/// envelope, with the security headers (issue 14: a write stuck on a locked
/// database was answered a bare 408 with an empty body).
#[tokio::test]
async fn a_request_past_the_timeout_gets_the_envelope() {
    let store = std::sync::Arc::new(StuckPing(tessera_storage_memory::MemoryStore::new()));
    let t = tessera(store).await;
    let options = tessera_http::HttpOptions {
        request_timeout: std::time::Duration::from_millis(200),
        ..options(false)
    };
    let addr = spawn_router(tessera_http::router_with(t, options)).await;
    let res = reqwest::get(format!("http://{addr}/readyz")).await.unwrap();
    assert_eq!(
        res.headers()["content-security-policy"],
        tessera_http::security::CSP
    );
    assert_eq!(res.headers()[CONTENT_TYPE], "application/json");
    let (status, body) = read(res).await;
    assert_eq!(status, 408, "{body}");
    assert_error(&body, "timeout");
}

/// An error answered before the handler read the request body (here: an
/// unknown app, found from the headers) leaves the connection usable: the
/// next request on it is answered. Before, the server closed the connection
/// without a word (the body was never read), so a client reusing it saw
/// "server disconnected" — what every request after a database outage's
/// first 503 met in the e2e fault tests.
#[tokio::test]
async fn an_early_error_answer_keeps_the_connection_usable() {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
    let s = server("memory").await;
    let addr = s.base.trim_start_matches("http://").to_owned();
    let stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let mut stream = BufReader::new(stream);
    let body = r#"{"email": "early@example.com", "password": "correct horse battery staple 42"}"#;

    /// The status line and body of one response (Content-Length framed).
    async fn response(stream: &mut BufReader<tokio::net::TcpStream>) -> (String, String) {
        let mut status = String::new();
        stream.read_line(&mut status).await.unwrap();
        let mut length = 0;
        loop {
            let mut line = String::new();
            stream.read_line(&mut line).await.unwrap();
            if line == "\r\n" || line.is_empty() {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        stream.read_exact(&mut body).await.unwrap();
        (status, String::from_utf8(body).unwrap())
    }

    // Headers first, the body a moment later, as clients often send them:
    // the app is unknown before the body is there.
    let head = format!(
        "POST /v1/sign-in/password HTTP/1.1\r\nHost: {addr}\r\nX-Tessera-App: no-such-app\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.get_mut().write_all(head.as_bytes()).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let _ = stream.get_mut().write_all(body.as_bytes()).await;
    let (status, body) = response(&mut stream).await;
    assert!(status.contains(" 404 "), "{status}");
    assert!(body.contains("not_found"), "{body}");

    let again = format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    let _ = stream.get_mut().write_all(again.as_bytes()).await;
    let (status, body) = response(&mut stream).await;
    assert!(status.contains(" 200 "), "{status}");
    assert!(body.contains("\"ok\""), "{body}");
}

#[tokio::test]
async fn json_answers_are_never_cached_and_https_answers_carry_hsts() {
    let s = server("memory").await;
    let signed_up = s.sign_up("nocache@example.com").await;
    let access = signed_up["access_token"].as_str().unwrap();
    let refresh = signed_up["refresh_token"].as_str().unwrap();
    let password = json!({"email": "nocache@example.com", "password": PASSWORD});
    let wrong = json!({"email": "nocache@example.com", "password": "wrong wrong"});
    // (method, path, body, bearer): every answer carrying tokens or
    // personal data, successes and errors alike.
    let table: Vec<(
        reqwest::Method,
        &str,
        Option<serde_json::Value>,
        Option<&str>,
    )> = vec![
        (
            reqwest::Method::POST,
            "/v1/sign-up",
            Some(json!({"email": "nocache2@example.com", "password": PASSWORD})),
            None,
        ),
        (
            reqwest::Method::POST,
            "/v1/sign-in/password",
            Some(password),
            None,
        ),
        (
            reqwest::Method::POST,
            "/v1/sign-in/password",
            Some(wrong),
            None,
        ),
        (
            reqwest::Method::POST,
            "/v1/token/refresh",
            Some(json!({"refresh_token": refresh})),
            None,
        ),
        (reqwest::Method::GET, "/v1/session", None, Some(access)),
        (reqwest::Method::GET, "/v1/me", None, Some(access)),
        (reqwest::Method::GET, "/v1/sessions", None, Some(access)),
        (reqwest::Method::GET, "/v1/mfa", None, Some(access)),
        (
            reqwest::Method::POST,
            "/v1/sign-in/oauth/exchange",
            Some(json!({"code": "tso_nothing"})),
            None,
        ),
        (
            reqwest::Method::GET,
            "/v1/admin/users",
            None,
            Some(ADMIN_KEY),
        ),
    ];
    for (method, path, body, bearer) in table {
        let mut req = s.client.request(method.clone(), s.url(path));
        if let Some(b) = body {
            req = req.json(&b);
        }
        if let Some(t) = bearer {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.unwrap();
        assert_eq!(
            res.headers()
                .get(reqwest::header::CACHE_CONTROL)
                .map(|v| v.to_str().unwrap()),
            Some("no-store"),
            "{method} {path} answered {}",
            res.status()
        );
        assert!(!res.headers().contains_key("strict-transport-security"));
    }
    // Public documents keep their own caching.
    let jwks = s.get("/.well-known/jwks.json").await;
    assert_ne!(jwks.headers()[reqwest::header::CACHE_CONTROL], "no-store");

    let mut https = options(false);
    https.base_url = "https://auth.example".into();
    let s = serve(s.tessera.clone(), https).await;
    for path in ["/healthz", "/v1/me", "/sign-in"] {
        let res = s.get(path).await;
        assert_eq!(
            res.headers()["strict-transport-security"],
            "max-age=31536000; includeSubDomains",
            "{path}"
        );
    }
}

#[tokio::test]
async fn access_tokens_are_checked_against_the_named_app() {
    let s = server("memory").await;
    let user = s.sign_up("aud@example.com").await;
    let token = user["access_token"].as_str().unwrap();
    let (_, app) = s
        .admin(
            reqwest::Method::POST,
            "/v1/admin/apps",
            Some(json!({"name": "Other", "slug": "other"})),
        )
        .await;
    assert!(app["id"].is_string(), "{app}");
    let me = |app: &'static str| {
        s.client
            .get(s.url("/v1/me"))
            .bearer_auth(token)
            .header("x-tessera-app", app)
            .send()
    };
    // The token's own app (by slug of the default app) and no header pass.
    let default = s.tessera.apps().resolve_or_default(None).await.unwrap();
    let res = s
        .client
        .get(s.url("/v1/me"))
        .bearer_auth(token)
        .header("x-tessera-app", default.id.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(s.get_auth("/v1/me", token).await.0, 200);
    // Another app's header: the token is not for it.
    let (status, body) = read(me("other").await.unwrap()).await;
    assert_eq!(status, 401);
    assert_error(&body, "unauthenticated");
    // An unknown app: 404 as everywhere.
    assert_eq!(me("nope").await.unwrap().status(), 404);
}

#[tokio::test]
async fn two_authorization_headers_are_refused() {
    let s = server("memory").await;
    let user = s.sign_up("twoauth@example.com").await;
    let token = user["access_token"].as_str().unwrap();
    for path in ["/v1/me", "/v1/admin/apps"] {
        let res = s
            .client
            .get(s.url(path))
            .header("authorization", format!("Bearer {token}"))
            .header("authorization", format!("Bearer {ADMIN_KEY}"))
            .send()
            .await
            .unwrap();
        let (status, body) = read(res).await;
        assert_eq!(status, 400, "{path}");
        assert_error(&body, "bad_request");
    }
}

#[tokio::test]
async fn an_admin_key_cannot_revoke_itself() {
    let s = server("memory").await;
    let (_, keys) = s
        .admin(reqwest::Method::GET, "/v1/admin/api-keys", None)
        .await;
    let own = keys["api_keys"]
        .as_array()
        .unwrap_or_else(|| panic!("{keys}"))
        .iter()
        .find(|k| k["name"].as_str().unwrap().starts_with("bootstrap"))
        .map(|k| k["id"].as_str().unwrap().to_owned())
        .unwrap_or_else(|| panic!("{keys}"));
    let path = format!("/v1/admin/api-keys/{own}");
    let (status, body) = s.admin(reqwest::Method::DELETE, &path, None).await;
    assert_eq!(status, 409, "{body}");
    assert_error(&body, "conflict");
    // Still works.
    assert_eq!(
        s.admin(reqwest::Method::GET, "/v1/admin/apps", None)
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn wrong_current_passwords_do_not_slow_down_sign_in() {
    let s = server_with("memory", options(true)).await;
    let user = s.sign_up("change@example.com").await;
    let token = user["access_token"].as_str().unwrap();
    for _ in 0..12 {
        let (status, _) = s
            .send(
                reqwest::Method::POST,
                "/v1/password/change",
                Some(token),
                Some(json!({"current_password": "not it at all", "new_password": "another long password 1"})),
            )
            .await;
        assert!(status == 401 || status == 429, "{status}");
    }
    s.sign_in("change@example.com").await;
}

#[tokio::test]
async fn malformed_paths_arrays_and_declared_sizes_get_the_envelope() {
    let s = server("memory").await;
    let user = s.sign_up("paths@example.com").await;
    let token = user["access_token"].as_str().unwrap();
    // Malformed path parameters: the envelope, never text/plain.
    for (path, bearer) in [
        ("/v1/admin/users/not-a-uuid", ADMIN_KEY),
        ("/v1/sessions/%ff%fe", token),
        ("/v1/admin/apps/not-a-uuid", ADMIN_KEY),
    ] {
        let res = s
            .client
            .delete(s.url(path))
            .bearer_auth(bearer)
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()[CONTENT_TYPE], "application/json", "{path}");
        let (status, body) = read(res).await;
        assert!(status == 400 || status == 404, "{path}: {status}");
        assert!(body["error"]["code"].is_string(), "{path}: {body}");
    }
    // JSON arrays where objects are expected.
    let res = s
        .client
        .post(s.url("/v1/sign-in/password"))
        .json(&json!(["paths@example.com", PASSWORD]))
        .send()
        .await
        .unwrap();
    let (status, body) = read(res).await;
    assert_eq!(status, 422, "{body}");
    assert_error(&body, "invalid_input");
    let res = s
        .client
        .patch(s.url("/v1/me"))
        .bearer_auth(token)
        .json(&json!([]))
        .send()
        .await
        .unwrap();
    let (status, body) = read(res).await;
    assert_eq!(status, 422, "{body}");
    // A declared length far over the limit is refused at once, body unsent.
    let mut stream = tokio::net::TcpStream::connect(s.base.trim_start_matches("http://"))
        .await
        .unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream
        .write_all(
            b"POST /v1/sign-up HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 104857600\r\n\r\n",
        )
        .await
        .unwrap();
    let mut head = vec![0u8; 512];
    let n = stream.read(&mut head).await.unwrap();
    let head = String::from_utf8_lossy(&head[..n]);
    assert!(head.starts_with("HTTP/1.1 413"), "{head}");
    assert!(head.contains("application/json"), "{head}");
}

#[tokio::test]
async fn hosted_form_parse_errors_are_html_pages() {
    let s = server("memory").await;
    let mut jar = Jar::default();
    get_page(&s, &mut jar, "/sign-in").await;
    // A form missing its fields, and a body that is not a form.
    for (content_type, body) in [
        ("application/x-www-form-urlencoded", "csrf=x"),
        ("text/plain", "hello"),
    ] {
        let res = s
            .client
            .post(s.url("/sign-in"))
            .header(CONTENT_TYPE, content_type)
            .header(reqwest::header::COOKIE, jar.header())
            .body(body)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        assert!(status == 415 || status == 422, "{content_type}: {status}");
        assert!(
            res.headers()[CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "{content_type}"
        );
    }
}

/// What schemathesis found (`scripts/test.d/23-schemathesis.sh`): each
/// answer is in the envelope where the route speaks JSON, an HTML page where
/// it serves a browser, and its status and content type are in the OpenAPI
/// document. Before: the hosted passkey routes (JSON, called by the page's
/// script) answered an unknown app or redirect URI with an HTML page, and the
/// `form_post` OAuth callback answered a wrong content type with a
/// `text/plain` 415.
#[tokio::test]
async fn schemathesis_findings_answer_in_the_documented_form() {
    let s = server("memory").await;
    let doc = serde_json::to_value(tessera_http::openapi()).unwrap();
    let body = json!({"csrf": "x", "ceremony": "x", "credential": {}, "mfa_token": "x"});
    // (method, path, (content type, body), expected status, content type)
    type Case<'a> = (&'a str, &'a str, Option<(&'a str, String)>, u16, &'a str);
    let cases: Vec<Case> = vec![
        (
            "post",
            "/sign-in/passkey?app=no-such-app",
            Some(("application/json", body.to_string())),
            404,
            "application/json",
        ),
        (
            "post",
            "/sign-in/mfa/passkey?redirect_uri=https%3A%2F%2Fevil.example%2F",
            Some(("application/json", body.to_string())),
            400,
            "application/json",
        ),
        (
            "post",
            "/sign-in/passkey?app=a&app=b",
            Some(("application/json", body.to_string())),
            400,
            "application/json",
        ),
        ("get", "/sign-in?app=a&app=b", None, 400, "text/html"),
        ("get", "/account?app=no-such-app", None, 404, "text/html"),
        (
            "post",
            "/sign-up?redirect_uri=https%3A%2F%2Fevil.example%2F",
            Some(("application/x-www-form-urlencoded", "csrf=x".into())),
            400,
            "text/html",
        ),
        (
            "post",
            "/v1/sign-in/oauth/github/callback",
            Some(("text/plain", "state=x".into())),
            400,
            "application/json",
        ),
    ];
    for (method, path, sent, status, content_type) in cases {
        let mut req = s
            .client
            .request(method.to_uppercase().parse().unwrap(), s.url(path));
        if let Some((ct, body)) = sent {
            req = req.header(CONTENT_TYPE, ct).body(body);
        }
        let res = req.send().await.unwrap();
        let at = format!("{method} {path}");
        assert_eq!(res.status().as_u16(), status, "{at}");
        let got = res.headers()[CONTENT_TYPE].to_str().unwrap().to_owned();
        assert!(got.starts_with(content_type), "{at}: {got}");
        let text = res.text().await.unwrap();
        if content_type == "application/json" {
            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert!(v["error"]["code"].is_string(), "{at}: {text}");
        }
        let route = path
            .split('?')
            .next()
            .unwrap()
            .replace("github", "{provider}");
        let documented = &doc["paths"][&route][method]["responses"][status.to_string()];
        assert!(
            documented["content"].get(content_type).is_some(),
            "{at}: {status} {content_type} not documented: {documented}"
        );
    }
}

/// Every JSON route behind an HTTP rate limit documents its 429: called
/// again and again from one address, each answers 429 `rate_limited`, and
/// the OpenAPI document lists it (the schemathesis part runs with the limits
/// off, so it cannot see these).
#[tokio::test]
async fn rate_limited_json_routes_document_429() {
    let s = server_with("memory", options(true)).await;
    let user = s.sign_up("budget@example.com").await;
    let token = user["access_token"].as_str().unwrap().to_owned();
    let doc = serde_json::to_value(tessera_http::openapi()).unwrap();
    for (path, body) in [
        ("/v1/token/refresh", json!({"refresh_token": "tsr_nothing"})),
        (
            "/v1/password/reset",
            json!({"token": "x", "new_password": PASSWORD}),
        ),
        ("/v1/email/verify", json!({"token": "x"})),
        ("/v1/email/change/confirm", json!({"token": "x"})),
        ("/v1/email/verify/send", json!({})),
        ("/v1/email/change", json!({"new_email": "new@example.com"})),
        ("/v1/sign-in/magic-link", json!({"token": "x"})),
        ("/v1/totp/enroll", json!({"mfa_token": "x"})),
    ] {
        let mut last = None;
        for _ in 0..300 {
            let (status, answer) = s
                .send(
                    reqwest::Method::POST,
                    path,
                    Some(&token),
                    Some(body.clone()),
                )
                .await;
            if status == 429 {
                last = Some(answer);
                break;
            }
        }
        let answer = last.unwrap_or_else(|| panic!("{path}: never limited"));
        assert_error(&answer, "rate_limited");
        let documented = &doc["paths"][path]["post"]["responses"]["429"];
        assert!(documented.is_object(), "{path}: 429 not documented");
    }
}
