use tessera_sdk::http::{HeaderMap, HeaderName, HeaderValue};
use tessera_sdk::{ErrorKind, sign_webhook, verify_webhook, verify_webhook_at};

use crate::support::testdata;

fn headers(pairs: &serde_json::Map<String, serde_json::Value>) -> HeaderMap {
    pairs
        .iter()
        .map(|(k, v)| {
            (
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v.as_str().unwrap()).unwrap(),
            )
        })
        .collect()
}

fn kind_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::InvalidSignature => "invalid_signature",
        ErrorKind::TimestampOutOfTolerance => "timestamp_out_of_tolerance",
        ErrorKind::Malformed => "malformed",
        other => panic!("unexpected error kind {other:?}"),
    }
}

#[test]
fn every_webhook_vector() {
    let doc = testdata("webhooks.json");
    assert_eq!(doc["tolerance"], 300);
    let cases = doc["cases"].as_array().unwrap();
    assert!(cases.len() >= 11);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let result = verify_webhook_at(
            case["secret"].as_str().unwrap(),
            &headers(case["headers"].as_object().unwrap()),
            case["body"].as_str().unwrap().as_bytes(),
            case["now"].as_i64().unwrap(),
        );
        if case["valid"] == true {
            result.unwrap_or_else(|e| panic!("{name}: rejected: {e}"));
        } else {
            let err = result.err().unwrap_or_else(|| panic!("{name}: accepted"));
            assert_eq!(
                kind_name(err.kind()),
                case["error"].as_str().unwrap(),
                "{name}"
            );
            assert_eq!(err.code(), case["error"].as_str().unwrap(), "{name}");
        }
    }
}

/// There is no official Standard Webhooks crate to cross-check against, so
/// our signer must reproduce the vectors' signatures byte for byte.
#[test]
fn signing_reproduces_the_vectors() {
    let doc = testdata("webhooks.json");
    let valid = &doc["cases"][0];
    assert_eq!(valid["name"], "valid");
    let h = &valid["headers"];
    let sig = sign_webhook(
        valid["secret"].as_str().unwrap(),
        h["webhook-id"].as_str().unwrap(),
        h["webhook-timestamp"].as_str().unwrap().parse().unwrap(),
        valid["body"].as_str().unwrap().as_bytes(),
    )
    .unwrap();
    assert_eq!(sig, h["webhook-signature"].as_str().unwrap());
}

#[test]
fn sign_then_verify_now_with_rotation() {
    let (old, new) = (
        "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        "whsec_ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=",
    );
    let body = br#"{"type":"user.created"}"#;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let both = format!(
        "{} {}",
        sign_webhook(old, "msg_1", now, body).unwrap(),
        sign_webhook(new, "msg_1", now, body).unwrap()
    );
    let mut h = HeaderMap::new();
    h.insert("webhook-id", HeaderValue::from_static("msg_1"));
    h.insert("webhook-timestamp", now.to_string().parse().unwrap());
    h.insert("webhook-signature", both.parse().unwrap());
    verify_webhook(old, &h, body).unwrap();
    verify_webhook(new, &h, body).unwrap();
    let err = verify_webhook(new, &h, b"{}").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidSignature);
}

#[test]
fn missing_headers_and_bad_secrets() {
    let err = verify_webhook("whsec_AAAA", &HeaderMap::new(), b"").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Malformed);
    let err = sign_webhook("whsec_!!!", "msg_1", 0, b"").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidSecret);
    let mut h = HeaderMap::new();
    h.insert("webhook-id", HeaderValue::from_static("msg_1"));
    h.insert("webhook-timestamp", HeaderValue::from_static("100"));
    h.insert("webhook-signature", HeaderValue::from_static("v1,AAAA"));
    let err = verify_webhook_at("whsec_!!!", &h, b"", 100).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidSecret);
}
