//! The rate limits seen from outside: shared by every instance on one store
//! (issue 14, item 4), and a device that signed in before is never locked
//! out by guesses from elsewhere (issue 15, item 1).

use reqwest::header::{COOKIE, RETRY_AFTER};
use serde_json::{Value, json};

use crate::harness::*;

/// POST `body` to `path` from client address `ip` (through a trusted proxy).
async fn post_from(
    s: &Server,
    ip: &str,
    path: &str,
    body: &Value,
    cookie: Option<&str>,
) -> reqwest::Response {
    let mut req = s
        .client
        .post(s.url(path))
        .header("x-forwarded-for", ip)
        .json(body);
    if let Some(c) = cookie {
        req = req.header(COOKIE, c);
    }
    req.send().await.unwrap()
}

fn behind_proxy() -> tessera_http::HttpOptions {
    let mut opts = options(true);
    opts.trusted_proxies = vec![tessera_core::validate::parse_cidr("127.0.0.1").unwrap()];
    opts
}

#[tokio::test]
async fn two_instances_on_one_store_share_the_limits() {
    // Two routers on one store: two instances of a deployment.
    let a = server_with("memory", options(true)).await;
    let b = serve(a.tessera.clone(), options(true)).await;
    let mut signed_up = 0;
    for i in 0..20 {
        let s = if i % 2 == 0 { &a } else { &b };
        let body = json!({"email": format!("twin{i}@example.com"), "password": PASSWORD});
        let res = post_from(s, "ignored", "/v1/sign-up", &body, None).await;
        match res.status().as_u16() {
            201 => signed_up += 1,
            429 => assert!(res.headers().contains_key(RETRY_AFTER)),
            other => panic!("sign-up answered {other}"),
        }
    }
    // 10 per IP and minute for the deployment, not 10 per instance.
    assert_eq!(signed_up, 10);
    let mut sent = 0;
    for i in 0..20 {
        let s = if i % 2 == 0 { &a } else { &b };
        let body = json!({"email": "twin0@example.com"});
        let res = post_from(s, "ignored", "/v1/password/reset/send", &body, None).await;
        match res.status().as_u16() {
            202 => sent += 1,
            429 => {}
            other => panic!("reset answered {other}"),
        }
    }
    assert_eq!(sent, 10);
}

/// The `tessera_device` cookie of `res` (its raw `Set-Cookie`).
fn device_cookie(res: &reqwest::Response) -> String {
    set_cookie(res, "tessera_device").expect("a device cookie")
}

#[tokio::test]
async fn guesses_from_elsewhere_never_lock_out_a_known_device() {
    let s = server_with("memory", behind_proxy()).await;
    s.sign_up("owner@example.com").await;
    let right = json!({"email": "owner@example.com", "password": PASSWORD});
    // The owner signs in once: the answer carries a device token, also as
    // an HttpOnly cookie.
    let res = post_from(&s, "198.51.100.1", "/v1/sign-in/password", &right, None).await;
    assert_eq!(res.status(), 200);
    let raw = device_cookie(&res);
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=7776000"] {
        assert!(raw.contains(attr), "{raw}");
    }
    assert!(!raw.contains("Domain"), "{raw}");
    let cookie = raw.split(';').next().unwrap().to_owned();
    let (_, body) = read(res).await;
    let token = body["device_token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("tsd_"));
    assert_eq!(cookie, format!("tessera_device={token}"));

    // The attacker guesses from a new address every time, until the
    // account is refused to unknown devices.
    let wrong = json!({"email": "owner@example.com", "password": "not the password"});
    let mut refused = false;
    for i in 0..40 {
        let ip = format!("203.0.113.{}", i + 1);
        let res = post_from(&s, &ip, "/v1/sign-in/password", &wrong, None).await;
        if res.status() == 429 {
            refused = true;
            break;
        }
        assert_eq!(res.status(), 401);
    }
    assert!(refused, "guesses from unknown devices are limited");

    // The owner's device (cookie, or the token in the body) still gets in.
    let res = post_from(
        &s,
        "198.51.100.1",
        "/v1/sign-in/password",
        &right,
        Some(&cookie),
    )
    .await;
    assert_eq!(res.status(), 200);
    let with_field =
        json!({"email": "owner@example.com", "password": PASSWORD, "device_token": token});
    let res = post_from(
        &s,
        "198.51.100.1",
        "/v1/sign-in/password",
        &with_field,
        None,
    )
    .await;
    assert_eq!(res.status(), 200);
    // The owner on a fresh device is slowed like the attacker.
    let res = post_from(&s, "198.51.100.2", "/v1/sign-in/password", &right, None).await;
    assert_eq!(res.status(), 429);
    // A token for another account is no device.
    s.sign_up("other@example.com").await;
    let other = s.sign_in("other@example.com").await;
    let foreign = json!({"email": "owner@example.com", "password": PASSWORD,
        "device_token": other["device_token"]});
    let res = post_from(&s, "198.51.100.3", "/v1/sign-in/password", &foreign, None).await;
    assert_eq!(res.status(), 429);
}

#[tokio::test]
async fn hosted_sign_in_sets_and_honours_the_device_cookie() {
    let s = server_with("memory", behind_proxy()).await;
    s.sign_up("page@example.com").await;
    let mut jar = Jar::default();
    let (csrf, status, _) = hosted_sign_in(&s, &mut jar, "page@example.com").await;
    assert_eq!(status, 303);
    let device = jar.get("tessera_device").expect("device cookie").to_owned();
    assert!(device.starts_with("tsd_"));
    let wrong = json!({"email": "page@example.com", "password": "not the password"});
    for i in 0..40 {
        let ip = format!("203.0.113.{}", i + 1);
        if post_from(&s, &ip, "/v1/sign-in/password", &wrong, None)
            .await
            .status()
            == 429
        {
            break;
        }
    }
    let right = json!({"email": "page@example.com", "password": PASSWORD});
    assert_eq!(
        post_from(&s, "198.51.100.9", "/v1/sign-in/password", &right, None)
            .await
            .status(),
        429
    );
    let form = credentials(&csrf, "page@example.com");
    let (status, _, _) = post_form(&s, &mut jar, "/sign-in", &form).await;
    assert_eq!(status, 303, "the browser that signed in before gets in");
}
