use serde_json::json;

use crate::harness::*;

/// sign-up → sign-in → GET /v1/session → refresh (rotation) → old refresh token
/// reused (after the grace window) revokes the session → sign-out.
async fn full_flow(backend: &str) {
    let s = server(backend).await;
    let signed_up = s.sign_up("flow@example.com").await;
    assert_eq!(signed_up["token_type"], "Bearer");
    assert_eq!(signed_up["user"]["email"], "flow@example.com");

    let signed_in = s.sign_in("FLOW@example.com").await;
    let access = signed_in["access_token"].as_str().unwrap().to_owned();
    let refresh = signed_in["refresh_token"].as_str().unwrap().to_owned();
    assert!(refresh.starts_with("tsr_"));

    let (status, current) = s.get_auth("/v1/session", &access).await;
    assert_eq!(status, 200, "{current}");
    assert_eq!(current["user"]["email"], "flow@example.com");
    let sid = current["session"]["id"].as_str().unwrap().to_owned();
    assert_eq!(current["session"]["current"], true);

    // Rotation: a new refresh token, same session.
    let (status, rotated) = s
        .post("/v1/token/refresh", json!({"refresh_token": refresh}))
        .await;
    assert_eq!(status, 200, "{rotated}");
    let refresh2 = rotated["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(refresh2, refresh);
    let (status, again) = s
        .get_auth("/v1/session", rotated["access_token"].as_str().unwrap())
        .await;
    assert_eq!(status, 200);
    assert_eq!(again["session"]["id"], sid.as_str());

    // Within the grace window the spent token gets the same successor (two tabs).
    let (status, repeated) = s
        .post("/v1/token/refresh", json!({"refresh_token": refresh}))
        .await;
    assert_eq!(status, 200, "{repeated}");
    assert_eq!(repeated["refresh_token"], refresh2.as_str());

    // Rotate once more, so the first token's successor is spent: now presenting
    // the first token is reuse, and the session is revoked.
    let (status, _) = s
        .post("/v1/token/refresh", json!({"refresh_token": refresh2}))
        .await;
    assert_eq!(status, 200);
    let (status, reused) = s
        .post("/v1/token/refresh", json!({"refresh_token": refresh}))
        .await;
    assert_eq!(status, 401);
    assert_error(&reused, "refresh_token_reused");
    let (status, revoked) = s.get_auth("/v1/session", &access).await;
    assert_eq!(status, 401);
    assert_error(&revoked, "session_expired");
    let events = s.tessera.audit().list(&Default::default()).await.unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.kind == "session.refresh_token_reused")
    );

    // A fresh sign-in, then sign-out revokes it.
    let (_, fresh) = s
        .post(
            "/v1/sign-in/password",
            json!({"email": "flow@example.com", "password": PASSWORD}),
        )
        .await;
    let access = fresh["access_token"].as_str().unwrap();
    let res = s
        .send(reqwest::Method::POST, "/v1/sign-out", Some(access), None)
        .await;
    assert_eq!(res.0, 204);
    let (status, _) = s.get_auth("/v1/session", access).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn full_flow_memory() {
    full_flow("memory").await;
}

#[tokio::test]
async fn full_flow_sqlite() {
    full_flow("sqlite").await;
}

#[tokio::test]
async fn full_flow_postgres() {
    if skip_postgres() {
        eprintln!("SKIPPED: TESSERA_SKIP_POSTGRES is set");
        return;
    }
    full_flow("postgres").await;
}

#[tokio::test]
async fn wrong_password_and_unknown_email_answer_alike() {
    let s = server("memory").await;
    s.sign_up("known@example.com").await;
    let (s1, b1) = s
        .post(
            "/v1/sign-in/password",
            json!({"email": "known@example.com", "password": "wrong password here"}),
        )
        .await;
    let (s2, b2) = s
        .post(
            "/v1/sign-in/password",
            json!({"email": "nobody@example.com", "password": "wrong password here"}),
        )
        .await;
    assert_eq!((s1, s2), (401, 401));
    assert_eq!(b1, b2);
    assert_error(&b1, "invalid_credentials");
}

#[tokio::test]
async fn sessions_me_and_password_change() {
    let s = server("memory").await;
    let a = s.sign_up("me@example.com").await;
    let (_, b) = s
        .post(
            "/v1/sign-in/password",
            json!({"email": "me@example.com", "password": PASSWORD}),
        )
        .await;
    let token_a = a["access_token"].as_str().unwrap();
    let token_b = b["access_token"].as_str().unwrap();

    let (status, list) = s.get_auth("/v1/sessions", token_a).await;
    assert_eq!(status, 200);
    assert_eq!(list["sessions"].as_array().unwrap().len(), 2);

    let res = s
        .send(
            reqwest::Method::PATCH,
            "/v1/me",
            Some(token_a),
            Some(json!({"name": "Grace Hopper"})),
        )
        .await;
    let (status, me) = res;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["name"], "Grace Hopper");
    let (_, me) = s.get_auth("/v1/me", token_b).await;
    assert_eq!(me["name"], "Grace Hopper");

    // Wrong current password.
    let res = s.send(reqwest::Method::POST, "/v1/password/change", Some(token_a), Some(json!({"current_password": "not it at all", "new_password": "a brand new passphrase 7"}))).await;
    assert_eq!(res.0, 401);
    // Right one: other sessions are signed out, this one stays.
    let res = s
        .send(
            reqwest::Method::POST,
            "/v1/password/change",
            Some(token_a),
            Some(json!({"current_password": PASSWORD, "new_password": "a brand new passphrase 7"})),
        )
        .await;
    assert_eq!(res.0, 204);
    assert_eq!(s.get_auth("/v1/session", token_a).await.0, 200);
    assert_eq!(s.get_auth("/v1/session", token_b).await.0, 401);
    let (status, _) = s
        .post(
            "/v1/sign-in/password",
            json!({"email": "me@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, 401);

    // Revoke one session by id, then sign out everywhere.
    let (_, c) = s
        .post(
            "/v1/sign-in/password",
            json!({"email": "me@example.com", "password": "a brand new passphrase 7"}),
        )
        .await;
    let token_c = c["access_token"].as_str().unwrap();
    let (_, cur) = s.get_auth("/v1/session", token_c).await;
    let sid_c = cur["session"]["id"].as_str().unwrap();
    let res = s
        .send(
            reqwest::Method::DELETE,
            &format!("/v1/sessions/{sid_c}"),
            Some(token_a),
            None,
        )
        .await;
    assert_eq!(res.0, 204);
    assert_eq!(s.get_auth("/v1/session", token_c).await.0, 401);
    let (status, body) = s
        .send(reqwest::Method::DELETE, "/v1/sessions", Some(token_a), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["revoked"], 1);
    assert_eq!(s.get_auth("/v1/session", token_a).await.0, 401);
}

#[tokio::test]
async fn admin_api_manages_apps_users_audit_and_keys() {
    let s = server("memory").await;
    let user = s.sign_up("admin-target@example.com").await;
    let uid = user["user"]["id"].as_str().unwrap();

    // Apps: create, patch settings at the top level, get by slug, list, delete.
    let (status, app) = s
        .admin(
            reqwest::Method::POST,
            "/v1/admin/apps",
            Some(json!({"slug": "shop", "name": "Shop"})),
        )
        .await;
    assert_eq!(status, 201, "{app}");
    let (status, patched) = s.admin(reqwest::Method::PATCH, "/v1/admin/apps/shop", Some(json!({"redirect_uris": ["https://shop.example/callback"], "cors_origins": ["https://shop.example"]})))
    .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(
        patched["settings"]["redirect_uris"][0],
        "https://shop.example/callback"
    );
    let (status, bad) = s
        .admin(
            reqwest::Method::PATCH,
            "/v1/admin/apps/shop",
            Some(json!({"no_such_setting": 1})),
        )
        .await;
    assert_eq!(status, 422);
    assert_error(&bad, "invalid_input");
    let (_, apps) = s.admin(reqwest::Method::GET, "/v1/admin/apps", None).await;
    assert_eq!(apps["apps"].as_array().unwrap().len(), 2);
    let res = s
        .admin(reqwest::Method::DELETE, "/v1/admin/apps/default", None)
        .await;
    assert_eq!(res.0, 403);

    // Users: search, page, get, patch (disable revokes sessions), delete.
    for i in 0..5 {
        s.sign_up(&format!("page{i}@example.com")).await;
    }
    let (_, page1) = s
        .admin(reqwest::Method::GET, "/v1/admin/users?limit=4", None)
        .await;
    assert_eq!(page1["users"].as_array().unwrap().len(), 4);
    let cursor = page1["next_cursor"].as_str().unwrap();
    let (_, page2) = s
        .admin(
            reqwest::Method::GET,
            &format!("/v1/admin/users?limit=4&cursor={cursor}"),
            None,
        )
        .await;
    assert_eq!(page2["users"].as_array().unwrap().len(), 2);
    assert!(page2["next_cursor"].is_null());
    let (_, found) = s
        .admin(
            reqwest::Method::GET,
            "/v1/admin/users?email=admin-target",
            None,
        )
        .await;
    assert_eq!(found["users"][0]["id"], uid);
    let (status, _) = s
        .admin(
            reqwest::Method::GET,
            &format!("/v1/admin/users/{uid}"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let (_, sessions) = s
        .admin(
            reqwest::Method::GET,
            &format!("/v1/admin/users/{uid}/sessions"),
            None,
        )
        .await;
    assert_eq!(sessions["sessions"].as_array().unwrap().len(), 1);
    let (status, disabled) = s
        .admin(
            reqwest::Method::PATCH,
            &format!("/v1/admin/users/{uid}"),
            Some(json!({"disabled": true, "metadata": {"plan": "pro"}})),
        )
        .await;
    assert_eq!(status, 200, "{disabled}");
    assert_eq!(disabled["disabled"], true);
    assert_eq!(
        s.get_auth("/v1/session", user["access_token"].as_str().unwrap())
            .await
            .0,
        401
    );
    let (status, body) = s
        .post(
            "/v1/sign-in/password",
            json!({"email": "admin-target@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, 403);
    assert_error(&body, "user_disabled");
    for (path, expected) in [
        (format!("/v1/admin/users/{uid}/sessions"), 200),
        (format!("/v1/admin/users/{uid}"), 204),
    ] {
        let (status, body) = s.admin(reqwest::Method::DELETE, &path, None).await;
        assert_eq!(status, expected, "DELETE {path}: {body}");
    }
    let (status, body) = s
        .admin(
            reqwest::Method::GET,
            &format!("/v1/admin/users/{uid}"),
            None,
        )
        .await;
    assert_eq!(status, 404);
    assert_error(&body, "not_found");

    // Audit: filter by type and user.
    let (_, audit) = s
        .admin(
            reqwest::Method::GET,
            &format!("/v1/admin/audit?type=user.deleted&user={uid}"),
            None,
        )
        .await;
    assert_eq!(audit["events"].as_array().unwrap().len(), 1, "{audit}");
    assert_eq!(audit["events"][0]["type"], "user.deleted");

    // API keys: create (secret shown once), a read-only key cannot write, revoke.
    let (status, created) = s
        .admin(
            reqwest::Method::POST,
            "/v1/admin/api-keys",
            Some(json!({"name": "reader", "scopes": ["users:read"]})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let secret = created["secret"].as_str().unwrap();
    let kid = created["api_key"]["id"].as_str().unwrap();
    for (path, expected) in [("/v1/admin/users", 200), ("/v1/admin/apps", 403)] {
        let (status, body) = s.send(reqwest::Method::GET, path, Some(secret), None).await;
        assert_eq!(status, expected, "GET {path} with a read-only key: {body}");
    }
    let (_, keys) = s
        .admin(reqwest::Method::GET, "/v1/admin/api-keys", None)
        .await;
    assert!(keys.to_string().contains("reader"));
    assert!(
        !keys.to_string().contains(secret),
        "secrets are never listed"
    );
    let res = s
        .admin(
            reqwest::Method::DELETE,
            &format!("/v1/admin/api-keys/{kid}"),
            None,
        )
        .await;
    assert_eq!(res.0, 204);
    let res = s
        .send(reqwest::Method::GET, "/v1/admin/users", Some(secret), None)
        .await;
    assert_eq!(res.0, 401, "a revoked key stops working");
    let res = s.get("/v1/admin/users").await;
    assert_eq!(res.status(), 401, "no key");
}
