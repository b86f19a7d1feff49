//! The OpenAPI document is pinned: `tessera_http::openapi()` in canonical
//! form (object keys sorted, two-space indent) must equal the checked-in
//! `http/tests/openapi.json`, so a route, a status or a schema cannot change
//! by accident (a restructure of the handlers must leave it as it is).
//!
//! Regenerate after a deliberate change with
//! `TESSERA_UPDATE_VECTORS=1 cargo test -p tessera-http --test tests openapi`.

use std::path::PathBuf;

use serde_json::{Map, Value};

/// `v` with every object's keys in sorted order (whatever map the build of
/// `serde_json` uses).
fn canonical(v: Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut entries: Vec<(String, Value)> = m.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, canonical(v)))
                    .collect::<Map<_, _>>(),
            )
        }
        Value::Array(a) => Value::Array(a.into_iter().map(canonical).collect()),
        other => other,
    }
}

#[test]
fn the_openapi_document_equals_the_snapshot() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/openapi.json");
    let doc = canonical(serde_json::to_value(tessera_http::openapi()).unwrap());
    crate::harness::check_snapshot(
        &path,
        &doc,
        "differs from tessera_http::openapi(); if the change is deliberate, regenerate with \
         TESSERA_UPDATE_VECTORS=1 cargo test -p tessera-http --test tests openapi",
    );
}

#[test]
fn every_operation_documents_the_errors_of_its_kind() {
    let doc = serde_json::to_value(tessera_http::openapi()).unwrap();
    let paths = doc["paths"].as_object().unwrap();
    let mut checked = 0;
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            let responses = &op["responses"];
            let has = |code: &str| responses.get(code).is_some();
            let at = format!("{method} {path}");
            if path.starts_with("/v1/") && path != "/v1/openapi.json" {
                assert!(has("400") && has("503"), "{at}");
                if op.get("requestBody").is_some() {
                    assert!(has("413") && has("422"), "{at}");
                }
                if path.starts_with("/v1/admin/") {
                    assert!(has("401") && has("403"), "{at}");
                }
                if op.get("security").is_some() {
                    assert!(has("401"), "{at}");
                }
                checked += 1;
            } else if op.get("requestBody").is_some() {
                assert!(has("403") && has("413") && has("422"), "{at}");
            }
        }
    }
    assert!(checked > 60, "{checked}");
    // The hosted sign-up's form error is an HTML page.
    let sign_up = &paths["/sign-up"]["post"]["responses"]["422"]["content"];
    assert!(sign_up.get("text/html").is_some(), "{sign_up}");
}

#[test]
fn the_webhooks_map_names_every_event_tessera_sends() {
    let doc = serde_json::to_value(tessera_http::openapi()).unwrap();
    let webhooks = doc["webhooks"]
        .as_object()
        .expect("a top-level webhooks map");
    for t in tessera_core::EventType::ALL {
        let entry = webhooks.get(t.as_str());
        assert_eq!(entry.is_some(), t.is_emitted(), "{}", t.as_str());
        if let Some(entry) = entry {
            let schema = &entry["post"]["requestBody"]["content"]["application/json"]["schema"];
            assert_eq!(schema["properties"]["type"]["const"], t.as_str());
            let headers: Vec<&str> = entry["post"]["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["name"].as_str().unwrap())
                .collect();
            assert_eq!(
                headers,
                ["webhook-id", "webhook-timestamp", "webhook-signature"]
            );
        }
    }
    assert_eq!(
        doc["x-tessera-event-catalogue-version"],
        tessera_core::CATALOGUE_VERSION
    );
}
