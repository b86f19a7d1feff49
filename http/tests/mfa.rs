//! TOTP, recovery codes and the MFA step over HTTP: the JSON routes, forced
//! enrolment with the `mfa_token`, and the hosted pages (CSRF enforced).
//! Codes come from an independent TOTP computation at the real time, picking
//! a step no earlier request used (so a step boundary cannot make them flaky).

use std::collections::HashSet;

use serde_json::{Value, json};
use tessera_core::model::MfaPolicy;

use crate::harness::*;

/// A code for a step within ±1 of now that `used` does not hold yet,
/// preferring the latest (valid longest).
fn fresh_code(secret: &str, used: &mut HashSet<u64>) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let step = now / 30;
    let pick = [step + 1, step, step - 1]
        .into_iter()
        .find(|s| !used.contains(s))
        .expect("at most three codes per user and minute");
    used.insert(pick);
    let secret = totp_rs::Secret::try_from_base32(secret).unwrap();
    totp_rs::Builder::new()
        .with_secret(secret)
        .build()
        .unwrap()
        .generate(pick * 30)
        .to_string()
}

impl Server {
    async fn amr(&self, access_token: &str) -> Value {
        let (status, body) = self.get_auth("/v1/session", access_token).await;
        assert_eq!(status, 200, "{body}");
        body["session"]["amr"].clone()
    }
}

/// Sign up and turn TOTP on through the JSON API; answers (access token,
/// secret, recovery codes).
async fn with_totp(
    s: &Server,
    email: &str,
    used: &mut HashSet<u64>,
) -> (String, String, Vec<String>) {
    let at = s.sign_up(email).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    // No body at all is fine.
    let (status, en) = s
        .send(reqwest::Method::POST, "/v1/totp/enroll", Some(&at), None)
        .await;
    assert_eq!(status, 200, "{en}");
    let secret = en["secret"].as_str().unwrap().to_owned();
    assert!(
        en["otpauth_uri"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/"),
        "{en}"
    );
    assert!(en["qr_svg"].as_str().unwrap().starts_with("<svg"));
    let (status, body) = s
        .send(
            reqwest::Method::POST,
            "/v1/totp/confirm",
            Some(&at),
            Some(json!({"code": fresh_code(&secret, used)})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let codes: Vec<String> = serde_json::from_value(body["recovery_codes"].clone()).unwrap();
    assert_eq!(codes.len(), 10);
    (at, secret, codes)
}

#[tokio::test]
async fn json_enrol_confirm_and_sign_in_with_totp_or_a_recovery_code() {
    let s = server("memory").await;
    let mut used = HashSet::new();
    // Not signed in: refused.
    let (status, body) = s
        .send(reqwest::Method::POST, "/v1/totp/enroll", None, None)
        .await;
    assert_eq!(status, 401);
    assert_error(&body, "unauthenticated");

    let (at, secret, codes) = with_totp(&s, "json-mfa@example.com", &mut used).await;
    let (status, st) = s.get_auth("/v1/mfa", &at).await;
    assert_eq!(status, 200);
    assert_eq!(st["totp_enabled"], true);
    assert_eq!(st["recovery_codes_left"], 10);
    // Enrolling again while enabled: conflict.
    let (status, body) = s
        .send(
            reqwest::Method::POST,
            "/v1/totp/enroll",
            Some(&at),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 409);
    assert_error(&body, "conflict");

    // Sign-in now stops for the second factor.
    let ch = s.sign_in("json-mfa@example.com").await;
    assert_eq!(ch["mfa_required"], true, "{ch}");
    assert_eq!(ch["methods"], json!(["totp", "recovery_code"]));
    assert!(ch.get("access_token").is_none());
    let token = ch["mfa_token"].as_str().unwrap();
    assert!(token.starts_with("tsf_"));

    let (status, body) = s
        .post(
            "/v1/sign-in/mfa",
            json!({"mfa_token": token, "code": "12345"}),
        )
        .await;
    assert_eq!(status, 401);
    assert_error(&body, "invalid_credentials");
    let (status, body) = s
        .post(
            "/v1/sign-in/mfa",
            json!({"mfa_token": token, "code": "123456", "recovery_code": codes[0]}),
        )
        .await;
    assert_eq!(status, 422);
    assert_error(&body, "invalid_input");
    let code = fresh_code(&secret, &mut used);
    let (status, tokens) = s
        .post("/v1/sign-in/mfa", json!({"mfa_token": token, "code": code}))
        .await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["token_type"], "Bearer");
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(s.amr(access).await, json!(["pwd", "otp", "mfa"]));
    // The token is spent.
    let (status, body) = s
        .post("/v1/sign-in/mfa", json!({"mfa_token": token, "code": code}))
        .await;
    assert_eq!(status, 401);
    assert_error(&body, "invalid_token");
    // The same code on a new challenge: replay refused.
    let ch = s.sign_in("json-mfa@example.com").await;
    let token = ch["mfa_token"].as_str().unwrap();
    let (status, body) = s
        .post("/v1/sign-in/mfa", json!({"mfa_token": token, "code": code}))
        .await;
    assert_eq!(status, 401);
    assert_error(&body, "invalid_credentials");

    // A recovery code works once.
    let (status, tokens) = s
        .post(
            "/v1/sign-in/mfa",
            json!({"mfa_token": token, "recovery_code": codes[4]}),
        )
        .await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(
        s.amr(tokens["access_token"].as_str().unwrap()).await,
        json!(["pwd", "mfa"])
    );
    let ch = s.sign_in("json-mfa@example.com").await;
    let (status, body) = s
        .post(
            "/v1/sign-in/mfa",
            json!({"mfa_token": ch["mfa_token"], "recovery_code": codes[4]}),
        )
        .await;
    assert_eq!(status, 401);
    assert_error(&body, "invalid_credentials");
    // A token of another app is refused.
    let other = s
        .tessera
        .apps()
        .create(tessera_core::NewApp {
            slug: "other".into(),
            name: "Other".into(),
            pool_id: None,
            settings: None,
        })
        .await
        .unwrap();
    let res = s
        .client
        .post(s.url("/v1/sign-in/mfa"))
        .header("x-tessera-app", other.slug.as_str())
        .json(&json!({"mfa_token": ch["mfa_token"], "recovery_code": codes[5]}))
        .send()
        .await
        .unwrap();
    let (status, body) = read(res).await;
    assert_eq!(status, 401);
    assert_error(&body, "invalid_token");
}

#[tokio::test]
async fn disabling_and_regenerating_need_the_password() {
    use reqwest::Method;
    let s = server("memory").await;
    let mut used = HashSet::new();
    let (at, _secret, codes) = with_totp(&s, "json-off@example.com", &mut used).await;

    // Without the password, or with a wrong one: refused, nothing changes.
    for (method, path, body, code) in [
        (
            Method::POST,
            "/v1/recovery-codes",
            None,
            "reauthentication_required",
        ),
        (
            Method::DELETE,
            "/v1/totp",
            None,
            "reauthentication_required",
        ),
        (
            Method::DELETE,
            "/v1/totp",
            Some(json!({"password": "not the password"})),
            "invalid_credentials",
        ),
    ] {
        let (status, body) = s.send(method.clone(), path, Some(&at), body).await;
        assert_eq!(status, 401, "{method} {path}: {body}");
        assert_error(&body, code);
    }
    let (status, body) = s
        .send(
            reqwest::Method::POST,
            "/v1/recovery-codes",
            Some(&at),
            Some(json!({"password": PASSWORD})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let fresh: Vec<String> = serde_json::from_value(body["recovery_codes"].clone()).unwrap();
    assert_eq!(fresh.len(), 10);
    assert!(fresh.iter().all(|c| !codes.contains(c)));

    let (status, body) = s
        .send(
            reqwest::Method::DELETE,
            "/v1/totp",
            Some(&at),
            Some(json!({"password": PASSWORD})),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let tokens = s.sign_in("json-off@example.com").await;
    assert!(tokens["access_token"].is_string(), "{tokens}");
    let (status, st) = s.get_auth("/v1/mfa", &at).await;
    assert_eq!(status, 200);
    assert_eq!(st["totp_enabled"], false);
    assert_eq!(st["recovery_codes_left"], 0);
}

#[tokio::test]
async fn an_app_requiring_mfa_enrols_with_the_mfa_token() {
    let s = server("memory").await;
    let mut used = HashSet::new();
    s.sign_up("json-forced@example.com").await;
    s.set_default_app(|a| a.mfa = MfaPolicy::Required).await;

    let ch = s.sign_in("json-forced@example.com").await;
    assert_eq!(ch["methods"], json!(["totp_enroll"]), "{ch}");
    let token = ch["mfa_token"].as_str().unwrap();
    let (status, body) = s
        .post(
            "/v1/sign-in/mfa",
            json!({"mfa_token": token, "code": "123456"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let (status, en) = s.post("/v1/totp/enroll", json!({"mfa_token": token})).await;
    assert_eq!(status, 200, "{en}");
    let secret = en["secret"].as_str().unwrap();
    let (status, done) = s
        .post(
            "/v1/totp/confirm",
            json!({"mfa_token": token, "code": fresh_code(secret, &mut used)}),
        )
        .await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["recovery_codes"].as_array().unwrap().len(), 10);
    let access = done["access_token"].as_str().unwrap();
    assert_eq!(s.amr(access).await, json!(["pwd", "otp", "mfa"]));
    let ch = s.sign_in("json-forced@example.com").await;
    assert_eq!(ch["methods"], json!(["totp", "recovery_code"]));
}

// ---- Hosted pages ----

#[tokio::test]
async fn hosted_sign_in_goes_through_the_mfa_page_with_csrf() {
    let s = server("memory").await;
    let mut used = HashSet::new();
    let (_, secret, codes) = with_totp(&s, "page-mfa@example.com", &mut used).await;
    let mut jar = Jar::default();
    let (csrf, status, location) = hosted_sign_in(&s, &mut jar, "page-mfa@example.com").await;
    assert_eq!(status, 303);
    assert_eq!(location.as_deref(), Some("mfa"));
    assert!(
        jar.get("tessera_session").is_none(),
        "no session before the second factor"
    );
    let token = jar.get("tessera_mfa").expect("mfa cookie").to_owned();
    assert!(token.starts_with("tsf_"));

    let (status, html) = get_page(&s, &mut jar, "/mfa").await;
    assert_eq!(status, 200);
    assert!(html.contains("name=\"code\""), "{html}");
    assert!(html.contains("name=\"recovery_code\""));
    assert!(
        !html.contains(&token),
        "the token stays out of the page without passkeys"
    );

    // CSRF enforced.
    let code = fresh_code(&secret, &mut used);
    let bad = "x".repeat(43);
    let (status, _, _) = post_form(&s, &mut jar, "/mfa", &[("csrf", &bad), ("code", &code)]).await;
    assert_eq!(status, 403);
    // A wrong code shows the form again.
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let (status, _, html) =
        post_form(&s, &mut jar, "/mfa", &[("csrf", &csrf), ("code", wrong)]).await;
    assert_eq!(status, 401);
    assert!(html.contains("role=\"alert\""), "{html}");
    assert!(html.contains("name=\"code\""));
    // The right one signs in.
    let (status, location, _) =
        post_form(&s, &mut jar, "/mfa", &[("csrf", &csrf), ("code", &code)]).await;
    assert_eq!(status, 303);
    assert_eq!(location.as_deref(), Some("account"));
    assert!(
        jar.get("tessera_session")
            .is_some_and(|v| v.starts_with("tss_"))
    );
    assert!(
        jar.get("tessera_mfa").is_none(),
        "the MFA cookie is cleared"
    );
    let (status, html) = get_page(&s, &mut jar, "/account").await;
    assert_eq!(status, 200);
    assert!(html.contains("account-security"));

    // Without a live challenge the step says to start again.
    let (status, _) = get_page(&s, &mut jar, "/mfa").await;
    assert_eq!(status, 401);

    // A recovery code through the page.
    let mut jar = Jar::default();
    let (_, html) = get_page(&s, &mut jar, "/sign-in").await;
    let csrf = hidden_csrf(&html);
    post_form(
        &s,
        &mut jar,
        "/sign-in",
        &credentials(&csrf, "page-mfa@example.com"),
    )
    .await;
    let (status, location, _) = post_form(
        &s,
        &mut jar,
        "/mfa",
        &[("csrf", &csrf), ("code", ""), ("recovery_code", &codes[2])],
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(location.as_deref(), Some("account"));
}

#[tokio::test]
async fn hosted_account_page_sets_up_totp_and_shows_recovery_codes_once() {
    let s = server("memory").await;
    let mut used = HashSet::new();
    s.sign_up("page-setup@example.com").await;
    let mut jar = Jar::default();
    let (csrf, status, _) = hosted_sign_in(&s, &mut jar, "page-setup@example.com").await;
    assert_eq!(status, 303);

    let (status, html) = get_page(&s, &mut jar, "/account-security").await;
    assert_eq!(status, 200);
    assert!(html.contains("action=\"totp-enroll\""), "{html}");
    let bad = "y".repeat(43);
    let (status, _, _) = post_form(&s, &mut jar, "/totp-enroll", &[("csrf", &bad)]).await;
    assert_eq!(status, 403);
    let (status, location, _) = post_form(&s, &mut jar, "/totp-enroll", &[("csrf", &csrf)]).await;
    assert_eq!(status, 303);
    assert_eq!(location.as_deref(), Some("account-security"));
    let (status, html) = get_page(&s, &mut jar, "/account-security").await;
    assert_eq!(status, 200);
    assert!(html.contains("<svg"), "the QR code is inline SVG");
    let start = html.find("id=\"totp-secret\">").unwrap() + "id=\"totp-secret\">".len();
    let secret: String = html[start..].chars().take_while(|c| *c != '<').collect();
    assert_eq!(secret.len(), 32);

    let (status, _, html) = post_form(
        &s,
        &mut jar,
        "/totp-confirm",
        &[("csrf", &csrf), ("code", &fresh_code(&secret, &mut used))],
    )
    .await;
    assert_eq!(status, 200, "{html}");
    assert_eq!(html.matches("<li><code>").count(), 10, "{html}");
    let (status, html) = get_page(&s, &mut jar, "/account-security").await;
    assert_eq!(status, 200);
    assert!(html.contains("10 recovery codes left"), "{html}");
    assert!(!html.contains("<li><code>"), "codes are shown once");

    // Turning it off needs the password.
    let (status, _, html) = post_form(
        &s,
        &mut jar,
        "/totp-disable",
        &[("csrf", &csrf), ("password", "nope")],
    )
    .await;
    assert_eq!(status, 401);
    assert!(html.contains("role=\"alert\""));
    let (status, location, _) = post_form(
        &s,
        &mut jar,
        "/totp-disable",
        &[("csrf", &csrf), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(location.as_deref(), Some("account-security"));
    let st = s
        .tessera
        .totp()
        .status(
            &s.tessera.apps().default_app().await.unwrap(),
            s.tessera
                .users()
                .find_by_email(
                    s.tessera.apps().default_pool().await.unwrap().id,
                    "page-setup@example.com",
                )
                .await
                .unwrap()
                .unwrap()
                .id,
        )
        .await
        .unwrap();
    assert!(!st.totp_enabled);
}

#[tokio::test]
async fn hosted_forced_enrolment_finishes_the_sign_in() {
    let s = server("memory").await;
    let mut used = HashSet::new();
    s.sign_up("page-forced@example.com").await;
    s.set_default_app(|a| a.mfa = MfaPolicy::Required).await;
    let mut jar = Jar::default();
    let (csrf, status, location) = hosted_sign_in(&s, &mut jar, "page-forced@example.com").await;
    assert_eq!((status, location.as_deref()), (303, Some("mfa")));
    let (status, html) = get_page(&s, &mut jar, "/mfa").await;
    assert_eq!(status, 200);
    assert!(html.contains("action=\"mfa-enroll\""), "{html}");
    let (status, location, _) = post_form(&s, &mut jar, "/mfa-enroll", &[("csrf", &csrf)]).await;
    assert_eq!((status, location.as_deref()), (303, Some("mfa")));
    let (_, html) = get_page(&s, &mut jar, "/mfa").await;
    assert!(html.contains("<svg"));
    let start = html.find("id=\"totp-secret\">").unwrap() + "id=\"totp-secret\">".len();
    let secret: String = html[start..].chars().take_while(|c| *c != '<').collect();
    let (status, _, html) = post_form(
        &s,
        &mut jar,
        "/mfa-confirm",
        &[("csrf", &csrf), ("code", &fresh_code(&secret, &mut used))],
    )
    .await;
    assert_eq!(status, 200, "{html}");
    assert_eq!(html.matches("<li><code>").count(), 10);
    assert!(jar.get("tessera_session").is_some());
    assert!(jar.get("tessera_mfa").is_none());
}
