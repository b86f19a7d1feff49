use reqwest::header::{COOKIE, LOCATION};
use serde_json::json;

use crate::harness::*;

#[tokio::test]
async fn hosted_sign_up_sign_in_account_and_sign_out_with_csrf() {
    let s = server("memory").await;
    let (csrf_cookie, csrf_field) = form_page(&s, "/sign-up").await;
    // The token is the server's MAC of the cookie's pre-session id.
    assert_ne!(csrf_cookie, csrf_field);

    // Without the CSRF token: refused, nothing created.
    let res = submit(
        &s,
        "/sign-up",
        &csrf_cookie,
        &credentials("x".repeat(43).as_str(), "page@example.com"),
    )
    .await;
    assert_eq!(res.status(), 403);
    let pool = s.tessera.apps().default_pool().await.unwrap().id;
    assert!(
        s.tessera
            .users()
            .find_by_email(pool, "page@example.com")
            .await
            .unwrap()
            .is_none()
    );
    // Without the cookie: refused too.
    let res = s
        .client
        .post(s.url("/sign-up"))
        .form(&credentials(csrf_field.as_str(), "page@example.com"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);

    // With it: account created, session cookies set, redirected to the account page.
    let res = submit(
        &s,
        "/sign-up",
        &csrf_cookie,
        &[
            ("csrf", csrf_field.as_str()),
            ("email", "page@example.com"),
            ("password", PASSWORD),
            ("name", "Page"),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()[LOCATION], "account");
    let cookies = set_cookies(&res);
    let session = cookies
        .iter()
        .find(|c| c.0 == "tessera_session")
        .expect("session cookie");
    assert!(session.1.starts_with("tss_"));
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(session.2.contains(attr), "{} lacks {attr}", session.2);
    }
    assert!(
        !session.2.contains("Secure"),
        "plain-HTTP localhost gets no Secure flag"
    );
    assert!(
        cookies
            .iter()
            .any(|c| c.0 == "tessera_at" && c.1.starts_with("ey"))
    );
    let cookie_header = format!("tessera_csrf={csrf_cookie}; tessera_session={}", session.1);

    // The account page and the JSON API both accept the cookie.
    let res = s.get_with_cookies("/account", &cookie_header).await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("page@example.com"));
    let res = s.get_with_cookies("/v1/session", &cookie_header).await;
    assert_eq!(res.status(), 200);

    // A cookie-authenticated state change from a foreign origin is refused.
    let res = s
        .client
        .post(s.url("/v1/sign-out"))
        .header(COOKIE, &cookie_header)
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let res = s.get_with_cookies("/v1/session", &cookie_header).await;
    assert_eq!(res.status(), 200, "the session survived the forged request");

    // Hosted sign-in with a wrong password shows the form again with an error.
    let res = submit(
        &s,
        "/sign-in",
        &csrf_cookie,
        &[
            ("csrf", csrf_field.as_str()),
            ("email", "page@example.com"),
            ("password", "wrong wrong wrong"),
        ],
    )
    .await;
    assert_eq!(res.status(), 401);
    assert!(res.text().await.unwrap().contains("role=\"alert\""));

    // Sign-out needs the CSRF token too, then clears the cookies and revokes.
    let res = s
        .client
        .post(s.url("/sign-out"))
        .header(COOKIE, &cookie_header)
        .form(&[("csrf", "nope")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let res = s
        .client
        .post(s.url("/sign-out"))
        .header(COOKIE, &cookie_header)
        .form(&[("csrf", csrf_field.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert!(
        set_cookies(&res)
            .iter()
            .any(|c| c.0 == "tessera_session" && c.1.is_empty() && c.2.contains("Max-Age=0"))
    );
    let res = s.get_with_cookies("/v1/session", &cookie_header).await;
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn redirect_uris_must_be_registered() {
    let s = server("memory").await;
    s.set_default_app(|a| a.redirect_uris = vec!["https://app.example/after".into()])
        .await;
    s.sign_up("redir@example.com").await;

    let res = s
        .get("/sign-in?redirect_uri=https%3A%2F%2Fevil.example%2Fsteal")
        .await;
    assert_eq!(res.status(), 400);
    assert!(!res.text().await.unwrap().contains("<form"));

    let (cookie, field) = form_page(
        &s,
        "/sign-in?redirect_uri=https%3A%2F%2Fapp.example%2Fafter",
    )
    .await;
    let res = submit(
        &s,
        "/sign-in?redirect_uri=https%3A%2F%2Fapp.example%2Fafter",
        &cookie,
        &credentials(field.as_str(), "redir@example.com"),
    )
    .await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()[LOCATION], "https://app.example/after");

    // A foreign URI on the POST is refused too, and no session is created.
    let before = s
        .tessera
        .audit()
        .list(&Default::default())
        .await
        .unwrap()
        .len();
    let res = submit(
        &s,
        "/sign-in?redirect_uri=https%3A%2F%2Fevil.example%2F",
        &cookie,
        &credentials(field.as_str(), "redir@example.com"),
    )
    .await;
    assert_eq!(res.status(), 400);
    assert_eq!(
        s.tessera
            .audit()
            .list(&Default::default())
            .await
            .unwrap()
            .len(),
        before
    );

    // Unknown app.
    let res = s.get("/sign-in?app=no-such-app").await;
    assert_eq!(res.status(), 404);
}

#[tokio::test]
async fn router_nests_under_a_prefix() {
    let (store, _) = store("memory").await;
    let t = tessera(store).await;
    let app = axum::Router::new()
        .route("/", axum::routing::get(|| async { "the host app" }))
        .nest("/auth", tessera_http::router_with(t, options(false)));
    let addr = spawn_router(app).await;
    let base = format!("http://{addr}");
    let c = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    assert_eq!(
        c.get(format!("{base}/"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "the host app"
    );
    let (status, health) = read(c.get(format!("{base}/auth/healthz")).send().await.unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(health["status"], "ok");
    let (status, body) = read(
        c.post(format!("{base}/auth/v1/sign-up"))
            .json(&json!({"email": "nested@example.com", "password": PASSWORD}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    // Hosted pages use relative links, so they stay under the prefix.
    let res = c.get(format!("{base}/auth/sign-in")).send().await.unwrap();
    let html = res.text().await.unwrap();
    assert!(html.contains("action=\"sign-in\"") && html.contains("href=\"assets/tessera.css\""));
    assert_eq!(
        c.get(format!("{base}/auth/assets/tessera.css"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        c.get(format!("{base}/auth/v1/openapi.json"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

/// POST the sign-in form with `cookie` (the pre-session cookie's value),
/// the `csrf` field and extra headers: the status.
async fn sign_in_with(s: &Server, cookie: &str, csrf: &str, headers: &[(&str, &str)]) -> u16 {
    let mut req = s
        .client
        .post(s.url("/sign-in"))
        .header(reqwest::header::COOKIE, format!("tessera_csrf={cookie}"))
        .form(&credentials(csrf, "bound@example.com"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn csrf_tokens_are_bound_to_the_server_and_cross_site_posts_refused() {
    let s = server("memory").await;
    s.sign_up("bound@example.com").await;
    let (cookie, field) = form_page(&s, "/sign-in").await;
    // An attacker-chosen pair (double submit of any value) is refused.
    let chosen = "T".repeat(43);
    assert_eq!(sign_in_with(&s, &chosen, &chosen, &[]).await, 403);
    // A forged token for the real pre-session, and the real token under
    // another pre-session, are refused.
    assert_eq!(sign_in_with(&s, &cookie, &"A".repeat(43), &[]).await, 403);
    assert_eq!(sign_in_with(&s, &chosen, &field, &[]).await, 403);
    // Cross-site requests are refused even with a valid pair.
    for headers in [
        &[("origin", "https://evil.example")][..],
        &[("origin", "null")][..],
        &[("sec-fetch-site", "cross-site")][..],
        &[
            ("sec-fetch-site", "cross-site"),
            ("origin", "http://127.0.0.1"),
        ][..],
    ] {
        assert_eq!(
            sign_in_with(&s, &cookie, &field, headers).await,
            403,
            "{headers:?}"
        );
    }
    // Same origin, same site, and no header at all pass.
    for headers in [
        &[("origin", "http://127.0.0.1")][..],
        &[("sec-fetch-site", "same-origin")][..],
        &[
            ("sec-fetch-site", "same-site"),
            ("origin", "http://app.127.0.0.1"),
        ][..],
        &[][..],
    ] {
        assert_eq!(
            sign_in_with(&s, &cookie, &field, headers).await,
            303,
            "{headers:?}"
        );
    }
}

#[tokio::test]
async fn the_csrf_cookie_is_host_prefixed_when_cookies_are_secure() {
    let mut opts = options(false);
    opts.base_url = "https://auth.example".into();
    let s = serve(server("memory").await.tessera, opts).await;
    let res = s.get("/sign-in").await;
    let raw = set_cookie(&res, "__Host-tessera_csrf").expect("__Host- cookie");
    for attr in ["Secure", "Path=/", "HttpOnly", "SameSite=Strict"] {
        assert!(raw.contains(attr), "{raw}");
    }
    assert!(!raw.contains("Domain"), "{raw}");
    assert!(set_cookie(&res, "tessera_csrf").is_none());
}
