//! Generates the shared test vectors in `sdks/testdata/` and fails if the
//! committed files are stale. Every SDK must pass these cases, so the core and
//! the four SDKs cannot drift apart.
//!
//! Regenerate with `TESSERA_UPDATE_VECTORS=1 cargo test -p tessera-core --test tests vectors`.
//! All keys here are fixed, public test keys; every signature is deterministic
//! (Ed25519, RFC 6979 ECDSA, PKCS#1 v1.5), so the output is reproducible.

use std::path::PathBuf;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{EncodingKey, Header};
use serde_json::{Value, json};
use tessera_core::crypto::{KeyMaterial, jwt_algorithm};
use tessera_core::model::SigningAlg;
use tessera_core::webhooks;

const ISSUER: &str = "https://auth.example.test";
const AUDIENCE: &str = "01900000-0000-7000-8000-00000000a001";
const NOW: i64 = 1_893_456_000; // 2030-01-01T00:00:00Z
const LEEWAY: i64 = 30;

fn testdata() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../sdks/testdata")
}

fn keys() -> Vec<(String, KeyMaterial)> {
    use ed25519_dalek::pkcs8::EncodePrivateKey as _;
    let ed = ed25519_dalek::SigningKey::from_bytes(&[0x11; 32])
        .to_pkcs8_der()
        .unwrap()
        .as_bytes()
        .to_vec();
    let ec = p256::SecretKey::from_slice(&[0x22; 32])
        .unwrap()
        .to_pkcs8_der()
        .unwrap()
        .as_bytes()
        .to_vec();
    let rsa_b64 = include_str!("fixtures/rsa-2048-TEST-ONLY.pkcs1.b64");
    let rsa = STANDARD.decode(rsa_b64.trim()).unwrap();
    vec![
        (
            "test-ed25519".into(),
            KeyMaterial::from_private_der(SigningAlg::EdDSA, ed).unwrap(),
        ),
        (
            "test-p256".into(),
            KeyMaterial::from_private_der(SigningAlg::ES256, ec).unwrap(),
        ),
        (
            "test-rsa".into(),
            KeyMaterial::from_private_der(SigningAlg::RS256, rsa).unwrap(),
        ),
    ]
}

fn claims() -> Value {
    json!({
        "iss": ISSUER,
        "sub": "01900000-0000-7000-8000-0000000000b1",
        "aud": AUDIENCE,
        "client_id": AUDIENCE,
        "exp": NOW + 600,
        "iat": NOW - 300,
        "nbf": NOW - 300,
        "jti": "vector-jti-1",
        "sid": "01900000-0000-7000-8000-0000000000c1",
        "pool": "01900000-0000-7000-8000-0000000000d1",
        "amr": ["pwd", "mfa"],
        "roles": ["admin", "billing"],
        "email": "ada@example.test",
        "email_verified": true
    })
}

fn sign(kid: &str, km: &KeyMaterial, claims: &Value) -> String {
    let mut h = Header::new(jwt_algorithm(km.alg()));
    h.typ = Some("at+jwt".into());
    h.kid = Some(kid.into());
    jsonwebtoken::encode(&h, claims, &km.encoding_key()).unwrap()
}

fn with(mut c: Value, key: &str, v: Value) -> Value {
    c[key] = v;
    c
}

fn b64json(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
}

fn token_vectors() -> Value {
    let keys = keys();
    let jwks =
        json!({ "keys": keys.iter().map(|(kid, km)| km.public_jwk(kid)).collect::<Vec<_>>() });
    let (ed_kid, ed) = (&keys[0].0, &keys[0].1);
    let (ec_kid, ec) = (&keys[1].0, &keys[1].1);
    let c = claims();
    let mut cases = Vec::new();
    let mut valid = |name: &str, desc: &str, claims: &Value, token: String| {
        cases.push(json!({"name": name, "description": desc, "token": token, "now": NOW, "valid": true, "claims": claims}));
    };
    for (kid, km) in &keys {
        valid(
            &format!("valid_{}", km.alg().as_str().to_lowercase()),
            &format!("a good token signed with {}", km.alg().as_str()),
            &c,
            sign(kid, km, &c),
        );
    }
    let nearly_expired = with(c.clone(), "exp", json!(NOW - 10));
    valid(
        "expired_within_leeway",
        "exp 10 s before now: accepted within the 30 s leeway",
        &nearly_expired,
        sign(ed_kid, ed, &nearly_expired),
    );
    let mut invalid = |name: &str, desc: &str, token: String, error: &str| {
        cases.push(json!({"name": name, "description": desc, "token": token, "now": NOW, "valid": false, "error": error}));
    };
    invalid(
        "expired",
        "exp an hour before now",
        sign(ed_kid, ed, &with(c.clone(), "exp", json!(NOW - 3600))),
        "expired",
    );
    invalid(
        "not_yet_valid",
        "nbf an hour after now",
        sign(ed_kid, ed, &with(c.clone(), "nbf", json!(NOW + 3600))),
        "not_yet_valid",
    );
    invalid(
        "wrong_audience",
        "aud is another app",
        sign(
            ed_kid,
            ed,
            &with(
                c.clone(),
                "aud",
                json!("01900000-0000-7000-8000-00000000a002"),
            ),
        ),
        "invalid_audience",
    );
    invalid(
        "wrong_issuer",
        "iss is another install",
        sign(
            ed_kid,
            ed,
            &with(c.clone(), "iss", json!("https://evil.example.test")),
        ),
        "invalid_issuer",
    );
    let good = sign(ed_kid, ed, &c);
    let (head, sig) = good.rsplit_once('.').unwrap();
    let mut sig_bytes = URL_SAFE_NO_PAD.decode(sig).unwrap();
    sig_bytes[10] ^= 0x01;
    invalid(
        "bad_signature",
        "one bit of the signature flipped",
        format!("{head}.{}", URL_SAFE_NO_PAD.encode(&sig_bytes)),
        "invalid_signature",
    );
    let (_, payload_and_sig) = good.split_once('.').unwrap();
    let (_, good_sig) = payload_and_sig.split_once('.').unwrap();
    let tampered_payload = b64json(&with(
        c.clone(),
        "sub",
        json!("01900000-0000-7000-8000-0000000000e1"),
    ));
    invalid(
        "tampered_payload",
        "payload changed after signing",
        format!(
            "{}.{tampered_payload}.{good_sig}",
            good.split('.').next().unwrap()
        ),
        "invalid_signature",
    );
    let none_header = b64json(&json!({"alg": "none", "typ": "at+jwt", "kid": ed_kid}));
    invalid(
        "alg_none",
        "unsigned token with alg none",
        format!("{none_header}.{}.", b64json(&c)),
        "unsupported_algorithm",
    );
    let mut hs = Header::new(jsonwebtoken::Algorithm::HS256);
    hs.typ = Some("at+jwt".into());
    hs.kid = Some(ed_kid.clone());
    let public_jwk_text = serde_json::to_string(&ed.public_jwk(ed_kid)).unwrap();
    let hs_token = jsonwebtoken::encode(
        &hs,
        &c,
        &EncodingKey::from_secret(public_jwk_text.as_bytes()),
    )
    .unwrap();
    invalid(
        "hs256_with_public_key",
        "HS256 keyed with the public JWK text (key confusion)",
        hs_token,
        "unsupported_algorithm",
    );
    let ec_token = sign(ec_kid, ec, &c);
    let (_, rest) = ec_token.split_once('.').unwrap();
    let confused_header = b64json(&json!({"alg": "ES256", "typ": "at+jwt", "kid": ed_kid}));
    invalid(
        "alg_not_of_key",
        "ES256 signature presented under the Ed25519 key's kid",
        format!("{confused_header}.{rest}"),
        "unsupported_algorithm",
    );
    invalid(
        "unknown_kid",
        "kid not in the JWKS",
        sign("test-unknown", ed, &c),
        "unknown_key",
    );
    invalid("malformed", "not a JWT", "not.a.jwt".into(), "malformed");
    invalid("empty", "empty string", String::new(), "malformed");
    json!({
        "description": "Access-token vectors. Verify each `token` at Unix time `now` against `jwks`, expecting issuer `issuer`, audience `audience` and a clock-skew leeway of `leeway` seconds. `valid: true` cases must verify and yield `claims`; `valid: false` cases must be rejected (`error` names the reason: expired, not_yet_valid, invalid_audience, invalid_issuer, invalid_signature, unsupported_algorithm, unknown_key, malformed). Generated by core/tests/vectors.rs; do not edit.",
        "issuer": ISSUER,
        "audience": AUDIENCE,
        "leeway": LEEWAY,
        "jwks": jwks,
        "cases": cases,
    })
}

fn webhook_vectors() -> Value {
    let secret = format!("whsec_{}", STANDARD.encode((0u8..32).collect::<Vec<_>>()));
    let other = format!("whsec_{}", STANDARD.encode([0x5a; 32]));
    let id = "msg_2Jq8Yk1w9aQp7Vx3";
    let ts = NOW;
    let body = r#"{"type":"user.created","timestamp":"2030-01-01T00:00:00Z","data":{"id":"01900000-0000-7000-8000-0000000000b1","email":"ada@example.test","name":"Ada Lovelace — ✓"}}"#;
    let sig = webhooks::sign(&secret, id, ts, body.as_bytes()).unwrap();
    let other_sig = webhooks::sign(&other, id, ts, body.as_bytes()).unwrap();
    let case = |name: &str,
                desc: &str,
                id: &str,
                ts: String,
                sigs: String,
                body: &str,
                now: i64,
                valid: bool,
                error: Option<&str>| {
        let mut v = json!({
            "name": name, "description": desc, "secret": secret,
            "headers": {"webhook-id": id, "webhook-timestamp": ts, "webhook-signature": sigs},
            "body": body, "now": now, "valid": valid,
        });
        if let Some(e) = error {
            v["error"] = json!(e);
        }
        v
    };
    let cases = vec![
        case(
            "valid",
            "one good signature",
            id,
            ts.to_string(),
            sig.clone(),
            body,
            NOW,
            true,
            None,
        ),
        case(
            "valid_rotation",
            "several signatures, one good (key rotation)",
            id,
            ts.to_string(),
            format!("{other_sig} {sig}"),
            body,
            NOW,
            true,
            None,
        ),
        case(
            "valid_edge_of_tolerance",
            "timestamp exactly 300 s old",
            id,
            ts.to_string(),
            sig.clone(),
            body,
            NOW + 300,
            true,
            None,
        ),
        case(
            "tampered_body",
            "body changed after signing",
            id,
            ts.to_string(),
            sig.clone(),
            &body.replace("Ada", "Eve"),
            NOW,
            false,
            Some("invalid_signature"),
        ),
        case(
            "tampered_id",
            "webhook-id changed after signing",
            "msg_other",
            ts.to_string(),
            sig.clone(),
            body,
            NOW,
            false,
            Some("invalid_signature"),
        ),
        case(
            "tampered_timestamp",
            "timestamp changed after signing",
            id,
            (ts + 1).to_string(),
            sig.clone(),
            body,
            NOW,
            false,
            Some("invalid_signature"),
        ),
        case(
            "wrong_secret",
            "signed with another secret only",
            id,
            ts.to_string(),
            other_sig.clone(),
            body,
            NOW,
            false,
            Some("invalid_signature"),
        ),
        case(
            "too_old",
            "timestamp 301 s before now",
            id,
            ts.to_string(),
            sig.clone(),
            body,
            NOW + 301,
            false,
            Some("timestamp_out_of_tolerance"),
        ),
        case(
            "too_new",
            "timestamp 301 s after now",
            id,
            ts.to_string(),
            sig.clone(),
            body,
            NOW - 301,
            false,
            Some("timestamp_out_of_tolerance"),
        ),
        case(
            "unknown_version",
            "only a v1a signature",
            id,
            ts.to_string(),
            sig.replacen("v1,", "v1a,", 1),
            body,
            NOW,
            false,
            Some("invalid_signature"),
        ),
        case(
            "malformed_timestamp",
            "timestamp is not a number",
            id,
            "soon".into(),
            sig.clone(),
            body,
            NOW,
            false,
            Some("malformed"),
        ),
    ];
    json!({
        "description": "Standard Webhooks vectors. Verify `body` (UTF-8) with `headers` under `secret` at Unix time `now` (tolerance 300 s). Generated by core/tests/vectors.rs; do not edit.",
        "tolerance": webhooks::TOLERANCE_SECS,
        "cases": cases,
    })
}

fn check(name: &str, value: &Value) {
    let path = testdata().join(name);
    let text = serde_json::to_string_pretty(value).unwrap() + "\n";
    if std::env::var_os("TESSERA_UPDATE_VECTORS").is_some() {
        std::fs::write(&path, &text).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == text,
        "{} is stale; regenerate with TESSERA_UPDATE_VECTORS=1 cargo test -p tessera-core --test tests vectors",
        path.display()
    );
}

#[test]
fn token_vectors_are_current() {
    check("tokens.json", &token_vectors());
}

#[test]
fn webhook_vectors_are_current() {
    check("webhooks.json", &webhook_vectors());
}

/// The core's own verifier agrees with every webhook vector.
#[test]
fn core_agrees_with_webhook_vectors() {
    let v = webhook_vectors();
    for case in v["cases"].as_array().unwrap() {
        let h = &case["headers"];
        let got = webhooks::verify(
            case["secret"].as_str().unwrap(),
            h["webhook-id"].as_str().unwrap(),
            h["webhook-timestamp"].as_str().unwrap(),
            h["webhook-signature"].as_str().unwrap(),
            case["body"].as_str().unwrap().as_bytes(),
            case["now"].as_i64().unwrap(),
        );
        assert_eq!(
            got.is_ok(),
            case["valid"].as_bool().unwrap(),
            "{}",
            case["name"]
        );
    }
}

/// Signatures are deterministic, so regenerating gives the same file.
#[test]
fn vectors_are_deterministic() {
    assert_eq!(token_vectors(), token_vectors());
}
