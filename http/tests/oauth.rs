//! External sign-in over HTTP: the admin routes for providers (the secret is
//! never returned; https/loopback and kind validation), the start (302 with
//! state, PKCE S256 and nonce; the JSON form; registered redirect URIs only),
//! the callback's one-time state and browser binding, the exchange's refusals,
//! identities (unlinking the last way to sign in is refused) and the hosted
//! page's buttons. The full flow against real providers is the e2e suite.

use std::collections::HashMap;

use axum::routing::get;
use reqwest::header::{ACCEPT, COOKIE, LOCATION};
use serde_json::{Value, json};
use tessera_core::model::{CredentialKind, Identity};

use crate::harness::*;

const SECRET: &str = "s3cr3t-client-secret-never-shown";
const APP_CB: &str = "https://app.example/oauth/done";

/// A server like the harness's, optionally in development mode (loopback
/// provider endpoints allowed).
async fn oauth_server(dev: bool) -> Server {
    let (store, dir) = store("memory").await;
    assert!(dir.is_none());
    serve(tessera_in(store, dev).await, options(false)).await
}

async fn register_redirect(s: &Server) {
    let (status, body) = s
        .admin(
            reqwest::Method::PATCH,
            "/v1/admin/apps/default",
            Some(json!({ "redirect_uris": [APP_CB] })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

fn query(url: &str) -> HashMap<String, String> {
    let q = url.split_once('?').map(|x| x.1).unwrap_or_default();
    serde_urlencoded::from_str::<Vec<(String, String)>>(q)
        .unwrap()
        .into_iter()
        .collect()
}

/// Configure [`dead_oauth2`] as provider `name` of the default app.
async fn add_dead_provider(s: &Server, name: &str) {
    let path = format!("/v1/admin/apps/default/oauth-providers/{name}");
    let (status, body) = s
        .admin(reqwest::Method::PUT, &path, Some(dead_oauth2()))
        .await;
    assert_eq!(status, 200, "{body}");
}

/// A provider whose token endpoint refuses connections (nothing listens on
/// port 1): flows reach the callback and fail there, with no network.
fn dead_oauth2() -> Value {
    json!({
        "kind": "oauth2", "client_id": "cid", "client_secret": SECRET,
        "authorization_endpoint": "http://127.0.0.1:1/authorize",
        "token_endpoint": "http://127.0.0.1:1/token",
        "userinfo_endpoint": "http://127.0.0.1:1/user",
        "claims": { "id": "id", "email": "email" },
    })
}

#[tokio::test]
async fn admin_routes_never_return_the_client_secret() {
    let s = oauth_server(false).await;
    let path = "/v1/admin/apps/default/oauth-providers/github";
    let body = json!({ "kind": "github", "client_id": "Iv1.abc", "client_secret": SECRET, "display_name": "GitHub" });
    let (status, text) = s.admin(reqwest::Method::PUT, path, Some(body)).await;
    assert_eq!(status, 200, "{text}");
    assert!(!text.to_string().contains(SECRET), "{text}");
    let v = text;
    assert_eq!(v["provider"], "github");
    assert_eq!(v["kind"], "github");
    assert_eq!(v["client_id"], "Iv1.abc");
    assert_eq!(v["client_secret_set"], true);
    assert!(v.get("client_secret").is_none());
    assert_eq!(
        v["callback_url"],
        "http://127.0.0.1/v1/sign-in/oauth/github/callback"
    );
    for p in [path, "/v1/admin/apps/default/oauth-providers"] {
        let (status, text) = s.admin(reqwest::Method::GET, p, None).await;
        assert_eq!(status, 200, "{text}");
        assert!(!text.to_string().contains(SECRET), "{text}");
        assert!(
            text.to_string().contains("\"client_secret_set\":true"),
            "{text}"
        );
    }
    // An update without a secret keeps the stored one; the secret is sealed
    // in the store, not kept in plain text.
    let (status, text) = s
        .admin(
            reqwest::Method::PUT,
            path,
            Some(json!({ "kind": "github", "client_id": "Iv1.def" })),
        )
        .await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(text["client_secret_set"], true);
    let app = s.tessera.apps().default_app().await.unwrap();
    let row = s
        .tessera
        .store()
        .oauth_providers()
        .find_oauth_provider(app.id, "github")
        .await
        .unwrap()
        .unwrap();
    let sealed = row.client_secret_sealed.unwrap();
    assert!(!sealed.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()));
    assert_eq!(row.client_id, "Iv1.def");
    // Without the API key: refused.
    let res = s.get(path).await;
    assert_eq!(res.status(), 401);
    // Delete, then it is gone.
    let (status, _) = s.admin(reqwest::Method::DELETE, path, None).await;
    assert_eq!(status, 204);
    let (status, text) = s.admin(reqwest::Method::GET, path, None).await;
    assert_eq!(status, 404);
    assert_error(&text, "not_found");
    let (status, _) = s.admin(reqwest::Method::DELETE, path, None).await;
    assert_eq!(status, 404);
    // Every change is audited.
    let (status, text) = s
        .admin(
            reqwest::Method::GET,
            "/v1/admin/audit?type=oauth.provider_changed",
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(text["events"].as_array().unwrap().len(), 3, "{text}");
}

#[tokio::test]
async fn admin_routes_validate_kind_urls_and_fields() {
    let s = oauth_server(false).await;
    let put = |name: &'static str, body: Value| {
        let s = &s;
        async move {
            let (status, text) = s
                .admin(
                    reqwest::Method::PUT,
                    &format!("/v1/admin/apps/default/oauth-providers/{name}"),
                    Some(body),
                )
                .await;
            (status, text)
        }
    };
    let field = |v: &Value| v["error"]["field"].as_str().unwrap_or_default().to_owned();
    let (status, v) = put("x", json!({ "kind": "facebook", "client_id": "c" })).await;
    assert_eq!((status, field(&v).as_str()), (422, "kind"), "{v}");
    let (status, v) = put("x", json!({ "kind": "oidc", "client_id": "c" })).await;
    assert_eq!((status, field(&v).as_str()), (422, "issuer"), "{v}");
    let (status, v) = put(
        "x",
        json!({ "kind": "oidc", "client_id": "c", "issuer": "http://idp.example.com" }),
    )
    .await;
    assert_eq!((status, field(&v).as_str()), (422, "issuer"), "{v}");
    // Loopback over plain http needs development mode.
    let (status, v) = put(
        "x",
        json!({ "kind": "oidc", "client_id": "c", "issuer": "http://127.0.0.1:3000" }),
    )
    .await;
    assert_eq!((status, field(&v).as_str()), (422, "issuer"), "{v}");
    let (status, v) = put("x", dead_oauth2()).await;
    assert_eq!(
        (status, field(&v).as_str()),
        (422, "authorization_endpoint"),
        "{v}"
    );
    let (status, v) = put(
        "x",
        json!({ "kind": "google", "client_id": "c", "colour": "red" }),
    )
    .await;
    assert_eq!(status, 422, "{v}");
    assert_error(&v, "invalid_input");
    let (status, v) = put("Bad%20Name", json!({ "kind": "google", "client_id": "c" })).await;
    assert_eq!((status, field(&v).as_str()), (422, "provider"), "{v}");
    let (status, v) = put("x", json!({ "kind": "apple", "client_id": "c", "team_id": "T", "key_id": "K", "client_secret": "nope" })).await;
    assert_eq!((status, field(&v).as_str()), (422, "client_secret"), "{v}");
    let (status, _) = put("x", json!({ "kind": "google", "client_id": "c" })).await;
    assert_eq!(status, 200);
    let (status, v) = s
        .admin(
            reqwest::Method::PUT,
            "/v1/admin/apps/nope/oauth-providers/x",
            Some(json!({ "kind": "google", "client_id": "c" })),
        )
        .await;
    assert_eq!(status, 404, "{v}");
    // In development mode the loopback provider is accepted.
    let dev = oauth_server(true).await;
    add_dead_provider(&dev, "local").await;
}

/// A discovery document (only that) on a local port, so an OIDC start can
/// resolve its authorization endpoint without the network.
async fn discovery() -> String {
    let addr = std::sync::Arc::new(std::sync::OnceLock::<String>::new());
    let a2 = addr.clone();
    let router = axum::Router::new().route(
        "/.well-known/openid-configuration",
        get(move || {
            let base = a2.get().cloned().unwrap_or_default();
            async move {
                axum::Json(json!({
                    "issuer": base,
                    "authorization_endpoint": format!("{base}/auth"),
                    "token_endpoint": format!("{base}/token"),
                    "userinfo_endpoint": format!("{base}/me"),
                    "jwks_uri": format!("{base}/jwks"),
                    "response_types_supported": ["code"],
                    "subject_types_supported": ["public"],
                    "id_token_signing_alg_values_supported": ["RS256"],
                }))
            }
        }),
    );
    let sock = spawn_router(router).await;
    let base = format!("http://{sock}");
    addr.set(base.clone()).unwrap();
    base
}

#[tokio::test]
async fn start_redirects_with_state_pkce_and_nonce() {
    let s = oauth_server(true).await;
    register_redirect(&s).await;
    let issuer = discovery().await;
    let (status, text) = s.admin(reqwest::Method::PUT, "/v1/admin/apps/default/oauth-providers/idp", Some(json!({ "kind": "oidc", "client_id": "tessera-client", "client_secret": SECRET, "issuer": issuer })))
    .await;
    assert_eq!(status, 200, "{text}");
    let start = format!("/v1/sign-in/oauth/idp?redirect_uri={}", urlencode(APP_CB));
    let res = s.get(&start).await;
    assert_eq!(res.status(), 302);
    let loc = res.headers()[LOCATION].to_str().unwrap().to_owned();
    assert!(loc.starts_with(&format!("{issuer}/auth?")), "{loc}");
    let q = query(&loc);
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["client_id"], "tessera-client");
    assert_eq!(
        q["redirect_uri"],
        "http://127.0.0.1/v1/sign-in/oauth/idp/callback"
    );
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["code_challenge"].len(), 43);
    assert_eq!(q["state"].len(), 43);
    assert!(q["nonce"].len() >= 32);
    assert_eq!(q["scope"], "openid email profile");
    assert!(!loc.contains(SECRET));
    // The JSON form, and every start is fresh.
    let res = s
        .client
        .get(s.url(&start))
        .header(ACCEPT, "application/json")
        .send()
        .await
        .unwrap();
    let (status, body) = read(res).await;
    assert_eq!(status, 200, "{body}");
    let q2 = query(body["authorization_url"].as_str().unwrap());
    assert_ne!(q2["state"], q["state"]);
    assert_ne!(q2["nonce"], q["nonce"]);
    assert_ne!(q2["code_challenge"], q["code_challenge"]);
    // Redirect URIs must be registered; providers must exist.
    let res = s
        .get("/v1/sign-in/oauth/idp?redirect_uri=https%3A%2F%2Fevil.example%2F")
        .await;
    let (status, body) = read(res).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], "redirect_uri");
    let res = s.get("/v1/sign-in/oauth/nope").await;
    let (status, body) = read(res).await;
    assert_eq!(status, 404, "{body}");
    // A client challenge must be S256-shaped.
    let res = s
        .get(&format!(
            "{start}&code_challenge=short&code_challenge_method=S256"
        ))
        .await;
    assert_eq!(res.status(), 422);
    let res = s
        .get(&format!(
            "{start}&code_challenge={}&code_challenge_method=plain",
            "a".repeat(43)
        ))
        .await;
    assert_eq!(res.status(), 422);
    // Linking needs a signed-in caller.
    let res = s.get(&format!("{start}&link=true")).await;
    assert_eq!(res.status(), 401);
    // An app without OAuth sign-in refuses.
    let (status, _) = s
        .admin(
            reqwest::Method::PATCH,
            "/v1/admin/apps/default",
            Some(json!({ "sign_in_methods": ["password"] })),
        )
        .await;
    assert_eq!(status, 200);
    let (status, body) = read(s.get(&start).await).await;
    assert_eq!(status, 403, "{body}");
    assert_error(&body, "method_disabled");
}

fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("x", s)]).unwrap()[2..].to_owned()
}

#[tokio::test]
async fn callback_state_is_spent_once_and_failures_go_back_to_the_app() {
    let s = oauth_server(true).await;
    register_redirect(&s).await;
    add_dead_provider(&s, "dead").await;
    // Unknown or malformed state: 401 with nowhere to go back to.
    for q in [
        "",
        "?state=abc&code=x",
        &format!("?state={}&code=x", "A".repeat(43)),
    ] {
        let res = s.get(&format!("/v1/sign-in/oauth/dead/callback{q}")).await;
        let (status, body) = read(res).await;
        assert_eq!(status, 401, "{q}: {body}");
        assert_error(&body, "invalid_token");
    }
    let start = format!("/v1/sign-in/oauth/dead?redirect_uri={}", urlencode(APP_CB));
    let res = s.get(&start).await;
    assert_eq!(res.status(), 302);
    let state = query(res.headers()[LOCATION].to_str().unwrap())["state"].clone();
    let cb = format!("/v1/sign-in/oauth/dead/callback?state={state}&code=the-code");
    // The token endpoint is unreachable: back to the app with the error code.
    let res = s.get(&cb).await;
    assert_eq!(res.status(), 302);
    let loc = res.headers()[LOCATION].to_str().unwrap().to_owned();
    assert_eq!(loc, format!("{APP_CB}?error=provider_error"));
    // The state was spent: a replay is refused outright.
    let (status, body) = read(s.get(&cb).await).await;
    assert_eq!(status, 401, "{body}");
    assert_error(&body, "invalid_token");
    // A state started for one provider does not complete another's callback.
    let res = s.get(&start).await;
    let state = query(res.headers()[LOCATION].to_str().unwrap())["state"].clone();
    add_dead_provider(&s, "other").await;
    let res = s
        .get(&format!(
            "/v1/sign-in/oauth/other/callback?state={state}&code=c"
        ))
        .await;
    assert_eq!(res.status(), 401);
    // The provider's own error is passed back as provider_error.
    let res = s.get(&start).await;
    let state = query(res.headers()[LOCATION].to_str().unwrap())["state"].clone();
    let res = s
        .get(&format!(
            "/v1/sign-in/oauth/dead/callback?state={state}&error=access_denied"
        ))
        .await;
    assert_eq!(res.status(), 302);
    assert!(
        res.headers()[LOCATION]
            .to_str()
            .unwrap()
            .ends_with("?error=provider_error")
    );
    // Each failure is audited with its reason.
    let (_, text) = s
        .admin(
            reqwest::Method::GET,
            "/v1/admin/audit?type=oauth.failed",
            None,
        )
        .await;
    let reasons: Vec<String> = text["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["data"]["reason"].as_str().unwrap().to_owned())
        .collect();
    for r in [
        "state_invalid",
        "token_exchange_failed",
        "state_provider_mismatch",
        "provider_denied",
    ] {
        assert!(reasons.iter().any(|x| x == r), "{r} in {reasons:?}");
    }
}

#[tokio::test]
async fn hosted_flows_are_bound_to_the_starting_browser() {
    let s = oauth_server(true).await;
    add_dead_provider(&s, "dead").await;
    let res = s.get("/sign-in/oauth/dead?app=default").await;
    assert_eq!(res.status(), 302);
    let state = query(res.headers()[LOCATION].to_str().unwrap())["state"].clone();
    let cookie = set_cookie(&res, "tessera_oauth").expect("binding cookie");
    assert!(
        cookie.contains(&state) && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    // Someone else's callback URL opened in this browser (no cookie): refused
    // before the code is used.
    let cb = format!("/v1/sign-in/oauth/dead/callback?state={state}&code=c");
    let res = s
        .client
        .get(s.url(&cb))
        .header(ACCEPT, "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert!(res.text().await.unwrap().contains("another browser"));
    // With the cookie, the flow proceeds (and fails at the dead provider).
    let res = s.get("/sign-in/oauth/dead?app=default").await;
    let state = query(res.headers()[LOCATION].to_str().unwrap())["state"].clone();
    let res = s
        .client
        .get(s.url(&format!(
            "/v1/sign-in/oauth/dead/callback?state={state}&code=c"
        )))
        .header(COOKIE, format!("tessera_oauth={state}"))
        .header(ACCEPT, "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 502);
}

#[tokio::test]
async fn exchange_refuses_unknown_codes() {
    let s = oauth_server(false).await;
    for code in [
        "",
        "garbage",
        &format!("tso_{}", "A".repeat(43)),
        &format!("tss_{}", "A".repeat(43)),
    ] {
        let (status, body) = s
            .post(
                "/v1/sign-in/oauth/exchange",
                json!({ "code": code, "code_verifier": "x" }),
            )
            .await;
        assert_eq!(status, 401, "{code}: {body}");
        assert_error(&body, "invalid_token");
    }
    let (status, _) = s.post("/v1/sign-in/oauth/exchange", json!({})).await;
    assert_eq!(status, 422);
}

fn identity(pool: uuid::Uuid, user: uuid::Uuid, provider: &str, subject: &str) -> Identity {
    let now = chrono::Utc::now();
    Identity {
        id: uuid::Uuid::now_v7(),
        pool_id: pool,
        user_id: user,
        provider: provider.into(),
        subject: subject.into(),
        email: Some("x@example.com".into()),
        email_verified: true,
        profile: json!({ "sub": subject }),
        created_at: now,
        last_used_at: None,
    }
}

#[tokio::test]
async fn identities_are_listed_and_the_last_way_to_sign_in_stays() {
    let s = oauth_server(false).await;
    let signed = s.sign_up("ada@example.com").await;
    let token = signed["access_token"].as_str().unwrap().to_owned();
    let user_id: uuid::Uuid = signed["user"]["id"].as_str().unwrap().parse().unwrap();
    let store = s.tessera.store();
    let user = store.users().get_user(user_id).await.unwrap();
    let (status, body) = s
        .send(reqwest::Method::GET, "/v1/identities", Some(&token), None)
        .await;
    assert_eq!((status, body.clone()), (200, json!({ "identities": [] })));
    let gh = identity(user.pool_id, user.id, "github", "583231");
    store.identities().insert_identity(&gh, &[]).await.unwrap();
    let (status, body) = s
        .send(reqwest::Method::GET, "/v1/identities", Some(&token), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["identities"][0]["provider"], "github");
    assert_eq!(body["identities"][0]["subject"], "583231");
    assert!(body["identities"][0].get("profile").is_none());
    // Without the password (and with an unverified email, so no email
    // sign-in either), the identity is the last way in: refused.
    let pw = store
        .credentials()
        .list_credentials(user.id, Some(CredentialKind::Password))
        .await
        .unwrap();
    store
        .credentials()
        .delete_credential(user.id, pw[0].id, &[])
        .await
        .unwrap();
    let path = format!("/v1/identities/{}", gh.id);
    let (status, body) = s
        .send(reqwest::Method::DELETE, &path, Some(&token), None)
        .await;
    assert_eq!(status, 409, "{body}");
    assert_error(&body, "last_sign_in_method");
    // With a second identity, one may go; then the other is the last again.
    let google = identity(user.pool_id, user.id, "google", "1077");
    store
        .identities()
        .insert_identity(&google, &[])
        .await
        .unwrap();
    let (status, _) = s
        .send(reqwest::Method::DELETE, &path, Some(&token), None)
        .await;
    assert_eq!(status, 204);
    let (status, _) = s
        .send(reqwest::Method::DELETE, &path, Some(&token), None)
        .await;
    assert_eq!(status, 404);
    let last = format!("/v1/identities/{}", google.id);
    let (status, _) = s
        .send(reqwest::Method::DELETE, &last, Some(&token), None)
        .await;
    assert_eq!(status, 409);
    // A verified email counts when the app signs in by code or link.
    store
        .users()
        .update_user(
            user.id,
            &tessera_core::model::UserPatch {
                email_verified: Some(true),
                ..Default::default()
            },
            chrono::Utc::now(),
            &|_| Vec::new(),
        )
        .await
        .unwrap();
    // Another user's identity is not found for this caller.
    let other = s.sign_up("bob@example.com").await;
    let bob: uuid::Uuid = other["user"]["id"].as_str().unwrap().parse().unwrap();
    let theirs = identity(user.pool_id, bob, "github", "999");
    store
        .identities()
        .insert_identity(&theirs, &[])
        .await
        .unwrap();
    let (status, _) = s
        .send(
            reqwest::Method::DELETE,
            &format!("/v1/identities/{}", theirs.id),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = s
        .send(reqwest::Method::DELETE, &last, Some(&token), None)
        .await;
    assert_eq!(status, 204);
    let (status, body) = s
        .send(reqwest::Method::GET, "/v1/identities", Some(&token), None)
        .await;
    assert_eq!((status, body), (200, json!({ "identities": [] })));
    let (_, text) = s
        .admin(
            reqwest::Method::GET,
            "/v1/admin/audit?type=identity.unlinked",
            None,
        )
        .await;
    assert_eq!(text["events"].as_array().unwrap().len(), 2);
    // Unauthenticated: 401.
    let res = s.get("/v1/identities").await;
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn sign_in_page_links_to_enabled_providers() {
    let s = oauth_server(true).await;
    register_redirect(&s).await;
    for (name, enabled) in [("dead", true), ("off", false)] {
        let mut body = dead_oauth2();
        body["enabled"] = json!(enabled);
        body["display_name"] = json!(format!("Provider {name}"));
        let (status, text) = s
            .admin(
                reqwest::Method::PUT,
                &format!("/v1/admin/apps/default/oauth-providers/{name}"),
                Some(body),
            )
            .await;
        assert_eq!(status, 200, "{text}");
    }
    let page = s
        .text(&format!("/sign-in?redirect_uri={}", urlencode(APP_CB)))
        .await;
    let href = format!(
        "href=\"sign-in/oauth/dead?app=default&#38;redirect_uri={}\"",
        urlencode(APP_CB)
    );
    assert!(page.contains(&href), "{page}");
    assert!(page.contains("Continue with Provider dead"));
    assert!(!page.contains("Provider off"));
    // The disabled provider cannot be started either.
    let res = s.get("/sign-in/oauth/off?app=default").await;
    assert_eq!(res.status(), 404);
}

#[tokio::test]
async fn link_flows_need_the_signed_in_caller_and_the_starting_browser() {
    let s = oauth_server(true).await;
    register_redirect(&s).await;
    add_dead_provider(&s, "dead").await;
    let tokens = s.sign_up("ada@example.com").await;
    let at = tokens["access_token"].as_str().unwrap();
    let start = format!(
        "/v1/sign-in/oauth/dead?link=true&redirect_uri={}",
        urlencode(APP_CB)
    );
    let res = s
        .client
        .get(s.url(&start))
        .bearer_auth(at)
        .header(ACCEPT, "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let cookie = set_cookie(&res, "tessera_oauth").expect("link flows are bound to the browser");
    let body: Value = res.json().await.unwrap();
    let state = query(body["authorization_url"].as_str().unwrap())["state"].clone();
    assert!(cookie.contains(&state));
    // The callback opened elsewhere (another browser: no cookie) is refused
    // even in the API flow: it would link someone else's provider account.
    let res = s
        .get(&format!(
            "/v1/sign-in/oauth/dead/callback?state={state}&code=c"
        ))
        .await;
    assert_eq!(res.status(), 302);
    assert_eq!(
        res.headers()[LOCATION].to_str().unwrap(),
        format!("{APP_CB}?error=invalid_token")
    );
    let (_, text) = s
        .admin(
            reqwest::Method::GET,
            "/v1/admin/audit?type=oauth.failed",
            None,
        )
        .await;
    assert_eq!(text["events"][0]["data"]["reason"], "browser_mismatch");
}
