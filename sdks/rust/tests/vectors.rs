use serde_json::{Value, json};
use tessera_sdk::ErrorKind;

use crate::support::{JwksServer, TokenVectors};

fn kind_name(kind: ErrorKind) -> &'static str {
    // The SDK's codes are the vectors' names; spelled out here so a renamed
    // code fails this test.
    match kind {
        ErrorKind::Expired => "expired",
        ErrorKind::NotYetValid => "not_yet_valid",
        ErrorKind::InvalidAudience => "invalid_audience",
        ErrorKind::InvalidIssuer => "invalid_issuer",
        ErrorKind::InvalidSignature => "invalid_signature",
        ErrorKind::UnsupportedAlgorithm => "unsupported_algorithm",
        ErrorKind::UnknownKey => "unknown_key",
        ErrorKind::Malformed => "malformed",
        other => panic!("unexpected error kind {other:?}"),
    }
}

#[tokio::test]
async fn every_token_vector() {
    let vectors = TokenVectors::load();
    assert_eq!(vectors.doc["leeway"], 30);
    let server = JwksServer::start(vectors.jwks()).await;
    let mut checked = 0;
    for case in vectors.cases() {
        let name = case["name"].as_str().unwrap();
        let token = case["token"].as_str().unwrap();
        let verifier = vectors
            .verifier(&server.url, case["now"].as_i64().unwrap())
            .build();
        let result = verifier.verify(token).await;
        if case["valid"] == true {
            let claims = result.unwrap_or_else(|e| panic!("{name}: rejected: {e}"));
            let mut want = case["claims"].clone();
            if name == "expired_within_leeway" {
                // Vector bug (core/tests/vectors.rs records the base claims
                // for every valid case): the token's exp is now-10, as the
                // case's description says, not the listed exp.
                want["exp"] = json!(case["now"].as_i64().unwrap() - 10);
            }
            assert_eq!(
                Value::Object(claims.raw.clone()),
                want,
                "{name}: raw claims"
            );
            assert_eq!(claims.sub, want["sub"].as_str().unwrap(), "{name}");
            assert_eq!(claims.sid.as_deref(), want["sid"].as_str(), "{name}");
            assert_eq!(claims.iss, want["iss"].as_str().unwrap(), "{name}");
            assert_eq!(
                claims.aud,
                vec![want["aud"].as_str().unwrap().to_owned()],
                "{name}"
            );
            assert_eq!(
                claims.client_id.as_deref(),
                want["client_id"].as_str(),
                "{name}"
            );
            assert_eq!(claims.pool.as_deref(), want["pool"].as_str(), "{name}");
            assert_eq!(claims.jti.as_deref(), want["jti"].as_str(), "{name}");
            assert_eq!(claims.exp, want["exp"].as_i64().unwrap(), "{name}");
            assert_eq!(claims.iat, want["iat"].as_i64(), "{name}");
            assert_eq!(claims.email.as_deref(), want["email"].as_str(), "{name}");
            assert_eq!(
                claims.email_verified,
                want["email_verified"].as_bool(),
                "{name}"
            );
            let list = |v: &Value| -> Vec<String> {
                v.as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s.as_str().unwrap().to_owned())
                    .collect()
            };
            assert_eq!(claims.amr, list(&want["amr"]), "{name}");
            assert_eq!(claims.roles, list(&want["roles"]), "{name}");
            assert!(claims.has_role("admin") && !claims.has_role("root"));
            assert!(verifier.verify_or_none(token).await.is_some(), "{name}");
        } else {
            let err = match result {
                Ok(_) => panic!("{name}: accepted"),
                Err(e) => e,
            };
            let want = case["error"].as_str().unwrap();
            assert_eq!(kind_name(err.kind()), want, "{name}: {err}");
            assert_eq!(err.code(), want, "{name}");
            assert!(err.kind().is_unauthenticated(), "{name}");
            assert!(verifier.verify_or_none(token).await.is_none(), "{name}");
        }
        checked += 1;
    }
    assert_eq!(checked, vectors.cases().len());
    assert!(checked >= 16);
}
