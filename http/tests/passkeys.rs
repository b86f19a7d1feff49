//! Passkey routes over real TCP: shapes (W3C JSON forms), auth requirements,
//! a full register + sign-in + MFA flow with a software authenticator, the
//! hosted page's button, finish endpoint and script.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE, COOKIE, ORIGIN};
use serde_json::{Value, json};
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_authenticator_rs::prelude::{
    CreationChallengeResponse, RequestChallengeResponse, Url,
};
use webauthn_authenticator_rs::softpasskey::SoftPasskey;

use crate::harness::*;

/// The browser origin the authenticator signs for (the server itself listens
/// on 127.0.0.1).
const ORIGIN_URL: &str = "http://localhost";

/// A server whose default app runs passkeys for `localhost` (the harness's
/// issuer is an IP address, which WebAuthn does not accept as an RP id): the
/// per-app override of the relying party, set through the admin API.
async fn passkey_server() -> Server {
    let s = server("memory").await;
    let res = s
        .client
        .patch(s.url("/v1/admin/apps/default"))
        .bearer_auth(ADMIN_KEY)
        .json(&json!({ "webauthn_rp_id": "localhost", "webauthn_origins": [ORIGIN_URL] }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    s
}

/// A discoverable authenticator (see core/tests/passkeys.rs for why the
/// wrapper around `SoftPasskey`).
struct Device {
    soft: SoftPasskey,
    creds: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Device {
    fn new() -> Self {
        Device {
            soft: SoftPasskey::new(true),
            creds: Vec::new(),
        }
    }

    fn create(&mut self, start: &Value) -> Value {
        let mut pk = start["publicKey"].clone();
        pk["authenticatorSelection"]["requireResidentKey"] = json!(false);
        pk["authenticatorSelection"]["residentKey"] = json!("discouraged");
        let ccr: CreationChallengeResponse =
            serde_json::from_value(json!({ "publicKey": pk })).unwrap();
        let reg = self
            .soft
            .do_registration(Url::parse(ORIGIN_URL).unwrap(), ccr)
            .unwrap();
        let handle = URL_SAFE_NO_PAD
            .decode(start["publicKey"]["user"]["id"].as_str().unwrap())
            .unwrap();
        self.creds.push((reg.raw_id.clone(), handle));
        serde_json::to_value(&reg).unwrap()
    }

    fn get(&mut self, start: &Value) -> Value {
        let mut pk = start["publicKey"].clone();
        let (id, handle) = self.creds[0].clone();
        pk["allowCredentials"] =
            json!([{ "type": "public-key", "id": URL_SAFE_NO_PAD.encode(&id) }]);
        let rcr: RequestChallengeResponse =
            serde_json::from_value(json!({ "publicKey": pk })).unwrap();
        let mut a = self
            .soft
            .do_authentication(Url::parse(ORIGIN_URL).unwrap(), rcr)
            .unwrap();
        a.response.user_handle = Some(handle);
        serde_json::to_value(&a).unwrap()
    }
}

/// `POST /v1/passkeys/register/start` as the holder of `at`: the options
/// (asserted 200).
async fn register_start(s: &Server, at: &str) -> Value {
    let (status, start) = s
        .send(
            reqwest::Method::POST,
            "/v1/passkeys/register/start",
            Some(at),
            None,
        )
        .await;
    assert_eq!(status, 200, "{start}");
    start
}

/// `POST /v1/passkeys/register/finish` with `body` as the holder of `at`.
async fn register_finish(s: &Server, at: &str, body: Value) -> (u16, Value) {
    s.send(
        reqwest::Method::POST,
        "/v1/passkeys/register/finish",
        Some(at),
        Some(body),
    )
    .await
}

/// Sign up and register a passkey through the API; answers (tokens, passkey).
async fn with_passkey(s: &Server, email: &str, device: &mut Device) -> (Value, Value) {
    let tokens = s.sign_up(email).await;
    let at = tokens["access_token"].as_str().unwrap();
    let start = register_start(s, at).await;
    let credential = device.create(&start);
    let (status, pk) = register_finish(
        s,
        at,
        json!({ "ceremony": start["ceremony"], "credential": credential, "name": "Key" }),
    )
    .await;
    assert_eq!(status, 201, "{pk}");
    (tokens, pk)
}

#[tokio::test]
async fn management_routes_need_a_signed_in_caller() {
    let s = passkey_server().await;
    let id = uuid::Uuid::nil();
    for (method, path) in [
        (
            reqwest::Method::POST,
            "/v1/passkeys/register/start".to_owned(),
        ),
        (
            reqwest::Method::POST,
            "/v1/passkeys/register/finish".to_owned(),
        ),
        (reqwest::Method::GET, "/v1/passkeys".to_owned()),
        (reqwest::Method::PATCH, format!("/v1/passkeys/{id}")),
        (reqwest::Method::DELETE, format!("/v1/passkeys/{id}")),
    ] {
        let res = s
            .client
            .request(method.clone(), s.url(&path))
            .json(&json!({ "ceremony": "x", "credential": {}, "name": "n" }))
            .send()
            .await
            .unwrap();
        let (status, body) = read(res).await;
        assert_eq!(status, 401, "{method} {path}: {body}");
        assert_error(&body, "unauthenticated");
    }
}

#[tokio::test]
async fn register_sign_in_rename_delete_over_json() {
    let s = passkey_server().await;
    let mut device = Device::new();
    let tokens = s.sign_up("pk@example.com").await;
    let at = tokens["access_token"].as_str().unwrap();
    let start = register_start(&s, at).await;
    assert!(start["ceremony"].as_str().unwrap().starts_with("tsw_"));
    let pk = &start["publicKey"];
    assert_eq!(pk["rp"]["id"], "localhost");
    assert_eq!(
        pk["user"]["id"],
        URL_SAFE_NO_PAD.encode(
            uuid::Uuid::parse_str(tokens["user"]["id"].as_str().unwrap())
                .unwrap()
                .as_bytes()
        )
    );
    assert!(pk["challenge"].is_string());
    assert_eq!(pk["authenticatorSelection"]["residentKey"], "required");
    assert_eq!(pk["authenticatorSelection"]["userVerification"], "required");

    let credential = device.create(&start);
    let finish = json!({ "ceremony": start["ceremony"], "credential": credential });
    let (status, created) = register_finish(&s, at, finish.clone()).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["name"], "Passkey");
    assert_eq!(
        created["credential_id"],
        URL_SAFE_NO_PAD.encode(&device.creds[0].0)
    );
    for field in [
        "id",
        "backup_eligible",
        "backup_state",
        "sign_count",
        "transports",
        "created_at",
    ] {
        assert!(created.get(field).is_some(), "{field} in {created}");
    }
    // The registration ceremony is spent.
    let (status, body) = register_finish(&s, at, finish).await;
    assert_eq!(status, 401);
    assert_error(&body, "invalid_token");

    // Discoverable sign-in: `{}`.
    let (status, start) = s.post("/v1/sign-in/passkey/start", json!({})).await;
    assert_eq!(status, 200, "{start}");
    assert_eq!(start["publicKey"]["allowCredentials"], json!([]));
    assert_eq!(start["publicKey"]["rpId"], "localhost");
    let assertion = device.get(&start);
    let body = json!({ "ceremony": start["ceremony"], "credential": assertion });
    let (status, signed_in) = s.post("/v1/sign-in/passkey/finish", body.clone()).await;
    assert_eq!(status, 200, "{signed_in}");
    assert_eq!(signed_in["user"]["email"], "pk@example.com");
    assert_eq!(signed_in["token_type"], "Bearer");
    let claims = s
        .tessera
        .tokens()
        .verify(signed_in["access_token"].as_str().unwrap(), None)
        .await
        .unwrap();
    assert_eq!(claims.amr, ["hwk", "mfa"]);
    let (status, _) = s
        .get_auth("/v1/session", signed_in["access_token"].as_str().unwrap())
        .await;
    assert_eq!(status, 200);
    let (status, again) = s.post("/v1/sign-in/passkey/finish", body).await;
    assert_eq!(status, 401);
    assert_error(&again, "invalid_token");

    // With an email.
    let (status, start) = s
        .post(
            "/v1/sign-in/passkey/start",
            json!({ "email": "pk@example.com" }),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        start["publicKey"]["allowCredentials"][0]["id"],
        created["credential_id"]
    );
    let assertion = device.get(&start);
    let (status, _) = s
        .post(
            "/v1/sign-in/passkey/finish",
            json!({ "ceremony": start["ceremony"], "credential": assertion }),
        )
        .await;
    assert_eq!(status, 200);
    // An unknown address gets a challenge of the same shape.
    let (status, unknown) = s
        .post(
            "/v1/sign-in/passkey/start",
            json!({ "email": "ghost@example.com" }),
        )
        .await;
    assert_eq!(status, 200);
    assert!(
        !unknown["publicKey"]["allowCredentials"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // List, rename, delete.
    let (status, list) = s.get_auth("/v1/passkeys", at).await;
    assert_eq!(status, 200);
    assert_eq!(list["passkeys"].as_array().unwrap().len(), 1);
    assert!(list["passkeys"][0]["sign_count"].as_u64().unwrap() >= 2);
    let path = format!("/v1/passkeys/{}", created["id"].as_str().unwrap());
    let (status, renamed) = s
        .send(
            reqwest::Method::PATCH,
            &path,
            Some(at),
            Some(json!({ "name": "Work laptop" })),
        )
        .await;
    assert_eq!(status, 200, "{renamed}");
    assert_eq!(renamed["name"], "Work laptop");
    let (status, body) = s
        .send(
            reqwest::Method::PATCH,
            &path,
            Some(at),
            Some(json!({ "name": "x".repeat(80) })),
        )
        .await;
    assert_eq!(status, 422);
    assert_error(&body, "invalid_input");
    let (status, _) = s.send(reqwest::Method::DELETE, &path, Some(at), None).await;
    assert_eq!(status, 204);
    let (status, body) = s.send(reqwest::Method::DELETE, &path, Some(at), None).await;
    assert_eq!(status, 404);
    assert_error(&body, "not_found");

    // Malformed bodies use the envelope.
    let (status, body) = s
        .post("/v1/sign-in/passkey/finish", json!({ "ceremony": 1 }))
        .await;
    assert_eq!(status, 422, "{body}");
    assert_error(&body, "invalid_input");
    let (status, body) = s
        .post(
            "/v1/sign-in/passkey/finish",
            json!({ "ceremony": "tsw_x", "credential": { "id": 1 } }),
        )
        .await;
    assert_eq!(status, 401, "{body}");
    assert_error(&body, "invalid_token");
}

#[tokio::test]
async fn the_last_way_to_sign_in_is_kept() {
    let s = passkey_server().await;
    let mut device = Device::new();
    let (tokens, pk) = with_passkey(&s, "last@example.com", &mut device).await;
    let user = uuid::Uuid::parse_str(tokens["user"]["id"].as_str().unwrap()).unwrap();
    let password = s
        .tessera
        .store()
        .credentials()
        .list_credentials(user, Some(tessera_core::model::CredentialKind::Password))
        .await
        .unwrap()
        .remove(0);
    s.tessera
        .store()
        .credentials()
        .delete_credential(user, password.id, &[])
        .await
        .unwrap();
    let (status, body) = s
        .send(
            reqwest::Method::DELETE,
            &format!("/v1/passkeys/{}", pk["id"].as_str().unwrap()),
            Some(tokens["access_token"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert_error(&body, "last_sign_in_method");
}

#[tokio::test]
async fn a_passkey_completes_the_mfa_step_of_a_password_sign_in() {
    let s = passkey_server().await;
    let mut device = Device::new();
    with_passkey(&s, "mfa@example.com", &mut device).await;
    let first = s.sign_in("mfa@example.com").await;
    assert_eq!(first["mfa_required"], true, "{first}");
    assert!(
        first["methods"]
            .as_array()
            .unwrap()
            .contains(&json!("passkey"))
    );
    let mfa_token = first["mfa_token"].clone();
    let (status, start) = s
        .post(
            "/v1/sign-in/mfa/passkey/start",
            json!({ "mfa_token": mfa_token }),
        )
        .await;
    assert_eq!(status, 200, "{start}");
    let assertion = device.get(&start);
    let (status, tokens) = s
        .post(
            "/v1/sign-in/mfa/passkey/finish",
            json!({ "mfa_token": mfa_token, "ceremony": start["ceremony"], "credential": assertion }),
        )
        .await;
    assert_eq!(status, 200, "{tokens}");
    let claims = s
        .tessera
        .tokens()
        .verify(tokens["access_token"].as_str().unwrap(), None)
        .await
        .unwrap();
    assert_eq!(claims.amr, ["pwd", "hwk", "mfa"]);
    let (status, body) = s
        .post(
            "/v1/sign-in/mfa/passkey/start",
            json!({ "mfa_token": "tsf_nope" }),
        )
        .await;
    assert_eq!(status, 401);
    assert_error(&body, "invalid_token");
}

#[tokio::test]
async fn apps_can_turn_passkeys_off() {
    let s = passkey_server().await;
    let res = s
        .admin(
            reqwest::Method::PATCH,
            "/v1/admin/apps/default",
            Some(json!({ "sign_in_methods": ["password"] })),
        )
        .await;
    assert_eq!(res.0, 200);
    let (status, body) = s.post("/v1/sign-in/passkey/start", json!({})).await;
    assert_eq!(status, 403);
    assert_error(&body, "method_disabled");
    // Relying-party settings are checked when they are set.
    for bad in [
        json!({ "webauthn_rp_id": "https://example.com" }),
        json!({ "webauthn_origins": ["https://example.com/login"] }),
    ] {
        let (status, body) = s
            .admin(
                reqwest::Method::PATCH,
                "/v1/admin/apps/default",
                Some(bad.clone()),
            )
            .await;
        assert_eq!(status, 422, "{bad}: {body}");
        assert_error(&body, "invalid_input");
    }
    let html = s.text("/sign-in").await;
    assert!(!html.contains("passkey-sign-in"));
}

#[tokio::test]
async fn hosted_pages_offer_passkeys_with_a_same_origin_script() {
    let s = passkey_server().await;
    let res = s.get("/sign-in").await;
    assert_eq!(res.status(), 200);
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    let csrf_cookie = set_cookie(&res, "tessera_csrf").unwrap()[13..56].to_owned();
    let html = res.text().await.unwrap();
    let csrf = hidden_csrf(&html);
    assert!(html.contains("id=\"passkey-sign-in\""), "{html}");
    assert!(!html.contains("<script>"), "no inline script");
    let src_at = html.find("<script src=\"").unwrap() + "<script src=\"".len();
    let src = &html[src_at..src_at + html[src_at..].find('"').unwrap()];
    assert!(src.starts_with("assets/passkeys.js?v="), "{src}");

    let res = s.get(&format!("/{src}")).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()[CONTENT_TYPE],
        "text/javascript; charset=utf-8"
    );
    assert!(
        res.headers()[CACHE_CONTROL]
            .to_str()
            .unwrap()
            .contains("max-age=31536000")
    );
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("navigator.credentials.get")
    );

    // The hosted finish checks the page's CSRF token before anything else.
    let (status, body) = read(
        s.client
            .post(s.url("/sign-in/passkey"))
            .header(COOKIE, format!("tessera_csrf={csrf_cookie}"))
            .json(&json!({ "csrf": "A".repeat(43), "ceremony": "tsw_x", "credential": {} }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 403);
    assert_error(&body, "forbidden");

    // The full hosted finish: cookies set, told where to go.
    let mut device = Device::new();
    with_passkey(&s, "page@example.com", &mut device).await;
    let (_, start) = s.post("/v1/sign-in/passkey/start", json!({})).await;
    let assertion = device.get(&start);
    let res = s
        .client
        .post(s.url("/sign-in/passkey"))
        .header(COOKIE, format!("tessera_csrf={csrf_cookie}"))
        .json(&json!({ "csrf": csrf, "ceremony": start["ceremony"], "credential": assertion }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let session = set_cookie(&res, "tessera_session").expect("session cookie set");
    let session = session.split(';').next().unwrap().to_owned();
    let (_, next) = read(res).await;
    assert_eq!(next["redirect"], "account");

    // The management page, and cookie-authenticated JSON calls: allowed from
    // this origin, refused from another.
    let page = s
        .get_with_cookies("/passkeys", &session)
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("id=\"passkey-register\"") && page.contains("page@example.com"));
    assert!(page.contains("class=\"passkey-row\""));
    let account = s
        .get_with_cookies("/account", &session)
        .await
        .text()
        .await
        .unwrap();
    assert!(account.contains("href=\"passkeys\""), "{account}");
    for (origin, expected) in [("http://127.0.0.1", 200), ("https://evil.example", 403)] {
        let res = s
            .client
            .post(s.url("/v1/passkeys/register/start"))
            .header(COOKIE, &session)
            .header(ORIGIN, origin)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), expected, "{origin}");
    }
    // Not signed in: the page sends you to sign in.
    let res = s.get("/passkeys?app=default").await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "sign-in?app=default");
}
