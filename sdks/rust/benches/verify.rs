//! Warm-cache `Verifier::verify` against raw `jsonwebtoken::decode` of the
//! same token and key, in the same run.
//!
//! Run with: `cargo bench -p tessera-sdk --bench verify`

use std::path::PathBuf;

use axum::Router;
use axum::routing::get;
use criterion::{Criterion, criterion_group, criterion_main};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};
use tessera_sdk::Verifier;

fn vectors() -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/tokens.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn bench(c: &mut Criterion) {
    let doc = vectors();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let jwks = doc["jwks"].to_string();
    let url = rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = Router::new().route(
            "/.well-known/jwks.json",
            get(move || {
                let body = jwks.clone();
                async move { ([("content-type", "application/json")], body) }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        format!("http://{addr}")
    });
    let verifier = Verifier::builder(url, doc["audience"].as_str().unwrap())
        .issuer(doc["issuer"].as_str().unwrap())
        .clock(|| 1_893_456_000)
        .build();

    let mut group = c.benchmark_group("verify");
    for (case, kid, alg) in [
        ("valid_eddsa", 0, Algorithm::EdDSA),
        ("valid_es256", 1, Algorithm::ES256),
        ("valid_rs256", 2, Algorithm::RS256),
    ] {
        let token = doc["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == case)
            .unwrap()["token"]
            .as_str()
            .unwrap()
            .to_owned();
        rt.block_on(verifier.verify(&token)).unwrap(); // warm the cache
        group.bench_function(format!("tessera_sdk/{case}"), |b| {
            b.to_async(&rt)
                .iter(|| async { verifier.verify(&token).await.unwrap() })
        });

        let jwk: jsonwebtoken::jwk::Jwk =
            serde_json::from_value(doc["jwks"]["keys"][kid].clone()).unwrap();
        let key = DecodingKey::from_jwk(&jwk).unwrap();
        let mut validation = Validation::new(alg);
        validation.validate_exp = false;
        validation.validate_aud = false;
        group.bench_function(format!("jsonwebtoken_raw/{case}"), |b| {
            b.iter(|| {
                jsonwebtoken::decode::<Map<String, Value>>(&token, &key, &validation).unwrap()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
