use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::routing::get;
use serde_json::Value;
use tessera_sdk::Verifier;

pub(crate) fn testdata(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata")
        .join(name);
    serde_json::from_slice(&std::fs::read(&path).expect("read vectors")).expect("vectors are JSON")
}

/// Serves `router` on 127.0.0.1 at a free port; returns its base URL.
pub(crate) async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

/// A JWKS endpoint whose document can be swapped, counting its fetches.
#[derive(Clone)]
pub(crate) struct JwksServer {
    pub(crate) url: String,
    pub(crate) jwks: Arc<Mutex<Value>>,
    hits: Arc<AtomicUsize>,
}

impl JwksServer {
    pub(crate) async fn start(jwks: Value) -> Self {
        let jwks = Arc::new(Mutex::new(jwks));
        let hits = Arc::new(AtomicUsize::new(0));
        let (j, h) = (jwks.clone(), hits.clone());
        let router = Router::new().route(
            "/.well-known/jwks.json",
            get(move || {
                let (j, h) = (j.clone(), h.clone());
                async move {
                    h.fetch_add(1, Ordering::SeqCst);
                    let body = j.lock().unwrap().to_string();
                    ([("content-type", "application/json")], body)
                }
            }),
        );
        Self {
            url: serve(router).await,
            jwks,
            hits,
        }
    }

    pub(crate) fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

/// The token vectors' expectations.
pub(crate) struct TokenVectors {
    pub(crate) doc: Value,
}

impl TokenVectors {
    pub(crate) fn load() -> Self {
        Self {
            doc: testdata("tokens.json"),
        }
    }
    pub(crate) fn jwks(&self) -> Value {
        self.doc["jwks"].clone()
    }
    pub(crate) fn cases(&self) -> &[Value] {
        self.doc["cases"].as_array().unwrap()
    }
    pub(crate) fn token(&self, name: &str) -> String {
        self.cases()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("no vector {name}"))["token"]
            .as_str()
            .unwrap()
            .to_owned()
    }
    /// A verifier for `url` set up as the vectors say, at time `now`.
    pub(crate) fn verifier(&self, url: &str, now: i64) -> tessera_sdk::VerifierBuilder {
        Verifier::builder(url, self.doc["audience"].as_str().unwrap())
            .issuer(self.doc["issuer"].as_str().unwrap())
            .leeway(std::time::Duration::from_secs(
                self.doc["leeway"].as_u64().unwrap(),
            ))
            .clock(move || now)
    }
}

/// The vectors' `now`.
pub(crate) const NOW: i64 = 1_893_456_000;
