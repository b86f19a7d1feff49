//! Unit tests of the presets against recorded provider answers, of the
//! configuration checks, of the authorization URL, and of ID token
//! verification with locally made keys (no network).

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{DateTime, Duration, Utc};
use p256::ecdsa::signature::Verifier as _;
use p256::pkcs8::EncodePrivateKey as _;
use serde_json::{Value, json};

use super::config::{self, ProviderInput, ProviderKind, Resolved};
use super::flow::{self, AuthorizeParams, Endpoints};
use super::http::Runtime;
use super::{apple, profile};

fn p256_key() -> (p256::SecretKey, String, Vec<u8>) {
    let key = loop {
        if let Ok(k) = p256::SecretKey::from_slice(&crate::crypto::random_bytes::<32>()) {
            break k;
        }
    };
    let der = key.to_pkcs8_der().unwrap().as_bytes().to_vec();
    let body = STANDARD.encode(&der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        lines.join("\n")
    );
    (key, pem, der)
}

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_893_456_000, 0).unwrap()
}

fn jwt_part(token: &str, i: usize) -> Value {
    let part = token.split('.').nth(i).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

// ---------------------------------------------------------------- Apple

#[test]
fn apple_client_secret_is_es256_signed_with_the_right_claims() {
    let (key, pem, _) = p256_key();
    let secret =
        apple::client_secret("TEAM123456", "KEY1234567", "com.example.web", &pem, now()).unwrap();
    let header = jwt_part(&secret, 0);
    assert_eq!(header["alg"], "ES256");
    assert_eq!(header["kid"], "KEY1234567");
    let claims = jwt_part(&secret, 1);
    assert_eq!(claims["iss"], "TEAM123456");
    assert_eq!(claims["sub"], "com.example.web");
    assert_eq!(claims["aud"], "https://appleid.apple.com");
    assert_eq!(claims["iat"], now().timestamp());
    let exp = claims["exp"].as_i64().unwrap();
    assert!(exp > now().timestamp() && exp <= now().timestamp() + 15_777_000);
    // The signature verifies with the public key (and not with another).
    let (signed, sig) = secret.rsplit_once('.').unwrap();
    let sig = p256::ecdsa::Signature::from_slice(&URL_SAFE_NO_PAD.decode(sig).unwrap()).unwrap();
    let public = p256::ecdsa::VerifyingKey::from(key.public_key());
    public.verify(signed.as_bytes(), &sig).unwrap();
    let (other, _, _) = p256_key();
    let other = p256::ecdsa::VerifyingKey::from(other.public_key());
    assert!(other.verify(signed.as_bytes(), &sig).is_err());
}

#[test]
fn apple_private_key_is_checked() {
    let (_, pem, _) = p256_key();
    apple::check_private_key(&pem).unwrap();
    for bad in [
        "",
        "not a key",
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
    ] {
        let e = apple::check_private_key(bad).unwrap_err();
        assert_eq!(e.code(), "invalid_input", "{bad:?}");
    }
}

#[test]
fn apple_name_comes_from_the_first_sign_in_user_field() {
    let user = r#"{"name":{"firstName":"Ada","lastName":"Lovelace"},"email":"x@privaterelay.appleid.com"}"#;
    assert_eq!(
        apple::name_from_user_field(user).as_deref(),
        Some("Ada Lovelace")
    );
    assert_eq!(apple::name_from_user_field(r#"{"email":"a@b.c"}"#), None);
    assert_eq!(apple::name_from_user_field("garbage"), None);
}

#[test]
fn apple_string_booleans_count_as_verified() {
    // Apple's ID tokens carry `"email_verified": "true"` (a string).
    let p = profile::from_oidc_claims(json!({
        "iss": "https://appleid.apple.com", "sub": "001234.abcd.0001",
        "email": "ada@example.com", "email_verified": "true", "is_private_email": "false"
    }))
    .unwrap();
    assert!(p.email_verified);
    assert_eq!(p.subject, "001234.abcd.0001");
}

// ------------------------------------------------------------ Microsoft

const MS_TEMPLATE: &str = "https://login.microsoftonline.com/{tenantid}/v2.0";

#[test]
fn microsoft_issuer_is_checked_against_the_tokens_tenant() {
    let tid = "9122040d-6c67-4c5b-b112-36a304b66dad";
    let good =
        json!({ "iss": format!("https://login.microsoftonline.com/{tid}/v2.0"), "tid": tid });
    flow::check_tenant_issuer(MS_TEMPLATE, &good).unwrap();
    // An issuer of another tenant than the token's tid.
    let other = json!({
        "iss": "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0",
        "tid": tid,
    });
    let f = flow::check_tenant_issuer(MS_TEMPLATE, &other).unwrap_err();
    assert_eq!(
        (f.reason, f.error.code()),
        ("issuer_mismatch", "invalid_token")
    );
    // No tid, or a tid that would smuggle path segments.
    for claims in [
        json!({ "iss": "https://login.microsoftonline.com//v2.0" }),
        json!({ "iss": "https://login.microsoftonline.com/a/b/v2.0", "tid": "a/b" }),
    ] {
        assert_eq!(
            flow::check_tenant_issuer(MS_TEMPLATE, &claims)
                .unwrap_err()
                .reason,
            "issuer_mismatch"
        );
    }
}

#[test]
fn microsoft_email_is_unverified_unless_domain_owner_verified() {
    let claims = json!({
        "sub": "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ", "tid": "t",
        "email": "ada@contoso.com", "email_verified": true, "name": "Ada"
    });
    let p = profile::from_microsoft_claims(claims.clone()).unwrap();
    assert!(!p.email_verified, "Entra does not verify `email`");
    let mut edov = claims;
    edov["xms_edov"] = json!(true);
    assert!(profile::from_microsoft_claims(edov).unwrap().email_verified);
    let upn = json!({ "sub": "s", "preferred_username": "ada@contoso.com" });
    let p = profile::from_microsoft_claims(upn).unwrap();
    assert_eq!(p.email.as_deref(), Some("ada@contoso.com"));
    assert!(!p.email_verified);
}

#[test]
fn microsoft_preset_uses_the_tenant_issuer() {
    let input = ProviderInput {
        kind: "microsoft".into(),
        client_id: "c".into(),
        tenant: Some("organizations".into()),
        ..Default::default()
    };
    let r = Resolved::new(ProviderKind::Microsoft, "c", input.settings());
    assert_eq!(
        r.issuer.as_deref(),
        Some("https://login.microsoftonline.com/organizations/v2.0")
    );
    let r = Resolved::new(ProviderKind::Microsoft, "c", Default::default());
    assert_eq!(
        r.issuer.as_deref(),
        Some("https://login.microsoftonline.com/common/v2.0")
    );
}

// --------------------------------------------------------------- GitHub

const GITHUB_USER: &str = r#"{
  "login": "octocat", "id": 583231, "node_id": "MDQ6VXNlcjU4MzIzMQ==",
  "avatar_url": "https://avatars.githubusercontent.com/u/583231?v=4",
  "type": "User", "site_admin": false, "name": "The Octocat", "company": "@github",
  "email": "octocat@public.example", "created_at": "2011-01-25T18:44:36Z"
}"#;

#[test]
fn github_picks_the_primary_verified_email() {
    let emails = json!([
        { "email": "old@example.com", "primary": false, "verified": true, "visibility": null },
        { "email": "octocat@github.com", "primary": true, "verified": true, "visibility": "public" },
        { "email": "unverified@example.com", "primary": false, "verified": false, "visibility": null }
    ]);
    let p = profile::from_github(serde_json::from_str(GITHUB_USER).unwrap(), &emails).unwrap();
    assert_eq!(p.subject, "583231");
    assert_eq!(p.email.as_deref(), Some("octocat@github.com"));
    assert!(p.email_verified);
    assert_eq!(p.name.as_deref(), Some("The Octocat"));
}

#[test]
fn github_never_treats_an_unverified_email_as_verified() {
    // Primary but unverified: a verified secondary is used instead.
    let emails = json!([
        { "email": "primary@example.com", "primary": true, "verified": false },
        { "email": "second@example.com", "primary": false, "verified": true }
    ]);
    let p = profile::from_github(serde_json::from_str(GITHUB_USER).unwrap(), &emails).unwrap();
    assert_eq!(p.email.as_deref(), Some("second@example.com"));
    assert!(p.email_verified);
    // Nothing verified: the profile email, unverified.
    let emails = json!([{ "email": "primary@example.com", "primary": true, "verified": false }]);
    let p = profile::from_github(serde_json::from_str(GITHUB_USER).unwrap(), &emails).unwrap();
    assert_eq!(p.email.as_deref(), Some("octocat@public.example"));
    assert!(!p.email_verified);
    // A user without an id is unusable.
    let e = profile::from_github(json!({ "login": "x" }), &json!([])).unwrap_err();
    assert_eq!(e.code(), "provider_error");
}

// ----------------------------------------------------------- Kakao, Naver

const KAKAO_ME: &str = r#"{
  "id": 2632890492, "connected_at": "2023-02-03T08:48:09Z",
  "properties": { "nickname": "홍길동" },
  "kakao_account": {
    "profile_nickname_needs_agreement": false,
    "profile": { "nickname": "홍길동", "is_default_nickname": false },
    "has_email": true, "email_needs_agreement": false,
    "is_email_valid": true, "is_email_verified": true,
    "email": "gildong@kakao.example"
  }
}"#;

#[test]
fn kakao_maps_id_account_email_and_verification() {
    let p = profile::from_kakao(serde_json::from_str(KAKAO_ME).unwrap()).unwrap();
    assert_eq!(p.subject, "2632890492");
    assert_eq!(p.email.as_deref(), Some("gildong@kakao.example"));
    assert!(p.email_verified);
    assert_eq!(p.name.as_deref(), Some("홍길동"));
    let mut v: Value = serde_json::from_str(KAKAO_ME).unwrap();
    v["kakao_account"]["is_email_verified"] = json!(false);
    assert!(!profile::from_kakao(v.clone()).unwrap().email_verified);
    v["kakao_account"]["is_email_verified"] = json!(true);
    v["kakao_account"]["is_email_valid"] = json!(false);
    assert!(!profile::from_kakao(v).unwrap().email_verified);
}

const NAVER_ME: &str = r#"{
  "resultcode": "00", "message": "success",
  "response": {
    "id": "32742776", "nickname": "OpenAPI", "profile_image": "https://ssl.pstatic.net/x.png",
    "email": "openapi@naver.com", "name": "오픈 API"
  }
}"#;

#[test]
fn naver_maps_the_response_wrapper_and_never_asserts_verification() {
    let p = profile::from_naver(serde_json::from_str(NAVER_ME).unwrap()).unwrap();
    assert_eq!(p.subject, "32742776");
    assert_eq!(p.email.as_deref(), Some("openapi@naver.com"));
    assert!(!p.email_verified);
    assert_eq!(p.name.as_deref(), Some("오픈 API"));
    let err =
        profile::from_naver(json!({ "resultcode": "024", "message": "Authentication failed" }))
            .unwrap_err();
    assert_eq!(err.code(), "provider_error");
}

// ------------------------------------------------------ generic OAuth 2.0

#[test]
fn claim_mapping_follows_dotted_paths() {
    let m = config::ClaimMapping {
        id: "data.user.id".into(),
        email: Some("data.user.emails.0.address".into()),
        email_verified: Some("data.user.emails.0.verified".into()),
        name: Some("data.user.display".into()),
    };
    let v = json!({ "data": { "user": {
        "id": 42, "display": "Forty Two",
        "emails": [{ "address": "ft@example.com", "verified": "true" }]
    }}});
    let p = profile::from_mapping(v, &m).unwrap();
    assert_eq!(
        (
            p.subject.as_str(),
            p.email.as_deref(),
            p.email_verified,
            p.name.as_deref()
        ),
        ("42", Some("ft@example.com"), true, Some("Forty Two"))
    );
    // Without an email_verified path, the provider never asserts it.
    let m2 = config::ClaimMapping {
        email_verified: None,
        ..m.clone()
    };
    let v = json!({ "data": { "user": { "id": "x", "emails": [{ "address": "a@b.example" }] }}});
    assert!(!profile::from_mapping(v, &m2).unwrap().email_verified);
    assert_eq!(
        profile::from_mapping(json!({}), &m).unwrap_err().code(),
        "provider_error"
    );
}

// -------------------------------------------------------- configuration

fn input(kind: &str) -> ProviderInput {
    ProviderInput {
        kind: kind.into(),
        client_id: "client".into(),
        client_secret: Some("secret".into()),
        ..Default::default()
    }
}

#[test]
fn endpoints_must_be_https_except_loopback_in_development() {
    let mut i = input("oidc");
    i.issuer = Some("http://127.0.0.1:3000".into());
    let e = config::validate(&i, Some("secret"), false).unwrap_err();
    assert_eq!(
        format!("{:?}", e.kind()),
        "InvalidInput { field: \"issuer\" }"
    );
    config::validate(&i, Some("secret"), true).unwrap();
    for url in [
        "http://localhost:3000",
        "http://[::1]:3000",
        "http://idp.localhost",
    ] {
        i.issuer = Some(url.into());
        config::validate(&i, Some("secret"), true).unwrap();
    }
    // Plain http elsewhere is refused even in development mode.
    for url in [
        "http://idp.example.com",
        "http://10.0.0.1",
        "ftp://idp.example.com",
        "https://u:p@idp.example.com",
        "idp.example.com",
    ] {
        i.issuer = Some(url.into());
        assert_eq!(
            config::validate(&i, Some("secret"), true)
                .unwrap_err()
                .code(),
            "invalid_input",
            "{url}"
        );
    }
    i.issuer = Some("https://idp.example.com".into());
    config::validate(&i, Some("secret"), false).unwrap();
}

#[test]
fn kinds_and_their_required_settings_are_checked() {
    let field = |r: crate::Result<ProviderKind>| match r.unwrap_err().kind() {
        crate::ErrorKind::InvalidInput { field } => *field,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        field(config::validate(&input("facebook"), None, false)),
        "kind"
    );
    assert_eq!(
        field(config::validate(&input("oidc"), None, false)),
        "issuer"
    );
    assert_eq!(
        field(config::validate(&input("oauth2"), None, false)),
        "authorization_endpoint"
    );
    let mut o = input("oauth2");
    o.authorization_endpoint = Some("https://a.example/authorize".into());
    o.token_endpoint = Some("https://a.example/token".into());
    o.userinfo_endpoint = Some("https://a.example/user".into());
    assert_eq!(field(config::validate(&o, None, false)), "claims");
    o.claims = Some(config::ClaimMapping {
        id: "id".into(),
        ..Default::default()
    });
    assert_eq!(
        config::validate(&o, None, false).unwrap(),
        ProviderKind::Oauth2
    );
    let mut a = input("apple");
    assert_eq!(
        field(config::validate(&a, Some("secret"), false)),
        "team_id"
    );
    a.team_id = Some("TEAM".into());
    a.key_id = Some("KEY".into());
    assert_eq!(
        field(config::validate(&a, Some("not a pem"), false)),
        "client_secret"
    );
    let (_, pem, _) = p256_key();
    assert_eq!(
        config::validate(&a, Some(&pem), false).unwrap(),
        ProviderKind::Apple
    );
    let mut g = input("google");
    g.tenant = Some("common".into());
    assert_eq!(field(config::validate(&g, None, false)), "tenant");
    for k in ["google", "github", "kakao", "naver", "microsoft"] {
        config::validate(&input(k), None, false).unwrap();
    }
    assert!(config::check_provider_name("okta-prod_2").is_ok());
    for bad in ["", "Okta", "a/b", &"x".repeat(65)] {
        assert!(config::check_provider_name(bad).is_err(), "{bad}");
    }
}

#[test]
fn the_input_refuses_unknown_fields_and_debug_hides_the_secret() {
    let e = serde_json::from_value::<ProviderInput>(json!({
        "kind": "google", "client_id": "c", "client_secret": "s", "redirect": "x"
    }));
    assert!(e.is_err());
    let i: ProviderInput = serde_json::from_value(json!({
        "kind": "google", "client_id": "c", "client_secret": "hunter2"
    }))
    .unwrap();
    assert!(!format!("{i:?}").contains("hunter2"));
}

// ------------------------------------------------------- authorization URL

fn query(url: &str) -> std::collections::HashMap<String, String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

fn endpoints() -> Endpoints {
    Endpoints {
        authorization: "https://idp.example/authorize".into(),
        token: "https://idp.example/token".into(),
        userinfo: Some("https://idp.example/userinfo".into()),
        issuer: Some("https://idp.example".into()),
        jwks_uri: Some("https://idp.example/jwks".into()),
    }
}

#[test]
fn authorization_url_carries_state_pkce_nonce_and_apple_form_post() {
    let params = AuthorizeParams {
        callback: "https://auth.example/v1/sign-in/oauth/apple/callback",
        state: "state-value",
        nonce: "nonce-value",
        pkce_verifier: "v".repeat(43).leak(),
    };
    let apple = Resolved::new(ProviderKind::Apple, "com.example.web", Default::default());
    let url = flow::authorization_url(&apple, &endpoints(), &params).unwrap();
    assert!(url.starts_with("https://idp.example/authorize?"));
    let q = query(&url);
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["client_id"], "com.example.web");
    assert_eq!(q["redirect_uri"], params.callback);
    assert_eq!(q["state"], "state-value");
    assert_eq!(q["nonce"], "nonce-value");
    assert_eq!(q["code_challenge_method"], "S256");
    let digest = <sha2::Sha256 as sha2::Digest>::digest("v".repeat(43).as_bytes());
    assert_eq!(q["code_challenge"], URL_SAFE_NO_PAD.encode(digest));
    assert_eq!(q["response_mode"], "form_post");
    assert_eq!(q["scope"], "openid name email");
    // OAuth 2.0 kinds: no nonce, no form_post.
    let gh = Resolved::new(ProviderKind::Github, "gh", Default::default());
    let q = query(&flow::authorization_url(&gh, &endpoints(), &params).unwrap());
    assert!(!q.contains_key("nonce") && !q.contains_key("response_mode"));
    assert_eq!(q["scope"], "read:user user:email");
}

// --------------------------------------------------- ID token verification

struct Idp {
    key: p256::SecretKey,
    der: Vec<u8>,
    rt: Runtime,
    provider: Resolved,
}

impl Idp {
    fn new() -> Idp {
        let (key, _, der) = p256_key();
        let rt = Runtime::new(false).unwrap();
        let point = key.public_key();
        let enc = p256::elliptic_curve::sec1::ToEncodedPoint::to_encoded_point(&point, false);
        rt.seed(
            "https://idp.example/jwks",
            json!({ "keys": [{
                "kty": "EC", "crv": "P-256", "kid": "k1", "use": "sig", "alg": "ES256",
                "x": URL_SAFE_NO_PAD.encode(enc.x().unwrap()),
                "y": URL_SAFE_NO_PAD.encode(enc.y().unwrap()),
            }]}),
        );
        let provider = Resolved::new(ProviderKind::Oidc, "client-1", Default::default());
        Idp {
            key,
            der,
            rt,
            provider,
        }
    }

    fn claims(&self) -> Value {
        json!({
            "iss": "https://idp.example", "sub": "user-1", "aud": "client-1",
            "iat": now().timestamp(), "exp": (now() + Duration::minutes(5)).timestamp(),
            "nonce": "n-1", "email": "a@example.com", "email_verified": true,
        })
    }

    fn sign(&self, claims: &Value) -> String {
        let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        h.kid = Some("k1".into());
        jsonwebtoken::encode(
            &h,
            claims,
            &jsonwebtoken::EncodingKey::from_ec_der(&self.der),
        )
        .unwrap()
    }

    async fn verify(&self, token: &str) -> Result<Value, &'static str> {
        flow::verify_id_token(&self.rt, &self.provider, &endpoints(), token, "n-1", now())
            .await
            .map_err(|f| {
                assert_eq!(f.error.code(), "invalid_token", "{:?}", f.error);
                f.reason
            })
    }
}

#[tokio::test]
async fn id_tokens_are_verified_for_signature_iss_aud_nonce_and_exp() {
    let idp = Idp::new();
    let _ = &idp.key;
    let ok = idp.verify(&idp.sign(&idp.claims())).await.unwrap();
    assert_eq!(ok["sub"], "user-1");
    let with = |k: &str, v: Value| {
        let mut c = idp.claims();
        c[k] = v;
        idp.sign(&c)
    };
    assert_eq!(
        idp.verify(&with("nonce", json!("other"))).await,
        Err("nonce_mismatch")
    );
    assert_eq!(
        idp.verify(&with("aud", json!("another-client"))).await,
        Err("audience_mismatch")
    );
    assert_eq!(
        idp.verify(&with("iss", json!("https://evil.example")))
            .await,
        Err("issuer_mismatch")
    );
    let expired = (now() - Duration::minutes(1)).timestamp();
    assert_eq!(
        idp.verify(&with("exp", json!(expired))).await,
        Err("id_token_expired")
    );
    // Signed by another key (not in the provider's JWKS): refused. (The key
    // set was just fetched, so it is not refetched.)
    let stranger = Idp::new();
    let forged = stranger.sign(&idp.claims());
    assert_eq!(idp.verify(&forged).await, Err("id_token_signature_invalid"));
    // HS256 with a guessable secret, and `alg: none`, are never accepted.
    let hs = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &idp.claims(),
        &jsonwebtoken::EncodingKey::from_secret(b"client-secret"),
    )
    .unwrap();
    assert!(idp.verify(&hs).await.is_err());
    let none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#),
        URL_SAFE_NO_PAD.encode(idp.claims().to_string())
    );
    assert!(idp.verify(&none).await.is_err());
    assert_eq!(idp.verify("garbage").await, Err("id_token_invalid"));
}
