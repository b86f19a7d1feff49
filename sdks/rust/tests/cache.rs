use std::time::Duration;

use serde_json::json;
use tessera_sdk::ErrorKind;

use crate::support::{JwksServer, NOW, TokenVectors};

#[tokio::test]
async fn jwks_is_cached_and_refetched_once_per_cooldown_on_unknown_kid() {
    let vectors = TokenVectors::load();
    let server = JwksServer::start(vectors.jwks()).await;
    let verifier = vectors.verifier(&server.url, NOW).build();

    for name in ["valid_eddsa", "valid_es256", "valid_rs256", "valid_eddsa"] {
        verifier.verify(&vectors.token(name)).await.unwrap();
    }
    assert_eq!(server.hits(), 1, "a warm cache does not refetch");

    let unknown = vectors.token("unknown_kid");
    let err = verifier.verify(&unknown).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownKey);
    assert_eq!(server.hits(), 2, "an unknown kid refetches once");

    for _ in 0..5 {
        let err = verifier.verify(&unknown).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnknownKey);
    }
    assert_eq!(server.hits(), 2, "no refetch within the cooldown");
    verifier
        .verify(&vectors.token("valid_es256"))
        .await
        .unwrap();
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn a_rotated_key_is_found_after_the_cooldown() {
    let vectors = TokenVectors::load();
    let all = vectors.jwks();
    let server = JwksServer::start(json!({"keys": [all["keys"][0].clone()]})).await;
    let verifier = vectors
        .verifier(&server.url, NOW)
        .refetch_cooldown(Duration::from_millis(50))
        .build();
    let es256 = vectors.token("valid_es256");

    verifier
        .verify(&vectors.token("valid_eddsa"))
        .await
        .unwrap();
    let err = verifier.verify(&es256).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownKey);

    *server.jwks.lock().unwrap() = all;
    let err = verifier.verify(&es256).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownKey, "within the cooldown");
    tokio::time::sleep(Duration::from_millis(60)).await;
    verifier.verify(&es256).await.unwrap();
    assert_eq!(server.hits(), 3);
}

#[tokio::test]
async fn concurrent_first_verifications_fetch_once() {
    let vectors = TokenVectors::load();
    let server = JwksServer::start(vectors.jwks()).await;
    let verifier = vectors.verifier(&server.url, NOW).build();
    let token = vectors.token("valid_eddsa");
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let (v, t) = (verifier.clone(), token.clone());
            tokio::spawn(async move { v.verify(&t).await.map(|_| ()) })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(server.hits(), 1);
}

#[tokio::test]
async fn jwks_unavailable_is_not_unauthenticated() {
    let vectors = TokenVectors::load();
    let server = JwksServer::start(json!("not a JWKS")).await;
    let verifier = vectors.verifier(&server.url, NOW).build();
    let err = verifier
        .verify(&vectors.token("valid_eddsa"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::JwksUnavailable);
    assert!(!err.kind().is_unauthenticated());
}

#[tokio::test]
async fn keys_of_other_algorithms_are_skipped() {
    let vectors = TokenVectors::load();
    let mut jwks = vectors.jwks();
    jwks["keys"]
        .as_array_mut()
        .unwrap()
        .push(json!({"kty": "oct", "kid": "hmac", "alg": "HS256", "k": "c2VjcmV0"}));
    let server = JwksServer::start(jwks).await;
    let verifier = vectors.verifier(&server.url, NOW).build();
    verifier
        .verify(&vectors.token("valid_rs256"))
        .await
        .unwrap();
}
