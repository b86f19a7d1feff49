//! An axum receiver of Tessera's webhooks, as the README shows it (compiled
//! with the crate's examples, so the README's snippet stays correct): it
//! verifies the raw body and dedupes by `webhook-id`, because delivery is at
//! least once and a retry carries the same id.
//!
//! `TESSERA_WEBHOOK_SECRET=whsec_… cargo run -p tessera-sdk --example webhook_receiver`

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::Value;

#[derive(Clone)]
struct Hooks {
    secret: Arc<str>,
    /// Ids already handled. In production: a table with a unique key,
    /// written in the same transaction as the event's effects.
    seen: Arc<Mutex<HashSet<String>>>,
}

async fn tessera_webhook(
    State(hooks): State<Hooks>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    // The raw body, before any JSON parsing.
    if tessera_sdk::verify_webhook(&hooks.secret, &headers, &body).is_err() {
        return StatusCode::BAD_REQUEST;
    }
    // Present: verify_webhook checked it.
    let id = headers[tessera_sdk::HEADER_ID].to_str().unwrap_or_default();
    if hooks.seen.lock().unwrap().contains(id) {
        return StatusCode::OK; // a retry of an event already handled
    }
    let Ok(event) = serde_json::from_slice::<Value>(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    match event["type"].as_str() {
        Some("user.created") => println!("new user {}", event["data"]["id"]),
        Some("user.deleted") => println!("user {} deleted", event["data"]["id"]),
        _ => {} // ignore types you do not handle
    }
    hooks.seen.lock().unwrap().insert(id.to_owned());
    StatusCode::NO_CONTENT
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let secret = std::env::var("TESSERA_WEBHOOK_SECRET").unwrap_or_default();
    let hooks = Hooks {
        secret: secret.into(),
        seen: Arc::default(),
    };
    let app = Router::new()
        .route("/webhooks/tessera", post(tessera_webhook))
        .with_state(hooks);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    axum::serve(listener, app).await
}
